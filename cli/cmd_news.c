/*
 * cmd_news.c: agora news [--since DATE|last]: what arrived from each city
 * since then: new records, new versions, retractions, cities introduced as
 * members, and cities newly followed. "last" (the default) is since this
 * user last asked: the seq seen of each feed is kept per user and per node
 * in $XDG_STATE_HOME/agora/news.json (else ~/.local/state/agora/), so what
 * "arrived" means is exact: every entry past the seq seen, whatever its
 * author's clock says. --since DATE goes by the authors' timestamps, and
 * changes nothing kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exits.h"
#include "fetch.h"
#include "rec.h"

/* ---- what this user has seen ---- */

static int state_path(char *buf, size_t len, bool mkdirs)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4096];

	if (xdg && *xdg == '/')
		snprintf(dir, sizeof(dir), "%s/agora", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.local/state/agora", home);
	else
		return -1;
	if (mkdirs) {
		/* Each level, as mkdir -p; a level that exists is no error. */
		for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
			if (p)
				*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return -1;
			if (!p)
				break;
			*p = '/';
		}
	}
	return snprintf(buf, len, "%s/news.json", dir) < (int)len ? 0 : -1;
}

static json_t *state_load(void)
{
	char path[4200];
	json_t *s =
	    state_path(path, sizeof(path), false) == 0 ? json_load_file(path, 0, NULL) : NULL;

	return json_is_object(s) ? s : (json_decref(s), json_object());
}

/* Written whole or not at all: to news.json.part, then renamed. */
static int state_save(const json_t *s)
{
	char path[4200], tmp[4300];

	if (state_path(path, sizeof(path), true) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.part", path);
	if (json_dump_file(s, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
	    rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- what arrived ---- */

/* One piece of news: an entry of a city's feed. */
struct news_item {
	const char *kind; /* new, version, retracted, member */
	char type[AG_TYPE_MAX + 1];
	char id[AG_ID_MAX + 1];
	uint64_t seq, timestamp;
	char *title; /* "" when the record has none */
};

/* A city with news, or newly followed. */
struct news_city {
	const char *city, *author; /* in the status */
	bool new_city;
	struct news_item *items;
	size_t n;
};

struct news {
	const struct args *a;
	uint64_t since_ms; /* --since DATE; 0 for last */
	json_t *seen;      /* this node's part of the state: author -> seq; NULL for --since */
	bool first;        /* this user's first look at this node: no city is newly followed */
	struct news_city *cities; /* the answer */
	size_t ncities;
};

static void city_clear(struct news_city *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].title);
	free(c->items);
}

/* Had the record a version before e? c: what this run found earlier in the feed. */
static bool had_before(struct news *n, const char *author, const struct ag_ctl_record *e,
                       const struct news_city *c)
{
	struct ag_ctl_history h;
	bool before = false;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].type, e->type) == 0 && strcmp(c->items[i].id, e->id) == 0)
			return true;
	if (fetch_history(n->a, author, e->type, e->id, &h) != 0)
		return false;
	for (size_t i = 0; i < h.nversions; i++)
		before |= h.versions[i].seq < e->seq;
	ag_ctl_resp_clear(&ag_ctl_history_shape, &h);
	return before;
}

/* What an entry is news of: "new", "version", "retracted", "member"; NULL for none. */
static const char *kind_of(struct news *n, const char *author, const struct ag_ctl_record *e,
                           const struct news_city *c)
{
	if (strcmp(e->type, "identity") == 0 || strcmp(e->type, "purge") == 0)
		return NULL;
	if (!e->body.p)
		return e->state[0] && strcmp(e->state, "retracted") != 0 ? NULL : "retracted";
	if (strcmp(e->type, "member") == 0)
		return "member";
	return had_before(n, author, e, c) ? "version" : "new";
}

/* What stands for the entry's title, copied; "" for none; NULL when out of memory. */
static char *title_of(const struct ag_ctl_record *e)
{
	static const char *const keys[] = {"title", "name", "city", "text", "summary"};
	json_t *body = rec_body_json(e);
	const char *t = NULL;
	char *s;

	for (size_t i = 0; !t && i < sizeof(keys) / sizeof(keys[0]); i++)
		t = rec_text_pick(json_object_get(body, keys[i]));
	s = strdup(t ? t : "");
	json_decref(body);
	return s;
}

/* e, news of kind, added to c's items: 0, or -1 out of memory. */
static int item_add(struct news_city *c, const char *kind, const struct ag_ctl_record *e)
{
	struct news_item *items = realloc(c->items, (c->n + 1) * sizeof(*items)), *it;

	if (!items)
		return -1;
	c->items = items;
	it = &items[c->n];
	it->kind = kind;
	snprintf(it->type, sizeof(it->type), "%s", e->type);
	snprintf(it->id, sizeof(it->id), "%s", e->id);
	it->seq = e->seq;
	it->timestamp = e->timestamp;
	if (!(it->title = title_of(e)))
		return -1;
	c->n++;
	return 0;
}

/* The news of a feed's entries, into c. */
static int entries_news(struct news *n, struct news_city *c, const struct ag_ctl_log *log)
{
	const char *kind;

	for (size_t i = 0; i < log->nentries; i++) {
		const struct ag_ctl_record *e = &log->entries[i];

		if (e->timestamp < n->since_ms || !(kind = kind_of(n, c->author, e, c)))
			continue;
		if (item_add(c, kind, e) != 0)
			return cmd_fail(n->a, EXIT_LOCAL, "out of memory");
	}
	return 0;
}

