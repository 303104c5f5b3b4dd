/* The frontend side of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst): the VMM hands a device's virtqueues to a
 * backend process (virtiofsd) over a connected unix stream socket.  Each
 * message is a 12-byte header (request, flags, payload size) and a payload;
 * file descriptors travel as SCM_RIGHTS.  The backend is another process
 * and may die or lie: every reply is checked (reply flag, version, request
 * code, exact payload size), and a dead or silent backend is an error,
 * never a hang (the socket has send and receive timeouts). */
#ifndef HULL_VHOST_USER_H
#define HULL_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/err.h"

enum {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_SET_VRING_ENABLE = 18,
};

#define VHU_VERSION          0x1u
#define VHU_FLAG_REPLY       (1u << 2)
#define VHU_FLAG_NEED_REPLY  (1u << 3)
#define VHU_F_PROTOCOL_FEATURES 30          /* a virtio feature bit */
#define VHU_PROTOCOL_F_REPLY_ACK 3
#define VHU_MAX_REGIONS      8
#define VHU_MAX_PAYLOAD      4096           /* far above any message we exchange */
#define VHU_VRING_NOFD       (1u << 8)

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

/* Ring addresses in the frontend's own address space (the backend
 * translates them through the memory table's user addresses). */
struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct vhu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

struct vhu_mem_table {
	uint32_t n;
	uint32_t padding;
	struct vhu_region r[VHU_MAX_REGIONS];
};

/* One connection.  proto: the protocol features both sides agreed on. */
struct vhu {
	int fd;
	uint64_t features;       /* what the backend offers (GET_FEATURES) */
	uint64_t proto;
};

/* Send one message (fds: up to VHU_MAX_REGIONS, as SCM_RIGHTS). */
int vhu_send(int fd, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
	     const int *fds, int nfds, struct rt_err *err);
/* Receive the reply to request: exactly size payload bytes, else an error
 * naming what was wrong.  A received fd is closed (we ask for none). */
int vhu_recv_reply(int fd, uint32_t request, void *payload, uint32_t size, struct rt_err *err);

/* Set the socket's timeouts (ms); 0 for none. */
int vhu_init(struct vhu *v, int fd, unsigned timeout_ms, struct rt_err *err);
/* SET_OWNER, GET_FEATURES, and with VHU_F_PROTOCOL_FEATURES offered,
 * GET/SET_PROTOCOL_FEATURES (REPLY_ACK is the only one we take). */
int vhu_handshake(struct vhu *v, struct rt_err *err);
/* A message without a reply of its own: with REPLY_ACK it asks for one and
 * checks the backend's status (0: done). */
int vhu_set(struct vhu *v, uint32_t request, const void *payload, uint32_t size, int fd,
	    struct rt_err *err);
int vhu_set_u64(struct vhu *v, uint32_t request, uint64_t val, struct rt_err *err);
int vhu_set_mem_table(struct vhu *v, const struct vhu_region *r, const int *fds, unsigned n,
		      struct rt_err *err);
/* The whole life of one ring: NUM, BASE 0, ADDR, KICK, CALL, then ENABLE
 * (when protocol features were agreed the rings start disabled). */
struct vhu_ring {
	uint32_t index, num;
	uint64_t desc, avail, used;   /* frontend addresses */
	int kick_fd, call_fd;
};
int vhu_ring_start(struct vhu *v, const struct vhu_ring *r, struct rt_err *err);
/* GET_VRING_BASE: stops the ring; *base: where the backend got to. */
int vhu_ring_stop(struct vhu *v, uint32_t index, uint32_t *base, struct rt_err *err);
/* The name of a request, for messages. */
const char *vhu_request_name(uint32_t request);

#endif
