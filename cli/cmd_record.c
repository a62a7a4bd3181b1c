/* cmd_record.c: the records' commands: put, get, list, search, retract, history, log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "ctlj.h"
#include "entry.h"
#include "fetch.h"
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

static const char *city_of(const struct ag_ctl_record *r, char *buf, size_t len)
{
	if (r->name[0])
		return r->name;
	out_short(buf, len, r->author, 10);
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

/* The body as canonical msgpack (*mp), checked as an entry will check it: nesting, size, schema. */
static int encode_body(const struct args *a, const json_t *body, const char *file, uint8_t **mp,
                       size_t *len)
{
	char why[300];

	switch (rec_body_encode(a->pos[0], a->pos[1], body, mp, len, why, sizeof(why))) {
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

int cmd_put(const struct args *a)
{
	uint8_t *mp = NULL;
	size_t len = 0;
	json_t *body;
	int rc;

	if ((rc = check_type_id(a, false)) != 0)
		return rc;
	if (!(body = read_document(a, a->opt[OPT_FILE], &rc)))
		return rc;
	rc = encode_body(a, body, a->opt[OPT_FILE], &mp, &len);
	json_decref(body);
	if (rc == 0)
		rc = rec_put(a, a->pos[0], a->pos[1], mp, len, a->opt[OPT_FORCE], put_refused);
	free(mp);
	return rc;
}

/* A request of rtype for type id, with force: 0, or the exit status printed. */
static int own_request(const struct args *a, unsigned rtype, const char *type, const char *id,
                       bool force, struct ag_ctl_req *req)
{
	int rc;

	ag_ctl_req_init(req, rtype);
	if ((rc = cmd_req_set(a, req, AG_CTL_F_TYPE, type)) != 0 ||
	    (rc = cmd_req_set(a, req, AG_CTL_F_ID, id)) != 0)
		return rc;
	req->force = force;
	req->fields |= force ? AG_CTL_F_FORCE : 0;
	return 0;
}

/*
 * The purge's body: the seqs of the versions of TYPE ID that still have a
 * body here, and in *last the seq of the newest version (the retraction).
 */
static int purge_body(const struct args *a, json_t **body, uint64_t *last)
{
	struct ag_ctl_history h;
	struct ag_ctl_req req;
	json_t *seqs;
	int rc;

	if ((rc = own_request(a, AG_CTL_HISTORY, a->pos[0], a->pos[1], false, &req)) != 0 ||
	    (rc = cmd_call(a, &req, &h)) != 0)
		return rc;
	seqs = json_array();
	for (size_t i = 0; seqs && i < h.nversions; i++) {
		const struct ag_ctl_record *v = &h.versions[i];

		*last = v->seq;
		if (strcmp(v->state, "live") == 0 || strcmp(v->state, "missing") == 0)
			json_array_append_new(seqs, json_integer((json_int_t)v->seq));
	}
	ag_ctl_resp_clear(&ag_ctl_history_shape, &h);
	if (!seqs || !(*body = json_pack("{s:o}", "seqs", seqs)))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if (json_array_size(seqs) == 0) {
		json_decref(*body);
		return cmd_fail(a, EXIT_REFUSED, "%s %s has no body left to purge", a->pos[0],
		                a->pos[1]);
	}
	return 0;
}

/* "purged TYPE ID: seq N, hash H" names the record purged, as retract's line does. */
static int print_purged(const struct args *a, struct ag_ctl_published *pub)
{
	if (!a->json) {
		snprintf(pub->type, sizeof(pub->type), "%s", a->pos[0]);
		snprintf(pub->id, sizeof(pub->id), "%s", a->pos[1]);
	}
	return rec_print_published(a, pub, "purged");
}

/*
 * Publishes the purge of every version of TYPE ID that still has a body
 * here, once the record is retracted: its id is the retraction's seq.
 */
static int retract_purge(const struct args *a)
{
	struct ag_ctl_published pub;
	struct ag_ctl_req req;
	uint64_t last = 0;
	uint8_t *mp = NULL;
	size_t len;
	json_t *body;
	char id[24], err[800];
	int rc;

	if ((rc = purge_body(a, &body, &last)) != 0)
		return rc;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)last);
	rc = rec_body_encode("purge", id, body, &mp, &len, err, sizeof(err));
	json_decref(body);
	if (rc != 0)
		return cmd_fail(a, EXIT_REFUSED, "purge %s: %s", id, err);
	if ((rc = own_request(a, AG_CTL_PUT, "purge", id, a->opt[OPT_FORCE], &req)) == 0) {
		req.body = mp;
		req.body_len = len;
		req.fields |= AG_CTL_F_BODY;
		rc = cmd_ask(a, &req, &pub, err, sizeof(err));
		rc = rc ? cmd_report(a, rc, err) : print_purged(a, &pub);
	}
	free(mp);
	return rc;
}

