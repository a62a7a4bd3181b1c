/*
 * sync.c: replication over peer links (docs/PROTOCOL.md §1), protocol
 * version 2.
 *
 * An ENTRIES message is triaged on the loop before any signature is
 * checked: headers are decoded, those of feeds we do not replicate and
 * those we hold already are dropped, and what remains goes to the thread
 * pool as runs: each author's consecutive headers, of which only the last
 * one's own signature is checked, the chain vouching for the rest
 * (DESIGN.md "Accepting entries"), and bodies checked against their
 * headers. Every ENTRIES message this node sends ends each run with a header
 * whose own signature it has checked. Verified jobs go to the store in
 * batches on the appender's thread (pool.h), in arrival order, and are
 * answered (pushed on, asked about) on the loop once their commit returned.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "members.h"
#include "msg.h"
#include "pool.h"
#include "store.h"
#include "succession.h"
#include "sync.h"

#define SYNC_JOBS_MAX    32          /* verify jobs queued per peer before we stop reading it */
#define SYNC_LINK_BYTES  (4u << 20)  /* bytes of queued verify jobs per peer, then the same */
#define SYNC_TOTAL_BYTES (48u << 20) /* and across every peer */
/*
 * The bytes of verified jobs that go to the store at once while more come,
 * and at most in one batch: 3/8 of the link's bound, so that one batch
 * commits on the appender's thread, the next waits verified behind it, and
 * the rest of the bound is read and verified meanwhile. A batch of every
 * job that was ready (a slow job ahead of them let them pile up) filled the
 * bound alone, and the verify threads stood idle while it was stored
 * (bench-sync: a fifth of the sync, with the appender alone on the cores).
 */
#define SYNC_APPLY_BYTES (SYNC_LINK_BYTES / 8 * 3)
/*
 * What an entry's index terms may take while its job verifies, counted
 * against the bounds then: made on every worker at once, they are what a
 * queue of jobs mostly holds. Text makes about three bytes of terms a byte
 * (bench-sync's: 1,505 for a body of 500); the rest is room.
 */
#define SYNC_PREP_GUESS(body_len) (4 * (body_len) + 256)
#define SYNC_FEED_COUNT           512  /* entries read from the store per batch */
#define SYNC_GRAFT_MS             200  /* how long a lazy link's note waits for the eager link */
#define SYNC_FEEDS_OTHER          1024 /* feeds we do not replicate whose heads we track per peer */
#define SYNC_MISSING_MAX          256  /* bodies asked for per feed at once */
#define SYNC_SEND_TRIES           3    /* batches cut shorter when a run's last header fails */
#define SYNC_CLAIM_MS             30000 /* a claim of our own feed unbacked this long is void */
#define SYNC_SOFTWARE_MAX         64 /* bytes of a peer's software kept, as agora status shows it */

/* One feed as seen from a peer. */
struct feed {
	uint8_t author[32];
	uint64_t known; /* the highest seq the peer is known to have */
	uint64_t send;  /* next seq to stream to it; 0 when nothing to stream */
	int lazy;       /* it asked for HAVE notes only (MODE false) */
	int we_lazy;    /* we asked it for notes only */
	uint64_t noted; /* the highest seq it noted (HAVE) that we still lack; 0 none */
	uint64_t told;  /* the highest seq we noted to it (HAVE) */
};

/* A feed's head as a peer was last known to hold it: kept when its connection goes. */
struct lag_head {
	uint8_t author[32];
	uint64_t known;
};

/* A task that does nothing: handed to the appender, it makes it look for idle work. */
struct sync_nudge {
	struct pool_task task;
	bool out;
};

struct sync {
	struct sync_env env;
	struct sync_link *links; /* a list, oldest first */
	uint64_t own_seen;       /* the highest seq of our own feed that a peer claims (not void) */
	int own_learned;         /* our head reached own_seen once: told through own_head_learned */
	size_t jobs_bytes;       /* held by every link's queued verify jobs */
	uint8_t hkey[crypto_shorthash_KEYBYTES]; /* the feed maps' SipHash key */
	/* The catch-up: from when a peer announced what we lack until we hold it all. */
	bool catching;
	uint64_t catch_base;     /* entries held when it began */
	uint64_t catch_start_ms; /* now_ms when it began */
	uint64_t catch_received; /* entries stored since, as of catch_ms */
	uint64_t catch_ms;       /* how long it ran, as of the last look */
	uint64_t own_head;       /* our feed's head as last seen, and */
	uint64_t own_grew_ms;    /* when it last grew: claims wait while it does */
	uint64_t invalid;        /* entries refused as invalid, over every link, since start */
	struct pool *appender;   /* one thread, where verified jobs are stored */
	struct pool *pool;       /* where jobs are verified */
	struct sync_nudge nudge; /* the appender's, when a bulk sync ends */
	bool stopping;           /* sync_stop began: the appender takes nothing more */
	size_t batches_out;      /* handed to the appender and not yet back */
};

struct sync_link {
	struct sync *sync; /* NULL once its owner freed it: its last jobs end unapplied */
	void *ud;
	struct sync_link *prev, *next;
	char name[CONFIG_NAME_MAX + 1];
	int up;     /* between sync_up and sync_down */
	int bad;    /* sent an invalid entry: drop its queued jobs until it reconnects */
	int paused; /* we stopped reading it: its verify jobs are over a bound */
	int jobs;   /* jobs in flight: verifying, or at the appender */
	size_t jobs_bytes;
	struct sync_job *jobs_head, *jobs_tail; /* in arrival order, applied in that order */
	size_t pump_next;                       /* round-robin position over feeds to stream */
	int got_clock;
	int feeds_capped; /* it named more feeds than we track: told once per connection */
	uint64_t outside; /* entries of feeds we do not replicate, this connection */
	uint64_t unknown; /* messages of types we do not know, this connection */
	struct feed *feeds;
	size_t nfeeds, capfeeds;
	/*
	 * Feeds by author: open addressing, 0 free, else an index + 1. Authors
	 * are named by the peer, so the hash is keyed (SipHash): no peer can
	 * aim at one slot, and a lookup stays O(1).
	 */
	uint32_t *slots;
	size_t nslots;                 /* a power of two, twice capfeeds */
	uint64_t received, duplicates; /* entries */
	uint64_t sent, invalid;        /* entries sent to it; its entries refused as invalid */
	struct log_ratelimit rl;
	struct lag_head *last; /* its heads when its last connection went, sorted by author */
	size_t nlast;
	uint64_t last_ms; /* now_ms when they were last known; 0: never */
	/* Its claim of our own feed (kept across reconnects until backed or void). */
	uint64_t claim;    /* the seq it said; 0: none */
	uint64_t claim_ms; /* when it said it */
	int claim_void;    /* it claimed what it did not back: its claims are ignored */
	/* What the peer's last HELLO said it runs: not reset by a reconnect. */
	uint64_t protocol;
	char software[SYNC_SOFTWARE_MAX + 1];
};

/*
 * One ENTRIES message, checked on the thread pool, applied on the loop in
 * arrival order. Its entries are those left after the triage; runs[i] is
 * the index past the end of the run entry i belongs to, or 0 for an entry
 * whose header we hold and whose body alone is to be checked.
 */
struct sync_job {
	struct pool_task task; /* first: the task is the job */
	struct sync_link *link;
	struct sync_job *next;
	int done;
	size_t n;
	size_t cost; /* bytes held, counted against the link's and the total bound */
	uint8_t network[32];
	uint8_t *buf; /* the message, copied: entries point into it */
	struct ag_entry *entries;
	size_t *runs;
	struct store_prep *prep; /* each entry's hash and index terms */
	size_t prep_bytes;       /* what the preps hold, counted in cost once they are made */
	size_t prep_guess;       /* and what was counted for them before, while they were made */
	size_t good;             /* entries before the first fault; n when none */
	int rc;                  /* the fault, 0 when none */
	bool in_body;            /* the fault is in good's body */
	bool verify_every;       /* check each header's own signature too (VerifyEvery) */
	size_t inner_bad;        /* headers whose own signature failed, a later one vouching */
	size_t inner_at;         /* the first of them */
};

/*
 * The appender's idle work: the index merges that batches made due, a
 * piece at a time, while no batch waits (store_merge_idle) and no entry
 * waits to be verified or stored (sync_busy).
 */
static int merge_idle(void *store)
{
	return store_merge_piece(store);
}

static void nudge_work(struct pool_task *t)
{
	(void)t;
}

static void nudge_done(struct pool_task *t)
{
	((struct sync_nudge *)t)->out = false;
}

/*
 * Entries are being verified or stored, or none are any more. While some
 * are, the index's merges wait (store_merge_wait): in a bulk sync they
 * took a third of the appender's time, and batches waited behind their
 * pieces. When none are, the appender is nudged to take them up.
 */
