/*
 * index_seg.c: segments: the catalog, blocks written and read in term order,
 * the dead docnos, merging by tiers, and finding a term's postings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "index.h"
#include "index_internal.h"

/* Tiers by size: 64 postings, 64 * FANIN, 64 * FANIN^2 and so on each start a tier. */
static int tier_of(uint64_t npost)
{
	int t = 0;

	for (uint64_t n = npost / 64; n >= FANIN; n /= FANIN)
		t++;
	return t;
}

int index_catalog_put(struct index *ix, MDB_txn *txn, const struct seginfo *si)
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
int index_catalog_load(const struct index *ix, MDB_txn *txn, struct seginfo *out, size_t *n)
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

int index_writer_emit(struct writer *w)
{
	MDB_val k = {w->klen, w->key}, v = {w->len, w->buf};

	if (w->len == 0)
		return 0;
	w->written += w->len + w->klen;
	w->len = 0;
	return mdb_put(w->txn, w->dbi, &k, &v, w->flags);
}

/* Starts term's entry, its n postings to be put in place, whole, at *post. */
int index_writer_begin(struct writer *w, const void *term, size_t tlen, size_t n, uint8_t **post)
{
	if (grow((void **)&w->post, &w->post_cap, n * POST_LEN, 1))
		return ENOMEM;
	memcpy(w->term, term, tlen);
	w->tlen = tlen;
	*post = w->post;
	return 0;
}

/*
 * Ends the entry begun last with its m postings, encoded into the block, or
 * into a new one when it would pass BLOCK_MAX; with none, there is no entry.
 */
int index_writer_end(struct writer *w, size_t m)
{
	size_t len;
	int rc;

	if (m == 0)
		return 0;
	if (grow((void **)&w->enc, &w->enc_cap, ENTRY_MAX(w->tlen, m), 1))
		return ENOMEM;
	len = index_entry_encode(w->enc, w->term, w->tlen, w->post, m);
	if (w->len > 0 && w->len + len > BLOCK_MAX && (rc = index_writer_emit(w)) != 0)
		return rc;
	if (grow((void **)&w->buf, &w->cap, w->len + len, 1))
		return ENOMEM;
	if (w->len == 0) {
		memcpy(w->key, w->seg, 4);
		memcpy(w->key + 4, w->term, w->tlen);
		w->klen = 4 + w->tlen;
	}
	memcpy(w->buf + w->len, w->enc, len);
	w->len += len;
	w->npost += m;
	return 0;
}

void index_writer_free(struct writer *w)
{
	free(w->buf);
	free(w->post);
	free(w->enc);
}

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

/* The entry at the reader's place in its block, its postings decoded. */
static int reader_entry(struct reader *r)
{
	struct entry e;
	int rc;

	if ((rc = index_entry_parse(r->blk, r->blen, &r->pos, &e)) != 0)
		return rc;
	if (grow((void **)&r->post, &r->post_cap, (size_t)e.n * POST_LEN, 1))
		return ENOMEM;
	r->term = e.term;
	r->tlen = e.tlen;
	r->n = e.n;
	return index_entry_postings(&e, r->post);
}

int index_reader_next(struct reader *r, MDB_cursor *c)
{
	int rc;

	while (!r->done && r->pos >= r->blen)
		if ((rc = reader_load(r, c)) != 0)
			return rc;
	if (r->done)
		return 0;
	return reader_entry(r);
}

