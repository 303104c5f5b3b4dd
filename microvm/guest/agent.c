/* The guest's exec agent (see agent.h).  Everything the host sends is
 * bounded by the codec (frame size, item counts) and checked here (frame
 * order, signal numbers); a bad frame ends the session and its process. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* After the process ended, how long its stdio may still be drained: a
 * daemon it left behind may hold the pipes open for ever. */
#define DRAIN_MS 300

struct sess {
	int conn;
	struct ap_reader rd;
	struct ap_exec req;
	uint8_t req_buf[AP_MAX_PAYLOAD];
	int in, out, err;        /* our ends: stdin (write), stdout, stderr (read) */
	int pty;                 /* tty mode: the master is in, out and err */
	int pidfd;
	pid_t pid;
	int status;              /* wait status, once reaped */
	int exited;
	uint8_t pend[AP_MAX_PAYLOAD];   /* stdin not yet taken by the process */
	size_t pend_len, pend_off;
	uint8_t io[AP_MAX_PAYLOAD];
};

void agent_setup(void)
{
	mkdir("/dev/pts", 0755);
	mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620");
}

/* Failures before the process exists go back as one ERROR frame:
 * "<what><arg>: <strerror(e)>". */
static int fail(struct sess *s, int code, const char *what, const char *arg, int e)
{
	char msg[512];
	int n = snprintf(msg + 1, sizeof(msg) - 1, "%s%s: %s", what, arg, strerror(e));

	msg[0] = (char)code;
	if (n < 0 || (size_t)n >= sizeof(msg) - 1)
		n = (int)sizeof(msg) - 2;
	ap_write(s->conn, AP_ERROR, msg, (size_t)n + 1);
	return 1;
}

/* The first frame must be the request. */
static int read_request(struct sess *s)
{
	struct ap_frame f;
	int r;

	while ((r = ap_reader_next(&s->rd, &f)) == 0)
		if (ap_reader_fill(&s->rd, s->conn) <= 0)
			return -EPIPE;
	if (r < 0 || f.type != AP_EXEC)
		return -EBADMSG;
	memcpy(s->req_buf, f.data, f.len);
	return ap_exec_decode(s->req_buf, f.len, &s->req);
}

/* Join the workload's mount namespace, its root, and (for the children)
 * its pid namespace.  The root is opened first: after the setns the
 * namespace's root mount need not be the one the workload was put in. */
static int join_container(pid_t pid)
{
	static const char *const names[] = { "root", "ns/mnt", "ns/pid" };
	int fd[3], r = 0;
	char path[64];

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, names[i]);
		fd[i] = open(path, (i ? O_RDONLY : O_PATH | O_DIRECTORY) | O_CLOEXEC);
		if (fd[i] < 0)
			r = -errno;
	}
	if (!r && (setns(fd[1], CLONE_NEWNS) < 0 || fchdir(fd[0]) < 0 || chroot(".") < 0 ||
		   chdir("/") < 0 || setns(fd[2], CLONE_NEWPID) < 0))
		r = -errno;
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return r;
}

static int open_pty(struct sess *s, int *slave)
{
	struct winsize ws = { (unsigned short)s->req.rows, (unsigned short)s->req.cols, 0, 0 };

	s->pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->pty < 0 || unlockpt(s->pty) < 0)
		return -errno;
	*slave = ioctl(s->pty, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		const char *name = ptsname(s->pty);

		*slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
		if (*slave < 0)
			return -errno;
	}
	if (ws.ws_row && ws.ws_col)
		ioctl(s->pty, TIOCSWINSZ, &ws);
	s->in = s->out = s->pty;
	fcntl(s->pty, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Our ends of the process's stdio in s; its ends in child[3]. */
static int open_stdio(struct sess *s, int child[3])
{
	int p[3][2];

	if (s->req.tty) {
		int r = open_pty(s, &child[0]);

		child[1] = child[2] = child[0];
		return r;
	}
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			return -errno;
	child[0] = p[0][0], s->in = p[0][1];
	s->out = p[1][0], child[1] = p[1][1];
	s->err = p[2][0], child[2] = p[2][1];
	fcntl(s->in, F_SETFL, O_NONBLOCK);
	return 0;
}

/* The new process.  An exec or cwd failure goes back on report as
 * errno and a stage byte (EOF there: the exec happened). */
static _Noreturn void exec_child(struct sess *s, const int child[3], int report,
				 const struct agent_env *e)
{
	extern char **environ;
	sigset_t none;
	struct { int err; char stage; } r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);     /* an ignored signal stays so across exec */
	setsid();
	for (int i = 0; i < 3; i++)
		if (dup2(child[i], i) < 0)
			_exit(127);
	if (s->req.tty)
		ioctl(0, TIOCSCTTY, 0);
	if (e->become)
		e->become(e->ctx, &s->req);
	r.stage = 'c';
	if (chdir(s->req.cwd) == 0) {
		r.stage = 'e';
		environ = s->req.env;
		execvp(s->req.args[0], s->req.args);
	}
	r.err = errno;
	if (write(report, &r, sizeof(r)) < 0)
		_exit(127);
	_exit(127);
}

