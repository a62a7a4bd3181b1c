/*
 * test_text.c: the text helpers that show and export lean on: ids from
 * titles in French, Arabic and with symbols; CSV fields as RFC 4180 quotes
 * them; Markdown escaping that renders back to the text; wrapping by terminal
 * columns, not bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "out.h"
#include "text.h"

/* What fn wrote, as a heap string. */
#define CAPTURE(buf, call)                                                                         \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *f = open_memstream(&(buf), &len_);                                           \
		assert_non_null(f);                                                                \
		call;                                                                              \
		assert_int_equal(fclose(f), 0);                                                    \
	} while (0)

static void test_slug(void **state)
{
	static const char *const cases[][2] = {
	    {"Guichet unique pour l'hébergement d'urgence",
	     "guichet-unique-pour-l-hebergement-d-urgence"},
	    {"Accès aux droits", "acces-aux-droits"},
	    {"  --Hello,   World!--  ", "hello-world"},
	    {"ÉCOLE Œuvre Straße", "ecole-oeuvre-strasse"},
	    {"Café № 5 — ﬁnal", "cafe-no-5-final"},
	    {"Santé pour tous 2025", "sante-pour-tous-2025"},
	    {"Habitat: شباك موحد", "habitat"},
	};
	char out[TEXT_SLUG_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(text_slug(cases[i][0], out), 0);
		assert_string_equal(out, cases[i][1]);
	}
}

static void test_slug_refused(void **state)
{
	char out[TEXT_SLUG_MAX + 1];

	(void)state;
	assert_int_equal(text_slug("شباك موحد للسكن", out), -1);
	assert_int_equal(text_slug("!!! ---", out), -1);
	assert_int_equal(text_slug("", out), -1);
	assert_int_equal(text_slug("bad \xff utf-8", out), -1);
}

static void test_slug_long(void **state)
{
	char out[TEXT_SLUG_MAX + 1], title[401] = "";

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(title, "migration ");
	assert_int_equal(text_slug(title, out), 0);
	assert_true(strlen(out) <= TEXT_SLUG_MAX);
	/* Cut between words, never inside one, and never ending in a hyphen. */
	assert_int_equal(strlen(out) % 10, 9);
	assert_int_not_equal(out[strlen(out) - 1], '-');
}

static void test_csv(void **state)
{
	static const char *const cases[][2] = {
	    {"plain", "plain"},
	    {"", ""},
	    {"a, b", "\"a, b\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"two\nlines", "\"two\nlines\""},
	    {"cr\r", "\"cr\r\""},
	    {"hébergement; santé", "hébergement; santé"},
	    {"=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""},
	    {"+33 4 00", "'+33 4 00"},
	    {"-1", "'-1"},
	    {"@SUM(A1)", "'@SUM(A1)"},
	    {"a=b", "a=b"},
	};
	char *buf;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CAPTURE(buf, text_csv_field(f, cases[i][0]));
		assert_string_equal(buf, cases[i][1]);
		free(buf);
	}
}

static void test_md(void **state)
{
	static const struct {
		const char *in;
		bool cell;
		const char *out;
	} cases[] = {
	    {"plain text", false, "plain text"},
	    {"a *b* _c_ `d` [e](f) \\", false, "a \\*b\\* \\_c\\_ \\`d\\` \\[e\\](f) \\\\"},
	    {"<script>x</script> & co", false, "&lt;script&gt;x&lt;/script&gt; &amp; co"},
	    {"# not a heading\n- not a list\n1. nor this\n  + nor this", false,
	     "\\# not a heading\n\\- not a list\n1\\. nor this\n\\+ nor this"},
	    {"a | b", false, "a | b"},
	    {"a | b", true, "a \\| b"},
	    {"two\nlines", true, "two lines"},
	    {"===", false, "&#61;=="},
	    {"Année 2025 — شباك", false, "Année 2025 — شباك"},
	};
	char *buf;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CAPTURE(buf, text_md(f, cases[i].in, cases[i].cell));
		assert_string_equal(buf, cases[i].out);
		free(buf);
	}
}

/* Every line of s, after the first's indent, at most width columns. */
static void assert_lines_fit(const char *s, size_t width)
{
	const char *nl;

	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		assert_true(out_width(s, (size_t)(nl - s)) <= width);
		assert_true(nl == s || nl[-1] != ' ');
	}
}

static void test_wrap(void **state)
{
	char *buf;

	(void)state;
	CAPTURE(buf, text_wrap(f, "one two three four five six seven eight nine ten", 4, 24));
	assert_string_equal(buf, "one two three four\n    five six seven eight\n    nine ten\n");
	free(buf);
	/* Accented letters take one column each though they are two bytes. */
	CAPTURE(buf, text_wrap(f, "été été été été été été", 0, 21));
	assert_string_equal(buf, "été été été été été\nété\n");
	free(buf);
	/* Arabic, with diacritics that take no column. */
	CAPTURE(buf, text_wrap(f, "شُبّاك مُوحّد للسكن في المدينة شُبّاك مُوحّد للسكن في المدينة", 2, 30));
	assert_lines_fit(buf, 30);
	assert_non_null(strstr(buf, "شُبّاك مُوحّد للسكن في المدينة"));
	free(buf);
	/* Wide characters take two columns; a word wider than a line is cut. */
	CAPTURE(buf, text_wrap(f, "移民移民移民移民移民移民移民移民移民移民移民移民", 0, 20));
	assert_string_equal(buf, "移民移民移民移民移民\n移民移民移民移民移民\n移民移民\n");
	free(buf);
	CAPTURE(buf, text_wrap(f, "para one\n\npara two\n\n", 2, 40));
	assert_string_equal(buf, "para one\n\n  para two\n");
	free(buf);
	/* A record's controls are escaped (out_clean) and measured as escaped; CR LF is a break. */
	CAPTURE(buf, text_wrap(f, "\x1b[2J\xc2\x9b\a \xe2\x80\xae fake\rreal\r\nnext", 0, 20));
	assert_string_equal(buf, "\\x1b[2J\\u009b\\x07\n\\u202e fake\\x0dreal\nnext\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slug),      cmocka_unit_test(test_slug_refused),
	    cmocka_unit_test(test_slug_long), cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_md),        cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
