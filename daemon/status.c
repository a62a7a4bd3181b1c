/* status.c: the node's peers and status as the control socket answers them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include <sodium.h>

#include "certs.h"
#include "conn.h"
#include "key.h"
#include "node.h"
#include "peer.h"
#include "status.h"
#include "store.h"
#include "sync.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void peer_fill(struct peer *p, struct ag_ctl_peer *out)
{
	struct sync_lag lag = {0};

	if (p->host[0])
		snprintf(out->endpoint, sizeof(out->endpoint), "%s:%u", p->host, p->port);
	if (p->link)
		sync_lag(p->link, &lag);
	out->we_lack = lag.we_lack;
	out->they_lack = lag.they_lack;
	out->lag_known_ms = lag.known ? wall_ms() - lag.age_ms : 0;
	out->bytes_in = p->conn ? conn_bytes_in(p->conn) : 0;
	out->bytes_out = p->conn ? conn_bytes_out(p->conn) : 0;
	out->connected = p->up;
	out->duplicates = sync_duplicates(p->link);
	ag_key_to_b64(out->key, p->pk);
	out->last_contact_ms = (uint64_t)p->last_contact_ms;
	snprintf(out->name, sizeof(out->name), "%s", p->name);
	out->received = sync_received(p->link);
	out->sent = sync_sent(p->link);
	out->invalid = sync_invalid(p->link);
	out->protocol = sync_peer_version(p->link, out->software, sizeof(out->software));
}

/* A peer's role, as the config gives it. */
static void peer_role(struct node *n, struct peer *p, struct ag_ctl_peer *out)
{
	const char *role = node_city_role(n, p->pk);

	snprintf(out->role, sizeof(out->role), "%s", role ? role : "");
}

static int peers_fill(struct node *n, struct ag_ctl_peer **peers, size_t *npeers)
{
	size_t count = node_peer_count(n);

	if (!(*peers = calloc(count ? count : 1, sizeof(**peers))))
		return -1;
	*npeers = count;
	for (size_t i = 0; i < count; i++) {
		peer_fill(node_peer_at(n, i), &(*peers)[i]);
		peer_role(n, node_peer_at(n, i), &(*peers)[i]);
	}
	return 0;
}

int status_peers_fill(struct node *n, struct ag_ctl_peers *p)
{
	memset(p, 0, sizeof(*p));
	return peers_fill(n, &p->peers, &p->npeers);
}

static int count_fork(const struct ag_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 0;
}

/*
 * A feed's head and what its bodies take; a forked feed takes nothing more
 * until an operator decides, nor one at its entry cap.
 */
static void feed_fill(struct node *n, const uint8_t *author, struct ag_ctl_feed *out)
{
	struct store *st = node_store(n);
	const char *name = node_city_name(n, author), *role = node_city_role(n, author);
	uint8_t hash[AG_HASH_LEN];
	struct store_usage u = {0, 0, false};
	uint32_t flags = 0;
	ssize_t forks;

	(void)store_head(st, author, &out->seq, hash);
	(void)store_flags(st, author, &flags);
	(void)store_usage(st, author, &u);
	out->body_bytes = u.body_bytes;
	out->dropped = u.dropped;
	out->over_quota = u.over_quota;
	out->capped =
	    !store_takes(st, author, out->seq + 1) && out->seq >= node_config(n)->quota_entries;
	forks = (flags & STORE_FLAG_FORKED) ? store_forks(st, author, count_fork, NULL) : 0;
	ag_key_to_b64(out->author, author);
	out->forked = (flags & STORE_FLAG_FORKED) != 0;
	out->forks = forks > 0 ? (uint64_t)forks : 0; /* the proofs kept */
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	snprintf(out->role, sizeof(out->role), "%s", role ? role : "");
}

/* Each configured peer, and whether it holds this node's feed as far as seq. */
static int purge_peers_fill(struct node *n, const uint8_t *self, struct ag_ctl_purge *pu)
{
	size_t count = node_peer_count(n);

	if (!(pu->peers = calloc(count ? count : 1, sizeof(*pu->peers))))
		return -1;
	pu->npeers = count;
	for (size_t i = 0; i < count; i++) {
		struct peer *p = node_peer_at(n, i);
		struct ag_ctl_purge_peer *out = &pu->peers[i];

		out->connected = p->up;
		ag_key_to_b64(out->key, p->pk);
		snprintf(out->name, sizeof(out->name), "%s", p->name);
		out->known = p->link ? sync_known(p->link, self) : 0;
		out->reached = out->known >= pu->seq;
	}
	return 0;
}

struct purges {
	struct ag_ctl_purge *list;
	size_t n;
};

