/* Address allocation: the subnet from the environment, leases in a small
 * text file ("INDEX OWNER" per line) under the hull lib dir, read and
 * rewritten (temp + rename) under an flock so two hulls never hand out the
 * same address.  The file is hostile input: every line is checked. */
#include "config.h"
#include "netns/net.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAX_LEASES 65536

/* "ADDR[/P]" copied into buf (size n) with the prefix cut off; *prefix is P,
 * or max when there is none. */
static int split_cidr(const char *s, char *buf, size_t n, long max, long *prefix)
{
	char *slash, *end;

	*prefix = max;
	if (!s || strlen(s) >= n)
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!isdigit((unsigned char)*slash))
			return -EINVAL;
		*prefix = strtol(slash, &end, 10);
		if (*end || *prefix < 0 || *prefix > max)
			return -EINVAL;
	}
	return 0;
}

int net_parse_cidr4(const char *s, bool strict, struct in_addr *a, int *prefix)
{
	char buf[64];
	long p;

	if (split_cidr(s, buf, sizeof(buf), 32, &p) < 0 || inet_pton(AF_INET, buf, a) != 1)
		return -EINVAL;
	if (strict && p < 32 && (ntohl(a->s_addr) & (0xffffffffu >> p)))
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

int net_parse_cidr6(const char *s, struct in6_addr *a, int *prefix)
{
	char buf[80];
	long p;

	if (split_cidr(s, buf, sizeof(buf), 128, &p) < 0 || inet_pton(AF_INET6, buf, a) != 1)
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

int net_config_load(const char *lib_dir, struct net_config *c, struct rt_err *err)
{
	const char *s4 = getenv("HULL_SUBNET"), *s6 = getenv("HULL_SUBNET6");
	const char *br = getenv("HULL_BRIDGE");

	memset(c, 0, sizeof(*c));
	if (!lib_dir)
		lib_dir = getenv("HULL_LIB_DIR");
	if (!lib_dir || !*lib_dir)
		lib_dir = NET_DEFAULT_LIB_DIR;
	s4 = s4 && *s4 ? s4 : NET_DEFAULT_SUBNET4;
	s6 = s6 && *s6 ? s6 : NET_DEFAULT_SUBNET6;
	br = br && *br ? br : NET_DEFAULT_BRIDGE;
	if (net_parse_cidr4(s4, true, &c->net4, &c->prefix4) < 0 || c->prefix4 < 8 ||
	    c->prefix4 > 30)
		return rt_err_set(err, EINVAL, "HULL_SUBNET %s: expected an IPv4 network "
				  "A.B.C.D/P with P from 8 to 30 and no host bits", s4);
	if (net_parse_cidr6(s6, &c->net6, &c->prefix6) < 0 || c->prefix6 < 64 ||
	    c->prefix6 > 96)
		return rt_err_set(err, EINVAL, "HULL_SUBNET6 %s: expected an IPv6 network "
				  "with a prefix from /64 to /96", s6);
	/* the host part of net6 must be zero in the low 32 bits we add */
	if (c->net6.s6_addr32[3] != 0)
		return rt_err_set(err, EINVAL, "HULL_SUBNET6 %s: the low 32 bits must be zero", s6);
	if (strlen(br) >= NET_IFNAME_MAX || strchr(br, '/') || strchr(br, ' '))
		return rt_err_set(err, EINVAL, "HULL_BRIDGE %s: not an interface name", br);
	strcpy(c->bridge, br);
	if ((size_t)snprintf(c->dir, sizeof(c->dir), "%s/net", lib_dir) >= sizeof(c->dir))
		return rt_err_set(err, ENAMETOOLONG, "HULL_LIB_DIR: too long");
	return 0;
}

static uint32_t subnet_size(const struct net_config *c)
{
	return (uint32_t)1 << (32 - c->prefix4);
}

void net_lease_of(const struct net_config *c, uint32_t index, struct net_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->index = index;
	l->ip4.s_addr = htonl(ntohl(c->net4.s_addr) + index);
	l->ip6 = c->net6;
	l->ip6.s6_addr32[3] = htonl(index);
	snprintf(l->host_if, sizeof(l->host_if), "hull%u", index);
}

void net_gateways(const struct net_config *c, struct in_addr *gw4, struct in6_addr *gw6)
{
	struct net_lease l;

	net_lease_of(c, 1, &l);
	*gw4 = l.ip4;
	*gw6 = l.ip6;
}

int net_leases_parse(const char *text, struct net_lease_entry **out, size_t *n)
{
	_cleanup_free_ struct net_lease_entry *v = NULL;
	size_t cap = 0;
	const char *p = text;

	*out = NULL;
	*n = 0;
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		char line[300], *sp, *end;
		unsigned long idx;

		if ((size_t)(eol - p) >= sizeof(line) || *n >= MAX_LEASES)
			return -EINVAL;
		memcpy(line, p, (size_t)(eol - p));
		line[eol - p] = '\0';
		p = *eol ? eol + 1 : eol;
		if (!line[0])
			continue;
		sp = strchr(line, ' ');
		if (!sp || !isdigit((unsigned char)line[0]) || !sp[1] || strlen(sp + 1) >= 256)
			return -EINVAL;
		*sp = '\0';
		idx = strtoul(line, &end, 10);
		if (*end || idx < 2 || idx > 0xffffffffUL)
			return -EINVAL;
		for (const char *q = sp + 1; *q; q++)
			if (!isgraph((unsigned char)*q))
				return -EINVAL;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct net_lease_entry *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[*n].index = (uint32_t)idx;
		strcpy(v[*n].owner, sp + 1);
		(*n)++;
	}
	*out = steal_ptr(v);
	return 0;
}

/* A jail's lease outlives a crashed hull; it is free once that process is
 * gone (or its pid was reused). */
static bool owner_dead(const char *owner)
{
	unsigned long pid;
	unsigned long long start, now;

	if (sscanf(owner, "jail:%lu:%llu", &pid, &start) != 2)
		return false;
	return rt_pid_start_time((pid_t)pid, &now) < 0 || now != start;
}

struct leases {
	int lockfd;
	char path[4200];
	struct net_lease_entry *v;
	size_t n;
};

static void leases_close(struct leases *l)
{
	if (l->lockfd >= 0)
		close(l->lockfd);   /* drops the flock */
	free(l->v);
}

static int leases_open(const struct net_config *c, struct leases *l, struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	char lock[4200];
	struct rt_err e = {0};

	l->lockfd = -1;
	l->v = NULL;
	l->n = 0;
	if (rt_mkdir_p(c->dir, 0700, err) < 0)
		return rt_err_wrap(err, "network state");
	snprintf(lock, sizeof(lock), "%s/leases.lock", c->dir);
	snprintf(l->path, sizeof(l->path), "%s/leases", c->dir);
	l->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->lockfd < 0)
		return rt_err_sys(err, errno, "%s", lock);
	if (flock(l->lockfd, LOCK_EX) < 0)
		return rt_err_sys(err, errno, "lock %s", lock);
	if (rt_read_file(l->path, 4 << 20, &text, NULL, &e) < 0) {
		if (e.code == ENOENT)
			return 0;
		*err = e;
		return -err->code;
	}
	if (net_leases_parse(text, &l->v, &l->n) < 0)
		return rt_err_set(err, EINVAL, "%s: corrupt lease file", l->path);
	return 0;
}

