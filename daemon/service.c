/* service.c: readiness, status and watchdog for systemd (sd_notify). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "catchup.h"
#include "log.h"
#include "node.h"
#include "service.h"
#include "store.h"
#include "sync.h"

#define SERVICE_STATUS_MAX 160

struct service {
	struct node *node;
	uv_timer_t status, watchdog;
	int timers;                    /* handles initialised, to be closed */
	int failed;                    /* a notification failed: logged once */
	char last[SERVICE_STATUS_MAX]; /* the STATUS= line systemd has */
};

/* One notification; a failure is logged the first time only. */
static void notify(struct service *s, const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0 && !s->failed) {
		s->failed = 1;
		log_warnx("systemd: cannot notify %.*s: %s", (int)strcspn(msg, "="), msg,
		          strerror(-rc));
	}
}

void service_status_format(char *buf, size_t len, size_t connected, size_t peers, uint64_t feeds,
                           uint64_t records)
{
	char f[32], r[32];

	catchup_digits(f, sizeof(f), feeds);
	catchup_digits(r, sizeof(r), records);
	snprintf(buf, len, "%zu/%zu peers connected, %s feeds, %s records", connected, peers, f, r);
}

void service_catchup_format(char *buf, size_t len, uint64_t received, uint64_t missing,
                            uint64_t left_ms)
{
	char figures[SERVICE_STATUS_MAX - 16]; /* and "catching up: " */

	catchup_format(figures, sizeof(figures), received, missing, left_ms);
	snprintf(buf, len, "catching up: %s", figures);
}

/* Sends STATUS= when it changed; a store that cannot say keeps the last line. */
static void send_status(struct service *s)
{
	char line[SERVICE_STATUS_MAX], msg[SERVICE_STATUS_MAX + 8];
	struct sync_progress cu;
	struct store_stats st;
	size_t connected, peers;

	node_catchup(s->node, &cu);
	if (cu.running) {
		service_catchup_format(line, sizeof(line), cu.received, cu.missing, cu.left_ms);
	} else {
		if (store_stats(node_store(s->node), &st) != 0)
			return;
		node_peer_counts(s->node, &connected, &peers);
		service_status_format(line, sizeof(line), connected, peers, st.feeds, st.records);
	}
	if (strcmp(line, s->last) == 0)
		return;
	snprintf(s->last, sizeof(s->last), "%s", line);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	notify(s, msg);
}

static void on_status(uv_timer_t *t)
{
	send_status(t->data);
}

static void on_watchdog(uv_timer_t *t)
{
	notify(t->data, "WATCHDOG=1");
}

struct service *service_new(uv_loop_t *loop, struct node *n)
{
	struct service *s = calloc(1, sizeof(*s));
	uint64_t usec = 0;

	if (!s) {
		log_error("out of memory");
		return NULL;
	}
	s->node = n;
	if (!getenv("NOTIFY_SOCKET"))
		return s; /* not under systemd */
	send_status(s);
	notify(s, "READY=1");
	uv_timer_init(loop, &s->status);
	uv_timer_init(loop, &s->watchdog);
	s->status.data = s->watchdog.data = s;
	s->timers = 1;
	uv_timer_start(&s->status, on_status, SERVICE_STATUS_MS, SERVICE_STATUS_MS);
	/* > 0: the unit set WatchdogSec= for this very process (WATCHDOG_PID). */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		uv_timer_start(&s->watchdog, on_watchdog, 0, usec / 2000);
		log_info("systemd watchdog: a ping every %" PRIu64 " ms", usec / 2000);
	}
	return s;
}

void service_stop(struct service *s)
{
	if (!s || !s->timers)
		return;
	notify(s, "STOPPING=1");
	uv_close((uv_handle_t *)&s->status, NULL);
	uv_close((uv_handle_t *)&s->watchdog, NULL);
	s->timers = 0;
}

void service_free(struct service *s)
{
	free(s);
}
