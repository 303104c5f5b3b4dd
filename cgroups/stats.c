#include "config.h"
/* Cgroups: the counters `hull events` reports, v1 or v2 per controller (in
 * hybrid mode a controller is read where it is mounted), and the OOM
 * notification fd.  Units are runc's: nanoseconds and bytes.  A file the
 * kernel does not have leaves its field at 0: stats are best effort, only
 * a cgroup that is gone is an error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

void cg_stats_clear(struct cg_stats *s)
{
	for (size_t i = 0; i < s->n_mem_raw; i++)
		free(s->mem_raw[i].key);
	for (size_t i = 0; i < s->n_hugetlb; i++)
		free(s->hugetlb[i].page_size);
	free(s->mem_raw);
	free(s->cpu_percpu);
	free(s->io_bytes);
	free(s->io_ops);
	free(s->hugetlb);
	memset(s, 0, sizeof(*s));
}

/* A number or "max" (UINT64_MAX); anything else is 0. */
static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	if (!strncmp(s, "max", 3))
		return UINT64_MAX;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || end == s || s[0] == '-' ? 0 : (uint64_t)v;
}

static uint64_t read_u64(const char *dir, const char *file)
{
	_cleanup_free_ char *buf = NULL;

	return cg_read(dir, file, &buf) < 0 ? 0 : parse_u64(buf);
}

