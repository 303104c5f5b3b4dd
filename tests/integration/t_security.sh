# Regression tests for the known container-escape classes.

# (a) CVE-2024-21626 class: no host fd or host cwd reaches the container.

# fds the test hands hull (5, 6, 7) must not reach the container either.
# the shell lists its own fds with ls and no pipeline, so that the list
# holds only what the runtime gave it
FD_SCRIPT='ls /proc/$$/fd; echo --; readlink /proc/$$/cwd; readlink /proc/$$/root'
fds_of() { echo "$1" | sed '/^--$/,$d' | sort -n | tr '\n' ' '; }

# fds the test hands hull (5, 6, 7) must not reach the container
test_sec_no_leaked_fds_run() {
	make_bundle "$B"
	set_argv "$B" sh -c "$FD_SCRIPT"
	out=$(ht run --bundle "$B" "${IDPREFIX}a" 5<"$TESTROOT" 6<"$B/config.json" 7>>"$TESTROOT/null-$IDPREFIX")
	rm -f "$TESTROOT/null-$IDPREFIX"
	expect_eq "fds" "$(fds_of "$out")" "0 1 2 "
	expect_eq "cwd and root" "$(echo "$out" | sed '1,/^--$/d')" "/
/"
}

test_sec_no_leaked_fds_exec() {
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a" 5<"$TESTROOT"
	out=$(ht exec "${IDPREFIX}a" sh -c "$FD_SCRIPT" 5<"$TESTROOT" 6<"$B/config.json")
	init=$(ht exec "${IDPREFIX}a" ls /proc/1/fd)
	h delete --force "${IDPREFIX}a"
	expect_eq "exec fds" "$(fds_of "$out")" "0 1 2 "
	expect_eq "exec cwd and root" "$(echo "$out" | sed '1,/^--$/d')" "/
/"
	expect_eq "init fds" "$(fds_of "$init")" "0 1 2 "
}

# process.cwd = /proc/self/fd/N: whatever hull holds open at that moment
# (state dir, cgroup dirs, ...) must not become the container's cwd.  A
# host cwd would let `../../..` climb to the host's root, where a secret
# of the test waits.
SECRET_SCRIPT='cat ../../../../../../../../..$SECRET 2>/dev/null; readlink /proc/self/cwd; true'

test_sec_cwd_proc_self_fd_run() {
	export SECRET=$TESTROOT/secret-$IDPREFIX
	echo "HOST-SECRET" > "$SECRET"
	make_bundle "$B"
	set_argv "$B" sh -c "$SECRET_SCRIPT"
	for n in 3 4 5 6 7 8 9 10 11 12; do
		cfg "$B" '.process.cwd = $A[0]' "/proc/self/fd/$n"
		set +e
		out=$(ht run --bundle "$B" "${IDPREFIX}a" 5<"$TESTROOT" 2>&1)
		set -e
		h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
		case "$out" in
		*HOST-SECRET*|*"$TESTROOT"*|*/sys/fs/cgroup*) fail "cwd /proc/self/fd/$n escapes: $out" ;;
		esac
	done
	rm -f "$SECRET"
}

test_sec_cwd_proc_self_fd_exec() {
	export SECRET=$TESTROOT/secret-$IDPREFIX
	echo "HOST-SECRET" > "$SECRET"
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	for n in 3 4 5 6 7 8 9 10 11 12; do
		set +e
		out=$(ht exec --cwd "/proc/self/fd/$n" "${IDPREFIX}a" sh -c "$SECRET_SCRIPT" 5<"$TESTROOT" 2>&1)
		set -e
		case "$out" in
		*HOST-SECRET*|*"$TESTROOT"*|*/sys/fs/cgroup*) fail "exec --cwd /proc/self/fd/$n escapes: $out" ;;
		esac
	done
	h delete --force "${IDPREFIX}a"
	rm -f "$SECRET"
}

