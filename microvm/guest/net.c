/* The guest init's network: lo, and the virtio-net interface the VMM
 * describes in /hull/config (net.mac, net.ip4, net.gw4, net.ip6,
 * net.gw6), set up with the classic ioctls (no netlink library in a
 * static init).  Every value is checked again here: the config comes from
 * outside the guest.  Standalone like init.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* linux/ipv6.h's in6_ifreq, without its header (it fights glibc's). */
struct in6_ifreq_ {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static struct {
	const char *mac, *ip4, *gw4, *ip6, *gw6;
} cfg;

void net_config_item(const char *key, const char *val)
{
	if (!strcmp(key, "mac"))
		cfg.mac = val;
	else if (!strcmp(key, "ip4"))
		cfg.ip4 = val;
	else if (!strcmp(key, "gw4"))
		cfg.gw4 = val;
	else if (!strcmp(key, "ip6"))
		cfg.ip6 = val;
	else if (!strcmp(key, "gw6"))
		cfg.gw6 = val;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return mac[0] & 1 ? -1 : 0;
}

/* "ADDR/PREFIX" of family af; the prefix within 1..max. */
static int parse_cidr(const char *s, int af, void *addr, int *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long p;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || p < 1 || p > (af == AF_INET ? 32 : 128))
		return -1;
	*prefix = (int)p;
	return inet_pton(af, buf, addr) == 1 ? 0 : -1;
}

static int sock(int af)
{
	return socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static void set_flags_up(int fd, const char *name, net_fail_fn fail)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fail("network: %s: %s", name, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail("network: bring %s up: %s", name, strerror(errno));
}

/* The interface whose hardware address is mac (the device probes before
 * init runs; a short wait covers a slow probe). */
static int find_if(int fd, const unsigned char mac[6], char name[IF_NAMESIZE])
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int tries = 0; tries < 200; tries++) {
		struct if_nameindex *ix = if_nameindex(), *i;
		int found = 0;

		for (i = ix; i && i->if_index && !found; i++) {
			struct ifreq ifr = {0};

			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
			if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 &&
			    !memcmp(ifr.ifr_hwaddr.sa_data, mac, 6)) {
				snprintf(name, IF_NAMESIZE, "%s", i->if_name);
				found = 1;
			}
		}
		if (ix)
			if_freenameindex(ix);
		if (found)
			return 0;
		nanosleep(&tick, NULL);
	}
	return -1;
}

static void ipv4(int fd, const char *ifname, net_fail_fn fail)
{
	struct ifreq ifr = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	struct rtentry rt = {0};
	struct in_addr ip, gw;
	uint32_t mask;
	int prefix;

	if (parse_cidr(cfg.ip4, AF_INET, &ip, &prefix) < 0 || prefix > 30)
		fail("network: net.ip4 %s: expected A.B.C.D/PREFIX (1-30)", cfg.ip4);
	mask = htonl(~0u << (32 - prefix));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr = ip;
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		fail("network: %s address %s: %s", ifname, cfg.ip4, strerror(errno));
	sin->sin_addr.s_addr = mask;
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		fail("network: %s netmask /%d: %s", ifname, prefix, strerror(errno));
	if (!cfg.gw4)
		return;
	if (inet_pton(AF_INET, cfg.gw4, &gw) != 1 ||
	    (gw.s_addr & mask) != (ip.s_addr & mask) || gw.s_addr == ip.s_addr)
		fail("network: net.gw4 %s: expected another address inside %s", cfg.gw4, cfg.ip4);
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_gateway;
	sin->sin_family = AF_INET;
	sin->sin_addr = gw;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(fd, SIOCADDRT, &rt) < 0)
		fail("network: IPv4 default route via %s: %s", cfg.gw4, strerror(errno));
}

/* Duplicate address detection off first: the host leased this address,
 * and a tentative address would fail the workload's first packets. */
static void no_dad(const char *ifname)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "0", 1);
		close(fd);
	}
}

static void ipv6(const char *ifname, net_fail_fn fail)
{
	struct in6_ifreq_ ifr6 = {0};
	struct in6_rtmsg rt = {0};
	int fd = sock(AF_INET6), prefix;

	if (fd < 0)
		fail("network: IPv6 socket: %s", strerror(errno));
	if (parse_cidr(cfg.ip6, AF_INET6, &ifr6.addr, &prefix) < 0)
		fail("network: net.ip6 %s: expected an IPv6 ADDR/PREFIX", cfg.ip6);
	ifr6.prefixlen = (uint32_t)prefix;
	ifr6.ifindex = (int)if_nametoindex(ifname);
	no_dad(ifname);
	if (ioctl(fd, SIOCSIFADDR, &ifr6) < 0)
		fail("network: %s address %s: %s", ifname, cfg.ip6, strerror(errno));
	if (cfg.gw6) {
		if (inet_pton(AF_INET6, cfg.gw6, &rt.rtmsg_gateway) != 1 ||
		    !memcmp(&rt.rtmsg_gateway, &ifr6.addr, sizeof(ifr6.addr)))
			fail("network: net.gw6 %s: expected an IPv6 address", cfg.gw6);
		rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
		rt.rtmsg_metric = 1;
		rt.rtmsg_ifindex = ifr6.ifindex;
		if (ioctl(fd, SIOCADDRT, &rt) < 0)
			fail("network: IPv6 default route via %s: %s", cfg.gw6, strerror(errno));
	}
	close(fd);
}

void net_setup(net_fail_fn fail)
{
	unsigned char mac[6];
	char ifname[IF_NAMESIZE];
	int fd = sock(AF_INET);

	if (fd < 0)
		fail("network: socket: %s", strerror(errno));
	set_flags_up(fd, "lo", fail);
	if (!cfg.mac) {
		if (cfg.ip4 || cfg.ip6)
			fail("network: addresses in /hull/config but no net.mac");
		close(fd);
		return;
	}
	if (parse_mac(cfg.mac, mac) < 0)
		fail("network: net.mac %s: expected a unicast MAC address", cfg.mac);
	if (find_if(fd, mac, ifname) < 0)
		fail("network: no interface with MAC address %s (virtio-net)", cfg.mac);
	/* Up first: a gateway route needs a live link, and IPv6 takes
	 * addresses on an interface once it is up. */
	set_flags_up(fd, ifname, fail);
	if (cfg.ip4)
		ipv4(fd, ifname, fail);
	if (cfg.ip6)
		ipv6(ifname, fail);
	close(fd);
}
