/* hull ct: system containers.  Each verb takes the container's lock
 * (LIB/ct/NAME/lock), reads its saved config and the OCI state of
 * "ct-NAME" under --root, and acts; starting goes through the jail
 * options, the spec writer and rt_container_create/start like any bundle. */
#include "config.h"
#include "runtime/ct.h"
#include "runtime/ct_int.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "netns/net.h"
#include "cgroups/cgroup.h"
#include "image/image.h"
#include "microvm/vm_fs.h"
#include "microvm/vm_plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>


/* The container's address and plan; false when it has no network. */
static int ct_net(const struct rt_ct_env *e, const struct rt_ct_config *c, struct net_config *nc,
		  struct net_lease *l, struct rt_err *err)
{
	char owner[128];

	if (!c->ip)
		return 0;
	if (net_config_load(e->lib_dir ? e->lib_dir : NULL, nc, err) < 0)
		return -err->code;
	snprintf(owner, sizeof(owner), "ct:%s", c->name);
	/* the lease normally exists since create; a lost lease file gets it back */
	if (net_ipam_find(nc, owner, l, err) < 0) {
		rt_err_clear(err);
		if (net_ipam_alloc(nc, owner, c->ip, l, err) < 0)
			return -err->code;
	}
	char have[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &l->ip4, have, sizeof(have));
	if (strcmp(have, c->ip))
		return rt_err_set(err, EINVAL, "container \"%s\" has address %s, but its lease is %s "
				  "in the subnet now configured (was HULL_SUBNET changed?)", c->name,
				  c->ip, have);
	return 1;
}

/* Everything a crashed or finished run leaves: the OCI container (init,
 * cgroup, state dir) and the host end of its veth. */
static void clean_run(const struct rt_ct_env *e, const struct rt_ct_config *c)
{
	struct rt_err ign = {0};
	struct net_config nc;
	struct net_lease l;
	char id[80];

	ct_oci_id(c->name, id, sizeof(id));
	rt_container_delete(e->state_root, id, true, &ign);
	rt_err_clear(&ign);
	ct_clean_cgroup(c->name);
	if (ct_net(e, c, &nc, &l, &ign) > 0)
		net_remove(l.host_if, &ign);
}

static void jail_opts_of(const struct rt_ct_config *c, struct rt_jail_opts *o, char **args)
{
	memset(o, 0, sizeof(*o));
	o->rootfs = c->rootfs;
	o->binds = c->binds;
	o->n_binds = c->n_binds;
	o->net = c->ip ? "veth" : "none";
	o->memory = c->memory;
	o->cpu_quota = c->cpu_quota;
	o->pids = c->pids;
	o->cpu_shares = ct_weight_to_shares(c->cpu_weight);
	o->hostname = c->hostname ? c->hostname : c->name;
	o->system = true;
	args[0] = (char *)"/sbin/init";
	args[1] = NULL;
	o->args = args;
}

/* The bundle for this start: LIB/ct/NAME/bundle/config.json, written anew
 * from the saved config each time. */
static int write_bundle(const struct rt_ct_env *e, const struct rt_ct_config *c, char **bundle,
			struct rt_err *err)
{
	_cleanup_free_ char *dir = ct_path(e, c->name, "bundle"), *cfg = NULL, *json = NULL;
	struct rt_jail_opts o;
	char *args[2];

	jail_opts_of(c, &o, args);
	if (rt_jail_check(&o, err) < 0)
		return -err->code;
	json = rt_jail_config_json(&o, err);
	if (!json)
		return -err->code;
	if (!dir || asprintf(&cfg, "%s/config.json", dir) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(err, errno, "%s", dir);
	if (rt_write_file_atomic(cfg, json, strlen(json), 0600, err) < 0)
		return -err->code;
	*bundle = steal_ptr(dir);
	return 0;
}

/* The init's stdio is the container's console: LIB/ct/NAME/console.log.
 * hull's own is put back after create. */
static int console_redirect(const struct rt_ct_env *e, const char *name, int saved[3],
			    struct rt_err *err)
{
	_cleanup_free_ char *p = ct_path(e, name, "console.log");
	_cleanup_close_ int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = p ? open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
					   0600) : -1;

	if (in < 0 || out < 0)
		return rt_err_sys(err, errno ? errno : ENOMEM, "console log %s", p ? p : "");
	for (int i = 0; i < 3; i++)
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	return 0;
}

