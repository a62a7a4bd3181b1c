/* mp.h: canonical msgpack, the one encoding of every value that proto signs or hashes. */
#ifndef AGORA_MP_H
#define AGORA_MP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Check that buf holds exactly one canonical msgpack value nested at most
 * maxdepth levels: shortest headers, valid UTF-8 strings, map keys unique
 * strings sorted by their bytes, floats only as float 64, no ext types. On error
 * *where, if not NULL, is the offset of the offending byte.
 */
int ag_mp_check(const uint8_t *buf, size_t len, int maxdepth, size_t *where) AG_WUR;

/*
 * Measure the canonical value at buf[0..len) that starts a larger buffer:
 * *used receives its length. Same rules as ag_mp_check.
 */
int ag_mp_check_prefix(const uint8_t *buf, size_t len, int maxdepth, size_t *used,
                       size_t *where) AG_WUR;

/*
 * Bounded but not necessarily canonical, for messages that are read but never
 * signed or hashed (control responses): every count fits in the input, nesting
 * is at most maxdepth, strings are UTF-8 and map keys strings, no ext types;
 * but any header width, float 32, and map keys in any order are accepted.
 */
int ag_mp_check_relaxed(const uint8_t *buf, size_t len, int maxdepth, size_t *where) AG_WUR;

/* Check that s is valid UTF-8 (no surrogates, no overlongs). */
int ag_utf8_check(const uint8_t *s, size_t len) AG_WUR;

#endif
