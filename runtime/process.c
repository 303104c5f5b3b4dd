#include "config.h"
/* Process attributes and the user switch, applied in the child after the
 * rootfs is entered and before exec.  Only syscalls and small fixed buffers
 * here: the spec was validated and planned in the parent.
 *
 * Order (driven by the caller): rt_process_apply_attrs as root, then
 * rt_process_switch_user, then no_new_privs and seccomp. */

#include "runtime/process.h"
#include "runtime/cleanup.h"

#include <ctype.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOPRIO_WHO_PROCESS_ 1
#define IOPRIO_CLASS_SHIFT_ 13

/* glibc 2.36 has no sched_setattr wrapper; this is the kernel's
 * SCHED_ATTR_SIZE_VER0 layout. */
struct hull_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* Largest cpu set we accept: 8192 cpus, on the stack. */
#define CPUSET_BYTES 1024

/* Small file helpers with plain syscalls (no allocation in the child). */
static int write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* ---- cpu lists ---- */

static int parse_cpu_num(const char **pp, unsigned long *out)
{
	const char *p = *pp;
	char *end;

	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*out = strtoul(p, &end, 10);
	if (errno)
		return -1;
	*pp = end;
	return 0;
}

int rt_parse_cpulist(const char *list, void *cpuset, size_t setsize, struct rt_err *err)
{
	const char *p = list;
	unsigned long max = setsize * 8;

	CPU_ZERO_S(setsize, (cpu_set_t *)cpuset);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '\n')
		return rt_err_set(err, EINVAL, "cpu list \"%s\" is empty", list);
	for (;;) {
		unsigned long lo, hi;

		if (parse_cpu_num(&p, &lo) < 0)
			return rt_err_set(err, EINVAL, "cpu list \"%s\": expected a cpu number at \"%s\"",
					  list, p);
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_cpu_num(&p, &hi) < 0)
				return rt_err_set(err, EINVAL, "cpu list \"%s\": bad range end at \"%s\"",
						  list, p);
			if (hi < lo)
				return rt_err_set(err, EINVAL, "cpu list \"%s\": range %lu-%lu is reversed",
						  list, lo, hi);
		}
		if (hi >= max)
			return rt_err_set(err, EINVAL, "cpu list \"%s\": cpu %lu beyond the limit of %lu cpus",
					  list, hi, max);
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET_S(c, setsize, (cpu_set_t *)cpuset);
		if (*p == ',') {
			p++;
			continue;
		}
		/* A trailing newline, as sysfs cpu lists have, is fine. */
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p != '\0')
			return rt_err_set(err, EINVAL, "cpu list \"%s\": unexpected \"%s\"", list, p);
		return 0;
	}
}

int rt_process_set_affinity(const char *cpulist, struct rt_err *err)
{
	unsigned long set[CPUSET_BYTES / sizeof(unsigned long)];
	int r;

	r = rt_parse_cpulist(cpulist, set, sizeof(set), err);
	if (r < 0)
		return r;
	if (sched_setaffinity(0, sizeof(set), (cpu_set_t *)set) < 0)
		return rt_err_sys(err, errno, "sched_setaffinity(\"%s\")", cpulist);
	return 0;
}

/* ---- attributes ---- */

static int apply_rlimits(const struct rt_process *p, struct rt_err *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct rt_rlimit *l = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };

		if (setrlimit(l->resource, &rl) < 0)
			return rt_err_sys(err, errno, "process.rlimits: %s (soft %llu, hard %llu)",
					  l->name ? l->name : "?", (unsigned long long)l->soft,
					  (unsigned long long)l->hard);
	}
	return 0;
}

static int apply_oom_score_adj(const struct rt_process *p, struct rt_err *err)
{
	char buf[16];
	int r;

	if (!p->has_oom_score_adj)
		return 0;
	snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	r = write_str("/proc/self/oom_score_adj", buf);
	if (r < 0)
		return rt_err_sys(err, -r, "process.oomScoreAdj: cannot set %d", p->oom_score_adj);
	return 0;
}

