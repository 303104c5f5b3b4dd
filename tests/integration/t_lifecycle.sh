# The OCI lifecycle: create, start, state, kill, delete, run.

test_run_exit_status() {
	make_bundle "$B" sh -c 'exit 7'
	set +e; h run --bundle "$B" "${IDPREFIX}a"; rc=$?; set -e
	expect_eq "exit status" "$rc" 7
}

test_run_output() {
	make_bundle "$B" echo hello from hull
	out=$(h run --bundle "$B" "${IDPREFIX}a")
	expect_eq "stdout" "$out" "hello from hull"
}

test_run_killed_status() {
	make_bundle "$B" sleep 30
	h run --bundle "$B" "${IDPREFIX}a" & runpid=$!
	for i in $(seq 50); do [ "$(status_of "${IDPREFIX}a" 2>/dev/null)" = running ] && break; sleep 0.1; done
	h kill "${IDPREFIX}a" KILL
	set +e; wait $runpid; rc=$?; set -e
	expect_eq "exit status" "$rc" 137
	[ ! -e "$STATE/${IDPREFIX}a" ] || fail "run did not delete the container"
}

test_run_forwards_sigterm() {
	# init ignores signals it has no handler for: give it one.
	make_bundle "$B" sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
	"$HULL" --root "$STATE" run --bundle "$B" "${IDPREFIX}a" & runpid=$!
	for i in $(seq 50); do [ "$(status_of "${IDPREFIX}a" 2>/dev/null)" = running ] && break; sleep 0.1; done
	sleep 0.2
	kill -TERM $runpid
	set +e; wait $runpid; rc=$?; set -e
	expect_eq "exit status" "$rc" 42
}

