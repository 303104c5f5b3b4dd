#ifndef HULL_HOOKS_H
#define HULL_HOOKS_H

#include "runtime/spec.h"

/* Run the hooks of one kind in order: fork, exec path with args and env,
 * the container state JSON on stdin, killed after timeout seconds.  The
 * first failing hook stops the list, except for poststart and poststop,
 * whose remaining hooks still run; the error (the first failure's) names
 * the hook kind, index and path, and the exit status or signal. */
int rt_hooks_run(const struct rt_hook_list *list, enum rt_hook_kind kind,
		 const char *state_json, struct rt_err *err);

#endif
