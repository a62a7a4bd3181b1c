/*
 * cmd_export.c: agora export: the network's knowledge for reports and
 * spreadsheets, as one JSON document, a CSV table (RFC 4180, CRLF, a header
 * row, one row per record) or a Markdown document (a heading per city and
 * per type). Records come sorted by city, type (in the order of DESIGN.md)
 * and id, so two exports of the same network are the same file.
 *
 * In CSV a text in several languages is one cell, "fr: ...; en: ...": a
 * spreadsheet keeps one column per meaning, and a reader sees every language.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "fetch.h"
#include "rec.h"
#include "schema.h"
#include "text.h"

enum format { FMT_JSON, FMT_CSV, FMT_MD };

/* The order languages are flattened in: the network's first, then the rest as stored. */
static const char *const langs[] = {"fr", "ar", "en", "es", "it"};

/* ---- gathering ---- */

/* One LIST per city, for a network whose records are more than one answer holds. */
static int list_per_city(const struct args *a, struct fetch_recs *all)
{
	struct ag_ctl_status_resp resp;
	bool more = false;
	int rc;

	fetch_recs_clear(all);
	if ((rc = fetch_status(a, &resp)) != 0)
		return rc;
	for (size_t i = 0; i < resp.status.nfeeds && rc == 0 && !more; i++)
		rc = fetch_list(a, resp.status.feeds[i].author, a->opt[OPT_TYPE], all, &more);
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
	if (rc == 0 && more)
		rc = cmd_fail(a, EXIT_REFUSED,
		              "one city's records are more than agorad sends at once: "
		              "export them type by type with --city and --type");
	return rc;
}

static size_t type_rank(const char *type)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	for (size_t i = 0; type && i < n; i++)
		if (strcmp(all[i].type, type) == 0)
			return i;
	return n;
}

static const char *city_name(const struct ag_ctl_record *r)
{
	return r->name[0] ? r->name : r->author;
}

static int rec_cmp(const void *x, const void *y)
{
	const struct ag_ctl_record *a = &((const struct fetch_rec *)x)->r,
	                           *b = &((const struct fetch_rec *)y)->r;
	size_t ra = type_rank(a->type), rb = type_rank(b->type);
	int c = strcmp(city_name(a), city_name(b));

	if (c == 0)
		c = strcmp(a->author, b->author);
	if (c == 0)
		c = ra != rb ? (ra < rb ? -1 : 1) : strcmp(a->type, b->type);
	return c ? c : strcmp(a->id, b->id);
}

/* Every record asked for, sorted, into all (cleared by the caller); 0 or the exit status. */
static int gather(const struct args *a, struct fetch_recs *all)
{
	bool more = false;
	int rc;

	memset(all, 0, sizeof(*all));
	rc = fetch_list(a, a->opt[OPT_CITY], a->opt[OPT_TYPE], all, &more);
	if (rc == 0 && more)
		rc = a->opt[OPT_CITY] ? cmd_fail(a, EXIT_REFUSED,
		                                 "the city's records are more than agorad sends "
		                                 "at once: export them type by type with --type")
		                      : list_per_city(a, all);
	if (rc == 0 && all->n)
		qsort(all->v, all->n, sizeof(*all->v), rec_cmp);
	return rc;
}

/* ---- text of fields ---- */

/* A text field in one line: a plain string as is, languages as "fr: ...; en: ...". */
static void flat_text(FILE *f, const json_t *v)
{
	const char *k;
	json_t *t;
	int n = 0;
	bool known;

	if (json_object_size(v) == 1 &&
	    json_is_string(json_object_iter_value(json_object_iter((json_t *)(uintptr_t)v))))
		v = json_object_iter_value(json_object_iter((json_t *)(uintptr_t)v));
	if (!json_is_object(v)) {
		fputs(json_is_string(v) ? json_string_value(v) : "", f);
		return;
	}
	/* Several languages: each named, as a reader of one cell needs. */
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (json_is_string(t = json_object_get(v, langs[i])))
			fprintf(f, "%s%s: %s", n++ ? "; " : "", langs[i], json_string_value(t));
	json_object_foreach((json_t *)(uintptr_t)v, k, t)
	{
		known = false;
		for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
			known |= strcmp(k, langs[i]) == 0;
		if (!known && json_is_string(t))
			fprintf(f, "%s%s: %s", n++ ? "; " : "", k, json_string_value(t));
	}
}

