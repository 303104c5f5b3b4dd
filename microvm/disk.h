/* A guest disk image for a rootfs directory, built once and cached. */
#ifndef HULL_VM_DISK_H
#define HULL_VM_DISK_H

#include "runtime/err.h"

/* Default cache directory; HULL_DISK_CACHE overrides it. */
#define VM_DISK_CACHE_DEFAULT "/var/cache/hull/disks"

/* Path (malloc'd) of a read-only disk image holding rootfs: erofs
 * (mkfs.erofs) when available, else ext4 (mkfs.ext4 -d); HULL_DISK_FORMAT
 * = erofs|ext4 forces one.  Images are cached under the cache directory by
 * a key over the tree's metadata (paths, types, modes, owners, sizes,
 * mtimes, ctimes, inode numbers, device numbers, symlink targets): an
 * unchanged tree reuses its image and copies nothing; any change to a file
 * (content writes change ctime even when mtime is put back) makes a new
 * one.  A copy of the same tree elsewhere gets its own image.  Built into a
 * temporary file and renamed, so a crash never leaves a half image under
 * the final name.  Attach it read-only: the image is shared. */
int vm_disk_for_rootfs(const char *rootfs, char **path_out, struct rt_err *err);

/* The cache key of a tree (64 hex digits + NUL) for format fmt. */
int vm_disk_key(const char *rootfs, const char *fmt, char key[65], struct rt_err *err);

#endif