static void sync_busy(struct sync *s, bool busy)
{
	if (!s->env.store)
		return;
	store_merge_wait(s->env.store, busy);
	/* Not once stopping: the pool would do every merge left at once, on the loop. */
	if (!busy && !s->nudge.out && !s->stopping) {
		s->nudge.out = true;
		pool_submit(s->appender, &s->nudge.task);
	}
}

/* Bytes that every link's jobs hold, added and taken away; sync_busy when they start or end. */
static void total_charge(struct sync *s, size_t add, size_t sub)
{
	bool was = s->jobs_bytes > 0;

	s->jobs_bytes = s->jobs_bytes + add - sub;
	if (was != (s->jobs_bytes > 0))
		sync_busy(s, s->jobs_bytes > 0);
}

struct sync *sync_new(const struct sync_env *env)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (s) {
		s->env = *env;
		crypto_shorthash_keygen(s->hkey);
		s->nudge.task = (struct pool_task){NULL, nudge_work, nudge_done};
		if (!(s->appender = pool_new(env->loop, 1, 0))) {
			free(s);
			return NULL;
		}
		s->pool =
		    pool_new(env->loop, 0, POOL_NICE); /* without, jobs are verified on the loop */
		if (env->store) {
			pool_set_idle(s->appender, merge_idle, env->store);
			store_merge_idle(env->store, true);
		}
		sync_busy(s, false); /* the merges left when the daemon last stopped may go */
	}
	return s;
}

void sync_stop(struct sync *s)
{
	/* The pool first: its jobs' done hands their entries to the appender. */
	if (s) {
		s->stopping = true;
		pool_stop(s->pool);
		pool_stop(s->appender);
	}
}

void sync_set_self(struct sync *s, const uint8_t pk[static 32])
{
	memcpy(s->env.self, pk, 32);
	s->own_head = 0;
}

void sync_set_verify_every(struct sync *s, bool on)
{
	s->env.verify_every = on;
}

void sync_free(struct sync *s)
{
	if (s) {
		pool_free(s->pool);
		pool_free(s->appender);
	}
	free(s);
}

struct sync_link *sync_link_new(struct sync *s, const char *name, void *link_ud)
{
	struct sync_link *l = calloc(1, sizeof(*l)), **tail;

	if (!l)
		return NULL;
	l->sync = s;
	l->ud = link_ud;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->rl = LOG_RATELIMIT_INIT(5, 60000);
	/* At the end: links are served in the order they were made, as peers are listed. */
	for (tail = &s->links; *tail; tail = &(*tail)->next)
		l->prev = *tail;
	*tail = l;
	return l;
}

void sync_link_rename(struct sync_link *l, const char *name)
{
	snprintf(l->name, sizeof(l->name), "%s", name);
}

static void link_destroy(struct sync_link *l)
{
	free(l->feeds);
	free(l->slots);
	free(l->last);
	free(l);
}

void sync_link_free(struct sync_link *l)
{
	if (!l)
		return;
	if (l->prev)
		l->prev->next = l->next;
	else
		l->sync->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	/* Its jobs still running no longer count against the total. */
	total_charge(l->sync, 0, l->jobs_bytes);
	l->sync = NULL;
	l->up = 0;
	if (l->jobs == 0)
		link_destroy(l);
}

