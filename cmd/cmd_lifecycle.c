/* create, run, start, kill, delete, pause, resume. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/container.h"
#include "runtime/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum {
	O_BUNDLE = 256, O_CONSOLE, O_PIDFILE, O_PIDFD, O_NOPIVOT, O_NOKEYRING, O_PRESERVE,
	O_DETACH, O_KEEP, O_NOSUBREAPER, O_FORCE, O_ALL, O_VM, O_KERNEL,
};

static const struct option create_opts[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "console-socket", required_argument, NULL, O_CONSOLE },
	{ "pid-file", required_argument, NULL, O_PIDFILE },
	{ "pidfd-socket", required_argument, NULL, O_PIDFD },
	{ "no-pivot", no_argument, NULL, O_NOPIVOT },
	{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
	{ "preserve-fds", required_argument, NULL, O_PRESERVE },
	{ "detach", no_argument, NULL, 'd' },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "no-subreaper", no_argument, NULL, O_NOSUBREAPER },
	{ "vm", no_argument, NULL, O_VM },
	{ "kernel", required_argument, NULL, O_KERNEL },
	{ NULL, 0, NULL, 0 },
};

static int parse_count(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65536)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_create(const struct cmd_globals *g, const char *verb, int argc, char **argv,
			struct rt_create_opts *o, struct rt_err *err)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->root = g->root;
	o->systemd_cgroup = g->systemd_cgroup;
	o->vm_default = g->vm_default;
	while ((c = getopt_long_only(argc, argv, "+b:d", create_opts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case O_CONSOLE: o->console_socket = optarg; break;
		case O_PIDFILE: o->pid_file = optarg; break;
		case O_PIDFD: o->pidfd_socket = optarg; break;
		case O_NOPIVOT: o->no_pivot = true; break;
		case O_NOKEYRING: o->no_new_keyring = true; break;
		case O_PRESERVE:
			if (parse_count(optarg, &o->preserve_fds) < 0)
				return cmd_usage_error(err, verb, "--preserve-fds %s: not a count", optarg);
			break;
		case 'd':
			if (strcmp(verb, "run"))
				return cmd_usage_error(err, verb, "unknown option --detach");
			o->detach = true;
			break;
		case O_KEEP:
			if (strcmp(verb, "run"))
				return cmd_usage_error(err, verb, "unknown option --keep");
			o->keep = true;
			break;
		case O_NOSUBREAPER: break;
		case O_VM: o->vm = true; break;
		case O_KERNEL: o->kernel = optarg; break;
		default:
			return cmd_usage_error(err, verb, "%s", cmd_bad_option(argv));
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(err, verb, "expected exactly one container id");
	o->id = argv[optind];
	return 0;
}

int cmd_create(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	struct rt_create_opts o;

	if (parse_create(g, "create", argc, argv, &o, err) < 0)
		return -1;
	return rt_container_create(&o, err) < 0 ? -1 : 0;
}

int cmd_run(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	struct rt_create_opts o;
	int status = 0;

	if (cmd_run_is_image(argc, argv))
		return cmd_run_image(g, argc, argv, err);
	if (parse_create(g, "run", argc, argv, &o, err) < 0)
		return -1;
	if (rt_container_run(&o, &status, err) < 0)
		return -1;
	return status;
}

/* Verbs that take one id and no options but an optional flag. */
static int one_id(const char *verb, int argc, char **argv, const struct option *opts,
		  const char *shortopts, bool *flag, int flag_val, const char **id, int *extra,
		  struct rt_err *err)
{
	int c;

	while ((c = getopt_long_only(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == flag_val || (c < 256 && c != '?' && strchr(shortopts, c)))
			*flag = true;
		else
			return cmd_usage_error(err, verb, "%s", cmd_bad_option(argv));
	}
	if (optind >= argc)
		return cmd_usage_error(err, verb, "expected a container id");
	*id = argv[optind];
	*extra = argc - optind - 1;
	return 0;
}

int cmd_start(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	const char *id;
	bool unused = false;
	int extra;

	if (one_id("start", argc, argv, opts, "+", &unused, -2, &id, &extra, err) < 0)
		return -1;
	if (extra)
		return cmd_usage_error(err, "start", "expected exactly one container id");
	return rt_container_start(g->root, id, err) < 0 ? -1 : 0;
}

int cmd_kill(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	const char *id;
	bool all = false;
	int extra, sig = SIGTERM;

	if (one_id("kill", argc, argv, opts, "+a", &all, 'a', &id, &extra, err) < 0)
		return -1;
	if (extra > 1)
		return cmd_usage_error(err, "kill", "expected ID [SIGNAL]");
	if (extra == 1) {
		sig = rt_signal_parse(argv[optind + 1]);
		if (sig < 0)
			return rt_err_set(err, EINVAL, "unknown signal \"%s\"", argv[optind + 1]), -1;
	}
	return rt_container_kill(g->root, id, sig, all, err) < 0 ? -1 : 0;
}

int cmd_delete(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	const char *id;
	bool force = false;
	int extra;

	if (one_id("delete", argc, argv, opts, "+f", &force, 'f', &id, &extra, err) < 0)
		return -1;
	if (extra)
		return cmd_usage_error(err, "delete", "expected exactly one container id");
	return rt_container_delete(g->root, id, force, err) < 0 ? -1 : 0;
}

static int pause_resume(const struct cmd_globals *g, const char *verb, bool pause, int argc,
			char **argv, struct rt_err *err)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	const char *id;
	bool unused = false;
	int extra;

	if (one_id(verb, argc, argv, opts, "+", &unused, -2, &id, &extra, err) < 0)
		return -1;
	if (extra)
		return cmd_usage_error(err, verb, "expected exactly one container id");
	return rt_container_pause(g->root, id, pause, err) < 0 ? -1 : 0;
}

int cmd_pause(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	return pause_resume(g, "pause", true, argc, argv, err);
}

int cmd_resume(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	return pause_resume(g, "resume", false, argc, argv, err);
}