# (b) CVE-2019-5736 class: while hull execs into the container, nothing
# the container can reach through /proc/*/exe is hull's binary (or any
# other writable host binary).
test_sec_hull_binary_not_writable() {
	before=$(sha256sum < "$HULL")
	bb_before=$(sha256sum < "$BUSYBOX")
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	set_argv "$B" sh -c 'n=0; : > /tmp/w
		while :; do
			for p in /proc/[0-9]*; do
				[ "$p" = /proc/$$ ] && continue
				{ echo x > $p/exe; } 2>/dev/null && echo "WROTE $p $(readlink $p/exe)" >> /tmp/w
			done
			n=$((n + 1)); echo $n > /tmp/n.t; mv /tmp/n.t /tmp/n
		done'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	wait_for 30 sh -c "\"$HULL\" --root \"$STATE\" exec ${IDPREFIX}a cat /tmp/n >/dev/null 2>&1"
	for i in $(seq 15); do
		ht exec "${IDPREFIX}a" true
		ht exec "${IDPREFIX}a" sh -c 'echo x > /proc/self/exe' 2>/dev/null || true
	done
	wrote=$(ht exec "${IDPREFIX}a" cat /tmp/w)
	loops=$(ht exec "${IDPREFIX}a" cat /tmp/n)
	h delete --force "${IDPREFIX}a"
	expect_eq "writes to /proc/*/exe" "$wrote" ""
	[ "${loops:-0}" -gt 0 ] || fail "the attacker loop did not run (n='$loops')"
	expect_eq "hull binary unchanged" "$(sha256sum < "$HULL")" "$before"
	expect_eq "host busybox unchanged" "$(sha256sum < "$BUSYBOX")" "$bb_before"
}

# the container's own /proc/self/exe is its busybox, busy while it runs
test_sec_self_exe_busy() {
	make_bundle "$B"
	cfg "$B" '.root.readonly = false'
	bb=$(sha256sum < "$B/rootfs/bin/busybox")
	out=$(run_sh 'echo x 2>&1 > /proc/self/exe; readlink /proc/self/exe; true')
	expect_contains "write to /proc/self/exe" "$out" "Text file busy"
	expect_contains "own exe" "$out" "/bin/busybox"
	expect_eq "busybox unchanged" "$(sha256sum < "$B/rootfs/bin/busybox")" "$bb"
}

# (c) symlinks in the rootfs pointing at host paths: a mount destination
# or a directory hull creates must resolve inside the rootfs.  Whether the
# container starts or fails, the host directory stays as it was.
host_dir_unchanged() {
	expect_eq "host dir $1" "$(ls -A "$1" | tr '\n' ' ')" "keep " || return 1
	expect_eq "host file" "$(cat "$1/keep")" "original"
}

make_hostdir() {
	hd=$TESTROOT/hostdir-$IDPREFIX
	mkdir -p "$hd"
	echo original > "$hd/keep"
}

test_sec_symlink_mount_destination() {
	make_hostdir
	make_bundle "$B"
	ln -s "$hd" "$B/rootfs/evil"
	cfg "$B" '.mounts += [{destination: "/evil", type: "tmpfs", source: "tmpfs"},
		{destination: "/evil2/sub", type: "tmpfs", source: "tmpfs"}]'
	ln -s "$hd" "$B/rootfs/evil2"
	set +e; out=$(run_sh 'echo inside > /evil/planted; echo inside > /evil2/sub/planted; ls /evil' 2>&1); set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	host_dir_unchanged "$hd"
	rm -rf "$hd"
}

test_sec_symlink_bind_destination() {
	make_hostdir
	echo data > "$TESTROOT/src-$IDPREFIX"
	make_bundle "$B"
	ln -s "$hd" "$B/rootfs/evil"
	cfg "$B" '.mounts += [{destination: "/evil/file.conf", type: "bind",
		source: $A[0], options: ["bind"]},
		{destination: "/evil/dir/deeper", type: "bind", source: $A[1],
		options: ["rbind"]}]' "$TESTROOT/src-$IDPREFIX" "$TESTROOT"
	set +e; out=$(run_sh 'cat /evil/file.conf' 2>&1); set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	rm -f "$TESTROOT/src-$IDPREFIX"
	host_dir_unchanged "$hd"
	rm -rf "$hd"
}

test_sec_symlink_dev() {
	make_hostdir
	make_bundle "$B"
	rmdir "$B/rootfs/dev"
	ln -s "$hd" "$B/rootfs/dev"
	cfg "$B" '.linux.devices = [{path: "/dev/mynull", type: "c", major: 1, minor: 3}]'
	set +e; out=$(run_sh 'ls /dev' 2>&1); set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	host_dir_unchanged "$hd"
	rm -rf "$hd"
}

