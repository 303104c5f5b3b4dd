#!/bin/bash
# Where a microVM's boot time goes, hull's VMM against QEMU's microvm, the
# same kernel and initramfs, in one run.  Needs /dev/kvm and tracefs (the
# KVM tracepoints of the kernel that runs the VMMs): run it in the test
# host VM as root:
#   tests/vmhost/vmhost.sh -- bench/vmboot-profile.sh [OUTDIR]
# For each VMM (hull with the ELF vmlinux, hull with the bzImage, QEMU with
# the bzImage) one boot whose workload prints the guest's kernel log, with
# the KVM tracepoints on.  It writes to OUTDIR (default
# ./vmboot-profile.out, which the test host VM shares read-write):
#   NAME.dmesg     the guest's kernel log (printk times; initcall_debug)
#   NAME.summary   the VMM's timeline seen from the host kernel: exec, first
#                  guest exit, the guest init's boot-port write; the guest's
#                  exits to the host kernel by reason up to that write; the
#                  nested page faults (first touches of guest pages) by
#                  the guest-physical MiB they hit; the slowest initcalls
# HULL_VMM, HULL_VM_KERNEL, HULL_VM_BZIMAGE as in bench/vmboot.sh;
# PROFILE_CMDLINE: extra kernel arguments (default initcall_debug).
set -u
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
out=${1:-$project/vmboot-profile.out}
VMM=${HULL_VMM:-$project/hull-vmm}
KERNEL=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
BZIMAGE=${HULL_VM_BZIMAGE:-/var/cache/hull/kernel/bzImage}
EXTRA=${PROFILE_CMDLINE:-initcall_debug}
MEM=256
T=/sys/kernel/tracing

[ -e /dev/kvm ] || { echo "skipped: no /dev/kvm (run it in tests/vmhost/vmhost.sh)"; exit 0; }
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
[ -d $T/events/kvm ] || { echo "skipped: no KVM tracepoints in $T"; exit 0; }
mkdir -p "$out" || exit 1
work=$(mktemp -d /tmp/hull-vmprof.XXXXXX)
trap 'rm -rf "$work"; echo 0 > $T/tracing_on; [ -z "${thp_was:-}" ] || echo "$thp_was" > $thp' EXIT
cp "$VMM" "$work/vmm" && VMM=$work/vmm     # not from the uncached 9p share
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in true sh dmesg cat; do ln -s busybox "$work/rootfs/bin/$a"; done
WL=(/bin/sh -c 'dmesg; cat /proc/interrupts')
"$VMM" --rootfs "$work/rootfs" --dump-initrd "$work/initrd" -- "${WL[@]}" || exit 1
CMDLINE="console=ttyS0 quiet loglevel=0 reboot=k panic=-1 pci=off nomodules no_timer_check tsc=reliable i8042.noaux 8250.nr_uarts=2 rdinit=/init $EXTRA"

# Huge pages for hull's memfd guest RAM (QEMU's anonymous RAM gets them from
# transparent_hugepage/enabled); HULL_THP=never measures without.
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp 2>/dev/null)
[ -n "$thp_was" ] && echo "${HULL_THP:-advise}" > $thp
echo "shmem THP: $(cat $thp 2>/dev/null); anonymous THP: $(cat ${thp%/*}/enabled 2>/dev/null)"
# Warm the page cache for both alike (the test host VM reads / over 9p):
# the kernel images, and QEMU's binary and libraries.
cat "$KERNEL" "$BZIMAGE" > /dev/null
qemu-system-x86_64 -M microvm -accel kvm -display none -version > /dev/null
echo boot > $T/trace_clock
echo 65536 > $T/buffer_size_kb
echo 0 > $T/tracing_on
for e in kvm_exit kvm_entry kvm_pio kvm_page_fault kvm_userspace_exit kvm_msr; do
	echo 1 > $T/events/kvm/$e/enable
done

