/* Unit tests of rt_spec_validate and rt_validate_id: one failing case per
 * rule, asserting the error names the field, and passing cases next to
 * them.  Each test gets a fresh bundle directory with a rootfs in it. */
#include "config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/spec.h"

#define assert_err_contains(e, s) \
	cr_assert(strstr((e).msg, (s)), "error \"%s\" does not contain \"%s\"", (e).msg, (s))

static char bundle[PATH_MAX];

static void setup(void)
{
	char rootfs[PATH_MAX + 16];

	snprintf(bundle, sizeof(bundle), "/tmp/hull-test-validate-XXXXXX");
	cr_assert_not_null(mkdtemp(bundle));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	cr_assert_eq(mkdir(rootfs, 0755), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bundle);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", bundle);
}

TestSuite(validate, .init = setup, .fini = teardown);

/* A valid config with holes: extra process fields, extra top-level fields,
 * extra namespaces and extra linux fields. */
#define BASE "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"%s}," \
	"\"root\":{\"path\":\"rootfs\"}%s,\"linux\":{\"namespaces\":[{\"type\":\"pid\"}," \
	"{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"network\"}%s]%s}}"

/* Parse (must succeed) and validate; returns the validator's result. */
static int check_json(struct rt_err *err, const char *json)
{
	_cleanup_spec_ struct rt_spec *s = NULL;

	cr_assert_eq(rt_spec_parse(json, strlen(json), &s, err), 0, "parse: %s\n%s", err->msg, json);
	return rt_spec_validate(s, bundle, err);
}

static int check(struct rt_err *err, const char *proc, const char *top, const char *ns,
		 const char *lin)
{
	char json[16384];

	snprintf(json, sizeof(json), BASE, proc, top, ns, lin);
	return check_json(err, json);
}

#define EXPECT_OK(proc, top, ns, lin)                                              \
	do {                                                                       \
		struct rt_err e_ = { 0 };                                          \
		cr_assert_eq(check(&e_, proc, top, ns, lin), 0, "%s", e_.msg);     \
	} while (0)

#define EXPECT_ERR(msg, proc, top, ns, lin)                                        \
	do {                                                                       \
		struct rt_err e_ = { 0 };                                          \
		cr_assert_lt(check(&e_, proc, top, ns, lin), 0, "accepted");        \
		assert_err_contains(e_, msg);                                      \
	} while (0)

/* ---- container ids ---- */

Test(id, valid_ids)
{
	struct rt_err err = { 0 };
	char longest[1025];

	memset(longest, 'a', 1024);
	longest[1024] = '\0';
	cr_assert_eq(rt_validate_id("abc", &err), 0);
	cr_assert_eq(rt_validate_id("my_ct-1.2+3", &err), 0);
	cr_assert_eq(rt_validate_id("0123456789abcdef", &err), 0);
	cr_assert_eq(rt_validate_id(longest, &err), 0);
}

Test(id, invalid_ids)
{
	struct rt_err err = { 0 };
	char toolong[1026];

	memset(toolong, 'a', 1025);
	toolong[1025] = '\0';
	cr_assert_lt(rt_validate_id("", &err), 0);
	assert_err_contains(err, "invalid container id \"\"");
	cr_assert_lt(rt_validate_id(toolong, &err), 0);
	assert_err_contains(err, "longer than 1024");
	cr_assert_lt(rt_validate_id(".", &err), 0);
	assert_err_contains(err, "invalid container id \".\"");
	cr_assert_lt(rt_validate_id("..", &err), 0);
	cr_assert_lt(rt_validate_id("a/b", &err), 0);
	assert_err_contains(err, "invalid container id \"a/b\": must not contain \"/\"");
	cr_assert_lt(rt_validate_id("a b", &err), 0);
	assert_err_contains(err, "invalid container id \"a b\"");
	cr_assert_lt(rt_validate_id("a\nb", &err), 0);
	cr_assert_lt(rt_validate_id(NULL, &err), 0);
}

/* ---- passing configs ---- */

Test(validate, base_config_passes)
{
	EXPECT_OK("", "", "", "");
}

Test(validate, default_specs_pass)
{
	for (int rootless = 0; rootless <= 1; rootless++) {
		_cleanup_free_ char *json = rt_spec_default_json(rootless, NULL);
		struct rt_err err = { 0 };

		cr_assert_eq(check_json(&err, json), 0, "rootless=%d: %s", rootless, err.msg);
	}
}

