/* update and events: rt_resources_parse, the resources and stats JSON
 * writers, the size/duration parsers, merge and checks, and the cgroup
 * stat file parsers. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cgroups/cgroup.h"
#include "runtime/arena.h"
#include "runtime/cleanup.h"
#include "runtime/container.h"
#include "runtime/spec.h"
#include "runtime/state.h"

static struct rt_arena *arena;

static void setup(void) { arena = rt_arena_new(); }
static void teardown(void) { rt_arena_free(arena); }

TestSuite(update, .init = setup, .fini = teardown);

static int parse(const char *json, struct rt_resources *r, struct rt_err *err)
{
	return rt_resources_parse(json, strlen(json), arena, r, err);
}

Test(update, parse_fields)
{
	struct rt_resources r;
	struct rt_err err = {0};

	cr_assert_eq(parse("{\"memory\":{\"limit\":8388608,\"swap\":-1},"
			   "\"cpu\":{\"shares\":512,\"quota\":50000,\"cpus\":\"0-1\"},"
			   "\"pids\":{\"limit\":42},\"blockIO\":{\"weight\":300},"
			   "\"unknownField\":true}", &r, &err), 0, "%s", err.msg);
	cr_assert(r.present);
	cr_assert_eq(r.mem_limit, 8388608);
	cr_assert_eq(r.mem_swap, RT_RES_UNLIMITED);
	cr_assert_eq(r.mem_reservation, -1, "unset stays -1");
	cr_assert_eq(r.cpu_shares, 512);
	cr_assert_eq(r.cpu_quota, 50000);
	cr_assert_eq(r.cpu_period, -1);
	cr_assert_str_eq(r.cpu_cpus, "0-1");
	cr_assert(r.has_pids_limit);
	cr_assert_eq(r.pids_limit, 42);
	cr_assert_eq(r.blkio_weight, 300);
}

Test(update, parse_empty_leaves_everything_unset)
{
	struct rt_resources r;
	struct rt_err err = {0};

	cr_assert_eq(parse("{}", &r, &err), 0);
	cr_assert_eq(r.mem_limit, -1);
	cr_assert_eq(r.cpu_quota, -1);
	cr_assert_eq(r.pids_limit, -1);
	cr_assert(!r.has_pids_limit);
	cr_assert_null(r.cpu_cpus);
}

Test(update, parse_errors_name_the_field)
{
	struct rt_resources r;
	struct rt_err err = {0};

	cr_assert_eq(parse("{\"memory\":{\"limit\":\"64m\"}}", &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "memory.limit"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"cpu\":{\"shares\":-5}}", &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cpu.shares"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"blockIO\":{\"weightDevice\":[{\"weight\":10}]}}", &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "blockIO.weightDevice"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("[1]", &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "expected a JSON object"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"memory\":", &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "invalid JSON"), "%s", err.msg);
}

Test(update, resources_json_round_trips)
{
	struct rt_resources r, back;
	struct rt_err err = {0};
	_cleanup_free_ char *json = NULL;

	cr_assert_eq(parse("{\"memory\":{\"limit\":-1,\"reservation\":1024},"
			   "\"cpu\":{\"quota\":-1,\"period\":100000,\"mems\":\"0\"},"
			   "\"pids\":{\"limit\":-1},"
			   "\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,"
			   "\"access\":\"rw\"}],\"unified\":{\"memory.high\":\"1000000\"}}",
			   &r, &err), 0, "%s", err.msg);
	json = rt_resources_json(&r);
	cr_assert_not_null(json);
	cr_assert_eq(parse(json, &back, &err), 0, "%s: %s", json, err.msg);
	cr_assert_eq(back.mem_limit, RT_RES_UNLIMITED);
	cr_assert_eq(back.mem_reservation, 1024);
	cr_assert_eq(back.mem_swap, -1, "unset is not written: %s", json);
	cr_assert_eq(back.cpu_quota, RT_RES_UNLIMITED);
	cr_assert_eq(back.cpu_period, 100000);
	cr_assert_str_eq(back.cpu_mems, "0");
	cr_assert(back.has_pids_limit);
	cr_assert_eq(back.pids_limit, -1);
	cr_assert_eq(back.n_devices, 1);
	cr_assert(back.devices[0].allow);
	cr_assert_eq(back.devices[0].type, 'c');
	cr_assert_eq(back.devices[0].minor, 3);
	cr_assert_str_eq(back.devices[0].access, "rw");
	cr_assert_eq(back.n_unified, 1);
	cr_assert_str_eq(back.unified[0].value, "1000000");
}

Test(update, config_set_resources_keeps_the_rest)
{
	static const char cfg[] = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"]},"
				  "\"big\":18446744073709551615,"
				  "\"linux\":{\"cgroupsPath\":\"/x\",\"resources\":{\"pids\":{\"limit\":5}}}}";
	struct rt_resources r;
	struct rt_err err = {0};
	_cleanup_free_ char *out = NULL;
	_cleanup_spec_ struct rt_spec *spec = NULL;

	cr_assert_eq(parse("{\"memory\":{\"limit\":4096}}", &r, &err), 0);
	out = rt_config_set_resources(cfg, strlen(cfg), &r, &err);
	cr_assert_not_null(out, "%s", err.msg);
	cr_assert(strstr(out, "18446744073709551615"), "numbers keep their text: %s", out);
	cr_assert_eq(rt_spec_parse(out, strlen(out), &spec, &err), 0, "%s", err.msg);
	cr_assert_str_eq(spec->linux_.cgroups_path, "/x");
	cr_assert_str_eq(spec->process.args[0], "sh");
	cr_assert_eq(spec->linux_.resources.mem_limit, 4096);
	cr_assert_eq(spec->linux_.resources.pids_limit, -1, "resources replaced whole");
}

Test(update, config_set_resources_adds_linux)
{
	struct rt_resources r;
	struct rt_err err = {0};
	_cleanup_free_ char *out = NULL;

	cr_assert_eq(parse("{\"pids\":{\"limit\":7}}", &r, &err), 0);
	out = rt_config_set_resources("{\"ociVersion\":\"1\"}", 18, &r, &err);
	cr_assert_not_null(out);
	cr_assert(strstr(out, "\"linux\""), "%s", out);
	cr_assert(strstr(out, "\"limit\": 7"), "%s", out);
	cr_assert_null(strstr(out, "\"memory\""), "empty sections stay out: %s", out);
	cr_assert_null(strstr(out, "\"blockIO\""), "empty sections stay out: %s", out);
	cr_assert_null(rt_config_set_resources("nope", 4, &r, &err));
}

Test(update, mem_size)
{
	static const struct { const char *in; int64_t want; } ok[] = {
		{ "1024", 1024 }, { "10k", 10240 }, { "10K", 10240 }, { "64m", 64 << 20 },
		{ "64M", 64 << 20 }, { "1g", 1 << 30 }, { "1.5g", 3ll << 29 }, { "2GiB", 2ll << 30 },
		{ "10 MB", 10 << 20 }, { "8mb", 8 << 20 }, { "100b", 100 }, { "1t", 1ll << 40 },
		{ "-1", RT_RES_UNLIMITED },
	};
	static const char *const bad[] = { "", "abc", "-2", "10x", "1.2.3", "m", "10kk",
					   "-5m", "99999999999999999999p" };
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(rt_parse_mem_size(ok[i].in, &v), 0, "%s", ok[i].in);
		cr_assert_eq(v, ok[i].want, "%s: %lld", ok[i].in, (long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(rt_parse_mem_size(bad[i], &v), -EINVAL, "%s", bad[i]);
}

Test(update, duration)
{
	long long ms;

	cr_assert_eq(rt_parse_duration_ms("5s", &ms), 0);
	cr_assert_eq(ms, 5000);
	cr_assert_eq(rt_parse_duration_ms("250ms", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(rt_parse_duration_ms("1m30s", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(rt_parse_duration_ms("1.5s", &ms), 0);
	cr_assert_eq(ms, 1500);
	cr_assert_eq(rt_parse_duration_ms("2", &ms), 0, "bare number is seconds");
	cr_assert_eq(ms, 2000);
	cr_assert_eq(rt_parse_duration_ms("", &ms), -EINVAL);
	cr_assert_eq(rt_parse_duration_ms("0s", &ms), -EINVAL);
	cr_assert_eq(rt_parse_duration_ms("5x", &ms), -EINVAL);
	cr_assert_eq(rt_parse_duration_ms("-1s", &ms), -EINVAL);
	cr_assert_eq(rt_parse_duration_ms("100us", &ms), -EINVAL, "below 1 ms");
}

Test(update, merge_overlays_given_fields)
{
	struct rt_resources base, upd;
	struct rt_err err = {0};

	cr_assert_eq(parse("{\"memory\":{\"limit\":100,\"swap\":200},\"pids\":{\"limit\":5},"
			   "\"cpu\":{\"cpus\":\"0\"}}", &base, &err), 0);
	cr_assert_eq(parse("{\"memory\":{\"limit\":150},\"cpu\":{\"shares\":10}}", &upd, &err), 0);
	rt_resources_merge(&base, &upd);
	cr_assert_eq(base.mem_limit, 150);
	cr_assert_eq(base.mem_swap, 200, "kept");
	cr_assert_eq(base.pids_limit, 5, "kept");
	cr_assert_eq(base.cpu_shares, 10);
	cr_assert_str_eq(base.cpu_cpus, "0");
}

Test(update, check_refuses_what_the_kernel_would)
{
	struct rt_resources r, eff;
	struct rt_err err = {0};

	cr_assert_eq(parse("{\"cpu\":{\"quota\":10}}", &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cpu.quota"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"cpu\":{\"period\":500}}", &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cpu.period"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"cpu\":{\"cpus\":\"0-x\"}}", &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &r, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cpu.cpus"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"blockIO\":{\"weight\":5}}", &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &r, &err), -EINVAL);
	rt_err_clear(&err);
	/* Raising the memory limit above an earlier swap limit. */
	cr_assert_eq(parse("{\"memory\":{\"limit\":300,\"swap\":200}}", &eff, &err), 0);
	cr_assert_eq(parse("{\"memory\":{\"limit\":300}}", &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &eff, &err), -EINVAL);
	cr_assert(strstr(err.msg, "memory.swap"), "%s", err.msg);
	rt_err_clear(&err);
	cr_assert_eq(parse("{\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":-1,\"cpus\":\"0-1,3\","
			   "\"shares\":1024,\"period\":100000},\"pids\":{\"limit\":-1}}",
			   &r, &err), 0);
	cr_assert_eq(rt_resources_check(&r, &r, &err), 0, "%s", err.msg);
}

