/*
 * test_sync.c: the replication state machine alone, over fake connections.
 *
 * Sync is handed a real store in a temporary directory, a real replicated
 * set and a real libuv loop (its thread pool verifies entries), and fake
 * connections that keep every message sync sends, answer how full their
 * write queue is, and record pauses and cuts. The peer's side is played by
 * hand: its messages are built with proto/msg.h and given to sync_msg. Time
 * is a fake clock and the graft timer is called by the test, so nothing
 * sleeps and nothing depends on a socket. Each test asserts what a user
 * relies on: what is stored, what is sent to whom, who is cut off; and each
 * ends by closing the loop with no handle left open.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>
#include <uv.h>

#include "conn.h"
#include "entry.h"
#include "key.h"
#include "members.h"
#include "msg.h"
#include "peer.h"
#include "store.h"
#include "sync.h"
#include "testutil.h"

/* A connection as sync sees it: what was sent on it, and what the node was asked to do. */
struct fake {
	struct {
		uint8_t *buf;
		size_t len;
	} * sent;
	size_t nsent, capsent;
	size_t queued; /* bytes in the write queue; every send adds its length */
	int paused;
	int cuts, fault;
	char why[256];
};

/* An author writing its own chain. */
struct author {
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	uint64_t seq;
	uint8_t head[AG_HASH_LEN];
};

struct fx {
	char *dir;
	uv_loop_t loop;
	struct store *store;
	struct members *set;
	struct sync *sync;
	uint8_t network[32];
	struct author self, b, c, d; /* we are self; b and c are peers; d, a member both follow */
	struct author x;             /* outside the replicated set */
	struct fake fb, fc;
	struct sync_link *lb, *lc;
	int members_changed;
	int learned;
	uint64_t learned_seq;
	int grafts;
	uint64_t graft_ms;
	uint64_t claims_ms; /* when sync_claims_due was asked for, 0 if not */
	uint64_t now;
	void *keep[4096]; /* entries' bytes and bodies, freed at teardown */
	size_t nkeep;
};

static void *keep(struct fx *f, void *p)
{
	assert_non_null(p);
	assert_true(f->nkeep < sizeof(f->keep) / sizeof(f->keep[0]));
	f->keep[f->nkeep++] = p;
	return p;
}

/* --- What sync is handed --- */

static int fake_send(void *ud, const uint8_t *msg, size_t len)
{
	struct fake *k = ud;

	if (k->nsent == k->capsent) {
		k->capsent = k->capsent ? 2 * k->capsent : 16;
		k->sent = realloc(k->sent, k->capsent * sizeof(*k->sent));
		assert_non_null(k->sent);
	}
	k->sent[k->nsent].buf = malloc(len);
	assert_non_null(k->sent[k->nsent].buf);
	memcpy(k->sent[k->nsent].buf, msg, len);
	k->sent[k->nsent++].len = len;
	k->queued += len;
	return 0;
}

static size_t fake_queued(void *ud)
{
	return ((struct fake *)ud)->queued;
}

static void fake_pause(void *ud, int pause)
{
	((struct fake *)ud)->paused = pause;
}

static void fake_cut(void *ud, const char *why, int fault)
{
	struct fake *k = ud;

	k->cuts++;
	k->fault |= fault;
	snprintf(k->why, sizeof(k->why), "%s", why);
}

static void on_members_changed(void *ud)
{
	((struct fx *)ud)->members_changed++;
}

static void on_own_head_learned(void *ud, uint64_t seq)
{
	struct fx *f = ud;

	f->learned++;
	f->learned_seq = seq;
}

static void on_graft_later(void *ud, uint64_t ms)
{
	struct fx *f = ud;

	f->grafts++;
	f->graft_ms = ms;
}

static void on_claims_later(void *ud, uint64_t ms)
{
	((struct fx *)ud)->claims_ms = ms;
}

static uint64_t fake_now(void *ud)
{
	return ((struct fx *)ud)->now;
}

static const struct sync_ops ops = {
    .send = fake_send,
    .queued = fake_queued,
    .pause = fake_pause,
    .cut = fake_cut,
    .members_changed = on_members_changed,
    .own_head_learned = on_own_head_learned,
    .graft_later = on_graft_later,
    .claims_later = on_claims_later,
    .now_ms = fake_now,
};

static void fake_clear(struct fake *k)
{
	for (size_t i = 0; i < k->nsent; i++)
		free(k->sent[i].buf);
	k->nsent = 0;
	k->queued = 0;
}

/* --- Entries --- */

static void author_init(struct author *a, uint8_t seed_byte)
{
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	ag_key_from_seed(a->pk, a->sk, seed);
	a->seq = 0;
}

/* A body {"text": text}: a type without a schema takes it as it is. */
static const uint8_t *note_body(struct fx *f, const char *text, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t *out;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "text", 4);
	msgpack_pack_str_with_body(&pk, text, strlen(text));
	out = keep(f, malloc(sb.size));
	memcpy(out, sb.data, sb.size);
	*len = sb.size;
	msgpack_sbuffer_destroy(&sb);
	return out;
}

/* The author's next entry, signed, as the bytes a peer would send. */
static struct ag_entry signed_entry(struct fx *f, struct author *a, const char *type,
                                    const char *id, const uint8_t *body, size_t body_len)
{
	struct ag_entry e = {
	    .h = {.seq = a->seq + 1, .has_prev = a->seq > 0, .timestamp = 1700000000000}};
	uint8_t *buf = keep(f, malloc(AG_HEADER_MAX));
	char *idc = keep(f, strdup(id));
	size_t len;

	memcpy(e.h.network, f->network, 32);
	memcpy(e.h.author, a->pk, AG_PK_LEN);
	memcpy(e.h.prev, a->head, AG_HASH_LEN);
	snprintf(e.h.type, sizeof(e.h.type), "%s", type);
	e.h.id = idc;
	e.h.id_len = strlen(idc);
	e.body = body;
	e.body_len = body_len;
	assert_int_equal(ag_entry_sign(&e, a->sk, buf, AG_HEADER_MAX, &len), 0);
	a->seq++;
	ag_entry_hash(&e, a->head);
	return e;
}

static struct ag_entry note(struct fx *f, struct author *a, const char *text)
{
	char id[32];
	size_t len;
	const uint8_t *body = note_body(f, text, &len);

	snprintf(id, sizeof(id), "n%llu", (unsigned long long)a->seq + 1);
	return signed_entry(f, a, "note", id, body, len);
}

/* n notes of a's, stored in one transaction. */
static void store_notes(struct fx *f, struct author *a, size_t n, size_t text_len)
{
	struct ag_entry *es = calloc(n, sizeof(*es));
	struct store_result *res = calloc(n, sizeof(*res));
	char *text = malloc(text_len + 1);

	assert_true(es && res && text);
	for (size_t i = 0; i < text_len; i++) /* words of five letters */
		text[i] = i % 6 == 5 ? ' ' : (char)('a' + (i * 7 + i / 6) % 26);
	text[text_len] = '\0';
	for (size_t i = 0; i < n; i++)
		es[i] = note(f, a, text);
	assert_int_equal(store_append(f->store, es, n, res), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(res[i].status, STORE_STORED);
	free(es);
	free(res);
	free(text);
}

static uint64_t head(struct fx *f, const struct author *a)
{
	uint8_t hash[32];
	uint64_t seq = 0;

	assert_true(store_head(f->store, a->pk, &seq, hash) >= 0);
	return seq;
}

/* --- The peer's side --- */

struct pair {
	const struct author *a;
	uint64_t v;
};

/* The peer sends a CLOCK, HAVE or MODE. */
static void recv_pairs(struct sync_link *l, enum ag_msg_type type, const struct pair *p, size_t n)
{
	static struct ag_msgb b;
	const uint8_t *m;
	size_t len;

	ag_msgb_init(&b, type);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ag_msgb_add_pair(&b, p[i].a->pk, p[i].v), 0);
	ag_msgb_finish(&b, &m, &len);
	sync_msg(l, m, len);
}

