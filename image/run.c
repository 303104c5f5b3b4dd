/* hull run --image: a container straight from a stored image.  In order:
 * check, prepare the shared unpacked image with this container's own
 * upper and work dirs (in a private bundle, a dot-dir under the state
 * root, as hull jail's), write config.json from the image config, mount
 * the overlay in a mount namespace of our own (so that a crash leaves no
 * mount on the host), run the bundle through the same create, start, wait
 * and delete as any other, then unmount and remove the bundle.  With --vm
 * the same container runs the VMM, whose guest boots the image's erofs
 * disk (image/disk.c) with a tmpfs overlay for writes. */
#include "config.h"
#include "image/img_int.h"
#include "microvm/vm_plan.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_check(const struct img_run_opts *o, struct rt_err *err)
{
	if (geteuid() != 0)
		return rt_err_set(err, EPERM, "run --image needs root (it mounts an overlay)");
	if (!o->ref || !*o->ref)
		return rt_err_set(err, EINVAL, "run --image: no image given");
	if (rt_validate_id(o->id, err) < 0)
		return -err->code;
	/* Before anything is unpacked or a disk built for nothing. */
	if (o->vm && access("/dev/kvm", R_OK | W_OK) < 0)
		return rt_err_sys(err, errno, "run --image --vm: /dev/kvm (VM isolation needs KVM)");
	return 0;
}

/* The overlay goes on bundle/rootfs, seen only by this process and the
 * container it starts. */
static int mount_private(const struct img_rootfs *r, const char *rootfs, struct rt_err *err)
{
	if (mkdir(rootfs, 0755) < 0)
		return rt_err_sys(err, errno, "%s", rootfs);
	if (unshare(CLONE_NEWNS) < 0)
		return rt_err_sys(err, errno, "run --image: new mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rt_err_sys(err, errno, "run --image: make / private");
	return img_rootfs_mount(r, rootfs, err);
}

/* Make the private bundle directory and lock it for the whole run.  One
 * that exists unlocked, with no container of that id, was left by a hull
 * that was killed: its overlay went with that hull's mount namespace, so
 * it is removed and made again.  (While the container lives on, its state
 * is there: `hull delete --force ID` first.) */
static int bundle_claim(const char *root, const char *bundle, const char *id, int *lock,
			struct rt_err *err)
{
	_cleanup_free_ char *state = NULL;

	if (asprintf(&state, "%s/%s", root, id) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (access(state, F_OK) == 0)
		return rt_err_set(err, EEXIST, "container \"%s\" already exists", id);
	for (int tries = 0; tries < 2; tries++) {
		if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
			return rt_err_sys(err, errno, "run --image: %s", bundle);
		*lock = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*lock < 0)
			return rt_err_sys(err, errno, "run --image: %s", bundle);
		if (flock(*lock, LOCK_EX | LOCK_NB) < 0) {
			close(*lock);
			*lock = -1;
			return rt_err_set(err, EEXIST, "container \"%s\" already exists", id);
		}
		if (faccessat(*lock, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		    faccessat(*lock, "upper", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		close(*lock);
		*lock = -1;
		img_rm_rf_at(AT_FDCWD, bundle);
	}
	return rt_err_set(err, EEXIST, "run --image: %s: cannot be cleaned", bundle);
}

int img_run(const char *root, const struct img_run_opts *o, int *status, struct rt_err *err)
{
	_cleanup_free_ char *bundle = NULL, *rootfs = NULL, *disk = NULL;
	_cleanup_close_ int lock = -1;
	struct rt_create_opts co = { .root = root, .id = o->id, .systemd_cgroup = o->systemd_cgroup,
				     .vm = o->vm, .kernel = o->kernel };
	struct img_rootfs r = { .hold_fd = -1 };
	int rc;

	if (run_check(o, err) < 0)
		return -err->code;
	if (asprintf(&bundle, "%s/.image-%s", root, o->id) < 0 ||
	    asprintf(&rootfs, "%s/rootfs", bundle) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (rt_mkdir_p(root, 0711, err) < 0)
		return -err->code;
	if (bundle_claim(root, bundle, o->id, &lock, err) < 0)
		return -err->code;
	rc = img_rootfs_prepare(o->store, o->ref, bundle, &r, err);
	if (rc == 0)
		rc = img_spec_write(bundle, false, true, &r.config, r.lower, o->cmd, err);
	/* VM mode: the guest's root is the image's cached erofs disk (built
	 * once per image digest); the overlay below is only the VMM's jail. */
	if (rc == 0 && o->vm)
		rc = img_vm_disk(o->store, o->ref, &disk, err);
	co.vm_disk = disk;
	if (rc == 0 && o->vm)
		vm_plan_locate_vmm();
	if (rc == 0)
		rc = mount_private(&r, rootfs, err);
	if (rc == 0) {
		co.bundle = bundle;
		rc = rt_container_run(&co, status, err);
	}
	/* Unmounted first: removing through the overlay would write whiteouts. */
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		if (rc == 0)
			rc = rt_err_sys(err, errno, "run --image: unmount %s", rootfs);
	} else {
		img_rm_rf_at(AT_FDCWD, bundle);
	}
	img_rootfs_release(&r);
	return rc;
}
