/* Mount options, the rootfs plan, and (as root) the whole rootfs setup in
 * a forked child with a private mount namespace. */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces/mount.h"
#include "runtime/arena.h"

/* ---- helpers ---- */

static int parse(struct ns_mount_opts *o, struct rt_err *e, ...)
{
	char *opts[32];
	size_t n = 0;
	va_list ap;

	va_start(ap, e);
	while (n < 31 && (opts[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	opts[n] = NULL;
	return ns_mount_parse_options(opts, o, e);
}

static struct rt_spec *new_spec(void)
{
	struct rt_arena *a = rt_arena_new();
	struct rt_spec *s = rt_arena_alloc(a, sizeof(*s));

	s->arena = a;
	s->mounts = rt_arena_array(a, 16, sizeof(struct rt_mount));
	return s;
}

static void free_spec(struct rt_spec *s)
{
	rt_arena_free(s->arena);
}

static struct rt_mount *add_mount(struct rt_spec *s, const char *dest, const char *type,
				  const char *src, ...)
{
	struct rt_mount *m = &s->mounts[s->n_mounts++];
	va_list ap;
	const char *o;

	m->destination = dest;
	m->type = type;
	m->source = src;
	m->options = rt_arena_array(s->arena, 16, sizeof(char *));
	va_start(ap, src);
	while ((o = va_arg(ap, const char *)))
		m->options[m->n_options++] = rt_arena_strdup(s->arena, o);
	va_end(ap);
	return m;
}

/* ---- ns_mount_parse_options ---- */

Test(mount_opts, empty_list)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(ns_mount_parse_options(NULL, &o, &e), 0);
	cr_assert_eq(o.flags, 0);
	cr_assert_null(o.data);
	cr_assert_eq(parse(&o, &e, "defaults", NULL), 0);
	cr_assert_eq(o.flags | o.clear | o.propagation | o.attr_set | o.attr_clr, 0);
	cr_assert_null(o.data);
}

Test(mount_opts, set_flags)
{
	static const struct { const char *name; unsigned long flag; } cases[] = {
		{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
		{ "noexec", MS_NOEXEC }, { "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC },
		{ "remount", MS_REMOUNT }, { "mand", MS_MANDLOCK }, { "noatime", MS_NOATIME },
		{ "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
		{ "strictatime", MS_STRICTATIME }, { "nosymfollow", MS_NOSYMFOLLOW },
		{ "lazytime", MS_LAZYTIME }, { "silent", MS_SILENT }, { "iversion", MS_I_VERSION },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ns_mount_opts o;
		struct rt_err e = { 0 };
		cr_assert_eq(parse(&o, &e, cases[i].name, NULL), 0, "%s", cases[i].name);
		cr_assert_eq(o.flags, cases[i].flag, "%s: flags %#lx", cases[i].name, o.flags);
		cr_assert_eq(o.clear, 0, "%s", cases[i].name);
		cr_assert_null(o.data, "%s", cases[i].name);
	}
}

Test(mount_opts, clear_flags)
{
	static const struct { const char *name; unsigned long flag; } cases[] = {
		{ "rw", MS_RDONLY }, { "suid", MS_NOSUID }, { "dev", MS_NODEV },
		{ "exec", MS_NOEXEC }, { "async", MS_SYNCHRONOUS }, { "nomand", MS_MANDLOCK },
		{ "atime", MS_NOATIME }, { "diratime", MS_NODIRATIME },
		{ "norelatime", MS_RELATIME }, { "nostrictatime", MS_STRICTATIME },
		{ "symfollow", MS_NOSYMFOLLOW }, { "loud", MS_SILENT },
		{ "noiversion", MS_I_VERSION },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ns_mount_opts o;
		struct rt_err e = { 0 };
		cr_assert_eq(parse(&o, &e, cases[i].name, NULL), 0, "%s", cases[i].name);
		cr_assert_eq(o.flags, 0, "%s", cases[i].name);
		cr_assert_eq(o.clear, cases[i].flag, "%s: clear %#lx", cases[i].name, o.clear);
	}
}

Test(mount_opts, last_one_wins)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "ro", "rw", NULL), 0);
	cr_assert_eq(o.flags & MS_RDONLY, 0);
	cr_assert_eq(o.clear & MS_RDONLY, MS_RDONLY);
	cr_assert_eq(parse(&o, &e, "rw", "ro", "nosuid", "suid", NULL), 0);
	cr_assert_eq(o.flags, MS_RDONLY);
	cr_assert_eq(o.clear, MS_NOSUID);
}

Test(mount_opts, bind_rbind)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "bind", NULL), 0);
	cr_assert(o.bind);
	cr_assert_not(o.rbind);
	cr_assert_eq(o.flags, MS_BIND);
	cr_assert_eq(parse(&o, &e, "rbind", "ro", NULL), 0);
	cr_assert(o.bind && o.rbind);
	cr_assert_eq(o.flags, MS_BIND | MS_REC | MS_RDONLY);
}

