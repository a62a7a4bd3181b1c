/* sync.c: replication over peer links (docs/PROTOCOL.md §1). */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "members.h"
#include "msg.h"
#include "schema.h"
#include "store.h"
#include "sync.h"

#define SYNC_JOBS_MAX    32   /* verify jobs queued per peer before we stop reading it */
#define SYNC_APPLY_MIN   2048 /* verified entries that go to the store at once while more come */
#define SYNC_FEED_COUNT  512  /* entries read from the store per batch */
#define SYNC_GRAFT_MS    200  /* how long a lazy link's note waits for the eager link */
#define SYNC_FEEDS_OTHER 1024 /* feeds we do not replicate whose heads we track per peer */

/* One feed as seen from a peer. */
struct feed {
	uint8_t author[32];
	uint64_t known; /* the highest seq the peer is known to have */
	uint64_t send;  /* next seq to stream to it; 0 when nothing to stream */
	int lazy;       /* it asked for HAVE notes only (MODE false) */
	int we_lazy;    /* we asked it for notes only */
	uint64_t noted; /* the highest seq it noted (HAVE) that we still lack; 0 none */
};

struct sync {
	struct sync_env env;
	struct sync_link *links; /* a list, oldest first */
	uint64_t own_seen;       /* the highest seq of our own feed that a peer reported */
	int own_learned;         /* our head reached own_seen once: told through own_head_learned */
};

struct sync_link {
	struct sync *sync; /* NULL once its owner freed it: its last jobs end unapplied */
	void *ud;
	struct sync_link *prev, *next;
	char name[CONFIG_NAME_MAX + 1];
	int up;   /* between sync_up and sync_down */
	int bad;  /* sent an invalid entry: drop its queued jobs until it reconnects */
	int jobs; /* verify jobs in flight */
	struct sync_job *jobs_head, *jobs_tail; /* in arrival order, applied in that order */
	size_t pump_next;                       /* round-robin position over feeds to stream */
	int got_clock;
	int feeds_capped; /* it named more feeds than we track: told once per connection */
	uint64_t outside; /* entries of feeds we do not replicate, this connection */
	struct feed *feeds;
	size_t nfeeds, capfeeds;
	uint64_t received, duplicates; /* entries */
	struct log_ratelimit rl;
};

/* One ENTRIES message, verified on the thread pool, applied on the loop in arrival order. */
struct sync_job {
	uv_work_t work;
	struct sync_link *link;
	struct sync_job *next;
	int done;
	size_t n;
	uint8_t network[32];
	uint8_t *buf; /* the message, copied: entries point into it */
	size_t len;
	struct ag_entry *entries;
	struct store_prep *prep; /* each verified entry's hash and index terms */
	int *rc;
};

struct sync *sync_new(const struct sync_env *env)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (s)
		s->env = *env;
	return s;
}

