/*
 * index_terms.c: the terms of a record version: its folded words, and the
 * filter terms of its type, author and topics, read from its msgpack body;
 * gathered without repeats, hashed, for the queue (index.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "fold.h"
#include "index.h"
#include "index_internal.h"
#include "stem.h"

/* A filter term: 0x01, a kind letter, a value. */
size_t index_term_make(char out[static TERM_MAX], char kind, const void *v, size_t n)
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

/* A field's weight in ranking: its words count this many times. */
static unsigned field_weight(const uint8_t *key, size_t len)
{
	if (len == 5 && memcmp(key, "title", 5) == 0)
		return 3;
	if (len == 7 && memcmp(key, "summary", 7) == 0)
		return 2;
	return 1;
}

struct scan {
	const uint8_t *p;
	size_t len, pos;
	term_fn *fn;
	void *arg;
	struct ag_stemmer *stem;
	unsigned weight; /* of the top-level field being read */
	unsigned langs;  /* bit per language met */
	char *words;     /* a string's folded words, each [length][bytes] */
	size_t wlen, wcap;
	size_t nwords; /* in the whole body */
};

/* Keeps a folded word of the string being read. */
static int collect_word(const char *word, size_t len, void *arg)
{
	struct scan *s = arg;

	if (grow((void **)&s->words, &s->wcap, s->wlen + 1 + len, 1))
		return ENOMEM;
	s->words[s->wlen] = (char)len;
	memcpy(s->words + s->wlen + 1, word, len);
	s->wlen += 1 + len;
	return 0;
}

/* A stem as a term, "\2" and the stem, if there is one. */
static int emit_stem(struct scan *s, const char *stem, size_t n)
{
	char term[TERM_MAX];

	if (n == 0)
		return 0;
	term[0] = 2;
	memcpy(term + 1, stem, n);
	return s->fn(term, n + 1, s->weight, s->arg);
}

/*
 * A word and its stems: an Arabic word's whole stem and stem; another's in
 * lang, or, when the string's language is not known (or is Arabic), in
 * each language of the word's script, so that no guess loses a match.
 */
static int emit_word(struct scan *s, enum ag_lang lang, const char *word, size_t len)
{
	char stem[AG_STEM_KINDS][AG_FOLD_WORD_MAX];
	size_t n[AG_STEM_KINDS];
	unsigned kinds = 0;
	int rc;

	s->nwords++;
	if ((rc = s->fn(word, len, s->weight, s->arg)) != 0)
		return rc;
	if (ag_stem_arabic(word))
		kinds = 1u << AG_STEM_WHOLE | 1u << AG_LANG_AR;
	else if (lang != AG_LANG_NONE && lang != AG_LANG_AR)
		kinds = 1u << lang;
	else
		for (int l = AG_LANG_EN; l <= AG_LANG_IT; l++)
			kinds |= 1u << l;
	ag_stem_kinds(s->stem, kinds, word, len, stem, n);
	if ((rc = emit_stem(s, stem[AG_STEM_WHOLE], n[AG_STEM_WHOLE])) != 0)
		return rc;
	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++)
		if ((rc = emit_stem(s, stem[l], n[l])) != 0)
			return rc;
	return 0;
}

/* A string's words, in lang, or in the language guessed from them when lang is NONE. */
static int scan_string(struct scan *s, const uint8_t *data, size_t n, enum ag_lang lang)
{
	int rc;

	s->wlen = 0;
	if ((rc = ag_fold_words((const char *)data, n, collect_word, s)) != 0)
		return rc;
	if (lang == AG_LANG_NONE) { /* ag_lang_guess, from the words folded above */
		struct ag_lang_votes v = {0};

		for (size_t i = 0;
		     i < s->wlen && !ag_lang_vote(&v, s->words + i + 1, (uint8_t)s->words[i]);
		     i += 1 + (uint8_t)s->words[i])
			;
		lang = ag_lang_voted(&v);
	}
	s->langs |= 1u << lang;
	/* The stem cache's slots of every word first: their misses overlap (stem.h). */
	for (size_t i = 0; i < s->wlen; i += 1 + (uint8_t)s->words[i])
		ag_stem_prefetch(s->stem, s->words + i + 1, (uint8_t)s->words[i]);
	for (size_t i = 0; i < s->wlen; i += 1 + (uint8_t)s->words[i])
		if ((rc = emit_word(s, lang, s->words + i + 1, (uint8_t)s->words[i])) != 0)
			return rc;
	return 0;
}

