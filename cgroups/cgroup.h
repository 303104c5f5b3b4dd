/* Cgroups: layout detection, path resolution, create/join/remove, the
 * resources of linux.resources, freeze, pids.  v1, v2 and hybrid. */
#ifndef HULL_CGROUP_H
#define HULL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
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

/* The cgroup systemd gives "slice:prefix:name" (NULL -> system.slice:hull:ID):
 * "/a.slice/a-b.slice/prefix-name.scope".  Pure; errors name cgroupsPath. */
int cg_systemd_path(const char *cgroups_path, const char *id, char **out, struct rt_err *err);

/* ---- systemd.c: the systemd driver (transient scope units over D-Bus) ---- */
/* systemd manages cgroups here (/run/systemd/system).  Test hook:
 * HULL_SYSTEMD_FORCE=1 counts only while DBUS_SYSTEM_BUS_ADDRESS is set, so
 * tests can put a stand-in systemd on a private bus. */
bool cg_systemd_running(void);
/* The slice and unit of a cgroup path cg_systemd_path made:
 * "/a.slice/a-b.slice/p-n.scope" -> "a-b.slice", "p-n.scope" (pure). */
int cg_systemd_names(const char *cgroup_path, char **slice, char **unit, struct rt_err *err);
/* StartTransientUnit(unit, "replace") with Slice, Delegate=yes, PIDs=[pid],
 * Description "hull container <id>"; waits (10 s) for its job to be "done".
 * systemd creates the scope's cgroup and moves pid there. */
int cg_systemd_start(const char *slice, const char *unit, const char *id, pid_t pid,
		     struct rt_err *err);
/* StopUnit (a unit that is gone already is fine), then ResetFailedUnit. */
int cg_systemd_stop(const char *unit, struct rt_err *err);

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

/* ---- stats and OOM events (cgroups/stats.c), for `hull events` ---- */

struct cg_mem_entry { uint64_t usage, max, failcnt, limit; };
struct cg_stat_kv { char *key; uint64_t value; };
struct cg_blkio_entry { uint64_t major, minor; const char *op; uint64_t value; };
struct cg_hugetlb_entry { char *page_size; uint64_t usage, max, failcnt; };

/* What the kernel reports, in runc's units: nanoseconds, bytes.  A file
 * that is missing leaves its field 0; a limit of "max" is UINT64_MAX. */
struct cg_stats {
	uint64_t cpu_total, cpu_kernel, cpu_user;
	uint64_t *cpu_percpu;
	size_t n_cpu_percpu;
	uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_time;
	struct cg_mem_entry mem_usage, mem_swap, mem_kernel, mem_kernel_tcp;
	uint64_t mem_cache;
	bool mem_use_hierarchy;
	struct cg_stat_kv *mem_raw;
	size_t n_mem_raw;
	uint64_t oom_kill;                  /* OOM kills so far, where the kernel counts them */
	uint64_t pids_current, pids_limit;  /* limit 0: no limit */
	struct cg_blkio_entry *io_bytes, *io_ops;
	size_t n_io_bytes, n_io_ops;
	struct cg_hugetlb_entry *hugetlb;
	size_t n_hugetlb;
};

int cg_stats(struct cg_handle *h, struct cg_stats *out, struct rt_err *err);
void cg_stats_clear(struct cg_stats *s);
/* OOM watching: fd polls readable when the cgroup hits an OOM (v1:
 * eventfd registered on memory.oom_control; v2: inotify on memory.events).
 * cg_oom_drain reads it and returns how many OOM events are new; call it
 * once more after the workload exits, as the kernel counts the kill after
 * it notifies. */
struct cg_oom {
	int fd;
	uint64_t base, ticks, emitted;
};
int cg_oom_watch(struct cg_handle *h, struct cg_oom *w, struct rt_err *err);
uint64_t cg_oom_drain(struct cg_handle *h, struct cg_oom *w);
/* Exported for tests: parse "key value" lines (memory.stat, cpu.stat). */
int cg_parse_kv_lines(const char *text, struct cg_stat_kv **out, size_t *n);
/* io.stat / blkio.*_recursive text into byte and op entries (either out may be NULL). */
int cg_parse_io_stat(const char *text, bool v2, struct cg_blkio_entry **bytes, size_t *n_bytes,
		     struct cg_blkio_entry **ops, size_t *n_ops);

/* ---- devices_bpf.c: the v2 device list as a BPF_PROG_TYPE_CGROUP_DEVICE
 * program.  Rules apply in order (a later one overrides), default deny. ---- */
struct bpf_insn;
/* Assemble the program (pure; checks the rules); *out is malloc'd. */
int cg_devices_bpf_build(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out,
			 size_t *n_insns, struct rt_err *err);
/* BPF_PROG_LOAD; the verifier's complaint ends up in err. */
int cg_devices_bpf_load(const struct bpf_insn *insns, size_t n, int *prog_fd,
			struct rt_err *err);
/* Attach to a cgroup2 directory, replacing the device programs there. */
int cg_devices_bpf_attach(const char *cgroup_dir, int prog_fd, struct rt_err *err);
/* build + load + attach. */
int cg_devices_bpf_apply(const char *cgroup_dir, const struct rt_device_rule *rules, size_t n,
			 struct rt_err *err);

#endif
