/* microvm/vhost_user.c and microvm/dev_fs.c against a fake vhost-user
 * backend: a thread on the other end of a socketpair that records every
 * message (request, flags, payload, fds) and answers as told, including
 * wrongly (another request code, another size, no reply flag, hanging up,
 * silence). */
#include "config.h"
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/vhost_user.h"
#include "microvm/vm_fs.h"
#include "tests/unit/vm_doubles.h"

TestSuite(vhu, .timeout = 20);
TestSuite(vfs, .timeout = 20);

#define FEAT ((1ull << 32) | (1ull << 29) | (1ull << VHU_F_PROTOCOL_FEATURES) | (1ull << 28))
#define PROTO ((1ull << VHU_PROTOCOL_F_REPLY_ACK) | (1ull << 0) | (1ull << 5))

enum fault { OK, WRONG_REQ, WRONG_SIZE, NO_REPLY_FLAG, HANG_UP, SILENT, REFUSE };

struct rec {
	uint32_t req, flags, size;
	uint8_t payload[512];
	int fds[8], nfds;
};

static struct fake {
	int fd;                   /* the backend's end */
	pthread_t th;
	uint64_t features, proto;
	uint32_t fault_req;       /* request that gets the fault */
	enum fault fault;
	struct rec log[64];
	int n;
} B;

static int fe_fd;             /* the frontend's end */
static struct rt_err err;

static int recv_msg(struct rec *r)
{
	struct vhu_hdr h;
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };

	if (recvmsg(B.fd, &m, MSG_WAITALL) != sizeof(h))
		return -1;
	*r = (struct rec){ .req = h.request, .flags = h.flags, .size = h.size };
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		r->nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(r->fds, CMSG_DATA(c), sizeof(int) * (size_t)r->nfds);
	}
	if (h.size > sizeof(r->payload) ||
	    (h.size && recv(B.fd, r->payload, h.size, MSG_WAITALL) != (ssize_t)h.size))
		return -1;
	return 0;
}

static void reply(const struct rec *r, const void *p, uint32_t size)
{
	struct vhu_hdr h = { r->req, VHU_VERSION | VHU_FLAG_REPLY, size };
	enum fault f = r->req == B.fault_req ? B.fault : OK;
	uint64_t bad = 1;

	if (f == SILENT)
		return;
	if (f == HANG_UP) {
		shutdown(B.fd, SHUT_RDWR);
		return;
	}
	if (f == WRONG_REQ)
		h.request = r->req + 1;
	if (f == WRONG_SIZE)
		h.size = size + 4;
	if (f == NO_REPLY_FLAG)
		h.flags = VHU_VERSION;
	if (f == REFUSE && size == 8)
		p = &bad;
	send(B.fd, &h, sizeof(h), MSG_NOSIGNAL);
	send(B.fd, p, size, MSG_NOSIGNAL);
	if (f == WRONG_SIZE)
		send(B.fd, "\0\0\0\0", 4, MSG_NOSIGNAL);
}

static void *backend(void *arg)
{
	(void)arg;
	for (;;) {
		struct rec r;
		uint64_t zero = 0;

		if (recv_msg(&r) < 0)
			break;
		if (B.n < 64)
			B.log[B.n++] = r;
		if (r.req == VHU_GET_FEATURES)
			reply(&r, &B.features, 8);
		else if (r.req == VHU_GET_PROTOCOL_FEATURES)
			reply(&r, &B.proto, 8);
		else if (r.req == VHU_GET_VRING_BASE) {
			struct vhu_vring_state s;

			memcpy(&s, r.payload, sizeof(s));
			s.num = 7;
			reply(&r, &s, sizeof(s));
		} else if (r.flags & VHU_FLAG_NEED_REPLY)
			reply(&r, &zero, 8);
		else if (r.req == B.fault_req && B.fault == HANG_UP)
			shutdown(B.fd, SHUT_RDWR);
	}
	return NULL;
}

