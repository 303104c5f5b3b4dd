# config-linux.md: namespaces, id mappings, devices, cgroups, sysctl,
# seccomp, rootfs propagation, masked and read-only paths, mountLabel,
# personality — each observed from inside the container.

NS_KINDS="pid net ipc uts mnt cgroup"

# ns_ids: "kind:inode ..." of this shell's namespaces (the runtime's).
ns_ids() {
	local k
	for k in $NS_KINDS; do printf '%s:%s\n' "$k" "$(readlink /proc/self/ns/$k)"; done
}
NS_SCRIPT='for k in pid net ipc uts mnt cgroup; do echo "$k:$(readlink /proc/self/ns/$k)"; done'

# linux.namespaces: each listed type is new, each unlisted one is the
# runtime's own.
ct_namespaces() {
	local out host k
	host=$(ns_ids)
	newb
	out=$(inside "$NS_SCRIPT") || return 1
	for k in $NS_KINDS; do
		[ "$(printf '%s\n' "$out" | grep "^$k:")" != "$(printf '%s\n' "$host" | grep "^$k:")" ] ||
			fail "namespace $k listed but shared with the host" || return 1
	done
	# only mount and pid: net, ipc, uts and cgroup are the host's
	cfg 'del(.hostname) | .linux.namespaces = [{type: "mount"}, {type: "pid"}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))'
	out=$(inside "$NS_SCRIPT") || return 1
	for k in net ipc uts cgroup; do
		want "unlisted namespace $k" "$(printf '%s\n' "$out" | grep "^$k:")" \
			"$(printf '%s\n' "$host" | grep "^$k:")" || return 1
	done
	for k in mnt pid; do
		[ "$(printf '%s\n' "$out" | grep "^$k:")" != "$(printf '%s\n' "$host" | grep "^$k:")" ] ||
			fail "namespace $k listed but shared with the host" || return 1
	done
}

# linux.namespaces[].path: join the namespaces of a process we started.
ct_namespaces_join() {
	local out pid k rc=0
	unshare --uts --ipc --net sleep 60 &
	pid=$!
	sleep 0.3
	newb
	cfg 'del(.hostname) | .linux.namespaces = [{type: "mount"}, {type: "pid"},
		{type: "uts", path: $A[0]}, {type: "ipc", path: $A[1]}, {type: "network", path: $A[2]}]' \
		/proc/$pid/ns/uts /proc/$pid/ns/ipc /proc/$pid/ns/net
	out=$(inside 'for k in uts ipc net; do echo "$k:$(readlink /proc/self/ns/$k)"; done') || rc=1
	for k in uts ipc net; do
		[ $rc -eq 0 ] || break
		want "joined $k" "$(printf '%s\n' "$out" | grep "^$k:")" "$k:$(readlink /proc/$pid/ns/$k)" || rc=1
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
	return $rc
}

# linux.uidMappings / gidMappings with a user namespace.
ct_user_namespace_mappings() {
	local out
	newb
	cfg '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	out=$(inside 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/busybox') || return 1
	want "maps, ids, unmapped owner" "$(printf '%s\n' "$out" | tr -s ' ' ' ' | sed 's/^ //')" "0 100000 65536
0 200000 65536
0
0
65534:65534"
}

# devices: the default devices, /dev/ptmx, /dev/pts, and linux.devices;
# a device node without an allow rule (1:11, /dev/kmsg) cannot be opened.
ct_devices() {
	local out
	newb
	cfg '.linux.devices = [{path: "/dev/conf0", type: "c", major: 1, minor: 3,
			fileMode: 416, uid: 0, gid: 0},
		{path: "/dev/sub/conf1", type: "c", major: 1, minor: 5, fileMode: 438, uid: 1000, gid: 1000},
		{path: "/dev/conf-denied", type: "c", major: 1, minor: 11}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 3, access: "rwm"},
			{allow: true, type: "c", major: 1, minor: 5, access: "rwm"}]'
	out=$(inside 'for d in null zero full random urandom tty conf0 sub/conf1; do
			echo "$d $(stat -c "%F %t:%T" /dev/$d)"; done
		stat -c "%a %u:%g" /dev/conf0 /dev/sub/conf1
		echo x > /dev/null && echo null-ok
		head -c 4 /dev/zero | od -An -tx1
		for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done
		awk "\$5 == \"/dev/pts\" {print \$9}" /proc/self/mountinfo
		exec 3<>/dev/ptmx && ls /dev/pts
		head -c 1 /dev/conf-denied 2>&1 | grep -o "Operation not permitted"') || return 1
	want "devices" "$(printf '%s\n' "$out" | tr -s ' ' ' ')" "null character special file 1:3
zero character special file 1:5
full character special file 1:7
random character special file 1:8
urandom character special file 1:9
tty character special file 5:0
conf0 character special file 1:3
sub/conf1 character special file 1:5
640 0:0
666 1000:1000
null-ok
 00 00 00 00
ptmx -> pts/ptmx
fd -> /proc/self/fd
stdin -> /proc/self/fd/0
stdout -> /proc/self/fd/1
stderr -> /proc/self/fd/2
devpts
0
ptmx
Operation not permitted"
}

