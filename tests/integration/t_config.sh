# config.json, one field at a time, observed from inside the container.

# a bundle straight from `hull spec` runs without a word on stderr
test_cfg_default_spec_quiet() {
	make_bundle "$B" true
	ht run --bundle "$B" "${IDPREFIX}a" 2>"$TESTROOT/err.$IDPREFIX"
	err=$(cat "$TESTROOT/err.$IDPREFIX")
	rm -f "$TESTROOT/err.$IDPREFIX"
	expect_eq "stderr of a default run" "$err" ""
}

test_cfg_env() {
	make_bundle "$B"
	cfg "$B" '.process.env = $A' "FOO=bar baz" "PATH=/bin" "EMPTY="
	out=$(HULL_IT_HOST_ONLY=1 run_sh 'echo "[$FOO]"; env | sort | tr "\n" " "')
	expect_eq "env" "$out" "[bar baz]
EMPTY= FOO=bar baz PATH=/bin PWD=/ SHLVL=1 "
}

test_cfg_cwd() {
	make_bundle "$B"
	cfg "$B" '.process.cwd = "/tmp"'
	out=$(run_sh 'pwd; readlink /proc/self/cwd')
	expect_eq "cwd" "$out" "/tmp
/tmp"
}

test_cfg_user() {
	make_bundle "$B"
	cfg "$B" '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 63}'
	out=$(run_sh 'id -u; id -g; grep ^Groups: /proc/self/status | cut -f2; umask')
	expect_eq "user" "$(echo "$out" | sed 's/ *$//')" "1000
1001
10 20
0077"
}

test_cfg_user_default_umask() {
	make_bundle "$B"
	out=$(run_sh 'umask; grep ^Groups: /proc/self/status | cut -f2')
	# no supplementary groups: only umask's line remains
	expect_eq "umask and groups" "$(echo "$out" | sed 's/ *$//')" "0022"
}

test_cfg_capabilities() {
	make_bundle "$B"
	cfg "$B" '.process.capabilities = {bounding: ["CAP_CHOWN"], effective: ["CAP_CHOWN"],
		permitted: ["CAP_CHOWN"], inheritable: ["CAP_CHOWN"], ambient: ["CAP_CHOWN"]}'
	out=$(run_sh 'grep ^Cap /proc/self/status | tr "\t" " "')
	expect_eq "caps" "$out" "CapInh: 0000000000000001
CapPrm: 0000000000000001
CapEff: 0000000000000001
CapBnd: 0000000000000001
CapAmb: 0000000000000001"
}

test_cfg_capabilities_none() {
	make_bundle "$B"
	cfg "$B" '.process.capabilities = {bounding: [], effective: [], permitted: []}'
	out=$(run_sh 'grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status | tr "\t" " "; hostname x 2>&1; true')
	expect_eq "caps" "$(echo "$out" | head -n 3)" "CapPrm: 0000000000000000
CapEff: 0000000000000000
CapBnd: 0000000000000000"
	expect_contains "sethostname without caps" "$out" "Operation not permitted"
}

# a non-root user keeps the capabilities the spec gives it
test_cfg_capabilities_nonroot() {
	make_bundle "$B"
	cfg "$B" '.process.user = {uid: 1000, gid: 1000} |
		.process.capabilities = {bounding: ["CAP_CHOWN","CAP_KILL"], effective: ["CAP_KILL"],
		permitted: ["CAP_KILL"], inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}'
	# a non-root execve keeps only ambient capabilities (capabilities(7))
	out=$(run_sh 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr "\t" " "')
	expect_eq "caps" "$out" "CapEff: 0000000000000020
CapBnd: 0000000000000021"
}

test_cfg_rlimits() {
	make_bundle "$B"
	cfg "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 200},
		{type: "RLIMIT_NPROC", soft: 500, hard: 600}]'
	out=$(run_sh 'ulimit -n; ulimit -Hn; grep "^Max processes" /proc/self/limits | tr -s " "')
	expect_eq "rlimits" "$out" "100
200
Max processes 500 600 processes "
}

