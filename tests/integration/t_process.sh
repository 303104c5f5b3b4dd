# Process attributes and namespaces not covered by t_config.sh: ioPriority,
# scheduler, execCPUAffinity, time namespace offsets, idmapped mounts,
# cgroup mounts, rootless single mapping, exec --process.

test_proc_io_priority() {
	make_bundle "$B"
	cfg "$B" '.process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}'
	out=$(run_sh 'ionice -p $$')
	expect_contains "ionice" "$out" "idle"
}

test_proc_scheduler_nice() {
	make_bundle "$B"
	cfg "$B" '.process.scheduler = {policy: "SCHED_BATCH", nice: 7}'
	# field 19 of /proc/self/stat is nice, 41 the policy (3 = SCHED_BATCH)
	out=$(run_sh 'set -- $(cat /proc/self/stat); shift 18; n=$1; shift 22; echo "$n $1"')
	expect_eq "nice and policy" "$out" "7 3"
}

test_proc_exec_cpu_affinity() {
	make_bundle "$B"
	cfg "$B" '.process.execCPUAffinity = {initial: "0", final: "0"}'
	out=$(run_sh 'grep Cpus_allowed_list /proc/self/status | tr -d "\t "')
	expect_eq "affinity" "$out" "Cpus_allowed_list:0"
}

test_proc_time_namespace_offsets() {
	[ -e /proc/self/ns/time ] || { echo "skipped: no time namespaces in this kernel"; return 0; }
	make_bundle "$B"
	cfg "$B" '.linux.namespaces += [{type: "time"}] |
		.linux.timeOffsets = {boottime: {secs: 86400000, nanosecs: 0}}'
	out=$(run_sh 'cut -d. -f1 /proc/uptime')
	[ "$out" -ge 86400000 ] || fail "uptime $out: boottime offset not applied"
}

test_proc_time_offsets_need_time_ns() {
	make_bundle "$B"
	cfg "$B" '.linux.timeOffsets = {boottime: {secs: 5, nanosecs: 0}}'
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "timeOffsets without a time ns" "$out" "$rc" "time"
}

test_proc_idmapped_bind_mount() {
	make_bundle "$B"
	mkdir -p "$TESTROOT/idm.$IDPREFIX"
	echo data > "$TESTROOT/idm.$IDPREFIX/f"
	# on-disk ids are the mapping's containerID side, as in runc: 0 -> 1000
	chown 0:0 "$TESTROOT/idm.$IDPREFIX/f"
	cfg "$B" '.mounts += [{destination: "/idm", type: "bind", source: $a0,
		options: ["bind", "idmap"],
		uidMappings: [{containerID: 0, hostID: 1000, size: 1}],
		gidMappings: [{containerID: 0, hostID: 1000, size: 1}]}]' "$TESTROOT/idm.$IDPREFIX"
	set +e; out=$(run_sh 'stat -c "%u %g" /idm/f' 2>&1); rc=$?; set -e
	rm -rf "$TESTROOT/idm.$IDPREFIX"
	case "$out" in
	*"not supported"*) echo "skipped: $out"; return 0 ;;
	esac
	expect_eq "exit" "$rc" 0
	expect_eq "owner through the idmapped mount" "$out" "1000 1000"
}

test_proc_cgroup_mount_is_own_cgroup() {
	make_bundle "$B"
	local procs=/sys/fs/cgroup/pids/cgroup.procs
	# a pure v2 host mounts one cgroup2 hierarchy
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && procs=/sys/fs/cgroup/cgroup.procs
	out=$(run_sh "cat $procs 2>/dev/null | wc -l; ls /sys/fs/cgroup | grep -c . ")
	set -- $out
	# only the container's own processes are visible in its pids cgroup
	[ "$1" -ge 1 ] && [ "$1" -le 3 ] || fail "pids cgroup shows $1 processes"
	[ "$2" -ge 1 ] || fail "no cgroup hierarchies mounted"
}

test_proc_rootless_single_mapping() {
	local u=65534
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	chown -R "$u:$u" "$B"
	(cd "$B" && setpriv --reuid $u --regid $u --clear-groups "$HULL" spec --rootless)
	set_args "$B" sh -c 'id -u; cat /proc/self/uid_map | tr -s " "'
	chown "$u:$u" "$B/config.json"
	mkdir -p "$STATE/rl"
	chown "$u:$u" "$STATE/rl"
	set +e
	out=$(setpriv --reuid $u --regid $u --clear-groups "$HULL" --root "$STATE/rl" run \
		--bundle "$B" "${IDPREFIX}a" 2>&1)
	rc=$?
	set -e
	case "$out" in
	*"Operation not permitted"*user*|*"user namespace"*"not permitted"*)
		echo "skipped: unprivileged user namespaces are disabled: $out"; rmdir "$STATE/rl"; return 0 ;;
	esac
	expect_eq "exit" "$rc" 0 || echo "$out"
	expect_eq "output" "$out" "0
 0 $u 1"
	[ -z "$(ls -A "$STATE/rl")" ] || fail "rootless state left: $(ls "$STATE/rl")"
	rmdir "$STATE/rl"
}

test_proc_exec_process_file() {
	make_bundle "$B" sleep 30
	ht run --detach --bundle "$B" "${IDPREFIX}a" </dev/null >/dev/null 2>&1
	cat > "$TESTROOT/proc.$IDPREFIX.json" <<'JSON'
{"args": ["sh", "-c", "echo $GREETING from $(pwd) as $(id -u):$(id -g); ulimit -n"],
 "env": ["PATH=/bin", "GREETING=hello"], "cwd": "/tmp",
 "user": {"uid": 1234, "gid": 5678},
 "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 77}],
 "noNewPrivileges": true}
JSON
	out=$(ht exec --process "$TESTROOT/proc.$IDPREFIX.json" "${IDPREFIX}a")
	rm -f "$TESTROOT/proc.$IDPREFIX.json"
	expect_eq "exec --process" "$out" "hello from /tmp as 1234:5678
77"
	ht delete --force "${IDPREFIX}a"
}

test_proc_exec_detach_pid_file() {
	make_bundle "$B" sleep 30
	ht run --detach --bundle "$B" "${IDPREFIX}a" </dev/null >/dev/null 2>&1
	ht exec --detach --pid-file "$TESTROOT/ep.$IDPREFIX" "${IDPREFIX}a" sleep 20 </dev/null >/dev/null 2>&1
	pid=$(cat "$TESTROOT/ep.$IDPREFIX")
	rm -f "$TESTROOT/ep.$IDPREFIX"
	[ -d "/proc/$pid" ] || fail "exec'd pid $pid not running"
	n=$(ht ps --format json "${IDPREFIX}a" | jq "index($pid) != null")
	expect_eq "exec'd process in the container's cgroup" "$n" true
	ht delete --force "${IDPREFIX}a"
}

test_proc_log_json() {
	set +e; "$HULL" --root "$STATE" --log "$TESTROOT/log.$IDPREFIX" --log-format json state nope 2>/dev/null; set -e
	line=$(cat "$TESTROOT/log.$IDPREFIX"); rm -f "$TESTROOT/log.$IDPREFIX"
	expect_eq "level" "$(printf '%s' "$line" | jq -r .level)" error
	expect_eq "msg" "$(printf '%s' "$line" | jq -r .msg)" 'container "nope" does not exist'
	printf '%s' "$line" | jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' >/dev/null
}
