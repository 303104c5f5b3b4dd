#include "config.h"
/* Cgroups: the resources of linux.resources written to the controller files,
 * v1 or v2 per controller (in hybrid mode a controller lives where it is
 * mounted).  This file has the entry point, the checks done before any
 * write, memory, cpu, cpuset, pids, devices and unified; res_io.c has
 * blockIO, hugetlb, network and rdma; devices_bpf.c the v2 device program.
 *
 * Conversions follow what runc and crun do, so that engines see the same
 * values: shares -> weight, blkio weight -> io.weight, OCI swap (memory +
 * swap) -> memory.swap.max (swap alone). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

typedef int (*cg_step)(struct cg_handle *, const struct rt_resources *, struct rt_err *);

struct cg_dir *cg_v2_dir(struct cg_handle *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->dirs[i].v2)
			return &h->dirs[i];
	return NULL;
}

int cg_need_ctrl(struct cg_handle *h, const char *ctrl, const char *field, struct cg_dir **out,
		 struct rt_err *err)
{
	if (!(*out = cg_ctrl_dir(h, ctrl)))
		return rt_err_set(err, ENOTSUP, "linux.resources.%s: the %s cgroup controller is "
				  "not available", field, ctrl);
	return 0;
}

int cg_write_all(const char *dir, struct cg_write_item *items, size_t n, struct rt_err *err)
{
	bool done[16] = { 0 };
	size_t left = n;

	if (n > RT_ARRAY_SIZE(done))
		return rt_err_set(err, E2BIG, "too many dependent cgroup writes");
	while (left) {
		size_t before = left;
		int last = 0;

		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			last = cg_write(dir, items[i].file, items[i].val, err);
			if (last == 0) {
				done[i] = true;
				left--;
			} else if (last != -EINVAL) {
				return last;
			}
		}
		if (left == before)
			return last;
	}
	return 0;
}

void cg_resources_init(struct rt_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->mem_limit = r->mem_reservation = r->mem_swap = -1;
	r->mem_kernel = r->mem_kernel_tcp = r->mem_swappiness = -1;
	r->cpu_shares = r->cpu_quota = r->cpu_burst = r->cpu_realtime_runtime = -1;
	r->cpu_period = r->cpu_realtime_period = -1;
	r->cpu_idle = -1;
	r->pids_limit = -1;
	r->blkio_weight = r->blkio_leaf_weight = -1;
}

static void fmt_limit(char *buf, size_t n, int64_t v, bool v2)
{
	if (v < 0)
		snprintf(buf, n, "%s", v2 ? "max" : "-1");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

static bool is_v2(struct cg_handle *h, const char *ctrl)
{
	struct cg_dir *d = cg_ctrl_dir(h, ctrl);

	return d && d->v2;
}

/* ---------------------------------------------------------------- checks */

static int check_unified_key(const char *k, struct rt_err *err)
{
	/* The runtime's own interface files: writing them would move
	 * processes or change the tree behind hull's back. */
	static const char *const managed[] = {
		"cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill",
		"cgroup.freeze", "cgroup.type", "cgroup.events", "cgroup.controllers",
		"cgroup.stat",
	};

	/* Keys are file names in the cgroup dir: nothing that walks elsewhere. */
	if (!k || !*k || k[0] == '.' || strchr(k, '/') || strstr(k, "..") || !strchr(k, '.'))
		return rt_err_set(err, EINVAL, "linux.resources.unified: invalid key \"%s\"",
				  k ? k : "");
	for (size_t i = 0; i < RT_ARRAY_SIZE(managed); i++)
		if (!strcmp(k, managed[i]))
			return rt_err_set(err, EINVAL, "linux.resources.unified: key \"%s\" is "
					  "managed by the runtime", k);
	return 0;
}

/* Everything that can fail without writing, so that an update either
 * fails before touching anything or gets past these. */
