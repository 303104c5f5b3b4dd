/* Test doubles: see vm_doubles.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "tests/unit/vm_doubles.h"

#define HI_START (1ull << 32)

void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < HI_START) {
		if (gpa > m->size || len > m->size - gpa)
			return NULL;
		return m->base + gpa;
	}
	gpa -= HI_START;
	if (!m->hi_base || gpa > m->hi_size || len > m->hi_size - gpa)
		return NULL;
	return m->hi_base + gpa;
}

struct vm_mem *tmem_new(uint64_t size)
{
	struct vm_mem *m = calloc(1, sizeof(*m));

	m->base = aligned_alloc(4096, size);
	memset(m->base, 0, size);
	m->size = size;
	return m;
}

void tmem_free(struct vm_mem *m)
{
	if (m) {
		free(m->base);
		free(m);
	}
}

void *tmem_at(struct vm_mem *m, uint64_t gpa)
{
	return m->base + gpa;
}

#define LOOP_MAX 128
struct vm_loop {
	int epfd;
	struct {
		int fd;
		uint32_t events;
		vm_loop_cb cb;
		void *arg;
	} e[LOOP_MAX];
};

struct vm_loop *tloop_new(void)
{
	struct vm_loop *l = calloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < LOOP_MAX; i++)
		l->e[i].fd = -1;
	return l;
}

void tloop_free(struct vm_loop *l)
{
	if (l) {
		close(l->epfd);
		free(l);
	}
}

int vm_loop_add(struct vm_loop *l, int fd, uint32_t events, vm_loop_cb cb, void *arg,
		struct rt_err *err)
{
	for (int i = 0; i < LOOP_MAX; i++) {
		struct epoll_event ev = { .events = events, .data.u32 = i };

		if (l->e[i].fd != -1)
			continue;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return rt_err_sys(err, errno, "epoll add %d", fd);
		l->e[i].fd = fd;
		l->e[i].events = events;
		l->e[i].cb = cb;
		l->e[i].arg = arg;
		return 0;
	}
	return rt_err_set(err, ENOSPC, "loop full");
}

int vm_loop_mod(struct vm_loop *l, int fd, uint32_t events)
{
	for (int i = 0; i < LOOP_MAX; i++) {
		struct epoll_event ev = { .events = events, .data.u32 = i };

		if (l->e[i].fd == fd) {
			l->e[i].events = events;
			return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
		}
	}
	return -ENOENT;
}

void vm_loop_del(struct vm_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX; i++)
		if (l->e[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->e[i].fd = -1;
		}
}

int tloop_run(struct vm_loop *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_MAX];
	int n = epoll_wait(l->epfd, ev, LOOP_MAX, timeout_ms);

	for (int i = 0; i < n; i++) {
		int k = ev[i].data.u32;

		if (l->e[k].fd != -1)
			l->e[k].cb(l->e[k].arg, ev[i].events);
	}
	return n < 0 ? 0 : n;
}

int tloop_events(struct vm_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX; i++)
		if (l->e[i].fd == fd)
			return (int)l->e[i].events;
	return -1;
}

void tq_layout(struct tq *q, struct vm_mem *m, uint16_t size, uint64_t base)
{
	memset(q, 0, sizeof(*q));
	q->m = m;
	q->size = size;
	q->desc = base;
	q->avail = base + VIRTQ_DESC_BYTES(size);
	q->used = (q->avail + VIRTQ_AVAIL_BYTES(size) + 3) & ~3ull;
}

struct virtq_desc *tq_desc(struct tq *q, unsigned i)
{
	return (struct virtq_desc *)tmem_at(q->m, q->desc) + i;
}

uint16_t tq_chain(struct tq *q, unsigned n, const uint64_t *addr, const uint32_t *len,
		  const uint16_t *flags)
{
	uint16_t head = q->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % q->size);
		struct virtq_desc *d = tq_desc(q, idx);

		d->addr = addr[i];
		d->len = len[i];
		d->flags = flags ? flags[i] : 0;
		d->next = 0;
		if (i + 1 < n) {
			d->flags |= VIRTQ_DESC_F_NEXT;
			d->next = (uint16_t)((idx + 1) % q->size);
		}
	}
	q->next_desc = (uint16_t)((head + n) % q->size);
	return head;
}

void tq_set_avail_idx(struct tq *q, uint16_t idx)
{
	uint16_t *a = tmem_at(q->m, q->avail);

	__atomic_store_n(&a[1], idx, __ATOMIC_RELEASE);
}

void tq_publish(struct tq *q, uint16_t head)
{
	uint16_t *a = tmem_at(q->m, q->avail);

	a[2 + q->avail_idx % q->size] = head;
	q->avail_idx++;
	tq_set_avail_idx(q, q->avail_idx);
}

bool tq_used(struct tq *q, uint32_t *id, uint32_t *len)
{
	uint8_t *u = tmem_at(q->m, q->used);
	uint16_t idx = __atomic_load_n((uint16_t *)(u + 2), __ATOMIC_ACQUIRE);
	struct virtq_used_elem e;

	if (idx == q->used_seen)
		return false;
	memcpy(&e, u + 4 + 8 * (q->used_seen % q->size), sizeof(e));
	q->used_seen++;
	if (id)
		*id = e.id;
	if (len)
		*len = e.len;
	return true;
}
