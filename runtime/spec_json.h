/* Private to the spec module: only runtime/spec_parse*.c include it.
 * The state of the config.json walk and the typed getters shared by the
 * top-level parser (spec_parse.c) and the linux.* parsers
 * (spec_parse_linux.c).  The int functions return 0, or -EINVAL with
 * c->err naming the JSON path; an absent or null field is not an error. */
#ifndef HULL_SPEC_JSON_H
#define HULL_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "runtime/spec.h"

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

/* Path building: push returns a mark for pop. */
size_t pj_push(struct pj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t pj_push_key(struct pj *c, const char *key);
void pj_pop(struct pj *c, size_t mark);
/* Sets an EINVAL error prefixed with the current path; returns -EINVAL. */
int pj_fail(struct pj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Scalar fields of obj; *present (optional) tells "given" from "absent". */
int pj_uint(struct pj *c, yajl_val obj, const char *key, uint64_t max, uint64_t *out, bool *present);
int pj_int(struct pj *c, yajl_val obj, const char *key, int64_t min, int64_t max,
	   int64_t *out, bool *present);
int pj_limit(struct pj *c, yajl_val obj, const char *key, int64_t *out);
int pj_u32(struct pj *c, yajl_val obj, const char *key, uint32_t *out, bool *present);
int pj_str(struct pj *c, yajl_val obj, const char *key, const char **out);
int pj_bool(struct pj *c, yajl_val obj, const char *key, bool *out, bool *present);
int pj_enum(struct pj *c, yajl_val obj, const char *key, const struct pj_name *tab,
	    size_t n, const char *what, long *out);

/* Containers: *out is NULL when absent. */
int pj_obj(struct pj *c, yajl_val obj, const char *key, yajl_val *out);
int pj_arr(struct pj *c, yajl_val obj, const char *key, yajl_val *out);
int pj_strv(struct pj *c, yajl_val obj, const char *key, char ***out, size_t *n);
int pj_kv(struct pj *c, yajl_val obj, const char *key, struct rt_kv **out, size_t *n);
int pj_each(struct pj *c, yajl_val arr, const char *key,
	    int (*fn)(struct pj *c, yajl_val elem, size_t i, void *data), void *data);
int pj_obj_list(struct pj *c, yajl_val o, const char *key, size_t elem_size,
		int (*fn)(struct pj *, yajl_val, size_t, void *), void **out, size_t *n);
/* pj_obj_list into a typed array: PJ_OBJ_LIST(c, o, key, fn, &ptr, &n). */
#define PJ_OBJ_LIST(c, o, key, fn, out, n) \
	pj_obj_list((c), (o), (key), sizeof(**(out)), (fn), (void **)(out), (n))

/* spec_parse_linux.c: id mappings (linux.* and mounts[]) and doc.linux. */
int pj_idmaps(struct pj *c, yajl_val obj, const char *key, struct rt_id_map **out, size_t *n);
int pj_linux(struct pj *c, yajl_val doc, struct rt_linux *l);

/* Parse JSON text into a tree, refusing NUL bytes and hostile nesting;
 * errors say "<label>: invalid JSON: ... at line L, column C". */
int pj_parse_text(const char *json, size_t len, const char *label, yajl_val *out,
		  struct rt_err *err);

/* Open the optional object KEY of parent and push KEY on the error path:
 * 1 when present (*o set, *mark for pj_pop), 0 when absent, -EINVAL on a
 * type error (err filled). */
int pj_enter(struct pj *c, yajl_val parent, const char *key, yajl_val *o, size_t *mark);

#endif
