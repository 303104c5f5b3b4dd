# podman, the rest: resources, pause, top, stats, networks, security
# options, user namespaces, volumes, healthchecks.

pm_pid() { pm inspect -f '{{.State.Pid}}' "$1"; }

test_podman_resources_in_cgroup() {
	local pid
	pm run -d --name pr1 --memory 64m --cpus 0.5 --pids-limit 50 "$IMG" sleep 300 >/dev/null
	pid=$(pm_pid pr1)
	expect_eq "memory" "$(cg_read "$pid" memory memory.limit_in_bytes memory.max)" 67108864
	expect_eq "cpu quota" "$(cg_read "$pid" cpu cpu.cfs_quota_us cpu.max | awk '{print $1}')" 50000
	expect_eq "cpu period" "$(cg_read "$pid" cpu cpu.cfs_period_us cpu.max | awk '{print $NF}')" 100000
	expect_eq "pids" "$(cg_read "$pid" pids pids.max pids.max)" 50
	# seen from inside as well
	expect_contains "inside" "$(pm exec pr1 cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || pm exec pr1 cat /sys/fs/cgroup/pids.max)" 50
	# and podman update changes it live (the runtime's update verb)
	pm update --memory 96m pr1 >/dev/null
	expect_runtime_used update
	expect_eq "memory after update" "$(cg_read "$pid" memory memory.limit_in_bytes memory.max)" 100663296
}

test_podman_pids_limit_bites() {
	local out
	out=$(pm run --rm --pids-limit 10 "$IMG" sh -c 'for i in $(seq 1 30); do sleep 5 & done 2>&1 | head -n 1; echo done')
	expect_contains "fork past the limit" "$out" "Resource temporarily unavailable"
}

test_podman_pause_unpause() {
	local pid t
	pm run -d --name pp1 "$IMG" sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done' >/dev/null
	pm pause pp1 >/dev/null
	expect_eq "status" "$(pm inspect -f '{{.State.Status}}' pp1)" paused
	expect_runtime_used pause
	pid=$(pm_pid pp1)
	expect_eq "freezer" "$(cg_read "$pid" freezer freezer.state cgroup.freeze)" FROZEN
	t=$(cat "/proc/$pid/root/tmp/n"); sleep 0.5
	expect_eq "counter frozen" "$(cat "/proc/$pid/root/tmp/n")" "$t"
	pm unpause pp1 >/dev/null
	expect_runtime_used resume
	expect_eq "status" "$(pm inspect -f '{{.State.Status}}' pp1)" running
	sleep 0.5
	[ "$(cat "/proc/$pid/root/tmp/n")" != "$t" ] || fail "counter still frozen after unpause"
}

