/* Unpack an image's layers into a new directory.  Layer tars are hostile:
 * every entry is created relative to a directory fd opened with
 * RESOLVE_IN_ROOT (rt_mkdir_p_in_root / rt_open_in_root), its last
 * component never followed, so neither "../", an absolute path, a symlink
 * left by an earlier entry or layer, nor a hardlink can reach outside.  The
 * result is built in DIR.tmp-XXXXXX and renamed to DIR only when every
 * layer applied, so a bad layer leaves nothing behind.  Also `hull image
 * bundle`: the rootfs plus a config.json made from the image config. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct layer {
	int root;                 /* O_PATH fd of the directory being built */
	int fd;                   /* the layer blob */
	EVP_MD_CTX *md;
	uint64_t total;
	char buf[65536];
	char **seen;              /* paths this layer created: whiteouts spare them */
	size_t n_seen, cap_seen;
	bool root_user;
};

/* Hash the compressed bytes as libarchive reads them, so the layer is
 * checked against its digest without a second pass. */
static la_ssize_t read_cb(struct archive *a, void *data, const void **buf)
{
	struct layer *l = data;
	ssize_t n;

	do
		n = read(l->fd, l->buf, sizeof(l->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		LA.set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	LC.DigestUpdate(l->md, l->buf, (size_t)n);
	l->total += (uint64_t)n;
	*buf = l->buf;
	return n;
}

/* "./a//b/" -> "a/b"; "/a" -> "a" (anchored in the root, as tar does);
 * ".." anywhere is refused.  "" is the root itself. */
static int clean_path(const char *in, char **out, struct rt_err *err)
{
	_cleanup_free_ char *copy = strdup(in);
	char *res = calloc(1, strlen(in) + 1), *save = NULL;
	size_t len = 0;

	if (!copy || !res) {
		free(res);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			free(res);
			return rt_err_set(err, EINVAL, "entry \"%s\": \"..\" is not allowed", in);
		}
		len += (size_t)sprintf(res + len, "%s%s", len ? "/" : "", c);
	}
	*out = res;
	return 0;
}

static bool seen(const struct layer *l, const char *path)
{
	for (size_t i = 0; i < l->n_seen; i++)
		if (!strcmp(l->seen[i], path))
			return true;
	return false;
}

static int remember(struct layer *l, const char *path, struct rt_err *err)
{
	if (l->n_seen == l->cap_seen) {
		size_t cap = l->cap_seen ? 2 * l->cap_seen : 64;
		char **g = realloc(l->seen, cap * sizeof(*g));
		if (!g)
			return rt_err_set(err, ENOMEM, "out of memory");
		l->seen = g;
		l->cap_seen = cap;
	}
	l->seen[l->n_seen] = strdup(path);
	return l->seen[l->n_seen++] ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

/* An opaque directory hides everything lower layers put in it. */
static int opaque(struct layer *l, int dir, const char *dpath, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(err, errno, "opaque directory \"%s\"", dpath);
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&p, "%s%s%s", dpath, *dpath ? "/" : "", de->d_name) < 0)
			return rt_err_set(err, ENOMEM, "out of memory");
		if (!seen(l, p) && img_rm_rf_at(dirfd(d), de->d_name) < 0)
			return rt_err_sys(err, errno, "opaque directory \"%s\": remove %s", dpath, p);
	}
	return 0;
}

static int whiteout(struct layer *l, int dir, const char *dpath, const char *base,
		    struct rt_err *err)
{
	const char *victim = base + strlen(WH_PREFIX);
	_cleanup_free_ char *p = NULL;
	int r;

	if (!strcmp(base, WH_OPAQUE))
		return opaque(l, dir, dpath, err);
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return rt_err_set(err, EINVAL, "whiteout \"%s\" names nothing", base);
	if (asprintf(&p, "%s%s%s", dpath, *dpath ? "/" : "", victim) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (seen(l, p))
		return 0;
	r = img_rm_rf_at(dir, victim);
	return r < 0 ? rt_err_sys(err, -r, "whiteout of \"%s\"", p) : 0;
}

/* Owner, then mode (a chown clears set-id bits), then xattrs and times. */
static int set_meta(struct layer *l, int fd, struct archive_entry *e, bool times,
		    struct rt_err *err)
{
	const char *name;
	const void *val;
	size_t size;

