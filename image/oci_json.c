/* OCI image JSON: oci-layout, index.json (also the store's own index),
 * image manifests, and the inspect document.  The only file of image/
 * that uses yajl. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static void yajl_freep(yajl_val *v) { if (*v) yajl_tree_free(*v); }
static void gen_freep(yajl_gen *g) { if (*g) yajl_gen_free(*g); }
#define _cleanup_yajl_ _cleanup_(yajl_freep)
#define _cleanup_gen_ _cleanup_(gen_freep)

static yajl_val get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (!strcmp(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

static int parse_doc(const char *json, size_t len, const char *what, yajl_val *out,
		     struct rt_err *err)
{
	char ebuf[256] = "";

	/* yajl_tree wants a NUL-terminated text; callers read whole files. */
	if (strlen(json) != len)
		return rt_err_set(err, EINVAL, "%s: NUL byte in JSON", what);
	*out = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	if (!*out) {
		ebuf[strcspn(ebuf, "\n")] = 0;
		return rt_err_set(err, EINVAL, "%s: invalid JSON: %s", what, ebuf);
	}
	if (!YAJL_IS_OBJECT(*out))
		return rt_err_set(err, EINVAL, "%s: not a JSON object", what);
	return 0;
}

int img_layout_check(const char *json, size_t len, struct rt_err *err)
{
	_cleanup_yajl_ yajl_val root = NULL;
	yajl_val v;

	if (parse_doc(json, len, "oci-layout", &root, err) < 0)
		return -EINVAL;
	v = get(root, "imageLayoutVersion");
	if (!YAJL_IS_STRING(v))
		return rt_err_set(err, EINVAL, "oci-layout: imageLayoutVersion missing");
	/* Layout 1.x is the only version there is; a 2.x would need reading. */
	if (strncmp(v->u.string, "1.", 2))
		return rt_err_set(err, EINVAL, "oci-layout: imageLayoutVersion \"%s\" not supported "
				  "(expected 1.x)", v->u.string);
	return 0;
}

static int desc_parse(yajl_val v, const char *where, struct img_desc *d, struct rt_err *err)
{
	yajl_val mt = get(v, "mediaType"), dg = get(v, "digest"), sz = get(v, "size");
	yajl_val ann = get(v, "annotations"), ref;

	memset(d, 0, sizeof(*d));
	if (!YAJL_IS_OBJECT(v))
		return rt_err_set(err, EINVAL, "%s: not an object", where);
	if (!YAJL_IS_STRING(mt))
		return rt_err_set(err, EINVAL, "%s.mediaType: missing", where);
	if (!YAJL_IS_STRING(dg) || !img_digest_hex(dg->u.string))
		return rt_err_set(err, EINVAL, "%s.digest: missing or not a sha256 digest%s%s",
				  where, YAJL_IS_STRING(dg) ? ": " : "",
				  YAJL_IS_STRING(dg) ? dg->u.string : "");
	if (!YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0)
		return rt_err_set(err, EINVAL, "%s.size: missing or negative", where);
	d->media_type = strdup(mt->u.string);
	snprintf(d->digest, sizeof(d->digest), "%s", dg->u.string);
	d->size = (uint64_t)YAJL_GET_INTEGER(sz);
	ref = get(ann, IMG_REF_ANNOTATION);
	if (YAJL_IS_STRING(ref))
		d->ref_name = strdup(ref->u.string);
	if (!d->media_type || (YAJL_IS_STRING(ref) && !d->ref_name))
		return rt_err_set(err, ENOMEM, "%s: out of memory", where);
	return 0;
}