test_podman_top_stats() {
	local out
	pm run -d --name pt1 "$IMG" sh -c 'sleep 301 & sleep 302 & wait' >/dev/null
	wait_for 10 sh -c "[ \$(ps -eo args | grep -c '^sleep 30[12]') -ge 2 ]"
	out=$(pm top pt1)
	expect_contains "top" "$out" "sleep 301"
	expect_contains "top" "$out" "sleep 302"
	out=$(pm stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' pt1)
	expect_contains "stats" "$out" "pt1 3 "
}

test_podman_network_none() {
	local out
	out=$(pm run --rm --network none "$IMG" sh -c 'ls /sys/class/net | tr "\n" " "')
	expect_eq "interfaces" "$out" "lo "
}

test_podman_bridge_ping() {
	local ip1 out
	pm run -d --name pn1 "$IMG" sleep 300 >/dev/null
	ip1=$(pm inspect -f '{{.NetworkSettings.IPAddress}}' pn1)
	[ -n "$ip1" ] || fail "no address on the default network"
	pm run -d --name pn2 "$IMG" sleep 300 >/dev/null
	out=$(pm exec pn2 ping -c 2 -W 3 "$ip1")
	expect_contains "ping" "$out" "2 packets received"
	# the bridge is in the test's network namespace, not the host's
	! ip link show cni-podman0 >/dev/null 2>&1 || fail "a cni-podman0 bridge in the host's namespace"
	ip -n "$NETNS" link show cni-podman0 >/dev/null || fail "no bridge in the test namespace"
}

test_podman_read_only() {
	local out
	out=$(pm run --rm --read-only "$IMG" sh -c 'touch /x 2>&1; touch /tmp/y && echo tmp-ok')
	expect_contains "rootfs read-only" "$out" "Read-only file system"
	expect_contains "/tmp writable" "$out" tmp-ok
}

test_podman_cap_drop_add() {
	local out
	out=$(pm run --rm --cap-drop CHOWN "$IMG" sh -c 'chown 1 /tmp 2>&1; grep CapEff /proc/self/status')
	expect_contains "chown without CAP_CHOWN" "$out" "Operation not permitted"
	out=$(pm run --rm "$IMG" sh -c 'ip addr add 10.9.9.9/32 dev lo 2>&1 && echo added; true')
	expect_contains "no NET_ADMIN by default" "$out" "Operation not permitted"
	out=$(pm run --rm --cap-add NET_ADMIN "$IMG" sh -c 'ip addr add 10.9.9.9/32 dev lo 2>&1 && echo added')
	expect_contains "with NET_ADMIN" "$out" added
	out=$(pm run --rm --cap-drop all "$IMG" grep CapEff /proc/self/status)
	expect_contains "cap-drop all" "$out" 0000000000000000
}

test_podman_seccomp() {
	local out
	out=$(pm run --rm "$IMG" sh -c 'grep "^Seccomp:" /proc/self/status')
	expect_contains "default profile" "$out" 2
	out=$(pm run --rm --security-opt seccomp=unconfined "$IMG" sh -c 'grep "^Seccomp:" /proc/self/status')
	expect_contains "unconfined" "$out" 0
	# a profile of our own that denies mkdir is applied
	cat > "$W/deny-mkdir.json" <<-'EOF2'
	{"defaultAction": "SCMP_ACT_ALLOW",
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
	EOF2
	out=$(pm run --rm --security-opt seccomp="$W/deny-mkdir.json" "$IMG" sh -c 'mkdir /tmp/d 2>&1; echo after')
	expect_contains "custom profile" "$out" "Operation not permitted"
}

test_podman_uidmap() {
	local out
	mkdir -p "$W/vol-u"
	chmod 1777 "$W/vol-u"
	out=$(pm run --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 -v "$W/vol-u:/data" "$IMG" \
		sh -c 'cat /proc/self/uid_map; id -u; touch /data/f')
	expect_contains "uid map" "$(echo $out)" "0 200000 65536"
	expect_eq "host owner of a file root made" "$(stat -c %u:%g "$W/vol-u/f")" 200000:200000
}

test_podman_volume() {
	local out
	mkdir -p "$W/vol"
	echo from-host > "$W/vol/in"
	out=$(pm run --rm -v "$W/vol:/data" "$IMG" sh -c 'cat /data/in; echo from-ct > /data/out')
	expect_eq "read" "$out" from-host
	expect_eq "write" "$(cat "$W/vol/out")" from-ct
	out=$(pm run --rm -v "$W/vol:/data:ro" "$IMG" sh -c 'echo x > /data/out2 2>&1 || echo ro-ok')
	expect_contains "read-only volume" "$out" ro-ok
	# a named volume keeps data from one container to the next
	pm run --rm -v hullvol:/v "$IMG" sh -c 'echo kept > /v/f'
	expect_eq "named volume" "$(pm run --rm -v hullvol:/v "$IMG" cat /v/f)" kept
	pm volume rm hullvol >/dev/null
}

test_podman_healthcheck() {
	local rc=0
	pm run -d --name ph1 --health-cmd 'test -e /tmp/ok' --health-interval 0 --health-retries 1 "$IMG" \
		sh -c 'touch /tmp/ok; sleep 300' >/dev/null
	wait_for 10 pm exec ph1 test -e /tmp/ok
	pm healthcheck run ph1 >/dev/null || fail "healthy container reported unhealthy"
	pm exec ph1 rm /tmp/ok
	pm healthcheck run ph1 >/dev/null 2>&1 || rc=$?
	expect_eq "unhealthy status" "$rc" 1
	expect_eq "health state" "$(pm inspect -f '{{.State.Health.Status}}' ph1)" unhealthy
}
