# Bad input: one clear line, exit status 1, and nothing left behind.

# create_fails NEEDLE: `hull create` of $B fails cleanly, naming NEEDLE.
create_fails() {
	set +e
	out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1)
	rc=$?
	set -e
	expect_clean_failure "create" "$out" "$rc" "$1"
}

test_bad_json_syntax() {
	make_bundle "$B"
	printf '{\n  "ociVersion": "1.0.2",\n  "process": {\n    "args": ["sh"\n  }\n}\n' > "$B/config.json"
	create_fails "config.json"
	# the position: a line number or an offset into the file
	echo "$out" | grep -Eq 'line [0-9]+|position [0-9]+|offset [0-9]+|byte [0-9]+|:[0-9]+:[0-9]+' ||
		fail "no position in: $out"
}

test_bad_json_empty() {
	make_bundle "$B"
	: > "$B/config.json"
	create_fails "config.json"
}

test_bad_json_not_object() {
	make_bundle "$B"
	echo '["not", "an", "object"]' > "$B/config.json"
	create_fails "config.json"
}

test_bad_field_type() {
	make_bundle "$B"
	cfg "$B" '.process.user.uid = "zero"'
	create_fails "process.user.uid"
}

test_bad_field_type_nested() {
	make_bundle "$B"
	cfg "$B" '.mounts[1].options = "nosuid"'
	create_fails "mounts[1].options"
	B=$B/second
	make_bundle "$B"
	cfg "$B" '.process.args = "sh"'
	create_fails "process.args"
}

test_bad_missing_rootfs() {
	make_bundle "$B"
	cfg "$B" '.root.path = "nope"'
	create_fails "root.path"
}

test_bad_missing_bundle() {
	set +e; out=$(hq create --bundle "$TESTROOT/no-such-bundle-$IDPREFIX" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "missing bundle" "$out" "$rc" "no-such-bundle-$IDPREFIX"
}

test_bad_relative_cwd() {
	make_bundle "$B"
	cfg "$B" '.process.cwd = "tmp"'
	create_fails "process.cwd"
}

test_bad_empty_args() {
	make_bundle "$B"
	cfg "$B" '.process.args = []'
	create_fails "process.args"
}

test_bad_namespace_type() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces += [{type: "bogus"}]'
	create_fails "bogus"
}

test_bad_namespace_path() {
	make_bundle "$B"
	cfg "$B" '(.linux.namespaces[] | select(.type == "network")) .path = "/proc/no/such/ns"'
	create_fails "/proc/no/such/ns"
}

test_bad_mount_option() {
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["rro=1"]}]'
	create_fails "rro=1"
}

test_bad_mount_relative_destination() {
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "mnt/x", type: "tmpfs", source: "tmpfs"}]'
	create_fails "mnt/x"
}

test_bad_mount_missing_source() {
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/mnt", type: "bind", source: "/no/such/dir", options: ["bind"]}]'
	create_fails "/no/such/dir"
}

test_bad_idmap_overlap() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces += [{type: "user"}] |
		.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000},
				      {containerID: 500, hostID: 200000, size: 10}] |
		.linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	create_fails "uidMappings"
}

test_bad_idmap_size_zero() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces += [{type: "user"}] |
		.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
		.linux.gidMappings = [{containerID: 0, hostID: 100000, size: 0}]'
	create_fails "gidMappings"
}

test_bad_userns_without_mappings() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces += [{type: "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
	create_fails "Mappings"
}

test_bad_sysctl_host_netns() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces |= map(select(.type != "network")) |
		.linux.sysctl = {"net.ipv4.ip_forward": $A[0]}' \
		"$(cat /proc/sys/net/ipv4/ip_forward)"
	create_fails "net.ipv4.ip_forward"
}

# a sysctl no namespace isolates would change the host: refused.  The
# value given is the host's own, so a runtime that wrongly applies it
# changes nothing.
test_bad_sysctl_not_namespaced() {
	make_bundle "$B"
	cfg "$B" '.linux.sysctl = {"kernel.panic": $A[0]}' "$(cat /proc/sys/kernel/panic)"
	create_fails "kernel.panic"
}

test_bad_seccomp_syscall_name() {
	make_bundle "$B"
	cfg "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["no_such_syscall_x"], action: "SCMP_ACT_ERRNO"}]}'
	# runc ignores unknown names (newer kernels' syscalls); failing is fine too
	set +e; out=$(ht run --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	if [ "$rc" -ne 0 ]; then
		expect_clean_failure "unknown syscall" "$out" "$rc" "no_such_syscall_x"
	fi
}

test_bad_seccomp_action() {
	make_bundle "$B"
	cfg "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_EXPLODE"}'
	create_fails "SCMP_ACT_EXPLODE"
}

