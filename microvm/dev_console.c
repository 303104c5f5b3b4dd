/* virtio-console (virtio 1.x section 5.3): the workload's stdio.
 *
 * Normal mode is multiport (VIRTIO_CONSOLE_F_MULTIPORT) with three generic
 * ports, which Linux shows as /dev/vportNp0..2 (names in sysfs):
 *   port 0 "stdout"  guest -> host out_fd
 *   port 1 "stderr"  guest -> host err_fd (kept apart for the engine)
 *   port 2 "stdin"   host in_fd -> guest; end of input is the host closing
 *                    the port (PORT_OPEN 0), which the guest reads as EOF.
 * Stdin has a port of its own because Linux blocks writes on a port the
 * host has closed.  Terminal mode is one console port (hvc0, no multiport)
 * on a pty, with the window size in config space (VIRTIO_CONSOLE_F_SIZE).
 *
 * Backpressure: a chain the host fd cannot take yet stays ours and the fd
 * is watched for EPOLLOUT; an input fd is watched only while the guest has
 * posted a buffer to fill, so nothing spins.  The fds are our own
 * duplicates, non-blocking (ttys and pipes are reopened so the caller's
 * file description keeps its flags).  The VMM must ignore SIGPIPE. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "microvm/virtio_int.h"

#define CON_F_SIZE       0
#define CON_F_MULTIPORT  1

#define CON_DEVICE_READY 0
#define CON_DEVICE_ADD   1
#define CON_PORT_READY   3
#define CON_PORT_OPEN    6
#define CON_PORT_NAME    7

#define CON_PORTS        3
#define CTRL_RXQ         2   /* control messages host -> guest */
#define CTRL_TXQ         3   /* control messages guest -> host */
#define CTRL_FIFO        32

struct con_ctrl {
	uint32_t id;
	uint16_t event;
	uint16_t value;
} __attribute__((packed));

struct cport {
	struct vdev_console *con;
	uint16_t id;
	const char *name;
	int in_fd, out_fd;          /* ours; -1 for none */
	bool in_watched, out_watched;
	bool guest_open;
	bool in_eof, eof_told;
	bool out_dead;              /* host side gone: output is dropped */
	bool rx_busy, tx_busy;      /* a popped chain waits on the fd */
	size_t tx_done;
	struct virtq_chain rx, tx;
};

struct ctrl_out {
	struct con_ctrl m;
	const char *name;
};

struct vdev_console {
	struct vm_loop *loop;
	struct virtio_mmio *t;      /* set at the first activation, then fixed */
	bool terminal, active;
	unsigned nports;
	uint16_t cols, rows;
	bool raw_set;               /* terminal mode: the host tty's modes to restore */
	struct termios saved;
	struct ctrl_out fifo[CTRL_FIFO];
	unsigned fifo_head, fifo_len;
	struct cport port[CON_PORTS];
};

static uint16_t rxq_of(unsigned p) { return p == 0 ? 0 : 2 + 2 * p; }
static uint16_t txq_of(unsigned p) { return rxq_of(p) + 1; }

static void in_cb(void *arg, uint32_t events);
static void out_cb(void *arg, uint32_t events);

static void watch(struct cport *p, int fd, bool in, bool on)
{
	bool *watched = in ? &p->in_watched : &p->out_watched;
	struct rt_err err;

	/* A fd epoll refuses (a regular file) never says EAGAIN: no watch needed. */
	if (fd < 0 || *watched == on)
		return;
	if (on)
		*watched = vm_loop_add(p->con->loop, fd, in ? EPOLLIN : EPOLLOUT,
				       in ? in_cb : out_cb, p, &err) == 0;
	else {
		vm_loop_del(p->con->loop, fd);
		*watched = false;
	}
}

