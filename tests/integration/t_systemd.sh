# --systemd-cgroup: the scope unit asked of systemd over D-Bus.  systemd is
# not PID 1 on the test hosts, so a private dbus-daemon carries a stand-in
# (tests/helpers/fake_systemd) that makes the scope's cgroups and logs every
# call.  HULL_SYSTEMD_FORCE=1 (a test hook, honoured only while
# DBUS_SYSTEM_BUS_ADDRESS is set) makes hull take systemd as running.

# sd_up: a private bus with fake_systemd on it; sets SD_DIR SD_LOG and exports
# the bus address.  Every process it starts is stopped by sd_down, by pid.
sd_up() {
	SD_DIR=$TESTROOT/sd.$IDPREFIX
	SD_LOG=$SD_DIR/calls
	mkdir -p "$SD_DIR"
	cat >"$SD_DIR/bus.conf" <<-EOF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>custom</type>
	  <listen>unix:path=$SD_DIR/bus</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	EOF
	SD_BUS_PID=$(dbus-daemon --config-file="$SD_DIR/bus.conf" --fork --print-pid)
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$SD_DIR/bus
	"$HELPERS/fake_systemd" "$SD_LOG" 2>"$SD_DIR/fake.err" &
	SD_FAKE_PID=$!
	local i
	for i in $(seq 50); do
		grep -q '^ready$' "$SD_LOG" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "fake_systemd did not come up: $(cat "$SD_DIR/fake.err")"
}

sd_down() {
	if [ -n "${SD_FAKE_PID:-}" ]; then
		kill "$SD_FAKE_PID" 2>/dev/null || true
		wait "$SD_FAKE_PID" 2>/dev/null || true
	fi
	if [ -n "${SD_BUS_PID:-}" ]; then
		kill "$SD_BUS_PID" 2>/dev/null || true
	fi
	SD_FAKE_PID='' SD_BUS_PID=''
	return 0
}

sd_skip() {
	if [ ! -x "$HELPERS/fake_systemd" ] || ! command -v dbus-daemon >/dev/null; then
		echo "skipped: $1: needs tests/helpers/fake_systemd (libsystemd) and dbus-daemon"
		return 0
	fi
	return 1
}

# The scope's directory in the pids hierarchy (v1) or the unified one.
sd_scope_dir() {
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		echo "/sys/fs/cgroup/system.slice/$1"
	else
		echo "/sys/fs/cgroup/pids/system.slice/$1"
	fi
}

