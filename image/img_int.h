/* Internals of image/: OCI JSON documents (oci_json.c, the only place
 * that touches yajl here) and blob helpers (store.c). */
#ifndef HULL_IMG_INT_H
#define HULL_IMG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "image/image.h"

#define IMG_JSON_MAX (4u << 20)   /* index, manifest, config: small documents */

#define IMG_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define IMG_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMG_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMG_REF_ANNOTATION "org.opencontainers.image.ref.name"

struct img_desc {
	char *media_type;
	char digest[72];     /* "sha256:" + 64 lowercase hex */
	uint64_t size;
	char *ref_name;      /* annotation org.opencontainers.image.ref.name, or NULL */
};

struct img_index {
	struct img_desc *m;
	size_t n;
};

struct img_manifest {
	struct img_desc config;
	struct img_desc *layers;
	size_t n_layers;
};

/* One image of a docker-archive's manifest.json: paths inside the archive. */
struct img_docker_image {
	char *config;
	char **layers;
	size_t n_layers;
	char **tags;          /* RepoTags, may be empty */
	size_t n_tags;
};

/* Images on their way into the store: manifest descriptors whose ref_name
 * is the name each will get (one entry per name). */
struct img_staged {
	struct img_desc *m;
	size_t n;
};

/* oci_json.c */
int img_docker_manifest_parse(const char *json, size_t len, struct img_docker_image **out,
			      size_t *n, struct rt_err *err);
void img_docker_images_free(struct img_docker_image *d, size_t n);
/* An OCI image manifest for config and layers (compact JSON). */
int img_manifest_write(const struct img_desc *config, const struct img_desc *layers, size_t n,
		       char **out, size_t *len, struct rt_err *err);
int img_config_parse(const char *json, size_t len, struct img_config *out, struct rt_err *err);
void img_config_free(struct img_config *c);
int img_layout_check(const char *json, size_t len, struct rt_err *err);
int img_index_parse(const char *json, size_t len, struct img_index *out, struct rt_err *err);
int img_index_write(const struct img_index *idx, char **out, size_t *len, struct rt_err *err);
int img_manifest_parse(const char *json, size_t len, struct img_manifest *out, struct rt_err *err);
int img_inspect_json(const char *name, const char *digest, const char *manifest, size_t mlen,
		     const char *config, size_t clen, char **out, struct rt_err *err);
void img_desc_free(struct img_desc *d);
void img_index_free(struct img_index *idx);
void img_manifest_free(struct img_manifest *m);
bool img_layer_media_type_ok(const char *mt);

/* import.c */
int img_valid_name(const char *name, struct rt_err *err);

/* docker.c: stage the images of a docker-archive (manifest.json already
 * read as mtext) into the stage directory; name overrides the RepoTags of
 * a single image. */
int img_docker_stage(const char *path, const char *mtext, size_t mlen, int stage,
		     const char *name, struct img_staged *out, struct rt_err *err);

/* bundle.c: write dir/config.json: `hull spec`'s default with the process
 * of image config c (cmd, when non-empty, replaces its Cmd), User resolved
 * in rootfs; writable: a read-write root. */
int img_spec_write(const char *dir, bool rootless, bool writable, const struct img_config *c,
		   const char *rootfs, char *const *cmd, struct rt_err *err);

/* unpack.c: apply one layer tar read from fd to the directory root (an
 * O_PATH fd), checked against d's size and digest when d is given. */
int img_layer_apply(int root, int fd, const struct img_desc *d, struct rt_err *err);

/* tools.c: prog's path in PATH (malloc'd), or NULL. */
char *img_find_program(const char *prog);
/* Run argv[0] (a path) with argv, stdin and stdout on /dev/null; an
 * error carrying the last line of its stderr unless it exits 0. */
int img_exec(const char *const argv[], struct rt_err *err);

/* rootfs.c: the image ref unpacked at STORE/rootfs/<hex> (done now if it
 * is not yet); *lower is its absolute path (malloc'd), digest its
 * manifest digest. */
int img_lower_ensure(struct img_store *s, const char *ref, char digest[72], char **lower,
		     struct rt_err *err);
/* rootfs.c: remove unpacked trees and disks of manifests not in live (the
 * '\n'-joined hex digests still needed), unless a holder has them locked. */
int img_derived_gc(struct img_store *s, const char *live, struct rt_err *err);

/* store.c */
/* Write data into dirfd/<hex of its sha256> (atomically); fills d's digest
 * and size. */
int img_blob_put(int dirfd, const char *data, size_t len, struct img_desc *d,
		 struct rt_err *err);
/* The 64 hex digits of a "sha256:<hex>" digest, or NULL when malformed. */
const char *img_digest_hex(const char *digest);
/* Copy src_fd to dirfd/name, hashing as it goes; the file appears under
 * name only when size and digest match d. */
int img_blob_copy(int src_fd, int dirfd, const char *name, const struct img_desc *d,
		  struct rt_err *err);
/* Read a small blob from dirfd/<hex> and check it against d. */
int img_blob_read_at(int dirfd, const struct img_desc *d, char **out, size_t *len,
		     struct rt_err *err);
/* fd of the store's blob for digest (O_RDONLY). */
int img_blob_open(struct img_store *s, const char *digest, struct rt_err *err);
int img_store_index_load(struct img_store *s, struct img_index *idx, struct rt_err *err);
int img_store_index_save(struct img_store *s, const struct img_index *idx, struct rt_err *err);
/* Find name in idx; -1 if absent. */
ssize_t img_index_find(const struct img_index *idx, const char *name);
/* Load the manifest of a stored image by name. */
int img_store_manifest(struct img_store *s, const char *name, struct img_desc *mdesc,
		       struct img_manifest *m, char **mtext, size_t *mlen, struct rt_err *err);
/* The runtime defaults from a stored image's config blob. */
int img_store_config(struct img_store *s, const char *name, struct img_config *c,
		     struct rt_err *err);
/* Delete blobs that no name in the index reaches. */
int img_store_gc(struct img_store *s, struct rt_err *err);
/* rm -rf of dirfd/name without following symlinks. */
int img_rm_rf_at(int dirfd, const char *name);

#endif
