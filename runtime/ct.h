/* hull ct: OpenVZ-style system containers.  A container's config is saved
 * as LIB/ct/NAME/ct.json (LIB: --lib-dir, $HULL_LIB_DIR or /var/lib/hull);
 * start turns it into jail options (runtime/jail.h), so into the same
 * config.json and the same create/start as any bundle, with the container's
 * own /sbin/init as PID 1 and an address on the hull0 bridge (netns/). */
#ifndef HULL_CT_H
#define HULL_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/err.h"
#include "runtime/jail.h"

struct rt_ct_config {
	char *name;
	char *rootfs;                /* absolute */
	char *image;                 /* the image the rootfs was unpacked from, or NULL */
	bool own_rootfs;             /* rootfs lives in the ct dir (from --image): destroy removes it */
	bool vm;                     /* --vm: start boots it as a microVM (no network, no binds) */
	char *lower;                 /* --image: the shared unpacked image (absolute), the lower
				      * layer of an overlay on rootfs with the ct dir's upper and
				      * work; NULL: rootfs is a plain directory */
	char *hostname;
	char *ip;                    /* "A.B.C.D" leased to ct:NAME, or NULL: loopback only */
	int64_t memory, cpu_quota, cpu_weight, pids;   /* -1 unset */
	struct rt_jail_bind *binds;
	size_t n_binds;
};

void rt_ct_config_clear(struct rt_ct_config *c);

/* What create takes from the command line; -1 / NULL for unset. */
struct rt_ct_create_opts {
	const char *rootfs, *image, *hostname;
	const char *ip;              /* "auto" (default; "none" with vm), "none", or A.B.C.D[/P] */
	bool vm;
	int64_t memory, cpu_quota, cpu_weight, pids;
	struct rt_jail_bind *binds;
	size_t n_binds;
};

/* Where things live: lib dir (NULL: $HULL_LIB_DIR or /var/lib/hull) and
 * the OCI state root (--root) for the running container "ct-NAME". */
struct rt_ct_env {
	const char *lib_dir;
	const char *state_root;
};

struct rt_ct_info {
	char *name;
	const char *state;           /* running | stopped | paused */
	pid_t pid;
	char ip[64], ip6[64];
	uint64_t mem_bytes, cpu_ns;  /* 0 when stopped */
	struct rt_ct_config cfg;
};
void rt_ct_info_clear(struct rt_ct_info *i);

int rt_ct_create(const struct rt_ct_env *e, const char *name, const struct rt_ct_create_opts *o,
		 struct rt_err *err);
int rt_ct_start(const struct rt_ct_env *e, const char *name, struct rt_err *err);
/* Ask init to halt (SIGPWR, as busybox init and sysvinit take it; a --vm
 * container's VMM gets SIGTERM, which it hands to the guest's init), then
 * kill everything after timeout_ms. */
int rt_ct_stop(const struct rt_ct_env *e, const char *name, int timeout_ms, struct rt_err *err);
int rt_ct_destroy(const struct rt_ct_env *e, const char *name, bool force, struct rt_err *err);
/* Change the saved config, and the running container's cgroup. */
int rt_ct_set(const struct rt_ct_env *e, const char *name, int64_t memory, int64_t cpu_quota,
	      int64_t cpu_weight, int64_t pids, struct rt_err *err);
/* args NULL: an interactive shell (enter). */
int rt_ct_exec(const struct rt_ct_env *e, const char *name, char **args, int *status,
	       struct rt_err *err);
int rt_ct_info(const struct rt_ct_env *e, const char *name, struct rt_ct_info *out,
	       struct rt_err *err);
/* Every container's name, sorted (malloc'd, NULL-terminated). */
int rt_ct_names(const struct rt_ct_env *e, char ***names, struct rt_err *err);

/* JSON (runtime/spec_ct.c, the spec module's part for hull ct). */
char *rt_ct_config_to_json(const struct rt_ct_config *c);
int rt_ct_config_from_json(const char *json, size_t len, struct rt_ct_config *c,
			   struct rt_err *err);
char *rt_ct_list_json(const struct rt_ct_info *v, size_t n);

#endif
