#!/bin/bash
# microVM boot against QEMU's microvm machine, same kernel, same initramfs,
# same guest init, in one run.  Needs /dev/kvm: run it in the test host VM:
#   tests/vmhost/vmhost.sh -- bench/vmboot.sh [ITERATIONS]
# HULL_VMM (default ./hull-vmm), HULL_VM_KERNEL (default hull's vmlinux),
# HULL_VM_BZIMAGE (QEMU boots the bzImage: no PVH note in hull's kernel).
#
# Figures (medians over ITERATIONS, default 5):
#  boot_to_init_ms  both booting the bzImage (and hull's ELF vmlinux, which
#                   skips the decompression, on a second line);
#                   hull: VMM start -> the guest init's first port write
#                   (the VMM logs it); qemu: process start -> the same port
#                   write, which an isa-debug-exit device at that port turns
#                   into QEMU's exit (so QEMU is charged its own exec,
#                   hull its initramfs build: the VMM's clock starts at
#                   its main())
#  exec_to_init_ms  with tracefs: both from the exec of the VMM to the
#                   guest's first boot-port write, by the host kernel's
#                   kvm_pio tracepoint (the same clock for both)
#  run_true_ms      wall time of a whole VM (bzImage) running /bin/true to its exit
#                   status (hull: the exit port; qemu: isa-debug-exit there)
#  overhead_kib     the VMM's resident memory that is not guest RAM
#                   (VmRSS - RssShmem: guest RAM is a shared memfd in hull,
#                   and QEMU's default RAM is anonymous, so for QEMU it is
#                   VmRSS minus the guest's own used memory)
set -u
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
N=${1:-5}
VMM=${HULL_VMM:-$project/hull-vmm}
KERNEL=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
BZIMAGE=${HULL_VM_BZIMAGE:-/var/cache/hull/kernel/bzImage}
MEM=256
QEMU=qemu-system-x86_64
LIMIT=${LIMIT:-120}   # seconds for one boot

[ -e /dev/kvm ] || { echo "skipped: no /dev/kvm (run it in tests/vmhost/vmhost.sh)"; exit 0; }
[ -r "$KERNEL" ] && [ -r "$BZIMAGE" ] || { echo "skipped: no guest kernel (make guest-kernel)"; exit 0; }
command -v $QEMU >/dev/null || { echo "skipped: no $QEMU"; exit 0; }

# Transparent huge pages for hull's guest RAM (a memfd: shmem), as QEMU's
# anonymous guest RAM gets them from transparent_hugepage/enabled (Debian's
# default: madvise, and QEMU madvises): a host setting for VM hosts, set
# here for the run and restored.  HULL_THP=never measures without.
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp 2>/dev/null)
[ -n "$thp_was" ] && echo "${HULL_THP:-advise}" > $thp 2>/dev/null
work=$(mktemp -d /tmp/hull-vmboot.XXXXXX)
trap 'rm -rf "$work"; [ -z "$thp_was" ] || echo "$thp_was" > $thp 2>/dev/null' EXIT
# The VMM from the test host VM's tmpfs, as QEMU comes from its (cached)
# root: the project tree is shared without caching, and an exec from it
# pays for every page of the binary.
cp "$VMM" "$work/vmm" && VMM=$work/vmm
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in true sleep sh; do ln -s busybox "$work/rootfs/bin/$a"; done

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# With the host kernel's kvm_pio tracepoint (tracefs, as root), both VMMs
# are also timed the same way from outside: from the exec of the VMM to the
# guest init's first write to the boot port (0x5f4), both seen by the host
# kernel.  run CMD... sets TRACE_MS to that (empty without tracefs).
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
tracing=0
if [ -d $T/events/kvm/kvm_pio ] && [ -w $T/trace_marker ]; then
	tracing=1
	echo 0 > $T/tracing_on
	echo boot > $T/trace_clock
	echo 'port == 0x5f4' > $T/events/kvm/kvm_pio/filter
	echo 1 > $T/events/kvm/kvm_pio/enable
