/*
 * fuzz_index.c: the search index's readers of outside text take any bytes
 * without harm: the word splitter and folder (record bodies from peers, query
 * text from control clients) and the walk of a body for its terms. Each word is
 * 2 or more characters of UTF-8, at most INDEX_WORD_MAX bytes, and folds to
 * itself: a query holding a word found in a body must find that body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "index.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct refold {
	const char *word;
	size_t len;
	int count;
};

static int same_word(const char *word, size_t len, void *arg)
{
	struct refold *r = arg;

	if (len != r->len || memcmp(word, r->word, len) != 0)
		abort();
	r->count++;
	return 0;
}

static int check_word(const char *word, size_t len, void *arg)
{
	struct refold r = {word, len, 0};

	(void)arg;
	if (len < 2 || len > INDEX_WORD_MAX || ag_utf8_check((const uint8_t *)word, len) != 0)
		abort();
	if (ag_fold_words(word, len, same_word, &r) != 0 || r.count != 1)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t author[32];
	struct index_doc d = {1, 0, "practice", author, data, size};
	struct index_terms *t = NULL;

	if (ag_fold_words((const char *)data, size, check_word, NULL) != 0)
		abort();
	/* The daemon walks only verified bodies, but the walk checks its bounds all the same. */
	(void)index_prepare(&d, &t);
	index_terms_free(t);
	return 0;
}
