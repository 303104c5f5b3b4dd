/* Unit tests of the config.json parser, the name tables and the writers. */
#include "config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/spec.h"

#define assert_err_contains(e, s) \
	cr_assert(strstr((e).msg, (s)), "error \"%s\" does not contain \"%s\"", (e).msg, (s))

#define BIT(c) (UINT64_C(1) << (c))

/* tests/data, found from $HULL_SRCDIR or from this file's own path, so both
 * in-tree and out-of-tree builds find it. */
static void data_path(char *buf, size_t len, const char *name)
{
	const char *src = getenv("HULL_SRCDIR");

	if (src) {
		snprintf(buf, len, "%s/tests/data/%s", src, name);
		return;
	}
	snprintf(buf, len, "%s", __FILE__);
	char *slash = strrchr(buf, '/');          /* .../tests/unit/test_spec.c */
	if (slash)
		*slash = '\0';
	slash = strrchr(buf, '/');                /* .../tests/unit */
	if (slash)
		*slash = '\0';
	else
		snprintf(buf, len, "tests");
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "/data/%s", name);
}

static struct rt_spec *load_full(void)
{
	char path[PATH_MAX];
	struct rt_err err = { 0 };
	struct rt_spec *s = NULL;

	data_path(path, sizeof(path), "full.json");
	int r = rt_spec_load(path, &s, &err);
	cr_assert_eq(r, 0, "load %s: %s", path, err.msg);
	cr_assert_not_null(s);
	return s;
}

static int parse_str(const char *json, struct rt_spec **s, struct rt_err *err)
{
	return rt_spec_parse(json, strlen(json), s, err);
}

/* ---- full.json, field by field ---- */

Test(full, top_level)
{
	_cleanup_spec_ struct rt_spec *s = load_full();

	cr_assert_str_eq(s->oci_version, "1.2.0");
	cr_assert_str_eq(s->root_path, "rootfs");
	cr_assert(s->root_readonly);
	cr_assert_str_eq(s->hostname, "full-host");
	cr_assert_str_eq(s->domainname, "example.org");
	cr_assert_eq(s->n_annotations, 2);
	cr_assert_str_eq(s->annotations[0].key, "org.hull.isolation");
	cr_assert_str_eq(s->annotations[0].value, "container");
	cr_assert_str_eq(s->annotations[1].key, "com.example.key");
	cr_assert_str_eq(s->annotations[1].value, "value");
}

Test(full, process_basics)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_process *p = &s->process;

	cr_assert(s->has_process);
	cr_assert(p->terminal);
	cr_assert(p->has_console_size);
	cr_assert_eq(p->console_height, 25);
	cr_assert_eq(p->console_width, 80);
	cr_assert_eq(p->n_args, 3);
	cr_assert_str_eq(p->args[0], "/bin/sh");
	cr_assert_str_eq(p->args[2], "echo hi");
	cr_assert_null(p->args[3]);
	cr_assert_eq(p->n_env, 2);
	cr_assert_str_eq(p->env[1], "TERM=xterm");
	cr_assert_null(p->env[2]);
	cr_assert_str_eq(p->cwd, "/work");
	cr_assert(p->no_new_privileges);
	cr_assert(p->has_oom_score_adj);
	cr_assert_eq(p->oom_score_adj, -500);
	cr_assert_str_eq(p->apparmor_profile, "hull-default");
	cr_assert_str_eq(p->selinux_label, "system_u:system_r:container_t:s0");
	cr_assert_str_eq(p->exec_cpu_affinity_initial, "0-3,7");
	cr_assert_str_eq(p->exec_cpu_affinity_final, "1");
}

Test(full, user)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_user *u = &s->process.user;

	cr_assert_eq(u->uid, 1000);
	cr_assert_eq(u->gid, 1001);
	cr_assert(u->has_umask);
	cr_assert_eq(u->umask, 022);
	cr_assert_eq(u->n_additional_gids, 2);
	cr_assert_eq(u->additional_gids[0], 5);
	cr_assert_eq(u->additional_gids[1], 4294967294u);
	cr_assert_str_eq(u->username, "ignored");
}

Test(full, capabilities)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_caps *c = &s->process.caps;

	cr_assert(c->present);
	cr_assert_eq(c->bounding, BIT(CAP_CHOWN) | BIT(CAP_SYS_ADMIN) | BIT(CAP_KILL));
	cr_assert_eq(c->effective, BIT(CAP_KILL));
	cr_assert_eq(c->inheritable, BIT(CAP_NET_RAW));
	cr_assert_eq(c->permitted, BIT(CAP_KILL) | BIT(40));
	cr_assert_eq(c->ambient, BIT(CAP_NET_BIND_SERVICE));
}

