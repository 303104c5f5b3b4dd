/* Host directories for a microVM: one virtiofsd (QEMU's, from Debian's
 * qemu-system-common) per directory, the vhost-user backend of a virtio-fs
 * device (dev_fs.c).  See vm_fs.h for the lifetime rules. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

#include "microvm/vm_fs.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

const char *vm_fs_virtiofsd(void)
{
	const char *p = getenv("HULL_VIRTIOFSD");

	return p && *p ? p : VM_FS_VIRTIOFSD;
}

/* DST in the guest: absolute, no "." or ".." component, printable, and
 * not the root itself. */
int vm_fs_check_dst(const char *dst, struct rt_err *err)
{
	const char *p;

	if (!dst || dst[0] != '/' || !dst[1] || strlen(dst) >= 256)
		return rt_err_set(err, EINVAL, "%s: the destination must be an absolute path "
				  "(not / itself, under 256 bytes)", dst ? dst : "(none)");
	for (p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return rt_err_set(err, EINVAL, "%s: control characters in the destination",
					  dst);
	for (p = dst; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return rt_err_set(err, EINVAL, "%s: '.' and '..' are not allowed in the "
					  "destination", dst);
		p += n;
	}
	return 0;
}

int vm_fs_check(const char *src, const char *dst, char **real, struct rt_err *err)
{
	_cleanup_free_ char *r = NULL;
	struct stat st;

	if (vm_fs_check_dst(dst, err) < 0)
		return -err->code;
	r = realpath(src, NULL);
	if (!r)
		return rt_err_sys(err, errno, "%s", src);
	if (stat(r, &st) < 0)
		return rt_err_sys(err, errno, "%s", src);
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(err, ENOTDIR, "%s: a microVM shares directories only (virtio-fs)",
				  src);
	/* virtiofsd's -o takes a comma-separated list */
	if (strchr(r, ','))
		return rt_err_set(err, EINVAL, "%s: a ',' in the path cannot be passed to virtiofsd",
				  r);
	if (access(vm_fs_virtiofsd(), X_OK) < 0) {
		int e = errno;

		return rt_err_set(err, e, "%s: %s (virtiofsd serves host directories to a microVM: "
				  "apt-get install qemu-system-common)", vm_fs_virtiofsd(), strerror(e));
	}
	if (real)
		*real = steal_ptr(r);
	return 0;
}

/* A listening socket with a kernel-chosen abstract name, and our end
 * already connected to it: the connection waits in the backlog for
 * virtiofsd's accept, so no moment exists where virtiofsd listens for a
 * peer that may never come. */
static int socket_pair(int *listen_fd, int *conn_fd, struct rt_err *err)
{
	_cleanup_close_ int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	_cleanup_close_ int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa_family_t);

	if (l < 0 || c < 0)
		return rt_err_sys(err, errno, "virtiofsd socket");
	if (bind(l, (struct sockaddr *)&a, len) < 0 || listen(l, 1) < 0)
		return rt_err_sys(err, errno, "virtiofsd socket: bind");
	len = sizeof(a);
	if (getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
	    connect(c, (struct sockaddr *)&a, len) < 0)
		return rt_err_sys(err, errno, "virtiofsd socket: connect");
	*listen_fd = steal_fd(l);
	*conn_fd = steal_fd(c);
	return 0;
}

/* Read-only by the host's kernel: virtiofsd runs in a mount namespace
 * of its own where src is a read-only bind mount (submounts included),
 * so a guest that drops its own ro option still gets EROFS. */
static int make_ro(const char *src)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount(src, src, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	if (syscall(SYS_mount_setattr, AT_FDCWD, src, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	return mount(NULL, src, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

static _Noreturn void child_fail(int efd, const char *what)
{
	int e = errno;
	char msg[256];

	snprintf(msg, sizeof(msg), "virtiofsd: %s: %s", what, strerror(e));
	rt_write_all(efd, msg, strlen(msg));
	_exit(127);
}

/* The grandchild: its own session and mount namespace, then virtiofsd
 * with the listening socket as fd 3. */
static _Noreturn void backend_exec(const char *src, bool ro, bool verbose, int lfd, int efd)
{
	char opts[PATH_MAX + 64];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int keep[2];

	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);   /* a caller's blocked signals are not its */
	setsid();
	signal(SIGPIPE, SIG_DFL);
	efd = fcntl(efd, F_DUPFD_CLOEXEC, 10);   /* out of fd 3's way */
	if (efd < 0)
		_exit(127);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(efd, "private mount namespace");
	if (ro && make_ro(src) < 0)
		child_fail(efd, "read-only bind mount");
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    (!verbose && dup2(null, 2) < 0))
		child_fail(efd, "/dev/null");
	if (dup2(lfd, 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
		child_fail(efd, "socket");
	keep[0] = efd;
	keep[1] = 3;
	rt_close_fds_from(4, keep, 2);
	snprintf(opts, sizeof(opts), "source=%s,cache=auto,sandbox=namespace", src);
	execl(vm_fs_virtiofsd(), "virtiofsd", "--fd=3", "-o", opts, (char *)NULL);
	child_fail(efd, vm_fs_virtiofsd());
}

int vm_fs_start(const char *src, bool ro, bool verbose, int *sock, struct rt_err *err)
{
	_cleanup_close_ int l = -1, c = -1;
	int ep[2];
	char msg[512];
	ssize_t n;
	pid_t pid;

	if (socket_pair(&l, &c, err) < 0)
		return -err->code;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "pipe");
	/* Twice forked: virtiofsd is no child of hull's (a waiting `hull run`
	 * reaps only its own), and lives exactly as long as the connection. */
	pid = fork();
	if (pid < 0) {
		close(ep[0]), close(ep[1]);
		return rt_err_sys(err, errno, "fork");
	}
	if (pid == 0) {
		close(ep[0]);
		close(c);
		pid = fork();
		if (pid < 0)
			child_fail(ep[1], "fork");
		if (pid == 0)
			backend_exec(src, ro, verbose, l, ep[1]);
		_exit(0);
	}
	close(ep[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	n = read(ep[0], msg, sizeof(msg) - 1);   /* EOF: virtiofsd was exec'd */
	close(ep[0]);
	if (n > 0) {
		msg[n] = 0;
		return rt_err_set(err, EIO, "%s", msg);
	}
	*sock = steal_fd(c);
	return 0;
}
