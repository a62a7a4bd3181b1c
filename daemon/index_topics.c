/*
 * index_topics.c: the topics a query word names, in any of the network's
 * languages, so that "logement" also finds the Arabic and Italian records
 * tagged housing.
 *
 * TO BE UNIFIED: the words below repeat proto/schema.c's topic labels
 * (ag_topics: French and English) and add Arabic, Spanish and Italian ones,
 * which issue 19 adds to that table. Once ag_topics holds them, this table
 * should be built from it, keeping only the extra synonyms ("logement").
 */
#include <pthread.h>
#include <string.h>

#include "fold.h"
#include "index_internal.h"
#include "stem.h"

#define NAMES_MAX 8

static const struct {
	const char *key;
	const char *names[NAMES_MAX];
} topic_names[] = {
    {"housing", {"hébergement", "logement", "housing", "سكن", "vivienda", "alloggio"}},
    {"health", {"santé", "health", "صحة", "salud", "salute"}},
    {"education", {"éducation", "education", "تعليم", "educación", "istruzione"}},
    {"employment", {"emploi", "employment", "تشغيل", "empleo", "occupazione"}},
    {"urban-planning", {"urbanisme", "planification", "تخطيط", "planificación", "pianificazione"}},
    {"exchange", {"échange", "exchange", "تبادل", "intercambio", "scambio"}},
    {"understanding", {"compréhension", "understanding", "فهم", "comprensión", "comprensione"}},
    {"governance", {"gouvernance", "governance", "حوكمة", "gobernanza"}},
    {"ownership", {"appropriation", "ownership", "ملكية", "apropiación", "appropriazione"}},
    {"inclusion", {"inclusion", "inclusive", "إدماج", "inclusión", "inclusione", "inclusivo"}},
    {"leadership", {"leadership", "قيادة", "liderazgo"}},
    {"rights", {"droits", "rights", "حقوق", "derechos", "diritti"}},
    {"services", {"services", "خدمات", "servicios", "servizi"}},
};

#define NTOPICS (sizeof(topic_names) / sizeof(topic_names[0]))

/* A name, folded, and its stems in each language. */
struct name {
	char word[AG_FOLD_WORD_MAX + 1];
	char stem[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1];
};

static struct name names[NTOPICS][NAMES_MAX];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static int first_word(const char *w, size_t len, void *arg)
{
	memcpy(arg, w, len);
	((char *)arg)[len] = 0;
	return 1;
}

/* The stems of a folded word in every language; the word itself where it has none. */
static void stems_of(struct ag_stemmer *st, const char *w, size_t len,
                     char out[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1])
{
	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++) {
		size_t n = st ? ag_stem(st, (enum ag_lang)l, w, len, out[l]) : 0;

		if (n == 0)
			memcpy(out[l], w, n = len);
		out[l][n] = 0;
	}
}

static void names_build(void)
{
	struct ag_stemmer *st = ag_stemmer_new();

	for (size_t t = 0; t < NTOPICS; t++)
		for (size_t i = 0; i < NAMES_MAX && topic_names[t].names[i]; i++) {
			struct name *n = &names[t][i];
			const char *s = topic_names[t].names[i];

			(void)ag_fold_words(s, strlen(s), first_word, n->word);
			stems_of(st, n->word, strlen(n->word), n->stem);
		}
	ag_stemmer_free(st);
}

/* Whether the word, with its stems, is the name n: the same word, or the same stem in a language.
 */
static int name_is(const struct name *n, const char *w, size_t len,
                   char stems[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1])
{
	if (strlen(n->word) == len && memcmp(n->word, w, len) == 0)
		return 1;
	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++)
		if (strcmp(stems[l], n->stem[l]) == 0)
			return 1;
	return 0;
}

size_t index_topics_named(struct ag_stemmer *st, const char *word, size_t len, const char **keys,
                          size_t max)
{
	char stems[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1];
	size_t found = 0;

	pthread_once(&names_once, names_build);
	stems_of(st, word, len, stems);
	for (size_t t = 0; t < NTOPICS && found < max; t++) {
		int hit =
		    strlen(topic_names[t].key) == len && memcmp(topic_names[t].key, word, len) == 0;

		for (size_t i = 0; !hit && i < NAMES_MAX && topic_names[t].names[i]; i++)
			hit = name_is(&names[t][i], word, len, stems);
		if (hit)
			keys[found++] = topic_names[t].key;
	}
	return found;
}
