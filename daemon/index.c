/*
 * index.c: folded words, and the postings that point from each word to the
 * records holding it.
 *
 * One LMDB database, "postings", DUPSORT|DUPFIXED: the key is a term, each
 * value a 10-byte posting, 6 bytes of inverted timestamp and 4 of docno, big
 * endian, so a term's postings read newest first and a record's place in
 * every list is the same. Terms are folded words, or a 0x01 byte, a letter
 * and a value for what filters need: "\1*" (every record), "\1t" + type, "\1a"
 * + author key, "\1p" + topic. No folded word holds a 0x01 byte.
 *
 * Writing postings one by one costs a tree descent each; a batch of entries
 * queues them, and index_flush writes them grouped by term and in order, so
 * most writes land on the page the cursor already holds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "entry.h"
#include "index.h"

#define POST_LEN    10
#define TS_MAX      0xffffffffffffULL /* 48 bits of milliseconds: year 10889 */
#define TERM_MAX    (2 + INDEX_WORD_MAX)
#define FOLD_CP_MAX 128 /* bytes that one code point folds to, at most */
#define FOLD_BMP    0x10000
#define TERM_ALL    "\1*"
#define BODY_DEPTH  (AG_DEPTH_MAX - 1)

/* A term waiting in the queue; its bytes are in the arena. */
struct pterm {
	uint32_t off;
	uint16_t len;
	uint32_t hash;
	uint32_t last; /* index + 1 of its latest op, 0 for none */
};

/* One posting to add or remove. seq keeps the order of ops on the same posting. */
struct pop {
	uint32_t term;
	uint32_t seq;
	uint8_t val[POST_LEN];
	uint8_t add;
};

struct index {
	MDB_dbi dbi;
	char *arena;
	size_t arena_len, arena_cap;
	struct pterm *terms;
	size_t nterms, terms_cap;
	uint32_t *slots; /* open addressing: term index + 1, or 0 */
	size_t nslots;
	struct pop *ops, *sorted;
	size_t nops, ops_cap;
	uint32_t *order, *start; /* scratch for index_flush */
	size_t scratch_cap;
};

/* ---- folding ---- */

/*
 * Folding each BMP code point once, at first use, makes the word splitter a
 * table lookup: fold_ix holds offset << 8 | length into fold_pool, where a
 * 0 byte is a word boundary and other bytes are UTF-8 of kept characters.
 */
static uint32_t fold_ix[FOLD_BMP];
static uint8_t *fold_pool;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

enum { FOLD_KEEP, FOLD_DROP, FOLD_BREAK };

static int fold_class(utf8proc_int32_t c)
{
	if (c == 0x0640) /* Arabic tatweel stretches a word; it is not part of it */
		return FOLD_DROP;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_MC:
		return FOLD_KEEP;
	case UTF8PROC_CATEGORY_MN: /* accents, Arabic harakat */
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_CF: /* soft hyphen, zero-width joiners */
		return FOLD_DROP;
	default:
		return FOLD_BREAK;
	}
}

/*
 * Letters that Arabic writers use interchangeably, normalised as Lucene's
 * ArabicNormalizer does, and Arabic-Indic digits as ASCII digits.
 */
static utf8proc_int32_t fold_arabic(utf8proc_int32_t c)
{
	if (c == 0x0649) /* alef maqsura */
		return 0x064a;
	if (c == 0x0629) /* teh marbuta */
		return 0x0647;
	if (c >= 0x0660 && c <= 0x0669)
		return '0' + (c - 0x0660);
	if (c >= 0x06f0 && c <= 0x06f9)
		return '0' + (c - 0x06f0);
	return c;
}

/* Folds one code point into out: NFKD, case folded, marks dropped. Returns the bytes written. */
static size_t fold_cp(utf8proc_int32_t cp, uint8_t out[static FOLD_CP_MAX])
{
	utf8proc_int32_t dec[24];
	utf8proc_ssize_t n;
	size_t len = 0;
	int last = 0;

	n = utf8proc_decompose_char(
	    cp, dec, 24, UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD, &last);
	if (n < 0 || n > 24) {
		out[0] = 0;
		return 1;
	}
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		switch (fold_class(dec[i])) {
		case FOLD_KEEP:
			len += utf8proc_encode_char(fold_arabic(dec[i]), out + len);
			break;
		case FOLD_BREAK:
			out[len++] = 0;
			break;
		}
	}
	return len;
}

