/*
 * stem.h: the network's languages, and the stems of folded words (fold.h),
 * so that a search for "pratiques" finds "pratique" and one for "السكن"
 * finds "والسكن".
 *
 * French, English, Spanish and Italian words are stemmed by the Snowball
 * stemmers (libstemmer). Arabic words by a light stemmer in the manner of
 * Larkey's light10 (which Lucene's ArabicStemmer follows), on folded text:
 * "and" (و), then the article and its compounds (ال، وال، بال، كال، فال،
 * لل) or else one proclitic letter (ب، ل، ك، ف) come off the front; then
 * the endings ها ان ات ون ين يه ه ي (ة and ية fold to ه and يه) off the
 * back, each once; every cut leaves three letters at least. Words of three
 * letters or fewer are their own stems. Snowball's Arabic stemmer was not
 * used: on folded text it keeps clitics (والسكن -> والس) and stems one
 * plural two ways (استشارات -> استشارا, but الاستشارات -> استشار).
 */
#ifndef AGORA_STEM_H
#define AGORA_STEM_H

#include <stddef.h>

#include "fold.h"

enum ag_lang { AG_LANG_NONE, AG_LANG_AR, AG_LANG_EN, AG_LANG_ES, AG_LANG_FR, AG_LANG_IT };
#define AG_LANG_COUNT 6

/* The language of a code ("fr", "ar", ...), AG_LANG_NONE for another. */
enum ag_lang ag_lang_of(const char *code, size_t len);

/* The code of a language ("fr"), "" for AG_LANG_NONE. */
const char *ag_lang_code(enum ag_lang lang);

/*
 * A guess at the language of a plain string: Arabic when most of its words
 * are in Arabic script; else the language of which it holds most common
 * words ("les", "the", "los", "gli"...); AG_LANG_NONE when it holds none.
 */
enum ag_lang ag_lang_guess(const char *text, size_t len);

/*
 * The same guess from words folded already, so that a caller that folds a
 * string for its own use does not fold it again: a zeroed ag_lang_votes,
 * each of the string's words in order to ag_lang_vote until it returns
 * non-zero (enough words to tell) or the words end, then ag_lang_voted.
 */
struct ag_lang_votes {
	size_t words, arabic, hits[AG_LANG_COUNT];
};
int ag_lang_vote(struct ag_lang_votes *, const char *word, size_t len);
enum ag_lang ag_lang_voted(const struct ag_lang_votes *);

/* Whether a folded word is in Arabic script (its first letter in U+0600 to U+06FF). */
int ag_stem_arabic(const char *word);

/*
 * Stems remembered (2.5 MiB, touched as used), which any number of threads may share, each
 * through its own ag_stemmer: threads that index the same text warm one
 * cache, not one each.
 */
struct ag_stem_cache;

struct ag_stem_cache *ag_stem_cache_new(void);   /* NULL when out of memory */
void ag_stem_cache_free(struct ag_stem_cache *); /* NULL-safe; after its stemmers */

/* Stemmers for one thread (Snowball's are stateful), made as first needed. */
struct ag_stemmer;

struct ag_stemmer *ag_stemmer_new(void); /* with a cache of its own; NULL when out of memory */
/* With the shared cache c, which must outlive it. NULL when out of memory. */
struct ag_stemmer *ag_stemmer_new_shared(struct ag_stem_cache *c);
void ag_stemmer_free(struct ag_stemmer *); /* NULL-safe */

/*
 * The stem of a folded word in lang into out: its length, or 0 when lang has
 * no stemmer, memory ran out, or the stem is the word itself.
 */
size_t ag_stem(struct ag_stemmer *, enum ag_lang lang, const char *word, size_t len,
               char out[static AG_FOLD_WORD_MAX]);

/*
 * Several stems of a word at once, with one look in the cache: a bit of
 * kinds for each language, and AG_STEM_WHOLE for ag_stem_whole's. n[k]
 * receives the length of the stem of kind k in out[k], as ag_stem and
 * ag_stem_whole give it (0 for none, and for the kinds not asked).
 */
#define AG_STEM_WHOLE AG_LANG_COUNT
#define AG_STEM_KINDS (AG_LANG_COUNT + 1)
void ag_stem_kinds(struct ag_stemmer *, unsigned kinds, const char *word, size_t len,
                   char out[static AG_STEM_KINDS][AG_FOLD_WORD_MAX],
                   size_t n[static AG_STEM_KINDS]);

/*
 * Starts fetching the cache slot that ag_stem and ag_stem_whole will read
 * for word, in any language (a word's stems share one slot): a caller with
 * many words fetches all their slots first, so that the cache misses
 * overlap instead of each waiting on the last.
 */
void ag_stem_prefetch(const struct ag_stemmer *, const char *word, size_t len);

/*
 * An Arabic word's stem with its first letter kept, when ag_stem took that
 * letter for a proclitic (ب، ل، ك، ف): it may be a root letter (لائق), so
 * both stems are kept. Its length, or 0 when ag_stem cut no such letter.
 * Remembered in the stemmer's cache; the stemmer may be NULL.
 */
size_t ag_stem_whole(struct ag_stemmer *, const char *word, size_t len,
                     char out[static AG_FOLD_WORD_MAX]);

#endif
