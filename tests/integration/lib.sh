# Shared helpers for the integration tier.  Sourced by run.sh and the
# test files; every test gets its own --root, bundle and ids.
: "${HULL:?HULL must point at the hull binary}"
TESTROOT=${TESTROOT:-/tmp/hull-it.$$}
# make_rootfs, wait_for, cfg_at
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

# make_bundle DIR [ARGS...]: rootfs + config.json from `hull spec`, with
# process.args set to ARGS (default: true).
make_bundle() {
	local b=$1; shift
	mkdir -p "$b"
	if [ -d "$TESTROOT/rootfs-template" ]; then
		cp -a "$TESTROOT/rootfs-template" "$b/rootfs"
	else
		make_rootfs "$b/rootfs"
	fi
	(cd "$b" && "$HULL" spec) || return 1
	[ $# -gt 0 ] || set -- true
	set_args "$b" "$@"
}

# set_args BUNDLE ARGS...
set_args() {
	local b=$1; shift
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq_edit "$b" ".process.args = $args"
}

# jq_edit BUNDLE FILTER: edit config.json in place.
jq_edit() { cfg_at "$1" "$2"; }

h() { "$HULL" --root "$STATE" "$@"; }

fail() { echo "    FAIL: $*" >&2; return 1; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) return 0 ;;
	*) fail "$1: '$2' does not contain '$3'" ;;
	esac
}

status_of() { h state "$1" | jq -r .status; }

# leak checks: nothing of ours left on the host.
check_no_leaks() {
	local leaks=""
	if [ -d "$STATE" ] && [ -n "$(ls -A "$STATE" 2>/dev/null)" ]; then
		leaks="$leaks state:$(ls "$STATE" | tr '\n' ' ')"
	fi
	local cg
	# (hull ct runs NAME as ct-NAME)
	for cg in /sys/fs/cgroup/*/hull/"$IDPREFIX"* /sys/fs/cgroup/hull/"$IDPREFIX"* \
		  /sys/fs/cgroup/*/hull/ct-"$IDPREFIX"* /sys/fs/cgroup/hull/ct-"$IDPREFIX"*; do
		[ -e "$cg" ] && leaks="$leaks cgroup:$cg"
	done
	if grep -q "$TESTROOT" /proc/self/mountinfo; then
		leaks="$leaks mount:$(grep "$TESTROOT" /proc/self/mountinfo | head -n 1)"
	fi
	local p
	for p in $(pgrep -f "hull-it-marker-$IDPREFIX" 2>/dev/null); do
		leaks="$leaks process:$p"
	done
	# the host's own device nodes are never changed through a container
	# (seen once: /dev/null owned by a mapped uid, mode 0755)
	local n
	n=$(stat -c '%u:%g:%a:%t,%T' /dev/null)
	[ "$n" = "0:0:666:1,3" ] || leaks="$leaks host-/dev/null:$n"
	[ -z "$leaks" ] || fail "leaked:$leaks"
}

# ---- helpers for t_config.sh, t_badinput.sh, t_security.sh ----

# The check programs (recvtty, seccomp_agent), built next to hull.
HELPERS=${HELPERS:-$(cd "$(dirname "$HULL")" && pwd)/tests/helpers}

# cfg BUNDLE FILTER [STRING...]: edit config.json (tests/common.sh's cfg_at)
cfg() { cfg_at "$@"; }

# set_argv BUNDLE ARGS...: process.args, each argument kept whole.
set_argv() {
	local b=$1
	shift
	cfg "$b" '.process.args = $A' "$@"
}

# ht ARGS...: hull with a time limit, so that a hung hull fails its test
# (exit status 124) instead of stopping the tier.
ht() { timeout -k 2 15 "$HULL" --root "$STATE" "$@"; }

# run_sh SCRIPT: run `sh -c SCRIPT` as ${IDPREFIX}a from $B; prints its
# stdout (stderr goes to the test's log), returns hull's status.
run_sh() {
	set_argv "$B" sh -c "$1"
	ht run --bundle "$B" "${IDPREFIX}a"
}

# wait_pid_gone PID TENTHS: wait for a background job we started to end;
# kill it (that pid only) when it does not.  Returns its status, or 124.
wait_pid_gone() {
	local pid=$1 n=$2
	while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# state_empty: nothing of this test under --root and no cgroup of ours.
state_empty() {
	local cg
	if [ -n "$(ls -A "$STATE" 2>/dev/null)" ]; then
		fail "state dir not empty: $(ls -A "$STATE" | tr '\n' ' ')"
		return 1
	fi
	for cg in /sys/fs/cgroup/*/hull/"$IDPREFIX"* /sys/fs/cgroup/hull/"$IDPREFIX"*; do
		if [ -e "$cg" ]; then
			fail "cgroup left: $cg"
			return 1
		fi
	done
	return 0
}

# expect_clean_failure WHAT OUTPUT RC NEEDLE: exit status 1, exactly one
# line "hull: ...", containing NEEDLE, and nothing left behind.
expect_clean_failure() {
	local what=$1 out=$2 rc=$3 needle=$4
	[ "$rc" -ne 124 ] || fail "$what: hull hung (killed after 15 s): $out"
	expect_eq "$what: exit status" "$rc" 1 || return 1
	expect_eq "$what: number of output lines" "$(printf '%s\n' "$out" | wc -l)" 1 || {
		fail "$what: output was: $out"
		return 1
	}
	expect_contains "$what: message" "$out" "hull: " || return 1
	expect_contains "$what: message" "$out" "$needle" || return 1
	state_empty
}

# hq ARGS...: hull with its stdio (and so the stdio of a container it
# leaves running: create, run -d) away from the test's pipes, which would
# otherwise stay open after a failed test; prints hull's output when it
# fails.
hq() {
	local log=$TESTROOT/hq.$IDPREFIX.$RANDOM rc=0
	ht "$@" </dev/null >"$log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || cat "$log"
	rm -f "$log"
	return $rc
}