struct hash_at {
	uint8_t hash[32];
};

static int hash_fn(const struct ag_entry *e, void *arg)
{
	ag_entry_hash(e, ((struct hash_at *)arg)->hash);
	return 1;
}

/* The peer sends a CLOCK, each head with the hash we hold at its seq (zeros past our head). */
static void recv_clock(struct fx *f, struct sync_link *l, const struct pair *p, size_t n)
{
	static struct ag_msgb b;
	const uint8_t *m;
	size_t len;

	ag_msgb_init(&b, AG_MSG_CLOCK);
	for (size_t i = 0; i < n; i++) {
		struct hash_at h = {{0}};

		if (p[i].v > 0)
			assert_true(store_feed(f->store, p[i].a->pk, p[i].v, 1, SIZE_MAX, hash_fn,
			                       &h) >= 0);
		assert_int_equal(ag_msgb_add_head(&b, p[i].a->pk, p[i].v, h.hash), 0);
	}
	ag_msgb_finish(&b, &m, &len);
	sync_msg(l, m, len);
}

/* The peer sends one ENTRIES message; the loop runs until it is verified and applied. */
/* An ENTRIES message of es handed to l, left for the loop. */
static void send_entries(struct sync_link *l, const struct ag_entry *es, size_t n)
{
	static struct ag_msgb b;
	const uint8_t *m;
	size_t len;

	ag_msgb_init(&b, AG_MSG_ENTRIES);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    ag_msgb_add_entry(&b, es[i].h.raw, es[i].h.raw_len, es[i].body, es[i].body_len),
		    0);
	ag_msgb_finish(&b, &m, &len);
	sync_msg(l, m, len);
}

static void recv_entries(struct fx *f, struct sync_link *l, const struct ag_entry *es, size_t n)
{
	send_entries(l, es, n);
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void recv_want(struct sync_link *l, const struct author *a, uint64_t from)
{
	uint8_t buf[64];
	size_t len;

	assert_int_equal(ag_msg_want(buf, sizeof(buf), &len, a->pk, from), 0);
	sync_msg(l, buf, len);
}

/* --- What sync sent --- */

static size_t count_type(const struct fake *k, enum ag_msg_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		n += m.type == type;
	}
	return n;
}

/* The value sent last for a's feed in a CLOCK, HAVE or MODE: 1 with *v, 0 if none. */
static int sent_pair(const struct fake *k, enum ag_msg_type type, const struct author *a,
                     uint64_t *v)
{
	int found = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;
		const uint8_t *author, *hash;
		uint64_t value;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		if (m.type != type)
			continue;
		while (type == AG_MSG_CLOCK ? ag_msg_next_head(&m.list, &author, &value, &hash)
		                            : ag_msg_next_pair(&m.list, &author, &value))
			if (memcmp(author, a->pk, 32) == 0) {
				*v = value;
				found = 1;
			}
	}
	return found;
}

/* The seqs of a's entries sent in ENTRIES messages, in the order sent. */
static size_t sent_seqs(const struct fake *k, const struct author *a, uint64_t *seqs, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;
		const uint8_t *raw, *body;
		size_t len, blen;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		if (m.type != AG_MSG_ENTRIES)
			continue;
		while (ag_msg_next_entry(&m.list, &raw, &len, &body, &blen)) {
			struct ag_entry e;

			assert_int_equal(ag_entry_open(&e, raw, len, body, blen, NULL, NULL), 0);
			if (memcmp(e.h.author, a->pk, 32) == 0 && n < cap)
				seqs[n++] = e.h.seq;
		}
	}
	return n;
}

/*
 * The hashes of a's headers at seq sent without a body in ENTRIES messages
 * (a fork's proof): how many, at most 4 into out.
 */
static size_t sent_headers(const struct fake *k, const struct author *a, uint64_t seq,
                           uint8_t out[][32])
{
	size_t n = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;
		const uint8_t *raw, *body;
		size_t len, blen;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		while (m.type == AG_MSG_ENTRIES &&
		       ag_msg_next_entry(&m.list, &raw, &len, &body, &blen)) {
			struct ag_header h;

			assert_int_equal(ag_header_decode(&h, raw, len, NULL), 0);
			if (!body && h.seq == seq && memcmp(h.author, a->pk, 32) == 0 && n < 4)
				ag_header_hash(&h, out[n++]);
		}
	}
	return n;
}

/* The WANT sent for a's feed: 1 with *from, else 0. */
static int sent_want(const struct fake *k, const struct author *a, uint64_t *from)
{
	int found = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		if (m.type == AG_MSG_WANT && memcmp(m.author, a->pk, 32) == 0) {
			*from = m.seq;
			found = 1;
		}
	}
	return found;
}

/* --- Fixture --- */

/* A sync on the fixture's loop, store and set, as we (self) in its network. */
static struct sync *sync_start(struct fx *f)
{
	struct sync_env env = {
	    .ops = &ops, .ud = f, .loop = &f->loop, .store = f->store, .set = f->set};

	memcpy(env.self, f->self.pk, 32);
	memcpy(env.network, f->network, 32);
	return sync_new(&env);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t roots[4][32];

	assert_non_null(f);
	assert_non_null(f->dir = tu_tmpdir("sync"));
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_non_null(f->store = store_open(f->dir, 0));
	memset(f->network, 0x4e, sizeof(f->network));
	author_init(&f->self, 1);
	author_init(&f->b, 2);
	author_init(&f->c, 3);
	author_init(&f->d, 4);
	author_init(&f->x, 5);
	/* The set as a node with peers b and c, and d (say, introduced by b), holds it. */
	memcpy(roots[0], f->self.pk, 32);
	memcpy(roots[1], f->b.pk, 32);
	memcpy(roots[2], f->c.pk, 32);
	memcpy(roots[3], f->d.pk, 32);
	assert_non_null(f->set = members_new(f->store, f->self.pk));
	assert_int_equal(members_recompute(f->set, (const uint8_t(*)[32])roots, 4, 1, 1000), 1);
	assert_non_null(f->sync = sync_start(f));
	assert_non_null(f->lb = sync_link_new(f->sync, "B", &f->fb));
	assert_non_null(f->lc = sync_link_new(f->sync, "C", &f->fc));
	*state = f;
	return 0;
}

/* Every verify job of s has ended, and the loop closes with no handle left open. */
static void loop_closes_with(struct fx *f, struct sync *s)
{
	sync_stop(s);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_alive(&f->loop), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	f->loop.data = f; /* closed */
}

