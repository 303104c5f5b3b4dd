/* microvm/disk.c: rootfs directory -> cached erofs/ext4 image. */
#include "config.h"
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/disk.h"

TestSuite(vm_disk, .timeout = 60);

static char base[64], rootfs[96], cache[96];
static struct rt_err err;

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", rootfs, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

#define sh(...)                                                 \
	do {                                                    \
		char cmd_[512];                                 \
		snprintf(cmd_, sizeof(cmd_), __VA_ARGS__);      \
		cr_assert_eq(system(cmd_), 0, "%s", cmd_);      \
	} while (0)

static void setup(void)
{
	strcpy(base, "/tmp/hull-disk-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(cache, sizeof(cache), "%s/cache", base);
	cr_assert_eq(mkdir(rootfs, 0755), 0);
	sh("mkdir -p %s/etc %s/bin", rootfs, rootfs);
	put("etc/hostname", "hull\n");
	put("bin/hello", "#!/bin/sh\necho hello\n");
	sh("chmod 755 %s/bin/hello && ln -s hello %s/bin/hi", rootfs, rootfs);
	setenv("HULL_DISK_CACHE", cache, 1);
	unsetenv("HULL_DISK_FORMAT");
}

static void teardown(void)
{
	sh("rm -rf %s", base);
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1 || test -x /usr/sbin/%s",
		 tool, tool);
	return system(cmd) == 0;
}