Test(validate, absolute_rootfs_passes)
{
	char json[PATH_MAX + 256];
	struct rt_err err = { 0 };

	snprintf(json, sizeof(json), "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"%s/rootfs\"}}", bundle);
	cr_assert_eq(check_json(&err, json), 0, "%s", err.msg);
}

/* ---- process ---- */

Test(validate, process_required)
{
	struct rt_err err = { 0 };

	cr_assert_lt(check_json(&err, "{\"root\":{\"path\":\"rootfs\"}}"), 0);
	assert_err_contains(err, "process: required");
}

Test(validate, process_args_and_cwd)
{
	struct rt_err err = { 0 };

	cr_assert_lt(check_json(&err, "{\"process\":{\"args\":[],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}"), 0);
	assert_err_contains(err, "process.args: must not be empty");
	cr_assert_lt(check_json(&err, "{\"process\":{\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}"), 0);
	assert_err_contains(err, "process.args");
	cr_assert_lt(check_json(&err, "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"},\"root\":{\"path\":\"rootfs\"}}"), 0);
	assert_err_contains(err, "process.cwd: \"tmp\" is not an absolute path");
	cr_assert_lt(check_json(&err, "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"rootfs\"}}"), 0);
	assert_err_contains(err, "process.cwd: required");
}

Test(validate, process_env_and_oom)
{
	EXPECT_OK(",\"env\":[\"A=1\",\"B=\"],\"oomScoreAdj\":1000", "", "", "");
	EXPECT_ERR("process.env[1]: \"NOEQUALS\" is not KEY=VALUE", ",\"env\":[\"A=1\",\"NOEQUALS\"]", "", "", "");
	EXPECT_ERR("process.env[0]", ",\"env\":[\"=x\"]", "", "", "");
	EXPECT_ERR("process.oomScoreAdj: 1001 is out of range", ",\"oomScoreAdj\":1001", "", "", "");
}

Test(validate, rlimits)
{
	EXPECT_OK(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":10},"
		  "{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]", "", "", "");
	EXPECT_ERR("process.rlimits[1]: duplicate type RLIMIT_NOFILE",
		   ",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
		   "{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":2}]", "", "", "");
	EXPECT_ERR("process.rlimits[0]: soft limit 20 exceeds hard limit 10",
		   ",\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"soft\":20,\"hard\":10}]", "", "", "");
}

/* ---- root ---- */

Test(validate, root_path_required)
{
	struct rt_err err = { 0 };

	cr_assert_lt(check_json(&err, "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}"), 0);
	assert_err_contains(err, "root.path: required");
}

Test(validate, rootfs_missing)
{
	char json[256], want[PATH_MAX + 64];
	struct rt_err err = { 0 };

	snprintf(json, sizeof(json), "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},\"root\":{\"path\":\"nope\"}}");
	cr_assert_lt(check_json(&err, json), 0);
	snprintf(want, sizeof(want), "root.path: %s/nope: No such file or directory", bundle);
	cr_assert_str_eq(err.msg, want);
}

Test(validate, rootfs_not_a_directory)
{
	char file[PATH_MAX + 16];
	struct rt_err err = { 0 };
	FILE *f;

	snprintf(file, sizeof(file), "%s/file", bundle);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_lt(check_json(&err, "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},\"root\":{\"path\":\"file\"}}"), 0);
	assert_err_contains(err, "root.path: ");
	assert_err_contains(err, "/file: not a directory");
}

/* ---- mounts and paths ---- */

Test(validate, mount_destination)
{
	EXPECT_OK("", ",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
		  "{\"destination\":\"/a..b/..c\",\"type\":\"tmpfs\"}]", "", "");
	EXPECT_ERR("mounts[1].destination: \"tmp\" is not an absolute path",
		   "", ",\"mounts\":[{\"destination\":\"/proc\"},{\"destination\":\"tmp\"}]", "", "");
	EXPECT_ERR("mounts[0].destination: \"/a/../etc\" must not contain \"..\"",
		   "", ",\"mounts\":[{\"destination\":\"/a/../etc\"}]", "", "");
	EXPECT_ERR("mounts[0].destination: \"/a/..\" must not contain",
		   "", ",\"mounts\":[{\"destination\":\"/a/..\"}]", "", "");
}

