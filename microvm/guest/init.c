/* hull's guest init: PID 1 of the microVM.  Built static, packed into the
 * initramfs by the VMM.  It reports its start on the boot port, mounts the
 * workload's root, runs the workload's process as /hull/config describes
 * it, hands it the host's signals (bytes on the control UART, ttyS1),
 * reaps every child, and writes the workload's status to the exit port,
 * which ends the VM.  Standalone on purpose: nothing from hull's runtime. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "agent.h"
#include "net.h"

#define PORT_EXIT 0x5f0   /* outside QEMU's fw_cfg (0x510-0x51b): bench peers share it */
#define PORT_BOOT 0x5f4
#define MAX_ITEMS 4096
#define MAX_RLIMITS 16
#define MAX_FS 8

/* process.rlimits, noNewPrivileges and capabilities, applied in the
 * child in runc's order (see apply_limits, apply_caps). */
struct sec {
	struct { int res; struct rlimit lim; } rl[MAX_RLIMITS];
	int n_rl, nnp, has_caps;
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct proc {
	char *args[MAX_ITEMS + 1];
	char *env[MAX_ITEMS + 1];
	gid_t groups[64];
	int n_args, n_env, n_groups;
	uid_t uid;
	gid_t gid;
	const char *cwd, *hostname, *root;
	int readonly, terminal;
	int pid_ns;     /* a system container's init: PID 1 of its own pid namespace */
	struct sec sec;
	struct { char *tag, *dst; int ro; } fs[MAX_FS];   /* virtio-fs shares */
	int n_fs;
};

static int err_fd = -1;    /* the workload's stderr once open: hull's errors go there */

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fd >= 0) {
		dprintf(fd, "hull-init: %s\n", buf);
		close(fd);
	}
}

/* The end of the VM: the exit port stops it; power off if that failed. */
static __attribute__((noreturn)) void finish(int status)
{
	sync();
	outl((unsigned)status, PORT_EXIT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd = err_fd >= 0 ? err_fd : open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fd >= 0)
		dprintf(fd, "hull: guest: %s\n", buf);
	say("%s", buf);
	finish(127);
}

/* A number in base, the whole string, else the VM ends naming the field:
 * /hull/config comes from the host, but it is checked like any input. */
static uint64_t num(const char *key, const char *s, char **end, int base)
{
	char *e;
	uint64_t v;

	errno = 0;
	while (*s == ' ')
		s++;
	v = strtoull(s, &e, base);
	if (errno || e == s || *s == '-' || (!end && *e))
		die("/hull/config: %s: bad number '%s'", key, s);
	if (end)
		*end = e;
	return v;
}

/* "rlimit" RES SOFT HARD (decimal), "nnp" 1, "caps" BOUNDING EFFECTIVE
 * INHERITABLE PERMITTED AMBIENT (hex masks); other keys are not ours. */
static void read_sec(struct sec *s, const char *k, const char *v)
{
	char *e;
	uint64_t res, soft, hard, *sets[] = { &s->bounding, &s->effective, &s->inheritable,
					       &s->permitted, &s->ambient };

	if (!strcmp(k, "rlimit")) {
		res = num(k, v, &e, 10);
		soft = num(k, e, &e, 10);
		hard = num(k, e, NULL, 10);
		if (res >= RLIM_NLIMITS || soft > hard || s->n_rl >= MAX_RLIMITS)
			die("/hull/config: rlimit '%s': no such limit, soft over hard, or too many", v);
		s->rl[s->n_rl].res = (int)res;
		s->rl[s->n_rl].lim = (struct rlimit){ (rlim_t)soft, (rlim_t)hard };
		s->n_rl++;
	} else if (!strcmp(k, "nnp")) {
		s->nnp = !strcmp(v, "1");
	} else if (!strcmp(k, "caps")) {
		e = (char *)v;
		for (int i = 0; i < 5; i++)
			*sets[i] = num(k, e, i < 4 ? &e : NULL, 16);
		s->has_caps = 1;
	}
}

/* "fs" TAG ro|rw DST: DST absolute, without "." or ".." components. */
static void read_fs(struct proc *p, char *v)
{
	char *mode = strchr(v, ' '), *dst = mode ? strchr(mode + 1, ' ') : NULL, *c;

	if (!dst || p->n_fs >= MAX_FS)
		die("/hull/config: fs '%s': expected TAG ro|rw DST (at most %d)", v, MAX_FS);
	*mode++ = 0;
	*dst++ = 0;
	if ((strcmp(mode, "ro") && strcmp(mode, "rw")) || dst[0] != '/' || !dst[1])
		die("/hull/config: fs %s: bad mode or destination", v);
	for (c = dst; *c;) {
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			die("/hull/config: fs %s: '.' or '..' in %s", v, dst);
		c += n;
	}
	p->fs[p->n_fs].tag = v;
	p->fs[p->n_fs].dst = dst;
	p->fs[p->n_fs].ro = !strcmp(mode, "ro");
	p->n_fs++;
}

