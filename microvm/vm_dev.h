/* The contract between the VMM core (vm.c, memory, boot, vCPUs, event loop)
 * and the virtio side (virtio-mmio transport, split virtqueues, devices).
 *
 * Threads: vCPU threads call virtio_mmio_read/write for register accesses
 * (KVM_EXIT_MMIO); queue notifications arrive as ioeventfds that the core
 * registers (one per queue, datamatch = queue index, at base + 0x50) and
 * dispatches on the event-loop thread to virtio_mmio_notify().  The
 * transport serialises the two with its own mutex.  Devices do their work
 * on the event-loop thread only.
 *
 * Everything the guest puts in memory is hostile: every address, length and
 * descriptor index goes through vm_mem_ptr() and the queue-size checks. */
#ifndef HULL_VM_DEV_H
#define HULL_VM_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "runtime/err.h"

/* Guest RAM: guest-physical [0, size) mapped at host address base.  (The
 * core keeps RAM below the 32-bit MMIO gap, or splits it; a second range
 * above 4 GiB is described by hi_base/hi_size, zero when unused.) */
struct vm_mem {
	uint8_t *base;
	uint64_t size;
	uint8_t *hi_base;     /* guest-physical 4 GiB .. 4 GiB + hi_size */
	uint64_t hi_size;
};

/* Host pointer for guest-physical [gpa, gpa + len), or NULL when any byte of
 * it lies outside guest RAM (overflow-safe; len 0 is allowed). */
void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len);

/* The event loop (epoll, one thread). */
struct vm_loop;
typedef void (*vm_loop_cb)(void *arg, uint32_t events);
int vm_loop_add(struct vm_loop *l, int fd, uint32_t events, vm_loop_cb cb, void *arg,
		struct rt_err *err);
int vm_loop_mod(struct vm_loop *l, int fd, uint32_t events);
void vm_loop_del(struct vm_loop *l, int fd);

/* A virtio device behind the virtio-mmio (version 2) transport. */
struct virtio_mmio;
struct virtq;

struct virtio_dev_ops {
	const char *name;          /* "console", "blk", "rng", "net" */
	uint32_t device_id;        /* VIRTIO_ID_*: 1 net, 2 blk, 3 console, 4 rng */
	uint64_t features;         /* device features; the transport adds VERSION_1 */
	uint16_t num_queues;
	uint16_t queue_max;        /* largest queue size offered (power of two) */
	uint32_t config_size;
	/* Device config space; off + len <= config_size is checked by the caller. */
	void (*config_read)(void *dev, uint32_t off, void *buf, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const void *buf, uint32_t len);
	/* The guest set DRIVER_OK (queues are live) or reset the device. */
	void (*activate)(void *dev, struct virtio_mmio *t);
	void (*reset)(void *dev);
	/* The guest kicked queue q (event-loop thread). */
	void (*notify)(void *dev, struct virtio_mmio *t, uint16_t q);
	void (*destroy)(void *dev);
};

/* irqfd: an eventfd the core has bound to this device's GSI with
 * KVM_IRQFD; the transport writes it to raise the interrupt. */
int virtio_mmio_new(struct virtio_mmio **out, const struct virtio_dev_ops *ops, void *dev,
		    const struct vm_mem *mem, int irqfd, struct rt_err *err);
void virtio_mmio_free(struct virtio_mmio *t);
/* Register access at offset off (0 .. 0xfff) of the device's 4 KiB window. */
void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, uint32_t len);
/* Queue q was kicked (from its ioeventfd). */
void virtio_mmio_notify(struct virtio_mmio *t, uint16_t q);
/* The queue, or NULL when q is out of range or not ready. */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, uint16_t q);
/* Used buffers were added: set InterruptStatus bit 0 and signal (honours
 * VIRTQ_AVAIL_F_NO_INTERRUPT / used_event where negotiated). */
void virtio_mmio_signal(struct virtio_mmio *t, uint16_t q);
/* A vhost-user backend used buffers and asked for an interrupt (it applied
 * the ring's suppression rules itself): InterruptStatus bit 0 and signal,
 * unconditionally.  Any thread. */
void virtio_mmio_interrupt(struct virtio_mmio *t);
/* Config changed (e.g. console resize): InterruptStatus bit 1. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* One descriptor chain popped from a split virtqueue, already translated
 * to host memory and checked (no loops, indexes < queue size, every buffer
 * inside guest RAM, total length bounded, readable before writable). */
#define VIRTQ_CHAIN_MAX 256
struct virtq_chain {
	uint16_t head;
	uint16_t n_out;            /* device-readable buffers: iov[0 .. n_out) */
	uint16_t n_in;             /* device-writable buffers: iov[n_out .. n_out + n_in) */
	uint64_t out_len, in_len;  /* byte totals */
	struct iovec iov[VIRTQ_CHAIN_MAX];
};
/* 1: a chain was popped; 0: the queue is empty; -EINVAL: the guest wrote
 * something malformed (err says what; the queue is then marked broken and
 * the device sets DEVICE_NEEDS_RESET instead of crashing or spinning). */
