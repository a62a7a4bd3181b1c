/*
 * peer.h: a configured city and what the node knows of it: its keys, its
 * endpoint, its connection and the redial backoff. Its replication state is
 * sync's (link). Loop thread only.
 */
#ifndef AGORA_PEER_H
#define AGORA_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "log.h"

struct conn;
struct node;
struct sync_link;

#define PEER_BACKOFF_MIN_MS 500
#define PEER_BACKOFF_MAX_MS 60000
#define PEER_BAD_BACKOFF_MS 30000 /* at least this after a peer sent an invalid entry */

struct peer {
	struct node *node; /* its owner's, given back to dial() */
	uint8_t pk[32], x_pk[32];
	char name[CONFIG_NAME_MAX + 1];
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port;
	struct conn *conn;      /* NULL when not connected */
	struct sync_link *link; /* its replication state; NULL once it is dropped */
	int up;                 /* handshake done */
	int removed;            /* gone from the config: freed when its last hold lets go */
	int resolving;          /* name lookups in flight that refer to it */
	int bad;                /* sent invalid data on its last connection */
	uint64_t bad_until_ms;  /* loop clock: its connections are refused until then */
	uv_timer_t timer;       /* redial */
	uint32_t backoff_ms;
	void (*dial)(struct node *, struct peer *); /* when the redial timer fires */
	int64_t last_contact_ms;                    /* Unix time; 0 never */
	int moved;    /* since our key last rotated, it connected to our new key */
	int dial_old; /* its current dial is made with our old key (node.key.old) */
	struct log_ratelimit rl;
};

/* A peer of node's; dial is called when a scheduled redial is due. NULL when out of memory or
 * not a usable key. */
struct peer *peer_new(uv_loop_t *, struct node *, const struct config_peer *,
                      void (*dial)(struct node *, struct peer *));
/* Closes its connection and timer; the memory goes when the last lookup and handle let go. */
void peer_free(struct peer *);

/* Schedules a dial after the current backoff (grown by this call), with jitter. */
void peer_schedule_dial(struct peer *, uint32_t at_least_ms);

#endif
