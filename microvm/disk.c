/* Rootfs directory -> cached disk image (see disk.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "microvm/disk.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#define KEY_VERSION   "hull-disk-v1"
#define WALK_DEPTH    256
#define TMP_MAX_AGE   3600   /* seconds before a leftover temp image is removed */

struct walk {
	EVP_MD_CTX *md;
	uint64_t bytes;       /* allocated bytes, to size an ext4 image */
	uint64_t entries;
};

struct entry_rec {    /* what the key covers for each entry */
	uint64_t mode, uid, gid, size, ino, rdev, nlink;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted so the key does not depend on readdir order. */
static int list_dir(int dfd, char ***names, size_t *n, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int fd = dup(dfd);

	*names = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(err, errno, "rootfs: reading a directory");
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			char **nv = realloc(*names, (cap = cap ? 2 * cap : 16) * sizeof(char *));
			if (!nv)
				return rt_err_sys(err, ENOMEM, "rootfs");
			*names = nv;
		}
		if (!((*names)[(*n)++] = strdup(de->d_name)))
			return rt_err_sys(err, ENOMEM, "rootfs");
	}
	if (errno)
		return rt_err_sys(err, errno, "rootfs: reading a directory");
	qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int hash_entry(struct walk *w, int dfd, const char *name, const char *rel,
		      struct stat *st, struct rt_err *err)
{
	struct entry_rec r;
	char target[4096];
	ssize_t tl;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(err, errno, "rootfs: %s", rel);
	memset(&r, 0, sizeof(r));
	r = (struct entry_rec){ st->st_mode, st->st_uid, st->st_gid, st->st_size, st->st_ino,
				st->st_rdev, st->st_nlink, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
				st->st_ctim.tv_sec, st->st_ctim.tv_nsec };
	LC.DigestUpdate(w->md, rel, strlen(rel) + 1);
	LC.DigestUpdate(w->md, &r, sizeof(r));
	if (S_ISLNK(st->st_mode)) {
		tl = readlinkat(dfd, name, target, sizeof(target));
		if (tl < 0)
			return rt_err_sys(err, errno, "rootfs: %s", rel);
		LC.DigestUpdate(w->md, target, (size_t)tl);
	}
	w->bytes += (uint64_t)st->st_blocks * 512;
	w->entries++;
	return 0;
}

