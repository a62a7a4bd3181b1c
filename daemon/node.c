/*
 * node.c: the daemon's node: wires key, config, store, listener, peers,
 * members and sync together; publishes; adds and removes peers.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sodium.h>

#include "certs.h"
#include "config.h"
#include "conn.h"
#include "ctl.h"
#include "head.h"
#include "keyfile.h"
#include "leave.h"
#include "listener.h"
#include "log.h"
#include "members.h"
#include "mp.h"
#include "node.h"
#include "noise.h"
#include "peer.h"
#include "recovery.h"
#include "schema.h"
#include "store.h"
#include "strangers.h"
#include "succession.h"
#include "sync.h"

#define NODE_PING_MS    15000 /* keepalive to every connected peer */
#define NODE_SILENCE_MS 45000 /* a peer silent this long is disconnected */
#define NODE_COMPACT_MS 5000  /* a purge stored is compacted away within this (and the copy) */

struct node {
	uv_loop_t *loop;
	char dir[PATH_MAX];
	char conf_path[PATH_MAX + 16];
	struct config *cfg;
	uint8_t pk[32], sk[64];
	struct conn_keys keys;
	uint8_t recovery[32]; /* DIR/recovery.pub: named by our feed's first entry */
	int has_recovery;
	/* After agora key rotate: the old key (DIR/node.key.old), until every peer moved. */
	uint8_t old_pk[32], old_sk[64];
	struct conn_keys old_keys;
	int has_old;
	/* Successions received (old key, new key), applied off sync's callback. */
	uint8_t (*moves)[64];
	size_t nmoves;
	/* Certificates received in SUCCESSION messages, applied off sync's callback too. */
	struct node_cert *certs;
	size_t ncerts;
	struct log_ratelimit
	    cert_rl; /* certificates refused: a peer sends its own at each connect */
	uv_timer_t move_timer;
	struct store *store;
	struct peer **peers;
	size_t npeers;
	struct listener *listener;     /* NULL once stopped */
	struct members *members;       /* the replicated set: self, peers, introduced members */
	struct strangers *strangers;   /* unknown keys that tried to connect */
	struct sync *sync;             /* replication over every peer link */
	int ready;                     /* our own feed has been learned from a peer (or forced) */
	char wait_why[PATH_MAX + 200]; /* while not ready: why the store may be behind the key */
	uv_timer_t keepalive;
	uv_timer_t graft_timer;
	uv_timer_t claims_timer; /* claims of our own feed fall due */
	uv_timer_t compact_timer;
	uv_timer_t leave_timer; /* feeds out of the set: marked, dropped after LeaveGrace */
	int stopping;
	int64_t started_ms; /* Unix time */
	int log_pinned;     /* -v: LogLevel does not apply */
};

struct node_cert {
	uint8_t raw[AG_CERT_MAX];
	size_t len;
};

/* Recomputes the replicated set from the config and the stored member records. */
static void node_recompute_set(struct node *n);
/* Vouch for every configured peer with a member record, retract the rest (once ready). */
static void node_reconcile_members(struct node *n);

struct store *node_store(struct node *n)
{
	return n->store;
}

void node_id(const struct node *n, uint8_t pk[static 32], const char **name)
{
	memcpy(pk, n->pk, 32);
	*name = n->cfg->name;
}

const uint8_t *node_network(const struct node *n)
{
	return n->keys.network;
}

size_t node_peer_count(const struct node *n)
{
	return n->npeers;
}

struct peer *node_peer_at(const struct node *n, size_t i)
{
	return n->peers[i];
}

size_t node_feed_count(const struct node *n)
{
	return members_count(n->members);
}

const uint8_t *node_feed_at(const struct node *n, size_t i)
{
	return members_key(n->members, i);
}

bool node_ready(const struct node *n)
{
	return n->ready;
}

const char *node_wait_why(const struct node *n)
{
	return n->ready ? "" : n->wait_why;
}

const struct config *node_config(const struct node *n)
{
	return n->cfg;
}

const char *node_dir(const struct node *n)
{
	return n->dir;
}

int64_t node_started_ms(const struct node *n)
{
	return n->started_ms;
}

uint64_t node_invalid(const struct node *n)
{
	return n->sync ? sync_invalid_total(n->sync) : 0;
}

static struct peer *find_peer(const struct node *n, const uint8_t pk[32])
{
	for (size_t i = 0; i < n->npeers; i++)
		if (memcmp(n->peers[i]->pk, pk, 32) == 0)
			return n->peers[i];
	return NULL;
}

/* ---- connections ---- */

static void *on_allow(void *ud, struct conn *c, const uint8_t x_pk[static 32])
{
	struct node *n = ud;

	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];

		if (p->removed || sodium_memcmp(p->x_pk, x_pk, 32) != 0)
			continue;
		/* It sent invalid data: it may call again only after the backoff, as we would. */
		if (p->bad_until_ms > uv_now(n->loop)) {
			log_debug("%s: refused: cut off for invalid data", p->name);
			return NULL;
		}
		/* Which of two connections stays is decided at up(), once this one is confirmed. */
		return p;
	}
	strangers_seen(n->strangers, x_pk, conn_addr(c), uv_now(n->loop));
	return NULL;
}

/*
 * Of a peer's connection old and a new one c, both its own, whether c stays:
 * the newer, unless the two were dialed from both ends at once; then the one
 * dialed by the smaller key, as the peer decides too.
 */
static int keep_new(const struct node *n, const struct peer *p, const struct conn *old,
                    const struct conn *c)
{
	if (conn_initiator(old) == conn_initiator(c))
		return 1;
	return conn_initiator(c) == (memcmp(n->pk, p->pk, 32) < 0);
}

static void node_old_key_check(struct node *n);

static void on_up(void *ud, struct conn *c)
{
	struct node *n = ud;
	struct peer *p = conn_peer(c);

	if (n->listener)
		listener_release(n->listener, c);
	if (p->conn && p->conn != c) {
		if (!keep_new(n, p, p->conn, c)) {
			conn_close(c, "both ends dialed: the other connection stays");
			return;
		}
		conn_close(p->conn, "replaced by a newer connection");
	}
	p->conn = c;
	p->up = 1;
	p->moved |= !conn_initiator(c) || !p->dial_old;
	p->bad = 0;
	p->backoff_ms = 0;
	p->last_contact_ms = (int64_t)time(NULL) * 1000;
	log_peer(LOG_LEVEL_INFO, p->name, "connected (%s)%s", conn_addr(c),
	         p->dial_old ? " with our old key" : "");
	sync_up(p->link, n->cfg->name);
	node_old_key_check(n);
}

static void on_msg(void *ud, struct conn *c, const uint8_t *msg, size_t len)
{
	struct peer *p = conn_peer(c);

	(void)ud;
	p->last_contact_ms = (int64_t)time(NULL) * 1000;
	if (p->link)
		sync_msg(p->link, msg, len);
}

static void on_drain(void *ud, struct conn *c)
{
	struct peer *p = conn_peer(c);

	(void)ud;
	if (p->link)
		sync_drain(p->link);
}

