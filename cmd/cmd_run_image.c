/* hull run --image REF [--name ID] [--store DIR] [--vm [--kernel K]] [-- CMD]: a
 * container from a stored image, in the foreground; exits with its status.
 * cmd_run hands over here when it sees --image. */
#include "config.h"
#include "cmd/cmd.h"
#include "image/image.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cmd_run_is_image(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--image") || !strncmp(argv[i], "--image=", 8) ||
		    !strcmp(argv[i], "-image") || !strncmp(argv[i], "-image=", 7))
			return true;
	return false;
}

int cmd_run_image(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	enum { O_IMAGE = 256, O_NAME, O_STORE, O_VM, O_KERNEL };
	static const struct option opts[] = {
		{ "image", required_argument, NULL, O_IMAGE },
		{ "name", required_argument, NULL, O_NAME },
		{ "store", required_argument, NULL, O_STORE },
		{ "vm", no_argument, NULL, O_VM },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ NULL, 0, NULL, 0 },
	};
	struct img_run_opts o = { .systemd_cgroup = g->systemd_cgroup, .vm = g->vm_default };
	char id[64];
	int c, status = 0;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case O_IMAGE: o.ref = optarg; break;
		case O_NAME: o.id = optarg; break;
		case O_STORE: o.store = optarg; break;
		case O_VM: o.vm = true; break;
		case O_KERNEL: o.kernel = optarg; break;
		default: return cmd_usage_error(err, "run", "%s (with --image: --name, --store, "
						 "--vm, --kernel, then -- CMD)", cmd_bad_option(argv));
		}
	}
	if (!o.id) {
		snprintf(id, sizeof(id), "image-%d", (int)getpid());
		o.id = id;
	}
	o.cmd = argv + optind;
	if (img_run(g->root, &o, &status, err) < 0)
		return -1;
	return status;
}
