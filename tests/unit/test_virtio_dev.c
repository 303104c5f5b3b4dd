/* microvm/virtio_mmio.c and the devices (blk, rng, console), driven the
 * way a guest driver would: registers through virtio_mmio_read/write,
 * rings in a fake guest memory, kicks through virtio_mmio_notify. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/vm_doubles.h"

TestSuite(mmio, .timeout = 20);
TestSuite(blk, .timeout = 20);
TestSuite(rng, .timeout = 20);
TestSuite(console, .timeout = 20);

#define MEM   (4u << 20)
#define RINGS 0x10000
#define DATA  0x100000
#define QSIZE 64

struct tdev {
	struct vm_mem *mem;
	struct virtio_mmio *t;
	struct vm_loop *loop;
	int irqfd;
	struct tq q[8];
	uint64_t data_next;
};
static struct tdev D;
static struct rt_err err;

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

static void dev_new(const struct virtio_dev_ops *ops, void *dev)
{
	signal(SIGPIPE, SIG_IGN);
	D.mem = tmem_new(MEM);
	D.data_next = DATA;
	D.irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_eq(virtio_mmio_new(&D.t, ops, dev, D.mem, D.irqfd, &err), 0, "%s", err.msg);
}

static void dev_free(void)
{
	virtio_mmio_free(D.t);
	tmem_free(D.mem);
	close(D.irqfd);
	tloop_free(D.loop);
	memset(&D, 0, sizeof(D));
}

static uint64_t offered(void)
{
	wr(VMMIO_DEV_FEATURES_SEL, 0);
	uint64_t f = rd(VMMIO_DEV_FEATURES);
	wr(VMMIO_DEV_FEATURES_SEL, 1);
	return f | (uint64_t)rd(VMMIO_DEV_FEATURES) << 32;
}

static void set_features(uint64_t f)
{
	wr(VMMIO_DRV_FEATURES_SEL, 0);
	wr(VMMIO_DRV_FEATURES, (uint32_t)f);
	wr(VMMIO_DRV_FEATURES_SEL, 1);
	wr(VMMIO_DRV_FEATURES, (uint32_t)(f >> 32));
}

static void queue_setup(unsigned i, uint16_t size)
{
	tq_layout(&D.q[i], D.mem, size, RINGS + i * 0x4000ull);
	wr(VMMIO_QUEUE_SEL, i);
	wr(VMMIO_QUEUE_NUM, size);
	wr(VMMIO_QUEUE_DESC_LO, (uint32_t)D.q[i].desc);
	wr(VMMIO_QUEUE_DESC_HI, 0);
	wr(VMMIO_QUEUE_AVAIL_LO, (uint32_t)D.q[i].avail);
	wr(VMMIO_QUEUE_AVAIL_HI, 0);
	wr(VMMIO_QUEUE_USED_LO, (uint32_t)D.q[i].used);
	wr(VMMIO_QUEUE_USED_HI, 0);
	wr(VMMIO_QUEUE_READY, 1);
}

/* The driver's side of initialisation (virtio 1.x 3.1.1). */
static void drv_init(unsigned nq, uint64_t want)
{
	wr(VMMIO_STATUS, 0);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	set_features(offered() & want);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK);
	for (unsigned i = 0; i < nq; i++) {
		queue_setup(i, QSIZE);
		cr_assert_eq(rd(VMMIO_QUEUE_READY), 1, "queue %u ready", i);
	}
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			 VIRTIO_S_DRIVER_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_DRIVER_OK);
}

static uint64_t irq_count(void)
{
	uint64_t v = 0;

	if (read(D.irqfd, &v, 8) != 8)
		return 0;
	return v;
}

/* Post a chain on queue qi and kick. */
static uint16_t post(unsigned qi, unsigned n, const uint64_t *a, const uint32_t *l,
		     const uint16_t *f)
{
	uint16_t head = tq_chain(&D.q[qi], n, a, l, f);

	tq_publish(&D.q[qi], head);
	virtio_mmio_notify(D.t, qi);
	return head;
}

/* ---- transport ---- */

static void rng_dev(void)
{
	const struct virtio_dev_ops *ops;
	void *dev;

	cr_assert_eq(vdev_rng_new(&ops, &dev, &err), 0);
	dev_new(ops, dev);
}

Test(mmio, identity_registers, .init = rng_dev, .fini = dev_free)
{
	cr_assert_eq(rd(VMMIO_MAGIC), 0x74726976);
	cr_assert_eq(rd(VMMIO_VERSION), 2);
	cr_assert_eq(rd(VMMIO_DEVICE_ID), 4);
	cr_assert_eq(rd(VMMIO_VENDOR_ID), VMMIO_VENDOR_VALUE);
	wr(VMMIO_MAGIC, 0);
	cr_assert_eq(rd(VMMIO_MAGIC), 0x74726976, "read-only");
}

Test(mmio, feature_pages, .init = rng_dev, .fini = dev_free)
{
	uint64_t f = offered();

	cr_assert(f & (1ull << VIRTIO_F_VERSION_1));
	cr_assert(f & (1ull << VIRTIO_F_EVENT_IDX));
	cr_assert_not(f & (1ull << VIRTIO_F_INDIRECT_DESC));
	wr(VMMIO_DEV_FEATURES_SEL, 2);
	cr_assert_eq(rd(VMMIO_DEV_FEATURES), 0, "page 2 is empty");
	wr(VMMIO_DEV_FEATURES_SEL, 0xffffffff);
	cr_assert_eq(rd(VMMIO_DEV_FEATURES), 0);
}