test_cfg_no_new_privileges() {
	make_bundle "$B"
	cfg "$B" '.process.noNewPrivileges = true'
	out=$(run_sh 'grep ^NoNewPrivs /proc/self/status | cut -f2')
	expect_eq "noNewPrivileges true" "$out" 1
	h delete "${IDPREFIX}a" 2>/dev/null || true
	cfg "$B" '.process.noNewPrivileges = false'
	out=$(run_sh 'grep ^NoNewPrivs /proc/self/status | cut -f2')
	expect_eq "noNewPrivileges false" "$out" 0
}

test_cfg_oom_score_adj() {
	make_bundle "$B"
	cfg "$B" '.process.oomScoreAdj = 500'
	expect_eq "oomScoreAdj 500" "$(run_sh 'cat /proc/self/oom_score_adj')" 500
	# lowering it below hull's own needs CAP_SYS_RESOURCE in hull itself
	local eff
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	if (( (16#$eff >> 24) & 1 )); then
		cfg "$B" '.process.oomScoreAdj = -100'
		expect_eq "oomScoreAdj -100" "$(run_sh 'cat /proc/self/oom_score_adj')" -100
	else
		echo "skipped: oomScoreAdj -100: this host's root has no CAP_SYS_RESOURCE"
	fi
}

test_cfg_root_readonly() {
	make_bundle "$B"
	cfg "$B" '.root.readonly = true'
	out=$(run_sh 'touch /x 2>&1; grep " / " /proc/mounts | cut -d" " -f4 | cut -d, -f1')
	expect_contains "touch on a readonly root" "$out" "Read-only file system"
	expect_eq "root mount flags" "$(echo "$out" | tail -n 1)" ro
	[ ! -e "$B/rootfs/x" ] || fail "file created in a readonly rootfs"
	cfg "$B" '.root.readonly = false'
	out=$(run_sh 'touch /x && echo made')
	expect_eq "touch on a writable root" "$out" made
	[ -e "$B/rootfs/x" ] || fail "file not in the rootfs"
}

test_cfg_hostname_domainname() {
	make_bundle "$B"
	cfg "$B" '.hostname = "box1" | .domainname = "example.org"'
	before=$(hostname)
	out=$(run_sh 'hostname; cat /proc/sys/kernel/domainname')
	expect_eq "hostname/domainname" "$out" "box1
example.org"
	expect_eq "host hostname unchanged" "$(hostname)" "$before"
}

test_cfg_mount_tmpfs() {
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/mnt/t", type: "tmpfs", source: "tmpfs",
		options: ["nosuid", "nodev", "size=2m", "mode=1750"]}]'
	out=$(run_sh 'grep " /mnt/t " /proc/mounts; stat -c %a /mnt/t')
	line=$(echo "$out" | head -n 1)
	for o in rw nosuid nodev size=2048k mode=1750; do
		expect_contains "tmpfs options" ",$(echo "$line" | cut -d' ' -f4)," ",$o,"
	done
	expect_eq "mode" "$(echo "$out" | tail -n 1)" 1750
}

test_cfg_mount_bind_ro() {
	hd=$TESTROOT/hd-$IDPREFIX
	mkdir -p "$hd" && echo hostdata > "$hd/f"
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/data", type: "bind", source: $A[0],
		options: ["bind", "ro"]}]' "$hd"
	out=$(run_sh 'cat /data/f; touch /data/g 2>&1; grep " /data " /proc/mounts | cut -d" " -f4 | cut -d, -f1')
	rm -rf "$hd"
	expect_eq "bind ro" "$out" "hostdata
touch: /data/g: Read-only file system
ro"
}

test_cfg_mount_bind_rw() {
	hd=$TESTROOT/hd-$IDPREFIX
	mkdir -p "$hd"
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/data", type: "none", source: $A[0],
		options: ["bind", "rw"]}]' "$hd"
	run_sh 'echo fromcontainer > /data/g' >/dev/null
	got=$(cat "$hd/g")
	rm -rf "$hd"
	expect_eq "written through the bind" "$got" fromcontainer
}

