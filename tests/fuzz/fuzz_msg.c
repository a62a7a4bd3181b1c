/* fuzz_msg.c: the replication message decoder (protocol 2) and its iterators take any bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pointer the decoder handed out must lie inside the input. */
static void inside(const uint8_t *p, size_t len, const uint8_t *data, size_t size)
{
	if (p < data || p + len > data + size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_msg m;
	const uint8_t *p, *b, *h;
	const char *s;
	size_t len, blen, where = 0, n = 0;
	uint64_t v;

	if (ag_msg_decode(&m, data, size, &where) != 0) {
		if (where > size && where != AG_MSG_MAX)
			abort();
		return 0;
	}
	switch (m.type) {
	case AG_MSG_ENTRIES:
		while (ag_msg_next_entry(&m.list, &p, &len, &b, &blen)) {
			inside(p, len, data, size);
			if (b)
				inside(b, blen, data, size);
			if (++n > AG_MSG_ENTRIES_MAX)
				abort();
		}
		break;
	case AG_MSG_CLOCK:
		while (ag_msg_next_head(&m.list, &p, &v, &h)) {
			inside(p, 32, data, size);
			inside(h, 32, data, size);
		}
		break;
	case AG_MSG_HAVE:
	case AG_MSG_MODE:
		while (ag_msg_next_pair(&m.list, &p, &v))
			inside(p, 32, data, size);
		break;
	case AG_MSG_WANT_BODIES:
		while (ag_msg_next_seq(&m.list, &v))
			if (v == 0)
				abort();
		break;
	case AG_MSG_HELLO:
		while (ag_msg_next_str(&m.list, &s, &len))
			inside((const uint8_t *)s, len, data, size);
		break;
	case AG_MSG_SUCCESSION:
		inside(m.cert, m.cert_len, data, size);
		break;
	default:
		break;
	}
	return 0;
}
