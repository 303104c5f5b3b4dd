/* hull image pull: skopeo (when installed) copies the image into a
 * temporary OCI layout, which is then imported as any layout is, with the
 * same checks.  hull itself never talks to a registry. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* skopeo's transports; a reference without one is a registry's. */
static bool has_transport(const char *ref)
{
	static const char *const t[] = {
		"docker://", "oci:", "oci-archive:", "dir:", "docker-archive:",
		"containers-storage:", "docker-daemon:",
	};
	for (size_t i = 0; i < RT_ARRAY_SIZE(t); i++)
		if (!strncmp(ref, t[i], strlen(t[i])))
			return true;
	return false;
}

static char *find_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL, *full = NULL;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&full, "%s/%s", d, prog) < 0)
			return NULL;
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		full = NULL;
	}
	return NULL;
}

/* Run skopeo copy src oci:layout:pulled; on failure the error carries the
 * last line skopeo wrote. */
static int skopeo_copy(const char *skopeo, const char *src, const char *layout,
		       struct rt_err *err)
{
	_cleanup_free_ char *dst = NULL;
	char msg[512] = "";
	int fds[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (asprintf(&dst, "oci:%s:pulled", layout) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return rt_err_sys(err, errno, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(127);
		execl(skopeo, "skopeo", "copy", "--quiet", src, dst, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* Keep the tail: skopeo's fatal message is its last line. */
	while ((n = read(fds[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		len += n > 0 ? (size_t)n : 0;
		if (len == sizeof(msg) - 1) {
			memmove(msg, msg + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	close(fds[0]);
	msg[len] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (len && msg[len - 1] == '\n')
		msg[--len] = 0;
	return rt_err_set(err, EIO, "skopeo copy %s failed: %s", src,
			  strrchr(msg, '\n') ? strrchr(msg, '\n') + 1 : *msg ? msg : "no message");
}

int img_pull(struct img_store *s, const char *ref, const char *name, struct rt_err *err)
{
	_cleanup_free_ char *skopeo = find_in_path("skopeo");
	_cleanup_free_ char *src = NULL, *tmp = NULL, *layout = NULL;
	const char *tmpdir = getenv("TMPDIR");
	int r;

	if (!*ref)
		return rt_err_set(err, EINVAL, "pull: empty image reference");
	/* A registry image is named as given; elsewhere there is no name. */
	if (!name && has_transport(ref) && strncmp(ref, "docker://", 9))
		return rt_err_set(err, EINVAL, "pull %s: pass --name to name the image", ref);
	if (!name)
		name = strncmp(ref, "docker://", 9) ? ref : ref + 9;
	if (img_valid_name(name, err) < 0)
		return rt_err_wrap(err, "pull %s", ref);
	if (!skopeo)
		return rt_err_set(err, ENOENT, "pull %s: needs skopeo, which is not installed "
				  "(not found in PATH)", ref);
	if (asprintf(&src, "%s%s", has_transport(ref) ? "" : "docker://", ref) < 0 ||
	    asprintf(&tmp, "%s/hull-pull-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/var/tmp") < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	if (!mkdtemp(tmp))
		return rt_err_sys(err, errno, "pull: %s", tmp);
	if (asprintf(&layout, "%s/layout", tmp) < 0)
		r = rt_err_set(err, ENOMEM, "out of memory");
	else
		r = skopeo_copy(skopeo, src, layout, err);
	if (r == 0)
		r = img_import(s, layout, name, err);
	img_rm_rf_at(AT_FDCWD, tmp);
	return r < 0 ? rt_err_wrap(err, "pull") : 0;
}