static int check_all(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (cg_device_rule_check(&r->devices[i], i, err) < 0)
			return -err->code;
	for (size_t i = 0; i < r->n_unified; i++)
		if (check_unified_key(r->unified[i].key, err) < 0)
			return -err->code;
	if (cg_is_set(r->mem_swappiness) && (r->mem_swappiness < 0 || r->mem_swappiness > 100))
		return rt_err_set(err, EINVAL, "linux.resources.memory.swappiness: %lld is out of "
				  "range (0 to 100)", (long long)r->mem_swappiness);
	if (cg_is_set(r->mem_swappiness) && is_v2(h, "memory"))
		return rt_err_set(err, ENOTSUP, "linux.resources.memory.swappiness: not supported "
				  "on cgroup v2");
	if (is_v2(h, "cpu") && cg_is_set(r->cpu_realtime_runtime))
		return rt_err_set(err, ENOTSUP, "linux.resources.cpu.realtimeRuntime: not "
				  "supported on cgroup v2");
	if (is_v2(h, "cpu") && cg_is_set(r->cpu_realtime_period))
		return rt_err_set(err, ENOTSUP, "linux.resources.cpu.realtimePeriod: not "
				  "supported on cgroup v2");
	return cg_check_io(h, r, err);
}

/* ---------------------------------------------------------------- memory */

/* checkBeforeUpdate: a limit under what is in use now would make the kernel
 * reclaim hard or kill; refuse it up front instead. */
static int check_usage(const char *d, bool v2, int64_t limit, struct rt_err *err)
{
	_cleanup_free_ char *s = NULL;
	const char *file = v2 ? "memory.current" : "memory.usage_in_bytes";
	unsigned long long usage;
	int r = cg_read(d, file, &s);

	if (r < 0)
		return rt_err_sys(err, -r, "linux.resources.memory.checkBeforeUpdate: read %s",
				  file);
	usage = strtoull(s, NULL, 10);
	if ((unsigned long long)limit < usage)
		return rt_err_set(err, EBUSY, "linux.resources.memory.limit: memory limit %lld is "
				  "below current usage %llu", (long long)limit, usage);
	return 0;
}

/* The kernel says EBUSY when it cannot reclaim down to a new limit. */
static int busy_limit(const char *d, const char *usage_file, int64_t limit, struct rt_err *err)
{
	_cleanup_free_ char *s = NULL;

	if (err->code != EBUSY || limit < 0 || cg_read(d, usage_file, &s) < 0)
		return -err->code;
	return rt_err_set(err, EBUSY, "linux.resources.memory.limit: memory limit %lld is below "
			  "current usage %s", (long long)limit, s);
}

static int memory_v1_limits(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_write_item w[2];
	size_t n = 0;
	int64_t swap = r->mem_swap;
	bool memsw = cg_file_exists(d, "memory.memsw.limit_in_bytes");

	/* As runc: unlimited memory without a swap value means unlimited swap. */
	if (!cg_is_set(swap) && cg_unlimited(r->mem_limit) && memsw)
		swap = r->mem_limit;
	if (cg_is_set(swap) && !memsw && !cg_unlimited(swap))
		return rt_err_set(err, ENOTSUP, "linux.resources.memory.swap: swap accounting is "
				  "not enabled in this kernel (no memory.memsw.limit_in_bytes)");
	if (cg_is_set(r->mem_limit)) {
		w[n].file = "memory.limit_in_bytes";
		fmt_limit(w[n++].val, sizeof(w[0].val), r->mem_limit, false);
	}
	if (cg_is_set(swap) && memsw) {
		w[n].file = "memory.memsw.limit_in_bytes";
		fmt_limit(w[n++].val, sizeof(w[0].val), swap, false);
	}
	/* memsw >= limit at every moment: raising both needs memsw first,
	 * lowering both the limit first; cg_write_all finds the order. */
	if (cg_write_all(d, w, n, err) < 0)
		return busy_limit(d, "memory.usage_in_bytes", r->mem_limit, err);
	return 0;
}

/* Kernel memory limits are deprecated: newer kernels refuse them (or lack
 * the files), and runc and crun carry on without them. */
static int write_deprecated(const char *d, const char *file, int64_t v, struct rt_err *err)
{
	char buf[32];
	int r;

	if (!cg_is_set(v) || !cg_file_exists(d, file))
		return 0;
	fmt_limit(buf, sizeof(buf), v, false);
	r = cg_write(d, file, buf, err);
	if (r == -EOPNOTSUPP || r == -524 /* ENOTSUPP */) {
		rt_err_clear(err);
		return 0;
	}
	return r;
}

