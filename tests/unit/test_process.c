/* Process setup (cpu lists, capabilities, user switch, attributes) and
 * hooks.  Anything that changes credentials runs in a forked child; the
 * tests run as root. */
#include "config.h"

#include <criterion/criterion.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/hooks.h"
#include "runtime/process.h"

#define BIT(c) (UINT64_C(1) << (c))

/* ---- helpers ---- */

/* Run fn in a child; fn returns 0 or the number of the failed check and
 * may print the reason on stderr. */
static void in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(fn());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed check %d", WEXITSTATUS(status));
}

/* A "Key:\t..." line of /proc/self/status, value copied into out. */
static int status_field(const char *key, char *out, size_t size)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			/* Groups ends in a space */
			for (size_t n = strlen(v); n > 0 && v[n - 1] == ' '; n--)
				v[n - 1] = '\0';
			snprintf(out, size, "%s", v);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static uint64_t status_caps(const char *key)
{
	char v[64];

	if (status_field(key, v, sizeof(v)) < 0)
		return UINT64_MAX;
	return strtoull(v, NULL, 16);
}

static int fail(int code, const struct rt_err *err)
{
	fprintf(stderr, "check %d: %s\n", code, err ? err->msg : "");
	return code;
}

/* ---- cpu lists ---- */

Test(cpulist, valid)
{
	cpu_set_t set;
	struct rt_err err = { 0 };
	int want[] = { 0, 1, 2, 3, 7, 9, 10 };

	cr_assert_eq(rt_parse_cpulist("0-3,7,9-10", &set, sizeof(set), &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&set), 7);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(CPU_ISSET(want[i], &set), "cpu %d not set", want[i]);
	cr_assert_not(CPU_ISSET(4, &set));

	cr_assert_eq(rt_parse_cpulist("5", &set, sizeof(set), &err), 0);
	cr_assert_eq(CPU_COUNT(&set), 1);
	cr_assert(CPU_ISSET(5, &set));

	/* sysfs lists end in a newline */
	cr_assert_eq(rt_parse_cpulist("0-1\n", &set, sizeof(set), &err), 0, "%s", err.msg);
	cr_assert_eq(CPU_COUNT(&set), 2);

	cr_assert_eq(rt_parse_cpulist("2-2", &set, sizeof(set), &err), 0);
	cr_assert_eq(CPU_COUNT(&set), 1);
}

Test(cpulist, invalid)
{
	const char *bad[] = { "", "a", "3-1", "1,", "1-", "-1", "1,,2", "1 2", "0x1", "1-2-3",
			      "4a", ",1" };
	unsigned long small[1];   /* 64 cpus */
	struct rt_err err = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rt_err_clear(&err);
		cr_assert_eq(rt_parse_cpulist(bad[i], small, sizeof(small), &err), -EINVAL,
			     "\"%s\" accepted", bad[i]);
		cr_assert(strstr(err.msg, "cpu list"), "message for \"%s\": %s", bad[i], err.msg);
	}
	cr_assert(strstr((rt_parse_cpulist("3-1", small, sizeof(small), &err), err.msg), "reversed"));
	cr_assert_eq(rt_parse_cpulist("63", small, sizeof(small), &err), 0);
	cr_assert_eq(rt_parse_cpulist("64", small, sizeof(small), &err), -EINVAL);
	cr_assert_eq(rt_parse_cpulist("0-99999999999999999999999", small, sizeof(small), &err),
		     -EINVAL);
}

/* ---- capabilities and user ---- */

Test(caps, all_matches_kernel)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &last), 1);
	fclose(f);
	cr_assert_eq(rt_caps_all(), last >= 63 ? UINT64_MAX : BIT(last + 1) - 1);
}

static int child_drop_net_raw(void)
{
	/* What this process holds, which may be less than rt_caps_all() when
	 * the tests themselves run in a container. */
	uint64_t all = status_caps("CapPrm");
	struct rt_caps caps = {
		.present = true,
		.bounding = all & ~BIT(CAP_NET_RAW),
		.effective = all, .permitted = all,
	};
	struct rt_err err = { 0 };

	if (rt_caps_apply(&caps, &err) < 0)
		return fail(1, &err);
	if (status_caps("CapBnd") != (all & ~BIT(CAP_NET_RAW)))
		return fail(2, NULL);
	if (status_caps("CapEff") != all)
		return fail(3, NULL);
	if (status_caps("CapInh") != 0)
		return fail(4, NULL);
	return 0;
}

