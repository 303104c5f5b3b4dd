# hull ct: system containers with their own init (busybox init reading
# /etc/inittab), an address on hull0, live limits.  Networked tests run in
# a network namespace of their own (in_netns, t_net.sh).

ct() { timeout -k 2 40 "$HULL" --root "$STATE" ct --lib-dir "$B/lib" "$@"; }

# ct_rootfs DIR: the busybox rootfs with /sbin/init and an inittab whose
# long-running entry carries the leak-check marker (as its $0: a "#" would
# start an inittab comment).
ct_rootfs() {
	mkdir -p "$(dirname "$1")"
	cp -a "$TESTROOT/rootfs-template" "$1"
	mkdir -p "$1/sbin"
	ln -s ../bin/busybox "$1/sbin/init"
	cat > "$1/etc/inittab" <<INITTAB
::sysinit:/bin/echo sysinit-ran
::respawn:/bin/sh -c 'while :; do sleep 1000; done' hull-it-marker-$IDPREFIX
::shutdown:/bin/echo shutdown-ran
INITTAB
}

# ct_gone NAME: nothing of the container left: config dir, lease, OCI
# state, cgroup, host veth.
ct_gone() {
	local n=$1 cg
	[ ! -e "$B/lib/ct/$n" ] || fail "ct dir of $n left"
	! grep -q " ct:$n\$" "$B/lib/net/leases" 2>/dev/null || fail "lease of $n left"
	[ ! -e "$STATE/ct-$n" ] || fail "state of $n left"
	for cg in /sys/fs/cgroup/*/hull/ct-"$n" /sys/fs/cgroup/hull/ct-"$n"; do
		[ ! -e "$cg" ] || fail "cgroup $cg left"
	done
}

# the veths on the host side of this namespace
host_veths() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^hull[0-9]' | grep -vx "${HULL_BRIDGE:-hull0}" | sort | tr '\n' ' '; }

ct_cleanup() {
	local n
	for n in $(ls "$B/lib/ct" 2>/dev/null); do
		"$HULL" --root "$STATE" ct --lib-dir "$B/lib" destroy --force "$n" >/dev/null 2>&1 || true
	done
}

_ct_lifecycle() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a out pid
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --hostname box1 --ip 10.88.0.10/16
	expect_eq "state after create" "$(ct status --json "$n" | jq -r .state)" stopped
	ct start "$n"
	expect_eq "state" "$(ct status --json "$n" | jq -r .state)" running
	pid=$(ct status --json "$n" | jq -r .pid)
	expect_eq "the container's pid 1 is its init" "$(cat /proc/$pid/comm)" "init"
	out=$(ct exec "$n" -- sh -c 'hostname; cat /proc/1/comm; ip -4 -o addr show eth0 | awk "{print \$4}"')
	expect_eq "inside" "$out" "box1
init
10.88.0.10/16"
	set +e; ct exec "$n" -- sh -c 'exit 7'; rc=$?; set -e
	expect_eq "exec exit status" "$rc" 7
	set +e; out=$(printf 'echo in-$(hostname)\nexit 3\n' | ct enter "$n"); rc=$?; set -e
	expect_eq "enter: exit status" "$rc" 3
	expect_eq "enter runs a shell inside" "$out" "in-box1"
	expect_eq "host veth" "$(host_veths)" "hull10 "
	ct stop --timeout 10 "$n"
	expect_eq "state after stop" "$(ct status --json "$n" | jq -r .state)" stopped
	expect_contains "init ran its shutdown" "$(cat "$B/lib/ct/$n/console.log")" "shutdown-ran"
	# (it may linger as a zombie until whoever inherited it reaps it)
	if [ -d "/proc/$pid" ] && ! grep -q '^State:.Z' "/proc/$pid/status" 2>/dev/null; then
		fail "init still alive after stop"
	fi
	expect_eq "veth gone after stop" "$(host_veths)" ""
	ct restart "$n"
	expect_eq "state after restart" "$(ct status --json "$n" | jq -r .state)" running
	ct restart --timeout 5 "$n"
	expect_eq "state after second restart" "$(ct status --json "$n" | jq -r .state)" running
	ct destroy --force "$n"
	ct_gone "$n"
	expect_eq "veth gone after destroy" "$(host_veths)" ""
	[ -z "$(ct list --json | jq -r '.[].name')" ] || fail "list not empty"
}
test_ct_lifecycle() { in_netns _ct_lifecycle; }

_ct_two_ping() {
	trap ct_cleanup EXIT
	local a=${IDPREFIX}a b=${IDPREFIX}b ipa ipb ip6b out
	ct_rootfs "$B/rootfs"
	ct create "$a" --rootfs "$B/rootfs"
	ct create "$b" --rootfs "$B/rootfs"
	ct start "$a"
	ct start "$b"
	ipa=$(ct status --json "$a" | jq -r .ip)
	ipb=$(ct status --json "$b" | jq -r .ip)
	ip6b=$(ct status --json "$b" | jq -r .ip6)
	[ "$ipa" != "$ipb" ] || fail "same address twice: $ipa"
	expect_eq "ip6 follows ip" "$ip6b" "fd00:88::${ipb##*.}"
	out=$(ct exec "$a" -- sh -c "ping -c2 -W3 $ipb >/dev/null && echo v4-peer;
		ping -c2 -W3 $ip6b >/dev/null && echo v6-peer;
		ping -c1 -W3 10.88.0.1 >/dev/null && echo v4-gw;
		ping -c1 -W3 fd00:88::1 >/dev/null && echo v6-gw")
	expect_eq "a reaches b and the gateway" "$out" "v4-peer
v6-peer
v4-gw
v6-gw"
	out=$(ct exec "$b" -- sh -c "ping -c1 -W3 $ipa >/dev/null && echo back")
	expect_eq "b reaches a" "$out" "back"
	# and the host side of the bridge reaches both
	"$BUSYBOX" ping -c1 -W3 "$ipa" >/dev/null || fail "gateway cannot reach $ipa"
	"$BUSYBOX" ping -c1 -W3 "$ip6b" >/dev/null || fail "gateway cannot reach $ip6b"
	expect_eq "list" "$(ct list --json | jq -r '.[] | "\(.name) \(.state) \(.ip)"' | tr '\n' ' ')" \
		"$a running $ipa $b running $ipb "
	[ "$(ct list --json | jq -r '.[0].memoryBytes')" -gt 0 ] || fail "no memory in use reported"
	expect_contains "table" "$(ct list)" "$ipb"
	ct destroy --force "$a"
	ct destroy --force "$b"
	ct_gone "$a"; ct_gone "$b"
	expect_eq "no veth left" "$(host_veths)" ""
}
test_ct_two_containers_ping() { in_netns _ct_two_ping; }

# memory_limit_of NAME: the live limit in the container's cgroup.
memory_limit_of() {
	cat /sys/fs/cgroup/memory/hull/ct-"$1"/memory.limit_in_bytes 2>/dev/null ||
		cat /sys/fs/cgroup/hull/ct-"$1"/memory.max
}

_ct_set_live() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --ip none --memory 64m --pids 50 --cpu-weight 100
	ct start "$n"
	expect_eq "memory at start" "$(memory_limit_of "$n")" 67108864
	ct set "$n" --memory 96m --pids 77
	expect_eq "memory after set" "$(memory_limit_of "$n")" 100663296
	expect_eq "seen inside" "$(ct exec "$n" -- sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')" 100663296
	expect_eq "pids after set" "$(cat /sys/fs/cgroup/pids/hull/ct-"$n"/pids.max 2>/dev/null || cat /sys/fs/cgroup/hull/ct-"$n"/pids.max)" 77
	expect_eq "saved" "$(jq -r '"\(.memory) \(.pids) \(.cpuWeight)"' "$B/lib/ct/$n/ct.json")" "100663296 77 100"
	# cpu: quota per 100 ms period; weight as cgroup v2 weight (v1: its shares)
	ct set "$n" --cpus 0.5 --cpu-weight 250
	if [ -e /sys/fs/cgroup/cpu/hull/ct-"$n"/cpu.cfs_quota_us ]; then
		expect_eq "cpu quota" "$(cat /sys/fs/cgroup/cpu/hull/ct-"$n"/cpu.cfs_quota_us)" 50000
		expect_eq "cpu shares" "$(cat /sys/fs/cgroup/cpu/hull/ct-"$n"/cpu.shares)" 6530
	else
		expect_eq "cpu max" "$(cat /sys/fs/cgroup/hull/ct-"$n"/cpu.max)" "50000 100000"
		expect_eq "cpu weight" "$(cat /sys/fs/cgroup/hull/ct-"$n"/cpu.weight)" 250
	fi
	# v1 refuses a limit below usage (EBUSY); v2 takes it and reclaims or
	# OOM-kills, so there is nothing to refuse there
	if [ -e /sys/fs/cgroup/memory/hull/ct-"$n" ]; then
		set +e; out=$(ct set "$n" --memory 1k 2>&1); rc=$?; set -e
		expect_eq "a limit below usage is refused" "$rc" 1
		expect_eq "refused: cgroup unchanged" "$(memory_limit_of "$n")" 100663296
		expect_eq "refused: config unchanged" "$(jq -r .memory "$B/lib/ct/$n/ct.json")" 100663296
	fi
	# the saved value is what the next start uses
	ct restart --timeout 5 "$n"
	expect_eq "memory after restart" "$(memory_limit_of "$n")" 100663296
	ct stop "$n"
	ct set "$n" --memory 32m
	ct start "$n"
	expect_eq "set while stopped, then start" "$(memory_limit_of "$n")" 33554432
	ct destroy --force "$n"
	ct_gone "$n"
}
test_ct_set_live() { in_netns _ct_set_live; }

# hull killed (SIGKILL) in the middle of start, right after the veth was
# made: the next start cleans what it left and starts.
_ct_kill9_mid_start() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a rc out
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --ip 10.88.0.20
	set +e; HULL_FAULT_POINT=net ct start "$n"; rc=$?; set -e
	expect_eq "hull was killed" "$rc" 137
	[ -d "$STATE/ct-$n" ] || fail "expected a half-made state dir"
	expect_eq "status after the crash" "$(ct status --json "$n" | jq -r .state)" stopped
	ct start "$n"
	expect_eq "running after restart" "$(ct status --json "$n" | jq -r .state)" running
	expect_eq "one veth" "$(host_veths)" "hull20 "
	out=$(ct exec "$n" -- sh -c 'ping -c1 -W3 10.88.0.1 >/dev/null && echo ok')
	expect_eq "network works" "$out" ok
	# killed between create and start: the init waits, with its network
	ct stop "$n"
	set +e; HULL_FAULT_POINT=ct-created ct start "$n"; rc=$?; set -e
	expect_eq "hull was killed after create" "$rc" 137
	expect_eq "the waiting init keeps its veth" "$(host_veths)" "hull20 "
	expect_eq "status of a created-only one" "$(ct status --json "$n" | jq -r .state)" stopped
	ct start "$n"
	expect_eq "running after the second crash" "$(ct status --json "$n" | jq -r .state)" running
	expect_eq "still one veth" "$(host_veths)" "hull20 "
	expect_eq "one init in the cgroup" "$(ct exec "$n" -- sh -c 'ps -o comm | grep -c "^init"')" 1
	# the container's init killed behind hull's back: status recovers
	# from the pid file, and start cleans up again
	kill -9 "$(ct status --json "$n" | jq -r .pid)"
	wait_for 50 sh -c "[ \"\$($HULL --root $STATE ct --lib-dir $B/lib status --json $n | jq -r .state)\" = stopped ]" ||
		fail "not stopped after its init was killed"
	ct start "$n"
	expect_eq "one veth after crash and start" "$(host_veths)" "hull20 "
	ct destroy --force "$n"
	ct_gone "$n"
	expect_eq "no veth left" "$(host_veths)" ""
}
test_ct_kill9_mid_start() { in_netns _ct_kill9_mid_start; }

# The same with a real kill -9 from outside, at whatever point start has
# reached after 0 to 150 ms: the next start always gives one running
# container with one veth and a working network.
_ct_kill9_any_time() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a d p cg
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --ip 10.88.0.40
	for d in 0 0.01 0.02 0.04 0.07 0.1 0.15; do
		"$HULL" --root "$STATE" ct --lib-dir "$B/lib" start "$n" >/dev/null 2>&1 &
		p=$!
		sleep "$d"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" || true
		[ "$(ct status --json "$n" | jq -r .state)" = running ] || ct start "$n"
		expect_eq "after a kill at ${d}s: one veth" "$(host_veths)" "hull40 "
		expect_eq "after a kill at ${d}s: network" \
			"$(ct exec "$n" -- sh -c 'ping -c1 -W3 10.88.0.1 >/dev/null && echo ok')" ok
		cg=$(ls -d /sys/fs/cgroup/pids/hull/ct-"$n" /sys/fs/cgroup/hull/ct-"$n" 2>/dev/null | head -n 1)
		expect_eq "after a kill at ${d}s: one init" \
			"$(for q in $(cat "$cg/cgroup.procs"); do cat /proc/$q/comm; done | grep -c '^init$')" 1
		ct stop --timeout 1 "$n"
		expect_eq "after a kill at ${d}s: stopped, no veth" "$(host_veths)" ""
	done
	ct destroy "$n"
	ct_gone "$n"
}
test_ct_kill9_any_time() { in_netns _ct_kill9_any_time; }

# State recovered from the cgroup: a container whose state file hull cannot
# see (here: another --root) is still found running through its cgroup,
# and is not started twice.
_ct_state_from_cgroup() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a pid other="$STATE.other" out rc
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --ip none
	ct start "$n"
	pid=$(ct status --json "$n" | jq -r .pid)
	mkdir -p "$other"
	oct() { timeout -k 2 40 "$HULL" --root "$other" ct --lib-dir "$B/lib" "$@"; }
	expect_eq "state from the cgroup" "$(oct status --json "$n" | jq -r .state)" running
	expect_eq "init found in the cgroup" "$(oct status --json "$n" | jq -r .pid)" "$pid"
	[ "$(oct list --json | jq -r '.[0].memoryBytes')" -gt 0 ] || fail "no memory figure from the cgroup"
	set +e; out=$(oct start "$n" 2>&1); rc=$?; set -e
	expect_eq "no second start: status" "$rc" 1
	expect_contains "no second start" "$out" "already running"
	oct stop --timeout 5 "$n"
	expect_eq "stopped through the cgroup" "$(ct status --json "$n" | jq -r .state)" stopped
	expect_contains "its init halted" "$(cat "$B/lib/ct/$n/console.log")" "shutdown-ran"
	rmdir "$other"
	ct destroy "$n"
	ct_gone "$n"
}
test_ct_state_from_cgroup() { in_netns _ct_state_from_cgroup; }

# One error line, exit 1, and nothing of the failed command left.
_ct_bad_input() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a m=${IDPREFIX}b out rc leases
	ct_rootfs "$B/rootfs"
	ct create "$n" --rootfs "$B/rootfs" --ip 10.88.0.30
	leases=$(cat "$B/lib/net/leases")
	for args in "create $n --rootfs $B/rootfs|already exists" \
		    "create $m --rootfs $B/rootfs --ip 10.89.0.5|outside the subnet" \
		    "create $m --rootfs $B/rootfs --ip 10.88.0.30|already taken" \
		    "create $m --rootfs $B/rootfs --ip 10.88.0.1|reserved" \
		    "create $m --rootfs $B/rootfs --ip 10.88.0.31/24|prefix" \
		    "create $m --rootfs $B/rootfs --bind /nonexistent-$IDPREFIX:/mnt|nonexistent" \
		    "create $m --rootfs $B/nope|--rootfs" \
		    "create $m --rootfs $B/rootfs --hostname a/b|--hostname" \
		    "create ../x --rootfs $B/rootfs|invalid container id" \
		    "start $m|does not exist" \
		    "stop $n|not running"; do
		set +e
		out=$(ct ${args%|*} 2>&1); rc=$?
		set -e
		expect_clean_failure "ct ${args%|*}" "$out" "$rc" "${args#*|}"
		[ ! -e "$B/lib/ct/$m" ] || fail "ct ${args%|*}: left $B/lib/ct/$m"
		expect_eq "ct ${args%|*}: leases" "$(cat "$B/lib/net/leases")" "$leases"
		expect_eq "ct ${args%|*}: veths" "$(host_veths)" ""
	done
	set +e
	out=$(HULL_SUBNET=10.77.0.0/16 ct start "$n" 2>&1); rc=$?
	set -e
	expect_clean_failure "start after the subnet changed" "$out" "$rc" "HULL_SUBNET changed"
	expect_eq "subnet changed: veths" "$(host_veths)" ""
	ct start "$n"
	set +e
	out=$(ct start "$n" 2>&1); rc=$?
	set -e
	expect_eq "start of a running one: status" "$rc" 1
	expect_contains "start of a running one" "$out" "already running"
	expect_eq "start of a running one: still running" "$(ct status --json "$n" | jq -r .state)" running
	expect_eq "start of a running one: one veth" "$(host_veths)" "hull30 "
	set +e
	out=$(ct destroy "$n" 2>&1); rc=$?
	set -e
	expect_eq "destroy of a running one: status" "$rc" 1
	expect_contains "destroy of a running one" "$out" "--force"
	expect_eq "destroy of a running one: still running" "$(ct status --json "$n" | jq -r .state)" running
	# a bind source removed after create: start fails cleanly
	mkdir -p "$B/src"
	ct create "$m" --rootfs "$B/rootfs" --bind "$B/src:/mnt"
	rmdir "$B/src"
	set +e
	out=$(ct start "$m" 2>&1); rc=$?
	set -e
	expect_eq "missing bind at start: status" "$rc" 1
	expect_contains "missing bind at start" "$out" "--bind $B/src"
	[ ! -e "$STATE/ct-$m" ] || fail "missing bind at start: state left"
	expect_eq "missing bind at start: veths" "$(host_veths)" "hull30 "
	ct destroy "$m"
	# a config that no longer parses: destroy says so; --force removes it
	ct create "$m" --rootfs "$B/rootfs"
	echo '{"name": 7' > "$B/lib/ct/$m/ct.json"
	set +e
	out=$(ct destroy "$m" 2>&1); rc=$?
	set -e
	expect_eq "broken config: status" "$rc" 1
	expect_contains "broken config" "$out" "ct.json"
	ct destroy --force "$m"
	ct destroy --force "$n"
	ct_gone "$n"; ct_gone "$m"
}
test_ct_bad_input() { in_netns _ct_bad_input; }

_ct_from_image() {
	trap ct_cleanup EXIT
	local n=${IDPREFIX}a out
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	mkdir -p "$B/tmpl"
	ct_rootfs "$B/tmpl/rootfs-template"
	(TESTROOT=$B/tmpl make_layout "$B/layout" ctimg:1 >/dev/null)
	"$HULL" image import "$B/layout" >/dev/null
	ct create "$n" --image ctimg:1 --hostname fromimg
	[ -x "$(jq -r .lower "$B/lib/ct/$n/ct.json")/bin/busybox" ] || fail "image not unpacked in the store"
	ct start "$n"
	expect_eq "runs the image's init" "$(ct exec "$n" -- hostname)" fromimg
	ct destroy --force "$n"
	ct_gone "$n"
	set +e
	out=$(ct create "$n" --image nosuch:1 2>&1); rc=$?
	set -e
	expect_clean_failure "unknown image" "$out" "$rc" "nosuch:1"
	ct_gone "$n"
	rm -rf "$HULL_IMAGE_STORE"
}
test_ct_from_image() { in_netns _ct_from_image; }

# Two containers from one image share the store's unpacked tree as the
# lower layer of an overlay each: nothing is copied into the ct dirs (they
# hold only their upper's changes), writes stay in their own container,
# the overlay lives only in the container's mount namespace, `image rm`
# keeps a tree a container holds, and destroy leaves no upper, no hold.
_ct_image_shared() {
	trap ct_cleanup EXIT
	local a=${IDPREFIX}a b=${IDPREFIX}b lower ino pa pb hex
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	mkdir -p "$B/tmpl"
	ct_rootfs "$B/tmpl/rootfs-template"
	(TESTROOT=$B/tmpl make_layout "$B/layout" shimg:1 >/dev/null)
	"$HULL" image import "$B/layout" >/dev/null
	ct create "$a" --image shimg:1 --ip none
	ct create "$b" --image shimg:1 --ip none
	lower=$(jq -r .lower "$B/lib/ct/$a/ct.json")
	expect_eq "one lower for both" "$(jq -r .lower "$B/lib/ct/$b/ct.json")" "$lower"
	expect_eq "one tree in the store" "$(ls "$HULL_IMAGE_STORE/rootfs" | grep -cv '\.')" 1
	[ -x "$lower/bin/busybox" ] || fail "no unpacked tree at $lower"
	expect_eq "nothing copied into the ct dir" \
		"$(find "$B/lib/ct/$a/rootfs" "$B/lib/ct/$a/upper" -mindepth 1 | wc -l)" 0
	ct start "$a"; ct start "$b"
	pa=$(ct status --json "$a" | jq -r .pid); pb=$(ct status --json "$b" | jq -r .pid)
	# overlay reports the lower file's own inode for a file only in the lower
	ino=$(stat -c %i "$lower/bin/busybox")
	expect_eq "a sees the lower's busybox" "$(ct exec "$a" -- stat -c %i /bin/busybox)" "$ino"
	expect_eq "b sees the lower's busybox" "$(ct exec "$b" -- stat -c %i /bin/busybox)" "$ino"
	expect_contains "a's root is an overlay on the tree" \
		"$(awk '$5 == "/" && $9 == "overlay"' /proc/$pa/mountinfo)" "lowerdir=$lower"
	expect_contains "b's root is an overlay on the tree" \
		"$(awk '$5 == "/" && $9 == "overlay"' /proc/$pb/mountinfo)" "lowerdir=$lower"
	! grep -q " $B/lib/ct/" /proc/self/mountinfo || fail "an overlay is mounted on the host"
	ct exec "$a" -- sh -c 'echo from-a > /etc/marker;'
	expect_eq "a reads its write" "$(ct exec "$a" -- cat /etc/marker)" from-a
	set +e; ct exec "$b" -- test -e /etc/marker; rc=$?; set -e
	expect_eq "b does not see a's write" "$rc" 1
	[ ! -e "$lower/etc/marker" ] || fail "the write reached the shared tree"
	expect_eq "a's upper holds the write" "$(cat "$B/lib/ct/$a/upper/etc/marker")" from-a
	expect_eq "ct dir: only the upper's changes" \
		"$(cd "$B/lib/ct/$a/upper" && find . -mindepth 1 | sort | tr '\n' ' ')" "./etc ./etc/marker "
	# the image removed: the held tree stays, a restart finds it and the upper
	"$HULL" image rm shimg:1 >/dev/null
	[ -x "$lower/bin/busybox" ] || fail "image rm removed a tree two containers hold"
	ct restart --timeout 5 "$a"
	expect_eq "a's write survives a restart" "$(ct exec "$a" -- cat /etc/marker)" from-a
	ct stop "$a"
	! grep -q " $B/lib/ct/$a/" /proc/self/mountinfo || fail "mount left after stop"
	ct destroy "$a"
	ct destroy --force "$b"
	ct_gone "$a"; ct_gone "$b"
	hex=$(basename "$lower")
	[ ! -e "$lower.holds" ] || fail "holds left: $(ls "$lower.holds")"
	! grep -q "$lower" /proc/self/mountinfo || fail "an overlay on the tree left on the host"
	# unheld, the tree goes at the store's next gc (an import runs one)
	(TESTROOT=$B/tmpl make_layout "$B/layout2" other:1 '{"Cmd":["/bin/true"]}' >/dev/null)
	"$HULL" image import "$B/layout2" >/dev/null
	[ ! -e "$lower" ] || fail "the unheld tree $hex was not collected"
	rm -rf "$HULL_IMAGE_STORE"
}
test_ct_image_shared() { in_netns _ct_image_shared; }
