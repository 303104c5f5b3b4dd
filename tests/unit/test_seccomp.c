/* Seccomp plans: built from hand-made specs in the test process, loaded in
 * forked children so the test runner itself stays unfiltered. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/seccomp.h"

static struct rt_arena *A;

static void setup(void) { A = rt_arena_new(); }
static void teardown(void) { rt_arena_free(A); }

TestSuite(seccomp, .init = setup, .fini = teardown);

static char **strv(const char *first, ...)
{
	const char *items[16];
	size_t n = 0;
	va_list ap;
	char **v;

	va_start(ap, first);
	for (const char *s = first; s && n < 16; s = va_arg(ap, const char *))
		items[n++] = s;
	va_end(ap);
	v = rt_arena_array(A, n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = rt_arena_strdup(A, items[i]);
	return v;
}

static struct rt_seccomp *profile(enum rt_seccomp_action def, size_t n_rules)
{
	struct rt_seccomp *s = rt_arena_alloc(A, sizeof(*s));

	s->default_action = def;
	s->rules = rt_arena_array(A, n_rules ? n_rules : 1, sizeof(*s->rules));
	s->n_rules = n_rules;
	return s;
}

static void set_rule(struct rt_seccomp_rule *r, enum rt_seccomp_action a, char **names)
{
	r->action = a;
	r->names = names;
	for (r->n_names = 0; names[r->n_names]; r->n_names++)
		;
}

static struct rt_seccomp_plan *plan_ok(const struct rt_seccomp *s)
{
	struct rt_seccomp_plan *p = NULL;
	struct rt_err err = { 0 };
	int r = rt_seccomp_plan_new(s, &p, &err);

	cr_assert_eq(r, 0, "plan_new failed: %s", err.msg);
	cr_assert_not_null(p);
	return p;
}

/* Fork, load the plan in the child, run fn there; returns the wait status.
 * fn returns 0 on success, else the number of the failed check. */
static int in_child(const struct rt_seccomp_plan *p, int (*fn)(int listener))
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rt_err err = { 0 };
		int fd = -1;

		if (rt_seccomp_plan_load(p, &fd, &err) < 0) {
			fprintf(stderr, "load: %s\n", err.msg);
			_exit(100);
		}
		_exit(fn(fd));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit0(int status)
{
	cr_assert(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed check %d", WEXITSTATUS(status));
}

static int check_getcwd_errno(int expect)
{
	char buf[256];

	if (getcwd(buf, sizeof(buf)) != NULL)
		return 1;
	if (errno != expect)
		return 2;
	if (getpid() <= 0)
		return 3;
	if (access("/", F_OK) != 0)
		return 4;
	return 0;
}

static int child_getcwd42(int fd) { return fd == -1 ? check_getcwd_errno(42) : 9; }
static int child_getcwd_eperm(int fd) { return check_getcwd_errno(EPERM); }

Test(seccomp, errno_rule_with_errno_ret)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	set_rule(&s->rules[0], RT_SECCOMP_ERRNO, strv("getcwd", NULL));
	s->rules[0].has_errno_ret = true;
	s->rules[0].errno_ret = 42;
	p = plan_ok(s);
	cr_assert_not(rt_seccomp_plan_has_notify(p));
	assert_exit0(in_child(p, child_getcwd42));
	rt_seccomp_plan_free(p);
}

Test(seccomp, errno_defaults_to_eperm_and_unknown_names_skipped)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	/* vm86 and socketcall exist on x86 only: pseudo numbers on x86_64 */
	set_rule(&s->rules[0], RT_SECCOMP_ERRNO,
		 strv("no_such_syscall_hull", "vm86", "socketcall", "getcwd", NULL));
	p = plan_ok(s);
	assert_exit0(in_child(p, child_getcwd_eperm));
	rt_seccomp_plan_free(p);
}

static int child_getppid(int fd)
{
	syscall(SYS_getppid);
	return 0;   /* reached only if the filter did not kill */
}

Test(seccomp, kill_process_gives_sigsys)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;
	int status;

	set_rule(&s->rules[0], RT_SECCOMP_KILL_PROCESS, strv("getppid", NULL));
	p = plan_ok(s);
	status = in_child(p, child_getppid);
	cr_assert(WIFSIGNALED(status), "child was not killed (status %#x)", status);
	cr_assert_eq(WTERMSIG(status), SIGSYS);
	rt_seccomp_plan_free(p);
}

static int child_personality_query(int fd)
{
	if (personality(0xffffffff) != -1 || errno != EPERM)
		return 1;
	if (personality(PER_LINUX) < 0)
		return 2;
	return 0;
}

Test(seccomp, arg_comparison)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	set_rule(&s->rules[0], RT_SECCOMP_ERRNO, strv("personality", NULL));
	s->rules[0].args = rt_arena_array(A, 1, sizeof(struct rt_seccomp_arg));
	s->rules[0].n_args = 1;
	s->rules[0].args[0] = (struct rt_seccomp_arg){ .index = 0, .value = 0xffffffff,
						       .op = RT_SCMP_EQ };
	p = plan_ok(s);
	assert_exit0(in_child(p, child_personality_query));
	rt_seccomp_plan_free(p);
}

static int child_personality_or(int fd)
{
	if (personality(0xffffffff) != -1 || errno != EPERM)
		return 1;
	if (personality(PER_LINUX32) != -1 || errno != EPERM)
		return 2;
	if (personality(PER_LINUX) < 0)
		return 3;
	return 0;
}