Test(mmio, features_ok_needs_version_1, .init = rng_dev, .fini = dev_free)
{
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	set_features(0);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	cr_assert_not(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK, "legacy driver refused");
}

Test(mmio, features_ok_refuses_unoffered_bits, .init = rng_dev, .fini = dev_free)
{
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	set_features((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC));
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	cr_assert_not(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK);
	set_features(1ull << VIRTIO_F_VERSION_1);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK);
	/* Frozen once accepted. */
	wr(VMMIO_DRV_FEATURES_SEL, 0);
	wr(VMMIO_DRV_FEATURES, 0xffffffff);
	cr_assert_eq(virtio_mmio_features(D.t), 1ull << VIRTIO_F_VERSION_1);
}

Test(mmio, driver_ok_needs_features_ok, .init = rng_dev, .fini = dev_free)
{
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_DRIVER_OK);
	cr_assert_eq(rd(VMMIO_STATUS), VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
}

Test(mmio, status_bits_never_cleared_but_reset_clears_all, .init = rng_dev, .fini = dev_free)
{
	drv_init(1, ~0ull);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_DRIVER_OK, "clearing bits is ignored");
	wr(VMMIO_STATUS, 0);
	cr_assert_eq(rd(VMMIO_STATUS), 0);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0, "queues reset");
	cr_assert_null(virtio_mmio_queue(D.t, 0));
	cr_assert_eq(virtio_mmio_features(D.t), 0);
	drv_init(1, ~0ull);   /* and it comes back up */
	cr_assert_not_null(virtio_mmio_queue(D.t, 0));
}

Test(mmio, queue_registers, .init = rng_dev, .fini = dev_free)
{
	wr(VMMIO_QUEUE_SEL, 0);
	cr_assert_eq(rd(VMMIO_QUEUE_NUM_MAX), 256);
	wr(VMMIO_QUEUE_SEL, 1);
	cr_assert_eq(rd(VMMIO_QUEUE_NUM_MAX), 0, "no queue 1");
	wr(VMMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0);
	cr_assert_null(virtio_mmio_queue(D.t, 1));
	cr_assert_null(virtio_mmio_queue(D.t, 999));
	/* Ready before FEATURES_OK is ignored. */
	wr(VMMIO_QUEUE_SEL, 0);
	queue_setup(0, 64);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0);
}

static void to_features_ok(void)
{
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	set_features(1ull << VIRTIO_F_VERSION_1);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
}

Test(mmio, queue_size_not_power_of_two, .init = rng_dev, .fini = dev_free)
{
	to_features_ok();
	queue_setup(0, 48);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	wr(VMMIO_STATUS, 0);
	cr_assert_eq(rd(VMMIO_STATUS), 0, "reset clears NEEDS_RESET");
}

Test(mmio, queue_size_above_max, .init = rng_dev, .fini = dev_free)
{
	to_features_ok();
	queue_setup(0, 512);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
}

Test(mmio, rings_outside_memory, .init = rng_dev, .fini = dev_free)
{
	to_features_ok();
	wr(VMMIO_QUEUE_SEL, 0);
	wr(VMMIO_QUEUE_NUM, 64);
	wr(VMMIO_QUEUE_DESC_LO, 0);
	wr(VMMIO_QUEUE_DESC_HI, 7);   /* 28 GiB */
	wr(VMMIO_QUEUE_READY, 1);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
}

Test(mmio, layout_frozen_while_ready, .init = rng_dev, .fini = dev_free)
{
	drv_init(1, ~0ull);
	wr(VMMIO_QUEUE_SEL, 0);
	wr(VMMIO_QUEUE_DESC_LO, 0xfff00000);
	wr(VMMIO_QUEUE_NUM, 3);
	/* Still works at the old place. */
	uint64_t b = galloc(16);
	uint32_t l = 16;
	uint16_t f = VIRTQ_DESC_F_WRITE;
	post(0, 1, &b, &l, &f);
	cr_assert(tq_used(&D.q[0], NULL, &l));
	cr_assert_eq(l, 16);
	wr(VMMIO_QUEUE_READY, 0);
	cr_assert_eq(rd(VMMIO_QUEUE_READY), 0, "ready 0 stops the queue");
}

Test(mmio, bad_widths_and_offsets, .init = rng_dev, .fini = dev_free)
{
	uint8_t b[8];
	uint16_t h = 0xffff;
	uint64_t q = ~0ull;

	virtio_mmio_read(D.t, VMMIO_MAGIC, &h, 2);
	cr_assert_eq(h, 0, "16-bit register read is zero");
	virtio_mmio_read(D.t, VMMIO_MAGIC, &q, 8);
	cr_assert_eq(q, 0, "64-bit register read is zero");
	cr_assert_eq(rd(VMMIO_MAGIC + 2), 0, "misaligned");
	cr_assert_eq(rd(0x0c8), 0, "unknown register");
	cr_assert_eq(rd(0xffc), 0, "config beyond rng's (empty) config");
	memset(b, 0xaa, sizeof(b));
	virtio_mmio_read(D.t, 0x100, b, 3);
	cr_assert_eq(b[0] | b[1] | b[2], 0, "odd width");
	virtio_mmio_write(D.t, VMMIO_STATUS, &h, 2);
	cr_assert_eq(rd(VMMIO_STATUS), 0, "16-bit status write ignored");
	wr(VMMIO_STATUS + 1, 7);
	cr_assert_eq(rd(VMMIO_STATUS), 0);
	wr(0x1000 - 4, 1);   /* no crash */
}

