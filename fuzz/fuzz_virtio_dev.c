/* libFuzzer target: the virtio-mmio transport with the blk, rng, console,
 * net and vsock devices behind it.  Each input starts from a freshly reset,
 * driver-initialised device (queue i of 16 entries at 0x400 * i) and then
 * plays the guest and the host: register writes and reads of any offset
 * and width, kicks of any queue, writes into guest RAM (the rings and
 * buffers), and for the console bytes or EOF on its stdin and a turn of
 * the event loop; for net, frames of any size from its "tap" (a datagram
 * socket) and a turn of the loop; for vsock, unix clients that connect,
 * send CONNECT lines (good and bad), bytes, EOF, or go away, and a turn of
 * the loop.  RAM is exactly its malloc'd size, so ASan reports any
 * access outside it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "microvm/virtio_int.h"
#include "microvm/vsock_int.h"
#include "tests/unit/vm_doubles.h"

#define RAM (64u << 10)

struct target {
	struct virtio_mmio *t;
	struct vm_mem m;
	unsigned nq;
};
static struct target T[5];
#define NCLI 4
static int vs_listen = -1, vs_cli[NCLI] = { -1, -1, -1, -1 };
static struct sockaddr_un vs_addr;
static socklen_t vs_addr_len;
static struct vm_loop *loop;
static int con_in = -1, con_out = -1, con_err = -1;   /* the host's ends */
static int net_host = -1;                              /* the tap's other end */

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_write(t, off, &v, 4);
}

static void setup(void)
{
	const struct virtio_dev_ops *ops;
	struct rt_err err;
	char path[64];
	void *dev;
	int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, 64 * 512) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	signal(SIGPIPE, SIG_IGN);   /* as the VMM does */
	loop = tloop_new();
	for (int i = 0; i < 5; i++) {
		T[i].m.base = malloc(RAM);
		T[i].m.size = RAM;
		if (i >= 2)
			continue;   /* console and net are made per input: their fds carry state */
		if ((i == 0 ? vdev_blk_new(path, false, &ops, &dev, &err) :
			      vdev_rng_new(&ops, &dev, &err)) < 0 ||
		    virtio_mmio_new(&T[i].t, ops, dev, &T[i].m, -1, &err) < 0)
			abort();
		T[i].nq = ops->num_queues;
	}
}

static void console_new(void)
{
	const struct virtio_dev_ops *ops;
	struct rt_err err;
	int in[2], out[2], er[2];
	void *dev;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, in) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, out) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, er) < 0)
		abort();
	struct vdev_console_cfg cfg = { .in_fd = in[0], .out_fd = out[0], .err_fd = er[0] };
	if (vdev_console_new(&cfg, loop, &ops, &dev, &err) < 0 ||
	    virtio_mmio_new(&T[2].t, ops, dev, &T[2].m, -1, &err) < 0)
		abort();
	T[2].nq = ops->num_queues;
	close(in[0]);
	close(out[0]);
	close(er[0]);
	con_in = in[1];
	con_out = out[1];
	con_err = er[1];
}

static void console_free(void)
{
	virtio_mmio_free(T[2].t);
	T[2].t = NULL;
	close(con_in);
	close(con_out);
	close(con_err);
}

static void net_new(void)
{
	const struct virtio_dev_ops *ops;
	struct vdev_net_cfg cfg = { .mac = { 2, 0, 0, 0, 0, 1 } };
	struct rt_err err;
	int sv[2];
	void *dev;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	cfg.tap_fd = sv[0];
	if (vdev_net_new(&cfg, loop, &ops, &dev, &err) < 0 ||
	    virtio_mmio_new(&T[3].t, ops, dev, &T[3].m, -1, &err) < 0)
		abort();
	T[3].nq = ops->num_queues;
	close(sv[0]);
	net_host = sv[1];
}

static void net_free(void)
{
	virtio_mmio_free(T[3].t);
	T[3].t = NULL;
	close(net_host);
}