static void fold_build(void)
{
	size_t cap = 4 * FOLD_BMP, len = 0;
	uint8_t buf[FOLD_CP_MAX];

	fold_pool = malloc(cap);
	for (uint32_t cp = 0; fold_pool && cp < FOLD_BMP; cp++) {
		size_t n = (cp >= 0xd800 && cp <= 0xdfff) ? (buf[0] = 0, 1) : fold_cp(cp, buf);

		if (len + n > cap) {
			uint8_t *p = realloc(fold_pool, cap * 2);

			if (!p) {
				free(fold_pool);
				fold_pool = NULL;
				break;
			}
			fold_pool = p;
			cap *= 2;
		}
		memcpy(fold_pool + len, buf, n);
		fold_ix[cp] = (uint32_t)len << 8 | (uint32_t)n;
		len += n;
	}
}

/* The folded bytes of cp: from the table, or folded into tmp outside the BMP. */
static const uint8_t *fold_lookup(utf8proc_int32_t cp, uint8_t tmp[static FOLD_CP_MAX], size_t *n)
{
	if (cp < FOLD_BMP && fold_pool) {
		*n = fold_ix[cp] & 0xff;
		return fold_pool + (fold_ix[cp] >> 8);
	}
	*n = fold_cp(cp, tmp);
	return tmp;
}

/* A word being gathered: cut at INDEX_WORD_MAX bytes, on a character boundary. */
struct word {
	char b[INDEX_WORD_MAX];
	size_t len, ncp;
};

static int word_end(struct word *w, index_word_fn *fn, void *arg)
{
	int rc = 0;

	if (w->ncp >= 2)
		rc = fn(w->b, w->len, arg);
	w->len = w->ncp = 0;
	return rc;
}

static int word_feed(struct word *w, const uint8_t *f, size_t n, index_word_fn *fn, void *arg)
{
	int rc;

	for (size_t i = 0; i < n;) {
		size_t cl = f[i] < 0x80 ? 1 : f[i] < 0xe0 ? 2 : f[i] < 0xf0 ? 3 : 4;

		if (f[i] == 0) {
			if ((rc = word_end(w, fn, arg)) != 0)
				return rc;
			i++;
			continue;
		}
		if (w->len + cl <= INDEX_WORD_MAX && i + cl <= n) {
			memcpy(w->b + w->len, f + i, cl);
			w->len += cl;
			w->ncp++;
		}
		i += cl;
	}
	return 0;
}

