/* The state store: --root (default /run/hull), one directory per
 * container holding state.json (written atomically), config.json (the spec
 * as given), start.sock while the container waits for `start`, and an
 * flock on the directory. */
#ifndef HULL_STATE_H
#define HULL_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include "runtime/err.h"
#include "runtime/spec.h"

#define RT_DEFAULT_ROOT "/run/hull"

struct rt_state {
	char *id;
	char *bundle;
	char *rootfs;
	pid_t pid;                       /* 0 while creating, before the init exists */
	unsigned long long pid_start;    /* /proc/PID/stat starttime, against pid reuse */
	char *created;                   /* RFC3339 */
	char *owner;
	char *cgroup_path;
	bool systemd_cgroup;
	bool creating;                   /* create has not finished */
	struct rt_kv *annotations;       /* malloc'd array of malloc'd strings */
	size_t n_annotations;
};

void rt_state_clear(struct rt_state *s);

/* status as the runtime spec names it: creating|created|running|paused|stopped */
const char *rt_state_status(const char *root, const struct rt_state *s);
bool rt_state_alive(const struct rt_state *s);

/* The container dir path (malloc'd). */
char *rt_state_path(const char *root, const char *id, const char *file);
/* mkdir root and root/id; EEXIST -> `container "<id>" already exists`.
 * Returns an O_DIRECTORY fd. */
int rt_state_create_dir(const char *root, const char *id, struct rt_err *err);
/* Open root/id; ENOENT -> `container "<id>" does not exist`. */
int rt_state_open_dir(const char *root, const char *id, struct rt_err *err);
/* flock the dir fd (LOCK_EX). */
int rt_state_lock(int dirfd, struct rt_err *err);
int rt_state_write(int dirfd, const struct rt_state *s, struct rt_err *err);
int rt_state_read(const char *root, const char *id, struct rt_state *out, struct rt_err *err);
/* Remove the dir and its files. */
int rt_state_remove(const char *root, const char *id, struct rt_err *err);
/* Container ids under root, sorted (malloc'd NULL-terminated vector). */
int rt_state_list(const char *root, char ***ids, struct rt_err *err);

/* JSON (runtime/spec_state.c: the state half of the spec module). */
/* Internal state file form (everything). */
char *rt_state_to_json(const struct rt_state *s);
int rt_state_from_json(const char *json, size_t len, struct rt_state *out, struct rt_err *err);
/* The runtime-spec state document (for `state` and hooks' stdin). */
char *rt_state_oci_json(const struct rt_state *s, const char *status);
/* `list --format json` */
char *rt_state_list_json(const struct rt_state *states, const char *const *statuses, size_t n);
/* `ps --format json`: a JSON array of pids */
char *rt_pids_json(const pid_t *pids, size_t n);
/* The seccomp agent message (containerProcessState). */
char *rt_seccomp_state_json(const struct rt_state *s, const char *status, const char *metadata);
/* linux.resources as a LinuxResources document (only the fields given). */
char *rt_resources_json(const struct rt_resources *r);
/* config.json text with linux.resources replaced by r (malloc'd; NULL and
 * err set on failure); every other field is kept as it was. */
char *rt_config_set_resources(const char *config, size_t len, const struct rt_resources *r,
			      struct rt_err *err);
/* One `events` line: {"type":type,"id":id} plus "data" in runc's stats
 * shape when s is given. */
struct cg_stats;
char *rt_event_json(const char *type, const char *id, const struct cg_stats *s);

#endif
