#include "config.h"
/* Device nodes and the /dev symlinks of a container.  The list is made in
 * the parent (default devices + linux.devices); the child creates each
 * node with mknod, or, inside a user namespace where mknod is not allowed,
 * bind-mounts the host's node onto an empty file. */
#include "namespaces/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

/* runc's defaults: every container gets these, mode 0666, owned by root. */
static const struct { const char *path; unsigned major, minor; } default_devices[] = {
	{ "/dev/null", 1, 3 },
	{ "/dev/zero", 1, 5 },
	{ "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 },
	{ "/dev/urandom", 1, 9 },
	{ "/dev/tty", 5, 0 },
};

static int device_type(char t, mode_t *out)
{
	switch (t) {
	case 'c': case 'u': *out = S_IFCHR; return 0;
	case 'b': *out = S_IFBLK; return 0;
	case 'p': *out = S_IFIFO; return 0;
	default: return -EINVAL;
	}
}

/* A spec device replaces a default one with the same path. */
static struct ns_plan_device *find_device(struct ns_rootfs_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_devices; i++)
		if (strcmp(plan->devices[i].path, path) == 0)
			return &plan->devices[i];
	return NULL;
}

static int plan_spec_device(struct ns_rootfs_plan *plan, const struct rt_device *d,
			    struct rt_err *err)
{
	struct ns_plan_device *pd;
	const char *rel;
	mode_t type;
	int r;

	if (!d->path || d->path[0] != '/')
		return rt_err_set(err, EINVAL, "path \"%s\" is not absolute", d->path ?: "");
	r = ns_path_clean(plan->arena, d->path, &rel, err);
	if (r < 0)
		return r;
	if (strcmp(rel, ".") == 0)
		return rt_err_set(err, EINVAL, "path \"/\" is not a device");
	if (device_type(d->type, &type) < 0)
		return rt_err_set(err, EINVAL, "unknown device type '%c'", d->type);
	if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
		return rt_err_set(err, EINVAL, "device number %lld:%lld out of range",
				  (long long)d->major, (long long)d->minor);
	pd = find_device(plan, d->path);
	if (!pd)
		pd = &plan->devices[plan->n_devices++];
	pd->path = rt_arena_printf(plan->arena, "/%s", rel);
	pd->mode = type | (d->has_mode ? (d->mode & 07777) : 0666);
	pd->rdev = makedev((unsigned)d->major, (unsigned)d->minor);
	pd->uid = d->has_uid ? d->uid : 0;
	pd->gid = d->has_gid ? d->gid : 0;
	return 0;
}

int ns_devices_plan(struct ns_rootfs_plan *plan, const struct rt_spec *spec, struct rt_err *err)
{
	size_t n = RT_ARRAY_SIZE(default_devices) + spec->linux_.n_devices;

	plan->devices = rt_arena_array(plan->arena, n, sizeof(*plan->devices));
	for (size_t i = 0; i < RT_ARRAY_SIZE(default_devices); i++) {
		struct ns_plan_device *pd = &plan->devices[plan->n_devices++];
		pd->path = default_devices[i].path;
		pd->mode = S_IFCHR | 0666;
		pd->rdev = makedev(default_devices[i].major, default_devices[i].minor);
	}
	for (size_t i = 0; i < spec->linux_.n_devices; i++) {
		int r = plan_spec_device(plan, &spec->linux_.devices[i], err);
		if (r < 0)
			return rt_err_wrap(err, "linux.devices[%zu]", i);
	}
	return 0;
}

/* ---- child side ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Open the parent directory of path inside the root (creating it) and
 * remove whatever non-directory is at the final name: an image may ship
 * /dev/null as a symlink to a host path, and it must not be followed. */
static int open_parent_clear(int root_fd, const char *path, struct rt_err *err)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	int dfd;

	if (!dir)
		return rt_err_set(err, ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	dfd = rt_mkdir_p_in_root(root_fd, slash ? dir : "/", 0755, err);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, base_name(path), 0) < 0 && errno != ENOENT) {
		int e = errno;
		close(dfd);
		if (e == EISDIR)
			return rt_err_set(err, EEXIST, "%s exists and is a directory", path);
		return rt_err_sys(err, e, "remove %s", path);
	}
	return dfd;
}

static int mknod_device(int dfd, const struct ns_plan_device *d, struct rt_err *err)
{
	const char *name = base_name(d->path);

	if (mknodat(dfd, name, d->mode, d->rdev) < 0)
		return rt_err_sys(err, errno, "mknod %s", d->path);
	/* mknod is subject to the umask; the spec's mode is not. */
	if (fchmodat(dfd, name, d->mode & 07777, 0) < 0)
		return rt_err_sys(err, errno, "chmod %s", d->path);
	if (fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(err, errno, "chown %s", d->path);
	return 0;
}

/* In a user namespace: bind the host node (same path on the host) onto an
 * empty file, attached through the fd so nothing is resolved twice. */
static int bind_device(int dfd, const struct ns_plan_device *d, struct rt_err *err)
{
	const char *name = base_name(d->path);
	_cleanup_close_ int target = -1, tree = -1;

	target = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (target < 0)
		return rt_err_sys(err, errno, "create %s", d->path);
	tree = open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return rt_err_sys(err, errno, "open host device %s", d->path);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return rt_err_sys(err, errno, "bind host device %s", d->path);
	return 0;
}

int ns_devices_create(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err)
{
	if (!plan->setup_dev)
		return 0;
	for (size_t i = 0; i < plan->n_devices; i++) {
		const struct ns_plan_device *d = &plan->devices[i];
		_cleanup_close_ int dfd = open_parent_clear(root_fd, d->path, err);
		int r;
		if (dfd < 0)
			return rt_err_wrap(err, "device %s", d->path);
		if (plan->userns && !S_ISFIFO(d->mode))
			r = bind_device(dfd, d, err);
		else
			r = mknod_device(dfd, d, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int link_at(int dev_fd, const char *target, const char *name, bool replace,
		   struct rt_err *err)
{
	if (replace && unlinkat(dev_fd, name, 0) < 0 && errno != ENOENT)
		return rt_err_sys(err, errno, "remove /dev/%s", name);
	if (symlinkat(target, dev_fd, name) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "symlink /dev/%s -> %s", name, target);
	return 0;
}

int ns_dev_links_create(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	_cleanup_close_ int dev_fd = -1;
	int r;

	if (!plan->setup_dev)
		return 0;
	dev_fd = rt_mkdir_p_in_root(root_fd, "/dev", 0755, err);
	if (dev_fd < 0)
		return dev_fd;
	/* Existing entries are kept (an image's own /dev/fd), as runc does. */
	for (size_t i = 0; i < RT_ARRAY_SIZE(links); i++) {
		r = link_at(dev_fd, links[i][0], links[i][1], false, err);
		if (r < 0)
			return r;
	}
	if (plan->dev_core) {
		r = link_at(dev_fd, "/proc/kcore", "core", false, err);
		if (r < 0)
			return r;
	}
	/* A devpts instance of its own: ptmx must lead to it, not to the host's. */
	if (plan->pts_mounted)
		return link_at(dev_fd, "pts/ptmx", "ptmx", true, err);
	return 0;
}
