/*
 * test_schema.c: each record type's valid samples pass, and each way of
 * breaking one is refused with the reason a user reads.
 *
 * Bodies are written as JSON with single quotes (turned into double ones) and
 * encoded to canonical msgpack as `agora put` does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "entry.h"
#include "jsonmp.h"
#include "key.h"
#include "schema.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* JSON with ' for ", encoded to canonical msgpack; the caller frees *out. */
static void encode(const char *sq, uint8_t **out, size_t *len)
{
	char *js = strdup(sq), err[160];
	json_error_t jerr;
	json_t *v;

	assert_non_null(js);
	for (char *p = js; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(js, 0, &jerr);
	if (!v)
		fail_msg("bad test JSON: %s: %s", jerr.text, js);
	if (jsonmp_encode(v, out, len, err, sizeof(err)) != 0)
		fail_msg("encode: %s", err);
	json_decref(v);
	free(js);
}

/* 0 and "" when the record passes, or the code with its reason. */
static int check(const char *type, const char *id, const char *sq, char *why, size_t whylen)
{
	uint8_t *body;
	size_t len;
	int rc;

	encode(sq, &body, &len);
	rc = ag_schema_check(type, id, strlen(id), body, len, why, whylen);
	free(body);
	return rc;
}

struct sample {
	const char *type, *id, *body;
};

static const struct sample valid[] = {
    {"profile", "main",
     "{'city':'Sfax','country':{'fr':'Tunisie','ar':'تونس'},'region':'south-mediterranean',"
     "'population':{'value':330440,'year':2014,'source':'INS'},"
     "'migrant_population':{'value':12000,'year':2022},"
     "'summary':{'fr':'Ville portuaire.\\nDeux paragraphes.','en':'A port city.'},"
     "'sections':[{'topic':'housing','text':'Le logement...','sources':[{'title':'Enquête',"
     "'kind':'survey','year':2021,'url':'https://example.org/enquete'}]},"
     "{'topic':'health','text':{'ar':'الصحة'}}],"
     "'sources':[{'title':'Atlas','kind':'research'}]}"},
    {"profile", "main", "{'city':'Lyon','country':'France','region':'europe'}"},
    {"priority", "2024",
     "{'title':'Priorités 2024','summary':'...','year':2024,'status':'adopted',"
     "'areas':[{'title':'Accueil','topics':['housing','rights'],"
     "'stakeholders':['civil-society','city-administration'],'actions':['Ouvrir',"
     "{'fr':'Former','en':'Train'}],'status':'in-progress'}]}"},
    {"practice", "guichet-unique",
     "{'title':{'fr':'Guichet unique','en':'One-stop shop','ar-Latn':'Guichet'},"
     "'summary':'Un guichet pour tout.','description':'Long.','topics':['services','rights'],"
     "'stakeholders':['city-administration'],'year':2019,'results':'2000 personnes',"
     "'contact':'mairie@example.org','links':['http://example.org','https://a.b/c?d=e']}"},
    {"practice", "min", "{'title':'T','summary':'S','topics':['governance']}"},
    {"pilot", "p1",
     "{'title':'Pilote','priority':'2024','topic':'employment','status':'running',"
     "'start':'2024-02-29','end':'2025-01-31','expert_team':[{'name':'A. B.','role':'lead',"
     "'organisation':'Univ'}],'milestones':[{'date':'2024-03-01','text':'Début','done':true},"
     "{'date':'2024-09-01','text':{'en':'Review'},'done':false}],"
     "'capacity_building':['Atelier'],'outcomes':'...'}"},
    {"pilot", "p2",
     "{'title':'P','topic':'health','status':'planned','start':'2024-01-01',"
     "'end':'2024-01-01'}"},
    {"toolbox", "tb",
     "{'title':'Guide','topic':'urban-planning','summary':'S','steps':[{'title':'Un',"
     "'text':'Faire'},{'title':'Deux','text':'Refaire'}],'policy_options':['Option'],"
     "'tools':[{'name':'Carte','description':'Une carte','url':'https://example.org/map'}]}"},
    {"meeting", "m1",
     "{'title':'Réunion','date':'2024-05-14','place':'Tunis','participants':[{'city':'Sfax',"
     "'stakeholder':'academia','name':'X'},{'city':'Lyon'}],'agenda':['Accueil','Bilan'],"
     "'notes':'...','topics':['exchange','leadership']}"},
    {"comment", "c1",
     "{'on':{'author':'" KEY "','type':'practice','id':'guichet-unique'},"
     "'text':{'fr':'Merci','es':'Gracias','it':'Grazie'}}"},
    {"member", KEY, "{'key':'" KEY "','name':'Tunis','role':'partner'}"},
    {"member", "x", "{'key':'" KEY "','name':'Sfax','role':'associate'}"},
    /* A type with no schema is taken as it is. */
    {"note", "n", "{'anything':[1,2,{'x':null}]}"},
};

static void test_valid(void **state)
{
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int rc = check(valid[i].type, valid[i].id, valid[i].body, why, sizeof(why));

		if (rc != 0)
			fail_msg("%s/%s refused: %s", valid[i].type, valid[i].id, why);
	}
}

