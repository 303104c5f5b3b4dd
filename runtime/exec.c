/* exec: a new process in a running container.  A helper joins the
 * container's cgroup and namespaces (through a pidfd, all at once), then
 * clones the process with CLONE_PARENT so it is hull's own child; the
 * process applies its attributes and execs, reporting failures over the
 * sync socket (EOF there means the exec happened).  In a VM-isolated
 * container the process is the guest's: runtime/vm_exec.c asks the guest's
 * agent for it, from the same planned process. */
#include "config.h"
#include "runtime/container.h"
#include "runtime/cleanup.h"
#include "runtime/console.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/util.h"
#include "runtime/vm_exec.h"
#include "cgroups/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

extern char **environ;

struct exec_plan {
	const struct rt_exec_opts *o;
	struct rt_spec *spec;        /* the container's config; process replaced */
	struct rt_process *proc;
	struct rt_seccomp_plan *seccomp;
	struct cg_handle *cg;
	struct rt_state st;
	int pidfd;
	int root_fd;                 /* the init's root (O_PATH), when joining its mount ns */
	int ns_flags;
	bool relay;
	bool vm;                     /* VM-isolated: the guest's agent runs it (vm_exec.c) */
};

static void exec_plan_clear(struct exec_plan *p)
{
	if (p->seccomp)
		rt_seccomp_plan_free(p->seccomp);
	if (p->cg)
		cg_handle_free(p->cg);
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->root_fd >= 0)
		close(p->root_fd);
	rt_state_clear(&p->st);
	if (p->spec)
		rt_spec_free(p->spec);
}

static int parse_user(const char *s, struct rt_user *u, struct rt_err *err)
{
	char *end;
	unsigned long uid, gid;

	errno = 0;
	uid = strtoul(s, &end, 10);
	if (errno || end == s || (*end && *end != ':') || uid > UINT32_MAX - 1)
		return rt_err_set(err, EINVAL, "--user %s: expected UID[:GID]", s);
	u->uid = (uid_t)uid;
	if (*end == ':') {
		const char *g = end + 1;
		gid = strtoul(g, &end, 10);
		if (errno || end == g || *end || gid > UINT32_MAX - 1)
			return rt_err_set(err, EINVAL, "--user %s: expected UID[:GID]", s);
		u->gid = (gid_t)gid;
	}
	u->n_additional_gids = 0;
	return 0;
}

/* The process to run: --process FILE, or the container's process with the
 * command line's overrides. */
static int plan_process(struct exec_plan *p, struct rt_err *err)
{
	const struct rt_exec_opts *o = p->o;
	struct rt_arena *a = p->spec->arena;
	struct rt_process *pr = &p->spec->process;

	if (o->process_file) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (rt_read_file(o->process_file, 4 << 20, &buf, &len, err) < 0)
			return rt_err_wrap(err, "--process");
		memset(pr, 0, sizeof(*pr));
		if (rt_process_parse(buf, len, a, pr, err) < 0)
			return rt_err_wrap(err, "--process %s", o->process_file);
	} else {
		size_t n = rt_strv_len(o->args), ne = rt_strv_len(o->env);
		char **env;
		if (!n)
			return rt_err_set(err, EINVAL, "exec: no command given");
		pr->args = o->args;
		pr->n_args = n;
		if (o->tty_set)
			pr->terminal = o->tty;
		else
			pr->terminal = false;
		if (o->cwd)
			pr->cwd = o->cwd;
		env = rt_arena_array(a, pr->n_env + ne + 1, sizeof(char *));
		memcpy(env, pr->env, pr->n_env * sizeof(char *));
		memcpy(env + pr->n_env, o->env, ne * sizeof(char *));
		pr->env = env;
		pr->n_env += ne;
		if (o->user && parse_user(o->user, &pr->user, err) < 0)
			return -err->code;
		for (char **c = o->caps; c && *c; c++) {
			int cap = rt_cap_from_name(*c);
			if (cap < 0)
				return rt_err_set(err, EINVAL, "--cap %s: unknown capability", *c);
			pr->caps.present = true;
			pr->caps.bounding |= 1ULL << cap;
			pr->caps.effective |= 1ULL << cap;
			pr->caps.permitted |= 1ULL << cap;
		}
		if (o->no_new_privs_set)
			pr->no_new_privileges = o->no_new_privs;
	}
	if (!pr->args || !pr->args[0])
		return rt_err_set(err, EINVAL, "process.args: empty");
	if (!pr->cwd || pr->cwd[0] != '/')
		return rt_err_set(err, EINVAL, "process.cwd: must be an absolute path");
	if (pr->terminal && !o->console_socket && o->detach)
		return rt_err_set(err, EINVAL, "a terminal with --detach needs --console-socket");
	p->relay = pr->terminal && !o->console_socket;
	p->proc = pr;
	return 0;
}