int cg_parse_kv_lines(const char *text, struct cg_stat_kv **out, size_t *n)
{
	struct cg_stat_kv *v = NULL;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n'), *sp = memchr(p, ' ', (size_t)(eol - p));

		if (sp && sp > p) {
			struct cg_stat_kv *nv = realloc(v, (cnt + 1) * sizeof(*v));

			if (!nv || !(nv[cnt].key = strndup(p, (size_t)(sp - p)))) {
				for (size_t i = 0; nv && i < cnt; i++)
					free(nv[i].key);
				free(nv ? nv : v);
				return -ENOMEM;
			}
			v = nv;
			v[cnt++].value = parse_u64(sp + 1);
		}
		p = *eol ? eol + 1 : eol;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static uint64_t kv_get(const struct cg_stat_kv *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return v[i].value;
	return 0;
}

/* Read dir/file as "key value" lines and pick keys out of it. */
static uint64_t file_kv(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *buf = NULL;
	struct cg_stat_kv *v = NULL;
	size_t n = 0;
	uint64_t r;

	if (cg_read(dir, file, &buf) < 0 || cg_parse_kv_lines(buf, &v, &n) < 0)
		return 0;
	r = kv_get(v, n, key);
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return r;
}

/* ------------------------------------------------------------------ cpu */

static void cpu_v1(struct cg_handle *h, struct cg_stats *s)
{
	struct cg_dir *acct = cg_ctrl_dir(h, "cpuacct"), *cpu = cg_ctrl_dir(h, "cpu");
	_cleanup_free_ char *percpu = NULL;
	long hz = sysconf(_SC_CLK_TCK);

	if (cpu && !cpu->v2) {
		s->cpu_periods = file_kv(cpu->path, "cpu.stat", "nr_periods");
		s->cpu_throttled_periods = file_kv(cpu->path, "cpu.stat", "nr_throttled");
		s->cpu_throttled_time = file_kv(cpu->path, "cpu.stat", "throttled_time");
	}
	if (!acct || acct->v2)
		return;
	s->cpu_total = read_u64(acct->path, "cpuacct.usage");
	/* cpuacct.stat counts USER_HZ ticks. */
	if (hz <= 0)
		hz = 100;
	s->cpu_user = file_kv(acct->path, "cpuacct.stat", "user") * (1000000000ull / (uint64_t)hz);
	s->cpu_kernel = file_kv(acct->path, "cpuacct.stat", "system") * (1000000000ull / (uint64_t)hz);
	if (cg_read(acct->path, "cpuacct.usage_percpu", &percpu) < 0)
		return;
	for (char *tok = strtok(percpu, " \n"); tok; tok = strtok(NULL, " \n")) {
		uint64_t *nv = realloc(s->cpu_percpu, (s->n_cpu_percpu + 1) * sizeof(*nv));

		if (!nv)
			return;
		s->cpu_percpu = nv;
		s->cpu_percpu[s->n_cpu_percpu++] = parse_u64(tok);
	}
}

static void cpu_v2(const char *d, struct cg_stats *s)
{
	_cleanup_free_ char *buf = NULL;
	struct cg_stat_kv *v = NULL;
	size_t n = 0;

	if (cg_read(d, "cpu.stat", &buf) < 0 || cg_parse_kv_lines(buf, &v, &n) < 0)
		return;
	s->cpu_total = kv_get(v, n, "usage_usec") * 1000;
	s->cpu_user = kv_get(v, n, "user_usec") * 1000;
	s->cpu_kernel = kv_get(v, n, "system_usec") * 1000;
	s->cpu_periods = kv_get(v, n, "nr_periods");
	s->cpu_throttled_periods = kv_get(v, n, "nr_throttled");
	s->cpu_throttled_time = kv_get(v, n, "throttled_usec") * 1000;
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

/* --------------------------------------------------------------- memory */

static void mem_entry_v1(const char *d, const char *prefix, struct cg_mem_entry *e)
{
	char f[96];

	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	e->usage = read_u64(d, f);
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	e->max = read_u64(d, f);
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	e->failcnt = read_u64(d, f);
	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	e->limit = read_u64(d, f);
}

static void mem_raw(const char *d, struct cg_stats *s)
{
	_cleanup_free_ char *buf = NULL;

	if (cg_read(d, "memory.stat", &buf) == 0)
		cg_parse_kv_lines(buf, &s->mem_raw, &s->n_mem_raw);
}

static void memory_v1(const char *d, struct cg_stats *s)
{
	mem_entry_v1(d, "memory", &s->mem_usage);
	mem_entry_v1(d, "memory.memsw", &s->mem_swap);
	mem_entry_v1(d, "memory.kmem", &s->mem_kernel);
	mem_entry_v1(d, "memory.kmem.tcp", &s->mem_kernel_tcp);
	s->mem_use_hierarchy = read_u64(d, "memory.use_hierarchy") == 1;
	s->oom_kill = file_kv(d, "memory.oom_control", "oom_kill");
	mem_raw(d, s);
	s->mem_cache = kv_get(s->mem_raw, s->n_mem_raw, "cache");
}

static void memory_v2(const char *d, struct cg_stats *s)
{
	s->mem_usage.usage = read_u64(d, "memory.current");
	s->mem_usage.max = read_u64(d, "memory.peak");
	s->mem_usage.limit = read_u64(d, "memory.max");
	s->mem_usage.failcnt = file_kv(d, "memory.events", "max");
	s->mem_swap.usage = read_u64(d, "memory.swap.current");
	s->mem_swap.max = read_u64(d, "memory.swap.peak");
	s->mem_swap.limit = read_u64(d, "memory.swap.max");
	s->mem_swap.failcnt = file_kv(d, "memory.swap.events", "fail");
	s->oom_kill = file_kv(d, "memory.events", "oom_kill");
	s->mem_use_hierarchy = true;
	mem_raw(d, s);
	s->mem_cache = kv_get(s->mem_raw, s->n_mem_raw, "file");
}

/* ------------------------------------------------------- blkio, hugetlb */

static int push_io(struct cg_blkio_entry **v, size_t *n, uint64_t maj, uint64_t min,
		   const char *op, uint64_t val)
{
	struct cg_blkio_entry *nv;

	if (!v)
		return 0;
	if (!(nv = realloc(*v, (*n + 1) * sizeof(*nv))))
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (struct cg_blkio_entry){ maj, min, op, val };
	return 0;
}

static const char *const io_ops_v1[] = { "Read", "Write", "Sync", "Async", "Discard", "Total" };

static const char *v1_op(const char *tok)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(io_ops_v1); i++)
		if (!strcmp(tok, io_ops_v1[i]))
			return io_ops_v1[i];
	return NULL;
}

/* v2 "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." */
static int io_line_v2(char *line, struct cg_blkio_entry **b, size_t *nb,
		      struct cg_blkio_entry **o, size_t *no)
{
	static const struct { const char *key, *op; bool bytes; } keys[] = {
		{ "rbytes=", "Read", true }, { "wbytes=", "Write", true },
		{ "rios=", "Read", false }, { "wios=", "Write", false },
	};
	unsigned long long maj, min;
	char *save = NULL, *tok = strtok_r(line, " ", &save);

