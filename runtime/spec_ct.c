/* The spec module's part for hull ct: the saved ct.json (read back as
 * hostile input: every field type-checked) and `ct list --json`. */
#include "config.h"
#include "runtime/ct.h"
#include "runtime/spec_gen.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

void rt_ct_config_clear(struct rt_ct_config *c)
{
	free(c->name);
	free(c->rootfs);
	free(c->image);
	free(c->lower);
	free(c->hostname);
	free(c->ip);
	for (size_t i = 0; i < c->n_binds; i++) {
		free((char *)c->binds[i].src);
		free((char *)c->binds[i].dst);
	}
	free(c->binds);
	memset(c, 0, sizeof(*c));
}

static void kopt(struct gw *w, const char *key, const char *v)
{
	if (v)
		kv(w, key, v);
}

static void klim(struct gw *w, const char *key, int64_t v)
{
	if (v >= 0)
		kint(w, key, v);
}

char *rt_ct_config_to_json(const struct rt_ct_config *c)
{
	struct gw w;

	if (!gw_open(&w))
		return NULL;
	omap(&w, NULL);
	kv(&w, "name", c->name);
	kv(&w, "rootfs", c->rootfs);
	kopt(&w, "image", c->image);
	kopt(&w, "lower", c->lower);
	kbool(&w, "ownRootfs", c->own_rootfs);
	if (c->vm)
		kv(&w, "isolation", "vm");
	kopt(&w, "hostname", c->hostname);
	kopt(&w, "ip", c->ip);
	klim(&w, "memory", c->memory);
	klim(&w, "cpuQuota", c->cpu_quota);
	klim(&w, "cpuWeight", c->cpu_weight);
	klim(&w, "pids", c->pids);
	oarr(&w, "binds");
	for (size_t i = 0; i < c->n_binds; i++) {
		omap(&w, NULL);
		kv(&w, "source", c->binds[i].src);
		kv(&w, "destination", c->binds[i].dst);
		kbool(&w, "readonly", c->binds[i].ro);
		cmap(&w);
	}
	carr(&w);
	cmap(&w);
	return gw_finish(&w);
}

/* A string field: absent is fine (NULL), any other type is refused. */
static int get_str(yajl_val o, const char *key, char **out, struct rt_err *err)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(o, path, yajl_t_any);

	*out = NULL;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	const char *str = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	if (!str || strlen(str) > 4096)
		return rt_err_set(err, EINVAL, "ct.json: %s: expected a string", key);
	*out = strdup(str);
	return *out ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

static int get_lim(yajl_val o, const char *key, int64_t *out, struct rt_err *err)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(o, path, yajl_t_any);

	*out = -1;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
		return rt_err_set(err, EINVAL, "ct.json: %s: expected a non-negative integer", key);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

static int get_binds(yajl_val o, struct rt_ct_config *c, struct rt_err *err)
{
	const char *path[] = { "binds", NULL };
	yajl_val a = yajl_tree_get(o, path, yajl_t_any);

	if (!a || YAJL_IS_NULL(a))
		return 0;
	if (!YAJL_IS_ARRAY(a) || YAJL_GET_ARRAY(a)->len > 256)
		return rt_err_set(err, EINVAL, "ct.json: binds: expected an array");
	c->binds = calloc(YAJL_GET_ARRAY(a)->len + 1, sizeof(*c->binds));
	if (!c->binds)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
		yajl_val b = YAJL_GET_ARRAY(a)->values[i];
		const char *rp[] = { "readonly", NULL };
		yajl_val ro = YAJL_IS_OBJECT(b) ? yajl_tree_get(b, rp, yajl_t_any) : NULL;
		char *src = NULL, *dst = NULL;

		if (!YAJL_IS_OBJECT(b) || get_str(b, "source", &src, err) < 0 ||
		    get_str(b, "destination", &dst, err) < 0 || !src || !dst) {
			free(src);
			free(dst);
			return err->code ? -err->code
					 : rt_err_set(err, EINVAL, "ct.json: binds[%zu]: bad entry", i);
		}
		c->binds[c->n_binds++] = (struct rt_jail_bind){ src, dst, ro && YAJL_IS_TRUE(ro) };
	}
	return 0;
}

