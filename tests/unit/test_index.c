/*
 * test_index.c: search
 * through the store across languages, text maps and nested fields, with
 * filters; the index against a brute-force model under updates,
 * retractions, tied timestamps, filters and limits; a merge stopped
 * between any two of its transactions; merges of many segments
 * against a plain reference; and merges whose pieces writes interleave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>
#include <msgpack.h>

#include "entry.h"
#include "index.h"
#include "key.h"
#include "store.h"
#include "testutil.h"

/* ---- search through the store ---- */

struct fixture {
	char *dir, *data;
	struct store *st;
	uint8_t network[32];
	uint8_t pk[3][AG_PK_LEN], sk[3][AG_SK_LEN];
	uint64_t seq[3];
	uint8_t head[3][AG_HASH_LEN];
	size_t batch; /* 0: each put is its own append; else entries wait for a batch this big */
	struct ag_entry pend[64];
	size_t npend;
};

/* Appends the entries that wait, in one batch. */
static void put_flush(struct fixture *f)
{
	struct store_result r[64];

	assert_int_equal(store_append(f->st, f->pend, f->npend, r), 0);
	for (size_t i = 0; i < f->npend; i++) {
		assert_int_equal(r[i].status, STORE_STORED);
		free((void *)(uintptr_t)f->pend[i].h.raw);
	}
	f->npend = 0;
}

static void pack_json(msgpack_packer *pk, json_t *j);

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* JSON to canonical msgpack: map keys sorted by their bytes. */
static void pack_object(msgpack_packer *pk, json_t *j)
{
	const char *keys[64], *k;
	size_t n = 0;
	json_t *v;

	json_object_foreach(j, k, v)
	{
		assert_true(n < 64);
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_str_with_body(pk, keys[i], strlen(keys[i]));
		pack_json(pk, json_object_get(j, keys[i]));
	}
}

static void pack_json(msgpack_packer *pk, json_t *j)
{
	size_t i;
	json_t *v;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		pack_object(pk, j);
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v) pack_json(pk, v);
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	default:
		fail_msg("unexpected JSON type");
	}
}

/* Appends the author's next entry, its body given as JSON (NULL retracts). */
static void put(struct fixture *f, int who, const char *type, const char *id, uint64_t ts,
                const char *json)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ag_entry e = {
	    .h = {.seq = f->seq[who] + 1, .has_prev = f->seq[who] > 0, .timestamp = ts}};
	struct store_result r;
	uint8_t *buf = malloc(AG_HEADER_MAX + AG_BODY_MAX), *b = NULL;
	size_t len, blen = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (json) {
		json_error_t err;
		json_t *j = json_loads(json, 0, &err);

		if (!j)
			fail_msg("bad JSON: %s", err.text);
		pack_json(&pk, j);
		json_decref(j);
	}
	memcpy(e.h.network, f->network, 32);
	memcpy(e.h.author, f->pk[who], AG_PK_LEN);
	memcpy(e.h.prev, f->head[who], AG_HASH_LEN);
	snprintf(e.h.type, sizeof(e.h.type), "%s", type);
	e.h.id = id;
	e.h.id_len = strlen(id);
	/* The header at buf, its body after it. */
	if (json) {
		assert_true(sb.size <= AG_BODY_MAX);
		b = memcpy(buf + AG_HEADER_MAX, sb.data, blen = sb.size);
	}
	e.body = b;
	e.body_len = blen;
	assert_int_equal(ag_entry_sign(&e, f->sk[who], buf, AG_HEADER_MAX, &len), 0);
	msgpack_sbuffer_destroy(&sb);
	assert_int_equal(ag_entry_open(&e, buf, len, b, blen, NULL, NULL), 0);
	f->seq[who] = e.h.seq;
	ag_entry_hash(&e, f->head[who]);
	if (f->batch) {
		f->pend[f->npend++] = e;
		if (f->npend == f->batch)
			put_flush(f);
		return;
	}
	assert_int_equal(store_append(f->st, &e, 1, &r), 0);
	assert_int_equal(r.status, STORE_STORED);
	free(buf);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(ag_init(), 0);
	f->dir = tu_tmpdir("index");
	assert_non_null(f->dir);
	f->data = tu_path(f->dir, "data");
	f->st = store_open(f->data, 0);
	assert_non_null(f->st);
	ag_network_default(f->network);
	for (int i = 0; i < 3; i++) {
		uint8_t seed[32];

		memset(seed, 0x40 + i, sizeof(seed));
		ag_key_from_seed(f->pk[i], f->sk[i], seed);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->data);
	free(f->dir);
	free(f);
	return 0;
}

/* The ids of the records found, space separated, in the order given. */
struct found {
	char ids[512];
};

static int found_fn(const struct ag_entry *e, void *arg)
{
	struct found *fd = arg;
	size_t at = strlen(fd->ids);

	snprintf(fd->ids + at, sizeof(fd->ids) - at, "%s%.*s", at ? " " : "", (int)e->h.id_len,
	         e->h.id);
	return 0;
}

static const char *find(struct fixture *f, const char *text, const char *type, int who,
                        const char *topic, size_t limit)
{
	static struct found fd;
	struct index_query q = {text, type, who >= 0 ? f->pk[who] : NULL, topic, limit};

	memset(&fd, 0, sizeof(fd));
	assert_true(store_search(f->st, &q, found_fn, &fd) >= 0);
	return fd.ids;
}

static void load_sample(struct fixture *f)
{
	put(f, 0, "practice", "accueil", 100,
	    "{\"title\": \"Centre d'accueil\", \"topics\": [\"housing\"], \"summary\": "
	    "{\"fr\": \"Hébergement d'urgence pour les nouveaux arrivants\","
	    " \"en\": \"Emergency housing for newcomers\","
	    " \"ar\": \"السَّكَن الطَّارِئ لِلْوَافِدِين الجُدُد\"}}");
	put(f, 1, "practice", "sante", 200,
	    "{\"title\": \"مبادرة المدينة\", \"topics\": [\"health\"], \"summary\": "
	    "{\"ar\": \"الصِّحَّة النَّفْسِيَّة لِلْمُهَاجِرِين\"}}");
	put(f, 0, "toolbox", "escuela", 300,
	    "{\"title\": \"Escuela abierta\", \"topic\": \"education\", \"summary\": "
	    "{\"es\": \"Educación intercultural para niños migrantes\"}, \"steps\": ["
	    "{\"title\": \"Paso 1\", \"text\": \"Formación de docentes\"},"
	    "{\"title\": \"Passo 2\", \"text\": {\"it\": \"Formazione degli insegnanti\"}}]}");
	/* A type without a schema, so that numbers, booleans and nil reach the index. */
	put(f, 1, "event", "reunion", 400,
	    "{\"title\": \"Réunion des villes\", \"topics\": [\"housing\", \"governance\"],"
	    " \"year\": 2024, \"population\": 4000000000, \"share\": 0.25, \"draft\": false,"
	    " \"place\": null, \"count\": -3,"
	    " \"notes\": \"L'hébergement et la gouvernance de la migration\"}");
}