static void read_config(struct proc *p)
{
	static char buf[1 << 20];
	int fd = open("/hull/config", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	char *k, *end;

	if (n <= 0)
		die("cannot read /hull/config: %s", strerror(errno));
	close(fd);
	end = buf + n;
	*end = 0;
	p->cwd = "/", p->root = "initramfs";
	for (k = buf; k < end;) {
		char *v = k + strlen(k) + 1;

		if (v >= end)
			break;
		if (!strcmp(k, "arg") && p->n_args < MAX_ITEMS)
			p->args[p->n_args++] = v;
		else if (!strcmp(k, "env") && p->n_env < MAX_ITEMS)
			p->env[p->n_env++] = v;
		else if (!strcmp(k, "group") && p->n_groups < 64)
			p->groups[p->n_groups++] = (gid_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "uid"))
			p->uid = (uid_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "gid"))
			p->gid = (gid_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "cwd"))
			p->cwd = v;
		else if (!strcmp(k, "hostname"))
			p->hostname = v;
		else if (!strcmp(k, "readonly"))
			p->readonly = !strcmp(v, "1");
		else if (!strcmp(k, "terminal"))
			p->terminal = !strcmp(v, "1");
		else if (!strcmp(k, "root"))
			p->root = v;
		else if (!strcmp(k, "pidns"))
			p->pid_ns = !strcmp(v, "1");
		else if (!strncmp(k, "net.", 4))
			net_config_item(k + 4, v);
		else if (!strcmp(k, "fs"))
			read_fs(p, v);
		else
			read_sec(&p->sec, k, v);
		k = v + strlen(v) + 1;
	}
	if (!p->n_args)
		die("no process args in /hull/config");
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long fl,
		const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, fl, data) < 0)
		die("mount %s on %s: %s", type ? type : src, dst, strerror(errno));
}

/* The root: the initramfs's /rootfs, or the disk (erofs or ext4) with a
 * tmpfs overlay on top.  Read-only roots are made so after the mount
 * points are in place (enter_root), as a container runtime does. */
