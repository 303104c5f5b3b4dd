#include "config.h"
/* config.json "linux" -> struct rt_linux: namespaces, id mappings, devices,
 * sysctl, seccomp, personality, time offsets and resources.  Kept apart from
 * spec_parse.c only for size; it walks the DOM with the same helpers
 * (spec_json.h) and the same rules: types, ranges and names here, semantic
 * checks in spec_validate.c. */
#include "runtime/spec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/spec_json.h"

/* ---- id mappings (linux.*Mappings and mounts[].*Mappings) ---- */

static int idmap_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_id_map *m = (struct rt_id_map *)data + i;
	bool has_c = false, has_h = false, has_s = false;

	if (pj_u32(c, e, "containerID", &m->container_id, &has_c) < 0 ||
	    pj_u32(c, e, "hostID", &m->host_id, &has_h) < 0 ||
	    pj_u32(c, e, "size", &m->size, &has_s) < 0)
		return -EINVAL;
	if (!has_c || !has_h || !has_s)
		return pj_fail(c, "containerID, hostID and size are required");
	return 0;
}

int pj_idmaps(struct pj *c, yajl_val obj, const char *key, struct rt_id_map **out, size_t *n)
{
	return PJ_OBJ_LIST(c, obj, key, idmap_one, out, n);
}

/* ---- linux: namespaces, devices, seccomp, personality, time ---- */

static int ns_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_namespace *nss = data;
	const char *type = NULL, *path = NULL;
	int k;

	if (pj_str(c, e, "type", &type) < 0 || pj_str(c, e, "path", &path) < 0)
		return -EINVAL;
	if (!type)
		return pj_fail(c, "type is required");
	k = rt_ns_kind_from_name(type);
	if (k < 0) {
		pj_push_key(c, "type");
		return pj_fail(c, "unknown namespace type \"%s\"", type);
	}
	/* Caught here: the typed spec has one slot per kind and cannot
	 * represent the duplicate for the validator. */
	if (nss[k].enabled)
		return pj_fail(c, "duplicate namespace type \"%s\"", type);
	nss[k].enabled = true;
	nss[k].path = path;
	return 0;
}

static int one_char(struct pj *c, yajl_val e, const char *key, char *out)
{
	const char *s = NULL;

	if (pj_str(c, e, key, &s) < 0)
		return -EINVAL;
	if (s && strlen(s) != 1) {
		pj_push_key(c, key);
		return pj_fail(c, "expected a single character, got \"%s\"", s);
	}
	if (s)
		*out = s[0];
	return 0;
}

static int device_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_device *d = (struct rt_device *)data + i;
	uint64_t mode = 0;
	uint32_t uid = 0, gid = 0;

	d->major = d->minor = -1;
	if (one_char(c, e, "type", &d->type) < 0 || pj_str(c, e, "path", &d->path) < 0 ||
	    pj_int(c, e, "major", 0, INT64_MAX, &d->major, NULL) < 0 ||
	    pj_int(c, e, "minor", 0, INT64_MAX, &d->minor, NULL) < 0 ||
	    pj_uint(c, e, "fileMode", UINT32_MAX, &mode, &d->has_mode) < 0 ||
	    pj_u32(c, e, "uid", &uid, &d->has_uid) < 0 || pj_u32(c, e, "gid", &gid, &d->has_gid) < 0)
		return -EINVAL;
	if (!d->path || !d->type)
		return pj_fail(c, "type and path are required");
	/* Engines sometimes leave S_IF* bits in fileMode; the type comes from
	 * "type", so keep only the permission bits. */
	d->mode = (mode_t)(mode & 07777);
	d->uid = uid;
	d->gid = gid;
	return 0;
}

static const struct pj_name seccomp_ops[] = {
	{ "SCMP_CMP_NE", RT_SCMP_NE }, { "SCMP_CMP_LT", RT_SCMP_LT },
	{ "SCMP_CMP_LE", RT_SCMP_LE }, { "SCMP_CMP_EQ", RT_SCMP_EQ },
	{ "SCMP_CMP_GE", RT_SCMP_GE }, { "SCMP_CMP_GT", RT_SCMP_GT },
	{ "SCMP_CMP_MASKED_EQ", RT_SCMP_MASKED_EQ },
};