# bind takes the directory alone, rbind takes its submounts too.  The
# submount lives in a private mount namespace of the test, not on the host.
test_cfg_mount_rbind() {
	hd=$TESTROOT/hd-$IDPREFIX
	mkdir -p "$hd/sub"
	make_bundle "$B"
	cfg "$B" '.mounts += [
		{destination: "/b", type: "bind", source: $A[0], options: ["bind"]},
		{destination: "/rb", type: "bind", source: $A[0], options: ["rbind"]}]' "$hd"
	set_argv "$B" sh -c 'echo "b:$(ls /b/sub)"; echo "rb:$(cat /rb/sub/f)"'
	out=$(unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs "$1/sub" &&
		echo subfile > "$1/sub/f" && exec timeout 15 "$2" --root "$3" run --bundle "$4" "$5"' \
		sh "$hd" "$HULL" "$STATE" "$B" "${IDPREFIX}a")
	rm -rf "$hd"
	expect_eq "bind vs rbind" "$out" "b:
rb:subfile"
}

test_cfg_mount_bind_file() {
	hf=$TESTROOT/hf-$IDPREFIX
	echo "file from the host" > "$hf"
	make_bundle "$B"
	cfg "$B" '.mounts += [{destination: "/etc/hostfile.conf", type: "bind",
		source: $A[0], options: ["bind", "ro"]}]' "$hf"
	out=$(run_sh 'cat /etc/hostfile.conf; [ -f /etc/hostfile.conf ] && echo regular')
	rm -f "$hf"
	expect_eq "bind of a file" "$out" "file from the host
regular"
}

test_cfg_masked_paths() {
	make_bundle "$B"
	mkdir -p "$B/rootfs/opt/private"
	echo s3cret > "$B/rootfs/etc/secret"
	echo s3cret > "$B/rootfs/opt/private/key"
	cfg "$B" '.linux.maskedPaths += ["/etc/secret", "/opt/private"]'
	out=$(run_sh 'echo "kcore:$(head -c 16 /proc/kcore | wc -c)"
		echo "secret:$(cat /etc/secret)"
		echo "private:$(ls -A /opt/private)"
		echo "firmware:$(ls -A /sys/firmware)"
		echo "keys:$(cat /proc/keys)"')
	expect_eq "masked" "$out" "kcore:0
secret:
private:
firmware:
keys:"
}

test_cfg_readonly_paths() {
	make_bundle "$B"
	mkdir -p "$B/rootfs/opt/ro" "$B/rootfs/opt/rw"
	cfg "$B" '.root.readonly = false | .linux.readonlyPaths += ["/opt/ro"]'
	out=$(run_sh 'touch /opt/ro/x 2>&1; touch /opt/rw/x && echo rw-ok
		echo x 2>&1 > /proc/sys/kernel/hostname; true')
	expect_contains "readonly path" "$out" "touch: /opt/ro/x: Read-only file system"
	expect_contains "writable path" "$out" "rw-ok"
	expect_contains "/proc/sys" "$(echo "$out" | tail -n 1)" "Read-only file system"
}

test_cfg_devices() {
	make_bundle "$B"
	cfg "$B" '.linux.devices = [{path: "/dev/mynull", type: "c", major: 1, minor: 3,
			fileMode: 432, uid: 0, gid: 5}] |
		.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 3, access: "rwm"}]'
	out=$(run_sh 'stat -c "%F %t %T %a %u %g" /dev/mynull; echo hi > /dev/mynull && echo written')
	expect_eq "extra device" "$out" "character special file 1 3 660 0 5
written"
}

