/* microvm/dev_vsock.c behind the virtio-mmio transport, driven by a fake
 * guest driver through guest memory, with real unix-socket clients on the
 * device's listening socket (the hybrid-vsock handshake). */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "microvm/vm_plan.h"
#include "microvm/vsock_int.h"
#include "tests/unit/vm_doubles.h"

TestSuite(vsock, .timeout = 30);

#define MEM    (8u << 20)
#define RINGS  0x10000
#define QSIZE  64
#define RXBUF  0x100000ull
#define RXSZ   (VSOCK_HDR_LEN + 4096)
#define RXSTRIDE 0x1100ull
#define TXBUF  0x300000ull
#define TXSTRIDE 0x11000ull
#define RXQ 0
#define TXQ 1
#define NRX 16          /* rx buffers the guest keeps posted */
#define GPORT 1024

static struct {
	struct vm_mem *mem;
	struct virtio_mmio *t;
	struct vm_loop *loop;
	void *dev;
	int irqfd, lfd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	struct tq q[3];
	uint32_t fwd_cnt;   /* the guest's: bytes it "read" */
	uint32_t gport;     /* the guest's port in what it sends */
} D;
static struct rt_err err;

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_write(D.t, off, &v, 4);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_read(D.t, off, &v, 4);
	return v;
}

static void vs_dev(void)
{
	const struct virtio_dev_ops *ops;
	struct vdev_vsock_cfg cfg = { .guest_cid = 3 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	signal(SIGPIPE, SIG_IGN);
	D.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* autobind: an abstract name of the kernel's choosing */
	cr_assert_eq(bind(D.lfd, (struct sockaddr *)&sa, sizeof(sa_family_t)), 0);
	cr_assert_eq(listen(D.lfd, 128), 0);
	D.addr_len = sizeof(D.addr);
	cr_assert_eq(getsockname(D.lfd, (struct sockaddr *)&D.addr, &D.addr_len), 0);
	cfg.listen_fd = D.lfd;
	D.loop = tloop_new();
	cr_assert_eq(vdev_vsock_new(&cfg, D.loop, &ops, &D.dev, &err), 0, "%s", err.msg);
	D.mem = tmem_new(MEM);
	D.irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_eq(virtio_mmio_new(&D.t, ops, D.dev, D.mem, D.irqfd, &err), 0, "%s", err.msg);
	close(D.lfd);   /* the device keeps its own duplicate */
	D.gport = GPORT;
}

static void vs_free(void)
{
	virtio_mmio_free(D.t);
	tmem_free(D.mem);
	close(D.irqfd);
	tloop_free(D.loop);
	memset(&D, 0, sizeof(D));
}

static void post_rx_n(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t head = D.q[RXQ].next_desc, f = VIRTQ_DESC_F_WRITE;
		uint64_t a = RXBUF + head * RXSTRIDE;
		uint32_t l = RXSZ;

		tq_chain(&D.q[RXQ], 1, &a, &l, &f);
		tq_publish(&D.q[RXQ], head);
	}
	virtio_mmio_notify(D.t, RXQ);
}

static void drv_init(unsigned nrx)
{
	wr(VMMIO_STATUS, 0);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(VMMIO_DRV_FEATURES_SEL, 1);
	wr(VMMIO_DRV_FEATURES, 1);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	tq_attach(D.t, D.q, 3, D.mem, QSIZE, RINGS);
	wr(VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			 VIRTIO_S_DRIVER_OK);
	cr_assert(rd(VMMIO_STATUS) & VIRTIO_S_DRIVER_OK);
	post_rx_n(nrx);
}

/* Turns of the loop until it goes quiet; how many callbacks ran. */
static int pump(void)
{
	int n = 0, k;

	while ((k = tloop_run(D.loop, 10)) > 0 && n < 10000)
		n += k;
	return n;
}

/* The next packet the device put in an rx buffer (reposting one). */
static bool guest_recv(struct vsock_hdr *h, void *data, size_t max)
{
	uint32_t id, len;
	uint8_t *b;

	if (!tq_used(&D.q[RXQ], &id, &len))
		return false;
	cr_assert_geq(len, VSOCK_HDR_LEN);
	b = tmem_at(D.mem, RXBUF + id * RXSTRIDE);
	memcpy(h, b, VSOCK_HDR_LEN);
	cr_assert_eq(len, VSOCK_HDR_LEN + h->len, "used length matches the header");
	cr_assert_leq(h->len, max);
	if (data)
		memcpy(data, b + VSOCK_HDR_LEN, h->len);
	post_rx_n(1);
	return true;
}

