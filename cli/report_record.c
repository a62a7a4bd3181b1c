/*
 * report_record.c: one record of the report as an <article>: its title in
 * each of its languages, its city, type and version, then every field in
 * the order of its type's schema with a label, and the fields the schema
 * does not know after them. Each language of a text is labelled and marked
 * (lang, and dir="rtl" for Arabic), so a browser lays Arabic out right to
 * left and reads it with an Arabic font. Every byte of the record is
 * escaped (html.h).
 *
 * The article carries what the filter needs (report.js): data-type,
 * data-id, data-city, and data-words, the folded words of its body.
 */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "rec.h"
#include "report.h"
#include "report_filter.h"

/* The order languages are shown in: the network's, then the rest as stored. */
static const char *const langs[] = {"fr", "ar", "en", "es", "it"};

/* Scripts written right to left, by language code (its first subtag). */
static bool rtl(const char *lang)
{
	static const char *const rtls[] = {"ar", "fa", "he", "ur", "ps", "yi"};
	size_t n = strcspn(lang, "-");

	for (size_t i = 0; i < sizeof(rtls) / sizeof(rtls[0]); i++)
		if (strlen(rtls[i]) == n && strncmp(lang, rtls[i], n) == 0)
			return true;
	return false;
}

/* "expert_team" as "Expert team". */
static void label(FILE *f, const char *name)
{
	char buf[80];

	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = buf; *p; p++)
		*p = *p == '_' ? ' ' : *p;
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	html_text(f, buf);
}

/* One language of a text: <p lang=.. dir=..><span class=lg>..</span>text</p>. */
static void lang_para(FILE *f, const char *lang, const json_t *t)
{
	fputs("<p lang=\"", f);
	html_text(f, lang);
	fprintf(f, "\" dir=\"%s\"><span class=\"lg\">", rtl(lang) ? "rtl" : "ltr");
	html_text(f, lang);
	fputs("</span>", f);
	html_text(f, json_string_value(t));
	fputs("</p>", f);
}

static bool is_lang(const char *k)
{
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strcmp(k, langs[i]) == 0)
			return true;
	return false;
}

/* A text field: a plain string, its direction found from it; or each language labelled. */
static void text(FILE *f, const json_t *v)
{
	const char *k;
	json_t *t;

	if (json_is_string(v)) {
		fputs("<p class=\"t\" dir=\"auto\">", f);
		html_text(f, json_string_value(v));
		fputs("</p>", f);
		return;
	}
	fputs("<div class=\"t\">", f);
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (json_is_string(t = json_object_get(v, langs[i])))
			lang_para(f, langs[i], t);
	json_object_foreach((json_t *)(uintptr_t)v, k, t) if (!is_lang(k) && json_is_string(t))
	    lang_para(f, k, t);
	fputs("</div>", f);
}

/* A topic or stakeholder as a chip with its labels; an unknown key as it is. */
static void vocab(FILE *f, const json_t *v, bool topic)
{
	const char *k = json_string_value(v);
	const struct ag_vocab *w = !k      ? NULL
	                           : topic ? ag_topic_find(k, strlen(k))
	                                   : ag_stakeholder_find(k, strlen(k));

	fputs("<span class=\"chip\" title=\"", f);
	html_text(f, w ? w->key : k ? k : "?");
	fputs("\">", f);
	html_text(f, w ? w->label : k ? k : "?");
	fputs("</span>", f);
}

static void value(struct report *r, const struct ag_field *fd, const json_t *v);

static void fields(struct report *r, const struct ag_field *fds, const json_t *obj, bool body);

static void scalar(FILE *f, const json_t *v)
{
	char buf[64];

	if (json_is_string(v)) {
		fputs("<span dir=\"auto\">", f);
		html_text(f, json_string_value(v));
		fputs("</span>", f);
		return;
	}
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, sizeof(buf), "-");
	fputs(buf, f);
}

/* A milestone: ticked, due, or overdue (its day passed, not done). */
static void milestone(struct report *r, const json_t *m)
{
	const char *date = rec_str(m, "date");
	bool done = json_is_true(json_object_get(m, "done"));
	bool late = !done && date && strcmp(date, r->today) < 0;

	fprintf(r->f, "<li class=\"%s\">%s ",
	        done   ? "done"
	        : late ? "late"
	               : "due",
	        done ? "&#x2611;" : "&#x2610;");
	html_text(r->f, date ? date : "?");
	fputs(late ? " <span class=\"badge late\">overdue</span>" : "", r->f);
	text(r->f, json_object_get(m, "text"));
	fputs("</li>", r->f);
}

static void list(struct report *r, const struct ag_field *fd, const json_t *v)
{
	const struct ag_field *el = fd && fd->sub ? &fd->sub[0] : NULL;
	bool ms = fd && strcmp(fd->name, "milestones") == 0;
	json_t *e;
	size_t i;

	fputs(ms ? "<ol class=\"milestones\">" : "<ol>", r->f);
	json_array_foreach(v, i, e)
	{
		if (ms && json_is_object(e)) {
			milestone(r, e);
			continue;
		}
		fputs("<li>", r->f);
		value(r, el, e);
		fputs("</li>", r->f);
	}
	fputs("</ol>", r->f);
}

void report_milestones(struct report *r, const json_t *ms)
{
	static const struct ag_field el[] = {{"milestones", AG_F_LIST, 0, 0, 0, NULL, NULL, NULL}};

	list(r, el, ms);
}

