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

static void flush_ctrl(struct vdev_vsock *v);

#define RXQ 0
#define TXQ 1
#define EVQ 2

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
		vsock_conn_free(v, c);
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
bool vsock_rx_data(struct vdev_vsock *v, struct vconn *c)
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
	if (room > vsock_peer_credit(c))
		room = vsock_peer_credit(c);
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
			vsock_conn_abort(v, c);
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

void vsock_settle(struct vdev_vsock *v)
{
	flush_ctrl(v);
	vsock_update_all(v);
	rx_signal(v);
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

	if (c->g_no_send || len > VSOCK_BUF - vsock_buffered(c)) {
		v->stats.over_credit += !c->g_no_send;
		vsock_conn_abort(v, c);         /* past its credit, or after its SHUTDOWN */
		return;
	}
	if (!vsock_buffered(c) && len) {
		struct iovec io[VIRTQ_CHAIN_MAX];
		int k = iov_slice(ch->iov, ch->n_out, VSOCK_HDR_LEN, len, io, VIRTQ_CHAIN_MAX);
		ssize_t r;

		do
			r = k > 0 ? writev(c->fd, io, k) : 0;
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			vsock_conn_abort(v, c);
			return;
		}
		done = r > 0 ? (uint32_t)r : 0;
		v->stats.tx_bytes += done;
	}
	if (done < len && !c->buf && !(c->buf = malloc(VSOCK_BUF))) {
		vsock_conn_abort(v, c);
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
		vsock_conn_abort(v, c);
		break;
	default:                          /* REQUEST/RESPONSE on an open stream */
		vsock_conn_abort(v, c);
		break;
	}
	if (c->st != C_FREE)
		vsock_conn_progress(v, c);
}

static void guest_response(struct vdev_vsock *v, struct vconn *c, const struct vsock_hdr *h)
{
	char ok[32];
	int n;

	if (h->op != VSOCK_OP_RESPONSE) {
		if (h->op == VSOCK_OP_RST)
			c->req_sent = false;      /* no listener: the client just closes */
		v->stats.refused_by_guest += h->op == VSOCK_OP_RST;
		vsock_conn_abort(v, c);
		return;
	}
	/* Nothing was written to the client yet: a line this short fits. */
	n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
	if (write(c->fd, ok, (size_t)n) != n) {
		vsock_conn_abort(v, c);
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
	c = vsock_conn_find(v, h.dst_port, h.src_port);
	if (h.type != VSOCK_TYPE_STREAM || h.len > ch->out_len - VSOCK_HDR_LEN ||
	    (h.op != VSOCK_OP_RW && h.len)) {
		v->stats.tx_bad++;
		if (c && c->st != C_DEAD)
			vsock_conn_abort(v, c);
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
			vsock_conn_free(v, c);
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
	vsock_settle(v);
}

static void vsock_activate(void *dev, struct virtio_mmio *t)
{
	struct vdev_vsock *v = dev;

	v->t = t;
	v->rx_starved = false;
	vsock_listen_watch(v, true);
	vsock_settle(v);
}

/* A reset guest forgets every connection: their clients are closed. */
static void vsock_reset(void *dev)
{
	struct vdev_vsock *v = dev;

	vsock_listen_watch(v, false);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE)
			vsock_conn_free(v, &v->c[i]);
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

int vdev_vsock_new(const struct vdev_vsock_cfg *cfg, struct vm_loop *loop,
		   const struct virtio_dev_ops **ops, void **dev, struct rt_err *err)
{
	struct vdev_vsock *v;
	int fd, fl;

	if (cfg->guest_cid < 3 || cfg->guest_cid > UINT32_MAX - 1)
		return rt_err_set(err, EINVAL, "virtio-vsock: guest CID %llu is reserved",
				  (unsigned long long)cfg->guest_cid);
	if (!vsock_is_listener(cfg->listen_fd))
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
