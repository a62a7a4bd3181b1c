/* fuzz_entry.c: the entry decoder and verifier take any bytes without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t network[32];
	static int ready;
	struct ag_entry e;
	uint8_t hash[AG_HASH_LEN];
	size_t where = 0;

	if (!ready) {
		if (ag_init() != 0)
			abort();
		ag_network_default(network);
		ready = 1;
	}
	if (ag_entry_decode(&e, data, size, &where) != 0) {
		if (where > size && where != AG_ENTRY_MAX)
			abort(); /* the reported position must be inside the input */
		return 0;
	}
	/* A decoded entry is canonical: its body re-checks, and it hashes and verifies safely. */
	if (e.body && ag_mp_check(e.body, e.body_len, AG_DEPTH_MAX - 1, NULL) != 0)
		abort();
	ag_entry_hash(&e, hash);
	(void)!ag_entry_verify(&e, network);
	return 0;
}
