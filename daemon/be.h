/*
 * be.h: big-endian integers in keys and values, so that LMDB's byte order
 * sorts them as numbers. Shared by store.c and the index.
 */
#ifndef AGORA_BE_H
#define AGORA_BE_H

#include <stdint.h>
#include <string.h>

static inline void be32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* One load and a byte swap: the index compares postings with it in its inner loops. */
static inline uint64_t be64_get(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

#endif