Test(mount_opts, propagation)
{
	static const struct { const char *name; unsigned long prop; } cases[] = {
		{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
		{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ns_mount_opts o;
		struct rt_err e = { 0 };
		unsigned long p = 0;
		cr_assert_eq(parse(&o, &e, "nodev", cases[i].name, NULL), 0, "%s", cases[i].name);
		cr_assert_eq(o.propagation, cases[i].prop, "%s", cases[i].name);
		cr_assert_eq(o.flags, MS_NODEV, "%s: propagation leaked into flags", cases[i].name);
		cr_assert_eq(ns_propagation_parse(cases[i].name, &p, &e), 0);
		cr_assert_eq(p, cases[i].prop);
	}
}

Test(mount_opts, propagation_unknown)
{
	struct rt_err e = { 0 };
	unsigned long p = 0;

	cr_assert_eq(ns_propagation_parse("rsharde", &p, &e), -EINVAL);
	cr_assert(strstr(e.msg, "rsharde"), "%s", e.msg);
	cr_assert_eq(ns_propagation_parse("nosuid", &p, &e), -EINVAL);
}

Test(mount_opts, recursive_attrs)
{
	static const struct { const char *name; uint64_t set, clr; } cases[] = {
		{ "rro", MOUNT_ATTR_RDONLY, 0 }, { "rrw", 0, MOUNT_ATTR_RDONLY },
		{ "rnosuid", MOUNT_ATTR_NOSUID, 0 }, { "rsuid", 0, MOUNT_ATTR_NOSUID },
		{ "rnodev", MOUNT_ATTR_NODEV, 0 }, { "rdev", 0, MOUNT_ATTR_NODEV },
		{ "rnoexec", MOUNT_ATTR_NOEXEC, 0 }, { "rexec", 0, MOUNT_ATTR_NOEXEC },
		{ "rnodiratime", MOUNT_ATTR_NODIRATIME, 0 }, { "rdiratime", 0, MOUNT_ATTR_NODIRATIME },
		{ "rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 },
		{ "rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW },
		{ "rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
		{ "rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
		{ "rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
		{ "ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
		{ "rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
		{ "rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ns_mount_opts o;
		struct rt_err e = { 0 };
		cr_assert_eq(parse(&o, &e, cases[i].name, NULL), 0, "%s", cases[i].name);
		cr_assert_eq(o.attr_set, cases[i].set, "%s: set %#lx", cases[i].name,
			     (unsigned long)o.attr_set);
		cr_assert_eq(o.attr_clr, cases[i].clr, "%s: clr %#lx", cases[i].name,
			     (unsigned long)o.attr_clr);
		cr_assert_eq(o.flags, 0, "%s", cases[i].name);
		cr_assert_eq(o.recursive_ro, strcmp(cases[i].name, "rro") == 0, "%s", cases[i].name);
	}
}

Test(mount_opts, recursive_combined)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "rro", "rnosuid", "rnoatime", "rstrictatime", "rrw", NULL), 0);
	cr_assert_not(o.recursive_ro);
	cr_assert_eq(o.attr_set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
	cr_assert_eq(o.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
}

Test(mount_opts, idmap)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "idmap", NULL), 0);
	cr_assert(o.idmap);
	cr_assert_not(o.idmap_recursive);
	cr_assert_eq(parse(&o, &e, "ridmap", NULL), 0);
	cr_assert(o.idmap && o.idmap_recursive);
}

Test(mount_opts, data_joined)
{
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "nosuid", "mode=755", "strictatime", "size=65536k",
			   "x-systemd.automount", "lowerdir=/a:/b", NULL), 0);
	cr_assert_eq(o.flags, MS_NOSUID | MS_STRICTATIME);
	cr_assert_str_eq(o.data, "mode=755,size=65536k,lowerdir=/a:/b");
	ns_mount_opts_clear(&o);
	cr_assert_null(o.data);
	cr_assert_eq(parse(&o, &e, "newinstance", "ptmxmode=0666", NULL), 0);
	cr_assert_str_eq(o.data, "newinstance,ptmxmode=0666");
	ns_mount_opts_clear(&o);
	cr_assert_eq(parse(&o, &e, "tmpcopyup", "mode=700", NULL), 0);
	cr_assert(o.tmpcopyup);
	cr_assert_str_eq(o.data, "mode=700");
	ns_mount_opts_clear(&o);
}

Test(mount_opts, errors_name_the_option)
{
	static const char *bad[] = { "rro=1", "bind=x", "ro=", "nosuid=yes", "rprivate=1",
				     "idmap=0:0:1" };
	struct ns_mount_opts o;
	struct rt_err e = { 0 };

	cr_assert_eq(parse(&o, &e, "mode=1", "", NULL), -EINVAL);
	cr_assert(strstr(e.msg, "empty"), "%s", e.msg);
	cr_assert_null(o.data, "data must be released on error");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rt_err_clear(&e);
		cr_assert_eq(parse(&o, &e, "nodev", bad[i], NULL), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(e.msg, bad[i]), "%s: %s", bad[i], e.msg);
	}
	cr_assert_eq(parse(&o, &e, "=x", NULL), -EINVAL);
}

/* ---- ns_rootfs_plan_new ---- */

Test(rootfs_plan, flags_per_mount)
{
	struct rt_spec *s = new_spec();
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	add_mount(s, "/proc", "proc", "proc", "nosuid", "noexec", "nodev", NULL);
	add_mount(s, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k", NULL);
	add_mount(s, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance",
		  "ptmxmode=0666", "mode=0620", "gid=5", NULL);
	add_mount(s, "/data", NULL, "/srv/data", "rbind", "ro", "rprivate", NULL);
	add_mount(s, "/etc/hosts", "bind", "/tmp/hosts", NULL);
	add_mount(s, "//sys/./fs", "sysfs", "sysfs", "ro", NULL);
	add_mount(s, "/y", "tmpfs", "/srv/y", "rbind", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), 0, "%s", e.msg);

	cr_assert_eq(p->n_mounts, 7);
	cr_assert_eq(p->mounts[6].kind, NS_MNT_BIND, "rbind wins over the type, as in runc");
	cr_assert_null(p->mounts[6].type);
	cr_assert_eq(p->mounts[0].kind, NS_MNT_FS);
	cr_assert_str_eq(p->mounts[0].type, "proc");
	cr_assert_eq(p->mounts[0].opts.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
	cr_assert(p->mounts[0].no_symlinks);
	cr_assert_str_eq(p->mounts[1].rel, "dev");
	cr_assert_eq(p->mounts[1].opts.flags, MS_NOSUID | MS_STRICTATIME);
	cr_assert_str_eq(p->mounts[1].opts.data, "mode=755,size=65536k");
	cr_assert_str_eq(p->mounts[2].opts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	cr_assert_eq(p->mounts[3].kind, NS_MNT_BIND);
	cr_assert_null(p->mounts[3].type);
	cr_assert(p->mounts[3].opts.rbind);
	cr_assert_eq(p->mounts[3].opts.flags, MS_BIND | MS_REC | MS_RDONLY);
	cr_assert_eq(p->mounts[3].opts.propagation, MS_PRIVATE | MS_REC);
	cr_assert_eq(p->mounts[4].kind, NS_MNT_BIND, "type \"bind\" alone is a bind mount");
	cr_assert_eq(p->mounts[4].opts.flags, MS_BIND);
	cr_assert_not(p->mounts[4].opts.rbind);
	cr_assert_str_eq(p->mounts[5].rel, "sys/fs");
	cr_assert(p->proc_mounted && p->pts_mounted && p->setup_dev);
	cr_assert_eq(p->root_propagation, MS_SLAVE | MS_REC);
	cr_assert_eq(p->rootfs_propagation, 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

Test(rootfs_plan, bad_option_names_mount)
{
	struct rt_spec *s = new_spec();
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	add_mount(s, "/proc", "proc", "proc", NULL);
	add_mount(s, "/data", "tmpfs", "tmpfs", "mode=755", "rro=1", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), -EINVAL);
	cr_assert_null(p);
	cr_assert(strstr(e.msg, "mounts[1]"), "%s", e.msg);
	cr_assert(strstr(e.msg, "/data"), "%s", e.msg);
	cr_assert(strstr(e.msg, "rro=1"), "%s", e.msg);
	free_spec(s);
}

Test(rootfs_plan, rejects_bad_mounts)
{
	static const struct { const char *dest, *type, *src, *opt, *needle; } cases[] = {
		{ "/a/../../etc", "tmpfs", "tmpfs", NULL, "\"..\"" },
		{ "/", "tmpfs", "tmpfs", NULL, "root" },
		{ "/x", NULL, "/src", NULL, "no type" },
		{ "/x", "bind", NULL, NULL, "source" },
		{ "/x", "tmpfs", "tmpfs", "idmap", "bind mounts" },
		{ "/x", "bind", "/src", "idmap", "uidMappings" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rt_spec *s = new_spec();
		struct ns_rootfs_plan *p = NULL;
		struct rt_err e = { 0 };
		add_mount(s, "/ok", "tmpfs", "tmpfs", NULL);
		add_mount(s, cases[i].dest, cases[i].type, cases[i].src, cases[i].opt, NULL);
		cr_assert_lt(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), 0, "case %zu", i);
		cr_assert(strstr(e.msg, "mounts[1]"), "case %zu: %s", i, e.msg);
		cr_assert(strstr(e.msg, cases[i].needle), "case %zu: %s", i, e.msg);
		free_spec(s);
	}
}

Test(rootfs_plan, propagation_and_paths)
{
	struct rt_spec *s = new_spec();
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	char *masked[] = { "/proc/kcore", "/proc//acpi/", NULL };
	char *ro[] = { "/proc/sys", NULL };

	s->linux_.rootfs_propagation = "rshared";
	s->linux_.masked_paths = masked;
	s->linux_.n_masked_paths = 2;
	s->linux_.readonly_paths = ro;
	s->linux_.n_readonly_paths = 1;
	s->root_readonly = true;
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", true, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(p->root_propagation, MS_SHARED | MS_REC);
	cr_assert_eq(p->rootfs_propagation, MS_SHARED | MS_REC);
	cr_assert_eq(p->n_masked, 2);
	cr_assert_str_eq(p->masked[1], "proc/acpi");
	cr_assert_str_eq(p->readonly[0], "proc/sys");
	cr_assert(p->root_readonly && p->userns);
	cr_assert_not(p->proc_mounted);
	ns_rootfs_plan_free(p);

	s->linux_.rootfs_propagation = "sideways";
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), -EINVAL);
	cr_assert(strstr(e.msg, "rootfsPropagation") && strstr(e.msg, "sideways"), "%s", e.msg);
	s->linux_.rootfs_propagation = NULL;
	masked[0] = "/proc/../../etc/shadow";
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), -EINVAL);
	cr_assert(strstr(e.msg, "maskedPaths[0]"), "%s", e.msg);
	cr_assert_eq(ns_rootfs_plan_new(s, "rootfs", false, &p, &e), -EINVAL);
	free_spec(s);
}

Test(rootfs_plan, devices)
{
	struct rt_spec *s = new_spec();
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	struct rt_device devs[3] = {
		{ .path = "/dev/fuse", .type = 'c', .major = 10, .minor = 229, .has_mode = true,
		  .mode = 0600, .has_uid = true, .uid = 7 },
		{ .path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_mode = true,
		  .mode = 0640 },
		{ .path = "/dev/sda", .type = 'b', .major = 8, .minor = 0 },
	};

	s->linux_.devices = devs;
	s->linux_.n_devices = 3;
	add_mount(s, "/dev", NULL, "/dev", "rbind", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), 0, "%s", e.msg);
	cr_assert_not(p->setup_dev, "a bind-mounted /dev is left alone");
	cr_assert_eq(p->n_devices, 8, "6 defaults + 2 new, /dev/null replaced");
	cr_assert_str_eq(p->devices[0].path, "/dev/null");
	cr_assert_eq(p->devices[0].mode, S_IFCHR | 0640);
	cr_assert_eq(p->devices[5].mode, S_IFCHR | 0666);
	cr_assert_eq(p->devices[5].rdev, makedev(5, 0));
	cr_assert_str_eq(p->devices[6].path, "/dev/fuse");
	cr_assert_eq(p->devices[6].rdev, makedev(10, 229));
	cr_assert_eq(p->devices[6].uid, 7);
	cr_assert_eq(p->devices[7].mode, S_IFBLK | 0666);
	ns_rootfs_plan_free(p);

	devs[2].type = 'x';
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), -EINVAL);
	cr_assert(strstr(e.msg, "linux.devices[2]"), "%s", e.msg);
	devs[2].type = 'b';
	devs[2].path = "/dev/../etc/x";
	cr_assert_eq(ns_rootfs_plan_new(s, "/rootfs", false, &p, &e), -EINVAL);
	free_spec(s);
}