Test(mmio, mmio_notify_register_ignored, .init = rng_dev, .fini = dev_free)
{
	uint64_t b;
	uint32_t l = 16;
	uint16_t f = VIRTQ_DESC_F_WRITE;

	drv_init(1, ~0ull);
	b = galloc(16);
	tq_publish(&D.q[0], tq_chain(&D.q[0], 1, &b, &l, &f));
	wr(VMMIO_QUEUE_NOTIFY, 0);
	cr_assert_not(tq_used(&D.q[0], NULL, NULL), "only the ioeventfd path runs devices");
	virtio_mmio_notify(D.t, 0);
	cr_assert(tq_used(&D.q[0], NULL, NULL));
}

Test(mmio, notify_before_driver_ok_does_nothing, .init = rng_dev, .fini = dev_free)
{
	virtio_mmio_notify(D.t, 0);
	virtio_mmio_notify(D.t, 7);
	cr_assert_eq(irq_count(), 0);
}

Test(mmio, interrupt_status_and_ack, .init = rng_dev, .fini = dev_free)
{
	uint64_t b;
	uint32_t l = 32;
	uint16_t f = VIRTQ_DESC_F_WRITE;

	drv_init(1, ~0ull & ~(1ull << VIRTIO_F_EVENT_IDX));
	cr_assert_eq(rd(VMMIO_IRQ_STATUS), 0);
	b = galloc(32);
	post(0, 1, &b, &l, &f);
	cr_assert_eq(rd(VMMIO_IRQ_STATUS), VIRTIO_IRQ_VRING);
	cr_assert_eq(irq_count(), 1);
	wr(VMMIO_IRQ_ACK, VIRTIO_IRQ_VRING);
	cr_assert_eq(rd(VMMIO_IRQ_STATUS), 0);
}

Test(mmio, config_generation_and_interrupt, .init = rng_dev, .fini = dev_free)
{
	uint32_t g = rd(VMMIO_CONFIG_GEN);

	virtio_mmio_config_changed(D.t);
	cr_assert_neq(rd(VMMIO_CONFIG_GEN), g);
	cr_assert_eq(irq_count(), 0, "no interrupt before DRIVER_OK");
	drv_init(1, ~0ull);
	virtio_mmio_config_changed(D.t);
	cr_assert_eq(rd(VMMIO_IRQ_STATUS), VIRTIO_IRQ_CONFIG);
	cr_assert_eq(irq_count(), 1);
}

Test(mmio, malformed_queue_needs_reset, .init = rng_dev, .fini = dev_free)
{
	drv_init(1, ~0ull);
	*tq_desc(&D.q[0], 0) = (struct virtq_desc){ DATA, 8, VIRTQ_DESC_F_NEXT, 0 };
	tq_publish(&D.q[0], 0);
	virtio_mmio_notify(D.t, 0);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	cr_assert(rd(VMMIO_IRQ_STATUS) & VIRTIO_IRQ_CONFIG, "driver told by a config interrupt");
	virtio_mmio_notify(D.t, 0);   /* ignored, no spin */
	cr_assert_not(tq_used(&D.q[0], NULL, NULL));
	drv_init(1, ~0ull);
	cr_assert_not(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET, "reset recovers");
}

Test(mmio, bad_ops_refused)
{
	struct virtio_dev_ops ops = { .name = "x", .num_queues = 1, .queue_max = 100 };
	struct vm_mem m = {0};
	struct virtio_mmio *t;

	cr_assert_eq(virtio_mmio_new(&t, &ops, NULL, &m, -1, &err), -EINVAL);
	ops.queue_max = 64;
	ops.config_size = 0x1000;
	cr_assert_eq(virtio_mmio_new(&t, &ops, NULL, &m, -1, &err), -EINVAL);
	ops.config_size = 0;
	ops.num_queues = 0;
	cr_assert_eq(virtio_mmio_new(&t, &ops, NULL, &m, -1, &err), -EINVAL);
}

/* ---- rng ---- */

