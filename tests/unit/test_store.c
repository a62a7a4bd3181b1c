/*
 * test_store.c: feeds, gaps, forks, publish, record state, retraction, map
 * growth, meta and flags, and that store_check catches real damage.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>

#include "be.h"
#include "entry.h"
#include "key.h"
#include "log.h"
#include "store.h"
#include "succession.h"
#include "testutil.h"

/* An author writing its own chain. */
struct author {
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	uint64_t seq;
	uint8_t head[AG_HASH_LEN];
};

struct fixture {
	char *dir, *data;
	struct store *st;
	uint8_t network[32];
	struct author a, b;
};

/* The store's format, store.c's SCHEMA: a store of another is upgraded or refused. */
#define FORMAT 10

/* Buffers and ids of the entries a test makes, freed at teardown. */
static void *raws[8192];
static size_t nraws;

static void *keep(void *p)
{
	assert_non_null(p);
	assert_true(nraws < sizeof(raws) / sizeof(raws[0]));
	raws[nraws++] = p;
	return p;
}

static void author_init(struct author *a, uint8_t seed_byte)
{
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	ag_key_from_seed(a->pk, a->sk, seed);
	a->seq = 0;
}

/* A practice {"summary": text, "title": title, "topics": [topic]}; keys in byte order. */
static msgpack_sbuffer *body(const char *text, const char *title, const char *topic)
{
	msgpack_sbuffer *sb = msgpack_sbuffer_new();
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, topic ? 3 : 2);
	msgpack_pack_str_with_body(&pk, "summary", 7);
	msgpack_pack_str_with_body(&pk, text, strlen(text));
	msgpack_pack_str_with_body(&pk, "title", 5);
	msgpack_pack_str_with_body(&pk, title, strlen(title));
	if (topic) {
		msgpack_pack_str_with_body(&pk, "topics", 6);
		msgpack_pack_array(&pk, 1);
		msgpack_pack_str_with_body(&pk, topic, strlen(topic));
	}
	return sb;
}

/*
 * The author's next entry, signed, then decoded from its own bytes as an
 * entry from the network would be. text NULL makes a retraction.
 */
static struct ag_entry entry_with_body(struct fixture *f, struct author *a, const char *type,
                                       const char *id, const void *body_mp, size_t body_len,
                                       uint64_t ts)
{
	struct ag_entry e = {.h = {.seq = a->seq + 1, .has_prev = a->seq > 0, .timestamp = ts}};
	uint8_t *buf = keep(malloc(AG_HEADER_MAX)), *copy = body_mp ? keep(malloc(body_len)) : NULL;
	size_t len;

	if (copy)
		memcpy(copy, body_mp, body_len);
	memcpy(e.h.network, f->network, 32);
	memcpy(e.h.author, a->pk, AG_PK_LEN);
	memcpy(e.h.prev, a->head, AG_HASH_LEN);
	snprintf(e.h.type, sizeof(e.h.type), "%s", type);
	e.h.id = id;
	e.h.id_len = strlen(id);
	e.body = copy;
	e.body_len = body_len;
	assert_int_equal(ag_entry_sign(&e, a->sk, buf, AG_HEADER_MAX, &len), 0);
	/* As from the network: the header's and body's bytes, none of the caller's. */
	assert_int_equal(ag_entry_open(&e, buf, len, copy, body_len, NULL, NULL), 0);
	a->seq = e.h.seq;
	ag_entry_hash(&e, a->head);
	return e;
}

static struct ag_entry entry_make(struct fixture *f, struct author *a, const char *type,
                                  const char *id, const char *text, uint64_t ts)
{
	msgpack_sbuffer *sb = text ? body(text, id, "housing") : NULL;
	struct ag_entry e =
	    entry_with_body(f, a, type, id, sb ? sb->data : NULL, sb ? sb->size : 0, ts);

	msgpack_sbuffer_free(sb);
	return e;
}

static struct ag_entry entry_next(struct fixture *f, struct author *a, const char *text)
{
	char id[32];

	snprintf(id, sizeof(id), "r%llu", (unsigned long long)a->seq + 1);
	return entry_make(f, a, "practice", keep(strdup(id)), text, 1000 + a->seq);
}

static enum store_status append1(struct fixture *f, const struct ag_entry *e, uint64_t *need)
{
	struct store_result r = {.status = -1};

	assert_int_equal(store_append(f->st, e, 1, &r), 0);
	if (need)
		*need = r.need_seq;
	return r.status;
}

static void assert_consistent(struct fixture *f)
{
	char why[256];

	assert_int_equal(store_check(f->st, f->network, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(ag_init(), 0);
	f->dir = tu_tmpdir("store");
	assert_non_null(f->dir);
	f->data = tu_path(f->dir, "data");
	f->st = store_open(f->data, 0);
	assert_non_null(f->st);
	ag_network_default(f->network);
	author_init(&f->a, 1);
	author_init(&f->b, 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->data);
	free(f->dir);
	free(f);
	while (nraws)
		free(raws[--nraws]);
	return 0;
}

/* ---- feeds ---- */

struct collect {
	size_t n;
	uint64_t seq[64];
	uint8_t raw[64][128];
	size_t raw_len[64];
	int body_null[64];
	uint64_t ts[64];
	char id[64][AG_ID_MAX + 1];
};

static int collect_fn(const struct ag_entry *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 64) {
		c->seq[c->n] = e->h.seq;
		memcpy(c->raw[c->n], e->h.raw, e->h.raw_len < 128 ? e->h.raw_len : 128);
		c->raw_len[c->n] = e->h.raw_len;
		c->body_null[c->n] = e->body == NULL;
		c->ts[c->n] = e->h.timestamp;
		memcpy(c->id[c->n], e->h.id, e->h.id_len);
		c->id[c->n][e->h.id_len] = 0;
	}
	c->n++;
	return 0;
}

static void test_append_and_feed(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[3];
	struct store_result r[3];
	struct collect c = {0};
	uint8_t hash[AG_HASH_LEN];
	uint64_t seq;

	for (int i = 0; i < 3; i++)
		e[i] = entry_next(f, &f->a, "une ville");
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 0);
	assert_int_equal(store_append(f->st, e, 3, r), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].status, STORE_STORED);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 3);
	assert_memory_equal(hash, f->a.head, AG_HASH_LEN);

	/* The whole feed, byte for byte, in order. */
	assert_int_equal(store_feed(f->st, f->a.pk, 1, 100, 1 << 20, collect_fn, &c), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c.seq[i], i + 1);
		assert_int_equal(c.raw_len[i], e[i].h.raw_len);
		assert_memory_equal(c.raw[i], e[i].h.raw,
		                    e[i].h.raw_len < 128 ? e[i].h.raw_len : 128);
	}
	/* Bounded by count, and by bytes though never below one entry. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_feed(f->st, f->a.pk, 2, 1, 1 << 20, collect_fn, &c), 1);
	assert_int_equal(c.seq[0], 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_feed(f->st, f->a.pk, 1, 100, 1, collect_fn, &c), 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_feed(f->st, f->a.pk, 1, 100,
	                            e[0].h.raw_len + e[0].body_len + e[1].h.raw_len + e[1].body_len,
	                            collect_fn, &c),
	                 2);
	assert_int_equal(store_feed(f->st, f->a.pk, 4, 100, 1 << 20, collect_fn, &c), 0);
	assert_int_equal(store_feed(f->st, f->b.pk, 1, 100, 1 << 20, collect_fn, &c), 0);
	assert_consistent(f);
}

static void test_duplicate_ignored(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e1 = entry_next(f, &f->a, "un"), e2 = entry_next(f, &f->a, "deux");
	struct store_stats s;

	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e1, NULL), STORE_DUPLICATE);
	assert_int_equal(append1(f, &e2, NULL), STORE_DUPLICATE);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.entries, 2);
	assert_int_equal(s.records, 2);
	assert_consistent(f);
}

static void test_gap_says_which_seq(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e1 = entry_next(f, &f->a, "un"), e2 = entry_next(f, &f->a, "deux"),
	                e3 = entry_next(f, &f->a, "trois");
	struct ag_entry batch[2] = {e2, e3};
	struct store_result r[2];
	uint64_t need = 0, seq;
	uint8_t hash[AG_HASH_LEN];

	assert_int_equal(append1(f, &e3, &need), STORE_GAP);
	assert_int_equal(need, 1);
	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e3, &need), STORE_GAP);
	assert_int_equal(need, 2);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 1);
	/* The missing entry and the one after it, in one batch. */
	assert_int_equal(store_append(f->st, batch, 2, r), 0);
	assert_int_equal(r[0].status, STORE_STORED);
	assert_int_equal(r[1].status, STORE_STORED);
	assert_consistent(f);
}

static int count_fn(const struct ag_entry *e, void *arg)
{
	(void)e;
	++*(size_t *)arg;
	return 0;
}

static void test_fork_same_seq(void **state)
{
	struct fixture *f = *state;
	struct author other;
	struct ag_entry e1 = entry_next(f, &f->a, "un"), e2, e2b, e3;
	uint32_t flags;
	size_t n = 0;
	uint64_t seq;
	uint8_t hash[AG_HASH_LEN];

	other = f->a;
	e2 = entry_next(f, &f->a, "deux");
	e3 = entry_next(f, &f->a, "trois");
	e2b = entry_next(f, &other, "autre chose"); /* the same seq 2, signed by a */
	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2b, NULL), STORE_FORK);
	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_true(flags & STORE_FLAG_FORKED);
	/* Both entries at seq 2 are kept as proof. */
	assert_int_equal(store_forks(f->st, f->a.pk, count_fn, &n), 2);
	assert_int_equal(store_forks(f->st, f->b.pk, count_fn, &n), 0);
	/* Nothing more of the feed until an operator decides; what it has stays. */
	assert_int_equal(append1(f, &e3, NULL), STORE_REFUSED);
	assert_int_equal(append1(f, &e2, NULL), STORE_DUPLICATE);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 2);
	assert_int_equal(store_fork_clear(f->st, f->a.pk), 0);
	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(append1(f, &e3, NULL), STORE_STORED);
	assert_consistent(f);
}

