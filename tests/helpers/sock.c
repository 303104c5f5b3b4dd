/* See sock.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/helpers/sock.h"

void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[sizeof(sa.sun_path)];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	unlink(tmp);
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(fd, 1) < 0)
		die("listen");
	if (rename(tmp, path) < 0)
		die("rename");
	return fd;
}

int recv_fds(int conn, void *buf, size_t len, size_t *n, size_t *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(SOCK_MAX_FDS * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	ssize_t got;
	int fd;

	got = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
	if (got < 0)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len < CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "%s: no fd in the message\n", program_invocation_short_name);
		exit(1);
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	*n = (size_t)got;
	*nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	return fd;
}
