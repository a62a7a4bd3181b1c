/*
 * index_search.c: a query's terms, and their lists intersected by
 * leapfrogging over every segment, newest first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "index.h"
#include "index_internal.h"

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

		index_run_seek(r, cand);
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
	q->t[q->n].len = index_term_make(q->t[q->n].key, kind, v, n);
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
			if ((rc = index_seg_find(c, cat[s].seg, t->key, t->len,
			                         &t->runs[t->nruns])) != 0)
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
		if ((rc = index_is_dead(ix, txn, posting_docno(cand), &dead)) != 0)
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
	if ((rc = query_build(q, iq)) != 0 || (rc = index_catalog_load(ix, txn, cat, &ncat)) != 0)
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
