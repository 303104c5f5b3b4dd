/* hull jail: one service in a jail built from flags.  The flags become a
 * config.json (runtime/spec_jail.c, the spec module's writer) in a private
 * bundle dir, which then runs through the same create/start/wait/delete as
 * any bundle: no second implementation of namespaces or cgroups. */
#ifndef HULL_JAIL_H
#define HULL_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/err.h"

struct rt_jail_bind {
	const char *src, *dst;
	bool ro;
};

struct rt_jail_opts {
	const char *rootfs;          /* --rootfs DIR; NULL with --ro-host */
	bool ro_host;
	char **tmpfs;                /* --tmpfs DIR... */
	size_t n_tmpfs;
	struct rt_jail_bind *binds;  /* --bind SRC:DST[:ro] */
	size_t n_binds;
	const char *net;             /* "none" (default), "host" or "veth" */
	const char *lib_dir;         /* address leases (netns/net.h); NULL: default */
	int64_t memory;              /* bytes, -1 unset */
	int64_t cpu_quota;           /* per 100000 us period, -1 unset */
	int64_t pids;                /* -1 unset */
	int64_t cpu_shares;          /* -1 unset (hull ct --cpu-weight) */
	bool system;                 /* hull ct: an init may reboot(2) its pid namespace */
	bool has_uid;
	uid_t uid;
	gid_t gid;
	const char *seccomp;         /* "default" (NULL), "unconfined", or a profile file */
	char **cap_add, **cap_drop;  /* names, "ALL" allowed */
	size_t n_cap_add, n_cap_drop;
	char **args;                 /* the command */
	const char *cwd;
	const char *hostname;
	/* filled by rt_jail_run: */
	bool rootless;
	uid_t host_uid;
	gid_t host_gid;
};

/* The jail's config.json text (malloc'd), or NULL with err set. */
char *rt_jail_config_json(const struct rt_jail_opts *o, struct rt_err *err);
/* Check the flags (paths exist, limits sane, names known): everything that
 * can be refused before anything is written.  Sets rootless and host ids. */
int rt_jail_check(struct rt_jail_opts *o, struct rt_err *err);
/* Check the flags, write the
 * bundle, run it in the foreground and remove everything after.  *status
 * is the service's exit status (128+signal). */
int rt_jail_run(const char *root, struct rt_jail_opts *o, int *status, struct rt_err *err);
/* "512m", "1g", "1048576" -> bytes; -1 on error. */
int64_t rt_jail_parse_size(const char *s);

#endif
