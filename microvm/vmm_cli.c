/* The VMM's command line, shared by `hull vmm` and the static hull-vmm
 * that a VM-mode container's init execs (with the --*-fd flags, whose
 * files the parent opened before the jail closed in). */
#define _GNU_SOURCE
#include "config.h"
#include "microvm/vm_fs.h"
#include "microvm/vmm.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { O_KERNEL = 256, O_MEM, O_CPUS, O_ROOTFS, O_READONLY, O_ENV, O_CWD, O_USER, O_HOSTNAME,
       O_BOOT_TIME, O_DEBUG, O_TERMINAL, O_DUMP_INITRD, O_DISK, O_DISK_RW, O_KVM_FD, O_KERNEL_FD, O_INITRD_FD, O_CMDLINE,
       O_NET, O_VSOCK, O_VSOCK_FD, O_FS, O_FS_FD };

static int usage_error(struct rt_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(struct rt_err *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt_err_set(err, EINVAL, "vmm: %s (see 'hull vmm --help')", msg);
	return -1;
}

static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

struct vmm_opts {
	struct vmm_config cfg;
	struct vm_guest_proc proc;
	const char *kernel, *rootfs, *dump_initrd, *vsock;
	size_t n_env;
	struct vmm_net_opts net;
	const char *flag;         /* the long option being parsed (for O_NET) */
	struct { char *src; bool ro; } fs_src[VMM_MAX_FS];   /* --fs, started in open_inputs */
	struct vm_guest_fs fs[VMM_MAX_FS];
};

static int parse_num(const char *arg, const char *flag, unsigned long max, unsigned long *out,
		     struct rt_err *err)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *out > max)
		return usage_error(err, "%s %s: expected a number up to %lu", flag, arg,
				       max);
	return 0;
}

static int parse_user(const char *arg, struct vm_guest_proc *p, struct rt_err *err)
{
	char *end;
	unsigned long u = strtoul(arg, &end, 10), g = u;

	if (end != arg && *end == ':') {
		const char *gs = end + 1;

		g = strtoul(gs, &end, 10);
		if (end == gs)
			end = (char *)"x";
	}
	if (end == arg || *end || u > 0xfffffffeUL || g > 0xfffffffeUL)
		return usage_error(err, "--user %s: expected UID[:GID]", arg);
	p->uid = (uid_t)u;
	p->gid = (gid_t)g;
	return 0;
}

/* --fs SRC:DST[:ro] (hull starts virtiofsd) or --fs-fd FD:TAG (a
 * container's init passes the socket; the guest's config already names
 * the tag). */
static int parse_fs(int c, char *arg, struct vmm_opts *o, struct rt_err *err)
{
	int i = o->cfg.n_fs;
	char *colon = strchr(arg, ':'), *end;
	unsigned long fd;

	if (i == VMM_MAX_FS)
		return usage_error(err, "at most %d --fs/--fs-fd", VMM_MAX_FS);
	if (!colon)
		return usage_error(err, "%s %s: expected %s", c == O_FS ? "--fs" : "--fs-fd", arg,
				   c == O_FS ? "SRC:DST[:ro]" : "FD:TAG");
	*colon = 0;
	if (c == O_FS_FD) {
		fd = strtoul(arg, &end, 10);
		if (end == arg || *end || fd > 65535 || !colon[1] || strlen(colon + 1) >= 16)
			return usage_error(err, "--fs-fd %s:%s: expected FD:TAG", arg, colon + 1);
		o->cfg.fs[i].sock_fd = (int)fd;
		snprintf(o->cfg.fs[i].tag, sizeof(o->cfg.fs[i].tag), "%s", colon + 1);
		o->cfg.n_fs++;
		return 0;
	}
	char *dst = colon + 1, *mode = strchr(dst, ':');

	if (mode) {
		*mode++ = 0;
		if (strcmp(mode, "ro") && strcmp(mode, "rw"))
			return usage_error(err, "--fs %s:%s:%s: the mode is ro or rw", arg, dst, mode);
	}
	if (vm_fs_check(arg, dst, &o->fs_src[i].src, err) < 0)
		return rt_err_wrap(err, "vmm: --fs"), -1;
	o->fs_src[i].ro = mode && !strcmp(mode, "ro");
	o->fs[i] = (struct vm_guest_fs){ .dst = dst, .ro = o->fs_src[i].ro };
	snprintf(o->fs[i].tag, sizeof(o->fs[i].tag), "hullfs%d", i);
	snprintf(o->cfg.fs[i].tag, sizeof(o->cfg.fs[i].tag), "hullfs%d", i);
	o->cfg.fs[i].sock_fd = -1;
	o->proc.fs = o->fs;
	o->proc.n_fs = (size_t)++o->cfg.n_fs;
	return 0;
}

