#!/bin/bash
# The vm tier as tests/run.sh runs it: tests/vm/run.sh in the test host VM,
# split into batches, each in its own boot with a timeout sized to it.
# About one boot in 30 the test host VM's kernel locks up (tests/vm/README.md)
# and only vmhost.sh's timeout ends it; the tests of that batch that had not
# reported then run once more in a fresh boot, and so does a test that
# failed.  A test counts as failed only if it fails (or hangs) twice.
#
#   tests/vm/tier.sh [--share DIR]... [REGEX]
#
# HULL, HULL_VM_KERNEL: as for run.sh.  HULL_VM_BATCHES (default 4): boots;
# HULL_VM_TEST_S (default 40): seconds allowed per test in a batch's timeout,
# on top of HULL_VM_BOOT_S (default 90); HULL_VM_ENGINE_S (default 150) for
# a slow test: *_engine_* (t_engine_vm.sh: podman), *_ct_vm_*, *_exec_vm_* and *_net*
# (several microVMs, a system init's boot and shutdown, pings).  HULL_VM_CONSOLE=DIR keeps each
# boot's console (vmhost.sh --verbose) in DIR.  HULL_VM_IDLE_S (default
# 360): a boot that prints no result line for that long is ended as timed
# out.  Ends with "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
HULL=${HULL:-$project/hull}
KERNEL=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
batches=${HULL_VM_BATCHES:-4}
test_s=${HULL_VM_TEST_S:-40}
boot_s=${HULL_VM_BOOT_S:-90}
engine_s=${HULL_VM_ENGINE_S:-150}
# No result line for this long: the boot is locked up (the first test also
# waits for the boot, and podman's first imports an image).
idle_s=${HULL_VM_IDLE_S:-$((boot_s + engine_s + 120))}
# A locked-up test host VM kernel panics (and, with its panic=-1 and
# QEMU's -no-reboot, ends the boot) once its soft lockup or RCU stall
# detector fires, instead of idling to the batch timeout.  Both after 60 s,
# not the default 20: under TCG on a loaded machine a 9p open was seen to
# stall 20 s and recover, and a panic then costs a retry.
export VMHOST_APPEND="${VMHOST_APPEND:-} softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1 watchdog_thresh=30 rcupdate.rcu_cpu_stall_timeout=60"
# A stand-in for vmhost.sh, for tests/vm/tier_check.sh only.
vmhost=${HULL_VM_VMHOST:-$project/tests/vmhost/vmhost.sh}
shares=()
while [ $# -gt 0 ]; do
	case $1 in
	--share) shares+=(--share "$2"); shift 2 ;;
	*) break ;;
	esac
done
filter=${1:-.}
work=$(mktemp -d /tmp/hull-vmtier.XXXXXX)
trap 'rm -rf "$work"' EXIT
boot=0

# watch_boot PID: print the boot's result lines as they come; when none
# has come for $idle_s (the test host VM locked up: its own timeout would
# wait for the whole batch's), end it (TERM to vmhost.sh's children: its
# `timeout` passes it to QEMU) and return 124, as a timed-out boot.
watch_boot() {
	local pid=$1 printed=0 n last=$SECONDS rc
	while :; do
		kill -0 "$pid" 2>/dev/null && alive=1 || alive=0
		n=$(wc -l < "$out")
		if [ "$n" -gt "$printed" ]; then
			sed -n "$((printed + 1)),${n}p" "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
			printed=$n last=$SECONDS
		fi
		[ "$alive" = 0 ] && break
		if [ $((SECONDS - last)) -ge "$idle_s" ]; then
			echo "vm: boot $boot: no result line for ${idle_s}s: ending it"
			pkill -TERM -P "$pid"
			wait "$pid"
			return 124
		fi
		sleep 1
	done
	wait "$pid"
	rc=$?
	n=$(wc -l < "$out")   # a last line without its newline
	[ -s "$out" ] && sed -n "$((printed + 1)),\$p" "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
	return "$rc"
}

