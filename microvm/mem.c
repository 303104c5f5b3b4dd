/* Guest RAM: one memfd (so it can later back a snapshot or use hugepages),
 * mapped MAP_NORESERVE so untouched guest pages cost nothing.  RAM above
 * the 32-bit MMIO gap continues at 4 GiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
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

/* Guest RAM mapped at a 2 MiB-aligned address: KVM maps a guest page
 * with one 2 MiB nested page table entry only where the host mapping is a
 * huge page at the same offset within 2 MiB.  MADV_HUGEPAGE asks for
 * transparent huge pages for the memfd; the host grants them where
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled is advise (or
 * always/within_size), else the memfd stays in 4 KiB pages.  Each 4 KiB
 * page the guest touches first is a nested page fault, an exit to the
 * host kernel; booting touches thousands, and a huge page saves 511 of
 * every 512 of them (bench/README.md, vmboot). */
static void *map_ram(int fd, uint64_t size)
{
	const uint64_t align = 2ULL << 20;
	uint8_t *res, *p, *end;

	res = mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	end = res + size + align;
	if (p > res)
		munmap(res, (size_t)(p - res));
	if (end > p + size)
		munmap(p + size, (size_t)(end - (p + size)));
	if (mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		munmap(p, size);
		return MAP_FAILED;
	}
	madvise(p, size, MADV_HUGEPAGE);
	return p;
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
	p = map_ram(vm->mem_fd, size);
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
