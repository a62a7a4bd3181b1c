/* stem.c: languages and stems of folded words (stem.h). */
#include <libstemmer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stem.h"

#define STEM_MIN   3     /* letters a stem keeps at least: shorter ones match too much */
#define CACHE_SIZE 16384 /* Snowball stems kept per stemmer: words recur, by Zipf's law */
#define CACHE_WORD 22    /* bytes of a word the cache keeps; longer ones are stemmed each time */

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

/* A word's Snowball stem, remembered: a Snowball call costs about half a microsecond. */
struct cached {
	uint8_t lang, len, stem_len; /* stem_len 0: the word is its own stem */
	char word[CACHE_WORD];
	char stem[CACHE_WORD];
};

struct ag_stemmer {
	struct sb_stemmer *sb[AG_LANG_COUNT];
	int failed[AG_LANG_COUNT];
	struct cached cache[CACHE_SIZE]; /* direct mapped */
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

struct ag_stemmer *ag_stemmer_new(void)
{
	return calloc(1, sizeof(struct ag_stemmer));
}

void ag_stemmer_free(struct ag_stemmer *s)
{
	if (!s)
		return;
	for (int l = 0; l < AG_LANG_COUNT; l++)
		if (s->sb[l])
			sb_stemmer_delete(s->sb[l]);
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

static struct cached *cache_slot(struct ag_stemmer *s, enum ag_lang lang, const char *w, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)lang;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)w[i]) * 16777619u;
	return &s->cache[h % CACHE_SIZE];
}

size_t ag_stem(struct ag_stemmer *s, enum ag_lang lang, const char *word, size_t len,
               char out[static AG_FOLD_WORD_MAX])
{
	struct cached *c;

	if (lang <= AG_LANG_NONE || lang >= AG_LANG_COUNT || ag_fold_chars(word, len) <= STEM_MIN)
		return 0;
	if (lang == AG_LANG_AR)
		return ag_stem_arabic(word) ? arabic_stem(word, len, 1, out) : 0;
	if (ag_stem_arabic(word))
		return 0;
	if (len > CACHE_WORD)
		return snowball_stem(s, lang, word, len, out);
	c = cache_slot(s, lang, word, len);
	if (c->lang != lang || c->len != len || memcmp(c->word, word, len) != 0) {
		size_t n = snowball_stem(s, lang, word, len, out);

		if (n > CACHE_WORD)
			return n; /* a stem longer than its word: not kept */
		c->stem_len = (uint8_t)n;
		memcpy(c->stem, out, n);
		c->lang = (uint8_t)lang;
		c->len = (uint8_t)len;
		memcpy(c->word, word, len);
	}
	memcpy(out, c->stem, c->stem_len);
	return c->stem_len;
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
