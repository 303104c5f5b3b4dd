#!/bin/sh
# PID 1 of the test host VM (busybox sh from the initramfs that vmhost.sh
# builds).  It turns the guest into a copy of the host with /dev/kvm and,
# on request, a pure cgroup v2 hierarchy, runs one command there and powers
# off.  What to run comes from the per-run share (tag "vmhostrun"): config
# sets variables, shares calls share() below; the exit status goes back through
# that share too, so it never depends on the serial console.
# Boot noise goes to ttyS0; the command's stdout and stderr go to ttyS1 and
# ttyS2, which vmhost.sh reads from separate pipes.

PATH=/bin
export PATH
cgroup2=0 root_cache=

say() { echo "vmhost-init: $*"; }

die() {
	say "$*"
	echo 125 > /vmrun/rc 2>/dev/null
	sync
	poweroff -f
}

load_modules() {
	while read -r m; do
		insmod "/lib/modules/$m.ko" || say "insmod $m failed"
	done < /etc/vmhost-modules
}

mount9p() { # TAG DIR [ro]
	mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000${3:+,$3}" "$1" "$2"
}

# Called by /vmrun/shares: a read-write share of a host directory, mounted
# over the read-only view of the same path so paths match the host's.
share() { # TAG HOSTDIR
	mkdir -p "/host$2" 2>/dev/null
	mount9p "$1" "/host$2" || die "cannot mount share $1 at $2"
}

# A writable scratch directory where the host's copy is read-only and the
# command is likely to want to write (state dirs, temp files).
scratch() { # DIR
	[ -d "/host$1" ] || return 0
	mount -t tmpfs -o mode=1777 tmpfs "/host$1"
}

setup_host_view() {
	mount9p hostroot /host "ro${root_cache:+,cache=$root_cache}" ||
		die "cannot mount the host root"
	scratch /tmp
	scratch /run
	scratch /var/tmp
	mount -o rbind /dev /host/dev || die "cannot bind /dev"
	mount -o rbind /proc /host/proc || die "cannot bind /proc"
	mount -o rbind /sys /host/sys || die "cannot bind /sys"
	mkdir -p /host/run/vmhost
	mount -o bind /vmrun /host/run/vmhost || die "cannot bind the run share"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# what udev/systemd would add: bash process substitution needs /dev/fd
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run 2>/dev/null
load_modules
[ -c /dev/kvm ] || say "no /dev/kvm (no nested virtualisation?)"

mount9p vmhostrun /vmrun || die "cannot mount the run share"
. /vmrun/config
setup_host_view
. /vmrun/shares
if [ "$cgroup2" = 1 ]; then
	mount -t cgroup2 -o nsdelegate cgroup2 /host/sys/fs/cgroup ||
		die "cannot mount cgroup2"
fi

# Raw mode: no \n -> \r\n translation, no echo of anything QEMU might send.
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
echo "VMHOST-BEGIN"
# setsid: the command gets its own session without a controlling terminal,
# as under a service manager, instead of inheriting the serial line.
setsid chroot /host /bin/sh /run/vmhost/cmd.sh \
	</dev/null >/dev/ttyS1 2>/dev/ttyS2
rc=$?
echo "$rc" > /vmrun/rc
# stty sets modes with TCSADRAIN, so this waits until the UARTs have sent
# everything the command wrote before the power goes.
stty -F /dev/ttyS1 raw
stty -F /dev/ttyS2 raw
echo "VMHOST-END $rc"
sync
poweroff -f