/* Any value in one line: scalars as JSON writes them, lists joined with "; ", objects k: v. */
static void flat_any(FILE *f, const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			fputs(i ? "; " : "", f);
			flat_any(f, e);
		}
	} else if (json_is_object(v) && json_object_get(v, "fr") == NULL &&
	           json_object_get(v, "en") == NULL && json_object_get(v, "ar") == NULL) {
		i = 0;
		json_object_foreach((json_t *)(uintptr_t)v, k, e)
		{
			fprintf(f, "%s%s: ", i++ ? ", " : "", k);
			flat_any(f, e);
		}
	} else if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", f);
	} else {
		flat_text(f, v);
	}
}

/* A string built by a FILE; the caller frees it. */
struct sbuf {
	char *s;
	size_t len;
	FILE *f;
};

static FILE *sbuf_open(struct sbuf *b)
{
	b->s = NULL;
	b->len = 0;
	return b->f = open_memstream(&b->s, &b->len);
}

static char *sbuf_close(struct sbuf *b)
{
	if (!b->f || fclose(b->f) != 0) {
		free(b->s);
		return strdup("");
	}
	return b->s;
}

/* What fn writes of v, as a string the caller frees ("" for no v). */
static char *built(void (*fn)(FILE *, const json_t *), const json_t *v)
{
	struct sbuf b;

	if (sbuf_open(&b) && v)
		fn(b.f, v);
	return sbuf_close(&b);
}

/* Every topic of a record, at any depth (priority areas, profile sections), each once. */
static void topics_of(const json_t *v, bool seen[static AG_TOPIC_COUNT])
{
	const char *k, *s;
	const struct ag_vocab *t;
	json_t *e;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, e) topics_of(e, seen);
	if (!json_is_object(v))
		return;
	json_object_foreach((json_t *)(uintptr_t)v, k, e)
	{
		if (strcmp(k, "topic") == 0 || strcmp(k, "topics") == 0) {
			for (i = 0; i < (json_is_array(e) ? json_array_size(e) : 1); i++)
				if ((s = json_string_value(json_is_array(e) ? json_array_get(e, i)
				                                            : e)) &&
				    (t = ag_topic_find(s, strlen(s))))
					seen[t - ag_topics] = true;
		} else {
			topics_of(e, seen);
		}
	}
}

/* The topics as keys ("housing; health") or as their labels. */
static void flat_topics(FILE *f, const json_t *body, bool labels)
{
	bool seen[AG_TOPIC_COUNT] = {false};
	int n = 0;

	topics_of(body, seen);
	for (size_t i = 0; i < AG_TOPIC_COUNT; i++)
		if (seen[i])
			fprintf(f, "%s%s", n++ ? (labels ? ", " : "; ") : "",
			        labels ? ag_topics[i].label : ag_topics[i].key);
}

static const json_t *first_of(const json_t *body, const char *const *keys)
{
	const json_t *v;

	for (; *keys; keys++)
		if ((v = json_object_get(body, *keys)))
			return v;
	return NULL;
}

static const char *const title_keys[] = {"title", "name", "city", NULL};
static const char *const summary_keys[] = {"summary", "text", "notes", NULL};

/* year, date, or start/end, as the type has it. */
static void flat_date(FILE *f, const json_t *body)
{
	const json_t *start = json_object_get(body, "start"), *end = json_object_get(body, "end");

	if (json_object_get(body, "year"))
		flat_any(f, json_object_get(body, "year"));
	else if (json_object_get(body, "date"))
		flat_any(f, json_object_get(body, "date"));
	else if (start || end)
		fprintf(f, "%s/%s", json_is_string(start) ? json_string_value(start) : "",
		        json_is_string(end) ? json_string_value(end) : "");
}

static void utc_time(char *buf, size_t len, const struct ag_ctl_record *r, const char *fmt)
{
	time_t s = (time_t)(r->timestamp / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "-");
}

/* ---- json ---- */

