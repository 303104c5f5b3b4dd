/* The guest's exec agent: `hull exec` into a VM-isolated container.  The
 * init forks it; it listens on vsock port AP_VSOCK_PORT and, per
 * connection, forks a handler that reads one EXEC request, runs the
 * process inside the container and relays its stdio, signals and exit
 * status in agent_proto frames.  The handler works over any connected
 * stream, so the tests drive it over a socketpair on the host. */
#ifndef HULL_GUEST_AGENT_H
#define HULL_GUEST_AGENT_H

#include <sys/types.h>
#include "../agent_proto.h"

struct agent_env {
	/* The workload when it has a pid and mount namespace of its own (ct
	 * --vm): execs join both and its root.  0: the agent's own. */
	pid_t ns_pid;
	/* In the new process, after its stdio is set: the container's
	 * rlimits, no_new_privs and capabilities and the change to the
	 * request's uid, gid and groups, as the workload gets them.  It ends
	 * the process (status 127, a message on its stderr) if one fails. */
	void (*become)(const void *ctx, const struct ap_exec *req);
	const void *ctx;
};

/* Before the workload starts (so its mount namespace has it too): a devpts
 * on the root's /dev/pts, for the ptys of exec --tty. */
void agent_setup(void);
/* Fork the agent (listening on vsock); returns in the caller at once.
 * With pid_fd >= 0 the agent first reads e->ns_pid from it (a pid_t: the
 * workload is started after the agent, which must stay outside its pid
 * namespace).  The agent ends by itself where the guest has no vsock. */
void agent_start(const struct agent_env *e, int pid_fd);
/* One connection, the whole session: returns once it is over (the process
 * ended and its status was sent, or the host hung up: then the process is
 * killed).  Returns 0, or 1 after a protocol error. */
int agent_handle(int conn, const struct agent_env *e);

#endif
