/* virtio-fs (virtio 1.x section 5.11, device id 26) whose queues a
 * vhost-user backend serves: virtiofsd reads the guest's FUSE requests
 * straight from guest RAM (a memfd it maps from the memory table) and
 * answers in the used rings; the VMM never looks inside them.  What stays
 * here: the config space (tag, one request queue), forwarding the guest's
 * kicks (ioeventfd -> notify -> the ring's kick eventfd), and turning the
 * backend's calls into the device's interrupt.  The transport still checks
 * the rings' addresses when a queue goes ready (virtq_setup), so the
 * backend is only ever handed rings inside guest RAM.
 *
 * Queue 0 is hiprio (FORGET, INTERRUPT), queue 1 the one request queue.
 * A backend that dies or misbehaves ends the VM with an error (the
 * guest's FUSE requests would otherwise wait forever). */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/vhost_user.h"
#include "microvm/virtio_int.h"

#define FS_QUEUES   2
#define FS_QSIZE    1024
#define FS_TAG_MAX  36
#define FS_TIMEOUT_MS 20000   /* a backend reply; nested TCG is slow */

struct fs_config {
	char tag[FS_TAG_MAX];
	uint32_t num_request_queues;
} __attribute__((packed));

struct vdev_fs {
	struct virtio_dev_ops ops;       /* per device: the name carries the tag */
	char name[48];
	struct vhu v;
	struct vm_loop *loop;
	struct fs_config cfg;
	struct virtio_mmio *_Atomic t;   /* set at activation, read by the call handler */
	int kick[FS_QUEUES], call[FS_QUEUES];
	bool started[FS_QUEUES];
	bool sock_watched;
	void (*dead)(void *arg, const char *why);
	void *dead_arg;
	atomic_bool failed;
};

static void fs_fail(struct vdev_fs *f, const struct rt_err *err)
{
	char why[RT_ERR_MSG_MAX + 64];
	struct virtio_mmio *t = atomic_load(&f->t);

	if (atomic_exchange(&f->failed, true))
		return;
	snprintf(why, sizeof(why), "virtio-fs %s: %s", f->cfg.tag, err->msg);
	if (t) {
		virtio_mmio_lock(t);
		virtio_mmio_needs_reset(t);
		virtio_mmio_unlock(t);
	}
	if (f->dead)
		f->dead(f->dead_arg, why);
}

static void fs_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vdev_fs *f = dev;

	memcpy(buf, (const uint8_t *)&f->cfg + off, len);
}

/* DRIVER_OK: the guest's features, then each ready ring, to the backend. */
static void fs_activate(void *dev, struct virtio_mmio *t)
{
	struct vdev_fs *f = dev;
	struct rt_err err = {0};
	uint64_t feat = virtio_mmio_features(t);

	atomic_store(&f->t, t);
	if (atomic_load(&f->failed))
		return;
	if (f->v.features & (1ull << VHU_F_PROTOCOL_FEATURES))
		feat |= 1ull << VHU_F_PROTOCOL_FEATURES;
	if (vhu_set_u64(&f->v, VHU_SET_FEATURES, feat, &err) < 0) {
		fs_fail(f, &err);
		return;
	}
	for (uint16_t q = 0; q < FS_QUEUES; q++) {
		struct virtq *vq = virtio_mmio_queue(t, q);
		struct vhu_ring r;

		if (!vq)
			continue;
		r = (struct vhu_ring){ .index = q, .num = vq->size,
				       .desc = (uint64_t)(uintptr_t)vq->desc,
				       .avail = (uint64_t)(uintptr_t)vq->avail,
				       .used = (uint64_t)(uintptr_t)vq->used,
				       .kick_fd = f->kick[q], .call_fd = f->call[q] };
		if (vhu_ring_start(&f->v, &r, &err) < 0) {
			fs_fail(f, &err);
			return;
		}
		f->started[q] = true;
	}
}

/* The guest reset the device: the backend stops every ring it runs. */
static void fs_reset(void *dev)
{
	struct vdev_fs *f = dev;
	struct rt_err err = {0};
	uint32_t base;

	for (uint16_t q = 0; q < FS_QUEUES; q++) {
		if (!f->started[q])
			continue;
		f->started[q] = false;
		if (!atomic_load(&f->failed) && vhu_ring_stop(&f->v, q, &base, &err) < 0)
			fs_fail(f, &err);
	}
}

