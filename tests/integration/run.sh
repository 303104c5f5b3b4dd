#!/bin/bash
# Integration tier: real containers from busybox-static bundles, as root,
# no network.  Each test_* function runs in a subshell with its own state
# root; after it, nothing of it may remain (state dir, cgroup, mount,
# process).  Prints one line per test and ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
export HULL=${HULL:-$here/../../hull}
export TESTROOT=/tmp/hull-it.$$
export HULL_SRC=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

mkdir -p "$TESTROOT"
make_rootfs "$TESTROOT/rootfs-template"
trap 'rm -rf "$TESTROOT"' EXIT

for f in "$here"/t_*.sh; do
	. "$f"
done

passed=0 failed=0 n=0
only=${1:-}
for t in $(declare -F | awk '{print $3}' | grep '^test_' ); do
	# the filter is an extended regular expression (a plain substring works)
	[ -n "$only" ] && ! [[ "$t" =~ $only ]] && continue
	n=$((n + 1))
	export IDPREFIX="it$$x$n"
	export STATE="$TESTROOT/state-$n"
	export B="$TESTROOT/bundle-$n"
	mkdir -p "$STATE"
	# Each test in its own bash under a timeout, so a hang fails one test;
	# output goes to a file, since a container may hold a pipe open.
	timeout -k 5 "${TEST_TIMEOUT:-90}" bash -c '
		. "$1/lib.sh"; for f in "$1"/t_*.sh; do . "$f"; done
		set -e; cd "$TESTROOT"; "$2"' _ "$here" "$t" >"$TESTROOT/out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$TESTROOT/out")
	[ $rc -eq 124 ] && out="$out
timed out after ${TEST_TIMEOUT:-90}s"
	# Whatever the test did, clean up, then look for leaks.
	if [ $rc -eq 0 ]; then
		leak=$(check_no_leaks 2>&1) || { rc=1; out="$out
$leak"; }
	fi
	for id in $(ls "$STATE" 2>/dev/null); do "$HULL" --root "$STATE" delete --force "$id" >/dev/null 2>&1; done
	if [ $rc -eq 0 ]; then
		echo "ok   $t"
		# a part that cannot run here says so, never passes silently
		printf '%s\n' "$out" | grep '^skipped:' | sed 's/^/    /'
		passed=$((passed + 1))
	else
		echo "FAIL $t"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	rm -rf "$B" "$STATE"
done
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
