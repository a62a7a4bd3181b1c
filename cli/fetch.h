/*
 * fetch.h: every request that report, news and edit make of agorad, in one
 * place, through the calls the other commands use (cmd_call), so that a
 * change of the control codec changes this file only. Each returns 0, or
 * the exit status with the error printed.
 */
#ifndef AGORA_FETCH_H
#define AGORA_FETCH_H

#include <jansson.h>
#include <stdint.h>

#include "cmd.h"

/* The node's status as STATUS gives it: key, name, peers, feeds. */
int fetch_status(const struct args *, json_t **status);

/*
 * Every live record of every feed in status, as LIST gives them (author,
 * name, type, id, seq, timestamp, hash, body): one LIST for the node, or one
 * per feed when the node's answer was cut short.
 */
int fetch_records(const struct args *, const json_t *status, json_t **records);

/* The entries of a feed from seq since on, in seq order, page after page (LOG). */
int fetch_log(const struct args *, const char *author, uint64_t since, json_t **entries);

/* Every version of a record of a feed, oldest first (HISTORY). */
int fetch_history(const struct args *, const char *author, const char *type, const char *id,
                  json_t **versions);

#endif
