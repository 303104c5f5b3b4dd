/* libFuzzer target: microvm/virtq.c against arbitrary guest memory.
 * The input becomes the first bytes of a 64 KiB guest RAM holding the rings
 * (descriptor table at 0); the first input byte picks the queue size and
 * event idx.  virtq_pop must never touch memory outside guest RAM (ASan
 * sees that: RAM is exactly its malloc'd size), never loop, and every
 * chain it returns must lie inside RAM and obey its own counts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "microvm/virtio_int.h"
#include "runtime/err.h"

#define RAM (64u << 10)

/* The queues here have no transport behind them (q.t is NULL). */
void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	(void)t;
}

static int check_chain(const struct vm_mem *m, const struct virtq_chain *c, uint16_t size)
{
	uint64_t out = 0, in = 0;

	if (c->head >= size || (unsigned)c->n_out + c->n_in > VIRTQ_CHAIN_MAX)
		return -1;
	for (unsigned i = 0; i < (unsigned)c->n_out + c->n_in; i++) {
		const uint8_t *b = c->iov[i].iov_base;

		if (b < m->base || c->iov[i].iov_len == 0 ||
		    c->iov[i].iov_len > RAM - (uint64_t)(b - m->base))
			return -1;
		*(i < c->n_out ? &out : &in) += c->iov[i].iov_len;
	}
	return out == c->out_len && in == c->in_len ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct virtq_chain c;
	struct vm_mem m = {0};
	struct virtq q = {0};
	struct rt_err err;
	uint16_t qsize;
	bool event_idx;

	if (size < 1)
		return 0;
	if (!ram)
		ram = malloc(RAM);
	qsize = (uint16_t)(1u << (data[0] % 9));          /* 1 .. 256 */
	event_idx = data[0] & 0x80;
	memset(ram, 0, RAM);
	memcpy(ram, data + 1, size - 1 < RAM ? size - 1 : RAM);
	m.base = ram;
	m.size = RAM;
	/* desc at 0, avail and used right after, as a driver would place them. */
	uint64_t avail = VIRTQ_DESC_BYTES(qsize);
	uint64_t used = (avail + VIRTQ_AVAIL_BYTES(qsize) + 3) & ~3ull;
	if (virtq_setup(&q, &m, qsize, 0, avail, used, event_idx, &err) < 0)
		abort();   /* a valid layout must be accepted */
	for (unsigned n = 0;; n++) {
		int r = virtq_pop(&q, &c, &err);

		if (r <= 0)
			break;
		if (n >= qsize || check_chain(&m, &c, qsize) < 0)
			abort();
		virtq_push(&q, c.head, (uint32_t)c.in_len);
		virtq_should_signal(&q);
	}
	return 0;
}
