/* VM mode of the container path (DESIGN.md section 1): the parent plans the
 * VM (kernel, initramfs, RAM and vCPUs from the limits, the static VMM)
 * before any side effect; the container's init execs the VMM in place of
 * process.args, so the VMM runs in the container's namespaces and cgroup
 * and `state` shows it as the container's pid. */
#ifndef HULL_VM_PLAN_H
#define HULL_VM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/vmm.h"
#include "runtime/err.h"

struct rt_spec;
struct net_plan;
struct net_adopt;

struct vm_plan {
	bool enabled;
	int vmm_fd, kvm_fd, kernel_fd, initrd_fd, disk_fd;
	int vsock_fd;                /* listening at <state dir>/vsock.sock, or -1 */
	uint64_t mem_mib;
	int cpus;
	bool terminal;
	/* Set before vm_plan_build: process.args is a system container's
	 * init (ct --vm), run as PID 1 of a pid namespace of its own in the
	 * guest.  Off for OCI workloads: a PID 1 ignores the signals it has
	 * no handler for, and `kill` must end a plain workload. */
	bool pid_ns;
	bool has_net;                /* a veth plan: virtio-net over a tap */
	struct vm_guest_net net;     /* the guest's MAC and addresses */
	/* The spec's bind mounts of directories, shared over virtio-fs:
	 * checked by vm_plan_build, one virtiofsd each from vm_plan_start_fs. */
	struct vm_plan_fs {
		char *src;               /* real path on the host */
		char *dst;
		bool ro;
		int sock_fd;             /* our end of virtiofsd's socket, or -1 */
	} fs[VMM_MAX_FS];
	int n_fs;
};

/* VM mode: the flag, or the annotation org.hull.isolation=vm. */
int vm_plan_wanted(const struct rt_spec *s, bool flag, bool *out, struct rt_err *err);
/* Opens and builds everything the VMM will need; kernel NULL for the
 * default.  disk: an existing read-only root disk image to attach (an
 * image's cached erofs, image/disk.c); NULL builds one from rootfs
 * (microvm/disk.h).  Errors name the missing piece or the limit that is
 * too small. */
int vm_plan_build(const struct rt_spec *s, const char *rootfs, const char *kernel,
		  const char *disk, struct vm_plan *vp, struct rt_err *err);
void vm_plan_init(struct vm_plan *vp);
/* The container's network plan (a veth on hull0) for the guest: its
 * addresses, gateways and a MAC from its address.  Before vm_plan_build
 * (the initramfs carries them).  A plan without a veth gives no device. */
void vm_plan_net(struct vm_plan *vp, const struct net_plan *np);
/* The same from an engine's interface (netns/vmlink.c), its own MAC. */
void vm_plan_net_adopt(struct vm_plan *vp, const struct net_adopt *a);
/* Find hull-vmm's directory now (beside hull's binary), for a caller that
 * is about to change mount namespace before vm_plan_build. */
void vm_plan_locate_vmm(void);
void vm_plan_clear(struct vm_plan *vp);
/* Starts the virtiofsd of each shared directory (just before the
 * container's init is cloned, which inherits the sockets). */
int vm_plan_start_fs(struct vm_plan *vp, struct rt_err *err);
/* The fds to keep open in the container's init. */
#define VM_PLAN_NFDS (6 + VMM_MAX_FS)
void vm_plan_fds(const struct vm_plan *vp, int fds[VM_PLAN_NFDS]);
/* In the container's init, instead of the workload's exec; tap_fd: the
 * tap the parent made in the container's namespace (net_apply_vm), or -1. */
int vm_plan_exec(const struct vm_plan *vp, int tap_fd, struct rt_err *err);

/* The guest's vsock, reached from the host (hull exec's agent channel).
 * The contract: a unix stream socket at <state dir>/vsock.sock (the state
 * dir is <root>/<id>, root default /run/hull); a client writes "CONNECT
 * <port>\n" and reads "OK <hostport>\n" once a guest program listening on
 * AF_VSOCK port <port> (guest CID 3) accepted, then it is a byte stream
 * both ways; no listener or a bad line: the client is closed. */
#define VM_VSOCK_SOCK "vsock.sock"
/* Makes the listening socket in the container's state dir (create, after
 * the state dir exists: the dir's removal takes it along). */
int vm_plan_vsock(struct vm_plan *vp, int state_dirfd, struct rt_err *err);
/* <root>/<id>/vsock.sock into buf; -ENAMETOOLONG when it does not fit. */
int vm_vsock_path(const char *root, const char *id, char *buf, size_t n);
/* Connects to guest port `port` of container id: the handshake done,
 * returns the stream's fd (O_CLOEXEC, blocking), or -errno with err
 * (ENOENT: not a VM container or not running; ECONNREFUSED: nothing
 * listens on that port in the guest).  timeout_ms bounds the wait for the
 * guest's answer (-1: none). */
int vm_vsock_connect(const char *root, const char *id, uint32_t port, int timeout_ms,
		     struct rt_err *err);

#endif