static int spawn(struct sess *s, const struct agent_env *e)
{
	int child[3] = { -1, -1, -1 }, rep[2], r;
	struct { int err; char stage; } m;
	ssize_t n;

	if (e->ns_pid > 0 && (r = join_container(e->ns_pid)) < 0)
		return fail(s, 127, "join the container", "", -r);
	if ((r = open_stdio(s, child)) < 0)
		return fail(s, 127, "stdio", "", -r);
	if (pipe2(rep, O_CLOEXEC) < 0)
		return fail(s, 127, "pipe", "", errno);
	s->pid = fork();
	if (s->pid < 0)
		return fail(s, 127, "fork", "", errno);
	if (s->pid == 0)
		exec_child(s, child, rep[1], e);
	for (int i = 0; i < 3; i++)
		if (child[i] >= 0 && (i == 0 || child[i] != child[0]))
			close(child[i]);
	close(rep[1]);
	do
		n = read(rep[0], &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == sizeof(m)) {
		waitpid(s->pid, NULL, 0);
		if (m.stage == 'c')
			return fail(s, 127, "cwd ", s->req.cwd, m.err);
		return fail(s, m.err == ENOENT ? 127 : 126, "exec ", s->req.args[0], m.err);
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		return fail(s, 127, "pidfd", "", errno);
	}
	return ap_write(s->conn, AP_STARTED, NULL, 0) < 0;
}

/* ---- the relay ------------------------------------------------------- */

static void flush_stdin(struct sess *s)
{
	while (s->pend_off < s->pend_len) {
		ssize_t n = write(s->in, s->pend + s->pend_off, s->pend_len - s->pend_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {         /* the process closed its stdin: drop the rest */
			s->pend_off = s->pend_len;
			break;
		}
		s->pend_off += (size_t)n;
	}
	s->pend_len = s->pend_off = 0;
}

static int on_frame(struct sess *s, const struct ap_frame *f)
{
	struct winsize ws;

	switch (f->type) {
	case AP_STDIN:
		if (s->in < 0)
			return 0;
		memcpy(s->pend, f->data, f->len);
		s->pend_len = f->len, s->pend_off = 0;
		flush_stdin(s);
		return 0;
	case AP_STDIN_EOF:
		if (s->pty < 0 && s->in >= 0 && !s->pend_len) {
			close(s->in);
			s->in = -1;
		}
		return 0;
	case AP_WINSIZE:
		if (f->len != 4)
			return -EBADMSG;
		ws = (struct winsize){ (unsigned short)(f->data[0] | f->data[1] << 8),
				       (unsigned short)(f->data[2] | f->data[3] << 8), 0, 0 };
		if (s->pty >= 0)
			ioctl(s->pty, TIOCSWINSZ, &ws);
		return 0;
	case AP_SIGNAL:
		if (f->len != 1 || f->data[0] < 1 || f->data[0] >= NSIG)
			return -EBADMSG;
		if (!s->exited)
			kill(s->pid, f->data[0]);
		return 0;
	default:
		return -EBADMSG;    /* a second EXEC, or a guest-only type */
	}
}

/* Frames already read, while the process takes its stdin. */
static int take_frames(struct sess *s)
{
	struct ap_frame f;
	int r;

	while (!s->pend_len && (r = ap_reader_next(&s->rd, &f)) > 0)
		if (on_frame(s, &f) < 0)
			return -EBADMSG;
	return s->pend_len ? 0 : r;
}

/* One read of the process's output into a frame; EOF (or EIO on a pty
 * whose slave is gone) closes our end. */
static void pump(struct sess *s, int *fd, uint8_t type)
{
	ssize_t n = read(*fd, s->io, sizeof(s->io));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (*fd == s->pty)
			s->in = s->pty = -1;
		close(*fd);
		*fd = -1;
		return;
	}
	if (ap_write(s->conn, type, s->io, (size_t)n) < 0)
		s->conn = -1;
}