int cmd_retract(const struct args *a)
{
	struct ag_ctl_published pub;
	struct ag_ctl_req req;
	char err[800];
	int rc;

	if ((rc = check_type_id(a, false)) != 0 ||
	    (rc = own_request(a, AG_CTL_RETRACT, a->pos[0], a->pos[1], a->opt[OPT_FORCE], &req)) !=
	        0)
		return rc;
	rc = cmd_ask(a, &req, &pub, err, sizeof(err));
	/* --purge goes on for a record retracted already: its bodies may remain. */
	if (rc == EXIT_NOTFOUND && a->opt[OPT_PURGE] && strstr(err, "to retract"))
		return retract_purge(a);
	if (rc != 0)
		return cmd_report(a, rc, err);
	if (!a->opt[OPT_PURGE])
		return rec_print_published(a, &pub, "retracted");
	if (!a->json)
		rec_print_published(a, &pub, "retracted");
	return retract_purge(a);
}

/* ---- reading ---- */

/* Adds --city (and the other filters given that the request allows) to a request. */
static int add_filters(const struct args *a, struct ag_ctl_req *req)
{
	static const struct {
		enum cmd_opt opt;
		uint32_t bit;
	} filters[] = {{OPT_CITY, AG_CTL_F_CITY},
	               {OPT_TOPIC, AG_CTL_F_TOPIC},
	               {OPT_TYPE, AG_CTL_F_TYPE},
	               {OPT_LANG, AG_CTL_F_LANG}};
	int rc;

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (a->opt[filters[i].opt] && !(req->fields & filters[i].bit) &&
		    (rc = cmd_req_set(a, req, filters[i].bit, a->opt[filters[i].opt])) != 0)
			return rc;
	return 0;
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
static void print_newer(const struct ag_ctl_record *r, const json_t *body)
{
	char *names;

	if (!ag_schema_find(r->type)) {
		out_line("newer  type %s %s", r->type, REC_NEWER);
		return;
	}
	if ((names = rec_newer_fields(r->type, body)) && *names)
		out_line("newer  %s %s", names, REC_NEWER);
	free(names);
}

static void print_record(const struct ag_ctl_record *r, const json_t *body)
{
	char when[32], city[64];
	char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	out_time(when, sizeof(when), r->timestamp);
	out_line("%s %s", r->type, r->id);
	out_line("city   %s  %s", city_of(r, city, sizeof(city)), r->author);
	out_printf("seq    %llu, %s\n", (unsigned long long)r->seq, when);
	out_printf("hash   %s\n", r->hash);
	print_newer(r, body);
	out_printf("%s\n", text ? text : "");
	free(text);
}

int cmd_get(const struct args *a)
{
	struct rec rec;
	uint64_t limit;
	int rc;

	if ((rc = check_type_id(a, true)) != 0 || (rc = check_filters(a, &limit)) != 0)
		return rc;
	if ((rc = rec_get(a, a->pos[0], a->pos[1], a->opt[OPT_CITY], false, &rec)) == 0) {
		if (a->json)
			rc = cmd_json(rec_json(&rec));
		else
			print_record(&rec.got.record, rec.body);
	}
	rec_clear(&rec);
	return rc;
}

static void print_records(const struct ag_ctl_records *resp)
{
	static const char *const head[] = {"TYPE", "ID", "CITY", "SEQ", "UPDATED", "TITLE"};
	struct table *t = table_new(6, head);
	char when[32], seq[24], city[64];

	if (!t)
		return;
	table_limit(t, 1, 32);
	table_limit(t, 5, 60);
	for (size_t i = 0; i < resp->nrecords; i++) {
		const struct ag_ctl_record *r = &resp->records[i];
		json_t *body = rec_body_json(r);
		const char *row[6] = {r->type, r->id, city_of(r, city, sizeof(city)),
		                      seq,     when,  record_title(body)};

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->seq);
		out_time(when, sizeof(when), r->timestamp);
		table_add(t, row);
		json_decref(body);
	}
	if (table_rows(t) == 0)
		out_printf("no records\n");
	else
		table_print(t);
	if (resp->more)
		out_printf("(more records match: use --limit N, or narrow with --type, --city or "
		           "--topic)\n");
	table_free(t);
}