Test(rng, fills_buffers, .init = rng_dev, .fini = dev_free)
{
	uint64_t a[3];
	uint32_t l[3] = { 100, 200, 1 }, len;
	uint16_t f[3] = { VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	static const uint8_t zero[200];

	drv_init(1, ~0ull);
	for (int i = 0; i < 3; i++)
		a[i] = galloc(l[i]);
	post(0, 3, a, l, f);
	cr_assert(tq_used(&D.q[0], NULL, &len));
	cr_assert_eq(len, 301);
	cr_assert_neq(memcmp(gp(a[0]), zero, 100), 0);
	cr_assert_neq(memcmp(gp(a[1]), zero, 200), 0);
}

Test(rng, big_request_capped, .init = rng_dev, .fini = dev_free)
{
	uint64_t a;
	uint32_t l = 1u << 20, len;
	uint16_t f = VIRTQ_DESC_F_WRITE;

	drv_init(1, ~0ull);
	a = galloc(16);   /* a 1 MiB buffer over the rings and data: allowed, it is RAM */
	a = 0;
	post(0, 1, &a, &l, &f);
	cr_assert(tq_used(&D.q[0], NULL, &len));
	cr_assert_eq(len, 65536);
}

Test(rng, readable_only_chain_gets_zero, .init = rng_dev, .fini = dev_free)
{
	uint64_t a = galloc(64);
	uint32_t l = 64, len = 9;

	drv_init(1, ~0ull);
	post(0, 1, &a, &l, NULL);
	cr_assert(tq_used(&D.q[0], NULL, &len));
	cr_assert_eq(len, 0);
}

/* ---- blk ---- */

#define SECTORS 64
static char img[64];

static void blk_dev_mode(bool ro)
{
	const struct virtio_dev_ops *ops;
	void *dev;
	uint8_t sec[512];
	int fd;

	strcpy(img, "/tmp/hull-blk-XXXXXX");
	fd = mkstemp(img);
	cr_assert_geq(fd, 0);
	for (int i = 0; i < SECTORS; i++) {
		memset(sec, i, sizeof(sec));
		cr_assert_eq(write(fd, sec, sizeof(sec)), 512);
	}
	close(fd);
	cr_assert_eq(vdev_blk_new(img, ro, &ops, &dev, &err), 0, "%s", err.msg);
	dev_new(ops, dev);
	drv_init(1, ~0ull);
}

static void blk_rw_dev(void) { blk_dev_mode(false); }
static void blk_ro_dev(void) { blk_dev_mode(true); }

static void blk_free(void)
{
	dev_free();
	unlink(img);
}

/* One request; returns the status byte (0xee if the device wrote none). */
static uint8_t blk_req(uint32_t type, uint64_t sector, void *data, uint32_t len, bool out,
		       uint32_t *used)
{
	uint64_t a[3];
	uint32_t l[3], ul = 0;
	uint16_t f[3];
	unsigned n = 0;
	uint8_t *st;
	uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };

	a[n] = galloc(16);
	memcpy(gp(a[n]), hdr, 16);
	l[n] = 16;
	f[n++] = 0;
	if (len) {
		a[n] = galloc(len);
		if (out)
			memcpy(gp(a[n]), data, len);
		else
			memset(gp(a[n]), 0x5a, len);
		l[n] = len;
		f[n++] = out ? 0 : VIRTQ_DESC_F_WRITE;
	}
	a[n] = galloc(1);
	st = gp(a[n]);
	*st = 0xee;
	l[n] = 1;
	f[n++] = VIRTQ_DESC_F_WRITE;
	post(0, n, a, l, f);
	cr_assert(tq_used(&D.q[0], NULL, &ul), "request completed");
	if (len && !out)
		memcpy(data, gp(a[1]), len);
	if (used)
		*used = ul;
	return *st;
}

static uint8_t file_byte(off_t off)
{
	uint8_t b = 0;
	int fd = open(img, O_RDONLY | O_CLOEXEC);

	cr_assert_eq(pread(fd, &b, 1, off), 1);
	close(fd);
	return b;
}

Test(blk, config_and_features, .init = blk_ro_dev, .fini = blk_free)
{
	uint32_t lo = rd(VMMIO_CONFIG), hi = rd(VMMIO_CONFIG + 4);
	uint64_t cap;

	cr_assert_eq(rd(VMMIO_DEVICE_ID), 2);
	cr_assert_eq(lo | (uint64_t)hi << 32, SECTORS);
	virtio_mmio_read(D.t, VMMIO_CONFIG, &cap, 8);
	cr_assert_eq(cap, SECTORS, "64-bit config read");
	cr_assert(offered() & (1ull << 5), "RO offered");
	cr_assert(offered() & (1ull << 9), "FLUSH offered");
	cr_assert_eq(rd(VMMIO_CONFIG + 12), VIRTQ_CHAIN_MAX - 2, "seg_max");
}

Test(blk, rw_disk_not_ro, .init = blk_rw_dev, .fini = blk_free)
{
	cr_assert_not(offered() & (1ull << 5));
}

Test(blk, read_sectors, .init = blk_ro_dev, .fini = blk_free)
{
	uint8_t buf[1024];
	uint32_t used;

	cr_assert_eq(blk_req(0, 3, buf, sizeof(buf), false, &used), 0);
	cr_assert_eq(used, 1025);
	cr_assert_eq(buf[0], 3);
	cr_assert_eq(buf[511], 3);
	cr_assert_eq(buf[512], 4);
	cr_assert_eq(blk_req(0, SECTORS - 1, buf, 512, false, NULL), 0, "last sector");
	cr_assert_eq(buf[0], SECTORS - 1);
}

Test(blk, read_split_across_buffers, .init = blk_ro_dev, .fini = blk_free)
{
	uint64_t a[4] = { galloc(16), galloc(100), galloc(412), galloc(1) };
	uint32_t l[4] = { 16, 100, 412, 1 }, hdr[4] = { 0, 0, 7, 0 }, used;
	uint16_t f[4] = { 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };

	memcpy(gp(a[0]), hdr, 16);
	post(0, 4, a, l, f);
	cr_assert(tq_used(&D.q[0], NULL, &used));
	cr_assert_eq(*(uint8_t *)gp(a[3]), 0);
	cr_assert_eq(((uint8_t *)gp(a[1]))[99], 7);
	cr_assert_eq(((uint8_t *)gp(a[2]))[411], 7);
}

