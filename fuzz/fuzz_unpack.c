/* libFuzzer target for the layer extractor (img_layer_apply): each input
 * is a layer blob (tar, maybe compressed) applied to a fresh directory.
 * Besides ASan's findings, anything created outside that directory is a
 * crash: a sibling directory "outside" must stay empty, and the parent
 * must hold nothing else.  Build: make fuzz-unpack (clang). */
#include "config.h"
#include "image/img_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];
static int base_fd = -1;

static size_t entries(int dirfd, const char *sub)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* A normal end (-max_total_time, -runs) removes the work directory; a
 * crash leaves it to look at. */
static void cleanup(void)
{
	img_rm_rf_at(AT_FDCWD, base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(base, sizeof(base), "/tmp/hull-fuzz-unpack.XXXXXX");
	if (!mkdtemp(base))
		abort();
	base_fd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base_fd < 0 || mkdirat(base_fd, "outside", 0755) < 0)
		abort();
	/* Files the fuzzer creates must not keep the umask's say. */
	umask(022);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_err err = {0};
	int mfd, root;

	if (mkdirat(base_fd, "root", 0755) < 0)
		abort();
	root = openat(base_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	mfd = memfd_create("layer", MFD_CLOEXEC);
	if (root < 0 || mfd < 0 || write(mfd, data, size) != (ssize_t)size ||
	    lseek(mfd, 0, SEEK_SET) < 0)
		abort();
	(void)img_layer_apply(root, mfd, NULL, &err);
	close(mfd);
	close(root);
	if (entries(base_fd, "outside") != 0 || entries(base_fd, ".") != 2) {
		fprintf(stderr, "fuzz_unpack: the layer wrote outside its root (%s)\n", base);
		abort();
	}
	if (img_rm_rf_at(base_fd, "root") < 0)
		abort();
	return 0;
}