static void guest_send_raw(const struct vsock_hdr *h, uint32_t hlen, const void *data,
			   uint32_t dlen)
{
	uint16_t head = D.q[TXQ].next_desc;
	uint64_t a[2] = { TXBUF + head * TXSTRIDE, TXBUF + head * TXSTRIDE + 64 };
	uint32_t l[2] = { hlen, dlen };

	memcpy(tmem_at(D.mem, a[0]), h, hlen < VSOCK_HDR_LEN ? hlen : VSOCK_HDR_LEN);
	if (dlen)
		memcpy(tmem_at(D.mem, a[1]), data, dlen);
	tq_chain(&D.q[TXQ], dlen ? 2 : 1, a, l, NULL);
	tq_publish(&D.q[TXQ], head);
	virtio_mmio_notify(D.t, TXQ);
	cr_assert(tq_used(&D.q[TXQ], NULL, NULL), "every tx chain is answered at once");
}

static void guest_send(uint16_t op, uint32_t hport, uint32_t flags, const void *data,
		       uint32_t len, uint32_t buf_alloc)
{
	struct vsock_hdr h = {
		.src_cid = 3, .dst_cid = 2, .src_port = D.gport, .dst_port = hport, .len = len,
		.type = VSOCK_TYPE_STREAM, .op = op, .flags = flags, .buf_alloc = buf_alloc,
		.fwd_cnt = D.fwd_cnt,
	};

	guest_send_raw(&h, VSOCK_HDR_LEN, data, len);
}

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(connect(fd, (struct sockaddr *)&D.addr, D.addr_len), 0);
	return fd;
}

/* Bytes from the client's socket within a short wait; 0 at EOF, -1 none. */
static ssize_t client_read(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 200) != 1)
		return -1;
	return read(fd, buf, len);
}