static void on_down(void *ud, struct conn *c, const char *why)
{
	struct node *n = ud;
	struct peer *p = conn_peer(c);
	uint64_t outside;

	if (n->listener)
		listener_release(n->listener, c);
	if (!p) {
		log_debug("%s: closed before authentication: %s", conn_addr(c), why);
		return;
	}
	if (p->conn != c) { /* a losing duplicate, replaced, or never confirmed */
		if (!conn_was_up(c) && !conn_initiator(c))
			log_ratelimited(
			    &p->rl, LOG_LEVEL_INFO, p->name,
			    "a connection in its name closed before it was confirmed: %s", why);
		return;
	}
	p->conn = NULL;
	if (conn_peer_fault(c))
		p->bad = 1;
	if (p->bad)
		p->bad_until_ms = uv_now(n->loop) + PEER_BAD_BACKOFF_MS;
	outside = p->link ? sync_outside(p->link) : 0;
	if (p->up && outside > 0)
		log_peer(LOG_LEVEL_INFO, p->name,
		         "disconnected: %s (%llu entries of feeds we do not replicate ignored)",
		         why, (unsigned long long)outside);
	else if (p->up)
		log_peer(LOG_LEVEL_INFO, p->name, "disconnected: %s", why);
	else
		log_ratelimited(&p->rl, LOG_LEVEL_INFO, p->name, "cannot connect: %s", why);
	p->up = 0;
	if (p->link)
		sync_down(p->link);
	if (p->removed) {
		peer_free(p);
		return;
	}
	if (!n->stopping)
		peer_schedule_dial(p, p->bad ? PEER_BAD_BACKOFF_MS : 0);
}

static const struct conn_ops node_conn_ops = {on_allow, on_up, on_msg, on_drain, on_down};

/* ---- what sync is handed ---- */

static int link_send(void *ud, const uint8_t *msg, size_t len)
{
	struct peer *p = ud;

	return p->conn ? conn_send(p->conn, msg, len) : -1;
}

static size_t link_queued(void *ud)
{
	struct peer *p = ud;

	return p->conn ? conn_queued(p->conn) : 0;
}

static void link_pause(void *ud, int pause)
{
	struct peer *p = ud;

	if (p->conn)
		conn_pause(p->conn, pause);
}

/* The connection closes; its down() backs a faulty peer off. */
static void link_cut(void *ud, const char *why, int fault)
{
	struct peer *p = ud;

	if (fault)
		p->bad = 1;
	if (p->conn)
		conn_close(p->conn, why);
}

static void on_members_changed(void *ud)
{
	node_recompute_set(ud);
}

static void node_follow_due(uv_timer_t *t);

/* Applied on the loop's next turn: sync is inside its link's callback now. */
static void on_succession(void *ud, const struct ag_entry *e)
{
	struct node *n = ud;
	uint8_t(*m)[64], new_pk[32];

	if (succession_key(e, "successor", new_pk) != 0 ||
	    !(m = realloc(n->moves, (n->nmoves + 1) * sizeof(*m))))
		return;
	n->moves = m;
	memcpy(m[n->nmoves], e->h.author, 32);
	memcpy(m[n->nmoves++] + 32, new_pk, 32);
	uv_timer_start(&n->move_timer, node_follow_due, 0, 0);
}

/* A certificate from a peer: checked and applied on the loop's next turn, as a succession. */
static void on_certificate(void *ud, struct sync_link *from, const uint8_t *raw, size_t len)
{
	struct node *n = ud;
	struct node_cert *c;

	(void)from;
	if (len > AG_CERT_MAX || n->ncerts >= 64 ||
	    !(c = realloc(n->certs, (n->ncerts + 1) * sizeof(*c))))
		return;
	n->certs = c;
	memcpy(c[n->ncerts].raw, raw, len);
	c[n->ncerts++].len = len;
	uv_timer_start(&n->move_timer, node_follow_due, 0, 0);
}

/*
 * The peers' view is taken even when it ends short of node.head: the entries
 * after it reached no peer that answered, and if they come back later the
 * feed is flagged forked, as it would be without the mark.
 */
static void node_warn_behind(struct node *n)
{
	struct head_mark m;
	uint64_t seq = 0;
	uint8_t hash[32];

	if (head_load(n->dir, n->pk, &m) == 1 && store_head(n->store, n->pk, &seq, hash) >= 0 &&
	    seq < m.seq)
		log_warnx("this key published seq %llu (%s/" HEAD_FILE
		          ") but the peers that answered hold its feed only to seq %llu: the "
		          "entries after it are taken as lost",
		          (unsigned long long)m.seq, n->dir, (unsigned long long)seq);
}

static void on_own_head_learned(void *ud, uint64_t seq)
{
	struct node *n = ud;

	if (n->ready)
		return;
	n->ready = 1;
	log_info("own feed learned from peers (seq %llu): publishing enabled",
	         (unsigned long long)seq);
	node_warn_behind(n);
	/* The configured peers' member records wait for this moment: vouch for them now. */
	node_reconcile_members(n);
}

static void on_graft(uv_timer_t *t)
{
	sync_graft_due(((struct node *)t->data)->sync);
}

static void graft_later(void *ud, uint64_t ms)
{
	struct node *n = ud;

	if (!uv_is_active((uv_handle_t *)&n->graft_timer))
		uv_timer_start(&n->graft_timer, on_graft, ms, 0);
}

static void on_claims(uv_timer_t *t)
{
	sync_claims_due(((struct node *)t->data)->sync);
}

static void claims_later(void *ud, uint64_t ms)
{
	struct node *n = ud;

	if (!uv_is_active((uv_handle_t *)&n->claims_timer) ||
	    uv_timer_get_due_in(&n->claims_timer) > ms)
		uv_timer_start(&n->claims_timer, on_claims, ms, 0);
}

static uint64_t loop_now(void *ud)
{
	return uv_now(((struct node *)ud)->loop);
}

static const struct sync_ops node_sync_ops = {
    .send = link_send,
    .queued = link_queued,
    .pause = link_pause,
    .cut = link_cut,
    .members_changed = on_members_changed,
    .succession = on_succession,
    .certificate = on_certificate,
    .own_head_learned = on_own_head_learned,
    .graft_later = graft_later,
    .claims_later = claims_later,
    .now_ms = loop_now,
};

/*
 * The key we dial p with: after a rotation, a peer that has not connected to
 * our new key may know only the old one (it was away); the two are tried in
 * turn until it has.
 */
static const struct conn_keys *dial_keys(struct node *n, struct peer *p)
{
	p->dial_old = n->has_old && !p->moved && !p->dial_old;
	return p->dial_old ? &n->old_keys : &n->keys;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct peer *p = req->data;
	struct node *n = p->node;

	free(req);
	p->resolving--;
	if (p->removed || n->stopping) {
		if (p->removed && p->resolving == 0)
			peer_free(p);
	} else if (status < 0) {
		log_ratelimited(&p->rl, LOG_LEVEL_WARN, p->name, "cannot resolve %s: %s", p->host,
		                uv_strerror(status));
		peer_schedule_dial(p, 0);
	} else if (!p->conn) {
		p->conn = conn_dial(n->loop, res->ai_addr, p->x_pk, p, dial_keys(n, p),
		                    &node_conn_ops, n);
	}
	uv_freeaddrinfo(res);
}

static void node_dial(struct node *n, struct peer *p)
{
	uv_getaddrinfo_t *req;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	char port[8];

	if (p->conn || p->removed || n->stopping || p->host[0] == '\0')
		return;
	if (!(req = malloc(sizeof(*req))))
		return;
	req->data = p;
	snprintf(port, sizeof(port), "%u", p->port);
	p->resolving++; /* the resolver holds the peer */
	if (uv_getaddrinfo(n->loop, req, on_resolved, p->host, port, &hints) < 0) {
		p->resolving--;
		free(req);
		peer_schedule_dial(p, 0);
	}
}

