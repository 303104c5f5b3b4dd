/* Private to runtime/container.c (the parent's side of create and run)
 * and runtime/init.c (the child's side): the plan computed before the
 * container process exists. */
#ifndef HULL_CONTAINER_INT_H
#define HULL_CONTAINER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include "runtime/container.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "namespaces/mount.h"
#include "microvm/vm_plan.h"
#include "netns/net.h"

extern const int rt_ns_clone_flag[RT_NS__COUNT];

struct plan {
	const struct rt_create_opts *o;
	struct rt_spec *spec;
	char *config;                /* config.json bytes, copied into the state dir */
	size_t config_len;
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	unsigned long clone_flags;
	bool userns, timens, cgroupns, relay;
	int join_fd[RT_NS__COUNT];
	char *uid_map, *gid_map;
	char *cgroup_path;
	struct ns_rootfs_plan *rootfs_plan;
	struct rt_seccomp_plan *seccomp;
	char **env;                  /* process.env plus LISTEN_FDS/LISTEN_PID */
	int listen_fds;
	struct vm_plan vm;           /* VM mode: the init execs the VMM */
	struct rt_kv *vm_annotations; /* --vm recorded as org.hull.isolation=vm */
	struct net_adopt vm_adopt;   /* VM mode in an engine's netns: its interface */
};

/* The runtime-spec state of the container being created (borrowed fields). */
void rt_plan_state(const struct plan *p, pid_t pid, struct rt_state *st);
/* Run the hooks of one kind with the container state on stdin. */
int rt_plan_hooks(const struct plan *p, enum rt_hook_kind kind, pid_t pid, const char *status,
		  struct rt_err *err);
/* The intermediate process (child of hull): joins namespaces by path,
 * then clones the init, which sets the container up and waits for start. */
_Noreturn void rt_stage1_main(const struct plan *p, int sock, int start_sock);

#endif
