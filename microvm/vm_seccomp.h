/* The VMM's own seccomp filter, loaded once setup is done. */
#ifndef HULL_VM_SECCOMP_H
#define HULL_VM_SECCOMP_H

#include "runtime/err.h"

/* Allow only what a running VMM needs (KVM_RUN and the few KVM ioctls of
 * the run loop, fd I/O, epoll, eventfd writes, futex, memory management
 * without PROT_EXEC, clocks, getrandom, signals to its own threads, exit);
 * anything else kills the whole process.  Applies to every thread already
 * running (TSYNC); sets no_new_privs. */
int vm_seccomp_load(struct rt_err *err);

#endif
