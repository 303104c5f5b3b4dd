/* dlopen() of libarchive and libcrypto on first use; see lazylib.h. */
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

/* One library: what to open, which symbols fill which slots, and the
 * outcome of the one attempt (pthread_once runs it once; the message is
 * kept so every later caller gets the same error). */
struct lazy_lib {
	const char *env, *soname, *package;
	const char *prefix;
	const char *const *names;
	void **slots;
	size_t n;
	int code;
	char msg[512];
};

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

#define LAZY_NAME(f) #f,

static int lazy_result(const struct lazy_lib *l, struct rt_err *err);

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
	.n = sizeof(archive_names) / sizeof(archive_names[0]),
};
static struct lazy_lib crypto_lib = {
	.env = "HULL_LIBCRYPTO", .soname = HULL_LIBCRYPTO_SONAME,
	.package = "libssl3", .prefix = "EVP_",
	.names = crypto_names, .slots = (void **)&LC,
	.n = sizeof(crypto_names) / sizeof(crypto_names[0]),
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
	.n = sizeof(systemd_names) / sizeof(systemd_names[0]),
};
static void systemd_once(void) { lazy_open(&systemd_lib); }
static pthread_once_t systemd_done = PTHREAD_ONCE_INIT;

int lazy_systemd_load(struct rt_err *err)
{
	pthread_once(&systemd_done, systemd_once);
	return lazy_result(&systemd_lib, err);
}
#endif

static void archive_once(void) { lazy_open(&archive_lib); }
static void crypto_once(void) { lazy_open(&crypto_lib); }
static pthread_once_t archive_done = PTHREAD_ONCE_INIT;
static pthread_once_t crypto_done = PTHREAD_ONCE_INIT;

static int lazy_result(const struct lazy_lib *l, struct rt_err *err)
{
	if (l->code)
		return rt_err_set(err, l->code, "%s", l->msg);
	return 0;
}

int lazy_archive_load(struct rt_err *err)
{
	pthread_once(&archive_done, archive_once);
	return lazy_result(&archive_lib, err);
}

int lazy_crypto_load(struct rt_err *err)
{
	pthread_once(&crypto_done, crypto_once);
	return lazy_result(&crypto_lib, err);
}

int lazy_image_load(struct rt_err *err)
{
	int r = lazy_archive_load(err);

	return r < 0 ? r : lazy_crypto_load(err);
}
