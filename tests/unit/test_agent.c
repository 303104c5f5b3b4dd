/* The exec agent: the frame codec (microvm/agent_proto.c), and the guest's
 * handler (microvm/guest/agent.c) driven by the host's client
 * (runtime/vm_exec.c) over a socketpair, on this host, without a VM. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "microvm/agent_proto.h"
#include "microvm/guest/agent.h"
#include "runtime/vm_exec.h"

/* ---- the codec ---------------------------------------------------------- */

Test(agent_proto, frame_round_trip)
{
	static struct ap_reader r;
	struct ap_frame f;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(ap_write(p[1], AP_STDOUT, "hello", 5), 0);
	cr_assert_eq(ap_write(p[1], AP_STDIN_EOF, NULL, 0), 0);
	cr_assert_gt(ap_reader_fill(&r, p[0]), 0);
	cr_assert_eq(ap_reader_next(&r, &f), 1);
	cr_assert_eq(f.type, AP_STDOUT);
	cr_assert_eq(f.len, 5);
	cr_assert_eq(memcmp(f.data, "hello", 5), 0);
	cr_assert_eq(ap_reader_next(&r, &f), 1);
	cr_assert_eq(f.type, AP_STDIN_EOF);
	cr_assert_eq(f.len, 0);
	cr_assert_eq(ap_reader_next(&r, &f), 0);
	close(p[1]);
	cr_assert_eq(ap_reader_fill(&r, p[0]), 0);
	close(p[0]);
}

Test(agent_proto, truncated_frames_wait_for_more)
{
	uint8_t b[8] = { AP_STDOUT, 3, 0, 0, 0, 'a', 'b', 'c' };
	struct ap_frame f;

	for (size_t n = 0; n < sizeof(b); n++)
		cr_assert_eq(ap_decode(b, n, &f), 0, "%zu bytes", n);
	cr_assert_eq(ap_decode(b, sizeof(b), &f), 8);
}

Test(agent_proto, bad_types_and_sizes_rejected)
{
	uint8_t zero[5] = { 0, 0, 0, 0, 0 }, high[5] = { AP_TYPE_MAX + 1, 0, 0, 0, 0 };
	uint8_t big[5] = { AP_STDOUT, 0x01, 0x00, 0x01, 0x00 };        /* 64 KiB + 1 */
	uint8_t huge[5] = { AP_STDOUT, 0xff, 0xff, 0xff, 0xff };
	uint8_t max[5] = { AP_STDOUT, 0x00, 0x00, 0x01, 0x00 };        /* 64 KiB: allowed */
	struct ap_frame f;
	static uint8_t payload[AP_MAX_PAYLOAD + 1];

	cr_assert_eq(ap_decode(zero, 5, &f), -EBADMSG);
	cr_assert_eq(ap_decode(high, 1, &f), -EBADMSG, "a bad type is known from its byte");
	cr_assert_eq(ap_decode(big, 5, &f), -EBADMSG);
	cr_assert_eq(ap_decode(huge, 5, &f), -EBADMSG);
	cr_assert_eq(ap_decode(max, 5, &f), 0, "a full payload is waited for");
	cr_assert_eq(ap_write(1, AP_STDOUT, payload, sizeof(payload)), -EMSGSIZE);
}

static ssize_t encode_args(const char *const *args, int n, uint8_t *buf, size_t cap)
{
	static struct ap_exec e;

	memset(&e, 0, sizeof(e));
	for (int i = 0; i < n; i++)
		e.args[i] = (char *)args[i];
	e.n_args = n;
	e.cwd = "/tmp";
	return ap_exec_encode(&e, buf, cap);
}