int img_index_parse(const char *json, size_t len, struct img_index *out, struct rt_err *err)
{
	_cleanup_yajl_ yajl_val root = NULL;
	yajl_val ms, sv;
	char where[64];

	memset(out, 0, sizeof(*out));
	if (parse_doc(json, len, "index.json", &root, err) < 0)
		return -EINVAL;
	sv = get(root, "schemaVersion");
	if (!YAJL_IS_INTEGER(sv) || YAJL_GET_INTEGER(sv) != 2)
		return rt_err_set(err, EINVAL, "index.json: schemaVersion must be 2");
	ms = get(root, "manifests");
	if (!YAJL_IS_ARRAY(ms))
		return rt_err_set(err, EINVAL, "index.json: manifests: missing or not an array");
	out->m = calloc(ms->u.array.len + 1, sizeof(*out->m));
	if (!out->m)
		return rt_err_set(err, ENOMEM, "index.json: out of memory");
	for (size_t i = 0; i < ms->u.array.len; i++) {
		snprintf(where, sizeof(where), "index.json: manifests[%zu]", i);
		int r = desc_parse(ms->u.array.values[i], where, &out->m[i], err);
		out->n = i + 1;
		if (r < 0) {
			img_index_free(out);
			return r;
		}
	}
	return 0;
}

bool img_layer_media_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
	};
	for (size_t i = 0; i < RT_ARRAY_SIZE(ok); i++)
		if (!strcmp(mt, ok[i]))
			return true;
	return false;
}

int img_manifest_parse(const char *json, size_t len, struct img_manifest *out,
		       struct rt_err *err)
{
	_cleanup_yajl_ yajl_val root = NULL;
	yajl_val layers, mt;
	char where[64];
	int r;