Test(full, rlimits_scheduler_ioprio)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_process *p = &s->process;

	cr_assert_eq(p->n_rlimits, 2);
	cr_assert_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert_str_eq(p->rlimits[0].name, "RLIMIT_NOFILE");
	cr_assert_eq(p->rlimits[0].soft, 1024);
	cr_assert_eq(p->rlimits[0].hard, 4096);
	cr_assert_eq(p->rlimits[1].resource, RLIMIT_CORE);
	cr_assert_eq(p->rlimits[1].hard, UINT64_MAX);

	cr_assert(p->scheduler.present);
	cr_assert_eq(p->scheduler.policy, 6 /* SCHED_DEADLINE */);
	cr_assert_eq(p->scheduler.nice, -5);
	cr_assert_eq(p->scheduler.priority, 10);
	cr_assert_eq(p->scheduler.flags, 0x03);
	cr_assert_eq(p->scheduler.runtime, 10000000);
	cr_assert_eq(p->scheduler.deadline, 20000000);
	cr_assert_eq(p->scheduler.period, 30000000);

	cr_assert(p->io_priority.present);
	cr_assert_eq(p->io_priority.class, 2 /* IOPRIO_CLASS_BE */);
	cr_assert_eq(p->io_priority.priority, 4);
}

Test(full, mounts)
{
	_cleanup_spec_ struct rt_spec *s = load_full();

	cr_assert_eq(s->n_mounts, 2);
	cr_assert_str_eq(s->mounts[0].destination, "/proc");
	cr_assert_str_eq(s->mounts[0].type, "proc");
	cr_assert_null(s->mounts[0].options);
	cr_assert_eq(s->mounts[0].n_options, 0);
	const struct rt_mount *m = &s->mounts[1];
	cr_assert_str_eq(m->source, "/srv/data");
	cr_assert_eq(m->n_options, 3);
	cr_assert_str_eq(m->options[2], "idmap");
	cr_assert_null(m->options[3]);
	cr_assert_eq(m->n_uid_mappings, 1);
	cr_assert_eq(m->uid_mappings[0].host_id, 100000);
	cr_assert_eq(m->uid_mappings[0].size, 65536);
	cr_assert_eq(m->n_gid_mappings, 1);
	cr_assert_eq(m->gid_mappings[0].host_id, 200000);
}

Test(full, hooks)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_hook_list *pre = &s->hooks[RT_HOOK_PRESTART];

	cr_assert_eq(pre->n, 1);
	cr_assert_str_eq(pre->hooks[0].path, "/usr/bin/pre");
	cr_assert_str_eq(pre->hooks[0].args[1], "a");
	cr_assert_null(pre->hooks[0].args[2]);
	cr_assert_str_eq(pre->hooks[0].env[0], "X=1");
	cr_assert_eq(pre->hooks[0].timeout, 5);
	cr_assert_eq(s->hooks[RT_HOOK_CREATE_RUNTIME].n, 2);
	cr_assert_str_eq(s->hooks[RT_HOOK_CREATE_RUNTIME].hooks[1].path, "/usr/bin/cr2");
	cr_assert_null(s->hooks[RT_HOOK_CREATE_RUNTIME].hooks[1].args);
	cr_assert_eq(s->hooks[RT_HOOK_CREATE_RUNTIME].hooks[1].timeout, 0);
	cr_assert_str_eq(s->hooks[RT_HOOK_CREATE_CONTAINER].hooks[0].path, "/usr/bin/cc");
	cr_assert_str_eq(s->hooks[RT_HOOK_START_CONTAINER].hooks[0].path, "/usr/bin/sc");
	cr_assert_str_eq(s->hooks[RT_HOOK_POSTSTART].hooks[0].path, "/usr/bin/ps");
	cr_assert_eq(s->hooks[RT_HOOK_POSTSTOP].hooks[0].timeout, 30);
}

Test(full, namespaces_and_mappings)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_linux *l = &s->linux_;

	for (int k = 0; k < RT_NS__COUNT; k++)
		cr_assert(l->namespaces[k].enabled, "%s not enabled", rt_ns_kind_name(k));
	cr_assert_str_eq(l->namespaces[RT_NS_NET].path, "/var/run/netns/test");
	cr_assert_null(l->namespaces[RT_NS_PID].path);
	cr_assert_eq(l->n_uid_mappings, 2);
	cr_assert_eq(l->uid_mappings[1].container_id, 1000);
	cr_assert_eq(l->uid_mappings[1].host_id, 1000);
	cr_assert_eq(l->uid_mappings[1].size, 1);
	cr_assert_eq(l->n_gid_mappings, 1);
	cr_assert(l->time_monotonic.present);
	cr_assert_eq(l->time_monotonic.secs, 86400);
	cr_assert_eq(l->time_monotonic.nanosecs, 500);
	cr_assert(l->time_boottime.present);
	cr_assert_eq(l->time_boottime.secs, -3600);
}

