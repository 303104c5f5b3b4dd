/* Links, addresses and routes through libnl-route.  The parent does all
 * of it: in its own namespace (bridge, host end of the veth), then, for a
 * moment, in the child's (setns is safe: hull has no threads). */
#include "config.h"
#include "netns/net.h"
#include "netns/net_int.h"
#include "runtime/cleanup.h"
#include "runtime/lazylib.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>



/* libnl errors are its own negative codes; keep the text, guess the errno. */
struct lazy_nl LN;
static const char *const nl_names[] = { LAZY_NL_FUNCS(LAZY_NAME) };
_Static_assert(sizeof(LN) == sizeof(nl_names) / sizeof(char *) * sizeof(void *),
	       "struct lazy_nl matches LAZY_NL_FUNCS");
/* libnl-route-3's handle also resolves libnl-3's symbols (its dependency). */
static struct lazy_lib nl_lib = {
	.env = "HULL_LIBNL", .soname = HULL_LIBNL_ROUTE_SONAME, .package = "libnl-route-3-200",
	.prefix = "", .names = nl_names, .slots = (void **)&LN, .n = LAZY_COUNT(nl_names),
};

int net_nl_load(struct rt_err *err)
{
	return lazy_lib_load(&nl_lib, err) < 0 ? rt_err_wrap(err, "netlink") : 0;
}

int net_nl_fail(struct rt_err *err, int nlerr, const char *what)
{
	int code = nlerr == -NLE_EXIST ? EEXIST : nlerr == -NLE_PERM ? EPERM
		 : nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV ? ENODEV : EIO;
	return rt_err_set(err, code, "%s: %s", what,
			  LN.nl_geterror ? LN.nl_geterror(nlerr) : "libnl not loaded");
}

struct nl_sock *net_route_socket(struct rt_err *err)
{
	struct nl_sock *sk;
	int r;

	if (net_nl_load(err) < 0)
		return NULL;
	sk = LN.nl_socket_alloc();
	if (!sk) {
		rt_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r = LN.nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		net_nl_fail(err, r, "netlink socket");
		LN.nl_socket_free(sk);
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

int net_set_up(struct nl_sock *sk, const char *name, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL, *ch = LN.rtnl_link_alloc();
	int r;

	if (!ch)
		return rt_err_set(err, ENOMEM, "out of memory");
	r = LN.rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0)
		return net_nl_fail(err, r, name);
	LN.rtnl_link_set_flags(ch, IFF_UP);
	r = LN.rtnl_link_change(sk, l, ch, 0);
	return r < 0 ? net_nl_fail(err, r, name) : 0;
}

struct rtnl_addr *net_addr_new(int ifindex, int family, const void *ip, int prefix,
			       struct rt_err *err)
{
	_cleanup_nladdr_ struct nl_addr *a = LN.nl_addr_build(family, ip,
							   family == AF_INET ? 4 : 16);
	struct rtnl_addr *ra = LN.rtnl_addr_alloc();

	if (!a || !ra) {
		if (ra)
			LN.rtnl_addr_put(ra);
		rt_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	LN.nl_addr_set_prefixlen(a, prefix);
	LN.rtnl_addr_set_ifindex(ra, ifindex);
	LN.rtnl_addr_set_local(ra, a);
	LN.rtnl_addr_set_prefixlen(ra, prefix);
	return ra;
}

/* IPv6 addresses skip duplicate address detection: the subnet is ours,
 * and a tentative address would make the first packets fail. */
static int add_addr(struct nl_sock *sk, int ifindex, int family, const void *ip, int prefix,
		    const char *what, struct rt_err *err)
{
	struct rtnl_addr *ra = net_addr_new(ifindex, family, ip, prefix, err);
	int r;

	if (!ra)
		return -err->code;
	if (family == AF_INET6)
		LN.rtnl_addr_set_flags(ra, IFA_F_NODAD);
	r = LN.rtnl_addr_add(sk, ra, NLM_F_CREATE | NLM_F_REPLACE);
	LN.rtnl_addr_put(ra);
	return r < 0 && r != -NLE_EXIST ? net_nl_fail(err, r, what) : 0;
}

static int add_default_route(struct nl_sock *sk, int ifindex, int family, const void *gw,
			     struct rt_err *err)
{
	_cleanup_nladdr_ struct nl_addr *dst = LN.nl_addr_build(family, NULL, 0);
	_cleanup_nladdr_ struct nl_addr *via = LN.nl_addr_build(family, gw, family == AF_INET ? 4 : 16);
	struct rtnl_route *rt = LN.rtnl_route_alloc();
	struct rtnl_nexthop *nh = LN.rtnl_route_nh_alloc();
	int r;

