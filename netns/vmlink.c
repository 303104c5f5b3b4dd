/* VM mode networking in the container's (or an engine's) network
 * namespace: a tap for the VMM, joined by a bridge to the namespace's
 * interface, whose addresses the guest owns. */
#define _GNU_SOURCE
#include "config.h"
#include "netns/net.h"
#include "netns/net_int.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>

/* ---- VM mode: the guest owns the address ----
 *
 * The container's namespace holds the veth peer (eth0, no address) and a
 * tap for the VMM, joined by a bridge there (VM_BRIDGE).  A bridge rather
 * than tc ingress + mirred redirect: it is one more link through the same
 * libnl calls and the same kernel module hull0 already needs, while tc
 * would need sch_ingress, a classifier and act_mirred loaded on every host;
 * and it passes ARP, ND and multicast both ways without rules.  The guest
 * answers ARP and ND for its own address. */
#define VM_TAP_IF "tap0"
#define VM_BRIDGE "br0"

/* The tap, made by attaching to /dev/net/tun from inside the namespace
 * (a tun device lives in the namespace of the process that made it):
 * plain frames, no IFF_VNET_HDR (microvm/dev_net.c writes the header). */
static int open_tap(struct rt_err *err)
{
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

	if (fd < 0)
		return rt_err_sys(err, errno, "/dev/net/tun (is the tun module loaded?)");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", VM_TAP_IF);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return rt_err_sys(err, errno, "tap %s", VM_TAP_IF);
	return steal_fd(fd);
}

static int enslave(struct nl_sock *sk, const char *master, const char *name,
		   struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *m = NULL, *l = NULL;
	int r = LN.rtnl_link_get_kernel(sk, 0, master, &m);

	if (r >= 0)
		r = LN.rtnl_link_get_kernel(sk, 0, name, &l);
	if (r >= 0)
		r = LN.rtnl_link_enslave(sk, m, l);
	return r < 0 ? net_nl_fail(err, r, name) : 0;
}

/* The tap, the bridge in the namespace, ifname and the tap on it, all up. */
static int tap_bridge(struct nl_sock *sk, const char *ifname, int *tap_fd, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *br = LN.rtnl_link_bridge_alloc();
	_cleanup_close_ int tap = -1;
	int r;

	if (!br)
		return rt_err_set(err, ENOMEM, "out of memory");
	tap = open_tap(err);
	if (tap < 0)
		return -err->code;
	LN.rtnl_link_set_name(br, VM_BRIDGE);
	r = LN.rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0)
		return net_nl_fail(err, r, "bridge " VM_BRIDGE);
	if (enslave(sk, VM_BRIDGE, ifname, err) < 0 || enslave(sk, VM_BRIDGE, VM_TAP_IF, err) < 0 ||
	    net_set_up(sk, ifname, err) < 0 || net_set_up(sk, VM_TAP_IF, err) < 0 ||
	    net_set_up(sk, VM_BRIDGE, err) < 0)
		return -err->code;
	*tap_fd = steal_fd(tap);
	return 0;
}

static int configure_vm_inside(void *arg, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = net_route_socket(err);

	if (!sk)
		return -err->code;
	if (net_set_up(sk, "lo", err) < 0)
		return rt_err_wrap(err, "loopback");
	if (tap_bridge(sk, PEER_IF, arg, err) < 0)
		return rt_err_wrap(err, "the VM's link in the container");
	return 0;
}

int net_apply_vm(const struct net_plan *p, pid_t pid, int *tap_fd, struct rt_err *err)
{
	*tap_fd = -1;
	if (!p->veth)
		return net_apply(p, pid, err);
	return net_apply_with(p, pid, configure_vm_inside, tap_fd, err);
}


/* ---- an engine's namespace (Kata-style) ----
 *
 * An OCI bundle in VM mode that joins a network namespace an engine set
 * up (podman: eth0 with addresses and default routes) gets that
 * interface's configuration moved into the guest: planned by reading it
 * (nothing changed), applied by taking the addresses off the interface,
 * giving the interface a new random MAC (its own, taken by the guest, must
 * not be the bridge port's, or the bridge would keep the guest's frames)
 * and bridging it to the tap.  The first Ethernet interface is taken;
 * others are left alone. */

