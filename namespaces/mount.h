/* Rootfs and mounts.  Planned in the parent (options mapped through
 * libmount, destinations checked), applied in the child inside its new
 * mount namespace. */
#ifndef HULL_NS_MOUNT_H
#define HULL_NS_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "runtime/spec.h"

struct ns_rootfs_plan;

/* One mount's options mapped to mount(2) arguments. */
struct ns_mount_opts {
	unsigned long flags;        /* MS_* for mount(2) (no propagation bits; "bind" gives
	                             * MS_BIND, "rbind" MS_BIND|MS_REC, as libmount maps them) */
	unsigned long clear;        /* MS_* bits explicitly cleared ("rw", "suid", ...) */
	unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [| MS_REC] */
	bool bind, rbind;
	bool recursive_ro;          /* "rro": mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY) */
	uint64_t attr_set, attr_clr;/* recursive r* attributes as MOUNT_ATTR_* (rnosuid, ...;
	                             * rro/rrw also show here as MOUNT_ATTR_RDONLY; an atime
	                             * choice puts MOUNT_ATTR__ATIME in attr_clr) */
	bool idmap;                 /* "idmap"/"ridmap" or mount mappings given */
	bool idmap_recursive;
	char *data;                 /* comma-joined filesystem-specific options (malloc'd, may be NULL) */
	bool tmpcopyup;             /* runc's "tmpcopyup": a tmpfs starts with a copy of the
	                             * directory it covers (not passed as data) */
};

/* Map raw OCI mount options to mount(2) flags and data.  Unknown options
 * that look like flags ("nosuid", "rw", ...) are mapped; everything else is
 * passed as filesystem data.  Returns -EINVAL naming the option for options
 * that are malformed (e.g. "rbind=x"). */
int ns_mount_parse_options(char *const *options, struct ns_mount_opts *out, struct rt_err *err);
void ns_mount_opts_clear(struct ns_mount_opts *o);

/* Parent: build the plan.  rootfs is the absolute, resolved rootfs path.
 * userns: the container gets a new user namespace (devices are then bind
 * mounted from the host instead of mknod'ed). */
int ns_rootfs_plan_new(const struct rt_spec *spec, const char *rootfs, bool userns,
		       struct ns_rootfs_plan **out, struct rt_err *err);
/* The same, with relative bind-mount sources taken relative to bundle_dir
 * (as runc does, its cwd being the bundle).  ns_rootfs_plan_new resolves
 * them against the current directory at plan time. */
int ns_rootfs_plan_new_bundle(const struct rt_spec *spec, const char *rootfs,
			      const char *bundle_dir, bool userns,
			      struct ns_rootfs_plan **out, struct rt_err *err);
void ns_rootfs_plan_free(struct ns_rootfs_plan *plan);

/* Child, in its new mount namespace, before pivot_root: set root
 * propagation, bind the rootfs onto itself, perform spec mounts in order
 * (destinations resolved inside the rootfs, never following a symlink out
 * of it), create devices (default devices + linux.devices), /dev symlinks,
 * /dev/pts and /dev/ptmx. */
int ns_rootfs_prepare(const struct ns_rootfs_plan *plan, struct rt_err *err);
/* Child: pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot),
 * detach the old root, then mask paths, make readonlyPaths read-only,
 * remount the root read-only when root.readonly, apply rootfsPropagation. */
int ns_rootfs_enter(const struct ns_rootfs_plan *plan, bool no_pivot, struct rt_err *err);

/* ---- internal to namespaces/ (mount.c, rootfs.c, devices.c) ---- */

enum ns_mount_kind { NS_MNT_BIND, NS_MNT_CGROUP, NS_MNT_FS };

struct ns_plan_mount {
	const char *dest;           /* as in the spec, for messages */
	const char *rel;            /* cleaned, relative to the rootfs ("dev/pts") */
	const char *source;
	const char *type;           /* passed to mount(2); NULL for bind mounts */
	enum ns_mount_kind kind;
	struct ns_mount_opts opts;
	bool no_symlinks;           /* proc/sysfs: the destination may not cross a symlink */
	const struct rt_id_map *uid_map, *gid_map;   /* idmap: mappings to use */
	size_t n_uid_map, n_gid_map;
};

struct ns_plan_device {
	const char *path;           /* absolute in the container */
	mode_t mode;                /* S_IFCHR/S_IFBLK/S_IFIFO | permission bits */
	dev_t rdev;
	uid_t uid;
	gid_t gid;
};

/* One host cgroup v1/v2 hierarchy under /sys/fs/cgroup (for type "cgroup"). */
struct ns_cg_hier {
	const char *name;           /* directory name: "cpu,cpuacct", "systemd", "unified" */
	const char *host_path;      /* host mountpoint */
	const char *super_opts;     /* super options from mountinfo, e.g. "rw,cpu" */
	bool v2;
};

struct ns_cg_link { const char *name, *target; };

struct ns_rootfs_plan {
	struct rt_arena *arena;
	const char *rootfs;
	const char *base_dir;       /* relative bind sources are taken from here */
	bool userns;
	struct ns_plan_mount *mounts;
	size_t n_mounts;
	struct ns_plan_device *devices;
	size_t n_devices;
	bool setup_dev;             /* /dev is not a bind mount: create devices and links */
	bool proc_mounted, pts_mounted;
	bool dev_core;              /* /dev/core -> /proc/kcore (proc mounted, host has kcore) */
	unsigned long root_propagation;     /* applied to "/" first */
	unsigned long rootfs_propagation;   /* applied to the new root after pivot; 0 = none */
	bool root_readonly;
	char **masked;
	size_t n_masked;
	char **readonly;
	size_t n_readonly;
	bool cgroupns;
	bool cg_unified;            /* pure cgroup v2 host */
	struct ns_cg_hier *cg_hiers;
	size_t n_cg_hiers;
	struct ns_cg_link *cg_links;
	size_t n_cg_links;
};

/* Propagation name ("rslave") to MS_* bits; -EINVAL for unknown names. */
int ns_propagation_parse(const char *name, unsigned long *out, struct rt_err *err);
/* Clean an in-container path to a relative one ("/dev//pts/" -> "dev/pts",
 * "/" -> "."); -EINVAL for ".." components.  Result lives in arena. */
int ns_path_clean(struct rt_arena *a, const char *path, const char **out, struct rt_err *err);

/* devices.c, child side: default + spec devices, /dev symlinks, /dev/ptmx. */
int ns_devices_create(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err);
int ns_dev_links_create(const struct ns_rootfs_plan *plan, int root_fd, struct rt_err *err);
/* devices.c, parent side: fill plan->devices. */
int ns_devices_plan(struct ns_rootfs_plan *plan, const struct rt_spec *spec, struct rt_err *err);

#endif