# cg_of PID CONTROLLER: the cgroup v1 path of PID in CONTROLLER.
cg_of() { awk -F: -v c="$2" '$2 == c {print $3}' "/proc/$1/cgroup"; }

# linux.cgroupsPath and linux.resources: the limits, seen from inside the
# container (its cgroup mount) and from the host (the path).
ct_cgroups() {
	local out pid path="/hull-conf-$ID"
	[ -d /sys/fs/cgroup/memory ] || skip "not a cgroup v1 host (the checks read v1 files)"
	newb
	cfg '.linux.cgroupsPath = $A[0] | .linux.resources += {
		memory: {limit: 67108864}, pids: {limit: 42},
		cpu: {shares: 256, quota: 20000, period: 100000}}' "$path"
	out=$(inside 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
		/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us') || return 1
	want "limits seen inside" "$out" "67108864
42
256
20000
100000" || return 1
	script 'sleep 30'
	create_bg "$ID-c" || return 1
	pid=$(st "$ID-c" pid)
	want "memory cgroup path" "$(cg_of "$pid" memory)" "$path" || return 1
	want "pids cgroup path" "$(cg_of "$pid" pids)" "$path" || return 1
	want "host memory limit" "$(cat /sys/fs/cgroup/memory$path/memory.limit_in_bytes)" 67108864 || return 1
	want "host pids limit" "$(cat /sys/fs/cgroup/pids$path/pids.max)" 42 || return 1
	rt delete --force "$ID-c" || return 1
	[ ! -e /sys/fs/cgroup/memory$path ] || fail "cgroup $path left after delete" || return 1
	cgroups_more
}

# More of linux.resources (memory reservation, swap, swappiness; cpuset;
# blkio throttling of the root disk), and a relative cgroupsPath, which a
# runtime places where it likes (config-linux.md: MAY), under its name.
cgroups_more() {
	local out pid dev
	dev=$(stat -c '%D' "$B/rootfs/bin/busybox")
	dev=$(( 0x$dev >> 8 )):$(( 0x$dev & 0xff ))
	newb b2
	cfg '.linux.cgroupsPath = $A[0] | .linux.resources += {
		memory: {limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 10},
		cpu: {cpus: "0", mems: "0"},
		blockIO: {throttleReadBpsDevice: [{major: ($A[1] | split(":")[0] | tonumber),
			minor: ($A[1] | split(":")[1] | tonumber), rate: 1048576}]}}' "hull-conf-rel-$ID" "$dev"
	out=$(inside 'cd /sys/fs/cgroup; cat memory/memory.soft_limit_in_bytes memory/memory.memsw.limit_in_bytes \
		memory/memory.swappiness cpuset/cpuset.cpus cpuset/cpuset.mems blkio/blkio.throttle.read_bps_device') || return 1
	want "memory reservation, swap, swappiness; cpuset; blkio" "$out" "33554432
134217728
10
0
0
$dev 1048576" || return 1
	script 'sleep 30'
	create_bg "$ID-r" || return 1
	pid=$(st "$ID-r" pid)
	has "relative cgroupsPath" "$(cg_of "$pid" memory)" "/hull-conf-rel-$ID" || return 1
	rt delete --force "$ID-r"
}

# linux.sysctl: values set in the container's namespaces only.
ct_sysctl() {
	local out before
	newb
	before=$(cat /proc/sys/net/core/somaxconn)
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.core.somaxconn": "77",
		"kernel.shmmax": "123456789"}'
	out=$(inside 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmax') || return 1
	want "sysctls" "$out" "1
77
123456789" || return 1
	want "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$before"
}

