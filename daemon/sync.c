/* sync.c: replication over one peer connection (docs/PROTOCOL.md §1). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "members.h"
#include "msg.h"
#include "node_internal.h"
#include "schema.h"
#include "store.h"
#include "sync.h"

#define SYNC_JOBS_MAX    32   /* verify jobs queued per peer before we stop reading it */
#define SYNC_APPLY_MIN   2048 /* verified entries that go to the store at once while more come */
#define SYNC_FEED_COUNT  512  /* entries read from the store per batch */
#define SYNC_GRAFT_MS    200  /* how long a lazy link's note waits for the eager link */
#define SYNC_FEEDS_OTHER 1024 /* feeds we do not replicate whose heads we track per peer */

/* One ENTRIES message, verified on the thread pool, applied on the loop in arrival order. */
struct sync_job {
	uv_work_t work;
	struct peer *peer;
	struct sync_job *next;
	int done;
	size_t n;
	uint8_t *buf; /* the message, copied: entries point into it */
	size_t len;
	struct ag_entry *entries;
	struct store_prep *prep; /* each verified entry's hash and index terms */
	int *rc;
};

/* One builder at a time on the loop thread: 64 KiB that need not live on the stack. */
static struct ag_msgb msgb;

static void send_msgb(struct peer *p)
{
	const uint8_t *m;
	size_t len;

	if (msgb.n == 0 || !p->conn)
		return;
	ag_msgb_finish(&msgb, &m, &len);
	(void)conn_send(p->conn, m, len);
	ag_msgb_init(&msgb, msgb.type);
}

static void add_pair(struct peer *p, const uint8_t author[32], uint64_t v)
{
	if (ag_msgb_add_pair(&msgb, author, v) == 0)
		return;
	send_msgb(p);
	if (ag_msgb_add_pair(&msgb, author, v) != 0)
		log_error("clock pair does not fit an empty message");
}

static int clock_head(const uint8_t author[32], uint64_t seq, const uint8_t hash[32], void *arg)
{
	(void)hash;
	if (node_replicates(((struct peer *)arg)->node, author))
		add_pair(arg, author, seq);
	return 0;
}

static uint64_t head_of(struct node *n, const uint8_t author[32])
{
	uint8_t hash[32];
	uint64_t seq = 0;

	return store_head(n->store, author, &seq, hash) == 1 ? seq : 0;
}

/* Our CLOCK: every replicated feed, those we hold nothing of at seq 0. */
void sync_clock(struct peer *p)
{
	struct node *n = p->node;

	ag_msgb_init(&msgb, AG_MSG_CLOCK);
	(void)store_heads(n->store, clock_head, p);
	for (size_t i = 0; i < members_count(n->members); i++)
		if (head_of(n, members_key(n->members, i)) == 0)
			add_pair(p, members_key(n->members, i), 0);
	send_msgb(p);
	if (msgb.n == 0 && p->conn) {
		const uint8_t *m;
		size_t len;

		ag_msgb_finish(&msgb, &m, &len); /* an empty clock still says "I have nothing" */
		(void)conn_send(p->conn, m, len);
	}
}

void sync_up(struct peer *p)
{
	uint8_t buf[256];
	size_t len;

	if (ag_msg_hello(buf, sizeof(buf), &len, p->node->cfg->name, "agorad " AGORA_VERSION) == 0)
		(void)conn_send(p->conn, buf, len);
	sync_clock(p);
}