Test(caps, drop_from_bounding) { in_child(child_drop_net_raw); }

static int child_switch_keep_kill(void)
{
	gid_t groups[] = { 2000, 2001 };
	struct rt_process p = {
		.user = { .uid = 1000, .gid = 1001, .has_umask = true, .umask = 027,
			  .additional_gids = groups, .n_additional_gids = 2 },
		.caps = { .present = true, .bounding = rt_caps_all(),
			  .effective = BIT(CAP_KILL), .permitted = BIT(CAP_KILL) },
	};
	uint64_t bnd = status_caps("CapBnd");
	struct rt_err err = { 0 };
	char v[128];

	if (rt_process_switch_user(&p, &err) < 0)
		return fail(1, &err);
	if (status_field("Uid", v, sizeof(v)) < 0 || strcmp(v, "1000\t1000\t1000\t1000") != 0)
		return fail(2, NULL);
	if (status_field("Gid", v, sizeof(v)) < 0 || strcmp(v, "1001\t1001\t1001\t1001") != 0)
		return fail(3, NULL);
	if (status_field("Groups", v, sizeof(v)) < 0 || strcmp(v, "2000 2001") != 0)
		return fail(4, NULL);
	if (status_caps("CapEff") != BIT(CAP_KILL) || status_caps("CapPrm") != BIT(CAP_KILL))
		return fail(5, NULL);
	if (status_caps("CapBnd") != bnd)
		return fail(6, NULL);
	if (umask(0) != 027)
		return fail(7, NULL);
	/* CAP_KILL works: signal 0 to init, owned by root. */
	if (kill(1, 0) < 0)
		return fail(8, NULL);
	return 0;
}

Test(user, switch_keeps_requested_caps) { in_child(child_switch_keep_kill); }

static int child_switch_ambient(void)
{
	uint64_t nbs = BIT(CAP_NET_BIND_SERVICE);
	struct rt_process p = {
		.user = { .uid = 1000, .gid = 1000 },
		.caps = { .present = true, .bounding = nbs, .effective = nbs, .permitted = nbs,
			  .inheritable = nbs, .ambient = nbs },
	};
	struct rt_err err = { 0 };

	if (rt_process_switch_user(&p, &err) < 0)
		return fail(1, &err);
	if (status_caps("CapAmb") != nbs || status_caps("CapBnd") != nbs)
		return fail(2, NULL);
	if (umask(0) != 0022)
		return fail(3, NULL);
	return 0;
}

Test(user, ambient_and_bounding) { in_child(child_switch_ambient); }

static int child_switch_no_caps_nonroot(void)
{
	struct rt_process p = { .user = { .uid = 1000, .gid = 1000 } };
	struct rt_err err = { 0 };
	char v[128];

	if (rt_process_switch_user(&p, &err) < 0)
		return fail(1, &err);
	if (status_caps("CapEff") != 0 || status_caps("CapPrm") != 0 || status_caps("CapAmb") != 0)
		return fail(2, NULL);
	/* No additionalGids: root's supplementary groups are gone. */
	if (status_field("Groups", v, sizeof(v)) < 0 || v[0] != '\0')
		return fail(3, NULL);
	return 0;
}

Test(user, nonroot_without_caps_has_none) { in_child(child_switch_no_caps_nonroot); }

static int child_switch_no_caps_root(void)
{
	struct rt_process p = { .user = { .uid = 0, .gid = 0 } };
	uint64_t before = status_caps("CapEff");
	struct rt_err err = { 0 };

	if (rt_process_switch_user(&p, &err) < 0)
		return fail(1, &err);
	if (status_caps("CapEff") != before || before == 0)
		return fail(2, NULL);
	return 0;
}

Test(user, root_without_caps_keeps_them) { in_child(child_switch_no_caps_root); }

