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

/* A topic's names, each with its language: a name is stemmed in its own language only. */
struct tname {
	enum ag_lang lang;
	const char *name;
};

static const struct {
	const char *key;
	struct tname names[NAMES_MAX];
} topic_names[] = {
#define FR(s)                                                                                      \
	{                                                                                          \
		AG_LANG_FR, s                                                                      \
	}
#define EN(s)                                                                                      \
	{                                                                                          \
		AG_LANG_EN, s                                                                      \
	}
#define AR(s)                                                                                      \
	{                                                                                          \
		AG_LANG_AR, s                                                                      \
	}
#define ES(s)                                                                                      \
	{                                                                                          \
		AG_LANG_ES, s                                                                      \
	}
#define IT(s)                                                                                      \
	{                                                                                          \
		AG_LANG_IT, s                                                                      \
	}
    {"housing",
     {FR("hébergement"), FR("logement"), EN("housing"), AR("سكن"), ES("vivienda"), IT("alloggio")}},
    {"health", {FR("santé"), EN("health"), AR("صحة"), ES("salud"), IT("salute")}},
    {"education",
     {FR("éducation"), EN("education"), AR("تعليم"), ES("educación"), IT("istruzione")}},
    {"employment", {FR("emploi"), EN("employment"), AR("تشغيل"), ES("empleo"), IT("occupazione")}},
    {"urban-planning",
     {FR("urbanisme"), FR("planification"), AR("تخطيط"), ES("planificación"),
      IT("pianificazione")}},
    {"exchange", {FR("échange"), EN("exchange"), AR("تبادل"), ES("intercambio"), IT("scambio")}},
    {"understanding",
     {FR("compréhension"), EN("understanding"), AR("فهم"), ES("comprensión"), IT("comprensione")}},
    {"governance", {FR("gouvernance"), EN("governance"), AR("حوكمة"), ES("gobernanza")}},
    {"ownership",
     {FR("appropriation"), EN("ownership"), AR("ملكية"), ES("apropiación"), IT("appropriazione")}},
    {"inclusion",
     {FR("inclusion"), EN("inclusive"), AR("إدماج"), ES("inclusión"), IT("inclusione")}},
    {"leadership", {FR("leadership"), EN("leadership"), AR("قيادة"), ES("liderazgo")}},
    {"rights", {FR("droits"), EN("rights"), AR("حقوق"), ES("derechos"), IT("diritti")}},
    {"services", {FR("services"), EN("services"), AR("خدمات"), ES("servicios"), IT("servizi")}},
#undef FR
#undef EN
#undef AR
#undef ES
#undef IT
};

#define NTOPICS (sizeof(topic_names) / sizeof(topic_names[0]))

/* A name, folded, and its stem in its language (the word itself when it has none). */
struct name {
	enum ag_lang lang;
	char word[AG_FOLD_WORD_MAX + 1];
	char stem[AG_FOLD_WORD_MAX + 1];
};

static struct name names[NTOPICS][NAMES_MAX];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static int first_word(const char *w, size_t len, void *arg)
{
	memcpy(arg, w, len);
	((char *)arg)[len] = 0;
	return 1;
}

/* The stem of a folded word in lang; the word itself where it has none. */
static void stem_of(struct ag_stemmer *st, enum ag_lang lang, const char *w, size_t len,
                    char out[static AG_FOLD_WORD_MAX + 1])
{
	size_t n = st ? ag_stem(st, lang, w, len, out) : 0;

	if (n == 0)
		memcpy(out, w, n = len);
	out[n] = 0;
}

static void names_build(void)
{
	struct ag_stemmer *st = ag_stemmer_new();

	for (size_t t = 0; t < NTOPICS; t++)
		for (size_t i = 0; i < NAMES_MAX && topic_names[t].names[i].name; i++) {
			struct name *n = &names[t][i];
			const char *s = topic_names[t].names[i].name;

			n->lang = topic_names[t].names[i].lang;
			(void)ag_fold_words(s, strlen(s), first_word, n->word);
			stem_of(st, n->lang, n->word, strlen(n->word), n->stem);
		}
	ag_stemmer_free(st);
}

/* Whether the word, with its stems, is the name n: the same word, or the same stem in n's language.
 */
static int name_is(const struct name *n, const char *w, size_t len,
                   char stems[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1])
{
	return (strlen(n->word) == len && memcmp(n->word, w, len) == 0) ||
	       strcmp(stems[n->lang], n->stem) == 0;
}

size_t index_topics_named(struct ag_stemmer *st, const char *word, size_t len, const char **keys,
                          size_t max)
{
	char stems[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1];
	size_t found = 0;

	pthread_once(&names_once, names_build);
	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++)
		stem_of(st, (enum ag_lang)l, word, len, stems[l]);
	for (size_t t = 0; t < NTOPICS && found < max; t++) {
		int hit =
		    strlen(topic_names[t].key) == len && memcmp(topic_names[t].key, word, len) == 0;

		for (size_t i = 0; !hit && i < NAMES_MAX && topic_names[t].names[i].name; i++)
			hit = name_is(&names[t][i], word, len, stems);
		if (hit)
			keys[found++] = topic_names[t].key;
	}
	return found;
}
