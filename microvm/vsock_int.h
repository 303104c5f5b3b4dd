/* virtio-vsock wire format (virtio 1.x section 5.10) and the device's
 * limits, shared by microvm/dev_vsock.c and its tests. */
#ifndef HULL_VSOCK_INT_H
#define HULL_VSOCK_INT_H

#include <stdint.h>

#include "microvm/vm_dev.h"

#define VSOCK_HOST_CID      2
#define VSOCK_GUEST_CID     3      /* hull's guests: the agent's peers dial 3 */
#define VSOCK_TYPE_STREAM   1

#define VSOCK_OP_REQUEST        1
#define VSOCK_OP_RESPONSE       2
#define VSOCK_OP_RST            3
#define VSOCK_OP_SHUTDOWN       4
#define VSOCK_OP_RW             5
#define VSOCK_OP_CREDIT_UPDATE  6
#define VSOCK_OP_CREDIT_REQUEST 7

#define VSOCK_SHUTDOWN_RCV  1u
#define VSOCK_SHUTDOWN_SEND 2u

/* All fields little-endian (as the host is). */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));
#define VSOCK_HDR_LEN 44
_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_LEN, "virtio_vsock_hdr is 44 bytes");

#define VSOCK_MAX_CONNS 64          /* connections (and client fds) at once */
#define VSOCK_BUF       (64u << 10) /* per connection, guest -> host; a power of two */
#define VSOCK_MAX_PKT   (64u << 10) /* payload of one packet to the guest */
#define VSOCK_RST_MAX   32          /* RST replies waiting for rx buffers */
#define VSOCK_LINE_MAX  32          /* "CONNECT <port>\n" and its NUL */

/* "CONNECT <decimal port>\n" (NUL-terminated) -> port; -EINVAL otherwise. */
int vsock_parse_connect(const char *line, uint32_t *port);

/* ---- the device's state, shared by dev_vsock.c (the virtqueues) and
 * vsock_conn.c (the unix side) ---- */
#include <stdbool.h>
#include <stddef.h>
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

static inline uint32_t vsock_buffered(const struct vconn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

/* What the guest can still take; 0 for a guest whose counters make no sense. */
static inline uint32_t vsock_peer_credit(const struct vconn *c)
{
	int64_t in_flight = (uint32_t)(c->tx_cnt - c->peer_fwd_cnt);
	int64_t credit = (int64_t)c->peer_buf_alloc - in_flight;

	return credit > 0 ? (uint32_t)credit : 0;
}

/* vsock_conn.c */
void vsock_conn_free(struct vdev_vsock *v, struct vconn *c);
void vsock_conn_abort(struct vdev_vsock *v, struct vconn *c);
struct vconn *vsock_conn_find(struct vdev_vsock *v, uint32_t host_port, uint32_t guest_port);
void vsock_conn_update(struct vdev_vsock *v, struct vconn *c);
void vsock_update_all(struct vdev_vsock *v);
void vsock_conn_progress(struct vdev_vsock *v, struct vconn *c);
void vsock_listen_watch(struct vdev_vsock *v, bool on);
bool vsock_is_listener(int fd);
/* dev_vsock.c */
bool vsock_rx_data(struct vdev_vsock *v, struct vconn *c);
void vsock_settle(struct vdev_vsock *v);

#endif