struct adopt_read {
	struct net_adopt *a;
	struct nl_sock *sk;
	int ifindex;
};

static void read_link(struct nl_object *o, void *arg)
{
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct adopt_read *r = arg;
	struct nl_addr *mac = LN.rtnl_link_get_addr(l);

	if (r->ifindex || LN.rtnl_link_get_arptype(l) != ARPHRD_ETHER || !mac ||
	    LN.nl_addr_get_len(mac) != 6 || !LN.rtnl_link_get_name(l) ||
	    strlen(LN.rtnl_link_get_name(l)) >= NET_IFNAME_MAX)
		return;
	r->ifindex = LN.rtnl_link_get_ifindex(l);
	r->a->found = true;
	snprintf(r->a->ifname, sizeof(r->a->ifname), "%s", LN.rtnl_link_get_name(l));
	memcpy(r->a->mac, LN.nl_addr_get_binary_addr(mac), 6);
}

static void read_addr(struct nl_object *o, void *arg)
{
	struct rtnl_addr *ad = (struct rtnl_addr *)o;
	struct adopt_read *r = arg;
	struct nl_addr *local = LN.rtnl_addr_get_local(ad);
	int fam = LN.rtnl_addr_get_family(ad);

	if (LN.rtnl_addr_get_ifindex(ad) != r->ifindex || !local ||
	    LN.rtnl_addr_get_scope(ad) != RT_SCOPE_UNIVERSE)
		return;
	if (fam == AF_INET && r->a->prefix4 < 0 && LN.nl_addr_get_len(local) == 4) {
		memcpy(&r->a->ip4, LN.nl_addr_get_binary_addr(local), 4);
		r->a->prefix4 = LN.rtnl_addr_get_prefixlen(ad);
	} else if (fam == AF_INET6 && r->a->prefix6 < 0 && LN.nl_addr_get_len(local) == 16) {
		memcpy(&r->a->ip6, LN.nl_addr_get_binary_addr(local), 16);
		r->a->prefix6 = LN.rtnl_addr_get_prefixlen(ad);
	}
}

static void read_route(struct nl_object *o, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)o;
	struct adopt_read *r = arg;
	struct nl_addr *dst = LN.rtnl_route_get_dst(rt);
	struct rtnl_nexthop *nh = LN.rtnl_route_nexthop_n(rt, 0);
	struct nl_addr *gw = nh ? LN.rtnl_route_nh_get_gateway(nh) : NULL;

	if (LN.rtnl_route_get_table(rt) != RT_TABLE_MAIN || (dst && LN.nl_addr_get_prefixlen(dst)) ||
	    !gw || LN.rtnl_route_nh_get_ifindex(nh) != r->ifindex)
		return;
	if (LN.rtnl_route_get_family(rt) == AF_INET && LN.nl_addr_get_len(gw) == 4)
		memcpy(&r->a->gw4, LN.nl_addr_get_binary_addr(gw), 4);
	else if (LN.rtnl_route_get_family(rt) == AF_INET6 && LN.nl_addr_get_len(gw) == 16)
		memcpy(&r->a->gw6, LN.nl_addr_get_binary_addr(gw), 16);
}

static void cache_freep(struct nl_cache **c) { if (*c) LN.nl_cache_free(*c); }