static void start(uint64_t features, uint64_t proto, uint32_t fault_req, enum fault f)
{
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(&B, 0, sizeof(B));
	B.fd = sv[1], fe_fd = sv[0];
	B.features = features, B.proto = proto, B.fault_req = fault_req, B.fault = f;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(pthread_create(&B.th, NULL, backend, NULL), 0);
}

static void stop(void)
{
	shutdown(B.fd, SHUT_RDWR);
	if (fe_fd >= 0)
		close(fe_fd);
	pthread_join(B.th, NULL);
	close(B.fd);
}

static struct rec *find(uint32_t req, int nth)
{
	for (int i = 0; i < B.n; i++)
		if (B.log[i].req == req && nth-- == 0)
			return &B.log[i];
	return NULL;
}

Test(vhu, handshake_agrees_on_reply_ack_only)
{
	struct vhu v;
	uint64_t set;

	start(FEAT, PROTO, 0, OK);
	cr_assert_eq(vhu_init(&v, fe_fd, 2000, &err), 0);
	cr_assert_eq(vhu_handshake(&v, &err), 0, "%s", err.msg);
	cr_assert_eq(v.features, FEAT);
	cr_assert_eq(v.proto, 1ull << VHU_PROTOCOL_F_REPLY_ACK);
	/* after the handshake, messages ask for an ack (and the ack orders
	 * the backend's log before our reading it) */
	cr_assert_eq(vhu_set_u64(&v, VHU_SET_FEATURES, 1ull << 32, &err), 0, "%s", err.msg);
	cr_assert(find(VHU_SET_FEATURES, 0)->flags & VHU_FLAG_NEED_REPLY);
	cr_assert_eq(B.n, 5);
	cr_assert_eq(B.log[0].req, VHU_SET_OWNER);
	cr_assert_eq(B.log[1].req, VHU_GET_FEATURES);
	cr_assert_eq(B.log[2].req, VHU_GET_PROTOCOL_FEATURES);
	cr_assert_eq(B.log[3].req, VHU_SET_PROTOCOL_FEATURES);
	cr_assert_eq(B.log[3].size, 8);
	memcpy(&set, B.log[3].payload, 8);
	cr_assert_eq(set, 1ull << VHU_PROTOCOL_F_REPLY_ACK, "only REPLY_ACK is taken");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(B.log[i].flags & 3, VHU_VERSION);
	stop();
}

Test(vhu, no_protocol_features_no_acks)
{
	struct vhu v;

	start(1ull << 32, PROTO, 0, OK);
	cr_assert_eq(vhu_init(&v, fe_fd, 2000, &err), 0);
	cr_assert_eq(vhu_handshake(&v, &err), 0, "%s", err.msg);
	cr_assert_eq(v.proto, 0);
	cr_assert_null(find(VHU_GET_PROTOCOL_FEATURES, 0));
	cr_assert_eq(vhu_set_u64(&v, VHU_SET_FEATURES, 1ull << 32, &err), 0);
	/* a round trip: the backend has logged everything before it */
	cr_assert_eq(vhu_ring_stop(&v, 1, &(uint32_t){ 0 }, &err), 0, "%s", err.msg);
	cr_assert_not(find(VHU_SET_FEATURES, 0)->flags & VHU_FLAG_NEED_REPLY);
	stop();
}

static void expect_fail(uint32_t req, enum fault f, int code, const char *needle)
{
	struct vhu v;

	start(FEAT, PROTO, req, f);
	cr_assert_eq(vhu_init(&v, fe_fd, 300, &err), 0);
	cr_assert_lt(vhu_handshake(&v, &err), 0, "fault %d on %u must fail", f, req);
	cr_assert_eq(err.code, code, "code %d: %s", err.code, err.msg);
	cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
	stop();
}

