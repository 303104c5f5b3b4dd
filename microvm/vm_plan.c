/* VM mode of the container path: see vm_plan.h. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "microvm/disk.h"
#include "microvm/vm_fs.h"
#include "microvm/vm_plan.h"
#include "microvm/vmm.h"
#include "netns/net.h"
#include "runtime/cleanup.h"
#include "runtime/spec.h"

#define VM_DEFAULT_MEM_MIB 256
#define VM_MAX_CPUS 32

void vm_plan_init(struct vm_plan *vp)
{
	*vp = (struct vm_plan){ .vmm_fd = -1, .kvm_fd = -1, .kernel_fd = -1, .initrd_fd = -1,
			       .disk_fd = -1, .vsock_fd = -1 };
	for (int i = 0; i < VMM_MAX_FS; i++)
		vp->fs[i].sock_fd = -1;
}

void vm_plan_clear(struct vm_plan *vp)
{
	int *fds[] = { &vp->vmm_fd, &vp->kvm_fd, &vp->kernel_fd, &vp->initrd_fd, &vp->disk_fd,
		       &vp->vsock_fd };

	for (size_t i = 0; i < RT_ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]), *fds[i] = -1;
	for (int i = 0; i < vp->n_fs; i++) {
		if (vp->fs[i].sock_fd >= 0)
			close(vp->fs[i].sock_fd);
		free(vp->fs[i].src);
		free(vp->fs[i].dst);
	}
	vp->n_fs = 0;
}

void vm_plan_fds(const struct vm_plan *vp, int fds[VM_PLAN_NFDS])
{
	fds[0] = vp->vmm_fd, fds[1] = vp->kvm_fd, fds[2] = vp->kernel_fd, fds[3] = vp->initrd_fd;
	fds[4] = vp->disk_fd, fds[5] = vp->vsock_fd;
	for (int i = 0; i < VMM_MAX_FS; i++)
		fds[6 + i] = i < vp->n_fs ? vp->fs[i].sock_fd : -1;
}

int vm_plan_wanted(const struct rt_spec *s, bool flag, bool *out, struct rt_err *err)
{
	*out = flag;
	for (size_t i = 0; i < s->n_annotations; i++) {
		const struct rt_kv *a = &s->annotations[i];

		if (strcmp(a->key, "org.hull.isolation"))
			continue;
		if (!strcmp(a->value, "vm"))
			*out = true;
		else if (strcmp(a->value, "container"))
			return rt_err_set(err, EINVAL, "annotations: org.hull.isolation is '%s', "
					  "not 'container' or 'vm'", a->value);
	}
	return 0;
}

/* hull's own directory, where a build tree's hull-vmm is: read once and
 * kept, since /proc/self/exe may not name a reachable path any more once
 * the caller has changed mount namespace (hull run --image does). */
static char self_dir[PATH_MAX];

void vm_plan_locate_vmm(void)
{
	char self[PATH_MAX];
	ssize_t n;

	if (self_dir[0])
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = 0;
	snprintf(self_dir, sizeof(self_dir), "%s", dirname(self));
}

/* hull-vmm beside hull's own binary (the build tree), else installed. */
static int open_vmm(struct rt_err *err)
{
	char path[PATH_MAX + 16];
	int fd = -1;

	vm_plan_locate_vmm();
	if (self_dir[0]) {
		snprintf(path, sizeof(path), "%s/hull-vmm", self_dir);
		fd = open(path, O_PATH | O_CLOEXEC);
	}
	if (fd < 0)
		fd = open(HULL_PKGLIBEXECDIR "/hull-vmm", O_PATH | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "the VMM (hull-vmm) is not beside hull nor in "
				  HULL_PKGLIBEXECDIR);
	return fd;
}

/* Guest RAM is the memory limit less the VMM's own overhead. */
static int plan_resources(const struct rt_spec *s, struct vm_plan *vp, struct rt_err *err)
{
	const struct rt_resources *r = &s->linux_.resources;
	int64_t min = (VMM_MIN_MEM_MIB + VMM_OVERHEAD_MIB) << 20;

	vp->mem_mib = VM_DEFAULT_MEM_MIB;
	if (r->mem_limit > 0) {
		if (r->mem_limit < min)
			return rt_err_set(err, EINVAL, "linux.resources.memory.limit: %lld MiB is too "
					  "small for a microVM (at least %d MiB: %d of guest RAM and %d "
					  "for the VMM)", (long long)(r->mem_limit >> 20),
					  VMM_MIN_MEM_MIB + VMM_OVERHEAD_MIB, VMM_MIN_MEM_MIB,
					  VMM_OVERHEAD_MIB);
		vp->mem_mib = (uint64_t)(r->mem_limit >> 20) - VMM_OVERHEAD_MIB;
	}
	vp->cpus = 1;
	if (r->cpu_quota > 0 && r->cpu_period > 0) {
		int64_t n = (r->cpu_quota + r->cpu_period - 1) / r->cpu_period;

		vp->cpus = n > VM_MAX_CPUS ? VM_MAX_CPUS : (int)n;
	}
	return 0;
}