/* Guest -> host: write what the port's transmit queue holds. */
static void port_tx(struct cport *p)
{
	struct virtq *q = virtio_mmio_queue(p->con->t, txq_of(p->id));
	struct iovec io[VIRTQ_CHAIN_MAX];
	bool pushed = false, blocked = false;
	struct rt_err err;

	while (q) {
		if (!p->tx_busy) {
			if (virtq_pop(q, &p->tx, &err) != 1)
				break;
			p->tx_busy = true;
			p->tx_done = 0;
		}
		if (p->out_fd >= 0 && !p->out_dead && p->tx_done < p->tx.out_len) {
			int k = iov_slice(p->tx.iov, p->tx.n_out, p->tx_done,
					  p->tx.out_len - p->tx_done, io, VIRTQ_CHAIN_MAX);
			ssize_t n = k > 0 ? writev(p->out_fd, io, k) : 0;

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				blocked = true;
				break;
			}
			if (n <= 0)
				p->out_dead = true;   /* EPIPE and the like: drop from now on */
			else
				p->tx_done += n;
			continue;
		}
		virtq_push(q, p->tx.head, 0);
		p->tx_busy = false;
		pushed = true;
	}
	watch(p, p->out_fd, false, blocked);
	if (pushed)
		virtio_mmio_signal(p->con->t, txq_of(p->id));
}

static void ctrl_send(struct vdev_console *c, uint16_t id, uint16_t event, uint16_t value,
		      const char *name)
{
	struct ctrl_out *o;

	if (c->fifo_len == CTRL_FIFO)
		return;   /* only a driver repeating itself fills it */
	o = &c->fifo[(c->fifo_head + c->fifo_len++) % CTRL_FIFO];
	o->m = (struct con_ctrl){ .id = id, .event = event, .value = value };
	o->name = name;
}

/* Host -> guest control messages, as far as the guest gave buffers. */
static void ctrl_flush(struct vdev_console *c)
{
	struct virtq *q = virtio_mmio_queue(c->t, CTRL_RXQ);
	struct virtq_chain ch;
	struct rt_err err;
	bool pushed = false;

	while (q && c->fifo_len && virtq_pop(q, &ch, &err) == 1) {
		struct ctrl_out *o = &c->fifo[c->fifo_head];
		const struct iovec *in = ch.iov + ch.n_out;
		size_t n = iov_from_buf(in, ch.n_in, 0, &o->m, sizeof(o->m));

		if (o->name && n == sizeof(o->m))
			n += iov_from_buf(in, ch.n_in, n, o->name, strlen(o->name) + 1);
		virtq_push(q, ch.head, (uint32_t)n);
		c->fifo_head = (c->fifo_head + 1) % CTRL_FIFO;
		c->fifo_len--;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(c->t, CTRL_RXQ);
}

/* Host -> guest data: fill the guest's receive buffers from in_fd. */
static void port_rx(struct cport *p)
{
	struct vdev_console *c = p->con;
	struct virtq *q = virtio_mmio_queue(c->t, rxq_of(p->id));
	bool pushed = false, waiting = false;
	struct rt_err err;

	while (q && c->active && p->guest_open && p->in_fd >= 0 && !p->in_eof) {
		ssize_t n;

		if (!p->rx_busy) {
			if (virtq_pop(q, &p->rx, &err) != 1)
				break;
			p->rx_busy = true;
		}
		n = p->rx.n_in ? readv(p->in_fd, p->rx.iov + p->rx.n_out, p->rx.n_in) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			waiting = true;
			break;
		}
		if (n > 0 || p->rx.n_in == 0) {
			virtq_push(q, p->rx.head, n > 0 ? (uint32_t)n : 0);
			p->rx_busy = false;
			pushed = true;
			continue;
		}
		p->in_eof = true;   /* 0, or EIO from a pty whose other side closed */
	}
	watch(p, p->in_fd, true, waiting);
	if (pushed)
		virtio_mmio_signal(c->t, rxq_of(p->id));
	if (p->in_eof && !p->eof_told && !c->terminal && p->guest_open) {
		p->eof_told = true;
		ctrl_send(c, p->id, CON_PORT_OPEN, 0, NULL);
		ctrl_flush(c);
	}
}

static void in_cb(void *arg, uint32_t events)
{
	struct cport *p = arg;

	virtio_mmio_lock(p->con->t);
	port_rx(p);
	virtio_mmio_unlock(p->con->t);
}

static void out_cb(void *arg, uint32_t events)
{
	struct cport *p = arg;

	virtio_mmio_lock(p->con->t);
	port_tx(p);
	virtio_mmio_unlock(p->con->t);
}

