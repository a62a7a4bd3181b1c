/*
 * report_fold.h: the search index's folding of text into words, for the
 * report's filter, which must fold as agora search does. The index's own
 * folding is in daemon/index.c, which the CLI may not use; it moves to
 * proto/fold.h (ag_fold_char, ag_fold_words), and these two then call it.
 * Until then report_fold.c holds a copy of index.c's, and test_report_fold
 * holds it to the same results as the index's on every code point.
 */
#ifndef AGORA_REPORT_FOLD_H
#define AGORA_REPORT_FOLD_H

#include <stddef.h>
#include <stdint.h>

#define RFOLD_WORD_MAX 64  /* bytes of one folded word; longer words are cut */
#define RFOLD_CHAR_MAX 128 /* bytes that one code point folds to, at most */

/*
 * Folds the code point cp into out: the UTF-8 of what it keeps, where a 0
 * byte ends a word. Returns the bytes written (0: cp is dropped).
 */
size_t rfold_char(uint32_t cp, uint8_t out[static RFOLD_CHAR_MAX]);

/* Calls fn with each folded word of text (two characters or more), in order. */
typedef int rfold_word_fn(const char *word, size_t len, void *arg);
int rfold_words(const char *text, size_t len, rfold_word_fn *fn, void *arg);

#endif