Test(full, devices_and_paths)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_linux *l = &s->linux_;

	cr_assert_eq(l->n_devices, 2);
	cr_assert_eq(l->devices[0].type, 'c');
	cr_assert_str_eq(l->devices[0].path, "/dev/fuse");
	cr_assert_eq(l->devices[0].major, 10);
	cr_assert_eq(l->devices[0].minor, 229);
	cr_assert(l->devices[0].has_mode);
	cr_assert_eq(l->devices[0].mode, 0666, "S_IF* bits must be dropped, got %o",
		     (unsigned)l->devices[0].mode);
	cr_assert(l->devices[0].has_uid && l->devices[0].has_gid);
	cr_assert_eq(l->devices[1].type, 'p');
	cr_assert_not(l->devices[1].has_mode);
	cr_assert(l->has_masked_paths);
	cr_assert_eq(l->n_masked_paths, 2);
	cr_assert_str_eq(l->masked_paths[1], "/sys/firmware");
	cr_assert_null(l->masked_paths[2]);
	cr_assert(l->has_readonly_paths);
	cr_assert_str_eq(l->readonly_paths[0], "/proc/sys");
	cr_assert_str_eq(l->rootfs_propagation, "rslave");
	cr_assert_eq(l->n_sysctl, 2);
	cr_assert_str_eq(l->sysctl[0].key, "net.ipv4.ip_forward");
	cr_assert_str_eq(l->sysctl[1].value, "4096");
	cr_assert(l->personality.present);
	cr_assert_eq(l->personality.domain, PER_LINUX32);
	cr_assert_str_eq(l->mount_label, "system_u:object_r:container_file_t:s0");
	cr_assert_str_eq(l->cgroups_path, "/hull/full");
	cr_assert(l->has_intel_rdt);
}

Test(full, seccomp)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_seccomp *sc = s->linux_.seccomp;

	cr_assert_not_null(sc);
	cr_assert_eq(sc->default_action, RT_SECCOMP_ERRNO);
	cr_assert(sc->has_default_errno_ret);
	cr_assert_eq(sc->default_errno_ret, 38);
	cr_assert_eq(sc->n_architectures, 2);
	cr_assert_str_eq(sc->architectures[1], "SCMP_ARCH_X86");
	cr_assert_str_eq(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
	cr_assert_str_eq(sc->listener_path, "/run/seccomp-agent.sock");
	cr_assert_str_eq(sc->listener_metadata, "meta");
	cr_assert_eq(sc->n_rules, 4);
	cr_assert_eq(sc->rules[0].n_names, 2);
	cr_assert_str_eq(sc->rules[0].names[1], "write");
	cr_assert_eq(sc->rules[0].action, RT_SECCOMP_ALLOW);
	cr_assert_not(sc->rules[0].has_errno_ret);
	const struct rt_seccomp_rule *r = &sc->rules[1];
	cr_assert_eq(r->n_args, 2);
	cr_assert_eq(r->args[0].index, 0);
	cr_assert_eq(r->args[0].value, 8);
	cr_assert_eq(r->args[0].op, RT_SCMP_EQ);
	cr_assert_eq(r->args[1].index, 1);
	cr_assert_eq(r->args[1].value, UINT64_MAX);
	cr_assert_eq(r->args[1].value_two, 4);
	cr_assert_eq(r->args[1].op, RT_SCMP_MASKED_EQ);
	cr_assert(sc->rules[2].has_errno_ret);
	cr_assert_eq(sc->rules[2].errno_ret, 1);
	cr_assert_eq(sc->rules[3].action, RT_SECCOMP_NOTIFY);
}

Test(full, resources_memory_cpu_pids)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_resources *r = &s->linux_.resources;

	cr_assert(r->present);
	cr_assert_eq(r->mem_limit, 536870912);
	cr_assert_eq(r->mem_reservation, 268435456);
	cr_assert_eq(r->mem_swap, 1073741824);
	cr_assert_eq(r->mem_kernel, RT_RES_UNLIMITED, "JSON -1 is unlimited, not \"not given\"");
	cr_assert_eq(r->mem_kernel_tcp, 1048576);
	cr_assert_eq(r->mem_swappiness, 60);
	cr_assert(r->has_disable_oom_killer && r->disable_oom_killer);
	cr_assert(r->has_use_hierarchy && !r->use_hierarchy);
	cr_assert(r->has_check_before_update && r->check_before_update);
	cr_assert_eq(r->cpu_shares, 1024);
	cr_assert_eq(r->cpu_quota, 50000);
	cr_assert_eq(r->cpu_burst, 10000);
	cr_assert_eq(r->cpu_period, 100000);
	cr_assert_eq(r->cpu_realtime_runtime, 950000);
	cr_assert_eq(r->cpu_realtime_period, 1000000);
	cr_assert_str_eq(r->cpu_cpus, "0-1");
	cr_assert_str_eq(r->cpu_mems, "0");
	cr_assert(r->has_cpu_idle);
	cr_assert_eq(r->cpu_idle, 1);
	cr_assert(r->has_pids_limit);
	cr_assert_eq(r->pids_limit, 100);
}