static size_t slot_probe(const struct sync_link *l, const uint8_t author[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	size_t i;

	crypto_shorthash(h, author, 32, l->sync->hkey);
	memcpy(&v, h, sizeof(v));
	for (i = (size_t)v & (l->nslots - 1);
	     l->slots[i] && memcmp(l->feeds[l->slots[i] - 1].author, author, 32) != 0;
	     i = (i + 1) & (l->nslots - 1))
		;
	return i;
}

static struct feed *feed_find(const struct sync_link *l, const uint8_t author[32])
{
	size_t i;

	if (l->nslots == 0)
		return NULL;
	i = slot_probe(l, author);
	return l->slots[i] ? &l->feeds[l->slots[i] - 1] : NULL;
}

/* Room for one more feed: the arrays doubled and the map rebuilt when full. 0 or -1. */
static int feeds_grow(struct sync_link *l)
{
	size_t cap = l->capfeeds ? 2 * l->capfeeds : 16;
	struct feed *nf;
	uint32_t *slots;

	if (l->nfeeds < l->capfeeds)
		return 0;
	if (!(nf = realloc(l->feeds, cap * sizeof(*nf))))
		return -1;
	l->feeds = nf;
	if (!(slots = calloc(2 * cap, sizeof(*slots))))
		return -1;
	free(l->slots);
	l->slots = slots;
	l->nslots = 2 * cap;
	l->capfeeds = cap;
	for (size_t i = 0; i < l->nfeeds; i++)
		l->slots[slot_probe(l, l->feeds[i].author)] = (uint32_t)i + 1;
	return 0;
}

/* The feed entry for author, created (known 0) if absent; NULL when out of memory. */
static struct feed *feed_get(struct sync_link *l, const uint8_t author[32])
{
	struct feed *f = feed_find(l, author);

	if (f)
		return f;
	if (feeds_grow(l) != 0)
		return NULL;
	f = &l->feeds[l->nfeeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->author, author, 32);
	l->slots[slot_probe(l, author)] = (uint32_t)l->nfeeds;
	return f;
}

/* Closes the link's connection; a fault also drops what it still has queued. */
static void cut(struct sync_link *l, const char *why, int fault)
{
	if (fault)
		l->bad = 1;
	l->sync->env.ops->cut(l->ud, why, fault);
}

static int replicates(const struct sync *s, const uint8_t author[32])
{
	return members_has(s->env.set, author);
}

/* One builder at a time on the loop thread: 64 KiB that need not live on the stack. */
static struct ag_msgb msgb;

static void send_raw(struct sync_link *l, const uint8_t *m, size_t len)
{
	(void)l->sync->env.ops->send(l->ud, m, len);
}

static void send_msgb(struct sync_link *l)
{
	const uint8_t *m;
	size_t len;

	if (msgb.n == 0 || !l->up)
		return;
	ag_msgb_finish(&msgb, &m, &len);
	send_raw(l, m, len);
	if (msgb.type == AG_MSG_ENTRIES)
		l->sent += msgb.n;
	ag_msgb_init(&msgb, msgb.type);
}

static void add_pair(struct sync_link *l, const uint8_t author[32], uint64_t v)
{
	if (ag_msgb_add_pair(&msgb, author, v) == 0)
		return;
	send_msgb(l);
	if (ag_msgb_add_pair(&msgb, author, v) != 0)
		log_error("a pair does not fit an empty message");
}

static void add_head(struct sync_link *l, const uint8_t author[32], uint64_t seq,
                     const uint8_t *hash)
{
	if (ag_msgb_add_head(&msgb, author, seq, hash) == 0)
		return;
	send_msgb(l);
	if (ag_msgb_add_head(&msgb, author, seq, hash) != 0)
		log_error("clock triple does not fit an empty message");
}

static int clock_head(const uint8_t author[32], uint64_t seq, const uint8_t hash[32], void *arg)
{
	struct sync_link *l = arg;

	if (replicates(l->sync, author))
		add_head(l, author, seq, hash);
	return 0;
}

static uint64_t head_of(const struct sync *s, const uint8_t author[32])
{
	uint8_t hash[32];
	uint64_t seq = 0;

	return store_head(s->env.store, author, &seq, hash) == 1 ? seq : 0;
}

/*
 * The seq of author's feed we would ask for, of those up to `known`: the
 * head, when the store takes nothing more of it (its entry cap, MaxDisk), so
 * that what it would drop is neither asked for again nor counted as lacking.
 */
static uint64_t wanted_upto(const struct sync *s, const uint8_t author[32], uint64_t known)
{
	uint64_t head = head_of(s, author);

	if (known <= head || store_takes(s->env.store, author, head + 1))
		return known;
	return head;
}

/* ---- lag and catch-up: what each side lacks of what the other announced ---- */

static int lag_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Its connection goes: what it was known to hold stays for status and sync --wait. */
static void lag_keep(struct sync_link *l)
{
	struct lag_head *h = realloc(l->last, (l->nfeeds ? l->nfeeds : 1) * sizeof(*h));

	if (!h)
		return; /* the older figures stay, with their older time */
	l->last = h;
	for (size_t i = 0; i < l->nfeeds; i++) {
		memcpy(h[i].author, l->feeds[i].author, 32);
		h[i].known = l->feeds[i].known;
	}
	l->nlast = l->nfeeds;
	qsort(h, l->nlast, sizeof(*h), lag_cmp);
	l->last_ms = l->sync->env.ops->now_ms(l->sync->env.ud);
}

/* Its CLOCK since it connected is what it holds now; before that, what it held last. */
static bool link_live(const struct sync_link *l)
{
	return l->up && l->got_clock;
}

/* The seq of a feed the peer is known to hold; 0 when it did not name it. */
static uint64_t link_known(const struct sync_link *l, const uint8_t author[32])
{
	const struct feed *f;
	const struct lag_head *h;

	if (link_live(l))
		return (f = feed_find(l, author)) ? f->known : 0;
	h = l->nlast ? bsearch(author, l->last, l->nlast, sizeof(*h), lag_cmp) : NULL;
	return h ? h->known : 0;
}

static void lag_add(const struct sync *s, const uint8_t author[32], uint64_t known,
                    struct sync_lag *out)
{
	uint64_t head;

	if (!replicates(s, author))
		return; /* a feed only one side replicates counts for neither */
	head = head_of(s, author);
	if (known > head)
		out->we_lack += wanted_upto(s, author, known) - head;
	else
		out->they_lack += head - known;
}

void sync_lag(const struct sync_link *l, struct sync_lag *out)
{
	const struct sync *s = l->sync;

	memset(out, 0, sizeof(*out));
	if (link_live(l)) {
		for (size_t i = 0; i < l->nfeeds; i++)
			lag_add(s, l->feeds[i].author, l->feeds[i].known, out);
		out->known = true;
	} else if (l->last_ms) {
		for (size_t i = 0; i < l->nlast; i++)
			lag_add(s, l->last[i].author, l->last[i].known, out);
		out->known = true;
		out->age_ms = s->env.ops->now_ms(s->env.ud) - l->last_ms;
	}
}

/* Entries of the feeds we replicate: held, and announced by some peer but lacking. */
static void catchup_totals(const struct sync *s, uint64_t *held, uint64_t *missing)
{
	*held = *missing = 0;
	for (size_t i = 0; i < members_count(s->env.set); i++) {
		const uint8_t *author = members_key(s->env.set, i);
		uint64_t head = head_of(s, author), most = 0, k;

		for (const struct sync_link *l = s->links; l; l = l->next)
			if ((k = link_known(l, author)) > most)
				most = k;
		most = wanted_upto(s, author, most);
		*held += head;
		*missing += most > head ? most - head : 0;
	}
}

/* A peer announced what we lack: a catch-up begins, unless one runs. */
static void catchup_begin(struct sync *s)
{
	uint64_t missing;

	if (s->catching)
		return;
	catchup_totals(s, &s->catch_base, &missing);
	s->catching = true;
	s->catch_start_ms = s->env.ops->now_ms(s->env.ud);
	s->catch_received = s->catch_ms = 0;
}

/* Brings the catch-up's figures up to now; it ends when nothing is missing. */
static void catchup_look(struct sync *s, struct sync_progress *out)
{
	uint64_t held, missing;

	catchup_totals(s, &held, &missing);
	if (s->catching) {
		s->catch_received = held > s->catch_base ? held - s->catch_base : 0;
		s->catch_ms = s->env.ops->now_ms(s->env.ud) - s->catch_start_ms;
		s->catching = missing > 0;
	}
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->running = s->catching;
	out->received = s->catch_received;
	out->missing = missing;
	out->rate = s->catch_ms ? s->catch_received * 1000 / s->catch_ms : 0;
	out->left_ms = out->running && out->rate ? missing * 1000 / out->rate : 0;
}

void sync_progress(struct sync *s, struct sync_progress *out)
{
	catchup_look(s, out);
}

/* Our CLOCK: every replicated feed, those we hold nothing of at seq 0. */
static void send_clock(struct sync_link *l)
{
	const struct sync *s = l->sync;

	ag_msgb_init(&msgb, AG_MSG_CLOCK);
	(void)store_heads(s->env.store, clock_head, l);
	for (size_t i = 0; i < members_count(s->env.set); i++)
		if (head_of(s, members_key(s->env.set, i)) == 0)
			add_head(l, members_key(s->env.set, i), 0, NULL);
	send_msgb(l);
	if (msgb.n == 0 && l->up) {
		const uint8_t *m;
		size_t len;

		ag_msgb_finish(&msgb, &m, &len); /* an empty clock still says "I have nothing" */
		send_raw(l, m, len);
	}
}

void sync_clock_all(struct sync *s)
{
	for (struct sync_link *l = s->links; l; l = l->next)
		if (l->up)
			send_clock(l);
}

/* What a connection taught us goes with it; the counts stay. */
static void link_reset(struct sync_link *l)
{
	l->nfeeds = 0;
	if (l->slots)
		memset(l->slots, 0, l->nslots * sizeof(*l->slots));
	l->got_clock = 0;
	l->feeds_capped = 0;
	l->outside = 0;
	l->unknown = 0;
	l->up = 0;
	l->paused = 0;
}

/* One certificate to one link: SUCCESSION. */
static int send_cert(const uint8_t *raw, size_t len, void *arg)
{
	uint8_t buf[AG_CERT_MAX + 8];
	size_t n;

	if (ag_msg_succession(buf, sizeof(buf), &n, raw, len) == 0)
		send_raw(arg, buf, n);
	return 0;
}

void sync_succession(struct sync *s, const uint8_t *raw, size_t len, struct sync_link *except)
{
	for (struct sync_link *q = s->links; q; q = q->next)
		if (q->up && q != except)
			(void)send_cert(raw, len, q);
}

void sync_up(struct sync_link *l, const char *our_name)
{
	uint8_t buf[256];
	size_t len;

	link_reset(l);
	l->up = 1;
	l->bad = 0;
	if (ag_msg_hello(buf, sizeof(buf), &len, our_name, "agorad " AGORA_VERSION) == 0)
		send_raw(l, buf, len);
	/* Certificates first: the peer voids what they void before it reads our CLOCK. */
	(void)certs_each(l->sync->env.store, send_cert, l);
	send_clock(l);
}

static void lag_keep(struct sync_link *l);

void sync_down(struct sync_link *l)
{
	if (l->got_clock)
		lag_keep(l);
	link_reset(l);
}

/* ---- sending entries: every run ends with a header whose own signature was checked ---- */

/*
 * The run being added to the ENTRIES message in msgb: where the message
 * stood before it, so that it can be taken out whole, and its last header,
 * copied, to be verified when the run ends unless it is known verified.
 */
struct run_out {
	struct sync_link *l;
	size_t mark_n, mark_len;
	uint8_t author[32];
	uint64_t first, last; /* seqs; first 0: no run open */
	bool verified;
	size_t hlen;
	uint8_t hdr[AG_HEADER_MAX];
	uint64_t dropped_first; /* a run taken out: its author and first seq, for the caller */
	uint8_t dropped_author[32];
};

static void run_init(struct run_out *r, struct sync_link *l)
{
	memset(r, 0, sizeof(*r));
	r->l = l;
	ag_msgb_init(&msgb, AG_MSG_ENTRIES);
}

/*
 * Ends the open run: its last header verified, or the run taken out of the
 * message (a header vouched for only by a chain that this message does not
 * carry). 0, or -1 when it was taken out (dropped_* say which).
 */
static int run_close(struct run_out *r)
{
	struct ag_header h;
	uint64_t first = r->first;

	if (first == 0)
		return 0;
	r->first = 0;
	if (r->verified || (ag_header_decode(&h, r->hdr, r->hlen, NULL) == 0 &&
	                    ag_header_verify(&h, r->l->sync->env.network) == 0))
		return 0;
	msgb.n = r->mark_n;
	msgb.len = r->mark_len;
	memcpy(r->dropped_author, r->author, 32);
	r->dropped_first = first;
	log_ratelimited(&r->l->rl, LOG_LEVEL_INFO, r->l->name,
	                "a run not sent: its last header's own signature fails (a chain vouched "
	                "for it)");
	return -1;
}

static void run_send(struct run_out *r)
{
	(void)run_close(r);
	send_msgb(r->l);
}

/* e was just added to the message, which stood at n0 items, len0 bytes before it. */
static void run_note(struct run_out *r, const struct ag_entry *e, bool same, size_t n0, size_t len0)
{
	if (!same) {
		r->first = e->h.seq;
		memcpy(r->author, e->h.author, 32);
		r->mark_n = n0;
		r->mark_len = len0;
	}
	r->last = e->h.seq;
	r->verified = e->verified;
	r->hlen = e->h.raw_len;
	memcpy(r->hdr, e->h.raw, e->h.raw_len);
}

/*
 * Adds e to the message, sending the message first when e does not fit.
 * Returns 0, or -1 when a run had to be taken out (r->dropped_*).
 */
static int run_add(struct run_out *r, const struct ag_entry *e)
{
	bool same = r->first && memcmp(r->author, e->h.author, 32) == 0 && e->h.seq == r->last + 1;
	size_t n0 = msgb.n, len0 = msgb.len;
	int rc = 0;

	if (!same && run_close(r) != 0) {
		rc = -1;
		n0 = msgb.n, len0 = msgb.len;
	}
	if (ag_msgb_add_entry(&msgb, e->h.raw, e->h.raw_len, e->body, e->body_len) != 0) {
		if (run_close(r) != 0)
			rc = -1;
		send_msgb(r->l);
		same = false;
		n0 = msgb.n, len0 = msgb.len;
		if (ag_msgb_add_entry(&msgb, e->h.raw, e->h.raw_len, e->body, e->body_len) != 0)
			return rc;
	}
	run_note(r, e, same, n0, len0);
	return rc;
}

struct pump_state {
	struct run_out run;
	size_t added;
};

/* One feed's batch is one run in one message: it stops where the message is full. */
static int pump_entry(const struct ag_entry *e, void *arg)
{
	struct pump_state *st = arg;
	size_t n0 = msgb.n, len0 = msgb.len;

	if (ag_msgb_add_entry(&msgb, e->h.raw, e->h.raw_len, e->body, e->body_len) != 0)
		return 1;
	run_note(&st->run, e, st->added > 0, n0, len0);
	st->added++;
	return 0;
}

/*
 * Streams one batch of one feed; 0 when no feed has anything left to
 * stream. A batch whose last header's own signature fails is cut shorter,
 * a few times, before the feed is given up for this connection.
 */
static int pump_one(struct sync_link *l)
{
	size_t max = SYNC_FEED_COUNT;
	struct pump_state st;
	struct feed *f = NULL;
	uint64_t last;

	for (size_t i = 0; i < l->nfeeds && !f; i++) {
		struct feed *g = &l->feeds[(l->pump_next + i) % l->nfeeds];

		if (g->send > 0)
			f = g;
	}
	if (!f)
		return 0;
	l->pump_next = (size_t)(f - l->feeds) + 1;
	for (int tries = 0;; tries++) {
		memset(&st, 0, sizeof(st));
		run_init(&st.run, l);
		if (store_feed(l->sync->env.store, f->author, f->send, max, AG_MSG_MAX - 64,
		               pump_entry, &st) < 0 ||
		    st.added == 0) {
			f->send = 0;
			return 1;
		}
		last = st.run.last;
		if (run_close(&st.run) == 0)
			break;
		if (tries + 1 == SYNC_SEND_TRIES || (max = st.added - 1) == 0) {
			f->send = 0;
			return 1;
		}
	}
	send_msgb(l);
	if (last > f->known)
		f->known = last;
	f->send = last + 1;
	if (last >= head_of(l->sync, f->author))
		f->send = 0;
	return 1;
}

static void pump(struct sync_link *l)
{
	while (l->up && l->sync->env.ops->queued(l->ud) < CONN_QUEUE_HIGH && pump_one(l))
		;
}

void sync_drain(struct sync_link *l)
{
	pump(l);
}

static void send_mode(struct sync_link *l, const uint8_t author[32], int eager)
{
	ag_msgb_init(&msgb, AG_MSG_MODE);
	add_pair(l, author, (uint64_t)eager);
	send_msgb(l);
}

static void send_want(struct sync_link *l, const uint8_t author[32], uint64_t from)
{
	uint8_t buf[64];
	size_t len;

	if (ag_msg_want(buf, sizeof(buf), &len, author, from) == 0)
		send_raw(l, buf, len);
}

static void send_want_bodies(struct sync_link *l, const uint8_t author[32], const uint64_t *seqs,
                             size_t n)
{
	uint8_t buf[64 + 9 * SYNC_MISSING_MAX];
	size_t len;

	if (n > 0 && ag_msg_want_bodies(buf, sizeof(buf), &len, author, seqs, n) == 0)
		send_raw(l, buf, len);
}

/* The bodies of author's feed that we lack and the peer, at `known`, may hold: ask for them. */
static void ask_missing(struct sync_link *l, const uint8_t author[32], uint64_t known)
{
	uint64_t seqs[SYNC_MISSING_MAX];
	ssize_t n = store_missing(l->sync->env.store, author, 1, seqs, SYNC_MISSING_MAX);

	while (n > 0 && seqs[n - 1] > known)
		n--;
	if (n > 0)
		send_want_bodies(l, author, seqs, (size_t)n);
}

/* The restore guard: once our own feed is as far as every peer said, we may publish. */
static void check_own_head(struct sync *s)
{
	uint64_t head = head_of(s, s->env.self);

	if (head > s->own_head) {
		s->own_head = head;
		s->own_grew_ms = s->env.ops->now_ms(s->env.ud);
	}
	if (!s->own_learned && head_of(s, s->env.self) >= s->own_seen) {
		s->own_learned = 1;
		s->env.ops->own_head_learned(s->env.ud, s->own_seen);
	}
}

/*
 * The peer's state of a feed it names in a CLOCK, HAVE or MODE. Feeds we do not
 * replicate are tracked (in case our set grows to them) up to a bound: else a
 * peer naming made-up authors without end grows the table without end. Past
 * the bound they are not even looked up (NULL), and the peer is told of once.
 */
static struct feed *named_feed(struct sync_link *l, const uint8_t author[32])
{
	struct feed *f;

	if (replicates(l->sync, author))
		return feed_get(l, author);
	if (l->feeds_capped)
		return NULL;
	if ((f = feed_find(l, author)) ||
	    l->nfeeds < members_count(l->sync->env.set) + SYNC_FEEDS_OTHER)
		return f ? f : feed_get(l, author);
	log_peer(LOG_LEVEL_WARN, l->name,
	         "names more than %d feeds we do not replicate: the rest are ignored",
	         SYNC_FEEDS_OTHER);
	l->feeds_capped = 1;
	return NULL;
}

struct hash_at {
	uint8_t hash[AG_HASH_LEN];
	bool found;
};

static int hash_of(const struct ag_entry *e, void *arg)
{
	struct hash_at *h = arg;

	ag_entry_hash(e, h->hash);
	h->found = true;
	return 1;
}

/*
 * A CLOCK's head that we hold at its seq under another hash: the peer holds
 * another header there. Streaming ours from that seq shows it the fork, and
 * it answers with the proof.
 */
static bool head_differs(const struct sync *s, const uint8_t author[32], uint64_t seq,
                         const uint8_t *hash)
{
	struct hash_at h = {{0}, false};

	if (seq == 0 || store_feed(s->env.store, author, seq, 1, SIZE_MAX, hash_of, &h) != 1)
		return false;
	return h.found && memcmp(h.hash, hash, AG_HASH_LEN) != 0;
}

/* The peer says it holds our own feed up to seq. */
static void note_claim(struct sync_link *l, uint64_t seq)
{
	struct sync *s = l->sync;

	if (l->claim_void || seq <= l->claim)
		return;
	l->claim = seq;
	l->claim_ms = s->env.ops->now_ms(s->env.ud);
	if (seq > s->own_seen)
		s->own_seen = seq;
	if (seq > head_of(s, s->env.self) && !s->own_learned)
		s->env.ops->claims_later(s->env.ud, SYNC_CLAIM_MS);
}

/* When l's claim falls due: SYNC_CLAIM_MS after it was made, or after our feed last grew. */
static uint64_t claim_due(const struct sync_link *l)
{
	const struct sync *s = l->sync;

	return (l->claim_ms > s->own_grew_ms ? l->claim_ms : s->own_grew_ms) + SYNC_CLAIM_MS;
}

/* A claim our feed has not reached, and stopped growing toward, by its time: void. */
static void claim_check(struct sync_link *l, uint64_t head, uint64_t now)
{
	if (l->claim <= head || now < claim_due(l))
		return;
	log_peer(LOG_LEVEL_WARN, l->name,
	         "claims our own feed at seq %llu but sent no entry of it in %d s (we hold %llu): "
	         "its claim is void",
	         (unsigned long long)l->claim, SYNC_CLAIM_MS / 1000, (unsigned long long)head);
	l->claim_void = 1;
	l->claim = 0;
}

void sync_claims_due(struct sync *s)
{
	uint64_t head = head_of(s, s->env.self), now = s->env.ops->now_ms(s->env.ud), next = 0;

	if (s->own_learned)
		return;
	for (struct sync_link *l = s->links; l; l = l->next) {
		claim_check(l, head, now);
		if (l->claim > head && (next == 0 || claim_due(l) - now < next))
			next = claim_due(l) - now; /* the next one to fall due */
	}
	if (next > 0)
		s->env.ops->claims_later(s->env.ud, next);
	/* What is left claimed: void claims are gone, and so are those of links freed. */
	s->own_seen = 0;
	for (struct sync_link *l = s->links; l; l = l->next)
		if (l->claim > s->own_seen)
			s->own_seen = l->claim;
	check_own_head(s);
}

static void on_clock(struct sync_link *l, struct ag_msg *m)
{
	struct sync *s = l->sync;
	const uint8_t *author, *hash;
	uint64_t seq, head;
	struct feed *f;

	l->got_clock = 1;
	while (ag_msg_next_head(&m->list, &author, &seq, &hash)) {
		if (!(f = named_feed(l, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (memcmp(author, s->env.self, 32) == 0)
			note_claim(l, seq);
		if (!replicates(s, author))
			continue;
		head = head_of(s, author);
		if (wanted_upto(s, author, seq) > head)
			catchup_begin(s);
		if (seq <= head && head_differs(s, author, seq, hash)) {
			f->known = seq - 1;
			f->send = seq;
		} else if (head > seq && f->send == 0) {
			f->send = seq + 1;
		}
		if (seq > 0)
			ask_missing(l, author, seq);
	}
	check_own_head(s);
	pump(l);
}

/*
 * HAVE: a lazy link's note of a head. An eager link usually brings the entry
 * within moments (it may be in the verify pool now), so the graft waits
 * SYNC_GRAFT_MS: only what is still missing then is asked of this link.
 */
static void on_have(struct sync_link *l, struct ag_msg *m)
{
	struct sync *s = l->sync;
	const uint8_t *author;
	struct feed *f;
	uint64_t seq, head;

	ag_msgb_init(&msgb, AG_MSG_HAVE);
	while (ag_msg_next_pair(&m->list, &author, &seq)) {
		if (!(f = named_feed(l, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (!replicates(s, author))
			continue;
		if (wanted_upto(s, author, seq) <= (head = head_of(s, author))) {
			/*
			 * It does not know we hold this (else it would not note it): say
			 * so once, or it counts us as lacking what we got elsewhere.
			 */
			if (f->told < head) {
				f->told = head;
				add_pair(l, author, head);
			}
			continue;
		}
		catchup_begin(s);
		f->noted = seq > f->noted ? seq : f->noted;
		s->env.ops->graft_later(s->env.ud, SYNC_GRAFT_MS);
	}
	send_msgb(l);
}

/*
 * What a lazy link noted that came here another way meanwhile: it does not
 * know we hold it (else it would not have noted it), and would count us
 * lacking it. One HAVE of our heads tells it.
 */
static void tell_held(struct sync_link *l)
{
	ag_msgb_init(&msgb, AG_MSG_HAVE);
	for (size_t k = 0; l->up && k < l->nfeeds; k++) {
		struct feed *f = &l->feeds[k];
		uint64_t head;

		if (f->noted > 0 && f->noted <= (head = head_of(l->sync, f->author)) &&
		    f->told < head) {
			f->told = head;
			add_pair(l, f->author, head);
		}
	}
	send_msgb(l);
}

/* Graft: the feeds still behind what a lazy link noted become eager on it again. */
void sync_graft_due(struct sync *s)
{
	for (struct sync_link *l = s->links; l; l = l->next) {
		tell_held(l);
		for (size_t k = 0; l->up && k < l->nfeeds; k++) {
			struct feed *f = &l->feeds[k];
			uint64_t head;

			if (f->noted == 0)
				continue;
			if (wanted_upto(s, f->author, f->noted) > (head = head_of(s, f->author))) {
				if (f->we_lazy) {
					f->we_lazy = 0;
					send_mode(l, f->author, 1);
				}
				send_want(l, f->author, head + 1);
			}
			f->noted = 0;
		}
	}
}

static void on_mode(struct sync_link *l, struct ag_msg *m)
{
	const uint8_t *author;
	struct feed *f;
	uint64_t eager;

	while (ag_msg_next_pair(&m->list, &author, &eager)) {
		if (!(f = named_feed(l, author)))
			continue;
		/* A graft's WANT, right behind, says where to stream from. */
		f->lazy = !eager;
	}
}

static void on_want(struct sync_link *l, struct ag_msg *m)
{
	struct feed *f;

	if (!replicates(l->sync, m->author) || !(f = feed_get(l, m->author)))
		return;
	if (m->seq == 0)
		m->seq = 1;
	if (m->seq - 1 < f->known)
		f->known = m->seq - 1; /* it says it lacks them: believe it */
	if (head_of(l->sync, m->author) >= m->seq)
		f->send = m->seq;
	pump(l);
}

static int answer_entry(const struct ag_entry *e, void *arg)
{
	if (e->body)
		(void)run_add(arg, e);
	return 1;
}

/* WANT_BODIES: the entries asked for whose bodies we hold, as ENTRIES. */
static void on_want_bodies(struct sync_link *l, struct ag_msg *m)
{
	struct run_out r;
	uint64_t seq;

	if (!replicates(l->sync, m->author))
		return;
	run_init(&r, l);
	while (ag_msg_next_seq(&m->list, &seq))
		if (store_feed(l->sync->env.store, m->author, seq, 1, SIZE_MAX, answer_entry, &r) <
		    0)
			break;
	run_send(&r);
}

/* ---- receiving entries ---- */

static void after_append(struct sync *s, struct sync_link *l, struct ag_entry *entries,
                         const struct store_result *res, size_t n);
static void resume_links(struct sync *s);

static void job_free(struct sync_job *j)
{
	for (size_t i = 0; j->prep && i < j->n; i++)
		store_prep_clear(&j->prep[i]);
	free(j->buf);
	free(j->entries);
	free(j->runs);
	free(j->prep);
	free(j);
}

/* The first fault of a job: entries before `at` stand. */
static void job_fault(struct sync_job *j, size_t at, int rc, bool in_body)
{
	if (at < j->good) {
		j->good = at;
		j->rc = rc;
		j->in_body = in_body;
	}
}

/* VerifyEvery: the own signatures of a good run's headers before its last, which vouches. */
static void verify_inner(struct sync_job *j, size_t from, size_t end)
{
	for (size_t k = from; k + 1 < end; k++) {
		if (ag_header_verify(&j->entries[k].h, j->network) == 0)
			j->entries[k].verified = true;
		else if (j->inner_bad++ == 0)
			j->inner_at = k;
	}
}

/*
 * On the thread pool: each run by its last header's signature and its
 * chain (nothing of a run that fails stands), each body against its header,
 * then hash and index terms off the loop (if that fails for want of
 * memory, the store makes them).
 */
static void verify_work(struct pool_task *t)
{
	struct sync_job *j = (struct sync_job *)t;
	/* Room for one run's headers, side by side, for ag_run_check, and every entry's hash. */
	struct ag_header *run = malloc(j->n * sizeof(*run));
	uint8_t(*hash)[AG_HASH_LEN] = malloc(j->n * sizeof(*hash));
	size_t at;
	int rc;

	if (!run || !hash) {
		job_fault(j, 0, AG_ENOMEM, false);
		goto out;
	}
	for (size_t i = 0; i < j->good; i = j->runs[i] ? j->runs[i] : i + 1) {
		if (j->runs[i] == 0)
			continue;
		for (size_t k = i; k < j->runs[i]; k++)
			run[k - i] = j->entries[k].h;
		if ((rc = ag_run_check(run, j->runs[i] - i, j->network, &hash[i], &at)) != 0) {
			job_fault(j, i, rc, false);
			continue;
		}
		j->entries[j->runs[i] - 1].verified = true;
		if (j->verify_every)
			verify_inner(j, i, j->runs[i]);
	}
	for (size_t i = 0; i < j->good; i++) {
		const struct ag_entry *e = &j->entries[i];

		/* A held header whose body came (runs 0) was in no run: store_prepare hashes it. */
		if (e->body && (rc = ag_body_check(&e->h, e->body, e->body_len, NULL)) != 0)
			job_fault(j, i, rc, true);
		else if ((j->runs[i]
		              ? store_prepare_hashed(&j->prep[i], e, hash[i])
		              : store_prepare(&j->prep[i], e)) == 0) /* else the store does it */
			j->prep_bytes += store_prep_bytes(&j->prep[i]);
	}
out:
	free(hash);
	free(run);
}

static void bad_peer(struct sync_link *l, const struct ag_header *h, const char *why)
{
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, h->author);
	l->invalid++;
	l->sync->invalid++;
	log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name, "invalid entry (author %s, seq %llu): %s",
	                key, (unsigned long long)h->seq, why);
	cut(l, why, 1);
}

/* A job's fault, which the peer could have checked: it is cut off, saying what. */
static void job_bad(struct sync_link *l, const struct sync_job *j)
{
	const struct ag_entry *e = &j->entries[j->good];
	char why[128];

	if (j->rc == AG_ENOMEM) {
		cut(l, "out of memory", 0);
		return;
	}
	snprintf(why, sizeof(why), "%s%s", j->in_body ? "body: " : "run: ", ag_strerror(j->rc));
	bad_peer(l, &e->h, why);
}

/*
 * A valid entry of a feed we do not replicate: not an offence (our set may
 * just have shrunk) but not kept, nor checked. A peer that floods them is
 * told of once per connection.
 */
static void outside_entry(struct sync_link *l, const struct ag_header *h)
{
	char key[AG_B64_LEN + 1];

	if (l->outside++ > 0)
		return;
	ag_key_to_b64(key, h->author);
	log_peer(LOG_LEVEL_WARN, l->name,
	         "sends entries of a feed we do not replicate (author %s): ignored", key);
}

/* VerifyEvery found headers whose own signature fails: stored all the same, as every node does. */
static void inner_bad_log(struct sync_link *l, const struct sync_job *j)
{
	const struct ag_header *h = &j->entries[j->inner_at].h;
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, h->author);
	log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name,
	                "%zu header(s) whose own signature fails, the first author %s seq %llu: "
	                "stored, a later header's signature and chain vouching for them",
	                j->inner_bad, key, (unsigned long long)h->seq);
}

/*
 * Verified jobs of one link on their way through the appender: their good
 * entries stored there in one batch, then answered on the loop. The jobs
 * count against the link's and the total bound until then, as their memory
 * is held, and keep a freed link's memory (l->jobs) until they end.
 */
struct sync_batch {
	struct pool_task task; /* first: the appender hands back the batch */
	struct sync *sync;
	struct sync_link *link;
	struct sync_job *jobs; /* in order */
	size_t n;
	struct ag_entry *all;    /* the good entries of every job, and theirs: */
	struct store_prep *prep; /* taken from the jobs */
	struct store_result *res;
	int rc;
};

/*
 * Bytes that l's jobs hold, added and taken away, against the link's bound
 * and the total (none once its owner freed it).
 */
static void bounds_charge(struct sync_link *l, size_t add, size_t sub)
{
	l->jobs_bytes = l->jobs_bytes + add - sub;
	if (l->sync)
		total_charge(l->sync, add, sub);
}

/* Jobs ended: they leave the bounds, and a freed link goes with its last. Whether l went. */
static bool jobs_release(struct sync_link *l, struct sync_job *j)
{
	struct sync_job *next;

	for (; j; j = next) {
		next = j->next;
		l->jobs--;
		bounds_charge(l, 0, j->cost);
		job_free(j);
	}
	if (l->sync || l->jobs > 0)
		return false;
	link_destroy(l);
	return true;
}

static bool apply_ready(struct sync_link *l);

static void batch_free(struct sync_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		store_prep_clear(&b->prep[i]);
	free(b->all);
	free(b->prep);
	free(b->res);
	free(b);
}

/* On the appender's thread: one batch, durable when this returns (store_append). */
static void batch_work(struct pool_task *t)
{
	struct sync_batch *b = (struct sync_batch *)t;

	b->rc = store_append_prepared(b->sync->env.store, b->all, b->prep, b->n, b->res);
}

/*
 * On the loop: stored, so pushed on and answered; the link may have gone
 * meanwhile. An appender left with nothing to do takes what is verified.
 */
static void batch_done(struct pool_task *t)
{
	struct sync_batch *b = (struct sync_batch *)t;
	struct sync *s = b->sync;

	s->batches_out--;
	if (b->rc == 0)
		after_append(s, b->link, b->all, b->res, b->n);
	(void)jobs_release(b->link, b->jobs);
	batch_free(b);
	for (struct sync_link *q = s->links; q && s->batches_out == 0; q = q->next)
		(void)apply_ready(q);
	resume_links(s);
}

/*
 * A batch of the good entries of every job that is ready, in order. A fault
 * ends the batch there and cuts the peer off at once: nothing after it is
 * taken, and what came before is stored.
 */
static struct sync_batch *batch_new(struct sync_link *l, struct sync_job *ready, size_t total,
                                    const struct sync_job **bad)
{
	struct sync_batch *b = calloc(1, sizeof(*b));
	size_t cap = total ? total : 1;

	if (!b || !(b->all = malloc(cap * sizeof(*b->all))) ||
	    !(b->prep = malloc(cap * sizeof(*b->prep))) ||
	    !(b->res = malloc(cap * sizeof(*b->res)))) {
		if (b)
			batch_free(b);
		return NULL;
	}
	b->sync = l->sync;
	b->link = l;
	b->jobs = ready;
	for (struct sync_job *j = ready; j && !*bad; j = j->next) {
		if (j->inner_bad > 0 && j->inner_at < j->good)
			inner_bad_log(l, j);
		/* The preps are the batch's now: the store frees their terms as it takes them. */
		for (size_t i = 0; i < j->good; i++) {
			b->prep[b->n] = j->prep[i];
			j->prep[i] = (struct store_prep){0};
			b->all[b->n++] = j->entries[i];
		}
		if (j->rc != 0)
			*bad = j;
	}
	return b;
}

/*
 * After verification: the jobs that are ready go to the store in one batch
 * (one fsync, not one per message), on the appender's thread, while the loop
 * reads and the pool verifies what comes next.
 */
static void jobs_apply(struct sync_link *l, struct sync_job *ready, size_t total)
{
	struct sync *s = l->sync;
	const struct sync_job *bad = NULL;
	struct sync_batch *b = batch_new(l, ready, total, &bad);
	size_t bytes = total * (sizeof(*b->all) + sizeof(*b->prep) + sizeof(*b->res));

	if (!b) {
		cut(l, "out of memory", 0);
		(void)jobs_release(l, ready);
		return;
	}
	/* Its arrays are held as long as its jobs: counted with the first. */
	ready->cost += sizeof(*b) + bytes;
	bounds_charge(l, sizeof(*b) + bytes, 0);
	if (bad && l->up)
		job_bad(l, bad);
	if (b->n == 0) {
		(void)jobs_release(l, ready);
		batch_free(b);
		return;
	}
	b->task.work = batch_work;
	b->task.done = batch_done;
	s->batches_out++;
	pool_submit(s->appender, &b->task);
}

static void note_duplicate(struct sync_link *l, const struct ag_header *h)
{
	struct feed *f = feed_get(l, h->author);

	l->duplicates++;
	if (!f)
		return;
	f->known = h->seq > f->known ? h->seq : f->known;
	/* Another link brought it first: this one need only note new heads (prune). */
	if (!f->we_lazy) {
		f->we_lazy = 1;
		send_mode(l, h->author, 0);
	}
}

static int is_member_record(const struct ag_entry *e)
{
	return strcmp(e->h.type, "member") == 0;
}

/* A key's successor named with its body: the node moves the city's place. */
static void note_succession(struct sync *s, const struct ag_entry *e)
{
	if (e->body && s->env.ops->succession && succession_is(e, "successor"))
		s->env.ops->succession(s->env.ud, e);
}

/*
 * Each proof header goes in a message of its own: two of them at
 * consecutive seqs need not chain, and in one message they would read as a
 * broken run.
 */
static int proof_entry(const struct ag_entry *e, void *arg)
{
	struct run_out r;

	run_init(&r, arg);
	(void)run_add(&r, e);
	run_send(&r);
	return 0;
}

/*
 * A fork with what we hold: the sender did nothing wrong (it may only relay
 * it), so it is not cut off, but sent every header we keep as proof of the
 * author's fork, so that it learns of it too.
 */
static void fork_found(struct sync_link *l, const struct ag_header *h)
{
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, h->author);
	log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name,
	                "fork: author %s signed two entries at seq %llu: both kept, its feed "
	                "stops here; proof sent to the peer",
	                key, (unsigned long long)h->seq);
	(void)store_forks(l->sync->env.store, h->author, proof_entry, l);
}

/*
 * Entries stored without their bodies, which the store wants (not purged, not
 * over quota): asked of the other peers that may hold them.
 */
static void want_absent(struct sync *s, struct sync_link *from, const struct ag_entry *e,
                        const struct store_result *res, size_t n)
{
	uint64_t seqs[SYNC_MISSING_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (res[i].status == STORE_STORED && res[i].missing && k < SYNC_MISSING_MAX)
			seqs[k++] = e[i].h.seq;
		if (k == 0 || (i + 1 < n && memcmp(e[i + 1].h.author, e[i].h.author, 32) == 0))
			continue;
		for (struct sync_link *q = s->links; q; q = q->next) {
			struct feed *f = feed_find(q, e[i].h.author);

			if (q != from && q->up && f && f->known >= seqs[0])
				send_want_bodies(q, e[i].h.author, seqs, k);
		}
		k = 0;
	}
}

/*
 * The store took no more of an author (its entry cap, MaxDisk): this link
 * need only note its heads from now on (MODE), as for a duplicate, so that
 * it does not stream what would be dropped; a graft asks again once the
 * store takes it.
 */
static void limit_reached(struct sync_link *l, const struct ag_header *h)
{
	struct feed *f = feed_get(l, h->author);

	if (f && !f->we_lazy && h->seq > head_of(l->sync, h->author)) {
		f->we_lazy = 1;
		send_mode(l, h->author, 0);
	}
}

/*
 * What follows a batch's commit. Entries stored are pushed on and counted
 * whatever became of the link that brought them; the link is answered
 * (heads learnt, gaps asked for, forks proven) only while it is up and ours.
 */
static void after_append(struct sync *s, struct sync_link *l, struct ag_entry *entries,
                         const struct store_result *res, size_t n)
{
	bool up = l->sync && l->up;
	const uint8_t *wanted = NULL;
	size_t stored = 0;
	int members = 0;

	if (up)
		want_absent(s, l, entries, res, n);
	for (size_t i = 0; i < n; i++) {
		struct ag_entry *e = &entries[i];
		struct feed *f;

		switch (res[i].status) {
		case STORE_STORED:
			if (up && (f = feed_get(l, e->h.author)) && e->h.seq > f->known)
				f->known = e->h.seq;
			l->received++;
			members |= is_member_record(e);
			note_succession(s, e);
			entries[stored++] = *e;
			break;
		case STORE_BODY:
			l->received++;
			members |= is_member_record(e);
			note_succession(s, e);
			break;
		case STORE_DUPLICATE:
			if (up)
				note_duplicate(l, &e->h);
			break;
		case STORE_GAP:
			if (up && (!wanted || memcmp(wanted, e->h.author, 32) != 0))
				send_want(l, e->h.author, res[i].need_seq);
			wanted = e->h.author;
			break;
		case STORE_FORK:
			if (up)
				fork_found(l, &e->h);
			break;
		case STORE_REFUSED:
			break;
		case STORE_LIMIT:
			if (up)
				limit_reached(l, &e->h);
			break;
		}
	}
	if (stored > 0)
		sync_push(s, entries, stored, l);
	if (members)
		s->env.ops->members_changed(s->env.ud);
	check_own_head(s);
	if (stored > 0 && s->catching)
		catchup_look(s, NULL);
}

/*
 * Are the verified jobs at the head of the queue to be stored now? Each
 * batch costs an fsync and an index flush, so during a bulk sync they wait
 * until SYNC_APPLY_BYTES of them are ready, while the appender has a batch
 * to store; a job still verifying behind them will call again, and so will
 * the batch when it is done. With none behind, or an appender with nothing
 * to do, they go now (bench-sync, 13 alternating runs: 67,800 entries/s
 * on average, against 64,700 when an idle appender waited for a full batch).
 */
static int jobs_due(const struct sync_link *l)
{
	size_t ready = 0;

	for (const struct sync_job *j = l->jobs_head; j; j = j->next) {
		if (!j->done)
			return ready >= SYNC_APPLY_BYTES ||
			       (ready > 0 && l->sync && l->sync->batches_out == 0);
		ready += j->cost;
	}
	return 1;
}

/* Whether the link's queued jobs are within its bounds, and all links' within theirs. */
static bool under_bounds(const struct sync_link *l)
{
	return l->jobs < SYNC_JOBS_MAX && l->jobs_bytes < SYNC_LINK_BYTES &&
	       l->sync->jobs_bytes < SYNC_TOTAL_BYTES;
}

static void set_paused(struct sync_link *l, int paused)
{
	if (l->paused != paused && l->up) {
		l->paused = paused;
		l->sync->env.ops->pause(l->ud, paused);
	}
}

/* Jobs left: every link that the total bound held back may read again. */
static void resume_links(struct sync *s)
{
	for (struct sync_link *q = s->links; q; q = q->next)
		if (q->paused && under_bounds(q))
			set_paused(q, 0);
}

/*
 * The verified jobs at the head of the queue that make the next batch, if
 * one is due (jobs_due): SYNC_APPLY_BYTES of them, and one job more at most;
 * *total their entries. NULL for none.
 */
static struct sync_job *jobs_take(struct sync_link *l, size_t *total)
{
	struct sync_job *ready = NULL, **tail = &ready;
	size_t bytes = 0;

	*total = 0;
	if (!jobs_due(l))
		return NULL;
	while (l->jobs_head && l->jobs_head->done && bytes < SYNC_APPLY_BYTES) {
		struct sync_job *j = l->jobs_head;

		l->jobs_head = j->next;
		if (!l->jobs_head)
			l->jobs_tail = NULL;
		j->next = NULL;
		*tail = j;
		tail = &j->next;
		*total += j->good;
		bytes += j->cost;
	}
	return ready;
}

/*
 * The batches that are due go to the appender; several when jobs piled up,
 * which it takes in turn. Whether l went with its last job.
 */
static bool apply_ready(struct sync_link *l)
{
	struct sync_job *ready;
	size_t total;

	while ((ready = jobs_take(l, &total)) != NULL) {
		if (!l->bad && l->up)
			jobs_apply(l, ready, total);
		else if (jobs_release(l, ready))
			return true;
	}
	return false;
}

static void verify_done(struct pool_task *t)
{
	struct sync_job *j = (struct sync_job *)t;
	struct sync_link *l = j->link;
	struct sync *s = l->sync;

	j->done = 1;
	/* Its preps wait for the appender with the rest of the job: they count, not the guess. */
	j->cost = j->cost - j->prep_guess + j->prep_bytes;
	bounds_charge(l, j->prep_bytes, j->prep_guess);
	if (s && l->up && !under_bounds(l))
		set_paused(l, 1);
	if (apply_ready(l))
		return;
	if (s)
		resume_links(s);
}

/* The message's headers, decoded on the loop: one that does not decode is a fault. */
static int entries_decode(struct sync_link *l, struct ag_msg *m, struct ag_entry *e, size_t *n)
{
	const uint8_t *hdr, *body;
	size_t hlen, blen, where;
	int rc;

	for (*n = 0; ag_msg_next_entry(&m->list, &hdr, &hlen, &body, &blen); (*n)++) {
		memset(&e[*n], 0, sizeof(e[*n]));
		if ((rc = ag_header_decode(&e[*n].h, hdr, hlen, &where)) != 0) {
			log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name,
			                "invalid header (entry %zu, byte %zu): %s", *n, where,
			                ag_strerror(rc));
			cut(l, "invalid header", 1);
			return -1;
		}
		e[*n].body = body;
		e[*n].body_len = blen;
	}
	return 0;
}

