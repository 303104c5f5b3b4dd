/* cgroups/cgroup.c: layout detection and path handling from fixtures, and a
 * real create/enter/freeze/kill/destroy round trip on the host's hierarchies
 * (needs root; skipped otherwise).  Everything created is removed. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <sys/syscall.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "runtime/err.h"

static const char *V2_MI =
	"25 1 0:23 / / rw - ext4 /dev/sda1 rw\n"
	"30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static const char *V1_MI =
	"25 1 0:23 / / rw - ext4 /dev/sda1 rw\n"
	"30 25 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:7 - cgroup cgroup rw,cpu,cpuacct\n"
	"32 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	"33 30 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
	"34 30 0:31 / /sys/fs/cgroup/other rw - cgroup cgroup rw,name=other\n"
	/* the same memory hierarchy bind-mounted again: used once */
	"35 25 0:29 / /mnt/mem rw - cgroup cgroup rw,memory\n"
	/* a sub-tree mount of the pids hierarchy, with an escaped space */
	"36 30 0:32 /docker/a\\040b /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";

static const char *HYBRID_MI =
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static char *fixture(const char *text)
{
	char tmpl[] = "/tmp/hull-cg-mi-XXXXXX";
	int fd = mkstemp(tmpl);

	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return strdup(tmpl);
}

static enum cg_layout layout_of(const char *text)
{
	struct rt_err err = { 0 };
	enum cg_layout l;
	char *p = fixture(text);
	int r = cg_detect_layout(p, &l, &err);

	unlink(p);
	free(p);
	cr_assert_eq(r, 0, "%s", err.msg);
	return l;
}

Test(cgroup_layout, detect)
{
	cr_assert_eq(layout_of(V2_MI), CG_LAYOUT_UNIFIED);
	cr_assert_eq(layout_of(V1_MI), CG_LAYOUT_LEGACY);
	cr_assert_eq(layout_of(HYBRID_MI), CG_LAYOUT_HYBRID);
	/* cgroup2 mounted over the v1 tmpfs wins */
	char both[2048];
	snprintf(both, sizeof(both), "%s%s", V1_MI,
		 "50 25 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	cr_assert_eq(layout_of(both), CG_LAYOUT_UNIFIED);
}

Test(cgroup_layout, none_mounted)
{
	struct rt_err err = { 0 };
	enum cg_layout l;
	char *p = fixture("25 1 0:23 / / rw - ext4 /dev/sda1 rw\n");

	cr_assert_eq(cg_detect_layout(p, &l, &err), -ENOENT);
	cr_assert(strstr(err.msg, "no cgroup"), "%s", err.msg);
	unlink(p);
	free(p);
	cr_assert_eq(cg_detect_layout("/nonexistent/mountinfo", &l, &err), -ENOENT);
}

static struct cg_handle *open_fixture(const char *text, const char *path)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	char *p = fixture(text);
	int r = cg_open_at(p, path, &h, &err);

	unlink(p);
	free(p);
	cr_assert_eq(r, 0, "%s", err.msg);
	return h;
}

Test(cgroup_handle, v1_dirs)
{
	struct cg_handle *h = open_fixture(V1_MI, "/hull/c1");

	cr_assert_eq(cg_handle_layout(h), CG_LAYOUT_LEGACY);
	cr_assert_eq(cg_handle_ndirs(h), 4);
	cr_assert_str_eq(cg_handle_dir(h, 0), "/sys/fs/cgroup/cpu,cpuacct/hull/c1");
	cr_assert_str_eq(cg_handle_dir(h, 1), "/sys/fs/cgroup/memory/hull/c1");
	cr_assert_str_eq(cg_handle_dir(h, 2), "/sys/fs/cgroup/systemd/hull/c1");
	cr_assert_str_eq(cg_handle_dir(h, 3), "/sys/fs/cgroup/pids/hull/c1");
	cr_assert_null(cg_handle_dir(h, 4));
	cg_handle_free(h);

	/* A path inside the sub-tree that is mounted loses that prefix. */
	h = open_fixture(V1_MI, "/docker/a b/x");
	cr_assert_str_eq(cg_handle_dir(h, 3), "/sys/fs/cgroup/pids/x");
	cr_assert_str_eq(cg_handle_path(h), "/docker/a b/x");
	cg_handle_free(h);
}

Test(cgroup_handle, v2_and_hybrid_dirs)
{
	struct cg_handle *h = open_fixture(V2_MI, "/hull/c1");

	cr_assert_eq(cg_handle_ndirs(h), 1);
	cr_assert_str_eq(cg_handle_dir(h, 0), "/sys/fs/cgroup/hull/c1");
	cg_handle_free(h);

	h = open_fixture(HYBRID_MI, "/x");
	cr_assert_eq(cg_handle_layout(h), CG_LAYOUT_HYBRID);
	cr_assert_eq(cg_handle_ndirs(h), 3);
	cr_assert_str_eq(cg_handle_dir(h, 2), "/sys/fs/cgroup/unified/x");
	cg_handle_free(h);
}

Test(cgroup_handle, rejects_unclean_paths)
{
	const char *bad[] = { "relative", "/", "/a/../b", "/a/./b", "/..", "" };
	char *p = fixture(V2_MI);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_err err = { 0 };
		struct cg_handle *h = NULL;

		cr_assert_eq(cg_open_at(p, bad[i], &h, &err), -EINVAL, "%s", bad[i]);
		cr_assert_null(h);
	}
	unlink(p);
	free(p);
}

Test(cgroup_handle, mount_dir)
{
	char *o = NULL;

	cr_assert_eq(cg_mount_dir("/sys/fs/cgroup/memory", "/", "/a/b", &o), 0);
	cr_assert_str_eq(o, "/sys/fs/cgroup/memory/a/b");
	free(o);
	cr_assert_eq(cg_mount_dir("/m", "/kube/pod1", "/kube/pod1/c", &o), 0);
	cr_assert_str_eq(o, "/m/c");
	free(o);
	/* a sibling with a common string prefix is not inside the root */
	cr_assert_eq(cg_mount_dir("/m", "/kube/pod1", "/kube/pod10/c", &o), 0);
	cr_assert_str_eq(o, "/m/kube/pod10/c");
	free(o);
	cr_assert_eq(cg_mount_dir("/", "/", "/hull/x", &o), 0);
	cr_assert_str_eq(o, "/hull/x");
	free(o);
}

