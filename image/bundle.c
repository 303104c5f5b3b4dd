/* hull image bundle: a rootfs plus a config.json made from the image
 * config, and the pieces of it that `hull run --image` shares: the process
 * (Entrypoint + Cmd, Env, WorkingDir) and User resolved in the image's own
 * /etc/passwd and /etc/group. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/spec.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A bundle goes into a new or an empty directory only, so that cleaning
 * up after a failure can never remove anything of the user's. */
static int bundle_dir_check(const char *dir, bool *existed, struct rt_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;

	*existed = d != NULL;
	if (!d)
		return errno == ENOENT ? 0 : rt_err_sys(err, errno, "bundle: %s", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			return rt_err_set(err, EEXIST, "bundle: %s exists and is not empty", dir);
	return 0;
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* args and env borrow the strings of c and cmd.  cmd, when given,
 * replaces the image's Cmd (Entrypoint stays), as docker run does. */
static int image_process(const struct img_config *c, char *const *cmd, const char ***args,
			 const char ***env, struct rt_err *err)
{
	static const char path_env[] = "PATH=" RT_SPEC_DEFAULT_PATH;
	char *const *cv = cmd && cmd[0] ? cmd : c->cmd;
	size_t ne = strv_len(c->entrypoint), nc = strv_len((char **)cv), nv = strv_len(c->env);
	bool has_path = false;

	if (ne + nc == 0)
		return rt_err_set(err, EINVAL, "image config: Entrypoint and Cmd are both empty: "
				  "nothing to run");
	*args = calloc(ne + nc + 1, sizeof(**args));
	*env = calloc(nv + 2, sizeof(**env));
	if (!*args || !*env)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ne; i++)
		(*args)[i] = c->entrypoint[i];
	for (size_t i = 0; i < nc; i++)
		(*args)[ne + i] = cv[i];
	for (size_t i = 0; i < nv; i++) {
		(*env)[i] = c->env[i];
		has_path |= !strncmp(c->env[i], "PATH=", 5);
	}
	if (!has_path)
		(*env)[nv] = path_env;
	return 0;
}

/* A decimal id: all digits, below 2^32 - 1 (which is (uid_t)-1). */
static bool parse_id(const char *s, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* Find in the rootfs' passwd or group file (name:x:id:gid...) the line
 * whose name is name, or, when name is NULL, whose id is id.  Read through
 * rt_open_in_root: the files belong to the image, and a symlink there must
 * not reach the host's.  1 found, 0 not (or no such file), <0 error. */
static int db_find(int root, const char *file, const char *name, uint32_t id,
		   uint32_t *out_id, uint32_t *out_gid, struct rt_err *err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int fd = rt_open_in_root(root, file, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0, err);

	if (fd == -ENOENT) {
		rt_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return rt_err_wrap(err, "bundle: %s", file);
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return rt_err_sys(err, errno, "bundle: %s", file);
	}
	while (getline(&line, &cap, f) > 0) {
		char *fields[4] = { 0 };
		size_t n = 0;

		line[strcspn(line, "\n")] = '\0';
		/* strsep, not strtok: empty fields (no password) still count. */
		for (char *p = line, *tok; n < 4 && (tok = strsep(&p, ":")); n++)
			fields[n] = tok;
		if (n < 3 || !parse_id(fields[2], out_id))
			continue;
		if (name ? strcmp(fields[0], name) : *out_id != id)
			continue;
		if (out_gid && (n < 4 || !parse_id(fields[3], out_gid)))
			continue;
		return 1;
	}
	return 0;
}

/* User "uid", "uid:gid", "name", "name:group" or "uid:group", as docker
 * reads it.  A lone uid takes its passwd entry's group, or 0 without one. */
int img_user_resolve(const char *rootfs, const char *user, uint32_t *uid, uint32_t *gid,
		       struct rt_err *err)
{
	_cleanup_free_ char *u = user ? strdup(user) : NULL;
	_cleanup_close_ int root = -1;
	char *g;
	uint32_t pw_gid = 0, dummy;
	int r;

	*uid = *gid = 0;
	if (!user)
		return 0;
	if (!u)
		return rt_err_set(err, ENOMEM, "out of memory");
	g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return rt_err_sys(err, errno, "bundle: %s", rootfs);
	if (parse_id(u, uid)) {
		r = db_find(root, "/etc/passwd", NULL, *uid, &dummy, &pw_gid, err);
	} else {
		r = db_find(root, "/etc/passwd", u, 0, uid, &pw_gid, err);
		if (r == 0)
			return rt_err_set(err, ENOENT, "image config: User \"%s\": no user \"%s\" "
					  "in the image's /etc/passwd", user, u);
	}
	if (r < 0)
		return r;
	*gid = pw_gid;
	if (!g || parse_id(g, gid))
		return 0;
	r = db_find(root, "/etc/group", g, 0, gid, NULL, err);
	if (r == 0)
		return rt_err_set(err, ENOENT, "image config: User \"%s\": no group \"%s\" "
				  "in the image's /etc/group", user, g);
	return r < 0 ? r : 0;
}

int img_spec_write(const char *dir, bool rootless, bool writable, const struct img_config *c,
		   const char *rootfs, char *const *cmd, struct rt_err *err)
{
	_cleanup_free_ const char **args = NULL;
	_cleanup_free_ const char **env = NULL;
	_cleanup_free_ char *json = NULL, *path = NULL;
	_cleanup_close_ int fd = -1;
	struct rt_spec_proc_cfg p = { .cwd = c->working_dir ? c->working_dir : "/",
				      .writable_root = writable };

	if (image_process(c, cmd, &args, &env, err) < 0)
		return -err->code;
	if (p.cwd[0] != '/')
		return rt_err_set(err, EINVAL, "image config: WorkingDir \"%s\" is not absolute",
				  p.cwd);
	if (img_user_resolve(rootfs, c->user, &p.uid, &p.gid, err) < 0)
		return -err->code;
	p.args = args;
	p.env = env;
	json = rt_spec_proc_json(rootless, &p);
	if (!json || asprintf(&path, "%s/config.json", dir) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || rt_write_all(fd, json, strlen(json)) < 0 || fsync(fd) < 0)
		return rt_err_sys(err, errno, "%s", path);
	return 0;
}

static int bundle_make(struct img_store *s, const char *name, const char *dir,
		       const char *rootfs, bool rootless, const struct img_config *c,
		       struct rt_err *err)
{
	_cleanup_free_ const char **args = NULL;
	_cleanup_free_ const char **env = NULL;

	/* The process is checked before the layers are unpacked. */
	if (image_process(c, NULL, &args, &env, err) < 0)
		return -err->code;
	if (img_unpack(s, name, rootfs, err) < 0)
		return -err->code;
	return img_spec_write(dir, rootless, false, c, rootfs, NULL, err);
}

int img_bundle(struct img_store *s, const char *name, const char *dir, bool rootless,
	       struct rt_err *err)
{
	_cleanup_free_ char *rootfs = NULL;
	struct img_config c;
	bool existed;
	int r;

	/* Before the bundle directory is made. */
	if (lazy_image_load(err) < 0)
		return -err->code;
	if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if ((r = bundle_dir_check(dir, &existed, err)) < 0)
		return r;
	/* Read the config first: a bad name or config creates nothing. */
	if ((r = img_store_config(s, name, &c, err)) < 0)
		return r;
	r = bundle_make(s, name, dir, rootfs, rootless, &c, err);
	img_config_free(&c);
	if (r < 0) {
		/* dir was empty: what is in it now is ours. */
		if (existed) {
			_cleanup_free_ char *cfg = NULL;

			img_rm_rf_at(AT_FDCWD, rootfs);
			if (asprintf(&cfg, "%s/config.json", dir) >= 0)
				unlink(cfg);
		} else {
			img_rm_rf_at(AT_FDCWD, dir);
		}
	}
	return r;
}