/* The dead docnos from lo to hi: only those a merge of segments holding that range can meet. */
int index_dead_load(const struct index *ix, MDB_txn *txn, uint32_t lo, uint32_t hi,
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

void index_dead_free(struct dead_set *ds)
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

/*
 * How many of the n postings at p come before v, p[0] included: all of them
 * when the last does (segments mostly span different times), or else
 * galloping from the start.
 */
static size_t post_before(const uint8_t *p, size_t n, const uint8_t *v)
{
	size_t lo = 1, hi = 2;

	if (post_cmp(p + (n - 1) * POST_LEN, v) < 0)
		return n;
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
 * A merge's readers in order of what each is on, a term or a posting: a
 * binary heap of their numbers, O(log k) a step where a scan of all k
 * readers took O(k). Each node holds its key's first 16 bytes, big endian
 * and zero padded, so that most comparisons are of integers: terms are
 * read beyond that only when both are longer.
 */
struct hnode {
	uint64_t k0, k1;
	uint8_t len; /* a term's; 0 for a posting, whose 10 bytes are in k0 and k1 */
	uint8_t i;   /* the reader's number: below SEGS_MAX */
	uint8_t end; /* the reader is at its end: after every term */
};

_Static_assert(SEGS_MAX <= 256, "a merge's readers are numbered in a byte");

struct heap {
	struct hnode n[SEGS_MAX];
	size_t len;
	const struct reader *r; /* the readers, whose terms hold what the keys do not */
};

/* Orders two nodes by their keys: terms in byte order, postings in posting order. */
static inline int hnode_cmp(const struct heap *h, const struct hnode *a, const struct hnode *b)
{
	if (a->end != b->end)
		return a->end - b->end;
	if (a->k0 != b->k0)
		return a->k0 < b->k0 ? -1 : 1;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->len <= 16 || b->len <= 16) /* one is the other's first bytes, or they are equal */
		return (a->len > b->len) - (a->len < b->len);
	return term_cmp(h->r[a->i].term + 16, a->len - 16U, h->r[b->i].term + 16, b->len - 16U);
}

static inline int hnode_before(const struct heap *h, const struct hnode *a, const struct hnode *b)
{
	int c = hnode_cmp(h, a, b);

	return c ? c < 0 : a->i < b->i;
}

/* Moves the node at `at` down to its place. */
static void heap_down(struct heap *h, size_t at)
{
	struct hnode x = h->n[at];

	for (size_t c; (c = 2 * at + 1) < h->len; at = c) {
		if (c + 1 < h->len && hnode_before(h, &h->n[c + 1], &h->n[c]))
			c++;
		if (!hnode_before(h, &h->n[c], &x))
			break;
		h->n[at] = h->n[c];
	}
	h->n[at] = x;
}

static void heap_push(struct heap *h, struct hnode x)
{
	size_t at = h->len++;

	for (; at > 0 && hnode_before(h, &x, &h->n[(at - 1) / 2]); at = (at - 1) / 2)
		h->n[at] = h->n[(at - 1) / 2];
	h->n[at] = x;
}

static void heap_pop(struct heap *h)
{
	h->n[0] = h->n[--h->len];
	if (h->len)
		heap_down(h, 0);
}

/* The node behind the root: the second in order. The heap holds two nodes or more. */
static const struct hnode *heap_second(const struct heap *h)
{
	return h->len > 2 && hnode_before(h, &h->n[2], &h->n[1]) ? &h->n[2] : &h->n[1];
}

static struct hnode term_node(const struct reader *r, size_t i)
{
	const char *t = (const char *)r->term;

	if (r->done)
		return (struct hnode){.i = (uint8_t)i, .end = 1};
	return (struct hnode){term_prefix(t, r->tlen, 0), term_prefix(t, r->tlen, 8),
	                      (uint8_t)r->tlen, (uint8_t)i, 0};
}

static struct hnode post_node(const uint8_t *p, size_t i)
{
	return (struct hnode){be64_get(p), (uint64_t)p[8] << 8 | p[9], 0, (uint8_t)i, 0};
}

/*
 * The readers on the lowest term, without taking them out of the heap:
 * the root and those of its descendants equal to it (no node is lower than
 * its parent), a subtree at the top. Their places, parents before
 * children, into at[], their numbers into in[]; returns how many.
 */
static size_t heap_lowest(const struct heap *h, uint8_t *in, uint8_t *at)
{
	size_t k = 1;

	at[0] = 0;
	for (size_t q = 0; q < k; q++)
		for (size_t c = 2 * at[q] + 1; c <= 2 * at[q] + 2U && c < h->len; c++)
			if (hnode_cmp(h, &h->n[c], &h->n[0]) == 0)
				at[k++] = (uint8_t)c;
	for (size_t j = 0; j < k; j++)
		in[j] = h->n[at[j]].i;
	return k;
}

/* The first posting of reader i that is not yet merged. */
static const uint8_t *run_head(const struct reader *r, const size_t *pos, size_t i)
{
	return r[i].post + pos[i] * POST_LEN;
}

/*
 * Merges the postings of the k readers in[] into out, less the dead, as
 * merge_heap does, through a list of the readers sorted by their next
 * posting: for the few segments of one tier, where a run that is not used
 * up mostly moves down one place (segments that tie at their ends), or
 * never goes back at all (segments that follow one another).
 */
static void merge_list(const struct reader *r, const uint8_t *in, size_t k, struct dead_set *ds,
                       uint8_t *out, size_t *m)
{
	uint8_t order[SEGS_MAX];
	size_t pos[SEGS_MAX], first = 0, n = 0;

	for (size_t j = 0; j < k; j++) { /* by insertion; a run that a merge keeps is never empty */
		size_t at = n;

		pos[in[j]] = 0;
		if (r[in[j]].n == 0)
			continue;
		for (; at > 0 && post_cmp(r[in[j]].post, run_head(r, pos, order[at - 1])) < 0; at--)
			order[at] = order[at - 1];
		order[at] = in[j];
		n++;
	}
	while (first < n) {
		size_t b = order[first], len = r[b].n - pos[b], at = first;
		const uint8_t *p = run_head(r, pos, b);

		if (first + 1 < n)
			len = post_before(p, len, run_head(r, pos, order[first + 1]));
		merge_copy(out, p, len, ds, m);
		if ((pos[b] += len) == r[b].n) {
			first++;
			continue;
		}
		for (p += len * POST_LEN;
		     at + 1 < n && post_cmp(run_head(r, pos, order[at + 1]), p) < 0; at++)
			order[at] = order[at + 1];
		order[at] = (uint8_t)b;
	}
}

/*
 * Merges the postings of the k readers in[] into out, less the dead,
 * through a heap: the run with the newest posting is copied in one piece,
 * up to the next run's newest. *m receives how many.
 */
static void merge_heap(const struct reader *r, const uint8_t *in, size_t k, struct dead_set *ds,
                       uint8_t *out, size_t *m)
{
	struct heap h; /* not zeroed: what it holds is set as it grows */
	size_t pos[SEGS_MAX];

	h.len = 0;
	h.r = NULL;
	for (size_t j = 0; j < k; j++) {
		pos[in[j]] = 0;
		if (r[in[j]].n)
			heap_push(&h, post_node(r[in[j]].post, in[j]));
	}
	while (h.len) {
		size_t b = h.n[0].i, n = r[b].n - pos[b];
		const uint8_t *p = run_head(r, pos, b);

		if (h.len > 1)
			n = post_before(p, n, run_head(r, pos, heap_second(&h)->i));
		merge_copy(out, p, n, ds, m);
		if ((pos[b] += n) == r[b].n) {
			heap_pop(&h);
		} else {
			h.n[0] = post_node(p + n * POST_LEN, b);
			heap_down(&h, 0);
		}
	}
}

/*
 * Merges the postings of the k readers in[] into out, less the dead; *m
 * receives how many. A version's postings are all in one segment, so no
 * two runs share one. A merge of a tier's segments keeps them in a sorted
 * list, cheaper than a heap for so few; one of many segments (index_merge_all)
 * in a heap.
 */
static void merge_term(const struct reader *r, const uint8_t *in, size_t k, struct dead_set *ds,
                       uint8_t *out, size_t *m)
{
	*m = 0;
	if (k > FANIN)
		merge_heap(r, in, k, ds, out, m);
	else
		merge_list(r, in, k, ds, out, m);
}

/*
 * Deletes at most *budget blocks of segment seg, counting them off *budget:
 * blocks, not bytes, since a block's overflow page is freed without being
 * copied and only its leaf, shared by a hundred blocks, is dirtied.
 */
static int blocks_drop(MDB_cursor *c, uint32_t seg, size_t *budget)
{
	uint8_t k4[4];
	int rc = 0;

	be32_put(k4, seg);
	for (; *budget > 0; (*budget)--) {
		MDB_val k = {4, k4}, v;

		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || memcmp(k.mv_data, k4, 4))))
			return 0;
		if (rc != 0 || (rc = mdb_cursor_del(c, 0)) != 0)
			return rc;
	}
	return 0;
}

