/*
 * index.c: folded words, and the postings that point from each word to the
 * record versions holding it.
 *
 * A posting is 10 bytes: 6 of inverted timestamp and 4 of docno, big endian,
 * so a sorted list reads newest first and a version has the same place in
 * every list. Terms are folded words, or a 0x01 byte, a letter and a value
 * for what filters need: "\1*" (every record), "\1t" + type, "\1a" + author
 * key, "\1p" + topic. No folded word holds a 0x01 byte.
 *
 * The postings live in segments, as Lucene keeps them, inside LMDB. Each
 * write transaction that indexes anything writes its queued postings as one
 * new, immutable segment: rows of "blocks", keyed seg(4) + first term, each a
 * run of entries [term length(1)][term][n(4)][n postings], appended in key
 * order with MDB_APPEND, so a batch costs what it writes, not one B-tree
 * descent per posting. Segments of one size tier are merged FANIN (16) at
 * a time, in the same transaction, which keeps fewer than sixteen per tier:
 * fewer rewrites of each posting than eight at a time, for a few more
 * segments to look in.
 * A version that stops being current (a new version, a retraction) is not
 * searched for in every list: its docno goes into "dead", searches skip it,
 * and the merge that next rewrites its postings drops them and forgets the
 * docno.
 *
 *   segs    seg(4)                -> tier(1) postings(8) lowest(4) highest(4) docno
 *   blocks  seg(4) first term     -> entries
 *   dead    docno(4)              -> (empty)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "entry.h"
#include "fold.h"
#include "index.h"

#define POST_LEN   10
#define TS_MAX     0xffffffffffffULL /* 48 bits of milliseconds: year 10889 */
#define TERM_MAX   (2 + INDEX_WORD_MAX)
#define TERM_ALL   "\1*"
#define BODY_DEPTH (AG_DEPTH_MAX - 1)
#define BLOCK_MAX  4080 /* a block fills one 4 KiB overflow page */
#define FANIN      16   /* segments of a tier merged at once */
#define SEGS_MAX   128
#define SEGKEY_MAX (4 + TERM_MAX)

/* A term of one version, before the queue; its bytes follow it, padded to 8. */
struct tref {
	uint64_t pfx;  /* its first 8 bytes, big endian, zero padded: most comparisons end here */
	uint64_t pfx2; /* the next 8, the same way */
	uint32_t hash;
	uint32_t len;
};

/*
 * The distinct terms of one version, in the order the body first gives
 * them: one allocation, so that index_prepare's work costs the writer one
 * free.
 */
struct index_terms {
	size_t n;        /* terms */
	size_t len, cap; /* bytes used and allocated in data */
	uint64_t data[]; /* trefs, each followed by its bytes */
};

/* A term waiting in the queue; its bytes are in the arena. */
struct pterm {
	uint64_t pfx, pfx2;
	uint32_t off;
	uint8_t len;
};

/*
 * A slot of the intern table. It holds enough of its term (16 bytes, hash
 * and length) that a lookup reads the term itself only when it is longer:
 * one cache miss per word, not three.
 */
struct slot {
	uint64_t pfx, pfx2;
	uint32_t hl;   /* the hash, its low byte replaced by the length */
	uint32_t term; /* index + 1, 0 for an empty slot */
};

/* A term being sorted: its first 8 bytes, and its number. */
struct tkey {
	uint64_t pfx;
	uint32_t t;
};

/* A version waiting in the queue: its posting, and where its terms end in ops. */
struct qdoc {
	uint8_t val[POST_LEN];
	uint8_t killed;
	uint32_t docno;
	uint32_t end;
};

struct index {
	MDB_dbi segs, blocks, dead;
	char *arena;
	size_t arena_len, arena_cap;
	struct pterm *terms;
	size_t nterms, terms_cap;
	struct slot *slots; /* open addressing */
	size_t nslots;
	struct qdoc *docs;
	size_t ndocs, docs_cap;
	uint32_t *ops; /* the terms of each doc in turn, no repeats */
	size_t nops, ops_cap;
	struct index_terms *scratch; /* the terms of the version being added */
	uint32_t *order, *start;     /* scratch for index_flush, per term */
	struct tkey *keys, *ktmp;
	size_t scratch_cap;
	uint32_t *grp; /* doc numbers grouped by term */
	size_t grp_cap;
	uint32_t *dorder; /* doc numbers in posting order */
	size_t dorder_cap;
	uint32_t first_docno; /* the docnos queued in this transaction, 0 for none */
	uint32_t last_docno;
	uint32_t *killed; /* queued docnos that are no longer current */
	size_t nkilled, killed_cap;
};

/* Postings compare as 80-bit big-endian numbers; this runs in every inner loop. */
static inline int post_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x = be64_get(a), y = be64_get(b);

	if (x != y)
		return x < y ? -1 : 1;
	x = (uint64_t)a[8] << 8 | a[9];
	y = (uint64_t)b[8] << 8 | b[9];
	return (x > y) - (x < y);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n * size)))
		return ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- the terms of a record ---- */

typedef int term_fn(const char *term, size_t len, void *arg);

/* A filter term: 0x01, a kind letter, a value. */
static size_t term_make(char out[static TERM_MAX], char kind, const void *v, size_t n)
{
	out[0] = 1;
	out[1] = kind;
	memcpy(out + 2, v, n);
	return 2 + n;
}

/*
 * Reads the value at *pos: a string's bytes (*data, *n), an array's or a map's
 * count (*n), and skips any other value whole. The body passed the canonical
 * decoder already; the bounds are checked again all the same.
 */
enum { MP_BAD, MP_OTHER, MP_STR, MP_BIN, MP_ARRAY, MP_MAP };

/* The layout of the type bytes 0xc0 to 0xdf: kind, fixed payload, length bytes. */
static const struct {
	uint8_t kind, fixed, lenbytes;
} mp_types[32] = {
    [0x00] = {MP_OTHER, 0, 0}, [0x02] = {MP_OTHER, 0, 0}, [0x03] = {MP_OTHER, 0, 0},
    [0x04] = {MP_BIN, 0, 1},   [0x05] = {MP_BIN, 0, 2},   [0x06] = {MP_BIN, 0, 4},
    [0x0a] = {MP_OTHER, 4, 0}, [0x0b] = {MP_OTHER, 8, 0}, [0x0c] = {MP_OTHER, 1, 0},
    [0x0d] = {MP_OTHER, 2, 0}, [0x0e] = {MP_OTHER, 4, 0}, [0x0f] = {MP_OTHER, 8, 0},
    [0x10] = {MP_OTHER, 1, 0}, [0x11] = {MP_OTHER, 2, 0}, [0x12] = {MP_OTHER, 4, 0},
    [0x13] = {MP_OTHER, 8, 0}, [0x19] = {MP_STR, 0, 1},   [0x1a] = {MP_STR, 0, 2},
    [0x1b] = {MP_STR, 0, 4},   [0x1c] = {MP_ARRAY, 0, 2}, [0x1d] = {MP_ARRAY, 0, 4},
    [0x1e] = {MP_MAP, 0, 2},   [0x1f] = {MP_MAP, 0, 4},
};