static int purge_found(const struct ag_entry *e, void *arg)
{
	struct purges *ps = arg;
	struct ag_ctl_purge *pu = &ps->list[ps->n++];

	pu->seq = e->h.seq;
	pu->ts = e->h.timestamp;
	snprintf(pu->id, sizeof(pu->id), "%.*s", (int)e->h.id_len, e->h.id);
	return ps->n == AG_CTL_PURGES_MAX;
}

/*
 * This node's own purges, the newest first, and which peers have reached
 * each: a peer that holds the feed as far as a purge's seq holds the purge,
 * so has erased what it names (DESIGN.md "Bodies: absent, purged, over quota").
 */
static int purges_fill(struct node *n, const uint8_t *self, struct ag_ctl_node *st)
{
	struct index_query q = {.type = "purge", .author = self, .limit = AG_CTL_PURGES_MAX};
	struct purges ps = {calloc(AG_CTL_PURGES_MAX, sizeof(*ps.list)), 0};

	st->purges = ps.list;
	if (!ps.list || store_search(node_store(n), &q, purge_found, &ps) < 0)
		return -1;
	st->npurges = ps.n;
	for (size_t i = 0; i < ps.n; i++)
		if (purge_peers_fill(n, self, &ps.list[i]) != 0)
			return -1;
	return 0;
}

/* ---- the succession certificates held, and the feeds they (or rotations) closed ---- */

