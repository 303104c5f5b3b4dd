/* dlopen() of libarchive, libcrypto and libsystemd on first use, and the
 * loader netns/ uses for libnl; see lazylib.h. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/lazylib.h"

#ifndef HULL_LIBARCHIVE_SONAME
#define HULL_LIBARCHIVE_SONAME "libarchive.so.13"
#endif
#ifndef HULL_LIBCRYPTO_SONAME
#define HULL_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

struct lazy_archive LA;
struct lazy_crypto LC;

static void lazy_open(struct lazy_lib *l)
{
	const char *file = getenv(l->env);
	void *h;

	if (!file || !*file)
		file = l->soname;
	/* RTLD_LOCAL: nothing of it leaks into the global namespace, and
	 * RTLD_NOW: a missing symbol shows here, not in the middle of a
	 * layer.  The handle is never closed: the table points into it. */
	h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		l->code = ENOENT;
		snprintf(l->msg, sizeof(l->msg), "%s (install %s)",
			 why ? why : file, l->package);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		char sym[96];
		snprintf(sym, sizeof(sym), "%s%s", l->prefix, l->names[i]);
		dlerror();
		l->slots[i] = dlsym(h, sym);
		if (!l->slots[i]) {
			l->code = ENOSYS;
			snprintf(l->msg, sizeof(l->msg), "%s: no symbol %s (install %s)",
				 file, sym, l->package);
			memset(l->slots, 0, l->n * sizeof(void *));
			return;
		}
	}
}

static const char *const archive_names[] = { LAZY_ARCHIVE_FUNCS(LAZY_NAME) };
static const char *const crypto_names[] = { LAZY_CRYPTO_FUNCS(LAZY_NAME) };

/* The tables are filled as arrays of pointers: every member is a function
 * pointer, so the struct is laid out like one (checked below). */
_Static_assert(sizeof(LA) == sizeof(archive_names) / sizeof(char *) * sizeof(void *),
	       "struct lazy_archive matches LAZY_ARCHIVE_FUNCS");
_Static_assert(sizeof(LC) == sizeof(crypto_names) / sizeof(char *) * sizeof(void *),
	       "struct lazy_crypto matches LAZY_CRYPTO_FUNCS");

static struct lazy_lib archive_lib = {
	.env = "HULL_LIBARCHIVE", .soname = HULL_LIBARCHIVE_SONAME,
	.package = "libarchive13", .prefix = "archive_",
	.names = archive_names, .slots = (void **)&LA,
	.n = LAZY_COUNT(archive_names),
};
static struct lazy_lib crypto_lib = {
	.env = "HULL_LIBCRYPTO", .soname = HULL_LIBCRYPTO_SONAME,
	.package = "libssl3", .prefix = "EVP_",
	.names = crypto_names, .slots = (void **)&LC,
	.n = LAZY_COUNT(crypto_names),
};

#ifdef HAVE_LIBSYSTEMD
#ifndef HULL_LIBSYSTEMD_SONAME
#define HULL_LIBSYSTEMD_SONAME "libsystemd.so.0"
#endif
struct lazy_systemd LS;
static const char *const systemd_names[] = { LAZY_SYSTEMD_FUNCS(LAZY_NAME) };
_Static_assert(sizeof(LS) == sizeof(systemd_names) / sizeof(char *) * sizeof(void *),
	       "struct lazy_systemd matches LAZY_SYSTEMD_FUNCS");
static struct lazy_lib systemd_lib = {
	.env = "HULL_LIBSYSTEMD", .soname = HULL_LIBSYSTEMD_SONAME,
	.package = "libsystemd0", .prefix = "sd_",
	.names = systemd_names, .slots = (void **)&LS,
	.n = LAZY_COUNT(systemd_names),
};
#endif

static pthread_mutex_t lazy_lock = PTHREAD_MUTEX_INITIALIZER;

int lazy_lib_load(struct lazy_lib *l, struct rt_err *err)
{
	int code;

	pthread_mutex_lock(&lazy_lock);
	if (!l->tried)
		lazy_open(l);
	l->tried = true;
	code = l->code;
	pthread_mutex_unlock(&lazy_lock);
	if (code)
		return rt_err_set(err, code, "%s", l->msg);
	return 0;
}

int lazy_archive_load(struct rt_err *err)
{
	return lazy_lib_load(&archive_lib, err);
}

int lazy_crypto_load(struct rt_err *err)
{
	return lazy_lib_load(&crypto_lib, err);
}

#ifdef HAVE_LIBSYSTEMD
int lazy_systemd_load(struct rt_err *err)
{
	return lazy_lib_load(&systemd_lib, err);
}
#endif

int lazy_image_load(struct rt_err *err)
{
	int r = lazy_archive_load(err);

	return r < 0 ? r : lazy_crypto_load(err);
}
