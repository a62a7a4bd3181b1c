/*
 * cmd_schema.c: `agora schema [TYPE | topics | stakeholders]`, the record
 * schemas as users read them. Everything printed comes from proto/schema.c's
 * tables, the very ones that agora put and agorad enforce.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "schema.h"

/* ---- words ---- */

/* What a field holds and its limits, in a phrase: "text, at most 300 bytes per language". */
static void describe(char *buf, size_t len, const struct ag_field *f)
{
	char el[160];
	size_t o;

	switch (f->kind) {
	case AG_F_TEXT:
		snprintf(buf, len, "text, at most %" PRId64 " bytes per language", f->max);
		return;
	case AG_F_STR:
		snprintf(buf, len, "string of %" PRId64 " to %" PRId64 " bytes", f->min, f->max);
		return;
	case AG_F_INT:
		if (f->max == INT64_MAX)
			snprintf(buf, len, "integer, at least %" PRId64, f->min);
		else
			snprintf(buf, len, "integer, %" PRId64 " to %" PRId64, f->min, f->max);
		return;
	case AG_F_BOOL:
		snprintf(buf, len, "true or false");
		return;
	case AG_F_DATE:
		snprintf(buf, len, "date, YYYY-MM-DD (a real day, 1900 to 2100)");
		return;
	case AG_F_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (size_t i = 0; f->values[i] && o < len; i++)
			o +=
			    (size_t)snprintf(buf + o, len - o, "%s %s", i ? "," : "", f->values[i]);
		return;
	case AG_F_TOPIC:
	case AG_F_STAKEHOLDER:
		snprintf(buf, len, "a %s key (agora schema %ss)", ag_field_kind_name(f->kind),
		         ag_field_kind_name(f->kind));
		return;
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		snprintf(buf, len,
		         "list of %" PRId64 " to %" PRId64 " distinct %s keys (agora schema %s)",
		         f->min, f->max, f->kind == AG_F_TOPICS ? "topic" : "stakeholder",
		         ag_field_kind_name(f->kind));
		return;
	case AG_F_KEY:
		snprintf(buf, len, "public key, 44 characters of base64");
		return;
	case AG_F_URL:
		snprintf(buf, len, "http:// or https:// URL, at most %" PRId64 " bytes", f->max);
		return;
	case AG_F_OBJECT:
		snprintf(buf, len, "object with these fields:");
		return;
	case AG_F_LIST:
		if (f->sub[0].kind == AG_F_OBJECT) {
			snprintf(buf, len,
			         "list of %" PRId64 " to %" PRId64 " objects with these fields:",
			         f->min, f->max);
			return;
		}
		describe(el, sizeof(el), &f->sub[0]);
		snprintf(buf, len, "list of %" PRId64 " to %" PRId64 " items, each %s", f->min,
		         f->max, el);
		return;
	case AG_F_RECTYPE:
		snprintf(buf, len, "record type, 1 to 32 of a-z and -");
		return;
	case AG_F_RECID:
		snprintf(buf, len,
		         "record id, %" PRId64 " to %" PRId64 " bytes without control characters",
		         f->min, f->max);
		return;
	}
	snprintf(buf, len, "%s", ag_field_kind_name(f->kind));
}

/* The fields an object or a list of objects holds, or NULL. */
static const struct ag_field *subfields(const struct ag_field *f)
{
	if (f->kind == AG_F_OBJECT)
		return f->sub;
	if (f->kind == AG_F_LIST && f->sub[0].kind == AG_F_OBJECT)
		return f->sub[0].sub;
	return NULL;
}

/* ---- text ---- */

static void print_fields(const struct ag_field *fields, int depth)
{
	for (const struct ag_field *f = fields; f->name; f++) {
		char name[64], what[400];
		int pad = 24 - 2 * depth;

		snprintf(name, sizeof(name), "%s%s", f->name, f->required ? "*" : "");
		describe(what, sizeof(what), f);
		out_printf("%*s%-*s %s\n", 2 * depth, "", pad < 1 ? 1 : pad, name, what);
		out_printf("%*s%s\n", 2 * depth + (pad < 1 ? 1 : pad) + 1, "", f->help);
		if (subfields(f))
			print_fields(subfields(f), depth + 1);
	}
}

static void print_schema(const struct ag_schema *s)
{
	out_printf("%s: %s\n", s->type, s->help);
	out_printf("id: %s\n", s->id_rule ? s->id_rule
	                                  : "yours to choose: 1 to 128 bytes without control "
	                                    "characters");
	out_printf("fields (* required; no others allowed; text is a string, or a map of language\n"
	           "code to string, {\"fr\": \"...\", \"ar\": \"...\", \"fr-TN\": \"...\"}):\n");
	print_fields(s->fields, 1);
}

/* One row of labels; each column but the last is padded by what a terminal shows, not by bytes. */
static void vocab_row(const char *key, const char *const *labels, size_t n)
{
	out_printf("  %-28s", key);
	for (size_t i = 0; i < n; i++) {
		size_t w = out_width(labels[i], strlen(labels[i]));

		out_printf(" %s%*s", labels[i], i + 1 < n ? (int)(w < 30 ? 30 - w : 0) : 0, "");
	}
	out_printf("\n");
}