/* The record a comment answers, linked when the report holds it. */
static void on(struct report *r, const json_t *v)
{
	long i = report_find(r, rec_str(v, "author"), rec_str(v, "type"), rec_str(v, "id"));

	if (i >= 0)
		fprintf(r->f, "<a href=\"#r%ld\" dir=\"auto\">", i);
	html_text(r->f, rec_str(v, "type"));
	fputs(" ", r->f);
	html_text(r->f, i >= 0 ? report_title(r->recs[i]) : rec_str(v, "id"));
	fputs(i >= 0 ? "</a>" : "", r->f);
	fputs(" of ", r->f);
	html_text(r->f, report_city_name(r, rec_str(v, "author")));
}

/* A value of a known kind; one whose value is not of that kind is shown as it is. */
static void value(struct report *r, const struct ag_field *fd, const json_t *v)
{
	size_t i;
	json_t *e;

	switch (fd ? fd->kind : AG_F_STR) {
	case AG_F_TEXT:
		if (json_is_string(v) || json_is_object(v))
			return text(r->f, v);
		break;
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		json_array_foreach(v, i, e) vocab(r->f, e, fd->kind == AG_F_TOPICS);
		return;
	case AG_F_TOPIC:
	case AG_F_STAKEHOLDER:
		return vocab(r->f, v, fd->kind == AG_F_TOPIC);
	case AG_F_URL:
		/* As text, never a link: the page opens nothing by itself. */
		fputs("<code class=\"url\">", r->f);
		html_text(r->f, json_string_value(v));
		fputs("</code>", r->f);
		return;
	case AG_F_KEY:
		html_text(r->f, report_city_name(r, json_string_value(v)));
		return;
	case AG_F_OBJECT:
		if (fd->name && strcmp(fd->name, "on") == 0)
			return on(r, v);
		return fields(r, fd->sub, v, false);
	default:
		break;
	}
	if (json_is_array(v))
		return list(r, fd && fd->kind == AG_F_LIST ? fd : NULL, v);
	if (json_is_object(v))
		return fields(r, NULL, v, false);
	scalar(r->f, v);
}

static void field(struct report *r, const char *name, const struct ag_field *fd, const json_t *v)
{
	fputs("<dt>", r->f);
	label(r->f, name);
	fputs("</dt><dd>", r->f);
	value(r, fd, v);
	fputs("</dd>", r->f);
}

/* The fields in the schema's order, then those it does not know; a body's title is its heading. */
static void fields(struct report *r, const struct ag_field *fds, const json_t *obj, bool body)
{
	const struct ag_field *fd;
	const char *k;
	json_t *v;

	fputs("<dl class=\"fields\">", r->f);
	for (fd = fds; fd && fd->name; fd++)
		if ((v = json_object_get(obj, fd->name)) &&
		    !(body && strcmp(fd->name, "title") == 0))
			field(r, fd->name, fd, v);
	json_object_foreach((json_t *)(uintptr_t)obj, k, v)
	{
		for (fd = fds; fd && fd->name && strcmp(fd->name, k) != 0; fd++)
			;
		if (!(fd && fd->name) && !(body && !fds && strcmp(k, "title") == 0))
			field(r, k, NULL, v);
	}
	fputs("</dl>", r->f);
}

/* The title: the first language as the heading, the others under it. */
static void title(struct report *r, const struct fetch_rec *rec, const json_t *t)
{
	const char *k;
	json_t *s;
	int n = 0;

	fputs("<h4>", r->f);
	if (!json_is_object(t)) {
		fputs("<span dir=\"auto\">", r->f);
		html_text(r->f, json_is_string(t) ? json_string_value(t) : report_title(rec));
		fputs("</span></h4>", r->f);
		return;
	}
	for (size_t i = 0; i <= sizeof(langs) / sizeof(langs[0]); i++)
		json_object_foreach((json_t *)(uintptr_t)t, k, s)
		{
			if (!json_is_string(s) ||
			    (i < sizeof(langs) / sizeof(langs[0]) ? strcmp(k, langs[i]) != 0
			                                          : is_lang(k)))
				continue;
			fprintf(r->f, "<span%s lang=\"", n++ ? " class=\"alt\"" : "");
			html_text(r->f, k);
			fprintf(r->f, "\" dir=\"%s\">", rtl(k) ? "rtl" : "ltr");
			html_text(r->f, json_string_value(s));
			fputs("</span>", r->f);
		}
	fputs("</h4>", r->f);
}

void report_record(struct report *r, size_t i)
{
	const struct fetch_rec *rec = r->recs[i];
	const struct ag_ctl_record *x = &rec->r;
	const json_t *body = rec->body;
	const struct ag_schema *s = ag_schema_find(x->type);
	char *words = filter_words(body), day[11];

	fprintf(r->f, "<article id=\"r%zu\" data-type=\"", i);
	html_text(r->f, x->type);
	fputs("\" data-id=\"", r->f);
	html_text(r->f, x->id);
	fputs("\" data-city=\"", r->f);
	html_text(r->f, report_city_name(r, x->author));
	fputs("\" data-words=\"", r->f);
	html_text(r->f, words ? words : "");
	fputs("\">\n", r->f);
	free(words);
	title(r, rec, json_object_get(body, "title"));
	report_day(day, x->timestamp);
	fputs("<p class=\"meta\">", r->f);
	html_text(r->f, x->type);
	fputs(" <b>", r->f);
	html_text(r->f, x->id);
	fputs("</b> · ", r->f);
	html_text(r->f, report_city_name(r, x->author));
	fprintf(r->f, " · seq %llu, %s</p>\n", (unsigned long long)x->seq, day);
	fields(r, s ? s->fields : NULL, body, true);
	fputs("\n</article>\n", r->f);
}