static void console_restore(int saved[3])
{
	for (int i = 0; i < 3; i++) {
		if (saved[i] >= 0) {
			dup2(saved[i], i);
			close(saved[i]);
		}
	}
}

/* ---- an --image rootfs: an overlay on the shared unpacked image ------ */

/* This container's hold on its lower tree (image.h): unique per lib dir,
 * as two lib dirs may each have a container of the same name. */
static void hold_name(const struct rt_ct_env *e, const char *name, char *buf, size_t len)
{
	char abs[PATH_MAX];
	const char *d = realpath(ct_lib_dir(e), abs) ? abs : ct_lib_dir(e);
	uint64_t h = 0xcbf29ce484222325ULL;    /* FNV-1a */

	for (; *d; d++)
		h = (h ^ (unsigned char)*d) * 0x100000001b3ULL;
	snprintf(buf, len, "ct-%s-%016llx", name, (unsigned long long)h);
}

/* The overlay goes on rootfs in a mount namespace of hull's own that the
 * container's is copied from: it lives exactly as long as the container,
 * and nothing is ever mounted on the host (as hull run --image).  The
 * hold is taken again in case its file was lost. */
static int overlay_private(const struct rt_ct_env *e, const struct rt_ct_config *c,
			   struct rt_err *err)
{
	_cleanup_free_ char *upper = ct_path(e, c->name, "upper");
	_cleanup_free_ char *work = ct_path(e, c->name, "work");
	struct img_rootfs r = { .hold_fd = -1 };
	struct stat st;
	char hold[128];

	if (!upper || !work)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (stat(c->lower, &st) < 0 || !S_ISDIR(st.st_mode))
		return rt_err_sys(err, errno ? errno : ENOTDIR, "container \"%s\": the unpacked "
				  "image %s (%s) is gone", c->name, c->lower,
				  c->image ? c->image : "?");
	hold_name(e, c->name, hold, sizeof(hold));
	if (img_rootfs_hold(c->lower, hold, err) < 0)
		return -err->code;
	if (unshare(CLONE_NEWNS) < 0)
		return rt_err_sys(err, errno, "ct start: new mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rt_err_sys(err, errno, "ct start: make / private");
	r.lower = c->lower;
	r.upper = upper;
	r.work = work;
	return img_rootfs_mount(&r, c->rootfs, err);
}

static int start_locked(const struct rt_ct_env *e, const struct rt_ct_config *c,
			struct rt_err *err)
{
	_cleanup_free_ char *bundle = NULL;
	struct rt_state st;
	struct net_config nc;
	struct net_lease lease;
	struct net_plan plan;
	char id[80];
	int saved[3] = { -1, -1, -1 }, r, has_net;
	const char *s = ct_oci_status(e, c->name, &st);

