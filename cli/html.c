/* html.c: text made safe for HTML (html.h). */
#include <stdlib.h>

#include "html.h"

void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? ' ' : c, f);
		}
	}
}

int html_json(FILE *f, const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		return -1;
	/* Outside strings JSON holds none of the three; inside them \u escapes read the same. */
	for (const char *p = s; *p; p++)
		if (*p == '<' || *p == '>' || *p == '&')
			fprintf(f, "\\u%04x", (unsigned)*p);
		else
			fputc(*p, f);
	free(s);
	return 0;
}
