/* test_cert.c: the succession certificate against the "certs" of tests/vectors/headers.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sodium.h>

#include "cert.h"
#include "testutil.h"

static json_t *vectors, *certs;
static uint8_t network[32], recovery[32];

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static size_t hex_into(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	assert_int_equal(tu_hex_decode(out, n, hex), 0);
	return n;
}

static int setup(void **state)
{
	json_error_t err;

	(void)state;
	assert_int_equal(ag_init(), 0);
	vectors = json_load_file(AGORA_VECTORS "/headers.json", 0, &err);
	if (!vectors) {
		fprintf(stderr, "headers.json:%d: %s\n", err.line, err.text);
		return -1;
	}
	certs = json_object_get(vectors, "certs");
	hex_into(network, 32, str(vectors, "network"));
	hex_into(recovery, 32, str(certs, "recovery"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static void decode_valid(json_t *v, struct ag_cert *c, uint8_t raw[static AG_CERT_MAX])
{
	size_t n = hex_into(raw, AG_CERT_MAX, str(v, "cert"));

	assert_int_equal(ag_cert_decode(c, raw, n, NULL), 0);
	assert_int_equal(ag_cert_verify(c, network, recovery), 0);
}

/* Bytes -> fields, and fields -> the same bytes, signed by the recovery key. */
static void test_valid(void **state)
{
	uint8_t raw[AG_CERT_MAX], out[AG_CERT_MAX], seed[32], pk[32], sk[64], want[32];
	struct ag_cert c, again;
	size_t i, n;
	json_t *v;

	(void)state;
	hex_into(seed, 32, str(certs, "recovery_seed"));
	ag_key_from_seed(pk, sk, seed);
	json_array_foreach(json_object_get(certs, "valid"), i, v)
	{
		decode_valid(v, &c, raw);
		hex_into(want, 32, str(v, "new"));
		assert_memory_equal(c.new_key, want, 32);
		hex_into(want, 32, str(v, "old"));
		assert_memory_equal(c.old_key, want, 32);
		assert_int_equal(c.last_seq, json_integer_value(json_object_get(v, "last_seq")));
		again = c;
		assert_int_equal(ag_cert_sign(&again, sk, out, sizeof(out), &n), 0);
		assert_int_equal(n, c.raw_len);
		assert_memory_equal(out, raw, n);
	}
	sodium_memzero(sk, sizeof(sk));
}

static const struct {
	const char *reason;
	int code;
} reasons[] = {
    {"truncated", AG_ETRUNC}, {"trailing", AG_ETRAILING}, {"shape", AG_ESHAPE},
    {"signature", AG_ESIG},   {"network", AG_ENETWORK},   {"version", AG_EVERSION},
    {"seq", AG_ESEQ},         {"key", AG_EKEY},
};

static int reason_code(const char *reason)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].reason, reason) == 0)
			return reasons[i].code;
	fail_msg("unknown reason in vectors: %s", reason);
	return 0;
}

static void test_invalid(void **state)
{
	uint8_t raw[AG_CERT_MAX];
	struct ag_cert c;
	size_t i, n, where;
	json_t *v;
	int rc, want;

	(void)state;
	json_array_foreach(json_object_get(certs, "invalid"), i, v)
	{
		n = hex_into(raw, sizeof(raw), str(v, "cert"));
		where = SIZE_MAX;
		rc = ag_cert_decode(&c, raw, n, &where);
		if (rc == 0)
			rc = ag_cert_verify(&c, network, recovery);
		else
			assert_true(where <= n);
		want = reason_code(str(v, "reason"));
		if (rc != want)
			fail_msg("%s: got \"%s\", want \"%s\"", str(v, "name"), ag_strerror(rc),
			         ag_strerror(want));
	}
}

/* Every node that holds two certificates for one old key keeps the same one. */
static void test_wins(void **state)
{
	uint8_t raw_a[AG_CERT_MAX], raw_b[AG_CERT_MAX];
	json_t *valid = json_object_get(certs, "valid"), *pair;
	struct ag_cert a, b;
	size_t i;

	(void)state;
	json_array_foreach(json_object_get(certs, "wins"), i, pair)
	{
		decode_valid(json_array_get(valid, json_integer_value(json_array_get(pair, 0))), &a,
		             raw_a);
		decode_valid(json_array_get(valid, json_integer_value(json_array_get(pair, 1))), &b,
		             raw_b);
		assert_true(ag_cert_wins(&a, &b));
		assert_false(ag_cert_wins(&b, &a));
	}
}

/* Every truncation is refused, never read past its end; a flipped bit never verifies. */
static void test_every_cut_and_flip(void **state)
{
	uint8_t raw[AG_CERT_MAX];
	json_t *v = json_array_get(json_object_get(certs, "valid"), 0);
	size_t n = hex_into(raw, sizeof(raw), str(v, "cert"));
	struct ag_cert c;

	(void)state;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(ag_cert_decode(&c, raw, cut, NULL), 0);
	for (size_t bit = 0; bit < n * 8; bit++) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(ag_cert_decode(&c, raw, n, NULL) != 0 ||
		            ag_cert_verify(&c, network, recovery) != 0);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_wins),
	    cmocka_unit_test(test_every_cut_and_flip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
