/* The MP table (Intel MultiProcessor Specification 1.4): how a guest with
 * no ACPI learns its CPUs, its I/O APIC and how ISA IRQs reach it.  Linux
 * scans the last KiB of base memory (0x9fc00) for the floating pointer. */
#include <errno.h>
#include <string.h>

#include "microvm/vm.h"

#define MP_MAX_CPUS 32
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11

struct __attribute__((packed)) mp_fp {
	char sig[4];
	uint32_t physptr;
	uint8_t length, spec_rev, checksum, feature[5];
};

struct __attribute__((packed)) mp_header {
	char sig[4];
	uint16_t length;
	uint8_t spec_rev, checksum;
	char oem[8], product[12];
	uint32_t oem_ptr;
	uint16_t oem_size, count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum, reserved;
};

struct __attribute__((packed)) mp_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
};

struct __attribute__((packed)) mp_entry8 {   /* bus, I/O APIC, interrupts */
	uint8_t b[8];
};

static uint8_t checksum(const void *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return (uint8_t)-sum;
}

static uint8_t *add8(uint8_t *p, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint8_t b4,
		     uint8_t b5, uint8_t b6, uint8_t b7)
{
	struct mp_entry8 e = { { b0, b1, b2, b3, b4, b5, b6, b7 } };

	memcpy(p, &e, sizeof(e));
	return p + sizeof(e);
}

int vm_mptable_write(struct vm *vm, struct rt_err *err)
{
	uint8_t *base = vm_mem_ptr(&vm->mem, VM_MPTABLE, VM_EBDA_END - VM_MPTABLE);
	struct mp_fp *fp = (void *)base;
	struct mp_header *h = (void *)(base + sizeof(*fp));
	uint8_t *p = (uint8_t *)(h + 1);
	uint8_t ioapic_id = (uint8_t)vm->ncpus;
	uint16_t count = 0;

	if (vm->ncpus < 1 || vm->ncpus > MP_MAX_CPUS)
		return rt_err_set(err, EINVAL, "vCPUs: %d is not in 1..%d", vm->ncpus, MP_MAX_CPUS);
	memset(base, 0, VM_EBDA_END - VM_MPTABLE);
	for (int i = 0; i < vm->ncpus; i++, count++) {
		struct mp_cpu c = {
			.type = 0, .apic_id = (uint8_t)i, .apic_ver = APIC_VERSION,
			.flags = 1 | (i == 0 ? 2 : 0),            /* enabled, boot CPU */
			.signature = 0x600, .features = 0x201,    /* family 6; FPU, APIC */
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	p = add8(p, 1, 0, 'I', 'S', 'A', ' ', ' ', ' '), count++;             /* bus 0 */
	p = add8(p, 2, ioapic_id, IOAPIC_VERSION, 1, 0, 0, 0xc0, 0xfe), count++;
	/* ISA IRQ n -> I/O APIC pin n, edge, active high (bus defaults). */
	for (uint8_t irq = 0; irq < 16; irq++, count++)
		p = add8(p, 3, 0, 0, 0, 0, irq, ioapic_id, irq);
	p = add8(p, 4, 3, 0, 0, 0, 0, 0xff, 0), count++;   /* ExtINT -> LINT0 */
	p = add8(p, 4, 1, 0, 0, 0, 0, 0xff, 1), count++;   /* NMI -> LINT1 */

	memcpy(h->sig, "PCMP", 4);
	h->length = (uint16_t)(p - (uint8_t *)h);
	h->spec_rev = 4;
	memcpy(h->oem, "HULL    ", 8);
	memcpy(h->product, "MICROVM     ", 12);
	h->count = count;
	h->lapic = (uint32_t)VM_LAPIC_ADDR;
	h->checksum = checksum(h, h->length);

	memcpy(fp->sig, "_MP_", 4);
	fp->physptr = (uint32_t)(VM_MPTABLE + sizeof(*fp));
	fp->length = 1;
	fp->spec_rev = 4;
	fp->checksum = checksum(fp, sizeof(*fp));
	return 0;
}
