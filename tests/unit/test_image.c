/* image/: the store, import (layout dir and archive) and layer unpack,
 * on layouts built here with libarchive's writer. */
#include "config.h"
#include "image_fixture.h"

TestSuite(image, .init = setup, .fini = teardown);

/* ---- tests ---- */

Test(image, digest_mismatch_names_the_blob_and_adds_nothing)
{
	struct layer ls[] = { { base_ents, 3, "gzip" } };
	struct built b;
	struct rt_err err = {0};
	char path[512];

	make_layout("x", ls, 1, &b);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay, b.layers[0] + 7);
	int fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "\xff", 1, 20), 1);   /* same size, other bytes */
	close(fd);
	cr_assert_lt(img_import(&st, lay, NULL, &err), 0);
	cr_assert(strstr(err.msg, b.layers[0]), "%s", err.msg);
	cr_assert(strstr(err.msg, "digest mismatch"), "%s", err.msg);
	cr_assert_eq(n_images(), 0);
	cr_assert_eq(count_blobs(), 0);
}

Test(image, size_mismatch_is_refused)
{
	struct layer ls[] = { { base_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};
	char path[512];

	make_layout("x", ls, 1, &b);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay, b.layers[0] + 7);
	cr_assert_eq(truncate(path, 100), 0);
	cr_assert_lt(img_import(&st, lay, NULL, &err), 0);
	cr_assert(strstr(err.msg, b.layers[0]) && strstr(err.msg, "size"), "%s", err.msg);
	cr_assert_eq(count_blobs(), 0);
}

Test(image, missing_manifest_is_a_clear_error)
{
	struct layer ls[] = { { base_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};
	char path[512];

	make_layout("x", ls, 1, &b);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay, b.manifest + 7);
	cr_assert_eq(unlink(path), 0);
	cr_assert_lt(img_import(&st, lay, NULL, &err), 0);
	cr_assert(strstr(err.msg, b.manifest) && strstr(err.msg, "missing"), "%s", err.msg);
	cr_assert_eq(n_images(), 0);
	cr_assert_eq(count_blobs(), 0);
}

Test(image, bad_layout_version_and_no_name)
{
	struct layer ls[] = { { base_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};

	make_layout("x", ls, 1, &b);
	write_text("oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
	cr_assert_lt(img_import(&st, lay, NULL, &err), 0);
	cr_assert(strstr(err.msg, "imageLayoutVersion"), "%s", err.msg);
	/* --name is needed when the index names nothing */
	make_layout("x", ls, 1, &b);
	char idx[512];
	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1}]}",
		 b.manifest);
	write_text("index.json", idx);
	rt_err_clear(&err);
	cr_assert_lt(img_import(&st, lay, NULL, &err), 0);
	cr_assert(strstr(err.msg, "--name"), "%s", err.msg);
	cr_assert_eq(count_blobs(), 0);
}

Test(image, archive_import_and_name_override)
{
	struct layer ls[] = { { base_ents, 3, "zstd" } };
	struct built b;
	struct rt_err err = {0};
	char cmd[512], tarp[160];

	make_layout("x", ls, 1, &b);
	snprintf(tarp, sizeof(tarp), "%s/img.tar", tmp);
	snprintf(cmd, sizeof(cmd), "tar -C %s -cf %s .", lay, tarp);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(img_import(&st, tarp, "renamed:1", &err), 0, "%s", err.msg);
	cr_assert_eq(img_unpack(&st, "renamed:1", out, &err), 0, "%s", err.msg);
	char *t = slurp("etc/conf");
	cr_assert_str_eq(t, "one\n");
	free(t);
	rt_err_clear(&err);
	cr_assert_lt(img_unpack(&st, "x", out, &err), 0);
	cr_assert(strstr(err.msg, "does not exist") || strstr(err.msg, "exists"), "%s", err.msg);
}

