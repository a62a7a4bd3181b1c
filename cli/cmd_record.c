/* cmd_record.c: the records' commands: put, get, list, search, retract, history, log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "entry.h"
#include "rec.h"
#include "schema.h"
#include "snippet.h"
#include "stem.h"

/* What a person would call a record: its title, or what stands for one in its type. */
static const char *record_title(const json_t *body)
{
	static const char *const keys[] = {"title", "name", "city", "text", "summary"};
	const char *t;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((t = rec_text_pick(json_object_get(body, keys[i]))))
			return t;
	return "";
}

static const char *city_of(const json_t *rec, char *buf, size_t len)
{
	if (rec_str(rec, "name"))
		return rec_str(rec, "name");
	out_short(buf, len, rec_str(rec, "author") ? rec_str(rec, "author") : "-", 10);
	return buf;
}

/* ---- put and retract ---- */

/* Reads the JSON document; a syntax error is told as FILE:LINE:COL. */
static json_t *read_document(const struct args *a, const char *file, int *rc)
{
	const char *name = file && strcmp(file, "-") != 0 ? file : NULL;
	json_error_t e;
	json_t *doc;
	FILE *f = name ? fopen(name, "r") : stdin;

	*rc = EXIT_REFUSED;
	if (!f) {
		cmd_fail(a, EXIT_REFUSED, "cannot read %s: %s", name, strerror(errno));
		return NULL;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
	if (name)
		fclose(f);
	if (!doc) {
		/* jansson names its flag; a user needs to know what is wrong, not how to allow it.
		 */
		if (strstr(e.text, "JSON_ALLOW_NUL"))
			snprintf(e.text, sizeof(e.text), "\\u0000 is not allowed in text");
		out_err("%s:%d:%d: %s", name ? name : "stdin", e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		cmd_fail(a, EXIT_REFUSED, "%s: a record is a JSON object ({...}), not %s",
		         name ? name : "stdin", json_is_array(doc) ? "an array" : "a value");
		json_decref(doc);
		return NULL;
	}
	*rc = 0;
	return doc;
}

/* "put practice x: why": the same words whether agora or agorad refused the record. */
static int put_refused(const struct args *a, const char *why)
{
	out_err("%s %s %s: %s", a->cmd->name, a->pos[0], a->pos[1], why);
	return EXIT_REFUSED;
}

/* The body as canonical msgpack, checked as an entry will check it: nesting, size, schema. */
static int check_body(const struct args *a, const json_t *body, const char *file)
{
	char why[300];

	switch (rec_body_check(a->pos[0], a->pos[1], body, why, sizeof(why))) {
	case REC_EBODY:
		return cmd_fail(a, EXIT_REFUSED, "%s: %s",
		                file && strcmp(file, "-") != 0 ? file : "stdin", why);
	case REC_ESCHEMA:
		return put_refused(a, why);
	default:
		return 0;
	}
}

/* TYPE and ID; reading takes a type a newer release made, writing only this release's. */
static int check_type_id(const struct args *a, bool reading)
{
	int rc;

	if ((rc = (reading ? cmd_check_read_type : cmd_check_type)(a, a->pos[0])) != 0)
		return rc;
	if (ag_recid_check(a->pos[1], strlen(a->pos[1])) != 0)
		return cmd_fail(a, EXIT_REFUSED,
		                "bad record id \"%s\": 1 to %d bytes without control characters",
		                a->pos[1], AG_ID_MAX);
	return 0;
}

static int print_published(const struct args *a, json_t *resp, const char *what)
{
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	out_printf("%s %s %s: seq %lld, hash %s\n", what, a->pos[0], a->pos[1],
	           (long long)json_integer_value(json_object_get(resp, "seq")),
	           rec_str(resp, "hash") ? rec_str(resp, "hash") : "-");
	json_decref(resp);
	return 0;
}

int cmd_put(const struct args *a)
{
	json_t *body, *req, *resp;
	char err[800];
	int rc;

	if ((rc = check_type_id(a, false)) != 0)
		return rc;
	if (!(body = read_document(a, a->opt[OPT_FILE], &rc)))
		return rc;
	if ((rc = check_body(a, body, a->opt[OPT_FILE])) != 0) {
		json_decref(body);
		return rc;
	}
	req = json_pack("{s:s, s:s, s:o}", "type", a->pos[0], "id", a->pos[1], "body", body);
	if (a->opt[OPT_FORCE])
		json_object_set_new(req, "force", json_true());
	if ((rc = cmd_ask(a, AG_CTL_PUT, req, &resp, err, sizeof(err))) == EXIT_REFUSED)
		return put_refused(a, err);
	if (rc != 0)
		return cmd_report(a, rc, err);
	return print_published(a, resp, "published");
}

/* A request for TYPE ID of this node, with --force if given. */
static json_t *own_request(const struct args *a)
{
	json_t *req = json_pack("{s:s, s:s}", "type", a->pos[0], "id", a->pos[1]);

	if (a->opt[OPT_FORCE])
		json_object_set_new(req, "force", json_true());
	return req;
}

/*
 * Publishes the purge of every version of TYPE ID that still has a body
 * here, once the record is retracted: its id is the retraction's seq.
 */
static int retract_purge(const struct args *a)
{
	json_t *resp, *v, *seqs = json_array(), *req;
	json_int_t last = 0;
	char id[24];
	size_t i;
	int rc;

	req = json_pack("{s:s, s:s}", "type", a->pos[0], "id", a->pos[1]);
	if ((rc = cmd_call(a, AG_CTL_HISTORY, req, &resp)) != 0) {
		json_decref(seqs);
		return rc;
	}
	json_array_foreach(json_object_get(resp, "versions"), i, v)
	{
		const char *state = rec_str(v, "state");
		json_int_t seq = json_integer_value(json_object_get(v, "seq"));

		last = seq;
		if (state && (strcmp(state, "live") == 0 || strcmp(state, "missing") == 0))
			json_array_append_new(seqs, json_integer(seq));
	}
	json_decref(resp);
	if (json_array_size(seqs) == 0) {
		json_decref(seqs);
		return cmd_fail(a, EXIT_REFUSED, "%s %s has no body left to purge", a->pos[0],
		                a->pos[1]);
	}
	snprintf(id, sizeof(id), "%lld", (long long)last);
	req = own_request(a);
	json_object_set_new(req, "type", json_string("purge"));
	json_object_set_new(req, "id", json_string(id));
	json_object_set_new(req, "body", json_pack("{s:o}", "seqs", seqs));
	if ((rc = cmd_call(a, AG_CTL_PUT, req, &resp)) != 0)
		return rc;
	return print_published(a, resp, "purged");
}

int cmd_retract(const struct args *a)
{
	json_t *resp;
	char err[800];
	int rc;

	if ((rc = check_type_id(a, false)) != 0)
		return rc;
	rc = cmd_ask(a, AG_CTL_RETRACT, own_request(a), &resp, err, sizeof(err));
	/* --purge goes on for a record retracted already: its bodies may remain. */
	if (rc == EXIT_NOTFOUND && a->opt[OPT_PURGE] && strstr(err, "to retract"))
		return retract_purge(a);
	if (rc != 0)
		return cmd_report(a, rc, err);
	if (!a->opt[OPT_PURGE])
		return print_published(a, resp, "retracted");
	if (!a->json)
		print_published(a, json_incref(resp), "retracted");
	json_decref(resp);
	return retract_purge(a);
}

/* ---- reading ---- */

/* Adds --city (and the other filters given) to a request. */
static void add_filters(const struct args *a, json_t *req)
{
	static const enum cmd_opt strs[] = {OPT_CITY, OPT_TOPIC, OPT_TYPE, OPT_LANG};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (a->opt[strs[i]])
			json_object_set_new(req, cmd_opt_name(strs[i]),
			                    json_string(a->opt[strs[i]]));
}

static int check_filters(const struct args *a, uint64_t *limit)
{
	int rc = 0;

	*limit = 0;
	if (a->opt[OPT_TYPE])
		rc = cmd_check_type(a, a->opt[OPT_TYPE]);
	if (rc == 0 && a->opt[OPT_TOPIC])
		rc = cmd_check_topic(a, a->opt[OPT_TOPIC]);
	if (rc == 0 && a->opt[OPT_LIMIT])
		rc = cmd_uint(a, OPT_LIMIT, limit);
	if (rc == 0 && a->opt[OPT_LANG] &&
	    ag_lang_of(a->opt[OPT_LANG], strlen(a->opt[OPT_LANG])) == AG_LANG_NONE)
		rc = cmd_fail(a, 2, "unknown language \"%s\" (ar, en, es, fr or it)",
		              a->opt[OPT_LANG]);
	if (rc == 0 && a->opt[OPT_CITY] && strlen(a->opt[OPT_CITY]) > AG_CTL_CITY_MAX)
		rc = cmd_fail(a, EXIT_NOTFOUND, "no city known as %s", a->opt[OPT_CITY]);
	return rc;
}

/* What this release's schema does not know of the record, which the body below shows raw. */
static void print_newer(const json_t *rec)
{
	const char *type = rec_str(rec, "type");
	char *names;

	if (!ag_schema_find(type ? type : "")) {
		out_printf("newer  type %s %s\n", type ? type : "-", REC_NEWER);
		return;
	}
	if ((names = rec_newer_fields(type, json_object_get(rec, "body"))) && *names)
		out_printf("newer  %s %s\n", names, REC_NEWER);
	free(names);
}

static void print_record(const json_t *rec)
{
	char when[32], city[64];
	char *body = json_dumps(json_object_get(rec, "body"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	out_time(when, sizeof(when),
	         (uint64_t)json_integer_value(json_object_get(rec, "timestamp")));
	out_printf("%s %s\n", rec_str(rec, "type"), rec_str(rec, "id"));
	out_printf("city   %s  %s\n", city_of(rec, city, sizeof(city)), rec_str(rec, "author"));
	out_printf("seq    %lld, %s\n", (long long)json_integer_value(json_object_get(rec, "seq")),
	           when);
	out_printf("hash   %s\n", rec_str(rec, "hash"));
	print_newer(rec);
	out_printf("%s\n", body ? body : "");
	free(body);
}

int cmd_get(const struct args *a)
{
	json_t *req, *resp, *rec;
	uint64_t limit;
	int rc;

	if ((rc = check_type_id(a, true)) != 0 || (rc = check_filters(a, &limit)) != 0)
		return rc;
	req = json_pack("{s:s, s:s}", "type", a->pos[0], "id", a->pos[1]);
	add_filters(a, req);
	if ((rc = cmd_call(a, AG_CTL_GET, req, &resp)) != 0)
		return rc;
	rec = json_incref(json_object_get(resp, "record"));
	json_decref(resp);
	if (a->json)
		return cmd_json(rec);
	print_record(rec);
	json_decref(rec);
	return 0;
}

static void print_records(const json_t *recs, bool more)
{
	static const char *const head[] = {"TYPE", "ID", "CITY", "SEQ", "UPDATED", "TITLE"};
	struct table *t = table_new(6, head);
	char when[32], seq[24], city[64];
	size_t i;
	json_t *r;

	if (!t)
		return;
	table_limit(t, 1, 32);
	table_limit(t, 5, 60);
	json_array_foreach(recs, i, r)
	{
		const char *row[6] = {rec_str(r, "type"),
		                      rec_str(r, "id"),
		                      city_of(r, city, sizeof(city)),
		                      seq,
		                      when,
		                      record_title(json_object_get(r, "body"))};

		snprintf(seq, sizeof(seq), "%lld",
		         (long long)json_integer_value(json_object_get(r, "seq")));
		out_time(when, sizeof(when),
		         (uint64_t)json_integer_value(json_object_get(r, "timestamp")));
		table_add(t, row);
	}
	if (table_rows(t) == 0)
		out_printf("no records\n");
	else
		table_print(t);
	if (more)
		out_printf("(more records match: use --limit N, or narrow with --type, --city or "
		           "--topic)\n");
	table_free(t);
}

/* A search's hits, ranked, each with its best snippet. */
static void print_hits(const json_t *recs, const char *text, bool more)
{
	int bold = isatty(fileno(out_file()));
	char when[32], city[64];
	size_t i;
	json_t *r;

	if (json_array_size(recs) == 0)
		out_printf("no records\n");
	json_array_foreach(recs, i, r)
	{
		json_t *sn = snippet_find(text, json_object_get(r, "body"));

		out_time(when, sizeof(when),
		         (uint64_t)json_integer_value(json_object_get(r, "timestamp")));
		out_printf("%s %s  %s  %s  %s\n", rec_str(r, "type"), rec_str(r, "id"),
		           city_of(r, city, sizeof(city)), when,
		           record_title(json_object_get(r, "body")));
		if (sn)
			snippet_print(sn, bold);
		json_decref(sn);
	}
	if (more)
		out_printf("(more records match: use --limit N, or narrow with --type, --city, "
		           "--topic or --lang)\n");
}

/* Each hit's best snippet, for --json. */
static void add_snippets(json_t *recs, const char *text)
{
	size_t i;
	json_t *r;

	json_array_foreach(recs, i, r)
	{
		json_t *sn = snippet_find(text, json_object_get(r, "body"));

		json_object_set_new(r, "snippet", sn ? sn : json_null());
	}
}

/* LIST and SEARCH (text not NULL): the same request but for the text, the same answer. */
static int records_query(const struct args *a, unsigned type, json_t *req, const char *text)
{
	json_t *resp;
	uint64_t limit;
	int rc;

	if ((rc = check_filters(a, &limit)) != 0) {
		json_decref(req);
		return rc;
	}
	add_filters(a, req);
	if (limit)
		json_object_set_new(req, "limit", json_integer((json_int_t)limit));
	if ((rc = cmd_call(a, type, req, &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		if (text)
			add_snippets(json_object_get(resp, "records"), text);
		return cmd_json(resp);
	}
	if (text)
		print_hits(json_object_get(resp, "records"), text,
		           json_is_true(json_object_get(resp, "more")));
	else
		print_records(json_object_get(resp, "records"),
		              json_is_true(json_object_get(resp, "more")));
	json_decref(resp);
	return 0;
}

int cmd_list(const struct args *a)
{
	json_t *req = json_object();
	int rc;

	if (a->npos == 1 && a->opt[OPT_TYPE] && strcmp(a->pos[0], a->opt[OPT_TYPE]) != 0) {
		json_decref(req);
		return cmd_fail(a, EXIT_REFUSED, "two types given: %s and --type %s", a->pos[0],
		                a->opt[OPT_TYPE]);
	}
	if (a->npos == 1) {
		if ((rc = cmd_check_type(a, a->pos[0])) != 0) {
			json_decref(req);
			return rc;
		}
		json_object_set_new(req, "type", json_string(a->pos[0]));
	}
	return records_query(a, AG_CTL_LIST, req, NULL);
}

int cmd_search(const struct args *a)
{
	if (strlen(a->pos[0]) > AG_CTL_TEXT_MAX)
		return cmd_fail(a, EXIT_REFUSED, "search text of %zu bytes, over the limit of %d",
		                strlen(a->pos[0]), AG_CTL_TEXT_MAX);
	return records_query(a, AG_CTL_SEARCH, json_pack("{s:s}", "text", a->pos[0]), a->pos[0]);
}

/* A version's state as agorad gives it (live, retracted, purged, missing). */
static const char *version_state(const json_t *v)
{
	const char *s = rec_str(v, "state");

	if (s)
		return s;
	return json_is_null(json_object_get(v, "body")) ? "retracted" : "live";
}

int cmd_history(const struct args *a)
{
	static const char *const head[] = {"SEQ", "TIME", "STATE", "HASH"};
	json_t *req, *resp, *v;
	struct table *t;
	char when[32], seq[24];
	uint64_t limit;
	size_t i;
	int rc;

	if ((rc = check_type_id(a, true)) != 0 || (rc = check_filters(a, &limit)) != 0)
		return rc;
	req = json_pack("{s:s, s:s}", "type", a->pos[0], "id", a->pos[1]);
	add_filters(a, req);
	if ((rc = cmd_call(a, AG_CTL_HISTORY, req, &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	if ((t = table_new(4, head))) {
		json_array_foreach(json_object_get(resp, "versions"), i, v)
		{
			const char *row[4] = {seq, when, version_state(v), rec_str(v, "hash")};

			snprintf(seq, sizeof(seq), "%lld",
			         (long long)json_integer_value(json_object_get(v, "seq")));
			out_time(when, sizeof(when),
			         (uint64_t)json_integer_value(json_object_get(v, "timestamp")));
			table_add(t, row);
		}
		table_print(t);
		table_free(t);
	}
	json_decref(resp);
	return 0;
}

/* ---- log ---- */

/* Asks page after page from since on, until the head or the limit; *all gets the entries. */
static int log_fetch(const struct args *a, uint64_t since, uint64_t limit, json_t *all)
{
	json_t *req, *resp, *next;
	int rc;

	for (;;) {
		req = json_pack("{s:I}", "since", (json_int_t)since);
		add_filters(a, req);
		if (limit)
			json_object_set_new(
			    req, "limit", json_integer((json_int_t)(limit - json_array_size(all))));
		if ((rc = cmd_call(a, AG_CTL_LOG, req, &resp)) != 0)
			return rc;
		json_array_extend(all, json_object_get(resp, "entries"));
		next = json_object_get(resp, "next");
		since = json_is_integer(next) ? (uint64_t)json_integer_value(next) : 0;
		json_decref(resp);
		if (since == 0 || (limit && json_array_size(all) >= limit))
			return 0;
	}
}

static void print_log(const json_t *entries)
{
	static const char *const head[] = {"SEQ", "TIME", "TYPE", "ID", "STATE", "HASH"};
	struct table *t = table_new(6, head);
	char when[32], seq[24], hash[24];
	size_t i;
	json_t *e;

	if (!t)
		return;
	table_limit(t, 3, 32);
	json_array_foreach(entries, i, e)
	{
		const char *row[6] = {
		    seq, when, rec_str(e, "type"), rec_str(e, "id"), version_state(e), hash};

		snprintf(seq, sizeof(seq), "%lld",
		         (long long)json_integer_value(json_object_get(e, "seq")));
		out_time(when, sizeof(when),
		         (uint64_t)json_integer_value(json_object_get(e, "timestamp")));
		out_short(hash, sizeof(hash), rec_str(e, "hash") ? rec_str(e, "hash") : "-", 16);
		table_add(t, row);
	}
	if (table_rows(t) == 0)
		out_printf("no entries\n");
	else
		table_print(t);
	table_free(t);
}

int cmd_log(const struct args *a)
{
	uint64_t since = 1, limit = 0;
	json_t *all;
	int rc;

	if ((rc = check_filters(a, &limit)) != 0)
		return rc;
	if (a->opt[OPT_SINCE] && (rc = cmd_uint(a, OPT_SINCE, &since)) != 0)
		return rc;
	if (!(all = json_array()))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if ((rc = log_fetch(a, since ? since : 1, limit, all)) != 0) {
		json_decref(all);
		return rc;
	}
	if (a->json)
		return cmd_json(json_pack("{s:o}", "entries", all));
	print_log(all);
	json_decref(all);
	return 0;
}
