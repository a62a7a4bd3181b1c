/*
 * members.h: the replicated set (DESIGN.md "Leaving"): this node, its
 * configured peers, and the members their member records introduce, hop by
 * hop up to the configured limit; the member records by which this node
 * vouches for its peers; and the names that the config and member records
 * give to keys. A key, and a key by its name, is looked up in O(1). Loop thread only.
 */
#ifndef AGORA_MEMBERS_H
#define AGORA_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#define MEMBERS_ROLE_MAX  16 /* bytes of a role: partner, associate */
#define MEMBERS_SHOWN_MAX 64 /* bytes of the names (or roles) the introductions give a key */

struct config;
struct members;
struct store;

/* The set of a node whose key is self, reading member records from store. NULL: out of memory. */
struct members *members_new(struct store *, const uint8_t self[static 32]);
void members_free(struct members *); /* NULL-safe */
/* Our key rotated: self is pk from now on (members_recompute follows). */
void members_set_self(struct members *, const uint8_t pk[static 32]);

/*
 * Rebuilds the set: roots (this node first, then its peers), then hop by hop
 * (2..hops) the keys that the member records of the previous hop's feeds
 * name, with every introduction (who, name, role) but a key's own. Of one
 * introducer's member records only the latest max_introduced count: a member
 * with a stolen key cannot grow the set, and the cost of this, without bound
 * (an introducer found over it is logged once). Returns 1 if a key joined the
 * set (it grew, or a key took another's place), else 0.
 */
int members_recompute(struct members *, const uint8_t (*roots)[32], size_t nroots, int hops,
                      size_t max_introduced);

int members_has(const struct members *, const uint8_t pk[static 32]);
size_t members_count(const struct members *);
/* The i-th key, in the order keys joined the set (this node, its peers, then by hop). */
const uint8_t *members_key(const struct members *, size_t i);

/* Publishes one record of this node's (node_publish): 0, or negative with err set. */
typedef int members_publish_fn(void *arg, const char *type, const char *id, size_t id_len,
                               const uint8_t *body, size_t body_len, char *err, size_t errlen);

/*
 * Our live member records match cfg's peers: a peer without one is vouched
 * for ({"key", "name", "role": "partner"}), a record without a peer is
 * retracted, each through publish. Failures are logged.
 */
void members_reconcile(struct members *, const struct config *cfg, members_publish_fn *publish,
                       void *arg);

/*
 * A city's key from a base64 key or a name: cfg's first (this node's, a
 * peer's), then the names that member records give, never the key's own
 * records. 0; -1 if none; -2 if member records give the name to two keys or
 * more: pk is one, other (if not NULL) another. In O(1).
 */
int members_resolve_city(struct members *, const struct config *cfg, const char *key_or_name,
                         uint8_t pk[static 32], uint8_t *other);
/*
 * The name we know for a key: cfg's for this node and its peers, else what
 * the introductions say, every distinct name shown ("Lyon / Lione"); NULL if
 * none. Valid until cfg or the set changes.
 */
const char *members_city_name(struct members *, const struct config *cfg,
                              const uint8_t pk[static 32]);
/* The role of a key: cfg's for a peer, else its introductions' ("partner"); NULL if none. */
const char *members_city_role(struct members *, const struct config *cfg,
                              const uint8_t pk[static 32]);

/* Each introduction of pk in the set: who, and the name and role it gives. Returns how many. */
typedef void members_intro_fn(const uint8_t by[32], const char *name, const char *role, void *arg);
size_t members_intros(struct members *, const uint8_t pk[static 32], members_intro_fn *fn,
                      void *arg);

/*
 * The string field of a record's body (member, identity), copied into out, or
 * "" when there is none, it is not a string, or it holds control characters
 * (bodies from the network are not held to their schema).
 */
struct ag_entry;
void members_body_str(const struct ag_entry *e, const char *field, char *out, size_t cap);

#endif
