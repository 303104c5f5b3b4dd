#include "config.h"
/* Cgroups: the resources of linux.resources written to the controller files,
 * v1 or v2 per controller (in hybrid mode a controller lives where it is
 * mounted).  Issue 4 adds the rest: hugetlb, rdma, throttles, v2 devices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

static struct cg_dir *v2_dir(struct cg_handle *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->dirs[i].v2)
			return &h->dirs[i];
	return NULL;
}

static int need_ctrl(struct cg_handle *h, const char *ctrl, const char *field,
		     struct cg_dir **out, struct rt_err *err)
{
	if (!(*out = cg_ctrl_dir(h, ctrl)))
		return rt_err_set(err, ENOTSUP, "linux.resources.%s: the %s cgroup controller is "
				  "not available", field, ctrl);
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

/* -1 is "not given"; any other negative value is "unlimited". */
static bool is_set(int64_t v) { return v != -1; }

static void fmt_limit(char *buf, size_t n, int64_t v, bool v2)
{
	if (v < 0)
		snprintf(buf, n, "%s", v2 ? "max" : "-1");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

/* v1 wants memsw >= limit at every moment: raising both needs memsw first,
 * lowering both needs the limit first.  Try one order, then the other. */
static int memory_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	char lim[32], sw[32];
	bool swap = is_set(r->mem_swap) && cg_file_exists(d, "memory.memsw.limit_in_bytes");

	fmt_limit(lim, sizeof(lim), r->mem_limit, false);
	fmt_limit(sw, sizeof(sw), r->mem_swap, false);
	if (swap && is_set(r->mem_limit) &&
	    cg_write(d, "memory.memsw.limit_in_bytes", sw, NULL) == 0)
		swap = false;
	if (is_set(r->mem_limit) && cg_write(d, "memory.limit_in_bytes", lim, err) < 0)
		return -err->code;
	if (swap && cg_write(d, "memory.memsw.limit_in_bytes", sw, err) < 0)
		return -err->code;
	if (is_set(r->mem_reservation)) {
		fmt_limit(lim, sizeof(lim), r->mem_reservation, false);
		return cg_write(d, "memory.soft_limit_in_bytes", lim, err);
	}
	return 0;
}

static int memory_v2(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	char buf[32];

	if (is_set(r->mem_limit)) {
		fmt_limit(buf, sizeof(buf), r->mem_limit, true);
		if (cg_write(d, "memory.max", buf, err) < 0)
			return -err->code;
	}
	if (is_set(r->mem_swap)) {
		/* OCI's swap is memory+swap; v2's swap.max is swap alone. */
		if (r->mem_swap < 0 || r->mem_limit < -1) {
			snprintf(buf, sizeof(buf), "max");
		} else if (r->mem_limit < 0) {
			return rt_err_set(err, EINVAL, "linux.resources.memory.swap: needs "
					  "memory.limit on cgroup v2");
		} else if (r->mem_swap < r->mem_limit) {
			return rt_err_set(err, EINVAL, "linux.resources.memory.swap (%lld) must be "
					  ">= memory.limit (%lld)", (long long)r->mem_swap,
					  (long long)r->mem_limit);
		} else {
			snprintf(buf, sizeof(buf), "%lld", (long long)(r->mem_swap - r->mem_limit));
		}
		if (cg_write(d, "memory.swap.max", buf, err) < 0)
			return -err->code;
	}
	if (is_set(r->mem_reservation)) {
		fmt_limit(buf, sizeof(buf), r->mem_reservation, true);
		return cg_write(d, "memory.low", buf, err);
	}
	return 0;
}

static int apply_memory(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!is_set(r->mem_limit) && !is_set(r->mem_reservation) && !is_set(r->mem_swap))
		return 0;
	if (need_ctrl(h, "memory", "memory", &d, err) < 0)
		return -err->code;
	return d->v2 ? memory_v2(d->path, r, err) : memory_v1(d->path, r, err);
}

static int cpu_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	if (r->cpu_shares > 0 && cg_writef(d, "cpu.shares", err, "%lld",
					   (long long)r->cpu_shares) < 0)
		return -err->code;
	if (r->cpu_period > 0 && cg_writef(d, "cpu.cfs_period_us", err, "%lld",
					   (long long)r->cpu_period) < 0)
		return -err->code;
	if (is_set(r->cpu_quota) && cg_writef(d, "cpu.cfs_quota_us", err, "%lld",
					      (long long)(r->cpu_quota < 0 ? -1 : r->cpu_quota)) < 0)
		return -err->code;
	return 0;
}

static int cpu_v2(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	long long period = r->cpu_period > 0 ? r->cpu_period : 100000;

	if (r->cpu_shares > 0) {
		/* Map shares [2, 262144] onto weight [1, 10000] linearly. */
		long long s = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;

		if (cg_writef(d, "cpu.weight", err, "%lld", 1 + ((s - 2) * 9999) / 262142) < 0)
			return -err->code;
	}
	if (r->cpu_quota >= 0) {
		if (cg_writef(d, "cpu.max", err, "%lld %lld", (long long)r->cpu_quota, period) < 0)
			return -err->code;
	} else if (is_set(r->cpu_quota) || r->cpu_period > 0) {
		if (cg_writef(d, "cpu.max", err, "max %lld", period) < 0)
			return -err->code;
	}
	return 0;
}