# linux.seccomp: an errno action (default EPERM, and errnoRet), with and
# without noNewPrivileges.
ct_seccomp() {
	local out
	newb
	cfg '.root.readonly = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"},
			{names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
	out=$(inside 'mkdir /tmp/d 2>&1; touch /tmp/f; chmod 600 /tmp/f 2>&1; echo alive') || return 1
	has "mkdir denied with EPERM" "$out" "Operation not permitted" || return 1
	has "chmod denied with errnoRet 13" "$out" "Permission denied" || return 1
	has "other syscalls allowed" "$out" alive || return 1
	# Without noNewPrivileges the filter needs CAP_SYS_ADMIN to load,
	# which the process (default capabilities, or a user) does not keep.
	cfg '.process.noNewPrivileges = false'
	out=$(inside 'mkdir /tmp/d 2>&1; echo alive') || return 1
	has "noNewPrivileges false: mkdir denied" "$out" "Operation not permitted" || return 1
	cfg '.process.user = {uid: 1000, gid: 1000}'
	out=$(inside 'mkdir /tmp/d 2>&1; echo alive') || return 1
	has "noNewPrivileges false, uid 1000: mkdir denied" "$out" "Operation not permitted"
}

# linux.rootfsPropagation: the propagation of / inside, and nothing the
# runtime mounts for the container may propagate back into the runtime's
# namespace.  The work directory is a shared mount (run.sh), as / is on a
# systemd host; in the second round the rootfs is a shared mount itself,
# as an engine's overlay is.
ct_rootfs_propagation() {
	local out p before round
	newb
	for round in dir mountpoint; do
		if [ $round = mountpoint ]; then
			mount --bind "$B/rootfs" "$B/rootfs" && mount --make-shared "$B/rootfs" || return 1
		fi
		for p in shared rshared slave private unbindable; do
			before=$(grep -c " $W" /proc/self/mountinfo)
			cfg '.linux.rootfsPropagation = $A[0]' "$p"
			out=$(inside 'awk "\$5 == \"/\"" /proc/self/mountinfo') || return 1
			want "$p ($round): mounts in the runtime's namespace" \
				"$(grep -c " $W" /proc/self/mountinfo)" "$before" || return 1
			case $p in
			*shared) has "$p" "$out" " shared:" ;;
			slave | private) hasnt "$p" "$out" " shared:" ;;
			unbindable) has "$p" "$out" " unbindable" ;;
			esac || return 1
		done
	done
	umount "$B/rootfs"
}

# linux.maskedPaths: files read empty, directories are empty and
# read-only, the defaults included.
ct_masked_paths() {
	local out
	newb
	mkdir -p "$B/rootfs/etc/mdir"
	echo secret >"$B/rootfs/etc/mfile"
	echo secret >"$B/rootfs/etc/mdir/f"
	cfg '.linux.maskedPaths += ["/etc/mfile", "/etc/mdir", "/does/not/exist"]'
	out=$(inside 'echo "[$(cat /etc/mfile)][$(ls -A /etc/mdir)][$(head -c 8 /proc/kcore | wc -c)]"
		touch /etc/mdir/x 2>/dev/null && echo mdir-writable; ls -A /sys/firmware | wc -l') || return 1
	want "masked" "$out" "[][][0]
0"
}

# linux.readonlyPaths: read-only inside, the rest of the root writable.
ct_readonly_paths() {
	local out
	newb
	mkdir -p "$B/rootfs/opt/ro"
	cfg '.root.readonly = false | .linux.readonlyPaths += ["/opt/ro"]'
	out=$(inside 'touch /opt/ro/x 2>/dev/null && echo ro-writable; touch /opt/rw && echo rw-ok
		echo x > /proc/sys/kernel/hostname 2>/dev/null && echo procsys-writable
		awk "\$5 == \"/opt/ro\" {print \$6}" /proc/self/mountinfo | cut -d, -f1') || return 1
	want "readonlyPaths" "$out" "rw-ok
ro"
}

# linux.mountLabel needs SELinux.
ct_mount_label() {
	[ -d /sys/fs/selinux ] && [ -n "$(ls -A /sys/fs/selinux 2>/dev/null)" ] ||
		skip "SELinux is not enabled on this machine: mountLabel cannot be observed"
	fail "mountLabel test not written for SELinux hosts"
}

# linux.personality: LINUX32 makes uname report a 32-bit machine.
ct_personality() {
	local out
	newb
	cfg '.linux.personality = {domain: "LINUX32"}'
	out=$(inside 'uname -m') || return 1
	want "uname -m under LINUX32" "$out" i686
}
