/* microvm/dev_net.c behind the virtio-mmio transport, driven as a guest
 * driver would, with a SOCK_DGRAM socketpair standing in for the tap (one
 * frame per read and write, as a tap without IFF_VNET_HDR). */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "microvm/vmm.h"
#include "tests/unit/vm_doubles.h"

TestSuite(net, .timeout = 20);

#define MEM   (4u << 20)
#define RINGS 0x10000
#define DATA  0x100000
#define QSIZE 64
#define HDR   12
#define RXQ   0
#define TXQ   1

static struct {
	struct vm_mem *mem;
	struct virtio_mmio *t;
	struct vm_loop *loop;
	void *dev;
	int irqfd;
	int tap;        /* the host's end of the "tap" */
	int dev_end;    /* the device's end (it keeps a duplicate) */
	struct tq q[2];
	uint64_t data_next;
} D;
static struct rt_err err;
static const uint8_t MAC[6] = { 0x02, 0x68, 0x75, 0x00, 0x00, 0x07 };

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	virtio_mmio_read(D.t, off, &v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_write(D.t, off, &v, 4);
}

static uint64_t galloc(uint32_t size)
{
	uint64_t a = D.data_next;

	D.data_next += (size + 63) & ~63u;
	cr_assert_leq(D.data_next, MEM);
	return a;
}

static void *gp(uint64_t gpa)
{
	return tmem_at(D.mem, gpa);
}

static void net_dev(void)
{
	const struct virtio_dev_ops *ops;
	struct vdev_net_cfg cfg;
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	D.tap = sv[0];
	D.dev_end = sv[1];
	cfg.tap_fd = sv[1];
	memcpy(cfg.mac, MAC, 6);
	D.loop = tloop_new();
	cr_assert_eq(vdev_net_new(&cfg, D.loop, &ops, &D.dev, &err), 0, "%s", err.msg);
	D.mem = tmem_new(MEM);
	D.data_next = DATA;
	D.irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_eq(virtio_mmio_new(&D.t, ops, D.dev, D.mem, D.irqfd, &err), 0, "%s", err.msg);
	/* The device works on its own duplicate: the caller's may go. */
	close(D.dev_end);
}

static void net_free(void)
{
	virtio_mmio_free(D.t);
	tmem_free(D.mem);
	close(D.irqfd);
	close(D.tap);
	tloop_free(D.loop);
	memset(&D, 0, sizeof(D));
}

static void drv_init(uint64_t want)
{
	uint64_t f;

	wr(VMMIO_STATUS, 0);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(VMMIO_DEV_FEATURES_SEL, 0);
	f = rd(VMMIO_DEV_FEATURES);
	wr(VMMIO_DEV_FEATURES_SEL, 1);
	f |= (uint64_t)rd(VMMIO_DEV_FEATURES) << 32;
	f &= want;
	wr(VMMIO_DRV_FEATURES_SEL, 0);
	wr(VMMIO_DRV_FEATURES, (uint32_t)f);
	wr(VMMIO_DRV_FEATURES_SEL, 1);
	wr(VMMIO_DRV_FEATURES, (uint32_t)(f >> 32));
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK);
	tq_attach(D.t, D.q, 2, D.mem, QSIZE, RINGS);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			 VIRTIO_S_DRIVER_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_DRIVER_OK);
}

static uint16_t post(unsigned qi, unsigned n, const uint64_t *a, const uint32_t *l,
		     const uint16_t *f)
{
	uint16_t head = tq_chain(&D.q[qi], n, a, l, f);

	tq_publish(&D.q[qi], head);
	virtio_mmio_notify(D.t, qi);
	return head;
}

static uint64_t post_rx(uint32_t size)
{
	uint64_t a = galloc(size);
	uint16_t f = VIRTQ_DESC_F_WRITE;

	post(RXQ, 1, &a, &size, &f);
	return a;
}

/* A tx chain: the 12-byte header (given, or zeros) and the frame, each
 * split in two buffers to exercise the slicing. */
static void post_tx(const void *hdr, const void *frame, uint32_t flen)
{
	static const uint8_t zero[HDR];
	uint64_t a[4];
	uint32_t l[4] = { 5, HDR - 5, flen / 2, flen - flen / 2 };

	for (int i = 0; i < 4; i++)
		a[i] = galloc(l[i] ? l[i] : 1);
	memcpy(gp(a[0]), hdr ? hdr : zero, 5);
	memcpy(gp(a[1]), (const uint8_t *)(hdr ? hdr : zero) + 5, HDR - 5);
	memcpy(gp(a[2]), frame, l[2]);
	memcpy(gp(a[3]), (const uint8_t *)frame + l[2], l[3]);
	post(TXQ, 4, a, l, NULL);
}