test_sec_symlink_proc() {
	make_hostdir
	make_bundle "$B"
	rmdir "$B/rootfs/proc"
	ln -s "$hd" "$B/rootfs/proc"
	set +e; out=$(run_sh 'cat /proc/self/status >/dev/null && echo proc-ok' 2>&1); rc=$?; set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	host_dir_unchanged "$hd"
	rm -rf "$hd"
	# procfs on a symlinked /proc is refused, or lands inside the rootfs
	[ "$rc" -ne 0 ] || expect_eq "proc inside" "$out" proc-ok
}

test_sec_symlink_masked_and_readonly_paths() {
	make_hostdir
	make_bundle "$B"
	ln -s "$hd" "$B/rootfs/evil"
	cfg "$B" '.root.readonly = false | .linux.maskedPaths += ["/evil/keep", "/evil"] |
		.linux.readonlyPaths += ["/evil"]'
	set +e; out=$(run_sh 'true' 2>&1); set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	host_dir_unchanged "$hd"
	rm -rf "$hd"
}

# the bundle's rootfs itself may be a symlink (that is the bundle's
# choice), but the cwd may not lead outside it
test_sec_cwd_symlink_out() {
	make_hostdir
	make_bundle "$B"
	ln -s "$hd" "$B/rootfs/evil"
	cfg "$B" '.process.cwd = "/evil"'
	set +e; out=$(run_sh 'ls; pwd' 2>&1); set -e
	h delete --force "${IDPREFIX}a" >/dev/null 2>&1 || true
	case "$out" in
	*keep*) fail "cwd /evil reached the host dir: $out" ;;
	esac
	host_dir_unchanged "$hd"
	rm -rf "$hd"
}

# (d) masked and read-only kernel interfaces.
test_sec_masked_kernel_files() {
	make_bundle "$B"
	out=$(run_sh 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
			[ -e $f ] && echo "$f:$(head -c 64 $f | wc -c)"
		done
		echo "firmware:$(ls -A /sys/firmware | wc -l)"
		umount /proc/kcore 2>/dev/null && echo unmounted-kcore
		echo h 2>/dev/null > /proc/sysrq-trigger && echo sysrq-written
		touch /sys/kernel/x 2>/dev/null && echo sys-written
		echo 1 2>/dev/null > /proc/sys/kernel/ns_last_pid && echo procsys-written
		true')
	for l in $(echo "$out" | grep ^/proc/); do
		expect_eq "masked ${l%%:*}" "${l#*:}" 0
	done
	# this kernel may lack /proc/kcore; /proc/keys is there
	[ ! -e /proc/kcore ] || expect_contains "kcore checked" "$out" "/proc/kcore:0"
	expect_contains "keys checked" "$out" "/proc/keys:0"
	expect_contains "/sys/firmware" "$out" "firmware:0"
	for bad in unmounted-kcore sysrq-written sys-written procsys-written; do
		case "$out" in *$bad*) fail "$bad" ;; esac
	done
}

test_sec_default_privileges() {
	make_bundle "$B"
	out=$(run_sh 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | tr "\t" " "
		ls /proc | grep -c "^[0-9]"')
	# hull spec: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
	expect_contains "effective caps" "$out" "CapEff: 0000000020000420"
	expect_contains "bounding caps" "$out" "CapBnd: 0000000020000420"
	expect_contains "no_new_privs" "$out" "NoNewPrivs: 1"
	[ "$(echo "$out" | tail -n 1)" -le 3 ] || fail "host processes visible"
}

# devices the cgroup does not allow can not be made or opened
test_sec_device_cgroup() {
	make_bundle "$B"
	cfg "$B" '.root.readonly = false | .process.capabilities.bounding += ["CAP_MKNOD"] |
		.process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	disk=$(awk '$5 == "/" {print $3}' /proc/self/mountinfo)
	out=$(run_sh "mknod /tmp/disk b ${disk%%:*} ${disk##*:} 2>&1; head -c 1 /tmp/disk 2>&1 >/dev/null; true")
	expect_contains "block device" "$out" "Operation not permitted"
}
