/* Internals shared by netns/link.c and netns/vmlink.c (libnl helpers). */
#ifndef HULL_NET_INT_H
#define HULL_NET_INT_H

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "runtime/cleanup.h"
#include "runtime/err.h"

struct net_plan;

static inline void net_nl_sock_freep(struct nl_sock **s) { if (*s) nl_socket_free(*s); }
static inline void net_link_putp(struct rtnl_link **l) { if (*l) rtnl_link_put(*l); }
static inline void net_addr_putp(struct nl_addr **a) { if (*a) nl_addr_put(*a); }
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