/* The first segment at or past lo, and before hi, that has blocks: *seg, 0 for none. */
static int blocks_first(MDB_cursor *c, uint32_t lo, uint64_t hi, uint32_t *seg)
{
	uint8_t k4[4];
	MDB_val k = {4, k4}, v;
	int rc;

	*seg = 0;
	be32_put(k4, lo);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size >= 4 && be32_get(k.mv_data) < hi)
		*seg = be32_get(k.mv_data);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A segment with blocks that the catalog does not name: half written by a
 * merge that stopped, or replaced by a merge and not yet deleted. *seg, 0
 * for none. One look per gap between the catalog's segments.
 */
static int orphan_find(const struct index *ix, MDB_txn *txn, MDB_cursor *c, uint32_t *seg)
{
	struct seginfo cat[SEGS_MAX];
	size_t ncat;
	int rc = index_catalog_load(ix, txn, cat, &ncat);

	*seg = 0;
	for (size_t i = 0; rc == 0 && *seg == 0 && i <= ncat; i++)
		rc = blocks_first(c, i ? cat[i - 1].seg + 1 : 0,
		                  i < ncat ? cat[i].seg : UINT64_C(1) << 32, seg);
	return rc;
}

/* Deletes the blocks of segments the catalog does not name, at most *budget: *left if some remain.
 */
