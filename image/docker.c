/* Import of a docker-archive (the output of docker save or podman save):
 * manifest.json lists, per image, a config file and layer tars by their
 * paths inside the archive.  Those paths are only ever compared with the
 * archive's entry names, never opened, and one that is absolute, has
 * "..", or is not in the archive is an error.  Each file they name is
 * hashed while it is copied into staging under its sha256, then an OCI
 * manifest is written for each image, so that the store holds the image
 * exactly as an OCI layout would. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PASSES 4     /* a link may point back to an entry already read */
#define MAX_HOPS 8

struct member {
	char *path;          /* normalised path inside the archive */
	char *alias;         /* the entry was a symlink or hardlink to this path */
	bool found;
	struct img_desc d;   /* digest and size of the staged copy */
	const char *layer_mt;
};

struct dk {
	struct member *m;
	size_t n, cap;
};

/* Join dir and p and normalise.  NULL when p is absolute, when ".."
 * appears and dotdot is false, or when ".." climbs above the top. */
static char *norm(const char *dir, const char *p, bool dotdot)
{
	_cleanup_free_ char *all = NULL;
	char *res, *save = NULL;
	size_t len = 0;

	if (p[0] == '/' || asprintf(&all, "%s/%s", dir, p) < 0)
		return NULL;
	res = calloc(1, strlen(all) + 1);
	for (char *c = strtok_r(all, "/", &save); res && c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *up = strrchr(res, '/');
			if (!dotdot || len == 0) {
				free(res);
				return NULL;
			}
			len = up ? (size_t)(up - res) : 0;
			res[len] = 0;
			continue;
		}
		len += (size_t)sprintf(res + len, "%s%s", len ? "/" : "", c);
	}
	return res;
}

static struct member *find(struct dk *k, const char *path)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->m[i].path, path))
			return &k->m[i];
	return NULL;
}

static int want(struct dk *k, char *path, struct rt_err *err)
{
	if (find(k, path)) {
		free(path);
		return 0;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		struct member *g = realloc(k->m, cap * sizeof(*g));
		if (!g) {
			free(path);
			return rt_err_set(err, ENOMEM, "out of memory");
		}
		k->m = g;
		k->cap = cap;
	}
	k->m[k->n++] = (struct member){ .path = path };
	return 0;
}

/* A path from manifest.json: only ever names an entry of the archive. */
static int want_manifest_path(struct dk *k, const char *p, const char *what, struct rt_err *err)
{
	char *n = norm("", p, false);

	if (!n || !*n) {
		free(n);
		return rt_err_set(err, EINVAL, "manifest.json: %s \"%s\" points outside the archive",
				  what, p);
	}
	return want(k, n, err);
}