static int apply_io_priority(const struct rt_process *p, struct rt_err *err)
{
	const struct rt_io_priority *io = &p->io_priority;
	int value;

	if (!io->present)
		return 0;
	value = (io->class << IOPRIO_CLASS_SHIFT_) | io->priority;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, 0, value) < 0)
		return rt_err_sys(err, errno, "process.ioPriority: class %d priority %d", io->class,
				  io->priority);
	return 0;
}

static int apply_scheduler(const struct rt_process *p, struct rt_err *err)
{
	const struct rt_scheduler *s = &p->scheduler;
	struct hull_sched_attr a = {
		.size = sizeof(a),
		.sched_policy = (uint32_t)s->policy,
		.sched_flags = s->flags,
		.sched_nice = s->nice,
		.sched_priority = (uint32_t)s->priority,
		.sched_runtime = s->runtime,
		.sched_deadline = s->deadline,
		.sched_period = s->period,
	};

	if (!s->present)
		return 0;
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return rt_err_sys(err, errno,
				  "process.scheduler: sched_setattr (policy %d, priority %d, nice %d)",
				  s->policy, s->priority, s->nice);
	return 0;
}

static int apply_personality(const struct rt_personality *pers, struct rt_err *err)
{
	if (!pers || !pers->present)
		return 0;
	if (personality(pers->domain | pers->flags) < 0)
		return rt_err_sys(err, errno, "linux.personality: cannot set %#lx",
				  pers->domain | pers->flags);
	return 0;
}

static int apply_apparmor(const char *profile, const char **warning, struct rt_err *err)
{
	char enabled[8] = "";
	char buf[4096];
	int r;

	if (!profile || !*profile)
		return 0;
	if (read_small("/sys/module/apparmor/parameters/enabled", enabled, sizeof(enabled)) < 0 ||
	    enabled[0] != 'Y') {
		if (warning)
			*warning = "apparmorProfile ignored: AppArmor is not enabled";
		return 0;
	}
	if ((size_t)snprintf(buf, sizeof(buf), "exec %s", profile) >= sizeof(buf))
		return rt_err_set(err, ENAMETOOLONG, "process.apparmorProfile: too long");
	/* The LSM-specific file exists since 5.8 (stacking); older kernels
	 * only have the shared one. */
	r = write_str("/proc/self/attr/apparmor/exec", buf);
	if (r == -ENOENT)
		r = write_str("/proc/self/attr/exec", buf);
	if (r < 0)
		return rt_err_sys(err, -r, "process.apparmorProfile: cannot set \"%s\"", profile);
	return 0;
}

static int apply_selinux(const char *label, const char **warning, struct rt_err *err)
{
	int r;

	if (!label || !*label)
		return 0;
	if (access("/sys/fs/selinux/enforce", F_OK) < 0) {
		if (warning && !*warning)
			*warning = "selinuxLabel ignored: SELinux is not enabled";
		return 0;
	}
	r = write_str("/proc/self/attr/exec", label);
	if (r < 0)
		return rt_err_sys(err, -r, "process.selinuxLabel: cannot set \"%s\"", label);
	return 0;
}

int rt_process_apply_attrs(const struct rt_process *p, const struct rt_personality *pers,
			   const char **warning, struct rt_err *err)
{
	int r;

	if (warning)
		*warning = NULL;
	if ((r = apply_rlimits(p, err)) < 0 ||
	    (r = apply_oom_score_adj(p, err)) < 0 ||
	    (r = apply_io_priority(p, err)) < 0 ||
	    (r = apply_scheduler(p, err)) < 0)
		return r;
	if (p->exec_cpu_affinity_initial &&
	    (r = rt_process_set_affinity(p->exec_cpu_affinity_initial, err)) < 0)
		return rt_err_wrap(err, "process.execCPUAffinity.initial");
	if ((r = apply_personality(pers, err)) < 0 ||
	    (r = apply_apparmor(p->apparmor_profile, warning, err)) < 0 ||
	    (r = apply_selinux(p->selinux_label, warning, err)) < 0)
		return r;
	return 0;
}