static int memory_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	_cleanup_free_ char *hier = NULL;
	char buf[32];

	if (memory_v1_limits(d, r, err) < 0)
		return -err->code;
	if (cg_is_set(r->mem_reservation)) {
		fmt_limit(buf, sizeof(buf), r->mem_reservation, false);
		if (cg_write(d, "memory.soft_limit_in_bytes", buf, err) < 0)
			return -err->code;
	}
	if (write_deprecated(d, "memory.kmem.limit_in_bytes", r->mem_kernel, err) < 0 ||
	    write_deprecated(d, "memory.kmem.tcp.limit_in_bytes", r->mem_kernel_tcp, err) < 0)
		return -err->code;
	if (cg_is_set(r->mem_swappiness) &&
	    cg_writef(d, "memory.swappiness", err, "%lld", (long long)r->mem_swappiness) < 0)
		return -err->code;
	if (r->has_disable_oom_killer &&
	    cg_write(d, "memory.oom_control", r->disable_oom_killer ? "1" : "0", err) < 0)
		return -err->code;
	/* Kernels since 5.x are always hierarchical and refuse "0". */
	if (r->has_use_hierarchy && cg_read(d, "memory.use_hierarchy", &hier) == 0 &&
	    strcmp(hier, r->use_hierarchy ? "1" : "0") &&
	    cg_write(d, "memory.use_hierarchy", r->use_hierarchy ? "1" : "0", err) < 0 &&
	    (r->use_hierarchy || err->code != EINVAL))
		return -err->code;
	return 0;
}

/* OCI's swap is memory+swap; v2's memory.swap.max is swap alone. */
static int swap_v2(const struct rt_resources *r, char *buf, size_t n, struct rt_err *err)
{
	int64_t swap = r->mem_swap, lim = r->mem_limit;

	if (cg_unlimited(swap) || (!cg_is_set(swap) && cg_unlimited(lim)))
		snprintf(buf, n, "max");
	else if (!cg_is_set(swap))
		return 0;
	else if (!cg_is_set(lim) || cg_unlimited(lim))
		return rt_err_set(err, EINVAL, "linux.resources.memory.swap: needs a memory.limit "
				  "on cgroup v2");
	else if (swap < lim)
		return rt_err_set(err, EINVAL, "linux.resources.memory.swap (%lld) must be >= "
				  "memory.limit (%lld)", (long long)swap, (long long)lim);
	else
		snprintf(buf, n, "%lld", (long long)(swap - lim));
	return 1;
}

static int memory_v2(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	char buf[32];
	int has_swap = swap_v2(r, buf, sizeof(buf), err);

	if (has_swap < 0)
		return has_swap;
	if (cg_is_set(r->mem_limit)) {
		char lim[32];

		fmt_limit(lim, sizeof(lim), r->mem_limit, true);
		if (cg_write(d, "memory.max", lim, err) < 0)
			return busy_limit(d, "memory.current", r->mem_limit, err);
	}
	/* Without swap accounting there is no file: only "unlimited" is fine. */
	if (has_swap && (strcmp(buf, "max") || cg_file_exists(d, "memory.swap.max")) &&
	    cg_write(d, "memory.swap.max", buf, err) < 0)
		return -err->code;
	if (cg_is_set(r->mem_reservation)) {
		fmt_limit(buf, sizeof(buf), r->mem_reservation, true);
		return cg_write(d, "memory.low", buf, err);
	}
	/* kernel, kernelTCP, disableOOMKiller, useHierarchy have no v2
	 * equivalent; runc and crun ignore them there too. */
	return 0;
}

static int apply_memory(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!cg_is_set(r->mem_limit) && !cg_is_set(r->mem_reservation) &&
	    !cg_is_set(r->mem_swap) && !cg_is_set(r->mem_kernel) &&
	    !cg_is_set(r->mem_kernel_tcp) && !cg_is_set(r->mem_swappiness) &&
	    !r->has_disable_oom_killer && !r->has_use_hierarchy)
		return 0;
	if (cg_need_ctrl(h, "memory", "memory", &d, err) < 0)
		return -err->code;
	if (r->check_before_update && r->mem_limit >= 0 &&
	    check_usage(d->path, d->v2, r->mem_limit, err) < 0)
		return -err->code;
	return d->v2 ? memory_v2(d->path, r, err) : memory_v1(d->path, r, err);
}

/* ------------------------------------------------------------------- cpu */

