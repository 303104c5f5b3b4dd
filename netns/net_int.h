/* Internals shared by netns/link.c and netns/vmlink.c (libnl helpers). */
#ifndef HULL_NET_INT_H
#define HULL_NET_INT_H

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "runtime/cleanup.h"
#include "runtime/err.h"

/* libnl is dlopen()ed (runtime/lazylib.c), not linked: only containers
 * with a network hull sets up need it, and mapping libnl-route cost every
 * other invocation about 0.5 MB of RSS.  LN.rtnl_link_alloc() calls
 * rtnl_link_alloc(); net_route_socket() loads it, and every libnl object
 * here is made after a socket is.  HULL_LIBNL overrides the file name
 * (for tests). */
#define LAZY_NL_FUNCS(X) \
	X(nl_addr_build) X(nl_addr_get_binary_addr) X(nl_addr_get_len) \
	X(nl_addr_get_prefixlen) X(nl_addr_put) X(nl_addr_set_prefixlen) \
	X(nl_cache_foreach) X(nl_cache_free) X(nl_connect) X(nl_geterror) \
	X(nl_socket_alloc) X(nl_socket_free) X(rtnl_addr_add) \
	X(rtnl_addr_alloc) X(rtnl_addr_alloc_cache) X(rtnl_addr_delete) \
	X(rtnl_addr_get_family) X(rtnl_addr_get_ifindex) X(rtnl_addr_get_local) \
	X(rtnl_addr_get_prefixlen) X(rtnl_addr_get_scope) X(rtnl_addr_put) \
	X(rtnl_addr_set_flags) X(rtnl_addr_set_ifindex) X(rtnl_addr_set_local) \
	X(rtnl_addr_set_prefixlen) X(rtnl_link_add) X(rtnl_link_alloc) \
	X(rtnl_link_alloc_cache) X(rtnl_link_bridge_alloc) X(rtnl_link_change) \
	X(rtnl_link_delete) X(rtnl_link_enslave) X(rtnl_link_get_addr) \
	X(rtnl_link_get_arptype) X(rtnl_link_get_ifindex) \
	X(rtnl_link_get_kernel) X(rtnl_link_get_name) X(rtnl_link_is_bridge) \
	X(rtnl_link_put) X(rtnl_link_set_addr) X(rtnl_link_set_flags) \
	X(rtnl_link_set_master) X(rtnl_link_set_name) X(rtnl_link_set_ns_fd) \
	X(rtnl_link_unset_flags) X(rtnl_link_veth_alloc) \
	X(rtnl_link_veth_get_peer) X(rtnl_route_add) X(rtnl_route_add_nexthop) \
	X(rtnl_route_alloc) X(rtnl_route_alloc_cache) X(rtnl_route_get_dst) \
	X(rtnl_route_get_family) X(rtnl_route_get_table) \
	X(rtnl_route_nexthop_n) X(rtnl_route_nh_alloc) X(rtnl_route_nh_free) \
	X(rtnl_route_nh_get_gateway) X(rtnl_route_nh_get_ifindex) \
	X(rtnl_route_nh_set_gateway) X(rtnl_route_nh_set_ifindex) \
	X(rtnl_route_put) X(rtnl_route_set_dst) X(rtnl_route_set_family)

struct lazy_nl {
#define LAZY_FIELD(f) __typeof__(f) *f;
	LAZY_NL_FUNCS(LAZY_FIELD)
#undef LAZY_FIELD
};
extern struct lazy_nl LN;
int net_nl_load(struct rt_err *err);

struct net_plan;

static inline void net_nl_sock_freep(struct nl_sock **s) { if (*s) LN.nl_socket_free(*s); }
static inline void net_link_putp(struct rtnl_link **l) { if (*l) LN.rtnl_link_put(*l); }
static inline void net_addr_putp(struct nl_addr **a) { if (*a) LN.nl_addr_put(*a); }
#define _cleanup_nlsock_ _cleanup_(net_nl_sock_freep)
#define _cleanup_link_ _cleanup_(net_link_putp)
#define _cleanup_nladdr_ _cleanup_(net_addr_putp)

#define PEER_IF "eth0"

/* libnl's negative code into err (what: the object), -errno. */
int net_nl_fail(struct rt_err *err, int nlerr, const char *what);
struct nl_sock *net_route_socket(struct rt_err *err);
int net_set_up(struct nl_sock *sk, const char *name, struct rt_err *err);
/* An address object for ip/prefix on ifindex, to add or delete (the
 * caller puts it); NULL with err set. */
struct rtnl_addr *net_addr_new(int ifindex, int family, const void *ip, int prefix,
			       struct rt_err *err);
/* fn(arg) inside the namespace nsfd, then back (hull has no threads). */
int net_in_ns(int nsfd, int (*fn)(void *arg, struct rt_err *err), void *arg,
	      struct rt_err *err);
/* net_apply with fn in place of the address setup in the namespace. */
int net_apply_with(const struct net_plan *p, pid_t pid, int (*fn)(void *arg, struct rt_err *err),
		   void *arg, struct rt_err *err);

#endif