static int apply_cpu(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (r->cpu_shares <= 0 && !is_set(r->cpu_quota) && r->cpu_period <= 0)
		return 0;
	if (need_ctrl(h, "cpu", "cpu", &d, err) < 0)
		return -err->code;
	return d->v2 ? cpu_v2(d->path, r, err) : cpu_v1(d->path, r, err);
}

static int apply_cpuset(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!(r->cpu_cpus && *r->cpu_cpus) && !(r->cpu_mems && *r->cpu_mems))
		return 0;
	if (need_ctrl(h, "cpuset", "cpu.cpus", &d, err) < 0)
		return -err->code;
	if (r->cpu_cpus && *r->cpu_cpus && cg_write(d->path, "cpuset.cpus", r->cpu_cpus, err) < 0)
		return -err->code;
	if (r->cpu_mems && *r->cpu_mems && cg_write(d->path, "cpuset.mems", r->cpu_mems, err) < 0)
		return -err->code;
	return 0;
}

static int apply_pids(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!r->has_pids_limit && r->pids_limit <= 0)
		return 0;
	if (need_ctrl(h, "pids", "pids", &d, err) < 0)
		return -err->code;
	if (r->pids_limit <= 0)
		return cg_write(d->path, "pids.max", "max", err);
	return cg_writef(d->path, "pids.max", err, "%lld", (long long)r->pids_limit);
}

static int apply_blkio(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (r->blkio_weight <= 0)
		return 0;
	if (!(d = cg_ctrl_dir(h, "blkio")) && need_ctrl(h, "io", "blockIO", &d, err) < 0)
		return -err->code;
	if (d->v2) {
		long long w = r->blkio_weight < 10 ? 10 : r->blkio_weight > 1000 ? 1000
										 : r->blkio_weight;

		return cg_writef(d->path, "io.weight", err, "default %lld",
				 1 + (w - 10) * 9999 / 990);
	}
	/* Kernels without CFQ have no blkio.weight; BFQ has its own file. */
	if (cg_file_exists(d->path, "blkio.weight"))
		return cg_writef(d->path, "blkio.weight", err, "%lld", (long long)r->blkio_weight);
	if (cg_file_exists(d->path, "blkio.bfq.weight"))
		return cg_writef(d->path, "blkio.bfq.weight", err, "%lld",
				 (long long)r->blkio_weight);
	return 0;
}

static int apply_unified(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d = v2_dir(h);

	if (!r->n_unified)
		return 0;
	if (!d)
		return rt_err_set(err, ENOTSUP, "linux.resources.unified: requires cgroup v2");
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key, *v = r->unified[i].value;

		/* Keys are file names in the cgroup dir: nothing that walks elsewhere. */
		if (!k || !*k || k[0] == '.' || strchr(k, '/'))
			return rt_err_set(err, EINVAL, "linux.resources.unified: invalid key \"%s\"",
					  k ? k : "");
		if (cg_write(d->path, k, v ? v : "", err) < 0)
			return rt_err_wrap(err, "linux.resources.unified");
	}
	return 0;
}

static void fmt_devnum(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(buf, n, "*");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

/* v1 device rules: start from deny-all so the list is the whole policy.
 * v2 needs an eBPF program (not done here). */
static int apply_devices(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d = NULL;

	if (!r->n_devices)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (!h->dirs[i].v2 && has_token(h->dirs[i].ctrls, "devices"))
			d = &h->dirs[i];
	if (!d)
		return 0;
	if (cg_write(d->path, "devices.deny", "a", err) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct rt_device_rule *x = &r->devices[i];
		char maj[24], min[24], rule[80];
		char type = x->type == 'c' || x->type == 'b' ? x->type : 'a';

		fmt_devnum(maj, sizeof(maj), x->major);
		fmt_devnum(min, sizeof(min), x->minor);
		snprintf(rule, sizeof(rule), "%c %s:%s %s", type, maj, min,
			 x->access && *x->access ? x->access : "rwm");
		if (cg_write(d->path, x->allow ? "devices.allow" : "devices.deny", rule, err) < 0)
			return -err->code;
	}
	return 0;
}

int cg_apply(struct cg_handle *h, const struct rt_resources *res, struct rt_err *err)
{
	int (*const steps[])(struct cg_handle *, const struct rt_resources *, struct rt_err *) = {
		apply_cpuset, apply_memory, apply_cpu, apply_pids, apply_blkio,
		apply_devices, apply_unified,
	};

	if (!res)
		return 0;
	for (size_t i = 0; i < RT_ARRAY_SIZE(steps); i++) {
		int r = steps[i](h, res, err);

		if (r < 0)
			return r;
	}
	return 0;
}

