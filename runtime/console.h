/* Terminals: the pty is made inside the container (its devpts), the master
 * is passed to the parent, which hands it to --console-socket (SCM_RIGHTS)
 * as runc does, or relays it to its own terminal for a foreground run. */
#ifndef HULL_CONSOLE_H
#define HULL_CONSOLE_H

#include "runtime/spec.h"

/* Child: open a new pty pair in the current mount namespace (/dev/ptmx),
 * make the slave the controlling terminal and stdio, size it.  *master gets
 * the master fd. */
int rt_console_setup_child(const struct rt_process *p, int *master, struct rt_err *err);
/* Parent: send the master to the AF_UNIX socket at path. */
int rt_console_send(const char *socket_path, int master, struct rt_err *err);
/* Connect to an AF_UNIX stream socket whose path may be long (resolved
 * through its directory).  Returns the fd. */
int rt_unix_connect(const char *path, int type, struct rt_err *err);
/* Parent: relay between our stdin/stdout and master until the master
 * closes (the process exited).  Puts our terminal in raw mode meanwhile. */
int rt_console_relay(int master, struct rt_err *err);

#endif