static int cpu_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_write_item w[3];
	size_t n = 0;

	if (r->cpu_shares > 0 && cg_writef(d, "cpu.shares", err, "%lld",
					   (long long)r->cpu_shares) < 0)
		return -err->code;
	/* quota/period must stay within the parent's and burst <= quota:
	 * written as a set, in whatever order the kernel accepts. */
	if (r->cpu_period > 0) {
		w[n].file = "cpu.cfs_period_us";
		snprintf(w[n++].val, sizeof(w[0].val), "%lld", (long long)r->cpu_period);
	}
	if (cg_is_set(r->cpu_quota)) {
		w[n].file = "cpu.cfs_quota_us";
		fmt_limit(w[n++].val, sizeof(w[0].val), r->cpu_quota, false);
	}
	if (cg_is_set(r->cpu_burst)) {
		w[n].file = "cpu.cfs_burst_us";
		snprintf(w[n++].val, sizeof(w[0].val), "%lld", (long long)r->cpu_burst);
	}
	if (cg_write_all(d, w, n, err) < 0)
		return -err->code;
	n = 0;
	if (cg_is_set(r->cpu_realtime_period)) {
		w[n].file = "cpu.rt_period_us";
		snprintf(w[n++].val, sizeof(w[0].val), "%lld", (long long)r->cpu_realtime_period);
	}
	if (cg_is_set(r->cpu_realtime_runtime)) {
		w[n].file = "cpu.rt_runtime_us";
		fmt_limit(w[n++].val, sizeof(w[0].val), r->cpu_realtime_runtime, false);
	}
	if (cg_write_all(d, w, n, err) < 0)
		return -err->code;
	if (r->has_cpu_idle) {
		if (!cg_file_exists(d, "cpu.idle"))
			return rt_err_set(err, ENOTSUP, "linux.resources.cpu.idle: this kernel's "
					  "cgroup v1 cpu controller has no cpu.idle");
		if (cg_writef(d, "cpu.idle", err, "%lld", (long long)r->cpu_idle) < 0)
			return -err->code;
	}
	return 0;
}

/* cpu.max is "$QUOTA $PERIOD"; a side not given keeps its current value. */
static void cpu_max_value(const char *d, const struct rt_resources *r, char *buf, size_t n)
{
	_cleanup_free_ char *cur = NULL;
	char quota[32] = "max";

	if (r->cpu_quota >= 0)
		snprintf(quota, sizeof(quota), "%lld", (long long)r->cpu_quota);
	else if (!cg_is_set(r->cpu_quota) && cg_read(d, "cpu.max", &cur) == 0 && *cur)
		snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " "), cur);
	if (r->cpu_period > 0)
		snprintf(buf, n, "%s %lld", quota, (long long)r->cpu_period);
	else
		snprintf(buf, n, "%s", quota);
}

static int cpu_v2(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_write_item w[2];
	size_t n = 0;

	if (r->cpu_shares > 0) {
		/* Map shares [2, 262144] onto weight [1, 10000] linearly. */
		long long s = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;

		if (cg_writef(d, "cpu.weight", err, "%lld", 1 + ((s - 2) * 9999) / 262142) < 0)
			return -err->code;
	}
	if (cg_is_set(r->cpu_quota) || r->cpu_period > 0) {
		w[n].file = "cpu.max";
		cpu_max_value(d, r, w[n++].val, sizeof(w[0].val));
	}
	if (cg_is_set(r->cpu_burst)) {
		w[n].file = "cpu.max.burst";
		snprintf(w[n++].val, sizeof(w[0].val), "%lld", (long long)r->cpu_burst);
	}
	if (cg_write_all(d, w, n, err) < 0)
		return -err->code;
	if (r->has_cpu_idle && cg_writef(d, "cpu.idle", err, "%lld", (long long)r->cpu_idle) < 0)
		return -err->code;
	return 0;
}

static int apply_cpu(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (r->cpu_shares <= 0 && !cg_is_set(r->cpu_quota) && r->cpu_period <= 0 &&
	    !cg_is_set(r->cpu_burst) && !cg_is_set(r->cpu_realtime_runtime) &&
	    !cg_is_set(r->cpu_realtime_period) && !r->has_cpu_idle)
		return 0;
	if (cg_need_ctrl(h, "cpu", "cpu", &d, err) < 0)
		return -err->code;
	return d->v2 ? cpu_v2(d->path, r, err) : cpu_v1(d->path, r, err);
}