static int orphans_drop(struct index *ix, MDB_txn *txn, size_t budget, int *left)
{
	MDB_cursor *c;
	uint32_t seg = 0;
	int rc;

	*left = 0;
	if ((rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0)
		return rc;
	while (rc == 0 && (rc = orphan_find(ix, txn, c, &seg)) == 0 && seg)
		if ((rc = blocks_drop(c, seg, &budget)) == 0 && budget == 0) {
			*left = 1;
			break;
		}
	mdb_cursor_close(c);
	return rc;
}

int index_seg_next(const struct index *ix, MDB_txn *txn, uint32_t *seg)
{
	struct seginfo cat[SEGS_MAX];
	MDB_cursor *c;
	MDB_val k, v;
	size_t ncat;
	int rc;

	if ((rc = index_catalog_load(ix, txn, cat, &ncat)) != 0 ||
	    (rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0)
		return rc;
	*seg = ncat ? cat[ncat - 1].seg : 0;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size >= 4 && be32_get(k.mv_data) > *seg)
		*seg = be32_get(k.mv_data);
	mdb_cursor_close(c);
	(*seg)++;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A merge under way: its inputs, a reader on each, the writer of its
 * output with the block it has not written yet, and the dead docnos it
 * drops. Kept between its pieces, while other writes may flush new
 * segments and kill versions (index.h): its inputs, segments, never change
 * once written, and nothing else takes them out of the catalog; its output
 * is numbered below the segments flushed after it began, which is their
 * order in time too, and is no orphan to drop while it runs (orphans are
 * dropped only between merges).
 */
struct merge {
	struct seginfo in[SEGS_MAX], out;
	size_t k;
	struct reader r[SEGS_MAX];
	struct writer w;
	struct dead_set ds;
	struct heap terms; /* the readers by term, those at their end last */
	int primed;        /* each reader is on its first entry */
};

static void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->k; i++) {
		free(m->r[i].blk);
		free(m->r[i].post);
	}
	index_writer_free(&m->w);
	index_dead_free(&m->ds);
	free(m);
}

/*
 * Moves the readers in[] on to their next terms, and each to its place in
 * the heap from at[], children before parents: when a node goes down, the
 * heaps below it are in order (as in building a heap).
 */
static int merge_next(struct merge *m, MDB_cursor *c, const uint8_t *in, const uint8_t *at,
                      size_t k)
{
	int rc = 0;

	for (size_t j = k; j-- > 0 && rc == 0;)
		if ((rc = index_reader_next(&m->r[in[j]], c)) == 0) {
			m->terms.n[at[j]] = term_node(&m->r[in[j]], in[j]);
			heap_down(&m->terms, at[j]);
		}
	return rc;
}

/*
 * Merges the lowest term of the readers into the writer, and moves on the
 * readers that held it; *end at the inputs' end, the last block then written.
 */
static int merge_one_term(struct merge *m, MDB_cursor *c, int *end)
{
	uint8_t term[TERM_MAX], *out, in[SEGS_MAX], at[SEGS_MAX];
	size_t tlen, total = 0, k, n;
	int rc;

	if (m->terms.len == 0 || m->terms.n[0].end) {
		*end = 1;
		return index_writer_emit(&m->w);
	}
	k = heap_lowest(&m->terms, in, at);
	tlen = m->r[m->terms.n[0].i].tlen;
	memcpy(term, m->r[m->terms.n[0].i].term, tlen);
	for (size_t j = 0; j < k; j++)
		total += m->r[in[j]].n;
	if ((rc = index_writer_begin(&m->w, term, tlen, total, &out)) != 0)
		return rc;
	merge_term(m->r, in, k, &m->ds, out, &n);
	if ((rc = index_writer_end(&m->w, n)) != 0)
		return rc;
	return merge_next(m, c, in, at, k);
}

