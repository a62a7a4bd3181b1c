/*
 * out.h: what agora prints. Errors are one line on stderr, "agora: what
 * failed: why"; results are a JSON document or text and tables for people,
 * on stdout. Column widths count what a terminal shows, so French accents,
 * Arabic and wide characters line up.
 */
#ifndef AGORA_OUT_H
#define AGORA_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Where output goes: stdout and stderr unless a test says otherwise. */
void out_set_files(FILE *out, FILE *err);
FILE *out_file(void);

/*
 * FILE.part for a file written whole or not at all (then renamed to FILE):
 * made here and now, never one that exists, never through a symbolic link
 * (in a shared directory another user could plant one there, pointing at a
 * file of ours to overwrite). NULL with errno set; out_part_strerror says why.
 */
FILE *out_part_open(const char *tmp);
const char *out_part_strerror(int err);

/* "agora: " and the message and a newline, on stderr. */
void out_err(const char *fmt, ...) OUT_PRINTF(1, 2);

/*
 * Text made safe to show in a terminal. Records, names and messages come from
 * other cities and are hostile input: what could drive a terminal or make a
 * line read as another is shown as a visible escape instead: a C0 control or
 * DEL as \x1b; a C1 control (U+0080 to U+009F: U+009B is CSI to many
 * terminals), a bidi embedding, override or isolate (U+202A to U+202E, U+2066
 * to U+2069) or a line or paragraph separator (U+2028, U+2029) as \u009b; a
 * byte that is not UTF-8 as \xff. A tab is a space; a line break (LF, or CR
 * LF) is a space too, so that a field stays on its line, unless OUT_LINES
 * keeps it (as LF); a CR alone is escaped. Everything agora prints for people
 * goes through here; --json does not (JSON escapes what it must, and stays exact).
 */
#define OUT_LINES 1

/*
 * s (n bytes) cleaned into buf as snprintf writes: at most len - 1 bytes and
 * a NUL (len > 0), cut before an escape or character that does not fit whole.
 * Returns the length of the whole, as snprintf does.
 */
size_t out_clean(char *buf, size_t len, const char *s, size_t n, int flags);

/* s cleaned, malloc'd; NULL if no memory. */
char *out_clean_dup(const char *s, int flags);

/* s (n bytes) cleaned onto stdout. */
void out_put(const char *s, size_t n, int flags);

/* Printf to stdout, cleaned, line breaks kept (OUT_LINES). */
void out_printf(const char *fmt, ...) OUT_PRINTF(1, 2);

/*
 * Printf of one line to stdout, cleaned, and a newline: a line break inside
 * it is a space, so that a record's title or a city's name cannot start a
 * line of its own.
 */
void out_line(const char *fmt, ...) OUT_PRINTF(1, 2);

/* Prints doc as one JSON document (indented, UTF-8 as is) and a newline. 0 or -1. */
int out_json(const json_t *doc);

/* Columns a terminal gives to s (n bytes of UTF-8, cleaned); a control character counts 1. */
size_t out_width(const char *s, size_t n);

/* The code point at s (n > 0 bytes left): its length in bytes, and in *width its columns, as
 * out_width counts them; an invalid byte is 1 and 1. */
size_t out_char(const char *s, size_t n, size_t *width);

/*
 * A table: a header row, then rows of cells, printed with each column as wide
 * as its widest cell (at most its limit, longer cells cut with "…"), two
 * spaces between, no trailing blanks. Cells are cleaned (out_clean, one
 * line each), so a record's text cannot break the layout.
 */
struct table;

struct table *table_new(size_t ncols, const char *const *headers);
void table_free(struct table *); /* NULL-safe */
/* Limits column col to max columns of the terminal (0: no limit, the default). */
void table_limit(struct table *, size_t col, size_t max);
/* Adds a row of ncols cells, copied; NULL is shown as "-". 0 or -1 (no memory). */
int table_add(struct table *, const char *const *cells);
size_t table_rows(const struct table *);
void table_print(const struct table *);

/* "2025-03-01 14:05" in local time, from milliseconds since the epoch; "-" for 0. */
void out_time(char *buf, size_t len, uint64_t ms);

/* The first n characters of a key or hash and "…", for tables; the whole if shorter. */
void out_short(char *buf, size_t len, const char *s, size_t n);

#endif
