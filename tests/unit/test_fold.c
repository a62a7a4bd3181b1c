/*
 * test_fold.c: text folded into words in French, Arabic, Spanish and
 * friends, as the index and the CLI both fold it (fold.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fold.h"

struct words {
	char out[1024];
	size_t n;
};

static int words_fn(const char *w, size_t len, void *arg)
{
	struct words *ws = arg;
	size_t at = strlen(ws->out);

	assert_true(at + len + 2 < sizeof(ws->out));
	if (at)
		ws->out[at++] = ' ';
	memcpy(ws->out + at, w, len);
	ws->out[at + len] = 0;
	ws->n++;
	return 0;
}

static const char *fold(const char *text)
{
	static struct words ws;

	memset(&ws, 0, sizeof(ws));
	assert_int_equal(ag_fold_words(text, strlen(text), words_fn, &ws), 0);
	return ws.out;
}

static void test_folding(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    /* French: case and accents; elided articles are one-letter words */
	    {"L'Hébergement des Réfugiés", "hebergement des refugies"},
	    {"ÉDUCATION, Santé; emploi!", "education sante emploi"},
	    {"urban-planning", "urban planning"},
	    {"héber\xc2\xad"
	     "gement",
	     "hebergement"}, /* a soft hyphen inside */
	    /* Spanish and Italian */
	    {"Educación intercultural: ¿dónde? Niños", "educacion intercultural donde ninos"},
	    {"Formazione perché", "formazione perche"},
	    /* compatibility forms */
	    {"Stra\xc3\x9f"
	     "e",
	     "strasse"},
	    {"\xef\xac\x81nancement", "financement"},                     /* the fi ligature */
	    {"\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91", "abc1"}, /* fullwidth */
	    {"Миграция", "миграция"},
	    /* Arabic: harakat, shadda, tatweel, hamza on alef, madda */
	    {"الصِّحَّة النَّفْسِيَّة", "الصحه النفسيه"},
	    {"الســـكن", "السكن"},
	    {"أمن إدارة آمال", "امن اداره امال"},
	    /* alef maqsura and teh marbuta as yeh and heh; presentation forms */
	    {"مستشفى مدينة", "مستشفي مدينه"},
	    {"\xef\xbb\xa3\xef\xba\xaa\xef\xbb\xb3\xef\xbb\xa8\xef\xba\x94", "مدينه"},
	    {"عام ٢٠٢٤ و ۱۲", "عام 2024 12"}, /* and a lone و, one letter */
	    /* one-character words, and bytes that are not UTF-8 */
	    {"a b cd é", "cd"},
	    {"abc\xff"
	     "def\xc3",
	     "abc def"},
	    {"", ""},
	    /* lowercase letters, read eight at a time, and what stops such a run */
	    {"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"},
	    {"abcdefgHijklmnoP qrstuvwXyz", "abcdefghijklmnop qrstuvwxyz"},
	    {"`abcdefg{hijklmn@opqrstu[vwxyz", "abcdefg hijklmn opqrstu vwxyz"},
	    {"abcdefgh1234567z9 abcdefghé", "abcdefgh1234567z9 abcdefghe"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].in);
		assert_string_equal(fold(cases[i].in), cases[i].out);
	}
}

static void test_long_words_cut(void **state)
{
	char in[256], want[AG_FOLD_WORD_MAX + 1];
	const char *sin = "س"; /* two bytes */

	(void)state;
	memset(in, 'a', 100);
	in[100] = 0;
	memset(want, 'a', AG_FOLD_WORD_MAX);
	want[AG_FOLD_WORD_MAX] = 0;
	assert_string_equal(fold(in), want);
	/* The same with a capital in the run, eight letters at a time to it, one at a time after.
	 */
	in[61] = 'A';
	assert_string_equal(fold(in), want);
	in[61] = 'a';
	/* 33 two-byte letters: cut at 32, never inside a letter. */
	in[0] = 0;
	for (int i = 0; i < 33; i++)
		strcat(in, sin);
	assert_int_equal(strlen(fold(in)), 64);
	assert_memory_equal(fold(in), in, 64);
}

/* One code point at a time, as the report's filter table takes it. */
static void test_fold_char(void **state)
{
	static const struct {
		uint32_t cp;
		const char *out; /* "" dropped; "\0" ends a word */
		size_t len;
	} cases[] = {
	    {'A', "a", 1},           {0x00c9, "e", 1},        /* É */
	    {0x00df, "ss", 2},       {0x064e, "", 0},         /* ß; fatha */
	    {0x0640, "", 0},         {0x00ad, "", 0},         /* tatweel; soft hyphen */
	    {0x0629, "\xd9\x87", 2}, {0x0649, "\xd9\x8a", 2}, /* teh marbuta, alef maqsura */
	    {0x0623, "\xd8\xa7", 2}, {0x0665, "5", 1},        /* alef with hamza; Arabic-Indic 5 */
	    {' ', "\0", 1},          {',', "\0", 1},
	    {0xd800, "\0", 1},       {0x110000, "\0", 1}, /* no scalar values */
	};
	uint8_t out[AG_FOLD_CHAR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = ag_fold_char(cases[i].cp, out);

		print_message("U+%04x\n", (unsigned)cases[i].cp);
		assert_int_equal(n, cases[i].len);
		assert_memory_equal(out, cases[i].out, n);
	}
}

/* A folded word folds to itself, so that a word of a record, typed back, finds it. */
static void test_fold_idempotent(void **state)
{
	static const char *texts[] = {
	    "L'Hébergement des Réfugiés", "الصِّحَّة النَّفْسِيَّة مدينة",
	    ("Stra\xc3\x9f" /* a hex escape ends here */ "e \xef\xac\x81nancement")};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char once[1024];

		strcpy(once, fold(texts[i]));
		assert_string_equal(fold(once), once);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_long_words_cut),
	    cmocka_unit_test(test_fold_char),
	    cmocka_unit_test(test_fold_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
