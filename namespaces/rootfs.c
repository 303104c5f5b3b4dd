#include "config.h"
/* The child's side of the rootfs: spec mounts, pivot_root, masked and
 * read-only paths.  Every destination is resolved inside the rootfs with
 * openat2(RESOLVE_IN_ROOT) and the mount is attached to that resolved fd
 * (through /proc/self/fd/N or move_mount), so a symlink in the image can
 * never redirect a mount onto the host.  Bind mounts use the new mount API
 * (open_tree + mount_setattr + move_mount): flags are set on the detached
 * tree, so there is no window where a read-only mount is writable. */
#include "namespaces/mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "runtime/cleanup.h"
#include "runtime/util.h"

#define FD_PATH_MAX 32

static void fd_path(int fd, char buf[FD_PATH_MAX])
{
	snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int open_in_root(int root_fd, const char *rel, int flags, bool no_symlinks,
			struct rt_err *err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	if (fd < 0 && errno == ELOOP && no_symlinks)
		return rt_err_set(err, ELOOP, "/%s crosses a symlink", rel);
	if (fd < 0)
		return rt_err_sys(err, errno, "open /%s in the rootfs", rel);
	return fd;
}

static int setattr(int fd, unsigned flags, uint64_t set, uint64_t clr, uint64_t prop,
		   int userns_fd)
{
	struct mount_attr a = {
		.attr_set = set, .attr_clr = clr, .propagation = prop,
		.userns_fd = (uint64_t)(userns_fd < 0 ? 0 : userns_fd),
	};
	return mount_setattr(fd, "", AT_EMPTY_PATH | flags, &a, sizeof(a));
}

/* MS_* mount flags to MOUNT_ATTR_* for mount_setattr (superblock flags such
 * as sync or mand have no per-mount meaning for a bind and are dropped). */
static void ms_to_attr(unsigned long set_ms, unsigned long clr_ms, uint64_t *set, uint64_t *clr)
{
	static const struct { unsigned long ms; uint64_t attr; } map[] = {
		{ MS_RDONLY, MOUNT_ATTR_RDONLY }, { MS_NOSUID, MOUNT_ATTR_NOSUID },
		{ MS_NODEV, MOUNT_ATTR_NODEV }, { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
		{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },
		{ MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
	};
	*set = *clr = 0;
	for (size_t i = 0; i < RT_ARRAY_SIZE(map); i++) {
		if (set_ms & map[i].ms)
			*set |= map[i].attr;
		else if (clr_ms & map[i].ms)
			*clr |= map[i].attr;
	}
	if (set_ms & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
		*clr |= MOUNT_ATTR__ATIME;
		*set |= (set_ms & MS_NOATIME) ? MOUNT_ATTR_NOATIME :
			(set_ms & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
	}
}

/* r is setattr()'s result; errno explains a failure. */
static int setattr_err(int r, const char *what, struct rt_err *err)
{
	if (r >= 0)
		return 0;
	if (errno == ENOSYS)
		return rt_err_sys(err, errno, "%s: mount_setattr not supported by this kernel", what);
	return rt_err_sys(err, errno, "%s", what);
}

/* Propagation, then the recursive r* attributes, on an attached mount. */
static int apply_after(int mnt_fd, const struct ns_mount_opts *o, struct rt_err *err)
{
	int r;

	if (o->propagation) {
		int rec = (o->propagation & MS_REC) ? AT_RECURSIVE : 0;
		r = setattr(mnt_fd, rec, 0, 0, o->propagation & ~(unsigned long)MS_REC, -1);
		if (r < 0)
			return setattr_err(r, "set propagation", err);
	}
	if (o->attr_set || o->attr_clr) {
		r = setattr(mnt_fd, AT_RECURSIVE, o->attr_set, o->attr_clr, 0, -1);
		if (r < 0)
			return setattr_err(r, "set recursive mount attributes", err);
	}
	return 0;
}

/* ---- idmapped mounts ---- */

static int write_map(const char *procpid, const char *file, const struct rt_id_map *m,
		     size_t n, struct rt_err *err)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
					m[i].container_id, m[i].host_id, m[i].size);
	if (len >= sizeof(buf))
		return rt_err_set(err, E2BIG, "too many id mappings");
	snprintf(path, sizeof(path), "/proc/%s/%s", procpid, file);
	return rt_write_file(path, buf, len, err);
}

/* A user namespace carrying the mount's mappings: a helper process unshares
 * one, we write its maps and keep a reference to it, then let it go.  The
 * helper reports its pid as /proc sees it, which need not be ours. */
static int idmap_userns(const struct ns_plan_mount *pm, struct rt_err *err)
{
	int ready[2], hold[2], r, ufd = -1;
	char procpid[32] = "", path[64];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]), close(ready[1]);
		return rt_err_sys(err, errno, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		char me[32], c;
		ssize_t n = readlink("/proc/self", me, sizeof(me));
		close(ready[0]), close(hold[1]);
		if (n <= 0 || unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], me, (size_t)n) != n)
			_exit(1);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]), close(hold[0]);
	r = pid < 0 ? rt_err_sys(err, errno, "fork") : 0;
	if (r == 0 && read(ready[0], procpid, sizeof(procpid) - 1) <= 0)
		r = rt_err_set(err, EPERM, "cannot create a user namespace for the idmapped mount");
	if (r == 0)
		r = write_map(procpid, "uid_map", pm->uid_map, pm->n_uid_map, err);
	if (r == 0)
		r = write_map(procpid, "gid_map", pm->gid_map, pm->n_gid_map, err);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%s/ns/user", procpid);
		ufd = open(path, O_RDONLY | O_CLOEXEC);
		if (ufd < 0)
			r = rt_err_sys(err, errno, "open %s", path);
	}
	close(ready[0]), close(hold[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r < 0 ? r : ufd;
}

static int set_idmap(int tree, const struct ns_plan_mount *pm, struct rt_err *err)
{
	_cleanup_close_ int ufd = idmap_userns(pm, err);

	if (ufd < 0)
		return ufd;
	if (setattr(tree, pm->opts.idmap_recursive ? AT_RECURSIVE : 0, MOUNT_ATTR_IDMAP, 0, 0,
		    ufd) < 0) {
		if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
			return rt_err_sys(err, errno, "idmapped mounts not supported for %s",
					  pm->source);
		return rt_err_sys(err, errno, "idmap %s", pm->source);
	}
	return 0;
}

/* ---- one spec mount ---- */

static int bind_tree(const struct ns_plan_mount *pm, const char *source, bool rec,
		     int target_fd, struct rt_err *err)
{
	_cleanup_close_ int tree = -1;
	uint64_t set, clr;
	int r;

	tree = open_tree(AT_FDCWD, source,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		return rt_err_sys(err, errno, "bind source %s", source);
	if (pm->opts.idmap) {
		r = set_idmap(tree, pm, err);
		if (r < 0)
			return r;
	}
	/* Top-level flags ("ro", "nosuid") apply to this mount only, as a
	 * remount of a bind would. */
	ms_to_attr(pm->opts.flags, pm->opts.clear, &set, &clr);
	if (set || clr) {
		r = setattr(tree, 0, set, clr, 0, -1);
		if (r < 0)
			return setattr_err(r, "set bind mount flags", err);
	}
	if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return rt_err_sys(err, errno, "attach bind mount of %s", source);
	return apply_after(tree, &pm->opts, err);
}

/* Creates the destination: a directory, or an empty file when a bind mount's
 * source is not a directory.  Returns an O_PATH fd of the target. */
static int make_target(int root_fd, const struct ns_plan_mount *pm, bool file,
		       struct rt_err *err)
{
	_cleanup_free_ char *parent = strdup(pm->rel);
	char *slash;
	int fd;

	if (!parent)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!file) {
		fd = rt_mkdir_p_in_root(root_fd, pm->rel, 0755, err);
		if (fd < 0 || !pm->no_symlinks)
			return fd;
		close(fd);
		return open_in_root(root_fd, pm->rel, O_PATH | O_DIRECTORY, true, err);
	}
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		fd = rt_mkdir_p_in_root(root_fd, parent, 0755, err);
		if (fd < 0)
			return fd;
		close(fd);
	}
	/* Open without side effects first: the name could be a fifo or a device. */
	fd = open_in_root(root_fd, pm->rel, O_PATH, false, err);
	if (fd >= 0 || err->code != ENOENT)
		return fd;
	fd = open_in_root(root_fd, pm->rel, O_CREAT | O_EXCL | O_WRONLY, false, err);
	if (fd < 0)
		return fd;
	close(fd);
	return open_in_root(root_fd, pm->rel, O_PATH, false, err);
}