static void vsock_new(void)
{
	const struct virtio_dev_ops *ops;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vdev_vsock_cfg cfg = { .guest_cid = 3 };
	struct rt_err err;
	void *dev;

	vs_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	vs_addr_len = sizeof(vs_addr);
	if (vs_listen < 0 || bind(vs_listen, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
	    listen(vs_listen, 8) < 0 ||
	    getsockname(vs_listen, (struct sockaddr *)&vs_addr, &vs_addr_len) < 0)
		abort();
	cfg.listen_fd = vs_listen;
	if (vdev_vsock_new(&cfg, loop, &ops, &dev, &err) < 0 ||
	    virtio_mmio_new(&T[4].t, ops, dev, &T[4].m, -1, &err) < 0)
		abort();
	T[4].nq = ops->num_queues;
}

static void vsock_free(void)
{
	virtio_mmio_free(T[4].t);
	T[4].t = NULL;
	close(vs_listen);
	for (int i = 0; i < NCLI; i++)
		if (vs_cli[i] >= 0)
			close(vs_cli[i]), vs_cli[i] = -1;
}

/* A client's turn: connect, a CONNECT line, bytes, EOF or close; then
 * drain what the device wrote to it and turn the loop. */
static void vsock_turn(uint32_t v)
{
	static char buf[70000];
	int *fd = &vs_cli[v % NCLI];
	char line[32];

	switch ((v >> 2) & 7) {
	case 0:
		if (*fd < 0) {
			*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (connect(*fd, (struct sockaddr *)&vs_addr, vs_addr_len) < 0)
				close(*fd), *fd = -1;
		}
		break;
	case 1: case 2:
		/* mostly the ports vsock_guest answers from */
		snprintf(line, sizeof(line), (v & 0x20) ? "CONNECT %u\n" : "CONNECT %u",
			 (v & 0x40) ? (v >> 8) & 0x7ff : 1024 + ((v >> 8) & 1));
		if (*fd >= 0)
			(void)!write(*fd, line, strlen(line));
		break;
	case 3: case 4:
		memset(buf, (int)(v >> 8), 64);
		if (*fd >= 0)
			(void)!write(*fd, buf, (v >> 12) % sizeof(buf));
		break;
	case 5:
		if (*fd >= 0)
			shutdown(*fd, SHUT_WR);
		break;
	case 6:
		if (*fd >= 0)
			close(*fd), *fd = -1;
		break;
	default:
		break;
	}
	for (int i = 0; i < NCLI; i++)
		while (vs_cli[i] >= 0 && read(vs_cli[i], buf, sizeof(buf)) > 0) {
		}
	tloop_run(loop, 0);
}

/* A guest driver's move on vsock, so that inputs reach past the header
 * checks: a well-formed-looking packet on the tx queue (ports near the
 * first host port the device hands out, any op, flags, credit and a
 * short payload), or an rx buffer of any size.  Queue q's rings are where
 * driver_init put them (16 entries at 0x400 * q); the data at 0x8000. */
static void vsock_guest(uint32_t v, uint32_t w)
{
	uint8_t *ram = T[4].m.base;
	unsigned q = v & 1, slot;
	uint16_t idx;
	struct virtq_desc d;

	memcpy(&idx, ram + 0x400 * q + 0x102, 2);
	slot = idx % 16;
	if (q == 1) {
		struct vsock_hdr h = {
			.src_cid = 3, .dst_cid = 2, .src_port = 1024 + ((v >> 1) & 1),
			.dst_port = 0x40000000u + ((v >> 2) & 3), .len = (v >> 24) & 0x3f,
			.type = 1, .op = (uint16_t)(1 + ((v >> 4) & 7)), .flags = (v >> 7) & 3,
			.buf_alloc = w & 0x3ffff, .fwd_cnt = w >> 14,
		};
		memcpy(ram + 0x8000 + 0x100 * slot, &h, sizeof(h));
		d = (struct virtq_desc){ 0x8000 + 0x100 * slot, VSOCK_HDR_LEN + ((v >> 9) & 0x7f), 0, 0 };
	} else {
		d = (struct virtq_desc){ 0x9000 + 0x400 * (slot % 8), (v >> 9) & 0x7ff,
					 VIRTQ_DESC_F_WRITE, 0 };
	}
	memcpy(ram + 0x400 * q + 16 * slot, &d, sizeof(d));
	memcpy(ram + 0x400 * q + 0x104 + 2 * slot, &(uint16_t){ (uint16_t)slot }, 2);
	idx++;
	memcpy(ram + 0x400 * q + 0x102, &idx, 2);
	virtio_mmio_notify(T[4].t, (uint16_t)q);
}

/* The tap's side: drain what the guest sent, send a frame of v's size
 * (up to past 64 KiB), or close the tap. */
static void net_turn(uint32_t v)
{
	static uint8_t buf[70000];

	while (read(net_host, buf, sizeof(buf)) > 0) {
	}
	if ((v & 0xff) == 0x5a) {
		shutdown(net_host, SHUT_RDWR);
	} else if (v & 1) {
		memset(buf, (int)(v >> 8), 64);
		(void)!send(net_host, buf, (v >> 1) % sizeof(buf), MSG_DONTWAIT);
	}
	tloop_run(loop, 0);
}

/* The host's side of the console: drain its output, refill its input. */
static void host_turn(uint32_t v)
{
	char buf[4096];

	while (read(con_out, buf, sizeof(buf)) > 0 || read(con_err, buf, sizeof(buf)) > 0) {
	}
	if (v & 1)
		(void)!write(con_in, &v, 1 + (v >> 1) % 4);
	tloop_run(loop, 0);
}

static void driver_init(struct virtio_mmio *t, unsigned nq, bool event_idx)
{
	wr(t, VMMIO_STATUS, 0);
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(t, VMMIO_DRV_FEATURES_SEL, 0);
	wr(t, VMMIO_DRV_FEATURES, event_idx ? 1u << VIRTIO_F_EVENT_IDX : 0);
	wr(t, VMMIO_DRV_FEATURES_SEL, 1);
	wr(t, VMMIO_DRV_FEATURES, 1);   /* VERSION_1 */
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		wr(t, VMMIO_QUEUE_SEL, q);
		wr(t, VMMIO_QUEUE_NUM, 16);
		wr(t, VMMIO_QUEUE_DESC_LO, 0x400 * q);
		wr(t, VMMIO_QUEUE_AVAIL_LO, 0x400 * q + 0x100);
		wr(t, VMMIO_QUEUE_USED_LO, 0x400 * q + 0x200);
		wr(t, VMMIO_QUEUE_READY, 1);
	}
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			    VIRTIO_S_DRIVER_OK);
}

