/* test_near.c: the "did you mean" that the schema and the config share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "near.h"

static void test_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t d;
	} cases[] = {
	    {"housing", "housing", 0},
	    {"hosing", "housing", 1},
	    {"Nmae", "Name", 1}, /* a swap */
	    {"loglvl", "LogLevel", 2},
	    {"helth", "health", 1},
	    {"", "abc", 3},
	    {"abc", "", 3},
	    {"ca", "abc", 3}, /* OSA, not Damerau */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ag_near_distance(cases[i].a, strlen(cases[i].a), cases[i].b,
		                                  strlen(cases[i].b)),
		                 cases[i].d);
	char long_word[42];
	memset(long_word, 'a', 41);
	long_word[41] = 0;
	assert_int_equal(ag_near_distance(long_word, 41, "a", 1), SIZE_MAX);
}

struct named {
	const char *name;
	int other;
};

static void test_nearest(void **state)
{
	static const struct named table[] = {
	    {"title", 0}, {"summary", 0}, {"topics", 0}, {NULL, 0}, {"hidden", 0}};
	static const char *const words[] = {"Node", "Peer"};

	(void)state;
	assert_string_equal(ag_nearest("titel", 5, &table[0].name, sizeof(table[0]), SIZE_MAX),
	                    "title");
	assert_string_equal(ag_nearest("Topcs", 5, &table[0].name, sizeof(table[0]), SIZE_MAX),
	                    "topics");
	assert_null(ag_nearest("xyz", 3, &table[0].name, sizeof(table[0]), SIZE_MAX));
	/* The NULL name ends the table: "hidden" is never offered. */
	assert_null(ag_nearest("hiden", 5, &table[0].name, sizeof(table[0]), SIZE_MAX));
	/* Short words: one edit at most. */
	assert_string_equal(ag_nearest("Nod", 3, words, sizeof(words[0]), 2), "Node");
	assert_null(ag_nearest("Nx", 2, words, sizeof(words[0]), 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_nearest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