struct bad {
	const char *type, *id, *body, *why;
};

#define PRACTICE "'summary':'S','topics':['housing']"

static const struct bad invalid[] = {
    {"practice", "x", "{'summary':'S','topics':['housing']}", "missing field \"title\""},
    {"practice", "x", "{'title':'T','summary':'S','topics':['housing','hosing']}",
     "topics[1]: unknown topic \"hosing\" (did you mean \"housing\"?)"},
    {"practice", "x", "{'title':'T','summary':'S','topics':['zzz']}",
     "topics[0]: unknown topic \"zzz\" (`agora schema topics` lists them)"},
    {"practice", "x", "{'title':'T','summary':'S','topics':['housing','health','housing']}",
     "topics[2]: duplicate topic \"housing\""},
    {"practice", "x", "{'title':'T','summary':'S','topics':[]}", "topics: empty, at least 1 item"},
    {"practice", "x", "{'title':'T','summary':'S','topics':'housing'}",
     "topics: expected an array of keys, got a string"},
    {"practice", "x", "{'title':'T'," PRACTICE ",'year':'2020'}",
     "year: expected an integer, got a string"},
    {"practice", "x", "{'title':'T'," PRACTICE ",'year':1850}",
     "year: 1850 is out of range 1900..2100"},
    {"practice", "x", "{'title':'T'," PRACTICE ",'year':2020.0}",
     "year: expected an integer, got a float"},
    {"practice", "x", "{'title':42," PRACTICE "}",
     "title: expected text (a string, or a map of language code to string), got an integer"},
    {"practice", "x", "{'title':null," PRACTICE "}",
     "title: expected text (a string, or a map of language code to string), got nil"},
    {"practice", "x", "{'title':''," PRACTICE "}", "title: empty"},
    {"practice", "x", "{'title':{}," PRACTICE "}", "title: empty map: give at least one language"},
    {"practice", "x", "{'title':{'fr':''}," PRACTICE "}", "title.fr: empty"},
    {"practice", "x", "{'title':'T','summary':{'xx-':'S'},'topics':['housing']}",
     "summary.xx-: bad language code \"xx-\" (want fr, ar, en, fr-TN, ...)"},
    {"practice", "x", "{'title':'T','summary':{'FR':'S'},'topics':['housing']}",
     "summary.FR: bad language code \"FR\" (want fr, ar, en, fr-TN, ...)"},
    {"practice", "x", "{'title':'T','summary':{'fr-tn':'S'},'topics':['housing']}",
     "summary.fr-tn: bad language code \"fr-tn\" (want fr, ar, en, fr-TN, ...)"},
    {"practice", "x", "{'title':{'fr':'a\\u001b[31m'}," PRACTICE "}",
     "title.fr: control character at byte 1"},
    {"practice", "x", "{'title':'a\\nb'," PRACTICE "}", "title: control character at byte 1"},
    {"practice", "x", "{'titel':'T'," PRACTICE "}",
     "unknown field \"titel\" (did you mean \"title\"?)"},
    {"practice", "x", "{'colour':'red','title':'T'," PRACTICE "}", "unknown field \"colour\""},
    {"practice", "x", "{'title':'T'," PRACTICE ",'stakeholders':['academia','acadmia']}",
     "stakeholders[1]: unknown stakeholder \"acadmia\" (did you mean \"academia\"?)"},
    {"practice", "x", "{'title':'T'," PRACTICE ",'links':['ftp://x.org']}",
     "links[0]: not an http:// or https:// URL: \"ftp://x.org\""},
    {"practice", "x", "{'title':'T'," PRACTICE ",'links':['https://x.org/a b']}",
     "links[0]: space or control character at byte 15 of the URL"},
    {"practice", "x", "{'title':'T'," PRACTICE ",'links':['https://']}",
     "links[0]: not an http:// or https:// URL: \"https://\""},
    {"practice", "x", "{'title':'T'," PRACTICE ",'contact':''}", "contact: empty"},
    {"practice", "x", "[1]", "body: not a map"},
    {"profile", "lyon", "{'city':'Lyon','country':'France','region':'europe'}",
     "id must be \"main\" (always \"main\": one profile per city), not \"lyon\""},
    {"profile", "main", "{'city':'Lyon','country':'France','region':'asia'}",
     "region: unknown value \"asia\" (one of europe, south-mediterranean)"},
    {"profile", "main",
     "{'city':'Lyon','country':'France','region':'europe','population':{'value':-1,"
     "'year':2020}}",
     "population.value: -1, at least 0"},
    {"profile", "main",
     "{'city':'Lyon','country':'France','region':'europe','population':{'value':1}}",
     "population: missing field \"year\""},
    {"profile", "main",
     "{'city':'Lyon','country':'France','region':'europe','sections':[{'topic':'health',"
     "'text':'t','sources':[{'title':'S','kind':'blog'}]}]}",
     "sections[0].sources[0].kind: unknown value \"blog\" (one of research, survey, analysis, "
     "statistics, other)"},
    {"priority", "p", "{'title':'T','areas':[]}", "areas: empty, at least 1 item"},
    {"priority", "p", "{'title':'T','areas':[{'title':'A','topics':['health'],'status':'x'}]}",
     "areas[0].status: unknown value \"x\" (one of planned, in-progress, done)"},
    {"priority", "p", "{'title':'T','areas':[{'title':'A','topics':['helth']}]}",
     "areas[0].topics[0]: unknown topic \"helth\" (did you mean \"health\"?)"},
    {"pilot", "p", "{'title':'P','topic':'health','status':'running','start':'2024-02-30'}",
     "start: bad date \"2024-02-30\" (want YYYY-MM-DD, a real day, 1900..2100)"},
    {"pilot", "p", "{'title':'P','topic':'health','status':'running','start':'2023-02-29'}",
     "start: bad date \"2023-02-29\" (want YYYY-MM-DD, a real day, 1900..2100)"},
    {"pilot", "p", "{'title':'P','topic':'health','status':'running','start':'2024-1-01'}",
     "start: bad date \"2024-1-01\" (want YYYY-MM-DD, a real day, 1900..2100)"},
    {"pilot", "p",
     "{'title':'P','topic':'health','status':'running','start':'2024-03-01',"
     "'end':'2024-02-01'}",
     "end: 2024-02-01 is before start 2024-03-01"},
    {"pilot", "p", "{'title':'P','topic':['health'],'status':'done'}",
     "topic: expected a string, got an array"},
    {"pilot", "p",
     "{'title':'P','topic':'health','status':'done','milestones':[{'date':'2024-01-01',"
     "'text':'t','done':'yes'}]}",
     "milestones[0].done: expected true or false, got a string"},
    {"pilot", "p", "{'title':'P','topic':'health','status':'done','priority':''}",
     "priority: not a record id (1..128 bytes, no control characters)"},
    {"toolbox", "t", "{'title':'T','topic':'housing','steps':[{'title':'S'}]}",
     "steps[0]: missing field \"text\""},
    {"meeting", "m",
     "{'title':'M','date':'2024-05-14','participants':[{'city':'X',"
     "'stakeholder':'ngo'}]}",
     "participants[0].stakeholder: unknown stakeholder \"ngo\" (`agora schema stakeholders` "
     "lists them)"},
    {"comment", "c", "{'on':{'author':'nope','type':'practice','id':'x'},'text':'t'}",
     "on.author: not a public key (44 characters of base64)"},
    {"comment", "c", "{'on':{'author':'" KEY "','type':'Practice','id':'x'},'text':'t'}",
     "on.type: not a record type (1..32 of a-z and -)"},
    {"member", "m", "{'key':'" KEY "','name':'T','role':'friend'}",
     "role: unknown value \"friend\" (one of partner, associate)"},
    {"member", "m", "{'key':'" KEY "','name':'','role':'partner'}", "name: empty"},
    {"member", "m", "{'key':'" KEY "','role':'partner'}", "missing field \"name\""},
};

