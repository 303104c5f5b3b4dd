/* Logging for --log / --log-format / --debug.  Errors are not logged by
 * library code: cmd/ prints the one error and records it here too. */
#ifndef HULL_LOG_H
#define HULL_LOG_H

#include <stdbool.h>
#include "runtime/err.h"

enum rt_log_level { RT_LOG_ERROR, RT_LOG_WARN, RT_LOG_INFO, RT_LOG_DEBUG };

/* path NULL: stderr.  json: runc-style JSON lines. */
int rt_log_open(const char *path, bool json, bool debug, struct rt_err *err);
void rt_log(enum rt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The fd logs go to (for children that must keep it), or -1 for stderr. */
int rt_log_fd(void);
bool rt_log_to_file(void);

#define rt_warn(...) rt_log(RT_LOG_WARN, __VA_ARGS__)
#define rt_debug(...) rt_log(RT_LOG_DEBUG, __VA_ARGS__)

#endif
