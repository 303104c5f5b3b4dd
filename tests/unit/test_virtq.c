/* microvm/virtq.c: split virtqueues fed well-formed and hostile rings.
 * Every malformed case must end in -EINVAL and a broken queue, never a
 * crash, a hang or a spin (the suite runs under a timeout). */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"
#include "tests/unit/vm_doubles.h"

TestSuite(virtq, .timeout = 20);

#define MEM   (1u << 20)
#define RINGS 0x1000
#define DATA  0x40000

static struct vm_mem *mem;
static struct virtq vq;
static struct tq gq;
static struct rt_err err;

/* Guest memory of mem_size with the rings of a size-entry queue at RINGS. */
static void layout(uint64_t mem_size, uint16_t size)
{
	mem = tmem_new(mem_size);
	tq_layout(&gq, mem, size, RINGS);
}

static int try_setup(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		     bool event_idx)
{
	return virtq_setup(&vq, mem, size, desc, avail, used, event_idx, &err);
}

static void setup_with(uint64_t mem_size, uint16_t size, bool event_idx)
{
	layout(mem_size, size);
	cr_assert_eq(try_setup(size, gq.desc, gq.avail, gq.used, event_idx), 0, "%s", err.msg);
}

static void setup_size(uint16_t size)
{
	setup_with(MEM, size, false);
}

static void teardown(void)
{
	tmem_free(mem);
	mem = NULL;
}

static int pop(struct virtq_chain *c)
{
	return virtq_pop(&vq, c, &err);
}

static void expect_broken(const char *why)
{
	struct virtq_chain c;

	cr_assert_eq(pop(&c), -EINVAL, "%s: pop should fail", why);
	cr_assert(vq.broken, "%s: queue marked broken", why);
	cr_assert_eq(pop(&c), -EINVAL, "%s: stays broken, no spin", why);
	cr_assert_str_neq(err.msg, "");
}

Test(virtq, well_formed_chain, .fini = teardown)
{
	uint64_t a[3] = { DATA, DATA + 100, DATA + 0x1000 };
	uint32_t l[3] = { 16, 50, 512 };
	uint16_t f[3] = { 0, 0, VIRTQ_DESC_F_WRITE };
	struct virtq_chain c;
	uint32_t id, len;

	setup_size(16);
	uint16_t head = tq_chain(&gq, 3, a, l, f);
	tq_publish(&gq, head);
	cr_assert_eq(pop(&c), 1);
	cr_assert_eq(c.head, head);
	cr_assert_eq(c.n_out, 2);
	cr_assert_eq(c.n_in, 1);
	cr_assert_eq(c.out_len, 66);
	cr_assert_eq(c.in_len, 512);
	cr_assert_eq(c.iov[0].iov_base, tmem_at(mem, DATA));
	cr_assert_eq(c.iov[2].iov_base, tmem_at(mem, DATA + 0x1000));
	cr_assert_eq(pop(&c), 0, "queue now empty");
	cr_assert_not(tq_used(&gq, NULL, NULL));
	virtq_push(&vq, head, 77);
	cr_assert(tq_used(&gq, &id, &len));
	cr_assert_eq(id, head);
	cr_assert_eq(len, 77);
}

Test(virtq, not_ready_queue_is_empty)
{
	struct virtq q = {0};
	struct virtq_chain c;

	cr_assert_eq(virtq_pop(&q, &c, &err), 0);
	cr_assert_eq(virtq_pop(NULL, &c, &err), 0);
	virtq_push(&q, 0, 0);   /* ignored, no crash */
}

Test(virtq, indexes_wrap_around, .fini = teardown)
{
	uint64_t a = DATA;
	uint32_t l = 8;
	struct virtq_chain c;

	setup_size(4);
	for (unsigned i = 0; i < 70000; i++) {
		uint16_t head = tq_chain(&gq, 1, &a, &l, NULL);

		tq_publish(&gq, head);
		cr_assert_eq(pop(&c), 1, "round %u", i);
		cr_assert_eq(c.head, head);
		virtq_push(&vq, head, i);
		uint32_t id, len;
		cr_assert(tq_used(&gq, &id, &len));
		cr_assert_eq(len, i);
	}
}

