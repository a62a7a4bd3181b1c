/* test_msg.c: replication messages of protocol 2 round-trip, and every malformed shape is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cert.h"
#include "key.h"
#include "msg.h"
#include "testutil.h"

static void test_hello_roundtrip(void **state)
{
	uint8_t buf[256];
	size_t len;
	struct ag_msg m;
	const char *f;
	size_t flen;

	(void)state;
	assert_int_equal(ag_msg_hello(buf, sizeof(buf), &len, "Lyon", "agorad 0.1"), 0);
	assert_int_equal(ag_msg_decode(&m, buf, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_HELLO);
	assert_int_equal(m.seq, AG_PROTO_VERSION);
	assert_int_equal(m.name_len, 4);
	assert_memory_equal(m.name, "Lyon", 4);
	assert_memory_equal(m.software, "agorad 0.1", 10);
	assert_int_equal(ag_msg_next_str(&m.list, &f, &flen), 0); /* no features yet */
}

/* A HELLO of protocol 1 is AG_EVERSION with its version, so the log can name both. */
static void test_hello_other_versions(void **state)
{
	uint8_t buf[64];
	struct ag_msg m;
	size_t n;

	(void)state;
	n = strlen("940001a141a142") / 2;
	assert_int_equal(tu_hex_decode(buf, n, "940001a141a142"), 0);
	assert_int_equal(ag_msg_decode(&m, buf, n, NULL), AG_EVERSION);
	assert_int_equal(m.type, AG_MSG_HELLO);
	assert_int_equal(m.seq, 1);
	/* Version 2 with a feature and a trailing element of a later version. */
	n = strlen("960002a141a14291a478797a7ac0") / 2;
	assert_int_equal(tu_hex_decode(buf, n, "960002a141a14291a478797a7ac0"), 0);
	assert_int_equal(ag_msg_decode(&m, buf, n, NULL), 0);
	assert_int_equal(m.list.n, 1);
}

static void test_clock_fills_and_roundtrips(void **state)
{
	static struct ag_msgb b;
	uint8_t author[32], hash[32];
	const uint8_t *msg, *a, *h;
	size_t len, n = 0;
	uint64_t seq;
	struct ag_msg m;

	(void)state;
	ag_msgb_init(&b, AG_MSG_CLOCK);
	for (n = 0;; n++) {
		memset(author, (int)n, 32);
		memset(hash, (int)n + 1, 32);
		if (ag_msgb_add_head(&b, author, n * 1000003u, n ? hash : NULL) != 0)
			break;
	}
	ag_msgb_finish(&b, &msg, &len);
	/* Full: the next triple would not have fitted. */
	assert_true(len <= AG_MSG_MAX && len + 80 > AG_MSG_MAX);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_CLOCK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ag_msg_next_head(&m.list, &a, &seq, &h), 1);
		assert_int_equal(a[0], (uint8_t)i);
		assert_int_equal(seq, i * 1000003u);
		assert_int_equal(h[0], i ? (uint8_t)(i + 1) : 0); /* zeros for none */
	}
	assert_int_equal(ag_msg_next_head(&m.list, &a, &seq, &h), 0);
}

static void test_entries_fill_to_limit(void **state)
{
	static struct ag_msgb b;
	static uint8_t hdr[300], body[20000];
	const uint8_t *msg, *h, *bd;
	size_t len, hlen, blen, n;
	struct ag_msg m;

	(void)state;
	memset(hdr, 0x5a, sizeof(hdr));
	memset(body, 0xa5, sizeof(body));
	ag_msgb_init(&b, AG_MSG_ENTRIES);
	for (n = 0; ag_msgb_add_entry(&b, hdr, sizeof(hdr), body, sizeof(body)) == 0; n++)
		;
	assert_int_equal(n, 3);
	assert_int_equal(ag_msgb_add_entry(&b, hdr, sizeof(hdr), NULL, 0),
	                 0); /* a header alone fits */
	ag_msgb_finish(&b, &msg, &len);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ag_msg_next_entry(&m.list, &h, &hlen, &bd, &blen), 1);
		assert_int_equal(hlen, sizeof(hdr));
		assert_int_equal(blen, sizeof(body));
	}
	assert_int_equal(ag_msg_next_entry(&m.list, &h, &hlen, &bd, &blen), 1);
	assert_null(bd);
	assert_int_equal(ag_msg_next_entry(&m.list, &h, &hlen, &bd, &blen), 0);
}

/*
 * An ENTRIES that counts more pairs than a message can hold is refused
 * before any is read (#14.3), as is a header too short to be one.
 */
