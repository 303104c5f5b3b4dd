# update, events, pause/resume: live resource changes and what the
# cgroup reports.  Every test name contains "update" (run.sh update).

# cgval ID CONTROLLER V1FILE V2FILE: a cgroup file of the container, from
# the v1 hierarchy of CONTROLLER when it is mounted, else from cgroup v2.
cgval() {
	local f1=/sys/fs/cgroup/$2/hull/$1/$3 f2=/sys/fs/cgroup/hull/$1/$4
	if [ -e "$f1" ]; then cat "$f1"; else cat "$f2"; fi
}

is_v1() { [ -d "/sys/fs/cgroup/$1/hull" ]; }

# run_sleeper: a detached container that just sleeps.
run_sleeper() {
	make_bundle "$B" sh -c 'sleep 60; : hull-it-marker-'"$IDPREFIX"
	hq run --detach --bundle "$B" "${IDPREFIX}a"
}

test_update_memory() {
	run_sleeper
	ht update --memory 64m "${IDPREFIX}a"
	if is_v1 memory; then
		expect_eq "memory.limit_in_bytes" "$(cgval "${IDPREFIX}a" memory memory.limit_in_bytes x)" 67108864
	else
		expect_eq "memory.max" "$(cgval "${IDPREFIX}a" memory x memory.max)" 67108864
	fi
	# The new limit is saved: a later update is checked against it.
	set +e; out=$(ht update --memory-swap 32m "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "swap below the saved limit: exit" "$rc" 1
	expect_contains "swap below the saved limit" "$out" "memory.swap"
	expect_eq "saved config" "$(jq .linux.resources.memory.limit "$STATE/${IDPREFIX}a/config.json")" 67108864
	ht update --memory -1 "${IDPREFIX}a"
	expect_eq "saved config after -1" "$(jq .linux.resources.memory.limit "$STATE/${IDPREFIX}a/config.json")" -1
	ht delete --force "${IDPREFIX}a"
}

test_update_pids_limit() {
	run_sleeper
	ht update --pids-limit 25 "${IDPREFIX}a"
	expect_eq "pids.max" "$(cgval "${IDPREFIX}a" pids pids.max pids.max)" 25
	ht update --pids-limit -1 "${IDPREFIX}a"
	expect_eq "pids.max unlimited" "$(cgval "${IDPREFIX}a" pids pids.max pids.max)" max
	ht delete --force "${IDPREFIX}a"
}

test_update_resources_from_stdin() {
	run_sleeper
	echo '{"cpu":{"shares":512,"quota":50000,"period":100000}}' |
		ht update --resources - "${IDPREFIX}a"
	if is_v1 cpu; then
		expect_eq "cpu.shares" "$(cgval "${IDPREFIX}a" cpu cpu.shares x)" 512
		expect_eq "cpu.cfs_quota_us" "$(cgval "${IDPREFIX}a" cpu cpu.cfs_quota_us x)" 50000
		expect_eq "cpu.cfs_period_us" "$(cgval "${IDPREFIX}a" cpu cpu.cfs_period_us x)" 100000
	else
		expect_eq "cpu.max" "$(cgval "${IDPREFIX}a" cpu x cpu.max)" "50000 100000"
	fi
	# Flags override the document.
	echo '{"pids":{"limit":30}}' > "$TESTROOT/res.$IDPREFIX.json"
	ht update --resources "$TESTROOT/res.$IDPREFIX.json" --pids-limit 31 "${IDPREFIX}a"
	rm -f "$TESTROOT/res.$IDPREFIX.json"
	expect_eq "pids.max (flag wins)" "$(cgval "${IDPREFIX}a" pids pids.max pids.max)" 31
	ht delete --force "${IDPREFIX}a"
}

# expect_refused WHAT NEEDLE ARGS...: update fails with one "hull: " line.
expect_refused() {
	local what=$1 needle=$2 out rc
	shift 2
	set +e; out=$(ht update "$@" 2>&1 </dev/null); rc=$?; set -e
	expect_eq "$what: exit" "$rc" 1 || return 1
	expect_eq "$what: lines" "$(printf '%s\n' "$out" | wc -l)" 1 || fail "$what: $out" || return 1
	expect_contains "$what" "$out" "hull: " && expect_contains "$what" "$out" "$needle"
}

test_update_bad_value_changes_nothing() {
	local mem pids cfg
	run_sleeper
	ht update --memory 64m --pids-limit 20 "${IDPREFIX}a"
	cfg=$(cat "$STATE/${IDPREFIX}a/config.json")
	# A good memory value alongside a bad quota: neither is applied.
	expect_refused "bad quota" "cpu.quota" --memory 32m --pids-limit 9 --cpu-quota 10 "${IDPREFIX}a"
	expect_refused "bad size" "--memory abc" --memory abc "${IDPREFIX}a"
	expect_refused "bad json" "memory.limit" --resources <(echo '{"memory":{"limit":"lots"}}') "${IDPREFIX}a"
	expect_refused "bad cpuset" "cpu.cpus" --cpuset-cpus 3-1 "${IDPREFIX}a"
	expect_refused "rdt" "not supported" --l3-cache-schema L3:0=f "${IDPREFIX}a"
	if is_v1 memory; then mem=$(cgval "${IDPREFIX}a" memory memory.limit_in_bytes x)
	else mem=$(cgval "${IDPREFIX}a" memory x memory.max); fi
	expect_eq "memory unchanged" "$mem" 67108864
	expect_eq "pids unchanged" "$(cgval "${IDPREFIX}a" pids pids.max pids.max)" 20
	expect_eq "saved config unchanged" "$(cat "$STATE/${IDPREFIX}a/config.json")" "$cfg"
	ht delete --force "${IDPREFIX}a"
}

test_update_stopped_fails() {
	make_bundle "$B" true
	hq run --keep --bundle "$B" "${IDPREFIX}a"
	expect_refused "stopped" "container not running" --memory 64m "${IDPREFIX}a"
	expect_refused "missing" "does not exist" --memory 64m "${IDPREFIX}nope"
	ht delete "${IDPREFIX}a"
}

test_update_events_stats() {
	run_sleeper
	out=$(ht events --stats "${IDPREFIX}a")
	expect_eq "one line" "$(printf '%s\n' "$out" | wc -l)" 1
	printf '%s' "$out" | jq -e --arg id "${IDPREFIX}a" '.type == "stats" and .id == $id' >/dev/null ||
		fail "type/id: $out"
	printf '%s' "$out" | jq -e '.data.memory.usage.usage > 0' >/dev/null || fail "memory usage: $out"
	printf '%s' "$out" | jq -e '.data.pids.current >= 1' >/dev/null || fail "pids: $out"
	printf '%s' "$out" | jq -e '.data.cpu.usage.total > 0 and (.data.cpu.throttling | type) == "object"
		and (.data.blkio | type) == "object" and (.data.hugetlb | type) == "object"
		and .data.intel_rdt == {} and .data.network_interfaces == null' >/dev/null ||
		fail "shape: $out"
	ht delete --force "${IDPREFIX}a"
	set +e; out=$(ht events --stats "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_eq "after delete: exit" "$rc" 1
	expect_contains "after delete" "$out" "does not exist"
}

test_update_events_oom() {
	local evpid rc
	make_bundle "$B"
	set_argv "$B" sh -c 'sleep 1; x=$(head -c 20000000 /dev/zero | tr "\0" a); echo done'
	cfg "$B" '.linux.resources.memory = {"limit": 8388608, "swap": 8388608}'
	hq create --bundle "$B" "${IDPREFIX}a"
	timeout -k 2 30 "$HULL" --root "$STATE" events --interval 500ms "${IDPREFIX}a" \
		>"$TESTROOT/ev.$IDPREFIX" 2>&1 </dev/null &
	evpid=$!
	sleep 0.3
	ht start "${IDPREFIX}a"
	set +e; wait_pid_gone "$evpid" 250; rc=$?; set -e
	out=$(cat "$TESTROOT/ev.$IDPREFIX")
	rm -f "$TESTROOT/ev.$IDPREFIX"
	expect_eq "events exit status (ends with the container)" "$rc" 0 || fail "events said: $out"
	expect_contains "events" "$out" "{\"type\":\"oom\",\"id\":\"${IDPREFIX}a\"}"
	expect_contains "stats lines while it ran" "$out" '"type":"stats"'
	expect_eq "status" "$(status_of "${IDPREFIX}a")" stopped
	ht delete "${IDPREFIX}a"
}

test_update_pause_resume() {
	local a b c
	make_bundle "$B"
	set_argv "$B" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /count.new; mv /count.new /count; sleep 0.05; done; : hull-it-marker-'"$IDPREFIX"
	cfg "$B" '.root.readonly = false'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	wait_for 50 test -s "$B/rootfs/count"
	ht pause "${IDPREFIX}a"
	expect_eq "status after pause" "$(status_of "${IDPREFIX}a")" paused
	# Resources can change while it is frozen.
	ht update --pids-limit 50 "${IDPREFIX}a"
	a=$(cat "$B/rootfs/count"); sleep 0.5; b=$(cat "$B/rootfs/count")
	expect_eq "no progress while paused" "$b" "$a"
	ht resume "${IDPREFIX}a"
	expect_eq "status after resume" "$(status_of "${IDPREFIX}a")" running
	sleep 0.5; c=$(cat "$B/rootfs/count")
	[ "$c" -gt "$b" ] || fail "no progress after resume: $b -> $c"
	ht delete --force "${IDPREFIX}a"
}