Test(agent_proto, exec_round_trip)
{
	static struct ap_exec e, d;
	static uint8_t buf[AP_MAX_PAYLOAD];
	ssize_t n;

	e.args[0] = "ls", e.args[1] = "-l", e.args[2] = "";
	e.n_args = 3;
	e.env[0] = "A=1", e.n_env = 1;
	e.groups[0] = 10, e.groups[1] = 4294967294u, e.n_groups = 2;
	e.cwd = "/srv", e.uid = 1000, e.gid = 1001, e.tty = 1, e.rows = 24, e.cols = 80;
	n = ap_exec_encode(&e, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(ap_exec_decode(buf, (size_t)n, &d), 0);
	cr_assert_eq(d.n_args, 3);
	cr_assert_str_eq(d.args[1], "-l");
	cr_assert_str_eq(d.args[2], "");
	cr_assert_null(d.args[3]);
	cr_assert_str_eq(d.env[0], "A=1");
	cr_assert_null(d.env[1]);
	cr_assert_eq(d.n_groups, 2);
	cr_assert_eq(d.groups[1], 4294967294u);
	cr_assert_str_eq(d.cwd, "/srv");
	cr_assert_eq(d.uid, 1000);
	cr_assert_eq(d.gid, 1001);
	cr_assert_eq(d.tty, 1);
	cr_assert_eq(d.rows, 24);
	cr_assert_eq(d.cols, 80);
	cr_assert_eq(ap_exec_encode(&e, buf, 10), -EMSGSIZE);
}

static int decode_str(const char *s, size_t len)
{
	static struct ap_exec d;
	static uint8_t buf[256];

	memcpy(buf, s, len);
	return ap_exec_decode(buf, len, &d);
}

#define BAD(lit) cr_assert_eq(decode_str(lit, sizeof(lit) - 1), -EBADMSG, "%s", #lit)

Test(agent_proto, exec_garbage_rejected)
{
	cr_assert_eq(decode_str("arg\0ls\0", 7), 0);
	BAD("");                              /* no args */
	BAD("arg\0ls");                       /* no terminator */
	BAD("arg\0ls\0cwd\0");                /* a key without its value */
	BAD("arg\0ls\0cwd\0tmp\0");           /* relative cwd */
	BAD("arg\0\0");                       /* empty executable */
	BAD("arg\0ls\0bogus\0x\0");           /* unknown key */
	BAD("arg\0ls\0uid\0-1\0");
	BAD("arg\0ls\0uid\012x\0");
	BAD("arg\0ls\0uid\0\0");
	BAD("arg\0ls\0uid\099999999999\0");
	BAD("arg\0ls\0tty\02\0");
	BAD("arg\0ls\0rows\065536\0");
	BAD("arg\0ls\0group\0 1\0");
}

Test(agent_proto, exec_counts_bounded)
{
	static uint8_t buf[AP_MAX_PAYLOAD];
	static const char *args[AP_MAX_ITEMS + 1];
	size_t n = 0;

	for (int i = 0; i <= AP_MAX_ITEMS; i++)
		args[i] = "x";
	cr_assert_eq(encode_args(args, AP_MAX_ITEMS + 1, buf, sizeof(buf)), -E2BIG);
	/* Hand-made: one arg too many, and 65 groups. */
	for (int i = 0; i <= AP_MAX_ITEMS; i++) {
		memcpy(buf + n, "arg\0x", 6);
		n += 6;
	}
	cr_assert_eq(ap_exec_decode(buf, n, &(struct ap_exec){0}), -EBADMSG);
	n = 0;
	memcpy(buf, "arg\0x", 6), n = 6;
	for (int i = 0; i <= AP_MAX_GROUPS; i++) {
		memcpy(buf + n, "group\0001", 8);
		n += 8;
	}
	cr_assert_eq(ap_exec_decode(buf, n, &(struct ap_exec){0}), -EBADMSG);
}

/* ---- the handler, over a socketpair ---------------------------------- */

struct run {
	int status, rc;
	struct rt_err err;
	char out[4096], errs[4096];
};

static pid_t start_agent(int sv[2])
{
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct agent_env e = { 0 };

		close(sv[0]);
		_exit(agent_handle(sv[1], &e));
	}
	close(sv[1]);
	return pid;
}

static void slurp(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	close(fd);
}

