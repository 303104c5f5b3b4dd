/* virtio-vsock (virtio 1.x section 5.10): stream sockets between the guest
 * (CID 3 by default) and the host, exposed on the host as a listening
 * AF_UNIX socket in the style of Firecracker's "hybrid vsock":
 *
 *   client -> "CONNECT <port>\n"   the device sends REQUEST to guest:<port>
 *   guest  -> RESPONSE             the client reads "OK <hostport>\n",
 *                                  then bytes flow both ways
 *   guest  -> RST                  the client is closed (no listener)
 *
 * Only host-initiated connections exist: a REQUEST from the guest is
 * answered with RST.  The VMM runs jailed (no capabilities, a seccomp
 * filter without socket/connect), so it has nowhere to forward one.
 *
 * Flow control, both ways, by the credit rules of the spec:
 * - host -> guest: data is read from the client straight into a guest rx
 *   buffer, never more than the guest's buf_alloc - (tx_cnt - fwd_cnt).
 *   The client fd is watched for EPOLLIN only while the guest has credit
 *   and rx buffers, so nothing is read that cannot be delivered.
 * - guest -> host: we advertise VSOCK_BUF bytes.  Guest data is written
 *   to the client at once; what the client does not take waits in a ring
 *   of VSOCK_BUF bytes (EPOLLOUT is watched only then).  A guest that
 *   sends past its credit is reset.  fwd_cnt counts bytes handed to the
 *   client; a CREDIT_UPDATE goes out once enough was consumed.
 *
 * Memory is bounded: VSOCK_MAX_CONNS slots of at most VSOCK_BUF bytes, and
 * a fixed queue of RST replies; when that queue is full the tx queue is
 * left alone until the guest gives rx buffers (backpressure, no drops).
 *
 * Control packets (REQUEST, CREDIT_UPDATE, SHUTDOWN, RST) are pending bits
 * on the connection until an rx buffer takes them.  The event queue is
 * never used (no migration). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "microvm/virtio_int.h"
#include "microvm/vsock_int.h"

#define RXQ 0
#define TXQ 1
#define EVQ 2

#define PEND_REQUEST  1u
#define PEND_CREDIT   2u
#define PEND_SHUTDOWN 4u
#define PEND_RST      8u

#define RX_BURST 16
#define FIRST_HOST_PORT 0x40000000u

enum conn_state { C_FREE, C_LINE, C_REQ, C_OPEN, C_DEAD };

struct vconn {
	struct vdev_vsock *dev;
	enum conn_state st;
	int fd;                     /* the unix client, non-blocking; -1 once closed */
	uint32_t events;            /* what the loop watches; 0: not registered */
	uint32_t host_port, guest_port;
	char line[VSOCK_LINE_MAX];
	unsigned line_len;
	unsigned pend;              /* PEND_*: control packets owed to the guest */
	bool req_sent;              /* the guest knows the connection: RST on abort */
	bool eof_in;                /* the client sent EOF: SHUTDOWN(SEND) owed/sent */
	bool g_no_send, g_no_rcv;   /* the guest's SHUTDOWN flags */
	bool wr_shut;               /* shutdown(SHUT_WR) done on the client */
	/* host -> guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* guest -> host: rx_cnt - fwd_cnt bytes wait in buf */
	uint32_t rx_cnt, fwd_cnt, fwd_sent;
	uint8_t *buf;
};

struct rst_reply {
	uint32_t host_port, guest_port;
};

struct vdev_vsock {
	int lfd;                    /* the listening socket, non-blocking */
	bool listening;
	struct vm_loop *loop;
	struct virtio_mmio *t;
	uint64_t cid;
	bool rx_starved;            /* the rx ring was found empty: wait for a kick */
	bool tx_blocked;            /* tx left alone until RST replies drain */
	bool rx_pushed;
	uint32_t next_port;
	struct rst_reply rst[VSOCK_RST_MAX];
	unsigned n_rst;
	struct vconn c[VSOCK_MAX_CONNS];
	struct vdev_vsock_stats stats;
};

