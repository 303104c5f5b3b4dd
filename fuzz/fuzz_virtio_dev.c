/* libFuzzer target: the virtio-mmio transport with the blk and rng devices
 * behind it.  Each input starts from a freshly reset, driver-initialised
 * device (queue 0 of 16 entries at 0x0) and then plays the guest: register
 * writes and reads of any offset and width, kicks of any queue, and
 * writes into guest RAM (the rings and buffers).  RAM is exactly its
 * malloc'd size, so ASan reports any access outside it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <unistd.h>

#include "microvm/virtio_int.h"

#define RAM (64u << 10)

struct target {
	struct virtio_mmio *t;
	struct vm_mem m;
};
static struct target T[2];

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_write(t, off, &v, 4);
}

static void setup(void)
{
	const struct virtio_dev_ops *ops;
	struct rt_err err;
	char path[64];
	void *dev;
	int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, 64 * 512) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (int i = 0; i < 2; i++) {
		T[i].m.base = malloc(RAM);
		T[i].m.size = RAM;
		if ((i == 0 ? vdev_blk_new(path, false, &ops, &dev, &err) :
			      vdev_rng_new(&ops, &dev, &err)) < 0 ||
		    virtio_mmio_new(&T[i].t, ops, dev, &T[i].m, -1, &err) < 0)
			abort();
	}
}

static void driver_init(struct virtio_mmio *t, bool event_idx)
{
	wr(t, VMMIO_STATUS, 0);
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	wr(t, VMMIO_DRV_FEATURES_SEL, 0);
	wr(t, VMMIO_DRV_FEATURES, event_idx ? 1u << VIRTIO_F_EVENT_IDX : 0);
	wr(t, VMMIO_DRV_FEATURES_SEL, 1);
	wr(t, VMMIO_DRV_FEATURES, 1);   /* VERSION_1 */
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	wr(t, VMMIO_QUEUE_SEL, 0);
	wr(t, VMMIO_QUEUE_NUM, 16);
	wr(t, VMMIO_QUEUE_DESC_LO, 0);
	wr(t, VMMIO_QUEUE_AVAIL_LO, 0x100);
	wr(t, VMMIO_QUEUE_USED_LO, 0x200);
	wr(t, VMMIO_QUEUE_READY, 1);
	wr(t, VMMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			    VIRTIO_S_DRIVER_OK);
}

static void play(struct target *x, const uint8_t *p, size_t n)
{
	static const uint32_t widths[4] = { 4, 1, 2, 8 };
	uint8_t buf[8];

	for (unsigned ops = 0; n >= 7 && ops < 512; ops++, p += 7, n -= 7) {
		uint16_t off;
		uint32_t v;

		memcpy(&off, p + 1, 2);
		memcpy(&v, p + 3, 4);
		switch (p[0] & 3) {
		case 0:   /* register or config write */
			memcpy(buf, p + 3, 4);
			memcpy(buf + 4, p + 3, 4);
			virtio_mmio_write(x->t, off & 0x1ff, buf, widths[(p[0] >> 2) & 3]);
			break;
		case 1:
			virtio_mmio_read(x->t, off & 0xfff, buf, widths[(p[0] >> 2) & 3]);
			break;
		case 2:
			virtio_mmio_notify(x->t, off & 3);
			break;
		default:  /* guest memory: mostly the rings and the first buffers */
			memcpy(x->m.base + (off % (RAM - 4)), &v, 4);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target *x;

	if (!T[0].t)
		setup();
	if (size < 1)
		return 0;
	x = &T[data[0] & 1];
	memset(x->m.base, 0, RAM);
	driver_init(x->t, data[0] & 2);
	play(x, data + 1, size - 1);
	return 0;
}