Test(full, resources_io_net_devices)
{
	_cleanup_spec_ struct rt_spec *s = load_full();
	const struct rt_resources *r = &s->linux_.resources;

	cr_assert_eq(r->blkio_weight, 500);
	cr_assert_eq(r->blkio_leaf_weight, 300);
	cr_assert_eq(r->n_blkio_weight_device, 1);
	cr_assert_eq(r->blkio_weight_device[0].major, 8);
	cr_assert_eq(r->blkio_weight_device[0].weight, 200);
	cr_assert_eq(r->blkio_weight_device[0].leaf_weight, -1);
	cr_assert_eq(r->blkio_throttle_read_bps[0].rate, 1048576);
	cr_assert_eq(r->blkio_throttle_write_bps[0].minor, 16);
	cr_assert_eq(r->blkio_throttle_read_iops[0].rate, 100);
	cr_assert_eq(r->n_blkio_throttle_write_iops, 1);
	cr_assert_eq(r->blkio_throttle_write_iops[0].rate, 200);
	cr_assert_eq(r->n_hugepage_limits, 1);
	cr_assert_str_eq(r->hugepage_limits[0].page_size, "2MB");
	cr_assert_eq(r->hugepage_limits[0].limit, 209715200);
	cr_assert(r->has_net_class_id);
	cr_assert_eq(r->net_class_id, 1048577);
	cr_assert_eq(r->n_net_priorities, 2);
	cr_assert_str_eq(r->net_priorities[1].name, "eth1");
	cr_assert_eq(r->net_priorities[1].priority, 1000);
	cr_assert_eq(r->n_rdma, 2);
	cr_assert_str_eq(r->rdma[0].device, "mlx5_1");
	cr_assert_eq(r->rdma[0].hca_handles, 3);
	cr_assert_eq(r->rdma[1].hca_handles, -1);
	cr_assert_eq(r->rdma[1].hca_objects, 1000);
	cr_assert_eq(r->n_unified, 2);
	cr_assert_str_eq(r->unified[0].key, "io.weight");
	cr_assert_str_eq(r->unified[0].value, "default 100");
	cr_assert_eq(r->n_devices, 2);
	cr_assert_not(r->devices[0].allow);
	cr_assert_eq(r->devices[0].type, 'a');
	cr_assert_eq(r->devices[0].major, -1);
	cr_assert_str_eq(r->devices[0].access, "rwm");
	cr_assert(r->devices[1].allow);
	cr_assert_eq(r->devices[1].type, 'c');
	cr_assert_eq(r->devices[1].minor, 229);
}

/* ---- minimal documents and defaults ---- */

Test(parse, minimal_defaults)
{
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_eq(parse_str("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}", &s, &err), 0,
		     "%s", err.msg);
	cr_assert_not(s->has_process);
	cr_assert_null(s->process.args);
	cr_assert_null(s->hostname);
	cr_assert_eq(s->n_mounts, 0);
	cr_assert_null(s->linux_.seccomp);
	cr_assert_null(s->linux_.cgroups_path);
	cr_assert_not(s->linux_.has_masked_paths);
	const struct rt_resources *r = &s->linux_.resources;
	cr_assert_not(r->present);
	cr_assert_eq(r->mem_limit, -1);
	cr_assert_eq(r->mem_swappiness, -1);
	cr_assert_eq(r->cpu_shares, -1);
	cr_assert_eq(r->cpu_period, -1);
	cr_assert_eq(r->pids_limit, -1);
	cr_assert_eq(r->blkio_weight, -1);
	cr_assert_not(r->has_pids_limit);
}

Test(parse, null_is_absent)
{
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_eq(parse_str("{\"hostname\":null,\"process\":{\"args\":null,\"user\":{\"uid\":null}},"
			       "\"linux\":{\"seccomp\":null,\"resources\":{\"memory\":{\"limit\":null}}}}",
			       &s, &err), 0, "%s", err.msg);
	cr_assert_null(s->hostname);
	cr_assert(s->has_process);
	cr_assert_null(s->process.args);
	cr_assert_null(s->linux_.seccomp);
	cr_assert(s->linux_.resources.present);
	cr_assert_eq(s->linux_.resources.mem_limit, -1);
}

