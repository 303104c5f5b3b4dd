#include "config.h"
#include "runtime/log.h"
#include "runtime/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;

int rt_log_open(const char *path, bool json, bool debug, struct rt_err *err)
{
	log_json = json;
	log_debug = debug;
	if (!path || !*path)
		return 0;
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log_fd < 0)
		return rt_err_sys(err, errno, "--log %s", path);
	return 0;
}

int rt_log_fd(void) { return log_fd; }
bool rt_log_to_file(void) { return log_fd >= 0; }

static const char *level_name(enum rt_log_level l)
{
	switch (l) {
	case RT_LOG_ERROR: return "error";
	case RT_LOG_WARN: return "warning";
	case RT_LOG_INFO: return "info";
	default: return "debug";
	}
}

/* JSON string escaping is done by hand here, not through yajl: the logger
 * must work in a child that cannot allocate much and must never fail. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

void rt_log(enum rt_log_level level, const char *fmt, ...)
{
	char msg[2048], line[4608], ts[64];
	int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	va_list ap;
	int saved = errno;

	if (level == RT_LOG_DEBUG && !log_debug)
		return;
	if (level == RT_LOG_INFO && !log_debug && log_fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_json) {
		char esc[4200];
		json_escape(esc, sizeof(esc), msg);
		rt_rfc3339_now(ts, sizeof(ts));
		snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
			 level_name(level), esc, ts);
	} else {
		snprintf(line, sizeof(line), "hull: %s: %s\n", level_name(level), msg);
	}
	rt_write_all(fd, line, strlen(line));
	errno = saved;
}
