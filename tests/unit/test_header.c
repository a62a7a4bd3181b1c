/* test_header.c: entry format 2 (header, body, runs) against tests/vectors/headers.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sodium.h>

#include "header.h"
#include "jsonmp.h"
#include "testutil.h"

static json_t *vectors;
static uint8_t network[32];

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

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
	assert_int_equal(tu_hex_decode(out, n, str(obj, key)), 0);
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
	hex_field(network, 32, vectors, "network");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static json_t *section(const char *name)
{
	json_t *a = json_object_get(vectors, name);

	assert_true(json_array_size(a) > 0);
	return a;
}

/* Fields -> bytes: the body through jsonmp, the header through ag_header_sign. */
static void build_one(json_t *v)
{
	uint8_t seed[32], pk[32], sk[64], hash[32], want32[32], out[AG_HEADER_MAX];
	uint8_t *body = NULL, *want;
	size_t body_len = 0, want_len, out_len = 0;
	struct ag_header h = {0};
	char err[128];

	hex_field(seed, 32, v, "seed");
	ag_key_from_seed(pk, sk, seed);
	memcpy(h.network, network, 32);
	memcpy(h.author, pk, 32);
	h.seq = (uint64_t)json_integer_value(json_object_get(v, "seq"));
	h.has_prev = !json_is_null(json_object_get(v, "prev"));
	if (h.has_prev)
		hex_field(h.prev, 32, v, "prev");
	h.timestamp = (uint64_t)json_integer_value(json_object_get(v, "timestamp"));
	strcpy(h.type, str(v, "type"));
	h.id = str(v, "id");
	h.id_len = strlen(h.id);
	if (!json_is_null(json_object_get(v, "body")))
		assert_int_equal(jsonmp_encode_at(json_object_get(v, "body"), 1, &body, &body_len,
		                                  err, sizeof(err)),
		                 0); /* a format 2 body map is level 1 */
	assert_int_equal(ag_header_sign(&h, body, body_len, sk, out, sizeof(out), &out_len), 0);
	want = hex_alloc(str(v, "header"), &want_len);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(h.body_len, json_integer_value(json_object_get(v, "body_len")));
	ag_header_hash(&h, hash);
	hex_field(want32, 32, v, "hash");
	assert_memory_equal(hash, want32, 32);
	free(want);
	free(body);
	sodium_memzero(sk, sizeof(sk));
}

static void test_build_valid(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	json_array_foreach(section("valid"), i, v) build_one(v);
}

static void check_body_fields(const struct ag_header *h, json_t *v)
{
	uint8_t want[32], *body;
	size_t len;

	assert_int_equal(h->has_body, !json_is_null(json_object_get(v, "body_hash")));
	assert_int_equal(h->body_len, json_integer_value(json_object_get(v, "body_len")));
	if (!h->has_body) {
		assert_int_equal(ag_body_check(h, (const uint8_t *)"\x80", 1, NULL), AG_EBODY);
		return;
	}
	hex_field(want, 32, v, "body_hash");
	assert_memory_equal(h->body_hash, want, 32);
	body = hex_alloc(str(v, "body_msgpack"), &len);
	assert_int_equal(ag_body_check(h, body, len, NULL), 0);
	free(body);
}

/* Bytes -> fields: every valid header opens; its body (withheld or not) matches it. */
static void decode_one(json_t *v)
{
	uint8_t *raw, want[64];
	size_t len, where = 0;
	struct ag_header h;
	const char *id = str(v, "id");

	raw = hex_alloc(str(v, "header"), &len);
	assert_int_equal(ag_header_decode(&h, raw, len, &where), 0);
	assert_int_equal(ag_header_verify(&h, network), 0);
	hex_field(want, 32, v, "author");
	assert_memory_equal(h.author, want, 32);
	assert_int_equal(h.seq, json_integer_value(json_object_get(v, "seq")));
	assert_string_equal(h.type, str(v, "type"));
	assert_int_equal(h.id_len, strlen(id));
	assert_memory_equal(h.id, id, h.id_len);
	assert_int_equal(h.has_prev, !json_is_null(json_object_get(v, "prev")));
	hex_field(want, 64, v, "signature");
	assert_memory_equal(h.sig, want, 64);
	check_body_fields(&h, v);
	free(raw);
}

