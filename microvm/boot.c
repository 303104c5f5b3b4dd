/* x86 direct boot (Documentation/arch/x86/boot.rst, "64-bit boot
 * protocol"): the kernel is placed in guest RAM, the zero page (struct
 * boot_params) describes RAM (e820), the command line and the initramfs,
 * and the boot CPU starts in long mode at the kernel's 64-bit entry with a
 * flat GDT and page tables identity-mapping the first GiB. */
#define _GNU_SOURCE
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "runtime/cleanup.h"

#define KERNEL_MAX (256ULL << 20)
#define BZ_LOAD_ADDR VM_HIMEM
#define LOAD_PHYSICAL_ADDR 0x1000000ULL   /* where a bzImage decompresses to */

/* The kernel file: its size and its first bytes (ELF and program headers,
 * or the bzImage's setup header).  The loaded parts are read from the file
 * straight into guest RAM: no copy of the file in the VMM, and the file's
 * symbols (half of a vmlinux) are never read. */
#define KHEAD (64 * 1024)
struct kimage {
	int fd;
	uint64_t size;
	uint8_t head[KHEAD];
	size_t head_len;
};

static int read_kernel(int fd, struct kimage *k, struct rt_err *err)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return rt_err_sys(err, errno, "kernel");
	if (!S_ISREG(st.st_mode) || st.st_size < 1024 || (uint64_t)st.st_size > KERNEL_MAX)
		return rt_err_set(err, EINVAL, "kernel: not a kernel image (size %lld)",
				  (long long)st.st_size);
	k->fd = fd;
	k->size = (uint64_t)st.st_size;
	n = pread(fd, k->head, sizeof(k->head), 0);
	if (n < 1024)
		return rt_err_sys(err, n < 0 ? errno : EIO, "kernel: read");
	k->head_len = (size_t)n;
	return 0;
}

/* Reads len bytes at file offset off to guest-physical gpa and zeroes
 * the rest up to memsz (an ELF segment's bss). */
static int place(struct vm *vm, const struct kimage *k, uint64_t gpa, uint64_t off, uint64_t len,
		 uint64_t memsz, struct rt_err *err)
{
	uint8_t *dst = vm_mem_ptr(&vm->mem, gpa, memsz);

	if (!dst || len > memsz)
		return rt_err_set(err, ENOMEM, "kernel: segment at 0x%llx (%llu bytes) does not fit "
				  "in guest RAM", (unsigned long long)gpa, (unsigned long long)memsz);
	if (off > k->size || len > k->size - off)
		return rt_err_set(err, EINVAL, "kernel: segment outside the file");
	while (len) {
		ssize_t n = pread(k->fd, dst, len, (off_t)off);

		if (n <= 0)
			return rt_err_sys(err, n < 0 ? errno : EIO, "kernel: read");
		dst += n, off += (uint64_t)n, len -= (uint64_t)n, memsz -= (uint64_t)n;
	}
	memset(dst, 0, memsz);
	return 0;
}

static int load_elf(struct vm *vm, const struct kimage *k, struct boot_params *bp,
		    uint64_t *end, struct rt_err *err)
{
	const Elf64_Ehdr *eh = (const void *)k->head;

	if (k->head_len < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > k->head_len ||
	    eh->e_phnum > (k->head_len - eh->e_phoff) / sizeof(Elf64_Phdr))
		return rt_err_set(err, EINVAL, "kernel: not an x86-64 ELF vmlinux (or its program "
				  "headers are not in its first %d KiB)", KHEAD >> 10);
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(k->head + eh->e_phoff + i * sizeof(*ph));

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset > k->size || ph->p_filesz > k->size - ph->p_offset)
			return rt_err_set(err, EINVAL, "kernel: ELF segment %d outside the file", i);
		if (place(vm, k, ph->p_paddr, ph->p_offset, ph->p_filesz, ph->p_memsz, err) < 0)
			return -err->code;
		if (ph->p_paddr + ph->p_memsz > *end)
			*end = ph->p_paddr + ph->p_memsz;
	}
	/* No setup header in a vmlinux: write the fields the kernel reads. */
	bp->hdr.boot_flag = 0xaa55;
	bp->hdr.header = 0x53726448;    /* "HdrS" */
	bp->hdr.version = 0x020f;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = 0x1000000;
	bp->hdr.cmdline_size = VM_CMDLINE_MAX - 1;
	bp->hdr.initrd_addr_max = 0xffffffff;
	vm->entry = eh->e_entry;
	return 0;
}

