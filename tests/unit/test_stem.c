/*
 * test_stem.c: the stems that join a word's forms in each of the network's
 * languages, the forms they must keep apart, and the language guess.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stem.h"

struct one {
	char w[AG_FOLD_WORD_MAX + 1];
};

static int one_word(const char *w, size_t len, void *arg)
{
	struct one *o = arg;

	memcpy(o->w, w, len);
	o->w[len] = 0;
	return 1;
}

/* The stem of text's one word, folded; the folded word when it has no other stem. */
static const char *stem_of(struct ag_stemmer *s, enum ag_lang lang, const char *text)
{
	static char out[AG_FOLD_WORD_MAX + 1];
	struct one o = {{0}};
	size_t n;

	(void)ag_fold_words(text, strlen(text), one_word, &o);
	n = ag_stem(s, lang, o.w, strlen(o.w), out);
	if (n == 0)
		return strcpy(out, o.w);
	out[n] = 0;
	return out;
}

static void test_same_stem(void **state)
{
	static const struct {
		enum ag_lang lang;
		const char *a, *b;
	} cases[] = {
	    /* plurals and feminine forms */
	    {AG_LANG_FR, "pratiques", "pratique"},
	    {AG_LANG_FR, "Bibliothèques", "bibliothèque"},
	    {AG_LANG_FR, "migrantes", "migrants"},
	    {AG_LANG_FR, "hébergements", "hébergement"},
	    {AG_LANG_ES, "viviendas", "vivienda"},
	    {AG_LANG_ES, "niñas", "niños"},
	    {AG_LANG_IT, "alloggi", "alloggio"},
	    {AG_LANG_IT, "bambine", "bambini"},
	    {AG_LANG_EN, "practices", "practice"},
	    {AG_LANG_EN, "policies", "policy"},
	    /* Arabic: the article and its compounds, clitics, endings */
	    {AG_LANG_AR, "الاستشارات", "استشارات"},
	    {AG_LANG_AR, "استشارة", "استشارات"},
	    {AG_LANG_AR, "والسكن", "سكن"},
	    {AG_LANG_AR, "بالسكن", "سكن"},
	    {AG_LANG_AR, "للسكن", "سكن"},
	    {AG_LANG_AR, "وسكن", "سكن"},
	    {AG_LANG_AR, "بسكن", "سكن"},
	    {AG_LANG_AR, "لسكن", "سكن"},
	    {AG_LANG_AR, "المدينة", "مدينة"},
	    {AG_LANG_AR, "المهاجرون", "مهاجرين"},
	    {AG_LANG_AR, "مُعَلِّمات", "معلمة"},
	};
	struct ag_stemmer *s = ag_stemmer_new();
	char a[AG_FOLD_WORD_MAX + 1];

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(a, stem_of(s, cases[i].lang, cases[i].a));
		print_message("%s %s: %s\n", cases[i].a, cases[i].b, a);
		assert_string_equal(a, stem_of(s, cases[i].lang, cases[i].b));
	}
	ag_stemmer_free(s);
}

/* Short words keep their letters: a root letter is not a clitic. */
static void test_kept_apart(void **state)
{
	static const struct {
		enum ag_lang lang;
		const char *a, *b;
	} cases[] = {
	    {AG_LANG_AR, "بلد", "ولد"}, /* country, boy: not "لد" both */
	    {AG_LANG_AR, "سكن", "سكان"},       {AG_LANG_FR, "universel", "université"},
	    {AG_LANG_FR, "santé", "sans"},     {AG_LANG_EN, "policy", "police"},
	    {AG_LANG_ES, "vivienda", "vivir"},
	};
	struct ag_stemmer *s = ag_stemmer_new();
	char a[AG_FOLD_WORD_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(a, stem_of(s, cases[i].lang, cases[i].a));
		print_message("%s %s: %s\n", cases[i].a, cases[i].b, a);
		assert_string_not_equal(a, stem_of(s, cases[i].lang, cases[i].b));
	}
	ag_stemmer_free(s);
}

/* Words for the shared cache: many, so that slots are written while others read them. */
#define SHARED_WORDS  600
#define SHARED_ROUNDS 40

struct shared {
	struct ag_stem_cache *cache;
	char (*words)[16];
	char (*want)[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1];
	int wrong;
	unsigned seed;
};

static void *stem_shared(void *arg)
{
	struct shared *sh = arg;
	struct ag_stemmer *s = ag_stemmer_new_shared(sh->cache);
	char out[AG_FOLD_WORD_MAX + 1];

	for (int r = 0; s && r < SHARED_ROUNDS; r++)
		for (int k = 0; k < SHARED_WORDS; k++) {
			int i =
			    (int)((k * 7919u + sh->seed * 104729u + (unsigned)r) % SHARED_WORDS);
			enum ag_lang l = (enum ag_lang)(AG_LANG_EN + (i + r) % 4);
			size_t n = ag_stem(s, l, sh->words[i], strlen(sh->words[i]), out);

			out[n] = 0;
			sh->wrong += strcmp(out, sh->want[i][l]) != 0;
		}
	ag_stemmer_free(s);
	return s ? NULL : arg;
}

/*
 * Four threads stemming through one shared cache, slots overwritten under
 * them, get what a stemmer with a cache of its own gets, every time.
 */
