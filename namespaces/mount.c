#include "config.h"
/* Mount options and the rootfs plan.  Everything that can be decided
 * before fork is decided here (flags, data, kinds, devices, the host's
 * cgroup layout), so that the child's rootfs.c only issues syscalls. */
#include "namespaces/mount.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <libmount/libmount.h>

#include "runtime/arena.h"
#include "runtime/cleanup.h"

#define PROPAGATION_BITS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* OCI/runc options that libmount's kernel map does not know. */
enum own_kind {
	OWN_NOP,        /* "defaults" */
	OWN_ATTR_SET,   /* rnosuid, rro, ... */
	OWN_ATTR_CLR,   /* rsuid, rrw, ... */
	OWN_ATIME,      /* one atime mode for the whole tree */
	OWN_IDMAP,
	OWN_RIDMAP,
	OWN_TMPCOPYUP,
};

struct own_opt {
	const char *name;
	enum own_kind kind;
	uint64_t attr;
};

/* Recursive atime choices: "ratime"/"rnostrictatime" fall back to the
 * kernel default (relatime); "rnorelatime" means atime is always updated,
 * which the kernel calls strictatime. */
static const struct own_opt own_opts[] = {
	{ "defaults", OWN_NOP, 0 },
	{ "rro", OWN_ATTR_SET, MOUNT_ATTR_RDONLY },
	{ "rrw", OWN_ATTR_CLR, MOUNT_ATTR_RDONLY },
	{ "rnosuid", OWN_ATTR_SET, MOUNT_ATTR_NOSUID },
	{ "rsuid", OWN_ATTR_CLR, MOUNT_ATTR_NOSUID },
	{ "rnodev", OWN_ATTR_SET, MOUNT_ATTR_NODEV },
	{ "rdev", OWN_ATTR_CLR, MOUNT_ATTR_NODEV },
	{ "rnoexec", OWN_ATTR_SET, MOUNT_ATTR_NOEXEC },
	{ "rexec", OWN_ATTR_CLR, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", OWN_ATTR_SET, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", OWN_ATTR_CLR, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", OWN_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", OWN_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rrelatime", OWN_ATIME, MOUNT_ATTR_RELATIME },
	{ "rnorelatime", OWN_ATIME, MOUNT_ATTR_STRICTATIME },
	{ "rnoatime", OWN_ATIME, MOUNT_ATTR_NOATIME },
	{ "ratime", OWN_ATIME, MOUNT_ATTR_RELATIME },
	{ "rstrictatime", OWN_ATIME, MOUNT_ATTR_STRICTATIME },
	{ "rnostrictatime", OWN_ATIME, MOUNT_ATTR_RELATIME },
	{ "idmap", OWN_IDMAP, 0 },
	{ "ridmap", OWN_RIDMAP, 0 },
	{ "tmpcopyup", OWN_TMPCOPYUP, 0 },
};

static const struct own_opt *own_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(own_opts); i++)
		if (strlen(own_opts[i].name) == len && strncmp(own_opts[i].name, name, len) == 0)
			return &own_opts[i];
	return NULL;
}

static const struct libmnt_optmap *kernel_lookup(const char *name, size_t len)
{
	const struct libmnt_optmap *m = mnt_get_builtin_optmap(MNT_LINUX_MAP);

	for (; m && m->name; m++)
		if (strlen(m->name) == len && strncmp(m->name, name, len) == 0)
			return m;
	return NULL;
}

