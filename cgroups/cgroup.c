#include "config.h"
/* Cgroups: the handle, create/join/remove, pids, kill and freeze, for v1,
 * v2 and hybrid.  Layout detection and paths are in detect.c, the values of
 * linux.resources in resources.c.
 *
 * A handle is a list of directories, one per hierarchy hull uses: in v1 one
 * per mounted hierarchy (plus the unified one in hybrid mode), in v2 one.
 * Every directory is derived from /proc/self/mountinfo, never from
 * hard-coded paths, so bind-mounted or nested hierarchies work. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"
#include "runtime/err.h"

/* ---------------------------------------------------------------- helpers */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Cgroup files take one write() each; a split write would be two values. */
int cg_write(const char *dir, const char *file, const char *val, struct rt_err *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "%s: write \"%s\"", file, val);
	if (write(fd, val, len) != (ssize_t)len)
		return rt_err_sys(err, errno ? errno : EIO, "%s: write \"%s\"", file, val);
	return 0;
}

int cg_writef(const char *dir, const char *file, struct rt_err *err, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cg_write(dir, file, buf, err);
}

/* Read a whole (small or procs-sized) cgroup file; -errno, no message. */
int cg_read(const char *dir, const char *file, char **out)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0, cap = 4096;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len - 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
		if (cap - len < 2) {
			char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);

			if (!nb)
				return -EFBIG;
			buf = nb;
			cap *= 2;
		}
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	*out = steal_ptr(buf);
	return 0;
}

bool cg_file_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- handle */

void cg_handle_free(struct cg_handle *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->dirs[i].path);
		free(h->dirs[i].mnt);
		free(h->dirs[i].ctrls);
		free(h->dirs[i].created_top);
	}
	free(h->dirs);
	free(h->path);
	free(h);
}

static void cg_handle_freep(struct cg_handle **h) { cg_handle_free(*h); }
#define _cleanup_cg_ _cleanup_(cg_handle_freep)

/* Named v1 hierarchies belong to other managers; only name=systemd is
 * moved along so that systemd tools see the container where it is. */
static bool v1_wanted(const struct cg_mnt *m)
{
	const char *name = strstr(m->opts, "name=");

	if (!name || (name != m->opts && name[-1] != ','))
		return true;
	return has_token(m->opts, "name=systemd");
}

static int add_dir(struct cg_handle *h, const struct cg_mnt *m)
{
	struct cg_dir *nd = realloc(h->dirs, (h->n + 1) * sizeof(*nd));
	struct cg_dir d = { .v2 = m->v2 };

	if (!nd)
		return -ENOMEM;
	h->dirs = nd;
	if (cg_mount_dir(m->point, m->root, h->path, &d.path) < 0)
		return -ENOMEM;
	d.mnt = strdup(m->point);
	d.ctrls = m->v2 ? NULL : strdup(m->opts);
	if (!d.mnt || (!m->v2 && !d.ctrls)) {
		free(d.path), free(d.mnt), free(d.ctrls);
		return -ENOMEM;
	}
	h->dirs[h->n++] = d;
	return 0;
}

/* Index of an earlier mount of the same hierarchy (bind mounts), or -1. */
static ssize_t same_hierarchy(const struct cg_mnt *m, size_t upto)
{
	for (size_t j = 0; j < upto; j++)
		if (!m[j].v2 && !strcmp(m[j].dev, m[upto].dev))
			return (ssize_t)j;
	return -1;
}

