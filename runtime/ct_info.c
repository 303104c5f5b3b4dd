/* hull ct: set, exec/enter, status/list (the running container and its
 * saved config). */
#include "config.h"
#include "runtime/ct.h"
#include "runtime/ct_int.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "netns/net.h"
#include "cgroups/cgroup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- set, exec, info, list -------------------------------------------- */

static int set_locked(const struct rt_ct_env *e, struct rt_ct_config *c, int64_t memory,
		      int64_t cpu_quota, int64_t cpu_weight, int64_t pids, struct rt_err *err)
{
	struct rt_resources r;
	struct rt_state st;
	char id[80];
	const char *s = ct_oci_status(e, c->name, &st);

	rt_state_clear(&st);
	if (cpu_weight > 10000)
		return rt_err_set(err, EINVAL, "--cpu-weight %lld: expected 1 to 10000",
				  (long long)cpu_weight);
	if (ct_is_running(s)) {
		/* the running container first: a value the kernel refuses
		 * changes neither the cgroup nor the saved config */
		cg_resources_init(&r);
		r.present = true;
		r.mem_limit = memory;
		if (cpu_quota >= 0) {
			r.cpu_quota = cpu_quota;
			r.cpu_period = 100000;
		}
		if (cpu_weight > 0)
			r.cpu_shares = ct_weight_to_shares(cpu_weight);
		if (pids >= 0) {
			r.pids_limit = pids;
			r.has_pids_limit = true;
		}
		ct_oci_id(c->name, id, sizeof(id));
		if (rt_container_update(e->state_root, id, &r, err) < 0)
			return -err->code;
	}
	if (memory >= 0)
		c->memory = memory;
	if (cpu_quota >= 0)
		c->cpu_quota = cpu_quota;
	if (cpu_weight > 0)
		c->cpu_weight = cpu_weight;
	if (pids >= 0)
		c->pids = pids;
	return ct_save_config(e, c, err);
}

int rt_ct_set(const struct rt_ct_env *e, const char *name, int64_t memory, int64_t cpu_quota,
	      int64_t cpu_weight, int64_t pids, struct rt_err *err)
{
	struct rt_ct_config c = {0};
	int lock, r;

	lock = ct_open(e, name, &c, err);
	if (lock < 0)
		return lock;
	r = set_locked(e, &c, memory, cpu_quota, cpu_weight, pids, err);
	rt_ct_config_clear(&c);
	close(lock);
	return r;
}

int rt_ct_exec(const struct rt_ct_env *e, const char *name, char **args, int *status,
	       struct rt_err *err)
{
	static char *shell[] = { (char *)"/bin/sh", NULL };
	struct rt_state st;
	char id[80];
	const char *s;

	if (ct_check_name(name, err) < 0)
		return -err->code;
	s = ct_oci_status(e, name, &st);
	rt_state_clear(&st);
	if (!strcmp(s, "absent")) {
		_cleanup_free_ char *p = ct_path(e, name, "ct.json");
		if (p && access(p, F_OK) < 0)
			return rt_err_set(err, ENOENT, "container \"%s\" does not exist", name);
	}
	if (strcmp(s, "running"))
		return rt_err_set(err, EINVAL, "container \"%s\" is not running", name);
	ct_oci_id(name, id, sizeof(id));
	struct rt_exec_opts o = {
		.root = e->state_root, .id = id, .args = args ? args : shell,
		.tty_set = true, .tty = !args && isatty(0),
	};
	return rt_container_exec(&o, status, err);
}

void rt_ct_info_clear(struct rt_ct_info *i)
{
	rt_ct_config_clear(&i->cfg);
	memset(i, 0, sizeof(*i));
}

static void info_stats(const struct rt_state *st, struct rt_ct_info *out)
{
	struct cg_handle *cg = NULL;
	struct cg_stats cs;
	struct rt_err ign = {0};

	if (!st->cgroup_path || cg_open(st->cgroup_path, &cg, &ign) < 0)
		return;
	if (cg_stats(cg, &cs, &ign) == 0) {
		out->mem_bytes = cs.mem_usage.usage;
		out->cpu_ns = cs.cpu_total;
		cg_stats_clear(&cs);
	}
	cg_handle_free(cg);
}

int rt_ct_info(const struct rt_ct_env *e, const char *name, struct rt_ct_info *out,
	       struct rt_err *err)
{
	struct rt_state st;
	struct net_config nc;
	struct in_addr a;
	struct rt_err ign = {0};

	memset(out, 0, sizeof(*out));
	if (ct_check_name(name, err) < 0 || ct_load_config(e, name, &out->cfg, err) < 0)
		return -err->code;
	out->name = out->cfg.name;
	out->state = ct_oci_status(e, name, &st);
	if (!strcmp(out->state, "absent"))
		out->state = "stopped";
	if (ct_is_running(out->state)) {
		out->pid = st.pid;
		info_stats(&st, out);
	}
	rt_state_clear(&st);
	if (out->cfg.ip && inet_pton(AF_INET, out->cfg.ip, &a) == 1 &&
	    net_config_load(e->lib_dir, &nc, &ign) == 0) {
		struct net_lease l;
		net_lease_of(&nc, ntohl(a.s_addr) - ntohl(nc.net4.s_addr), &l);
		snprintf(out->ip, sizeof(out->ip), "%s", out->cfg.ip);
		inet_ntop(AF_INET6, &l.ip6, out->ip6, sizeof(out->ip6));
	}
	return 0;
}

int rt_ct_names(const struct rt_ct_env *e, char ***names, struct rt_err *err)
{
	_cleanup_free_ char *root = ct_root(e);
	char **ids = NULL;
	size_t k = 0;

	*names = NULL;
	if (!root)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (rt_state_list(root, &ids, err) < 0)
		return -err->code;
	/* only dirs that hold a saved config (not one being created) */
	for (size_t i = 0; ids && ids[i]; i++) {
		_cleanup_free_ char *p = ct_path(e, ids[i], "ct.json");
		if (p && access(p, F_OK) == 0)
			ids[k++] = ids[i];
		else
			free(ids[i]);
	}
	if (ids)
		ids[k] = NULL;
	*names = ids;
	return 0;
}
