/*
 * peer.h: a configured city and what we know of it: its keys, its
 * connection, the redial backoff, and per feed how far it has got and how it
 * wants new entries (eager push, or only a note of the new head). Loop thread only.
 */
#ifndef AGORA_PEER_H
#define AGORA_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct conn;
struct node;
struct sync_job;

#define PEER_BACKOFF_MIN_MS 500
#define PEER_BACKOFF_MAX_MS 60000
#define PEER_BAD_BACKOFF_MS 30000 /* at least this after a peer sent an invalid entry */

/* One feed as seen from a peer. */
struct peer_feed {
	uint8_t author[32];
	uint64_t known; /* the highest seq the peer is known to have */
	uint64_t send;  /* next seq to stream to it; 0 when nothing to stream */
	int lazy;       /* it asked for HAVE notes only (MODE false) */
	int we_lazy;    /* we asked it for notes only */
	uint64_t noted; /* the highest seq it noted (HAVE) that we still lack; 0 none */
};

struct peer {
	struct node *node;
	uint8_t pk[32], x_pk[32];
	char name[CONFIG_NAME_MAX + 1];
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port;
	struct conn *conn; /* NULL when not connected */
	int up;            /* handshake done */
	int removed;       /* gone from the config: freed when its last job ends */
	int jobs;          /* verify jobs in flight that refer to it */
	struct sync_job *jobs_head, *jobs_tail; /* in arrival order, applied in that order */
	int bad;               /* sent an invalid entry: drop its queued jobs until it reconnects */
	uint64_t bad_until_ms; /* loop clock: its connections are refused until then */
	size_t pump_next;      /* round-robin position over feeds to stream */
	uv_timer_t timer;      /* redial */
	uint32_t backoff_ms;
	int64_t last_contact_ms; /* Unix time; 0 never */
	int got_clock;
	int feeds_capped; /* it named more feeds than we track: told once per connection */
	uint64_t outside; /* entries of feeds we do not replicate, this connection */
	struct peer_feed *feeds;
	size_t nfeeds, capfeeds;
	uint64_t received, duplicates; /* entries */
	struct log_ratelimit rl;
};

struct peer *peer_new(struct node *, const struct config_peer *);
/* Closes its connection and timer; the memory goes when the last job and handle let go. */
void peer_free(struct peer *);

/* The feed entry for author, created (known 0) if absent; NULL when out of memory. */
struct peer_feed *peer_feed(struct peer *, const uint8_t author[static 32]);
struct peer_feed *peer_feed_find(const struct peer *, const uint8_t author[static 32]);

/* Schedules a dial after the current backoff (grown by this call), with jitter. */
void peer_schedule_dial(struct peer *, uint32_t at_least_ms);
/* Clears what a connection taught us, keeping nothing but the backoff. */
void peer_reset(struct peer *);

#endif
