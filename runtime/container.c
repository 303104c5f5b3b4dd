/* The OCI lifecycle.  create reads as a checklist: plan (no side effects),
 * state dir, cgroup, start socket, spawn, sync stages, commit.  Anything
 * that fails after the first side effect is undone by create_abort(), and
 * a hull killed at any point leaves a state dir that `delete --force`
 * cleans (the init dies with its parent until it reports ready). */
#include "config.h"
#include "runtime/container.h"
#include "runtime/container_int.h"
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
#include "netns/net.h"

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
	vm_plan_clear(&p->vm);
	free(p->vm_annotations);
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
		} else if (k == RT_NS_CGROUP) {
			/* Made by the init once it is in its cgroup, so that
			 * cgroup is the namespace's root. */
			p->cgroupns = true;
		} else {
			p->clone_flags |= (unsigned long)rt_ns_clone_flag[k];
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

/* --vm is recorded in the state as the annotation, so that exec and
 * engines see the container's isolation. */
static int plan_vm_annotation(struct plan *p, struct rt_err *err)
{
	struct rt_spec *s = p->spec;
	struct rt_kv *a;

	for (size_t i = 0; i < s->n_annotations; i++)
		if (!strcmp(s->annotations[i].key, "org.hull.isolation"))
			return 0;
	a = calloc(s->n_annotations + 1, sizeof(*a));
	if (!a)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (s->n_annotations)
		memcpy(a, s->annotations, s->n_annotations * sizeof(*a));
	a[s->n_annotations] = (struct rt_kv){ "org.hull.isolation", "vm" };
	p->vm_annotations = a;
	s->annotations = a;
	s->n_annotations++;
	return 0;
}

/* The guest's network: hull's own veth plan (ct), or the interface of a
 * network namespace the bundle joins (an engine's), read now and moved
 * into the guest at spawn.  A namespace hull may not enter (rootless)
 * gives no network, as before. */
static int plan_vm_net(struct plan *p, struct rt_err *err)
{
	int nsfd = p->join_fd[RT_NS_NET];

	if (p->o->net || nsfd < 0) {
		vm_plan_net(&p->vm, p->o->net);
		return 0;
	}
	if (net_adopt_plan(nsfd, &p->vm_adopt, err) < 0) {
		if (err->code != EPERM)
			return -err->code;
		rt_err_clear(err);
		p->vm_adopt.found = false;
	}
	vm_plan_net_adopt(&p->vm, &p->vm_adopt);
	return 0;
}

/* VM mode: the workload's seccomp filter has no meaning for the VMM, which
 * installs its own; everything the VMM needs is opened here. */
static int plan_vm(struct plan *p, struct rt_err *err)
{
	bool vm, flag = p->o->vm;

	/* The global --vm is a default (a runtime an engine was configured
	 * with): the bundle's own annotation, either way, wins over it. */
	if (p->o->vm_default && !flag) {
		flag = true;
		for (size_t i = 0; i < p->spec->n_annotations; i++)
			if (!strcmp(p->spec->annotations[i].key, "org.hull.isolation"))
				flag = false;
	}
	if (vm_plan_wanted(p->spec, flag, &vm, err) < 0)
		return -err->code;
	if (!vm) {
		if (p->o->kernel)
			return rt_err_set(err, EINVAL, "--kernel is for VM isolation (--vm or the "
					  "annotation org.hull.isolation=vm)");
		return 0;
	}
	if (p->seccomp) {
		rt_seccomp_plan_free(p->seccomp);
		p->seccomp = NULL;
	}
	if (plan_vm_annotation(p, err) < 0)
		return -err->code;
	p->vm.pid_ns = p->o->vm_system_init;
	if (plan_vm_net(p, err) < 0)   /* before the build: the initramfs carries it */
		return -err->code;
	return vm_plan_build(p->spec, p->rootfs, p->o->kernel, p->o->vm_disk, &p->vm, err);
}

static int plan_build(const struct rt_create_opts *o, bool relay_ok, struct plan *p,
		      struct rt_err *err)
{
	_cleanup_free_ char *cfg_path = NULL, *root_path = NULL;
	const struct rt_spec *s;

	memset(p, 0, sizeof(*p));
	vm_plan_init(&p->vm);
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
	if (s->linux_.mount_label)
		rt_warn("linux.mountLabel ignored: %s", access("/sys/fs/selinux/enforce", F_OK) == 0
			? "SELinux mount labels are not supported yet" : "SELinux is not enabled");
	if (plan_namespaces(p, err) < 0 || plan_env(p, err) < 0)
		return -err->code;
	/* Run by rootless podman, hull is already in a user namespace: device
	 * nodes are bound, not made, there too. */
	if (ns_rootfs_plan_new_bundle(s, p->rootfs, p->bundle, p->userns || rt_in_partial_userns(),
				      &p->rootfs_plan, err) < 0)
		return -err->code;
	if (s->linux_.seccomp && rt_seccomp_plan_new(s->linux_.seccomp, &p->seccomp, err) < 0)
		return rt_err_wrap(err, "linux.seccomp");
	if (o->net && (!s->linux_.namespaces[RT_NS_NET].enabled || s->linux_.namespaces[RT_NS_NET].path))
		return rt_err_set(err, EINVAL, "networking needs a new network namespace");
	if (cg_resolve_path(s->linux_.cgroups_path, o->id, o->systemd_cgroup, &p->cgroup_path,
			    err) < 0)
		return -err->code;
	return plan_vm(p, err);
}

void rt_fault_point(const char *name)
{
	const char *f = getenv("HULL_FAULT_POINT");

	if (f && !strcmp(f, name))
		raise(SIGKILL);
}

/* ---- create ---------------------------------------------------------- */

struct creation {
	struct plan plan;
	int dirfd, sock, start_sock;
	pid_t pid;
	struct cg_handle *cg;
	char *scope;                 /* --systemd-cgroup: the unit systemd started */
	bool committed, net_applied;
	int master;                  /* pty master kept for a foreground run */
};

static void create_abort(struct creation *c)
{
	struct rt_err ignored = {0};

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		rt_wait_status(c->pid);
	}
	if (c->cg)
		cg_kill_all(c->cg, SIGKILL, &ignored);
	if (c->net_applied && c->plan.o->net->veth)
		net_remove(c->plan.o->net->host_if, &ignored);
	if (c->scope)
		cg_systemd_stop(c->scope, &ignored);
	if (c->cg)
		cg_destroy(c->cg, &ignored);
	if (c->dirfd >= 0)
		rt_state_remove(c->plan.o->root, c->plan.o->id, &ignored);
}