static int parse_flag(int c, char *arg, struct vmm_opts *o, struct rt_err *err)
{
	unsigned long n;

	switch (c) {
	case O_KERNEL: o->kernel = arg; return 0;
	case O_ROOTFS: o->rootfs = arg; return 0;
	case O_READONLY: o->proc.readonly_root = true; return 0;
	case O_CWD: o->proc.cwd = arg; return 0;
	case O_HOSTNAME: o->proc.hostname = arg; return 0;
	case O_BOOT_TIME: o->cfg.boot_time = true; return 0;
	case O_DEBUG: o->cfg.debug = true; return 0;
	case O_TERMINAL: o->cfg.terminal = o->proc.terminal = true; return 0;
	case O_DISK: o->cfg.disk = arg; return 0;
	case O_DUMP_INITRD: o->dump_initrd = arg; return 0;
	case O_DISK_RW: o->cfg.disk_rw = true; return 0;
	case O_CMDLINE: o->cfg.cmdline_extra = arg; return 0;
	case O_VSOCK: o->vsock = arg; return 0;
	case O_USER: return parse_user(arg, &o->proc, err);
	case O_NET: return vmm_net_flag(&o->net, o->flag, arg, err) < 0 ? -1 : 0;
	case O_FS: case O_FS_FD: return parse_fs(c, arg, o, err);
	case O_ENV:
		if (!strchr(arg, '='))
			return usage_error(err, "--env %s: expected NAME=VALUE", arg);
		if (strv_push(&o->proc.env, &o->n_env, arg) < 0)
			return rt_err_set(err, ENOMEM, "out of memory"), -1;
		return 0;
	case O_MEM:
		if (parse_num(arg, "--mem", 1UL << 20, &n, err) < 0)
			return -1;
		if (n < VMM_MIN_MEM_MIB)
			return usage_error(err, "--mem %s: at least %d MiB", arg,
					       VMM_MIN_MEM_MIB);
		o->cfg.mem_mib = n;
		return 0;
	case O_CPUS:
		if (parse_num(arg, "--cpus", 32, &n, err) < 0 || n == 0)
			return n == 0 ? usage_error(err, "--cpus 0: at least 1") : -1;
		o->cfg.cpus = (int)n;
		return 0;
	case O_KVM_FD: case O_KERNEL_FD: case O_INITRD_FD: case O_VSOCK_FD:
		if (parse_num(arg, "--*-fd", 65535, &n, err) < 0)
			return -1;
		*(c == O_KVM_FD ? &o->cfg.kvm_fd : c == O_KERNEL_FD ? &o->cfg.kernel_fd :
		  c == O_VSOCK_FD ? &o->cfg.vsock_fd : &o->cfg.initrd_fd) = (int)n;
		return 0;
	default:
		return usage_error(err, "%s", "bad option");
	}
}

/* --vsock PATH: the listening socket the VMM makes itself.  An existing
 * path is refused (bind fails), never replaced; the jailed VMM cannot
 * unlink it at exit, so the caller removes it. */
