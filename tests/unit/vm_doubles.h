/* Test doubles for what the VMM core provides to the virtio side (guest
 * memory over a malloc'd buffer, a one-thread epoll loop), and a tiny
 * "guest driver" that lays out split rings and posts chains. */
#ifndef HULL_VM_DOUBLES_H
#define HULL_VM_DOUBLES_H

#include <stdbool.h>
#include <stdint.h>

#include "microvm/virtio_int.h"

struct vm_mem *tmem_new(uint64_t size);
void tmem_free(struct vm_mem *m);
void *tmem_at(struct vm_mem *m, uint64_t gpa);   /* unchecked: the test's own view */

struct vm_loop *tloop_new(void);
void tloop_free(struct vm_loop *l);
/* One epoll_wait of up to timeout_ms, callbacks dispatched; returns how many. */
int tloop_run(struct vm_loop *l, int timeout_ms);
/* Events fd is registered for, or -1. */
int tloop_events(struct vm_loop *l, int fd);

/* The guest side of one split queue. */
struct tq {
	struct vm_mem *m;
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx;   /* next avail slot the "driver" fills */
	uint16_t next_desc;   /* next free descriptor (round robin) */
	uint16_t used_seen;   /* used entries consumed so far */
};
/* Rings for a queue of size entries at guest address base (16-aligned). */
void tq_layout(struct tq *q, struct vm_mem *m, uint16_t size, uint64_t base);
struct virtq_desc *tq_desc(struct tq *q, unsigned i);
/* Write n linked descriptors (flags get NEXT added except on the last);
 * returns the head index, without publishing it. */
uint16_t tq_chain(struct tq *q, unsigned n, const uint64_t *addr, const uint32_t *len,
		  const uint16_t *flags);
void tq_publish(struct tq *q, uint16_t head);
void tq_set_avail_idx(struct tq *q, uint16_t idx);
/* The next used element, if the device added one. */
bool tq_used(struct tq *q, uint32_t *id, uint32_t *len);
/* As a driver does after FEATURES_OK: queues 0..n-1 of transport t, each
 * of size entries, laid out at base + i * 16 KiB and made ready.  Inline:
 * fuzz_virtq links these doubles without the virtio-mmio transport. */
static inline void tq_attach(struct virtio_mmio *t, struct tq *q, unsigned n,
			     struct vm_mem *m, uint16_t size, uint64_t base)
{
	static const uint64_t regs[] = { VMMIO_QUEUE_NUM, VMMIO_QUEUE_DESC_LO,
					 VMMIO_QUEUE_AVAIL_LO, VMMIO_QUEUE_USED_LO,
					 VMMIO_QUEUE_READY };

	for (unsigned i = 0; i < n; i++) {
		uint32_t v[] = { size, 0, 0, 0, 1 };

		tq_layout(&q[i], m, size, base + i * 0x4000ull);
		v[1] = (uint32_t)q[i].desc, v[2] = (uint32_t)q[i].avail, v[3] = (uint32_t)q[i].used;
		virtio_mmio_write(t, VMMIO_QUEUE_SEL, &i, 4);
		for (unsigned r = 0; r < 5; r++)
			virtio_mmio_write(t, regs[r], &v[r], 4);
	}
}

#endif
