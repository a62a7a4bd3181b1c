/*
 * report_filter.h: what the report's filter box needs from C, so that the
 * page folds what one types exactly as agorad's index folds records: the
 * folded words of each record, and the fold of every code point, as a table
 * that the page's script applies to the query (report.js, fold()).
 */
#ifndef AGORA_REPORT_FILTER_H
#define AGORA_REPORT_FILTER_H

#include <jansson.h>
#include <stdio.h>

/*
 * The distinct folded words of every string in v (its values, not its keys,
 * at any depth, as the index reads a body), separated by spaces, as a
 * string the caller frees; NULL if out of memory.
 */
char *filter_words(const json_t *v);

/*
 * The fold of every code point, 0 to 0x10FFFF, as one JSON document:
 * {"starts": [cp, ...], "folds": [f, ...]}, where folds[i] holds for every
 * code point from starts[i] up to the next start: null ends a word, "" drops
 * the code point, a number n maps cp to the code point cp + n (0: kept as
 * it is), a string is what cp folds to (a space in it ends a word). Runs of
 * the same fold are one entry, so the table is small (~N KB).
 */
int filter_table(FILE *out);

#endif
