#include "config.h"
/* Name tables shared by the parser, the validator and `features`.  The
 * tables are spelled out here rather than taken from libcap or libseccomp so
 * that the accepted spellings are exactly the OCI ones (upper case, with
 * prefix) and do not change with the library version. */
#include "runtime/spec.h"

#include <linux/capability.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime/cleanup.h"

static const char *const ns_names[RT_NS__COUNT] = {
	[RT_NS_USER] = "user",
	[RT_NS_PID] = "pid",
	[RT_NS_NET] = "network",
	[RT_NS_MNT] = "mount",
	[RT_NS_IPC] = "ipc",
	[RT_NS_UTS] = "uts",
	[RT_NS_CGROUP] = "cgroup",
	[RT_NS_TIME] = "time",
};

static const char *const hook_names[RT_HOOK__COUNT] = {
	[RT_HOOK_PRESTART] = "prestart",
	[RT_HOOK_CREATE_RUNTIME] = "createRuntime",
	[RT_HOOK_CREATE_CONTAINER] = "createContainer",
	[RT_HOOK_START_CONTAINER] = "startContainer",
	[RT_HOOK_POSTSTART] = "poststart",
	[RT_HOOK_POSTSTOP] = "poststop",
};

#define CAP(n) [CAP_##n] = "CAP_" #n
static const char *const cap_names[CAP_LAST_CAP + 1] = {
	CAP(CHOWN), CAP(DAC_OVERRIDE), CAP(DAC_READ_SEARCH), CAP(FOWNER),
	CAP(FSETID), CAP(KILL), CAP(SETGID), CAP(SETUID), CAP(SETPCAP),
	CAP(LINUX_IMMUTABLE), CAP(NET_BIND_SERVICE), CAP(NET_BROADCAST),
	CAP(NET_ADMIN), CAP(NET_RAW), CAP(IPC_LOCK), CAP(IPC_OWNER),
	CAP(SYS_MODULE), CAP(SYS_RAWIO), CAP(SYS_CHROOT), CAP(SYS_PTRACE),
	CAP(SYS_PACCT), CAP(SYS_ADMIN), CAP(SYS_BOOT), CAP(SYS_NICE),
	CAP(SYS_RESOURCE), CAP(SYS_TIME), CAP(SYS_TTY_CONFIG), CAP(MKNOD),
	CAP(LEASE), CAP(AUDIT_WRITE), CAP(AUDIT_CONTROL), CAP(SETFCAP),
	CAP(MAC_OVERRIDE), CAP(MAC_ADMIN), CAP(SYSLOG), CAP(WAKE_ALARM),
	CAP(BLOCK_SUSPEND), CAP(AUDIT_READ),
#ifdef CAP_PERFMON
	CAP(PERFMON),
#endif
#ifdef CAP_BPF
	CAP(BPF),
#endif
#ifdef CAP_CHECKPOINT_RESTORE
	CAP(CHECKPOINT_RESTORE),
#endif
};
#undef CAP

#define RL(n) { "RLIMIT_" #n, RLIMIT_##n }
static const struct { const char *name; int res; } rlimit_names[] = {
	RL(CPU), RL(FSIZE), RL(DATA), RL(STACK), RL(CORE), RL(RSS),
	RL(NPROC), RL(NOFILE), RL(MEMLOCK), RL(AS), RL(LOCKS),
	RL(SIGPENDING), RL(MSGQUEUE), RL(NICE), RL(RTPRIO), RL(RTTIME),
};
#undef RL

static const struct { const char *name; enum rt_seccomp_action act; } action_names[] = {
	{ "SCMP_ACT_KILL", RT_SECCOMP_KILL },
	{ "SCMP_ACT_KILL_PROCESS", RT_SECCOMP_KILL_PROCESS },
	{ "SCMP_ACT_KILL_THREAD", RT_SECCOMP_KILL_THREAD },
	{ "SCMP_ACT_TRAP", RT_SECCOMP_TRAP },
	{ "SCMP_ACT_ERRNO", RT_SECCOMP_ERRNO },
	{ "SCMP_ACT_TRACE", RT_SECCOMP_TRACE },
	{ "SCMP_ACT_ALLOW", RT_SECCOMP_ALLOW },
	{ "SCMP_ACT_LOG", RT_SECCOMP_LOG },
	{ "SCMP_ACT_NOTIFY", RT_SECCOMP_NOTIFY },
};

static int index_of(const char *const *table, size_t n, const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], name) == 0)
			return (int)i;
	return -1;
}

int rt_ns_kind_from_name(const char *name)
{
	return index_of(ns_names, RT_NS__COUNT, name);
}

const char *rt_ns_kind_name(enum rt_ns_kind k)
{
	return (unsigned)k < RT_NS__COUNT ? ns_names[k] : NULL;
}

int rt_hook_kind_from_name(const char *name)
{
	return index_of(hook_names, RT_HOOK__COUNT, name);
}

const char *rt_hook_kind_name(enum rt_hook_kind k)
{
	return (unsigned)k < RT_HOOK__COUNT ? hook_names[k] : NULL;
}

int rt_cap_from_name(const char *name)
{
	return index_of(cap_names, RT_ARRAY_SIZE(cap_names), name);
}

/* NULL past the last capability this build knows, so callers can iterate
 * from 0 until they get NULL. */
const char *rt_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= RT_ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int rt_rlimit_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < RT_ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(rlimit_names[i].name, name) == 0)
			return rlimit_names[i].res;
	return -1;
}

/* Returns 0 and fills *out, or -EINVAL for an unknown name. */
int rt_seccomp_action_from_name(const char *name, enum rt_seccomp_action *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < RT_ARRAY_SIZE(action_names); i++) {
		if (strcmp(action_names[i].name, name) == 0) {
			*out = action_names[i].act;
			return 0;
		}
	}
	return -EINVAL;
}