Test(virtq, full_queue_is_fine, .fini = teardown)
{
	uint64_t a = DATA;
	uint32_t l = 8;
	struct virtq_chain c;

	setup_size(8);
	for (int i = 0; i < 8; i++)
		tq_publish(&gq, tq_chain(&gq, 1, &a, &l, NULL));
	for (int i = 0; i < 8; i++)
		cr_assert_eq(pop(&c), 1);
	cr_assert_eq(pop(&c), 0);
}

Test(virtq, loop_two_descriptors, .fini = teardown)
{
	setup_size(16);
	*tq_desc(&gq, 0) = (struct virtq_desc){ DATA, 8, VIRTQ_DESC_F_NEXT, 1 };
	*tq_desc(&gq, 1) = (struct virtq_desc){ DATA, 8, VIRTQ_DESC_F_NEXT, 0 };
	tq_publish(&gq, 0);
	expect_broken("loop");
}

/* One hostile descriptor published as a chain's head: each breaks the queue. */
static const struct bad_desc {
	const char *why;
	uint16_t size, head;
	struct virtq_desc d;
} bad_descs[] = {
	{ "self loop of zero-length descriptors", 256, 5, { DATA, 0, VIRTQ_DESC_F_NEXT, 5 } },
	{ "next 0xffff", 16, 0, { DATA, 8, VIRTQ_DESC_F_NEXT, 0xffff } },
	{ "4 GiB buffer", 16, 0, { DATA, 0xffffffffu, 0, 0 } },
	{ "address == size", 16, 0, { MEM, 1, 0, 0 } },
	{ "straddles the end", 16, 0, { MEM - 8, 16, VIRTQ_DESC_F_WRITE, 0 } },
	{ "address + len overflows", 16, 0, { UINT64_MAX - 3, 16, 0, 0 } },
	{ "indirect", 8, 0, { DATA, 32, VIRTQ_DESC_F_INDIRECT, 0 } },
};

Test(virtq, bad_descriptor_breaks_queue)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad_descs); i++) {
		const struct bad_desc *b = &bad_descs[i];

		setup_size(b->size);
		*tq_desc(&gq, b->head) = b->d;
		tq_publish(&gq, b->head);
		expect_broken(b->why);
		teardown();
	}
}

Test(virtq, head_out_of_range, .fini = teardown)
{
	setup_size(16);
	tq_publish(&gq, 16);
	expect_broken("head == size");
}

Test(virtq, total_bytes_bounded)
{
	/* Five 64 MiB buffers over the same memory: each one is inside, the
	 * sum is past VIRTQ_BYTES_MAX. */
	setup_with(65u << 20, 8, false);
	uint64_t a[5] = { 0, 0, 0, 0, 0 };
	uint32_t l[5] = { 64u << 20, 64u << 20, 64u << 20, 64u << 20, 64u << 20 };
	tq_publish(&gq, tq_chain(&gq, 5, a, l, NULL));
	expect_broken("320 MiB chain");
	teardown();
}

Test(virtq, buffer_ending_exactly_at_end_is_fine, .fini = teardown)
{
	struct virtq_chain c;

	setup_size(16);
	*tq_desc(&gq, 0) = (struct virtq_desc){ MEM - 16, 16, VIRTQ_DESC_F_WRITE, 0 };
	tq_publish(&gq, 0);
	cr_assert_eq(pop(&c), 1);
	cr_assert_eq(c.in_len, 16);
}

Test(virtq, high_memory_range)
{
	struct virtq_chain c;
	uint8_t *hi = calloc(1, 4096);

	layout(MEM, 4);
	mem->hi_base = hi;
	mem->hi_size = 4096;
	cr_assert_eq(try_setup(4, gq.desc, gq.avail, gq.used, false), 0);
	*tq_desc(&gq, 0) = (struct virtq_desc){ (1ull << 32) + 4000, 96, VIRTQ_DESC_F_NEXT, 1 };
	*tq_desc(&gq, 1) = (struct virtq_desc){ 100, 7, 0, 0 };
	tq_publish(&gq, 0);
	cr_assert_eq(pop(&c), 1, "first buffer ends at the high range's end");
	cr_assert_eq(c.iov[0].iov_base, hi + 4000);
	cr_assert_eq(c.iov[1].iov_base, mem->base + 100, "second one in low memory");
	cr_assert_eq(c.n_out, 2);
	free(hi);
	teardown();
}

