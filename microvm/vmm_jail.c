/* The VMM's own jail, applied once its files are open and before the
 * first thread: no capabilities at all (KVM needs none once /dev/kvm is
 * open), no_new_privs, and a seccomp allowlist of the system calls a
 * running VMM makes.  Anything else (open, exec, socket, ...) kills it. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "microvm/vmm.h"
#include "runtime/cleanup.h"

static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_close, SYS_fstat,
	SYS_newfstatat, SYS_fcntl, SYS_ioctl, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise,
	SYS_brk, SYS_mremap, SYS_memfd_create, SYS_ftruncate, SYS_eventfd2, SYS_signalfd4,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait, SYS_rt_sigaction,
	SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack, SYS_tgkill, SYS_getpid,
	SYS_gettid, SYS_clone, SYS_clone3, SYS_set_robust_list, SYS_rseq, SYS_futex,
	SYS_exit, SYS_exit_group, SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep,
	SYS_sched_yield, SYS_getrandom, SYS_lseek, SYS_fsync, SYS_fdatasync, SYS_pwrite64,
	SYS_preadv, SYS_pwritev, SYS_fallocate, SYS_sched_getaffinity, SYS_poll, SYS_ppoll,
};

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
	size_t n = RT_ARRAY_SIZE(allowed), len = 4 + n + 2, i = 0;
	_cleanup_free_ struct sock_filter *f = calloc(len, sizeof(*f));
	struct sock_fprog prog = { .len = (unsigned short)len };

	if (!f)
		return rt_err_set(err, ENOMEM, "VMM seccomp: out of memory");
	if (drop_caps(err) < 0)
		return -err->code;
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	/* One test per allowed call; a match jumps to the ALLOW at the end. */
	for (size_t k = 0; k < n; k++)
		f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[k],
						      (uint8_t)(n - k), 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rt_err_sys(err, errno, "VMM: no_new_privs");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return rt_err_sys(err, errno, "VMM: seccomp filter");
	return 0;
}