static int mount_bind(int root_fd, const struct ns_plan_mount *pm, struct rt_err *err)
{
	_cleanup_close_ int target = -1;
	struct stat st;

	if (stat(pm->source, &st) < 0)
		return rt_err_sys(err, errno, "bind source %s", pm->source);
	target = make_target(root_fd, pm, !S_ISDIR(st.st_mode), err);
	if (target < 0)
		return target;
	return bind_tree(pm, pm->source, pm->opts.rbind, target, err);
}

/* ---- runc's tmpcopyup: a tmpfs starts with a copy of what it covers ---- */

#define COPYUP_MAX_DEPTH 32

static int copy_tree(int from, int to, const char *what, int depth, struct rt_err *err);

static int copy_file(int from, int to, const char *name, const struct stat *st,
		     struct rt_err *err)
{
	_cleanup_close_ int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[16384];
	ssize_t n;

	if (in < 0)
		return rt_err_sys(err, errno, "tmpcopyup: open %s", name);
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0)
		return rt_err_sys(err, errno, "tmpcopyup: create %s", name);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (rt_write_all(out, buf, (size_t)n) < 0)
			return rt_err_sys(err, errno, "tmpcopyup: write %s", name);
	return n < 0 ? rt_err_sys(err, errno, "tmpcopyup: read %s", name) : 0;
}

