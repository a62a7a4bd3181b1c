/*
 * text.h: a record's text made fit for where it goes: an id from a title,
 * a CSV field, Markdown that shows exactly what was written, and paragraphs
 * wrapped by the columns a terminal gives them (not by bytes), so French
 * accents, Arabic and wide characters wrap where a reader expects. Pure: no
 * state, each writes to the FILE it is given.
 */
#ifndef AGORA_TEXT_H
#define AGORA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TEXT_SLUG_MAX 64

/*
 * An id from a title: ASCII lowercase letters and digits, runs of anything
 * else as one hyphen, none at either end, accents folded ("Accès aux droits"
 * gives "acces-aux-droits"), at most TEXT_SLUG_MAX bytes cut at a hyphen.
 * Returns 0, or -1 when nothing is left (a title in Arabic script) or s is
 * not UTF-8. out must hold TEXT_SLUG_MAX + 1 bytes.
 */
int text_slug(const char *s, char out[static TEXT_SLUG_MAX + 1]);

/*
 * One CSV field (RFC 4180): quoted, with quotes doubled, when it holds , " CR
 * or LF; one that starts with = + - @ TAB or CR gets a leading ' so that no
 * spreadsheet runs it as a formula.
 */
void text_csv_field(FILE *, const char *s);

/*
 * s as Markdown text that renders as s: punctuation that Markdown reads is
 * escaped, < > & as entities (raw HTML never passes), a line's leading
 * blanks dropped (they would make a code block) and what would start a list,
 * quote or heading escaped. In a table cell (cell true) pipes are escaped
 * too and line breaks become spaces.
 */
void text_md(FILE *, const char *s, bool cell);

/*
 * Prints s in lines of at most width terminal columns, each line after the
 * first preceded by indent spaces (the caller has placed the first line),
 * breaking at spaces, and inside a word only when it is wider than a line.
 * s is cleaned first (out_clean), its line breaks kept. Ends with a newline.
 */
void text_wrap(FILE *, const char *s, size_t indent, size_t width);

#endif