/* ---- the replicated set: self, peers, and members they introduce ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* How often feeds out of the set are looked at: a quarter of LeaveGrace, 1 s to 60 s. */
static uint64_t leave_period_ms(const struct node *n)
{
	uint64_t ms = (uint64_t)n->cfg->leave_grace * 1000 / 4;

	return ms < 1000 ? 1000 : ms > 60000 ? 60000 : ms;
}

static void on_leave(uv_timer_t *t)
{
	struct node *n = t->data;

	(void)leave_scan(n->store, n->members, now_ms(), (uint64_t)n->cfg->leave_grace * 1000);
	uv_timer_start(&n->leave_timer, on_leave, leave_period_ms(n), 0);
}

/* The set changed: a key may have left it; the next look comes within a second. */
static void leave_soon(struct node *n)
{
	if (n->leave_timer.data && !n->stopping && uv_timer_get_due_in(&n->leave_timer) > 1000)
		uv_timer_start(&n->leave_timer, on_leave, 1000, 0);
}

bool node_in_set(const struct node *n, const uint8_t pk[static 32])
{
	return members_has(n->members, pk);
}

static void node_recompute_set(struct node *n)
{
	uint8_t(*roots)[32] = malloc((n->npeers + 2) * sizeof(*roots));
	size_t k = 0;

	if (!roots) {
		log_error("out of memory: the replicated set is not recomputed");
		return;
	}
	memcpy(roots[k++], n->pk, 32);
	if (n->has_old) /* our old feed, until every peer has its successor entry */
		memcpy(roots[k++], n->old_pk, 32);
	for (size_t i = 0; i < n->npeers; i++)
		if (!n->peers[i]->removed)
			memcpy(roots[k++], n->peers[i]->pk, 32);
	if (members_recompute(n->members, roots, k, n->cfg->hops, n->cfg->max_introduced) > 0)
		sync_clock_all(n->sync);
	leave_soon(n);
	free(roots);
}

/* ---- publishing ---- */

/* Our own feed is flagged forked: the store refuses to add to it. */
static bool node_own_forked(struct node *n)
{
	uint32_t flags = 0;

	return store_flags(n->store, n->pk, &flags) == 0 && (flags & STORE_FLAG_FORKED);
}

/* Why a publish waits, and what to do, in one line. */
static int node_wait_error(struct node *n, char *err, size_t errlen)
{
	size_t connected, peers;

	node_peer_counts(n, &connected, &peers);
	snprintf(err, errlen,
	         "not published: this node waits to learn its own feed from a peer, since %s; "
	         "no peer has answered yet (%zu of %zu connected). Publish with --force to go "
	         "ahead, at the risk of forking the feed",
	         n->wait_why, connected, peers);
	return NODE_EWAIT;
}

/*
 * The restart rule (DESIGN.md "Daemon"): the node publishes at once unless
 * its store may be behind its key: its own feed is empty, there is no mark
 * (DIR/node.head) to hold it against, or it ends before the mark. Then it
 * waits for a peer's view of its feed, and wait_why says why. A node with no
 * peer has nobody to ask, and goes ahead.
 */
static void node_guard(struct node *n)
{
	struct head_mark m;
	uint64_t seq = 0;
	uint8_t hash[32];
	int mark = head_load(n->dir, n->pk, &m), held = store_head(n->store, n->pk, &seq, hash);
	size_t w = sizeof(n->wait_why);

	n->ready = 0;
	if (held < 0 || mark < 0)
		snprintf(n->wait_why, w, "%s/" HEAD_FILE " or the store cannot be read", n->dir);
	else if (held == 0)
		snprintf(n->wait_why, w, "its store holds none of its own feed (new or restored)");
	else if (mark == 0)
		snprintf(n->wait_why, w,
		         "its store holds its feed to seq %llu, and no %s/" HEAD_FILE
		         " tells whether the key published more",
		         (unsigned long long)seq, n->dir);
	else if (seq < m.seq)
		snprintf(n->wait_why, w,
		         "its store holds its feed to seq %llu, older than the seq %llu this key "
		         "published (%s/" HEAD_FILE "): a store restored from a backup?",
		         (unsigned long long)seq, (unsigned long long)m.seq, n->dir);
	else if (seq == m.seq && memcmp(hash, m.hash, 32) != 0)
		snprintf(n->wait_why, w,
		         "its store's entry at seq %llu is not the one this key published there "
		         "(%s/" HEAD_FILE ")",
		         (unsigned long long)seq, n->dir);
	else
		n->ready = 1;
	if (!n->ready && n->cfg->npeers == 0) {
		if (mark == 1) /* a new node has no mark, and nothing to warn of */
			log_warnx("publishing although %s: this node has no peer to learn its feed "
			          "from",
			          n->wait_why);
		n->ready = 1;
	}
	if (!n->ready)
		log_info("not publishing until a peer answers: %s", n->wait_why);
}

void node_publish_force(struct node *n)
{
	if (!n->ready)
		log_warnx("publishing before the own feed was learned from a peer, as asked");
	n->ready = 1;
	node_reconcile_members(n);
}

/*
 * The last entry this node published under its key, kept in the store: a
 * recovery names it as the last valid one, whatever a copy of the key
 * published after it (those entries reach this node's store too).
 */
static void node_published_key(const uint8_t pk[static 32], uint8_t k[static 42])
{
	memcpy(k, "published/", 10);
	memcpy(k + 10, pk, 32);
}

static void node_published_put(struct node *n, uint64_t seq, const uint8_t hash[static 32])
{
	uint8_t k[42], v[40];

	node_published_key(n->pk, k);
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(v + 8, hash, 32);
	if (store_meta_put(n->store, k, sizeof(k), v, sizeof(v)) != 0)
		log_error(
		    "the seq just published is not kept: a recovery would name the feed's head");
}