static int scan_topic(struct scan *s, const uint8_t *t, size_t n)
{
	char term[TERM_MAX];

	if (n == 0 || n > INDEX_TOPIC_MAX)
		return 0;
	return s->fn(term, index_term_make(term, 'p', t, n), 0, s->arg);
}

/*
 * Walks one value: the words of every string in it go to s->fn. topic says
 * that its strings are topics too: the value of a "topic" key, or the
 * elements of a "topics" array, at any depth, since a priority's areas and a
 * profile's sections carry their own (schema.h). lang is the language its
 * strings are in: the key of a multilingual text, else NONE.
 */
static int scan_value(struct scan *s, int depth, int topic, enum ag_lang lang)
{
	const uint8_t *data = NULL;
	uint32_t n = 0;
	int kind, rc;

	if (depth > BODY_DEPTH || mp_head(s->p, s->len, &s->pos, &kind, &n, &data) != 0)
		return EINVAL;
	if (kind == MP_STR) {
		if (topic && (rc = scan_topic(s, data, n)) != 0)
			return rc;
		return scan_string(s, data, n, lang);
	}
	for (uint32_t i = 0; kind == MP_ARRAY && i < n; i++)
		if ((rc = scan_value(s, depth + 1, topic == 2, AG_LANG_NONE)) != 0)
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
		if (depth == 1)
			s->weight = field_weight(key, klen);
		if ((rc = scan_value(s, depth + 1, t, ag_lang_of((const char *)key, klen))) != 0)
			return rc;
	}
	return 0;
}

/* The languages met, as filter terms. */
static int scan_langs(struct scan *s)
{
	char term[TERM_MAX];
	int rc;

	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++) {
		const char *code = ag_lang_code((enum ag_lang)l);

		if ((s->langs & 1u << l) &&
		    (rc = s->fn(term, index_term_make(term, 'l', code, 2), 0, s->arg)) != 0)
			return rc;
	}
	return 0;
}

int index_doc_terms(const struct index_doc *d, term_fn *fn, void *arg, size_t *words)
{
	struct scan s = {d->body, d->body_len, 0, fn, arg, NULL, 1, 0, NULL, 0, 0, 0};
	char term[TERM_MAX];
	int rc;

	if (!(s.stem = index_stemmer()))
		return ENOMEM;
	if ((rc = fn(TERM_ALL, 2, 0, arg)) != 0 ||
	    (rc = fn(term, index_term_make(term, 't', d->type, strlen(d->type)), 0, arg)) != 0 ||
	    (rc = fn(term, index_term_make(term, 'a', d->author, AG_PK_LEN), 0, arg)) != 0 ||
	    (rc = scan_value(&s, 1, 0, AG_LANG_NONE)) != 0 || (rc = scan_langs(&s)) != 0)
		goto out;
	rc = s.pos == s.len ? 0 : EINVAL;
out:
	free(s.words);
	if (words)
		*words = s.nwords;
	return rc;
}

static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
static struct ag_stem_cache *stem_cache; /* every thread's stemmer shares it; never freed */

static void stem_free(void *p)
{
	ag_stemmer_free(p);
}

static void stem_key_make(void)
{
	(void)pthread_key_create(&stem_key, stem_free);
	stem_cache = ag_stem_cache_new();
}

struct ag_stemmer *index_stemmer(void)
{
	struct ag_stemmer *s;

