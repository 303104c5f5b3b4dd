# virtio-vsock: the guest's AF_VSOCK sockets reached through the VMM's
# unix socket (Firecracker's hybrid vsock: "CONNECT <port>\n" -> "OK <n>\n").
# The workload is tests/helpers/vsock_echo (static, built here), echoing on
# guest port 1030 (1024 is hull's exec agent, see t_exec_vm.sh);
# tests/helpers/vsock_client pushes 1 MiB through it (far past either
# side's credit of 64 KiB) and checks it comes back intact,
# and that a port with no listener is closed without "OK".

vsock_helpers() {
	[ -x "$work/vsock_echo" ] && return 0
	cc -static -O2 -o "$work/vsock_echo" "$project/tests/helpers/vsock_echo.c" ||
		fail "cc -static vsock_echo"
	cc -O2 -o "$work/vsock_client" "$project/tests/helpers/vsock_client.c" ||
		fail "cc vsock_client"
}

# vsock_wait_ready FILE: the guest's echo server said "listening".
vsock_wait_ready() {
	for _ in $(seq 300); do
		grep -q listening "$1" 2>/dev/null && return 0
		sleep 1
	done
	cat "$1" >&2
	fail "the guest's vsock_echo never listened"
}

# vsock_check SOCKET: 1 MiB echoed, twice (a second connection after the
# first one ended), and a port without a listener refused.
vsock_check() {
	timeout 300 "$work/vsock_client" "$1" 1030 1048576 || fail "1 MiB echo"
	timeout 120 "$work/vsock_client" "$1" 1030 100000 || fail "second connection"
	timeout 120 "$work/vsock_client" "$1" 1031 refused || fail "port 1031 not refused"
	# a malformed CONNECT line: closed, and the device keeps working
	timeout 120 "$work/vsock_client" "$1" "x" refused || fail "bad line not closed"
	timeout 120 "$work/vsock_client" "$1" 1030 1000 || fail "echo after the errors"
}

test_vsock_vmm_echo() {
	vsock_helpers
	local r=$work/vsock-root sock=$work/vmm-vsock.sock pid st=0
	rm -rf "$r" && cp -a "$work/rootfs" "$r" && cp "$work/vsock_echo" "$r/bin/"
	timeout -k 10 600 "$HULL" vmm --kernel "$KERNEL" --rootfs "$r" --vsock "$sock" \
		-- /bin/vsock_echo 1030 > "$work/vmm-vsock.out" 2>&1 &
	pid=$!
	vsock_wait_ready "$work/vmm-vsock.out"
	[ -S "$sock" ] || fail "no socket at $sock"
	vsock_check "$sock"
	kill -KILL "$pid"
	wait "$pid" || true
	# an existing path is refused, not replaced
	err=$("$HULL" vmm --kernel "$KERNEL" --rootfs "$r" --vsock "$sock" -- true 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"$sock"*"exists"*) ;; *) fail "error: $err" ;; esac
	st=0
	err=$("$HULL" vmm --vsock "$sock" --vsock-fd 9 -- true 2>&1) || st=$?
	case $err in *"--vsock and --vsock-fd"*) ;; *) fail "error: $err" ;; esac
}

test_vsock_ct_vm_echo() {
	vsock_helpers
	local b sock=$work/state/vm-vsock/vsock.sock
	b=$(bundle vsock '.process.args = ["/bin/vsock_echo", "1030"]')
	cp "$work/vsock_echo" "$b/rootfs/bin/"
	hrun create --vm --bundle "$b" vm-vsock > "$work/ct-vsock.out" 2>&1
	# made by create, before the guest runs; root only
	[ -S "$sock" ] || fail "no socket at $sock"
	expect_eq "mode" "$(stat -c %a "$sock")" 600
	hrun start vm-vsock
	vsock_wait_ready "$work/ct-vsock.out"
	vsock_check "$sock"
	hrun kill vm-vsock KILL
	for _ in $(seq 120); do
		[ "$(hrun state vm-vsock | jq -r .status)" = stopped ] && break
		sleep 1
	done
	hrun delete vm-vsock
	[ ! -e "$work/state/vm-vsock" ] || fail "state left behind"
	# hull killed (-9) right after it made the socket: only the state dir
	# is left, and delete --force takes it, socket and all
	HULL_FAULT_POINT=vsock hrun create --vm --bundle "$b" vm-vsock2 > /dev/null 2>&1 &&
		fail "create survived its fault point"
	[ -S "$work/state/vm-vsock2/vsock.sock" ] || fail "no socket before the kill"
	hrun delete --force vm-vsock2
	[ ! -e "$work/state/vm-vsock2" ] || fail "state left behind"
	! pgrep -f "hull-vmm.*--vsock-fd" > /dev/null || fail "a VMM is left"
}