Test(parse, unknown_fields_ignored)
{
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_eq(parse_str("{\"ociVersion\":\"1.2.0\",\"windows\":{\"layerFolders\":[1]},"
			       "\"vm\":{\"hypervisor\":{}},\"process\":{\"args\":[\"x\"],\"frobnicate\":[{}]},"
			       "\"linux\":{\"futureThing\":42,\"resources\":{\"newController\":{}}}}",
			       &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->process.args[0], "x");
}

Test(parse, future_oci_version_accepted)
{
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_eq(parse_str("{\"ociVersion\":\"9.9.9\"}", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->oci_version, "9.9.9");
}

/* ---- errors ---- */

struct bad_case {
	const char *json, *msg;
};

Test(errors, type_errors_name_the_field)
{
	static const struct bad_case cases[] = {
		{ "{\"process\":{\"user\":{\"uid\":\"0\"}}}", "process.user.uid: expected an unsigned integer" },
		{ "{\"process\":{\"user\":{\"uid\":-1}}}", "process.user.uid: expected an unsigned integer" },
		{ "{\"process\":{\"user\":{\"gid\":4294967296}}}", "process.user.gid: 4294967296 is out of range" },
		{ "{\"process\":{\"user\":{\"additionalGids\":[1,\"x\"]}}}", "process.user.additionalGids[1]: expected an unsigned integer" },
		{ "{\"process\":{\"args\":[\"a\",3]}}", "process.args[1]: expected a string" },
		{ "{\"process\":{\"args\":\"sh\"}}", "process.args: expected an array" },
		{ "{\"process\":{\"terminal\":1}}", "process.terminal: expected a boolean" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_FOO\"]}}}", "process.capabilities.bounding[0]: unknown capability \"CAP_FOO\"" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,\"hard\":1}]}}", "process.rlimits[0].type: unknown rlimit \"RLIMIT_X\"" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1.5,\"hard\":1}]}}", "process.rlimits[0].soft: expected an unsigned integer" },
		{ "{\"process\":{\"oomScoreAdj\":true}}", "process.oomScoreAdj: expected an integer" },
		{ "{\"process\":{\"scheduler\":{\"policy\":\"SCHED_FAST\"}}}", "process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\"" },
		{ "{\"process\":{\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":8}}}", "process.ioPriority.priority: 8 is out of range" },
		{ "{\"root\":[]}", "root: expected an object" },
		{ "{\"root\":{\"readonly\":\"yes\"}}", "root.readonly: expected a boolean" },
		{ "{\"mounts\":[{\"destination\":\"/a\",\"options\":[1]}]}", "mounts[0].options[0]: expected a string" },
		{ "{\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":0}]}]}", "mounts[0].uidMappings[0]: containerID, hostID and size are required" },
		{ "{\"hooks\":{\"poststop\":[{\"path\":\"/x\",\"timeout\":0}]}}", "hooks.poststop[0].timeout: 0 is out of range" },
		{ "{\"annotations\":{\"a\":1}}", "annotations[\"a\"]: expected a string" },
		{ "{\"linux\":{\"namespaces\":[{\"type\":\"foo\"}]}}", "linux.namespaces[0].type: unknown namespace type \"foo\"" },
		{ "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}", "linux.namespaces[1]: duplicate namespace type \"pid\"" },
		{ "{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":-1}]}}", "linux.uidMappings[0].size: expected an unsigned integer" },
		{ "{\"linux\":{\"devices\":[{\"type\":\"cc\",\"path\":\"/dev/x\"}]}}", "linux.devices[0].type: expected a single character" },
		{ "{\"linux\":{\"sysctl\":{\"net.x\":1}}}", "linux.sysctl[\"net.x\"]: expected a string" },
		{ "{\"linux\":{\"seccomp\":{}}}", "linux.seccomp.defaultAction: required" },
		{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}", "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"" },
		{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_XX\"}]}]}}}", "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"" },
		{ "{\"linux\":{\"personality\":{\"domain\":\"BSD\"}}}", "linux.personality.domain: unknown personality domain \"BSD\"" },
		{ "{\"linux\":{\"timeOffsets\":{\"boottime\":{\"secs\":1,\"nanosecs\":1000000000}}}}", "linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range" },
		{ "{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}", "linux.resources.memory.limit: expected an integer" },
		{ "{\"linux\":{\"resources\":{\"cpu\":{\"shares\":18446744073709551615}}}}", "linux.resources.cpu.shares: 18446744073709551615 is out of range" },
		{ "{\"linux\":{\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}}}", "linux.resources.devices[0]: allow is required" },
		{ "{\"linux\":{\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":-5}]}}}}", "linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected an unsigned integer" },
		{ "{\"linux\":{\"resources\":{\"rdma\":{\"mlx\":{\"hcaHandles\":\"3\"}}}}}", "linux.resources.rdma[\"mlx\"].hcaHandles: expected an integer" },
		{ "{\"linux\":{\"resources\":{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":-1}]}}}}", "linux.resources.network.priorities[0].priority: expected an unsigned integer" },
		{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}}}", "linux.seccomp.syscalls: expected an array" },
		{ "{\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":0}]}}", "linux.gidMappings[0]: containerID, hostID and size are required" },
		{ "{\"linux\":{\"resources\":{\"blockIO\":{\"weightDevice\":[{\"major\":8}]}}}}", "linux.resources.blockIO.weightDevice[0]" },
		{ "{\"linux\":{\"resources\":{\"hugepageLimits\":[{\"pageSize\":1}]}}}", "linux.resources.hugepageLimits[0]" },
		{ "{\"process\":{\"rlimits\":{}}}", "process.rlimits: expected an array" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rt_spec *s = NULL;
		struct rt_err err = { 0 };
		int r = parse_str(cases[i].json, &s, &err);

		cr_expect_lt(r, 0, "case %zu parsed: %s", i, cases[i].json);
		cr_expect_null(s);
		cr_expect(strstr(err.msg, cases[i].msg), "case %zu: \"%s\" does not contain \"%s\"",
			  i, err.msg, cases[i].msg);
		if (s)
			rt_spec_free(s);
	}
}