static int export_json(FILE *f, const struct fetch_rec *recs, size_t n)
{
	json_t *doc = json_object(), *arr = json_array(), *o;
	char when[32];
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct ag_ctl_record *r = &recs[i].r;

		utc_time(when, sizeof(when), r, "%Y-%m-%dT%H:%M:%SZ");
		o = json_pack("{s:o, s:s, s:s, s:s, s:I, s:s, s:I, s:O}", "city",
		              r->name[0] ? json_string(r->name) : json_null(), "author", r->author,
		              "type", r->type, "id", r->id, "seq", (json_int_t)r->seq, "time", when,
		              "timestamp", (json_int_t)r->timestamp, "body", recs[i].body);
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "count", json_integer((json_int_t)n));
	json_object_set_new(doc, "records", arr);
	rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(doc);
	return rc;
}

/* ---- csv ---- */

static void csv_cell(FILE *f, const char *s, bool last)
{
	text_csv_field(f, s ? s : "");
	fputs(last ? "\r\n" : ",", f);
}

/* A cell built by fn(f, body). */
static void csv_built(FILE *f, void (*fn)(FILE *, const json_t *), const json_t *v)
{
	char *s = built(fn, v);

	csv_cell(f, s, false);
	free(s);
}

static void flat_topic_keys(FILE *f, const json_t *body)
{
	flat_topics(f, body, false);
}

static int export_csv(FILE *f, const struct fetch_rec *recs, size_t n)
{
	static const char *const head[] = {"city",    "type", "id",      "title", "topics",
	                                   "summary", "date", "updated", "author"};
	char when[32];

	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		csv_cell(f, head[i], i + 1 == sizeof(head) / sizeof(head[0]));
	for (size_t i = 0; i < n; i++) {
		const struct ag_ctl_record *r = &recs[i].r;
		const json_t *body = recs[i].body;

		csv_cell(f, city_name(r), false);
		csv_cell(f, r->type, false);
		csv_cell(f, r->id, false);
		csv_built(f, flat_text, first_of(body, title_keys));
		csv_built(f, flat_topic_keys, body);
		csv_built(f, flat_text, first_of(body, summary_keys));
		csv_built(f, flat_date, body);
		utc_time(when, sizeof(when), r, "%Y-%m-%d %H:%M:%S");
		csv_cell(f, when, false);
		csv_cell(f, r->author, true);
	}
	return 0;
}

/* ---- markdown ---- */

/* v flattened by fn, then escaped for Markdown. */
static void md_built(FILE *f, void (*fn)(FILE *, const json_t *), const json_t *v, bool cell)
{
	char *s = built(fn, v);

	text_md(f, s, cell);
	free(s);
}

static void md_label(FILE *f, const char *name)
{
	char lab[80];

	snprintf(lab, sizeof(lab), "%s", name);
	for (char *p = lab; *p; p++)
		*p = *p == '_' ? ' ' : *p;
	if (lab[0] >= 'a' && lab[0] <= 'z')
		lab[0] = (char)(lab[0] - 'a' + 'A');
	fputs(lab, f);
}

/* Long text: its own paragraphs, each language's labelled. */
static void md_paragraphs(FILE *f, const char *name, const json_t *v)
{
	const char *k;
	json_t *t;

	fputs("**", f);
	md_label(f, name);
	fputs("**\n\n", f);
	if (!json_is_object(v)) {
		md_built(f, flat_any, v, false);
		fputs("\n\n", f);
		return;
	}
	json_object_foreach((json_t *)(uintptr_t)v, k, t)
	{
		fprintf(f, "*%s:* ", k);
		md_built(f, flat_any, t, false);
		fputs("\n\n", f);
	}
}

/* A list of groups of fields is a table unless they nest lists or groups of their own. */
static bool md_tabular(const struct ag_field *elem)
{
	if (!elem || elem->kind != AG_F_OBJECT)
		return false;
	for (const struct ag_field *f = elem->sub; f->name; f++)
		if (f->kind == AG_F_LIST || f->kind == AG_F_OBJECT)
			return false;
	return true;
}

