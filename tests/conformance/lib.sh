# Helpers for the conformance tier.  Sourced by run.sh and, in a fresh
# bash per test, by the test files.  A test is a function ct_NAME that
# runs with:
#   RT    the runtime's name (hull, crun, runc)     RTB  its binary
#   ROOT  a --root of its own                        W    a work directory
#   ID    a prefix for container ids                 TPL  the template bundle
# It returns 0 (pass), 1 (fail) or 77 (skip, after printing
# "skipped: <why>").  A part that this machine cannot run prints
# "skipped: <why>" and the test goes on.

# make_rootfs, wait_for TENTHS CMD... (every 0.1 s), cfg_at
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

# rt ARGS...: the runtime, with a time limit so that a hang fails the test.
rt() { timeout -k 2 20 "$RTB" --root "$ROOT" "$@"; }

fail() { echo "    FAIL: $*" >&2; return 1; }

# want WHAT GOT WANT
want() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# has WHAT HAYSTACK NEEDLE
has() {
	case "$2" in
	*"$3"*) return 0 ;;
	*) fail "$1: '$2' does not contain '$3'" ;;
	esac
}

# hasnt WHAT HAYSTACK NEEDLE
hasnt() {
	case "$2" in
	*"$3"*) fail "$1: '$2' contains '$3'" ;;
	*) return 0 ;;
	esac
}

skip() { echo "skipped: $*"; exit 77; }
part_skipped() { echo "skipped: $*"; }

# newb [NAME]: a fresh bundle $W/NAME (default b) from the template; sets B.
newb() {
	B=$W/${1:-b}
	mkdir -p "$B"
	cp -a "$TPL/rootfs" "$B/rootfs"
	cp "$TPL/config.json" "$B/config.json"
}

# cfg FILTER [STRING...]: edit $B/config.json with jq; the strings are the
# array $A, passed with --arg so that no quoting is needed (common.sh).
cfg() { cfg_at "$B" "$@"; }

# script SH: process.args = sh -c SH
script() { cfg '.process.args = ["sh", "-c", $A[0]]' "$1"; }

# inside SH: run `sh -c SH` in a container from $B in the foreground;
# prints what it wrote to stdout, returns the runtime's exit status.
# Stderr goes to the test's log.
N_RUN=0
inside() {
	script "$1"
	N_RUN=$((N_RUN + 1))
	rt run --bundle "$B" "$ID-r$N_RUN" </dev/null
}

# create_bg NAME: create (not start) a container from $B, its stdio away
# from our pipes; prints the runtime's output on failure.
create_bg() {
	local log=$W/create.$1.log
	rt create --bundle "$B" "$1" </dev/null >"$log" 2>&1 || { cat "$log" >&2; return 1; }
}

st() { rt state "$1" | jq -r ".$2"; }


is_stopped() { [ "$(st "$1" status)" = stopped ]; }

# has_cap NAME: this machine's root holds capability NAME (e.g. sys_resource)
has_cap() {
	local bit
	case $1 in
	sys_resource) bit=24 ;;
	sys_admin) bit=21 ;;
	*) return 1 ;;
	esac
	local eff
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	[ $(( (0x$eff >> bit) & 1 )) -eq 1 ]
}

# mi_line MOUNTPOINT: the line of the topmost mount at MOUNTPOINT in a
# mountinfo text on stdin.
mi_line() { awk -v m="$1" '$5 == m { l = $0 } END { print l }'; }
