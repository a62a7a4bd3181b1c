/*
 * index_search.c: a query's words, each a choice of terms, and their lists
 * intersected by leapfrogging over every segment, newest first; with words,
 * the matches ranked by BM25.
 *
 * A query word matches a version through any of its alternatives: the word
 * itself; its stems (in the languages of its script: Arabic, or each of
 * French, English, Spanish and Italian), as stem terms and as words;
 * for the last word of 4 letters or more, or a word written "word*", every
 * word that starts with it; and the topics it names in any language
 * (index_topics.c). A version's score is, over the query's words, the sum of
 * the best alternative's idf times its posting's weight, times 1 for the
 * word, 0.6 for a stem and 0.4 for a prefix. Versions that some word matches
 * only by topic come after the others; ties go to the newest.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "fold.h"
#include "index.h"
#include "index_internal.h"
#include "stem.h"

#define SLOTS_MAX   (INDEX_WORDS_MAX + 5) /* words, then filters */
#define PREFIX_MAX  16                    /* terms a prefix stands for, per segment */
#define TOPICS_MAX  4                     /* topics one word names */
#define WORD_PREFIX 4                     /* letters of a last word that is a prefix too */

enum alt_kind { ALT_WORD, ALT_STEM, ALT_PREFIX, ALT_TOPIC, ALT_FILTER };

static const double alt_factor[] = {1.0, 0.6, 0.4, 0, 0};

/* One term that matches a query word, over all segments. */
struct alt {
	enum alt_kind kind;
	size_t count; /* its postings */
	double idf;
};

/* A term's postings in one segment, and the alternative it is of. */
struct qrun {
	struct run r;
	size_t alt;
};

/* A query word or a filter: every version found matches one of its runs. */
struct qslot {
	size_t first, nruns; /* in q->runs, and its heap in q->heap */
	size_t count;        /* postings over its runs: the rarest slot leads */
	size_t hn;           /* runs left in its heap */
	int word;
};

struct query {
	struct qslot s[SLOTS_MAX];
	size_t n, words;
	struct qrun *runs;
	size_t nruns, runs_cap;
	struct alt *alts;
	size_t nalts, alts_cap;
	uint32_t *heap; /* each slot's runs not yet read to their end, by their next posting */
	MDB_cursor *c;
	struct postbuf pb; /* the runs' postings, decoded */
	const struct seginfo *cat;
	size_t ncat;
	struct ag_stemmer *st;
};

/* A word of the query text, folded; prefix: written with a '*' after it. */
struct qword {
	char w[INDEX_WORD_MAX];
	size_t len;
	int prefix;
};

struct qwords {
	struct qword w[INDEX_WORDS_MAX];
	size_t n;
	int star; /* the token being read ends with '*' */
};

static int alt_new(struct query *q, enum alt_kind kind)
{
	if (grow((void **)&q->alts, &q->alts_cap, q->nalts + 1, sizeof(*q->alts)))
		return ENOMEM;
	q->alts[q->nalts++] = (struct alt){kind, 0, 0};
	return 0;
}

static int run_add(struct query *q, const uint8_t *post, size_t n)
{
	struct qslot *s = &q->s[q->n];

	if (grow((void **)&q->runs, &q->runs_cap, q->nruns + 1, sizeof(*q->runs)))
		return ENOMEM;
	q->runs[q->nruns++] = (struct qrun){{post, n, 0}, q->nalts - 1};
	q->alts[q->nalts - 1].count += n;
	s->nruns++;
	s->count += n;
	return 0;
}

/* Adds the term, in every segment that holds it, as an alternative of the slot being built. */
static int slot_term(struct query *q, const void *term, size_t len, enum alt_kind kind)
{
	int rc;

	if ((rc = alt_new(q, kind)) != 0)
		return rc;
	for (size_t i = 0; i < q->ncat; i++) {
		struct run r;

		if ((rc = index_seg_find(q->c, q->cat[i].seg, term, len, &r, &q->pb)) != 0)
			return rc;
		if (r.n && (rc = run_add(q, r.p, r.n)) != 0)
			return rc;
	}
	return 0;
}

