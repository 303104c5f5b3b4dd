/* The OCI lifecycle.  create reads as a checklist: plan (no side effects),
 * state dir, cgroup, start socket, spawn, sync stages, commit.  Anything
 * that fails after the first side effect is undone by create_abort(), and
 * a hull killed at any point leaves a state dir that `delete --force`
 * cleans (the init dies with its parent until it reports ready). */
#include "config.h"
#include "runtime/container.h"
#include "runtime/cleanup.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/log.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/util.h"
#include "namespaces/mount.h"
#include "cgroups/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

extern char **environ;

static const int ns_flag[RT_NS__COUNT] = {
	[RT_NS_USER] = CLONE_NEWUSER, [RT_NS_PID] = CLONE_NEWPID, [RT_NS_NET] = CLONE_NEWNET,
	[RT_NS_MNT] = CLONE_NEWNS, [RT_NS_IPC] = CLONE_NEWIPC, [RT_NS_UTS] = CLONE_NEWUTS,
	[RT_NS_CGROUP] = CLONE_NEWCGROUP, [RT_NS_TIME] = CLONE_NEWTIME,
};

/* Everything the child needs, computed before it exists. */
struct plan {
	const struct rt_create_opts *o;
	struct rt_spec *spec;
	char *config;                /* config.json bytes, copied into the state dir */
	size_t config_len;
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	unsigned long clone_flags;
	bool userns, timens, relay;
	int join_fd[RT_NS__COUNT];
	char *uid_map, *gid_map;
	char *cgroup_path;
	struct ns_rootfs_plan *rootfs_plan;
	struct rt_seccomp_plan *seccomp;
	char **env;                  /* process.env plus LISTEN_FDS/LISTEN_PID */
	int listen_fds;
};

static void plan_clear(struct plan *p)
{
	for (int k = 0; k < RT_NS__COUNT; k++)
		if (p->join_fd[k] >= 0)
			close(p->join_fd[k]);
	free(p->config);
	free(p->uid_map);
	free(p->gid_map);
	free(p->cgroup_path);
	free(p->env);
	if (p->rootfs_plan)
		ns_rootfs_plan_free(p->rootfs_plan);
	if (p->seccomp)
		rt_seccomp_plan_free(p->seccomp);
	if (p->spec)
		rt_spec_free(p->spec);
}

static char *format_map(const struct rt_id_map *m, size_t n)
{
	size_t cap = n * 36 + 1;
	char *s = calloc(1, cap), *q = s;

	for (size_t i = 0; s && i < n; i++)
		q += snprintf(q, cap - (size_t)(q - s), "%u %u %u\n", m[i].container_id,
			      m[i].host_id, m[i].size);
	return s;
}

static int plan_env(struct plan *p, struct rt_err *err)
{
	const char *lf = getenv("LISTEN_FDS");
	size_t n = p->spec->process.n_env;

	p->env = calloc(n + 3, sizeof(char *));
	if (!p->env)
		return rt_err_set(err, ENOMEM, "out of memory");
	memcpy(p->env, p->spec->process.env, n * sizeof(char *));
	/* socket activation: pass the fds on, as runc does; LISTEN_PID is set
	 * in the child once its own pid is known. */
	if (lf && *lf) {
		char *end;
		long v = strtol(lf, &end, 10);
		if (*end || v < 0 || v > 1024)
			return rt_err_set(err, EINVAL, "LISTEN_FDS=%s: not a count", lf);
		p->listen_fds = (int)v;
		p->env[n++] = rt_arena_printf(p->spec->arena, "LISTEN_FDS=%ld", v);
		p->env[n++] = (char *)"LISTEN_PID=1";
	}
	return 0;
}