/* argv in the "guest", stdin from in (NULL: none), tty or not. */
static void run(struct run *r, char **argv, const char *in, bool tty)
{
	static char *env[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"X=y", NULL };
	struct rt_process pr = { .args = argv, .env = env, .n_env = 2, .cwd = "/tmp",
				 .terminal = tty, .user = { .uid = getuid(), .gid = getgid() } };
	int sv[2], p[2], out = memfd_create("out", 0), err = memfd_create("err", 0), st;
	pid_t agent;

	while (argv[pr.n_args])
		pr.n_args++;
	agent = start_agent(sv);     /* first: it must not hold the stdin pipe open */
	cr_assert_eq(pipe(p), 0);
	if (in)
		cr_assert_eq(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
	close(p[1]);
	memset(r, 0, sizeof(*r));
	r->rc = rt_vm_exec_start(sv[0], &pr, 24, 80, &r->status, &r->err);
	if (r->rc == 0)
		r->rc = rt_vm_exec_relay(sv[0], &(struct rt_vm_io){ in ? p[0] : -1, out, err, -1 },
					 &r->status, &r->err);
	close(sv[0]);
	close(p[0]);
	cr_assert_eq(waitpid(agent, &st, 0), agent);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->errs, sizeof(r->errs));
}

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })

Test(agent_exec, stdout_stderr_apart_and_exit_code, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("sh", "-c", "echo out $X; pwd; echo err >&2; exit 3"), NULL, false);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 3);
	cr_assert_str_eq(r.out, "out y\n/tmp\n");
	cr_assert_str_eq(r.errs, "err\n");
}

Test(agent_exec, stdin_piped, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("sh", "-c", "tr a-z A-Z; echo done"), "hello\n", false);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "HELLO\ndone\n");
}

Test(agent_exec, killed_by_signal_is_128_plus, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("sh", "-c", "kill -KILL $$"), NULL, false);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 137);
}

Test(agent_exec, missing_binary_is_127_and_named, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("hull-no-such-cmd", "x"), NULL, false);
	cr_assert_lt(r.rc, 0);
	cr_assert_eq(r.status, 127);
	cr_assert(strstr(r.err.msg, "hull-no-such-cmd"), "%s", r.err.msg);
}

Test(agent_exec, not_executable_is_126, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("/dev/null"), NULL, false);
	cr_assert_lt(r.rc, 0);
	cr_assert_eq(r.status, 126, "%s", r.err.msg);
}

Test(agent_exec, tty_has_the_size_given, .timeout = 20)
{
	struct run r;

	run(&r, ARGV("sh", "-c", "test -t 0 && test -t 1 && stty size; exit 4"), NULL, true);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 4);
	cr_assert(strstr(r.out, "24 80"), "%s", r.out);
}

/* The host terminal's size goes along at the start and on SIGWINCH. */
Test(agent_exec, window_size_follows_sigwinch, .timeout = 20)
{
	static char *env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	struct rt_process pr = { .args = ARGV("sh", "-c", "stty size; sleep 2; stty size"),
				 .n_args = 3, .env = env, .n_env = 1, .cwd = "/", .terminal = true };
	struct winsize ws = { 30, 100, 0, 0 };
	int sv[2], out = memfd_create("out", 0), status = -1, m, t;
	struct rt_err err = { 0 };
	pid_t agent = start_agent(sv), k;
	char buf[256];

	m = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(m >= 0 && unlockpt(m) == 0);
	t = open(ptsname(m), O_RDWR | O_NOCTTY);
	cr_assert_geq(t, 0);
	ioctl(t, TIOCSWINSZ, &ws);
	k = fork();
	if (k == 0) {
		usleep(1000 * 1000);
		ws = (struct winsize){ 33, 111, 0, 0 };
		ioctl(t, TIOCSWINSZ, &ws);
		kill(getppid(), SIGWINCH);
		_exit(0);
	}
	cr_assert_eq(rt_vm_exec_start(sv[0], &pr, 30, 100, &status, &err), 0, "%s", err.msg);
	cr_assert_eq(rt_vm_exec_relay(sv[0], &(struct rt_vm_io){ -1, out, -1, t }, &status, &err),
		     0, "%s", err.msg);
	waitpid(k, NULL, 0);
	waitpid(agent, NULL, 0);
	slurp(out, buf, sizeof(buf));
	cr_assert(strstr(buf, "30 100") && strstr(buf, "33 111"), "%s", buf);
}