int index_words(const char *text, size_t len, index_word_fn *fn, void *arg)
{
	const uint8_t *s = (const uint8_t *)text;
	uint8_t tmp[FOLD_CP_MAX];
	struct word w = {.len = 0};
	size_t pos = 0, n;
	int rc;

	pthread_once(&fold_once, fold_build);
	while (pos < len) {
		utf8proc_int32_t cp = s[pos];
		utf8proc_ssize_t step = 1;
		const uint8_t *f;

		if (cp >= 0x80) {
			step = utf8proc_iterate(s + pos, (utf8proc_ssize_t)(len - pos), &cp);
			if (step <= 0) { /* not UTF-8: a boundary */
				step = 1;
				cp = ' ';
			}
		}
		f = fold_lookup(cp, tmp, &n);
		if ((rc = word_feed(&w, f, n, fn, arg)) != 0)
			return rc;
		pos += (size_t)step;
	}
	return word_end(&w, fn, arg);
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
enum { MP_OTHER, MP_STR, MP_ARRAY, MP_MAP };

static int mp_head(const uint8_t *p, size_t len, size_t *pos, int *kind, uint32_t *n,
                   const uint8_t **data)
{
	size_t lenbytes = 0, fixed = 0;
	uint64_t v = 0;
	uint8_t b;

	if (*pos >= len)
		return -1;
	b = p[(*pos)++];
	*kind = MP_OTHER;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 0;
	if (b <= 0x9f) {
		*kind = b <= 0x8f ? MP_MAP : MP_ARRAY;
		*n = b & 0x0f;
		return 0;
	}
	switch (b) {
	case 0xcc:
	case 0xd0:
		fixed = 1;
		break;
	case 0xcd:
	case 0xd1:
		fixed = 2;
		break;
	case 0xca:
	case 0xce:
	case 0xd2:
		fixed = 4;
		break;
	case 0xcb:
	case 0xcf:
	case 0xd3:
		fixed = 8;
		break;
	case 0xc4:
	case 0xd9:
		lenbytes = 1;
		break;
	case 0xc5:
	case 0xda:
	case 0xdc:
	case 0xde:
		lenbytes = 2;
		break;
	case 0xc6:
	case 0xdb:
	case 0xdd:
	case 0xdf:
		lenbytes = 4;
		break;
	default:
		if (b < 0xa0 || b > 0xbf)
			return -1; /* ext types: never in a canonical body */
		v = b & 0x1f;
	}
	if (len - *pos < fixed + lenbytes)
		return -1;
	*pos += fixed;
	for (size_t i = 0; i < lenbytes; i++)
		v = v << 8 | p[(*pos)++];
	*n = (uint32_t)v;
	if (b == 0xdc || b == 0xdd || b == 0xde || b == 0xdf) {
		*kind = b >= 0xde ? MP_MAP : MP_ARRAY;
		return 0;
	}
	if (fixed)
		return 0;
	if (len - *pos < v)
		return -1;
	if (b != 0xc4 && b != 0xc5 && b != 0xc6) { /* str, not bin */
		*kind = MP_STR;
		*data = p + *pos;
	}
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
 * that its strings are topics too: the value of the body's "topic" key, or
 * the elements of its "topics" array.
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
		return index_words((const char *)data, n, scan_word, s);
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
		if (depth == 1 && klen == 5 && memcmp(key, "topic", 5) == 0)
			t = 1;
		if (depth == 1 && klen == 6 && memcmp(key, "topics", 6) == 0)
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
	for (int i = 0; i < 4; i++)
		out[6 + i] = (uint8_t)(docno >> (24 - 8 * i));
}

static uint32_t posting_docno(const uint8_t *v)
{
	return (uint32_t)v[6] << 24 | (uint32_t)v[7] << 16 | (uint32_t)v[8] << 8 | v[9];
}

/* ---- the queue ---- */

static uint32_t term_hash(const char *t, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)t[i]) * 16777619u;
	return h;
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

static int slots_grow(struct index *ix)
{
	size_t n = ix->nslots ? ix->nslots * 2 : 4096;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return ENOMEM;
	for (size_t t = 0; t < ix->nterms; t++) {
		size_t i = ix->terms[t].hash & (n - 1);

		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = (uint32_t)t + 1;
	}
	free(ix->slots);
	ix->slots = s;
	ix->nslots = n;
	return 0;
}

/* The queue's number for a term, added if new; or -1 out of memory. */
static long term_intern(struct index *ix, const char *t, size_t len)
{
	uint32_t h = term_hash(t, len);
	struct pterm *pt;
	size_t i;

	if (ix->nterms * 2 >= ix->nslots && slots_grow(ix) != 0)
		return -1;
	for (i = h & (ix->nslots - 1); ix->slots[i]; i = (i + 1) & (ix->nslots - 1)) {
		pt = &ix->terms[ix->slots[i] - 1];
		if (pt->hash == h && pt->len == len && memcmp(ix->arena + pt->off, t, len) == 0)
			return ix->slots[i] - 1;
	}
	if (grow((void **)&ix->terms, &ix->terms_cap, ix->nterms + 1, sizeof(*ix->terms)) ||
	    grow((void **)&ix->arena, &ix->arena_cap, ix->arena_len + len, 1))
		return -1;
	memcpy(ix->arena + ix->arena_len, t, len);
	ix->terms[ix->nterms] = (struct pterm){(uint32_t)ix->arena_len, (uint16_t)len, h, 0};
	ix->arena_len += len;
	ix->slots[i] = (uint32_t)++ix->nterms;
	return (long)ix->nterms - 1;
}

struct queue_arg {
	struct index *ix;
	uint8_t val[POST_LEN];
	uint8_t add;
};

