/* hull's KVM microVM: what a caller hands the VMM.  The VMM boots the guest
 * kernel with an initramfs holding hull's guest init, its config (the
 * workload's process) and, without a disk, the workload's root. */
#ifndef HULL_VMM_H
#define HULL_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "runtime/err.h"

struct vmm_config {
	int kvm_fd;               /* an open /dev/kvm */
	int kernel_fd;            /* bzImage or ELF vmlinux */
	int initrd_fd;            /* cpio (newc) from vm_initrd_build() */
	uint64_t mem_mib;         /* guest RAM */
	int cpus;                 /* vCPUs */
	int stdin_fd, stdout_fd, stderr_fd;  /* the workload's stdio (virtio console) */
	const char *disk;         /* the root's disk image, or NULL (root in the initramfs) */
	bool disk_rw;             /* attach it read-write (default: read-only, shared) */
	bool terminal;            /* stdin/stdout are a terminal: one console port (hvc0) */
	bool debug;               /* kernel log on stderr */
	bool boot_time;           /* log time from VMM start to guest init */
	struct timespec t0;       /* VMM start (CLOCK_MONOTONIC), or zero: vmm_run's start */
	const char *cmdline_extra;
};

/* Boots the VM and runs it to the end; *status is the workload's status
 * (code, or 128+signal). */
int vmm_run(const struct vmm_config *cfg, int *status, struct rt_err *err);

/* The guest's process: the part of an OCI process the guest init applies. */
struct vm_guest_proc {
	char **args;
	char **env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t n_gids;
	const char *hostname;
	bool readonly_root;
	bool terminal;
};

/* Builds the initramfs into a sealed memfd: /init (hull's guest init),
 * /hull/config (proc), and rootfs_dir's tree under /rootfs. */
int vm_initrd_build(const struct vm_guest_proc *proc, const char *rootfs_dir, int *out_fd,
		    struct rt_err *err);

/* The VMM's command line (hull vmm, hull-vmm): its status, or -1 with err. */
int vmm_cli(int argc, char **argv, struct rt_err *err);
#define VMM_USAGE "[--kernel FILE] [--mem MIB] [--cpus N] [--rootfs DIR] [--readonly] " \
	"[--disk IMAGE [--disk-rw]] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--hostname NAME] [--boot-time] " \
	"[--terminal] [--debug] [--cmdline ARGS] -- CMD [ARG...]"
/* Drops every capability (the seccomp filter comes after setup). */
int vmm_jail(struct rt_err *err);

/* Default guest kernel (make guest-kernel). */
#define VMM_DEFAULT_KERNEL "/var/cache/hull/kernel/vmlinux"
/* Guest RAM a VMM needs beyond itself, and its own overhead, in MiB. */
#define VMM_MIN_MEM_MIB 64
#define VMM_OVERHEAD_MIB 32

#endif