static const char *setup_root(const struct proc *p)
{
	const char *fs[] = { "erofs", "ext4" };
	int i;

	if (!strcmp(p->root, "initramfs")) {
		mnt("/rootfs", "/rootfs", NULL, MS_BIND | MS_REC, NULL);
		return "/rootfs";
	}
	mkdir("/mnt", 0755);
	mkdir("/mnt/lower", 0755);
	for (i = 0; i < 2; i++)
		if (mount("/dev/vda", "/mnt/lower", fs[i], MS_RDONLY, NULL) == 0)
			break;
	if (i == 2)
		die("mount /dev/vda: %s", strerror(errno));
	mnt("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755");
	mkdir("/mnt/rw/upper", 0755);
	mkdir("/mnt/rw/work", 0755);
	mnt("overlay", "/mnt/root", "overlay", 0,
	    "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
	return "/mnt/root";
}

/* mkdir -p of path (already checked: absolute, no "." or ".."). */
static void mkdirs(char *path)
{
	for (char *c = path + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		mkdir(path, 0755);
		*c = '/';
	}
	mkdir(path, 0755);
}

/* The host's directories, each a virtio-fs tag, at their destination in
 * the root.  ro is a courtesy here: the host enforces it (virtiofsd's own
 * read-only bind mount). */
static void mount_shares(const struct proc *p, const char *root)
{
	char path[512];

	for (int i = 0; i < p->n_fs; i++) {
		snprintf(path, sizeof(path), "%s%s", root, p->fs[i].dst);
		mkdirs(path);
		if (mount(p->fs[i].tag, path, "virtiofs", p->fs[i].ro ? MS_RDONLY : 0, NULL) < 0)
			die("mount virtiofs %s on %s: %s", p->fs[i].tag, p->fs[i].dst,
			    strerror(errno));
	}
}

static void enter_root(const struct proc *p, const char *root, int readonly)
{
	char path[256];
	static const struct { const char *dir, *type; } fs[] = {
		{ "proc", "proc" }, { "sys", "sysfs" }, { "dev", "devtmpfs" },
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, fs[i].dir);
		mkdir(path, 0755);
		if (mount(fs[i].type, path, fs[i].type, MS_NOSUID | MS_NOEXEC, NULL) < 0)
			die("mount %s on %s: %s", fs[i].type, path, strerror(errno));
	}
	mount_shares(p, root);
	if (readonly && mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		die("make the root read-only: %s", strerror(errno));
	if (chdir(root) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		die("enter the root %s: %s", root, strerror(errno));
}

static int open_tty(const char *path, int flags)
{
	struct termios t;
	int fd = open(path, flags | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* The virtio console's port named name (sysfs), opened from /dev. */
static int open_port(const char *name, int flags)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	char path[300], buf[32];
	int fd = -1;

	while (d && fd < 0 && (de = readdir(d))) {
		int nfd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		nfd = open(path, O_RDONLY | O_CLOEXEC);
		n = nfd >= 0 ? read(nfd, buf, sizeof(buf) - 1) : -1;
		if (nfd >= 0)
			close(nfd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (strcmp(buf, name))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	}
	if (d)
		closedir(d);
	return fd;
}

/* A virtio console device is bound to its driver (the driver alone
 * registers even where the VMM offers no console). */
static int has_console(void)
{
	DIR *d = opendir("/sys/bus/virtio/drivers/virtio_console");
	struct dirent *de;
	int found = 0;

	while (d && !found && (de = readdir(d)))
		found = !strncmp(de->d_name, "virtio", 6);
	if (d)
		closedir(d);
	return found;
}

/* stdin, stdout, stderr: the console's named ports, which the driver adds
 * shortly after it probes (control messages), so wait for them a little;
 * without a virtio console (another kernel), the first UART for all three. */
static void open_stdio(const struct proc *p, int fds[3])
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };
	static const int flags[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	struct timespec tick = { 0, 5 * 1000 * 1000 };

	/* Terminal mode: the console's one port, hvc0, is the workload's tty. */
	for (int tries = 0; p->terminal && tries < 2000; tries++) {
		fds[0] = open("/dev/hvc0", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fds[0] >= 0) {
			fds[1] = fds[2] = fds[0];
			return;
		}
		nanosleep(&tick, NULL);
	}
	for (int tries = 0; has_console() && tries < 2000; tries++) {
		for (int i = 0; i < 3; i++)
			if (fds[i] < 0)
				fds[i] = open_port(names[i], flags[i]);
		if (fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0)
			return;
		nanosleep(&tick, NULL);
	}
	for (int i = 0; i < 3; i++)
		if (fds[i] < 0)
			fds[i] = open_tty("/dev/ttyS0", O_RDWR);
	if (fds[1] < 0)
		die("no console: %s", strerror(errno));
}

static __attribute__((noreturn)) void child_fail(const char *what)
{
	dprintf(2, "hull-init: %s: %s\n", what, strerror(errno));
	_exit(127);
}

/* A system container's init (ct --vm) is PID 1 of a pid namespace of its
 * own (main unshared it before the fork), so busybox init and the like
 * accept to run, and a reboot(2) in it ends the namespace.  Its own mount
 * namespace gets a /proc of that pid namespace, so ps shows its tree and
 * not hull's init; the mounts it makes or drops at shutdown stay its own. */
static void enter_pid_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("mount namespace");
	umount2("/proc", MNT_DETACH);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)
		child_fail("mount /proc");
}

/* rlimits first (raising a hard limit needs the capabilities dropped
 * later), then no_new_privs, as runc does. */
static void apply_limits(const struct sec *s)
{
	for (int i = 0; i < s->n_rl; i++)
		if (setrlimit((__rlimit_resource_t)s->rl[i].res, &s->rl[i].lim) < 0)
			child_fail("process.rlimits");
	if (s->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("process.noNewPrivileges");
}

/* The bounding set goes first, while CAP_SETPCAP is still held; the other
 * sets survive the change of user (keepcaps) and are set after it. */
static void drop_bounding(const struct sec *s)
{
	if (!s->has_caps)
		return;
	for (int c = 0; c < 64; c++)
		if (!(s->bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)   /* past the kernel's last capability */
				break;
			child_fail("process.capabilities.bounding");
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		child_fail("keepcaps");
}

static void apply_caps(const struct sec *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (!s->has_caps)
		return;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	for (int i = 0; i < 2; i++)
		d[i] = (struct __user_cap_data_struct){ (uint32_t)(s->effective >> (32 * i)),
						       (uint32_t)(s->permitted >> (32 * i)),
						       (uint32_t)(s->inheritable >> (32 * i)) };
	if (syscall(SYS_capset, &h, d) < 0)
		child_fail("process.capabilities");
	/* Ambient: only what is permitted and inheritable can be raised
	 * (the host path warns about the rest; the guest skips it). */
	for (int c = 0; c < 64; c++)
		if ((s->ambient & s->permitted & s->inheritable & (1ULL << c)))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

/* The workload and every exec (agent.c) become their user this way. */
static void become_user(const struct sec *s, uid_t uid, gid_t gid, const gid_t *groups,
			int n_groups)
{
	apply_limits(s);
	drop_bounding(s);
	if (setgroups((size_t)n_groups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		dprintf(2, "hull-init: uid %u gid %u: %s\n", uid, gid, strerror(errno));
		_exit(127);
	}
	apply_caps(s);
}

static void agent_become(const void *ctx, const struct ap_exec *q)
{
	const struct proc *p = ctx;

	become_user(&p->sec, q->uid, q->gid, q->groups, q->n_groups);
}

static __attribute__((noreturn)) void child(const struct proc *p, const int stdio[3])
{
	sigset_t all;
	extern char **environ;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	for (int i = 0; i < 3; i++)
		if (dup2(stdio[i], i) < 0)
			_exit(127);
	if (p->pid_ns)
		enter_pid_ns();
	if (p->terminal)
		ioctl(0, TIOCSCTTY, 0);
	become_user(&p->sec, p->uid, p->gid, p->groups, p->n_groups);
	if (chdir(p->cwd) < 0) {
		dprintf(2, "hull-init: cwd %s: %s\n", p->cwd, strerror(errno));
		_exit(127);
	}
	environ = (char **)p->env;
	execvp(p->args[0], (char **)p->args);
	dprintf(2, "hull-init: exec %s: %s\n", p->args[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Reap everything; return once the workload itself has exited. */
static int supervise(pid_t pid, int sfd, int ctl)
{
	struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };

	for (;;) {
		struct signalfd_siginfo si;
		unsigned char sig[64];
		int st;
		pid_t w;

		if (poll(pf, ctl >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return 127;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		}
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == pid)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (ctl >= 0 && (pf[1].revents & POLLIN)) {
			ssize_t n = read(ctl, sig, sizeof(sig));

			for (ssize_t i = 0; i < n; i++)
				if (sig[i] >= 1 && sig[i] < 65)
					kill(pid, sig[i]);
		}
	}
}

int main(void)
{
	static struct proc p;
	sigset_t set;
	const char *root;
	int stdio[3] = { -1, -1, -1 }, pid_pipe[2] = { -1, -1 }, ctl, sfd, status;
	pid_t pid;

	if (ioperm(PORT_EXIT, 8, 1) == 0)
		outb(1, PORT_BOOT);
	mnt("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC, NULL);
	mnt("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC, NULL);
	mnt("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL);
	read_config(&p);
	open_stdio(&p, stdio);
	err_fd = stdio[2];
	ctl = open_tty("/dev/ttyS1", O_RDONLY | O_NONBLOCK);
	root = setup_root(&p);
	enter_root(&p, root, p.readonly);
	if (p.hostname && sethostname(p.hostname, strlen(p.hostname)) < 0)
		die("hostname: %s", strerror(errno));
	net_setup(die);
	agent_setup();
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* The next child is PID 1 of a new pid namespace; hull's init stays
	 * outside it, forwarding signals to it (its init gets only those it
	 * handles, as any PID 1) and reaping it: when it ends, by exit or
	 * killed by the kernel after a reboot(2) in it (SIGHUP for a restart,
	 * SIGINT for halt or power-off), the VM ends. */
	/* The exec agent starts outside that namespace; with one, it learns
	 * the workload's pid (to join its namespaces) once it exists. */
	if (p.pid_ns && pipe2(pid_pipe, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	agent_start(&(struct agent_env){ .become = agent_become, .ctx = &p }, pid_pipe[0]);
	if (pid_pipe[0] >= 0)
		close(pid_pipe[0]);
	if (p.pid_ns && unshare(CLONE_NEWPID) < 0)
		die("pid namespace: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		child(&p, stdio);
	if (pid_pipe[1] >= 0) {
		if (write(pid_pipe[1], &pid, sizeof(pid)) < 0)
			say("agent: %s", strerror(errno));
		close(pid_pipe[1]);
	}
	status = supervise(pid, sfd, ctl);
	/* The workload's end is the VM's end: its leftovers go with it. */
	kill(-1, SIGKILL);
	finish(status);
}