/* Symlinks are copied as links and never followed: the image is hostile. */
static int copy_entry(int from, int to, const char *name, int depth, struct rt_err *err)
{
	struct stat st;
	char target[4096];
	ssize_t n;
	int r = 0;

	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(err, errno, "tmpcopyup: stat %s", name);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sf = -1, df = -1;
		if (mkdirat(to, name, st.st_mode & 07777) < 0)
			return rt_err_sys(err, errno, "tmpcopyup: mkdir %s", name);
		sf = openat(from, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		df = openat(to, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sf < 0 || df < 0)
			return rt_err_sys(err, errno, "tmpcopyup: open %s", name);
		r = copy_tree(sf, df, name, depth + 1, err);
	} else if (S_ISREG(st.st_mode)) {
		r = copy_file(from, to, name, &st, err);
	} else if (S_ISLNK(st.st_mode)) {
		n = readlinkat(from, name, target, sizeof(target) - 1);
		if (n < 0)
			return rt_err_sys(err, errno, "tmpcopyup: readlink %s", name);
		target[n] = '\0';
		if (symlinkat(target, to, name) < 0)
			return rt_err_sys(err, errno, "tmpcopyup: symlink %s", name);
	} else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0 && errno != EPERM) {
		return rt_err_sys(err, errno, "tmpcopyup: mknod %s", name);
	}
	if (r < 0)
		return r;
	if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno != ENOENT && errno != EINVAL)
		return rt_err_sys(err, errno, "tmpcopyup: chown %s", name);
	return 0;
}

