#include "config.h"
/* Semantic checks on a parsed spec, before anything on the host changes.
 * Each check names the offending field.  The only host access is stat()
 * of the rootfs: no side effects.  Rules follow runc where the spec leaves
 * room, so bundles that run under runc are accepted here. */
#include "runtime/spec.h"

#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>

#include "runtime/cleanup.h"

#define ID_MAX_LEN 1024
#define IDMAP_MAX_ENTRIES 340   /* the kernel's limit per uid_map/gid_map */

#define CHECK(x)                        \
	do {                            \
		int r_ = (x);           \
		if (r_ < 0)             \
			return r_;      \
	} while (0)

static bool is_abs(const char *p)
{
	return p && p[0] == '/';
}

static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';
		if (start && end)
			return true;
	}
	return false;
}

/* The id as it may appear in a one-line message: control and non-ASCII
 * bytes as \xNN, at most 64 input bytes. */
static const char *printable_id(const char *id, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; id[i] && i < 64 && o + 5 < size; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (strlen(id) > 64 && o + 4 < size)
		o += (size_t)snprintf(buf + o, size - o, "...");
	buf[o] = '\0';
	return buf;
}

int rt_validate_id(const char *id, struct rt_err *err)
{
	char pb[300];
	size_t len;

	if (!id || !id[0])
		return rt_err_set(err, EINVAL, "invalid container id \"\": must not be empty");
	len = strlen(id);
	if (len > ID_MAX_LEN)
		return rt_err_set(err, EINVAL, "invalid container id \"%s\": longer than %d bytes",
				  printable_id(id, pb, sizeof(pb)), ID_MAX_LEN);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return rt_err_set(err, EINVAL, "invalid container id \"%s\": reserved name", id);
	/* The id becomes a directory name under --root: "/" or control
	 * characters must never get through. */
	for (size_t i = 0; i < len; i++) {
		char ch = id[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("_.+-", ch))
			continue;
		if (ch == '/')
			return rt_err_set(err, EINVAL, "invalid container id \"%s\": must not contain \"/\"",
					  printable_id(id, pb, sizeof(pb)));
		return rt_err_set(err, EINVAL,
				  "invalid container id \"%s\": only [A-Za-z0-9_.+-] are allowed",
				  printable_id(id, pb, sizeof(pb)));
	}
	return 0;
}

/* ---- process ---- */

static int check_rlimits(const struct rt_process *p, struct rt_err *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct rt_rlimit *rl = &p->rlimits[i];

		if (rl->soft > rl->hard)
			return rt_err_set(err, EINVAL,
					  "process.rlimits[%zu]: soft limit %llu exceeds hard limit %llu",
					  i, (unsigned long long)rl->soft, (unsigned long long)rl->hard);
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == rl->resource)
				return rt_err_set(err, EINVAL, "process.rlimits[%zu]: duplicate type %s",
						  i, rl->name ? rl->name : "");
	}
	return 0;
}

static int check_process(const struct rt_spec *s, struct rt_err *err)
{
	const struct rt_process *p = &s->process;

	if (!s->has_process)
		return rt_err_set(err, EINVAL, "process: required");
	if (!p->args || !p->args[0])
		return rt_err_set(err, EINVAL, "process.args: must not be empty");
	if (!p->cwd)
		return rt_err_set(err, EINVAL, "process.cwd: required");
	if (!is_abs(p->cwd))
		return rt_err_set(err, EINVAL, "process.cwd: \"%s\" is not an absolute path", p->cwd);
	for (size_t i = 0; i < p->n_env; i++) {
		const char *eq = strchr(p->env[i], '=');
		if (!eq || eq == p->env[i])
			return rt_err_set(err, EINVAL, "process.env[%zu]: \"%s\" is not KEY=VALUE",
					  i, p->env[i]);
	}
	if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
		return rt_err_set(err, EINVAL, "process.oomScoreAdj: %d is out of range (-1000 to 1000)",
				  p->oom_score_adj);
	return check_rlimits(p, err);
}

/* ---- root, mounts, paths ---- */

static int check_root(const struct rt_spec *s, const char *bundle_dir, struct rt_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	if (!s->root_path || !s->root_path[0])
		return rt_err_set(err, EINVAL, "root.path: required");
	if (is_abs(s->root_path) || !bundle_dir)
		n = snprintf(path, sizeof(path), "%s", s->root_path);
	else
		n = snprintf(path, sizeof(path), "%s/%s", bundle_dir, s->root_path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return rt_err_set(err, ENAMETOOLONG, "root.path: path too long");
	if (stat(path, &st) < 0)
		return rt_err_sys(err, errno, "root.path: %s", path);
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(err, ENOTDIR, "root.path: %s: not a directory", path);
	return 0;
}

static int check_path_list(char *const *v, size_t n, const char *field, struct rt_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!is_abs(v[i]))
			return rt_err_set(err, EINVAL, "%s[%zu]: \"%s\" is not an absolute path",
					  field, i, v[i]);
	return 0;
}

