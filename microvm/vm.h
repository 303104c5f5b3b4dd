/* The VMM core's internal interface: one struct vm shared by the
 * orchestrator (vm.c) and its parts (mem, boot, mptable, vcpu, loop,
 * serial).  The virtio side sees only vm_dev.h. */
#ifndef HULL_VM_H
#define HULL_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "microvm/vm_dev.h"
#include "microvm/vmm.h"

/* Guest-physical memory map (DESIGN.md section 5). */
#define VM_GDT_ADDR      0x500ULL
#define VM_ZERO_PAGE     0x7000ULL
#define VM_PML4          0x9000ULL
#define VM_PDPT          0xa000ULL
#define VM_PD            0xb000ULL
#define VM_CMDLINE       0x20000ULL
#define VM_CMDLINE_MAX   2048
#define VM_MPTABLE       0x9fc00ULL
#define VM_EBDA_END      0xa0000ULL
#define VM_HIMEM         0x100000ULL
#define VM_MMIO_GAP      0xc0000000ULL    /* RAM stops here below 4 GiB */
#define VM_VIRTIO_BASE   0xd0000000ULL    /* 4 KiB windows, one per device */
#define VM_VIRTIO_IRQ0   5                /* GSI of the first device */
#define VM_TSS_ADDR      0xfffbd000ULL
#define VM_IOAPIC_ADDR   0xfec00000ULL
#define VM_LAPIC_ADDR    0xfee00000ULL

/* I/O ports of hull's own devices. */
#define VM_PORT_COM1     0x3f8
#define VM_PORT_COM2     0x2f8
#define VM_PORT_EXIT     0x5f0    /* outl: the workload's status; ends the VM */
#define VM_PORT_BOOT     0x5f4    /* outb: guest init is running (boot time) */
#define VM_PORT_KBD      0x64     /* 0xfe: keyboard-controller reset (reboot=k) */

#define VM_MAX_DEVS      8

/* 8250 UART: enough of a 16550A for Linux's driver, with interrupts. */
struct serial {
	pthread_mutex_t lock;
	struct vm *vm;
	uint16_t port;
	int irq;
	int out_fd;                 /* THR bytes go here; -1 drops them */
	int in_fd;                  /* RX bytes come from here; -1 for none */
	bool in_paused;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;
	uint8_t rx[256];
	unsigned rx_head, rx_len;
};

#define VM_MAX_QUEUES 8

struct vm_dev_slot;
struct vm_queue_kick {
	struct vm_dev_slot *slot;
	uint16_t q;
	int fd;                     /* ioeventfd */
};

struct vm_dev_slot {
	struct virtio_mmio *t;
	uint64_t base;
	int irq;
	int irqfd;
	struct vm_queue_kick kicks[VM_MAX_QUEUES];
	int n_kicks;
};

struct vcpu {
	struct vm *vm;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct vm {
	const struct vmm_config *cfg;
	int kvm_fd, vm_fd;
	int run_size;
	int mem_fd;
	struct vm_mem mem;
	uint64_t entry;             /* 64-bit entry point (guest-physical) */
	struct vcpu *vcpus;
	int ncpus;
	struct vm_loop *loop;
	struct serial com1, com2;
	struct vm_dev_slot devs[VM_MAX_DEVS];
	void *console;              /* the console device, for SIGWINCH */
	int ndevs;
	int stop_efd;               /* a vCPU asks the loop to end the VM */
	int sig_fd;                 /* host signals for the workload */
	atomic_bool stopping;
	atomic_int status;          /* the workload's status, or -1 */
	char fail[256];             /* why the VM ended abnormally, "" if not */
	pthread_mutex_t fail_lock;
	struct timespec t0;
	atomic_bool booted;         /* the guest init reported in */
	uint64_t first_run_us;      /* vCPU 0's first KVM_RUN (--boot-time) */
	char marks[192];            /* setup steps' end times (--boot-time) */
	atomic_uint_fast32_t n_pio, n_mmio;  /* exits to the VMM so far (--boot-time) */
};

/* mem.c */
int vm_mem_setup(struct vm *vm, uint64_t size, struct rt_err *err);
void vm_mem_teardown(struct vm *vm);

/* boot.c: loads the kernel, builds the zero page, GDT, page tables. */
int vm_boot_load(struct vm *vm, const char *cmdline, const void *initrd, size_t initrd_len,
		 struct rt_err *err);
/* mptable.c */
int vm_mptable_write(struct vm *vm, struct rt_err *err);

/* vcpu.c */
int vm_vcpus_create(struct vm *vm, struct rt_err *err);
int vm_vcpus_start(struct vm *vm, struct rt_err *err);
void vm_vcpus_stop(struct vm *vm);
void vm_vcpus_destroy(struct vm *vm);
/* The VM ends: status >= 0 from the exit device, or -1 with a reason. */
void vm_request_stop(struct vm *vm, int status, const char *why);

/* loop.c */
int vm_loop_new(struct vm_loop **out, struct rt_err *err);
void vm_loop_free(struct vm_loop *l);
int vm_loop_run(struct vm_loop *l, struct rt_err *err);
void vm_loop_quit(struct vm_loop *l);

/* serial.c */
void serial_init(struct serial *s, struct vm *vm, uint16_t port, int irq, int out_fd, int in_fd);
int serial_attach(struct serial *s, struct rt_err *err);
void serial_destroy(struct serial *s);
bool serial_io(struct serial *s, uint16_t port, bool is_write, uint8_t *data);
/* Queue bytes for the guest to read (host -> guest). */
size_t serial_inject(struct serial *s, const uint8_t *buf, size_t len);

/* devices.c: the virtio-mmio devices, their irqfds and ioeventfds. */
int vm_devices_setup(struct vm *vm, char *cmdline, size_t cmdline_len, struct rt_err *err);
bool vm_devices_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);
void vm_devices_teardown(struct vm *vm);

/* Time since the VMM started, in microseconds. */
uint64_t vm_elapsed_us(const struct vm *vm);

#endif