int rt_ct_config_from_json(const char *json, size_t len, struct rt_ct_config *c,
			   struct rt_err *err)
{
	_cleanup_free_ char *copy = strndup(json, len);
	char ebuf[256] = "";
	const char *op[] = { "ownRootfs", NULL };
	_cleanup_free_ char *iso = NULL;
	yajl_val root, own;
	int r;

	memset(c, 0, sizeof(*c));
	if (!copy)
		return rt_err_set(err, ENOMEM, "out of memory");
	root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return rt_err_set(err, EINVAL, "ct.json: not a JSON object%s%s", ebuf[0] ? ": " : "",
				  ebuf);
	}
	own = yajl_tree_get(root, op, yajl_t_any);
	c->own_rootfs = own && YAJL_IS_TRUE(own);
	r = get_str(root, "isolation", &iso, err) < 0 ? -1 : 0;
	if (r == 0 && iso && strcmp(iso, "vm") && strcmp(iso, "container"))
		r = rt_err_set(err, EINVAL, "ct.json: isolation: expected \"container\" or \"vm\"");
	c->vm = iso && !strcmp(iso, "vm");
	if (r == 0)
		r = get_str(root, "name", &c->name, err) < 0 ||
		    get_str(root, "rootfs", &c->rootfs, err) < 0 ||
		    get_str(root, "image", &c->image, err) < 0 ||
		    get_str(root, "lower", &c->lower, err) < 0 ||
		    get_str(root, "hostname", &c->hostname, err) < 0 ||
		    get_str(root, "ip", &c->ip, err) < 0 ||
		    get_lim(root, "memory", &c->memory, err) < 0 ||
		    get_lim(root, "cpuQuota", &c->cpu_quota, err) < 0 ||
		    get_lim(root, "cpuWeight", &c->cpu_weight, err) < 0 ||
		    get_lim(root, "pids", &c->pids, err) < 0 || get_binds(root, c, err) < 0 ? -1 : 0;
	yajl_tree_free(root);
	if (r == 0 && (!c->name || !c->rootfs || c->rootfs[0] != '/'))
		rt_err_set(err, EINVAL, "ct.json: name and an absolute rootfs are required");
	/* lower becomes an overlay option: no separators, no relative path */
	if (r == 0 && !err->code && c->lower && (c->lower[0] != '/' || strpbrk(c->lower, ",:\\")))
		rt_err_set(err, EINVAL, "ct.json: lower %s: an absolute path without ',', ':' "
			   "or '\\' is required", c->lower);
	if (err->code) {
		rt_ct_config_clear(c);
		return -err->code;
	}
	return 0;
}

char *rt_ct_list_json(const struct rt_ct_info *v, size_t n)
{
	struct gw w;

	if (!gw_open(&w))
		return NULL;
	oarr(&w, NULL);
	for (size_t i = 0; i < n; i++) {
		omap(&w, NULL);
		kv(&w, "name", v[i].name);
		kv(&w, "state", v[i].state);
		kint(&w, "pid", v[i].pid);
		kopt(&w, "ip", v[i].ip[0] ? v[i].ip : NULL);
		kopt(&w, "ip6", v[i].ip6[0] ? v[i].ip6 : NULL);
		kopt(&w, "hostname", v[i].cfg.hostname);
		kint(&w, "memoryBytes", (long long)v[i].mem_bytes);
		kint(&w, "cpuNanoseconds", (long long)v[i].cpu_ns);
		klim(&w, "memoryLimit", v[i].cfg.memory);
		kv(&w, "isolation", v[i].cfg.vm ? "vm" : "container");
		cmap(&w);
	}
	carr(&w);
	return gw_finish(&w);
}