static int plan_namespaces(struct plan *p, struct rt_err *err)
{
	const struct rt_linux *l = &p->spec->linux_;

	if (!l->namespaces[RT_NS_MNT].enabled || l->namespaces[RT_NS_MNT].path)
		return rt_err_set(err, EINVAL, "linux.namespaces: a new mount namespace is required");
	for (int k = 0; k < RT_NS__COUNT; k++) {
		const struct rt_namespace *ns = &l->namespaces[k];
		if (!ns->enabled)
			continue;
		if (ns->path) {
			p->join_fd[k] = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (p->join_fd[k] < 0)
				return rt_err_sys(err, errno, "linux.namespaces: %s namespace path %s",
						  rt_ns_kind_name(k), ns->path);
		} else if (k == RT_NS_TIME) {
			p->timens = true;
		} else {
			p->clone_flags |= (unsigned long)ns_flag[k];
		}
	}
	p->userns = p->clone_flags & CLONE_NEWUSER;
	if (p->userns) {
		p->uid_map = format_map(l->uid_mappings, l->n_uid_mappings);
		p->gid_map = format_map(l->gid_mappings, l->n_gid_mappings);
		if (!p->uid_map || !p->gid_map)
			return rt_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Device cgroup rules: the spec's, then what every container needs (the
 * default devices, /dev/pts, mknod of anything) and linux.devices, as runc
 * appends them, so a "deny all" spec still gets a working /dev. */
static void plan_device_rules(struct rt_spec *s)
{
	static const struct rt_device_rule defaults[] = {
		{ true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },
		{ true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 7, "rwm" },
		{ true, 'c', 1, 8, "rwm" }, { true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },
		{ true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" }, { true, 'c', 10, 200, "rwm" },
	};
	struct rt_resources *r = &s->linux_.resources;
	size_t nd = RT_ARRAY_SIZE(defaults), n = r->n_devices + nd + s->linux_.n_devices;
	struct rt_device_rule *v;

	if (!r->n_devices)
		return;   /* no rules at all: the cgroup allows everything */
	v = rt_arena_array(s->arena, n, sizeof(*v));
	memcpy(v, r->devices, r->n_devices * sizeof(*v));
	memcpy(v + r->n_devices, defaults, sizeof(defaults));
	for (size_t i = 0; i < s->linux_.n_devices; i++) {
		const struct rt_device *d = &s->linux_.devices[i];
		v[r->n_devices + nd + i] = (struct rt_device_rule){
			true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, "rwm" };
	}
	r->devices = v;
	r->n_devices = n;
}

static void plan_warn_ambient(const struct rt_caps *caps)
{
	uint64_t bad = caps->present ? rt_caps_ambient_ungrantable(caps) : 0;

	for (int c = 0; c < 64; c++)
		if (bad & (UINT64_C(1) << c))
			rt_warn("process.capabilities.ambient: %s is not both permitted and inheritable; "
				 "not raised", rt_cap_name(c) ? rt_cap_name(c) : "?");
}

static int plan_build(const struct rt_create_opts *o, bool relay_ok, struct plan *p,
		      struct rt_err *err)
{
	_cleanup_free_ char *cfg_path = NULL, *root_path = NULL;
	const struct rt_spec *s;

	memset(p, 0, sizeof(*p));
	for (int k = 0; k < RT_NS__COUNT; k++)
		p->join_fd[k] = -1;
	p->o = o;
	if (rt_validate_id(o->id, err) < 0)
		return -err->code;
	if (!realpath(o->bundle ? o->bundle : ".", p->bundle))
		return rt_err_sys(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	if (asprintf(&cfg_path, "%s/config.json", p->bundle) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (rt_read_file(cfg_path, 16 << 20, &p->config, &p->config_len, err) < 0)
		return -err->code;
	if (rt_spec_parse(p->config, p->config_len, &p->spec, err) < 0)
		return rt_err_wrap(err, "%s", cfg_path);
	s = p->spec;
	if (rt_spec_validate(s, p->bundle, err) < 0)
		return rt_err_wrap(err, "%s", cfg_path);
	if (asprintf(&root_path, "%s%s%s", s->root_path[0] == '/' ? "" : p->bundle,
		     s->root_path[0] == '/' ? "" : "/", s->root_path) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!realpath(root_path, p->rootfs))
		return rt_err_sys(err, errno, "root.path %s", root_path);
	if (s->process.terminal && !o->console_socket && !relay_ok)
		return rt_err_set(err, EINVAL, "process.terminal is set: --console-socket is required");
	p->relay = s->process.terminal && !o->console_socket;
	plan_device_rules(p->spec);
	plan_warn_ambient(&s->process.caps);
	if (plan_namespaces(p, err) < 0 || plan_env(p, err) < 0)
		return -err->code;
	if (ns_rootfs_plan_new_bundle(s, p->rootfs, p->bundle, p->userns, &p->rootfs_plan, err) < 0)
		return -err->code;
	if (s->linux_.seccomp && rt_seccomp_plan_new(s->linux_.seccomp, &p->seccomp, err) < 0)
		return rt_err_wrap(err, "linux.seccomp");
	if (cg_resolve_path(s->linux_.cgroups_path, o->id, o->systemd_cgroup, &p->cgroup_path,
			    err) < 0)
		return -err->code;
	return 0;
}

/* ---- the container's init process ---------------------------------- */

static void state_from_plan(const struct plan *p, pid_t pid, struct rt_state *st)
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

static int run_hooks(const struct plan *p, enum rt_hook_kind kind, pid_t pid, const char *status,
		     struct rt_err *err)
{
	struct rt_state st;
	_cleanup_free_ char *json = NULL;

	if (!p->spec->hooks[kind].n)
		return 0;
	state_from_plan(p, pid, &st);
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
	if (run_hooks(p, RT_HOOK_CREATE_CONTAINER, host_pid, "created", err) < 0)
		return -err->code;
	if (ns_rootfs_enter(p->rootfs_plan, p->o->no_pivot, err) < 0 || apply_sysctl(s, err) < 0)
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
	if (rt_process_switch_user(&s->process, err) < 0)
		return -err->code;
	if (s->process.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rt_err_sys(err, errno, "set no_new_privs");
	if (p->seccomp && rt_seccomp_plan_has_notify(p->seccomp)) {
		_cleanup_close_ int lfd = -1;
		if (rt_seccomp_plan_load(p->seccomp, &lfd, err) < 0)
			return -err->code;
		rt_sync_send(sock, SYNC_SECCOMP_FD, 0, NULL, lfd);
	}
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
	int conn;
	int keep[] = { sock, start_sock };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (rt_sync_expect(sock, SYNC_GO, &m, NULL, &err) < 0)
		_exit(1);
	host_pid = m.value;
	rt_close_fds_from(3 + p->o->preserve_fds + p->listen_fds, keep, 2);
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
	if (run_hooks(p, RT_HOOK_START_CONTAINER, host_pid, "running", &err) < 0)
		start_fail(conn, &err);
	if (p->seccomp && !rt_seccomp_plan_has_notify(p->seccomp) &&
	    rt_seccomp_plan_load(p->seccomp, NULL, &err) < 0)
		start_fail(conn, &err);
	if (p->spec->process.exec_cpu_affinity_final &&
	    rt_process_set_affinity(p->spec->process.exec_cpu_affinity_final, &err) < 0)
		start_fail(conn, &err);
	environ = p->env;
	execvp(p->spec->process.args[0], p->spec->process.args);
	rt_err_sys(&err, errno, "exec %s", p->spec->process.args[0]);
	start_fail(conn, &err);
}

/* The intermediate process: joins namespaces given by path (user first),
 * enters a new time namespace, then clones the init with CLONE_PARENT so
 * the init is hull's own child (run can wait for it). */
static _Noreturn void stage1_main(const struct plan *p, int sock, int start_sock)
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
		if (p->join_fd[k] >= 0 && setns(p->join_fd[k], ns_flag[k]) < 0) {
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

/* ---- create ---------------------------------------------------------- */

struct creation {
	struct plan plan;
	int dirfd, sock, start_sock;
	pid_t pid;
	struct cg_handle *cg;
	bool committed;
	int master;                  /* pty master kept for a foreground run */
};

static void create_abort(struct creation *c)
{
	struct rt_err ignored = {0};

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		rt_wait_status(c->pid);
	}
	if (c->cg) {
		cg_kill_all(c->cg, SIGKILL, &ignored);
		cg_destroy(c->cg, &ignored);
	}
	if (c->dirfd >= 0)
		rt_state_remove(c->plan.o->root, c->plan.o->id, &ignored);
}

static void creation_clear(struct creation *c)
{
	if (!c->committed)
		create_abort(c);
	if (c->cg)
		cg_handle_free(c->cg);
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->sock >= 0)
		close(c->sock);
	if (c->start_sock >= 0)
		close(c->start_sock);
	if (c->master >= 0)
		close(c->master);
	plan_clear(&c->plan);
}

static int bind_start_socket(struct creation *c, struct rt_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	c->start_sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->start_sock < 0)
		return rt_err_sys(err, errno, "socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/start.sock", c->dirfd);
	if (bind(c->start_sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->start_sock, 1) < 0)
		return rt_err_sys(err, errno, "bind the start socket");
	return 0;
}

static void write_state(struct creation *c, bool creating, struct rt_err *err)
{
	struct rt_state st;
	char now[64];

	state_from_plan(&c->plan, c->pid, &st);
	rt_rfc3339_now(now, sizeof(now));
	st.created = now;
	st.owner = (char *)"";
	st.creating = creating;
	st.systemd_cgroup = c->plan.o->systemd_cgroup;
	if (c->pid > 0)
		rt_pid_start_time(c->pid, &st.pid_start);
	rt_state_write(c->dirfd, &st, err);
}

static int state_dir_setup(struct creation *c, struct rt_err *err)
{
	c->dirfd = rt_state_create_dir(c->plan.o->root, c->plan.o->id, err);
	if (c->dirfd < 0)
		return c->dirfd;
	if (rt_state_lock(c->dirfd, err) < 0)
		return -err->code;
	write_state(c, true, err);
	if (err->code)
		return -err->code;
	if (rt_write_file_at_new(c->dirfd, "config.json", c->plan.config, c->plan.config_len, err) < 0)
		return -err->code;
	return 0;
}

static int write_id_maps(const struct plan *p, pid_t pid, struct rt_err *err)
{
	char path[64];

	if (!p->userns)
		return 0;
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		rt_write_file(path, "deny", 4, NULL);
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (rt_write_file(path, p->uid_map, strlen(p->uid_map), err) < 0)
		return rt_err_wrap(err, "linux.uidMappings");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (rt_write_file(path, p->gid_map, strlen(p->gid_map), err) < 0)
		return rt_err_wrap(err, "linux.gidMappings");
	return 0;
}

static int spawn(struct creation *c, struct rt_err *err)
{
	int sv[2];
	pid_t stage1;
	struct rt_sync_msg m;
	int r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_sys(err, errno, "socketpair");
	c->sock = sv[0];
	stage1 = fork();
	if (stage1 < 0) {
		close(sv[1]);
		return rt_err_sys(err, errno, "fork");
	}
	if (stage1 == 0) {
		close(sv[0]);
		stage1_main(&c->plan, sv[1], c->start_sock);
	}
	close(sv[1]);
	r = rt_sync_expect(c->sock, SYNC_INIT_PID, &m, NULL, err);
	rt_wait_status(stage1);
	if (r < 0)
		return r;
	c->pid = m.value;
	write_state(c, true, err);
	if (err->code)
		return -err->code;
	if (write_id_maps(&c->plan, c->pid, err) < 0)
		return -err->code;
	if (c->cg && cg_enter(c->cg, c->pid, err) < 0)
		return -err->code;
	if (rt_sync_send(c->sock, SYNC_GO, c->pid, NULL, -1) < 0)
		return rt_err_set(err, EPIPE, "container process exited during setup");
	return 0;
}

/* Serve the child's requests until it is ready. */
static int sync_until_ready(struct creation *c, struct rt_err *err)
{
	const struct plan *p = &c->plan;

	for (;;) {
		struct rt_sync_msg m;
		_cleanup_close_ int fd = -1;

		if (rt_sync_recv(c->sock, &m, &fd, err) < 0)
			return -err->code;
		switch (m.stage) {
		case SYNC_WARNING:
			rt_warn("%s", m.text);
			break;
		case SYNC_PRESTART:
			if (run_hooks(p, RT_HOOK_PRESTART, c->pid, "creating", err) < 0 ||
			    run_hooks(p, RT_HOOK_CREATE_RUNTIME, c->pid, "creating", err) < 0)
				return -err->code;
			rt_sync_send(c->sock, SYNC_PRESTART_DONE, 0, NULL, -1);
			break;
		case SYNC_PTY_MASTER:
			if (p->o->console_socket) {
				if (rt_console_send(p->o->console_socket, fd, err) < 0)
					return -err->code;
			} else {
				c->master = steal_fd(fd);
			}
			break;
		case SYNC_SECCOMP_FD: {
			struct rt_state st;
			_cleanup_free_ char *json = NULL;
			state_from_plan(p, c->pid, &st);
			json = rt_seccomp_state_json(&st, "creating",
						     p->spec->linux_.seccomp->listener_metadata);
			if (rt_seccomp_send_listener(p->spec->linux_.seccomp->listener_path, json,
						     fd, err) < 0)
				return rt_err_wrap(err, "linux.seccomp.listenerPath");
			break;
		}
		case SYNC_READY:
			return 0;
		default:
			return rt_err_set(err, EPROTO, "sync: unexpected stage %u", m.stage);
		}
	}
}

int rt_write_pid_file(const char *path, pid_t pid, struct rt_err *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (rt_write_file_atomic(path, buf, (size_t)n, 0644, err) < 0)
		return rt_err_wrap(err, "--pid-file");
	return 0;
}

/* --pidfd-socket: hand the engine a pidfd of the init, as runc 1.2 does. */
static int send_pidfd(const char *path, pid_t pid, struct rt_err *err)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	_cleanup_close_ int sock = -1;

	if (pfd < 0)
		return rt_err_sys(err, errno, "pidfd_open");
	sock = rt_unix_connect(path, SOCK_STREAM, err);
	if (sock < 0)
		return rt_err_wrap(err, "--pidfd-socket");
	if (rt_send_fd(sock, pfd, "pidfd", 5) < 0)
		return rt_err_sys(err, errno, "--pidfd-socket %s", path);
	return 0;
}

static int do_create(const struct rt_create_opts *o, bool relay_ok, struct creation *c,
		     struct rt_err *err)
{
	const struct rt_spec *s;

	c->dirfd = c->sock = c->start_sock = c->master = -1;
	if (plan_build(o, relay_ok, &c->plan, err) < 0)
		return -err->code;
	s = c->plan.spec;
	if (state_dir_setup(c, err) < 0)
		return -err->code;
	if (geteuid() == 0 || s->linux_.cgroups_path || s->linux_.resources.present) {
		if (cg_create(c->plan.cgroup_path, &s->linux_.resources, &c->cg, err) < 0)
			return rt_err_wrap(err, "cgroup %s", c->plan.cgroup_path);
	}
	if (bind_start_socket(c, err) < 0 || spawn(c, err) < 0 || sync_until_ready(c, err) < 0)
		return -err->code;
	write_state(c, false, err);
	if (err->code)
		return -err->code;
	if (o->pid_file && rt_write_pid_file(o->pid_file, c->pid, err) < 0)
		return -err->code;
	if (o->pidfd_socket && send_pidfd(o->pidfd_socket, c->pid, err) < 0)
		return -err->code;
	c->committed = true;
	return 0;
}

int rt_container_create(const struct rt_create_opts *o, struct rt_err *err)
{
	struct creation c = {0};
	int r = do_create(o, false, &c, err);

	creation_clear(&c);
	return r;
}

/* ---- the other verbs ------------------------------------------------- */

/* An opened, locked container: state read under the lock. */
struct opened {
	int dirfd;
	struct rt_state st;
	const char *status;
};

static void opened_clear(struct opened *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	rt_state_clear(&c->st);
}
#define _cleanup_opened_ __attribute__((cleanup(opened_clear)))

static int open_container(const char *root, const char *id, struct opened *c, struct rt_err *err)
{
	c->dirfd = -1;
	memset(&c->st, 0, sizeof(c->st));
	if (rt_validate_id(id, err) < 0)
		return -err->code;
	c->dirfd = rt_state_open_dir(root, id, err);
	if (c->dirfd < 0)
		return c->dirfd;
	if (rt_state_lock(c->dirfd, err) < 0 || rt_state_read(root, id, &c->st, err) < 0)
		return -err->code;
	c->status = rt_state_status(root, &c->st);
	return 0;
}

int rt_container_load_config(const char *root, const char *id, struct rt_spec **spec,
			     struct rt_err *err)
{
	_cleanup_free_ char *path = rt_state_path(root, id, "config.json");

	if (!path)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_spec_load(path, spec, err);
}

static int run_state_hooks(const char *root, const struct rt_state *st, enum rt_hook_kind kind,
			   const char *status, struct rt_err *err)
{
	_cleanup_spec_ struct rt_spec *spec = NULL;
	_cleanup_free_ char *json = NULL;

	if (rt_container_load_config(root, st->id, &spec, err) < 0)
		return -err->code;
	if (!spec->hooks[kind].n)
		return 0;
	json = rt_state_oci_json(st, status);
	if (!json)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_hooks_run(&spec->hooks[kind], kind, json, err);
}

static int start_locked(const char *root, struct opened *c, struct rt_err *err)
{
	_cleanup_free_ char *sock_path = rt_state_path(root, c->st.id, "start.sock");
	_cleanup_close_ int fd = -1;
	char msg[RT_ERR_MSG_MAX];
	ssize_t n;
	struct rt_err hook_err = {0};

	if (strcmp(c->status, "created") != 0) {
		if (!strcmp(c->status, "stopped"))
			return rt_err_set(err, EINVAL, "cannot start a container that has stopped");
		if (!strcmp(c->status, "creating"))
			return rt_err_set(err, EINVAL, "cannot start a container that is still being created");
		return rt_err_set(err, EINVAL, "cannot start an already %s container", c->status);
	}
	fd = rt_unix_connect(sock_path, SOCK_SEQPACKET, err);
	if (fd < 0)
		return rt_err_set(err, ESRCH, "container is not running");
	unlink(sock_path);
	if (rt_write_all(fd, "s", 1) < 0)
		return rt_err_sys(err, errno, "start");
	do
		n = read(fd, msg, sizeof(msg) - 1);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		msg[n] = '\0';
		return rt_err_set(err, EINVAL, "%s", msg);
	}
	/* poststart failures are warnings: the workload is already running. */
	if (run_state_hooks(root, &c->st, RT_HOOK_POSTSTART, "running", &hook_err) < 0)
		rt_warn("%s", hook_err.msg);
	return 0;
}

int rt_container_start(const char *root, const char *id, struct rt_err *err)
{
	_cleanup_opened_ struct opened c;

	if (open_container(root, id, &c, err) < 0)
		return -err->code;
	return start_locked(root, &c, err);
}

static int kill_locked(struct opened *c, int sig, bool all, struct rt_err *err)
{
	struct cg_handle *cg = NULL;
	int r = 0;

	if (!rt_state_alive(&c->st))
		return rt_err_set(err, ESRCH, "container is not running");
	if (all && c->st.cgroup_path && cg_open(c->st.cgroup_path, &cg, err) == 0) {
		r = cg_kill_all(cg, sig, err);
		cg_handle_free(cg);
		if (r < 0)
			return r;
	}
	if (kill(c->st.pid, sig) < 0 && errno != ESRCH)
		return rt_err_sys(err, errno, "kill %d", (int)c->st.pid);
	return 0;
}

int rt_container_kill(const char *root, const char *id, int sig, bool all, struct rt_err *err)
{
	_cleanup_opened_ struct opened c;

	if (open_container(root, id, &c, err) < 0)
		return -err->code;
	return kill_locked(&c, sig, all, err);
}

/* Wait until pid is gone (it is usually not our child). */
static void wait_gone(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)
		return;
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
	close(pfd);
	waitpid(pid, NULL, WNOHANG);
}

