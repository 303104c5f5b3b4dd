#include "config.h"
/* The JSON writers of the spec module: the default config.json of
 * `hull spec` (also the base of `hull image bundle`'s) and the `features`
 * document.  Both are built with yajl_gen;
 * generator errors (which can only be our own nesting mistakes or OOM) make
 * the whole document NULL rather than half-written. */
#include "runtime/spec.h"

#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "runtime/cleanup.h"

#include "runtime/spec_gen.h"

/* ---- hull spec ---- */

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const char *const default_env[] = {
	"PATH=" RT_SPEC_DEFAULT_PATH, "TERM=xterm", NULL,
};

static void write_process(struct gw *w, const struct rt_spec_proc_cfg *p)
{
	omap(w, "process");
	/* runc defaults to true; false lets the default config run without a
	 * --console-socket. */
	kbool(w, "terminal", false);
	omap(w, "user");
	kint(w, "uid", p->uid);
	kint(w, "gid", p->gid);
	cmap(w);
	kstrv(w, "args", p->args);
	kstrv(w, "env", p->env);
	kv(w, "cwd", p->cwd);
	/* As runc since 1.2: no inheritable (so exec'd binaries do not gain
	 * capabilities through file caps) and hence no ambient, which the
	 * kernel only grants for caps that are also inheritable. */
	omap(w, "capabilities");
	kstrv(w, "bounding", default_caps);
	kstrv(w, "effective", default_caps);
	kstrv(w, "permitted", default_caps);
	cmap(w);
	oarr(w, "rlimits");
	omap(w, NULL);
	kv(w, "type", "RLIMIT_NOFILE");
	kint(w, "hard", 1024);
	kint(w, "soft", 1024);
	cmap(w);
	carr(w);
	kbool(w, "noNewPrivileges", true);
	cmap(w);
}

static void default_mounts(struct gw *w, bool rootless)
{
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					   "mode=0620", "gid=5", NULL };
	/* A rootless user namespace maps no group 5: drop gid=5 as runc does. */
	static const char *const pts_rootless[] = { "nosuid", "noexec", "newinstance",
						    "ptmxmode=0666", "mode=0620", NULL };
	static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

	oarr(w, "mounts");
	gw_mount(w, "/proc", "proc", "proc", NULL);
	gw_mount(w, "/dev", "tmpfs", "tmpfs", dev);
	gw_mount(w, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
	gw_mount(w, "/dev/shm", "tmpfs", "shm", shm);
	gw_mount(w, "/dev/mqueue", "mqueue", "mqueue", mq);
	/* Without a network namespace of its own, a rootless container may not
	 * mount sysfs: bind the host's instead. */
	if (rootless)
		gw_mount(w, "/sys", "none", "/sys", sys_rootless);
	else
		gw_mount(w, "/sys", "sysfs", "sysfs", sys);
	if (!rootless)
		gw_mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
	carr(w);
}

static void id_mapping(struct gw *w, const char *key, unsigned long host_id)
{
	oarr(w, key);
	omap(w, NULL);
	kint(w, "containerID", 0);
	kint(w, "hostID", (long long)host_id);
	kint(w, "size", 1);
	cmap(w);
	carr(w);
}

static void default_linux(struct gw *w, bool rootless)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL,
	};
	static const char *const ro[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
	};
	static const char *const ns_root[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
	static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };

	omap(w, "linux");
	if (rootless) {
		/* The effective ids: those are what the kernel checks when an
		 * unprivileged process writes its own uid_map. */
		id_mapping(w, "uidMappings", (unsigned long)geteuid());
		id_mapping(w, "gidMappings", (unsigned long)getegid());
	} else {
		/* Cgroup settings need privileges, so only the root variant
		 * denies all devices (as runc does). */
		omap(w, "resources");
		oarr(w, "devices");
		omap(w, NULL);
		kbool(w, "allow", false);
		kv(w, "access", "rwm");
		cmap(w);
		carr(w);
		cmap(w);
	}
	oarr(w, "namespaces");
	for (const char *const *n = rootless ? ns_rootless : ns_root; *n; n++) {
		omap(w, NULL);
		kv(w, "type", *n);
		cmap(w);
	}
	carr(w);
	kstrv(w, "maskedPaths", masked);
	kstrv(w, "readonlyPaths", ro);
	cmap(w);
}

