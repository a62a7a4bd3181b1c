/*
 * fold.c: text folded into words (fold.h).
 *
 * Folding each BMP code point once, at first use, makes the word splitter a
 * table lookup: fold_ix holds offset << 8 | length into fold_pool, where a
 * 0 byte is a word boundary and other bytes are UTF-8 of kept characters.
 * The table is a cache of ag_fold_char, built once and only read after:
 * it changes no result, only how fast one comes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "bytes.h"
#include "fold.h"

#define FOLD_BMP 0x10000

static uint32_t fold_ix[FOLD_BMP];
static uint8_t *fold_pool;
static uint8_t fold_ascii[128]; /* the same for ASCII, one byte each: 0 is a boundary */
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

enum { FOLD_KEEP, FOLD_DROP, FOLD_BREAK };

static int fold_class(utf8proc_int32_t c)
{
	if (c == 0x0640) /* Arabic tatweel stretches a word; it is not part of it */
		return FOLD_DROP;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_MC:
		return FOLD_KEEP;
	case UTF8PROC_CATEGORY_MN: /* accents, Arabic harakat */
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_CF: /* soft hyphen, zero-width joiners */
		return FOLD_DROP;
	default:
		return FOLD_BREAK;
	}
}

/*
 * Letters that Arabic writers use interchangeably, normalised as Lucene's
 * ArabicNormalizer does, and Arabic-Indic digits as ASCII digits.
 */
static utf8proc_int32_t fold_arabic(utf8proc_int32_t c)
{
	if (c == 0x0649) /* alef maqsura */
		return 0x064a;
	if (c == 0x0629) /* teh marbuta */
		return 0x0647;
	if (c >= 0x0660 && c <= 0x0669)
		return '0' + (c - 0x0660);
	if (c >= 0x06f0 && c <= 0x06f9)
		return '0' + (c - 0x06f0);
	return c;
}

size_t ag_fold_char(uint32_t cp, uint8_t out[static AG_FOLD_CHAR_MAX])
{
	utf8proc_int32_t dec[24];
	utf8proc_ssize_t n;
	size_t len = 0;
	int last = 0;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		out[0] = 0;
		return 1;
	}
	n = utf8proc_decompose_char((utf8proc_int32_t)cp, dec, 24,
	                            UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD,
	                            &last);
	if (n < 0 || n > 24) {
		out[0] = 0;
		return 1;
	}
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		switch (fold_class(dec[i])) {
		case FOLD_KEEP:
			len += utf8proc_encode_char(fold_arabic(dec[i]), out + len);
			break;
		case FOLD_BREAK:
			out[len++] = 0;
			break;
		}
	}
	return len;
}

static void fold_build(void)
{
	size_t cap = 4 * FOLD_BMP, len = 0;
	uint8_t buf[AG_FOLD_CHAR_MAX];

	for (uint32_t cp = 0; cp < 128; cp++)
		fold_ascii[cp] = ag_fold_char(cp, buf) == 1 ? buf[0] : 0;
	fold_pool = malloc(cap);
	for (uint32_t cp = 0; fold_pool && cp < FOLD_BMP; cp++) {
		size_t n = ag_fold_char(cp, buf);

		if (len + n > cap) {
			uint8_t *p = realloc(fold_pool, cap * 2);

			if (!p) {
				free(fold_pool);
				fold_pool = NULL;
				break;
			}
			fold_pool = p;
			cap *= 2;
		}
		memcpy(fold_pool + len, buf, n);
		fold_ix[cp] = (uint32_t)len << 8 | (uint32_t)n;
		len += n;
	}
}

/* The folded bytes of cp: from the table, or folded into tmp outside the BMP. */
static const uint8_t *fold_lookup(uint32_t cp, uint8_t tmp[static AG_FOLD_CHAR_MAX], size_t *n)
{
	if (cp < FOLD_BMP && fold_pool) {
		*n = fold_ix[cp] & 0xff;
		return fold_pool + (fold_ix[cp] >> 8);
	}
	*n = ag_fold_char(cp, tmp);
	return tmp;
}

/* A word being gathered: cut at AG_FOLD_WORD_MAX bytes, on a character boundary. */
struct word {
	char b[AG_FOLD_WORD_MAX];
	size_t len, ncp;
};