static int mp_head(const uint8_t *p, size_t len, size_t *pos, int *kind, uint32_t *n,
                   const uint8_t **data)
{
	size_t fixed = 0, lenbytes = 0;
	uint64_t v = 0;
	uint8_t b;

	if (*pos >= len)
		return -1;
	b = p[(*pos)++];
	if (b <= 0x7f || b >= 0xe0) { /* fixint */
		*kind = MP_OTHER;
		return 0;
	}
	if (b <= 0x9f) { /* fixmap, fixarray */
		*kind = b <= 0x8f ? MP_MAP : MP_ARRAY;
		*n = b & 0x0f;
		return 0;
	}
	if (b <= 0xbf) { /* fixstr */
		*kind = MP_STR;
		v = b & 0x1f;
	} else {
		*kind = mp_types[b - 0xc0].kind;
		fixed = mp_types[b - 0xc0].fixed;
		lenbytes = mp_types[b - 0xc0].lenbytes;
	}
	if (*kind == MP_BAD || len - *pos < fixed + lenbytes)
		return -1; /* ext types are never in a canonical body */
	*pos += fixed;
	for (size_t i = 0; i < lenbytes; i++)
		v = v << 8 | p[(*pos)++];
	*n = (uint32_t)v;
	if (*kind == MP_ARRAY || *kind == MP_MAP || *kind == MP_OTHER)
		return 0;
	if (len - *pos < v)
		return -1;
	*data = p + *pos;
	*pos += v;
	return 0;
}

struct scan {
	const uint8_t *p;
	size_t len, pos;
	term_fn *fn;
	void *arg;
};

static int scan_word(const char *word, size_t len, void *arg)
{
	struct scan *s = arg;

	return s->fn(word, len, s->arg);
}

static int scan_topic(struct scan *s, const uint8_t *t, size_t n)
{
	char term[TERM_MAX];

	if (n == 0 || n > INDEX_TOPIC_MAX)
		return 0;
	return s->fn(term, term_make(term, 'p', t, n), s->arg);
}

/*
 * Walks one value: the words of every string in it go to s->fn. topic says
 * that its strings are topics too: the value of a "topic" key, or the
 * elements of a "topics" array, at any depth, since a priority's areas and a
 * profile's sections carry their own (schema.h).
 */
static int scan_value(struct scan *s, int depth, int topic)
{
	const uint8_t *data = NULL;
	uint32_t n = 0;
	int kind, rc;

	if (depth > BODY_DEPTH || mp_head(s->p, s->len, &s->pos, &kind, &n, &data) != 0)
		return EINVAL;
	if (kind == MP_STR) {
		if (topic && (rc = scan_topic(s, data, n)) != 0)
			return rc;
		return ag_fold_words((const char *)data, n, scan_word, s);
	}
	for (uint32_t i = 0; kind == MP_ARRAY && i < n; i++)
		if ((rc = scan_value(s, depth + 1, topic == 2)) != 0)
			return rc;
	for (uint32_t i = 0; kind == MP_MAP && i < n; i++) {
		const uint8_t *key = NULL;
		uint32_t klen = 0;
		int kk, t = 0;

		if (mp_head(s->p, s->len, &s->pos, &kk, &klen, &key) != 0 || kk != MP_STR)
			return EINVAL;
		if (klen == 5 && memcmp(key, "topic", 5) == 0)
			t = 1;
		if (klen == 6 && memcmp(key, "topics", 6) == 0)
			t = 2;
		if ((rc = scan_value(s, depth + 1, t)) != 0)
			return rc;
	}
	return 0;
}

/* Calls fn for every term of a version, repeats included. */
static int doc_terms(const struct index_doc *d, term_fn *fn, void *arg)
{
	struct scan s = {d->body, d->body_len, 0, fn, arg};
	char term[TERM_MAX];
	int rc;

	if ((rc = fn(TERM_ALL, 2, arg)) != 0 ||
	    (rc = fn(term, term_make(term, 't', d->type, strlen(d->type)), arg)) != 0 ||
	    (rc = fn(term, term_make(term, 'a', d->author, AG_PK_LEN), arg)) != 0)
		return rc;
	if ((rc = scan_value(&s, 1, 0)) != 0)
		return rc;
	return s.pos == s.len ? 0 : EINVAL;
}

static void posting_make(uint8_t out[static POST_LEN], uint64_t ts, uint32_t docno)
{
	uint64_t inv = TS_MAX - (ts < TS_MAX ? ts : TS_MAX);

	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(inv >> (40 - 8 * i));
	be32_put(out + 6, docno);
}

static uint32_t posting_docno(const uint8_t *v)
{
	return be32_get(v + 6);
}

/* ---- the queue ---- */

/* A multiply-xorshift hash, eight bytes at a time. */
static uint32_t term_hash(const char *t, size_t len)
{
	uint64_t h = len * 0x9e3779b97f4a7c15ull, x;

	for (; len >= 8; t += 8, len -= 8) {
		memcpy(&x, t, 8);
		h = (h ^ x) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	x = 0;
	memcpy(&x, t, len);
	h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ h >> 29);
}

static uint64_t term_prefix(const char *t, size_t len)
{
	uint8_t b[8] = {0};

	memcpy(b, t, len < 8 ? len : 8);
	return be64_get(b);
}

static uint32_t term_hl(uint32_t hash, size_t len)
{
	return (hash & ~0xffu) | (uint32_t)len;
}

static size_t tref_size(size_t len)
{
	return sizeof(struct tref) + ((len + 7) & ~(size_t)7);
}

static const struct tref *tref_next(const struct tref *r)
{
	return (const struct tref *)((const uint8_t *)r + tref_size(r->len));
}

static const struct tref *tref_at(const struct index_terms *l, uint32_t off)
{
	return (const struct tref *)((const uint8_t *)l->data + off);
}

/*
 * A version's terms being gathered: the list, and a set of the offsets of
 * its trefs (+ 1, 0 for none) by hash, so that a word is kept once.
 */
struct gather {
	struct index_terms *l;
	uint32_t *set;
	size_t nset; /* a power of two, more than twice the terms */
	uint32_t small[256];
};

static int gather_grow(struct gather *g)
{
	size_t n = g->nset * 2;
	uint32_t *set = calloc(n, sizeof(*set));
	const struct tref *r = (const struct tref *)g->l->data;

	if (!set)
		return ENOMEM;
	for (size_t i = 0; i < g->l->n; i++, r = tref_next(r)) {
		size_t j = r->hash & (n - 1);

		while (set[j])
			j = (j + 1) & (n - 1);
		set[j] = (uint32_t)((const uint8_t *)r - (const uint8_t *)g->l->data) + 1;
	}
	if (g->set != g->small)
		free(g->set);
	g->set = set;
	g->nset = n;
	return 0;
}