int virtq_pop(struct virtq *q, struct virtq_chain *c, struct rt_err *err);
/* Return a chain to the guest with len bytes written. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Give back the chain virtq_pop just returned, unused (the device found
 * nothing to put in it yet); the next pop returns it again. */
void virtq_unpop(struct virtq *q);

/* Devices.  Each returns its ops and an opaque device pointer; after a
 * successful virtio_mmio_new the transport owns the device (virtio_mmio_free
 * calls ops->destroy).
 *
 * Console ports (normal mode, multiport), as the guest sees them:
 * /dev/vport<N>p0 stdout, p1 stderr, p2 stdin (sysfs names "stdout",
 * "stderr", "stdin"); stdin ends with the host closing port 2, which reads
 * as EOF.  Terminal mode: one console port, /dev/hvc0, both ways; the
 * host tty is raw until the device is destroyed (the guest's tty echoes).
 * The console works on its own non-blocking handles on the fds (ttys and
 * pipes reopened, so the caller's stay blocking); the VMM must ignore
 * SIGPIPE. */
struct vdev_console_cfg {
	int in_fd;        /* workload stdin (or the pty); -1 for none */
	int out_fd;       /* workload stdout */
	int err_fd;       /* workload stderr: a second port (multiport) */
	bool terminal;    /* a pty: one port, window size in config */
};
int vdev_console_new(const struct vdev_console_cfg *cfg, struct vm_loop *loop,
		     const struct virtio_dev_ops **ops, void **dev, struct rt_err *err);
/* Terminal mode: the pty's window size changed (SIGWINCH); re-read it and
 * raise a config-change interrupt.  Event-loop thread. */
void vdev_console_winch(void *dev);
int vdev_blk_new(const char *path, bool readonly, const struct virtio_dev_ops **ops,
		 void **dev, struct rt_err *err);
int vdev_rng_new(const struct virtio_dev_ops **ops, void **dev, struct rt_err *err);
/* virtio-net over a tap opened with IFF_TAP|IFF_NO_PI (plain Ethernet
 * frames, one per read/write; a SOCK_DGRAM socket behaves the same for
 * tests).  The device works on its own duplicate of tap_fd. */
struct vdev_net_cfg {
	int tap_fd;
	uint8_t mac[6];   /* unicast; the guest's eth0 address */
};
struct vdev_net_stats {
	uint64_t rx_frames, rx_bad_chains, rx_errors, tx_frames, tx_dropped;
};
int vdev_net_new(const struct vdev_net_cfg *cfg, struct vm_loop *loop,
		 const struct virtio_dev_ops **ops, void **dev, struct rt_err *err);
void vdev_net_stats(void *dev, struct vdev_net_stats *out);
/* virtio-vsock (dev_vsock.c): stream sockets to the guest, reached from
 * the host through listen_fd, a listening AF_UNIX stream socket, with
 * Firecracker's hybrid-vsock handshake: the client writes "CONNECT
 * <port>\n", reads "OK <hostport>\n", then talks to guest port <port>.
 * The device works on its own duplicate of listen_fd. */
struct vdev_vsock_cfg {
	int listen_fd;
	uint64_t guest_cid;   /* 3 for hull's guests */
};
struct vdev_vsock_stats {
	uint64_t accepted, refused, bad_connect, connected, refused_by_guest;
	uint64_t rx_pkts, rx_bytes, rx_bad_chains, rst_sent;   /* to the guest */
	uint64_t tx_pkts, tx_bytes, tx_bad, over_credit;       /* from the guest */
	unsigned conns;                                        /* slots in use now */
};
int vdev_vsock_new(const struct vdev_vsock_cfg *cfg, struct vm_loop *loop,
		   const struct virtio_dev_ops **ops, void **dev, struct rt_err *err);
void vdev_vsock_stats(void *dev, struct vdev_vsock_stats *out);
/* virtio-fs served by a vhost-user backend (virtiofsd) on sock_fd, a
 * connected unix stream socket the device owns from the call on (closed
 * on failure too).  The handshake and the memory table (mem_fd: guest
 * RAM's memfd, mapped as mem describes) happen here; dead(dead_arg, why)
 * is called once if the backend goes away or refuses a request. */
struct vdev_fs_cfg {
	int sock_fd;
	const char *tag;          /* 1..36 bytes: what the guest mounts */
	int mem_fd;
	const struct vm_mem *mem;
	struct vm_loop *loop;     /* NULL: no call/hang-up watching (tests) */
	void (*dead)(void *arg, const char *why);
	void *dead_arg;
};
int vdev_fs_new(const struct vdev_fs_cfg *cfg, const struct virtio_dev_ops **ops, void **dev,
		struct rt_err *err);

#endif
