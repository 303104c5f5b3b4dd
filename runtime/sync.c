#include "config.h"
#include "runtime/sync.h"
#include "runtime/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

int rt_send_fd(int sock, int fd, const void *data, size_t len)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&c, 0, sizeof(c));
	if (fd >= 0) {
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int rt_sync_send(int sock, enum rt_sync_stage stage, int32_t value, const char *text, int fd)
{
	struct rt_sync_msg m = { .stage = stage, .value = value };

	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	return rt_send_fd(sock, fd, &m, sizeof(m));
}

int rt_sync_send_err(int sock, const struct rt_err *e)
{
	return rt_sync_send(sock, SYNC_ERROR, e->code ? e->code : EINVAL, e->msg, -1);
}

int rt_sync_recv(int sock, struct rt_sync_msg *msg, int *fd, struct rt_err *err)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	ssize_t n;

	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rt_err_sys(err, errno, "sync");
	if (n == 0)
		return rt_err_set(err, EPIPE, "container process exited during setup");
	if ((size_t)n != sizeof(*msg))
		return rt_err_set(err, EPROTO, "sync: short message");
	msg->text[sizeof(msg->text) - 1] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
			if (fd)
				*fd = got;
			else
				close(got);
		}
	}
	if (msg->stage == SYNC_ERROR)
		return rt_err_set(err, msg->value, "%s", msg->text);
	return 0;
}

int rt_sync_expect(int sock, enum rt_sync_stage stage, struct rt_sync_msg *msg, int *fd,
		   struct rt_err *err)
{
	for (;;) {
		int r = rt_sync_recv(sock, msg, fd, err);
		if (r < 0)
			return r;
		if (msg->stage == SYNC_WARNING) {
			rt_warn("%s", msg->text);
			continue;
		}
		if (msg->stage != stage)
			return rt_err_set(err, EPROTO, "sync: expected stage %d, got %u", stage,
					  msg->stage);
		return 0;
	}
}