static int word_end(struct word *w, ag_fold_word_fn *fn, void *arg)
{
	int rc = 0;

	if (w->ncp >= 2)
		rc = fn(w->b, w->len, arg);
	w->len = w->ncp = 0;
	return rc;
}

static int word_feed(struct word *w, const uint8_t *f, size_t n, ag_fold_word_fn *fn, void *arg)
{
	int rc;

	for (size_t i = 0; i < n;) {
		size_t cl = f[i] < 0x80 ? 1 : f[i] < 0xe0 ? 2 : f[i] < 0xf0 ? 3 : 4;

		if (f[i] == 0) {
			if ((rc = word_end(w, fn, arg)) != 0)
				return rc;
			i++;
			continue;
		}
		if (w->len + cl <= AG_FOLD_WORD_MAX && i + cl <= n) {
			memcpy(w->b + w->len, f + i, cl);
			w->len += cl;
			w->ncp++;
		}
		i += cl;
	}
	return 0;
}

/* How many of the eight bytes in x (the first in its low byte) are 'a' to 'z' before one is not. */
static size_t lower_run(uint64_t x)
{
	const uint64_t high = 0x8080808080808080ull;
	uint64_t y = x & ~high; /* below 0x80 each: the sums below carry into no other byte */
	uint64_t lower = (y + 0x1f1f1f1f1f1f1f1full) & ~(y + 0x0505050505050505ull) & ~x & high;
	uint64_t other = ~lower & high;

	return other ? (size_t)__builtin_ctzll(other) / 8 : 8;
}

/*
 * Gathers the run of ASCII word characters at s, the most of any text: one
 * table lookup a byte, the word's length kept in a register. Returns the
 * bytes read.
 */
static size_t ascii_run(struct word *w, const uint8_t *s, size_t len)
{
	size_t i = 0, n = w->len;
	uint8_t c;

	/* Lowercase letters, which fold to themselves, eight at a time while the word has room. */
	while (len - i >= 8 && n + 8 <= AG_FOLD_WORD_MAX) {
		size_t k = lower_run(ag_le_load(s + i, 8));

		/* All eight copied; the bytes past k are not the word's: w->len says so. */
		memcpy(w->b + n, s + i, 8);
		n += k;
		i += k;
		if (k < 8)
			break;
	}
	for (; i < len && s[i] < 0x80 && (c = fold_ascii[s[i]]) != 0; i++)
		if (n < AG_FOLD_WORD_MAX)
			w->b[n++] = (char)c;
	w->ncp += n - w->len;
	w->len = n;
	return i;
}

size_t ag_fold_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

int ag_fold_words(const char *text, size_t len, ag_fold_word_fn *fn, void *arg)
{
	const uint8_t *s = (const uint8_t *)text;
	uint8_t tmp[AG_FOLD_CHAR_MAX];
	struct word w = {.len = 0};
	size_t pos = 0, n;
	int rc;

	pthread_once(&fold_once, fold_build);
	while (pos < len) {
		utf8proc_int32_t cp = s[pos];
		utf8proc_ssize_t step = 2;
		const uint8_t *f;

		if (cp < 0x80) {
			if (fold_ascii[cp]) {
				pos += ascii_run(&w, s + pos, len - pos);
				continue;
			}
			pos++; /* an ASCII boundary */
			if (w.len && (rc = word_end(&w, fn, arg)) != 0)
				return rc;
			continue;
		}
		if (cp >= 0xc2 && cp < 0xe0 && pos + 1 < len && (s[pos + 1] & 0xc0) == 0x80) {
			cp = (cp & 0x1f) << 6 | (s[pos + 1] & 0x3f); /* accents, Arabic */
		} else {
			step = utf8proc_iterate(s + pos, (utf8proc_ssize_t)(len - pos), &cp);
			if (step <= 0) { /* not UTF-8: a boundary */
				step = 1;
				cp = ' ';
			}
		}
		f = fold_lookup((uint32_t)cp, tmp, &n);
		if ((rc = word_feed(&w, f, n, fn, arg)) != 0)
			return rc;
		pos += (size_t)step;
	}
	return word_end(&w, fn, arg);
}
