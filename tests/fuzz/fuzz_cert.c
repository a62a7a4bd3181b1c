/* fuzz_cert.c: the succession certificate decoder and verifier take any bytes without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t network[32], recovery[32];
	static int ready;
	struct ag_cert c;
	size_t where = 0;

	if (!ready) {
		if (ag_init() != 0)
			abort();
		ag_network_default(network);
		ready = 1;
	}
	if (ag_cert_decode(&c, data, size, &where) != 0) {
		if (where > size && where != AG_CERT_MAX)
			abort(); /* the reported position must be inside the input */
		return 0;
	}
	/* An accepted certificate hands over to another key, and never wins over itself. */
	if (memcmp(c.old_key, c.new_key, 32) == 0 || ag_cert_wins(&c, &c))
		abort();
	(void)!ag_cert_verify(&c, network, recovery);
	return 0;
}
