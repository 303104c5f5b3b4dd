/* The guest's initramfs, built in memory: a cpio "newc" archive
 * (Documentation/driver-api/early-userspace/buffer-format.rst) holding
 * hull's guest init as /init, the workload's process as /hull/config and,
 * when the VM has no disk, the workload's root tree under /rootfs.
 *
 * The root tree is hostile: it is walked with openat(O_NOFOLLOW) from a
 * directory fd, so a symlink is archived as a symlink and never followed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "microvm/vmm.h"
#include "runtime/cleanup.h"
#include "runtime/spec.h"
#include "runtime/util.h"

extern const unsigned char hull_guest_init[], hull_guest_init_end[];

#define INITRD_MAX (1ULL << 30)
#define WALK_DEPTH_MAX 64

struct cpio {
	int fd;
	uint64_t off;
	uint32_t ino;
	struct rt_err *err;
};

static int put(struct cpio *c, const void *buf, size_t len)
{
	if (c->off + len > INITRD_MAX)
		return rt_err_set(c->err, EFBIG, "initramfs: the root tree is over 1 GiB; "
				  "use a disk image");
	if (rt_write_all(c->fd, buf, len) < 0)
		return rt_err_sys(c->err, errno, "initramfs: write");
	c->off += len;
	return 0;
}

static int pad4(struct cpio *c)
{
	static const char zeros[4];

	return (c->off & 3) ? put(c, zeros, 4 - (c->off & 3)) : 0;
}

static int entry(struct cpio *c, const char *name, mode_t mode, uid_t uid, gid_t gid,
		 dev_t rdev, const void *data, uint64_t size)
{
	char hdr[111];

	if (size > 0xffffffffULL)
		return rt_err_set(c->err, EFBIG, "initramfs: %s is over 4 GiB", name);
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++c->ino, (unsigned)mode, (unsigned)uid, (unsigned)gid, 1U, 0U, (unsigned)size,
		 0U, 0U, major(rdev), minor(rdev), (unsigned)strlen(name) + 1, 0U);
	if (put(c, hdr, 110) < 0 || put(c, name, strlen(name) + 1) < 0 || pad4(c) < 0)
		return -c->err->code;
	if (data && (put(c, data, size) < 0 || pad4(c) < 0))
		return -c->err->code;
	return 0;
}

/* A file's data goes straight from the file to the archive. */
static int file_entry(struct cpio *c, const char *name, int dirfd, const char *base,
		      const struct stat *st)
{
	_cleanup_close_ int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[65536];
	uint64_t left = (uint64_t)st->st_size;

	if (fd < 0)
		return rt_err_sys(c->err, errno, "initramfs: %s", name);
	if (entry(c, name, st->st_mode, st->st_uid, st->st_gid, 0, NULL, left) < 0)
		return -c->err->code;
	while (left) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0)   /* the file shrank: fill with zeros to keep the archive whole */
			memset(buf, 0, sizeof(buf)), n = (ssize_t)(left < sizeof(buf) ? left : sizeof(buf));
		if (put(c, buf, (size_t)n) < 0)
			return -c->err->code;
		left -= (uint64_t)n;
	}
	return pad4(c);
}

static int walk(struct cpio *c, int dirfd, const char *prefix, int depth);

static int walk_one(struct cpio *c, int dirfd, const char *prefix, const char *base, int depth)
{
	_cleanup_free_ char *name = NULL;
	struct stat st;
	char target[4096];
	ssize_t n;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(c->err, errno, "initramfs: %s/%s", prefix, base);
	if (asprintf(&name, "%s/%s", prefix, base) < 0)
		return rt_err_set(c->err, ENOMEM, "initramfs: out of memory");
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return file_entry(c, name, dirfd, base, &st);
	case S_IFLNK:
		n = readlinkat(dirfd, base, target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target))
			return rt_err_sys(c->err, n < 0 ? errno : ENAMETOOLONG, "initramfs: %s", name);
		return entry(c, name, st.st_mode, st.st_uid, st.st_gid, 0, target, (uint64_t)n);
	case S_IFDIR: {
		_cleanup_close_ int sub = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);

		if (sub < 0)
			return rt_err_sys(c->err, errno, "initramfs: %s", name);
		if (entry(c, name, st.st_mode, st.st_uid, st.st_gid, 0, NULL, 0) < 0)
			return -c->err->code;
		return walk(c, sub, name, depth + 1);
	}
	case S_IFCHR: case S_IFBLK: case S_IFIFO:
		return entry(c, name, st.st_mode, st.st_uid, st.st_gid, st.st_rdev, NULL, 0);
	default:      /* sockets mean nothing in a fresh VM */
		return 0;
	}
}