static void test_fork_by_prev(void **state)
{
	struct fixture *f = *state;
	struct author other;
	struct ag_entry e1 = entry_next(f, &f->a, "un"), e2, e2b, e3b;
	struct collect c = {0};

	other = f->a;
	e2 = entry_next(f, &f->a, "deux");
	e2b = entry_next(f, &other, "deux bis");
	e3b = entry_next(f, &other, "trois bis"); /* chains to e2b, not to e2 */
	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e3b, NULL), STORE_FORK);
	/* The proof: our seq 2 and their seq 3 that names another seq 2. */
	assert_int_equal(store_forks(f->st, NULL, collect_fn, &c), 2);
	assert_int_equal(c.seq[0], 2);
	assert_int_equal(c.seq[1], 3);
	assert_memory_equal(c.raw[0], e2.h.raw, 128);
	(void)e2b;
	assert_consistent(f);
}

static void test_fork_inside_batch(void **state)
{
	struct fixture *f = *state;
	struct author other;
	struct ag_entry e[4];
	struct store_result r[4];

	e[0] = entry_next(f, &f->a, "un");
	other = f->a;
	e[1] = entry_next(f, &f->a, "deux");
	e[2] = entry_next(f, &other, "deux bis");
	e[3] = entry_next(f, &f->a, "trois");
	assert_int_equal(store_append(f->st, e, 4, r), 0);
	assert_int_equal(r[0].status, STORE_STORED);
	assert_int_equal(r[1].status, STORE_STORED);
	assert_int_equal(r[2].status, STORE_FORK);
	assert_int_equal(r[3].status, STORE_REFUSED);
	assert_consistent(f);
}

static int head_count(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	(void)author, (void)seq, (void)hash;
	++*(size_t *)arg;
	return 0;
}

static void test_batch_of_many_authors(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[40];
	struct store_result r[40];
	struct collect c = {0};
	uint8_t hash[AG_HASH_LEN];
	uint64_t seq;

	for (int i = 0; i < 40; i++)
		e[i] = entry_next(f, i % 2 ? &f->b : &f->a, "ville");
	assert_int_equal(store_append(f->st, e, 40, r), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(r[i].status, STORE_STORED);
	assert_int_equal(store_head(f->st, f->b.pk, &seq, hash), 1);
	assert_int_equal(seq, 20);
	assert_int_equal(store_heads(f->st, head_count, &c.n), 0);
	assert_int_equal(c.n, 2);
	assert_consistent(f);
}

/* ---- bodies that this release's schema does not know ---- */

/* {"titel": "premier"}: a practice with a misspelt field and no summary or topics. */
static const uint8_t bad_body[] = {0x81, 0xa5, 't', 'i', 't', 'e', 'l', 0xa7,
                                   'p',  'r',  'e', 'm', 'i', 'e', 'r'};

static ssize_t search(struct fixture *f, const char *text, const char *type);

/* A word of its own for each run: "deuxieme" -> "deuxiemea". */
static const char *w(const char *word, int prepared)
{
	static char buf[4][32];
	static int next;
	char *out = buf[next++ % 4];

	snprintf(out, 32, "%s%c", word, prepared ? 'b' : 'a');
	return out;
}

/*
 * v1 valid at seq 1, then a body that this release's schema does not know
 * (a newer release's field, a required one missing) at seq 2 and an entry
 * chained on it at seq 3: all three are stored (DESIGN.md "Versions live side
 * by side"), the record's state is the unknown body, its words are indexed,
 * and the feed goes on.
 */
static void newer_body_stored(struct fixture *f, struct author *a, int prepared)
{
	struct ag_entry e[3];
	struct store_prep p[3] = {{0}};
	struct store_result r[3];
	struct collect c = {0};
	uint8_t hash[AG_HASH_LEN];
	uint64_t seq;
	size_t n = 0;

	e[0] = entry_make(f, a, "practice", "p1", w("deuxieme", prepared), 10);
	e[1] = entry_with_body(f, a, "practice", "p1", bad_body, sizeof(bad_body), 11);
	e[2] = entry_make(f, a, "practice", "p2", w("troisieme", prepared), 12);
	for (int i = 0; prepared && i < 3; i++)
		assert_int_equal(store_prepare(&p[i], &e[i]), 0);
	assert_true(!prepared || p[1].terms);
	assert_int_equal(store_append_prepared(f->st, e, prepared ? p : NULL, 3, r), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, STORE_STORED);
		store_prep_clear(&p[i]);
	}
	assert_int_equal(store_head(f->st, a->pk, &seq, hash), 1);
	assert_int_equal(seq, 3);
	assert_int_equal(store_feed(f->st, a->pk, 1, 100, 1 << 20, count_fn, &n), 3);
	assert_int_equal(store_get(f->st, "practice", a->pk, "p1", 2, collect_fn, &c), 1);
	assert_int_equal(c.seq[0], 2);
	assert_int_equal(store_history(f->st, "practice", a->pk, "p1", 2, count_fn, &n), 2);
	assert_int_equal(search(f, "premier", NULL), prepared + 1);
	assert_int_equal(search(f, w("deuxieme", prepared), NULL), 0);
	assert_int_equal(search(f, w("troisieme", prepared), NULL), 1);
	assert_consistent(f);
}

static void test_newer_body_stored(void **state)
{
	struct fixture *f = *state;

	newer_body_stored(f, &f->a, 0);
	newer_body_stored(f, &f->b, 1);
}

/* ---- publish, state, history, retraction ---- */

static struct ag_entry publish(struct fixture *f, const char *id, const char *text, uint64_t ts,
                               uint8_t *buf, uint8_t hash[static AG_HASH_LEN])
{
	msgpack_sbuffer *sb = text ? body(text, id, "health") : NULL;
	struct ag_entry e = {.h = {.timestamp = ts}};

	memcpy(e.h.network, f->network, 32);
	strcpy(e.h.type, "practice");
	e.h.id = id;
	e.h.id_len = strlen(id);
	e.body = sb ? (const uint8_t *)sb->data : NULL;
	e.body_len = sb ? sb->size : 0;
	assert_int_equal(store_publish(f->st, &e, f->a.sk, buf, AG_HEADER_MAX, hash), 0);
	msgpack_sbuffer_free(sb);
	return e;
}

static void test_publish_chain(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN], hash2[AG_HASH_LEN], h[AG_HASH_LEN];
	struct ag_entry e, check;
	struct collect c = {0};
	uint64_t seq;

	e = publish(f, "p1", "santé des migrants", 10, buf, hash);
	assert_int_equal(e.h.seq, 1);
	assert_false(e.h.has_prev);
	assert_memory_equal(e.h.author, f->a.pk, AG_PK_LEN);
	e = publish(f, "p1", "santé et logement", 20, buf, hash2);
	assert_int_equal(e.h.seq, 2);
	assert_true(e.h.has_prev);
	assert_memory_equal(e.h.prev, hash, AG_HASH_LEN);
	/* What was published is a valid entry of the network, and it is the head. */
	assert_int_equal(ag_entry_open(&check, e.h.raw, e.h.raw_len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(ag_header_verify(&check.h, f->network), 0);
	ag_entry_hash(&check, h);
	assert_memory_equal(h, hash2, AG_HASH_LEN);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, h), 1);
	assert_int_equal(seq, 2);
	assert_memory_equal(h, hash2, AG_HASH_LEN);
	/* State is the newest version; history has both. */
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "p1", 2, collect_fn, &c), 1);
	assert_int_equal(c.seq[0], 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_history(f->st, "practice", f->a.pk, "p1", 2, collect_fn, &c), 2);
	assert_int_equal(c.seq[0], 1);
	assert_int_equal(c.seq[1], 2);
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "nope", 4, collect_fn, &c), 0);
	assert_int_equal(store_get(f->st, "meeting", f->a.pk, "p1", 2, collect_fn, &c), 0);
	assert_int_equal(store_get(f->st, "practice", f->b.pk, "p1", 2, collect_fn, &c), 0);
	assert_int_equal(store_history(f->st, "practice", f->b.pk, "p1", 2, collect_fn, &c), 0);
	assert_consistent(f);
	free(buf);
}

static ssize_t search(struct fixture *f, const char *text, const char *type)
{
	struct index_query q = {.text = text, .type = type};
	size_t n = 0;
	ssize_t r = store_search(f->st, &q, count_fn, &n);

	assert_int_equal((size_t)r, n);
	return r;
}

static void test_new_version_moves_postings(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];

	publish(f, "p1", "alpha", 10, buf, hash);
	assert_int_equal(search(f, "alpha", NULL), 1);
	publish(f, "p1", "beta", 20, buf, hash);
	assert_int_equal(search(f, "alpha", NULL), 0);
	assert_int_equal(search(f, "beta", NULL), 1);
	assert_int_equal(search(f, NULL, "practice"), 1);
	assert_consistent(f);
	free(buf);
}

static uint64_t segments(struct fixture *f)
{
	struct store_stats s;

	assert_int_equal(store_stats(f->st, &s), 0);
	return s.segments;
}

