/* test_entry.c: the entry codec against tests/vectors/entries.json, both directions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sodium.h>

#include "entry.h"
#include "jsonmp.h"
#include "mp.h"
#include "testutil.h"

static json_t *vectors;
static uint8_t network[32];
static uint8_t buf[AG_ENTRY_MAX];

static uint8_t *hex_alloc(const char *hex, size_t *len)
{
	uint8_t *b;

	*len = strlen(hex) / 2;
	b = malloc(*len ? *len : 1);
	assert_non_null(b);
	assert_int_equal(tu_hex_decode(b, *len, hex), 0);
	return b;
}

static void hex_field(uint8_t *out, size_t n, json_t *obj, const char *key)
{
	assert_int_equal(tu_hex_decode(out, n, json_string_value(json_object_get(obj, key))), 0);
}

static int setup(void **state)
{
	json_error_t err;

	(void)state;
	assert_int_equal(ag_init(), 0);
	vectors = json_load_file(AGORA_VECTORS "/entries.json", 0, &err);
	if (!vectors) {
		fprintf(stderr, "entries.json:%d: %s\n", err.line, err.text);
		return -1;
	}
	hex_field(network, 32, vectors, "network");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static void test_network_default(void **state)
{
	uint8_t id[32];

	(void)state;
	ag_network_default(id);
	assert_memory_equal(id, network, 32);
}

/* Fields -> bytes: the body through jsonmp, the entry through ag_entry_sign. */
static void build_one(json_t *v)
{
	uint8_t seed[32], pk[32], sk[64], hash[32], want_sig[64];
	uint8_t *body = NULL, *want;
	size_t body_len = 0, want_len, out_len = 0;
	struct ag_entry e = {0};
	json_t *jb = json_object_get(v, "body"), *jp = json_object_get(v, "prev");
	char err[128];

	hex_field(seed, 32, v, "seed");
	ag_key_from_seed(pk, sk, seed);
	memcpy(e.network, network, 32);
	memcpy(e.author, pk, 32);
	e.seq = (uint64_t)json_integer_value(json_object_get(v, "seq"));
	e.has_prev = !json_is_null(jp);
	if (e.has_prev)
		hex_field(e.prev, 32, v, "prev");
	e.timestamp = (uint64_t)json_integer_value(json_object_get(v, "timestamp"));
	strcpy(e.type, json_string_value(json_object_get(v, "type")));
	e.id = json_string_value(json_object_get(v, "id"));
	e.id_len = strlen(e.id);
	if (!json_is_null(jb)) {
		assert_int_equal(jsonmp_encode(jb, &body, &body_len, err, sizeof(err)), 0);
		want = hex_alloc(json_string_value(json_object_get(v, "body_msgpack")), &want_len);
		assert_int_equal(body_len, want_len);
		assert_memory_equal(body, want, want_len);
		free(want);
		e.body = body;
		e.body_len = body_len;
	}
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &out_len), 0);
	want = hex_alloc(json_string_value(json_object_get(v, "encoded")), &want_len);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(buf, want, want_len);
	hex_field(want_sig, 64, v, "signature");
	assert_memory_equal(e.sig, want_sig, 64);
	ag_entry_hash(&e, hash);
	hex_field(want_sig, 32, v, "hash");
	assert_memory_equal(hash, want_sig, 32);
	free(want);
	free(body);
	sodium_memzero(sk, sizeof(sk));
}

static void test_build_valid(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	json_array_foreach(json_object_get(vectors, "valid"), i, v) build_one(v);
}

/* Bytes -> fields. */
static void decode_one(json_t *v)
{
	uint8_t *raw, want[64];
	size_t len, where = 0;
	struct ag_entry e;
	const char *id = json_string_value(json_object_get(v, "id"));

	raw = hex_alloc(json_string_value(json_object_get(v, "encoded")), &len);
	assert_int_equal(ag_entry_open(&e, raw, len, network, &where), 0);
	hex_field(want, 32, v, "author");
	assert_memory_equal(e.author, want, 32);
	assert_int_equal(e.seq, json_integer_value(json_object_get(v, "seq")));
	assert_int_equal(e.timestamp, json_integer_value(json_object_get(v, "timestamp")));
	assert_string_equal(e.type, json_string_value(json_object_get(v, "type")));
	assert_int_equal(e.id_len, strlen(id));
	assert_memory_equal(e.id, id, e.id_len);
	assert_int_equal(e.has_prev, !json_is_null(json_object_get(v, "prev")));
	if (e.has_prev) {
		hex_field(want, 32, v, "prev");
		assert_memory_equal(e.prev, want, 32);
	}
	if (json_is_null(json_object_get(v, "body"))) {
		assert_null(e.body);
	} else {
		uint8_t *body;
		size_t blen;

		body = hex_alloc(json_string_value(json_object_get(v, "body_msgpack")), &blen);
		assert_int_equal(e.body_len, blen);
		assert_memory_equal(e.body, body, blen);
		free(body);
	}
	free(raw);
}

static void test_decode_valid(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	json_array_foreach(json_object_get(vectors, "valid"), i, v) decode_one(v);
}

static const struct {
	const char *reason;
	int code;
} reasons[] = {
    {"truncated", AG_ETRUNC},
    {"trailing", AG_ETRAILING},
    {"shape", AG_ESHAPE},
    {"signature", AG_ESIG},
    {"network", AG_ENETWORK},
    {"version", AG_EVERSION},
    {"seq", AG_ESEQ},
    {"record type", AG_ERECTYPE},
    {"record id", AG_ERECID},
    {"body", AG_EBODY},
    {"non-canonical", AG_ENONCANON},
    {"ext", AG_EEXT},
    {"key order", AG_EKEYORDER},
    {"utf-8", AG_EUTF8},
    {"depth", AG_EDEPTH},
    {"too large", AG_ETOOBIG},
    {"float", AG_EFLOAT},
};