static int copy_tree(int from, int to, const char *what, int depth, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int fd;

	if (depth > COPYUP_MAX_DEPTH)
		return rt_err_set(err, ELOOP, "tmpcopyup: %s nested too deep", what);
	fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(err, errno, "tmpcopyup: read %s", what);
	}
	while ((e = readdir(d))) {
		int r;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = copy_entry(dirfd(d), to, e->d_name, depth, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A user namespace may not mount sysfs without its own network namespace,
 * mqueue without its own IPC namespace, cgroup2 without a cgroup
 * namespace; like runc, show the host's instance instead (flags kept). */
static int userns_fallback(const struct ns_rootfs_plan *plan, const struct ns_plan_mount *pm,
			   int target, struct rt_err *err)
{
	_cleanup_free_ char *self = NULL;
	char src[4200];
	const char *p;

	if (strcmp(pm->type, "sysfs") == 0)
		return bind_tree(pm, "/sys", true, target, err);
	if (strcmp(pm->type, "mqueue") == 0)
		return bind_tree(pm, "/dev/mqueue", false, target, err);
	if (strcmp(pm->type, "cgroup2") != 0 || plan->cgroupns)
		return rt_err_set(err, EPERM, "mount %s on %s: not permitted", pm->type, pm->dest);
	if (rt_read_file("/proc/self/cgroup", 1 << 16, &self, NULL, err) < 0)
		return -err->code;
	p = strstr(self, "0::");
	if (!p || (p != self && p[-1] != '\n'))
		return rt_err_set(err, ENOENT, "no cgroup v2 path in /proc/self/cgroup");
	snprintf(src, sizeof(src), "/sys/fs/cgroup%.*s", (int)strcspn(p + 3, "\n"), p + 3);
	return bind_tree(pm, src, true, target, err);
}

static int mount_fs(int root_fd, const struct ns_rootfs_plan *plan,
		    const struct ns_plan_mount *pm, struct rt_err *err)
{
	_cleanup_close_ int target = make_target(root_fd, pm, false, err), mnt = -1;
	unsigned long flags = pm->opts.flags & ~(unsigned long)(MS_BIND | MS_REC);
	char path[FD_PATH_MAX];

	if (target < 0)
		return target;
	fd_path(target, path);
	if (mount(pm->source ?: pm->type, path, pm->type, flags, pm->opts.data) < 0) {
		if (errno == EPERM && plan->userns)
			return userns_fallback(plan, pm, target, err);
		return rt_err_sys(err, errno, "mount %s on %s", pm->type, pm->dest);
	}
	if (!pm->opts.propagation && !pm->opts.attr_set && !pm->opts.attr_clr &&
	    !pm->opts.tmpcopyup)
		return 0;
	/* The fd still names the directory under the new mount; look again. */
	mnt = open_in_root(root_fd, pm->rel, O_PATH, pm->no_symlinks, err);
	if (mnt < 0)
		return mnt;
	if (pm->opts.tmpcopyup && strcmp(pm->type, "tmpfs") == 0 &&
	    copy_tree(target, mnt, pm->dest, 0, err) < 0)
		return rt_err_wrap(err, "%s", pm->dest);
	return apply_after(mnt, &pm->opts, err);
}

/* ---- cgroup mounts ---- */

static bool tokens_subset(const char *want, const char *have)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", want);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(t);
		const char *p = have;
		bool found = false;
		while (!found && (p = strstr(p, t))) {
			found = (p == have || p[-1] == ',') && (p[len] == ',' || !p[len]);
			p += len;
		}
		if (!found)
			return false;
	}
	return true;
}

