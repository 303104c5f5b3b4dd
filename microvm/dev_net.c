/* virtio-net (virtio 1.x section 5.1) over a tap: one receive and one
 * transmit queue, VIRTIO_NET_F_MAC and nothing else (no checksum or
 * segmentation offloads, no mergeable buffers, no control queue).
 *
 * The tap is opened without IFF_VNET_HDR: it carries plain Ethernet
 * frames, and this device writes (rx) and strips (tx) the 12-byte
 * virtio_net_hdr itself, so nothing the guest writes in a header ever
 * reaches the host kernel.
 *
 * Receive: the tap is watched for EPOLLIN only while the guest has rx
 * buffers.  A frame is read straight into a popped chain; when the tap
 * turns out empty the chain is given back (virtq_unpop).  When the ring
 * is empty the tap is left alone (its own queue holds or drops frames)
 * until the guest kicks the rx queue with new buffers: no busy loop, no
 * reading frames just to throw them away.
 *
 * Transmit: every chain is answered; a chain shorter than the header,
 * a frame shorter than an Ethernet header or longer than NET_FRAME_MAX,
 * or a header asking for an offload that was never negotiated is dropped. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "microvm/virtio_int.h"

#define NET_F_MAC        5
#define NET_RXQ          0
#define NET_TXQ          1
#define NET_HDR_LEN      12      /* virtio_net_hdr with num_buffers (VERSION_1) */
#define NET_ETH_HLEN     14
#define NET_FRAME_MAX    65536   /* above any MTU a tap allows */
#define NET_RX_BURST     64      /* frames per turn of the loop, then others' turn */

#define NET_HDR_F_NEEDS_CSUM 1
#define NET_HDR_GSO_NONE     0

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

struct vdev_net {
	int fd;                  /* our own handle on the tap, non-blocking */
	struct vm_loop *loop;
	struct virtio_mmio *t;
	uint8_t mac[6];
	bool watched;            /* the tap is in the loop for EPOLLIN */
	bool dead;               /* the tap failed for good: never watched again */
	struct vdev_net_stats stats;
};

static void tap_cb(void *arg, uint32_t events);

static void watch(struct vdev_net *n, bool on)
{
	struct rt_err err;

	if (n->dead)
		on = false;
	if (n->watched == on)
		return;
	if (on) {
		n->watched = vm_loop_add(n->loop, n->fd, EPOLLIN, tap_cb, n, &err) == 0;
	} else {
		vm_loop_del(n->loop, n->fd);
		n->watched = false;
	}
}

enum rx_result { RX_DONE, RX_TAP_EMPTY, RX_TAP_DEAD };

/* One frame from the tap into chain c, or the chain given back. */
static enum rx_result rx_one(struct vdev_net *n, struct virtq *q, const struct virtq_chain *c)
{
	const struct iovec *in = c->iov + c->n_out;
	struct net_hdr h = { .num_buffers = 1 };
	struct iovec io[VIRTQ_CHAIN_MAX];
	ssize_t r;
	int k;

	/* No room for a header and a byte of frame: useless, but answered. */
	if (c->in_len <= NET_HDR_LEN) {
		n->stats.rx_bad_chains++;
		virtq_push(q, c->head, 0);
		return RX_DONE;
	}
	k = iov_slice(in, c->n_in, NET_HDR_LEN, c->in_len - NET_HDR_LEN, io, VIRTQ_CHAIN_MAX);
	if (k <= 0) {
		n->stats.rx_bad_chains++;
		virtq_push(q, c->head, 0);
		return RX_DONE;
	}
	do
		r = readv(n->fd, io, k);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		virtq_unpop(q);
		if (r == 0)   /* no tap reads 0: a socket whose peer is gone */
			return RX_TAP_DEAD;
		if (errno == EAGAIN)
			return RX_TAP_EMPTY;
		/* A frame the kernel could not copy is gone; anything else
		 * (the tap detached, EBADFD, EIO) will not get better. */
		n->stats.rx_errors++;
		return errno == EFAULT || errno == EINVAL || errno == EMSGSIZE ? RX_DONE
									       : RX_TAP_DEAD;
	}
	iov_from_buf(in, c->n_in, 0, &h, sizeof(h));
	virtq_push(q, c->head, (uint32_t)(NET_HDR_LEN + (size_t)r));
	n->stats.rx_frames++;
	return RX_DONE;
}

