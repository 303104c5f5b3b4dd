# hull jail: one service in a jail built from flags (issue 7's jail half).

jail() { timeout -k 2 30 "$HULL" --root "$STATE" jail "$@"; }

test_jail_ro_host_status_and_readonly() {
	set +e
	out=$(jail --ro-host --tmpfs /tmp -- sh -c 'hostname; touch /etc/hull-jail-x 2>&1; touch /tmp/ok && echo tmp-ok; exit 4')
	rc=$?
	set -e
	expect_eq "exit status" "$rc" 4
	expect_contains "hostname" "$out" "jail"
	expect_contains "read-only host" "$out" "Read-only file system"
	expect_contains "private tmpfs" "$out" "tmp-ok"
	[ ! -e /etc/hull-jail-x ] || fail "wrote to the host"
}

test_jail_rootfs_and_binds() {
	mkdir -p "$B/ro" "$B/rw"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	echo from-host > "$B/ro/f"
	out=$(jail --rootfs "$B/rootfs" --tmpfs /tmp --bind "$B/ro:/ro:ro" --bind "$B/rw:/rw" -- \
		sh -c 'ls /bin/busybox; cat /ro/f; echo x > /ro/g 2>/dev/null || echo ro-refused; echo written > /rw/h')
	expect_eq "output" "$out" "/bin/busybox
from-host
ro-refused"
	expect_eq "rw bind reaches the host" "$(cat "$B/rw/h")" written
	[ ! -e "$B/ro/g" ] || fail "ro bind was writable"
}

test_jail_limits_visible() {
	out=$(jail --ro-host --memory 64m --pids 20 --cpus 0.5 -- sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null ||
		 cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max')
	case "$out" in
	"67108864
20
50000"|"67108864
20
50000 100000") ;;
	*) fail "limits: $out" ;;
	esac
}

test_jail_uid_caps_seccomp() {
	out=$(jail --ro-host --uid 1000:1000 --cap-drop ALL -- sh -c 'id -u; id -g; grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -d "\t"')
	expect_eq "identity and confinement" "$out" "1000
1000
CapEff:0000000000000000
Seccomp:2"
	out=$(jail --ro-host --seccomp unconfined -- sh -c 'grep "^Seccomp:" /proc/self/status | tr -d "\t"')
	expect_eq "unconfined" "$out" "Seccomp:0"
	# the default profile refuses mount(2) even with CAP_SYS_ADMIN
	set +e
	out=$(jail --ro-host --cap-add CAP_SYS_ADMIN --tmpfs /tmp -- sh -c 'mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>&1; echo rc=$?')
	set -e
	case "$out" in *rc=0*) fail "default seccomp let mount(2) through: $out" ;; esac
	expect_contains "default seccomp" "$out" "permission denied"
	out=$(jail --ro-host --seccomp unconfined --cap-add CAP_SYS_ADMIN --tmpfs /tmp -- sh -c 'mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>&1; echo rc=$?')
	expect_contains "unconfined allows it" "$out" "rc=0"
}

test_jail_seccomp_profile_file() {
	mkdir -p "$B"
	cat > "$B/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
	out=$(jail --ro-host --tmpfs /tmp --seccomp "$B/profile.json" -- sh -c 'mkdir /tmp/d 2>&1; echo after')
	expect_contains "profile" "$out" "Permission denied"
	expect_contains "still running" "$out" "after"
}

test_jail_signal_forwarded() {
	"$HULL" --root "$STATE" jail --ro-host -- sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' & jp=$!
	sleep 1
	kill -TERM $jp
	set +e; wait $jp; rc=$?; set -e
	expect_eq "exit status" "$rc" 42
}

test_jail_rootless() {
	local u=65534 st="$TESTROOT/jail-rootless.$IDPREFIX"
	mkdir -p "$st"
	chown $u "$st"
	set +e
	out=$(setpriv --reuid $u --regid $u --clear-groups env XDG_RUNTIME_DIR="$st" \
		timeout 30 "$HULL" jail --ro-host -- sh -c 'id -u; tr -s " " < /proc/self/uid_map' 2>&1)
	rc=$?
	set -e
	case "$out" in
	*"user namespaces"*) echo "skipped: rootless jail: $out"; rm -rf "$st"; return 0 ;;
	esac
	expect_eq "exit" "$rc" 0
	expect_eq "output" "$out" "0
 0 $u 1"
	expect_eq "nothing left in the user's state root" "$(ls -A "$st/hull" 2>/dev/null)" ""
	rm -rf "$st"
	# limits need cgroups, which are not delegated to this user
	set +e
	out=$(setpriv --reuid $u --regid $u --clear-groups env XDG_RUNTIME_DIR="$st" \
		"$HULL" jail --ro-host --memory 64m -- true 2>&1)
	rc=$?
	set -e
	rm -rf "$st"
	expect_clean_failure "rootless limits" "$out" "$rc" "need root"
}

jail_fails() {
	local needle=$1; shift
	set +e; out=$("$HULL" --root "$STATE" jail "$@" 2>&1); rc=$?; set -e
	expect_clean_failure "jail $*" "$out" "$rc" "$needle"
	expect_eq "no state left" "$(ls -A "$STATE")" ""
}

test_jail_bad_input() {
	jail_fails "/nonexistent-src" --ro-host --bind /nonexistent-src:/mnt -- true
	jail_fails "must exist on the host" --ro-host --bind /tmp:/no-such-mountpoint -- true
	jail_fails "--rootfs" --rootfs /nonexistent-root -- true
	jail_fails "exactly one of" --rootfs / --ro-host -- true
	jail_fails "exactly one of" -- true
	jail_fails "no command" --ro-host --
	jail_fails "expected none, host or veth" --ro-host --net bogus -- true
	jail_fails "--memory" --ro-host --memory lots -- true
	jail_fails "CAP_NOPE" --ro-host --cap-add CAP_NOPE -- true
	jail_fails "--bind" --ro-host --bind nocolon -- true
}