/* Only namespaces that differ from ours: setns into our own user
 * namespace is an error. */
static int differing_namespaces(pid_t pid)
{
	static const struct { const char *name; int flag; } tab[] = {
		{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
		{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
	};
	int flags = 0;

	for (size_t i = 0; i < RT_ARRAY_SIZE(tab); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "/proc/self/ns/%s", tab[i].name);
		snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, tab[i].name);
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
		    (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
			flags |= tab[i].flag;
	}
	return flags;
}

/* setns(CLONE_NEWNS) puts the caller at the root of the namespace's
 * mount tree, which is not the container's root when the namespace was
 * copied from a chrooted process (hull run in a chroot: the pivot_root
 * then happened below the namespace's root).  So the init's own root is
 * taken here and entered after the setns (enter_root()). */
static int open_root(struct exec_plan *p, struct rt_err *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", (int)p->st.pid);
	p->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		return rt_err_sys(err, errno, "the container's root (%s)", path);
	/* the pid could have been reused before the open: it is still the init */
	if (syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) < 0)
		return rt_err_set(err, ESRCH, "container not running");
	return 0;
}

/* After the setns: the container's root, as its init has it. */
static int enter_root(int root_fd, struct rt_err *err)
{
	if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return rt_err_sys(err, errno, "enter the container's root");
	return 0;
}

static int exec_plan_build(const struct rt_exec_opts *o, struct exec_plan *p, struct rt_err *err)
{
	_cleanup_close_ int dfd = -1;
	const char *status;

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->pidfd = -1;
	p->root_fd = -1;
	if (rt_validate_id(o->id, err) < 0)
		return -err->code;
	dfd = rt_state_open_dir(o->root, o->id, err);
	if (dfd < 0 || rt_state_read(o->root, o->id, &p->st, err) < 0)
		return -err->code;
	status = rt_state_status(o->root, &p->st);
	if (strcmp(status, "running") && strcmp(status, "created"))
		return rt_err_set(err, EINVAL, "cannot exec in a %s container", status);
	for (size_t i = 0; i < p->st.n_annotations; i++)
		if (!strcmp(p->st.annotations[i].key, "org.hull.isolation") &&
		    !strcmp(p->st.annotations[i].value, "vm"))
			p->vm = true;
	if (rt_container_load_config(o->root, o->id, &p->spec, err) < 0 ||
	    plan_process(p, err) < 0)
		return -err->code;
	/* The process runs in the guest: its agent applies the rest. */
	if (p->vm)
		return 0;
	if (p->spec->linux_.seccomp &&
	    rt_seccomp_plan_new(p->spec->linux_.seccomp, &p->seccomp, err) < 0)
		return rt_err_wrap(err, "linux.seccomp");
	p->pidfd = (int)syscall(SYS_pidfd_open, p->st.pid, 0);
	if (p->pidfd < 0)
		return rt_err_set(err, ESRCH, "container not running");
	/* The pid could have been reused between the state check and pidfd_open. */
	if (!rt_state_alive(&p->st))
		return rt_err_set(err, ESRCH, "container not running");
	p->ns_flags = differing_namespaces(p->st.pid);
	if ((p->ns_flags & CLONE_NEWNS) && open_root(p, err) < 0)
		return -err->code;
	if (p->st.cgroup_path && cg_open(p->st.cgroup_path, &p->cg, err) < 0)
		return -err->code;
	return 0;
}

