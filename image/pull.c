/* hull image pull: skopeo (when installed) copies the image into a
 * temporary OCI layout, which is then imported as any layout is, with the
 * same checks.  hull itself never talks to a registry. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"
#include "runtime/util.h"
#include "runtime/lazylib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int skopeo_copy(const char *skopeo, const char *src, const char *layout,
		       struct rt_err *err)
{
	_cleanup_free_ char *dst = NULL;

	if (asprintf(&dst, "oci:%s:pulled", layout) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	const char *const argv[] = { skopeo, "copy", "--quiet", src, dst, NULL };
	return img_exec(argv, err) < 0 ? rt_err_wrap(err, "skopeo copy %s failed", src) : 0;
}

int img_pull(struct img_store *s, const char *ref, const char *name, struct rt_err *err)
{
	_cleanup_free_ char *skopeo = img_find_program("skopeo");
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
	/* The import below needs them: fail before the temporary is made. */
	if (lazy_image_load(err) < 0)
		return rt_err_wrap(err, "pull %s", ref);
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
