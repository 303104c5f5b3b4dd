/* virtio-blk (virtio 1.x section 5.2) over a raw image file.
 *
 * A request is a readable 16-byte header (type, reserved, sector), data
 * (readable for OUT, writable for IN), and one writable status byte at
 * the very end.  Every request is answered, malformed ones with IOERR or
 * UNSUPP; sectors are checked against the capacity before any I/O.  The
 * image is locked (shared when read-only, exclusive when writable) so two
 * VMs never write one disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/virtio_int.h"
#include "runtime/cleanup.h"

#define BLK_F_SEG_MAX   2
#define BLK_F_RO        5
#define BLK_F_FLUSH     9

#define BLK_T_IN        0
#define BLK_T_OUT       1
#define BLK_T_FLUSH     4
#define BLK_T_GET_ID    8

#define BLK_S_OK        0
#define BLK_S_IOERR     1
#define BLK_S_UNSUPP    2

#define BLK_ID_BYTES    20
#define SECTOR          512ull

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vdev_blk {
	int fd;
	bool ro;
	uint64_t capacity;          /* in 512-byte sectors */
	char id[BLK_ID_BYTES];
};

/* capacity, size_max, seg_max, geometry, blk_size: the fields up to what we offer. */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint32_t geometry;
	uint32_t blk_size;
} __attribute__((packed));

static void blk_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vdev_blk *b = dev;
	struct blk_config cfg = {
		.capacity = b->capacity,
		.seg_max = VIRTQ_CHAIN_MAX - 2,   /* the header and status take two */
		.blk_size = SECTOR,
	};

	memcpy(buf, (uint8_t *)&cfg + off, len);
}

