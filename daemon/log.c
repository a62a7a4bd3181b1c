/* log.c: level-prefixed lines on stderr, journald-aware, with rate limits. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = LOG_LEVEL_INFO;
static atomic_int log_fd = 2;
static atomic_int log_journal;
static uint64_t (*log_clock)(void);

static const struct {
	enum log_level level;
	const char *name;
} levels[] = {
    {LOG_LEVEL_ERROR, "error"},
    {LOG_LEVEL_WARN, "warn"},
    {LOG_LEVEL_INFO, "info"},
    {LOG_LEVEL_DEBUG, "debug"},
};

void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int fd = atomic_load(&log_fd);

	atomic_store(&log_journal, 0);
	if (js == NULL || fd < 0 || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		atomic_store(&log_journal, 1);
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i].level == level)
			return levels[i].name;
	}
	return "?";
}

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
	atomic_store(&log_journal, 0);
}

void log_set_clock(uint64_t (*now_ms)(void))
{
	log_clock = now_ms;
}

static uint64_t log_now(void)
{
	struct timespec ts;

	if (log_clock != NULL)
		return log_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A line being built; what does not fit is cut and marked. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t n; /* bytes in use, at most LOG_LINE_MAX - 2: room for '\n' */
	int cut;  /* something did not fit */
};

static void append(struct line *l, const char *fmt, va_list ap)
{
	size_t room = sizeof(l->buf) - 1 - l->n; /* keeps a byte for '\n' */
	int r;

	if (room <= 1) {
		l->cut = 1;
		return;
	}
	r = vsnprintf(l->buf + l->n, room, fmt, ap);
	if (r < 0)
		return;
	if ((size_t)r >= room) {
		l->cut = 1;
		r = (int)room - 1;
	}
	l->n += (size_t)r;
}

static void appendf(struct line *l, const char *fmt, ...) LOG_PRINTF(2, 3);

static void appendf(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(l, fmt, ap);
	va_end(ap);
}

/* Control characters, newlines above all, would let a peer forge lines. */
static void sanitise(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to say so */
		p += w;
		n -= (size_t)w;
	}
}

static void vlog(enum log_level level, const char *peer, const char *err, const char *fmt,
                 va_list ap)
{
	struct line l = {.n = 0};
	size_t body;
	int fd = atomic_load(&log_fd);

	if ((int)level > atomic_load(&log_level) || fd < 0)
		return;
	if (atomic_load(&log_journal))
		appendf(&l, "<%d>", (int)level);
	else
		appendf(&l, "%s: ", log_level_name(level));
	body = l.n;
	if (peer != NULL)
		appendf(&l, "%s: ", peer);
	append(&l, fmt, ap);
	if (err != NULL)
		appendf(&l, ": %s", err);
	if (l.cut)
		memcpy(l.buf + l.n - 3, "...", 3);
	sanitise(l.buf + body, l.n - body);
	l.buf[l.n++] = '\n';
	write_all(fd, l.buf, l.n);
}

void log_peer(enum log_level level, const char *peer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, peer, NULL, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, NULL, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, NULL, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	char buf[128];
	const char *err = strerror_r(errno, buf, sizeof(buf)); /* GNU: may return a static string */
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, err, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, NULL, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, NULL, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_ratelimit_flush(struct log_ratelimit *rl, enum log_level level, const char *peer)
{
	if (rl->suppressed == 0)
		return;
	log_peer(level, peer, "%u message%s suppressed", rl->suppressed,
	         rl->suppressed == 1 ? "" : "s");
	rl->suppressed = 0;
}

int log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *peer,
                    const char *fmt, ...)
{
	uint64_t now = log_now();
	va_list ap;

	if ((int)level > atomic_load(&log_level))
		return 0;
	if (!rl->started || now - rl->window_start >= rl->interval_ms) {
		log_ratelimit_flush(rl, level, peer);
		rl->started = 1;
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return 0;
	}
	rl->printed++;
	va_start(ap, fmt);
	vlog(level, peer, NULL, fmt, ap);
	va_end(ap);
	return 1;
}