Test(validate, mount_idmaps)
{
	EXPECT_OK("", ",\"mounts\":[{\"destination\":\"/d\",\"source\":\"/s\",\"options\":[\"bind\"],"
		  "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
		  "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}]", "", "");
	EXPECT_ERR("mounts[0].uidMappings[1]: containerID range overlaps mounts[0].uidMappings[0]",
		   "", ",\"mounts\":[{\"destination\":\"/d\",\"uidMappings\":["
		   "{\"containerID\":0,\"hostID\":1000,\"size\":10},{\"containerID\":5,\"hostID\":5000,\"size\":1}],"
		   "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}]", "", "");
	EXPECT_ERR("mounts[0]: uidMappings and gidMappings must be given together",
		   "", ",\"mounts\":[{\"destination\":\"/d\","
		   "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}]}]", "", "");
}

Test(validate, hooks_and_path_lists)
{
	EXPECT_OK("", ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}", "",
		  ",\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]");
	EXPECT_ERR("hooks.createRuntime[0].path: \"true\" is not an absolute path",
		   "", ",\"hooks\":{\"createRuntime\":[{\"path\":\"true\"}]}", "", "");
	EXPECT_ERR("linux.maskedPaths[1]: \"proc/keys\" is not an absolute path",
		   "", "", "", ",\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]");
	EXPECT_ERR("linux.readonlyPaths[0]", "", "", "", ",\"readonlyPaths\":[\"sys\"]");
}

/* ---- namespaces and id mappings ---- */

#define USERNS ",{\"type\":\"user\"}"
#define MAPS ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]," \
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"

Test(validate, namespace_paths)
{
	EXPECT_OK("", "", ",{\"type\":\"cgroup\",\"path\":\"/proc/1/ns/cgroup\"}", "");
	EXPECT_ERR("linux.namespaces: path of the cgroup namespace \"proc/1/ns/cgroup\" is not absolute",
		   "", "", ",{\"type\":\"cgroup\",\"path\":\"proc/1/ns/cgroup\"}", "");
}