struct prefix_arg {
	struct query *q;
	size_t len, terms;
};

/* Each word that starts with the prefix, but the word itself (an alternative already). */
static int prefix_term(const uint8_t *t, size_t len, const uint8_t *post, uint32_t n, void *arg)
{
	struct prefix_arg *a = arg;

	(void)t;
	if (len == a->len)
		return 0;
	if (run_add(a->q, post, n) != 0)
		return 1;
	return ++a->terms >= PREFIX_MAX;
}

static int slot_prefix(struct query *q, const char *w, size_t len)
{
	int rc;

	if ((rc = alt_new(q, ALT_PREFIX)) != 0)
		return rc;
	for (size_t i = 0; i < q->ncat; i++) {
		struct prefix_arg a = {q, len, 0};

		if ((rc = index_seg_prefix(q->c, q->cat[i].seg, w, len, &q->pb, prefix_term, &a)) !=
		    0)
			return rc;
	}
	return 0;
}

/* The stems of w, as stem terms and as words, each language's once. */
static int slot_stems(struct query *q, const char *w, size_t len)
{
	char term[AG_LANG_COUNT + 1][TERM_MAX];
	size_t n[AG_LANG_COUNT + 1], k = 0;
	int rc, arabic = ag_stem_arabic(w);

	if (arabic && (n[k] = index_stem_whole_term(q->st, w, len, term[k])) != 0)
		k++;
	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++) {
		if ((l == AG_LANG_AR) != arabic)
			continue;
		if (!(n[k] = index_stem_term(q->st, (enum ag_lang)l, w, len, term[k]))) {
			/* w is its own stem here: the records whose words stem to it. */
			term[k][0] = 2;
			memcpy(term[k] + 1, w, len);
			n[k] = len + 1;
		}
		k++;
	}
	/* Each distinct stem once, as a stem term and, unless it is w, as a word. */
	for (size_t i = 0; i < k; i++) {
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			dup |= n[j] == n[i] && memcmp(term[j], term[i], n[i]) == 0;
		if (dup)
			continue;
		if ((rc = slot_term(q, term[i], n[i], ALT_STEM)) != 0)
			return rc;
		if ((n[i] - 1 != len || memcmp(term[i] + 1, w, len) != 0) &&
		    (rc = slot_term(q, term[i] + 1, n[i] - 1, ALT_STEM)) != 0)
			return rc;
	}
	return 0;
}

static int slot_topics(struct query *q, const char *w, size_t len)
{
	const char *keys[TOPICS_MAX];
	size_t n = index_topics_named(q->st, w, len, keys, TOPICS_MAX);
	char term[TERM_MAX];
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = slot_term(q, term, index_term_make(term, 'p', keys[i], strlen(keys[i])),
		                    ALT_TOPIC)) != 0)
			return rc;
	return 0;
}

/* A word's slot: MDB_NOTFOUND when no record holds any of its alternatives. */
static int slot_word(struct query *q, const struct qword *qw, int last)
{
	int rc;

	q->s[q->n] = (struct qslot){q->nruns, 0, 0, 0, 1};
	if ((rc = slot_term(q, qw->w, qw->len, ALT_WORD)) != 0 ||
	    (!qw->prefix && (rc = slot_stems(q, qw->w, qw->len)) != 0) ||
	    ((qw->prefix || (last && ag_fold_chars(qw->w, qw->len) >= WORD_PREFIX)) &&
	     (rc = slot_prefix(q, qw->w, qw->len)) != 0) ||
	    (!qw->prefix && (rc = slot_topics(q, qw->w, qw->len)) != 0))
		return rc;
	return q->s[q->n++].count ? 0 : MDB_NOTFOUND;
}

