/* The VMM's pure parts: guest memory bounds, kernel loading and the zero
 * page, the MP table, and the initramfs the guest init reads. */
#include "config.h"
#include <criterion/criterion.h>
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "microvm/vm.h"
#include "runtime/spec.h"

TestSuite(vm_boot, .timeout = 20);

#define RAM (128ULL << 20)

static struct vm vm;
static struct vmm_config cfg;
static struct rt_err err;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&cfg, 0, sizeof(cfg));
	vm.cfg = &cfg;
	vm.mem.base = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(vm.mem.base != MAP_FAILED);
	vm.mem.size = RAM;
	vm.ncpus = 2;
}

static void teardown(void)
{
	munmap(vm.mem.base, RAM);
	if (cfg.kernel_fd > 0)
		close(cfg.kernel_fd);
}

/* A memfd holding bytes, as the kernel fd. */
static int fd_with(const void *buf, size_t len)
{
	int fd = memfd_create("k", MFD_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	return fd;
}

Test(vm_boot, mem_ptr_bounds)
{
	struct vm_mem m = { .base = (uint8_t *)0x10000, .size = 0x1000,
			    .hi_base = (uint8_t *)0x20000, .hi_size = 0x1000 };

	cr_assert_eq(vm_mem_ptr(&m, 0, 0x1000), (void *)0x10000);
	cr_assert_eq(vm_mem_ptr(&m, 0x1000, 0), (void *)0x11000);
	cr_assert_null(vm_mem_ptr(&m, 0xfff, 2));
	cr_assert_null(vm_mem_ptr(&m, UINT64_MAX, 2));
	cr_assert_null(vm_mem_ptr(&m, 1, UINT64_MAX));
	cr_assert_eq(vm_mem_ptr(&m, 1ULL << 32, 0x1000), (void *)0x20000);
	cr_assert_null(vm_mem_ptr(&m, (1ULL << 32) + 1, 0x1000));
	cr_assert_null(vm_mem_ptr(&m, 0x2000, 1));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

Test(vm_boot, mptable, .init = setup, .fini = teardown)
{
	uint8_t *fp = vm.mem.base + VM_MPTABLE, *h;
	uint32_t phys;
	uint16_t len, count;

	cr_assert_eq(vm_mptable_write(&vm, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(fp, "_MP_", 4), 0);
	cr_assert_eq(sum(fp, 16), 0, "floating pointer checksum");
	memcpy(&phys, fp + 4, 4);
	h = vm.mem.base + phys;
	cr_assert_eq(memcmp(h, "PCMP", 4), 0);
	memcpy(&len, h + 4, 2);
	memcpy(&count, h + 34, 2);
	cr_assert_eq(sum(h, len), 0, "table checksum");
	cr_assert(phys + len <= VM_EBDA_END);
	/* 2 CPUs, a bus, an I/O APIC, 16 ISA interrupts, 2 local ones. */
	cr_assert_eq(count, 2 + 1 + 1 + 16 + 2);
	cr_assert_eq(h[44], 0, "first entry is a processor");
	cr_assert_eq(h[44 + 3], 3, "CPU 0 is enabled and the boot CPU");
	cr_assert_eq(h[64 + 3], 1, "CPU 1 is enabled");
	vm.ncpus = 33;
	cr_assert_eq(vm_mptable_write(&vm, &err), -EINVAL);
}

/* A minimal ELF vmlinux: one PT_LOAD of 16 bytes at 16 MiB, bss to 4 KiB. */
static int fake_elf_at(uint64_t paddr)
{
	static struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t text[16];
	} k;

	memset(&k, 0, sizeof(k));
	memcpy(k.eh.e_ident, ELFMAG, SELFMAG);
	k.eh.e_ident[EI_CLASS] = ELFCLASS64;
	k.eh.e_machine = EM_X86_64;
	k.eh.e_phoff = sizeof(k.eh);
	k.eh.e_phentsize = sizeof(Elf64_Phdr);
	k.eh.e_phnum = 1;
	k.eh.e_entry = 0x1000000;
	k.ph.p_type = PT_LOAD;
	k.ph.p_offset = offsetof(__typeof__(k), text);
	k.ph.p_paddr = paddr;
	k.ph.p_filesz = 16;
	k.ph.p_memsz = 4096;
	memset(k.text, 0x90, 16);
	/* Pad the file past the loader's minimum size. */
	static uint8_t file[2048];
	memcpy(file, &k, sizeof(k));
	return fd_with(file, sizeof(file));
}

static int fake_elf(void)
{
	return fake_elf_at(0x1000000);
}

Test(vm_boot, elf_zero_page, .init = setup, .fini = teardown)
{
	static const char initrd[] = "070701 fake initramfs";
	struct boot_params *bp = (void *)(vm.mem.base + VM_ZERO_PAGE);
	uint64_t *gdt = (void *)(vm.mem.base + VM_GDT_ADDR);

	cfg.kernel_fd = fake_elf();
	memset(vm.mem.base + 0x1000000 + 16, 0xcc, 64);   /* bss must be zeroed */
	cr_assert_eq(vm_boot_load(&vm, "console=ttyS0", initrd, sizeof(initrd), &err), 0, "%s",
		     err.msg);
	cr_assert_eq(vm.entry, 0x1000000);
	cr_assert_eq(vm.mem.base[0x1000000], 0x90);
	cr_assert_eq(vm.mem.base[0x1000000 + 16], 0);
	cr_assert_eq(bp->hdr.boot_flag, 0xaa55);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.type_of_loader, 0xff);
	cr_assert_str_eq((char *)vm.mem.base + bp->hdr.cmd_line_ptr, "console=ttyS0");
	cr_assert_eq(bp->e820_entries, 3);
	cr_assert_eq(bp->e820_table[2].addr, VM_HIMEM);
	cr_assert_eq(bp->e820_table[2].addr + bp->e820_table[2].size, RAM);
	cr_assert_eq(bp->e820_table[1].type, 2, "the MP table's page is reserved");
	cr_assert_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	cr_assert(bp->hdr.ramdisk_image >= 0x1000000 + 4096);
	cr_assert(bp->hdr.ramdisk_image + sizeof(initrd) <= RAM);
	cr_assert_eq(memcmp(vm.mem.base + bp->hdr.ramdisk_image, initrd, sizeof(initrd)), 0);
	cr_assert_eq(gdt[2], 0x00af9b000000ffffULL, "64-bit code at __BOOT_CS");
	cr_assert_eq(*(uint64_t *)(vm.mem.base + VM_PD + 8), (1ULL << 21) | 0x83);
}

Test(vm_boot, elf_segment_outside_ram, .init = setup, .fini = teardown)
{
	cfg.kernel_fd = fake_elf_at(RAM - 100);   /* straddles the end of RAM */
	cr_assert_lt(vm_boot_load(&vm, "", NULL, 0, &err), 0);
	cr_assert(strstr(err.msg, "does not fit"), "%s", err.msg);
}

Test(vm_boot, bzimage_too_old, .init = setup, .fini = teardown)
{
	static uint8_t k[8192];

	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = 0x0b, k[0x207] = 0x02;    /* protocol 2.11 */
	cfg.kernel_fd = fd_with(k, sizeof(k));
	cr_assert_eq(vm_boot_load(&vm, "", NULL, 0, &err), -EINVAL);
	cr_assert(strstr(err.msg, "2.12"), "%s", err.msg);
}

Test(vm_boot, not_a_kernel, .init = setup, .fini = teardown)
{
	static uint8_t k[4096];

	cfg.kernel_fd = fd_with(k, sizeof(k));
	cr_assert_eq(vm_boot_load(&vm, "", NULL, 0, &err), -EINVAL);
}

Test(vm_boot, cmdline_too_long, .init = setup, .fini = teardown)
{
	char cl[VM_CMDLINE_MAX + 1];

	memset(cl, 'a', sizeof(cl) - 1);
	cl[sizeof(cl) - 1] = 0;
	cfg.kernel_fd = fake_elf();
	cr_assert_eq(vm_boot_load(&vm, cl, NULL, 0, &err), -E2BIG);
}

/* The cpio the guest init reads: /init first, then /hull/config. */
Test(vm_boot, initrd_config)
{
	char *args[] = { "sh", "-c", "echo a b", NULL }, *env[] = { "A=1", NULL };
	struct vm_guest_proc p = { .args = args, .env = env, .cwd = "/tmp", .uid = 1000,
				   .gid = 100, .hostname = "h" };
	static char buf[4 << 20];
	static const char want[] = "arg\0sh\0arg\0-c\0arg\0echo a b\0env\0A=1\0uid\0001000\0"
				   "gid\000100\0cwd\0/tmp\0hostname\0h\0readonly\0000\0terminal\0000\0"
				   "root\0disk";
	int fd = -1;
	ssize_t n;
	char *cfgname;

	cr_assert_eq(vm_initrd_build(&p, NULL, &fd, &err), 0, "%s", err.msg);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	cr_assert_gt(n, 110);
	cr_assert_eq(memcmp(buf, "070701", 6), 0);
	cr_assert_str_eq(buf + 110, "init");
	cfgname = memmem(buf, (size_t)n, "hull/config", 12);
	cr_assert_not_null(cfgname);
	cr_assert_not_null(memmem(cfgname, (size_t)(buf + n - cfgname), want, sizeof(want)));
	cr_assert_not_null(memmem(buf, (size_t)n, "TRAILER!!!", 10));
	p.args = NULL;
	cr_assert_eq(vm_initrd_build(&p, NULL, &fd, &err), -EINVAL);
}

/* ct --vm: the "pidns" record asks the guest init for a pid namespace; an
 * OCI workload's config has none. */
Test(vm_boot, initrd_config_pidns)
{
	char *args[] = { "/sbin/init", NULL };
	struct vm_guest_proc p = { .args = args, .cwd = "/" };
	static char buf[4 << 20];
	static const char rec[] = "root\0disk\0pidns\0001";
	int fd = -1;
	ssize_t n;

	cr_assert_eq(vm_initrd_build(&p, NULL, &fd, &err), 0, "%s", err.msg);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	cr_assert_gt(n, 110);
	/* the record, not the word: the init binary itself names it */
	cr_assert_null(memmem(buf, (size_t)n, rec, sizeof(rec)));
	p.pid_ns = true;
	cr_assert_eq(vm_initrd_build(&p, NULL, &fd, &err), 0, "%s", err.msg);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	cr_assert_not_null(memmem(buf, (size_t)n, rec, sizeof(rec)));
}

/* rlimits, no_new_privs and the capability sets, as guest/init.c reads
 * them: "RES SOFT HARD" in decimal, five hex masks. */
Test(vm_boot, initrd_config_sec)
{
	char *args[] = { "/bin/sh", NULL };
	struct rt_rlimit rl[] = { { .resource = RLIMIT_NOFILE, .soft = 321, .hard = 654 },
				  { .resource = RLIMIT_CORE, .soft = RLIM_INFINITY,
				    .hard = RLIM_INFINITY } };
	struct vm_guest_proc p = { .args = args, .cwd = "/",
				   .sec = { .rlimits = rl, .n_rlimits = 2, .no_new_privs = true,
					    .has_caps = true, .bounding = 0x421, .effective = 0x21,
					    .inheritable = 0, .permitted = 0x421, .ambient = 0x1 } };
	static char buf[4 << 20];
	static const char want[] = "rlimit\0" "7 321 654\0rlimit\0" "4 18446744073709551615 "
				   "18446744073709551615\0nnp\0" "1\0caps\0" "421 21 0 421 1";
	int fd = -1;
	ssize_t n;

	cr_assert_eq(vm_initrd_build(&p, NULL, &fd, &err), 0, "%s", err.msg);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	cr_assert_not_null(memmem(buf, (size_t)n, want, sizeof(want)));
}