/* A search's hits, ranked, each with its best snippet. */
static void print_hits(const struct ag_ctl_records *resp, const char *text)
{
	int bold = isatty(fileno(out_file()));
	char when[32], city[64];

	if (resp->nrecords == 0)
		out_printf("no records\n");
	for (size_t i = 0; i < resp->nrecords; i++) {
		const struct ag_ctl_record *r = &resp->records[i];
		json_t *body = rec_body_json(r), *sn = snippet_find(text, body);

		out_time(when, sizeof(when), r->timestamp);
		out_line("%s %s  %s  %s  %s", r->type, r->id, city_of(r, city, sizeof(city)), when,
		         record_title(body));
		if (sn)
			snippet_print(sn, bold);
		json_decref(sn);
		json_decref(body);
	}
	if (resp->more)
		out_printf("(more records match: use --limit N, or narrow with --type, --city, "
		           "--topic or --lang)\n");
}

/* What search --json prints: the response, each hit (its one array's) with its best snippet. */
static json_t *hits_json(const struct ag_ctl_records *resp, const char *text)
{
	json_t *doc = ctlj_from(&ag_ctl_records_shape, resp), *hits = NULL, *v;
	const char *k;

	json_object_foreach(doc, k, v)
	{
		if (json_is_array(v))
			hits = v; /* its records, whose key ctl_resp.c's table alone names */
	}
	for (size_t i = 0; i < json_array_size(hits) && i < resp->nrecords; i++) {
		json_t *body = rec_body_json(&resp->records[i]), *sn = snippet_find(text, body);

		json_object_set_new(json_array_get(hits, i), "snippet", sn ? sn : json_null());
		json_decref(body);
	}
	return doc;
}

/*
 * Leaves the first max records of resp that are the network's knowledge (not
 * its plumbing, rec_plumbing), in their order, clearing the others; more is
 * set when some knowledge was cut. Returns how many resp held before.
 */
static size_t keep_knowledge(struct ag_ctl_records *resp, uint64_t max)
{
	size_t n = resp->nrecords, kept = 0;

	for (size_t i = 0; i < n; i++) {
		struct ag_ctl_record *r = &resp->records[i];

		if (rec_plumbing(r->type) || (max && kept == max)) {
			resp->more |= !rec_plumbing(r->type);
			ag_ctl_resp_clear(&ag_ctl_record_shape, r);
			continue;
		}
		if (kept != i)
			resp->records[kept] = *r; /* moved: what it points to goes with it */
		kept++;
	}
	resp->nrecords = kept;
	return n;
}

/*
 * LIST of the network's knowledge alone. agorad's limit counts every record,
 * so a listing of N that met plumbing among its newest asks again for as many
 * more as it met, until N are kept or no more are left.
 */
static int list_knowledge(const struct args *a, struct ag_ctl_req *req, uint64_t limit,
                          struct ag_ctl_records *resp)
{
	uint64_t ask = limit;
	size_t got;
	int rc;

	for (;;) {
		req->limit = ask;
		req->fields |= ask ? AG_CTL_F_LIMIT : 0;
		if ((rc = cmd_call(a, req, resp)) != 0)
			return rc;
		got = keep_knowledge(resp, limit);
		/* Cut short by the limit, not by the response's size: ask for those it met. */
		if (!limit || resp->nrecords >= limit || !resp->more || got < ask)
			return 0;
		ask += got - resp->nrecords;
		ag_ctl_resp_clear(&ag_ctl_records_shape, resp);
	}
}

/* LIST and SEARCH (text not NULL): the same request but for the text, the same answer. */
static int records_query(const struct args *a, struct ag_ctl_req *req, const char *text)
{
	struct ag_ctl_records resp;
	uint64_t limit;
	int rc;

	if ((rc = check_filters(a, &limit)) != 0 || (rc = add_filters(a, req)) != 0)
		return rc;
	/* list leaves the plumbing out unless a type or --all asks for it. */
	if (!text && !(req->fields & AG_CTL_F_TYPE) && !a->opt[OPT_ALL]) {
		rc = list_knowledge(a, req, limit, &resp);
	} else {
		req->limit = limit;
		req->fields |= limit ? AG_CTL_F_LIMIT : 0;
		rc = cmd_call(a, req, &resp);
	}
	if (rc != 0)
		return rc;
	if (a->json)
		rc = cmd_json(text ? hits_json(&resp, text)
		                   : ctlj_from(&ag_ctl_records_shape, &resp));
	else if (text)
		print_hits(&resp, text);
	else
		print_records(&resp);
	ag_ctl_resp_clear(&ag_ctl_records_shape, &resp);
	return rc;
}