fi
run() {
	local st
	TRACE_MS=
	# A nested boot can wedge under load: such a run is dropped.
	[ $tracing = 1 ] || { timeout -k 5 "$LIMIT" "$@"; return; }
	echo > $T/trace
	echo 1 > $T/tracing_on
	timeout -k 5 "$LIMIT" bash -c 'echo vmboot-exec > '"$T"'/trace_marker && exec "$@"' vmboot "$@"
	st=$?
	echo 0 > $T/tracing_on
	TRACE_MS=$(awk 'function ts(   j) { for (j = 1; j <= NF; j++) if ($j ~ /^[0-9]+\.[0-9]+:$/) return substr($j, 1, length($j) - 1) + 0 }
		/tracing_mark_write: vmboot-exec/ { t0 = ts() }
		/kvm_pio:/ && t0 && !t1 { t1 = ts() }
		END { if (t0 && t1) printf "%.1f", (t1 - t0) * 1000 }' $T/trace)
	return $st
}
# Medians: a nested boot under TCG on a shared machine has outliers of
# several seconds (a neighbour's job, a huge page compaction).
mean() { grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The same initramfs for both: hull builds it (its own guest init and the
# rootfs), and dumps it with --dump-initrd.
"$VMM" --rootfs "$work/rootfs" --dump-initrd "$work/initrd" -- /bin/true ||
	{ echo "cannot build the initramfs"; exit 1; }
CMDLINE="console=ttyS0 quiet loglevel=0 reboot=k panic=-1 pci=off nomodules no_timer_check tsc=reliable i8042.noaux 8250.nr_uarts=2 rdinit=/init"

qemu_run() { # EXIT_PORT
	run $QEMU -M microvm,acpi=off -accel kvm -cpu host -m $MEM -smp 1 -nodefaults \
		-no-user-config -display none -serial null -no-reboot \
		-device isa-debug-exit,iobase="$1",iosize=4 \
		-kernel "$BZIMAGE" -initrd "$work/initrd" -append "$CMDLINE" </dev/null >/dev/null \
		2>"$work/qemu.err"
	# isa-debug-exit makes QEMU exit with (value << 1) | 1: boot port 3, /bin/true 1.
	st=$?
	[ $st = 124 ] && { echo "a QEMU boot took over $LIMIT s: dropped" >&2; return 1; }
	if [ -s "$work/qemu.err" ] || { [ $st != 1 ] && [ $st != 3 ]; }; then
		echo "qemu failed (exit $st):"; cat "$work/qemu.err"; exit 1
	fi
}

boot_ms() { sed -n 's/.*guest init started \([0-9.]*\) ms.*/\1/p' "$work/vmm.err"; }
# Warm the page cache for both alike (the test host VM reads / over 9p):
# the kernel images, and QEMU's binary and libraries.
cat "$KERNEL" "$BZIMAGE" > /dev/null
qemu-system-x86_64 -M microvm -accel kvm -display none -version > /dev/null
hull_init=() hull_bz=() hull_true=() qemu_init=() qemu_true=() tr_hull=() tr_bz=() tr_qemu=()
for i in $(seq "$N"); do
	run "$VMM" --boot-time --kernel "$KERNEL" --mem $MEM --rootfs "$work/rootfs" -- \
		/bin/true >/dev/null 2>"$work/vmm.err"
	hull_init+=("$(boot_ms)") tr_hull+=("$TRACE_MS")
	# The same bzImage QEMU boots (it decompresses itself in the guest).
	t0=$(now_ms)
	run "$VMM" --boot-time --kernel "$BZIMAGE" --mem $MEM --rootfs "$work/rootfs" -- \
		/bin/true >/dev/null 2>"$work/vmm.err"
	t1=$(now_ms)
	hull_bz+=("$(boot_ms)") tr_bz+=("$TRACE_MS")
	hull_true+=($((t1 - t0)))
	t0=$(now_ms); qemu_run 0x5f4 && t1=$(now_ms) && qemu_init+=($((t1 - t0)))
	t0=$(now_ms); qemu_run 0x5f0 && t1=$(now_ms) && qemu_true+=($((t1 - t0))) tr_qemu+=("$TRACE_MS")
	echo "run $i: hull ${hull_init[-1]} ${hull_bz[-1]} qemu ${qemu_init[-1]:-} (traced ${tr_hull[-1]} ${tr_bz[-1]} ${tr_qemu[-1]:-})" >&2
done
[ $tracing = 1 ] && { echo 0 > $T/events/kvm/kvm_pio/enable; echo 0 > $T/events/kvm/kvm_pio/filter; }
echo "samples (ms): hull vmlinux ${hull_init[*]} | hull bzImage ${hull_bz[*]} | qemu ${qemu_init[*]}"
[ $tracing = 1 ] && echo "traced (ms): hull vmlinux ${tr_hull[*]} | hull bzImage ${tr_bz[*]} | qemu ${tr_qemu[*]}"

# Memory: a guest that sleeps; sample the VMM once the guest is up (the
# same settle time for QEMU, which cannot tell).
settle=${SETTLE:-45}
"$VMM" --kernel "$KERNEL" --mem $MEM --rootfs "$work/rootfs" -- sleep 600 >/dev/null 2>&1 &
hpid=$!
sleep "$settle"
hull_ovh=$(awk '/^VmRSS/ {r = $2} /^RssShmem/ {s = $2} END {print r - s}' /proc/$hpid/status)
hull_guest=$(awk '/^RssShmem/ {print $2}' /proc/$hpid/status)
kill -KILL $hpid; wait $hpid 2>/dev/null
$QEMU -M microvm,acpi=off -accel kvm -cpu host -m $MEM -smp 1 -nodefaults -no-user-config \
	-display none -serial null -no-reboot -kernel "$BZIMAGE" -initrd "$work/initrd" \
	-append "$CMDLINE" </dev/null >/dev/null 2>&1 &
qpid=$!
sleep "$settle"
qemu_rss=$(awk '/^VmRSS/ {print $2}' /proc/$qpid/status)
kill -KILL $qpid; wait $qpid 2>/dev/null
# QEMU's guest RAM is anonymous memory inside its RSS: subtract what the
# hull guest had touched (its RssShmem), the same kernel and workload.
qemu_ovh=$((qemu_rss - hull_guest))

hb=$(printf '%s\n' "${hull_bz[@]}" | mean)
hi=$(printf '%s\n' "${hull_init[@]}" | mean); ht=$(printf '%s\n' "${hull_true[@]}" | mean)
qi=$(printf '%s\n' "${qemu_init[@]}" | mean); qt=$(printf '%s\n' "${qemu_true[@]}" | mean)
echo "iterations: $N (medians), guest RAM $MEM MiB, 1 vCPU; THP: shmem $(cat $thp 2>/dev/null), anonymous $(cat ${thp%/*}/enabled 2>/dev/null)"
printf '%-16s %10s %10s %8s\n' figure hull qemu ratio
printf '%-16s %10s %10s %8s\n' boot_to_init_ms "$hb" "$qi" "$(echo "$hb $qi" | awk '{printf "%.2f", $1/$2}')"
printf '%-16s %10s %10s %8s\n' "  (vmlinux)" "$hi" "$qi" "$(echo "$hi $qi" | awk '{printf "%.2f", $1/$2}')"
if [ $tracing = 1 ]; then
	a=$(printf '%s\n' "${tr_bz[@]}" | mean) b=$(printf '%s\n' "${tr_hull[@]}" | mean)
	c=$(printf '%s\n' "${tr_qemu[@]}" | mean)
	printf '%-16s %10s %10s %8s\n' exec_to_init_ms "$a" "$c" "$(echo "$a $c" | awk '{printf "%.2f", $1/$2}')"
	printf '%-16s %10s %10s %8s\n' "  (vmlinux)" "$b" "$c" "$(echo "$b $c" | awk '{printf "%.2f", $1/$2}')"
fi
printf '%-16s %10s %10s %8s\n' run_true_ms "$ht" "$qt" "$(echo "$ht $qt" | awk '{printf "%.2f", $1/$2}')"
printf '%-16s %10s %10s %8s\n' overhead_kib "$hull_ovh" "$qemu_ovh" "$(echo "$hull_ovh $qemu_ovh" | awk '{printf "%.2f", $1/$2}')"
