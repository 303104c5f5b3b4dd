/* seccomp_agent: a minimal seccomp user-notification agent for the
 * integration tests.  Usage: seccomp_agent SOCKET [STATEFILE]
 *
 * Listens on the unix socket SOCKET (the spec's linux.seccomp.listenerPath),
 * accepts one connection from the runtime, which sends the container's
 * state JSON with the seccomp notify fd attached (SCM_RIGHTS).  The JSON is
 * written to STATEFILE if given.  Then every notification is answered with
 * EPERM, and each one is logged to stdout as "syscall N".  Exits 0 when the
 * notify fd hangs up (every process of the filter is gone), 1 on errors;
 * SIGALRM ends it after 30 s so a broken runtime cannot hang the tests.
 *
 * As in recvtty, the socket is bound under a temporary name and renamed
 * into place after listen(). */
#include "config.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/helpers/sock.h"

/* The state JSON and the fds; the spec puts the notify fd's position in
 * the JSON's "fds" array, and hull sends only that one, so the first fd is
 * taken as the notify fd. */
static int recv_state(int conn, const char *statefile)
{
	static char buf[1 << 16];
	size_t n, nfds;
	int fd = recv_fds(conn, buf, sizeof(buf) - 1, &n, &nfds);

	if (statefile) {
		FILE *f = fopen(statefile, "we");
		if (!f)
			die(statefile);
		fwrite(buf, 1, n, f);
		if (fclose(f) != 0)
			die(statefile);
	}
	return fd;
}

static void answer_all(int nfd)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		die("SECCOMP_GET_NOTIF_SIZES");
	req = calloc(1, sz.seccomp_notif > sizeof(*req) ? sz.seccomp_notif : sizeof(*req));
	resp = calloc(1, sz.seccomp_notif_resp > sizeof(*resp) ? sz.seccomp_notif_resp
							       : sizeof(*resp));
	if (!req || !resp)
		die("calloc");
	for (;;) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p.revents & POLLIN) {
			memset(req, 0, sz.seccomp_notif);
			if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
				/* the target died between poll and recv */
				if (errno == EINTR || errno == ENOENT)
					continue;
				die("SECCOMP_IOCTL_NOTIF_RECV");
			}
			memset(resp, 0, sz.seccomp_notif_resp);
			resp->id = req->id;
			resp->error = -EPERM;
			/* ENOENT: the target is gone; nothing to answer */
			if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
				die("SECCOMP_IOCTL_NOTIF_SEND");
			printf("syscall %d\n", req->data.nr);
			fflush(stdout);
			alarm(30);
		} else if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			return;
		}
	}
}

int main(int argc, char **argv)
{
	int lfd, conn, nfd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: seccomp_agent SOCKET [STATEFILE]\n");
		return 1;
	}
	signal(SIGALRM, SIG_DFL);
	alarm(30);
	lfd = listen_on(argv[1]);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	nfd = recv_state(conn, argc == 3 ? argv[2] : NULL);
	close(conn);
	close(lfd);
	unlink(argv[1]);
	answer_all(nfd);
	return 0;
}
