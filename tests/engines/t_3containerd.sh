# containerd: ctr with the runc shim (io.containerd.runc.v2) pointed at the
# runtime under test with --runc-binary.

CIMG=localhost/hbb:latest
ct_status() { ct task ls 2>/dev/null | awk -v c="$1" '$1 == c {print $3}'; }
ct_status_is() { [ "$(ct_status "$1")" = "$2" ]; }

test_containerd_run_exit_status() {
	local out rc=0
	out=$(ct_run --rm "$CIMG" cr1 echo hello-from-containerd)
	expect_eq "output" "$out" hello-from-containerd
	expect_runtime_used create
	expect_runtime_used start
	ct_run --rm "$CIMG" cr2 sh -c 'exit 7' || rc=$?
	expect_eq "exit status" "$rc" 7
	expect_eq "containers left" "$(ct container ls -q)" ""
}

test_containerd_exec_kill_delete() {
	local out
	ct_run -d "$CIMG" cr3 sh -c "$TERM_LOOP" >/dev/null
	wait_for 10 ct_status_is cr3 RUNNING || fail "task not running: $(ct task ls)"
	out=$(ct task exec --exec-id e1 cr3 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "')
	expect_contains "exec" "$out" in-exec
	expect_contains "exec sees PID 1" "$out" trap
	expect_runtime_used exec
	rc=0
	ct task exec --exec-id e2 cr3 sh -c 'exit 5' || rc=$?
	expect_eq "exec exit status" "$rc" 5
	# pause and resume through the shim
	ct task pause cr3
	wait_for 10 ct_status_is cr3 PAUSED || fail "not paused: $(ct task ls)"
	expect_runtime_used pause
	ct task resume cr3
	wait_for 10 ct_status_is cr3 RUNNING || fail "not resumed: $(ct task ls)"
	# ps through the shim (the runtime's ps --format json)
	out=$(ct task ps cr3)
	[ "$(printf '%s\n' "$out" | wc -l)" -ge 2 ] || fail "task ps: $out"
	ct task kill -s TERM cr3
	wait_for 10 ct_status_is cr3 STOPPED || fail "SIGTERM did not stop it: $(ct task ls)"
	expect_runtime_used kill
	ct task delete cr3 >/dev/null
	expect_runtime_used delete
	ct container delete cr3
	expect_eq "tasks left" "$(ct task ls -q)" ""
}

test_containerd_kill_sigkill() {
	ct_run -d "$CIMG" cr4 sh -c 'trap "" TERM; while true; do sleep 0.1; done' >/dev/null
	wait_for 10 ct_status_is cr4 RUNNING || fail "task not running"
	ct task kill -s TERM cr4
	sleep 1
	expect_eq "SIGTERM ignored" "$(ct_status cr4)" RUNNING
	ct task kill -s KILL cr4
	wait_for 10 ct_status_is cr4 STOPPED || fail "SIGKILL did not stop it"
	ct task delete cr4 >/dev/null
	ct container delete cr4
}

test_containerd_terminal() {
	local rc
	in_tmux ctt "ctr --address $W/containerd/containerd.sock -n $CTR_NS run -t --rm --runc-binary $RT --runc-root $W/containerd/runc-root $CIMG cr5 sh"
	tmux_expect ctt '/ #'
	tmux_keys ctt 'tty; stty size; echo mark$((6*7))'
	tmux_expect ctt mark42
	tmux_expect ctt /dev/pts/0
	tmux_expect ctt '30 100'
	tmux_keys ctt 'exit 3'
	rc=$(tmux_rc ctt)
	expect_eq "exit status through the terminal" "$rc" 3
}

test_containerd_exec_terminal() {
	local rc
	ct_run -d "$CIMG" cr6 sleep 300 >/dev/null
	wait_for 10 ct_status_is cr6 RUNNING || fail "task not running"
	in_tmux cte "ctr --address $W/containerd/containerd.sock -n $CTR_NS task exec -t --exec-id t1 cr6 sh"
	tmux_expect cte '/ #'
	tmux_keys cte 'tty; echo ex$((6*7))'
	tmux_expect cte ex42
	tmux_expect cte /dev/pts/
	tmux_keys cte 'exit 4'
	rc=$(tmux_rc cte)
	expect_eq "exec -t exit status" "$rc" 4
}
