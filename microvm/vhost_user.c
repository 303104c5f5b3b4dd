/* vhost-user frontend messages: see vhost_user.h. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "microvm/vhost_user.h"

const char *vhu_request_name(uint32_t request)
{
	static const char *const names[] = {
		[VHU_GET_FEATURES] = "GET_FEATURES", [VHU_SET_FEATURES] = "SET_FEATURES",
		[VHU_SET_OWNER] = "SET_OWNER", [VHU_RESET_OWNER] = "RESET_OWNER",
		[VHU_SET_MEM_TABLE] = "SET_MEM_TABLE", [VHU_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHU_SET_VRING_ADDR] = "SET_VRING_ADDR", [VHU_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHU_GET_VRING_BASE] = "GET_VRING_BASE", [VHU_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHU_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};

	return request < sizeof(names) / sizeof(names[0]) && names[request] ? names[request]
									     : "?";
}

int vhu_send(int fd, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
	     const int *fds, int nfds, struct rt_err *err)
{
	struct vhu_hdr h = { request, VHU_VERSION | flags, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	size_t want = sizeof(h) + size;
	ssize_t n;

	if (nfds < 0 || nfds > VHU_MAX_REGIONS || size > VHU_MAX_PAYLOAD)
		return rt_err_set(err, EINVAL, "vhost-user %s: bad message", vhu_request_name(request));
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rt_err_sys(err, errno == EAGAIN ? ETIMEDOUT : errno,
				  "vhost-user %s: the backend is gone", vhu_request_name(request));
	/* A stream socket may take part of a message; the rest goes without fds. */
	for (size_t done = (size_t)n; done < want; done += (size_t)n) {
		const char *p = done < sizeof(h) ? (const char *)&h + done
						 : (const char *)payload + (done - sizeof(h));
		size_t left = done < sizeof(h) ? sizeof(h) - done : want - done;

		n = send(fd, p, left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return rt_err_sys(err, n < 0 ? errno : EPIPE, "vhost-user %s: the backend is "
					  "gone", vhu_request_name(request));
	}
	return 0;
}

static int recv_full(int fd, void *buf, size_t len, bool first, struct rt_err *err,
		     uint32_t request)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_err_sys(err, errno == EAGAIN ? ETIMEDOUT : errno, "vhost-user %s: "
					  "no reply from the backend", vhu_request_name(request));
		if (n == 0)
			return rt_err_set(err, EPIPE, "vhost-user %s: the backend closed the "
					  "connection%s", vhu_request_name(request),
					  first && !got ? "" : " in mid-reply");
		/* We asked for no fds: whatever came is closed, never used. */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
					close(((int *)CMSG_DATA(c))[i]);
		got += (size_t)n;
	}
	return 0;
}

int vhu_recv_reply(int fd, uint32_t request, void *payload, uint32_t size, struct rt_err *err)
{
	struct vhu_hdr h;
	const char *name = vhu_request_name(request);

	if (recv_full(fd, &h, sizeof(h), true, err, request) < 0)
		return -err->code;
	if ((h.flags & 3u) != VHU_VERSION || !(h.flags & VHU_FLAG_REPLY))
		return rt_err_set(err, EPROTO, "vhost-user %s: reply with flags %#x (not a version 1 "
				  "reply)", name, h.flags);
	if (h.request != request)
		return rt_err_set(err, EPROTO, "vhost-user %s: the backend replied to request %u",
				  name, h.request);
	if (h.size != size)
		return rt_err_set(err, EPROTO, "vhost-user %s: reply of %u bytes, expected %u",
				  name, h.size, size);
	return recv_full(fd, payload, size, false, err, request);
}

int vhu_init(struct vhu *v, int fd, unsigned timeout_ms, struct rt_err *err)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	*v = (struct vhu){ .fd = fd };
	if (timeout_ms && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
			   setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
		return rt_err_sys(err, errno, "vhost-user socket");
	return 0;
}

static int get_u64(struct vhu *v, uint32_t request, uint64_t *out, struct rt_err *err)
{
	if (vhu_send(v->fd, request, 0, NULL, 0, NULL, 0, err) < 0)
		return -err->code;
	return vhu_recv_reply(v->fd, request, out, sizeof(*out), err);
}

int vhu_set(struct vhu *v, uint32_t request, const void *payload, uint32_t size, int fd,
	    struct rt_err *err)
{
	bool ack = v->proto & (1ull << VHU_PROTOCOL_F_REPLY_ACK);
	uint64_t status;