/*
 * With idle merges on, appends leave the merges they make due
 * (segments pile up past a tier's sixteen) until the index holds 2 * 16
 * segments of a tier, when the append merges at once; store_merge_piece
 * then does the work left (a write of the loop's meanwhile leaves it too),
 * and every record's current version is found, no older one. Without, or
 * with no work left, no write returns with sixteen segments of a tier.
 */
static void test_merges_when_idle(void **state)
{
	struct fixture *f = *state;
	uint64_t most = 0, plain_most = 0, before;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	int pieces = 0, rc;

	for (int i = 0; i < 20; i++) { /* idle merges off: merged as each append ends */
		struct ag_entry e = entry_next(f, &f->b, "plain");

		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
		plain_most = segments(f) > plain_most ? segments(f) : plain_most;
	}
	assert_true(plain_most < 16);
	store_merge_idle(f->st, true);
	for (int i = 0; i < 50; i++) {
		char id[16], text[32];
		struct ag_entry e;

		snprintf(id, sizeof(id), "p%d", i % 10); /* new versions: the old are killed */
		snprintf(text, sizeof(text), "idle%dv%d", i % 10, i / 10);
		e = entry_make(f, &f->a, "practice", keep(strdup(id)), text, 2000 + (uint64_t)i);
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
		most = segments(f) > most ? segments(f) : most;
	}
	assert_true(most > 24);     /* left for idle time */
	assert_true(most < 2 * 16); /* but merged at once when a tier held 2 * 16 */
	assert_consistent(f);
	/* A write of the loop's while work is left for store_merge_piece leaves it there. */
	before = segments(f);
	assert_true(before > 16);
	assert_int_equal(store_meta_put(f->st, "k", 1, "v", 1), 0);
	assert_int_equal(segments(f), before);
	while ((rc = store_merge_piece(f->st)) == 1)
		pieces++;
	assert_int_equal(rc, 0);
	assert_true(pieces >= 1); /* the work left after the forced merge */
	assert_true(segments(f) < 16);
	assert_int_equal(store_merge_piece(f->st), 0); /* nothing left */
	for (int r = 0; r < 10; r++)
		for (int v = 0; v < 5; v++) {
			char text[32];

			snprintf(text, sizeof(text), "idle%dv%d", r, v);
			assert_int_equal(search(f, text, NULL), v == 4);
		}
	/* With no work left, the loop's writes merge what they make due at once, as before. */
	for (int i = 0; i < 20; i++) {
		char id[16];

		snprintf(id, sizeof(id), "q%d", i);
		publish(f, keep(strdup(id)), "loop", 5000 + (uint64_t)i, buf, hash);
		assert_true(segments(f) < 16);
	}
	assert_consistent(f);
	free(buf);
}

/*
 * During a bulk sync (store_merge_wait), appends leave their merges even
 * past 2 * 16 segments in a tier, and store_merge_piece does nothing, so
 * the sync has the writer to itself; searches still find every version.
 * Near the catalog's end (SEGS_MAX, 256) a merge runs all the same, only
 * as much as makes room. Once the sync ends, store_merge_piece does the
 * work left.
 */
static void test_merges_wait_for_sync(void **state)
{
	struct fixture *f = *state;
	uint64_t most = 0, now, prev = 0;
	int forced = 0, rc;

	store_merge_idle(f->st, true);
	store_merge_wait(f->st, true);
	for (int i = 0; i < 240; i++) {
		char id[16], text[32];
		struct ag_entry e;

		snprintf(id, sizeof(id), "w%d", i);
		snprintf(text, sizeof(text), "bulk w%dword", i % 7);
		e = entry_make(f, &f->a, "practice", keep(strdup(id)), text, 3000 + (uint64_t)i);
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
		now = segments(f);
		forced += now < prev;
		prev = now;
		most = now > most ? now : most;
		if (i == 100) {
			assert_int_equal(store_merge_piece(f->st), 0); /* waits */
			assert_int_equal(segments(f), now);
			assert_int_equal(search(f, "bulk", NULL), 101);
		}
	}
	assert_true(most > 4 * 16); /* the tiers' limit put off */
	assert_true(most < 256);    /* but not the catalog's */
	assert_true(forced >= 1);
	assert_true(segments(f) > most - 2 * 16); /* each time by a merge's worth, no more */
	assert_int_equal(search(f, "w3word", NULL), 34);
	assert_consistent(f);
	store_merge_wait(f->st, false);
	while ((rc = store_merge_piece(f->st)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_true(segments(f) < 16);
	assert_int_equal(search(f, "bulk", NULL), 240);
	assert_int_equal(search(f, "w3word", NULL), 34);
	assert_consistent(f);
}

static void test_retraction_leaves_views(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	struct collect c = {0};
	struct index_query topic = {.topic = "health"};

	publish(f, "p1", "hébergement d'urgence", 10, buf, hash);
	publish(f, "p2", "hébergement durable", 11, buf, hash);
	assert_int_equal(search(f, "hebergement", NULL), 2);
	publish(f, "p1", NULL, 12, buf, hash);
	/* Gone from search and lists; its state says retracted; its history stays. */
	assert_int_equal(search(f, "hebergement", NULL), 1);
	assert_int_equal(search(f, "urgence", NULL), 0);
	assert_int_equal(search(f, NULL, "practice"), 1);
	assert_int_equal(store_search(f->st, &topic, collect_fn, &c), 1);
	assert_string_equal(c.id[0], "p2");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "p1", 2, collect_fn, &c), 1);
	assert_true(c.body_null[0]);
	assert_int_equal(store_history(f->st, "practice", f->a.pk, "p1", 2, count_fn, &c.n), 2);
	assert_consistent(f);
	/* Published again, it comes back. */
	publish(f, "p1", "hébergement d'urgence", 13, buf, hash);
	assert_int_equal(search(f, "urgence", NULL), 1);
	assert_consistent(f);
	free(buf);
}

/* Versions that come and go inside one batch never reach the index. */
static void test_versions_within_one_batch(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[4];
	struct store_result r[4];
	struct collect c = {0};

	e[0] = entry_make(f, &f->a, "practice", "p1", "premier", 10);
	e[1] = entry_make(f, &f->a, "practice", "p1", "deuxieme", 11);
	e[2] = entry_make(f, &f->a, "practice", "p2", "autre", 12);
	e[3] = entry_make(f, &f->a, "practice", "p1", NULL, 13);
	assert_int_equal(store_append(f->st, e, 4, r), 0);
	assert_int_equal(search(f, "premier", NULL), 0);
	assert_int_equal(search(f, "deuxieme", NULL), 0);
	assert_int_equal(search(f, "autre", NULL), 1);
	assert_int_equal(store_search(f->st, &(struct index_query){0}, collect_fn, &c), 1);
	assert_string_equal(c.id[0], "p2");
	assert_int_equal(store_history(f->st, "practice", f->a.pk, "p1", 2, count_fn, &c.n), 3);
	assert_consistent(f);
	/* And a new version in a later batch replaces one indexed before. */
	e[0] = entry_make(f, &f->a, "practice", "p2", "remplace", 14);
	assert_int_equal(append1(f, &e[0], NULL), STORE_STORED);
	assert_int_equal(search(f, "autre", NULL), 0);
	assert_int_equal(search(f, "remplace", NULL), 1);
	assert_consistent(f);
}

struct prep_job {
	const struct ag_entry *e;
	struct store_prep *p;
	size_t n;
	int rc;
};

static void *prepare_all(void *arg)
{
	struct prep_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		j->rc |= store_prepare(&j->p[i], &j->e[i]);
	return NULL;
}

/* Entries prepared on another thread are stored and indexed as they would be without. */
static void test_prepared_append(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[5];
	struct store_prep p[5] = {{0}};
	struct store_result r[5];
	struct prep_job job = {e, p, 4, 0};
	uint8_t hash[AG_HASH_LEN];
	uint64_t seq;
	pthread_t t;

	e[0] = entry_make(f, &f->a, "practice", "p1", "premier", 10);
	e[1] = entry_make(f, &f->a, "practice", "p1", "deuxieme", 11);
	e[2] = entry_make(f, &f->a, "practice", "p2", "autre", 12);
	e[3] = entry_make(f, &f->a, "practice", "p1", NULL, 13);
	e[4] = entry_make(f, &f->b, "practice", "p3", "troisieme", 14);
	assert_int_equal(pthread_create(&t, NULL, prepare_all, &job), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(job.rc, 0);
	/* A prep made for other bytes is not used: e[4] would be indexed with e[2]'s words. */
	assert_int_equal(store_prepare(&p[4], &e[2]), 0);
	assert_int_equal(store_append_prepared(f->st, e, p, 5, r), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i].status, STORE_STORED);
	/* The terms the index took were freed as it went; those of the prep not used stay. */
	for (int i = 0; i < 3; i++)
		assert_null(p[i].terms);
	assert_non_null(p[4].terms);
	assert_int_equal(search(f, "premier", NULL), 0);
	assert_int_equal(search(f, "deuxieme", NULL), 0);
	assert_int_equal(search(f, "autre", NULL), 1);
	assert_int_equal(search(f, "troisieme", NULL), 1);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 4);
	assert_memory_equal(hash, f->a.head, AG_HASH_LEN);
	assert_consistent(f);
	assert_int_equal(store_append_prepared(f->st, e, p, 5, r), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r[i].status, STORE_DUPLICATE);
		store_prep_clear(&p[i]);
	}
	store_prep_clear(&p[0]); /* a cleared prep may be cleared again */
}