/* Actions are required wherever they appear. */
static int seccomp_action(struct pj *c, yajl_val o, const char *key, enum rt_seccomp_action *out)
{
	const char *s = NULL;
	size_t mark;

	if (pj_str(c, o, key, &s) < 0)
		return -EINVAL;
	mark = pj_push_key(c, key);
	if (!s)
		return pj_fail(c, "required");
	if (rt_seccomp_action_from_name(s, out) < 0)
		return pj_fail(c, "unknown seccomp action \"%s\"", s);
	pj_pop(c, mark);
	return 0;
}

static int seccomp_arg_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_seccomp_arg *a = (struct rt_seccomp_arg *)data + i;
	uint64_t index = 0;
	long op = -1;
	bool has_index = false;

	if (pj_uint(c, e, "index", UINT_MAX, &index, &has_index) < 0 ||
	    pj_uint(c, e, "value", UINT64_MAX, &a->value, NULL) < 0 ||
	    pj_uint(c, e, "valueTwo", UINT64_MAX, &a->value_two, NULL) < 0 ||
	    pj_enum(c, e, "op", seccomp_ops, RT_ARRAY_SIZE(seccomp_ops), "seccomp operator", &op) < 0)
		return -EINVAL;
	if (!has_index || op < 0)
		return pj_fail(c, "index and op are required");
	a->index = (unsigned)index;
	a->op = (enum rt_seccomp_op)op;
	return 0;
}

static int seccomp_rule_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_seccomp_rule *r = (struct rt_seccomp_rule *)data + i;

	if (pj_strv(c, e, "names", &r->names, &r->n_names) < 0 ||
	    seccomp_action(c, e, "action", &r->action) < 0 ||
	    pj_u32(c, e, "errnoRet", &r->errno_ret, &r->has_errno_ret) < 0)
		return -EINVAL;
	return PJ_OBJ_LIST(c, e, "args", seccomp_arg_one, &r->args, &r->n_args);
}

