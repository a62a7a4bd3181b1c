/* stem.c: languages and stems of folded words (stem.h). */
#include <libstemmer.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stem.h"

#define STEM_MIN    3     /* letters a stem keeps at least: shorter ones match too much */
#define CACHE_SIZE  65536 /* Snowball stems kept: words recur, by Zipf's law */
#define CACHE_WORDS 3     /* eight-byte words a slot keeps of a word, and of its stem */
#define CACHE_WORD  (8 * CACHE_WORDS) /* bytes; longer words are stemmed each time */

static const char *const lang_codes[AG_LANG_COUNT] = {"", "ar", "en", "es", "fr", "it"};
static const char *const snowball[AG_LANG_COUNT] = {NULL,      NULL,     "english",
                                                    "spanish", "french", "italian"};

/* Common words, folded, that tell a language apart from the others. */
static const char *const common[AG_LANG_COUNT][16] = {
    [AG_LANG_EN] = {"the", "and", "of", "to", "in", "for", "with", "is", "are", "on", "by", "from",
                    "this", "that"},
    [AG_LANG_ES] = {"el", "los", "las", "del", "con", "por", "para", "una", "es", "que", "se",
                    "como", "al"},
    [AG_LANG_FR] = {"les", "des", "du", "est", "une", "pour", "dans", "avec", "sur", "aux", "qui",
                    "le", "et", "au"},
    [AG_LANG_IT] = {"il", "gli", "della", "delle", "dei", "per", "che", "sono", "nel", "alla", "di",
                    "degli", "nella"},
};

/*
 * Stems remembered, Snowball's and the Arabic stemmer's, direct mapped, one
 * cache line a slot: a Snowball call costs about half a microsecond, the
 * Arabic stemmer's twenty affix comparisons a good part of one, and words
 * recur (Zipf's law). Any number of threads share one cache, each with its own stemmers:
 * a slot is a seqlock. meta holds its sequence number (odd while it is
 * written), language, word length and stem length (0: the word is its own
 * stem); a reader that sees the number change, or odd, takes a miss.
 * Every field is an atomic, read and written relaxed between the fences.
 */
struct slot {
	_Atomic uint64_t meta; /* seq(32) lang(8) len(8) stem_len(8) */
	_Atomic uint64_t word[CACHE_WORDS], stem[CACHE_WORDS];
};

struct ag_stem_cache {
	struct slot slot[CACHE_SIZE];
};

struct ag_stemmer {
	struct sb_stemmer *sb[AG_LANG_COUNT];
	int failed[AG_LANG_COUNT];
	struct ag_stem_cache *cache;
	bool owns; /* made with it, freed with it */
};

enum ag_lang ag_lang_of(const char *code, size_t len)
{
	for (int l = 1; l < AG_LANG_COUNT; l++)
		if (len == 2 && memcmp(code, lang_codes[l], 2) == 0)
			return (enum ag_lang)l;
	return AG_LANG_NONE;
}

const char *ag_lang_code(enum ag_lang lang)
{
	return lang > 0 && lang < AG_LANG_COUNT ? lang_codes[lang] : "";
}

int ag_stem_arabic(const char *w)
{
	unsigned char c = (unsigned char)w[0];

	return c >= 0xd8 && c <= 0xdb; /* U+0600 to U+06FF */
}

struct guess {
	size_t words, arabic, hits[AG_LANG_COUNT];
};

static int guess_word(const char *w, size_t len, void *arg)
{
	struct guess *g = arg;

	g->words++;
	g->arabic += ag_stem_arabic(w);
	for (int l = 1; l < AG_LANG_COUNT; l++)
		for (const char *const *c = common[l]; *c; c++)
			if (strlen(*c) == len && memcmp(*c, w, len) == 0)
				g->hits[l]++;
	return g->words >= 200; /* enough to tell */
}

enum ag_lang ag_lang_guess(const char *text, size_t len)
{
	struct guess g = {0};
	enum ag_lang best = AG_LANG_NONE;

	(void)ag_fold_words(text, len, guess_word, &g);
	if (g.words && g.arabic * 2 >= g.words)
		return AG_LANG_AR;
	for (int l = 1; l < AG_LANG_COUNT; l++)
		if (g.hits[l] > (best ? g.hits[best] : 0))
			best = (enum ag_lang)l;
	return best;
}

