/* Parent <-> child synchronisation over a SOCK_SEQPACKET socketpair, in
 * named stages.  Any message can instead carry an error (code + text), so a
 * failure in the child is reported by the parent with its real cause. */
#ifndef HULL_SYNC_H
#define HULL_SYNC_H

#include <stdint.h>
#include <sys/types.h>
#include "runtime/err.h"

enum rt_sync_stage {
	SYNC_ERROR = 1,      /* payload: an rt_err */
	SYNC_INIT_PID,       /* stage1 -> parent: the init's pid (in the host pid ns) */
	SYNC_GO,             /* parent -> child: maps written, cgroup joined, carry on */
	SYNC_PRESTART,       /* child -> parent: mounts done, run prestart/createRuntime */
	SYNC_PRESTART_DONE,  /* parent -> child */
	SYNC_SECCOMP_FD,     /* child -> parent: the seccomp listener fd */
	SYNC_PTY_MASTER,     /* child -> parent: the pty master fd */
	SYNC_WARNING,        /* child -> parent: a warning to log (e.g. LSM absent) */
	SYNC_READY,          /* child -> parent: waiting for start */
	SYNC_EXEC_PID,       /* exec helper -> parent: the exec'd process pid */
};

struct rt_sync_msg {
	uint32_t stage;
	int32_t value;       /* pid, or the error code */
	char text[RT_ERR_MSG_MAX];
};

/* Send a stage with an optional fd (-1 for none). */
int rt_sync_send(int sock, enum rt_sync_stage stage, int32_t value, const char *text, int fd);
int rt_sync_send_err(int sock, const struct rt_err *e);
/* Receive one message; *fd gets a passed fd (or -1; fd may be NULL).
 * Returns 0, or -errno; EOF is -EPIPE.  A SYNC_ERROR message is turned into
 * *err and -code. */
int rt_sync_recv(int sock, struct rt_sync_msg *msg, int *fd, struct rt_err *err);
/* Receive and require a given stage (SYNC_WARNING messages are logged and skipped). */
int rt_sync_expect(int sock, enum rt_sync_stage stage, struct rt_sync_msg *msg, int *fd,
		   struct rt_err *err);
/* Send an fd over a connected AF_UNIX socket (SCM_RIGHTS) with one data byte. */
int rt_send_fd(int sock, int fd, const void *data, size_t len);

#endif
