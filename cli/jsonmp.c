/* jsonmp.c: JSON <-> canonical msgpack, on jansson and msgpack-c. */
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "jsonmp.h"
#include "mp.h"

static int pack_value(msgpack_packer *pk, const json_t *v, int depth);

/* A member of a JSON object; keys are counted, not terminated: one may hold a NUL. */
struct member {
	const char *key;
	size_t len;
	const json_t *val;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int pack_object(msgpack_packer *pk, const json_t *v, int depth)
{
	size_t n = json_object_size(v), i = 0, len;
	struct member *m = calloc(n ? n : 1, sizeof(*m));
	const char *k;
	json_t *val;
	int rc = 0;

	if (!m)
		return -1;
	json_object_keylen_foreach((json_t *)(uintptr_t)v, k, len, val)
	{
		m[i++] = (struct member){k, len, val};
	}
	qsort(m, n, sizeof(*m), member_cmp);
	rc |= msgpack_pack_map(pk, n);
	for (i = 0; i < n && rc == 0; i++) {
		rc |= msgpack_pack_str_with_body(pk, m[i].key, m[i].len);
		rc |= pack_value(pk, m[i].val, depth + 1);
	}
	free(m);
	return rc;
}

static int pack_value(msgpack_packer *pk, const json_t *v, int depth)
{
	size_t i;
	int rc = 0;

	if ((json_is_object(v) || json_is_array(v)) && depth > AG_DEPTH_MAX)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return pack_object(pk, v, depth);
	case JSON_ARRAY:
		rc |= msgpack_pack_array(pk, json_array_size(v));
		for (i = 0; i < json_array_size(v) && rc == 0; i++)
			rc |= pack_value(pk, json_array_get(v, i), depth + 1);
		return rc;
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(v));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(v));
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	default:
		return msgpack_pack_nil(pk);
	}
}

int jsonmp_encode_at(const json_t *v, int level, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t where = 0;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (pack_value(&pk, v, level) != 0) {
		snprintf(err, errlen, "nested deeper than %d levels", AG_DEPTH_MAX - level + 1);
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	rc = ag_mp_check((const uint8_t *)sb.data, sb.size, AG_DEPTH_MAX - level + 1, &where);
	if (rc != 0) {
		snprintf(err, errlen, "%s at byte %zu", ag_strerror(rc), where);
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	*out = (uint8_t *)sb.data;
	*outlen = sb.size;
	return 0;
}

/* Bytes are not text: JSON carries them as standard base64. */
static json_t *bin_to_base64(const char *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(cap);
	json_t *j;

	if (!b64)
		return NULL;
	sodium_bin2base64(b64, cap, (const unsigned char *)p, n, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(b64);
	free(b64);
	return j;
}

/* A str's bytes; msgpack-c leaves an empty one's pointer NULL, which jansson refuses. */
static const char *text_of(const msgpack_object *o)
{
	return o->via.str.size ? o->via.str.ptr : "";
}

static json_t *unpack_map(const msgpack_object *o)
{
	json_t *j = json_object();

	for (uint32_t i = 0; j && i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		json_t *val = jsonmp_from_object(&kv->val);
		const char *key = text_of(&kv->key);

		/* With its length: a key may hold a NUL byte, and must not be cut there. */
		if (!val || json_object_setn_new(j, key, kv->key.via.str.size, val) != 0) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

json_t *jsonmp_from_object(const msgpack_object *o)
{
	json_t *j;

	switch (o->type) {
	case MSGPACK_OBJECT_MAP:
		return unpack_map(o);
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; j && i < o->via.array.size; i++)
			if (json_array_append_new(j, jsonmp_from_object(&o->via.array.ptr[i])) !=
			    0) {
				json_decref(j);
				j = NULL;
			}
		return j;
	case MSGPACK_OBJECT_STR:
		return json_stringn(text_of(o), o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return bin_to_base64(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		/* jansson holds int64: above it, the nearest real rather than a negative. */
		if (o->via.u64 > (uint64_t)INT64_MAX)
			return json_real((double)o->via.u64);
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	default:
		return json_null();
	}
}

int jsonmp_encode(const json_t *v, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	/* The body is level 2 of an entry: its own nesting may go 15 deep. */
	return jsonmp_encode_at(v, 2, out, outlen, err, errlen);
}

json_t *jsonmp_from_checked(const uint8_t *buf, size_t len)
{
	msgpack_unpacked up;
	size_t off = 0;
	json_t *j = NULL;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, (const char *)buf, len, &off) == MSGPACK_UNPACK_SUCCESS)
		j = jsonmp_from_object(&up.data);
	msgpack_unpacked_destroy(&up);
	return j;
}

json_t *jsonmp_decode(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t where = 0;
	json_t *j;
	int rc;

	/* Checked first, so msgpack-c never sizes anything from unchecked counts. */
	if ((rc = ag_mp_check(buf, len, AG_DEPTH_MAX, &where)) != 0) {
		snprintf(err, errlen, "%s at byte %zu", ag_strerror(rc), where);
		return NULL;
	}
	if (!(j = jsonmp_from_checked(buf, len)))
		snprintf(err, errlen, "out of memory");
	return j;
}
