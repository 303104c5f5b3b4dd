/* exec in a VM-isolated container: the host end of the guest agent's
 * protocol (microvm/agent_proto.h).  The VMM exposes the guest's vsock as
 * the unix socket <state dir>/vsock.sock: "CONNECT <port>\n", "OK <n>\n",
 * then a byte stream to the agent. */
#ifndef HULL_VM_EXEC_H
#define HULL_VM_EXEC_H

#include <stdbool.h>
#include "runtime/container.h"
#include "runtime/spec.h"

/* The session's ends on our side. */
struct rt_vm_io {
	int in;          /* read for the process's stdin; -1: none (EOF at once) */
	int out, err;    /* its stdout, stderr (err unused with a terminal) */
	int tty;         /* a terminal whose size follows SIGWINCH, or -1 */
};

/* Connect to the guest agent's port of container id (vm_vsock_connect):
 * retried while nothing listens in the guest yet (a VM still booting). */
int rt_vm_exec_connect(const char *root, const char *id, struct rt_err *err);
/* Send the request for pr and wait until the guest started it.  A process
 * the guest could not start (no such executable) is an error naming it,
 * with *status 127 or 126 as runc would exit. */
int rt_vm_exec_start(int conn, const struct rt_process *pr, unsigned rows, unsigned cols,
		     int *status, struct rt_err *err);
/* Relay stdio and our signals until the process ends: *status is its
 * exit code, 128+N when signal N ended it. */
int rt_vm_exec_relay(int conn, const struct rt_vm_io *io, int *status, struct rt_err *err);
/* The whole of `hull exec` for the VM container o->id. */
int rt_vm_exec(const struct rt_exec_opts *o, const struct rt_process *pr, int *status,
	       struct rt_err *err);

#endif