	if (!tok || sscanf(tok, "%llu:%llu", &maj, &min) != 2)
		return 0;
	while ((tok = strtok_r(NULL, " ", &save))) {
		for (size_t i = 0; i < RT_ARRAY_SIZE(keys); i++) {
			size_t kl = strlen(keys[i].key);
			int r;

			if (strncmp(tok, keys[i].key, kl))
				continue;
			r = keys[i].bytes ? push_io(b, nb, maj, min, keys[i].op, parse_u64(tok + kl))
					  : push_io(o, no, maj, min, keys[i].op, parse_u64(tok + kl));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int cg_parse_io_stat(const char *text, bool v2, struct cg_blkio_entry **bytes, size_t *n_bytes,
		     struct cg_blkio_entry **ops, size_t *n_ops)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long maj, min, val;
		char op[16];
		const char *known;
		int r;

		if (v2) {
			if ((r = io_line_v2(line, bytes, n_bytes, ops, n_ops)) < 0)
				return r;
			continue;
		}
		/* v1 "8:0 Read 4096"; the lone "Total N" line has no device. */
		if (sscanf(line, "%llu:%llu %15s %llu", &maj, &min, op, &val) == 4 &&
		    (known = v1_op(op)) && push_io(bytes, n_bytes, maj, min, known, val) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void blkio(struct cg_handle *h, struct cg_stats *s)
{
	static const char *const bytes_files[] = { "blkio.io_service_bytes_recursive",
						   "blkio.throttle.io_service_bytes_recursive" };
	static const char *const ops_files[] = { "blkio.io_serviced_recursive",
						 "blkio.throttle.io_serviced_recursive" };
	struct cg_dir *d = cg_ctrl_dir(h, "blkio");
	_cleanup_free_ char *buf = NULL;

	if (!d && !(d = cg_ctrl_dir(h, "io")))
		return;
	if (d->v2) {
		if (cg_read(d->path, "io.stat", &buf) == 0)
			cg_parse_io_stat(buf, true, &s->io_bytes, &s->n_io_bytes, &s->io_ops,
					 &s->n_io_ops);
		return;
	}
	/* The CFQ files exist but stay empty on blk-mq kernels: fall through. */
	for (size_t i = 0; i < RT_ARRAY_SIZE(bytes_files) && !s->n_io_bytes; i++) {
		_cleanup_free_ char *b = NULL, *o = NULL;

		if (cg_read(d->path, bytes_files[i], &b) == 0)
			cg_parse_io_stat(b, false, &s->io_bytes, &s->n_io_bytes, NULL, NULL);
		if (cg_read(d->path, ops_files[i], &o) == 0)
			cg_parse_io_stat(o, false, &s->io_ops, &s->n_io_ops, NULL, NULL);
	}
}

/* "hugepages-2048kB" (sysfs) -> "2MB" (the cgroup file infix). */
static char *hugepage_name(const char *sysfs)
{
	unsigned long kb;
	char *out = NULL;

	if (sscanf(sysfs, "hugepages-%lukB", &kb) != 1)
		return NULL;
	if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
		return asprintf(&out, "%luGB", kb / (1024 * 1024)) < 0 ? NULL : out;
	if (kb >= 1024 && kb % 1024 == 0)
		return asprintf(&out, "%luMB", kb / 1024) < 0 ? NULL : out;
	return asprintf(&out, "%luKB", kb) < 0 ? NULL : out;
}

static void hugetlb_one(const struct cg_dir *d, char *name, struct cg_stats *s)
{
	struct cg_hugetlb_entry *nv = realloc(s->hugetlb, (s->n_hugetlb + 1) * sizeof(*nv));
	struct cg_hugetlb_entry *e;
	char f[128];

	if (!nv) {
		free(name);
		return;
	}
	s->hugetlb = nv;
	e = &nv[s->n_hugetlb++];
	e->page_size = name;
	snprintf(f, sizeof(f), d->v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes", name);
	e->usage = read_u64(d->path, f);
	snprintf(f, sizeof(f), d->v2 ? "hugetlb.%s.max" : "hugetlb.%s.max_usage_in_bytes", name);
	e->max = d->v2 ? 0 : read_u64(d->path, f);
	snprintf(f, sizeof(f), d->v2 ? "hugetlb.%s.events" : "hugetlb.%s.failcnt", name);
	e->failcnt = d->v2 ? file_kv(d->path, f, "max") : read_u64(d->path, f);
}

static void hugetlb(struct cg_handle *h, struct cg_stats *s)
{
	struct cg_dir *d = cg_ctrl_dir(h, "hugetlb");
	DIR *dir;
	struct dirent *e;

	if (!d || !(dir = opendir("/sys/kernel/mm/hugepages")))
		return;
	while ((e = readdir(dir))) {
		char *name = hugepage_name(e->d_name);

		if (name)
			hugetlb_one(d, name, s);
	}
	closedir(dir);
}

/* ------------------------------------------------------------ the verb */

int cg_stats(struct cg_handle *h, struct cg_stats *s, struct rt_err *err)
{
	struct cg_dir *cpu = cg_ctrl_dir(h, "cpu"), *mem = cg_ctrl_dir(h, "memory");
	struct cg_dir *pids = cg_ctrl_dir(h, "pids");

	memset(s, 0, sizeof(*s));
	/* The one hard error: the container's cgroup is gone. */
	if (h->n && !cg_file_exists(h->dirs[0].path, "cgroup.procs"))
		return rt_err_set(err, ENOENT, "cgroup %s: no such cgroup", h->path);
	if (cpu && cpu->v2)
		cpu_v2(cpu->path, s);
	else
		cpu_v1(h, s);
	if (mem)
		mem->v2 ? memory_v2(mem->path, s) : memory_v1(mem->path, s);
	if (pids) {
		s->pids_current = read_u64(pids->path, "pids.current");
		s->pids_limit = read_u64(pids->path, "pids.max");
		if (s->pids_limit == UINT64_MAX)
			s->pids_limit = 0;
	}
	blkio(h, s);
	hugetlb(h, s);
	return 0;
}

/* ------------------------------------------------------------------ OOM */

/* OOM kills so far; *counted is false on kernels without the counter. */
static uint64_t oom_count(struct cg_dir *d, bool *counted)
{
	_cleanup_free_ char *buf = NULL;
	struct cg_stat_kv *v = NULL;
	size_t n = 0;
	uint64_t r = 0;

	*counted = false;
	if (cg_read(d->path, d->v2 ? "memory.events" : "memory.oom_control", &buf) < 0 ||
	    cg_parse_kv_lines(buf, &v, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].key, "oom_kill")) {
			*counted = true;
			r = v[i].value;
		}
		free(v[i].key);
	}
	free(v);
	return r;
}

static int oom_watch_v1(struct cg_dir *d, int *fd, struct rt_err *err)
{
	_cleanup_close_ int efd = -1, ctl = -1;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/memory.oom_control", d->path);
	if ((ctl = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rt_err_sys(err, errno, "open %s", path);
	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return rt_err_sys(err, errno, "eventfd");
	/* The registration lives as long as efd; ctl may be closed after. */
	if (cg_writef(d->path, "cgroup.event_control", err, "%d %d", efd, ctl) < 0)
		return -err->code;
	*fd = steal_fd(efd);
	return 0;
}

static int oom_watch_v2(struct cg_dir *d, int *fd, struct rt_err *err)
{
	_cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char path[PATH_MAX];

	if (ifd < 0)
		return rt_err_sys(err, errno, "inotify_init1");
	snprintf(path, sizeof(path), "%s/memory.events", d->path);
	if (inotify_add_watch(ifd, path, IN_MODIFY) < 0)
		return rt_err_sys(err, errno, "inotify %s", path);
	*fd = steal_fd(ifd);
	return 0;
}

int cg_oom_watch(struct cg_handle *h, struct cg_oom *w, struct rt_err *err)
{
	struct cg_dir *d = cg_ctrl_dir(h, "memory");
	bool counted;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!d)
		return rt_err_set(err, ENOTSUP, "the memory cgroup controller is not available");
	w->base = oom_count(d, &counted);
	return d->v2 ? oom_watch_v2(d, &w->fd, err) : oom_watch_v1(d, &w->fd, err);
}

/* Two witnesses, the v1 eventfd ticks and the kernel's oom_kill counter,
 * arrive at different moments for the same OOM: report the larger tally
 * minus what was already reported, so one OOM is one event. */
uint64_t cg_oom_drain(struct cg_handle *h, struct cg_oom *w)
{
	struct cg_dir *d = cg_ctrl_dir(h, "memory");
	uint64_t buf[512], fired = 0, now, total;
	bool counted;
	ssize_t r;

	while (w->fd >= 0 && (r = read(w->fd, buf, sizeof(buf))) > 0)
		if (d && !d->v2 && r == sizeof(uint64_t))
			fired += buf[0];
	if (!d)
		return 0;
	now = oom_count(d, &counted);
	/* rmdir of the cgroup also ticks the eventfd: not an OOM. */
	if (fired && cg_file_exists(d->path, "memory.oom_control"))
		w->ticks += fired;
	total = now > w->base ? now - w->base : 0;
	if (w->ticks > total)
		total = w->ticks;
	if (total <= w->emitted)
		return 0;
	now = total - w->emitted;
	w->emitted = total;
	return now;
}
