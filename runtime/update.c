#include "config.h"
/* `update` and `events`: change the resources of a live container and
 * watch its cgroup.  update validates the whole request, works out the new
 * saved config, and only then writes the cgroup files; the saved
 * config.json in the state dir is rewritten so that a later update (and
 * anything else reading the saved config) sees the effective limits. */
#include "runtime/container.h"
#include "runtime/cleanup.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "cgroups/cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX (16u << 20)

/* ---- value parsers for the command line ---- */

/* As runc's flags (docker's RAMInBytes): "1024", "10k", "64m", "1.5g",
 * "2GiB", "10 MB"; binary multiples; "-1" means unlimited. */
int rt_parse_mem_size(const char *s, int64_t *out)
{
	static const char units[] = "kmgtp";
	char *end;
	double v, mul = 1;
	const char *u;

	if (!strcmp(s, "-1")) {
		*out = RT_RES_UNLIMITED;
		return 0;
	}
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == ' ')
		end++;
	if (*end && (u = strchr(units, tolower((unsigned char)*end)))) {
		for (long i = 0; i <= u - units; i++)
			mul *= 1024;
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || !isfinite(v * mul) || v * mul >= 9.2e18)
		return -EINVAL;
	*out = (int64_t)(v * mul);
	return 0;
}

/* Go durations as `events --interval` takes them: "5s", "100ms", "1m30s",
 * "1.5s"; a bare number is seconds.  Must be positive. */
int rt_parse_duration_ms(const char *s, long long *out)
{
	static const struct { const char *u; double ms; } units[] = {
		{ "ms", 1 }, { "us", 1e-3 }, { "ns", 1e-6 }, { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 },
	};
	double total = 0;
	const char *p = s;

	while (*p) {
		char *end;
		double v;
		size_t i;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		v = strtod(p, &end);
		if (end == p)
			return -EINVAL;
		if (!*end && p == s) {
			total = v * 1000;
			break;
		}
		for (i = 0; i < RT_ARRAY_SIZE(units); i++)
			if (!strncmp(end, units[i].u, strlen(units[i].u)))
				break;
		if (i == RT_ARRAY_SIZE(units))
			return -EINVAL;
		total += v * units[i].ms;
		p = end + strlen(units[i].u);
	}
	if (!*s || !(total >= 1) || total > 1e12)
		return -EINVAL;
	*out = (long long)total;
	return 0;
}

/* ---- merge and check ---- */

static void merge_i64(int64_t *dst, int64_t src)
{
	if (src != -1)
		*dst = src;
}

static void merge_lists(struct rt_resources *d, const struct rt_resources *s)
{
#define TAKE(f) do { if (s->n_##f) { d->f = s->f; d->n_##f = s->n_##f; } } while (0)
	TAKE(blkio_weight_device);
	TAKE(blkio_throttle_read_bps);
	TAKE(blkio_throttle_write_bps);
	TAKE(blkio_throttle_read_iops);
	TAKE(blkio_throttle_write_iops);
	TAKE(hugepage_limits);
	TAKE(net_priorities);
	TAKE(rdma);
	TAKE(unified);
	TAKE(devices);
#undef TAKE
}

void rt_resources_merge(struct rt_resources *d, const struct rt_resources *s)
{
	d->present = d->present || s->present;
	merge_i64(&d->mem_limit, s->mem_limit);
	merge_i64(&d->mem_reservation, s->mem_reservation);
	merge_i64(&d->mem_swap, s->mem_swap);
	merge_i64(&d->mem_kernel, s->mem_kernel);
	merge_i64(&d->mem_kernel_tcp, s->mem_kernel_tcp);
	merge_i64(&d->mem_swappiness, s->mem_swappiness);
#define FLAG(f) do { if (s->has_##f) { d->has_##f = true; d->f = s->f; } } while (0)
	FLAG(disable_oom_killer);
	FLAG(use_hierarchy);
	FLAG(check_before_update);
	FLAG(cpu_idle);
	FLAG(net_class_id);
#undef FLAG
	merge_i64(&d->cpu_shares, s->cpu_shares);
	merge_i64(&d->cpu_quota, s->cpu_quota);
	merge_i64(&d->cpu_burst, s->cpu_burst);
	merge_i64(&d->cpu_realtime_runtime, s->cpu_realtime_runtime);
	merge_i64(&d->cpu_period, s->cpu_period);
	merge_i64(&d->cpu_realtime_period, s->cpu_realtime_period);
	if (s->cpu_cpus)
		d->cpu_cpus = s->cpu_cpus;
	if (s->cpu_mems)
		d->cpu_mems = s->cpu_mems;
	if (s->has_pids_limit || s->pids_limit != -1) {
		d->pids_limit = s->pids_limit;
		d->has_pids_limit = true;
	}
	merge_i64(&d->blkio_weight, s->blkio_weight);
	merge_i64(&d->blkio_leaf_weight, s->blkio_leaf_weight);
	merge_lists(d, s);
}

