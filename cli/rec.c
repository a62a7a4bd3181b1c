/* rec.c: records read, checked against their schema and published, for the friendly commands. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctlj.h"
#include "entry.h"
#include "jsonmp.h"
#include "rec.h"
#include "schema.h"

const char *rec_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

bool rec_plumbing(const char *type)
{
	return type && (strcmp(type, "member") == 0 || strcmp(type, "identity") == 0 ||
	                strcmp(type, "purge") == 0);
}

int rec_get(const struct args *a, const char *type, const char *id, const char *city, bool quiet,
            struct rec *rec)
{
	struct ag_ctl_req req;
	char err[800];
	int rc;

	rec->body = NULL;
	ag_ctl_req_init(&req, AG_CTL_GET);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, type)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_ID, id)) != 0 ||
	    (city && (rc = cmd_req_set(a, &req, AG_CTL_F_CITY, city)) != 0)) {
		memset(&rec->got, 0, sizeof(rec->got));
		return rc;
	}
	if ((rc = cmd_ask(a, &req, &rec->got, err, sizeof(err))) != 0)
		return quiet && rc == EXIT_NOTFOUND ? EXIT_NOTFOUND : cmd_report(a, rc, err);
	if (!(rec->body = rec_body_json(&rec->got.record)))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	return 0;
}

void rec_clear(struct rec *rec)
{
	ag_ctl_resp_clear(&ag_ctl_get_shape, &rec->got);
	json_decref(rec->body);
	rec->body = NULL;
}

json_t *rec_json(const struct rec *rec)
{
	return ctlj_from(&ag_ctl_record_shape, &rec->got.record);
}

json_t *rec_body_json(const struct ag_ctl_record *r)
{
	/* Checked canonical when it was decoded. */
	return r->body.p ? jsonmp_from_checked(r->body.p, r->body.len) : json_null();
}

int rec_body_encode(const char *type, const char *id, const json_t *body, uint8_t **mp, size_t *len,
                    char *why, size_t whylen)
{
	size_t max = AG_BODY_MAX; /* the header carries its type and id apart */
	int rc;

	*mp = NULL;
	*len = 0;
	if (jsonmp_encode(body, mp, len, why, whylen) != 0)
		return REC_EBODY;
	if (*len > max) {
		snprintf(why, whylen, "record of %zu bytes encoded, over the limit of %zu", *len,
		         max);
		rc = REC_EBODY;
	} else {
		why[0] = '\0';
		if ((rc = ag_schema_check(type, id, strlen(id), *mp, *len, why, whylen)) == 0)
			return 0;
		if (!*why)
			snprintf(why, whylen, "%s", ag_strerror(rc));
		rc = REC_ESCHEMA;
	}
	free(*mp);
	*mp = NULL;
	return rc;
}

bool rec_known(const struct ag_field *f, const json_t *v)
{
	uint8_t *mp = NULL;
	size_t len = 0;
	char err[128];
	bool known;

	if (!f || jsonmp_encode_at(v, 2, &mp, &len, err, sizeof(err)) != 0)
		return false;
	known = ag_schema_value_check(f, mp, len) == 0;
	free(mp);
	return known;
}

static bool all_strings(const json_t *arr)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) if (!json_is_string(e)) return false;
	return true;
}

bool rec_laid_out(const struct ag_field *f, const json_t *v)
{
	if (!f)
		return false;
	switch (f->kind) {
	case AG_F_OBJECT:
		return json_is_object(v);
	case AG_F_LIST:
		return json_is_array(v);
	case AG_F_TOPICS:
	case AG_F_STAKEHOLDERS:
		return json_is_array(v) && all_strings(v);
	case AG_F_TOPIC:
	case AG_F_STAKEHOLDER:
		return json_is_string(v);
	default:
		return rec_known(f, v);
	}
}

const struct ag_field *rec_field(const struct ag_field *fields, const char *name)
{
	for (const struct ag_field *f = fields; f && f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

char *rec_newer_fields(const char *type, const json_t *body)
{
	const struct ag_schema *s = ag_schema_find(type ? type : "");
	char *out = strdup(""), *more;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)(uintptr_t)body, k, v)
	{
		if (!s || !out || rec_known(rec_field(s->fields, k), v))
			continue;
		if (!(more = malloc(strlen(out) + strlen(k) + 3))) {
			free(out);
			return NULL;
		}
		sprintf(more, "%s%s%s", out, *out ? ", " : "", k);
		free(out);
		out = more;
	}
	return out;
}

char *rec_raw(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

int rec_body_check(const char *type, const char *id, const json_t *body, char *why, size_t whylen)
{
	uint8_t *mp;
	size_t len;
	int rc = rec_body_encode(type, id, body, &mp, &len, why, whylen);

	free(mp);
	return rc;
}

int rec_check(const struct args *a, const char *type, const char *id, const json_t *body)
{
	char why[300];

	if (rec_body_check(type, id, body, why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s %s: %s", type, id, why);
	return 0;
}

int rec_print_published(const struct args *a, const struct ag_ctl_published *pub, const char *what)
{
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_published_shape, pub));
	out_printf("%s %s %s: seq %llu, hash %s\n", what, pub->type, pub->id,
	           (unsigned long long)pub->seq, pub->hash);
	return 0;
}

int rec_put(const struct args *a, const char *type, const char *id, const uint8_t *mp, size_t len,
            bool force, int (*refused)(const struct args *, const char *why))
{
	struct ag_ctl_published pub;
	struct ag_ctl_req req;
	char err[800];
	int rc;

	ag_ctl_req_init(&req, AG_CTL_PUT);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, type)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_ID, id)) != 0)
		return rc;
	req.body = mp;
	req.body_len = len;
	req.force = force;
	req.fields |= AG_CTL_F_BODY | (force ? AG_CTL_F_FORCE : 0);
	rc = cmd_ask(a, &req, &pub, err, sizeof(err));
	if (rc == EXIT_REFUSED && refused)
		return refused(a, err);
	if (rc != 0)
		return cmd_report(a, rc, err);
	return rec_print_published(a, &pub, "published");
}

int rec_publish(const struct args *a, const char *type, const char *id, json_t *body)
{
	uint8_t *mp;
	size_t len;
	char why[300];
	int rc;

	if (!body)
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	rc = rec_body_encode(type, id, body, &mp, &len, why, sizeof(why));
	json_decref(body);
	if (rc != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s %s: %s", type, id, why);
	rc = rec_put(a, type, id, mp, len, false, NULL);
	free(mp);
	return rc;
}

json_t *rec_text_new(const struct args *a, const char *s)
{
	if (a->opt[OPT_LANG])
		return json_pack("{s:s}", a->opt[OPT_LANG], s);
	return json_string(s);
}

const char *rec_text_pick(const json_t *v)
{
	static const char *const prefs[] = {NULL, "en", "fr", "ar", "es", "it"};
	const char *lang = getenv("LANG"), *k;
	char mine[3] = "";
	json_t *t;

	if (json_is_string(v))
		return json_string_value(v);
	if (!json_is_object(v))
		return NULL;
	if (lang && strlen(lang) >= 2)
		snprintf(mine, sizeof(mine), "%.2s", lang);
	for (size_t i = 0; i < sizeof(prefs) / sizeof(prefs[0]); i++)
		if ((t = json_object_get(v, i ? prefs[i] : mine)) && json_is_string(t))
			return json_string_value(t);
	json_object_foreach((json_t *)(uintptr_t)v, k,
	                    t) if (json_is_string(t)) return json_string_value(t);
	return NULL;
}
