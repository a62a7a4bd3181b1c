/* rec.c: records read, checked against their schema and published, for the friendly commands. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "entry.h"
#include "jsonmp.h"
#include "rec.h"
#include "schema.h"

const char *rec_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

int rec_get(const struct args *a, const char *type, const char *id, const char *city, bool quiet,
            json_t **rec)
{
	json_t *req = json_pack("{s:s, s:s}", "type", type, "id", id), *resp;
	char err[800];
	int rc;

	*rec = NULL;
	if (city)
		json_object_set_new(req, "city", json_string(city));
	if ((rc = cmd_ask(a, AG_CTL_GET, req, &resp, err, sizeof(err))) != 0)
		return quiet && rc == EXIT_NOTFOUND ? EXIT_NOTFOUND : cmd_report(a, rc, err);
	*rec = json_incref(json_object_get(resp, "record"));
	json_decref(resp);
	return *rec ? 0 : cmd_fail(a, EXIT_UNREACHABLE, "agorad's answer holds no record");
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
	uint8_t *mp = NULL;
	size_t len = 0, max = AG_BODY_MAX; /* the header carries its type and id apart */
	int rc;

	if (jsonmp_encode(body, &mp, &len, why, whylen) != 0)
		return REC_EBODY;
	if (len > max) {
		free(mp);
		snprintf(why, whylen, "record of %zu bytes encoded, over the limit of %zu", len,
		         max);
		return REC_EBODY;
	}
	why[0] = '\0';
	rc = ag_schema_check(type, id, strlen(id), mp, len, why, whylen);
	free(mp);
	if (rc == 0)
		return 0;
	if (!*why)
		snprintf(why, whylen, "%s", ag_strerror(rc));
	return REC_ESCHEMA;
}

int rec_check(const struct args *a, const char *type, const char *id, const json_t *body)
{
	char why[300];

	if (rec_body_check(type, id, body, why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s %s: %s", type, id, why);
	return 0;
}

int rec_publish(const struct args *a, const char *type, const char *id, json_t *body)
{
	json_t *req, *resp;
	int rc;

	if (!body)
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if ((rc = rec_check(a, type, id, body)) != 0) {
		json_decref(body);
		return rc;
	}
	req = json_pack("{s:s, s:s, s:o}", "type", type, "id", id, "body", body);
	if ((rc = cmd_call(a, AG_CTL_PUT, req, &resp)) != 0)
		return rc;
	if (a->json) {
		json_object_del(resp, "ok");
		return cmd_json(resp);
	}
	out_printf("published %s %s: seq %lld, hash %s\n", type, id,
	           (long long)json_integer_value(json_object_get(resp, "seq")),
	           rec_str(resp, "hash") ? rec_str(resp, "hash") : "-");
	json_decref(resp);
	return 0;
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