int node_publish(struct node *n, const char *type, const char *id, size_t id_len,
                 const uint8_t *body, size_t body_len, uint64_t *seq, uint8_t hash[static 32],
                 char *err, size_t errlen)
{
	static uint8_t buf[AG_HEADER_MAX];
	struct ag_entry e = {.h = {.timestamp = now_ms(), .id = id, .id_len = id_len}};
	struct head_mark mark;
	int rc;

	if (!n->ready)
		return node_wait_error(n, err, errlen);
	if (node_own_forked(n)) {
		snprintf(err, errlen, "not published: %s", AG_CTL_RECOVER_HINT);
		return NODE_EREFUSED;
	}
	if ((rc = ag_rectype_check(type, strlen(type))) != 0 ||
	    (rc = ag_recid_check(id, id_len)) != 0 ||
	    (body && (rc = ag_mp_check(body, body_len, AG_DEPTH_MAX - 1, NULL)) != 0)) {
		snprintf(err, errlen, "%s", ag_strerror(rc));
		return NODE_EREFUSED;
	}
	/*
	 * Strict when this node publishes (DESIGN.md "Versions live side by
	 * side"): peers of this release would keep a record it does not know, but
	 * could lay out none of it.
	 */
	if (!ag_schema_find(type)) {
		snprintf(err, errlen, "unknown record type \"%s\"", type);
		return NODE_EREFUSED;
	}
	if (ag_schema_check(type, id, id_len, body, body_len, err, errlen) != 0)
		return NODE_EREFUSED;
	memcpy(e.h.network, n->keys.network, 32);
	memcpy(e.h.author, n->pk, 32);
	snprintf(e.h.type, sizeof(e.h.type), "%s", type);
	e.body = body;
	e.body_len = body ? body_len : 0;
	if ((rc = store_publish(n->store, &e, n->sk, buf, sizeof(buf), hash)) != 0) {
		if (rc == STORE_EFULL)
			snprintf(
			    err, errlen,
			    "the disk of %s/data is full: nothing was written; free some space "
			    "and try again",
			    n->dir);
		else if (rc == STORE_EDISK)
			snprintf(err, errlen,
			         "the store has reached MaxDisk (%llu MiB): nothing was written; "
			         "raise MaxDisk in %s, or lower Quota and compact",
			         (unsigned long long)(n->cfg->max_disk >> 20), n->conf_path);
		else
			snprintf(err, errlen, "the store refused the write (see the daemon's log)");
		return NODE_EFAIL;
	}
	*seq = e.h.seq;
	node_published_put(n, e.h.seq, hash);
	sync_push(n->sync, &e, 1, NULL);
	if (strcmp(type, "member") == 0)
		node_recompute_set(n);
	/* The mark is synced before the entry is acknowledged (DESIGN.md "Daemon"). */
	memcpy(mark.hash, hash, 32);
	mark.seq = e.h.seq;
	if (head_save(n->dir, n->pk, &mark) != 0) {
		snprintf(err, errlen,
		         "seq %llu was stored, but %s/" HEAD_FILE
		         " could not be written (see the daemon's log): a restart will wait for a "
		         "peer before publishing",
		         (unsigned long long)e.h.seq, n->dir);
		return NODE_EFAIL;
	}
	return 0;
}

/* ---- peers ---- */

static int publish_record(void *arg, const char *type, const char *id, size_t id_len,
                          const uint8_t *body, size_t body_len, char *err, size_t errlen)
{
	uint8_t hash[32];
	uint64_t seq;

	return node_publish(arg, type, id, id_len, body, body_len, &seq, hash, err, errlen);
}

/*
 * A feed begins with identity/self, naming the city's recovery key (DESIGN.md
 * "Trust over the years"): published once our own feed is known to be empty.
 */
static void node_identity_self(struct node *n)
{
	uint8_t body[SUCCESSION_BODY_MAX], hash[32];
	size_t len = succession_body(body, n->recovery, NULL, NULL);
	char err[256];
	uint64_t seq;

	if (!n->has_recovery || store_head(n->store, n->pk, &seq, hash) != 0)
		return;
	if (node_publish(n, "identity", "self", 4, body, len, &seq, hash, err, sizeof(err)) != 0)
		log_error("identity/self: %s", err);
}

/*
 * Our live member records match our configured peers. Only once our own feed
 * is known, so a node restored from a backup never forks its feed.
 */
static void node_reconcile_members(struct node *n)
{
	if (!n->ready)
		return;
	node_identity_self(n);
	members_reconcile(n->members, n->cfg, publish_record, n);
}

static int add_peer_object(struct node *n, const struct config_peer *cp)
{
	struct peer *p = peer_new(n->loop, n, cp, node_dial), **np;

	if (!p)
		return -1;
	if (!(p->link = sync_link_new(n->sync, p->name, p))) {
		peer_free(p);
		return -1;
	}
	if (!(np = realloc(n->peers, (n->npeers + 1) * sizeof(*np)))) {
		peer_free(p);
		return -1;
	}
	n->peers = np;
	n->peers[n->npeers++] = p;
	node_dial(n, p);
	return 0;
}

static void drop_peer_object(struct node *n, struct peer *p)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i] == p) {
			n->peers[i] = n->peers[--n->npeers];
			break;
		}
	sync_link_free(p->link);
	p->link = NULL;
	uv_timer_stop(&p->timer);
	peer_free(p);
}

/* A key in base64 for a log line; valid until the next call. */
static const char *key_b64(const uint8_t pk[static 32])
{
	static char b64[AG_B64_LEN + 1];

	ag_key_to_b64(b64, pk);
	return b64;
}

int node_peer_add(struct node *n, const uint8_t pk[static 32], const char *name,
                  const char *endpoint, const char *role, char *err, size_t errlen)
{
	enum config_role r = CONFIG_PARTNER;
	struct config *next;
	uint8_t x_pk[32];
	int rc;

	if (ag_noise_pk_from_ed25519(x_pk, pk) != 0) {
		snprintf(err, errlen, "not a usable Ed25519 public key");
		return NODE_EREFUSED;
	}
	if (role && config_role_parse(role, &r) != 0) {
		snprintf(err, errlen, "role \"%s\": %s", role, config_strerror(CONFIG_EROLE));
		return NODE_EREFUSED;
	}
	next = config_dup(n->cfg);
	if (next && (rc = config_peer_add(next, pk, name, endpoint)) == 0)
		next->peers[next->npeers - 1].role = r;
	if (!next || rc != 0) {
		snprintf(err, errlen, "%s", next ? config_strerror(rc) : "out of memory");
		config_free(next);
		return next && rc == CONFIG_ENOMEM ? NODE_EFAIL : NODE_EREFUSED;
	}
	if (config_write(n->conf_path, next) != 0) {
		snprintf(err, errlen, "cannot write %s (see the daemon's log)", n->conf_path);
		config_free(next);
		return NODE_EFAIL;
	}
	config_free(n->cfg);
	n->cfg = next;
	log_info("peer %s added (%s)%s%s, by agora peer add%s", name, key_b64(pk),
	         endpoint && *endpoint ? " at " : "", endpoint && *endpoint ? endpoint : "",
	         r == CONFIG_ASSOCIATE ? ", as an associate city" : "");
	if (add_peer_object(n, &next->peers[next->npeers - 1]) != 0) {
		snprintf(err, errlen, "out of memory");
		return NODE_EFAIL;
	}
	node_recompute_set(n);
	node_reconcile_members(n);
	return 0;
}

int node_peer_remove(struct node *n, const uint8_t pk[static 32], char *err, size_t errlen)
{
	struct config *next = config_dup(n->cfg);
	struct peer *p = find_peer(n, pk);

	if (!next || !p || config_peer_remove(next, pk) != 0) {
		snprintf(err, errlen, "%s", next ? "no such peer" : "out of memory");
		config_free(next);
		return next ? NODE_ENOTFOUND : NODE_EFAIL;
	}
	if (config_write(n->conf_path, next) != 0) {
		snprintf(err, errlen, "cannot write %s (see the daemon's log)", n->conf_path);
		config_free(next);
		return NODE_EFAIL;
	}
	config_free(n->cfg);
	n->cfg = next;
	log_info("peer %s removed (%s), by agora peer remove", p->name, key_b64(pk));
	drop_peer_object(n, p);
	node_recompute_set(n);
	node_reconcile_members(n);
	return 0;
}

void node_peer_counts(const struct node *n, size_t *connected, size_t *peers)
{
	*connected = *peers = 0;
	for (size_t i = 0; i < n->npeers; i++) {
		if (n->peers[i]->removed)
			continue;
		(*peers)++;
		*connected += n->peers[i]->up != 0;
	}
}

void node_catchup(struct node *n, struct sync_progress *out)
{
	sync_progress(n->sync, out);
}

/* ---- names ---- */

