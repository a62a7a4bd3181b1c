/*
 * test_entry.c: an entry of format 2, a header and its body, as the daemon
 * handles it (ag_entry_sign, ag_entry_open); the header's own codec is
 * test_header.c's, against tests/vectors/headers.json. Also the network ID,
 * UTF-8 anywhere in text, and keys in base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "entry.h"
#include "mp.h"
#include "mp_internal.h"
#include "testutil.h"

static uint8_t buf[AG_HEADER_MAX];

/* {"a": 1} */
static const uint8_t body[] = {0x81, 0xa1, 'a', 0x01};

static void fields(struct ag_entry *e, const uint8_t pk[32])
{
	memset(e, 0, sizeof(*e));
	memcpy(e->h.author, pk, 32);
	ag_network_default(e->h.network);
	e->h.seq = 1;
	strcpy(e->h.type, "practice");
	e->h.id = "x";
	e->h.id_len = 1;
}

static void test_network_default(void **state)
{
	static const char *hex = "agora/mc2cm/1";
	uint8_t id[32], want[32];

	(void)state;
	ag_network_default(id);
	crypto_generichash(want, 32, (const uint8_t *)hex, strlen(hex), NULL, 0);
	assert_memory_equal(id, want, 32);
}

/* Signed with its body, the pair opens; the body alone, another body, or one on a retraction do
 * not. */
static void test_sign_open_pair(void **state)
{
	uint8_t seed[32] = {1}, pk[32], sk[64], other[4] = {0x81, 0xa1, 'a', 0x02};
	struct ag_entry e, back;
	size_t n, where;
	bool in_body;

	(void)state;
	ag_key_from_seed(pk, sk, seed);
	fields(&e, pk);
	e.body = body;
	e.body_len = sizeof(body);
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), 0);
	assert_true(e.verified);
	assert_true(e.h.has_body);
	assert_int_equal(e.h.body_len, sizeof(body));
	assert_int_equal(ag_entry_open(&back, buf, n, body, sizeof(body), NULL, NULL), 0);
	assert_ptr_equal(back.body, body);
	assert_false(back.verified); /* opening checks no signature */
	assert_int_equal(ag_header_verify(&back.h, e.h.network), 0);
	/* The header without its body: still a valid entry, the body not held. */
	assert_int_equal(ag_entry_open(&back, buf, n, NULL, 0, NULL, NULL), 0);
	assert_null(back.body);
	assert_true(back.h.has_body);
	assert_int_equal(ag_entry_open(&back, buf, n, other, sizeof(other), &where, &in_body),
	                 AG_EBODYHASH);
	assert_true(in_body);
	/* A retraction takes no body. */
	e.body = NULL;
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), 0);
	assert_false(e.h.has_body);
	assert_int_equal(ag_entry_open(&back, buf, n, body, sizeof(body), NULL, &in_body),
	                 AG_EBODY);
	assert_true(in_body);
	/* Format 1 was never released: a header of format 1 is refused as such. */
	buf[1] = 0x01;
	assert_int_equal(ag_entry_open(&back, buf, n, NULL, 0, NULL, &in_body), AG_EVERSION);
	assert_false(in_body);
}

static void test_sign_refuses_bad_fields(void **state)
{
	uint8_t seed[32] = {1}, pk[32], sk[64], other[32];
	struct ag_entry e;
	size_t n;

	(void)state;
	ag_key_from_seed(pk, sk, seed);
	fields(&e, pk);
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), 0);
	e.h.seq = 2; /* no prev */
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_ESEQ);
	e.h.seq = 1;
	strcpy(e.h.type, "Bad");
	assert_int_equal(ag_entry_sign(&e, sk, buf, sizeof(buf), &n), AG_ERECTYPE);
	strcpy(e.h.type, "practice");
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
	static const char *const bad[] = {
	    "\xff",     "\x80",     "\xc0\x80", "\xc1\xbf",     "\xc3",
	    "\xd8\x41", "\xdf\xc0", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
	static const char *const good[] = {"\xc3\xa9",         "\xc2\x80",     "\xdf\xbf",
	                                   "\xd8\xb3\xd9\x83", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
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

/*
 * Every pair of bytes that starts with one of 0x80 or more, in ASCII text,
 * and at its end: valid exactly when it is a sequence of two (a lead
 * 0xc2-0xdf, a continuation 0x80-0xbf), since no longer one is complete in
 * two bytes, or followed by an 'a'.
 */
static void test_utf8_pairs(void **state)
{
	uint8_t s[16];

	(void)state;
	for (unsigned b0 = 0x80; b0 <= 0xff; b0++)
		for (unsigned b1 = 0; b1 <= 0xff; b1++) {
			int two = b0 >= 0xc2 && b0 <= 0xdf && b1 >= 0x80 && b1 <= 0xbf;
			int want = two ? 0 : AG_EUTF8;

			memset(s, 'a', sizeof(s));
			s[5] = (uint8_t)b0;
			s[6] = (uint8_t)b1;
			assert_int_equal(ag_utf8_check(s, sizeof(s)), want);
			assert_int_equal(ag_utf8_check(s, 7), want);
		}
}

/* The same verdict as one sequence at a time (ag__mp_utf8_cp), the checker's slow path. */
static int utf8_slowly(const uint8_t *s, size_t len)
{
	uint32_t cp;

	for (size_t pos = 0; pos < len;)
		if (ag__mp_utf8_cp(s, len, &pos, &cp) != 0)
			return AG_EUTF8;
	return 0;
}

/*
 * A run of Arabic letters, which the checker reads four at a time, with any
 * byte anywhere in it, and cut anywhere: refused exactly when the bytes are
 * not UTF-8.
 */
static void test_utf8_in_runs(void **state)
{
	uint8_t s[48];

	(void)state;
	for (size_t at = 3; at < 3 + 34; at++)
		for (unsigned b = 0; b <= 0xff; b++) {
			memset(s, 'a', sizeof(s));
			for (size_t i = 3; i + 1 < 3 + 34; i += 2)
				memcpy(s + i, "\xd8\xb3", 2); /* sin */
			s[at] = (uint8_t)b;
			for (size_t len = at; len <= sizeof(s); len += 7)
				assert_int_equal(ag_utf8_check(s, len), utf8_slowly(s, len));
			assert_int_equal(ag_utf8_check(s, sizeof(s)), utf8_slowly(s, sizeof(s)));
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

static int setup(void **state)
{
	(void)state;
	return ag_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_default),
	    cmocka_unit_test(test_sign_open_pair),
	    cmocka_unit_test(test_sign_refuses_bad_fields),
	    cmocka_unit_test(test_utf8_anywhere),
	    cmocka_unit_test(test_utf8_pairs),
	    cmocka_unit_test(test_utf8_in_runs),
	    cmocka_unit_test(test_key_b64),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