static int hash_dir(struct walk *w, int dfd, const char *rel, int depth, struct rt_err *err)
{
	char **names;
	size_t n;
	int r;

	if (depth > WALK_DEPTH)
		return rt_err_set(err, ELOOP, "rootfs: %s: nested too deep", rel);
	r = list_dir(dfd, &names, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_free_ char *sub = NULL;
		struct stat st;

		if (asprintf(&sub, "%s/%s", rel, names[i]) < 0) {
			sub = NULL;
			r = rt_err_sys(err, ENOMEM, "rootfs");
			break;
		}
		r = hash_entry(w, dfd, names[i], sub, &st, err);
		if (r == 0 && S_ISDIR(st.st_mode)) {
			_cleanup_close_ int cfd = openat(dfd, names[i],
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			r = cfd < 0 ? rt_err_sys(err, errno, "rootfs: %s", sub) :
				      hash_dir(w, cfd, sub, depth + 1, err);
		}
	}
	free_names(names, n);
	return r;
}

static void md_freep(EVP_MD_CTX **c) { if (*c) LC.MD_CTX_free(*c); }

static int tree_key(const char *rootfs, const char *fmt, char key[65], struct walk *w,
		    struct rt_err *err)
{
	_cleanup_(md_freep) EVP_MD_CTX *md = LC.MD_CTX_new();
	_cleanup_close_ int fd = -1;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	struct stat st;
	int r;

	if (!md || !LC.DigestInit_ex(md, LC.sha256(), NULL))
		return rt_err_set(err, ENOMEM, "rootfs: sha256");
	fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "rootfs %s", rootfs);
	w->md = md;
	LC.DigestUpdate(md, KEY_VERSION, sizeof(KEY_VERSION));
	LC.DigestUpdate(md, fmt, strlen(fmt) + 1);
	r = hash_entry(w, fd, ".", "", &st, err);
	if (r == 0)
		r = hash_dir(w, fd, "", 0, err);
	if (r < 0)
		return rt_err_wrap(err, "rootfs %s", rootfs);
	LC.DigestFinal_ex(md, dig, &dl);
	for (unsigned i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", dig[i]);
	return 0;
}

int vm_disk_key(const char *rootfs, const char *fmt, char key[65], struct rt_err *err)
{
	struct walk w = {0};

	if (lazy_crypto_load(err) < 0)
		return -err->code;
	return tree_key(rootfs, fmt, key, &w, err);
}

/* The tool's path: PATH, then the sbin directories a non-login PATH lacks. */
static char *find_tool(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *all = NULL;
	char *save = NULL;

	if (asprintf(&all, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "") < 0)
		return NULL;
	for (char *dir = strtok_r(all, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (!*dir || asprintf(&p, "%s/%s", dir, name) < 0)
			continue;
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* Run argv (argv[0] a full path); its output, last part, goes in the error. */
static int run_tool(char *const argv[], struct rt_err *err)
{
	char out[4096], *tail;
	size_t len = 0;
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "%s", argv[0]);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return rt_err_sys(err, errno, "%s", argv[0]);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + len, sizeof(out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len == sizeof(out) - 1) {   /* keep the last half */
			memmove(out, out + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	close(pfd[0]);
	out[len] = 0;
	status = rt_wait_status(pid);
	if (status == 0)
		return 0;
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = 0;
	tail = len > 300 ? out + len - 300 : out;
	return rt_err_set(err, EIO, "%s failed (status %d)%s%s", argv[0], status,
			  *tail ? ": " : "", tail);
}

static int build_erofs(const char *tool, const char *rootfs, const char *img,
		       const struct walk *w, struct rt_err *err)
{
	char *argv[] = { (char *)tool, "--quiet", "--preserve-mtime", (char *)img,
			 (char *)rootfs, NULL };

	(void)w;
	return run_tool(argv, err);
}

static int build_ext4(const char *tool, const char *rootfs, const char *img,
		      const struct walk *w, struct rt_err *err)
{
	/* Room for the data, its metadata and the journal-less overhead. */
	uint64_t size = w->bytes + w->bytes / 4 + w->entries * 512 + (32ull << 20);
	char inodes[32];
	char *argv[] = { (char *)tool, "-q", "-F", "-t", "ext4", "-O", "^has_journal",
			 "-N", inodes, "-L", "hull-root", "-d", (char *)rootfs, (char *)img, NULL };

	size = (size + (1 << 20) - 1) & ~((1ull << 20) - 1);
	snprintf(inodes, sizeof(inodes), "%llu", (unsigned long long)(w->entries + 1024));
	if (truncate(img, (off_t)size) < 0)
		return rt_err_sys(err, errno, "disk image %s", img);
	return run_tool(argv, err);
}

/* Leftover temporaries of builds that crashed (not running ones: an hour). */
static void clean_stale(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	while (d && (de = readdir(d)))
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp.") &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > TMP_MAX_AGE)
			unlinkat(dirfd(d), de->d_name, 0);
}

static int pick_format(const char **fmt, char **tool, struct rt_err *err)
{
	const char *want = getenv("HULL_DISK_FORMAT");

	if (want && *want && strcmp(want, "erofs") && strcmp(want, "ext4"))
		return rt_err_set(err, EINVAL, "HULL_DISK_FORMAT=%s: erofs or ext4", want);
	if (!want || !*want || !strcmp(want, "erofs")) {
		*tool = find_tool("mkfs.erofs");
		*fmt = "erofs";
		if (*tool || (want && *want))
			return *tool ? 0 : rt_err_set(err, ENOENT, "mkfs.erofs not found "
						      "(package erofs-utils)");
	}
	*tool = find_tool("mkfs.ext4");
	*fmt = "ext4";
	return *tool ? 0 : rt_err_set(err, ENOENT, "neither mkfs.erofs (erofs-utils) nor "
				      "mkfs.ext4 (e2fsprogs) found");
}

static int build_into(const char *dir, const char *final, const char *fmt, const char *tool,
		      const char *rootfs, const struct walk *w, struct rt_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	if (asprintf(&tmp, "%s/.%s.tmp.XXXXXX", dir, strrchr(final, '/') + 1) < 0) {
		tmp = NULL;
		return rt_err_sys(err, ENOMEM, "disk image");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "disk image in %s", dir);
	r = !strcmp(fmt, "erofs") ? build_erofs(tool, rootfs, tmp, w, err) :
				    build_ext4(tool, rootfs, tmp, w, err);
	if (r == 0 && (fsync(fd) < 0 || fchmod(fd, 0644) < 0))
		r = rt_err_sys(err, errno, "disk image %s", tmp);
	if (r == 0 && rename(tmp, final) < 0)
		r = rt_err_sys(err, errno, "disk image %s", final);
	if (r < 0) {
		unlink(tmp);
		return rt_err_wrap(err, "building a disk for %s", rootfs);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);   /* the rename itself survives a crash */
	return 0;
}

/* An image built inside the tree it is built from would copy itself. */
static int check_cache_outside(const char *rootfs, const char *dir, struct rt_err *err)
{
	_cleanup_free_ char *root = realpath(rootfs, NULL);
	_cleanup_free_ char *parent = strdup(dir);
	_cleanup_free_ char *cache = NULL;
	char *slash;
	size_t n;

	if (!root)
		return rt_err_sys(err, errno, "rootfs %s", rootfs);
	if (!parent)
		return rt_err_sys(err, ENOMEM, "disk cache");
	/* The cache may not exist yet: its nearest existing ancestor decides. */
	while (!(cache = realpath(parent, NULL)) && (slash = strrchr(parent, '/')) &&
	       slash != parent)
		*slash = 0;
	if (!cache && parent[0] == '/')
		cache = strdup("/");
	n = strlen(root);
	if (!strcmp(root, "/") ||
	    (cache && !strncmp(cache, root, n) && (cache[n] == '/' || cache[n] == 0)))
		return rt_err_set(err, EINVAL, "rootfs %s contains the disk cache %s", rootfs, dir);
	return 0;
}

int vm_disk_for_rootfs(const char *rootfs, char **path_out, struct rt_err *err)
{
	const char *dir = getenv("HULL_DISK_CACHE");
	_cleanup_free_ char *tool = NULL, *final = NULL;
	struct walk w = {0};
	const char *fmt = NULL;
	char key[65];
	struct stat st;
	int r;

	if (lazy_crypto_load(err) < 0)
		return -err->code;
	if (!dir || !*dir)
		dir = VM_DISK_CACHE_DEFAULT;
	r = pick_format(&fmt, &tool, err);
	if (r == 0)
		r = check_cache_outside(rootfs, dir, err);
	if (r < 0)
		return r;
	r = tree_key(rootfs, fmt, key, &w, err);
	if (r < 0)
		return r;
	if (asprintf(&final, "%s/%s.%s", dir, key, fmt) < 0) {
		final = NULL;
		return rt_err_sys(err, ENOMEM, "disk image");
	}
	if (stat(final, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		*path_out = steal_ptr(final);
		return 0;
	}
	r = rt_mkdir_p(dir, 0700, err);
	if (r < 0)
		return rt_err_wrap(err, "disk cache");
	clean_stale(dir);
	r = build_into(dir, final, fmt, tool, rootfs, &w, err);
	if (r < 0)
		return r;
	*path_out = steal_ptr(final);
	return 0;
}
