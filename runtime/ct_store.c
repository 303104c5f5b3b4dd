/* hull ct: where a system container's files live (LIB/ct/NAME), its lock,
 * its saved config, and its state as the OCI side and the cgroup see it,
 * which survives a hull killed at any point. */
#include "config.h"
#include "runtime/ct.h"
#include "runtime/ct_int.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "runtime/util.h"
#include "netns/net.h"
#include "cgroups/cgroup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define CT_NAME_MAX 60

const char *ct_lib_dir(const struct rt_ct_env *e)
{
	const char *d = e->lib_dir ? e->lib_dir : getenv("HULL_LIB_DIR");
	return d && *d ? d : NET_DEFAULT_LIB_DIR;
}

char *ct_root(const struct rt_ct_env *e)
{
	char *p = NULL;
	return asprintf(&p, "%s/ct", ct_lib_dir(e)) < 0 ? NULL : p;
}

char *ct_path(const struct rt_ct_env *e, const char *name, const char *file)
{
	char *p = NULL;
	return asprintf(&p, "%s/ct/%s%s%s", ct_lib_dir(e), name, file ? "/" : "", file ? file : "") < 0
		? NULL : p;
}

void ct_oci_id(const char *name, char *id, size_t len)
{
	snprintf(id, len, "ct-%s", name);
}

int ct_check_name(const char *name, struct rt_err *err)
{
	if (rt_validate_id(name, err) < 0)
		return rt_err_wrap(err, "ct");
	if (strlen(name) > CT_NAME_MAX || name[0] == '.')
		return rt_err_set(err, EINVAL, "ct name %s: at most %d characters, not starting "
				  "with \".\"", name, CT_NAME_MAX);
	return 0;
}

/* The container's lock, held for the whole verb. */
int ct_lock(const struct rt_ct_env *e, const char *name, struct rt_err *err)
{
	_cleanup_free_ char *p = ct_path(e, name, "lock");
	int fd;

	if (!p)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT)
		return rt_err_set(err, ENOENT, "container \"%s\" does not exist", name);
	if (fd < 0)
		return rt_err_sys(err, errno, "%s", p);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return rt_err_sys(err, errno, "lock %s", p);
	}
	return fd;
}

int ct_load_config(const struct rt_ct_env *e, const char *name, struct rt_ct_config *c,
		       struct rt_err *err)
{
	_cleanup_free_ char *p = ct_path(e, name, "ct.json"), *text = NULL;
	size_t len;

	if (!p)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (rt_read_file(p, 1 << 20, &text, &len, err) < 0) {
		if (err->code == ENOENT)
			return rt_err_set(err, ENOENT, "container \"%s\" does not exist", name);
		return -err->code;
	}
	if (rt_ct_config_from_json(text, len, c, err) < 0)
		return rt_err_wrap(err, "%s", p);
	if (strcmp(c->name, name))
		return rt_err_set(err, EINVAL, "%s: name \"%s\" does not match", p, c->name);
	if (c->hostname && ct_check_hostname(c->hostname, err) < 0)
		return rt_err_wrap(err, "%s", p);
	return 0;
}

int ct_save_config(const struct rt_ct_env *e, const struct rt_ct_config *c, struct rt_err *err)
{
	_cleanup_free_ char *p = ct_path(e, c->name, "ct.json");
	_cleanup_free_ char *json = rt_ct_config_to_json(c);

	if (!p || !json)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_write_file_atomic(p, json, strlen(json), 0600, err);
}

/* The OCI side: "running", "paused", "stopped", or "absent"; leftovers of
 * a hull killed during start ("creating", "created") count as stopped. */
/* The init among the processes of a cgroup: the one that is pid 1 in its
 * own pid namespace (the last NSpid field). */
