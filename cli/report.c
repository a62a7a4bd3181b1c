/*
 * report.c: the report's model (report.h): the cities of the network with
 * what their records say of them, and the records in the order the page
 * shows them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "report.h"

/* Types that are the network's plumbing, not its knowledge: the network table sums them up. */
static bool plumbing(const char *type)
{
	return type && (strcmp(type, "member") == 0 || strcmp(type, "identity") == 0 ||
	                strcmp(type, "purge") == 0);
}

void report_day(char out[static 11], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 11, "-");
}

const char *report_pick(const json_t *v)
{
	const char *s = rec_text_pick(v);

	return s ? s : "";
}

const char *report_title(const json_t *rec)
{
	static const char *const keys[] = {"title", "name", "city", "text", "summary"};
	const json_t *body = json_object_get(rec, "body");

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (*report_pick(json_object_get(body, keys[i])))
			return report_pick(json_object_get(body, keys[i]));
	return rec_str(rec, "id") ? rec_str(rec, "id") : "";
}

static long city_index(const struct report *r, const char *key)
{
	for (size_t i = 0; key && i < r->ncities; i++)
		if (strcmp(r->cities[i].key, key) == 0)
			return (long)i;
	return -1;
}

const struct report_city *report_city(const struct report *r, const char *key)
{
	long i = city_index(r, key);

	return i < 0 ? NULL : &r->cities[i];
}

/* The same, to be filled in. */
static struct report_city *city_mut(struct report *r, const char *key)
{
	long i = city_index(r, key);

	return i < 0 ? NULL : &r->cities[i];
}

const char *report_city_name(const struct report *r, const char *key)
{
	const struct report_city *c = report_city(r, key);

	return c ? c->name : key ? key : "";
}

long report_find(const struct report *r, const char *author, const char *type, const char *id)
{
	for (size_t i = 0; author && type && id && i < r->nrecs; i++) {
		const json_t *x = r->recs[i];

		if (strcmp(rec_str(x, "author") ? rec_str(x, "author") : "", author) == 0 &&
		    strcmp(rec_str(x, "type") ? rec_str(x, "type") : "", type) == 0 &&
		    strcmp(rec_str(x, "id") ? rec_str(x, "id") : "", id) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- the cities ---- */

static void add_peers(struct report *r, const json_t *status)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(status, "peers"), i, p)
	{
		struct report_city *c = city_mut(r, rec_str(p, "key"));

		if (!c)
			continue;
		c->peer = true;
		c->connected = json_is_true(json_object_get(p, "connected"));
		c->last_contact =
		    (uint64_t)json_integer_value(json_object_get(p, "last_contact_ms"));
	}
}

/* What one record tells of its city, or (member) of the city it introduces. */
static void learn(struct report *r, const json_t *rec)
{
	const char *type = rec_str(rec, "type"), *k;
	const json_t *body = json_object_get(rec, "body"), *t;
	struct report_city *c = city_mut(r, rec_str(rec, "author")), *m;
	uint64_t ts = (uint64_t)json_integer_value(json_object_get(rec, "timestamp"));
	size_t i;

	if (type && strcmp(type, "member") == 0 && (m = city_mut(r, rec_str(body, "key"))) &&
	    !m->role)
		m->role = rec_str(body, "role");
	if (!c || plumbing(type))
		return;
	c->nrecords++;
	c->latest = ts > c->latest ? ts : c->latest;
	if (strcmp(type, "profile") == 0) {
		c->region = rec_str(body, "region");
		c->country = json_object_get(body, "country");
	}
	if (strcmp(type, "practice") == 0)
		json_array_foreach(json_object_get(body, "topics"), i, t)
		{
			const struct ag_vocab *v =
			    (k = json_string_value(t)) ? ag_topic_find(k, strlen(k)) : NULL;
			if (v)
				c->practices[v - ag_topics]++;
		}
}

static int cities_init(struct report *r, const json_t *status)
{
	const json_t *feeds = json_object_get(status, "feeds"), *f;
	const char *self = rec_str(status, "key");
	size_t i;

	if (!(r->cities = calloc(json_array_size(feeds) + 1, sizeof(*r->cities))))
		return -1;
	json_array_foreach(feeds, i, f)
	{
		struct report_city *c = &r->cities[r->ncities];

		if (!(c->key = rec_str(f, "author")))
			continue;
		c->name = rec_str(f, "name") ? rec_str(f, "name") : c->key;
		c->self = self && strcmp(self, c->key) == 0;
		r->ncities++;
	}
	add_peers(r, status);
	return 0;
}

/* ---- the records ---- */

static size_t type_rank(const char *type)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	for (size_t i = 0; type && i < n; i++)
		if (strcmp(all[i].type, type) == 0)
			return i;
	return n;
}

/* Sorting needs the model: qsort has no argument for it. */
static const struct report *sorting;

static int str_cmp(const json_t *a, const json_t *b, const char *key)
{
	return strcmp(rec_str(a, key) ? rec_str(a, key) : "",
	              rec_str(b, key) ? rec_str(b, key) : "");
}

/* By city name, then key, then type in the order of DESIGN.md, then id. */
static int rec_cmp(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	size_t ra = type_rank(rec_str(a, "type")), rb = type_rank(rec_str(b, "type"));
	int c = strcmp(report_city_name(sorting, rec_str(a, "author")),
	               report_city_name(sorting, rec_str(b, "author")));

	if (c == 0)
		c = str_cmp(a, b, "author");
	if (c == 0)
		c = ra != rb ? (ra < rb ? -1 : 1) : str_cmp(a, b, "type");
	return c ? c : str_cmp(a, b, "id");
}

int report_init(struct report *r, const json_t *status, const json_t *records, uint64_t now)
{
	const json_t *rec;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->now = now;
	report_day(r->today, now);
	r->node_name = rec_str(status, "name") ? rec_str(status, "name") : "this node";
	if (cities_init(r, status) != 0 ||
	    !(r->recs = calloc(json_array_size(records) + 1, sizeof(*r->recs))))
		return -1;
	json_array_foreach(records, i, rec)
	{
		learn(r, rec);
		if (!plumbing(rec_str(rec, "type")) && rec_str(rec, "type"))
			r->recs[r->nrecs++] = (json_t *)(uintptr_t)rec;
	}
	sorting = r;
	qsort(r->recs, r->nrecs, sizeof(*r->recs), rec_cmp);
	sorting = NULL;
	return 0;
}

void report_clear(struct report *r)
{
	free(r->cities);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}
