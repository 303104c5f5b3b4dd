/* cgroups/cgroup.c: layout detection and path handling from fixtures, and a
 * real create/enter/freeze/kill/destroy round trip on the host's hierarchies
 * (needs root; skipped otherwise).  Everything created is removed. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

Test(cgroup_path, systemd_not_yet)
{
	struct rt_err err = { 0 };
	char *out = NULL;

	cr_assert_eq(cg_resolve_path("system.slice:hull:c1", "c1", true, &out, &err), -ENOTSUP);
	cr_assert(strstr(err.msg, "systemd cgroup driver is not available yet"), "%s", err.msg);
	cr_assert_null(out);
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

/* ---- on the real host ---- */

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

Test(cgroup_host, round_trip, .timeout = 30)
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
	cg_resources_init(&r);
	r.present = true;
	r.mem_limit = 64 << 20;
	r.has_pids_limit = true;
	r.pids_limit = 10;
	cr_assert_eq(cg_create(path, &r, &h, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cg_handle_path(h), path);

	const char *mem = dir_with(h, "memory.limit_in_bytes");
	if (mem)
		assert_file(mem, "memory.limit_in_bytes", "67108864");
	else
		assert_file(dir_with(h, "memory.max"), "memory.max", "67108864");
	assert_file(dir_with(h, "pids.max"), "pids.max", "10");

	/* The workload's own sub-cgroup must not block destroy. */
	snprintf(sub, sizeof(sub), "%s/workload-child", cg_handle_dir(h, 0));
	cr_assert_eq(mkdir(sub, 0755), 0);

	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
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
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	assert_gone(h);
	/* destroying twice is fine: missing is not an error */
	cr_assert_eq(cg_destroy(h, &err), 0, "%s", err.msg);
	cg_handle_free(h);
}

Test(cgroup_host, invalid_value_leaves_nothing, .timeout = 30)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL, *probe = NULL;
	struct rt_resources r;
	char top[64], path[96];

	if (!host_has("/sys/fs/cgroup/cpuset") && !host_has("/sys/fs/cgroup/cgroup.procs"))
		cr_skip_test("needs root and a writable cgroup hierarchy");
	snprintf(top, sizeof(top), "/hull-unit-bad-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/nested", top);
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

Test(cgroup_host, hull_parent_removed_when_empty, .timeout = 30)
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

Test(cgroup_host, write_error_names_file_and_value, .timeout = 30)
{
	struct rt_err err = { 0 };
	struct cg_handle *h = NULL;
	struct rt_resources r;
	char path[64];

	if (geteuid() != 0 || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK))
		cr_skip_test("needs root and v1 memory with swap accounting");
	snprintf(path, sizeof(path), "/hull-unit-sw-%d", (int)getpid());
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