	if (!dst || !via || !rt || !nh) {
		if (rt)
			LN.rtnl_route_put(rt);
		if (nh)
			LN.rtnl_route_nh_free(nh);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	LN.nl_addr_set_prefixlen(dst, 0);
	LN.rtnl_route_set_family(rt, (uint8_t)family);
	LN.rtnl_route_set_dst(rt, dst);
	LN.rtnl_route_nh_set_ifindex(nh, ifindex);
	LN.rtnl_route_nh_set_gateway(nh, via);
	LN.rtnl_route_add_nexthop(rt, nh);   /* rt owns nh now */
	r = LN.rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_REPLACE);
	LN.rtnl_route_put(rt);
	return r < 0 ? net_nl_fail(err, r, family == AF_INET ? "IPv4 default route"
							  : "IPv6 default route") : 0;
}

/* hull0, made on the first use with the gateway addresses, and up. */
static int ensure_bridge(struct nl_sock *sk, const struct net_plan *p, int *ifindex,
			 struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *br = NULL;
	int r = LN.rtnl_link_get_kernel(sk, 0, p->bridge, &br);

	if (r < 0) {
		_cleanup_link_ struct rtnl_link *nb = LN.rtnl_link_bridge_alloc();
		if (!nb)
			return rt_err_set(err, ENOMEM, "out of memory");
		LN.rtnl_link_set_name(nb, p->bridge);
		r = LN.rtnl_link_add(sk, nb, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && r != -NLE_EXIST)
			return net_nl_fail(err, r, p->bridge);
		r = LN.rtnl_link_get_kernel(sk, 0, p->bridge, &br);
		if (r < 0)
			return net_nl_fail(err, r, p->bridge);
	} else if (!LN.rtnl_link_is_bridge(br)) {
		return rt_err_set(err, EEXIST, "%s exists and is not a bridge", p->bridge);
	}
	*ifindex = LN.rtnl_link_get_ifindex(br);
	if (add_addr(sk, *ifindex, AF_INET, &p->gw4, p->prefix4, "bridge IPv4 address", err) < 0 ||
	    add_addr(sk, *ifindex, AF_INET6, &p->gw6, p->prefix6, "bridge IPv6 address", err) < 0 ||
	    net_set_up(sk, p->bridge, err) < 0)
		return rt_err_wrap(err, "bridge %s", p->bridge);
	return 0;
}

static int delete_link(struct nl_sock *sk, const char *name, struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r = LN.rtnl_link_get_kernel(sk, 0, name, &l);

	if (r < 0)
		return 0;   /* already gone */
	r = LN.rtnl_link_delete(sk, l);
	return r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV ? net_nl_fail(err, r, name) : 0;
}

/* The pair, with the peer created straight in the child's namespace: no
 * moment where eth0 exists on the host. */
static int make_veth(struct nl_sock *sk, const struct net_plan *p, int br_index, int nsfd,
		     struct rt_err *err)
{
	_cleanup_link_ struct rtnl_link *v = LN.rtnl_link_veth_alloc();
	struct rtnl_link *peer;
	int r;

	if (!v)
		return rt_err_set(err, ENOMEM, "out of memory");
	peer = LN.rtnl_link_veth_get_peer(v);
	LN.rtnl_link_set_name(v, p->host_if);
	LN.rtnl_link_set_master(v, br_index);
	LN.rtnl_link_set_flags(v, IFF_UP);
	LN.rtnl_link_set_name(peer, PEER_IF);
	LN.rtnl_link_set_ns_fd(peer, nsfd);
	r = LN.rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	LN.rtnl_link_put(peer);
	return r < 0 ? net_nl_fail(err, r, p->host_if) : 0;
}

/* Inside the child's namespace. */
static int configure_inside(const struct net_plan *p, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = net_route_socket(err);
	int idx;

	if (!sk)
		return -err->code;
	if (net_set_up(sk, "lo", err) < 0)
		return rt_err_wrap(err, "loopback");
	if (!p->veth)
		return 0;
	idx = (int)if_nametoindex(PEER_IF);
	if (idx <= 0)
		return rt_err_sys(err, errno, "%s in the container", PEER_IF);
	if (net_set_up(sk, PEER_IF, err) < 0 ||
	    add_addr(sk, idx, AF_INET, &p->ip4, p->prefix4, "IPv4 address", err) < 0 ||
	    add_addr(sk, idx, AF_INET6, &p->ip6, p->prefix6, "IPv6 address", err) < 0 ||
	    add_default_route(sk, idx, AF_INET, &p->gw4, err) < 0 ||
	    add_default_route(sk, idx, AF_INET6, &p->gw6, err) < 0)
		return rt_err_wrap(err, "%s in the container", PEER_IF);
	return 0;
}

int net_in_ns(int nsfd, int (*fn)(void *arg, struct rt_err *err), void *arg,
	      struct rt_err *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return rt_err_sys(err, errno, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return rt_err_sys(err, errno, "enter the container's network namespace");
	r = fn(arg, err);
	/* Not being able to come back would leave hull in the container's
	 * namespace: nothing later could be trusted. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

static int configure_inside_cb(void *arg, struct rt_err *err)
{
	return configure_inside(arg, err);
}

/* The host side (bridge, veth with its peer in the namespace), then fn in
 * the namespace; on failure the host end goes again. */
int net_apply_with(const struct net_plan *p, pid_t pid, int (*fn)(void *arg, struct rt_err *err),
		   void *arg, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	char path[64];
	int br = 0;
	struct rt_err ign = {0};

	if (net_nl_load(err) < 0)
		return rt_err_wrap(err, "network");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return rt_err_sys(err, errno, "network: open %s", path);
	if (p->veth) {
		sk = net_route_socket(err);
		if (!sk)
			return rt_err_wrap(err, "network");
		/* a crashed run's host end (its namespace may still be alive) */
		if (delete_link(sk, p->host_if, err) < 0 || ensure_bridge(sk, p, &br, err) < 0 ||
		    make_veth(sk, p, br, nsfd, err) < 0)
			return rt_err_wrap(err, "network");
	}
	if (net_in_ns(nsfd, fn, arg, err) < 0) {
		if (p->veth)
			delete_link(sk, p->host_if, &ign);
		return rt_err_wrap(err, "network");
	}
	return 0;
}

int net_apply(const struct net_plan *p, pid_t pid, struct rt_err *err)
{
	return net_apply_with(p, pid, configure_inside_cb, (void *)p, err);
}

int net_remove(const char *host_if, struct rt_err *err)
{
	_cleanup_nlsock_ struct nl_sock *sk = net_route_socket(err);

	if (!sk)
		return -err->code;
	return delete_link(sk, host_if, err);
}