int cmd_list(const struct args *a)
{
	struct ag_ctl_req req;
	int rc;

	if (a->npos == 1 && a->opt[OPT_TYPE] && strcmp(a->pos[0], a->opt[OPT_TYPE]) != 0)
		return cmd_fail(a, EXIT_REFUSED, "two types given: %s and --type %s", a->pos[0],
		                a->opt[OPT_TYPE]);
	ag_ctl_req_init(&req, AG_CTL_LIST);
	if (a->npos == 1 && ((rc = cmd_check_type(a, a->pos[0])) != 0 ||
	                     (rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, a->pos[0])) != 0))
		return rc;
	return records_query(a, &req, NULL);
}

int cmd_search(const struct args *a)
{
	struct ag_ctl_req req;
	int rc;

	if (strlen(a->pos[0]) > AG_CTL_TEXT_MAX)
		return cmd_fail(a, EXIT_REFUSED, "search text of %zu bytes, over the limit of %d",
		                strlen(a->pos[0]), AG_CTL_TEXT_MAX);
	ag_ctl_req_init(&req, AG_CTL_SEARCH);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TEXT, a->pos[0])) != 0)
		return rc;
	return records_query(a, &req, a->pos[0]);
}

/* A version's state as agorad gives it (live, retracted, purged, missing). */
static const char *version_state(const struct ag_ctl_record *v)
{
	if (v->state[0])
		return v->state;
	return v->body.p ? "live" : "retracted"; /* an older agorad */
}

static void print_history(const struct ag_ctl_history *h)
{
	static const char *const head[] = {"SEQ", "TIME", "STATE", "HASH"};
	struct table *t = table_new(4, head);
	char when[32], seq[24];

	if (!t)
		return;
	for (size_t i = 0; i < h->nversions; i++) {
		const struct ag_ctl_record *v = &h->versions[i];
		const char *row[4] = {seq, when, version_state(v), v->hash};

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)v->seq);
		out_time(when, sizeof(when), v->timestamp);
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

int cmd_history(const struct args *a)
{
	struct ag_ctl_history resp;
	struct ag_ctl_req req;
	uint64_t limit;
	int rc;

	if (strcmp(a->pos[0], "member") == 0 && !a->opt[OPT_CITY])
		return cmd_history_member(a, a->pos[1]);
	if ((rc = check_type_id(a, true)) != 0 || (rc = check_filters(a, &limit)) != 0)
		return rc;
	ag_ctl_req_init(&req, AG_CTL_HISTORY);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, a->pos[0])) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_ID, a->pos[1])) != 0 ||
	    (rc = add_filters(a, &req)) != 0 || (rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (a->json)
		rc = cmd_json(ctlj_from(&ag_ctl_history_shape, &resp));
	else
		print_history(&resp);
	ag_ctl_resp_clear(&ag_ctl_history_shape, &resp);
	return rc;
}

/* ---- log ---- */

static void print_log(const struct ag_ctl_log *log)
{
	static const char *const head[] = {"SEQ", "TIME", "TYPE", "ID", "STATE", "HASH"};
	struct table *t = table_new(6, head);
	char when[32], seq[24], hash[24];

	if (!t)
		return;
	table_limit(t, 3, 32);
	for (size_t i = 0; i < log->nentries; i++) {
		const struct ag_ctl_record *e = &log->entries[i];
		const char *row[6] = {seq, when, e->type, e->id, version_state(e), hash};

		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
		out_time(when, sizeof(when), e->timestamp);
		out_short(hash, sizeof(hash), e->hash, 16);
		table_add(t, row);
	}
	if (table_rows(t) == 0)
		out_printf("no entries\n");
	else
		table_print(t);
	table_free(t);
}

/* What log --json prints: the entries of every page asked, as one array. */
static json_t *log_json(const struct ag_ctl_log *log)
{
	json_t *all = json_array();

	for (size_t i = 0; all && i < log->nentries; i++)
		if (json_array_append_new(all, ctlj_from(&ag_ctl_entry_shape, &log->entries[i])) !=
		    0) {
			json_decref(all);
			all = NULL;
		}
	return all ? json_pack("{s:o}", "entries", all) : NULL;
}

int cmd_log(const struct args *a)
{
	uint64_t since = 1, limit = 0;
	struct ag_ctl_log log;
	int rc;

	if ((rc = check_filters(a, &limit)) != 0)
		return rc;
	if (a->opt[OPT_SINCE] && (rc = cmd_uint(a, OPT_SINCE, &since)) != 0)
		return rc;
	rc = fetch_log_pages(a, a->opt[OPT_CITY], since ? since : 1, limit, &log);
	if (rc == 0 && a->json)
		rc = cmd_json(log_json(&log));
	else if (rc == 0)
		print_log(&log);
	ag_ctl_resp_clear(&ag_ctl_log_shape, &log);
	return rc;
}
