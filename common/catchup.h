/*
 * catchup.h: a catch-up's figures in words, the same for agora sync and for
 * agorad's STATUS= line to systemd ("41% of 200,000 entries, 12 s left").
 * No state, no I/O.
 */
#ifndef AGORA_CATCHUP_H
#define AGORA_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

/* v with a comma between groups of three digits: 3,104. */
void catchup_digits(char *buf, size_t len, uint64_t v);

/* How much of received + missing is received, 0 to 100 (100 when both are 0). */
unsigned catchup_percent(uint64_t received, uint64_t missing);

/* A duration as "12 s", "3 min 20 s" or "2 h 5 min". */
void catchup_duration(char *buf, size_t len, uint64_t ms);

/* "41% of 200,000 entries, 12 s left"; without the time when left_ms is 0. */
void catchup_format(char *buf, size_t len, uint64_t received, uint64_t missing, uint64_t left_ms);

#endif
