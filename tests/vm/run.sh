#!/bin/bash
# The vm tier: boots microVMs with hull and checks what the workload sees.
# Needs /dev/kvm, so it runs inside the test host VM:
#   tests/vmhost/vmhost.sh -- tests/vm/run.sh [REGEX]
# or, in batches with retries, tests/vm/tier.sh.  run.sh --list [REGEX]
# prints the test names (no /dev/kvm needed).  Each test's ok/FAIL line is
# printed as it ends, so a caller still knows what passed if the VM hangs.
# HULL (default ./hull), HULL_VM_KERNEL (default: hull's own, from
# 'make guest-kernel').  Ends with "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
HULL=${HULL:-$project/hull}
KERNEL=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
BUSYBOX=${BUSYBOX:-/bin/busybox}
list=0
[ "${1:-}" = --list ] && { list=1; shift; }
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

tests() {
	declare -F | awk '{print $3}' | grep '^test_' | grep -E -- "$filter"
}
if [ "$list" = 1 ]; then
	tests
	exit 0
fi
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

for t in $(tests); do
	out=$work/$t.out
	t0=$SECONDS
	# Not in an if: errexit would be off inside the subshell too.
	( set -e; "$t" ) > "$out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		if grep -q '^skipped:' "$out"; then
			echo "skip $t: $(grep -m1 '^skipped:' "$out")"
			continue
		fi
		echo "ok   $t ($((SECONDS - t0)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL $t ($((SECONDS - t0)) s)"
		sed 's/^/    /' "$out" | tail -n 30
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
