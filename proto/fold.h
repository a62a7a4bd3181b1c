/*
 * fold.h: the one folding of text into words, shared by the search index
 * (agorad), the CLI and the report's filter (issue 19), so that a word a
 * user types and a word in a record fold alike everywhere.
 *
 * Each code point folds, alone, to zero or more bytes of UTF-8, or ends a word:
 *   - compatibility forms are decomposed (NFKD): ligatures (the fi
 *     ligature as "fi"), fullwidth letters, Arabic presentation forms as
 *     their letters;
 *   - case is folded (Unicode case folding: "É" as "e", "ß" as "ss");
 *   - combining marks are dropped: accents, and the Arabic harakat (fatha,
 *     damma, kasra, sukun, shadda, tanwin), the hamza above or below alef
 *     (so أ, إ and آ fold to ا);
 *   - format characters (soft hyphen, zero-width joiners) and the Arabic
 *     tatweel are dropped: they never split a word;
 *   - Arabic letters that writers use interchangeably are written one way,
 *     as Lucene's ArabicNormalizer does: alef maqsura ى as yeh ي, teh
 *     marbuta ة as heh ه; Arabic-Indic and Eastern Arabic-Indic digits as
 *     ASCII digits;
 *   - letters (categories L*), digits and numbers (N*) and spacing marks (Mc)
 *     are kept; every other character (spaces, punctuation, symbols,
 *     controls) ends a word, and so does every byte that is not UTF-8.
 * A word is a run of kept characters; words of one character are skipped,
 * and a word is cut at AG_FOLD_WORD_MAX bytes, on a character boundary.
 * Folding a folded word gives the word back.
 */
#ifndef AGORA_FOLD_H
#define AGORA_FOLD_H

#include <stddef.h>
#include <stdint.h>

#define AG_FOLD_WORD_MAX 64  /* bytes of one folded word; longer words are cut */
#define AG_FOLD_CHAR_MAX 128 /* bytes that one code point folds to, at most */

/*
 * Folds the code point cp into out: the UTF-8 of what it keeps, where a 0
 * byte ends a word. Returns the bytes written (0: cp is dropped). A code
 * point that is not a Unicode scalar value ends a word.
 */
size_t ag_fold_char(uint32_t cp, uint8_t out[static AG_FOLD_CHAR_MAX]);

/*
 * Calls fn with each folded word of text, in order, repeats included. fn
 * returning non-zero stops; that value is returned, else 0.
 */
typedef int ag_fold_word_fn(const char *word, size_t len, void *arg);
int ag_fold_words(const char *text, size_t len, ag_fold_word_fn *fn, void *arg);

/* The characters (code points) of len bytes of UTF-8, as the length rules count them. */
size_t ag_fold_chars(const char *s, size_t len);

#endif
