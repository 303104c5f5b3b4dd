/* A stand-in for systemd's Manager on a private bus, for testing the
 * --systemd-cgroup driver where systemd is not PID 1.
 *
 *   fake_systemd LOGFILE     (bus: $DBUS_SYSTEM_BUS_ADDRESS)
 *
 * Owns org.freedesktop.systemd1 and answers StartTransientUnit (makes the
 * scope's cgroup in every mounted hierarchy and moves the PIDs there),
 * StopUnit (kills what is in it, removes what it made), ResetFailedUnit and
 * Subscribe, each followed by JobRemoved as systemd sends it.  Every call is
 * one line in LOGFILE ("ready" first), for the test to check.
 * FAKE_SYSTEMD_RESULT=failed makes start jobs end "failed" (and make nothing). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

struct unit {
	char name[256];
	char *dirs[64];         /* what we made, parents first */
	size_t ndirs;
	char *scopes[16];       /* the scope's dir in each hierarchy */
	size_t nscopes;
};

static FILE *logfile;
static struct unit units[32];
static size_t nunits;
static uint32_t next_job = 1;

static struct unit *find_unit(const char *name)
{
	for (size_t i = 0; i < nunits; i++)
		if (!strcmp(units[i].name, name))
			return &units[i];
	return NULL;
}

/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "". */
static void slice_path(const char *slice, char *buf, size_t sz)
{
	size_t len = 0;

	buf[0] = '\0';
	if (!strcmp(slice, "-.slice"))
		return;
	for (const char *d = slice; (d = strchr(d, '-')); d++)
		len += (size_t)snprintf(buf + len, sz - len, "/%.*s.slice", (int)(d - slice), slice);
	snprintf(buf + len, sz - len, "/%s", slice);
}

