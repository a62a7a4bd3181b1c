/*
 * node.h: the daemon's one node: its key, config, store, peers and
 * connections. Loop thread only. This is what the control socket asks of the
 * node; reads go straight to the store (node_store) in read-only transactions.
 */
#ifndef AGORA_NODE_H
#define AGORA_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct config;
struct node;
struct peer;
struct store;

/* Errors the control socket turns into CLI exit statuses. */
enum {
	NODE_ENOTFOUND = -1, /* no such record, peer or city: exit 1 */
	NODE_EREFUSED = -2,  /* bad input, refused: exit 2 */
	NODE_EWAIT = -3,     /* not ready to publish yet (own feed not yet learned from peers) */
	NODE_EFAIL = -4,     /* the node failed (store, disk): logged */
};

/* Loads DIR's key and config; nothing is open yet. NULL (logged) on failure. */
struct node *node_new(uv_loop_t *loop, const char *dir);
/* Opens the store, listens and dials. 0, or -1 (logged): then node_stop, as after a start. */
int node_start(struct node *);
/* Closes every handle; after the loop has run dry, node_free. */
void node_stop(struct node *);
void node_free(struct node *); /* NULL-safe */
/*
 * SIGHUP: every change of the config file (names, endpoints, peers, Listen,
 * Hops, LogLevel, SilentAfter) if it is entirely valid, or none, the reason
 * in one log line. 0 or -1.
 */
int node_reload(struct node *);
/* agorad -v: debug lines whatever LogLevel says, at start and after a reload. */
void node_pin_log_level(struct node *);

struct store *node_store(struct node *);
void node_id(const struct node *, uint8_t pk[static 32], const char **name);
const uint8_t *node_network(const struct node *);

/*
 * Publish a record of ours: body is canonical msgpack (a map) or NULL to retract.
 * On failure err (of errlen) says why in one line.
 */
int node_publish(struct node *, const char *type, const char *id, size_t id_len,
                 const uint8_t *body, size_t body_len, uint64_t *seq, uint8_t hash[static 32],
                 char *err, size_t errlen);

/* Allow publishing before the own feed is learned from peers (the operator knows best). */
void node_publish_force(struct node *);

/*
 * agora key rotate: a new key pair in DIR/node.key (the old one kept aside
 * in node.key.old until every peer has connected to the new one), the old
 * feed's last entry identity/successor naming it, the new feed's first
 * identity/self naming the old key and carrying the recovery key. new_pk and
 * old_pk get the two keys. 0, or a NODE_E* code with err.
 */
int node_key_rotate(struct node *, uint8_t new_pk[static 32], uint8_t old_pk[static 32], char *err,
                    size_t errlen);

/*
 * agora recover, first: the new key (made now, in DIR/node.key.next), the
 * key it succeeds, the last valid entry of its feed (the last this node
 * published, before any fork: seq 0 and a zero hash for none), the network
 * and the recovery key the feed names, for the CLI to sign a certificate.
 * With lost (a key whose node.key is gone, 32 bytes, or NULL), the feed is
 * lost's and the new key is the one this node runs with (agora key new).
 */
struct node_recovery {
	uint8_t new_pk[32], old_pk[32], network[32], recovery[32];
	uint64_t seq;
	uint8_t hash[32];
};
int node_recover_begin(struct node *, const uint8_t *lost, struct node_recovery *, char *err,
                       size_t errlen);

/*
 * agora recover, then: the certificate (raw, len; decoded into c) signed by
 * the recovery key, naming this node's key and its next one: kept, applied
 * (node_cert_import), passed on through the old key's links, and the node
 * moves to the new key as at a rotation. 0, or a NODE_E* code with err.
 */
struct ag_cert;
int node_recover(struct node *, const uint8_t *raw, size_t len, struct ag_cert *c, char *err,
                 size_t errlen);

/*
 * agora cert import: a certificate checked against the recovery key its old
 * key's feed names, kept, its verdict applied (the old feed's entries after
 * the one it names, and any successor feed they named, voided everywhere it
 * spreads), passed on to every peer, and the old key's place in the config
 * moved to the new key. 0 (also when held already), or a NODE_E* code.
 */
int node_cert_import(struct node *, const uint8_t *raw, size_t len, struct ag_cert *c, char *err,
                     size_t errlen);

/* Add or remove a configured peer: written to the config file atomically, applied at once,
 * and its member record published or retracted. */
int node_peer_add(struct node *, const uint8_t pk[static 32], const char *name,
                  const char *endpoint, const char *role, char *err, size_t errlen);
int node_peer_remove(struct node *, const uint8_t pk[static 32], char *err, size_t errlen);

/* What agora status shows (status.c): the configured peers, the feeds replicated, readiness. */
size_t node_peer_count(const struct node *);
struct peer *node_peer_at(const struct node *, size_t i);
size_t node_feed_count(const struct node *);
const uint8_t *node_feed_at(const struct node *, size_t i);
/* Whether our own feed has been learned from a peer (or publishing was forced). */
bool node_ready(const struct node *);
/* While not ready, why the store may be behind the key (DESIGN.md's restart rule); else "". */
const char *node_wait_why(const struct node *);
/* Whether a key is in the replicated set: a feed out of it leaves lists and search at once. */
bool node_in_set(const struct node *, const uint8_t pk[static 32]);
/* What agora check and agora metrics read (health.c, status.c): the config in force, DIR,
 * when the node started (ms since the epoch), entries refused as invalid since then. */
const struct config *node_config(const struct node *);
const char *node_dir(const struct node *);
int64_t node_started_ms(const struct node *);
uint64_t node_invalid(const struct node *);
/* How many configured peers there are, and how many have a connection up (service.c). */
void node_peer_counts(const struct node *, size_t *connected, size_t *peers);
/* The catch-up's figures (sync_progress), brought up to now (status.c, service.c). */
struct sync_progress;
void node_catchup(struct node *, struct sync_progress *);

/*
 * A city's key from a base64 key or a name (the config first, then member
 * records): 0, NODE_ENOTFOUND, or NODE_EREFUSED for a name that member
 * records give to two keys: pk is one and other (if not NULL) another.
 */
int node_resolve_city(struct node *, const char *key_or_name, uint8_t pk[static 32],
                      uint8_t *other);
/* The name we know for a key ("A / B" when introductions disagree), or NULL. */
const char *node_city_name(struct node *, const uint8_t pk[static 32]);
/* The role we know for a key (the config's for a peer, else its introductions'), or NULL. */
const char *node_city_role(struct node *, const uint8_t pk[static 32]);

#endif
