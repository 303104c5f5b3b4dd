/* The content store: root/blobs/sha256/<hex>, root/index.json (an OCI
 * image index whose ref.name annotations are the image names), root/tmp for
 * staging, root/lock.  The store is itself an OCI image layout.  A blob
 * enters the store only after its sha256 and size were checked. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYOUT_TEXT "{\"imageLayoutVersion\":\"1.0.0\"}"

const char *img_store_default(void)
{
	const char *e = getenv("HULL_IMAGE_STORE");

	return e && *e ? e : IMG_DEFAULT_STORE;
}

const char *img_digest_hex(const char *digest)
{
	const char *h;

	if (strncmp(digest, "sha256:", 7))
		return NULL;
	h = digest + 7;
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return NULL;
	return h;
}

int img_rm_rf_at(int at, const char *name)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int r = img_rm_rf_at(dirfd(d), de->d_name);
		if (r < 0)
			return r;
	}
	return unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int img_store_open(struct img_store *s, const char *root, struct rt_err *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int lock = -1;

	s->root = NULL;
	s->fd = s->lock_fd = -1;
	if (rt_mkdir_p(root, 0700, err) < 0)
		return rt_err_wrap(err, "image store %s", root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "image store %s", root);
	lock = openat(fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return rt_err_sys(err, errno, "image store %s: lock", root);
	/* Staging left by a crashed import is garbage: we hold the lock. */
	if (img_rm_rf_at(fd, "tmp") < 0 || mkdirat(fd, "tmp", 0700) < 0)
		return rt_err_sys(err, errno, "image store %s: tmp", root);
	if ((mkdirat(fd, "blobs", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(fd, "blobs/sha256", 0755) < 0 && errno != EEXIST))
		return rt_err_sys(err, errno, "image store %s: blobs", root);
	if (faccessat(fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
	    rt_write_file_at_new(fd, "oci-layout", LAYOUT_TEXT, strlen(LAYOUT_TEXT), err) < 0)
		return rt_err_wrap(err, "image store %s", root);
	s->root = strdup(root);
	if (!s->root)
		return rt_err_set(err, ENOMEM, "out of memory");
	s->fd = steal_fd(fd);
	s->lock_fd = steal_fd(lock);
	return 0;
}

void img_store_close(struct img_store *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->root);
	s->root = NULL;
	s->fd = s->lock_fd = -1;
}

static void evp_freep(EVP_MD_CTX **c) { if (*c) LC.MD_CTX_free(*c); }

/* Read src to its end, hashing; write to dst (if >= 0) and/or collect in
 * *mem (if mem).  Fails on the first byte past d->size, on a short blob and
 * on a digest mismatch, naming the blob. */
static int hash_copy(int src, int dst, char **mem, const struct img_desc *d, struct rt_err *err)
{
	_cleanup_(evp_freep) EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ char *buf = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[65];
	uint64_t total = 0;
	size_t cap = mem ? (size_t)d->size + 1 : 65536;
	ssize_t n;

	/* Every blob read is checked, so even `image ls` needs libcrypto. */
	if (lazy_crypto_load(err) < 0)
		return -err->code;
	ctx = LC.MD_CTX_new();
	buf = malloc(cap > 65536 && !mem ? 65536 : cap);
	if (!ctx || !buf || !LC.DigestInit_ex(ctx, LC.sha256(), NULL))
		return rt_err_set(err, ENOMEM, "blob %s: out of memory", d->digest);
	for (;;) {
		char *p = mem ? buf + total : buf;
		size_t room = mem ? cap - total : cap;

		n = read(src, p, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_err_sys(err, errno, "blob %s: read", d->digest);
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > d->size)
			return rt_err_set(err, EINVAL, "blob %s: larger than its size %llu",
					  d->digest, (unsigned long long)d->size);
		LC.DigestUpdate(ctx, p, (size_t)n);
		if (dst >= 0 && rt_write_all(dst, p, (size_t)n) < 0)
			return rt_err_sys(err, errno, "blob %s: write", d->digest);
	}
	if (total != d->size)
		return rt_err_set(err, EINVAL, "blob %s: size %llu, expected %llu (truncated?)",
				  d->digest, (unsigned long long)total, (unsigned long long)d->size);
	LC.DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, img_digest_hex(d->digest)))
		return rt_err_set(err, EINVAL, "blob %s: digest mismatch (content is sha256:%s)",
				  d->digest, hex);
	if (mem) {
		buf[total] = 0;
		*mem = steal_ptr(buf);
	}
	return 0;
}