static int pick_dirs(struct cg_handle *h, struct cg_mnt *m, size_t n)
{
	ssize_t v2 = -1;

	for (size_t i = 0; i < n; i++) {
		if (!m[i].v2)
			continue;
		bool pref = h->layout == CG_LAYOUT_UNIFIED ? !strcmp(m[i].point, CG_V2_ROOT)
							   : ends_with(m[i].point, "/unified");
		if (v2 < 0 || pref)
			v2 = (ssize_t)i;
		if (pref)
			break;
	}
	if (h->layout == CG_LAYOUT_UNIFIED)
		return add_dir(h, &m[v2]);
	for (size_t i = 0; i < n; i++) {
		ssize_t j;

		if (m[i].v2 || !v1_wanted(&m[i]))
			continue;
		/* Prefer the mount of a hierarchy's real root over a sub-tree. */
		if ((j = same_hierarchy(m, i)) >= 0) {
			if (!strcmp(m[i].root, "/") && strcmp(m[j].root, "/"))
				m[j] = m[i];
			m[i].opts[0] = '\0';
			continue;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!m[i].v2 && m[i].opts[0] && v1_wanted(&m[i]) && add_dir(h, &m[i]) < 0)
			return -ENOMEM;
	if (h->layout == CG_LAYOUT_HYBRID && add_dir(h, &m[v2]) < 0)
		return -ENOMEM;
	return 0;
}

/* Paths may come back from state files: no dot components, not the root. */
static bool clean_abs(const char *p)
{
	if (!p || p[0] != '/' || !p[1])
		return false;
	for (const char *c = p; *c; c++) {
		size_t l = strcspn(c + 1, "/");

		if (*c == '/' && ((l == 1 && c[1] == '.') || (l == 2 && !strncmp(c + 1, "..", 2))))
			return false;
	}
	return true;
}

int cg_open_at(const char *mountinfo_path, const char *path, struct cg_handle **out,
	       struct rt_err *err)
{
	_cleanup_free_ struct cg_mnt *m = NULL;
	_cleanup_cg_ struct cg_handle *h = NULL;
	size_t n;
	int r;

	if (!clean_abs(path))
		return rt_err_set(err, EINVAL, "cgroup path \"%s\" is not absolute and clean",
				  path ? path : "");
	if ((r = cg_read_mounts(mountinfo_path, &m, &n, err)) < 0)
		return r;
	if (!(h = calloc(1, sizeof(*h))) || !(h->path = strdup(path)))
		return rt_err_set(err, ENOMEM, "out of memory");
	if ((r = cg_layout_of(m, n, &h->layout, err)) < 0)
		return r;
	if (pick_dirs(h, m, n) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!h->n)
		return rt_err_set(err, ENOENT, "no usable cgroup hierarchy is mounted");
	*out = steal_ptr(h);
	return 0;
}

int cg_open(const char *path, struct cg_handle **out, struct rt_err *err)
{
	return cg_open_at(NULL, path, out, err);
}

enum cg_layout cg_handle_layout(const struct cg_handle *h) { return h->layout; }
const char *cg_handle_path(const struct cg_handle *h) { return h->path; }
size_t cg_handle_ndirs(const struct cg_handle *h) { return h->n; }
const char *cg_handle_dir(const struct cg_handle *h, size_t i)
{
	return i < h->n ? h->dirs[i].path : NULL;
}

/* The directory where controller ctrl is found: its v1 hierarchy, else the
 * v2 tree (in hybrid mode only if the controller is enabled there). */
struct cg_dir *cg_ctrl_dir(struct cg_handle *h, const char *ctrl)
{
	for (size_t i = 0; i < h->n; i++)
		if (!h->dirs[i].v2 && has_token(h->dirs[i].ctrls, ctrl))
			return &h->dirs[i];
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *c = NULL;

		if (!h->dirs[i].v2)
			continue;
		if (h->layout == CG_LAYOUT_UNIFIED)
			return &h->dirs[i];
		if (cg_read(h->dirs[i].mnt, "cgroup.controllers", &c) == 0 && has_word(c, ctrl))
			return &h->dirs[i];
	}
	return NULL;
}

/* ------------------------------------------------------- create / destroy */

