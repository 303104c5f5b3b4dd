/* Applying process attributes in the child, after the rootfs is entered
 * and before exec. */
#ifndef HULL_PROCESS_H
#define HULL_PROCESS_H

#include <stdbool.h>
#include "runtime/spec.h"

/* As root inside the container: rlimits, oomScoreAdj, ioPriority,
 * scheduler, execCPUAffinity.initial, personality, apparmorProfile and
 * selinuxLabel (applied where the LSM is enabled, else *warning is set to a
 * static message). */
int rt_process_apply_attrs(const struct rt_process *p, const struct rt_personality *pers,
			   const char **warning, struct rt_err *err);
/* Switch to process.user (additionalGids, gid, uid, umask) keeping the
 * capabilities the spec asks for, then set the five capability sets.  With
 * no process.capabilities, all capabilities are dropped for uid != 0 and
 * kept for uid 0. */
int rt_process_switch_user(const struct rt_process *p, struct rt_err *err);
bool rt_process_seccomp_before_caps(const struct rt_process *p);
/* The executable execvp would run for file, with PATH from env: an error
 * in the words engines match (see process.c) if there is none. */
int rt_process_check_exec(const char *file, char *const *env, struct rt_err *err);
/* After exec-affinity "final" is wanted: set it (called just before exec). */
int rt_process_set_affinity(const char *cpulist, struct rt_err *err);
/* Parse a cpu list "0-3,7" into a cpu_set_t; exported for tests. */
struct cpu_set_t_fwd;
int rt_parse_cpulist(const char *list, void *cpuset, size_t setsize, struct rt_err *err);
/* Apply the capability sets alone (used by exec with --cap). */
int rt_caps_apply(const struct rt_caps *caps, struct rt_err *err);
/* Ambient caps that cannot be raised (not both permitted and inheritable). */
uint64_t rt_caps_ambient_ungrantable(const struct rt_caps *caps);
/* All capabilities the running kernel knows, as a mask. */
uint64_t rt_caps_all(void);

#endif
