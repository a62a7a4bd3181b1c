/*
 * fuzz_block.c: the index's block reader takes any bytes without harm, as
 * a store's damaged pages may hold: entries parse or are refused, postings
 * decode or are refused, never read past the block, and what decodes is
 * in posting order and encodes back to the same postings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Postings decoded are strictly ascending, and survive a round trip through the encoder. */
static void check_postings(const struct entry *e, const uint8_t *post)
{
	size_t n = e->n, len;
	uint8_t *enc = malloc(ENTRY_MAX(e->tlen, n)), *again = malloc(n * POST_LEN);
	struct entry back;
	size_t pos = 0;

	if (!enc || !again)
		abort();
	for (size_t i = 1; i < n; i++)
		if (post_cmp(post + (i - 1) * POST_LEN, post + i * POST_LEN) >= 0)
			abort();
	len = index_entry_encode(enc, e->term, e->tlen, post, n);
	if (index_entry_parse(enc, len, &pos, &back) != 0 || pos != len || back.n != n ||
	    back.tlen != e->tlen || memcmp(back.term, e->term, e->tlen) != 0 ||
	    index_entry_postings(&back, again) != 0 || memcmp(again, post, n * POST_LEN) != 0)
		abort();
	free(enc);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct entry e;
		uint8_t *post;

		if (index_entry_parse(data, size, &pos, &e) != 0)
			break;
		if (e.enc < data || e.enc + e.elen > data + size || pos > size)
			abort();
		if (!(post = malloc((size_t)e.n * POST_LEN)))
			abort();
		if (index_entry_postings(&e, post) == 0)
			check_postings(&e, post);
		free(post);
	}
	return 0;
}