/* The author's next entry, of a body that takes about 6 KB of a transaction (store_append_cost). */
static struct ag_entry entry_big(struct fixture *f, struct author *a, size_t i)
{
	char text[3000], id[32];
	size_t len = 0;

	while (len + 16 < sizeof(text))
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "mot%zu ", i * 7 + len % 97);
	snprintf(id, sizeof(id), "big%zu", i);
	return entry_make(f, a, "practice", keep(strdup(id)), text, 5000 + i);
}

/*
 * A batch that store_append_cost puts within STORE_TXN_BYTES goes in one
 * transaction, one index segment, as sync.c counts on when it fills a batch;
 * one of one and a half times that goes in two, not in three.
 */
static void test_batch_fills_transactions(void **state)
{
	struct fixture *f = *state;
	struct ag_entry *e = calloc(1024, sizeof(*e));
	struct store_result *r = calloc(1024, sizeof(*r));
	struct store_stats s;
	size_t one = 0, n = 0;

	assert_non_null(e);
	assert_non_null(r);
	while ((e[n] = entry_big(f, &f->a, n), store_append_cost(e, n + 1)) <= STORE_TXN_BYTES)
		n++;
	one = n; /* e[one] is the first past one transaction, and the next batch's first */
	assert_true(one > 1);
	assert_int_equal(store_append(f->st, e, one, r), 0);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.segments, 1);
	for (n = one + 1; store_append_cost(e + one, n - one) <= STORE_TXN_BYTES * 3 / 2; n++)
		e[n] = entry_big(f, &f->a, n);
	assert_int_equal(store_append(f->st, e + one, n - one, r + one), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r[i].status, STORE_STORED);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.segments, 3);
	assert_int_equal(s.entries, n);
	assert_int_equal(search(f, "mot0", NULL), 1);
	assert_consistent(f);
	free(e);
	free(r);
}

/*
 * A body with more terms than a verify thread keeps room for between bodies
 * (index_terms.c's SCRATCH_KEEP, 64 KiB: 5000 distinct words here), prepared
 * between two small ones on one thread: each is indexed whole, none takes
 * another's words.
 */
static void test_prepared_large_body(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[3];
	struct store_prep p[3] = {{0}};
	struct store_result r[3];
	struct prep_job job = {e, p, 3, 0};
	char *text = malloc(5000 * 8);
	size_t len = 0;
	pthread_t t;

	assert_non_null(text);
	for (int i = 0; i < 5000; i++)
		len += (size_t)sprintf(text + len, "%smot%d", i ? " " : "", i);
	e[0] = entry_make(f, &f->a, "practice", "p1", "avant", 10);
	e[1] = entry_make(f, &f->a, "practice", "p2", text, 11);
	e[2] = entry_make(f, &f->a, "practice", "p3", "apres", 12);
	free(text);
	assert_int_equal(pthread_create(&t, NULL, prepare_all, &job), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(job.rc, 0);
	assert_true(store_prep_bytes(&p[1]) > 64 * 1024);
	assert_true(store_prep_bytes(&p[2]) < 1024);
	assert_int_equal(store_append_prepared(f->st, e, p, 3, r), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, STORE_STORED);
		store_prep_clear(&p[i]);
	}
	assert_int_equal(search(f, "avant", NULL), 1);
	assert_int_equal(search(f, "mot0", NULL), 1);
	assert_int_equal(search(f, "mot4999", NULL), 1);
	assert_int_equal(search(f, "apres", NULL), 1);
	assert_int_equal(search(f, "mot17 apres", NULL), 0);
	assert_consistent(f);
}

static void test_list_newest_first(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e[5];
	struct store_result r[5];
	struct collect c = {0};
	struct index_query q = {.type = "practice", .limit = 3};
	uint64_t ts[5] = {500, 100, 400, 200, 300};

	for (int i = 0; i < 5; i++) {
		char id[8];

		snprintf(id, sizeof(id), "n%d", i);
		e[i] = entry_make(f, &f->a, "practice", keep(strdup(id)), "texte", ts[i]);
	}
	assert_int_equal(store_append(f->st, e, 5, r), 0);
	/* By the author's timestamp, not by arrival; the limit keeps the newest. */
	assert_int_equal(store_search(f->st, &q, collect_fn, &c), 3);
	assert_int_equal(c.ts[0], 500);
	assert_int_equal(c.ts[1], 400);
	assert_int_equal(c.ts[2], 300);
	q = (struct index_query){.author = f->b.pk};
	assert_int_equal(store_search(f->st, &q, count_fn, &c.n), 0);
	q = (struct index_query){.author = f->a.pk, .topic = "housing", .text = "texte"};
	assert_int_equal(store_search(f->st, &q, count_fn, &c.n), 5);
	q = (struct index_query){.topic = "health"};
	assert_int_equal(store_search(f->st, &q, count_fn, &c.n), 0);
}

static void test_publish_refused_when_forked(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	struct ag_entry e = {.h = {.timestamp = 1}};

	publish(f, "p1", "un", 10, buf, hash);
	assert_int_equal(store_flags_set(f->st, f->a.pk, STORE_FLAG_FORKED, 0), 0);
	memcpy(e.h.network, f->network, 32);
	strcpy(e.h.type, "practice");
	e.h.id = "p2";
	e.h.id_len = 2;
	assert_int_equal(store_publish(f->st, &e, f->a.sk, buf, AG_HEADER_MAX, hash), -1);
	/* A bad record type is refused too, and nothing is written. */
	assert_int_equal(store_fork_clear(f->st, f->a.pk), 0);
	strcpy(e.h.type, "Bad Type");
	assert_int_equal(store_publish(f->st, &e, f->a.sk, buf, AG_HEADER_MAX, hash), -1);
	{
		uint64_t seq;

		assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
		assert_int_equal(seq, 1);
	}
	free(buf);
}

/*
 * identity/successor is its feed's last entry: whether it comes from a peer
 * or is published here, the feed takes nothing more (DESIGN.md "Trust over
 * the years"), and what it held stays.
 */
static void test_successor_closes_feed(void **state)
{
	struct fixture *f = *state;
	uint8_t body[SUCCESSION_BODY_MAX], *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	size_t len = succession_body(body, NULL, NULL, f->b.pk);
	struct ag_entry e1 = entry_next(f, &f->a, "un"),
	                e2 = entry_with_body(f, &f->a, "identity", "successor", body, len, 1002),
	                e3 = entry_next(f, &f->a, "trois"), p = {.h = {.timestamp = 1}};
	uint32_t flags;
	uint64_t seq;

	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2, NULL), STORE_STORED);
	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_true(flags & STORE_FLAG_CLOSED);
	assert_int_equal(append1(f, &e3, NULL), STORE_REFUSED);
	assert_int_equal(append1(f, &e2, NULL), STORE_DUPLICATE);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 2);
	/* This node's own feed: closed by the successor it publishes. */
	memcpy(p.h.network, f->network, 32);
	strcpy(p.h.type, "identity");
	p.h.id = "successor";
	p.h.id_len = 9;
	p.body = body;
	p.body_len = len;
	assert_int_equal(store_publish(f->st, &p, f->b.sk, buf, AG_HEADER_MAX, hash), 0);
	strcpy(p.h.type, "practice");
	p.h.id = "p2";
	p.h.id_len = 2;
	p.body = NULL;
	p.body_len = 0;
	assert_int_equal(store_publish(f->st, &p, f->b.sk, buf, AG_HEADER_MAX, hash), -1);
	assert_int_equal(store_head(f->st, f->b.pk, &seq, hash), 1);
	assert_int_equal(seq, 1);
	assert_consistent(f);
	free(buf);
}

/*
 * A certificate voids a feed's tail: the entries after it go, a record they
 * changed is back at its last valid version (searchable again), a record
 * they made goes, the fork they made is settled, and the feed goes on from
 * there (another entry at the next seq is stored); store_check holds.
 */
static void test_void_tail(void **state)
{
	struct fixture *f = *state;
	struct author thief;
	struct ag_entry e1 = entry_make(f, &f->a, "practice", "p1", "tramway social", 1),
	                e2 = entry_make(f, &f->a, "practice", "p2", "cuisine", 2), e3, e3b, e4, e2b;
	struct collect c = {0};
	uint64_t seq, voided = 0;
	uint8_t hash[AG_HASH_LEN];
	uint32_t flags;

	thief = f->a;
	e3 = entry_make(f, &f->a, "practice", "p1", "jardinage", 3);
	e4 = entry_make(f, &f->a, "practice", "p4", "voile", 4);
	e3b = entry_make(f, &thief, "practice", "p3", "autre", 5); /* a fork at seq 3 */
	assert_int_equal(append1(f, &e1, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e2, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e3, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e4, NULL), STORE_STORED);
	assert_int_equal(append1(f, &e3b, NULL), STORE_FORK);
	assert_int_equal(search(f, "jardinage", NULL), 1);
	assert_int_equal(search(f, "tramway", NULL), 0);
	assert_int_equal(store_void(f->st, f->a.pk, 1, 0, &voided), 0);
	assert_int_equal(voided, 3);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 1);
	assert_int_equal(seq, 1);
	assert_int_equal(search(f, "jardinage", NULL), 0);
	assert_int_equal(search(f, "voile", NULL), 0);
	assert_int_equal(search(f, "cuisine", NULL), 0);
	assert_int_equal(search(f, "tramway", NULL), 1);
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "p1", 2, collect_fn, &c), 1);
	assert_int_equal(c.seq[0], 1);
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "p4", 2, collect_fn, &c), 0);
	assert_int_equal(store_forks(f->st, f->a.pk, count_fn, &(size_t){0}), 0);
	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_int_equal(flags, 0);
	assert_consistent(f);
	/* The feed goes on from seq 1, and what was voided comes back only as itself. */
	f->a.seq = 1;
	memcpy(f->a.head, hash, AG_HASH_LEN);
	e2b = entry_make(f, &f->a, "practice", "p2", "vélo", 6);
	assert_int_equal(append1(f, &e2b, NULL), STORE_STORED);
	assert_int_equal(search(f, "velo", NULL), 1);
	assert_consistent(f);
	/* A voided successor's feed goes whole, and takes nothing more. */
	assert_int_equal(store_void(f->st, f->a.pk, 0, STORE_FLAG_CLOSED, &voided), 0);
	assert_int_equal(voided, 2);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 0);
	assert_int_equal(append1(f, &e1, NULL), STORE_REFUSED);
	assert_int_equal(search(f, "tramway", NULL), 0);
	assert_consistent(f);
}

