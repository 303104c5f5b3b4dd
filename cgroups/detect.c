#include "config.h"
/* Cgroups: which layout the host has (v1, v2, hybrid) from mountinfo, and
 * how linux.cgroupsPath becomes a clean absolute cgroup path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* One line to a cgroup mount; false for other filesystems or junk. */
static bool parse_mount_line(char *line, struct cg_mnt *m)
{
	char *f[6], *save = NULL, *tok, *fstype, *super;
	int i = 0;

	for (tok = strtok_r(line, " \n", &save); tok && i < 6; tok = strtok_r(NULL, " \n", &save))
		f[i++] = tok;
	if (i < 6)
		return false;
	while (tok && strcmp(tok, "-"))          /* optional fields end at "-" */
		tok = strtok_r(NULL, " \n", &save);
	if (!tok || !(fstype = strtok_r(NULL, " \n", &save)) || !strtok_r(NULL, " \n", &save))
		return false;
	super = strtok_r(NULL, " \n", &save);
	if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
		return false;
	m->v2 = !strcmp(fstype, "cgroup2");
	snprintf(m->dev, sizeof(m->dev), "%s", f[2]);
	snprintf(m->root, sizeof(m->root), "%s", f[3]);
	snprintf(m->point, sizeof(m->point), "%s", f[4]);
	snprintf(m->opts, sizeof(m->opts), "%s", super ? super : "");
	unescape(m->root);
	unescape(m->point);
	return true;
}

int cg_read_mounts(const char *mountinfo, struct cg_mnt **out, size_t *n, struct rt_err *err)
{
	const char *p = mountinfo ? mountinfo : CG_MOUNTINFO;
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ struct cg_mnt *v = NULL;
	size_t cap = 0, len = 0;

	*n = 0;
	if (!f)
		return rt_err_sys(err, errno, "open %s", p);
	while (getline(&line, &cap, f) > 0) {
		struct cg_mnt m;

		if (!parse_mount_line(line, &m))
			continue;
		struct cg_mnt *nv = realloc(v, (len + 1) * sizeof(*v));
		if (!nv)
			return rt_err_set(err, ENOMEM, "out of memory");
		v = nv;
		v[len++] = m;
	}
	*out = steal_ptr(v);
	*n = len;
	return 0;
}

int cg_layout_of(const struct cg_mnt *m, size_t n, enum cg_layout *out, struct rt_err *err)
{
	bool v1 = false, v2 = false, v2_unified = false;

	for (size_t i = 0; i < n; i++) {
		if (m[i].v2 && !strcmp(m[i].point, CG_V2_ROOT)) {
			*out = CG_LAYOUT_UNIFIED;
			return 0;
		}
		v1 |= !m[i].v2;
		v2 |= m[i].v2;
		v2_unified |= m[i].v2 && ends_with(m[i].point, "/unified");
	}
	if (v1) {
		*out = v2_unified ? CG_LAYOUT_HYBRID : CG_LAYOUT_LEGACY;
		return 0;
	}
	if (v2) {
		*out = CG_LAYOUT_UNIFIED;
		return 0;
	}
	return rt_err_set(err, ENOENT, "no cgroup filesystem is mounted");
}

int cg_detect_layout(const char *mountinfo_path, enum cg_layout *out, struct rt_err *err)
{
	_cleanup_free_ struct cg_mnt *m = NULL;
	size_t n;
	int r = cg_read_mounts(mountinfo_path, &m, &n, err);

	return r < 0 ? r : cg_layout_of(m, n, out, err);
}

/* --------------------------------------------------------- path handling */

/* "slice:prefix:name" -> "/a.slice/a-b.slice/prefix-name.scope", as
 * systemd expands a slice name into its parents. */
