/* exec: a new process in a running container. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/container.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { O_PROCESS = 256, O_CWD, O_ENV, O_USER, O_CAP, O_NNP, O_PIDFILE, O_CONSOLE, O_PRESERVE,
       O_DETACH, O_TTY, O_APPARMOR, O_LABEL, O_CGROUP, O_IGNORED };

int cmd_exec(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "apparmor", required_argument, NULL, O_IGNORED },
		{ "process-label", required_argument, NULL, O_IGNORED },
		{ "cgroup", required_argument, NULL, O_IGNORED },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct rt_exec_opts o = { .root = g->root };
	char **env = NULL, **caps = NULL;
	size_t nenv = 0, ncaps = 0;
	int c, status = 0, rc = -1;
	char *end;

	while ((c = getopt_long_only(argc, argv, "+p:tde:u:c:g:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o.process_file = optarg; break;
		case 't': o.tty = o.tty_set = true; break;
		case 'd': o.detach = true; break;
		case O_CWD: o.cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '=')) {
				cmd_usage_error(err, "exec", "--env %s: expected KEY=VALUE", optarg);
				goto out;
			}
			if (cmd_strv_push(&env, &nenv, optarg) < 0)
				goto oom;
			break;
		case 'u': o.user = optarg; break;
		case 'c':
			if (cmd_strv_push(&caps, &ncaps, optarg) < 0)
				goto oom;
			break;
		case O_NNP: o.no_new_privs = o.no_new_privs_set = true; break;
		case O_PIDFILE: o.pid_file = optarg; break;
		case O_CONSOLE: o.console_socket = optarg; break;
		case O_PRESERVE: {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || v > 65536) {
				cmd_usage_error(err, "exec", "--preserve-fds %s: not a count", optarg);
				goto out;
			}
			o.preserve_fds = (int)v;
			break;
		}
		case 'g':
			cmd_usage_error(err, "exec", "--additional-gids is not supported; use --process");
			goto out;
		case O_IGNORED: break;
		default:
			cmd_usage_error(err, "exec", "%s", cmd_bad_option(argv));
			goto out;
		}
	}
	if (optind >= argc) {
		cmd_usage_error(err, "exec", "expected a container id");
		goto out;
	}
	o.id = argv[optind];
	o.args = argv + optind + 1;
	if (o.process_file && *o.args) {
		cmd_usage_error(err, "exec", "give either --process or a command, not both");
		goto out;
	}
	o.env = env;
	o.caps = caps;
	/* A process the VM's guest could not start has runc's 126/127. */
	rc = rt_container_exec(&o, &status, err) < 0 ? (status > 1 ? -status : -1) : status;
	goto out;
oom:
	rt_err_set(err, ENOMEM, "out of memory");
out:
	free(env);
	free(caps);
	return rc;
}
