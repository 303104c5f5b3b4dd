/* hull ct [--lib-dir DIR] VERB ...: OpenVZ-style system containers. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/ct.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_ROOTFS = 256, O_IMAGE, O_HOSTNAME, O_IP, O_MEMORY, O_CPUS, O_CPUW, O_PIDS, O_BIND,
       O_VM, O_TIMEOUT, O_FORCE, O_JSON, O_LIBDIR };

static const struct option ct_opts[] = {
	{ "rootfs", required_argument, NULL, O_ROOTFS },
	{ "image", required_argument, NULL, O_IMAGE },
	{ "hostname", required_argument, NULL, O_HOSTNAME },
	{ "ip", required_argument, NULL, O_IP },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "cpu-weight", required_argument, NULL, O_CPUW },
	{ "pids", required_argument, NULL, O_PIDS },
	{ "bind", required_argument, NULL, O_BIND },
	{ "vm", no_argument, NULL, O_VM },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "force", no_argument, NULL, O_FORCE },
	{ "json", no_argument, NULL, O_JSON },
	{ "lib-dir", required_argument, NULL, O_LIBDIR },
	{ NULL, 0, NULL, 0 },
};

struct ct_args {
	struct rt_ct_create_opts c;
	int timeout_s;
	bool force, json;
	const char *lib_dir;
	unsigned seen;               /* bit per option, to refuse misplaced ones */
};

static int parse_num(const char *opt, const char *arg, double max, double *out, struct rt_err *err)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || v <= 0 || v > max)
		return cmd_usage_error(err, "ct", "--%s %s: expected a positive number up to %.0f",
				       opt, arg, max);
	*out = v;
	return 0;
}

static int one_opt(int c, char *arg, struct ct_args *a, struct rt_err *err)
{
	double v;

	a->seen |= 1u << (c - O_ROOTFS);
	switch (c) {
	case O_ROOTFS: a->c.rootfs = arg; return 0;
	case O_IMAGE: a->c.image = arg; return 0;
	case O_HOSTNAME: a->c.hostname = arg; return 0;
	case O_IP: a->c.ip = arg; return 0;
	case O_MEMORY:
		if ((a->c.memory = rt_jail_parse_size(arg)) <= 0)
			return cmd_usage_error(err, "ct", "--memory %s: expected a size like 512m", arg);
		return 0;
	case O_CPUS:
		if (parse_num("cpus", arg, 4096, &v, err) < 0)
			return -1;
		a->c.cpu_quota = (int64_t)(v * 100000);
		return 0;
	case O_CPUW:
		if (parse_num("cpu-weight", arg, 10000, &v, err) < 0 || v != (int64_t)v)
			return err->code ? -1 : cmd_usage_error(err, "ct", "--cpu-weight %s: "
								"expected 1 to 10000", arg);
		a->c.cpu_weight = (int64_t)v;
		return 0;
	case O_PIDS:
		if (parse_num("pids", arg, 4194304, &v, err) < 0)
			return -1;
		a->c.pids = (int64_t)v;
		return 0;
	case O_BIND: return cmd_parse_bind("ct", arg, &a->c.binds, &a->c.n_binds, err);
	case O_VM: a->c.vm = true; return 0;
	case O_TIMEOUT:
		if (parse_num("timeout", arg, 3600, &v, err) < 0)
			return -1;
		a->timeout_s = (int)v;
		return 0;
	case O_FORCE: a->force = true; return 0;
	case O_JSON: a->json = true; return 0;
	case O_LIBDIR: a->lib_dir = arg; return 0;
	}
	return cmd_usage_error(err, "ct", "%s", "bad option");
}