static int check_idmaps(const struct rt_id_map *m, size_t n, const char *field,
			struct rt_err *err);

static int check_mounts(const struct rt_spec *s, struct rt_err *err)
{
	char field[64];

	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct rt_mount *m = &s->mounts[i];

		if (!is_abs(m->destination))
			return rt_err_set(err, EINVAL,
					  "mounts[%zu].destination: \"%s\" is not an absolute path",
					  i, m->destination ? m->destination : "");
		if (has_dotdot(m->destination))
			return rt_err_set(err, EINVAL,
					  "mounts[%zu].destination: \"%s\" must not contain \"..\"",
					  i, m->destination);
		snprintf(field, sizeof(field), "mounts[%zu].uidMappings", i);
		CHECK(check_idmaps(m->uid_mappings, m->n_uid_mappings, field, err));
		snprintf(field, sizeof(field), "mounts[%zu].gidMappings", i);
		CHECK(check_idmaps(m->gid_mappings, m->n_gid_mappings, field, err));
		if ((m->n_uid_mappings == 0) != (m->n_gid_mappings == 0))
			return rt_err_set(err, EINVAL,
					  "mounts[%zu]: uidMappings and gidMappings must be given together", i);
	}
	return 0;
}

static int check_hooks(const struct rt_spec *s, struct rt_err *err)
{
	for (int k = 0; k < RT_HOOK__COUNT; k++)
		for (size_t i = 0; i < s->hooks[k].n; i++)
			if (!is_abs(s->hooks[k].hooks[i].path))
				return rt_err_set(err, EINVAL,
						  "hooks.%s[%zu].path: \"%s\" is not an absolute path",
						  rt_hook_kind_name(k), i, s->hooks[k].hooks[i].path);
	return 0;
}

/* ---- namespaces and id mappings ---- */

static bool ns_on(const struct rt_linux *l, enum rt_ns_kind k)
{
	return l->namespaces[k].enabled;
}

static bool ranges_overlap(uint32_t a, uint32_t b, uint32_t len_a, uint32_t len_b)
{
	return (uint64_t)a < (uint64_t)b + len_b && (uint64_t)b < (uint64_t)a + len_a;
}

static int check_idmaps(const struct rt_id_map *m, size_t n, const char *field,
			struct rt_err *err)
{
	if (n > IDMAP_MAX_ENTRIES)
		return rt_err_set(err, EINVAL, "%s: %zu entries, at most %d allowed",
				  field, n, IDMAP_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		if (m[i].size == 0)
			return rt_err_set(err, EINVAL, "%s[%zu].size: must be greater than zero", field, i);
		/* IDs are 32-bit and (uid_t)-1 is never valid. */
		if ((uint64_t)m[i].container_id + m[i].size > UINT32_MAX ||
		    (uint64_t)m[i].host_id + m[i].size > UINT32_MAX)
			return rt_err_set(err, EINVAL, "%s[%zu]: range overflows 32-bit ids", field, i);
		for (size_t j = 0; j < i; j++) {
			if (ranges_overlap(m[i].container_id, m[j].container_id, m[i].size, m[j].size))
				return rt_err_set(err, EINVAL, "%s[%zu]: containerID range overlaps %s[%zu]",
						  field, i, field, j);
			if (ranges_overlap(m[i].host_id, m[j].host_id, m[i].size, m[j].size))
				return rt_err_set(err, EINVAL, "%s[%zu]: hostID range overlaps %s[%zu]",
						  field, i, field, j);
		}
	}
	return 0;
}