void sync_free(struct sync *s)
{
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

static void link_destroy(struct sync_link *l)
{
	free(l->feeds);
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
	l->sync = NULL;
	l->up = 0;
	if (l->jobs == 0)
		link_destroy(l);
}

static struct feed *feed_find(const struct sync_link *l, const uint8_t author[32])
{
	for (size_t i = 0; i < l->nfeeds; i++)
		if (memcmp(l->feeds[i].author, author, 32) == 0)
			return &l->feeds[i];
	return NULL;
}

/* The feed entry for author, created (known 0) if absent; NULL when out of memory. */
static struct feed *feed_get(struct sync_link *l, const uint8_t author[32])
{
	struct feed *f = feed_find(l, author);

	if (f)
		return f;
	if (l->nfeeds == l->capfeeds) {
		size_t cap = l->capfeeds ? 2 * l->capfeeds : 16;
		struct feed *nf = realloc(l->feeds, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		l->feeds = nf;
		l->capfeeds = cap;
	}
	f = &l->feeds[l->nfeeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->author, author, 32);
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
	ag_msgb_init(&msgb, msgb.type);
}

static void add_pair(struct sync_link *l, const uint8_t author[32], uint64_t v)
{
	if (ag_msgb_add_pair(&msgb, author, v) == 0)
		return;
	send_msgb(l);
	if (ag_msgb_add_pair(&msgb, author, v) != 0)
		log_error("clock pair does not fit an empty message");
}

static int clock_head(const uint8_t author[32], uint64_t seq, const uint8_t hash[32], void *arg)
{
	struct sync_link *l = arg;

	(void)hash;
	if (replicates(l->sync, author))
		add_pair(l, author, seq);
	return 0;
}

static uint64_t head_of(const struct sync *s, const uint8_t author[32])
{
	uint8_t hash[32];
	uint64_t seq = 0;

	return store_head(s->env.store, author, &seq, hash) == 1 ? seq : 0;
}

/* Our CLOCK: every replicated feed, those we hold nothing of at seq 0. */
static void send_clock(struct sync_link *l)
{
	const struct sync *s = l->sync;

	ag_msgb_init(&msgb, AG_MSG_CLOCK);
	(void)store_heads(s->env.store, clock_head, l);
	for (size_t i = 0; i < members_count(s->env.set); i++)
		if (head_of(s, members_key(s->env.set, i)) == 0)
			add_pair(l, members_key(s->env.set, i), 0);
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
	l->got_clock = 0;
	l->feeds_capped = 0;
	l->outside = 0;
	l->up = 0;
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
	send_clock(l);
}

void sync_down(struct sync_link *l)
{
	link_reset(l);
}

struct pump_state {
	uint64_t last;
	size_t added;
};

static int pump_entry(const struct ag_entry *e, void *arg)
{
	struct pump_state *st = arg;

	if (ag_msgb_add_entry(&msgb, e->raw, e->raw_len) != 0)
		return 1;
	st->last = e->seq;
	st->added++;
	return 0;
}

/* Streams one batch of one feed; 0 when no feed has anything left to stream. */
static int pump_one(struct sync_link *l)
{
	struct pump_state st = {0, 0};
	struct feed *f = NULL;

	for (size_t i = 0; i < l->nfeeds && !f; i++) {
		struct feed *g = &l->feeds[(l->pump_next + i) % l->nfeeds];

		if (g->send > 0)
			f = g;
	}
	if (!f)
		return 0;
	l->pump_next = (size_t)(f - l->feeds) + 1;
	ag_msgb_init(&msgb, AG_MSG_ENTRIES);
	if (store_feed(l->sync->env.store, f->author, f->send, SYNC_FEED_COUNT, AG_MSG_MAX - 64,
	               pump_entry, &st) < 0 ||
	    st.added == 0) {
		f->send = 0;
		return 1;
	}
	send_msgb(l);
	if (st.last > f->known)
		f->known = st.last;
	f->send = st.last + 1;
	if (st.last >= head_of(l->sync, f->author))
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

/* The restore guard: once our own feed is as far as every peer said, we may publish. */
static void check_own_head(struct sync *s)
{
	if (!s->own_learned && head_of(s, s->env.self) >= s->own_seen) {
		s->own_learned = 1;
		s->env.ops->own_head_learned(s->env.ud, s->own_seen);
	}
}

/*
 * The peer's state of a feed it names in a CLOCK, HAVE or MODE. Feeds we do not
 * replicate are tracked (in case our set grows to them) up to a bound: else a
 * peer naming made-up authors without end grows the table, and every lookup
 * in it, without end. Past the bound they are not even looked up (NULL), and
 * the peer is told of once.
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

static void on_clock(struct sync_link *l, struct ag_msg *m)
{
	struct sync *s = l->sync;
	const uint8_t *author;
	uint64_t seq, head;
	struct feed *f;

	l->got_clock = 1;
	while (ag_msg_next_pair(&m->list, &author, &seq)) {
		if (!(f = named_feed(l, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (memcmp(author, s->env.self, 32) == 0 && seq > s->own_seen)
			s->own_seen = seq;
		if (!replicates(s, author))
			continue;
		head = head_of(s, author);
		if (head > seq && f->send == 0)
			f->send = seq + 1;
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
	uint64_t seq;

	while (ag_msg_next_pair(&m->list, &author, &seq)) {
		if (!(f = named_feed(l, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (!replicates(s, author) || seq <= head_of(s, author))
			continue;
		f->noted = seq > f->noted ? seq : f->noted;
		s->env.ops->graft_later(s->env.ud, SYNC_GRAFT_MS);
	}
}

/* Graft: the feeds still behind what a lazy link noted become eager on it again. */
void sync_graft_due(struct sync *s)
{
	for (struct sync_link *l = s->links; l; l = l->next) {
		for (size_t k = 0; l->up && k < l->nfeeds; k++) {
			struct feed *f = &l->feeds[k];
			uint64_t head;

			if (f->noted == 0)
				continue;
			if (f->noted > (head = head_of(s, f->author))) {
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

static void after_append(struct sync_link *l, struct ag_entry *entries,
                         const struct store_result *res, size_t n);

static void job_free(struct sync_job *j)
{
	for (size_t i = 0; j->prep && i < j->n; i++)
		store_prep_clear(&j->prep[i]);
	free(j->buf);
	free(j->entries);
	free(j->prep);
	free(j->rc);
	free(j);
}

static void verify_work(uv_work_t *w)
{
	struct sync_job *j = w->data;

	for (size_t i = 0; i < j->n; i++) {
		j->rc[i] = ag_entry_open(&j->entries[i], j->entries[i].raw, j->entries[i].raw_len,
		                         j->network, NULL);
		/* Hash, schema and terms off the loop; if this fails, the store makes them. */
		if (j->rc[i] == 0 && store_prepare(&j->prep[i], &j->entries[i]) == 0 &&
		    j->prep[i].refused)
			j->rc[i] = AG_ESCHEMA;
	}
}

static void bad_peer(struct sync_link *l, const struct ag_entry *e, const char *why)
{
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, e->author);
	log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name, "invalid entry (author %s, seq %llu): %s",
	                key, (unsigned long long)e->seq, why);
	cut(l, why, 1);
}

/* An entry whose body breaks its type's schema: the peer is cut off, saying where. */
static void bad_record(struct sync_link *l, const struct ag_entry *e)
{
	char why[256], id[AG_ID_MAX + 1], line[AG_TYPE_MAX + AG_ID_MAX + 300];

	if (ag_schema_check(e->type, e->id, e->id_len, e->body, e->body_len, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "%s", ag_strerror(AG_ESCHEMA));
	memcpy(id, e->id, e->id_len);
	id[e->id_len] = '\0';
	snprintf(line, sizeof(line), "%s/%s breaks its schema: %s", e->type, id, why);
	bad_peer(l, e, line);
}

/*
 * A valid entry of a feed we do not replicate: not an offence (our set may
 * just have shrunk) but not kept. A peer that floods them is told of once per
 * connection, with the count when it goes.
 */
static void outside_entry(struct sync_link *l, const struct ag_entry *e)
{
	char key[AG_B64_LEN + 1];

	if (l->outside++ > 0)
		return;
	ag_key_to_b64(key, e->author);
	log_peer(LOG_LEVEL_WARN, l->name,
	         "sends entries of a feed we do not replicate (author %s): ignored", key);
}

/*
 * After verification: the valid entries of feeds we replicate, from every job
 * that is ready, go to the store in one transaction (one fsync, not one per
 * message). An invalid entry ends the batch there and cuts the peer off.
 */
static void jobs_apply(struct sync_link *l, struct sync_job *ready, size_t total)
{
	struct sync *s = l->sync;
	struct ag_entry *all = malloc((total ? total : 1) * sizeof(*all));
	struct store_prep *prep = malloc((total ? total : 1) * sizeof(*prep));
	struct store_result *res = malloc((total ? total : 1) * sizeof(*res));
	size_t keep = 0;
	int bad = 0;

	if (!all || !prep || !res) {
		cut(l, "out of memory", 0);
		goto out;
	}
	for (struct sync_job *j = ready; j && !bad; j = j->next)
		for (size_t i = 0; i < j->n && !bad; i++) {
			if (j->rc[i] == AG_ESCHEMA) {
				bad_record(l, &j->entries[i]);
				bad = 1;
			} else if (j->rc[i] != 0) {
				bad_peer(l, &j->entries[i], ag_strerror(j->rc[i]));
				bad = 1;
			} else if (replicates(s, j->entries[i].author)) {
				prep[keep] = j->prep[i];
				all[keep++] = j->entries[i];
			} else {
				outside_entry(l, &j->entries[i]);
			}
		}
	if (keep > 0 && store_append_prepared(s->env.store, all, prep, keep, res) == 0)
		after_append(l, all, res, keep);
out:
	free(all);
	free(prep);
	free(res);
}

static void note_duplicate(struct sync_link *l, const struct ag_entry *e)
{
	struct feed *f = feed_get(l, e->author);

	l->duplicates++;
	if (!f)
		return;
	f->known = e->seq > f->known ? e->seq : f->known;
	/* Another link brought it first: this one need only note new heads (prune). */
	if (!f->we_lazy) {
		f->we_lazy = 1;
		send_mode(l, e->author, 0);
	}
}

static int is_member_record(const struct ag_entry *e)
{
	return strcmp(e->type, "member") == 0;
}

static void after_append(struct sync_link *l, struct ag_entry *entries,
                         const struct store_result *res, size_t n)
{
	struct sync *s = l->sync;
	const uint8_t *wanted = NULL;
	size_t stored = 0;
	int members = 0;

	for (size_t i = 0; i < n && l->up; i++) {
		struct feed *f;

		switch (res[i].status) {
		case STORE_STORED:
			if ((f = feed_get(l, entries[i].author)) && entries[i].seq > f->known)
				f->known = entries[i].seq;
			l->received++;
			members |= is_member_record(&entries[i]);
			entries[stored++] = entries[i];
			break;
		case STORE_DUPLICATE:
			note_duplicate(l, &entries[i]);
			break;
		case STORE_GAP:
			if (!wanted || memcmp(wanted, entries[i].author, 32) != 0)
				send_want(l, entries[i].author, res[i].need_seq);
			wanted = entries[i].author;
			break;
		case STORE_FORK:
			bad_peer(l, &entries[i], "fork: a second entry at the same seq");
			break;
		case STORE_INVALID: /* only when store_prepare ran out of memory */
			bad_record(l, &entries[i]);
			break;
		case STORE_REFUSED:
			break;
		}
	}
	if (stored > 0)
		sync_push(s, entries, stored, l);
	if (members)
		s->env.ops->members_changed(s->env.ud);
	check_own_head(s);
}

/*
 * Are the verified jobs at the head of the queue to be stored now? Each
 * transaction costs an fsync and an index flush, so during a bulk sync they
 * wait until SYNC_APPLY_MIN entries are ready; a job still verifying behind
 * them will call again. With none behind, they go now: no added delay.
 */
static int jobs_due(const struct sync_link *l)
{
	size_t ready = 0;

	for (const struct sync_job *j = l->jobs_head; j; j = j->next) {
		if (!j->done)
			return ready >= SYNC_APPLY_MIN;
		ready += j->n;
	}
	return 1;
}

static void verify_done(uv_work_t *w, int status)
{
	struct sync_job *j = w->data, *ready = NULL, **tail = &ready;
	struct sync_link *l = j->link;
	size_t total = 0;
	int due;

	j->done = 1;
	if (status != 0)
		j->n = 0; /* cancelled: nothing of it was verified */
	due = jobs_due(l);
	while (due && l->jobs_head && l->jobs_head->done) {
		j = l->jobs_head;
		l->jobs_head = j->next;
		if (!l->jobs_head)
			l->jobs_tail = NULL;
		l->jobs--;
		j->next = NULL;
		*tail = j;
		tail = &j->next;
		total += j->n;
	}
	if (ready && !l->bad && l->up)
		jobs_apply(l, ready, total);
	while ((j = ready)) {
		ready = j->next;
		job_free(j);
	}
	if (!l->sync) {
		if (l->jobs == 0)
			link_destroy(l);
	} else if (l->up && l->jobs < SYNC_JOBS_MAX) {
		l->sync->env.ops->pause(l->ud, 0);
	}
}

static struct sync_job *job_new(struct sync_link *l, struct ag_msg *m, const uint8_t *msg,
                                size_t len)
{
	struct sync_job *j = calloc(1, sizeof(*j));
	const uint8_t *e;
	size_t elen, i = 0;

	if (!j)
		return NULL;
	j->link = l;
	j->n = m->list.n;
	memcpy(j->network, l->sync->env.network, 32);
	j->buf = malloc(len);
	j->entries = calloc(j->n ? j->n : 1, sizeof(*j->entries));
	j->prep = calloc(j->n ? j->n : 1, sizeof(*j->prep));
	j->rc = calloc(j->n ? j->n : 1, sizeof(*j->rc));
	if (!j->buf || !j->entries || !j->prep || !j->rc) {
		job_free(j);
		return NULL;
	}
	memcpy(j->buf, msg, len);
	while (ag_msg_next_entry(&m->list, &e, &elen)) {
		j->entries[i].raw = j->buf + (e - msg);
		j->entries[i++].raw_len = elen;
	}
	j->work.data = j;
	return j;
}

/* Entries go to the thread pool; jobs finish in any order but apply in arrival order. */
static void on_entries(struct sync_link *l, struct ag_msg *m, const uint8_t *msg, size_t len)
{
	struct sync_job *j;

	if (m->list.n == 0)
		return;
	if (!(j = job_new(l, m, msg, len))) {
		cut(l, "out of memory", 0);
		return;
	}
	if (l->jobs_tail)
		l->jobs_tail->next = j;
	else
		l->jobs_head = j;
	l->jobs_tail = j;
	l->jobs++;
	uv_queue_work(l->sync->env.loop, &j->work, verify_work, verify_done);
	if (l->jobs >= SYNC_JOBS_MAX)
		l->sync->env.ops->pause(l->ud, 1);
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

void sync_msg(struct sync_link *l, const uint8_t *msg, size_t len)
{
	struct ag_msg m;
	size_t where = 0;
	int rc;

	if ((rc = ag_msg_decode(&m, msg, len, &where)) != 0) {
		log_ratelimited(&l->rl, LOG_LEVEL_WARN, l->name,
		                "malformed message at byte %zu: %s", where, ag_strerror(rc));
		cut(l, "malformed message", 1);
		return;
	}
	switch (m.type) {
	case AG_MSG_HELLO:
		log_peer(LOG_LEVEL_INFO, l->name, "hello: %.*s, %.*s", (int)m.name_len, m.name,
		         (int)m.software_len, m.software);
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
	}
}

/* Eager links get the entries, in order and without gaps; the rest wait for the pump. */
static void push_eager(struct sync_link *q, const struct ag_entry *entries, size_t n)
{
	ag_msgb_init(&msgb, AG_MSG_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		const struct ag_entry *e = &entries[i];
		struct feed *f = feed_find(q, e->author);

		if (!f || f->lazy || f->known >= e->seq || f->send > 0)
			continue;
		if (f->known + 1 < e->seq || q->sync->env.ops->queued(q->ud) >= CONN_QUEUE_HIGH) {
			f->send = f->known + 1;
			continue;
		}
		if (ag_msgb_add_entry(&msgb, e->raw, e->raw_len) != 0) {
			send_msgb(q);
			if (ag_msgb_add_entry(&msgb, e->raw, e->raw_len) != 0)
				continue;
		}
		f->known = e->seq;
	}
	send_msgb(q);
}

/* Lazy links get a note of each new head. */
static void push_lazy(struct sync_link *q, const struct ag_entry *entries, size_t n)
{
	ag_msgb_init(&msgb, AG_MSG_HAVE);
	for (size_t i = 0; i < n; i++) {
		struct feed *f = feed_find(q, entries[i].author);

		if (f && f->lazy && f->known < entries[i].seq &&
		    (i + 1 == n || memcmp(entries[i + 1].author, entries[i].author, 32) != 0))
			add_pair(q, entries[i].author, entries[i].seq);
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

uint64_t sync_behind(const struct sync_link *l)
{
	uint64_t behind = 0, head;

	for (size_t i = 0; i < l->nfeeds; i++) {
		if (!replicates(l->sync, l->feeds[i].author))
			continue;
		head = head_of(l->sync, l->feeds[i].author);
		if (head > l->feeds[i].known)
			behind += head - l->feeds[i].known;
	}
	return behind;
}

uint64_t sync_received(const struct sync_link *l)
{
	return l->received;
}

uint64_t sync_duplicates(const struct sync_link *l)
{
	return l->duplicates;
}

uint64_t sync_outside(const struct sync_link *l)
{
	return l->outside;
}