static int adopt_read_cb(void *arg, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = net_route_socket(err);
	_cleanup_(cache_freep) struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	struct adopt_read r = { .a = arg, .sk = sk };
	int e;

	if (!sk)
		return -err->code;
	if ((e = LN.rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0 ||
	    (e = LN.rtnl_addr_alloc_cache(sk, &addrs)) < 0 ||
	    (e = LN.rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0)
		return net_nl_fail(err, e, "reading the network namespace");
	LN.nl_cache_foreach(links, read_link, &r);
	if (!r.ifindex)
		return 0;
	LN.nl_cache_foreach(addrs, read_addr, &r);
	LN.nl_cache_foreach(routes, read_route, &r);
	if (r.a->prefix4 < 0)
		memset(&r.a->gw4, 0, sizeof(r.a->gw4));
	if (r.a->prefix6 < 0)
		memset(&r.a->gw6, 0, sizeof(r.a->gw6));
	return 0;
}

int net_adopt_plan(int nsfd, struct net_adopt *a, struct rt_err *err)
{
	memset(a, 0, sizeof(*a));
	a->prefix4 = a->prefix6 = -1;
	if (net_nl_load(err) < 0)
		return rt_err_wrap(err, "network namespace for the VM");
	if (net_in_ns(nsfd, adopt_read_cb, a, err) < 0)
		return rt_err_wrap(err, "network namespace for the VM");
	return 0;
}

static int del_addr(struct nl_sock *sk, int ifindex, int family, const void *ip, int prefix,
		    struct rt_err *err)
{
	struct rtnl_addr *ra = net_addr_new(ifindex, family, ip, prefix, err);
	int r;

	if (!ra)
		return -err->code;
	r = LN.rtnl_addr_delete(sk, ra, 0);
	LN.rtnl_addr_put(ra);
	return r < 0 && r != -NLE_NOADDR && r != -NLE_OBJ_NOTFOUND ? net_nl_fail(err, r, "address") : 0;
}

/* Down (routes through it go), a new random local MAC. */
static int new_mac(struct nl_sock *sk, const char *ifname, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL, *ch = LN.rtnl_link_alloc();
	_cleanup_nladdr_ struct nl_addr *mac = NULL;
	uint8_t m[6];
	int r;

	if (!ch || getrandom(m, sizeof(m), 0) != sizeof(m))
		return rt_err_set(err, ENOMEM, "new MAC address");
	m[0] = (uint8_t)((m[0] & 0xfe) | 0x02);
	mac = LN.nl_addr_build(AF_LLC, m, 6);
	r = LN.rtnl_link_get_kernel(sk, 0, ifname, &l);
	if (r < 0 || !mac)
		return r < 0 ? net_nl_fail(err, r, ifname) : rt_err_set(err, ENOMEM, "out of memory");
	LN.rtnl_link_unset_flags(ch, IFF_UP);
	LN.rtnl_link_set_addr(ch, mac);
	r = LN.rtnl_link_change(sk, l, ch, 0);
	return r < 0 ? net_nl_fail(err, r, ifname) : 0;
}

struct adopt_apply {
	const struct net_adopt *a;
	int *tap_fd;
};

static int adopt_apply_cb(void *arg, struct rt_err *err)
{
	struct adopt_apply *x = arg;
	const struct net_adopt *a = x->a;
	_cleanup_nlsock_ struct nl_sock *sk = net_route_socket(err);
	int idx;

	if (!sk)
		return -err->code;
	idx = (int)if_nametoindex(a->ifname);
	if (idx <= 0)
		return rt_err_sys(err, errno, "%s", a->ifname);
	if ((a->prefix4 >= 0 && del_addr(sk, idx, AF_INET, &a->ip4, a->prefix4, err) < 0) ||
	    (a->prefix6 >= 0 && del_addr(sk, idx, AF_INET6, &a->ip6, a->prefix6, err) < 0) ||
	    new_mac(sk, a->ifname, err) < 0 || net_set_up(sk, "lo", err) < 0 ||
	    tap_bridge(sk, a->ifname, x->tap_fd, err) < 0)
		return rt_err_wrap(err, "%s", a->ifname);
	return 0;
}

int net_adopt_apply(int nsfd, const struct net_adopt *a, int *tap_fd, struct rt_err *err)
{
	struct adopt_apply x = { a, tap_fd };

	*tap_fd = -1;
	if (net_nl_load(err) < 0)
		return rt_err_wrap(err, "network: moving %s into the VM", a->ifname);
	if (net_in_ns(nsfd, adopt_apply_cb, &x, err) < 0)
		return rt_err_wrap(err, "network: moving %s into the VM", a->ifname);
	return 0;
}