	if (vhu_send(v->fd, request, ack ? VHU_FLAG_NEED_REPLY : 0, payload, size, &fd,
		     fd >= 0 ? 1 : 0, err) < 0)
		return -err->code;
	if (!ack)
		return 0;
	if (vhu_recv_reply(v->fd, request, &status, sizeof(status), err) < 0)
		return -err->code;
	if (status)
		return rt_err_set(err, EIO, "vhost-user %s: the backend refused it (status %llu)",
				  vhu_request_name(request), (unsigned long long)status);
	return 0;
}

int vhu_set_u64(struct vhu *v, uint32_t request, uint64_t val, struct rt_err *err)
{
	return vhu_set(v, request, &val, sizeof(val), -1, err);
}

int vhu_handshake(struct vhu *v, struct rt_err *err)
{
	uint64_t proto = 0;

	/* SET_OWNER has no reply, and REPLY_ACK is not agreed yet. */
	if (vhu_send(v->fd, VHU_SET_OWNER, 0, NULL, 0, NULL, 0, err) < 0 ||
	    get_u64(v, VHU_GET_FEATURES, &v->features, err) < 0)
		return -err->code;
	if (!(v->features & (1ull << VHU_F_PROTOCOL_FEATURES)))
		return 0;
	if (get_u64(v, VHU_GET_PROTOCOL_FEATURES, &proto, err) < 0)
		return -err->code;
	proto &= 1ull << VHU_PROTOCOL_F_REPLY_ACK;
	if (vhu_set_u64(v, VHU_SET_PROTOCOL_FEATURES, proto, err) < 0)
		return -err->code;
	v->proto = proto;   /* from the next message on */
	return 0;
}

int vhu_set_mem_table(struct vhu *v, const struct vhu_region *r, const int *fds, unsigned n,
		      struct rt_err *err)
{
	struct vhu_mem_table t = { .n = n };
	bool ack = v->proto & (1ull << VHU_PROTOCOL_F_REPLY_ACK);
	uint32_t size = (uint32_t)(8 + n * sizeof(t.r[0]));
	uint64_t status;

	if (n == 0 || n > VHU_MAX_REGIONS)
		return rt_err_set(err, EINVAL, "vhost-user SET_MEM_TABLE: %u regions", n);
	memcpy(t.r, r, n * sizeof(t.r[0]));
	if (vhu_send(v->fd, VHU_SET_MEM_TABLE, ack ? VHU_FLAG_NEED_REPLY : 0, &t, size, fds,
		     (int)n, err) < 0)
		return -err->code;
	if (!ack)
		return 0;
	if (vhu_recv_reply(v->fd, VHU_SET_MEM_TABLE, &status, sizeof(status), err) < 0)
		return -err->code;
	return status ? rt_err_set(err, EIO, "vhost-user SET_MEM_TABLE: the backend refused the "
				   "guest's memory (status %llu)", (unsigned long long)status) : 0;
}

int vhu_ring_start(struct vhu *v, const struct vhu_ring *r, struct rt_err *err)
{
	struct vhu_vring_state num = { r->index, r->num }, base = { r->index, 0 };
	struct vhu_vring_addr addr = { .index = r->index, .desc = r->desc, .used = r->used,
				       .avail = r->avail };

	if (vhu_set(v, VHU_SET_VRING_NUM, &num, sizeof(num), -1, err) < 0 ||
	    vhu_set(v, VHU_SET_VRING_BASE, &base, sizeof(base), -1, err) < 0 ||
	    vhu_set(v, VHU_SET_VRING_ADDR, &addr, sizeof(addr), -1, err) < 0)
		return -err->code;
	/* The fd is the ancillary data; the payload carries the ring index. */
	if (vhu_set(v, VHU_SET_VRING_KICK, &(uint64_t){ r->index }, 8, r->kick_fd, err) < 0 ||
	    vhu_set(v, VHU_SET_VRING_CALL, &(uint64_t){ r->index }, 8, r->call_fd, err) < 0)
		return -err->code;
	if (v->features & (1ull << VHU_F_PROTOCOL_FEATURES)) {
		struct vhu_vring_state on = { r->index, 1 };

		if (vhu_set(v, VHU_SET_VRING_ENABLE, &on, sizeof(on), -1, err) < 0)
			return -err->code;
	}
	return 0;
}

int vhu_ring_stop(struct vhu *v, uint32_t index, uint32_t *base, struct rt_err *err)
{
	struct vhu_vring_state s = { index, 0 }, got;

	if (vhu_send(v->fd, VHU_GET_VRING_BASE, 0, &s, sizeof(s), NULL, 0, err) < 0 ||
	    vhu_recv_reply(v->fd, VHU_GET_VRING_BASE, &got, sizeof(got), err) < 0)
		return -err->code;
	if (got.index != index)
		return rt_err_set(err, EPROTO, "vhost-user GET_VRING_BASE: reply for ring %u, asked "
				  "for %u", got.index, index);
	*base = got.num;
	return 0;
}
