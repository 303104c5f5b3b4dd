/* cgroups/cgroup.c: layout detection and path handling from fixtures, and a
 * real create/enter/freeze/kill/destroy round trip on the host's hierarchies
 * (needs root; skipped otherwise).  Everything created is removed. */
#include <criterion/criterion.h>

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
		cr_assert_eq(cg_resolve_path(ok[i].in, ok[i].id, true, &out, &err), 0, "%s: %s",
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

static void fake_rm(struct fake *f, const char *const *files)
{
	char p[256];

	for (size_t i = 0; files[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
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

static void host_cleanup(void)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;

	if (!g_path[0] || cg_open(g_path, &h, &err) < 0)
		return;
	cg_freeze(h, false, &err);
	cg_kill_all(h, SIGKILL, &err);
	if (g_child > 0 && kill(g_child, SIGKILL) == 0)
		waitpid(g_child, NULL, 0);
	cg_destroy(h, &err);
	cg_handle_free(h);
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

Test(cgroup_host, round_trip, .timeout = 30, .fini = host_cleanup)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64], sub[4200];
	pid_t *pids = NULL, child;
	size_t n = 0;
	bool frozen = true;
	int st;

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

	cr_assert_eq(cg_freeze(h, true, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_is_frozen(h, &frozen, &err), 0, "%s", err.msg);
	cr_assert(frozen);
	const char *fz = dir_with(h, "freezer.state");
	if (fz)
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
	pid_t *pids = NULL, child;
	size_t n = 0;
	bool frozen = false;
	int st = 0;

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
	cr_assert(in_list(pids, n, child));
	free(pids);
	cr_assert_eq(cg_freeze(h, true, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_is_frozen(h, &frozen, &err), 0, "%s", err.msg);
	cr_assert(frozen);
	cr_assert_eq(cg_freeze(h, false, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_is_frozen(h, &frozen, &err), 0, "%s", err.msg);
	cr_assert_not(frozen);
	cr_assert_eq(cg_kill_all(h, SIGKILL, &err), 0, "%s", err.msg);
	for (int i = 0; i < 500 && waitpid(child, &st, WNOHANG) == 0; i++)
		usleep(10000);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
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