static void md_table(FILE *f, const struct ag_field *elem, const json_t *arr)
{
	const struct ag_field *c;
	json_t *item;
	size_t i;

	fputs("| # |", f);
	for (c = elem->sub; c->name; c++) {
		fputc(' ', f);
		md_label(f, c->name);
		fputs(" |", f);
	}
	fputs("\n| --- |", f);
	for (c = elem->sub; c->name; c++)
		fputs(" --- |", f);
	fputc('\n', f);
	json_array_foreach(arr, i, item)
	{
		fprintf(f, "| %zu |", i + 1);
		for (c = elem->sub; c->name; c++) {
			fputc(' ', f);
			md_built(f, flat_any, json_object_get(item, c->name), true);
			fputs(" |", f);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void md_list(FILE *f, const char *name, const struct ag_field *elem, const json_t *arr)
{
	json_t *item;
	size_t i;

	fputs("**", f);
	md_label(f, name);
	fputs("**\n\n", f);
	if (md_tabular(elem)) {
		md_table(f, elem, arr);
		return;
	}
	json_array_foreach(arr, i, item)
	{
		fprintf(f, "%zu. ", i + 1);
		md_built(f, flat_any, item, true);
		fputc('\n', f);
	}
	fputc('\n', f);
}

static bool md_long(const struct ag_field *f, const json_t *v)
{
	return f ? f->kind == AG_F_TEXT && f->max > 300
	         : json_is_string(v) && json_string_length(v) > 300;
}

/* Topics or stakeholders by their labels, "hébergement / housing, santé / health". */
static void flat_vocab(FILE *f, const json_t *arr, bool topics)
{
	const struct ag_vocab *w;
	const char *k;
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		k = json_string_value(e);
		w = !k       ? NULL
		    : topics ? ag_topic_find(k, strlen(k))
		             : ag_stakeholder_find(k, strlen(k));
		fprintf(f, "%s%s", i ? ", " : "", w ? w->label : k ? k : "?");
	}
}

static void flat_stakeholders(FILE *f, const json_t *arr)
{
	flat_vocab(f, arr, false);
}

/* What this release's schema does not know: "- **Label** (from a newer version of agora): `raw`".
 */
static void md_raw(FILE *f, const char *k, const json_t *v)
{
	char *raw = rec_raw(v);

	fputs("- **", f);
	md_label(f, k);
	fprintf(f, "** %s: `%s`\n", REC_NEWER, raw ? raw : "?");
	free(raw);
}

/* One field, in the pass it belongs to: 0 the short ones as bullets, 1 lists and long text. */
static void md_field(FILE *f, int pass, const char *k, const struct ag_field *fd, const json_t *v)
{
	bool vocab = fd && (fd->kind == AG_F_STAKEHOLDERS || fd->kind == AG_F_TOPICS);

	if (!strcmp(k, "title") || !strcmp(k, "topics") || !strcmp(k, "topic"))
		return;
	if (!rec_laid_out(fd, v)) {
		if (pass == 0)
			md_raw(f, k, v);
		return;
	}
	if (pass == 0 && ((!json_is_array(v) && !md_long(fd, v)) || vocab)) {
		fputs("- **", f);
		md_label(f, k);
		fputs(":** ", f);
		md_built(f, vocab ? flat_stakeholders : flat_any, v, true);
		fputc('\n', f);
	} else if (pass == 1 && json_is_array(v) && !vocab) {
		md_list(f, k, fd ? fd->sub : NULL, v);
	} else if (pass == 1 && md_long(fd, v)) {
		md_paragraphs(f, k, v);
	}
}

/* The fields other than title and topics, in the schema's order, then any it does not know. */
static void md_fields(FILE *f, const struct ag_schema *schema, const json_t *body)
{
	const struct ag_field *fields = schema ? schema->fields : NULL, *fd;
	const char *k;
	json_t *v;

	for (int pass = 0; pass < 2; pass++) {
		for (fd = fields; fd && fd->name; fd++)
			if ((v = json_object_get(body, fd->name)))
				md_field(f, pass, fd->name, fd, v);
		json_object_foreach((json_t *)(uintptr_t)body, k, v)
		{
			for (fd = fields; fd && fd->name && strcmp(fd->name, k) != 0; fd++)
				;
			if (!(fd && fd->name))
				md_field(f, pass, k, NULL, v);
		}
		fputc('\n', f);
	}
}

static void flat_topic_labels(FILE *f, const json_t *body)
{
	flat_topics(f, body, true);
}

static void md_record(FILE *f, const struct fetch_rec *rec)
{
	const struct ag_ctl_record *r = &rec->r;
	const json_t *body = rec->body, *title = first_of(body, title_keys);
	char when[32];

	fputs("#### ", f);
	if (title)
		md_built(f, flat_text, title, true);
	else
		text_md(f, r->id, true);
	utc_time(when, sizeof(when), r, "%Y-%m-%d %H:%M UTC");
	fputs("\n\n- **Id:** ", f);
	text_md(f, r->id, true);
	fprintf(f, " (version %llu, %s)\n- **Topics:** ", (unsigned long long)r->seq, when);
	md_built(f, flat_topic_labels, body, true);
	fputc('\n', f);
	md_fields(f, ag_schema_find(r->type), body);
}

static int export_md(FILE *f, const struct fetch_rec *recs, size_t n)
{
	const char *city = NULL, *author = NULL, *type = NULL;
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	fprintf(f, "# The network's knowledge\n\nExported %s: %zu record%s.\n\n", when, n,
	        n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const char *a = recs[i].r.author, *t = recs[i].r.type;

		if (!author || strcmp(author, a) != 0) {
			city = city_name(&recs[i].r);
			author = a;
			type = NULL;
			fputs("## ", f);
			text_md(f, city, true);
			fputs("\n\n", f);
		}
		if (!type || strcmp(type, t) != 0) {
			type = t;
			fputs("### ", f);
			text_md(f, type, true);
			fputs("\n\n", f);
		}
		md_record(f, &recs[i]);
	}
	return 0;
}

/* ---- the command ---- */

static int parse_format(const struct args *a, enum format *fmt)
{
	static const char *const names[] = {"json", "csv", "md"};
	const char *s = a->opt[OPT_FORMAT];

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*fmt = (enum format)i;
			return 0;
		}
	if (!s)
		return cmd_fail(a, EXIT_REFUSED, "missing --format (json, csv or md)");
	return cmd_fail(a, EXIT_REFUSED, "unknown --format \"%s\" (one of: json, csv, md)", s);
}

/*
 * The export on stdout: exact to a file or a pipe, as a spreadsheet or a
 * script reads it; cleaned (out_clean, lines kept) to a terminal, which a
 * CSV or Markdown of other cities' text would otherwise drive. JSON is exact
 * everywhere, as --json is.
 */
static int write_stdout(int (*fn)(FILE *, const struct fetch_rec *, size_t), enum format fmt,
                        const struct fetch_rec *recs, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	if (fmt == FMT_JSON || !isatty(fileno(out_file())))
		return fn(out_file(), recs, n);
	if (!(mem = open_memstream(&buf, &len)))
		return -1;
	rc = fn(mem, recs, n);
	rc |= fclose(mem);
	if (rc == 0)
		out_put(buf, len, OUT_LINES);
	free(buf);
	return rc;
}

/* Writes to FILE.part, renamed to FILE once whole, so a failed export leaves no half file. */
static int write_out(const struct args *a, enum format fmt, const struct fetch_rec *recs, size_t n)
{
	static int (*const fns[])(FILE *, const struct fetch_rec *,
	                          size_t) = {export_json, export_csv, export_md};
	const char *path = a->opt[OPT_OUTPUT];
	char tmp[4200];
	FILE *f = out_file();
	int rc;

	if (path) {
		snprintf(tmp, sizeof(tmp), "%s.part", path);
		if (strlen(path) > 4000)
			return cmd_fail(a, EXIT_REFUSED, "cannot write %s: name too long", path);
		if (!(f = out_part_open(tmp)))
			return cmd_fail(a, EXIT_REFUSED, "cannot write %s: %s", tmp,
			                out_part_strerror(errno));
	}
	rc = path ? fns[fmt](f, recs, n) : write_stdout(fns[fmt], fmt, recs, n);
	if (!path)
		return rc ? cmd_fail(a, EXIT_LOCAL, "cannot write the output") : 0;
	rc |= ferror(f);
	rc |= fclose(f);
	if (rc != 0 || rename(tmp, path) != 0) {
		rc = cmd_fail(a, EXIT_REFUSED, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (!a->json)
		return 0;
	return cmd_json(json_pack("{s:s, s:I}", "output", path, "count", (json_int_t)n));
}

int cmd_export(const struct args *a)
{
	enum format fmt = FMT_JSON;
	struct fetch_recs all;
	int rc;

	if ((rc = parse_format(a, &fmt)) != 0)
		return rc;
	if (a->opt[OPT_TYPE] && (rc = cmd_check_type(a, a->opt[OPT_TYPE])) != 0)
		return rc;
	if ((rc = gather(a, &all)) == 0)
		rc = write_out(a, fmt, all.v, all.n);
	fetch_recs_clear(&all);
	return rc;
}