static void loop_closes(struct fx *f)
{
	loop_closes_with(f, f->sync);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sync_link_free(f->lb);
	sync_link_free(f->lc);
	if (f->loop.data != f)
		loop_closes(f);
	sync_free(f->sync);
	members_free(f->set);
	store_close(f->store);
	fake_clear(&f->fb);
	fake_clear(&f->fc);
	free(f->fb.sent);
	free(f->fc.sent);
	for (size_t i = 0; i < f->nkeep; i++)
		free(f->keep[i]);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Both links up, each peer's CLOCK received, and what that sent forgotten. */
static void both_up(struct fx *f, const struct pair *clock, size_t n)
{
	sync_up(f->lb, "Self");
	sync_up(f->lc, "Self");
	recv_clock(f, f->lb, clock, n);
	recv_clock(f, f->lc, clock, n);
	fake_clear(&f->fb);
	fake_clear(&f->fc);
}

/* --- The cases --- */

static uint64_t they_lack(const struct sync_link *l)
{
	struct sync_lag g;

	sync_lag(l, &g);
	return g.they_lack;
}

/*
 * HELLO and CLOCK: on connect we say who we are and the head of every feed
 * we replicate (those we hold nothing of at 0, none of feeds outside the
 * set); the peer's CLOCK makes us send exactly what it lacks; PING is
 * answered with its nonce, and our keepalive carries the clock's time.
 */
static void test_hello_clock(void **state)
{
	struct fx *f = *state;
	struct pair peer_clock[] = {{&f->self, 1}, {&f->b, 2}, {&f->c, 0}, {&f->d, 0}};
	uint64_t v, seqs[8];
	uint8_t ping[32];
	size_t len;
	struct ag_msg m;

	store_notes(f, &f->self, 3, 40);
	store_notes(f, &f->b, 2, 40);
	store_notes(f, &f->x, 1, 40); /* a feed we hold but do not replicate */
	sync_up(f->lb, "Self");
	assert_true(f->fb.nsent >= 2);
	assert_int_equal(ag_msg_decode(&m, f->fb.sent[0].buf, f->fb.sent[0].len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_HELLO);
	assert_int_equal(m.name_len, 4);
	assert_memory_equal(m.name, "Self", 4);
	assert_true(sent_pair(&f->fb, AG_MSG_CLOCK, &f->self, &v) && v == 3);
	assert_true(sent_pair(&f->fb, AG_MSG_CLOCK, &f->b, &v) && v == 2);
	assert_true(sent_pair(&f->fb, AG_MSG_CLOCK, &f->c, &v) && v == 0);
	assert_true(sent_pair(&f->fb, AG_MSG_CLOCK, &f->d, &v) && v == 0);
	assert_false(sent_pair(&f->fb, AG_MSG_CLOCK, &f->x, &v));
	assert_int_equal(count_type(&f->fb, AG_MSG_ENTRIES), 0); /* not before its CLOCK */

	fake_clear(&f->fb);
	recv_clock(f, f->lb, peer_clock, 4);
	assert_int_equal(sent_seqs(&f->fb, &f->self, seqs, 8), 2);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(sent_seqs(&f->fb, &f->b, seqs, 8), 0); /* it has them */
	assert_int_equal(they_lack(f->lb), 0);

	fake_clear(&f->fb);
	assert_int_equal(ag_msg_ping(ping, sizeof(ping), &len, 0, 77), 0);
	sync_msg(f->lb, ping, len);
	assert_int_equal(f->fb.nsent, 1);
	assert_int_equal(ag_msg_decode(&m, f->fb.sent[0].buf, f->fb.sent[0].len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_PONG);
	assert_int_equal(m.seq, 77);
	f->now = 123456;
	sync_ping(f->lb);
	assert_int_equal(ag_msg_decode(&m, f->fb.sent[1].buf, f->fb.sent[1].len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_PING);
	assert_int_equal(m.seq, 123456);
	assert_int_equal(f->fb.cuts, 0);
	loop_closes(f);
}

/*
 * Streaming what the peer lacks never outruns its connection: with the
 * write queue full nothing is sent, each drain sends until the queue is
 * full again, and in the end the peer has every entry once, in order.
 */
static void test_stream_back_pressure(void **state)
{
	struct fx *f = *state;
	struct pair peer_clock[] = {{&f->self, 0}};
	static uint64_t seqs[512];
	size_t n, first, rounds = 0;

	store_notes(f, &f->self, 200, 8000); /* about 1.6 MB: more than CONN_QUEUE_HIGH */
	sync_up(f->lb, "Self");
	f->fb.queued = CONN_QUEUE_HIGH; /* full */
	recv_clock(f, f->lb, peer_clock, 1);
	assert_int_equal(count_type(&f->fb, AG_MSG_ENTRIES), 0);
	assert_int_equal(they_lack(f->lb), 200);

	f->fb.queued = 0; /* the socket took it all */
	sync_drain(f->lb);
	first = sent_seqs(&f->fb, &f->self, seqs, 512);
	assert_true(first > 0 && first < 200);
	assert_true(f->fb.queued >= CONN_QUEUE_HIGH);
	assert_true(f->fb.queued < CONN_QUEUE_HIGH + AG_MSG_MAX + 64);
	sync_drain(f->lb); /* still full: nothing more */
	assert_int_equal(sent_seqs(&f->fb, &f->self, seqs, 512), first);

	do {
		f->fb.queued = 0;
		sync_drain(f->lb);
		assert_true(++rounds < 10);
	} while ((n = sent_seqs(&f->fb, &f->self, seqs, 512)) < 200);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], i + 1);
	assert_int_equal(they_lack(f->lb), 0);
	f->fb.queued = 0;
	sync_drain(f->lb);
	assert_int_equal(sent_seqs(&f->fb, &f->self, seqs, 512), 200); /* nothing twice */
	loop_closes(f);
}

/*
 * The spanning tree (PROTOCOL.md §1): an entry from one link is pushed
 * eagerly to the others; the same entry arriving again on another link
 * prunes that link (MODE false); a link that asked for notes gets HAVE
 * instead of entries; a note beyond what we hold waits for the graft
 * delay, then grafts (MODE true and WANT) only if nothing brought it; WANT
 * is answered from the seq asked.
 */
static void test_have_mode_want(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	struct ag_entry d1, d2, d3, d4;
	uint64_t v, seqs[8];

	both_up(f, clock, 1);
	d1 = note(f, &f->d, "one");
	d2 = note(f, &f->d, "two");
	d3 = note(f, &f->d, "three");
	d4 = note(f, &f->d, "four");

	/* Eager push: d1 from b goes on to c at once, not back to b. */
	recv_entries(f, f->lb, &d1, 1);
	assert_int_equal(head(f, &f->d), 1);
	assert_int_equal(sent_seqs(&f->fc, &f->d, seqs, 8), 1);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(sent_seqs(&f->fb, &f->d, seqs, 8), 0);

	/* Prune: c brings d1 as well, a duplicate: c is told to send only notes of d. */
	fake_clear(&f->fc);
	recv_entries(f, f->lc, &d1, 1);
	assert_int_equal(sync_duplicates(f->lc), 1);
	assert_true(sent_pair(&f->fc, AG_MSG_MODE, &f->d, &v));
	assert_int_equal(v, 0);

	/* c prunes us in turn: d2 from b reaches c as a note, not an entry. */
	fake_clear(&f->fc);
	{
		struct pair lazy[] = {{&f->d, 0}};

		recv_pairs(f->lc, AG_MSG_MODE, lazy, 1);
	}
	recv_entries(f, f->lb, &d2, 1);
	assert_int_equal(sent_seqs(&f->fc, &f->d, seqs, 8), 0);
	assert_true(sent_pair(&f->fc, AG_MSG_HAVE, &f->d, &v));
	assert_int_equal(v, 2);

	/* A note that the eager link answers in time: the graft asks for nothing. */
	fake_clear(&f->fc);
	{
		struct pair have[] = {{&f->d, 3}};

		recv_pairs(f->lc, AG_MSG_HAVE, have, 1);
	}
	assert_int_equal(f->grafts, 1);
	assert_int_equal(f->graft_ms, 200);
	recv_entries(f, f->lb, &d3, 1);
	sync_graft_due(f->sync);
	assert_int_equal(count_type(&f->fc, AG_MSG_WANT), 0);
	assert_false(sent_pair(&f->fc, AG_MSG_MODE, &f->d, &v));

	/* A note that nothing answers: graft, c is eager again and asked from seq 4. */
	{
		struct pair have[] = {{&f->d, 4}};

		recv_pairs(f->lc, AG_MSG_HAVE, have, 1);
	}
	assert_int_equal(f->grafts, 2);
	sync_graft_due(f->sync);
	assert_true(sent_pair(&f->fc, AG_MSG_MODE, &f->d, &v));
	assert_int_equal(v, 1);
	assert_true(sent_want(&f->fc, &f->d, &v));
	assert_int_equal(v, 4);
	recv_entries(f, f->lc, &d4, 1);
	assert_int_equal(head(f, &f->d), 4);

	/* WANT: b says it lacks d from 2 on, and gets 2..4. */
	fake_clear(&f->fb);
	recv_want(f->lb, &f->d, 2);
	assert_int_equal(sent_seqs(&f->fb, &f->d, seqs, 8), 3);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[2], 4);
	assert_int_equal(f->fb.cuts + f->fc.cuts, 0);
	loop_closes(f);
}

/*
 * A forged entry (its signature does not verify) is not stored, and nothing
 * the peer queued behind it is either; the peer is cut off as at fault, so
 * it is backed off. Its link is paused while its verify queue is full.
 */
static void test_forged_entry(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}, {&f->b, 0}};
	struct ag_entry d1 = note(f, &f->d, "one"), b1 = note(f, &f->b, "mine");
	uint8_t *forged = keep(f, malloc(d1.h.raw_len));

	both_up(f, clock, 2);
	memcpy(forged, d1.h.raw, d1.h.raw_len);
	forged[d1.h.raw_len - 1] ^= 0x01; /* the last byte of the signature */
	d1.h.raw = forged;
	/* Two messages before the loop turns: the second is queued behind the first. */
	send_entries(f->lb, &d1, 1);
	send_entries(f->lb, &b1, 1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->fb.cuts, 1);
	assert_int_equal(f->fb.fault, 1);
	assert_string_equal(f->fb.why, "run: bad signature");
	assert_int_equal(head(f, &f->d), 0);
	assert_int_equal(head(f, &f->b), 0);
	assert_int_equal(sync_received(f->lb), 0);
	assert_int_equal(count_type(&f->fc, AG_MSG_ENTRIES), 0); /* nothing passed on */
	assert_int_equal(f->fc.cuts, 0);
	loop_closes(f);
}

