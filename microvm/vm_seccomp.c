/* The VMM's seccomp filter (see vm_seccomp.h).  Written for x86-64 only
 * (the VMM is x86-64 only); other architectures' syscalls are killed. */
#include "config.h"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>

#include "microvm/vm_seccomp.h"
#include "runtime/cleanup.h"

static const char *const allowed[] = {
	/* fd I/O: devices, irqfds, the event loop, stdio */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "close", "lseek", "fsync", "fdatasync", "fstat", "newfstatat",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl",
	/* vhost-user (virtio-fs): ring setup when the guest's driver starts */
	"sendmsg", "recvmsg",
	/* threads and their locks, signals kicking vCPUs out of KVM_RUN */
	"futex", "rt_sigreturn", "rt_sigprocmask", "rt_sigtimedwait", "sigaltstack",
	"tgkill", "gettid", "getpid", "sched_yield", "restart_syscall", "rseq",
	"set_robust_list", "madvise", "exit", "exit_group",
	/* allocation */
	"brk", "munmap", "mremap",
	/* virtio-vsock: clients of its listening socket, half-closed on the
	 * guest's SHUTDOWN (no socket, connect or bind: nothing new is reached) */
	"accept4", "shutdown",
	/* time and entropy */
	"clock_gettime", "clock_nanosleep", "nanosleep", "getrandom",
};

/* The ioctls of a running VMM; everything else KVM or a tty offers is out
 * (creating vCPUs, memory slots, devices: those belong to setup). */
static const unsigned long allowed_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, KVM_GET_MP_STATE,
	KVM_SET_MP_STATE, KVM_IOEVENTFD, KVM_IRQFD,
	TIOCGWINSZ,   /* the console's window size on SIGWINCH */
	TCSETS,       /* the console restoring the host terminal's modes at exit */
};

static void ctx_freep(scmp_filter_ctx *c) { if (*c) seccomp_release(*c); }

static int add_rules(scmp_filter_ctx ctx, struct rt_err *err)
{
	int r;

	for (size_t i = 0; i < RT_ARRAY_SIZE(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;   /* unknown to this libseccomp: stays forbidden */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return rt_err_set(err, -r, "seccomp: allowing %s", allowed[i]);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(allowed_ioctls); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)allowed_ioctls[i]));
		if (r < 0)
			return rt_err_set(err, -r, "seccomp: allowing ioctl %#lx", allowed_ioctls[i]);
	}
	/* No new executable memory: guest-controlled data never becomes code. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return r < 0 ? rt_err_set(err, -r, "seccomp: mmap rules") : 0;
}

int vm_seccomp_load(struct rt_err *err)
{
	_cleanup_(ctx_freep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r;

	if (!ctx)
		return rt_err_set(err, ENOMEM, "seccomp: init");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r < 0)
		return rt_err_set(err, -r, "seccomp: thread sync");
	r = add_rules(ctx, err);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	if (r < 0)
		return rt_err_set(err, -r, "seccomp: loading the VMM filter");
	return 0;
}