static int slot_filter(struct query *q, char kind, const void *v, size_t n)
{
	char term[TERM_MAX];
	int rc;

	q->s[q->n] = (struct qslot){q->nruns, 0, 0, 0, 0};
	if ((rc = slot_term(q, term, index_term_make(term, kind, v, n), ALT_FILTER)) != 0)
		return rc;
	return q->s[q->n++].count ? 0 : MDB_NOTFOUND;
}

static int qword_add(const char *w, size_t len, void *arg)
{
	struct qwords *qw = arg;

	for (size_t i = 0; i < qw->n; i++)
		if (qw->w[i].len == len && memcmp(qw->w[i].w, w, len) == 0)
			return 0;
	if (qw->n == INDEX_WORDS_MAX)
		return EINVAL;
	qw->w[qw->n] = (struct qword){.len = len};
	memcpy(qw->w[qw->n++].w, w, len);
	return 0;
}

/* The query's words, token by token, so that a '*' marks the word before it. */
static int qwords_read(const char *text, struct qwords *qw)
{
	const char *p = text;
	int rc;

	while (*p) {
		size_t n = strcspn(p, " \t\n\r"), before = qw->n;

		if ((rc = ag_fold_words(p, n, qword_add, qw)) != 0)
			return rc;
		if (n && p[n - 1] == '*' && qw->n > before)
			qw->w[qw->n - 1].prefix = 1;
		p += n;
		p += strspn(p, " \t\n\r");
	}
	return 0;
}

static int query_build(struct query *q, const struct index_query *iq)
{
	size_t tlen = iq->text ? strlen(iq->text) : 0;
	struct qwords qw = {.n = 0};
	int rc;

	if (tlen > INDEX_TEXT_MAX || (iq->type && strlen(iq->type) > AG_TYPE_MAX) ||
	    (iq->topic && strlen(iq->topic) > INDEX_TOPIC_MAX) ||
	    (iq->lang && strlen(iq->lang) != 2))
		return EINVAL;
	if ((rc = qwords_read(iq->text ? iq->text : "", &qw)) != 0)
		return rc;
	if (tlen > 0 && qw.n == 0)
		return MDB_NOTFOUND; /* text, but no word in it: nothing can match */
	for (size_t i = 0; i < qw.n; i++)
		if ((rc = slot_word(q, &qw.w[i], i + 1 == qw.n)) != 0)
			return rc;
	q->words = q->n;
	if ((iq->type && (rc = slot_filter(q, 't', iq->type, strlen(iq->type))) != 0) ||
	    (iq->author && (rc = slot_filter(q, 'a', iq->author, AG_PK_LEN)) != 0) ||
	    (iq->topic && (rc = slot_filter(q, 'p', iq->topic, strlen(iq->topic))) != 0) ||
	    (iq->lang && (rc = slot_filter(q, 'l', iq->lang, 2)) != 0))
		return rc;
	if (q->n == 0)
		return slot_filter(q, '*', "", 0);
	return 0;
}

/* Each alternative's idf, BM25's, from how many versions hold it among all. */
static int query_idf(struct query *q)
{
	char all[] = TERM_ALL;
	double n = 0;
	int rc;

	for (size_t i = 0; i < q->ncat; i++) {
		struct run r;

		if ((rc = index_seg_find(q->c, q->cat[i].seg, all, 2, &r, NULL)) != 0)
			return rc;
		n += (double)r.n;
	}
	for (size_t i = 0; i < q->nalts; i++) {
		double df = (double)q->alts[i].count;

		q->alts[i].idf = log(1 + (n - df + 0.5) / (df + 0.5));
	}
	return 0;
}

static const uint8_t *run_head(const struct query *q, uint32_t i)
{
	const struct run *r = &q->runs[i].r;

	return r->p + r->i * POST_LEN;
}

