#include "config.h"
#include "runtime/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int fix_code(int code)
{
	if (code < 0)
		code = -code;
	return code ? code : EINVAL;
}

/* The message, and with sys the errno's text after it. */
static int err_vset(struct rt_err *e, int code, bool sys, const char *fmt, va_list ap)
{
	code = fix_code(code);
	if (!e)
		return -code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (sys) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(code));
	}
	e->code = code;
	return -code;
}

int rt_err_set(struct rt_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int rt_err_sys(struct rt_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int rt_err_wrap(struct rt_err *e, const char *fmt, ...)
{
	char ctx[RT_ERR_MSG_MAX], old[RT_ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -EINVAL;
	if (!e->code)
		e->code = EINVAL;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* Truncation is fine: the context matters most, then the cause. */
	size_t n = strnlen(ctx, sizeof(e->msg) - 1);
	memcpy(e->msg, ctx, n);
	if (n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		size_t m = strnlen(old, sizeof(e->msg) - 1 - n);
		memcpy(e->msg + n, old, m);
		n += m;
	}
	e->msg[n] = '\0';
	return -e->code;
}

void rt_err_clear(struct rt_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}
