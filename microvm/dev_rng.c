/* virtio-rng (entropy device, virtio 1.x section 5.4): one request queue
 * whose writable buffers we fill from getrandom().  At most RNG_CHUNK
 * bytes per request, so a guest asking for 256 MiB cannot stall the loop;
 * the used length says how much was filled, as the spec allows. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "microvm/virtio_int.h"

#define RNG_CHUNK 65536

struct vdev_rng {
	int unused;
};

static size_t rng_fill(const struct virtq_chain *c)
{
	size_t done = 0;

	for (unsigned i = c->n_out; i < (unsigned)c->n_out + c->n_in && done < RNG_CHUNK; i++) {
		size_t want = c->iov[i].iov_len, got = 0;

		if (want > RNG_CHUNK - done)
			want = RNG_CHUNK - done;
		while (got < want) {
			ssize_t n = getrandom((char *)c->iov[i].iov_base + got, want - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done + got;
			got += n;
		}
		done += got;
	}
	return done;
}

static void rng_notify(void *dev, struct virtio_mmio *t, uint16_t qi)
{
	struct virtq *q = virtio_mmio_queue(t, qi);
	struct virtq_chain c;
	struct rt_err err;
	bool pushed = false;

	while (virtq_pop(q, &c, &err) == 1) {
		virtq_push(q, c.head, (uint32_t)rng_fill(&c));
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, qi);
}

static void rng_destroy(void *dev)
{
	free(dev);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.device_id = 4,
	.num_queues = 1,
	.queue_max = 256,
	.notify = rng_notify,
	.destroy = rng_destroy,
};

int vdev_rng_new(const struct virtio_dev_ops **ops, void **dev, struct rt_err *err)
{
	struct vdev_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return rt_err_sys(err, ENOMEM, "virtio-rng");
	*ops = &rng_ops;
	*dev = r;
	return 0;
}
