/* Host directories shared with a microVM over virtio-fs.  Each one gets
 * its own virtiofsd, started by vm_fs_start and connected to the VMM by
 * a unix socket:
 *
 * - lifetime: virtiofsd ends when its connection does, and the only
 *   holders of our end are hull (until it hands it on) and the VMM (an
 *   exec of the container's init): a VM that ends, a hull killed with -9
 *   at any point of create, an init that dies, all close it, and
 *   virtiofsd exits; nothing else keeps it alive (it is twice forked, in
 *   a session of its own, no child of hull's);
 * - read-only binds are read-only in the host's kernel: virtiofsd runs in
 *   a private mount namespace where SRC is bind-mounted MS_RDONLY
 *   (recursively), whatever the guest mounts it with. */
#ifndef HULL_VM_FS_H
#define HULL_VM_FS_H

#include <stdbool.h>

#include "runtime/err.h"

#define VM_FS_VIRTIOFSD "/usr/lib/qemu/virtiofsd"

/* The backend's path: $HULL_VIRTIOFSD, else VM_FS_VIRTIOFSD. */
const char *vm_fs_virtiofsd(void);
/* The guest side: absolute, no "." or "..", not "/". */
int vm_fs_check_dst(const char *dst, struct rt_err *err);
/* Before any side effect: src an existing directory (its real path in
 * *real, unless real is NULL), dst valid, virtiofsd installed. */
int vm_fs_check(const char *src, const char *dst, char **real, struct rt_err *err);
/* Starts virtiofsd for src (a real path from vm_fs_check); *sock: our
 * connected end, for the VMM's --fs-fd.  verbose: virtiofsd's stderr is
 * ours, else /dev/null (an engine reading hull's stderr to its end must
 * not wait for virtiofsd's). */
int vm_fs_start(const char *src, bool ro, bool verbose, int *sock, struct rt_err *err);

#endif