static int child_ambient_not_inheritable(void)
{
	struct rt_caps caps = { .present = true, .bounding = rt_caps_all(),
				.effective = BIT(CAP_CHOWN), .permitted = BIT(CAP_CHOWN),
				.ambient = BIT(CAP_CHOWN) };
	struct rt_err err = { 0 };

	/* The runtime spec: a capability that cannot be granted is a warning
	 * (given by the planner), not a failure; it must not be raised. */
	if (rt_caps_apply(&caps, &err) < 0)
		return fail(1, &err);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) != 0)
		return fail(2, NULL);
	if (rt_caps_ambient_ungrantable(&caps) != BIT(CAP_CHOWN))
		return fail(3, NULL);
	return 0;
}

Test(caps, ambient_needs_inheritable) { in_child(child_ambient_not_inheritable); }

/* ---- attributes ---- */

static int child_attrs(void)
{
	struct rt_rlimit rl[] = { { RLIMIT_NOFILE, "RLIMIT_NOFILE", 100, 200 } };
	struct rt_process p = {
		.rlimits = rl, .n_rlimits = 1,
		.has_oom_score_adj = true, .oom_score_adj = 500,
		.io_priority = { .present = true, .class = 2, .priority = 3 },
		.scheduler = { .present = true, .policy = SCHED_BATCH, .nice = 5 },
		.exec_cpu_affinity_initial = "0",
	};
	struct rt_personality pers = { .present = true, .domain = PER_LINUX32 };
	const char *warning = "stale";
	struct rt_err err = { 0 };
	struct rlimit got;
	cpu_set_t set;
	char buf[32];
	FILE *f;

	if (rt_process_apply_attrs(&p, &pers, &warning, &err) < 0)
		return fail(1, &err);
	if (getrlimit(RLIMIT_NOFILE, &got) < 0 || got.rlim_cur != 100 || got.rlim_max != 200)
		return fail(2, NULL);
	f = fopen("/proc/self/oom_score_adj", "re");
	if (!f || !fgets(buf, sizeof(buf), f) || atoi(buf) != 500)
		return fail(3, NULL);
	fclose(f);
	if (syscall(SYS_ioprio_get, 1, 0) != ((2 << 13) | 3))
		return fail(4, NULL);
	if (sched_getscheduler(0) != SCHED_BATCH || getpriority(PRIO_PROCESS, 0) != 5)
		return fail(5, NULL);
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) != 1 ||
	    !CPU_ISSET(0, &set))
		return fail(6, NULL);
	if (personality(0xffffffff) != PER_LINUX32)
		return fail(7, NULL);
	if (warning != NULL)
		return fail(8, NULL);
	return 0;
}

Test(attrs, applied) { in_child(child_attrs); }

Test(attrs, rlimit_error_names_it)
{
	struct rt_rlimit rl[] = { { RLIMIT_NOFILE, "RLIMIT_NOFILE", 300, 200 } };
	struct rt_process p = { .rlimits = rl, .n_rlimits = 1 };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_process_apply_attrs(&p, NULL, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "RLIMIT_NOFILE"), "message: %s", err.msg);
}

Test(attrs, bad_affinity_names_field)
{
	struct rt_process p = { .exec_cpu_affinity_initial = "3-1" };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_process_apply_attrs(&p, NULL, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "execCPUAffinity.initial"), "message: %s", err.msg);
}

Test(attrs, lsm_warning_when_disabled)
{
	char buf[4] = "";
	FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
	struct rt_process p = { .apparmor_profile = "hull-test" };
	const char *warning = NULL;
	struct rt_err err = { 0 };

	if (f) {
		bool on = fgets(buf, sizeof(buf), f) && buf[0] == 'Y';

		fclose(f);
		if (on)
			cr_skip_test("AppArmor is enabled here");
	}
	cr_assert_eq(rt_process_apply_attrs(&p, NULL, &warning, &err), 0, "%s", err.msg);
	cr_assert_not_null(warning);
	cr_assert(strstr(warning, "apparmorProfile"), "warning: %s", warning);
}

/* ---- hooks ---- */

static char hook_dir[64];

static void hook_setup(void)
{
	strcpy(hook_dir, "/tmp/hull-test-hooks-XXXXXX");
	cr_assert_not_null(mkdtemp(hook_dir));
}

static void hook_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", hook_dir);
	(void)!system(cmd);
}

TestSuite(hooks, .init = hook_setup, .fini = hook_teardown);

static struct rt_arena *arena(void)
{
	static struct rt_arena *a;