static int count_entry(const struct ag_entry *e, void *arg)
{
	(void)e;
	(*(ssize_t *)arg)++;
	return 0;
}

/*
 * A fork: a second, validly signed entry at a seq we hold. Both are kept as
 * proof, the author is flagged and takes nothing more, the head stays the
 * entry we had, and the sender, who may only relay it, is not cut off but
 * sent both headers (bodies nil) as proof (DESIGN.md "Refusing without blame").
 */
static void test_fork(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	struct author twin = f->d;
	struct ag_entry d1 = note(f, &f->d, "one"), other = note(f, &twin, "another one");
	struct ag_entry d2 = note(f, &f->d, "two");
	uint8_t hash[32], want[32], other_hash[32], proof[4][32];
	uint32_t flags = 0;
	uint64_t seq;
	ssize_t proofs, seen = 0;

	ag_entry_hash(&other, other_hash);

	both_up(f, clock, 1);
	recv_entries(f, f->lb, &d1, 1);
	ag_entry_hash(&d1, want);
	fake_clear(&f->fc);
	recv_entries(f, f->lc, &other, 1);
	assert_int_equal(f->fc.cuts, 0);
	assert_int_equal(sent_headers(&f->fc, &f->d, 1, proof), 2);
	assert_true((memcmp(proof[0], want, 32) == 0 && memcmp(proof[1], other_hash, 32) == 0) ||
	            (memcmp(proof[1], want, 32) == 0 && memcmp(proof[0], other_hash, 32) == 0));
	assert_int_equal(store_head(f->store, f->d.pk, &seq, hash), 1);
	assert_int_equal(seq, 1);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(store_flags(f->store, f->d.pk, &flags), 0);
	assert_true(flags & STORE_FLAG_FORKED);
	proofs = store_forks(f->store, f->d.pk, count_entry, &seen);
	assert_int_equal(proofs, 2); /* both entries at seq 1 */
	assert_int_equal(seen, 2);

	recv_entries(f, f->lb, &d2, 1); /* the flagged feed takes nothing more */
	assert_int_equal(head(f, &f->d), 1);
	assert_int_equal(f->fb.cuts, 0);
	loop_closes(f);
}

/*
 * The restore guard: a node whose store is behind its own feed must not
 * publish (it would fork itself) until it holds what its peers say it
 * wrote. Told once, with that seq, when the entries arrive.
 */
static void test_restore_guard(void **state)
{
	struct fx *f = *state;
	struct pair claim[] = {{&f->self, 2}};
	struct ag_entry own[2];

	own[0] = note(f, &f->self, "written before the backup was restored");
	own[1] = note(f, &f->self, "and this one too");
	sync_up(f->lb, "Self");
	sync_up(f->lc, "Self");
	recv_clock(f, f->lb, claim, 1);
	assert_int_equal(f->learned, 0);
	recv_entries(f, f->lb, own, 1);
	assert_int_equal(head(f, &f->self), 1);
	assert_int_equal(f->learned, 0); /* still behind */
	recv_entries(f, f->lb, &own[1], 1);
	assert_int_equal(head(f, &f->self), 2);
	assert_int_equal(f->learned, 1);
	assert_int_equal(f->learned_seq, 2);
	recv_clock(f, f->lc, claim, 1);
	assert_int_equal(f->learned, 1); /* once */
	loop_closes(f);
}

/*
 * A claim of our own feed that is not backed is void SYNC_CLAIM_MS after it
 * was made, or after our feed last grew, if later: b's 2^64-1 holds publishing back
 * until then, not for ever, and b is told of once. While c's entries come, slowly, nothing is void.
 */
