/* Cgroups: layout detection, path resolution, create/join/remove, the
 * resources of linux.resources, freeze, pids.  v1, v2 and hybrid. */
#ifndef HULL_CGROUP_H
#define HULL_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>
#include "runtime/spec.h"

enum cg_layout { CG_LAYOUT_UNIFIED, CG_LAYOUT_LEGACY, CG_LAYOUT_HYBRID };

/* mountinfo_path NULL = /proc/self/mountinfo; exported for tests. */
int cg_detect_layout(const char *mountinfo_path, enum cg_layout *out, struct rt_err *err);

/* Resolve linux.cgroupsPath (NULL -> "/hull/<id>"): absolute stays,
 * relative goes under "/hull".  Rejects ".." components and anything that
 * would escape the hierarchy.  Result is an absolute cgroup path (malloc'd). */
int cg_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
		    struct rt_err *err);

struct cg_handle;

/* Parent, before the child runs: create the cgroup(s) for path (in every
 * mounted v1 hierarchy hull uses, and/or v2), apply resources. */
int cg_create(const char *path, const struct rt_resources *res, struct cg_handle **out,
	      struct rt_err *err);
/* Open an existing container cgroup by path (no creation). */
int cg_open(const char *path, struct cg_handle **out, struct rt_err *err);
int cg_enter(struct cg_handle *h, pid_t pid, struct rt_err *err);
int cg_apply(struct cg_handle *h, const struct rt_resources *res, struct rt_err *err);
/* Pids in the cgroup (v2 cgroup.procs, v1 pids/ or the first hierarchy). */
int cg_pids(struct cg_handle *h, pid_t **pids, size_t *n, struct rt_err *err);
/* Send sig to every process in the cgroup. */
int cg_kill_all(struct cg_handle *h, int sig, struct rt_err *err);
int cg_freeze(struct cg_handle *h, bool frozen, struct rt_err *err);
int cg_is_frozen(struct cg_handle *h, bool *frozen, struct rt_err *err);
/* Remove the cgroup dirs (retrying EBUSY briefly); missing is not an error. */
int cg_destroy(struct cg_handle *h, struct rt_err *err);
void cg_handle_free(struct cg_handle *h);

/* Like cg_open and cg_create, reading mounts from mountinfo_path (NULL = our own); for
 * tests and for looking at another mount namespace. */
int cg_open_at(const char *mountinfo_path, const char *path, struct cg_handle **out,
	       struct rt_err *err);
int cg_create_at(const char *mountinfo_path, const char *path, const struct rt_resources *res,
		 struct cg_handle **out, struct rt_err *err);
/* The directory of cgroup path in a hierarchy mounted at mount_point whose
 * mountinfo root is mount_root (not "/" when a sub-tree is mounted). */
int cg_mount_dir(const char *mount_point, const char *mount_root, const char *path, char **out);
/* Every resource "not given" (-1 / false), for front doors that build one. */
void cg_resources_init(struct rt_resources *r);
enum cg_layout cg_handle_layout(const struct cg_handle *h);
const char *cg_handle_path(const struct cg_handle *h);
/* The directories, one per hierarchy (v1 hierarchies, then v2). */
size_t cg_handle_ndirs(const struct cg_handle *h);
const char *cg_handle_dir(const struct cg_handle *h, size_t i);

#endif
