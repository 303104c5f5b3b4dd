#!/bin/bash
# The project's test host VM: runs one command in a QEMU (TCG) guest that
# sees the host's root read-only, the project tree read-write, has /dev/kvm
# (nested SVM) and, with --cgroup2, a pure cgroup v2 hierarchy.  Used to
# test the microVM and the cgroup v2 paths on machines that have neither.
#
#   tests/vmhost/vmhost.sh [--cgroup2] [--timeout SECS] [--share DIR]...
#                          [--cwd DIR] [-e NAME=VALUE]... [--verbose] -- CMD...
#
# Prints CMD's stdout and stderr (each to its own stream) and exits with
# CMD's status; 124 on timeout, 125 when the VM itself failed.  See README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
cache=${VMHOST_CACHE:-/var/cache/hull/vmhost}
# Order matters: each module after the ones it needs (DESIGN.md section 6).
modules="irqbypass ccp kvm kvm-amd virtio_ring virtio virtio_pci_modern_dev
virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay
llc stp bridge veth tun"

cgroup2=0 timeout_s=900 verbose=0 cwd=$project
shares=() envs=()

usage() {
	echo "usage: $0 [--cgroup2] [--timeout SECS] [--share DIR]... [--cwd DIR]" \
		"[-e NAME=VALUE]... [--verbose] -- CMD [ARGS...]" >&2
	exit 125
}

fail() {
	echo "vmhost: $*" >&2
	exit 125
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--cgroup2) cgroup2=1 ;;
		--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift ;;
		--share)
			[ $# -ge 2 ] || usage
			d=$(cd "$2" && pwd) || fail "--share: no directory '$2'"
			shares+=("$d"); shift ;;
		--cwd) [ $# -ge 2 ] || usage; cwd=$2; shift ;;
		-e) [ $# -ge 2 ] || usage; envs+=("$2"); shift ;;
		--verbose|-v) verbose=1 ;;
		--) shift; break ;;
		*) usage ;;
		esac
		shift
	done
	[ $# -gt 0 ] || usage
	case $timeout_s in ''|*[!0-9]*) fail "--timeout wants seconds, not '$timeout_s'" ;; esac
	cmd=("$@")
}

# Single-quotes a word for the guest's /bin/sh.
shquote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# --- the guest kernel -------------------------------------------------------

# The package that linux-image-amd64 points at now, or $VMHOST_KERNEL_PKG.
kernel_pkg() {
	if [ -n "${VMHOST_KERNEL_PKG:-}" ]; then
		echo "$VMHOST_KERNEL_PKG"
		return
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1
}

# Sets kdir to an unpacked kernel in the cache, downloading its .deb if
# needed.  Falls back to the newest cached kernel when apt cannot help
# (no lists, no archive), so an offline machine with a warm cache works.
ensure_kernel() {
	local pkg ver deb tmp
	kernel_still_current && return 0
	pkg=$(kernel_pkg)
	if [ -n "$pkg" ]; then
		ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n 1)
		kdir=$cache/kernel/${pkg}_$ver
		if [ -f "$kdir/.done" ]; then
			touch "$kdir/.checked"
			return 0
		fi
		mkdir -p "$cache/debs"
		deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}"_*.deb 2>/dev/null | head -n 1)
		if [ -z "$deb" ]; then
			echo "vmhost: downloading $pkg $ver" >&2
			(cd "$cache/debs" && apt-get download -q=2 "$pkg=$ver" >/dev/null 2>&1)
			deb=$(ls "$cache/debs/${pkg}_${ver//:/%3a}"_*.deb 2>/dev/null | head -n 1)
		fi
		if [ -n "$deb" ]; then
			echo "vmhost: unpacking $(basename "$deb")" >&2
			tmp=$kdir.tmp.$$
			rm -rf "$tmp" && mkdir -p "$tmp" &&
				dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; fail "cannot unpack $deb"; }
			extract_vmlinux "$tmp"
			touch "$tmp/.done" "$tmp/.checked"
			rm -rf "$kdir" && mv "$tmp" "$kdir"
			prune "$cache/kernel" "$kdir"
			prune "$cache/debs" "$deb"
			return 0
		fi
		echo "vmhost: cannot download $pkg $ver; trying the cache" >&2
	fi
	kdir=$(ls -d "$cache"/kernel/*/.done 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kdir" ] || fail "no guest kernel: run tests/vmhost/deps.sh and apt-get update"
	kdir=${kdir%/.done}
}

# Asking apt which kernel is current costs about two seconds a run; the
# answer can only change when apt's package lists do, so skip the question
# while the cached kernel was confirmed after the lists' last update.
kernel_still_current() {
	local stamp
	[ -z "${VMHOST_KERNEL_PKG:-}" ] || return 1
	stamp=$(ls -d "$cache"/kernel/*/.checked 2>/dev/null | sort -V | tail -n 1)
	[ -n "$stamp" ] || return 1
	[ -z "$(find /var/lib/apt/lists -maxdepth 1 -newer "$stamp" -print -quit 2>/dev/null)" ] ||
		return 1
	kdir=${stamp%/.checked}
}