static void test_search_languages(void **state)
{
	struct fixture *f = *state;

	load_sample(f);
	/* French, folded both ways; a summary's word ranks above a note's. */
	assert_string_equal(find(f, "hebergement", NULL, -1, NULL, 0), "accueil reunion");
	assert_string_equal(find(f, "HÉBERGEMENT", NULL, -1, NULL, 0), "accueil reunion");
	assert_string_equal(find(f, "Hébergement d'urgence", NULL, -1, NULL, 0), "accueil");
	/* Every language of a text map; words are ANDed. */
	assert_string_equal(find(f, "emergency housing", NULL, -1, NULL, 0), "accueil");
	assert_string_equal(find(f, "emergency health", NULL, -1, NULL, 0), "");
	/* Arabic with and without harakat, and teh marbuta written as heh. */
	assert_string_equal(find(f, "الصحة", NULL, -1, NULL, 0), "sante");
	assert_string_equal(find(f, "الصِّحَّة", NULL, -1, NULL, 0), "sante");
	assert_string_equal(find(f, "النفسيه للمهاجرين", NULL, -1, NULL, 0), "sante");
	/* Housing's Arabic name: the record tagged housing comes after the one that says it. */
	assert_string_equal(find(f, "السكن", NULL, -1, NULL, 0), "accueil reunion");
	/* Spanish, and text nested in arrays of maps, in Italian too. */
	assert_string_equal(find(f, "educacion", NULL, -1, NULL, 0), "escuela");
	assert_string_equal(find(f, "NIÑOS", NULL, -1, NULL, 0), "escuela");
	assert_string_equal(find(f, "formacion docentes", NULL, -1, NULL, 0), "escuela");
	assert_string_equal(find(f, "formazione", NULL, -1, NULL, 0), "escuela");
	/* Map keys are not text. */
	assert_string_equal(find(f, "summary", NULL, -1, NULL, 0), "");
}

static void test_search_filters(void **state)
{
	struct fixture *f = *state;

	load_sample(f);
	assert_string_equal(find(f, "hebergement", "practice", -1, NULL, 0), "accueil");
	assert_string_equal(find(f, "hebergement", NULL, 0, NULL, 0), "accueil");
	assert_string_equal(find(f, "hebergement", NULL, -1, "governance", 0), "reunion");
	assert_string_equal(find(f, "hebergement", "event", 1, "housing", 0), "reunion");
	assert_string_equal(find(f, "hebergement", "toolbox", -1, NULL, 0), "");
	assert_string_equal(find(f, "hebergement", NULL, 2, NULL, 0), "");
	/* Listings: a search without words; "topic" counts as well as "topics". */
	assert_string_equal(find(f, NULL, NULL, -1, NULL, 0), "reunion escuela sante accueil");
	assert_string_equal(find(f, "", NULL, -1, NULL, 2), "reunion escuela");
	assert_string_equal(find(f, NULL, "practice", -1, NULL, 0), "sante accueil");
	assert_string_equal(find(f, NULL, NULL, 1, NULL, 0), "reunion sante");
	assert_string_equal(find(f, NULL, NULL, -1, "education", 0), "escuela");
	assert_string_equal(find(f, NULL, NULL, -1, "housing", 1), "reunion");
	assert_string_equal(find(f, NULL, "nosuchtype", -1, NULL, 0), "");
}

/* Topics nested in a priority's areas and a profile's sections count as the record's topics. */
static void test_nested_topics(void **state)
{
	struct fixture *f = *state;

	put(f, 0, "priority", "2024", 100,
	    "{\"title\": \"Priorités\", \"areas\": [{\"title\": \"Emploi\", \"topics\": "
	    "[\"employment\", \"rights\"]}, {\"title\": \"Logement\", \"topics\": "
	    "[\"housing\"]}]}");
	put(f, 1, "profile", "main", 200,
	    "{\"city\": \"Sfax\", \"country\": \"Tunisie\", \"region\": "
	    "\"south-mediterranean\", \"sections\": [{\"topic\": \"health\", \"text\": "
	    "\"Santé\"}, {\"topic\": \"housing\", \"text\": \"Logement\"}]}");
	assert_string_equal(find(f, NULL, NULL, -1, "employment", 0), "2024");
	assert_string_equal(find(f, NULL, NULL, -1, "rights", 0), "2024");
	assert_string_equal(find(f, NULL, NULL, -1, "health", 0), "main");
	assert_string_equal(find(f, NULL, NULL, -1, "housing", 0), "main 2024");
	assert_string_equal(find(f, "logement", NULL, -1, "housing", 0), "2024 main");
	assert_string_equal(find(f, NULL, NULL, -1, "education", 0), "");
	/* Words of other keys are no topics, at any depth. */
	assert_string_equal(find(f, NULL, NULL, -1, "Emploi", 0), "");
}