/* ---- durability of the layout, growth ---- */

static void test_reopen_keeps_everything(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN], h[AG_HASH_LEN];
	uint64_t seq;

	publish(f, "p1", "logement social", 10, buf, hash);
	assert_int_equal(store_meta_put(f->st, "k", 1, "v", 1), 0);
	store_close(f->st);
	f->st = store_open(f->data, 0);
	assert_non_null(f->st);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, h), 1);
	assert_memory_equal(h, hash, AG_HASH_LEN);
	assert_int_equal(search(f, "logement", NULL), 1);
	publish(f, "p2", "logement", 11, buf, hash);
	assert_int_equal(search(f, "logement", NULL), 2);
	assert_consistent(f);
	free(buf);
}

static void test_map_grows(void **state)
{
	struct fixture *f = *state;
	struct store_stats s;
	struct ag_entry e[100];
	struct store_result r[100];
	char text[2048];

	/* A 1 MiB map, then about 4 MiB of entries and index. */
	store_close(f->st);
	assert_int_equal(tu_rmtree(f->data), 0);
	f->st = store_open(f->data, 1 << 20);
	assert_non_null(f->st);
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = i % 9 == 8 ? ' ' : 'a' + (char)((i * 7 + i / 9) % 26);
	text[sizeof(text) - 1] = 0;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 100; i++) {
			text[(round * 100 + i) % 2000] = 'z'; /* vary the words a little */
			e[i] = entry_next(f, &f->a, text);
		}
		assert_int_equal(store_append(f->st, e, 100, r), 0);
		for (int i = 0; i < 100; i++)
			assert_int_equal(r[i].status, STORE_STORED);
		while (nraws)
			free(raws[--nraws]);
	}
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.entries, 2000);
	assert_true(s.map_size > 1 << 20);
	assert_true(s.used > 1 << 20);
	assert_consistent(f);
	/* Reopened with a smaller request, it keeps the grown size. */
	store_close(f->st);
	f->st = store_open(f->data, 1 << 20);
	assert_non_null(f->st);
	assert_consistent(f);
}

/* A reader on another thread, searching while the writer appends and grows the map. */
struct reader_arg {
	struct store *st;
	const uint8_t *author;
	atomic_int stop;
	int errors;
	size_t rounds, last_seen;
};

static void *reader_main(void *arg)
{
	struct reader_arg *r = arg;

	while (!atomic_load(&r->stop)) {
		struct index_query q = {.text = "ville", .limit = 5};
		uint8_t hash[AG_HASH_LEN];
		uint64_t seq = 0;
		size_t n = 0;

		if (store_search(r->st, &q, count_fn, &n) < 0 ||
		    store_head(r->st, r->author, &seq, hash) < 0)
			r->errors++;
		if (seq < r->last_seen) /* a reader never sees the past come back */
			r->errors++;
		r->last_seen = seq;
		r->rounds++;
	}
	return NULL;
}

static void test_readers_on_other_threads(void **state)
{
	struct fixture *f = *state;
	struct reader_arg r = {0};
	struct ag_entry e[100];
	struct store_result res[100];
	struct store_stats s;
	pthread_t t;
	char text[1024];

	store_close(f->st);
	assert_int_equal(tu_rmtree(f->data), 0);
	f->st = store_open(f->data, 1 << 20);
	assert_non_null(f->st);
	r.st = f->st;
	r.author = f->a.pk;
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = i % 7 == 6 ? ' ' : 'a' + (char)((i * 11) % 26);
	memcpy(text, "ville ", 6);
	text[sizeof(text) - 1] = 0;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	for (int round = 0; round < 30; round++) {
		for (int i = 0; i < 100; i++)
			e[i] = entry_next(f, &f->a, text);
		assert_int_equal(store_append(f->st, e, 100, res), 0);
		while (nraws)
			free(raws[--nraws]);
	}
	atomic_store(&r.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.errors, 0);
	assert_true(r.rounds > 0);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_true(s.map_size > 1 << 20); /* it grew while the reader read */
	assert_int_equal(search(f, "ville", NULL), 3000);
	assert_consistent(f);
}

/* ---- meta and flags ---- */

/*
 * A feed dropped (a key that left the set, past LeaveGrace) is gone from every
 * view, the index and the counts, the store stays consistent, the other feed
 * is untouched, and later entries never reuse a dropped entry's logno (a
 * killed docno must never name another version).
 */
static void test_feed_drop(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e;
	struct store_stats before, after;
	uint8_t hash[AG_HASH_LEN];
	uint64_t seq;

	for (int i = 0; i < 3; i++) {
		e = entry_next(f, &f->a, "hébergement alpha");
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	}
	e = entry_next(f, &f->b, "hébergement beta");
	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	e = entry_next(f, &f->a, NULL); /* the latest of a's entries: a retraction */
	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	assert_int_equal(search(f, "hebergement", NULL), 4);
	assert_int_equal(store_stats(f->st, &before), 0);

	assert_int_equal(store_feed_drop(f->st, f->a.pk), 4);
	assert_int_equal(store_head(f->st, f->a.pk, &seq, hash), 0);
	assert_int_equal(search(f, "hebergement", NULL), 1);
	assert_int_equal(search(f, "alpha", NULL), 0);
	assert_int_equal(store_get(f->st, "practice", f->a.pk, "r1", 2, count_fn, &(size_t){0}), 0);
	assert_int_equal(store_head(f->st, f->b.pk, &seq, hash), 1);
	assert_int_equal(store_stats(f->st, &after), 0);
	assert_int_equal(after.records, before.records - 4);
	assert_consistent(f);
	assert_int_equal(store_feed_drop(f->st, f->a.pk), 0); /* nothing left: nothing to do */

	/* b's next entry takes a logno past a's, though a's last ones are gone. */
	e = entry_next(f, &f->b, "gamma");
	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	assert_int_equal(search(f, "gamma", NULL), 1);
	assert_consistent(f);
	/* a's feed may come back from scratch. */
	memset(&f->a.head, 0, sizeof(f->a.head));
	f->a.seq = 0;
	e = entry_next(f, &f->a, "delta");
	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	assert_int_equal(search(f, "delta", NULL), 1);
	assert_consistent(f);
}

static int meta_count(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(size_t *)arg;
	return 0;
}