/*
 * How the merge's blocks are put: appended (MDB_APPEND, the cheaper) while
 * its output is the last segment, put in their place once a flush between
 * its pieces has written a segment after it.
 */
static int merge_put_flags(MDB_cursor *c, const struct merge *m, unsigned *flags)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_LAST);

	*flags = MDB_APPEND;
	if (rc == 0 && k.mv_size >= 4 && memcmp(k.mv_data, m->w.seg, 4) > 0)
		*flags = 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Merges terms until the piece has written its bytes or the inputs end (*end). */
static int merge_piece(struct index *ix, struct merge *m, MDB_txn *txn, int *end)
{
	size_t from = m->w.written;
	MDB_cursor *c;
	int rc = 0;

	*end = 0;
	m->w.txn = txn;
	if ((rc = mdb_cursor_open(txn, ix->blocks, &c)) != 0)
		return rc;
	if ((rc = merge_put_flags(c, m, &m->w.flags)) != 0) {
		mdb_cursor_close(c);
		return rc;
	}
	if (!m->primed) { /* the heap built as merge_next mends it, from the bottom up */
		uint8_t all[SEGS_MAX];

		for (size_t i = 0; i < m->k; i++)
			all[i] = (uint8_t)i;
		m->terms.len = m->k;
		m->terms.r = m->r;
		rc = merge_next(m, c, all, all, m->k);
		m->primed = 1;
	}
	while (rc == 0 && !*end && m->w.written - from < ix->piece)
		rc = merge_one_term(m, c, end);
	mdb_cursor_close(c);
	return rc;
}

/*
 * The merge's last step, in the transaction of its last piece: the output
 * becomes a segment and the inputs stop being ones (their blocks are
 * garbage, deleted by the pieces after), and the dead it dropped are
 * forgotten. The catalog is changed entry by entry, so segments flushed
 * while the merge ran stay in it; a version killed after the merge began is
 * not in ds, so its docno stays dead (its postings, copied, are skipped by
 * searches) until a later merge drops them.
 */
static int merge_finish(struct index *ix, struct merge *m, MDB_txn *txn)
{
	int rc = 0;

	m->out.npost = m->w.npost;
	if (m->w.npost)
		rc = index_catalog_put(ix, txn, &m->out);
	for (size_t i = 0; i < m->k && rc == 0; i++) {
		uint8_t k4[4];

		be32_put(k4, m->in[i].seg);
		rc = mdb_del(txn, ix->segs, &(MDB_val){4, k4}, NULL);
	}
	for (size_t i = 0; i < m->ds.n && rc == 0; i++) {
		uint8_t dk[4];

		be32_put(dk, m->ds.d[i]);
		if (m->ds.seen[i])
			rc = mdb_del(txn, ix->dead, &(MDB_val){4, dk}, NULL);
	}
	return rc;
}

/* Starts merging segments in[0..k) into a new segment: ix->merge. */
static int merge_start(struct index *ix, MDB_txn *txn, const struct seginfo *in, size_t k)
{
	struct merge *m = calloc(1, sizeof(*m));
	uint32_t seg;
	int rc;

	if (!m)
		return ENOMEM;
	if ((rc = index_seg_next(ix, txn, &seg)) != 0) {
		free(m);
		return rc;
	}
	m->k = k;
	m->out = (struct seginfo){seg, 0, 0, UINT32_MAX, 0};
	m->w = (struct writer){.txn = txn, .dbi = ix->blocks};
	be32_put(m->w.seg, seg);
	for (size_t i = 0; i < k; i++) {
		m->in[i] = in[i];
		be32_put(m->r[i].seg, in[i].seg);
		m->out.lo = in[i].lo < m->out.lo ? in[i].lo : m->out.lo;
		m->out.hi = in[i].hi > m->out.hi ? in[i].hi : m->out.hi;
	}
	if ((rc = index_dead_load(ix, txn, m->out.lo, m->out.hi, &m->ds)) != 0) {
		merge_free(m);
		return rc;
	}
	ix->merge = m;
	return 0;
}

