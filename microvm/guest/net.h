/* The guest init's network setup (net.c), kept apart from init.c. */
#ifndef HULL_GUEST_NET_H
#define HULL_GUEST_NET_H

/* Reports a fatal error and ends the VM (init.c's die). */
typedef void (*net_fail_fn)(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* A /hull/config record "net.KEY" (KEY without the prefix). */
void net_config_item(const char *key, const char *val);
/* lo up; with a net.mac, that interface up with its addresses and routes. */
void net_setup(net_fail_fn fail);

#endif