Test(virtq, high_memory_straddle, .fini = teardown)
{
	setup_size(4);
	mem->hi_base = calloc(1, 4096);
	mem->hi_size = 4096;
	*tq_desc(&gq, 0) = (struct virtq_desc){ (1ull << 32) + 4090, 7, 0, 0 };
	tq_publish(&gq, 0);
	expect_broken("straddles the high range's end");
	free(mem->hi_base);
}

Test(virtq, zero_length_descriptors_are_skipped, .fini = teardown)
{
	uint64_t a[3] = { DATA, MEM + 12345, DATA + 64 };
	uint32_t l[3] = { 0, 0, 32 };
	uint16_t f[3] = { 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	struct virtq_chain c;

	setup_size(8);
	tq_publish(&gq, tq_chain(&gq, 3, a, l, f));
	cr_assert_eq(pop(&c), 1);
	cr_assert_eq(c.n_out, 0);
	cr_assert_eq(c.n_in, 1);
	cr_assert_eq(c.in_len, 32);
}

Test(virtq, writable_before_readable, .fini = teardown)
{
	uint64_t a[2] = { DATA, DATA + 64 };
	uint32_t l[2] = { 16, 16 };
	uint16_t f[2] = { VIRTQ_DESC_F_WRITE, 0 };

	setup_size(8);
	tq_publish(&gq, tq_chain(&gq, 2, a, l, f));
	expect_broken("readable after writable");
}

Test(virtq, avail_idx_jump, .fini = teardown)
{
	setup_size(16);
	tq_set_avail_idx(&gq, 17);
	expect_broken("avail idx + 17 on a 16 queue");
}

Test(virtq, avail_idx_backwards, .fini = teardown)
{
	setup_size(16);
	tq_set_avail_idx(&gq, 0xffff);   /* "minus one" is a jump of 65535 */
	expect_broken("avail idx backwards");
}

Test(virtq, too_many_buffers, .fini = teardown)
{
	struct virtq_chain c;
	uint64_t *a = calloc(300, sizeof(*a));
	uint32_t *l = calloc(300, sizeof(*l));

	setup_size(512);
	for (int i = 0; i < 300; i++) {
		a[i] = DATA + i;
		l[i] = 1;
	}
	tq_publish(&gq, tq_chain(&gq, VIRTQ_CHAIN_MAX, a, l, NULL));
	cr_assert_eq(pop(&c), 1, "exactly VIRTQ_CHAIN_MAX buffers is fine");
	tq_publish(&gq, tq_chain(&gq, 300, a, l, NULL));
	expect_broken("300 buffers");
	free(a);
	free(l);
}

Test(virtq, setup_checks_size, .fini = teardown)
{
	layout(MEM, 256);
	for (unsigned i = 0; i < 4; i++) {
		uint16_t bad = (uint16_t[]){ 0, 3, 100, 65535 }[i];

		cr_assert_eq(try_setup(bad, gq.desc, gq.avail, gq.used, false), -EINVAL,
			     "size %u", bad);
		cr_assert_not(vq.ready);
	}
	cr_assert_eq(try_setup(1, gq.desc, gq.avail, gq.used, false), 0);
	cr_assert(vq.ready);
}

Test(virtq, setup_checks_rings, .fini = teardown)
{
	layout(MEM, 256);
	cr_assert_eq(try_setup(256, MEM - 16, gq.avail, gq.used, false), -EINVAL,
		     "descriptor table past the end");
	cr_assert_eq(try_setup(256, gq.desc, MEM - 100, gq.used, false), -EINVAL,
		     "avail ring straddles the end");
	cr_assert_eq(try_setup(256, gq.desc, gq.avail, UINT64_MAX - 3, false), -EINVAL,
		     "used ring wraps");
	cr_assert_eq(try_setup(256, gq.desc + 8, gq.avail, gq.used, false), -EINVAL,
		     "misaligned descriptor table");
	cr_assert_eq(try_setup(256, gq.desc, gq.avail + 1, gq.used, false), -EINVAL,
		     "misaligned avail");
	cr_assert_eq(try_setup(256, gq.desc, gq.avail, gq.used + 2, false), -EINVAL,
		     "misaligned used");
	cr_assert_not(vq.ready);
}

Test(virtq, no_interrupt_flag, .fini = teardown)
{
	uint16_t *flags;

	setup_size(8);
	flags = tmem_at(mem, gq.avail);
	cr_assert(virtq_should_signal(&vq));
	*flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	cr_assert_not(virtq_should_signal(&vq));
}

Test(virtq, event_idx, .fini = teardown)
{
	uint64_t a = DATA;
	uint32_t l = 8;
	struct virtq_chain c;
	uint16_t *used_event, *avail_event;

	setup_with(MEM, 8, true);
	used_event = tmem_at(mem, gq.avail + 4 + 2 * 8);
	avail_event = tmem_at(mem, gq.used + 4 + 8 * 8);
	*used_event = 2;   /* interrupt once the third buffer is used */
	for (int i = 0; i < 4; i++) {
		tq_publish(&gq, tq_chain(&gq, 1, &a, &l, NULL));
		cr_assert_eq(pop(&c), 1);
		cr_assert_eq(*avail_event, i + 1, "device asks for the next kick");
		virtq_push(&vq, c.head, 0);
		bool sig = virtq_should_signal(&vq);
		if (i == 0)
			cr_assert(sig, "first push always signals");
		else if (i == 2)
			cr_assert(sig, "used_event 2 crossed");
		else
			cr_assert_not(sig, "push %d suppressed", i);
	}
}

Test(virtq, random_rings_never_crash, .fini = teardown)
{
	struct virtq_chain c;
	uint8_t *rings;

	setup_size(64);
	rings = tmem_at(mem, RINGS);
	srand(1234);
	for (int round = 0; round < 3000; round++) {
		for (size_t i = 0; i < VIRTQ_DESC_BYTES(64) + VIRTQ_AVAIL_BYTES(64); i++)
			rings[i] = rand();
		/* Keep addresses mostly inside memory so chains get walked. */
		for (int i = 0; i < 64; i++) {
			struct virtq_desc *d = tq_desc(&gq, i);
			if (rand() % 4)
				d->addr %= MEM;
			if (rand() % 4)
				d->len %= 4096;
			if (rand() % 2)
				d->next %= 64;
			d->flags &= rand() % 2 ? 3 : 7;
		}
		int n = 0;
		while (pop(&c) == 1)
			cr_assert(++n <= 64, "at most a queue's worth per index jump");
		virtq_reset(&vq);
		cr_assert_eq(try_setup(64, gq.desc, gq.avail, gq.used, round & 1), 0);
	}
}

Test(virtq, iov_helpers)
{
	char a[4] = "abcd", b[3] = "efg", out[8] = {0};
	struct iovec iov[2] = { { a, 4 }, { b, 3 } }, dst[2];

	cr_assert_eq(iov_to_buf(iov, 2, 2, out, 8), 5);
	cr_assert_str_eq(out, "cdefg");
	cr_assert_eq(iov_from_buf(iov, 2, 3, "XYZ", 3), 3);
	cr_assert_eq(memcmp(a, "abcX", 4), 0);
	cr_assert_eq(memcmp(b, "YZg", 3), 0);
	cr_assert_eq(iov_slice(iov, 2, 3, 3, dst, 2), 2);
	cr_assert_eq(dst[0].iov_base, a + 3);
	cr_assert_eq(dst[0].iov_len, 1);
	cr_assert_eq(dst[1].iov_len, 2);
	cr_assert_eq(iov_slice(iov, 2, 3, 5, dst, 2), -1, "past the end");
	cr_assert_eq(iov_slice(iov, 2, 0, 7, dst, 1), -1, "too many pieces");
}