	if (!a)
		a = rt_arena_new();
	return a;
}

/* A hook running /bin/sh -c script (script may use %s for the temp dir). */
static struct rt_hook sh_hook(const char *script, char **env, int timeout)
{
	char **args = rt_arena_array(arena(), 4, sizeof(char *));

	args[0] = "sh";
	args[1] = "-c";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	args[2] = rt_arena_printf(arena(), script, hook_dir, hook_dir);
#pragma GCC diagnostic pop
	return (struct rt_hook){ .path = "/bin/sh", .args = args, .env = env, .timeout = timeout };
}

static char *slurp(const char *name)
{
	static char buf[4096];
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", hook_dir, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *state = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42}";

Test(hooks, state_on_stdin)
{
	struct rt_hook h[] = { sh_hook("cat > %s/state", NULL, 5) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };
	char *got;

	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_PRESTART, state, &err), 0, "%s", err.msg);
	got = slurp("state");
	cr_assert_not_null(got);
	cr_assert_str_eq(got, state);
}

Test(hooks, env_and_args_passed)
{
	char *env[] = { "FOO=bar baz", "HULL_X=1", NULL };
	/* The shell's initial environ is exactly what execve passed. */
	struct rt_hook h[] = { sh_hook("tr '\\0' '\\n' < /proc/$$/environ > %s/env; echo \"$0\" >> %s/env",
				       env, 0) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_POSTSTART, state, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("env"), "FOO=bar baz\nHULL_X=1\nsh\n");
}

Test(hooks, no_args_means_path_as_argv0)
{
	char script[128];
	struct rt_hook h[1] = { { .path = script } };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };
	FILE *f;
	char expect[160];

	snprintf(script, sizeof(script), "%s/hook.sh", hook_dir);
	f = fopen(script, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\necho \"$0\" > \"$(dirname \"$0\")/argv0\"\n");
	fclose(f);
	cr_assert_eq(chmod(script, 0755), 0);
	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_CREATE_RUNTIME, state, &err), 0, "%s", err.msg);
	snprintf(expect, sizeof(expect), "%s\n", script);
	cr_assert_str_eq(slurp("argv0"), expect);
}

Test(hooks, failing_hook_stops_the_list)
{
	struct rt_hook h[] = {
		sh_hook("touch %s/first", NULL, 0),
		sh_hook("exit 3", NULL, 0),
		sh_hook("touch %s/third", NULL, 0),
	};
	struct rt_hook_list list = { h, 3 };
	struct rt_err err = { 0 };

	cr_assert_lt(rt_hooks_run(&list, RT_HOOK_PRESTART, state, &err), 0);
	cr_assert_str_eq(err.msg, "prestart hook #1 (/bin/sh) exited with status 3");
	cr_assert_not_null(slurp("first"));
	cr_assert_null(slurp("third"));
}

Test(hooks, failing_poststop_hook_does_not_stop_the_list)
{
	struct rt_hook h[] = {
		sh_hook("exit 3", NULL, 0),
		sh_hook("exit 4", NULL, 0),
		sh_hook("touch %s/third", NULL, 0),
	};
	struct rt_hook_list list = { h, 3 };
	struct rt_err err = { 0 };

	/* runtime.md: the remaining hooks run; the first failure is reported */
	cr_assert_lt(rt_hooks_run(&list, RT_HOOK_POSTSTOP, state, &err), 0);
	cr_assert_str_eq(err.msg, "poststop hook #0 (/bin/sh) exited with status 3");
	cr_assert_not_null(slurp("third"));
}

Test(hooks, killed_by_signal)
{
	struct rt_hook h[] = { sh_hook("kill -TERM $$", NULL, 0) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };

	cr_assert_lt(rt_hooks_run(&list, RT_HOOK_POSTSTOP, state, &err), 0);
	cr_assert_str_eq(err.msg, "poststop hook #0 (/bin/sh) killed by signal 15");
}

static double elapsed_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(hooks, timeout_kills)
{
	struct rt_hook h[] = { sh_hook("exec sleep 30", NULL, 1) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };
	struct timespec t0;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_lt(rt_hooks_run(&list, RT_HOOK_CREATE_CONTAINER, state, &err), 0);
	dt = elapsed_since(&t0);
	cr_assert_str_eq(err.msg, "createContainer hook #0 (/bin/sh) timed out after 1s");
	cr_assert(dt >= 0.9 && dt < 5, "took %.2fs", dt);
}