int node_resolve_city(struct node *n, const char *key_or_name, uint8_t pk[static 32],
                      uint8_t *other)
{
	switch (members_resolve_city(n->members, n->cfg, key_or_name, pk, other)) {
	case 0:
		return 0;
	case -2:
		return NODE_EREFUSED;
	default:
		return NODE_ENOTFOUND;
	}
}

const char *node_city_role(struct node *n, const uint8_t pk[static 32])
{
	return members_city_role(n->members, n->cfg, pk);
}

const char *node_city_name(struct node *n, const uint8_t pk[static 32])
{
	return members_city_name(n->members, n->cfg, pk);
}

/* ---- life ---- */

/* A rotation's old key, kept until every peer has connected to the new one. */
static int load_old_key(struct node *n)
{
	uint8_t x_pk[32];

	if ((n->has_old = succession_key_old(n->dir, n->old_pk, n->old_sk)) <= 0)
		return n->has_old;
	if (ag_noise_key_from_ed25519(n->old_keys.x_sk, x_pk, n->old_sk) != 0)
		return -1;
	log_info("%s/%s is kept until every peer has connected to this node's new key", n->dir,
	         SUCCESSION_KEY_OLD);
	return 0;
}

static int load_keys(struct node *n)
{
	char path[PATH_MAX + 16], err[PATH_MAX + 160];
	uint8_t x_pk[32];

	snprintf(path, sizeof(path), "%s/node.key", n->dir);
	if (keyfile_load(path, n->pk, n->sk, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (ag_noise_key_from_ed25519(n->keys.x_sk, x_pk, n->sk) != 0) {
		log_error("%s: not a usable key", path);
		return -1;
	}
	if ((n->has_recovery = recovery_pub_read(n->dir, n->recovery, err, sizeof(err))) < 0) {
		log_error("%s", err);
		return -1;
	}
	return load_old_key(n);
}

/* A half-open connection (a cut cable, a sleeping NAT) is found within NODE_SILENCE_MS. */
static void on_keepalive(uv_timer_t *t)
{
	struct node *n = t->data;
	int64_t now = (int64_t)time(NULL) * 1000;

	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];

		if (!p->up || !p->conn)
			continue;
		if (now - p->last_contact_ms > NODE_SILENCE_MS)
			conn_close(p->conn, "no answer to keepalives");
		else
			sync_ping(p->link);
	}
}

/* After a purge is stored, its bodies' bytes leave the store's files (store_compact). */
static void on_compact(uv_timer_t *t)
{
	struct node *n = t->data;

	if (store_compact_due(n->store))
		store_compact(n->store);
}

static struct sync *node_sync_new(struct node *n)
{
	struct sync_env env = {.ops = &node_sync_ops,
	                       .ud = n,
	                       .loop = n->loop,
	                       .store = n->store,
	                       .set = n->members,
	                       .verify_every = n->cfg->verify_every};

	memcpy(env.self, n->pk, 32);
	memcpy(env.network, n->keys.network, 32);
	return sync_new(&env);
}

struct node *node_new(uv_loop_t *loop, const char *dir)
{
	struct node *n = calloc(1, sizeof(*n));
	int nerr = 0;

	if (!n)
		return NULL;
	n->loop = loop;
	n->cert_rl = LOG_RATELIMIT_INIT(5, 60000);
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	snprintf(n->conf_path, sizeof(n->conf_path), "%s/agorad.conf", dir);
	if (load_keys(n) != 0 || !(n->cfg = config_load(n->conf_path, n->pk, &nerr))) {
		node_free(n);
		return NULL;
	}
	memcpy(n->keys.network, n->cfg->network, 32);
	memcpy(n->old_keys.network, n->cfg->network, 32);
	return n;
}

/* What the store takes of the network: the config's quotas and MaxDisk. */
static void node_limits_apply(struct node *n)
{
	struct store_limits l = {n->cfg->quota, n->cfg->quota_entries, n->cfg->max_disk, {0}};

	memcpy(l.self, n->pk, AG_PK_LEN);
	store_limits_set(n->store, &l);
}

/*
 * DIR/node.key.next at start: a rotation or recovery cut short. If our feed
 * already handed over to it (its successor entry, or a certificate), the key
 * files move now, as they were about to; else it was never named, and goes.
 */
static int node_next_key(struct node *n)
{
	char path[PATH_MAX + 32], err[PATH_MAX + 160];
	uint8_t pk[32], sk[64];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", n->dir, SUCCESSION_KEY_NEXT);
	if (access(path, F_OK) != 0)
		return 0;
	rc = keyfile_load(path, pk, sk, err, sizeof(err));
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0 || !certs_hands_to(n->store, n->pk, pk)) {
		log_info("%s was never named as this node's successor: removed", path);
		return unlink(path);
	}
	log_info("finishing the succession to %s cut short: %s becomes node.key", key_b64(pk),
	         path);
	if (succession_key_swap(n->dir) != 0)
		return -1;
	sodium_memzero(n->sk, sizeof(n->sk));
	if (load_keys(n) != 0)
		return -1;
	memcpy(n->cfg->self_pk, n->pk, 32);
	return 0;
}

int node_start(struct node *n)
{
	char data[PATH_MAX + 16];

	snprintf(data, sizeof(data), "%s/data", n->dir);
	if ((mkdir(data, 0750) != 0 && errno != EEXIST) || !(n->store = store_open(data, 0))) {
		log_error("cannot open the store in %s", data);
		return -1;
	}
	if (node_next_key(n) != 0)
		return -1;
	node_limits_apply(n);
	if (!(n->members = members_new(n->store, n->pk)) || !(n->sync = node_sync_new(n)) ||
	    !(n->strangers = strangers_new())) {
		log_error("out of memory");
		return -1;
	}
	if (!(n->listener = listener_new(n->loop, (const struct sockaddr *)&n->cfg->listen,
	                                 &n->keys, &node_conn_ops, n)))
		return -1;
	uv_timer_init(n->loop, &n->keepalive);
	n->keepalive.data = n;
	uv_timer_start(&n->keepalive, on_keepalive, NODE_PING_MS, NODE_PING_MS);
	uv_timer_init(n->loop, &n->graft_timer);
	n->graft_timer.data = n;
	uv_timer_init(n->loop, &n->claims_timer);
	n->claims_timer.data = n;
	uv_timer_init(n->loop, &n->compact_timer);
	n->compact_timer.data = n;
	uv_timer_init(n->loop, &n->move_timer);
	n->move_timer.data = n;
	uv_timer_init(n->loop, &n->leave_timer);
	n->leave_timer.data = n;
	uv_timer_start(&n->leave_timer, on_leave, 1000, 0);
	uv_timer_start(&n->compact_timer, on_compact, NODE_COMPACT_MS, NODE_COMPACT_MS);
	for (size_t i = 0; i < n->cfg->npeers; i++)
		if (add_peer_object(n, &n->cfg->peers[i]) != 0)
			return -1;
	node_guard(n);
	n->started_ms = (int64_t)now_ms();
	if (!n->log_pinned)
		log_set_level(n->cfg->log_level);
	node_recompute_set(n);
	node_reconcile_members(n);
	return 0;
}

