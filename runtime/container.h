/* The container orchestrator: the OCI lifecycle as a checklist of named
 * steps.  cmd/ parses flags into these option structs and prints errors. */
#ifndef HULL_CONTAINER_H
#define HULL_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/err.h"

struct net_plan;

struct rt_create_opts {
	const char *root;            /* --root */
	const char *id;
	const char *bundle;          /* --bundle (default ".") */
	const char *pid_file;
	const char *console_socket;
	const char *pidfd_socket;
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool systemd_cgroup;
	bool detach;                 /* run only */
	bool keep;                   /* run only: do not delete after exit */
	/* hull jail/ct: networking to set up in the new network namespace
	 * before the init goes on (netns/net.h); NULL for none. */
	const struct net_plan *net;
	bool vm;                     /* --vm: run process.args in a microVM */
	bool vm_default;             /* global --vm: a microVM unless the annotation
				      * org.hull.isolation says container */
	const char *kernel;          /* --kernel: the microVM's guest kernel */
	const char *vm_disk;         /* VM mode: this read-only root disk (an image's
				      * cached erofs) instead of one built from root.path */
	bool vm_system_init;         /* VM mode: process.args is a system init (ct --vm):
				      * PID 1 of its own pid namespace in the guest */
};

int rt_container_create(const struct rt_create_opts *o, struct rt_err *err);
int rt_container_start(const char *root, const char *id, struct rt_err *err);
/* create + start + wait (+ delete unless keep).  *status: the workload's
 * exit status, 128+signal when killed.  With detach: create + start. */
int rt_container_run(const struct rt_create_opts *o, int *status, struct rt_err *err);
int rt_container_kill(const char *root, const char *id, int sig, bool all, struct rt_err *err);
int rt_container_delete(const char *root, const char *id, bool force, struct rt_err *err);
/* The runtime-spec state document (malloc'd). */
int rt_container_state(const char *root, const char *id, char **json, struct rt_err *err);
int rt_container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
		      struct rt_err *err);
int rt_container_pause(const char *root, const char *id, bool pause, struct rt_err *err);

/* runtime/update.c: `update` and `events`. */
struct rt_resources;
/* Validate, apply res to the cgroup and save the merged resources in the
 * saved config; a refused value changes nothing. */
int rt_container_update(const char *root, const char *id, const struct rt_resources *res,
			struct rt_err *err);
/* stats_only: one stats event.  Otherwise a stats event every interval_ms
 * and an oom event as each OOM happens, until the container stops.  emit
 * gets each JSON line and returns <0 (errno set) to stop. */
int rt_container_events(const char *root, const char *id, bool stats_only, long long interval_ms,
			int (*emit)(const char *json, void *data), void *data, struct rt_err *err);
/* Overlay the fields given in src onto dst (pointers are shared). */
void rt_resources_merge(struct rt_resources *dst, const struct rt_resources *src);
/* Range checks of an update request r, and of eff, the result after it. */
int rt_resources_check(const struct rt_resources *r, const struct rt_resources *eff,
		       struct rt_err *err);
/* "64m", "1.5g", "2GiB", "-1" (RT_RES_UNLIMITED); -EINVAL if bad. */
int rt_parse_mem_size(const char *s, int64_t *out);
/* Go-style durations ("5s", "250ms", "1m30s"); -EINVAL if bad or < 1 ms. */
int rt_parse_duration_ms(const char *s, long long *out);

struct rt_exec_opts {
	const char *root;
	const char *id;
	const char *process_file;    /* --process */
	char **args;                 /* when no --process */
	bool tty, tty_set;
	bool detach;
	const char *cwd;
	char **env;                  /* extra KEY=VAL */
	const char *user;            /* "uid[:gid]" */
	char **caps;                 /* --cap additions */
	bool no_new_privs, no_new_privs_set;
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
};

int rt_container_exec(const struct rt_exec_opts *o, int *status, struct rt_err *err);

/* Internal, shared by create and exec (runtime/container.c). */
struct rt_spec;
int rt_container_load_config(const char *root, const char *id, struct rt_spec **spec,
			     struct rt_err *err);
void rt_forward_signals(pid_t pid);
int rt_write_pid_file(const char *path, pid_t pid, struct rt_err *err);
/* Test hook: HULL_FAULT_POINT=name kills hull (SIGKILL) when it reaches
 * the named point, to test what a crash there leaves behind. */
void rt_fault_point(const char *name);

#endif
