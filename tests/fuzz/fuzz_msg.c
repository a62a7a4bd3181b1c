/* fuzz_msg.c: the replication message decoder and its iterators take any bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_msg m;
	const uint8_t *p;
	size_t len, where = 0;
	uint64_t v;

	if (ag_msg_decode(&m, data, size, &where) != 0) {
		if (where > size && where != AG_MSG_MAX)
			abort();
		return 0;
	}
	if (m.type == AG_MSG_ENTRIES) {
		while (ag_msg_next_entry(&m.list, &p, &len))
			if (p < data || p + len > data + size)
				abort();
	} else if (m.type == AG_MSG_CLOCK || m.type == AG_MSG_HAVE || m.type == AG_MSG_MODE) {
		while (ag_msg_next_pair(&m.list, &p, &v))
			if (p < data || p + 32 > data + size)
				abort();
	}
	return 0;
}