static void play(struct target *x, const uint8_t *p, size_t n)
{
	static const uint32_t widths[4] = { 4, 1, 2, 8 };
	uint8_t buf[8];

	for (unsigned ops = 0; n >= 7 && ops < 512; ops++, p += 7, n -= 7) {
		uint16_t off;
		uint32_t v;

		memcpy(&off, p + 1, 2);
		memcpy(&v, p + 3, 4);
		switch (p[0] & 7) {
		case 0:   /* register or config write */
			memcpy(buf, p + 3, 4);
			memcpy(buf + 4, p + 3, 4);
			virtio_mmio_write(x->t, off & 0x1ff, buf, widths[(p[0] >> 3) & 3]);
			break;
		case 1:
			virtio_mmio_read(x->t, off & 0xfff, buf, widths[(p[0] >> 3) & 3]);
			break;
		case 2:
		case 3:
			virtio_mmio_notify(x->t, off & 7);
			break;
		case 4:
			if (x == &T[2])
				host_turn(v);
			else if (x == &T[3])
				net_turn(v);
			else if (x == &T[4])
				vsock_turn(v);
			else
				virtio_mmio_notify(x->t, 0);
			break;
		case 5:
			if (x == &T[2] && (v & 0xff) == 0x5a)
				shutdown(con_in, SHUT_WR);   /* end of stdin */
			if (x == &T[4])
				vsock_guest(v, (uint32_t)off << 16 | p[0]);
			break;
		default:  /* guest memory: mostly the rings and the first buffers */
			memcpy(x->m.base + (off % (RAM - 4)), &v, 4);
			if (p[0] & 0x80)   /* and sometimes a buffer-sized region */
				memset(x->m.base + (off % (RAM - 256)), p[3], 256);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target *x;

	if (!loop)
		setup();
	if (size < 1)
		return 0;
	x = &T[data[0] % 5];
	if (x == &T[2])
		console_new();
	if (x == &T[3])
		net_new();
	if (x == &T[4])
		vsock_new();
	memset(x->m.base, 0, RAM);
	driver_init(x->t, x->nq, data[0] & 8);
	play(x, data + 1, size - 1);
	if (x == &T[2])
		console_free();
	if (x == &T[3])
		net_free();
	if (x == &T[4])
		vsock_free();
	return 0;
}
