/* Libraries loaded with dlopen() only when an operation needs them:
 * libarchive and libcrypto (image and VM-disk operations), libsystemd
 * (--systemd-cgroup) and, through struct lazy_lib, libnl-route (netns/,
 * networks hull sets up).  Linked, they made every `hull state` pay for
 * mapping and relocating them and their dependencies (libxml2, libicu,
 * libstdc++, ...): about 3 ms and 5 MB RSS per invocation.
 *
 * The headers still give the types and prototypes; each pointer's type is
 * __typeof__ the real function, so a signature cannot drift.  Call sites
 * read LA.read_new() for archive_read_new(), LC.DigestUpdate() for
 * EVP_DigestUpdate() and LS.bus_call() for sd_bus_call().  Call
 * lazy_archive_load(), lazy_crypto_load() or lazy_systemd_load() first:
 * before it succeeds every pointer is NULL. */
#ifndef HULL_LAZYLIB_H
#define HULL_LAZYLIB_H

#include <archive.h>
#include <stdbool.h>
#include <stddef.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "runtime/err.h"

/* X(field) for archive_<field>. */
#define LAZY_ARCHIVE_FUNCS(X) \
	X(entry_atime) X(entry_atime_nsec) X(entry_filetype) X(entry_gid) \
	X(entry_hardlink) X(entry_mtime) X(entry_mtime_nsec) X(entry_pathname) \
	X(entry_perm) X(entry_rdev) X(entry_size) X(entry_symlink) X(entry_uid) \
	X(entry_xattr_next) X(entry_xattr_reset) \
	X(error_string) X(set_error) \
	X(read_new) X(read_free) X(read_open) X(read_open_filename) \
	X(read_support_filter_all) X(read_support_format_tar) \
	X(read_next_header) X(read_data) X(read_data_block) X(read_data_into_fd)

/* X(field) for EVP_<field>. */
#define LAZY_CRYPTO_FUNCS(X) \
	X(MD_CTX_new) X(MD_CTX_free) X(sha256) \
	X(DigestInit_ex) X(DigestUpdate) X(DigestFinal_ex) X(Digest)

struct lazy_archive {
#define LAZY_FIELD(f) __typeof__(archive_##f) *f;
	LAZY_ARCHIVE_FUNCS(LAZY_FIELD)
#undef LAZY_FIELD
};

struct lazy_crypto {
#define LAZY_FIELD(f) __typeof__(EVP_##f) *f;
	LAZY_CRYPTO_FUNCS(LAZY_FIELD)
#undef LAZY_FIELD
};

extern struct lazy_archive LA;
extern struct lazy_crypto LC;

/* One dlopen()ed library, for tables defined elsewhere (netns/ fills
 * libnl's): the file (env overrides soname), the package to name when it
 * is missing, the symbols (prefix + names[i]) and their slots. */
struct lazy_lib {
	const char *env, *soname, *package;
	const char *prefix;
	const char *const *names;
	void **slots;
	size_t n;
	/* the outcome of the one attempt, kept for every later caller */
	bool tried;
	int code;
	char msg[512];
};
/* Open and fill once per process (thread-safe); 0 or -errno with err. */
int lazy_lib_load(struct lazy_lib *l, struct rt_err *err);
#define LAZY_NAME(f) #f,
#define LAZY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>

/* X(field) for sd_<field>: the systemd cgroup driver's D-Bus calls. */
#define LAZY_SYSTEMD_FUNCS(X) \
	X(bus_open_system) X(bus_flush_close_unref) X(bus_match_signal) \
	X(bus_call) X(bus_call_method) X(bus_process) X(bus_wait) \
	X(bus_error_free) X(bus_error_has_name) \
	X(bus_message_new_method_call) X(bus_message_append) X(bus_message_read) \
	X(bus_message_open_container) X(bus_message_close_container) \
	X(bus_message_unref) X(bus_slot_unref)

struct lazy_systemd {
#define LAZY_FIELD(f) __typeof__(sd_##f) *f;
	LAZY_SYSTEMD_FUNCS(LAZY_FIELD)
#undef LAZY_FIELD
};

extern struct lazy_systemd LS;
/* HULL_LIBSYSTEMD overrides the file name (for tests). */
int lazy_systemd_load(struct rt_err *err);
#endif

/* Load the library once per process (thread-safe) and fill the table; a
 * missing library or symbol is an error naming it and the package.
 * HULL_LIBARCHIVE / HULL_LIBCRYPTO override the file name (for tests). */
int lazy_archive_load(struct rt_err *err);
int lazy_crypto_load(struct rt_err *err);
/* Both, for operations that read layers (they hash as they unpack). */
int lazy_image_load(struct rt_err *err);

#endif
