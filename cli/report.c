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

const char *report_title(const struct fetch_rec *rec)
{
	static const char *const keys[] = {"title", "name", "city", "text", "summary"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (*report_pick(json_object_get(rec->body, keys[i])))
			return report_pick(json_object_get(rec->body, keys[i]));
	return rec->r.id;
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
		const struct ag_ctl_record *x = &r->recs[i]->r;

		if (strcmp(x->author, author) == 0 && strcmp(x->type, type) == 0 &&
		    strcmp(x->id, id) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- the cities ---- */

static void add_peers(struct report *r, const struct ag_ctl_node *status)
{
	for (size_t i = 0; i < status->npeers; i++) {
		const struct ag_ctl_peer *p = &status->peers[i];
		struct report_city *c = city_mut(r, p->key);

		if (!c)
			continue;
		c->peer = true;
		c->connected = p->connected;
		c->last_contact = p->last_contact_ms;
	}
}

/* What one record tells of its city, or (member) of the city it introduces. */
static void learn(struct report *r, const struct fetch_rec *rec)
{
	const char *type = rec->r.type, *k;
	const json_t *body = rec->body, *t;
	struct report_city *c = city_mut(r, rec->r.author), *m;
	uint64_t ts = rec->r.timestamp;
	size_t i;

	if (strcmp(type, "member") == 0 && (m = city_mut(r, rec_str(body, "key"))) && !m->role)
		m->role = rec_str(body, "role");
	if (!c || rec_plumbing(type))
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

static int cities_init(struct report *r, const struct ag_ctl_node *status)
{
	if (!(r->cities = calloc(status->nfeeds + 1, sizeof(*r->cities))))
		return -1;
	for (size_t i = 0; i < status->nfeeds; i++) {
		const struct ag_ctl_feed *f = &status->feeds[i];
		struct report_city *c = &r->cities[r->ncities++];

		c->key = f->author;
		c->name = f->name[0] ? f->name : c->key;
		c->self = strcmp(status->key, c->key) == 0;
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

/* By city name, then key, then type in the order of DESIGN.md, then id. */
static int rec_cmp(const void *x, const void *y)
{
	const struct ag_ctl_record *a = &(*(const struct fetch_rec *const *)x)->r,
	                           *b = &(*(const struct fetch_rec *const *)y)->r;
	size_t ra = type_rank(a->type), rb = type_rank(b->type);
	int c = strcmp(report_city_name(sorting, a->author), report_city_name(sorting, b->author));

	if (c == 0)
		c = strcmp(a->author, b->author);
	if (c == 0)
		c = ra != rb ? (ra < rb ? -1 : 1) : strcmp(a->type, b->type);
	return c ? c : strcmp(a->id, b->id);
}

int report_init(struct report *r, const struct ag_ctl_node *status,
                const struct fetch_recs *records, uint64_t now)
{
	memset(r, 0, sizeof(*r));
	r->now = now;
	report_day(r->today, now);
	r->node_name = status->name[0] ? status->name : "this node";
	if (cities_init(r, status) != 0 || !(r->recs = calloc(records->n + 1, sizeof(*r->recs))))
		return -1;
	for (size_t i = 0; i < records->n; i++) {
		learn(r, &records->v[i]);
		if (!rec_plumbing(records->v[i].r.type))
			r->recs[r->nrecs++] = &records->v[i];
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