static void test_false_claim(void **state)
{
	struct fx *f = *state;
	struct pair lie[] = {{&f->self, UINT64_MAX}}, claim[] = {{&f->self, 2}};
	struct ag_entry own[2];

	own[0] = note(f, &f->self, "written before the backup was restored");
	own[1] = note(f, &f->self, "and this one too");
	sync_up(f->lb, "Self");
	sync_up(f->lc, "Self");
	recv_clock(f, f->lb, lie, 1);
	recv_clock(f, f->lc, claim, 1);
	assert_int_equal(f->claims_ms, 30000);
	f->now += 20000;
	recv_entries(f, f->lc, own, 1); /* c backs its claim, slowly */
	f->now += 10000;
	sync_claims_due(f->sync); /* our feed grew 10 s ago: 20 s to go */
	assert_int_equal(f->claims_ms, 20000);
	f->now += 5000;
	recv_entries(f, f->lc, &own[1], 1);
	assert_int_equal(f->learned, 0); /* b still claims more */
	f->now += 29999;
	sync_claims_due(f->sync);
	assert_int_equal(f->learned, 0);
	assert_int_equal(f->claims_ms, 1);
	f->now += 1;
	sync_claims_due(f->sync); /* 30 s since our feed last grew: b's claim is void */
	assert_int_equal(f->learned, 1);
	assert_int_equal(f->learned_seq, 2);
	recv_clock(f, f->lb, lie, 1); /* b's claims are ignored now */
	assert_int_equal(f->learned, 1);
	loop_closes(f);
}

/* Only b claims, and never backs it: once void, nothing holds publishing back. */
static void test_false_claim_alone(void **state)
{
	struct fx *f = *state;
	struct pair lie[] = {{&f->self, UINT64_MAX}};

	sync_up(f->lb, "Self");
	recv_clock(f, f->lb, lie, 1);
	assert_int_equal(f->learned, 0);
	f->now += 29999;
	sync_claims_due(f->sync);
	assert_int_equal(f->learned, 0);
	assert_int_equal(f->claims_ms, 1);
	f->now += 1;
	sync_claims_due(f->sync);
	assert_int_equal(f->learned, 1);
	assert_int_equal(f->learned_seq, 0);
	loop_closes(f);
}

/* A member record stored from a peer tells the node that the set may have changed. */
static void test_member_record(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->b, 0}};
	char key[AG_B64_LEN + 1];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ag_entry e;
	uint8_t *body;

	ag_key_to_b64(key, f->x.pk);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "key", 3);
	msgpack_pack_str_with_body(&pk, key, AG_B64_LEN);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, "Xanthi", 6);
	msgpack_pack_str_with_body(&pk, "role", 4);
	msgpack_pack_str_with_body(&pk, "associate", 9);
	body = keep(f, malloc(sb.size));
	memcpy(body, sb.data, sb.size);
	e = signed_entry(f, &f->b, "member", key, body, sb.size);
	msgpack_sbuffer_destroy(&sb);

	both_up(f, clock, 1);
	recv_entries(f, f->lb, &e, 1);
	assert_int_equal(head(f, &f->b), 1);
	assert_int_equal(sync_received(f->lb), 1);
	assert_int_equal(f->members_changed, 1);
	loop_closes(f);
}

/*
 * Backoff after a fault: a malformed message cuts the peer off as at fault
 * and what it queued is dropped; the node then redials it no sooner than
 * half of PEER_BAD_BACKOFF_MS (the jitter), where an honest failure is
 * redialled within PEER_BACKOFF_MIN_MS. Once it reconnects, the link takes
 * its entries again.
 */
static void dial_never(struct node *n, struct peer *p)
{
	(void)n;
	(void)p;
	fail_msg("no dial: the loop does not run that long");
}

static void test_backoff_after_fault(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->b, 0}};
	struct ag_entry b1 = note(f, &f->b, "mine");
	static const uint8_t garbage[] = {0x93, 0x01, 0x02};
	struct config_peer cp = {.port = 7447};
	struct peer *honest, *faulty;

	both_up(f, clock, 1);
	sync_msg(f->lb, garbage, sizeof(garbage));
	assert_int_equal(f->fb.cuts, 1);
	assert_int_equal(f->fb.fault, 1);
	assert_string_equal(f->fb.why, "malformed message");
	recv_entries(f, f->lb, &b1, 1); /* arrived before the close took effect */
	assert_int_equal(head(f, &f->b), 0);

	memcpy(cp.pk, f->b.pk, 32);
	snprintf(cp.name, sizeof(cp.name), "B");
	snprintf(cp.host, sizeof(cp.host), "b.example.org");
	assert_non_null(faulty = peer_new(&f->loop, NULL, &cp, dial_never));
	assert_non_null(honest = peer_new(&f->loop, NULL, &cp, dial_never));
	peer_schedule_dial(faulty, PEER_BAD_BACKOFF_MS);
	peer_schedule_dial(honest, 0);
	assert_true(uv_timer_get_due_in(&faulty->timer) >= PEER_BAD_BACKOFF_MS / 2);
	assert_true(uv_timer_get_due_in(&faulty->timer) <= PEER_BAD_BACKOFF_MS);
	assert_true(uv_timer_get_due_in(&honest->timer) <= PEER_BACKOFF_MIN_MS);
	peer_free(faulty);
	peer_free(honest);

	/* It reconnects: a new connection starts clean. */
	sync_down(f->lb);
	fake_clear(&f->fb);
	sync_up(f->lb, "Self");
	recv_clock(f, f->lb, clock, 1);
	recv_entries(f, f->lb, &b1, 1);
	assert_int_equal(head(f, &f->b), 1);
	assert_int_equal(f->fb.cuts, 1);
	loop_closes(f);
}

/* --- Runs, bodies, versions (protocol 2) --- */

/* A copy of e whose signature's last byte is flipped, its author's head moved onto it. */
static struct ag_entry resign_bad(struct fx *f, struct author *a, struct ag_entry e)
{
	uint8_t *bad = keep(f, malloc(e.h.raw_len));

	memcpy(bad, e.h.raw, e.h.raw_len);
	bad[e.h.raw_len - 1] ^= 0x01;
	assert_int_equal(ag_entry_open(&e, bad, e.h.raw_len, e.body, e.body_len, NULL, NULL), 0);
	ag_entry_hash(&e, a->head);
	return e;
}

/* d's run 1, 2, 3 from b, the second header's own signature bad, the third's good. */
static void recv_bad_inner(struct fx *f)
{
	struct pair clock[] = {{&f->d, 0}};
	struct ag_entry d[3];

	both_up(f, clock, 1);
	d[0] = note(f, &f->d, "one");
	d[1] = resign_bad(f, &f->d, note(f, &f->d, "two"));
	d[2] = note(f, &f->d, "three");
	recv_entries(f, f->lb, d, 3);
}

/*
 * A run whose last header's signature fails is refused whole: nothing of it
 * is stored, and the sender is cut off as at fault.
 */
static void test_run_forged_last(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	struct ag_entry d[3];

	both_up(f, clock, 1);
	d[0] = note(f, &f->d, "one");
	d[1] = note(f, &f->d, "two");
	d[2] = resign_bad(f, &f->d, note(f, &f->d, "three"));
	recv_entries(f, f->lb, d, 3);
	assert_int_equal(f->fb.cuts, 1);
	assert_int_equal(f->fb.fault, 1);
	assert_string_equal(f->fb.why, "run: bad signature");
	assert_int_equal(head(f, &f->d), 0);
	assert_int_equal(count_type(&f->fc, AG_MSG_ENTRIES), 0);
	loop_closes(f);
}

/*
 * A run spliced from two chains of one author (the third header chains to
 * another second one, though its own signature is good) is a broken chain:
 * refused whole, the sender cut off.
 */
static void test_run_spliced(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	struct author twin;
	struct ag_entry d[3];

	both_up(f, clock, 1);
	d[0] = note(f, &f->d, "one");
	twin = f->d;
	d[1] = note(f, &f->d, "two");
	(void)note(f, &twin, "another two");
	d[2] = note(f, &twin, "three, on the other two");
	recv_entries(f, f->lb, d, 3);
	assert_int_equal(f->fb.cuts, 1);
	assert_int_equal(f->fb.fault, 1);
	assert_int_equal(head(f, &f->d), 0);
	loop_closes(f);
}

