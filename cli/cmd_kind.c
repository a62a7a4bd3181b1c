/*
 * cmd_kind.c: friendly commands for each record type, on top of agora put:
 * practice add, profile set, pilot milestone and status, comment. Each builds
 * or edits a body, which rec_publish checks against the type's schema
 * (proto/schema.h) before it is signed; values are typed by that schema, so
 * there is one description of each record, not one per command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "entry.h"
#include "rec.h"
#include "schema.h"
#include "text.h"

#define REPEAT_MAX 64

static const struct ag_field *field_find(const struct ag_field *fields, const char *name,
                                         size_t len)
{
	for (const struct ag_field *f = fields; f && f->name; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

static const struct ag_field *schema_field(const char *type, const char *name)
{
	const struct ag_schema *s = ag_schema_find(type);

	return s ? field_find(s->fields, name, strlen(name)) : NULL;
}

/* A whole number, all of s; 0 or -1. */
static int parse_int(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s && *end == '\0' && errno == 0 && strspn(s, " \t") == 0 ? 0 : -1;
}

/* "a, b,c" as ["a", "b", "c"]. */
static json_t *split_list(const char *s)
{
	json_t *arr = json_array();
	size_t n;

	while (arr && *s) {
		s += strspn(s, " ,");
		n = strcspn(s, ",");
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n > 0)
			json_array_append_new(arr, json_stringn(s, n));
		s += n;
		s += strcspn(s, ",");
	}
	return arr;
}

/* VALUE given for path as the JSON its field's kind holds; NULL with the error printed. */
static json_t *typed_value(const struct args *a, const char *path, const struct ag_field *f,
                           const char *s)
{
	json_error_t e;
	long long n;
	json_t *v;

	switch (f->kind) {
	case AG_F_TEXT:
		return rec_text_new(a, s);
	case AG_F_INT:
		if (parse_int(s, &n) == 0)
			return json_integer(n);
		cmd_fail(a, EXIT_REFUSED, "%s: \"%s\" is not a whole number", path, s);
		return NULL;
	case AG_F_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "yes"))
			return json_true();
		if (!strcmp(s, "false") || !strcmp(s, "no"))
			return json_false();
		cmd_fail(a, EXIT_REFUSED, "%s: \"%s\" is not true or false", path, s);
		return NULL;
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		return split_list(s);
	case AG_F_OBJECT:
	case AG_F_LIST:
		v = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
		if (v && (f->kind == AG_F_LIST ? json_is_array(v) : json_is_object(v)))
			return v;
		json_decref(v);
		cmd_fail(a, EXIT_REFUSED,
		         "%s is a %s: give it as JSON (%s), or set one of its parts (%s.%s)", path,
		         f->kind == AG_F_LIST ? "list" : "group of fields",
		         f->kind == AG_F_LIST ? "[...]" : "{...}", path,
		         f->kind == AG_F_LIST ? "1" : f->sub[0].name);
		return NULL;
	default:
		return json_string(s);
	}
}

/* ---- profile set: a value at a dotted path, typed by the schema ---- */

/* Where a value goes: a key of an object, or an index of an array (== size: appended). */
struct slot {
	json_t *parent;
	const char *key;
	size_t index;
};

static json_t *slot_get(const struct slot *s)
{
	return s->key ? json_object_get(s->parent, s->key) : json_array_get(s->parent, s->index);
}

/* Puts v (consumed) in the slot; NULL removes what is there. */
static void slot_set(const struct slot *s, json_t *v)
{
	if (s->key && v)
		json_object_set_new(s->parent, s->key, v);
	else if (s->key)
		json_object_del(s->parent, s->key);
	else if (!v)
		json_array_remove(s->parent, s->index);
	else if (s->index == json_array_size(s->parent))
		json_array_append_new(s->parent, v);
	else
		json_array_set_new(s->parent, s->index, v);
}

/* The object or array in the slot, made if there is none yet; NULL if it holds something else. */
static json_t *slot_container(const struct slot *s, bool array)
{
	json_t *c = slot_get(s);

	if (!c) {
		slot_set(s, array ? json_array() : json_object());
		c = slot_get(s);
	}
	return (array ? json_is_array(c) : json_is_object(c)) ? c : NULL;
}

struct setter {
	const struct args *a;
	const char *path, *value;
	char names[600];
};

static int set_at(struct setter *st, const struct slot *s, const struct ag_field *f,
                  const char *rest);

/* The component of path at rest, its length, and what follows it (NULL at the end). */
static size_t component(const char *rest, const char **next)
{
	size_t n = strcspn(rest, ".");

	*next = rest[n] ? rest + n + 1 : NULL;
	return n;
}

