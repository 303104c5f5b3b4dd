/* image/docker.c: docker-archive import (docker save / podman save), on
 * archives written here: manifest.json, a config, layer tars, links. */
#include "config.h"
#include "image_fixture.h"

TestSuite(image_docker, .init = setup, .fini = teardown);

static char dk[160], dk_tar[160];

static void dk_file(const char *rel, const void *data, size_t len)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s/%s", dk, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname %s)\"", path);
	cr_assert_eq(system(cmd), 0);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A docker-archive dir: config c.json, layer l1/layer.tar from ents, and
 * manifest.json as given; tar it into dk_tar (truncated to cut bytes if
 * cut > 0). */
static void dk_make(const char *manifest, long cut)
{
	static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\","
		"\"config\":{\"Cmd\":[\"/bin/true\"]}}";
	char cmd[1024];
	size_t len;
	char *t = make_tar(base_ents, 3, NULL, &len);

	snprintf(dk, sizeof(dk), "%s/dk", tmp);
	snprintf(dk_tar, sizeof(dk_tar), "%s/dk.tar", tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s && mkdir -p %s", dk, dk_tar, dk);
	cr_assert_eq(system(cmd), 0);
	dk_file("l1/layer.tar", t, len);
	free(t);
	dk_file("c.json", cfg, strlen(cfg));
	dk_file("manifest.json", manifest, strlen(manifest));
	snprintf(cmd, sizeof(cmd), "tar -C %s -cf %s .", dk, dk_tar);
	cr_assert_eq(system(cmd), 0);
	if (cut > 0)
		cr_assert_eq(truncate(dk_tar, cut), 0);
}

/* Nothing of a failed import: no name, no blob, no staging. */
static void assert_store_untouched(void)
{
	char path[512];
	cr_assert_eq(n_images(), 0);
	cr_assert_eq(count_blobs(), 0);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	for (struct dirent *de; (de = readdir(d));)
		cr_assert(de->d_name[0] == '.', "left in the store's tmp: %s", de->d_name);
	closedir(d);
}

static void import_fails(const char *name, const char *want)
{
	struct rt_err err = {0};
	cr_assert_lt(img_import(&st, dk_tar, name, &err), 0);
	cr_assert(strstr(err.msg, want), "%s", err.msg);
	assert_store_untouched();
}

#define GOOD "[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\",\"d:latest\"]," \
	"\"Layers\":[\"./l1/layer.tar\"]}]"

Test(image_docker, import_unpack_and_tags)
{
	struct rt_err err = {0};
	struct img_desc md;
	struct img_manifest m;

	dk_make(GOOD, 0);
	cr_assert_eq(img_import(&st, dk_tar, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(n_images(), 2);
	cr_assert_eq(count_blobs(), 3);   /* config, layer, the manifest made */
	cr_assert_eq(img_store_manifest(&st, "d:latest", &md, &m, NULL, NULL, &err), 0, "%s", err.msg);
	cr_assert_str_eq(md.media_type, IMG_MT_MANIFEST);
	cr_assert_eq(m.n_layers, 1);
	cr_assert_str_eq(m.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
	img_desc_free(&md);
	img_manifest_free(&m);
	cr_assert_eq(img_unpack(&st, "d:1", out, &err), 0, "%s", err.msg);
	char *t = slurp("etc/conf");
	cr_assert_str_eq(t, "one\n");
	free(t);
}

Test(image_docker, name_override_and_no_tags)
{
	struct rt_err err = {0};

	dk_make("[{\"Config\":\"c.json\",\"Layers\":[\"l1/layer.tar\"]}]", 0);
	import_fails(NULL, "pass --name");
	cr_assert_eq(img_import(&st, dk_tar, "named:1", &err), 0, "%s", err.msg);
	cr_assert_eq(n_images(), 1);
}

Test(image_docker, manifest_path_outside_the_archive)
{
	dk_make("[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\"],\"Layers\":[\"../../etc/passwd\"]}]", 0);
	import_fails(NULL, "points outside the archive");
	dk_make("[{\"Config\":\"/etc/hostname\",\"RepoTags\":[\"d:1\"],\"Layers\":[]}]", 0);
	import_fails(NULL, "points outside the archive");
	dk_make("[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\"],\"Layers\":[\"nosuch.tar\"]}]", 0);
	import_fails(NULL, "\"nosuch.tar\" is not a file in the archive");
}

Test(image_docker, link_out_of_the_archive_is_refused)
{
	char path[512], cmd[600];

	dk_make("[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\"],\"Layers\":[\"l2/layer.tar\"]}]", 0);
	snprintf(path, sizeof(path), "%s/l2", dk);
	cr_assert_eq(mkdir(path, 0755), 0);
	strcat(path, "/layer.tar");
	cr_assert_eq(symlink("../../../../etc/passwd", path), 0);
	snprintf(cmd, sizeof(cmd), "rm -f %s && tar -C %s -cf %s .", dk_tar, dk, dk_tar);
	cr_assert_eq(system(cmd), 0);
	import_fails(NULL, "points outside the archive");
}

Test(image_docker, symlinked_layer_inside_is_followed)
{
	struct rt_err err = {0};
	char path[512], cmd[600];

	dk_make("[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\"],\"Layers\":[\"l2/layer.tar\"]}]", 0);
	snprintf(path, sizeof(path), "%s/l2", dk);
	cr_assert_eq(mkdir(path, 0755), 0);
	strcat(path, "/layer.tar");
	cr_assert_eq(symlink("../l1/layer.tar", path), 0);
	snprintf(cmd, sizeof(cmd), "rm -f %s && tar -C %s -cf %s .", dk_tar, dk, dk_tar);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(img_import(&st, dk_tar, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(img_unpack(&st, "d:1", out, &err), 0, "%s", err.msg);
}

Test(image_docker, bad_manifest_json_and_config)
{
	dk_make("{\"Config\":\"c.json\"}", 0);
	import_fails(NULL, "manifest.json: not a non-empty array");
	dk_make("[{\"Config\":\"c.json\",\"RepoTags\":[\"d:1\"]}]", 0);
	import_fails(NULL, "Layers: missing");
	/* a layer tar given as the config is not JSON */
	dk_make("[{\"Config\":\"l1/layer.tar\",\"RepoTags\":[\"d:1\"],\"Layers\":[]}]", 0);
	import_fails(NULL, "Config \"l1/layer.tar\"");
}

Test(image_docker, truncated_archive_adds_nothing)
{
	/* l1/layer.tar comes after c.json in tar's order?  Cut in the middle
	 * of the archive, whatever is there. */
	dk_make(GOOD, 0);
	struct stat sb;
	cr_assert_eq(stat(dk_tar, &sb), 0);
	dk_make(GOOD, sb.st_size / 2);
	struct rt_err err = {0};
	cr_assert_lt(img_import(&st, dk_tar, NULL, &err), 0);
	assert_store_untouched();
}

Test(image_docker, neither_kind_of_archive)
{
	dk_make(GOOD, 0);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -f %s && tar -C %s -cf %s l1", dk_tar, dk, dk_tar);
	cr_assert_eq(system(cmd), 0);
	import_fails(NULL, "neither an OCI archive");
}