int cg_systemd_path(const char *p, const char *id, char **out, struct rt_err *err)
{
	_cleanup_free_ char *copy = strdup(p ? p : "system.slice:hull:");
	char *slice, *prefix, *name, *c2, *c1;
	char buf[PATH_MAX];
	size_t len = 0;

	if (!copy)
		return rt_err_set(err, ENOMEM, "out of memory");
	slice = copy;
	c1 = strchr(slice, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return rt_err_set(err, EINVAL, "linux.cgroupsPath: \"%s\": expected slice:prefix:name "
				  "with --systemd-cgroup", p);
	*c1 = *c2 = '\0';
	prefix = c1 + 1;
	name = *(c2 + 1) ? c2 + 1 : (char *)id;
	if (!*slice)
		slice = (char *)"system.slice";
	if (!name || !*name || strchr(name, '/') || strchr(prefix, '/') || strchr(slice, '/') ||
	    strlen(slice) < 7 || strcmp(slice + strlen(slice) - 6, ".slice"))
		return rt_err_set(err, EINVAL, "linux.cgroupsPath: \"%s\": bad systemd slice or name",
				  p ? p : "");
	/* each dash-separated prefix of the slice is a parent slice */
	for (char *d = slice; (d = strchr(d, '-')); d++) {
		if (len + (size_t)(d - slice) + 8 >= sizeof(buf))
			return rt_err_set(err, ENAMETOOLONG, "linux.cgroupsPath: too long");
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "/%.*s.slice", (int)(d - slice), slice);
	}
	if (strcmp(slice, "-.slice"))
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "/%s", slice);
	if (*prefix)
		snprintf(buf + len, sizeof(buf) - len, "/%s-%s.scope", prefix, name);
	else
		snprintf(buf + len, sizeof(buf) - len, "/%s.scope", name);
	*out = strdup(buf);
	return *out ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

int cg_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
		    struct rt_err *err)
{
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : NULL;
	_cleanup_free_ char *copy = NULL, *res = NULL, *sys = NULL;
	char *save = NULL;
	size_t len = 0;

	if (systemd) {
		/* The form is checked first, so a bad path is named as such. */
		if (cg_systemd_path(p, id, &sys, err) < 0)
			return -err->code;
		if (!cg_systemd_running())
			return rt_err_set(err, ENOTSUP, "--systemd-cgroup: systemd is not running on "
					  "this host; use the cgroupfs driver (no --systemd-cgroup)");
		*out = steal_ptr(sys);
		return 0;
	}
	if (!p) {
		if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
			return rt_err_set(err, EINVAL, "cgroup path: invalid container id \"%s\"",
					  id ? id : "");
		if (asprintf(&copy, "%s", id) < 0)
			return rt_err_set(err, ENOMEM, "out of memory");
	} else {
		if (strchr(p, ':'))
			return rt_err_set(err, EINVAL,
					  "linux.cgroupsPath: \"%s\": the slice:prefix:name form "
					  "needs the systemd cgroup driver", p);
		if (!(copy = strdup(p)))
			return rt_err_set(err, ENOMEM, "out of memory");
	}
	if (strlen(copy) >= PATH_MAX / 2)
		return rt_err_set(err, ENAMETOOLONG, "linux.cgroupsPath: too long");
	for (const char *c = copy; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return rt_err_set(err, EINVAL, "linux.cgroupsPath: \"%s\": control character",
					  copy);
	if (!(res = malloc(strlen(copy) + sizeof(CG_PREFIX) + 2)))
		return rt_err_set(err, ENOMEM, "out of memory");
	if (p && *p == '/')
		res[0] = '\0';
	else
		len = (size_t)sprintf(res, "%s", CG_PREFIX);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "..") || !strcmp(c, "."))
			return rt_err_set(err, EINVAL, "linux.cgroupsPath: \"%s\": \"%s\" component "
					  "is not allowed", p, c);
		len += (size_t)sprintf(res + len, "/%s", c);
	}
	if (!len)
		return rt_err_set(err, EINVAL,
				  "linux.cgroupsPath: \"%s\": must not be the root cgroup", p);
	*out = steal_ptr(res);
	return 0;
}

int cg_mount_dir(const char *mount_point, const char *mount_root, const char *path, char **out)
{
	const char *rel = path;
	size_t rl = strlen(mount_root);

	/* A mount of a sub-tree (root "/docker/x") shows the cgroup "/docker/x/a"
	 * as <mount>/a.  A path outside that sub-tree is taken as relative to
	 * what is visible (as inside a cgroup namespace). */
	if (strcmp(mount_root, "/") && !strncmp(path, mount_root, rl) &&
	    (path[rl] == '/' || path[rl] == '\0'))
		rel = path + rl;
	if (!strcmp(mount_point, "/"))
		mount_point = "";
	if (asprintf(out, "%s%s", mount_point, rel) < 0)
		return -ENOMEM;
	return 0;
}

