/* Split virtqueues (virtio 1.x, section 2.7), device side.
 *
 * The guest owns the rings and may rewrite them at any time, from another
 * vCPU, while we read them.  So: every ring word is loaded once into a
 * local, every descriptor copied once before it is looked at, every index
 * checked against the queue size, every buffer translated with vm_mem_ptr,
 * chains bounded by the queue size (no loops) and by VIRTQ_BYTES_MAX.  Any
 * violation breaks the queue for good: the device stops using it and asks
 * for a reset, instead of guessing. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "microvm/virtio_int.h"

static uint16_t ld16(const uint8_t *p, int order)
{
	return __atomic_load_n((const uint16_t *)p, order);
}

static void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, v, order);
}

/* avail: flags, idx, ring[size], used_event.  used: flags, idx,
 * ring[size], avail_event. */
#define AVAIL_IDX(q)        ((q)->avail + 2)
#define AVAIL_RING(q, i)    ((q)->avail + 4 + 2u * (i))
#define AVAIL_USED_EVENT(q) ((q)->avail + 4 + 2u * (q)->size)
#define USED_IDX(q)         ((q)->used + 2)
#define USED_RING(q, i)     ((q)->used + 4 + 8u * (i))
#define USED_AVAIL_EVENT(q) ((q)->used + 4 + 8u * (q)->size)

int virtq_setup(struct virtq *q, const struct vm_mem *mem, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used, bool event_idx, struct rt_err *err)
{
	void *d, *a, *u;

	virtq_reset(q);
	if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1)))
		return rt_err_set(err, EINVAL, "queue size %u is not a power of two up to %u",
				  size, VIRTQ_SIZE_MAX);
	if ((desc & 15) || (avail & 1) || (used & 3))
		return rt_err_set(err, EINVAL, "misaligned ring (desc %#llx avail %#llx used %#llx)",
				  (unsigned long long)desc, (unsigned long long)avail,
				  (unsigned long long)used);
	d = vm_mem_ptr(mem, desc, VIRTQ_DESC_BYTES(size));
	a = vm_mem_ptr(mem, avail, VIRTQ_AVAIL_BYTES(size));
	u = vm_mem_ptr(mem, used, VIRTQ_USED_BYTES(size));
	if (!d || !a || !u)
		return rt_err_set(err, EINVAL, "%s ring outside guest memory",
				  !d ? "descriptor" : !a ? "available" : "used");
	q->mem = mem;
	q->size = size;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->event_idx = event_idx;
	/* Both sides count from zero after a reset (the driver zeroes its rings). */
	q->ready = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	struct virtio_mmio *t = q->t;

	memset(q, 0, sizeof(*q));
	q->t = t;
}

static int vq_fail(struct virtq *q, struct rt_err *err, const char *what, unsigned a,
		   unsigned b)
{
	q->broken = true;
	if (q->t)
		virtio_mmio_needs_reset(q->t);
	return rt_err_set(err, EINVAL, "malformed virtqueue: %s (%u, %u)", what, a, b);
}

/* Walk one chain from head into c; every check of the file header applies. */
static int vq_walk(struct virtq *q, uint16_t head, struct virtq_chain *c, struct rt_err *err)
{
	uint64_t total = 0;
	unsigned niov = 0;
	uint16_t i = head;

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	for (unsigned count = 0;; count++) {
		struct virtq_desc d;
		void *p;

		if (count >= q->size)
			return vq_fail(q, err, "chain longer than the queue (a loop)", head, count);
		memcpy(&d, &q->desc[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(q, err, "indirect descriptor not negotiated", i, d.flags);
		if (!(d.flags & VIRTQ_DESC_F_WRITE) && c->n_in)
			return vq_fail(q, err, "readable descriptor after a writable one", head, i);
		if (d.len) {
			total += d.len;
			if (total > VIRTQ_BYTES_MAX)
				return vq_fail(q, err, "chain too long in bytes", head, d.len);
			p = vm_mem_ptr(q->mem, d.addr, d.len);
			if (!p)
				return vq_fail(q, err, "buffer outside guest memory", i, d.len);
			if (niov >= VIRTQ_CHAIN_MAX)
				return vq_fail(q, err, "too many buffers in one chain", head, niov);
			c->iov[niov].iov_base = p;
			c->iov[niov].iov_len = d.len;
			niov++;
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				c->n_in++;
				c->in_len += d.len;
			} else {
				c->n_out++;
				c->out_len += d.len;
			}
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= q->size)
			return vq_fail(q, err, "next index out of range", d.next, q->size);
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c, struct rt_err *err)
{
	uint16_t avail_idx, pending, head;

	if (!q || !q->ready)
		return 0;
	if (q->broken)
		return rt_err_set(err, EINVAL, "virtqueue is broken until the device is reset");
	/* Acquire: the ring entries and descriptors are read after the index. */
	avail_idx = ld16(AVAIL_IDX(q), __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0 && q->event_idx) {
		/* Ask to be kicked for the next buffer, then look again: the
		 * driver may have added one before it saw avail_event. */
		st16(USED_AVAIL_EVENT(q), avail_idx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = ld16(AVAIL_IDX(q), __ATOMIC_ACQUIRE);
		pending = (uint16_t)(avail_idx - q->last_avail);
	}
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return vq_fail(q, err, "available index jumped past the queue size", pending,
			       q->size);
	head = ld16(AVAIL_RING(q, q->last_avail & (q->size - 1)), __ATOMIC_RELAXED);
	if (head >= q->size)
		return vq_fail(q, err, "head index out of range", head, q->size);
	if (vq_walk(q, head, c, err) < 0)
		return -EINVAL;
	q->last_avail++;
	if (q->event_idx)
		st16(USED_AVAIL_EVENT(q), q->last_avail, __ATOMIC_RELAXED);
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	if (!q || !q->ready || q->broken)
		return;
	q->last_avail--;
	if (q->event_idx)
		st16(USED_AVAIL_EVENT(q), q->last_avail, __ATOMIC_RELAXED);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem e = { .id = head, .len = len };

	if (!q || !q->ready || q->broken || head >= q->size)
		return;
	memcpy(USED_RING(q, q->used_idx & (q->size - 1)), &e, sizeof(e));
	q->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	st16(USED_IDX(q), q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_signal(struct virtq *q)
{
	uint16_t old, now, ev;
	bool valid;

	if (!q || !q->ready)
		return false;
	/* Our used->idx store must be visible before we read the driver's
	 * suppression fields, or both sides could wait for the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(ld16(q->avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	ev = ld16(AVAIL_USED_EVENT(q), __ATOMIC_RELAXED);
	old = q->signalled_used;
	now = q->used_idx;
	valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!valid)
		return true;
	/* Interrupt when used_event lies in (old, now]. */
	return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

/* Both directions walk the chain the same way; only the memcpy differs. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t skip, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;
		uint8_t *base = iov[i].iov_base;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len - done)
			l = len - done;
		if (to_iov)
			memcpy(base + skip, buf + done, l);
		else
			memcpy(buf + done, base + skip, l);
		done += l;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
		    size_t len)
{
	/* buf is only read on this path */
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, true);
}

int iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len,
	      struct iovec *dst, unsigned dst_max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		if (k >= dst_max)
			return -1;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[k].iov_len = l;
		k++;
		len -= l;
		skip = 0;
	}
	return len ? -1 : (int)k;
}