static void test_shared_cache(void **state)
{
	static const char *const syl[] = {"ka", "lo", "mi",   "ré",   "tu", "sa", "ne",   "vi",
	                                  "ti", "on", "ment", "ción", "zi", "ò",  "tion", "es"};
	struct shared sh[4];
	pthread_t t[4];
	struct ag_stemmer *ref = ag_stemmer_new();
	char(*words)[16] = calloc(SHARED_WORDS, sizeof(*words));
	char(*want)[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1] = calloc(SHARED_WORDS, sizeof(*want));
	struct ag_stem_cache *cache = ag_stem_cache_new();

	(void)state;
	assert_true(ref && words && want && cache);
	for (int i = 0; i < SHARED_WORDS; i++) {
		snprintf(words[i], sizeof(words[i]), "%s%s%s", syl[i % 16], syl[i / 16 % 16],
		         syl[(i * 7) % 16]);
		for (int l = AG_LANG_EN; l <= AG_LANG_IT; l++) {
			size_t n =
			    ag_stem(ref, (enum ag_lang)l, words[i], strlen(words[i]), want[i][l]);

			want[i][l][n] = 0;
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		sh[i] = (struct shared){cache, words, want, 0, i};
		assert_int_equal(pthread_create(&t[i], NULL, stem_shared, &sh[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *rc;

		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
		assert_int_equal(sh[i].wrong, 0);
	}
	ag_stem_cache_free(cache);
	ag_stemmer_free(ref);
	free(words);
	free(want);
}

/*
 * A word's stems come the same from the cache as they were made: in every
 * language, each kept beside the others in the word's slot (a stem that
 * changes the word's end, one cut at both ends, an Arabic whole stem), and
 * those of words longer than a slot keeps (20 bytes), made each time.
 */
static void test_cache_lanes(void **state)
{
	static const char *const words[] = {
	    "happy",     "studies", "migrations",           "والمدارس",   "بالسكن",     "للاجئين",
	    "politiche", "niñas",   "internationalisation", "والمهاجرين", "acogimiento"};
	struct ag_stemmer *s = ag_stemmer_new();
	char made[AG_LANG_COUNT][AG_FOLD_WORD_MAX], again[AG_FOLD_WORD_MAX];
	char whole[AG_FOLD_WORD_MAX], whole2[AG_FOLD_WORD_MAX];
	size_t n[AG_LANG_COUNT], nw;

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct one o = {{0}};
		size_t len;

		(void)ag_fold_words(words[i], strlen(words[i]), one_word, &o);
		len = strlen(o.w);
		for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++)
			n[l] = ag_stem(s, (enum ag_lang)l, o.w, len, made[l]);
		for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++) {
			assert_int_equal(ag_stem(s, (enum ag_lang)l, o.w, len, again), n[l]);
			assert_memory_equal(again, made[l], n[l]);
		}
		nw = ag_stem_whole(NULL, o.w, len, whole);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(ag_stem_whole(s, o.w, len, whole2), nw);
			assert_memory_equal(whole2, whole, nw);
		}
		assert_int_equal(ag_stem(s, AG_LANG_AR, o.w, len, again), n[AG_LANG_AR]);
		assert_memory_equal(again, made[AG_LANG_AR], n[AG_LANG_AR]);
	}
	assert_string_equal(stem_of(s, AG_LANG_EN, "happy"), "happi");
	assert_string_equal(stem_of(s, AG_LANG_AR, "والمدارس"), "مدارس");
	ag_stemmer_free(s);
}

static int vote(const char *word, size_t len, void *arg)
{
	return ag_lang_vote(arg, word, len); /* non-zero: enough, and the fold stops */
}

/*
 * A language guessed from a string, and from its folded words by votes, as
 * the index guesses it: the same either way.
 */
static void test_guess(void **state)
{
	static const struct {
		const char *text;
		enum ag_lang lang;
	} cases[] = {
	    {"L'hébergement des réfugiés dans la ville", AG_LANG_FR},
	    {"Housing for the newly arrived", AG_LANG_EN},
	    {"Vivienda para los recién llegados", AG_LANG_ES},
	    {"Alloggio per gli ultimi arrivati", AG_LANG_IT},
	    {"السكن للوافدين الجدد in Tunis", AG_LANG_AR},
	    {"Kostrava 2024", AG_LANG_NONE},
	};
	static char long_text[450 * 4 + 1];
	struct ag_lang_votes votes = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_lang_votes v = {0};

		assert_int_equal(ag_lang_guess(cases[i].text, strlen(cases[i].text)),
		                 cases[i].lang);
		(void)ag_fold_words(cases[i].text, strlen(cases[i].text), vote, &v);
		assert_int_equal(ag_lang_voted(&v), cases[i].lang);
	}
	/* Only the first 200 words count: 150 French ones, then 300 English. */
	for (size_t i = 0; i < 450; i++)
		strcat(long_text, i < 150 ? "les " : "the ");
	assert_int_equal(ag_lang_guess(long_text, strlen(long_text)), AG_LANG_FR);
	assert_int_equal(ag_fold_words(long_text, strlen(long_text), vote, &votes), 1);
	assert_int_equal(votes.words, 200);
	assert_int_equal(ag_lang_voted(&votes), AG_LANG_FR);
	assert_int_equal(ag_lang_of("fr", 2), AG_LANG_FR);
	assert_int_equal(ag_lang_of("de", 2), AG_LANG_NONE);
	assert_string_equal(ag_lang_code(AG_LANG_AR), "ar");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_stem),    cmocka_unit_test(test_kept_apart),
	    cmocka_unit_test(test_shared_cache), cmocka_unit_test(test_cache_lanes),
	    cmocka_unit_test(test_guess),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