/*
 * Drops, before any signature is checked, the entries of feeds we do not
 * replicate and those we hold; keeps the rest in order, marking runs: an
 * author's consecutive seqs, from its first header that we do not hold to
 * the run's end as sent. A held header whose body we lack, when the body
 * came, is kept with runs 0: only its body is checked.
 */
static size_t triage(struct sync_link *l, struct ag_entry *e, size_t n, size_t *runs)
{
	enum store_have *have = malloc((n ? n : 1) * sizeof(*have));
	size_t keep = 0, kept = 0, i, end;

	for (i = 0; i < n; i++) {
		if (replicates(l->sync, e[i].h.author))
			e[keep++] = e[i];
		else
			outside_entry(l, &e[i].h);
	}
	if (!have || store_have(l->sync->env.store, e, keep, have) != 0) {
		free(have);
		return SIZE_MAX;
	}
	for (i = 0; i < keep; i = end) {
		size_t first;

		for (end = i + 1; end < keep && memcmp(e[end].h.author, e[i].h.author, 32) == 0 &&
		                  e[end].h.seq == e[end - 1].h.seq + 1;
		     end++)
			;
		for (first = i; first < end && (have[first] == STORE_HAVE_SAME ||
		                                have[first] == STORE_HAVE_HEADER);
		     first++) {
			if (have[first] == STORE_HAVE_HEADER && e[first].body) {
				runs[kept] = 0;
				e[kept++] = e[first];
			} else {
				note_duplicate(l, &e[first].h);
			}
		}
		for (size_t k = first; k < end; k++) {
			runs[kept] = kept - (k - first) + (end - first);
			e[kept++] = e[k];
		}
	}
	free(have);
	return kept;
}

