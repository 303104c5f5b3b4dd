/* The VMM's own jail, part one, applied once its files are open: no
 * capabilities at all (KVM needs none once /dev/kvm is open).  Part two is
 * the seccomp filter (vm_seccomp.c), loaded once the VM is set up. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "microvm/vmm.h"

static int drop_caps(struct rt_err *err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {{0}};

	for (int c = 0; c <= CAP_LAST_CAP; c++)
		prctl(PR_CAPBSET_DROP, c, 0, 0, 0);   /* EPERM without CAP_SETPCAP: fine */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) < 0)
		return rt_err_sys(err, errno, "VMM: drop capabilities");
	return 0;
}

int vmm_jail(struct rt_err *err)
{
	return drop_caps(err);
}
