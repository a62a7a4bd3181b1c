/*
 * fuzz_jsonmp.c: the CLI's JSON <-> msgpack conversion takes any input without
 * harm. The input is read twice:
 *   - as a user's JSON file, parsed as the CLI parses it: what jsonmp_encode
 *     accepts is canonical, decodes back to an equal JSON value, and encodes
 *     again to the same bytes (one body, one encoding, one hash);
 *   - as msgpack from agorad: what jsonmp_decode accepts encodes back to the
 *     very same bytes, so a record read, edited and put back changes only where
 *     the user changed it; but for what JSON cannot hold (bins become base64
 *     text, integers above INT64_MAX reals), which must not crash.
 */
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "jsonmp.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode v at level, or NULL; an error must say why. */
static uint8_t *encode(const json_t *v, int level, size_t *len)
{
	char err[256] = "";
	uint8_t *mp = NULL;

	if (jsonmp_encode_at(v, level, &mp, len, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || mp != NULL)
			abort();
		return NULL;
	}
	return mp;
}

static void from_json(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	                       &e),
	       *back;
	uint8_t *mp, *again;
	size_t len, len2;
	char err[256];

	if (!v)
		return;
	mp = encode(v, 2, &len);
	if (mp) {
		if (ag_mp_check(mp, len, AG_DEPTH_MAX - 1, NULL) != 0)
			abort();
		back = jsonmp_decode(mp, len, err, sizeof(err));
		if (!back || !json_equal(v, back))
			abort();
		again = encode(back, 2, &len2);
		if (!again || len2 != len || memcmp(mp, again, len) != 0)
			abort();
		free(again);
		json_decref(back);
		free(mp);
	}
	json_decref(v);
}

/* Bins become base64 text, integers above INT64_MAX reals: JSON cannot hold them as they were. */
static bool has_other(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_BIN)
		return true;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > (uint64_t)INT64_MAX)
		return true;
	if (o->type == MSGPACK_OBJECT_ARRAY)
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (has_other(&o->via.array.ptr[i]))
				return true;
	if (o->type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < o->via.map.size; i++)
			if (has_other(&o->via.map.ptr[i].val))
				return true;
	return false;
}

static void from_msgpack(const uint8_t *data, size_t size)
{
	msgpack_unpacked up;
	char err[256] = "";
	size_t off = 0, len;
	uint8_t *mp;
	json_t *v = jsonmp_decode(data, size, err, sizeof(err));

	if (!v) {
		if (err[0] == '\0')
			abort();
		return;
	}
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, (const char *)data, size, &off) != MSGPACK_UNPACK_SUCCESS)
		abort(); /* jsonmp_decode took it */
	if (!has_other(&up.data)) {
		mp = encode(v, 1, &len);
		if (!mp || len != size || memcmp(mp, data, size) != 0)
			abort();
		free(mp);
	}
	msgpack_unpacked_destroy(&up);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > AG_BODY_MAX)
		return 0; /* the daemon refuses larger bodies; the parsers are linear */
	from_json(data, size);
	from_msgpack(data, size);
	return 0;
}
