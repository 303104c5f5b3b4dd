/* The VMM: boots the guest kernel in a KVM microVM and runs it until the
 * guest init reports the workload's status on the exit port.  Read as a
 * checklist; each step lives in its own file (DESIGN.md section 5). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "microvm/vm_seccomp.h"
#include "runtime/cleanup.h"

uint64_t vm_elapsed_us(const struct vm *vm)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - vm->t0.tv_sec) * 1000000ULL +
	       (uint64_t)((now.tv_nsec - vm->t0.tv_nsec) / 1000);
}

static int check_kvm(struct vm *vm, struct rt_err *err)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" }, { KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_IRQFD, "IRQFD" }, { KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_PIT2, "PIT2" }, { KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	};

	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return rt_err_set(err, ENOTSUP, "/dev/kvm: API version is not %d", KVM_API_VERSION);
	for (size_t i = 0; i < RT_ARRAY_SIZE(caps); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return rt_err_set(err, ENOTSUP, "/dev/kvm: no KVM_CAP_%s", caps[i].name);
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return rt_err_sys(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	return 0;
}

static int create_vm(struct vm *vm, struct rt_err *err)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return rt_err_sys(err, errno, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0)
		return rt_err_sys(err, errno, "KVM_SET_TSS_ADDR");
	return 0;
}

/* PIC + I/O APIC + PIT in the kernel: the guest's interrupts never leave it. */
static int create_irqchip(struct vm *vm, struct rt_err *err)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return rt_err_sys(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return rt_err_sys(err, errno, "KVM_CREATE_PIT2");
	return 0;
}

static void build_cmdline(struct vm *vm, char *buf, size_t len)
{
	const struct vmm_config *c = vm->cfg;

	/* COM1 is the kernel's console (dropped unless --debug), COM2 the
	 * control channel; the workload's stdio is the virtio console. */
	snprintf(buf, len, "console=ttyS0 %s reboot=k panic=-1 pci=off nomodules "
		 "no_timer_check tsc=reliable i8042.noaux 8250.nr_uarts=2 rdinit=/init%s%s",
		 c->debug ? "loglevel=7" : "quiet loglevel=0",
		 c->cmdline_extra ? " " : "", c->cmdline_extra ? c->cmdline_extra : "");
}

static int load_guest(struct vm *vm, char *cmdline, struct rt_err *err)
{
	struct stat st;
	void *initrd = NULL;
	int r;

	if (fstat(vm->cfg->initrd_fd, &st) < 0)
		return rt_err_sys(err, errno, "initramfs");
	if (st.st_size > 0) {
		/* Populated at once: one call, not a page fault per 4 KiB. */
		initrd = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			      vm->cfg->initrd_fd, 0);
		if (initrd == MAP_FAILED)
			return rt_err_sys(err, errno, "mmap initramfs");
	}
	r = vm_boot_load(vm, cmdline, initrd, (size_t)st.st_size, err);
	if (initrd)
		munmap(initrd, (size_t)st.st_size);
	if (r < 0)
		return r;
	return vm_mptable_write(vm, err);
}

static void on_stop(void *arg, uint32_t events)
{
	struct vm *vm = arg;
	uint64_t v;

	(void)events;
	if (read(vm->stop_efd, &v, sizeof(v)) < 0) {
		/* Nothing to drain: the flag below is what counts. */
	}
	if (atomic_load(&vm->stopping))
		vm_loop_quit(vm->loop);
}

/* A host signal becomes one byte on the control channel; the guest init
 * delivers it to the workload. */
static void on_signal(void *arg, uint32_t events)
{
	struct vm *vm = arg;
	struct signalfd_siginfo si;
	int fd = vm->sig_fd;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		uint8_t b = (uint8_t)si.ssi_signo;

		if (si.ssi_signo == SIGWINCH) {
			if (vm->console && vm->cfg->terminal)
				vdev_console_winch(vm->console);
			continue;
		}
		serial_inject(&vm->com2, &b, 1);
	}
}