static void test_meta(void **state)
{
	struct fixture *f = *state;
	char buf[8];
	size_t len = 0, n = 0;

	assert_int_equal(store_meta_get(f->st, "peer/a", 6, buf, sizeof(buf), &len), 0);
	assert_int_equal(store_meta_put(f->st, "peer/a", 6, "0123456789", 10), 0);
	assert_int_equal(store_meta_put(f->st, "peer/b", 6, "x", 1), 0);
	assert_int_equal(store_meta_put(f->st, "other", 5, "y", 1), 0);
	assert_int_equal(store_meta_get(f->st, "peer/a", 6, buf, sizeof(buf), &len), 1);
	assert_int_equal(len, 10); /* the full length, though only 8 bytes fit */
	assert_memory_equal(buf, "01234567", 8);
	assert_int_equal(store_meta_each(f->st, "peer/", 5, meta_count, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_meta_del(f->st, "peer/a", 6), 0);
	assert_int_equal(store_meta_del(f->st, "peer/a", 6), 0);
	assert_int_equal(store_meta_get(f->st, "peer/a", 6, buf, sizeof(buf), &len), 0);
	n = 0;
	assert_int_equal(store_meta_each(f->st, NULL, 0, meta_count, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_meta_put(f->st, "", 0, "x", 1), -1);
}

/* store_flagged's fn: counts the authors, and stops at the second when told to. */
struct flagged {
	size_t n;
	uint8_t last[AG_PK_LEN];
	uint32_t flags;
	size_t stop_at;
};

static int flagged_fn(const uint8_t author[AG_PK_LEN], uint32_t flags, void *arg)
{
	struct flagged *c = arg;

	memcpy(c->last, author, AG_PK_LEN);
	c->flags = flags;
	return ++c->n == c->stop_at;
}

static void test_flags(void **state)
{
	struct fixture *f = *state;
	struct flagged c = {0};
	uint32_t flags = 99;

	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(store_flags_set(f->st, f->a.pk, 0x300, 0), 0);
	assert_int_equal(store_flags_set(f->st, f->a.pk, 0, 0x100), 0);
	assert_int_equal(store_flags(f->st, f->a.pk, &flags), 0);
	assert_int_equal(flags, 0x200);
	assert_int_equal(store_flags(f->st, f->b.pk, &flags), 0);
	assert_int_equal(flags, 0);
	/* Only the authors with a bit of the mask: a's 0x200, not b's 0x1 (agora status's closed).
	 */
	assert_int_equal(store_flags_set(f->st, f->b.pk, 0x1, 0), 0);
	assert_int_equal(store_flagged(f->st, 0x200, flagged_fn, &c), 0);
	assert_int_equal(c.n, 1);
	assert_memory_equal(c.last, f->a.pk, AG_PK_LEN);
	assert_int_equal(c.flags, 0x200);
	c = (struct flagged){.stop_at = 1};
	assert_int_equal(store_flagged(f->st, 0x201, flagged_fn, &c), 0);
	assert_int_equal(c.n, 1); /* fn's non-zero return stopped it */
	c = (struct flagged){0};
	assert_int_equal(store_flagged(f->st, 0x400, flagged_fn, &c), 0);
	assert_int_equal(c.n, 0);
}

/* ---- the check finds damage ---- */

/* Closes f's store and opens its environment bare, in a write transaction, to age or damage it. */
static MDB_txn *store_bare(struct fixture *f, MDB_env **env)
{
	MDB_txn *txn;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 24), 0);
	assert_int_equal(mdb_env_open(*env, f->data, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	return txn;
}

/* Commits txn, begun by store_bare, and closes its environment: the store may be opened again. */
static void store_bare_commit(MDB_txn *txn, MDB_env *env)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Deletes the first item of a database behind the store's back. */
static void damage(struct fixture *f, const char *db)
{
	MDB_env *env;
	MDB_txn *txn = store_bare(f, &env);
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;

	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
	assert_int_equal(mdb_cursor_del(c, 0), 0);
	mdb_cursor_close(c);
	store_bare_commit(txn, env);
	f->st = store_open(f->data, 0);
	assert_non_null(f->st);
}

static void test_check_finds_damage(void **state)
{
	struct fixture *f = *state;
	static const char *dbs[] = {"blocks", "log", "entries", "records"};
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	char why[256];

	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		publish(f, "p1", "des mots à chercher", 10, buf, hash);
		publish(f, "p2", "d'autres mots", 11, buf, hash);
		publish(f, "p2", "d'autres mots encore", 12, buf,
		        hash); /* records loses this line */
		assert_consistent(f);
		damage(f, dbs[i]);
		assert_int_equal(store_check(f->st, f->network, why, sizeof(why)), 1);
		assert_true(strlen(why) > 0);
		print_message("damaged %s: %s\n", dbs[i], why);
		store_close(f->st);
		assert_int_equal(tu_rmtree(f->data), 0);
		f->st = store_open(f->data, 0);
		assert_non_null(f->st);
	}
	free(buf);
}

/* Sets the store's format to ver in txn, a bare one (store_bare). */
static void format_put(MDB_txn *txn, uint32_t ver)
{
	uint8_t b[4];
	MDB_dbi dbi;

	be32_put(b, ver);

	assert_int_equal(mdb_dbi_open(txn, "info", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &(MDB_val){6, "schema"}, &(MDB_val){4, b}, 0), 0);
}

/* The store's format, read bare; the store is opened again after. */
static uint32_t format_get(struct fixture *f)
{
	MDB_env *env;
	MDB_txn *txn = store_bare(f, &env);
	MDB_dbi dbi;
	MDB_val v;
	uint32_t ver;

	assert_int_equal(mdb_dbi_open(txn, "info", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &(MDB_val){6, "schema"}, &v), 0);
	assert_int_equal(v.mv_size, 4);
	ver = be32_get(v.mv_data);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	assert_non_null(f->st = store_open(f->data, 0));
	return ver;
}

/* A store written in another format is refused, not misread. */
static void test_other_format_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	MDB_env *env;
	MDB_txn *txn;

	publish(f, "p1", "des mots", 10, buf, hash);
	txn = store_bare(f, &env);
	format_put(txn, 4);
	store_bare_commit(txn, env);
	f->st = store_open(f->data, 0);
	assert_null(f->st);
	free(buf);
}

/* f's store replaced by a copy of data (its data.mdb), then opened: the store, or NULL. */
static struct store *open_copy(struct fixture *f, const char *data, size_t len)
{
	char *path = tu_path(f->data, "data.mdb");

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(tu_rmtree(f->data), 0);
	assert_int_equal(mkdir(f->data, 0700), 0);
	assert_int_equal(tu_write_file(path, data, len), 0);
	free(path);
	return f->st = store_open(f->data, 0);
}

/*
 * The committed store of the first released format (tests/fixtures/store-8:
 * agora-fill's 120 practices of one feed, compacted with mdb_env_copy2): this
 * release opens it, upgraded in place first once the format has moved on,
 * and finds every entry, record and word in it; no copy of the old store is
 * left once done.
 */
static void test_released_store_opens(void **state)
{
	struct fixture *f = *state;
	size_t len = 0, n = 0;
	char *fixture = tu_read_file(AGORA_FIXTURES "/store-8/data.mdb", &len), *bak;
	struct stat sb;

	assert_non_null(fixture);
	assert_non_null(open_copy(f, fixture, len));
	assert_int_equal(store_heads(f->st, head_count, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(search(f, "practice", NULL), 120);
	assert_consistent(f);
	assert_int_equal(format_get(f), FORMAT);
	bak = malloc(strlen(f->data) + 16);
	sprintf(bak, "%s.format-8", f->data);
	assert_int_equal(stat(bak, &sb), -1);
	free(bak);
	free(fixture);
}

/*
 * A store whose format is newer than this release's is refused, and the log
 * says which release wrote it; the store is left as it was.
 */
static void test_newer_store_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	char *logpath = tu_path(f->dir, "log"), *logged, want[160];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t len;
	int fd;

	publish(f, "p1", "des mots", 10, buf, hash);
	txn = store_bare(f, &env);
	format_put(txn, FORMAT + 1);
	assert_int_equal(mdb_dbi_open(txn, "info", 0, &dbi), 0);
	assert_int_equal(
	    mdb_put(txn, dbi, &(MDB_val){6, "writer"}, &(MDB_val){12, "agorad 9.9.9"}, 0), 0);
	store_bare_commit(txn, env);
	assert_true((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	log_set_fd(fd);
	f->st = store_open(f->data, 0);
	log_set_fd(2);
	close(fd);
	assert_null(f->st);
	assert_non_null(logged = tu_read_file(logpath, &len));
	print_message("%s", logged);
	snprintf(
	    want, sizeof(want),
	    "was written by agorad 9.9.9 (store format %d), newer than this agorad " AGORA_VERSION
	    " (format %d)",
	    FORMAT + 1, FORMAT);
	assert_non_null(strstr(logged, want));
	free(logged);
	free(logpath);
	free(buf);
}

/*
 * Format 2: a header stored without its body counts for the chain and the
 * head, its record's state shows no body, nothing of it is searchable, and
 * it is listed as missing. Its body, when it comes, is kept (STORE_BODY),
 * indexed if its version is current, and missing no more; a body that is
 * not its header's never reaches the store (ag_entry_open refuses it).
 */
static void test_headers_without_bodies(void **state)
{
	struct fixture *f = *state;
	struct ag_entry e1 = entry_make(f, &f->a, "practice", "p1", "logement des saisonniers", 10),
	                e2 = entry_make(f, &f->a, "practice", "p1", "hebergement d'urgence", 20),
	                bare[2] = {e1, e2};
	struct collect c = {0};
	uint64_t seqs[4];

	bare[0].body = bare[1].body = NULL;
	bare[0].body_len = bare[1].body_len = 0;
	assert_int_equal(append1(f, &bare[0], NULL), STORE_STORED);
	assert_int_equal(append1(f, &bare[1], NULL), STORE_STORED);
	assert_int_equal(store_feed(f->st, f->a.pk, 1, 100, 1 << 20, collect_fn, &c), 2);
	assert_true(c.body_null[0] && c.body_null[1]);
	assert_int_equal(store_missing(f->st, f->a.pk, 1, seqs, 4), 2);
	assert_int_equal(seqs[1], 2);
	assert_int_equal(search(f, "logement", NULL), 0);
	assert_consistent(f);

	/* The older version's body: kept, yet not searchable (its record has moved on). */
	assert_int_equal(append1(f, &e1, NULL), STORE_BODY);
	assert_int_equal(search(f, "logement", NULL), 0);
	/* The current one's: kept and indexed. */
	assert_int_equal(append1(f, &e2, NULL), STORE_BODY);
	assert_int_equal(search(f, "hebergement", NULL), 1);
	assert_int_equal(append1(f, &e2, NULL), STORE_DUPLICATE);
	assert_int_equal(store_missing(f->st, f->a.pk, 1, seqs, 4), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_feed(f->st, f->a.pk, 1, 100, 1 << 20, collect_fn, &c), 2);
	assert_false(c.body_null[0] || c.body_null[1]);
	assert_consistent(f);
}

/* A purge body {"seqs": [seqs...]}. */
static msgpack_sbuffer *purge_body(const uint64_t *seqs, size_t n)
{
	msgpack_sbuffer *sb = msgpack_sbuffer_new();
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "seqs", 4);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_uint64(&pk, seqs[i]);
	return sb;
}

/* Whether the bytes of s occur in the file at path. */
static int file_holds(const char *path, const char *s)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(s), len = 0, cap = 1 << 20, r;
	char *buf = malloc(cap);
	int found = 0;

	assert_non_null(fp);
	while ((r = fread(buf + len, 1, cap - len, fp)) > 0)
		if ((len += r) == cap)
			buf = realloc(buf, cap *= 2);
	fclose(fp);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, s, n) == 0;
	free(buf);
	return found;
}