	rt_state_clear(&st);
	if (ct_is_running(s))
		return rt_err_set(err, EBUSY, "container \"%s\" is already running", c->name);
	clean_run(e, c);
	if (write_bundle(e, c, &bundle, err) < 0)
		return -err->code;
	/* --image --vm: find hull-vmm before the private mount namespace,
	 * where /proc/self/exe may not name a reachable path (as run --image). */
	if (c->vm)
		vm_plan_locate_vmm();
	if (c->lower && overlay_private(e, c, err) < 0)
		return -err->code;
	has_net = ct_net(e, c, &nc, &lease, err);
	if (has_net < 0)
		return has_net;
	if (has_net)
		net_plan_veth(&nc, &lease, &plan);
	else
		net_plan_lo(&plan);
	ct_oci_id(c->name, id, sizeof(id));
	/* VM mode: the VMM is the container's process and /sbin/init the
	 * guest's workload; the guest's root is a disk made from the rootfs
	 * (cached while the tree is unchanged). */
	struct rt_create_opts co = { .root = e->state_root, .id = id, .bundle = bundle,
				     .net = &plan, .vm = c->vm, .vm_system_init = c->vm };
	if (console_redirect(e, c->name, saved, err) < 0)
		return -err->code;
	r = rt_container_create(&co, err);
	if (r == 0) {
		rt_fault_point("ct-created");
		r = rt_container_start(e->state_root, id, err);
	}
	console_restore(saved);
	if (r < 0) {
		struct rt_err ign = {0};
		rt_container_delete(e->state_root, id, true, &ign);
		if (has_net)
			net_remove(lease.host_if, &ign);
	}
	return r;
}

int rt_ct_start(const struct rt_ct_env *e, const char *name, struct rt_err *err)
{
	struct rt_ct_config c = {0};
	int lock, r;

	if (ct_check_name(name, err) < 0)
		return -err->code;
	if (geteuid() != 0)
		return rt_err_set(err, EPERM, "ct start: needs root (cgroups and the hull0 bridge)");
	lock = ct_open(e, name, &c, err);
	if (lock < 0)
		return lock;
	r = start_locked(e, &c, err);
	rt_ct_config_clear(&c);
	close(lock);
	return r;
}

/* Wait for a process that is not our child to end. */
static bool wait_gone(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int r;

	if (pfd < 0)
		return errno == ESRCH;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	close(pfd);
	return r > 0;
}

/* Sends SIGPWR to a container's init (its VMM for a VM) and waits up to
 * timeout_ms for it to end.  A VM's init is asked again every 5 s: under
 * nested TCG the vm tier saw about one stop in five where the guest's init
 * never acted on the first SIGPWR, which the VMM had taken (the cause,
 * somewhere between the VMM's control UART and the guest's init, is not
 * found yet); asking again is harmless, an init already halting ignores it. */
static void ask_init(pid_t pid, bool vm, int timeout_ms)
{
	int step = vm && timeout_ms > 5000 ? 5000 : timeout_ms;

	for (int left = timeout_ms; left > 0; left -= step)
		if (kill(pid, SIGPWR) < 0 || wait_gone(pid, left < step ? left : step))
			return;
}

static int stop_locked(const struct rt_ct_env *e, const struct rt_ct_config *c, int timeout_ms,
		       struct rt_err *err)
{
	struct rt_state st;
	const char *s = ct_oci_status(e, c->name, &st);
	pid_t pid = st.pid;

	rt_state_clear(&st);
	if (!ct_is_running(s)) {
		clean_run(e, c);
		return rt_err_set(err, EINVAL, "container \"%s\" is not running", c->name);
	}
	/* SIGPWR: busybox init halts, sysvinit runs its powerfail entry.  A
	 * VM's VMM forwards it to the guest, where the init is PID 1 of its
	 * pid namespace too; its halt ends the VM.  A paused container cannot
	 * act on it, so it is killed at once. */
	if (!strcmp(s, "running"))
		ask_init(pid, c->vm, timeout_ms);
	clean_run(e, c);
	return 0;
}

int rt_ct_stop(const struct rt_ct_env *e, const char *name, int timeout_ms, struct rt_err *err)
{
	struct rt_ct_config c = {0};
	int lock, r;

	lock = ct_open(e, name, &c, err);
	if (lock < 0)
		return lock;
	r = stop_locked(e, &c, timeout_ms, err);
	rt_ct_config_clear(&c);
	close(lock);
	return r;
}

/* ---- create, destroy ------------------------------------------------ */

static int copy_binds(const struct rt_ct_create_opts *o, struct rt_ct_config *c,
		      struct rt_err *err)
{
	c->binds = calloc(o->n_binds + 1, sizeof(*c->binds));
	if (!c->binds)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_binds; i++) {
		char *src = realpath(o->binds[i].src, NULL), *dst = strdup(o->binds[i].dst);
		if (!src || !dst) {
			int e = errno;
			free(src);
			free(dst);
			return rt_err_sys(err, e, "--bind %s", o->binds[i].src);
		}
		c->binds[c->n_binds++] = (struct rt_jail_bind){ src, dst, o->binds[i].ro };
	}
	return 0;
}

/* --vm: the guest has its root disk, with --ip a virtio-net device on
 * hull0 (leased as for any container), with --bind host directories over
 * virtio-fs; KVM is needed to start it. */
static int vm_check(const struct rt_ct_create_opts *o, struct rt_err *err)
{
	struct in_addr a;
	int prefix;

	/* The address's form before KVM: the lease itself (subnet, taken)
	 * is checked by the allocator, as for any container. */
	if (o->ip && strcmp(o->ip, "none") && strcmp(o->ip, "auto") &&
	    net_parse_cidr4(o->ip, false, &a, &prefix) < 0)
		return rt_err_set(err, EINVAL, "--ip %s: expected an IPv4 address A.B.C.D[/P]",
				  o->ip);
	/* --bind: directories only, shared over virtio-fs (one virtiofsd
	 * each, started with the VM); checked now so that a missing source
	 * or a missing virtiofsd leaves nothing behind */
	if (o->n_binds > VMM_MAX_FS)
		return rt_err_set(err, EINVAL, "ct create --vm: at most %d --bind", VMM_MAX_FS);
	for (size_t i = 0; i < o->n_binds; i++)
		if (vm_fs_check(o->binds[i].src, o->binds[i].dst, NULL, err) < 0)
			return rt_err_wrap(err, "ct create --vm: --bind");
	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return rt_err_sys(err, errno, "ct create --vm: /dev/kvm (VM isolation needs KVM)");
	return 0;
}

