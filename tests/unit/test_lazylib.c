/* runtime/lazylib.c: libarchive and libcrypto are dlopen()ed on first use.
 * Each Criterion test runs in its own process, so each sees a fresh
 * pthread_once and the environment it sets.  This program does not link
 * either library: what it gets comes from dlopen alone. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "microvm/disk.h"
#include "runtime/lazylib.h"

Test(lazylib, loads_every_function_and_they_work)
{
	struct rt_err err = {0};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	cr_assert_eq(lazy_image_load(&err), 0, "%s", err.msg);
	void *const *a = (void *const *)&LA, *const *c = (void *const *)&LC;
	for (size_t i = 0; i < sizeof(LA) / sizeof(void *); i++)
		cr_assert_not_null(a[i], "archive slot %zu", i);
	for (size_t i = 0; i < sizeof(LC) / sizeof(void *); i++)
		cr_assert_not_null(c[i], "crypto slot %zu", i);
	struct archive *ar = LA.read_new();
	cr_assert_not_null(ar);
	cr_assert_eq(LA.read_support_format_tar(ar), ARCHIVE_OK);
	LA.read_free(ar);
	/* sha256("abc"), FIPS 180-2's first example */
	cr_assert(LC.Digest("abc", 3, md, &n, LC.sha256(), NULL));
	cr_assert_eq(n, 32);
	cr_assert_eq(md[0], 0xba);
	cr_assert_eq(md[31], 0xad);
	/* a second load is the same, cheap, success */
	cr_assert_eq(lazy_image_load(&err), 0);
}

Test(lazylib, missing_libarchive_is_named_with_its_package)
{
	struct rt_err err = {0};

	setenv("HULL_LIBARCHIVE", "/nonexistent/libarchive.so.13", 1);
	cr_assert_eq(lazy_archive_load(&err), -ENOENT);
	cr_assert(strstr(err.msg, "/nonexistent/libarchive.so.13"), "%s", err.msg);
	cr_assert(strstr(err.msg, "(install libarchive13)"), "%s", err.msg);
	cr_assert_null(LA.read_new);
	/* the same answer every time, and image loads fail the same way */
	memset(&err, 0, sizeof(err));
	cr_assert_eq(lazy_image_load(&err), -ENOENT);
	cr_assert(strstr(err.msg, "install libarchive13"), "%s", err.msg);
}

Test(lazylib, library_without_the_symbols_is_refused_whole)
{
	struct rt_err err = {0};

	/* libc opens fine but has no EVP_*: nothing of it may be used */
	setenv("HULL_LIBCRYPTO", "libc.so.6", 1);
	cr_assert_eq(lazy_crypto_load(&err), -ENOSYS);
	cr_assert(strstr(err.msg, "no symbol EVP_MD_CTX_new"), "%s", err.msg);
	cr_assert(strstr(err.msg, "install libssl3"), "%s", err.msg);
	void *const *c = (void *const *)&LC;
	for (size_t i = 0; i < sizeof(LC) / sizeof(void *); i++)
		cr_assert_null(c[i], "crypto slot %zu", i);
}

Test(lazylib, unpack_without_libarchive_creates_nothing)
{
	char dir[] = "/tmp/hull-unit-lazy.XXXXXX", store[64], target[64];
	struct img_store s = { .fd = -1, .lock_fd = -1 };
	struct rt_err err = {0};
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(target, sizeof(target), "%s/out/rootfs", dir);
	cr_assert_eq(img_store_open(&s, store, &err), 0, "%s", err.msg);
	setenv("HULL_LIBARCHIVE", "/nonexistent.so", 1);
	cr_assert_lt(img_unpack(&s, "any", target, &err), 0);
	cr_assert(strstr(err.msg, "install libarchive13"), "%s", err.msg);
	cr_assert_neq(stat(target, &st), 0);
	snprintf(target, sizeof(target), "%s/out", dir);
	cr_assert_neq(stat(target, &st), 0, "nothing made before the load");
	img_store_close(&s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(lazylib, vm_disk_key_without_libcrypto_fails_cleanly)
{
	struct rt_err err = {0};
	char key[65];

	setenv("HULL_LIBCRYPTO", "/nonexistent.so", 1);
	cr_assert_lt(vm_disk_key("/", "erofs", key, &err), 0);
	cr_assert(strstr(err.msg, "install libssl3"), "%s", err.msg);
}

#ifdef HAVE_LIBSYSTEMD
#include "cgroups/cgroup.h"

Test(lazylib, libsystemd_loads_its_table)
{
	struct rt_err err = {0};

	cr_assert_eq(lazy_systemd_load(&err), 0, "%s", err.msg);
	void *const *p = (void *const *)&LS;
	for (size_t i = 0; i < sizeof(LS) / sizeof(void *); i++)
		cr_assert_not_null(p[i], "systemd slot %zu", i);
}

Test(lazylib, systemd_driver_without_libsystemd_is_named)
{
	struct rt_err err = {0};

	setenv("HULL_LIBSYSTEMD", "/nonexistent/libsystemd.so.0", 1);
	cr_assert_lt(cg_systemd_stop("hull-x.scope", &err), 0);
	cr_assert(strstr(err.msg, "systemd: /nonexistent/libsystemd.so.0"), "%s", err.msg);
	cr_assert(strstr(err.msg, "(install libsystemd0)"), "%s", err.msg);
}
#endif

/* netns/: libnl-route, and libnl-3 through it */
#include "netns/net.h"
#include "netns/net_int.h"

Test(lazylib, libnl_loads_its_table)
{
	struct rt_err err = {0};

	cr_assert_eq(net_nl_load(&err), 0, "%s", err.msg);
	void *const *p = (void *const *)&LN;
	for (size_t i = 0; i < sizeof(LN) / sizeof(void *); i++)
		cr_assert_not_null(p[i], "libnl slot %zu", i);
	/* a libnl-3 symbol, found through libnl-route's handle */
	cr_assert_str_eq(LN.nl_geterror(-NLE_NOMEM), "Out of memory");
}

Test(lazylib, network_without_libnl_is_named)
{
	struct rt_err err = {0};

	setenv("HULL_LIBNL", "/nonexistent/libnl-route-3.so.200", 1);
	cr_assert_null(net_route_socket(&err));
	cr_assert(strstr(err.msg, "netlink: /nonexistent/libnl-route-3.so.200"), "%s", err.msg);
	cr_assert(strstr(err.msg, "(install libnl-route-3-200)"), "%s", err.msg);
	memset(&err, 0, sizeof(err));
	cr_assert_lt(net_remove("nosuch0", &err), 0);
	cr_assert(strstr(err.msg, "install libnl-route-3-200"), "%s", err.msg);
}
