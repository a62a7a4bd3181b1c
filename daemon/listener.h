/*
 * listener.h: the node's listening socket. It accepts at a bounded pace (a
 * crowd that reconnects as fast as it is refused must not hold the loop),
 * holds strangers mid-handshake within bounds, in total and per source
 * network (a /24 for IPv4, a /64 for IPv6), the oldest giving way to a
 * newcomer, and bounds the X25519 work of message 1 per source address.
 * Each accepted connection runs conn.h's responder side with the node's
 * callbacks. Loop thread only.
 */
#ifndef AGORA_LISTENER_H
#define AGORA_LISTENER_H

#include <uv.h>

#include "conn.h"

#define LISTENER_HANDSHAKES_MAX       64  /* connections not yet up, in total */
#define LISTENER_HANDSHAKES_PER_GROUP 8   /* of them from one /24 or /64 */
#define LISTENER_ACCEPTS_PER_TICK     64  /* connections accepted per turn of the loop */
#define LISTENER_RATE_PER_S           4   /* message 1s read per second per source address */
#define LISTENER_RATE_BURST           8   /* and at once */
#define LISTENER_RATE_SOURCES         256 /* addresses whose budget is kept (least recent go) */

struct listener;

/* Listens on addr; keys, ops and ud go to every accepted connection. NULL (logged) on failure. */
struct listener *listener_new(uv_loop_t *, const struct sockaddr *addr,
                              const struct conn_keys *keys, const struct conn_ops *ops, void *ud);
/* Stops listening; the memory goes when its handles have closed. NULL-safe. */
void listener_free(struct listener *);

/* The connection is authenticated, or closed: it no longer holds a handshake slot. */
void listener_release(struct listener *, const struct conn *);

#endif