static int leases_save(struct leases *l, struct rt_err *err)
{
	size_t cap = l->n * 280 + 1, off = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return rt_err_set(err, ENOMEM, "out of memory");
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%u %s\n", l->v[i].index, l->v[i].owner);
	return rt_write_file_atomic(l->path, buf, off, 0600, err);
}

static ssize_t find_owner(const struct leases *l, const char *owner)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].owner, owner))
			return (ssize_t)i;
	return -1;
}

static const char *index_owner(const struct leases *l, uint32_t idx)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].index == idx && !owner_dead(l->v[i].owner))
			return l->v[i].owner;
	return NULL;
}

/* "A.B.C.D[/P]" -> host number inside the subnet, checked. */
static int want_index(const struct net_config *c, const char *want, uint32_t *idx,
		      struct rt_err *err)
{
	struct in_addr a;
	int p;
	uint32_t off;
	char net[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->net4, net, sizeof(net));
	if (net_parse_cidr4(want, false, &a, &p) < 0)
		return rt_err_set(err, EINVAL, "--ip %s: expected an IPv4 address A.B.C.D[/P]", want);
	if (strchr(want, '/') && p != c->prefix4)
		return rt_err_set(err, EINVAL, "--ip %s: the prefix must be the subnet's, /%d",
				  want, c->prefix4);
	off = ntohl(a.s_addr) - ntohl(c->net4.s_addr);
	if ((ntohl(a.s_addr) & ~(0xffffffffu >> c->prefix4)) != ntohl(c->net4.s_addr))
		return rt_err_set(err, EINVAL, "--ip %s: outside the subnet %s/%d", want, net,
				  c->prefix4);
	if (off < 2 || off >= subnet_size(c) - 1)
		return rt_err_set(err, EINVAL, "--ip %s: reserved in %s/%d (network, gateway "
				  "or broadcast address)", want, net, c->prefix4);
	*idx = off;
	return 0;
}