# Debian's vmlinuz is an xz-compressed bzImage.  Its ELF vmlinux has a PVH
# entry note, and QEMU boots that directly: no firmware real-mode path and
# no decompression under TCG, which saves about 4 s of every boot here.
extract_vmlinux() { # KDIR
	local z off
	z=$(ls "$1"/boot/vmlinuz-* | head -n 1)
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$z" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 0
	tail -c +"$((off + 1))" "$z" | xz -qdc > "$1/vmlinux.tmp" 2>/dev/null
	if [ "$(head -c 4 "$1/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
		mv "$1/vmlinux.tmp" "$1/vmlinux"
	else
		rm -f "$1/vmlinux.tmp"
	fi
}

# Removes everything in DIR but KEEP, so the cache holds one kernel.
prune() {
	local f
	for f in "$1"/*; do
		[ "$f" = "$2" ] || [ ! -e "$f" ] || rm -rf "$f"
	done
}

# --- the initramfs ----------------------------------------------------------

# Prints the .ko path of module NAME (- and _ are the same to the kernel).
module_path() {
	local alt=${1//-/_} f
	alt=${alt//_/[-_]}
	f=$(find "$kdir/lib/modules" -name "$alt.ko" -o -name "$alt.ko.xz" \
		-o -name "$alt.ko.zst" -o -name "$alt.ko.gz" | head -n 1)
	[ -n "$f" ] || fail "module $1 not in $(basename "$kdir")"
	echo "$f"
}

# Appends NAME to the load order after what it depends on (modinfo), so a
# kernel update that adds a dependency does not break the boot.
order_add() {
	local m=$1 f d
	case " $order " in *" $m "*) return 0 ;; esac
	f=$(module_path "$m") || exit 125
	for d in $(modinfo -F depends "$f" 2>/dev/null | tr ',' ' '); do
		order_add "$d"
	done
	order="$order $m"
	paths="$paths $f"
}

# Copies a module into the initramfs uncompressed: busybox insmod reads
# plain ELF only.
add_module() { # PATH NAME DESTDIR
	case $1 in
	*.xz) xz -dc "$1" > "$3/$2.ko" ;;
	*.zst) zstd -qdc "$1" > "$3/$2.ko" ;;
	*.gz) gzip -dc "$1" > "$3/$2.ko" ;;
	*) cp "$1" "$3/$2.ko" ;;
	esac
}

build_initramfs() { # OUT
	local st=$1.tmp.$$ m p i=0
	local -a ps
	order="" paths=""
	for m in $modules; do order_add "$m"; done
	read -r -a ps <<< "$paths"
	rm -rf "$st" && mkdir -p "$st"/{bin,dev,proc,sys,run,host,vmrun,etc,lib/modules}
	cp /bin/busybox "$st/bin/busybox" || fail "no /bin/busybox: run tests/vmhost/deps.sh"
	for m in $(/bin/busybox --list); do
		[ "$m" = busybox ] || ln -s busybox "$st/bin/$m"
	done
	mknod -m 600 "$st/dev/console" c 5 1
	install -m 755 "$here/init.sh" "$st/init"
	for m in $order; do
		add_module "${ps[$i]}" "$m" "$st/lib/modules" || fail "cannot copy module $m"
		echo "$m" >> "$st/etc/vmhost-modules"
		i=$((i + 1))
	done
	(cd "$st" && find . | cpio -o -H newc --quiet) > "$1.tmp" || fail "cpio failed"
	mv "$1.tmp" "$1"
	rm -rf "$st"
}

# Sets initrd, rebuilding it when the kernel, busybox, init.sh, the module
# list or this script change: its name is a hash of all of them.
ensure_initramfs() {
	local key
	key=$( { echo "$kdir $modules"; sha256sum /bin/busybox "$here/init.sh" "$0"; } |
		sha256sum | cut -c1-16)
	initrd=$cache/initramfs-$key.cpio
	if [ -f "$initrd" ]; then
		touch "$initrd"
		return 0
	fi
	echo "vmhost: building $(basename "$initrd")" >&2
	build_initramfs "$initrd"
	prune_initramfs
}

# Keeps the three most recently used: checkouts at different commits (a
# worktree, a CI copy) then share the cache without rebuilding in turn.
prune_initramfs() {
	ls -t "$cache"/initramfs-*.cpio 2>/dev/null | tail -n +4 | xargs -r rm -f
}

prepare() {
	mkdir -p "$cache" || fail "cannot create $cache"
	command -v qemu-system-x86_64 >/dev/null ||
		fail "no qemu-system-x86_64: run tests/vmhost/deps.sh"
	# Two runs may start cold at once: one builds, the other waits.
	exec 9>"$cache/.lock"
	flock 9
	ensure_kernel
	ensure_initramfs
	flock -u 9
	exec 9>&-
	vmlinuz=$kdir/vmlinux
	[ -f "$vmlinuz" ] || vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
}

# --- one run ----------------------------------------------------------------

# The per-run share: the command as a script for the guest's /bin/sh, and
# the config that init.sh sources.
write_run_dir() {
	local a e i=0
	{
		echo "cgroup2=$cgroup2"
		echo "root_cache=$(shquote "${VMHOST_ROOT_CACHE-loose}")"
	} > "$run/config"
	for a in "${shares[@]}"; do
		echo "share rw$i $(shquote "$a")"
		i=$((i + 1))
	done > "$run/shares"
	{
		echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		echo "export HOME=/root LANG=C.UTF-8 TERM=dumb"
		for e in "${envs[@]}"; do
			echo "export $(shquote "$e")"
		done
		echo "cd $(shquote "$cwd") || exit 125"
		printf 'exec'
		for a in "${cmd[@]}"; do printf ' %s' "$(shquote "$a")"; done
		echo
	} > "$run/cmd.sh"
}

qemu_args() {
	local a i=0 quiet=quiet
	[ "$verbose" = 1 ] && quiet=
	qargs=(-accel tcg -cpu EPYC-v3,+svm -smp 2 -m 2G
		-display none -monitor none -no-reboot -nic none
		-kernel "$vmlinuz" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 $quiet ${VMHOST_APPEND:-}"
		-serial "pipe:$run/console" -serial "pipe:$run/out" -serial "pipe:$run/err"
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$run,mount_tag=vmhostrun,security_model=none")
	for a in "${shares[@]}"; do
		qargs+=(-virtfs "local,path=$a,mount_tag=rw$i,security_model=none,multidevs=remap")
		i=$((i + 1))
	done
}

# QEMU opens NAME.in and NAME.out of a pipe: chardev; the readers started
# here stream the command's output as it comes and see EOF when QEMU exits.
start_readers() {
	local p
	for p in console out err; do mkfifo "$run/$p.in" "$run/$p.out"; done
	if [ "$verbose" = 1 ]; then
		tee "$run/console.log" < "$run/console.out" >&2 &
	else
		cat < "$run/console.out" > "$run/console.log" &
	fi
	cat < "$run/out.out" &
	cat < "$run/err.out" >&2 &
}

cleanup() {
	[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null
	[ -n "${run:-}" ] && rm -rf "$run"
}

show_console() {
	echo "vmhost: $1; guest console:" >&2
	sed 's/\r$//' "$run/console.log" | tail -n 40 >&2
	sed 's/^/qemu: /' "$run/qemu.log" | tail -n 10 >&2
}

main() {
	parse_args "$@"
	prepare
	run=$(mktemp -d /tmp/vmhost.XXXXXX) || fail "mktemp failed"
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	for a in "${shares[@]}"; do [ "$a" = "$project" ] && break; done
	[ "${a:-}" = "$project" ] || shares=("$project" "${shares[@]}")
	write_run_dir
	qemu_args
	start_readers
	timeout -k 10 "$timeout_s" qemu-system-x86_64 "${qargs[@]}" \
		</dev/null 2>"$run/qemu.log" &
	qpid=$!
	wait "$qpid"
	qrc=$?
	qpid=
	# Unblocks readers still waiting in open() if QEMU died before opening
	# its pipes; an O_RDWR open of a FIFO never blocks.
	for p in console out err; do exec 8<>"$run/$p.out"; exec 8>&-; done
	wait
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		show_console "timed out after ${timeout_s}s"
		exit 124
	fi
	if [ ! -s "$run/rc" ]; then
		show_console "the VM ended without the command's status (qemu exit $qrc)"
		exit 125
	fi
	exit "$(cat "$run/rc")"
}

main "$@"