static int load_bzimage(struct vm *vm, const struct kimage *k, struct boot_params *bp,
			uint64_t *end, struct rt_err *err)
{
	struct setup_header *h = (void *)(k->head + 0x1f1);
	unsigned setup_sects = h->setup_sects ? h->setup_sects : 4;
	size_t hdr_end = 0x202 + k->head[0x201];
	size_t off = (setup_sects + 1) * 512ULL;

	if (h->header != 0x53726448 || h->version < 0x020c || hdr_end > k->head_len ||
	    off >= k->size)
		return rt_err_set(err, EINVAL, "kernel: not a bzImage of boot protocol 2.12 or later");
	if (!(h->xloadflags & XLF_KERNEL_64))
		return rt_err_set(err, EINVAL, "kernel: the bzImage has no 64-bit entry point");
	memcpy((uint8_t *)bp + 0x1f1, k->head + 0x1f1, hdr_end - 0x1f1);
	if (place(vm, k, BZ_LOAD_ADDR, off, k->size - off, k->size - off, err) < 0)
		return -err->code;
	*end = BZ_LOAD_ADDR + (k->size - off);
	/* The decompressor writes the kernel at LOAD_PHYSICAL_ADDR. */
	if (LOAD_PHYSICAL_ADDR + h->init_size > *end)
		*end = LOAD_PHYSICAL_ADDR + h->init_size;
	if (*end > vm->mem.size)
		return rt_err_set(err, ENOMEM, "kernel: needs %llu MiB of RAM to decompress",
				  (unsigned long long)(*end >> 20) + 1);
	bp->hdr.loadflags |= LOADED_HIGH;
	vm->entry = BZ_LOAD_ADDR + 0x200;
	return 0;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr, e->size = size, e->type = type;
}

static void write_e820(struct vm *vm, struct boot_params *bp)
{
	add_e820(bp, 0, VM_MPTABLE, 1);
	add_e820(bp, VM_MPTABLE, VM_EBDA_END - VM_MPTABLE, 2);
	add_e820(bp, VM_HIMEM, vm->mem.size - VM_HIMEM, 1);
	if (vm->mem.hi_size)
		add_e820(bp, 1ULL << 32, vm->mem.hi_size, 1);
}

/* The initramfs goes at the top of RAM below the gap, above the kernel. */
static int place_initrd(struct vm *vm, struct boot_params *bp, const void *initrd, size_t len,
			uint64_t kernel_end, struct rt_err *err)
{
	uint64_t max = vm->mem.size, addr;

	if (bp->hdr.initrd_addr_max && bp->hdr.initrd_addr_max + 1ULL < max)
		max = bp->hdr.initrd_addr_max + 1ULL;
	addr = (max - len) & ~0xfffULL;
	if (len >= max || addr < kernel_end)
		return rt_err_set(err, ENOMEM, "the initramfs (%zu KiB) does not fit in guest RAM "
				  "above the kernel: give the VM more memory", len >> 10);
	if (!vm_mem_ptr(&vm->mem, addr, len))
		return rt_err_set(err, ENOMEM, "the initramfs does not fit in guest RAM");
	memcpy(vm_mem_ptr(&vm->mem, addr, len), initrd, len);
	bp->hdr.ramdisk_image = (uint32_t)addr;
	bp->hdr.ramdisk_size = (uint32_t)len;
	bp->ext_ramdisk_image = (uint32_t)(addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)((uint64_t)len >> 32);
	return 0;
}

/* Flat 64-bit code and data at the selectors the boot protocol names
 * (__BOOT_CS 0x10, __BOOT_DS 0x18), and a TSS at 0x20 for TR. */
static void write_gdt_and_page_tables(struct vm *vm)
{
	uint64_t *gdt = vm_mem_ptr(&vm->mem, VM_GDT_ADDR, 5 * 8);
	uint64_t *pml4 = vm_mem_ptr(&vm->mem, VM_PML4, 4096);
	uint64_t *pdpt = vm_mem_ptr(&vm->mem, VM_PDPT, 4096);
	uint64_t *pd = vm_mem_ptr(&vm->mem, VM_PD, 4096);

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL;
	gdt[3] = 0x00cf93000000ffffULL;
	gdt[4] = 0x008f8b000000ffffULL;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = VM_PDPT | 0x3;                   /* present, writable */
	pdpt[0] = VM_PD | 0x3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;          /* 2 MiB page, present, writable */
}

int vm_boot_load(struct vm *vm, const char *cmdline, const void *initrd, size_t initrd_len,
		 struct rt_err *err)
{
	_cleanup_free_ struct kimage *k = calloc(1, sizeof(*k));
	struct boot_params *bp = vm_mem_ptr(&vm->mem, VM_ZERO_PAGE, sizeof(*bp));
	char *cl = vm_mem_ptr(&vm->mem, VM_CMDLINE, VM_CMDLINE_MAX);
	uint64_t end = 0;
	int r;

	if (vm->mem.size < (VMM_MIN_MEM_MIB << 20))
		return rt_err_set(err, ENOMEM, "guest RAM below %d MiB", VMM_MIN_MEM_MIB);
	if (strlen(cmdline) >= VM_CMDLINE_MAX)
		return rt_err_set(err, E2BIG, "kernel command line over %d bytes", VM_CMDLINE_MAX - 1);
	if (!k)
		return rt_err_set(err, ENOMEM, "kernel: out of memory");
	r = read_kernel(vm->cfg->kernel_fd, k, err);
	if (r == 0) {
		memset(bp, 0, sizeof(*bp));
		if (!memcmp(k->head, ELFMAG, SELFMAG))
			r = load_elf(vm, k, bp, &end, err);
		else
			r = load_bzimage(vm, k, bp, &end, err);
	}
	if (r < 0)
		return r;
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.cmd_line_ptr = (uint32_t)VM_CMDLINE;
	strcpy(cl, cmdline);
	write_e820(vm, bp);
	if (initrd_len && place_initrd(vm, bp, initrd, initrd_len, end, err) < 0)
		return -err->code;
	write_gdt_and_page_tables(vm);
	return 0;
}
