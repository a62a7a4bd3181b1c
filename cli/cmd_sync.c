/*
 * cmd_sync.c: agora sync, the catch-up as it runs: entries received of
 * those the peers announced, the rate and the time left, from agorad's
 * STATUS (its catchup and each peer's we_lack). On a terminal a bar redrawn
 * in place; otherwise a line at the start, every second, and at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catchup.h"
#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"

#define SYNC_TIMEOUT_MAX (366u * 24 * 3600) /* seconds: a year */
#define SYNC_TTY_MS      200                /* a terminal's bar is redrawn this often */
#define SYNC_LINE_MS     1000               /* elsewhere a line this often */
#define SYNC_BAR         30                 /* the bar's width */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Every peer's figures are known (it sent its CLOCK once) and we lack nothing of them. */
static bool sync_done(const struct ag_ctl_node *st)
{
	for (size_t i = 0; i < st->npeers; i++)
		if (st->peers[i].lag_known_ms == 0 || st->peers[i].we_lack > 0)
			return false;
	return st->catchup.missing == 0;
}

/* "82,000 of 200,000 entries received (41%), 70,000 entries/s, 2 s left" */
static void progress_words(char *buf, size_t len, const struct ag_ctl_catchup *c)
{
	char got[32], total[32], rate[32], left[32];

	catchup_digits(got, sizeof(got), c->received);
	catchup_digits(total, sizeof(total), c->received + c->missing);
	catchup_digits(rate, sizeof(rate), c->rate);
	catchup_duration(left, sizeof(left), c->left_ms);
	snprintf(buf, len, "%s of %s entries received (%u%%), %s entries/s%s%s", got, total,
	         catchup_percent(c->received, c->missing), rate, c->left_ms ? ", " : "",
	         c->left_ms ? left : "");
	if (c->left_ms)
		snprintf(buf + strlen(buf), len - strlen(buf), " left");
}

static void show(const struct ag_ctl_catchup *c, bool tty)
{
	unsigned pct = catchup_percent(c->received, c->missing), fill = pct * SYNC_BAR / 100;
	char words[256], bar[SYNC_BAR + 1];

	progress_words(words, sizeof(words), c);
	if (!tty) {
		out_printf("%s\n", words);
		fflush(out_file());
		return;
	}
	memset(bar, '#', fill);
	memset(bar + fill, '-', SYNC_BAR - fill);
	bar[SYNC_BAR] = '\0';
	fprintf(out_file(), "\r[%s] %s\033[K", bar, words);
	fflush(out_file());
}

/* What is still missing and from whom, for the timeout's one line. */
static void missing_words(char *buf, size_t len, const struct ag_ctl_node *st)
{
	char n[32];
	size_t o;

	catchup_digits(n, sizeof(n), st->catchup.missing);
	o = (size_t)snprintf(buf, len, "%s entries still missing", n);
	for (size_t i = 0; i < st->npeers && o < len; i++) {
		const struct ag_ctl_peer *p = &st->peers[i];
		const char *name = p->name[0] ? p->name : p->key;

		catchup_digits(n, sizeof(n), p->we_lack);
		if (p->lag_known_ms == 0)
			o +=
			    (size_t)snprintf(buf + o, len - o, "; nothing heard yet from %s", name);
		else if (p->we_lack > 0)
			o += (size_t)snprintf(buf + o, len - o, "; %s from %s%s", n, name,
			                      p->connected ? "" : " (not connected)");
	}
}

static int final_json(const struct ag_ctl_node *st, bool done)
{
	json_t *doc = ctlj_from(&ag_ctl_catchup_shape, &st->catchup);
	struct ag_ctl_peers peers = {st->peers, st->npeers};
	json_t *p = ctlj_from(&ag_ctl_peers_shape, &peers);

	if (doc && p)
		json_object_update(doc, p);
	json_decref(p);
	if (doc)
		json_object_set_new(doc, "done", json_boolean(done));
	return cmd_json(doc);
}

static int parse_timeout(const struct args *a, uint64_t *ms)
{
	const char *v = a->opt[OPT_TIMEOUT];
	char *end;
	unsigned long s;

	*ms = 0; /* none */
	if (!v)
		return 0;
	errno = 0;
	s = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || s == 0 || s > SYNC_TIMEOUT_MAX)
		return cmd_fail(a, EXIT_REFUSED,
		                "--timeout %s: not a number of seconds from 1 to %u", v,
		                SYNC_TIMEOUT_MAX);
	*ms = (uint64_t)s * 1000;
	return 0;
}

int cmd_sync(const struct args *a)
{
	bool wait = a->opt[OPT_WAIT] != NULL, tty = !a->json && isatty(fileno(out_file())), done;
	uint64_t timeout, start = mono_ms(), shown = 0;
	struct ag_ctl_status_resp resp;
	const struct ag_ctl_node *st = &resp.status;
	struct ag_ctl_req req;
	char why[1024];
	int rc;

	if ((rc = parse_timeout(a, &timeout)) != 0)
		return rc;
	ag_ctl_req_init(&req, AG_CTL_STATUS);
	for (bool first = true;; first = false) {
		if ((rc = cmd_call(a, &req, &resp)) != 0)
			return rc;
		done = sync_done(st);
		if (!wait || done || (timeout && mono_ms() - start >= timeout))
			break;
		if (!a->json && (tty || first || mono_ms() - shown >= SYNC_LINE_MS)) {
			show(&st->catchup, tty);
			shown = mono_ms();
		}
		ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
		sleep_ms(tty ? SYNC_TTY_MS : 100);
	}
	if (a->json) {
		rc = final_json(st, done);
	} else {
		show(&st->catchup, tty);
		if (tty)
			out_printf("\n");
	}
	if (wait && !done && rc == 0) {
		missing_words(why, sizeof(why), st);
		rc = cmd_fail(a, EXIT_NOTFOUND, "not caught up after %s s: %s", a->opt[OPT_TIMEOUT],
		              why);
	}
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &resp);
	return rc;
}
