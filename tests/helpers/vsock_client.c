/* The host side of tests/vm/t_vsock.sh: a hybrid-vsock client.
 *   vsock_client SOCKET PORT BYTES   CONNECT, expect "OK <n>", send BYTES
 *       pseudo-random bytes (then EOF) while reading them back: exit 0
 *       when exactly those bytes came back, in order, then EOF.
 *   vsock_client SOCKET PORT refused  exit 0 when the socket is closed
 *       without an "OK" line.
 * Built by the test with cc. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned char byte_at(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int die(const char *what)
{
	fprintf(stderr, "vsock_client: %s: %s\n", what, errno ? strerror(errno) : "failed");
	return 1;
}

/* The reply line; 1: "OK ...", 0: closed before it, -1: something else. */
static int reply(int fd)
{
	char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0)
			return r == 0 || errno == ECONNRESET ? 0 : -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	fprintf(stderr, "vsock_client: reply %s", line);
	return strncmp(line, "OK ", 3) ? -1 : 1;
}

static int relay(int fd, size_t total)
{
	static unsigned char out[65536], in[65536];
	size_t sent = 0, got = 0;
	struct pollfd p = { .fd = fd };

	while (got < total || sent < total) {
		p.events = POLLIN | (sent < total ? POLLOUT : 0);
		if (poll(&p, 1, 60000) <= 0)
			return errno = ETIMEDOUT, die("no progress for 60 s");
		if ((p.revents & POLLOUT) && sent < total) {
			size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				out[i] = byte_at(sent + i);
			w = send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				return die("send");
			sent += w > 0 ? (size_t)w : 0;
			if (sent == total)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);

			if (r == 0)
				return errno = 0, fprintf(stderr, "EOF after %zu of %zu bytes\n",
							  got, total), 1;
			if (r < 0 && errno != EAGAIN)
				return die("recv");
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != byte_at(got + (size_t)i))
					return errno = 0, fprintf(stderr, "byte %zu differs\n",
								  got + (size_t)i), 1;
			got += r > 0 ? (size_t)r : 0;
		}
	}
	if (recv(fd, in, 1, 0) != 0)
		return errno = 0, die("no EOF after the echo");
	printf("echoed %zu bytes\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[32];
	int fd, r;

	if (argc != 4)
		return fprintf(stderr, "usage: vsock_client SOCKET PORT BYTES|refused\n"), 2;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die(argv[1]);
	snprintf(req, sizeof(req), "CONNECT %s\n", argv[2]);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return die("CONNECT");
	r = reply(fd);
	if (!strcmp(argv[3], "refused")) {
		if (r == 0)
			printf("refused\n");
		return r == 0 ? 0 : (errno = 0, die("not refused"));
	}
	if (r != 1)
		return errno = 0, die("no OK");
	return relay(fd, strtoul(argv[3], NULL, 10));
}