static void conn_cb(void *arg, uint32_t events);
static void conn_update(struct vdev_vsock *v, struct vconn *c);
static void flush_ctrl(struct vdev_vsock *v);


/* ---- connection slots ------------------------------------------------- */

static uint32_t buffered(const struct vconn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

/* What the guest can still take; 0 for a guest whose counters make no sense. */
static uint32_t peer_credit(const struct vconn *c)
{
	int64_t in_flight = (uint32_t)(c->tx_cnt - c->peer_fwd_cnt);
	int64_t credit = (int64_t)c->peer_buf_alloc - in_flight;

	return credit > 0 ? (uint32_t)credit : 0;
}

static void conn_free(struct vdev_vsock *v, struct vconn *c)
{
	if (c->events)
		vm_loop_del(v->loop, c->fd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	*c = (struct vconn){ .dev = v, .st = C_FREE, .fd = -1 };
}

/* The client is done with: close it; the slot goes once no RST is owed. */
static void conn_close_fd(struct vdev_vsock *v, struct vconn *c)
{
	if (c->events)
		vm_loop_del(v->loop, c->fd);
	c->events = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (!(c->pend & PEND_RST))
		conn_free(v, c);
}

/* Abortive end: client closed at once; the guest gets a RST if it knew. */
static void conn_abort(struct vdev_vsock *v, struct vconn *c)
{
	c->st = C_DEAD;
	c->pend = c->req_sent ? PEND_RST : 0;
	c->rx_cnt = c->fwd_cnt;   /* buffered guest data is dropped */
	conn_close_fd(v, c);
}

/* Orderly end once both sides are finished: RST closes the guest's side;
 * data still buffered for the client is written out first. */
static void conn_finish(struct vdev_vsock *v, struct vconn *c)
{
	c->st = C_DEAD;
	c->pend = PEND_RST;
	if (buffered(c) == 0)
		conn_close_fd(v, c);
	else
		conn_update(v, c);
}

static bool port_used(const struct vdev_vsock *v, uint32_t port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE && v->c[i].host_port == port)
			return true;
	return false;
}

static uint32_t alloc_port(struct vdev_vsock *v)
{
	do {
		if (++v->next_port < FIRST_HOST_PORT || v->next_port == UINT32_MAX)
			v->next_port = FIRST_HOST_PORT;
	} while (port_used(v, v->next_port));
	return v->next_port;
}

static struct vconn *conn_find(struct vdev_vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->c[i];

		if (c->st >= C_REQ && c->host_port == host_port && c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

/* Events the client fd should be watched for, by the rules at the top. */
static uint32_t conn_want(const struct vdev_vsock *v, const struct vconn *c)
{
	uint32_t ev = 0;

	if (c->fd < 0)
		return 0;
	if (c->st == C_LINE)
		return EPOLLIN;
	if (c->st == C_OPEN && !c->eof_in && !c->g_no_rcv && !v->rx_starved && peer_credit(c))
		ev |= EPOLLIN;
	if ((c->st == C_OPEN || c->st == C_DEAD) && buffered(c))
		ev |= EPOLLOUT;
	return ev;
}

/* An fd watched for nothing is taken out of the loop altogether: a level-
 * triggered EPOLLHUP would otherwise wake us while we wait for credit. */
static void conn_update(struct vdev_vsock *v, struct vconn *c)
{
	uint32_t want = conn_want(v, c);
	struct rt_err err;

	if (want == c->events)
		return;
	if (!want)
		vm_loop_del(v->loop, c->fd);
	else if (!c->events && vm_loop_add(v->loop, c->fd, want, conn_cb, c, &err) < 0)
		want = 0, conn_abort(v, c);    /* the loop is full */
	else if (c->events)
		vm_loop_mod(v->loop, c->fd, want);
	if (c->st != C_FREE)
		c->events = want;
}

static void update_all(struct vdev_vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE)
			conn_update(v, &v->c[i]);
}

/* ---- packets to the guest (rx queue) ---------------------------------- */

static void hdr_for(const struct vdev_vsock *v, struct vconn *c, uint16_t op,
		    struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = v->cid, .src_port = c->host_port,
		.dst_port = c->guest_port, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_BUF, .fwd_cnt = c->fwd_cnt,
	};
	c->fwd_sent = c->fwd_cnt;
	c->pend &= ~PEND_CREDIT;   /* every header carries the credit */
}

/* An rx chain with room for a header, or false (rx_starved set). */
static bool rx_pop(struct vdev_vsock *v, struct virtq **qp, struct virtq_chain *ch)
{
	struct virtq *q = v->t ? virtio_mmio_queue(v->t, RXQ) : NULL;
	struct rt_err err;

	while (q && virtq_pop(q, ch, &err) == 1) {
		if (ch->in_len >= VSOCK_HDR_LEN) {
			*qp = q;
			return true;
		}
		v->stats.rx_bad_chains++;      /* useless to us, but answered */
		virtq_push(q, ch->head, 0);
		v->rx_pushed = true;
	}
	v->rx_starved = true;
	return false;
}

static bool rx_send_hdr(struct vdev_vsock *v, const struct vsock_hdr *h)
{
	struct virtq_chain ch;
	struct virtq *q;

	if (!rx_pop(v, &q, &ch))
		return false;
	iov_from_buf(ch.iov + ch.n_out, ch.n_in, 0, h, VSOCK_HDR_LEN);
	virtq_push(q, ch.head, VSOCK_HDR_LEN);
	v->rx_pushed = true;
	v->stats.rx_pkts++;
	if (h->op == VSOCK_OP_RST)
		v->stats.rst_sent++;
	return true;
}

/* The connection's owed control packets, in protocol order. */
static bool flush_conn(struct vdev_vsock *v, struct vconn *c)
{
	static const struct { unsigned bit; uint16_t op; uint32_t flags; } order[] = {
		{ PEND_REQUEST, VSOCK_OP_REQUEST, 0 },
		{ PEND_CREDIT, VSOCK_OP_CREDIT_UPDATE, 0 },
		{ PEND_SHUTDOWN, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_SEND },
		{ PEND_RST, VSOCK_OP_RST, 0 },
	};
	struct vsock_hdr h;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->pend & order[i].bit))
			continue;
		hdr_for(v, c, order[i].op, &h);
		h.flags = order[i].flags;
		if (!rx_send_hdr(v, &h))
			return false;
		c->pend &= ~order[i].bit;
		if (order[i].bit == PEND_REQUEST)
			c->req_sent = true;
	}
	if (c->st == C_DEAD && c->fd < 0)
		conn_free(v, c);
	return true;
}