static struct sync_job *job_new(struct sync_link *l, struct ag_msg *m, const uint8_t *msg,
                                size_t len)
{
	struct sync_job *j = calloc(1, sizeof(*j));
	size_t n = m->list.n;

	if (!j)
		return NULL;
	j->link = l;
	j->verify_every = l->sync->env.verify_every;
	memcpy(j->network, l->sync->env.network, 32);
	j->buf = malloc(len);
	j->entries = calloc(n ? n : 1, sizeof(*j->entries));
	j->runs = calloc(n ? n : 1, sizeof(*j->runs));
	j->prep = calloc(n ? n : 1, sizeof(*j->prep));
	if (!j->buf || !j->entries || !j->runs || !j->prep) {
		job_free(j);
		return NULL;
	}
	memcpy(j->buf, msg, len);
	/* And, while verify_work runs, n headers more: the preps are counted once made. */
	j->cost =
	    sizeof(*j) + len + n * (sizeof(*j->entries) + sizeof(*j->runs) + sizeof(*j->prep));
	j->task.work = verify_work;
	j->task.done = verify_done;
	return j;
}

/* Points e's header and body into the job's copy of the message. */
static void entry_rebase(struct ag_entry *e, const uint8_t *from, uint8_t *to)
{
	e->h.raw = to + (e->h.raw - from);
	e->h.id = (const char *)to + (e->h.id - (const char *)from);
	if (e->body)
		e->body = to + (e->body - from);
}