static void test_query_limits(void **state)
{
	struct fixture *f = *state;
	struct index_query q = {.text = "a1 a2 a3 a4 a5 a6 a7 a8 a9 b1 b2 b3 b4 b5 b6 b7 b8"};
	char big[INDEX_TEXT_MAX + 2];

	load_sample(f);
	assert_int_equal(store_search(f->st, &q, found_fn, &(struct found){{0}}), -1);
	/* The same word many times is one word. */
	q.text = "villes villes villes villes villes villes villes villes villes villes villes "
	         "villes villes villes villes villes villes Villes";
	assert_int_equal(store_search(f->st, &q, found_fn, &(struct found){{0}}), 1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	q.text = big;
	assert_int_equal(store_search(f->st, &q, found_fn, &(struct found){{0}}), -1);
	/* Text without a word in it finds nothing, rather than everything. */
	assert_string_equal(find(f, "l' ?", NULL, -1, NULL, 0), "");
}

/* ---- stems, prefixes, topics across languages, ranking (issue 20) ---- */

static const char *find_lang(struct fixture *f, const char *text, const char *lang)
{
	static struct found fd;
	struct index_query q = {.text = text, .lang = lang};

	memset(&fd, 0, sizeof(fd));
	assert_true(store_search(f->st, &q, found_fn, &fd) >= 0);
	return fd.ids;
}

/* Notes: a type without a schema, so that any fields reach the index. */
static void load_forms(struct fixture *f)
{
	put(f, 0, "note", "fr", 100,
	    "{\"title\": {\"fr\": \"Bibliothèques mobiles\"}, \"topics\": [\"education\"],"
	    " \"summary\": {\"fr\": \"Des pratiques d'accueil pour les migrantes\"}}");
	put(f, 1, "note", "es", 200,
	    "{\"title\": {\"es\": \"Viviendas para familias\"}, \"topics\": [\"housing\"],"
	    " \"summary\": {\"es\": \"Niñas y niños en las escuelas\"}}");
	put(f, 2, "note", "it", 300,
	    "{\"title\": {\"it\": \"Alloggi temporanei\"}, \"topics\": [\"housing\"],"
	    " \"summary\": {\"it\": \"Le bambine e i bambini migranti\"}}");
	put(f, 0, "note", "en", 400,
	    "{\"title\": {\"en\": \"Community policies\"}, \"topics\": [\"inclusion\"],"
	    " \"summary\": {\"en\": \"Practices that houses share with the police\"}}");
	put(f, 1, "note", "ar", 500,
	    "{\"title\": {\"ar\": \"الاستشارات القانونية\"}, \"topics\": [\"rights\"],"
	    " \"summary\": {\"ar\": \"وبالمدينة مُعَلِّمات للمهاجرين\"}}");
	put(f, 2, "note", "ar2", 600,
	    "{\"title\": {\"ar\": \"والسكن اللائق\"}, \"topics\": [\"housing\"],"
	    " \"summary\": {\"ar\": \"بلد استشارة\"}}");
	/* A plain string: its language guessed from its common words. */
	put(f, 0, "note", "plain", 700,
	    "{\"title\": \"Les médiatrices de la santé\", \"topics\": [\"health\"]}");
}

/* Plurals, feminine forms, Arabic article and clitics: each form finds the others. */
static void test_forms_per_language(void **state)
{
	static const struct {
		const char *query, *ids;
	} cases[] = {
	    {"pratique", "fr"},        /* French: plural in the text */
	    {"bibliotheque", "fr"},    /* accents folded, plural */
	    {"migrante", "it fr"},     /* feminine; Italian migranti shares its stem */
	    {"mediatrice", "plain"},   /* a plain string guessed French */
	    {"vivienda", "es ar2 it"}, /* Spanish plural; housing's name: its records after */
	    {"nina", "es"},            /* niñas, niños: feminine and plural */
	    {"alloggio", "it ar2 es"}, /* Italian plural; the same */
	    {"bambina", "it"},
	    {"policy", "en"}, /* English: policies */
	    {"practice", "en"},
	    {"استشارات", "ar ar2"}, /* article, teh marbuta, plural ات */
	    {"مدينة", "ar"},        /* وبالمدينة: و ب ال */
	    {"المعلمة", "ar"},      /* معلمات with harakat */
	    {"مهاجر", "ar"},        /* للمهاجرين: ل ال ين */
	    {"لائق", "ar2"},        /* اللائق */
	    {"police", "en"},       /* the word itself, not policy's stem */
	    {"ولد", ""},            /* بلد: no clitic cut from a three-letter word */
	    {"vivir", ""},          /* viviendas: another stem */
	    {"sans", ""},           /* santé: another stem */
	    {"universel", ""},
	};
	struct fixture *f = *state;

	load_forms(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].query);
		assert_string_equal(find(f, cases[i].query, NULL, -1, NULL, 0), cases[i].ids);
	}
}

/* "word*" finds every word it starts; so does the query's last word of 4 letters or more. */
static void test_prefixes(void **state)
{
	struct fixture *f = *state;

	load_forms(f);
	put(f, 1, "note", "heb", 800,
	    "{\"title\": \"Hébergeurs solidaires\", \"topics\": [\"governance\"]}");
	assert_string_equal(find(f, "héberg*", NULL, -1, NULL, 0), "heb");
	assert_string_equal(find(f, "biblio", NULL, -1, NULL, 0), "fr");
	assert_string_equal(find(f, "tempo", NULL, -1, NULL, 0), "it");
	/* Not the first word, nor a word of 3 letters. */
	assert_string_equal(find(f, "biblio mobiles", NULL, -1, NULL, 0), "");
	assert_string_equal(find(f, "mob", NULL, -1, NULL, 0), "");
	assert_string_equal(find(f, "mob*", NULL, -1, NULL, 0), "fr");
}

/* A topic's name in any language finds the records tagged with it, after those that say it. */
static void test_topics_across_languages(void **state)
{
	static const char *names[] = {"logement", "housing", "سكن", "vivienda", "alloggio"};
	struct fixture *f = *state;

	load_forms(f);
	/* No housing record says logement: all three come by topic, newest first. */
	assert_string_equal(find(f, "logement", NULL, -1, NULL, 0), "ar2 it es");
	/* A topic's key is a word of its records; houses (en) shares housing's stem, after. */
	assert_string_equal(find(f, "housing", NULL, -1, NULL, 0), "ar2 it es en");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *got = find(f, names[i], NULL, -1, NULL, 0);

		print_message("%s: %s\n", names[i], got);
		assert_null(strstr(got, "fr"));
		assert_null(strstr(got, "plain"));
		assert_non_null(strstr(got, "ar2"));
		assert_non_null(strstr(got, "it"));
		assert_non_null(strstr(got, "es"));
	}
	assert_string_equal(find(f, "vivienda", NULL, -1, NULL, 0), "es ar2 it");
	assert_string_equal(find(f, "سكن", NULL, -1, NULL, 0), "ar2 it es");
	assert_string_equal(find(f, "santé", NULL, -1, NULL, 0), "plain");
	assert_string_equal(find(f, "droits", NULL, -1, NULL, 0), "ar");
}

/* Words found in different fields of one record; --lang keeps the records with text in it. */
static void test_fields_and_lang(void **state)
{
	struct fixture *f = *state;

	load_forms(f);
	assert_string_equal(find(f, "bibliotheques migrantes", NULL, -1, NULL, 0), "fr");
	assert_string_equal(find(f, "alloggi bambini", NULL, -1, NULL, 0), "it");
	assert_string_equal(find(f, "temporanei niñas", NULL, -1, NULL, 0), "");
	assert_string_equal(find_lang(f, "pratiques", "fr"), "fr");
	assert_string_equal(find_lang(f, "pratiques", "en"), "");
	assert_string_equal(find_lang(f, "santé", "fr"), "plain");
	assert_string_equal(find_lang(f, NULL, "it"), "it");
	assert_string_equal(find_lang(f, NULL, "ar"), "ar2 ar");
}

