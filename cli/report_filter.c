/*
 * report_filter.c: the folded words of a record, and the fold table the
 * report's script folds a query with; both from proto/fold.h, the index's own
 * folding, so that the page and agora search agree on what a word is.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "fold.h"
#include "report_filter.h"

/* ---- words ---- */

struct words {
	json_t *seen; /* word -> true, for distinctness */
	FILE *f;
	int n;
};

static int add_word(const char *w, size_t len, void *arg)
{
	struct words *ws = arg;
	char buf[AG_FOLD_WORD_MAX + 1];

	memcpy(buf, w, len);
	buf[len] = '\0';
	if (json_object_get(ws->seen, buf))
		return 0;
	json_object_set_new(ws->seen, buf, json_true());
	fprintf(ws->f, "%s%s", ws->n++ ? " " : "", buf);
	return 0;
}

static void walk(struct words *ws, const json_t *v)
{
	const char *k, *s;
	json_t *e;
	size_t i;

	if ((s = json_string_value(v)))
		ag_fold_words(s, json_string_length(v), add_word, ws);
	else if (json_is_array(v))
		json_array_foreach(v, i, e) walk(ws, e);
	else if (json_is_object(v))
		json_object_foreach((json_t *)(uintptr_t)v, k, e) walk(ws, e);
}

char *filter_words(const json_t *v)
{
	struct words ws = {json_object(), NULL, 0};
	char *s = NULL;
	size_t len = 0;

	if (ws.seen && (ws.f = open_memstream(&s, &len))) {
		walk(&ws, v);
		if (fclose(ws.f) != 0) {
			free(s);
			s = NULL;
		}
	}
	json_decref(ws.seen);
	return s;
}

/* ---- the table ---- */

enum kind { K_BREAK, K_DROP, K_SHIFT, K_STR, K_HANGUL };

#define HANGUL_FIRST 0xac00
#define HANGUL_LAST  0xd7a3

/*
 * Is f what Unicode's algorithm decomposes the Hangul syllable cp into (its
 * leading, vowel and trailing jamo)? 11,172 syllables would make the table
 * thirty times larger, so the script decomposes them by that algorithm
 * where the table says true; a syllable that folds otherwise is listed.
 */
static bool hangul_algorithmic(uint32_t cp, const uint8_t *f, size_t n)
{
	uint32_t s = cp - HANGUL_FIRST,
	         jamo[3] = {0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11a7 + s % 28};
	uint8_t want[12];
	size_t len = 0;

	for (int i = 0; i < (s % 28 ? 3 : 2); i++)
		len += (size_t)utf8proc_encode_char((utf8proc_int32_t)jamo[i], want + len);
	return n == len && memcmp(f, want, len) == 0;
}

/* How cp folds: a kind, and for K_SHIFT the offset, for K_STR the bytes. */
static enum kind fold_kind(uint32_t cp, uint8_t f[static AG_FOLD_CHAR_MAX], size_t *n, long *shift)
{
	utf8proc_int32_t c;

	*n = ag_fold_char(cp, f);
	if (cp >= HANGUL_FIRST && cp <= HANGUL_LAST && hangul_algorithmic(cp, f, *n))
		return K_HANGUL;
	if (*n == 0)
		return K_DROP;
	if (*n == 1 && f[0] == 0)
		return K_BREAK;
	if (memchr(f, 0, *n) == NULL &&
	    utf8proc_iterate(f, (utf8proc_ssize_t)*n, &c) == (utf8proc_ssize_t)*n) {
		*shift = (long)c - (long)cp;
		return K_SHIFT;
	}
	return K_STR;
}

/* A folded string as a JSON string: a 0 byte (a word's end) as a space. */
static void put_str(FILE *out, const uint8_t *f, size_t n)
{
	char buf[AG_FOLD_CHAR_MAX + 1];
	json_t *s;
	char *js;

	for (size_t i = 0; i < n; i++)
		buf[i] = f[i] ? (char)f[i] : ' ';
	s = json_stringn(buf, n);
	js = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	fputs(js ? js : "\"\"", out);
	free(js);
	json_decref(s);
}

int filter_table(FILE *out)
{
	FILE *folds;
	char *fs = NULL;
	size_t fslen = 0, n, count = 0;
	uint8_t f[AG_FOLD_CHAR_MAX];
	enum kind last = K_STR;
	long shift = 0, lastshift = 0;

	if (!(folds = open_memstream(&fs, &fslen)))
		return -1;
	fputs("{\"starts\":[", out);
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		enum kind k = fold_kind(cp, f, &n, &shift);

		/* A run goes on while the fold is the same: a code point of its own each time for
		 * K_STR. */
		if (k == last && k != K_STR && (k != K_SHIFT || shift == lastshift))
			continue;
		fprintf(out, "%s%lu", count ? "," : "", (unsigned long)cp);
		fputs(count++ ? "," : "", folds);
		if (k == K_BREAK)
			fputs("null", folds);
		else if (k == K_DROP)
			fputs("\"\"", folds);
		else if (k == K_HANGUL)
			fputs("true", folds);
		else if (k == K_SHIFT)
			fprintf(folds, "%ld", shift);
		else
			put_str(folds, f, n);
		last = k;
		lastshift = shift;
	}
	if (fclose(folds) != 0) {
		free(fs);
		return -1;
	}
	fprintf(out, "],\"folds\":[%s]}", fs);
	free(fs);
	return ferror(out) ? -1 : 0;
}