/* "0-3,7": ascending ranges of numbers. */
static bool cpu_list_ok(const char *s)
{
	const char *p = s;

	if (!*s)
		return true;
	for (;;) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;

		if (!isdigit((unsigned char)*p))
			return false;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return false;
			b = strtoul(p + 1, &end, 10);
			if (b < a)
				return false;
			p = end;
		}
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static bool limit_ok(int64_t v)
{
	return v >= -1 || v == RT_RES_UNLIMITED;
}

static int check_memory(const struct rt_resources *r, const struct rt_resources *eff,
			struct rt_err *err)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "memory.limit", offsetof(struct rt_resources, mem_limit) },
		{ "memory.reservation", offsetof(struct rt_resources, mem_reservation) },
		{ "memory.swap", offsetof(struct rt_resources, mem_swap) },
		{ "memory.kernel", offsetof(struct rt_resources, mem_kernel) },
		{ "memory.kernelTCP", offsetof(struct rt_resources, mem_kernel_tcp) },
	};

	for (size_t i = 0; i < RT_ARRAY_SIZE(f); i++) {
		int64_t v = *(const int64_t *)((const char *)r + f[i].off);

		if (!limit_ok(v))
			return rt_err_set(err, EINVAL, "%s: %lld is not a size or -1", f[i].name,
					  (long long)v);
	}
	if (r->mem_swappiness > 100)
		return rt_err_set(err, EINVAL, "memory.swappiness: %lld is out of range (0-100)",
				  (long long)r->mem_swappiness);
	/* OCI's swap is memory+swap: never below the memory limit. */
	if ((r->mem_limit != -1 || r->mem_swap != -1) && eff->mem_limit >= 0 &&
	    eff->mem_swap >= 0 && eff->mem_swap < eff->mem_limit)
		return rt_err_set(err, EINVAL, "memory.swap (%lld) must be >= memory.limit (%lld): "
				  "update both at once", (long long)eff->mem_swap,
				  (long long)eff->mem_limit);
	return 0;
}

static int check_cpu(const struct rt_resources *r, const struct rt_resources *eff,
		     struct rt_err *err)
{
	if (r->cpu_period != -1 && (r->cpu_period < 1000 || r->cpu_period > 1000000))
		return rt_err_set(err, EINVAL, "cpu.period: %lld is out of range (1000-1000000 us)",
				  (long long)r->cpu_period);
	if (r->cpu_quota != -1 && r->cpu_quota != RT_RES_UNLIMITED && r->cpu_quota < 1000)
		return rt_err_set(err, EINVAL, "cpu.quota: %lld is below the minimum of 1000 us "
				  "(or -1 for unlimited)", (long long)r->cpu_quota);
	if (r->cpu_shares != -1 && (r->cpu_shares < 2 || r->cpu_shares > 262144))
		return rt_err_set(err, EINVAL, "cpu.shares: %lld is out of range (2-262144)",
				  (long long)r->cpu_shares);
	if (r->cpu_realtime_runtime < -1)
		return rt_err_set(err, EINVAL, "cpu.realtimeRuntime: %lld is not valid",
				  (long long)r->cpu_realtime_runtime);
	if ((r->cpu_realtime_runtime != -1 || r->cpu_realtime_period != -1) &&
	    eff->cpu_realtime_period > 0 && eff->cpu_realtime_runtime > eff->cpu_realtime_period)
		return rt_err_set(err, EINVAL, "cpu.realtimeRuntime (%lld) must not exceed "
				  "cpu.realtimePeriod (%lld)", (long long)eff->cpu_realtime_runtime,
				  (long long)eff->cpu_realtime_period);
	if (r->cpu_cpus && !cpu_list_ok(r->cpu_cpus))
		return rt_err_set(err, EINVAL, "cpu.cpus: \"%s\" is not a cpu list like 0-3,7",
				  r->cpu_cpus);
	if (r->cpu_mems && !cpu_list_ok(r->cpu_mems))
		return rt_err_set(err, EINVAL, "cpu.mems: \"%s\" is not a node list like 0-1",
				  r->cpu_mems);
	return 0;
}

