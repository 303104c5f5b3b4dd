/* The state half of the spec module: container state, list, ps and the
 * seccomp agent message as JSON.  Like spec_parse.c, the only place these
 * documents touch yajl. */
#include "config.h"
#include "runtime/state.h"
#include "runtime/cleanup.h"
#include "cgroups/cgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static void gs(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gkv(yajl_gen g, const char *k, const char *v)
{
	gs(g, k);
	if (v)
		gs(g, v);
	else
		yajl_gen_null(g);
}

static void gki(yajl_gen g, const char *k, long long v)
{
	gs(g, k);
	yajl_gen_integer(g, v);
}

static char *finish(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *out = NULL;

	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		out = malloc(len + 1);
		if (out) {
			memcpy(out, buf, len);
			out[len] = '\0';
		}
	}
	yajl_gen_free(g);
	return out;
}

static void gen_annotations(yajl_gen g, const struct rt_state *s)
{
	gs(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_annotations; i++)
		gkv(g, s->annotations[i].key, s->annotations[i].value);
	yajl_gen_map_close(g);
}

static void gen_oci_fields(yajl_gen g, const struct rt_state *s, const char *status)
{
	gkv(g, "ociVersion", "1.2.0");
	gkv(g, "id", s->id);
	gkv(g, "status", status);
	/* The runtime spec asks for pid only while the process exists. */
	if (strcmp(status, "stopped") != 0 && s->pid > 0)
		gki(g, "pid", s->pid);
	else
		gki(g, "pid", 0);
	gkv(g, "bundle", s->bundle);
	gen_annotations(g, s);
}

char *rt_state_oci_json(const struct rt_state *s, const char *status)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	gen_oci_fields(g, s, status);
	gkv(g, "rootfs", s->rootfs);
	gkv(g, "created", s->created);
	gkv(g, "owner", s->owner ? s->owner : "");
	yajl_gen_map_close(g);
	return finish(g);
}

char *rt_state_to_json(const struct rt_state *s)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	gkv(g, "id", s->id);
	gkv(g, "bundle", s->bundle);
	gkv(g, "rootfs", s->rootfs);
	gki(g, "pid", s->pid);
	gki(g, "pidStart", (long long)s->pid_start);
	gkv(g, "created", s->created);
	gkv(g, "owner", s->owner);
	gkv(g, "cgroupPath", s->cgroup_path);
	gs(g, "systemdCgroup");
	yajl_gen_bool(g, s->systemd_cgroup);
	gs(g, "creating");
	yajl_gen_bool(g, s->creating);
	gen_annotations(g, s);
	yajl_gen_map_close(g);
	return finish(g);
}

static char *dup_str(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);
	const char *s = v ? YAJL_GET_STRING(v) : NULL;
	return s ? strdup(s) : NULL;
}

