/* hull jail: check the flags, write the bundle, run it, clean up. */
#include "config.h"
#include "runtime/jail.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/util.h"
#include "netns/net.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t rt_jail_parse_size(const char *s)
{
	char *end;
	double v;
	int64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case 'k': mult = 1LL << 10; end++; break;
	case 'm': mult = 1LL << 20; end++; break;
	case 'g': mult = 1LL << 30; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v * (double)mult > 9.2e18)
		return -1;
	return (int64_t)(v * (double)mult);
}

static int check_abs(const char *what, const char *p, struct rt_err *err)
{
	if (!p || p[0] != '/' || strstr(p, "/../") || !strcmp(p + strlen(p) - (strlen(p) >= 3 ? 3 : 0), "/.."))
		return rt_err_set(err, EINVAL, "%s %s: must be an absolute path without \"..\"", what,
				  p ? p : "");
	return 0;
}

static int jail_run_bundle(const char *root, struct rt_jail_opts *o, const struct net_plan *net,
			   int *status, struct rt_err *err);

/* Everything that can be refused before anything is written. */
int rt_jail_check(struct rt_jail_opts *o, struct rt_err *err)
{
	struct stat st;

	if (!o->args || !o->args[0])
		return rt_err_set(err, EINVAL, "jail: no command given (hull jail [flags] -- CMD ARGS)");
	if (!!o->rootfs == o->ro_host)
		return rt_err_set(err, EINVAL, "jail: give exactly one of --rootfs DIR and --ro-host");
	if (o->rootfs && (stat(o->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)))
		return rt_err_sys(err, errno ? errno : ENOTDIR, "--rootfs %s", o->rootfs);
	if (o->rootfs && o->rootfs[0] != '/')
		return rt_err_set(err, EINVAL, "--rootfs %s: must be an absolute path", o->rootfs);
	if (strcmp(o->net, "none") && strcmp(o->net, "host") && strcmp(o->net, "veth"))
		return rt_err_set(err, EINVAL, "--net %s: expected none, host or veth", o->net);
	for (size_t i = 0; i < o->n_binds; i++) {
		if (stat(o->binds[i].src, &st) < 0)
			return rt_err_sys(err, errno, "--bind %s", o->binds[i].src);
		if (check_abs("--bind destination", o->binds[i].dst, err) < 0 ||
		    check_abs("--bind source", o->binds[i].src, err) < 0)
			return -err->code;
	}
	for (size_t i = 0; i < o->n_tmpfs; i++)
		if (check_abs("--tmpfs", o->tmpfs[i], err) < 0)
			return -err->code;
	/* The host's tree is read-only in the jail and must never get new
	 * directories: mount points must already exist there. */
	for (size_t i = 0; o->ro_host && i < o->n_binds + o->n_tmpfs; i++) {
		const char *d = i < o->n_binds ? o->binds[i].dst : o->tmpfs[i - o->n_binds];
		if (stat(d, &st) < 0)
			return rt_err_set(err, ENOENT, "%s %s: with --ro-host the mount point must "
					  "exist on the host", i < o->n_binds ? "--bind" : "--tmpfs", d);
	}
	if (o->cwd && check_abs("--cwd", o->cwd, err) < 0)
		return -err->code;
	for (size_t i = 0; i < o->n_cap_add + o->n_cap_drop; i++) {
		const char *c = i < o->n_cap_add ? o->cap_add[i] : o->cap_drop[i - o->n_cap_add];
		char buf[64];
		snprintf(buf, sizeof(buf), "%s%s", strncasecmp(c, "CAP_", 4) ? "CAP_" : "", c);
		for (char *p = buf; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (strcasecmp(c, "ALL") && rt_cap_from_name(buf) < 0)
			return rt_err_set(err, EINVAL, "--cap-%s %s: unknown capability",
					  i < o->n_cap_add ? "add" : "drop", c);
	}
	o->host_uid = geteuid();
	o->host_gid = getegid();
	o->rootless = o->host_uid != 0;
	if (o->rootless && !strcmp(o->net, "veth"))
		return rt_err_set(err, EPERM, "jail: --net veth needs root (a veth on the host "
				  "bridge is made in the host's network namespace)");
	if (o->rootless && (o->memory >= 0 || o->cpu_quota >= 0 || o->pids >= 0 || o->cpu_shares > 0))
		return rt_err_set(err, EPERM, "jail: --memory, --cpus and --pids need root "
				  "(no cgroup is delegated to uid %u)", (unsigned)o->host_uid);
	return 0;
}

/* --net veth: an address leased for this run (owned by this hull's pid
 * and start time, so a crashed run's lease is free again); otherwise,
 * with a network namespace of its own, loopback up. */
static int jail_net_plan(struct rt_jail_opts *o, struct net_config *nc, char *owner, size_t len,
			 struct net_plan *plan, struct rt_err *err)
{
	struct net_lease lease;
	unsigned long long start = 0;

	owner[0] = '\0';
	if (!strcmp(o->net, "host") || o->rootless) {
		/* rootless: hull cannot enter a namespace its user namespace owns */
		return 0;
	}
	if (strcmp(o->net, "veth")) {
		net_plan_lo(plan);
		return 1;
	}
	if (net_config_load(o->lib_dir, nc, err) < 0)
		return -err->code;
	rt_pid_start_time(getpid(), &start);
	snprintf(owner, len, "jail:%d:%llu", (int)getpid(), start);
	if (net_ipam_alloc(nc, owner, NULL, &lease, err) < 0) {
		owner[0] = '\0';
		return rt_err_wrap(err, "--net veth");
	}
	net_plan_veth(nc, &lease, plan);
	return 1;
}

int rt_jail_run(const char *root, struct rt_jail_opts *o, int *status, struct rt_err *err)
{
	struct net_config nc;
	struct net_plan plan;
	char owner[128];
	struct rt_err ign = {0};
	int r, have_net;

	if (rt_jail_check(o, err) < 0)
		return -err->code;
	have_net = jail_net_plan(o, &nc, owner, sizeof(owner), &plan, err);
	if (have_net < 0)
		return have_net;
	r = jail_run_bundle(root, o, have_net ? &plan : NULL, status, err);
	if (have_net && plan.veth)
		net_remove(plan.host_if, &ign);
	if (owner[0])
		net_ipam_release(&nc, owner, &ign);
	return r;
}

static int jail_run_bundle(const char *root, struct rt_jail_opts *o, const struct net_plan *net,
			   int *status, struct rt_err *err)
{
	_cleanup_free_ char *json = NULL, *bundle = NULL, *cfg = NULL;
	_cleanup_close_ int dfd = -1;
	char id[64];
	struct rt_create_opts co = { .root = root, .net = net };
	int r;

	json = rt_jail_config_json(o, err);
	if (!json)
		return -err->code;
	snprintf(id, sizeof(id), "jail-%d", (int)getpid());
	/* The bundle is a dot-dir under the state root: private to this run
	 * and never listed as a container. */
	if (rt_mkdir_p(root, 0711, err) < 0)
		return -err->code;
	if (asprintf(&bundle, "%s/.%s", root, id) < 0 || asprintf(&cfg, "%s/config.json", bundle) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (mkdir(bundle, 0700) < 0)
		return rt_err_sys(err, errno, "jail bundle %s", bundle);
	/* --ro-host: an empty root that the host's tree is bound over */
	_cleanup_free_ char *rootdir = NULL;
	if (o->ro_host && (asprintf(&rootdir, "%s/rootfs", bundle) < 0 || mkdir(rootdir, 0755) < 0)) {
		rmdir(bundle);
		return rt_err_sys(err, errno ? errno : ENOMEM, "jail root %s", bundle);
	}
	dfd = open(bundle, O_DIRECTORY | O_CLOEXEC | O_PATH);
	r = dfd < 0 ? rt_err_sys(err, errno, "open %s", bundle)
		    : rt_write_file_at_new(dfd, "config.json", json, strlen(json), err);
	if (r == 0) {
		co.id = id;
		co.bundle = bundle;
		r = rt_container_run(&co, status, err);
		if (r < 0 && o->rootless && err->code == EPERM)
			rt_err_wrap(err, "rootless jail (are unprivileged user namespaces allowed? "
				    "see /proc/sys/user/max_user_namespaces)");
	}
	unlink(cfg);
	if (rootdir)
		rmdir(rootdir);
	rmdir(bundle);
	return r;
}