/* Closed by the device: EOF, or ECONNRESET when it left bytes unread. */
static bool client_closed(int fd)
{
	char buf[256];
	ssize_t n;

	while ((n = client_read(fd, buf, sizeof(buf))) > 0) {
	}
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void stats(struct vdev_vsock_stats *s)
{
	vdev_vsock_stats(D.dev, s);
}

/* CONNECT GPORT through the handshake; returns the client, *hport set. */
static int connect_open(uint32_t buf_alloc, uint32_t *hport)
{
	struct vsock_hdr h;
	char ok[32] = "", want[32];
	int fd = client();

	cr_assert_eq(write(fd, "CONNECT 1024\n", 13), 13);
	pump();
	cr_assert(guest_recv(&h, NULL, 0), "REQUEST reached the guest");
	cr_assert_eq(h.op, VSOCK_OP_REQUEST);
	cr_assert_eq(h.src_cid, 2);
	cr_assert_eq(h.dst_cid, 3);
	cr_assert_eq(h.dst_port, GPORT);
	cr_assert_eq(h.type, VSOCK_TYPE_STREAM);
	cr_assert_eq(h.buf_alloc, VSOCK_BUF);
	*hport = h.src_port;
	D.fwd_cnt = 0;
	guest_send(VSOCK_OP_RESPONSE, h.src_port, 0, NULL, 0, buf_alloc);
	pump();
	snprintf(want, sizeof(want), "OK %u\n", h.src_port);
	cr_assert_eq(client_read(fd, ok, strlen(want)), (ssize_t)strlen(want));
	cr_assert_str_eq(ok, want);
	return fd;
}

Test(vsock, identity_and_cid, .init = vs_dev, .fini = vs_free)
{
	uint64_t cid = 0;

	cr_assert_eq(rd(VMMIO_DEVICE_ID), 19);
	wr(VMMIO_DEV_FEATURES_SEL, 0);
	cr_assert_eq(rd(VMMIO_DEV_FEATURES) & ~(1u << VIRTIO_F_EVENT_IDX), 0, "no features");
	virtio_mmio_read(D.t, VMMIO_CONFIG, &cid, 8);
	cr_assert_eq(cid, 3);
}

Test(vsock, parse_connect)
{
	uint32_t p = 0;

	cr_assert_eq(vsock_parse_connect("CONNECT 1024\n", &p), 0);
	cr_assert_eq(p, 1024);
	cr_assert_eq(vsock_parse_connect("CONNECT 4294967295\n", &p), 0);
	cr_assert_eq(p, 4294967295u);
	cr_assert_eq(vsock_parse_connect("CONNECT 4294967296\n", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("CONNECT \n", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("CONNECT -1\n", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("CONNECT 12", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("CONNECT 12 \n", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("connect 12\n", &p), -EINVAL);
	cr_assert_eq(vsock_parse_connect("", &p), -EINVAL);
}

Test(vsock, reserved_cid_refused)
{
	const struct virtio_dev_ops *ops;
	struct vdev_vsock_cfg cfg = { .listen_fd = 0, .guest_cid = 2 };
	void *dev;

	cr_assert_eq(vdev_vsock_new(&cfg, NULL, &ops, &dev, &err), -EINVAL);
}

Test(vsock, only_a_listening_unix_socket)
{
	const struct virtio_dev_ops *ops;
	struct vdev_vsock_cfg cfg = { .guest_cid = 3 };
	int sv[2], p[2];
	void *dev;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe(p), 0);
	cfg.listen_fd = sv[0];   /* connected, not listening */
	cr_assert_eq(vdev_vsock_new(&cfg, NULL, &ops, &dev, &err), -EINVAL);
	cr_assert(strstr(err.msg, "not a listening"), "%s", err.msg);
	cfg.listen_fd = p[0];
	cr_assert_eq(vdev_vsock_new(&cfg, NULL, &ops, &dev, &err), -EINVAL);
	close(sv[0]), close(sv[1]), close(p[0]), close(p[1]);
}

Test(vsock, handshake_and_data_both_ways, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	char buf[64] = "";
	uint32_t hp;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	cr_assert_geq(hp, 1024u);
	cr_assert_eq(write(fd, "hello", 5), 5);
	pump();
	cr_assert(guest_recv(&h, buf, sizeof(buf)));
	cr_assert_eq(h.op, VSOCK_OP_RW);
	cr_assert_eq(h.src_port, hp);
	cr_assert_eq(h.len, 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	guest_send(VSOCK_OP_RW, hp, 0, "world!", 6, 65536);
	pump();
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(client_read(fd, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "world!");
	stats(&s);
	cr_assert_eq(s.connected, 1);
	cr_assert_eq(s.conns, 1);
	cr_assert_eq(s.rx_bytes, 5);
	cr_assert_eq(s.tx_bytes, 6);
	close(fd);
}

Test(vsock, request_waits_for_rx_buffers, .init = vs_dev, .fini = vs_free)
{
	struct vsock_hdr h;
	int fd;

	drv_init(0);
	fd = client();
	cr_assert_eq(write(fd, "CONNECT 1024\n", 13), 13);
	pump();
	cr_assert_not(guest_recv(&h, NULL, 0));
	cr_assert_eq(pump(), 0, "nothing spins while the guest gives no buffers");
	post_rx_n(2);
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_REQUEST);
	close(fd);
}

/* Never more than buf_alloc - (tx_cnt - fwd_cnt) in flight to the guest;
 * with no credit the client is not read at all. */
Test(vsock, guest_credit_respected, .init = vs_dev, .fini = vs_free)
{
	static char big[10000], got[10000];
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	uint32_t hp, total = 0;
	int fd;

	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	drv_init(NRX);
	fd = connect_open(4096, &hp);
	cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	pump();
	while (guest_recv(&h, got + total, sizeof(got) - total))
		total += h.len;
	cr_assert_eq(total, 4096, "exactly the guest's credit");
	cr_assert_eq(pump(), 0, "out of credit: the client is not watched");
	/* the guest read 1000 bytes and says so: 1000 more */
	D.fwd_cnt = 1000;
	guest_send(VSOCK_OP_CREDIT_UPDATE, hp, 0, NULL, 0, 4096);
	pump();
	while (guest_recv(&h, got + total, sizeof(got) - total))
		total += h.len;
	cr_assert_eq(total, 5096);
	/* a bigger buffer: the rest */
	D.fwd_cnt = total;
	guest_send(VSOCK_OP_CREDIT_UPDATE, hp, 0, NULL, 0, 65536);
	pump();
	while (guest_recv(&h, got + total, sizeof(got) - total))
		total += h.len;
	cr_assert_eq(total, sizeof(big));
	cr_assert_eq(memcmp(got, big, sizeof(big)), 0, "intact and in order");
	/* a guest that claims to have read more than it got gives no credit */
	D.fwd_cnt = total + 100000;
	guest_send(VSOCK_OP_CREDIT_UPDATE, hp, 0, NULL, 0, 100);
	cr_assert_eq(write(fd, "x", 1), 1);
	pump();
	cr_assert_not(guest_recv(&h, NULL, 0));
	stats(&s);
	cr_assert_eq(s.conns, 1);
	close(fd);
}

Test(vsock, credit_request_answered, .init = vs_dev, .fini = vs_free)
{
	struct vsock_hdr h;
	uint32_t hp;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	guest_send(VSOCK_OP_CREDIT_REQUEST, hp, 0, NULL, 0, 65536);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(h.buf_alloc, VSOCK_BUF);
	cr_assert_eq(h.fwd_cnt, 0);
	close(fd);
}

/* Guest -> host: data the client does not read waits (bounded by our
 * buf_alloc); consuming it sends a CREDIT_UPDATE; past credit is a RST. */
Test(vsock, host_credit_and_overrun, .init = vs_dev, .fini = vs_free)
{
	static char chunk[4096], sink[1 << 20];
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	uint32_t hp, sent = 0;
	uint32_t announced = 0;
	ssize_t n, got = 0;
	int fd;

	memset(chunk, 'z', sizeof(chunk));
	drv_init(NRX);
	fd = connect_open(65536, &hp);
	/* fill the client's socket buffer, then our VSOCK_BUF of ring */
	for (int i = 0; i < 512; i++) {
		guest_send(VSOCK_OP_RW, hp, 0, chunk, sizeof(chunk), 65536);
		sent += sizeof(chunk);
		stats(&s);
		if (s.tx_bytes + VSOCK_BUF < sent + sizeof(chunk))
			break;   /* the next chunk would exceed our advertised buffer */
	}
	stats(&s);
	cr_assert_lt(s.tx_bytes, sent, "the client's socket filled up");
	cr_assert_eq(s.conns, 1);
	/* the client reads everything: the ring drains, credit goes back */
	while ((n = client_read(fd, sink, sizeof(sink))) > 0 || pump() > 0)
		got += n > 0 ? n : 0;
	cr_assert_eq(got, (ssize_t)sent);
	while (guest_recv(&h, NULL, 0))
		if (h.op == VSOCK_OP_CREDIT_UPDATE && h.fwd_cnt > announced)
			announced = h.fwd_cnt;
	cr_assert_leq(announced, sent);
	cr_assert_gt(announced + VSOCK_BUF / 4, sent, "credit announced: %u of %u", announced,
		     sent);
	/* now overrun: more than VSOCK_BUF while the client does not read */
	for (int i = 0; i < 200; i++) {
		guest_send(VSOCK_OP_RW, hp, 0, chunk, sizeof(chunk), 65536);
		stats(&s);
		if (s.over_credit)
			break;
	}
	cr_assert_eq(s.over_credit, 1);
	pump();
	while (guest_recv(&h, NULL, 0) && h.op == VSOCK_OP_CREDIT_UPDATE) {
	}
	cr_assert_eq(h.op, VSOCK_OP_RST);
	stats(&s);
	cr_assert_eq(s.conns, 0, "the slot is free again");
	while ((n = client_read(fd, sink, sizeof(sink))) > 0) {
	}
	cr_assert_eq(n, 0, "the client sees EOF");
	close(fd);
}

Test(vsock, guest_refuses, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	int fd;

	drv_init(NRX);
	fd = client();
	cr_assert_eq(write(fd, "CONNECT 7\n", 10), 10);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.dst_port, 7);
	D.gport = 7;
	guest_send(VSOCK_OP_RST, h.src_port, 0, NULL, 0, 0);
	pump();
	cr_assert(client_closed(fd), "closed: no listener");
	cr_assert_not(guest_recv(&h, NULL, 0), "no RST back for a RST");
	stats(&s);
	cr_assert_eq(s.refused_by_guest, 1);
	cr_assert_eq(s.conns, 0);
	close(fd);
}

Test(vsock, connect_line_errors, .init = vs_dev, .fini = vs_free)
{
	static const char *const bad[] = {
		"CONNECT x\n", "HELLO 1024\n", "CONNECT 99999999999\n",
		"CONNECT 1024 1025 1026 1027 1028 1029 1030\n", "CONNECT 1024",
	};
	struct vdev_vsock_stats s;
	struct vsock_hdr h;

	drv_init(NRX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = client();

		cr_assert_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		if (!strchr(bad[i], '\n'))
			shutdown(fd, SHUT_WR);   /* EOF before the newline */
		pump();
		cr_assert(client_closed(fd), "closed after '%s'", bad[i]);
		close(fd);
	}
	cr_assert_not(guest_recv(&h, NULL, 0), "the guest heard of none");
	stats(&s);
	cr_assert_eq(s.bad_connect, 5);
	cr_assert_eq(s.conns, 0);
}

/* Data right behind the line is not swallowed by the line reader. */
Test(vsock, data_after_connect_line_kept, .init = vs_dev, .fini = vs_free)
{
	struct vsock_hdr h;
	char buf[16] = "";
	uint32_t hp;
	int fd = client();

	drv_init(NRX);
	cr_assert_eq(write(fd, "CONNECT 1024\nearly", 18), 18);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	hp = h.src_port;
	guest_send(VSOCK_OP_RESPONSE, hp, 0, NULL, 0, 65536);
	pump();
	cr_assert(guest_recv(&h, buf, sizeof(buf)));
	cr_assert_eq(h.op, VSOCK_OP_RW);
	cr_assert_eq(memcmp(buf, "early", 5), 0);
	close(fd);
}

Test(vsock, unknown_and_malformed_packets, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h, r;
	uint32_t hp;
	int fd;

	drv_init(NRX);
	/* RW to a connection that does not exist: RST, ports swapped */
	guest_send(VSOCK_OP_RW, 0x12345, 0, "abc", 3, 65536);
	cr_assert(guest_recv(&r, NULL, 0));
	cr_assert_eq(r.op, VSOCK_OP_RST);
	cr_assert_eq(r.src_port, 0x12345);
	cr_assert_eq(r.dst_port, GPORT);
	cr_assert_eq(r.src_cid, 2);
	cr_assert_eq(r.dst_cid, 3);
	/* a connection from the guest to the host: refused */
	guest_send(VSOCK_OP_REQUEST, 5000, 0, NULL, 0, 65536);
	cr_assert(guest_recv(&r, NULL, 0));
	cr_assert_eq(r.op, VSOCK_OP_RST);
	/* a RST for nothing gets nothing */
	guest_send(VSOCK_OP_RST, 5000, 0, NULL, 0, 0);
	cr_assert_not(guest_recv(&r, NULL, 0));
	/* wrong CIDs: not ours to answer */
	h = (struct vsock_hdr){ .src_cid = 4, .dst_cid = 2, .src_port = 1, .dst_port = 2,
				.type = 1, .op = VSOCK_OP_RW };
	guest_send_raw(&h, VSOCK_HDR_LEN, NULL, 0);
	h.src_cid = 3, h.dst_cid = 7;
	guest_send_raw(&h, VSOCK_HDR_LEN, NULL, 0);
	/* shorter than a header */
	guest_send_raw(&h, 20, NULL, 0);
	cr_assert_not(guest_recv(&r, NULL, 0));
	/* on a live connection: len past the descriptor, then a wrong type */
	fd = connect_open(65536, &hp);
	h = (struct vsock_hdr){ .src_cid = 3, .dst_cid = 2, .src_port = GPORT, .dst_port = hp,
				.type = 1, .op = VSOCK_OP_RW, .len = 1000, .buf_alloc = 65536 };
	guest_send_raw(&h, VSOCK_HDR_LEN, "xy", 2);
	pump();
	cr_assert(guest_recv(&r, NULL, 0));
	cr_assert_eq(r.op, VSOCK_OP_RST, "the connection is reset");
	cr_assert_eq(client_read(fd, &r, 1), 0);
	close(fd);
	fd = connect_open(65536, &hp);
	h.dst_port = hp, h.len = 0, h.type = 2 /* SEQPACKET */;
	guest_send_raw(&h, VSOCK_HDR_LEN, NULL, 0);
	pump();
	cr_assert(guest_recv(&r, NULL, 0));
	cr_assert_eq(r.op, VSOCK_OP_RST);
	cr_assert_eq(client_read(fd, &r, 1), 0);
	close(fd);
	stats(&s);
	cr_assert_eq(s.tx_bad, 5);
	cr_assert_eq(s.conns, 0);
}

Test(vsock, shutdown_both_ways, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	char buf[8];
	uint32_t hp;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	/* client EOF -> SHUTDOWN(SEND) */
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_SHUTDOWN);
	cr_assert_eq(h.flags, VSOCK_SHUTDOWN_SEND);
	/* the guest still talks, then shuts down its sending side */
	guest_send(VSOCK_OP_RW, hp, 0, "bye", 3, 65536);
	guest_send(VSOCK_OP_SHUTDOWN, hp, VSOCK_SHUTDOWN_SEND, NULL, 0, 65536);
	pump();
	cr_assert_eq(client_read(fd, buf, sizeof(buf)), 3);
	cr_assert_eq(client_read(fd, buf, sizeof(buf)), 0, "EOF after the guest's SHUTDOWN");
	/* both sides done: the guest gets a RST, the slot is free */
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_RST);
	stats(&s);
	cr_assert_eq(s.conns, 0);
	close(fd);
}

Test(vsock, guest_close_first, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	char buf[8];
	uint32_t hp;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	guest_send(VSOCK_OP_RW, hp, 0, "last", 4, 65536);
	guest_send(VSOCK_OP_SHUTDOWN, hp, VSOCK_SHUTDOWN_SEND | VSOCK_SHUTDOWN_RCV, NULL, 0,
		   65536);
	pump();
	cr_assert_eq(client_read(fd, buf, sizeof(buf)), 4);
	cr_assert_eq(client_read(fd, buf, sizeof(buf)), 0);
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_RST);
	/* the guest's own RST, late, finds nothing and gets nothing */
	guest_send(VSOCK_OP_RST, hp, 0, NULL, 0, 0);
	cr_assert_not(guest_recv(&h, NULL, 0));
	stats(&s);
	cr_assert_eq(s.conns, 0);
	close(fd);
}

Test(vsock, client_hangup_resets_guest, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	struct vsock_hdr h;
	uint32_t hp;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	close(fd);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_SHUTDOWN);
	/* guest data for a client that is gone: a RST */
	guest_send(VSOCK_OP_RW, hp, 0, "late", 4, 65536);
	pump();
	cr_assert(guest_recv(&h, NULL, 0));
	cr_assert_eq(h.op, VSOCK_OP_RST);
	stats(&s);
	cr_assert_eq(s.conns, 0);
}

Test(vsock, connection_limit, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	int fds[VSOCK_MAX_CONNS + 1];
	char c;

	drv_init(NRX);
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		fds[i] = client();
		pump();
	}
	fds[VSOCK_MAX_CONNS] = client();
	pump();
	cr_assert_eq(client_read(fds[VSOCK_MAX_CONNS], &c, 1), 0, "one too many: closed");
	stats(&s);
	cr_assert_eq(s.conns, VSOCK_MAX_CONNS);
	cr_assert_eq(s.refused, 1);
	for (int i = 0; i <= VSOCK_MAX_CONNS; i++)
		close(fds[i]);
	pump();
	stats(&s);
	cr_assert_eq(s.conns, 0, "clients that leave before CONNECT free their slot");
}