/* Transfer len bytes at byte offset off; the iovec array is consumed. */
static int blk_xfer(struct vdev_blk *b, bool write, struct iovec *iov, int n, uint64_t off,
		    size_t len)
{
	while (len) {
		ssize_t r = write ? pwritev(b->fd, iov, n, (off_t)off) :
				    preadv(b->fd, iov, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;   /* an error, or the image shrank under us */
		len -= r;
		off += r;
		while (r > 0 && n > 0) {
			if ((size_t)r >= iov->iov_len) {
				r -= iov->iov_len;
				iov++;
				n--;
			} else {
				iov->iov_base = (uint8_t *)iov->iov_base + r;
				iov->iov_len -= r;
				r = 0;
			}
		}
	}
	return 0;
}

static uint8_t blk_rw(struct vdev_blk *b, bool write, const struct blk_hdr *h,
		      const struct iovec *iov, unsigned n, size_t skip, size_t len)
{
	struct iovec io[VIRTQ_CHAIN_MAX];
	int k;

	if (write && b->ro)
		return BLK_S_IOERR;
	if (len % SECTOR || h->sector > b->capacity || len / SECTOR > b->capacity - h->sector)
		return BLK_S_IOERR;
	k = iov_slice(iov, n, skip, len, io, VIRTQ_CHAIN_MAX);
	if (k < 0)
		return BLK_S_IOERR;
	return blk_xfer(b, write, io, k, h->sector * SECTOR, len) < 0 ? BLK_S_IOERR : BLK_S_OK;
}

/* One request; returns the bytes written into the guest's buffers. */
static uint32_t blk_request(struct vdev_blk *b, const struct virtq_chain *c)
{
	const struct iovec *in = c->iov + c->n_out;
	size_t data_in = c->in_len ? c->in_len - 1 : 0;
	uint32_t written = 0;
	struct blk_hdr h;
	uint8_t status;

	if (c->in_len == 0)
		return 0;   /* no room for a status byte: nothing we can tell it */
	if (iov_to_buf(c->iov, c->n_out, 0, &h, sizeof(h)) < sizeof(h)) {
		status = BLK_S_IOERR;
	} else {
		switch (h.type) {
		case BLK_T_IN:
			status = blk_rw(b, false, &h, in, c->n_in, 0, data_in);
			if (status == BLK_S_OK)
				written = data_in;
			break;
		case BLK_T_OUT:
			status = blk_rw(b, true, &h, c->iov, c->n_out, sizeof(h),
					c->out_len - sizeof(h));
			break;
		case BLK_T_FLUSH:
			status = b->ro || fdatasync(b->fd) == 0 ? BLK_S_OK : BLK_S_IOERR;
			break;
		case BLK_T_GET_ID:
			written = iov_from_buf(in, c->n_in, 0, b->id,
					       data_in < BLK_ID_BYTES ? data_in : BLK_ID_BYTES);
			status = BLK_S_OK;
			break;
		default:
			status = BLK_S_UNSUPP;
			break;
		}
	}
	iov_from_buf(in, c->n_in, c->in_len - 1, &status, 1);
	return written + 1;
}

static void blk_notify(void *dev, struct virtio_mmio *t, uint16_t qi)
{
	struct virtq *q = virtio_mmio_queue(t, qi);
	struct virtq_chain c;
	struct rt_err err;
	bool pushed = false;

	while (virtq_pop(q, &c, &err) == 1) {
		virtq_push(q, c.head, blk_request(dev, &c));
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, qi);
}

static void blk_destroy(void *dev)
{
	struct vdev_blk *b = dev;

	if (b) {
		close(b->fd);
		free(b);
	}
}

/* The two variants differ only in BLK_F_RO. */
#define BLK_OPS(extra_features)                                                      \
	{                                                                            \
		.name = "blk",                                                       \
		.device_id = 2,                                                      \
		.features = (1ull << BLK_F_SEG_MAX) | (1ull << BLK_F_FLUSH) |        \
			    (extra_features),                                        \
		.num_queues = 1,                                                     \
		.queue_max = 256,                                                    \
		.config_size = sizeof(struct blk_config),                            \
		.config_read = blk_config_read,                                      \
		.notify = blk_notify,                                                \
		.destroy = blk_destroy,                                              \
	}

static const struct virtio_dev_ops blk_ops_rw = BLK_OPS(0);
static const struct virtio_dev_ops blk_ops_ro = BLK_OPS(1ull << BLK_F_RO);

static int blk_size(int fd, const char *path, uint64_t *size, struct stat *st,
		    struct rt_err *err)
{
	if (fstat(fd, st) < 0)
		return rt_err_sys(err, errno, "disk image %s", path);
	if (S_ISREG(st->st_mode)) {
		*size = st->st_size;
		return 0;
	}
	if (S_ISBLK(st->st_mode) && ioctl(fd, BLKGETSIZE64, size) == 0)
		return 0;
	return rt_err_set(err, EINVAL, "disk image %s: not a regular file or block device", path);
}

int vdev_blk_new(const char *path, bool readonly, const struct virtio_dev_ops **ops,
		 void **dev, struct rt_err *err)
{
	_cleanup_close_ int fd = -1;
	struct vdev_blk *b;
	struct stat st;
	uint64_t size;
	int r;

	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rt_err_sys(err, errno, "disk image %s", path);
	r = blk_size(fd, path, &size, &st, err);
	if (r < 0)
		return r;
	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return rt_err_sys(err, errno, "disk image %s: in use by another VM", path);
	b = calloc(1, sizeof(*b));
	if (!b)
		return rt_err_sys(err, ENOMEM, "disk image %s", path);
	b->ro = readonly;
	b->capacity = size / SECTOR;
	/* The serial the guest sees (/sys/block/vda/serial): not NUL-terminated
	 * when 20 bytes long, as the spec says. */
	snprintf(b->id, sizeof(b->id), "hull-%llx-%llx", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	b->fd = steal_fd(fd);
	*ops = readonly ? &blk_ops_ro : &blk_ops_rw;
	*dev = b;
	return 0;
}