/* Two comparisons of one argument become two rules: either one matches. */
Test(seccomp, repeated_arg_index_is_or)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	set_rule(&s->rules[0], RT_SECCOMP_ERRNO, strv("personality", NULL));
	s->rules[0].args = rt_arena_array(A, 2, sizeof(struct rt_seccomp_arg));
	s->rules[0].n_args = 2;
	s->rules[0].args[0] = (struct rt_seccomp_arg){ .index = 0, .value = 0xffffffff,
						       .op = RT_SCMP_EQ };
	s->rules[0].args[1] = (struct rt_seccomp_arg){ .index = 0, .value = 0xff,
						       .value_two = PER_LINUX32,
						       .op = RT_SCMP_MASKED_EQ };
	p = plan_ok(s);
	assert_exit0(in_child(p, child_personality_or));
	rt_seccomp_plan_free(p);
}

Test(seccomp, rule_with_default_action_is_skipped)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	set_rule(&s->rules[0], RT_SECCOMP_ALLOW, strv("read", "write", NULL));
	p = plan_ok(s);
	rt_seccomp_plan_free(p);
}

Test(seccomp, unknown_flag_is_an_error)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 0);
	struct rt_seccomp_plan *p = (void *)1;
	struct rt_err err = { 0 };

	s->flags = strv("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS", NULL);
	s->n_flags = 2;
	cr_assert_eq(rt_seccomp_plan_new(s, &p, &err), -EINVAL);
	cr_assert_null(p);
	cr_assert(strstr(err.msg, "SECCOMP_FILTER_FLAG_BOGUS"), "message: %s", err.msg);
}

Test(seccomp, known_flags_load)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	s->flags = strv("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
			"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL);
	s->n_flags = 4;
	set_rule(&s->rules[0], RT_SECCOMP_ERRNO, strv("getcwd", NULL));
	s->rules[0].has_errno_ret = true;
	s->rules[0].errno_ret = 42;
	p = plan_ok(s);
	assert_exit0(in_child(p, child_getcwd42));
	rt_seccomp_plan_free(p);
}

Test(seccomp, architectures)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p = (void *)1;
	struct rt_err err = { 0 };

	set_rule(&s->rules[0], RT_SECCOMP_ERRNO, strv("getcwd", NULL));
	s->rules[0].has_errno_ret = true;
	s->rules[0].errno_ret = 42;
	s->architectures = strv("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL);
	s->n_architectures = 3;
	p = plan_ok(s);
	assert_exit0(in_child(p, child_getcwd42));
	rt_seccomp_plan_free(p);

	s->architectures = strv("SCMP_ARCH_X86_64", "SCMP_ARCH_VAX", NULL);
	s->n_architectures = 2;
	cr_assert_eq(rt_seccomp_plan_new(s, &p, &err), -EINVAL);
	cr_assert_null(p);
	cr_assert(strstr(err.msg, "SCMP_ARCH_VAX"), "message: %s", err.msg);
}

Test(seccomp, notify_as_default_is_an_error)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_NOTIFY, 0);
	struct rt_seccomp_plan *p = NULL;
	struct rt_err err = { 0 };

	cr_assert_lt(rt_seccomp_plan_new(s, &p, &err), 0);
	cr_assert(strstr(err.msg, "defaultAction"), "message: %s", err.msg);
}

/* The filtered child forks a worker that calls getppid(); the child, as
 * supervisor, answers the notification with 4242. */
static int child_notify(int fd)
{
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int status;
	pid_t pid;

	if (fd < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0)
		_exit(syscall(SYS_getppid) == 4242 ? 0 : 1);
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return 3;
	req = calloc(1, sizes.seccomp_notif);
	resp = calloc(1, sizes.seccomp_notif_resp);
	if (!req || !resp)
		return 4;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return 5;
	if (req->data.nr != SYS_getppid || (pid_t)req->pid != pid)
		return 6;
	resp->id = req->id;
	resp->val = 4242;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
		return 7;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 8;
	return 0;
}

Test(seccomp, notify_listener_round_trip)
{
	struct rt_seccomp *s = profile(RT_SECCOMP_ALLOW, 1);
	struct rt_seccomp_plan *p;

	/* TSYNC with a listener needs TSYNC_ESRCH, which the plan adds. */
	s->flags = strv("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL);
	s->n_flags = 2;
	set_rule(&s->rules[0], RT_SECCOMP_NOTIFY, strv("getppid", NULL));
	p = plan_ok(s);
	cr_assert(rt_seccomp_plan_has_notify(p));
	assert_exit0(in_child(p, child_notify));
	rt_seccomp_plan_free(p);
}

Test(seccomp, send_listener)
{
	char dir[] = "/tmp/hull-test-seccomp-XXXXXX", path[128], buf[256];
	const char *json = "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":1}";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	struct rt_err err = { 0 };
	struct cmsghdr *cm;
	int srv, conn, pipefd[2], got;
	ssize_t n;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	strcpy(addr.sun_path, path);
	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(srv, 0);
	cr_assert_eq(bind(srv, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(srv, 1), 0);
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);

	cr_assert_eq(rt_seccomp_send_listener(path, json, pipefd[1], &err), 0, "%s", err.msg);

	conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(conn, 0);
	n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	cr_assert_eq(n, (ssize_t)strlen(json));
	buf[n] = '\0';
	cr_assert_str_eq(buf, json);
	cm = CMSG_FIRSTHDR(&msg);
	cr_assert_not_null(cm);
	cr_assert_eq(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	/* The received fd is the pipe's write end: prove it by writing through it. */
	cr_assert_eq(write(got, "x", 1), 1);
	cr_assert_eq(read(pipefd[0], buf, 1), 1);
	cr_assert_eq(buf[0], 'x');

	cr_assert_lt(rt_seccomp_send_listener("/tmp/hull-no-such-dir/sock", json, pipefd[1], &err), 0);
	cr_assert(strstr(err.msg, "hull-no-such-dir"), "message: %s", err.msg);
	unlink(path);
	rmdir(dir);
}