static void reap(struct sess *s)
{
	if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
		s->exited = 1;
		close(s->pidfd);
		s->pidfd = -1;
	}
}

/* Until the process ended and its output is drained (or DRAIN_MS passed);
 * -EPIPE when the host went away or broke the protocol. */
static int relay(struct sess *s)
{
	for (;;) {
		if (s->exited && s->out < 0 && s->err < 0)
			return 0;
		struct pollfd pf[5] = {
			{ .fd = s->pend_len ? -1 : s->conn, .events = POLLIN },
			{ .fd = s->pend_len ? s->in : -1, .events = POLLOUT },
			{ .fd = s->out, .events = POLLIN },
			{ .fd = s->err, .events = POLLIN },
			{ .fd = s->pidfd, .events = POLLIN },
		};
		int n = poll(pf, 5, s->exited ? DRAIN_MS : -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (s->exited && n == 0)
			return 0;
		if (pf[0].revents && (ap_reader_fill(&s->rd, s->conn) <= 0 || take_frames(s) < 0))
			return -EPIPE;
		if (pf[1].revents && (flush_stdin(s), take_frames(s) < 0))
			return -EPIPE;
		if (pf[2].revents)
			pump(s, &s->out, AP_STDOUT);
		if (pf[3].revents)
			pump(s, &s->err, AP_STDERR);
		if (pf[4].revents)
			reap(s);
		if (s->conn < 0)
			return -EPIPE;
	}
}

int agent_handle(int conn, const struct agent_env *e)
{
	static struct sess s;
	uint8_t ex[2];
	int r;

	memset(&s, 0, sizeof(s));
	s.conn = conn;
	s.in = s.out = s.err = s.pty = s.pidfd = -1;
	signal(SIGPIPE, SIG_IGN);
	r = read_request(&s);
	if (r == -EPIPE)
		return 1;
	if (r < 0)
		return fail(&s, 127, "bad exec request", "", EBADMSG);
	if (spawn(&s, e))
		return 1;
	if (relay(&s) < 0) {
		/* The host hung up (or broke the protocol): the process goes too. */
		if (!s.exited) {
			kill(s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
		}
		return 1;
	}
	ex[0] = WIFSIGNALED(s.status);
	ex[1] = (uint8_t)(ex[0] ? WTERMSIG(s.status) : WEXITSTATUS(s.status));
	ap_write(conn, AP_EXIT, ex, 2);
	return 0;
}

/* ---- the listener ---------------------------------------------------- */

static int listen_vsock(void)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_port = AP_VSOCK_PORT,
				 .svm_cid = VMADDR_CID_ANY };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
		return -1;
	return fd;
}

static _Noreturn void serve(int lfd, const struct agent_env *e)
{
	/* Handlers are reaped by the kernel; a handler reaps its process. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (c < 0) {
			if (errno != EINTR)
				usleep(100 * 1000);    /* no busy loop on a persistent error */
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			signal(SIGCHLD, SIG_DFL);
			_exit(agent_handle(c, e));
		}
		close(c);
	}
}

void agent_start(const struct agent_env *env, int pid_fd)
{
	struct agent_env e = *env;
	sigset_t none;
	int lfd;

	if (fork() != 0)
		return;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pid_fd >= 0 && read(pid_fd, &e.ns_pid, sizeof(e.ns_pid)) != sizeof(e.ns_pid))
		_exit(0);        /* the workload was never started */
	lfd = listen_vsock();
	if (lfd < 0)
		_exit(0);        /* no vsock in this guest: exec is not offered */
	serve(lfd, &e);
}
