/* test_jsonmp.c: JSON <-> canonical msgpack, as the CLI reads records and writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonmp.h"
#include "testutil.h"

/* A body as msgpack (hex) and as the JSON the CLI shows for it; both ways unless one_way. */
struct pair {
	const char *hex;
	const char *json;
	int one_way; /* msgpack -> JSON only: JSON cannot hold the value as it was */
};

static const struct pair pairs[] = {
    /* Keys sorted by their bytes, a prefix first. */
    {"83a16101a2616202a16203", "{\"b\": 3, \"ab\": 2, \"a\": 1}", 0},
    /* Empty strings, as values and as keys (msgpack-c hands them over as NULL). */
    {"82a0a0a16192a081a0a0", "{\"\": \"\", \"a\": [\"\", {\"\": \"\"}]}", 0},
    /* int64's extremes, and a uint64 above them shown as the nearest real, not a negative. */
    {"92cf7fffffffffffffffd38000000000000000", "[9223372036854775807, -9223372036854775808]", 0},
    {"cfffffffffffffffff", "18446744073709551615.0", 1},
    /* Bytes reach JSON as base64. */
    {"81a162c403010203", "{\"b\": \"AQID\"}", 1},
};

static void check_pair(const struct pair *p)
{
	size_t len = strlen(p->hex) / 2, outlen;
	uint8_t *mp = malloc(len), *out = NULL;
	json_error_t e;
	json_t *want = json_loads(p->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e), *got;
	char err[256];

	assert_non_null(mp);
	assert_non_null(want);
	assert_int_equal(tu_hex_decode(mp, len, p->hex), 0);
	got = jsonmp_decode(mp, len, err, sizeof(err));
	assert_non_null(got);
	assert_true(json_equal(got, want));
	if (!p->one_way) {
		assert_int_equal(jsonmp_encode_at(want, 1, &out, &outlen, err, sizeof(err)), 0);
		assert_int_equal(outlen, len);
		assert_memory_equal(out, mp, len);
	}
	free(out);
	json_decref(got);
	json_decref(want);
	free(mp);
}

static void test_pairs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		check_pair(&pairs[i]);
}

/* A key holding a NUL byte (jansson parses none, but agorad may send one) is kept whole. */
static void test_nul_key(void **state)
{
	static const uint8_t mp[] = {0x82, 0xa2, 'a', 0, 0xc3, 0xa2, 'a', 1, 0xc2};
	json_t *got;
	uint8_t *out = NULL;
	size_t len;
	char err[256];

	(void)state;
	got = jsonmp_decode(mp, sizeof(mp), err, sizeof(err));
	assert_non_null(got);
	/* json_equal cannot be asked: it looks keys up by their C string. */
	assert_int_equal(json_object_size(got), 2);
	assert_true(json_is_true(json_object_getn(got, "a\0", 2)));
	assert_true(json_is_false(json_object_getn(got, "a\1", 2)));
	assert_int_equal(jsonmp_encode_at(got, 1, &out, &len, err, sizeof(err)), 0);
	assert_int_equal(len, sizeof(mp));
	assert_memory_equal(out, mp, sizeof(mp));
	free(out);
	json_decref(got);
}

/* A body nests 15 levels below the entry's own array and the body map; one more is refused. */
static void test_depth(void **state)
{
	char text[64] = "";
	uint8_t *out = NULL;
	size_t len;
	char err[256];
	json_t *v;

	(void)state;
	for (int deep = 15; deep <= 16; deep++) {
		memset(text, 0, sizeof(text));
		memset(text, '[', (size_t)deep);
		memset(text + deep, ']', (size_t)deep);
		v = json_loads(text, 0, NULL);
		assert_non_null(v);
		assert_int_equal(jsonmp_encode(v, &out, &len, err, sizeof(err)),
		                 deep == 15 ? 0 : -1);
		if (deep == 16)
			assert_non_null(strstr(err, "nested deeper"));
		free(out);
		out = NULL;
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pairs),
	    cmocka_unit_test(test_nul_key),
	    cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