test_create_start_delete() {
	make_bundle "$B" sh -c 'echo started > /tmp/out; sleep 30; : hull-it-marker-'"$IDPREFIX"
	h create --bundle "$B" --pid-file "$TESTROOT/pid.$IDPREFIX" "${IDPREFIX}a"
	expect_eq "status after create" "$(status_of "${IDPREFIX}a")" created
	pid=$(h state "${IDPREFIX}a" | jq -r .pid)
	expect_eq "pid file" "$(cat "$TESTROOT/pid.$IDPREFIX")" "$pid"
	h start "${IDPREFIX}a"
	expect_eq "status after start" "$(status_of "${IDPREFIX}a")" running
	h state "${IDPREFIX}a" | jq -e '.ociVersion and .bundle and .created and (.owner != null)' >/dev/null
	h kill "${IDPREFIX}a" KILL
	for i in $(seq 50); do [ "$(status_of "${IDPREFIX}a")" = stopped ] && break; sleep 0.1; done
	expect_eq "status after kill" "$(status_of "${IDPREFIX}a")" stopped
	h delete "${IDPREFIX}a"
	set +e; out=$(h state "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "state after delete exit" "$rc" 1
	expect_contains "state after delete" "$out" "container \"${IDPREFIX}a\" does not exist"
	rm -f "$TESTROOT/pid.$IDPREFIX"
}

test_start_twice_fails() {
	make_bundle "$B" sleep 30
	h create --bundle "$B" "${IDPREFIX}a"
	h start "${IDPREFIX}a"
	set +e; out=$(h start "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "second start exit" "$rc" 1
	expect_contains "second start" "$out" "already running"
	h delete --force "${IDPREFIX}a"
}

test_delete_running_needs_force() {
	make_bundle "$B" sleep 30
	h run --detach --bundle "$B" "${IDPREFIX}a"
	set +e; out=$(h delete "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "delete exit" "$rc" 1
	expect_contains "delete" "$out" "not stopped"
	h delete --force "${IDPREFIX}a"
}

test_kill_stopped_fails() {
	make_bundle "$B" true
	h run --keep --bundle "$B" "${IDPREFIX}a"
	set +e; out=$(h kill "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "kill exit" "$rc" 1
	expect_contains "kill" "$out" "container not running"
	h delete "${IDPREFIX}a"
}

test_duplicate_id() {
	make_bundle "$B" sleep 30
	h create --bundle "$B" "${IDPREFIX}a"
	set +e; out=$(h create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "exit" "$rc" 1
	expect_contains "error" "$out" "container \"${IDPREFIX}a\" already exists"
	h delete --force "${IDPREFIX}a"
}

test_unknown_id() {
	for verb in state start delete kill; do
		set +e; out=$(h $verb "${IDPREFIX}nope" 2>&1); rc=$?; set -e
		expect_eq "$verb exit" "$rc" 1
		expect_contains "$verb" "$out" "container \"${IDPREFIX}nope\" does not exist"
	done
}

# As runc and crun: engines call delete --force on their cleanup paths and
# take an error as a failure, so --force of a container that is gone
# succeeds quietly; plain delete of it and a malformed id stay errors.
test_delete_force_unknown() {
	set +e; out=$(h delete --force "${IDPREFIX}nope" 2>&1); rc=$?; set -e
	expect_eq "delete --force exit" "$rc" 0
	expect_eq "delete --force output" "$out" ""
	set +e; out=$("$HULL" --root "$TESTROOT/noroot-$IDPREFIX" delete --force "${IDPREFIX}nope" 2>&1); rc=$?; set -e
	expect_eq "delete --force under a missing --root: exit" "$rc" 0
	[ ! -e "$TESTROOT/noroot-$IDPREFIX" ] || fail "delete --force created --root"
	set +e; out=$(h delete "${IDPREFIX}nope" 2>&1); rc=$?; set -e
	expect_eq "plain delete exit" "$rc" 1
	expect_contains "plain delete" "$out" "container \"${IDPREFIX}nope\" does not exist"
	set +e; out=$(h delete --force "../${IDPREFIX}x" 2>&1); rc=$?; set -e
	expect_eq "delete --force of a malformed id: exit" "$rc" 1
	expect_contains "malformed id" "$out" "invalid container id"
	# the second of two deletes of the same container
	make_bundle "$B" sleep 30
	hq create --bundle "$B" "${IDPREFIX}a"
	h delete --force "${IDPREFIX}a"
	h delete --force "${IDPREFIX}a"
	set +e; out=$(h state "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "state after two deletes" "$rc" 1
}

test_bad_ids() {
	make_bundle "$B" true
	for id in "../x" "a/b" ".." "."; do
		set +e; out=$(h create --bundle "$B" "$id" 2>&1); rc=$?; set -e
		expect_eq "create $id exit" "$rc" 1
		expect_contains "create $id" "$out" "invalid container id"
	done
}

test_list_formats() {
	make_bundle "$B" sleep 30
	h create --bundle "$B" "${IDPREFIX}a"
	h list | grep -q "^${IDPREFIX}a .*created"
	expect_eq "list -q" "$(h list -q)" "${IDPREFIX}a"
	expect_eq "list json" "$(h list --format json | jq -r '.[0].status')" created
	h delete --force "${IDPREFIX}a"
}

test_ps() {
	make_bundle "$B" sh -c 'sleep 30 & sleep 31'
	h run --detach --bundle "$B" "${IDPREFIX}a"
	sleep 0.3
	# busybox sh execs its last command: sleep 30 and sleep 31 remain.
	n=$(h ps --format json "${IDPREFIX}a" | jq length)
	expect_eq "process count" "$n" 2
	h ps "${IDPREFIX}a" | grep -q 'sleep 31'
	h delete --force "${IDPREFIX}a"
}

test_exec() {
	make_bundle "$B" sleep 30
	h run --detach --bundle "$B" "${IDPREFIX}a"
	out=$(h exec --env FOO=bar --cwd /tmp "${IDPREFIX}a" sh -c 'echo $FOO $(pwd) $(id -u)')
	expect_eq "exec output" "$out" "bar /tmp 0"
	set +e; h exec "${IDPREFIX}a" sh -c 'exit 5'; rc=$?; set -e
	expect_eq "exec status" "$rc" 5
	out=$(h exec --user 1000:1000 "${IDPREFIX}a" id)
	expect_contains "exec user" "$out" "uid=1000 gid=1000"
	h delete --force "${IDPREFIX}a"
}

test_spec_features() {
	mkdir -p "$B"
	(cd "$B" && h spec)
	jq -e '.ociVersion and .process and .root.path == "rootfs"' "$B/config.json" >/dev/null
	set +e; out=$(cd "$B" && h spec 2>&1); rc=$?; set -e
	expect_eq "spec twice exit" "$rc" 1
	h features | jq -e '.ociVersionMin and .linux.namespaces' >/dev/null
}

test_kill_all() {
	# without a pid namespace, killing the init alone would leave sleep 30
	make_bundle "$B" sh -c 'sleep 30 & sleep 31'
	jq_edit "$B" '.linux.namespaces |= map(select(.type != "pid"))'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	wait_for 30 sh -c "[ \$(\"$HULL\" --root \"$STATE\" ps --format json ${IDPREFIX}a | jq length) -eq 2 ]"
	pids=$(h ps --format json "${IDPREFIX}a" | jq -r '.[]')
	h kill --all "${IDPREFIX}a" KILL
	# gone, or a zombie waiting for whoever inherited the detached init
	for i in $(seq 50); do
		left=""
		for p in $pids; do
			grep -qs '^State:.*[^Z] ' /proc/$p/status && ! grep -qs '^State:.*Z' /proc/$p/status && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "processes survived kill --all:$left"
	wait_for 30 sh -c "[ \$(\"$HULL\" --root \"$STATE\" state ${IDPREFIX}a | jq -r .status) = stopped ]"
	h delete "${IDPREFIX}a"
}

test_exec_cap_and_no_new_privs() {
	make_bundle "$B" sleep 30
	jq_edit "$B" '.process.noNewPrivileges = false'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	out=$(h exec "${IDPREFIX}a" sh -c 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\t"')
	expect_eq "default exec" "$out" "CapEff:0000000020000420
NoNewPrivs:0"
	out=$(h exec --cap CAP_CHOWN --no-new-privs "${IDPREFIX}a" sh -c 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\t"')
	expect_eq "exec --cap --no-new-privs" "$out" "CapEff:0000000020000421
NoNewPrivs:1"
	set +e; out=$(h exec --cap CAP_NOPE "${IDPREFIX}a" true 2>&1); rc=$?; set -e
	expect_eq "bad cap exit" "$rc" 1
	expect_contains "bad cap" "$out" "CAP_NOPE"
	h delete --force "${IDPREFIX}a"
}

# Without noNewPrivileges a seccomp filter needs CAP_SYS_ADMIN to load,
# which the container's process does not have: run and exec load it
# before the capabilities are dropped (found by runtime-tools' suite).
test_exec_seccomp_without_no_new_privs() {
	make_bundle "$B" sleep 30
	jq_edit "$B" '.process.noNewPrivileges = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	out=$(h exec "${IDPREFIX}a" sh -c 'mkdir /tmp/d 2>&1; echo done')
	expect_contains "exec, filter loaded" "$out" "Operation not permitted"
	out=$(h exec --user 1000:1000 "${IDPREFIX}a" sh -c 'mkdir /tmp/d 2>&1; echo done')
	expect_contains "exec as uid 1000, filter loaded" "$out" "Operation not permitted"
	h delete --force "${IDPREFIX}a"
}

test_exec_preserve_fds() {
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	echo from-fd-3 > "$TESTROOT/fd.$IDPREFIX"
	out=$(h exec --preserve-fds 1 "${IDPREFIX}a" sh -c 'cat <&3; ls /proc/self/fd | sort -n | tr "\n" " "' 3<"$TESTROOT/fd.$IDPREFIX")
	rm -f "$TESTROOT/fd.$IDPREFIX"
	expect_eq "preserved fd" "$out" "from-fd-3
0 1 2 3 4 "
	h delete --force "${IDPREFIX}a"
}

test_run_no_pivot() {
	make_bundle "$B" sh -c 'cat /proc/self/mountinfo | grep -c " / / "; echo ok'
	out=$(h run --no-pivot --bundle "$B" "${IDPREFIX}a")
	expect_contains "no-pivot run" "$out" "ok"
}

test_run_session_keyring() {
	make_bundle "$B" sh -c 'grep -c "_ses" /proc/keys; grep -c "keyring.*'"${IDPREFIX}"'a" /proc/keys || true'
	jq_edit "$B" '.linux.maskedPaths = []'
	out=$(h run --bundle "$B" "${IDPREFIX}a" | tail -n 1)
	expect_eq "own session keyring named after the id" "$out" 1
	# a's keyring may outlive a for a moment (keys are collected
	# asynchronously): b looks for its own
	set_args "$B" sh -c 'grep -c "keyring.*'"${IDPREFIX}"'b" /proc/keys || true'
	out=$(h run --no-new-keyring --bundle "$B" "${IDPREFIX}b" | tail -n 1)
	expect_eq "no new keyring" "$out" 0
}

# The README's demo keeps working (it is the first thing a user runs).
test_readme_demo() {
	out=$(HULL="$HULL" HULL_DEMO_VM_TIMEOUT=30 sh "$HULL_SRC/demo/demo.sh" 2>&1)
	expect_contains "container" "$out" "hello from a hull container: hull"
	expect_contains "jail" "$out" "hello from a jailed service: pid 1, / is read-only: 1"
	expect_contains "system container" "$out" "hello from web1: pid 1 is init"
	expect_contains "system container address" "$out" "inet 10.88.0.10/16"
	expect_contains "containers reach each other" "$out" "bytes from 10.88.0.11"
	expect_contains "microVM line" "$out" "microVM:"
}

# A container created by a hull that ran in a chroot (as in the test host
# VM, which chroots into the host's root over 9p): its mount namespace is
# a copy of one whose root mount is not the chroot's, so after setns alone
# exec would stand at that root, not in the container's.  exec enters the
# init's own root, whether hull runs outside the chroot or in it again.
test_exec_from_chroot() {
	local c=$TESTROOT/chroot-$IDPREFIX out
	make_bundle "$B" sleep 30
	echo "in-rootfs-$IDPREFIX" > "$B/rootfs/marker"
	mkdir -p "$c"
	in_chroot() {
		unshare -m --propagation private sh -c 'mount --rbind / "$0" && exec chroot "$0" "$@"' \
			"$c" "$HULL" --root "$STATE" "$@"
	}
	in_chroot run --detach --bundle "$B" "${IDPREFIX}a"
	expect_eq "created in the chroot" "$(status_of "${IDPREFIX}a")" running
	out=$(h exec --cwd /tmp "${IDPREFIX}a" sh -c 'cat /marker; pwd')
	expect_eq "exec from outside: the container's root and cwd" "$out" "in-rootfs-$IDPREFIX
/tmp"
	out=$(in_chroot exec "${IDPREFIX}a" cat /marker)
	expect_eq "exec from inside the chroot" "$out" "in-rootfs-$IDPREFIX"
	out=$(h exec "${IDPREFIX}a" sh -c '[ -e /proc/1/root/marker ] && cat /proc/1/root/marker')
	expect_eq "the same root as the init" "$out" "in-rootfs-$IDPREFIX"
	h delete --force "${IDPREFIX}a"
	rmdir "$c"
}
