# config.md: root, mounts, process, hostname/domainname — each observed
# from inside the container.

# root: path (relative and absolute) and readonly.
ct_root() {
	local out
	newb
	echo rel >"$B/rootfs/marker"
	out=$(inside 'cat /marker; touch /x 2>/dev/null && echo writable || echo readonly') || return 1
	want "relative root.path, readonly true" "$out" "rel
readonly"
	# an absolute root.path outside the bundle, readonly false
	mv "$B/rootfs" "$W/elsewhere"
	echo abs >"$W/elsewhere/marker"
	cfg '.root = {path: $A[0], readonly: false}' "$W/elsewhere"
	out=$(inside 'cat /marker; touch /x && echo writable') || return 1
	want "absolute root.path, readonly false" "$out" "abs
writable"
	[ -e "$W/elsewhere/x" ] || fail "the file written in / is not in root.path"
}

# mounts: types, options, order, destinations created, bind ro/rw.
ct_mounts() {
	local out mi l
	newb
	mkdir -p "$W/ro" "$W/rw" "$W/first" "$W/second"
	echo ro-data >"$W/ro/f"
	echo one >"$W/first/f"
	echo two >"$W/second/f"
	cfg '.mounts += [
		{destination: "/mnt/t", type: "tmpfs", source: "tmpfs",
		 options: ["nosuid", "nodev", "noexec", "size=1m", "mode=700"]},
		{destination: "/mnt/t/ro", type: "bind", source: $A[0], options: ["bind", "ro"]},
		{destination: "/mnt/rw", type: "bind", source: $A[1], options: ["rbind", "rw"]},
		{destination: "/mnt/o", type: "bind", source: $A[2], options: ["bind"]},
		{destination: "/mnt/o", type: "bind", source: $A[3], options: ["bind"]}]' \
		"$W/ro" "$W/rw" "$W/first" "$W/second"
	out=$(inside 'cat /proc/self/mountinfo; echo ===
		cat /mnt/t/ro/f; echo x > /mnt/t/ro/g 2>/dev/null && echo ro-writable
		echo inside > /mnt/rw/new; cat /mnt/o/f') || return 1
	mi=${out%%===*}
	want "bind ro, rw bind, order (the later mount on top)" "${out#*===}" "
ro-data
two" || return 1
	want "rw bind writes reach the host" "$(cat "$W/rw/new" 2>/dev/null)" inside || return 1
	l=$(printf '%s\n' "$mi" | mi_line /mnt/t)
	has "tmpfs /mnt/t" "$l" " - tmpfs " || return 1
	has "tmpfs options" "$l" nosuid,nodev,noexec || return 1
	has "tmpfs data size" "$l" size=1024k || return 1
	has "tmpfs data mode" "$l" mode=700 || return 1
	l=$(printf '%s\n' "$mi" | mi_line /mnt/t/ro)
	has "bind ro is read-only" "$l" " ro," || return 1
	# The mount under /mnt/t must come after the tmpfs it lives in.
	[ "$(printf '%s\n' "$mi" | awk '$5 == "/mnt/t" {print NR; exit}')" -lt \
		"$(printf '%s\n' "$mi" | awk '$5 == "/mnt/t/ro" {print NR; exit}')" ] ||
		fail "mounts applied out of order"
	for l in "/proc proc" "/dev tmpfs" "/dev/pts devpts" "/dev/shm tmpfs" \
		"/dev/mqueue mqueue" "/sys sysfs"; do
		has "mount ${l% *}" "$(printf '%s\n' "$mi" | mi_line "${l% *}")" " - ${l#* } " || return 1
	done
	has "/sys is ro" "$(printf '%s\n' "$mi" | mi_line /sys)" " ro," || return 1
	has "/dev/shm options" "$(printf '%s\n' "$mi" | mi_line /dev/shm)" "rw,nosuid,nodev,noexec" || return 1
}

# process: args (kept whole), env, cwd.
ct_process_args_env_cwd() {
	local out
	newb
	cfg '.process.args = ["sh", "-c", "printf \"[%s]\" \"$@\"; echo; env | sort; pwd", "zero", "a b", "", "c"]
		| .process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]
		| .process.cwd = "/tmp"'
	out=$(rt run --bundle "$B" "$ID-a" </dev/null) || return 1
	has "args" "$out" "[a b][][c]" || return 1
	has "env with a space" "$out" "FOO=bar baz" || return 1
	has "empty env value" "$out" "
EMPTY=
" || return 1
	has "PATH" "$out" "PATH=/bin" || return 1
	want "cwd" "$(printf '%s\n' "$out" | tail -n 1)" /tmp
}

# process.user: uid, gid, additionalGids.
ct_process_user() {
	local out
	newb
	cfg '.process.user = {uid: 1000, gid: 1001, additionalGids: [5, 2000]}'
	out=$(inside 'id -u; id -g; grep ^Groups: /proc/self/status') || return 1
	want "uid gid groups" "$(printf '%s' "$out" | tr -s '\t ' ' ')" "1000
1001
Groups: 5 2000 "
}

# process.user.umask (and 0022 when unset, as runc and crun do).
ct_process_umask() {
	local out
	newb
	out=$(inside umask) || return 1
	want "umask unset" "$out" 0022 || return 1
	cfg '.process.user.umask = 23 | .root.readonly = false'
	out=$(inside 'umask; touch /tmp/f; stat -c %a /tmp/f') || return 1
	want "umask 0027" "$out" "0027
640"
}