static void ctrl_handle(struct vdev_console *c, const struct con_ctrl *m)
{
	struct cport *p = m->id < c->nports ? &c->port[m->id] : NULL;

	switch (m->event) {
	case CON_DEVICE_READY:
		if (m->value == 1)
			for (unsigned i = 0; i < c->nports; i++)
				ctrl_send(c, i, CON_DEVICE_ADD, 0, NULL);
		break;
	case CON_PORT_READY:
		if (!p || m->value != 1)
			break;
		ctrl_send(c, p->id, CON_PORT_NAME, 1, p->name);
		/* A stdin port with nothing behind it stays closed: reads see EOF. */
		if (p->in_fd >= 0 || p->out_fd >= 0 || p->id != 2)
			ctrl_send(c, p->id, CON_PORT_OPEN, 1, NULL);
		break;
	case CON_PORT_OPEN:
		if (!p)
			break;
		p->guest_open = m->value != 0;
		if (p->guest_open)
			port_rx(p);
		else
			watch(p, p->in_fd, true, false);
		break;
	default:
		break;
	}
}

static void ctrl_receive(struct vdev_console *c)
{
	struct virtq *q = virtio_mmio_queue(c->t, CTRL_TXQ);
	struct virtq_chain ch;
	struct rt_err err;
	bool pushed = false;

	while (q && virtq_pop(q, &ch, &err) == 1) {
		struct con_ctrl m;

		if (iov_to_buf(ch.iov, ch.n_out, 0, &m, sizeof(m)) == sizeof(m))
			ctrl_handle(c, &m);
		virtq_push(q, ch.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(c->t, CTRL_TXQ);
	ctrl_flush(c);
}

static void con_notify(void *dev, struct virtio_mmio *t, uint16_t qi)
{
	struct vdev_console *c = dev;
	unsigned p;

	if (!c->terminal && qi == CTRL_RXQ) {
		ctrl_flush(c);
		return;
	}
	if (!c->terminal && qi == CTRL_TXQ) {
		ctrl_receive(c);
		return;
	}
	p = qi < 2 ? 0 : (qi - 2u) / 2u;
	if (p >= c->nports)
		return;
	if (qi == rxq_of(p))
		port_rx(&c->port[p]);
	else
		port_tx(&c->port[p]);
}

static void con_activate(void *dev, struct virtio_mmio *t)
{
	struct vdev_console *c = dev;

	c->t = t;
	c->active = true;
	if (c->terminal) {
		/* The console port is open from the start (no control queue).
		 * Linux reads the window size only on a config change (held
		 * back until its probe is done): send one for the initial size. */
		c->port[0].guest_open = true;
		if (c->cols || c->rows)
			virtio_mmio_config_changed(t);
		port_rx(&c->port[0]);
	}
}

static void con_reset(void *dev)
{
	struct vdev_console *c = dev;

	for (unsigned i = 0; i < c->nports; i++) {
		struct cport *p = &c->port[i];

		watch(p, p->in_fd, true, false);
		watch(p, p->out_fd, false, false);
		p->guest_open = p->rx_busy = p->tx_busy = false;
		p->eof_told = false;
	}
	c->fifo_len = c->fifo_head = 0;
	c->active = false;
}

static void con_destroy(void *dev)
{
	struct vdev_console *c = dev;

	if (!c)
		return;
	con_reset(c);
	if (c->raw_set)
		tcsetattr(c->port[0].in_fd, TCSANOW, &c->saved);
	for (unsigned i = 0; i < CON_PORTS; i++) {
		if (c->port[i].in_fd >= 0)
			close(c->port[i].in_fd);
		if (c->port[i].out_fd >= 0)
			close(c->port[i].out_fd);
	}
	free(c);
}

struct con_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

static void con_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vdev_console *c = dev;
	struct con_config cfg = { .cols = c->cols, .rows = c->rows, .max_nr_ports = c->nports };

	memcpy(buf, (uint8_t *)&cfg + off, len);
}

#define CON_OPS(mode, feat, nq)                                                        \
	static const struct virtio_dev_ops con_ops_##mode = {                          \
		.name = "console", .device_id = 3, .features = (feat),                 \
		.num_queues = (nq), .queue_max = 64,                                   \
		.config_size = sizeof(struct con_config),                              \
		.config_read = con_config_read, .activate = con_activate,              \
		.reset = con_reset, .notify = con_notify, .destroy = con_destroy,      \
	}