static int parse_seccomp(struct pj *c, yajl_val lin, struct rt_linux *l)
{
	yajl_val o;
	struct rt_seccomp *s;
	size_t mark;

	if (pj_obj(c, lin, "seccomp", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	s = l->seccomp = rt_arena_alloc(c->a, sizeof(*s));
	mark = pj_push_key(c, "seccomp");
	if (seccomp_action(c, o, "defaultAction", &s->default_action) < 0 ||
	    pj_u32(c, o, "defaultErrnoRet", &s->default_errno_ret, &s->has_default_errno_ret) < 0 ||
	    pj_strv(c, o, "architectures", &s->architectures, &s->n_architectures) < 0 ||
	    pj_strv(c, o, "flags", &s->flags, &s->n_flags) < 0 ||
	    pj_str(c, o, "listenerPath", &s->listener_path) < 0 ||
	    pj_str(c, o, "listenerMetadata", &s->listener_metadata) < 0 ||
	    PJ_OBJ_LIST(c, o, "syscalls", seccomp_rule_one, &s->rules, &s->n_rules) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

static const struct pj_name personality_domains[] = {
	{ "LINUX", PER_LINUX }, { "LINUX32", PER_LINUX32 },
};

static int parse_personality(struct pj *c, yajl_val lin, struct rt_personality *p)
{
	yajl_val o;
	long domain = -1;
	char **flags = NULL;
	size_t mark;
	int r;

	if ((r = pj_enter(c, lin, "personality", &o, &mark)) <= 0)
		return r;
	/* The spec defines no flag values yet; they are type-checked only. */
	if (pj_enum(c, o, "domain", personality_domains, RT_ARRAY_SIZE(personality_domains),
		    "personality domain", &domain) < 0 ||
	    pj_strv(c, o, "flags", &flags, NULL) < 0)
		return -EINVAL;
	if (domain < 0)
		return pj_fail(c, "domain is required");
	pj_pop(c, mark);
	p->present = true;
	p->domain = (unsigned long)domain;
	return 0;
}

static int parse_time_offset(struct pj *c, yajl_val o, const char *key, struct rt_time_offset *t)
{
	yajl_val v;
	uint64_t ns = 0;
	size_t mark;

	if (pj_obj(c, o, key, &v) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	mark = pj_push_key(c, key);
	if (pj_int(c, v, "secs", INT64_MIN, INT64_MAX, &t->secs, NULL) < 0 ||
	    pj_uint(c, v, "nanosecs", 999999999, &ns, NULL) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	t->present = true;
	t->nanosecs = (uint32_t)ns;
	return 0;
}

static int parse_linux_lists(struct pj *c, yajl_val o, struct rt_linux *l)
{
	yajl_val nss, rdt, toff;
	struct rt_kv *kv = NULL;

	if (pj_arr(c, o, "namespaces", &nss) < 0 ||
	    (nss && pj_each(c, nss, "namespaces", ns_one, l->namespaces) < 0) ||
	    pj_idmaps(c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
	    pj_idmaps(c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
	    PJ_OBJ_LIST(c, o, "devices", device_one, &l->devices, &l->n_devices) < 0)
		return -EINVAL;
	if (pj_strv(c, o, "maskedPaths", &l->masked_paths, &l->n_masked_paths) < 0 ||
	    pj_strv(c, o, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths) < 0 ||
	    pj_kv(c, o, "sysctl", &kv, &l->n_sysctl) < 0 ||
	    pj_obj(c, o, "intelRdt", &rdt) < 0 || pj_obj(c, o, "timeOffsets", &toff) < 0)
		return -EINVAL;
	l->has_masked_paths = l->masked_paths != NULL;
	l->has_readonly_paths = l->readonly_paths != NULL;
	l->has_intel_rdt = rdt != NULL;
	if (kv) {
		l->sysctl = rt_arena_array(c->a, l->n_sysctl, sizeof(*l->sysctl));
		for (size_t i = 0; i < l->n_sysctl; i++) {
			l->sysctl[i].key = kv[i].key;
			l->sysctl[i].value = kv[i].value;
		}
	}
	if (toff) {
		size_t mark = pj_push_key(c, "timeOffsets");

		if (parse_time_offset(c, toff, "monotonic", &l->time_monotonic) < 0 ||
		    parse_time_offset(c, toff, "boottime", &l->time_boottime) < 0)
			return -EINVAL;
		pj_pop(c, mark);
	}
	return 0;
}

/* ---- linux.resources ---- */

static int blkio_weight_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_blkio_dev *d = (struct rt_blkio_dev *)data + i;
	bool has_maj = false, has_min = false;

	d->weight = d->leaf_weight = -1;
	if (pj_int(c, e, "major", 0, INT64_MAX, &d->major, &has_maj) < 0 ||
	    pj_int(c, e, "minor", 0, INT64_MAX, &d->minor, &has_min) < 0 ||
	    pj_int(c, e, "weight", 0, UINT16_MAX, &d->weight, NULL) < 0 ||
	    pj_int(c, e, "leafWeight", 0, UINT16_MAX, &d->leaf_weight, NULL) < 0)
		return -EINVAL;
	if (!has_maj || !has_min)
		return pj_fail(c, "major and minor are required");
	return 0;
}

static int blkio_rate_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_blkio_dev *d = (struct rt_blkio_dev *)data + i;
	bool has_maj = false, has_min = false, has_rate = false;

	d->weight = d->leaf_weight = -1;
	if (pj_int(c, e, "major", 0, INT64_MAX, &d->major, &has_maj) < 0 ||
	    pj_int(c, e, "minor", 0, INT64_MAX, &d->minor, &has_min) < 0 ||
	    pj_uint(c, e, "rate", UINT64_MAX, &d->rate, &has_rate) < 0)
		return -EINVAL;
	if (!has_maj || !has_min || !has_rate)
		return pj_fail(c, "major, minor and rate are required");
	return 0;
}

static int parse_blkio(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;
	int st;

	if ((st = pj_enter(c, res, "blockIO", &o, &mark)) <= 0)
		return st;
	if (pj_int(c, o, "weight", 0, UINT16_MAX, &r->blkio_weight, NULL) < 0 ||
	    pj_int(c, o, "leafWeight", 0, UINT16_MAX, &r->blkio_leaf_weight, NULL) < 0 ||
	    PJ_OBJ_LIST(c, o, "weightDevice", blkio_weight_one, &r->blkio_weight_device,
			&r->n_blkio_weight_device) < 0 ||
	    PJ_OBJ_LIST(c, o, "throttleReadBpsDevice", blkio_rate_one,
			&r->blkio_throttle_read_bps, &r->n_blkio_throttle_read_bps) < 0 ||
	    PJ_OBJ_LIST(c, o, "throttleWriteBpsDevice", blkio_rate_one,
			&r->blkio_throttle_write_bps, &r->n_blkio_throttle_write_bps) < 0 ||
	    PJ_OBJ_LIST(c, o, "throttleReadIOPSDevice", blkio_rate_one,
			&r->blkio_throttle_read_iops, &r->n_blkio_throttle_read_iops) < 0 ||
	    PJ_OBJ_LIST(c, o, "throttleWriteIOPSDevice", blkio_rate_one,
			&r->blkio_throttle_write_iops, &r->n_blkio_throttle_write_iops) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

static int parse_memory(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;
	int st;

	if ((st = pj_enter(c, res, "memory", &o, &mark)) <= 0)
		return st;
	if (pj_limit(c, o, "limit", &r->mem_limit) < 0 ||
	    pj_limit(c, o, "reservation", &r->mem_reservation) < 0 ||
	    pj_limit(c, o, "swap", &r->mem_swap) < 0 ||
	    pj_limit(c, o, "kernel", &r->mem_kernel) < 0 ||
	    pj_limit(c, o, "kernelTCP", &r->mem_kernel_tcp) < 0 ||
	    pj_int(c, o, "swappiness", 0, INT64_MAX, &r->mem_swappiness, NULL) < 0 ||
	    pj_bool(c, o, "disableOOMKiller", &r->disable_oom_killer, &r->has_disable_oom_killer) < 0 ||
	    pj_bool(c, o, "useHierarchy", &r->use_hierarchy, &r->has_use_hierarchy) < 0 ||
	    pj_bool(c, o, "checkBeforeUpdate", &r->check_before_update,
		    &r->has_check_before_update) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

static int parse_cpu(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;
	int st;

	if ((st = pj_enter(c, res, "cpu", &o, &mark)) <= 0)
		return st;
	/* uint64 in the spec, but nothing sane exceeds INT64_MAX. */
	if (pj_int(c, o, "shares", 0, INT64_MAX, &r->cpu_shares, NULL) < 0 ||
	    pj_limit(c, o, "quota", &r->cpu_quota) < 0 ||
	    pj_int(c, o, "burst", 0, INT64_MAX, &r->cpu_burst, NULL) < 0 ||
	    pj_int(c, o, "period", 0, INT64_MAX, &r->cpu_period, NULL) < 0 ||
	    pj_int(c, o, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu_realtime_runtime, NULL) < 0 ||
	    pj_int(c, o, "realtimePeriod", 0, INT64_MAX, &r->cpu_realtime_period, NULL) < 0 ||
	    pj_str(c, o, "cpus", &r->cpu_cpus) < 0 || pj_str(c, o, "mems", &r->cpu_mems) < 0 ||
	    pj_int(c, o, "idle", INT64_MIN, INT64_MAX, &r->cpu_idle, &r->has_cpu_idle) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

static int hugepage_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_hugepage_limit *h = (struct rt_hugepage_limit *)data + i;
	bool has_limit = false;

	if (pj_str(c, e, "pageSize", &h->page_size) < 0 ||
	    pj_uint(c, e, "limit", UINT64_MAX, &h->limit, &has_limit) < 0)
		return -EINVAL;
	if (!h->page_size || !has_limit)
		return pj_fail(c, "pageSize and limit are required");
	return 0;
}

static int net_prio_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_net_prio *p = (struct rt_net_prio *)data + i;

	if (pj_str(c, e, "name", &p->name) < 0 || pj_u32(c, e, "priority", &p->priority, NULL) < 0)
		return -EINVAL;
	if (!p->name)
		return pj_fail(c, "name is required");
	return 0;
}

static int dev_rule_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_device_rule *d = (struct rt_device_rule *)data + i;
	bool has_allow = false;

	d->type = 'a';
	d->major = d->minor = -1;
	if (pj_bool(c, e, "allow", &d->allow, &has_allow) < 0 || one_char(c, e, "type", &d->type) < 0 ||
	    pj_int(c, e, "major", -1, INT64_MAX, &d->major, NULL) < 0 ||
	    pj_int(c, e, "minor", -1, INT64_MAX, &d->minor, NULL) < 0 ||
	    pj_str(c, e, "access", &d->access) < 0)
		return -EINVAL;
	if (!has_allow)
		return pj_fail(c, "allow is required");
	return 0;
}

static int parse_rdma(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;

	if (pj_obj(c, res, "rdma", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	r->n_rdma = o->u.object.len;
	r->rdma = rt_arena_array(c->a, r->n_rdma, sizeof(*r->rdma));
	mark = pj_push_key(c, "rdma");
	for (size_t i = 0; i < r->n_rdma; i++) {
		struct rt_rdma *d = &r->rdma[i];
		yajl_val v = o->u.object.values[i];
		size_t m = pj_push(c, "[\"%s\"]", o->u.object.keys[i]);

		if (!YAJL_IS_OBJECT(v))
			return pj_fail(c, "expected an object");
		d->device = rt_arena_strdup(c->a, o->u.object.keys[i]);
		d->hca_handles = d->hca_objects = -1;
		if (pj_int(c, v, "hcaHandles", 0, UINT32_MAX, &d->hca_handles, NULL) < 0 ||
		    pj_int(c, v, "hcaObjects", 0, UINT32_MAX, &d->hca_objects, NULL) < 0)
			return -EINVAL;
		pj_pop(c, m);
	}
	pj_pop(c, mark);
	return 0;
}

static void resources_unset(struct rt_resources *r)
{
	r->mem_limit = r->mem_reservation = r->mem_swap = r->mem_kernel = -1;
	r->mem_kernel_tcp = r->mem_swappiness = -1;
	r->cpu_shares = r->cpu_quota = r->cpu_burst = r->cpu_realtime_runtime = -1;
	r->cpu_period = r->cpu_realtime_period = r->cpu_idle = -1;
	r->pids_limit = -1;
	r->blkio_weight = r->blkio_leaf_weight = -1;
}

/* The body of a LinuxResources object o, shared by config.json's
 * linux.resources and `update --resources`. */
static int resources_body(struct pj *c, yajl_val o, struct rt_resources *r)
{
	yajl_val pids, net;

	r->present = true;
	if (parse_memory(c, o, r) < 0 || parse_cpu(c, o, r) < 0 || parse_blkio(c, o, r) < 0 ||
	    parse_rdma(c, o, r) < 0 || pj_kv(c, o, "unified", &r->unified, &r->n_unified) < 0 ||
	    PJ_OBJ_LIST(c, o, "devices", dev_rule_one, &r->devices, &r->n_devices) < 0 ||
	    PJ_OBJ_LIST(c, o, "hugepageLimits", hugepage_one, &r->hugepage_limits,
			&r->n_hugepage_limits) < 0 ||
	    pj_obj(c, o, "pids", &pids) < 0 || pj_obj(c, o, "network", &net) < 0)
		return -EINVAL;
	if (pids) {
		size_t m = pj_push_key(c, "pids");

		if (pj_int(c, pids, "limit", INT64_MIN, INT64_MAX, &r->pids_limit,
			   &r->has_pids_limit) < 0)
			return -EINVAL;
		pj_pop(c, m);
	}
	if (net) {
		size_t m = pj_push_key(c, "network");

		if (pj_u32(c, net, "classID", &r->net_class_id, &r->has_net_class_id) < 0 ||
		    PJ_OBJ_LIST(c, net, "priorities", net_prio_one, &r->net_priorities,
				&r->n_net_priorities) < 0)
			return -EINVAL;
		pj_pop(c, m);
	}
	return 0;
}

static int parse_resources(struct pj *c, yajl_val lin, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;
	int st;

	resources_unset(r);
	if ((st = pj_enter(c, lin, "resources", &o, &mark)) <= 0)
		return st;
	if (resources_body(c, o, r) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

int rt_resources_parse(const char *json, size_t len, struct rt_arena *a,
		       struct rt_resources *out, struct rt_err *err)
{
	struct pj c = { .a = a, .err = err };
	yajl_val doc;
	int r;

	memset(out, 0, sizeof(*out));
	resources_unset(out);
	if (pj_parse_text(json, len, "resources", &doc, err) < 0)
		return -err->code;
	if (!YAJL_IS_OBJECT(doc))
		r = rt_err_set(err, EINVAL, "resources: expected a JSON object");
	else
		r = resources_body(&c, doc, out);
	yajl_tree_free(doc);
	return r;
}

int pj_linux(struct pj *c, yajl_val doc, struct rt_linux *l)
{
	yajl_val o;
	size_t mark;
	int r;

	resources_unset(&l->resources);
	if ((r = pj_enter(c, doc, "linux", &o, &mark)) <= 0)
		return r;
	if (parse_linux_lists(c, o, l) < 0 || parse_seccomp(c, o, l) < 0 ||
	    parse_personality(c, o, &l->personality) < 0 ||
	    parse_resources(c, o, &l->resources) < 0 ||
	    pj_str(c, o, "rootfsPropagation", &l->rootfs_propagation) < 0 ||
	    pj_str(c, o, "mountLabel", &l->mount_label) < 0 ||
	    pj_str(c, o, "cgroupsPath", &l->cgroups_path) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}