/*
 * A bad signature inside a run whose last one is good: the chain vouches
 * for it (DESIGN.md "Accepting entries"), so the whole run is stored, and
 * passed on ending with the header whose signature was checked.
 */
static void test_run_bad_inner(void **state)
{
	struct fx *f = *state;
	uint64_t seqs[8];
	char why[256];

	recv_bad_inner(f);
	assert_int_equal(f->fb.cuts, 0);
	assert_int_equal(head(f, &f->d), 3);
	assert_int_equal(store_check(f->store, f->network, why, sizeof(why)), 0);
	assert_int_equal(sent_seqs(&f->fc, &f->d, seqs, 8), 3);
	assert_int_equal(seqs[2], 3);
	loop_closes(f);
}

/*
 * A run whose middle body is swapped for another entry's: the body does not
 * match its header, so that entry and the rest of the run are refused and
 * the sender cut off as at fault; the entry before it, whose header and body
 * are valid by themselves (the last header's signature vouched for its
 * chain), stands.
 */
static void test_run_body_swapped(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	struct ag_entry d[3];

	both_up(f, clock, 1);
	d[0] = note(f, &f->d, "one");
	d[1] = note(f, &f->d, "two");
	d[2] = note(f, &f->d, "three");
	d[1].body = d[2].body;
	d[1].body_len = d[2].body_len;
	recv_entries(f, f->lb, d, 3);
	assert_int_equal(f->fb.cuts, 1);
	assert_int_equal(f->fb.fault, 1);
	assert_int_equal(strncmp(f->fb.why, "body: ", 6), 0);
	assert_int_equal(head(f, &f->d), 1);
	loop_closes(f);
}

/*
 * A run spliced from two feeds: d's first two headers, then b's third,
 * which is valid and signed but of another author. It is two runs, and b's
 * does not link to anything held (we hold none of b's feed): nothing of b's
 * is stored, and d's own run stands only as far as its own last header.
 */
static void test_run_two_feeds(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}, {&f->b, 0}};
	struct ag_entry e[3];

	both_up(f, clock, 2);
	e[0] = note(f, &f->d, "one");
	e[1] = note(f, &f->d, "two");
	(void)note(f, &f->b, "b one");
	(void)note(f, &f->b, "b two");
	e[2] = note(f, &f->b, "b three");
	recv_entries(f, f->lb, e, 3);
	assert_int_equal(head(f, &f->d), 2);
	assert_int_equal(head(f, &f->b), 0);
	loop_closes(f);
}

/*
 * A node that checks every signature ([Node] VerifyEvery) finds the bad
 * inner one, logs it, and still stores the whole run as every node does: a
 * header vouched for by the chain is valid everywhere.
 */
static void test_run_bad_inner_verify_every(void **state)
{
	struct fx *f = *state;
	char path[4096], *log;
	int fd;

	snprintf(path, sizeof(path), "%s/log", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	log_set_fd(fd);
	sync_set_verify_every(f->sync, true);
	recv_bad_inner(f);
	log_set_fd(2);
	close(fd);
	assert_int_equal(f->fb.cuts, 0);
	assert_int_equal(head(f, &f->d), 3);
	assert_non_null(log = tu_read_file(path, NULL));
	assert_non_null(strstr(log, "1 header(s) whose own signature fails"));
	assert_non_null(strstr(log, " seq 2: stored"));
	free(log);
	loop_closes(f);
}

/*
 * A relay that holds a header vouched for only by a later one's chain never
 * ends a run on it: asked for that body alone, or for a run that stops
 * there, it sends nothing of the feed; asked from the start, its run ends on
 * the header whose own signature verifies.
 */
static void test_relay_run_end_verified(void **state)
{
	struct fx *f = *state;
	uint64_t seqs[8];
	uint8_t buf[64];
	size_t len;

	recv_bad_inner(f);
	assert_int_equal(head(f, &f->d), 3);

	fake_clear(&f->fc);
	sync_up(f->lc, "Self");
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, f->d.pk, (uint64_t[]){2}, 1),
	                 0);
	sync_msg(f->lc, buf, len);
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, f->d.pk, (uint64_t[]){1, 2}, 2),
	                 0);
	sync_msg(f->lc, buf, len);
	assert_int_equal(sent_seqs(&f->fc, &f->d, seqs, 8), 0);

	assert_int_equal(
	    ag_msg_want_bodies(buf, sizeof(buf), &len, f->d.pk, (uint64_t[]){1, 2, 3}, 3), 0);
	sync_msg(f->lc, buf, len);
	assert_int_equal(sent_seqs(&f->fc, &f->d, seqs, 8), 3);
	assert_int_equal(seqs[2], 3);
	assert_int_equal(f->fb.cuts + f->fc.cuts, 0);
	loop_closes(f);
}

struct body_seen {
	int held;
	uint64_t has_body;
};

static int body_fn(const struct ag_entry *e, void *arg)
{
	struct body_seen *b = arg;

	b->held = e->body != NULL;
	b->has_body = e->h.has_body;
	return 1;
}

/* The WANT_BODIES sent for a's feed: how many, the seqs of the last in seqs. */
static size_t sent_want_bodies(const struct fake *k, const struct author *a, uint64_t *seqs,
                               size_t *n)
{
	size_t count = 0;

	for (size_t i = 0; i < k->nsent; i++) {
		struct ag_msg m;

		assert_int_equal(ag_msg_decode(&m, k->sent[i].buf, k->sent[i].len, NULL), 0);
		if (m.type != AG_MSG_WANT_BODIES || memcmp(m.author, a->pk, 32) != 0)
			continue;
		count++;
		for (*n = 0; ag_msg_next_seq(&m.list, &seqs[*n]); (*n)++)
			;
	}
	return count;
}

/*
 * Both links up, b holding nothing of d and c holding d's first entry; then
 * e, d's first entry, arrives from b as a header alone.
 */
static void recv_bare_from_b(struct fx *f, struct ag_entry e)
{
	struct pair clock_b[] = {{&f->d, 0}}, clock_c[] = {{&f->d, 1}};

	sync_up(f->lb, "Self");
	sync_up(f->lc, "Self");
	recv_clock(f, f->lb, clock_b, 1);
	recv_clock(f, f->lc, clock_c, 1);
	fake_clear(&f->fb);
	fake_clear(&f->fc);
	e.body = NULL;
	e.body_len = 0;
	recv_entries(f, f->lb, &e, 1);
}

/*
 * A header without its body counts for the chain and the head; its body is
 * asked of the other peer that has the feed (WANT_BODIES), not of the one
 * that sent it without; the answer brings it, and a peer asking us for it
 * gets it.
 */