/* A device reset (the guest rebooting its driver) closes every client. */
Test(vsock, reset_closes_clients, .init = vs_dev, .fini = vs_free)
{
	struct vdev_vsock_stats s;
	uint32_t hp;
	char c;
	int fd;

	drv_init(NRX);
	fd = connect_open(65536, &hp);
	wr(VMMIO_STATUS, 0);
	cr_assert_eq(client_read(fd, &c, 1), 0);
	stats(&s);
	cr_assert_eq(s.conns, 0);
	close(fd);
}

#define NBAD (VSOCK_RST_MAX + 16)
_Static_assert(NBAD <= QSIZE, "fits the tx ring");

/* Many RST replies and no rx buffers: the tx queue is left alone (never
 * a reply dropped, never unbounded), and resumes when buffers come. */
Test(vsock, rst_replies_bounded, .init = vs_dev, .fini = vs_free)
{
	struct vsock_hdr h = { .src_cid = 3, .dst_cid = 2, .src_port = GPORT, .type = 1,
			       .op = VSOCK_OP_RW };
	uint16_t heads[NBAD];
	unsigned answered = 0, rsts = 0;

	drv_init(0);
	for (unsigned i = 0; i < NBAD; i++) {
		uint16_t head = D.q[TXQ].next_desc;
		uint64_t a = TXBUF + head * TXSTRIDE;
		uint32_t l = VSOCK_HDR_LEN;

		h.dst_port = 100 + i;
		memcpy(tmem_at(D.mem, a), &h, sizeof(h));
		heads[i] = tq_chain(&D.q[TXQ], 1, &a, &l, NULL);
	}
	for (unsigned i = 0; i < NBAD; i++)
		tq_publish(&D.q[TXQ], heads[i]);
	virtio_mmio_notify(D.t, TXQ);
	while (tq_used(&D.q[TXQ], NULL, NULL))
		answered++;
	cr_assert_eq(answered, VSOCK_RST_MAX, "the rest wait in the ring");
	cr_assert_eq(pump(), 0);
	post_rx_n(NRX);
	for (int i = 0; i < 100 && rsts < NBAD; i++) {
		while (guest_recv(&h, NULL, 0)) {
			cr_assert_eq(h.op, VSOCK_OP_RST);
			rsts++;
		}
		virtio_mmio_notify(D.t, RXQ);
	}
	while (tq_used(&D.q[TXQ], NULL, NULL))
		answered++;
	cr_assert_eq(answered, NBAD);
	cr_assert_eq(rsts, NBAD, "every packet answered, in the end");
}

