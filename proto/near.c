/* near.c: the nearest known word to a typo (near.h). */
#include <stdint.h>
#include <string.h>

#include "near.h"

#define NEAR_MAX 40 /* bytes: longer words are never near */

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Three rows of the distance table are all that the recurrence reads. */
size_t ag_near_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][NEAR_MAX + 1], *pp, *p, *cur;

	if (la > NEAR_MAX || lb > NEAR_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		rows[1][j] = j;
	pp = rows[0], p = rows[1], cur = rows[2];
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = p[j - 1] + (lower(a[i - 1]) != lower(b[j - 1]));

			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		t = pp, pp = p, p = cur, cur = t;
	}
	return p[lb];
}

const char *ag_nearest(const char *s, size_t len, const char *const *cands, size_t stride, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		const char *k =
		    *(const char *const *)(const void *)((const char *)cands + i * stride);
		size_t d, kl;

		if (!k)
			break;
		kl = strlen(k);
		d = ag_near_distance(s, len, k, kl);
		if (d < bestd && d <= (kl <= 4 ? 1u : 2u)) {
			best = k;
			bestd = d;
		}
	}
	return best;
}
