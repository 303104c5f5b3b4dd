#include "config.h"
/* OCI hooks: each one is forked and exec'd with the container state on its
 * stdin.  The parent feeds stdin and waits for the exit in one poll loop
 * over a pidfd, so a hook that neither reads its stdin nor exits is still
 * killed at its timeout. */

#include "runtime/hooks.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct hook_ctx {
	const struct rt_hook *hook;
	const char *kind;
	size_t index;
};

/* ---- child side ---- */

static void close_range_fallback(unsigned lo, unsigned hi)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (long fd = lo; fd < max && (unsigned long)fd <= hi; fd++)
		close((int)fd);
}

/* Between fork and exec: stdin from the pipe, stdout/stderr inherited,
 * everything else closed except the CLOEXEC error pipe. */
static _Noreturn void exec_hook(const struct rt_hook *h, int in_r, int err_w)
{
	char *default_args[] = { (char *)h->path, NULL };
	char *empty_env[] = { NULL };
	sigset_t none;
	int e;

	/* Ignored and blocked signals survive exec; the hook gets a clean slate. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Lift both fds above stdio so dup2 below cannot clobber them. */
	in_r = fcntl(in_r, F_DUPFD_CLOEXEC, 3);
	err_w = fcntl(err_w, F_DUPFD_CLOEXEC, 3);
	if (in_r < 0 || err_w < 0 || dup2(in_r, STDIN_FILENO) < 0)
		goto fail;
	close_range_fallback(3, (unsigned)err_w - 1);
	close_range_fallback((unsigned)err_w + 1, ~0U);
	execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
fail:
	e = errno;
	if (err_w >= 0)
		(void)!write(err_w, &e, sizeof(e));
	_exit(127);
}

/* ---- parent side ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A write that cannot raise SIGPIPE in this process: SIGPIPE is blocked on
 * this thread for the write, and one it raised is consumed before the mask
 * is restored.  Leaves the process-wide disposition alone. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* Feed stdin as the pipe has room; true once nothing more is to be written. */
static bool feed_stdin(int *wfd, const char *data, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = write_nosigpipe(*wfd, data + *off, len - *off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n < 0)
			break;   /* EPIPE: the hook does not read stdin, which is fine */
		*off += (size_t)n;
	}
	close(*wfd);
	*wfd = -1;
	return true;
}

static int hook_error(const struct hook_ctx *c, struct rt_err *err, int code, const char *what)
{
	return rt_err_set(err, code, "%s hook #%zu (%s) %s", c->kind, c->index, c->hook->path, what);
}

/* Returns 1 if the hook exited in time, 0 on timeout. */
static int feed_and_wait(const struct hook_ctx *c, int pidfd, int wfd, const char *state,
			 struct rt_err *err)
{
	size_t len = state ? strlen(state) : 0, off = 0;
	long long deadline = c->hook->timeout > 0 ? now_ms() + c->hook->timeout * 1000LL : -1;
	_cleanup_close_ int w = wfd;

	if (fcntl(w, F_SETFL, O_NONBLOCK) < 0)
		return rt_err_sys(err, errno, "%s hook #%zu: fcntl", c->kind, c->index);
	feed_stdin(&w, state, len, &off);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = w, .events = POLLOUT },
		};
		int timeout = -1, n;

		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return 0;
			timeout = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		n = poll(pfd, w >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_err_sys(err, errno, "%s hook #%zu: poll", c->kind, c->index);
		if (w >= 0 && pfd[1].revents)
			feed_stdin(&w, state, len, &off);
		if (pfd[0].revents)
			return 1;
	}
}

static int check_status(const struct hook_ctx *c, int status, struct rt_err *err)
{
	char what[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "ended with wait status %#x", status);
	return hook_error(c, err, ECANCELED, what);
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The exec error pipe reads EOF when execve succeeded (CLOEXEC closed it)
 * and the child's errno when it did not. */
static int exec_result(int err_r)
{
	int e = 0;
	ssize_t n;

	do
		n = read(err_r, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

static int run_hook(const struct hook_ctx *c, const char *state, struct rt_err *err)
{
	_cleanup_close_ int in_r = -1, in_w = -1, err_r = -1, err_w = -1, pidfd = -1;
	int fds[2], status, r, e;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "%s hook #%zu: pipe", c->kind, c->index);
	in_r = fds[0], in_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "%s hook #%zu: pipe", c->kind, c->index);
	err_r = fds[0], err_w = fds[1];
	pid = fork();
	if (pid < 0)
		return rt_err_sys(err, errno, "%s hook #%zu: fork", c->kind, c->index);
	if (pid == 0)
		exec_hook(c->hook, in_r, err_w);
	close(steal_fd(in_r));
	close(steal_fd(err_w));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		e = errno;
		kill(pid, SIGKILL);
		reap(pid, &status);
		return rt_err_sys(err, e, "%s hook #%zu: pidfd_open", c->kind, c->index);
	}
	e = exec_result(err_r);
	if (e) {
		reap(pid, &status);
		return rt_err_sys(err, e, "%s hook #%zu (%s): cannot execute", c->kind, c->index,
				  c->hook->path);
	}
	r = feed_and_wait(c, pidfd, steal_fd(in_w), state, err);
	if (r <= 0) {
		kill(pid, SIGKILL);
		reap(pid, &status);
		if (r == 0)
			return rt_err_set(err, ETIMEDOUT, "%s hook #%zu (%s) timed out after %ds",
					  c->kind, c->index, c->hook->path, c->hook->timeout);
		return r;
	}
	if ((r = reap(pid, &status)) < 0)
		return rt_err_sys(err, -r, "%s hook #%zu: waitpid", c->kind, c->index);
	return check_status(c, status, err);
}

int rt_hooks_run(const struct rt_hook_list *list, enum rt_hook_kind kind, const char *state_json,
		 struct rt_err *err)
{
	/* runtime.md: a failing poststart or poststop hook is a warning and
	 * "the remaining hooks and lifecycle continue" */
	bool go_on = kind == RT_HOOK_POSTSTART || kind == RT_HOOK_POSTSTOP;
	struct rt_err later = {0};
	int first = 0;

	if (!list)
		return 0;
	for (size_t i = 0; i < list->n; i++) {
		struct hook_ctx c = { .hook = &list->hooks[i], .kind = rt_hook_kind_name(kind), .index = i };
		int r;

		if (!c.kind)
			c.kind = "unknown";
		r = run_hook(&c, state_json, first < 0 ? &later : err);
		if (r < 0 && !go_on)
			return r;
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