static int open_vsock(struct vmm_opts *o, struct rt_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (o->vsock && o->cfg.vsock_fd >= 0)
		return usage_error(err, "--vsock and --vsock-fd: give one");
	if (!o->vsock)
		return 0;
	if (strlen(o->vsock) >= sizeof(sa.sun_path))
		return usage_error(err, "--vsock %s: path too long for a unix socket", o->vsock);
	strcpy(sa.sun_path, o->vsock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rt_err_sys(err, errno, "--vsock: socket"), -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return rt_err_sys(err, errno, "--vsock %s%s", o->vsock,
				  errno == EADDRINUSE ? " (the path exists; remove it first)" : ""), -1;
	if (listen(fd, 16) < 0) {
		rt_err_sys(err, errno, "--vsock %s: listen", o->vsock);
		unlink(o->vsock);
		return -1;
	}
	o->cfg.vsock_fd = steal_fd(fd);
	return 0;
}

/* Files named on the command line; the fds a container's init passes are
 * already open. */
static int open_inputs(struct vmm_opts *o, struct rt_err *err)
{
	if (o->cfg.kvm_fd < 0) {
		o->cfg.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (o->cfg.kvm_fd < 0)
			return rt_err_sys(err, errno, "/dev/kvm (a microVM needs KVM)"), -1;
	}
	if (o->cfg.kernel_fd < 0) {
		const char *k = o->kernel ? o->kernel : VMM_DEFAULT_KERNEL;

		o->cfg.kernel_fd = open(k, O_RDONLY | O_CLOEXEC);
		if (o->cfg.kernel_fd < 0)
			return rt_err_sys(err, errno, "guest kernel %s%s", k,
					  o->kernel ? "" : " (build it with 'make guest-kernel')"), -1;
	}
	if (!o->proc.env &&
	    strv_push(&o->proc.env, &o->n_env,
			  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	if (vmm_net_open(&o->net, &o->cfg, &o->proc.net, err) < 0)
		return -1;
	/* --fs: the last step before the jail; each virtiofsd ends with
	 * this process (its socket), however that ends. */
	for (int i = 0; i < o->cfg.n_fs; i++)
		if (o->fs_src[i].src &&
		    vm_fs_start(o->fs_src[i].src, o->fs_src[i].ro, o->cfg.debug,
				&o->cfg.fs[i].sock_fd, err) < 0)
			return rt_err_wrap(err, "vmm: --fs %s", o->fs_src[i].src), -1;
	if (o->cfg.initrd_fd < 0 &&
	    vm_initrd_build(&o->proc, o->rootfs, &o->cfg.initrd_fd, err) < 0)
		return -1;
	return open_vsock(o, err);   /* last: the only input that leaves a file */
}

static int dump(int fd, const char *path, struct rt_err *err)
{
	_cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char buf[65536];
	ssize_t n;

	if (out < 0)
		return rt_err_sys(err, errno, "%s", path);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return rt_err_sys(err, errno, "initramfs");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (rt_write_all(out, buf, (size_t)n) < 0)
			return rt_err_sys(err, errno, "%s", path);
	return n < 0 ? rt_err_sys(err, errno, "%s", path) : 0;
}

int vmm_cli(int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "mem", required_argument, NULL, O_MEM },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "rootfs", required_argument, NULL, O_ROOTFS },
		{ "readonly", no_argument, NULL, O_READONLY },
		{ "env", required_argument, NULL, O_ENV },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "user", required_argument, NULL, O_USER },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "boot-time", no_argument, NULL, O_BOOT_TIME },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "terminal", no_argument, NULL, O_TERMINAL },
		{ "disk", required_argument, NULL, O_DISK },
		{ "dump-initrd", required_argument, NULL, O_DUMP_INITRD },
		{ "disk-rw", no_argument, NULL, O_DISK_RW },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "kvm-fd", required_argument, NULL, O_KVM_FD },
		{ "kernel-fd", required_argument, NULL, O_KERNEL_FD },
		{ "initrd-fd", required_argument, NULL, O_INITRD_FD },
		{ "net-tap", required_argument, NULL, O_NET },
		{ "tap-fd", required_argument, NULL, O_NET },
		{ "net-mac", required_argument, NULL, O_NET },
		{ "net-ip", required_argument, NULL, O_NET },
		{ "net-gw", required_argument, NULL, O_NET },
		{ "vsock", required_argument, NULL, O_VSOCK },
		{ "vsock-fd", required_argument, NULL, O_VSOCK_FD },
		{ "fs", required_argument, NULL, O_FS },
		{ "fs-fd", required_argument, NULL, O_FS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct vmm_opts o = { .cfg = { .kvm_fd = -1, .kernel_fd = -1, .initrd_fd = -1,
				       .mem_mib = 256, .cpus = 1, .stdin_fd = STDIN_FILENO,
				       .stdout_fd = STDOUT_FILENO, .stderr_fd = STDERR_FILENO,
				       .tap_fd = -1, .vsock_fd = -1 } };
	int c, status = 0, li = -1;

	/* Boot time counts from here, as QEMU's counts from its exec: the
	 * initramfs is built on every start. */
	clock_gettime(CLOCK_MONOTONIC, &o.cfg.t0);
	opterr = 0;
	optind = 1;
	vmm_net_init(&o.net);
	while ((c = getopt_long(argc, argv, "+h", opts, &li)) != -1) {
		o.flag = li >= 0 ? opts[li].name : "";
		li = -1;
		if (c == 'h') {
			printf("usage: hull vmm %s\n", VMM_USAGE);
			return 0;
		}
		if (c == '?')
			return usage_error(err, "bad option %s", argv[optind - 1]);
		if (parse_flag(c, optarg, &o, err) < 0)
			goto out;
	}
	o.proc.args = argv + optind;
	if (o.cfg.initrd_fd < 0 && optind >= argc) {
		usage_error(err, "no command to run");
		goto out;
	}
	if (o.dump_initrd) {     /* for bench/vmboot.sh: the same initramfs for QEMU */
		if (!o.proc.env && strv_push(&o.proc.env, &o.n_env, "PATH=/bin") < 0)
			status = rt_err_set(err, ENOMEM, "out of memory");
		else if (vm_initrd_build(&o.proc, o.rootfs, &o.cfg.initrd_fd, err) < 0 ||
			 dump(o.cfg.initrd_fd, o.dump_initrd, err) < 0)
			status = -1;
		goto out;
	}
	/* Once vmm_run has loaded the seccomp filter, unlink is fatal: the
	 * --vsock socket outlives the VMM (as Firecracker's does). */
	if (open_inputs(&o, err) < 0)
		status = -1;
	else if (vmm_jail(err) < 0) {
		if (o.vsock)
			unlink(o.vsock);
		status = -1;
	} else if (vmm_run(&o.cfg, &status, err) < 0)
		status = -1;
out:
	free(o.proc.env);
	for (int i = 0; i < VMM_MAX_FS; i++)
		free(o.fs_src[i].src);
	return err->code ? -1 : status;
}