static void flush_ctrl(struct vdev_vsock *v)
{
	while (v->n_rst) {
		struct rst_reply *r = &v->rst[v->n_rst - 1];
		struct vsock_hdr h = {
			.src_cid = VSOCK_HOST_CID, .dst_cid = v->cid, .src_port = r->host_port,
			.dst_port = r->guest_port, .type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
		};

		if (!rx_send_hdr(v, &h))
			return;
		v->n_rst--;
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE && v->c[i].pend && !flush_conn(v, &v->c[i]))
			return;
}

static void rx_signal(struct vdev_vsock *v)
{
	if (v->rx_pushed && v->t)
		virtio_mmio_signal(v->t, RXQ);
	v->rx_pushed = false;
}

/* Client bytes into one rx buffer; false when nothing more can be read now. */
static bool rx_data(struct vdev_vsock *v, struct vconn *c)
{
	struct iovec io[VIRTQ_CHAIN_MAX];
	struct virtq_chain ch;
	struct vsock_hdr h;
	struct virtq *q;
	uint64_t room;
	ssize_t r;
	int k;

	if (!rx_pop(v, &q, &ch))
		return false;
	room = ch.in_len - VSOCK_HDR_LEN;
	if (!room) {       /* a header-only buffer carries no data: answered empty */
		v->stats.rx_bad_chains++;
		virtq_push(q, ch.head, 0);
		v->rx_pushed = true;
		return true;
	}
	if (room > VSOCK_MAX_PKT)
		room = VSOCK_MAX_PKT;
	if (room > peer_credit(c))
		room = peer_credit(c);
	k = iov_slice(ch.iov + ch.n_out, ch.n_in, VSOCK_HDR_LEN, room, io, VIRTQ_CHAIN_MAX);
	if (k <= 0 || !room) {   /* no credit: the caller checked; never reached */
		virtq_unpop(q);
		return false;
	}
	do
		r = readv(c->fd, io, k);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		virtq_unpop(q);
		if (r == 0) {
			c->eof_in = true;
			c->pend |= PEND_SHUTDOWN;
		} else if (errno != EAGAIN) {
			conn_abort(v, c);
		}
		return false;
	}
	hdr_for(v, c, VSOCK_OP_RW, &h);
	h.len = (uint32_t)r;
	iov_from_buf(ch.iov + ch.n_out, ch.n_in, 0, &h, VSOCK_HDR_LEN);
	virtq_push(q, ch.head, (uint32_t)(VSOCK_HDR_LEN + (size_t)r));
	v->rx_pushed = true;
	v->stats.rx_pkts++;
	v->stats.rx_bytes += (uint64_t)r;
	c->tx_cnt += (uint32_t)r;
	return true;
}