static int walk(struct cpio *c, int dirfd, const char *prefix, int depth)
{
	int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > WALK_DEPTH_MAX)
		return rt_err_set(c->err, ELOOP, "initramfs: %s: nested too deep", prefix);
	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return rt_err_sys(c->err, errno, "initramfs: %s", prefix);
	}
	while (r == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = walk_one(c, dirfd, prefix, de->d_name, depth);
	closedir(d);
	return r;
}

/* /hull/config: "key\0value\0" records, read by guest/init.c. */
static int config_add(char **buf, size_t *len, const char *key, const char *val)
{
	size_t kl = strlen(key) + 1, vl = strlen(val) + 1;
	char *p = realloc(*buf, *len + kl + vl);

	if (!p)
		return -ENOMEM;
	memcpy(p + *len, key, kl);
	memcpy(p + *len + kl, val, vl);
	*buf = p;
	*len += kl + vl;
	return 0;
}

/* rlimits (resource, soft, hard in decimal), no_new_privs, and the five
 * capability sets as hex masks: guest/init.c's read_sec. */
static int config_sec(const struct vm_guest_sec *s, char **out, size_t *len)
{
	char buf[128];
	int r = 0;

	for (size_t i = 0; i < s->n_rlimits && !r; i++) {
		snprintf(buf, sizeof(buf), "%d %llu %llu", s->rlimits[i].resource,
			 (unsigned long long)s->rlimits[i].soft,
			 (unsigned long long)s->rlimits[i].hard);
		r = config_add(out, len, "rlimit", buf);
	}
	if (s->no_new_privs)
		r = r ?: config_add(out, len, "nnp", "1");
	if (s->has_caps) {
		snprintf(buf, sizeof(buf), "%llx %llx %llx %llx %llx",
			 (unsigned long long)s->bounding, (unsigned long long)s->effective,
			 (unsigned long long)s->inheritable, (unsigned long long)s->permitted,
			 (unsigned long long)s->ambient);
		r = r ?: config_add(out, len, "caps", buf);
	}
	return r;
}

/* net.mac, net.ip4 "A.B.C.D/P", net.gw4, net.ip6 "X::Y/P", net.gw6: the
 * guest init validates each again (it trusts no config it reads). */
static int config_net(const struct vm_guest_net *n, char **out, size_t *len)
{
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN + 8];
	int r;

	snprintf(v, sizeof(v), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
		 n->mac[3], n->mac[4], n->mac[5]);
	r = config_add(out, len, "net.mac", v);
	if (!r && n->prefix4 >= 0) {
		inet_ntop(AF_INET, &n->ip4, a, sizeof(a));
		snprintf(v, sizeof(v), "%s/%d", a, n->prefix4);
		r = config_add(out, len, "net.ip4", v);
		if (!r && n->gw4.s_addr) {
			inet_ntop(AF_INET, &n->gw4, a, sizeof(a));
			r = config_add(out, len, "net.gw4", a);
		}
	}
	if (!r && n->prefix6 >= 0) {
		static const struct in6_addr any = IN6ADDR_ANY_INIT;

		inet_ntop(AF_INET6, &n->ip6, a, sizeof(a));
		snprintf(v, sizeof(v), "%s/%d", a, n->prefix6);
		r = config_add(out, len, "net.ip6", v);
		if (!r && memcmp(&n->gw6, &any, sizeof(any))) {
			inet_ntop(AF_INET6, &n->gw6, a, sizeof(a));
			r = config_add(out, len, "net.gw6", a);
		}
	}
	return r;
}