/*
 * ENTRIES: triaged on the loop, checked on the thread pool; jobs finish in
 * any order but apply in arrival order.
 */
static void on_entries(struct sync_link *l, struct ag_msg *m, const uint8_t *msg, size_t len)
{
	struct sync *s = l->sync;
	struct sync_job *j;

	if (m->list.n == 0)
		return;
	if (!(j = job_new(l, m, msg, len))) {
		cut(l, "out of memory", 0);
		return;
	}
	if (entries_decode(l, m, j->entries, &j->n) != 0 ||
	    (j->n = triage(l, j->entries, j->n, j->runs)) == 0 || j->n == SIZE_MAX) {
		if (j->n == SIZE_MAX)
			cut(l, "store cannot be read", 0);
		j->n = 0;
		job_free(j);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		entry_rebase(&j->entries[i], msg, j->buf);
		j->prep_guess += SYNC_PREP_GUESS(j->entries[i].body ? j->entries[i].body_len : 0);
	}
	j->cost += j->prep_guess;
	j->good = j->n;
	if (l->jobs_tail)
		l->jobs_tail->next = j;
	else
		l->jobs_head = j;
	l->jobs_tail = j;
	l->jobs++;
	bounds_charge(l, j->cost, 0);
	pool_submit(s->pool, &j->task);
	if (!under_bounds(l))
		set_paused(l, 1);
}

