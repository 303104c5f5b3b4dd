# Shared helpers for the integration tier.  Sourced by run.sh and the
# test files; every test gets its own --root, bundle and ids.
: "${HULL:?HULL must point at the hull binary}"
BUSYBOX=${BUSYBOX:-/bin/busybox}
TESTROOT=${TESTROOT:-/tmp/hull-it.$$}

# make_rootfs DIR: a busybox-static rootfs with applet links.
make_rootfs() {
	local r=$1
	mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/etc" "$r/root"
	cp "$BUSYBOX" "$r/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
	echo 'root:x:0:' > "$r/etc/group"
}

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
jq_edit() {
	local b=$1 f=$2
	jq "$f" "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

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
	for cg in /sys/fs/cgroup/*/hull/"$IDPREFIX"* /sys/fs/cgroup/hull/"$IDPREFIX"*; do
		[ -e "$cg" ] && leaks="$leaks cgroup:$cg"
	done
	if grep -q "$TESTROOT" /proc/self/mountinfo; then
		leaks="$leaks mount:$(grep "$TESTROOT" /proc/self/mountinfo | head -n 1)"
	fi
	local p
	for p in $(pgrep -f "hull-it-marker-$IDPREFIX" 2>/dev/null); do
		leaks="$leaks process:$p"
	done
	[ -z "$leaks" ] || fail "leaked:$leaks"
}