# NAME CMD...: one traced boot; the guest's log lands in NAME.out.
traced() {
	local name=$1 t0
	shift
	echo > $T/trace
	rm -f "$out/$name.serial"
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo 1 > $T/tracing_on
	"$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null
	echo 0 > $T/tracing_on
	summarize "$t0" < $T/trace > "$out/$name.summary"
	log=$out/$name.out
	[ -e "$out/$name.serial" ] && log=$out/$name.serial
	grep -a '^\[' "$log" > "$out/$name.dmesg"
	{
		echo "guest kernel: init at $(sed -n 's/^\[ *\([0-9.]*\)\] Run .* as init process.*/\1/p' \
			"$out/$name.dmesg") s of its own clock"
		echo "slowest initcalls (usecs):"
		sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' \
			"$out/$name.dmesg" | sort -rn | head -15
	} >> "$out/$name.summary"
	echo "== $name"; cat "$out/$name.summary"
}

# The trace from stdin, relative to T0 (seconds, CLOCK_BOOTTIME).
summarize() {
	awk -v t0="$1" '
	function hex(s,   n, i, c) { n = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; if (c < 0) break; n = n * 16 + c }
		return n }
	function ts(   j) { for (j = 1; j <= NF; j++) if ($j ~ /^[0-9]+\.[0-9]+:$/) return substr($j, 1, length($j) - 1) + 0 }
	/^#/ { next }
	!first { first = ts() }
	/kvm_pio: pio_write at 0x5f4 / && !boot { boot = ts(); next }
	boot { next }
	/kvm_msr: msr_write 4b564d0[01] / && !kclock { kclock = ts() }
	/kvm_exit:/ { for (i = 1; i <= NF; i++) if ($i == "reason") { r = $(i + 1); exits[r]++; nexit++; tx = ts() } }
	/kvm_entry:/ && r != "" { t = ts() - tx; spent[r] += t; tspent += t; r = "" }
	/kvm_userspace_exit:/ { uexit++ }
	/kvm_pio:/ { for (i = 1; i <= NF; i++) if ($i == "at") pio[$(i + 1)]++ }
	/kvm_page_fault:/ { for (i = 1; i <= NF; i++) if ($i == "address") { a = hex($(i + 1)); mib[int(a / 1048576)]++; npf++ } }
	END {
		printf "first KVM_RUN %.0f ms after exec; guest init (boot port) %.0f ms after exec, %.0f ms after the first KVM_RUN\n",
			(first - t0) * 1000, (boot - t0) * 1000, (boot - first) * 1000
		printf "guest kernel: kvmclock set up %.0f ms after the first KVM_RUN, init %.0f ms after that\n",
			(kclock - first) * 1000, (boot - kclock) * 1000
		printf "exits before init: %d (to the VMM: %d), %.0f ms from exit to re-entry in all\n", nexit, uexit, tspent * 1000
		for (r in exits) printf "  %-24s %6d %8.1f ms\n", r, exits[r], spent[r] * 1000 | "sort -k2 -rn"
		close("sort -k2 -rn")
		print "port I/O by port:"
		for (p in pio) printf "  %-8s %d\n", p, pio[p] | "sort -k2 -rn | head -12"
		close("sort -k2 -rn | head -12")
		printf "nested page faults before init: %d; by guest-physical MiB:\n", npf
		for (m in mib) printf "  %4d MiB %d\n", m, mib[m] | "sort -k3 -rn | head -40"
		close("sort -k3 -rn | head -40")
	}'
}

traced hull-vmlinux "$VMM" --kernel "$KERNEL" --boot-time --mem $MEM --rootfs "$work/rootfs" \
	--cmdline "$EXTRA" -- "${WL[@]}"
traced hull-bzimage "$VMM" --kernel "$BZIMAGE" --boot-time --mem $MEM --rootfs "$work/rootfs" \
	--cmdline "$EXTRA" -- "${WL[@]}"
traced qemu qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host -m $MEM -smp 1 \
	-nodefaults -no-user-config -display none -serial "file:$out/qemu.serial" -no-reboot \
	-device isa-debug-exit,iobase=0x5f0,iosize=4 \
	-kernel "$BZIMAGE" -initrd "$work/initrd" -append "$CMDLINE"
grep -h "guest init started" "$out"/hull-*.err
# Where hull's own setup goes (exec to the first KVM_RUN), from its syscalls.
strace -f -ttt -o "$out/hull-vmlinux.strace" "$VMM" --kernel "$KERNEL" --boot-time --mem $MEM \
	--rootfs "$work/rootfs" -- /bin/true >/dev/null 2>&1
