/*
 * cmd_show.c: agora show: a record laid out for reading in a terminal. The
 * fields come in the order of the type's schema, each with its label; every
 * language of a text is shown and labelled; topics and stakeholders with
 * their French, English and Arabic labels; lists numbered, milestones ticked [x] or
 * not [ ]; text wrapped by the columns the terminal gives it (text.h), so
 * French and Arabic wrap between words. Fields the schema does not know are
 * still shown, after the others.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "rec.h"
#include "schema.h"
#include "text.h"

#define SHOW_WIDTH_MAX 100

struct show {
	FILE *f;
	size_t width;
};

/* The order languages are shown in: the network's languages first, then the rest as stored. */
static const char *const show_langs[] = {"fr", "ar", "en", "es", "it"};

static size_t show_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	size_t w = 80;

	if (isatty(fileno(out_file())) && ioctl(fileno(out_file()), TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		w = ws.ws_col;
	else if (cols && atoi(cols) > 0)
		w = (size_t)atoi(cols);
	return w > SHOW_WIDTH_MAX ? SHOW_WIDTH_MAX : w < 40 ? 40 : w;
}

/* "expert_team" as "Expert team"; a name from a newer release's record is cleaned (out.h). */
static void label(char *buf, size_t len, const char *name)
{
	out_clean(buf, len, name, strlen(name), 0);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

static void indent(const struct show *sh, size_t n)
{
	fprintf(sh->f, "%*s", (int)n, "");
}

/* A key or word of the record's, cleaned to one line (out.h); returns its columns. */
static size_t word(const struct show *sh, const char *s)
{
	char *c = out_clean_dup(s, 0);
	size_t w = c ? out_width(c, strlen(c)) : 0;

	fputs(c ? c : "", sh->f);
	free(c);
	return w;
}

/* One language's text: "[fr] " and the text wrapped under itself. */
static void show_lang(const struct show *sh, size_t ind, const char *lang, const json_t *t)
{
	size_t w;

	indent(sh, ind);
	fputc('[', sh->f);
	w = word(sh, lang);
	fputs("] ", sh->f);
	text_wrap(sh->f, json_is_string(t) ? json_string_value(t) : "?", ind + w + 3, sh->width);
}

/* A text field's value: a plain string wrapped, or each language labelled, in a fixed order. */
static void show_text(const struct show *sh, size_t ind, const json_t *v)
{
	const char *k;
	json_t *t;
	bool known;

	if (!json_is_object(v)) {
		indent(sh, ind);
		text_wrap(sh->f, json_string_value(v) ? json_string_value(v) : "?", ind, sh->width);
		return;
	}
	for (size_t i = 0; i < sizeof(show_langs) / sizeof(show_langs[0]); i++)
		if ((t = json_object_get(v, show_langs[i])))
			show_lang(sh, ind, show_langs[i], t);
	json_object_foreach((json_t *)(uintptr_t)v, k, t)
	{
		known = false;
		for (size_t i = 0; i < sizeof(show_langs) / sizeof(show_langs[0]); i++)
			known |= strcmp(k, show_langs[i]) == 0;
		if (!known)
			show_lang(sh, ind, k, t);
	}
}

/* A topic or stakeholder key with its labels: "housing: hébergement / housing / السكن". */
static void show_vocab(const struct show *sh, size_t ind, const json_t *v, bool topic)
{
	const char *key = json_string_value(v);
	const struct ag_vocab *w = !key    ? NULL
	                           : topic ? ag_topic_find(key, strlen(key))
	                                   : ag_stakeholder_find(key, strlen(key));

	size_t kw;

	indent(sh, ind);
	kw = word(sh, key ? key : "?");
	fputs(w ? ": " : " ", sh->f);
	/* Three languages' labels may be wider than the terminal: wrapped under themselves. */
	text_wrap(sh->f, w ? w->label : REC_NEWER, ind + kw + 1 + (w != NULL), sh->width);
}

static void show_value(const struct show *sh, size_t ind, const struct ag_field *f,
                       const json_t *v);

static void show_fields(const struct show *sh, size_t ind, const struct ag_field *fields,
                        const json_t *obj, const char *const *skip);

/* A scalar as text: strings as they are, numbers and booleans as JSON writes them. */
static void scalar(char *buf, size_t len, const json_t *v)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
}

static bool is_scalar_kind(const struct ag_field *f, const json_t *v)
{
	if (!f)
		return !json_is_object(v) && !json_is_array(v) && !json_is_string(v);
	switch (f->kind) {
	case AG_F_TEXT:
	case AG_F_OBJECT:
	case AG_F_LIST:
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		return false;
	default:
		return !json_is_object(v) && !json_is_array(v);
	}
}

/*
 * A list item that is a group of fields, on one line where it can be: a
 * milestone as "[x] 2025-03-01 text"; the rest of its fields below it.
 */
static void show_item(const struct show *sh, size_t ind, const struct ag_field *sub,
                      const json_t *obj)
{
	static const char *const heads[] = {"title", "name", "text"};
	const char *skip[] = {"done", "date", NULL, NULL};
	const json_t *done = json_object_get(obj, "done"), *date = json_object_get(obj, "date");
	size_t col = ind;

	if (json_is_boolean(done))
		col += (size_t)fprintf(sh->f, "[%c] ", json_is_true(done) ? 'x' : ' ');
	/* A plain-text title goes on the item's line; one in several languages below it. */
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]) && !skip[2]; i++)
		if (json_is_string(json_object_get(obj, heads[i])))
			skip[2] = heads[i];
	if (json_is_string(date)) {
		col += word(sh, json_string_value(date));
		if (skip[2])
			col += (size_t)fprintf(sh->f, "  ");
	}
	if (skip[2])
		text_wrap(sh->f, json_string_value(json_object_get(obj, skip[2])), col, sh->width);
	else
		fputc('\n', sh->f);
	show_fields(sh, ind, sub, obj, skip);
}