int img_blob_copy(int src_fd, int dirfd, const char *name, const struct img_desc *d,
		  struct rt_err *err)
{
	char tmp[128];
	_cleanup_close_ int out = -1;
	int r;

	if (lazy_crypto_load(err) < 0)
		return -err->code;
	snprintf(tmp, sizeof(tmp), ".partial-%.64s-%d", img_digest_hex(d->digest), (int)getpid());
	out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return rt_err_sys(err, errno, "blob %s: create", d->digest);
	r = hash_copy(src_fd, out, NULL, d, err);
	if (r == 0 && fsync(out) < 0)
		r = rt_err_sys(err, errno, "blob %s: fsync", d->digest);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = rt_err_sys(err, errno, "blob %s: rename", d->digest);
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int img_blob_put(int dirfd, const char *data, size_t len, struct img_desc *d,
		 struct rt_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char tmp[64];
	_cleanup_close_ int fd = -1;

	if (lazy_crypto_load(err) < 0)
		return -err->code;
	if (!LC.Digest(data, len, md, &n, LC.sha256(), NULL))
		return rt_err_set(err, ENOMEM, "sha256 failed");
	strcpy(d->digest, "sha256:");
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(d->digest + 7 + 2 * i, 3, "%02x", md[i]);
	d->size = len;
	snprintf(tmp, sizeof(tmp), ".put-%d", (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || rt_write_all(fd, data, len) < 0 || fsync(fd) < 0 ||
	    renameat(dirfd, tmp, dirfd, d->digest + 7) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return rt_err_sys(err, e, "blob %s: write", d->digest);
	}
	return 0;
}

int img_blob_read_at(int dirfd, const struct img_desc *d, char **out, size_t *len,
		     struct rt_err *err)
{
	_cleanup_close_ int fd = -1;

	if (d->size > IMG_JSON_MAX)
		return rt_err_set(err, EFBIG, "blob %s: %llu bytes is too big for a JSON document",
				  d->digest, (unsigned long long)d->size);
	fd = openat(dirfd, img_digest_hex(d->digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "blob %s", d->digest);
	if (hash_copy(fd, -1, out, d, err) < 0)
		return -EINVAL;
	*len = (size_t)d->size;
	return 0;
}

int img_blob_open(struct img_store *s, const char *digest, struct rt_err *err)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "blobs/sha256/%s", img_digest_hex(digest));
	fd = openat(s->fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "blob %s", digest);
	return fd;
}

int img_store_index_load(struct img_store *s, struct img_index *idx, struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	memset(idx, 0, sizeof(*idx));
	if (faccessat(s->fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;
	if (rt_read_file_at(s->fd, "index.json", IMG_JSON_MAX, &text, &len, err) < 0 ||
	    img_index_parse(text, len, idx, err) < 0)
		return rt_err_wrap(err, "image store %s", s->root);
	return 0;
}

int img_store_index_save(struct img_store *s, const struct img_index *idx, struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *path = NULL;
	size_t len;

	if (img_index_write(idx, &text, &len, err) < 0)
		return -EINVAL;
	if (asprintf(&path, "%s/index.json", s->root) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_write_file_atomic(path, text, len, 0644, err);
}

ssize_t img_index_find(const struct img_index *idx, const char *name)
{
	for (size_t i = 0; i < idx->n; i++)
		if (idx->m[i].ref_name && !strcmp(idx->m[i].ref_name, name))
			return (ssize_t)i;
	return -1;
}

static int blobs_dir(struct img_store *s, struct rt_err *err)
{
	int fd = openat(s->fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? rt_err_sys(err, errno, "image store %s: blobs", s->root) : fd;
}

/* Load the index and find name in it; on success the caller frees idx. */
static ssize_t index_lookup(struct img_store *s, const char *name, struct img_index *idx,
			    struct rt_err *err)
{
	ssize_t i;

	if (img_store_index_load(s, idx, err) < 0)
		return -EINVAL;
	i = img_index_find(idx, name);
	if (i < 0) {
		img_index_free(idx);
		return rt_err_set(err, ENOENT, "image \"%s\" does not exist", name);
	}
	return i;
}

int img_store_manifest(struct img_store *s, const char *name, struct img_desc *mdesc,
		       struct img_manifest *m, char **mtext, size_t *mlen, struct rt_err *err)
{
	struct img_index idx;
	_cleanup_close_ int bfd = -1;
	_cleanup_free_ char *text = NULL;
	size_t len;
	ssize_t i;
	int r;

	i = index_lookup(s, name, &idx, err);
	if (i < 0)
		return (int)i;
	*mdesc = idx.m[i];
	idx.m[i] = (struct img_desc){0};
	img_index_free(&idx);
	bfd = blobs_dir(s, err);
	r = bfd < 0 ? bfd : img_blob_read_at(bfd, mdesc, &text, &len, err);
	if (r == 0)
		r = img_manifest_parse(text, len, m, err);
	if (r < 0) {
		img_desc_free(mdesc);
		return rt_err_wrap(err, "image \"%s\"", name);
	}
	if (mtext) {
		*mtext = steal_ptr(text);
		*mlen = len;
	}
	return 0;
}

int img_store_config(struct img_store *s, const char *name, struct img_config *c,
		     struct rt_err *err)
{
	struct img_desc md;
	struct img_manifest m;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int bfd = -1;
	size_t len;
	int r;

	if (img_store_manifest(s, name, &md, &m, NULL, NULL, err) < 0)
		return -EINVAL;
	bfd = blobs_dir(s, err);
	r = bfd < 0 ? bfd : img_blob_read_at(bfd, &m.config, &text, &len, err);
	if (r == 0)
		r = img_config_parse(text, len, c, err);
	img_desc_free(&md);
	img_manifest_free(&m);
	return r < 0 ? rt_err_wrap(err, "image \"%s\"", name) : 0;
}

int img_list(struct img_store *s, struct img_ref **out, size_t *n, struct rt_err *err)
{
	struct img_index idx;
	struct img_ref *refs;

	if (img_store_index_load(s, &idx, err) < 0)
		return -EINVAL;
	refs = calloc(idx.n + 1, sizeof(*refs));
	if (!refs) {
		img_index_free(&idx);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	*out = refs;
	*n = 0;
	for (size_t i = 0; i < idx.n; i++) {
		struct img_desc md;
		struct img_manifest m;

		if (!idx.m[i].ref_name)
			continue;
		refs[*n].name = strdup(idx.m[i].ref_name);
		memcpy(refs[*n].digest, idx.m[i].digest, sizeof(refs[*n].digest));
		refs[*n].size = idx.m[i].size;
		(*n)++;
		if (img_store_manifest(s, idx.m[i].ref_name, &md, &m, NULL, NULL, err) < 0) {
			img_index_free(&idx);
			return -EINVAL;
		}
		refs[*n - 1].size += m.config.size;
		for (size_t l = 0; l < m.n_layers; l++)
			refs[*n - 1].size += m.layers[l].size;
		img_desc_free(&md);
		img_manifest_free(&m);
	}
	img_index_free(&idx);
	return 0;
}

void img_refs_free(struct img_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].name);
	free(r);
}

int img_inspect(struct img_store *s, const char *name, char **out, struct rt_err *err)
{
	struct img_desc md;
	struct img_manifest m;
	_cleanup_free_ char *mtext = NULL;
	_cleanup_free_ char *ctext = NULL;
	_cleanup_close_ int bfd = -1;
	size_t mlen, clen;
	int r;

	if (img_store_manifest(s, name, &md, &m, &mtext, &mlen, err) < 0)
		return -EINVAL;
	bfd = blobs_dir(s, err);
	r = bfd < 0 ? bfd : img_blob_read_at(bfd, &m.config, &ctext, &clen, err);
	if (r == 0)
		r = img_inspect_json(name, md.digest, mtext, mlen, ctext, clen, out, err);
	img_desc_free(&md);
	img_manifest_free(&m);
	return r < 0 ? rt_err_wrap(err, "image \"%s\"", name) : 0;
}

/* The hex digests every remaining name needs, as one '\n'-joined string:
 * a handful of images, so a linear search is fine. */
static int live_blobs(struct img_store *s, const struct img_index *idx, char **out,
		      struct rt_err *err)
{
	size_t cap = 1, len = 0;
	char *set = calloc(1, 1);

	for (size_t i = 0; set && i < idx->n; i++) {
		struct img_desc md;
		struct img_manifest m;

		if (!idx->m[i].ref_name)
			continue;
		if (img_store_manifest(s, idx->m[i].ref_name, &md, &m, NULL, NULL, err) < 0) {
			free(set);
			return -EINVAL;
		}
		cap += 66 * (m.n_layers + 2);
		char *grown = realloc(set, cap);
		if (grown) {
			set = grown;
			len += (size_t)sprintf(set + len, "%s\n%s\n", img_digest_hex(md.digest),
					       img_digest_hex(m.config.digest));
			for (size_t l = 0; l < m.n_layers; l++)
				len += (size_t)sprintf(set + len, "%s\n",
						       img_digest_hex(m.layers[l].digest));
		} else {
			free(set);
			set = NULL;
		}
		img_desc_free(&md);
		img_manifest_free(&m);
	}
	if (!set)
		return rt_err_set(err, ENOMEM, "out of memory");
	*out = set;
	return 0;
}

static int gc(struct img_store *s, const struct img_index *idx, struct rt_err *err)
{
	_cleanup_free_ char *live = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	/* If any manifest cannot be read, keep everything. */
	if (live_blobs(s, idx, &live, err) < 0)
		return rt_err_wrap(err, "garbage collection");
	fd = blobs_dir(s, err);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(err, errno, "garbage collection");
	}
	while ((de = readdir(d))) {
		char needle[68];

		if (de->d_name[0] == '.')
			continue;
		snprintf(needle, sizeof(needle), "%.64s\n", de->d_name);
		if (strlen(de->d_name) == 64 && strstr(live, needle))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			return rt_err_sys(err, errno, "garbage collection: blob %s", de->d_name);
	}
	return img_derived_gc(s, live, err);
}

int img_remove(struct img_store *s, const char *name, struct rt_err *err)
{
	struct img_index idx;
	ssize_t i;
	int r;

	i = index_lookup(s, name, &idx, err);
	if (i < 0)
		return (int)i;
	img_desc_free(&idx.m[i]);
	memmove(&idx.m[i], &idx.m[i + 1], (idx.n - (size_t)i - 1) * sizeof(*idx.m));
	idx.n--;
	r = img_store_index_save(s, &idx, err);
	if (r == 0)
		r = gc(s, &idx, err);
	img_index_free(&idx);
	return r;
}

int img_store_gc(struct img_store *s, struct rt_err *err)
{
	struct img_index idx;
	int r;

	if (img_store_index_load(s, &idx, err) < 0)
		return -EINVAL;
	r = gc(s, &idx, err);
	img_index_free(&idx);
	return r;
}