/*
 * Two tables, French and English, then Spanish, Italian and Arabic: five
 * columns would not fit a terminal. Arabic comes last in its line, so that a
 * terminal that lays out right-to-left text moves no other column.
 */
static void print_vocab(const struct ag_vocab *v, size_t n, const char *what)
{
	static const char *const head1[] = {"FRANÇAIS", "ENGLISH"};
	static const char *const head2[] = {"ESPAÑOL", "ITALIANO", "العربية"};

	out_printf("%s (a closed vocabulary):\n", what);
	vocab_row("KEY", head1, 2);
	for (size_t i = 0; i < n; i++)
		vocab_row(v[i].key, (const char *const[]){v[i].fr, v[i].en}, 2);
	out_printf("\n");
	vocab_row("KEY", head2, 3);
	for (size_t i = 0; i < n; i++)
		vocab_row(v[i].key, (const char *const[]){v[i].es, v[i].it, v[i].ar}, 3);
}

static void print_all(void)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	out_printf("Record types (agora schema TYPE shows a type's fields):\n");
	for (size_t i = 0; i < n; i++)
		out_printf("  %-10s %s\n", all[i].type, all[i].help);
	out_printf("\nVocabularies: agora schema topics, agora schema stakeholders.\n"
	           "Other types are accepted as they are, for newer software's sake.\n");
}

/* ---- JSON ---- */

static json_t *field_json(const struct ag_field *f);

static json_t *fields_json(const struct ag_field *fields)
{
	json_t *a = json_array();

	for (const struct ag_field *f = fields; f->name; f++)
		json_array_append_new(a, field_json(f));
	return a;
}

static json_t *field_json(const struct ag_field *f)
{
	char what[400];
	json_t *o = json_object(), *vals;

	describe(what, sizeof(what), f);
	if (f->name)
		json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "kind", json_string(ag_field_kind_name(f->kind)));
	if (f->name)
		json_object_set_new(o, "required", json_boolean(f->required));
	if (f->kind != AG_F_BOOL && f->kind != AG_F_DATE && f->kind != AG_F_ENUM &&
	    f->kind != AG_F_TOPIC && f->kind != AG_F_STAKEHOLDER && f->kind != AG_F_KEY &&
	    f->kind != AG_F_OBJECT) {
		json_object_set_new(o, "min", json_integer(f->min));
		if (f->max != INT64_MAX)
			json_object_set_new(o, "max", json_integer(f->max));
	}
	if (f->kind == AG_F_ENUM) {
		vals = json_array();
		for (size_t i = 0; f->values[i]; i++)
			json_array_append_new(vals, json_string(f->values[i]));
		json_object_set_new(o, "values", vals);
	}
	if (f->kind == AG_F_OBJECT)
		json_object_set_new(o, "fields", fields_json(f->sub));
	if (f->kind == AG_F_LIST)
		json_object_set_new(o, "item", field_json(&f->sub[0]));
	json_object_set_new(o, "description", json_string(what));
	json_object_set_new(o, "help", json_string(f->help));
	return o;
}

static json_t *schema_json(const struct ag_schema *s)
{
	json_t *o = json_pack("{s:s, s:s}", "type", s->type, "help", s->help);

	json_object_set_new(o, "id_rule", s->id_rule ? json_string(s->id_rule) : json_null());
	json_object_set_new(o, "fixed_id", s->fixed_id ? json_string(s->fixed_id) : json_null());
	json_object_set_new(o, "fields", fields_json(s->fields));
	return o;
}

static json_t *vocab_json(const struct ag_vocab *v, size_t n, const char *what)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "key",
		                                   v[i].key, "fr", v[i].fr, "en", v[i].en, "ar",
		                                   v[i].ar, "es", v[i].es, "it", v[i].it));
	return json_pack("{s:o}", what, a);
}

static json_t *all_json(void)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, schema_json(&all[i]));
	return json_pack("{s:o}", "types", a);
}

/* ---- the command ---- */

int cmd_schema(const struct args *a)
{
	const char *what = a->npos ? a->pos[0] : NULL;
	const struct ag_schema *s = NULL;
	int topics = what && strcmp(what, "topics") == 0;
	int stake = what && strcmp(what, "stakeholders") == 0;

	if (what && !topics && !stake && !(s = ag_schema_find(what)))
		return cmd_check_type(a, what) != 0
		           ? 2
		           : cmd_fail(a, EXIT_REFUSED, "no schema for \"%s\"", what);
	if (a->json)
		return cmd_json(
		    topics  ? vocab_json(ag_topics, AG_TOPIC_COUNT, "topics")
		    : stake ? vocab_json(ag_stakeholders, AG_STAKEHOLDER_COUNT, "stakeholders")
		    : s     ? schema_json(s)
		            : all_json());
	if (topics)
		print_vocab(ag_topics, AG_TOPIC_COUNT, "Topics");
	else if (stake)
		print_vocab(ag_stakeholders, AG_STAKEHOLDER_COUNT, "Stakeholders");
	else if (s)
		print_schema(s);
	else
		print_all();
	return 0;
}