test_cfg_default_devices() {
	make_bundle "$B"
	out=$(run_sh 'for d in null zero full random urandom tty; do
			[ -c /dev/$d ] || echo "missing /dev/$d"
		done
		[ -e /dev/ptmx ] || echo "missing /dev/ptmx"
		echo "fd:$(readlink /dev/fd)"
		echo "stdin:$(readlink /dev/stdin)"
		echo "urandom:$(head -c 4 /dev/urandom | wc -c)"
		echo "zero:$(head -c 4 /dev/zero | wc -c)"
		echo x > /dev/null && echo null-ok
		echo x 2>&1 > /dev/full; true')
	expect_eq "default devices" "$out" "fd:/proc/self/fd
stdin:/proc/self/fd/0
urandom:4
zero:4
null-ok
sh: write error: No space left on device"
}

test_cfg_sysctl_net() {
	make_bundle "$B"
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	cfg "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	out=$(run_sh 'cat /proc/sys/net/ipv4/ip_forward')
	expect_eq "net.ipv4.ip_forward in the container" "$out" 1
	expect_eq "host ip_forward unchanged" "$(cat /proc/sys/net/ipv4/ip_forward)" "$before"
}

test_cfg_sysctl_ipc() {
	make_bundle "$B"
	before=$(cat /proc/sys/kernel/shmmax)
	cfg "$B" '.linux.sysctl = {"kernel.shmmax": "123456789", "kernel.msgmax": "4321"}'
	out=$(run_sh 'cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax')
	expect_eq "ipc sysctls in the container" "$out" "123456789
4321"
	expect_eq "host shmmax unchanged" "$(cat /proc/sys/kernel/shmmax)" "$before"
}

test_cfg_pid_namespace() {
	make_bundle "$B"
	out=$(run_sh 'echo $$; ls /proc | grep -c "^[0-9]"')
	expect_eq "pid 1" "$(echo "$out" | head -n 1)" 1
	[ "$(echo "$out" | tail -n 1)" -le 3 ] || fail "the container sees $(echo "$out" | tail -n 1) processes"
}

test_cfg_net_namespace() {
	make_bundle "$B"
	out=$(run_sh 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')
	expect_eq "interfaces" "$out" lo
}

# each listed namespace is new, an unlisted one is the host's
test_cfg_namespaces_new_and_shared() {
	make_bundle "$B"
	cfg "$B" '.linux.namespaces |= map(select(.type != "ipc"))'
	out=$(run_sh 'for n in pid net ipc uts mnt cgroup; do echo "$n $(readlink /proc/self/ns/$n)"; done')
	for n in pid net uts mnt cgroup; do
		inner=$(echo "$out" | awk -v n=$n '$1 == n {print $2}')
		[ -n "$inner" ] || fail "no $n namespace seen"
		[ "$inner" != "$(readlink /proc/self/ns/$n)" ] || fail "$n namespace is the host's"
	done
	expect_eq "ipc namespace shared" "$(echo "$out" | awk '$1 == "ipc" {print $2}')" \
		"$(readlink /proc/self/ns/ipc)"
}

test_cfg_join_net_namespace() {
	ns=${IDPREFIX}n
	ip netns add "$ns"
	trap 'ip netns del "$ns" 2>/dev/null' EXIT
	make_bundle "$B"
	cfg "$B" '(.linux.namespaces[] | select(.type == "network")) .path = $A[0]' \
		"/run/netns/$ns"
	want=$(ip netns exec "$ns" readlink /proc/self/ns/net)
	out=$(run_sh 'readlink /proc/self/ns/net')
	expect_eq "joined network namespace" "$out" "$want"
}

test_cfg_user_namespace() {
	make_bundle "$B" sleep 30
	cfg "$B" '.linux.namespaces += [{type: "user"}] |
		.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
		.linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	ht run --detach --bundle "$B" "${IDPREFIX}a" </dev/null >"$TESTROOT/out.$IDPREFIX" 2>&1 ||
		{ cat "$TESTROOT/out.$IDPREFIX"; false; }
	pid=$(h state "${IDPREFIX}a" | jq -r .pid)
	expect_eq "host uid of the process" "$(stat -c %u "/proc/$pid")" 100000
	out=$(ht exec "${IDPREFIX}a" sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "')
	expect_eq "inside" "$out" "0
0
 0 100000 65536
 0 100000 65536"
	h delete --force "${IDPREFIX}a"
	rm -f "$TESTROOT/out.$IDPREFIX"
}

test_cfg_personality() {
	make_bundle "$B"
	cfg "$B" '.linux.personality = {domain: "LINUX32"}'
	expect_eq "uname -m" "$(run_sh 'uname -m')" i686
}

# start a recvtty on SOCK writing to OUT, with INPUT for the pty
start_recvtty() {
	"$HELPERS/recvtty" "$1" "${3:-}" >"$2" 2>&1 &
	RECVTTY_PID=$!
	wait_for 50 test -S "$1" || fail "recvtty did not start: $(cat "$2")"
}

test_cfg_terminal() {
	[ -x "$HELPERS/recvtty" ] || fail "no $HELPERS/recvtty (make check TESTS=)"
	make_bundle "$B"
	cfg "$B" '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
	set_argv "$B" sh -c 'read x; echo "got:$x"; tty; stty size; [ -t 1 ] && echo isatty'
	sock=$TESTROOT/tty-$IDPREFIX.sock
	start_recvtty "$sock" "$TESTROOT/tty-$IDPREFIX.out" "hello
"
	ht run --console-socket "$sock" --bundle "$B" "${IDPREFIX}a"
	wait_pid_gone "$RECVTTY_PID" 30 || fail "recvtty did not end: $?"
	out=$(tr -d '\r' < "$TESTROOT/tty-$IDPREFIX.out")
	rm -f "$TESTROOT/tty-$IDPREFIX.out"
	expect_contains "terminal input" "$out" "got:hello"
	expect_contains "tty" "$out" "/dev/pts/"
	expect_contains "console size" "$out" "30 100"
	expect_contains "isatty" "$out" "isatty"
}

test_cfg_exec_terminal() {
	[ -x "$HELPERS/recvtty" ] || fail "no $HELPERS/recvtty (make check TESTS=)"
	make_bundle "$B" sleep 30
	hq run --detach --bundle "$B" "${IDPREFIX}a"
	sock=$TESTROOT/tty-$IDPREFIX.sock
	start_recvtty "$sock" "$TESTROOT/tty-$IDPREFIX.out"
	set +e; ht exec -t --console-socket "$sock" "${IDPREFIX}a" sh -c 'tty; echo exec-tty-ok; exit 3'; rc=$?; set -e
	wait_pid_gone "$RECVTTY_PID" 30 || fail "recvtty did not end: $?"
	out=$(tr -d '\r' < "$TESTROOT/tty-$IDPREFIX.out")
	rm -f "$TESTROOT/tty-$IDPREFIX.out"
	h delete --force "${IDPREFIX}a"
	expect_eq "exec -t status" "$rc" 3
	expect_contains "exec tty" "$out" "/dev/pts/"
	expect_contains "exec output" "$out" "exec-tty-ok"
}

test_cfg_seccomp_errno() {
	make_bundle "$B"
	cfg "$B" '.root.readonly = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64"],
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1},
			   {names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
	mkdir "$B/rootfs/tmp/d"
	out=$(run_sh 'mkdir /tmp/x 2>&1; rmdir /tmp/d 2>&1; echo still-running')
	expect_eq "seccomp errno" "$out" "mkdir: can't create directory '/tmp/x': Operation not permitted
rmdir: '/tmp/d': Permission denied
still-running"
	[ ! -e "$B/rootfs/tmp/x" ] || fail "mkdir went through"
}

test_cfg_seccomp_kill_process() {
	make_bundle "$B"
	cfg "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["sethostname"], action: "SCMP_ACT_KILL_PROCESS"}]}'
	set +e; out=$(run_sh 'echo before; exec hostname x'); rc=$?; set -e
	expect_eq "output" "$out" before
	expect_eq "exit status" "$rc" 159
}

test_cfg_seccomp_notify() {
	[ -x "$HELPERS/seccomp_agent" ] || fail "no $HELPERS/seccomp_agent (make check TESTS=)"
	make_bundle "$B"
	sock=$TESTROOT/agent-$IDPREFIX.sock
	cfg "$B" '.root.readonly = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		listenerPath: $A[0], listenerMetadata: "meta-data",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' "$sock"
	"$HELPERS/seccomp_agent" "$sock" "$TESTROOT/agent-$IDPREFIX.json" \
		>"$TESTROOT/agent-$IDPREFIX.log" 2>&1 &
	apid=$!
	wait_for 50 test -S "$sock" || fail "agent did not start"
	set +e; out=$(run_sh 'mkdir /tmp/x 2>&1; touch /tmp/y && echo touched'); rc=$?; set -e
	wait_pid_gone "$apid" 30 || fail "agent: status $?: $(cat "$TESTROOT/agent-$IDPREFIX.log")"
	st=$(cat "$TESTROOT/agent-$IDPREFIX.json" 2>/dev/null || true)
	log=$(cat "$TESTROOT/agent-$IDPREFIX.log")
	rm -f "$TESTROOT/agent-$IDPREFIX".*
	expect_eq "run status" "$rc" 0
	expect_eq "notified mkdir" "$out" "mkdir: can't create directory '/tmp/x': Operation not permitted
touched"
	expect_eq "agent's state: id" "$(echo "$st" | jq -r .state.id)" "${IDPREFIX}a"
	expect_eq "agent's state: fds" "$(echo "$st" | jq -c .fds)" '["seccompFd"]'
	expect_eq "agent's state: metadata" "$(echo "$st" | jq -r .metadata)" meta-data
	expect_contains "agent log" "$log" "syscall"
	[ ! -e "$B/rootfs/tmp/x" ] || fail "mkdir went through"
}

# hook SCRIPT: a host script that records its kind ($1), its stdin, $2 and
# $HOOK_ENV in $hk.
write_hook() {
	cat > "$1" <<EOF
#!/bin/sh
cat > "$hk/\$1.json"
echo "\$1" >> "$hk/order"
echo "\$2 \$HOOK_ENV" > "$hk/\$1.args"
EOF
	chmod +x "$1"
}

test_cfg_hooks() {
	hk=$TESTROOT/hk-$IDPREFIX
	mkdir -p "$hk"
	write_hook "$hk/hook.sh"
	make_bundle "$B" sleep 30
	# startContainer runs in the container: its path is the container's
	printf '#!/bin/sh\ncat > /tmp/startContainer.json\n' > "$B/rootfs/hook-start.sh"
	chmod +x "$B/rootfs/hook-start.sh"
	cfg "$B" '.root.readonly = false | .hooks = {} | reduce
		("prestart", "createRuntime", "createContainer", "poststart", "poststop") as $k (.;
		.hooks[$k] = [{path: $A[0], args: ["hook.sh", $k, "arg-\($k)"],
			env: ["PATH=/usr/bin:/bin", "HOOK_ENV=env-\($k)"]}]) |
		.hooks.startContainer = [{path: "/hook-start.sh"}]' "$hk/hook.sh"
	id=${IDPREFIX}a
	bundle=$(cd "$B" && pwd -P)
	hq create --bundle "$B" "$id"
	expect_eq "hooks run by create" "$(sort "$hk/order" | tr '\n' ' ')" \
		"createContainer createRuntime prestart "
	expect_eq "createContainer runs last" "$(tail -n 1 "$hk/order")" createContainer
	pid=$(h state "$id" | jq -r .pid)
	for k in prestart createRuntime createContainer; do
		expect_eq "$k: id" "$(jq -r .id "$hk/$k.json")" "$id"
		expect_eq "$k: pid" "$(jq -r .pid "$hk/$k.json")" "$pid"
		expect_eq "$k: bundle" "$(jq -r .bundle "$hk/$k.json")" "$bundle"
		expect_eq "$k: args and env" "$(cat "$hk/$k.args")" "arg-$k env-$k"
	done
	[ ! -e "$B/rootfs/tmp/startContainer.json" ] || fail "startContainer ran at create"
	ht start "$id"
	wait_for 30 test -s "$hk/poststart.json" || fail "no poststart"
	expect_eq "startContainer: id" "$(jq -r .id "$B/rootfs/tmp/startContainer.json")" "$id"
	expect_eq "poststart: id" "$(jq -r .id "$hk/poststart.json")" "$id"
	expect_eq "poststart: pid" "$(jq -r .pid "$hk/poststart.json")" "$pid"
	[ ! -e "$hk/poststop.json" ] || fail "poststop ran before delete"
	h kill "$id" KILL
	wait_for 50 sh -c "[ \"\$(\"$HULL\" --root \"$STATE\" state $id | jq -r .status)\" = stopped ]"
	h delete "$id"
	expect_eq "poststop: id" "$(jq -r .id "$hk/poststop.json")" "$id"
	expect_eq "poststop: args and env" "$(cat "$hk/poststop.args")" "arg-poststop env-poststop"
	expect_eq "order" "$(tail -n 2 "$hk/order" | tr '\n' ' ')" "poststart poststop "
	rm -rf "$hk"
}

test_cfg_hook_failure_cleans_up() {
	make_bundle "$B" sh -c "sleep 30; : hull-it-marker-$IDPREFIX"
	cfg "$B" '.hooks = {prestart: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	expect_clean_failure "failing prestart hook" "$out" "$rc" "prestart"
	set +e; out=$(h state "${IDPREFIX}a" 2>&1); set -e
	expect_contains "state after the failed create" "$out" "does not exist"
}

test_cfg_hook_timeout() {
	make_bundle "$B" true
	cfg "$B" '.hooks = {createRuntime: [{path: "/bin/bash", timeout: 1,
		args: ["bash", "-c", $A[0]]}]}' \
		"exec -a sleep-hull-it-marker-$IDPREFIX sleep 10"
	start=$(date +%s)
	set +e; out=$(hq create --bundle "$B" "${IDPREFIX}a" 2>&1); rc=$?; set -e
	took=$(( $(date +%s) - start ))
	expect_clean_failure "hook timeout" "$out" "$rc" "createRuntime"
	expect_contains "hook timeout" "$out" "time"
	[ "$took" -le 4 ] || fail "create took ${took}s with a 1 s hook timeout"
}

