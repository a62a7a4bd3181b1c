/*
 * fetch.h: the requests that report, news, export and log make of agorad,
 * in one place: each reads the typed response (ctl_resp.h) and gives the
 * records as --json prints them (ctlj, by the same table) or typed. Each
 * returns 0, or the exit status with the error printed.
 */
#ifndef AGORA_FETCH_H
#define AGORA_FETCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "ctl_resp.h"

/* The node's status as STATUS gives it: key, name, peers, feeds. */
int fetch_status(const struct args *, json_t **status);

/*
 * Every live record of every feed in status, as LIST gives them (author,
 * name, type, id, seq, timestamp, hash, body): one LIST for the node, or one
 * per feed when the node's answer was cut short.
 */
int fetch_records(const struct args *, const json_t *status, json_t **records);

/*
 * LIST of one city (NULL: every one) and one type (NULL: every one): its
 * records appended to all, *more if the answer was cut short.
 */
int fetch_list(const struct args *, const char *city, const char *type, json_t *all, bool *more);

/*
 * The entries of a city's feed (NULL: this node's) from seq since on, at
 * most limit (0: all), in seq order, page after page (LOG), into log (which
 * the caller clears with ag_ctl_resp_clear, also after a failure).
 */
int fetch_log_pages(const struct args *, const char *city, uint64_t since, uint64_t limit,
                    struct ag_ctl_log *log);

/* The entries of a feed from seq since on, in seq order, page after page (LOG). */
int fetch_log(const struct args *, const char *author, uint64_t since, json_t **entries);

/* Every version of a record of a feed, oldest first (HISTORY). */
int fetch_history(const struct args *, const char *author, const char *type, const char *id,
                  json_t **versions);

#endif