Test(validate, user_namespace_mappings)
{
	EXPECT_OK("", "", USERNS, MAPS);
	/* Joining an existing user namespace needs no mappings. */
	EXPECT_OK("", "", ",{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}", "");
	EXPECT_ERR("linux.uidMappings: required with a new user namespace", "", "", USERNS, "");
	EXPECT_ERR("linux.gidMappings: required with a new user namespace", "", "", USERNS,
		   ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
	EXPECT_ERR("linux.uidMappings: mappings given without a user namespace", "", "", "", MAPS);
}

Test(validate, mapping_ranges)
{
	EXPECT_ERR("linux.uidMappings[0].size: must be greater than zero", "", "", USERNS,
		   ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":0}],"
		   "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
	EXPECT_ERR("linux.gidMappings[0]: range overflows 32-bit ids", "", "", USERNS,
		   ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}],"
		   "\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":1}]");
	EXPECT_ERR("linux.uidMappings[1]: hostID range overlaps linux.uidMappings[0]", "", "", USERNS,
		   ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":100},"
		   "{\"containerID\":100,\"hostID\":1099,\"size\":1}],"
		   "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
	/* Adjacent ranges do not overlap. */
	EXPECT_OK("", "", USERNS,
		  ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":100},"
		  "{\"containerID\":100,\"hostID\":1100,\"size\":1}],"
		  "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
}

Test(validate, mapping_count_limit)
{
	static char maps[341 * 64 + 128];
	size_t n = 0;

	n += (size_t)snprintf(maps + n, sizeof(maps) - n, ",\"uidMappings\":[");
	for (int i = 0; i < 341; i++)
		n += (size_t)snprintf(maps + n, sizeof(maps) - n,
				      "%s{\"containerID\":%d,\"hostID\":%d,\"size\":1}", i ? "," : "",
				      i, 1000 + i);
	snprintf(maps + n, sizeof(maps) - n,
		 "],\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
	EXPECT_ERR("linux.uidMappings: 341 entries, at most 340 allowed", "", "", USERNS, maps);
}

Test(validate, hostname_needs_uts)
{
	char json[1024];
	struct rt_err err = { 0 };

	EXPECT_OK("", ",\"hostname\":\"box\",\"domainname\":\"example.org\"", "", "");
	snprintf(json, sizeof(json), "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"box\","
		 "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}");
	cr_assert_lt(check_json(&err, json), 0);
	assert_err_contains(err, "hostname: setting it requires a uts namespace");
}

Test(validate, time_offsets_need_time_ns)
{
	const char *off = ",\"timeOffsets\":{\"monotonic\":{\"secs\":10,\"nanosecs\":0}}";

	EXPECT_OK("", "", ",{\"type\":\"time\"}", off);
	EXPECT_ERR("linux.timeOffsets: requires a time namespace", "", "", "", off);
}

/* ---- sysctl ---- */

Test(validate, sysctl_namespaced_keys)
{
	EXPECT_OK("", "", "", ",\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"1\","
		  "\"kernel.msgmax\":\"1\",\"kernel.sem\":\"1 2 3 4\",\"fs.mqueue.msg_max\":\"10\","
		  "\"kernel.domainname\":\"x\",\"net/ipv4/ping_group_range\":\"0 0\"}");
	EXPECT_ERR("linux.sysctl[\"vm.swappiness\"]: not namespaced", "", "", "",
		   ",\"sysctl\":{\"vm.swappiness\":\"10\"}");
	EXPECT_ERR("linux.sysctl[\"kernel.pid_max\"]: not namespaced", "", "", "",
		   ",\"sysctl\":{\"kernel.pid_max\":\"10\"}");
}

#define ONLY_MNT_SYSCTL "{\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}," \
	"\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"sysctl\":{\"%s\":\"1\"}}}"

Test(validate, sysctl_needs_its_namespace)
{
	char json[1024];
	struct rt_err err = { 0 };

	snprintf(json, sizeof(json), ONLY_MNT_SYSCTL, "net.ipv4.ip_forward");
	cr_assert_lt(check_json(&err, json), 0);
	assert_err_contains(err, "linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network namespace");
	snprintf(json, sizeof(json), ONLY_MNT_SYSCTL, "fs.mqueue.queues_max");
	cr_assert_lt(check_json(&err, json), 0);
	assert_err_contains(err, "linux.sysctl[\"fs.mqueue.queues_max\"]: requires an ipc namespace");
	snprintf(json, sizeof(json), ONLY_MNT_SYSCTL, "kernel.shm_rmid_forced");
	cr_assert_lt(check_json(&err, json), 0);
	assert_err_contains(err, "requires an ipc namespace");
	snprintf(json, sizeof(json), ONLY_MNT_SYSCTL, "kernel.hostname");
	cr_assert_lt(check_json(&err, json), 0);
	assert_err_contains(err, "linux.sysctl[\"kernel.hostname\"]: requires a uts namespace");
}

/* ---- seccomp ---- */

#define SC(body) ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"" body "}"

Test(validate, seccomp_passes_and_skips_unknown_syscalls)
{
	EXPECT_OK("", "", "", SC(",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_AARCH64\"],"
				 "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
				 "\"syscalls\":[{\"names\":[\"read\",\"no_such_syscall_xyz\"],"
				 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":5,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"));
}

Test(validate, seccomp_rules)
{
	EXPECT_ERR("linux.seccomp.syscalls[0].args[0].index: 6 is out of range", "", "", "",
		   SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		      "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"));
	EXPECT_ERR("linux.seccomp.syscalls[1].names: must not be empty", "", "", "",
		   SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		      "{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]"));
	EXPECT_ERR("linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"", "", "", "",
		   SC(",\"architectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_Z80\"]"));
	EXPECT_ERR("linux.seccomp.architectures[0]: unknown architecture \"x86_64\"", "", "", "",
		   SC(",\"architectures\":[\"x86_64\"]"));
	EXPECT_ERR("linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"", "", "", "",
		   SC(",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]"));
}

