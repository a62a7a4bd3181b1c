/*
 * fuzz_schema.c: the schema checker takes any record without harm, and its
 * reason is always one bounded line.
 *
 * Input: a byte choosing the type (one of the eight, or one without a schema),
 * a byte giving the id's length, the id, then the body (any bytes: the checker
 * must refuse what is not a canonical map as well as what breaks the schema).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *why, size_t cap)
{
	size_t n = strnlen(why, cap);

	if (n == cap || memchr(why, '\n', n) || memchr(why, '\r', n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"profile", "priority", "practice", "pilot",  "toolbox",
	                                    "meeting", "comment",  "member",   "unknown"};
	char why[256], small[12];
	const char *type, *id;
	size_t idlen;
	int rc, rc2;

	if (size < 2 || (size_t)data[1] > size - 2)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	idlen = data[1];
	id = (const char *)data + 2;
	data += 2 + idlen;
	size -= 2 + idlen;
	memset(why, 'x', sizeof(why));
	rc = ag_schema_check(type, id, idlen, data, size, why, sizeof(why));
	check_line(why, sizeof(why));
	if (rc > 0 || rc <= AG_ELAST || (rc == AG_ESCHEMA && why[0] == '\0'))
		abort();
	if (rc == 0 && why[0] != '\0')
		abort();
	/* A tiny buffer gets the same verdict and the start of the same reason. */
	rc2 = ag_schema_check(type, id, idlen, data, size, small, sizeof(small));
	check_line(small, sizeof(small));
	if (rc2 != rc || strncmp(small, why, sizeof(small) - 1) != 0)
		abort();
	return 0;
}