static void show_list(const struct show *sh, size_t ind, const struct ag_field *elem,
                      const json_t *arr)
{
	char num[24], buf[400];
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		snprintf(num, sizeof(num), "%zu. ", i + 1);
		indent(sh, ind);
		fputs(num, sh->f);
		if (json_is_object(v) && (!elem || elem->kind == AG_F_OBJECT)) {
			show_item(sh, ind + strlen(num), elem ? elem->sub : NULL, v);
		} else if (json_is_object(v)) {
			fputc('\n', sh->f);
			show_text(sh, ind + strlen(num), v);
		} else {
			scalar(buf, sizeof(buf), v);
			text_wrap(sh->f, buf, ind + strlen(num), sh->width);
		}
	}
}

/* A field's value below its label, at ind. */
static void show_value(const struct show *sh, size_t ind, const struct ag_field *f, const json_t *v)
{
	size_t i;
	json_t *e;

	if (f && (f->kind == AG_F_TOPICS || f->kind == AG_F_STAKEHOLDERS) && json_is_array(v))
		json_array_foreach(v, i, e) show_vocab(sh, ind, e, f->kind == AG_F_TOPICS);
	else if (json_is_array(v))
		show_list(sh, ind, f ? f->sub : NULL, v);
	else if (json_is_object(v) && (!f || f->kind == AG_F_OBJECT))
		show_fields(sh, ind, f ? f->sub : NULL, v, NULL);
	else
		show_text(sh, ind, v);
}

/* What this release's schema does not know: "Label (from a newer version of agora): raw JSON". */
static void show_raw(const struct show *sh, size_t ind, const char *lab, const json_t *v)
{
	char *raw = rec_raw(v);

	fprintf(sh->f, "%s %s: ", lab, REC_NEWER);
	text_wrap(sh->f, raw ? raw : "?", ind + 2, sh->width);
	free(raw);
}

