/* The container's side of create: the intermediate process that joins
 * namespaces, and the init that builds the container, reports each stage
 * to the parent over the sync socket, waits for `start`, and execs. */
#include "config.h"
#include "runtime/container.h"
#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "runtime/console.h"
#include "runtime/container_int.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "namespaces/mount.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

extern char **environ;

const int rt_ns_clone_flag[RT_NS__COUNT] = {
	[RT_NS_USER] = CLONE_NEWUSER, [RT_NS_PID] = CLONE_NEWPID, [RT_NS_NET] = CLONE_NEWNET,
	[RT_NS_MNT] = CLONE_NEWNS, [RT_NS_IPC] = CLONE_NEWIPC, [RT_NS_UTS] = CLONE_NEWUTS,
	[RT_NS_CGROUP] = CLONE_NEWCGROUP, [RT_NS_TIME] = CLONE_NEWTIME,
};

/* Everything the child needs, computed before it exists. */
void rt_plan_state(const struct plan *p, pid_t pid, struct rt_state *st)
{
	memset(st, 0, sizeof(*st));
	st->id = (char *)p->o->id;
	st->bundle = (char *)p->bundle;
	st->rootfs = (char *)p->rootfs;
	st->pid = pid;
	st->cgroup_path = p->cgroup_path;
	st->annotations = p->spec->annotations;
	st->n_annotations = p->spec->n_annotations;
}

int rt_plan_hooks(const struct plan *p, enum rt_hook_kind kind, pid_t pid, const char *status,
		     struct rt_err *err)
{
	struct rt_state st;
	_cleanup_free_ char *json = NULL;

	if (!p->spec->hooks[kind].n)
		return 0;
	rt_plan_state(p, pid, &st);
	json = rt_state_oci_json(&st, status);
	if (!json)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_hooks_run(&p->spec->hooks[kind], kind, json, err);
}

static int apply_sysctl(const struct rt_spec *s, struct rt_err *err)
{
	for (size_t i = 0; i < s->linux_.n_sysctl; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->linux_.sysctl[i].key);
		for (char *c = path + 10; c < path + n; c++)
			if (*c == '.')
				*c = '/';
		if (rt_write_file(path, s->linux_.sysctl[i].value, strlen(s->linux_.sysctl[i].value),
				  err) < 0)
			return rt_err_wrap(err, "linux.sysctl %s", s->linux_.sysctl[i].key);
	}
	return 0;
}

