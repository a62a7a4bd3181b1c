/*
 * report_fold.c: daemon/index.c's folding, copied until proto/fold.c takes
 * it (report_fold.h says why). Keep it byte for byte the index's rules.
 */
#include <utf8proc.h>

#include "report_fold.h"

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

/* Alef maqsura as yeh, teh marbuta as heh, Arabic-Indic digits as ASCII, as the index does. */
static utf8proc_int32_t fold_arabic(utf8proc_int32_t c)
{
	if (c == 0x0649)
		return 0x064a;
	if (c == 0x0629)
		return 0x0647;
	if (c >= 0x0660 && c <= 0x0669)
		return '0' + (c - 0x0660);
	if (c >= 0x06f0 && c <= 0x06f9)
		return '0' + (c - 0x06f0);
	return c;
}

size_t rfold_char(uint32_t cp, uint8_t out[static RFOLD_CHAR_MAX])
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
			len += (size_t)utf8proc_encode_char(fold_arabic(dec[i]), out + len);
			break;
		case FOLD_BREAK:
			out[len++] = 0;
			break;
		}
	}
	return len;
}

/* A word being gathered: cut at RFOLD_WORD_MAX bytes, on a character boundary. */
struct word {
	char b[RFOLD_WORD_MAX];
	size_t len, ncp;
};

static int word_end(struct word *w, rfold_word_fn *fn, void *arg)
{
	int rc = 0;

	if (w->ncp >= 2)
		rc = fn(w->b, w->len, arg);
	w->len = w->ncp = 0;
	return rc;
}

static int word_feed(struct word *w, const uint8_t *f, size_t n, rfold_word_fn *fn, void *arg)
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
		if (w->len + cl <= RFOLD_WORD_MAX && i + cl <= n) {
			for (size_t k = 0; k < cl; k++)
				w->b[w->len++] = (char)f[i + k];
			w->ncp++;
		}
		i += cl;
	}
	return 0;
}

int rfold_words(const char *text, size_t len, rfold_word_fn *fn, void *arg)
{
	const uint8_t *s = (const uint8_t *)text;
	uint8_t f[RFOLD_CHAR_MAX];
	struct word w = {.len = 0};
	size_t pos = 0;
	int rc;

	while (pos < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t step =
		    utf8proc_iterate(s + pos, (utf8proc_ssize_t)(len - pos), &cp);

		if (step <= 0) { /* not UTF-8: a boundary */
			step = 1;
			cp = ' ';
		}
		if ((rc = word_feed(&w, f, rfold_char((uint32_t)cp, f), fn, arg)) != 0)
			return rc;
		pos += (size_t)step;
	}
	return word_end(&w, fn, arg);
}
