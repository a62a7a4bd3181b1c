/* test_snippet.c: a search hit's best snippet, and where its matched words are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "snippet.h"

/* The words of the snippet that matched, joined by '|'. */
static const char *marked(const json_t *sn)
{
	static char out[512];
	const char *t = json_string_value(json_object_get(sn, "text"));
	size_t i;
	json_t *m;

	out[0] = 0;
	json_array_foreach(json_object_get(sn, "matches"), i, m)
	{
		size_t s = (size_t)json_integer_value(json_array_get(m, 0));
		size_t e = (size_t)json_integer_value(json_array_get(m, 1));

		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.*s", i ? "|" : "",
		         (int)(e - s), t + s);
	}
	return out;
}

static json_t *body(const char *json)
{
	json_t *b = json_loads(json, 0, NULL);

	assert_non_null(b);
	return b;
}

static void test_best_field(void **state)
{
	json_t *b = body("{\"title\": {\"fr\": \"Hébergement d'urgence\"},"
	                 " \"summary\": {\"fr\": \"L'hébergement des familles et des enfants\"},"
	                 " \"notes\": \"rien\"}");
	json_t *sn;

	(void)state;
	/* Both words are in the summary only: it beats the title, which holds one. */
	sn = snippet_find("hebergement familles", b);
	assert_string_equal(json_string_value(json_object_get(sn, "field")), "summary.fr");
	assert_string_equal(marked(sn), "hébergement|familles");
	json_decref(sn);
	/* One word: the title wins. */
	sn = snippet_find("HÉBERGEMENTS", b);
	assert_string_equal(json_string_value(json_object_get(sn, "field")), "title.fr");
	assert_string_equal(marked(sn), "Hébergement");
	json_decref(sn);
	/* Nothing holds it (a record found by its topic): no snippet. */
	assert_null(snippet_find("logement", b));
	json_decref(b);
}

static void test_forms_and_prefixes(void **state)
{
	json_t *b = body("{\"summary\": {\"ar\": \"وبالمدينة مُعَلِّمات للمهاجرين\"},"
	                 " \"text\": \"Ateliers mobiles\"}");
	json_t *sn;

	(void)state;
	sn = snippet_find("مدينة المعلمة", b);
	assert_string_equal(marked(sn), "وبالمدينة|مُعَلِّمات");
	json_decref(sn);
	sn = snippet_find("mobi", b);
	assert_string_equal(marked(sn), "mobiles");
	json_decref(sn);
	assert_null(snippet_find("mob", b)); /* three letters: no prefix */
	json_decref(b);
}

/* A long text is cut around its first match, on character boundaries; controls become spaces. */
static void test_cut(void **state)
{
	char json[2048] = "{\"text\": \"";
	json_t *b, *sn;
	const char *t;

	(void)state;
	for (int i = 0; i < 60; i++)
		strcat(json, "été ");
	strcat(json, "\\u001b[31m cible ");
	for (int i = 0; i < 60; i++)
		strcat(json, "été ");
	strcat(json, "\"}");
	b = body(json);
	sn = snippet_find("cible", b);
	t = json_string_value(json_object_get(sn, "text"));
	assert_true(strlen(t) <= SNIPPET_MAX + 2 * strlen("…"));
	assert_memory_equal(t, "…", strlen("…"));
	assert_null(strchr(t, 0x1b));
	assert_string_equal(marked(sn), "cible");
	json_decref(sn);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_best_field),
	    cmocka_unit_test(test_forms_and_prefixes),
	    cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