static int seginfo_cmp(const void *a, const void *b)
{
	const struct seginfo *x = a, *y = b;

	return (x->npost > y->npost) - (x->npost < y->npost);
}

/*
 * Picks the segments to merge next: those of the lowest tier that holds
 * FANIN or more, the oldest 2 * FANIN at most (a bulk sync leaves hundreds
 * in a tier, and a merge of them all would keep the writer for seconds);
 * or, should tiers ever be so many that the catalog fills half its room,
 * the FANIN smallest. Returns how many, 0 for none.
 */
static size_t merge_pick(const struct seginfo *cat, size_t ncat, struct seginfo *pick)
{
	int tier = -1, count[64] = {0};
	size_t n = 0;

	for (size_t i = 0; i < ncat; i++)
		if (cat[i].tier < 64 && ++count[cat[i].tier] >= FANIN &&
		    (tier < 0 || cat[i].tier < tier))
			tier = cat[i].tier;
	for (size_t i = 0; tier >= 0 && i < ncat && n < 2 * FANIN; i++)
		if (cat[i].tier == tier)
			pick[n++] = cat[i];
	if (n == 0 && ncat > SEGS_MAX / 2) {
		memcpy(pick, cat, ncat * sizeof(*cat));
		qsort(pick, ncat, sizeof(*pick), seginfo_cmp);
		n = FANIN;
	}
	return n;
}

/* Starts the merge that the tiers call for, if any. */
static int merge_start_due(struct index *ix, MDB_txn *txn)
{
	struct seginfo cat[SEGS_MAX], pick[SEGS_MAX];
	size_t ncat, npick;
	int rc;

	if ((rc = index_catalog_load(ix, txn, cat, &ncat)) != 0)
		return rc;
	if ((npick = merge_pick(cat, ncat, pick)) == 0)
		return 0;
	return merge_start(ix, txn, pick, npick);
}

/*
 * Whether merges have fallen so far behind that they must be done before
 * more is written: INDEX_DUE_NOW when a tier holds 2 * FANIN segments (a
 * whole merge's worth waits behind the one due), or the catalog SEGS_CROWD
 * with a merge due; INDEX_DUE_FULL at SEGS_FULL. Each segment is one more
 * look in every search, and the catalog must never reach SEGS_MAX; below
 * these, a merge can wait for an idle writer. 0 when none is pressing.
 */
static int merge_pressing(const struct seginfo *cat, size_t ncat, size_t npick)
{
	int count[64] = {0};

	if (ncat >= SEGS_FULL && npick > 0)
		return INDEX_DUE_FULL;
	for (size_t i = 0; i < ncat; i++)
		if (cat[i].tier < 64 && ++count[cat[i].tier] >= 2 * FANIN)
			return INDEX_DUE_NOW;
	return ncat >= SEGS_CROWD && npick > 0 ? INDEX_DUE_NOW : 0;
}

int index_merge_due(const struct index *ix, MDB_txn *txn, int *due)
{
	struct seginfo cat[SEGS_MAX], pick[SEGS_MAX];
	size_t ncat, npick = 0;
	int rc = index_catalog_load(ix, txn, cat, &ncat);

	if (rc == 0)
		npick = merge_pick(cat, ncat, pick);
	*due = rc == 0 ? merge_pressing(cat, ncat, npick || ix->merge) : 0;
	if (rc == 0 && *due == 0 && (ix->merge || ix->due || npick > 0))
		*due = INDEX_DUE;
	return rc;
}

int index_merge_step(struct index *ix, MDB_txn *txn, int *more)
{
	int rc, end, left;

	*more = 1;
	if (!ix->merge) {
		/* Garbage first: what the last merge replaced, or what a stopped one left. */
		if ((rc = orphans_drop(ix, txn, ix->piece / 32 + 1, &left)) != 0 || left)
			return rc;
		if ((rc = merge_start_due(ix, txn)) != 0 || !ix->merge) {
			*more = 0;
			ix->due = rc != 0;
			return rc;
		}
	}
	if ((rc = merge_piece(ix, ix->merge, txn, &end)) != 0 || !end)
		return rc;
	rc = merge_finish(ix, ix->merge, txn);
	merge_free(ix->merge);
	ix->merge = NULL;
	ix->due = 1; /* its inputs' blocks to delete, and maybe another merge */
	return rc;
}