static ssize_t tap_recv(void *buf, size_t len)
{
	return recv(D.tap, buf, len, MSG_DONTWAIT);
}

static uint64_t irq_pending(void)
{
	uint64_t v = 0;

	return read(D.irqfd, &v, 8) == 8 ? v : 0;
}

static void stats(struct vdev_net_stats *s)
{
	vdev_net_stats(D.dev, s);
}

Test(net, identity_features_and_mac, .init = net_dev, .fini = net_free)
{
	uint8_t mac[6];

	cr_assert_eq(rd(VMMIO_DEVICE_ID), 1);
	wr(VMMIO_DEV_FEATURES_SEL, 0);
	cr_assert(rd(VMMIO_DEV_FEATURES) & (1u << 5), "VIRTIO_NET_F_MAC");
	cr_assert_eq(rd(VMMIO_DEV_FEATURES) & ~((1u << 5) | (1u << VIRTIO_F_EVENT_IDX)), 0,
		     "no offloads offered");
	for (int i = 0; i < 6; i++)
		virtio_mmio_read(D.t, VMMIO_CONFIG + i, &mac[i], 1);
	cr_assert_eq(memcmp(mac, MAC, 6), 0);
	/* past the 6-byte config: reads as zero, no overrun */
	uint32_t v = 0xffffffff;
	virtio_mmio_read(D.t, VMMIO_CONFIG + 4, &v, 4);
	cr_assert_eq(v, 0);
}

Test(net, multicast_mac_refused)
{
	const struct virtio_dev_ops *ops;
	struct vdev_net_cfg cfg = { .tap_fd = 0, .mac = { 0x01, 0, 0, 0, 0, 1 } };
	void *dev;

	cr_assert_eq(vdev_net_new(&cfg, NULL, &ops, &dev, &err), -EINVAL);
	cr_assert(strstr(err.msg, "multicast"), "%s", err.msg);
}

Test(net, tx_frame_reaches_tap, .init = net_dev, .fini = net_free)
{
	uint8_t frame[60], got[128];
	uint32_t len = 7;

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	drv_init(~0ull);
	post_tx(NULL, frame, sizeof(frame));
	cr_assert(tq_used(&D.q[TXQ], NULL, &len));
	cr_assert_eq(len, 0);
	cr_assert_eq(tap_recv(got, sizeof(got)), (ssize_t)sizeof(frame), "header stripped");
	cr_assert_eq(memcmp(got, frame, sizeof(frame)), 0);
}

Test(net, tx_malformed_chains_dropped_but_answered, .init = net_dev, .fini = net_free)
{
	static uint8_t big[70000];
	uint8_t gso[HDR] = { 0, 1 /* GSO_TCPV4 */ }, csum[HDR] = { 1 /* NEEDS_CSUM */ };
	uint8_t small[10], got[16];
	uint64_t a = galloc(8);
	uint32_t l = 8;
	struct vdev_net_stats s;
	int answered = 0;

	drv_init(~0ull);
	post(TXQ, 1, &a, &l, NULL);          /* shorter than the header */
	post_tx(NULL, small, sizeof(small)); /* shorter than an Ethernet header */
	post_tx(NULL, big, sizeof(big));     /* over 64 KiB */
	post_tx(gso, big, 100);              /* segmentation never negotiated */
	post_tx(csum, big, 100);             /* checksum offload never negotiated */
	while (tq_used(&D.q[TXQ], NULL, NULL))
		answered++;
	cr_assert_eq(answered, 5, "every chain returned");
	cr_assert_eq(tap_recv(got, sizeof(got)), -1);
	cr_assert_eq(errno, EAGAIN, "nothing reached the tap");
	stats(&s);
	cr_assert_eq(s.tx_dropped, 5);
	cr_assert_eq(s.tx_frames, 0);
}

Test(net, tx_writable_buffers_ignored, .init = net_dev, .fini = net_free)
{
	uint8_t got[128];
	uint64_t a[3] = { galloc(HDR), galloc(64), galloc(64) };
	uint32_t l[3] = { HDR, 64, 64 };
	uint16_t f[3] = { 0, 0, VIRTQ_DESC_F_WRITE };

	drv_init(~0ull);
	memset(gp(a[0]), 0, HDR);
	memset(gp(a[1]), 0xab, 64);
	memset(gp(a[2]), 0xcd, 64);
	post(TXQ, 3, a, l, f);
	cr_assert_eq(tap_recv(got, sizeof(got)), 64);
	cr_assert_eq(got[63], 0xab);
	cr_assert_eq(((uint8_t *)gp(a[2]))[0], 0xcd, "device wrote nothing into it");
}

