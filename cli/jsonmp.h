/* jsonmp.h: JSON documents to canonical msgpack and back, for record bodies. */
#ifndef AGORA_JSONMP_H
#define AGORA_JSONMP_H

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Encode a JSON value as canonical msgpack (map keys sorted by their bytes,
 * shortest forms, reals as float 64). On success *out is malloc'd and owned by
 * the caller. Returns 0, or -1 with a reason in err (of size errlen).
 */
int jsonmp_encode(const json_t *v, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/*
 * The same for a value at the given level of a message (1: the message
 * itself), so that nesting is counted as in an entry.
 */
int jsonmp_encode_at(const json_t *v, int level, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen);

/*
 * An unpacked msgpack value as JSON: bins as strings, map keys taken as
 * strings (the input was checked so). NULL when out of memory.
 */
json_t *jsonmp_from_object(const msgpack_object *o);

/*
 * One msgpack value that ag_mp_check or ag_mp_check_relaxed accepted (so
 * msgpack-c sizes nothing from unchecked counts) as JSON; NULL when out of
 * memory.
 */
json_t *jsonmp_from_checked(const uint8_t *buf, size_t len);

/* Decode canonical msgpack (checked first) into a new JSON value, or NULL with a reason. */
json_t *jsonmp_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
