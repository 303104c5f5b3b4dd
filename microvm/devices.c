/* The VM's virtio-mmio devices: console, rng, (with a disk) blk, (with a
 * tap) net and (with a listening socket) vsock, each in
 * a 4 KiB window in the 32-bit gap with its own GSI.  The guest's queue
 * kicks never reach a vCPU thread: each queue has an ioeventfd (a write of
 * the queue index at window + 0x50) handled on the loop thread; devices
 * interrupt through an irqfd.  The kernel learns of them from the command
 * line (virtio_mmio.device=4K@BASE:IRQ). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "microvm/vsock_int.h"

#define QUEUE_NOTIFY 0x50

static void on_kick(void *arg, uint32_t events)
{
	struct vm_queue_kick *k = arg;
	uint64_t v;

	(void)events;
	if (read(k->fd, &v, sizeof(v)) == sizeof(v))
		virtio_mmio_notify(k->slot->t, k->q);
}

static int add_kicks(struct vm *vm, struct vm_dev_slot *s, uint16_t nq, struct rt_err *err)
{
	if (nq > VM_MAX_QUEUES)
		return rt_err_set(err, EINVAL, "virtio: %u queues", nq);
	for (uint16_t q = 0; q < nq; q++) {
		struct vm_queue_kick *k = &s->kicks[q];
		struct kvm_ioeventfd io = {
			.datamatch = q, .addr = s->base + QUEUE_NOTIFY, .len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		k->slot = s, k->q = q;
		k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->fd < 0)
			return rt_err_sys(err, errno, "eventfd");
		s->n_kicks = q + 1;
		io.fd = k->fd;
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			return rt_err_sys(err, errno, "KVM_IOEVENTFD");
		if (vm_loop_add(vm->loop, k->fd, EPOLLIN, on_kick, k, err) < 0)
			return -err->code;
	}
	return 0;
}

/* Takes ownership of dev (destroyed on failure). */
static int add_device(struct vm *vm, const struct virtio_dev_ops *ops, void *dev, char *cmdline,
		      size_t cmdline_len, struct rt_err *err)
{
	struct vm_dev_slot *s = &vm->devs[vm->ndevs];
	struct kvm_irqfd irq = {0};
	size_t used = strlen(cmdline);

	if (vm->ndevs >= VM_MAX_DEVS) {
		ops->destroy(dev);
		return rt_err_set(err, ENOSPC, "virtio: more than %d devices", VM_MAX_DEVS);
	}
	*s = (struct vm_dev_slot){ .base = VM_VIRTIO_BASE + 0x1000ULL * (uint64_t)vm->ndevs,
				   .irq = VM_VIRTIO_IRQ0 + vm->ndevs };
	s->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irqfd < 0) {
		ops->destroy(dev);
		return rt_err_sys(err, errno, "eventfd");
	}
	vm->ndevs++;
	irq.fd = (uint32_t)s->irqfd;
	irq.gsi = (uint32_t)s->irq;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq) < 0) {
		ops->destroy(dev);
		return rt_err_sys(err, errno, "KVM_IRQFD");
	}
	if (virtio_mmio_new(&s->t, ops, dev, &vm->mem, s->irqfd, err) < 0) {
		ops->destroy(dev);
		return rt_err_wrap(err, "virtio %s", ops->name);
	}
	if (add_kicks(vm, s, ops->num_queues, err) < 0)
		return rt_err_wrap(err, "virtio %s", ops->name);
	if (snprintf(cmdline + used, cmdline_len - used, " virtio_mmio.device=4K@0x%llx:%d",
		     (unsigned long long)s->base, s->irq) >= (int)(cmdline_len - used))
		return rt_err_set(err, E2BIG, "kernel command line too long");
	return 0;
}

/* A virtio-fs backend went away: the guest's file requests would wait
 * forever, so the VM ends, saying why. */
