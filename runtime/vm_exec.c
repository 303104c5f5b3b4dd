/* exec in a VM-isolated container (see vm_exec.h).  The process runs in
 * the guest, started by its agent; here we only speak the protocol: the
 * request, stdio and signals out, output and the exit status back.
 * Everything the guest sends is hostile: frame types, lengths, the exit
 * status and the error text are checked before use.  One session per
 * process: the frame reader is static. */
#include "config.h"
#include "runtime/vm_exec.h"
#include "runtime/cleanup.h"
#include "runtime/console.h"
#include "runtime/log.h"
#include "microvm/agent_proto.h"
#include "microvm/vm_plan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define CONNECT_TRIES 150            /* x 200 ms: a VM booting under nested TCG is slow */
#define HANDSHAKE_MS 10000

static struct ap_reader rd;

/* The signals a foreground exec hands to the process (WINCH: its size). */
static const int fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				SIGWINCH };

/* ---- connecting -------------------------------------------------------- */

int rt_vm_exec_connect(const char *root, const char *id, struct rt_err *err)
{
	for (int tries = 0;; tries++) {
		int fd = vm_vsock_connect(root, id, AP_VSOCK_PORT, HANDSHAKE_MS, err);

		if (fd >= 0)
			return fd;
		/* Refused: nothing listens in the guest yet (it is still booting). */
		if (err->code != ECONNREFUSED || tries >= CONNECT_TRIES)
			return rt_err_wrap(err, "exec: the guest's agent (vsock port %d)",
					   AP_VSOCK_PORT);
		rt_err_clear(err);
		usleep(200 * 1000);
	}
}

/* ---- the request ------------------------------------------------------- */

static int encode_request(const struct rt_process *pr, unsigned rows, unsigned cols,
			  uint8_t *buf, struct rt_err *err)
{
	_cleanup_free_ struct ap_exec *q = calloc(1, sizeof(*q));
	ssize_t n;

	if (!q)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (pr->n_args > AP_MAX_ITEMS || pr->n_env > AP_MAX_ITEMS ||
	    pr->user.n_additional_gids > AP_MAX_GROUPS)
		return rt_err_set(err, E2BIG, "exec: the guest takes at most %d args, %d env "
				  "entries and %d additional gids", AP_MAX_ITEMS, AP_MAX_ITEMS,
				  AP_MAX_GROUPS);
	memcpy(q->args, pr->args, pr->n_args * sizeof(char *));
	memcpy(q->env, pr->env, pr->n_env * sizeof(char *));
	memcpy(q->groups, pr->user.additional_gids, pr->user.n_additional_gids * sizeof(gid_t));
	q->n_args = (int)pr->n_args, q->n_env = (int)pr->n_env;
	q->n_groups = (int)pr->user.n_additional_gids;
	q->cwd = pr->cwd, q->uid = pr->user.uid, q->gid = pr->user.gid;
	q->tty = pr->terminal, q->rows = rows, q->cols = cols;
	n = ap_exec_encode(q, buf, AP_MAX_PAYLOAD);
	if (n < 0)
		return rt_err_set(err, E2BIG, "exec: args and env over the guest's %d KiB",
				  AP_MAX_PAYLOAD / 1024);
	return (int)n;
}

/* The guest's ERROR: its status byte and its text, made printable. */
static int guest_error(const struct ap_frame *f, int *status, struct rt_err *err)
{
	char msg[256];
	size_t n = 0;

	*status = f->len && (f->data[0] == 126 || f->data[0] == 127) ? f->data[0] : 127;
	for (uint32_t i = 1; i < f->len && n < sizeof(msg) - 1; i++)
		msg[n++] = f->data[i] >= 0x20 && f->data[i] < 0x7f ? (char)f->data[i] : '?';
	msg[n] = 0;
	return rt_err_set(err, *status == 127 ? ENOENT : EACCES, "%s", n ? msg : "exec failed");
}

/* The next frame from the guest, reading as needed; EOF is an error. */
static int next_frame(int conn, struct ap_frame *f, struct rt_err *err)
{
	for (;;) {
		int r = ap_reader_next(&rd, f);
		ssize_t n;

		if (r > 0)
			return 0;
		if (r < 0)
			return rt_err_set(err, EBADMSG, "exec: a bad frame from the guest");
		n = ap_reader_fill(&rd, conn);
		if (n == 0)
			return rt_err_set(err, ECONNRESET, "exec: the guest's agent closed the "
					  "connection before the process's exit status");
		if (n < 0)
			return rt_err_sys(err, (int)-n, "exec: read from the guest");
	}
}