static int pick_index(const struct net_config *c, const struct leases *l, const char *owner,
		      const char *want, uint32_t *idx, struct rt_err *err)
{
	const char *holder;

	if (want) {
		if (want_index(c, want, idx, err) < 0)
			return -err->code;
		holder = index_owner(l, *idx);
		if (holder && strcmp(holder, owner))
			return rt_err_set(err, EADDRINUSE, "--ip %s: already taken (by %s)", want,
					  holder);
		return 0;
	}
	for (uint32_t i = 2; i < subnet_size(c) - 1; i++) {
		if (!index_owner(l, i)) {
			*idx = i;
			return 0;
		}
	}
	return rt_err_set(err, ENOSPC, "no free address left in the subnet");
}

int net_ipam_alloc(const struct net_config *c, const char *owner, const char *want,
		   struct net_lease *out, struct rt_err *err)
{
	struct leases l;
	ssize_t mine;
	uint32_t idx = 0;
	size_t k = 0;
	int r = -1;

	if (strlen(owner) >= 256 || strchr(owner, ' ') || strchr(owner, '\n'))
		return rt_err_set(err, EINVAL, "lease owner %s: bad name", owner);
	if (leases_open(c, &l, err) < 0)
		goto out;
	mine = find_owner(&l, owner);
	if (mine >= 0 && !want) {
		net_lease_of(c, l.v[mine].index, out);
		r = 0;
		goto out;
	}
	if (pick_index(c, &l, owner, want, &idx, err) < 0)
		goto out;
	/* Drop the dead owners' entries, and this owner's old one. */
	for (size_t i = 0; i < l.n; i++)
		if (!owner_dead(l.v[i].owner) && strcmp(l.v[i].owner, owner) &&
		    l.v[i].index != idx)
			l.v[k++] = l.v[i];
	l.n = k;
	struct net_lease_entry *nv = realloc(l.v, (l.n + 1) * sizeof(*nv));
	if (!nv) {
		rt_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	l.v = nv;
	l.v[l.n].index = idx;
	snprintf(l.v[l.n].owner, sizeof(l.v[l.n].owner), "%s", owner);
	l.n++;
	if (leases_save(&l, err) < 0)
		goto out;
	net_lease_of(c, idx, out);
	r = 0;
out:
	leases_close(&l);
	return r < 0 ? -err->code : 0;
}

int net_ipam_release(const struct net_config *c, const char *owner, struct rt_err *err)
{
	struct leases l;
	size_t k = 0;
	int r;

	if (leases_open(c, &l, err) < 0) {
		leases_close(&l);
		return -err->code;
	}
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].owner, owner))
			l.v[k++] = l.v[i];
	r = k == l.n ? 0 : (l.n = k, leases_save(&l, err));
	leases_close(&l);
	return r;
}

int net_ipam_find(const struct net_config *c, const char *owner, struct net_lease *out,
		  struct rt_err *err)
{
	struct leases l;
	ssize_t i;
	int r;

	if (leases_open(c, &l, err) < 0) {
		leases_close(&l);
		return -err->code;
	}
	i = find_owner(&l, owner);
	if (i >= 0)
		net_lease_of(c, l.v[i].index, out);
	r = i >= 0 ? 0 : rt_err_set(err, ENOENT, "%s holds no address", owner);
	leases_close(&l);
	return r;
}