static void test_decode_valid(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	json_array_foreach(section("valid"), i, v) decode_one(v);
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
    {"prev", AG_EPREV},
    {"record type", AG_ERECTYPE},
    {"record id", AG_ERECID},
    {"body", AG_EBODY},
    {"body hash", AG_EBODYHASH},
    {"non-canonical", AG_ENONCANON},
    {"key order", AG_EKEYORDER},
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

static void expect(const char *name, int got, int want)
{
	if (got != want)
		fail_msg("%s: got \"%s\", want \"%s\"", name, ag_strerror(got), ag_strerror(want));
}

static void test_refuse_invalid_headers(void **state)
{
	size_t i, len, where;
	struct ag_header h;
	uint8_t *raw;
	json_t *v;
	int rc;

	(void)state;
	json_array_foreach(section("invalid_headers"), i, v)
	{
		raw = hex_alloc(str(v, "header"), &len);
		where = SIZE_MAX;
		rc = ag_header_decode(&h, raw, len, &where);
		if (rc == 0)
			rc = ag_header_verify(&h, network);
		else
			assert_true(where <= len || where == AG_HEADER_MAX);
		expect(str(v, "name"), rc, reason_code(str(v, "reason")));
		free(raw);
	}
}

static void test_refuse_invalid_bodies(void **state)
{
	size_t i, len, blen, where;
	struct ag_header h;
	uint8_t *raw, *body;
	json_t *v;

	(void)state;
	json_array_foreach(section("invalid_bodies"), i, v)
	{
		raw = hex_alloc(str(v, "header"), &len);
		body = hex_alloc(str(v, "body"), &blen);
		assert_int_equal(ag_header_decode(&h, raw, len, NULL), 0);
		assert_int_equal(ag_header_verify(&h, network), 0);
		where = SIZE_MAX;
		expect(str(v, "name"), ag_body_check(&h, body, blen, &where),
		       reason_code(str(v, "reason")));
		assert_true(where <= blen);
		free(body);
		free(raw);
	}
}

/*
 * The same run checked keeping its hashes: the same verdict at the same
 * header (keeping them checks nothing less), and, for a run accepted, each
 * header's entry hash.
 */
static void run_hashes(json_t *v, const struct ag_header *run, size_t n, size_t at)
{
	uint8_t(*hash)[AG_HASH_LEN] = calloc(n ? n : 1, sizeof(*hash)), one[AG_HASH_LEN];
	size_t at2 = SIZE_MAX;
	int ok = json_is_true(json_object_get(v, "ok"));

	assert_non_null(hash);
	expect(str(v, "name"), ag_run_check(run, n, network, hash, &at2),
	       ok ? 0 : reason_code(str(v, "reason")));
	assert_int_equal(at2, at);
	for (size_t i = 0; ok && i < n; i++) {
		ag_header_hash(&run[i], one);
		assert_memory_equal(hash[i], one, AG_HASH_LEN);
	}
	free(hash);
}

/* One signature and its chain: runs accepted or refused, at the header the vectors name. */
static void run_one(json_t *v)
{
	json_t *hdrs = json_object_get(v, "headers"), *x;
	size_t n = json_array_size(hdrs), i, len, at = SIZE_MAX;
	struct ag_header *run = calloc(n, sizeof(*run));
	uint8_t **raws = calloc(n, sizeof(*raws));

	assert_non_null(run);
	assert_non_null(raws);
	json_array_foreach(hdrs, i, x)
	{
		raws[i] = hex_alloc(json_string_value(x), &len);
		assert_int_equal(ag_header_decode(&run[i], raws[i], len, NULL), 0);
	}
	if (json_is_true(json_object_get(v, "ok"))) {
		expect(str(v, "name"), ag_run_check(run, n, network, NULL, &at), 0);
	} else {
		expect(str(v, "name"), ag_run_check(run, n, network, NULL, &at),
		       reason_code(str(v, "reason")));
		assert_int_equal(at, json_integer_value(json_object_get(v, "at")));
	}
	run_hashes(v, run, n, at);
	for (i = 0; i < n; i++)
		free(raws[i]);
	free(raws);
	free(run);
}

static void test_runs(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	json_array_foreach(section("runs"), i, v) run_one(v);
}

/* Every truncation of a valid header is refused, never read past its end. */
static void test_every_truncation(void **state)
{
	json_t *v = json_array_get(section("valid"), 1);
	size_t len;
	struct ag_header h;
	uint8_t *raw = hex_alloc(str(v, "header"), &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, raw, cut);
		assert_int_not_equal(ag_header_decode(&h, copy, cut, NULL), 0);
		free(copy);
	}
	free(raw);
}

/* A flipped bit anywhere in a header is refused: by the codec, or by the signature. */
static void test_every_bit_flip(void **state)
{
	json_t *v = json_array_get(section("valid"), 0);
	size_t len;
	struct ag_header h;
	uint8_t *raw = hex_alloc(str(v, "header"), &len);

	(void)state;
	for (size_t bit = 0; bit < len * 8; bit++) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(ag_header_decode(&h, raw, len, NULL) != 0 ||
		            ag_header_verify(&h, network) != 0);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(ag_header_decode(&h, raw, len, NULL), 0);
	assert_int_equal(ag_header_verify(&h, network), 0);
	free(raw);
}

/* Signing refuses what a peer would refuse, before anything is signed. */
static void test_sign_refuses_bad_fields(void **state)
{
	uint8_t seed[32] = {1}, pk[32], sk[64], out[AG_HEADER_MAX];
	struct ag_header h = {0};
	size_t n;

	(void)state;
	ag_key_from_seed(pk, sk, seed);
	memcpy(h.author, pk, 32);
	h.seq = 1;
	strcpy(h.type, "practice");
	h.id = "x";
	h.id_len = 1;
	assert_int_equal(ag_header_sign(&h, NULL, 0, sk, out, sizeof(out), &n), 0);
	assert_false(h.has_body);
	assert_int_equal(ag_header_sign(&h, (const uint8_t *)"\x80", 1, sk, out, sizeof(out), &n),
	                 0);
	assert_true(h.has_body);
	assert_int_equal(h.body_len, 1);
	assert_int_equal(
	    ag_header_sign(&h, (const uint8_t *)"\x91\xc0", 2, sk, out, sizeof(out), &n), AG_EBODY);
	assert_int_equal(ag_header_sign(&h, (const uint8_t *)"\x81\xa1\x61\xcc\x01", 5, sk, out,
	                                sizeof(out), &n),
	                 AG_ENONCANON);
	h.seq = 2; /* no prev */
	assert_int_equal(ag_header_sign(&h, NULL, 0, sk, out, sizeof(out), &n), AG_ESEQ);
	h.seq = 1;
	assert_int_equal(ag_header_sign(&h, NULL, 0, sk, out, 10, &n), AG_ETOOBIG);
	sodium_memzero(sk, sizeof(sk));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_valid),
	    cmocka_unit_test(test_decode_valid),
	    cmocka_unit_test(test_refuse_invalid_headers),
	    cmocka_unit_test(test_refuse_invalid_bodies),
	    cmocka_unit_test(test_runs),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_sign_refuses_bad_fields),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