static int purged_fn(const struct ag_entry *e, void *arg)
{
	int *purged = arg;

	*purged += e->purged && !e->body;
	return 0;
}

/*
 * A purge arriving from a peer: the bodies it names leave the store and the
 * index for good (searches, history, missing), one that arrives again is
 * dropped as a duplicate, another record is untouched, and after
 * store_compact the body's bytes are nowhere in the data file.
 */
static void test_purge_drops_bodies(void **state)
{
	struct fixture *f = *state;
	uint64_t seqs[] = {1, 2}, none;
	msgpack_sbuffer *pb = purge_body(seqs, 2);
	struct ag_entry e[4];
	char *file = tu_path(f->data, "data.mdb");
	int purged = 0;

	e[0] = entry_make(f, &f->a, "practice", "r1", "alpha zorgmarker", 1000);
	e[1] = entry_make(f, &f->a, "practice", "r1", "beta zorgmarker", 1001);
	e[2] = entry_make(f, &f->a, "practice", "r3", "gamma keptword", 1002);
	e[3] = entry_with_body(f, &f->a, "purge", "3", pb->data, pb->size, 1003);
	for (int i = 0; i < 3; i++)
		assert_int_equal(append1(f, &e[i], NULL), STORE_STORED);
	assert_int_equal(search(f, "zorgmarker", NULL), 1);
	assert_int_equal(append1(f, &e[3], NULL), STORE_STORED);
	assert_int_equal(search(f, "zorgmarker", NULL), 0);
	assert_int_equal(search(f, "keptword", NULL), 1);
	assert_int_equal(store_history(f->st, "practice", f->a.pk, "r1", 2, purged_fn, &purged), 2);
	assert_int_equal(purged, 2);
	/* Sent again, with its body: dropped without blame, never asked for. */
	assert_int_equal(append1(f, &e[0], NULL), STORE_DUPLICATE);
	assert_int_equal(store_missing(f->st, f->a.pk, 1, &none, 1), 0);
	purged = 0;
	assert_int_equal(store_history(f->st, "practice", f->a.pk, "r1", 2, purged_fn, &purged), 2);
	assert_int_equal(purged, 2);
	assert_consistent(f);

	assert_int_equal(store_compact(f->st), 0);
	assert_false(file_holds(file, "zorgmarker"));
	assert_true(file_holds(file, "keptword"));
	assert_int_equal(search(f, "keptword", NULL), 1);
	assert_int_equal(search(f, "zorgmarker", NULL), 0);
	assert_consistent(f);
	/* The store goes on after the swap: appends and reads. */
	e[0] = entry_make(f, &f->a, "practice", "r5", "delta", 1004);
	assert_int_equal(append1(f, &e[0], NULL), STORE_STORED);
	assert_int_equal(search(f, "delta", NULL), 1);
	assert_consistent(f);
	msgpack_sbuffer_free(pb);
	free(file);
}

static int count_bodies(const struct ag_entry *e, void *arg)
{
	*(int *)arg += e->body != NULL;
	return 0;
}

/* How many of author's entries have their bodies held. */
static int bodies_held(struct fixture *f, const uint8_t *author)
{
	int n = 0;

	assert_true(store_feed(f->st, author, 1, SIZE_MAX, SIZE_MAX, count_bodies, &n) >= 0);
	return n;
}

/*
 * Quota: past it, an author's new bodies are dropped (headers stored, never
 * missing, so never asked for), except identity, member and purge bodies and
 * this node's own; the usage the store keeps says what it holds; a purge
 * frees room, and the next body fits again.
 */
static void test_quota_drops_bodies(void **state)
{
	struct fixture *f = *state;
	char text[600];
	struct ag_entry e[8];
	struct store_result r;
	struct store_usage u;
	struct store_limits lim = {0};
	uint64_t seqs[] = {1, 2}, none;
	msgpack_sbuffer *pb = purge_body(seqs, 2);

	memset(text, 'q', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	e[0] = entry_next(f, &f->a, text);
	lim.quota = 2 * e[0].body_len + 10; /* two bodies fit, not three */
	memcpy(lim.self, f->b.pk, AG_PK_LEN);
	store_limits_set(f->st, &lim);
	for (int i = 1; i < 4; i++)
		e[i] = entry_next(f, &f->a, text);
	e[4] = entry_make(f, &f->a, "member", "m1", text, 2000);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(store_append(f->st, &e[i], 1, &r), 0);
		assert_int_equal(r.status, STORE_STORED);
		assert_false(r.missing);
	}
	assert_int_equal(bodies_held(f, f->a.pk), 3); /* two practices and the member */
	assert_int_equal(store_missing(f->st, f->a.pk, 1, &none, 1), 0);
	assert_int_equal(store_usage(f->st, f->a.pk, &u), 0);
	assert_int_equal(u.body_bytes, 2 * e[0].body_len + e[4].body_len);
	assert_int_equal(u.dropped, 2);
	assert_true(u.over_quota); /* the member's body, kept, says nothing of it */
	/* A dropped body sent again: a duplicate, still not held, not missing. */
	assert_int_equal(append1(f, &e[2], NULL), STORE_DUPLICATE);
	assert_int_equal(bodies_held(f, f->a.pk), 3);
	/* A header alone, past the quota: stored, its body not wanted. */
	e[5] = entry_next(f, &f->a, text);
	e[5].body = NULL;
	e[5].body_len = 0;
	assert_int_equal(store_append(f->st, &e[5], 1, &r), 0);
	assert_int_equal(r.status, STORE_STORED);
	assert_false(r.missing);
	assert_int_equal(store_missing(f->st, f->a.pk, 1, &none, 1), 0);
	assert_int_equal(store_usage(f->st, f->a.pk, &u), 0);
	assert_true(u.over_quota);
	assert_int_equal(u.dropped, 3);
	/* This node's own feed has no quota. */
	for (int i = 0; i < 4; i++) {
		struct ag_entry o = entry_next(f, &f->b, text);

		assert_int_equal(append1(f, &o, NULL), STORE_STORED);
	}
	assert_int_equal(bodies_held(f, f->b.pk), 4);
	/* A purge frees its author's room (and is kept itself): the next body fits. */
	e[6] = entry_with_body(f, &f->a, "purge", "p", pb->data, pb->size, 3000);
	assert_int_equal(append1(f, &e[6], NULL), STORE_STORED);
	e[7] = entry_next(f, &f->a, text);
	assert_int_equal(append1(f, &e[7], NULL), STORE_STORED);
	assert_int_equal(store_usage(f->st, f->a.pk, &u), 0);
	assert_int_equal(u.body_bytes, e[4].body_len + e[6].body_len + e[7].body_len);
	assert_false(u.over_quota);
	assert_consistent(f);
	msgpack_sbuffer_free(pb);
}

/* The entry cap: past it nothing of the author is stored (STORE_LIMIT), nor asked for. */
static void test_entry_cap(void **state)
{
	struct fixture *f = *state;
	struct store_limits lim = {.max_entries = 3};
	struct ag_entry e[5];
	uint8_t hash[AG_HASH_LEN];
	uint64_t head;

	memcpy(lim.self, f->b.pk, AG_PK_LEN);
	store_limits_set(f->st, &lim);
	for (int i = 0; i < 5; i++)
		e[i] = entry_next(f, &f->a, "cap");
	for (int i = 0; i < 3; i++)
		assert_int_equal(append1(f, &e[i], NULL), STORE_STORED);
	assert_int_equal(append1(f, &e[3], NULL), STORE_LIMIT);
	assert_int_equal(append1(f, &e[4], NULL), STORE_LIMIT); /* not a gap: nothing to ask */
	assert_int_equal(store_head(f->st, f->a.pk, &head, hash), 1);
	assert_int_equal(head, 3);
	assert_true(store_takes(f->st, f->a.pk, 3));
	assert_false(store_takes(f->st, f->a.pk, 4));
	assert_true(store_takes(f->st, f->b.pk, 4)); /* this node's own feed has no cap */
	for (int i = 0; i < 4; i++) {
		struct ag_entry o = entry_next(f, &f->b, "own");

		assert_int_equal(append1(f, &o, NULL), STORE_STORED);
	}
	assert_consistent(f);
}

/*
 * MaxDisk: other authors' entries stop at 15/16 of it (STORE_LIMIT, the
 * store then says it is full), this node's publishing at MaxDisk
 * (STORE_EDISK), and the store's file stays under MaxDisk plus one publish.
 */