Test(image, two_layers_in_order_with_owner_mode_links_devices)
{
	const struct ent l1[] = {
		{ D, "etc" }, { F, "etc/conf", "one\n" }, { F, "bin/tool", "#!x\n", 04755, 1000 },
		{ H, "bin/tool2", "bin/tool" }, { C, "dev/null" },
	};
	const struct ent l2[] = {
		{ F, "etc/conf", "two\n", 0600 }, { L, "etc/link", "conf" },
	};
	struct layer ls[] = { { l1, 5, "gzip" }, { l2, 2, NULL } };
	struct built b;
	struct rt_err err = {0};
	struct stat s1, s2;
	char path[512], target[64] = "";

	import_ok("two", ls, 2, &b);
	cr_assert_eq(img_unpack(&st, "two", out, &err), 0, "%s", err.msg);
	char *t = slurp("etc/conf");
	cr_assert_str_eq(t, "two\n");
	free(t);
	snprintf(path, sizeof(path), "%s/etc/conf", out);
	cr_assert_eq(stat(path, &s1), 0);
	cr_assert_eq(s1.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/bin/tool", out);
	cr_assert_eq(stat(path, &s1), 0);
	cr_assert_eq(s1.st_mode & 07777, 04755, "mode %o", s1.st_mode & 07777);
	cr_assert_eq(s1.st_uid, 1000);
	snprintf(path, sizeof(path), "%s/bin/tool2", out);
	cr_assert_eq(stat(path, &s2), 0);
	cr_assert_eq(s1.st_ino, s2.st_ino, "hardlink is not the same inode");
	snprintf(path, sizeof(path), "%s/etc/link", out);
	cr_assert_eq(readlink(path, target, sizeof(target) - 1), 4);
	cr_assert_str_eq(target, "conf");
	snprintf(path, sizeof(path), "%s/dev/null", out);
	cr_assert_eq(lstat(path, &s1), 0);
	cr_assert(S_ISCHR(s1.st_mode));
	cr_assert_eq(s1.st_rdev, makedev(1, 3));
	cr_assert_eq(stat(out, &s1), 0);
	cr_assert_eq(s1.st_mode & 0777, 0755);
}

Test(image, whiteout_and_opaque_dir)
{
	const struct ent l1[] = {
		{ F, "a/1", "1" }, { F, "a/2", "2" }, { F, "d/x", "x" }, { F, "d/sub/y", "y" },
		{ F, "f", "f" },
	};
	const struct ent l2[] = {
		{ F, "a/.wh.1", "" }, { F, "d/z", "z" }, { F, "d/.wh..wh..opq", "" }, { F, ".wh.f", "" },
	};
	struct layer ls[] = { { l1, 5, NULL }, { l2, 4, "gzip" } };
	struct built b;
	struct rt_err err = {0};
	char path[512];

	import_ok("wh", ls, 2, &b);
	cr_assert_eq(img_unpack(&st, "wh", out, &err), 0, "%s", err.msg);
	const char *gone[] = { "a/1", "d/x", "d/sub", "f", "a/.wh.1", "d/.wh..wh..opq", ".wh.f" };
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", out, gone[i]);
		cr_assert_neq(access(path, F_OK), 0, "%s still there", gone[i]);
	}
	/* z came in the same layer as the opaque marker, before it: kept */
	const char *kept[] = { "a/2", "d/z" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", out, kept[i]);
		cr_assert_eq(access(path, F_OK), 0, "%s missing", kept[i]);
	}
}

Test(image, dotdot_entry_is_refused_and_nothing_left)
{
	const struct ent l1[] = { { F, "ok", "ok" }, { F, "a/../../escape", "bad" } };
	struct layer ls[] = { { l1, 2, NULL } };
	struct built b;
	struct rt_err err = {0};
	char path[512];

	import_ok("dd", ls, 1, &b);
	cr_assert_lt(img_unpack(&st, "dd", out, &err), 0);
	cr_assert(strstr(err.msg, "..") && strstr(err.msg, b.layers[0]), "%s", err.msg);
	snprintf(path, sizeof(path), "%s/out/escape", tmp);
	cr_assert_neq(access(path, F_OK), 0);
	assert_no_output();
}