static int check_namespaces(const struct rt_spec *s, struct rt_err *err)
{
	const struct rt_linux *l = &s->linux_;
	const struct rt_namespace *user = &l->namespaces[RT_NS_USER];

	for (int k = 0; k < RT_NS__COUNT; k++) {
		const char *p = l->namespaces[k].path;
		if (l->namespaces[k].enabled && p && !is_abs(p))
			return rt_err_set(err, EINVAL,
					  "linux.namespaces: path of the %s namespace \"%s\" is not absolute",
					  rt_ns_kind_name(k), p);
	}
	CHECK(check_idmaps(l->uid_mappings, l->n_uid_mappings, "linux.uidMappings", err));
	CHECK(check_idmaps(l->gid_mappings, l->n_gid_mappings, "linux.gidMappings", err));
	if (!user->enabled) {
		if (l->n_uid_mappings || l->n_gid_mappings)
			return rt_err_set(err, EINVAL, "linux.%s: mappings given without a user namespace",
					  l->n_uid_mappings ? "uidMappings" : "gidMappings");
	} else if (!user->path) {
		if (!l->n_uid_mappings)
			return rt_err_set(err, EINVAL, "linux.uidMappings: required with a new user namespace");
		if (!l->n_gid_mappings)
			return rt_err_set(err, EINVAL, "linux.gidMappings: required with a new user namespace");
	}
	if (s->hostname && s->hostname[0] && !ns_on(l, RT_NS_UTS))
		return rt_err_set(err, EINVAL, "hostname: setting it requires a uts namespace");
	if (s->domainname && s->domainname[0] && !ns_on(l, RT_NS_UTS))
		return rt_err_set(err, EINVAL, "domainname: setting it requires a uts namespace");
	if ((l->time_monotonic.present || l->time_boottime.present) && !ns_on(l, RT_NS_TIME))
		return rt_err_set(err, EINVAL, "linux.timeOffsets: requires a time namespace");
	if (ns_on(l, RT_NS_TIME) && l->namespaces[RT_NS_TIME].path &&
	    (l->time_monotonic.present || l->time_boottime.present))
		return rt_err_set(err, EINVAL,
				  "linux.timeOffsets: cannot be set when joining an existing time namespace");
	return 0;
}

/* ---- sysctl: only keys the kernel namespaces, and only with that ns ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int check_sysctl_key(const struct rt_linux *l, const char *key, struct rt_err *err)
{
	char k[256];
	enum rt_ns_kind need;

	/* "net/ipv4/ip_forward" and "net.ipv4.ip_forward" are the same key. */
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = k; *p; p++)
		if (*p == '/')
			*p = '.';
	if (starts_with(k, "kernel.shm") || starts_with(k, "kernel.msg") ||
	    starts_with(k, "kernel.sem") || starts_with(k, "fs.mqueue."))
		need = RT_NS_IPC;
	else if (starts_with(k, "net."))
		need = RT_NS_NET;
	else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
		need = RT_NS_UTS;
	else
		return rt_err_set(err, EINVAL,
				  "linux.sysctl[\"%s\"]: not namespaced, cannot be set in a container", key);
	if (!ns_on(l, need))
		return rt_err_set(err, EINVAL, "linux.sysctl[\"%s\"]: requires a%s %s namespace", key,
				  need == RT_NS_IPC ? "n" : "", rt_ns_kind_name(need));
	return 0;
}

static int check_sysctl(const struct rt_linux *l, struct rt_err *err)
{
	for (size_t i = 0; i < l->n_sysctl; i++)
		CHECK(check_sysctl_key(l, l->sysctl[i].key, err));
	return 0;
}

/* ---- seccomp ---- */

static const char *const known_seccomp_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static bool arch_known(const char *name)
{
	char lower[64];
	size_t i;

	if (!starts_with(name, "SCMP_ARCH_"))
		return false;
	name += strlen("SCMP_ARCH_");
	for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower) != 0;
}

static int check_seccomp_rules(const struct rt_seccomp *sc, bool *notify, struct rt_err *err)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rt_seccomp_rule *r = &sc->rules[i];

		/* Unknown syscall names are not checked: like runc, the filter
		 * builder skips names the native arch does not have, so one
		 * profile serves several kernels and architectures. */
		if (r->n_names == 0)
			return rt_err_set(err, EINVAL, "linux.seccomp.syscalls[%zu].names: must not be empty", i);
		for (size_t j = 0; j < r->n_names; j++)
			if (!r->names[j][0])
				return rt_err_set(err, EINVAL,
						  "linux.seccomp.syscalls[%zu].names[%zu]: empty name", i, j);
		for (size_t j = 0; j < r->n_args; j++)
			if (r->args[j].index >= 6)
				return rt_err_set(err, EINVAL,
						  "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of range (0 to 5)",
						  i, j, r->args[j].index);
		if (r->action == RT_SECCOMP_NOTIFY)
			*notify = true;
	}
	return 0;
}

