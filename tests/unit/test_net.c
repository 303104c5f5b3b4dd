/* netns/ipam.c: subnet parsing, the lease file, allocation (no links are
 * made here: only files under a temporary lib dir). */
#include "config.h"
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns/net.h"
#include "runtime/util.h"

static char lib[64];

static void setup(void)
{
	snprintf(lib, sizeof(lib), "/tmp/hull-unit-net.XXXXXX");
	cr_assert_not_null(mkdtemp(lib));
	unsetenv("HULL_SUBNET");
	unsetenv("HULL_SUBNET6");
	unsetenv("HULL_BRIDGE");
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", lib);
	system(cmd);
}

static const char *ip4(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

Test(net, cidr4)
{
	struct in_addr a;
	int p;

	cr_assert_eq(net_parse_cidr4("10.88.0.0/16", true, &a, &p), 0);
	cr_assert_eq(p, 16);
	cr_assert_str_eq(ip4(a), "10.88.0.0");
	cr_assert_eq(net_parse_cidr4("10.88.0.7", true, &a, &p), 0);
	cr_assert_eq(p, 32);
	cr_assert_eq(net_parse_cidr4("10.88.0.7/16", true, &a, &p), -EINVAL, "host bits");
	cr_assert_eq(net_parse_cidr4("10.88.0.7/16", false, &a, &p), 0);
	cr_assert_eq(net_parse_cidr4("10.88.0.0/33", false, &a, &p), -EINVAL);
	cr_assert_eq(net_parse_cidr4("10.88.0.0/", false, &a, &p), -EINVAL);
	cr_assert_eq(net_parse_cidr4("10.88.0.0/-1", false, &a, &p), -EINVAL);
	cr_assert_eq(net_parse_cidr4("10.88.0.0/1x", false, &a, &p), -EINVAL);
	cr_assert_eq(net_parse_cidr4("10.888.0.0", false, &a, &p), -EINVAL);
	cr_assert_eq(net_parse_cidr4("", false, &a, &p), -EINVAL);
}

Test(net, config_defaults_and_env, .init = setup, .fini = teardown)
{
	struct net_config c;
	struct rt_err err = {0};

	cr_assert_eq(net_config_load(lib, &c, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.bridge, "hull0");
	cr_assert_eq(c.prefix4, 16);
	cr_assert_eq(c.prefix6, 64);
	setenv("HULL_SUBNET", "192.168.5.0/24", 1);
	cr_assert_eq(net_config_load(lib, &c, &err), 0, "%s", err.msg);
	cr_assert_str_eq(ip4(c.net4), "192.168.5.0");
	setenv("HULL_SUBNET", "192.168.5.0/31", 1);
	cr_assert_lt(net_config_load(lib, &c, &err), 0);
	cr_assert(strstr(err.msg, "HULL_SUBNET"), "%s", err.msg);
	setenv("HULL_SUBNET", "10.0.0.0/8", 1);
	setenv("HULL_SUBNET6", "fd00::/48", 1);
	cr_assert_lt(net_config_load(lib, &c, &err), 0);
	cr_assert(strstr(err.msg, "HULL_SUBNET6"), "%s", err.msg);
	setenv("HULL_SUBNET6", "fd00::/64", 1);
	setenv("HULL_BRIDGE", "a-name-that-is-too-long", 1);
	cr_assert_lt(net_config_load(lib, &c, &err), 0);
}

Test(net, lease_of)
{
	struct net_config c;
	struct net_lease l;
	struct rt_err err = {0};
	char b6[INET6_ADDRSTRLEN];

	cr_assert_eq(net_config_load("/nonexistent", &c, &err), 0);
	net_lease_of(&c, 300, &l);
	cr_assert_str_eq(ip4(l.ip4), "10.88.1.44");
	inet_ntop(AF_INET6, &l.ip6, b6, sizeof(b6));
	cr_assert_str_eq(b6, "fd00:88::12c");
	cr_assert_str_eq(l.host_if, "hull300");
}

Test(net, leases_parse_hostile)
{
	struct net_lease_entry *v;
	size_t n;

	cr_assert_eq(net_leases_parse("2 ct:a\n3 jail:1:2\n\n", &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(v[1].index, 3);
	cr_assert_str_eq(v[1].owner, "jail:1:2");
	free(v);
	cr_assert_eq(net_leases_parse("", &v, &n), 0);
	cr_assert_eq(n, 0);
	free(v);
	const char *bad[] = { "x ct:a\n", "1 ct:a\n", "2\n", "2 \n", "2 ct:a\tb\n",
			      "99999999999 ct:a\n", "-2 ct:a\n", "2 ct:\x01\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(net_leases_parse(bad[i], &v, &n), -EINVAL, "accepted %s", bad[i]);
}

Test(net, alloc_release, .init = setup, .fini = teardown)
{
	struct net_config c;
	struct net_lease l, l2;
	struct rt_err err = {0};

	setenv("HULL_SUBNET", "10.1.2.0/29", 1);   /* hosts .2 to .6 */
	cr_assert_eq(net_config_load(lib, &c, &err), 0);
	cr_assert_eq(net_ipam_alloc(&c, "ct:a", NULL, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(ip4(l.ip4), "10.1.2.2");
	/* the same owner gets the same lease back */
	cr_assert_eq(net_ipam_alloc(&c, "ct:a", NULL, &l2, &err), 0);
	cr_assert_eq(l2.index, l.index);
	cr_assert_eq(net_ipam_alloc(&c, "ct:b", "10.1.2.6", &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.index, 6);
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", "10.1.2.6", &l, &err), -EADDRINUSE);
	cr_assert(strstr(err.msg, "already taken"), "%s", err.msg);
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", "10.1.2.7", &l, &err), -EINVAL, "broadcast");
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", "10.1.2.1", &l, &err), -EINVAL, "gateway");
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", "10.1.3.2", &l, &err), -EINVAL, "outside");
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", "10.1.2.3/24", &l, &err), -EINVAL, "prefix");
	cr_assert_eq(net_ipam_alloc(&c, "ct:c", NULL, &l, &err), 0);
	cr_assert_eq(l.index, 3);
	cr_assert_eq(net_ipam_alloc(&c, "ct:d", NULL, &l, &err), 0);
	cr_assert_eq(net_ipam_alloc(&c, "ct:e", NULL, &l, &err), 0);
	cr_assert_eq(l.index, 5);
	cr_assert_eq(net_ipam_alloc(&c, "ct:f", NULL, &l, &err), -ENOSPC);
	/* a dead jail's lease is free again */
	cr_assert_eq(net_ipam_release(&c, "ct:d", &err), 0);
	cr_assert_eq(net_ipam_find(&c, "ct:d", &l, &err), -ENOENT);
	cr_assert_eq(net_ipam_alloc(&c, "jail:999999:1", NULL, &l, &err), 0);
	cr_assert_eq(l.index, 4);
	cr_assert_eq(net_ipam_alloc(&c, "ct:f", NULL, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.index, 4);
	cr_assert_eq(net_ipam_find(&c, "ct:b", &l, &err), 0);
	cr_assert_eq(l.index, 6);
	cr_assert_eq(net_ipam_alloc(&c, "bad owner", NULL, &l, &err), -EINVAL);
}
