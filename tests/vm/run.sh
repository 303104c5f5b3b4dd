#!/bin/bash
# The vm tier: boots microVMs with hull and checks what the workload sees.
# Needs /dev/kvm, so it runs inside the test host VM:
#   tests/vmhost/vmhost.sh -- tests/vm/run.sh [REGEX]
# HULL (default ./hull), HULL_VM_KERNEL (default: hull's own, from
# 'make guest-kernel').  Ends with "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
HULL=${HULL:-$project/hull}
KERNEL=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
BUSYBOX=${BUSYBOX:-/bin/busybox}
filter=${1:-.}
passed=0 failed=0
work=$(mktemp -d /tmp/hull-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Disk images of test roots: a private cache (in the test host VM, /var is
# the host's, read-only).
export HULL_DISK_CACHE=$work/disks

. "$here/lib.sh"
for f in "$here"/t_*.sh; do
	. "$f"
done

if [ ! -e /dev/kvm ]; then
	echo "skipped: no /dev/kvm (run it in tests/vmhost/vmhost.sh)"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -r "$KERNEL" ]; then
	echo "skipped: no guest kernel at $KERNEL (make guest-kernel)"
	echo "0 passed, 0 failed"
	exit 0
fi
make_rootfs "$work/rootfs"

for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E -- "$filter"); do
	out=$work/$t.out
	# Not in an if: errexit would be off inside the subshell too.
	( set -e; "$t" ) > "$out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		if grep -q '^skipped:' "$out"; then
			echo "skip $t: $(grep -m1 '^skipped:' "$out")"
			continue
		fi
		echo "ok   $t"
		passed=$((passed + 1))
	else
		echo "FAIL $t"
		sed 's/^/    /' "$out" | tail -n 30
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
