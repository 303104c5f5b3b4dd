/* The virtio-mmio transport, version 2 ("modern", virtio 1.x section 4.2).
 *
 * Register accesses come from vCPU threads, kicks from the event loop; one
 * recursive mutex per device serialises both (devices call back into
 * virtio_mmio_signal while they run under it).  Control registers are
 * 32-bit and aligned: any other access reads as zero and writes nothing.
 * Queue notifications arrive through ioeventfds, so a plain MMIO write to
 * QueueNotify is ignored: devices work on the event-loop thread only. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microvm/virtio_int.h"

struct vmmio_queue {
	struct virtq vq;
	uint16_t num;
	uint64_t desc, avail, used;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct vm_mem *mem;
	int irqfd;
	uint64_t offered;
	uint64_t drv_features;
	uint32_t status;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t irq_status;        /* atomic: read and acked without the lock */
	uint32_t config_gen;
	bool active;
	struct vmmio_queue *q;
};

int virtio_mmio_new(struct virtio_mmio **out, const struct virtio_dev_ops *ops, void *dev,
		    const struct vm_mem *mem, int irqfd, struct rt_err *err)
{
	pthread_mutexattr_t attr;
	struct virtio_mmio *t;

	if (!ops || !mem || ops->num_queues == 0 || ops->num_queues > 64 ||
	    ops->queue_max == 0 || ops->queue_max > VIRTQ_SIZE_MAX ||
	    (ops->queue_max & (ops->queue_max - 1)) || ops->config_size > 0x1000 - VMMIO_CONFIG)
		return rt_err_set(err, EINVAL, "virtio device %s: bad queue or config layout",
				  ops && ops->name ? ops->name : "?");
	t = calloc(1, sizeof(*t));
	if (!t)
		return rt_err_sys(err, ENOMEM, "virtio device %s", ops->name);
	t->q = calloc(ops->num_queues, sizeof(*t->q));
	if (!t->q) {
		free(t);
		return rt_err_sys(err, ENOMEM, "virtio device %s", ops->name);
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&t->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->irqfd = irqfd;
	/* Indirect descriptors are never offered (one less thing to check). */
	t->offered = (ops->features & ~(1ull << VIRTIO_F_INDIRECT_DESC)) |
		     (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX);
	for (unsigned i = 0; i < ops->num_queues; i++)
		t->q[i].vq.t = t;
	*out = t;
	return 0;
}

void virtio_mmio_free(struct virtio_mmio *t)
{
	if (!t)
		return;
	if (t->ops->destroy)
		t->ops->destroy(t->dev);
	pthread_mutex_destroy(&t->lock);
	free(t->q);
	free(t);
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

uint64_t virtio_mmio_features(struct virtio_mmio *t)
{
	return t->drv_features;
}

static void raise_irq(struct virtio_mmio *t, uint32_t bit)
{
	uint64_t one = 1;

	__atomic_fetch_or(&t->irq_status, bit, __ATOMIC_SEQ_CST);
	if (t->irqfd >= 0 && write(t->irqfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the interrupt is pending anyway. */
	}
}

static struct vmmio_queue *sel_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->num_queues ? &t->q[t->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct vmmio_queue *q = sel_queue(t);

	switch (off) {
	case VMMIO_MAGIC: return VMMIO_MAGIC_VALUE;
	case VMMIO_VERSION: return 2;
	case VMMIO_DEVICE_ID: return t->ops->device_id;
	case VMMIO_VENDOR_ID: return VMMIO_VENDOR_VALUE;
	case VMMIO_DEV_FEATURES:
		return t->dev_feat_sel < 2 ? (uint32_t)(t->offered >> (32 * t->dev_feat_sel)) : 0;
	case VMMIO_QUEUE_NUM_MAX: return q ? t->ops->queue_max : 0;
	case VMMIO_QUEUE_READY: return q ? q->vq.ready : 0;
	case VMMIO_STATUS: return t->status;
	case VMMIO_CONFIG_GEN: return t->config_gen;
	default: return 0;   /* write-only or unknown */
	}
}

static void do_reset(struct virtio_mmio *t)
{
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		virtq_reset(&t->q[i].vq);
		t->q[i].num = 0;
		t->q[i].desc = t->q[i].avail = t->q[i].used = 0;
	}
	t->status = 0;
	t->drv_features = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	__atomic_store_n(&t->irq_status, 0, __ATOMIC_SEQ_CST);
	t->active = false;
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	t->status |= VIRTIO_S_NEEDS_RESET;
	if (t->status & VIRTIO_S_DRIVER_OK)
		virtio_mmio_config_changed(t);
}

/* The driver only ever adds bits (or writes 0 to reset); FEATURES_OK sticks
 * only for a subset of what we offered that includes VERSION_1 (the driver
 * reads it back), DRIVER_OK only after FEATURES_OK. */
static void status_write(struct virtio_mmio *t, uint32_t v)
{
	uint32_t old = t->status & ~VIRTIO_S_NEEDS_RESET;
	uint32_t added;

	if (v == 0) {
		do_reset(t);
		return;
	}
	v &= ~VIRTIO_S_NEEDS_RESET;
	if (old & ~v)
		return;
	added = v & ~old;
	if ((added & VIRTIO_S_FEATURES_OK) &&
	    ((t->drv_features & ~t->offered) ||
	     !(t->drv_features & (1ull << VIRTIO_F_VERSION_1)) ||
	     !(v & VIRTIO_S_DRIVER)))
		v &= ~VIRTIO_S_FEATURES_OK;
	if ((added & VIRTIO_S_DRIVER_OK) && !(v & VIRTIO_S_FEATURES_OK))
		v &= ~VIRTIO_S_DRIVER_OK;
	t->status = v | (t->status & VIRTIO_S_NEEDS_RESET);
	if ((v & VIRTIO_S_DRIVER_OK) && !(v & VIRTIO_S_FAILED) && !t->active) {
		t->active = true;
		if (t->ops->activate)
			t->ops->activate(t->dev, t);
	}
}

static void queue_ready_write(struct virtio_mmio *t, struct vmmio_queue *q, uint32_t v)
{
	struct rt_err err = {0};

	if (!v) {
		virtq_reset(&q->vq);
		return;
	}
	if (q->vq.ready || !(t->status & VIRTIO_S_FEATURES_OK))
		return;
	if (q->num > t->ops->queue_max ||
	    virtq_setup(&q->vq, t->mem, q->num, q->desc, q->avail, q->used,
			t->drv_features & (1ull << VIRTIO_F_EVENT_IDX), &err) < 0)
		virtio_mmio_needs_reset(t);
}

static void set_half(uint64_t *p, bool hi, uint32_t v)
{
	if (hi)
		*p = (*p & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*p = (*p & ~0xffffffffull) | v;
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct vmmio_queue *q = sel_queue(t);
	/* Queue layout registers are frozen while the queue is live. */
	bool q_open = q && !q->vq.ready;

	switch (off) {
	case VMMIO_DEV_FEATURES_SEL: t->dev_feat_sel = v; break;
	case VMMIO_DRV_FEATURES_SEL: t->drv_feat_sel = v; break;
	case VMMIO_DRV_FEATURES:
		if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_S_FEATURES_OK))
			set_half(&t->drv_features, t->drv_feat_sel, v);
		break;
	case VMMIO_QUEUE_SEL: t->queue_sel = v; break;
	case VMMIO_QUEUE_NUM: if (q_open) q->num = (uint16_t)(v > 0xffff ? 0 : v); break;
	case VMMIO_QUEUE_READY: if (q) queue_ready_write(t, q, v); break;
	case VMMIO_QUEUE_DESC_LO: if (q_open) set_half(&q->desc, false, v); break;
	case VMMIO_QUEUE_DESC_HI: if (q_open) set_half(&q->desc, true, v); break;
	case VMMIO_QUEUE_AVAIL_LO: if (q_open) set_half(&q->avail, false, v); break;
	case VMMIO_QUEUE_AVAIL_HI: if (q_open) set_half(&q->avail, true, v); break;
	case VMMIO_QUEUE_USED_LO: if (q_open) set_half(&q->used, false, v); break;
	case VMMIO_QUEUE_USED_HI: if (q_open) set_half(&q->used, true, v); break;
	case VMMIO_STATUS: status_write(t, v); break;
	default: break;   /* read-only, QueueNotify (ioeventfd) or unknown */
	}
}

static bool config_access(struct virtio_mmio *t, uint64_t off, uint32_t len)
{
	return off >= VMMIO_CONFIG && (len == 1 || len == 2 || len == 4 || len == 8) &&
	       off - VMMIO_CONFIG + len <= t->ops->config_size;
}

void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, uint32_t len)
{
	uint32_t v;

	if (len <= 8)
		memset(data, 0, len);
	if (off == VMMIO_IRQ_STATUS && len == 4) {
		/* The guest's interrupt handler: never wait behind a device's I/O. */
		v = __atomic_load_n(&t->irq_status, __ATOMIC_SEQ_CST);
		memcpy(data, &v, 4);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (config_access(t, off, len)) {
		if (t->ops->config_read)
			t->ops->config_read(t->dev, off - VMMIO_CONFIG, data, len);
	} else if (off < VMMIO_CONFIG && len == 4 && !(off & 3)) {
		v = reg_read(t, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, uint32_t len)
{
	uint32_t v;

	if (off == VMMIO_IRQ_ACK && len == 4) {
		memcpy(&v, data, 4);
		__atomic_fetch_and(&t->irq_status, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (config_access(t, off, len)) {
		if (t->ops->config_write)
			t->ops->config_write(t->dev, off - VMMIO_CONFIG, data, len);
	} else if (off < VMMIO_CONFIG && len == 4 && !(off & 3)) {
		memcpy(&v, data, 4);
		reg_write(t, off, v);
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_notify(struct virtio_mmio *t, uint16_t q)
{
	pthread_mutex_lock(&t->lock);
	if (t->active && !(t->status & VIRTIO_S_NEEDS_RESET) && q < t->ops->num_queues &&
	    t->q[q].vq.ready && !t->q[q].vq.broken && t->ops->notify)
		t->ops->notify(t->dev, t, q);
	pthread_mutex_unlock(&t->lock);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, uint16_t q)
{
	if (q >= t->ops->num_queues || !t->q[q].vq.ready)
		return NULL;
	return &t->q[q].vq;
}

void virtio_mmio_signal(struct virtio_mmio *t, uint16_t q)
{
	pthread_mutex_lock(&t->lock);
	if (q < t->ops->num_queues && virtq_should_signal(&t->q[q].vq))
		raise_irq(t, VIRTIO_IRQ_VRING);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_interrupt(struct virtio_mmio *t)
{
	raise_irq(t, VIRTIO_IRQ_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	t->config_gen++;
	if (t->status & VIRTIO_S_DRIVER_OK)
		raise_irq(t, VIRTIO_IRQ_CONFIG);
	pthread_mutex_unlock(&t->lock);
}