static const char *field_names(struct setter *st, const struct ag_field *fields)
{
	size_t len = 0;

	st->names[0] = '\0';
	for (const struct ag_field *f = fields; f->name && len < sizeof(st->names); f++)
		len += (size_t)snprintf(st->names + len, sizeof(st->names) - len, "%s%s",
		                        len ? ", " : "", f->name);
	return st->names;
}

static int set_in_object(struct setter *st, json_t *obj, const struct ag_field *fields,
                         const char *rest)
{
	const char *next;
	size_t n = component(rest, &next);
	const struct ag_field *f = field_find(fields, rest, n);
	struct slot s = {obj, NULL, 0};

	if (!f)
		return cmd_fail(st->a, EXIT_REFUSED, "%s: no field \"%.*s\" here (fields: %s)",
		                st->path, (int)n, rest, field_names(st, fields));
	s.key = f->name;
	return set_at(st, &s, f, next);
}

static int set_in_list(struct setter *st, json_t *arr, const struct ag_field *elem,
                       const char *rest)
{
	const char *next;
	size_t n = component(rest, &next), len = json_array_size(arr);
	char num[24];
	long long i;
	struct slot s = {arr, NULL, 0};

	snprintf(num, sizeof(num), "%.*s", (int)(n < 20 ? n : 20), rest);
	if (parse_int(num, &i) != 0 || i < 1 || (size_t)i > len + 1)
		return cmd_fail(st->a, EXIT_REFUSED,
		                "%s: \"%s\" is not an item: 1 to %zu (%zu: a new one)", st->path,
		                num, len + 1, len + 1);
	s.index = (size_t)i - 1;
	return set_at(st, &s, elem, next);
}

static int set_text_lang(struct setter *st, const struct slot *s, const char *lang)
{
	json_t *t = slot_get(s);

	if (strchr(lang, '.'))
		return cmd_fail(st->a, EXIT_REFUSED, "%s: a language (%s) is the last part",
		                st->path, lang);
	if (json_is_string(t))
		return cmd_fail(st->a, EXIT_REFUSED,
		                "%s: the text there has no language; set it whole, or with all its "
		                "languages as JSON",
		                st->path);
	if (!(t = slot_container(s, false)))
		return cmd_fail(st->a, EXIT_REFUSED, "%s: not text", st->path);
	if (*st->value)
		json_object_set_new(t, lang, json_string(st->value));
	else
		json_object_del(t, lang);
	return 0;
}

/* Sets path's value at slot s, whose field is f; rest is what is left of path. */
static int set_at(struct setter *st, const struct slot *s, const struct ag_field *f,
                  const char *rest)
{
	json_t *c, *v;

	if (!rest) {
		/* An empty value removes an optional field. */
		if (!*st->value && s->key)
			v = NULL;
		else if (!(v = typed_value(st->a, st->path, f, st->value)))
			return EXIT_REFUSED;
		slot_set(s, v);
		return 0;
	}
	switch (f->kind) {
	case AG_F_OBJECT:
		if (!(c = slot_container(s, false)))
			return cmd_fail(st->a, EXIT_REFUSED, "%s: %s is not a group of fields",
			                st->path, f->name);
		return set_in_object(st, c, f->sub, rest);
	case AG_F_LIST:
		if (!(c = slot_container(s, true)))
			return cmd_fail(st->a, EXIT_REFUSED, "%s: %s is not a list", st->path,
			                f->name);
		return set_in_list(st, c, f->sub, rest);
	case AG_F_TEXT:
		return set_text_lang(st, s, rest);
	default:
		return cmd_fail(st->a, EXIT_REFUSED,
		                "%s: %s is a single value (%s), it has no parts", st->path,
		                f->name ? f->name : "the item", ag_field_kind_name(f->kind));
	}
}

int cmd_profile_set(const struct args *a)
{
	const struct ag_schema *schema = ag_schema_find("profile");
	struct setter st = {.a = a};
	struct rec rec;
	json_t *body;
	int rc;

	if (a->npos % 2 != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s has no value (usage: agora %s %s)",
		                a->pos[a->npos - 1], a->cmd->name, a->cmd->synopsis);
	if ((rc = rec_get(a, "profile", "main", NULL, true, &rec)) > 1) {
		rec_clear(&rec);
		return rc;
	}
	body = rc == 0 ? json_deep_copy(rec.body) : json_object();
	rec_clear(&rec);
	for (int i = 0; i < a->npos && body; i += 2) {
		st.path = a->pos[i];
		st.value = a->pos[i + 1];
		if ((rc = set_in_object(&st, body, schema->fields, st.path)) != 0) {
			json_decref(body);
			return rc;
		}
	}
	return rec_publish(a, "profile", "main", body);
}

