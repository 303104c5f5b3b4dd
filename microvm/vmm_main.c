/* hull-vmm: the VMM as its own static program, so that a VM-mode
 * container's init can exec it inside any root file system (no dynamic
 * loader or libraries needed there). */
#include "config.h"
#include "microvm/vmm.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct rt_err err = {0};
	int status = vmm_cli(argc, argv, &err);

	if (status < 0) {
		fprintf(stderr, "hull: %s\n", err.msg);
		return 1;
	}
	return status;
}