	pthread_once(&stem_once, stem_key_make);
	if ((s = pthread_getspecific(stem_key)) != NULL)
		return s;
	if (!stem_cache)
		return NULL;
	if ((s = ag_stemmer_new_shared(stem_cache)) != NULL &&
	    pthread_setspecific(stem_key, s) != 0) {
		ag_stemmer_free(s);
		s = NULL;
	}
	return s;
}

size_t index_stem_whole_term(struct ag_stemmer *st, const char *word, size_t len,
                             char out[static TERM_MAX])
{
	size_t n = ag_stem_whole(st, word, len, out + 1);

	if (n == 0)
		return 0;
	out[0] = 2;
	return 1 + n;
}

size_t index_stem_term(struct ag_stemmer *st, enum ag_lang lang, const char *word, size_t len,
                       char out[static TERM_MAX])
{
	size_t n = ag_stem(st, lang, word, len, out + 1);

	if (n == 0)
		return 0;
	out[0] = 2;
	return 1 + n;
}

/* A multiply-xorshift hash, eight bytes at a time. */
static uint32_t term_hash(const char *t, size_t len)
{
	uint64_t h = len * 0x9e3779b97f4a7c15ull;

	for (; len >= 8; t += 8, len -= 8) {
		h = (h ^ ag_le_load(t, 8)) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h = (h ^ ag_le_load(t, len)) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ h >> 29);
}

/*
 * A version's terms being gathered: the list, and a set of its trefs by
 * hash, so that a word is kept once: each the tref's hash, and its offset
 * + 1 (0 for none), so that a probe reads the list only when the hashes
 * agree.
 */
struct gather {
	struct index_terms *l;
	uint64_t *set; /* hash << 32 | offset + 1 */
	size_t nset;   /* a power of two, more than twice the terms */
	uint64_t small[256];
	uint8_t weights[64]; /* by tf, 0 until computed (weight_of) */
};

static int gather_grow(struct gather *g)
{
	size_t n = g->nset * 2;
	uint64_t *set = calloc(n, sizeof(*set));
	const struct tref *r = (const struct tref *)g->l->data;

	if (!set)
		return ENOMEM;
	for (size_t i = 0; i < g->l->n; i++, r = tref_next(r)) {
		size_t j = r->hash & (n - 1);

		while (set[j])
			j = (j + 1) & (n - 1);
		set[j] = (uint64_t)r->hash << 32 |
		         ((uint32_t)((const uint8_t *)r - (const uint8_t *)g->l->data) + 1);
	}
	if (g->set != g->small)
		free(g->set);
	g->set = set;
	g->nset = n;
	return 0;
}