Test(blk, out_of_range, .init = blk_ro_dev, .fini = blk_free)
{
	uint8_t buf[1024];

	cr_assert_eq(blk_req(0, SECTORS, buf, 512, false, NULL), 1, "first sector past the end");
	cr_assert_eq(blk_req(0, SECTORS - 1, buf, 1024, false, NULL), 1, "straddles the end");
	cr_assert_eq(blk_req(0, UINT64_MAX, buf, 512, false, NULL), 1, "sector 2^64-1");
	cr_assert_eq(blk_req(0, 1ull << 55, buf, 512, false, NULL), 1, "offset overflows");
	cr_assert_eq(blk_req(0, 0, buf, 100, false, NULL), 1, "not a sector multiple");
}

Test(blk, write_rw, .init = blk_rw_dev, .fini = blk_free)
{
	uint8_t buf[512];
	uint32_t used;

	memset(buf, 0xcd, sizeof(buf));
	cr_assert_eq(blk_req(1, 5, buf, 512, true, &used), 0);
	cr_assert_eq(used, 1, "only the status byte written");
	cr_assert_eq(file_byte(5 * 512), 0xcd);
	cr_assert_eq(file_byte(6 * 512), 6);
	cr_assert_eq(blk_req(4, 0, NULL, 0, false, NULL), 0, "flush");
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(blk_req(0, 5, buf, 512, false, NULL), 0);
	cr_assert_eq(buf[100], 0xcd, "read back");
	cr_assert_eq(blk_req(1, SECTORS, buf, 512, true, NULL), 1, "write past the end");
}

Test(blk, write_ro_fails, .init = blk_ro_dev, .fini = blk_free)
{
	uint8_t buf[512];

	memset(buf, 0xcd, sizeof(buf));
	cr_assert_eq(blk_req(1, 5, buf, 512, true, NULL), 1, "IOERR");
	cr_assert_eq(file_byte(5 * 512), 5, "file untouched");
	cr_assert_eq(blk_req(4, 0, NULL, 0, false, NULL), 0, "flush of a ro disk is fine");
}

Test(blk, get_id_and_unknown, .init = blk_ro_dev, .fini = blk_free)
{
	char id[20];
	uint32_t used;

	cr_assert_eq(blk_req(8, 0, id, 20, false, &used), 0);
	cr_assert_eq(used, 21);
	cr_assert_eq(strncmp(id, "hull-", 5), 0);
	cr_assert_eq(blk_req(11, 0, NULL, 0, false, NULL), 2, "discard: UNSUPP");
	cr_assert_eq(blk_req(0xffff, 0, NULL, 0, false, NULL), 2);
}

Test(blk, short_header_and_no_status, .init = blk_ro_dev, .fini = blk_free)
{
	uint64_t a[2] = { galloc(8), galloc(1) };
	uint32_t l[2] = { 8, 1 }, used = 99;
	uint16_t f[2] = { 0, VIRTQ_DESC_F_WRITE };

	post(0, 2, a, l, f);
	cr_assert(tq_used(&D.q[0], NULL, &used));
	cr_assert_eq(*(uint8_t *)gp(a[1]), 1, "8-byte header: IOERR");
	post(0, 1, a, l, NULL);
	cr_assert(tq_used(&D.q[0], NULL, &used), "completed even without a status byte");
	cr_assert_eq(used, 0);
}

Test(blk, missing_image)
{
	const struct virtio_dev_ops *ops;
	void *dev;

	cr_assert_eq(vdev_blk_new("/nonexistent/disk.img", true, &ops, &dev, &err), -ENOENT);
	cr_assert(strstr(err.msg, "/nonexistent/disk.img"));
	cr_assert_eq(vdev_blk_new("/tmp", true, &ops, &dev, &err), -EINVAL);
}

Test(blk, writable_image_locked, .init = blk_rw_dev, .fini = blk_free)
{
	const struct virtio_dev_ops *ops;
	void *dev;

	cr_assert_eq(vdev_blk_new(img, false, &ops, &dev, &err), -EWOULDBLOCK,
		     "a second writer is refused");
}

/* ---- console ---- */

struct cmsg {
	uint32_t id;
	uint16_t event, value;
} __attribute__((packed));

static int s_out[2], s_err[2], s_in[2];
static void *con;

static void con_dev_cfg(bool with_stdin)
{
	const struct virtio_dev_ops *ops;
	struct vdev_console_cfg cfg;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s_out), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s_err), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s_in), 0);
	cfg = (struct vdev_console_cfg){ .in_fd = with_stdin ? s_in[0] : -1,
					 .out_fd = s_out[0], .err_fd = s_err[0] };
	D.loop = tloop_new();
	cr_assert_eq(vdev_console_new(&cfg, D.loop, &ops, &con, &err), 0, "%s", err.msg);
	close(s_out[0]);
	close(s_err[0]);
	close(s_in[0]);
	dev_new(ops, con);
	cr_assert_eq(rd(VMMIO_DEVICE_ID), 3);
	cr_assert(offered() & 2, "multiport");
	cr_assert_eq(rd(VMMIO_CONFIG + 4), 3, "max_nr_ports");
	drv_init(8, ~0ull);
}

static void con_dev(void) { con_dev_cfg(true); }
static void con_dev_nostdin(void) { con_dev_cfg(false); }

static void con_free(void)
{
	dev_free();
	close(s_out[1]);
	close(s_err[1]);
	close(s_in[1]);
}

