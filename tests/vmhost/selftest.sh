#!/bin/bash
# Self-test of the test host VM: boots it three times and checks what the
# microVM and cgroup v2 tests rely on.  Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
vmhost=$here/vmhost.sh
passed=0 failed=0
tmp=$(mktemp -d /tmp/vmhost-selftest.XXXXXX)
# Written by the guest into the project share (ignored by .gitignore).
mark=$here/.selftest-$$
trap 'rm -rf "$tmp" "$mark"' EXIT

check() { # NAME CONDITION...
	local name=$1
	shift
	if "$@"; then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		failed=$((failed + 1))
	fi
}

has() { grep -qx -- "$2" "$1"; }

# 1. The brief's own check: /dev/kvm, a pure cgroup v2 mount, the status.
"$vmhost" --cgroup2 -- sh -c \
	'test -e /dev/kvm && echo kvm-present; stat -f -c %T /sys/fs/cgroup && exit 3' \
	>"$tmp/out1" 2>"$tmp/err1"
rc=$?
check "exit status 3 comes out (got $rc)" test "$rc" = 3
check "/dev/kvm exists in the guest" has "$tmp/out1" kvm-present
check "/sys/fs/cgroup is cgroup2fs with --cgroup2" has "$tmp/out1" cgroup2fs
check "nothing else is mounted under /sys/fs/cgroup" test -z "$(
	"$vmhost" --cgroup2 -- awk '$2 ~ "^/sys/fs/cgroup/" {print}' /proc/mounts)"
[ "$failed" = 0 ] || { echo "stderr:"; cat "$tmp/err1"; }

# 2. Streams, arguments, environment, the shares and the working directory.
"$vmhost" -e "GREETING=it's here" -- sh -c '
	echo "out:$1:$2"; echo "err:$GREETING" >&2
	pwd
	touch /etc/vmhost-should-fail 2>/dev/null || echo "root-ro"
	touch /tmp/x && echo "tmp-rw"
	echo written > "$3" && echo "project-rw"
	stat -f -c %T /sys/fs/cgroup
	exit 0' arg0 'two words' "q'uote" "$mark" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
check "exit status 0 comes out (got $rc)" test "$rc" = 0
check "arguments keep spaces and quotes" has "$tmp/out2" "out:two words:q'uote"
check "stderr is kept apart from stdout" has "$tmp/err2" "err:it's here"
check "stdout holds no stderr" test -z "$(grep '^err:' "$tmp/out2")"
check "the command runs in the project dir" has "$tmp/out2" "$(cd "$here/../.." && pwd)"
check "the host root is read-only" has "$tmp/out2" root-ro
check "/tmp is writable" has "$tmp/out2" tmp-rw
check "the project tree is writable and reaches the host" \
	test "$(cat "$mark" 2>/dev/null)" = written
rm -f "$mark"
check "without --cgroup2 no cgroup2 at /sys/fs/cgroup" \
	test -z "$(grep -x cgroup2fs "$tmp/out2")"
check "no boot noise in stdout" test -z "$(grep -E '^\[ *[0-9]+\.[0-9]+\]|vmhost-init' "$tmp/out2")"

# 3. A command that hangs is stopped by --timeout, with status 124.
start=$(date +%s)
"$vmhost" --timeout 20 -- sleep 600 >/dev/null 2>"$tmp/err3"
rc=$?
check "--timeout ends a hung command with 124 (got $rc)" test "$rc" = 124
check "--timeout ends it in time" test "$(($(date +%s) - start))" -lt 45

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