static void heap_down(const struct query *q, uint32_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint32_t t;

		if (l < n && post_cmp(run_head(q, h[l]), run_head(q, h[m])) < 0)
			m = l;
		if (l + 1 < n && post_cmp(run_head(q, h[l + 1]), run_head(q, h[m])) < 0)
			m = l + 1;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

/*
 * Each slot's runs in a heap by their next posting, so that a seek moves
 * only the runs behind the candidate: a word's slot may hold hundreds of
 * runs (its forms, in every segment), most of them far ahead.
 */
static int heaps_build(struct query *q)
{
	if (!(q->heap = malloc((q->nruns ? q->nruns : 1) * sizeof(*q->heap))))
		return ENOMEM;
	for (size_t s = 0; s < q->n; s++) {
		struct qslot *sl = &q->s[s];

		for (size_t i = 0; i < sl->nruns; i++)
			q->heap[sl->first + i] = (uint32_t)(sl->first + i);
		sl->hn = sl->nruns;
		for (size_t i = sl->hn / 2; i-- > 0;)
			heap_down(q, q->heap + sl->first, sl->hn, i);
	}
	return 0;
}

/* The slot's first posting at or after cand, over all its runs. */
static const uint8_t *slot_seek(struct query *q, struct qslot *s, const uint8_t *cand)
{
	uint32_t *h = q->heap + s->first;

	while (s->hn) {
		struct run *r = &q->runs[h[0]].r;

		if (post_cmp(r->p + r->i * POST_LEN, cand) >= 0)
			return r->p + r->i * POST_LEN;
		index_run_seek(r, cand);
		if (r->i == r->n)
			h[0] = h[--s->hn];
		heap_down(q, h, s->hn, 0);
	}
	return NULL;
}

/* The posting just after v: v + 1 as a 80-bit number; 0 when v is the last one. */
static int posting_succ(uint8_t v[static POST_LEN])
{
	for (int i = POST_KEY - 1; i >= 0; i--)
		if (++v[i] != 0)
			return 1;
	return 0;
}

static int slot_cmp(const void *a, const void *b)
{
	const struct qslot *x = a, *y = b;

	return (x->count > y->count) - (x->count < y->count);
}

/* A match being ranked. */
struct hit {
	uint8_t key[POST_KEY];
	uint8_t topic_only; /* words that it matches only by topic */
	double score;
};

/* The best alternative among the heap's runs that stand on cand: those at its top. */
static void score_runs(const struct query *q, const uint32_t *h, size_t n, size_t i,
                       const uint8_t *cand, double *best, int *text)
{
	const struct alt *a;
	const uint8_t *p;
	double v;

	if (i >= n || memcmp(p = run_head(q, h[i]), cand, POST_KEY) != 0)
		return;
	a = &q->alts[q->runs[h[i]].alt];
	if (a->kind != ALT_TOPIC) {
		*text = 1;
		v = alt_factor[a->kind] * a->idf * p[POST_KEY] / 255.0;
		*best = v > *best ? v : *best;
	}
	score_runs(q, h, n, 2 * i + 1, cand, best, text);
	score_runs(q, h, n, 2 * i + 2, cand, best, text);
}

/* cand's score: each word's best alternative among the runs that stand on cand. */
static void score(const struct query *q, const uint8_t *cand, struct hit *h)
{
	memcpy(h->key, cand, POST_KEY);
	h->topic_only = 0;
	h->score = 0;
	for (size_t s = 0; s < q->n; s++) {
		double best = 0;
		int text = 0;

		if (!q->s[s].word)
			continue;
		score_runs(q, q->heap + q->s[s].first, q->s[s].hn, 0, cand, &best, &text);
		h->topic_only += !text;
		h->score += best;
	}
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->topic_only != y->topic_only)
		return x->topic_only < y->topic_only ? -1 : 1;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return post_cmp(x->key, y->key);
}