static int cache_entries(void)
{
	DIR *d = opendir(cache);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static char *disk(void)
{
	char *p = NULL;

	cr_assert_eq(vm_disk_for_rootfs(rootfs, &p, &err), 0, "%s", err.msg);
	cr_assert_not_null(p);
	return p;
}

Test(vm_disk, same_tree_same_image_not_rebuilt, .init = setup, .fini = teardown)
{
	struct stat a, b;
	char *p1, *p2;

	if (!have("mkfs.erofs"))
		cr_skip_test("skipped: no mkfs.erofs");
	p1 = disk();
	cr_assert_eq(strncmp(p1, cache, strlen(cache)), 0);
	cr_assert(strstr(p1, ".erofs"), "erofs preferred: %s", p1);
	cr_assert_eq(stat(p1, &a), 0);
	cr_assert_eq(cache_entries(), 1, "one image, no temporaries");
	p2 = disk();
	cr_assert_str_eq(p1, p2);
	cr_assert_eq(stat(p2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "not rebuilt");
	cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	cr_assert_eq(cache_entries(), 1);
	free(p1);
	free(p2);
}

Test(vm_disk, changed_file_new_image, .init = setup, .fini = teardown)
{
	char *p1, *p2, *p3, path[256];
	struct stat st;
	struct timespec ts[2];

	if (!have("mkfs.erofs"))
		cr_skip_test("skipped: no mkfs.erofs");
	p1 = disk();
	put("etc/hostname", "other\n");
	p2 = disk();
	cr_assert_str_neq(p1, p2);
	/* Same size, mtime put back: the ctime still tells. */
	snprintf(path, sizeof(path), "%s/etc/hostname", rootfs);
	cr_assert_eq(stat(path, &st), 0);
	put("etc/hostname", "OTHER\n");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	p3 = disk();
	cr_assert_str_neq(p2, p3);
	cr_assert_eq(cache_entries(), 3);
	free(p1);
	free(p2);
	free(p3);
}

Test(vm_disk, key_covers_symlink_targets_and_modes, .init = setup, .fini = teardown)
{
	char k1[65], k2[65], k3[65];

	cr_assert_eq(vm_disk_key(rootfs, "erofs", k1, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen(k1), 64);
	sh("ln -sfn /bin/hello %s/bin/hi", rootfs);
	cr_assert_eq(vm_disk_key(rootfs, "erofs", k2, &err), 0);
	cr_assert_str_neq(k1, k2);
	sh("chmod 700 %s/bin/hello", rootfs);
	cr_assert_eq(vm_disk_key(rootfs, "erofs", k3, &err), 0);
	cr_assert_str_neq(k2, k3);
	cr_assert_eq(vm_disk_key(rootfs, "ext4", k1, &err), 0);
	cr_assert_str_neq(k1, k3, "the format is part of the key");
	cr_assert_eq(vm_disk_key(rootfs, "ext4", k2, &err), 0);
	cr_assert_str_eq(k1, k2, "stable");
}

Test(vm_disk, erofs_image_readable, .init = setup, .fini = teardown)
{
	char *p, out[160];

	if (!have("mkfs.erofs") || !have("fsck.erofs"))
		cr_skip_test("skipped: no erofs-utils");
	p = disk();
	snprintf(out, sizeof(out), "%s/x", base);
	sh("fsck.erofs --extract=%s %s >/dev/null", out, p);
	sh("grep -qx hull %s/etc/hostname && test -x %s/bin/hello", out, out);
	sh("test \"$(readlink %s/bin/hi)\" = hello", out);
	free(p);
}

Test(vm_disk, ext4_fallback_readable, .init = setup, .fini = teardown)
{
	char *p, cmd[300];

	if (!have("mkfs.ext4") || !have("debugfs"))
		cr_skip_test("skipped: no e2fsprogs");
	setenv("HULL_DISK_FORMAT", "ext4", 1);
	p = disk();
	cr_assert(strstr(p, ".ext4"), "%s", p);
	sh("e2fsck -fn %s >/dev/null 2>&1", p);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /etc/hostname' %s 2>/dev/null | grep -qx hull",
		 p);
	cr_assert_eq(system(cmd), 0, "file content inside the ext4 image");
	free(p);
}

Test(vm_disk, missing_rootfs_leaves_nothing, .init = setup, .fini = teardown)
{
	char *p = NULL;

	cr_assert_lt(vm_disk_for_rootfs("/nonexistent/rootfs", &p, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/rootfs"), "%s", err.msg);
	cr_assert_null(p);
	cr_assert_eq(access(cache, F_OK), -1, "no cache dir made");
}

Test(vm_disk, bad_format_env, .init = setup, .fini = teardown)
{
	char *p = NULL;

	setenv("HULL_DISK_FORMAT", "squashfs", 1);
	cr_assert_eq(vm_disk_for_rootfs(rootfs, &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "HULL_DISK_FORMAT"));
}

Test(vm_disk, failed_build_leaves_no_half_image, .init = setup, .fini = teardown)
{
	char bin[128], path[512];
	char *p = NULL;

	/* A mkfs.erofs that writes half an image and dies. */
	snprintf(bin, sizeof(bin), "%s/bin", base);
	mkdir(bin, 0755);
	sh("printf '#!/bin/sh\\necho half > \"$3\"\\necho boom >&2\\nexit 3\\n' > %s/mkfs.erofs"
	   " && chmod 755 %s/mkfs.erofs", bin, bin);
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	cr_assert_eq(vm_disk_for_rootfs(rootfs, &p, &err), -EIO);
	cr_assert(strstr(err.msg, "boom"), "the tool's output in the error: %s", err.msg);
	cr_assert(strstr(err.msg, rootfs), "%s", err.msg);
	cr_assert_eq(cache_entries(), 0, "nothing left in the cache");
}

Test(vm_disk, stale_temporaries_removed, .init = setup, .fini = teardown)
{
	char tmp[256];
	struct timespec ts[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
	char *p;

	if (!have("mkfs.erofs"))
		cr_skip_test("skipped: no mkfs.erofs");
	mkdir(cache, 0700);
	snprintf(tmp, sizeof(tmp), "%s/.abc.erofs.tmp.XYZ123", cache);
	close(open(tmp, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	cr_assert_eq(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	p = disk();
	cr_assert_eq(access(tmp, F_OK), -1, "an hour-old temporary is gone");
	cr_assert_eq(cache_entries(), 1);
	free(p);
}

Test(vm_disk, cache_inside_rootfs_refused, .init = setup, .fini = teardown)
{
	char inside[160];
	char *p = NULL;

	snprintf(inside, sizeof(inside), "%s/var/cache/hull/disks", rootfs);
	setenv("HULL_DISK_CACHE", inside, 1);
	cr_assert_eq(vm_disk_for_rootfs(rootfs, &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "contains the disk cache"), "%s", err.msg);
	cr_assert_eq(access(inside, F_OK), -1, "nothing created");
	setenv("HULL_DISK_CACHE", cache, 1);
	cr_assert_eq(vm_disk_for_rootfs("/", &p, &err), -EINVAL, "/ always contains the cache");
}