/* ---- the client side --------------------------------------------------- */

/* Guest bytes waiting in the ring, out to the client. */
static void drain_to_client(struct vdev_vsock *v, struct vconn *c)
{
	while (buffered(c)) {
		uint32_t off = c->fwd_cnt % VSOCK_BUF, n = buffered(c);
		struct iovec io[2] = { { c->buf + off, n } };
		int k = 1;
		ssize_t r;

		if (off + n > VSOCK_BUF) {
			io[0].iov_len = VSOCK_BUF - off;
			io[1] = (struct iovec){ c->buf, n - io[0].iov_len };
			k = 2;
		}
		do
			r = writev(c->fd, io, k);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			conn_abort(v, c);   /* the client is gone: EPIPE */
			return;
		}
		c->fwd_cnt += (uint32_t)r;
		v->stats.tx_bytes += (uint64_t)r;
	}
}

/* A CREDIT_UPDATE once a quarter of the buffer was consumed unannounced,
 * or as soon as anything was when the guest believes it has little left. */
static void maybe_credit(struct vconn *c)
{
	uint32_t unannounced = c->fwd_cnt - c->fwd_sent;
	uint32_t guest_view = VSOCK_BUF - (c->rx_cnt - c->fwd_sent);

	if (c->st != C_OPEN || c->g_no_send || !unannounced)
		return;
	if (unannounced >= VSOCK_BUF / 4 || guest_view < VSOCK_BUF / 4)
		c->pend |= PEND_CREDIT;
}

/* After progress: shut the client's write side when the guest will send
 * no more, and end the connection when both sides are done. */
