/* hull jail [flags] -- CMD ARGS: one service, jailed, in the foreground. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/jail.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { O_ROOTFS = 256, O_ROHOST, O_TMPFS, O_BIND, O_NET, O_MEMORY, O_CPUS, O_PIDS, O_UID,
       O_SECCOMP, O_CAPADD, O_CAPDROP, O_CWD, O_HOSTNAME, O_LIBDIR };

static int add(char ***v, size_t *n, char *arg, struct rt_err *err)
{
	if (cmd_strv_push(v, n, arg) < 0)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	return 0;
}

/* --bind SRC:DST[:ro|rw] for hull jail and hull ct: arg is split in place. */
int cmd_parse_bind(const char *verb, char *arg, struct rt_jail_bind **binds, size_t *n,
		   struct rt_err *err)
{
	struct rt_jail_bind *nb;
	char *dst = strchr(arg, ':'), *mode;

	if (!dst)
		return cmd_usage_error(err, verb, "--bind %s: expected SRC:DST[:ro]", arg);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") && strcmp(mode, "rw"))
			return cmd_usage_error(err, verb, "--bind ...:%s: expected ro or rw", mode);
	}
	nb = realloc(*binds, (*n + 1) * sizeof(*nb));
	if (!nb)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	*binds = nb;
	nb[(*n)++] = (struct rt_jail_bind){ arg, dst, mode && !strcmp(mode, "ro") };
	return 0;
}

static int parse_uid(const char *arg, struct rt_jail_opts *o, struct rt_err *err)
{
	char *end;
	unsigned long u = strtoul(arg, &end, 10), g = u;

	if (end == arg || (*end && *end != ':'))
		return cmd_usage_error(err, "jail", "--uid %s: expected UID[:GID]", arg);
	if (*end == ':') {
		const char *gs = end + 1;
		g = strtoul(gs, &end, 10);
		if (end == gs || *end)
			return cmd_usage_error(err, "jail", "--uid %s: expected UID[:GID]", arg);
	}
	if (u > 0xfffffffeUL || g > 0xfffffffeUL)
		return cmd_usage_error(err, "jail", "--uid %s: out of range", arg);
	o->has_uid = true;
	o->uid = (uid_t)u;
	o->gid = (gid_t)g;
	return 0;
}

static int parse_flag(int c, char *arg, struct rt_jail_opts *o, struct rt_err *err)
{
	switch (c) {
	case O_ROOTFS: o->rootfs = arg; return 0;
	case O_ROHOST: o->ro_host = true; return 0;
	case O_TMPFS: return add(&o->tmpfs, &o->n_tmpfs, arg, err);
	case O_BIND: return cmd_parse_bind("jail", arg, &o->binds, &o->n_binds, err);
	case O_NET: o->net = arg; return 0;
	case O_MEMORY:
		if ((o->memory = rt_jail_parse_size(arg)) <= 0)
			return cmd_usage_error(err, "jail", "--memory %s: expected a size like 512m", arg);
		return 0;
	case O_CPUS: {
		char *end;
		double v = strtod(arg, &end);
		if (end == arg || *end || v <= 0 || v > 4096)
			return cmd_usage_error(err, "jail", "--cpus %s: expected a number of CPUs", arg);
		o->cpu_quota = (int64_t)(v * 100000);
		return 0;
	}
	case O_PIDS: {
		char *end;
		long v = strtol(arg, &end, 10);
		if (end == arg || *end || v <= 0)
			return cmd_usage_error(err, "jail", "--pids %s: expected a positive count", arg);
		o->pids = v;
		return 0;
	}
	case O_UID: return parse_uid(arg, o, err);
	case O_SECCOMP: o->seccomp = arg; return 0;
	case O_CAPADD: return add(&o->cap_add, &o->n_cap_add, arg, err);
	case O_CAPDROP: return add(&o->cap_drop, &o->n_cap_drop, arg, err);
	case O_CWD: o->cwd = arg; return 0;
	case O_HOSTNAME: o->hostname = arg; return 0;
	case O_LIBDIR: o->lib_dir = arg; return 0;
	}
	return -1;
}

int cmd_jail(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "rootfs", required_argument, NULL, O_ROOTFS },
		{ "ro-host", no_argument, NULL, O_ROHOST },
		{ "tmpfs", required_argument, NULL, O_TMPFS },
		{ "bind", required_argument, NULL, O_BIND },
		{ "net", required_argument, NULL, O_NET },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "pids", required_argument, NULL, O_PIDS },
		{ "uid", required_argument, NULL, O_UID },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "cap-add", required_argument, NULL, O_CAPADD },
		{ "cap-drop", required_argument, NULL, O_CAPDROP },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "lib-dir", required_argument, NULL, O_LIBDIR },
		{ NULL, 0, NULL, 0 },
	};
	struct rt_jail_opts o = { .net = "none", .memory = -1, .cpu_quota = -1, .pids = -1,
				  .cpu_shares = -1 };
	int c, status = 0, rc = -1;

	while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			cmd_usage_error(err, "jail", "%s", cmd_bad_option(argv));
			goto out;
		}
		if (parse_flag(c, optarg, &o, err) < 0)
			goto out;
	}
	o.args = argv + optind;
	if (rt_jail_run(g->root, &o, &status, err) == 0)
		rc = status;
out:
	free(o.tmpfs);
	free(o.binds);
	free(o.cap_add);
	free(o.cap_drop);
	return rc;
}