static int delete_locked(const char *root, struct opened *c, bool force, struct rt_err *err)
{
	struct rt_err ign = {0};
	struct cg_handle *cg = NULL;
	bool was_created = !c->st.creating;

	if (!force && (!strcmp(c->status, "running") || !strcmp(c->status, "paused") ||
		       !strcmp(c->status, "creating")))
		return rt_err_set(err, EBUSY, "cannot delete container \"%s\" that is not stopped: %s",
				  c->st.id, c->status);
	if (c->st.cgroup_path && cg_open(c->st.cgroup_path, &cg, &ign) < 0)
		cg = NULL;
	if (rt_state_alive(&c->st)) {
		if (cg) {
			cg_freeze(cg, false, &ign);
			cg_kill_all(cg, SIGKILL, &ign);
		}
		kill(c->st.pid, SIGKILL);
		wait_gone(c->st.pid, 5000);
	}
	if (was_created && run_state_hooks(root, &c->st, RT_HOOK_POSTSTOP, "stopped", &ign) < 0)
		rt_warn("%s", ign.msg);
	if (cg) {
		int r = cg_destroy(cg, err);
		cg_handle_free(cg);
		if (r < 0)
			return r;
	}
	return rt_state_remove(root, c->st.id, err);
}

int rt_container_delete(const char *root, const char *id, bool force, struct rt_err *err)
{
	_cleanup_opened_ struct opened c;

	if (open_container(root, id, &c, err) < 0) {
		/* A dir with no readable state (killed mid-create) is still removable. */
		if (force && err->code != ENOENT && c.dirfd >= 0) {
			rt_err_clear(err);
			return rt_state_remove(root, id, err);
		}
		return -err->code;
	}
	return delete_locked(root, &c, force, err);
}