static int apply_cpuset(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!(r->cpu_cpus && *r->cpu_cpus) && !(r->cpu_mems && *r->cpu_mems))
		return 0;
	if (cg_need_ctrl(h, "cpuset", "cpu.cpus", &d, err) < 0)
		return -err->code;
	if (r->cpu_cpus && *r->cpu_cpus && cg_write(d->path, "cpuset.cpus", r->cpu_cpus, err) < 0)
		return -err->code;
	if (r->cpu_mems && *r->cpu_mems && cg_write(d->path, "cpuset.mems", r->cpu_mems, err) < 0)
		return -err->code;
	return 0;
}

/* ------------------------------------------------------------------ pids */

static int apply_pids(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!r->has_pids_limit && r->pids_limit <= 0)
		return 0;
	if (cg_need_ctrl(h, "pids", "pids", &d, err) < 0)
		return -err->code;
	if (r->pids_limit <= 0)
		return cg_write(d->path, "pids.max", "max", err);
	return cg_writef(d->path, "pids.max", err, "%lld", (long long)r->pids_limit);
}

/* --------------------------------------------------------------- unified */

static int apply_unified(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d = cg_v2_dir(h);
	_cleanup_free_ char *ctrls = NULL;

	if (!r->n_unified)
		return 0;
	if (!d)
		return rt_err_set(err, ENOTSUP, "linux.resources.unified: requires cgroup v2");
	/* The controllers the parent enabled for this cgroup. */
	cg_read(d->path, "cgroup.controllers", &ctrls);
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key, *v = r->unified[i].value;
		char ctrl[64];

		snprintf(ctrl, sizeof(ctrl), "%.*s", (int)strcspn(k, "."), k);
		if (strcmp(ctrl, "cgroup") && ctrls && !has_word(ctrls, ctrl))
			return rt_err_set(err, ENOTSUP, "linux.resources.unified: key \"%s\": the %s "
					  "controller is not enabled for this cgroup", k, ctrl);
		if (!cg_file_exists(d->path, k))
			return rt_err_set(err, ENOENT, "linux.resources.unified: unknown key \"%s\" "
					  "(no such file in %s)", k, d->path);
		if (cg_write(d->path, k, v ? v : "", err) < 0)
			return rt_err_wrap(err, "linux.resources.unified");
	}
	return 0;
}

/* --------------------------------------------------------------- devices */

static void fmt_devnum(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(buf, n, "*");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

/* v1: start from deny-all so the list is the whole policy.  "a" cannot be
 * written while the cgroup has children, so skip it when the list is
 * already empty (= deny all, no exceptions). */
static int devices_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	_cleanup_free_ char *list = NULL;

	if ((cg_read(d, "devices.list", &list) < 0 || *list) &&
	    cg_write(d, "devices.deny", "a", err) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct rt_device_rule *x = &r->devices[i];
		char maj[24], min[24], rule[80];

		fmt_devnum(maj, sizeof(maj), x->major);
		fmt_devnum(min, sizeof(min), x->minor);
		snprintf(rule, sizeof(rule), "%c %s:%s %s", x->type, maj, min,
			 x->access && *x->access ? x->access : "rwm");
		if (cg_write(d, x->allow ? "devices.allow" : "devices.deny", rule, err) < 0)
			return rt_err_wrap(err, "linux.resources.devices[%zu]", i);
	}
	return 0;
}

static int apply_devices(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *v2 = cg_v2_dir(h);

	if (!r->n_devices)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (!h->dirs[i].v2 && has_token(h->dirs[i].ctrls, "devices"))
			return devices_v1(h->dirs[i].path, r, err);
	/* Every cgroup2 directory takes a device program, also in hybrid mode. */
	if (v2)
		return cg_devices_bpf_apply(v2->path, r->devices, r->n_devices, err);
	return rt_err_set(err, ENOTSUP, "linux.resources.devices: the devices cgroup controller "
			  "is not available");
}

int cg_apply(struct cg_handle *h, const struct rt_resources *res, struct rt_err *err)
{
	static const cg_step steps[] = {
		apply_cpuset, apply_memory, apply_cpu, apply_pids, cg_apply_blkio,
		cg_apply_hugetlb, cg_apply_network, cg_apply_rdma, apply_devices, apply_unified,
	};

	if (!res)
		return 0;
	if (check_all(h, res, err) < 0)
		return -err->code;
	for (size_t i = 0; i < RT_ARRAY_SIZE(steps); i++) {
		int r = steps[i](h, res, err);

		if (r < 0)
			return r;
	}
	return 0;
}
