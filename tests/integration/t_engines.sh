# Regressions found by running podman, Docker and containerd on hull
# (tests/engines): what an engine's config does that hull's own spec does not.

# Engines leave noNewPrivileges off and drop CAP_SYS_ADMIN, so the seccomp
# filter has to go in while hull still holds the capability.
test_engine_seccomp_without_nnp_or_sys_admin() {
	make_bundle "$B"
	cfg "$B" '.root.readonly = false | .process.noNewPrivileges = false |
		.process.capabilities = {bounding: ["CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"],
			effective: ["CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"],
			permitted: ["CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"]} |
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
			syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	out=$(run_sh 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status | tr -d "\t "; mkdir /tmp/x 2>&1; echo done')
	expect_eq "seccomp loaded, caps dropped, no_new_privs off" "$out" "CapEff:00000000000000c1
NoNewPrivs:0
Seccomp:2
mkdir: can't create directory '/tmp/x': Operation not permitted
done"
	# and the same for exec into it
	set_argv "$B" sleep 30
	ht run -d --bundle "$B" "${IDPREFIX}a"
	out=$(ht exec "${IDPREFIX}a" sh -c 'grep "^Seccomp:" /proc/self/status | tr -d "\t "; mkdir /tmp/y 2>&1; true')
	h delete --force "${IDPREFIX}a"
	expect_eq "exec: seccomp" "$out" "Seccomp:2
mkdir: can't create directory '/tmp/y': Operation not permitted"
}

# A missing or unusable executable fails create (not start), in the words
# engines map to exit status 127 / 126, and leaves nothing behind.
test_engine_missing_executable_fails_create() {
	local out rc
	make_bundle "$B"
	set_argv "$B" /no/such/binary
	out=$(ht create --bundle "$B" "${IDPREFIX}a" 2>&1) && rc=0 || rc=$?
	expect_clean_failure "path" "$out" "$rc" 'exec: "/no/such/binary": stat /no/such/binary: no such file or directory'
	set_argv "$B" nosuchcommand
	out=$(ht create --bundle "$B" "${IDPREFIX}a" 2>&1) && rc=0 || rc=$?
	expect_clean_failure "PATH lookup" "$out" "$rc" 'exec: "nosuchcommand": executable file not found in $PATH'
	set_argv "$B" /etc/passwd
	out=$(ht create --bundle "$B" "${IDPREFIX}a" 2>&1) && rc=0 || rc=$?
	expect_clean_failure "not executable" "$out" "$rc" 'exec: "/etc/passwd": permission denied'
	set_argv "$B" /bin
	out=$(ht create --bundle "$B" "${IDPREFIX}a" 2>&1) && rc=0 || rc=$?
	expect_clean_failure "a directory" "$out" "$rc" 'exec: "/bin": permission denied'
	# PATH from process.env is the one searched
	set_argv "$B" busybox true
	cfg "$B" '.process.env = ["PATH=/nowhere"]'
	out=$(ht create --bundle "$B" "${IDPREFIX}a" 2>&1) && rc=0 || rc=$?
	expect_clean_failure "process.env PATH" "$out" "$rc" 'executable file not found in $PATH'
	cfg "$B" '.process.env = ["PATH=/nowhere:/bin"]'
	ht run --bundle "$B" "${IDPREFIX}a"
	# exec says the same
	set_argv "$B" sleep 30
	ht run -d --bundle "$B" "${IDPREFIX}a"
	out=$(ht exec "${IDPREFIX}a" nosuchcommand 2>&1) && rc=0 || rc=$?
	h delete --force "${IDPREFIX}a"
	[ "$rc" -ne 0 ] || fail "exec of a missing command succeeded"
	expect_contains "exec" "$out" 'exec: "nosuchcommand": executable file not found in $PATH'
}
