/* virtio-vsock, the unix side (see dev_vsock.c for the whole picture):
 * connection slots and their client fds, the CONNECT line, guest bytes
 * out to the client, and the end of a connection.  Runs on the event-loop
 * thread under the transport's lock. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "microvm/virtio_int.h"
#include "microvm/vsock_int.h"

static void conn_cb(void *arg, uint32_t events);

/* ---- connection slots ------------------------------------------------- */

void vsock_conn_free(struct vdev_vsock *v, struct vconn *c)
{
	if (c->events)
		vm_loop_del(v->loop, c->fd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	*c = (struct vconn){ .dev = v, .st = C_FREE, .fd = -1 };
}

/* The client is done with: close it; the slot goes once no RST is owed. */
static void conn_close_fd(struct vdev_vsock *v, struct vconn *c)
{
	if (c->events)
		vm_loop_del(v->loop, c->fd);
	c->events = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (!(c->pend & PEND_RST))
		vsock_conn_free(v, c);
}

/* Abortive end: client closed at once; the guest gets a RST if it knew. */
void vsock_conn_abort(struct vdev_vsock *v, struct vconn *c)
{
	c->st = C_DEAD;
	c->pend = c->req_sent ? PEND_RST : 0;
	c->rx_cnt = c->fwd_cnt;   /* buffered guest data is dropped */
	conn_close_fd(v, c);
}

/* Orderly end once both sides are finished: RST closes the guest's side;
 * data still buffered for the client is written out first. */
static void conn_finish(struct vdev_vsock *v, struct vconn *c)
{
	c->st = C_DEAD;
	c->pend = PEND_RST;
	if (vsock_buffered(c) == 0)
		conn_close_fd(v, c);
	else
		vsock_conn_update(v, c);
}

static bool port_used(const struct vdev_vsock *v, uint32_t port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE && v->c[i].host_port == port)
			return true;
	return false;
}

static uint32_t alloc_port(struct vdev_vsock *v)
{
	do {
		if (++v->next_port < FIRST_HOST_PORT || v->next_port == UINT32_MAX)
			v->next_port = FIRST_HOST_PORT;
	} while (port_used(v, v->next_port));
	return v->next_port;
}

struct vconn *vsock_conn_find(struct vdev_vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->c[i];

		if (c->st >= C_REQ && c->host_port == host_port && c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

/* Events the client fd should be watched for, by the rules at the top. */
static uint32_t conn_want(const struct vdev_vsock *v, const struct vconn *c)
{
	uint32_t ev = 0;

	if (c->fd < 0)
		return 0;
	if (c->st == C_LINE)
		return EPOLLIN;
	if (c->st == C_OPEN && !c->eof_in && !c->g_no_rcv && !v->rx_starved && vsock_peer_credit(c))
		ev |= EPOLLIN;
	if ((c->st == C_OPEN || c->st == C_DEAD) && vsock_buffered(c))
		ev |= EPOLLOUT;
	return ev;
}

/* An fd watched for nothing is taken out of the loop altogether: a level-
 * triggered EPOLLHUP would otherwise wake us while we wait for credit. */
void vsock_conn_update(struct vdev_vsock *v, struct vconn *c)
{
	uint32_t want = conn_want(v, c);
	struct rt_err err;

	if (want == c->events)
		return;
	if (!want)
		vm_loop_del(v->loop, c->fd);
	else if (!c->events && vm_loop_add(v->loop, c->fd, want, conn_cb, c, &err) < 0)
		want = 0, vsock_conn_abort(v, c);    /* the loop is full */
	else if (c->events)
		vm_loop_mod(v->loop, c->fd, want);
	if (c->st != C_FREE)
		c->events = want;
}

void vsock_update_all(struct vdev_vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->c[i].st != C_FREE)
			vsock_conn_update(v, &v->c[i]);
}

/* ---- the client side --------------------------------------------------- */

/* Guest bytes waiting in the ring, out to the client. */
static void drain_to_client(struct vdev_vsock *v, struct vconn *c)
{
	while (vsock_buffered(c)) {
		uint32_t off = c->fwd_cnt % VSOCK_BUF, n = vsock_buffered(c);
		struct iovec io[2] = { { c->buf + off, n } };
		int k = 1;
		ssize_t r;

		if (off + n > VSOCK_BUF) {
			io[0].iov_len = VSOCK_BUF - off;
			io[1] = (struct iovec){ c->buf, n - io[0].iov_len };
			k = 2;
		}
		do
			r = writev(c->fd, io, k);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			vsock_conn_abort(v, c);   /* the client is gone: EPIPE */
			return;
		}
		c->fwd_cnt += (uint32_t)r;
		v->stats.tx_bytes += (uint64_t)r;
	}
}

/* A CREDIT_UPDATE once a quarter of the buffer was consumed unannounced,
 * or as soon as anything was when the guest believes it has little left. */
