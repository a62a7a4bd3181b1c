/* text.c: slugs, CSV fields, Markdown escaping and wrapping by display width. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "out.h"
#include "text.h"

/* Latin letters that have no decomposition, so folding accents leaves them be. */
static const char *fold_letter(utf8proc_int32_t cp)
{
	switch (cp) {
	case 0xe6: /* æ */
		return "ae";
	case 0x153: /* œ */
		return "oe";
	case 0xf8: /* ø */
		return "o";
	case 0x111: /* đ */
		return "d";
	case 0x142: /* ł */
		return "l";
	case 0xfe: /* þ */
		return "th";
	default:
		return NULL;
	}
}

/* Appends c to the slug, a run of separators as one hyphen, none leading. */
static void slug_put(char *out, size_t *n, char c)
{
	if (c == '-' && (*n == 0 || out[*n - 1] == '-'))
		return;
	if (*n < TEXT_SLUG_MAX)
		out[(*n)++] = c;
}

/* Cuts a slug that reached the limit at its last hyphen, so no word is halved. */
static void slug_end(char *out, size_t n, size_t full)
{
	char *dash;

	out[n] = '\0';
	if (full >= TEXT_SLUG_MAX && (dash = strrchr(out, '-')) && dash > out)
		*dash = '\0';
	n = strlen(out);
	while (n > 0 && out[n - 1] == '-')
		out[--n] = '\0';
}

int text_slug(const char *s, char out[static TEXT_SLUG_MAX + 1])
{
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t len, i = 0, step;
	utf8proc_int32_t cp;
	size_t n = 0, full = 0;
	const char *f;

	len = utf8proc_map((const utf8proc_uint8_t *)s, 0, &folded,
	                   UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
	                       UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
	if (len < 0)
		return -1;
	for (; i < len; i += step) {
		step = utf8proc_iterate(folded + i, len - i, &cp);
		if (cp < 0x80 && ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')))
			slug_put(out, &n, (char)cp);
		else if ((f = fold_letter(cp)))
			while (*f)
				slug_put(out, &n, *f++);
		else
			slug_put(out, &n, '-');
		full += n == TEXT_SLUG_MAX;
	}
	free(folded);
	slug_end(out, n, full ? TEXT_SLUG_MAX : 0);
	return out[0] ? 0 : -1;
}

void text_csv_field(FILE *f, const char *s)
{
	/*
	 * The text comes from other cities: a cell a spreadsheet would read as a
	 * formula (=, +, -, @, tab, CR first) is kept as text by a leading quote.
	 */
	int formula = *s && strchr("=+-@\t\r", *s);

	if (!strpbrk(s, ",\"\r\n")) {
		fprintf(f, "%s%s", formula ? "'" : "", s);
		return;
	}
	fputs(formula ? "\"'" : "\"", f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* What would make a line start a block (list, heading, quote, rule): its first char escaped. */
static const char *md_line_start(FILE *f, const char *s)
{
	size_t digits = strspn(s, "0123456789");

	if (*s == '-' || *s == '+' || *s == '*') {
		fputc('\\', f);
		fputc(*s, f);
		return s + 1;
	}
	if (*s == '=') {
		fputs("&#61;", f);
		return s + 1;
	}
	if (digits > 0 && (s[digits] == '.' || s[digits] == ')')) {
		fwrite(s, 1, digits, f);
		fputc('\\', f);
		fputc(s[digits], f);
		return s + digits + 1;
	}
	return s;
}

/* One character of text inside a line. */
static void md_char(FILE *f, char c, bool cell)
{
	if (c == '<')
		fputs("&lt;", f);
	else if (c == '>')
		fputs("&gt;", f);
	else if (c == '&')
		fputs("&amp;", f);
	else if (strchr("\\`*_[]#~", c) || (cell && c == '|'))
		fprintf(f, "\\%c", c);
	else if ((unsigned char)c < 0x20 || c == 0x7f)
		fputc(' ', f);
	else
		fputc(c, f);
}

void text_md(FILE *f, const char *s, bool cell)
{
	bool line_start = true;

	for (; *s; s++) {
		if (line_start) {
			s += strspn(s, " \t");
			s = md_line_start(f, s);
			line_start = false;
			if (!*s)
				break;
		}
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r') {
			fputc(cell ? ' ' : '\n', f);
			line_start = !cell;
			continue;
		}
		md_char(f, *s, cell);
	}
}

struct wrap {
	FILE *f;
	size_t indent, width, col; /* col: columns used on the current line, after the indent */
	bool fresh;                /* a new line whose indent is not printed yet */
};

/* Ends the line; the next one's indent waits for its text, so no line ends in blanks. */
static void wrap_newline(struct wrap *w)
{
	fputc('\n', w->f);
	w->col = 0;
	w->fresh = true;
}

static void wrap_put(struct wrap *w, const char *s, size_t n, size_t cols)
{
	if (w->fresh)
		fprintf(w->f, "%*s", (int)w->indent, "");
	w->fresh = false;
	fwrite(s, 1, n, w->f);
	w->col += cols;
}

/* One word (no blanks) of n bytes: on this line if it fits, else on the next; cut if wider. */
static void wrap_word(struct wrap *w, const char *s, size_t n)
{
	size_t cw, len;

	if (w->col > 0 && w->col + 1 + out_width(s, n) > w->width)
		wrap_newline(w);
	else if (w->col > 0)
		wrap_put(w, " ", 1, 1);
	for (size_t i = 0; i < n; i += len) {
		len = out_char(s + i, n - i, &cw);
		if (w->col > 0 && w->col + cw > w->width)
			wrap_newline(w);
		wrap_put(w, s + i, len, cw);
	}
}

void text_wrap(FILE *f, const char *text, size_t indent, size_t width)
{
	struct wrap w = {f, indent, width > indent + 20 ? width - indent : 20, 0, false};
	/* Cleaned before it is measured, so that an escape's width counts. */
	char *clean = out_clean_dup(text, OUT_LINES);
	const char *s = clean ? clean : "";
	size_t n;

	/* Blank lines at the end would only push the next field away. */
	while (*s && s[strspn(s, " \t\r\n")] != '\0') {
		n = strcspn(s, " \t\r\n");
		if (n > 0)
			wrap_word(&w, s, n);
		else if (*s == '\n')
			wrap_newline(&w);
		s += n ? n : 1;
	}
	fputc('\n', f);
	free(clean);
}
