/* Shared between the files of cgroups/ only: the handle's layout and the
 * small file helpers every controller uses. */
#ifndef HULL_CG_INTERNAL_H
#define HULL_CG_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cgroups/cgroup.h"
#include "runtime/err.h"

#define CG_MOUNTINFO "/proc/self/mountinfo"
#define CG_V2_ROOT "/sys/fs/cgroup"
#define CG_PREFIX "/hull"

struct cg_dir {
	char *path;          /* this container's directory in the hierarchy */
	char *mnt;           /* mount point of the hierarchy */
	char *ctrls;         /* v1 super options ("rw,cpu,cpuacct"); NULL for v2 */
	bool v2;
	char *created_top;   /* highest dir cg_create made; NULL if none */
};

struct cg_handle {
	enum cg_layout layout;
	char *path;          /* cgroup path, absolute, normalised */
	struct cg_dir *dirs;
	size_t n;
};

/* One cgroup mount from mountinfo. */
struct cg_mnt {
	char root[PATH_MAX], point[PATH_MAX], opts[512], dev[32];
	bool v2;
};

/* detect.c */
int cg_read_mounts(const char *mountinfo, struct cg_mnt **out, size_t *n, struct rt_err *err);
int cg_layout_of(const struct cg_mnt *m, size_t n, enum cg_layout *out, struct rt_err *err);

/* cgroup.c: one write() of val to dir/file; the error names file and value
 * ("memory.max: write \"1000\": Device or resource busy"). */
int cg_write(const char *dir, const char *file, const char *val, struct rt_err *err);
int cg_writef(const char *dir, const char *file, struct rt_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Whole file, trailing newline stripped; -errno, no message. */
int cg_read(const char *dir, const char *file, char **out);
bool cg_file_exists(const char *dir, const char *file);
/* Where controller ctrl lives for this handle, or NULL. */
struct cg_dir *cg_ctrl_dir(struct cg_handle *h, const char *ctrl);

/* resources.c: shared by the controller files. */
struct cg_dir *cg_v2_dir(struct cg_handle *h);
/* Where ctrl lives, or an ENOTSUP error naming linux.resources.<field>. */
int cg_need_ctrl(struct cg_handle *h, const char *ctrl, const char *field, struct cg_dir **out,
		 struct rt_err *err);
/* Writes that constrain each other (memory vs memsw, quota vs burst): each
 * pass writes what it can; an EINVAL is retried after the others moved. */
struct cg_write_item {
	const char *file;
	char val[96];
};
int cg_write_all(const char *dir, struct cg_write_item *items, size_t n, struct rt_err *err);

/* -1 is "not given"; any other negative limit means "unlimited". */
static inline bool cg_is_set(int64_t v) { return v != -1; }
static inline bool cg_unlimited(int64_t v) { return v < -1; }

/* res_io.c: blockIO, hugepageLimits, network, rdma. */
int cg_check_io(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err);
int cg_apply_blkio(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err);
int cg_apply_hugetlb(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err);
int cg_apply_network(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err);
int cg_apply_rdma(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err);

/* devices_bpf.c: one linux.resources.devices rule is well formed. */
int cg_device_rule_check(const struct rt_device_rule *d, size_t i, struct rt_err *err);

/* Is tok one of the comma-separated items of list (v1 mount options)? */
static inline bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = list; p && *p;) {
		const char *e = strchrnul(p, ',');

		if ((size_t)(e - p) == n && !strncmp(p, tok, n))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Same for whitespace-separated lists (cgroup.controllers). */
static inline bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t\n");
		size_t l = strcspn(p, " \t\n");

		if (l == n && !strncmp(p, w, n))
			return true;
		p += l;
	}
	return false;
}

static inline bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

#endif
