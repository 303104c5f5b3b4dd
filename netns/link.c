/* Links, addresses and routes through libnl-route.  The parent does all
 * of it: in its own namespace (bridge, host end of the veth), then, for a
 * moment, in the child's (setns is safe: hull has no threads). */
#include "config.h"
#include "netns/net.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#define PEER_IF "eth0"

static void nl_sock_freep(struct nl_sock **s) { if (*s) nl_socket_free(*s); }
static void link_putp(struct rtnl_link **l) { if (*l) rtnl_link_put(*l); }
static void addr_putp(struct nl_addr **a) { if (*a) nl_addr_put(*a); }
#define _cleanup_nlsock_ _cleanup_(nl_sock_freep)
#define _cleanup_link_ _cleanup_(link_putp)
#define _cleanup_nladdr_ _cleanup_(addr_putp)

/* libnl errors are its own negative codes; keep the text, guess the errno. */
static int nl_fail(struct rt_err *err, int nlerr, const char *what)
{
	int code = nlerr == -NLE_EXIST ? EEXIST : nlerr == -NLE_PERM ? EPERM
		 : nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV ? ENODEV : EIO;
	return rt_err_set(err, code, "%s: %s", what, nl_geterror(nlerr));
}

static struct nl_sock *route_socket(struct rt_err *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk) {
		rt_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_fail(err, r, "netlink socket");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

void net_plan_veth(const struct net_config *c, const struct net_lease *l, struct net_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->veth = true;
	strcpy(p->bridge, c->bridge);
	strcpy(p->host_if, l->host_if);
	net_gateways(c, &p->gw4, &p->gw6);
	p->ip4 = l->ip4;
	p->prefix4 = c->prefix4;
	p->ip6 = l->ip6;
	p->prefix6 = c->prefix6;
}

void net_plan_lo(struct net_plan *p)
{
	memset(p, 0, sizeof(*p));
}

static int set_up(struct nl_sock *sk, const char *name, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL, *ch = rtnl_link_alloc();
	int r;

	if (!ch)
		return rt_err_set(err, ENOMEM, "out of memory");
	r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0)
		return nl_fail(err, r, name);
	rtnl_link_set_flags(ch, IFF_UP);
	r = rtnl_link_change(sk, l, ch, 0);
	return r < 0 ? nl_fail(err, r, name) : 0;
}

/* IPv6 addresses skip duplicate address detection: the subnet is ours,
 * and a tentative address would make the first packets fail. */