static int config_build(const struct vm_guest_proc *p, bool has_rootfs, char **out, size_t *len)
{
	char num[32];
	int r = 0;

	*out = NULL, *len = 0;
	for (char **a = p->args; a && *a && !r; a++)
		r = config_add(out, len, "arg", *a);
	for (char **e = p->env; e && *e && !r; e++)
		r = config_add(out, len, "env", *e);
	snprintf(num, sizeof(num), "%u", (unsigned)p->uid);
	r = r ?: config_add(out, len, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)p->gid);
	r = r ?: config_add(out, len, "gid", num);
	for (size_t i = 0; i < p->n_gids && !r; i++) {
		snprintf(num, sizeof(num), "%u", (unsigned)p->gids[i]);
		r = config_add(out, len, "group", num);
	}
	r = r ?: config_add(out, len, "cwd", p->cwd ? p->cwd : "/");
	if (p->hostname)
		r = r ?: config_add(out, len, "hostname", p->hostname);
	r = r ?: config_add(out, len, "readonly", p->readonly_root ? "1" : "0");
	r = r ?: config_add(out, len, "terminal", p->terminal ? "1" : "0");
	r = r ?: config_add(out, len, "root", has_rootfs ? "initramfs" : "disk");
	if (p->pid_ns)
		r = r ?: config_add(out, len, "pidns", "1");
	if (p->net)
		r = r ?: config_net(p->net, out, len);
	for (size_t i = 0; i < p->n_fs && !r; i++) {
		char *v = NULL;

		if (asprintf(&v, "%s %s %s", p->fs[i].tag, p->fs[i].ro ? "ro" : "rw",
			     p->fs[i].dst) < 0)
			return -ENOMEM;
		r = config_add(out, len, "fs", v);
		free(v);
	}
	return r ?: config_sec(&p->sec, out, len);
}

int vm_initrd_build(const struct vm_guest_proc *proc, const char *rootfs_dir, int *out_fd,
		    struct rt_err *err)
{
	_cleanup_close_ int fd = memfd_create("hull-initramfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	_cleanup_close_ int root = -1;
	_cleanup_free_ char *cfg = NULL;
	size_t cfg_len;
	struct cpio c = { .fd = fd, .err = err };
	struct stat st;

	if (!proc->args || !proc->args[0])
		return rt_err_set(err, EINVAL, "process.args: empty");
	if (fd < 0)
		return rt_err_sys(err, errno, "memfd_create");
	if (config_build(proc, rootfs_dir != NULL, &cfg, &cfg_len) < 0)
		return rt_err_set(err, ENOMEM, "initramfs: out of memory");
	if (entry(&c, "init", S_IFREG | 0755, 0, 0, 0, hull_guest_init,
		  (uint64_t)(hull_guest_init_end - hull_guest_init)) < 0 ||
	    entry(&c, "hull", S_IFDIR | 0700, 0, 0, 0, NULL, 0) < 0 ||
	    entry(&c, "hull/config", S_IFREG | 0600, 0, 0, 0, cfg, cfg_len) < 0)
		return -err->code;
	if (rootfs_dir) {
		root = open(rootfs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0 || fstat(root, &st) < 0)
			return rt_err_sys(err, errno, "rootfs %s", rootfs_dir);
		if (entry(&c, "rootfs", S_IFDIR | (st.st_mode & 07777), st.st_uid, st.st_gid, 0,
			  NULL, 0) < 0 || walk(&c, root, "rootfs", 0) < 0)
			return -err->code;
	}
	if (entry(&c, "TRAILER!!!", 0, 0, 0, 0, NULL, 0) < 0)
		return -err->code;
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	*out_fd = steal_fd(fd);
	return 0;
}