/* Which options each verb takes (bits as in one_opt). */
#define BIT(o) (1u << ((o) - O_ROOTFS))
#define RES_BITS (BIT(O_MEMORY) | BIT(O_CPUS) | BIT(O_CPUW) | BIT(O_PIDS))
static const struct { const char *verb; unsigned allowed; int npos; } verbs[] = {
	{ "create", BIT(O_ROOTFS) | BIT(O_IMAGE) | BIT(O_HOSTNAME) | BIT(O_IP) | BIT(O_BIND) |
		    BIT(O_VM) | RES_BITS, 1 },
	{ "start", 0, 1 }, { "stop", BIT(O_TIMEOUT), 1 }, { "restart", BIT(O_TIMEOUT), 1 },
	{ "enter", 0, 1 }, { "exec", 0, -1 }, { "set", RES_BITS, 1 }, { "list", BIT(O_JSON), 0 },
	{ "status", BIT(O_JSON), 1 }, { "destroy", BIT(O_FORCE), 1 },
};

static void human(char *buf, size_t len, uint64_t b)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1fG", (double)b / (1 << 30));
	else
		snprintf(buf, len, "%.1fM", (double)b / (1 << 20));
}

static int print_list(const struct rt_ct_env *e, bool json, char **names, struct rt_err *err)
{
	size_t n = 0;
	struct rt_ct_info *v;

	while (names[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	for (size_t i = 0; i < n; i++) {
		struct rt_err ign = {0};
		if (rt_ct_info(e, names[i], &v[i], &ign) < 0) {
			v[i].name = names[i];
			v[i].state = "broken";
		}
	}
	if (json) {
		_cleanup_free_ char *s = rt_ct_list_json(v, n);
		fputs(s ? s : "[]\n", stdout);
	} else {
		printf("%-20s %-8s %-16s %9s %10s\n", "NAME", "STATE", "IP", "MEMORY", "CPU");
		for (size_t i = 0; i < n; i++) {
			char mem[32];
			human(mem, sizeof(mem), v[i].mem_bytes);
			printf("%-20s %-8s %-16s %9s %9.2fs\n", v[i].name, v[i].state,
			       v[i].ip[0] ? v[i].ip : "-", mem, (double)v[i].cpu_ns / 1e9);
		}
	}
	for (size_t i = 0; i < n; i++)
		rt_ct_info_clear(&v[i]);
	free(v);
	return 0;
}

static int do_status(const struct rt_ct_env *e, const char *name, bool json, struct rt_err *err)
{
	struct rt_ct_info i;
	char mem[32];

	if (rt_ct_info(e, name, &i, err) < 0)
		return -1;
	if (json) {
		_cleanup_free_ char *s = rt_ct_list_json(&i, 1);
		/* one object, not a list of one */
		if (s) {
			char *open = strchr(s, '{'), *close = strrchr(s, '}');
			if (open && close)
				printf("%.*s\n", (int)(close - open + 1), open);
		}
	} else {
		human(mem, sizeof(mem), i.mem_bytes);
		printf("name: %s\nstate: %s\npid: %d\nhostname: %s\nip: %s\nip6: %s\n"
		       "memory: %s\ncpu: %.2fs\nrootfs: %s\nisolation: %s\n", i.name, i.state,
		       (int)i.pid,
		       i.cfg.hostname ? i.cfg.hostname : i.name, i.ip[0] ? i.ip : "-",
		       i.ip6[0] ? i.ip6 : "-", mem, (double)i.cpu_ns / 1e9, i.cfg.rootfs,
		       i.cfg.vm ? "vm" : "container");
	}
	rt_ct_info_clear(&i);
	return 0;
}

static int run_verb(const struct cmd_globals *g, const char *verb, struct ct_args *a,
		    char **pos, int npos, struct rt_err *err)
{
	struct rt_ct_env e = { .lib_dir = a->lib_dir, .state_root = g->root };
	int ms = (a->timeout_s > 0 ? a->timeout_s : 10) * 1000, status = 0;

	if (!strcmp(verb, "create"))
		return rt_ct_create(&e, pos[0], &a->c, err) < 0 ? -1 : 0;
	if (!strcmp(verb, "start"))
		return rt_ct_start(&e, pos[0], err) < 0 ? -1 : 0;
	if (!strcmp(verb, "stop"))
		return rt_ct_stop(&e, pos[0], ms, err) < 0 ? -1 : 0;
	if (!strcmp(verb, "restart")) {
		if (rt_ct_stop(&e, pos[0], ms, err) < 0 && err->code != EINVAL)
			return -1;
		rt_err_clear(err);
		return rt_ct_start(&e, pos[0], err) < 0 ? -1 : 0;
	}
	if (!strcmp(verb, "enter") || !strcmp(verb, "exec")) {
		if (rt_ct_exec(&e, pos[0], npos > 1 ? pos + 1 : NULL, &status, err) < 0)
			return status > 1 ? -status : -1;
		return status;
	}
	if (!strcmp(verb, "set")) {
		if (!(a->seen & RES_BITS))
			return cmd_usage_error(err, "ct", "set: nothing to change (--memory, --cpus, "
					       "--cpu-weight, --pids)");
		return rt_ct_set(&e, pos[0], a->c.memory, a->c.cpu_quota, a->c.cpu_weight, a->c.pids,
				 err) < 0 ? -1 : 0;
	}
	if (!strcmp(verb, "status"))
		return do_status(&e, pos[0], a->json, err);
	if (!strcmp(verb, "destroy"))
		return rt_ct_destroy(&e, pos[0], a->force, err) < 0 ? -1 : 0;
	/* list */
	_cleanup_strv_ char **names = NULL;
	if (rt_ct_names(&e, &names, err) < 0)
		return -1;
	return print_list(&e, a->json, names, err);
}

int cmd_ct(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	struct ct_args a = { .c = { .memory = -1, .cpu_quota = -1, .cpu_weight = -1, .pids = -1 } };
	const char *verb;
	int c, k = -1, rc = -1, first;

	/* options before the verb: --lib-dir only.  optind 0 makes glibc
	 * read each optstring afresh ("+" here, permuting below). */
	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+", ct_opts, NULL)) != -1) {
		if (c != O_LIBDIR)
			return cmd_usage_error(err, "ct", "%s", c == '?' || c == ':'
					       ? cmd_bad_option(argv) : "expected a verb first");
		a.lib_dir = optarg;
	}
	if (optind >= argc)
		return cmd_usage_error(err, "ct", "expected a verb (create, start, stop, restart, "
				       "enter, exec, set, list, status, destroy)");
	verb = argv[optind];
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].verb, verb))
			k = (int)i;
	if (k < 0)
		return cmd_usage_error(err, "ct", "unknown verb \"%s\"", verb);
	argc -= optind;
	argv += optind;
	optind = 0;
	/* exec NAME -- CMD: the command is not parsed */
	if (verbs[k].npos < 0) {
		first = argc > 2 && !strcmp(argv[2], "--") ? 3 : 2;
		if (argc < 2 || argc <= first)
			return cmd_usage_error(err, "ct", "usage: hull ct exec NAME -- CMD [ARG...]");
		argv[first - 1] = argv[1];
		return run_verb(g, verb, &a, argv + first - 1, argc - first + 1, err);
	}
	while ((c = getopt_long_only(argc, argv, "", ct_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			cmd_usage_error(err, "ct", "%s", cmd_bad_option(argv));
			goto out;
		}
		if (c != O_LIBDIR && !(verbs[k].allowed & BIT(c))) {
			cmd_usage_error(err, "ct", "%s: option --%s does not apply", verb,
					ct_opts[c - O_ROOTFS].name);
			goto out;
		}
		if (one_opt(c, optarg, &a, err) < 0)
			goto out;
	}
	if (argc - optind != verbs[k].npos) {
		cmd_usage_error(err, "ct", "%s: expected %s", verb, verbs[k].npos ? "one NAME"
				: "no arguments");
		goto out;
	}
	rc = run_verb(g, verb, &a, argv + optind, argc - optind, err);
out:
	free(a.c.binds);
	return rc;
}