static int queue_term(const char *t, size_t len, void *arg)
{
	struct queue_arg *q = arg;
	struct index *ix = q->ix;
	long term = term_intern(ix, t, len);
	struct pterm *pt;
	struct pop *last;

	if (term < 0)
		return ENOMEM;
	pt = &ix->terms[term];
	last = pt->last ? &ix->ops[pt->last - 1] : NULL;
	if (last && last->add == q->add && memcmp(last->val, q->val, POST_LEN) == 0)
		return 0; /* the same word again in this version */
	if (grow((void **)&ix->ops, &ix->ops_cap, ix->nops + 1, sizeof(*ix->ops)))
		return ENOMEM;
	ix->ops[ix->nops] = (struct pop){(uint32_t)term, (uint32_t)ix->nops, {0}, q->add};
	memcpy(ix->ops[ix->nops].val, q->val, POST_LEN);
	pt->last = (uint32_t)++ix->nops;
	return 0;
}

static int queue_doc(struct index *ix, const struct index_doc *d, int add)
{
	struct queue_arg q = {.ix = ix, .add = (uint8_t)add};

	posting_make(q.val, d->timestamp, d->docno);
	return doc_terms(d, queue_term, &q);
}

int index_add(struct index *ix, const struct index_doc *d)
{
	return queue_doc(ix, d, 1);
}

int index_remove(struct index *ix, const struct index_doc *d)
{
	return queue_doc(ix, d, 0);
}

void index_reset(struct index *ix)
{
	if (ix->nslots)
		memset(ix->slots, 0, ix->nslots * sizeof(*ix->slots));
	ix->nterms = ix->nops = ix->arena_len = 0;
}

/* ---- flush ---- */

static int term_cmp(const void *a, const void *b, void *arg)
{
	const struct index *ix = arg;
	const struct pterm *x = &ix->terms[*(const uint32_t *)a];
	const struct pterm *y = &ix->terms[*(const uint32_t *)b];
	int c = memcmp(ix->arena + x->off, ix->arena + y->off, x->len < y->len ? x->len : y->len);

	return c ? c : (int)x->len - (int)y->len;
}

static int op_cmp(const void *a, const void *b)
{
	const struct pop *x = a, *y = b;
	int c = memcmp(x->val, y->val, POST_LEN);

	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes one term's ops, sorted by posting; of several ops on one posting the last wins. */
static int flush_term(struct index *ix, MDB_cursor *c, const struct pterm *pt, struct pop *g,
                      size_t n)
{
	int sorted = 1, rc = 0;

	for (size_t i = 1; i < n && sorted; i++)
		sorted = op_cmp(&g[i - 1], &g[i]) < 0;
	if (!sorted)
		qsort(g, n, sizeof(*g), op_cmp);
	for (size_t i = 0, j; i < n && rc == 0; i = j + 1) {
		MDB_val k = {pt->len, ix->arena + pt->off}, v;

		for (j = i; j + 1 < n && memcmp(g[j + 1].val, g[i].val, POST_LEN) == 0;)
			j++;
		v = (MDB_val){POST_LEN, g[j].val};
		if (g[j].add) {
			rc = mdb_cursor_put(c, &k, &v, MDB_NODUPDATA);
			rc = rc == MDB_KEYEXIST ? 0 : rc;
		} else {
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH);
			rc = rc == 0 ? mdb_cursor_del(c, 0) : rc == MDB_NOTFOUND ? 0 : rc;
		}
	}
	return rc;
}

/* Groups the ops by term (a counting sort, which keeps their order) with terms in byte order. */
static int flush_sort(struct index *ix)
{
	uint32_t *order, *start;
	size_t acc = 0;

	if (grow((void **)&ix->order, &ix->scratch_cap, ix->nterms, sizeof(uint32_t)) ||
	    !(start = realloc(ix->start, ix->scratch_cap * sizeof(uint32_t))) ||
	    !(ix->start = start,
	      ix->sorted = realloc(ix->sorted, ix->ops_cap * sizeof(struct pop))))
		return ENOMEM;
	order = ix->order;
	for (size_t t = 0; t < ix->nterms; t++) {
		order[t] = (uint32_t)t;
		start[t] = 0;
	}
	qsort_r(order, ix->nterms, sizeof(*order), term_cmp, ix);
	for (size_t i = 0; i < ix->nops; i++)
		start[ix->ops[i].term]++;
	for (size_t r = 0; r < ix->nterms; r++) {
		size_t cnt = start[order[r]];

		start[order[r]] = (uint32_t)acc;
		acc += cnt;
	}
	for (size_t i = 0; i < ix->nops; i++)
		ix->sorted[start[ix->ops[i].term]++] = ix->ops[i];
	return 0; /* start[t] is now the end of t's group */
}