static void test_invalid(void **state)
{
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct bad *b = &invalid[i];
		int rc = check(b->type, b->id, b->body, why, sizeof(why));

		if (rc == 0)
			fail_msg("%s/%s accepted: %s", b->type, b->id, b->body);
		if (strcmp(why, b->why) != 0)
			fail_msg("%s/%s:\n want %s\n got  %s", b->type, b->id, b->why, why);
	}
}

/* A body of n copies of c in one language of the title. */
static void test_lengths(void **state)
{
	char body[1024], why[256];

	(void)state;
	snprintf(body, sizeof(body), "{'title':{'fr':'%0412d'}," PRACTICE "}", 0);
	assert_int_equal(check("practice", "x", body, why, sizeof(why)), AG_ESCHEMA);
	assert_string_equal(why, "title.fr: 412 bytes, at most 300");
	snprintf(body, sizeof(body), "{'title':{'fr':'%0300d'}," PRACTICE "}", 0);
	assert_int_equal(check("practice", "x", body, why, sizeof(why)), 0);
	snprintf(body, sizeof(body), "{'key':'" KEY "','name':'%065d','role':'partner'}", 0);
	assert_int_equal(check("member", "m", body, why, sizeof(why)), AG_ESCHEMA);
	assert_string_equal(why, "name: 65 bytes, at most 64");
}

