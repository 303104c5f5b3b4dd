/* Small syscall wrappers shared by every module. */
#ifndef HULL_UTIL_H
#define HULL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "runtime/err.h"

/* Read a whole file (at most max bytes; -EFBIG beyond).  *out is
 * NUL-terminated and malloc'd. */
int rt_read_file(const char *path, size_t max, char **out, size_t *len, struct rt_err *err);
int rt_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
		    struct rt_err *err);
/* Write a whole buffer to an existing file (O_WRONLY|O_TRUNC unless append). */
int rt_write_file(const char *path, const char *data, size_t len, struct rt_err *err);
int rt_write_file_at(int dirfd, const char *path, const char *data, size_t len,
		     struct rt_err *err);
/* Create a new file (O_EXCL) in dirfd with data, mode 0600. */
int rt_write_file_at_new(int dirfd, const char *path, const char *data, size_t len,
			 struct rt_err *err);
/* Atomically replace path with data (temp file in the same dir + fsync + rename). */
int rt_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
			 struct rt_err *err);
/* mkdir -p with mode; existing dirs are fine. */
int rt_mkdir_p(const char *path, mode_t mode, struct rt_err *err);
/* Open path inside root (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS via openat2, so
 * symlinks cannot lead out).  root_fd is an O_PATH/O_DIRECTORY fd. */
int rt_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct rt_err *err);
/* mkdir -p inside root, every component resolved in root. Returns an O_PATH fd
 * of the final directory. */
int rt_mkdir_p_in_root(int root_fd, const char *path, mode_t mode, struct rt_err *err);
/* Write all / read all, retrying EINTR and short I/O. */
ssize_t rt_write_all(int fd, const void *buf, size_t len);
ssize_t rt_read_all(int fd, void *buf, size_t len);
/* Process start time (field 22 of /proc/PID/stat), to tell a pid was reused. */
int rt_pid_start_time(pid_t pid, unsigned long long *out);
/* Wait for pid; returns the shell-style status (code, or 128+signal). */
int rt_wait_status(pid_t pid);
int rt_status_from_wait(int wstatus);
/* Close every fd >= from except those in keep[] (n). */
void rt_close_fds_from(int from, const int *keep, size_t n);
/* Current time as RFC3339 with nanoseconds (UTC) into buf. */
void rt_rfc3339_now(char *buf, size_t len);
/* A signal name ("KILL", "SIGKILL") or number ("9") to a number; -1 if bad. */
int rt_signal_parse(const char *s);
/* Join argv into a space-separated string (malloc'd), for messages. */
char *rt_strv_join(char *const *v, const char *sep);
size_t rt_strv_len(char *const *v);

/* In a user namespace that does not map all of the host's ids (rootless
 * podman runs its runtime as the "root" of one): uid 0 there is not root. */
bool rt_in_partial_userns(void);

#endif