	memset(out, 0, sizeof(*out));
	if (parse_doc(json, len, "manifest", &root, err) < 0)
		return -EINVAL;
	/* mediaType is optional in a manifest, but when present must agree. */
	mt = get(root, "mediaType");
	if (mt && (!YAJL_IS_STRING(mt) || (strcmp(mt->u.string, IMG_MT_MANIFEST) &&
					   strcmp(mt->u.string, IMG_MT_DOCKER_MANIFEST))))
		return rt_err_set(err, EINVAL, "manifest: mediaType \"%s\" is not an image manifest",
				  YAJL_IS_STRING(mt) ? mt->u.string : "?");
	r = desc_parse(get(root, "config"), "manifest: config", &out->config, err);
	if (r < 0)
		goto fail;
	if (strcmp(out->config.media_type, IMG_MT_CONFIG) &&
	    strcmp(out->config.media_type, IMG_MT_DOCKER_CONFIG)) {
		r = rt_err_set(err, EINVAL, "manifest: config.mediaType \"%s\" is not an image config",
			       out->config.media_type);
		goto fail;
	}
	layers = get(root, "layers");
	if (!YAJL_IS_ARRAY(layers)) {
		r = rt_err_set(err, EINVAL, "manifest: layers: missing or not an array");
		goto fail;
	}
	out->layers = calloc(layers->u.array.len + 1, sizeof(*out->layers));
	if (!out->layers) {
		r = rt_err_set(err, ENOMEM, "manifest: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < layers->u.array.len; i++) {
		snprintf(where, sizeof(where), "manifest: layers[%zu]", i);
		r = desc_parse(layers->u.array.values[i], where, &out->layers[i], err);
		out->n_layers = i + 1;
		if (r < 0)
			goto fail;
		if (!img_layer_media_type_ok(out->layers[i].media_type)) {
			r = rt_err_set(err, EINVAL, "%s.mediaType \"%s\" is not a supported layer type",
				       where, out->layers[i].media_type);
			goto fail;
		}
	}
	return 0;
fail:
	img_manifest_free(out);
	return r;
}

#define GS(g, s) yajl_gen_string((g), (const unsigned char *)(s), strlen(s))

static void gen_desc(yajl_gen g, const struct img_desc *d)
{
	yajl_gen_map_open(g);
	GS(g, "mediaType");
	GS(g, d->media_type);
	GS(g, "digest");
	GS(g, d->digest);
	GS(g, "size");
	yajl_gen_integer(g, (long long)d->size);
	if (d->ref_name) {
		GS(g, "annotations");
		yajl_gen_map_open(g);
		GS(g, IMG_REF_ANNOTATION);
		GS(g, d->ref_name);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

static int gen_finish(yajl_gen g, char **out, size_t *len, struct rt_err *err)
{
	const unsigned char *buf;
	size_t n;

	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		return rt_err_set(err, EINVAL, "JSON generation failed");
	*out = strndup((const char *)buf, n);
	if (!*out)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (len)
		*len = n;
	return 0;
}

int img_index_write(const struct img_index *idx, char **out, size_t *len, struct rt_err *err)
{
	_cleanup_gen_ yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		return rt_err_set(err, ENOMEM, "out of memory");
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "schemaVersion");
	yajl_gen_integer(g, 2);
	GS(g, "mediaType");
	GS(g, IMG_MT_INDEX);
	GS(g, "manifests");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < idx->n; i++)
		gen_desc(g, &idx->m[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g, out, len, err);
}

/* Re-emit a parsed document, so that inspect prints one JSON value. */
static void gen_tree(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			GS(g, v->u.object.keys[i]);
			gen_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_STRING(v)) {
		GS(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

int img_inspect_json(const char *name, const char *digest, const char *manifest, size_t mlen,
		     const char *config, size_t clen, char **out, struct rt_err *err)
{
	_cleanup_yajl_ yajl_val m = NULL;
	_cleanup_yajl_ yajl_val c = NULL;
	_cleanup_gen_ yajl_gen g = NULL;

	if (parse_doc(manifest, mlen, "manifest", &m, err) < 0 ||
	    parse_doc(config, clen, "image config", &c, err) < 0)
		return -EINVAL;
	g = yajl_gen_alloc(NULL);
	if (!g)
		return rt_err_set(err, ENOMEM, "out of memory");
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	GS(g, "Name");
	GS(g, name);
	GS(g, "Digest");
	GS(g, digest);
	GS(g, "Manifest");
	gen_tree(g, m);
	GS(g, "Config");
	gen_tree(g, c);
	yajl_gen_map_close(g);
	return gen_finish(g, out, NULL, err);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* An optional array of strings: absent and null give NULL. */
static int strv_get(yajl_val obj, const char *key, char ***out, struct rt_err *err)
{
	yajl_val v = get(obj, key);
	char **r;

	*out = NULL;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return rt_err_set(err, EINVAL, "image config: config.%s: not an array", key);
	r = calloc(v->u.array.len + 1, sizeof(*r));
	if (!r)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];

		if (!YAJL_IS_STRING(e)) {
			strv_free(r);
			return rt_err_set(err, EINVAL, "image config: config.%s[%zu]: not a string",
					  key, i);
		}
		r[i] = strdup(e->u.string);
		if (!r[i]) {
			strv_free(r);
			return rt_err_set(err, ENOMEM, "out of memory");
		}
	}
	*out = r;
	return 0;
}

static int str_get(yajl_val obj, const char *key, char **out, struct rt_err *err)
{
	yajl_val v = get(obj, key);

	*out = NULL;
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_STRING(v))
		return rt_err_set(err, EINVAL, "image config: config.%s: not a string", key);
	/* "" means unset in image configs, as in docker's. */
	if (!v->u.string[0])
		return 0;
	*out = strdup(v->u.string);
	return *out ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

int img_config_parse(const char *json, size_t len, struct img_config *out, struct rt_err *err)
{
	_cleanup_yajl_ yajl_val root = NULL;
	yajl_val c;
	int r;

	memset(out, 0, sizeof(*out));
	if (parse_doc(json, len, "image config", &root, err) < 0)
		return -EINVAL;
	/* The whole "config" object is optional. */
	c = get(root, "config");
	if (!c || YAJL_IS_NULL(c))
		return 0;
	if (!YAJL_IS_OBJECT(c))
		return rt_err_set(err, EINVAL, "image config: config: not an object");
	if ((r = strv_get(c, "Entrypoint", &out->entrypoint, err)) < 0 ||
	    (r = strv_get(c, "Cmd", &out->cmd, err)) < 0 ||
	    (r = strv_get(c, "Env", &out->env, err)) < 0 ||
	    (r = str_get(c, "WorkingDir", &out->working_dir, err)) < 0 ||
	    (r = str_get(c, "User", &out->user, err)) < 0) {
		img_config_free(out);
		return r;
	}
	return 0;
}

void img_config_free(struct img_config *c)
{
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->working_dir);
	free(c->user);
	memset(c, 0, sizeof(*c));
}

void img_desc_free(struct img_desc *d)
{
	free(d->media_type);
	free(d->ref_name);
	d->media_type = d->ref_name = NULL;
}

void img_index_free(struct img_index *idx)
{
	for (size_t i = 0; i < idx->n; i++)
		img_desc_free(&idx->m[i]);
	free(idx->m);
	idx->m = NULL;
	idx->n = 0;
}

void img_manifest_free(struct img_manifest *m)
{
	img_desc_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		img_desc_free(&m->layers[i]);
	free(m->layers);
	m->layers = NULL;
	m->n_layers = 0;
}

/* ---- docker-archive manifest.json, and the OCI manifest made from it ---- */

void img_docker_images_free(struct img_docker_image *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].config);
		strv_free(d[i].layers);
		strv_free(d[i].tags);
	}
	free(d);
}