/* Our line of /proc/self/cgroup for one v1 hierarchy: controllers, path. */
static bool own_cgroup(const char *self, const char *super, char *ctrl, size_t cl, char *path,
		       size_t pl)
{
	for (const char *l = self; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *c = strchr(l, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		const char *e = p ? strchrnul(p, '\n') : NULL;
		if (!p || p == c + 1)
			continue;
		snprintf(ctrl, cl, "%.*s", (int)(p - c - 1), c + 1);
		if (!tokens_subset(ctrl, super))
			continue;
		snprintf(path, pl, "%.*s", (int)(e - p - 1), p + 1);
		return true;
	}
	return false;
}

static int mount_cg_hier(const struct ns_rootfs_plan *plan, const struct ns_plan_mount *pm,
			 const struct ns_cg_hier *h, int dir_fd, const char *self,
			 struct rt_err *err)
{
	_cleanup_close_ int sub = -1;
	char ctrl[256], cgpath[4096], src[4400], path[FD_PATH_MAX];

	if (!own_cgroup(self, h->super_opts, ctrl, sizeof(ctrl), cgpath, sizeof(cgpath)))
		return 0;
	if (mkdirat(dir_fd, h->name, 0755) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "mkdir %s/%s", pm->dest, h->name);
	sub = openat(dir_fd, h->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return rt_err_sys(err, errno, "open %s/%s", pm->dest, h->name);
	if (plan->cgroupns) {
		fd_path(sub, path);
		if (mount("cgroup", path, "cgroup", pm->opts.flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  ctrl) < 0)
			return rt_err_sys(err, errno, "mount cgroup %s on %s/%s", ctrl, pm->dest,
					  h->name);
		return 0;
	}
	/* No cgroup namespace: show the container's own cgroup of the host. */
	snprintf(src, sizeof(src), "%s%s", h->host_path, cgpath);
	return bind_tree(pm, src, false, sub, err);
}

static int mount_cgroup_v1(int root_fd, const struct ns_rootfs_plan *plan,
			   const struct ns_plan_mount *pm, struct rt_err *err)
{
	_cleanup_close_ int target = make_target(root_fd, pm, false, err), dir = -1;
	_cleanup_free_ char *self = NULL;
	unsigned long flags = (pm->opts.flags & ~(unsigned long)(MS_RDONLY | MS_BIND | MS_REC)) |
			      MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char path[FD_PATH_MAX];
	int r;

	if (target < 0)
		return target;
	r = rt_read_file("/proc/self/cgroup", 1 << 16, &self, NULL, err);
	if (r < 0)
		return r;
	fd_path(target, path);
	if (mount("tmpfs", path, "tmpfs", flags, "mode=755") < 0)
		return rt_err_sys(err, errno, "mount tmpfs on %s", pm->dest);
	dir = open_in_root(root_fd, pm->rel, O_PATH | O_DIRECTORY, false, err);
	if (dir < 0)
		return dir;
	for (size_t i = 0; i < plan->n_cg_hiers; i++) {
		if (plan->cg_hiers[i].v2)
			continue;
		r = mount_cg_hier(plan, pm, &plan->cg_hiers[i], dir, self, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < plan->n_cg_links; i++)
		if (symlinkat(plan->cg_links[i].target, dir, plan->cg_links[i].name) < 0 &&
		    errno != EEXIST)
			return rt_err_sys(err, errno, "symlink %s/%s", pm->dest, plan->cg_links[i].name);
	if ((pm->opts.flags & MS_RDONLY) && setattr(dir, 0, MOUNT_ATTR_RDONLY, 0, 0, -1) < 0)
		return rt_err_sys(err, errno, "make %s read-only", pm->dest);
	return apply_after(dir, &pm->opts, err);
}

static int mount_cgroup(int root_fd, const struct ns_rootfs_plan *plan,
			const struct ns_plan_mount *pm, struct rt_err *err)
{
	struct ns_plan_mount v2 = *pm;

	if (!plan->cg_unified)
		return mount_cgroup_v1(root_fd, plan, pm, err);
	v2.type = "cgroup2";
	v2.source = "cgroup2";
	return mount_fs(root_fd, plan, &v2, err);
}

static int apply_mount(int root_fd, const struct ns_rootfs_plan *plan,
		       const struct ns_plan_mount *pm, struct rt_err *err)
{
	switch (pm->kind) {
	case NS_MNT_BIND:
		return mount_bind(root_fd, pm, err);
	case NS_MNT_CGROUP:
		return mount_cgroup(root_fd, plan, pm, err);
	case NS_MNT_FS:
		break;
	}
	return mount_fs(root_fd, plan, pm, err);
}

/* The mount a bind at PATH attaches to: walk up from PATH while the mount
 * id stays the same; the last path with it is that mount's mountpoint. */
static int mountpoint_of(const char *path, char **out, struct rt_err *err)
{
	_cleanup_free_ char *p = realpath(path, NULL);
	struct statx sx;
	uint64_t id;

	if (!p)
		return rt_err_sys(err, errno, "resolve rootfs %s", path);
	if (statx(AT_FDCWD, p, 0, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return rt_err_sys(err, errno ?: ENOTSUP, "mount id of %s", p);
	id = sx.stx_mnt_id;
	while (strcmp(p, "/") != 0) {
		char *slash = strrchr(p, '/');
		size_t keep = slash == p ? 1 : (size_t)(slash - p);   /* the parent */
		char saved = p[keep];

		p[keep] = '\0';
		if (statx(AT_FDCWD, p, 0, STATX_MNT_ID, &sx) < 0 || sx.stx_mnt_id != id) {
			p[keep] = saved;   /* back to the last path on that mount */
			break;
		}
	}
	*out = steal_ptr(p);
	return 0;
}

/* The rootfs is bound twice: the lower bind is made private so the upper
 * one (the future root) has a non-shared parent, which pivot_root and
 * MS_MOVE require whatever the host's propagation is.  Before that, the
 * mount the first bind attaches to is made private (in this namespace
 * only): while rootfsPropagation keeps "/" shared or leaves the mounts
 * under it shared (shared, rshared, private, slave are applied to "/"
 * alone or recursively), the bind would otherwise propagate back into the
 * host's mount namespace and stay there. */
static int bind_rootfs(const char *rootfs, struct rt_err *err)
{
	_cleanup_free_ char *parent = NULL;
	int r = mountpoint_of(rootfs, &parent, err);

	if (r < 0)
		return r;
	if (mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
		return rt_err_sys(err, errno, "make %s private", parent);
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rt_err_sys(err, errno, "bind rootfs %s", rootfs);
	if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
		return rt_err_sys(err, errno, "make rootfs %s private", rootfs);
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rt_err_sys(err, errno, "bind rootfs %s", rootfs);
	return 0;
}

int ns_rootfs_prepare(const struct ns_rootfs_plan *plan, struct rt_err *err)
{
	_cleanup_close_ int root_fd = -1;
	int r;

	if (mount(NULL, "/", NULL, plan->root_propagation, NULL) < 0)
		return rt_err_sys(err, errno, "set propagation of /");
	r = bind_rootfs(plan->rootfs, err);
	if (r < 0)
		return r;
	root_fd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return rt_err_sys(err, errno, "open rootfs %s", plan->rootfs);
	for (size_t i = 0; i < plan->n_mounts; i++) {
		r = apply_mount(root_fd, plan, &plan->mounts[i], err);
		if (r < 0)
			return rt_err_wrap(err, "mounts[%zu] (%s)", i, plan->mounts[i].dest);
		/* a bind over the root itself: what follows goes on top of it */
		if (strcmp(plan->mounts[i].rel, ".") == 0) {
			close(root_fd);
			root_fd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (root_fd < 0)
				return rt_err_sys(err, errno, "reopen rootfs %s", plan->rootfs);
		}
	}
	r = ns_devices_create(plan, root_fd, err);
	if (r < 0)
		return r;
	return ns_dev_links_create(plan, root_fd, err);
}

/* ---- after the switch ---- */

static int do_pivot(const char *rootfs, struct rt_err *err)
{
	if (chdir(rootfs) < 0)
		return rt_err_sys(err, errno, "chdir %s", rootfs);
	/* pivot_root(".", ".") stacks the old root on the new one; unmounting
	 * "." then drops it without needing a directory for it in the image.
	 * It is made a slave first so the unmount cannot reach the host. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rt_err_sys(err, errno, "pivot_root %s", rootfs);
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return rt_err_sys(err, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return rt_err_sys(err, errno, "detach the old root");
	return 0;
}

static int do_move_root(const char *rootfs, struct rt_err *err)
{
	if (chdir(rootfs) < 0)
		return rt_err_sys(err, errno, "chdir %s", rootfs);
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return rt_err_sys(err, errno, "move %s to /", rootfs);
	if (chroot(".") < 0)
		return rt_err_sys(err, errno, "chroot %s", rootfs);
	return 0;
}

/* Masking needs the real null device; an image's /dev/null could be a
 * regular file or a link to something it wants to expose. */
static int open_null(int root_fd, struct rt_err *err)
{
	_cleanup_close_ int fd = open_in_root(root_fd, "dev/null", O_PATH, false, err);
	struct stat st;

	if (fd < 0)
		return rt_err_wrap(err, "maskedPaths");
	if (fstat(fd, &st) < 0)
		return rt_err_sys(err, errno, "stat /dev/null");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return rt_err_set(err, EINVAL, "maskedPaths: /dev/null is not the null device");
	return steal_fd(fd);
}

static int mask_dir(int target, const char *rel, struct rt_err *err)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return rt_err_sys(err, errno, "mask /%s: tmpfs", rel);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mnt < 0 || move_mount(mnt, "", target, "",
				  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return rt_err_sys(err, errno, "mask /%s", rel);
	return 0;
}

static int mask_file(int target, int null_fd, const char *rel, struct rt_err *err)
{
	_cleanup_close_ int tree = open_tree(null_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					     AT_EMPTY_PATH);

	if (tree < 0 || move_mount(tree, "", target, "",
				   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return rt_err_sys(err, errno, "mask /%s", rel);
	return 0;
}

static int mask_paths(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err)
{
	_cleanup_close_ int null_fd = -1;

	for (size_t i = 0; i < plan->n_masked; i++) {
		_cleanup_close_ int t = open_in_root(root_fd, plan->masked[i], O_PATH, false, err);
		struct stat st;
		int r;
		if (t < 0 && err->code == ENOENT)
			continue;
		if (t < 0 || fstat(t, &st) < 0)
			return t < 0 ? t : rt_err_sys(err, errno, "stat /%s", plan->masked[i]);
		if (S_ISDIR(st.st_mode)) {
			r = mask_dir(t, plan->masked[i], err);
		} else {
			if (null_fd < 0 && (null_fd = open_null(root_fd, err)) < 0)
				return null_fd;
			r = mask_file(t, null_fd, plan->masked[i], err);
		}
		if (r < 0)
			return r;
	}
	rt_err_clear(err);
	return 0;
}

/* A read-only copy of the subtree replaces it; only the read-only bit
 * changes, so nosuid/nodev/noexec stay as they were. */
static int readonly_paths(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err)
{
	for (size_t i = 0; i < plan->n_readonly; i++) {
		const char *rel = plan->readonly[i];
		_cleanup_close_ int t = open_in_root(root_fd, rel, O_PATH, false, err), tree = -1;
		if (t < 0 && err->code == ENOENT)
			continue;
		if (t < 0)
			return t;
		tree = open_tree(t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
				 AT_EMPTY_PATH);
		if (tree < 0 || setattr(tree, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0, -1) < 0 ||
		    move_mount(tree, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return rt_err_sys(err, errno, "make /%s read-only", rel);
	}
	rt_err_clear(err);
	return 0;
}

int ns_rootfs_enter(const struct ns_rootfs_plan *plan, bool no_pivot, struct rt_err *err)
{
	_cleanup_close_ int root_fd = -1;
	int r;

	r = no_pivot ? do_move_root(plan->rootfs, err) : do_pivot(plan->rootfs, err);
	if (r < 0)
		return r;
	if (chdir("/") < 0)
		return rt_err_sys(err, errno, "chdir /");
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return rt_err_sys(err, errno, "open /");
	r = mask_paths(plan, root_fd, err);
	if (r < 0)
		return r;
	r = readonly_paths(plan, root_fd, err);
	if (r < 0)
		return r;
	if (plan->root_readonly && setattr(root_fd, 0, MOUNT_ATTR_RDONLY, 0, 0, -1) < 0)
		return rt_err_sys(err, errno, "make the root read-only");
	if (plan->rootfs_propagation && mount(NULL, "/", NULL, plan->rootfs_propagation, NULL) < 0)
		return rt_err_sys(err, errno, "set rootfsPropagation");
	return 0;
}
