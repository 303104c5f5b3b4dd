/* update: runc's flags and --resources (a LinuxResources document from a
 * file or stdin); flags override the document. */
#include "config.h"
#include "cmd/cmd.h"
#include "cgroups/cgroup.h"
#include "runtime/arena.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESOURCES_MAX (1u << 20)

enum {
	O_RESOURCES = 'r', O_BLKIO = 256, O_CPU_PERIOD, O_CPU_QUOTA, O_CPU_SHARE, O_RT_PERIOD,
	O_RT_RUNTIME, O_CPUS, O_MEMS, O_MEMORY, O_MEM_RES, O_MEM_SWAP, O_KMEM, O_KMEM_TCP,
	O_PIDS, O_L3, O_MEMBW,
};

static const struct option update_opts[] = {
	{ "resources", required_argument, NULL, O_RESOURCES },
	{ "blkio-weight", required_argument, NULL, O_BLKIO },
	{ "cpu-period", required_argument, NULL, O_CPU_PERIOD },
	{ "cpu-quota", required_argument, NULL, O_CPU_QUOTA },
	{ "cpu-share", required_argument, NULL, O_CPU_SHARE },
	{ "cpu-rt-period", required_argument, NULL, O_RT_PERIOD },
	{ "cpu-rt-runtime", required_argument, NULL, O_RT_RUNTIME },
	{ "cpuset-cpus", required_argument, NULL, O_CPUS },
	{ "cpuset-mems", required_argument, NULL, O_MEMS },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "memory-reservation", required_argument, NULL, O_MEM_RES },
	{ "memory-swap", required_argument, NULL, O_MEM_SWAP },
	{ "kernel-memory", required_argument, NULL, O_KMEM },
	{ "kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP },
	{ "pids-limit", required_argument, NULL, O_PIDS },
	{ "l3-cache-schema", required_argument, NULL, O_L3 },
	{ "mem-bw-schema", required_argument, NULL, O_MEMBW },
	{ NULL, 0, NULL, 0 },
};

static int parse_int(const char *s, long long min, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Where each integer flag goes, and its smallest accepted value. */
static int64_t *int_field(struct rt_resources *r, int opt, long long *min)
{
	*min = 0;
	switch (opt) {
	case O_BLKIO: return &r->blkio_weight;
	case O_CPU_PERIOD: return &r->cpu_period;
	case O_CPU_SHARE: return &r->cpu_shares;
	case O_RT_PERIOD: return &r->cpu_realtime_period;
	case O_RT_RUNTIME: *min = -1; return &r->cpu_realtime_runtime;
	case O_CPU_QUOTA: *min = -1; return &r->cpu_quota;
	case O_PIDS: *min = -1; return &r->pids_limit;
	default: return NULL;
	}
}

static int64_t *size_field(struct rt_resources *r, int opt)
{
	switch (opt) {
	case O_MEMORY: return &r->mem_limit;
	case O_MEM_RES: return &r->mem_reservation;
	case O_MEM_SWAP: return &r->mem_swap;
	case O_KMEM: return &r->mem_kernel;
	case O_KMEM_TCP: return &r->mem_kernel_tcp;
	default: return NULL;
	}
}

static int one_flag(int c, const char *arg, struct rt_resources *fl, struct rt_err *err)
{
	const char *name = NULL;
	int64_t *f;
	long long min;

	for (size_t i = 0; update_opts[i].name; i++)
		if (update_opts[i].val == c)
			name = update_opts[i].name;
	if (c == O_L3 || c == O_MEMBW)
		return rt_err_set(err, ENOTSUP, "update: --%s: Intel RDT is not supported", name), -1;
	if (c == O_CPUS || c == O_MEMS) {
		*(c == O_CPUS ? &fl->cpu_cpus : &fl->cpu_mems) = arg;
		return 0;
	}
	if ((f = size_field(fl, c))) {
		if (rt_parse_mem_size(arg, f) < 0)
			return cmd_usage_error(err, "update", "--%s %s: not a size like 512m or -1",
					       name, arg);
		return 0;
	}
	if (!(f = int_field(fl, c, &min)))
		return cmd_usage_error(err, "update", "bad option");
	if (parse_int(arg, min, f) < 0)
		return cmd_usage_error(err, "update", "--%s %s: not a%s integer", name, arg,
				       min < 0 ? "n" : " non-negative");
	/* -1 is "unlimited" here, which the typed spec spells apart from "unset". */
	if (c == O_CPU_QUOTA && *f == -1)
		*f = RT_RES_UNLIMITED;
	if (c == O_PIDS)
		fl->has_pids_limit = true;
	return 0;
}

static int read_resources(const char *file, struct rt_arena *a, struct rt_resources *out,
			  struct rt_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (!strcmp(file, "-")) {
		size_t cap = 0;
		ssize_t n;

		do {
			if (cap - len < 4096) {
				char *nb = cap >= RESOURCES_MAX ? NULL : realloc(buf, cap += 65536);

				if (!nb)
					return rt_err_set(err, EFBIG, "--resources -: too large");
				buf = nb;
			}
			n = read(STDIN_FILENO, buf + len, cap - len);
			if (n > 0)
				len += (size_t)n;
		} while (n > 0 || (n < 0 && errno == EINTR));
		if (n < 0)
			return rt_err_sys(err, errno, "--resources -: read");
	} else if (rt_read_file(file, RESOURCES_MAX, &buf, &len, err) < 0) {
		return rt_err_wrap(err, "--resources");
	}
	if (rt_resources_parse(buf ? buf : "", len, a, out, err) < 0)
		return rt_err_wrap(err, "--resources %s", file);
	return 0;
}

int cmd_update(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	_cleanup_arena_ struct rt_arena *a = rt_arena_new();
	struct rt_resources res, fl;
	const char *file = NULL;
	int c;

	cg_resources_init(&res);
	cg_resources_init(&fl);
	while ((c = getopt_long_only(argc, argv, "+r:", update_opts, NULL)) != -1) {
		if (c == O_RESOURCES)
			file = optarg;
		else if (c == '?' || c == ':')
			return cmd_usage_error(err, "update", "bad option");
		else if (one_flag(c, optarg, &fl, err) < 0)
			return -1;
	}
	if (optind != argc - 1)
		return cmd_usage_error(err, "update", "expected exactly one container id");
	if (file && read_resources(file, a, &res, err) < 0)
		return -1;
	rt_resources_merge(&res, &fl);
	return rt_container_update(g->root, argv[optind], &res, err) < 0 ? -1 : 0;
}