	if (fchown(fd, (uid_t)LA.entry_uid(e), (gid_t)LA.entry_gid(e)) < 0 &&
	    (l->root_user || (errno != EPERM && errno != EINVAL)))
		return rt_err_sys(err, errno, "chown");
	if (fchmod(fd, LA.entry_perm(e)) < 0)
		return rt_err_sys(err, errno, "chmod");
	LA.entry_xattr_reset(e);
	while (LA.entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (fsetxattr(fd, name, val, size, 0) < 0 && errno != ENOTSUP &&
		    (l->root_user || errno != EPERM))
			return rt_err_sys(err, errno, "xattr %s", name);
	}
	if (times) {
		struct timespec ts[2] = {
			{ LA.entry_atime(e), LA.entry_atime_nsec(e) },
			{ LA.entry_mtime(e), LA.entry_mtime_nsec(e) },
		};
		if (futimens(fd, ts) < 0)
			return rt_err_sys(err, errno, "set times");
	}
	return 0;
}

static int write_file(struct layer *l, struct archive *a, int dir, const char *base,
		      struct archive_entry *e, struct rt_err *err)
{
	_cleanup_close_ int fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC, 0600);
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	if (fd < 0)
		return rt_err_sys(err, errno, "create");
	/* Blocks come with offsets: holes in sparse files stay holes. */
	while ((r = LA.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < size;) {
			ssize_t n = pwrite(fd, (const char *)buf + done, size - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return rt_err_sys(err, errno, "write");
			done += (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return rt_err_set(err, EINVAL, "%s", LA.error_string(a));
	if (ftruncate(fd, LA.entry_size(e)) < 0)
		return rt_err_sys(err, errno, "truncate");
	return set_meta(l, fd, e, true, err);
}

static int make_dir(struct layer *l, int dir, const char *base, struct archive_entry *e,
		    struct rt_err *err)
{
	_cleanup_close_ int fd = -1;

	if (*base && mkdirat(dir, base, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "mkdir");
	fd = openat(dir, *base ? base : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "open directory");
	return set_meta(l, fd, e, false, err);
}

/* The link target is another entry of the image: resolved in the root, and
 * its last component not followed (linkat without AT_SYMLINK_FOLLOW). */
static int make_hardlink(struct layer *l, int dir, const char *base, const char *target,
			 struct rt_err *err)
{
	_cleanup_free_ char *t = NULL;
	_cleanup_close_ int tdir = -1;
	char *slash;

	if (clean_path(target, &t, err) < 0)
		return rt_err_wrap(err, "hardlink target");
	if (!*t)
		return rt_err_set(err, EINVAL, "hardlink to the root directory");
	slash = strrchr(t, '/');
	if (slash)
		*slash = 0;
	tdir = rt_open_in_root(l->root, slash ? t : ".", O_PATH | O_DIRECTORY, 0, err);
	if (tdir < 0)
		return rt_err_wrap(err, "hardlink target \"%s\"", target);
	if (linkat(tdir, slash ? slash + 1 : t, dir, base, 0) < 0)
		return rt_err_sys(err, errno, "hardlink to \"%s\"", target);
	return 0;
}

static int make_special(struct layer *l, int dir, const char *base, struct archive_entry *e,
			struct rt_err *err)
{
	mode_t type = LA.entry_filetype(e);
	struct timespec ts[2] = {
		{ LA.entry_atime(e), LA.entry_atime_nsec(e) },
		{ LA.entry_mtime(e), LA.entry_mtime_nsec(e) },
	};

	if (type == AE_IFLNK) {
		/* The target is only text here: never resolved by us. */
		if (symlinkat(LA.entry_symlink(e), dir, base) < 0)
			return rt_err_sys(err, errno, "symlink");
	} else if (mknodat(dir, base, type | LA.entry_perm(e), LA.entry_rdev(e)) < 0) {
		return rt_err_sys(err, errno, "mknod");
	}
	if (fchownat(dir, base, (uid_t)LA.entry_uid(e), (gid_t)LA.entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) < 0 && (l->root_user || errno != EPERM))
		return rt_err_sys(err, errno, "chown");
	/* mknod's mode went through the umask; the node is ours, not a link. */
	if (type != AE_IFLNK && fchmodat(dir, base, LA.entry_perm(e), 0) < 0)
		return rt_err_sys(err, errno, "chmod");
	utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int apply_entry(struct layer *l, struct archive *a, struct archive_entry *e,
		       struct rt_err *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *dpath = NULL;
	_cleanup_close_ int dir = -1;
	const char *base, *hl = LA.entry_hardlink(e);
	mode_t type = LA.entry_filetype(e);
	struct stat st;
	char *slash;
	int r;

	if (clean_path(LA.entry_pathname(e), &path, err) < 0)
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dpath = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (!dpath)
		return rt_err_set(err, ENOMEM, "out of memory");
	dir = *dpath ? rt_mkdir_p_in_root(l->root, dpath, 0755, err)
		     : fcntl(l->root, F_DUPFD_CLOEXEC, 3);
	if (dir < 0)
		return *dpath ? -EINVAL : rt_err_sys(err, errno, "dup");
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		return whiteout(l, dir, dpath, base, err);
	if (remember(l, path, err) < 0)
		return -ENOMEM;
	if (!*base)
		return type == AE_IFDIR ? make_dir(l, dir, "", e, err) : 0;
	/* Whatever a lower layer left under this name goes, except a
	 * directory that stays a directory. */
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hl) &&
	    (r = img_rm_rf_at(dir, base)) < 0)
		return rt_err_sys(err, -r, "replace");
	if (hl)
		return make_hardlink(l, dir, base, hl, err);
	switch (type) {
	case AE_IFREG: return write_file(l, a, dir, base, e, err);
	case AE_IFDIR: return make_dir(l, dir, base, e, err);
	case AE_IFLNK: case AE_IFCHR: case AE_IFBLK: case AE_IFIFO:
		return make_special(l, dir, base, e, err);
	default: return 0;   /* sockets and the like mean nothing in an image */
	}
}

static void archive_freep(struct archive **a) { if (*a) LA.read_free(*a); }

static int check_digest(struct layer *l, const struct img_desc *d, struct rt_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[65];
	ssize_t r;

	/* The tar ends before the compressed stream or the padding does. */
	while ((r = read(l->fd, l->buf, sizeof(l->buf))) > 0) {
		LC.DigestUpdate(l->md, l->buf, (size_t)r);
		l->total += (uint64_t)r;
	}
	LC.DigestFinal_ex(l->md, md, &n);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (r < 0 || l->total != d->size || strcmp(hex, img_digest_hex(d->digest)))
		return rt_err_set(err, EINVAL, "blob %s in the store is corrupt", d->digest);
	return 0;
}

static int layer_apply(int root, int fd, const struct img_desc *d, struct rt_err *err)
{
	_cleanup_(archive_freep) struct archive *a = LA.read_new();
	struct layer *l = calloc(1, sizeof(*l));
	struct archive_entry *e;
	int r = 0, ar;

	if (!a || !l || !(l->md = LC.MD_CTX_new()) ||
	    !LC.DigestInit_ex(l->md, LC.sha256(), NULL)) {
		r = rt_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	l->root = root;
	l->fd = fd;
	l->root_user = geteuid() == 0;
	LA.read_support_filter_all(a);   /* gzip, zstd, xz ... or none */
	LA.read_support_format_tar(a);
	if (LA.read_open(a, l, NULL, read_cb, NULL) != ARCHIVE_OK) {
		r = rt_err_set(err, EINVAL, "%s", LA.error_string(a));
		goto out;
	}
	while (r == 0 && (ar = LA.read_next_header(a, &e)) == ARCHIVE_OK) {
		r = apply_entry(l, a, e, err);
		if (r < 0)
			rt_err_wrap(err, "entry \"%s\"", LA.entry_pathname(e));
	}
	if (r == 0 && ar != ARCHIVE_EOF)
		r = rt_err_set(err, EINVAL, "%s", LA.error_string(a) ?
			       LA.error_string(a) : "bad tar");
	if (r == 0 && d)
		r = check_digest(l, d, err);
out:
	if (l) {
		for (size_t i = 0; i < l->n_seen; i++)
			free(l->seen[i]);
		free(l->seen);
		LC.MD_CTX_free(l->md);
		free(l);
	}
	return r;
}

int img_layer_apply(int root, int fd, const struct img_desc *d, struct rt_err *err)
{
	if (lazy_image_load(err) < 0)
		return -err->code;
	return layer_apply(root, fd, d, err);
}

static int apply_layer(struct img_store *s, int root, const struct img_desc *d,
		       struct rt_err *err)
{
	_cleanup_close_ int fd = img_blob_open(s, d->digest, err);

	return fd < 0 ? fd : img_layer_apply(root, fd, d, err);
}

int img_unpack(struct img_store *s, const char *name, const char *dir, struct rt_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_free_ char *parent = strdup(dir);
	_cleanup_close_ int root = -1;
	struct img_desc md;
	struct img_manifest m;
	struct stat st;
	int r = 0;

	if (lazy_image_load(err) < 0)
		return -err->code;
	if (!parent || asprintf(&tmp, "%s.tmp-XXXXXX", dir) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (lstat(dir, &st) == 0)
		return rt_err_set(err, EEXIST, "unpack: %s already exists", dir);
	if (img_store_manifest(s, name, &md, &m, NULL, NULL, err) < 0)
		return -EINVAL;
	if (rt_mkdir_p(dirname(parent), 0755, err) < 0 || !mkdtemp(tmp) ||
	    chmod(tmp, 0755) < 0 || (root = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = err->code ? -err->code : rt_err_sys(err, errno, "unpack: %s", tmp);
	for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
		r = apply_layer(s, root, &m.layers[i], err);
		if (r < 0)
			rt_err_wrap(err, "unpack %s: layers[%zu] %s", name, i, m.layers[i].digest);
	}
	if (r == 0 && rename(tmp, dir) < 0)
		r = rt_err_sys(err, errno, "unpack: rename to %s", dir);
	if (r < 0 && !strstr(tmp, "XXXXXX"))
		img_rm_rf_at(AT_FDCWD, tmp);
	img_desc_free(&md);
	img_manifest_free(&m);
	return r;
}
