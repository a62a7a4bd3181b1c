/* listener.c: the listening socket, accepts per turn of the loop, and handshake slots. */
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "log.h"

struct listener {
	uv_tcp_t tcp;
	uv_timer_t tick; /* the next turn of the loop after an accept */
	int open;        /* handles not yet closed */
	int stopping;
	const struct conn_keys *keys;
	const struct conn_ops *ops;
	void *ud;
	struct conn *pending[LISTENER_HANDSHAKES_MAX]; /* accepted, not yet authenticated */
	unsigned accepts;                              /* accepted in this turn */
	int deferred;                                  /* a connection waits for the next turn */
	struct log_ratelimit rl;
};

/* The address of a connection without its port: "[::1]:7447" -> "[::1]". */
static size_t addr_host_len(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return colon ? (size_t)(colon - addr) : strlen(addr);
}

void listener_release(struct listener *l, const struct conn *c)
{
	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++)
		if (l->pending[i] == c)
			l->pending[i] = NULL;
}

/* Bounds strangers mid-handshake, in total and per source address. 0, or -1 to refuse. */
static int pending_add(struct listener *l, struct conn *c)
{
	const char *addr = conn_addr(c);
	size_t len = addr_host_len(addr), same = 0, free_slot = LISTENER_HANDSHAKES_MAX;

	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++) {
		const char *other = l->pending[i] ? conn_addr(l->pending[i]) : NULL;

		if (!other)
			free_slot = i;
		else if (addr_host_len(other) == len && memcmp(other, addr, len) == 0)
			same++;
	}
	if (free_slot == LISTENER_HANDSHAKES_MAX || same >= LISTENER_HANDSHAKES_PER_IP)
		return -1;
	l->pending[free_slot] = c;
	return 0;
}

static void on_tick(uv_timer_t *t);

static void on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct conn *c;

	if (status < 0)
		return;
	/*
	 * libuv accepts for as long as connections come, without going round
	 * the loop: a crowd that reconnects as fast as it is refused would hold
	 * the loop, and every refused conn until its close callback, for ever.
	 * Past LISTENER_ACCEPTS_PER_TICK the connection waits (libuv stops
	 * watching the listener until it is taken) for the next turn of the loop.
	 */
	if (l->accepts >= LISTENER_ACCEPTS_PER_TICK) {
		l->deferred = 1;
		return;
	}
	if (l->accepts++ == 0)
		uv_timer_start(&l->tick, on_tick, 0, 0);
	if (!(c = conn_accept(server, l->keys, l->ops, l->ud)))
		return;
	if (pending_add(l, c) != 0) {
		log_ratelimited(&l->rl, LOG_LEVEL_WARN, NULL,
		                "%s: too many handshakes in progress: connection dropped",
		                conn_addr(c));
		conn_close(c, "too many handshakes in progress");
	}
}

/* The next turn of the loop: the count starts again, and a connection left waiting is taken. */
static void on_tick(uv_timer_t *t)
{
	struct listener *l = t->data;

	l->accepts = 0;
	if (l->deferred && !l->stopping) {
		l->deferred = 0;
		on_connection((uv_stream_t *)&l->tcp, 0);
	}
}

static void on_closed(uv_handle_t *h)
{
	struct listener *l = h->data;

	if (--l->open == 0)
		free(l);
}

struct listener *listener_new(uv_loop_t *loop, const struct sockaddr *addr,
                              const struct conn_keys *keys, const struct conn_ops *ops, void *ud)
{
	struct listener *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return NULL;
	l->keys = keys;
	l->ops = ops;
	l->ud = ud;
	/* One line a minute, then a count: a slowloris opens thousands. */
	l->rl = LOG_RATELIMIT_INIT(1, 60000);
	uv_tcp_init(loop, &l->tcp);
	uv_timer_init(loop, &l->tick);
	l->tcp.data = l->tick.data = l;
	l->open = 2;
	if ((rc = uv_tcp_bind(&l->tcp, addr, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection)) < 0) {
		log_error("cannot listen: %s", uv_strerror(rc));
		listener_free(l);
		return NULL;
	}
	return l;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	l->stopping = 1;
	uv_close((uv_handle_t *)&l->tcp, on_closed);
	uv_close((uv_handle_t *)&l->tick, on_closed);
}