/* A state larger than a pipe buffer, and a hook that never reads it:
 * neither a blocked write nor SIGPIPE may get in the way. */
static char *big_state(void)
{
	size_t n = 1 << 20;
	char *s = rt_arena_alloc(arena(), n + 1);

	memset(s, ' ', n);
	s[0] = '{';
	s[n - 1] = '}';
	return s;
}

Test(hooks, timeout_with_unread_stdin)
{
	struct rt_hook h[] = { sh_hook("exec sleep 30", NULL, 1) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_lt(rt_hooks_run(&list, RT_HOOK_START_CONTAINER, big_state(), &err), 0);
	cr_assert(strstr(err.msg, "timed out after 1s"), "message: %s", err.msg);
	cr_assert_lt(elapsed_since(&t0), 5.0);
}

Test(hooks, unread_stdin_is_fine)
{
	struct rt_hook h[] = { sh_hook("exit 0", NULL, 5) };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_PRESTART, big_state(), &err), 0, "%s", err.msg);
}

Test(hooks, missing_executable)
{
	struct rt_hook h[] = { { .path = "/nonexistent/hull-hook" } };
	struct rt_hook_list list = { h, 1 };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_PRESTART, state, &err), -ENOENT);
	cr_assert(strstr(err.msg, "prestart hook #0 (/nonexistent/hull-hook)"), "message: %s",
		  err.msg);
}

Test(hooks, empty_list)
{
	struct rt_hook_list list = { NULL, 0 };
	struct rt_err err = { 0 };

	cr_assert_eq(rt_hooks_run(&list, RT_HOOK_PRESTART, state, &err), 0);
}

/* ---- what engines read: the executable check and the seccomp order ---- */

Test(process, check_exec_texts)
{
	struct rt_err err = {0};
	char dir[] = "/tmp/hull-ut-exec.XXXXXX";
	char path[128], envpath[160];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tool", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(envpath, sizeof(envpath), "PATH=/nonexistent:%s", dir);
	char *env[] = { envpath, NULL };

	cr_assert_eq(rt_process_check_exec("/no/such", env, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "exec: \"/no/such\": stat /no/such: no such file or directory");
	cr_assert_eq(rt_process_check_exec("nosuch", env, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "exec: \"nosuch\": executable file not found in $PATH");
	/* found on PATH but not executable */
	cr_assert_eq(rt_process_check_exec("tool", env, &err), -EACCES);
	cr_assert_str_eq(err.msg, "exec: \"tool\": permission denied");
	cr_assert_eq(rt_process_check_exec(dir, env, &err), -EACCES);
	chmod(path, 0755);
	cr_assert_eq(rt_process_check_exec("tool", env, &err), 0);
	cr_assert_eq(rt_process_check_exec(path, env, &err), 0);
	/* no PATH: execvp's default */
	char *noenv[] = { NULL };
	cr_assert_eq(rt_process_check_exec("sh", noenv, &err), 0);
	cr_assert_eq(rt_process_check_exec("tool", noenv, &err), -ENOENT);
	unlink(path);
	rmdir(dir);
}

Test(process, seccomp_before_caps)
{
	struct rt_process p = {0};

	/* root without a capabilities object keeps CAP_SYS_ADMIN: late load */
	cr_assert_not(rt_process_seccomp_before_caps(&p));
	p.no_new_privileges = false;
	p.caps.present = true;
	p.caps.effective = BIT(CAP_CHOWN) | BIT(CAP_KILL);
	cr_assert(rt_process_seccomp_before_caps(&p));
	p.caps.effective |= BIT(CAP_SYS_ADMIN);
	cr_assert_not(rt_process_seccomp_before_caps(&p));
	/* no_new_privs lets anyone load it, as late as possible */
	p.caps.effective = 0;
	p.no_new_privileges = true;
	cr_assert_not(rt_process_seccomp_before_caps(&p));
	p.no_new_privileges = false;
	p.caps.present = false;
	p.user.uid = 1000;
	cr_assert(rt_process_seccomp_before_caps(&p));
}
