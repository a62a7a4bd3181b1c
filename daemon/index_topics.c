/*
 * index_topics.c: the topics a query word names, in any of the network's
 * languages, so that "logement" also finds the Arabic and Italian records
 * tagged housing.
 *
 * A topic's names are the words of its labels in proto/schema.c (ag_topics:
 * French, English, Arabic, Spanish, Italian), of 4 letters or more (3 in
 * Arabic) but for the few that every label shares ("migration", "access",
 * "approach"), and a few synonyms below. A query word names a topic when it
 * is one of them, or has its stem in the name's language.
 */
#include <pthread.h>
#include <string.h>

#include "fold.h"
#include "index_internal.h"
#include "schema.h"
#include "stem.h"

#define NAMES_MAX 24 /* per topic */

/* Synonyms the labels lack. */
static const struct {
	const char *key;
	enum ag_lang lang;
	const char *name;
} synonyms[] = {
    {"housing", AG_LANG_FR, "logement"},
    {"urban-planning", AG_LANG_FR, "urbanisme"},
    {"inclusion", AG_LANG_FR, "inclusion"},
    {"inclusion", AG_LANG_EN, "inclusion"},
};

/* Words of labels that name no topic alone: a whole network speaks of them. */
static const char *const generic[] = {
    "migration", "migrazione", "migracion", "الهجره",    "acces",   "access", "accesso", "acceso",
    "الوصول",    "approche",   "approach",  "approccio", "enfoque", "النهج",  "الي",     "della",
};

/* A name, folded, and its stem in its language (the word itself when it has none). */
struct name {
	enum ag_lang lang;
	char word[AG_FOLD_WORD_MAX + 1];
	char stem[AG_FOLD_WORD_MAX + 1];
};

static struct name names[AG_TOPIC_COUNT][NAMES_MAX];
static size_t nnames[AG_TOPIC_COUNT];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* The stem of a folded word in lang; the word itself where it has none. */
static void stem_of(struct ag_stemmer *st, enum ag_lang lang, const char *w, size_t len,
                    char out[static AG_FOLD_WORD_MAX + 1])
{
	size_t n = st ? ag_stem(st, lang, w, len, out) : 0;

	if (n == 0)
		memcpy(out, w, n = len);
	out[n] = 0;
}

struct adding {
	size_t t;
	enum ag_lang lang;
	struct ag_stemmer *st;
};

static int name_add(const char *w, size_t len, void *arg)
{
	struct adding *a = arg;
	struct name *n;

	if (ag_fold_chars(w, len) < (a->lang == AG_LANG_AR ? 3u : 4u) || nnames[a->t] == NAMES_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
		if (strlen(generic[i]) == len && memcmp(generic[i], w, len) == 0)
			return 0;
	n = &names[a->t][nnames[a->t]++];
	n->lang = a->lang;
	memcpy(n->word, w, len);
	n->word[len] = 0;
	stem_of(a->st, a->lang, w, len, n->stem);
	return 0;
}

static void names_build(void)
{
	static const enum ag_lang langs[] = {AG_LANG_FR, AG_LANG_EN, AG_LANG_AR, AG_LANG_ES,
	                                     AG_LANG_IT};
	struct adding a = {0, AG_LANG_NONE, ag_stemmer_new()};

	for (a.t = 0; a.t < AG_TOPIC_COUNT; a.t++) {
		const struct ag_vocab *v = &ag_topics[a.t];

		for (size_t l = 0; l < sizeof(langs) / sizeof(langs[0]); l++) {
			const char *label = ag_vocab_label(v, ag_lang_code(langs[l]));

			a.lang = langs[l];
			(void)ag_fold_words(label, strlen(label), name_add, &a);
		}
		for (size_t i = 0; i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
			if (strcmp(synonyms[i].key, v->key) == 0) {
				a.lang = synonyms[i].lang;
				(void)ag_fold_words(synonyms[i].name, strlen(synonyms[i].name),
				                    name_add, &a);
			}
	}
	ag_stemmer_free(a.st);
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
	for (size_t t = 0; t < AG_TOPIC_COUNT && found < max; t++) {
		const char *key = ag_topics[t].key;
		int hit = strlen(key) == len && memcmp(key, word, len) == 0;

		for (size_t i = 0; !hit && i < nnames[t]; i++)
			hit = name_is(&names[t][i], word, len, stems);
		if (hit)
			keys[found++] = key;
	}
	return found;
}
