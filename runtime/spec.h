/* The typed runtime spec.  Every front door (OCI config.json, hull ct,
 * hull jail, images) ends here; nothing past this header sees JSON.  All
 * memory hangs off spec->arena. */
#ifndef HULL_SPEC_H
#define HULL_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/arena.h"
#include "runtime/err.h"

struct rt_id_map {
	uint32_t container_id, host_id, size;
};

struct rt_rlimit {
	int resource;        /* RLIMIT_* */
	const char *name;    /* "RLIMIT_NOFILE" as given */
	uint64_t soft, hard;
};

/* Capability sets as bitmasks of CAP_* numbers (all caps fit in 64 bits). */
struct rt_caps {
	bool present;        /* process.capabilities was given */
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct rt_user {
	uid_t uid;
	gid_t gid;
	bool has_umask;
	mode_t umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
	const char *username;   /* informational (Windows field), ignored */
};

struct rt_scheduler {
	bool present;
	int policy;             /* SCHED_* */
	int nice;
	int priority;
	uint64_t flags;         /* SCHED_FLAG_* bits */
	uint64_t runtime, deadline, period;
};

struct rt_io_priority {
	bool present;
	int class;              /* IOPRIO_CLASS_RT/BE/IDLE */
	int priority;
};

struct rt_process {
	bool terminal;
	bool has_console_size;
	unsigned console_height, console_width;
	char **args;            /* NULL-terminated */
	size_t n_args;
	char **env;             /* NULL-terminated, "K=V" */
	size_t n_env;
	const char *cwd;        /* absolute */
	struct rt_user user;
	struct rt_caps caps;
	struct rt_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	struct rt_io_priority io_priority;
	struct rt_scheduler scheduler;
	const char *exec_cpu_affinity_initial;   /* cpu list "0-3,7" or NULL */
	const char *exec_cpu_affinity_final;
	const char *apparmor_profile;
	const char *selinux_label;
};

struct rt_mount {
	const char *destination;  /* absolute, inside the container */
	const char *source;       /* may be NULL for some types */
	const char *type;         /* NULL means "bind" when options say so, else "none" */
	char **options;           /* NULL-terminated raw option strings */
	size_t n_options;
	struct rt_id_map *uid_mappings, *gid_mappings;  /* idmapped mounts */
	size_t n_uid_mappings, n_gid_mappings;
};

struct rt_hook {
	const char *path;
	char **args;              /* NULL-terminated, may be NULL */
	char **env;               /* NULL-terminated, may be NULL */
	int timeout;              /* seconds, 0 = none */
};

enum rt_hook_kind {
	RT_HOOK_PRESTART,
	RT_HOOK_CREATE_RUNTIME,
	RT_HOOK_CREATE_CONTAINER,
	RT_HOOK_START_CONTAINER,
	RT_HOOK_POSTSTART,
	RT_HOOK_POSTSTOP,
	RT_HOOK__COUNT
};

struct rt_hook_list {
	struct rt_hook *hooks;
	size_t n;
};

enum rt_ns_kind {
	RT_NS_USER,   /* user first: joined and created before the others */
	RT_NS_PID,
	RT_NS_NET,
	RT_NS_MNT,
	RT_NS_IPC,
	RT_NS_UTS,
	RT_NS_CGROUP,
	RT_NS_TIME,
	RT_NS__COUNT
};

struct rt_namespace {
	bool enabled;             /* listed in linux.namespaces */
	const char *path;         /* join this one instead of creating */
};

struct rt_device {
	const char *path;
	char type;                /* 'c', 'b', 'u' (= 'c'), 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;              /* permission bits */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

/* Device cgroup rule (linux.resources.devices). */
struct rt_device_rule {
	bool allow;
	char type;                /* 'a', 'c', 'b' */
	int64_t major, minor;     /* -1 = wildcard */
	const char *access;       /* subset of "rwm" */
};

enum rt_seccomp_action {
	RT_SECCOMP_KILL,          /* SCMP_ACT_KILL (= kill thread) */
	RT_SECCOMP_KILL_PROCESS,
	RT_SECCOMP_KILL_THREAD,
	RT_SECCOMP_TRAP,
	RT_SECCOMP_ERRNO,
	RT_SECCOMP_TRACE,
	RT_SECCOMP_ALLOW,
	RT_SECCOMP_LOG,
	RT_SECCOMP_NOTIFY,
};

enum rt_seccomp_op {
	RT_SCMP_NE, RT_SCMP_LT, RT_SCMP_LE, RT_SCMP_EQ,
	RT_SCMP_GE, RT_SCMP_GT, RT_SCMP_MASKED_EQ,
};

struct rt_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	enum rt_seccomp_op op;
};

struct rt_seccomp_rule {
	char **names;             /* NULL-terminated */
	size_t n_names;
	enum rt_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct rt_seccomp_arg *args;
	size_t n_args;
};

struct rt_seccomp {
	enum rt_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures;     /* "SCMP_ARCH_X86_64", NULL-terminated */
	size_t n_architectures;
	char **flags;             /* "SECCOMP_FILTER_FLAG_LOG", ... */
	size_t n_flags;
	const char *listener_path;
	const char *listener_metadata;
	struct rt_seccomp_rule *rules;
	size_t n_rules;
};

struct rt_sysctl {
	const char *key, *value;
};

struct rt_kv {
	const char *key, *value;
};

/* linux.resources: parsed here, applied by cgroups/.  Unset numbers are -1
 * (or has_* false) so "not given" and "0" stay distinct. */
/* A limit given as -1 ("unlimited") in JSON; -1 itself means "not given". */
#define RT_RES_UNLIMITED INT64_MIN

struct rt_resources {
	bool present;
	/* memory */
	int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp;
	int64_t mem_swappiness;          /* -1 unset */
	bool has_disable_oom_killer, disable_oom_killer;
	bool has_use_hierarchy, use_hierarchy;
	bool has_check_before_update, check_before_update;
	/* cpu */
	int64_t cpu_shares, cpu_quota, cpu_burst, cpu_realtime_runtime;
	int64_t cpu_period, cpu_realtime_period;   /* -1 unset */
	const char *cpu_cpus, *cpu_mems;
	bool has_cpu_idle;
	int64_t cpu_idle;
	/* pids */
	int64_t pids_limit;              /* -1 unset; 0 or negative in JSON = max */
	bool has_pids_limit;
	/* block io */
	int64_t blkio_weight, blkio_leaf_weight;   /* -1 unset */
	struct rt_blkio_dev {
		int64_t major, minor;
		int64_t weight, leaf_weight;   /* -1 unset */
		uint64_t rate;                 /* throttle entries */
	} *blkio_weight_device, *blkio_throttle_read_bps, *blkio_throttle_write_bps,
	  *blkio_throttle_read_iops, *blkio_throttle_write_iops;
	size_t n_blkio_weight_device, n_blkio_throttle_read_bps, n_blkio_throttle_write_bps,
	       n_blkio_throttle_read_iops, n_blkio_throttle_write_iops;
	/* hugepages */
	struct rt_hugepage_limit { const char *page_size; uint64_t limit; } *hugepage_limits;
	size_t n_hugepage_limits;
	/* network (v1) */
	bool has_net_class_id;
	uint32_t net_class_id;
	struct rt_net_prio { const char *name; uint32_t priority; } *net_priorities;
	size_t n_net_priorities;
	/* rdma */
	struct rt_rdma { const char *device; int64_t hca_handles, hca_objects; } *rdma;
	size_t n_rdma;
	/* unified (v2 raw keys) */
	struct rt_kv *unified;
	size_t n_unified;
	/* devices */
	struct rt_device_rule *devices;
	size_t n_devices;
};

struct rt_personality {
	bool present;
	unsigned long domain;     /* PER_LINUX or PER_LINUX32 */
	unsigned long flags;
};

struct rt_time_offset {
	bool present;
	int64_t secs;
	uint32_t nanosecs;
};

struct rt_linux {
	struct rt_namespace namespaces[RT_NS__COUNT];
	struct rt_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct rt_device *devices;
	size_t n_devices;
	char **masked_paths;
	size_t n_masked_paths;
	bool has_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	bool has_readonly_paths;
	const char *rootfs_propagation;   /* "shared", "rslave", ... or NULL */
	struct rt_sysctl *sysctl;
	size_t n_sysctl;
	struct rt_seccomp *seccomp;       /* NULL when absent */
	struct rt_personality personality;
	const char *mount_label;
	const char *cgroups_path;         /* NULL when absent */
	struct rt_resources resources;
	bool has_intel_rdt;
	struct rt_time_offset time_monotonic, time_boottime;
};

struct rt_spec {
	struct rt_arena *arena;
	const char *oci_version;
	const char *root_path;        /* as given (may be relative to the bundle) */
	bool root_readonly;
	const char *hostname;
	const char *domainname;
	bool has_process;
	struct rt_process process;
	struct rt_mount *mounts;
	size_t n_mounts;
	struct rt_hook_list hooks[RT_HOOK__COUNT];
	struct rt_kv *annotations;
	size_t n_annotations;
	struct rt_linux linux_;
};

/* ---- runtime/spec_parse.c: JSON -> typed spec (the only JSON reader) ---- */

/* Parse a config.json buffer.  Unknown fields are ignored; any ociVersion is
 * accepted.  Errors name the field ("process.user.uid: expected a number")
 * or the JSON position. */
int rt_spec_parse(const char *json, size_t len, struct rt_spec **out, struct rt_err *err);
int rt_spec_load(const char *path, struct rt_spec **out, struct rt_err *err);
/* Parse a runtime-spec "process" object alone (exec --process FILE). */
int rt_process_parse(const char *json, size_t len, struct rt_arena *arena,
		     struct rt_process *out, struct rt_err *err);
/* Parse a LinuxResources document alone (the content of linux.resources,
 * as `update --resources` takes it); errors name the field ("memory.limit:
 * expected an integer").  Unset fields stay -1/false. */
int rt_resources_parse(const char *json, size_t len, struct rt_arena *a,
		       struct rt_resources *out, struct rt_err *err);
void rt_spec_free(struct rt_spec *spec);
static inline void rt_spec_freep(struct rt_spec **s) { if (*s) rt_spec_free(*s); }
#define _cleanup_spec_ __attribute__((cleanup(rt_spec_freep)))

/* Name tables shared by the parser, the validator and `features`. */
int rt_ns_kind_from_name(const char *name);      /* -1 if unknown */
const char *rt_ns_kind_name(enum rt_ns_kind k);  /* "pid", "network", ... */
int rt_hook_kind_from_name(const char *name);
const char *rt_hook_kind_name(enum rt_hook_kind k);
int rt_cap_from_name(const char *name);          /* "CAP_SYS_ADMIN" -> 21, -1 if unknown */
const char *rt_cap_name(int cap);
int rt_rlimit_from_name(const char *name);       /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE */
int rt_seccomp_action_from_name(const char *name, enum rt_seccomp_action *out);

/* ---- runtime/spec_validate.c: semantic checks, before any side effect ---- */

/* Check everything that can be checked without touching the host: absolute
 * paths, known namespace kinds, mapping sanity, mount options, seccomp
 * names.  bundle_dir is used to resolve and check the rootfs. */
int rt_spec_validate(const struct rt_spec *spec, const char *bundle_dir, struct rt_err *err);
/* A container id: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 bytes, not "." or "..". */
int rt_validate_id(const char *id, struct rt_err *err);

/* ---- runtime/spec_write.c: the JSON writers (spec, state, features) ---- */

#define RT_SPEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What differs between the default config.json and one made from an
 * image's config; NULL-terminated lists, args non-empty. */
struct rt_spec_proc_cfg {
	const char *const *args;
	const char *const *env;
	const char *cwd;
	uint32_t uid, gid;
	bool writable_root;     /* root.readonly false (hull run --image's overlay) */
};

/* The default config.json of `hull spec` (rootless variant with user ns). */
char *rt_spec_default_json(bool rootless, const char *const *args);
/* The default config.json with p's process; NULL on a missing field or OOM. */
char *rt_spec_proc_json(bool rootless, const struct rt_spec_proc_cfg *p);
/* The runtime-spec features document, listing only what hull supports. */
char *rt_features_json(void);

#endif
