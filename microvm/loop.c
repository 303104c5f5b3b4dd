/* The event loop: one epoll set on the VMM's main thread.  Device
 * ioeventfds, host stdin, the signalfd and the vCPUs' stop eventfd all
 * arrive here. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "microvm/vm.h"

#define LOOP_MAX_FDS 160   /* devices' fds and up to 64 vsock clients */

struct loop_entry {
	int fd;
	vm_loop_cb cb;
	void *arg;
};

struct vm_loop {
	int epfd;
	bool quit;
	pthread_mutex_t lock;
	struct loop_entry e[LOOP_MAX_FDS];
};

int vm_loop_new(struct vm_loop **out, struct rt_err *err)
{
	struct vm_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return rt_err_set(err, ENOMEM, "event loop: out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return rt_err_sys(err, errno, "epoll_create1");
	}
	pthread_mutex_init(&l->lock, NULL);
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		l->e[i].fd = -1;
	*out = l;
	return 0;
}

void vm_loop_free(struct vm_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int vm_loop_add(struct vm_loop *l, int fd, uint32_t events, vm_loop_cb cb, void *arg,
		struct rt_err *err)
{
	struct epoll_event ev = { .events = events };
	int slot = -1;

	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < LOOP_MAX_FDS && slot < 0; i++)
		if (l->e[i].fd < 0)
			slot = i;
	if (slot >= 0)
		l->e[slot] = (struct loop_entry){ .fd = fd, .cb = cb, .arg = arg };
	pthread_mutex_unlock(&l->lock);
	if (slot < 0)
		return rt_err_set(err, ENOSPC, "event loop: more than %d fds", LOOP_MAX_FDS);
	ev.data.u32 = (uint32_t)slot;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		l->e[slot].fd = -1;
		return rt_err_sys(err, e, "epoll_ctl add fd %d", fd);
	}
	return 0;
}

static int find(struct vm_loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		if (l->e[i].fd == fd)
			return i;
	return -1;
}

int vm_loop_mod(struct vm_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	int slot;

	pthread_mutex_lock(&l->lock);
	slot = find(l, fd);
	pthread_mutex_unlock(&l->lock);
	if (slot < 0)
		return -ENOENT;
	ev.data.u32 = (uint32_t)slot;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void vm_loop_del(struct vm_loop *l, int fd)
{
	int slot;

	pthread_mutex_lock(&l->lock);
	slot = find(l, fd);
	if (slot >= 0)
		l->e[slot].fd = -1;
	pthread_mutex_unlock(&l->lock);
	if (slot >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void vm_loop_quit(struct vm_loop *l)
{
	l->quit = true;
}

int vm_loop_run(struct vm_loop *l, struct rt_err *err)
{
	struct epoll_event evs[16];

	while (!l->quit) {
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(err, errno, "epoll_wait");
		}
		for (int i = 0; i < n && !l->quit; i++) {
			struct loop_entry e;
			uint32_t slot = evs[i].data.u32;

			if (slot >= LOOP_MAX_FDS)
				continue;
			pthread_mutex_lock(&l->lock);
			e = l->e[slot];
			pthread_mutex_unlock(&l->lock);
			if (e.fd >= 0)
				e.cb(e.arg, evs[i].events);
		}
	}
	return 0;
}