int rt_vm_exec_start(int conn, const struct rt_process *pr, unsigned rows, unsigned cols,
		     int *status, struct rt_err *err)
{
	_cleanup_free_ uint8_t *buf = malloc(AP_MAX_PAYLOAD);
	struct ap_frame f;
	int n;

	memset(&rd, 0, sizeof(rd));
	if (!buf)
		return rt_err_set(err, ENOMEM, "out of memory");
	n = encode_request(pr, rows, cols, buf, err);
	if (n < 0)
		return n;
	if ((n = ap_write(conn, AP_EXEC, buf, (size_t)n)) < 0)
		return rt_err_sys(err, -n, "exec: send the request to the guest");
	if (next_frame(conn, &f, err) < 0)
		return -err->code;
	if (f.type == AP_ERROR)
		return guest_error(&f, status, err);
	if (f.type != AP_STARTED)
		return rt_err_set(err, EBADMSG, "exec: frame %u from the guest before the start",
				  f.type);
	return 0;
}

/* ---- the relay --------------------------------------------------------- */

struct relay {
	int conn, in, out, err, tty;
	int status;               /* -1 until EXIT */
	bool dead_out;            /* our stdout went away: drop the rest */
	bool dead_conn;           /* the guest closed its reading side */
};

/* To the guest.  Once it has closed (the process ended: its EXIT may
 * already wait in our buffer), what we would still send is moot. */
static int to_guest(struct relay *r, uint8_t type, const void *data, size_t len)
{
	int e = r->dead_conn ? 0 : ap_write(r->conn, type, data, len);

	if (e == -EPIPE || e == -ECONNRESET) {
		r->dead_conn = true;
		r->in = -1;
		return 0;
	}
	return e;
}

static int send_winsize(struct relay *r)
{
	struct winsize ws;
	uint8_t b[4];

	if (r->tty < 0 || ioctl(r->tty, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return 0;
	b[0] = (uint8_t)ws.ws_row, b[1] = (uint8_t)(ws.ws_row >> 8);
	b[2] = (uint8_t)ws.ws_col, b[3] = (uint8_t)(ws.ws_col >> 8);
	return to_guest(r, AP_WINSIZE, b, 4);
}

static int on_signals(struct relay *r, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		uint8_t sig = (uint8_t)si.ssi_signo;
		int e = sig == SIGWINCH ? send_winsize(r) : to_guest(r, AP_SIGNAL, &sig, 1);

		if (e < 0)
			return e;
	}
	return 0;
}

static int on_stdin(struct relay *r, uint8_t *buf)
{
	ssize_t n = read(r->in, buf, AP_MAX_PAYLOAD);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n > 0)
		return to_guest(r, AP_STDIN, buf, (size_t)n);
	r->in = -1;        /* EOF (or a pty whose other side closed) */
	return to_guest(r, AP_STDIN_EOF, NULL, 0);
}

static void put_out(struct relay *r, int fd, const struct ap_frame *f)
{
	const uint8_t *p = f->data;
	size_t len = f->len;

	while (len && !r->dead_out) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {    /* an engine's non-blocking pipe */
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, -1);
			continue;
		}
		if (n < 0) {
			r->dead_out = true;
			break;
		}
		p += n, len -= (size_t)n;
	}
}

/* 1 once the status is in, 0 for more, -errno. */
static int on_frame(struct relay *r, const struct ap_frame *f, struct rt_err *err)
{
	switch (f->type) {
	case AP_STDOUT:
		put_out(r, r->out, f);
		return 0;
	case AP_STDERR:
		put_out(r, r->err >= 0 ? r->err : r->out, f);
		return 0;
	case AP_EXIT:
		if (f->len != 2 || f->data[0] > 1 || (f->data[0] && (!f->data[1] || f->data[1] >= NSIG)))
			return rt_err_set(err, EBADMSG, "exec: a bad exit status from the guest");
		r->status = f->data[0] ? 128 + f->data[1] : f->data[1];
		return 1;
	default:
		return rt_err_set(err, EBADMSG, "exec: unexpected frame %u from the guest", f->type);
	}
}