/* The root: the disk given, else an erofs (or ext4) image of rootfs,
 * cached by content; either is shared read-only and the guest puts a
 * tmpfs overlay on it unless root.readonly. */
static int plan_disk(const char *rootfs, const char *disk, struct vm_plan *vp,
		     struct rt_err *err)
{
	_cleanup_free_ char *built = NULL;
	const char *path = disk;

	if (!path) {
		if (vm_disk_for_rootfs(rootfs, &built, err) < 0)
			return rt_err_wrap(err, "microVM: root disk");
		path = built;
	}
	vp->disk_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (vp->disk_fd < 0)
		return rt_err_sys(err, errno, "microVM: root disk %s", path);
	return 0;
}

/* process.rlimits, noNewPrivileges and capabilities, for the guest init
 * to apply (it checks them again: it trusts nothing it reads). */
static int plan_sec(const struct rt_process *p, struct vm_guest_sec *g, struct rt_err *err)
{
	const struct rt_caps *c = &p->caps;

	if (p->n_rlimits > RLIM_NLIMITS)
		return rt_err_set(err, EINVAL, "process.rlimits: %zu entries, at most %d in a "
				  "microVM", p->n_rlimits, RLIM_NLIMITS);
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].resource < 0 || p->rlimits[i].resource >= RLIM_NLIMITS ||
		    p->rlimits[i].soft > p->rlimits[i].hard)
			return rt_err_set(err, EINVAL, "process.rlimits[%zu]: not a limit the "
					  "microVM's guest can set", i);
	g->rlimits = p->rlimits;
	g->n_rlimits = p->n_rlimits;
	g->no_new_privs = p->no_new_privileges;
	g->has_caps = c->present;
	if (c->present) {
		g->bounding = c->bounding, g->effective = c->effective;
		g->inheritable = c->inheritable, g->permitted = c->permitted;
		g->ambient = c->ambient;
	}
	return 0;
}

static bool has_opt(const struct rt_mount *m, const char *o)
{
	for (size_t i = 0; i < m->n_options; i++)
		if (!strcmp(m->options[i], o))
			return true;
	return false;
}

static bool under(const char *dst, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(dst, dir, n) && (dst[n] == 0 || dst[n] == '/');
}

/* Bind mounts of directories become virtio-fs shares; binds of files
 * (an engine's /etc/hosts, resolv.conf) and of the guest's own /dev,
 * /proc and /sys have no virtio-fs form and stay host-side only. */
static int plan_fs(const struct rt_spec *s, struct vm_plan *vp, struct rt_err *err)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct rt_mount *m = &s->mounts[i];
		struct vm_plan_fs *f = &vp->fs[vp->n_fs];
		bool bind = (m->type && !strcmp(m->type, "bind")) || has_opt(m, "bind") ||
			    has_opt(m, "rbind");
		struct stat st;

		/* a missing source is vm_fs_check's clear error */
		if (!bind || !m->source || (stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode)) ||
		    under(m->destination, "/dev") || under(m->destination, "/proc") ||
		    under(m->destination, "/sys"))
			continue;
		if (vp->n_fs == VMM_MAX_FS)
			return rt_err_set(err, E2BIG, "mounts[%zu]: a microVM shares at most %d "
					  "directories", i, VMM_MAX_FS);
		if (vm_fs_check(m->source, m->destination, &f->src, err) < 0)
			return rt_err_wrap(err, "mounts[%zu]", i);
		f->dst = strdup(m->destination);
		if (!f->dst)
			return rt_err_set(err, ENOMEM, "out of memory");
		f->ro = has_opt(m, "ro");
		vp->n_fs++;
	}
	return 0;
}

int vm_plan_start_fs(struct vm_plan *vp, struct rt_err *err)
{
	for (int i = 0; i < vp->n_fs; i++)
		if (vp->fs[i].sock_fd < 0 &&
		    vm_fs_start(vp->fs[i].src, vp->fs[i].ro, false, &vp->fs[i].sock_fd, err) < 0)
			return rt_err_wrap(err, "microVM: sharing %s", vp->fs[i].src);
	return 0;
}

