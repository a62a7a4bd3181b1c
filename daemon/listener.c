/* listener.c: the listening socket, accepts per turn of the loop, and handshake slots. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "log.h"

/* A connection mid-handshake: who it came from, and since when. */
struct slot {
	struct conn *c; /* NULL: free */
	uint64_t since; /* the order of arrival (a count: many arrive in one ms) */
	uint8_t group[16];
};

/* Message 1 work of one source address: a token bucket. */
struct rate {
	uint8_t addr[16];
	uint64_t last; /* ms of the last refill; 0: unused */
	unsigned tokens_x1000;
};

struct listener {
	uv_tcp_t tcp;
	uv_timer_t tick; /* the next turn of the loop after an accept */
	int open;        /* handles not yet closed */
	int stopping;
	const struct conn_keys *keys;
	const struct conn_ops *ops;
	void *ud;
	struct slot pending[LISTENER_HANDSHAKES_MAX]; /* accepted, not yet authenticated */
	struct rate rates[LISTENER_RATE_SOURCES];
	uint64_t arrivals; /* connections held so far, to order them */
	unsigned accepts;  /* accepted in this turn */
	int deferred;      /* a connection waits for the next turn */
	struct log_ratelimit rl_evict, rl_rate;
};

/*
 * A connection's source address as 16 bytes (IPv4 as ::ffff:a.b.c.d), and its
 * group: its /24 for IPv4, its /64 for IPv6, what one holder commonly has.
 */
static void source_of(const struct conn *c, uint8_t addr[16], uint8_t group[16])
{
	const struct sockaddr_storage *ss = conn_sockaddr(c);
	int v4 = 1;

	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		v4 = IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	}
	memcpy(group, addr, 16);
	memset(group + (v4 ? 15 : 8), 0, v4 ? 1 : 8);
}

void listener_release(struct listener *l, const struct conn *c)
{
	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++)
		if (l->pending[i].c == c)
			l->pending[i].c = NULL;
}

/*
 * Which slot gives way: of those in group (or all, if group is NULL), the
 * oldest that has not shown a key we know; if every one has, the oldest.
 */
static size_t victim(const struct listener *l, const uint8_t *group)
{
	size_t best = LISTENER_HANDSHAKES_MAX;
	int best_known = 1;

	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++) {
		const struct slot *s = &l->pending[i];
		int known;

		if (!s->c || (group && memcmp(s->group, group, 16) != 0))
			continue;
		known = conn_peer(s->c) != NULL;
		if (best == LISTENER_HANDSHAKES_MAX || known < best_known ||
		    (known == best_known && s->since < l->pending[best].since)) {
			best = i;
			best_known = known;
		}
	}
	return best;
}

/*
 * Holds c mid-handshake within bounds, in total and per source group. When
 * either is reached the oldest pending handshake there gives way, not the
 * newcomer: a crowd of idle connections cannot keep a peer out, it can only
 * race it, and a peer's message 1 comes at once.
 */
static void pending_add(struct listener *l, struct conn *c)
{
	struct slot in = {.c = c, .since = ++l->arrivals};
	size_t same = 0, free_slot = LISTENER_HANDSHAKES_MAX, v;
	uint8_t addr[16];

	source_of(c, addr, in.group);
	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++) {
		if (!l->pending[i].c)
			free_slot = i;
		else if (memcmp(l->pending[i].group, in.group, 16) == 0)
			same++;
	}
	if (same >= LISTENER_HANDSHAKES_PER_GROUP)
		v = victim(l, in.group);
	else if (free_slot == LISTENER_HANDSHAKES_MAX)
		v = victim(l, NULL);
	else
		v = free_slot;
	if (l->pending[v].c) {
		log_ratelimited(&l->rl_evict, LOG_LEVEL_WARN, NULL,
		                "too many handshakes in progress (%s: %zu from its network): the "
		                "oldest pending one dropped for a new one",
		                conn_addr(c), same);
		conn_close(l->pending[v].c,
		           "too many handshakes in progress: dropped for a newer one");
	}
	l->pending[v] = in;
}

/* The bucket of addr: its own, else the one used least recently, emptied for it. */
static struct rate *rate_of(struct listener *l, const uint8_t addr[16])
{
	struct rate *lru = &l->rates[0];

	for (size_t i = 0; i < LISTENER_RATE_SOURCES; i++) {
		if (l->rates[i].last && memcmp(l->rates[i].addr, addr, 16) == 0)
			return &l->rates[i];
		if (l->rates[i].last < lru->last)
			lru = &l->rates[i];
	}
	memcpy(lru->addr, addr, 16);
	lru->last = 0;
	return lru;
}

/* Before message 1's X25519 work: within its source address's budget? */
static const char *gate(void *arg, struct conn *c)
{
	struct listener *l = arg;
	uint64_t now = uv_now(l->tcp.loop) + 1; /* never 0: 0 marks an unused bucket */
	uint8_t addr[16], group[16];
	struct rate *r;
	uint64_t add;

	source_of(c, addr, group);
	r = rate_of(l, addr);
	add = r->last ? (now - r->last) * LISTENER_RATE_PER_S : LISTENER_RATE_BURST * 1000;
	r->tokens_x1000 = add >= LISTENER_RATE_BURST * 1000 - r->tokens_x1000
	                      ? LISTENER_RATE_BURST * 1000
	                      : r->tokens_x1000 + (unsigned)add;
	r->last = now;
	if (r->tokens_x1000 >= 1000) {
		r->tokens_x1000 -= 1000;
		return NULL;
	}
	log_ratelimited(&l->rl_rate, LOG_LEVEL_WARN, NULL,
	                "%s: more than %d handshakes a second from this address: refused",
	                conn_addr(c), LISTENER_RATE_PER_S);
	return "too many handshakes from this address";
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
	conn_set_gate(c, gate, l);
	pending_add(l, c);
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
	l->rl_evict = LOG_RATELIMIT_INIT(1, 60000);
	l->rl_rate = LOG_RATELIMIT_INIT(1, 60000);
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
	/*
	 * Their gate is this listener: they go with it. One that has named a
	 * known key waits for its first transport message (conn.h): it holds no
	 * place of the peer's, which may be freed before its close ends, so it
	 * goes as the stranger it still is.
	 */
	for (size_t i = 0; i < LISTENER_HANDSHAKES_MAX; i++)
		if (l->pending[i].c) {
			conn_set_peer(l->pending[i].c, NULL);
			conn_close(l->pending[i].c, "shutting down");
		}
	uv_close((uv_handle_t *)&l->tcp, on_closed);
	uv_close((uv_handle_t *)&l->tick, on_closed);
}
