/*
 * log.h: one line per event on stderr, with a level that journald reads.
 *
 * When stderr is the journal (JOURNAL_STREAM names stderr's device and
 * inode), a line starts with its sd-daemon priority, "<6>connected"; else
 * with a word a person reads, "info: connected". A peer's name, where there
 * is one, follows the level: "warn: Tunis: handshake timed out". No secret
 * is ever passed to these functions. Any thread may log; each line is one
 * write(2).
 */
#ifndef AGORA_LOG_H
#define AGORA_LOG_H

#include <stdint.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The syslog priorities, so a level is also its journald prefix. */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Longest line written, newline included; a longer message is cut with "...". */
#define LOG_LINE_MAX 1024

/* Journal mode on if JOURNAL_STREAM names the output fd's device and inode
 * (as systemd sets it for a service's stderr). Call once at start. */
void log_init(void);

/* Lines above this level are dropped; the default is LOG_LEVEL_INFO. */
void log_set_level(enum log_level);
enum log_level log_get_level(void);

/* "error", "warn", "info" or "debug" (any case). 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out) __attribute__((warn_unused_result));
const char *log_level_name(enum log_level);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Appends ": " and strerror(errno), as OpenBSD's log_warn does. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
/* A warning with no errno to tell. */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* For what cannot go on: logs at error level and exits with status 1. */
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);

/* A line about one peer; peer may be NULL. */
void log_peer(enum log_level, const char *peer, const char *fmt, ...) LOG_PRINTF(3, 4);

/*
 * A rate limit for lines that a peer can cause, one per kind of event and
 * peer. Within each interval the first `burst` lines are written and the rest
 * counted; the next line after the interval is preceded by "N messages
 * suppressed". Embed one, initialised with LOG_RATELIMIT_INIT.
 */
struct log_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start; /* ms on the log clock */
	unsigned printed;      /* in this window */
	unsigned suppressed;   /* not yet told */
	int started;
};

#define LOG_RATELIMIT_INIT(burst_, interval_ms_)                                                   \
	((struct log_ratelimit){.interval_ms = (interval_ms_), .burst = (burst_)})

/* Logs like log_peer unless rl's budget is spent. Returns 1 if written, else 0. */
int log_ratelimited(struct log_ratelimit *rl, enum log_level, const char *peer, const char *fmt,
                    ...) LOG_PRINTF(4, 5);

/* Tells a pending suppressed count now, e.g. when the peer goes away. */
void log_ratelimit_flush(struct log_ratelimit *rl, enum log_level, const char *peer);

/* Where lines go: default 2 (stderr), -1 drops them. Journal mode is off
 * until log_init looks at the new fd. For tests and fuzzers. */
void log_set_fd(int fd);
/* For tests: the clock in ms that rate limits use; NULL restores CLOCK_MONOTONIC. */
void log_set_clock(uint64_t (*now_ms)(void));

#endif
