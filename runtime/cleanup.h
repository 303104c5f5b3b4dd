/* Scope-bound cleanup helpers.  Every resource acquired in a function is
 * tied to a variable with one of these attributes; ownership is handed out
 * with steal_ptr()/steal_fd(). */
#ifndef HULL_CLEANUP_H
#define HULL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>

static inline void rt_freep(void *p) { free(*(void **)p); }
static inline void rt_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void rt_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void rt_closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void rt_strvfreep(char ***v)
{
	if (*v) {
		for (char **p = *v; *p; p++)
			free(*p);
		free(*v);
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(rt_freep)
#define _cleanup_close_ _cleanup_(rt_closep)
#define _cleanup_fclose_ _cleanup_(rt_fclosep)
#define _cleanup_closedir_ _cleanup_(rt_closedirp)
#define _cleanup_strv_ _cleanup_(rt_strvfreep)

#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define RT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