static pid_t find_init(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[64], *text = NULL, *line, *last;
		struct rt_err ign = {0};
		bool init = false;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)pids[i]);
		if (rt_read_file(path, 1 << 16, &text, NULL, &ign) < 0)
			continue;
		line = strstr(text, "\nNSpid:");
		if (line) {
			line[strcspn(line + 1, "\n") + 1] = '\0';
			last = strrchr(line, '\t');
			/* "\nNSpid:\tHOST\t...\t1": more than one field */
			init = last && !strcmp(last + 1, "1") && last != line + 7;
		}
		free(text);
		if (init)
			return pids[i];
	}
	return 0;
}

/* No state file knows the container (its state dir is gone, or another
 * --root was given) but its cgroup has processes: it still runs.  Fills
 * st's pid and cgroup path from the cgroup. */
static bool orphan_running(const char *name, struct rt_state *st)
{
	struct rt_err ign = {0};
	struct cg_handle *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	char *path = NULL, id[80];
	size_t n = 0;

	ct_oci_id(name, id, sizeof(id));
	if (cg_resolve_path(NULL, id, false, &path, &ign) < 0)
		return false;
	if (cg_open(path, &cg, &ign) < 0 || cg_pids(cg, &pids, &n, &ign) < 0 || !n) {
		if (cg)
			cg_handle_free(cg);
		free(path);
		return false;
	}
	cg_handle_free(cg);
	st->pid = find_init(pids, n);
	st->cgroup_path = path;
	return true;
}

/* The OCI side: "running", "paused", "stopped", or "absent"; leftovers of
 * a hull killed during start ("creating", "created") count as stopped. */
const char *ct_oci_status(const struct rt_ct_env *e, const char *name, struct rt_state *st)
{
	char id[80];
	struct rt_err ign = {0};
	const char *s;

	memset(st, 0, sizeof(*st));
	ct_oci_id(name, id, sizeof(id));
	if (rt_state_read(e->state_root, id, st, &ign) < 0) {
		if (ign.code != ENOENT)
			return "stopped";
		return orphan_running(name, st) ? "running" : "absent";
	}
	s = rt_state_status(e->state_root, st);
	if (!strcmp(s, "running") || !strcmp(s, "paused"))
		return s;
	return "stopped";
}

/* Whatever is left in the container's cgroup (an orphan, see above) is
 * killed and the cgroup removed. */
void ct_clean_cgroup(const char *name)
{
	struct rt_err ign = {0};
	struct cg_handle *cg = NULL;
	char *path = NULL, id[80];

	ct_oci_id(name, id, sizeof(id));
	if (cg_resolve_path(NULL, id, false, &path, &ign) == 0 && cg_open(path, &cg, &ign) == 0) {
		cg_freeze(cg, false, &ign);
		cg_kill_all(cg, SIGKILL, &ign);
		cg_destroy(cg, &ign);
		cg_handle_free(cg);
	}
	free(path);
}

bool ct_is_running(const char *s)
{
	return !strcmp(s, "running") || !strcmp(s, "paused");
}

/* cgroup v2 weight [1, 10000] to shares [2, 262144], rounded up so that
 * the cgroup code's shares-to-weight mapping gives the same weight back. */
int64_t ct_weight_to_shares(int64_t w)
{
	return w > 0 ? 2 + ((w - 1) * 262142 + 9998) / 9999 : -1;
}

int ct_check_hostname(const char *h, struct rt_err *err)
{
	size_t n = strlen(h);

	if (!n || n > 64)
		return rt_err_set(err, EINVAL, "--hostname %s: 1 to 64 characters", h);
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return rt_err_set(err, EINVAL, "--hostname %s: letters, digits, '-' and '.' only",
					  h);
	return 0;
}

int ct_open(const struct rt_ct_env *e, const char *name, struct rt_ct_config *c,
	    struct rt_err *err)
{
	int lock;

	if (ct_check_name(name, err) < 0)
		return -err->code;
	lock = ct_lock(e, name, err);
	if (lock < 0)
		return lock;
	if (ct_load_config(e, name, c, err) < 0) {
		rt_ct_config_clear(c);
		close(lock);
		return -err->code;
	}
	return lock;
}