/* A string array of manifest.json; required ones must be non-empty. */
static int dk_strv(yajl_val obj, const char *key, size_t i, bool required, char ***out,
		   size_t *n, struct rt_err *err)
{
	yajl_val v = get(obj, key);

	*out = NULL;
	*n = 0;
	if (!v || YAJL_IS_NULL(v)) {
		if (!required)
			return 0;
		return rt_err_set(err, EINVAL, "manifest.json: [%zu].%s: missing", i, key);
	}
	if (!YAJL_IS_ARRAY(v))
		return rt_err_set(err, EINVAL, "manifest.json: [%zu].%s: not an array", i, key);
	if (!(*out = calloc(v->u.array.len + 1, sizeof(**out))))
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t k = 0; k < v->u.array.len; k++) {
		yajl_val e = v->u.array.values[k];

		if (!YAJL_IS_STRING(e) || !e->u.string[0])
			return rt_err_set(err, EINVAL, "manifest.json: [%zu].%s[%zu]: not a "
					  "non-empty string", i, key, k);
		if (!((*out)[k] = strdup(e->u.string)))
			return rt_err_set(err, ENOMEM, "out of memory");
		*n = k + 1;
	}
	return 0;
}

int img_docker_manifest_parse(const char *json, size_t len, struct img_docker_image **out,
			      size_t *n, struct rt_err *err)
{
	_cleanup_yajl_ yajl_val root = NULL;
	char ebuf[256] = "";
	struct img_docker_image *d;

	*out = NULL;
	*n = 0;
	if (strlen(json) != len)
		return rt_err_set(err, EINVAL, "manifest.json: NUL byte in JSON");
	root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	ebuf[strcspn(ebuf, "\n")] = 0;
	if (!root)
		return rt_err_set(err, EINVAL, "manifest.json: invalid JSON: %s", ebuf);
	if (!YAJL_IS_ARRAY(root) || root->u.array.len == 0)
		return rt_err_set(err, EINVAL, "manifest.json: not a non-empty array");
	d = calloc(root->u.array.len, sizeof(*d));
	if (!d)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < root->u.array.len; i++) {
		yajl_val e = root->u.array.values[i], c = get(e, "Config");
		int r;

		*n = i + 1;
		if (!YAJL_IS_OBJECT(e))
			r = rt_err_set(err, EINVAL, "manifest.json: [%zu]: not an object", i);
		else if (!YAJL_IS_STRING(c) || !c->u.string[0])
			r = rt_err_set(err, EINVAL, "manifest.json: [%zu].Config: missing", i);
		else if (!(d[i].config = strdup(c->u.string)))
			r = rt_err_set(err, ENOMEM, "out of memory");
		else if ((r = dk_strv(e, "Layers", i, true, &d[i].layers, &d[i].n_layers, err)) == 0)
			r = dk_strv(e, "RepoTags", i, false, &d[i].tags, &d[i].n_tags, err);
		if (r < 0) {
			img_docker_images_free(d, *n);
			*n = 0;
			return r;
		}
	}
	*out = d;
	return 0;
}

int img_manifest_write(const struct img_desc *config, const struct img_desc *layers, size_t n,
		       char **out, size_t *len, struct rt_err *err)
{
	_cleanup_gen_ yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		return rt_err_set(err, ENOMEM, "out of memory");
	yajl_gen_map_open(g);
	GS(g, "schemaVersion");
	yajl_gen_integer(g, 2);
	GS(g, "mediaType");
	GS(g, IMG_MT_MANIFEST);
	GS(g, "config");
	gen_desc(g, config);
	GS(g, "layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		gen_desc(g, &layers[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g, out, len, err);
}
