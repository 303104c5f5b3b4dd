/* Shared by the ct verbs (ct.c: lifecycle; ct_info.c: set, exec, status,
 * list) and ct_store.c: a container's files, lock, config and state. */
#ifndef HULL_CT_INT_H
#define HULL_CT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "runtime/ct.h"
#include "runtime/err.h"
#include "runtime/state.h"

/* LIB (--lib-dir, HULL_LIB_DIR or the default), LIB/ct, LIB/ct/NAME[/FILE];
 * the paths are malloc'd, NULL when out of memory. */
const char *ct_lib_dir(const struct rt_ct_env *e);
char *ct_root(const struct rt_ct_env *e);
char *ct_path(const struct rt_ct_env *e, const char *name, const char *file);
/* The OCI id of container NAME under --root: "ct-NAME". */
void ct_oci_id(const char *name, char *id, size_t len);
int ct_check_name(const char *name, struct rt_err *err);
int ct_check_hostname(const char *h, struct rt_err *err);
/* The container's lock (an fd), held for the whole verb. */
int ct_lock(const struct rt_ct_env *e, const char *name, struct rt_err *err);
int ct_load_config(const struct rt_ct_env *e, const char *name, struct rt_ct_config *c,
		   struct rt_err *err);
/* Check the name, take the lock and read the config: the lock's fd, or
 * -errno (nothing held) when any step fails. */
int ct_open(const struct rt_ct_env *e, const char *name, struct rt_ct_config *c,
	    struct rt_err *err);
int ct_save_config(const struct rt_ct_env *e, const struct rt_ct_config *c, struct rt_err *err);
/* "running", "paused", "stopped" or "absent", from the OCI state or, when
 * that is gone, the container's cgroup; fills st (rt_state_clear it). */
const char *ct_oci_status(const struct rt_ct_env *e, const char *name, struct rt_state *st);
bool ct_is_running(const char *status);
/* Kill whatever is left in the container's cgroup and remove it. */
void ct_clean_cgroup(const char *name);
/* cgroup v2 weight [1, 10000] to v1 shares; -1 for none. */
int64_t ct_weight_to_shares(int64_t w);

#endif
