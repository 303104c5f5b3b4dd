/* The verbs on an existing container: start, kill, delete, state, ps,
 * pause and resume.  Each opens the state dir, takes its lock, reads the
 * state and acts on what it finds. */
#include "config.h"
#include "runtime/container.h"
#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "cgroups/cgroup.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
		return rt_err_set(err, ESRCH, "container not running");
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

	/* runc's words: containerd's shim and buildkit match "container not
	 * running" to mean "already exited" ("is not running" would not match). */
	if (!rt_state_alive(&c->st))
		return rt_err_set(err, ESRCH, "container not running");
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

/* --systemd-cgroup: let systemd forget the scope before its cgroup goes;
 * failing that, the cgroup is still removed below, so only warn. */
static void stop_scope(const char *cgroup_path)
{
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	struct rt_err e = {0};

	if (cg_systemd_names(cgroup_path, &slice, &unit, &e) < 0 ||
	    cg_systemd_stop(unit, &e) < 0)
		rt_warn("%s", e.msg);
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
	if (c->st.systemd_cgroup && c->st.cgroup_path)
		stop_scope(c->st.cgroup_path);
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
		if (!force)
			return -err->code;
		/* As runc and crun: engines call delete --force on their cleanup
		 * paths and take any error as a failure, so a container that is
		 * already gone (or removed by a concurrent delete while we waited
		 * for its lock) is success; a malformed id stays an error. */
		if (err->code == ENOENT) {
			rt_err_clear(err);
			return 0;
		}
		/* A dir with no readable state (killed mid-create) is still removable. */
		if (c.dirfd >= 0) {
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
		return rt_err_set(err, EINVAL, pause ? "container not running"
						     : "container not paused");
	if (!c.st.cgroup_path || cg_open(c.st.cgroup_path, &cg, err) < 0)
		return rt_err_set(err, ENOTSUP, "container has no cgroup to freeze");
	r = cg_freeze(cg, pause, err);
	cg_handle_free(cg);
	return r;
}
