/* The guest side of tests/vm/t_vsock.sh: a static program that listens on
 * AF_VSOCK port PORT (default 1024) and echoes every connection until its
 * EOF, then closes it; one connection at a time.  Prints "listening" once
 * ready.  Built by the test with cc -static. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int echo(int c)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf)), off = 0;

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (off < n) {
			ssize_t w = write(c, buf + off, (size_t)(n - off));

			if (w < 0 && errno != EINTR)
				return -1;
			off += w > 0 ? w : 0;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = argc > 1 ? (unsigned)atoi(argv[1]) : 1024 };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		perror("vsock_echo: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("vsock_echo: accept");
			return 1;
		}
		if (echo(c) < 0)
			perror("vsock_echo: echo");
		close(c);
	}
}
