/* state, list, ps, spec, features. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int no_options(const char *verb, int argc, char **argv, int nargs, struct rt_err *err)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };

	if (getopt_long_only(argc, argv, "+", opts, NULL) != -1)
		return cmd_usage_error(err, verb, "%s", cmd_bad_option(argv));
	if (argc - optind != nargs)
		return cmd_usage_error(err, verb, nargs ? "expected exactly one container id"
							: "takes no arguments");
	return 0;
}

int cmd_state(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	_cleanup_free_ char *json = NULL;

	if (no_options("state", argc, argv, 1, err) < 0)
		return -1;
	if (rt_container_state(g->root, argv[optind], &json, err) < 0)
		return -1;
	printf("%s\n", json);
	return 0;
}

static int format_opt(const char *verb, const char *v, bool *json, struct rt_err *err)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "table"))
		*json = false;
	else
		return cmd_usage_error(err, verb, "--format %s: expected table or json", v);
	return 0;
}

int cmd_list(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **ids = NULL;
	struct rt_state *sts;
	const char **statuses;
	bool json = false, quiet = false;
	size_t n, k = 0;
	int c;

	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f') {
			if (format_opt("list", optarg, &json, err) < 0)
				return -1;
		} else if (c == 'q') {
			quiet = true;
		} else {
			return cmd_usage_error(err, "list", "%s", cmd_bad_option(argv));
		}
	}
	if (rt_state_list(g->root, &ids, err) < 0)
		return -1;
	n = rt_strv_len(ids);
	sts = calloc(n + 1, sizeof(*sts));
	statuses = calloc(n + 1, sizeof(*statuses));
	if (!sts || !statuses) {
		free(sts);
		free(statuses);
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct rt_err ign = {0};
		/* A container deleted meanwhile is simply not listed. */
		if (rt_state_read(g->root, ids[i], &sts[k], &ign) < 0)
			continue;
		statuses[k] = rt_state_status(g->root, &sts[k]);
		k++;
	}
	if (quiet) {
		for (size_t i = 0; i < k; i++)
			printf("%s\n", sts[i].id);
	} else if (json) {
		_cleanup_free_ char *out = rt_state_list_json(sts, statuses, k);
		printf("%s\n", out ? out : "[]");
	} else {
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
		for (size_t i = 0; i < k; i++)
			printf("%-20s %-8d %-10s %-40s %-30s %s\n", sts[i].id,
			       strcmp(statuses[i], "stopped") ? (int)sts[i].pid : 0, statuses[i],
			       sts[i].bundle ? sts[i].bundle : "", sts[i].created ? sts[i].created : "",
			       sts[i].owner && *sts[i].owner ? sts[i].owner : "root");
	}
	for (size_t i = 0; i < k; i++)
		rt_state_clear(&sts[i]);
	free(sts);
	free(statuses);
	return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Like runc: run ps with the user's arguments and keep the header and the
 * lines whose PID column is one of the container's. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n, struct rt_err *err)
{
	size_t na = rt_strv_len(ps_args);
	_cleanup_free_ char **argv = calloc(na + 2, sizeof(char *));
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096];
	int pidcol = -1, fds[2];
	pid_t child;

	if (!argv)
		return rt_err_set(err, ENOMEM, "out of memory");
	argv[0] = (char *)"ps";
	for (size_t i = 0; i < na; i++)
		argv[i + 1] = ps_args[i];
	if (!na)
		argv[1] = (char *)"-ef";
	if (pipe2(fds, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "pipe");
	child = fork();
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp("ps", argv);
		_exit(127);
	}
	close(fds[1]);
	if (child < 0) {
		close(fds[0]);
		return rt_err_sys(err, errno, "fork");
	}
	f = fdopen(fds[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (pidcol < 0) {
			char *save = NULL, *copy = strdup(line);
			int col = 0;
			for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
				if (!strcmp(t, "PID") && pidcol < 0)
					pidcol = col;
			free(copy);
			fputs(line, stdout);
			continue;
		}
		char *save = NULL, *copy = strdup(line);
		char *t = strtok_r(copy, " \t\n", &save);
		for (int col = 0; t && col < pidcol; col++)
			t = strtok_r(NULL, " \t\n", &save);
		if (t && has_pid(pids, n, strtol(t, NULL, 10)))
			fputs(line, stdout);
		free(copy);
	}
	if (rt_wait_status(child) != 0 || pidcol < 0)
		return rt_err_set(err, EINVAL, "ps %s: failed or printed no PID column",
				  na ? ps_args[0] : "-ef");
	return 0;
}

int cmd_ps(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ pid_t *pids = NULL;
	bool json = false;
	size_t n = 0;
	int c;

	while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f' || format_opt("ps", optarg, &json, err) < 0)
			return c != 'f' ? cmd_usage_error(err, "ps", "%s", cmd_bad_option(argv)) : -1;
	}
	if (optind >= argc)
		return cmd_usage_error(err, "ps", "expected a container id");
	if (rt_container_pids(g->root, argv[optind], &pids, &n, err) < 0)
		return -1;
	if (json) {
		_cleanup_free_ char *out = rt_pids_json(pids, n);
		printf("%s\n", out ? out : "[]");
		return 0;
	}
	fflush(stdout);
	return ps_table(argv + optind + 1, pids, n, err) < 0 ? -1 : 0;
}

int cmd_spec(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *json = NULL, *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *bundle = ".";
	bool rootless = false;
	int c;

	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else
			return cmd_usage_error(err, "spec", "%s", cmd_bad_option(argv));
	}
	if (optind != argc)
		return cmd_usage_error(err, "spec", "takes no arguments");
	json = rt_spec_default_json(rootless, NULL);
	if (!json || asprintf(&path, "%s/config.json", bundle) < 0)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return rt_err_set(err, EEXIST, "%s already exists; remove it first", path), -1;
		return rt_err_sys(err, errno, "create %s", path), -1;
	}
	if (rt_write_all(fd, json, strlen(json)) < 0 || rt_write_all(fd, "\n", 1) < 0)
		return rt_err_sys(err, errno, "write %s", path), -1;
	return 0;
}

int cmd_features(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	_cleanup_free_ char *json = NULL;

	if (no_options("features", argc, argv, 0, err) < 0)
		return -1;
	json = rt_features_json();
	if (!json)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	printf("%s\n", json);
	return 0;
}
