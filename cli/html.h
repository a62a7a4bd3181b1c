/*
 * html.h: text made safe for HTML. Records come from other cities and are
 * treated as hostile: every byte of theirs goes through one of these, so
 * that no record can open a tag, close an attribute or end a script.
 */
#ifndef AGORA_HTML_H
#define AGORA_HTML_H

#include <jansson.h>
#include <stdio.h>

/*
 * s as HTML text or as the value of a quoted attribute: & < > " ' as
 * character references; control characters other than tab and line breaks
 * (which no record of a known type holds) as spaces.
 */
void html_text(FILE *, const char *s);

/* A JSON document inside <script type="application/json">: < > & as \u escapes. */
int html_json(FILE *, const json_t *doc);

#endif
