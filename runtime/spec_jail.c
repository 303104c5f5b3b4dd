/* The spec module's writer for `hull jail`: flags -> config.json. */
#include "config.h"
#include "runtime/jail.h"
#include "runtime/spec.h"
#include "runtime/spec_gen.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

/* docker's default capability set: what a typical service needs. */
static const char *const jail_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* The default seccomp profile: allow, but refuse with EPERM what lets a
 * process change the system or leave its jail (as docker's profile does
 * for these calls). */
static const char *const denied_syscalls[] = {
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
	"get_kernel_syms", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load",
	"kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
	"name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree",
	"perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace",
	"query_module", "quotactl", "reboot", "request_key", "setns", "settimeofday",
	"stime", "swapoff", "swapon", "sysfs", "_sysctl", "umount", "umount2", "unshare",
	"uselib", "userfaultfd", "ustat", "vm86", "vm86old", NULL,
};

static bool in_list(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i], name) || !strcasecmp(v[i], "ALL") ||
		    (!strncasecmp(name, "CAP_", 4) && !strcasecmp(v[i], name + 4)))
			return true;
	return false;
}

static const char *cap_canon(const char *c, char *buf, size_t len)
{
	if (strncasecmp(c, "CAP_", 4))
		snprintf(buf, len, "CAP_%s", c);
	else
		snprintf(buf, len, "%s", c);
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return buf;
}

static void jail_caps_sets(struct gw *w, const struct rt_jail_opts *o)
{
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	char buf[64];

	omap(w, "capabilities");
	for (size_t k = 0; k < 3; k++) {
		oarr(w, sets[k]);
		for (int c = 0; rt_cap_name(c); c++) {
			const char *name = rt_cap_name(c);
			bool base = false;
			for (const char *const *d = jail_caps; *d; d++)
				base |= !strcmp(*d, name);
			if (in_list(o->cap_add, o->n_cap_add, name) ||
			    (o->system && !strcmp(name, "CAP_SYS_BOOT")))
				base = true;
			if (in_list(o->cap_drop, o->n_cap_drop, name))
				base = false;
			if (base)
				s(w, cap_canon(name, buf, sizeof(buf)));
		}
		carr(w);
	}
	cmap(w);
}

static void jail_process(struct gw *w, const struct rt_jail_opts *o)
{
	static const char *const env_default[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL,
	};

	omap(w, "process");
	kbool(w, "terminal", false);
	omap(w, "user");
	kint(w, "uid", o->has_uid ? (long long)o->uid : 0);
	kint(w, "gid", o->has_uid ? (long long)o->gid : 0);
	cmap(w);
	kstrv(w, "args", (const char *const *)o->args);
	kstrv(w, "env", env_default);
	kv(w, "cwd", o->cwd ? o->cwd : "/");
	jail_caps_sets(w, o);
	kbool(w, "noNewPrivileges", true);
	cmap(w);
}

static void jail_mounts(struct gw *w, const struct rt_jail_opts *o)
{
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					   "mode=0620", NULL };
	static const char *const tmp[] = { "nosuid", "nodev", "mode=1777", NULL };
	static const char *const sys[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const sys_own[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	const char *bind_ro[] = { "rbind", "ro", "nosuid", "nodev", NULL };
	const char *bind_rw[] = { "rbind", "nosuid", "nodev", NULL };

	static const char *const host_ro[] = { "rbind", "rro", "nosuid", NULL };

	oarr(w, "mounts");
	/* --ro-host: the host's whole mount tree, read-only all the way down,
	 * over the jail's own empty root (pivot_root cannot enter "/" itself). */
	if (o->ro_host)
		gw_mount(w, "/", "none", "/", host_ro);
	gw_mount(w, "/proc", "proc", "proc", NULL);
	gw_mount(w, "/dev", "tmpfs", "tmpfs", dev);
	gw_mount(w, "/dev/pts", "devpts", "devpts", pts);
	/* sysfs needs a network namespace of our own (and privileges) */
	if (strcmp(o->net, "host") && !o->rootless) {
		gw_mount(w, "/sys", "sysfs", "sysfs", sys_own);
		/* the jail's own cgroup, read-only: limits are visible inside */
		gw_mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
	} else
		gw_mount(w, "/sys", "none", "/sys", sys);
	for (size_t i = 0; i < o->n_tmpfs; i++)
		gw_mount(w, o->tmpfs[i], "tmpfs", "tmpfs", tmp);
	for (size_t i = 0; i < o->n_binds; i++)
		gw_mount(w, o->binds[i].dst, "none", o->binds[i].src, (const char *const *)(o->binds[i].ro ? bind_ro : bind_rw));
	carr(w);
}

static void jail_map(struct gw *w, const char *key, unsigned long inside, unsigned long host)
{
	oarr(w, key);
	omap(w, NULL);
	kint(w, "containerID", (long long)inside);
	kint(w, "hostID", (long long)host);
	kint(w, "size", 1);
	cmap(w);
	carr(w);
}

static void gen_tree(struct gw *w, yajl_val v)
{
	if (YAJL_IS_OBJECT(v)) {
		omap(w, NULL);
		for (size_t i = 0; i < YAJL_GET_OBJECT(v)->len; i++) {
			s(w, YAJL_GET_OBJECT(v)->keys[i]);
			gen_tree(w, YAJL_GET_OBJECT(v)->values[i]);
		}
		cmap(w);
	} else if (YAJL_IS_ARRAY(v)) {
		oarr(w, NULL);
		for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++)
			gen_tree(w, YAJL_GET_ARRAY(v)->values[i]);
		carr(w);
	} else if (YAJL_IS_STRING(v)) {
		s(w, YAJL_GET_STRING(v));
	} else if (YAJL_IS_INTEGER(v)) {
		note(w, yajl_gen_integer(w->g, YAJL_GET_INTEGER(v)));
	} else if (YAJL_IS_NUMBER(v)) {
		note(w, yajl_gen_number(w->g, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v))));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		note(w, yajl_gen_bool(w->g, YAJL_IS_TRUE(v)));
	} else {
		note(w, yajl_gen_null(w->g));
	}
}

