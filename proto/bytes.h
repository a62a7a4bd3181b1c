/*
 * bytes.h: short byte strings read as numbers, for hashing and comparing
 * words. Loads only: bytes copied one by one into a number and then read
 * whole stall the CPU (the load cannot be forwarded from the stores), which
 * cost the index's hashes more than the hashing did.
 */
#ifndef AGORA_BYTES_H
#define AGORA_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The n bytes at p, n at most 8, as a little-endian number: zero above them. */
static inline uint64_t ag_le_load(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t lo, hi;
	uint64_t v;

	if (n >= 8) {
		memcpy(&v, b, 8);
		return v;
	}
	if (n >= 4) { /* two loads that may overlap: the overlap holds the same bytes */
		memcpy(&lo, b, 4);
		memcpy(&hi, b + n - 4, 4);
		return lo | (uint64_t)hi << (8 * (n - 4));
	}
	if (n == 0)
		return 0;
	return b[0] | (uint64_t)b[n / 2] << (8 * (n / 2)) | (uint64_t)b[n - 1] << (8 * (n - 1));
}

/* Whether the n bytes at a and b are the same: inline, where a call to memcmp costs more than short
 * words do. */
static inline int ag_bytes_eq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n >= 8; x += 8, y += 8, n -= 8)
		if (ag_le_load(x, 8) != ag_le_load(y, 8))
			return 0;
	return ag_le_load(x, n) == ag_le_load(y, n);
}

#endif
