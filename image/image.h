/* Images: a content-addressed store of OCI images, import from an OCI
 * image layout (directory or tar archive), and unpack to a root
 * filesystem.  Blobs are verified by sha256 on the way in; layer tars are
 * hostile input and are applied without ever following a symlink out of
 * the target directory. */
#ifndef HULL_IMAGE_H
#define HULL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/err.h"

#define IMG_DEFAULT_STORE "/var/lib/hull/images"

struct img_store {
	char *root;
	int fd;          /* O_PATH directory fd of root */
	int lock_fd;     /* flock'd root/lock, held while the store is open */
};

/* One name in the store. */
struct img_ref {
	char *name;
	char digest[72];     /* manifest digest, "sha256:<hex>" */
	uint64_t size;       /* manifest + config + layers, as stored */
};

/* HULL_IMAGE_STORE if set, else IMG_DEFAULT_STORE. */
const char *img_store_default(void);
/* Open (creating it if missing) and lock the store under root. */
int img_store_open(struct img_store *s, const char *root, struct rt_err *err);
void img_store_close(struct img_store *s);

/* Import an OCI image layout directory or OCI archive (tar of a layout).
 * name, if given, names the single image of the layout; otherwise each
 * manifest's org.opencontainers.image.ref.name is used.  All or nothing. */
int img_import(struct img_store *s, const char *path, const char *name, struct rt_err *err);
int img_list(struct img_store *s, struct img_ref **out, size_t *n, struct rt_err *err);
void img_refs_free(struct img_ref *r, size_t n);
/* A JSON document: {"Name","Digest","Manifest","Config"}; *out malloc'd. */
int img_inspect(struct img_store *s, const char *name, char **out, struct rt_err *err);
/* Drop the name, then delete blobs no remaining name uses. */
int img_remove(struct img_store *s, const char *name, struct rt_err *err);
/* Apply the image's layers to a new directory dir (which must not exist):
 * built in dir.tmp-XXXXXX beside it and renamed on success. */
int img_unpack(struct img_store *s, const char *name, const char *dir, struct rt_err *err);

/* Make an OCI bundle in dir (absent or empty): dir/rootfs as img_unpack,
 * and dir/config.json, `hull spec`'s default with the process taken from
 * the image config (Entrypoint + Cmd, Env, WorkingDir, User; a user or
 * group name is looked up in the rootfs' /etc/passwd, /etc/group).
 * Nothing is left in dir on failure. */
int img_bundle(struct img_store *s, const char *name, const char *dir, bool rootless,
	       struct rt_err *err);

#endif