/* What the kernel would refuse half way through, refused before anything
 * is written.  eff is the resources after the update. */
int rt_resources_check(const struct rt_resources *r, const struct rt_resources *eff,
		       struct rt_err *err)
{
	if (check_memory(r, eff, err) < 0 || check_cpu(r, eff, err) < 0)
		return -err->code;
	if (r->blkio_weight != -1 && r->blkio_weight != 0 &&
	    (r->blkio_weight < 10 || r->blkio_weight > 1000))
		return rt_err_set(err, EINVAL, "blockIO.weight: %lld is out of range (10-1000)",
				  (long long)r->blkio_weight);
	return 0;
}

/* ---- the verb ---- */

struct upd_ct {
	int dirfd;
	struct rt_state st;
	const char *status;
};

static void upd_ct_clear(struct upd_ct *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	rt_state_clear(&c->st);
}

static int open_locked(const char *root, const char *id, struct upd_ct *c, struct rt_err *err)
{
	c->dirfd = -1;
	memset(&c->st, 0, sizeof(c->st));
	if (rt_validate_id(id, err) < 0)
		return -err->code;
	if ((c->dirfd = rt_state_open_dir(root, id, err)) < 0)
		return c->dirfd;
	if (rt_state_lock(c->dirfd, err) < 0 || rt_state_read(root, id, &c->st, err) < 0)
		return -err->code;
	c->status = rt_state_status(root, &c->st);
	return 0;
}

static bool is_live(const char *status)
{
	return !strcmp(status, "created") || !strcmp(status, "running") ||
	       !strcmp(status, "paused");
}

/* The part of the request cg_apply gets: what was asked, plus the values
 * a controller needs alongside (v2 swap.max is computed from the memory
 * limit, cpu.max holds quota and period together). */
static struct rt_resources apply_set(const struct rt_resources *r, const struct rt_resources *eff)
{
	struct rt_resources a = *r;

	if (a.mem_swap != -1 && a.mem_limit == -1)
		a.mem_limit = eff->mem_limit;
	if (a.cpu_quota != -1 || a.cpu_period != -1) {
		a.cpu_quota = eff->cpu_quota;
		a.cpu_period = eff->cpu_period;
	}
	if (a.cpu_realtime_runtime != -1 || a.cpu_realtime_period != -1) {
		a.cpu_realtime_runtime = eff->cpu_realtime_runtime;
		a.cpu_realtime_period = eff->cpu_realtime_period;
	}
	return a;
}

/* Everything that can fail without touching the host: the merged
 * resources and the new config.json text. */
static int plan_update(const char *root, const char *id, const struct rt_resources *res,
		       struct rt_spec **old, struct rt_resources *eff, char **config,
		       struct rt_err *err)
{
	_cleanup_free_ char *path = rt_state_path(root, id, "config.json");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (!path)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (rt_read_file(path, CONFIG_MAX, &text, &len, err) < 0 ||
	    rt_spec_parse(text, len, old, err) < 0)
		return rt_err_wrap(err, "saved config");
	*eff = (*old)->linux_.resources;
	rt_resources_merge(eff, res);
	if (rt_resources_check(res, eff, err) < 0)
		return -err->code;
	*config = rt_config_set_resources(text, len, eff, err);
	return *config ? 0 : -err->code;
}

int rt_container_update(const char *root, const char *id, const struct rt_resources *res,
			struct rt_err *err)
{
	__attribute__((cleanup(upd_ct_clear))) struct upd_ct c;
	_cleanup_spec_ struct rt_spec *old = NULL;
	_cleanup_free_ char *config = NULL, *path = NULL;
	struct rt_resources eff, a;
	struct cg_handle *cg = NULL;
	struct rt_err ign = {0};
	int r;

	if (open_locked(root, id, &c, err) < 0)
		return -err->code;
	if (!is_live(c.status))
		return rt_err_set(err, EINVAL, "container not running");
	if (plan_update(root, id, res, &old, &eff, &config, err) < 0)
		return -err->code;
	if (!c.st.cgroup_path)
		return rt_err_set(err, ENOTSUP, "container \"%s\" has no cgroup to update", id);
	if (!(path = rt_state_path(root, id, "config.json")))
		return rt_err_set(err, ENOMEM, "out of memory");
	if (cg_open(c.st.cgroup_path, &cg, err) < 0)
		return -err->code;
	a = apply_set(res, &eff);
	r = cg_apply(cg, &a, err);
	if (r == 0 && (r = rt_write_file_atomic(path, config, strlen(config), 0600, err)) < 0)
		rt_err_wrap(err, "save config");
	/* The kernel refused something the checks could not foresee (a limit
	 * below current usage): put back what was there before. */
	if (r < 0)
		cg_apply(cg, &old->linux_.resources, &ign);
	cg_handle_free(cg);
	return r < 0 ? -err->code : 0;
}

