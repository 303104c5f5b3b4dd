/* Images: a content-addressed store of OCI images; import from an OCI
 * image layout (directory or tar archive) or a docker-archive, or pull
 * through skopeo; unpack to a root filesystem or a bundle; shared
 * read-only unpacked trees for overlays (hull run --image, hull ct); erofs
 * VM disks.  Blobs are verified by sha256 on the way in; layer tars are
 * hostile input and are applied without ever following a symlink out of
 * the target directory.  The store:
 *   STORE/oci-layout, index.json, blobs/sha256/<hex>   an OCI image layout
 *   STORE/rootfs/<manifest hex>[.lock]                 unpacked trees
 *   STORE/disks/<manifest hex>.erofs                   VM disks
 *   STORE/lock, tmp/                                   the store's lock, staging */
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

/* The runtime defaults of an image config ("config" object); NULL-terminated
 * lists, NULL when absent or null; "" strings read as absent. */
struct img_config {
	char **entrypoint;
	char **cmd;
	char **env;
	char *working_dir;
	char *user;
};
void img_config_free(struct img_config *c);

/* HULL_IMAGE_STORE if set, else IMG_DEFAULT_STORE. */
const char *img_store_default(void);
/* Open (creating it if missing) and lock the store under root. */
int img_store_open(struct img_store *s, const char *root, struct rt_err *err);
void img_store_close(struct img_store *s);

/* Import an OCI image layout directory or OCI archive (tar of a layout).
 * name, if given, names the single image of the layout; otherwise each
 * manifest's org.opencontainers.image.ref.name is used.  All or nothing. */
int img_import(struct img_store *s, const char *path, const char *name, struct rt_err *err);
/* Copy ref with skopeo (a skopeo reference, "docker://" when it has no
 * transport) into a temporary OCI layout under $TMPDIR (else /var/tmp),
 * then img_import it as name (default: a docker:// ref without its
 * transport; other transports need one).  ENOENT when skopeo is missing. */
int img_pull(struct img_store *s, const char *ref, const char *name, struct rt_err *err);
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

/* User "uid", "uid:gid", "name", "name:group" or "uid:group" (docker's
 * forms), names looked up in rootfs' /etc/passwd and /etc/group (opened
 * inside rootfs: a symlink there cannot reach the host's).  NULL user is
 * 0:0; a lone uid takes its passwd group, or 0. */
int img_user_resolve(const char *rootfs, const char *user, uint32_t *uid, uint32_t *gid,
		     struct rt_err *err);

/* ---- Shared read-only root filesystems (for hull run --image, hull ct) ----
 *
 * An image is unpacked once into the store (STORE/rootfs/<manifest hex>,
 * built beside it and renamed, so it is complete or absent) and shared by
 * every container made from it: each gets an overlay whose lower layer is
 * that directory and whose upper and work directories are its own.  A
 * second container from the same image copies nothing.
 *
 *   struct img_rootfs r;
 *   img_rootfs_prepare(store, "busybox:1", "/var/lib/x/ct1", &r, &err);
 *   img_rootfs_mount(&r, "/var/lib/x/ct1/rootfs", &err);  (or mount it yourself:
 *       overlay lowerdir=r.lower,upperdir=r.upper,workdir=r.work)
 *   ... r.config.entrypoint / cmd / env / working_dir / user ...
 *   umount; img_rootfs_release(&r); rm -rf the dir when the container goes
 *
 * While a struct img_rootfs is held (between prepare and release) its lower
 * directory stays even if the image is removed: prepare takes a shared
 * flock on STORE/rootfs/<hex>.lock, and removal skips a locked one (it goes
 * at a later rm or import).  A holder that lives longer than one process
 * (hull ct) should prepare again at each start. */
struct img_rootfs {
	char *lower;                /* absolute; shared, read-only by contract */
	char *upper;                /* DIR/upper */
	char *work;                 /* DIR/work */
	char digest[72];            /* the image's manifest digest */
	struct img_config config;   /* Entrypoint, Cmd, Env, WorkingDir, User */
	int hold_fd;                /* the shared flock on the lower directory */
};

/* Look ref up in the store at store (a path; NULL: img_store_default()),
 * unpack it once if it is not yet, and make DIR/upper and DIR/work (DIR is
 * created if absent; upper and work must not exist).  The store's lock is
 * held only during the call.  On failure nothing new is left in DIR. */
int img_rootfs_prepare(const char *store, const char *ref, const char *dir,
		       struct img_rootfs *out, struct rt_err *err);
/* Mount the overlay of r on target (an existing directory). */
int img_rootfs_mount(const struct img_rootfs *r, const char *target, struct rt_err *err);
/* Free r and drop its hold on the lower directory; DIR is left to the
 * caller (upper holds the container's changes). */
void img_rootfs_release(struct img_rootfs *r);
/* A hold that outlives the process, for a container that keeps its upper
 * between runs (hull ct): the file LOWER.holds/HOLDER (holder: a plain
 * file name).  The store's gc keeps a tree while its .holds directory has
 * an entry, so a container's lower stays after `image rm` until the
 * container drops its hold.  Take it while the img_rootfs is held. */
int img_rootfs_hold(const char *lower, const char *holder, struct rt_err *err);
void img_rootfs_unhold(const char *lower, const char *holder);

/* ---- VM disks (for --vm) ----
 * The image's unpacked root filesystem as a read-only erofs disk,
 * STORE/disks/<manifest hex>.erofs: built once (mkfs.erofs from
 * erofs-utils, into a temporary file renamed when complete), then the same
 * file for every call; removed with the image.  *path_out (malloc'd) is
 * absolute.  A disk open in a VM stays readable after removal (an
 * unlinked inode), so no hold is needed. */
int img_vm_disk(const char *store, const char *ref, char **path_out, struct rt_err *err);

/* ---- hull run --image ---- */
struct img_run_opts {
	const char *store;      /* NULL: img_store_default() */
	const char *ref;
	const char *id;         /* the container id */
	char **cmd;             /* replaces the image's Cmd when non-empty (NULL-terminated) */
	bool vm;                /* microVM isolation: the guest boots img_vm_disk's disk */
	const char *kernel;     /* --kernel: the guest kernel (NULL: the default) */
	bool systemd_cgroup;
};

/* Run ref as container o->id in the foreground (state under root) on an
 * overlay of the shared unpacked image, with a config.json made from the
 * image config as `image bundle` makes it; remove everything after.
 * *status: the workload's exit status (128+signal). */
int img_run(const char *root, const struct img_run_opts *o, int *status, struct rt_err *err);

#endif