Test(vhu, reply_to_another_request) { expect_fail(VHU_GET_FEATURES, WRONG_REQ, EPROTO, "replied to request 2"); }
Test(vhu, reply_of_wrong_size) { expect_fail(VHU_GET_PROTOCOL_FEATURES, WRONG_SIZE, EPROTO, "12 bytes, expected 8"); }
Test(vhu, reply_without_reply_flag) { expect_fail(VHU_GET_FEATURES, NO_REPLY_FLAG, EPROTO, "not a version 1 reply"); }
Test(vhu, backend_hangs_up) { expect_fail(VHU_GET_FEATURES, HANG_UP, EPIPE, "closed the connection"); }
Test(vhu, backend_silent_times_out) { expect_fail(VHU_GET_PROTOCOL_FEATURES, SILENT, ETIMEDOUT, "no reply"); }
Test(vhu, backend_refuses)
{
	struct vhu v;

	start(FEAT, PROTO, VHU_SET_FEATURES, REFUSE);
	cr_assert_eq(vhu_init(&v, fe_fd, 300, &err), 0);
	cr_assert_eq(vhu_handshake(&v, &err), 0, "%s", err.msg);
	cr_assert_eq(vhu_set_u64(&v, VHU_SET_FEATURES, 1ull << 32, &err), -EIO);
	cr_assert(strstr(err.msg, "SET_FEATURES: the backend refused"), "%s", err.msg);
	stop();
}

Test(vhu, mem_table_carries_regions_and_fds)
{
	struct vhu v;
	struct vhu_region r[2] = { { 0, 1 << 20, 0x7f0000000000ull, 0 },
				   { 1ull << 32, 2 << 20, 0x7f0000100000ull, 1 << 20 } };
	int fd = eventfd(0, EFD_CLOEXEC), fds[2] = { fd, fd };
	struct vhu_mem_table t;
	struct rec *m;

	start(FEAT, PROTO, 0, OK);
	cr_assert_eq(vhu_init(&v, fe_fd, 2000, &err), 0);
	cr_assert_eq(vhu_handshake(&v, &err), 0);
	cr_assert_eq(vhu_set_mem_table(&v, r, fds, 2, &err), 0, "%s", err.msg);
	m = find(VHU_SET_MEM_TABLE, 0);
	cr_assert_not_null(m);
	cr_assert_eq(m->size, 8 + 2 * sizeof(struct vhu_region));
	cr_assert_eq(m->nfds, 2);
	memcpy(&t, m->payload, m->size);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(t.r[1].gpa, 1ull << 32);
	cr_assert_eq(t.r[1].mmap_offset, 1 << 20);
	cr_assert_eq(t.r[0].uaddr, 0x7f0000000000ull);
	cr_assert_eq(vhu_set_mem_table(&v, r, fds, 0, &err), -EINVAL);
	cr_assert_eq(vhu_set_mem_table(&v, r, fds, 9, &err), -EINVAL);
	close(fd);
	stop();
}

Test(vhu, ring_start_and_stop)
{
	struct vhu v;
	int k = eventfd(0, EFD_CLOEXEC), c = eventfd(0, EFD_CLOEXEC);
	struct vhu_ring r = { .index = 1, .num = 64, .desc = 0x1000, .avail = 0x2000,
			      .used = 0x3000, .kick_fd = k, .call_fd = c };
	struct vhu_vring_addr a;
	uint32_t base = 0;
	uint64_t idx;

	start(FEAT, PROTO, 0, OK);
	cr_assert_eq(vhu_init(&v, fe_fd, 2000, &err), 0);
	cr_assert_eq(vhu_handshake(&v, &err), 0);
	cr_assert_eq(vhu_ring_start(&v, &r, &err), 0, "%s", err.msg);
	memcpy(&a, find(VHU_SET_VRING_ADDR, 0)->payload, sizeof(a));
	cr_assert_eq(a.index, 1);
	cr_assert_eq(a.desc, 0x1000);
	cr_assert_eq(a.avail, 0x2000);
	cr_assert_eq(a.used, 0x3000);
	cr_assert_eq(find(VHU_SET_VRING_KICK, 0)->nfds, 1);
	memcpy(&idx, find(VHU_SET_VRING_KICK, 0)->payload, 8);
	cr_assert_eq(idx, 1);
	cr_assert_eq(find(VHU_SET_VRING_CALL, 0)->nfds, 1);
	cr_assert_not_null(find(VHU_SET_VRING_ENABLE, 0));
	cr_assert_eq(vhu_ring_stop(&v, 1, &base, &err), 0, "%s", err.msg);
	cr_assert_eq(base, 7);
	close(k);
	close(c);
	stop();
}