static long long get_int(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static bool get_bool(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	return YAJL_IS_TRUE(yajl_tree_get(root, path, yajl_t_true));
}

int rt_state_from_json(const char *json, size_t len, struct rt_state *out, struct rt_err *err)
{
	char ebuf[256] = "";
	const char *apath[] = { "annotations", NULL };
	_cleanup_free_ char *copy = strndup(json, len);
	yajl_val root, ann;
	long long pid;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return rt_err_set(err, ENOMEM, "out of memory");
	root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return rt_err_set(err, EINVAL, "state.json: invalid: %s", ebuf);
	}
	out->id = dup_str(root, "id");
	out->bundle = dup_str(root, "bundle");
	out->rootfs = dup_str(root, "rootfs");
	out->created = dup_str(root, "created");
	out->owner = dup_str(root, "owner");
	out->cgroup_path = dup_str(root, "cgroupPath");
	pid = get_int(root, "pid");
	out->pid = pid > 0 && pid < (1 << 30) ? (pid_t)pid : 0;
	out->pid_start = (unsigned long long)get_int(root, "pidStart");
	out->systemd_cgroup = get_bool(root, "systemdCgroup");
	out->creating = get_bool(root, "creating");
	ann = yajl_tree_get(root, apath, yajl_t_object);
	if (ann && YAJL_GET_OBJECT(ann)->len) {
		size_t n = YAJL_GET_OBJECT(ann)->len;
		out->annotations = calloc(n, sizeof(*out->annotations));
		for (size_t i = 0; out->annotations && i < n; i++) {
			yajl_val v = YAJL_GET_OBJECT(ann)->values[i];
			out->annotations[out->n_annotations].key = strdup(YAJL_GET_OBJECT(ann)->keys[i]);
			out->annotations[out->n_annotations].value =
				strdup(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
			out->n_annotations++;
		}
	}
	yajl_tree_free(root);
	if (!out->id) {
		rt_state_clear(out);
		return rt_err_set(err, EINVAL, "state.json: missing id");
	}
	return 0;
}

char *rt_state_list_json(const struct rt_state *states, const char *const *statuses, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gen_oci_fields(g, &states[i], statuses[i]);
		gkv(g, "rootfs", states[i].rootfs);
		gkv(g, "created", states[i].created);
		gkv(g, "owner", states[i].owner ? states[i].owner : "");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	return finish(g);
}

char *rt_pids_json(const pid_t *pids, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		yajl_gen_integer(g, pids[i]);
	yajl_gen_array_close(g);
	return finish(g);
}

char *rt_seccomp_state_json(const struct rt_state *s, const char *status, const char *metadata)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	gkv(g, "ociVersion", "1.2.0");
	gs(g, "fds");
	yajl_gen_array_open(g);
	gs(g, "seccompFd");
	yajl_gen_array_close(g);
	gki(g, "pid", s->pid);
	gkv(g, "metadata", metadata ? metadata : "");
	gs(g, "state");
	yajl_gen_map_open(g);
	gen_oci_fields(g, s, status);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	return finish(g);
}

/* ---- linux.resources, for `update` (persisted in the saved config) ---- */

static void gkl(yajl_gen g, const char *k, int64_t v)
{
	gki(g, k, v == RT_RES_UNLIMITED ? -1 : (long long)v);
}

/* Only what was given: "-1 = not given" fields stay out. */
static void gkl_set(yajl_gen g, const char *k, int64_t v)
{
	if (v != -1)
		gkl(g, k, v);
}

static void gkb_set(yajl_gen g, const char *k, bool has, bool v)
{
	if (has) {
		gs(g, k);
		yajl_gen_bool(g, v);
	}
}

static void gen_res_memory(yajl_gen g, const struct rt_resources *r)
{
	gs(g, "memory");
	yajl_gen_map_open(g);
	gkl_set(g, "limit", r->mem_limit);
	gkl_set(g, "reservation", r->mem_reservation);
	gkl_set(g, "swap", r->mem_swap);
	gkl_set(g, "kernel", r->mem_kernel);
	gkl_set(g, "kernelTCP", r->mem_kernel_tcp);
	gkl_set(g, "swappiness", r->mem_swappiness);
	gkb_set(g, "disableOOMKiller", r->has_disable_oom_killer, r->disable_oom_killer);
	gkb_set(g, "useHierarchy", r->has_use_hierarchy, r->use_hierarchy);
	gkb_set(g, "checkBeforeUpdate", r->has_check_before_update, r->check_before_update);
	yajl_gen_map_close(g);
}