struct ag_stem_cache *ag_stem_cache_new(void)
{
	return calloc(1, sizeof(struct ag_stem_cache));
}

void ag_stem_cache_free(struct ag_stem_cache *c)
{
	free(c);
}

struct ag_stemmer *ag_stemmer_new_shared(struct ag_stem_cache *c)
{
	struct ag_stemmer *s = calloc(1, sizeof(*s));

	if (s)
		s->cache = c;
	return s;
}

struct ag_stemmer *ag_stemmer_new(void)
{
	struct ag_stem_cache *c = ag_stem_cache_new();
	struct ag_stemmer *s = c ? ag_stemmer_new_shared(c) : NULL;

	if (!s) {
		ag_stem_cache_free(c);
		return NULL;
	}
	s->owns = true;
	return s;
}

void ag_stemmer_free(struct ag_stemmer *s)
{
	if (!s)
		return;
	for (int l = 0; l < AG_LANG_COUNT; l++)
		if (s->sb[l])
			sb_stemmer_delete(s->sb[l]);
	if (s->owns)
		ag_stem_cache_free(s->cache);
	free(s);
}

/* Whether w[0..*len) ends with suffix and keeps STEM_MIN letters without it; if so, drops it. */
static int arabic_cut_end(const char *w, size_t *len, const char *suffix)
{
	size_t sl = strlen(suffix);

	if (*len < sl || memcmp(w + *len - sl, suffix, sl) != 0 ||
	    ag_fold_chars(w, *len - sl) < STEM_MIN)
		return 0;
	*len -= sl;
	return 1;
}

/* The same at the front: *w moves past prefix. */
static int arabic_cut_front(const char **w, size_t *len, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (*len < pl || memcmp(*w, prefix, pl) != 0 ||
	    ag_fold_chars(*w + pl, *len - pl) < STEM_MIN)
		return 0;
	*w += pl;
	*len -= pl;
	return 1;
}

static size_t arabic_stem(const char *w, size_t len, int clitic, char out[static AG_FOLD_WORD_MAX])
{
	static const char *const articles[] = {"وال", "بال", "كال", "فال", "لل", "ال"};
	static const char *const clitics[] = {"ب", "ل", "ك", "ف"};
	static const char *const endings[] = {"ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي"};
	const char *s = w;
	size_t n = len;
	int cut = arabic_cut_front(&s, &n, "و"), art = 0; /* "and", before all else */

	for (size_t i = 0; i < sizeof(articles) / sizeof(articles[0]) && !art; i++)
		art = arabic_cut_front(&s, &n, articles[i]);
	for (size_t i = 0; clitic && i < sizeof(clitics) / sizeof(clitics[0]) && !art && !cut; i++)
		cut = arabic_cut_front(&s, &n, clitics[i]);
	for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++)
		arabic_cut_end(s, &n, endings[i]);
	if (n == len)
		return 0;
	memcpy(out, s, n);
	return n;
}

static struct sb_stemmer *snowball_get(struct ag_stemmer *s, enum ag_lang lang)
{
	if (!s->sb[lang] && !s->failed[lang] && snowball[lang])
		s->failed[lang] = !(s->sb[lang] = sb_stemmer_new(snowball[lang], "UTF_8"));
	return s->sb[lang];
}

static size_t snowball_stem(struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len,
                            char out[static AG_FOLD_WORD_MAX])
{
	struct sb_stemmer *sb;
	const sb_symbol *r;
	size_t n;

	if (!(sb = snowball_get(s, lang)) ||
	    !(r = sb_stemmer_stem(sb, (const sb_symbol *)word, (int)len)))
		return 0;
	n = (size_t)sb_stemmer_length(sb);
	if (n > AG_FOLD_WORD_MAX || ag_fold_chars((const char *)r, n) < STEM_MIN ||
	    (n == len && memcmp(r, word, len) == 0))
		return 0;
	memcpy(out, r, n);
	return n;
}

static struct slot *cache_slot(struct ag_stem_cache *c, enum ag_lang lang, const char *w,
                               size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)lang;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)w[i]) * 16777619u;
	return &c->slot[h % CACHE_SIZE];
}

static uint64_t meta_make(uint64_t seq, enum ag_lang lang, size_t len, size_t stem_len)
{
	return seq << 32 | (uint64_t)lang << 16 | (uint64_t)len << 8 | (uint64_t)stem_len;
}