static void post_writable(unsigned qi, uint32_t len)
{
	uint64_t a = galloc(len);
	uint16_t f = VIRTQ_DESC_F_WRITE;

	post(qi, 1, &a, &len, &f);
}

static void guest_ctrl(uint32_t id, uint16_t ev, uint16_t val)
{
	struct cmsg m = { id, ev, val };
	uint64_t a = galloc(sizeof(m));
	uint32_t l = sizeof(m);

	memcpy(gp(a), &m, sizeof(m));
	post(3, 1, &a, &l, NULL);
	cr_assert(tq_used(&D.q[3], NULL, NULL), "control message consumed");
}

/* The next host -> guest control message, if any. */
static bool host_ctrl(struct cmsg *m, char *name, size_t name_max)
{
	uint32_t id, len;
	uint8_t *buf;

	if (!tq_used(&D.q[2], &id, &len))
		return false;
	buf = gp(tq_desc(&D.q[2], id)->addr);
	cr_assert_geq(len, sizeof(*m));
	memcpy(m, buf, sizeof(*m));
	if (name) {
		size_t n = len - sizeof(*m) < name_max - 1 ? len - sizeof(*m) : name_max - 1;
		memcpy(name, buf + sizeof(*m), n);
		name[n] = 0;
	}
	return true;
}

static void expect_ctrl(uint32_t id, uint16_t ev, uint16_t val, const char *name)
{
	struct cmsg m;
	char nm[32];

	cr_assert(host_ctrl(&m, nm, sizeof(nm)), "a message (port %u event %u) came", id, ev);
	cr_assert_eq(m.id, id);
	cr_assert_eq(m.event, ev, "port %u: event %u, wanted %u", id, m.event, ev);
	cr_assert_eq(m.value, val);
	if (name)
		cr_assert_str_eq(nm, name);
}

/* DEVICE_READY -> DEVICE_ADD x3; PORT_READY -> PORT_NAME, PORT_OPEN. */
static void handshake(bool stdin_open)
{
	static const char *names[3] = { "stdout", "stderr", "stdin" };
	struct cmsg m;

	for (int i = 0; i < 16; i++)
		post_writable(2, 64);
	guest_ctrl(0xffffffff, 0, 1);
	for (uint32_t i = 0; i < 3; i++)
		expect_ctrl(i, 1, 0, NULL);
	for (uint32_t i = 0; i < 3; i++) {
		guest_ctrl(i, 3, 1);
		expect_ctrl(i, 7, 1, names[i]);
		if (i < 2 || stdin_open)
			expect_ctrl(i, 6, 1, NULL);
	}
	cr_assert_not(host_ctrl(&m, NULL, 0), "nothing more");
}

static void guest_write(unsigned qi, const char *a, const char *b)
{
	uint64_t g[2] = { galloc(64), galloc(64) };
	uint32_t l[2] = { (uint32_t)strlen(a), (uint32_t)strlen(b) }, len = 99;

	memcpy(gp(g[0]), a, l[0]);
	memcpy(gp(g[1]), b, l[1]);
	post(qi, 2, g, l, NULL);
	cr_assert(tq_used(&D.q[qi], NULL, &len), "tx chain returned");
	cr_assert_eq(len, 0);
}

static void expect_read(int fd, const char *want)
{
	char buf[256] = {0};
	size_t n = strlen(want), got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		cr_assert_gt(r, 0);
		got += r;
	}
	cr_assert_str_eq(buf, want);
}

Test(console, handshake_and_stdout_stderr_apart, .init = con_dev, .fini = con_free)
{
	handshake(true);
	guest_write(1, "hello ", "world");
	guest_write(5, "oops", "!");
	expect_read(s_out[1], "hello world");
	expect_read(s_err[1], "oops!");
}

Test(console, stdin_data_then_eof, .init = con_dev, .fini = con_free)
{
	uint32_t id, len;
	struct cmsg m;

	handshake(true);
	guest_ctrl(2, 6, 1);   /* the guest opened /dev/vport0p2 */
	post_writable(6, 64);
	post_writable(6, 64);
	cr_assert_eq(write(s_in[1], "abc", 3), 3);
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[6], &id, &len));
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(gp(tq_desc(&D.q[6], id)->addr), "abc", 3), 0);
	cr_assert_not(host_ctrl(&m, NULL, 0), "no EOF yet");
	shutdown(s_in[1], SHUT_WR);
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	expect_ctrl(2, 6, 0, NULL);   /* PORT_OPEN 0: read() == 0 in the guest */
	cr_assert_not(tq_used(&D.q[6], NULL, NULL), "the EOF used no data buffer");
	cr_assert_eq(tloop_run(D.loop, 100), 0, "stdin no longer watched");
}

Test(console, stdin_not_read_before_guest_opens, .init = con_dev, .fini = con_free)
{
	handshake(true);
	post_writable(6, 64);
	cr_assert_eq(write(s_in[1], "early", 5), 5);
	cr_assert_eq(tloop_run(D.loop, 100), 0);
	cr_assert_not(tq_used(&D.q[6], NULL, NULL), "Linux would drop data on a closed port");
	guest_ctrl(2, 6, 1);
	cr_assert(tq_used(&D.q[6], NULL, NULL), "delivered on open");
}

