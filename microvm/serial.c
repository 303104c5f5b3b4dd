/* An 8250/16550A UART, enough for Linux's 8250 driver: the divisor latch,
 * scratch, loopback (the driver's probe checks it), and THRE and RX
 * interrupts on an ISA IRQ.  COM1 carries early debug output and, until
 * the virtio console, the workload's stdio; COM2 is a control channel the
 * VMM uses to hand the guest init host signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "runtime/util.h"

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI 0x01
#define IER_THRI 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04

static void pulse_irq(struct serial *s)
{
	struct kvm_irq_level l = { .irq = (uint32_t)s->irq, .level = 1 };

	/* The MP table declares ISA IRQs edge-triggered: one rising edge per
	 * new interrupt condition. */
	ioctl(s->vm->vm_fd, KVM_IRQ_LINE, &l);
	l.level = 0;
	ioctl(s->vm->vm_fd, KVM_IRQ_LINE, &l);
}

static bool rx_irq(const struct serial *s)
{
	return (s->ier & IER_RDI) && s->rx_len;
}

static bool thr_irq(const struct serial *s)
{
	return (s->ier & IER_THRI) && s->thre_pending;
}

static uint8_t read_iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? 0xc0 : 0;

	if (rx_irq(s))
		return fifo | IIR_RDI;
	if (thr_irq(s)) {
		s->thre_pending = false;   /* reading IIR clears a THRE interrupt */
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NONE;
}

static uint8_t read_msr(const struct serial *s)
{
	if (s->mcr & MCR_LOOP)     /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
		return (uint8_t)(((s->mcr & 1) << 5) | ((s->mcr & 2) << 3) |
				 ((s->mcr & 4) << 4) | ((s->mcr & 8) << 4));
	return 0xb0;               /* DCD, DSR, CTS */
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t b;

	if (!s->rx_len)
		return 0;
	b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % sizeof(s->rx);
	s->rx_len--;
	if (s->in_paused && s->in_fd >= 0 && s->rx_len < sizeof(s->rx) / 2) {
		s->in_paused = false;
		vm_loop_mod(s->vm->loop, s->in_fd, EPOLLIN);
	}
	return b;
}

static void write_reg(struct serial *s, unsigned reg, uint8_t v, bool *irq)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & MCR_LOOP) {
			if (s->rx_len < sizeof(s->rx))
				s->rx[(s->rx_head + s->rx_len++) % sizeof(s->rx)] = v;
			*irq = true;
		} else {
			if (s->out_fd >= 0)
				rt_write_all(s->out_fd, &v, 1);
			/* The byte left at once: THR is empty again. */
			s->thre_pending = true;
			*irq = true;
		}
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = v & 0x0f;
		*irq = true;
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & 2) {       /* clear the RX FIFO */
			s->rx_len = 0;
			s->rx_head = 0;
		}
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default:
		break;
	}
}

static uint8_t read_reg(struct serial *s, unsigned reg)
{
	switch (reg) {
	case RBR_THR:
		return (s->lcr & LCR_DLAB) ? s->dll : rx_pop(s);
	case IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case IIR_FCR:
		return read_iir(s);
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case MSR:
		return read_msr(s);
	default:
		return s->scr;
	}
}

bool serial_io(struct serial *s, uint16_t port, bool is_write, uint8_t *data)
{
	bool irq = false;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		write_reg(s, port - s->port, *data, &irq);
	else
		*data = read_reg(s, port - s->port);
	if (irq && (rx_irq(s) || thr_irq(s)))
		pulse_irq(s);
	pthread_mutex_unlock(&s->lock);
	return true;
}

size_t serial_inject(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_len < sizeof(s->rx))
		s->rx[(s->rx_head + s->rx_len++) % sizeof(s->rx)] = buf[n++];
	if (n && rx_irq(s))
		pulse_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Host input for the guest: read what fits in the FIFO; pause the fd when
 * the guest is slow, resume as it drains (rx_pop). */
static void serial_input(void *arg, uint32_t events)
{
	struct serial *s = arg;
	uint8_t buf[sizeof(s->rx)];
	size_t room;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	room = sizeof(s->rx) - s->rx_len;
	pthread_mutex_unlock(&s->lock);
	if (!room) {
		s->in_paused = true;
		vm_loop_mod(s->vm->loop, s->in_fd, 0);
		return;
	}
	n = read(s->in_fd, buf, room);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF: a UART has no way to say it; stop listening. */
		vm_loop_del(s->vm->loop, s->in_fd);
		s->in_fd = -1;
		return;
	}
	serial_inject(s, buf, (size_t)n);
	(void)events;
}

void serial_init(struct serial *s, struct vm *vm, uint16_t port, int irq, int out_fd, int in_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	s->port = port;
	s->irq = irq;
	s->out_fd = out_fd;
	s->in_fd = in_fd;
}

int serial_attach(struct serial *s, struct rt_err *err)
{
	struct stat st;

	/* epoll refuses regular files and /dev/null: such stdin has nothing
	 * to wait for, and the UART has no way to say EOF. */
	if (s->in_fd < 0 || fstat(s->in_fd, &st) < 0 || S_ISREG(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1)) {
		s->in_fd = -1;
		return 0;
	}
	return vm_loop_add(s->vm->loop, s->in_fd, EPOLLIN, serial_input, s, err);
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}