test_systemd_scope_create_delete() {
	sd_skip "systemd scope" && return 0
	local id=${IDPREFIX}a unit="hull-${IDPREFIX}a.scope" dir pid
	trap 'set +e; h delete --force '"$id"' >/dev/null 2>&1; sd_down' EXIT
	export HULL_SYSTEMD_FORCE=1
	sd_up
	make_bundle "$B" sleep 30
	cfg "$B" '.linux.cgroupsPath = $A[0] | .linux.resources = {pids: {limit: 33}}' \
		"system.slice:hull:$id"
	hq --systemd-cgroup create --bundle "$B" "$id"
	pid=$(h state "$id" | jq -r .pid)
	expect_contains "StartTransientUnit" "$(grep '^start ' "$SD_LOG")" \
		"start unit=$unit mode=replace slice=system.slice delegate=1 pids=$pid desc=hull container $id"
	dir=$(sd_scope_dir "$unit")
	grep -qx "$pid" "$dir/cgroup.procs" || fail "pid $pid not in $dir/cgroup.procs: $(cat "$dir/cgroup.procs")"
	# hull applies linux.resources in the scope systemd made
	expect_eq "pids.max in the scope" "$(cat "$dir/pids.max")" 33
	expect_eq "state cgroupPath" "$(jq -r .cgroupPath "$STATE/$id/state.json")" \
		"/system.slice/$unit"
	hq --systemd-cgroup delete --force "$id"
	expect_contains "StopUnit" "$(grep '^stop ' "$SD_LOG")" "stop unit=$unit mode=replace"
	grep -q "^reset-failed unit=$unit" "$SD_LOG" || fail "no ResetFailedUnit: $(cat "$SD_LOG")"
	local left
	left=$(ls -d /sys/fs/cgroup/*/system.slice/"$unit" /sys/fs/cgroup/system.slice/"$unit" 2>/dev/null || true)
	[ -z "$left" ] || fail "scope cgroups left: $left"
	# (a zombie waiting for its reaper is gone enough)
	if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		fail "container process $pid still runs"
	fi
	return 0
}

# A job that does not end "done" fails create with its result named, and
# leaves nothing behind.
test_systemd_scope_job_failed() {
	sd_skip "systemd job failure" && return 0
	local id=${IDPREFIX}a out rc
	trap 'set +e; h delete --force '"$id"' >/dev/null 2>&1; sd_down' EXIT
	export HULL_SYSTEMD_FORCE=1 FAKE_SYSTEMD_RESULT=failed
	sd_up
	make_bundle "$B" sleep 30
	cfg "$B" '.linux.cgroupsPath = $A[0]' "system.slice:hull:$id"
	set +e; out=$(ht --systemd-cgroup create --bundle "$B" "$id" 2>&1); rc=$?; set -e
	expect_clean_failure "failed job" "$out" "$rc" '"failed", not "done"'
	[ ! -e "$STATE/$id" ] || fail "state left for $id"
}

# No systemd on the host (and no test hook): one clear error, nothing made.
test_systemd_not_running() {
	if [ -e /run/systemd/system ]; then
		echo "skipped: systemd runs on this host"
		return 0
	fi
	local id=${IDPREFIX}a out rc
	make_bundle "$B"
	cfg "$B" '.linux.cgroupsPath = $A[0]' "system.slice:hull:$id"
	set +e; out=$(unset HULL_SYSTEMD_FORCE; ht --systemd-cgroup create --bundle "$B" "$id" 2>&1); rc=$?; set -e
	expect_clean_failure "no systemd" "$out" "$rc" "systemd is not running"
	# the hook alone, without a private bus address, is not honoured
	set +e; out=$(unset DBUS_SYSTEM_BUS_ADDRESS; export HULL_SYSTEMD_FORCE=1
		ht --systemd-cgroup create --bundle "$B" "$id" 2>&1); rc=$?; set -e
	expect_clean_failure "hook without bus" "$out" "$rc" "systemd is not running"
	[ ! -e "$STATE/$id" ] || fail "state left for $id"
}

# libsystemd is dlopen()ed by the systemd driver only (runtime/lazylib.c):
# the binary does not need it, and a create that cannot load it fails
# naming it and its package, with nothing left and no call made.
test_systemd_without_libsystemd() {
	sd_skip "systemd without libsystemd" && return 0
	local id=${IDPREFIX}a out rc
	objdump -p "$HULL" | awk '$1 == "NEEDED" {print $2}' | grep -q libsystemd &&
		fail "hull links libsystemd"
	trap 'set +e; h delete --force '"$id"' >/dev/null 2>&1; sd_down' EXIT
	export HULL_SYSTEMD_FORCE=1
	sd_up
	make_bundle "$B" sleep 30
	cfg "$B" '.linux.cgroupsPath = $A[0]' "system.slice:hull:$id"
	set +e; out=$(HULL_LIBSYSTEMD=/nonexistent/libsystemd.so.0 ht --systemd-cgroup create \
		--bundle "$B" "$id" 2>&1); rc=$?; set -e
	expect_clean_failure "create without libsystemd" "$out" "$rc" "(install libsystemd0)"
	expect_contains "create without libsystemd" "$out" "/nonexistent/libsystemd.so.0"
	[ ! -e "$STATE/$id" ] || fail "state left for $id"
	grep -q '^start ' "$SD_LOG" && fail "a unit was asked for: $(cat "$SD_LOG")"
	return 0
}