static void apply_own(const struct own_opt *o, struct ns_mount_opts *out)
{
	switch (o->kind) {
	case OWN_NOP:
		break;
	case OWN_ATTR_SET:
		out->attr_set |= o->attr;
		out->attr_clr &= ~o->attr;
		if (o->attr == MOUNT_ATTR_RDONLY)
			out->recursive_ro = true;
		break;
	case OWN_ATTR_CLR:
		out->attr_clr |= o->attr;
		out->attr_set &= ~o->attr;
		if (o->attr == MOUNT_ATTR_RDONLY)
			out->recursive_ro = false;
		break;
	case OWN_ATIME:
		/* The kernel wants the whole atime field cleared when one is set. */
		out->attr_set = (out->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->attr;
		out->attr_clr |= MOUNT_ATTR__ATIME;
		break;
	case OWN_IDMAP:
		out->idmap = true;
		break;
	case OWN_RIDMAP:
		out->idmap = out->idmap_recursive = true;
		break;
	case OWN_TMPCOPYUP:
		out->tmpcopyup = true;
		break;
	}
}

static void apply_kernel(const struct libmnt_optmap *m, struct ns_mount_opts *out)
{
	unsigned long id = (unsigned long)m->id;

	if (id & PROPAGATION_BITS) {
		out->propagation = id;   /* the last propagation option wins */
		return;
	}
	if (id & MS_BIND) {
		out->bind = true;
		if (id & MS_REC)
			out->rbind = true;
		out->flags |= id;
		return;
	}
	if (m->mask & MNT_INVERT) {
		out->flags &= ~id;
		out->clear |= id;
	} else {
		out->flags |= id;
		out->clear &= ~id;
	}
}

static int append_data(char **data, const char *opt, struct rt_err *err)
{
	size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
	char *n = realloc(*data, old + add + 2);

	if (!n)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (old)
		n[old++] = ',';
	memcpy(n + old, opt, add + 1);
	*data = n;
	return 0;
}

static int parse_one(const char *opt, struct ns_mount_opts *out, struct rt_err *err)
{
	const char *eq = strchr(opt, '=');
	size_t len = eq ? (size_t)(eq - opt) : strlen(opt);
	const struct own_opt *own = own_lookup(opt, len);
	const struct libmnt_optmap *km = own ? NULL : kernel_lookup(opt, len);

	if (!*opt)
		return rt_err_set(err, EINVAL, "empty mount option");
	if ((own || km) && eq)
		return rt_err_set(err, EINVAL, "mount option \"%s\": \"%.*s\" takes no value",
				  opt, (int)len, opt);
	if (own) {
		apply_own(own, out);
		return 0;
	}
	if (km) {
		apply_kernel(km, out);
		return 0;
	}
	if (len == 0)
		return rt_err_set(err, EINVAL, "mount option \"%s\": empty name", opt);
	/* x-* options are for user space tools (mount(8)); the kernel rejects them. */
	if (strncmp(opt, "x-", 2) == 0)
		return 0;
	return append_data(&out->data, opt, err);
}

int ns_mount_parse_options(char *const *options, struct ns_mount_opts *out, struct rt_err *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; options && options[i]; i++) {
		int r = parse_one(options[i], out, err);
		if (r < 0) {
			ns_mount_opts_clear(out);
			return r;
		}
	}
	return 0;
}