/* A term_fn: appends the term, hashed, to the list unless it holds it already. */
static int terms_add(const char *t, size_t len, void *arg)
{
	struct gather *g = arg;
	struct index_terms *l = g->l;
	uint32_t hash = term_hash(t, len);
	size_t need = tref_size(len), cap = l->cap, i;
	struct tref *r;

	if ((l->n + 1) * 2 > g->nset && gather_grow(g) != 0)
		return ENOMEM;
	for (i = hash & (g->nset - 1); g->set[i]; i = (i + 1) & (g->nset - 1)) {
		const struct tref *o = tref_at(l, g->set[i] - 1);

		if (o->hash == hash && o->len == len && memcmp(o + 1, t, len) == 0)
			return 0;
	}
	if (l->len + need > l->cap) {
		while (l->len + need > cap)
			cap *= 2;
		if (!(l = realloc(l, sizeof(*l) + cap)))
			return ENOMEM;
		l->cap = cap;
		g->l = l;
	}
	r = (struct tref *)((uint8_t *)l->data + l->len);
	*r = (struct tref){term_prefix(t, len), len > 8 ? term_prefix(t + 8, len - 8) : 0, hash,
	                   (uint32_t)len};
	memcpy(r + 1, t, len);
	g->set[i] = (uint32_t)l->len + 1;
	l->len += need;
	l->n++;
	return 0;
}

/* Gathers d's distinct terms into *lp, emptied first; it may move. */
static int terms_gather(const struct index_doc *d, struct index_terms **lp)
{
	struct gather g = {.l = *lp, .nset = 256};
	int rc;

	g.set = g.small;
	memset(g.small, 0, sizeof(g.small));
	g.l->n = g.l->len = 0;
	rc = doc_terms(d, terms_add, &g);
	*lp = g.l;
	if (g.set != g.small)
		free(g.set);
	return rc;
}

static struct index_terms *terms_new(size_t cap)
{
	struct index_terms *l = malloc(sizeof(*l) + cap);

	if (l)
		*l = (struct index_terms){0, 0, cap};
	return l;
}

void index_terms_free(struct index_terms *l)
{
	free(l);
}

int index_prepare(const struct index_doc *d, struct index_terms **out)
{
	/* Room for the usual body: a word is a few bytes of text and 32 or so here. */
	struct index_terms *l = terms_new(4 * d->body_len + 256);
	int rc;

	*out = NULL;
	if (!l)
		return ENOMEM;
	if ((rc = terms_gather(d, &l)) != 0) {
		free(l);
		return rc;
	}
	*out = l;
	/* It waits for the writer, with thousands more: what the guess left unused goes back. */
	if (l->cap - l->len >= 256 && (l = realloc(l, sizeof(*l) + l->len))) {
		l->cap = l->len;
		*out = l;
	}
	return 0;
}

