/* Guest RAM: one memfd (so it can later back a snapshot or use hugepages),
 * mapped MAP_NORESERVE so untouched guest pages cost nothing.  RAM above
 * the 32-bit MMIO gap continues at 4 GiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "microvm/vm.h"

void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len)
{
	const uint64_t hi = 1ULL << 32;

	if (gpa <= m->size && len <= m->size - gpa)
		return m->base + gpa;
	if (m->hi_size && gpa >= hi && gpa - hi <= m->hi_size && len <= m->hi_size - (gpa - hi))
		return m->hi_base + (gpa - hi);
	return NULL;
}

static int set_region(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		      struct rt_err *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return rt_err_sys(err, errno, "KVM_SET_USER_MEMORY_REGION %u", slot);
	return 0;
}

int vm_mem_setup(struct vm *vm, uint64_t size, struct rt_err *err)
{
	uint64_t lo = size < VM_MMIO_GAP ? size : VM_MMIO_GAP;
	uint8_t *p;

	vm->mem_fd = memfd_create("hull-guest-ram", MFD_CLOEXEC);
	if (vm->mem_fd < 0)
		return rt_err_sys(err, errno, "memfd_create");
	if (ftruncate(vm->mem_fd, (off_t)size) < 0)
		return rt_err_sys(err, errno, "guest RAM of %llu MiB",
				  (unsigned long long)(size >> 20));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, vm->mem_fd, 0);
	if (p == MAP_FAILED)
		return rt_err_sys(err, errno, "mmap guest RAM");
	/* Guest memory is not worth a core dump or a fork's copy. */
	madvise(p, size, MADV_DONTDUMP);
	madvise(p, size, MADV_DONTFORK);
	vm->mem = (struct vm_mem){ .base = p, .size = lo };
	if (size > lo)
		vm->mem.hi_base = p + lo, vm->mem.hi_size = size - lo;
	if (set_region(vm, 0, 0, lo, p, err) < 0)
		return -err->code;
	if (vm->mem.hi_size && set_region(vm, 1, 1ULL << 32, vm->mem.hi_size, vm->mem.hi_base, err) < 0)
		return -err->code;
	return 0;
}

void vm_mem_teardown(struct vm *vm)
{
	if (vm->mem.base)
		munmap(vm->mem.base, vm->mem.size + vm->mem.hi_size);
	vm->mem.base = NULL;
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	vm->mem_fd = -1;
}