Test(cgroup_path, resolve_ok)
{
	const struct { const char *in, *id, *want; } t[] = {
		{ NULL, "ctr1", "/hull/ctr1" },
		{ "", "ctr1", "/hull/ctr1" },
		{ "a/b", "x", "/hull/a/b" },
		{ "a//b/", "x", "/hull/a/b" },
		{ "/machine/c1", "x", "/machine/c1" },
		{ "//machine///c1//", "x", "/machine/c1" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rt_err err = { 0 };
		char *out = NULL;

		cr_assert_eq(cg_resolve_path(t[i].in, t[i].id, false, &out, &err), 0, "%s", err.msg);
		cr_assert_str_eq(out, t[i].want);
		free(out);
	}
}

Test(cgroup_path, resolve_rejected)
{
	const struct { const char *in, *id, *msg; } t[] = {
		{ NULL, "", "invalid container id" },
		{ NULL, NULL, "invalid container id" },
		{ NULL, "..", "invalid container id" },
		{ "../escape", "x", "\"..\" component" },
		{ "/a/../../b", "x", "\"..\" component" },
		{ "a/./b", "x", "\".\" component" },
		{ "/", "x", "root cgroup" },
		{ "system.slice:hull:x", "x", "linux.cgroupsPath" },
		{ "a\nb", "x", "control character" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rt_err err = { 0 };
		char *out = NULL;

		cr_assert_eq(cg_resolve_path(t[i].in, t[i].id, false, &out, &err), -EINVAL,
			     "case %zu", i);
		cr_assert_null(out);
		cr_assert(strstr(err.msg, t[i].msg), "case %zu: %s", i, err.msg);
	}
}

Test(cgroup_path, systemd_without_systemd)
{
	struct rt_err err = { 0 };
	char *out = NULL;

	if (access("/run/systemd/system", F_OK) == 0)
		cr_skip_test("systemd runs here");
	cr_assert_eq(cg_resolve_path("system.slice:hull:c1", "c1", true, &out, &err), -ENOTSUP);
	cr_assert(strstr(err.msg, "systemd is not running"), "%s", err.msg);
	cr_assert_null(out);
}

Test(cgroup_path, systemd_form)
{
	static const struct { const char *in, *id, *want; } ok[] = {
		{ "system.slice:libpod:abc", "abc", "/system.slice/libpod-abc.scope" },
		{ "machine-qemu.slice:hull:x", "x", "/machine.slice/machine-qemu.slice/hull-x.scope" },
		{ ":crio:id1", "id1", "/system.slice/crio-id1.scope" },
		{ "user.slice::n", "n", "/user.slice/n.scope" },
		{ NULL, "c9", "/system.slice/hull-c9.scope" },
	};
	static const char *bad[] = { "nocolons", "a:b", "a.slice:b:c:d", "notaslice:p:n",
				     "system.slice:p:../x" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct rt_err err = { 0 };
		char *out = NULL;
		cr_assert_eq(cg_systemd_path(ok[i].in, ok[i].id, &out, &err), 0, "%s: %s",
			     ok[i].in, err.msg);
		cr_assert_str_eq(out, ok[i].want);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_err err = { 0 };
		char *out = NULL;
		cr_assert_eq(cg_resolve_path(bad[i], "x", true, &out, &err), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(err.msg, "linux.cgroupsPath"), "%s", err.msg);
		cr_assert_null(out);
	}
}

/* The slice and unit the systemd driver asks for, from the cgroup path. */
Test(cgroup_path, systemd_names)
{
	static const struct { const char *path, *slice, *unit; } ok[] = {
		{ "/system.slice/hull-c1.scope", "system.slice", "hull-c1.scope" },
		{ "/machine.slice/machine-qemu.slice/hull-x.scope", "machine-qemu.slice", "hull-x.scope" },
		{ "/n.scope", "-.slice", "n.scope" },
	};
	static const char *bad[] = { "/hull/c1", "/system.slice/.scope", "/a/hull-c1.scope", "", NULL };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct rt_err err = { 0 };
		char *slice = NULL, *unit = NULL;
		cr_assert_eq(cg_systemd_names(ok[i].path, &slice, &unit, &err), 0, "%s: %s",
			     ok[i].path, err.msg);
		cr_assert_str_eq(slice, ok[i].slice);
		cr_assert_str_eq(unit, ok[i].unit);
		free(slice), free(unit);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_err err = { 0 };
		char *slice = NULL, *unit = NULL;
		cr_assert_eq(cg_systemd_names(bad[i], &slice, &unit, &err), -EINVAL, "case %zu", i);
		cr_assert_null(slice);
		cr_assert_null(unit);
	}
	/* what resolve makes, names gives back */
	struct rt_err err = { 0 };
	char *path = NULL, *slice = NULL, *unit = NULL;
	cr_assert_eq(cg_systemd_path("a-b.slice:pre:id7", "id7", &path, &err), 0);
	cr_assert_eq(cg_systemd_names(path, &slice, &unit, &err), 0);
	cr_assert_str_eq(slice, "a-b.slice");
	cr_assert_str_eq(unit, "pre-id7.scope");
	free(path), free(slice), free(unit);
}

/* The test hook counts only with a private bus address. */
Test(cgroup_path, systemd_force_hook)
{
	struct rt_err err = { 0 };
	char *out = NULL;

	if (access("/run/systemd/system", F_OK) == 0)
		cr_skip_test("systemd runs here");
	setenv("HULL_SYSTEMD_FORCE", "1", 1);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	cr_assert_not(cg_systemd_running());
	cr_assert_eq(cg_resolve_path("system.slice:hull:c1", "c1", true, &out, &err), -ENOTSUP);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent", 1);
	cr_assert(cg_systemd_running());
	cr_assert_eq(cg_resolve_path("system.slice:hull:c1", "c1", true, &out, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(out, "/system.slice/hull-c1.scope");
	free(out);
	/* nobody on that bus: a clear error naming the address */
	rt_err_clear(&err);
	cr_assert_lt(cg_systemd_start("system.slice", "hull-c1.scope", "c1", getpid(), &err), 0);
	cr_assert(strstr(err.msg, "systemd"), "%s", err.msg);
	unsetenv("HULL_SYSTEMD_FORCE");
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

Test(cgroup_apply, unified_needs_v2)
{
	struct cg_handle *h = open_fixture(V1_MI, "/hull/never-created");
	struct rt_resources r;
	struct rt_kv kv = { "memory.high", "100M" };
	struct rt_err err = { 0 };

	cg_resources_init(&r);
	r.unified = &kv;
	r.n_unified = 1;
	cr_assert_eq(cg_apply(h, &r, &err), -ENOTSUP);
	cr_assert(strstr(err.msg, "linux.resources.unified: requires cgroup v2"), "%s", err.msg);
	cg_handle_free(h);
}

/* A fake v2 tree in /tmp (regular files), to check the values written. */
struct fake {
	char root[64], mi[256], dir[128];
};

static void fake_v2(struct fake *f, const char *const *files)
{
	char p[256];

	snprintf(f->root, sizeof(f->root), "/tmp/hull-cg-v2-XXXXXX");
	cr_assert_not_null(mkdtemp(f->root));
	snprintf(f->mi, sizeof(f->mi), "40 30 0:99 / %s rw - cgroup2 cgroup2 rw\n", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s/c", f->root);
	cr_assert_eq(mkdir(f->dir, 0755), 0);
	for (size_t i = 0; files[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		FILE *fp = fopen(p, "we");
		cr_assert_not_null(fp);
		fclose(fp);
	}
}

/* Everything in the fake dir goes, also files a test added itself. */
static void fake_rm(struct fake *f, const char *const *files)
{
	char p[512];
	DIR *d = opendir(f->dir);
	struct dirent *e;

	(void)files;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	rmdir(f->root);
}

static void assert_file(const char *dir, const char *file, const char *want);

Test(cgroup_apply, v2_values)
{
	static const char *const files[] = { "memory.max", "memory.swap.max", "memory.low",
		"cpu.weight", "cpu.max", "pids.max", "io.weight", "cpuset.cpus", "cpuset.mems",
		NULL };
	struct fake f;
	struct cg_handle *h;
	struct rt_resources r;
	struct rt_err err = { 0 };

	fake_v2(&f, files);
	h = open_fixture(f.mi, "/c");
	cr_assert_str_eq(cg_handle_dir(h, 0), f.dir);
	cg_resources_init(&r);
	r.mem_limit = 1LL << 30;
	r.mem_swap = 2LL << 30;
	r.mem_reservation = 512LL << 20;
	r.cpu_shares = 1024;
	r.cpu_quota = 50000;
	r.cpu_period = 100000;
	r.has_pids_limit = true;
	r.pids_limit = 0;
	r.blkio_weight = 500;
	r.cpu_cpus = "0-1";
	r.cpu_mems = "0";
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(f.dir, "memory.max", "1073741824");
	assert_file(f.dir, "memory.swap.max", "1073741824");   /* swap alone */
	assert_file(f.dir, "memory.low", "536870912");
	assert_file(f.dir, "cpu.weight", "39");
	assert_file(f.dir, "cpu.max", "50000 100000");
	assert_file(f.dir, "pids.max", "max");
	assert_file(f.dir, "io.weight", "default 4950");
	assert_file(f.dir, "cpuset.cpus", "0-1");
	assert_file(f.dir, "cpuset.mems", "0");
	fake_rm(&f, files);
	cg_handle_free(h);

	/* period alone keeps the quota unlimited; extremes of the weight maps */
	fake_v2(&f, files);
	h = open_fixture(f.mi, "/c");
	cg_resources_init(&r);
	r.cpu_period = 200000;
	r.cpu_shares = 262144;
	r.blkio_weight = 10;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(f.dir, "cpu.max", "max 200000");
	assert_file(f.dir, "cpu.weight", "10000");
	assert_file(f.dir, "io.weight", "default 1");
	fake_rm(&f, files);
	cg_handle_free(h);
}

Test(cgroup_apply, v2_errors)
{
	static const char *const files[] = { "memory.max", "memory.swap.max", NULL };
	struct fake f;
	struct cg_handle *h;
	struct rt_resources r;
	struct rt_err err = { 0 };

	fake_v2(&f, files);
	h = open_fixture(f.mi, "/c");
	cg_resources_init(&r);
	r.mem_limit = 100;
	r.mem_swap = 50;
	cr_assert_eq(cg_apply(h, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "memory.swap"), "%s", err.msg);

	/* a missing controller file is named with the value */
	cg_resources_init(&r);
	r.has_pids_limit = true;
	r.pids_limit = 7;
	cr_assert_eq(cg_apply(h, &r, &err), -ENOENT);
	cr_assert(strstr(err.msg, "pids.max: write \"7\""), "%s", err.msg);

	/* unified keys cannot walk out of the cgroup directory */
	struct rt_kv kv = { "../memory.max", "1" };
	cg_resources_init(&r);
	r.unified = &kv;
	r.n_unified = 1;
	cr_assert_eq(cg_apply(h, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "invalid key"), "%s", err.msg);
	fake_rm(&f, files);
	cg_handle_free(h);
}

/* ---- on the real host ---- */

/* Whatever a failed test left behind: thaw, kill, remove. */
static char g_path[128];
static pid_t g_child;

/* Tests that present the host's cgroup2 mount as a pure v2 host make hull
 * enable controllers in that mount's root: put it back as it was, since
 * the root of a hybrid host's cgroup2 is not ours. */
#define HOST_V2_ROOT "/sys/fs/cgroup/unified"
static char g_saved_subtree[512];

__attribute__((constructor)) static void save_v2_root(void)
{
	FILE *f = fopen(HOST_V2_ROOT "/cgroup.subtree_control", "re");

	if (f) {
		if (!fgets(g_saved_subtree, sizeof(g_saved_subtree), f))
			g_saved_subtree[0] = '\0';
		fclose(f);
	}
}

static void restore_v2_root(void)
{
	char now[512] = "", *save = NULL, word[64];
	FILE *f = fopen(HOST_V2_ROOT "/cgroup.subtree_control", "re");

	if (!f)
		return;
	if (!fgets(now, sizeof(now), f))
		now[0] = '\0';
	fclose(f);
	for (char *w = strtok_r(now, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		char padded[520];
		snprintf(padded, sizeof(padded), " %s ", g_saved_subtree);
		for (char *c = padded; *c; c++)
			if (*c == '\n')
				*c = ' ';
		snprintf(word, sizeof(word), " %s ", w);
		if (strstr(padded, word))
			continue;
		snprintf(word, sizeof(word), "-%s", w);
		f = fopen(HOST_V2_ROOT "/cgroup.subtree_control", "we");
		if (f) {
			fputs(word, f);
			fclose(f);
		}
	}
}

static void host_cleanup(void)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;

	if (!g_path[0] || cg_open(g_path, &h, &err) < 0) {
		restore_v2_root();
		return;
	}
	cg_freeze(h, false, &err);
	cg_kill_all(h, SIGKILL, &err);
	if (g_child > 0 && kill(g_child, SIGKILL) == 0)
		waitpid(g_child, NULL, 0);
	cg_destroy(h, &err);
	cg_handle_free(h);
	restore_v2_root();
}

static bool host_has(const char *path)
{
	return geteuid() == 0 && access(path, W_OK) == 0;
}

static void assert_file(const char *dir, const char *file, const char *want)
{
	char p[4096], buf[256] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	cr_assert_not_null(f, "%s", p);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	cr_assert_str_eq(buf, want, "%s", p);
}

static void assert_file_all(const char *dir, const char *file, const char *want)
{
	char p[4096], buf[4096];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	cr_assert_not_null(f, "%s", p);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	cr_assert_str_eq(buf, want, "%s", p);
}

static const char *dir_with(struct cg_handle *h, const char *file)
{
	for (size_t i = 0; i < cg_handle_ndirs(h); i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", cg_handle_dir(h, i), file);
		if (access(p, F_OK) == 0)
			return cg_handle_dir(h, i);
	}
	return NULL;
}

static bool in_list(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static void assert_gone(struct cg_handle *h)
{
	struct stat st;

	for (size_t i = 0; i < cg_handle_ndirs(h); i++)
		cr_assert(stat(cg_handle_dir(h, i), &st) < 0 && errno == ENOENT, "%s still exists",
			  cg_handle_dir(h, i));
}

/* A child that waits in h, listed by cg_pids (host_cleanup kills it). */
static pid_t enter_paused_child(struct cg_handle *h)
{
	struct rt_err err = { 0 };
	pid_t *pids = NULL, child;
	size_t n = 0;

	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	g_child = child;
	cr_assert_eq(cg_enter(h, child, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_pids(h, &pids, &n, &err), 0, "%s", err.msg);
	cr_assert(in_list(pids, n, child), "child %d not in cg_pids (%zu pids)", child, n);
	free(pids);
	return child;
}

/* Freeze and thaw h (v1's freezer.state shows it), then cg_kill_all: the
 * child dies of SIGKILL. */
static void freeze_thaw_kill(struct cg_handle *h, pid_t child)
{
	struct rt_err err = { 0 };
	bool frozen = false;
	const char *fz;
	int st = 0;

	cr_assert_eq(cg_freeze(h, true, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_is_frozen(h, &frozen, &err), 0, "%s", err.msg);
	cr_assert(frozen);
	if ((fz = dir_with(h, "freezer.state")))
		assert_file(fz, "freezer.state", "FROZEN");
	cr_assert_eq(cg_freeze(h, false, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_is_frozen(h, &frozen, &err), 0, "%s", err.msg);
	cr_assert_not(frozen);

	cr_assert_eq(cg_kill_all(h, SIGKILL, &err), 0, "%s", err.msg);
	/* Bounded wait, so a kill that did nothing fails here and fini cleans. */
	for (int i = 0; i < 500 && waitpid(child, &st, WNOHANG) == 0; i++)
		usleep(10000);
	cr_assert(kill(child, 0) < 0 && errno == ESRCH, "child %d survived cg_kill_all", child);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

Test(cgroup_host, round_trip, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64], sub[4200];

	if (!host_has("/sys/fs/cgroup/memory") && !host_has("/sys/fs/cgroup/cgroup.procs"))
		cr_skip_test("needs root and a writable cgroup hierarchy");
	snprintf(path, sizeof(path), "/hull-unit-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.present = true;
	r.mem_limit = 64 << 20;
	r.has_pids_limit = true;
	r.pids_limit = 10;
	struct rt_kv kv = { "cgroup.max.descendants", "5" };
	r.unified = &kv;
	r.n_unified = 1;
	r.cpu_shares = 512;
	r.cpu_quota = 50000;
	r.cpu_period = 100000;
	r.cpu_cpus = "0";
	struct rt_device_rule dev[] = {
		{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rw" },
	};
	r.devices = dev;
	r.n_devices = 3;
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cg_handle_path(h), path);

	const char *mem = dir_with(h, "memory.limit_in_bytes");
	if (mem)
		assert_file(mem, "memory.limit_in_bytes", "67108864");
	else
		assert_file(dir_with(h, "memory.max"), "memory.max", "67108864");
	assert_file(dir_with(h, "pids.max"), "pids.max", "10");
	const char *cpu = dir_with(h, "cpu.shares"), *devs = dir_with(h, "devices.list");
	if (cpu) {
		assert_file(cpu, "cpu.shares", "512");
		assert_file(cpu, "cpu.cfs_quota_us", "50000");
	}
	assert_file(dir_with(h, "cpuset.cpus"), "cpuset.cpus", "0");
	if (devs)
		assert_file_all(devs, "devices.list", "c 1:3 rwm\nc 136:* rw");
	/* hybrid: unified keys go to the v2 tree, which every layout here has */
	assert_file(dir_with(h, "cgroup.max.descendants"), "cgroup.max.descendants", "5");

	/* The workload's own sub-cgroup must not block destroy. */
	snprintf(sub, sizeof(sub), "%s/workload-child", cg_handle_dir(h, 0));
	cr_assert_eq(mkdir(sub, 0755), 0);

	freeze_thaw_kill(h, enter_paused_child(h));

	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	/* destroying twice is fine: missing is not an error */
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	cg_handle_free(h);
}

Test(cgroup_host, invalid_value_leaves_nothing, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL, *probe = NULL;
	struct rt_resources r;
	char top[64], path[96];

	if (!host_has("/sys/fs/cgroup/cpuset") && !host_has("/sys/fs/cgroup/cgroup.procs"))
		cr_skip_test("needs root and a writable cgroup hierarchy");
	snprintf(top, sizeof(top), "/hull-unit-bad-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/nested", top);
	snprintf(g_path, sizeof(g_path), "%s", top);
	cg_resources_init(&r);
	r.present = true;
	r.cpu_cpus = "999999";
	cr_assert_lt(cg_create(path, &r, &h, &err), 0);
	cr_assert_null(h);
	cr_assert(strstr(err.msg, "cpuset.cpus: write \"999999\""), "%s", err.msg);

	cr_assert_eq(cg_open(top, &probe, &err), 0, "%s", err.msg);
	assert_gone(probe);
	cg_handle_free(probe);
}

Test(cgroup_host, hull_parent_removed_when_empty, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL, *parent = NULL;
	struct rt_resources r;
	char path[128], ppath[96];
	struct stat st;

	if (!host_has("/sys/fs/cgroup/memory") && !host_has("/sys/fs/cgroup/cgroup.procs"))
		cr_skip_test("needs root and a writable cgroup hierarchy");
	snprintf(ppath, sizeof(ppath), "/hull/unit-grp-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/c", ppath);
	snprintf(g_path, sizeof(g_path), "%s", ppath);
	cg_resources_init(&r);
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_open(ppath, &parent, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(cg_handle_dir(parent, 0), &st), 0);

	/* Re-open as a later `delete` would: it does not know what create made. */
	cg_handle_free(h);
	cr_assert_eq(cg_open(path, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	assert_gone(parent);
	cg_handle_free(h);
	cg_handle_free(parent);
}

Test(cgroup_host, write_error_names_file_and_value, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64];

	if (geteuid() != 0 || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK))
		cr_skip_test("needs root and v1 memory with swap accounting");
	snprintf(path, sizeof(path), "/hull-unit-sw-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.mem_limit = 64 << 20;
	r.mem_swap = 32 << 20;           /* below the limit: the kernel refuses */
	cr_assert_lt(cg_create(path, &r, &h, &err), 0);
	cr_assert(strstr(err.msg, "memory.memsw.limit_in_bytes: write \"33554432\": Invalid "
			 "argument"), "%s", err.msg);
	cr_assert_eq(cg_open(path, &h, &err), 0);
	assert_gone(h);
	cg_handle_free(h);
}

/* The host's v2 mount presented as the only cgroup filesystem: a pure v2
 * layout without touching the host's mounts. */
Test(cgroup_host, v2_round_trip, .timeout = 30, .fini = host_cleanup)
{
	static const char *mi =
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64], *p = NULL;

	if (!host_has("/sys/fs/cgroup/unified/cgroup.procs"))
		cr_skip_test("needs root and a cgroup2 mount at /sys/fs/cgroup/unified");
	snprintf(path, sizeof(path), "/hull-unit-v2-%d/c", (int)getpid());
	snprintf(g_path, sizeof(g_path), "/hull-unit-v2-%d", (int)getpid());
	p = fixture(mi);
	cg_resources_init(&r);
	struct rt_kv kv = { "cgroup.max.depth", "3" };
	r.unified = &kv;
	r.n_unified = 1;
	cr_assert_eq(cg_create_at(p, path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_handle_layout(h), CG_LAYOUT_UNIFIED);
	cr_assert_eq(cg_handle_ndirs(h), 1);
	assert_file(cg_handle_dir(h, 0), "cgroup.max.depth", "3");

	freeze_thaw_kill(h, enter_paused_child(h));
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	cg_handle_free(h);

	/* The handle from create knows it made the parent: that goes too. */
	cr_assert_eq(cg_open_at(p, g_path, &h, &err), 0, "%s", err.msg);
	assert_gone(h);
	cg_handle_free(h);
	unlink(p);
	free(p);
}

/* v1 needs memsw >= limit at every step: raising and lowering both work. */
Test(cgroup_host, v1_swap_update_order, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	const char *d;
	char path[64];

	if (geteuid() != 0 || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK))
		cr_skip_test("needs root and v1 memory with swap accounting");
	snprintf(path, sizeof(path), "/hull-unit-swo-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.mem_limit = 64 << 20;
	r.mem_swap = 128 << 20;
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);
	d = dir_with(h, "memory.memsw.limit_in_bytes");
	assert_file(d, "memory.memsw.limit_in_bytes", "134217728");
	r.mem_limit = 256 << 20;
	r.mem_swap = 512 << 20;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(d, "memory.limit_in_bytes", "268435456");
	assert_file(d, "memory.memsw.limit_in_bytes", "536870912");
	r.mem_limit = 32 << 20;
	r.mem_swap = 64 << 20;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(d, "memory.limit_in_bytes", "33554432");
	assert_file(d, "memory.memsw.limit_in_bytes", "67108864");
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	cg_handle_free(h);
}

/* ---- every resource, against a fake v2 tree ---- */

/* A fake file with content (for files cg_apply reads). */
static void fake_put(struct fake *f, const char *file, const char *content)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, file);
	cr_assert_not_null(fp = fopen(p, "we"), "%s", p);
	fputs(content, fp);
	fclose(fp);
}

/* A FIFO collects every write to a file written several times; returns
 * the read end (held open so that writers never block). */
static int fake_fifo(struct fake *f, const char *file)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", f->dir, file);
	cr_assert_eq(mkfifo(p, 0600), 0, "%s", p);
	cr_assert_geq(fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC), 0);
	return fd;
}

static void fifo_assert(int fd, const char *want)
{
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	cr_assert_str_eq(buf, want);
}

static struct cg_handle *fake_handle(struct fake *f, const char *const *files)
{
	fake_v2(f, files);
	return open_fixture(f->mi, "/c");
}

static void fake_done(struct fake *f, struct cg_handle *h)
{
	fake_rm(f, NULL);
	cg_handle_free(h);
}

static void apply_err(struct cg_handle *h, const struct rt_resources *r, int code,
		      const char *msg)
{
	struct rt_err err = { 0 };

	cr_assert_eq(cg_apply(h, r, &err), -code, "want %s, got \"%s\"", msg, err.msg);
	cr_assert(strstr(err.msg, msg), "want \"%s\" in \"%s\"", msg, err.msg);
}

static void apply_ok(struct cg_handle *h, const struct rt_resources *r)
{
	struct rt_err err = { 0 };

	cr_assert_eq(cg_apply(h, r, &err), 0, "%s", err.msg);
}

Test(cgroup_v2, memory_swap_conversions)
{
	static const char *const files[] = { "memory.max", "memory.swap.max", "memory.low", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;

	/* unlimited memory without swap: both unlimited, as runc */
	cg_resources_init(&r);
	r.mem_limit = RT_RES_UNLIMITED;
	r.mem_reservation = RT_RES_UNLIMITED;
	apply_ok(h, &r);
	assert_file(f.dir, "memory.max", "max");
	assert_file(f.dir, "memory.swap.max", "max");
	assert_file(f.dir, "memory.low", "max");
	fake_done(&f, h);

	h = fake_handle(&f, files);
	cg_resources_init(&r);
	r.mem_limit = 100 << 20;
	r.mem_swap = RT_RES_UNLIMITED;
	apply_ok(h, &r);
	assert_file(f.dir, "memory.max", "104857600");
	assert_file(f.dir, "memory.swap.max", "max");
	fake_done(&f, h);

	h = fake_handle(&f, files);
	cg_resources_init(&r);
	r.mem_limit = 100;
	r.mem_swap = 100;                /* memory+swap == memory: no swap */
	apply_ok(h, &r);
	assert_file(f.dir, "memory.swap.max", "0");
	cg_resources_init(&r);
	r.mem_swap = 100;
	apply_err(h, &r, EINVAL, "swap: needs a memory.limit");
	cg_resources_init(&r);
	r.mem_swappiness = 10;
	apply_err(h, &r, ENOTSUP, "memory.swappiness: not supported on cgroup v2");
	/* deprecated or v1-only knobs are accepted and ignored on v2 */
	cg_resources_init(&r);
	r.mem_kernel = 1 << 20;
	r.mem_kernel_tcp = 1 << 20;
	r.has_disable_oom_killer = r.disable_oom_killer = true;
	r.has_use_hierarchy = r.use_hierarchy = true;
	apply_ok(h, &r);
	fake_done(&f, h);

	/* no swap accounting: only "unlimited" swap is fine */
	static const char *const noswap[] = { "memory.max", NULL };
	h = fake_handle(&f, noswap);
	cg_resources_init(&r);
	r.mem_limit = RT_RES_UNLIMITED;
	apply_ok(h, &r);
	r.mem_limit = 100;
	r.mem_swap = 200;
	apply_err(h, &r, ENOENT, "memory.swap.max: write \"100\"");
	fake_done(&f, h);
}

Test(cgroup_v2, memory_check_before_update)
{
	static const char *const files[] = { "memory.max", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;

	fake_put(&f, "memory.current", "5000\n");
	cg_resources_init(&r);
	r.mem_limit = 4096;
	r.has_check_before_update = r.check_before_update = true;
	apply_err(h, &r, EBUSY, "memory limit 4096 is below current usage 5000");
	r.mem_limit = 8192;
	apply_ok(h, &r);
	assert_file(f.dir, "memory.max", "8192");
	/* without the flag the kernel is left to decide */
	r.mem_limit = 1024;
	r.check_before_update = false;
	apply_ok(h, &r);
	fake_done(&f, h);
}

Test(cgroup_v2, cpu_values)
{
	static const char *const files[] = { "cpu.weight", "cpu.max.burst", "cpu.idle", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;

	fake_put(&f, "cpu.max", "30000 100000");
	cg_resources_init(&r);
	r.cpu_shares = 2;
	r.cpu_period = 250000;           /* quota not given: the current one stays */
	r.cpu_burst = 1000;
	r.has_cpu_idle = true;
	r.cpu_idle = 1;
	apply_ok(h, &r);
	assert_file(f.dir, "cpu.weight", "1");
	assert_file(f.dir, "cpu.max", "30000 250000");
	assert_file(f.dir, "cpu.max.burst", "1000");
	assert_file(f.dir, "cpu.idle", "1");
	fake_done(&f, h);

	h = fake_handle(&f, files);
	int max = fake_fifo(&f, "cpu.max");
	cg_resources_init(&r);
	r.cpu_quota = RT_RES_UNLIMITED;
	r.cpu_shares = 1024;
	apply_ok(h, &r);
	fifo_assert(max, "max");        /* period not given: kept by the kernel */
	assert_file(f.dir, "cpu.weight", "39");
	cg_resources_init(&r);
	r.cpu_realtime_runtime = 1000;
	apply_err(h, &r, ENOTSUP, "cpu.realtimeRuntime: not supported on cgroup v2");
	cg_resources_init(&r);
	r.cpu_realtime_period = 1000;
	apply_err(h, &r, ENOTSUP, "cpu.realtimePeriod: not supported on cgroup v2");
	fake_done(&f, h);
}

static struct rt_blkio_dev bdev(int64_t maj, int64_t min, int64_t w, uint64_t rate)
{
	return (struct rt_blkio_dev){ .major = maj, .minor = min, .weight = w,
				      .leaf_weight = -1, .rate = rate };
}

Test(cgroup_v2, blkio_values)
{
	static const char *const files[] = { NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;
	struct rt_blkio_dev wd[] = { bdev(8, 0, 1000, 0) };
	struct rt_blkio_dev rbps[] = { bdev(8, 0, -1, 1048576), bdev(8, 16, -1, 0) };
	struct rt_blkio_dev wiops[] = { bdev(8, 16, -1, 200) };
	struct rt_blkio_dev riops[] = { bdev(259, 1, -1, 7) };
	int weight = fake_fifo(&f, "io.weight"), max = fake_fifo(&f, "io.max");

	cg_resources_init(&r);
	r.blkio_weight = 1000;
	r.blkio_leaf_weight = 300;       /* no v2 equivalent: ignored */
	r.blkio_weight_device = wd;
	r.n_blkio_weight_device = 1;
	r.blkio_throttle_read_bps = rbps;
	r.n_blkio_throttle_read_bps = 2;
	r.blkio_throttle_write_iops = wiops;
	r.n_blkio_throttle_write_iops = 1;
	r.blkio_throttle_read_iops = riops;
	r.n_blkio_throttle_read_iops = 1;
	apply_ok(h, &r);
	fifo_assert(weight, "default 10000" "8:0 10000");
	/* one line per device, rate 0 = no limit */
	fifo_assert(max, "8:0 rbps=1048576" "8:16 rbps=max wiops=200" "259:1 riops=7");
	fake_done(&f, h);

	/* BFQ takes the v1 scale unconverted */
	h = fake_handle(&f, files);
	int bfq = fake_fifo(&f, "io.bfq.weight");
	weight = fake_fifo(&f, "io.weight");
	cg_resources_init(&r);
	r.blkio_weight = 300;
	r.blkio_weight_device = wd;
	r.n_blkio_weight_device = 1;
	apply_ok(h, &r);
	fifo_assert(bfq, "300" "8:0 1000");
	fifo_assert(weight, "");
	fake_done(&f, h);
}

Test(cgroup_v2, hugetlb_rdma_network)
{
	static const char *const files[] = { "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;
	struct rt_hugepage_limit hp[] = { { "2MB", 4 << 21 } }, bad[] = { { "1GB", 1 << 30 } },
				 junk[] = { { "../2MB", 1 } };
	struct rt_rdma rd[] = { { "mlx5_0", 4, 100 }, { "mlx5_1", -1, 9 }, { "mlx5_2", -1, -1 } };
	struct rt_net_prio prio[] = { { "eth0", 5 } };
	int rdma = fake_fifo(&f, "rdma.max");

	cg_resources_init(&r);
	r.hugepage_limits = hp;
	r.n_hugepage_limits = 1;
	r.rdma = rd;
	r.n_rdma = 3;
	apply_ok(h, &r);
	assert_file(f.dir, "hugetlb.2MB.max", "8388608");
	assert_file(f.dir, "hugetlb.2MB.rsvd.max", "8388608");
	fifo_assert(rdma, "mlx5_0 hca_handle=4 hca_object=100" "mlx5_1 hca_object=9");

	cg_resources_init(&r);
	r.hugepage_limits = bad;
	r.n_hugepage_limits = 1;
	apply_err(h, &r, ENOENT, "page size 1GB is not supported here (no hugetlb.1GB.max)");
	r.hugepage_limits = junk;
	apply_err(h, &r, EINVAL, "hugepageLimits[0].pageSize: \"../2MB\"");

	cg_resources_init(&r);
	r.has_net_class_id = true;
	r.net_class_id = 0x100001;
	apply_err(h, &r, ENOTSUP, "linux.resources.network: not supported on cgroup v2");
	cg_resources_init(&r);
	r.net_priorities = prio;
	r.n_net_priorities = 1;
	apply_err(h, &r, ENOTSUP, "linux.resources.network: not supported on cgroup v2");
	fake_done(&f, h);
}

Test(cgroup_v2, unified_keys)
{
	static const char *const files[] = { "memory.high", "pids.max", "cgroup.max.depth", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;
	struct rt_kv ok[] = { { "memory.high", "1G" }, { "cgroup.max.depth", "2" } };
	static const struct { const char *key; int code; const char *msg; } bad[] = {
		{ "cgroup.procs", EINVAL, "key \"cgroup.procs\" is managed by the runtime" },
		{ "cgroup.subtree_control", EINVAL, "is managed by the runtime" },
		{ "a/b.c", EINVAL, "invalid key \"a/b.c\"" },
		{ "memory..x", EINVAL, "invalid key" },
		{ "nodot", EINVAL, "invalid key" },
		{ ".hidden", EINVAL, "invalid key" },
		{ "memory.nosuch", ENOENT, "unknown key \"memory.nosuch\"" },
		{ "pids.max", ENOTSUP, "key \"pids.max\": the pids controller is not enabled" },
	};

	fake_put(&f, "cgroup.controllers", "cpu memory io");
	cg_resources_init(&r);
	r.unified = ok;
	r.n_unified = 2;
	apply_ok(h, &r);
	assert_file(f.dir, "memory.high", "1G");
	assert_file(f.dir, "cgroup.max.depth", "2");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_kv kv = { bad[i].key, "1" };

		r.unified = &kv;
		r.n_unified = 1;
		apply_err(h, &r, bad[i].code, bad[i].msg);
	}
	/* a bad key among good ones: nothing is written at all */
	struct rt_kv mixed[] = { { "memory.high", "5" }, { "cgroup.kill", "1" } };
	r.unified = mixed;
	r.n_unified = 2;
	apply_err(h, &r, EINVAL, "cgroup.kill");
	assert_file(f.dir, "memory.high", "1G");
	fake_done(&f, h);
}

Test(cgroup_v2, malformed_device_rules)
{
	static const char *const files[] = { "pids.max", NULL };
	struct fake f;
	struct cg_handle *h = fake_handle(&f, files);
	struct rt_resources r;
	static const struct { struct rt_device_rule d; const char *msg; } bad[] = {
		{ { true, 'x', 1, 3, "rwm" }, "devices[1].type: \"x\"" },
		{ { true, 'c', 1, 3, "rwq" }, "devices[1].access: \"rwq\"" },
		{ { true, 'c', -2, 3, "r" }, "devices[1]: major -2" },
		{ { true, 'c', 1, 1LL << 33, "r" }, "out of range" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_device_rule rules[2] = { { false, 'a', -1, -1, "rwm" }, bad[i].d };

		cg_resources_init(&r);
		r.has_pids_limit = true;
		r.pids_limit = 3;
		r.devices = rules;
		r.n_devices = 2;
		apply_err(h, &r, EINVAL, bad[i].msg);
		/* checked before any write */
		assert_file_all(f.dir, "pids.max", "");
	}
	fake_done(&f, h);
}

/* ---- the v2 device program ---- */

/* A tiny interpreter for the instructions the builder emits, so that the
 * program's decisions are checked without root. */
static int bpf_run(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t acc,
		   uint32_t maj, uint32_t min)
{
	struct bpf_cgroup_dev_ctx ctx = { acc << 16 | type, maj, min };
	uint64_t r[11] = { 0 };

	r[1] = (uintptr_t)&ctx;
	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
		uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
		uint64_t a = r[i->dst_reg];
		bool take;

		switch (cls) {
		case BPF_LDX:
			cr_assert_eq(i->code, BPF_LDX | BPF_W | BPF_MEM);
			cr_assert(i->off >= 0 && i->off + 4 <= (int)sizeof(ctx));
			r[i->dst_reg] = *(uint32_t *)((char *)(uintptr_t)r[i->src_reg] + i->off);
			break;
		case BPF_ALU64:
			r[i->dst_reg] = op == BPF_MOV ? src : op == BPF_AND ? a & src :
					op == BPF_OR ? a | src : op == BPF_XOR ? a ^ src :
					op == BPF_RSH ? a >> src : 0;
			cr_assert(op == BPF_MOV || op == BPF_AND || op == BPF_OR || op == BPF_XOR ||
				  op == BPF_RSH, "alu op %x", op);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (op == BPF_EXIT)
				return (int)r[0];
			if (cls == BPF_JMP32)
				a = (uint32_t)a, src = (uint32_t)src;
			cr_assert(op == BPF_JEQ || op == BPF_JNE, "jump op %x", op);
			take = op == BPF_JEQ ? a == src : a != src;
			cr_assert_geq(i->off, 0, "backward jump at %zu", pc);
			if (take)
				pc += (size_t)i->off;
			break;
		default:
			cr_assert_fail("class %x at %zu", cls, pc);
		}
	}
	cr_assert_fail("ran off the end");
	return -1;
}

/* The meaning, written plainly: for each requested bit the last matching
 * rule that covers it decides; an undecided bit is denied. */
static int model(const struct rt_device_rule *v, size_t n, char type, int acc, int64_t maj,
		 int64_t min)
{
	for (int bit = 1; bit <= 4; bit <<= 1) {
		bool ok = false;

		if (!(acc & bit))
			continue;
		for (size_t i = n; i-- > 0;) {
			const char *a = v[i].access;
			int ra = (strchr(a, 'm') ? 1 : 0) | (strchr(a, 'r') ? 2 : 0) |
				 (strchr(a, 'w') ? 4 : 0);

			if ((v[i].type == 'a' || v[i].type == type) &&
			    (v[i].major < 0 || v[i].major == maj) &&
			    (v[i].minor < 0 || v[i].minor == min) && (ra & bit)) {
				ok = v[i].allow;
				break;
			}
		}
		if (!ok)
			return 0;
	}
	return 1;
}

static struct bpf_insn *build(const struct rt_device_rule *v, size_t n, size_t *count)
{
	struct rt_err err = { 0 };
	struct bpf_insn *p = NULL;

	cr_assert_eq(cg_devices_bpf_build(v, n, &p, count, &err), 0, "%s", err.msg);
	return p;
}

#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK
#define RD BPF_DEVCG_ACC_READ
#define WR BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

Test(cgroup_bpf, shape)
{
	struct rt_device_rule one[] = { { true, 'c', 1, 3, "rwm" } };
	struct rt_device_rule wild[] = { { false, 'a', -1, -1, NULL } };
	size_t n;
	struct bpf_insn *p = build(one, 1, &n);

	/* 8 prologue + (3 matches + 4 allow + 4 bookkeeping) + 7 verdict */
	cr_assert_eq(n, 26);
	cr_assert_eq(p[0].code, BPF_LDX | BPF_W | BPF_MEM);
	cr_assert_eq(p[8].code, BPF_JMP32 | BPF_JNE | BPF_K);
	cr_assert_eq(p[8].imm, CHR);
	cr_assert_eq(p[9].imm, 1);
	cr_assert_eq(p[10].imm, 3);
	cr_assert_eq(p[8].off, 19 - 8 - 1);   /* a mismatch skips to the verdict at 19 */
	cr_assert_eq(p[n - 1].code, BPF_JMP | BPF_EXIT);
	free(p);
	p = build(wild, 1, &n);            /* no matches, no allow part */
	cr_assert_eq(n, 8 + 4 + 7);
	free(p);
	p = build(NULL, 0, &n);            /* nothing listed: everything denied */
	cr_assert_eq(bpf_run(p, n, CHR, RD, 1, 3), 0);
	free(p);

	/* jumps are 16-bit: a list too long for one program is refused */
	struct rt_device_rule *many = calloc(4000, sizeof(*many));
	struct rt_err err = { 0 };
	for (size_t i = 0; i < 4000; i++)
		many[i] = (struct rt_device_rule){ true, 'c', 1, (int64_t)i, "rw" };
	p = NULL;
	cr_assert_eq(cg_devices_bpf_build(many, 4000, &p, &n, &err), -E2BIG);
	cr_assert(strstr(err.msg, "too many rules"), "%s", err.msg);
	cr_assert_null(p);
	free(many);
}

Test(cgroup_bpf, decisions)
{
	struct rt_device_rule v[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, -1, "rwm" },       /* all of major 1 ... */
		{ false, 'c', 1, 3, "rwm" },       /* ... except /dev/null */
		{ true, 'c', 1, 3, "r" },          /* which may be read again */
		{ true, 'b', 8, 0, "rw" },
		{ true, 'c', 4000000000LL, 7, "m" },
	};
	size_t n;
	struct bpf_insn *p = build(v, 6, &n);

	cr_assert_eq(bpf_run(p, n, CHR, RD | WR, 1, 5), 1);
	cr_assert_eq(bpf_run(p, n, CHR, RD, 1, 3), 1);
	cr_assert_eq(bpf_run(p, n, CHR, RD | WR, 1, 3), 0);
	cr_assert_eq(bpf_run(p, n, CHR, MK, 1, 3), 0);
	cr_assert_eq(bpf_run(p, n, BLK, RD, 1, 5), 0);     /* type matters */
	cr_assert_eq(bpf_run(p, n, BLK, RD | WR, 8, 0), 1);
	cr_assert_eq(bpf_run(p, n, BLK, MK, 8, 0), 0);
	cr_assert_eq(bpf_run(p, n, CHR, RD, 136, 0), 0);
	cr_assert_eq(bpf_run(p, n, CHR, MK, 4000000000u, 7), 1);   /* > INT32_MAX */
	cr_assert_eq(bpf_run(p, n, CHR, MK, 4000000000u, 8), 0);
	free(p);
}

/* Random rule lists against the plain model. */
Test(cgroup_bpf, matches_model)
{
	static const char types[] = "acb", *acc[] = { "r", "w", "m", "rw", "rm", "wm", "rwm" };
	static const int64_t majs[] = { -1, 1, 5 }, mins[] = { -1, 3, 5 };
	unsigned seed = 12345;

	for (int round = 0; round < 400; round++) {
		struct rt_device_rule v[7];
		size_t nr = (size_t)(rand_r(&seed) % 7), n;

		for (size_t i = 0; i < nr; i++)
			v[i] = (struct rt_device_rule){ rand_r(&seed) % 2, types[rand_r(&seed) % 3],
							majs[rand_r(&seed) % 3], mins[rand_r(&seed) % 3],
							acc[rand_r(&seed) % 7] };
		struct bpf_insn *p = build(v, nr, &n);

		for (int t = 0; t < 2; t++)
			for (int a = 1; a < 8; a++)
				for (int64_t maj = 1; maj <= 7; maj += 2)
					for (int64_t min = 3; min <= 7; min += 2) {
						char ty = t ? 'b' : 'c';
						int got = bpf_run(p, n, t ? BLK : CHR, (uint32_t)a,
								  (uint32_t)maj, (uint32_t)min);

						cr_assert_eq(got, model(v, nr, ty, a, maj, min),
							     "round %d: %c %lld:%lld acc %d", round,
							     ty, (long long)maj, (long long)min, a);
					}
		free(p);
	}
}

Test(cgroup_bpf, verifier_accepts)
{
	struct rt_device_rule v[64];
	struct rt_err err = { 0 };
	struct bpf_insn *p;
	size_t n;
	int fd = -1;

	if (geteuid() != 0)
		cr_skip_test("BPF_PROG_LOAD needs root");
	for (size_t i = 0; i < 64; i++)
		v[i] = (struct rt_device_rule){ i % 3 != 0, "acb"[i % 3], i % 5 ? (int64_t)i : -1,
						i % 7 ? (int64_t)i * 3 : -1, i % 2 ? "rw" : "m" };
	p = build(v, 64, &n);
	cr_assert_eq(cg_devices_bpf_load(p, n, &fd, &err), 0, "%s", err.msg);
	cr_assert_geq(fd, 0);
	close(fd);
	/* a broken program is refused with the verifier's words */
	p[n - 1].code = BPF_ALU64 | BPF_MOV | BPF_K;
	cr_assert_lt(cg_devices_bpf_load(p, n, &fd, &err), 0);
	cr_assert(strstr(err.msg, "device eBPF program"), "%s", err.msg);
	free(p);
}

static char g_bpf_dir[128];

static void bpf_cleanup(void)
{
	if (g_bpf_dir[0])
		rmdir(g_bpf_dir);
}

/* In a child moved into dir: which of /dev/null and /dev/zero open? */
static int probe_devices(const char *dir)
{
	pid_t pid = fork();
	int st;

	cr_assert(pid >= 0);
	if (pid == 0) {
		char p[256];
		int fd, out = 0;

		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		fd = open(p, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(100);
		close(fd);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		out |= fd >= 0 ? 1 : errno == EPERM ? 2 : 0;
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		out |= fd >= 0 ? 4 : errno == EPERM ? 8 : 0;
		_exit(out);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_neq(WEXITSTATUS(st), 100, "could not join %s", dir);
	return WEXITSTATUS(st);
}

static unsigned attached(const char *dir)
{
	union bpf_attr a;
	__u32 ids[8];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (__u32)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = 8;
	cr_assert_eq(syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)), 0, "%s", strerror(errno));
	close(fd);
	return a.query.prog_cnt;
}

/* The program on a real cgroup2 directory: a process inside is refused
 * what the rules deny, and an update replaces the program. */
Test(cgroup_bpf, host_attach, .timeout = 30, .fini = bpf_cleanup)
{
	struct rt_device_rule deny_null[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, -1, "rwm" },
		{ false, 'c', 1, 3, "rwm" },
	};
	struct rt_device_rule allow_null[] = { { true, 'c', 1, 3, "rw" } };
	struct rt_err err = { 0 };

	if (!host_has("/sys/fs/cgroup/unified/cgroup.procs"))
		cr_skip_test("needs root and a cgroup2 mount at /sys/fs/cgroup/unified");
	snprintf(g_bpf_dir, sizeof(g_bpf_dir), "/sys/fs/cgroup/unified/hull-unit-bpf-%d",
		 (int)getpid());
	cr_assert_eq(mkdir(g_bpf_dir, 0755), 0, "%s", strerror(errno));
	cr_assert_eq(cg_devices_bpf_apply(g_bpf_dir, deny_null, 3, &err), 0, "%s", err.msg);
	cr_assert_eq(attached(g_bpf_dir), 1);
	cr_assert_eq(probe_devices(g_bpf_dir), 2 | 4, "null must be EPERM, zero open");

	/* update: the old program is detached, only the new list holds */
	cr_assert_eq(cg_devices_bpf_apply(g_bpf_dir, allow_null, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(attached(g_bpf_dir), 1);
	cr_assert_eq(probe_devices(g_bpf_dir), 1 | 8, "null open, zero EPERM");
	cr_assert_eq(rmdir(g_bpf_dir), 0, "%s", strerror(errno));
	g_bpf_dir[0] = '\0';
}

/* ---- every resource on the host's v1 hierarchies (hybrid here) ---- */

static bool read_devnum(const char *blk, int64_t *maj, int64_t *min)
{
	char p[128];
	long long a, b;
	FILE *f;
	bool ok;

	snprintf(p, sizeof(p), "/sys/block/%s/dev", blk);
	if (!(f = fopen(p, "re")))
		return false;
	ok = fscanf(f, "%lld:%lld", &a, &b) == 2;
	fclose(f);
	*maj = a, *min = b;
	return ok;
}

Test(cgroup_host, v1_every_resource, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64], line[64];
	int64_t maj = -1, min = -1;
	const char *d;

	if (geteuid() != 0 || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) ||
	    access("/sys/fs/cgroup/cpu/cpu.cfs_burst_us", F_OK) ||
	    access("/sys/fs/cgroup/cpu/cpu.idle", F_OK) || access("/sys/fs/cgroup/blkio", F_OK))
		cr_skip_test("needs root and v1 memory (with swap), cpu (burst, idle), blkio");
	snprintf(path, sizeof(path), "/hull-unit-all-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.mem_limit = 64 << 20;
	r.mem_swap = 96 << 20;
	r.mem_reservation = 32 << 20;
	r.mem_kernel = 128 << 20;
	r.mem_kernel_tcp = 16 << 20;
	r.mem_swappiness = 30;
	r.has_disable_oom_killer = r.disable_oom_killer = true;
	r.has_use_hierarchy = true;
	r.use_hierarchy = false;          /* refused by the kernel: ignored */
	r.cpu_shares = 256;
	r.cpu_period = 50000;
	r.cpu_quota = 20000;
	r.cpu_burst = 10000;
	r.cpu_realtime_period = 500000;
	r.cpu_realtime_runtime = 0;
	r.has_pids_limit = true;
	r.pids_limit = RT_RES_UNLIMITED;
	struct rt_blkio_dev rbps[1], wiops[1];
	if (read_devnum("vda", &maj, &min) || read_devnum("loop0", &maj, &min)) {
		rbps[0] = bdev(maj, min, -1, 1048576);
		wiops[0] = bdev(maj, min, -1, 100);
		r.blkio_throttle_read_bps = rbps;
		r.n_blkio_throttle_read_bps = 1;
		r.blkio_throttle_write_iops = wiops;
		r.n_blkio_throttle_write_iops = 1;
	}
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);

	d = dir_with(h, "memory.limit_in_bytes");
	assert_file(d, "memory.limit_in_bytes", "67108864");
	assert_file(d, "memory.memsw.limit_in_bytes", "100663296");
	assert_file(d, "memory.soft_limit_in_bytes", "33554432");
	assert_file(d, "memory.swappiness", "30");
	assert_file(d, "memory.oom_control", "oom_kill_disable 1");
	assert_file(d, "memory.kmem.tcp.limit_in_bytes", "16777216");
	d = dir_with(h, "cpu.shares");
	assert_file(d, "cpu.shares", "256");
	assert_file(d, "cpu.cfs_period_us", "50000");
	assert_file(d, "cpu.cfs_quota_us", "20000");
	assert_file(d, "cpu.cfs_burst_us", "10000");
	assert_file(d, "cpu.rt_period_us", "500000");
	assert_file(dir_with(h, "pids.max"), "pids.max", "max");
	if (maj >= 0) {
		d = dir_with(h, "blkio.throttle.read_bps_device");
		snprintf(line, sizeof(line), "%lld:%lld 1048576", (long long)maj, (long long)min);
		assert_file(d, "blkio.throttle.read_bps_device", line);
		snprintf(line, sizeof(line), "%lld:%lld 100", (long long)maj, (long long)min);
		assert_file(d, "blkio.throttle.write_iops_device", line);
	}

	/* update: quota below the old burst needs burst first; then idle */
	cg_resources_init(&r);
	r.cpu_quota = 5000;
	r.cpu_burst = 2000;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(d = dir_with(h, "cpu.shares"), "cpu.cfs_quota_us", "5000");
	assert_file(d, "cpu.cfs_burst_us", "2000");
	cg_resources_init(&r);
	r.has_cpu_idle = true;
	r.cpu_idle = 1;
	r.cpu_quota = RT_RES_UNLIMITED;
	r.cpu_burst = 0;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	assert_file(d, "cpu.idle", "1");
	assert_file(d, "cpu.cfs_quota_us", "-1");

	/* unlimited memory and no swap value: both unlimited */
	cg_resources_init(&r);
	r.mem_limit = RT_RES_UNLIMITED;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	d = dir_with(h, "memory.limit_in_bytes");
	assert_file(d, "memory.limit_in_bytes", "9223372036854771712");
	assert_file(d, "memory.memsw.limit_in_bytes", "9223372036854771712");

	/* controllers this host lacks are named */
	struct rt_rdma rd = { "mlx5_0", 1, 1 };
	struct rt_net_prio prio = { "lo", 1 };
	cg_resources_init(&r);
	r.rdma = &rd;
	r.n_rdma = 1;
	if (!dir_with(h, "rdma.max"))
		apply_err(h, &r, ENOTSUP, "linux.resources.rdma: the rdma cgroup controller is not "
			  "available");
	cg_resources_init(&r);
	r.net_priorities = &prio;
	r.n_net_priorities = 1;
	if (!dir_with(h, "net_prio.ifpriomap"))
		apply_err(h, &r, ENOTSUP, "network.priorities: the net_prio cgroup controller");
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	cg_handle_free(h);
}

/* A process that uses memory, then a limit under its usage. */
Test(cgroup_host, check_before_update, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64], c;
	int go[2], ready[2];
	pid_t child;

	if (!host_has("/sys/fs/cgroup/memory") && !host_has("/sys/fs/cgroup/cgroup.procs"))
		cr_skip_test("needs root and a writable memory hierarchy");
	snprintf(path, sizeof(path), "/hull-unit-cbu-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.mem_limit = 256 << 20;
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* touched pages are charged to the cgroup (volatile: not elided) */
		volatile char *m = malloc(16 << 20);
		for (size_t i = 0; m && i < (16 << 20); i += 4096)
			m[i] = 1;
		if (write(ready[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	g_child = child;
	cr_assert_eq(cg_enter(h, child, &err), 0, "%s", err.msg);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cg_resources_init(&r);
	r.mem_limit = 4 << 20;
	r.has_check_before_update = r.check_before_update = true;
	apply_err(h, &r, EBUSY, "memory limit 4194304 is below current usage");
	r.mem_limit = 128 << 20;
	cr_assert_eq(cg_apply(h, &r, &err), 0, "%s", err.msg);
	for (int i = 0; i < 2; i++)
		close(go[i]), close(ready[i]);
	cg_handle_free(h);
}

/* hugetlb lives only in the v2 tree on a hybrid host: found there. */
Test(cgroup_host, hugetlb_where_available, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	struct rt_hugepage_limit hp = { "2MB", 8 << 20 }, bad = { "64KB", 1 << 20 };
	char path[64];
	const char *d;

	if (geteuid() != 0 || access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK))
		cr_skip_test("needs root and 2MB huge pages");
	snprintf(path, sizeof(path), "/hull-unit-huge-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	cg_resources_init(&r);
	r.hugepage_limits = &hp;
	r.n_hugepage_limits = 1;
	if (cg_create(path, &r, &h, &err) < 0) {
		/* hull does not change a hybrid host's cgroup2 root, so hugetlb
		 * works there only if the host already delegates it. */
		cr_assert(strstr(err.msg, "hugetlb cgroup controller is not available") ||
			  strstr(err.msg, "page size 2MB is not supported here"), "%s", err.msg);
		cr_skip_test("hugetlb not delegated to child cgroups here: %s", err.msg);
	}
	d = dir_with(h, "hugetlb.2MB.max") ? dir_with(h, "hugetlb.2MB.max")
					    : dir_with(h, "hugetlb.2MB.limit_in_bytes");
	cr_assert_not_null(d);
	assert_file(d, dir_with(h, "hugetlb.2MB.max") ? "hugetlb.2MB.max"
						      : "hugetlb.2MB.limit_in_bytes", "8388608");
	r.hugepage_limits = &bad;
	apply_err(h, &r, ENOENT, "page size 64KB is not supported here (no hugetlb.64KB.");
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	cg_handle_free(h);
}

/* Pure v2 (the host's cgroup2 mount alone): devices become a program. */
Test(cgroup_host, v2_devices_program, .timeout = 30, .fini = host_cleanup)
{
	static const char *mi =
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	struct rt_device_rule rules[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 3, "rw" },
	};
	struct rt_kv kv = { "memory.high", "1G" };
	char path[64], *p;

	if (!host_has("/sys/fs/cgroup/unified/cgroup.procs"))
		cr_skip_test("needs root and a cgroup2 mount at /sys/fs/cgroup/unified");
	snprintf(path, sizeof(path), "/hull-unit-v2d-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path);
	p = fixture(mi);
	cg_resources_init(&r);
	r.devices = rules;
	r.n_devices = 2;
	cr_assert_eq(cg_create_at(p, path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_eq(attached(cg_handle_dir(h, 0)), 1);
	cr_assert_eq(probe_devices(cg_handle_dir(h, 0)), 1 | 8, "null open, zero EPERM");
	/* a controller the parent did not enable is named */
	cg_resources_init(&r);
	r.unified = &kv;
	r.n_unified = 1;
	char ctrls[256] = "";
	FILE *f = fopen("/sys/fs/cgroup/unified/cgroup.controllers", "re");
	if (f && fgets(ctrls, sizeof(ctrls), f) && !strstr(ctrls, "memory"))
		apply_err(h, &r, ENOTSUP, "key \"memory.high\": the memory controller is not "
			  "enabled");
	if (f)
		fclose(f);
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	cg_handle_free(h);
	unlink(p);
	free(p);
}
