/* runtime/state.c and runtime/spec_state.c: the state store. */
#include "config.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/state.h"
#include "runtime/util.h"

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/hull-unit-state.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	system(cmd);
}

static struct rt_kv ann[] = { { "org.example.k", "v \"quoted\"" } };

static void fill(struct rt_state *s, const char *id, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	s->id = (char *)id;
	s->bundle = (char *)"/b";
	s->rootfs = (char *)"/b/rootfs";
	s->pid = pid;
	s->created = (char *)"2026-01-01T00:00:00.000000000Z";
	s->owner = (char *)"";
	s->cgroup_path = (char *)"/hull/x";
	s->annotations = ann;
	s->n_annotations = 1;
}

TestSuite(state, .init = setup, .fini = teardown);

Test(state, write_read_round_trip)
{
	struct rt_err e = {0};
	struct rt_state s, got;
	int fd = rt_state_create_dir(root, "c1", &e);

	cr_assert_geq(fd, 0, "%s", e.msg);
	fill(&s, "c1", getpid());
	rt_pid_start_time(getpid(), &s.pid_start);
	cr_assert_eq(rt_state_write(fd, &s, &e), 0, "%s", e.msg);
	close(fd);
	cr_assert_eq(rt_state_read(root, "c1", &got, &e), 0, "%s", e.msg);
	cr_assert_str_eq(got.id, "c1");
	cr_assert_str_eq(got.bundle, "/b");
	cr_assert_str_eq(got.cgroup_path, "/hull/x");
	cr_assert_eq(got.pid, getpid());
	cr_assert_eq(got.pid_start, s.pid_start);
	cr_assert_eq(got.n_annotations, 1);
	cr_assert_str_eq(got.annotations[0].value, "v \"quoted\"");
	cr_assert(rt_state_alive(&got), "our own pid is alive");
	cr_assert_str_eq(rt_state_status(root, &got), "running");
	rt_state_clear(&got);
}

Test(state, duplicate_and_missing)
{
	struct rt_err e = {0};
	struct rt_state got;
	int fd = rt_state_create_dir(root, "dup", &e);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(rt_state_create_dir(root, "dup", &e), -EEXIST);
	cr_assert_str_eq(e.msg, "container \"dup\" already exists");
	cr_assert_eq(rt_state_read(root, "nope", &got, &e), -ENOENT);
	cr_assert_str_eq(e.msg, "container \"nope\" does not exist");
}

Test(state, stopped_and_reused_pids)
{
	struct rt_err e = {0};
	struct rt_state s;
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	fill(&s, "c2", p);
	cr_assert_not(rt_state_alive(&s), "a reaped pid is not alive");
	cr_assert_str_eq(rt_state_status(root, &s), "stopped");

	/* Same pid, different start time: someone else's process. */
	fill(&s, "c2", getpid());
	s.pid_start = 1;
	cr_assert_not(rt_state_alive(&s));
	(void)e;
}

Test(state, zombie_is_stopped)
{
	struct rt_state s;
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	usleep(100000);   /* now a zombie: not reaped yet */
	fill(&s, "z", p);
	cr_assert_not(rt_state_alive(&s));
	waitpid(p, NULL, 0);
}

Test(state, created_while_start_socket_exists)
{
	struct rt_err e = {0};
	struct rt_state s;
	char path[128];
	int fd = rt_state_create_dir(root, "c3", &e);

	close(fd);
	snprintf(path, sizeof(path), "%s/c3/start.sock", root);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	fill(&s, "c3", getpid());
	cr_assert_str_eq(rt_state_status(root, &s), "created");
	s.creating = true;
	cr_assert_str_eq(rt_state_status(root, &s), "creating");
}

Test(state, list_sorted_and_remove)
{
	struct rt_err e = {0};
	_cleanup_strv_ char **ids = NULL;
	const char *names[] = { "b", "a", "c" };

	for (int i = 0; i < 3; i++)
		close(rt_state_create_dir(root, names[i], &e));
	cr_assert_eq(rt_state_list(root, &ids, &e), 0);
	cr_assert_eq(rt_strv_len(ids), 3);
	cr_assert_str_eq(ids[0], "a");
	cr_assert_str_eq(ids[2], "c");
	cr_assert_eq(rt_state_remove(root, "b", &e), 0);
	cr_assert_eq(rt_state_remove(root, "b", &e), 0, "removing twice is fine");
	rt_strvfreep(&ids);
	ids = NULL;
	cr_assert_eq(rt_state_list(root, &ids, &e), 0);
	cr_assert_eq(rt_strv_len(ids), 2);
}

Test(state, killed_before_first_write_is_creating)
{
	struct rt_err e = {0};
	struct rt_state got;

	close(rt_state_create_dir(root, "half", &e));
	cr_assert_eq(rt_state_read(root, "half", &got, &e), 0);
	cr_assert(got.creating);
	cr_assert_eq(got.pid, 0);
	rt_state_clear(&got);
}

Test(state, hostile_state_file)
{
	struct rt_err e = {0};
	struct rt_state got;
	char path[128];
	int fd = rt_state_create_dir(root, "bad", &e);

	close(fd);
	snprintf(path, sizeof(path), "%s/bad/state.json", root);
	cr_assert_eq(rt_write_file_atomic(path, "{\"id\": 5", 8, 0600, &e), 0);
	cr_assert_lt(rt_state_read(root, "bad", &got, &e), 0);
	cr_assert(strstr(e.msg, "state.json"), "%s", e.msg);
	cr_assert_eq(rt_write_file_atomic(path, "{\"id\":\"other\",\"pid\":-5}", 24, 0600, &e), 0);
	cr_assert_lt(rt_state_read(root, "bad", &got, &e), 0, "another id is refused");
}

Test(state, oci_json_shape)
{
	struct rt_state s;
	char ebuf[128];
	const char *p_status[] = { "status", NULL }, *p_pid[] = { "pid", NULL };
	const char *p_ann[] = { "annotations", "org.example.k", NULL };

	fill(&s, "j", 1234);
	_cleanup_free_ char *json = rt_state_oci_json(&s, "running");
	yajl_val v = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	cr_assert_not_null(v, "%s", ebuf);
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_status, yajl_t_string)), "running");
	cr_assert_eq(YAJL_GET_INTEGER(yajl_tree_get(v, p_pid, yajl_t_number)), 1234);
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_ann, yajl_t_string)), "v \"quoted\"");
	yajl_tree_free(v);
	free(json);
	json = rt_state_oci_json(&s, "stopped");
	v = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	cr_assert_eq(YAJL_GET_INTEGER(yajl_tree_get(v, p_pid, yajl_t_number)), 0,
		     "no pid once stopped");
	yajl_tree_free(v);
}
