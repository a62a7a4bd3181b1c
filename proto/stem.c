/* stem.c: languages and stems of folded words (stem.h). */
#include <libstemmer.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "stem.h"

#define STEM_MIN    3     /* letters a stem keeps at least: shorter ones match too much */
#define CACHE_SIZE  65536 /* Snowball stems kept: words recur, by Zipf's law */
#define CACHE_WORDS 2     /* eight-byte words a slot keeps of a word */
#define CACHE_WORD  (8 * CACHE_WORDS) /* bytes; longer words are stemmed each time */
#define CACHE_LANES 4                 /* stems a slot keeps of its word */
#define LANE_TAIL   2                 /* bytes of a stem after the part of the word it keeps */

static const char *const lang_codes[AG_LANG_COUNT] = {"", "ar", "en", "es", "fr", "it"};
static const char *const snowball[AG_LANG_COUNT] = {NULL,      NULL,     "english",
                                                    "spanish", "french", "italian"};

/* Common words, folded, that tell a language apart from the others; COMMON_MAX bytes at most. */
#define COMMON_MAX 5
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
 * Stems remembered, Snowball's and the Arabic stemmer's, in a pair of slots
 * (two-way set associative), a pair in two cache lines: a Snowball call costs about half a
 * microsecond, the Arabic stemmer's twenty affix comparisons a good part of one, and words recur
 * (Zipf's law). A slot is a word's, with a lane for each of its stems: a word in Latin script has
 * one per Snowball language (a string of unknown language stems its words in all four), one in
 * Arabic script its stem and its whole stem (ag_stem_whole). Keyed by the word alone, a text's
 * vocabulary fills a quarter of the slots that it did keyed by word and language, and conflicts,
 * which made one lookup in ten a miss, are rare. A lane holds its stem as a part of the word and a
 * short tail: Snowball cuts suffixes and changes a letter or two, the Arabic stemmer cuts both
 * ends. A slot is 40 bytes, and the cache's 65536 take 2.5 MB, which a busy
 * node's vocabulary fills: it keeps words of up to 16 bytes and tails of up
 * to 2. Slots of 64 bytes, for words of 24 and tails of 5, cost 1.5 MB more
 * of the daemon's memory for a tenth of a stem made per body fewer (bench-sync's
 * text: 1.01 made per body, not 0.92). Any number of threads share one cache, each with its own
 * stemmers: a slot is a seqlock. meta holds its sequence number (odd while it is written), the
 * word's length, and a bit for each lane that holds a stem; a reader that sees the number change,
 * or odd, takes a miss. Every field is an atomic, read and written relaxed between the fences.
 */
struct slot {
	_Atomic uint64_t meta; /* seq(32) len(8) lanes(8) */
	_Atomic uint64_t word[CACHE_WORDS];
	_Atomic uint32_t lane[CACHE_LANES];
};

_Static_assert(sizeof(struct slot) == 40, "a pair of slots in 80 bytes");

/* The slots, in pairs of 80 bytes from a 64-byte boundary: a word's pair is two cache lines,
 * fetched together. */
struct ag_stem_cache {
	struct slot *slot;
	void *mem; /* calloc's block, the slots in it */
};

struct ag_stemmer {
	struct sb_stemmer *sb[AG_LANG_COUNT];
	int failed[AG_LANG_COUNT];
	struct ag_stem_cache *cache;
	unsigned evict; /* which slot of a full pair a miss takes: each in turn */
	bool owns;      /* made with it, freed with it */
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

int ag_lang_vote(struct ag_lang_votes *v, const char *w, size_t len)
{
	v->words++;
	v->arabic += ag_stem_arabic(w);
	/* Common words are short: most words are not compared at all. */
	for (int l = 1; l < AG_LANG_COUNT && len <= COMMON_MAX; l++)
		for (const char *const *c = common[l]; *c; c++)
			if ((*c)[0] == w[0] && strlen(*c) == len && memcmp(*c, w, len) == 0)
				v->hits[l]++;
	return v->words >= 200; /* enough to tell */
}

enum ag_lang ag_lang_voted(const struct ag_lang_votes *v)
{
	enum ag_lang best = AG_LANG_NONE;

