#ifndef HULL_CMD_H
#define HULL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include "runtime/err.h"

/* Global options (before the verb), as runc and crun take them. */
struct cmd_globals {
	const char *root;
	const char *log;
	const char *log_format;
	bool debug;
	bool systemd_cgroup;
	bool rootless;
	bool vm_default;      /* --vm: create/run default to VM isolation */
};

/* A verb returns its exit status; on error it fills err and returns -1,
 * and main prints the error once. */
typedef int (*cmd_fn)(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);

struct cmd_verb {
	const char *name;
	cmd_fn fn;
	const char *usage;   /* "create [options] ID" */
	const char *help;    /* one line */
};

int cmd_create(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_run(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_start(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_kill(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_delete(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_pause(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_resume(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_state(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_list(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_ps(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_spec(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_features(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_exec(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_jail(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_update(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_events(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_ct(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_vmm(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
int cmd_image(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);
/* run --image (cmd_run_image.c): true when argv asks for it. */
bool cmd_run_is_image(int argc, char **argv);
int cmd_run_image(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err);

/* The option getopt just refused, as a phrase ("unknown option --x",
 * "option --bundle needs a value"). */
const char *cmd_bad_option(char **argv);
/* Append s to the NULL-terminated vector *v of *n entries; -1 on ENOMEM. */
int cmd_strv_push(char ***v, size_t *n, char *s);
/* --bind SRC:DST[:ro|rw] of jail and ct, appended to *binds (arg is split
 * in place and kept). */
struct rt_jail_bind;
int cmd_parse_bind(const char *verb, char *arg, struct rt_jail_bind **binds, size_t *n,
		   struct rt_err *err);
/* Print a verb's usage to stdout (help) or stderr (misuse). */
void cmd_usage(const char *verb, bool to_stderr);
/* Report a usage error for verb into err; returns -1. */
int cmd_usage_error(struct rt_err *err, const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
