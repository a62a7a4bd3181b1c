/*
 * index_flush.c: the queue written as one new segment, its terms in byte
 * order and each term's postings in posting order, sorted without comparisons
 * where it can be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "index.h"
#include "index_internal.h"

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
 * them in turn (the counts of all eight bytes taken in one pass first),
 * then a comparison sort of each run of equal prefixes.
 */
static void sort_terms(struct index *ix)
{
	struct tkey *k = ix->keys, *tmp = ix->ktmp, *swap;
	size_t n = ix->nterms;
	uint32_t count[8][256] = {{0}};

	for (size_t i = 0; i < n; i++) {
		k[i] = (struct tkey){ix->terms[i].pfx, (uint32_t)i};
		for (int b = 0; b < 8; b++)
			count[b][k[i].pfx >> 8 * b & 0xff]++;
	}
	for (int b = 0; n && b < 8; b++) {
		uint32_t *c = count[b], acc = 0;

		if (c[k[0].pfx >> 8 * b & 0xff] == n)
			continue; /* every prefix has this byte */
		for (size_t v = 0; v < 256; v++) {
			uint32_t m = c[v];

			c[v] = acc;
			acc += m;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[k[i].pfx >> 8 * b & 0xff]++] = k[i];
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
	return grow((void **)&ix->grp, &ix->grp_cap, ix->nops, sizeof(uint32_t)) ||
	       grow((void **)&ix->grpw, &ix->grpw_cap, ix->nops, 1);
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
			ix->grpw[start[ix->ops[i]]] = ix->opw[i], ix->grp[start[ix->ops[i]]++] = d;
	}
	return 0;
}

/* One term's postings: its group of docs, in order. */
static int flush_term(struct index *ix, struct writer *w, const struct pterm *pt, const uint32_t *g,
                      const uint8_t *gw, size_t n)
{
	uint8_t *out;
	int rc;

	if ((rc = index_writer_begin(w, ix->arena + pt->off, pt->len, n, &out)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * POST_LEN, ix->docs[g[i]].val, POST_KEY),
		    out[i * POST_LEN + POST_KEY] = gw[i];
	return index_writer_end(w, n);
}

int index_flush(struct index *ix, MDB_txn *txn)
{
	struct writer w = {.txn = txn, .dbi = ix->blocks, .flags = MDB_APPEND};
	size_t begin = 0;
	uint32_t seg;
	int rc = 0;

	if (ix->ndocs == 0)
		goto out;
	if ((rc = sort_docs(ix)) != 0 || (rc = flush_group(ix)) != 0 ||
	    (rc = index_seg_next(ix, txn, &seg)) != 0)
		goto out;
	be32_put(w.seg, seg);
	for (size_t r = 0; r < ix->nterms && rc == 0; r++) {
		uint32_t t = ix->order[r];

		rc = flush_term(ix, &w, &ix->terms[t], ix->grp + begin, ix->grpw + begin,
		                ix->start[t] - begin);
		begin = ix->start[t];
	}
	if (rc == 0)
		rc = index_writer_emit(&w);
	if (rc == 0 && w.npost) {
		struct seginfo si = {be32_get(w.seg), 0, w.npost, ix->first_docno, ix->last_docno};

		rc = index_catalog_put(ix, txn, &si);
	}
out:
	index_writer_free(&w);
	index_reset(ix);
	return rc;
}
