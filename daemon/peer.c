/* peer.c: a configured city: keys, redial backoff with jitter. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "noise.h"
#include "peer.h"

static void on_timer_closed(uv_handle_t *h)
{
	struct peer *p = h->data;

	free(p);
}

static void on_dial_timer(uv_timer_t *t)
{
	struct peer *p = t->data;

	p->dial(p->node, p);
}

struct peer *peer_new(uv_loop_t *loop, struct node *n, const struct config_peer *cp,
                      void (*dial)(struct node *, struct peer *))
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->node = n;
	p->dial = dial;
	memcpy(p->pk, cp->pk, 32);
	if (ag_noise_pk_from_ed25519(p->x_pk, p->pk) != 0) {
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	snprintf(p->host, sizeof(p->host), "%s", cp->host);
	p->port = cp->port;
	p->rl = LOG_RATELIMIT_INIT(5, 60000);
	uv_timer_init(loop, &p->timer);
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
	if (p->resolving > 0 || p->conn)
		return; /* the last lookup or the conn's down() calls again */
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, on_timer_closed);
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
