#include "config.h"
/* config.json -> struct rt_spec.  The only JSON reader of the program.
 *
 * yajl_tree builds a DOM, which we walk while keeping the JSON path of the
 * value being looked at, so that every type or range error can name the
 * field ("process.user.uid: expected an unsigned integer").  Unknown keys
 * are ignored and JSON null counts as absent, as Go's decoder (runc) does.
 * Semantic checks live in spec_validate.c; here we only check types, ranges
 * and names that must be mapped to numbers. */
#include "runtime/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/util.h"

#define SPEC_MAX_SIZE (16u << 20)

/* The walk's state: where allocations go, where errors go, and the JSON
 * path of the value being looked at. */
struct pj {
	struct rt_arena *a;
	struct rt_err *err;
	char path[512];
	size_t len;
};

struct pj_name {
	const char *name;
	long value;
};

static int pj_fail(struct pj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t pj_push(struct pj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- generic walking helpers ---- */

static size_t pj_push(struct pj *c, const char *fmt, ...)
{
	size_t mark = c->len;
	va_list ap;
	int n;

	if (c->len >= sizeof(c->path) - 1)
		return mark;
	va_start(ap, fmt);
	n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len += (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - 1 - c->len;
	return mark;
}

static size_t pj_push_key(struct pj *c, const char *key)
{
	return pj_push(c, c->len ? ".%s" : "%s", key);
}

static void pj_pop(struct pj *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

static int pj_fail(struct pj *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rt_err_set(c->err, EINVAL, "%s: %s", c->len ? c->path : "(top level)", msg);
}

/* Absent and null are the same thing: "not given". */
static yajl_val pj_get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_val v = obj->u.object.values[i];
			return YAJL_IS_NULL(v) ? NULL : v;
		}
	}
	return NULL;
}

/* Integers are read from the number's text, so that the whole uint64 range
 * works (yajl's own integer is a long long) and "1.0" or "1e3" are refused
 * instead of silently truncated. */
static int read_integer(yajl_val v, bool *neg, uint64_t *mag)
{
	const char *s;
	char *end;

	if (!YAJL_IS_NUMBER(v))
		return -EINVAL;
	s = YAJL_GET_NUMBER(v);
	*neg = s[0] == '-';
	if (*neg)
		s++;
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*mag = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	return errno == ERANGE ? -ERANGE : 0;
}

static int pj_val_uint(struct pj *c, yajl_val v, uint64_t max, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int r = read_integer(v, &neg, &mag);

	if (r == -EINVAL || (neg && mag != 0))
		return pj_fail(c, "expected an unsigned integer");
	if (r == -ERANGE || mag > max)
		return pj_fail(c, "%s is out of range (maximum %" PRIu64 ")",
			       YAJL_GET_NUMBER(v), max);
	*out = mag;
	return 0;
}

static int pj_val_int(struct pj *c, yajl_val v, int64_t min, int64_t max, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int64_t x;
	int r = read_integer(v, &neg, &mag);

	if (r == -EINVAL)
		return pj_fail(c, "expected an integer");
	if (r == -ERANGE || (!neg && mag > (uint64_t)INT64_MAX) ||
	    (neg && mag > (uint64_t)INT64_MAX + 1))
		goto range;
	x = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if (x < min || x > max)
		goto range;
	*out = x;
	return 0;
range:
	return pj_fail(c, "%s is out of range (%" PRId64 " to %" PRId64 ")",
		       YAJL_GET_NUMBER(v), min, max);
}

static int pj_val_str(struct pj *c, yajl_val v, const char **out)
{
	if (!YAJL_IS_STRING(v))
		return pj_fail(c, "expected a string");
	*out = rt_arena_strdup(c->a, YAJL_GET_STRING(v));
	return 0;
}

/* Field variants: push the key, convert, pop.  *present (optional) tells
 * "given" from "absent" where the struct keeps that distinction. */
#define FIELD_WRAP(call)                                        \
	do {                                                    \
		size_t m_ = pj_push_key(c, key);                \
		int r_ = (call);                                \
		pj_pop(c, m_);                                  \
		if (r_ < 0)                                     \
			return r_;                              \
	} while (0)

static int pj_uint(struct pj *c, yajl_val obj, const char *key, uint64_t max, uint64_t *out, bool *present)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	FIELD_WRAP(pj_val_uint(c, v, max, out));
	if (present)
		*present = true;
	return 0;
}

