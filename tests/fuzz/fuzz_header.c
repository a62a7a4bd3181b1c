/*
 * fuzz_header.c: the format 2 header decoder, the body check and the run
 * check take any bytes without harm. Input: a 2-byte big-endian header length,
 * the header, then the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const struct ag_header *h, const uint8_t *body, size_t len)
{
	size_t where = 0;
	int rc = ag_body_check(h, body, len, &where);

	if (where > len && where != AG_BODY_MAX)
		abort(); /* the reported position must be inside the body */
	/* An accepted body is a canonical map of the header's length. */
	if (rc == 0 && (len != h->body_len || ag_mp_check(body, len, AG_DEPTH_MAX, NULL) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t network[32];
	static int ready;
	struct ag_header h, run[2];
	uint8_t hash[AG_HASH_LEN];
	size_t n, where = 0;

	if (!ready) {
		if (ag_init() != 0)
			abort();
		ag_network_default(network);
		ready = 1;
	}
	if (size < 2)
		return 0;
	n = (size_t)data[0] << 8 | data[1];
	if (n > size - 2)
		n = size - 2;
	if (ag_header_decode(&h, data + 2, n, &where) != 0) {
		if (where > n && where != AG_HEADER_MAX)
			abort();
		return 0;
	}
	ag_header_hash(&h, hash);
	(void)!ag_header_verify(&h, network);
	check_body(&h, data + 2 + n, size - 2 - n);
	/* A header never follows itself, and a run of it alone stands on its own signature. */
	if (ag_header_follows(&h, &h) == 0)
		abort();
	run[0] = h;
	run[1] = h;
	if (ag_run_check(run, 2, network, NULL, NULL) == 0)
		abort();
	return 0;
}