Test(console, no_buffers_no_busy_loop, .init = con_dev, .fini = con_free)
{
	uint32_t len;

	handshake(true);
	guest_ctrl(2, 6, 1);
	cr_assert_eq(write(s_in[1], "xyz", 3), 3);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(tloop_run(D.loop, 20), 0, "stdin unwatched while no buffer is posted");
	post_writable(6, 64);
	cr_assert(tq_used(&D.q[6], NULL, &len));
	cr_assert_eq(len, 3);
}

Test(console, no_stdin_port_stays_closed, .init = con_dev_nostdin, .fini = con_free)
{
	handshake(false);
	guest_ctrl(2, 6, 1);
	post_writable(6, 64);
	cr_assert_not(tq_used(&D.q[6], NULL, NULL));
}

Test(console, backpressure, .init = con_dev, .fini = con_free)
{
	uint64_t a = 0;
	uint32_t l = 1u << 20, len;
	char buf[65536];
	size_t total = 0;
	int rounds = 0;

	handshake(true);
	post(1, 1, &a, &l, NULL);
	cr_assert_not(tq_used(&D.q[1], NULL, NULL), "1 MiB does not fit a socket buffer");
	cr_assert_eq(tloop_run(D.loop, 50), 0, "not writable: no callback, no spin");
	while (!tq_used(&D.q[1], NULL, &len)) {
		ssize_t r = read(s_out[1], buf, sizeof(buf));
		cr_assert_gt(r, 0);
		total += r;
		tloop_run(D.loop, 100);
		cr_assert_lt(++rounds, 10000);
	}
	while (total < l) {
		ssize_t r = read(s_out[1], buf, sizeof(buf));
		cr_assert_gt(r, 0);
		total += r;
	}
	cr_assert_eq(total, l);
}