static void test_entries_bounded(void **state)
{
	static struct ag_msgb b;
	static uint8_t hdr[AG_HEADER_MIN], raw[16], big[5 + 5 * 500];
	const uint8_t *msg;
	struct ag_msg m;
	size_t len, n;

	(void)state;
	ag_msgb_init(&b, AG_MSG_ENTRIES);
	for (n = 0; ag_msgb_add_entry(&b, hdr, sizeof(hdr), NULL, 0) == 0; n++)
		;
	assert_int_equal(n, AG_MSG_ENTRIES_MAX);
	ag_msgb_finish(&b, &msg, &len);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	/* [2, [[bin 1, nil] x 500]]: refused at the count, before the short headers. */
	assert_int_equal(tu_hex_decode(big, 5, "9202dc01f4"), 0);
	for (size_t i = 0; i < 500; i++)
		assert_int_equal(tu_hex_decode(big + 5 + 5 * i, 5, "92c40100c0"), 0);
	assert_int_equal(ag_msg_decode(&m, big, 5 + 5 * 500, NULL), AG_ETOOBIG);
	/* [2, [[bin 1, nil]]] */
	assert_int_equal(tu_hex_decode(raw, 8, "92029192c40100c0"), 0);
	assert_int_equal(ag_msg_decode(&m, raw, 8, NULL), AG_ETOOBIG);
}

static void test_mode_want_ping(void **state)
{
	static struct ag_msgb b;
	uint8_t author[32] = {7}, buf[64];
	const uint8_t *msg, *a;
	size_t len;
	uint64_t v;
	struct ag_msg m;

	(void)state;
	ag_msgb_init(&b, AG_MSG_MODE);
	assert_int_equal(ag_msgb_add_pair(&b, author, 0), 0);
	assert_int_equal(ag_msgb_add_pair(&b, author, 1), 0);
	ag_msgb_finish(&b, &msg, &len);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	assert_int_equal(ag_msg_next_pair(&m.list, &a, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(ag_msg_next_pair(&m.list, &a, &v), 1);
	assert_int_equal(v, 1);
	assert_int_equal(ag_msg_want(buf, sizeof(buf), &len, author, 42), 0);
	assert_int_equal(ag_msg_decode(&m, buf, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_WANT);
	assert_int_equal(m.seq, 42);
	assert_memory_equal(m.author, author, 32);
	assert_int_equal(ag_msg_ping(buf, sizeof(buf), &len, 1, 9), 0);
	assert_int_equal(ag_msg_decode(&m, buf, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_PONG);
	assert_int_equal(m.seq, 9);
}

static void test_want_bodies(void **state)
{
	uint8_t author[32] = {3}, buf[128];
	const uint64_t seqs[] = {2, 5, 300};
	struct ag_msg m;
	uint64_t seq;
	size_t len;

	(void)state;
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, author, seqs, 3), 0);
	assert_int_equal(ag_msg_decode(&m, buf, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_WANT_BODIES);
	assert_memory_equal(m.author, author, 32);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ag_msg_next_seq(&m.list, &seq), 1);
		assert_int_equal(seq, seqs[i]);
	}
	assert_int_equal(ag_msg_next_seq(&m.list, &seq), 0);
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, author, seqs, 0), AG_EINVAL);
	assert_int_equal(ag_msg_want_bodies(buf, sizeof(buf), &len, author, (uint64_t[]){0}, 1),
	                 AG_EINVAL);
}

/* SUCCESSION carries a certificate that must decode strictly. */
static void test_succession(void **state)
{
	uint8_t pk[32], sk[64], out[AG_CERT_MAX], buf[AG_CERT_MAX + 8];
	struct ag_cert c = {.last_seq = 0, .timestamp = 1};
	struct ag_msg m;
	size_t n;

	(void)state;
	assert_int_equal(ag_init(), 0);
	ag_key_generate(pk, sk);
	ag_network_default(c.network);
	memset(c.old_key, 1, 32);
	memset(c.new_key, 2, 32);
	assert_int_equal(ag_cert_sign(&c, sk, out, sizeof(out), &n), 0);
	buf[0] = 0x92;
	buf[1] = AG_MSG_SUCCESSION;
	buf[2] = 0xc4;
	buf[3] = (uint8_t)n;
	memcpy(buf + 4, out, n);
	assert_int_equal(ag_msg_decode(&m, buf, n + 4, NULL), 0);
	assert_int_equal(m.type, AG_MSG_SUCCESSION);
	assert_int_equal(m.cert_len, n);
	{ /* the encoder writes the same bytes */
		uint8_t enc[AG_CERT_MAX + 8];
		size_t len;

		assert_int_equal(ag_msg_succession(enc, sizeof(enc), &len, out, n), 0);
		assert_int_equal(len, n + 4);
		assert_memory_equal(enc, buf, len);
	}
	buf[4 + n - 1] = 0xff; /* the signature's last byte stays a byte: still canonical */
	assert_int_equal(ag_msg_decode(&m, buf, n + 4, NULL), 0);
	buf[5] = 0x09; /* format 9 */
	assert_int_not_equal(ag_msg_decode(&m, buf, n + 4, NULL), 0);
}

