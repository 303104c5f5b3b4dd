# Networking (netns/): hull0, veths, addresses, leases.  Everything that
# makes a bridge or a veth runs inside a network namespace the test made
# (in_netns), so the host's network is never touched, and traffic only
# goes to addresses inside it.

# in_netns FUNC: run FUNC (a function of these files) in a new network
# namespace with loopback up, with the same helpers and set -e.
in_netns() {
	unshare -n bash -c '
		. "$HULL_SRC/tests/integration/lib.sh"
		for f in "$HULL_SRC"/tests/integration/t_*.sh; do . "$f"; done
		set -e; ip link set lo up; cd "$TESTROOT"; "$1"' _ "$1"
}

# links: the interface names in the current namespace, one line.
links() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }

net_jail() { timeout -k 2 30 "$HULL" --root "$STATE" jail --lib-dir "$B/lib" "$@"; }

_net_jail_veth() {
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	out=$(net_jail --rootfs "$B/rootfs" --net veth -- sh -c '
		ip -4 -o addr show eth0; ip -6 -o addr show eth0 scope global; ip route; ip -6 route
		ping -c1 -W3 10.88.0.1 >/dev/null && echo gw4-ok
		ping -c1 -W3 fd00:88::1 >/dev/null && echo gw6-ok
		ip link show lo | grep -q "UP" && echo lo-up')
	expect_contains "IPv4 address" "$out" "inet 10.88.0.2/16"
	expect_contains "IPv6 address" "$out" "inet6 fd00:88::2/64"
	expect_contains "IPv4 default route" "$out" "default via 10.88.0.1 dev eth0"
	expect_contains "IPv6 default route" "$out" "default via fd00:88::1 dev eth0"
	expect_contains "gateway over IPv4" "$out" "gw4-ok"
	expect_contains "gateway over IPv6" "$out" "gw6-ok"
	expect_contains "loopback" "$out" "lo-up"
	# the bridge stays (made on demand, shared); the veth and the lease go
	expect_eq "links after" "$(links)" "hull0 lo "
	expect_contains "bridge address" "$(ip -4 -o addr show hull0)" "10.88.0.1/16"
	expect_eq "leases after" "$(cat "$B/lib/net/leases")" ""
}
test_net_jail_veth() { in_netns _net_jail_veth; }

# --net none: a namespace of its own, loopback up, nothing else.
test_net_jail_none_loopback() {
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	out=$(net_jail --rootfs "$B/rootfs" -- sh -c 'ip -o link show | wc -l; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-ok')
	expect_eq "only loopback, and it works" "$out" "1
lo-ok"
}

_net_subnet() {
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	out=$(HULL_SUBNET=10.99.7.0/24 HULL_SUBNET6=fd00:99::/80 HULL_BRIDGE=hulltest0 \
		net_jail --rootfs "$B/rootfs" --net veth -- sh -c 'ip -o addr show eth0 scope global; ping -c1 -W3 10.99.7.1 >/dev/null && echo ok')
	expect_contains "address from HULL_SUBNET" "$out" "inet 10.99.7.2/24"
	expect_contains "address from HULL_SUBNET6" "$out" "inet6 fd00:99::2/80"
	expect_contains "gateway" "$out" "ok"
	ip link show hulltest0 >/dev/null || fail "no bridge hulltest0"
	set +e
	out=$(HULL_SUBNET=10.99.7.5/24 net_jail --rootfs "$B/rootfs" --net veth -- true 2>&1); rc=$?
	set -e
	expect_clean_failure "subnet with host bits" "$out" "$rc" "HULL_SUBNET 10.99.7.5/24"
	expect_eq "links after" "$(links)" "hulltest0 lo "
}
test_net_subnet_from_env() { in_netns _net_subnet; }

# Many hulls at once never get the same address: the lease file is
# locked and rewritten atomically.
_net_parallel_leases() {
	local i pids=""
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	for i in 1 2 3 4 5 6; do
		net_jail --rootfs "$B/rootfs" --net veth -- sh -c \
			'ip -4 -o addr show eth0 | awk "{print \$4}"; sleep 1' > "$B/addr.$i" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	got=$(cat "$B"/addr.* | sort)
	expect_eq "six addresses" "$(echo "$got" | grep -c 10.88.0.)" 6
	expect_eq "all different" "$(echo "$got" | sort -u | wc -l)" 6
	expect_eq "links after" "$(links)" "hull0 lo "
	expect_eq "leases after" "$(cat "$B/lib/net/leases")" ""
}
test_net_parallel_leases_distinct() { in_netns _net_parallel_leases; }

# A jail killed with its hull leaves a lease behind; it is free again
# because its owner (pid + start time) is gone.
_net_stale_jail_lease() {
	mkdir -p "$B/lib/net"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	echo "2 jail:999999:1" > "$B/lib/net/leases"
	out=$(net_jail --rootfs "$B/rootfs" --net veth -- ip -4 -o addr show eth0)
	expect_contains "dead owner's address reused" "$out" "10.88.0.2/16"
	echo "garbage line" > "$B/lib/net/leases"
	set +e
	out=$(net_jail --rootfs "$B/rootfs" --net veth -- true 2>&1); rc=$?
	set -e
	expect_clean_failure "corrupt lease file" "$out" "$rc" "corrupt lease file"
	expect_eq "links after" "$(links)" "hull0 lo "
}
test_net_stale_jail_lease() { in_netns _net_stale_jail_lease; }

test_net_jail_veth_needs_root() {
	local st="$TESTROOT/net-rootless.$IDPREFIX"
	mkdir -p "$st"
	chown 65534 "$st"
	set +e
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$HULL" --root "$st" jail --ro-host --net veth -- true 2>&1); rc=$?
	set -e
	rm -rf "$st"
	expect_clean_failure "rootless veth" "$out" "$rc" "--net veth needs root"
}

# libnl is dlopen()ed only when hull sets up a network (runtime/lazylib.c):
# the binary does not need it, and a jail that cannot load it fails naming
# it and its package, with no link, lease or state left.
_net_without_libnl() {
	objdump -p "$HULL" | awk '$1 == "NEEDED" {print $2}' | grep -q libnl &&
		fail "hull links libnl"
	mkdir -p "$B"
	cp -a "$TESTROOT/rootfs-template" "$B/rootfs"
	local out rc
	set +e
	out=$(HULL_LIBNL=/nonexistent/libnl-route-3.so.200 net_jail --rootfs "$B/rootfs" \
		--net veth -- true 2>&1); rc=$?
	set -e
	expect_clean_failure "veth without libnl" "$out" "$rc" "(install libnl-route-3-200)"
	expect_contains "veth without libnl" "$out" "/nonexistent/libnl-route-3.so.200"
	expect_eq "links after" "$(links)" "lo "
	expect_eq "leases after" "$(cat "$B/lib/net/leases" 2>/dev/null)" ""
	# a jail without a network of its own never loads it
	HULL_LIBNL=/nonexistent/libnl-route-3.so.200 net_jail --rootfs "$B/rootfs" --net host -- true
}
test_net_without_libnl() { in_netns _net_without_libnl; }
