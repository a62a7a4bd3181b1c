/*
 * fetch.h: the requests that report, news, export and log make of agorad,
 * in one place: each reads the typed response (ctl_resp.h), and gives the
 * records typed, each with its body as JSON. Each returns 0, or the exit
 * status with the error printed.
 */
#ifndef AGORA_FETCH_H
#define AGORA_FETCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "ctl_resp.h"

/* A record as LIST gives it, with its body as JSON (an object; null for a retraction). */
struct fetch_rec {
	struct ag_ctl_record r;
	json_t *body;
};

/* Records gathered from one answer or several. */
struct fetch_recs {
	struct fetch_rec *v;
	size_t n;
};

void fetch_recs_clear(struct fetch_recs *);

/* The node's status as STATUS gives it (key, name, peers, feeds); cleared with ag_ctl_resp_clear.
 */
int fetch_status(const struct args *, struct ag_ctl_status_resp *status);

/*
 * Every live record of every feed in status, as LIST gives them: one LIST
 * for the node, or one per feed when the node's answer was cut short. The
 * caller clears all (fetch_recs_clear), also after a failure.
 */
int fetch_records(const struct args *, const struct ag_ctl_node *status, struct fetch_recs *all);

/*
 * LIST of one city (NULL: every one) and one type (NULL: every one): its
 * records appended to all, *more if the answer was cut short.
 */
int fetch_list(const struct args *, const char *city, const char *type, struct fetch_recs *all,
               bool *more);

/*
 * The entries of a city's feed (NULL: this node's) from seq since on, at
 * most limit (0: all), in seq order, page after page (LOG), into log (which
 * the caller clears with ag_ctl_resp_clear, also after a failure).
 */
int fetch_log_pages(const struct args *, const char *city, uint64_t since, uint64_t limit,
                    struct ag_ctl_log *log);

/* Every version of a record of a feed, oldest first (HISTORY); cleared with ag_ctl_resp_clear. */
int fetch_history(const struct args *, const char *author, const char *type, const char *id,
                  struct ag_ctl_history *versions);

#endif
