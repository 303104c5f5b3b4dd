#!/bin/bash
# The OCI runtime-tools validation suite against hull (and peers), as its
# README describes: build runtimetest and the validation executables from
# a runtime-tools checkout, run each validation/*/*.t with RUNTIME set, and
# summarise the TAP output per test and runtime.
#
#   tests/conformance/runtime-tools.sh SRC [RUNTIME...]   (as root)
#   RT_ONLY=REGEX ...: only the tests whose path matches
#
# SRC is a runtime-tools source tree (git clone
# https://github.com/opencontainers/runtime-tools); it needs a Go toolchain
# new enough for its go.mod (Debian 12's golang-go 1.19 builds commits up
# to 260e151, March 2025; later ones need Go 1.21).  The build uses the
# vendored modules, so no network is needed once SRC is there.  RUNTIME
# defaults to hull (this tree's binary); crun and runc are looked up in
# PATH.  The runs happen in a private mount namespace without the empty
# cgroup2 mount, as run.sh does, one runtime after another (the suite uses
# fixed cgroup paths, so two runtimes at once would disturb each other).
# Each test gets 60 s.  Output: one line per test with ok/total for each
# runtime ("error" when the test printed no TAP, e.g. create failed), and
# the TAP and stderr of each run under $RT_OUT (default
# /tmp/hull-runtime-tools).
set -u
here=$(cd "$(dirname "$0")" && pwd)
HULL=$(readlink -f "${HULL:-$here/../../hull}")
src=${1:?usage: runtime-tools.sh RUNTIME_TOOLS_SRC [RUNTIME...]}
shift
[ $# -gt 0 ] || set -- hull
out=${RT_OUT:-/tmp/hull-runtime-tools}

if [ -z "${RT_INNER:-}" ]; then
	command -v go >/dev/null || { echo "runtime-tools: skipped: no Go toolchain (apt-get install golang-go)"; exit 0; }
	(cd "$src" && GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local \
		make runtimetest validation-executables >/dev/null) || {
		echo "runtime-tools: build failed in $src (go $(go env GOVERSION); see its go.mod)"
		exit 1
	}
	exec unshare -m --propagation private env RT_INNER=1 HULL="$HULL" RT_OUT="$out" bash -c \
		'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec bash "$0" "$@"' "$0" "$src" "$@"
fi

cd "$src" || exit 1
tests=$(find validation -name '*.t' | sort | grep -E -- "${RT_ONLY:-.}")
# The relative-cgroup tests leave a "testdir" cgroup behind (under each
# runtime's cgroup root); remove the ones this run made, if empty.
leftovers() { ls -d /sys/fs/cgroup/*/testdir /sys/fs/cgroup/*/*/testdir 2>/dev/null; }
before=$(leftovers)
for rt in "$@"; do
	case $rt in
	hull) bin=$HULL ;;
	*) bin=$(command -v "$rt") || { echo "$rt: skipped: not installed"; continue; } ;;
	esac
	mkdir -p "$out/$rt"
	for t in $tests; do
		n=$(basename "$t" .t)
		RUNTIME=$bin timeout -k 5 60 "$t" >"$out/$rt/$n.tap" 2>"$out/$rt/$n.err" </dev/null
		echo "exit=$?" >>"$out/$rt/$n.err"
	done
done

for d in $(leftovers); do
	printf '%s\n' "$before" | grep -qx "$d" || find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
done

printf '%-32s' test
for rt in "$@"; do printf ' %-12s' "$rt"; done
echo
for t in $tests; do
	n=$(basename "$t" .t)
	printf '%-32s' "$n"
	for rt in "$@"; do
		f=$out/$rt/$n.tap
		[ -e "$f" ] || { printf ' %-12s' -; continue; }
		ok=$(grep -c '^ok' "$f")
		nok=$(grep -c '^not ok' "$f")
		if [ $((ok + nok)) -eq 0 ]; then
			printf ' %-12s' error
		else
			printf ' %-12s' "$ok/$((ok + nok))"
		fi
	done
	echo
done
echo "(TAP and stderr per test: $out/RUNTIME/TEST.tap, .err)"