/* Host -> guest, until the tap is empty, the ring is, or the burst is done. */
static void net_rx(struct vdev_net *n)
{
	struct virtq *q = virtio_mmio_queue(n->t, NET_RXQ);
	bool pushed = false, want_tap = false;
	struct virtq_chain c;
	struct rt_err err;

	for (int i = 0; q && !n->dead && i < NET_RX_BURST; i++) {
		enum rx_result res;

		if (virtq_pop(q, &c, &err) != 1)
			break;      /* no buffers (or a broken ring): wait for a kick */
		res = rx_one(n, q, &c);
		if (res == RX_TAP_DEAD) {
			n->dead = true;
			break;
		}
		if (res == RX_TAP_EMPTY) {
			want_tap = true;
			break;
		}
		pushed = true;
		if (i == NET_RX_BURST - 1)
			want_tap = true;   /* more may wait: level-triggered, we come back */
	}
	watch(n, want_tap);
	if (pushed)
		virtio_mmio_signal(n->t, NET_RXQ);
}

static void tap_cb(void *arg, uint32_t events)
{
	struct vdev_net *n = arg;

	virtio_mmio_lock(n->t);
	/* Error or hang-up without data (the tap's device is gone): a
	 * level-triggered fd that would wake us forever. */
	if (!(events & EPOLLIN) && (events & (EPOLLERR | EPOLLHUP)))
		n->dead = true;
	net_rx(n);
	virtio_mmio_unlock(n->t);
}

/* Guest -> host: one chain; false when it was dropped. */
static bool tx_one(struct vdev_net *n, const struct virtq_chain *c)
{
	struct iovec io[VIRTQ_CHAIN_MAX];
	struct net_hdr h;
	uint64_t frame;
	ssize_t r;
	int k;

	if (c->out_len < NET_HDR_LEN)
		return false;
	frame = c->out_len - NET_HDR_LEN;
	if (frame < NET_ETH_HLEN || frame > NET_FRAME_MAX)
		return false;
	iov_to_buf(c->iov, c->n_out, 0, &h, sizeof(h));
	if (h.gso_type != NET_HDR_GSO_NONE || (h.flags & NET_HDR_F_NEEDS_CSUM))
		return false;   /* offloads we never offered */
	k = iov_slice(c->iov, c->n_out, NET_HDR_LEN, (size_t)frame, io, VIRTQ_CHAIN_MAX);
	if (k <= 0)
		return false;
	do
		r = writev(n->fd, io, k);
	while (r < 0 && errno == EINTR);
	/* A full tap queue (EAGAIN) or a down link drops, as a wire would. */
	return r == (ssize_t)frame;
}

static void net_tx(struct vdev_net *n)
{
	struct virtq *q = virtio_mmio_queue(n->t, NET_TXQ);
	struct virtq_chain c;
	struct rt_err err;
	bool pushed = false;

	while (q && virtq_pop(q, &c, &err) == 1) {
		if (tx_one(n, &c))
			n->stats.tx_frames++;
		else
			n->stats.tx_dropped++;
		virtq_push(q, c.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(n->t, NET_TXQ);
}

static void net_notify(void *dev, struct virtio_mmio *t, uint16_t qi)
{
	struct vdev_net *n = dev;

	n->t = t;
	if (qi == NET_RXQ)
		net_rx(n);
	else if (qi == NET_TXQ)
		net_tx(n);
}

static void net_activate(void *dev, struct virtio_mmio *t)
{
	struct vdev_net *n = dev;

	n->t = t;
	net_rx(n);
}

static void net_reset(void *dev)
{
	watch(dev, false);
}

static void net_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vdev_net *n = dev;

	memcpy(buf, n->mac + off, len);
}

static void net_destroy(void *dev)
{
	struct vdev_net *n = dev;

	if (!n)
		return;
	watch(n, false);
	close(n->fd);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = 1,
	.features = 1ull << NET_F_MAC,
	.num_queues = 2,
	.queue_max = 256,
	.config_size = 6,
	.config_read = net_config_read,
	.activate = net_activate,
	.reset = net_reset,
	.notify = net_notify,
	.destroy = net_destroy,
};

int vdev_net_new(const struct vdev_net_cfg *cfg, struct vm_loop *loop,
		 const struct virtio_dev_ops **ops, void **dev, struct rt_err *err)
{
	struct vdev_net *n;
	int fd, fl;

	if (cfg->mac[0] & 1)
		return rt_err_set(err, EINVAL, "virtio-net: %02x:... is a multicast MAC address",
				  cfg->mac[0]);
	fd = fcntl(cfg->tap_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return rt_err_sys(err, errno, "virtio-net: tap fd %d", cfg->tap_fd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return rt_err_sys(err, errno, "virtio-net: tap fd %d", cfg->tap_fd);
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return rt_err_sys(err, ENOMEM, "virtio-net");
	}
	n->fd = fd;
	n->loop = loop;
	memcpy(n->mac, cfg->mac, 6);
	*ops = &net_ops;
	*dev = n;
	return 0;
}

void vdev_net_stats(void *dev, struct vdev_net_stats *out)
{
	const struct vdev_net *n = dev;

	*out = n->stats;
}
