/* image/rootfs.c: an image unpacked once into the store and shared as the
 * lower layer of per-container overlays; its removal with the image. */
#include "config.h"
#include "image_fixture.h"
#include <sys/file.h>
#include <sys/mount.h>

TestSuite(image_rootfs, .init = setup, .fini = teardown);

/* Import an image named name, then let go of the store: img_rootfs_prepare
 * opens and locks it itself. */
static void import_and_close(const char *name, struct built *b)
{
	struct layer ls[] = { { base_ents, 3, "gzip" } };
	next_config = "{\"config\":{\"Entrypoint\":[\"/bin/sh\"],\"Cmd\":[\"-c\",\"true\"],"
		"\"Env\":[\"A=1\"],\"WorkingDir\":\"/etc\",\"User\":\"0:0\"}}";
	import_ok(name, ls, 1, b);
	next_config = NULL;
	img_store_close(&st);
}

static void reopen(void)
{
	struct rt_err err = {0};
	cr_assert_eq(img_store_open(&st, store_dir, &err), 0, "%s", err.msg);
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

Test(image_rootfs, unpacked_once_shared_by_two)
{
	struct built b;
	struct img_rootfs r1, r2;
	struct rt_err err = {0};
	char d1[160], d2[160], f[256];
	struct stat s1, s2;

	import_and_close("rf:1", &b);
	snprintf(d1, sizeof(d1), "%s/ct1", tmp);
	snprintf(d2, sizeof(d2), "%s/ct2", tmp);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:1", d1, &r1, &err), 0, "%s", err.msg);
	snprintf(f, sizeof(f), "%s/etc/conf", r1.lower);
	cr_assert_eq(stat(f, &s1), 0);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:1", d2, &r2, &err), 0, "%s", err.msg);
	cr_assert_str_eq(r1.lower, r2.lower);
	cr_assert_eq(stat(f, &s2), 0);
	cr_assert_eq(s1.st_ino, s2.st_ino, "the second prepare unpacked again");
	cr_assert(strstr(r1.lower, b.manifest + 7), "lower %s is not named by the digest", r1.lower);
	cr_assert_str_eq(r1.digest, b.manifest);
	cr_assert(r1.lower[0] == '/' && exists(r1.upper) && exists(r1.work));
	cr_assert(strstr(r2.upper, "/ct2/upper"));
	cr_assert_str_eq(r1.config.entrypoint[0], "/bin/sh");
	cr_assert_str_eq(r1.config.cmd[1], "true");
	cr_assert_str_eq(r1.config.env[0], "A=1");
	cr_assert_str_eq(r1.config.working_dir, "/etc");
	/* upper already there: refused, and ct1 is not touched */
	struct img_rootfs r3;
	cr_assert_lt(img_rootfs_prepare(store_dir, "rf:1", d1, &r3, &err), 0);
	cr_assert(strstr(err.msg, "upper") && strstr(err.msg, "exists"), "%s", err.msg);
	cr_assert(exists(r1.upper));
	img_rootfs_release(&r1);
	img_rootfs_release(&r2);
	reopen();
}

Test(image_rootfs, unknown_ref_and_bad_dir_leave_nothing)
{
	struct built b;
	struct img_rootfs r;
	struct rt_err err = {0};
	char d[160];

	import_and_close("rf:1", &b);
	snprintf(d, sizeof(d), "%s/ct", tmp);
	cr_assert_lt(img_rootfs_prepare(store_dir, "nosuch", d, &r, &err), 0);
	cr_assert(strstr(err.msg, "\"nosuch\" does not exist"), "%s", err.msg);
	cr_assert(!exists(d));
	snprintf(d, sizeof(d), "%s/a,b", tmp);
	cr_assert_lt(img_rootfs_prepare(store_dir, "rf:1", d, &r, &err), 0);
	cr_assert(strstr(err.msg, "may not contain"), "%s", err.msg);
	cr_assert(!exists(d), "a refused prepare left %s", d);
	reopen();
}

Test(image_rootfs, rm_keeps_a_held_tree_until_release)
{
	struct built b;
	struct img_rootfs r;
	struct rt_err err = {0};
	char d[160], lower[512];

	import_and_close("rf:1", &b);
	snprintf(d, sizeof(d), "%s/ct", tmp);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:1", d, &r, &err), 0, "%s", err.msg);
	snprintf(lower, sizeof(lower), "%s", r.lower);
	reopen();
	cr_assert_eq(img_remove(&st, "rf:1", &err), 0, "%s", err.msg);
	cr_assert(exists(lower), "removed while a container holds it");
	img_rootfs_release(&r);
	/* the next garbage collection takes it */
	cr_assert_eq(img_store_gc(&st, &err), 0, "%s", err.msg);
	cr_assert(!exists(lower), "still there after release and gc");
	/* an unheld tree goes with its image at once */
	import_and_close("rf:2", &b);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:2", d, &r, &err), -EEXIST);
	snprintf(d, sizeof(d), "%s/ct2", tmp);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:2", d, &r, &err), 0, "%s", err.msg);
	snprintf(lower, sizeof(lower), "%s", r.lower);
	img_rootfs_release(&r);
	reopen();
	cr_assert_eq(img_remove(&st, "rf:2", &err), 0, "%s", err.msg);
	cr_assert(!exists(lower));
}

Test(image_rootfs, overlay_writes_go_to_upper)
{
	struct built b;
	struct img_rootfs r;
	struct rt_err err = {0};
	char d[160], mnt[200], p[600];

	if (geteuid() != 0) {
		cr_skip_test("skipped: mounting an overlay needs root");
		return;
	}
	import_and_close("rf:1", &b);
	snprintf(d, sizeof(d), "%s/ct", tmp);
	snprintf(mnt, sizeof(mnt), "%s/ct/rootfs", tmp);
	cr_assert_eq(img_rootfs_prepare(store_dir, "rf:1", d, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(mkdir(mnt, 0755), 0);
	cr_assert_eq(img_rootfs_mount(&r, mnt, &err), 0, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/etc/conf", mnt);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("changed\n", f);
	fclose(f);
	umount2(mnt, MNT_DETACH);
	snprintf(p, sizeof(p), "%s/etc/conf", r.upper);
	cr_assert(exists(p), "the change is not in upper");
	snprintf(p, sizeof(p), "%s/etc/conf", r.lower);
	char *t = NULL;
	size_t len;
	cr_assert_eq(rt_read_file(p, 4096, &t, &len, &err), 0);
	cr_assert_str_eq(t, "one\n", "the shared lower was written");
	free(t);
	img_rootfs_release(&r);
	reopen();
}

Test(image_rootfs, hostile_layer_leaves_nothing_in_the_store)
{
	const struct ent bad[] = { { F, "ok", "1" }, { F, "../../escape", "x" } };
	struct layer ls[] = { { bad, 2, NULL } };
	struct built b;
	struct img_rootfs r;
	struct rt_err err = {0};
	char d[160], sub[200];

	import_ok("bad:1", ls, 1, &b);
	img_store_close(&st);
	snprintf(d, sizeof(d), "%s/ct", tmp);
	cr_assert_lt(img_rootfs_prepare(store_dir, "bad:1", d, &r, &err), 0);
	cr_assert(strstr(err.msg, "\"..\" is not allowed") && strstr(err.msg, "bad:1"), "%s", err.msg);
	cr_assert(!exists(d), "a failed prepare left %s", d);
	snprintf(sub, sizeof(sub), "%s/rootfs", store_dir);
	DIR *dir = opendir(sub);
	cr_assert_not_null(dir);
	for (struct dirent *de; (de = readdir(dir));)
		cr_assert(de->d_name[0] == '.', "left in the store: rootfs/%s", de->d_name);
	closedir(dir);
	snprintf(sub, sizeof(sub), "%s/escape", tmp);
	cr_assert(!exists(sub) && !exists("/escape"));
	reopen();
}

static bool have(const char *prog)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", prog);
	return system(cmd) == 0;
}

Test(image_rootfs, vm_disk_built_once_and_removed_with_the_image)
{
	struct built b;
	struct rt_err err = {0};
	char *p1 = NULL, *p2 = NULL, cmd[600];
	struct stat s1, s2;
	unsigned char magic[4];

	if (!have("mkfs.erofs")) {
		cr_skip_test("skipped: mkfs.erofs (erofs-utils) is not installed");
		return;
	}
	import_and_close("disk:1", &b);
	cr_assert_eq(img_vm_disk(store_dir, "disk:1", &p1, &err), 0, "%s", err.msg);
	cr_assert(p1[0] == '/' && strstr(p1, b.manifest + 7) && strstr(p1, ".erofs"), "%s", p1);
	cr_assert_eq(stat(p1, &s1), 0);
	cr_assert_eq(s1.st_mode & 0222, 0, "the disk is writable");
	cr_assert_eq(img_vm_disk(store_dir, "disk:1", &p2, &err), 0, "%s", err.msg);
	cr_assert_str_eq(p1, p2);
	cr_assert_eq(stat(p2, &s2), 0);
	cr_assert(s1.st_ino == s2.st_ino && s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec,
		  "the disk was built again");
	/* erofs' superblock magic at 1024, little-endian 0xE0F5E1E2 */
	int fd = open(p1, O_RDONLY);
	cr_assert_eq(pread(fd, magic, 4, 1024), 4);
	close(fd);
	cr_assert(magic[0] == 0xe2 && magic[1] == 0xe1 && magic[2] == 0xf5 && magic[3] == 0xe0);
	if (have("fsck.erofs")) {
		snprintf(cmd, sizeof(cmd), "fsck.erofs %s >/dev/null 2>&1", p1);
		cr_assert_eq(system(cmd), 0, "fsck.erofs refused the disk");
	}
	reopen();
	cr_assert_eq(img_remove(&st, "disk:1", &err), 0, "%s", err.msg);
	cr_assert(!exists(p1), "the disk outlived its image");
	free(p1);
	free(p2);
}

Test(image_rootfs, vm_disk_without_mkfs_is_a_clear_error)
{
	struct built b;
	struct rt_err err = {0};
	char *p = NULL, *saved = strdup(getenv("PATH")), sub[200];

	import_and_close("disk:1", &b);
	setenv("PATH", "/nonexistent", 1);
	int r = img_vm_disk(store_dir, "disk:1", &p, &err);
	setenv("PATH", saved, 1);
	free(saved);
	cr_assert_eq(r, -ENOENT, "%s", err.msg);
	cr_assert(strstr(err.msg, "mkfs.erofs") && strstr(err.msg, "disk:1"), "%s", err.msg);
	cr_assert_null(p);
	snprintf(sub, sizeof(sub), "%s/disks", store_dir);
	DIR *d = opendir(sub);
	cr_assert_not_null(d);
	for (struct dirent *de; (de = readdir(d));)
		cr_assert(de->d_name[0] == '.', "left: disks/%s", de->d_name);
	closedir(d);
	struct rt_err e2 = {0};
	cr_assert_lt(img_vm_disk(store_dir, "nosuch", &p, &e2), 0);
	cr_assert(strstr(e2.msg, "does not exist"), "%s", e2.msg);
	reopen();
}