Test(errors, malformed_json_has_position)
{
	struct rt_spec *s = NULL;
	struct rt_err err = { 0 };
	const char *json = "{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\"path\" \"rootfs\"}\n}";

	cr_assert_lt(parse_str(json, &s, &err), 0);
	cr_assert_null(s);
	/* The error points at the last byte of the offending "rootfs" token. */
	assert_err_contains(err, "config.json: invalid JSON: parse error: ");
	assert_err_contains(err, "at line 3, column 26");
}

Test(errors, truncated_and_garbage)
{
	struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_lt(parse_str("{\"ociVersion\": \"1.0", &s, &err), 0);
	assert_err_contains(err, "invalid JSON");
	cr_assert_lt(parse_str("{} x", &s, &err), 0);
	assert_err_contains(err, "invalid JSON: parse error: trailing garbage at line 1, column 4");
	cr_assert_lt(rt_spec_parse("{}\0{}", 5, &s, &err), 0);
	assert_err_contains(err, "NUL byte at offset 2");
	char deep[600];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 299);
	deep[599] = '\0';
	cr_assert_lt(parse_str(deep, &s, &err), 0);
	assert_err_contains(err, "nested deeper than");
	cr_assert_lt(parse_str("[1,2]", &s, &err), 0);
	assert_err_contains(err, "expected a JSON object");
}

Test(errors, len_is_respected)
{
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };
	const char *json = "{\"hostname\":\"a\"}garbage";

	/* The buffer need not be NUL-terminated at len. */
	cr_assert_eq(rt_spec_parse(json, 16, &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->hostname, "a");
}

Test(errors, load_prefixes_path)
{
	struct rt_spec *s = NULL;
	struct rt_err err = { 0 };
	char path[] = "/tmp/hull-test-spec-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "{\"process\":{\"cwd\":7}}", 21), 21);
	close(fd);
	cr_assert_lt(rt_spec_load(path, &s, &err), 0);
	cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
	assert_err_contains(err, "process.cwd: expected a string");

	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "{", 1), 1);
	close(fd);
	cr_assert_lt(rt_spec_load(path, &s, &err), 0);
	cr_assert(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
	assert_err_contains(err, "invalid JSON");
	unlink(path);

	cr_assert_lt(rt_spec_load("/nonexistent/config.json", &s, &err), 0);
	assert_err_contains(err, "/nonexistent/config.json");
	cr_assert_null(s);
}

/* ---- exec --process ---- */

Test(process, parse_alone)
{
	_cleanup_arena_ struct rt_arena *a = rt_arena_new();
	struct rt_process p;
	struct rt_err err = { 0 };
	const char *json = "{\"terminal\":true,\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\","
			   "\"env\":[\"A=1\"],\"user\":{\"uid\":5,\"gid\":6},"
			   "\"capabilities\":{\"effective\":[\"CAP_SYS_ADMIN\"]}}";

	cr_assert_eq(rt_process_parse(json, strlen(json), a, &p, &err), 0, "%s", err.msg);
	cr_assert(p.terminal);
	cr_assert_eq(p.n_args, 2);
	cr_assert_str_eq(p.args[1], "-l");
	cr_assert_str_eq(p.cwd, "/tmp");
	cr_assert_eq(p.user.uid, 5);
	cr_assert_eq(p.user.gid, 6);
	cr_assert(p.caps.present);
	cr_assert_eq(p.caps.effective, BIT(CAP_SYS_ADMIN));

	json = "{\"args\":[\"ls\"],\"user\":{\"uid\":\"root\"}}";
	cr_assert_lt(rt_process_parse(json, strlen(json), a, &p, &err), 0);
	assert_err_contains(err, "user.uid: expected an unsigned integer");
	cr_assert_lt(rt_process_parse("{", 1, a, &p, &err), 0);
	assert_err_contains(err, "invalid JSON");
}

/* ---- name tables ---- */

