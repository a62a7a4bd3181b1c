/* out.c: agora's output layer: one-line errors, JSON documents, tables that line up. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "out.h"

static FILE *out_stream, *err_stream;

void out_set_files(FILE *out, FILE *err)
{
	out_stream = out;
	err_stream = err;
}

FILE *out_file(void)
{
	return out_stream ? out_stream : stdout;
}

FILE *out_part_open(const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "w"))) {
		int e = errno;

		close(fd);
		unlink(tmp);
		errno = e;
	}
	return f;
}

const char *out_part_strerror(int err)
{
	return err == EEXIST || err == ELOOP
	           ? "it exists (left by a failed write, or planted): remove it and try again"
	           : strerror(err);
}

static FILE *err_file(void)
{
	return err_stream ? err_stream : stderr;
}

/* Whether the character cp is shown as an escape (out.h says which and why). */
static bool clean_escaped(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/*
 * The next piece of s (n > 0 bytes left): returns how many bytes of s it
 * takes, with what it is shown as in *out (s itself, a space or newline, or
 * the escape written in esc) and its length in *outlen.
 */
static size_t clean_piece(const char *s, size_t n, int flags, char esc[static 8], const char **out,
                          size_t *outlen)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t len =
	    utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
	size_t take = len > 0 ? (size_t)len : 1;
	bool crlf = len == 1 && cp == '\r' && n > 1 && s[1] == '\n';

	*out = s;
	*outlen = take;
	if (len > 0 && !clean_escaped(cp))
		return take;
	if (crlf || (len == 1 && cp == '\n')) {
		*out = flags & OUT_LINES ? "\n" : " ";
		*outlen = 1;
		return crlf ? 2 : 1;
	}
	if (len == 1 && cp == '\t') {
		*out = " ";
		return 1;
	}
	if (len <= 0)
		snprintf(esc, 8, "\\x%02x", (unsigned char)*s);
	else
		snprintf(esc, 8, cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
	*out = esc;
	*outlen = strlen(esc);
	return take;
}

size_t out_clean(char *buf, size_t len, const char *s, size_t n, int flags)
{
	size_t at = 0, total = 0, plen;
	bool full = false;
	const char *p;
	char esc[8];

	for (size_t i = 0; i < n;) {
		i += clean_piece(s + i, n - i, flags, esc, &p, &plen);
		full = full || at + plen >= len;
		if (!full) {
			memcpy(buf + at, p, plen);
			at += plen;
		}
		total += plen;
	}
	buf[at] = '\0';
	return total;
}

char *out_clean_dup(const char *s, int flags)
{
	char probe[1];
	size_t n = strlen(s), need = out_clean(probe, sizeof(probe), s, n, flags);
	char *c = malloc(need + 1);

	if (c)
		out_clean(c, need + 1, s, n, flags);
	return c;
}

static void clean_write(FILE *f, const char *s, size_t n, int flags)
{
	const char *p;
	size_t plen;
	char esc[8];

	for (size_t i = 0; i < n;) {
		i += clean_piece(s + i, n - i, flags, esc, &p, &plen);
		fwrite(p, 1, plen, f);
	}
}

void out_put(const char *s, size_t n, int flags)
{
	clean_write(out_file(), s, n, flags);
}

/* The formatted text, cleaned, onto f. */
static void clean_vprintf(FILE *f, int flags, const char *fmt, va_list ap)
{
	char small[512], *big = NULL;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof(small) && (big = malloc((size_t)n + 1)))
		vsnprintf(big, (size_t)n + 1, fmt, again);
	va_end(again);
	if (n >= 0)
		clean_write(f, big ? big : small, big ? (size_t)n : strlen(small), flags);
	free(big);
}

void out_err(const char *fmt, ...)
{
	FILE *f = err_file();
	va_list ap;

	/* One line, whatever the message holds: it may quote a peer's text. */
	fputs("agora: ", f);
	va_start(ap, fmt);
	clean_vprintf(f, 0, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

void out_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	clean_vprintf(out_file(), OUT_LINES, fmt, ap);
	va_end(ap);
}

void out_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	clean_vprintf(out_file(), 0, fmt, ap);
	va_end(ap);
	fputc('\n', out_file());
}

int out_json(const json_t *doc)
{
	if (json_dumpf(doc, out_file(), JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	fputc('\n', out_file());
	return 0;
}

size_t out_char(const char *s, size_t n, size_t *width)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t len =
	    utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
	int w;

	if (len <= 0) {
		*width = 1;
		return 1;
	}
	w = cp < 0x20 || cp == 0x7f ? 1 : utf8proc_charwidth(cp);
	*width = w < 0 ? 0 : (size_t)w;
	return (size_t)len;
}

size_t out_width(const char *s, size_t n)
{
	size_t w = 0, cw, i = 0;

	while (i < n) {
		i += out_char(s + i, n - i, &cw);
		w += cw;
	}
	return w;
}

struct table {
	size_t ncols, nrows, caprows;
	char **cells; /* nrows * ncols, row 0 the header */
	size_t *limit;
};

/* A copy of s cleaned to one line. */
static char *cell_dup(const char *s)
{
	return out_clean_dup(s ? s : "-", 0);
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t || !(t->limit = calloc(ncols, sizeof(*t->limit)))) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	if (table_add(t, headers) != 0) {
		table_free(t);
		return NULL;
	}
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->limit);
	free(t);
}

void table_limit(struct table *t, size_t col, size_t max)
{
	if (col < t->ncols)
		t->limit[col] = max;
}

int table_add(struct table *t, const char *const *cells)
{
	char **c;

	if (t->nrows == t->caprows) {
		size_t cap = t->caprows ? 2 * t->caprows : 16;

		if (!(c = realloc(t->cells, cap * t->ncols * sizeof(*c))))
			return -1;
		t->cells = c;
		t->caprows = cap;
	}
	c = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++)
		if (!(c[i] = cell_dup(cells[i]))) {
			while (i-- > 0)
				free(c[i]);
			return -1;
		}
	t->nrows++;
	return 0;
}

size_t table_rows(const struct table *t)
{
	return t->nrows - 1;
}

static size_t cell_width(const struct table *t, size_t col, const char *s)
{
	size_t w = out_width(s, strlen(s));

	return t->limit[col] && w > t->limit[col] ? t->limit[col] : w;
}

/* Prints s in at most max columns, cut with "…" if it is wider; returns the columns used. */
static size_t print_cut(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0, w = 0, cw, len;

	if (out_width(s, n) <= max) {
		fputs(s, f);
		return out_width(s, n);
	}
	if (max == 0)
		return 0;
	while (i < n) {
		len = out_char(s + i, n - i, &cw);
		if (w + cw > max - 1)
			break;
		fwrite(s + i, 1, len, f);
		w += cw;
		i += len;
	}
	fputs("…", f);
	return w + 1;
}

void table_print(const struct table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width));
	FILE *f = out_file();

	if (!width)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = cell_width(t, c, t->cells[r * t->ncols + c]);

			width[c] = w > width[c] ? w : width[c];
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			size_t used = print_cut(f, t->cells[r * t->ncols + c], width[c]);

			/* Pad between columns, never after the last. */
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(width[c] - used + 2), "");
		}
		fputc('\n', f);
	}
	free(width);
}

void out_time(char *buf, size_t len, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || !localtime_r(&s, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "-");
}

void out_short(char *buf, size_t len, const char *s, size_t n)
{
	if (strlen(s) <= n + 1)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%.*s…", (int)n, s);
}
