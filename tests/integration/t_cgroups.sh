# Cgroups seen from outside: limits land in the container's cgroup, fair
# CPU shares, and bad resources refused with nothing created.  Runs on the
# hybrid v1 host and, in the cgroup v2 tier, on a pure v2 host.

cg_is_v2() { [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; }

# cg_file ID CONTROLLER V1FILE V2FILE: the path of a container's cgroup file.
cg_file() {
	if cg_is_v2; then echo "/sys/fs/cgroup/hull/$1/$4"; else echo "/sys/fs/cgroup/$2/hull/$1/$3"; fi
}

test_cgroups_limits_applied() {
	make_bundle "$B" sleep 30
	cfg "$B" '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 42},
		cpu: {quota: 50000, period: 100000}}'
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	local id=${IDPREFIX}a
	if cg_is_v2; then
		expect_eq "memory.max" "$(cat "$(cg_file "$id" memory x memory.max)")" 67108864
		expect_eq "pids.max" "$(cat "$(cg_file "$id" pids x pids.max)")" 42
		expect_eq "cpu.max" "$(cat "$(cg_file "$id" cpu x cpu.max)")" "50000 100000"
	else
		expect_eq "memory limit" "$(cat "$(cg_file "$id" memory memory.limit_in_bytes x)")" 67108864
		expect_eq "pids.max" "$(cat "$(cg_file "$id" pids pids.max x)")" 42
		expect_eq "cfs quota" "$(cat "$(cg_file "$id" cpu cpu.cfs_quota_us x)")" 50000
	fi
	h delete --force "$id"
}

# Two CPU-bound containers on one core with shares 1:4 get CPU time in
# about that ratio (CFS between sibling cgroups).
test_cgroups_fair_shares() {
	local a=${IDPREFIX}a b=${IDPREFIX}b
	mkdir -p "$B/a" "$B/b"
	for x in a b; do
		make_bundle "$B/$x" sh -c 'while :; do :; done'
	done
	cfg "$B/a" '.linux.resources = {cpu: {shares: 256, cpus: "0"}}'
	cfg "$B/b" '.linux.resources = {cpu: {shares: 1024, cpus: "0"}}'
	hq run --detach --bundle "$B/a" "$a"
	hq run --detach --bundle "$B/b" "$b"
	sleep 0.5
	usage() { h events --stats "$1" | jq .data.cpu.usage.total; }
	local a0 b0 a1 b1
	a0=$(usage "$a"); b0=$(usage "$b")
	sleep 3
	a1=$(usage "$a"); b1=$(usage "$b")
	h delete --force "$a"
	h delete --force "$b"
	local ratio
	ratio=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) 'BEGIN { if (a <= 0) print 999; else printf "%.2f", b / a }')
	echo "cpu time ratio b/a = $ratio (want about 4)"
	awk -v r="$ratio" 'BEGIN { exit !(r >= 2.5 && r <= 6.5) }' || fail "ratio $ratio is not about 4"
}

test_cgroups_bad_cgroups_path_escapes() {
	make_bundle "$B"
	cfg "$B" '.linux.cgroupsPath = "../../../etc"'
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "escaping cgroupsPath" "$out" "$rc" "cgroupsPath"
	[ ! -e /sys/fs/cgroup/etc ] && [ ! -e /sys/fs/cgroup/memory/etc ] || fail "created outside"
}

test_cgroups_bad_device_rule() {
	make_bundle "$B"
	cfg "$B" '.linux.resources.devices = [{allow: true, type: "x", access: "rwm"}]'
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "bad device rule" "$out" "$rc" "devices"
}

test_cgroups_unknown_unified_key() {
	make_bundle "$B"
	cfg "$B" '.linux.resources.unified = {"nosuch.knob": "1"}'
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "unknown unified key" "$out" "$rc" "nosuch.knob"
}

test_cgroups_limit_below_usage() {
	# any live process is charged far more than 8 KiB
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	local f
	if cg_is_v2; then
		f=$(cg_file "${IDPREFIX}a" memory x memory.max)
	else
		f=$(cg_file "${IDPREFIX}a" memory memory.limit_in_bytes x)
	fi
	before=$(cat "$f")
	set +e
	out=$(echo '{"memory": {"limit": 8192, "checkBeforeUpdate": true}}' | \
		ht update --resources - "${IDPREFIX}a" 2>&1)
	rc=$?
	set -e
	expect_eq "exit" "$rc" 1
	expect_contains "error" "$out" "below current usage"
	expect_eq "limit unchanged" "$(cat "$f")" "$before"
	h delete --force "${IDPREFIX}a"
}