char *rt_spec_proc_json(bool rootless, const struct rt_spec_proc_cfg *p)
{
	struct gw w;

	if (!p->args || !p->args[0] || !p->env || !p->cwd)
		return NULL;
	if (!gw_open(&w))
		return NULL;
	omap(&w, NULL);
	kv(&w, "ociVersion", "1.2.0");
	write_process(&w, p);
	omap(&w, "root");
	kv(&w, "path", "rootfs");
	kbool(&w, "readonly", !p->writable_root);
	cmap(&w);
	kv(&w, "hostname", "hull");
	default_mounts(&w, rootless);
	default_linux(&w, rootless);
	cmap(&w);
	return gw_finish(&w);
}

char *rt_spec_default_json(bool rootless, const char *const *args)
{
	static const char *const sh[] = { "sh", NULL };
	struct rt_spec_proc_cfg p = {
		.args = args && args[0] ? args : sh,
		.env = default_env,
		.cwd = "/",
	};

	return rt_spec_proc_json(rootless, &p);
}

/* ---- hull features ---- */

/* What ns_mount_parse_options understands: mount(2) flags and their
 * negations, the recursive (mount_setattr) variants, propagation, bind and
 * idmapped mounts. */
static const char *const mount_options[] = {
	"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
	"iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime",
	"noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime",
	"nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime",
	"relatime", "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec",
	"rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate",
	"rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid",
	"rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime",
	"suid", "symfollow", "sync", "unbindable", "idmap", "ridmap", NULL,
};

static const char *const seccomp_actions[] = {
	"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
	"SCMP_ACT_TRAP", NULL,
};

static const char *const seccomp_operators[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
	"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
};

/* The OCI spellings; only those this libseccomp resolves are listed. */
static const char *const seccomp_archs[] = {
	"x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32",
	"mipsel", "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390",
	"s390x", "parisc", "parisc64", "riscv64", NULL,
};

static const char *const seccomp_known_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

static const char *const seccomp_supported_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL,
};

static void features_seccomp(struct gw *w)
{
	omap(w, "seccomp");
	kbool(w, "enabled", true);
	kstrv(w, "actions", seccomp_actions);
	kstrv(w, "operators", seccomp_operators);
	oarr(w, "archs");
	for (const char *const *a = seccomp_archs; *a; a++) {
		char up[64] = "SCMP_ARCH_";
		size_t n = strlen(up);

		if (!seccomp_arch_resolve_name(*a))
			continue;
		for (const char *p = *a; *p && n < sizeof(up) - 1; p++)
			up[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		up[n] = '\0';
		s(w, up);
	}
	carr(w);
	kstrv(w, "knownFlags", seccomp_known_flags);
	kstrv(w, "supportedFlags", seccomp_supported_flags);
	cmap(w);
}

static void features_linux(struct gw *w)
{
	omap(w, "linux");
	oarr(w, "namespaces");
	for (int k = 0; k < RT_NS__COUNT; k++)
		s(w, rt_ns_kind_name(k));
	carr(w);
	oarr(w, "capabilities");
	for (int c = 0; rt_cap_name(c); c++)
		s(w, rt_cap_name(c));
	carr(w);
	omap(w, "cgroup");
	kbool(w, "v1", true);
	kbool(w, "v2", true);
	kbool(w, "systemd", false);
	kbool(w, "systemdUser", false);
	cmap(w);
	features_seccomp(w);
	omap(w, "apparmor");
	kbool(w, "enabled", false);
	cmap(w);
	omap(w, "selinux");
	kbool(w, "enabled", false);
	cmap(w);
	omap(w, "intelRdt");
	kbool(w, "enabled", false);
	cmap(w);
	omap(w, "mountExtensions");
	omap(w, "idmap");
	kbool(w, "enabled", true);
	cmap(w);
	cmap(w);
	cmap(w);
}

char *rt_features_json(void)
{
	const struct scmp_version *v = seccomp_version();
	char ver[64];
	struct gw w;

	if (!gw_open(&w))
		return NULL;
	omap(&w, NULL);
	kv(&w, "ociVersionMin", "1.0.0");
	kv(&w, "ociVersionMax", "1.2.0");
	oarr(&w, "hooks");
	for (int k = 0; k < RT_HOOK__COUNT; k++)
		s(&w, rt_hook_kind_name(k));
	carr(&w);
	kstrv(&w, "mountOptions", mount_options);
	features_linux(&w);
	omap(&w, "annotations");
	kv(&w, "io.github.hull.version", PACKAGE_VERSION);
	if (v) {
		snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
		kv(&w, "io.github.seccomp.libseccomp.version", ver);
	}
	cmap(&w);
	cmap(&w);
	return gw_finish(&w);
}
