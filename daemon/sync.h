/*
 * sync.h: replication over one peer connection (docs/PROTOCOL.md §1): HELLO
 * and CLOCK, streaming what the peer lacks without outrunning its socket,
 * verification on libuv's thread pool, in-order appends, live push along a
 * per-feed spanning tree. Loop thread only.
 */
#ifndef AGORA_SYNC_H
#define AGORA_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "entry.h"

struct node;
struct peer;

/* The connection is up: say HELLO and CLOCK. */
void sync_up(struct peer *);
/* Send our CLOCK again: the replicated set has grown. */
void sync_clock(struct peer *);
/* The graft timer: ask lazy links for what the eager ones did not bring. */
void sync_graft_due(uv_timer_t *);
/* Keepalive: a PING, which the peer answers. */
void sync_ping(struct peer *);
/* One protocol message from the peer. */
void sync_msg(struct peer *, const uint8_t *msg, size_t len);
/* The peer's write queue has room again: stream more. */
void sync_drain(struct peer *);
/* Entries newly stored (published here or received from `from`, NULL for ours): push them. */
void sync_push(struct node *, const struct ag_entry *entries, size_t n, struct peer *from);
/* Entries behind: how many entries of the feeds we share the peer lacks, by what we know. */
uint64_t sync_behind(struct peer *);

#endif