/* v1 cpuset cgroups start empty and refuse tasks until filled. */
static int fill_cpuset(const char *dir, struct rt_err *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	_cleanup_free_ char *parent = strdup(dir);
	char *slash;

	if (!parent)
		return rt_err_set(err, ENOMEM, "out of memory");
	if ((slash = strrchr(parent, '/')))
		*slash = '\0';
	for (size_t i = 0; i < RT_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *cur = NULL, *up = NULL;
		int r = cg_read(dir, files[i], &cur);

		if (r < 0)
			return rt_err_sys(err, -r, "read %s/%s", dir, files[i]);
		if (*cur)
			continue;
		if ((r = cg_read(parent, files[i], &up)) < 0)
			return rt_err_sys(err, -r, "read %s/%s", parent, files[i]);
		if (cg_write(dir, files[i], up, err) < 0)
			return rt_err_wrap(err, "%s", dir);
	}
	return 0;
}

/* Best effort: a parent that cannot delegate just leaves a controller off,
 * and writing a resource of that controller reports it. */
static void enable_controllers(const char *parent)
{
	static const char *const want[] = { "memory", "pids", "cpu", "io", "cpuset", "hugetlb",
					     "rdma", "misc" };
	_cleanup_free_ char *avail = NULL, *on = NULL;

	if (cg_read(parent, "cgroup.controllers", &avail) < 0)
		return;
	cg_read(parent, "cgroup.subtree_control", &on);
	for (size_t i = 0; i < RT_ARRAY_SIZE(want); i++) {
		char buf[16];

		if (!has_word(avail, want[i]) || (on && has_word(on, want[i])))
			continue;
		snprintf(buf, sizeof(buf), "+%s", want[i]);
		cg_write(parent, "cgroup.subtree_control", buf, NULL);
	}
}

/* mkdir each level below the mount point, preparing every parent first. */
static int make_levels(struct cg_dir *d, bool hybrid, struct rt_err *err)
{
	size_t ml = strcmp(d->mnt, "/") ? strlen(d->mnt) : 0;
	_cleanup_free_ char *p = strdup(d->path);
	char *cut = p ? p + ml : NULL;

	if (!p)
		return rt_err_set(err, ENOMEM, "out of memory");
	while (cut && *cut) {
		char *next = strchr(cut + 1, '/');
		char save = next ? *next : '\0';

		if (next)
			*next = '\0';
		if (d->v2) {
			char *s = strrchr(p, '/');

			*s = '\0';
			/* On a hybrid host the cgroup2 root belongs to the host's
			 * manager: leave its subtree_control as it is. */
			if (!(hybrid && !strcmp(*p ? p : "/", d->mnt)))
				enable_controllers(*p ? p : "/");
			*s = '/';
		}
		if (mkdir(p, 0755) == 0) {
			if (!d->created_top && !(d->created_top = strdup(p)))
				return rt_err_set(err, ENOMEM, "out of memory");
		} else if (errno != EEXIST) {
			return rt_err_sys(err, errno, "mkdir %s", p);
		}
		if (!d->v2 && has_token(d->ctrls, "cpuset") && fill_cpuset(p, err) < 0)
			return -err->code;
		if (next)
			*next = save;
		cut = next;
	}
	return 0;
}

static int rm_dir_retry(const char *path, long *budget_ms)
{
	for (;;) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || *budget_ms <= 0)
			return -errno;
		sleep_ms(10);
		*budget_ms -= 10;
	}
}

/* Children first: a workload may have made its own sub-cgroups. */
static int rm_tree(const char *path, long *budget_ms, struct rt_err *err)
{
	_cleanup_closedir_ DIR *dir = opendir(path);
	struct dirent *e;
	int r;

	if (!dir)
		return errno == ENOENT ? 0 : rt_err_sys(err, errno, "open %s", path);
	while ((e = readdir(dir))) {
		_cleanup_free_ char *sub = NULL;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
			return rt_err_set(err, ENOMEM, "out of memory");
		if ((r = rm_tree(sub, budget_ms, err)) < 0)
			return r;
	}
	if ((r = rm_dir_retry(path, budget_ms)) < 0)
		return rt_err_sys(err, -r, "remove cgroup %s", path);
	return 0;
}

/* Remove now-empty parents up to top (inclusive); others may still use them,
 * so failures are fine. */
