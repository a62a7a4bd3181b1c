/*
 * sync.h: replication (docs/PROTOCOL.md §1, protocol version 2). Per peer
 * link: HELLO and CLOCK, streaming what the peer lacks without outrunning its
 * connection, runs checked on the verify threads (pool.h: a signature, or a
 * chain to one), in-order appends, bodies asked for with WANT_BODIES; across
 * links, the live push along a per-feed spanning tree (prune and graft) and
 * the restore guard's knowledge of our own feed.
 *
 * Sync owns each link's replication state and knows neither sockets nor the
 * node: it is handed a sync_env (the store, the replicated set, callbacks)
 * and, per link, a handle that the link's callbacks receive. Loop thread only
 * (the appends it hands to its appender's thread take the store's write lock).
 */
#ifndef AGORA_SYNC_H
#define AGORA_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "entry.h"

struct members;
struct store;
struct sync;      /* every link: the live push and grafts go across them */
struct sync_link; /* one peer: its feeds as seen from it, its verify queue, its counts */

struct sync_ops {
	/* On the link's connection (link_ud of sync_link_new): send one message, 0 or -1; */
	int (*send)(void *link_ud, const uint8_t *msg, size_t len);
	/* the bytes waiting to be written; */
	size_t (*queued)(void *link_ud);
	/* stop reading (1) or read again (0): the link's verify queue is full; */
	void (*pause)(void *link_ud, int pause);
	/* close it; fault: the peer sent what it could have checked, and is backed off. */
	void (*cut)(void *link_ud, const char *why, int fault);

	/* Member records were stored: the replicated set may have changed. */
	void (*members_changed)(void *ud);
	/* An identity/successor was stored with its body: its author's key has a successor. */
	void (*succession)(void *ud, const struct ag_entry *e);
	/* A SUCCESSION message from the link `from`: a certificate, decoded, not yet checked. */
	void (*certificate)(void *ud, struct sync_link *from, const uint8_t *raw, size_t len);
	/* Our own feed is now as far as every peer said it is (seq): we may publish. Once. */
	void (*own_head_learned)(void *ud, uint64_t seq);
	/* Call sync_graft_due in ms, unless a call is due already. */
	void (*graft_later)(void *ud, uint64_t ms);
	/* Call sync_claims_due in ms, unless a call is due sooner. */
	void (*claims_later)(void *ud, uint64_t ms);
	/* A clock in ms (keepalive nonces, claims of our own feed). */
	uint64_t (*now_ms)(void *ud);
};

struct sync_env {
	const struct sync_ops *ops;
	void *ud;                  /* for the ops that are not about a link */
	uv_loop_t *loop;           /* whose thread pool verifies entries */
	struct store *store;       /* entries are read from and appended to it */
	const struct members *set; /* the feeds we replicate */
	uint8_t self[32];          /* our key: our own feed */
	uint8_t network[32];       /* entries of other networks are invalid */
	/*
	 * [Node] VerifyEvery: each received header's own signature is checked,
	 * not only each run's last. One that fails inside a run whose last one
	 * verifies is logged and stored all the same (DESIGN.md "Accepting
	 * entries"): the mode finds forgers, it does not change what is valid.
	 */
	bool verify_every;
};

/* Copies env. NULL when out of memory. */
struct sync *sync_new(const struct sync_env *);
/* Our key rotated: our own feed is now pk's (the restore guard stays as it was). */
void sync_set_self(struct sync *, const uint8_t pk[static 32]);
/*
 * Stores what was verified and handed to the appender, answers it, and
 * ends the appender's thread: before the store closes, while the links are
 * still up. The loop must then run once, to close its handle. NULL-safe.
 */
void sync_stop(struct sync *);
/* After sync_stop, the loop run, and every link freed. NULL-safe. */
void sync_free(struct sync *);
/* VerifyEvery changed (SIGHUP): messages read from now on are checked so. */
void sync_set_verify_every(struct sync *, bool on);