int rt_container_state(const char *root, const char *id, char **json, struct rt_err *err)
{
	_cleanup_opened_ struct opened c;

	if (open_container(root, id, &c, err) < 0)
		return -err->code;
	*json = rt_state_oci_json(&c.st, c.status);
	return *json ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

int rt_container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
		      struct rt_err *err)
{
	_cleanup_opened_ struct opened c;
	struct cg_handle *cg = NULL;
	int r;

	*pids = NULL;
	*n = 0;
	if (open_container(root, id, &c, err) < 0)
		return -err->code;
	if (!rt_state_alive(&c.st))
		return 0;
	if (!c.st.cgroup_path || cg_open(c.st.cgroup_path, &cg, err) < 0) {
		*pids = malloc(sizeof(pid_t));
		if (!*pids)
			return rt_err_set(err, ENOMEM, "out of memory");
		(*pids)[0] = c.st.pid;
		*n = 1;
		return 0;
	}
	r = cg_pids(cg, pids, n, err);
	cg_handle_free(cg);
	return r;
}

int rt_container_pause(const char *root, const char *id, bool pause, struct rt_err *err)
{
	_cleanup_opened_ struct opened c;
	struct cg_handle *cg = NULL;
	int r;

	if (open_container(root, id, &c, err) < 0)
		return -err->code;
	if (strcmp(c.status, pause ? "running" : "paused") != 0)
		return rt_err_set(err, EINVAL, pause ? "container is not running"
						     : "container is not paused");
	if (!c.st.cgroup_path || cg_open(c.st.cgroup_path, &cg, err) < 0)
		return rt_err_set(err, ENOTSUP, "container has no cgroup to freeze");
	r = cg_freeze(cg, pause, err);
	cg_handle_free(cg);
	return r;
}

