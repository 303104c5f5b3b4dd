/* Shared read-only root filesystems: an image unpacked once into
 * STORE/rootfs/<manifest hex> and used as the lower layer of an overlay
 * per container (see image.h).  Also the garbage collection of what the
 * store derives from images (unpacked trees, VM disks), run with the
 * blobs' own. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* An overlay option value cannot hold these (they separate options and
 * lower layers, and escaping them is not worth the risk). */
static int overlay_path_ok(const char *what, const char *p, struct rt_err *err)
{
	if (strpbrk(p, ",:\\"))
		return rt_err_set(err, EINVAL, "%s %s: an overlay path may not contain ',', ':' "
				  "or '\\'", what, p);
	return 0;
}

int img_lower_ensure(struct img_store *s, const char *ref, char digest[72], char **lower,
		     struct rt_err *err)
{
	_cleanup_free_ char *abs = realpath(s->root, NULL);
	struct img_desc md;
	struct img_manifest m;

	*lower = NULL;
	if (!abs)
		return rt_err_sys(err, errno, "image store %s", s->root);
	if (img_store_manifest(s, ref, &md, &m, NULL, NULL, err) < 0)
		return -err->code;
	memcpy(digest, md.digest, sizeof(md.digest));
	img_desc_free(&md);
	img_manifest_free(&m);
	if (mkdirat(s->fd, "rootfs", 0755) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "image store %s: rootfs", s->root);
	if (asprintf(lower, "%s/rootfs/%s", abs, img_digest_hex(digest)) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (access(*lower, F_OK) < 0 && img_unpack(s, ref, *lower, err) < 0)
		return -err->code;
	return 0;
}

/* The unpacked image, held with a shared lock; all under the store's lock
 * so that no removal runs in between. */
static int lower_hold(struct img_store *s, const char *ref, struct img_rootfs *r,
		      struct rt_err *err)
{
	char lock[96];