/* A peer's link, down until sync_up; name is for log lines. NULL when out of memory. */
struct sync_link *sync_link_new(struct sync *, const char *name, void *link_ud);
/* The peer's name changed (SIGHUP): for log lines from now on. */
void sync_link_rename(struct sync_link *, const char *name);
/* Its callbacks stop at once; the memory goes when its last verify job ends. NULL-safe. */
void sync_link_free(struct sync_link *);

/* The connection is up: say HELLO (with our name) and CLOCK. */
void sync_up(struct sync_link *, const char *our_name);
/* The connection went away: forget what it taught (the counts stay). */
void sync_down(struct sync_link *);
/* One protocol message from the peer. */
void sync_msg(struct sync_link *, const uint8_t *msg, size_t len);
/* The link's write queue has room again: stream more. */
void sync_drain(struct sync_link *);
/* Keepalive: a PING, which the peer answers. */
void sync_ping(struct sync_link *);

/* A certificate this node kept: SUCCESSION to every link that is up but except. */
void sync_succession(struct sync *, const uint8_t *raw, size_t len, struct sync_link *except);

/* The replicated set has grown: every link that is up gets our CLOCK again. */
void sync_clock_all(struct sync *);
/* Entries newly stored (published here, or received on `from`, NULL for ours): push them. */
void sync_push(struct sync *, const struct ag_entry *entries, size_t n, struct sync_link *from);
/* The graft delay is over: ask lazy links for what the eager ones did not bring. */
void sync_graft_due(struct sync *);
/*
 * A peer's CLOCK that claims our own feed further than we hold it must be
 * backed by the entries within SYNC_CLAIM_MS (restarted while our feed
 * grows): else the claim is void, the peer is told of once, and no longer
 * holds back publishing (a false claim of 2^64-1 would, for ever).
 */
void sync_claims_due(struct sync *);

/*
 * What each side lacks of what the other announced (CLOCK, HAVE, entries
 * sent and received), in entries of the feeds both replicate. A peer not
 * connected counts by what it held when its connection went, age_ms ago.
 */
struct sync_lag {
	uint64_t we_lack, they_lack;
	uint64_t age_ms; /* 0 while connected */
	bool known;      /* false: it never sent its CLOCK */
};
void sync_lag(const struct sync_link *, struct sync_lag *);

/*
 * The catch-up: it begins when a peer announces entries we lack and ends
 * when we hold everything every peer announced (a peer not connected by its
 * last known heads). Its figures stay after it ends.
 */
struct sync_progress {
	uint64_t received; /* entries stored since it began */
	uint64_t missing;  /* entries announced that we lack, now */
	uint64_t rate;     /* entries per second since it began */
	uint64_t left_ms;  /* at that rate; 0 when done or not known */
	bool running;
};
void sync_progress(struct sync *, struct sync_progress *);
/* Entries stored from this peer, and entries it sent that we held already. */
uint64_t sync_received(const struct sync_link *);
/*
 * The replication protocol the peer's last HELLO named (0 before one), and
 * its software into out ("" before one, or for a HELLO of another version):
 * what it ran when last seen, kept across reconnects. NULL-safe.
 */
uint64_t sync_peer_version(const struct sync_link *, char *software, size_t cap);
uint64_t sync_duplicates(const struct sync_link *);

/*
 * The highest seq of author's feed the peer is known to hold, by its CLOCK,
 * HAVE and the entries each side sent (its last known heads once it is
 * disconnected); 0 when it never named the feed.
 */
uint64_t sync_known(const struct sync_link *, const uint8_t author[32]);
/* Entries sent to this peer; entries it sent that were refused as invalid (it was cut off). */
uint64_t sync_sent(const struct sync_link *);
uint64_t sync_invalid(const struct sync_link *);
/* Entries refused as invalid over every link since start, removed peers' included. */
uint64_t sync_invalid_total(const struct sync *);
/* Entries of feeds we do not replicate that it sent on this connection (dropped unchecked). */
uint64_t sync_outside(const struct sync_link *);
/* Messages of types this version does not know that it sent on this connection (ignored). */
uint64_t sync_unknown(const struct sync_link *);

#endif
