/* A VMM without virtio devices (until the virtio side lands): the guest
 * gets its stdio over the 8250. */
#include "microvm/vm.h"

int vm_devices_setup(struct vm *vm, char *cmdline, size_t cmdline_len, struct rt_err *err)
{
	(void)vm, (void)cmdline, (void)cmdline_len, (void)err;
	return 0;
}

bool vm_devices_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	(void)vm, (void)addr, (void)data, (void)len, (void)is_write;
	return false;
}

void vm_devices_teardown(struct vm *vm)
{
	(void)vm;
}