Test(names, tables)
{
	enum rt_seccomp_action act;

	cr_assert_eq(rt_ns_kind_from_name("network"), RT_NS_NET);
	cr_assert_eq(rt_ns_kind_from_name("time"), RT_NS_TIME);
	cr_assert_eq(rt_ns_kind_from_name("net"), -1);
	cr_assert_str_eq(rt_ns_kind_name(RT_NS_MNT), "mount");
	cr_assert_eq(rt_hook_kind_from_name("createRuntime"), RT_HOOK_CREATE_RUNTIME);
	cr_assert_eq(rt_hook_kind_from_name("bogus"), -1);
	cr_assert_str_eq(rt_hook_kind_name(RT_HOOK_POSTSTOP), "poststop");
	cr_assert_eq(rt_cap_from_name("CAP_SYS_ADMIN"), 21);
	cr_assert_eq(rt_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	cr_assert_eq(rt_cap_from_name("sys_admin"), -1);
	cr_assert_str_eq(rt_cap_name(CAP_LAST_CAP), "CAP_CHECKPOINT_RESTORE");
	cr_assert_null(rt_cap_name(CAP_LAST_CAP + 1));
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		cr_assert_eq(rt_cap_from_name(rt_cap_name(c)), c);
	cr_assert_eq(rt_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	cr_assert_eq(rt_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	cr_assert_eq(rt_rlimit_from_name("NOFILE"), -1);
	cr_assert_eq(rt_seccomp_action_from_name("SCMP_ACT_KILL_PROCESS", &act), 0);
	cr_assert_eq(act, RT_SECCOMP_KILL_PROCESS);
	cr_assert_eq(rt_seccomp_action_from_name("SCMP_ACT_NOTIFY", &act), 0);
	cr_assert_eq(act, RT_SECCOMP_NOTIFY);
	cr_assert_lt(rt_seccomp_action_from_name("ALLOW", &act), 0);
}

/* ---- writers ---- */

Test(write, default_spec_round_trips)
{
	const char *args[] = { "/bin/echo", "hi", NULL };
	_cleanup_free_ char *json = rt_spec_default_json(false, args);
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_not_null(json);
	cr_assert_eq(parse_str(json, &s, &err), 0, "%s\n%s", err.msg, json);
	cr_assert_str_eq(s->oci_version, "1.2.0");
	cr_assert_not(s->process.terminal);
	cr_assert_str_eq(s->process.args[1], "hi");
	cr_assert_str_eq(s->process.cwd, "/");
	cr_assert_eq(s->process.caps.bounding,
		     BIT(CAP_AUDIT_WRITE) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE));
	cr_assert_eq(s->process.caps.ambient, 0, "no inheritable, so no ambient");
	cr_assert_eq(s->process.caps.inheritable, 0);
	cr_assert_eq(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert_eq(s->process.rlimits[0].soft, 1024);
	cr_assert(s->process.no_new_privileges);
	cr_assert_str_eq(s->root_path, "rootfs");
	cr_assert(s->root_readonly);
	cr_assert_str_eq(s->hostname, "hull");
	cr_assert_eq(s->n_mounts, 7);
	cr_assert_str_eq(s->mounts[6].destination, "/sys/fs/cgroup");
	cr_assert_str_eq(s->mounts[2].options[5], "gid=5");
	cr_assert(s->linux_.namespaces[RT_NS_NET].enabled);
	cr_assert(s->linux_.namespaces[RT_NS_CGROUP].enabled);
	cr_assert_not(s->linux_.namespaces[RT_NS_USER].enabled);
	cr_assert_eq(s->linux_.n_masked_paths, 10);
	cr_assert_eq(s->linux_.n_readonly_paths, 5);
	cr_assert_eq(s->linux_.resources.n_devices, 1);
}

Test(write, proc_spec_takes_the_process_fields)
{
	const char *args[] = { "/bin/app", "--x", NULL };
	const char *env[] = { "A=1", NULL };
	struct rt_spec_proc_cfg p = { .args = args, .env = env, .cwd = "/srv", .uid = 7, .gid = 8 };
	_cleanup_free_ char *json = rt_spec_proc_json(false, &p);
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_not_null(json);
	cr_assert_eq(parse_str(json, &s, &err), 0, "%s\n%s", err.msg, json);
	cr_assert_str_eq(s->process.args[1], "--x");
	cr_assert_str_eq(s->process.env[0], "A=1");
	cr_assert_null(s->process.env[1]);
	cr_assert_str_eq(s->process.cwd, "/srv");
	cr_assert_eq(s->process.user.uid, 7);
	cr_assert_eq(s->process.user.gid, 8);
	/* the rest is the default spec's */
	cr_assert_eq(s->n_mounts, 7);
	cr_assert_eq(s->linux_.n_masked_paths, 10);
	p.args = NULL;
	cr_assert_null(rt_spec_proc_json(false, &p), "no args: no document");
}

Test(write, default_spec_sh_and_rootless)
{
	_cleanup_free_ char *json = rt_spec_default_json(true, NULL);
	_cleanup_spec_ struct rt_spec *s = NULL;
	struct rt_err err = { 0 };

	cr_assert_not_null(json);
	cr_assert_eq(parse_str(json, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s->process.n_args, 1);
	cr_assert_str_eq(s->process.args[0], "sh");
	cr_assert(s->linux_.namespaces[RT_NS_USER].enabled);
	cr_assert_not(s->linux_.namespaces[RT_NS_NET].enabled);
	cr_assert_eq(s->linux_.n_uid_mappings, 1);
	cr_assert_eq(s->linux_.uid_mappings[0].host_id, geteuid());
	cr_assert_eq(s->linux_.uid_mappings[0].container_id, 0);
	cr_assert_eq(s->linux_.uid_mappings[0].size, 1);
	cr_assert_eq(s->linux_.gid_mappings[0].host_id, getegid());
	cr_assert_not(s->linux_.resources.present);
	cr_assert_eq(s->n_mounts, 6);
	for (size_t i = 0; i < s->n_mounts; i++) {
		cr_assert_str_neq(s->mounts[i].destination, "/sys/fs/cgroup");
		for (size_t j = 0; j < s->mounts[i].n_options; j++)
			cr_assert_str_neq(s->mounts[i].options[j], "gid=5");
	}
	cr_assert_str_eq(s->mounts[5].destination, "/sys");
	cr_assert_str_eq(s->mounts[5].source, "/sys");
	cr_assert_str_eq(s->mounts[5].options[0], "rbind");
}

static yajl_val get_path(yajl_val root, const char *a, const char *b, const char *c)
{
	const char *path[] = { a, b, c, NULL };
	return yajl_tree_get(root, path, yajl_t_any);
}

static bool array_has(yajl_val arr, const char *str)
{
	if (!YAJL_IS_ARRAY(arr))
		return false;
	for (size_t i = 0; i < arr->u.array.len; i++)
		if (YAJL_IS_STRING(arr->u.array.values[i]) &&
		    strcmp(arr->u.array.values[i]->u.string, str) == 0)
			return true;
	return false;
}

Test(write, features)
{
	_cleanup_free_ char *json = rt_features_json();
	char errbuf[256];
	yajl_val doc;

	cr_assert_not_null(json);
	doc = yajl_tree_parse(json, errbuf, sizeof(errbuf));
	cr_assert_not_null(doc, "%s", errbuf);
	cr_assert_str_eq(YAJL_GET_STRING(get_path(doc, "ociVersionMin", NULL, NULL)), "1.0.0");
	cr_assert_str_eq(YAJL_GET_STRING(get_path(doc, "ociVersionMax", NULL, NULL)), "1.2.0");
	cr_assert(array_has(get_path(doc, "hooks", NULL, NULL), "createContainer"));
	cr_assert(array_has(get_path(doc, "mountOptions", NULL, NULL), "rro"));
	cr_assert(array_has(get_path(doc, "mountOptions", NULL, NULL), "idmap"));
	cr_assert(array_has(get_path(doc, "linux", "namespaces", NULL), "time"));
	yajl_val caps = get_path(doc, "linux", "capabilities", NULL);
	cr_assert(array_has(caps, "CAP_SYS_ADMIN"));
	cr_assert_eq(caps->u.array.len, CAP_LAST_CAP + 1);
	cr_assert(YAJL_IS_TRUE(get_path(doc, "linux", "cgroup", "v2")));
	cr_assert(YAJL_IS_FALSE(get_path(doc, "linux", "cgroup", "systemd")));
	cr_assert(YAJL_IS_TRUE(get_path(doc, "linux", "seccomp", "enabled")));
	cr_assert(array_has(get_path(doc, "linux", "seccomp", "actions"), "SCMP_ACT_NOTIFY"));
	cr_assert(array_has(get_path(doc, "linux", "seccomp", "operators"), "SCMP_CMP_MASKED_EQ"));
	cr_assert(array_has(get_path(doc, "linux", "seccomp", "archs"), "SCMP_ARCH_X86_64"));
	cr_assert(array_has(get_path(doc, "linux", "seccomp", "knownFlags"), "SECCOMP_FILTER_FLAG_LOG"));
	cr_assert(YAJL_IS_FALSE(get_path(doc, "linux", "apparmor", "enabled")));
	cr_assert(YAJL_IS_FALSE(get_path(doc, "linux", "intelRdt", "enabled")));
	const char *idmap[] = { "linux", "mountExtensions", "idmap", "enabled", NULL };
	cr_assert(YAJL_IS_TRUE(yajl_tree_get(doc, idmap, yajl_t_any)));
	cr_assert_str_eq(YAJL_GET_STRING(get_path(doc, "annotations", "io.github.hull.version", NULL)),
			 PACKAGE_VERSION);
	yajl_tree_free(doc);
}