void index_merge_cancel(struct index *ix)
{
	merge_free(ix->merge);
	ix->merge = NULL;
	ix->due = 1;
}

int index_merge_all(struct index *ix, MDB_txn *txn)
{
	struct seginfo cat[SEGS_MAX];
	size_t ncat;
	int rc;

	index_merge_cancel(ix);
	if ((rc = index_catalog_load(ix, txn, cat, &ncat)) != 0 || ncat == 0)
		return rc;
	return merge_start(ix, txn, cat, ncat);
}

int index_orphans_drop(struct index *ix, MDB_txn *txn)
{
	int left;

	return orphans_drop(ix, txn, SIZE_MAX, &left);
}

void index_postbuf_free(struct postbuf *pb)
{
	for (size_t i = 0; i < pb->n; i++)
		free(pb->v[i]);
	free(pb->v);
	*pb = (struct postbuf){0};
}

/* e's postings, decoded into a buffer that pb keeps, as a run. */
static int entry_run(const struct entry *e, struct postbuf *pb, struct run *run)
{
	uint8_t *p;
	int rc;

	if (grow((void **)&pb->v, &pb->cap, pb->n + 1, sizeof(*pb->v)) ||
	    !(p = malloc((size_t)e->n * POST_LEN)))
		return ENOMEM;
	pb->v[pb->n++] = p;
	if ((rc = index_entry_postings(e, p)) != 0)
		return rc;
	*run = (struct run){p, e->n, 0};
	return 0;
}

/* Finds term in segment seg: *run is empty if the segment lacks it. */
int index_seg_find(MDB_cursor *c, uint32_t seg, const void *term, size_t tlen, struct run *run,
                   struct postbuf *pb)
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
		struct entry e;
		int cmp;

		if ((rc = index_entry_parse(v.mv_data, v.mv_size, &pos, &e)) != 0)
			return rc;
		if ((cmp = term_cmp(e.term, e.tlen, term, tlen)) == 0) {
			if (!pb) {
				run->n = e.n;
				return 0;
			}
			return entry_run(&e, pb, run);
		}
		if (cmp > 0)
			break;
	}
	return 0;
}

/* Moves r to its first posting at or after cand, galloping: cand only grows. */
void index_run_seek(struct run *r, const uint8_t *cand)
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

int index_is_dead(const struct index *ix, MDB_txn *txn, uint32_t docno, int *dead)
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
 * Calls fn with each term of segment seg that starts with prefix, in term
 * order, and its postings, until fn returns non-zero (then 0 is returned).
 */
int index_seg_prefix(MDB_cursor *c, uint32_t seg, const void *prefix, size_t plen,
                     struct postbuf *pb, index_prefix_fn *fn, void *arg)
{
	uint8_t kb[SEGKEY_MAX];
	MDB_val k = {4 + plen, kb}, v;
	MDB_cursor_op op;
	int rc;

	be32_put(kb, seg);
	memcpy(kb + 4, prefix, plen);
	/* The block before the first one at or past the prefix may hold its first terms. */
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 4 || memcmp(k.mv_data, kb, 4)))) {
		k = (MDB_val){4 + plen, kb};
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	for (op = MDB_NEXT; rc == 0; rc = mdb_cursor_get(c, &k, &v, op)) {
		size_t pos = 0;

		if (k.mv_size < 4 || memcmp(k.mv_data, kb, 4) != 0)
			return 0;
		if (k.mv_size - 4 >= plen && memcmp((uint8_t *)k.mv_data + 4, prefix, plen) > 0)
			return 0; /* the block starts past every term with the prefix */
		while (pos < v.mv_size) {
			struct entry e;
			struct run r;

			if ((rc = index_entry_parse(v.mv_data, v.mv_size, &pos, &e)) != 0)
				return rc;
			if (e.tlen >= plen && memcmp(e.term, prefix, plen) == 0) {
				if ((rc = entry_run(&e, pb, &r)) != 0)
					return rc;
				if (fn(e.term, e.tlen, r.p, e.n, arg) != 0)
					return 0;
			} else if (term_cmp(e.term, e.tlen, prefix, plen) > 0) {
				return 0;
			}
		}
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}