static void test_max_disk(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	struct store_limits lim = {.max_disk = 2u << 20};
	char text[3000], id[32];
	struct store_stats ss;
	struct ag_entry refused;
	int stored = 0, published = 0, rc = 0;
	msgpack_sbuffer *sb;

	memset(text, 'd', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(lim.self, f->a.pk, AG_PK_LEN);
	store_limits_set(f->st, &lim);
	assert_false(store_disk_full(f->st));
	for (int i = 0; i < 2000; i++) {
		struct ag_entry o = entry_next(f, &f->b, text);
		enum store_status st = append1(f, &o, NULL);

		refused = o;
		if (st == STORE_LIMIT)
			break;
		assert_int_equal(st, STORE_STORED);
		stored++;
	}
	assert_true(stored > 100 && stored < 2000);
	assert_true(store_disk_full(f->st));
	assert_false(store_takes(f->st, f->b.pk, f->b.seq));
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_true(ss.used <= STORE_PEERS_SHARE(lim.max_disk));
	/* Its own publishing goes on to MaxDisk, then is refused. */
	sb = body(text, "own", "health");
	for (int i = 0; i < 2000 && rc == 0; i++) {
		struct ag_entry e = {.h = {.timestamp = 10}};

		memcpy(e.h.network, f->network, 32);
		strcpy(e.h.type, "practice");
		snprintf(id, sizeof(id), "own%d", i);
		e.h.id = id;
		e.h.id_len = strlen(id);
		e.body = (const uint8_t *)sb->data;
		e.body_len = sb->size;
		if ((rc = store_publish(f->st, &e, f->a.sk, buf, AG_HEADER_MAX, hash)) == 0)
			published++;
	}
	assert_int_equal(rc, STORE_EDISK);
	assert_true(published > 0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	print_message("stored %d, published %d, %llu bytes\n", stored, published,
	              (unsigned long long)ss.used);
	assert_true(ss.used <= lim.max_disk + (64u << 10));
	/* MaxDisk raised: the entry refused is taken now. */
	lim.max_disk = 64u << 20;
	store_limits_set(f->st, &lim);
	assert_false(store_disk_full(f->st));
	assert_int_equal(append1(f, &refused, NULL), STORE_STORED);
	msgpack_sbuffer_free(sb);
	free(buf);
	assert_consistent(f);
}

/*
 * The upgrade from format 8 counts each author's bodies: a store of two
 * feeds, one of them with a purged body, set back to format 8 without its
 * usage table, opens upgraded with every author's usage its bodies.
 */
static void test_upgrade_counts_usage(void **state)
{
	struct fixture *f = *state;
	uint64_t seqs[] = {2};
	msgpack_sbuffer *pb = purge_body(seqs, 1);
	struct ag_entry e;
	struct store_usage u;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	for (int i = 0; i < 5; i++) {
		e = entry_next(f, &f->a, "alpha beta");
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
		e = entry_next(f, &f->b, "gamma delta epsilon");
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	}
	e = entry_with_body(f, &f->a, "purge", "p", pb->data, pb->size, 5000);
	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	txn = store_bare(f, &env);
	assert_int_equal(mdb_dbi_open(txn, "usage", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	format_put(txn, 8);
	store_bare_commit(txn, env);
	assert_non_null(f->st = store_open(f->data, 0));
	assert_consistent(f); /* usage holds every author's bodies */
	assert_int_equal(store_usage(f->st, f->b.pk, &u), 0);
	assert_true(u.body_bytes > 5 * strlen("gamma delta epsilon"));
	msgpack_sbuffer_free(pb);
}

/* Every value of db in txn overwritten with as many bytes 0xff. */
static void garble(MDB_txn *txn, const char *db)
{
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k, v;
	int rc;

	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t *junk = malloc(v.mv_size);

		memset(junk, 0xff, v.mv_size);
		assert_int_equal(mdb_cursor_put(c, &k, &(MDB_val){v.mv_size, junk}, MDB_CURRENT),
		                 0);
		free(junk);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
}

/* What the records of test_upgrade_reindexes must find, and not find. */
static void assert_reindexed_finds(struct fixture *f)
{
	assert_int_equal(search(f, "saisonniers", NULL), 1);
	assert_int_equal(search(f, "atelier", NULL), 1);  /* p2's newest version */
	assert_int_equal(search(f, "cuisine", NULL), 0);  /* its older one */
	assert_int_equal(search(f, "urgence", NULL), 0);  /* p3, retracted */
	assert_int_equal(search(f, "jardin", NULL), 2);   /* p4, and b's */
	assert_int_equal(search(f, NULL, "practice"), 4); /* p1, p2, p4, b's */
}

/*
 * The upgrade from format 9 rebuilds the index from the records, never
 * reading the old one: a store of two feeds, with a record of two versions
 * and a retracted one, set back to format 9 with every block of its index
 * garbled and every version marked dead (which a store of format 10 finds
 * damaged), opens upgraded: each current version found once, no other, the
 * index whole and of one segment, format 10, and no copy of the old store
 * left.
 */
static void test_upgrade_reindexes(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN], none[1];
	struct ag_entry e = entry_next(f, &f->b, "un jardin partagé");
	char why[256], *bak = malloc(strlen(f->data) + 16);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dead;
	struct stat sb;

	assert_int_equal(append1(f, &e, NULL), STORE_STORED);
	publish(f, "p1", "logement des saisonniers", 10, buf, hash);
	publish(f, "p2", "cuisine collective", 11, buf, hash);
	publish(f, "p3", "hébergement d'urgence", 12, buf, hash);
	publish(f, "p4", "jardin de quartier", 13, buf, hash);
	publish(f, "p2", "atelier de langue", 14, buf, hash);
	publish(f, "p3", NULL, 15, buf, hash);
	assert_reindexed_finds(f);
	/* The garbage, first in a store of this format: the check finds it. */
	txn = store_bare(f, &env);
	garble(txn, "blocks");
	assert_int_equal(mdb_dbi_open(txn, "dead", 0, &dead), 0);
	for (uint32_t d = 1; d <= 8; d++) {
		uint8_t k[4] = {0, 0, 0, (uint8_t)d};

		assert_int_equal(mdb_put(txn, dead, &(MDB_val){4, k}, &(MDB_val){0, none}, 0), 0);
	}
	store_bare_commit(txn, env);
	assert_non_null(f->st = store_open(f->data, 0));
	assert_int_equal(store_check(f->st, f->network, why, sizeof(why)), 1);
	print_message("garbled: %s\n", why);
	/* Set back to format 9, the same garbage is never read. */
	txn = store_bare(f, &env);
	format_put(txn, FORMAT - 1);
	store_bare_commit(txn, env);
	assert_non_null(f->st = store_open(f->data, 0));
	assert_reindexed_finds(f);
	assert_consistent(f);
	assert_int_equal(segments(f), 1);
	assert_int_equal(format_get(f), FORMAT);
	sprintf(bak, "%s.format-%d", f->data, FORMAT - 1);
	assert_int_equal(stat(bak, &sb), -1);
	free(bak);
	free(buf);
}

/*
 * A store whose map its data nearly fills, set back to format 9: the
 * rebuilt index needs more pages than the map has left, and the upgrade
 * grows the map and goes on, as a write does.
 */
static void test_upgrade_grows_map(void **state)
{
	struct fixture *f = *state;
	struct store_stats s;
	MDB_env *env;
	MDB_txn *txn;
	char text[512];
	int n = 0;

	store_close(f->st);
	assert_int_equal(tu_rmtree(f->data), 0);
	assert_non_null(f->st = store_open(f->data, 1 << 20));
	do { /* entries of distinct words, for a large index, until the map is 3/4 full */
		struct ag_entry e;
		size_t len = 0;

		for (int w = 0; w < 40; w++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "m%dx%d ", n, w);
		e = entry_next(f, &f->a, text);
		assert_int_equal(append1(f, &e, NULL), STORE_STORED);
		n++;
		assert_int_equal(store_stats(f->st, &s), 0);
		assert_int_equal(s.map_size, 1 << 20);
	} while (s.used < (3u << 20) / 4);
	print_message("%d entries, %zu KiB used, %zu KiB of index\n", n, (size_t)s.used >> 10,
	              (size_t)s.index >> 10);
	txn = store_bare(f, &env);
	format_put(txn, FORMAT - 1);
	store_bare_commit(txn, env);
	assert_non_null(f->st = store_open(f->data, 1 << 20));
	assert_int_equal(store_stats(f->st, &s), 0);
	print_message("upgraded: map %zu KiB, %zu KiB used\n", (size_t)s.map_size >> 10,
	              (size_t)s.used >> 10);
	assert_true(s.map_size > 1 << 20);
	assert_int_equal(search(f, "m0x0", NULL), 1);
	assert_int_equal(search(f, NULL, "practice"), n);
	assert_consistent(f);
}

/* This node's own purge must name earlier entries of its feed that may be purged. */
static void test_purge_publish_strict(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = malloc(AG_HEADER_MAX), hash[AG_HASH_LEN];
	uint64_t later[] = {5}, own[] = {2}, ok[] = {1};
	struct {
		const uint64_t *seqs;
		int rc;
	} cases[] = {{later, -1}, {own, -1}, {ok, 0}, {own, -1}};

	publish(f, "p1", "one", 1000, buf, hash);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgpack_sbuffer *sb = purge_body(cases[i].seqs, 1);
		struct ag_entry e = {.h = {.timestamp = 2000 + i}};

		memcpy(e.h.network, f->network, 32);
		strcpy(e.h.type, "purge");
		e.h.id = "x";
		e.h.id_len = 1;
		e.body = (const uint8_t *)sb->data;
		e.body_len = sb->size;
		/* seq 2 is the purge being published, then the first purge: never purgeable. */
		assert_int_equal(store_publish(f->st, &e, f->a.sk, buf, AG_HEADER_MAX, hash),
		                 cases[i].rc);
		msgpack_sbuffer_free(sb);
	}
	assert_int_equal(search(f, "one", NULL), 0);
	assert_consistent(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append_and_feed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_headers_without_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_drops_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_publish_strict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gap_says_which_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_same_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_by_prev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_inside_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_of_many_authors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_body_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_version_moves_postings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merges_when_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merges_wait_for_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retraction_leaves_views, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_within_one_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepared_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepared_large_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_fills_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_newest_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_refused_when_forked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_successor_closes_feed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_void_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readers_on_other_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_feed_drop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_finds_damage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_format_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_released_store_opens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_store_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quota_drops_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_counts_usage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_reindexes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_grows_map, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
