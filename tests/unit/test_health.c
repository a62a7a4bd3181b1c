/* test_health: when agora check calls a disk nearly full, and how it words a duration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "health.h"

#define GIB (UINT64_C(1) << 30)

static const struct disk_case {
	uint64_t avail, total;
	bool low;
} disk_cases[] = {
    {GIB - 1, 100 * GIB, true},       /* under a GiB, whatever the share */
    {GIB, 10 * GIB, false},           /* a GiB and 10 % */
    {4 * GIB, 100 * GIB, true},       /* 4 %: under 5 % though over a GiB */
    {5 * GIB, 100 * GIB, false},      /* 5 % exactly */
    {2 * GIB, 2 * GIB, false},        /* empty */
    {0, 0, true},                     /* nothing at all */
    {900 * GIB, 20000 * GIB, true},   /* 4.5 % of a large array */
    {1000 * GIB, 20000 * GIB, false}, /* 5 % of it */
};

static void test_disk_low(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(disk_cases) / sizeof(disk_cases[0]); i++) {
		const struct disk_case *c = &disk_cases[i];

		if (health_disk_low(c->avail, c->total) != c->low)
			fail_msg("case %zu: %llu free of %llu: low should be %d", i,
			         (unsigned long long)c->avail, (unsigned long long)c->total,
			         c->low);
	}
}

static const struct dur_case {
	uint64_t ms;
	const char *words;
} dur_cases[] = {
    {0, "0 s"},
    {999, "0 s"},
    {45000, "45 s"},
    {60000, "1 min"},
    {61000, "1 min 1 s"},
    {3600000, "1 h"},
    {3900000, "1 h 5 min"},
    {3901000, "1 h 5 min"},
    {90000000, "1 d 1 h"},
    {172800000, "2 d"},
};

static void test_duration(void **state)
{
	char buf[48];

	(void)state;
	for (size_t i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		health_duration(buf, sizeof(buf), dur_cases[i].ms);
		assert_string_equal(buf, dur_cases[i].words);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_disk_low),
	    cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
