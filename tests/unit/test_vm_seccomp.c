/* microvm/vm_seccomp.c: the VMM's filter, tried in forked children. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "microvm/vm_seccomp.h"

TestSuite(vm_seccomp, .timeout = 30);

/* Fork, load the filter, run fn; returns the child's wait status. */
static int in_child(void (*fn)(void))
{
	struct rt_err err = {0};
	int st;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (vm_seccomp_load(&err) < 0)
			_exit(100);
		fn();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void expect_killed(int st, const char *what)
{
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "%s: killed by SIGSYS (status %#x)",
		  what, st);
}

static void expect_exit0(int st, const char *what)
{
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: exit 0 (status %#x)", what, st);
}

static void do_allowed(void)
{
	char buf[16];
	struct timespec ts;
	struct winsize ws;

	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf))
		_exit(1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(2);
	free(malloc(1 << 22));
	munmap(m, 1 << 20);
	if (ioctl(1, TIOCGWINSZ, &ws) < 0 && errno != ENOTTY && errno != EBADF)
		_exit(3);
	if (write(1, "", 0) < 0)
		_exit(4);
}

static void do_open(void) { open("/etc/hostname", O_RDONLY | O_CLOEXEC); }
static void do_socket(void) { socket(AF_INET, SOCK_STREAM, 0); }
static void do_execve(void) { execl("/bin/true", "true", (char *)NULL); }
static void do_bad_ioctl(void) { int n; ioctl(0, FIONREAD, &n); }
static void do_fork(void) { fork(); }

static void do_exec_mmap(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

Test(vm_seccomp, allowed_calls_work)
{
	expect_exit0(in_child(do_allowed), "getrandom, clock, mmap rw, malloc, TIOCGWINSZ, write");
}

Test(vm_seccomp, forbidden_calls_kill)
{
	expect_killed(in_child(do_open), "openat");
	expect_killed(in_child(do_socket), "socket");
	expect_killed(in_child(do_execve), "execve");
	expect_killed(in_child(do_bad_ioctl), "ioctl FIONREAD");
	expect_killed(in_child(do_exec_mmap), "mmap PROT_EXEC");
	expect_killed(in_child(do_fork), "fork");
}

static void *thread_open(void *arg)
{
	(void)arg;
	sleep(1);   /* after the main thread loaded the filter */
	open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	return NULL;
}

static void do_thread(void)
{
	pause();   /* the thread's forbidden call ends us all */
}

Test(vm_seccomp, threads_started_before_are_covered)
{
	int st;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rt_err err;
		pthread_t th;

		if (pthread_create(&th, NULL, thread_open, NULL))
			_exit(101);
		if (vm_seccomp_load(&err) < 0)
			_exit(100);
		do_thread();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	expect_killed(st, "openat in an older thread kills the process");
}