static int relay_loop(struct relay *r, int sfd, struct rt_err *err)
{
	_cleanup_free_ uint8_t *buf = malloc(AP_MAX_PAYLOAD);
	struct ap_frame f;
	int e;

	if (!buf)
		return rt_err_set(err, ENOMEM, "out of memory");
	if ((e = send_winsize(r)) < 0)
		return rt_err_sys(err, -e, "exec: write to the guest");
	for (;;) {
		struct pollfd all[3] = { { .fd = r->conn, .events = POLLIN },
					 { .fd = r->in, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };

		/* Frames already read go first: poll only when none is complete. */
		while ((e = ap_reader_next(&rd, &f)) > 0)
			if ((e = on_frame(r, &f, err)) != 0)
				return e < 0 ? e : 0;
		if (e < 0)
			return rt_err_set(err, EBADMSG, "exec: a bad frame from the guest");
		if (poll(all, 3, -1) < 0 && errno != EINTR)
			return rt_err_sys(err, errno, "poll");
		e = 0;
		if (all[2].revents)
			e = on_signals(r, sfd);
		if (!e && all[1].revents)
			e = on_stdin(r, buf);
		if (e < 0)
			return rt_err_sys(err, -e, "exec: write to the guest");
		if (all[0].revents) {
			ssize_t n = ap_reader_fill(&rd, r->conn);

			if (n == 0)
				return rt_err_set(err, ECONNRESET, "exec: the guest's agent closed "
						  "the connection before the process's exit status");
			if (n < 0)
				return rt_err_sys(err, (int)-n, "exec: read from the guest");
		}
	}
}

int rt_vm_exec_relay(int conn, const struct rt_vm_io *io, int *status, struct rt_err *err)
{
	struct relay r = { .conn = conn, .in = io->in, .out = io->out, .err = io->err,
			   .tty = io->tty, .status = -1 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
	sigset_t set, old;
	int sfd, ret;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fwd_sigs) / sizeof(fwd_sigs[0]); i++)
		sigaddset(&set, fwd_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* A reader of our stdout that went away must not end the relay. */
	sigaction(SIGPIPE, &ign, &oldpipe);
	ret = sfd < 0 ? rt_err_sys(err, errno, "signalfd") : relay_loop(&r, sfd, err);
	sigaction(SIGPIPE, &oldpipe, NULL);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		return ret;
	*status = r.status;
	return 0;
}

/* ---- hull exec ----------------------------------------------------------- */

/* --console-socket: the pty is made here (the guest has its own), its
 * master goes to the engine as runc sends it, and we relay the slave. */
static int host_pty(const char *sock, int *slave, struct rt_err *err)
{
	_cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;
	const char *name;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)))
		return rt_err_sys(err, errno, "exec: open a pty");
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return rt_err_sys(err, errno, "exec: open %s", name);
	/* The guest's pty does the line discipline; this one only carries. */
	if (tcgetattr(*slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(*slave, TCSANOW, &t);
	}
	return rt_console_send(sock, m, err);
}

/* --detach: a relay process holds the session; its pid goes to the pid
 * file and it exits with the process's status, so an engine (conmon, the
 * containerd shim: subreapers) waits on it as on a process of its own. */
static int detach(const struct rt_exec_opts *o, int conn, const struct rt_vm_io *io,
		  struct rt_err *err)
{
	pid_t pid = fork();

	if (pid < 0)
		return rt_err_sys(err, errno, "fork");
	if (pid == 0) {
		struct rt_err e2 = {0};
		int st = 255;

		/* The engine resizes the master: SIGWINCH comes to the slave's session. */
		if (io->tty >= 0 && setsid() >= 0)
			ioctl(io->tty, TIOCSCTTY, 0);
		/* Nobody waits for our return: the log and the process's stderr
		 * (what the engine shows) are the only places to say why. */
		if (rt_vm_exec_relay(conn, io, &st, &e2) < 0) {
			rt_log(RT_LOG_ERROR, "%s", e2.msg);
			dprintf(io->err >= 0 ? io->err : io->out, "hull: %s\n", e2.msg);
		}
		_exit(st);
	}
	return o->pid_file ? rt_write_pid_file(o->pid_file, pid, err) : 0;
}

static int foreground(const struct rt_exec_opts *o, int conn, const struct rt_vm_io *io,
		      int *status, struct rt_err *err)
{
	struct termios saved, raw;
	bool is_raw = false;
	int r;

	if (o->pid_file && rt_write_pid_file(o->pid_file, getpid(), err) < 0)
		return -err->code;
	if (io->tty == STDIN_FILENO && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		is_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	r = rt_vm_exec_relay(conn, io, status, err);
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return r;
}

/* An engine may start us with a stdio fd closed: the connection must not
 * take its number, or the relay would read or write the protocol as stdio. */
static void fill_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int rt_vm_exec(const struct rt_exec_opts *o, const struct rt_process *pr, int *status,
	       struct rt_err *err)
{
	_cleanup_close_ int conn = -1, slave = -1;
	struct rt_vm_io io = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, -1 };
	struct winsize ws = { 0 };

	fill_stdio();

	if (pr->has_console_size)
		ws.ws_row = (unsigned short)pr->console_height,
		ws.ws_col = (unsigned short)pr->console_width;
	if (pr->terminal && o->console_socket) {
		if (host_pty(o->console_socket, &slave, err) < 0)
			return -err->code;
		io = (struct rt_vm_io){ slave, slave, slave, slave };
	} else if (pr->terminal && isatty(STDIN_FILENO)) {
		io.tty = STDIN_FILENO;
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	}
	conn = rt_vm_exec_connect(o->root, o->id, err);
	if (conn < 0 || rt_vm_exec_start(conn, pr, ws.ws_row, ws.ws_col, status, err) < 0)
		return -err->code;
	*status = 0;
	if (o->detach)
		return detach(o, conn, &io, err);
	return foreground(o, conn, &io, status, err);
}