/* Closes the listener and every connection; the loop then runs dry. */
void node_stop(struct node *n)
{
	n->stopping = 1;
	/* What is being stored is stored and answered while the links are up, and before the store
	 * closes (node_free). */
	sync_stop(n->sync);
	if (n->keepalive.data && !uv_is_closing((uv_handle_t *)&n->keepalive))
		uv_close((uv_handle_t *)&n->keepalive, NULL);
	if (n->graft_timer.data && !uv_is_closing((uv_handle_t *)&n->graft_timer))
		uv_close((uv_handle_t *)&n->graft_timer, NULL);
	if (n->claims_timer.data && !uv_is_closing((uv_handle_t *)&n->claims_timer))
		uv_close((uv_handle_t *)&n->claims_timer, NULL);
	if (n->compact_timer.data && !uv_is_closing((uv_handle_t *)&n->compact_timer))
		uv_close((uv_handle_t *)&n->compact_timer, NULL);
	if (n->move_timer.data && !uv_is_closing((uv_handle_t *)&n->move_timer))
		uv_close((uv_handle_t *)&n->move_timer, NULL);
	if (n->leave_timer.data && !uv_is_closing((uv_handle_t *)&n->leave_timer))
		uv_close((uv_handle_t *)&n->leave_timer, NULL);
	listener_free(n->listener);
	n->listener = NULL;
	while (n->npeers > 0)
		drop_peer_object(n, n->peers[n->npeers - 1]);
}

/* ---- SIGHUP ---- */

/* What a reload changes, counted for its one log line. */
struct reload {
	size_t added, removed, changed;
	const char *node_keys[8]; /* [Node] keys whose value changed */
	size_t nkeys;
};

/* A peer whose name or endpoint changed takes the new one; a new endpoint is dialed at once. */
static void reload_peer(struct node *n, struct peer *p, const struct config_peer *cp,
                        struct reload *r)
{
	int moved = strcmp(p->host, cp->host) != 0 || p->port != cp->port;

	if (!moved && strcmp(p->name, cp->name) == 0)
		return;
	r->changed++;
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	sync_link_rename(p->link, p->name);
	if (!moved)
		return;
	snprintf(p->host, sizeof(p->host), "%s", cp->host);
	p->port = cp->port;
	p->backoff_ms = 0;
	uv_timer_stop(&p->timer);
	if (p->conn && conn_initiator(p->conn))
		conn_close(p->conn, "its endpoint changed"); /* on_down dials the new one */
	else
		node_dial(n, p);
}

static void reload_peers(struct node *n, const struct config *next, struct reload *r)
{
	const struct config_peer *cp;
	struct peer *p;

	for (size_t i = n->npeers; i-- > 0;)
		if (!config_peer_find(next, n->peers[i]->pk)) {
			log_peer(LOG_LEVEL_INFO, n->peers[i]->name, "removed from the config");
			drop_peer_object(n, n->peers[i]);
			r->removed++;
		}
	for (size_t j = 0; j < next->npeers; j++) {
		cp = &next->peers[j];
		if ((p = find_peer(n, cp->pk)))
			reload_peer(n, p, cp, r);
		else if (add_peer_object(n, cp) == 0)
			r->added++;
		else
			log_error("%s: out of memory: peer not added", cp->name);
	}
}

/*
 * What cannot change while the node runs (its network, bound into every
 * signature), or cannot be had (a new Listen address): refused, why said.
 * A new listener is made here, so the reload either has it or changes nothing.
 */
static int reload_check(struct node *n, const struct config *next, struct listener **l, char *why,
                        size_t whylen)
{
	*l = NULL;
	if (memcmp(next->network, n->cfg->network, sizeof(next->network)) != 0) {
		snprintf(why, whylen, "Network cannot change while agorad runs: restart it");
		return -1;
	}
	if (memcmp(&next->listen, &n->cfg->listen, sizeof(next->listen)) == 0 || !n->listener)
		return 0;
	if (!(*l = listener_new(n->loop, (const struct sockaddr *)&next->listen, &n->keys,
	                        &node_conn_ops, n))) {
		snprintf(why, whylen, "cannot listen on the new Listen address (see above)");
		return -1;
	}
	return 0;
}

static void reload_node_keys(struct node *n, const struct config *next, struct reload *r)
{
	if (strcmp(next->name, n->cfg->name) != 0)
		r->node_keys[r->nkeys++] = "Name";
	if (memcmp(&next->listen, &n->cfg->listen, sizeof(next->listen)) != 0)
		r->node_keys[r->nkeys++] = "Listen";
	if (next->hops != n->cfg->hops)
		r->node_keys[r->nkeys++] = "Hops";
	if (next->log_level != n->cfg->log_level) {
		r->node_keys[r->nkeys++] = "LogLevel";
		if (!n->log_pinned)
			log_set_level(next->log_level);
	}
	if (next->quota != n->cfg->quota)
		r->node_keys[r->nkeys++] = "Quota";
	if (next->quota_entries != n->cfg->quota_entries)
		r->node_keys[r->nkeys++] = "QuotaEntries";
	if (next->max_disk != n->cfg->max_disk)
		r->node_keys[r->nkeys++] = "MaxDisk";
	if (next->verify_every != n->cfg->verify_every) {
		r->node_keys[r->nkeys++] = "VerifyEvery";
		sync_set_verify_every(n->sync, next->verify_every);
	}
}

/* SIGHUP: every change of a config that is entirely valid is applied, or none. */
int node_reload(struct node *n)
{
	struct reload r = {0};
	struct listener *l;
	struct config *next;
	bool limits;
	char why[LOG_LINE_MAX - 100], keys[96] = "";

	if (!(next = config_load_why(n->conf_path, n->pk, why, sizeof(why))) ||
	    reload_check(n, next, &l, why, sizeof(why)) != 0) {
		log_error("config not reloaded, nothing changed: %s", why);
		config_free(next);
		return -1;
	}
	limits = next->quota != n->cfg->quota || next->quota_entries != n->cfg->quota_entries ||
	         next->max_disk != n->cfg->max_disk;
	reload_node_keys(n, next, &r);
	if (l) {
		listener_free(n->listener);
		n->listener = l;
	}
	reload_peers(n, next, &r);
	config_free(n->cfg);
	n->cfg = next;
	node_limits_apply(n);
	node_recompute_set(n);
	node_reconcile_members(n);
	/* The store may take what it refused: our heads tell the peers what to send again. */
	if (limits)
		sync_clock_all(n->sync);
	for (size_t i = 0; i < r.nkeys; i++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s", i ? ", " : "; ",
		         r.node_keys[i]);
	log_info("config reloaded: %zu peers (%zu added, %zu removed, %zu changed)%s%s", n->npeers,
	         r.added, r.removed, r.changed, keys, r.nkeys ? " changed" : "");
	return 0;
}

/* ---- succession: agora key rotate, and following a peer's ---- */

/* The recovery key our feed names (its identity/self), else DIR/recovery.pub's. */
static int recovery_of_self_entry(const struct ag_entry *e, void *arg)
{
	return succession_key(e, "recovery", arg) == 0 ? 0 : -1;
}

static int node_recovery_key(struct node *n, uint8_t out[static 32])
{
	if (store_get(n->store, "identity", n->pk, "self", 4, recovery_of_self_entry, out) == 1 &&
	    !sodium_is_zero(out, 32))
		return 0;
	memcpy(out, n->recovery, 32);
	return n->has_recovery ? 0 : -1;
}