/* ---- events ---- */

static int open_cgroup(const char *root, const char *id, struct rt_state *st,
		       struct cg_handle **cg, struct rt_err *err)
{
	__attribute__((cleanup(upd_ct_clear))) struct upd_ct c;

	if (open_locked(root, id, &c, err) < 0)
		return -err->code;
	if (!is_live(c.status))
		return rt_err_set(err, EINVAL, "container not running");
	if (!c.st.cgroup_path)
		return rt_err_set(err, ENOTSUP, "container \"%s\" has no cgroup", id);
	if (cg_open(c.st.cgroup_path, cg, err) < 0)
		return -err->code;
	/* Hand the state over; the lock goes with c. */
	*st = c.st;
	memset(&c.st, 0, sizeof(c.st));
	return 0;
}

static int emit_stats(struct cg_handle *cg, const char *id,
		      int (*emit)(const char *, void *), void *data, struct rt_err *err)
{
	struct cg_stats s;
	_cleanup_free_ char *json = NULL;

	if (cg_stats(cg, &s, err) < 0)
		return -err->code;
	json = rt_event_json("stats", id, &s);
	cg_stats_clear(&s);
	if (!json)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (emit(json, data) < 0)
		return rt_err_sys(err, errno, "write stats");
	return 0;
}

static int emit_ooms(struct cg_handle *cg, struct cg_oom *w, const char *id,
		     int (*emit)(const char *, void *), void *data, struct rt_err *err)
{
	for (uint64_t n = cg_oom_drain(cg, w); n; n--) {
		_cleanup_free_ char *json = rt_event_json("oom", id, NULL);

		if (!json)
			return rt_err_set(err, ENOMEM, "out of memory");
		if (emit(json, data) < 0)
			return rt_err_sys(err, errno, "write event");
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Poll the workload's pidfd and the OOM fd, a stats line every interval,
 * until the init process is gone. */
static int event_loop(struct cg_handle *cg, const struct rt_state *st, long long interval_ms,
		      int (*emit)(const char *, void *), void *data, struct rt_err *err)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	struct cg_oom w = { .fd = -1 };
	struct rt_err ign = {0};
	long long next = now_ms() + interval_ms;
	int r = 0;

	if (pidfd < 0)
		return 0;  /* already gone */
	if (cg_oom_watch(cg, &w, &ign) < 0)
		w.fd = -1;
	for (;;) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN },
				       { .fd = w.fd, .events = POLLIN } };
		long long wait = next - now_ms();
		int n = poll(p, w.fd >= 0 ? 2 : 1, wait < 0 ? 0 : (int)wait);

		if (n < 0 && errno != EINTR) {
			r = rt_err_sys(err, errno, "poll");
			break;
		}
		if ((r = emit_ooms(cg, &w, st->id, emit, data, err)) < 0)
			break;
		if (n > 0 && p[0].revents) {
			/* The kill is counted a moment after the notification. */
			usleep(50000);
			r = emit_ooms(cg, &w, st->id, emit, data, err);
			break;
		}
		if (now_ms() >= next) {
			next += interval_ms;
			if ((r = emit_stats(cg, st->id, emit, data, err)) < 0)
				break;
		}
	}
	if (w.fd >= 0)
		close(w.fd);
	/* The cgroup vanishing under us is the container going away. */
	return r < 0 && err->code == ENOENT ? (rt_err_clear(err), 0) : r;
}

int rt_container_events(const char *root, const char *id, bool stats_only, long long interval_ms,
			int (*emit)(const char *json, void *data), void *data, struct rt_err *err)
{
	struct rt_state st = {0};
	struct cg_handle *cg = NULL;
	int r;

	if (open_cgroup(root, id, &st, &cg, err) < 0)
		return -err->code;
	if (stats_only) {
		r = emit_stats(cg, id, emit, data, err);
	} else {
		r = event_loop(cg, &st, interval_ms, emit, data, err);
	}
	cg_handle_free(cg);
	rt_state_clear(&st);
	return r;
}