/* Checks that need no side effect: the flags, the rootfs, the binds. */
static int create_check(const char *name, const struct rt_ct_create_opts *o,
			struct rt_ct_config *c, struct rt_err *err)
{
	struct rt_jail_opts jo;
	char *args[2];
	struct stat st;

	if (ct_check_name(name, err) < 0)
		return -err->code;
	if (geteuid() != 0)
		return rt_err_set(err, EPERM, "ct create: needs root (cgroups and the hull0 bridge)");
	if (!!o->rootfs == !!o->image)
		return rt_err_set(err, EINVAL, "ct create: give exactly one of --rootfs DIR and "
				  "--image REF");
	if (o->hostname && ct_check_hostname(o->hostname, err) < 0)
		return -err->code;
	if (o->vm && vm_check(o, err) < 0)
		return -err->code;
	c->vm = o->vm;
	c->name = strdup(name);
	c->hostname = o->hostname ? strdup(o->hostname) : NULL;
	c->memory = o->memory;
	c->cpu_quota = o->cpu_quota;
	c->cpu_weight = o->cpu_weight;
	c->pids = o->pids;
	if (!c->name || (o->hostname && !c->hostname))
		return rt_err_set(err, ENOMEM, "out of memory");
	if (copy_binds(o, c, err) < 0)
		return -err->code;
	if (o->rootfs) {
		c->rootfs = realpath(o->rootfs, NULL);
		if (!c->rootfs)
			return rt_err_sys(err, errno, "--rootfs %s", o->rootfs);
		jail_opts_of(c, &jo, args);
		if (rt_jail_check(&jo, err) < 0)
			return -err->code;
		if (fstatat(AT_FDCWD, c->rootfs, &st, 0) == 0) {
			_cleanup_free_ char *init = NULL;
			if (asprintf(&init, "%s/sbin/init", c->rootfs) < 0)
				return rt_err_set(err, ENOMEM, "out of memory");
			if (lstat(init, &st) < 0)
				return rt_err_sys(err, errno, "--rootfs %s: no /sbin/init", o->rootfs);
		}
	}
	return 0;
}

/* The ct dir gets the overlay's upper and work (img_rootfs_prepare) and an
 * empty rootfs to mount it on at start; the image is unpacked once in the
 * store, shared, and held for as long as the container exists. */
static int create_image(const struct rt_ct_env *e, const char *ref, struct rt_ct_config *c,
			struct rt_err *err)
{
	_cleanup_free_ char *dir = ct_path(e, c->name, NULL);
	struct img_rootfs r;
	char hold[128];
	int rc = 0;

	c->rootfs = ct_path(e, c->name, "rootfs");
	c->image = strdup(ref);
	if (!dir || !c->rootfs || !c->image)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (img_rootfs_prepare(NULL, ref, dir, &r, err) < 0)
		return rt_err_wrap(err, "--image %s", ref);
	hold_name(e, c->name, hold, sizeof(hold));
	c->lower = strdup(r.lower);
	if (!c->lower)
		rc = rt_err_set(err, ENOMEM, "out of memory");
	else if (img_rootfs_hold(r.lower, hold, err) < 0)
		rc = -err->code;
	else if (mkdir(c->rootfs, 0755) < 0)
		rc = rt_err_sys(err, errno, "%s", c->rootfs);
	if (rc < 0 && c->lower)
		img_rootfs_unhold(c->lower, hold);
	img_rootfs_release(&r);
	if (rc < 0)
		return rt_err_wrap(err, "--image %s", ref);
	c->own_rootfs = true;
	return 0;
}

/* Drop the hold create_image took (the tree goes at the store's next gc
 * if no image and no other container uses it). */
static void release_image(const struct rt_ct_env *e, const struct rt_ct_config *c)
{
	char hold[128];

	if (!c->lower)
		return;
	hold_name(e, c->name, hold, sizeof(hold));
	img_rootfs_unhold(c->lower, hold);
}

