/* runtime/spec_ct.c: ct.json written and read back, hostile ct.json. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ct.h"

Test(ct, config_round_trip)
{
	struct rt_jail_bind b[] = { { "/srv/a", "/a", true }, { "/srv/b", "/b", false } };
	struct rt_ct_config c = {
		.name = "web1", .rootfs = "/srv/ct/web1", .hostname = "w", .ip = "10.88.0.9",
		.image = "busybox:1", .lower = "/var/lib/hull/images/rootfs/ab12",
		.memory = 1 << 26, .cpu_quota = 50000, .cpu_weight = -1, .pids = 10,
		.binds = b, .n_binds = 2,
	}, d;
	struct rt_err err = {0};
	char *json = rt_ct_config_to_json(&c);

	cr_assert_not_null(json);
	cr_assert_eq(rt_ct_config_from_json(json, strlen(json), &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d.name, "web1");
	cr_assert_str_eq(d.rootfs, "/srv/ct/web1");
	cr_assert_str_eq(d.hostname, "w");
	cr_assert_str_eq(d.ip, "10.88.0.9");
	cr_assert_str_eq(d.image, "busybox:1");
	cr_assert_str_eq(d.lower, "/var/lib/hull/images/rootfs/ab12");
	cr_assert_eq(d.memory, 1 << 26);
	cr_assert_eq(d.cpu_quota, 50000);
	cr_assert_eq(d.cpu_weight, -1);
	cr_assert_eq(d.pids, 10);
	cr_assert_eq(d.n_binds, 2);
	cr_assert_str_eq(d.binds[0].src, "/srv/a");
	cr_assert(d.binds[0].ro);
	cr_assert_not(d.binds[1].ro);
	cr_assert_not(d.vm);
	cr_assert_null(strstr(json, "isolation"), "%s", json);
	rt_ct_config_clear(&d);
	free(json);
}

Test(ct, config_vm_round_trip)
{
	struct rt_ct_config c = { .name = "v", .rootfs = "/r", .vm = true, .memory = -1,
				  .cpu_quota = -1, .cpu_weight = -1, .pids = -1 }, d;
	struct rt_err err = {0};
	char *json = rt_ct_config_to_json(&c);

	cr_assert_not_null(json);
	cr_assert(strstr(json, "\"isolation\": \"vm\""), "%s", json);
	cr_assert_eq(rt_ct_config_from_json(json, strlen(json), &d, &err), 0, "%s", err.msg);
	cr_assert(d.vm);
	rt_ct_config_clear(&d);
	free(json);
	static const char ct[] = "{\"name\":\"a\",\"rootfs\":\"/r\",\"isolation\":\"container\"}";
	cr_assert_eq(rt_ct_config_from_json(ct, strlen(ct), &d, &err), 0, "%s", err.msg);
	cr_assert_not(d.vm);
	rt_ct_config_clear(&d);
}

Test(ct, config_hostile)
{
	static const char *const bad[] = {
		"", "[]", "{\"name\":\"a\"}", "{\"name\":\"a\",\"rootfs\":\"rel\"}",
		"{\"name\":1,\"rootfs\":\"/r\"}", "{\"name\":\"a\",\"rootfs\":\"/r\",\"memory\":-5}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"memory\":\"1g\"}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"binds\":{}}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"binds\":[{\"source\":\"/x\"}]}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"binds\":[7]}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"ip\":[]}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"isolation\":\"kvm\"}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"isolation\":true}",
		/* lower becomes an overlay option */
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"lower\":\"rel/x\"}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"lower\":\"/x,upperdir=/etc\"}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"lower\":\"/x:/etc\"}",
		"{\"name\":\"a\",\"rootfs\":\"/r\",\"lower\":7}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_ct_config c;
		struct rt_err err = {0};
		cr_assert_eq(rt_ct_config_from_json(bad[i], strlen(bad[i]), &c, &err), -EINVAL,
			     "accepted %s", bad[i]);
		cr_assert(strstr(err.msg, "ct.json"), "%s", err.msg);
	}
}

Test(ct, list_json)
{
	struct rt_ct_info v[1] = { { .name = "a", .state = "running", .pid = 42,
				     .ip = "10.88.0.2", .mem_bytes = 4096, .cpu_ns = 7 } };
	char *s;

	v[0].cfg.memory = -1;
	s = rt_ct_list_json(v, 1);
	cr_assert_not_null(s);
	cr_assert(strstr(s, "\"state\": \"running\""), "%s", s);
	cr_assert(strstr(s, "\"memoryBytes\": 4096"), "%s", s);
	cr_assert(strstr(s, "\"ip\": \"10.88.0.2\""), "%s", s);
	cr_assert_null(strstr(s, "ip6"), "%s", s);
	cr_assert(strstr(s, "\"isolation\": \"container\""), "%s", s);
	free(s);
}
