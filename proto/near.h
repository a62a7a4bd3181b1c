/*
 * near.h: "did you mean": the known word a typo most likely meant, for the
 * schema's field and vocabulary names and the config's sections and keys.
 */
#ifndef AGORA_NEAR_H
#define AGORA_NEAR_H

#include <stddef.h>

/*
 * The optimal string alignment distance between a and b (insertions,
 * deletions, substitutions and swaps of two neighbours, each one edit),
 * ASCII case ignored; SIZE_MAX when either is longer than 40 bytes.
 */
size_t ag_near_distance(const char *a, size_t la, const char *b, size_t lb);

/*
 * The candidate nearest to s within one edit (for candidates of 4 bytes or
 * fewer) or two, the first of equals; NULL when none is so near. The n
 * candidates are strings stride bytes apart, as the name field of a table
 * of structs is; a NULL one ends the table early.
 */
const char *ag_nearest(const char *s, size_t len, const char *const *cands, size_t stride,
                       size_t n);

#endif