	if (v->words && v->arabic * 2 >= v->words)
		return AG_LANG_AR;
	for (int l = 1; l < AG_LANG_COUNT; l++)
		if (v->hits[l] > (best ? v->hits[best] : 0))
			best = (enum ag_lang)l;
	return best;
}

static int guess_word(const char *w, size_t len, void *arg)
{
	return ag_lang_vote(arg, w, len);
}

enum ag_lang ag_lang_guess(const char *text, size_t len)
{
	struct ag_lang_votes v = {0};

	(void)ag_fold_words(text, len, guess_word, &v);
	return ag_lang_voted(&v);
}

struct ag_stem_cache *ag_stem_cache_new(void)
{
	struct ag_stem_cache *c = malloc(sizeof(*c));

	/* calloc, not aligned_alloc and memset: the pages stay untouched until used. */
	if (!c || !(c->mem = calloc(1, CACHE_SIZE * sizeof(struct slot) + 63))) {
		free(c);
		return NULL;
	}
	c->slot = (struct slot *)(((uintptr_t)c->mem + 63) & ~(uintptr_t)63);
	return c;
}

void ag_stem_cache_free(struct ag_stem_cache *c)
{
	if (c)
		free(c->mem);
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

/* A word of at most CACHE_WORD bytes as numbers, zero padded: how the cache holds it. */
static void word_load(const char *w, size_t len, uint64_t out[static CACHE_WORDS])
{
	for (size_t i = 0; i < CACHE_WORDS; i++)
		out[i] = len > 8 * i ? ag_le_load(w + 8 * i, len - 8 * i < 8 ? len - 8 * i : 8) : 0;
}

/* The first of the pair of slots that may hold a word. */
static struct slot *cache_pair(struct ag_stem_cache *c, const uint64_t w[static CACHE_WORDS],
                               size_t len)
{
	uint64_t h = len * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < CACHE_WORDS; i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return &c->slot[2 * (h % (CACHE_SIZE / 2))];
}

/* The lane of a stem: Arabic's and the whole stem for a word in Arabic script, else Snowball's. */
static unsigned lane_of(int kind)
{
	return kind == AG_LANG_AR ? 0 : kind == AG_STEM_WHOLE ? 1 : (unsigned)(kind - AG_LANG_EN);
}

static uint64_t meta_make(uint64_t seq, size_t len, unsigned lanes)
{
	return seq << 32 | (uint64_t)len << 8 | lanes;
}

/*
 * A stem as a lane: where it starts in the word, how much of the word it
 * keeps, and a tail: [start | tail length << 6][keep][tail, 2 bytes]. 0 for
 * no stem; false when it has no such form.
 */
static bool lane_make(const char *w, size_t len, const char *stem, size_t n, uint32_t *lane)
{
	size_t start, keep = 0;

	for (start = 0; n > 0 && start < len; start++) {
		for (keep = 0; keep < n && start + keep < len && w[start + keep] == stem[keep];
		     keep++)
			;
		if (n - keep <= LANE_TAIL && keep > 0)
			break;
	}
	if (n > 0 && (start == len || n - keep > LANE_TAIL))
		start = keep = 0; /* a stem that is all tail */
	if (n - keep > LANE_TAIL)
		return false;
	/* start < len <= CACHE_WORD: six bits */
	*lane = n == 0 ? 0 : (uint32_t)(start | (n - keep) << 6) | (uint32_t)keep << 8;
	for (size_t i = keep; i < n; i++)
		*lane |= (uint32_t)(uint8_t)stem[i] << (8 * (2 + i - keep));
	return true;
}

/* The stem that lane holds of w, into out: its length. */
static size_t lane_stem(uint32_t lane, const char *w, char out[static AG_FOLD_WORD_MAX])
{
	size_t start = lane & 0x3f, tail = lane >> 6 & 0x3, keep = lane >> 8 & 0xff;

	memcpy(out, w + start, keep);
	for (size_t i = 0; i < tail; i++)
		out[keep + i] = (char)(lane >> (8 * (2 + i)));
	return keep + tail;
}

/*
 * The lanes that sl holds of the word wv (len bytes), read at once into
 * lanes: a bit for each in the result, 0 when sl holds another word.
 */
static unsigned cache_read(struct slot *sl, const uint64_t wv[static CACHE_WORDS], size_t len,
                           uint32_t lanes[static CACHE_LANES])
{
	uint64_t m = atomic_load_explicit(&sl->meta, memory_order_acquire);
	bool same = true;

	if ((m >> 32) % 2 == 1 || (m >> 8 & 0xff) != len)
		return 0;
	for (int i = 0; i < CACHE_WORDS; i++)
		same &= atomic_load_explicit(&sl->word[i], memory_order_relaxed) == wv[i];
	for (int i = 0; i < CACHE_LANES; i++)
		lanes[i] = atomic_load_explicit(&sl->lane[i], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&sl->meta, memory_order_relaxed) != m || !same)
		return 0;
	return m & 0xff;
}

/*
 * Keeps w's stem in sl's lane, with the word's other lanes if sl holds it
 * already; unless another thread is writing the slot, or the stem has no
 * lane's form.
 */
static void cache_put(struct slot *sl, unsigned lane, const uint64_t wv[static CACHE_WORDS],
                      const char *w, size_t len, const char *stem, size_t n)
{
	uint64_t m = atomic_load_explicit(&sl->meta, memory_order_relaxed), seq = m >> 32;
	unsigned lanes = 0;
	uint32_t v;

	if (seq % 2 == 1 || !lane_make(w, len, stem, n, &v) ||
	    !atomic_compare_exchange_strong_explicit(&sl->meta, &m, meta_make(seq + 1, 0, 0),
	                                             memory_order_acquire, memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	if ((m >> 8 & 0xff) == len) {
		lanes = m & 0xff;
		for (int i = 0; i < CACHE_WORDS; i++)
			if (atomic_load_explicit(&sl->word[i], memory_order_relaxed) != wv[i])
				lanes = 0;
	}
	for (int i = 0; i < CACHE_WORDS; i++)
		atomic_store_explicit(&sl->word[i], wv[i], memory_order_relaxed);
	atomic_store_explicit(&sl->lane[lane], v, memory_order_relaxed);
	atomic_store_explicit(&sl->meta, meta_make((seq + 2) & 0xffffffff, len, lanes | 1u << lane),
	                      memory_order_release);
}

void ag_stem_prefetch(const struct ag_stemmer *s, const char *word, size_t len)
{
	uint64_t wv[CACHE_WORDS];
	const struct slot *sl;

	if (len > CACHE_WORD)
		return;
	word_load(word, len, wv);
	sl = cache_pair(s->cache, wv, len);
	__builtin_prefetch(sl);
	__builtin_prefetch((const char *)(sl + 2) - 1);
}

/* The whole stem: the Arabic stem with a first letter kept that the stem took for a proclitic. */
static size_t whole_made(const char *word, size_t len, char out[static AG_FOLD_WORD_MAX])
{
	char cut[AG_FOLD_WORD_MAX];
	size_t n = arabic_stem(word, len, 0, out), c = arabic_stem(word, len, 1, cut);

	return n == c && memcmp(out, cut, n) == 0 ? 0 : n ? n : (memcpy(out, word, len), len);
}

/* The stem of a kind (a language, or AG_STEM_WHOLE), not remembered. */
static size_t stem_made(struct ag_stemmer *s, int kind, const char *word, size_t len,
                        char out[static AG_FOLD_WORD_MAX])
{
	if (kind == AG_STEM_WHOLE)
		return whole_made(word, len, out);
	return kind == AG_LANG_AR ? arabic_stem(word, len, 1, out)
	                          : snowball_stem(s, (enum ag_lang)kind, word, len, out);
}

/* The letters of a word of at most CACHE_WORD bytes, wv as word_load read it: its bytes but
 * continuation bytes. */
static size_t word_chars(const uint64_t wv[static CACHE_WORDS], size_t len)
{
	const uint64_t high = 0x8080808080808080ull;
	size_t cont = 0;

	/* A byte 10xxxxxx continues a letter: its high bit, less the next bit, summed by a
	 * multiply. */
	for (int i = 0; i < CACHE_WORDS; i++)
		cont += (((wv[i] & high & ~(wv[i] << 1)) >> 7) * 0x0101010101010101ull) >> 56;
	return len - cont;
}

/*
 * One look in the cache for a word's stems: the slot, and the lanes it
 * held. Words longer than the cache keeps are looked up nowhere.
 */
struct look {
	uint64_t wv[CACHE_WORDS];
	struct slot *sl; /* NULL: not cached */
	unsigned have;
	uint32_t lanes[CACHE_LANES];
};

static bool slot_used(struct slot *sl)
{
	return atomic_load_explicit(&sl->meta, memory_order_relaxed) != 0;
}

/* Whether word has more than STEM_MIN letters, and if so, its look in s's cache. */
static bool look_up(struct ag_stemmer *s, const char *word, size_t len, struct look *k)
{
	k->sl = NULL;
	if (!s || len > CACHE_WORD)
		return ag_fold_chars(word, len) > STEM_MIN;
	word_load(word, len, k->wv);
	if (word_chars(k->wv, len) <= STEM_MIN)
		return false;
	k->sl = cache_pair(s->cache, k->wv, len);
	if ((k->have = cache_read(k->sl, k->wv, len, k->lanes)) != 0)
		return true;
	if ((k->have = cache_read(k->sl + 1, k->wv, len, k->lanes)) != 0) {
		k->sl++;
		return true;
	}
	/* A miss: the stems go to an empty slot of the pair, else to each slot in turn. */
	if (slot_used(k->sl) && (!slot_used(k->sl + 1) || s->evict++ % 2))
		k->sl++;
	return true;
}

/* A stem of a kind, from the look, or made and kept in the cache. */
static size_t stem_kind(struct ag_stemmer *s, const struct look *k, int kind, const char *word,
                        size_t len, char out[static AG_FOLD_WORD_MAX])
{
	unsigned lane = lane_of(kind);
	size_t n;

	if (k->sl && (k->have & 1u << lane))
		return lane_stem(k->lanes[lane], word, out);
	n = stem_made(s, kind, word, len, out);
	if (k->sl)
		cache_put(k->sl, lane, k->wv, word, len, out, n);
	return n;
}

/* Whether a kind of stem applies to word: Arabic words have the Arabic stemmer's stems only, others
 * Snowball's. */
static bool kind_fits(int kind, const char *word)
{
	return (kind == AG_LANG_AR || kind == AG_STEM_WHOLE) == (ag_stem_arabic(word) != 0);
}

size_t ag_stem(struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len,
               char out[static AG_FOLD_WORD_MAX])
{
	struct look k;

	if (lang <= AG_LANG_NONE || lang >= AG_LANG_COUNT || !kind_fits(lang, word) ||
	    !look_up(s, word, len, &k))
		return 0;
	return stem_kind(s, &k, lang, word, len, out);
}

size_t ag_stem_whole(struct ag_stemmer *s, const char *word, size_t len,
                     char out[static AG_FOLD_WORD_MAX])
{
	struct look k;

	if (!kind_fits(AG_STEM_WHOLE, word) || !look_up(s, word, len, &k))
		return 0;
	return stem_kind(s, &k, AG_STEM_WHOLE, word, len, out);
}

void ag_stem_kinds(struct ag_stemmer *s, unsigned kinds, const char *word, size_t len,
                   char out[static AG_STEM_KINDS][AG_FOLD_WORD_MAX], size_t n[static AG_STEM_KINDS])
{
	struct look k;
	bool stems = look_up(s, word, len, &k);

	for (int i = AG_LANG_AR; i < AG_STEM_KINDS; i++)
		n[i] = stems && (kinds & 1u << i) && kind_fits(i, word)
		           ? stem_kind(s, &k, i, word, len, out[i])
		           : 0;
}