static void fs_dead(void *arg, const char *why)
{
	vm_request_stop(arg, -1, why);
}

static int add_fs(struct vm *vm, char *cmdline, size_t cmdline_len, struct rt_err *err)
{
	const struct vmm_config *c = vm->cfg;
	const struct virtio_dev_ops *ops;
	void *dev;

	for (int i = 0; i < c->n_fs; i++) {
		/* the device owns a copy; the caller's goes with the VMM */
		struct vdev_fs_cfg fc = { .sock_fd = fcntl(c->fs[i].sock_fd, F_DUPFD_CLOEXEC, 3),
					  .tag = c->fs[i].tag, .mem_fd = vm->mem_fd,
					  .mem = &vm->mem, .loop = vm->loop, .dead = fs_dead,
					  .dead_arg = vm };

		if (fc.sock_fd < 0)
			return rt_err_sys(err, errno, "virtio-fs %s: socket fd %d", c->fs[i].tag,
					  c->fs[i].sock_fd);
		if (vdev_fs_new(&fc, &ops, &dev, err) < 0 ||
		    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
			return -err->code;
	}
	return 0;
}

int vm_devices_setup(struct vm *vm, char *cmdline, size_t cmdline_len, struct rt_err *err)
{
	const struct vmm_config *c = vm->cfg;
	struct vdev_console_cfg con = { .in_fd = c->stdin_fd, .out_fd = c->stdout_fd,
					.err_fd = c->stderr_fd, .terminal = c->terminal };
	const struct virtio_dev_ops *ops;
	void *dev;

	/* Order fixes the guest's names: the disk is /dev/vda. */
	if (c->disk) {
		if (vdev_blk_new(c->disk, !c->disk_rw, &ops, &dev, err) < 0 ||
		    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
			return -err->code;
	}
	if (vdev_console_new(&con, vm->loop, &ops, &dev, err) < 0 ||
	    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
		return -err->code;
	vm->console = dev;
	if (vdev_rng_new(&ops, &dev, err) < 0 ||
	    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
		return -err->code;
	if (c->tap_fd >= 0) {
		struct vdev_net_cfg net = { .tap_fd = c->tap_fd };

		memcpy(net.mac, c->mac, sizeof(net.mac));
		if (vdev_net_new(&net, vm->loop, &ops, &dev, err) < 0 ||
		    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
			return -err->code;
	}
	if (c->vsock_fd >= 0) {
		struct vdev_vsock_cfg vs = { .listen_fd = c->vsock_fd,
					     .guest_cid = VSOCK_GUEST_CID };

		if (vdev_vsock_new(&vs, vm->loop, &ops, &dev, err) < 0 ||
		    add_device(vm, ops, dev, cmdline, cmdline_len, err) < 0)
			return -err->code;
	}
	return add_fs(vm, cmdline, cmdline_len, err);
}

bool vm_devices_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	for (int i = 0; i < vm->ndevs; i++) {
		struct vm_dev_slot *s = &vm->devs[i];
		uint64_t off = addr - s->base;

		if (addr < s->base || off >= 0x1000 || len > 8 || off + len > 0x1000 || !s->t)
			continue;
		if (is_write)
			virtio_mmio_write(s->t, off, data, len);
		else
			virtio_mmio_read(s->t, off, data, len);
		return true;
	}
	return false;
}

void vm_devices_teardown(struct vm *vm)
{
	for (int i = 0; i < vm->ndevs; i++) {
		struct vm_dev_slot *s = &vm->devs[i];

		for (int q = 0; q < s->n_kicks; q++) {
			if (s->kicks[q].fd >= 0) {
				vm_loop_del(vm->loop, s->kicks[q].fd);
				close(s->kicks[q].fd);
			}
		}
		if (s->t)
			virtio_mmio_free(s->t);
		if (s->irqfd >= 0)
			close(s->irqfd);
	}
	vm->ndevs = 0;
}