static int init_identity(const struct plan *p, struct rt_err *err)
{
	const struct rt_spec *s = p->spec;

	if (p->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return rt_err_sys(err, errno, "become root in the user namespace (is 0 mapped?)");
	if (p->cgroupns && unshare(CLONE_NEWCGROUP) < 0)
		return rt_err_sys(err, errno, "create the cgroup namespace");
	if (!p->o->no_new_keyring &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->o->id) < 0 &&
	    errno != ENOSYS && errno != EACCES && errno != EPERM && errno != EDQUOT)
		return rt_err_sys(err, errno, "join a new session keyring");
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return rt_err_sys(err, errno, "hostname %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return rt_err_sys(err, errno, "domainname %s", s->domainname);
	return 0;
}

static bool seccomp_early(const struct plan *p)
{
	return p->seccomp && rt_process_seccomp_before_caps(&p->spec->process);
}

static int init_seccomp(const struct plan *p, int sock, struct rt_err *err)
{
	_cleanup_close_ int lfd = -1;
	bool notify = rt_seccomp_plan_has_notify(p->seccomp);

	if (rt_seccomp_plan_load(p->seccomp, notify ? &lfd : NULL, err) < 0)
		return -err->code;
	if (notify)
		rt_sync_send(sock, SYNC_SECCOMP_FD, 0, NULL, lfd);
	return 0;
}

/* Steps up to "ready": everything that can fail is done here, so that
 * create reports it and start only has to exec. */
static int init_setup(const struct plan *p, int sock, pid_t host_pid, struct rt_err *err)
{
	const struct rt_spec *s = p->spec;
	struct rt_sync_msg m;
	const char *warning = NULL;

	if (init_identity(p, err) < 0 || ns_rootfs_prepare(p->rootfs_plan, err) < 0)
		return -err->code;
	if (rt_sync_send(sock, SYNC_PRESTART, 0, NULL, -1) < 0 ||
	    rt_sync_expect(sock, SYNC_PRESTART_DONE, &m, NULL, err) < 0)
		return -EPIPE;
	/* runtime.md: create has not finished yet, so the state says creating */
	if (rt_plan_hooks(p, RT_HOOK_CREATE_CONTAINER, host_pid, "creating", err) < 0)
		return -err->code;
	/* Through the host's /proc, which still reaches this process's own net
	 * and ipc namespaces, before readonlyPaths can cover /proc/sys. */
	if (apply_sysctl(s, err) < 0 || ns_rootfs_enter(p->rootfs_plan, p->o->no_pivot, err) < 0)
		return -err->code;
	if (s->process.terminal) {
		_cleanup_close_ int master = -1;
		if (rt_console_setup_child(&s->process, &master, err) < 0)
			return -err->code;
		rt_sync_send(sock, SYNC_PTY_MASTER, 0, NULL, master);
	}
	if (rt_process_apply_attrs(&s->process, &s->linux_.personality, &warning, err) < 0)
		return -err->code;
	if (warning)
		rt_sync_send(sock, SYNC_WARNING, 0, warning, -1);
	if (chdir(s->process.cwd) < 0)
		return rt_err_sys(err, errno, "process.cwd %s", s->process.cwd);
	/* as execvp will look it up, so that create (not start) says so; before
	 * any seccomp filter, which may not allow the lookup's calls */
	if (rt_process_check_exec(s->process.args[0], p->env, err) < 0)
		return -err->code;
	if (seccomp_early(p) && init_seccomp(p, sock, err) < 0)
		return -err->code;
	if (rt_process_switch_user(&s->process, err) < 0)
		return -err->code;
	if (s->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rt_err_sys(err, errno, "set no_new_privs");
	if (p->seccomp && !seccomp_early(p) && rt_seccomp_plan_has_notify(p->seccomp) &&
	    init_seccomp(p, sock, err) < 0)
		return -err->code;
	return 0;
}

/* Report a failure after start to the `hull start` that is waiting on conn. */
static _Noreturn void start_fail(int conn, struct rt_err *err)
{
	if (conn >= 0)
		rt_write_all(conn, err->msg, strlen(err->msg));
	_exit(127);
}

static _Noreturn void init_main(const struct plan *p, int sock, int start_sock)
{
	struct rt_err err = {0};
	struct rt_sync_msg m;
	pid_t host_pid;
	char c;
	int conn, tap = -1;   /* VM mode: the tap the parent made for the VMM */
	int keep[3 + VM_PLAN_NFDS] = { sock, start_sock };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (rt_sync_expect(sock, SYNC_GO, &m, &tap, &err) < 0)
		_exit(1);
	host_pid = m.value;
	vm_plan_fds(&p->vm, keep + 2);
	keep[2 + VM_PLAN_NFDS] = tap;
	rt_close_fds_from(3 + p->o->preserve_fds + p->listen_fds, keep, 3 + VM_PLAN_NFDS);
	if (init_setup(p, sock, host_pid, &err) < 0) {
		rt_sync_send_err(sock, &err);
		_exit(1);
	}
	prctl(PR_SET_PDEATHSIG, 0);
	rt_sync_send(sock, SYNC_READY, 0, NULL, -1);
	close(sock);

	/* Created: wait for `hull start`.  The accepted connection is CLOEXEC,
	 * so start sees EOF exactly when the exec succeeded. */
	do
		conn = accept4(start_sock, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0 || read(conn, &c, 1) != 1)
		_exit(1);
	close(start_sock);
	/* the user's program has not been executed yet: still created */
	if (rt_plan_hooks(p, RT_HOOK_START_CONTAINER, host_pid, "created", &err) < 0)
		start_fail(conn, &err);
	if (p->seccomp && !seccomp_early(p) && !rt_seccomp_plan_has_notify(p->seccomp) &&
	    rt_seccomp_plan_load(p->seccomp, NULL, &err) < 0)
		start_fail(conn, &err);
	if (p->spec->process.exec_cpu_affinity_final &&
	    rt_process_set_affinity(p->spec->process.exec_cpu_affinity_final, &err) < 0)
		start_fail(conn, &err);
	if (p->vm.enabled) {
		vm_plan_exec(&p->vm, tap, &err);
		start_fail(conn, &err);
	}
	environ = p->env;
	execvp(p->spec->process.args[0], p->spec->process.args);
	rt_err_sys(&err, errno, "exec %s", p->spec->process.args[0]);
	start_fail(conn, &err);
}

/* The intermediate process: joins namespaces given by path (user first),
 * enters a new time namespace, then clones the init with CLONE_PARENT so
 * the init is hull's own child (run can wait for it). */
_Noreturn void rt_stage1_main(const struct plan *p, int sock, int start_sock)
{
	struct rt_err err = {0};
	long pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Until the workload's execve, this process and the init are images
	 * of hull: not dumpable, so nothing in the container can open
	 * /proc/PID/exe and overwrite hull's binary (CVE-2019-5736).  execve
	 * makes the workload dumpable again.  A rootless hull must keep its
	 * child's /proc files its own to write the id maps. */
	if (geteuid() == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	for (int k = 0; k < RT_NS__COUNT; k++) {
		if (p->join_fd[k] >= 0 && setns(p->join_fd[k], rt_ns_clone_flag[k]) < 0) {
			rt_err_sys(&err, errno, "join %s namespace %s", rt_ns_kind_name(k),
				   p->spec->linux_.namespaces[k].path);
			goto fail;
		}
	}
	if (p->timens) {
		const struct rt_linux *l = &p->spec->linux_;
		char off[128];
		if (unshare(CLONE_NEWTIME) < 0) {
			rt_err_sys(&err, errno, "create time namespace");
			goto fail;
		}
		snprintf(off, sizeof(off), "monotonic %lld %u\nboottime %lld %u\n",
			 (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs,
			 (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
		if (rt_write_file("/proc/self/timens_offsets", off, strlen(off), &err) < 0)
			goto fail;
	}
	pid = syscall(SYS_clone, p->clone_flags | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		rt_err_sys(&err, errno, "clone the container process");
		goto fail;
	}
	if (pid == 0)
		init_main(p, sock, start_sock);
	rt_sync_send(sock, SYNC_INIT_PID, (int32_t)pid, NULL, -1);
	_exit(0);
fail:
	rt_sync_send_err(sock, &err);
	_exit(1);
}