/*
 * A control character is found wherever it sits in a long string (the checker
 * skips printable text 8 bytes at a time), also when no reason is asked for,
 * as the store asks; printable ASCII, tab and newline in long text, and
 * accents pass.
 */
static void test_controls_anywhere(void **state)
{
	static const char *const ctl[] = {"\\u0001", "\\u001f", "\\u007f", "\\u0085"};
	char body[512], want[64], why[256];

	(void)state;
	for (size_t c = 0; c < sizeof(ctl) / sizeof(ctl[0]); c++)
		for (int at = 0; at < 20; at++) {
			snprintf(body, sizeof(body), "{'title':'%.*s%s%s'," PRACTICE "}", at,
			         "abcdefghijklmnopqrstuvwxyz", ctl[c], "0123456789abcdef");
			assert_int_equal(check("practice", "x", body, why, sizeof(why)),
			                 AG_ESCHEMA);
			snprintf(want, sizeof(want), "title: control character at byte %d", at);
			assert_string_equal(why, want);
			assert_int_equal(check("practice", "x", body, NULL, 0), AG_ESCHEMA);
		}
	assert_int_equal(
	    check("practice", "x",
	          "{'title':' !\\\"#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	          "[]^_`abcdefghijklmnopqrstuvwxyz{|}~'," PRACTICE "}",
	          why, sizeof(why)),
	    0);
	assert_int_equal(check("practice", "x",
	                       "{'title':'T','summary':'one line\\ntwo\\tlines, déjà vu, "
	                       "\\r\\nthree lines','topics':['housing']}",
	                       NULL, 0),
	                 0);
}

/* Retractions always pass; bodies that are not canonical are a codec error. */
static void test_retraction_and_codec(void **state)
{
	static const uint8_t noncanon[] = {0x81, 0xd9, 0x01, 'a', 0x01}; /* str 8 for 1 byte */
	char why[256];

	(void)state;
	assert_int_equal(ag_schema_check("profile", "lyon", 4, NULL, 0, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(
	    ag_schema_check("practice", "x", 1, noncanon, sizeof(noncanon), why, sizeof(why)),
	    AG_ENONCANON);
	assert_non_null(strstr(why, "body: "));
	/* A type without a schema is not even parsed. */
	assert_int_equal(ag_schema_check("note", "x", 1, noncanon, sizeof(noncanon), why, 0), 0);
}

/* Reasons stay one short line whatever the input holds. */
static void test_reason_is_one_line(void **state)
{
	char body[2048], why[256];

	(void)state;
	snprintf(body, sizeof(body),
	         "{'title':'T'," PRACTICE ",'links':['gopher://%0600d\\nnext']}", 0);
	assert_int_equal(check("practice", "x", body, why, sizeof(why)), AG_ESCHEMA);
	assert_null(strchr(why, '\n'));
	assert_true(strlen(why) < 120);
	/* A tiny buffer is cut, not overrun. */
	assert_int_equal(check("practice", "x", "{'titel':'T'}", why, 8), AG_ESCHEMA);
	assert_int_equal(strlen(why), 7);
}

static void test_vocab(void **state)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	(void)state;
	assert_int_equal(n, 10);
	assert_string_equal(all[0].type, "profile");
	assert_string_equal(all[7].type, "member");
	assert_string_equal(all[8].type, "purge");
	assert_string_equal(all[9].type, "identity");
	assert_ptr_equal(ag_schema_find("pilot"), &all[3]);
	assert_null(ag_schema_find("pilots"));
	assert_string_equal(ag_topic_find("urban-planning", 14)->fr, "planification urbaine");
	assert_null(ag_topic_find("urban", 5));
	assert_string_equal(ag_stakeholder_find("academia", 8)->key, "academia");
	assert_string_equal(ag_topics[0].key, "housing");
	assert_string_equal(ag_topics[AG_TOPIC_COUNT - 1].key, "services");
	for (size_t i = 0; i < n; i++)
		for (const struct ag_field *f = all[i].fields; f->name; f++)
			assert_string_not_equal(ag_field_kind_name(f->kind), "?");
}

/* Each vocabulary entry has its five labels; the Arabic one is in Arabic script. */
static void check_labels(const struct ag_vocab *v)
{
	char label[300];

	assert_true(*v->fr && *v->en && *v->ar && *v->es && *v->it);
	/* U+0600..U+06FF: a lead byte of 0xd8 to 0xdb in UTF-8. */
	assert_true((uint8_t)v->ar[0] >= 0xd8 && (uint8_t)v->ar[0] <= 0xdb);
	snprintf(label, sizeof(label), "%s / %s / %s", v->fr, v->en, v->ar);
	assert_string_equal(v->label, label);
}

static void test_vocab_labels(void **state)
{
	const struct ag_vocab *housing = ag_topic_find("housing", 7);

	(void)state;
	for (size_t i = 0; i < AG_TOPIC_COUNT; i++)
		check_labels(&ag_topics[i]);
	for (size_t i = 0; i < AG_STAKEHOLDER_COUNT; i++)
		check_labels(&ag_stakeholders[i]);
	assert_string_equal(ag_vocab_label(housing, "ar"), "السكن");
	assert_string_equal(ag_vocab_label(housing, "es"), "vivienda");
	assert_string_equal(ag_vocab_label(housing, "it"), "alloggio");
	assert_string_equal(ag_vocab_label(housing, "fr"), "hébergement");
	assert_string_equal(ag_vocab_label(housing, "de"), "housing");
	assert_string_equal(ag_vocab_label(ag_stakeholder_find("civil-society", 13), "ar"),
	                    "المجتمع المدني");
}

/* One value against one field of practice's schema, as a reader of a newer release's body asks. */
static int value_check(const char *field, const char *sq)
{
	const struct ag_field *f = ag_schema_find("practice")->fields;
	char *js = strdup(sq), err[160];
	uint8_t *mp;
	size_t len;
	json_t *v;
	int rc;

	for (char *p = js; *p; p++)
		if (*p == '\'')
			*p = '"';
	assert_non_null(v = json_loads(js, JSON_DECODE_ANY, NULL));
	assert_int_equal(jsonmp_encode(v, &mp, &len, err, sizeof(err)), 0);
	while (f->name && strcmp(f->name, field) != 0)
		f++;
	assert_non_null(f->name);
	rc = ag_schema_value_check(f, mp, len);
	free(mp);
	json_decref(v);
	free(js);
	return rc;
}

/*
 * What this release knows of a value: its vocabulary and its kind. A newer
 * release's topic, or a field given another kind, is not known (shown raw).
 */
static void test_value_known(void **state)
{
	(void)state;
	assert_int_equal(value_check("topics", "['housing']"), 0);
	assert_int_equal(value_check("topics", "['housing', 'climate']"), AG_ESCHEMA);
	assert_int_not_equal(value_check("topics", "'housing'"), 0);
	assert_int_equal(value_check("year", "2024"), 0);
	assert_int_not_equal(value_check("year", "'soon'"), 0);
	assert_int_equal(value_check("title", "'T'"), 0);
	assert_int_equal(value_check("title", "{'fr': 'T', 'ar': 'ت'}"), 0);
	assert_int_not_equal(value_check("title", "5"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_controls_anywhere),
	    cmocka_unit_test(test_retraction_and_codec),
	    cmocka_unit_test(test_reason_is_one_line),
	    cmocka_unit_test(test_vocab),
	    cmocka_unit_test(test_vocab_labels),
	    cmocka_unit_test(test_value_known),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