static void copy_if_empty(const char *dir, const char *file)
{
	char p[PATH_MAX + 64], parent[PATH_MAX], v[4096] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if ((f = fopen(p, "re"))) {
		if (fgets(v, sizeof(v), f) && v[0] != '\n') {
			fclose(f);
			return;
		}
		fclose(f);
	} else {
		return;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	snprintf(p, sizeof(p), "%s/%s", parent, file);
	if (!(f = fopen(p, "re")) || !fgets(v, sizeof(v), f)) {
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if ((f = fopen(p, "we"))) {
		fputs(v, f);
		fclose(f);
	}
}

/* mkdir -p mnt+path, remembering what we made. */
static int make_dirs(struct unit *u, const char *mnt, const char *path)
{
	char p[PATH_MAX];
	size_t ml = (size_t)snprintf(p, sizeof(p), "%s%s", mnt, path);

	for (char *c = p + strlen(mnt) + 1; c <= p + ml; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char save = *c;
		*c = '\0';
		if (mkdir(p, 0755) == 0) {
			if (u->ndirs < 64)
				u->dirs[u->ndirs++] = strdup(p);
			copy_if_empty(p, "cpuset.cpus");
			copy_if_empty(p, "cpuset.mems");
		} else if (errno != EEXIST) {
			return -errno;
		}
		*c = save;
	}
	if (u->nscopes < 16)
		u->scopes[u->nscopes++] = strdup(p);
	return 0;
}

static int write_pid(const char *dir, uint32_t pid)
{
	char p[PATH_MAX];
	FILE *f;
	int r = 0;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	if (!(f = fopen(p, "we")))
		return -errno;
	if (fprintf(f, "%u", pid) < 0 || fflush(f) != 0)
		r = -errno;
	fclose(f);
	return r;
}

/* Every cgroup mount of a whole hierarchy (mount root "/"). */
static int make_scope(struct unit *u, const char *cgpath, const uint32_t *pids, size_t npids)
{
	FILE *mi = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int r = 0;

	if (!mi)
		return -errno;
	while (r == 0 && fgets(line, sizeof(line), mi)) {
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		if ((strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2")) || strcmp(root, "/"))
			continue;
		if ((r = make_dirs(u, mnt, cgpath)) < 0)
			break;
		for (size_t i = 0; i < npids && r == 0; i++)
			r = write_pid(u->scopes[u->nscopes - 1], pids[i]);
	}
	fclose(mi);
	return r;
}

static void new_job(char *job, size_t sz)
{
	snprintf(job, sz, SD_PATH "/job/%u", next_job++);
}

static int emit_removed(sd_bus *bus, const char *job, const char *unit, const char *result)
{
	uint32_t id = (uint32_t)strtoul(strrchr(job, '/') + 1, NULL, 10);

	return sd_bus_emit_signal(bus, SD_PATH, SD_MANAGER, "JobRemoved", "uoss", id, job, unit,
				  result);
}

struct props {
	char slice[256], desc[256];
	int delegate;
	uint32_t pids[16];
	size_t npids;
};

static int read_prop(sd_bus_message *m, struct props *p)
{
	const char *key, *contents, *s;
	char type;
	int r, b;

	if ((r = sd_bus_message_read(m, "s", &key)) < 0 ||
	    (r = sd_bus_message_peek_type(m, &type, &contents)) < 0 ||
	    (r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
		return r;
	if (!strcmp(key, "Slice") && !strcmp(contents, "s")) {
		if ((r = sd_bus_message_read(m, "s", &s)) >= 0)
			snprintf(p->slice, sizeof(p->slice), "%s", s);
	} else if (!strcmp(key, "Description") && !strcmp(contents, "s")) {
		if ((r = sd_bus_message_read(m, "s", &s)) >= 0)
			snprintf(p->desc, sizeof(p->desc), "%s", s);
	} else if (!strcmp(key, "Delegate") && !strcmp(contents, "b")) {
		if ((r = sd_bus_message_read(m, "b", &b)) >= 0)
			p->delegate = b;
	} else if (!strcmp(key, "PIDs") && !strcmp(contents, "au")) {
		uint32_t pid;

		if ((r = sd_bus_message_enter_container(m, 'a', "u")) < 0)
			return r;
		while ((r = sd_bus_message_read(m, "u", &pid)) > 0)
			if (p->npids < 16)
				p->pids[p->npids++] = pid;
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	} else {
		r = sd_bus_message_skip(m, contents);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int start_unit(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	const char *name, *mode;
	const char *result = getenv("FAKE_SYSTEMD_RESULT");
	struct props p = { .delegate = -1 };
	char cg[PATH_MAX], job[128], pids[256] = "";
	struct unit *u;
	int r;

	if ((r = sd_bus_message_read(m, "ss", &name, &mode)) < 0 ||
	    (r = sd_bus_message_enter_container(m, 'a', "(sv)")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
		if ((r = read_prop(m, &p)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
	    (r = sd_bus_message_skip(m, "a(sa(sv))")) < 0)
		return r;
	for (size_t i = 0, l = 0; i < p.npids; i++)
		l += (size_t)snprintf(pids + l, sizeof(pids) - l, "%s%u", i ? "," : "", p.pids[i]);
	fprintf(logfile, "start unit=%s mode=%s slice=%s delegate=%d pids=%s desc=%s\n", name, mode,
		p.slice, p.delegate, pids, p.desc);
	if (find_unit(name) || nunits == 32)
		return sd_bus_error_setf(e, "org.freedesktop.systemd1.UnitExists",
					 "Unit %s already exists.", name);
	result = result ? result : "done";
	new_job(job, sizeof(job));
	if (!strcmp(result, "done")) {
		u = &units[nunits++];
		snprintf(u->name, sizeof(u->name), "%s", name);
		slice_path(p.slice[0] ? p.slice : "-.slice", cg, sizeof(cg));
		snprintf(cg + strlen(cg), sizeof(cg) - strlen(cg), "/%s", name);
		if ((r = make_scope(u, cg, p.pids, p.npids)) < 0)
			return sd_bus_error_set_errnof(e, -r, "cannot make %s: %s", cg, strerror(-r));
	}
	if ((r = sd_bus_reply_method_return(m, "o", job)) < 0)
		return r;
	emit_removed(sd_bus_message_get_bus(m), job, name, result);
	return 1;
}

static void kill_and_remove(struct unit *u)
{
	for (size_t i = 0; i < u->nscopes; i++) {
		char p[PATH_MAX];
		FILE *f;
		int pid;

		snprintf(p, sizeof(p), "%s/cgroup.procs", u->scopes[i]);
		if ((f = fopen(p, "re"))) {
			while (fscanf(f, "%d", &pid) == 1)
				kill(pid, SIGKILL);
			fclose(f);
		}
	}
	for (size_t i = 0; i < u->nscopes; i++)
		for (int t = 0; t < 200 && rmdir(u->scopes[i]) < 0 && errno == EBUSY; t++)
			usleep(10000);
	for (size_t i = u->ndirs; i-- > 0;)
		rmdir(u->dirs[i]);    /* parents others use stay */
	for (size_t i = 0; i < u->nscopes; i++)
		free(u->scopes[i]);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i]);
	*u = units[--nunits];
}

static int stop_unit(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	const char *name, *mode;
	char job[128];
	struct unit *u;
	int r;

	if ((r = sd_bus_message_read(m, "ss", &name, &mode)) < 0)
		return r;
	fprintf(logfile, "stop unit=%s mode=%s\n", name, mode);
	if (!(u = find_unit(name)))
		return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit",
					 "Unit %s not loaded.", name);
	kill_and_remove(u);
	new_job(job, sizeof(job));
	if ((r = sd_bus_reply_method_return(m, "o", job)) < 0)
		return r;
	emit_removed(sd_bus_message_get_bus(m), job, name, "done");
	return 1;
}

static int reset_failed(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	const char *name;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0)
		return r;
	fprintf(logfile, "reset-failed unit=%s\n", name);
	return sd_bus_reply_method_return(m, "");
}

static int subscribe(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", start_unit, 0),
	SD_BUS_METHOD("StopUnit", "ss", "o", stop_unit, 0),
	SD_BUS_METHOD("ResetFailedUnit", "s", "", reset_failed, 0),
	SD_BUS_METHOD("Subscribe", "", "", subscribe, 0),
	SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
	SD_BUS_VTABLE_END
};

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: fake_systemd LOGFILE\n");
		return 2;
	}
	if (!(logfile = fopen(argv[1], "ae"))) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(logfile, NULL, _IOLBF, 0);
	if ((r = sd_bus_open_system(&bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, SD_PATH, SD_MANAGER, manager_vtable,
					  NULL)) < 0 ||
	    (r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0)) < 0) {
		fprintf(stderr, "fake_systemd: %s\n", strerror(-r));
		return 1;
	}
	fprintf(logfile, "ready\n");
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			fprintf(stderr, "fake_systemd: %s\n", strerror(-r));
			return 1;
		}
		if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
			return 1;
	}
}
