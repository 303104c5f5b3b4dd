# Docker: dockerd (its own containerd) with the runtime under test added in
# daemon.json "runtimes" and chosen with --runtime.

dkr() { local c=$1; shift; dk "$c" --runtime "$(docker_rt_name)" "$@"; }
dk_logs_have() { dk logs "$1" 2>&1 | grep -q "$2"; }

test_docker_run_rm_exit_status() {
	local out rc=0
	out=$(dkr run --rm hbb echo hello-from-docker)
	expect_eq "output" "$out" hello-from-docker
	expect_runtime_used create
	expect_runtime_used start
	dkr run --rm hbb sh -c 'exit 7' || rc=$?
	expect_eq "exit status" "$rc" 7
	rc=0
	dkr run --rm hbb /no/such/binary 2>/dev/null || rc=$?
	expect_eq "missing binary status" "$rc" 127
	expect_eq "containers left" "$(dk ps -aq)" ""
}

test_docker_detach_logs_exec_stop_rm() {
	local out t0 t1 rc
	dkr run -d --name dd1 hbb sh -c "$TERM_LOOP" >/dev/null
	wait_for 10 dk_logs_have dd1 started || fail "no 'started' in the logs: $(dk logs dd1 2>&1)"
	out=$(dk exec dd1 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "')
	expect_contains "exec" "$out" in-exec
	expect_contains "exec sees PID 1" "$out" trap
	expect_runtime_used exec
	# Docker 20.10 says 126 for any exec that cannot start (runc too), and
	# passes the runtime's words on
	rc=0
	out=$(dk exec dd1 nosuchcommand 2>&1) || rc=$?
	expect_eq "exec of a missing command" "$rc" 126
	expect_contains "its message" "$out" 'executable file not found in $PATH'
	t0=$(date +%s)
	dk stop -t 20 dd1 >/dev/null
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 10 ] || fail "stop waited $((t1 - t0))s: SIGTERM not delivered"
	expect_contains "logs after stop" "$(dk logs dd1)" got-term
	expect_eq "exit code" "$(dk inspect -f '{{.State.ExitCode}}' dd1)" 0
	dk rm dd1 >/dev/null
	expect_runtime_used delete
	expect_eq "containers left" "$(dk ps -aq)" ""
}

test_docker_stop_timeout_sigkill() {
	local t0 t1
	dkr run -d --name dd2 hbb sh -c 'trap "" TERM; echo up; while true; do sleep 0.1; done' >/dev/null
	wait_for 10 dk_logs_have dd2 up || fail "no 'up' in the logs"
	t0=$(date +%s)
	dk stop -t 2 dd2 >/dev/null
	t1=$(date +%s)
	[ $((t1 - t0)) -ge 2 ] || fail "stop returned after $((t1 - t0))s, before the timeout"
	expect_eq "exit code (SIGKILL)" "$(dk inspect -f '{{.State.ExitCode}}' dd2)" 137
}

test_docker_run_it_terminal() {
	local rc
	in_tmux dit "DOCKER_CONFIG=$W/docker/cli /usr/bin/docker -H unix://$W/docker/docker.sock run -it --rm --runtime $(docker_rt_name) hbb sh"
	tmux_expect dit '/ #'
	tmux_keys dit 'tty; stty size; echo mark$((6*7))'
	tmux_expect dit mark42
	tmux_expect dit /dev/pts/0
	tmux_expect dit '30 100'
	tmux_keys dit 'exit 3'
	rc=$(tmux_rc dit)
	expect_eq "exit status through the terminal" "$rc" 3
}

test_docker_exec_it_terminal() {
	local rc
	dkr run -d --name dd3 hbb sleep 300 >/dev/null
	in_tmux dex "DOCKER_CONFIG=$W/docker/cli /usr/bin/docker -H unix://$W/docker/docker.sock exec -it dd3 sh"
	tmux_expect dex '/ #'
	tmux_keys dex 'tty; echo ex$((6*7))'
	tmux_expect dex ex42
	tmux_expect dex /dev/pts/
	tmux_keys dex 'exit 4'
	rc=$(tmux_rc dex)
	expect_eq "exec -it exit status" "$rc" 4
}

test_docker_memory_limit() {
	local pid rc=0
	dkr run -d --name dd4 --memory 64m --memory-swap 64m --shm-size 256m hbb sleep 300 >/dev/null
	pid=$(dk inspect -f '{{.State.Pid}}' dd4)
	expect_eq "memory limit" "$(cg_read "$pid" memory memory.limit_in_bytes memory.max)" 67108864
	# the limit bites: 100 MiB of shm pages cannot fit in 64 MiB
	dk exec dd4 dd if=/dev/zero of=/dev/shm/big bs=1M count=100 2>/dev/null || rc=$?
	expect_eq "dd past the limit is OOM-killed" "$rc" 137
}