/* One field: "Label: value" for a scalar, else "Label:" and the value indented below. */
static void show_field(const struct show *sh, size_t ind, const char *name,
                       const struct ag_field *f, const json_t *v)
{
	char lab[80], buf[400];

	label(lab, sizeof(lab), name);
	indent(sh, ind);
	if (!rec_laid_out(f, v)) {
		show_raw(sh, ind, lab, v);
		return;
	}
	/* A short text without languages (a city, a name) stays on its label's line. */
	if (is_scalar_kind(f, v) || (f && (f->kind == AG_F_TOPIC || f->kind == AG_F_STAKEHOLDER)) ||
	    (f && f->kind == AG_F_TEXT && f->max <= 300 && json_is_string(v))) {
		if (f && (f->kind == AG_F_TOPIC || f->kind == AG_F_STAKEHOLDER)) {
			fprintf(sh->f, "%s: ", lab);
			show_vocab(sh, 0, v, f->kind == AG_F_TOPIC);
			return;
		}
		scalar(buf, sizeof(buf), v);
		fprintf(sh->f, "%s: ", lab);
		text_wrap(sh->f, buf, ind + out_width(lab, strlen(lab)) + 2, sh->width);
		return;
	}
	fprintf(sh->f, "%s:\n", lab);
	show_value(sh, ind + 2, f, v);
}

static bool skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(name, *skip) == 0)
			return true;
	return false;
}

/* The fields of obj: the schema's first, in its order, then any it does not know. */
static void show_fields(const struct show *sh, size_t ind, const struct ag_field *fields,
                        const json_t *obj, const char *const *skip)
{
	const struct ag_field *f;
	const char *k;
	json_t *v;

	for (f = fields; f && f->name; f++)
		if ((v = json_object_get(obj, f->name)) && !skipped(f->name, skip))
			show_field(sh, ind, f->name, f, v);
	json_object_foreach((json_t *)(uintptr_t)obj, k, v)
	{
		for (f = fields; f && f->name && strcmp(f->name, k) != 0; f++)
			;
		if (!(f && f->name) && !skipped(k, skip))
			show_field(sh, ind, k, NULL, v);
	}
}

/* The title, underlined to its width, then where the record comes from. */
static void show_head(const struct show *sh, const struct ag_ctl_record *rec, const json_t *body)
{
	static const char *const keys[] = {"title", "name", "city"};
	const char *title = NULL, *name = rec->name[0] ? rec->name : NULL;
	char when[32], *line;
	size_t w;

	for (size_t i = 0; !title && i < sizeof(keys) / sizeof(keys[0]); i++)
		title = rec_text_pick(json_object_get(body, keys[i]));
	if (!title)
		title = rec->id;
	/* One line, so that a title cannot make a line of its own that reads as ours. */
	if (!(line = out_clean_dup(title ? title : "-", 0)))
		return;
	text_wrap(sh->f, line, 0, sh->width);
	w = out_width(line, strlen(line));
	free(line);
	for (size_t i = 0; i < (w < sh->width ? w : sh->width); i++)
		fputc('=', sh->f);
	fputc('\n', sh->f);
	out_time(when, sizeof(when), rec->timestamp);
	out_line("Record: %s %s, version %llu, %s", rec->type, rec->id,
	         (unsigned long long)rec->seq, when);
	out_line("City: %s (%s)", name ? name : "unnamed", rec->author);
	if (!ag_schema_find(rec->type))
		out_line("Type %s %s: its fields are shown raw", rec->type, REC_NEWER);
	fputc('\n', sh->f);
}

int cmd_show(const struct args *a)
{
	const struct ag_schema *schema = ag_schema_find(a->pos[0]);
	struct show sh = {out_file(), show_width()};
	struct rec rec;
	int rc;

	if ((rc = cmd_check_read_type(a, a->pos[0])) != 0)
		return rc;
	if ((rc = rec_get(a, a->pos[0], a->pos[1], a->opt[OPT_CITY], false, &rec)) == 0 &&
	    a->json) {
		rc = cmd_json(rec_json(&rec));
	} else if (rc == 0) {
		show_head(&sh, &rec.got.record, rec.body);
		show_fields(&sh, 0, schema ? schema->fields : NULL, rec.body, NULL);
	}
	rec_clear(&rec);
	return rc;
}
