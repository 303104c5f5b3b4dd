/* The VMM's network flags: a tap (by name, or an fd a container's init
 * passes) for the virtio-net device, and the addresses the guest init
 * gives its eth0.  hull-vmm is static and has no libnl: the tap is made
 * with the tun driver's own ioctls. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "microvm/vmm.h"
#include "runtime/cleanup.h"

void vmm_net_init(struct vmm_net_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tap_fd = -1;
	o->net.prefix4 = o->net.prefix6 = -1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int vmm_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return (mac[0] & 1) ? -1 : 0;
}

static int bad(struct rt_err *err, const char *flag, const char *arg, const char *want)
{
	return rt_err_set(err, EINVAL, "vmm: %s %s: expected %s (see 'hull vmm --help')", flag,
			  arg, want);
}

/* ADDR/PREFIX of either family into the guest config. */
static int parse_ip(struct vmm_net_opts *o, const char *arg, struct rt_err *err)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	bool v6 = strchr(arg, ':') != NULL;
	long prefix;

	if (strlen(arg) >= sizeof(buf) || !(slash = strchr(strcpy(buf, arg), '/')))
		return bad(err, "--net-ip", arg, "ADDR/PREFIX");
	*slash = 0;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || prefix < 1 || prefix > (v6 ? 128 : 30) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, buf, v6 ? (void *)&o->net.ip6 : (void *)&o->net.ip4) != 1)
		return bad(err, "--net-ip", arg, v6 ? "an IPv6 ADDR/PREFIX (1-128)"
						    : "an IPv4 ADDR/PREFIX (1-30)");
	if (v6)
		o->net.prefix6 = (int)prefix;
	else
		o->net.prefix4 = (int)prefix;
	return 0;
}

static int parse_gw(struct vmm_net_opts *o, const char *arg, struct rt_err *err)
{
	bool v6 = strchr(arg, ':') != NULL;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, arg, v6 ? (void *)&o->net.gw6 : (void *)&o->net.gw4) != 1)
		return bad(err, "--net-gw", arg, "an IPv4 or IPv6 address");
	return 0;
}

int vmm_net_flag(struct vmm_net_opts *o, const char *flag, const char *arg, struct rt_err *err)
{
	char *end;
	long n;

	if (!strcmp(flag, "net-tap")) {
		if (!*arg || strlen(arg) >= IFNAMSIZ || strchr(arg, '/') || strchr(arg, ' '))
			return bad(err, "--net-tap", arg, "an interface name (up to 15 characters)");
		o->tap = arg;
		return 0;
	}
	if (!strcmp(flag, "tap-fd")) {
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 3 || n > 65535)
			return bad(err, "--tap-fd", arg, "an open fd number");
		o->tap_fd = (int)n;
		return 0;
	}
	if (!strcmp(flag, "net-mac")) {
		if (vmm_parse_mac(arg, o->net.mac) < 0)
			return bad(err, "--net-mac", arg, "a unicast MAC address like 02:00:00:00:00:01");
		o->has_mac = true;
		return 0;
	}
	if (!strcmp(flag, "net-ip"))
		return parse_ip(o, arg, err);
	if (!strcmp(flag, "net-gw"))
		return parse_gw(o, arg, err);
	return rt_err_set(err, EINVAL, "vmm: --%s: unknown network flag", flag);
}

/* The tap NAME in this network namespace, made if missing: plain frames
 * (no IFF_VNET_HDR: the device writes the virtio header itself). */
static int open_tap(const char *name, struct rt_err *err)
{
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

	if (fd < 0)
		return rt_err_sys(err, errno, "vmm: --net-tap %s: /dev/net/tun", name);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return rt_err_sys(err, errno, "vmm: --net-tap %s", name);
	return steal_fd(fd);
}

static bool has_gw4(const struct vm_guest_net *n)
{
	return n->gw4.s_addr != 0;
}

static bool has_gw6(const struct vm_guest_net *n)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;

	return memcmp(&n->gw6, &any, sizeof(any)) != 0;
}

int vmm_net_open(struct vmm_net_opts *o, struct vmm_config *cfg,
		 const struct vm_guest_net **guest, struct rt_err *err)
{
	bool any_addr = o->net.prefix4 >= 0 || o->net.prefix6 >= 0;

	*guest = NULL;
	cfg->tap_fd = -1;
	if (!o->tap && o->tap_fd < 0) {
		if (any_addr || o->has_mac || has_gw4(&o->net) || has_gw6(&o->net))
			return rt_err_set(err, EINVAL, "vmm: --net-ip, --net-gw and --net-mac need "
					  "--net-tap NAME");
		return 0;
	}
	if (o->tap && o->tap_fd >= 0)
		return rt_err_set(err, EINVAL, "vmm: give --net-tap or --tap-fd, not both");
	if ((has_gw4(&o->net) && o->net.prefix4 < 0) || (has_gw6(&o->net) && o->net.prefix6 < 0))
		return rt_err_set(err, EINVAL, "vmm: --net-gw needs an --net-ip of its family");
	if (!o->has_mac) {
		/* A random locally administered unicast address. */
		if (getrandom(o->net.mac, 6, 0) != 6)
			return rt_err_sys(err, errno, "vmm: getrandom");
		o->net.mac[0] = (uint8_t)((o->net.mac[0] & 0xfe) | 0x02);
	}
	cfg->tap_fd = o->tap ? open_tap(o->tap, err) : o->tap_fd;
	if (cfg->tap_fd < 0)
		return -err->code;
	memcpy(cfg->mac, o->net.mac, 6);
	*guest = &o->net;
	return 0;
}