# process.capabilities: each of the five sets, in /proc/self/status.  As
# a non-root user, execve keeps exactly the ambient set in permitted and
# effective, so each set is visible as given.
ct_process_capabilities() {
	local out
	newb
	out=$(inside 'grep ^Cap /proc/self/status') || return 1
	want "default caps as root" "$(printf '%s' "$out" | tr -s '\t' ' ')" "CapInh: 0000000000000000
CapPrm: 0000000020000420
CapEff: 0000000020000420
CapBnd: 0000000020000420
CapAmb: 0000000000000000" || return 1
	cfg '.process.user = {uid: 1000, gid: 1000}
		| .process.noNewPrivileges = false
		| .process.capabilities = {
			bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			permitted: ["CAP_CHOWN", "CAP_KILL"],
			inheritable: ["CAP_CHOWN", "CAP_KILL"],
			effective: ["CAP_CHOWN", "CAP_KILL"],
			ambient: ["CAP_KILL"]}'
	out=$(inside 'grep ^Cap /proc/self/status') || return 1
	want "five sets as uid 1000" "$(printf '%s' "$out" | tr -s '\t' ' ')" "CapInh: 0000000000000021
CapPrm: 0000000000000020
CapEff: 0000000000000020
CapBnd: 0000000000002021
CapAmb: 0000000000000020"
}

# process.rlimits: soft and hard values; raising a hard limit needs
# CAP_SYS_RESOURCE, which this machine's root may lack.
ct_process_rlimits() {
	local out hard
	newb
	cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 512, hard: 800},
		{type: "RLIMIT_NPROC", soft: 300, hard: 400},
		{type: "RLIMIT_CORE", soft: 0, hard: 0}]'
	out=$(inside 'ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu; ulimit -c') || return 1
	want "nofile, nproc, core" "$out" "512
800
300
400
0" || return 1
	hard=$(ulimit -Hn)
	if has_cap sys_resource; then
		cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: $A[0] | tonumber, hard: $A[0] | tonumber}]' \
			$((hard * 2))
		out=$(inside 'ulimit -Hn') || return 1
		want "raised hard nofile" "$out" $((hard * 2))
	else
		part_skipped "raising RLIMIT_NOFILE above the host's hard limit ($hard) needs CAP_SYS_RESOURCE, which root lacks here"
	fi
}

ct_process_no_new_privileges() {
	local out
	newb
	cfg '.process.noNewPrivileges = true'
	out=$(inside 'grep ^NoNewPrivs: /proc/self/status') || return 1
	want "noNewPrivileges true" "$(printf '%s' "$out" | tr -d '\t ')" NoNewPrivs:1 || return 1
	cfg '.process.noNewPrivileges = false'
	out=$(inside 'grep ^NoNewPrivs: /proc/self/status') || return 1
	want "noNewPrivileges false" "$(printf '%s' "$out" | tr -d '\t ')" NoNewPrivs:0
}

# process.oomScoreAdj: raising is always allowed; lowering needs
# CAP_SYS_RESOURCE.
ct_process_oom_score_adj() {
	local out
	newb
	cfg '.process.oomScoreAdj = 200'
	out=$(inside 'cat /proc/self/oom_score_adj') || return 1
	want "oomScoreAdj 200" "$out" 200 || return 1
	if has_cap sys_resource; then
		cfg '.process.oomScoreAdj = -300'
		out=$(inside 'cat /proc/self/oom_score_adj') || return 1
		want "oomScoreAdj -300" "$out" -300
	else
		part_skipped "a negative oomScoreAdj needs CAP_SYS_RESOURCE, which root lacks here"
	fi
}

# process.terminal: the pty master goes to --console-socket; the process
# has a terminal on stdin, stdout and stderr.
ct_process_terminal() {
	local out pid
	[ -x "$RECVTTY" ] || skip "tests/helpers/recvtty is not built (make check TESTS=)"
	newb
	cfg '.process.terminal = true'
	script 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; stty size'
	"$RECVTTY" "$W/sock" >"$W/tty.out" 2>"$W/tty.err" &
	pid=$!
	wait_for 50 test -S "$W/sock" || { kill "$pid"; fail "recvtty did not start"; return 1; }
	rt create --bundle "$B" --console-socket "$W/sock" "$ID-t" </dev/null >"$W/c.log" 2>&1 ||
		{ cat "$W/c.log"; kill "$pid"; return 1; }
	rt start "$ID-t" || return 1
	wait "$pid" || fail "recvtty failed: $(cat "$W/tty.err")"
	wait_for 50 is_stopped "$ID-t" || fail "did not stop"
	rt delete "$ID-t"
	out=$(tr -d '\r' <"$W/tty.out")
	has "tty" "$out" /dev/pts/ || return 1
	has "stdio are terminals" "$out" all-ttys
}

# hostname and domainname (in the container's UTS namespace).
ct_hostname() {
	local out
	newb
	cfg '.hostname = "conf-host" | .domainname = "conf.example"'
	out=$(inside 'hostname; cat /proc/sys/kernel/domainname') || return 1
	want "hostname, domainname" "$out" "conf-host
conf.example" || return 1
	[ "$(hostname)" != conf-host ] || fail "the host's hostname changed"
}