test_bad_capability_name() {
	make_bundle "$B"
	cfg "$B" '.process.capabilities.bounding += ["CAP_NO_SUCH"]'
	create_fails "CAP_NO_SUCH"
}

test_bad_rlimit_type() {
	make_bundle "$B"
	cfg "$B" '.process.rlimits = [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
	create_fails "RLIMIT_BOGUS"
}

test_bad_rlimit_soft_above_hard() {
	make_bundle "$B"
	cfg "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 2000, hard: 1000}]'
	create_fails "process.rlimits[0]"
}

test_bad_intel_rdt() {
	make_bundle "$B"
	cfg "$B" '.linux.intelRdt = {closID: "guaranteed_group", l3CacheSchema: "L3:0=7f0"}'
	create_fails "not supported"
	expect_contains "names the field" "$out" "intelRdt"
}

test_bad_id_chars() {
	make_bundle "$B"
	long=$(printf 'a%.0s' $(seq 1025))
	for id in "a b" "x:y" "x\$y" "$long" "x
y"; do
		set +e; out=$(hq create --bundle "$B" "$id" 2>&1); rc=$?; set -e
		expect_clean_failure "create '$id'" "$out" "$rc" "invalid container id"
	done
	set +e; out=$(hq create --bundle "$B" "" 2>&1); rc=$?; set -e
	[ "$rc" -ne 0 ] || fail "empty id accepted"
	state_empty
}