static const char *layer_media_type(const unsigned char *head, size_t n)
{
	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (n >= 4 && !memcmp(head, "\x28\xb5\x2f\xfd", 4))
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

static void evp_freep(EVP_MD_CTX **c) { if (*c) LC.MD_CTX_free(*c); }

/* Copy the entry's data into stage under its sha256. */
static int stage_entry(struct archive *a, int stage, struct member *m, struct rt_err *err)
{
	_cleanup_(evp_freep) EVP_MD_CTX *ctx = LC.MD_CTX_new();
	_cleanup_close_ int fd = -1;
	unsigned char head[4], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t nhead = 0;
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	fd = openat(stage, ".docker-partial", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0 || !ctx || !LC.DigestInit_ex(ctx, LC.sha256(), NULL))
		return rt_err_sys(err, fd < 0 ? errno : ENOMEM, "%s: staging", m->path);
	m->d.size = 0;
	/* Sequential blocks: a sparse entry's holes are written as zeros so
	 * that the bytes hashed are the bytes stored. */
	while ((r = LA.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		static const char zeros[4096];

		while ((uint64_t)off > m->d.size) {
			size_t z = (uint64_t)off - m->d.size > sizeof(zeros) ? sizeof(zeros)
					: (size_t)((uint64_t)off - m->d.size);
			LC.DigestUpdate(ctx, zeros, z);
			if (rt_write_all(fd, zeros, z) < 0)
				return rt_err_sys(err, errno, "%s: staging", m->path);
			m->d.size += z;
		}
		for (size_t i = 0; nhead < sizeof(head) && i < size; i++)
			head[nhead++] = ((const unsigned char *)buf)[i];
		LC.DigestUpdate(ctx, buf, size);
		if (rt_write_all(fd, buf, size) < 0)
			return rt_err_sys(err, errno, "%s: staging", m->path);
		m->d.size += size;
	}
	if (r != ARCHIVE_EOF)
		return rt_err_set(err, EINVAL, "%s: %s", m->path, LA.error_string(a));
	LC.DigestFinal_ex(ctx, md, &mdlen);
	strcpy(m->d.digest, "sha256:");
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(m->d.digest + 7 + 2 * i, 3, "%02x", md[i]);
	if (fsync(fd) < 0 || renameat(stage, ".docker-partial", stage, m->d.digest + 7) < 0)
		return rt_err_sys(err, errno, "%s: staging", m->path);
	m->layer_mt = layer_media_type(head, nhead);
	m->found = true;
	return 0;
}

/* A wanted entry that is a link: remember where it leads, and want that. */
static int link_entry(struct dk *k, size_t i, struct archive_entry *e, struct rt_err *err)
{
	const char *hl = LA.entry_hardlink(e), *sl = LA.entry_symlink(e);
	_cleanup_free_ char *dir = strdup(k->m[i].path);
	char *slash, *to;

	if (!dir)
		return rt_err_set(err, ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	*(slash ? slash : dir) = 0;
	to = hl ? norm("", hl, true) : norm(dir, sl, true);
	if (!to || !*to) {
		free(to);
		return rt_err_set(err, EINVAL, "%s: a link that points outside the archive",
				  k->m[i].path);
	}
	k->m[i].alias = strdup(to);
	k->m[i].found = true;
	if (!k->m[i].alias) {
		free(to);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	return want(k, to, err);
}

static void archive_freep(struct archive **a) { if (*a) LA.read_free(*a); }

static int scan(const char *path, struct dk *k, int stage, struct rt_err *err)
{
	_cleanup_(archive_freep) struct archive *a = LA.read_new();
	struct archive_entry *e;
	int r = 0, ar;

	if (!a)
		return rt_err_set(err, ENOMEM, "out of memory");
	LA.read_support_filter_all(a);
	LA.read_support_format_tar(a);
	if (LA.read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return rt_err_set(err, EINVAL, "%s", LA.error_string(a));
	while (r == 0 && (ar = LA.read_next_header(a, &e)) == ARCHIVE_OK) {
		_cleanup_free_ char *p = norm("", LA.entry_pathname(e), true);
		struct member *m = p ? find(k, p) : NULL;

		if (!m || m->found)
			continue;
		if (LA.entry_hardlink(e) || LA.entry_filetype(e) == AE_IFLNK)
			r = link_entry(k, (size_t)(m - k->m), e, err);
		else if (LA.entry_filetype(e) == AE_IFREG)
			r = stage_entry(a, stage, m, err);
		else
			r = rt_err_set(err, EINVAL, "%s: not a regular file", p);
	}
	if (r == 0 && ar != ARCHIVE_EOF)
		r = rt_err_set(err, EINVAL, "%s", LA.error_string(a));
	return r;
}

/* The staged member a manifest path ends at, following links. */
static struct member *resolve(struct dk *k, const char *p, const char *what,
			      struct rt_err *err)
{
	_cleanup_free_ char *n = norm("", p, false);
	struct member *m = n ? find(k, n) : NULL;

	for (int hops = 0; m && m->alias && hops < MAX_HOPS; hops++)
		m = find(k, m->alias);
	if (!m || !m->found || m->alias) {
		rt_err_set(err, ENOENT, "manifest.json: %s \"%s\" is not a file in the archive",
			   what, p);
		return NULL;
	}
	return m;
}

/* Check the config, then write the OCI manifest of image i. */
static int make_manifest(struct dk *k, const struct img_docker_image *im, size_t i, int stage,
			 struct img_desc *md, struct rt_err *err)
{
	_cleanup_free_ struct img_desc *ls = calloc(im->n_layers + 1, sizeof(*ls));
	_cleanup_free_ char *text = NULL, *ctext = NULL;
	struct img_desc cd = { .media_type = (char *)IMG_MT_CONFIG };
	struct img_config cfg;
	struct member *m;
	char what[64];
	size_t len;

	snprintf(what, sizeof(what), "[%zu].Config", i);
	if (!ls)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!(m = resolve(k, im->config, what, err)))
		return -ENOENT;
	memcpy(cd.digest, m->d.digest, sizeof(cd.digest));
	cd.size = m->d.size;
	if (img_blob_read_at(stage, &cd, &ctext, &len, err) < 0 ||
	    img_config_parse(ctext, len, &cfg, err) < 0)
		return rt_err_wrap(err, "manifest.json: %s \"%s\"", what, im->config);
	img_config_free(&cfg);
	for (size_t l = 0; l < im->n_layers; l++) {
		snprintf(what, sizeof(what), "[%zu].Layers[%zu]", i, l);
		if (!(m = resolve(k, im->layers[l], what, err)))
			return -ENOENT;
		ls[l] = m->d;
		ls[l].media_type = (char *)m->layer_mt;
	}
	if (img_manifest_write(&cd, ls, im->n_layers, &text, &len, err) < 0 ||
	    img_blob_put(stage, text, len, md, err) < 0)
		return -EINVAL;
	return 0;
}

/* One staged entry per name the image gets. */
static int add_names(const struct img_docker_image *im, size_t i, const char *name,
		     const struct img_desc *md, struct img_staged *out, struct rt_err *err)
{
	const char *const one[] = { name, NULL };
	const char *const *names = name ? one : (const char *const *)im->tags;
	size_t n = name ? 1 : im->n_tags;
	struct img_desc *g;

	if (n == 0)
		return rt_err_set(err, EINVAL, "manifest.json: [%zu]: no RepoTags (pass --name)", i);
	g = realloc(out->m, (out->n + n + 1) * sizeof(*g));
	if (!g)
		return rt_err_set(err, ENOMEM, "out of memory");
	out->m = g;
	for (size_t t = 0; t < n; t++) {
		if (img_valid_name(names[t], err) < 0)
			return rt_err_wrap(err, "manifest.json: [%zu].RepoTags[%zu]", i, t);
		g[out->n] = *md;
		g[out->n].media_type = strdup(IMG_MT_MANIFEST);
		g[out->n].ref_name = strdup(names[t]);
		out->n++;
		if (!g[out->n - 1].media_type || !g[out->n - 1].ref_name)
			return rt_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int stage_all(const char *path, struct dk *k, struct img_docker_image *ims, size_t n,
		     int stage, const char *name, struct img_staged *out, struct rt_err *err)
{
	char what[64];
	size_t before;
	int r = 0, pass = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(what, sizeof(what), "[%zu].Config", i);
		r = want_manifest_path(k, ims[i].config, what, err);
		for (size_t l = 0; r == 0 && l < ims[i].n_layers; l++) {
			snprintf(what, sizeof(what), "[%zu].Layers[%zu]", i, l);
			r = want_manifest_path(k, ims[i].layers[l], what, err);
		}
	}
	/* Another pass only while links named entries not yet seen. */
	do {
		before = k->n;
		if (r == 0)
			r = scan(path, k, stage, err);
	} while (r == 0 && k->n > before && ++pass < MAX_PASSES);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct img_desc md = {0};

		r = make_manifest(k, &ims[i], i, stage, &md, err);
		if (r == 0)
			r = add_names(&ims[i], i, name, &md, out, err);
	}
	return r;
}

int img_docker_stage(const char *path, const char *mtext, size_t mlen, int stage,
		     const char *name, struct img_staged *out, struct rt_err *err)
{
	struct img_docker_image *ims = NULL;
	struct dk k = {0};
	size_t n = 0;
	int r;

	out->m = NULL;
	out->n = 0;
	if (lazy_image_load(err) < 0)
		return -err->code;
	r = img_docker_manifest_parse(mtext, mlen, &ims, &n, err);
	if (r == 0 && name && n != 1)
		r = rt_err_set(err, EINVAL, "manifest.json lists %zu images; --name needs exactly "
			       "one", n);
	if (r == 0)
		r = stage_all(path, &k, ims, n, stage, name, out, err);
	img_docker_images_free(ims, n);
	for (size_t i = 0; i < k.n; i++) {
		free(k.m[i].path);
		free(k.m[i].alias);
	}
	free(k.m);
	if (r < 0) {
		for (size_t i = 0; i < out->n; i++)
			img_desc_free(&out->m[i]);
		free(out->m);
		out->m = NULL;
		out->n = 0;
	}
	return r;
}
