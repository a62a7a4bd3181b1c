/*
 * test_head.c: DIR/node.head, the own feed's high-water mark. A mark saved is
 * read back for its key and is no mark for another key; it is one line that
 * names the key, seq and hash, replaced whole, with no temporary file left;
 * an absent file is no mark, and a damaged one is an error, never a mark.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "head.h"
#include "key.h"
#include "testutil.h"

struct fx {
	char *dir;
	uint8_t pk[32], other[32];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->dir = tu_tmpdir("head"));
	memset(f->pk, 0x11, 32);
	memset(f->other, 0x22, 32);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* How many entries DIR holds besides . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct head_mark m = {.seq = 42}, got = {0};
	char *path = tu_path(f->dir, HEAD_FILE), *text, key[AG_B64_LEN + 1], want[200];

	assert_int_equal(head_load(f->dir, f->pk, &got), 0); /* none yet */
	memset(m.hash, 0xab, 32);
	assert_int_equal(head_save(f->dir, f->pk, &m), 0);
	assert_int_equal(head_load(f->dir, f->pk, &got), 1);
	assert_int_equal(got.seq, 42);
	assert_memory_equal(got.hash, m.hash, 32);
	assert_int_equal(head_load(f->dir, f->other, &got), 0); /* another key's mark */
	ag_key_to_b64(key, f->pk);
	snprintf(want, sizeof(want), "%s 42 %s\n", key,
	         "abababababababababababababababababababababababababababababababab");
	assert_non_null(text = tu_read_file(path, NULL));
	assert_string_equal(text, want);
	free(text);
	/* Replaced whole, nothing left beside it. */
	m.seq = 43;
	assert_int_equal(head_save(f->dir, f->pk, &m), 0);
	assert_int_equal(head_load(f->dir, f->pk, &got), 1);
	assert_int_equal(got.seq, 43);
	assert_int_equal(entries(f->dir), 1);
	free(path);
}

static void test_damaged(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "",
	    "garbage\n",
	    "ERERERERERERERERERERERERERERERERERERERERERE= 0 "
	    "abababababababababababababababababababababababababababababababab\n",
	    "ERERERERERERERERERERERERERERERERERERERERERE= 5 abab\n",
	    "ERERERERERERERERERERERERERERERERERERERERERE= 5 "
	    "abababababababababababababababababababababababababababababababab",
	    "ERERERERERERERERERERERERERERERERERERERERERE= 5 "
	    "abababababababababababababababababababababababababababababababab\nmore\n",
	};
	char *path = tu_path(f->dir, HEAD_FILE);
	struct head_mark got;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tu_write_file(path, bad[i], strlen(bad[i])), 0);
		assert_int_equal(head_load(f->dir, f->pk, &got), -1);
	}
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