static void gen_res_cpu(yajl_gen g, const struct rt_resources *r)
{
	gs(g, "cpu");
	yajl_gen_map_open(g);
	gkl_set(g, "shares", r->cpu_shares);
	gkl_set(g, "quota", r->cpu_quota);
	gkl_set(g, "burst", r->cpu_burst);
	gkl_set(g, "period", r->cpu_period);
	gkl_set(g, "realtimeRuntime", r->cpu_realtime_runtime);
	gkl_set(g, "realtimePeriod", r->cpu_realtime_period);
	if (r->cpu_cpus)
		gkv(g, "cpus", r->cpu_cpus);
	if (r->cpu_mems)
		gkv(g, "mems", r->cpu_mems);
	if (r->has_cpu_idle)
		gki(g, "idle", r->cpu_idle);
	yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *key, const struct rt_blkio_dev *d, size_t n,
			   bool rate)
{
	if (!n)
		return;
	gs(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gki(g, "major", d[i].major);
		gki(g, "minor", d[i].minor);
		if (rate) {
			gs(g, "rate");
			yajl_gen_integer(g, (long long)d[i].rate);
		} else {
			gkl_set(g, "weight", d[i].weight);
			gkl_set(g, "leafWeight", d[i].leaf_weight);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_res_blkio(yajl_gen g, const struct rt_resources *r)
{
	gs(g, "blockIO");
	yajl_gen_map_open(g);
	gkl_set(g, "weight", r->blkio_weight);
	gkl_set(g, "leafWeight", r->blkio_leaf_weight);
	gen_blkio_list(g, "weightDevice", r->blkio_weight_device, r->n_blkio_weight_device, false);
	gen_blkio_list(g, "throttleReadBpsDevice", r->blkio_throttle_read_bps,
		       r->n_blkio_throttle_read_bps, true);
	gen_blkio_list(g, "throttleWriteBpsDevice", r->blkio_throttle_write_bps,
		       r->n_blkio_throttle_write_bps, true);
	gen_blkio_list(g, "throttleReadIOPSDevice", r->blkio_throttle_read_iops,
		       r->n_blkio_throttle_read_iops, true);
	gen_blkio_list(g, "throttleWriteIOPSDevice", r->blkio_throttle_write_iops,
		       r->n_blkio_throttle_write_iops, true);
	yajl_gen_map_close(g);
}

static void gen_res_devices(yajl_gen g, const struct rt_resources *r)
{
	char t[2] = "";

	if (!r->n_devices)
		return;
	gs(g, "devices");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct rt_device_rule *d = &r->devices[i];

		yajl_gen_map_open(g);
		gs(g, "allow");
		yajl_gen_bool(g, d->allow);
		t[0] = d->type;
		gkv(g, "type", t);
		gkl_set(g, "major", d->major);
		gkl_set(g, "minor", d->minor);
		if (d->access)
			gkv(g, "access", d->access);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_res_misc(yajl_gen g, const struct rt_resources *r)
{
	if (r->has_pids_limit || r->pids_limit != -1) {
		gs(g, "pids");
		yajl_gen_map_open(g);
		gki(g, "limit", r->pids_limit);
		yajl_gen_map_close(g);
	}
	if (r->n_hugepage_limits) {
		gs(g, "hugepageLimits");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < r->n_hugepage_limits; i++) {
			yajl_gen_map_open(g);
			gkv(g, "pageSize", r->hugepage_limits[i].page_size);
			gs(g, "limit");
			yajl_gen_integer(g, (long long)r->hugepage_limits[i].limit);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	if (r->has_net_class_id || r->n_net_priorities) {
		gs(g, "network");
		yajl_gen_map_open(g);
		if (r->has_net_class_id)
			gki(g, "classID", r->net_class_id);
		if (r->n_net_priorities) {
			gs(g, "priorities");
			yajl_gen_array_open(g);
			for (size_t i = 0; i < r->n_net_priorities; i++) {
				yajl_gen_map_open(g);
				gkv(g, "name", r->net_priorities[i].name);
				gki(g, "priority", r->net_priorities[i].priority);
				yajl_gen_map_close(g);
			}
			yajl_gen_array_close(g);
		}
		yajl_gen_map_close(g);
	}
	if (r->n_rdma) {
		gs(g, "rdma");
		yajl_gen_map_open(g);
		for (size_t i = 0; i < r->n_rdma; i++) {
			gs(g, r->rdma[i].device);
			yajl_gen_map_open(g);
			gkl_set(g, "hcaHandles", r->rdma[i].hca_handles);
			gkl_set(g, "hcaObjects", r->rdma[i].hca_objects);
			yajl_gen_map_close(g);
		}
		yajl_gen_map_close(g);
	}
	if (r->n_unified) {
		gs(g, "unified");
		yajl_gen_map_open(g);
		for (size_t i = 0; i < r->n_unified; i++)
			gkv(g, r->unified[i].key, r->unified[i].value);
		yajl_gen_map_close(g);
	}
}

static bool any_set(const int64_t *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (*v[i] != -1)
			return true;
	return false;
}

/* Sections with nothing given stay out, as a hand-written document would. */
static void gen_resources(yajl_gen g, const struct rt_resources *r)
{
	const int64_t *mem[] = { &r->mem_limit, &r->mem_reservation, &r->mem_swap, &r->mem_kernel,
				 &r->mem_kernel_tcp, &r->mem_swappiness };
	const int64_t *cpu[] = { &r->cpu_shares, &r->cpu_quota, &r->cpu_burst,
				 &r->cpu_realtime_runtime, &r->cpu_period, &r->cpu_realtime_period };
	const int64_t *blk[] = { &r->blkio_weight, &r->blkio_leaf_weight };

	yajl_gen_map_open(g);
	if (any_set(mem, RT_ARRAY_SIZE(mem)) || r->has_disable_oom_killer || r->has_use_hierarchy ||
	    r->has_check_before_update)
		gen_res_memory(g, r);
	if (any_set(cpu, RT_ARRAY_SIZE(cpu)) || r->cpu_cpus || r->cpu_mems || r->has_cpu_idle)
		gen_res_cpu(g, r);
	if (any_set(blk, RT_ARRAY_SIZE(blk)) || r->n_blkio_weight_device ||
	    r->n_blkio_throttle_read_bps || r->n_blkio_throttle_write_bps ||
	    r->n_blkio_throttle_read_iops || r->n_blkio_throttle_write_iops)
		gen_res_blkio(g, r);
	gen_res_devices(g, r);
	gen_res_misc(g, r);
	yajl_gen_map_close(g);
}

char *rt_resources_json(const struct rt_resources *r)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	gen_resources(g, r);
	return finish(g);
}

/* Copy a parsed value back out; numbers keep their text. */
static void gen_value(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		gs(g, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v)));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			gs(g, v->u.object.keys[i]);
			gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

/* "linux" with its "resources" replaced (or added). */
static void gen_linux(yajl_gen g, yajl_val lin, const struct rt_resources *r)
{
	yajl_gen_map_open(g);
	for (size_t i = 0; YAJL_IS_OBJECT(lin) && i < lin->u.object.len; i++) {
		if (!strcmp(lin->u.object.keys[i], "resources"))
			continue;
		gs(g, lin->u.object.keys[i]);
		gen_value(g, lin->u.object.values[i]);
	}
	gs(g, "resources");
	gen_resources(g, r);
	yajl_gen_map_close(g);
}

char *rt_config_set_resources(const char *config, size_t len, const struct rt_resources *r,
			      struct rt_err *err)
{
	char ebuf[256] = "";
	_cleanup_free_ char *copy = strndup(config, len);
	yajl_val root;
	yajl_gen g;
	bool had_linux = false;
	char *out;

	if (!copy)
		return rt_err_set(err, ENOMEM, "out of memory"), NULL;
	root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return rt_err_set(err, EINVAL, "config.json: invalid JSON"), NULL;
	}
	g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < root->u.object.len; i++) {
		gs(g, root->u.object.keys[i]);
		if (!strcmp(root->u.object.keys[i], "linux")) {
			had_linux = true;
			gen_linux(g, root->u.object.values[i], r);
		} else {
			gen_value(g, root->u.object.values[i]);
		}
	}
	if (!had_linux) {
		gs(g, "linux");
		gen_linux(g, NULL, r);
	}
	yajl_gen_map_close(g);
	yajl_tree_free(root);
	if (!(out = finish(g)))
		rt_err_set(err, ENOMEM, "out of memory");
	return out;
}

/* ---- `events`: stats in runc's shape, and oom ---- */

static void gku(yajl_gen g, const char *k, uint64_t v)
{
	char buf[24];

	gs(g, k);
	/* uint64 beyond long long ("max" limits) keeps its digits. */
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	yajl_gen_number(g, buf, strlen(buf));
}

static void gen_stats_cpu(yajl_gen g, const struct cg_stats *s)
{
	gs(g, "cpu");
	yajl_gen_map_open(g);
	gs(g, "usage");
	yajl_gen_map_open(g);
	gku(g, "total", s->cpu_total);
	gs(g, "percpu");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->n_cpu_percpu; i++) {
		char buf[24];

		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s->cpu_percpu[i]);
		yajl_gen_number(g, buf, strlen(buf));
	}
	yajl_gen_array_close(g);
	gku(g, "kernel", s->cpu_kernel);
	gku(g, "user", s->cpu_user);
	yajl_gen_map_close(g);
	gs(g, "throttling");
	yajl_gen_map_open(g);
	gku(g, "periods", s->cpu_periods);
	gku(g, "throttled_periods", s->cpu_throttled_periods);
	gku(g, "throttled_time", s->cpu_throttled_time);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void gen_mem_entry(yajl_gen g, const char *k, const struct cg_mem_entry *e)
{
	gs(g, k);
	yajl_gen_map_open(g);
	gku(g, "usage", e->usage);
	gku(g, "max", e->max);
	gku(g, "failcnt", e->failcnt);
	gku(g, "limit", e->limit);
	yajl_gen_map_close(g);
}