int index_flush(struct index *ix, MDB_txn *txn)
{
	MDB_cursor *c = NULL;
	size_t begin = 0;
	int rc;

	if (ix->nops == 0)
		return 0;
	if ((rc = flush_sort(ix)) != 0 || (rc = mdb_cursor_open(txn, ix->dbi, &c)) != 0)
		goto out;
	for (size_t r = 0; r < ix->nterms && rc == 0; r++) {
		uint32_t t = ix->order[r];

		rc = flush_term(ix, c, &ix->terms[t], ix->sorted + begin, ix->start[t] - begin);
		begin = ix->start[t];
	}
out:
	mdb_cursor_close(c);
	index_reset(ix);
	return rc;
}

struct index *index_open(MDB_txn *txn)
{
	struct index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	if (mdb_dbi_open(txn, "postings", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &ix->dbi) != 0) {
		free(ix);
		return NULL;
	}
	pthread_once(&fold_once, fold_build);
	return ix;
}

void index_free(struct index *ix)
{
	if (!ix)
		return;
	free(ix->arena);
	free(ix->terms);
	free(ix->slots);
	free(ix->ops);
	free(ix->sorted);
	free(ix->order);
	free(ix->start);
	free(ix);
}

/* ---- search ---- */

struct qterm {
	char key[TERM_MAX];
	size_t len;
	MDB_cursor *c;
	size_t count;
};

struct query {
	struct qterm t[INDEX_WORDS_MAX + 4];
	size_t n;
};

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

static int query_build(struct query *q, const struct index_query *iq)
{
	size_t tlen = iq->text ? strlen(iq->text) : 0;
	int rc;

	if (tlen > INDEX_TEXT_MAX || (iq->type && strlen(iq->type) > AG_TYPE_MAX) ||
	    (iq->topic && strlen(iq->topic) > INDEX_TOPIC_MAX))
		return EINVAL;
	if ((rc = index_words(iq->text ? iq->text : "", tlen, query_term, q)) != 0)
		return rc;
	if (tlen > 0 && q->n == 0)
		return MDB_NOTFOUND; /* text, but no word in it: nothing can match */
	if (iq->type)
		q->t[q->n].len = term_make(q->t[q->n].key, 't', iq->type, strlen(iq->type)), q->n++;
	if (iq->author)
		q->t[q->n].len = term_make(q->t[q->n].key, 'a', iq->author, AG_PK_LEN), q->n++;
	if (iq->topic)
		q->t[q->n].len = term_make(q->t[q->n].key, 'p', iq->topic, strlen(iq->topic)),
		q->n++;
	if (q->n == 0)
		q->t[q->n].len = term_make(q->t[q->n].key, '*', "", 0), q->n++;
	return 0;
}

static int qterm_cmp(const void *a, const void *b)
{
	const struct qterm *x = a, *y = b;

	return x->count < y->count ? -1 : x->count > y->count;
}

/* Positions t at its first posting at or after cand; *v receives it. */
static int seek(struct qterm *t, uint8_t *cand, MDB_val *v)
{
	MDB_val k = {t->len, t->key};

	*v = (MDB_val){POST_LEN, cand};
	return mdb_cursor_get(t->c, &k, v, MDB_GET_BOTH_RANGE);
}

/*
 * Intersects the lists by leapfrogging: the candidate is the rarest term's
 * posting; each other term seeks to it, and one that lands past it makes its
 * landing the new candidate. The cost follows the shortest list, not the sum.
 */