test_bad_duplicate_keeps_first() {
	make_bundle "$B" sleep 30
	hq create --bundle "$B" "${IDPREFIX}a"
	first=$(h state "${IDPREFIX}a")
	mkdir -p "$B/other" && make_bundle "$B/other" true
	set +e; out=$(hq create --bundle "$B/other" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "duplicate exit" "$rc" 1
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	expect_contains "duplicate" "$out" "container \"${IDPREFIX}a\" already exists"
	expect_eq "first container untouched" "$(h state "${IDPREFIX}a")" "$first"
	ht start "${IDPREFIX}a"
	expect_eq "first still starts" "$(status_of "${IDPREFIX}a")" running
	h delete --force "${IDPREFIX}a"
}

test_bad_unknown_id_every_verb() {
	# (delete --force of an unknown id succeeds, as in runc: t_lifecycle.sh)
	for verb in state start kill delete ps pause resume exec; do
		extra=""
		[ "$verb" = exec ] && extra=true
		set +e; out=$(h $verb "${IDPREFIX}nope" $extra 2>&1); rc=$?; set -e
		expect_eq "$verb: exit" "$rc" 1
		expect_eq "$verb: one line" "$(printf '%s\n' "$out" | wc -l)" 1
		expect_contains "$verb" "$out" "container \"${IDPREFIX}nope\" does not exist"
	done
	state_empty
}

# a container that ran and stopped (run --keep)
make_stopped() {
	make_bundle "$B" true
	ht run --keep --bundle "$B" "${IDPREFIX}a"
	expect_eq "status" "$(status_of "${IDPREFIX}a")" stopped
}

test_bad_kill_stopped() {
	make_stopped
	set +e; out=$(h kill "${IDPREFIX}a" KILL 2>&1); rc=$?; set -e
	expect_eq "kill exit" "$rc" 1
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	expect_contains "kill" "$out" "container not running"
	h delete "${IDPREFIX}a"
}

# runc's words for the OCI verbs on a container that is not running (or
# not paused): "container not running" is what containerd's shim matches.
test_bad_pause_resume_stopped() {
	make_stopped
	for v in "pause|container not running" "resume|container not paused" \
		 "kill|container not running"; do
		set +e; out=$(h ${v%%|*} "${IDPREFIX}a" 2>&1); rc=$?; set -e
		expect_eq "${v%%|*} exit" "$rc" 1
		expect_eq "${v%%|*}" "$out" "hull: ${v#*|}"
	done
	h delete "${IDPREFIX}a"
}

test_bad_start_stopped() {
	make_stopped
	set +e; out=$(ht start "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "start exit" "$rc" 1
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	echo "$out" | grep -Eq 'stopped|not running' || fail "start of a stopped container: $out"
	expect_eq "still stopped" "$(status_of "${IDPREFIX}a")" stopped
	h delete "${IDPREFIX}a"
}

test_bad_exec_stopped() {
	make_stopped
	set +e; out=$(ht exec "${IDPREFIX}a" true 2>&1); rc=$?; set -e
	expect_eq "exec exit" "$rc" 1
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	echo "$out" | grep -Eq 'stopped|not running' || fail "exec in a stopped container: $out"
	h delete "${IDPREFIX}a"
}

# run of a command the rootfs does not have: one line naming it, exit 1
# (or 127, as a shell would), nothing left.
test_bad_command_missing_run() {
	make_bundle "$B" /no/such/cmd
	set +e; out=$(ht run --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	[ "$rc" -eq 1 ] || [ "$rc" -eq 127 ] || fail "exit status $rc: $out"
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	expect_contains "missing command" "$out" "/no/such/cmd"
	expect_contains "missing command" "$out" "no such file or directory"
	state_empty
}

# with create + start, the error comes either from create (the path is
# checked before the container is ready, as runc does) or from start;
# either way it names the command and delete cleans up.
test_bad_command_missing_create_start() {
	make_bundle "$B" nosuchcmd
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	if [ "$rc" -eq 0 ]; then
		set +e; out=$(ht start "${IDPREFIX}a" 2>&1); rc=$?; set -e
		expect_eq "start exit" "$rc" 1
		expect_contains "start" "$out" "nosuchcmd"
		h delete --force "${IDPREFIX}a"
		echo "note: create succeeded, start failed with: $out"
	else
		expect_clean_failure "create" "$out" "$rc" "nosuchcmd"
		echo "note: create failed with: $out"
	fi
	state_empty
}

test_bad_command_not_executable() {
	make_bundle "$B" /etc/passwd
	set +e; out=$(ht run --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	[ "$rc" -eq 1 ] || [ "$rc" -eq 126 ] || fail "exit status $rc: $out"
	expect_contains "not executable" "$out" "permission denied"
	state_empty
}

# hull killed in the middle of create: delete --force cleans everything.
# hull's own forks (stage1, init) keep its command line until they exec.
no_create_process() { ! pgrep -f -- "$STATE create" >/dev/null; }

test_bad_hull_killed_during_create() {
	hk=$TESTROOT/hk-$IDPREFIX
	mkdir -p "$hk"
	make_bundle "$B" sh -c "sleep 30; : hull-it-marker-$IDPREFIX"
	cfg "$B" '.hooks = {createRuntime: [{path: "/bin/sh",
		args: ["sh", "-c", "echo $$ > \"$0\"; exec sleep 5", $A[0]]}]}' "$hk/hookpid"
	trap 'p=$(cat "$hk/hookpid" 2>/dev/null); [ -n "$p" ] && grep -q sleep "/proc/$p/cmdline" 2>/dev/null && kill "$p"' EXIT
	"$HULL" --root "$STATE" create --bundle "$B" "${IDPREFIX}a" </dev/null >"$hk/out" 2>&1 &
	hpid=$!
	wait_for 50 test -s "$hk/hookpid" || fail "the hook did not run: $(cat "$hk/out")"
	[ -d "$STATE/${IDPREFIX}a" ] || fail "no state dir while create runs"
	kill -9 "$hpid"
	wait "$hpid" 2>/dev/null || true
	h delete --force "${IDPREFIX}a"
	state_empty
	wait_for 20 no_create_process ||
		fail "processes of the killed create remain: $(pgrep -a -f -- "$STATE create")"
	set +e; out=$(h state "${IDPREFIX}a" 2>&1); set -e
	expect_contains "state after delete" "$out" "does not exist"
}

test_bad_signal() {
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	for sig in SIGFOO FOO 999 -3 ""; do
		set +e; out=$(h kill "${IDPREFIX}a" "$sig" 2>&1); rc=$?; set -e
		expect_eq "kill '$sig' exit" "$rc" 1
		expect_eq "kill '$sig': one line" "$(printf '%s\n' "$out" | wc -l)" 1
		[ -z "$sig" ] || expect_contains "kill '$sig'" "$out" "$sig"
	done
	expect_eq "still running" "$(status_of "${IDPREFIX}a")" running
	h delete --force "${IDPREFIX}a"
}

test_bad_preserve_fds() {
	make_bundle "$B" true
	for v in -1 abc 1x 99999999999; do
		set +e; out=$(ht run --preserve-fds "$v" --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
		[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "--preserve-fds $v: exit $rc: $out"
		expect_contains "--preserve-fds $v" "$out" "preserve-fds"
		state_empty
	done
}

test_bad_unknown_verb() {
	set +e; out=$("$HULL" --root "$STATE" frobnicate 2>&1); rc=$?; set -e
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "exit $rc"
	expect_contains "unknown verb" "$out" "frobnicate"
	echo "$out" | grep -Eqi 'usage|--help' || fail "no usage hint: $out"
}

test_bad_unknown_option() {
	make_bundle "$B" true
	for args in "create --frob --bundle $B ${IDPREFIX}a" "--frob list" "state"; do
		set +e; out=$("$HULL" --root "$STATE" $args 2>&1); rc=$?; set -e
		[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "hull $args: exit $rc"
		echo "$out" | grep -Eqi 'usage|--help' || fail "hull $args: no usage hint: $out"
	done
	state_empty
}
