/* The fixture of the image unit tests: a temporary store and layout dir,
 * and layouts and tars built here with libarchive's writer.  Included by
 * each test_image*.c (static: one copy per test program). */
#ifndef HULL_IMAGE_FIXTURE_H
#define HULL_IMAGE_FIXTURE_H
#define UNUSED __attribute__((unused))

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/image.h"
#include "image/img_int.h"
#include "runtime/util.h"

static char tmp[64];
static char store_dir[128], lay[128], out[128];
static struct img_store st = { .fd = -1, .lock_fd = -1 };

static UNUSED void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/hull-unit-image.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmp);
	snprintf(lay, sizeof(lay), "%s/layout", tmp);
	snprintf(out, sizeof(out), "%s/out/rootfs", tmp);
	struct rt_err err = {0};
	cr_assert_eq(img_store_open(&st, store_dir, &err), 0, "%s", err.msg);
}

static UNUSED void teardown(void)
{
	char cmd[1024];
	img_store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	system(cmd);
}


/* ---- building layouts ---- */

enum { F, D, L, H, C };   /* file, dir, symlink, hardlink, char device */
struct ent {
	int type;
	const char *path;
	const char *data;      /* file content, or link target */
	int mode;
	int uid;
};

static UNUSED void sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int n;
	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* A tar (compressed with filter: "gzip", "zstd" or NULL) in memory. */
static UNUSED char *make_tar(const struct ent *e, size_t n, const char *filter, size_t *len)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	if (filter && !strcmp(filter, "gzip")) {
		archive_write_add_filter_gzip(a);
		/* no time in the gzip header: the same entries give the same blob */
		archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	}
	else if (filter && !strcmp(filter, "zstd"))
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	cr_assert_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_uid(ae, e[i].uid);
		archive_entry_set_gid(ae, e[i].uid);
		switch (e[i].type) {
		case F:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, strlen(e[i].data));
			break;
		case D: archive_entry_set_filetype(ae, AE_IFDIR); break;
		case L:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case H:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].data);
			break;
		case C:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		}
		archive_entry_set_perm(ae, e[i].mode ? e[i].mode : (e[i].type == D ? 0755 : 0644));
		cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s", archive_error_string(a));
		if (e[i].type == F)
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

/* Write a blob into the layout; digest is "sha256:<hex>". */
static UNUSED void put_blob(const char *data, size_t len, char digest[72])
{
	char hex[65], path[256];
	sha256_hex(data, len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay, hex);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(data, 1, len, f);
	fclose(f);
}

static UNUSED void write_text(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", lay, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

struct layer { const struct ent *e; size_t n; const char *filter; };
struct built { char manifest[72]; char layers[4][72]; };

/* A fresh layout dir holding one image, name, with these layers. */
/* The image config of the next make_layout, when set. */
static const char *next_config __attribute__((unused));

static UNUSED void make_layout(const char *name, const struct layer *ls, size_t n, struct built *b)
{
	char cmd[1024], cfgd[72], doc[4096], layers[2048] = "";
	const char *cfg = next_config ? next_config :
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{}}";
	size_t off = 0;

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s/blobs/sha256", lay, lay);
	cr_assert_eq(system(cmd), 0);
	write_text("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *t = make_tar(ls[i].e, ls[i].n, ls[i].filter, &len);
		put_blob(t, len, b->layers[i]);
		free(t);
		off += snprintf(layers + off, sizeof(layers) - off,
				"%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar%s\","
				"\"digest\":\"%s\",\"size\":%zu}", i ? "," : "",
				ls[i].filter ? (strcmp(ls[i].filter, "gzip") ? "+zstd" : "+gzip") : "",
				b->layers[i], len);
	}
	put_blob(cfg, strlen(cfg), cfgd);
	snprintf(doc, sizeof(doc), "{\"schemaVersion\":2,\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[%s]}", cfgd, strlen(cfg), layers);
	put_blob(doc, strlen(doc), b->manifest);
	/* the index gives the manifest's size: read it back from its blob */
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay, b->manifest + 7);
	cr_assert_eq(stat(path, &sb), 0);
	snprintf(doc, sizeof(doc), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
		 b->manifest, (long long)sb.st_size, name);
	write_text("index.json", doc);
}

static UNUSED void import_ok(const char *name, const struct layer *ls, size_t n, struct built *b)
{
	struct rt_err err = {0};
	make_layout(name, ls, n, b);
	cr_assert_eq(img_import(&st, lay, NULL, &err), 0, "%s", err.msg);
}

static UNUSED int count_blobs(void)
{
	char path[512];
	int n = 0;
	snprintf(path, sizeof(path), "%s/blobs/sha256", store_dir);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static UNUSED bool blob_exists(const char *digest)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store_dir, digest + 7);
	return access(path, F_OK) == 0;
}

static UNUSED size_t n_images(void)
{
	struct img_ref *r = NULL;
	size_t n = 0;
	struct rt_err err = {0};
	cr_assert_eq(img_list(&st, &r, &n, &err), 0, "%s", err.msg);
	img_refs_free(r, n);
	return n;
}

static UNUSED char *slurp(const char *rel)
{
	char path[512], *text = NULL;
	size_t len;
	struct rt_err err = {0};
	snprintf(path, sizeof(path), "%s/%s", out, rel);
	if (rt_read_file(path, 1 << 20, &text, &len, &err) < 0)
		return NULL;
	return text;
}

/* Nothing of a failed unpack is left: no DIR, no DIR.tmp-*. */
static UNUSED void assert_no_output(void)
{
	char parent[160];
	snprintf(parent, sizeof(parent), "%s/out", tmp);
	cr_assert_neq(access(out, F_OK), 0, "%s exists after a failed unpack", out);
	DIR *d = opendir(parent);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));)
		cr_assert(de->d_name[0] == '.', "left behind: %s", de->d_name);
	closedir(d);
}

static const struct ent base_ents[] __attribute__((unused)) = {
	{ D, "etc" }, { F, "etc/conf", "one\n" }, { F, "etc/keep", "k" },
};

#endif
