/* recvtty: the receiving end of --console-socket, for the integration
 * tests.  Usage: recvtty SOCKET [INPUT]
 *
 * Listens on the unix socket SOCKET, accepts one connection, takes the pty
 * master that arrives there as SCM_RIGHTS, writes INPUT (if given) to it,
 * then copies everything the master produces to stdout until the last
 * slave is closed (EIO) or EOF.  Exits 0 then, 1 on any error; SIGALRM
 * ends it when nothing happens for 20 s, so a broken runtime cannot hang
 * the tests.
 *
 * The socket is bound under a temporary name and renamed into place after
 * listen(), so a test that waits for SOCKET to exist never races into a
 * refused connection. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/helpers/sock.h"

/* One message with exactly one fd in it; the payload (runc sends the
 * pty's name) is ignored. */
static int recv_fd(int conn)
{
	char buf[256];
	size_t n, nfds;
	int fd = recv_fds(conn, buf, sizeof(buf), &n, &nfds);

	if (nfds != 1) {
		fprintf(stderr, "recvtty: %zu fds in the message, want 1\n", nfds);
		exit(1);
	}
	return fd;
}

static void relay(int master)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == EIO))
			return;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		alarm(20);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0)
				die("write");
			off += w;
		}
	}
}

int main(int argc, char **argv)
{
	int lfd, conn, master;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
		return 1;
	}
	signal(SIGALRM, SIG_DFL);
	alarm(20);
	lfd = listen_on(argv[1]);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	master = recv_fd(conn);
	close(conn);
	close(lfd);
	unlink(argv[1]);
	if (argc == 3) {
		size_t len = strlen(argv[2]);
		if (write(master, argv[2], len) != (ssize_t)len)
			die("write to the pty");
	}
	relay(master);
	return 0;
}
