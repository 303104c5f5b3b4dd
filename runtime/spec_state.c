/* The state half of the spec module: container state, list, ps and the
 * seccomp agent message as JSON.  Like spec_parse.c, the only place these
 * documents touch yajl. */
#include "config.h"
#include "runtime/state.h"
#include "runtime/cleanup.h"

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
