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

# Rootless podman runs hull as the "root" of a user namespace it made, with
# no user namespace, cgroupsPath or limit in the spec (cgroup v1 delegates
# no cgroup to a user): state under $XDG_RUNTIME_DIR, no cgroup, device
# nodes bound, and exec still works.
test_engine_root_of_a_user_namespace() {
	local u=65534 x="$TESTROOT/xdg-$IDPREFIX" out
	make_bundle "$B" sh -c 'id -u; ls -l /dev/null | cut -c1; echo pid=$$'
	cfg "$B" '.linux.namespaces = [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}] |
		del(.linux.uidMappings, .linux.gidMappings, .linux.cgroupsPath) | .linux.resources = {} |
		.mounts = [.mounts[] | select(.destination != "/sys/fs/cgroup") |
			if .destination == "/dev/pts" then .options -= ["gid=5"] else . end]'
	mkdir -p "$x"
	chown -R $u "$B" "$x"
	rl() { setpriv --reuid $u --regid $u --clear-groups env XDG_RUNTIME_DIR="$x" USER=nobody \
		unshare -U -r timeout 20 "$HULL" "$@"; }
	if ! setpriv --reuid $u --regid $u --clear-groups unshare -U -r true 2>/dev/null; then
		echo "skipped: unprivileged user namespaces are not allowed here"; return 0
	fi
	out=$(rl run --bundle "$B" "${IDPREFIX}a" 2>&1 </dev/null)
	expect_eq "run" "$out" "0
c
pid=1"
	expect_eq "nothing in /run/hull" "$(ls /run/hull 2>/dev/null | grep -c "^${IDPREFIX}")" 0
	set_argv "$B" sleep 30
	chown $u "$B/config.json"
	# one user namespace for the three verbs, as podman keeps its own
	out=$(setpriv --reuid $u --regid $u --clear-groups env XDG_RUNTIME_DIR="$x" USER=nobody \
		unshare -U -r sh -c '"$1" run -d --bundle "$2" "$3" </dev/null >/dev/null 2>&1 &&
			"$1" state "$3" | tr -d " \n" | grep -o "\"status\":\"[a-z]*\"";
			"$1" exec "$3" sh -c "echo exec-ok; cat /proc/1/comm";
			"$1" delete --force "$3"; ls "$XDG_RUNTIME_DIR/hull"' _ "$HULL" "$B" "${IDPREFIX}b" 2>&1)
	expect_eq "detached, exec, delete" "$out" '"status":"running"
exec-ok
sleep'
	rm -rf "$x"
}

# The executable check runs before the filter: a profile that refuses the
# lookup's calls (stat, access) does not turn into "permission denied".
test_engine_exec_check_before_seccomp() {
	make_bundle "$B" true
	cfg "$B" '.process.noNewPrivileges = false |
		.process.capabilities = {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]} |
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
			syscalls: [{names: ["access", "faccessat", "faccessat2", "stat", "newfstatat", "statx"],
				    action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	ht run --bundle "$B" "${IDPREFIX}a" || fail "a container whose profile refuses stat and access did not run"
}