static void rm_parents(const char *path, const char *top)
{
	_cleanup_free_ char *p = strdup(path);
	char *s;

	while (p && top && (s = strrchr(p, '/')) && s != p) {
		*s = '\0';
		if (strlen(p) < strlen(top) || rmdir(p) < 0 || !strcmp(p, top))
			break;
	}
}

/* Parents hull made itself: those under /hull in the cgroup path. */
static char *hull_top(const struct cg_handle *h, const struct cg_dir *d)
{
	char *top = NULL;
	size_t pl = strlen(CG_PREFIX);

	if (strncmp(h->path, CG_PREFIX "/", pl + 1))
		return NULL;
	size_t tail = strlen(h->path) - pl;         /* "/<rest>" under /hull */
	size_t dl = strlen(d->path);

	if (dl < tail || asprintf(&top, "%.*s", (int)(dl - tail), d->path) < 0)
		return NULL;
	return top;
}

static void rollback(struct cg_handle *h)
{
	for (size_t i = 0; i < h->n; i++) {
		struct cg_dir *d = &h->dirs[i];
		long budget = 200;

		if (!d->created_top)
			continue;
		rm_tree(d->path, &budget, NULL);
		if (strcmp(d->path, d->created_top))
			rm_parents(d->path, d->created_top);
		free(steal_ptr(d->created_top));
	}
}

int cg_create_at(const char *mountinfo_path, const char *path, const struct rt_resources *res,
		 struct cg_handle **out, struct rt_err *err)
{
	_cleanup_cg_ struct cg_handle *h = NULL;
	int r;

	if ((r = cg_open_at(mountinfo_path, path, &h, err)) < 0)
		return r;
	for (size_t i = 0; i < h->n; i++) {
		/* A concurrent destroy may remove a shared parent under us: retry. */
		for (int tries = 0; (r = make_levels(&h->dirs[i], h->layout == CG_LAYOUT_HYBRID, err)) == -ENOENT && tries < 3;
		     tries++)
			;
		if (r < 0)
			goto fail;
	}
	if ((r = cg_apply(h, res, err)) < 0)
		goto fail;
	*out = steal_ptr(h);
	return 0;
fail:
	rollback(h);
	return rt_err_wrap(err, "cgroup %s", path);
}

int cg_create(const char *path, const struct rt_resources *res, struct cg_handle **out,
	      struct rt_err *err)
{
	return cg_create_at(NULL, path, res, out, err);
}

int cg_destroy(struct cg_handle *h, struct rt_err *err)
{
	long budget = 1000;
	int ret = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct cg_dir *d = &h->dirs[i];
		_cleanup_free_ char *top = hull_top(h, d);
		int r = rm_tree(d->path, &budget, err);

		if (r < 0) {
			ret = ret ? ret : r;
			continue;
		}
		rm_parents(d->path, top ? top : d->created_top);
		if (top && d->created_top && strlen(d->created_top) < strlen(top))
			rm_parents(top, d->created_top);
	}
	return ret;
}

/* ----------------------------------------------------- processes, freezer */

int cg_enter(struct cg_handle *h, pid_t pid, struct rt_err *err)
{
	for (size_t i = 0; i < h->n; i++)
		if (cg_writef(h->dirs[i].path, "cgroup.procs", err, "%d", (int)pid) < 0)
			return rt_err_wrap(err, "join cgroup %s", h->dirs[i].path);
	return 0;
}

static const char *procs_dir(struct cg_handle *h)
{
	struct cg_dir *d;

	if (h->layout == CG_LAYOUT_UNIFIED)
		return h->dirs[0].path;
	if ((d = cg_ctrl_dir(h, "pids")) && !d->v2)
		return d->path;
	return h->dirs[0].path;
}