static yajl_val get(yajl_val root, const char *const *path, yajl_type t)
{
	yajl_val v = yajl_tree_get(root, (const char **)path, t);

	cr_assert_not_null(v, "missing %s...%s", path[0], path[1] ? path[1] : "");
	return v;
}

Test(update, stats_json_shape)
{
	uint64_t percpu[] = { 5, 7 };
	struct cg_stat_kv raw[] = { { (char *)"cache", 4096 }, { (char *)"rss", 8192 } };
	struct cg_blkio_entry io[] = { { 8, 0, "Read", 100 } };
	struct cg_stats s = {
		.cpu_total = 12, .cpu_kernel = 4, .cpu_user = 8, .cpu_percpu = percpu,
		.n_cpu_percpu = 2, .cpu_throttled_periods = 3,
		.mem_usage = { .usage = 1000, .max = 2000, .failcnt = 1, .limit = UINT64_MAX },
		.mem_raw = raw, .n_mem_raw = 2, .pids_current = 2, .pids_limit = 10,
		.io_bytes = io, .n_io_bytes = 1,
	};
	_cleanup_free_ char *json = rt_event_json("stats", "c1", &s);
	char ebuf[128];
	yajl_val root;

	cr_assert_not_null(json);
	root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	cr_assert_not_null(root, "%s: %s", ebuf, json);
	cr_assert_str_eq(YAJL_GET_STRING(get(root, (const char *[]){ "type", NULL }, yajl_t_string)),
			 "stats");
	cr_assert_str_eq(YAJL_GET_STRING(get(root, (const char *[]){ "id", NULL }, yajl_t_string)),
			 "c1");
	cr_assert_eq(YAJL_GET_INTEGER(get(root, (const char *[]){ "data", "memory", "usage", "usage",
								  NULL }, yajl_t_number)), 1000);
	cr_assert_str_eq(YAJL_GET_NUMBER(get(root, (const char *[]){ "data", "memory", "usage",
								     "limit", NULL }, yajl_t_number)),
			 "18446744073709551615");
	cr_assert_eq(YAJL_GET_INTEGER(get(root, (const char *[]){ "data", "memory", "raw", "rss",
								  NULL }, yajl_t_number)), 8192);
	get(root, (const char *[]){ "data", "memory", "swap", "failcnt", NULL }, yajl_t_number);
	get(root, (const char *[]){ "data", "memory", "kernel", "limit", NULL }, yajl_t_number);
	cr_assert_eq(YAJL_GET_INTEGER(get(root, (const char *[]){ "data", "cpu", "usage", "total",
								  NULL }, yajl_t_number)), 12);
	cr_assert_eq(YAJL_GET_ARRAY(get(root, (const char *[]){ "data", "cpu", "usage", "percpu",
								NULL }, yajl_t_array))->len, 2);
	cr_assert_eq(YAJL_GET_INTEGER(get(root, (const char *[]){ "data", "cpu", "throttling",
								  "throttled_periods", NULL },
					  yajl_t_number)), 3);
	cr_assert_eq(YAJL_GET_INTEGER(get(root, (const char *[]){ "data", "pids", "current", NULL },
					  yajl_t_number)), 2);
	cr_assert_eq(YAJL_GET_ARRAY(get(root, (const char *[]){ "data", "blkio",
								"ioServiceBytesRecursive", NULL },
					yajl_t_array))->len, 1);
	get(root, (const char *[]){ "data", "hugetlb", NULL }, yajl_t_object);
	get(root, (const char *[]){ "data", "intel_rdt", NULL }, yajl_t_object);
	cr_assert(YAJL_IS_NULL(yajl_tree_get(root, (const char *[]){ "data", "network_interfaces",
								     NULL }, yajl_t_any)));
	yajl_tree_free(root);
}

