/* catchup.c: a catch-up's figures in words. */
#include <inttypes.h>
#include <stdio.h>

#include "catchup.h"

void catchup_digits(char *buf, size_t len, uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;

	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

unsigned catchup_percent(uint64_t received, uint64_t missing)
{
	uint64_t total = received + missing;

	/* Rounded down: 100% only when nothing is missing. */
	return total ? (unsigned)(received * 100 / total) : 100;
}

void catchup_duration(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = (ms + 999) / 1000;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 " s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 " min %" PRIu64 " s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 " h %" PRIu64 " min", s / 3600, s / 60 % 60);
}

void catchup_format(char *buf, size_t len, uint64_t received, uint64_t missing, uint64_t left_ms)
{
	char total[32], left[32];

	catchup_digits(total, sizeof(total), received + missing);
	catchup_duration(left, sizeof(left), left_ms);
	snprintf(buf, len, "%u%% of %s entries%s%s%s", catchup_percent(received, missing), total,
	         left_ms ? ", " : "", left_ms ? left : "", left_ms ? " left" : "");
}