static void on_ping(struct sync_link *l, const struct ag_msg *m)
{
	uint8_t buf[32];
	size_t len;

	if (ag_msg_ping(buf, sizeof(buf), &len, 1, m->seq) == 0)
		send_raw(l, buf, len);
}

void sync_ping(struct sync_link *l)
{
	const struct sync_env *env = &l->sync->env;
	uint8_t buf[32];
	size_t len;

	if (l->up && ag_msg_ping(buf, sizeof(buf), &len, 0, env->ops->now_ms(env->ud)) == 0)
		send_raw(l, buf, len);
}

/* A message that cannot be read: a HELLO of another version is refused, anything else a fault. */
static void bad_message(struct sync_link *l, const struct ag_msg *m, int rc, size_t where)
{
	if (rc == AG_EVERSION && m->type == AG_MSG_HELLO) {
		l->protocol = m->seq;
		l->software[0] = '\0';
		log_peer(LOG_LEVEL_WARN, l->name,
		         "speaks replication protocol %llu, this node speaks %d: refused",
		         (unsigned long long)m->seq, AG_PROTO_VERSION);
		cut(l, "another protocol version", 1);
		return;
	}
	log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name, "malformed message at byte %zu: %s", where,
	                ag_strerror(rc));
	cut(l, "malformed message", 1);
}

