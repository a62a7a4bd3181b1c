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

struct news {
	const struct args *a;
	uint64_t since_ms; /* --since DATE; 0 for last */
	json_t *seen;      /* this node's part of the state: author -> seq; NULL for --since */
	bool first;        /* this user's first look at this node: no city is newly followed */
	json_t *cities;    /* the answer: [{city, author, new_city, items}] */
};

static bool str_eq(const json_t *x, const json_t *y, const char *key)
{
	const char *a = rec_str(x, key), *b = rec_str(y, key);

	return a && b && strcmp(a, b) == 0;
}

/* Had the record a version before e? items: what this run found earlier in the feed. */
static bool had_before(struct news *n, const char *author, const json_t *e, const json_t *items)
{
	json_t *versions = NULL, *v, *it;
	bool before = false;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (str_eq(it, e, "type") && str_eq(it, e, "id"))
			return true;
	}
	if (fetch_history(n->a, author, rec_str(e, "type"), rec_str(e, "id"), &versions) != 0)
		return false;
	json_array_foreach(versions, i, v)
	{
		before |= json_integer_value(json_object_get(v, "seq")) <
		          json_integer_value(json_object_get(e, "seq"));
	}
	json_decref(versions);
	return before;
}

/* What an entry is news of: "new", "version", "retracted", "member"; NULL for none. */
static const char *kind_of(struct news *n, const char *author, const json_t *e, const json_t *items)
{
	const char *type = rec_str(e, "type"), *state = rec_str(e, "state");

	if (!type || strcmp(type, "identity") == 0 || strcmp(type, "purge") == 0)
		return NULL;
	if (json_is_null(json_object_get(e, "body")))
		return state && strcmp(state, "retracted") != 0 ? NULL : "retracted";
	if (strcmp(type, "member") == 0)
		return "member";
	return had_before(n, author, e, items) ? "version" : "new";
}

static const char *title_of(const json_t *e)
{
	static const char *const keys[] = {"title", "name", "city", "text", "summary"};
	const json_t *body = json_object_get(e, "body");

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (rec_text_pick(json_object_get(body, keys[i])))
			return rec_text_pick(json_object_get(body, keys[i]));
	return "";
}

/* One feed's news, added to n->cities when there is any. */
static int feed_news(struct news *n, const json_t *feed)
{
	const char *author = rec_str(feed, "author"), *kind;
	json_t *seenv = n->seen ? json_object_get(n->seen, author) : NULL, *entries, *e, *items;
	uint64_t seen = (uint64_t)json_integer_value(seenv),
	         head = (uint64_t)json_integer_value(json_object_get(feed, "seq"));
	bool fresh = n->seen && !n->first && !seenv;
	size_t i;
	int rc;

	if (n->seen && seen >= head)
		return 0;
	if ((rc = fetch_log(n->a, author, seen + 1, &entries)) != 0)
		return rc;
	items = json_array();
	json_array_foreach(entries, i, e)
	{
		if ((uint64_t)json_integer_value(json_object_get(e, "timestamp")) < n->since_ms ||
		    !(kind = kind_of(n, author, e, items)))
			continue;
		json_array_append_new(
		    items, json_pack("{s:s, s:O, s:O, s:O, s:O, s:s}", "kind", kind, "type",
		                     json_object_get(e, "type"), "id", json_object_get(e, "id"),
		                     "seq", json_object_get(e, "seq"), "timestamp",
		                     json_object_get(e, "timestamp"), "title", title_of(e)));
	}
	json_decref(entries);
	if (json_array_size(items) || fresh)
		json_array_append_new(
		    n->cities, json_pack("{s:s, s:s, s:b, s:o}", "city",
		                         rec_str(feed, "name") ? rec_str(feed, "name") : author,
		                         "author", author, "new_city", fresh, "items", items));
	else
		json_decref(items);
	return 0;
}

/* ---- printing ---- */

static void print_news(const json_t *cities, const char *since)
{
	const json_t *c, *it;
	size_t i, j;
	char when[32];

	if (!json_array_size(cities)) {
		out_printf("nothing new since %s\n", since);
		return;
	}
	json_array_foreach(cities, i, c)
	{
		out_printf("%s%s%s\n", i ? "\n" : "", rec_str(c, "city"),
		           json_is_true(json_object_get(c, "new_city")) ? " (newly followed)" : "");
		json_array_foreach(json_object_get(c, "items"), j, it)
		{
			out_time(when, sizeof(when),
			         (uint64_t)json_integer_value(json_object_get(it, "timestamp")));
			const char *title = rec_str(it, "title"); /* NULL when empty */

			out_printf("  %-9s %s  %s %s%s%s\n", rec_str(it, "kind"), when,
			           rec_str(it, "type"), rec_str(it, "id"), title ? ": " : "",
			           title ? title : "");
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

static int run(struct news *n, const json_t *status)
{
	const json_t *feed;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(status, "feeds"), i, feed)
	{
		if ((rc = feed_news(n, feed)) != 0)
			return rc;
	}
	return 0;
}

/* Every feed's seq as seen now, kept for this node's key. */
static int remember(const struct args *a, json_t *state, const json_t *status)
{
	json_t *seen = json_object(), *feed;
	size_t i;

	json_array_foreach(json_object_get(status, "feeds"), i, feed)
	{
		json_object_set(seen, rec_str(feed, "author"), json_object_get(feed, "seq"));
	}
	json_object_set_new(state, rec_str(status, "key"), seen);
	if (state_save(state) != 0)
		return cmd_fail(a, EXIT_REFUSED,
		                "cannot keep what was seen in $XDG_STATE_HOME/agora: %s",
		                strerror(errno));
	return 0;
}

int cmd_news(const struct args *a)
{
	struct news n = {.a = a};
	json_t *status = NULL, *state = NULL;
	int rc;

	if ((rc = parse_since(a, &n.since_ms)) != 0 || (rc = fetch_status(a, &status)) != 0)
		return rc;
	if (!n.since_ms) {
		state = state_load();
		n.seen = json_object_get(state, rec_str(status, "key"));
		/* The first look: everything is news, and no city newly followed. */
		if ((n.first = !n.seen))
			json_object_set_new(state, rec_str(status, "key"), n.seen = json_object());
	}
	n.cities = json_array();
	if ((rc = run(&n, status)) == 0 && !n.since_ms)
		rc = remember(a, state, status);
	if (rc == 0 && a->json)
		rc = cmd_json(json_pack("{s:s, s:O}", "since",
		                        a->opt[OPT_SINCE] ? a->opt[OPT_SINCE] : "last", "cities",
		                        n.cities));
	else if (rc == 0)
		print_news(n.cities,
		           a->opt[OPT_SINCE] && n.since_ms ? a->opt[OPT_SINCE] : "you last looked");
	json_decref(n.cities);
	json_decref(state);
	json_decref(status);
	return rc;
}
