/* What the check programs recvtty and seccomp_agent share. */
#ifndef HULL_TEST_HELPERS_LISTEN_H
#define HULL_TEST_HELPERS_LISTEN_H

/* "PROGRAM: WHAT: strerror(errno)" on stderr, exit 1. */
__attribute__((noreturn)) void die(const char *what);

/* A listening unix stream socket at path, bound under path.tmp and renamed
 * into place after listen(), so that a test waiting for path to exist never
 * races into a refused connection.  Dies on any error. */
int listen_on(const char *path);

#endif