	if (img_lower_ensure(s, ref, r->digest, &r->lower, err) < 0)
		return -err->code;
	if (overlay_path_ok("image store", r->lower, err) < 0)
		return -EINVAL;
	snprintf(lock, sizeof(lock), "rootfs/%s.lock", img_digest_hex(r->digest));
	r->hold_fd = openat(s->fd, lock, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->hold_fd < 0 || flock(r->hold_fd, LOCK_SH) < 0)
		return rt_err_sys(err, errno, "image store %s: %s", s->root, lock);
	return img_store_config(s, ref, &r->config, err);
}

/* DIR/upper and DIR/work, new; *made says whether DIR itself was made. */
static int upper_make(const char *dir, struct img_rootfs *r, bool *made, struct rt_err *err)
{
	char abs[PATH_MAX];

	*made = access(dir, F_OK) < 0;
	if (*made && rt_mkdir_p(dir, 0700, err) < 0)
		return -err->code;
	if (!realpath(dir, abs))
		return rt_err_sys(err, errno, "%s", dir);
	if (asprintf(&r->upper, "%s/upper", abs) < 0 || asprintf(&r->work, "%s/work", abs) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (overlay_path_ok("directory", abs, err) < 0)
		return -EINVAL;
	if (mkdir(r->upper, 0755) < 0)
		return rt_err_sys(err, errno, "%s", r->upper);
	if (mkdir(r->work, 0700) < 0) {
		int e = errno;
		rmdir(r->upper);
		return rt_err_sys(err, e, "%s", r->work);
	}
	return 0;
}

int img_rootfs_prepare(const char *store, const char *ref, const char *dir,
		       struct img_rootfs *out, struct rt_err *err)
{
	struct img_store s;
	bool made = false;
	int r;

	memset(out, 0, sizeof(*out));
	out->hold_fd = -1;
	if (img_store_open(&s, store ? store : img_store_default(), err) < 0)
		return -err->code;
	r = lower_hold(&s, ref, out, err);
	img_store_close(&s);
	if (r == 0)
		r = upper_make(dir, out, &made, err);
	if (r < 0) {
		if (made)
			img_rm_rf_at(AT_FDCWD, dir);
		img_rootfs_release(out);
		return rt_err_wrap(err, "image \"%s\"", ref);
	}
	return 0;
}

int img_rootfs_mount(const struct img_rootfs *r, const char *target, struct rt_err *err)
{
	_cleanup_free_ char *opts = NULL;

	if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", r->lower, r->upper,
		     r->work) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return rt_err_sys(err, errno, "overlay on %s", target);
	return 0;
}

void img_rootfs_release(struct img_rootfs *r)
{
	free(r->lower);
	free(r->upper);
	free(r->work);
	img_config_free(&r->config);
	if (r->hold_fd >= 0)
		close(r->hold_fd);
	memset(r, 0, sizeof(*r));
	r->hold_fd = -1;
}

static int hold_path(const char *lower, const char *holder, char **dir, char **file)
{
	if (!*holder || strchr(holder, '/') || !strcmp(holder, ".") || !strcmp(holder, "..") ||
	    strlen(holder) > 200)
		return -EINVAL;
	if (asprintf(dir, "%s.holds", lower) < 0)
		return -ENOMEM;
	if (asprintf(file, "%s/%s", *dir, holder) < 0) {
		free(*dir);
		*dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

int img_rootfs_hold(const char *lower, const char *holder, struct rt_err *err)
{
	_cleanup_free_ char *dir = NULL, *file = NULL;
	_cleanup_close_ int fd = -1;
	int r = hold_path(lower, holder, &dir, &file);

	if (r < 0)
		return rt_err_set(err, -r, "image hold \"%s\": not a plain name", holder);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "%s", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_err_sys(err, errno, "%s", file);
	return 0;
}

void img_rootfs_unhold(const char *lower, const char *holder)
{
	_cleanup_free_ char *dir = NULL, *file = NULL;

	if (hold_path(lower, holder, &dir, &file) < 0)
		return;
	unlink(file);
	rmdir(dir);     /* only when it was the last hold */
}

/* Does <hex>.holds (in d) name a holder? */
static bool has_holds(int d, const char *name)
{
	char holds[96];
	_cleanup_closedir_ DIR *hd = NULL;
	struct dirent *de;
	int fd;

	snprintf(holds, sizeof(holds), "%.64s.holds", name);
	fd = openat(d, holds, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (!(hd = fdopendir(fd))) {
		close(fd);
		return true;    /* unreadable: keep the tree rather than guess */
	}
	while ((de = readdir(hd)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return true;
	return false;
}

/* "<64 hex><suffix>" -> is the hex among the live manifests? */
static bool is_live(const char *live, const char *name)
{
	char needle[68];

	if (strspn(name, "0123456789abcdef") != 64)
		return false;
	snprintf(needle, sizeof(needle), "%.64s\n", name);
	return strstr(live, needle) != NULL;
}

/* Remove what sub/ holds for manifests no longer live: a leftover of an
 * interrupted build (".tmp-"), or an entry whose .lock nobody holds. */
static int gc_dir(struct img_store *s, const char *sub, const char *live, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = openat(s->fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(err, errno, "image store: %s", sub);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return rt_err_sys(err, errno, "image store: %s", sub);
	}
	while ((de = readdir(d))) {
		char lock[96];
		_cleanup_close_ int lfd = -1;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".lock") ||
		    strstr(de->d_name, ".holds") ||
		    (is_live(live, de->d_name) && !strstr(de->d_name, ".tmp-")))
			continue;
		if (!strstr(de->d_name, ".tmp-") && has_holds(dirfd(d), de->d_name))
			continue;    /* a container keeps it (img_rootfs_hold) */
		snprintf(lock, sizeof(lock), "%.64s.lock", de->d_name);
		lfd = openat(dirfd(d), lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
			continue;    /* in use by a container: a later gc takes it */
		if (img_rm_rf_at(dirfd(d), de->d_name) < 0)
			return rt_err_sys(err, errno, "image store: remove %s/%s", sub, de->d_name);
		if (lfd >= 0)
			unlinkat(dirfd(d), lock, 0);
		snprintf(lock, sizeof(lock), "%.64s.holds", de->d_name);
		unlinkat(dirfd(d), lock, AT_REMOVEDIR);
	}
	return 0;
}

int img_derived_gc(struct img_store *s, const char *live, struct rt_err *err)
{
	if (gc_dir(s, "rootfs", live, err) < 0)
		return -err->code;
	return gc_dir(s, "disks", live, err);
}
