/* test_msg.c: replication messages round-trip, and every malformed shape is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "testutil.h"

static void test_hello_roundtrip(void **state)
{
	uint8_t buf[256];
	size_t len;
	struct ag_msg m;

	(void)state;
	assert_int_equal(ag_msg_hello(buf, sizeof(buf), &len, "Lyon", "agorad 0.1"), 0);
	assert_int_equal(ag_msg_decode(&m, buf, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_HELLO);
	assert_int_equal(m.name_len, 4);
	assert_memory_equal(m.name, "Lyon", 4);
	assert_memory_equal(m.software, "agorad 0.1", 10);
}

static void test_clock_fills_and_roundtrips(void **state)
{
	static struct ag_msgb b;
	uint8_t author[32];
	const uint8_t *msg, *a;
	size_t len, n = 0;
	uint64_t seq;
	struct ag_msg m;

	(void)state;
	ag_msgb_init(&b, AG_MSG_CLOCK);
	for (n = 0;; n++) {
		memset(author, (int)n, 32);
		if (ag_msgb_add_pair(&b, author, n * 1000003u) != 0)
			break;
	}
	ag_msgb_finish(&b, &msg, &len);
	/* Full: the next pair would not have fitted. */
	assert_true(len <= AG_MSG_MAX && len + 45 > AG_MSG_MAX);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	assert_int_equal(m.type, AG_MSG_CLOCK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ag_msg_next_pair(&m.list, &a, &seq), 1);
		assert_int_equal(a[0], (uint8_t)i);
		assert_int_equal(seq, i * 1000003u);
	}
	assert_int_equal(ag_msg_next_pair(&m.list, &a, &seq), 0);
}

static void test_entries_fill_to_limit(void **state)
{
	static struct ag_msgb b;
	static uint8_t entry[20000];
	const uint8_t *msg, *e;
	size_t len, elen, n;
	struct ag_msg m;

	(void)state;
	memset(entry, 0x5a, sizeof(entry));
	ag_msgb_init(&b, AG_MSG_ENTRIES);
	for (n = 0; ag_msgb_add_entry(&b, entry, sizeof(entry)) == 0; n++)
		;
	assert_int_equal(n, 3);
	ag_msgb_finish(&b, &msg, &len);
	assert_int_equal(ag_msg_decode(&m, msg, len, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ag_msg_next_entry(&m.list, &e, &elen), 1);
		assert_int_equal(elen, sizeof(entry));
	}
	assert_int_equal(ag_msg_next_entry(&m.list, &e, &elen), 0);
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

static const struct {
	const char *name, *hex;
	int code;
} bad[] = {
    {"empty", "", AG_ETRUNC},
    {"not an array", "00", AG_EMSG},
    {"empty array", "90", AG_EMSG},
    {"unknown type", "9108", AG_EMSG},
    {"hello version 2", "940002a141a142", AG_EVERSION},
    {"hello missing software", "930001a141", AG_ESHAPE},
    {"hello name not a string", "94000101a142", AG_ESHAPE},
    {"clock of a map", "920180", AG_ESHAPE},
    {"clock pair of 3",
     "92019193c42000000000000000000000000000000000000000000000000000000000000000000101", AG_ESHAPE},
    {"clock author 31 bytes",
     "92019192c41f0000000000000000000000000000000000000000000000000000000000000001", AG_ESHAPE},
    {"entries of strings", "920291a0", AG_ESHAPE},
    {"mode value not bool",
     "92059192c420000000000000000000000000000000000000000000000000000000000000000001", AG_ESHAPE},
    {"want without seq", "9204c4200000000000000000000000000000000000000000000000000000000000000000",
     AG_ESHAPE},
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
	    cmocka_unit_test(test_clock_fills_and_roundtrips),
	    cmocka_unit_test(test_entries_fill_to_limit),
	    cmocka_unit_test(test_mode_want_ping),
	    cmocka_unit_test(test_refuse_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
