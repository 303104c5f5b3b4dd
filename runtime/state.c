#include "config.h"
#include "runtime/state.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "cgroups/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void rt_state_clear(struct rt_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	free(s->cgroup_path);
	for (size_t i = 0; i < s->n_annotations; i++) {
		free((char *)s->annotations[i].key);
		free((char *)s->annotations[i].value);
	}
	free(s->annotations);
	memset(s, 0, sizeof(*s));
}

char *rt_state_path(const char *root, const char *id, const char *file)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s%s%s", root, id, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

bool rt_state_alive(const struct rt_state *s)
{
	unsigned long long st;

	if (s->pid <= 0)
		return false;
	if (rt_pid_start_time(s->pid, &st) < 0)
		return false;
	/* A different start time means the pid was reused by someone else. */
	if (s->pid_start && st != s->pid_start)
		return false;
	/* A zombie init is a stopped container. */
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'Z')
				return false;
		}
	}
	return true;
}

const char *rt_state_status(const char *root, const struct rt_state *s)
{
	_cleanup_free_ char *sock = NULL;
	struct cg_handle *cg = NULL;
	bool frozen = false;

	if (!rt_state_alive(s))
		return s->creating && s->pid <= 0 ? "creating" : "stopped";
	if (s->creating)
		return "creating";
	sock = rt_state_path(root, s->id, "start.sock");
	if (sock && access(sock, F_OK) == 0)
		return "created";
	if (s->cgroup_path && cg_open(s->cgroup_path, &cg, NULL) == 0) {
		if (cg_is_frozen(cg, &frozen, NULL) < 0)
			frozen = false;
		cg_handle_free(cg);
		if (frozen)
			return "paused";
	}
	return "running";
}

int rt_state_create_dir(const char *root, const char *id, struct rt_err *err)
{
	_cleanup_close_ int rootfd = -1;
	int fd;

	if (rt_mkdir_p(root, 0711, err) < 0)
		return -err->code;
	rootfd = open(root, O_DIRECTORY | O_CLOEXEC | O_PATH);
	if (rootfd < 0)
		return rt_err_sys(err, errno, "open %s", root);
	if (mkdirat(rootfd, id, 0711) < 0) {
		if (errno == EEXIST)
			return rt_err_set(err, EEXIST, "container \"%s\" already exists", id);
		return rt_err_sys(err, errno, "mkdir %s/%s", root, id);
	}
	fd = openat(rootfd, id, O_DIRECTORY | O_CLOEXEC | O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return rt_err_sys(err, errno, "open %s/%s", root, id);
	return fd;
}

int rt_state_open_dir(const char *root, const char *id, struct rt_err *err)
{
	_cleanup_free_ char *p = rt_state_path(root, id, NULL);
	int fd;

	if (!p)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(p, O_DIRECTORY | O_CLOEXEC | O_RDONLY | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return rt_err_set(err, ENOENT, "container \"%s\" does not exist", id);
		return rt_err_sys(err, errno, "open %s", p);
	}
	return fd;
}

int rt_state_lock(int dirfd, struct rt_err *err)
{
	while (flock(dirfd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return rt_err_sys(err, errno, "lock state");
	}
	return 0;
}

int rt_state_write(int dirfd, const struct rt_state *s, struct rt_err *err)
{
	_cleanup_free_ char *json = rt_state_to_json(s);
	_cleanup_free_ char *path = NULL;

	if (!json || asprintf(&path, "/proc/self/fd/%d/state.json", dirfd) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	return rt_write_file_atomic(path, json, strlen(json), 0600, err);
}

int rt_state_read(const char *root, const char *id, struct rt_state *out, struct rt_err *err)
{
	_cleanup_close_ int dfd = rt_state_open_dir(root, id, err);
	_cleanup_free_ char *buf = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (dfd < 0)
		return dfd;
	if (rt_read_file_at(dfd, "state.json", 1 << 20, &buf, &len, err) < 0) {
		if (err->code == ENOENT) {
			/* Killed before the first state write: only id is known. */
			out->id = strdup(id);
			out->creating = true;
			return 0;
		}
		return rt_err_wrap(err, "container \"%s\"", id);
	}
	if (rt_state_from_json(buf, len, out, err) < 0)
		return rt_err_wrap(err, "container \"%s\"", id);
	if (strcmp(out->id, id) != 0) {
		rt_state_clear(out);
		return rt_err_set(err, EINVAL, "container \"%s\": state.json names another id", id);
	}
	return 0;
}

static int remove_tree_at(int dfd)
{
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR) {
			int sub = openat(dirfd(d), de->d_name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				remove_tree_at(sub);
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		}
	}
	return 0;
}

int rt_state_remove(const char *root, const char *id, struct rt_err *err)
{
	_cleanup_free_ char *p = rt_state_path(root, id, NULL);
	int fd;

	if (!p)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(p, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(err, errno, "open %s", p);
	remove_tree_at(fd);
	if (rmdir(p) < 0 && errno != ENOENT)
		return rt_err_sys(err, errno, "remove %s", p);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rt_state_list(const char *root, char ***ids, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*ids = NULL;
	if (!d) {
		if (errno == ENOENT) {
			*ids = calloc(1, sizeof(char *));
			return *ids ? 0 : rt_err_set(err, ENOMEM, "out of memory");
		}
		return rt_err_sys(err, errno, "open %s", root);
	}
	while ((de = readdir(d))) {
		char **nv;
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv)
			break;
		v = nv;
		v[n++] = strdup(de->d_name);
		v[n] = NULL;
	}
	if (!v)
		v = calloc(1, sizeof(char *));
	if (!v)
		return rt_err_set(err, ENOMEM, "out of memory");
	qsort(v, n, sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}