/* ---- user switch ---- */

/* In a user namespace created without privilege, setgroups is denied and
 * the container has no supplementary groups to drop anyway. */
static bool setgroups_denied(void)
{
	char buf[16];

	if (read_small("/proc/self/setgroups", buf, sizeof(buf)) < 0)
		return false;
	return strncmp(buf, "deny", 4) == 0;
}

static int set_ids(const struct rt_user *u, struct rt_err *err)
{
	if (!setgroups_denied() && setgroups(u->n_additional_gids, u->additional_gids) < 0)
		return rt_err_sys(err, errno, "process.user.additionalGids: setgroups (%zu groups)",
				  u->n_additional_gids);
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return rt_err_sys(err, errno, "process.user.gid: cannot switch to gid %u",
				  (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return rt_err_sys(err, errno, "process.user.uid: cannot switch to uid %u",
				  (unsigned)u->uid);
	return 0;
}

/* Engines turn a runtime's error text into the exit status a shell would
 * give (127 not found, 126 cannot run): podman and Docker match Go's
 * lower-case texts "executable file not found in $PATH", "no such file or
 * directory" and "permission denied".  So the check that create makes (an
 * error at start would reach them without its text) uses those words.  It
 * runs before the user switch, so "executable" means by anyone (X_OK as
 * root); execve itself still has the last word. */
static int exec_error(struct rt_err *err, const char *file, const char *what, int code)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "%s", strerror(code));
	msg[0] = (char)tolower((unsigned char)msg[0]);
	return rt_err_set(err, code, "exec: \"%s\": %s%s%s", file, what ? what : "",
			  what ? ": " : "", msg);
}

static int exec_usable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

int rt_process_check_exec(const char *file, char *const *env, struct rt_err *err)
{
	const char *path = "/bin:/usr/bin";  /* execvp's default */
	char cand[PATH_MAX];
	bool denied = false;
	int r;

	if (strchr(file, '/')) {
		r = exec_usable(file);
		if (r == -EACCES)
			return exec_error(err, file, NULL, EACCES);
		snprintf(cand, sizeof(cand), "stat %s", file);
		return r < 0 ? exec_error(err, file, cand, -r) : 0;
	}
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n > 0 && (size_t)snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, file) < sizeof(cand)) {
			r = exec_usable(cand);
			if (r == 0)
				return 0;
			denied |= r == -EACCES;
		}
		path += n + (path[n] == ':');
	}
	if (denied)
		return exec_error(err, file, NULL, EACCES);
	return rt_err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

/* Without no_new_privs, loading a seccomp filter takes CAP_SYS_ADMIN.
 * Engines (podman, Docker) run with no_new_privs off and without
 * CAP_SYS_ADMIN in the process's set, so their filter must go in before
 * rt_process_switch_user drops the capabilities; it then also filters the
 * few calls hull makes until execve (setgroups, setuid, capset, accept4,
 * read), which engine profiles allow.  Otherwise the filter goes in as late
 * as possible, just before execve. */
bool rt_process_seccomp_before_caps(const struct rt_process *p)
{
	bool admin = p->caps.present ? (p->caps.effective >> CAP_SYS_ADMIN) & 1
				     : p->user.uid == 0;

	return !p->no_new_privileges && !admin;
}

int rt_process_switch_user(const struct rt_process *p, struct rt_err *err)
{
	const struct rt_user *u = &p->user;
	struct rt_caps none = { .present = true };
	int r;

	/* Keep the permitted set across setuid so the spec's capabilities can
	 * still be set afterwards. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return rt_err_sys(err, errno, "prctl(PR_SET_KEEPCAPS)");
	r = set_ids(u, err);
	if (r < 0)
		return r;
	umask(u->has_umask ? u->umask : 0022);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return rt_err_sys(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (p->caps.present)
		r = rt_caps_apply(&p->caps, err);
	else if (u->uid != 0) {
		/* Everything but the bounding set, as a non-root exec would. */
		none.bounding = rt_caps_all();
		r = rt_caps_apply(&none, err);
	}
	return r;
}
