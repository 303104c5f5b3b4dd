/* Private to the spec module's JSON writers (spec_write.c, spec_jail.c):
 * a yajl generator that remembers any failure, so a document is either
 * whole or NULL. */
#ifndef HULL_SPEC_GEN_H
#define HULL_SPEC_GEN_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct gw {
	yajl_gen g;
	bool bad;
};

static inline void note(struct gw *w, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		w->bad = true;
}

static inline void s(struct gw *w, const char *str)
{
	note(w, yajl_gen_string(w->g, (const unsigned char *)str, strlen(str)));
}

static inline void kv(struct gw *w, const char *key, const char *val)
{
	s(w, key);
	s(w, val);
}

static inline void kint(struct gw *w, const char *key, long long v)
{
	s(w, key);
	note(w, yajl_gen_integer(w->g, v));
}

static inline void kbool(struct gw *w, const char *key, bool v)
{
	s(w, key);
	note(w, yajl_gen_bool(w->g, v));
}

static inline void omap(struct gw *w, const char *key)
{
	if (key)
		s(w, key);
	note(w, yajl_gen_map_open(w->g));
}

static inline void cmap(struct gw *w)
{
	note(w, yajl_gen_map_close(w->g));
}

static inline void oarr(struct gw *w, const char *key)
{
	if (key)
		s(w, key);
	note(w, yajl_gen_array_open(w->g));
}

static inline void carr(struct gw *w)
{
	note(w, yajl_gen_array_close(w->g));
}

/* key: [strings...] from a NULL-terminated list. */
static inline void kstrv(struct gw *w, const char *key, const char *const *v)
{
	oarr(w, key);
	for (; v && *v; v++)
		s(w, *v);
	carr(w);
}

static inline bool gw_open(struct gw *w)
{
	w->bad = false;
	w->g = yajl_gen_alloc(NULL);
	if (!w->g)
		return false;
	yajl_gen_config(w->g, yajl_gen_beautify, 1);
	yajl_gen_config(w->g, yajl_gen_indent_string, "\t");
	return true;
}

/* The finished document as a malloc'd, newline-terminated string. */
static inline char *gw_finish(struct gw *w)
{
	const unsigned char *buf;
	size_t len;
	char *out = NULL;

	if (!w->bad && yajl_gen_get_buf(w->g, &buf, &len) == yajl_gen_status_ok) {
		out = malloc(len + 2);
		if (out) {
			memcpy(out, buf, len);
			if (len == 0 || buf[len - 1] != '\n')
				out[len++] = '\n';
			out[len] = '\0';
		}
	}
	yajl_gen_free(w->g);
	return out;
}


/* One entry of "mounts"; opts may be NULL. */
static inline void gw_mount(struct gw *w, const char *dest, const char *type, const char *src,
			    const char *const *opts)
{
	omap(w, NULL);
	kv(w, "destination", dest);
	kv(w, "type", type);
	kv(w, "source", src);
	if (opts)
		kstrv(w, "options", opts);
	cmap(w);
}

#endif
