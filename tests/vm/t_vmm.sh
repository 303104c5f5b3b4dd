# hull vmm: the VMM and the guest init, without the container path.

test_boot_echo() {
	out=$(vmm -- echo hello from the guest)
	expect_eq "output" "$out" "hello from the guest"
}

test_exit_status_0() {
	expect_status 0 vmm -- true
}

test_exit_status_3() {
	expect_status 3 vmm -- sh -c 'exit 3'
}

test_exit_status_killed() {
	expect_status 137 vmm -- sh -c 'kill -9 $$'
}

test_exec_missing() {
	expect_status 127 vmm -- /no/such/program
}

test_args_with_spaces() {
	out=$(vmm -- sh -c 'for a in "$@"; do echo "<$a>"; done' sh "a b" " c " "")
	expect_eq "args" "$out" "$(printf '<a b>\n< c >\n<>')"
}

test_env() {
	out=$(vmm --env FOO="bar baz" --env PATH=/bin -- sh -c 'echo "$FOO|$PATH"')
	expect_eq "env" "$out" "bar baz|/bin"
}

test_cwd() {
	out=$(vmm --cwd /home/alice -- pwd)
	expect_eq "cwd" "$out" "/home/alice"
}

test_user() {
	out=$(vmm --user 1000:1000 -- id)
	case $out in
	"uid=1000(alice) gid=1000"*) ;;
	*) fail "id: $out" ;;
	esac
}

test_hostname() {
	out=$(vmm --hostname vmbox -- hostname)
	expect_eq "hostname" "$out" "vmbox"
}

test_readonly_root() {
	out=$(vmm --readonly -- sh -c 'touch /x 2>/dev/null && echo writable || echo readonly')
	expect_eq "root" "$out" "readonly"
	out=$(vmm -- sh -c 'touch /x && echo writable')
	expect_eq "root" "$out" "writable"
}

test_two_vcpus_and_memory() {
	out=$(vmm --cpus 2 --mem 300 -- sh -c 'nproc; grep MemTotal /proc/meminfo')
	expect_eq "nproc" "$(echo "$out" | head -n 1)" 2
	kb=$(echo "$out" | awk '/MemTotal/ {print $2}')
	# The kernel keeps some for itself: between 200 and 300 MiB visible.
	[ "$kb" -gt $((200 * 1024)) ] && [ "$kb" -le $((300 * 1024)) ] ||
		fail "MemTotal $kb kB for --mem 300"
}

test_sigterm_delivered() {
	"$HULL" vmm --kernel "$KERNEL" --rootfs "$work/rootfs" -- \
		sh -c 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 1; done' \
		> "$work/sig.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q ready "$work/sig.out" && break
		sleep 0.5
	done
	grep -q ready "$work/sig.out" || { kill -9 $pid; fail "the workload never started"; }
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	expect_eq "status" "$st" 42
	grep -q "got TERM" "$work/sig.out" || fail "no trap output: $(cat "$work/sig.out")"
}

test_missing_kernel() {
	st=0
	err=$("$HULL" vmm --kernel /no/such/kernel --rootfs "$work/rootfs" -- true 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"guest kernel /no/such/kernel"*"No such file"*) ;; *) fail "error: $err" ;; esac
}

test_boot_time_logged() {
	err=$(vmm --boot-time -- true 2>&1 >/dev/null)
	case $err in *"guest init started "*" ms after VMM start"*) ;; *) fail "stderr: $err" ;; esac
}

test_stdin_piped() {
	out=$(printf 'line one\nline two\n' | vmm -- sh -c 'cat; echo "eof seen"')
	expect_eq "output" "$out" "$(printf 'line one\nline two\neof seen')"
}

test_stdout_stderr_apart() {
	out=$(vmm -- sh -c 'echo to-out; echo to-err >&2' 2>"$work/err")
	expect_eq "stdout" "$out" "to-out"
	expect_eq "stderr" "$(cat "$work/err")" "to-err"
}

test_missing_kvm() {
	st=0
	err=$(unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh \
		"$HULL" vmm --kernel "$KERNEL" --rootfs "$work/rootfs" -- true 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"/dev/kvm"*"No such file"*) ;; *) fail "error: $err" ;; esac
}

test_bzimage() {
	bz=${HULL_VM_BZIMAGE:-$(dirname "$KERNEL")/bzImage}
	[ -r "$bz" ] || { echo "skipped: no bzImage beside $KERNEL"; return 0; }
	out=$(timeout -k 10 300 "$HULL" vmm --kernel "$bz" --rootfs "$work/rootfs" -- echo from bzImage)
	expect_eq "output" "$out" "from bzImage"
}

test_terminal() {
	# script(1) gives the VMM a pty; the workload's tty is the guest's hvc0.
	out=$(TERM=dumb timeout -k 10 300 script -qec "'$HULL' vmm --terminal --kernel '$KERNEL' \
		--rootfs '$work/rootfs' -- sh -c 'tty; exit 5'" /dev/null | tr -d '\r')
	case $out in *"/dev/hvc0"*) ;; *) fail "tty: $out" ;; esac
}
