#include "config.h"
/* config.json -> struct rt_spec.  The only JSON reader of the program.
 *
 * yajl_tree builds a DOM, which we walk while keeping the JSON path of the
 * value being looked at, so that every type or range error can name the
 * field ("process.user.uid: expected an unsigned integer").  Unknown keys
 * are ignored and JSON null counts as absent, as Go's decoder (runc) does.
 * Semantic checks live in spec_validate.c; here we only check types, ranges
 * and names that must be mapped to numbers.  The "linux" object is walked
 * in spec_parse_linux.c with the helpers shared through spec_json.h. */
#include "runtime/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/spec_json.h"
#include "runtime/util.h"

#define SPEC_MAX_SIZE (16u << 20)

/* ---- generic walking helpers ---- */

size_t pj_push(struct pj *c, const char *fmt, ...)
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

size_t pj_push_key(struct pj *c, const char *key)
{
	return pj_push(c, c->len ? ".%s" : "%s", key);
}

void pj_pop(struct pj *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

int pj_fail(struct pj *c, const char *fmt, ...)
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

int pj_uint(struct pj *c, yajl_val obj, const char *key, uint64_t max, uint64_t *out, bool *present)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	FIELD_WRAP(pj_val_uint(c, v, max, out));
	if (present)
		*present = true;
	return 0;
}

int pj_int(struct pj *c, yajl_val obj, const char *key, int64_t min, int64_t max,
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
int pj_limit(struct pj *c, yajl_val obj, const char *key, int64_t *out)
{
	bool present = false;
	int r = pj_int(c, obj, key, INT64_MIN + 1, INT64_MAX, out, &present);

	if (r == 0 && present && *out == -1)
		*out = RT_RES_UNLIMITED;
	return r;
}

int pj_u32(struct pj *c, yajl_val obj, const char *key, uint32_t *out, bool *present)
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

int pj_str(struct pj *c, yajl_val obj, const char *key, const char **out)
{
	yajl_val v = pj_get(obj, key);

	if (!v)
		return 0;
	FIELD_WRAP(pj_val_str(c, v, out));
	return 0;
}

int pj_bool(struct pj *c, yajl_val obj, const char *key, bool *out, bool *present)
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
int pj_obj(struct pj *c, yajl_val obj, const char *key, yajl_val *out)
{
	yajl_val v = pj_get(obj, key);

	*out = NULL;
	if (v && !YAJL_IS_OBJECT(v))
		FIELD_WRAP(pj_fail(c, "expected an object"));
	*out = v;
	return 0;
}

int pj_arr(struct pj *c, yajl_val obj, const char *key, yajl_val *out)
{
	yajl_val v = pj_get(obj, key);

	*out = NULL;
	if (v && !YAJL_IS_ARRAY(v))
		FIELD_WRAP(pj_fail(c, "expected an array"));
	*out = v;
	return 0;
}

/* Array of strings -> NULL-terminated vector.  Absent leaves *out NULL. */
int pj_strv(struct pj *c, yajl_val obj, const char *key, char ***out, size_t *n)
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
int pj_kv(struct pj *c, yajl_val obj, const char *key, struct rt_kv **out, size_t *n)
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
int pj_each(struct pj *c, yajl_val arr, const char *key,
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
int pj_enum(struct pj *c, yajl_val obj, const char *key, const struct pj_name *tab,
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

/* Arrays of objects whose element parser needs nothing but the element. */
int pj_obj_list(struct pj *c, yajl_val o, const char *key, size_t elem_size,
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
	int r;

	if ((r = pj_enter(c, proc, "user", &o, &mark)) <= 0)
		return r;
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
	return PJ_OBJ_LIST(c, proc, "rlimits", rlimit_one, &p->rlimits, &p->n_rlimits);
}

static int parse_scheduler(struct pj *c, yajl_val proc, struct rt_scheduler *s)
{
	yajl_val o, flags;
	long policy = -1;
	int64_t nice = 0, prio = 0;
	size_t mark;
	int r;

	if ((r = pj_enter(c, proc, "scheduler", &o, &mark)) <= 0)
		return r;
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
	int r;

	if ((r = pj_enter(c, proc, "ioPriority", &o, &mark)) <= 0)
		return r;
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
	int r;

	if ((r = pj_enter(c, doc, "hooks", &o, &mark)) <= 0)
		return r;
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

/* ---- the document ---- */

static int pj_spec(struct pj *c, yajl_val doc, struct rt_spec *s)
{
	yajl_val root, proc;

	if (pj_str(c, doc, "ociVersion", &s->oci_version) < 0 ||
	    pj_str(c, doc, "hostname", &s->hostname) < 0 ||
	    pj_str(c, doc, "domainname", &s->domainname) < 0 ||
	    pj_obj(c, doc, "root", &root) < 0 || pj_obj(c, doc, "process", &proc) < 0 ||
	    pj_obj_list(c, doc, "mounts", sizeof(*s->mounts), mount_one, (void **)&s->mounts,
		     &s->n_mounts) < 0 ||
	    parse_hooks(c, doc, s) < 0 ||
	    pj_kv(c, doc, "annotations", &s->annotations, &s->n_annotations) < 0 ||
	    pj_linux(c, doc, &s->linux_) < 0)
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

int pj_enter(struct pj *c, yajl_val parent, const char *key, yajl_val *o, size_t *mark)
{
	if (pj_obj(c, parent, key, o) < 0)
		return -EINVAL;
	if (!*o)
		return 0;
	*mark = pj_push_key(c, key);
	return 1;
}

int pj_parse_text(const char *json, size_t len, const char *label, yajl_val *out,
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