static void test_absent_body_asked(void **state)
{
	struct fx *f = *state;
	struct ag_entry d1 = note(f, &f->d, "one");
	struct body_seen seen = {0};
	uint64_t seqs[8];
	size_t n = 0;
	uint8_t buf[64];
	size_t len;

	recv_bare_from_b(f, d1);
	assert_int_equal(head(f, &f->d), 1);
	assert_int_equal(store_feed(f->store, f->d.pk, 1, 1, SIZE_MAX, body_fn, &seen), 1);
	assert_false(seen.held);
	assert_true(seen.has_body);
	assert_int_equal(store_missing(f->store, f->d.pk, 1, seqs, 8), 1);
	assert_int_equal(sent_want_bodies(&f->fb, &f->d, seqs, &n), 0);
	assert_int_equal(sent_want_bodies(&f->fc, &f->d, seqs, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 1);

	recv_entries(f, f->lc, &d1, 1); /* the answer */
	assert_int_equal(f->fc.cuts, 0);
	assert_int_equal(store_feed(f->store, f->d.pk, 1, 1, SIZE_MAX, body_fn, &seen), 1);
	assert_true(seen.held);
	assert_int_equal(store_missing(f->store, f->d.pk, 1, seqs, 8), 0);

	/* b asks us for it in turn, and gets the header with its body. */
	fake_clear(&f->fb);
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, f->d.pk, (uint64_t[]){1}, 1),
	                 0);
	sync_msg(f->lb, buf, len);
	assert_int_equal(sent_seqs(&f->fb, &f->d, seqs, 8), 1);
	assert_int_equal(f->fb.cuts + f->fc.cuts, 0);
	loop_closes(f);
}

/*
 * Quotas: a body over its author's quota is dropped and never asked for
 * (not after a header alone, not on a CLOCK); past an author's entry cap,
 * nothing more of it is stored, the link that sent it is asked for notes
 * only (MODE), a note past the cap grafts nothing, and it is not counted as
 * lacking.
 */
static void test_limits_ask_nothing(void **state)
{
	struct fx *f = *state;
	struct pair clock_c[] = {{&f->d, 1}}, have[] = {{&f->d, 3}};
	struct store_limits lim = {.quota = 1, .max_entries = 1};
	struct ag_entry d1 = note(f, &f->d, "one"), d2 = note(f, &f->d, "two");
	struct sync_lag lag;
	uint64_t seqs[8], v;
	size_t n = 0;

	memcpy(lim.self, f->self.pk, AG_PK_LEN);
	store_limits_set(f->store, &lim);
	recv_bare_from_b(f, d1);
	assert_int_equal(head(f, &f->d), 1);
	assert_int_equal(store_missing(f->store, f->d.pk, 1, seqs, 8), 0);
	assert_int_equal(sent_want_bodies(&f->fc, &f->d, seqs, &n), 0);
	recv_clock(f, f->lc, clock_c, 1);
	assert_int_equal(sent_want_bodies(&f->fc, &f->d, seqs, &n), 0);

	/* d2 is past the cap: not stored, and b sends only notes of d from now on. */
	recv_entries(f, f->lb, &d2, 1);
	assert_int_equal(head(f, &f->d), 1);
	assert_true(sent_pair(&f->fb, AG_MSG_MODE, &f->d, &v));
	assert_int_equal(v, 0);
	assert_int_equal(count_type(&f->fb, AG_MSG_WANT), 0);
	/* c notes d at 3: nothing to graft, nothing lacking. */
	recv_pairs(f->lc, AG_MSG_HAVE, have, 1);
	sync_graft_due(f->sync);
	assert_int_equal(count_type(&f->fc, AG_MSG_WANT), 0);
	sync_lag(f->lc, &lag);
	assert_int_equal(lag.we_lack, 0);
	assert_int_equal(f->fb.cuts + f->fc.cuts, 0);
	loop_closes(f);
}

/*
 * Versions live side by side: a message of a type this version does not
 * know is ignored (and counted), one with trailing elements is read, and
 * entries of a feed we do not replicate are dropped before any signature
 * is checked (a forged one costs nothing and cuts no one). A peer speaking
 * protocol 1 is refused.
 */
static void test_versions_side_by_side(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->d, 0}};
	static const uint8_t unknown[] = {0x93, 0x0a, 0x80, 0xc0};
	static const uint8_t ping[] = {0x94, 0x06, 0x09, 0xa1, 'x', 0x90};
	static const uint8_t hello1[] = {0x94, 0x00, 0x01, 0xa1, 'B', 0xa1, 'b'};
	static const uint8_t hello2[] = {0x95, 0x00, 0x02, 0xa1, 'B',  0xa8, 'a', 'g',
	                                 'o',  'r',  'a',  'd',  0x01, 'x',  0x90};
	char sw[64];
	struct ag_entry x1 = resign_bad(f, &f->x, note(f, &f->x, "outside"));
	struct ag_msg m;

	both_up(f, clock, 1);
	sync_msg(f->lb, unknown, sizeof(unknown));
	assert_int_equal(sync_unknown(f->lb), 1);
	sync_msg(f->lb, ping, sizeof(ping));
	assert_int_equal(f->fb.nsent, 1);
	assert_int_equal(ag_msg_decode(&m, f->fb.sent[0].buf, f->fb.sent[0].len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_PONG);
	assert_int_equal(m.seq, 9);
	recv_entries(f, f->lb, &x1, 1);
	assert_int_equal(sync_outside(f->lb), 1);
	assert_int_equal(f->fb.cuts, 0);
	assert_int_equal(head(f, &f->x), 0);

	/* Who runs what, for agora status: software with a control character made '?'. */
	sync_msg(f->lb, hello2, sizeof(hello2));
	assert_int_equal(sync_peer_version(f->lb, sw, sizeof(sw)), 2);
	assert_string_equal(sw, "agorad?x");
	assert_int_equal(f->fb.cuts, 0);

	sync_msg(f->lc, hello1, sizeof(hello1));
	assert_int_equal(f->fc.cuts, 1);
	assert_string_equal(f->fc.why, "another protocol version");
	/* The refused peer's version is kept for agora status, after its link is down. */
	sync_down(f->lc);
	assert_int_equal(sync_peer_version(f->lc, sw, sizeof(sw)), 1);
	assert_string_equal(sw, "");
	loop_closes(f);
}

/*
 * Lag both ways: what we lack of what the peer announced (CLOCK, then HAVE)
 * and what it lacks of ours, only in feeds both replicate (x, which we do
 * not, and c and d, which it did not name, count for neither). A peer that
 * never sent its CLOCK is not known, not 0. The catch-up begins with the
 * announcement and ends when we hold it all, with what it received.
 */
static void test_lag_counts(void **state)
{
	struct fx *f = *state;
	struct pair peer_clock[] = {{&f->self, 1}, {&f->b, 5}, {&f->x, 7}};
	struct pair have[] = {{&f->b, 8}};
	struct ag_entry es[6];
	struct sync_progress p;
	struct sync_lag g;

	store_notes(f, &f->self, 3, 40);
	store_notes(f, &f->b, 2, 40);
	store_notes(f, &f->c, 4, 40);
	sync_up(f->lb, "Self");
	sync_up(f->lc, "Self");
	f->fb.queued = CONN_QUEUE_HIGH; /* full: nothing is streamed, B stays behind */
	recv_clock(f, f->lb, peer_clock, 3);
	sync_lag(f->lb, &g);
	assert_true(g.known);
	assert_int_equal(g.we_lack, 3);   /* b: 5 - 2 */
	assert_int_equal(g.they_lack, 2); /* self: 3 - 1; c, d and x count for neither */
	assert_int_equal(g.age_ms, 0);
	sync_lag(f->lc, &g); /* no CLOCK from C yet */
	assert_false(g.known);

	recv_pairs(f->lb, AG_MSG_HAVE, have, 1);
	sync_lag(f->lb, &g);
	assert_int_equal(g.we_lack, 6); /* b: 8 - 2 */
	sync_progress(f->sync, &p);
	assert_true(p.running);
	assert_int_equal(p.missing, 6);
	assert_int_equal(p.received, 0);

	f->now += 2000;
	for (size_t i = 0; i < 6; i++)
		es[i] = note(f, &f->b, "caught up");
	recv_entries(f, f->lb, es, 6);
	assert_int_equal(head(f, &f->b), 8);
	sync_lag(f->lb, &g);
	assert_int_equal(g.we_lack, 0);
	sync_progress(f->sync, &p);
	assert_false(p.running);
	assert_int_equal(p.missing, 0);
	assert_int_equal(p.received, 6);
	assert_int_equal(p.rate, 3); /* 6 entries in 2 s */
	loop_closes(f);
}