struct pump_state {
	struct peer *peer;
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
static int pump_one(struct peer *p)
{
	struct pump_state st = {p, 0, 0};
	struct peer_feed *f = NULL;

	for (size_t i = 0; i < p->nfeeds && !f; i++) {
		struct peer_feed *g = &p->feeds[(p->pump_next + i) % p->nfeeds];

		if (g->send > 0)
			f = g;
	}
	if (!f)
		return 0;
	p->pump_next = (size_t)(f - p->feeds) + 1;
	ag_msgb_init(&msgb, AG_MSG_ENTRIES);
	if (store_feed(p->node->store, f->author, f->send, SYNC_FEED_COUNT, AG_MSG_MAX - 64,
	               pump_entry, &st) < 0 ||
	    st.added == 0) {
		f->send = 0;
		return 1;
	}
	send_msgb(p);
	if (st.last > f->known)
		f->known = st.last;
	f->send = st.last + 1;
	if (st.last >= head_of(p->node, f->author))
		f->send = 0;
	return 1;
}

static void pump(struct peer *p)
{
	while (p->conn && p->up && conn_queued(p->conn) < CONN_QUEUE_HIGH && pump_one(p))
		;
}

void sync_drain(struct peer *p)
{
	pump(p);
}

static void send_mode(struct peer *p, const uint8_t author[32], int eager)
{
	ag_msgb_init(&msgb, AG_MSG_MODE);
	add_pair(p, author, (uint64_t)eager);
	send_msgb(p);
}

static void send_want(struct peer *p, const uint8_t author[32], uint64_t from)
{
	uint8_t buf[64];
	size_t len;

	if (ag_msg_want(buf, sizeof(buf), &len, author, from) == 0)
		(void)conn_send(p->conn, buf, len);
}

static void check_ready(struct node *n)
{
	if (!n->ready && head_of(n, n->pk) >= n->own_seq_seen) {
		n->ready = 1;
		log_info("own feed learned from peers (seq %llu): publishing enabled",
		         (unsigned long long)n->own_seq_seen);
		/* The configured peers' member records wait for this moment: vouch for them now. */
		node_reconcile_members(n);
	}
}

/*
 * The peer's state of a feed it names in a CLOCK, HAVE or MODE. Feeds we do not
 * replicate are tracked (in case our set grows to them) up to a bound: else a
 * peer naming made-up authors without end grows the table, and every lookup
 * in it, without end. Past the bound they are not even looked up (NULL), and
 * the peer is told of once.
 */
static struct peer_feed *named_feed(struct peer *p, const uint8_t author[32])
{
	struct peer_feed *f;