/* The word above its stem, title above summary above the rest; ties newest first. */
static void test_ranking(void **state)
{
	struct fixture *f = *state;

	put(f, 0, "note", "notes", 500,
	    "{\"title\": \"Rapport\", \"notes\": \"Un atelier de couture\"}");
	put(f, 0, "note", "summary", 100,
	    "{\"title\": \"Rapport\", \"summary\": \"Un atelier de couture\"}");
	put(f, 0, "note", "title", 50, "{\"title\": \"Atelier de couture\"}");
	put(f, 0, "note", "plural", 900, "{\"title\": \"Ateliers de couture\"}");
	put(f, 1, "note", "tie-old", 10, "{\"title\": \"Jardin partagé\"}");
	put(f, 1, "note", "tie-new", 20, "{\"title\": \"Jardin partagé\"}");
	/* The exact word in a summary outweighs its plural in a title; a note's comes last. */
	assert_string_equal(find(f, "atelier", NULL, -1, NULL, 0), "title summary plural notes");
	assert_string_equal(find(f, "atelier couture", NULL, -1, NULL, 2), "title summary");
	assert_string_equal(find(f, "jardin", NULL, -1, NULL, 0), "tie-new tie-old");
}

/* ---- the index against a model ---- */

#define M_RECORDS 60
#define M_VOCAB   12

static const char *vocab[M_VOCAB] = {"hébergement", "santé",      "école",     "ville",
                                     "migrants",    "المدينة",    "educación", "emploi",
                                     "réfugiés",    "governance", "droits",    "accueil"};
/* Types without a schema (schema.h): bodies of any shape reach the index as they are. */
static const char *types[3] = {"note", "event", "report"};
static const char *topics[3] = {"housing", "health", "rights"};
/* The topic that a vocab word names (index_topics.c), or -1: it finds that topic's records too. */
static const int names_topic[M_VOCAB] = {0, 1, -1, -1, -1, -1, -1, -1, -1, -1, 2, -1};

struct mrec {
	int exists, live, who, type, topic;
	uint64_t ts;
	uint32_t docno, words; /* the version's docno; a bit per vocab word */
	char id[8];
};

struct model {
	struct mrec r[M_RECORDS];
	uint32_t next_docno;
};

static void model_put(struct fixture *f, struct model *m, int i, int retract)
{
	struct mrec *r = &m->r[i];
	char json[512] = "{\"text\": \"";
	uint32_t words = 0;

	if (!r->exists) {
		r->exists = 1;
		r->who = i % 3;
		r->type = (i / 3) % 3;
		snprintf(r->id, sizeof(r->id), "m%d", i);
	}
	if (!retract)
		r->docno = ++m->next_docno; /* each live version has its own */
	r->ts = (uint64_t)(rand() % 40);    /* ties on purpose */
	r->topic = rand() % 3;
	r->live = !retract;
	for (int w = 0, n = 1 + rand() % 4; w < n; w++) {
		int v = rand() % M_VOCAB;

		words |= 1u << v;
		strcat(json, vocab[v]);
		strcat(json, " ");
	}
	r->words = retract ? 0 : words;
	snprintf(json + strlen(json), sizeof(json) - strlen(json), "\", \"topics\": [\"%s\"]}",
	         topics[r->topic]);
	put(f, r->who, types[r->type], r->id, r->ts, retract ? NULL : json);
}

static int model_cmp(const void *a, const void *b)
{
	const struct mrec *x = *(const struct mrec *const *)a, *y = *(const struct mrec *const *)b;

	if (x->ts != y->ts)
		return x->ts > y->ts ? -1 : 1;
	return x->docno < y->docno ? -1 : 1;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int id_cmp(const void *a, const void *b)
{
	const struct mrec *x = *(const struct mrec *const *)a, *y = *(const struct mrec *const *)b;

	return strcmp(x->id, y->id);
}

/* The words of a list of ids, sorted, so that a ranked answer compares as a set. */
static char *ids_sorted(const char *ids, char *out, size_t cap)
{
	char copy[512], *w[M_RECORDS], *save = NULL;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", ids);
	for (char *t = strtok_r(copy, " ", &save); t && n < M_RECORDS;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	qsort(w, n, sizeof(w[0]), str_cmp);
	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", w[i]);
	return out;
}

static void model_query(struct model *m, uint32_t words, int type, int who, int topic, size_t limit,
                        char *out, size_t cap)
{
	struct mrec *hit[M_RECORDS];
	size_t n = 0;

	for (int i = 0; i < M_RECORDS; i++) {
		struct mrec *r = &m->r[i];

		uint32_t has = r->words;

		for (int v = 0; v < M_VOCAB; v++)
			if (names_topic[v] >= 0 && names_topic[v] == r->topic)
				has |= 1u << v;
		if (r->exists && r->live && (has & words) == words &&
		    (type < 0 || r->type == type) && (who < 0 || r->who == who) &&
		    (topic < 0 || r->topic == topic))
			hit[n++] = r;
	}
	qsort(hit, n, sizeof(hit[0]), words ? id_cmp : model_cmp);
	out[0] = 0;
	for (size_t i = 0; i < n && (limit == 0 || i < limit); i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", hit[i]->id);
}

/*
 * Puts and retractions at random, then queries checked against the model.
 * batched: puts go to the store in batches of 1 to 40, so one transaction
 * indexes several versions, some of them replaced in that very batch.
 */
static void model_run(struct fixture *f, int batched)
{
	static struct model m;
	char want[512], why[256];

	srand(7);
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 400; step++) {
		if (batched && f->npend == 0)
			f->batch = 1 + (size_t)(rand() % 40);
		model_put(f, &m, rand() % M_RECORDS, rand() % 8 == 0);
	}
	if (f->npend)
		put_flush(f);
	assert_int_equal(store_check(f->st, f->network, why, sizeof(why)), 0);
	for (int qn = 0; qn < 500; qn++) {
		char text[256] = "";
		uint32_t words = 0;
		int type = rand() % 2 ? rand() % 3 : -1, who = rand() % 2 ? rand() % 3 : -1;
		int topic = rand() % 3 == 0 ? rand() % 3 : -1;
		size_t limit = rand() % 2 ? 0 : 1 + rand() % 5;

		for (int w = 0, n = rand() % 4; w < n; w++) {
			int v = rand() % M_VOCAB;

			words |= 1u << v;
			strcat(text, vocab[v]);
			strcat(text, " ");
		}
		const char *got;
		char sorted[512];

		/* A listing is newest first; a search is ranked: its matches compare as a set. */
		model_query(&m, words, type, who, topic, words ? 0 : limit, want, sizeof(want));
		got = find(f, text, type >= 0 ? types[type] : NULL, who,
		           topic >= 0 ? topics[topic] : NULL, words ? 0 : limit);
		assert_string_equal(words ? ids_sorted(got, sorted, sizeof(sorted)) : got, want);
	}
}

/* ---- a merge stopped between its pieces ---- */

#define MS_SEGS  16 /* segments of one tier: a merge is due */
#define MS_DOCS  40 /* versions per segment */
#define MS_WORDS 5

static const char *ms_words[MS_WORDS] = {"olive", "harbour", "lantern", "saffron", "mosaic"};

/* Whether version d (docno d + 1) holds word w, and whether it was killed. */
static int ms_has(int d, int w)
{
	return d % (w + 2) == 0 || w == 0;
}

static int ms_killed(int d)
{
	return d % 5 == 3;
}

static MDB_env *ms_env(const char *dir)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64u << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOSUBDIR, 0600), 0);
	return env;
}

