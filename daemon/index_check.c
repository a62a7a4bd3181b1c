/*
 * index_check.c: checks that the index holds exactly the current versions,
 * and its statistics; for store_check and tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "index.h"
#include "index_internal.h"

struct check_arg {
	const struct index *ix;
	MDB_cursor *c;
	const struct seginfo *cat;
	size_t ncat;
	uint8_t val[POST_LEN];
	char (*seen)[TERM_MAX + 1]; /* terms already counted: [0] is the length */
	struct postbuf pb;          /* the postings of the term being looked for, freed after */
	size_t nseen, cap;
	size_t present, expected;
};

static int run_has(const struct run *r, const uint8_t *val)
{
	struct run x = *r;

	index_run_seek(&x, val);
	return x.i < x.n && memcmp(x.p + x.i * POST_LEN, val, POST_KEY) == 0;
}

static int check_term(const char *t, size_t len, unsigned weight, void *arg)
{
	(void)weight;
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

		rc = index_seg_find(a->c, a->cat[s].seg, t, len, &r, &a->pb);
		if (rc == 0)
			found = run_has(&r, a->val);
		index_postbuf_free(&a->pb);
		if (rc != 0)
			return rc;
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
	if ((rc = index_catalog_load(ix, txn, cat, &a.ncat)) != 0 ||
	    (rc = index_is_dead(ix, txn, d->docno, &dead)) != 0)
		return rc;
	if (dead) {
		*expected = 1; /* a current version must not be dead */
		return 0;
	}
	if ((rc = mdb_cursor_open(txn, ix->blocks, &a.c)) != 0)
		return rc;
	posting_make(a.val, d->timestamp, d->docno);
	rc = index_doc_terms(d, check_term, &a, NULL);
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
	while ((rc = index_reader_next(&r, c)) == 0 && !r.done) {
		if (lastlen && term_cmp(r.term, r.tlen, last, lastlen) <= 0)
			rc = MDB_CORRUPTED;
		for (uint32_t i = 0; rc == 0 && i < r.n; i++) {
			const uint8_t *p = r.post + (size_t)i * POST_LEN;

			if (i && memcmp(p - POST_LEN, p, POST_KEY) >= 0)
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
	free(r.post);
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
	if ((rc = index_catalog_load(ix, txn, cat, &ncat)) != 0 ||
	    (rc = index_dead_load(ix, txn, 0, UINT32_MAX, &ds)) != 0 ||
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
	index_dead_free(&ds);
	return rc;
}

int index_stats(const struct index *ix, MDB_txn *txn, size_t *postings, size_t *segments,
                size_t *bytes)
{
	struct seginfo cat[SEGS_MAX];
	MDB_dbi dbis[] = {ix->segs, ix->blocks, ix->dead};
	int rc = index_catalog_load(ix, txn, cat, segments);

	*postings = *bytes = 0;
	for (size_t i = 0; rc == 0 && i < *segments; i++)
		*postings += cat[i].npost;
	for (size_t i = 0; rc == 0 && i < sizeof(dbis) / sizeof(dbis[0]); i++) {
		MDB_stat s;

		if ((rc = mdb_stat(txn, dbis[i], &s)) == 0)
			*bytes += (s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages) *
			          s.ms_psize;
	}
	return rc;
}
