/*
 * snippet.h: a search hit's best snippet: the string of its body that holds
 * most of the query's words (a title's counting above a summary's, above
 * the rest), cut around them, with where each matched word is. A word
 * matches as the index matches it (fold.h, stem.h): folded alike, the same
 * stem in a language, or, for the last word of 4 letters or more or one
 * written "word*", as the start of a word.
 */
#ifndef AGORA_SNIPPET_H
#define AGORA_SNIPPET_H

#include <jansson.h>

#define SNIPPET_MAX 240 /* bytes of snippet text, about, besides the "…" at its ends */

/*
 * {"field": "summary.fr", "text": "...", "matches": [[start, end], ...]},
 * the offsets in bytes of text; NULL when no string of body matches (a
 * record found by its topic) or memory runs out. The caller owns it.
 */
json_t *snippet_find(const char *query, const json_t *body);

/* Prints a snippet on one line, its matches in bold when bold is set. */
void snippet_print(const json_t *snippet, int bold);

#endif
