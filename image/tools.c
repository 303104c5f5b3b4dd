/* The outside programs image/ runs (skopeo for pull, mkfs.erofs for VM
 * disks): found in PATH, run with no stdin or stdout, their stderr kept
 * for the error. */
#include "config.h"
#include "image/img_int.h"
#include "runtime/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *img_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL, *full = NULL;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&full, "%s/%s", d, prog) < 0)
			return NULL;
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		full = NULL;
	}
	return NULL;
}

/* Read fd to its end, keeping the last bytes in msg (a NUL-terminated
 * string of at most cap - 1 bytes). */
static void read_tail(int fd, char *msg, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, msg + len, cap - 1 - len)) > 0 || (n < 0 && errno == EINTR)) {
		len += n > 0 ? (size_t)n : 0;
		if (len == cap - 1) {
			memmove(msg, msg + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	msg[len] = 0;
	while (len && msg[len - 1] == '\n')
		msg[--len] = 0;
}

int img_exec(const char *const argv[], struct rt_err *err)
{
	char msg[512];
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return rt_err_sys(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return rt_err_sys(err, errno, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	read_tail(fds[0], msg, sizeof(msg));
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* A tool's fatal message is its last line. */
	return rt_err_set(err, EIO, "%s", strrchr(msg, '\n') ? strrchr(msg, '\n') + 1 :
			  *msg ? msg : WIFEXITED(status) ? "exit status not 0" : "killed");
}
