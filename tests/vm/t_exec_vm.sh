# hull exec into a VM-isolated container: the guest's agent (vsock port
# 1024) runs the process in the guest.  Uses bundle and hrun from t_run.sh.

# exec_vm_up NAME: a VM container whose workload waits, running.
exec_vm_up() {
	local b
	b=$(bundle "$1" '.process.args = ["sh", "-c", "echo ready; while :; do sleep 1; done"]')
	hrun create --vm --bundle "$b" "$1" > "$work/$1.out" 2>&1 || return 1
	hrun start "$1" || return 1
	for _ in $(seq 300); do
		grep -q ready "$work/$1.out" && return 0
		sleep 1
	done
	fail "the guest never ran the workload: $(cat "$work/$1.out")"
}

exec_vm_down() {
	hrun kill "$1" KILL 2>/dev/null
	for _ in $(seq 60); do
		[ "$(hrun state "$1" | jq -r .status)" = stopped ] && break
		sleep 1
	done
	hrun delete --force "$1"
}

# Output and stderr apart, the exit status, stdin, user/cwd/env, a
# signal's 128+N, and a missing executable's 127 with its name.
test_exec_vm_run() {
	local n=vm-exec out err st
	exec_vm_up "$n" || return 1
	st=0
	out=$(hrun exec "$n" sh -c 'echo out; echo err >&2; uname -r; exit 3' 2> "$work/exec.err") || st=$?
	expect_eq "exec status" "$st" 3
	expect_eq "stdout" "$(echo "$out" | head -n1)" out
	expect_eq "stderr" "$(cat "$work/exec.err")" err
	[ "$(echo "$out" | sed -n 2p)" != "$(uname -r)" ] || fail "exec ran on the host's kernel"
	out=$(printf 'one\ntwo\n' | hrun exec "$n" sh -c 'wc -l; echo done')
	expect_eq "stdin" "$(echo "$out" | tr -s ' \n' ' ')" "2 done "
	out=$(hrun exec --user 1000:1000 --cwd /home/alice --env GREETING=hi "$n" \
		sh -c 'id -u; id -g; pwd; echo $GREETING')
	expect_eq "user/cwd/env" "$(echo "$out" | tr '\n' ' ')" "1000 1000 /home/alice hi "
	st=0
	hrun exec "$n" sh -c 'kill -9 $$' || st=$?
	expect_eq "killed by SIGKILL" "$st" 137
	st=0
	err=$(hrun exec "$n" hull-no-such-cmd 2>&1) || st=$?
	expect_eq "missing binary status" "$st" 127
	case $err in *hull-no-such-cmd*) ;; *) fail "error does not name it: $err" ;; esac
	# The workload's process is the guest's: exec sees it.
	out=$(hrun exec "$n" ps)
	case $out in *"while :"*|*"sleep 1"*) ;; *) fail "exec does not see the workload: $out" ;; esac
	exec_vm_down "$n"
	[ ! -e "$work/state/$n" ] || fail "state left behind"
}

# --tty without a host terminal: the guest allocates the pty.
# --detach --pid-file: the relay's pid, which exits with the status.
test_exec_vm_tty_detach() {
	local n=vm-exec-tty out pid
	exec_vm_up "$n" || return 1
	out=$(hrun exec -t "$n" sh -c 'test -t 0 && test -t 1 && echo is-a-tty' < /dev/null)
	case $out in *is-a-tty*) ;; *) fail "no tty in the guest: $out" ;; esac
	hrun exec -d --pid-file "$work/exec.pid" "$n" sh -c 'sleep 2; exit 4' > /dev/null
	pid=$(cat "$work/exec.pid")
	[ -e "/proc/$pid" ] || fail "the relay $pid is not running"
	for _ in $(seq 60); do
		[ -e "/proc/$pid" ] || break
		sleep 0.5
	done
	[ ! -e "/proc/$pid" ] || fail "the relay $pid outlived its process"
	exec_vm_down "$n"
}