static _Noreturn void exec_child(const struct exec_plan *p, int sock)
{
	const struct rt_process *pr = p->proc;
	struct rt_err err = {0};
	const char *warning = NULL;
	_cleanup_close_ int lfd = -1;
	bool early;
	int keep[] = { sock };

	rt_close_fds_from(3 + p->o->preserve_fds, keep, 1);
	if (chdir(pr->cwd) < 0) {
		rt_err_sys(&err, errno, "cwd %s", pr->cwd);
		goto fail;
	}
	if (pr->terminal) {
		_cleanup_close_ int master = -1;
		if (rt_console_setup_child(pr, &master, &err) < 0)
			goto fail;
		rt_sync_send(sock, SYNC_PTY_MASTER, 0, NULL, master);
	}
	if (rt_process_apply_attrs(pr, &p->spec->linux_.personality, &warning, &err) < 0)
		goto fail;
	if (warning)
		rt_sync_send(sock, SYNC_WARNING, 0, warning, -1);
	if (rt_process_check_exec(pr->args[0], pr->env, &err) < 0)
		goto fail;
	early = p->seccomp && rt_process_seccomp_before_caps(pr);
	if (early && rt_seccomp_plan_load(p->seccomp, &lfd, &err) < 0)
		goto fail;
	if (rt_process_switch_user(pr, &err) < 0)
		goto fail;
	if (pr->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rt_err_sys(&err, errno, "set no_new_privs");
		goto fail;
	}
	if (p->seccomp && !early && rt_seccomp_plan_load(p->seccomp, &lfd, &err) < 0)
		goto fail;
	if (pr->exec_cpu_affinity_final &&
	    rt_process_set_affinity(pr->exec_cpu_affinity_final, &err) < 0)
		goto fail;
	environ = pr->env;
	execvp(pr->args[0], pr->args);
	rt_err_sys(&err, errno, "exec %s", pr->args[0]);
fail:
	rt_sync_send_err(sock, &err);
	_exit(127);
}

static _Noreturn void exec_helper(const struct exec_plan *p, int sock)
{
	struct rt_err err = {0};
	long pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Not dumpable before entering the container: see stage1_main(). */
	if (geteuid() == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (p->cg && cg_enter(p->cg, getpid(), &err) < 0)
		goto fail;
	if (p->ns_flags && setns(p->pidfd, p->ns_flags) < 0) {
		rt_err_sys(&err, errno, "join the container's namespaces");
		goto fail;
	}
	if (p->root_fd >= 0 && enter_root(p->root_fd, &err) < 0)
		goto fail;
	pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		rt_err_sys(&err, errno, "clone");
		goto fail;
	}
	if (pid == 0)
		exec_child(p, sock);
	rt_sync_send(sock, SYNC_EXEC_PID, (int32_t)pid, NULL, -1);
	_exit(0);
fail:
	rt_sync_send_err(sock, &err);
	_exit(1);
}

/* After the pid is known: hand the pty on, log warnings, until EOF. */
static int exec_sync(const struct exec_plan *p, int sock, int *master, struct rt_err *err)
{
	for (;;) {
		struct rt_sync_msg m;
		_cleanup_close_ int fd = -1;
		int r = rt_sync_recv(sock, &m, &fd, err);

		if (r == -EPIPE) {
			rt_err_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
		if (m.stage == SYNC_WARNING) {
			rt_warn("%s", m.text);
		} else if (m.stage == SYNC_PTY_MASTER) {
			if (p->o->console_socket) {
				if (rt_console_send(p->o->console_socket, fd, err) < 0)
					return -err->code;
			} else {
				*master = steal_fd(fd);
			}
		}
	}
}

int rt_container_exec(const struct rt_exec_opts *o, int *status, struct rt_err *err)
{
	struct exec_plan p;
	int sv[2] = { -1, -1 }, master = -1, r;
	pid_t helper, pid = -1;
	struct rt_sync_msg m;

	r = exec_plan_build(o, &p, err);
	if (r < 0)
		goto out;
	if (p.vm) {
		r = rt_vm_exec(o, p.proc, status, err);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = rt_err_sys(err, errno, "socketpair");
		goto out;
	}
	helper = fork();
	if (helper < 0) {
		r = rt_err_sys(err, errno, "fork");
		goto out;
	}
	if (helper == 0) {
		close(sv[0]);
		exec_helper(&p, sv[1]);
	}
	close(sv[1]);
	sv[1] = -1;
	r = rt_sync_expect(sv[0], SYNC_EXEC_PID, &m, NULL, err);
	rt_wait_status(helper);
	if (r < 0)
		goto out;
	pid = m.value;
	r = exec_sync(&p, sv[0], &master, err);
	if (r < 0) {
		rt_wait_status(pid);
		goto out;
	}
	if (o->pid_file && (r = rt_write_pid_file(o->pid_file, pid, err)) < 0)
		goto out;
	*status = 0;
	if (o->detach)
		goto out;
	rt_forward_signals(pid);
	if (master >= 0)
		rt_console_relay(master, err);
	*status = rt_wait_status(pid);
	rt_forward_signals(0);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (master >= 0)
		close(master);
	exec_plan_clear(&p);
	return r;
}
