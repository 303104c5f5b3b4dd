/* Seccomp: the filter is compiled by libseccomp in the parent and exported
 * as a classic BPF program; the child only loads it with seccomp(2). */
#ifndef HULL_SECCOMP_H
#define HULL_SECCOMP_H

#include <stdbool.h>
#include "runtime/spec.h"

struct rt_seccomp_plan;

int rt_seccomp_plan_new(const struct rt_seccomp *s, struct rt_seccomp_plan **out, struct rt_err *err);
void rt_seccomp_plan_free(struct rt_seccomp_plan *p);
/* True if the filter uses SCMP_ACT_NOTIFY (a listener fd will be produced). */
bool rt_seccomp_plan_has_notify(const struct rt_seccomp_plan *p);
/* Child: load the filter (with its flags).  If the plan has notify,
 * *listener_fd receives the notification fd, else -1.  listener_fd may be
 * NULL when no listener is wanted. */
int rt_seccomp_plan_load(const struct rt_seccomp_plan *p, int *listener_fd, struct rt_err *err);
/* Parent: hand the listener fd to the agent at listener_path as the
 * runtime-spec describes (container state JSON + the fd over SCM_RIGHTS,
 * fds[] = ["seccompFd"]). state_json is the container state. */
int rt_seccomp_send_listener(const char *listener_path, const char *state_json, int listener_fd,
			     struct rt_err *err);

#endif