/* Opens the index in env, which drops a stopped merge's garbage, and commits that. */
static struct index *ms_open(MDB_env *env)
{
	struct index *ix;
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_non_null(ix = index_open(txn));
	assert_int_equal(mdb_txn_commit(txn), 0);
	index_set_piece(ix, 1);
	return ix;
}

/* MS_SEGS segments of MS_DOCS versions each, one per transaction; a version in five killed. */
static void ms_fill(MDB_env *env, struct index *ix)
{
	static const uint8_t author[32] = {7};

	for (int s = 0; s < MS_SEGS; s++) {
		MDB_txn *txn;

		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		for (int i = 0; i < MS_DOCS; i++) {
			int d = s * MS_DOCS + i;
			char text[128] = "";
			msgpack_sbuffer sb;
			msgpack_packer pk;

			/* A word of its own too, so the segments hold many terms and blocks. */
			snprintf(text, sizeof(text), "zq%c%c%c ", 'a' + d % 26, 'a' + d / 26 % 26,
			         'a' + d / 676);
			for (int w = 0; w < MS_WORDS; w++)
				if (ms_has(d, w))
					snprintf(text + strlen(text), sizeof(text) - strlen(text),
					         "%s ", ms_words[w]);
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			msgpack_pack_map(&pk, 1);
			msgpack_pack_str_with_body(&pk, "text", 4);
			msgpack_pack_str_with_body(&pk, text, strlen(text));
			struct index_doc doc = {
			    (uint32_t)d + 1, 1000 + (uint64_t)d,       "practice",
			    author,          (const uint8_t *)sb.data, sb.size};

			assert_int_equal(index_add(ix, &doc), 0);
			msgpack_sbuffer_destroy(&sb);
		}
		/* Versions of earlier segments stop being current: the merge drops them. */
		for (int d = 0; s > 0 && d < s * MS_DOCS; d++)
			if (ms_killed(d) && d / MS_DOCS == s - 1)
				assert_int_equal(index_kill(ix, txn, (uint32_t)d + 1), 0);
		assert_int_equal(index_flush(ix, txn), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
}

static int ms_hit(uint32_t docno, void *arg)
{
	(void)docno;
	(void)arg;
	return 0;
}

/* No block is of a segment the catalog does not name. */
static void ms_verify_blocks(MDB_env *env)
{
	MDB_txn *txn;
	MDB_dbi blocks, segdb;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "blocks", 0, &blocks), 0);
	assert_int_equal(mdb_dbi_open(txn, "segs", 0, &segdb), 0);
	assert_int_equal(mdb_cursor_open(txn, blocks, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val sk = {4, k.mv_data}, sv;

		assert_int_equal(mdb_get(txn, segdb, &sk, &sv), 0); /* no garbage */
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
}

/*
 * The index as it must be: it checks, holds the postings of every live
 * version, finds each word in the versions that hold it, and has no block of
 * a segment its catalog does not name. *segs receives how many segments.
 */
static void ms_verify(MDB_env *env, struct index *ix, size_t *segs)
{
	MDB_txn *txn;
	size_t live, postings, bytes, hits;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(index_check(ix, txn, &live), 0);
	assert_int_equal(index_stats(ix, txn, &postings, segs, &bytes), 0);
	for (int w = 0; w < MS_WORDS; w++) {
		struct index_query q = {.text = ms_words[w]};
		size_t want = 0;

		for (int d = 0; d < MS_SEGS * MS_DOCS; d++)
			want += ms_has(d, w) && !(ms_killed(d) && d / MS_DOCS < MS_SEGS - 1);
		assert_int_equal(index_search(ix, txn, &q, ms_hit, NULL, &hits), 0);
		assert_int_equal(hits, want);
	}
	mdb_txn_abort(txn);
	ms_verify_blocks(env);
}

/* Runs merge pieces, each committed, until the work is done or `stop` pieces ran: whether done. */
static int ms_steps(MDB_env *env, struct index *ix, int stop)
{
	int more = 1;

	for (int i = 0; more && i != stop; i++) {
		MDB_txn *txn;

		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(index_merge_step(ix, txn, &more), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	return !more;
}

/*
 * A merge of sixteen segments, a block a piece, stopped (the process
 * gone, as by kill -9) after each number of pieces in turn: the index that
 * opens again checks, searches find what they found before the merge, no
 * block is left that the catalog does not name, and the merge then runs to
 * its end, to one segment, with the same answers.
 */
static void test_merge_stopped(void **state)
{
	char *dir = tu_tmpdir("merge"), *base, *run;
	int stops = 0;
	size_t segs;

	(void)state;
	assert_non_null(dir);
	base = tu_path(dir, "base.mdb");
	run = tu_path(dir, "run.mdb");
	{
		MDB_env *env = ms_env(base);
		struct index *ix = ms_open(env);

		ms_fill(env, ix);
		ms_verify(env, ix, &segs);
		assert_int_equal(segs, MS_SEGS);
		index_free(ix);
		mdb_env_close(env);
	}
	for (int stop = 1;; stop++) {
		char lock[4096];
		size_t len;
		char *data = tu_read_file(base, &len);
		MDB_env *env;
		struct index *ix;
		int done;

		assert_non_null(data);
		assert_int_equal(tu_write_file(run, data, len), 0);
		free(data);
		snprintf(lock, sizeof(lock), "%s-lock", run);
		unlink(lock);
		env = ms_env(run);
		ix = ms_open(env);
		done = ms_steps(env, ix, stop);
		index_free(ix); /* stopped here: nothing more of this merge is written */
		mdb_env_close(env);
		env = ms_env(run);
		ix = ms_open(env);
		ms_verify(env, ix, &segs);
		assert_true(done || segs == MS_SEGS || segs == 1);
		assert_true(ms_steps(env, ix, -1));
		ms_verify(env, ix, &segs);
		assert_int_equal(segs, 1);
		index_free(ix);
		mdb_env_close(env);
		if (done)
			break;
		stops++;
	}
	assert_true(stops >= 6); /* the merge took many pieces: it was stopped in its middle */
	assert_int_equal(tu_rmtree(dir), 0);
	free(base);
	free(run);
	free(dir);
}

/* ---- merges against a plain reference ---- */

#define MR_VOCAB 22
#define MR_TERM  256

/* Words that share their first 8 or 16 bytes, or are each other's start, in three scripts. */
static const char *mr_words[MR_VOCAB] = {"internationalisation",
                                         "internationalisations",
                                         "internationalise",
                                         "internat",
                                         "internats",
                                         "intern",
                                         "olive",
                                         "oliveraie",
                                         "oliveraies",
                                         "harbour",
                                         "harbours",
                                         "lantern",
                                         "saffron",
                                         "mosaic",
                                         "hébergement",
                                         "hébergements",
                                         "سكن",
                                         "مسكن",
                                         "مساكن",
                                         "zz",
                                         "zzz",
                                         "abcdefgh"};

/* One term's posting, as a segment's block holds it: the term, then 11 bytes. */
struct mr_pair {
	uint8_t term[MR_TERM];
	size_t tlen;
	uint8_t post[11];
};

static int mr_pair_cmp(const void *a, const void *b)
{
	const struct mr_pair *x = a, *y = b;
	int c = memcmp(x->term, y->term, x->tlen < y->tlen ? x->tlen : y->tlen);

	if (c == 0 && x->tlen != y->tlen)
		c = x->tlen < y->tlen ? -1 : 1;
	return c ? c : memcmp(x->post, y->post, 10);
}

/* A varint of a block (index_post.c): 7 bits a byte, low first. */
static uint64_t mr_varint(const uint8_t **p)
{
	uint64_t v = 0;

	for (unsigned shift = 0;; shift += 7) {
		uint8_t b = *(*p)++;

		assert_true(shift < 64);
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

/*
 * The posting after (ts, docno), from its two varints: the first whole; then
 * for the same millisecond the docnos skipped, or else the docno's
 * difference, zigzagged.
 */
static void mr_next(uint64_t *ts, uint32_t *docno, uint64_t dt, uint64_t dv, int first)
{
	if (first) {
		*ts = dt;
		*docno = (uint32_t)dv;
	} else if (dt == 0) {
		*docno += (uint32_t)dv + 1;
	} else {
		*ts += dt;
		*docno += (uint32_t)((dv >> 1) ^ (0 - (dv & 1)));
	}
}

static int mr_dead(MDB_txn *txn, MDB_dbi dead, uint32_t docno)
{
	uint8_t dk[4] = {docno >> 24, docno >> 16 & 0xff, docno >> 8 & 0xff, docno & 0xff};
	MDB_val dkey = {4, dk}, dv;

	return mdb_get(txn, dead, &dkey, &dv) == 0;
}

static void mr_put(struct mr_pair **out, size_t *cap, size_t *n, const uint8_t *t, size_t tl,
                   uint64_t ts, uint32_t docno, uint8_t weight)
{
	uint8_t *p;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		assert_non_null(*out = realloc(*out, *cap * sizeof(**out)));
	}
	memcpy((*out)[*n].term, t, tl);
	(*out)[*n].tlen = tl;
	p = (*out)[*n].post;
	for (int i = 0; i < 6; i++)
		p[i] = (uint8_t)(ts >> (40 - 8 * i));
	p[6] = (uint8_t)(docno >> 24), p[7] = (uint8_t)(docno >> 16);
	p[8] = (uint8_t)(docno >> 8), p[9] = (uint8_t)docno, p[10] = weight;
	(*n)++;
}

/*
 * Every (term, posting) of the segments the catalog names, in the order
 * their blocks hold them, less those of dead docnos if `live`. *nsegs
 * receives how many segments; *ndead how many docnos are dead.
 */
static struct mr_pair *mr_read(MDB_env *env, int live, size_t *n, size_t *nsegs, size_t *ndead)
{
	struct mr_pair *out = NULL;
	size_t cap = 0;
	MDB_txn *txn;
	MDB_dbi blocks, segdb, dead;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat st;
	int rc, first;

	*n = 0;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "blocks", 0, &blocks), 0);
	assert_int_equal(mdb_dbi_open(txn, "segs", 0, &segdb), 0);
	assert_int_equal(mdb_dbi_open(txn, "dead", 0, &dead), 0);
	assert_int_equal(mdb_stat(txn, segdb, &st), 0);
	*nsegs = st.ms_entries;
	assert_int_equal(mdb_stat(txn, dead, &st), 0);
	*ndead = st.ms_entries;
	assert_int_equal(mdb_cursor_open(txn, blocks, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *b = v.mv_data;
		MDB_val sk = {4, k.mv_data}, sv;

		if (mdb_get(txn, segdb, &sk, &sv) != 0)
			continue; /* garbage of a merge */
		for (size_t pos = 0; pos < v.mv_size;) {
			size_t tl = b[pos];
			const uint8_t *t = b + pos + 1, *p = t + tl, *end;
			uint64_t np = mr_varint(&p), elen = mr_varint(&p), ts = 0;
			uint32_t docno = 0;

			assert_true(tl > 0 && tl <= MR_TERM && np > 0);
			assert_true((size_t)(p - b) + elen <= v.mv_size);
			for (end = p + elen, first = 1; np-- > 0; first = 0) {
				uint64_t dt = mr_varint(&p), dv = mr_varint(&p);

				mr_next(&ts, &docno, dt, dv, first);
				if (live && mr_dead(txn, dead, docno)) {
					p++;
					continue;
				}
				mr_put(&out, &cap, n, t, tl, ts, docno, *p++);
			}
			assert_true(p == end);
			pos = (size_t)(end - b);
		}
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return out;
}

/* The merge as it must come out: the live postings of every segment, sorted. */
static struct mr_pair *mr_reference(MDB_env *env, size_t *n)
{
	size_t nsegs, ndead;
	struct mr_pair *ref = mr_read(env, 1, n, &nsegs, &ndead);

	assert_true(nsegs > 1);
	qsort(ref, *n, sizeof(*ref), mr_pair_cmp);
	return ref;
}

/* The index is one segment that holds exactly ref, in its order, and no docno is left dead. */
static void mr_check(MDB_env *env, const struct mr_pair *ref, size_t nref)
{
	size_t n, nsegs, ndead;
	struct mr_pair *got = mr_read(env, 0, &n, &nsegs, &ndead);

	assert_int_equal(nsegs, 1);
	assert_int_equal(ndead, 0);
	assert_int_equal(n, nref);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].tlen, ref[i].tlen);
		assert_memory_equal(got[i].term, ref[i].term, ref[i].tlen);
		assert_memory_equal(got[i].post, ref[i].post, 11);
	}
	free(got);
}

/* Queues version docno with words of mr_words chosen at random. */
static void mr_add(struct index *ix, uint32_t docno, uint64_t ts)
{
	static const uint8_t authors[3][32] = {{7}, {7, [31] = 1}, {7, 0, 0, 0, 0, 0, 0, 0, 1}};
	char text[512] = "";
	msgpack_sbuffer sb;
	msgpack_packer pk;

	for (int w = 0, nw = 1 + rand() % 6; w < nw; w++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s ",
		         mr_words[rand() % MR_VOCAB]);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "text", 4);
	msgpack_pack_str_with_body(&pk, text, strlen(text));
	struct index_doc doc = {docno,
	                        ts,
	                        rand() % 2 ? "practice" : "pilot",
	                        authors[rand() % 3],
	                        (const uint8_t *)sb.data,
	                        sb.size};

	assert_int_equal(index_add(ix, &doc), 0);
	msgpack_sbuffer_destroy(&sb);
}

/* A version's timestamp in segment s: segments of four kinds take turns. */
static uint64_t mr_time(int s, int i)
{
	switch (s % 4) {
	case 0: /* newer than every segment before: its postings do not interleave */
		return 1000000 + (uint64_t)s * 1000 + (uint64_t)i;
	case 1: /* anywhere in a range that other segments share */
		return 500000 + (uint64_t)(rand() % 100000);
	case 2: /* tied with many others: the docno orders them */
		return 700000 + (uint64_t)(rand() % 3);
	default: /* older than every segment before */
		return 400000 - (uint64_t)s * 1000 - (uint64_t)i;
	}
}

/*
 * nseg segments, one per transaction, of 1 to 40 versions each; in each
 * transaction some versions of earlier segments are killed, and some of its
 * own (which never reach a segment). dead[] marks the docnos killed.
 */
static void mr_fill(MDB_env *env, struct index *ix, int nseg, uint32_t *docno, uint8_t *dead)
{
	for (int s = 0; s < nseg; s++) {
		uint32_t first = *docno;
		MDB_txn *txn;

		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		for (int i = 0, n = 1 + rand() % 40; i < n; i++)
			mr_add(ix, (*docno)++, mr_time(s, i));
		for (uint32_t d = 1; d < *docno; d++)
			if (!dead[d] && rand() % (d >= first ? 8 : 40) == 0) {
				dead[d] = 1;
				assert_int_equal(index_kill(ix, txn, d), 0);
			}
		assert_int_equal(index_flush(ix, txn), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
}

/*
 * Merges of a tier's sixteen segments, of more, and of everything, whose
 * postings interleave, tie, or follow one another, with dead
 * versions among them, a block a piece: the merge that the tiers call
 * for, then a merge of everything, each give one segment that holds exactly
 * the live postings of the segments it replaced, terms in byte order and
 * each term's postings in posting order, and forgets every dead docno.
 */
static void test_merge_reference(void **state)
{
	static uint8_t dead[4096];
	char *dir = tu_tmpdir("mergeref"), *path;
	uint32_t docno = 1;
	struct mr_pair *ref;
	MDB_env *env;
	struct index *ix;
	MDB_txn *txn;
	size_t nref;

	(void)state;
	assert_non_null(dir);
	path = tu_path(dir, "ix.mdb");
	env = ms_env(path);
	ix = ms_open(env);
	srand(21);
	memset(dead, 0, sizeof(dead));
	mr_fill(env, ix, 16, &docno, dead);
	ref = mr_reference(env, &nref);
	assert_true(ms_steps(env, ix, -1)); /* the sixteen of tier 0 */
	mr_check(env, ref, nref);
	free(ref);
	mr_fill(env, ix, 36, &docno, dead);
	ref = mr_reference(env, &nref);
	assert_true(ms_steps(env, ix, -1)); /* the 36 new ones */
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(index_merge_all(ix, txn), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_true(ms_steps(env, ix, -1));
	mr_check(env, ref, nref);
	free(ref);
	index_free(ix);
	mdb_env_close(env);
	assert_int_equal(tu_rmtree(dir), 0);
	free(path);
	free(dir);
}

/* ---- merges interleaved with writes ---- */

#define IL_ROUNDS 90

static int il_list_hit(uint32_t docno, void *arg)
{
	uint8_t *found = arg;

	found[docno]++;
	return 0;
}

/*
 * The index checks, a listing finds every version written (docno below
 * `next`) that is not dead once and no dead one, and no block is left
 * that the catalog does not name unless `garbage` allows it (a merge under
 * way writes its output unnamed).
 */
static void il_verify(MDB_env *env, struct index *ix, const uint8_t *dead, uint32_t next,
                      int garbage)
{
	static uint8_t found[4096];
	struct index_query all = {0};
	MDB_txn *txn;
	size_t live, hits, want = 0;

	memset(found, 0, sizeof(found));
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(index_check(ix, txn, &live), 0);
	assert_int_equal(index_search(ix, txn, &all, il_list_hit, found, &hits), 0);
	mdb_txn_abort(txn);
	for (uint32_t d = 1; d < next; d++) {
		assert_int_equal(found[d], !dead[d]);
		want += !dead[d];
	}
	assert_int_equal(hits, want);
	if (!garbage)
		ms_verify_blocks(env);
}

/* The docnos a search for each of mr_words finds, in env, as one string. */
static void il_answers(MDB_env *env, struct index *ix, char *out, size_t cap)
{
	MDB_txn *txn;
	size_t len = 0;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	for (int w = 0; w < MR_VOCAB; w++) {
		static uint8_t found[4096];
		struct index_query q = {.text = mr_words[w]};
		size_t hits;

		memset(found, 0, sizeof(found));
		assert_int_equal(index_search(ix, txn, &q, il_list_hit, found, &hits), 0);
		for (uint32_t d = 0; d < sizeof(found); d++)
			if (found[d])
				len += (size_t)snprintf(out + len, cap - len, "%u ", (unsigned)d);
		len += (size_t)snprintf(out + len, cap - len, "| ");
		assert_true(len < cap);
	}
	mdb_txn_abort(txn);
}

/* A copy of the file at path, as a process killed (kill -9) after its last commit leaves it. */
static void il_crash_copy(const char *path, const char *copy)
{
	char lock[4096];
	size_t len;
	char *data = tu_read_file(path, &len);

	assert_non_null(data);
	assert_int_equal(tu_write_file(copy, data, len), 0);
	free(data);
	snprintf(lock, sizeof(lock), "%s-lock", copy);
	unlink(lock);
}

/*
 * Merges a block a piece, one piece between two writes, each of which
 * flushes a segment and kills versions, some of them in the segments being
 * merged: the index checks after every write, lists exactly the versions
 * not killed, and ends, its merges done, holding the same live postings
 * and giving the same answers as an index written alike whose merges ran
 * to their end after each write. Stopped (the file copied, as kill -9
 * leaves it) while a merge is under way with segments flushed after it
 * began, the index opens, checks, lists the same, holds no garbage, and
 * finishes its merges.
 */
static void test_merge_interleaved(void **state)
{
	static uint8_t dead_a[4096], dead_b[4096];
	static char ans_a[1 << 16], ans_b[1 << 16];
	char *dir = tu_tmpdir("mergeil"), *pa, *pb, *pc;
	uint32_t docno_a = 1, docno_b = 1;
	struct mr_pair *got_a, *got_b;
	size_t na, nb, segs, ndead;
	int overtaken = 0, crashes = 0;
	MDB_env *ea, *eb;
	struct index *ia, *ib;

	(void)state;
	assert_non_null(dir);
	pa = tu_path(dir, "a.mdb");
	pb = tu_path(dir, "b.mdb");
	pc = tu_path(dir, "c.mdb");
	ea = ms_env(pa);
	eb = ms_env(pb);
	ia = ms_open(ea);
	ib = ms_open(eb);
	memset(dead_a, 0, sizeof(dead_a));
	memset(dead_b, 0, sizeof(dead_b));
	for (int round = 0, more = 0; round < IL_ROUNDS; round++) {
		overtaken += more; /* this write comes while merge work is left */
		srand(2100 + (unsigned)round);
		mr_fill(ea, ia, 1, &docno_a, dead_a);
		srand(2100 + (unsigned)round);
		mr_fill(eb, ib, 1, &docno_b, dead_b);
		assert_true(ms_steps(eb, ib, -1));
		il_verify(ea, ia, dead_a, docno_a, 1);
		if (round % 3 == 0) { /* a piece every third write: a merge spans many writes */
			MDB_txn *txn;

			assert_int_equal(mdb_txn_begin(ea, NULL, 0, &txn), 0);
			assert_int_equal(index_merge_step(ia, txn, &more), 0);
			assert_int_equal(mdb_txn_commit(txn), 0);
		}
		if (more && round % 3 == 0) { /* stopped here, a merge begun, writes after it */
			MDB_env *ec;
			struct index *ic;

			il_crash_copy(pa, pc);
			ec = ms_env(pc);
			ic = ms_open(ec);
			il_verify(ec, ic, dead_a, docno_a, 0);
			assert_true(ms_steps(ec, ic, -1));
			il_verify(ec, ic, dead_a, docno_a, 0);
			index_free(ic);
			mdb_env_close(ec);
			unlink(pc);
			crashes++;
		}
	}
	assert_true(overtaken >= IL_ROUNDS / 3); /* many writes came while merge work was left */
	assert_true(crashes >= 5);
	assert_true(ms_steps(ea, ia, -1));
	il_verify(ea, ia, dead_a, docno_a, 0);
	assert_int_equal(docno_a, docno_b);
	assert_memory_equal(dead_a, dead_b, sizeof(dead_a));
	got_a = mr_read(ea, 1, &na, &segs, &ndead);
	got_b = mr_read(eb, 1, &nb, &segs, &ndead);
	assert_int_equal(na, nb);
	qsort(got_a, na, sizeof(*got_a), mr_pair_cmp);
	qsort(got_b, nb, sizeof(*got_b), mr_pair_cmp);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(got_a[i].tlen, got_b[i].tlen);
		assert_memory_equal(got_a[i].term, got_b[i].term, got_a[i].tlen);
		assert_memory_equal(got_a[i].post, got_b[i].post, 11);
	}
	il_answers(ea, ia, ans_a, sizeof(ans_a));
	il_answers(eb, ib, ans_b, sizeof(ans_b));
	assert_string_equal(ans_a, ans_b);
	free(got_a);
	free(got_b);
	index_free(ia);
	index_free(ib);
	mdb_env_close(ea);
	mdb_env_close(eb);
	assert_int_equal(tu_rmtree(dir), 0);
	free(pa);
	free(pb);
	free(pc);
	free(dir);
}

/* ---- the queue's intern table, large then small ---- */

/* Queues version docno with the text "olive" and a word of its own, "zq" and 5 digits. */
static void it_add(struct index *ix, uint32_t docno)
{
	static const uint8_t author[32] = {7};
	char text[64];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	snprintf(text, sizeof(text), "olive zq%05u", (unsigned)docno);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "text", 4);
	msgpack_pack_str_with_body(&pk, text, strlen(text));
	struct index_doc doc = {docno,  1000 + docno, "practice", author, (const uint8_t *)sb.data,
	                        sb.size};

	assert_int_equal(index_add(ix, &doc), 0);
	msgpack_sbuffer_destroy(&sb);
}

static size_t it_hits(MDB_env *env, struct index *ix, const char *text)
{
	struct index_query q = {.text = text};
	MDB_txn *txn;
	size_t hits;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(index_search(ix, txn, &q, ms_hit, NULL, &hits), 0);
	mdb_txn_abort(txn);
	return hits;
}

/*
 * A transaction of 5,000 versions, each with a word of its own, grows the
 * queue's intern table; the small ones after it get a smaller table: every
 * word of each is found in the versions that hold it, once.
 */
static void test_intern_shrink(void **state)
{
	static const uint32_t sizes[] = {5000, 3, 40, 1, 2000};
	char *dir = tu_tmpdir("intern"), *path, word[16];
	uint32_t docno = 1;
	MDB_env *env;
	struct index *ix;

	(void)state;
	assert_non_null(dir);
	path = tu_path(dir, "ix.mdb");
	env = ms_env(path);
	ix = ms_open(env);
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		MDB_txn *txn;

		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		for (uint32_t i = 0; i < sizes[t]; i++)
			it_add(ix, docno++);
		assert_int_equal(index_flush(ix, txn), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	assert_int_equal(it_hits(env, ix, "olive"), docno - 1);
	for (uint32_t d = 1; d < docno; d += 97) {
		snprintf(word, sizeof(word), "zq%05u", (unsigned)d);
		assert_int_equal(it_hits(env, ix, word), 1);
	}
	index_free(ix);
	mdb_env_close(env);
	assert_int_equal(tu_rmtree(dir), 0);
	free(path);
	free(dir);
}

static void test_index_matches_model(void **state)
{
	model_run(*state, 0);
}

static void test_index_matches_model_batched(void **state)
{
	model_run(*state, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_search_languages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_topics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forms_per_language, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_topics_across_languages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fields_and_lang, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ranking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_matches_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_matches_model_batched, setup, teardown),
	    cmocka_unit_test(test_merge_stopped),
	    cmocka_unit_test(test_merge_reference),
	    cmocka_unit_test(test_merge_interleaved),
	    cmocka_unit_test(test_intern_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