int cmd_profile_show(const struct args *a)
{
	struct args b = *a;

	b.pos[0] = "profile";
	b.pos[1] = "main";
	b.npos = 2;
	return cmd_show(&b);
}

/* ---- practice add ---- */

/* The options of practice add that hold one value, and the field each fills. */
static const struct {
	enum cmd_opt opt;
	const char *field;
} practice_opts[] = {
    {OPT_TITLE, "title"}, {OPT_SUMMARY, "summary"}, {OPT_DESCRIPTION, "description"},
    {OPT_YEAR, "year"},   {OPT_RESULTS, "results"}, {OPT_CONTACT, "contact"},
};

/* The values of a repeatable option as an array, or nothing if it was not given. */
static void add_list(const struct args *a, json_t *body, enum cmd_opt o, const char *field)
{
	const char *vals[REPEAT_MAX];
	size_t n = cmd_opt_values(a, o, vals, REPEAT_MAX);
	json_t *arr;

	if (n == 0 || !(arr = json_array()))
		return;
	for (size_t i = 0; i < n && i < REPEAT_MAX; i++)
		json_array_append_new(arr, json_string(vals[i]));
	json_object_set_new(body, field, arr);
}

static json_t *practice_body(const struct args *a)
{
	json_t *body = json_object(), *v;

	for (size_t i = 0; body && i < sizeof(practice_opts) / sizeof(practice_opts[0]); i++) {
		const char *s = a->opt[practice_opts[i].opt];
		const struct ag_field *f = schema_field("practice", practice_opts[i].field);

		if (!s || !f)
			continue;
		if (!(v = typed_value(a, practice_opts[i].field, f, s))) {
			json_decref(body);
			return NULL;
		}
		json_object_set_new(body, practice_opts[i].field, v);
	}
	add_list(a, body, OPT_TOPIC, "topics");
	add_list(a, body, OPT_STAKEHOLDER, "stakeholders");
	add_list(a, body, OPT_LINK, "links");
	return body;
}

/* The id: --id, else the title's slug. 0, or 2 with the error printed. */
static int practice_id(const struct args *a, char slug[static TEXT_SLUG_MAX + 1], const char **id)
{
	*id = a->opt[OPT_ID];
	if (*id) {
		if (ag_recid_check(*id, strlen(*id)) == 0)
			return 0;
		return cmd_fail(a, EXIT_REFUSED,
		                "bad --id \"%s\": 1 to %d bytes without control characters", *id,
		                AG_ID_MAX);
	}
	if (text_slug(a->opt[OPT_TITLE], slug) != 0)
		return cmd_fail(
		    a, 2,
		    "no id can be made from the title \"%s\" (it needs Latin letters or "
		    "digits): give one with --id",
		    a->opt[OPT_TITLE]);
	*id = slug;
	return 0;
}

int cmd_practice_add(const struct args *a)
{
	static const enum cmd_opt needed[] = {OPT_TITLE, OPT_TOPIC, OPT_SUMMARY};
	char slug[TEXT_SLUG_MAX + 1];
	const char *id;
	struct rec old;
	json_t *body;
	int rc;

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!a->opt[needed[i]])
			return cmd_fail(a, EXIT_REFUSED, "missing --%s (usage: agora %s %s)",
			                cmd_opt_name(needed[i]), a->cmd->name, a->cmd->synopsis);
	if ((rc = practice_id(a, slug, &id)) != 0)
		return rc;
	if (!(body = practice_body(a)))
		return EXIT_REFUSED;
	/* Bad input is told before whether the id is taken, which would not help fix it. */
	if ((rc = rec_check(a, "practice", id, body)) != 0) {
		json_decref(body);
		return rc;
	}
	if (!a->opt[OPT_REPLACE]) {
		rc = rec_get(a, "practice", id, NULL, true, &old);
		rec_clear(&old);
		if (rc == 0)
			rc = cmd_fail(a, EXIT_REFUSED,
			              "practice %s exists already (agora show practice %s): give "
			              "--replace to replace it, or another --id",
			              id, id);
		if (rc != EXIT_NOTFOUND) {
			json_decref(body);
			return rc;
		}
	}
	return rec_publish(a, "practice", id, body);
}

/* ---- pilot ---- */

