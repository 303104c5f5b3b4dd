/* VM disks: an image's unpacked root filesystem turned once into a
 * read-only erofs image, STORE/disks/<manifest hex>.erofs, for the
 * microVM's virtio-blk root (the guest puts a writable overlay on it).
 * Built by mkfs.erofs into a temporary file beside it and renamed, so the
 * disk is complete or absent; removed with the image (rootfs.c's gc). */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int build_disk(const char *mkfs, const char *lower, const char *disk, struct rt_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", disk) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(err, errno, "%s", tmp);
	/* Ownership, modes, times and xattrs come from the tree as unpacked
	 * (no -T, which would give every file one time). */
	const char *const argv[] = { mkfs, "--quiet", tmp, lower, NULL };
	r = img_exec(argv, err);
	if (r < 0)
		rt_err_wrap(err, "mkfs.erofs");
	if (r == 0 && (fchmod(fd, 0444) < 0 || fsync(fd) < 0 || rename(tmp, disk) < 0))
		r = rt_err_sys(err, errno, "%s", disk);
	if (r < 0)
		unlink(tmp);
	return r;
}

int img_vm_disk(const char *store, const char *ref, char **path_out, struct rt_err *err)
{
	_cleanup_free_ char *mkfs = img_find_program("mkfs.erofs");
	_cleanup_free_ char *lower = NULL, *abs = NULL, *disk = NULL;
	char digest[72];
	struct img_store s;
	int r;

	*path_out = NULL;
	if (img_store_open(&s, store ? store : img_store_default(), err) < 0)
		return -err->code;
	r = img_lower_ensure(&s, ref, digest, &lower, err);
	if (r == 0 && !(abs = realpath(s.root, NULL)))
		r = rt_err_sys(err, errno, "image store %s", s.root);
	if (r == 0 && asprintf(&disk, "%s/disks/%s.erofs", abs, img_digest_hex(digest)) < 0)
		r = rt_err_set(err, ENOMEM, "out of memory");
	if (r == 0 && mkdirat(s.fd, "disks", 0755) < 0 && errno != EEXIST)
		r = rt_err_sys(err, errno, "image store %s: disks", s.root);
	if (r == 0 && access(disk, F_OK) < 0) {
		if (!mkfs)
			r = rt_err_set(err, ENOENT, "a VM disk needs mkfs.erofs (erofs-utils), which "
				       "is not installed");
		else
			r = build_disk(mkfs, lower, disk, err);
	}
	img_store_close(&s);
	if (r < 0)
		return rt_err_wrap(err, "image \"%s\": VM disk", ref);
	*path_out = steal_ptr(disk);
	return 0;
}
