/*
 * listener.h: the node's listening socket. It accepts at a bounded pace (a
 * crowd that reconnects as fast as it is refused must not hold the loop) and
 * holds strangers mid-handshake within bounds, in total and per source
 * address. Each accepted connection runs conn.h's responder side with the
 * node's callbacks. Loop thread only.
 */
#ifndef AGORA_LISTENER_H
#define AGORA_LISTENER_H

#include <uv.h>

#include "conn.h"

#define LISTENER_HANDSHAKES_MAX    64 /* connections not yet authenticated, in total */
#define LISTENER_HANDSHAKES_PER_IP 8
#define LISTENER_ACCEPTS_PER_TICK  64 /* connections accepted per turn of the loop */

struct listener;

/* Listens on addr; keys, ops and ud go to every accepted connection. NULL (logged) on failure. */
struct listener *listener_new(uv_loop_t *, const struct sockaddr *addr,
                              const struct conn_keys *keys, const struct conn_ops *ops, void *ud);
/* Stops listening; the memory goes when its handles have closed. NULL-safe. */
void listener_free(struct listener *);

/* The connection is authenticated, or closed: it no longer holds a handshake slot. */
void listener_release(struct listener *, const struct conn *);

#endif
