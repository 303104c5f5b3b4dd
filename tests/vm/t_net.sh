# Networking of microVMs: virtio-net over a tap.  Everything that makes a
# tap, a bridge or a veth runs in a network namespace the test made
# (vm_in_netns), as tests/integration/t_net.sh does, even though the test
# host VM is isolated.  The host side pings with busybox (the host may
# have no ping of its own).

# vm_in_netns FUNC: FUNC (of this file) in a new network namespace with
# loopback up, with lib.sh and set -e.
vm_in_netns() {
	HULL="$HULL" KERNEL="$KERNEL" work="$work" BUSYBOX="$BUSYBOX" here="$here" \
	unshare -n bash -c '
		. "$here/lib.sh"; . "$here/t_net.sh"
		set -e; ip link set lo up; "$1"' _ "$1"
}

# vm_has WHAT TEXT REGEX: a line of TEXT matches REGEX.
vm_has() { printf '%s\n' "$2" | grep -q -- "$3" || fail "$1: no '$3' in: $2"; }

# links: the interface names in this namespace, one line.
vm_links() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }

# hull vmm --net-tap: a tap the test made (with its own addresses), the
# guest's addresses and routes from --net-ip/--net-gw, ping both ways over
# IPv4 and IPv6.
_vmm_net_tap() {
	ip tuntap add dev vt0 mode tap
	ip addr add 192.168.77.1/24 dev vt0
	ip -6 addr add fd77::1/64 dev vt0 nodad
	ip link set vt0 up
	# the host pings the guest while it is up (it waits a little for it)
	rm -f "$work/host-ping"
	( for _ in $(seq 400); do
		"$BUSYBOX" ping -c1 -W1 192.168.77.2 >/dev/null 2>&1 &&
			"$BUSYBOX" ping -c1 -W1 fd77::2 >/dev/null 2>&1 && { echo ok > "$work/host-ping"; break; }
		sleep 0.5
	done ) &
	pinger=$!
	out=$(vmm --net-tap vt0 --net-mac 02:00:00:00:77:02 --net-ip 192.168.77.2/24 \
		--net-gw 192.168.77.1 --net-ip fd77::2/64 --net-gw fd77::1 -- sh -c '
		cat /sys/class/net/eth0/address
		ip -4 -o addr show eth0 | awk "{print \$4}"
		ip -6 -o addr show eth0 scope global | awk "{print \$4}"
		ip route | grep default; ip -6 route | grep default | awk "{print \$1, \$2, \$3}"
		ping -c1 -W5 192.168.77.1 >/dev/null && echo v4-ok
		ping -c1 -W5 fd77::1 >/dev/null && echo v6-ok
		ip link show lo | grep -q UP && echo lo-up
		sleep 8')
	kill "$pinger" 2>/dev/null || true
	wait "$pinger" 2>/dev/null || true
	for want in "^02:00:00:00:77:02\$" "^192.168.77.2/24\$" "^fd77::2/64\$" \
		    "^default via 192.168.77.1 dev eth0" "^default via fd77::1\$" \
		    "^v4-ok\$" "^v6-ok\$" "^lo-up\$"; do
		vm_has "guest network" "$out" "$want"
	done
	# the guest answered ARP and ND for itself: the host reached it
	[ -e "$work/host-ping" ] || fail "the host could not ping the guest"
}
test_vmm_net_tap() { vm_in_netns _vmm_net_tap; }

# Bad network flags: one clear error, no VM booted, no tap made.
_vmm_net_bad_flags() {
	local args want out rc
	for args in "--net-ip 10.0.0.2/24|need --net-tap" \
		    "--net-tap vt9 --net-ip 10.0.0.2|--net-ip 10.0.0.2: expected" \
		    "--net-tap vt9 --net-ip 10.0.0.2/31|--net-ip 10.0.0.2/31: expected" \
		    "--net-tap vt9 --net-mac 01:00:00:00:00:01|--net-mac 01:00:00:00:00:01: expected a unicast" \
		    "--net-tap vt9 --net-gw 10.0.0.1|--net-gw needs an --net-ip" \
		    "--net-tap vt9 --tap-fd 5|not both" \
		    "--net-tap a/b|--net-tap a/b: expected an interface name"; do
		want=${args#*|}
		rc=0
		out=$(vmm ${args%|*} -- true 2>&1) || rc=$?
		expect_eq "status of vmm ${args%|*}" "$rc" 1
		case $out in *"$want"*) ;; *) fail "vmm ${args%|*}: '$out' lacks '$want'" ;; esac
	done
	expect_eq "links" "$(vm_links)" "lo "
}
test_vmm_net_bad_flags() { vm_in_netns _vmm_net_bad_flags; }

ctn() {
	timeout -k 10 300 "$HULL" --root "$work/state-net" ct --lib-dir "$work/ctlib-net" "$@"
}

# wait_log FILE WORD: up to 150 s for WORD in FILE.
wait_log() {
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
}