/* ---- run --------------------------------------------------------------- */

static volatile pid_t forward_pid;

static void forward_signal(int sig)
{
	if (forward_pid > 0)
		kill(forward_pid, sig);
}

void rt_forward_signals(pid_t pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };

	forward_pid = pid;
	for (size_t i = 0; i < RT_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

int rt_container_run(const struct rt_create_opts *o, int *status, struct rt_err *err)
{
	struct creation c = {0};
	_cleanup_opened_ struct opened oc = { .dirfd = -1 };
	struct rt_err ign = {0};
	int r;

	r = do_create(o, !o->detach, &c, err);
	if (r < 0) {
		creation_clear(&c);
		return r;
	}
	pid_t pid = c.pid;
	int master = steal_fd(c.master);
	creation_clear(&c);

	if (open_container(o->root, o->id, &oc, err) < 0 || start_locked(o->root, &oc, err) < 0) {
		rt_container_delete(o->root, o->id, true, &ign);
		if (master >= 0)
			close(master);
		return -err->code;
	}
	opened_clear(&oc);
	oc.dirfd = -1;
	if (o->detach) {
		*status = 0;
		return 0;
	}
	rt_forward_signals(pid);
	if (master >= 0) {
		rt_console_relay(master, err);
		close(master);
	}
	*status = rt_wait_status(pid);
	forward_pid = 0;
	if (!o->keep && rt_container_delete(o->root, o->id, true, err) < 0)
		return -err->code;
	return 0;
}