static void fs_notify(void *dev, struct virtio_mmio *t, uint16_t q)
{
	struct vdev_fs *f = dev;
	uint64_t one = 1;

	(void)t;
	if (q < FS_QUEUES && f->started[q] && write(f->kick[q], &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the backend has a kick pending. */
	}
}

/* The backend used buffers and decided the guest is to be told (it
 * honours used_event itself): interrupt without asking the ring again. */
static void on_call_q(struct vdev_fs *f, int q)
{
	struct virtio_mmio *t = atomic_load(&f->t);
	uint64_t v;

	if (read(f->call[q], &v, sizeof(v)) == sizeof(v) && t)
		virtio_mmio_interrupt(t);
}

static void on_call0(void *arg, uint32_t events) { (void)events; on_call_q(arg, 0); }
static void on_call1(void *arg, uint32_t events) { (void)events; on_call_q(arg, 1); }

static void on_sock(void *arg, uint32_t events)
{
	struct vdev_fs *f = arg;
	struct rt_err err = {0};

	if (!(events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
		return;
	vm_loop_del(f->loop, f->v.fd);
	f->sock_watched = false;
	rt_err_set(&err, EPIPE, "the backend (virtiofsd) closed its connection");
	fs_fail(f, &err);
}

static void fs_destroy(void *dev)
{
	struct vdev_fs *f = dev;

	for (int q = 0; q < FS_QUEUES; q++) {
		if (f->call[q] >= 0) {
			if (f->loop)
				vm_loop_del(f->loop, f->call[q]);
			close(f->call[q]);
		}
		if (f->kick[q] >= 0)
			close(f->kick[q]);
	}
	if (f->sock_watched)
		vm_loop_del(f->loop, f->v.fd);
	if (f->v.fd >= 0)
		close(f->v.fd);
	free(f);
}

/* Guest RAM for the backend: below the MMIO gap, and above 4 GiB as a
 * second region at its offset in the same memfd. */
static int send_mem(struct vdev_fs *f, const struct vdev_fs_cfg *c, struct rt_err *err)
{
	struct vhu_region r[2] = { { .gpa = 0, .size = c->mem->size,
				     .uaddr = (uint64_t)(uintptr_t)c->mem->base } };
	int fds[2] = { c->mem_fd, c->mem_fd };
	unsigned n = 1;

	if (c->mem->hi_size)
		r[n++] = (struct vhu_region){ .gpa = 1ull << 32, .size = c->mem->hi_size,
					      .uaddr = (uint64_t)(uintptr_t)c->mem->hi_base,
					      .mmap_offset = c->mem->size };
	return vhu_set_mem_table(&f->v, r, fds, n, err);
}

static int fs_setup(struct vdev_fs *f, const struct vdev_fs_cfg *c, struct rt_err *err)
{
	static const uint64_t need = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX);
	vm_loop_cb calls[FS_QUEUES] = { on_call0, on_call1 };

	if (vhu_init(&f->v, c->sock_fd, FS_TIMEOUT_MS, err) < 0 || vhu_handshake(&f->v, err) < 0)
		return -err->code;
	/* The transport offers both to the guest: the backend must do them. */
	if ((f->v.features & need) != need)
		return rt_err_set(err, ENOTSUP, "the backend lacks VERSION_1 or EVENT_IDX "
				  "(features %#llx)", (unsigned long long)f->v.features);
	if (send_mem(f, c, err) < 0)
		return -err->code;
	for (int q = 0; q < FS_QUEUES; q++) {
		f->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		f->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->kick[q] < 0 || f->call[q] < 0)
			return rt_err_sys(err, errno, "eventfd");
		if (c->loop && vm_loop_add(c->loop, f->call[q], EPOLLIN, calls[q], f, err) < 0)
			return -err->code;
	}
	if (c->loop) {
		if (vm_loop_add(c->loop, f->v.fd, EPOLLRDHUP, on_sock, f, err) < 0)
			return -err->code;
		f->sock_watched = true;
	}
	return 0;
}

int vdev_fs_new(const struct vdev_fs_cfg *c, const struct virtio_dev_ops **ops, void **dev,
		struct rt_err *err)
{
	struct vdev_fs *f;
	size_t tl = c->tag ? strlen(c->tag) : 0;

	if (tl == 0 || tl > FS_TAG_MAX || !c->mem || c->mem_fd < 0 || c->sock_fd < 0) {
		if (c->sock_fd >= 0)
			close(c->sock_fd);
		return rt_err_set(err, EINVAL, "virtio-fs: a tag of 1 to %d bytes, guest RAM's memfd "
				  "and the backend's socket are needed", FS_TAG_MAX);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(c->sock_fd);
		return rt_err_sys(err, ENOMEM, "virtio-fs");
	}
	for (int q = 0; q < FS_QUEUES; q++)
		f->kick[q] = f->call[q] = -1;
	f->v.fd = -1;
	f->loop = c->loop;
	f->dead = c->dead, f->dead_arg = c->dead_arg;
	memcpy(f->cfg.tag, c->tag, tl);   /* not NUL-terminated at 36 bytes: the spec's form */
	f->cfg.num_request_queues = 1;
	snprintf(f->name, sizeof(f->name), "fs %s", c->tag);
	f->ops = (struct virtio_dev_ops){
		.name = f->name, .device_id = 26, .num_queues = FS_QUEUES, .queue_max = FS_QSIZE,
		.config_size = sizeof(f->cfg), .config_read = fs_config_read,
		.activate = fs_activate, .reset = fs_reset, .notify = fs_notify,
		.destroy = fs_destroy,
	};
	if (fs_setup(f, c, err) < 0) {
		f->v.fd = c->sock_fd;
		fs_destroy(f);
		return rt_err_wrap(err, "virtio-fs %s", c->tag);
	}
	*ops = &f->ops;
	*dev = f;
	return 0;
}