/*
 * A peer whose connection went keeps the figures it had, with their age:
 * what it announced and we lack still counts (so sync --wait waits for it),
 * and entries that reach us from another peer meanwhile count off.
 */
static void test_lag_disconnected(void **state)
{
	struct fx *f = *state;
	struct pair peer_clock[] = {{&f->self, 0}, {&f->b, 4}};
	struct sync_progress p;
	struct sync_lag g;

	store_notes(f, &f->self, 2, 40);
	store_notes(f, &f->b, 1, 40);
	sync_up(f->lb, "Self");
	f->fb.queued = CONN_QUEUE_HIGH;
	recv_clock(f, f->lb, peer_clock, 2);
	f->now = 1000;
	sync_down(f->lb);
	f->now = 6000;
	sync_lag(f->lb, &g);
	assert_true(g.known);
	assert_int_equal(g.age_ms, 5000);
	assert_int_equal(g.we_lack, 3);
	assert_int_equal(g.they_lack, 2);
	sync_progress(f->sync, &p);
	assert_int_equal(p.missing, 3);

	store_notes(f, &f->b, 3, 40); /* from elsewhere */
	sync_lag(f->lb, &g);
	assert_int_equal(g.we_lack, 0);
	sync_up(f->lb, "Self"); /* up again, no CLOCK yet: still the last figures */
	sync_lag(f->lb, &g);
	assert_int_equal(g.age_ms, 5000);
	assert_int_equal(g.they_lack, 2);
	loop_closes(f);
}

/*
 * A HAVE of a head we hold already: the peer does not know we hold it, so it
 * is told our head, once; else it would count us lacking what we got
 * elsewhere. So too when what it noted comes another way before the graft.
 */
static void test_have_answered(void **state)
{
	struct fx *f = *state;
	struct pair peer_clock[] = {{&f->b, 1}};
	struct pair have[] = {{&f->b, 2}}, more[] = {{&f->b, 5}};
	struct ag_entry es[2];
	uint64_t v;

	store_notes(f, &f->b, 3, 40);
	sync_up(f->lb, "Self");
	f->fb.queued = CONN_QUEUE_HIGH;
	recv_clock(f, f->lb, peer_clock, 1);
	fake_clear(&f->fb);
	recv_pairs(f->lb, AG_MSG_HAVE, have, 1);
	assert_true(sent_pair(&f->fb, AG_MSG_HAVE, &f->b, &v));
	assert_int_equal(v, 3);
	fake_clear(&f->fb);
	recv_pairs(f->lb, AG_MSG_HAVE, have, 1);
	assert_int_equal(count_type(&f->fb, AG_MSG_HAVE), 0);

	/* It notes 5, which we lack; 4 and 5 come from C before the graft: it is told. */
	es[0] = note(f, &f->b, "four");
	es[1] = note(f, &f->b, "five");
	recv_pairs(f->lb, AG_MSG_HAVE, more, 1);
	sync_up(f->lc, "Self");
	recv_clock(f, f->lc, more, 1);
	recv_entries(f, f->lc, es, 2);
	assert_int_equal(head(f, &f->b), 5);
	fake_clear(&f->fb);
	sync_graft_due(f->sync);
	assert_true(sent_pair(&f->fb, AG_MSG_HAVE, &f->b, &v));
	assert_int_equal(v, 5);
	assert_int_equal(count_type(&f->fb, AG_MSG_WANT), 0);
	loop_closes(f);
}

/* The index's segments now, once the appender's idle merges, if any, have had up to 5 s. */
static uint64_t segments_settled(struct fx *f, uint64_t below)
{
	struct store_stats st;

	for (int i = 0; i < 500; i++) {
		assert_int_equal(store_stats(f->store, &st), 0);
		if (st.segments < below)
			break;
		usleep(10000);
	}
	return st.segments;
}

/* 40 segments of d's notes, their merges waiting as during a bulk sync. */
static void segments_waiting(struct fx *f)
{
	struct store_stats st;

	store_merge_wait(f->store, true);
	for (int i = 0; i < 40; i++)
		store_notes(f, &f->d, 1, 30); /* a segment each */
	assert_int_equal(store_stats(f->store, &st), 0);
	assert_true(st.segments >= 40); /* past 2 * 16 in a tier: they waited */
}

/*
 * While entries wait to be verified or stored, the index's merges wait;
 * once none do, the appender takes them up unasked: a node that caught up
 * holds few segments again with no further write.
 */
static void test_merges_after_sync(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->b, 0}};
	struct ag_entry e;

	both_up(f, clock, 1);
	segments_waiting(f);
	e = note(f, &f->b, "one more");
	recv_entries(f, f->lb, &e, 1);
	assert_int_equal(head(f, &f->b), 1);
	assert_true(segments_settled(f, 16) < 16);
}

/*
 * A sync stopped while entries wait stores them, and leaves the merges
 * for later: the loop, with no appender thread left, does not do them all
 * at once on its way out.
 */
static void test_stop_leaves_merges(void **state)
{
	struct fx *f = *state;
	struct pair clock[] = {{&f->b, 0}};
	struct ag_entry e = note(f, &f->b, "last");
	struct store_stats st;

	both_up(f, clock, 1);
	segments_waiting(f);
	send_entries(f->lb, &e, 1); /* in flight when the sync stops */
	loop_closes(f);
	assert_int_equal(head(f, &f->b), 1);
	assert_int_equal(store_stats(f->store, &st), 0);
	assert_true(st.segments >= 40);
}

/*
 * The merges a stopped sync left are taken up when the daemon starts
 * again, with no write to set them off: a node restarted after a bulk sync
 * does not search hundreds of segments until its next record comes.
 */
static void test_merges_after_restart(void **state)
{
	struct fx *f = *state;
	struct store_stats st;
	struct sync *again;

	segments_waiting(f);
	loop_closes(f);
	assert_int_equal(store_stats(f->store, &st), 0);
	assert_true(st.segments >= 40);
	assert_int_equal(uv_loop_init(&f->loop), 0); /* started again, on the same store */
	assert_non_null(again = sync_start(f));
	assert_true(segments_settled(f, 16) < 16);
	loop_closes_with(f, again);
	sync_free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_back_pressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_have_mode_want, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_guard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_false_claim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_false_claim_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff_after_fault, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_forged_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_spliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_bad_inner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_body_swapped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_two_feeds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_bad_inner_verify_every, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_run_end_verified, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absent_body_asked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_side_by_side, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lag_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lag_disconnected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_have_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merges_after_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_leaves_merges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merges_after_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits_ask_nothing, setup, teardown),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