/* --seccomp FILE: an OCI linux.seccomp object, copied in after a parse. */
static int jail_seccomp_file(struct gw *w, const char *path, struct rt_err *err)
{
	_cleanup_free_ char *text = NULL;
	char ebuf[256] = "";
	yajl_val v;

	if (rt_read_file(path, 4 << 20, &text, NULL, err) < 0)
		return rt_err_wrap(err, "--seccomp");
	v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!v || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return rt_err_set(err, EINVAL, "--seccomp %s: not a JSON object%s%s", path,
				  ebuf[0] ? ": " : "", ebuf);
	}
	s(w, "seccomp");
	gen_tree(w, v);
	yajl_tree_free(v);
	return 0;
}

static void jail_seccomp_default(struct gw *w, bool system)
{
	const char *names[RT_ARRAY_SIZE(denied_syscalls)];
	size_t n = 0;

	/* A system container's init halts by reboot(2), which in a pid
	 * namespace only ends that namespace's init. */
	for (const char *const *d = denied_syscalls; *d; d++)
		if (!system || strcmp(*d, "reboot"))
			names[n++] = *d;
	names[n] = NULL;
	omap(w, "seccomp");
	kv(w, "defaultAction", "SCMP_ACT_ALLOW");
	oarr(w, "syscalls");
	omap(w, NULL);
	kstrv(w, "names", names);
	kv(w, "action", "SCMP_ACT_ERRNO");
	kint(w, "errnoRet", EPERM);
	cmap(w);
	carr(w);
	cmap(w);
}

static int jail_linux(struct gw *w, const struct rt_jail_opts *o, struct rt_err *err)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL,
	};
	static const char *const ro[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
	};

	omap(w, "linux");
	oarr(w, "namespaces");
	const char *ns[] = { "pid", "ipc", "uts", "mount", NULL, NULL, NULL, NULL };
	size_t n = 4;
	if (strcmp(o->net, "host"))
		ns[n++] = "network";
	if (o->rootless)
		ns[n++] = "user";
	else
		/* the cgroup mount then shows the jail's own cgroup as its root,
		 * on cgroup v2 as on v1 */
		ns[n++] = "cgroup";
	for (size_t i = 0; i < n; i++) {
		omap(w, NULL);
		kv(w, "type", ns[i]);
		cmap(w);
	}
	carr(w);
	if (o->rootless) {
		/* The caller is root inside, or the --uid it asked for. */
		jail_map(w, "uidMappings", o->has_uid ? o->uid : 0, o->host_uid);
		jail_map(w, "gidMappings", o->has_uid ? o->gid : 0, o->host_gid);
	}
	if (o->memory >= 0 || o->cpu_quota >= 0 || o->pids >= 0 || o->cpu_shares > 0) {
		omap(w, "resources");
		if (o->memory >= 0) {
			omap(w, "memory");
			kint(w, "limit", o->memory);
			cmap(w);
		}
		if (o->cpu_quota >= 0 || o->cpu_shares > 0) {
			omap(w, "cpu");
			if (o->cpu_quota >= 0) {
				kint(w, "quota", o->cpu_quota);
				kint(w, "period", 100000);
			}
			if (o->cpu_shares > 0)
				kint(w, "shares", o->cpu_shares);
			cmap(w);
		}
		if (o->pids >= 0) {
			omap(w, "pids");
			kint(w, "limit", o->pids);
			cmap(w);
		}
		cmap(w);
	}
	if (o->seccomp && !strcmp(o->seccomp, "unconfined"))
		;
	else if (o->seccomp && strcmp(o->seccomp, "default")) {
		if (jail_seccomp_file(w, o->seccomp, err) < 0)
			return -err->code;
	} else {
		jail_seccomp_default(w, o->system);
	}
	kstrv(w, "maskedPaths", masked);
	kstrv(w, "readonlyPaths", ro);
	cmap(w);
	return 0;
}

char *rt_jail_config_json(const struct rt_jail_opts *o, struct rt_err *err)
{
	struct gw w;
	char *out;

	if (!gw_open(&w)) {
		rt_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	omap(&w, NULL);
	kv(&w, "ociVersion", "1.2.0");
	jail_process(&w, o);
	omap(&w, "root");
	kv(&w, "path", o->ro_host ? "rootfs" : o->rootfs);
	kbool(&w, "readonly", o->ro_host);
	cmap(&w);
	kv(&w, "hostname", o->hostname ? o->hostname : "jail");
	jail_mounts(&w, o);
	if (jail_linux(&w, o, err) < 0) {
		yajl_gen_free(w.g);
		return NULL;
	}
	cmap(&w);
	out = gw_finish(&w);
	if (!out)
		rt_err_set(err, ENOMEM, "jail: could not build the config");
	return out;
}
