# podman, as root, with the runtime under test as containers.conf's default
# runtime (registered by name) unless a test says otherwise.

IMG=localhost/hbb:latest

# A loop that answers SIGTERM (sh as PID 1 ignores signals without a trap).
TERM_LOOP='echo started; trap "echo got-term; exit 0" TERM; while true; do sleep 0.1; done'

pm_logs_have() { pm logs "$1" 2>&1 | grep -q "$2"; }

test_podman_run_rm_echo() {
	local out
	out=$(pm run --rm "$IMG" echo hello-from-podman)
	expect_eq "output" "$out" hello-from-podman
	expect_runtime_used create
	expect_runtime_used start
	expect_eq "containers left" "$(pm ps -aq)" ""
}

# --runtime with a path, not a name (podman's own flag).
test_podman_runtime_flag_path() {
	local out
	out=$(pm --runtime "$RT" run --rm "$IMG" sh -c 'echo pid=$$')
	expect_eq "output" "$out" pid=1
	expect_runtime_used create
}

test_podman_exit_status() {
	local rc=0
	pm run --rm "$IMG" sh -c 'exit 7' || rc=$?
	expect_eq "exit status" "$rc" 7
	rc=0
	pm run --rm "$IMG" /no/such/binary 2>"$W/err" || rc=$?
	# podman maps the runtime's "no such file" text to 127
	expect_eq "missing binary status" "$rc" 127
	rc=0
	pm run --rm "$IMG" /etc/passwd 2>"$W/err" || rc=$?
	expect_eq "not executable status" "$rc" 126
}

test_podman_detach_logs_exec_stop_rm() {
	local out t0 t1 rc
	pm run -d --name pd1 "$IMG" sh -c "$TERM_LOOP" >/dev/null
	wait_for 10 pm_logs_have pd1 started ||
		fail "no 'started' in the logs: $(pm logs pd1 2>&1)"
	expect_eq "status" "$(pm inspect -f '{{.State.Status}}' pd1)" running
	out=$(pm exec pd1 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "')
	expect_contains "exec" "$out" in-exec
	expect_contains "exec sees PID 1" "$out" "trap"
	expect_runtime_used exec
	out=$(pm exec -e FOO=bar -w /tmp pd1 sh -c 'echo $FOO $(pwd)')
	expect_eq "exec env and cwd" "$out" "bar /tmp"
	rc=0
	pm exec pd1 nosuchcommand 2>/dev/null || rc=$?
	expect_eq "exec of a missing command" "$rc" 127
	t0=$(date +%s)
	pm stop -t 20 pd1 >/dev/null
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 10 ] || fail "stop waited $((t1 - t0))s: SIGTERM not delivered"
	expect_contains "logs after stop" "$(pm logs pd1)" got-term
	expect_eq "exit code" "$(pm inspect -f '{{.State.ExitCode}}' pd1)" 0
	expect_runtime_used kill
	pm rm pd1 >/dev/null
	expect_runtime_used delete
	expect_eq "containers left" "$(pm ps -aq)" ""
}

# A process that ignores SIGTERM is killed after the timeout.
test_podman_stop_timeout_sigkill() {
	local t0 t1
	pm run -d --name pd2 "$IMG" sh -c 'trap "" TERM; echo up; while true; do sleep 0.1; done' >/dev/null
	wait_for 10 pm_logs_have pd2 up || fail "no 'up' in the logs"
	t0=$(date +%s)
	pm stop -t 2 pd2 >/dev/null 2>&1
	t1=$(date +%s)
	[ $((t1 - t0)) -ge 2 ] || fail "stop returned after $((t1 - t0))s, before the timeout"
	[ $((t1 - t0)) -lt 15 ] || fail "stop took $((t1 - t0))s"
	expect_eq "exit code (SIGKILL)" "$(pm inspect -f '{{.State.ExitCode}}' pd2)" 137
	expect_eq "state" "$(pm inspect -f '{{.State.Status}}' pd2)" exited
}

test_podman_run_it_terminal() {
	local rc
	in_tmux pit "CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf CONTAINERS_REGISTRIES_CONF=$W/podman/registries.conf nsenter --net=/run/netns/$NETNS podman run -it --rm $IMG sh"
	tmux_expect pit '/ #'
	tmux_keys pit 'tty; stty size; echo mark$((6*7))'
	tmux_expect pit mark42
	tmux_expect pit /dev/pts/0
	tmux_expect pit '30 100'
	# the terminal's size follows the pane
	tmux -L "$TMUX_SOCK" resize-window -t pit -x 90 -y 25 2>/dev/null ||
		tmux -L "$TMUX_SOCK" resize-pane -t pit -x 90 -y 25
	sleep 0.5
	tmux_keys pit 'stty size'
	tmux_expect pit '25 90'
	tmux_keys pit 'exit 3'
	rc=$(tmux_rc pit)
	expect_eq "exit status through the terminal" "$rc" 3
}

test_podman_exec_it_terminal() {
	local rc
	pm run -d --name pit2 "$IMG" sleep 300 >/dev/null
	in_tmux pex "CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf nsenter --net=/run/netns/$NETNS podman exec -it pit2 sh"
	tmux_expect pex '/ #'
	tmux_keys pex 'tty; echo ex$((6*7)); ps -o pid,args | grep -c "sleep 300"'
	tmux_expect pex ex42
	tmux_expect pex /dev/pts/
	tmux_keys pex 'exit 4'
	rc=$(tmux_rc pex)
	expect_eq "exec -it exit status" "$rc" 4
	expect_eq "container still running" "$(pm inspect -f '{{.State.Status}}' pit2)" running
}
