/* vCPUs: one thread each.  The boot CPU starts in long mode at the
 * kernel's entry; the others wait in the in-kernel LAPIC for INIT/SIPI.
 * Exits that reach user space: port I/O (serial, exit and boot ports),
 * MMIO in the virtio windows, and the end of the VM. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "runtime/cleanup.h"

#define VCPU_KICK_SIG (SIGRTMIN + 1)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_APICBASE 0x1b

static int set_cpuid(struct vcpu *c, struct rt_err *err)
{
	_cleanup_free_ struct kvm_cpuid2 *cpuid = NULL;
	/* KVM emulates the TSC-deadline timer but leaves its CPUID bit to us.
	 * With it the guest programs its timer with one MSR write instead of
	 * LAPIC MMIO (an exit that KVM must decode and emulate) and skips the
	 * LAPIC timer calibration (100 ms of guest time). */
	bool deadline = ioctl(c->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int n = 64;

	for (;;) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return rt_err_set(err, ENOMEM, "cpuid: out of memory");
		cpuid->nent = n;
		if (ioctl(c->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG || n >= 4096)
			return rt_err_sys(err, errno, "KVM_GET_SUPPORTED_CPUID");
		n *= 2;
	}
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			/* Initial APIC id; hypervisor present. */
			e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)c->index << 24);
			e->ecx |= 1U << 31;
			if (deadline)
				e->ecx |= 1U << 24;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = (uint32_t)c->index;       /* x2APIC id */
		}
	}
	if (ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0)
		return rt_err_sys(err, errno, "KVM_SET_CPUID2");
	return 0;
}

static int set_msrs(struct vcpu *c, struct rt_err *err)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = { .h.nmsrs = 1, .e = { { .index = MSR_IA32_MISC_ENABLE, .data = 1 } } };

	if (ioctl(c->fd, KVM_SET_MSRS, &m) != 1)
		return rt_err_sys(err, errno ? errno : EINVAL, "KVM_SET_MSRS");
	return 0;
}

/* LINT0 delivers the PIC's interrupts (ExtINT), LINT1 NMIs. */
static int set_lapic(struct vcpu *c, struct rt_err *err)
{
	struct kvm_lapic_state l;
	uint32_t *lint0 = (uint32_t *)&l.regs[0x350], *lint1 = (uint32_t *)&l.regs[0x360];

	if (ioctl(c->fd, KVM_GET_LAPIC, &l) < 0)
		return rt_err_sys(err, errno, "KVM_GET_LAPIC");
	*lint0 = (*lint0 & ~0x700U) | (7U << 8);
	*lint1 = (*lint1 & ~0x700U) | (4U << 8);
	if (ioctl(c->fd, KVM_SET_LAPIC, &l) < 0)
		return rt_err_sys(err, errno, "KVM_SET_LAPIC");
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
	};
}

/* Long mode, flat segments, identity paging, RSI = zero page. */
static int set_boot_regs(struct vcpu *c, struct rt_err *err)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rip = c->vm->entry, .rsi = VM_ZERO_PAGE,
			      .rsp = 0x8ff0, .rbp = 0x8ff0 };
	struct kvm_fpu f = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return rt_err_sys(err, errno, "KVM_GET_SREGS");
	seg(&s.cs, 0x10, 0xb, true);
	seg(&s.ds, 0x18, 0x3, false);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.tr = (struct kvm_segment){ .selector = 0x20, .limit = 0xffff, .type = 0xb, .present = 1 };
	s.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s.gdt.base = VM_GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x80000031;            /* PG | NE | ET | PE */
	s.cr3 = VM_PML4;
	s.cr4 = 0x20;                  /* PAE */
	s.efer = 0x500;                /* LME | LMA */
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		return rt_err_sys(err, errno, "KVM_SET_SREGS");
	if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		return rt_err_sys(err, errno, "KVM_SET_REGS");
	if (ioctl(c->fd, KVM_SET_FPU, &f) < 0)
		return rt_err_sys(err, errno, "KVM_SET_FPU");
	return 0;
}

static int vcpu_create(struct vcpu *c, struct rt_err *err)
{
	c->fd = ioctl(c->vm->vm_fd, KVM_CREATE_VCPU, c->index);
	if (c->fd < 0)
		return rt_err_sys(err, errno, "KVM_CREATE_VCPU %d", c->index);
	c->run = mmap(NULL, (size_t)c->vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		return rt_err_sys(err, errno, "mmap kvm_run");
	}
	if (set_cpuid(c, err) < 0 || set_msrs(c, err) < 0 || set_lapic(c, err) < 0)
		return rt_err_wrap(err, "vCPU %d", c->index);
	if (c->index == 0 && set_boot_regs(c, err) < 0)
		return rt_err_wrap(err, "vCPU 0");
	return 0;
}

