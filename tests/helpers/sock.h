/* What the check programs recvtty and seccomp_agent share. */
#ifndef HULL_TEST_HELPERS_SOCK_H
#define HULL_TEST_HELPERS_SOCK_H

#include <stddef.h>

#define SOCK_MAX_FDS 8

/* "PROGRAM: WHAT: strerror(errno)" on stderr, exit 1. */
__attribute__((noreturn)) void die(const char *what);

/* A listening unix stream socket at path, bound under path.tmp and renamed
 * into place after listen(), so that a test waiting for path to exist never
 * races into a refused connection.  Dies on any error. */
int listen_on(const char *path);

/* One message: its payload into buf (len bytes at most; *n gets its
 * length) and the fds sent with it (SCM_RIGHTS, SOCK_MAX_FDS at most,
 * O_CLOEXEC; *nfds gets how many).  Returns the first; dies when none came. */
int recv_fds(int conn, void *buf, size_t len, size_t *n, size_t *nfds);

#endif
