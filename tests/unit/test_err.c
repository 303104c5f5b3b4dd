/* runtime/err.c, runtime/util.c and runtime/sync.c: the error type, the
 * small helpers everything uses, and the parent/child message channel. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/err.h"
#include "runtime/sync.h"
#include "runtime/util.h"

Test(err, set_returns_negative_errno)
{
	struct rt_err e = {0};

	cr_assert_eq(rt_err_set(&e, ENOENT, "missing %s", "x"), -ENOENT);
	cr_assert_eq(e.code, ENOENT);
	cr_assert_str_eq(e.msg, "missing x");
	cr_assert_eq(rt_err_set(&e, -EPERM, "neg"), -EPERM, "negative codes are normalised");
	cr_assert_eq(rt_err_set(&e, 0, "zero"), -EINVAL, "0 becomes EINVAL");
}

Test(err, sys_appends_strerror)
{
	struct rt_err e = {0};

	rt_err_sys(&e, ENOENT, "open %s", "/x");
	cr_assert_str_eq(e.msg, "open /x: No such file or directory");
}

Test(err, wrap_prepends_context)
{
	struct rt_err e = {0};

	rt_err_set(&e, EINVAL, "expected a number");
	cr_assert_eq(rt_err_wrap(&e, "config.json: %s", "process.user.uid"), -EINVAL);
	cr_assert_str_eq(e.msg, "config.json: process.user.uid: expected a number");
}

Test(err, long_messages_truncate_safely)
{
	struct rt_err e = {0};
	char big[4000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rt_err_set(&e, EINVAL, "%s", big);
	rt_err_wrap(&e, "ctx");
	cr_assert_eq(strlen(e.msg), RT_ERR_MSG_MAX - 1);
	cr_assert_eq(strncmp(e.msg, "ctx: ", 5), 0);
}

Test(util, signal_names_and_numbers)
{
	cr_assert_eq(rt_signal_parse("KILL"), SIGKILL);
	cr_assert_eq(rt_signal_parse("SIGTERM"), SIGTERM);
	cr_assert_eq(rt_signal_parse("sigusr1"), SIGUSR1);
	cr_assert_eq(rt_signal_parse("9"), 9);
	cr_assert_eq(rt_signal_parse("RTMIN+2"), SIGRTMIN + 2);
	cr_assert_eq(rt_signal_parse("RTMAX"), SIGRTMAX);
	cr_assert_eq(rt_signal_parse("NOPE"), -1);
	cr_assert_eq(rt_signal_parse("0"), -1);
	cr_assert_eq(rt_signal_parse("9x"), -1);
	cr_assert_eq(rt_signal_parse("99"), -1);
	cr_assert_eq(rt_signal_parse(""), -1);
}

Test(util, status_from_wait)
{
	cr_assert_eq(rt_status_from_wait(3 << 8), 3);
	cr_assert_eq(rt_status_from_wait(SIGKILL), 137);
}

Test(util, wait_status_of_children)
{
	pid_t p = fork();

	if (p == 0)
		_exit(7);
	cr_assert_eq(rt_wait_status(p), 7);
	p = fork();
	if (p == 0) {
		raise(SIGTERM);
		_exit(0);
	}
	cr_assert_eq(rt_wait_status(p), 128 + SIGTERM);
}

Test(util, files_atomic_and_limits)
{
	char dir[] = "/tmp/hull-unit-util.XXXXXX", path[128];
	_cleanup_free_ char *buf = NULL;
	struct rt_err e = {0};
	size_t len;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	cr_assert_eq(rt_write_file_atomic(path, "hello", 5, 0600, &e), 0, "%s", e.msg);
	cr_assert_eq(rt_read_file(path, 100, &buf, &len, &e), 0);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(len, 5);
	free(buf);
	buf = NULL;
	cr_assert_eq(rt_read_file(path, 3, &buf, &len, &e), -EFBIG, "max is enforced");
	cr_assert_eq(rt_write_file_atomic(path, "x", 1, 0600, &e), 0, "replaces");
	cr_assert_eq(rt_read_file(path, 100, &buf, &len, &e), 0);
	cr_assert_str_eq(buf, "x");
	unlink(path);
	rmdir(dir);
}

Test(util, mkdir_p_in_root_stays_inside)
{
	char dir[] = "/tmp/hull-unit-root.XXXXXX", p[256];
	struct rt_err e = {0};
	struct stat st;
	int root, fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/escape", dir);
	cr_assert_eq(symlink("/", p), 0);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* "escape" points at the host root: resolved in root, it is the root. */
	fd = rt_mkdir_p_in_root(root, "/escape/hull-unit-made/sub", 0755, &e);
	cr_assert_geq(fd, 0, "%s", e.msg);
	close(fd);
	snprintf(p, sizeof(p), "%s/hull-unit-made/sub", dir);
	cr_assert_eq(stat(p, &st), 0, "created inside the root");
	cr_assert_neq(stat("/hull-unit-made", &st), 0, "nothing on the host root");
	cr_assert_eq(rt_mkdir_p_in_root(root, "a/../../b", 0755, &e), -EINVAL);
	close(root);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	cr_assert_eq(system(p), 0);
}

Test(util, strv_join)
{
	char *v[] = { "a", "b c", "d", NULL };
	_cleanup_free_ char *s = rt_strv_join(v, " ");

	cr_assert_str_eq(s, "a b c d");
	cr_assert_eq(rt_strv_len(v), 3);
}

Test(sync, stages_errors_and_fds)
{
	int sv[2], fd = -1;
	struct rt_sync_msg m;
	struct rt_err e = {0}, sent = {0};

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(rt_sync_send(sv[0], SYNC_INIT_PID, 42, NULL, -1), 0);
	cr_assert_eq(rt_sync_expect(sv[1], SYNC_INIT_PID, &m, NULL, &e), 0);
	cr_assert_eq(m.value, 42);

	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(rt_sync_send(sv[0], SYNC_PTY_MASTER, 0, NULL, devnull), 0);
	cr_assert_eq(rt_sync_expect(sv[1], SYNC_PTY_MASTER, &m, &fd, &e), 0);
	cr_assert_geq(fd, 0, "the fd travels");
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "received fds are CLOEXEC");
	close(fd);
	close(devnull);

	/* a warning is skipped by expect; an error becomes the caller's error */
	rt_sync_send(sv[0], SYNC_WARNING, 0, "careful", -1);
	rt_err_set(&sent, ENOENT, "exec nosuch: No such file or directory");
	rt_sync_send_err(sv[0], &sent);
	cr_assert_eq(rt_sync_expect(sv[1], SYNC_READY, &m, NULL, &e), -ENOENT);
	cr_assert_str_eq(e.msg, "exec nosuch: No such file or directory");

	/* a wrong stage is a protocol error */
	rt_sync_send(sv[0], SYNC_GO, 0, NULL, -1);
	cr_assert_eq(rt_sync_expect(sv[1], SYNC_READY, &m, NULL, &e), -EPROTO);

	/* the peer gone is EPIPE with a message about the container process */
	close(sv[0]);
	cr_assert_eq(rt_sync_recv(sv[1], &m, NULL, &e), -EPIPE);
	cr_assert(strstr(e.msg, "exited during setup"));
	close(sv[1]);
}
