/* snippet.c: a search hit's best snippet (snippet.h). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "fold.h"
#include "out.h"
#include "snippet.h"
#include "stem.h"

#define QWORDS_MAX 16
#define MATCH_MAX  64
#define PREFIX_MIN 4 /* letters of the last word that also match as a start */

/* A query word: folded, and its stem in each language (the word itself where it has none). */
struct qword {
	char w[AG_FOLD_WORD_MAX + 1];
	char stem[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1];
	char whole[AG_FOLD_WORD_MAX + 1]; /* an Arabic word's stem with its first letter kept */
	int prefix;                       /* it matches as the start of a word too */
	int star;                         /* written "word*": only so */
};

struct query {
	struct qword q[QWORDS_MAX];
	size_t n;
	struct ag_stemmer *st;
};

static void stems_of(struct ag_stemmer *st, const char *w, size_t len,
                     char stem[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1],
                     char whole[AG_FOLD_WORD_MAX + 1])
{
	size_t n;

	for (int l = AG_LANG_AR; l < AG_LANG_COUNT; l++) {
		if ((n = ag_stem(st, (enum ag_lang)l, w, len, stem[l])) == 0)
			memcpy(stem[l], w, n = len);
		stem[l][n] = 0;
	}
	n = ag_stem_whole(st, w, len, whole);
	whole[n] = 0;
}

static int query_word(const char *w, size_t len, void *arg)
{
	struct query *q = arg;
	struct qword *qw;

	if (q->n == QWORDS_MAX)
		return 1;
	qw = &q->q[q->n++];
	memset(qw, 0, sizeof(*qw));
	memcpy(qw->w, w, len);
	stems_of(q->st, w, len, qw->stem, qw->whole);
	return 0;
}

/* The query's words, token by token, so that a '*' marks the word before it. */
static void query_read(struct query *q, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, " \t\n\r"), before = q->n;

		(void)ag_fold_words(text, n, query_word, q);
		if (n && text[n - 1] == '*' && q->n > before)
			q->q[q->n - 1].prefix = q->q[q->n - 1].star = 1;
		text += n;
		text += strspn(text, " \t\n\r");
	}
	if (q->n && ag_fold_chars(q->q[q->n - 1].w, strlen(q->q[q->n - 1].w)) >= PREFIX_MIN)
		q->q[q->n - 1].prefix = 1;
}

/* Which query word a folded word of the text is, or -1. */
static int word_match(const struct query *q, const char *w, size_t len)
{
	char stem[AG_LANG_COUNT][AG_FOLD_WORD_MAX + 1], whole[AG_FOLD_WORD_MAX + 1];

	stems_of(q->st, w, len, stem, whole);
	for (size_t i = 0; i < q->n; i++) {
		const struct qword *qw = &q->q[i];

		if ((strlen(qw->w) == len && memcmp(qw->w, w, len) == 0) ||
		    (qw->prefix && strlen(qw->w) <= len && memcmp(qw->w, w, strlen(qw->w)) == 0))
			return (int)i;
		for (int l = AG_LANG_AR; l < AG_LANG_COUNT && !qw->star; l++)
			if (strcmp(qw->stem[l], stem[l]) == 0)
				return (int)i;
		if (!qw->star && ((whole[0] && strcmp(whole, qw->stem[AG_LANG_AR]) == 0) ||
		                  (qw->whole[0] && strcmp(qw->whole, stem[AG_LANG_AR]) == 0)))
			return (int)i;
	}
	return -1;
}

/* A string's matched words: their byte ranges in it, and which query words they are. */
struct found {
	size_t at[MATCH_MAX][2];
	size_t n;
	unsigned words; /* a bit per query word matched */
};

/* A word of the text being gathered, folded as ag_fold_words folds it, with where it is. */
struct word {
	char w[AG_FOLD_WORD_MAX];
	size_t len, ncp, start, end;
};

static void word_end(const struct query *q, struct word *w, struct found *f)
{
	int i;

	if (w->ncp >= 2 && (i = word_match(q, w->w, w->len)) >= 0 && f->n < MATCH_MAX) {
		f->at[f->n][0] = w->start;
		f->at[f->n++][1] = w->end;
		f->words |= 1u << i;
	}
	w->len = w->ncp = 0;
}

/* Folds s one code point at a time, with ag_fold_char: the folding the index uses. */
static void string_scan(const struct query *q, const char *s, size_t len, struct found *f)
{
	struct word w = {.len = 0};
	size_t pos = 0;

	memset(f, 0, sizeof(*f));
	while (pos < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t step =
		    utf8proc_iterate((const uint8_t *)s + pos, (utf8proc_ssize_t)(len - pos), &cp);
		uint8_t out[AG_FOLD_CHAR_MAX];
		size_t n;

		if (step <= 0)
			step = 1, cp = ' ';
		n = ag_fold_char((uint32_t)cp, out);
		for (size_t i = 0; i < n;) {
			size_t cl = out[i] < 0x80 ? 1 : out[i] < 0xe0 ? 2 : out[i] < 0xf0 ? 3 : 4;

			if (out[i] == 0) {
				word_end(q, &w, f);
				i++;
				continue;
			}
			if (w.ncp == 0)
				w.start = pos;
			if (w.len + cl <= AG_FOLD_WORD_MAX && i + cl <= n) {
				memcpy(w.w + w.len, out + i, cl);
				w.len += cl;
				w.ncp++;
			}
			w.end = pos + (size_t)step;
			i += cl;
		}
		pos += (size_t)step;
	}
	word_end(q, &w, f);
}