static int zigzag(struct qterm *t, size_t n, size_t limit, index_hit_fn *fn, void *arg,
                  size_t *hits)
{
	uint8_t cand[POST_LEN];
	MDB_val k = {t[0].len, t[0].key}, v;
	int rc;

	if ((rc = mdb_cursor_get(t[0].c, &k, &v, MDB_GET_CURRENT)) != 0)
		return rc;
	memcpy(cand, v.mv_data, POST_LEN);
	for (;;) {
		for (size_t i = 1; i < n; i++) {
			if ((rc = seek(&t[i], cand, &v)) != 0)
				return rc;
			if (memcmp(v.mv_data, cand, POST_LEN) == 0)
				continue;
			memcpy(cand, v.mv_data, POST_LEN);
			if ((rc = seek(&t[0], cand, &v)) != 0)
				return rc;
			memcpy(cand, v.mv_data, POST_LEN);
			i = 0;
		}
		++*hits;
		if (fn(posting_docno(cand), arg) != 0 || (limit && *hits >= limit))
			return 0;
		if ((rc = mdb_cursor_get(t[0].c, &k, &v, MDB_NEXT_DUP)) != 0)
			return rc;
		memcpy(cand, v.mv_data, POST_LEN);
	}
}

int index_search(const struct index *ix, MDB_txn *txn, const struct index_query *iq,
                 index_hit_fn *fn, void *arg, size_t *hits)
{
	struct query q = {.n = 0};
	size_t i;
	int rc;

	*hits = 0;
	if ((rc = query_build(&q, iq)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	for (i = 0; i < q.n; i++) {
		MDB_val k = {q.t[i].len, q.t[i].key}, v;

		if ((rc = mdb_cursor_open(txn, ix->dbi, &q.t[i].c)) != 0)
			break;
		if ((rc = mdb_cursor_get(q.t[i].c, &k, &v, MDB_SET_KEY)) != 0 ||
		    (rc = mdb_cursor_count(q.t[i].c, &q.t[i].count)) != 0) {
			i++;
			break;
		}
	}
	if (rc == 0) {
		qsort(q.t, q.n, sizeof(q.t[0]), qterm_cmp);
		rc = zigzag(q.t, q.n, iq->limit, fn, arg, hits);
	}
	for (size_t j = 0; j < i; j++)
		mdb_cursor_close(q.t[j].c);
	return rc == MDB_NOTFOUND ? 0 : rc; /* the end of a list, or a term no record holds */
}

/* ---- checks ---- */

struct check_arg {
	MDB_cursor *c;
	uint8_t val[POST_LEN];
	char (*seen)[TERM_MAX + 1]; /* terms already counted: [0] is the length */
	size_t nseen, cap;
	size_t present, expected;
};

static int check_term(const char *t, size_t len, void *arg)
{
	struct check_arg *a = arg;
	char term[TERM_MAX];
	MDB_val k = {len, term}, v = {POST_LEN, a->val};
	int rc;

	memcpy(term, t, len);
	for (size_t i = 0; i < a->nseen; i++)
		if ((size_t)a->seen[i][0] == len && memcmp(a->seen[i] + 1, t, len) == 0)
			return 0;
	if (grow((void **)&a->seen, &a->cap, a->nseen + 1, sizeof(*a->seen)))
		return ENOMEM;
	a->seen[a->nseen][0] = (char)len;
	memcpy(a->seen[a->nseen++] + 1, t, len);
	a->expected++;
	rc = mdb_cursor_get(a->c, &k, &v, MDB_GET_BOTH);
	if (rc == 0)
		a->present++;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int index_doc_check(const struct index *ix, MDB_txn *txn, const struct index_doc *d,
                    size_t *present, size_t *expected)
{
	struct check_arg a = {.c = NULL};
	int rc;

	if ((rc = mdb_cursor_open(txn, ix->dbi, &a.c)) != 0)
		return rc;
	posting_make(a.val, d->timestamp, d->docno);
	rc = doc_terms(d, check_term, &a);
	*present = a.present;
	*expected = a.expected;
	mdb_cursor_close(a.c);
	free(a.seen);
	return rc;
}

int index_postings(const struct index *ix, MDB_txn *txn, size_t *count)
{
	MDB_stat st;
	int rc = mdb_stat(txn, ix->dbi, &st);

	*count = rc == 0 ? st.ms_entries : 0;
	return rc;
}