Test(update, oom_event_json)
{
	_cleanup_free_ char *json = rt_event_json("oom", "c1", NULL);

	cr_assert_str_eq(json, "{\"type\":\"oom\",\"id\":\"c1\"}");
}

Test(update, kv_lines)
{
	struct cg_stat_kv *v;
	size_t n;

	cr_assert_eq(cg_parse_kv_lines("usage_usec 120\nuser_usec 80\nbad\nlimit max\n", &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(v[0].key, "usage_usec");
	cr_assert_eq(v[0].value, 120);
	cr_assert_eq(v[2].value, UINT64_MAX);
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

Test(update, io_stat_v1_and_v2)
{
	struct cg_blkio_entry *b = NULL, *o = NULL;
	size_t nb = 0, no = 0;

	cr_assert_eq(cg_parse_io_stat("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n",
				      false, &b, &nb, NULL, NULL), 0);
	cr_assert_eq(nb, 3);
	cr_assert_str_eq(b[1].op, "Write");
	cr_assert_eq(b[1].value, 512);
	free(b);
	b = NULL;
	nb = 0;
	cr_assert_eq(cg_parse_io_stat("259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
				      true, &b, &nb, &o, &no), 0);
	cr_assert_eq(nb, 2);
	cr_assert_eq(no, 2);
	cr_assert_eq(b[0].major, 259);
	cr_assert_eq(b[1].value, 20);
	cr_assert_str_eq(o[1].op, "Write");
	cr_assert_eq(o[1].value, 2);
	free(b);
	free(o);
}