static int create_net(const struct rt_ct_env *e, const char *ip, struct rt_ct_config *c,
		      struct rt_err *err)
{
	struct net_config nc;
	struct net_lease l;
	char owner[128], buf[INET_ADDRSTRLEN];

	if (ip && !strcmp(ip, "none"))
		return 0;
	if (net_config_load(e->lib_dir, &nc, err) < 0)
		return -err->code;
	snprintf(owner, sizeof(owner), "ct:%s", c->name);
	if (net_ipam_alloc(&nc, owner, ip && strcmp(ip, "auto") ? ip : NULL, &l, err) < 0)
		return -err->code;
	inet_ntop(AF_INET, &l.ip4, buf, sizeof(buf));
	c->ip = strdup(buf);
	return c->ip ? 0 : rt_err_set(err, ENOMEM, "out of memory");
}

static void release_net(const struct rt_ct_env *e, const char *name)
{
	struct net_config nc;
	struct rt_err ign = {0};
	char owner[128];

	snprintf(owner, sizeof(owner), "ct:%s", name);
	if (net_config_load(e->lib_dir, &nc, &ign) == 0)
		net_ipam_release(&nc, owner, &ign);
}

int rt_ct_create(const struct rt_ct_env *e, const char *name, const struct rt_ct_create_opts *o,
		 struct rt_err *err)
{
	_cleanup_free_ char *root = ct_root(e), *dir = ct_path(e, name, NULL);
	struct rt_ct_config c = {0};
	struct rt_err ign = {0};
	int lock = -1, r = -1;

	if (!root || !dir)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (create_check(name, o, &c, err) < 0 || rt_mkdir_p(root, 0700, err) < 0)
		goto out;
	/* mkdir is the atomic test for a duplicate name */
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			rt_err_set(err, EEXIST, "container \"%s\" already exists", name);
		else
			rt_err_sys(err, errno, "%s", dir);
		goto out;
	}
	lock = ct_lock(e, name, err);
	if (lock < 0 || create_net(e, o->ip, &c, err) < 0 ||
	    (o->image && create_image(e, o->image, &c, err) < 0) || ct_save_config(e, &c, err) < 0) {
		release_net(e, name);
		release_image(e, &c);
		rt_state_remove(root, name, &ign);
		goto out;
	}
	r = 0;
out:
	if (lock >= 0)
		close(lock);
	rt_ct_config_clear(&c);
	return r < 0 ? -err->code : 0;
}

static int destroy_broken(const struct rt_ct_env *e, const char *name, struct rt_ct_config *c,
			  struct rt_err *err)
{
	struct net_config nc;
	struct net_lease l;
	char owner[128];
	struct rt_err ign = {0};

	rt_ct_config_clear(c);
	c->name = strdup(name);
	if (!c->name)
		return rt_err_set(err, ENOMEM, "out of memory");
	snprintf(owner, sizeof(owner), "ct:%s", name);
	if (net_config_load(e->lib_dir, &nc, &ign) == 0 && net_ipam_find(&nc, owner, &l, &ign) == 0)
		net_remove(l.host_if, &ign);
	return 0;
}

int rt_ct_destroy(const struct rt_ct_env *e, const char *name, bool force, struct rt_err *err)
{
	_cleanup_free_ char *root = ct_root(e);
	struct rt_ct_config c = {0};
	struct rt_state st = {0};
	int lock, r;

	if (ct_check_name(name, err) < 0)
		return -err->code;
	lock = ct_lock(e, name, err);
	if (lock < 0)
		return lock;
	r = ct_load_config(e, name, &c, err);
	if (r < 0 && err->code != ENOENT && force) {
		/* an unreadable config: --force still removes what has the name */
		rt_err_clear(err);
		r = destroy_broken(e, name, &c, err);
	}
	if (r == 0 && ct_is_running(ct_oci_status(e, name, &st)) && !force)
		r = rt_err_set(err, EBUSY, "container \"%s\" is running (stop it first, or "
			       "destroy --force)", name);
	rt_state_clear(&st);
	if (r == 0) {
		clean_run(e, &c);
		release_net(e, name);
		/* the whole dir: config, bundle, console log, an --image upper
		 * (never mounted on the host: see overlay_private()) */
		r = rt_state_remove(root, name, err);
		if (r == 0)
			release_image(e, &c);
	}
	rt_ct_config_clear(&c);
	close(lock);
	return r;
}