static void creation_clear(struct creation *c)
{
	if (!c->committed)
		create_abort(c);
	if (c->cg)
		cg_handle_free(c->cg);
	free(c->scope);
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

	rt_plan_state(&c->plan, c->pid, &st);
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

/* --systemd-cgroup: systemd makes the scope's cgroup and moves the init
 * there; then hull makes what systemd left out (v1 hierarchies it does not
 * manage) and applies linux.resources itself, as Delegate=yes allows.  The
 * init still waits for SYNC_GO, so it runs nothing before the limits. */
static int systemd_scope(struct creation *c, struct rt_err *err)
{
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	const char *path = c->plan.cgroup_path;

	if (cg_systemd_names(path, &slice, &unit, err) < 0 ||
	    cg_systemd_start(slice, unit, c->plan.o->id, c->pid, err) < 0)
		return rt_err_wrap(err, "cgroup %s", path);
	c->scope = steal_ptr(unit);
	if (cg_create(path, &c->plan.spec->linux_.resources, &c->cg, err) < 0)
		return -err->code;   /* cg_create names the cgroup */
	return 0;
}

static int spawn(struct creation *c, struct rt_err *err)
{
	_cleanup_close_ int tap = -1;
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
		rt_stage1_main(&c->plan, sv[1], c->start_sock);
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
	if (c->plan.o->systemd_cgroup && systemd_scope(c, err) < 0)
		return -err->code;
	if (c->cg && cg_enter(c->cg, c->pid, err) < 0)
		return -err->code;
	/* The init's network namespace exists now; it waits for SYNC_GO.  In
	 * VM mode the tap made there travels with SYNC_GO to the init, which
	 * hands it to the VMM. */
	if (c->plan.o->net) {
		c->net_applied = true;
		if (c->plan.vm.enabled ? net_apply_vm(c->plan.o->net, c->pid, &tap, err) < 0
				       : net_apply(c->plan.o->net, c->pid, err) < 0)
			return -err->code;
		rt_fault_point("net");
	} else if (c->plan.vm.enabled && c->plan.vm_adopt.found &&
		   net_adopt_apply(c->plan.join_fd[RT_NS_NET], &c->plan.vm_adopt, &tap, err) < 0) {
		return -err->code;
	}
	if (rt_sync_send(c->sock, SYNC_GO, c->pid, NULL, tap) < 0)
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
			if (rt_plan_hooks(p, RT_HOOK_PRESTART, c->pid, "creating", err) < 0 ||
			    rt_plan_hooks(p, RT_HOOK_CREATE_RUNTIME, c->pid, "creating", err) < 0)
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
			rt_plan_state(p, c->pid, &st);
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

/* A limit that only a cgroup can apply (device rules alone do not count:
 * a user namespace cannot make device nodes anyway). */
static bool resources_limit(const struct rt_resources *r)
{
	return r->mem_limit >= 0 || r->mem_reservation >= 0 || r->mem_swap >= 0 ||
	       r->cpu_shares >= 0 || r->cpu_quota >= 0 || r->cpu_cpus || r->cpu_mems ||
	       r->has_pids_limit || r->blkio_weight >= 0 || r->n_blkio_weight_device ||
	       r->n_blkio_throttle_read_bps || r->n_blkio_throttle_write_bps ||
	       r->n_blkio_throttle_read_iops || r->n_blkio_throttle_write_iops ||
	       r->n_hugepage_limits || r->n_unified;
}

static int do_create(const struct rt_create_opts *o, bool relay_ok, struct creation *c,
		     struct rt_err *err)
{
	const struct rt_spec *s;
	bool privileged = geteuid() == 0 && !rt_in_partial_userns();

	c->dirfd = c->sock = c->start_sock = c->master = -1;
	if (plan_build(o, relay_ok, &c->plan, err) < 0)
		return -err->code;
	s = c->plan.spec;
	if (state_dir_setup(c, err) < 0)
		return -err->code;
	/* VM mode: the guest's vsock (hull exec's agent) at <state dir>/vsock.sock */
	if (c->plan.vm.enabled) {
		if (vm_plan_vsock(&c->plan.vm, c->dirfd, err) < 0)
			return -err->code;
		rt_fault_point("vsock");
	}
	if (!o->systemd_cgroup &&
	    (privileged || s->linux_.cgroups_path || s->linux_.resources.present) &&
	    cg_create(c->plan.cgroup_path, &s->linux_.resources, &c->cg, err) < 0) {
		/* Rootless (podman's user namespace on cgroup v1 delegates no
		 * cgroup): without a cgroupsPath or a limit to apply, a cgroup
		 * it may not make is left out, as runc does. */
		if (privileged || s->linux_.cgroups_path || resources_limit(&s->linux_.resources) ||
		    (err->code != EACCES && err->code != EPERM && err->code != EROFS))
			return -err->code;   /* cg_create names the cgroup */
		rt_err_clear(err);
	}
	/* Without a cgroup of its own, the state names none for exec, ps and
	 * pause to use. */
	if (!o->systemd_cgroup && !c->cg) {
		free(c->plan.cgroup_path);
		c->plan.cgroup_path = NULL;
	}
	/* VM mode: the virtiofsd of each shared directory, last before the
	 * init that inherits their sockets (they end with the sockets). */
	if (c->plan.vm.enabled && c->plan.vm.n_fs) {
		if (vm_plan_start_fs(&c->plan.vm, err) < 0)
			return -err->code;
		rt_fault_point("vm-fs");   /* tests: virtiofsd must go with us */
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

	/* Forward from now on: a signal that arrives while start runs must
	 * reach the workload, not kill the hull that waits for it. */
	if (!o->detach)
		rt_forward_signals(pid);
	if (rt_container_start(o->root, o->id, err) < 0) {
		rt_container_delete(o->root, o->id, true, &ign);
		if (master >= 0)
			close(master);
		return -err->code;
	}
	if (o->detach) {
		*status = 0;
		return 0;
	}
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