static int plan_initrd(const struct rt_spec *s, struct vm_plan *vp, struct rt_err *err)
{
	const struct rt_process *p = &s->process;
	struct vm_guest_proc g = {
		.args = p->args, .env = p->env, .cwd = p->cwd, .uid = p->user.uid,
		.gid = p->user.gid, .gids = p->user.additional_gids,
		.n_gids = p->user.n_additional_gids, .hostname = s->hostname,
		.readonly_root = s->root_readonly, .terminal = p->terminal,
		.pid_ns = vp->pid_ns,
		.net = vp->has_net ? &vp->net : NULL,
	};
	struct vm_guest_fs fs[VMM_MAX_FS];

	for (int i = 0; i < vp->n_fs; i++) {
		fs[i] = (struct vm_guest_fs){ .dst = vp->fs[i].dst, .ro = vp->fs[i].ro };
		snprintf(fs[i].tag, sizeof(fs[i].tag), "hullfs%d", i);
	}
	g.fs = fs;
	g.n_fs = (size_t)vp->n_fs;
	if (plan_sec(p, &g.sec, err) < 0)
		return -err->code;
	if (vm_initrd_build(&g, NULL, &vp->initrd_fd, err) < 0)
		return rt_err_wrap(err, "microVM");
	return 0;
}

int vm_plan_build(const struct rt_spec *s, const char *rootfs, const char *kernel,
		  const char *disk, struct vm_plan *vp, struct rt_err *err)
{
	const char *k = kernel ? kernel : VMM_DEFAULT_KERNEL;

	vp->enabled = true;
	vp->terminal = s->process.terminal;
	/* the shares first: a bad bind is named even where KVM is missing */
	if (plan_resources(s, vp, err) < 0 || plan_fs(s, vp, err) < 0)
		return -err->code;
	vp->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vp->kvm_fd < 0)
		return rt_err_sys(err, errno, "microVM: /dev/kvm (VM isolation needs KVM)");
	vp->kernel_fd = open(k, O_RDONLY | O_CLOEXEC);
	if (vp->kernel_fd < 0)
		return rt_err_sys(err, errno, "microVM: guest kernel %s%s", k,
				  kernel ? "" : " (build it with 'make guest-kernel')");
	vp->vmm_fd = open_vmm(err);
	if (vp->vmm_fd < 0)
		return rt_err_wrap(err, "microVM");
	if (plan_disk(rootfs, disk, vp, err) < 0)
		return -err->code;
	return plan_initrd(s, vp, err);
}

void vm_plan_net(struct vm_plan *vp, const struct net_plan *np)
{
	uint32_t host;

	vp->has_net = np && np->veth;
	if (!vp->has_net)
		return;
	/* Locally administered, unicast, "hu", then the address's low 24
	 * bits: unique inside any subnet hull leases from (prefix >= 8). */
	host = ntohl(np->ip4.s_addr);
	vp->net = (struct vm_guest_net){
		.mac = { 0x02, 0x68, 0x75, (uint8_t)(host >> 16), (uint8_t)(host >> 8),
			 (uint8_t)host },
		.ip4 = np->ip4, .gw4 = np->gw4, .prefix4 = np->prefix4,
		.ip6 = np->ip6, .gw6 = np->gw6, .prefix6 = np->prefix6,
	};
}

void vm_plan_net_adopt(struct vm_plan *vp, const struct net_adopt *a)
{
	vp->has_net = a->found;
	if (!a->found)
		return;
	vp->net = (struct vm_guest_net){
		.ip4 = a->ip4, .gw4 = a->gw4, .prefix4 = a->prefix4,
		.ip6 = a->ip6, .gw6 = a->gw6, .prefix6 = a->prefix6,
	};
	memcpy(vp->net.mac, a->mac, 6);
	/* the guest init takes IPv4 prefixes up to /30 only */
	if (vp->net.prefix4 > 30)
		vp->net.prefix4 = -1, vp->net.gw4.s_addr = 0;
}

/* --tap-fd N --net-mac MAC for the VMM, into argv at *n. */
static int net_args(const struct vm_plan *vp, int tap_fd, char **argv, int *n, char fd[16],
		    char mac[24], struct rt_err *err)
{
	const uint8_t *m = vp->net.mac;
	int fl;

	if (tap_fd < 0)
		return 0;
	fl = fcntl(tap_fd, F_GETFD);
	if (fl < 0 || fcntl(tap_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "microVM: tap fd %d", tap_fd);
	snprintf(fd, 16, "%d", tap_fd);
	snprintf(mac, 24, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	argv[(*n)++] = "--tap-fd";
	argv[(*n)++] = fd;
	argv[(*n)++] = "--net-mac";
	argv[(*n)++] = mac;
	return 0;
}

static int keep_fd(int fd, struct rt_err *err)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "microVM: fd %d", fd);
	return 0;
}