# Two ct --vm containers with --ip (one given, one auto): each guest pings
# the other and the gateway on hull0 over IPv4 and IPv6, the host pings
# both; the container's namespace holds the tap and an address-less veth
# end; stop and destroy leave no veth, no tap and no lease.  A bad --ip is
# still refused with nothing left.
_ct_vm_net() {
	local r=$work/ct-net-rootfs a=vna b=vnb ipa ipb ip6a ip6b pid out rc
	rm -rf "$r" "$work/ctlib-net" "$work/state-net"
	cp -a "$work/rootfs" "$r" && mkdir -p "$r/sbin" "$r/etc"
	printf '#!/bin/sh\n' > "$r/sbin/init" && chmod 755 "$r/sbin/init"   # written below
	ctn create "$a" --rootfs "$r" --vm --ip 10.88.0.10
	ctn create "$b" --rootfs "$r" --vm
	ipa=$(ctn status --json "$a" | jq -r .ip)
	ipb=$(ctn status --json "$b" | jq -r .ip)
	ip6a=$(ctn status --json "$a" | jq -r .ip6)
	ip6b=$(ctn status --json "$b" | jq -r .ip6)
	expect_eq "a's address" "$ipa" 10.88.0.10
	[ "$ipb" != "$ipa" ] && [ "$ipb" != null ] || fail "b's address: $ipb"
	# the root disk is made at start: the init knows both addresses
	cat > "$r/sbin/init" <<EOF
#!/bin/sh
trap 'echo init-stopping; exit 0' TERM
case \$(hostname) in $a) p4=$ipb p6=$ip6b ;; *) p4=$ipa p6=$ip6a ;; esac
echo "init-started \$(hostname) \$(ip -4 -o addr show eth0 | awk '{print \$4}')"
res=
for t in 10.88.0.1 fd00:88::1 \$p4 \$p6; do
	ok=no
	for i in \$(seq 60); do ping -c1 -W2 \$t >/dev/null 2>&1 && { ok=yes; break; }; sleep 1; done
	res="\$res \$t=\$ok"
done
echo "net-done\$res"
while :; do sleep 1; done
EOF
	chmod 755 "$r/sbin/init"
	ctn start "$a"
	ctn start "$b"
	wait_log "$work/ctlib-net/ct/$a/console.log" net-done
	wait_log "$work/ctlib-net/ct/$b/console.log" net-done
	expect_eq "a's guest" "$(grep -a net-done "$work/ctlib-net/ct/$a/console.log" | tr -d '\r')" \
		"net-done 10.88.0.1=yes fd00:88::1=yes $ipb=yes $ip6b=yes"
	expect_eq "b's guest" "$(grep -a net-done "$work/ctlib-net/ct/$b/console.log" | tr -d '\r')" \
		"net-done 10.88.0.1=yes fd00:88::1=yes $ipa=yes $ip6a=yes"
	grep -aq "init-started $a 10.88.0.10/16" "$work/ctlib-net/ct/$a/console.log" ||
		fail "a's address in the guest: $(cat "$work/ctlib-net/ct/$a/console.log")"
	# the gateway (this namespace) reaches both guests
	for t in "$ipa" "$ipb" "$ip6a" "$ip6b"; do
		"$BUSYBOX" ping -c1 -W5 "$t" >/dev/null || fail "the gateway cannot reach $t"
	done
	# in the container's namespace: the VMM's tap on a bridge with the
	# veth end, which has no IPv4 address (the guest owns it)
	pid=$(ctn status --json "$a" | jq -r .pid)
	out=$(nsenter -t "$pid" -n ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
		sort | tr '\n' ' ')
	expect_eq "links in a's namespace" "$out" "br0 eth0 lo tap0 "
	expect_eq "veth end's IPv4" "$(nsenter -t "$pid" -n ip -4 -o addr show dev eth0)" ""
	case $(vm_links) in *hull*) ;; *) fail "no host veth while running: $(vm_links)" ;; esac
	ctn stop --timeout 60 "$a"
	ctn stop --timeout 60 "$b"
	expect_eq "links after stop" "$(vm_links)" "hull0 lo "
	[ ! -e "/proc/$pid" ] || fail "a's VMM $pid still runs"
	# a bad --ip for --vm: refused, nothing made
	for args in "10.99.0.5|outside the subnet" "10.88.0.10|already taken" \
		    "10.88.0.300|expected an IPv4 address"; do
		rc=0
		out=$(ctn create vnc --rootfs "$r" --vm --ip "${args%|*}" 2>&1) || rc=$?
		expect_eq "status of create --ip ${args%|*}" "$rc" 1
		case $out in *"${args#*|}"*) ;; *) fail "--ip ${args%|*}: '$out'" ;; esac
		[ ! -e "$work/ctlib-net/ct/vnc" ] || fail "--ip ${args%|*}: ct dir left"
	done
	expect_eq "leases before destroy" "$(awk '{print $2}' "$work/ctlib-net/net/leases" | sort |
		tr '\n' ' ')" "ct:$a ct:$b "
	ctn destroy "$a"
	ctn destroy "$b"
	expect_eq "leases after destroy" "$(cat "$work/ctlib-net/net/leases")" ""
	expect_eq "links after destroy" "$(vm_links)" "hull0 lo "
}
test_ct_vm_net() {
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	vm_in_netns _ct_vm_net
}