static int pj_int(struct pj *c, yajl_val obj, const char *key, int64_t min, int64_t max,
	   int64_t *out, bool *present)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	FIELD_WRAP(pj_val_int(c, v, min, max, out));
	if (present)
		*present = true;
	return 0;
}

/* A resource limit: JSON -1 means unlimited, kept apart from "not given". */
static int pj_limit(struct pj *c, yajl_val obj, const char *key, int64_t *out)
{
	bool present = false;
	int r = pj_int(c, obj, key, INT64_MIN + 1, INT64_MAX, out, &present);

	if (r == 0 && present && *out == -1)
		*out = RT_RES_UNLIMITED;
	return r;
}

static int pj_u32(struct pj *c, yajl_val obj, const char *key, uint32_t *out, bool *present)
{
	uint64_t x;
	bool p = false;
	int r = pj_uint(c, obj, key, UINT32_MAX, &x, &p);

	if (r == 0 && p) {
		*out = (uint32_t)x;
		if (present)
			*present = true;
	}
	return r;
}

static int pj_str(struct pj *c, yajl_val obj, const char *key, const char **out)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	FIELD_WRAP(pj_val_str(c, v, out));
	return 0;
}

static int pj_bool(struct pj *c, yajl_val obj, const char *key, bool *out, bool *present)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		FIELD_WRAP(pj_fail(c, "expected a boolean"));
	*out = YAJL_IS_TRUE(v);
	if (present)
		*present = true;
	return 0;
}

/* Typed container getters: *out is NULL when absent. */
static int pj_obj(struct pj *c, yajl_val obj, const char *key, yajl_val *out)
{
	yajl_val v = pj_get(obj, key);

	*out = NULL;
	if (v && !YAJL_IS_OBJECT(v))
		FIELD_WRAP(pj_fail(c, "expected an object"));
	*out = v;
	return 0;
}

static int pj_arr(struct pj *c, yajl_val obj, const char *key, yajl_val *out)
{
	yajl_val v = pj_get(obj, key);

	*out = NULL;
	if (v && !YAJL_IS_ARRAY(v))
		FIELD_WRAP(pj_fail(c, "expected an array"));
	*out = v;
	return 0;
}

/* Array of strings -> NULL-terminated vector.  Absent leaves *out NULL. */
static int pj_strv(struct pj *c, yajl_val obj, const char *key, char ***out, size_t *n)
{
	yajl_val arr;
	char **v;
	size_t len, mark;

	if (pj_arr(c, obj, key, &arr) < 0)
		return -EINVAL;
	if (!arr)
		return 0;
	len = arr->u.array.len;
	v = rt_arena_array(c->a, len + 1, sizeof(*v));
	mark = pj_push_key(c, key);
	for (size_t i = 0; i < len; i++) {
		size_t m = pj_push(c, "[%zu]", i);
		int r = pj_val_str(c, arr->u.array.values[i], (const char **)&v[i]);
		if (r < 0)
			return r;
		pj_pop(c, m);
	}
	pj_pop(c, mark);
	*out = v;
	if (n)
		*n = len;
	return 0;
}

/* Object of string values -> key/value pairs in document order. */
static int pj_kv(struct pj *c, yajl_val obj, const char *key, struct rt_kv **out, size_t *n)
{
	yajl_val o;
	struct rt_kv *kv;
	size_t mark;

	if (pj_obj(c, obj, key, &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	kv = rt_arena_array(c->a, o->u.object.len, sizeof(*kv));
	mark = pj_push_key(c, key);
	for (size_t i = 0; i < o->u.object.len; i++) {
		size_t m = pj_push(c, "[\"%s\"]", o->u.object.keys[i]);
		int r = pj_val_str(c, o->u.object.values[i], &kv[i].value);
		if (r < 0)
			return r;
		pj_pop(c, m);
		kv[i].key = rt_arena_strdup(c->a, o->u.object.keys[i]);
	}
	pj_pop(c, mark);
	*out = kv;
	*n = o->u.object.len;
	return 0;
}

/* Walk an array of objects, calling fn for each element with the path set
 * to key[i].  Arrays are allocated by the caller from the length. */
static int pj_each(struct pj *c, yajl_val arr, const char *key,
	    int (*fn)(struct pj *c, yajl_val elem, size_t i, void *data), void *data)
{
	size_t mark = pj_push_key(c, key);

	for (size_t i = 0; i < arr->u.array.len; i++) {
		size_t m = pj_push(c, "[%zu]", i);
		yajl_val e = arr->u.array.values[i];
		int r;

		if (!YAJL_IS_OBJECT(e))
			return pj_fail(c, "expected an object");
		r = fn(c, e, i, data);
		if (r < 0)
			return r;
		pj_pop(c, m);
	}
	pj_pop(c, mark);
	return 0;
}

/* Look a string field up in a name table; absent leaves *out unchanged. */
static int pj_enum(struct pj *c, yajl_val obj, const char *key, const struct pj_name *tab,
	    size_t n, const char *what, long *out)
{
	const char *s = NULL;

	if (pj_str(c, obj, key, &s) < 0)
		return -EINVAL;
	if (!s)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(tab[i].name, s) == 0) {
			*out = tab[i].value;
			return 0;
		}
	}
	FIELD_WRAP(pj_fail(c, "unknown %s \"%s\"", what, s));
	return -EINVAL;
}

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