static int check_seccomp(const struct rt_linux *l, struct rt_err *err)
{
	const struct rt_seccomp *sc = l->seccomp;
	bool notify = false;

	if (!sc)
		return 0;
	if (sc->default_action == RT_SECCOMP_NOTIFY)
		return rt_err_set(err, EINVAL,
				  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	for (size_t i = 0; i < sc->n_architectures; i++)
		if (!arch_known(sc->architectures[i]))
			return rt_err_set(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
					  i, sc->architectures[i]);
	for (size_t i = 0; i < sc->n_flags; i++) {
		size_t k;
		for (k = 0; k < RT_ARRAY_SIZE(known_seccomp_flags); k++)
			if (strcmp(sc->flags[i], known_seccomp_flags[k]) == 0)
				break;
		if (k == RT_ARRAY_SIZE(known_seccomp_flags))
			return rt_err_set(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"",
					  i, sc->flags[i]);
	}
	CHECK(check_seccomp_rules(sc, &notify, err));
	if (notify && !sc->listener_path)
		return rt_err_set(err, EINVAL,
				  "linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY");
	if (!notify && sc->listener_path)
		return rt_err_set(err, EINVAL,
				  "linux.seccomp.listenerPath: set but no action is SCMP_ACT_NOTIFY");
	if (sc->listener_path && !is_abs(sc->listener_path))
		return rt_err_set(err, EINVAL, "linux.seccomp.listenerPath: \"%s\" is not an absolute path",
				  sc->listener_path);
	return 0;
}

/* ---- devices, resources, misc linux ---- */

static int check_devices(const struct rt_linux *l, struct rt_err *err)
{
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct rt_device *d = &l->devices[i];

		if (!d->type || !strchr("cbup", d->type))
			return rt_err_set(err, EINVAL, "linux.devices[%zu].type: \"%c\" is not one of c, b, u, p",
					  i, d->type ? d->type : '?');
		if (!starts_with(d->path, "/dev/") || has_dotdot(d->path))
			return rt_err_set(err, EINVAL, "linux.devices[%zu].path: \"%s\" is not a path under /dev",
					  i, d->path);
		if (d->type != 'p' && (d->major < 0 || d->minor < 0))
			return rt_err_set(err, EINVAL, "linux.devices[%zu]: major and minor are required for type %c",
					  i, d->type);
	}
	return 0;
}

static int check_resources(const struct rt_resources *r, struct rt_err *err)
{
	if (r->mem_swappiness > 100)
		return rt_err_set(err, EINVAL, "linux.resources.memory.swappiness: %lld is out of range (0 to 100)",
				  (long long)r->mem_swappiness);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct rt_device_rule *d = &r->devices[i];

		if (!d->type || !strchr("acb", d->type))
			return rt_err_set(err, EINVAL,
					  "linux.resources.devices[%zu].type: \"%c\" is not one of a, c, b", i, d->type);
		if (d->access && d->access[strspn(d->access, "rwm")])
			return rt_err_set(err, EINVAL,
					  "linux.resources.devices[%zu].access: \"%s\" is not a subset of \"rwm\"",
					  i, d->access);
	}
	return 0;
}

static int check_linux_misc(const struct rt_linux *l, struct rt_err *err)
{
	static const char *const props[] = {
		"shared", "slave", "private", "unbindable",
		"rshared", "rslave", "rprivate", "runbindable",
	};
	size_t k;

	if (l->has_intel_rdt)
		return rt_err_set(err, ENOTSUP, "linux.intelRdt: not supported by hull");
	if (l->personality.present && l->personality.domain != PER_LINUX &&
	    l->personality.domain != PER_LINUX32)
		return rt_err_set(err, EINVAL, "linux.personality.domain: must be LINUX or LINUX32");
	if (l->rootfs_propagation) {
		for (k = 0; k < RT_ARRAY_SIZE(props); k++)
			if (strcmp(props[k], l->rootfs_propagation) == 0)
				break;
		if (k == RT_ARRAY_SIZE(props))
			return rt_err_set(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"",
					  l->rootfs_propagation);
	}
	CHECK(check_path_list(l->masked_paths, l->n_masked_paths, "linux.maskedPaths", err));
	return check_path_list(l->readonly_paths, l->n_readonly_paths, "linux.readonlyPaths", err);
}

int rt_spec_validate(const struct rt_spec *spec, const char *bundle_dir, struct rt_err *err)
{
	const struct rt_linux *l = &spec->linux_;

	CHECK(check_process(spec, err));
	CHECK(check_root(spec, bundle_dir, err));
	CHECK(check_mounts(spec, err));
	CHECK(check_hooks(spec, err));
	CHECK(check_namespaces(spec, err));
	CHECK(check_sysctl(l, err));
	CHECK(check_seccomp(l, err));
	CHECK(check_devices(l, err));
	CHECK(check_resources(&l->resources, err));
	return check_linux_misc(l, err);
}
