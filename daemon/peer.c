/* peer.c: a configured city: keys, redial backoff with jitter, per-feed state. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node_internal.h"
#include "noise.h"
#include "peer.h"

static void on_timer_closed(uv_handle_t *h)
{
	struct peer *p = h->data;

	free(p->feeds);
	free(p);
}

static void on_dial_timer(uv_timer_t *t)
{
	node_dial(((struct peer *)t->data)->node, t->data);
}

struct peer *peer_new(struct node *n, const struct config_peer *cp)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->node = n;
	memcpy(p->pk, cp->pk, 32);
	if (ag_noise_pk_from_ed25519(p->x_pk, p->pk) != 0) {
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	snprintf(p->host, sizeof(p->host), "%s", cp->host);
	p->port = cp->port;
	p->rl = LOG_RATELIMIT_INIT(5, 60000);
	uv_timer_init(node_loop(n), &p->timer);
	p->timer.data = p;
	return p;
}

void peer_free(struct peer *p)
{
	if (!p)
		return;
	p->removed = 1;
	if (p->conn)
		conn_close(p->conn, "peer removed");
	if (p->jobs > 0 || p->conn)
		return; /* the last job or the conn's down() calls again */
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

struct peer_feed *peer_feed_find(const struct peer *p, const uint8_t author[static 32])
{
	for (size_t i = 0; i < p->nfeeds; i++)
		if (memcmp(p->feeds[i].author, author, 32) == 0)
			return &p->feeds[i];
	return NULL;
}

struct peer_feed *peer_feed(struct peer *p, const uint8_t author[static 32])
{
	struct peer_feed *f = peer_feed_find(p, author);

	if (f)
		return f;
	if (p->nfeeds == p->capfeeds) {
		size_t cap = p->capfeeds ? 2 * p->capfeeds : 16;
		struct peer_feed *nf = realloc(p->feeds, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		p->feeds = nf;
		p->capfeeds = cap;
	}
	f = &p->feeds[p->nfeeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->author, author, 32);
	return f;
}

void peer_reset(struct peer *p)
{
	p->nfeeds = 0;
	p->got_clock = 0;
	p->feeds_capped = 0;
	p->outside = 0;
	p->up = 0;
}

void peer_schedule_dial(struct peer *p, uint32_t at_least_ms)
{
	uint32_t delay;

	if (p->removed || p->host[0] == '\0')
		return; /* a peer without an endpoint calls us */
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : PEER_BACKOFF_MIN_MS;
	if (p->backoff_ms > PEER_BACKOFF_MAX_MS)
		p->backoff_ms = PEER_BACKOFF_MAX_MS;
	if (p->backoff_ms < at_least_ms)
		p->backoff_ms = at_least_ms;
	/* Jitter in [backoff/2, backoff), so cities restarted together do not dial in step. */
	delay = p->backoff_ms / 2 + randombytes_uniform(p->backoff_ms / 2 + 1);
	uv_timer_start(&p->timer, on_dial_timer, delay, 0);
}
