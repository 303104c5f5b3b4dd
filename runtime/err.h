/* One error type for the whole program: an errno and a message, with
 * context prepended as the error travels up.  Library code fills it and
 * returns -errno; only cmd/ prints it, once. */
#ifndef HULL_ERR_H
#define HULL_ERR_H

#include <stdarg.h>

#define RT_ERR_MSG_MAX 1024

struct rt_err {
	int code;                 /* positive errno, 0 when no error */
	char msg[RT_ERR_MSG_MAX];
};

/* Set the error; returns -code (code is taken as positive errno; 0 -> EINVAL). */
int rt_err_set(struct rt_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like rt_err_set but appends ": strerror(code)". */
int rt_err_sys(struct rt_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepend "context: " to the message; returns -e->code. */
int rt_err_wrap(struct rt_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rt_err_clear(struct rt_err *e);

#endif