Test(net, rx_frame_with_header, .init = net_dev, .fini = net_free)
{
	uint8_t frame[100], hdr[HDR];
	uint64_t a;
	uint32_t len;

	memset(frame, 0x5a, sizeof(frame));
	drv_init(~0ull);
	a = post_rx(1530);
	memset(gp(a), 0xff, HDR);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + sizeof(frame));
	memcpy(hdr, gp(a), HDR);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(hdr[i], 0, "header byte %d", i);
	cr_assert_eq(hdr[10] | hdr[11] << 8, 1, "num_buffers is 1");
	cr_assert_eq(memcmp((uint8_t *)gp(a) + HDR, frame, sizeof(frame)), 0);
	cr_assert_gt(irq_pending(), 0);
}

Test(net, rx_no_buffers_no_busy_loop, .init = net_dev, .fini = net_free)
{
	uint8_t frame[64] = { 1, 2, 3 };
	uint32_t len;

	drv_init(~0ull);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (int i = 0; i < 5; i++)
		cr_assert_eq(tloop_run(D.loop, 20), 0, "tap unwatched while the ring is empty");
	post_rx(1530);   /* the kick delivers the waiting frame */
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + sizeof(frame));
	/* buffers left, tap empty: watched again, and the buffer was not used */
	post_rx(1530);
	cr_assert_not(tq_used(&D.q[RXQ], NULL, NULL));
	cr_assert_eq(tloop_run(D.loop, 20), 0);
	cr_assert_eq(send(D.tap, frame, 20, 0), 20);
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + 20);
}

Test(net, rx_chains_too_small_or_readable, .init = net_dev, .fini = net_free)
{
	uint8_t frame[64] = { 0 };
	uint64_t a = galloc(64);
	uint32_t l = 64, len = 9;
	struct vdev_net_stats s;

	drv_init(~0ull);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	post_rx(HDR);               /* a header and no room for a frame */
	post(RXQ, 1, &a, &l, NULL); /* device-readable: no room at all */
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, 0);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, 0);
	stats(&s);
	cr_assert_eq(s.rx_bad_chains, 2);
	cr_assert_eq(s.rx_frames, 0, "the frame was not thrown away");
	post_rx(200);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + sizeof(frame));
}

Test(net, rx_frame_truncated_to_buffer, .init = net_dev, .fini = net_free)
{
	uint8_t frame[1000];
	uint32_t len;

	memset(frame, 7, sizeof(frame));
	drv_init(~0ull);
	post_rx(HDR + 100);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + 100, "never more than the chain holds");
}

Test(net, rx_split_header_and_event_idx, .init = net_dev, .fini = net_free)
{
	uint8_t frame[300];
	uint64_t a[3] = { galloc(4), galloc(8), galloc(1600) };
	uint32_t l[3] = { 4, 8, 1600 }, len;
	uint16_t f[3] = { VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };

	memset(frame, 9, sizeof(frame));
	drv_init(~0ull);   /* EVENT_IDX negotiated */
	post(RXQ, 3, a, l, f);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[RXQ], NULL, &len));
	cr_assert_eq(len, HDR + sizeof(frame));
	cr_assert_eq(((uint8_t *)gp(a[1]))[6], 1, "num_buffers in the second buffer");
	cr_assert_eq(((uint8_t *)gp(a[2]))[299], 9);
}

Test(net, malformed_ring_needs_reset_no_crash, .init = net_dev, .fini = net_free)
{
	uint8_t frame[64] = { 0 };

	drv_init(~0ull);
	tq_set_avail_idx(&D.q[RXQ], 1000);   /* more than the queue holds */
	virtio_mmio_notify(D.t, RXQ);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	cr_assert_eq(tloop_run(D.loop, 20), 0, "a broken ring is not fed");
	/* a reset and a fresh start (rings cleared, as a driver does) work */
	tq_set_avail_idx(&D.q[RXQ], 0);
	drv_init(~0ull);
	cr_assert_eq(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET, 0);
	post_rx(1530);
	cr_assert(tq_used(&D.q[RXQ], NULL, NULL), "the waiting frame delivered");
}

Test(net, loop_in_tx_chain_needs_reset, .init = net_dev, .fini = net_free)
{
	uint64_t a[2] = { galloc(HDR), galloc(64) };
	uint32_t l[2] = { HDR, 64 };
	uint16_t head;

	drv_init(~0ull);
	head = tq_chain(&D.q[TXQ], 2, a, l, NULL);
	tq_desc(&D.q[TXQ], (head + 1) % QSIZE)->flags |= VIRTQ_DESC_F_NEXT;
	tq_desc(&D.q[TXQ], (head + 1) % QSIZE)->next = head;
	tq_publish(&D.q[TXQ], head);
	virtio_mmio_notify(D.t, TXQ);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
}