CON_OPS(multi, 1ull << CON_F_MULTIPORT, 2 * (CON_PORTS + 1));
CON_OPS(term, 1ull << CON_F_SIZE, 2);

void vdev_console_winch(void *dev)
{
	struct vdev_console *c = dev;
	struct winsize ws;
	int fd = c->port[0].in_fd >= 0 ? c->port[0].in_fd : c->port[0].out_fd;

	if (!c->terminal || fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return;
	if (c->t)
		virtio_mmio_lock(c->t);
	c->cols = ws.ws_col;
	c->rows = ws.ws_row;
	if (c->t) {
		virtio_mmio_config_changed(c->t);
		virtio_mmio_unlock(c->t);
	}
}

/* Our own non-blocking handle on a caller's fd.  FIFOs and character
 * devices (ttys) are reopened through /proc so O_NONBLOCK stays off the
 * caller's file description (a shell sharing the terminal would inherit
 * it); anything else, or when /proc is missing, is a duplicate.  A pty
 * master (/dev/ptmx, 5:2) is never reopened: that would make a new pty. */
static int own_fd(int fd, bool wr, int *out, struct rt_err *err)
{
	char path[64];
	struct stat st;
	int nfd = -1, fl;

	*out = -1;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return rt_err_sys(err, errno, "console: fd %d", fd);
	if (S_ISFIFO(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && st.st_rdev != makedev(5, 2))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	}
	if (nfd < 0) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (nfd < 0)
			return rt_err_sys(err, errno, "console: fd %d", fd);
		fl = fcntl(nfd, F_GETFL);
		if (fl < 0 || fcntl(nfd, F_SETFL, fl | O_NONBLOCK) < 0) {
			close(nfd);
			return rt_err_sys(err, errno, "console: fd %d non-blocking", fd);
		}
	}
	*out = nfd;
	return 0;
}

static int con_open_fds(struct vdev_console *c, const struct vdev_console_cfg *cfg,
			struct rt_err *err)
{
	int r;

	if (c->terminal) {
		r = own_fd(cfg->in_fd, false, &c->port[0].in_fd, err);
		if (r == 0)
			r = own_fd(cfg->out_fd, true, &c->port[0].out_fd, err);
		/* The guest's own tty echoes and cooks: the host's must not too. */
		if (r == 0 && c->port[0].in_fd >= 0 && tcgetattr(c->port[0].in_fd, &c->saved) == 0) {
			struct termios raw = c->saved;

			cfmakeraw(&raw);
			c->raw_set = tcsetattr(c->port[0].in_fd, TCSANOW, &raw) == 0;
		}
		return r;
	}
	r = own_fd(cfg->out_fd, true, &c->port[0].out_fd, err);
	if (r == 0)
		r = own_fd(cfg->err_fd, true, &c->port[1].out_fd, err);
	if (r == 0)
		r = own_fd(cfg->in_fd, false, &c->port[2].in_fd, err);
	return r;
}

int vdev_console_new(const struct vdev_console_cfg *cfg, struct vm_loop *loop,
		     const struct virtio_dev_ops **ops, void **dev, struct rt_err *err)
{
	static const char *const names[CON_PORTS] = { "stdout", "stderr", "stdin" };
	struct vdev_console *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return rt_err_sys(err, ENOMEM, "console");
	c->loop = loop;
	c->terminal = cfg->terminal;
	c->nports = c->terminal ? 1 : CON_PORTS;
	for (unsigned i = 0; i < CON_PORTS; i++) {
		c->port[i].con = c;
		c->port[i].id = i;
		c->port[i].name = names[i];
		c->port[i].in_fd = c->port[i].out_fd = -1;
	}
	r = con_open_fds(c, cfg, err);
	if (r < 0) {
		con_destroy(c);
		return r;
	}
	vdev_console_winch(c);
	*ops = c->terminal ? &con_ops_term : &con_ops_multi;
	*dev = c;
	return 0;
}