/* Room in the intern table for n more terms, at most half full. */
static int slots_reserve(struct index *ix, size_t n)
{
	size_t cap = ix->nslots ? ix->nslots : 4096;
	struct slot *s;

	while ((ix->nterms + n) * 2 >= cap)
		cap *= 2;
	if (cap == ix->nslots)
		return 0;
	if (!(s = calloc(cap, sizeof(*s))))
		return ENOMEM;
	for (size_t i = 0; i < ix->nslots; i++) {
		size_t j = (ix->slots[i].hl >> 8) & (cap - 1);

		if (!ix->slots[i].term)
			continue;
		while (s[j].term)
			j = (j + 1) & (cap - 1);
		s[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = s;
	ix->nslots = cap;
	return 0;
}

static size_t slot_first(const struct index *ix, const struct tref *r)
{
	return (r->hash >> 8) & (ix->nslots - 1);
}

/* The queue's number for the term r, added if new; -1 out of memory. */
static long term_intern(struct index *ix, const struct tref *r)
{
	const char *t = (const char *)(r + 1);
	uint32_t hl = term_hl(r->hash, r->len);
	size_t i, mask = ix->nslots - 1;

	for (i = slot_first(ix, r); ix->slots[i].term; i = (i + 1) & mask) {
		const struct slot *s = &ix->slots[i];

		if (s->pfx == r->pfx && s->pfx2 == r->pfx2 && s->hl == hl &&
		    (r->len <= 16 || memcmp(ix->arena + ix->terms[s->term - 1].off + 16, t + 16,
		                            r->len - 16U) == 0))
			return (long)s->term - 1;
	}
	if (grow((void **)&ix->terms, &ix->terms_cap, ix->nterms + 1, sizeof(*ix->terms)) ||
	    grow((void **)&ix->arena, &ix->arena_cap, ix->arena_len + r->len, 1))
		return -1;
	memcpy(ix->arena + ix->arena_len, t, r->len);
	ix->terms[ix->nterms] =
	    (struct pterm){r->pfx, r->pfx2, (uint32_t)ix->arena_len, (uint8_t)r->len};
	ix->arena_len += r->len;
	ix->slots[i] = (struct slot){r->pfx, r->pfx2, hl, (uint32_t)++ix->nterms};
	return (long)ix->nterms - 1;
}

/*
 * Queues one version, its terms in l. The intern table is a cache miss
 * per word: the slots of all the words are fetched before the first is
 * looked at, so the misses overlap.
 */
static int queue_doc(struct index *ix, uint32_t docno, uint64_t ts, const struct index_terms *l)
{
	const struct tref *first = (const struct tref *)l->data, *r;
	struct qdoc *d;
	size_t i;

	if (grow((void **)&ix->docs, &ix->docs_cap, ix->ndocs + 1, sizeof(*ix->docs)) ||
	    grow((void **)&ix->ops, &ix->ops_cap, ix->nops + l->n, sizeof(*ix->ops)) ||
	    slots_reserve(ix, l->n))
		return ENOMEM;
	for (i = 0, r = first; i < l->n; i++, r = tref_next(r))
		__builtin_prefetch(&ix->slots[slot_first(ix, r)]);
	for (i = 0, r = first; i < l->n; i++, r = tref_next(r)) {
		long term = term_intern(ix, r);

		if (term < 0)
			return ENOMEM;
		ix->ops[ix->nops++] = (uint32_t)term;
	}
	d = &ix->docs[ix->ndocs++];
	posting_make(d->val, ts, docno);
	d->killed = 0;
	d->docno = docno;
	d->end = (uint32_t)ix->nops;
	if (ix->first_docno == 0 || docno < ix->first_docno)
		ix->first_docno = docno;
	if (docno > ix->last_docno)
		ix->last_docno = docno;
	return 0;
}

int index_add(struct index *ix, const struct index_doc *d)
{
	int rc;

	if (d->docno == 0)
		return EINVAL;
	if (!ix->scratch && !(ix->scratch = terms_new(4096)))
		return ENOMEM;
	if ((rc = terms_gather(d, &ix->scratch)) != 0)
		return rc;
	return queue_doc(ix, d->docno, d->timestamp, ix->scratch);
}

int index_add_terms(struct index *ix, const struct index_doc *d, const struct index_terms *l)
{
	if (d->docno == 0)
		return EINVAL;
	return queue_doc(ix, d->docno, d->timestamp, l);
}

int index_kill(struct index *ix, MDB_txn *txn, uint32_t docno)
{
	uint8_t k[4];

	/* Queued in this transaction: it never reaches a segment. */
	if (ix->first_docno && docno >= ix->first_docno) {
		if (grow((void **)&ix->killed, &ix->killed_cap, ix->nkilled + 1, sizeof(uint32_t)))
			return ENOMEM;
		ix->killed[ix->nkilled++] = docno;
		return 0;
	}
	be32_put(k, docno);
	return mdb_put(txn, ix->dead, &(MDB_val){4, k}, &(MDB_val){0, k}, 0);
}

void index_reset(struct index *ix)
{
	if (ix->nterms)
		memset(ix->slots, 0, ix->nslots * sizeof(*ix->slots));
	ix->nterms = ix->ndocs = ix->nops = ix->arena_len = ix->nkilled = 0;
	ix->first_docno = ix->last_docno = 0;
}

/* ---- segments ---- */

struct seginfo {
	uint32_t seg;
	int tier;
	uint64_t npost;
	uint32_t lo, hi; /* the docnos it may hold */
};

/* Tiers by size: 64 postings, 64 * FANIN, 64 * FANIN^2 and so on each start a tier. */
static int tier_of(uint64_t npost)
{
	int t = 0;

	for (uint64_t n = npost / 64; n >= FANIN; n /= FANIN)
		t++;
	return t;
}

static int catalog_put(struct index *ix, MDB_txn *txn, const struct seginfo *si)
{
	uint8_t k[4], v[17];

	be32_put(k, si->seg);
	v[0] = (uint8_t)tier_of(si->npost);
	be64_put(v + 1, si->npost);
	be32_put(v + 9, si->lo);
	be32_put(v + 13, si->hi);
	return mdb_put(txn, ix->segs, &(MDB_val){4, k}, &(MDB_val){17, v}, 0);
}

/* The segments, oldest first. */
static int catalog_load(const struct index *ix, MDB_txn *txn, struct seginfo *out, size_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, ix->segs, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;

		if (*n == SEGS_MAX || k.mv_size != 4 || v.mv_size != 17) {
			rc = MDB_CORRUPTED;
			break;
		}
		out[(*n)++] = (struct seginfo){be32_get(k.mv_data), p[0], be64_get(p + 1),
		                               be32_get(p + 9), be32_get(p + 13)};
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Parses the entry at *pos of a block. */
static int entry_parse(const uint8_t *b, size_t len, size_t *pos, const uint8_t **term,
                       size_t *tlen, const uint8_t **post, uint32_t *n)
{
	size_t p = *pos, tl;

	if (p >= len)
		return MDB_CORRUPTED;
	tl = b[p];
	if (tl == 0 || tl > TERM_MAX || len - p < 5 + tl)
		return MDB_CORRUPTED;
	*n = be32_get(b + p + 1 + tl);
	if ((len - p - 5 - tl) / POST_LEN < *n)
		return MDB_CORRUPTED;
	*term = b + p + 1;
	*tlen = tl;
	*post = b + p + 5 + tl;
	*pos = p + 5 + tl + (size_t)*n * POST_LEN;
	return 0;
}

static int term_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

/* Writes the blocks of one new segment, in key order. */
struct writer {
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t seg[4];
	uint8_t key[SEGKEY_MAX];
	size_t klen;
	uint8_t *buf;
	size_t len, cap;
	uint64_t npost;
};

static int writer_emit(struct writer *w)
{
	MDB_val k = {w->klen, w->key}, v = {w->len, w->buf};

	if (w->len == 0)
		return 0;
	w->len = 0;
	return mdb_put(w->txn, w->dbi, &k, &v, MDB_APPEND);
}

/*
 * Starts term's entry in the block, with room for n postings (a block that
 * has no room left is written first): *post receives where they go, so
 * they are put in place, not copied. writer_end says how many there are.
 */
static int writer_begin(struct writer *w, const void *term, size_t tlen, size_t n, uint8_t **post)
{
	size_t need = 5 + tlen + n * POST_LEN;
	int rc;

	if (w->len > 0 && w->len + need > BLOCK_MAX && (rc = writer_emit(w)) != 0)
		return rc;
	if (grow((void **)&w->buf, &w->cap, w->len + need, 1))
		return ENOMEM;
	if (w->len == 0) {
		memcpy(w->key, w->seg, 4);
		memcpy(w->key + 4, term, tlen);
		w->klen = 4 + tlen;
	}
	w->buf[w->len] = (uint8_t)tlen;
	memcpy(w->buf + w->len + 1, term, tlen);
	*post = w->buf + w->len + 5 + tlen;
	return 0;
}

/* Ends the entry begun last with its m postings; with none, there is no entry. */
static void writer_end(struct writer *w, size_t m)
{
	size_t tlen = w->buf[w->len];

	if (m == 0)
		return;
	be32_put(w->buf + w->len + 1 + tlen, (uint32_t)m);
	w->len += 5 + tlen + m * POST_LEN;
	w->npost += m;
}

/*
 * Reads a segment's entries in term order. Each block is copied: writes in
 * the same transaction may move the database's dirty pages.
 */
struct reader {
	uint8_t seg[4];
	uint8_t key[SEGKEY_MAX];
	size_t klen;
	uint8_t *blk;
	size_t blen, bcap, pos;
	const uint8_t *term, *post;
	size_t tlen;
	uint32_t n;
	int started, done;
};

static int reader_load(struct reader *r, MDB_cursor *c)
{
	MDB_val k = {r->started ? r->klen : 4, r->started ? r->key : r->seg}, v;
	int rc = mdb_cursor_get(c, &k, &v, r->started ? MDB_SET_KEY : MDB_SET_RANGE);

	if (rc == 0 && r->started)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	r->started = 1;
	if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || memcmp(k.mv_data, r->seg, 4)))) {
		r->done = 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (k.mv_size > SEGKEY_MAX)
		return MDB_CORRUPTED;
	if (grow((void **)&r->blk, &r->bcap, v.mv_size, 1))
		return ENOMEM;
	memcpy(r->key, k.mv_data, k.mv_size);
	r->klen = k.mv_size;
	memcpy(r->blk, v.mv_data, v.mv_size);
	r->blen = v.mv_size;
	r->pos = 0;
	return 0;
}

static int reader_next(struct reader *r, MDB_cursor *c)
{
	int rc;

	while (!r->done && r->pos >= r->blen)
		if ((rc = reader_load(r, c)) != 0)
			return rc;
	if (r->done)
		return 0;
	return entry_parse(r->blk, r->blen, &r->pos, &r->term, &r->tlen, &r->post, &r->n);
}

/* Docnos in "dead", sorted, with a mark for each one a merge drops. */
struct dead_set {
	uint32_t *d;
	uint8_t *seen;
	size_t n, cap;
};

/* The dead docnos from lo to hi: only those a merge of segments holding that range can meet. */
static int dead_load(const struct index *ix, MDB_txn *txn, uint32_t lo, uint32_t hi,
                     struct dead_set *ds)
{
	uint8_t kb[4];
	MDB_val k = {4, kb}, v;
	MDB_cursor *c;
	int rc;

	be32_put(kb, lo);
	if ((rc = mdb_cursor_open(txn, ix->dead, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 4) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (be32_get(k.mv_data) > hi)
			break;
		if (grow((void **)&ds->d, &ds->cap, ds->n + 1, sizeof(uint32_t))) {
			rc = ENOMEM;
			break;
		}
		ds->d[ds->n++] = be32_get(k.mv_data);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return ds->n && !(ds->seen = calloc(ds->n, 1)) ? ENOMEM : 0;
}

static long u32_find(const uint32_t *a, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == x ? (long)lo : -1;
}

static void dead_free(struct dead_set *ds)
{
	free(ds->d);
	free(ds->seen);
}

/* Appends a posting to out unless it is dead; marks the dead it meets. */
static void merge_one(uint8_t *out, const uint8_t *p, struct dead_set *ds, size_t *m)
{
	long j;

	if (ds->n && (j = u32_find(ds->d, ds->n, posting_docno(p))) >= 0) {
		ds->seen[j] = 1;
		return;
	}
	memcpy(out + (*m)++ * POST_LEN, p, POST_LEN);
}

/* Appends n postings to out, less the dead. */
static void merge_copy(uint8_t *out, const uint8_t *p, size_t n, struct dead_set *ds, size_t *m)
{
	if (ds->n == 0) {
		memcpy(out + *m * POST_LEN, p, n * POST_LEN);
		*m += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		merge_one(out, p + i * POST_LEN, ds, m);
}

/* How many of the n postings at p come before v, p[0] included: galloping from the start. */
static size_t post_before(const uint8_t *p, size_t n, const uint8_t *v)
{
	size_t lo = 1, hi = 2;

	while (hi < n && post_cmp(p + hi * POST_LEN, v) < 0) {
		lo = hi + 1;
		hi *= 2;
	}
	if (hi > n)
		hi = n;
	while (lo < hi) { /* p[lo - 1] < v; the answer is in [lo, hi] */
		size_t mid = (lo + hi) / 2;

		if (post_cmp(p + mid * POST_LEN, v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Merges the postings of the readers in[] into out, less the dead; *m
 * receives how many. A version's postings are all in one segment, so no
 * two runs share one. Segments mostly span different times, so the run
 * with the newest posting is copied in one piece, up to the next run's
 * newest.
 */
static void merge_term(const struct reader *r, const int *in, size_t k, struct dead_set *ds,
                       uint8_t *out, size_t *m)
{
	size_t pos[SEGS_MAX] = {0};

	*m = 0;
	for (;;) {
		const uint8_t *p = NULL, *q = NULL;
		size_t best = 0, n;

		for (size_t i = 0; i < k; i++) {
			const uint8_t *h = r[i].post + pos[i] * POST_LEN;

			if (!in[i] || pos[i] == r[i].n)
				continue;
			if (!p || post_cmp(h, p) < 0) {
				q = p;
				p = h;
				best = i;
			} else if (!q || post_cmp(h, q) < 0) {
				q = h;
			}
		}
		if (!p)
			return;
		n = r[best].n - pos[best];
		if (q)
			n = post_before(p, n, q);
		merge_copy(out, p, n, ds, m);
		pos[best] += n;
	}
}

/* Which readers are on the lowest term, in one pass: in[i], and the lowest. */
static const struct reader *merge_low(const struct reader *r, size_t k, int *in)
{
	const struct reader *low = NULL;

	for (size_t i = 0; i < k; i++) {
		int cmp = -1;

		in[i] = 0;
		if (r[i].done)
			continue;
		if (low)
			cmp = term_cmp(r[i].term, r[i].tlen, low->term, low->tlen);
		if (cmp < 0) {
			memset(in, 0, i * sizeof(*in));
			low = &r[i];
		}
		in[i] = cmp <= 0;
	}
	return low;
}

/* Deletes a segment's blocks and its catalog entry. */
static int seg_drop(struct index *ix, MDB_txn *txn, MDB_cursor *c, uint32_t seg)
{
	uint8_t k4[4];
	int rc;

	be32_put(k4, seg);
	for (;;) {
		MDB_val k = {4, k4}, v;

		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || memcmp(k.mv_data, k4, 4))))
			break;
		if (rc != 0 || (rc = mdb_cursor_del(c, 0)) != 0)
			return rc;
	}
	return mdb_del(txn, ix->segs, &(MDB_val){4, k4}, NULL);
}

/* The merge proper: one pass over the k readers in term order. */
static int merge_pass(MDB_cursor *c, struct reader *r, size_t k, struct writer *w,
                      struct dead_set *ds)
{
	uint8_t term[TERM_MAX];
	int in[SEGS_MAX], rc = 0;

	for (size_t i = 0; i < k && rc == 0; i++)
		rc = reader_next(&r[i], c);
	while (rc == 0) {
		const struct reader *low = merge_low(r, k, in);
		size_t tlen, total = 0, m;
		uint8_t *out;

		if (!low)
			break;
		tlen = low->tlen;
		memcpy(term, low->term, tlen);
		for (size_t i = 0; i < k; i++)
			total += in[i] ? r[i].n : 0;
		if ((rc = writer_begin(w, term, tlen, total, &out)) != 0)
			break;
		merge_term(r, in, k, ds, out, &m);
		writer_end(w, m);
		for (size_t i = 0; i < k && rc == 0; i++)
			if (in[i])
				rc = reader_next(&r[i], c);
	}
	return rc == 0 ? writer_emit(w) : rc;
}

/* Merges segments in[0..k) into a new segment seg, and forgets the dead it dropped. */
static int merge(struct index *ix, MDB_txn *txn, const struct seginfo *in, size_t k, uint32_t seg)
{
	struct reader *r = calloc(k, sizeof(*r));
	struct writer w = {txn, ix->blocks, {0}, {0}, 0, NULL, 0, 0, 0};
	struct seginfo out = {seg, 0, 0, UINT32_MAX, 0};
	struct dead_set ds = {0};
	MDB_cursor *c = NULL;
	int rc;

	if (!r)
		return ENOMEM;
	be32_put(w.seg, seg);
	for (size_t i = 0; i < k; i++) {
		be32_put(r[i].seg, in[i].seg);
		out.lo = in[i].lo < out.lo ? in[i].lo : out.lo;
		out.hi = in[i].hi > out.hi ? in[i].hi : out.hi;
	}
	if ((rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0 ||
	    (rc = dead_load(ix, txn, out.lo, out.hi, &ds)) != 0 ||
	    (rc = merge_pass(c, r, k, &w, &ds)) != 0)
		goto out;
	out.npost = w.npost;
	if (w.npost && (rc = catalog_put(ix, txn, &out)) != 0)
		goto out;
	for (size_t i = 0; i < k && rc == 0; i++)
		rc = seg_drop(ix, txn, c, in[i].seg);
	for (size_t i = 0; i < ds.n && rc == 0; i++) {
		uint8_t dk[4];

		be32_put(dk, ds.d[i]);
		if (ds.seen[i])
			rc = mdb_del(txn, ix->dead, &(MDB_val){4, dk}, NULL);
	}
out:
	mdb_cursor_close(c);
	for (size_t i = 0; i < k; i++)
		free(r[i].blk);
	free(r);
	free(w.buf);
	dead_free(&ds);
	return rc;
}

static int seginfo_cmp(const void *a, const void *b)
{
	const struct seginfo *x = a, *y = b;

	return (x->npost > y->npost) - (x->npost < y->npost);
}

/*
 * Picks the segments to merge next: those of the lowest tier that holds
 * FANIN or more; or, should tiers ever be so many that the catalog fills
 * half its room, the FANIN smallest. Returns how many, 0 for none.
 */
static size_t merge_pick(const struct seginfo *cat, size_t ncat, struct seginfo *pick)
{
	int tier = -1, count[64] = {0};
	size_t n = 0;

	for (size_t i = 0; i < ncat; i++)
		if (cat[i].tier < 64 && ++count[cat[i].tier] >= FANIN &&
		    (tier < 0 || cat[i].tier < tier))
			tier = cat[i].tier;
	for (size_t i = 0; tier >= 0 && i < ncat; i++)
		if (cat[i].tier == tier)
			pick[n++] = cat[i];
	if (n == 0 && ncat > SEGS_MAX / 2) {
		memcpy(pick, cat, ncat * sizeof(*cat));
		qsort(pick, ncat, sizeof(*pick), seginfo_cmp);
		n = FANIN;
	}
	return n;
}

/* Merges segments while merge_pick finds some. */
static int merge_tiers(struct index *ix, MDB_txn *txn)
{
	struct seginfo cat[SEGS_MAX], pick[SEGS_MAX];
	size_t ncat, npick;
	int rc;

	for (;;) {
		if ((rc = catalog_load(ix, txn, cat, &ncat)) != 0)
			return rc;
		if ((npick = merge_pick(cat, ncat, pick)) == 0)
			return 0;
		if ((rc = merge(ix, txn, pick, npick, cat[ncat - 1].seg + 1)) != 0)
			return rc;
	}
}

/* ---- flush ---- */

static int pterm_cmp(const void *a, const void *b, void *arg)
{
	const struct index *ix = arg;
	const struct pterm *x = &ix->terms[*(const uint32_t *)a];
	const struct pterm *y = &ix->terms[*(const uint32_t *)b];

	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	if (x->pfx2 != y->pfx2)
		return x->pfx2 < y->pfx2 ? -1 : 1;
	if (x->len <= 16 || y->len <= 16)
		return (x->len > y->len) - (x->len < y->len);
	return term_cmp((const uint8_t *)ix->arena + x->off + 16, x->len - 16U,
	                (const uint8_t *)ix->arena + y->off + 16, y->len - 16U);
}

static int qdoc_cmp(const void *a, const void *b, void *arg)
{
	const struct qdoc *d = arg;

	return post_cmp(d[*(const uint32_t *)a].val, d[*(const uint32_t *)b].val);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Puts the queued terms in byte order into order: a radix sort of their
 * 8-byte prefixes, copied beside their numbers so that each pass reads
 * them in turn, then a comparison sort of each run of equal prefixes.
 */
static void sort_terms(struct index *ix)
{
	struct tkey *k = ix->keys, *tmp = ix->ktmp, *swap;
	size_t n = ix->nterms;

	for (size_t i = 0; i < n; i++)
		k[i] = (struct tkey){ix->terms[i].pfx, (uint32_t)i};
	for (int shift = 0; n && shift < 64; shift += 8) {
		size_t count[256] = {0}, acc = 0;

		for (size_t i = 0; i < n; i++)
			count[k[i].pfx >> shift & 0xff]++;
		if (count[k[0].pfx >> shift & 0xff] == n)
			continue; /* every prefix has this byte */
		for (size_t b = 0; b < 256; b++) {
			size_t c = count[b];

			count[b] = acc;
			acc += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[k[i].pfx >> shift & 0xff]++] = k[i];
		swap = k;
		k = tmp;
		tmp = swap;
	}
	for (size_t i = 0; i < n; i++)
		ix->order[i] = k[i].t;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && k[j].pfx == k[i].pfx;)
			j++;
		if (j - i > 1)
			qsort_r(ix->order + i, j - i, sizeof(*ix->order), pterm_cmp, ix);
	}
}

/* The queued docs in posting order, newest first; those killed since are marked. */
static int sort_docs(struct index *ix)
{
	if (grow((void **)&ix->dorder, &ix->dorder_cap, ix->ndocs, sizeof(uint32_t)))
		return ENOMEM;
	for (size_t i = 0; i < ix->ndocs; i++)
		ix->dorder[i] = (uint32_t)i;
	qsort_r(ix->dorder, ix->ndocs, sizeof(uint32_t), qdoc_cmp, ix->docs);
	if (ix->nkilled)
		qsort(ix->killed, ix->nkilled, sizeof(uint32_t), u32_cmp);
	for (size_t i = 0; ix->nkilled && i < ix->ndocs; i++)
		ix->docs[i].killed = u32_find(ix->killed, ix->nkilled, ix->docs[i].docno) >= 0;
	return 0;
}

static size_t doc_begin(const struct index *ix, size_t d)
{
	return d ? ix->docs[d - 1].end : 0;
}

static int flush_alloc(struct index *ix)
{
	uint32_t *p;
	struct tkey *k;

	if (grow((void **)&ix->order, &ix->scratch_cap, ix->nterms, sizeof(uint32_t)) ||
	    !(p = realloc(ix->start, ix->scratch_cap * sizeof(uint32_t))))
		return ENOMEM;
	ix->start = p;
	if (!(k = realloc(ix->keys, ix->scratch_cap * sizeof(*k))))
		return ENOMEM;
	ix->keys = k;
	if (!(k = realloc(ix->ktmp, ix->scratch_cap * sizeof(*k))))
		return ENOMEM;
	ix->ktmp = k;
	return grow((void **)&ix->grp, &ix->grp_cap, ix->nops, sizeof(uint32_t));
}

/*
 * Groups the live docs by term (a counting sort), the terms in byte order
 * and each term's docs in posting order, as they are placed in that order:
 * no list needs sorting. Afterwards start[t] is the end of t's group in grp.
 */
static int flush_group(struct index *ix)
{
	uint32_t *start;
	size_t acc = 0;
	int rc;

	if ((rc = flush_alloc(ix)) != 0)
		return rc;
	start = ix->start;
	for (size_t t = 0; t < ix->nterms; t++)
		start[t] = 0;
	sort_terms(ix);
	for (size_t d = 0; d < ix->ndocs; d++)
		for (size_t i = doc_begin(ix, d); !ix->docs[d].killed && i < ix->docs[d].end; i++)
			start[ix->ops[i]]++;
	for (size_t r = 0; r < ix->nterms; r++) {
		size_t cnt = start[ix->order[r]];

		start[ix->order[r]] = (uint32_t)acc;
		acc += cnt;
	}
	for (size_t k = 0; k < ix->ndocs; k++) {
		uint32_t d = ix->dorder[k];

		for (size_t i = doc_begin(ix, d); !ix->docs[d].killed && i < ix->docs[d].end; i++)
			ix->grp[start[ix->ops[i]]++] = d;
	}
	return 0;
}

/* One term's postings: its group of docs, in order. */
static int flush_term(struct index *ix, struct writer *w, const struct pterm *pt, const uint32_t *g,
                      size_t n)
{
	uint8_t *out;
	int rc;

	if ((rc = writer_begin(w, ix->arena + pt->off, pt->len, n, &out)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * POST_LEN, ix->docs[g[i]].val, POST_LEN);
	writer_end(w, n);
	return 0;
}

int index_flush(struct index *ix, MDB_txn *txn)
{
	struct seginfo cat[SEGS_MAX];
	struct writer w = {txn, ix->blocks, {0}, {0}, 0, NULL, 0, 0, 0};
	size_t ncat, begin = 0;
	int rc = 0;

	if (ix->ndocs == 0)
		goto out;
	if ((rc = sort_docs(ix)) != 0 || (rc = flush_group(ix)) != 0 ||
	    (rc = catalog_load(ix, txn, cat, &ncat)) != 0)
		goto out;
	be32_put(w.seg, ncat ? cat[ncat - 1].seg + 1 : 1);
	for (size_t r = 0; r < ix->nterms && rc == 0; r++) {
		uint32_t t = ix->order[r];

		rc = flush_term(ix, &w, &ix->terms[t], ix->grp + begin, ix->start[t] - begin);
		begin = ix->start[t];
	}
	if (rc == 0)
		rc = writer_emit(&w);
	if (rc == 0 && w.npost) {
		struct seginfo si = {be32_get(w.seg), 0, w.npost, ix->first_docno, ix->last_docno};

		rc = catalog_put(ix, txn, &si);
	}
	if (rc == 0)
		rc = merge_tiers(ix, txn);
out:
	free(w.buf);
	index_reset(ix);
	return rc;
}

struct index *index_open(MDB_txn *txn)
{
	struct index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	if (mdb_dbi_open(txn, "segs", MDB_CREATE, &ix->segs) != 0 ||
	    mdb_dbi_open(txn, "blocks", MDB_CREATE, &ix->blocks) != 0 ||
	    mdb_dbi_open(txn, "dead", MDB_CREATE, &ix->dead) != 0) {
		free(ix);
		return NULL;
	}
	(void)ag_fold_words("", 0, NULL, NULL); /* builds the fold table now, not in a search */
	return ix;
}

void index_free(struct index *ix)
{
	if (!ix)
		return;
	free(ix->arena);
	free(ix->terms);
	free(ix->slots);
	free(ix->docs);
	free(ix->ops);
	free(ix->scratch);
	free(ix->order);
	free(ix->start);
	free(ix->keys);
	free(ix->ktmp);
	free(ix->grp);
	free(ix->dorder);
	free(ix->killed);
	free(ix);
}

/* ---- search ---- */

/* A term's postings in one segment, and how far a search has read them. */
struct run {
	const uint8_t *p;
	size_t n, i;
};

/* Finds term in segment seg: *run is empty if the segment lacks it. */
static int seg_find(MDB_cursor *c, uint32_t seg, const void *term, size_t tlen, struct run *run)
{
	uint8_t kb[SEGKEY_MAX];
	MDB_val k = {4 + tlen, kb}, v;
	size_t pos = 0;
	int rc;

	*run = (struct run){NULL, 0, 0};
	be32_put(kb, seg);
	memcpy(kb + 4, term, tlen);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc != 0 || k.mv_size != 4 + tlen || memcmp(k.mv_data, kb, 4 + tlen) != 0) {
		/* The block that holds it starts before it. */
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
		if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || memcmp(k.mv_data, kb, 4))))
			return 0;
		if (rc != 0)
			return rc;
	}
	while (pos < v.mv_size) {
		const uint8_t *t, *post;
		size_t tl;
		uint32_t n;
		int cmp;

		if ((rc = entry_parse(v.mv_data, v.mv_size, &pos, &t, &tl, &post, &n)) != 0)
			return rc;
		if ((cmp = term_cmp(t, tl, term, tlen)) == 0) {
			*run = (struct run){post, n, 0};
			return 0;
		}
		if (cmp > 0)
			break;
	}
	return 0;
}

/* Moves r to its first posting at or after cand, galloping: cand only grows. */
static void run_seek(struct run *r, const uint8_t *cand)
{
	size_t lo = r->i, step = 1, hi;

	if (lo >= r->n || post_cmp(r->p + lo * POST_LEN, cand) >= 0)
		return;
	while (lo + step < r->n && post_cmp(r->p + (lo + step) * POST_LEN, cand) < 0) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < r->n ? lo + step : r->n;
	lo++; /* p[lo - 1] < cand; the answer is in [lo, hi] */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (post_cmp(r->p + mid * POST_LEN, cand) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->i = lo;
}

struct qterm {
	char key[TERM_MAX];
	size_t len;
	struct run *runs;
	size_t nruns;
	size_t count;
};

struct query {
	struct qterm t[INDEX_WORDS_MAX + 4];
	size_t n;
};

/* The term's first posting at or after cand, over all its segments. */
static const uint8_t *qterm_seek(struct qterm *t, const uint8_t *cand)
{
	const uint8_t *best = NULL;

	for (size_t i = 0; i < t->nruns; i++) {
		struct run *r = &t->runs[i];

		run_seek(r, cand);
		if (r->i < r->n && (!best || post_cmp(r->p + r->i * POST_LEN, best) < 0))
			best = r->p + r->i * POST_LEN;
	}
	return best;
}

/* The posting just after v: v + 1 as a 80-bit number; 0 when v is the last one. */
static int posting_succ(uint8_t v[static POST_LEN])
{
	for (int i = POST_LEN - 1; i >= 0; i--)
		if (++v[i] != 0)
			return 1;
	return 0;
}

static int query_term(const char *t, size_t len, void *arg)
{
	struct query *q = arg;

	for (size_t i = 0; i < q->n; i++)
		if (q->t[i].len == len && memcmp(q->t[i].key, t, len) == 0)
			return 0;
	if (q->n == INDEX_WORDS_MAX)
		return EINVAL;
	memcpy(q->t[q->n].key, t, len);
	q->t[q->n++].len = len;
	return 0;
}

static void query_filter(struct query *q, char kind, const void *v, size_t n)
{
	q->t[q->n].len = term_make(q->t[q->n].key, kind, v, n);
	q->n++;
}

static int query_build(struct query *q, const struct index_query *iq)
{
	size_t tlen = iq->text ? strlen(iq->text) : 0;
	int rc;

	if (tlen > INDEX_TEXT_MAX || (iq->type && strlen(iq->type) > AG_TYPE_MAX) ||
	    (iq->topic && strlen(iq->topic) > INDEX_TOPIC_MAX))
		return EINVAL;
	if ((rc = ag_fold_words(iq->text ? iq->text : "", tlen, query_term, q)) != 0)
		return rc;
	if (tlen > 0 && q->n == 0)
		return MDB_NOTFOUND; /* text, but no word in it: nothing can match */
	if (iq->type)
		query_filter(q, 't', iq->type, strlen(iq->type));
	if (iq->author)
		query_filter(q, 'a', iq->author, AG_PK_LEN);
	if (iq->topic)
		query_filter(q, 'p', iq->topic, strlen(iq->topic));
	if (q->n == 0)
		query_filter(q, '*', "", 0);
	return 0;
}

/* Each term's runs in every segment; MDB_NOTFOUND if a term is nowhere. */
static int query_runs(const struct index *ix, MDB_txn *txn, struct query *q, struct run *runs,
                      const struct seginfo *cat, size_t ncat)
{
	MDB_cursor *c;
	int rc = 0;

	if ((rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0)
		return rc;
	for (size_t i = 0; i < q->n && rc == 0; i++) {
		struct qterm *t = &q->t[i];

		t->runs = runs + i * ncat;
		for (size_t s = 0; s < ncat && rc == 0; s++) {
			if ((rc = seg_find(c, cat[s].seg, t->key, t->len, &t->runs[t->nruns])) != 0)
				break;
			t->count += t->runs[t->nruns].n;
			t->nruns += t->runs[t->nruns].n > 0;
		}
		if (rc == 0 && t->count == 0)
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close(c);
	return rc;
}

static int qterm_cmp(const void *a, const void *b)
{
	const struct qterm *x = a, *y = b;

	return (x->count > y->count) - (x->count < y->count);
}

static int is_dead(const struct index *ix, MDB_txn *txn, uint32_t docno, int *dead)
{
	uint8_t k[4];
	MDB_val key = {4, k}, v;
	int rc;

	be32_put(k, docno);
	rc = mdb_get(txn, ix->dead, &key, &v);
	*dead = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Intersects the lists by leapfrogging: the candidate is the rarest term's
 * posting; each other term seeks to it, and one that lands past it makes its
 * landing the new candidate. The cost follows the shortest list, not the sum.
 */
static int zigzag(const struct index *ix, MDB_txn *txn, struct query *q, size_t limit,
                  index_hit_fn *fn, void *arg, size_t *hits)
{
	uint8_t cand[POST_LEN] = {0};
	const uint8_t *v;
	int rc, dead;

	for (;;) {
		if (!(v = qterm_seek(&q->t[0], cand)))
			return 0;
		memcpy(cand, v, POST_LEN);
		for (size_t i = 1; i < q->n; i++) {
			if (!(v = qterm_seek(&q->t[i], cand)))
				return 0;
			if (post_cmp(v, cand) == 0)
				continue;
			memcpy(cand, v, POST_LEN);
			if (!(v = qterm_seek(&q->t[0], cand)))
				return 0;
			memcpy(cand, v, POST_LEN);
			i = 0;
		}
		if ((rc = is_dead(ix, txn, posting_docno(cand), &dead)) != 0)
			return rc;
		if (!dead &&
		    (++*hits, fn(posting_docno(cand), arg) != 0 || (limit && *hits >= limit)))
			return 0;
		if (!posting_succ(cand))
			return 0;
	}
}

int index_search(const struct index *ix, MDB_txn *txn, const struct index_query *iq,
                 index_hit_fn *fn, void *arg, size_t *hits)
{
	struct query *q = calloc(1, sizeof(*q));
	struct seginfo cat[SEGS_MAX];
	struct run *runs = NULL;
	size_t ncat = 0;
	int rc;

	*hits = 0;
	if (!q)
		return ENOMEM;
	if ((rc = query_build(q, iq)) != 0 || (rc = catalog_load(ix, txn, cat, &ncat)) != 0)
		goto out;
	if (!(runs = calloc(q->n * (ncat ? ncat : 1), sizeof(*runs)))) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = query_runs(ix, txn, q, runs, cat, ncat)) != 0)
		goto out;
	qsort(q->t, q->n, sizeof(q->t[0]), qterm_cmp);
	rc = zigzag(ix, txn, q, iq->limit, fn, arg, hits);
out:
	free(runs);
	free(q);
	return rc == MDB_NOTFOUND ? 0 : rc; /* a word that no record holds */
}

/* ---- checks ---- */

struct check_arg {
	const struct index *ix;
	MDB_cursor *c;
	const struct seginfo *cat;
	size_t ncat;
	uint8_t val[POST_LEN];
	char (*seen)[TERM_MAX + 1]; /* terms already counted: [0] is the length */
	size_t nseen, cap;
	size_t present, expected;
};

static int run_has(const struct run *r, const uint8_t *val)
{
	struct run x = *r;

	run_seek(&x, val);
	return x.i < x.n && memcmp(x.p + x.i * POST_LEN, val, POST_LEN) == 0;
}

static int check_term(const char *t, size_t len, void *arg)
{
	struct check_arg *a = arg;
	int rc, found = 0;

	for (size_t i = 0; i < a->nseen; i++)
		if ((size_t)a->seen[i][0] == len && memcmp(a->seen[i] + 1, t, len) == 0)
			return 0;
	if (grow((void **)&a->seen, &a->cap, a->nseen + 1, sizeof(*a->seen)))
		return ENOMEM;
	a->seen[a->nseen][0] = (char)len;
	memcpy(a->seen[a->nseen++] + 1, t, len);
	a->expected++;
	for (size_t s = 0; s < a->ncat && !found; s++) {
		struct run r;

		if ((rc = seg_find(a->c, a->cat[s].seg, t, len, &r)) != 0)
			return rc;
		found = run_has(&r, a->val);
	}
	a->present += found;
	return 0;
}

int index_doc_check(const struct index *ix, MDB_txn *txn, const struct index_doc *d,
                    size_t *present, size_t *expected)
{
	struct seginfo cat[SEGS_MAX];
	struct check_arg a = {.ix = ix, .cat = cat};
	int rc, dead;

	*present = *expected = 0;
	if ((rc = catalog_load(ix, txn, cat, &a.ncat)) != 0 ||
	    (rc = is_dead(ix, txn, d->docno, &dead)) != 0)
		return rc;
	if (dead) {
		*expected = 1; /* a current version must not be dead */
		return 0;
	}
	if ((rc = mdb_cursor_open(txn, ix->blocks, &a.c)) != 0)
		return rc;
	posting_make(a.val, d->timestamp, d->docno);
	rc = doc_terms(d, check_term, &a);
	*present = a.present;
	*expected = a.expected;
	mdb_cursor_close(a.c);
	free(a.seen);
	return rc;
}

/* Walks one segment: terms in order, postings in order, and counts the live ones. */
static int check_seg(MDB_cursor *c, uint32_t seg, const struct dead_set *ds, size_t *live,
                     uint64_t *total)
{
	struct reader r = {.started = 0};
	uint8_t last[TERM_MAX];
	size_t lastlen = 0;
	int rc;

	be32_put(r.seg, seg);
	while ((rc = reader_next(&r, c)) == 0 && !r.done) {
		if (lastlen && term_cmp(r.term, r.tlen, last, lastlen) <= 0)
			rc = MDB_CORRUPTED;
		for (uint32_t i = 0; rc == 0 && i < r.n; i++) {
			const uint8_t *p = r.post + (size_t)i * POST_LEN;

			if (i && memcmp(p - POST_LEN, p, POST_LEN) >= 0)
				rc = MDB_CORRUPTED;
			*live += u32_find(ds->d, ds->n, posting_docno(p)) < 0;
		}
		if (rc != 0)
			break;
		*total += r.n;
		memcpy(last, r.term, r.tlen);
		lastlen = r.tlen;
	}
	free(r.blk);
	return rc;
}

int index_check(const struct index *ix, MDB_txn *txn, size_t *live)
{
	struct seginfo cat[SEGS_MAX];
	struct dead_set ds = {0};
	MDB_cursor *c = NULL;
	size_t ncat;
	int rc;

	*live = 0;
	if ((rc = catalog_load(ix, txn, cat, &ncat)) != 0 ||
	    (rc = dead_load(ix, txn, 0, UINT32_MAX, &ds)) != 0 ||
	    (rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0)
		goto out;
	for (size_t s = 0; s < ncat && rc == 0; s++) {
		uint64_t total = 0;

		rc = check_seg(c, cat[s].seg, &ds, live, &total);
		if (rc == 0 && total != cat[s].npost)
			rc = MDB_CORRUPTED;
	}
out:
	mdb_cursor_close(c);
	dead_free(&ds);
	return rc;
}

int index_stats(const struct index *ix, MDB_txn *txn, size_t *postings, size_t *segments)
{
	struct seginfo cat[SEGS_MAX];
	int rc = catalog_load(ix, txn, cat, segments);

	*postings = 0;
	for (size_t i = 0; rc == 0 && i < *segments; i++)
		*postings += cat[i].npost;
	return rc;
}