Test(image, symlinks_never_lead_out)
{
	char path[512];
	/* etc -> /etc (absolute), up -> ../../.. (relative, above the root) */
	const struct ent l1[] = {
		{ D, "realetc" }, { L, "etc", "/realetc" }, { L, "up", "../../../../../../../.." },
		{ F, "/rooted", "r" },
	};
	/* a later layer writes through the symlinked parents */
	const struct ent l2[] = { { F, "etc/hull-unit-pwned", "x" }, { F, "up/hull-unit-pwned2", "y" } };
	struct layer ls[] = { { l1, 4, NULL }, { l2, 2, NULL } };
	struct built b;
	struct rt_err err = {0};

	import_ok("sl", ls, 2, &b);
	cr_assert_eq(img_unpack(&st, "sl", out, &err), 0, "%s", err.msg);
	cr_assert_neq(access("/realetc", F_OK), 0, "wrote outside through an absolute symlink");
	cr_assert_neq(access("/hull-unit-pwned2", F_OK), 0, "wrote outside through a ../ symlink");
	snprintf(path, sizeof(path), "%s/hull-unit-pwned2", tmp);
	cr_assert_neq(access(path, F_OK), 0, "wrote outside through a ../ symlink");
	/* resolved as in a chroot: the writes landed inside */
	snprintf(path, sizeof(path), "%s/realetc/hull-unit-pwned", out);
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	snprintf(path, sizeof(path), "%s/hull-unit-pwned2", out);
	cr_assert_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/rooted", out);
	cr_assert_eq(access(path, F_OK), 0);
}

Test(image, dangling_absolute_symlink_parent_fails_inside)
{
	char outside[160], path[256];
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	cr_assert_eq(mkdir(outside, 0755), 0);
	const struct ent l1[] = { { L, "abs", outside } };
	const struct ent l2[] = { { F, "abs/pwned", "x" } };
	struct layer ls[] = { { l1, 1, NULL }, { l2, 1, NULL } };
	struct built b;
	struct rt_err err = {0};

	import_ok("dl", ls, 2, &b);
	/* the host directory exists, its namesake in the root does not */
	cr_assert_lt(img_unpack(&st, "dl", out, &err), 0);
	cr_assert(strstr(err.msg, "abs/pwned"), "%s", err.msg);
	snprintf(path, sizeof(path), "%s/pwned", outside);
	cr_assert_neq(access(path, F_OK), 0, "wrote outside through an absolute symlink");
	assert_no_output();
}

Test(image, hardlink_escape_is_refused)
{
	char victim[160];
	struct stat before, after;
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	FILE *f = fopen(victim, "w");
	fputs("secret", f);
	fclose(f);
	cr_assert_eq(stat(victim, &before), 0);

	const struct ent l1[] = { { H, "h", "../victim" } };
	const struct ent l2[] = { { H, "h2", victim } };   /* absolute: in the root, absent */
	struct layer ls1[] = { { l1, 1, NULL } }, ls2[] = { { l2, 1, NULL } };
	struct built b;
	struct rt_err err = {0};

	import_ok("h1", ls1, 1, &b);
	cr_assert_lt(img_unpack(&st, "h1", out, &err), 0);
	cr_assert(strstr(err.msg, ".."), "%s", err.msg);
	assert_no_output();
	rt_err_clear(&err);
	import_ok("h2", ls2, 1, &b);
	cr_assert_lt(img_unpack(&st, "h2", out, &err), 0);
	assert_no_output();
	cr_assert_eq(stat(victim, &after), 0);
	cr_assert_eq(after.st_nlink, before.st_nlink, "host file got a new link");
}

