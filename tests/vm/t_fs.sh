# Host directories in the guest over virtio-fs (a vhost-user virtio-fs
# device served by QEMU's virtiofsd): hull vmm --fs, ct create --vm
# --bind with busybox init, and what is left behind (no virtiofsd once
# the VM is gone, nothing at all after a refused create).  Uses ctv from
# t_image_ct.sh and init_rootfs / wait_log from t_ct_vm.sh.

VIRTIOFSD=${HULL_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}

fs_skip() {
	[ -x "$VIRTIOFSD" ] || { echo "skipped: no $VIRTIOFSD (qemu-system-common)"; return 0; }
	return 1
}

# fs_src NAME: a fresh directory on the test host VM's own tmpfs (the 9p
# share of the host's root is read-only).
fs_src() {
	local d=$work/fs-$1
	rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# No virtiofsd serves DIR any more (they exit when the VMM's socket closes).
expect_no_virtiofsd() {
	local i
	for i in $(seq 50); do
		pgrep -f "source=$1," >/dev/null || return 0
		sleep 0.2
	done
	fail "virtiofsd for $1 still runs: $(pgrep -af "source=$1,")"
}

# A file written on the host is read in the guest, and one written in the
# guest (root and another uid) is on the host after the VM ends.
test_fs_vmm_both_ways() {
	local src out
	fs_skip && return 0
	src=$(fs_src both)
	echo "from the host" > "$src/host.txt"
	out=$(vmm --fs "$src:/data" -- sh -c 'cat /data/host.txt; echo from the guest > /data/guest.txt;
		mkdir /data/sub && echo deep > /data/sub/f && ls /data | sort | tr "\n" " "')
	expect_eq "guest output" "$out" "from the host
guest.txt host.txt sub "
	expect_eq "guest's file on the host" "$(cat "$src/guest.txt")" "from the guest"
	expect_eq "guest's subdir on the host" "$(cat "$src/sub/f")" deep
	expect_no_virtiofsd "$src"
}

# :ro refuses writes with EROFS even for the guest's root, and even after
# it remounts the share read-write: the host enforces it.
test_fs_vmm_ro_is_enforced_by_the_host() {
	local src out
	fs_skip && return 0
	src=$(fs_src ro)
	echo keep > "$src/f"
	out=$(vmm --fs "$src:/ro:ro" -- sh -c 'id -u; cat /ro/f
		echo x > /ro/new 2>&1 || echo "write1 refused"
		mount -o remount,rw /ro && grep -q "^hullfs0 /ro virtiofs rw" /proc/mounts && echo remounted
		{ echo x > /ro/new; } 2>/tmp/e || echo "write2 refused: $(cat /tmp/e)"
		rm /ro/f 2>/dev/null || echo "rm refused"' 2>&1)
	echo "$out" | grep -q "^write1 refused" || fail "write allowed: $out"
	echo "$out" | grep -q "^remounted" || fail "the guest could not remount rw (test is moot): $out"
	echo "$out" | grep -q "^write2 refused: .*Read-only file system" ||
		fail "the guest's own rw remount let it write, or no EROFS: $out"
	echo "$out" | grep -q "^rm refused" || fail "rm allowed: $out"
	[ ! -e "$src/new" ] || fail "a file was created in the read-only share"
	expect_eq "file kept" "$(cat "$src/f")" keep
	expect_no_virtiofsd "$src"
}

# Two shares, one of them nested under the other's destination.
test_fs_vmm_two_shares() {
	local a b out
	fs_skip && return 0
	a=$(fs_src a) b=$(fs_src b)
	echo A > "$a/a" && echo B > "$b/b"
	out=$(vmm --fs "$a:/mnt/a" --fs "$b:/mnt/a/inner:ro" -- sh -c 'cat /mnt/a/a /mnt/a/inner/b')
	expect_eq "two shares" "$out" "A
B"
	expect_no_virtiofsd "$a"
	expect_no_virtiofsd "$b"
}

# A missing source, a relative or '..' destination are errors before
# anything starts: no VM, no virtiofsd; the same for ct create --vm.
test_fs_bad_binds_are_clear_errors() {
	local src out st n=vfsbad
	fs_skip && return 0
	src=$(fs_src bad)
	st=0; out=$(vmm --fs "$work/no-such-dir:/x" -- true 2>&1) || st=$?
	expect_eq "missing source status" "$st" 1
	echo "$out" | grep -q "no-such-dir: No such file or directory" || fail "message: $out"
	st=0; out=$(vmm --fs "$src:rel" -- true 2>&1) || st=$?
	expect_eq "relative destination status" "$st" 1
	echo "$out" | grep -q "absolute" || fail "message: $out"
	st=0; out=$(vmm --fs "$src:/a/../b" -- true 2>&1) || st=$?
	expect_eq "'..' status" "$st" 1
	echo "$out" | grep -q "'..'" || fail "message: $out"
	expect_no_virtiofsd "$src"
	st=0; out=$(ctv create "$n" --rootfs "$work/rootfs" --vm --bind "$work/no-such-dir:/x" 2>&1) || st=$?
	[ "$st" != 0 ] || fail "ct create with a missing --bind source succeeded"
	echo "$out" | grep -q "no-such-dir" || fail "message: $out"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
	st=0; out=$(HULL_VIRTIOFSD=/no/virtiofsd ctv create "$n" --rootfs "$work/rootfs" --vm \
		--bind "$src:/x" 2>&1) || st=$?
	[ "$st" != 0 ] || fail "ct create without virtiofsd succeeded"
	echo "$out" | grep -q "/no/virtiofsd.*qemu-system-common" || fail "message: $out"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
}

# The VMM killed with SIGKILL: its virtiofsd goes with it.
test_fs_vmm_killed_leaves_no_virtiofsd() {
	local src pid
	fs_skip && return 0
	src=$(fs_src kill)
	"$HULL" vmm --kernel "$KERNEL" --rootfs "$work/rootfs" --fs "$src:/d" -- \
		sh -c 'touch /d/up; sleep 600' >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 240); do [ -e "$src/up" ] && break; sleep 0.5; done
	[ -e "$src/up" ] || fail "the guest never wrote to the share"
	pgrep -f "source=$src," >/dev/null || fail "no virtiofsd while the VM runs"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	expect_no_virtiofsd "$src"
}

# ct create --vm --bind with busybox init: the inittab reads the host's
# file and writes one back through the shares, a :ro share refuses; stop
# and destroy leave no virtiofsd.
test_fs_ct_vm_bind_busybox_init() {
	local r=$work/ct-fs-rootfs n=vmfs log src ro pid
	fs_skip && return 0
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	src=$(fs_src ctrw) ro=$(fs_src ctro)
	echo "host-data" > "$src/in"
	echo "ro-data" > "$ro/in"
	cat > "$r/etc/inittab" <<'EOF'
::sysinit:/bin/sh -c 'echo "fs-marker $(cat /shared/in) $(cat /ro/in)"; echo from-init > /shared/out; touch /ro/x 2>/dev/null || echo ro-refused'
::respawn:/bin/sleep 1000
EOF
	ctv create "$n" --rootfs "$r" --vm --ip none --bind "$src:/shared" --bind "$ro:/ro:ro"
	ctv start "$n"
	log=$work/ctlib/ct/$n/console.log
	wait_log "$log" fs-marker 1
	grep -q "fs-marker host-data ro-data" "$log" || fail "the guest did not read the shares: $(cat "$log")"
	wait_log "$log" ro-refused 1
	expect_eq "written by the guest's init" "$(cat "$src/out" 2>&1)" from-init
	[ ! -e "$ro/x" ] || fail "the :ro share was written"
	pid=$(ctv status --json "$n" | jq -r .pid)
	pgrep -f "source=$src," >/dev/null || fail "no virtiofsd while the VM runs"
	ctv stop --timeout 60 "$n"
	[ ! -e "/proc/$pid" ] || fail "the VMM $pid still runs"
	expect_no_virtiofsd "$src"
	expect_no_virtiofsd "$ro"
	ctv destroy "$n"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
}

# hull killed with SIGKILL between create and start of ct start (the
# container's init waits, holding the sockets): the next destroy cleans
# it and its virtiofsd goes too.
test_fs_ct_vm_killed_start_leaves_nothing() {
	local r=$work/ct-fs-kill-rootfs n=vmfskill src st=0
	fs_skip && return 0
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	src=$(fs_src ctkill)
	ctv create "$n" --rootfs "$r" --vm --ip none --bind "$src:/shared"
	HULL_FAULT_POINT=ct-created ctv start "$n" >/dev/null 2>&1 || st=$?
	[ "$st" != 0 ] || fail "the fault point did not kill hull"
	ctv destroy --force "$n"
	expect_no_virtiofsd "$src"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
}

# hull killed with SIGKILL right after it started virtiofsd, before the
# container's init exists: virtiofsd sees its socket close and exits.
test_fs_ct_vm_killed_after_virtiofsd_leaves_none() {
	local r=$work/ct-fs-kill2-rootfs n=vmfskill2 src st=0
	fs_skip && return 0
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	src=$(fs_src ctkill2)
	ctv create "$n" --rootfs "$r" --vm --ip none --bind "$src:/shared"
	HULL_FAULT_POINT=vm-fs ctv start "$n" >/dev/null 2>&1 || st=$?
	[ "$st" != 0 ] || fail "the fault point did not kill hull"
	expect_no_virtiofsd "$src"
	ctv destroy --force "$n"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
}

# An OCI bundle's bind mounts (what podman's -v gives) under run --vm:
# directories reach the guest (ro where the options say), a bind of a
# file stays host-side (the guest has its own /etc), /dev/shm is the
# guest's own; the run ends with no virtiofsd.
test_fs_run_vm_bundle_binds() {
	local b src ro out
	fs_skip && return 0
	src=$(fs_src runrw) ro=$(fs_src runro)
	echo rw-data > "$src/in" && echo ro-data > "$ro/in" && echo filebind > "$work/fs-file"
	b=$(bundle fsb ".process.args = [\"sh\", \"-c\", \"cat /data/in /cfg/in; echo out > /data/out; touch /cfg/x 2>/dev/null || echo ro-refused; cat /etc/fb 2>/dev/null || echo no-file-bind\"] |
		.mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"rw\"]},
			    {\"destination\": \"/cfg\", \"source\": \"$ro\", \"options\": [\"bind\", \"ro\"]},
			    {\"destination\": \"/etc/fb\", \"type\": \"bind\", \"source\": \"$work/fs-file\", \"options\": [\"bind\", \"ro\"]}]")
	out=$(hrun run --vm --bundle "$b" vm-fsb 2>&1)
	expect_eq "guest output" "$out" "rw-data
ro-data
ro-refused
no-file-bind"
	expect_eq "written by the guest" "$(cat "$src/out")" out
	[ ! -e "$ro/x" ] || fail "ro bind written"
	expect_no_virtiofsd "$src"
	expect_no_virtiofsd "$ro"
	[ ! -e "$work/state/vm-fsb" ] || fail "state left behind"
}

# podman -v with the VM annotation: the volume is in the guest (both
# ways, :ro refused), and nothing is left (container, VMM, virtiofsd).
# Uses eng_setup, epm and eng_nothing_left from t_engine_vm.sh.
test_fs_engine_podman_volume() {
	local src ro out
	fs_skip && return 0
	eng_setup || return 0
	src=$(fs_src podrw) ro=$(fs_src podro)
	echo pod-data > "$src/in" && echo pod-ro > "$ro/in"
	out=$(epm run --rm --network none "${ENG_VM[@]}" -v "$src:/vol" -v "$ro:/rovol:ro" \
		"$ENG_IMG" sh -c 'cat /vol/in /rovol/in; echo guest > /vol/out;
		touch /rovol/x 2>/dev/null || echo ro-refused; uname -r')
	expect_eq "guest output" "$(echo "$out" | sed -n 1,3p)" "pod-data
pod-ro
ro-refused"
	[ "$(echo "$out" | sed -n 4p)" != "$(uname -r)" ] || fail "not a VM: $out"
	expect_eq "written by the guest" "$(cat "$src/out")" guest
	[ ! -e "$ro/x" ] || fail "ro volume written"
	expect_no_virtiofsd "$src"
	expect_no_virtiofsd "$ro"
	eng_nothing_left
}

# virtiofsd killed while the guest uses its share: the VM ends at once
# with an error naming it (the guest's file requests would wait forever).
test_fs_vmm_backend_death_ends_the_vm() {
	local src pid st=0
	fs_skip && return 0
	src=$(fs_src death)
	"$HULL" vmm --kernel "$KERNEL" --rootfs "$work/rootfs" --fs "$src:/d" -- \
		sh -c 'touch /d/up; while :; do ls /d > /dev/null; sleep 0.2; done' \
		>/dev/null 2>"$work/death.err" &
	pid=$!
	for _ in $(seq 240); do [ -e "$src/up" ] && break; sleep 0.5; done
	[ -e "$src/up" ] || fail "the guest never wrote to the share"
	pkill -KILL -f "source=$src," || fail "no virtiofsd to kill"
	for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
	if [ -e "/proc/$pid" ]; then
		kill -KILL "$pid"
		fail "the VM still runs 20 s after its virtiofsd died"
	fi
	wait "$pid" || st=$?
	expect_eq "status" "$st" 1
	grep -q "virtio-fs hullfs0: the backend (virtiofsd) closed its connection" "$work/death.err" ||
		fail "error: $(cat "$work/death.err")"
}