/* A term_fn: appends the term, hashed, to the list unless it holds it already. */
static int terms_add(const char *t, size_t len, unsigned weight, void *arg)
{
	struct gather *g = arg;
	struct index_terms *l = g->l;
	uint32_t hash = term_hash(t, len);
	size_t need = tref_size(len), cap = l->cap, i;
	struct tref *r;

	if ((l->n + 1) * 2 > g->nset && gather_grow(g) != 0)
		return ENOMEM;
	for (i = hash & (g->nset - 1); g->set[i]; i = (i + 1) & (g->nset - 1)) {
		struct tref *o = (struct tref *)((uint8_t *)l->data + (uint32_t)g->set[i] - 1);

		if (g->set[i] >> 32 == hash && o->len == len && ag_bytes_eq(o + 1, t, len)) {
			o->tf =
			    o->tf + weight > UINT16_MAX ? UINT16_MAX : (uint16_t)(o->tf + weight);
			return 0;
		}
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
	*r = (struct tref){hash, (uint16_t)weight, (uint8_t)len, 0};
	memcpy(r + 1, t, len);
	g->set[i] = (uint64_t)hash << 32 | ((uint32_t)l->len + 1);
	l->len += need;
	l->n++;
	return 0;
}

/*
 * A term's weight in a version, in a byte: BM25's term frequency part,
 * tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen)), over its maximum k1 + 1,
 * with a fixed average length: the corpus's would change every weight as
 * it grows. 0 for a filter, which does not rank.
 */
static uint32_t term_weight(uint32_t tf, size_t words)
{
	double norm = BM25_K1 * (1 - BM25_B + BM25_B * (double)words / BM25_AVGLEN);
	double w = tf / (tf + norm);

	return tf == 0 ? 0 : 1 + (uint32_t)(w * 254);
}

/* term_weight of tf in the version being gathered: most terms share a few small tfs, and each is
 * computed once. */
static uint8_t weight_of(struct gather *g, uint32_t tf)
{
	if (tf >= sizeof(g->weights))
		return (uint8_t)term_weight(tf, g->l->words);
	if (g->weights[tf] == 0 && tf > 0)
		g->weights[tf] = (uint8_t)term_weight(tf, g->l->words);
	return g->weights[tf];
}

/* Gathers d's distinct terms into *lp, emptied first; it may move. */
int index_terms_gather(const struct index_doc *d, struct index_terms **lp)
{
	struct gather g = {.l = *lp, .nset = 256};
	size_t words = 0;
	int rc;

	g.set = g.small; /* the initializer zeroed it, and the weights */
	g.l->n = g.l->len = 0;
	rc = index_doc_terms(d, terms_add, &g, &words);
	*lp = g.l;
	g.l->words = words; /* not through the list, which terms_add may move */
	for (size_t i = 0, off = 0; rc == 0 && i < g.l->n; i++) {
		struct tref *r = (struct tref *)((uint8_t *)g.l->data + off);

		r->weight = weight_of(&g, r->tf);
		off += tref_size(r->len);
	}
	if (g.set != g.small)
		free(g.set);
	return rc;
}

struct index_terms *index_terms_new(size_t cap)
{
	struct index_terms *l = malloc(sizeof(*l) + cap);

	if (l)
		*l = (struct index_terms){0, 0, cap, 0};
	return l;
}

void index_terms_free(struct index_terms *l)
{
	free(l);
}

void index_terms_prefetch(const struct index_terms *l)
{
	for (size_t i = 0; l && i < sizeof(*l) + l->len; i += 64)
		__builtin_prefetch((const uint8_t *)l + i);
}

size_t index_terms_bytes(const struct index_terms *l)
{
	return l ? sizeof(*l) + l->cap : 0;
}

/*
 * Each thread gathers terms in a list of its own, kept between calls, and
 * hands out an exact copy: a list made at a guess of its size and shrunk
 * after left the guess's unused tail free between the lists that wait for
 * the writer, where the next guess did not fit (bench-sync's receiver: its
 * verify threads' arena held 2.6 MB for 1.6 MB of terms). A list grown past
 * SCRATCH_KEEP by a large body is not kept.
 */
#define SCRATCH_KEEP (64u * 1024)

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_make(void)
{
	(void)pthread_key_create(&scratch_key, free);
}

int index_prepare(const struct index_doc *d, struct index_terms **out)
{
	struct index_terms *l, *g;
	int rc;

	*out = NULL;
	pthread_once(&scratch_once, scratch_key_make);
	/* Room for the usual body: a word is a few bytes of text and 32 or so here. */
	if (!(g = pthread_getspecific(scratch_key)) &&
	    !(g = index_terms_new(4 * d->body_len + 256)))
		return ENOMEM;
	rc = index_terms_gather(d, &g);
	if (rc == 0 && (l = malloc(sizeof(*l) + g->len)) != NULL) {
		memcpy(l, g, sizeof(*l) + g->len);
		l->cap = l->len;
		*out = l;
	} else if (rc == 0) {
		rc = ENOMEM;
	}
	if (g->cap > SCRATCH_KEEP) {
		free(g);
		g = NULL;
	}
	if (pthread_setspecific(scratch_key, g) != 0)
		free(g);
	return rc;
}