int vm_vcpus_create(struct vm *vm, struct rt_err *err)
{
	vm->vcpus = calloc((size_t)vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return rt_err_set(err, ENOMEM, "vCPUs: out of memory");
	for (int i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i] = (struct vcpu){ .vm = vm, .index = i, .fd = -1 };
		if (vcpu_create(&vm->vcpus[i], err) < 0)
			return -err->code;
	}
	return 0;
}

void vm_request_stop(struct vm *vm, int status, const char *why)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->fail_lock);
	if (!atomic_load(&vm->stopping)) {
		if (status >= 0)
			atomic_store(&vm->status, status);
		else if (why)
			snprintf(vm->fail, sizeof(vm->fail), "%s", why);
		atomic_store(&vm->stopping, true);
	}
	pthread_mutex_unlock(&vm->fail_lock);
	if (write(vm->stop_efd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow: a stop is pending anyway. */
	}
}

static void io_exit(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct kvm_run *r = c->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool wr = r->io.direction == KVM_EXIT_IO_OUT;
	uint16_t port = r->io.port;

	for (uint32_t n = 0; n < r->io.count; n++, data += r->io.size) {
		if (port >= VM_PORT_COM1 && port < VM_PORT_COM1 + 8 && r->io.size == 1)
			serial_io(&vm->com1, port, wr, data);
		else if (port >= VM_PORT_COM2 && port < VM_PORT_COM2 + 8 && r->io.size == 1)
			serial_io(&vm->com2, port, wr, data);
		else if (port == VM_PORT_EXIT && wr && r->io.size == 4) {
			uint32_t st;

			memcpy(&st, data, 4);
			vm_request_stop(vm, (int)(st & 0xff), NULL);
		} else if (port == VM_PORT_BOOT && wr) {
			if (!atomic_exchange(&vm->booted, true) && vm->cfg->boot_time)
				fprintf(stderr, "hull-vmm: guest init started %.3f ms after VMM start "
					"(setup ms:%s; first KVM_RUN at %.3f ms; exits to the VMM: "
					"%u port I/O, %u MMIO)\n", vm_elapsed_us(vm) / 1000.0,
					vm->marks, vm->first_run_us / 1000.0, (unsigned)atomic_load(&vm->n_pio),
					(unsigned)atomic_load(&vm->n_mmio));
		} else if (port == VM_PORT_KBD && wr && *data == 0xfe)
			vm_request_stop(vm, -1, "the guest rebooted (kernel panic or reboot)");
		else if (!wr)
			memset(data, 0xff, r->io.size);
	}
}

static void mmio_exit(struct vcpu *c)
{
	struct kvm_run *r = c->run;

	if (!vm_devices_mmio(c->vm, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
			     r->mmio.is_write) && !r->mmio.is_write)
		memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
}

static bool handle_exit(struct vcpu *c)
{
	struct kvm_run *r = c->run;
	char why[128];

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		atomic_fetch_add_explicit(&c->vm->n_pio, 1, memory_order_relaxed);
		io_exit(c);
		return true;
	case KVM_EXIT_MMIO:
		atomic_fetch_add_explicit(&c->vm->n_mmio, 1, memory_order_relaxed);
		mmio_exit(c);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		vm_request_stop(c->vm, -1, "the guest halted");
		return false;
	case KVM_EXIT_SHUTDOWN:
		vm_request_stop(c->vm, -1, "the guest shut down (triple fault)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_stop(c->vm, -1, "the guest powered off or reset");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "vCPU %d: entry failed (reason 0x%llx)", c->index,
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "vCPU %d: KVM internal error %u (data %llx %llx)",
			 c->index, r->internal.suberror,
			 (unsigned long long)(r->internal.ndata > 0 ? r->internal.data[0] : 0),
			 (unsigned long long)(r->internal.ndata > 1 ? r->internal.data[1] : 0));
		break;
	default:
		snprintf(why, sizeof(why), "vCPU %d: unexpected exit %u", c->index, r->exit_reason);
		break;
	}
	vm_request_stop(c->vm, -1, why);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t set;
	char why[128];

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIG);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (c->index == 0)
		c->vm->first_run_us = vm_elapsed_us(c->vm);
	while (!atomic_load(&c->vm->stopping)) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "vCPU %d: KVM_RUN: %s", c->index, strerror(errno));
			vm_request_stop(c->vm, -1, why);
			break;
		}
		if (!handle_exit(c))
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vm_vcpus_start(struct vm *vm, struct rt_err *err)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old;
	int r;

	sigaction(VCPU_KICK_SIG, &sa, NULL);
	/* Threads inherit the mask: every signal stays with the loop thread. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < vm->ncpus; i++) {
		r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return rt_err_sys(err, r, "vCPU %d thread", i);
		}
		vm->vcpus[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void vm_vcpus_stop(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	for (int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (!c->started)
			continue;
		/* immediate_exit closes the race with a kick that lands outside KVM_RUN. */
		c->run->immediate_exit = 1;
		pthread_kill(c->thread, VCPU_KICK_SIG);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
}

void vm_vcpus_destroy(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, (size_t)vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}