/* The device end to end: a guest driver's register writes on one side,
 * the fake backend on the other. */
#define MEM (4u << 20)

static struct vm_mem mem;
static int memfd;

static void mem_new(void)
{
	memfd = memfd_create("t", MFD_CLOEXEC);
	cr_assert(memfd >= 0 && ftruncate(memfd, MEM) == 0);
	mem.base = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	cr_assert_neq(mem.base, MAP_FAILED);
	mem.size = MEM;
}

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_write(t, off, &v, 4);
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_read(t, off, &v, 4);
	return v;
}

static struct virtio_mmio *fs_device(struct vm_loop *loop, int irqfd, int *dead)
{
	const struct virtio_dev_ops *ops;
	void *dev;
	struct virtio_mmio *t;
	struct vdev_fs_cfg c = { .sock_fd = fe_fd, .tag = "hullfs0", .mem_fd = memfd,
				 .mem = &mem, .loop = loop, .dead_arg = dead };

	fe_fd = -1;   /* the device owns it */
	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), 0, "%s", err.msg);
	cr_assert_eq(ops->device_id, 26);
	cr_assert_eq(virtio_mmio_new(&t, ops, dev, &mem, irqfd, &err), 0, "%s", err.msg);
	return t;
}

static void drv_start(struct virtio_mmio *t)
{
	struct tq q[2];

	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(t, VMMIO_DRV_FEATURES_SEL, 1);
	wr(t, VMMIO_DRV_FEATURES, 1);    /* VERSION_1 */
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	tq_attach(t, q, 2, &mem, 64, 0x10000);
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
	   VIRTIO_S_DRIVER_OK);
}

