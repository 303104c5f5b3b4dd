/* Container networking: a bridge (hull0) with a gateway address, a veth
 * pair per container (one end on the bridge, the other moved into the
 * container's network namespace as eth0), IPv4 and IPv6, and an address
 * allocator over a configurable subnet.  Planned in the parent before the
 * child exists; applied by the parent once the child's network namespace
 * exists (runtime/container.c, before SYNC_GO). */
#ifndef HULL_NET_H
#define HULL_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/err.h"

#define NET_DEFAULT_LIB_DIR "/var/lib/hull"
#define NET_DEFAULT_SUBNET4 "10.88.0.0/16"
#define NET_DEFAULT_SUBNET6 "fd00:88::/64"
#define NET_DEFAULT_BRIDGE "hull0"
#define NET_IFNAME_MAX 16

/* The network every container joins: from $HULL_SUBNET, $HULL_SUBNET6,
 * $HULL_BRIDGE or the defaults.  Leases live in dir/leases. */
struct net_config {
	char bridge[NET_IFNAME_MAX];
	struct in_addr net4;
	int prefix4;
	struct in6_addr net6;
	int prefix6;
	char dir[4096];
};

/* One allocated address: index is the host number inside the subnet
 * (2..size-2; 1 is the gateway).  The IPv6 address is net6 + index, and
 * the host's veth end is "hull<index>", so neither can ever be given twice. */
struct net_lease {
	uint32_t index;
	struct in_addr ip4;
	struct in6_addr ip6;
	char host_if[NET_IFNAME_MAX];
};

/* What to do in the child's network namespace. */
struct net_plan {
	bool veth;                   /* false: only bring loopback up */
	char bridge[NET_IFNAME_MAX];
	char host_if[NET_IFNAME_MAX];
	struct in_addr gw4, ip4;
	int prefix4;
	struct in6_addr gw6, ip6;
	int prefix6;
};

/* lib_dir NULL: $HULL_LIB_DIR or /var/lib/hull. */
int net_config_load(const char *lib_dir, struct net_config *c, struct rt_err *err);
/* "10.88.0.0/16" (host bits must be zero when strict) -> address, prefix. */
int net_parse_cidr4(const char *s, bool strict, struct in_addr *a, int *prefix);
int net_parse_cidr6(const char *s, struct in6_addr *a, int *prefix);
/* The lease for host number index (no allocation). */
void net_lease_of(const struct net_config *c, uint32_t index, struct net_lease *l);
void net_gateways(const struct net_config *c, struct in_addr *gw4, struct in6_addr *gw6);

/* ---- ipam.c: the lease file, locked with flock, written atomically ---- */
/* Owners: "ct:NAME" (kept until destroy), "jail:PID:STARTTIME" (dropped
 * when that process is gone).  want: an address "A.B.C.D[/P]" that must
 * lie inside the subnet and be free; NULL for the first free one.  An
 * owner that already holds a lease gets it back (want must then match). */
int net_ipam_alloc(const struct net_config *c, const char *owner, const char *want,
		   struct net_lease *out, struct rt_err *err);
int net_ipam_release(const struct net_config *c, const char *owner, struct rt_err *err);
/* The owner's lease; -ENOENT when it has none. */
int net_ipam_find(const struct net_config *c, const char *owner, struct net_lease *out,
		  struct rt_err *err);
/* Exported for tests: parse a lease file ("INDEX OWNER" lines). */
struct net_lease_entry { uint32_t index; char owner[256]; };
int net_leases_parse(const char *text, struct net_lease_entry **out, size_t *n);

/* ---- link.c: libnl-route ---- */
void net_plan_veth(const struct net_config *c, const struct net_lease *l, struct net_plan *p);
void net_plan_lo(struct net_plan *p);
/* In the parent, once pid's network namespace exists: bridge (made on
 * demand), stale host end removed, veth created with its peer directly in
 * the namespace, then lo, eth0, addresses and default routes there.  On
 * failure nothing it made is left (the bridge stays: it is shared). */
int net_apply(const struct net_plan *p, pid_t pid, struct rt_err *err);
/* VM mode (microVM containers): the same host side, but in the
 * namespace the veth peer carries no address; a tap joined to it by a
 * bridge there is returned in *tap_fd (-1 without a veth) for the VMM,
 * whose guest owns the address.  Everything in the namespace goes with it. */
int net_apply_vm(const struct net_plan *p, pid_t pid, int *tap_fd, struct rt_err *err);
/* ---- vmlink.c, for an OCI bundle in VM mode joining an engine's
 * network namespace: its first Ethernet interface's MAC, one global IPv4
 * and one IPv6 address (prefix -1: none), default gateways. ---- */
struct net_adopt {
	bool found;
	char ifname[NET_IFNAME_MAX];
	uint8_t mac[6];
	struct in_addr ip4, gw4;
	int prefix4;
	struct in6_addr ip6, gw6;
	int prefix6;
};
/* Reads it (nothing changes); found false when there is no such interface. */
int net_adopt_plan(int nsfd, struct net_adopt *a, struct rt_err *err);
/* Moves it to the guest: addresses off the interface (which gets a new
 * MAC and goes on a bridge with a tap in that namespace), the tap in
 * *tap_fd.  The engine removes the namespace, and all of it, as usual. */
int net_adopt_apply(int nsfd, const struct net_adopt *a, int *tap_fd, struct rt_err *err);
/* Delete a host-side veth if it exists (its peer goes with it). */
int net_remove(const char *host_if, struct rt_err *err);

#endif