int vm_plan_exec(const struct vm_plan *vp, int tap_fd, struct rt_err *err)
{
	char kvm[16], kernel[16], initrd[16], mem[24], cpus[16], disk[32], tap[16], mac[24];
	char vsock[16];
	char fs[VMM_MAX_FS][32];
	char *argv[26 + 2 * VMM_MAX_FS] = { "hull-vmm", "--kvm-fd", kvm, "--kernel-fd", kernel, "--initrd-fd", initrd,
			   "--mem", mem, "--cpus", cpus, "--disk", disk };
	char *envp[] = { NULL };
	int n = 13;

	if (vp->terminal)
		argv[n++] = "--terminal";
	if (net_args(vp, tap_fd, argv, &n, tap, mac, err) < 0)
		return -err->code;
	if (vp->vsock_fd >= 0) {
		snprintf(vsock, sizeof(vsock), "%d", vp->vsock_fd);
		argv[n++] = "--vsock-fd";
		argv[n++] = vsock;
		if (keep_fd(vp->vsock_fd, err) < 0)
			return -err->code;
	}
	for (int i = 0; i < vp->n_fs; i++) {
		if (keep_fd(vp->fs[i].sock_fd, err) < 0)
			return -err->code;
		snprintf(fs[i], sizeof(fs[i]), "%d:hullfs%d", vp->fs[i].sock_fd, i);
		argv[n++] = "--fs-fd";
		argv[n++] = fs[i];
	}
	argv[n] = NULL;

	snprintf(kvm, sizeof(kvm), "%d", vp->kvm_fd);
	snprintf(kernel, sizeof(kernel), "%d", vp->kernel_fd);
	snprintf(initrd, sizeof(initrd), "%d", vp->initrd_fd);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)vp->mem_mib);
	snprintf(cpus, sizeof(cpus), "%d", vp->cpus);
	/* The image's host path is out of reach in here; its fd is not. */
	snprintf(disk, sizeof(disk), "/proc/self/fd/%d", vp->disk_fd);
	if (keep_fd(vp->kvm_fd, err) < 0 || keep_fd(vp->kernel_fd, err) < 0 ||
	    keep_fd(vp->initrd_fd, err) < 0 || keep_fd(vp->disk_fd, err) < 0)
		return -err->code;
	syscall(SYS_execveat, vp->vmm_fd, "", argv, envp, AT_EMPTY_PATH);
	return rt_err_sys(err, errno, "exec the VMM");
}

/* Bound through /proc/self/fd/N: a long --root stays within sun_path. */
static int vsock_addr(int dirfd, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/" VM_VSOCK_SOCK, dirfd);
	return 0;
}

int vm_plan_vsock(struct vm_plan *vp, int state_dirfd, struct rt_err *err)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;

	if (fd < 0)
		return rt_err_sys(err, errno, "microVM: vsock socket");
	vsock_addr(state_dirfd, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return rt_err_sys(err, errno, "microVM: bind the vsock socket");
	/* root only: what answers in the guest may be an agent with root */
	fchmodat(state_dirfd, VM_VSOCK_SOCK, 0600, 0);
	vp->vsock_fd = steal_fd(fd);
	return 0;
}

int vm_vsock_path(const char *root, const char *id, char *buf, size_t n)
{
	int r = snprintf(buf, n, "%s/%s/" VM_VSOCK_SOCK, root, id);

	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

/* "OK <n>\n", read a byte at a time: what follows is the stream's. */
static int vsock_reply(int fd, int timeout_ms, struct rt_err *err)
{
	char line[32];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return rt_err_set(err, ETIMEDOUT, "vsock: no answer from the guest");
		if (r < 0 || read(fd, &line[n], 1) != 1)
			break;
		if (line[n++] == '\n') {
			line[n] = 0;
			if (!strncmp(line, "OK ", 3))
				return 0;
			break;
		}
	}
	return rt_err_set(err, ECONNREFUSED, "vsock: refused (nothing listens on that "
			  "port in the guest)");
}

int vm_vsock_connect(const char *root, const char *id, uint32_t port, int timeout_ms,
		     struct rt_err *err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	struct sockaddr_un sa;
	char req[32];
	int len;

	if (asprintf(&dir, "%s/%s", root, id) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_err_sys(err, errno, "vsock: %s", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rt_err_sys(err, errno, "vsock: socket");
	vsock_addr(dfd, &sa);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return rt_err_sys(err, errno == ECONNREFUSED ? ENOENT : errno,
				  "vsock: %s/" VM_VSOCK_SOCK "%s", dir,
				  errno == ECONNREFUSED || errno == ENOENT
				  ? " (not a running microVM container)" : "");
	len = snprintf(req, sizeof(req), "CONNECT %u\n", port);
	if (write(fd, req, (size_t)len) != len)
		return rt_err_sys(err, errno, "vsock: CONNECT");
	if (vsock_reply(fd, timeout_ms, err) < 0)
		return -err->code;
	return steal_fd(fd);
}
