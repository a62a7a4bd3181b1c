/* fetch.c: the requests of report, news, edit, export and log (fetch.h). */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctlj.h"
#include "exits.h"
#include "fetch.h"
#include "rec.h"

/* Each of n records of shape s appended to all as --json prints it; 0, or -1 out of memory. */
static int append(json_t *all, const struct ag_ctl_shape *s, const struct ag_ctl_record *recs,
                  size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(all, ctlj_from(s, &recs[i])) != 0)
			return -1;
	return 0;
}

int fetch_status(const struct args *a, json_t **status)
{
	struct ag_ctl_status_resp resp;
	struct ag_ctl_req req;
	int rc;

	*status = NULL;
	ag_ctl_req_init(&req, AG_CTL_STATUS);
	if ((rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	*status = ctlj_from(&ag_ctl_status_shape, &resp.status);
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
	return *status ? 0 : cmd_fail(a, EXIT_LOCAL, "out of memory");
}

int fetch_list(const struct args *a, const char *city, const char *type, json_t *all, bool *more)
{
	struct ag_ctl_records resp;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_LIST);
	if ((city && (rc = cmd_req_set(a, &req, AG_CTL_F_CITY, city)) != 0) ||
	    (type && (rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, type)) != 0) ||
	    (rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	*more = resp.more;
	if (append(all, &ag_ctl_record_shape, resp.records, resp.nrecords) != 0)
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	ag_ctl_resp_clear(&ag_ctl_records_shape, &resp);
	return rc;
}

int fetch_records(const struct args *a, const json_t *status, json_t **records)
{
	json_t *feed;
	bool more = false;
	size_t i;
	int rc;

	if (!(*records = json_array()))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if ((rc = fetch_list(a, NULL, NULL, *records, &more)) != 0 || !more)
		return rc;
	json_array_clear(*records);
	json_array_foreach(json_object_get(status, "feeds"), i, feed)
	{
		if ((rc = fetch_list(a, rec_str(feed, "author"), NULL, *records, &more)) != 0)
			return rc;
		if (more)
			return cmd_fail(a, EXIT_REFUSED,
			                "%s's records are more than agorad sends at once",
			                rec_str(feed, "name") ? rec_str(feed, "name") : "a city");
	}
	return 0;
}

/* Moves the entries of page to the end of log; 0, or -1 out of memory (page still holds them). */
static int log_take(struct ag_ctl_log *log, struct ag_ctl_log *page)
{
	struct ag_ctl_record *all;

	if (!(all = realloc(log->entries, (log->nentries + page->nentries + 1) * sizeof(*all))))
		return -1;
	log->entries = all;
	memcpy(all + log->nentries, page->entries, page->nentries * sizeof(*all));
	log->nentries += page->nentries;
	free(page->entries); /* what its entries held is log's now */
	memset(page, 0, sizeof(*page));
	return 0;
}

int fetch_log_pages(const struct args *a, const char *city, uint64_t since, uint64_t limit,
                    struct ag_ctl_log *log)
{
	struct ag_ctl_log page;
	struct ag_ctl_req req;
	int rc;

	memset(log, 0, sizeof(*log));
	while (since && (!limit || log->nentries < limit)) {
		ag_ctl_req_init(&req, AG_CTL_LOG);
		req.since = since;
		req.limit = limit ? limit - log->nentries : 0;
		req.fields = AG_CTL_F_SINCE | (limit ? AG_CTL_F_LIMIT : 0);
		if ((city && (rc = cmd_req_set(a, &req, AG_CTL_F_CITY, city)) != 0) ||
		    (rc = cmd_call(a, &req, &page)) != 0)
			return rc;
		since = page.next;
		if (log_take(log, &page) != 0) {
			ag_ctl_resp_clear(&ag_ctl_log_shape, &page);
			return cmd_fail(a, EXIT_LOCAL, "out of memory");
		}
	}
	return 0;
}

int fetch_log(const struct args *a, const char *author, uint64_t since, json_t **entries)
{
	struct ag_ctl_log log;
	int rc;

	if (!(*entries = json_array()))
		return cmd_fail(a, EXIT_LOCAL, "out of memory");
	if ((rc = fetch_log_pages(a, author, since, 0, &log)) == 0 &&
	    append(*entries, &ag_ctl_entry_shape, log.entries, log.nentries) != 0)
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	ag_ctl_resp_clear(&ag_ctl_log_shape, &log);
	return rc;
}

int fetch_history(const struct args *a, const char *author, const char *type, const char *id,
                  json_t **versions)
{
	struct ag_ctl_history resp;
	struct ag_ctl_req req;
	int rc;

	*versions = NULL;
	ag_ctl_req_init(&req, AG_CTL_HISTORY);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, type)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_ID, id)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_CITY, author)) != 0 ||
	    (rc = cmd_call(a, &req, &resp)) != 0)
		return rc;
	if (!(*versions = json_array()) ||
	    append(*versions, &ag_ctl_version_shape, resp.versions, resp.nversions) != 0)
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	ag_ctl_resp_clear(&ag_ctl_history_shape, &resp);
	return rc;
}
