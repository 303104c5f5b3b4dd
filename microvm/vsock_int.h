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

#endif
