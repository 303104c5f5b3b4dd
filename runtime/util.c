#include "config.h"
#include "runtime/util.h"
#include "runtime/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

ssize_t rt_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t rt_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int rt_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
		    struct rt_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, used = 0;

	if (fd < 0)
		return rt_err_sys(err, errno, "open %s", path);
	if (cap > max)
		cap = max;
	buf = malloc(cap + 1);
	if (!buf)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (;;) {
		ssize_t n;
		if (used == cap) {
			char *nb, probe;
			if (cap >= max) {
				/* Full: exactly max bytes is fine, one more is not. */
				n = read(fd, &probe, 1);
				if (n == 0)
					break;
				return rt_err_set(err, EFBIG, "%s: file larger than %zu bytes", path, max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return rt_err_set(err, ENOMEM, "out of memory");
			buf = nb;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(err, errno, "read %s", path);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = steal_ptr(buf);
	return 0;
}

int rt_read_file(const char *path, size_t max, char **out, size_t *len, struct rt_err *err)
{
	return rt_read_file_at(AT_FDCWD, path, max, out, len, err);
}

int rt_write_file_at(int dirfd, const char *path, const char *data, size_t len,
		     struct rt_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_NOCTTY);

	if (fd < 0)
		return rt_err_sys(err, errno, "open %s", path);
	if (rt_write_all(fd, data, len) < 0)
		return rt_err_sys(err, errno, "write %s", path);
	return 0;
}

int rt_write_file_at_new(int dirfd, const char *path, const char *data, size_t len,
			 struct rt_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
					0600);

	if (fd < 0)
		return rt_err_sys(err, errno, "create %s", path);
	if (rt_write_all(fd, data, len) < 0)
		return rt_err_sys(err, errno, "write %s", path);
	return 0;
}

int rt_write_file(const char *path, const char *data, size_t len, struct rt_err *err)
{
	return rt_write_file_at(AT_FDCWD, path, data, len, err);
}

int rt_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
			 struct rt_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return rt_err_set(err, ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return rt_err_sys(err, errno, "create %s", tmp);
	if (rt_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_err_sys(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_err_sys(err, e, "rename %s", path);
	}
	return 0;
}

int rt_mkdir_p(const char *path, mode_t mode, struct rt_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return rt_err_set(err, ENAMETOOLONG, "mkdir %s: bad path length", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return rt_err_sys(err, errno, "mkdir %s", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int openat2_raw(int dirfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

int rt_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct rt_err *err)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	do
		fd = openat2_raw(root_fd, path, &how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	if (fd < 0)
		return rt_err_sys(err, errno, "open %s in root", path);
	return fd;
}

int rt_mkdir_p_in_root(int root_fd, const char *path, mode_t mode, struct rt_err *err)
{
	_cleanup_close_ int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;

	if (cur < 0 || !copy)
		return rt_err_sys(err, errno ? errno : ENOMEM, "mkdir %s", path);
	/* One component at a time, each opened with RESOLVE_IN_ROOT relative to
	 * the root, so a symlink anywhere on the way stays inside it. */
	size_t plen = 0;
	_cleanup_free_ char *prefix = calloc(1, strlen(path) + 2);
	if (!prefix)
		return rt_err_set(err, ENOMEM, "out of memory");
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int fd;
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return rt_err_set(err, EINVAL, "%s: \"..\" not allowed", path);
		plen += (size_t)sprintf(prefix + plen, "/%s", c);
		if (mkdirat(cur, c, mode) < 0 && errno != EEXIST)
			return rt_err_sys(err, errno, "mkdir %s", prefix);
		fd = rt_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0, err);
		if (fd < 0)
			return fd;
		close(cur);
		cur = fd;
	}
	return steal_fd(cur);
}

int rt_pid_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = rt_read_all(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p += 2;
	/* p is field 3 (state); start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*out = strtoull(p, NULL, 10);
	return 0;
}

int rt_status_from_wait(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

int rt_wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return rt_status_from_wait(st);
}

void rt_close_fds_from(int from, const int *keep, size_t n)
{
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d) {
		for (int fd = from; fd < 1024; fd++) {
			bool k = false;
			for (size_t i = 0; i < n; i++)
				k |= keep[i] == fd;
			if (!k)
				close(fd);
		}
		return;
	}
	while ((de = readdir(d))) {
		int fd;
		bool k = false;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		fd = atoi(de->d_name);
		if (fd < from || fd == dirfd(d))
			continue;
		for (size_t i = 0; i < n; i++)
			k |= keep[i] == fd;
		if (!k)
			close(fd);
	}
}

void rt_rfc3339_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

int rt_signal_parse(const char *s)
{
	static const struct { const char *name; int sig; } tab[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"IOT", SIGIOT}, {"BUS", SIGBUS},
		{"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
		{"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
		{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
		{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG},
		{"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
		{"WINCH", SIGWINCH}, {"IO", SIGIO}, {"POLL", SIGPOLL}, {"PWR", SIGPWR},
		{"SYS", SIGSYS},
	};
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end || n <= 0 || n > SIGRTMAX)
			return -1;
		return (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < RT_ARRAY_SIZE(tab); i++)
		if (strcasecmp(s, tab[i].name) == 0)
			return tab[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool max = toupper((unsigned char)s[3]) == 'A';
		long off = 0;
		if (s[5]) {
			errno = 0;
			off = strtol(s + 5, &end, 10);
			if (errno || *end)
				return -1;
		}
		n = (max ? SIGRTMAX : SIGRTMIN) + off;
		return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
	}
	return -1;
}

size_t rt_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char *rt_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, slen = strlen(sep);
	char *out, *p;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + slen;
	p = out = malloc(len);
	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		if (i) {
			memcpy(p, sep, slen);
			p += slen;
		}
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

bool rt_in_partial_userns(void)
{
	char line[128] = "";
	unsigned long a, b, n;
	FILE *f = fopen("/proc/self/uid_map", "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return sscanf(line, "%lu %lu %lu", &a, &b, &n) != 3 || n != 4294967295UL;
}