static void maybe_credit(struct vconn *c)
{
	uint32_t unannounced = c->fwd_cnt - c->fwd_sent;
	uint32_t guest_view = VSOCK_BUF - (c->rx_cnt - c->fwd_sent);

	if (c->st != C_OPEN || c->g_no_send || !unannounced)
		return;
	if (unannounced >= VSOCK_BUF / 4 || guest_view < VSOCK_BUF / 4)
		c->pend |= PEND_CREDIT;
}

/* After progress: shut the client's write side when the guest will send
 * no more, and end the connection when both sides are done. */
void vsock_conn_progress(struct vdev_vsock *v, struct vconn *c)
{
	if (c->st == C_DEAD) {
		if (c->fd >= 0 && !vsock_buffered(c))
			conn_close_fd(v, c);
		return;
	}
	if (c->st != C_OPEN)
		return;
	if (c->g_no_send && !vsock_buffered(c) && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (c->g_no_send && c->g_no_rcv)
		conn_finish(v, c);
	else if (c->g_no_send && c->eof_in && !(c->pend & PEND_SHUTDOWN) && !vsock_buffered(c))
		conn_finish(v, c);
	else
		maybe_credit(c);
}

/* "CONNECT <port>\n": read a byte at a time so that nothing after the
 * line (the client may send data at once) is taken out of the socket. */
static void read_line(struct vdev_vsock *v, struct vconn *c)
{
	char ch;
	ssize_t r;

	for (;;) {
		r = read(c->fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0 || c->line_len >= VSOCK_LINE_MAX - 1)
			break;    /* EOF, error, or a line too long: close */
		c->line[c->line_len++] = ch;
		if (ch != '\n')
			continue;
		c->line[c->line_len] = 0;
		if (vsock_parse_connect(c->line, &c->guest_port) < 0)
			break;
		c->st = C_REQ;
		c->host_port = alloc_port(v);
		c->pend = PEND_REQUEST;
		return;
	}
	v->stats.bad_connect++;
	vsock_conn_abort(v, c);
}

static void conn_io(struct vdev_vsock *v, struct vconn *c, uint32_t events)
{
	if (c->st == C_LINE) {
		read_line(v, c);
		return;
	}
	if (events & EPOLLERR) {
		vsock_conn_abort(v, c);
		return;
	}
	if (events & EPOLLOUT)
		drain_to_client(v, c);
	for (int i = 0; i < RX_BURST && c->st == C_OPEN && (events & (EPOLLIN | EPOLLHUP)) &&
			conn_want(v, c) & EPOLLIN; i++)
		if (!vsock_rx_data(v, c))
			break;
	if (c->st != C_FREE)
		vsock_conn_progress(v, c);
}

/* Every entry point ends here: owed packets out, watches recomputed. */
static void conn_cb(void *arg, uint32_t events)
{
	struct vconn *c = arg;
	struct vdev_vsock *v = c->dev;

	virtio_mmio_lock(v->t);
	if (c->st != C_FREE && c->fd >= 0)
		conn_io(v, c, events);
	vsock_settle(v);
	virtio_mmio_unlock(v->t);
}

static void accept_one(struct vdev_vsock *v, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vconn *c = &v->c[i];

		if (c->st != C_FREE)
			continue;
		*c = (struct vconn){ .dev = v, .st = C_LINE, .fd = fd };
		v->stats.accepted++;
		vsock_conn_update(v, c);
		return;
	}
	v->stats.refused++;   /* all slots taken: the client sees EOF at once */
	close(fd);
}

static void listen_cb(void *arg, uint32_t events)
{
	struct vdev_vsock *v = arg;

	(void)events;
	virtio_mmio_lock(v->t);
	for (int i = 0; i < 8; i++) {
		int fd = accept4(v->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		accept_one(v, fd);
	}
	vsock_settle(v);
	virtio_mmio_unlock(v->t);
}

void vsock_listen_watch(struct vdev_vsock *v, bool on)
{
	struct rt_err err;

	if (v->listening == on || v->lfd < 0)
		return;
	if (on)
		v->listening = vm_loop_add(v->loop, v->lfd, EPOLLIN, listen_cb, v, &err) == 0;
	else
		vm_loop_del(v->loop, v->lfd), v->listening = false;
}

int vsock_parse_connect(const char *line, uint32_t *port)
{
	const char *p = line + 8;
	uint64_t n = 0;

	if (strncmp(line, "CONNECT ", 8) || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -EINVAL;
	}
	if (strcmp(p, "\n"))
		return -EINVAL;
	*port = (uint32_t)n;
	return 0;
}

/* Anything but a listening unix stream socket would never accept, and
 * a readable fd of another kind would wake the loop for ever. */
bool vsock_is_listener(int fd)
{
	int v[3] = { 0 };
	socklen_t l = sizeof(int);
	const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN };

	for (int i = 0; i < 3; i++, l = sizeof(int))
		if (getsockopt(fd, SOL_SOCKET, opt[i], &v[i], &l) < 0)
			return false;
	return v[0] == AF_UNIX && v[1] == SOCK_STREAM && v[2] == 1;
}