static int reason_code(const char *reason)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].reason, reason) == 0)
			return reasons[i].code;
	fail_msg("unknown reason in vectors: %s", reason);
	return 0;
}

static void test_refuse_invalid(void **state)
{
	size_t i, len, where;
	struct ag_entry e;
	uint8_t *raw;
	json_t *v;
	int rc, want;

	(void)state;
	json_array_foreach(json_object_get(vectors, "invalid"), i, v)
	{
		raw = hex_alloc(json_string_value(json_object_get(v, "encoded")), &len);
		want = reason_code(json_string_value(json_object_get(v, "reason")));
		where = SIZE_MAX;
		rc = ag_entry_open(&e, raw, len, network, &where);
		if (rc != want)
			fail_msg("%s: got \"%s\", want \"%s\"",
			         json_string_value(json_object_get(v, "name")), ag_strerror(rc),
			         ag_strerror(want));
		assert_true(where <= len || where == AG_ENTRY_MAX);
		free(raw);
	}
}

/* Every truncation of a valid entry is refused, never read past its end. */
static void test_every_truncation(void **state)
{
	json_t *v = json_array_get(json_object_get(vectors, "valid"), 1);
	size_t len, cut;
	struct ag_entry e;
	uint8_t *raw = hex_alloc(json_string_value(json_object_get(v, "encoded")), &len);

	(void)state;
	for (cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, raw, cut);
		assert_int_not_equal(ag_entry_decode(&e, copy, cut, NULL), 0);
		free(copy);
	}
	free(raw);
}

/* A flipped bit anywhere is refused: by the codec, or by the signature. */
static void test_every_bit_flip(void **state)
{
	json_t *v = json_array_get(json_object_get(vectors, "valid"), 0);
	size_t len;
	struct ag_entry e;
	uint8_t *raw = hex_alloc(json_string_value(json_object_get(v, "encoded")), &len);

	(void)state;
	for (size_t bit = 0; bit < len * 8; bit++) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(ag_entry_open(&e, raw, len, network, NULL), 0);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(ag_entry_open(&e, raw, len, network, NULL), 0);
	free(raw);
}

static void test_sign_refuses_bad_fields(void **state)
{
	uint8_t seed[32] = {1}, pk[32], sk[64], other[32];
	struct ag_entry e = {0};
	size_t n;

	(void)state;
	ag_key_from_seed(pk, sk, seed);
	memcpy(e.author, pk, 32);
	e.seq = 1;
	strcpy(e.type, "practice");
	e.id = "x";
	e.id_len = 1;
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), 0);
	e.seq = 2; /* no prev */
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_ESEQ);
	e.seq = 1;
	strcpy(e.type, "Bad");
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_ERECTYPE);
	strcpy(e.type, "practice");
	e.body = (const uint8_t *)"\x91\xc0";
	e.body_len = 2;
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_EBODY);
	e.body = (const uint8_t *)"\x81\xa1\x61\xcc\x01";
	e.body_len = 5;
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_ENONCANON);
	e.body = NULL;
	ag_key_from_seed(other, sk, (const uint8_t[32]){2});
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_EKEY);
	ag_key_from_seed(pk, sk, seed);
	assert_int_equal(ag_entry_sign(&e, sk, buf, 10, &n), AG_ETOOBIG);
}

/*
 * UTF-8 is checked wherever a sequence sits in ASCII text, which the checker
 * skips 8 bytes at a time: broken sequences are refused, valid ones pass.
 */
static void test_utf8_anywhere(void **state)
{
	static const char *const bad[] = {"\xff",     "\x80",         "\xc0\x80",
	                                  "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
	static const char *const good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	uint8_t s[64];

	(void)state;
	for (size_t at = 0; at < 20; at++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			size_t n = strlen(bad[i]);

			memset(s, 'a', sizeof(s));
			memcpy(s + at, bad[i], n);
			assert_int_equal(ag_utf8_check(s, sizeof(s)), AG_EUTF8);
			assert_int_equal(ag_utf8_check(s, at + n), AG_EUTF8);
		}
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			memset(s, 'a', sizeof(s));
			memcpy(s + at, good[i], strlen(good[i]));
			assert_int_equal(ag_utf8_check(s, sizeof(s)), 0);
		}
	}
}

static void test_key_b64(void **state)
{
	uint8_t pk[32], sk[64], back[32];
	char s[AG_B64_LEN + 1];

	(void)state;
	ag_key_generate(pk, sk);
	ag_key_to_b64(s, pk);
	assert_int_equal(strlen(s), 44);
	assert_int_equal(ag_key_from_b64(back, s), 0);
	assert_memory_equal(pk, back, 32);
	s[43] = 'A'; /* padding gone */
	assert_int_equal(ag_key_from_b64(back, s), AG_EKEY);
	assert_int_equal(ag_key_from_b64(back, "short"), AG_EKEY);
	assert_int_equal(ag_key_from_b64(back, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!="),
	                 AG_EKEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_default),
	    cmocka_unit_test(test_build_valid),
	    cmocka_unit_test(test_decode_valid),
	    cmocka_unit_test(test_refuse_invalid),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_sign_refuses_bad_fields),
	    cmocka_unit_test(test_utf8_anywhere),
	    cmocka_unit_test(test_key_b64),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