Test(vfs, config_handshake_rings_kicks_calls_reset)
{
	struct vm_loop *loop = tloop_new();
	int irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct virtio_mmio *t;
	struct vhu_mem_table mt;
	struct vhu_vring_addr a;
	char tag[36];
	uint64_t feat, one = 1, v;

	mem_new();
	start(FEAT, PROTO, 0, OK);
	t = fs_device(loop, irqfd, NULL);
	/* config: the tag, then num_request_queues = 1 */
	for (unsigned i = 0; i < 36; i += 4)
		virtio_mmio_read(t, VMMIO_CONFIG + i, tag + i, 4);
	cr_assert_str_eq(tag, "hullfs0");
	cr_assert_eq(rd(t, VMMIO_CONFIG + 36), 1);
	cr_assert_eq(rd(t, VMMIO_DEVICE_ID), 26);
	/* guest RAM went to the backend at setup */
	cr_assert_not_null(find(VHU_SET_MEM_TABLE, 0));
	memcpy(&mt, find(VHU_SET_MEM_TABLE, 0)->payload, sizeof(mt));
	cr_assert_eq(mt.n, 1);
	cr_assert_eq(mt.r[0].size, MEM);
	cr_assert_eq(mt.r[0].uaddr, (uint64_t)(uintptr_t)mem.base);
	drv_start(t);
	cr_assert(rd(t, VMMIO_STATUS) & VIRTIO_S_DRIVER_OK);
	cr_assert_not(rd(t, VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	memcpy(&feat, find(VHU_SET_FEATURES, 0)->payload, 8);
	cr_assert_eq(feat, (1ull << 32) | (1ull << VHU_F_PROTOCOL_FEATURES));
	/* both rings, by their host addresses */
	memcpy(&a, find(VHU_SET_VRING_ADDR, 1)->payload, sizeof(a));
	cr_assert_eq(a.index, 1);
	cr_assert_eq(a.desc, (uint64_t)(uintptr_t)(mem.base + 0x14000));
	cr_assert_not_null(find(VHU_SET_VRING_ENABLE, 1));
	/* a guest kick reaches the backend's kick fd for that ring */
	virtio_mmio_notify(t, 1);
	cr_assert_eq(read(find(VHU_SET_VRING_KICK, 1)->fds[0], &v, 8), 8);
	/* the backend's call becomes the device interrupt */
	cr_assert_eq(write(find(VHU_SET_VRING_CALL, 1)->fds[0], &one, 8), 8);
	cr_assert_geq(tloop_run(loop, 1000), 1);
	cr_assert_eq(rd(t, VMMIO_IRQ_STATUS) & VIRTIO_IRQ_VRING, VIRTIO_IRQ_VRING);
	cr_assert_eq(read(irqfd, &v, 8), 8);
	/* reset: the backend is asked to stop both rings */
	wr(t, VMMIO_STATUS, 0);
	cr_assert_not_null(find(VHU_GET_VRING_BASE, 0));
	cr_assert_not_null(find(VHU_GET_VRING_BASE, 1));
	virtio_mmio_free(t);
	stop();
	tloop_free(loop);
	close(irqfd);
}

static void on_dead(void *arg, const char *why)
{
	snprintf(arg, 256, "%s", why);
}

Test(vfs, backend_death_is_reported_and_breaks_the_device)
{
	struct vm_loop *loop = tloop_new();
	int irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	const struct virtio_dev_ops *ops;
	void *dev;
	struct virtio_mmio *t;
	char why[256] = "";
	struct vdev_fs_cfg c;

	mem_new();
	start(FEAT, PROTO, 0, OK);
	c = (struct vdev_fs_cfg){ .sock_fd = fe_fd, .tag = "x", .mem_fd = memfd, .mem = &mem,
				  .loop = loop, .dead = on_dead, .dead_arg = why };
	fe_fd = -1;
	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), 0, "%s", err.msg);
	cr_assert_eq(virtio_mmio_new(&t, ops, dev, &mem, irqfd, &err), 0);
	drv_start(t);
	shutdown(B.fd, SHUT_RDWR);    /* virtiofsd died */
	cr_assert_geq(tloop_run(loop, 1000), 1);
	cr_assert(strstr(why, "virtio-fs x: the backend (virtiofsd) closed"), "why: %s", why);
	cr_assert(rd(t, VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET);
	virtio_mmio_free(t);
	stop();
	tloop_free(loop);
	close(irqfd);
}

Test(vfs, backend_without_event_idx_is_refused)
{
	const struct virtio_dev_ops *ops;
	void *dev;
	struct vdev_fs_cfg c;

	mem_new();
	start((1ull << 32) | (1ull << VHU_F_PROTOCOL_FEATURES), PROTO, 0, OK);
	c = (struct vdev_fs_cfg){ .sock_fd = fe_fd, .tag = "x", .mem_fd = memfd, .mem = &mem };
	fe_fd = -1;
	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), -ENOTSUP);
	cr_assert(strstr(err.msg, "EVENT_IDX"), "%s", err.msg);
	stop();
}

Test(vfs, bad_tag_is_refused)
{
	const struct virtio_dev_ops *ops;
	void *dev;
	struct vdev_fs_cfg c = { .sock_fd = -1, .tag = "0123456789012345678901234567890123456",
				 .mem_fd = 3, .mem = &mem };

	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), -EINVAL);
	c.tag = "";
	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), -EINVAL);
}