static void conn_progress(struct vdev_vsock *v, struct vconn *c)
{
	if (c->st == C_DEAD) {
		if (c->fd >= 0 && !buffered(c))
			conn_close_fd(v, c);
		return;
	}
	if (c->st != C_OPEN)
		return;
	if (c->g_no_send && !buffered(c) && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (c->g_no_send && c->g_no_rcv)
		conn_finish(v, c);
	else if (c->g_no_send && c->eof_in && !(c->pend & PEND_SHUTDOWN) && !buffered(c))
		conn_finish(v, c);
	else
		maybe_credit(c);
}

/* "CONNECT <port>\n": read a byte at a time so that nothing after the
 * line (the client may send data at once) is taken out of the socket. */
static void read_line(struct vdev_vsock *v, struct vconn *c)
{
	char ch;
	ssize_t r;

	for (;;) {
		r = read(c->fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0 || c->line_len >= VSOCK_LINE_MAX - 1)
			break;    /* EOF, error, or a line too long: close */
		c->line[c->line_len++] = ch;
		if (ch != '\n')
			continue;
		c->line[c->line_len] = 0;
		if (vsock_parse_connect(c->line, &c->guest_port) < 0)
			break;
		c->st = C_REQ;
		c->host_port = alloc_port(v);
		c->pend = PEND_REQUEST;
		return;
	}
	v->stats.bad_connect++;
	conn_abort(v, c);
}

static void conn_io(struct vdev_vsock *v, struct vconn *c, uint32_t events)
{
	if (c->st == C_LINE) {
		read_line(v, c);
		return;
	}
	if (events & EPOLLERR) {
		conn_abort(v, c);
		return;
	}
	if (events & EPOLLOUT)
		drain_to_client(v, c);
	for (int i = 0; i < RX_BURST && c->st == C_OPEN && (events & (EPOLLIN | EPOLLHUP)) &&
			conn_want(v, c) & EPOLLIN; i++)
		if (!rx_data(v, c))
			break;
	if (c->st != C_FREE)
		conn_progress(v, c);
}

/* Every entry point ends here: owed packets out, watches recomputed. */
static void settle(struct vdev_vsock *v)
{
	flush_ctrl(v);
	update_all(v);
	rx_signal(v);
}

static void conn_cb(void *arg, uint32_t events)
{
	struct vconn *c = arg;
	struct vdev_vsock *v = c->dev;

	virtio_mmio_lock(v->t);
	if (c->st != C_FREE && c->fd >= 0)
		conn_io(v, c, events);
	settle(v);
	virtio_mmio_unlock(v->t);
}

static void accept_one(struct vdev_vsock *v, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->c[i];

		if (c->st != C_FREE)
			continue;
		*c = (struct vconn){ .dev = v, .st = C_LINE, .fd = fd };
		v->stats.accepted++;
		conn_update(v, c);
		return;
	}
	v->stats.refused++;   /* all slots taken: the client sees EOF at once */
	close(fd);
}

static void listen_cb(void *arg, uint32_t events)
{
	struct vdev_vsock *v = arg;

	(void)events;
	virtio_mmio_lock(v->t);
	for (int i = 0; i < 8; i++) {
		int fd = accept4(v->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		accept_one(v, fd);
	}
	settle(v);
	virtio_mmio_unlock(v->t);
}

static void listen_watch(struct vdev_vsock *v, bool on)
{
	struct rt_err err;

	if (v->listening == on || v->lfd < 0)
		return;
	if (on)
		v->listening = vm_loop_add(v->loop, v->lfd, EPOLLIN, listen_cb, v, &err) == 0;
	else
		vm_loop_del(v->loop, v->lfd), v->listening = false;
}

/* ---- packets from the guest (tx queue) --------------------------------- */

static void queue_rst(struct vdev_vsock *v, const struct vsock_hdr *h)
{
	if (h->op == VSOCK_OP_RST || v->n_rst >= VSOCK_RST_MAX)
		return;   /* never answer a RST; a full queue was checked before the pop */
	v->rst[v->n_rst++] = (struct rst_reply){ .host_port = h->dst_port,
						 .guest_port = h->src_port };
}

/* RW: straight to the client while nothing waits, the rest into the ring. */
static void guest_data(struct vdev_vsock *v, struct vconn *c, const struct virtq_chain *ch,
		       uint32_t len)
{
	uint32_t done = 0, off;

	if (c->g_no_send || len > VSOCK_BUF - buffered(c)) {
		v->stats.over_credit += !c->g_no_send;
		conn_abort(v, c);         /* past its credit, or after its SHUTDOWN */
		return;
	}
	if (!buffered(c) && len) {
		struct iovec io[VIRTQ_CHAIN_MAX];
		int k = iov_slice(ch->iov, ch->n_out, VSOCK_HDR_LEN, len, io, VIRTQ_CHAIN_MAX);
		ssize_t r;

		do
			r = k > 0 ? writev(c->fd, io, k) : 0;
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			conn_abort(v, c);
			return;
		}
		done = r > 0 ? (uint32_t)r : 0;
		v->stats.tx_bytes += done;
	}
	if (done < len && !c->buf && !(c->buf = malloc(VSOCK_BUF))) {
		conn_abort(v, c);
		return;
	}
	c->rx_cnt += done;
	c->fwd_cnt += done;
	while (done < len) {
		uint32_t n;

		off = c->rx_cnt % VSOCK_BUF;
		n = len - done < VSOCK_BUF - off ? len - done : VSOCK_BUF - off;
		iov_to_buf(ch->iov, ch->n_out, VSOCK_HDR_LEN + done, c->buf + off, n);
		c->rx_cnt += n;
		done += n;
	}
}

