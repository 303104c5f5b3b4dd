/* hull's KVM microVM: what a caller hands the VMM.  The VMM boots the guest
 * kernel with an initramfs holding hull's guest init, its config (the
 * workload's process) and, without a disk, the workload's root. */
#ifndef HULL_VMM_H
#define HULL_VMM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "runtime/err.h"

struct rt_rlimit;

/* Host directories a microVM can share (virtio-fs, one virtiofsd each). */
#define VMM_MAX_FS 4

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
	int tap_fd;               /* virtio-net over this tap; -1: no network device */
	uint8_t mac[6];           /* the guest's MAC address */
	int vsock_fd;             /* virtio-vsock behind this listening unix socket; -1: none */
	/* virtio-fs devices: each a connected socket to its virtiofsd
	 * (vm_fs_start) and the tag the guest mounts; the VMM owns the fds. */
	struct vmm_fs { int sock_fd; char tag[16]; } fs[VMM_MAX_FS];
	int n_fs;
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
	bool pid_ns;        /* the workload is a system init: PID 1 of its own pid namespace */
	struct vm_guest_sec {   /* applied before exec, in runc's order */
		const struct rt_rlimit *rlimits;   /* process.rlimits (runtime/spec.h) */
		size_t n_rlimits;
		bool no_new_privs;
		bool has_caps;      /* else the workload keeps root's full set */
		uint64_t bounding, effective, inheritable, permitted, ambient;
	} sec;
	const struct vm_guest_net *net;   /* eth0's addresses, or NULL */
	const struct vm_guest_fs *fs;     /* virtio-fs tags to mount */
	size_t n_fs;
};

/* A virtio-fs share as the guest init mounts it: written to /hull/config
 * as "fs" records "TAG ro|rw DST". */
struct vm_guest_fs {
	char tag[16];
	const char *dst;
	bool ro;
};

/* What the guest init sets on its eth0 (the virtio-net device): written
 * to /hull/config as net.* records; a family with prefix -1 is left out. */
struct vm_guest_net {
	uint8_t mac[6];
	struct in_addr ip4, gw4;
	int prefix4;
	struct in6_addr ip6, gw6;
	int prefix6;
};

/* Builds the initramfs into a sealed memfd: /init (hull's guest init),
 * /hull/config (proc), and rootfs_dir's tree under /rootfs. */
int vm_initrd_build(const struct vm_guest_proc *proc, const char *rootfs_dir, int *out_fd,
		    struct rt_err *err);

/* The VMM's command line (hull vmm, hull-vmm): its status, or -1 with err. */
int vmm_cli(int argc, char **argv, struct rt_err *err);
#define VMM_USAGE "[--kernel FILE] [--mem MIB] [--cpus N] [--rootfs DIR] [--readonly] " \
	"[--disk IMAGE [--disk-rw]] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--hostname NAME] [--boot-time] " \
	"[--terminal] [--debug] [--cmdline ARGS] [--net-tap NAME [--net-mac MAC] " \
	"[--net-ip CIDR]... [--net-gw ADDR]...] [--vsock PATH | --vsock-fd N] [--fs SRC:DST[:ro]]... -- CMD [ARG...]"
/* vmm_net.c: the --net-* flags.  The tap is opened (and made, when it
 * does not exist) in the VMM's network namespace before the jail. */
struct vmm_net_opts {
	const char *tap;          /* --net-tap NAME */
	int tap_fd;               /* --tap-fd N (a container's init passes it) */
	bool has_mac;
	struct vm_guest_net net;
};
void vmm_net_init(struct vmm_net_opts *o);
/* One of --net-tap --tap-fd --net-mac --net-ip --net-gw; -EINVAL naming it. */
int vmm_net_flag(struct vmm_net_opts *o, const char *flag, const char *arg, struct rt_err *err);
/* Checks the flags together, opens the tap: fills cfg->tap_fd and mac and
 * *guest (NULL when there is no network). */
int vmm_net_open(struct vmm_net_opts *o, struct vmm_config *cfg,
		 const struct vm_guest_net **guest, struct rt_err *err);
/* "52:54:00:12:34:56" -> bytes; -1 unless six hex pairs and unicast. */
int vmm_parse_mac(const char *s, uint8_t mac[6]);

/* Drops every capability (the seccomp filter comes after setup). */
int vmm_jail(struct rt_err *err);

/* Default guest kernel (make guest-kernel). */
#define VMM_DEFAULT_KERNEL "/var/cache/hull/kernel/vmlinux"
/* Guest RAM a VMM needs beyond itself, and its own overhead, in MiB. */
#define VMM_MIN_MEM_MIB 64
#define VMM_OVERHEAD_MIB 32

#endif