void ns_mount_opts_clear(struct ns_mount_opts *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

int ns_propagation_parse(const char *name, unsigned long *out, struct rt_err *err)
{
	const struct libmnt_optmap *m = name ? kernel_lookup(name, strlen(name)) : NULL;

	if (!m || !((unsigned long)m->id & PROPAGATION_BITS))
		return rt_err_set(err, EINVAL, "unknown propagation \"%s\"", name ? name : "");
	*out = (unsigned long)m->id;
	return 0;
}

int ns_path_clean(struct rt_arena *a, const char *path, const char **out, struct rt_err *err)
{
	char *res = rt_arena_alloc(a, strlen(path) + 2);
	size_t n = 0;

	for (const char *p = path; *p;) {
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return rt_err_set(err, EINVAL, "path \"%s\": \"..\" not allowed", path);
		if (!(len == 1 && p[0] == '.')) {
			if (n)
				res[n++] = '/';
			memcpy(res + n, p, len);
			n += len;
		}
		p += len;
	}
	if (!n)
		res[n++] = '.';
	res[n] = '\0';
	*out = res;
	return 0;
}

/* ---- the plan ---- */

static bool is_bind(const struct rt_mount *m, const struct ns_mount_opts *o)
{
	return o->bind || (m->type && strcmp(m->type, "bind") == 0);
}

static int plan_idmap(struct ns_plan_mount *pm, const struct rt_mount *m,
		      const struct rt_spec *spec, struct rt_err *err)
{
	if (m->n_uid_mappings || m->n_gid_mappings)
		pm->opts.idmap = true;
	if (!pm->opts.idmap)
		return 0;
	if (pm->kind != NS_MNT_BIND)
		return rt_err_set(err, EINVAL, "idmapped mounts are only supported for bind mounts");
	/* No mappings on the mount: use the container's own user namespace maps. */
	pm->uid_map = m->n_uid_mappings ? m->uid_mappings : spec->linux_.uid_mappings;
	pm->n_uid_map = m->n_uid_mappings ? m->n_uid_mappings : spec->linux_.n_uid_mappings;
	pm->gid_map = m->n_gid_mappings ? m->gid_mappings : spec->linux_.gid_mappings;
	pm->n_gid_map = m->n_gid_mappings ? m->n_gid_mappings : spec->linux_.n_gid_mappings;
	if (!pm->n_uid_map || !pm->n_gid_map)
		return rt_err_set(err, EINVAL, "idmap needs uidMappings and gidMappings");
	return 0;
}

static int plan_kind(struct ns_rootfs_plan *plan, struct ns_plan_mount *pm,
		     const struct rt_mount *m, struct rt_err *err)
{
	if (is_bind(m, &pm->opts)) {
		pm->kind = NS_MNT_BIND;
		pm->opts.bind = true;
		pm->opts.flags |= MS_BIND;
		if (!m->source || !*m->source)
			return rt_err_set(err, EINVAL, "bind mount needs a source");
		if (m->source[0] != '/')
			pm->source = rt_arena_printf(plan->arena, "%s/%s", plan->base_dir, m->source);
		if (strcmp(pm->rel, "dev") == 0)
			plan->setup_dev = false;
		return 0;
	}
	if (!m->type || !*m->type || strcmp(m->type, "none") == 0)
		return rt_err_set(err, EINVAL, "no type given and not a bind mount");
	pm->type = m->type;
	pm->kind = strcmp(m->type, "cgroup") == 0 ? NS_MNT_CGROUP : NS_MNT_FS;
	if (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0)
		pm->no_symlinks = true;
	if (strcmp(m->type, "proc") == 0 && strcmp(pm->rel, "proc") == 0)
		plan->proc_mounted = true;
	if (strcmp(m->type, "devpts") == 0 && strcmp(pm->rel, "dev/pts") == 0)
		plan->pts_mounted = true;
	return 0;
}

static int plan_mount(struct ns_rootfs_plan *plan, const struct rt_spec *spec, size_t i,
		      struct rt_err *err)
{
	const struct rt_mount *m = &spec->mounts[i];
	struct ns_plan_mount *pm = &plan->mounts[i];
	int r;

	if (!m->destination || !*m->destination)
		return rt_err_set(err, EINVAL, "destination missing");
	pm->dest = m->destination;
	r = ns_path_clean(plan->arena, m->destination, &pm->rel, err);
	if (r < 0)
		return r;
	pm->source = m->source;
	r = ns_mount_parse_options(m->options, &pm->opts, err);
	if (r < 0)
		return r;
	r = plan_kind(plan, pm, m, err);
	if (r < 0)
		return r;
	/* A bind at "/" as the first mount replaces the root's content (hull
	 * jail --ro-host binds the host's tree there); anything else at "/"
	 * would hide the mounts before it. */
	if (strcmp(pm->rel, ".") == 0 && (i != 0 || pm->kind != NS_MNT_BIND))
		return rt_err_set(err, EINVAL, "destination \"/\" is the root itself "
				  "(only a bind mount, first in the list, may go there)");
	return plan_idmap(pm, m, spec, err);
}

static int plan_paths(struct rt_arena *a, char *const *in, size_t n, char ***out,
		      size_t *n_out, const char *field, struct rt_err *err)
{
	*out = rt_arena_array(a, n + 1, sizeof(char *));
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		const char *rel;
		int r = ns_path_clean(a, in[i], &rel, err);
		if (r < 0)
			return rt_err_wrap(err, "linux.%s[%zu]", field, i);
		(*out)[i] = (char *)rel;
	}
	return 0;
}

/* Read the host's cgroup mounts (for "cgroup" mounts on v1/hybrid hosts)
 * now, so the child does not parse mountinfo. */
static int plan_cgroups(struct ns_rootfs_plan *plan, struct rt_err *err)
{
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	size_t cap = 16;

	if (!tb || !it) {
		mnt_unref_table(tb);
		mnt_free_iter(it);
		return rt_err_set(err, EIO, "cannot read /proc/self/mountinfo");
	}
	plan->cg_hiers = rt_arena_array(plan->arena, cap, sizeof(*plan->cg_hiers));
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *tgt = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
		bool v2 = type && strcmp(type, "cgroup2") == 0;
		if (!tgt || !type || (!v2 && strcmp(type, "cgroup") != 0))
			continue;
		if (v2 && strcmp(tgt, "/sys/fs/cgroup") == 0)
			plan->cg_unified = true;
		if (strncmp(tgt, "/sys/fs/cgroup/", 15) != 0 || strchr(tgt + 15, '/') ||
		    plan->n_cg_hiers == cap)
			continue;
		struct ns_cg_hier *h = &plan->cg_hiers[plan->n_cg_hiers++];
		h->name = rt_arena_strdup(plan->arena, tgt + 15);
		h->host_path = rt_arena_strdup(plan->arena, tgt);
		h->super_opts = rt_arena_strdup(plan->arena, mnt_fs_get_fs_options(fs) ?: "");
		h->v2 = v2;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return 0;
}