/* Our key becomes pk/sk; the old one is kept aside until every peer has moved. */
static void node_key_switch(struct node *n, const uint8_t pk[static 32],
                            const uint8_t sk[static 64], const uint8_t x_sk[static 32])
{
	memcpy(n->old_pk, n->pk, 32);
	memcpy(n->old_sk, n->sk, 64);
	n->old_keys = n->keys;
	n->has_old = 1;
	memcpy(n->pk, pk, 32);
	memcpy(n->sk, sk, 64);
	memcpy(n->keys.x_sk, x_sk, 32);
	memcpy(n->cfg->self_pk, pk, 32);
	node_limits_apply(n); /* our own entries are always kept: the store's self moves too */
	sync_set_self(n->sync, n->pk);
	members_set_self(n->members, n->pk);
	for (size_t i = 0; i < n->npeers; i++)
		n->peers[i]->moved = 0;
}

/* The new feed's first entry names the old key and carries the recovery key. */
static int node_publish_successor_self(struct node *n, const uint8_t *recovery, char *err,
                                       size_t errlen)
{
	uint8_t body[SUCCESSION_BODY_MAX], hash[32];
	size_t len = succession_body(body, recovery, n->old_pk, NULL);
	uint64_t seq;

	return node_publish(n, "identity", "self", 4, body, len, &seq, hash, err, errlen);
}

static int rotate_refused(const struct node *n, char *err, size_t errlen)
{
	if (!n->ready) {
		snprintf(err, errlen,
		         "waiting to learn this node's own feed from its peers: a rotation now "
		         "could fork it");
		return NODE_EWAIT;
	}
	if (n->has_old) {
		snprintf(err, errlen,
		         "the last rotation has not reached every peer yet (%s/%s is still kept): "
		         "try again once they are connected",
		         n->dir, SUCCESSION_KEY_OLD);
		return NODE_EREFUSED;
	}
	return 0;
}

int node_key_rotate(struct node *n, uint8_t new_pk[static 32], uint8_t old_pk[static 32], char *err,
                    size_t errlen)
{
	uint8_t sk[64], x_sk[32], x_pk[32], body[SUCCESSION_BODY_MAX], hash[32], recovery[32];
	int has_recovery = node_recovery_key(n, recovery) == 0, rc;
	uint64_t seq;

	if ((rc = rotate_refused(n, err, errlen)) != 0)
		return rc;
	if (succession_key_next(n->dir, new_pk, sk) != 0 ||
	    ag_noise_key_from_ed25519(x_sk, x_pk, sk) != 0) {
		sodium_memzero(sk, sizeof(sk));
		snprintf(err, errlen, "cannot make the new key (see the daemon's log)");
		return NODE_EFAIL;
	}
	if ((rc = node_publish(n, "identity", "successor", 9, body,
	                       succession_body(body, NULL, NULL, new_pk), &seq, hash, err,
	                       errlen)) != 0 ||
	    succession_key_swap(n->dir) != 0) {
		sodium_memzero(sk, sizeof(sk));
		sodium_memzero(x_sk, sizeof(x_sk));
		if (rc == 0)
			snprintf(err, errlen, "cannot move the key files (see the daemon's log)");
		return rc ? rc : NODE_EFAIL;
	}
	memcpy(old_pk, n->pk, 32);
	node_key_switch(n, new_pk, sk, x_sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(x_sk, sizeof(x_sk));
	log_info("key rotated: %s is this node's key now; its old key's feed ends at seq %llu",
	         key_b64(n->pk), (unsigned long long)seq);
	if (node_publish_successor_self(n, has_recovery ? recovery : NULL, err, errlen) != 0)
		log_error("identity/self of the new key: %s", err);
	node_recompute_set(n);
	node_reconcile_members(n);
	return 0;
}

/* Every peer has connected to our new key: the old one goes. */
static void node_old_key_check(struct node *n)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (!n->peers[i]->removed && !n->peers[i]->moved)
			return;
	if (!n->has_old)
		return;
	succession_key_old_drop(n->dir);
	sodium_memzero(n->old_sk, sizeof(n->old_sk));
	sodium_memzero(&n->old_keys, sizeof(n->old_keys));
	n->has_old = 0;
	node_recompute_set(n);
}

/* The config with peer old's key replaced by new (or dropped, if new is a peer already). */
static struct config *config_moved(const struct config *cfg, const uint8_t old[static 32],
                                   const uint8_t new_pk[static 32])
{
	struct config *next = config_dup(cfg);

	if (!next)
		return NULL;
	if (config_peer_find(next, new_pk)) {
		config_peer_remove(next, old);
		return next;
	}
	for (size_t i = 0; i < next->npeers; i++)
		if (memcmp(next->peers[i].pk, old, 32) == 0)
			memcpy(next->peers[i].pk, new_pk, 32);
	return next;
}

/*
 * A key's successor: a peer of ours takes its new key in the config (and
 * with it our member record, name and role), so its old key is refused at
 * the handshake from now on; our own key's successor, made elsewhere, means
 * a copy of node.key is in other hands.
 */
static void node_follow(struct node *n, const uint8_t old[static 32],
                        const uint8_t new_pk[static 32])
{
	const struct config_peer *cp = config_peer_find(n->cfg, old);
	struct reload r = {0};
	char newkey[AG_B64_LEN + 1];
	struct config *next;

	ag_key_to_b64(newkey, new_pk);
	if (memcmp(old, n->pk, 32) == 0) {
		log_error("this node's own key was succeeded by %s elsewhere: someone holds a copy "
		          "of node.key; run agora recover --recovery-key FILE",
		          newkey);
		return;
	}
	if (!cp)
		return;
	if (!(next = config_moved(n->cfg, old, new_pk)) || config_write(n->conf_path, next) != 0) {
		log_error("peer %s moved to key %s, but %s cannot be rewritten", cp->name, newkey,
		          n->conf_path);
		config_free(next);
		return;
	}
	log_info("peer %s moved to its new key %s (its identity/successor): %s rewritten", cp->name,
	         newkey, n->conf_path);
	reload_peers(n, next, &r);
	config_free(n->cfg);
	n->cfg = next;
	node_recompute_set(n);
	node_reconcile_members(n);
}

/*
 * A certificate (DESIGN.md "Trust over the years"), from a peer or a file:
 * checked, kept, what it voids voided, passed on to every peer, and the old
 * key's place (and that of every successor it voided) moved to the new key.
 * 0 when applied, 1 when held already (or a winning one is), or a NODE_E*
 * code with err.
 */
static int node_cert_apply(struct node *n, const uint8_t *raw, size_t len, struct ag_cert *c,
                           char *err, size_t errlen)
{
	uint8_t succ[CERTS_CHAIN_MAX][32];
	char old[AG_B64_LEN + 1];
	size_t nsucc = 0;
	int rc;

	if (certs_check(n->store, n->keys.network, raw, len, c, err, errlen) != 0)
		return NODE_EREFUSED;
	if ((rc = certs_keep(n->store, c)) <= 0 ||
	    certs_void(n->store, c, succ, CERTS_CHAIN_MAX, &nsucc) != 0) {
		snprintf(err, errlen, rc == 0 ? "held already" : "the store failed (see the log)");
		return rc == 0 ? 1 : NODE_EFAIL;
	}
	ag_key_to_b64(old, c->old_key);
	log_info("certificate: %s is succeeded by %s; its entries after seq %llu are void, and "
	         "%zu successor feeds",
	         old, key_b64(c->new_key), (unsigned long long)c->last_seq, nsucc);
	sync_succession(n->sync, raw, len, NULL);
	if (memcmp(c->old_key, n->pk, 32) != 0) /* ours: node_recover moves this node itself */
		node_follow(n, c->old_key, c->new_key);
	for (size_t i = 0; i < nsucc; i++)
		node_follow(n, succ[i], c->new_key);
	node_recompute_set(n);
	sync_clock_all(n->sync);
	return 0;
}