static void gen_stats_memory(yajl_gen g, const struct cg_stats *s)
{
	gs(g, "memory");
	yajl_gen_map_open(g);
	gku(g, "cache", s->mem_cache);
	gen_mem_entry(g, "usage", &s->mem_usage);
	gen_mem_entry(g, "swap", &s->mem_swap);
	gen_mem_entry(g, "kernel", &s->mem_kernel);
	gen_mem_entry(g, "kernelTCP", &s->mem_kernel_tcp);
	gs(g, "use_hierarchy");
	yajl_gen_bool(g, s->mem_use_hierarchy);
	gs(g, "raw");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_mem_raw; i++)
		gku(g, s->mem_raw[i].key, s->mem_raw[i].value);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void gen_io_list(yajl_gen g, const char *k, const struct cg_blkio_entry *e, size_t n)
{
	gs(g, k);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gku(g, "major", e[i].major);
		gku(g, "minor", e[i].minor);
		gkv(g, "op", e[i].op);
		gku(g, "value", e[i].value);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_stats_rest(yajl_gen g, const struct cg_stats *s)
{
	gs(g, "pids");
	yajl_gen_map_open(g);
	gku(g, "current", s->pids_current);
	gku(g, "limit", s->pids_limit);
	yajl_gen_map_close(g);
	gs(g, "blkio");
	yajl_gen_map_open(g);
	gen_io_list(g, "ioServiceBytesRecursive", s->io_bytes, s->n_io_bytes);
	gen_io_list(g, "ioServicedRecursive", s->io_ops, s->n_io_ops);
	yajl_gen_map_close(g);
	gs(g, "hugetlb");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_hugetlb; i++) {
		gs(g, s->hugetlb[i].page_size);
		yajl_gen_map_open(g);
		gku(g, "usage", s->hugetlb[i].usage);
		gku(g, "max", s->hugetlb[i].max);
		gku(g, "failcnt", s->hugetlb[i].failcnt);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	gs(g, "intel_rdt");
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	gs(g, "network_interfaces");
	yajl_gen_null(g);
}

char *rt_event_json(const char *type, const char *id, const struct cg_stats *s)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	gkv(g, "type", type);
	gkv(g, "id", id);
	if (s) {
		gs(g, "data");
		yajl_gen_map_open(g);
		gen_stats_cpu(g, s);
		gen_stats_memory(g, s);
		gen_stats_rest(g, s);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return finish(g);
}