/* Who the peer is and what it runs, as it says: kept for agora status, controls made '?'. */
static void on_hello(struct sync_link *l, const struct ag_msg *m)
{
	size_t n = m->software_len < SYNC_SOFTWARE_MAX ? m->software_len : SYNC_SOFTWARE_MAX;

	log_peer(LOG_LEVEL_INFO, l->name, "hello: %.*s, %.*s", (int)m->name_len, m->name,
	         (int)m->software_len, m->software);
	l->protocol = m->seq;
	memcpy(l->software, m->software, n);
	l->software[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l->software[i] < 0x20 || l->software[i] == 0x7f)
			l->software[i] = '?';
}

void sync_msg(struct sync_link *l, const uint8_t *msg, size_t len)
{
	struct ag_msg m;
	size_t where = 0;
	int rc;

	if ((rc = ag_msg_decode(&m, msg, len, &where)) != 0) {
		bad_message(l, &m, rc, where);
		return;
	}
	switch (m.type) {
	case AG_MSG_HELLO:
		on_hello(l, &m);
		break;
	case AG_MSG_CLOCK:
		on_clock(l, &m);
		break;
	case AG_MSG_ENTRIES:
		on_entries(l, &m, msg, len);
		break;
	case AG_MSG_HAVE:
		on_have(l, &m);
		break;
	case AG_MSG_WANT:
		on_want(l, &m);
		break;
	case AG_MSG_MODE:
		on_mode(l, &m);
		break;
	case AG_MSG_PING:
		on_ping(l, &m);
		break;
	case AG_MSG_PONG:
		break;
	case AG_MSG_WANT_BODIES:
		on_want_bodies(l, &m);
		break;
	case AG_MSG_SUCCESSION:
		if (l->sync->env.ops->certificate)
			l->sync->env.ops->certificate(l->sync->env.ud, l, m.cert, m.cert_len);
		break;
	case AG_MSG_UNKNOWN:
		l->unknown++;
		log_peer(LOG_LEVEL_DEBUG, l->name, "message of unknown type %llu ignored",
		         (unsigned long long)m.seq);
		break;
	}
}

/* A run taken out of a push: the pump streams that feed from the run's first seq. */
static void push_dropped(struct sync_link *q, const struct run_out *r)
{
	struct feed *f = feed_find(q, r->dropped_author);

	if (!f)
		return;
	if (f->known >= r->dropped_first)
		f->known = r->dropped_first - 1;
	f->send = r->dropped_first;
}

/* Eager links get the entries, in order and without gaps; the rest wait for the pump. */
static void push_eager(struct sync_link *q, const struct ag_entry *entries, size_t n)
{
	struct run_out r;

	run_init(&r, q);
	for (size_t i = 0; i < n; i++) {
		const struct ag_entry *e = &entries[i];
		struct feed *f = feed_find(q, e->h.author);

		if (!f || f->lazy || f->known >= e->h.seq || f->send > 0)
			continue;
		if (f->known + 1 < e->h.seq || q->sync->env.ops->queued(q->ud) >= CONN_QUEUE_HIGH) {
			f->send = f->known + 1;
			continue;
		}
		if (run_add(&r, e) != 0)
			push_dropped(q, &r);
		if (f->send == 0)
			f->known = e->h.seq;
	}
	if (run_close(&r) != 0)
		push_dropped(q, &r);
	send_msgb(q);
}

/* Lazy links get a note of each new head. */
static void push_lazy(struct sync_link *q, const struct ag_entry *entries, size_t n)
{
	ag_msgb_init(&msgb, AG_MSG_HAVE);
	for (size_t i = 0; i < n; i++) {
		struct feed *f = feed_find(q, entries[i].h.author);

		if (f && f->lazy && f->known < entries[i].h.seq &&
		    (i + 1 == n || memcmp(entries[i + 1].h.author, entries[i].h.author, 32) != 0)) {
			add_pair(q, entries[i].h.author, entries[i].h.seq);
			f->told = entries[i].h.seq > f->told ? entries[i].h.seq : f->told;
		}
	}
	send_msgb(q);
}

void sync_push(struct sync *s, const struct ag_entry *entries, size_t count, struct sync_link *from)
{
	for (struct sync_link *q = s->links; q; q = q->next) {
		if (q == from || !q->up || !q->got_clock)
			continue;
		push_eager(q, entries, count);
		push_lazy(q, entries, count);
		pump(q);
	}
}

uint64_t sync_peer_version(const struct sync_link *l, char *software, size_t cap)
{
	snprintf(software, cap, "%s", l ? l->software : "");
	return l ? l->protocol : 0;
}

uint64_t sync_received(const struct sync_link *l)
{
	return l->received;
}

uint64_t sync_duplicates(const struct sync_link *l)
{
	return l->duplicates;
}

uint64_t sync_known(const struct sync_link *l, const uint8_t author[32])
{
	return l ? link_known(l, author) : 0;
}

uint64_t sync_sent(const struct sync_link *l)
{
	return l->sent;
}

uint64_t sync_invalid(const struct sync_link *l)
{
	return l->invalid;
}

uint64_t sync_invalid_total(const struct sync *s)
{
	return s->invalid;
}

uint64_t sync_outside(const struct sync_link *l)
{
	return l->outside;
}

uint64_t sync_unknown(const struct sync_link *l)
{
	return l->unknown;
}