Test(console, closed_host_side_drops_output, .init = con_dev, .fini = con_free)
{
	handshake(true);
	close(s_out[1]);
	s_out[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	guest_write(1, "lost ", "bytes");
	guest_write(1, "still ", "fine");
}

Test(console, control_garbage_ignored, .init = con_dev, .fini = con_free)
{
	struct cmsg m;
	uint64_t a = galloc(4);
	uint32_t l = 4;

	for (int i = 0; i < 4; i++)
		post_writable(2, 64);
	guest_ctrl(77, 3, 1);        /* PORT_READY for a port that does not exist */
	guest_ctrl(1, 0xffff, 9);    /* unknown event */
	post(3, 1, &a, &l, NULL);    /* short message */
	cr_assert(tq_used(&D.q[3], NULL, NULL));
	cr_assert_not(host_ctrl(&m, NULL, 0));
	for (int i = 0; i < 100; i++)
		guest_ctrl(0, 0, 1);     /* DEVICE_READY storm: the FIFO is bounded */
	cr_assert_not(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
}

static int pty_m = -1, pty_s = -1;

static void term_dev(void)
{
	const struct virtio_dev_ops *ops;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct vdev_console_cfg cfg;

	cr_assert_eq(openpty(&pty_m, &pty_s, NULL, NULL, &ws), 0);
	cfg = (struct vdev_console_cfg){ .in_fd = pty_m, .out_fd = pty_m, .err_fd = -1,
					 .terminal = true };
	D.loop = tloop_new();
	cr_assert_eq(vdev_console_new(&cfg, D.loop, &ops, &con, &err), 0, "%s", err.msg);
	dev_new(ops, con);
	drv_init(2, ~0ull);
}

static void term_free(void)
{
	dev_free();
	close(pty_m);
	close(pty_s);
}

Test(console, terminal_size_and_resize, .init = term_dev, .fini = term_free)
{
	struct winsize ws = { .ws_row = 30, .ws_col = 100 };
	uint32_t gen = rd(VMMIO_CONFIG_GEN);
	uint16_t cols, rows;

	cr_assert(offered() & 1, "F_SIZE");
	cr_assert_not(offered() & 2, "no multiport");
	virtio_mmio_read(D.t, VMMIO_CONFIG, &cols, 2);
	virtio_mmio_read(D.t, VMMIO_CONFIG + 2, &rows, 2);
	cr_assert_eq(cols, 80);
	cr_assert_eq(rows, 24);
	cr_assert(rd(VMMIO_IRQ_STATUS) & VIRTIO_IRQ_CONFIG, "initial size announced at DRIVER_OK");
	cr_assert_eq(irq_count(), 1);
	wr(VMMIO_IRQ_ACK, VIRTIO_IRQ_CONFIG);
	cr_assert_eq(ioctl(pty_m, TIOCSWINSZ, &ws), 0);
	vdev_console_winch(con);
	cr_assert_neq(rd(VMMIO_CONFIG_GEN), gen);
	cr_assert(rd(VMMIO_IRQ_STATUS) & VIRTIO_IRQ_CONFIG);
	cr_assert_eq(irq_count(), 1);
	virtio_mmio_read(D.t, VMMIO_CONFIG, &cols, 2);
	virtio_mmio_read(D.t, VMMIO_CONFIG + 2, &rows, 2);
	cr_assert_eq(cols, 100);
	cr_assert_eq(rows, 30);
}

Test(console, terminal_both_ways, .init = term_dev, .fini = term_free)
{
	uint32_t id, len;

	post_writable(0, 64);
	cr_assert_eq(write(pty_s, "hi\n", 3), 3);
	cr_assert_gt(tloop_run(D.loop, 2000), 0);
	cr_assert(tq_used(&D.q[0], &id, &len));
	cr_assert_geq(len, 2);
	cr_assert_eq(memcmp(gp(tq_desc(&D.q[0], id)->addr), "hi", 2), 0);
	guest_write(1, "o", "k\n");
	expect_read(pty_s, "ok\n");
}

Test(console, caller_pipe_keeps_blocking_mode, .timeout = 10)
{
	const struct virtio_dev_ops *ops;
	struct vdev_console_cfg cfg;
	struct vm_loop *loop = tloop_new();
	int in[2], out[2];
	void *dev;

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cfg = (struct vdev_console_cfg){ .in_fd = in[0], .out_fd = out[1], .err_fd = out[1] };
	cr_assert_eq(vdev_console_new(&cfg, loop, &ops, &dev, &err), 0, "%s", err.msg);
	cr_assert_not(fcntl(in[0], F_GETFL) & O_NONBLOCK, "our stdin stays blocking");
	cr_assert_not(fcntl(out[1], F_GETFL) & O_NONBLOCK, "our stdout stays blocking");
	ops->destroy(dev);
	tloop_free(loop);
}

/* A vCPU thread hammering registers while the loop thread serves a queue:
 * no deadlock, no lost request. */
static volatile bool stop_regs;

static void *reg_thread(void *arg)
{
	(void)arg;
	while (!stop_regs) {
		uint32_t v = rd(VMMIO_IRQ_STATUS);
		wr(VMMIO_IRQ_ACK, v);
		rd(VMMIO_CONFIG_GEN);
		rd(VMMIO_STATUS);
		rd(VMMIO_QUEUE_READY);
	}
	return NULL;
}

Test(mmio, concurrent_registers_and_notify, .init = rng_dev, .fini = dev_free)
{
	pthread_t th;
	uint16_t f = VIRTQ_DESC_F_WRITE;
	uint32_t l = 16, len;
	uint64_t a;

	drv_init(1, ~0ull);
	a = galloc(16);
	stop_regs = false;
	cr_assert_eq(pthread_create(&th, NULL, reg_thread, NULL), 0);
	for (int i = 0; i < 20000; i++) {
		post(0, 1, &a, &l, &f);
		cr_assert(tq_used(&D.q[0], NULL, &len), "request %d", i);
		cr_assert_eq(len, 16);
	}
	stop_regs = true;
	pthread_join(th, NULL);
	cr_assert_not(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
}

Test(console, reset_with_pending_chains_then_again, .init = con_dev, .fini = con_free)
{
	uint64_t a = 0;
	uint32_t l = 1u << 20, len;

	handshake(true);
	guest_ctrl(2, 6, 1);
	post_writable(6, 64);          /* held, waiting for stdin */
	post(1, 1, &a, &l, NULL);      /* held, the socket is full */
	wr(VMMIO_STATUS, 0);           /* the guest resets under both */
	cr_assert_eq(tloop_run(D.loop, 50), 0, "nothing watched after reset");
	D.data_next = DATA;
	drv_init(8, ~0ull);
	handshake(true);
	guest_ctrl(2, 6, 1);
	cr_assert_eq(write(s_in[1], "again", 5), 5);
	post_writable(6, 64);   /* data already waiting: filled at the kick */
	cr_assert(tq_used(&D.q[6], NULL, &len));
	cr_assert_eq(len, 5);
}

Test(console, malformed_tx_chain_needs_reset, .init = con_dev, .fini = con_free)
{
	handshake(true);
	*tq_desc(&D.q[1], 0) = (struct virtq_desc){ DATA, 8, VIRTQ_DESC_F_NEXT, 0 };
	tq_publish(&D.q[1], 0);
	virtio_mmio_notify(D.t, 1);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	/* The whole device stops until the driver resets it... */
	uint64_t g = galloc(8);
	uint32_t l = 4;
	memcpy(gp(g), "lost", 4);
	post(5, 1, &g, &l, NULL);
	cr_assert_not(tq_used(&D.q[5], NULL, NULL));
	/* ...and works again after. */
	D.data_next = DATA;
	drv_init(8, ~0ull);
	handshake(true);
	guest_write(5, "still", " works");
	expect_read(s_err[1], "still works");
}

Test(console, terminal_raw_while_running_then_restored, .timeout = 10)
{
	const struct virtio_dev_ops *ops;
	struct vdev_console_cfg cfg;
	struct vm_loop *loop = tloop_new();
	struct termios tio;
	int m, sl;
	void *dev;

	cr_assert_eq(openpty(&m, &sl, NULL, NULL, NULL), 0);
	cr_assert_eq(tcgetattr(sl, &tio), 0);
	cr_assert(tio.c_lflag & ECHO, "a fresh pty echoes");
	cfg = (struct vdev_console_cfg){ .in_fd = sl, .out_fd = sl, .err_fd = -1, .terminal = true };
	cr_assert_eq(vdev_console_new(&cfg, loop, &ops, &dev, &err), 0, "%s", err.msg);
	cr_assert_eq(tcgetattr(sl, &tio), 0);
	cr_assert_not(tio.c_lflag & (ECHO | ICANON), "raw while the VM runs");
	cr_assert_not(tio.c_oflag & OPOST, "no output processing on the host side");
	ops->destroy(dev);
	cr_assert_eq(tcgetattr(sl, &tio), 0);
	cr_assert(tio.c_lflag & ECHO, "restored");
	close(m);
	close(sl);
	tloop_free(loop);
}