int node_cert_import(struct node *n, const uint8_t *raw, size_t len, struct ag_cert *c, char *err,
                     size_t errlen)
{
	int rc = node_cert_apply(n, raw, len, c, err, errlen);

	return rc == 1 ? 0 : rc;
}

static void node_follow_due(uv_timer_t *t)
{
	struct node *n = t->data;
	struct ag_cert c;
	char err[256];

	for (size_t i = 0; i < n->nmoves && !n->stopping; i++)
		node_follow(n, n->moves[i], n->moves[i] + 32);
	free(n->moves);
	n->moves = NULL;
	n->nmoves = 0;
	for (size_t i = 0; i < n->ncerts && !n->stopping; i++)
		if (node_cert_apply(n, n->certs[i].raw, n->certs[i].len, &c, err, sizeof(err)) < 0)
			log_ratelimited(&n->cert_rl, LOG_LEVEL_WARN, NULL,
			                "a succession certificate from a peer is refused: %s", err);
	free(n->certs);
	n->certs = NULL;
	n->ncerts = 0;
}

/* ---- recovery: agora recover ---- */

struct fork_low {
	uint64_t seq;
};

static int on_fork_proof(const struct ag_entry *e, void *arg)
{
	struct fork_low *f = arg;

	if (f->seq == 0 || e->h.seq < f->seq)
		f->seq = e->h.seq;
	return 0;
}

static int on_hash(const struct ag_entry *e, void *arg)
{
	ag_entry_hash(e, arg);
	return 1;
}

/*
 * The last valid entry of our feed: the last one this node published
 * (whatever a copy of the key published after it), before any fork.
 */
static int node_last_valid(struct node *n, const uint8_t key[static 32], uint64_t *seq,
                           uint8_t hash[static 32])
{
	uint8_t k[42], v[40];
	struct fork_low f = {0};
	size_t len;
	int rc;

	node_published_key(key, k);
	if ((rc = store_meta_get(n->store, k, sizeof(k), v, sizeof(v), &len)) < 0)
		return -1;
	if (rc == 1 && len == sizeof(v)) {
		*seq = 0;
		for (int i = 0; i < 8; i++)
			*seq = *seq << 8 | v[i];
	} else if (store_head(n->store, key, seq, hash) < 0) {
		return -1;
	}
	if (store_forks(n->store, key, on_fork_proof, &f) < 0)
		return -1;
	if (f.seq > 0 && *seq >= f.seq)
		*seq = f.seq - 1;
	memset(hash, 0, 32);
	return *seq == 0 || store_feed(n->store, key, *seq, 1, SIZE_MAX, on_hash, hash) == 1 ? 0
	                                                                                     : -1;
}

int node_recover_begin(struct node *n, const uint8_t *lost, struct node_recovery *r, char *err,
                       size_t errlen)
{
	const uint8_t *old = lost ? lost : n->pk;
	uint8_t sk[64], recovery[32];

	if (certs_recovery_of(n->store, old, recovery) != 0) {
		snprintf(err, errlen,
		         "this node holds no identity/self of that feed naming a recovery key: it "
		         "cannot be recovered here");
		return NODE_EREFUSED;
	}
	if (node_last_valid(n, old, &r->seq, r->hash) != 0) {
		snprintf(err, errlen, "the store cannot be read (see the daemon's log)");
		return NODE_EFAIL;
	}
	/* A lost key's successor is the key this node runs with now (agora key new). */
	if (lost && memcmp(lost, n->pk, 32) != 0)
		memcpy(r->new_pk, n->pk, 32);
	else if (succession_key_next(n->dir, r->new_pk, sk) != 0) {
		snprintf(err, errlen, "cannot write the new key (see the daemon's log)");
		return NODE_EFAIL;
	}
	sodium_memzero(sk, sizeof(sk));
	memcpy(r->old_pk, old, 32);
	memcpy(r->network, n->keys.network, 32);
	memcpy(r->recovery, recovery, 32);
	return 0;
}

/* The certificate must name our key, DIR/node.key.next and what RECOVER_BEGIN said. */
static int recover_next(struct node *n, const struct ag_cert *c, uint8_t sk[static 64],
                        uint8_t x_sk[static 32], char *err, size_t errlen)
{
	char path[PATH_MAX + 32], why[PATH_MAX + 160];
	uint8_t pk[32], x_pk[32];

	snprintf(path, sizeof(path), "%s/%s", n->dir, SUCCESSION_KEY_NEXT);
	if (memcmp(c->old_key, n->pk, 32) != 0) {
		snprintf(err, errlen, "the certificate is for another key than this node's");
		return NODE_EREFUSED;
	}
	if (keyfile_load(path, pk, sk, why, sizeof(why)) != 0 || memcmp(pk, c->new_key, 32) != 0 ||
	    ag_noise_key_from_ed25519(x_sk, x_pk, sk) != 0) {
		sodium_memzero(sk, 64);
		snprintf(err, errlen, "the certificate's new key is not this node's next key (%s)",
		         path);
		return NODE_EREFUSED;
	}
	return 0;
}

int node_recover(struct node *n, const uint8_t *raw, size_t len, struct ag_cert *c, char *err,
                 size_t errlen)
{
	uint8_t sk[64], x_sk[32], recovery[32], old[32];
	int rc;

	if ((rc = ag_cert_decode(c, raw, len, NULL)) != 0) {
		snprintf(err, errlen, "not a succession certificate: %s", ag_strerror(rc));
		return NODE_EREFUSED;
	}
	/* A lost key: this node runs with its successor already. */
	if (memcmp(c->old_key, n->pk, 32) != 0 && memcmp(c->new_key, n->pk, 32) == 0)
		return node_cert_import(n, raw, len, c, err, errlen);
	if ((rc = recover_next(n, c, sk, x_sk, err, errlen)) != 0)
		return rc;
	if ((rc = certs_recovery_of(n->store, n->pk, recovery)) != 0 ||
	    (rc = node_cert_apply(n, raw, len, c, err, errlen)) < 0 ||
	    (rc = succession_key_swap(n->dir)) != 0) {
		sodium_memzero(sk, sizeof(sk));
		sodium_memzero(x_sk, sizeof(x_sk));
		return rc < 0 ? rc : NODE_EFAIL;
	}
	memcpy(old, n->pk, 32);
	node_key_switch(n, c->new_key, sk, x_sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(x_sk, sizeof(x_sk));
	log_info("recovered: %s is this node's key now, by a certificate of its recovery key",
	         key_b64(n->pk));
	n->ready = 1; /* a new key has no feed anywhere to learn first */
	if (node_publish_successor_self(n, recovery, err, errlen) != 0)
		log_error("identity/self of the new key: %s", err);
	node_recompute_set(n);
	node_reconcile_members(n);
	return 0;
}

void node_pin_log_level(struct node *n)
{
	n->log_pinned = 1;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	store_close(n->store);
	config_free(n->cfg);
	free(n->peers);
	sync_free(n->sync);
	members_free(n->members);
	strangers_free(n->strangers);
	sodium_memzero(n->sk, sizeof(n->sk));
	sodium_memzero(&n->keys, sizeof(n->keys));
	sodium_memzero(n->old_sk, sizeof(n->old_sk));
	sodium_memzero(&n->old_keys, sizeof(n->old_keys));
	free(n->moves);
	free(n);
}