/* The best string so far. */
struct best {
	char field[128];
	const char *s;
	size_t len;
	struct found f;
	unsigned score;
};

static unsigned popcount(unsigned x)
{
	return (unsigned)__builtin_popcount(x);
}

static unsigned field_weight(const char *field)
{
	if (strncmp(field, "title", 5) == 0 && (field[5] == 0 || field[5] == '.'))
		return 3;
	if (strncmp(field, "summary", 7) == 0 && (field[7] == 0 || field[7] == '.'))
		return 2;
	return 1;
}

static void walk(const struct query *q, const json_t *v, const char *path, struct best *b)
{
	char sub[128];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		struct found f;
		unsigned score;

		string_scan(q, json_string_value(v), json_string_length(v), &f);
		score = popcount(f.words) * 4 + field_weight(path);
		if (f.n && score > b->score) {
			snprintf(b->field, sizeof(b->field), "%s", path);
			b->s = json_string_value(v);
			b->len = json_string_length(v);
			b->f = f;
			b->score = score;
		}
		return;
	}
	json_object_foreach((json_t *)(uintptr_t)v, k, x)
	{
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
		walk(q, x, sub, b);
	}
	json_array_foreach(v, i, x)
	{
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		walk(q, x, sub, b);
	}
}

/* Where a cut at or before at falls on a character boundary. */
static size_t boundary(const char *s, size_t at)
{
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/* The snippet of the best string: SNIPPET_MAX bytes around its first match. */
static json_t *snippet_make(const struct best *b)
{
	size_t from = 0, to = b->len, first = b->f.at[0][0];
	json_t *m = json_array(), *out;
	char *text;

	if (b->len > SNIPPET_MAX) {
		from = boundary(b->s, first > SNIPPET_MAX / 4 ? first - SNIPPET_MAX / 4 : 0);
		to = from + SNIPPET_MAX < b->len ? boundary(b->s, from + SNIPPET_MAX) : b->len;
	}
	if (!m || !(text = malloc(to - from + 7))) {
		json_decref(m);
		return NULL;
	}
	snprintf(text, to - from + 7, "%s%.*s%s", from ? "…" : "", (int)(to - from), b->s + from,
	         to < b->len ? "…" : "");
	/* A record's text is no terminal's command: controls, C0 and C1, become spaces. */
	for (char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			*p = ' ';
		else if (c == 0xc2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f)
			p[0] = p[1] = ' ';
	}
	for (size_t i = 0; i < b->f.n; i++)
		if (b->f.at[i][0] >= from && b->f.at[i][1] <= to) {
			size_t shift = from ? strlen("…") : 0;

			json_array_append_new(
			    m, json_pack("[I, I]", (json_int_t)(b->f.at[i][0] - from + shift),
			                 (json_int_t)(b->f.at[i][1] - from + shift)));
		}
	out = json_pack("{s:s, s:s, s:o}", "field", b->field, "text", text, "matches", m);
	free(text);
	return out;
}

json_t *snippet_find(const char *query, const json_t *body)
{
	struct query *q = calloc(1, sizeof(*q));
	struct best b = {.score = 0};
	json_t *out = NULL;

	if (!q || !(q->st = ag_stemmer_new())) {
		free(q);
		return NULL;
	}
	query_read(q, query);
	walk(q, body, "", &b);
	if (b.s)
		out = snippet_make(&b);
	ag_stemmer_free(q->st);
	free(q);
	return out;
}

void snippet_print(const json_t *snippet, int bold)
{
	const char *t = json_string_value(json_object_get(snippet, "text"));
	const json_t *m = json_object_get(snippet, "matches");
	size_t at = 0, i;
	json_t *r;

	if (!t)
		return;
	/* The text is a record's, cleaned to one line; the bold is ours, written as it is. */
	out_printf("    ");
	json_array_foreach(m, i, r)
	{
		size_t s = (size_t)json_integer_value(json_array_get(r, 0));
		size_t e = (size_t)json_integer_value(json_array_get(r, 1));

		if (s < at || e < s || e > strlen(t))
			continue;
		out_put(t + at, s - at, 0);
		fputs(bold ? "\033[1m" : "", out_file());
		out_put(t + s, e - s, 0);
		fputs(bold ? "\033[0m" : "", out_file());
		at = e;
	}
	out_put(t + at, strlen(t + at), 0);
	fputc('\n', out_file());
}