static int setup_loop(struct vm *vm, struct rt_err *err)
{
	/* SIGPWR: what ct stop asks a system container's init with. */
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPWR,
				    SIGWINCH };
	sigset_t set;

	if (vm_loop_new(&vm->loop, err) < 0)
		return -err->code;
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return rt_err_sys(err, errno, "eventfd");
	if (vm_loop_add(vm->loop, vm->stop_efd, EPOLLIN, on_stop, vm, err) < 0)
		return -err->code;
	sigemptyset(&set);
	for (size_t i = 0; i < RT_ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	vm->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sig_fd < 0)
		return rt_err_sys(err, errno, "signalfd");
	return vm_loop_add(vm->loop, vm->sig_fd, EPOLLIN, on_signal, vm, err);
}

static int setup_serial(struct vm *vm, struct rt_err *err)
{
	const struct vmm_config *c = vm->cfg;

	int dbg = c->debug ? STDERR_FILENO : -1;

	/* Quiet, the kernel prints nothing on COM1 but a panic; a guest
	 * without a virtio console (another kernel) has its stdio there. */
	serial_init(&vm->com1, vm, VM_PORT_COM1, 4, c->debug ? STDERR_FILENO : c->stdout_fd, -1);
	serial_init(&vm->com2, vm, VM_PORT_COM2, 3, dbg, -1);
	return serial_attach(&vm->com1, err);
}

static void vm_teardown(struct vm *vm)
{
	vm_vcpus_stop(vm);
	vm_devices_teardown(vm);
	vm_vcpus_destroy(vm);
	vm_mem_teardown(vm);
	vm_loop_free(vm->loop);
	serial_destroy(&vm->com1);
	serial_destroy(&vm->com2);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	if (vm->sig_fd >= 0)
		close(vm->sig_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	pthread_mutex_destroy(&vm->fail_lock);
}

/* --boot-time: when a setup step ended, for the boot-time log line. */
static bool mark(struct vm *vm, const char *step)
{
	size_t n = strlen(vm->marks);

	if (vm->cfg->boot_time && n < sizeof(vm->marks))
		snprintf(vm->marks + n, sizeof(vm->marks) - n, " %s %.1f", step,
			 vm_elapsed_us(vm) / 1000.0);
	return true;
}

static int vm_steps(struct vm *vm, struct rt_err *err)
{
	char cmdline[VM_CMDLINE_MAX];

	build_cmdline(vm, cmdline, sizeof(cmdline));
	if (!mark(vm, "inputs") ||
	    check_kvm(vm, err) < 0 ||
	    create_vm(vm, err) < 0 ||
	    vm_mem_setup(vm, vm->cfg->mem_mib << 20, err) < 0 || !mark(vm, "vm+mem") ||
	    create_irqchip(vm, err) < 0 ||
	    setup_loop(vm, err) < 0 ||
	    setup_serial(vm, err) < 0 ||
	    vm_devices_setup(vm, cmdline, sizeof(cmdline), err) < 0 || !mark(vm, "devices") ||
	    load_guest(vm, cmdline, err) < 0 || !mark(vm, "load") ||
	    vm_vcpus_create(vm, err) < 0 ||
	    vm_vcpus_start(vm, err) < 0 ||
	    vm_seccomp_load(err) < 0 ||
	    vm_loop_run(vm->loop, err) < 0)
		return -err->code;
	return 0;
}

int vmm_run(const struct vmm_config *cfg, int *status, struct rt_err *err)
{
	struct vm vm = {
		.cfg = cfg, .kvm_fd = cfg->kvm_fd, .vm_fd = -1, .mem_fd = -1, .stop_efd = -1,
		.sig_fd = -1, .ncpus = cfg->cpus,
	};
	int r;

	vm.t0 = cfg->t0;
	if (!vm.t0.tv_sec && !vm.t0.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &vm.t0);
	atomic_init(&vm.status, -1);
	atomic_init(&vm.stopping, false);
	pthread_mutex_init(&vm.fail_lock, NULL);
	r = vm_steps(&vm, err);
	vm_teardown(&vm);
	if (r < 0)
		return rt_err_wrap(err, "microVM");
	if (atomic_load(&vm.status) < 0)
		return rt_err_set(err, EIO, "microVM: %s before the workload's status arrived",
				  vm.fail[0] ? vm.fail : "the guest stopped");
	*status = atomic_load(&vm.status);
	return 0;
}
