#include "config.h"
#include "runtime/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fix_code(int code)
{
	if (code < 0)
		code = -code;
	return code ? code : EINVAL;
}

int rt_err_set(struct rt_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	code = fix_code(code);
	if (!e)
		return -code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->code = code;
	return -code;
}

int rt_err_sys(struct rt_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	code = fix_code(code);
	if (!e)
		return -code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(code));
	e->code = code;
	return -code;
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
	snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, old);
	return -e->code;
}

void rt_err_clear(struct rt_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}