/* One feed's news, added to n->cities when there is any. */
static int feed_news(struct news *n, const struct ag_ctl_feed *feed)
{
	json_t *seenv = n->seen ? json_object_get(n->seen, feed->author) : NULL;
	struct news_city c = {feed->name[0] ? feed->name : feed->author, feed->author,
	                      n->seen && !n->first && !seenv, NULL, 0};
	uint64_t seen = (uint64_t)json_integer_value(seenv);
	struct news_city *all;
	struct ag_ctl_log log;
	int rc;

	if (n->seen && seen >= feed->seq)
		return 0;
	if ((rc = fetch_log_pages(n->a, feed->author, seen + 1, 0, &log)) == 0)
		rc = entries_news(n, &c, &log);
	ag_ctl_resp_clear(&ag_ctl_log_shape, &log);
	if (rc != 0 || (!c.n && !c.new_city)) {
		city_clear(&c);
		return rc;
	}
	if (!(all = realloc(n->cities, (n->ncities + 1) * sizeof(*all)))) {
		city_clear(&c);
		return cmd_fail(n->a, EXIT_LOCAL, "out of memory");
	}
	n->cities = all;
	all[n->ncities++] = c;
	return 0;
}

/* ---- printing ---- */

/* What news --json prints of the cities. */
static json_t *cities_json(const struct news *n)
{
	json_t *cities = json_array(), *items;

	for (size_t i = 0; cities && i < n->ncities; i++) {
		const struct news_city *c = &n->cities[i];

		items = json_array();
		for (size_t j = 0; items && j < c->n; j++) {
			const struct news_item *it = &c->items[j];

			json_array_append_new(
			    items,
			    json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "kind", it->kind, "type",
			              it->type, "id", it->id, "seq", (json_int_t)it->seq,
			              "timestamp", (json_int_t)it->timestamp, "title", it->title));
		}
		json_array_append_new(cities, json_pack("{s:s, s:s, s:b, s:o}", "city", c->city,
		                                        "author", c->author, "new_city",
		                                        c->new_city, "items", items));
	}
	return cities;
}

static void print_news(const struct news *n, const char *since)
{
	char when[32];

	if (!n->ncities) {
		out_printf("nothing new since %s\n", since);
		return;
	}
	for (size_t i = 0; i < n->ncities; i++) {
		const struct news_city *c = &n->cities[i];

		if (i)
			out_printf("\n");
		out_line("%s%s", c->city, c->new_city ? " (newly followed)" : "");
		for (size_t j = 0; j < c->n; j++) {
			const struct news_item *it = &c->items[j];

			out_time(when, sizeof(when), it->timestamp);
			out_line("  %-9s %s  %s %s%s%s", it->kind, when, it->type, it->id,
			         *it->title ? ": " : "", it->title);
		}
	}
}

/* ---- the command ---- */

/* --since: "last" (0), or a day at 00:00 UTC in *ms. 0 or 2. */
static int parse_since(const struct args *a, uint64_t *ms)
{
	const char *s = a->opt[OPT_SINCE];
	struct tm tm = {0};
	char *end;

	*ms = 0;
	if (!s || strcmp(s, "last") == 0)
		return 0;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return cmd_fail(a, EXIT_REFUSED, "bad --since \"%s\": YYYY-MM-DD or last", s);
	*ms = (uint64_t)timegm(&tm) * 1000;
	return 0;
}

static int run(struct news *n, const struct ag_ctl_node *status)
{
	int rc;

	for (size_t i = 0; i < status->nfeeds; i++)
		if ((rc = feed_news(n, &status->feeds[i])) != 0)
			return rc;
	return 0;
}

/* Every feed's seq as seen now, kept for this node's key. */
static int remember(const struct args *a, json_t *state, const struct ag_ctl_node *status)
{
	json_t *seen = json_object();

	for (size_t i = 0; i < status->nfeeds; i++)
		json_object_set_new(seen, status->feeds[i].author,
		                    json_integer((json_int_t)status->feeds[i].seq));
	json_object_set_new(state, status->key, seen);
	if (state_save(state) != 0)
		return cmd_fail(a, EXIT_REFUSED,
		                "cannot keep what was seen in $XDG_STATE_HOME/agora: %s",
		                strerror(errno));
	return 0;
}

int cmd_news(const struct args *a)
{
	struct news n = {.a = a};
	struct ag_ctl_status_resp st;
	const struct ag_ctl_node *status = &st.status;
	json_t *state = NULL;
	int rc;

	if ((rc = parse_since(a, &n.since_ms)) != 0 || (rc = fetch_status(a, &st)) != 0)
		return rc;
	if (!n.since_ms) {
		state = state_load();
		n.seen = json_object_get(state, status->key);
		/* The first look: everything is news, and no city newly followed. */
		if ((n.first = !n.seen))
			json_object_set_new(state, status->key, n.seen = json_object());
	}
	if ((rc = run(&n, status)) == 0 && !n.since_ms)
		rc = remember(a, state, status);
	if (rc == 0 && a->json)
		rc = cmd_json(json_pack("{s:s, s:o}", "since",
		                        a->opt[OPT_SINCE] ? a->opt[OPT_SINCE] : "last", "cities",
		                        cities_json(&n)));
	else if (rc == 0)
		print_news(&n,
		           a->opt[OPT_SINCE] && n.since_ms ? a->opt[OPT_SINCE] : "you last looked");
	for (size_t i = 0; i < n.ncities; i++)
		city_clear(&n.cities[i]);
	free(n.cities);
	json_decref(state);
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &st);
	return rc;
}