Test(agent_exec, large_stdin_through_cat, .timeout = 30)
{
	/* More than both pipes hold: stdin and stdout must flow together. */
	static char *env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	struct rt_process pr = { .args = ARGV("cat"), .n_args = 1, .env = env, .n_env = 1,
				 .cwd = "/" };
	int sv[2], p[2], out = memfd_create("out", 0), status = -1;
	struct rt_err err = { 0 };
	pid_t agent = start_agent(sv), w;

	cr_assert_eq(pipe(p), 0);
	w = fork();
	if (w == 0) {
		static char block[65536];

		memset(block, 'z', sizeof(block));
		for (int i = 0; i < 16; i++)
			if (write(p[1], block, sizeof(block)) != sizeof(block))
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(rt_vm_exec_start(sv[0], &pr, 0, 0, &status, &err), 0, "%s", err.msg);
	cr_assert_eq(rt_vm_exec_relay(sv[0], &(struct rt_vm_io){ p[0], out, 2, -1 }, &status,
				      &err), 0, "%s", err.msg);
	cr_assert_eq(status, 0);
	cr_assert_eq(lseek(out, 0, SEEK_END), 16 * 65536);
	waitpid(w, NULL, 0);
	waitpid(agent, NULL, 0);
}

Test(agent_exec, host_signal_is_forwarded, .timeout = 20)
{
	struct run r;
	pid_t k = fork();

	if (k == 0) {
		usleep(500 * 1000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	run(&r, ARGV("sleep", "10"), NULL, false);
	waitpid(k, NULL, 0);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 128 + SIGTERM);
}

/* The host hangs up: the process is killed, the handler ends. */
Test(agent_exec, hangup_kills_the_process, .timeout = 20)
{
	static char *env[] = { NULL };
	char path[64], cmd[256], buf[32] = "";
	struct rt_process pr = { .args = ARGV("sh", "-c", cmd), .n_args = 3, .env = env,
				 .cwd = "/" };
	int sv[2], status;
	struct rt_err err = { 0 };
	pid_t agent = start_agent(sv), guest = 0;

	snprintf(path, sizeof(path), "/tmp/hull-agent-test.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "echo $$ > %s.new && mv %s.new %s && exec sleep 30", path,
		 path, path);
	cr_assert_eq(rt_vm_exec_start(sv[0], &pr, 0, 0, &status, &err), 0, "%s", err.msg);
	for (int i = 0; i < 200 && guest <= 0; i++) {
		int fd = open(path, O_RDONLY);

		if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
			guest = atoi(buf);
		if (fd >= 0)
			close(fd);
		usleep(20 * 1000);
	}
	unlink(path);
	cr_assert_gt(guest, 1);
	close(sv[0]);
	cr_assert_eq(waitpid(agent, &status, 0), agent);
	cr_assert_eq(WEXITSTATUS(status), 1);
	cr_assert(kill(guest, 0) < 0 && errno == ESRCH, "the process outlived the hangup");
}

/* ---- hostile peers ------------------------------------------------------ */

static void raw_session(const uint8_t *bytes, size_t n, struct run *r)
{
	struct rt_process pr = { .args = ARGV("x"), .n_args = 1, .cwd = "/" };
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(write(sv[1], bytes, n), (ssize_t)n);
	shutdown(sv[1], SHUT_WR);     /* EOF after the bytes; our request still fits */
	memset(r, 0, sizeof(*r));
	r->rc = rt_vm_exec_start(sv[0], &pr, 0, 0, &r->status, &r->err);
	if (r->rc == 0)
		r->rc = rt_vm_exec_relay(sv[0], &(struct rt_vm_io){ -1, 1, 2, -1 }, &r->status,
					 &r->err);
	close(sv[0]);
	close(sv[1]);
}

#define GUEST(...) do { static const uint8_t b[] = { __VA_ARGS__ }; raw_session(b, sizeof(b), &r); } while (0)

Test(agent_host, hostile_guest_frames_rejected, .timeout = 20)
{
	struct run r;

	GUEST(AP_STARTED, 0, 0, 0, 0, AP_EXIT, 2, 0, 0, 0, 0, 5);
	cr_assert_eq(r.rc, 0, "%s", r.err.msg);
	cr_assert_eq(r.status, 5, "a well-formed guest works");
	GUEST(AP_STDOUT, 0, 0, 0, 0);
	cr_assert_eq(r.rc, -EBADMSG, "output before the start");
	GUEST(AP_STARTED, 0, 0, 0, 0, 0xee, 0, 0, 0, 0);
	cr_assert_eq(r.rc, -EBADMSG, "unknown type");
	GUEST(AP_STARTED, 0, 0, 0, 0, AP_STDOUT, 0xff, 0xff, 0xff, 0x7f);
	cr_assert_eq(r.rc, -EBADMSG, "oversized frame");
	GUEST(AP_STARTED, 0, 0, 0, 0, AP_EXIT, 3, 0, 0, 0, 0, 5, 5);
	cr_assert_eq(r.rc, -EBADMSG, "exit frame of the wrong size");
	GUEST(AP_STARTED, 0, 0, 0, 0, AP_EXIT, 2, 0, 0, 0, 1, 200);
	cr_assert_eq(r.rc, -EBADMSG, "no such signal");
	GUEST(AP_STARTED, 0, 0, 0, 0, AP_EXEC, 0, 0, 0, 0);
	cr_assert_eq(r.rc, -EBADMSG, "a host-only type");
	GUEST(AP_STARTED, 0, 0, 0, 0, AP_STDOUT, 9, 0, 0, 0, 'a');
	cr_assert_eq(r.rc, -ECONNRESET, "a truncated frame, then EOF");
	GUEST(AP_ERROR, 4, 0, 0, 0, 3, 'x', 0x1b, 'y');
	cr_assert_lt(r.rc, 0);
	cr_assert_eq(r.status, 127, "a status byte other than 126/127 is not trusted");
	cr_assert_str_eq(r.err.msg, "x?y", "control characters are not printed");
}

/* The guest sent the exit status and closed before our stdin's EOF went
 * out: the write fails (EPIPE), the status still counts. */
Test(agent_host, guest_closed_before_our_stdin_eof, .timeout = 20)
{
	static const uint8_t st[] = { AP_STARTED, 0, 0, 0, 0 };
	static const uint8_t b[] = { AP_STDOUT, 3, 0, 0, 0, 'h', 'i', '\n',
				     AP_EXIT, 2, 0, 0, 0, 0, 6 };
	struct rt_process pr = { .args = ARGV("x"), .n_args = 1, .cwd = "/" };
	int sv[2], p[2], out = memfd_create("out", 0), status = -1;
	struct rt_err err = { 0 };
	char buf[16];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe(p), 0);
	close(p[1]);                                  /* stdin: at EOF */
	cr_assert_eq(write(sv[1], st, sizeof(st)), (ssize_t)sizeof(st));
	cr_assert_eq(rt_vm_exec_start(sv[0], &pr, 0, 0, &status, &err), 0, "%s", err.msg);
	/* Both ready at once for the relay: stdin's EOF (read first) and this. */
	cr_assert_eq(write(sv[1], b, sizeof(b)), (ssize_t)sizeof(b));
	close(sv[1]);
	cr_assert_eq(rt_vm_exec_relay(sv[0], &(struct rt_vm_io){ p[0], out, 2, -1 }, &status,
				      &err), 0, "%s", err.msg);
	cr_assert_eq(status, 6);
	slurp(out, buf, sizeof(buf));
	cr_assert_str_eq(buf, "hi\n");
	close(sv[0]);
	close(p[0]);
}

/* The handler refuses what a hostile host sends, and ends. */
Test(agent_exec, hostile_host_frames_rejected, .timeout = 20)
{
	static const uint8_t bad_first[] = { AP_STDIN, 1, 0, 0, 0, 'x' };
	static const uint8_t bad_req[] = { AP_EXEC, 3, 0, 0, 0, 'a', 'r', 'g' };
	static const uint8_t bad_type[] = { 0x77, 0, 0, 0, 0 };
	const struct { const uint8_t *b; size_t n; } cases[] = {
		{ bad_first, sizeof(bad_first) }, { bad_req, sizeof(bad_req) },
		{ bad_type, sizeof(bad_type) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int sv[2], st;
		pid_t agent = start_agent(sv);
		uint8_t reply[64];
		ssize_t n;

		cr_assert_eq(write(sv[0], cases[i].b, cases[i].n), (ssize_t)cases[i].n);
		shutdown(sv[0], SHUT_WR);
		n = read(sv[0], reply, sizeof(reply));
		cr_assert(n == 0 || (n > 0 && reply[0] == AP_ERROR), "case %zu", i);
		cr_assert_eq(waitpid(agent, &st, 0), agent);
		cr_assert_eq(WEXITSTATUS(st), 1, "case %zu", i);
		close(sv[0]);
	}
}