Test(validate, seccomp_listener)
{
	const char *notify = ",\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]";
	char lin[512];

	snprintf(lin, sizeof(lin), SC("%s,\"listenerPath\":\"/run/agent.sock\""), notify);
	EXPECT_OK("", "", "", lin);
	snprintf(lin, sizeof(lin), SC("%s"), notify);
	EXPECT_ERR("linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY", "", "", "", lin);
	snprintf(lin, sizeof(lin), SC("%s,\"listenerPath\":\"agent.sock\""), notify);
	EXPECT_ERR("linux.seccomp.listenerPath: \"agent.sock\" is not an absolute path", "", "", "", lin);
	EXPECT_ERR("linux.seccomp.listenerPath: set but no action is SCMP_ACT_NOTIFY", "", "", "",
		   SC(",\"listenerPath\":\"/run/agent.sock\""));
	EXPECT_ERR("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action", "", "", "",
		   ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/a\"}");
}

/* ---- devices, resources, misc ---- */

Test(validate, devices)
{
	EXPECT_OK("", "", "", ",\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229},"
		  "{\"type\":\"p\",\"path\":\"/dev/fifo\"},{\"type\":\"u\",\"path\":\"/dev/x/y\",\"major\":1,\"minor\":3}]");
	EXPECT_ERR("linux.devices[0].type: \"x\" is not one of c, b, u, p", "", "", "",
		   ",\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\",\"major\":1,\"minor\":1}]");
	EXPECT_ERR("linux.devices[0].path: \"/etc/passwd\" is not a path under /dev", "", "", "",
		   ",\"devices\":[{\"type\":\"c\",\"path\":\"/etc/passwd\",\"major\":1,\"minor\":1}]");
	EXPECT_ERR("linux.devices[0].path: \"/dev/../etc/shadow\" is not a path under /dev", "", "", "",
		   ",\"devices\":[{\"type\":\"c\",\"path\":\"/dev/../etc/shadow\",\"major\":1,\"minor\":1}]");
	EXPECT_ERR("linux.devices[0]: major and minor are required for type b", "", "", "",
		   ",\"devices\":[{\"type\":\"b\",\"path\":\"/dev/sda\"}]");
}

Test(validate, resources)
{
	EXPECT_OK("", "", "", ",\"resources\":{\"memory\":{\"swappiness\":100},"
		  "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"access\":\"r\"}]}");
	EXPECT_ERR("linux.resources.memory.swappiness: 101 is out of range", "", "", "",
		   ",\"resources\":{\"memory\":{\"swappiness\":101}}");
	EXPECT_ERR("linux.resources.devices[0].type: \"p\" is not one of a, c, b", "", "", "",
		   ",\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}");
	EXPECT_ERR("linux.resources.devices[1].access: \"rwx\" is not a subset of \"rwm\"", "", "", "",
		   ",\"resources\":{\"devices\":[{\"allow\":true},{\"allow\":true,\"access\":\"rwx\"}]}");
}

Test(validate, intel_rdt_unsupported)
{
	EXPECT_ERR("linux.intelRdt: not supported by hull", "", "", "",
		   ",\"intelRdt\":{\"closID\":\"x\"}");
}

Test(validate, personality_and_propagation)
{
	EXPECT_OK("", "", "", ",\"personality\":{\"domain\":\"LINUX32\"},\"rootfsPropagation\":\"rshared\"");
	EXPECT_ERR("linux.rootfsPropagation: unknown value \"sideways\"", "", "", "",
		   ",\"rootfsPropagation\":\"sideways\"");
}

Test(validate, personality_domain_from_other_front_doors)
{
	_cleanup_free_ char *json = rt_spec_default_json(false, NULL);
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_eq(rt_spec_parse(json, strlen(json), &s, &err), 0, "%s", err.msg);
	s->linux_.personality.present = true;
	s->linux_.personality.domain = 0x0001;   /* PER_SVR4: not allowed */
	cr_assert_lt(rt_spec_validate(s, bundle, &err), 0);
	assert_err_contains(err, "linux.personality.domain: must be LINUX or LINUX32");
}

Test(validate, no_side_effects_on_failure)
{
	struct stat before, after;
	char rootfs[PATH_MAX + 16];

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	cr_assert_eq(stat(rootfs, &before), 0);
	EXPECT_ERR("linux.intelRdt", "", ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\"}]", "",
		   ",\"intelRdt\":{}");
	cr_assert_eq(stat(rootfs, &after), 0);
	cr_assert_eq(before.st_nlink, after.st_nlink, "validation created something in the rootfs");
	cr_assert_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}
