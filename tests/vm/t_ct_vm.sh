# hull ct --vm with a real init: busybox init as PID 1 of its own pid
# namespace in the guest, stopped by ct stop as a namespace container's
# init is (SIGPWR: halt), ended by its own reboot; and ct create --image
# --vm.  Uses ctv and vm_layout from t_image_ct.sh.

# init_rootfs DIR: the test rootfs with /sbin/init -> busybox and an
# inittab whose sysinit line says who PID 1 is and what /proc shows.
init_rootfs() {
	local r=$1
	rm -rf "$r" && cp -a "$work/rootfs" "$r" && mkdir -p "$r/sbin" "$r/proc"
	ln -s ../bin/busybox "$r/sbin/init"
	cat > "$r/etc/inittab" <<'EOF'
::sysinit:/bin/sh -c 'echo "ct-init-marker pid1-exe=$(readlink /proc/1/exe) ppid=$PPID host=$(hostname) procs=$(cd /proc && ls -d [0-9]* | wc -l)"'
::respawn:/bin/sleep 1000
::shutdown:/bin/echo ct-shutdown-marker
EOF
}

# wait_log LOG PATTERN COUNT: until LOG has COUNT lines matching PATTERN.
wait_log() {
	for _ in $(seq 300); do
		[ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.5
	done
	fail "no $3 x '$2' in $1: $(cat "$1" 2>&1)"
}

# expect_stopped NAME PID: ct status says stopped and the VMM PID is gone.
expect_stopped() {
	expect_eq "state of $1" "$(ctv status --json "$1" | jq -r .state)" stopped
	[ ! -e "/proc/$2" ] || fail "the VMM $2 still runs"
}

# The guest's PID 1 is the container's busybox init (not hull's guest
# init), /proc is its pid namespace's; ct restart and ct stop halt it
# cleanly (its shutdown action runs, well before the timeout), restart
# boots a fresh VM, and start works again after a stop.
test_ct_vm_busybox_init_pid1() {
	local r=$work/ct-init-rootfs n=vminit log pid t0 took verb
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	ctv create "$n" --rootfs "$r" --vm --ip none   # networking: t_net.sh
	log=$work/ctlib/ct/$n/console.log
	ctv start "$n"
	for round in 1 2 3; do
		wait_log "$log" ct-init-marker "$round"
		grep ct-init-marker "$log" | tail -n1 |
			grep -q "pid1-exe=/bin/busybox ppid=1 host=$n procs=[1-9]\$" ||
			fail "PID 1 is not the container's init: $(cat "$log")"
		expect_eq "state" "$(ctv status --json "$n" | jq -r .state)" running
		pid=$(ctv status --json "$n" | jq -r .pid)
		sleep 1   # the respawn line has started
		verb=stop
		[ "$round" = 1 ] && verb=restart
		t0=$SECONDS
		ctv "$verb" --timeout 120 "$n"
		took=$((SECONDS - t0))
		[ "$took" -lt 60 ] || fail "round $round: $verb took ${took}s: killed at the timeout? console: $(tail -n 30 "$log")"
		expect_eq "shutdown actions run" "$(grep -c ct-shutdown-marker "$log")" "$round"
		expect_eq "halts" "$(grep -c "Requesting system halt" "$log")" "$round"
		[ ! -e "/proc/$pid" ] || fail "the VMM $pid still runs after $verb"
		if [ "$verb" = restart ]; then
			expect_eq "state after restart" "$(ctv status --json "$n" | jq -r .state)" running
		else
			expect_stopped "$n" "$pid"
			if [ "$round" = 2 ]; then ctv start "$n"; fi
		fi
	done
	ctv destroy "$n"
	[ ! -e "$work/state/ct-$n" ] || fail "state left"
}

# A reboot inside the guest (busybox reboot: the init's reboot(2) in its
# pid namespace, which the kernel turns into SIGHUP for the init) ends
# the VM at once: ct status says stopped without a ct stop.
test_ct_vm_init_reboot_ends_vm() {
	local r=$work/ct-reboot-rootfs n=vmreboot log pid
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	echo '::once:/bin/sh -c "sleep 1; echo ct-rebooting; reboot"' >> "$r/etc/inittab"
	ctv create "$n" --rootfs "$r" --vm --ip none   # networking: t_net.sh
	log=$work/ctlib/ct/$n/console.log
	ctv start "$n"
	pid=$(ctv status --json "$n" | jq -r .pid)
	wait_log "$log" ct-rebooting 1
	for _ in $(seq 120); do
		[ -e "/proc/$pid" ] || break
		sleep 0.5
	done
	expect_stopped "$n" "$pid"
	grep -q ct-shutdown-marker "$log" || fail "no clean shutdown: $(cat "$log")"
	ctv destroy "$n"
}

# ct create --image REF --vm: the image (an OCI layout made here, with
# busybox init) is unpacked once and overlaid; ct start boots that root
# as the guest's disk, its init as PID 1; stop, destroy.
test_ct_vm_from_image() {
	local r=$work/ct-img-rootfs n=vmimgct log pid
	export HULL_IMAGE_STORE=$work/store
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	command -v mkfs.erofs >/dev/null || { echo "skipped: no mkfs.erofs"; return 0; }
	init_rootfs "$r"
	echo "from-image" > "$r/etc/image-marker"
	sed -i 's|^::sysinit:.*|::sysinit:/bin/sh -c "echo ct-init-marker $(cat /etc/image-marker) pid1-exe=$(readlink /proc/1/exe)"|' \
		"$r/etc/inittab"
	vm_layout "$work/layout-ct" vmctimg:1 '{"Cmd":["/bin/sh"]}' "$r" > /dev/null
	ihull image import "$work/layout-ct"
	ctv create "$n" --image vmctimg:1 --vm --ip none
	expect_eq "saved isolation" "$(jq -r .isolation "$work/ctlib/ct/$n/ct.json")" vm
	log=$work/ctlib/ct/$n/console.log
	ctv start "$n"
	wait_log "$log" ct-init-marker 1
	grep -q "ct-init-marker from-image pid1-exe=/bin/busybox" "$log" ||
		fail "not the image's init as PID 1: $(cat "$log")"
	pid=$(ctv status --json "$n" | jq -r .pid)
	ctv stop --timeout 120 "$n"
	grep -q ct-shutdown-marker "$log" || fail "no clean shutdown: $(cat "$log")"
	expect_stopped "$n" "$pid"
	ctv destroy "$n"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
}

# ct exec and ct enter of a ct --vm container run in the guest, in the
# container's pid namespace (its PID 1 is the container's busybox init,
# not hull's guest init), with the exit status; enter with stdin not a
# terminal reads its commands from stdin.
test_ct_vm_exec_enter() {
	local r=$work/ct-exec-rootfs n=vmexec log st out
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	init_rootfs "$r"
	ctv create "$n" --rootfs "$r" --vm --ip none
	log=$work/ctlib/ct/$n/console.log
	ctv start "$n"
	wait_log "$log" ct-init-marker 1
	out=$(ctv exec "$n" -- sh -c 'readlink /proc/1/exe; tr "\0" " " < /proc/1/cmdline; echo')
	expect_eq "PID 1 seen by exec" "$(echo "$out" | head -n1)" /bin/busybox
	case $(echo "$out" | sed -n 2p) in *init*) ;; *) fail "PID 1's cmdline: $out" ;; esac
	st=0
	ctv exec "$n" -- sh -c 'exit 3' || st=$?
	expect_eq "exec status" "$st" 3
	st=0
	out=$(printf 'echo entered $(hostname)\nreadlink /proc/1/exe\nexit 5\n' | ctv enter "$n") || st=$?
	expect_eq "enter status" "$st" 5
	expect_eq "enter output" "$(echo "$out" | tr '\n' ' ')" "entered $n /bin/busybox "
	ctv stop --timeout 60 "$n"
	ctv destroy "$n"
}