/*
 * Versions live side by side: a message of an unknown type is no error,
 * whatever its shape, and a known one with more elements than version 2
 * defines is read and the rest ignored.
 */
static void test_unknown_and_trailing(void **state)
{
	static const struct {
		const char *hex;
		enum ag_msg_type type;
		uint64_t seq;
	} ok[] = {
	    {"910a", AG_MSG_UNKNOWN, 10},
	    {"930cc0cc01", AG_MSG_UNKNOWN, 12}, /* not even canonical: not ours to judge */
	    {"950609a178910180", AG_MSG_PING, 9},
	    {"930190c0", AG_MSG_CLOCK, 0},
	    {"9404c420000000000000000000000000000000000000000000000000000000000000000005c3",
	     AG_MSG_WANT, 5},
	};
	uint8_t buf[128];
	struct ag_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i].hex) / 2;

		assert_int_equal(tu_hex_decode(buf, n, ok[i].hex), 0);
		assert_int_equal(ag_msg_decode(&m, buf, n, NULL), 0);
		assert_int_equal(m.type, ok[i].type);
		assert_int_equal(m.seq, ok[i].seq);
	}
}

static const struct {
	const char *name, *hex;
	int code;
} bad[] = {
    {"empty", "", AG_EMSG},
    {"not an array", "00", AG_EMSG},
    {"empty array", "90", AG_EMSG},
    {"hello version 3", "950003a141a14290", AG_EVERSION},
    {"hello missing features", "940002a141a142", AG_ESHAPE},
    {"hello name not a string", "95000201a14290", AG_ESHAPE},
    {"hello feature not a string", "950002a141a1429101", AG_ESHAPE},
    {"clock of a map", "920180", AG_ESHAPE},
    {"clock pair, no hash",
     "92019192c420000000000000000000000000000000000000000000000000000000000000000001", AG_ESHAPE},
    {"clock author 31 bytes",
     "92019192c41f0000000000000000000000000000000000000000000000000000000000000001", AG_ESHAPE},
    {"entries of strings", "920291a0", AG_ESHAPE},
    {"mode value not bool",
     "92059192c420000000000000000000000000000000000000000000000000000000000000000001", AG_ESHAPE},
    {"want without seq", "9204c4200000000000000000000000000000000000000000000000000000000000000000",
     AG_ESHAPE},
    {"want bodies seq 0",
     "9309c420000000000000000000000000000000000000000000000000000000000000000091"
     "00",
     AG_ESHAPE},
    {"want bodies not a list",
     "9309c42000000000000000000000000000000000000000000000000000000000000000000a", AG_ESHAPE},
    {"succession of a string", "9208a0", AG_ESHAPE},
    {"ping negative", "9206ff", AG_ESHAPE},
    {"non-canonical uint", "9206cc01", AG_ENONCANON},
    {"trailing byte", "920601c0", AG_ETRAILING},
    {"ext", "9206d40100", AG_EEXT},
};

static void test_refuse_malformed(void **state)
{
	uint8_t buf[256];
	struct ag_msg m;
	size_t where;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i].hex) / 2;
		int rc;

		assert_int_equal(tu_hex_decode(buf, n, bad[i].hex), 0);
		where = SIZE_MAX;
		rc = ag_msg_decode(&m, buf, n, &where);
		if (rc != bad[i].code)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].name, ag_strerror(rc),
			         ag_strerror(bad[i].code));
		assert_true(where <= n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_roundtrip),
	    cmocka_unit_test(test_hello_other_versions),
	    cmocka_unit_test(test_clock_fills_and_roundtrips),
	    cmocka_unit_test(test_entries_fill_to_limit),
	    cmocka_unit_test(test_entries_bounded),
	    cmocka_unit_test(test_mode_want_ping),
	    cmocka_unit_test(test_want_bodies),
	    cmocka_unit_test(test_succession),
	    cmocka_unit_test(test_unknown_and_trailing),
	    cmocka_unit_test(test_refuse_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