static int pj_idmaps(struct pj *c, yajl_val obj, const char *key, struct rt_id_map **out, size_t *n)
{
	yajl_val arr;

	if (pj_arr(c, obj, key, &arr) < 0)
		return -EINVAL;
	if (!arr)
		return 0;
	*out = rt_arena_array(c->a, arr->u.array.len, sizeof(**out));
	*n = arr->u.array.len;
	return pj_each(c, arr, key, idmap_one, *out);
}

/* ---- process ---- */

static const struct pj_name sched_policies[] = {
	{ "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },
	{ "SCHED_BATCH", 3 }, { "SCHED_ISO", 4 }, { "SCHED_IDLE", 5 },
	{ "SCHED_DEADLINE", 6 },
};

static const struct pj_name sched_flags[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
	{ "SCHED_FLAG_DL_OVERRUN", 0x04 }, { "SCHED_FLAG_KEEP_POLICY", 0x08 },
	{ "SCHED_FLAG_KEEP_PARAMS", 0x10 }, { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

static const struct pj_name ioprio_classes[] = {
	{ "IOPRIO_CLASS_RT", 1 }, { "IOPRIO_CLASS_BE", 2 }, { "IOPRIO_CLASS_IDLE", 3 },
};

static int parse_cap_set(struct pj *c, yajl_val o, const char *key, uint64_t *out)
{
	char **names = NULL;
	size_t n = 0;

	if (pj_strv(c, o, key, &names, &n) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int cap = rt_cap_from_name(names[i]);

		if (cap < 0) {
			pj_push_key(c, key);
			pj_push(c, "[%zu]", i);
			return pj_fail(c, "unknown capability \"%s\"", names[i]);
		}
		*out |= UINT64_C(1) << cap;
	}
	return 0;
}

static int parse_caps(struct pj *c, yajl_val proc, struct rt_caps *caps)
{
	yajl_val o;
	size_t mark;
	int r;

	if (pj_obj(c, proc, "capabilities", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	caps->present = true;
	mark = pj_push_key(c, "capabilities");
	r = parse_cap_set(c, o, "bounding", &caps->bounding);
	if (!r)
		r = parse_cap_set(c, o, "effective", &caps->effective);
	if (!r)
		r = parse_cap_set(c, o, "inheritable", &caps->inheritable);
	if (!r)
		r = parse_cap_set(c, o, "permitted", &caps->permitted);
	if (!r)
		r = parse_cap_set(c, o, "ambient", &caps->ambient);
	pj_pop(c, mark);
	return r;
}

static int parse_user(struct pj *c, yajl_val proc, struct rt_user *u)
{
	yajl_val o, gids;
	uint64_t umask = 0;
	uint32_t uid = 0, gid = 0;
	size_t mark;

	if (pj_obj(c, proc, "user", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "user");
	if (pj_u32(c, o, "uid", &uid, NULL) < 0 || pj_u32(c, o, "gid", &gid, NULL) < 0 ||
	    pj_uint(c, o, "umask", 0777, &umask, &u->has_umask) < 0 ||
	    pj_str(c, o, "username", &u->username) < 0 ||
	    pj_arr(c, o, "additionalGids", &gids) < 0)
		return -EINVAL;
	u->uid = uid;
	u->gid = gid;
	u->umask = (mode_t)umask;
	if (gids) {
		size_t n = gids->u.array.len;

		u->additional_gids = rt_arena_array(c->a, n, sizeof(gid_t));
		u->n_additional_gids = n;
		pj_push_key(c, "additionalGids");
		for (size_t i = 0; i < n; i++) {
			uint64_t g;
			size_t m = pj_push(c, "[%zu]", i);

			if (pj_val_uint(c, gids->u.array.values[i], UINT32_MAX, &g) < 0)
				return -EINVAL;
			u->additional_gids[i] = (gid_t)g;
			pj_pop(c, m);
		}
	}
	pj_pop(c, mark);
	return 0;
}

static int rlimit_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_rlimit *rl = (struct rt_rlimit *)data + i;
	bool has_soft = false, has_hard = false;

	if (pj_str(c, e, "type", &rl->name) < 0 ||
	    pj_uint(c, e, "soft", UINT64_MAX, &rl->soft, &has_soft) < 0 ||
	    pj_uint(c, e, "hard", UINT64_MAX, &rl->hard, &has_hard) < 0)
		return -EINVAL;
	if (!rl->name)
		return pj_fail(c, "type is required");
	if (!has_soft || !has_hard)
		return pj_fail(c, "soft and hard are required");
	rl->resource = rt_rlimit_from_name(rl->name);
	if (rl->resource < 0) {
		pj_push_key(c, "type");
		return pj_fail(c, "unknown rlimit \"%s\"", rl->name);
	}
	return 0;
}

static int parse_rlimits(struct pj *c, yajl_val proc, struct rt_process *p)
{
	yajl_val arr;

	if (pj_arr(c, proc, "rlimits", &arr) < 0)
		return -EINVAL;
	if (!arr)
		return 0;
	p->n_rlimits = arr->u.array.len;
	p->rlimits = rt_arena_array(c->a, p->n_rlimits, sizeof(*p->rlimits));
	return pj_each(c, arr, "rlimits", rlimit_one, p->rlimits);
}

static int parse_scheduler(struct pj *c, yajl_val proc, struct rt_scheduler *s)
{
	yajl_val o, flags;
	long policy = -1;
	int64_t nice = 0, prio = 0;
	size_t mark;

	if (pj_obj(c, proc, "scheduler", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "scheduler");
	if (pj_enum(c, o, "policy", sched_policies, RT_ARRAY_SIZE(sched_policies),
		    "scheduler policy", &policy) < 0 ||
	    pj_int(c, o, "nice", -20, 19, &nice, NULL) < 0 ||
	    pj_int(c, o, "priority", INT32_MIN, INT32_MAX, &prio, NULL) < 0 ||
	    pj_uint(c, o, "runtime", UINT64_MAX, &s->runtime, NULL) < 0 ||
	    pj_uint(c, o, "deadline", UINT64_MAX, &s->deadline, NULL) < 0 ||
	    pj_uint(c, o, "period", UINT64_MAX, &s->period, NULL) < 0 ||
	    pj_arr(c, o, "flags", &flags) < 0)
		return -EINVAL;
	if (policy < 0)
		return pj_fail(c, "policy is required");
	if (flags) {
		pj_push_key(c, "flags");
		for (size_t i = 0; i < flags->u.array.len; i++) {
			yajl_val f = flags->u.array.values[i];
			size_t k, m = pj_push(c, "[%zu]", i);

			if (!YAJL_IS_STRING(f))
				return pj_fail(c, "expected a string");
			for (k = 0; k < RT_ARRAY_SIZE(sched_flags); k++)
				if (strcmp(sched_flags[k].name, f->u.string) == 0)
					break;
			if (k == RT_ARRAY_SIZE(sched_flags))
				return pj_fail(c, "unknown scheduler flag \"%s\"", f->u.string);
			s->flags |= (uint64_t)sched_flags[k].value;
			pj_pop(c, m);
		}
	}
	pj_pop(c, mark);
	s->present = true;
	s->policy = (int)policy;
	s->nice = (int)nice;
	s->priority = (int)prio;
	return 0;
}

static int parse_ioprio(struct pj *c, yajl_val proc, struct rt_io_priority *io)
{
	yajl_val o;
	long cls = -1;
	int64_t prio = 0;
	size_t mark;

	if (pj_obj(c, proc, "ioPriority", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "ioPriority");
	if (pj_enum(c, o, "class", ioprio_classes, RT_ARRAY_SIZE(ioprio_classes),
		    "I/O priority class", &cls) < 0 ||
	    pj_int(c, o, "priority", 0, 7, &prio, NULL) < 0)
		return -EINVAL;
	if (cls < 0)
		return pj_fail(c, "class is required");
	pj_pop(c, mark);
	io->present = true;
	io->class = (int)cls;
	io->priority = (int)prio;
	return 0;
}

static int parse_process_misc(struct pj *c, yajl_val o, struct rt_process *p)
{
	yajl_val cs, aff;
	int64_t oom = 0;

	if (pj_bool(c, o, "terminal", &p->terminal, NULL) < 0 ||
	    pj_strv(c, o, "args", &p->args, &p->n_args) < 0 ||
	    pj_strv(c, o, "env", &p->env, &p->n_env) < 0 ||
	    pj_str(c, o, "cwd", &p->cwd) < 0 ||
	    pj_bool(c, o, "noNewPrivileges", &p->no_new_privileges, NULL) < 0 ||
	    pj_int(c, o, "oomScoreAdj", INT_MIN, INT_MAX, &oom, &p->has_oom_score_adj) < 0 ||
	    pj_str(c, o, "apparmorProfile", &p->apparmor_profile) < 0 ||
	    pj_str(c, o, "selinuxLabel", &p->selinux_label) < 0 ||
	    pj_obj(c, o, "consoleSize", &cs) < 0 || pj_obj(c, o, "execCPUAffinity", &aff) < 0)
		return -EINVAL;
	p->oom_score_adj = (int)oom;
	if (cs) {
		uint64_t h = 0, w = 0;
		size_t mark = pj_push_key(c, "consoleSize");

		/* struct winsize holds unsigned shorts. */
		if (pj_uint(c, cs, "height", UINT16_MAX, &h, NULL) < 0 ||
		    pj_uint(c, cs, "width", UINT16_MAX, &w, NULL) < 0)
			return -EINVAL;
		pj_pop(c, mark);
		p->has_console_size = true;
		p->console_height = (unsigned)h;
		p->console_width = (unsigned)w;
	}
	if (aff) {
		size_t mark = pj_push_key(c, "execCPUAffinity");

		if (pj_str(c, aff, "initial", &p->exec_cpu_affinity_initial) < 0 ||
		    pj_str(c, aff, "final", &p->exec_cpu_affinity_final) < 0)
			return -EINVAL;
		pj_pop(c, mark);
	}
	return 0;
}

static int pj_process(struct pj *c, yajl_val o, struct rt_process *p)
{
	if (parse_process_misc(c, o, p) < 0 || parse_user(c, o, &p->user) < 0 ||
	    parse_caps(c, o, &p->caps) < 0 || parse_rlimits(c, o, p) < 0 ||
	    parse_scheduler(c, o, &p->scheduler) < 0 || parse_ioprio(c, o, &p->io_priority) < 0)
		return -EINVAL;
	return 0;
}

/* ---- mounts, hooks ---- */

static int mount_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_mount *m = (struct rt_mount *)data + i;

	if (pj_str(c, e, "destination", &m->destination) < 0 ||
	    pj_str(c, e, "source", &m->source) < 0 || pj_str(c, e, "type", &m->type) < 0 ||
	    pj_strv(c, e, "options", &m->options, &m->n_options) < 0 ||
	    pj_idmaps(c, e, "uidMappings", &m->uid_mappings, &m->n_uid_mappings) < 0 ||
	    pj_idmaps(c, e, "gidMappings", &m->gid_mappings, &m->n_gid_mappings) < 0)
		return -EINVAL;
	if (!m->destination)
		return pj_fail(c, "destination is required");
	return 0;
}

static int hook_one(struct pj *c, yajl_val e, size_t i, void *data)
{
	struct rt_hook *h = (struct rt_hook *)data + i;
	int64_t timeout = 0;

	/* The spec says a given timeout MUST be > 0; 0 means "none" here. */
	if (pj_str(c, e, "path", &h->path) < 0 || pj_strv(c, e, "args", &h->args, NULL) < 0 ||
	    pj_strv(c, e, "env", &h->env, NULL) < 0 ||
	    pj_int(c, e, "timeout", 1, INT_MAX, &timeout, NULL) < 0)
		return -EINVAL;
	if (!h->path)
		return pj_fail(c, "path is required");
	h->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(struct pj *c, yajl_val doc, struct rt_spec *s)
{
	yajl_val o;
	size_t mark;

	if (pj_obj(c, doc, "hooks", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "hooks");
	for (int k = 0; k < RT_HOOK__COUNT; k++) {
		const char *name = rt_hook_kind_name(k);
		struct rt_hook_list *l = &s->hooks[k];
		yajl_val arr;

		if (pj_arr(c, o, name, &arr) < 0)
			return -EINVAL;
		if (!arr)
			continue;
		l->n = arr->u.array.len;
		l->hooks = rt_arena_array(c->a, l->n, sizeof(*l->hooks));
		if (pj_each(c, arr, name, hook_one, l->hooks) < 0)
			return -EINVAL;
	}
	pj_pop(c, mark);
	return 0;
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
	yajl_val args;

	if (pj_strv(c, e, "names", &r->names, &r->n_names) < 0 ||
	    seccomp_action(c, e, "action", &r->action) < 0 ||
	    pj_u32(c, e, "errnoRet", &r->errno_ret, &r->has_errno_ret) < 0 ||
	    pj_arr(c, e, "args", &args) < 0)
		return -EINVAL;
	if (!args)
		return 0;
	r->n_args = args->u.array.len;
	r->args = rt_arena_array(c->a, r->n_args, sizeof(*r->args));
	return pj_each(c, args, "args", seccomp_arg_one, r->args);
}

static int parse_seccomp(struct pj *c, yajl_val lin, struct rt_linux *l)
{
	yajl_val o, rules;
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
	    pj_arr(c, o, "syscalls", &rules) < 0)
		return -EINVAL;
	if (rules) {
		s->n_rules = rules->u.array.len;
		s->rules = rt_arena_array(c->a, s->n_rules, sizeof(*s->rules));
		if (pj_each(c, rules, "syscalls", seccomp_rule_one, s->rules) < 0)
			return -EINVAL;
	}
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

	if (pj_obj(c, lin, "personality", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "personality");
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
	yajl_val nss, devs, rdt, toff;
	struct rt_kv *kv = NULL;

	if (pj_arr(c, o, "namespaces", &nss) < 0 ||
	    (nss && pj_each(c, nss, "namespaces", ns_one, l->namespaces) < 0) ||
	    pj_idmaps(c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
	    pj_idmaps(c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
	    pj_arr(c, o, "devices", &devs) < 0)
		return -EINVAL;
	if (devs) {
		l->n_devices = devs->u.array.len;
		l->devices = rt_arena_array(c->a, l->n_devices, sizeof(*l->devices));
		if (pj_each(c, devs, "devices", device_one, l->devices) < 0)
			return -EINVAL;
	}
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

static int blkio_list(struct pj *c, yajl_val o, const char *key,
		      int (*fn)(struct pj *, yajl_val, size_t, void *),
		      struct rt_blkio_dev **out, size_t *n)
{
	yajl_val arr;

	if (pj_arr(c, o, key, &arr) < 0)
		return -EINVAL;
	if (!arr)
		return 0;
	*n = arr->u.array.len;
	*out = rt_arena_array(c->a, *n, sizeof(**out));
	return pj_each(c, arr, key, fn, *out);
}

static int parse_blkio(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;

	if (pj_obj(c, res, "blockIO", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "blockIO");
	if (pj_int(c, o, "weight", 0, UINT16_MAX, &r->blkio_weight, NULL) < 0 ||
	    pj_int(c, o, "leafWeight", 0, UINT16_MAX, &r->blkio_leaf_weight, NULL) < 0 ||
	    blkio_list(c, o, "weightDevice", blkio_weight_one, &r->blkio_weight_device,
		       &r->n_blkio_weight_device) < 0 ||
	    blkio_list(c, o, "throttleReadBpsDevice", blkio_rate_one,
		       &r->blkio_throttle_read_bps, &r->n_blkio_throttle_read_bps) < 0 ||
	    blkio_list(c, o, "throttleWriteBpsDevice", blkio_rate_one,
		       &r->blkio_throttle_write_bps, &r->n_blkio_throttle_write_bps) < 0 ||
	    blkio_list(c, o, "throttleReadIOPSDevice", blkio_rate_one,
		       &r->blkio_throttle_read_iops, &r->n_blkio_throttle_read_iops) < 0 ||
	    blkio_list(c, o, "throttleWriteIOPSDevice", blkio_rate_one,
		       &r->blkio_throttle_write_iops, &r->n_blkio_throttle_write_iops) < 0)
		return -EINVAL;
	pj_pop(c, mark);
	return 0;
}

static int parse_memory(struct pj *c, yajl_val res, struct rt_resources *r)
{
	yajl_val o;
	size_t mark;

	if (pj_obj(c, res, "memory", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "memory");
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

	if (pj_obj(c, res, "cpu", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "cpu");
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

/* Arrays of objects whose element parser needs nothing but the element. */
static int obj_list(struct pj *c, yajl_val o, const char *key, size_t elem_size,
		    int (*fn)(struct pj *, yajl_val, size_t, void *), void **out, size_t *n)
{
	yajl_val arr;

	if (pj_arr(c, o, key, &arr) < 0)
		return -EINVAL;
	if (!arr)
		return 0;
	*n = arr->u.array.len;
	*out = rt_arena_array(c->a, *n, elem_size);
	return pj_each(c, arr, key, fn, *out);
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

static int parse_resources(struct pj *c, yajl_val lin, struct rt_resources *r)
{
	yajl_val o, pids, net;
	size_t mark;

	resources_unset(r);
	if (pj_obj(c, lin, "resources", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	r->present = true;
	mark = pj_push_key(c, "resources");
	if (parse_memory(c, o, r) < 0 || parse_cpu(c, o, r) < 0 || parse_blkio(c, o, r) < 0 ||
	    parse_rdma(c, o, r) < 0 || pj_kv(c, o, "unified", &r->unified, &r->n_unified) < 0 ||
	    obj_list(c, o, "devices", sizeof(*r->devices), dev_rule_one, (void **)&r->devices,
		     &r->n_devices) < 0 ||
	    obj_list(c, o, "hugepageLimits", sizeof(*r->hugepage_limits), hugepage_one,
		     (void **)&r->hugepage_limits, &r->n_hugepage_limits) < 0 ||
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
		    obj_list(c, net, "priorities", sizeof(*r->net_priorities), net_prio_one,
			     (void **)&r->net_priorities, &r->n_net_priorities) < 0)
			return -EINVAL;
		pj_pop(c, m);
	}
	pj_pop(c, mark);
	return 0;
}

static int parse_linux(struct pj *c, yajl_val doc, struct rt_linux *l)
{
	yajl_val o;
	size_t mark;

	resources_unset(&l->resources);
	if (pj_obj(c, doc, "linux", &o) < 0)
		return -EINVAL;
	if (!o)
		return 0;
	mark = pj_push_key(c, "linux");
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

/* ---- the document ---- */

static int pj_spec(struct pj *c, yajl_val doc, struct rt_spec *s)
{
	yajl_val root, proc;

	if (pj_str(c, doc, "ociVersion", &s->oci_version) < 0 ||
	    pj_str(c, doc, "hostname", &s->hostname) < 0 ||
	    pj_str(c, doc, "domainname", &s->domainname) < 0 ||
	    pj_obj(c, doc, "root", &root) < 0 || pj_obj(c, doc, "process", &proc) < 0 ||
	    obj_list(c, doc, "mounts", sizeof(*s->mounts), mount_one, (void **)&s->mounts,
		     &s->n_mounts) < 0 ||
	    parse_hooks(c, doc, s) < 0 ||
	    pj_kv(c, doc, "annotations", &s->annotations, &s->n_annotations) < 0 ||
	    parse_linux(c, doc, &s->linux_) < 0)
		return -EINVAL;
	if (root) {
		size_t m = pj_push_key(c, "root");

		if (pj_str(c, root, "path", &s->root_path) < 0 ||
		    pj_bool(c, root, "readonly", &s->root_readonly, NULL) < 0)
			return -EINVAL;
		pj_pop(c, m);
	}
	if (proc) {
		size_t m = pj_push_key(c, "process");

		if (pj_process(c, proc, &s->process) < 0)
			return -EINVAL;
		pj_pop(c, m);
		s->has_process = true;
	}
	return 0;
}

/* ---- JSON text -> DOM ---- */

/* yajl_tree does not say where the error is beyond an ASCII-art snippet, so
 * a second, callback-free pass finds the byte offset for "line L, column C". */
static void error_position(const char *json, size_t len, size_t *line, size_t *col)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	size_t off;

	*line = 1;
	*col = 1;
	if (!h)
		return;
	if (yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok) {
		/* Only the end can be wrong: premature EOF. */
		off = len;
	} else {
		/* yajl has consumed the offending token: point at its last byte. */
		off = yajl_get_bytes_consumed(h);
		if (off > 0)
			off--;
	}
	yajl_free(h);
	for (size_t i = 0; i < off && i < len; i++) {
		if (json[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* yajl_tree_free() recurses once per nesting level, so a hostile document
 * of a few million '[' would overflow the stack.  No real config nests
 * anywhere near this deep. */
#define JSON_MAX_DEPTH 128

static bool too_deep(const char *json, size_t len)
{
	bool in_str = false;
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = json[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return true;
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

static int pj_parse_text(const char *json, size_t len, const char *label, yajl_val *out,
		  struct rt_err *err)
{
	char errbuf[1024] = "";
	_cleanup_free_ char *copy = NULL;
	const char *nul = memchr(json, '\0', len);
	size_t line, col;

	if (nul)
		return rt_err_set(err, EINVAL, "%s: invalid JSON: NUL byte at offset %zu",
				  label, (size_t)(nul - json));
	if (too_deep(json, len))
		return rt_err_set(err, EINVAL, "%s: invalid JSON: nested deeper than %d levels",
				  label, JSON_MAX_DEPTH);
	/* yajl_tree wants a NUL-terminated string. */
	copy = malloc(len + 1);
	if (!copy)
		return rt_err_set(err, ENOMEM, "%s: out of memory", label);
	memcpy(copy, json, len);
	copy[len] = '\0';
	*out = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	if (*out)
		return 0;
	/* Keep the first line of yajl's message; the rest is a snippet that
	 * only makes sense on a terminal. */
	errbuf[strcspn(errbuf, "\n")] = '\0';
	error_position(copy, len, &line, &col);
	return rt_err_set(err, EINVAL, "%s: invalid JSON: %s at line %zu, column %zu",
			  label, errbuf[0] ? errbuf : "parse error", line, col);
}

/* ---- entry points ---- */

static int parse_doc(const char *json, size_t len, const char *label, struct rt_spec **out,
		     struct rt_err *err)
{
	yajl_val doc = NULL;
	struct rt_spec *spec;
	struct pj c = { .err = err };
	int r;

	r = pj_parse_text(json, len, label, &doc, err);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(doc)) {
		yajl_tree_free(doc);
		return rt_err_set(err, EINVAL, "%s: expected a JSON object", label);
	}
	c.a = rt_arena_new();
	spec = rt_arena_alloc(c.a, sizeof(*spec));
	spec->arena = c.a;
	r = pj_spec(&c, doc, spec);
	yajl_tree_free(doc);
	if (r < 0) {
		rt_arena_free(c.a);
		return r;
	}
	*out = spec;
	return 0;
}

int rt_spec_parse(const char *json, size_t len, struct rt_spec **out, struct rt_err *err)
{
	return parse_doc(json, len, "config.json", out, err);
}

int rt_spec_load(const char *path, struct rt_spec **out, struct rt_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = rt_read_file(path, SPEC_MAX_SIZE, &buf, &len, err);
	if (r == -EFBIG)
		return rt_err_set(err, EFBIG, "%s: larger than %u MiB", path, SPEC_MAX_SIZE >> 20);
	if (r < 0)
		return r;
	r = parse_doc(buf, len, path, out, err);
	/* JSON errors already start with the path. */
	if (r < 0 && strncmp(err->msg, path, strlen(path)) != 0)
		rt_err_wrap(err, "%s", path);
	return r;
}

int rt_process_parse(const char *json, size_t len, struct rt_arena *arena,
		     struct rt_process *out, struct rt_err *err)
{
	yajl_val doc = NULL;
	struct pj c = { .a = arena, .err = err };
	int r;

	r = pj_parse_text(json, len, "process", &doc, err);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	if (!YAJL_IS_OBJECT(doc))
		r = rt_err_set(err, EINVAL, "process: expected a JSON object");
	else
		r = pj_process(&c, doc, out);
	yajl_tree_free(doc);
	return r;
}

void rt_spec_free(struct rt_spec *spec)
{
	if (spec)
		rt_arena_free(spec->arena);
}