static int count_cert(const uint8_t *raw, size_t len, void *arg)
{
	(void)raw, (void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

struct closed_ctx {
	struct node *node;
	struct ag_ctl_node *st;
	size_t cap;
	bool failed; /* out of memory */
};

static int add_closed(const uint8_t author[AG_PK_LEN], uint32_t flags, void *arg)
{
	struct closed_ctx *c = arg;
	struct ag_ctl_node *st = c->st;
	struct ag_ctl_city *grown;
	const char *name = node_city_name(c->node, author);

	(void)flags;
	if (st->nclosed == c->cap) {
		if (!(grown = realloc(st->closed, (c->cap * 2 + 4) * sizeof(*grown))))
			return c->failed = true;
		st->closed = grown;
		c->cap = c->cap * 2 + 4;
	}
	ag_key_to_b64(st->closed[st->nclosed].key, author);
	snprintf(st->closed[st->nclosed].name, sizeof(st->closed->name), "%s", name ? name : "");
	st->nclosed++;
	return 0;
}

/* 0, or -1 when out of memory or the store fails. */
static int closed_fill(struct node *n, struct ag_ctl_node *st)
{
	struct closed_ctx c = {n, st, 0, false};

	if (certs_each(node_store(n), count_cert, &st->certs) < 0 ||
	    store_flagged(node_store(n), STORE_FLAG_CLOSED, add_closed, &c) != 0)
		return -1;
	return c.failed ? -1 : 0;
}

int status_fill(struct node *n, struct ag_ctl_node *st)
{
	size_t count = node_feed_count(n);
	uint8_t key[AG_PK_LEN];
	struct sync_progress cu;
	const char *name;

	memset(st, 0, sizeof(*st));
	node_id(n, key, &name);
	ag_key_to_b64(st->key, key);
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->ready = node_ready(n);
	st->max_disk = node_config(n)->max_disk;
	st->quota = node_config(n)->quota;
	st->quota_entries = node_config(n)->quota_entries;
	st->store_bytes = store_disk_used(node_store(n));
	st->store_full = store_disk_full(node_store(n));
	snprintf(st->waiting, sizeof(st->waiting), "%s", node_wait_why(n));
	node_catchup(n, &cu);
	st->catchup = (struct ag_ctl_catchup){.left_ms = cu.left_ms,
	                                      .missing = cu.missing,
	                                      .rate = cu.rate,
	                                      .received = cu.received,
	                                      .running = cu.running};
	if (!(st->feeds = calloc(count ? count : 1, sizeof(*st->feeds))) ||
	    peers_fill(n, &st->peers, &st->npeers) != 0 || purges_fill(n, key, st) != 0 ||
	    closed_fill(n, st) != 0) {
		ag_ctl_resp_clear(&ag_ctl_status_shape, st);
		return -1;
	}
	st->nfeeds = count;
	for (size_t i = 0; i < count; i++)
		feed_fill(n, node_feed_at(n, i), &st->feeds[i]);
	return 0;
}

/* Feeds flagged forked, and feeds over quota, of those this node replicates. */
static void count_feeds(struct node *n, uint64_t *forked, uint64_t *over)
{
	struct store_usage u;
	uint32_t flags;

	*forked = *over = 0;
	for (size_t i = 0; i < node_feed_count(n); i++) {
		if (store_flags(node_store(n), node_feed_at(n, i), &flags) == 0 &&
		    (flags & STORE_FLAG_FORKED))
			(*forked)++;
		if (store_usage(node_store(n), node_feed_at(n, i), &u) == 0 && u.over_quota)
			(*over)++;
	}
}

int status_metrics_fill(struct node *n, struct ag_ctl_metrics *m)
{
	struct store_stats st;
	struct timespec ts;
	int64_t now;

	memset(m, 0, sizeof(*m));
	if (store_stats(node_store(n), &st) != 0)
		return -1;
	if (peers_fill(n, &m->peers, &m->npeers) != 0)
		return -1;
	m->entries = st.entries;
	m->feeds = st.feeds;
	count_feeds(n, &m->forked, &m->over_quota);
	m->max_disk = node_config(n)->max_disk;
	m->store_full = store_disk_full(node_store(n));
	m->invalid = node_invalid(n);
	m->ready = node_ready(n);
	m->records = st.records;
	m->store_bytes = st.used;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	m->uptime_ms = now > node_started_ms(n) ? (uint64_t)(now - node_started_ms(n)) : 0;
	return 0;
}

/* ---- FORKS: every forked feed, with the headers kept as proof ---- */

struct forks_ctx {
	struct node *node;
	struct ag_ctl_forks *out;
	size_t cap;
	int failed;
};

/* The fork of e's author: the last one, or a new one after it. NULL when out of memory. */
static struct ag_ctl_fork *fork_of(struct forks_ctx *c, const struct ag_entry *e)
{
	struct ag_ctl_forks *o = c->out;
	struct ag_ctl_fork *f, *grown;
	char key[AG_B64_LEN + 1];
	uint8_t self[AG_PK_LEN];
	const char *name;

	ag_key_to_b64(key, e->h.author);
	if (o->nforks > 0 && strcmp(o->forks[o->nforks - 1].author, key) == 0)
		return &o->forks[o->nforks - 1];
	if (o->nforks == c->cap) {
		if (!(grown = realloc(o->forks, (c->cap * 2 + 1) * sizeof(*grown))))
			return NULL;
		o->forks = grown;
		c->cap = c->cap * 2 + 1;
	}
	f = memset(&o->forks[o->nforks++], 0, sizeof(*f));
	memcpy(f->author, key, sizeof(key));
	name = node_city_name(c->node, e->h.author);
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
	node_id(c->node, self, &name);
	f->own = memcmp(self, e->h.author, AG_PK_LEN) == 0;
	f->seq = e->h.seq;
	return f;
}

static void proof_fill(const struct ag_entry *e, struct ag_ctl_proof *p)
{
	uint8_t hash[AG_HASH_LEN];

	ag_entry_hash(e, hash);
	sodium_bin2hex(p->hash, sizeof(p->hash), hash, sizeof(hash));
	snprintf(p->id, sizeof(p->id), "%.*s", (int)e->h.id_len, e->h.id);
	sodium_bin2base64(p->raw, sizeof(p->raw), e->h.raw, e->h.raw_len,
	                  sodium_base64_VARIANT_ORIGINAL);
	p->seq = e->h.seq;
	p->timestamp = e->h.timestamp;
	snprintf(p->type, sizeof(p->type), "%s", e->h.type);
}

/* One header kept as proof, in key order (author, seq): grouped by author. */
static int fork_proof(const struct ag_entry *e, void *arg)
{
	struct forks_ctx *c = arg;
	struct ag_ctl_fork *f = fork_of(c, e);
	struct ag_ctl_proof *grown;

	/* A proof is a header of at most AG_HEADER_MAX bytes; one over is not shown. */
	if (!f || !(grown = realloc(f->proofs, (f->nproofs + 1) * sizeof(*grown)))) {
		c->failed = 1;
		return 1;
	}
	f->proofs = grown;
	memset(&f->proofs[f->nproofs], 0, sizeof(*grown));
	if (e->h.raw_len <= AG_HEADER_MAX)
		proof_fill(e, &f->proofs[f->nproofs++]);
	f->seq = e->h.seq < f->seq ? e->h.seq : f->seq;
	return 0;
}

int status_forks_fill(struct node *n, struct ag_ctl_forks *out)
{
	struct forks_ctx c = {n, out, 0, 0};

	memset(out, 0, sizeof(*out));
	if (store_forks(node_store(n), NULL, fork_proof, &c) < 0 || c.failed) {
		ag_ctl_resp_clear(&ag_ctl_forks_shape, out);
		return -1;
	}
	return 0;
}
