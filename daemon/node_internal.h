/* node_internal.h: the node as peer.c, sync.c and node.c share it. Loop thread only. */
#ifndef AGORA_NODE_INTERNAL_H
#define AGORA_NODE_INTERNAL_H

#include <limits.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "node.h"
#include "peer.h"

#define NODE_HANDSHAKES_MAX    64 /* connections not yet authenticated, in total */
#define NODE_HANDSHAKES_PER_IP 8
#define NODE_ACCEPTS_PER_TICK  64    /* connections accepted per turn of the loop */
#define NODE_PING_MS           15000 /* keepalive to every connected peer */
#define NODE_SILENCE_MS        45000 /* a peer silent this long is disconnected */

struct control;
struct members;

struct node {
	uv_loop_t *loop;
	char dir[PATH_MAX];
	char conf_path[PATH_MAX + 16];
	struct config *cfg;
	uint8_t pk[32], sk[64];
	struct conn_keys keys;
	struct store *store;
	struct peer **peers;
	size_t npeers;
	uv_tcp_t listener;
	int listening;
	struct conn *pending[NODE_HANDSHAKES_MAX]; /* accepted, not yet authenticated */
	struct members *members; /* the replicated set: self, peers, introduced members */
	int ready;               /* our own feed has been learned from a peer (or forced) */
	uint64_t own_seq_seen;   /* highest seq of our feed that a peer reported */
	struct control *control;
	struct log_ratelimit rl_handshakes;
	uv_timer_t keepalive;
	uv_timer_t graft_timer;
	uv_timer_t accept_timer; /* the next turn of the loop after an accept */
	unsigned accepts;        /* accepted in this turn */
	int accept_deferred;     /* a connection waits for the next turn */
	int stopping;
};

uv_loop_t *node_loop(struct node *);
void node_dial(struct node *, struct peer *);
int node_replicates(const struct node *, const uint8_t author[static 32]);
/* Recomputes the replicated set from the config and the stored member records. */
void node_recompute_set(struct node *);
/* Vouch for every configured peer with a member record, retract the rest (once ready). */
void node_reconcile_members(struct node *);
/* A peer's connection went away; it is redialled after its backoff. */
void node_peer_down(struct node *, struct peer *, const char *why, int bad);

#endif
