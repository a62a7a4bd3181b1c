/*
 * test_service.c: the STATUS= line that `systemctl status agorad` shows:
 * peers connected of configured, feeds and records, with their thousands
 * grouped, up to the largest count a store can hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "service.h"

static void test_status_line(void **state)
{
	static const struct {
		size_t connected, peers;
		uint64_t feeds, records;
		const char *line;
	} cases[] = {
	    {0, 0, 0, 0, "0/0 peers connected, 0 feeds, 0 records"},
	    {4, 5, 12, 3104, "4/5 peers connected, 12 feeds, 3,104 records"},
	    {1, 1, 999, 1000, "1/1 peers connected, 999 feeds, 1,000 records"},
	    {0, 2, 100000, 999999, "0/2 peers connected, 100,000 feeds, 999,999 records"},
	    {3, 64, 1000000, UINT64_MAX,
	     "3/64 peers connected, 1,000,000 feeds, 18,446,744,073,709,551,615 records"},
	};
	char line[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		service_status_format(line, sizeof(line), cases[i].connected, cases[i].peers,
		                      cases[i].feeds, cases[i].records);
		assert_string_equal(line, cases[i].line);
	}
}

/* A short buffer gets a cut line, never an overrun. */
static void test_status_line_cut(void **state)
{
	char line[12];

	(void)state;
	service_status_format(line, sizeof(line), 4, 5, 12, 3104);
	assert_string_equal(line, "4/5 peers c");
}

/* While a catch-up runs: how far, of how many, and how long is left when known. */
static void test_catchup_line(void **state)
{
	char line[160];

	(void)state;
	service_catchup_format(line, sizeof(line), 82000, 118000, 12000);
	assert_string_equal(line, "catching up: 41% of 200,000 entries, 12 s left");
	service_catchup_format(line, sizeof(line), 0, 7, 0);
	assert_string_equal(line, "catching up: 0% of 7 entries");
	service_catchup_format(line, sizeof(line), 1, 999999, 200000);
	assert_string_equal(line, "catching up: 0% of 1,000,000 entries, 3 min 20 s left");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_line),
	    cmocka_unit_test(test_status_line_cut),
	    cmocka_unit_test(test_catchup_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