/* The host side (microvm/vm_fs.c): checks, and a real virtiofsd where
 * this host has one (root: it makes a mount namespace). */
Test(vfs, destination_checks)
{
	static const char *const bad[] = { "rel", "/", "", "/a/../b", "/..", "/a/.", "/a/./b",
					   "/a\nb" };
	static const char *const good[] = { "/a", "/a/b/c", "/a..b/.c", "//x//y/" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(vm_fs_check_dst(bad[i], &err), -EINVAL, "%s accepted", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(vm_fs_check_dst(good[i], &err), 0, "%s: %s", good[i], err.msg);
}

Test(vfs, source_checks)
{
	char dir[] = "/tmp/hull-vfs-XXXXXX", path[64];
	char *real = NULL;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	setenv("HULL_VIRTIOFSD", "/bin/true", 1);
	cr_assert_eq(vm_fs_check("/no/such/dir", "/x", &real, &err), -ENOENT);
	cr_assert(strstr(err.msg, "/no/such/dir"), "%s", err.msg);
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	fclose(f);
	cr_assert_eq(vm_fs_check(path, "/x", &real, &err), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/a,b", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(vm_fs_check(path, "/x", &real, &err), -EINVAL);
	cr_assert(strstr(err.msg, "','"), "%s", err.msg);
	cr_assert_eq(vm_fs_check(dir, "/x", &real, &err), 0, "%s", err.msg);
	cr_assert_str_eq(real, dir);
	free(real);
	setenv("HULL_VIRTIOFSD", "/no/virtiofsd", 1);
	cr_assert_eq(vm_fs_check(dir, "/x", NULL, &err), -ENOENT);
	cr_assert(strstr(err.msg, "/no/virtiofsd: No such file or directory (virtiofsd serves"),
		  "%s", err.msg);
	unsetenv("HULL_VIRTIOFSD");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
}

/* Processes whose command line holds needle. */
static int count_procs(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d))) {
		char p[300], buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", de->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = 0;
		n += strstr(buf, needle) != NULL;
	}
	closedir(d);
	return n;
}

Test(vfs, real_virtiofsd_handshake_then_exits_with_the_socket)
{
	char dir[] = "/tmp/hull-vfs-XXXXXX", needle[64];
	const struct virtio_dev_ops *ops;
	struct vdev_fs_cfg c;
	void *dev;
	int sock = -1, i;

	if (geteuid() != 0 || access(VM_FS_VIRTIOFSD, X_OK) < 0)
		cr_skip_test("needs root and %s", VM_FS_VIRTIOFSD);
	signal(SIGPIPE, SIG_IGN);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(needle, sizeof(needle), "source=%s,", dir);
	mem_new();
	cr_assert_eq(vm_fs_start(dir, true, false, &sock, &err), 0, "%s", err.msg);
	c = (struct vdev_fs_cfg){ .sock_fd = sock, .tag = "t", .mem_fd = memfd, .mem = &mem };
	cr_assert_eq(vdev_fs_new(&c, &ops, &dev, &err), 0, "%s", err.msg);
	cr_assert_geq(count_procs(needle), 1, "no virtiofsd running");
	ops->destroy(dev);   /* closes the socket */
	for (i = 0; i < 100 && count_procs(needle); i++)
		usleep(50000);
	cr_assert_eq(count_procs(needle), 0, "virtiofsd outlived its socket");
	rmdir(dir);
}

Test(vfs, a_backend_that_cannot_start_is_an_error)
{
	int sock = -1;

	setenv("HULL_VIRTIOFSD", "/no/such/virtiofsd", 1);
	cr_assert_eq(vm_fs_start("/tmp", false, false, &sock, &err), -EIO);
	cr_assert(strstr(err.msg, "virtiofsd: /no/such/virtiofsd: No such file"), "%s", err.msg);
	cr_assert_eq(sock, -1);
	unsetenv("HULL_VIRTIOFSD");
}