# boot TESTS...: one test host VM running those tests.  Leaves their
# results in $work/ok, $work/fail, $work/skip (one name a line) and
# returns vmhost.sh's status.
boot() {
	local re rc start verbose=()
	re="^($(IFS='|'; echo "$*"))\$"
	boot=$((boot + 1))
	start=$SECONDS
	timeout_s=$boot_s
	for t in "$@"; do
		# Engine tests run several microVMs through podman, and the
		# first of a boot imports the image: 50-100 s each; the ct --vm
		# and network tests boot two VMs or a whole init and stop it.
		case $t in
		*_engine_*|*_ct_vm_*|*_exec_vm_*|*_net*) timeout_s=$((timeout_s + engine_s)) ;;
		*) timeout_s=$((timeout_s + test_s)) ;;
		esac
	done
	[ -n "${HULL_VM_CONSOLE:-}" ] && verbose=(--verbose)
	echo "vm: boot $boot: $# tests, timeout ${timeout_s}s"
	out=$work/boot$boot.out
	: > "$out"
	"$vmhost" --cgroup2 "${shares[@]}" --timeout "$timeout_s" \
		"${verbose[@]}" -- env HULL="$HULL" HULL_VM_KERNEL="$KERNEL" \
		bash "$here/run.sh" "$re" > "$out" \
		2> >(if [ -n "${HULL_VM_CONSOLE:-}" ]; then
			tee "$HULL_VM_CONSOLE/boot$boot.log" >&2
		else cat >&2; fi) &
	watch_boot $!
	rc=$?
	wait # the stderr copier: its last lines before ours
	awk '$1 == "ok" {print $2}' "$work/boot$boot.out" >> "$work/ok"
	awk '$1 == "FAIL" {print $2}' "$work/boot$boot.out" >> "$work/fail"
	awk '$1 == "skip" {sub(":", "", $2); print $2}' "$work/boot$boot.out" >> "$work/skip"
	echo "vm: boot $boot ended in $((SECONDS - start)) s (status $rc)"
	return "$rc"
}

# reported NAME: whether NAME printed a result line in any boot so far.
reported() {
	grep -qx -- "$1" "$work/ok" "$work/fail" "$work/skip"
}

tests=$(bash "$here/run.sh" --list "$filter")
if [ -z "$tests" ]; then
	echo "0 passed, 0 failed"
	exit 0
fi
: > "$work/ok"; : > "$work/fail"; : > "$work/skip"
n=$(echo "$tests" | wc -l)
[ "$batches" -gt "$n" ] && batches=$n
# Round-robin, so slow neighbours (a file's tests come together) spread.
# The test that was running when a boot hung goes last in the retry: the
# lockup follows a SIGKILL of a running VMM, so a test that kills one
# would otherwise take the tests after it down a second time.
retry=() last=()
for ((b = 0; b < batches; b++)); do
	set -- $(echo "$tests" | awk -v b="$b" -v n="$batches" '(NR - 1) % n == b')
	boot "$@"
	rc=$?
	hung=
	for t in "$@"; do
		if grep -qx -- "$t" "$work/fail"; then
			retry+=("$t")
		elif ! reported "$t"; then
			[ "$rc" = 124 ] && why="the boot timed out" || why="the boot ended with status $rc"
			echo "vm: retry: $t did not report ($why)"
			if [ "$rc" = 124 ] && [ -z "$hung" ]; then hung=$t; else retry+=("$t"); fi
		fi
	done
	[ -n "$hung" ] && last+=("$hung")
done
retry+=("${last[@]}")
if [ "${#retry[@]}" -gt 0 ]; then
	echo "vm: retry: running ${retry[*]} again in a fresh boot"
	: > "$work/fail"
	for t in "${retry[@]}"; do sed -i "/^$t\$/d" "$work/ok" "$work/skip"; done
	boot "${retry[@]}"
fi
passed=0 failed=0
for t in $tests; do
	if grep -qx -- "$t" "$work/ok"; then
		passed=$((passed + 1))
	elif ! grep -qx -- "$t" "$work/skip"; then
		reported "$t" || echo "FAIL $t (no result in two boots)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