/* ---- the real thing, as root, in a private mount namespace ---- */

static char base[64], rootfs[128];

static void put(const char *dir, const char *name, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static void sub(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void make_tree(void)
{
	static const char *dirs[] = { "proc", "dev", "tmp", "etc", "mnt", "secretdir", "rodir" };
	char p[512];

	if (geteuid() != 0)
		cr_skip_test("needs root");
	snprintf(base, sizeof(base), "/tmp/hull-mnt-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	sub(rootfs, sizeof(rootfs), base, "rootfs");
	cr_assert_eq(mkdir(rootfs, 0755), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		sub(p, sizeof(p), rootfs, dirs[i]);
		cr_assert_eq(mkdir(p, 0755), 0);
	}
	sub(p, sizeof(p), base, "hostdir");
	cr_assert_eq(mkdir(p, 0755), 0);
	put(p, "marker", "hello");
	put(base, "hostfile", "content");
	put(rootfs, "victim", "victim-data");
	put(rootfs, "etc/secret", "s3cret");
	put(rootfs, "secretdir/inner", "x");
	/* Hostile image: links that would lead to the host if followed there. */
	sub(p, sizeof(p), rootfs, "evil");
	cr_assert_eq(symlink("/etc", p), 0);
	sub(p, sizeof(p), rootfs, "dev/null");
	cr_assert_eq(symlink("/victim", p), 0);
	sub(p, sizeof(p), rootfs, "etc/link");
	cr_assert_eq(symlink("/etc/shadow", p), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(void)
{
	if (base[0])
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int run_child(const struct ns_rootfs_plan *p, bool no_pivot, int (*check)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct rt_err e = { 0 };
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(90);
		if (ns_rootfs_prepare(p, &e) < 0) {
			fprintf(stderr, "prepare: %s\n", e.msg);
			_exit(91);
		}
		if (ns_rootfs_enter(p, no_pivot, &e) < 0) {
			fprintf(stderr, "enter: %s\n", e.msg);
			_exit(92);
		}
		_exit(check());
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "child died with status %#x", st);
	return WEXITSTATUS(st);
}

#define CHECK(n, cond) do { if (!(cond)) { \
	fprintf(stderr, "check %d failed: %s (errno %s)\n", n, #cond, strerror(errno)); \
	return n; } } while (0)

static bool file_is(const char *path, const char *want)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 0 && strcmp(buf, want) == 0;
}

static bool link_is(const char *path, const char *want)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

static char evil_name[64];
static bool dev_core;

static int check_full(void)
{
	struct statfs sfs;
	struct statvfs svfs;
	struct stat st;
	char p[128], cwd[64];

	CHECK(1, statfs("/tmp", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(2, statvfs("/tmp", &svfs) == 0 && (svfs.f_flag & ST_NOSUID) &&
		 (svfs.f_flag & ST_NOEXEC));
	CHECK(22, statvfs("/mnt/data", &svfs) == 0 && (svfs.f_flag & ST_NODEV) &&
		  (svfs.f_flag & ST_RDONLY));
	snprintf(p, sizeof(p), "/etc/%s", evil_name);
	CHECK(3, statfs(p, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(4, file_is("/mnt/data/marker", "hello"));
	CHECK(5, open("/mnt/data/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	CHECK(6, file_is("/mnt/file", "content"));
	CHECK(7, lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
		 st.st_rdev == makedev(1, 3) && (st.st_mode & 07777) == 0666);
	CHECK(8, file_is("/victim", "victim-data"));
	CHECK(9, link_is("/dev/fd", "/proc/self/fd") && link_is("/dev/stderr", "/proc/self/fd/2"));
	CHECK(10, link_is("/dev/ptmx", "pts/ptmx"));
	CHECK(23, dev_core ? link_is("/dev/core", "/proc/kcore") : access("/dev/core", F_OK) < 0);
	CHECK(11, stat("/dev/urandom", &st) == 0 && st.st_rdev == makedev(1, 9));
	CHECK(12, file_is("/etc/secret", ""));
	CHECK(13, access("/secretdir/inner", F_OK) < 0 && errno == ENOENT);
	CHECK(14, stat("/proc/cmdline", &st) == 0 && st.st_rdev == makedev(1, 3));
	CHECK(15, mkdir("/rodir/x", 0755) < 0 && errno == EROFS);
	CHECK(16, mkdir("/newdir", 0755) < 0 && errno == EROFS);
	CHECK(17, mkdir("/tmp/ok", 0755) == 0);
	CHECK(18, access(base, F_OK) < 0);
	CHECK(19, getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
	CHECK(20, statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC);
	CHECK(21, statfs("/dev/pts", &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC);
	return 0;
}

Test(rootfs_live, full_setup, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	char hostdir[512], hostfile[512], evil_dest[128], host_evil[128], inside[512];
	char *masked[] = { "/etc/secret", "/secretdir", "/proc/cmdline", "/nonexistent", NULL };
	char *ro[] = { "/rodir", "/missing", NULL };

	make_tree();
	s = new_spec();
	snprintf(evil_name, sizeof(evil_name), "hull-test-%d", (int)getpid());
	snprintf(evil_dest, sizeof(evil_dest), "/evil/%s", evil_name);
	sub(hostdir, sizeof(hostdir), base, "hostdir");
	sub(hostfile, sizeof(hostfile), base, "hostfile");
	add_mount(s, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777", "size=1m",
		  "rprivate", "rnoexec", NULL);
	add_mount(s, evil_dest, "tmpfs", "tmpfs", NULL);
	add_mount(s, "/mnt/data", NULL, hostdir, "rbind", "ro", "rnodev", "rslave", NULL);
	add_mount(s, "/mnt/file", NULL, hostfile, "bind", NULL);
	add_mount(s, "/proc", "proc", "proc", "nosuid", "noexec", "nodev", NULL);
	add_mount(s, "/dev/pts", "devpts", "devpts", "newinstance", "ptmxmode=0666", NULL);
	s->linux_.masked_paths = masked;
	s->linux_.n_masked_paths = 4;
	s->linux_.readonly_paths = ro;
	s->linux_.n_readonly_paths = 2;
	s->root_readonly = true;
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, false, &p, &e), 0, "%s", e.msg);
	dev_core = access("/proc/kcore", F_OK) == 0;
	cr_assert_eq(p->dev_core, dev_core);

	cr_assert_eq(run_child(p, false, check_full), 0);
	/* The mount through rootfs/evil -> /etc stayed inside the rootfs. */
	snprintf(host_evil, sizeof(host_evil), "/etc/%s", evil_name);
	cr_assert(access(host_evil, F_OK) < 0 && errno == ENOENT, "host /etc was touched");
	snprintf(inside, sizeof(inside), "%s/etc/%s", rootfs, evil_name);
	cr_assert_eq(access(inside, F_OK), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

static int check_no_pivot(void)
{
	struct statfs sfs;
	struct stat st;

	CHECK(1, statfs("/tmp", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(2, access(base, F_OK) < 0);
	CHECK(3, stat("/dev/zero", &st) == 0 && st.st_rdev == makedev(1, 5));
	CHECK(4, access("/dev/ptmx", F_OK) < 0); /* no devpts mount: no ptmx link */
	/* tmpcopyup: /etc is a tmpfs holding a copy of the image's /etc */
	CHECK(5, statfs("/etc", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(6, file_is("/etc/secret", "s3cret"));
	CHECK(7, link_is("/etc/link", "/etc/shadow"));
	return 0;
}

Test(rootfs_live, no_pivot, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	make_tree();
	s = new_spec();
	add_mount(s, "/etc", "tmpfs", "tmpfs", "tmpcopyup", "mode=755", NULL);
	add_mount(s, "/tmp", "tmpfs", "tmpfs", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, false, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child(p, true, check_no_pivot), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

Test(rootfs_live, proc_symlink_refused, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	char proc[256];

	make_tree();
	sub(proc, sizeof(proc), rootfs, "proc");
	cr_assert_eq(rmdir(proc), 0);
	cr_assert_eq(symlink("/etc", proc), 0);
	s = new_spec();
	add_mount(s, "/proc", "proc", "proc", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, false, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child(p, false, check_full), 91, "proc over a symlink must fail");
	ns_rootfs_plan_free(p);
	free_spec(s);
}

static int check_idmap(void)
{
	struct stat st;

	CHECK(1, stat("/mnt/idm/marker", &st) == 0 && st.st_uid == 1234 && st.st_gid == 4321);
	return 0;
}

Test(rootfs_live, idmapped_bind, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	struct rt_id_map um = { 0, 1234, 1 }, gm = { 0, 4321, 1 };
	struct rt_mount *m;
	char hostdir[512];

	make_tree();
	s = new_spec();
	sub(hostdir, sizeof(hostdir), base, "hostdir");
	m = add_mount(s, "/mnt/idm", "bind", hostdir, "rbind", "idmap", NULL);
	m->uid_mappings = &um;
	m->n_uid_mappings = 1;
	m->gid_mappings = &gm;
	m->n_gid_mappings = 1;
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, false, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child(p, false, check_idmap), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

static int check_cgroup_userns(void)
{
	struct statfs sfs;
	struct stat st;

	CHECK(1, statfs("/sys/fs/cgroup", &sfs) == 0);
	CHECK(2, sfs.f_type == TMPFS_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC);
	if (sfs.f_type == TMPFS_MAGIC) {
		/* v1/hybrid host: one read-only directory per hierarchy */
		CHECK(3, statfs("/sys/fs/cgroup/memory", &sfs) == 0 &&
			 sfs.f_type == CGROUP_SUPER_MAGIC);
		CHECK(4, mkdir("/sys/fs/cgroup/memory/x", 0755) < 0 && errno == EROFS);
		CHECK(5, mkdir("/sys/fs/cgroup/x", 0755) < 0 && errno == EROFS);
	}
	/* userns plan: devices are bind mounts of the host's nodes */
	CHECK(6, lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
		 st.st_rdev == makedev(1, 3));
	CHECK(7, file_is("/victim", "victim-data"));
	CHECK(8, stat("/dev/tty", &st) == 0 && st.st_rdev == makedev(5, 0));
	return 0;
}

Test(rootfs_live, cgroup_and_bound_devices, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	make_tree();
	if (access("/sys/fs/cgroup/memory", F_OK) < 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0)
		cr_skip_test("no cgroup memory hierarchy here");
	s = new_spec();
	add_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "ro", "nosuid", "noexec", "nodev", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, true, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child(p, false, check_cgroup_userns), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

static int check_shared(void)
{
	struct statfs sfs;

	CHECK(1, statfs("/tmp", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(2, access(base, F_OK) < 0);
	return 0;
}

Test(rootfs_live, rshared_root, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	make_tree();
	s = new_spec();
	s->linux_.rootfs_propagation = "rshared";
	add_mount(s, "/tmp", "tmpfs", "tmpfs", NULL);
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, false, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child(p, false, check_shared), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

/* Inside a user namespace: mknod is refused and some filesystems need
 * namespaces the child does not own, so the fallbacks are exercised. */
static int run_child_userns(const struct ns_rootfs_plan *p, int (*check)(void))
{
	int up[2], down[2], st;
	char c = 0, path[64];
	pid_t pid;

	cr_assert_eq(pipe(up), 0);
	cr_assert_eq(pipe(down), 0);
	pid = fork();
	if (pid == 0) {
		struct rt_err e = { 0 };
		if (unshare(CLONE_NEWUSER) < 0 || write(up[1], "u", 1) != 1 ||
		    read(down[0], &c, 1) != 1)
			_exit(89);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(90);
		if (ns_rootfs_prepare(p, &e) < 0) {
			fprintf(stderr, "prepare: %s\n", e.msg);
			_exit(91);
		}
		if (ns_rootfs_enter(p, false, &e) < 0) {
			fprintf(stderr, "enter: %s\n", e.msg);
			_exit(92);
		}
		_exit(check());
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(read(up[0], &c, 1), 1);
	for (int i = 0; i < 2; i++) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, i ? "gid_map" : "uid_map");
		f = fopen(path, "w");
		cr_assert_not_null(f);
		fputs("0 0 4294967295\n", f);
		cr_assert_eq(fclose(f), 0);
	}
	cr_assert_eq(write(down[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "child died with status %#x", st);
	return WEXITSTATUS(st);
}

static int check_userns(void)
{
	struct statfs sfs;
	struct statvfs svfs;
	struct stat st;

	CHECK(1, statfs("/tmp", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(2, statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC);
	CHECK(3, statvfs("/sys", &svfs) == 0 && (svfs.f_flag & ST_RDONLY));
	CHECK(4, lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
		 st.st_rdev == makedev(1, 3));
	CHECK(5, file_is("/etc/secret", ""));
	CHECK(6, mkdir("/rodir/x", 0755) < 0 && errno == EROFS);
	CHECK(7, mkdir("/newdir", 0755) < 0 && errno == EROFS);
	CHECK(8, access(base, F_OK) < 0);
	CHECK(9, file_is("/mnt/data/marker", "hello"));
	return 0;
}

Test(rootfs_live, in_user_namespace, .fini = remove_tree)
{
	struct rt_spec *s;
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };
	char *masked[] = { "/etc/secret", NULL };
	char *ro[] = { "/rodir", NULL };
	char hostdir[512];

	make_tree();
	s = new_spec();
	sub(hostdir, sizeof(hostdir), base, "hostdir");
	add_mount(s, "/tmp", "tmpfs", "tmpfs", "nosuid", NULL);
	add_mount(s, "/sys", "sysfs", "sysfs", "ro", "nosuid", "nodev", "noexec", NULL);
	add_mount(s, "/mnt/data", NULL, hostdir, "rbind", "rw", NULL);
	s->linux_.masked_paths = masked;
	s->linux_.n_masked_paths = 1;
	s->linux_.readonly_paths = ro;
	s->linux_.n_readonly_paths = 1;
	s->root_readonly = true;
	cr_assert_eq(ns_rootfs_plan_new(s, rootfs, true, &p, &e), 0, "%s", e.msg);
	cr_assert_eq(run_child_userns(p, check_userns), 0);
	ns_rootfs_plan_free(p);
	free_spec(s);
}

Test(rootfs_plan, relative_bind_source)
{
	struct rt_spec *s = new_spec();
	struct ns_rootfs_plan *p = NULL;
	struct rt_err e = { 0 };

	add_mount(s, "/data", "bind", "data/dir", "rbind", NULL);
	add_mount(s, "/abs", "bind", "/srv/abs", "rbind", NULL);
	add_mount(s, "/t", "tmpfs", "tmpfs", NULL);
	cr_assert_eq(ns_rootfs_plan_new_bundle(s, "/b/rootfs", "/b", false, &p, &e), 0, "%s", e.msg);
	cr_assert_str_eq(p->mounts[0].source, "/b/data/dir");
	cr_assert_str_eq(p->mounts[1].source, "/srv/abs");
	cr_assert_str_eq(p->mounts[2].source, "tmpfs", "only bind sources are paths");
	ns_rootfs_plan_free(p);
	free_spec(s);
}
