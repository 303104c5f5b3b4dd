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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define PORT_EXIT 0x5f0   /* outside QEMU's fw_cfg (0x510-0x51b): bench peers share it */
#define PORT_BOOT 0x5f4
#define MAX_ITEMS 4096

struct proc {
	char *args[MAX_ITEMS + 1];
	char *env[MAX_ITEMS + 1];
	gid_t groups[64];
	int n_args, n_env, n_groups;
	uid_t uid;
	gid_t gid;
	const char *cwd, *hostname, *root;
	int readonly, terminal;
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
		else if (!strncmp(k, "net.", 4))
			net_config_item(k + 4, v);
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

static void enter_root(const char *root, int readonly)
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
	if (p->terminal)
		ioctl(0, TIOCSCTTY, 0);
	if (setgroups((size_t)p->n_groups, p->groups) < 0 || setgid(p->gid) < 0 ||
	    setuid(p->uid) < 0) {
		dprintf(2, "hull-init: uid %u gid %u: %s\n", p->uid, p->gid, strerror(errno));
		_exit(127);
	}
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
	int stdio[3] = { -1, -1, -1 }, ctl, sfd, status;
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
	enter_root(root, p.readonly);
	if (p.hostname && sethostname(p.hostname, strlen(p.hostname)) < 0)
		die("hostname: %s", strerror(errno));
	net_setup(die);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		child(&p, stdio);
	status = supervise(pid, sfd, ctl);
	/* The workload's end is the VM's end: its leftovers go with it. */
	kill(-1, SIGKILL);
	finish(status);
}
