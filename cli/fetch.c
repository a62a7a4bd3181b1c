/* fetch.c: the requests of report, news and edit (fetch.h). */
#include "fetch.h"
#include "ctl.h"
#include "exits.h"
#include "rec.h"

/* The answer's member key, the answer freed; NULL with status 3 if it holds none. */
static int take(const struct args *a, json_t *resp, const char *key, json_t **out)
{
	*out = json_incref(json_object_get(resp, key));
	json_decref(resp);
	return *out ? 0 : cmd_fail(a, EXIT_UNREACHABLE, "agorad's answer holds no %s", key);
}

int fetch_status(const struct args *a, json_t **status)
{
	json_t *resp;
	int rc;

	*status = NULL;
	if ((rc = cmd_call(a, AG_CTL_STATUS, NULL, &resp)) != 0)
		return rc;
	return take(a, resp, "status", status);
}

/* LIST of one feed (author NULL: all): the records appended to all, *more if cut short. */
static int list(const struct args *a, const char *author, json_t *all, bool *more)
{
	json_t *req = json_object(), *resp;
	int rc;

	if (author)
		json_object_set_new(req, "city", json_string(author));
	if ((rc = cmd_call(a, AG_CTL_LIST, req, &resp)) != 0)
		return rc;
	json_array_extend(all, json_object_get(resp, "records"));
	*more = json_is_true(json_object_get(resp, "more"));
	json_decref(resp);
	return 0;
}

int fetch_records(const struct args *a, const json_t *status, json_t **records)
{
	json_t *feed;
	bool more = false;
	size_t i;
	int rc;

	if (!(*records = json_array()))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if ((rc = list(a, NULL, *records, &more)) != 0 || !more)
		return rc;
	json_array_clear(*records);
	json_array_foreach(json_object_get(status, "feeds"), i, feed)
	{
		if ((rc = list(a, rec_str(feed, "author"), *records, &more)) != 0)
			return rc;
		if (more)
			return cmd_fail(a, EXIT_REFUSED,
			                "%s's records are more than agorad sends at once",
			                rec_str(feed, "name") ? rec_str(feed, "name") : "a city");
	}
	return 0;
}

int fetch_log(const struct args *a, const char *author, uint64_t since, json_t **entries)
{
	json_t *req, *resp, *next;
	int rc;

	if (!(*entries = json_array()))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	while (since) {
		req = json_pack("{s:I, s:s}", "since", (json_int_t)since, "city", author);
		if ((rc = cmd_call(a, AG_CTL_LOG, req, &resp)) != 0)
			return rc;
		json_array_extend(*entries, json_object_get(resp, "entries"));
		next = json_object_get(resp, "next");
		since = json_is_integer(next) ? (uint64_t)json_integer_value(next) : 0;
		json_decref(resp);
	}
	return 0;
}

int fetch_history(const struct args *a, const char *author, const char *type, const char *id,
                  json_t **versions)
{
	json_t *resp;
	int rc;

	*versions = NULL;
	rc = cmd_call(a, AG_CTL_HISTORY,
	              json_pack("{s:s, s:s, s:s}", "type", type, "id", id, "city", author), &resp);
	if (rc != 0)
		return rc;
	return take(a, resp, "versions", versions);
}
