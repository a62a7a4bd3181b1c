/* fetch.c: the requests of report, news, edit, export and log (fetch.h). */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "exits.h"
#include "fetch.h"
#include "rec.h"

void fetch_recs_clear(struct fetch_recs *all)
{
	for (size_t i = 0; i < all->n; i++) {
		ag_ctl_resp_clear(&ag_ctl_record_shape, &all->v[i].r);
		json_decref(all->v[i].body);
	}
	free(all->v);
	memset(all, 0, sizeof(*all));
}

/* Moves the n records of recs to the end of all, each with its body as JSON; 0, or -1 out of
 * memory. */
static int append(struct fetch_recs *all, struct ag_ctl_record *recs, size_t n)
{
	struct fetch_rec *v = realloc(all->v, (all->n + n + 1) * sizeof(*v));

	if (!v)
		return -1;
	all->v = v;
	for (size_t i = 0; i < n; i++) {
		struct fetch_rec *f = &v[all->n++];

		f->r = recs[i];
		memset(&recs[i], 0, sizeof(recs[i])); /* what it held is all's now */
		if (!(f->body = rec_body_json(&f->r)))
			return -1;
	}
	return 0;
}

int fetch_status(const struct args *a, struct ag_ctl_status_resp *status)
{
	struct ag_ctl_req req;

	ag_ctl_req_init(&req, AG_CTL_STATUS);
	return cmd_call(a, &req, status);
}

int fetch_list(const struct args *a, const char *city, const char *type, struct fetch_recs *all,
               bool *more)
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
	if (append(all, resp.records, resp.nrecords) != 0)
		rc = cmd_fail(a, EXIT_LOCAL, "out of memory");
	ag_ctl_resp_clear(&ag_ctl_records_shape, &resp);
	return rc;
}

int fetch_records(const struct args *a, const struct ag_ctl_node *status, struct fetch_recs *all)
{
	bool more = false;
	int rc;

	memset(all, 0, sizeof(*all));
	if ((rc = fetch_list(a, NULL, NULL, all, &more)) != 0 || !more)
		return rc;
	fetch_recs_clear(all);
	for (size_t i = 0; i < status->nfeeds; i++) {
		const struct ag_ctl_feed *f = &status->feeds[i];

		if ((rc = fetch_list(a, f->author, NULL, all, &more)) != 0)
			return rc;
		if (more)
			return cmd_fail(a, EXIT_REFUSED,
			                "%s's records are more than agorad sends at once",
			                f->name[0] ? f->name : "a city");
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
	if (page->nentries) /* an empty page holds no array at all: memcpy must not see its NULL */
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

int fetch_history(const struct args *a, const char *author, const char *type, const char *id,
                  struct ag_ctl_history *versions)
{
	struct ag_ctl_req req;
	int rc;

	memset(versions, 0, sizeof(*versions));
	ag_ctl_req_init(&req, AG_CTL_HISTORY);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TYPE, type)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_ID, id)) != 0 ||
	    (rc = cmd_req_set(a, &req, AG_CTL_F_CITY, author)) != 0)
		return rc;
	return cmd_call(a, &req, versions);
}