static int add_addr(struct nl_sock *sk, int ifindex, int family, const void *ip, int prefix,
		    const char *what, struct rt_err *err)
{
	_cleanup_nladdr_ struct nl_addr *a = nl_addr_build(family, ip,
							   family == AF_INET ? 4 : 16);
	struct rtnl_addr *ra = rtnl_addr_alloc();
	int r;

	if (!a || !ra) {
		if (ra)
			rtnl_addr_put(ra);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	nl_addr_set_prefixlen(a, prefix);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, a);
	rtnl_addr_set_prefixlen(ra, prefix);
	if (family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	r = rtnl_addr_add(sk, ra, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_addr_put(ra);
	return r < 0 && r != -NLE_EXIST ? nl_fail(err, r, what) : 0;
}

static int add_default_route(struct nl_sock *sk, int ifindex, int family, const void *gw,
			     struct rt_err *err)
{
	_cleanup_nladdr_ struct nl_addr *dst = nl_addr_build(family, NULL, 0);
	_cleanup_nladdr_ struct nl_addr *via = nl_addr_build(family, gw, family == AF_INET ? 4 : 16);
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	int r;

	if (!dst || !via || !rt || !nh) {
		if (rt)
			rtnl_route_put(rt);
		if (nh)
			rtnl_route_nh_free(nh);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(rt, (uint8_t)family);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(rt, nh);   /* rt owns nh now */
	r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	return r < 0 ? nl_fail(err, r, family == AF_INET ? "IPv4 default route"
							  : "IPv6 default route") : 0;
}

/* hull0, made on the first use with the gateway addresses, and up. */
static int ensure_bridge(struct nl_sock *sk, const struct net_plan *p, int *ifindex,
			 struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *br = NULL;
	int r = rtnl_link_get_kernel(sk, 0, p->bridge, &br);

	if (r < 0) {
		_cleanup_link_ struct rtnl_link *nb = rtnl_link_bridge_alloc();
		if (!nb)
			return rt_err_set(err, ENOMEM, "out of memory");
		rtnl_link_set_name(nb, p->bridge);
		r = rtnl_link_add(sk, nb, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && r != -NLE_EXIST)
			return nl_fail(err, r, p->bridge);
		r = rtnl_link_get_kernel(sk, 0, p->bridge, &br);
		if (r < 0)
			return nl_fail(err, r, p->bridge);
	} else if (!rtnl_link_is_bridge(br)) {
		return rt_err_set(err, EEXIST, "%s exists and is not a bridge", p->bridge);
	}
	*ifindex = rtnl_link_get_ifindex(br);
	if (add_addr(sk, *ifindex, AF_INET, &p->gw4, p->prefix4, "bridge IPv4 address", err) < 0 ||
	    add_addr(sk, *ifindex, AF_INET6, &p->gw6, p->prefix6, "bridge IPv6 address", err) < 0 ||
	    set_up(sk, p->bridge, err) < 0)
		return rt_err_wrap(err, "bridge %s", p->bridge);
	return 0;
}

static int delete_link(struct nl_sock *sk, const char *name, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (r < 0)
		return 0;   /* already gone */
	r = rtnl_link_delete(sk, l);
	return r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV ? nl_fail(err, r, name) : 0;
}

/* The pair, with the peer created straight in the child's namespace: no
 * moment where eth0 exists on the host. */
static int make_veth(struct nl_sock *sk, const struct net_plan *p, int br_index, int nsfd,
		     struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *v = rtnl_link_veth_alloc();
	struct rtnl_link *peer;
	int r;

	if (!v)
		return rt_err_set(err, ENOMEM, "out of memory");
	peer = rtnl_link_veth_get_peer(v);
	rtnl_link_set_name(v, p->host_if);
	rtnl_link_set_master(v, br_index);
	rtnl_link_set_flags(v, IFF_UP);
	rtnl_link_set_name(peer, PEER_IF);
	rtnl_link_set_ns_fd(peer, nsfd);
	r = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	return r < 0 ? nl_fail(err, r, p->host_if) : 0;
}

/* Inside the child's namespace. */
static int configure_inside(const struct net_plan *p, int *unused, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = route_socket(err);
	int idx;

	if (!sk)
		return -err->code;
	if (set_up(sk, "lo", err) < 0)
		return rt_err_wrap(err, "loopback");
	if (!p->veth)
		return 0;
	idx = (int)if_nametoindex(PEER_IF);
	if (idx <= 0)
		return rt_err_sys(err, errno, "%s in the container", PEER_IF);
	if (set_up(sk, PEER_IF, err) < 0 ||
	    add_addr(sk, idx, AF_INET, &p->ip4, p->prefix4, "IPv4 address", err) < 0 ||
	    add_addr(sk, idx, AF_INET6, &p->ip6, p->prefix6, "IPv6 address", err) < 0 ||
	    add_default_route(sk, idx, AF_INET, &p->gw4, err) < 0 ||
	    add_default_route(sk, idx, AF_INET6, &p->gw6, err) < 0)
		return rt_err_wrap(err, "%s in the container", PEER_IF);
	return 0;
}

typedef int (*inside_fn)(const struct net_plan *p, int *tap_fd, struct rt_err *err);

static int in_netns(int nsfd, inside_fn fn, const struct net_plan *p, int *tap_fd,
		    struct rt_err *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return rt_err_sys(err, errno, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return rt_err_sys(err, errno, "enter the container's network namespace");
	r = fn(p, tap_fd, err);
	/* Not being able to come back would leave hull in the container's
	 * namespace: nothing later could be trusted. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

/* The host side (bridge, veth with its peer in the namespace), then fn in
 * the namespace; on failure the host end goes again. */
static int apply(const struct net_plan *p, pid_t pid, inside_fn fn, int *tap_fd,
		 struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	char path[64];
	int br = 0;
	struct rt_err ign = {0};

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return rt_err_sys(err, errno, "network: open %s", path);
	if (p->veth) {
		sk = route_socket(err);
		if (!sk)
			return rt_err_wrap(err, "network");
		/* a crashed run's host end (its namespace may still be alive) */
		if (delete_link(sk, p->host_if, err) < 0 || ensure_bridge(sk, p, &br, err) < 0 ||
		    make_veth(sk, p, br, nsfd, err) < 0)
			return rt_err_wrap(err, "network");
	}
	if (in_netns(nsfd, fn, p, tap_fd, err) < 0) {
		if (p->veth)
			delete_link(sk, p->host_if, &ign);
		return rt_err_wrap(err, "network");
	}
	return 0;
}

int net_apply(const struct net_plan *p, pid_t pid, struct rt_err *err)
{
	return apply(p, pid, configure_inside, NULL, err);
}

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
	int r = rtnl_link_get_kernel(sk, 0, master, &m);

	if (r >= 0)
		r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r >= 0)
		r = rtnl_link_enslave(sk, m, l);
	return r < 0 ? nl_fail(err, r, name) : 0;
}

static int configure_vm_inside(const struct net_plan *p, int *tap_fd, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = route_socket(err);
	_cleanup_link_ struct rtnl_link *br = rtnl_link_bridge_alloc();
	_cleanup_close_ int tap = -1;
	int r;

	if (!sk || !br)
		return sk ? rt_err_set(err, ENOMEM, "out of memory") : -err->code;
	if (set_up(sk, "lo", err) < 0)
		return rt_err_wrap(err, "loopback");
	tap = open_tap(err);
	if (tap < 0)
		return -err->code;
	rtnl_link_set_name(br, VM_BRIDGE);
	r = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0)
		return nl_fail(err, r, "bridge " VM_BRIDGE " in the container");
	if (enslave(sk, VM_BRIDGE, PEER_IF, err) < 0 || enslave(sk, VM_BRIDGE, VM_TAP_IF, err) < 0 ||
	    set_up(sk, PEER_IF, err) < 0 || set_up(sk, VM_TAP_IF, err) < 0 ||
	    set_up(sk, VM_BRIDGE, err) < 0)
		return rt_err_wrap(err, "the VM's link in the container");
	*tap_fd = steal_fd(tap);
	(void)p;
	return 0;
}

int net_apply_vm(const struct net_plan *p, pid_t pid, int *tap_fd, struct rt_err *err)
{
	*tap_fd = -1;
	if (!p->veth)
		return net_apply(p, pid, err);
	return apply(p, pid, configure_vm_inside, tap_fd, err);
}

int net_remove(const char *host_if, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = route_socket(err);

	if (!sk)
		return -err->code;
	return delete_link(sk, host_if, err);
}