	if (node_replicates(p->node, author))
		return peer_feed(p, author);
	if (p->feeds_capped)
		return NULL;
	if ((f = peer_feed_find(p, author)) ||
	    p->nfeeds < members_count(p->node->members) + SYNC_FEEDS_OTHER)
		return f ? f : peer_feed(p, author);
	log_peer(LOG_LEVEL_WARN, p->name,
	         "names more than %d feeds we do not replicate: the rest are ignored",
	         SYNC_FEEDS_OTHER);
	p->feeds_capped = 1;
	return NULL;
}

static void on_clock(struct peer *p, struct ag_msg *m)
{
	struct node *n = p->node;
	const uint8_t *author;
	uint64_t seq, head;
	struct peer_feed *f;

	p->got_clock = 1;
	while (ag_msg_next_pair(&m->list, &author, &seq)) {
		if (!(f = named_feed(p, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (memcmp(author, n->pk, 32) == 0 && seq > n->own_seq_seen)
			n->own_seq_seen = seq;
		if (!node_replicates(n, author))
			continue;
		head = head_of(n, author);
		if (head > seq && f->send == 0)
			f->send = seq + 1;
	}
	check_ready(n);
	pump(p);
}

/*
 * HAVE: a lazy link's note of a head. An eager link usually brings the entry
 * within moments (it may be in the verify pool now), so the graft waits
 * SYNC_GRAFT_MS: only what is still missing then is asked of this link.
 */
static void on_have(struct peer *p, struct ag_msg *m)
{
	struct node *n = p->node;
	const uint8_t *author;
	struct peer_feed *f;
	uint64_t seq;

	while (ag_msg_next_pair(&m->list, &author, &seq)) {
		if (!(f = named_feed(p, author)))
			continue;
		f->known = seq > f->known ? seq : f->known;
		if (!node_replicates(n, author) || seq <= head_of(n, author))
			continue;
		f->noted = seq > f->noted ? seq : f->noted;
		if (!uv_is_active((uv_handle_t *)&n->graft_timer))
			uv_timer_start(&n->graft_timer, sync_graft_due, SYNC_GRAFT_MS, 0);
	}
}

/* Graft: the feeds still behind what a lazy link noted become eager on it again. */
void sync_graft_due(uv_timer_t *t)
{
	struct node *n = t->data;

	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];

		for (size_t k = 0; p->up && p->conn && k < p->nfeeds; k++) {
			struct peer_feed *f = &p->feeds[k];
			uint64_t head;

			if (f->noted == 0)
				continue;
			if (f->noted > (head = head_of(n, f->author))) {
				if (f->we_lazy) {
					f->we_lazy = 0;
					send_mode(p, f->author, 1);
				}
				send_want(p, f->author, head + 1);
			}
			f->noted = 0;
		}
	}
}

static void on_mode(struct peer *p, struct ag_msg *m)
{
	const uint8_t *author;
	struct peer_feed *f;
	uint64_t eager;

	while (ag_msg_next_pair(&m->list, &author, &eager)) {
		if (!(f = named_feed(p, author)))
			continue;
		/* A graft's WANT, right behind, says where to stream from. */
		f->lazy = !eager;
	}
}

static void on_want(struct peer *p, struct ag_msg *m)
{
	struct peer_feed *f;

	if (!node_replicates(p->node, m->author) || !(f = peer_feed(p, m->author)))
		return;
	if (m->seq == 0)
		m->seq = 1;
	if (m->seq - 1 < f->known)
		f->known = m->seq - 1; /* it says it lacks them: believe it */
	if (head_of(p->node, m->author) >= m->seq)
		f->send = m->seq;
	pump(p);
}

static void sync_after_append(struct peer *p, struct ag_entry *entries,
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
	const uint8_t *network = j->peer->node->keys.network;

	for (size_t i = 0; i < j->n; i++) {
		j->rc[i] = ag_entry_open(&j->entries[i], j->entries[i].raw, j->entries[i].raw_len,
		                         network, NULL);
		/* Hash, schema and terms off the loop; if this fails, the store makes them. */
		if (j->rc[i] == 0 && store_prepare(&j->prep[i], &j->entries[i]) == 0 &&
		    j->prep[i].refused)
			j->rc[i] = AG_ESCHEMA;
	}
}

static void bad_peer(struct peer *p, const struct ag_entry *e, const char *why)
{
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, e->author);
	log_ratelimited(&p->rl, LOG_LEVEL_WARN, p->name, "invalid entry (author %s, seq %llu): %s",
	                key, (unsigned long long)e->seq, why);
	p->bad = 1;
	node_peer_down(p->node, p, why, 1);
}

/* An entry whose body breaks its type's schema: the peer is cut off, saying where. */
static void bad_record(struct peer *p, const struct ag_entry *e)
{
	char why[256], id[AG_ID_MAX + 1], line[AG_TYPE_MAX + AG_ID_MAX + 300];

	if (ag_schema_check(e->type, e->id, e->id_len, e->body, e->body_len, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "%s", ag_strerror(AG_ESCHEMA));
	memcpy(id, e->id, e->id_len);
	id[e->id_len] = '\0';
	snprintf(line, sizeof(line), "%s/%s breaks its schema: %s", e->type, id, why);
	bad_peer(p, e, line);
}

/*
 * A valid entry of a feed we do not replicate: not an offence (our set may
 * just have shrunk) but not kept. A peer that floods them is told of once per
 * connection, with the count when it goes.
 */
static void outside_entry(struct peer *p, const struct ag_entry *e)
{
	char key[AG_B64_LEN + 1];

	if (p->outside++ > 0)
		return;
	ag_key_to_b64(key, e->author);
	log_peer(LOG_LEVEL_WARN, p->name,
	         "sends entries of a feed we do not replicate (author %s): ignored", key);
}

/*
 * After verification: the valid entries of feeds we replicate, from every job
 * that is ready, go to the store in one transaction (one fsync, not one per
 * message). An invalid entry ends the batch there and cuts the peer off.
 */
static void jobs_apply(struct peer *p, struct sync_job *ready, size_t total)
{
	struct node *n = p->node;
	struct ag_entry *all = malloc((total ? total : 1) * sizeof(*all));
	struct store_prep *prep = malloc((total ? total : 1) * sizeof(*prep));
	struct store_result *res = malloc((total ? total : 1) * sizeof(*res));
	size_t keep = 0;
	int bad = 0;

	if (!all || !prep || !res) {
		node_peer_down(n, p, "out of memory", 0);
		goto out;
	}
	for (struct sync_job *j = ready; j && !bad; j = j->next)
		for (size_t i = 0; i < j->n && !bad; i++) {
			if (j->rc[i] == AG_ESCHEMA) {
				bad_record(p, &j->entries[i]);
				bad = 1;
			} else if (j->rc[i] != 0) {
				bad_peer(p, &j->entries[i], ag_strerror(j->rc[i]));
				bad = 1;
			} else if (node_replicates(n, j->entries[i].author)) {
				prep[keep] = j->prep[i];
				all[keep++] = j->entries[i];
			} else {
				outside_entry(p, &j->entries[i]);
			}
		}
	if (keep > 0 && store_append_prepared(n->store, all, prep, keep, res) == 0)
		sync_after_append(p, all, res, keep);
out:
	free(all);
	free(prep);
	free(res);
}

static void note_duplicate(struct peer *p, const struct ag_entry *e)
{
	struct peer_feed *f = peer_feed(p, e->author);

	p->duplicates++;
	if (!f)
		return;
	f->known = e->seq > f->known ? e->seq : f->known;
	/* Another link brought it first: this one need only note new heads (prune). */
	if (!f->we_lazy) {
		f->we_lazy = 1;
		send_mode(p, e->author, 0);
	}
}

static int is_member_record(const struct ag_entry *e)
{
	return strcmp(e->type, "member") == 0;
}

static void sync_after_append(struct peer *p, struct ag_entry *entries,
                              const struct store_result *res, size_t n)
{
	const uint8_t *wanted = NULL;
	size_t stored = 0;
	int members = 0;

	for (size_t i = 0; i < n && p->conn; i++) {
		struct peer_feed *f;

		switch (res[i].status) {
		case STORE_STORED:
			if ((f = peer_feed(p, entries[i].author)) && entries[i].seq > f->known)
				f->known = entries[i].seq;
			p->received++;
			members |= is_member_record(&entries[i]);
			entries[stored++] = entries[i];
			break;
		case STORE_DUPLICATE:
			note_duplicate(p, &entries[i]);
			break;
		case STORE_GAP:
			if (!wanted || memcmp(wanted, entries[i].author, 32) != 0)
				send_want(p, entries[i].author, res[i].need_seq);
			wanted = entries[i].author;
			break;
		case STORE_FORK:
			bad_peer(p, &entries[i], "fork: a second entry at the same seq");
			break;
		case STORE_INVALID: /* only when store_prepare ran out of memory */
			bad_record(p, &entries[i]);
			break;
		case STORE_REFUSED:
			break;
		}
	}
	if (stored > 0)
		sync_push(p->node, entries, stored, p);
	if (members)
		node_recompute_set(p->node);
	check_ready(p->node);
}

/*
 * Are the verified jobs at the head of the queue to be stored now? Each
 * transaction costs an fsync and an index flush, so during a bulk sync they
 * wait until SYNC_APPLY_MIN entries are ready; a job still verifying behind
 * them will call again. With none behind, they go now: no added delay.
 */
static int jobs_due(const struct peer *p)
{
	size_t ready = 0;

	for (const struct sync_job *j = p->jobs_head; j; j = j->next) {
		if (!j->done)
			return ready >= SYNC_APPLY_MIN;
		ready += j->n;
	}
	return 1;
}

static void verify_done(uv_work_t *w, int status)
{
	struct sync_job *j = w->data, *ready = NULL, **tail = &ready;
	struct peer *p = j->peer;
	size_t total = 0;
	int due;

	j->done = 1;
	if (status != 0)
		j->n = 0; /* cancelled: nothing of it was verified */
	due = jobs_due(p);
	while (due && p->jobs_head && p->jobs_head->done) {
		j = p->jobs_head;
		p->jobs_head = j->next;
		if (!p->jobs_head)
			p->jobs_tail = NULL;
		p->jobs--;
		j->next = NULL;
		*tail = j;
		tail = &j->next;
		total += j->n;
	}
	if (ready && !p->bad && !p->removed && p->conn)
		jobs_apply(p, ready, total);
	while ((j = ready)) {
		ready = j->next;
		job_free(j);
	}
	if (p->conn && p->jobs < SYNC_JOBS_MAX)
		conn_pause(p->conn, 0);
	if (p->removed && p->jobs == 0)
		peer_free(p);
}

static struct sync_job *job_new(struct peer *p, struct ag_msg *m, const uint8_t *msg, size_t len)
{
	struct sync_job *j = calloc(1, sizeof(*j));
	const uint8_t *e;
	size_t elen, i = 0;

	if (!j)
		return NULL;
	j->peer = p;
	j->n = m->list.n;
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
static void on_entries(struct peer *p, struct ag_msg *m, const uint8_t *msg, size_t len)
{
	struct sync_job *j;

	if (m->list.n == 0)
		return;
	if (!(j = job_new(p, m, msg, len))) {
		node_peer_down(p->node, p, "out of memory", 0);
		return;
	}
	if (p->jobs_tail)
		p->jobs_tail->next = j;
	else
		p->jobs_head = j;
	p->jobs_tail = j;
	p->jobs++;
	uv_queue_work(p->node->loop, &j->work, verify_work, verify_done);
	if (p->jobs >= SYNC_JOBS_MAX)
		conn_pause(p->conn, 1);
}

static void on_ping(struct peer *p, const struct ag_msg *m)
{
	uint8_t buf[32];
	size_t len;

	if (ag_msg_ping(buf, sizeof(buf), &len, 1, m->seq) == 0)
		(void)conn_send(p->conn, buf, len);
}

void sync_ping(struct peer *p)
{
	uint8_t buf[32];
	size_t len;

	if (p->conn && p->up && ag_msg_ping(buf, sizeof(buf), &len, 0, uv_now(p->node->loop)) == 0)
		(void)conn_send(p->conn, buf, len);
}

void sync_msg(struct peer *p, const uint8_t *msg, size_t len)
{
	struct ag_msg m;
	size_t where = 0;
	int rc;

	if ((rc = ag_msg_decode(&m, msg, len, &where)) != 0) {
		log_ratelimited(&p->rl, LOG_LEVEL_WARN, p->name,
		                "malformed message at byte %zu: %s", where, ag_strerror(rc));
		node_peer_down(p->node, p, "malformed message", 1);
		return;
	}
	switch (m.type) {
	case AG_MSG_HELLO:
		log_peer(LOG_LEVEL_INFO, p->name, "hello: %.*s, %.*s", (int)m.name_len, m.name,
		         (int)m.software_len, m.software);
		break;
	case AG_MSG_CLOCK:
		on_clock(p, &m);
		break;
	case AG_MSG_ENTRIES:
		on_entries(p, &m, msg, len);
		break;
	case AG_MSG_HAVE:
		on_have(p, &m);
		break;
	case AG_MSG_WANT:
		on_want(p, &m);
		break;
	case AG_MSG_MODE:
		on_mode(p, &m);
		break;
	case AG_MSG_PING:
		on_ping(p, &m);
		break;
	case AG_MSG_PONG:
		break;
	}
}

/* Eager links get the entries, in order and without gaps; the rest wait for the pump. */
static void push_eager(struct peer *q, const struct ag_entry *entries, size_t n)
{
	ag_msgb_init(&msgb, AG_MSG_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		const struct ag_entry *e = &entries[i];
		struct peer_feed *f = peer_feed_find(q, e->author);

		if (!f || f->lazy || f->known >= e->seq || f->send > 0)
			continue;
		if (f->known + 1 < e->seq || conn_queued(q->conn) >= CONN_QUEUE_HIGH) {
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
static void push_lazy(struct peer *q, const struct ag_entry *entries, size_t n)
{
	ag_msgb_init(&msgb, AG_MSG_HAVE);
	for (size_t i = 0; i < n; i++) {
		struct peer_feed *f = peer_feed_find(q, entries[i].author);

		if (f && f->lazy && f->known < entries[i].seq &&
		    (i + 1 == n || memcmp(entries[i + 1].author, entries[i].author, 32) != 0))
			add_pair(q, entries[i].author, entries[i].seq);
	}
	send_msgb(q);
}

void sync_push(struct node *n, const struct ag_entry *entries, size_t count, struct peer *from)
{
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *q = n->peers[i];

		if (q == from || !q->up || !q->conn || !q->got_clock)
			continue;
		push_eager(q, entries, count);
		push_lazy(q, entries, count);
		pump(q);
	}
}

uint64_t sync_behind(struct peer *p)
{
	uint64_t behind = 0, head;

	for (size_t i = 0; i < p->nfeeds; i++) {
		if (!node_replicates(p->node, p->feeds[i].author))
			continue;
		head = head_of(p->node, p->feeds[i].author);
		if (head > p->feeds[i].known)
			behind += head - p->feeds[i].known;
	}
	return behind;
}