static void guest_open_pkt(struct vdev_vsock *v, struct vconn *c, const struct vsock_hdr *h,
			   const struct virtq_chain *ch)
{
	switch (h->op) {
	case VSOCK_OP_RW:
		guest_data(v, c, ch, h->len);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;    /* the header's credit was taken already */
	case VSOCK_OP_CREDIT_REQUEST:
		c->pend |= PEND_CREDIT;
		break;
	case VSOCK_OP_SHUTDOWN:
		c->g_no_rcv |= !!(h->flags & VSOCK_SHUTDOWN_RCV);
		c->g_no_send |= !!(h->flags & VSOCK_SHUTDOWN_SEND);
		break;
	case VSOCK_OP_RST:
		c->req_sent = false;      /* nothing owed back */
		conn_abort(v, c);
		break;
	default:                          /* REQUEST/RESPONSE on an open stream */
		conn_abort(v, c);
		break;
	}
	if (c->st != C_FREE)
		conn_progress(v, c);
}

static void guest_response(struct vdev_vsock *v, struct vconn *c, const struct vsock_hdr *h)
{
	char ok[32];
	int n;

	if (h->op != VSOCK_OP_RESPONSE) {
		if (h->op == VSOCK_OP_RST)
			c->req_sent = false;      /* no listener: the client just closes */
		v->stats.refused_by_guest += h->op == VSOCK_OP_RST;
		conn_abort(v, c);
		return;
	}
	/* Nothing was written to the client yet: a line this short fits. */
	n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
	if (write(c->fd, ok, (size_t)n) != n) {
		conn_abort(v, c);
		return;
	}
	c->st = C_OPEN;
	v->stats.connected++;
}

static void guest_pkt(struct vdev_vsock *v, const struct virtq_chain *ch)
{
	struct vsock_hdr h;
	struct vconn *c;

	if (ch->out_len < VSOCK_HDR_LEN) {
		v->stats.tx_bad++;
		return;
	}
	iov_to_buf(ch->iov, ch->n_out, 0, &h, VSOCK_HDR_LEN);
	v->stats.tx_pkts++;
	/* Not from our guest or not for us: nobody to answer. */
	if (h.src_cid != v->cid || h.dst_cid != VSOCK_HOST_CID) {
		v->stats.tx_bad++;
		return;
	}
	c = conn_find(v, h.dst_port, h.src_port);
	if (h.type != VSOCK_TYPE_STREAM || h.len > ch->out_len - VSOCK_HDR_LEN ||
	    (h.op != VSOCK_OP_RW && h.len)) {
		v->stats.tx_bad++;
		if (c && c->st != C_DEAD)
			conn_abort(v, c);
		else
			queue_rst(v, &h);
		return;
	}
	if (!c || c->st == C_DEAD) {
		/* Unknown (a REQUEST from the guest too: refused), or ending. */
		if (c && h.op == VSOCK_OP_RST)
			c->pend &= ~PEND_RST;
		else if (!c)
			queue_rst(v, &h);
		if (c && c->fd < 0 && !c->pend)
			conn_free(v, c);
		return;
	}
	if (!c->req_sent)
		return;   /* impossible for a well-behaved guest: it has not heard of it */
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	if (c->st == C_REQ)
		guest_response(v, c, &h);
	else
		guest_open_pkt(v, c, &h, ch);
}

