#!/bin/bash
# Engines tier: podman, Docker and containerd run their containers on an OCI
# runtime (hull by default), from a busybox-static image made here; nothing
# is pulled.  Usage (root):
#   tests/engines/run.sh [--runtime hull|crun|runc] [REGEX]
# REGEX picks test_* functions; ENGINES_TRACE=1 shows each test's trace;
# ENGINES_HIDE_CGROUP2=1 hides a hybrid layout's cgroup2 (see below).  ENGINES_RESULTS=FILE also writes one
# "name<TAB>ok|FAIL|skip<TAB>why" line per test (tests/engines/compat.sh).
# Ends with "N passed, N failed" (skipped tests are counted apart).
#
# Isolation: every engine runs in a network namespace made here
# (hullengines-PID) with its own state under $W; only the daemons started
# here are stopped, by pid, and the namespace is removed at the end.
set -u
# ENGINES_HIDE_CGROUP2=1: run in a private mount namespace whose cgroup2
# mount of a hybrid layout is unmounted (crun 1.8 refuses a
# hybrid layout whose cgroup2 holds a controller); the host is unchanged.
# That namespace also gets its own /dev/null node: crun 1.8 chowns its
# stdio to the container's root in a user namespace, /dev/null included.
if [ -n "${ENGINES_HIDE_CGROUP2:-}" ] && [ -z "${ENGINES_IN_MNTNS:-}" ] &&
   mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
	exec env ENGINES_IN_MNTNS=1 unshare -m --propagation private bash -c \
		'umount /sys/fs/cgroup/unified && d=$(mktemp -d) && mknod -m 666 "$d/null" c 1 3 &&
		 mount --bind "$d/null" /dev/null && exec bash "$0" "$@"' "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export ENGINES_RUNTIME=${ENGINES_RUNTIME:-hull}
if [ "${1:-}" = --runtime ]; then ENGINES_RUNTIME=$2; shift 2; fi
only=${1:-}

case $ENGINES_RUNTIME in
hull) RT_BIN=${HULL:-$src/hull} ;;
crun | runc) RT_BIN=$(command -v "$ENGINES_RUNTIME") ;;
*) echo "unknown runtime $ENGINES_RUNTIME (hull, crun or runc)"; echo "0 passed, 1 failed"; exit 1 ;;
esac
export RT_BIN=$(readlink -f "$RT_BIN")
export W=${ENGINES_WORK:-/var/lib/hull-test/engines.$$}
export NETNS=hullengines-$$
export RT=$W/rt/$ENGINES_RUNTIME
export BUSYBOX=${BUSYBOX:-/bin/busybox}
results=${ENGINES_RESULTS:-/dev/null}
: > "$results"

if [ "$(id -u)" -ne 0 ]; then
	echo "engines: skipped: needs root"; echo "0 passed, 0 failed"; exit 0
fi
[ -x "$RT_BIN" ] || { echo "no runtime binary $RT_BIN"; echo "0 passed, 1 failed"; exit 1; }

. "$here/lib.sh"
. "$here/setup.sh"
for f in "$here"/t_*.sh; do . "$f"; done

tests=$(declare -F | awk '{print $3}' | grep '^test_' | while read -r t; do
	[ -z "$only" ] || [[ "$t" =~ $only ]] && echo "$t"
done)
# the scenarios in the order the file lists them, not alphabetically
tests=$(for f in "$here"/t_*.sh; do grep -o '^test_[a-z0-9_]*' "$f"; done | grep -Fxf <(printf '%s\n' $tests))

setup_common || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
trap teardown_all EXIT

declare -A engine_err
for e in podman docker containerd; do
	printf '%s\n' $tests | grep -q "^test_${e}_" || continue
	if ! err=$("setup_$e" 2>&1); then
		engine_err[$e]=$(printf '%s' "$err" | tail -n 3 | tr '\n' ' ')
		echo "setup of $e failed: ${engine_err[$e]}"
	fi
done

passed=0 failed=0 skipped=0
for t in $tests; do
	e=${t#test_}; e=${e%%_*}
	: > "$W/rt.log"
	start=$(date +%s)
	if [ -n "${engine_err[$e]:-}" ]; then
		rc=1; out="setup of $e failed: ${engine_err[$e]}"
	else
		# Each test in its own bash under a timeout; output to a file,
		# since a container may hold a pipe open.
		timeout -k 5 "${TEST_TIMEOUT:-120}" bash -c '
			. "$1/lib.sh"; for f in "$1"/t_*.sh; do . "$f"; done
			[ -z "${ENGINES_TRACE:-}" ] || { PS4="+\$(date +%T.%N | cut -c1-12) "; set -x; }
			set -e; cd "$W"; "$2"' _ "$here" "$t" >"$W/out" 2>&1 </dev/null
		rc=$?
		out=$(cat "$W/out")
		[ $rc -eq 124 ] && out="$out
timed out after ${TEST_TIMEOUT:-120}s"
	fi
	secs=$(($(date +%s) - start))
	# the test's own verdict first, else the first error an engine printed
	why=$( { printf '%s\n' "$out" | grep -E '^(FAIL|skipped):'; printf '%s\n' "$out" | grep -E 'Error|error'; } |
		head -n 1 | cut -c1-200)
	[ -z "${ENGINES_TRACE:-}" ] || printf '%s\n' "$out" | sed 's/^/    | /'
	if [ $rc -eq 0 ]; then
		echo "ok   $t (${secs}s)"
		passed=$((passed + 1))
		printf '%s\tok\t\n' "$t" >> "$results"
	elif [ $rc -eq 77 ]; then
		echo "skip $t"
		printf '%s\n' "$out" | grep '^skipped:' | sed 's/^/    /'
		skipped=$((skipped + 1))
		printf '%s\tskip\t%s\n' "$t" "${why#skipped: }" >> "$results"
	else
		echo "FAIL $t (${secs}s)"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
		failed=$((failed + 1))
		printf '%s\tFAIL\t%s\n' "$t" "${why#FAIL: }" >> "$results"
	fi
	cleanup_after_test "$e"
done
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