static int collect(const char *dir, pid_t **v, size_t *n, size_t *cap, struct rt_err *err)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char *save = NULL;
	int r = cg_read(dir, "cgroup.procs", &procs);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return rt_err_sys(err, -r, "read %s/cgroup.procs", dir);
	for (char *t = strtok_r(procs, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		if (*n == *cap) {
			pid_t *nv = realloc(*v, (*cap ? *cap * 2 : 16) * sizeof(**v));

			if (!nv)
				return rt_err_set(err, ENOMEM, "out of memory");
			*v = nv;
			*cap = *cap ? *cap * 2 : 16;
		}
		(*v)[(*n)++] = (pid_t)strtol(t, NULL, 10);
	}
	if (!(d = opendir(dir)))
		return 0;
	while ((e = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0)
			return rt_err_set(err, ENOMEM, "out of memory");
		if ((r = collect(sub, v, n, cap, err)) < 0)
			return r;
	}
	return 0;
}

int cg_pids(struct cg_handle *h, pid_t **pids, size_t *n, struct rt_err *err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t len = 0, cap = 0;
	int r = collect(procs_dir(h), &v, &len, &cap, err);

	if (r < 0)
		return r;
	*pids = steal_ptr(v);
	*n = len;
	return 0;
}

int cg_kill_all(struct cg_handle *h, int sig, struct rt_err *err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t n = 0;
	int r;

	/* cgroup.kill also catches processes forked while we iterate. */
	if (h->layout == CG_LAYOUT_UNIFIED && sig == SIGKILL &&
	    cg_file_exists(h->dirs[0].path, "cgroup.kill"))
		return cg_write(h->dirs[0].path, "cgroup.kill", "1", err);
	if ((r = cg_pids(h, &v, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (v[i] > 0 && kill(v[i], sig) < 0 && errno != ESRCH)
			return rt_err_sys(err, errno, "kill %d", (int)v[i]);
	return 0;
}

static struct cg_dir *freezer_dir(struct cg_handle *h, struct rt_err *err)
{
	for (size_t i = 0; i < h->n; i++)
		if (!h->dirs[i].v2 && has_token(h->dirs[i].ctrls, "freezer"))
			return &h->dirs[i];
	/* Every non-root v2 cgroup has cgroup.freeze, also in hybrid mode. */
	for (size_t i = 0; i < h->n; i++)
		if (h->dirs[i].v2)
			return &h->dirs[i];
	rt_err_set(err, ENOTSUP, "the freezer cgroup controller is not available");
	return NULL;
}

static int read_frozen(const struct cg_dir *d, bool *frozen, struct rt_err *err)
{
	_cleanup_free_ char *s = NULL;
	const char *file = d->v2 ? "cgroup.events" : "freezer.state";
	int r = cg_read(d->path, file, &s);

	if (r < 0)
		return rt_err_sys(err, -r, "read %s/%s", d->path, file);
	if (d->v2) {
		const char *f = strstr(s, "frozen ");

		*frozen = f && (f == s || f[-1] == '\n') && f[7] == '1';
	} else {
		*frozen = !strcmp(s, "FROZEN");
	}
	return 0;
}

int cg_is_frozen(struct cg_handle *h, bool *frozen, struct rt_err *err)
{
	struct cg_dir *d = freezer_dir(h, err);

	return d ? read_frozen(d, frozen, err) : -err->code;
}

int cg_freeze(struct cg_handle *h, bool frozen, struct rt_err *err)
{
	struct cg_dir *d = freezer_dir(h, err);
	const char *file, *val;
	bool now;

	if (!d)
		return -err->code;
	file = d->v2 ? "cgroup.freeze" : "freezer.state";
	val = d->v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
	for (int ms = 0; ms < 5000; ms += 10) {
		/* v1 may stay FREEZING while tasks fork; writing again pushes on. */
		if (ms % 100 == 0 && cg_write(d->path, file, val, err) < 0)
			return -err->code;
		if (read_frozen(d, &now, err) < 0)
			return -err->code;
		if (now == frozen)
			return 0;
		sleep_ms(10);
	}
	if (frozen)
		cg_write(d->path, file, d->v2 ? "0" : "THAWED", NULL);
	return rt_err_set(err, ETIMEDOUT, "cgroup %s: %s did not take effect within 5s",
			  h->path, frozen ? "freeze" : "thaw");
}