/* The container side of the contract: vm_plan_vsock makes
 * <state dir>/vsock.sock, vm_vsock_connect does the client's handshake. */
static void fake_vmm(int lfd, const char *reply)
{
	char line[32] = "";
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	size_t n = 0;

	while (c >= 0 && n < sizeof(line) - 1 && read(c, line + n, 1) == 1 && line[n++] != '\n') {
	}
	if (c < 0 || strcmp(line, "CONNECT 1024\n"))
		_exit(1);
	if (reply && write(c, reply, strlen(reply)) < 0)
		_exit(1);
	_exit(0);
}

Test(vsock, state_dir_socket_and_connect)
{
	char root[] = "/tmp/hull-vsock-XXXXXX", dir[64], path[128], buf[8] = "";
	struct vm_plan vp;
	struct stat st;
	int dfd, fd, status;
	pid_t pid;

	cr_assert(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/ct1", root);
	cr_assert_eq(mkdir(dir, 0711), 0);
	dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
	vm_plan_init(&vp);
	cr_assert_eq(vm_plan_vsock(&vp, dfd, &err), 0, "%s", err.msg);
	cr_assert_eq(vm_vsock_path(root, "ct1", path, sizeof(path)), 0);
	cr_assert_eq(vm_vsock_path(root, "ct1", buf, sizeof(buf)), -ENAMETOOLONG);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert(vsock_is_listener(vp.vsock_fd), "the VMM will take it");
	/* OK, then the stream's own bytes, which the handshake leaves alone */
	pid = fork();
	if (pid == 0)
		fake_vmm(vp.vsock_fd, "OK 1073741824\nhi");
	fd = vm_vsock_connect(root, "ct1", 1024, 5000, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	cr_assert_eq(read(fd, buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "hi");
	close(fd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(status, 0);
	/* closed without OK: nothing listens in the guest */
	pid = fork();
	if (pid == 0)
		fake_vmm(vp.vsock_fd, NULL);
	cr_assert_eq(vm_vsock_connect(root, "ct1", 1024, 5000, &err), -ECONNREFUSED);
	waitpid(pid, &status, 0);
	/* no such container; a container whose VMM is gone */
	cr_assert_eq(vm_vsock_connect(root, "nope", 1024, 5000, &err), -ENOENT);
	vm_plan_clear(&vp);
	cr_assert_eq(vm_vsock_connect(root, "ct1", 1024, 5000, &err), -ENOENT, "%s", err.msg);
	unlink(path);
	rmdir(dir);
	rmdir(root);
	close(dfd);
}
