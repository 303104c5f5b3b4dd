#include "config.h"
/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a
 * transient scope unit that systemd creates through its D-Bus API, so that
 * systemd, which owns the cgroup tree on such hosts, knows about it and does
 * not move the container's processes back.  hull then applies
 * linux.resources in the delegated cgroup itself, as with cgroupfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"
#include "runtime/lazylib.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
#endif

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_JOB_TIMEOUT_USEC (10ULL * 1000 * 1000)

bool cg_systemd_running(void)
{
	const char *force = getenv("HULL_SYSTEMD_FORCE");

	if (access("/run/systemd/system", F_OK) == 0)
		return true;
	/* Test hook: a private bus with a stand-in systemd on it. */
	return force && !strcmp(force, "1") && getenv("DBUS_SYSTEM_BUS_ADDRESS");
}

int cg_systemd_names(const char *cgroup_path, char **slice, char **unit, struct rt_err *err)
{
	_cleanup_free_ char *copy = cgroup_path ? strdup(cgroup_path) : NULL;
	char *u, *s;

	*slice = *unit = NULL;
	if (cgroup_path && !copy)
		return rt_err_set(err, ENOMEM, "out of memory");
	u = copy ? strrchr(copy, '/') : NULL;
	if (!u || strlen(u + 1) <= strlen(".scope") || !ends_with(u + 1, ".scope"))
		return rt_err_set(err, EINVAL, "cgroup path \"%s\" is not a systemd scope",
				  cgroup_path ? cgroup_path : "");
	*u++ = '\0';
	/* The slice is the scope's parent; a scope at the root is in "-.slice". */
	s = strrchr(copy, '/');
	s = s ? s + 1 : (char *)"-.slice";
	if (!ends_with(s, ".slice"))
		return rt_err_set(err, EINVAL, "cgroup path \"%s\": \"%s\" is not a slice",
				  cgroup_path, s);
	*slice = strdup(s);
	*unit = strdup(u);
	if (!*slice || !*unit) {
		free(steal_ptr(*slice)), free(steal_ptr(*unit));
		return rt_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

#ifdef HAVE_LIBSYSTEMD

/* NULL-checked here: after a failed load the table is empty. */
static void bus_unrefp(sd_bus **b) { if (*b) LS.bus_flush_close_unref(*b); }
static void msg_unrefp(sd_bus_message **m) { if (*m) LS.bus_message_unref(*m); }
static void slot_unrefp(sd_bus_slot **s) { if (*s) LS.bus_slot_unref(*s); }
#define _cleanup_bus_ _cleanup_(bus_unrefp)
#define _cleanup_msg_ _cleanup_(msg_unrefp)
#define _cleanup_slot_ _cleanup_(slot_unrefp)

/* JobRemoved signals seen so far: the job's path is only known once the
 * call returns, and its signal may already be queued by then. */
struct job_watch {
	char seen[8][256];
	char result[8][32];
	unsigned n;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct job_watch *w = userdata;
	const char *job, *unit, *result;
	uint32_t id;

	if (LS.bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
		return 0;
	snprintf(w->seen[w->n % 8], sizeof(w->seen[0]), "%s", job);
	snprintf(w->result[w->n % 8], sizeof(w->result[0]), "%s", result);
	w->n++;
	return 0;
}

static const char *job_result(const struct job_watch *w, const char *job)
{
	for (unsigned i = 0; i < w->n && i < 8; i++)
		if (!strcmp(w->seen[i], job))
			return w->result[i];
	return NULL;
}

static int bus_open(sd_bus **bus, struct rt_err *err)
{
	const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	int r;

	/* dlopen()ed here, not linked: only this driver needs libsystemd. */
	if (lazy_systemd_load(err) < 0)
		return rt_err_wrap(err, "systemd");
	r = LS.bus_open_system(bus);
	if (r < 0)
		return rt_err_set(err, -r, "systemd: cannot connect to the system bus (%s): %s",
				  addr ? addr : "/run/dbus/system_bus_socket", strerror(-r));
	return 0;
}

/* Watch JobRemoved before calling, and subscribe so that systemd sends it
 * (recent systemd sends it to the job's requester anyway). */
static int watch_jobs(sd_bus *bus, struct job_watch *w, sd_bus_slot **slot, struct rt_err *err)
{
	int r = LS.bus_match_signal(bus, slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
				    on_job_removed, w);

	if (r < 0)
		return rt_err_set(err, -r, "systemd: watch JobRemoved: %s", strerror(-r));
	LS.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int wait_job(sd_bus *bus, struct job_watch *w, const char *job, const char *what,
		    const char *unit, struct rt_err *err)
{
	uint64_t start, now;
	const char *res;
	int r;

	start = now_usec();
	for (;;) {
		while ((r = LS.bus_process(bus, NULL)) > 0)
			;
		if (r < 0)
			return rt_err_set(err, -r, "systemd: %s %s: %s", what, unit, strerror(-r));
		if ((res = job_result(w, job))) {
			if (strcmp(res, "done"))
				return rt_err_set(err, EIO, "systemd: %s %s: the job ended \"%s\", not "
						  "\"done\"", what, unit, res);
			return 0;
		}
		now = now_usec();
		if (now - start >= SD_JOB_TIMEOUT_USEC)
			return rt_err_set(err, ETIMEDOUT, "systemd: %s %s: no answer for job %s "
					  "within 10 s", what, unit, job);
		r = LS.bus_wait(bus, SD_JOB_TIMEOUT_USEC - (now - start));
		if (r < 0)
			return rt_err_set(err, -r, "systemd: %s %s: %s", what, unit, strerror(-r));
	}
}

static int append_props(sd_bus_message *m, const char *slice, const char *id, pid_t pid)
{
	char desc[256];
	int r;

	snprintf(desc, sizeof(desc), "hull container %s", id ? id : "");
	if ((r = LS.bus_message_open_container(m, 'a', "(sv)")) < 0 ||
	    (r = LS.bus_message_append(m, "(sv)", "Description", "s", desc)) < 0 ||
	    (r = LS.bus_message_append(m, "(sv)", "Slice", "s", slice)) < 0 ||
	    (r = LS.bus_message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
	    (r = LS.bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid)) < 0 ||
	    (r = LS.bus_message_close_container(m)) < 0)
		return r;
	/* no auxiliary units */
	return LS.bus_message_append(m, "a(sa(sv))", 0);
}

int cg_systemd_start(const char *slice, const char *unit, const char *id, pid_t pid,
		     struct rt_err *err)
{
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_slot_ sd_bus_slot *slot = NULL;
	_cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct job_watch w = {0};
	const char *job;
	int r;

	if (bus_open(&bus, err) < 0 || watch_jobs(bus, &w, &slot, err) < 0)
		return -err->code;
	if ((r = LS.bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
						"StartTransientUnit")) < 0 ||
	    (r = LS.bus_message_append(m, "ss", unit, "replace")) < 0 ||
	    (r = append_props(m, slice, id, pid)) < 0)
		return rt_err_set(err, -r, "systemd: build StartTransientUnit: %s", strerror(-r));
	if ((r = LS.bus_call(bus, m, SD_JOB_TIMEOUT_USEC, &e, &reply)) < 0) {
		rt_err_set(err, -r, "systemd: start unit %s in %s: %s", unit, slice,
			   e.message ? e.message : strerror(-r));
		LS.bus_error_free(&e);
		return -err->code;
	}
	if ((r = LS.bus_message_read(reply, "o", &job)) < 0)
		return rt_err_set(err, -r, "systemd: start unit %s: bad reply: %s", unit,
				  strerror(-r));
	return wait_job(bus, &w, job, "start unit", unit, err);
}

int cg_systemd_stop(const char *unit, struct rt_err *err)
{
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_slot_ sd_bus_slot *slot = NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct job_watch w = {0};
	const char *job;
	int r;

	if (bus_open(&bus, err) < 0 || watch_jobs(bus, &w, &slot, err) < 0)
		return -err->code;
	r = LS.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", &e, &reply, "ss",
			       unit, "replace");
	if (r < 0) {
		/* Gone already (its processes exited and systemd collected it). */
		bool gone = LS.bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit");

		if (!gone)
			rt_err_set(err, -r, "systemd: stop unit %s: %s", unit,
				   e.message ? e.message : strerror(-r));
		LS.bus_error_free(&e);
		return gone ? 0 : -err->code;
	}
	if ((r = LS.bus_message_read(reply, "o", &job)) < 0)
		return rt_err_set(err, -r, "systemd: stop unit %s: bad reply: %s", unit,
				  strerror(-r));
	r = wait_job(bus, &w, job, "stop unit", unit, err);
	/* A scope whose processes were killed ends "failed"; forget that. */
	LS.bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s",
			   unit);
	return r;
}

#else /* !HAVE_LIBSYSTEMD */

int cg_systemd_start(const char *slice, const char *unit, const char *id, pid_t pid,
		     struct rt_err *err)
{
	return rt_err_set(err, ENOTSUP, "--systemd-cgroup: hull was built without libsystemd, "
			  "so it cannot ask systemd for the scope %s; use the cgroupfs driver", unit);
}

int cg_systemd_stop(const char *unit, struct rt_err *err)
{
	return rt_err_set(err, ENOTSUP, "--systemd-cgroup: hull was built without libsystemd, "
			  "so it cannot stop the scope %s", unit);
}

#endif
