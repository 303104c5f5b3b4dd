/* Internals of the virtio side, shared by the transport, the split
 * virtqueue code, the devices and their unit tests.  Layouts and numbers
 * are those of the virtio 1.x specification (split virtqueues, virtio-mmio
 * version 2); everything is little-endian, as is the only host we run on. */
#ifndef HULL_VIRTIO_INT_H
#define HULL_VIRTIO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/vm_dev.h"

/* virtio-mmio register offsets. */
#define VMMIO_MAGIC           0x000   /* "virt" */
#define VMMIO_VERSION         0x004
#define VMMIO_DEVICE_ID       0x008
#define VMMIO_VENDOR_ID       0x00c
#define VMMIO_DEV_FEATURES    0x010
#define VMMIO_DEV_FEATURES_SEL 0x014
#define VMMIO_DRV_FEATURES    0x020
#define VMMIO_DRV_FEATURES_SEL 0x024
#define VMMIO_QUEUE_SEL       0x030
#define VMMIO_QUEUE_NUM_MAX   0x034
#define VMMIO_QUEUE_NUM       0x038
#define VMMIO_QUEUE_READY     0x044
#define VMMIO_QUEUE_NOTIFY    0x050
#define VMMIO_IRQ_STATUS      0x060
#define VMMIO_IRQ_ACK         0x064
#define VMMIO_STATUS          0x070
#define VMMIO_QUEUE_DESC_LO   0x080
#define VMMIO_QUEUE_DESC_HI   0x084
#define VMMIO_QUEUE_AVAIL_LO  0x090
#define VMMIO_QUEUE_AVAIL_HI  0x094
#define VMMIO_QUEUE_USED_LO   0x0a0
#define VMMIO_QUEUE_USED_HI   0x0a4
#define VMMIO_CONFIG_GEN      0x0fc
#define VMMIO_CONFIG          0x100

#define VMMIO_MAGIC_VALUE     0x74726976u
#define VMMIO_VENDOR_VALUE    0x6c6c7568u   /* "hull" */

/* Device status bits. */
#define VIRTIO_S_ACKNOWLEDGE  1u
#define VIRTIO_S_DRIVER       2u
#define VIRTIO_S_DRIVER_OK    4u
#define VIRTIO_S_FEATURES_OK  8u
#define VIRTIO_S_NEEDS_RESET  64u
#define VIRTIO_S_FAILED       128u

/* InterruptStatus bits. */
#define VIRTIO_IRQ_VRING      1u
#define VIRTIO_IRQ_CONFIG     2u

/* Feature bits the transport and the ring code know. */
#define VIRTIO_F_INDIRECT_DESC 28   /* never offered: indirect tables are refused */
#define VIRTIO_F_EVENT_IDX    29
#define VIRTIO_F_VERSION_1    32

/* Split virtqueue layout. */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Ring sizes in bytes for queue size n (avail/used include the event word). */
#define VIRTQ_DESC_BYTES(n)  (16ull * (n))
#define VIRTQ_AVAIL_BYTES(n) (6ull + 2ull * (n))
#define VIRTQ_USED_BYTES(n)  (6ull + 8ull * (n))

/* Upper bound on the bytes one chain may describe: far above any request
 * Linux makes, far below what would overflow a used length. */
#define VIRTQ_BYTES_MAX      (256ull << 20)
#define VIRTQ_SIZE_MAX       32768

struct virtq {
	const struct vm_mem *mem;
	struct virtio_mmio *t;      /* told when the queue breaks; NULL in tests */
	uint16_t size;
	bool ready;
	bool broken;
	bool event_idx;
	struct virtq_desc *desc;    /* host pointers, checked when the queue went ready */
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;        /* next avail ring slot to consume */
	uint16_t used_idx;          /* next used ring slot to fill */
	uint16_t signalled_used;    /* used_idx at the last interrupt (event idx) */
	bool signalled_valid;
};

/* Check and map the rings: size a power of two in 1..VIRTQ_SIZE_MAX, each
 * ring aligned (16/2/4) and wholly inside guest RAM.  -EINVAL with err. */
int virtq_setup(struct virtq *q, const struct vm_mem *mem, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used, bool event_idx, struct rt_err *err);
void virtq_reset(struct virtq *q);
/* Should the guest be interrupted for what was pushed since the last time? */
bool virtq_should_signal(struct virtq *q);
/* Called by virtq_pop when the guest broke the queue (transport side). */
void virtio_mmio_needs_reset(struct virtio_mmio *t);

/* The transport's lock (recursive): device code running outside notify
 * (fd callbacks on the event loop) takes it before touching queues. */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
/* Negotiated features (valid once FEATURES_OK). */
uint64_t virtio_mmio_features(struct virtio_mmio *t);

/* Copy up to len bytes out of / into an iovec array, starting skip bytes in;
 * returns the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
		    size_t len);
/* Describe bytes [skip, skip + len) of iov in dst (at most dst_max entries);
 * returns the entry count, or -1 if they do not fit. */
int iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
	      struct iovec *dst, unsigned dst_max);

#endif
