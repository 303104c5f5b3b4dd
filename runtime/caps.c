#include "config.h"
/* Capability sets.  Order matters: the bounding set can only be reduced
 * while CAP_SETPCAP is effective, and ambient capabilities can only be
 * raised once they are both permitted and inheritable, so the sequence is
 * effective := permitted, drop bounding, capset, then ambient. */

#include "runtime/process.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's own capset ABI; libcap would allocate, and this runs in the
 * child between fork and exec. */
static int raw_capget(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capget, &h, d);
}

static int raw_capset(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

/* Highest capability the running kernel knows.  Read with plain syscalls so
 * the child can call it. */
static int cap_last_cap(void)
{
	char buf[16];
	ssize_t n;
	int fd, last;

	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CAP_LAST_CAP;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return CAP_LAST_CAP;
	buf[n] = '\0';
	last = atoi(buf);
	if (last <= 0 || last > 63)
		return CAP_LAST_CAP;
	return last;
}

static const char *cap_label(int cap)
{
	const char *name = rt_cap_name(cap);

	return name ? name : "capability";
}

uint64_t rt_caps_all(void)
{
	int last = cap_last_cap();

	return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

/* Make every permitted capability effective, so CAP_SETPCAP (needed to
 * shrink the bounding set) is usable after a setuid cleared the effective
 * set. */
static int raise_effective(struct rt_err *err)
{
	struct __user_cap_data_struct d[2];
	uint64_t perm, inh;

	if (raw_capget(d) < 0)
		return rt_err_sys(err, errno, "capget");
	perm = d[0].permitted | ((uint64_t)d[1].permitted << 32);
	inh = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
	if (raw_capset(perm, perm, inh) < 0)
		return rt_err_sys(err, errno, "capset (raising the effective set)");
	return 0;
}

static int drop_bounding(uint64_t keep, int last, struct rt_err *err)
{
	for (int c = 0; c <= last; c++) {
		if (keep & (UINT64_C(1) << c))
			continue;
		/* Already gone: nothing to do, and no CAP_SETPCAP needed. */
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return rt_err_sys(err, errno, "capabilities: cannot drop %s (%d) from the bounding set",
					  cap_label(c), c);
	}
	return 0;
}

static int set_ambient(uint64_t ambient, int last, struct rt_err *err)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* Kernels before 4.3 have no ambient set; fine if none asked. */
		if (errno == EINVAL && ambient == 0)
			return 0;
		return rt_err_sys(err, errno, "capabilities: cannot clear the ambient set");
	}
	for (int c = 0; c <= last; c++) {
		if (!(ambient & (UINT64_C(1) << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return rt_err_sys(err, errno,
					  "capabilities.ambient: cannot raise %s (%d): it must be permitted and inheritable",
					  cap_label(c), c);
	}
	return 0;
}

int rt_caps_apply(const struct rt_caps *caps, struct rt_err *err)
{
	int last = cap_last_cap();
	uint64_t known = rt_caps_all();
	int r;

	r = raise_effective(err);
	if (r < 0)
		return r;
	r = drop_bounding(caps->bounding, last, err);
	if (r < 0)
		return r;
	/* Capabilities this kernel does not know cannot be set: ignore them as
	 * runc does, so one config works on older kernels. */
	if (raw_capset(caps->effective & known, caps->permitted & known,
		       caps->inheritable & known) < 0)
		return rt_err_sys(err, errno,
				  "capabilities: capset (effective %#llx, permitted %#llx, inheritable %#llx)",
				  (unsigned long long)(caps->effective & known),
				  (unsigned long long)(caps->permitted & known),
				  (unsigned long long)(caps->inheritable & known));
	/* An ambient cap must be permitted and inheritable; the runtime spec
	 * says one that cannot be granted is a warning, not a failure (the
	 * parent warns at plan time, see rt_caps_ambient_ungrantable). */
	return set_ambient(caps->ambient & caps->permitted & caps->inheritable & known, last, err);
}

uint64_t rt_caps_ambient_ungrantable(const struct rt_caps *caps)
{
	return caps->ambient & ~(caps->permitted & caps->inheritable);
}
