#include "config.h"
#include "runtime/console.h"
#include "runtime/cleanup.h"
#include "runtime/sync.h"
#include "runtime/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int rt_console_setup_child(const struct rt_process *p, int *master, struct rt_err *err)
{
	_cleanup_close_ int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int s = -1;
	int unlock = 0;

	if (m < 0)
		return rt_err_sys(err, errno, "open /dev/ptmx");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return rt_err_sys(err, errno, "unlock pty");
	/* TIOCGPTPEER opens the slave through the master, not by path, so a
	 * hostile /dev/pts in the rootfs cannot substitute another file. */
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0)
		return rt_err_sys(err, errno, "open pty slave");
	if (p->has_console_size) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };
		ioctl(s, TIOCSWINSZ, &ws);
	}
	if (setsid() < 0 && errno != EPERM)
		return rt_err_sys(err, errno, "setsid");
	if (ioctl(s, TIOCSCTTY, 0) < 0)
		return rt_err_sys(err, errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(s, fd) < 0)
			return rt_err_sys(err, errno, "dup2 pty");
	*master = steal_fd(m);
	return 0;
}

int rt_unix_connect(const char *path, int type, struct rt_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ char *d = strdup(path), *b = strdup(path);

	if (fd < 0 || !d || !b)
		return rt_err_sys(err, errno ? errno : ENOMEM, "socket");
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	} else {
		/* Too long for sun_path: go through /proc/self/fd of its directory. */
		dirfd = open(dirname(d), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return rt_err_sys(err, errno, "connect %s", path);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, basename(b));
		if (strlen(sa.sun_path) >= sizeof(sa.sun_path) - 1)
			return rt_err_set(err, ENAMETOOLONG, "connect %s: name too long", path);
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return rt_err_sys(err, errno, "connect %s", path);
	return steal_fd(fd);
}

int rt_console_send(const char *socket_path, int master, struct rt_err *err)
{
	_cleanup_close_ int fd = rt_unix_connect(socket_path, SOCK_STREAM, err);
	static const char name[] = "/dev/ptmx";
	int r;

	if (fd < 0)
		return rt_err_wrap(err, "--console-socket");
	r = rt_send_fd(fd, master, name, sizeof(name) - 1);
	if (r < 0)
		return rt_err_sys(err, -r, "--console-socket %s: send pty", socket_path);
	return 0;
}

static int pump(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	return rt_write_all(to, buf, (size_t)n) < 0 ? -1 : 0;
}

int rt_console_relay(int master, struct rt_err *err)
{
	struct termios saved, raw;
	bool is_tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = master, .events = POLLIN },
	};

	if (is_tty) {
		struct winsize ws;
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (pump(master, STDOUT_FILENO) < 0)
				break;
		}
		if (pfd[0].revents & POLLIN) {
			if (pump(STDIN_FILENO, master) < 0)
				pfd[0].fd = -1;
		} else if (pfd[0].revents & (POLLHUP | POLLERR)) {
			pfd[0].fd = -1;
		}
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	(void)err;
	return 0;
}