Test(image, truncated_layer_fails_cleanly)
{
	const struct ent l1[] = { { F, "big", "0123456789012345678901234567890123456789" } };
	size_t len;
	char *t = make_tar(l1, 1, NULL, &len);
	struct built b;
	struct rt_err err = {0};

	/* A layout whose layer is a tar cut inside the file data, with the
	 * digest of the cut bytes: import accepts it, unpack must not. */
	struct layer ls[] = { { l1, 1, NULL } };
	make_layout("tr", ls, 1, &b);
	char path[512], cmd[2048];
	snprintf(path, sizeof(path), "%s/cut", tmp);
	FILE *f = fopen(path, "w");
	fwrite(t, 1, 530, f);
	fclose(f);
	free(t);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && h=$(sha256sum ../cut | cut -c1-64) && mv ../cut blobs/sha256/$h && "
		 "m=blobs/sha256/%s && sed -i \"s/%s/$h/; s/\\\"size\\\":[0-9]*}]/\\\"size\\\":530}]/\" $m && "
		 "n=$(sha256sum $m | cut -c1-64) && s=$(stat -c%%s $m) && mv $m blobs/sha256/$n && "
		 "sed -i \"s/%s/$n/; s/\\\"size\\\":[0-9]*,/\\\"size\\\":$s,/\" index.json",
		 lay, b.manifest + 7, b.layers[0] + 7, b.manifest + 7);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(img_import(&st, lay, NULL, &err), 0, "%s", err.msg);
	cr_assert_lt(img_unpack(&st, "tr", out, &err), 0);
	cr_assert(strstr(err.msg, "layers[0]"), "%s", err.msg);
	assert_no_output();
}

Test(image, rm_keeps_a_shared_layer)
{
	const struct ent shared[] = { { F, "shared", "s" } };
	const struct ent only_a[] = { { F, "a", "a" } };
	const struct ent only_b[] = { { F, "b", "b" } };
	struct layer la[] = { { shared, 1, "gzip" }, { only_a, 1, NULL } };
	struct layer lb[] = { { shared, 1, "gzip" }, { only_b, 1, NULL } };
	struct built a, b;
	struct rt_err err = {0};

	import_ok("a", la, 2, &a);
	import_ok("b", lb, 2, &b);
	cr_assert_str_eq(a.layers[0], b.layers[0]);
	cr_assert_eq(n_images(), 2);
	cr_assert_eq(img_remove(&st, "a", &err), 0, "%s", err.msg);
	cr_assert(blob_exists(a.layers[0]), "shared layer was collected");
	cr_assert_not(blob_exists(a.layers[1]), "a's own layer was kept");
	cr_assert_not(blob_exists(a.manifest));
	cr_assert_eq(img_unpack(&st, "b", out, &err), 0, "%s", err.msg);
	cr_assert_lt(img_remove(&st, "a", &err), 0);
	cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
	cr_assert_eq(img_remove(&st, "b", &err), 0, "%s", err.msg);
	cr_assert_eq(count_blobs(), 0);
	cr_assert_eq(n_images(), 0);
}