static void tx_process(struct vdev_vsock *v)
{
	struct virtq *q = virtio_mmio_queue(v->t, TXQ);
	struct virtq_chain ch;
	struct rt_err err;
	bool pushed = false;

	v->tx_blocked = false;
	while (q) {
		if (v->n_rst >= VSOCK_RST_MAX) {
			v->tx_blocked = true;   /* replies first: an rx kick resumes us */
			break;
		}
		if (virtq_pop(q, &ch, &err) != 1)
			break;
		guest_pkt(v, &ch);
		virtq_push(q, ch.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(v->t, TXQ);
}

/* ---- device ops ---------------------------------------------------------- */

static void vsock_notify(void *dev, struct virtio_mmio *t, uint16_t qi)
{
	struct vdev_vsock *v = dev;

	v->t = t;
	if (qi == RXQ) {
		v->rx_starved = false;
		flush_ctrl(v);
		if (v->tx_blocked)
			tx_process(v);
	} else if (qi == TXQ) {
		tx_process(v);
	}
	settle(v);
}

static void vsock_activate(void *dev, struct virtio_mmio *t)
{
	struct vdev_vsock *v = dev;

	v->t = t;
	v->rx_starved = false;
	listen_watch(v, true);
	settle(v);
}

/* A reset guest forgets every connection: their clients are closed. */
static void vsock_reset(void *dev)
{
	struct vdev_vsock *v = dev;

	listen_watch(v, false);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE)
			conn_free(v, &v->c[i]);
	v->n_rst = 0;
	v->tx_blocked = v->rx_pushed = false;
}

static void vsock_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vdev_vsock *v = dev;
	uint8_t cfg[8];

	memcpy(cfg, &v->cid, sizeof(cfg));   /* le64 guest_cid; the host is little-endian */
	memcpy(buf, cfg + off, len);
}

static void vsock_destroy(void *dev)
{
	struct vdev_vsock *v = dev;

	if (!v)
		return;
	vsock_reset(v);
	if (v->lfd >= 0)
		close(v->lfd);
	free(v);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "vsock",
	.device_id = 19,
	.features = 0,
	.num_queues = 3,
	.queue_max = 256,
	.config_size = 8,
	.config_read = vsock_config_read,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.notify = vsock_notify,
	.destroy = vsock_destroy,
};

int vsock_parse_connect(const char *line, uint32_t *port)
{
	const char *p = line + 8;
	uint64_t n = 0;

	if (strncmp(line, "CONNECT ", 8) || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -EINVAL;
	}
	if (strcmp(p, "\n"))
		return -EINVAL;
	*port = (uint32_t)n;
	return 0;
}

/* Anything but a listening unix stream socket would never accept, and
 * a readable fd of another kind would wake the loop for ever. */
static bool is_listener(int fd)
{
	int v[3] = { 0 };
	socklen_t l = sizeof(int);
	const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN };

	for (int i = 0; i < 3; i++, l = sizeof(int))
		if (getsockopt(fd, SOL_SOCKET, opt[i], &v[i], &l) < 0)
			return false;
	return v[0] == AF_UNIX && v[1] == SOCK_STREAM && v[2] == 1;
}

int vdev_vsock_new(const struct vdev_vsock_cfg *cfg, struct vm_loop *loop,
		   const struct virtio_dev_ops **ops, void **dev, struct rt_err *err)
{
	struct vdev_vsock *v;
	int fd, fl;

	if (cfg->guest_cid < 3 || cfg->guest_cid > UINT32_MAX - 1)
		return rt_err_set(err, EINVAL, "virtio-vsock: guest CID %llu is reserved",
				  (unsigned long long)cfg->guest_cid);
	if (!is_listener(cfg->listen_fd))
		return rt_err_set(err, EINVAL, "virtio-vsock: fd %d is not a listening unix "
				  "stream socket", cfg->listen_fd);
	fd = fcntl(cfg->listen_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return rt_err_sys(err, errno, "virtio-vsock: socket fd %d", cfg->listen_fd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return rt_err_sys(err, errno, "virtio-vsock: socket fd %d", cfg->listen_fd);
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		close(fd);
		return rt_err_sys(err, ENOMEM, "virtio-vsock");
	}
	v->lfd = fd;
	v->loop = loop;
	v->cid = cfg->guest_cid;
	v->next_port = FIRST_HOST_PORT - 1;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->c[i] = (struct vconn){ .dev = v, .st = C_FREE, .fd = -1 };
	*ops = &vsock_ops;
	*dev = v;
	return 0;
}

void vdev_vsock_stats(void *dev, struct vdev_vsock_stats *out)
{
	const struct vdev_vsock *v = dev;

	*out = v->stats;
	out->conns = 0;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		out->conns += v->c[i].st != C_FREE;
}