test_cfg_annotations() {
	make_bundle "$B" sleep 30
	cfg "$B" '.annotations = {"org.example.key": "value 1", "org.example.other": ""}'
	hq create --bundle "$B" "${IDPREFIX}a"
	expect_eq "annotations in state" "$(h state "${IDPREFIX}a" | jq -c .annotations)" \
		'{"org.example.key":"value 1","org.example.other":""}'
	h delete --force "${IDPREFIX}a"
}

test_cfg_preserve_fds() {
	make_bundle "$B"
	echo "line three" > "$TESTROOT/f3-$IDPREFIX"
	echo "line four" > "$TESTROOT/f4-$IDPREFIX"
	set_argv "$B" sh -c 'read l <&3; echo "fd3:$l"; read l <&4; echo "fd4:$l"; [ -e /proc/$$/fd/5 ] && echo fd5-leaked; true'
	out=$(ht run --preserve-fds 2 --bundle "$B" "${IDPREFIX}a" 3<"$TESTROOT/f3-$IDPREFIX" \
		4<"$TESTROOT/f4-$IDPREFIX" 5<"$TESTROOT/f4-$IDPREFIX")
	rm -f "$TESTROOT/f3-$IDPREFIX" "$TESTROOT/f4-$IDPREFIX"
	expect_eq "preserved fds" "$out" "fd3:line three
fd4:line four"
}

test_cfg_listen_fds() {
	make_bundle "$B"
	echo "socket one" > "$TESTROOT/f3-$IDPREFIX"
	set_argv "$B" sh -c 'echo "$LISTEN_FDS $LISTEN_PID"; read l <&3; echo "fd3:$l"; [ -e /proc/$$/fd/4 ] && echo fd4-leaked; true'
	out=$(LISTEN_FDS=1 LISTEN_PID=$$ ht run --bundle "$B" "${IDPREFIX}a" \
		3<"$TESTROOT/f3-$IDPREFIX" 4<"$TESTROOT/f3-$IDPREFIX")
	rm -f "$TESTROOT/f3-$IDPREFIX"
	expect_eq "socket activation" "$out" "1 1
fd3:socket one"
}