# hull run --vm joining a network namespace an engine set up (as podman
# does: eth0 with addresses and default routes): the guest takes eth0's
# MAC and addresses, reaches the "engine's" side over IPv4 and IPv6, and
# the namespace's eth0 no longer holds them.
_run_vm_adopt() {
	local b holder out mac
	unshare -n sleep 600 &
	holder=$!
	trap 'kill "$holder" 2>/dev/null || true' EXIT
	# until unshare has made the namespace (the pid is unshare's at first)
	for _ in $(seq 100); do
		[ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	ip link add vh0 type veth peer name eth0 netns "$holder"
	ip addr add 10.99.0.1/24 dev vh0
	ip -6 addr add fd99::1/64 dev vh0 nodad
	ip link set vh0 up
	nsenter -t "$holder" -n sh -c 'ip link set lo up; ip link set eth0 up
		ip addr add 10.99.0.2/24 dev eth0; ip -6 addr add fd99::2/64 dev eth0 nodad
		ip route add default via 10.99.0.1; ip -6 route add default via fd99::1'
	mac=$(nsenter -t "$holder" -n ip -o link show eth0 | sed 's/.*link\/ether \([^ ]*\).*/\1/')
	b=$work/bundle-adopt
	rm -rf "$b" && mkdir -p "$b" && cp -a "$work/rootfs" "$b/rootfs"
	# busybox ping needs CAP_NET_RAW: the guest applies the spec's capabilities.
	(cd "$b" && "$HULL" spec && jq --arg ns "/proc/$holder/ns/net" '
		.process.args = ["sh", "-c", "cat /sys/class/net/eth0/address; " +
			"ip -4 -o addr show eth0 | awk \"{print \\$4}\"; " +
			"ip -6 -o addr show eth0 scope global | awk \"{print \\$4}\"; " +
			"ping -c1 -W5 10.99.0.1 >/dev/null && echo v4-ok; " +
			"ping -c1 -W5 fd99::1 >/dev/null && echo v6-ok"] |
		.linux.namespaces |= map(if .type == "network" then .path = $ns else . end) |
		.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])' \
		config.json > c.json && mv c.json config.json)
	out=$(timeout -k 10 300 "$HULL" --root "$work/state-adopt" run --vm --bundle "$b" vm-adopt)
	for want in "^$mac\$" "^10.99.0.2/24\$" "^fd99::2/64\$" "^v4-ok\$" "^v6-ok\$"; do
		vm_has "guest network" "$out" "$want"
	done
	expect_eq "eth0's IPv4 in the namespace" \
		"$(nsenter -t "$holder" -n ip -4 -o addr show dev eth0)" ""
	kill "$holder"
	wait "$holder" 2>/dev/null || true
}
test_run_vm_adopt_engine_netns() { vm_in_netns _run_vm_adopt; }

# A crashed VMM (SIGKILL): its namespace, tap and veth go with it; the
# lease stays with the container, the next start works, destroy frees it.
_ct_vm_net_crash() {
	local r=$work/ct-crash-rootfs n=vnk pid
	rm -rf "$r" "$work/ctlib-net" "$work/state-net"
	cp -a "$work/rootfs" "$r" && mkdir -p "$r/sbin"
	cat > "$r/sbin/init" <<'EOF2'
#!/bin/sh
trap 'exit 0' TERM
ping -c1 -W30 10.88.0.1 >/dev/null && echo gw-ok
while :; do sleep 1; done
EOF2
	chmod 755 "$r/sbin/init"
	ctn create "$n" --rootfs "$r" --vm
	ctn start "$n"
	wait_log "$work/ctlib-net/ct/$n/console.log" gw-ok
	pid=$(ctn status --json "$n" | jq -r .pid)
	kill -9 "$pid"
	for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
	for _ in $(seq 50); do [ "$(vm_links)" = "hull0 lo " ] && break; sleep 0.2; done
	expect_eq "links after the crash" "$(vm_links)" "hull0 lo "
	expect_eq "state after the crash" "$(ctn status --json "$n" | jq -r .state)" stopped
	: > "$work/ctlib-net/ct/$n/console.log"
	ctn start "$n"
	wait_log "$work/ctlib-net/ct/$n/console.log" gw-ok
	ctn stop --timeout 60 "$n"
	ctn destroy "$n"
	expect_eq "leases after destroy" "$(cat "$work/ctlib-net/net/leases")" ""
	expect_eq "links after destroy" "$(vm_links)" "hull0 lo "
}
test_ct_vm_net_crash() {
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	vm_in_netns _ct_vm_net_crash
}
