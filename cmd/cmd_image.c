/* image: import|pull|ls|inspect|rm|unpack|bundle|disk against the image store (--store
 * DIR, else $HULL_IMAGE_STORE, else /var/lib/hull/images). */
#include "config.h"
#include "cmd/cmd.h"
#include "image/image.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct image_args {
	const char *store;
	const char *name;
	bool rootless;      /* bundle: the rootless variant of the default spec */
	int argc;           /* operands after the subcommand */
	char **argv;
};

/* Options may come anywhere (getopt permutes); the first operand is the
 * subcommand. */
static int parse(int argc, char **argv, struct image_args *a, bool *help, struct rt_err *err)
{
	enum { O_STORE = 256, O_NAME, O_ROOTLESS, O_HELP };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "name", required_argument, NULL, O_NAME },
		{ "rootless", no_argument, NULL, O_ROOTLESS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;   /* a fresh scan of a new argv */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_STORE: a->store = optarg; break;
		case O_NAME: a->name = optarg; break;
		case O_ROOTLESS: a->rootless = true; break;
		case 'h': case O_HELP: *help = true; break;
		default: return cmd_usage_error(err, "image", "%s", cmd_bad_option(argv));
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return 0;
}

static int do_ls(struct img_store *s, struct rt_err *err)
{
	struct img_ref *refs = NULL;
	size_t n = 0;

	if (img_list(s, &refs, &n, err) < 0)
		return -1;
	printf("%-32s %-71s %s\n", "REF", "DIGEST", "SIZE");
	for (size_t i = 0; i < n; i++)
		printf("%-32s %-71s %llu\n", refs[i].name, refs[i].digest,
		       (unsigned long long)refs[i].size);
	img_refs_free(refs, n);
	return 0;
}

static int do_inspect(struct img_store *s, const char *name, struct rt_err *err)
{
	char *json = NULL;

	if (img_inspect(s, name, &json, err) < 0)
		return -1;
	puts(json);
	free(json);
	return 0;
}

/* The disk is made with the store's lock, which img_vm_disk takes itself. */
static int do_disk(struct img_store *s, const char *name, struct rt_err *err)
{
	_cleanup_free_ char *root = strdup(s->root);
	char *path = NULL;

	if (!root)
		return rt_err_set(err, ENOMEM, "out of memory"), -1;
	img_store_close(s);
	if (img_vm_disk(root, name, &path, err) < 0)
		return -1;
	puts(path);
	free(path);
	return 0;
}

static int dispatch(struct img_store *s, const char *sub, struct image_args *a,
		    struct rt_err *err)
{
	if (!strcmp(sub, "ls"))
		return do_ls(s, err);
	if (!strcmp(sub, "inspect"))
		return do_inspect(s, a->argv[0], err);
	if (!strcmp(sub, "rm"))
		return img_remove(s, a->argv[0], err) < 0 ? -1 : 0;
	if (!strcmp(sub, "import"))
		return img_import(s, a->argv[0], a->name, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "disk"))
		return do_disk(s, a->argv[0], err);
	if (!strcmp(sub, "pull"))
		return img_pull(s, a->argv[0], a->name, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "bundle"))
		return img_bundle(s, a->argv[0], a->argv[1], a->rootless, err) < 0 ? -1 : 0;
	return img_unpack(s, a->argv[0], a->argv[1], err) < 0 ? -1 : 0;
}

int cmd_image(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	static const struct { const char *name; int operands; } subs[] = {
		{ "import", 1 }, { "ls", 0 }, { "inspect", 1 }, { "rm", 1 }, { "unpack", 2 },
		{ "bundle", 2 }, { "pull", 1 }, { "disk", 1 },
	};
	struct image_args a = { .store = img_store_default() };
	struct img_store s;
	bool help = false;
	const char *sub;
	int want = -1, rc;

	/* Options may come before the subcommand as well as after it. */
	if (parse(argc, argv, &a, &help, err) < 0)
		return -1;
	if (help) {
		cmd_usage("image", false);
		return 0;
	}
	if (a.argc < 1)
		return cmd_usage_error(err, "image", "%s", "expected a subcommand: import, pull, ls, "
				       "inspect, rm, unpack, bundle, disk");
	sub = a.argv[0];
	a.argv++;
	a.argc--;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(sub, subs[i].name))
			want = subs[i].operands;
	if (want < 0)
		return cmd_usage_error(err, "image", "unknown subcommand \"%s\"", sub);
	if (a.argc != want)
		return cmd_usage_error(err, "image", "%s: wrong number of arguments", sub);
	if (a.name && strcmp(sub, "import") && strcmp(sub, "pull"))
		return cmd_usage_error(err, "image", "%s", "--name is an option of import and pull only");
	if (a.rootless && strcmp(sub, "bundle"))
		return cmd_usage_error(err, "image", "%s", "--rootless is an option of bundle only");
	if (img_store_open(&s, a.store, err) < 0)
		return -1;
	rc = dispatch(&s, sub, &a, err);
	img_store_close(&s);
	return rc;
}