/* Co-mounted controllers show up as symlinks ("cpu" -> "cpu,cpuacct"). */
static void plan_cgroup_links(struct ns_rootfs_plan *plan)
{
	_cleanup_closedir_ DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;
	size_t cap = 16;

	plan->cg_links = rt_arena_array(plan->arena, cap, sizeof(*plan->cg_links));
	while (d && (e = readdir(d)) && plan->n_cg_links < cap) {
		char buf[256];
		ssize_t n;
		if (e->d_type != DT_LNK)
			continue;
		n = readlinkat(dirfd(d), e->d_name, buf, sizeof(buf) - 1);
		if (n <= 0 || memchr(buf, '/', (size_t)n))
			continue;
		plan->cg_links[plan->n_cg_links].name = rt_arena_strdup(plan->arena, e->d_name);
		plan->cg_links[plan->n_cg_links++].target = rt_arena_strndup(plan->arena, buf, (size_t)n);
	}
}

static int plan_propagation(struct ns_rootfs_plan *plan, const struct rt_spec *spec,
			    struct rt_err *err)
{
	plan->root_propagation = MS_REC | MS_SLAVE;
	if (!spec->linux_.rootfs_propagation)
		return 0;
	if (ns_propagation_parse(spec->linux_.rootfs_propagation, &plan->rootfs_propagation,
				 err) < 0)
		return rt_err_wrap(err, "linux.rootfsPropagation");
	plan->root_propagation = plan->rootfs_propagation;
	return 0;
}

static int plan_fill(struct ns_rootfs_plan *plan, const struct rt_spec *spec, struct rt_err *err)
{
	bool any_cgroup = false;
	int r;

	r = plan_propagation(plan, spec, err);
	if (r < 0)
		return r;
	plan->mounts = rt_arena_array(plan->arena, spec->n_mounts + 1, sizeof(*plan->mounts));
	plan->n_mounts = spec->n_mounts;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		r = plan_mount(plan, spec, i, err);
		if (r < 0)
			return rt_err_wrap(err, "mounts[%zu] (%s)", i,
					   spec->mounts[i].destination ?: "?");
		any_cgroup |= plan->mounts[i].kind == NS_MNT_CGROUP;
	}
	/* runc links /dev/core only where the kernel has a kcore to point at. */
	plan->dev_core = plan->proc_mounted && access("/proc/kcore", F_OK) == 0;
	if (any_cgroup) {
		r = plan_cgroups(plan, err);
		if (r < 0)
			return r;
		if (!plan->cg_unified)
			plan_cgroup_links(plan);
	}
	r = plan_paths(plan->arena, spec->linux_.masked_paths, spec->linux_.n_masked_paths,
		       &plan->masked, &plan->n_masked, "maskedPaths", err);
	if (r < 0)
		return r;
	r = plan_paths(plan->arena, spec->linux_.readonly_paths, spec->linux_.n_readonly_paths,
		       &plan->readonly, &plan->n_readonly, "readonlyPaths", err);
	if (r < 0)
		return r;
	return ns_devices_plan(plan, spec, err);
}

int ns_rootfs_plan_new(const struct rt_spec *spec, const char *rootfs, bool userns,
		       struct ns_rootfs_plan **out, struct rt_err *err)
{
	return ns_rootfs_plan_new_bundle(spec, rootfs, NULL, userns, out, err);
}

int ns_rootfs_plan_new_bundle(const struct rt_spec *spec, const char *rootfs,
			      const char *bundle_dir, bool userns,
			      struct ns_rootfs_plan **out, struct rt_err *err)
{
	_cleanup_free_ char *cwd = bundle_dir ? NULL : getcwd(NULL, 0);
	struct ns_rootfs_plan *plan;
	int r;

	if (!rootfs || rootfs[0] != '/')
		return rt_err_set(err, EINVAL, "rootfs \"%s\" is not an absolute path",
				  rootfs ? rootfs : "");
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return rt_err_set(err, ENOMEM, "out of memory");
	plan->arena = rt_arena_new();
	plan->rootfs = rt_arena_strdup(plan->arena, rootfs);
	plan->base_dir = rt_arena_strdup(plan->arena, bundle_dir ?: cwd ?: "/");
	plan->userns = userns;
	plan->setup_dev = true;
	plan->root_readonly = spec->root_readonly;
	plan->cgroupns = spec->linux_.namespaces[RT_NS_CGROUP].enabled;
	r = plan_fill(plan, spec, err);
	if (r < 0) {
		ns_rootfs_plan_free(plan);
		return r;
	}
	*out = plan;
	return 0;
}

void ns_rootfs_plan_free(struct ns_rootfs_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; plan->mounts && i < plan->n_mounts; i++)
		ns_mount_opts_clear(&plan->mounts[i].opts);
	rt_arena_free(plan->arena);
	free(plan);
}