/* The stem of word kept in sl, into out: its length, 0 for the word itself; -1 on a miss. */
static long cache_get(struct slot *sl, enum ag_lang lang, const char *word, size_t len,
                      char out[static AG_FOLD_WORD_MAX])
{
	uint64_t m = atomic_load_explicit(&sl->meta, memory_order_acquire), w[CACHE_WORDS],
	         st[CACHE_WORDS] = {0};
	size_t stem_len = m & 0xff;

	if ((m >> 32) % 2 == 1 || (m >> 16 & 0xff) != (uint64_t)lang || (m >> 8 & 0xff) != len)
		return -1;
	for (int i = 0; i < CACHE_WORDS; i++) {
		w[i] = atomic_load_explicit(&sl->word[i], memory_order_relaxed);
		st[i] = atomic_load_explicit(&sl->stem[i], memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&sl->meta, memory_order_relaxed) != m || memcmp(w, word, len) != 0)
		return -1;
	memcpy(out, st, stem_len);
	return (long)stem_len;
}

/* Keeps word's stem in sl, unless another thread is writing it. */
static void cache_put(struct slot *sl, enum ag_lang lang, const char *word, size_t len,
                      const char *stem, size_t stem_len)
{
	uint64_t m = atomic_load_explicit(&sl->meta, memory_order_relaxed), seq = m >> 32,
	         w[CACHE_WORDS] = {0}, st[CACHE_WORDS] = {0};

	if (seq % 2 == 1 ||
	    !atomic_compare_exchange_strong_explicit(&sl->meta, &m, meta_make(seq + 1, 0, 0, 0),
	                                             memory_order_acquire, memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	memcpy(w, word, len);
	memcpy(st, stem, stem_len);
	for (int i = 0; i < CACHE_WORDS; i++) {
		atomic_store_explicit(&sl->word[i], w[i], memory_order_relaxed);
		atomic_store_explicit(&sl->stem[i], st[i], memory_order_relaxed);
	}
	atomic_store_explicit(&sl->meta, meta_make((seq + 2) & 0xffffffff, lang, len, stem_len),
	                      memory_order_release);
}

void ag_stem_prefetch(const struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len)
{
	if (lang >= AG_LANG_AR && lang < AG_LANG_COUNT && len <= CACHE_WORD)
		__builtin_prefetch(cache_slot(s->cache, lang, word, len));
}

/* The stem, not remembered: Snowball's, or the Arabic light stemmer's. */
static size_t stem_made(struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len,
                        char out[static AG_FOLD_WORD_MAX])
{
	return lang == AG_LANG_AR ? arabic_stem(word, len, 1, out)
	                          : snowball_stem(s, lang, word, len, out);
}

size_t ag_stem(struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len,
               char out[static AG_FOLD_WORD_MAX])
{
	struct slot *sl;
	long got;
	size_t n;

	if (lang <= AG_LANG_NONE || lang >= AG_LANG_COUNT || ag_fold_chars(word, len) <= STEM_MIN)
		return 0;
	/* Arabic words have the Arabic stemmer's stem only, others Snowball's. */
	if ((lang == AG_LANG_AR) != (ag_stem_arabic(word) != 0))
		return 0;
	if (len > CACHE_WORD)
		return stem_made(s, lang, word, len, out);
	sl = cache_slot(s->cache, lang, word, len);
	if ((got = cache_get(sl, lang, word, len, out)) >= 0)
		return (size_t)got;
	n = stem_made(s, lang, word, len, out);
	if (n <= CACHE_WORD) /* a stem longer than its word is not kept */
		cache_put(sl, lang, word, len, out, n);
	return n;
}

size_t ag_stem_whole(const char *word, size_t len, char out[static AG_FOLD_WORD_MAX])
{
	char cut[AG_FOLD_WORD_MAX];
	size_t n, c;

	if (!ag_stem_arabic(word) || ag_fold_chars(word, len) <= STEM_MIN)
		return 0;
	n = arabic_stem(word, len, 0, out);
	c = arabic_stem(word, len, 1, cut);
	return n == c && memcmp(out, cut, n) == 0 ? 0 : n ? n : (memcpy(out, word, len), len);
}