Test(image, inspect_shows_config_and_digest)
{
	struct layer ls[] = { { base_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};
	char *json = NULL;

	import_ok("ins", ls, 1, &b);
	cr_assert_eq(img_inspect(&st, "ins", &json, &err), 0, "%s", err.msg);
	cr_assert(strstr(json, b.manifest), "%s", json);
	cr_assert(strstr(json, "\"architecture\": \"amd64\""), "%s", json);
	free(json);
}

/* ---- bundle ---- */

static const struct ent user_ents[] = {
	{ D, "etc" },
	{ F, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1234:55::/:/bin/sh\n" },
	{ F, "etc/group", "root:x:0:\nstaff:x:77:app\n" },
};

static char *bundle_ok(const char *user_json)
{
	char cfg[512], dir[128];
	struct layer ls[] = { { user_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};
	char cmd[256];

	snprintf(cfg, sizeof(cfg), "{\"config\":{\"Entrypoint\":[\"/bin/sh\"],"
		 "\"Cmd\":[\"-c\",\"x\"],\"User\":%s}}", user_json);
	next_config = cfg;
	import_ok("u", ls, 1, &b);
	next_config = NULL;
	snprintf(dir, sizeof(dir), "%s/out", tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(img_bundle(&st, "u", dir, false, &err), 0, "%s", err.msg);
	return slurp("../config.json");
}

Test(image, bundle_process_from_config)
{
	char *json = bundle_ok("\"app:staff\"");

	cr_assert_not_null(json);
	cr_assert(strstr(json, "\"uid\": 1234"), "%s", json);
	cr_assert(strstr(json, "\"gid\": 77"), "%s", json);
	cr_assert(strstr(json, "\"/bin/sh\",\n\t\t\t\"-c\",\n\t\t\t\"x\""), "%s", json);
	cr_assert(strstr(json, "\"PATH=/usr/local/sbin:"), "default PATH added: %s", json);
	cr_assert(strstr(json, "\"cwd\": \"/\""), "%s", json);
	cr_assert(strstr(json, "\"maskedPaths\""), "%s", json);
	free(json);
	json = bundle_ok("\"app\"");
	cr_assert(strstr(json, "\"gid\": 55"), "a lone user takes its passwd group: %s", json);
	free(json);
	json = bundle_ok("\"1234\"");
	cr_assert(strstr(json, "\"uid\": 1234") && strstr(json, "\"gid\": 55"), "%s", json);
	free(json);
}

Test(image, bundle_failures_leave_nothing)
{
	char dir[128], keep[160];
	struct layer ls[] = { { user_ents, 3, NULL } };
	struct built b;
	struct rt_err err = {0};
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/out", tmp);
	next_config = "{\"config\":{\"Cmd\":[\"id\"],\"User\":\"app:wheel\"}}";
	import_ok("g", ls, 1, &b);
	next_config = "{\"config\":{\"Env\":[\"A=1\"]}}";
	import_ok("e", ls, 1, &b);
	next_config = NULL;
	cr_assert_lt(img_bundle(&st, "g", dir, false, &err), 0);
	cr_assert(strstr(err.msg, "no group \"wheel\""), "%s", err.msg);
	cr_assert_lt(stat(dir, &sb), 0, "a failed bundle left %s", dir);
	cr_assert_lt(img_bundle(&st, "e", dir, false, &err), 0);
	cr_assert(strstr(err.msg, "Entrypoint and Cmd are both empty"), "%s", err.msg);
	cr_assert_lt(stat(dir, &sb), 0);
	/* An empty DIR stays, emptied again; a non-empty one is refused as is. */
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_lt(img_bundle(&st, "g", dir, false, &err), 0);
	cr_assert_eq(rmdir(dir), 0, "the empty DIR was not left empty");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(keep, sizeof(keep), "%s/keep", dir);
	cr_assert_eq(mkdir(keep, 0700), 0);
	cr_assert_lt(img_bundle(&st, "e", dir, false, &err), 0);
	cr_assert(strstr(err.msg, "not empty"), "%s", err.msg);
	cr_assert_eq(stat(keep, &sb), 0);
}

Test(image, config_parse_fields_and_types)
{
	struct img_config c;
	struct rt_err err = {0};
	const char *ok = "{\"config\":{\"Entrypoint\":null,\"Cmd\":[\"a\",\"b\"],"
			 "\"Env\":[\"X=1\"],\"WorkingDir\":\"\",\"User\":\"u\"}}";
	const char *bad = "{\"config\":{\"Cmd\":[\"a\",1]}}";

	cr_assert_eq(img_config_parse(ok, strlen(ok), &c, &err), 0, "%s", err.msg);
	cr_assert_null(c.entrypoint);
	cr_assert_str_eq(c.cmd[1], "b");
	cr_assert_null(c.cmd[2]);
	cr_assert_str_eq(c.env[0], "X=1");
	cr_assert_null(c.working_dir, "\"\" is unset");
	cr_assert_str_eq(c.user, "u");
	img_config_free(&c);
	cr_assert_lt(img_config_parse(bad, strlen(bad), &c, &err), 0);
	cr_assert(strstr(err.msg, "config.Cmd[1]: not a string"), "%s", err.msg);
	cr_assert_eq(img_config_parse("{}", 2, &c, &err), 0, "no config object is fine");
	cr_assert_null(c.cmd);
}
