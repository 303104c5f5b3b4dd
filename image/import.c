/* Import an OCI image layout (a directory, or a tar of one) into the store.
 * Every blob the index reaches is copied into a staging directory inside
 * the store, checked by size and sha256 on the way; only when all of them
 * are there are they moved into blobs/ and the names added, so a failed
 * import leaves the store as it was. */
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
#include <sys/stat.h>
#include <unistd.h>

int img_valid_name(const char *name, struct rt_err *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > 255)
		return rt_err_set(err, EINVAL, "image name \"%s\": must be 1 to 255 bytes", name);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return rt_err_set(err, EINVAL, "image name \"%s\": no spaces or control "
					  "characters", name);
	return 0;
}

/* Copy one blob from the layout into staging (once), verified. */
static int stage_blob(int src_blobs, int stage, const struct img_desc *d, const char *what,
		      struct rt_err *err)
{
	const char *hex = img_digest_hex(d->digest);
	_cleanup_close_ int src = -1;

	if (faccessat(stage, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	src = openat(src_blobs, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 && errno == ENOENT)
		return rt_err_set(err, ENOENT, "%s: blob %s is missing from the layout", what,
				  d->digest);
	if (src < 0)
		return rt_err_sys(err, errno, "%s: blob %s", what, d->digest);
	if (img_blob_copy(src, stage, hex, d, err) < 0)
		return rt_err_wrap(err, "%s", what);
	return 0;
}

static int stage_image(int src_blobs, int stage, const struct img_desc *md, const char *what,
		       struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	struct img_manifest m;
	char lwhat[96];
	size_t len;
	int r;

	if (strcmp(md->media_type, IMG_MT_MANIFEST) && strcmp(md->media_type, IMG_MT_DOCKER_MANIFEST))
		return rt_err_set(err, EINVAL, "%s: mediaType \"%s\" is not an image manifest "
				  "(nested indexes are not supported)", what, md->media_type);
	if (stage_blob(src_blobs, stage, md, what, err) < 0)
		return -EINVAL;
	if (img_blob_read_at(stage, md, &text, &len, err) < 0 ||
	    img_manifest_parse(text, len, &m, err) < 0)
		return rt_err_wrap(err, "%s (%s)", what, md->digest);
	r = stage_blob(src_blobs, stage, &m.config, "config", err);
	for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
		snprintf(lwhat, sizeof(lwhat), "layers[%zu]", i);
		r = stage_blob(src_blobs, stage, &m.layers[i], lwhat, err);
	}
	img_manifest_free(&m);
	return r < 0 ? rt_err_wrap(err, "%s (%s)", what, md->digest) : 0;
}

static int stage_layout(int layout, int stage, const char *name, struct img_staged *out,
			struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int blobs = -1;
	struct img_index idx;
	char what[64];
	size_t len;
	int r = 0;

	if (rt_read_file_at(layout, "oci-layout", 4096, &text, &len, err) < 0 ||
	    img_layout_check(text, len, err) < 0)
		return -EINVAL;
	free(steal_ptr(text));
	if (rt_read_file_at(layout, "index.json", IMG_JSON_MAX, &text, &len, err) < 0 ||
	    img_index_parse(text, len, &idx, err) < 0)
		return -EINVAL;
	if (idx.n == 0)
		r = rt_err_set(err, EINVAL, "index.json: no manifests");
	else if (name && idx.n != 1)
		r = rt_err_set(err, EINVAL, "index.json lists %zu manifests; --name needs exactly "
			       "one", idx.n);
	if (r == 0 && (blobs = openat(layout, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = rt_err_sys(err, errno, "blobs/sha256");
	for (size_t i = 0; r == 0 && i < idx.n; i++) {
		struct img_desc *d = &idx.m[i];

		snprintf(what, sizeof(what), "index.json: manifests[%zu]", i);
		if (name) {
			free(d->ref_name);
			d->ref_name = strdup(name);
		}
		if (!d->ref_name)
			r = rt_err_set(err, EINVAL, "%s: no %s annotation (pass --name)", what,
				       IMG_REF_ANNOTATION);
		else if (img_valid_name(d->ref_name, err) < 0)
			r = rt_err_wrap(err, "%s", what);
		else
			r = stage_image(blobs, stage, d, what, err);
	}
	if (r < 0) {
		img_index_free(&idx);
		return r;
	}
	out->m = idx.m;
	out->n = idx.n;
	return 0;
}

/* Move staged blobs into blobs/ (a blob already there is the same bytes). */
static int commit_blobs(struct img_store *s, int stage, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int blobs = openat(s->fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int fd = openat(stage, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || blobs < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(err, errno, "commit");
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (renameat(stage, de->d_name, blobs, de->d_name) < 0)
			return rt_err_sys(err, errno, "commit blob sha256:%s", de->d_name);
	}
	return fsync(blobs) < 0 ? rt_err_sys(err, errno, "commit") : 0;
}

static int commit_names(struct img_store *s, struct img_staged *st, struct rt_err *err)
{
	struct img_index idx;
	struct img_desc *grown;
	int r;

	if (img_store_index_load(s, &idx, err) < 0)
		return -EINVAL;
	grown = realloc(idx.m, (idx.n + st->n + 1) * sizeof(*idx.m));
	if (!grown) {
		img_index_free(&idx);
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	idx.m = grown;
	for (size_t i = 0; i < st->n; i++) {
		ssize_t at = img_index_find(&idx, st->m[i].ref_name);

		/* A name is moved to the new image, as a tag is. */
		if (at >= 0)
			img_desc_free(&idx.m[at]);
		else
			at = (ssize_t)idx.n++;
		idx.m[at] = st->m[i];
		st->m[i] = (struct img_desc){0};
	}
	r = img_store_index_save(s, &idx, err);
	img_index_free(&idx);
	return r;
}

/* The names an OCI archive may hold that matter to us. */
static bool wanted(const char *p)
{
	const char *h = p + strlen("blobs/sha256/");

	if (!strcmp(p, "oci-layout") || !strcmp(p, "index.json"))
		return true;
	return !strncmp(p, "blobs/sha256/", 13) && strlen(h) == 64 &&
		strspn(h, "0123456789abcdef") == 64;
}

static void archive_freep(struct archive **a) { if (*a) LA.read_free(*a); }

/* Extract the layout files of an OCI archive into dir.  Nothing but the
 * files wanted() names is written, each created fresh in directories we
 * made, so the archive's own paths never reach the filesystem. */
static int extract_archive(const char *path, int dir, struct rt_err *err)
{
	_cleanup_(archive_freep) struct archive *a = LA.read_new();
	struct archive_entry *e;
	int r;

	if (!a || mkdirat(dir, "blobs", 0700) < 0 || mkdirat(dir, "blobs/sha256", 0700) < 0)
		return rt_err_sys(err, errno ? errno : ENOMEM, "%s", path);
	LA.read_support_filter_all(a);
	LA.read_support_format_tar(a);
	if (LA.read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return rt_err_set(err, EINVAL, "%s: %s", path, LA.error_string(a));
	while ((r = LA.read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = LA.entry_pathname(e);
		_cleanup_close_ int fd = -1;

		while (p && p[0] == '.' && p[1] == '/')
			p += 2;
		if (!p || LA.entry_filetype(e) != AE_IFREG || !wanted(p))
			continue;
		fd = openat(dir, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return rt_err_sys(err, errno, "%s: %s", path, p);
		if (LA.read_data_into_fd(a, fd) != ARCHIVE_OK)
			return rt_err_set(err, EINVAL, "%s: %s: %s", path, p, LA.error_string(a));
	}
	if (r != ARCHIVE_EOF)
		return rt_err_set(err, EINVAL, "%s: %s", path, LA.error_string(a));
	return 0;
}

/* Which kind of archive path is: an OCI archive (it has oci-layout; newer
 * docker saves have manifest.json too and are read as OCI) or a
 * docker-archive, whose manifest.json is then returned in *mtext. */
static int archive_kind(const char *path, bool *docker, char **mtext, size_t *mlen,
			struct rt_err *err)
{
	_cleanup_(archive_freep) struct archive *a = LA.read_new();
	struct archive_entry *e;
	bool oci = false;
	int r;

	if (!a)
		return rt_err_set(err, ENOMEM, "out of memory");
	LA.read_support_filter_all(a);
	LA.read_support_format_tar(a);
	if (LA.read_open_filename(a, path, 65536) != ARCHIVE_OK)
		return rt_err_set(err, EINVAL, "%s: %s", path, LA.error_string(a));
	while (!oci && (r = LA.read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = LA.entry_pathname(e);
		la_int64_t size = LA.entry_size(e);

		while (p && p[0] == '.' && p[1] == '/')
			p += 2;
		if (!p || LA.entry_filetype(e) != AE_IFREG)
			continue;
		oci = !strcmp(p, "oci-layout");
		if (strcmp(p, "manifest.json") || *mtext)
			continue;
		if (size < 0 || size > IMG_JSON_MAX)
			return rt_err_set(err, EFBIG, "%s: manifest.json: too big", path);
		*mtext = calloc(1, (size_t)size + 1);
		if (!*mtext)
			return rt_err_set(err, ENOMEM, "out of memory");
		if (LA.read_data(a, *mtext, (size_t)size) != size)
			return rt_err_set(err, EINVAL, "%s: manifest.json: %s", path,
					  LA.error_string(a));
		*mlen = (size_t)size;
	}
	if (!oci && r != ARCHIVE_EOF)
		return rt_err_set(err, EINVAL, "%s: %s", path, LA.error_string(a));
	if (!oci && !*mtext)
		return rt_err_set(err, EINVAL, "%s: neither an OCI archive (no oci-layout) nor a "
				  "docker-archive (no manifest.json)", path);
	*docker = !oci;
	return 0;
}

/* Stage whatever path is: a layout directory, an OCI archive (extracted
 * into archdir first) or a docker-archive. */
static int stage_any(const char *path, char *archdir, int stage, const char *name,
		     struct img_staged *st, struct rt_err *err)
{
	_cleanup_free_ char *mtext = NULL;
	_cleanup_close_ int layout = -1;
	bool docker = false;
	size_t mlen = 0;
	struct stat sb;

	if (stat(path, &sb) < 0)
		return rt_err_sys(err, errno, "%s", path);
	if (S_ISDIR(sb.st_mode)) {
		layout = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (layout < 0)
			return rt_err_sys(err, errno, "%s", path);
		return stage_layout(layout, stage, name, st, err);
	}
	if (archive_kind(path, &docker, &mtext, &mlen, err) < 0)
		return -EINVAL;
	if (docker)
		return img_docker_stage(path, mtext, mlen, stage, name, st, err);
	if (!mkdtemp(archdir) || (layout = open(archdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return rt_err_sys(err, errno, "%s", archdir);
	if (extract_archive(path, layout, err) < 0)
		return -EINVAL;
	return stage_layout(layout, stage, name, st, err);
}

int img_import(struct img_store *s, const char *path, const char *name, struct rt_err *err)
{
	_cleanup_free_ char *archdir = NULL;
	_cleanup_free_ char *stagedir = NULL;
	_cleanup_close_ int stage = -1;
	_cleanup_close_ int tmp = openat(s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct img_staged st = {0};
	int r = 0;

	if (tmp < 0)
		return rt_err_sys(err, errno, "image store %s: tmp", s->root);
	if (name && img_valid_name(name, err) < 0)
		return -EINVAL;
	if (lazy_image_load(err) < 0)
		return -err->code;
	if (asprintf(&archdir, "%s/tmp/archive-XXXXXX", s->root) < 0 ||
	    asprintf(&stagedir, "%s/tmp/stage-XXXXXX", s->root) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!mkdtemp(stagedir) || (stage = open(stagedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = rt_err_sys(err, errno, "%s", stagedir);
	if (r == 0)
		r = stage_any(path, archdir, stage, name, &st, err);
	if (r == 0)
		r = commit_blobs(s, stage, err);
	if (r == 0)
		r = commit_names(s, &st, err);
	/* A name moved to a new image may have been the last user of blobs. */
	if (r == 0)
		r = img_store_gc(s, err);
	for (size_t i = 0; i < st.n; i++)
		img_desc_free(&st.m[i]);
	free(st.m);
	/* The "XXXXXX" left in a name means that directory was never made. */
	img_rm_rf_at(tmp, strrchr(archdir, '/') + 1);
	img_rm_rf_at(tmp, strrchr(stagedir, '/') + 1);
	return r < 0 ? rt_err_wrap(err, "import %s", path) : 0;
}
