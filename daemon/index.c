/*
 * index.c: the search index (index.h): opening it, and the queue of the
 * postings that a write transaction adds, until index_flush writes them.
 *
 * The index, in its files: index_terms.c (the terms of a record),
 * index.c (the queue), index_flush.c (the queue written as a segment),
 * index_seg.c (segments: their format, reading and merging),
 * index_search.c, index_check.c; index_internal.h holds what they share.
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
 * run of entries [term length(1)][term][n][bytes][n postings], each posting
 * written as its difference from the one before (index_post.c: 3 to 5
 * bytes, not 11), appended in key order with MDB_APPEND, so a batch costs
 * what it writes, not one B-tree descent per posting. Segments of one size
 * tier are merged FANIN (16) at a time, up to 2 * FANIN when more wait,
 * once the write that filled the tier has committed, in pieces of a
 * transaction each (index.h, index_merge_step), which keeps about
 * sixteen per tier: fewer rewrites of each posting than eight at a time,
 * for a few more segments to look in. Other writes may come between the
 * pieces (the sync's appends, whose merges wait for the writer to be
 * idle, up to 2 * FANIN segments in a tier: INDEX_DUE_NOW; during a bulk
 * sync, for its end, up to SEGS_FULL segments: INDEX_DUE_FULL). The catalog
 * (segs) says which segments there are: blocks of a segment it does not
 * name are garbage.
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
#include "fold.h"
#include "index.h"
#include "index_internal.h"

/* The slots of an intern table that holds n terms at most half full. */
static size_t slots_for(size_t n)
{
	size_t cap = 4096;

	while (n * 2 >= cap)
		cap *= 2;
	return cap;
}

/* Room in the intern table for n more terms, at most half full. */
static int slots_reserve(struct index *ix, size_t n)
{
	size_t cap = slots_for(ix->nterms + n);
	struct slot *s;

	if (cap <= ix->nslots)
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
	uint64_t pfx = term_prefix(t, r->len, 0), pfx2 = term_prefix(t, r->len, 8);
	size_t i, mask = ix->nslots - 1;

	for (i = slot_first(ix, r); ix->slots[i].term; i = (i + 1) & mask) {
		const struct slot *s = &ix->slots[i];

		const struct pterm *pt = &ix->terms[s->term - 1];

		if (s->pfx == pfx && s->hl == hl &&
		    (r->len <= 8 ||
		     (pt->pfx2 == pfx2 && (r->len <= 16 || memcmp(ix->arena + pt->off + 16, t + 16,
		                                                  r->len - 16U) == 0))))
			return (long)s->term - 1;
	}
	if (grow((void **)&ix->terms, &ix->terms_cap, ix->nterms + 1, sizeof(*ix->terms)) ||
	    grow((void **)&ix->arena, &ix->arena_cap, ix->arena_len + r->len, 1))
		return -1;
	memcpy(ix->arena + ix->arena_len, t, r->len);
	ix->terms[ix->nterms] = (struct pterm){pfx, pfx2, (uint32_t)ix->arena_len, r->len};
	ix->arena_len += r->len;
	ix->slots[i] = (struct slot){pfx, hl, (uint32_t)++ix->nterms};
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
	    grow((void **)&ix->opw, &ix->opw_cap, ix->nops + l->n, 1) || slots_reserve(ix, l->n))
		return ENOMEM;
	for (i = 0, r = first; i < l->n; i++, r = tref_next(r))
		__builtin_prefetch(&ix->slots[slot_first(ix, r)]);
	for (i = 0, r = first; i < l->n; i++, r = tref_next(r)) {
		long term = term_intern(ix, r);

		if (term < 0)
			return ENOMEM;
		ix->opw[ix->nops] = (uint8_t)r->weight;
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
	if (!ix->scratch && !(ix->scratch = index_terms_new(4096)))
		return ENOMEM;
	if ((rc = index_terms_gather(d, &ix->scratch)) != 0)
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

/*
 * Empties the queue. The intern table takes the size this transaction's
 * terms needed, if it grew larger for an earlier one: a sync's
 * transactions are alike, and a table that fits them stays in the cache.
 */
void index_reset(struct index *ix)
{
	size_t want = slots_for(ix->nterms);
	struct slot *s;

	if (ix->nterms && want < ix->nslots && (s = calloc(want, sizeof(*s)))) {
		free(ix->slots);
		ix->slots = s;
		ix->nslots = want;
	} else if (ix->nterms) {
		memset(ix->slots, 0, ix->nslots * sizeof(*ix->slots));
	}
	ix->nterms = ix->ndocs = ix->nops = ix->arena_len = ix->nkilled = 0;
	ix->first_docno = ix->last_docno = 0;
}

struct index *index_open(MDB_txn *txn)
{
	struct index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	if (mdb_dbi_open(txn, "segs", MDB_CREATE, &ix->segs) != 0 ||
	    mdb_dbi_open(txn, "blocks", MDB_CREATE, &ix->blocks) != 0 ||
	    mdb_dbi_open(txn, "dead", MDB_CREATE, &ix->dead) != 0 ||
	    index_orphans_drop(ix, txn) != 0) {
		free(ix);
		return NULL;
	}
	ix->piece = INDEX_PIECE;
	ix->due = 1; /* a merge may be due that a stopped one left undone */
	(void)ag_fold_words("", 0, NULL, NULL); /* builds the fold table now, not in a search */
	return ix;
}

void index_set_piece(struct index *ix, size_t bytes)
{
	ix->piece = bytes ? bytes : 1;
}

void index_free(struct index *ix)
{
	if (!ix)
		return;
	index_merge_cancel(ix);
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
	free(ix->grpw);
	free(ix->opw);
	free(ix->dorder);
	free(ix->killed);
	free(ix);
}