/* What a search gathers: the hits to rank, or, for a listing, the count given out. */
struct found {
	index_hit_fn *fn;
	void *arg;
	size_t limit, *hits;
	struct hit *h;
	size_t n, cap;
};

/* A live match: given out at once in a listing, kept for ranking in a search; 1 to stop. */
static int found_one(const struct query *q, struct found *f, const uint8_t *cand, int *rc)
{
	if (q->words == 0) {
		++*f->hits;
		return f->fn(posting_docno(cand), f->arg) != 0 ||
		       (f->limit && *f->hits >= f->limit);
	}
	if ((*rc = grow((void **)&f->h, &f->cap, f->n + 1, sizeof(*f->h))) != 0)
		return 1;
	score(q, cand, &f->h[f->n++]);
	return f->limit && f->n >= (f->limit > INDEX_RANK_MAX ? f->limit : INDEX_RANK_MAX);
}

/*
 * Intersects the slots by leapfrogging: the candidate is the rarest slot's
 * posting; each other slot seeks to it, and one that lands past it makes its
 * landing the new candidate. The cost follows the shortest list, not the sum.
 */
static int zigzag(const struct index *ix, MDB_txn *txn, struct query *q, struct found *f)
{
	uint8_t cand[POST_LEN] = {0};
	const uint8_t *v;
	int rc = 0, dead;

	for (;;) {
		if (!(v = slot_seek(q, &q->s[0], cand)))
			return 0;
		memcpy(cand, v, POST_KEY);
		for (size_t i = 1; i < q->n; i++) {
			if (!(v = slot_seek(q, &q->s[i], cand)))
				return 0;
			if (post_cmp(v, cand) == 0)
				continue;
			memcpy(cand, v, POST_KEY);
			if (!(v = slot_seek(q, &q->s[0], cand)))
				return 0;
			memcpy(cand, v, POST_KEY);
			i = 0;
		}
		if ((rc = index_is_dead(ix, txn, posting_docno(cand), &dead)) != 0)
			return rc;
		if (!dead && found_one(q, f, cand, &rc))
			return rc;
		if (!posting_succ(cand))
			return 0;
	}
}

/* The ranked hits, best first, up to the limit. */
static void found_give(struct found *f)
{
	if (f->n)
		qsort(f->h, f->n, sizeof(*f->h), hit_cmp); /* f->h is NULL with no hit */
	for (size_t i = 0; i < f->n && (!f->limit || i < f->limit); i++) {
		++*f->hits;
		if (f->fn(posting_docno(f->h[i].key), f->arg) != 0)
			break;
	}
}

int index_search(const struct index *ix, MDB_txn *txn, const struct index_query *iq,
                 index_hit_fn *fn, void *arg, size_t *hits)
{
	struct query *q = calloc(1, sizeof(*q));
	struct found f = {fn, arg, iq->limit, hits, NULL, 0, 0};
	struct seginfo cat[SEGS_MAX];
	int rc;

	*hits = 0;
	if (!q)
		return ENOMEM;
	q->cat = cat;
	if (!(q->st = index_stemmer())) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = index_catalog_load(ix, txn, cat, &q->ncat)) != 0 ||
	    (rc = mdb_cursor_open(txn, ix->blocks, &q->c)) != 0 || (rc = query_build(q, iq)) != 0 ||
	    (rc = query_idf(q)) != 0)
		goto out;
	/* The rarest slot leads; a word's slot keeps its place in score() by its flag. */
	qsort(q->s, q->n, sizeof(q->s[0]), slot_cmp);
	if ((rc = heaps_build(q)) == 0 && (rc = zigzag(ix, txn, q, &f)) == 0 && q->words)
		found_give(&f);
out:
	if (q->c)
		mdb_cursor_close(q->c);
	free(f.h);
	free(q->runs);
	free(q->alts);
	free(q->heap);
	index_postbuf_free(&q->pb);
	free(q);
	return rc == MDB_NOTFOUND ? 0 : rc; /* a word that no record holds */
}