/* This node's pilot ID's body, a copy to edit; NULL with the exit status in *rc. */
static json_t *pilot_body(const struct args *a, const char *id, int *rc)
{
	struct rec rec;
	json_t *body;

	if ((*rc = rec_get(a, "pilot", id, NULL, false, &rec)) != 0) {
		rec_clear(&rec);
		return NULL;
	}
	body = json_deep_copy(rec.body);
	rec_clear(&rec);
	if (!json_is_object(body)) {
		json_decref(body);
		*rc = cmd_fail(a, EXIT_UNREACHABLE, "pilot %s: no body in agorad's answer", id);
		return NULL;
	}
	return body;
}

static int milestone_done(const struct args *a, json_t *body)
{
	json_t *ms = json_object_get(body, "milestones");
	size_t n = json_array_size(ms);
	uint64_t i;
	int rc;

	if ((rc = cmd_uint(a, OPT_DONE, &i)) != 0)
		return rc;
	if (n == 0)
		return cmd_fail(a, EXIT_REFUSED, "pilot %s has no milestones", a->pos[0]);
	if (i < 1 || i > n)
		return cmd_fail(a, EXIT_REFUSED,
		                "pilot %s has %zu milestone%s: --done takes 1 to %zu", a->pos[0], n,
		                n == 1 ? "" : "s", n);
	if (!json_is_object(json_array_get(ms, i - 1)))
		return cmd_fail(a, EXIT_REFUSED, "pilot %s: milestone %llu is not a milestone",
		                a->pos[0], (unsigned long long)i);
	json_object_set_new(json_array_get(ms, i - 1), "done", json_true());
	return 0;
}

static int milestone_add(const struct args *a, json_t *body)
{
	json_t *ms = json_object_get(body, "milestones");

	if (!ms) {
		json_object_set_new(body, "milestones", json_array());
		ms = json_object_get(body, "milestones");
	}
	if (!json_is_array(ms))
		return cmd_fail(a, EXIT_REFUSED, "pilot %s: its milestones are not a list",
		                a->pos[0]);
	json_array_append_new(ms, json_pack("{s:s, s:o, s:b}", "date", a->opt[OPT_DATE], "text",
	                                    rec_text_new(a, a->pos[1]), "done", 0));
	return 0;
}

int cmd_pilot_milestone(const struct args *a)
{
	json_t *body;
	int rc;

	if (a->opt[OPT_DONE] && (a->opt[OPT_DATE] || a->npos > 1))
		return cmd_fail(a, EXIT_REFUSED,
		                "--done N marks a milestone done; it takes no --date or TEXT");
	if (!a->opt[OPT_DONE] && (!a->opt[OPT_DATE] || a->npos < 2))
		return cmd_fail(a, EXIT_REFUSED, "missing %s (usage: agora %s %s)",
		                a->opt[OPT_DATE] ? "TEXT" : "--date", a->cmd->name,
		                a->cmd->synopsis);
	if (!(body = pilot_body(a, a->pos[0], &rc)))
		return rc;
	rc = a->opt[OPT_DONE] ? milestone_done(a, body) : milestone_add(a, body);
	if (rc != 0) {
		json_decref(body);
		return rc;
	}
	return rec_publish(a, "pilot", a->pos[0], body);
}

int cmd_pilot_status(const struct args *a)
{
	json_t *body;
	int rc;

	if (!(body = pilot_body(a, a->pos[0], &rc)))
		return rc;
	json_object_set_new(body, "status", json_string(a->pos[1]));
	return rec_publish(a, "pilot", a->pos[0], body);
}

/* ---- comment ---- */

/* A new comment's id: the UTC time, then random hex so two comments in a second differ. */
static void comment_id(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	uint8_t rnd[3];
	char hex[7];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y%m%d-%H%M%S", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), "-%s", hex);
}

int cmd_comment(const struct args *a)
{
	struct rec rec;
	json_t *on, *body;
	char id[48];
	int rc;

	if ((rc = cmd_check_type(a, a->pos[0])) != 0)
		return rc;
	/* The record must exist: a reply to nothing would dangle in every city's store. */
	if ((rc = rec_get(a, a->pos[0], a->pos[1], a->opt[OPT_CITY], false, &rec)) != 0) {
		rec_clear(&rec);
		return rc;
	}
	on = json_pack("{s:s, s:s, s:s}", "author", rec.got.record.author, "type", a->pos[0], "id",
	               a->pos[1]);
	rec_clear(&rec);
	body = json_pack("{s:o, s:o}", "on", on, "text", rec_text_new(a, a->pos[2]));
	comment_id(id, sizeof(id));
	return rec_publish(a, "comment", id, body);
}