Test(net, tap_gone_stops_watching, .init = net_dev, .fini = net_free)
{
	drv_init(~0ull);
	post_rx(1530);
	close(D.tap);
	D.tap = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);   /* for net_free */
	tloop_run(D.loop, 100);
	cr_assert_eq(tloop_run(D.loop, 50), 0, "no busy loop on a dead tap");
	cr_assert_not(tq_used(&D.q[RXQ], NULL, NULL), "no empty frame delivered");
}

Test(net, reset_unwatches_tap, .init = net_dev, .fini = net_free)
{
	uint8_t frame[64] = { 0 };

	drv_init(~0ull);
	post_rx(1530);
	wr(VMMIO_STATUS, 0);
	cr_assert_eq(send(D.tap, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	cr_assert_eq(tloop_run(D.loop, 20), 0, "a reset device reads nothing");
}

/* ---- the VMM's --net-* flags (microvm/vmm_net.c) ---- */

TestSuite(vmm_net, .timeout = 10);

Test(vmm_net, mac_parse)
{
	uint8_t m[6];

	cr_assert_eq(vmm_parse_mac("02:68:75:0A:00:ff", m), 0);
	cr_assert_eq(m[3], 0x0a);
	cr_assert_eq(m[5], 0xff);
	cr_assert_eq(vmm_parse_mac("01:00:5e:00:00:01", m), -1, "multicast");
	cr_assert_eq(vmm_parse_mac("02:00:00:00:00:0", m), -1);
	cr_assert_eq(vmm_parse_mac("02:00:00:00:00:001", m), -1);
	cr_assert_eq(vmm_parse_mac("02-00-00-00-00-01", m), -1);
	cr_assert_eq(vmm_parse_mac("+2:00:00:00:00:01", m), -1);
	cr_assert_eq(vmm_parse_mac(" 2:00:00:00:00:01", m), -1);
}

Test(vmm_net, flags_checked)
{
	struct vmm_net_opts o;

	vmm_net_init(&o);
	cr_assert_eq(vmm_net_flag(&o, "net-ip", "10.0.0.2/24", &err), 0);
	cr_assert_eq(o.net.prefix4, 24);
	cr_assert_eq(vmm_net_flag(&o, "net-ip", "fd00::2/64", &err), 0);
	cr_assert_eq(o.net.prefix6, 64);
	cr_assert_eq(vmm_net_flag(&o, "net-gw", "10.0.0.1", &err), 0);
	cr_assert_eq(vmm_net_flag(&o, "net-gw", "fd00::1", &err), 0);
	const char *bad[][2] = {
		{ "net-ip", "10.0.0.2" }, { "net-ip", "10.0.0.2/31" }, { "net-ip", "10.0.0.2/0" },
		{ "net-ip", "10.0.0.256/24" }, { "net-ip", "fd00::2/129" }, { "net-ip", "10.0.0.2/24x" },
		{ "net-gw", "10.0.0" }, { "net-tap", "" }, { "net-tap", "a-very-long-name-x" },
		{ "net-tap", "a/b" }, { "tap-fd", "2" }, { "tap-fd", "x" }, { "net-mac", "ff:ff:ff:ff:ff:ff" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(vmm_net_flag(&o, bad[i][0], bad[i][1], &err), -EINVAL, "%s %s",
			     bad[i][0], bad[i][1]);
		cr_assert(strstr(err.msg, bad[i][1]), "%s names the value", err.msg);
	}
}

Test(vmm_net, open_needs_a_tap_and_fills_config)
{
	struct vmm_net_opts o;
	struct vmm_config cfg = { .tap_fd = 99 };
	const struct vm_guest_net *g = (void *)1;

	vmm_net_init(&o);
	cr_assert_eq(vmm_net_open(&o, &cfg, &g, &err), 0, "no flags: no network");
	cr_assert_null(g);
	cr_assert_eq(cfg.tap_fd, -1);
	vmm_net_flag(&o, "net-ip", "10.0.0.2/24", &err);
	cr_assert_eq(vmm_net_open(&o, &cfg, &g, &err), -EINVAL);
	cr_assert(strstr(err.msg, "--net-tap"), "%s", err.msg);
	vmm_net_init(&o);
	vmm_net_flag(&o, "tap-fd", "7", &err);
	vmm_net_flag(&o, "net-gw", "10.0.0.1", &err);
	cr_assert_eq(vmm_net_open(&o, &cfg, &g, &err), -EINVAL, "a gateway without an address");
	vmm_net_flag(&o, "net-ip", "10.0.0.2/24", &err);
	cr_assert_eq(vmm_net_open(&o, &cfg, &g, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.tap_fd, 7);
	cr_assert_eq(g, &o.net);
	cr_assert_eq(cfg.mac[0] & 3, 2, "random MAC: local, unicast");
	cr_assert_eq(memcmp(cfg.mac, g->mac, 6), 0, "the guest's config and the device agree");
}
