/*
 * test_conn.c: one peer connection, on a real libuv loop over loopback.
 *
 * Two nodes handshake both ways and carry messages of every size, up to the
 * largest; a stranger gets silence; garbage, half handshakes, a stall, a
 * replayed message 1, a trickled frame and forged, replayed or reordered
 * ciphertext each close their own connection, with a reason, while an honest
 * connection on the same loop keeps working; the write queue pushes back, and
 * a peer that never reads is cut off. A responder counts its peer as up only
 * once the initiator's first transport message has decrypted.
 *
 * The attackers are raw sockets driven by hand with proto/noise.h, so they
 * send exactly the bytes a case needs; the loop runs while they wait. Every
 * test ends in finish(): each connection was reported down exactly once, and
 * the loop closes with no handle left.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "conn.h"
#include "frame.h"
#include "key.h"
#include "noise.h"

#define MAX_RECS 24
#define MAX_FDS  16
#define MSG1_LEN 96 /* -> e, s and its tag, the empty payload's tag */
#define MSG2_LEN 48 /* <- e, the empty payload's tag */
#define WIRE(n)  (AG_FRAME_HDR_LEN + AG_NOISE_TAG_LEN + (n)) /* a transport message, framed */
#define WAIT_MS  5000

/* What one connection saw, from its own side. */
struct rec {
	struct conn *c; /* NULL once down */
	void *peer;     /* conn_peer() at up() */
	int up, down, drains;
	int was_up, initiator, fault; /* conn_was_up(), _initiator(), _peer_fault() at down() */
	size_t queued_at_drain;
	char why[160];
	unsigned long nsent, nmsg, bad; /* sent; received; received not as sent */
	uint64_t sent_wire, got_bytes;
	uint64_t wire_in, wire_out; /* conn_bytes_in() and _out() at down() */
};

struct node {
	uv_loop_t *loop;
	struct conn_keys keys;
	uint8_t pk[32];
	const uint8_t *allowed[4]; /* the keys allow() knows, each answered with peers[i] */
	void *peers[4];
	int nallowed;
	unsigned long close_after; /* if non-zero, close a conn when it has received this many */
	uv_tcp_t server;
	struct sockaddr_in addr;
	int listening;
	struct rec recs[MAX_RECS];
	int nrecs;
};

struct t {
	uv_loop_t loop;
	uv_timer_t guard;
	int timed_out;
	uint8_t network[32];
	struct node a, b, z;          /* a allows b and r; b allows a; z is a stranger */
	uint8_t r_sk[32], r_pk[32];   /* the raw initiators' allowed key */
	uint8_t rr_sk[32], rr_pk[32]; /* a raw responder's key, that b dials */
	int fds[MAX_FDS];
	int nfds;
};

/* A hand-driven Noise initiator or responder on a raw socket. */
struct raw {
	int fd;
	struct ag_noise_cs tx, rx;
};

/* --- The loop --- */

static void on_guard(uv_timer_t *timer)
{
	struct t *t = timer->data;

	t->timed_out = 1;
}

static void guard_start(struct t *t, uint64_t ms)
{
	t->timed_out = 0;
	uv_timer_start(&t->guard, on_guard, ms, 0);
}

/* Runs the loop until cond holds, failing the test if it does not within ms. */
#define RUN_UNTIL(t, cond, ms)                                                                     \
	do {                                                                                       \
		guard_start((t), (ms));                                                            \
		while (!(cond) && !(t)->timed_out)                                                 \
			uv_run(&(t)->loop, UV_RUN_ONCE);                                           \
		uv_timer_stop(&(t)->guard);                                                        \
		assert_true(cond);                                                                 \
	} while (0)

static void count_open(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h)) {
		fprintf(stderr, "handle left open: %s\n",
		        uv_handle_type_name(uv_handle_get_type(h)));
		(*(int *)arg)++;
	}
}

/* --- The nodes' callbacks --- */

static struct rec *rec_of(struct node *n, struct conn *c)
{
	struct rec *r;

	for (int i = 0; i < n->nrecs; i++)
		if (n->recs[i].c == c)
			return &n->recs[i];
	assert_true(n->nrecs < MAX_RECS);
	r = &n->recs[n->nrecs++];
	memset(r, 0, sizeof(*r));
	r->c = c;
	return r;
}

static uint8_t pattern(unsigned long seq, size_t j, size_t len)
{
	return (uint8_t)(seq * 131 + j * 7 + len * 3 + 1);
}

static void *on_allow(void *ud, struct conn *c, const uint8_t x_pk[static 32])
{
	struct node *n = ud;

	(void)c;
	for (int i = 0; i < n->nallowed; i++)
		if (memcmp(n->allowed[i], x_pk, 32) == 0)
			return n->peers[i];
	return NULL;
}

static void on_up(void *ud, struct conn *c)
{
	struct rec *r = rec_of(ud, c);

	assert_int_equal(r->down, 0);
	assert_true(conn_is_up(c));
	r->up++;
	r->peer = conn_peer(c);
}

static void on_msg(void *ud, struct conn *c, const uint8_t *msg, size_t len)
{
	struct node *n = ud;
	struct rec *r = rec_of(n, c);

	assert_int_equal(r->up, 1);
	for (size_t j = 0; j < len; j++)
		if (msg[j] != pattern(r->nmsg, j, len)) {
			r->bad++;
			break;
		}
	r->nmsg++;
	r->got_bytes += len;
	if (n->close_after && r->nmsg == n->close_after)
		conn_close(c, "enough");
}

static void on_drain(void *ud, struct conn *c)
{
	struct rec *r = rec_of(ud, c);

	r->drains++;
	r->queued_at_drain = conn_queued(c);
}

static void on_down(void *ud, struct conn *c, const char *why)
{
	struct rec *r = rec_of(ud, c);

	r->down++;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->wire_in = conn_bytes_in(c);
	r->wire_out = conn_bytes_out(c);
	r->was_up = conn_was_up(c);
	r->initiator = conn_initiator(c);
	r->fault = conn_peer_fault(c);
	r->c = NULL;
}

static const struct conn_ops ops = {
    .allow = on_allow, .up = on_up, .msg = on_msg, .drain = on_drain, .down = on_down};

static void on_connection(uv_stream_t *server, int status)
{
	struct node *n = server->data;
	struct conn *c;

	assert_int_equal(status, 0);
	c = conn_accept(server, &n->keys, &ops, n);
	assert_non_null(c);
	rec_of(n, c);
}

/* --- Setting up and finishing --- */

static void node_init(struct t *t, struct node *n)
{
	n->loop = &t->loop;
	randombytes_buf(n->keys.x_sk, 32);
	crypto_scalarmult_base(n->pk, n->keys.x_sk);
	memcpy(n->keys.network, t->network, 32);
}

static void node_allow(struct node *n, const uint8_t *pk, void *peer)
{
	n->allowed[n->nallowed] = pk;
	n->peers[n->nallowed++] = peer;
}

static void node_listen(struct node *n)
{
	int len = sizeof(n->addr);

	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &n->addr), 0);
	assert_int_equal(uv_tcp_init(n->loop, &n->server), 0);
	n->server.data = n;
	assert_int_equal(uv_tcp_bind(&n->server, (const struct sockaddr *)&n->addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&n->server, 64, on_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&n->server, (struct sockaddr *)&n->addr, &len), 0);
	n->listening = 1;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t || uv_loop_init(&t->loop) != 0 || uv_timer_init(&t->loop, &t->guard) != 0)
		return -1;
	t->guard.data = t;
	randombytes_buf(t->network, sizeof(t->network));
	node_init(t, &t->a);
	node_init(t, &t->b);
	node_init(t, &t->z);
	randombytes_buf(t->r_sk, 32);
	crypto_scalarmult_base(t->r_pk, t->r_sk);
	randombytes_buf(t->rr_sk, 32);
	crypto_scalarmult_base(t->rr_pk, t->rr_sk);
	node_allow(&t->a, t->b.pk, &t->b);
	node_allow(&t->a, t->r_pk, t->r_pk);
	node_allow(&t->b, t->a.pk, &t->a);
	node_listen(&t->a);
	*state = t;
	return 0;
}

/* Frees the test's memory if finish() closed its loop; else leaves it, still in use. */
static int teardown(void **state)
{
	struct t *t = *state;

	if (t->loop.data == t)
		free(t);
	return 0;
}

static void close_node(struct node *n)
{
	for (int i = 0; i < n->nrecs; i++)
		if (n->recs[i].c)
			conn_close(n->recs[i].c, "test over");
	if (n->listening)
		uv_close((uv_handle_t *)&n->server, NULL);
	n->listening = 0;
}

static void check_node(const struct node *n)
{
	for (int i = 0; i < n->nrecs; i++) {
		assert_int_equal(n->recs[i].down, 1);
		assert_int_equal(n->recs[i].bad, 0);
		assert_true(n->recs[i].up <= 1);
		assert_int_equal(n->recs[i].was_up, n->recs[i].up);
	}
}

/* Closes everything; every conn reports down once, and the loop closes clean. */
static void finish(struct t *t)
{
	int open = 0;

	close_node(&t->a);
	close_node(&t->b);
	close_node(&t->z);
	uv_close((uv_handle_t *)&t->guard, NULL);
	assert_int_equal(uv_run(&t->loop, UV_RUN_DEFAULT), 0);
	check_node(&t->a);
	check_node(&t->b);
	check_node(&t->z);
	uv_walk(&t->loop, count_open, &open);
	assert_int_equal(open, 0);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	for (int i = 0; i < t->nfds; i++)
		close(t->fds[i]);
	t->loop.data = t; /* closed: teardown may free */
}

/* --- Honest connections --- */

struct pair {
	struct rec *d, *l; /* the dialer's and the listener's views */
};

/* n's first conn at or after recs[from] that is up with peer. */
static struct rec *find_up(struct node *n, const void *peer, int from)
{
	for (int i = from; i < n->nrecs; i++)
		if (n->recs[i].c && n->recs[i].up && n->recs[i].peer == peer)
			return &n->recs[i];
	return NULL;
}

static void send_one(struct rec *r, size_t len)
{
	static uint8_t buf[AG_NOISE_MAX_PLAIN];

	for (size_t j = 0; j < len; j++)
		buf[j] = pattern(r->nsent, j, len);
	assert_int_equal(conn_send(r->c, buf, len), 0);
	r->nsent++;
	r->sent_wire += WIRE(len);
}

/* from dials to, which must know it; both ends come up. */
static struct pair dial_up(struct t *t, struct node *from, struct node *to)
{
	int first = to->nrecs;
	struct pair p;
	struct conn *c;

	c = conn_dial(&t->loop, (const struct sockaddr *)&to->addr, to->pk, to, &from->keys, &ops,
	              from);
	assert_non_null(c);
	p.d = rec_of(from, c);
	assert_int_equal(conn_send(c, (const uint8_t *)"x", 1), -1); /* not up yet */
	assert_false(conn_is_up(c));
	RUN_UNTIL(t, p.d->up, WAIT_MS);
	/* The listener's side comes up with the dialer's first message, as HELLO in agorad. */
	assert_null(find_up(to, from, first));
	send_one(p.d, 1);
	RUN_UNTIL(t, find_up(to, from, first), WAIT_MS);
	p.l = find_up(to, from, first);
	assert_ptr_equal(p.d->peer, to);
	assert_true(conn_initiator(p.d->c));
	assert_false(conn_initiator(p.l->c));
	return p;
}

static int all_in(const struct rec *from, const struct rec *to)
{
	return to->nmsg == from->nsent;
}

/* A message each way over an honest pair, to show it still works. */
static void still_works(struct t *t, struct pair p)
{
	assert_non_null(p.d->c);
	assert_non_null(p.l->c);
	send_one(p.d, 600);
	send_one(p.l, 65519);
	RUN_UNTIL(t, all_in(p.d, p.l) && all_in(p.l, p.d), WAIT_MS);
	assert_int_equal(p.d->bad + p.l->bad, 0);
	assert_non_null(p.d->c);
	assert_non_null(p.l->c);
}

/* --- Raw sockets, for the attackers --- */

static int raw_connect(struct t *t, const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(t->nfds < MAX_FDS);
	t->fds[t->nfds++] = fd;
	/* The kernel completes a loopback connect from the listen backlog. */
	assert_int_equal(connect(fd, (const struct sockaddr *)to, sizeof(*to)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* A listening socket that the test accepts from by hand, or never. */
static int raw_listen(struct t *t, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	t->fds[t->nfds++] = fd;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, addr), 0);
	assert_int_equal(bind(fd, (const struct sockaddr *)addr, len), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

/* One turn of the loop, then a short wait on fd. */
static void pump(struct t *t, int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	uv_run(&t->loop, UV_RUN_NOWAIT);
	(void)poll(&p, 1, 2);
}

/* Sends what it can of buf while the loop runs; returns how much went before an error. */
static size_t raw_send(struct t *t, int fd, const uint8_t *buf, size_t len)
{
	uint64_t end = uv_hrtime() + WAIT_MS * 1000000ull;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
		else
			pump(t, fd, POLLOUT);
		assert_true(uv_hrtime() < end);
	}
	return off;
}

enum { RAW_OPEN, RAW_EOF, RAW_RESET };

/* Reads up to want bytes while the loop runs, until EOF, an error, or ms. */
static size_t raw_recv(struct t *t, int fd, uint8_t *buf, size_t want, int ms, int *end)
{
	uint64_t stop = uv_hrtime() + (uint64_t)ms * 1000000ull;
	size_t got = 0;
	ssize_t n;

	*end = RAW_OPEN;
	while (got < want && uv_hrtime() < stop) {
		n = recv(fd, buf + got, want - got, 0);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0) {
			*end = RAW_EOF;
			break;
		} else if (errno != EAGAIN && errno != EINTR) {
			*end = RAW_RESET;
			break;
		} else {
			pump(t, fd, POLLIN);
		}
	}
	return got;
}

/* Checks that the other end sent nothing and closed. */
static void raw_expect_silence(struct t *t, int fd)
{
	uint8_t buf[256];
	int end;

	assert_int_equal(raw_recv(t, fd, buf, sizeof(buf), WAIT_MS, &end), 0);
	assert_int_equal(end, RAW_EOF);
}

static void prologue_of(uint8_t out[39], const uint8_t network[32])
{
	memcpy(out, "agora/1", 7);
	memcpy(out + 7, network, 32);
}

/* IK message 1 from sk toward rs on network, framed in out[0..98). */
static struct ag_noise_hs *raw_msg1(const uint8_t *sk, const uint8_t *rs, const uint8_t *network,
                                    uint8_t out[AG_FRAME_HDR_LEN + MSG1_LEN])
{
	struct ag_noise_hs *hs;
	uint8_t prologue[39];
	size_t n;

	prologue_of(prologue, network);
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_IK, 1, prologue, sizeof(prologue), sk, rs),
	                 0);
	assert_int_equal(ag_noise_write_message(hs, NULL, 0, out + 2, MSG1_LEN, &n), 0);
	assert_int_equal(n, MSG1_LEN);
	assert_int_equal(ag_frame_header(out, n), 0);
	return hs;
}

/* A full handshake with a, as the allowed key r, by hand; m keeps message 1, framed. */
static void raw_handshake_m1(struct t *t, struct raw *r, uint8_t m[AG_FRAME_HDR_LEN + MSG1_LEN])
{
	uint8_t pay[8];
	struct ag_noise_hs *hs;
	size_t n;
	int end;

	uint8_t m2[AG_FRAME_HDR_LEN + MSG2_LEN];

	r->fd = raw_connect(t, &t->a.addr);
	hs = raw_msg1(t->r_sk, t->a.pk, t->network, m);
	assert_int_equal(raw_send(t, r->fd, m, AG_FRAME_HDR_LEN + MSG1_LEN),
	                 AG_FRAME_HDR_LEN + MSG1_LEN);
	assert_int_equal(raw_recv(t, r->fd, m2, sizeof(m2), WAIT_MS, &end), sizeof(m2));
	assert_int_equal(m2[0] << 8 | m2[1], MSG2_LEN);
	assert_int_equal(ag_noise_read_message(hs, m2 + 2, MSG2_LEN, pay, sizeof(pay), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ag_noise_split(hs, &r->tx, &r->rx), 0);
	ag_noise_hs_free(hs);
}

static void raw_handshake(struct t *t, struct raw *r)
{
	uint8_t m[AG_FRAME_HDR_LEN + MSG1_LEN];

	raw_handshake_m1(t, r, m);
}

/* Appends to out the framed transport message of len pattern bytes at nonce; returns its size. */
static size_t raw_seal(struct raw *r, uint64_t nonce, size_t len, uint8_t *out)
{
	uint8_t plain[1024];
	size_t n;

	assert_true(len <= sizeof(plain));
	for (size_t j = 0; j < len; j++)
		plain[j] = pattern(nonce, j, len);
	ag_noise_cs_set_nonce(&r->tx, nonce);
	assert_int_equal(ag_noise_encrypt(&r->tx, plain, len, out + 2, WIRE(len), &n), 0);
	assert_int_equal(ag_frame_header(out, n), 0);
	return AG_FRAME_HDR_LEN + n;
}

/* The first transport message (nonce 0, 10 bytes): a's conn for r comes up with it. */
static struct rec *raw_confirm(struct t *t, struct raw *r)
{
	uint8_t buf[WIRE(10)];
	struct rec *l;

	assert_int_equal(raw_send(t, r->fd, buf, raw_seal(r, 0, 10, buf)), sizeof(buf));
	RUN_UNTIL(t, (l = find_up(&t->a, t->r_pk, 0)) != NULL && l->nmsg == 1, WAIT_MS);
	return l;
}

static void raw_clear(struct raw *r)
{
	ag_noise_cs_clear(&r->tx);
	ag_noise_cs_clear(&r->rx);
}

/* The rec of n's newest connection that went down; an empty one before any did. */
static struct rec *last_down(struct node *n)
{
	static struct rec none;

	for (int i = n->nrecs - 1; i >= 0; i--)
		if (n->recs[i].down)
			return &n->recs[i];
	return &none;
}

static int count_down(const struct node *n)
{
	int k = 0;

	for (int i = 0; i < n->nrecs; i++)
		k += n->recs[i].down;
	return k;
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* --- The tests --- */

/* Runs a schedule of message sizes each way over an up pair and checks every count. */
static void exchange(struct t *t, struct pair p, uint64_t hs_d, uint64_t hs_l)
{
	static const size_t big_d[] = {0, 1, 600, 65519, 4096, 65519, 17};
	static const size_t big_l[] = {65519, 600, 0, 2};
	uint64_t wire, d0 = p.d->sent_wire, l0 = p.l->sent_wire;

	RUN_UNTIL(t, conn_queued(p.d->c) == 0 && conn_queued(p.l->c) == 0, WAIT_MS);
	for (size_t i = 0; i < sizeof(big_d) / sizeof(big_d[0]); i++)
		send_one(p.d, big_d[i]);
	for (size_t i = 0; i < 2000; i++) /* many small ones, to be coalesced */
		send_one(p.d, i * 37 % 300 + 1);
	for (size_t i = 0; i < sizeof(big_l) / sizeof(big_l[0]); i++)
		send_one(p.l, big_l[i]);
	for (size_t i = 0; i < 1000; i++)
		send_one(p.l, i % 64);
	/* Nothing has run yet: it is all queued, framed, for the next write. */
	assert_int_equal(conn_queued(p.d->c), p.d->sent_wire - d0);
	assert_int_equal(conn_queued(p.l->c), p.l->sent_wire - l0);
	assert_int_equal(conn_send(p.d->c, (const uint8_t *)"", AG_NOISE_MAX_PLAIN + 1), -1);

	RUN_UNTIL(t, all_in(p.d, p.l) && all_in(p.l, p.d), WAIT_MS);
	RUN_UNTIL(t, conn_queued(p.d->c) == 0 && conn_queued(p.l->c) == 0, WAIT_MS);
	assert_int_equal(p.l->bad + p.d->bad, 0);
	assert_int_equal(p.l->nmsg, 2008); /* with dial_up's first message */
	assert_int_equal(p.d->nmsg, 1004);
	wire = AG_FRAME_HDR_LEN + hs_d + p.d->sent_wire;
	assert_int_equal(conn_bytes_out(p.d->c), wire);
	assert_int_equal(conn_bytes_in(p.l->c), wire);
	wire = AG_FRAME_HDR_LEN + hs_l + p.l->sent_wire;
	assert_int_equal(conn_bytes_out(p.l->c), wire);
	assert_int_equal(conn_bytes_in(p.d->c), wire);
	assert_int_equal(p.d->drains + p.l->drains, 0); /* never above CONN_QUEUE_HIGH */
}

static void test_handshake_and_exchange(void **state)
{
	struct t *t = *state;
	struct pair ba, ab;
	char addr[64];

	node_listen(&t->b);
	ba = dial_up(t, &t->b, &t->a);
	ab = dial_up(t, &t->a, &t->b);
	assert_ptr_equal(ba.l->peer, &t->b); /* what allow() gave */
	assert_ptr_equal(ab.l->peer, &t->a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(t->a.addr.sin_port));
	assert_string_equal(conn_addr(ba.d->c), addr);
	assert_prefix(conn_addr(ba.l->c), "127.0.0.1:");
	conn_set_peer(ba.l->c, t);
	assert_ptr_equal(conn_peer(ba.l->c), t);

	exchange(t, ba, MSG1_LEN, MSG2_LEN);
	exchange(t, ab, MSG1_LEN, MSG2_LEN);

	/* Closing one end is seen at the other; a second close changes nothing. */
	conn_close(ba.d->c, "bye");
	conn_close(ba.d->c, "again");
	RUN_UNTIL(t, ba.d->down && ba.l->down, WAIT_MS);
	assert_string_equal(ba.d->why, "bye");
	assert_string_equal(ba.l->why, "closed by peer");
	assert_int_equal(ba.d->wire_out, ba.l->wire_in);
	still_works(t, ab);
	finish(t);
}

/* A conn closed from its own msg() callback delivers nothing more from the same read. */
static void test_close_from_callback(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);

	t->a.close_after = 3;
	for (int i = 0; i < 10; i++)
		send_one(p.d, 100);
	RUN_UNTIL(t, p.l->down && p.d->down, WAIT_MS);
	assert_int_equal(p.l->nmsg, 3);
	assert_string_equal(p.l->why, "enough");
	finish(t);
}

static void test_dial_failures(void **state)
{
	struct t *t = *state;
	struct sockaddr_in nobody;
	struct rec *r1, *r2;
	int fd = raw_listen(t, &nobody);

	close(fd); /* the port is free again: nobody listens there */
	t->nfds--;
	r1 = rec_of(&t->b, conn_dial(&t->loop, (const struct sockaddr *)&nobody, t->a.pk, NULL,
	                             &t->b.keys, &ops, &t->b));
	r2 = rec_of(&t->b, conn_dial(&t->loop, (const struct sockaddr *)&t->a.addr, t->a.pk, NULL,
	                             &t->b.keys, &ops, &t->b));
	conn_close(r2->c, "changed my mind");
	RUN_UNTIL(t, r1->down && r2->down, WAIT_MS);
	assert_string_equal(r1->why, "connection refused");
	assert_string_equal(r2->why, "changed my mind");
	assert_int_equal(r1->up + r2->up, 0);
	finish(t);
}

/*
 * A stranger, a known key on another network and a message for another key
 * all get silence: zero bytes, then EOF. The conn never writes a byte.
 */
static void test_stranger_gets_silence(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	uint8_t other_net[32], other_pk[32], m[AG_FRAME_HDR_LEN + MSG1_LEN];
	const struct {
		const char *why;
		const uint8_t *sk, *rs, *net;
	} cases[] = {
	    {"unknown key", t->z.keys.x_sk, t->a.pk, t->network},
	    {"handshake message 1: ", t->r_sk, t->a.pk, other_net},
	    {"handshake message 1: ", t->r_sk, other_pk, t->network},
	};
	struct rec *zr;
	int k;

	randombytes_buf(other_net, 32);
	randombytes_buf(other_pk, 32);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = raw_connect(t, &t->a.addr), before = count_down(&t->a);

		ag_noise_hs_free(raw_msg1(cases[i].sk, cases[i].rs, cases[i].net, m));
		assert_int_equal(raw_send(t, fd, m, sizeof(m)), sizeof(m));
		RUN_UNTIL(t, count_down(&t->a) == before + 1, WAIT_MS);
		assert_prefix(last_down(&t->a)->why, cases[i].why);
		assert_int_equal(last_down(&t->a)->wire_out, 0);
		assert_int_equal(last_down(&t->a)->up, 0);
		raw_expect_silence(t, fd);
	}

	/* A real dialer with a key a does not know is never up, and told nothing. */
	k = count_down(&t->a);
	zr = rec_of(&t->z, conn_dial(&t->loop, (const struct sockaddr *)&t->a.addr, t->a.pk, NULL,
	                             &t->z.keys, &ops, &t->z));
	RUN_UNTIL(t, zr->down && count_down(&t->a) == k + 1, WAIT_MS);
	assert_string_equal(zr->why, "closed by peer");
	assert_int_equal(zr->up, 0);
	assert_int_equal(zr->wire_in, 0);
	assert_string_equal(last_down(&t->a)->why, "unknown key");
	still_works(t, p);
	finish(t);
}

/* Random bytes, before or after a handshake, close their conn with a reason. */
static void test_random_bytes(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	static uint8_t junk[70000]; /* more than a frame: one is sure to be complete */
	struct raw r;
	int n;

	for (int i = 0; i < 8; i++) {
		int fd = raw_connect(t, &t->a.addr);

		n = count_down(&t->a);
		randombytes_buf(junk, sizeof(junk));
		(void)raw_send(t, fd, junk, sizeof(junk)); /* a reset may cut it short */
		RUN_UNTIL(t, count_down(&t->a) == n + 1, WAIT_MS);
		assert_prefix(last_down(&t->a)->why, "handshake message 1: ");
		assert_int_equal(last_down(&t->a)->wire_out, 0);
	}
	/* Junk in place of the first transport message: never up, and no fault of the key's. */
	raw_handshake(t, &r);
	randombytes_buf(junk, sizeof(junk));
	n = count_down(&t->a);
	(void)raw_send(t, r.fd, junk, sizeof(junk));
	RUN_UNTIL(t, count_down(&t->a) == n + 1, WAIT_MS);
	assert_prefix(last_down(&t->a)->why, "handshake not confirmed");
	assert_int_equal(last_down(&t->a)->up, 0);
	assert_int_equal(last_down(&t->a)->fault, 0);
	raw_clear(&r);
	/* Junk after it: a fault of the peer's. */
	raw_handshake(t, &r);
	raw_confirm(t, &r);
	randombytes_buf(junk, sizeof(junk));
	(void)raw_send(t, r.fd, junk, sizeof(junk));
	RUN_UNTIL(t, last_down(&t->a)->up, WAIT_MS);
	assert_prefix(last_down(&t->a)->why, "transport: ");
	assert_int_equal(last_down(&t->a)->nmsg, 1);
	assert_int_equal(last_down(&t->a)->fault, 1);
	raw_clear(&r);
	still_works(t, p);
	finish(t);
}

/* Handshakes that stop short close their conn; those that stop for good time out. */
static void test_truncated_handshake(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	uint8_t m[AG_FRAME_HDR_LEN + MSG1_LEN];
	const struct {
		size_t frame_len, send_len; /* the length in the header; the bytes sent with it */
		const char *why;
	} cases[] = {
	    {MSG1_LEN, 40, "closed by peer"},  /* message 1 cut short, then EOF */
	    {MSG1_LEN, 0, "closed by peer"},   /* the header alone */
	    {40, 40, "handshake message 1: "}, /* a whole frame, too short a message */
	    {0, 0, "handshake message 1: "},   /* an empty frame */
	    {MSG1_LEN - 1, MSG1_LEN - 1, "handshake message 1: "},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = raw_connect(t, &t->a.addr), before = count_down(&t->a);

		ag_noise_hs_free(raw_msg1(t->r_sk, t->a.pk, t->network, m));
		assert_int_equal(ag_frame_header(m, cases[i].frame_len), 0);
		assert_int_equal(raw_send(t, fd, m, 2 + cases[i].send_len), 2 + cases[i].send_len);
		assert_int_equal(shutdown(fd, SHUT_WR), 0);
		RUN_UNTIL(t, count_down(&t->a) == before + 1, WAIT_MS);
		assert_prefix(last_down(&t->a)->why, cases[i].why);
		raw_expect_silence(t, fd);
	}
	still_works(t, p);
	finish(t);
}

/*
 * Handshakes that stall: a raw client that sends nothing and one that sends
 * half of message 1 close at the 2-second deadline for message 1; one that
 * completes the handshake and then sends no transport message, and a dialer
 * whose listener never accepts, at the 5-second handshake deadline. The
 * honest pair, made just before them, stays up: its timer stopped when the
 * handshake was done.
 */
static void test_stalled_handshakes_time_out(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	uint8_t m[AG_FRAME_HDR_LEN + MSG1_LEN];
	struct sockaddr_in deaf;
	int fd1, fd2, before = count_down(&t->a);
	uint64_t start;
	struct rec *dr;
	struct raw r;

	(void)raw_listen(t, &deaf);
	uv_update_time(&t->loop);
	start = uv_now(&t->loop);
	fd1 = raw_connect(t, &t->a.addr);
	fd2 = raw_connect(t, &t->a.addr);
	ag_noise_hs_free(raw_msg1(t->r_sk, t->a.pk, t->network, m));
	assert_int_equal(raw_send(t, fd2, m, 50), 50);
	raw_handshake(t, &r);
	dr = rec_of(&t->b, conn_dial(&t->loop, (const struct sockaddr *)&deaf, t->rr_pk, NULL,
	                             &t->b.keys, &ops, &t->b));
	RUN_UNTIL(t, count_down(&t->a) == before + 2, CONN_MSG1_MS + 2000);
	uv_update_time(&t->loop);
	assert_true(uv_now(&t->loop) - start >= CONN_MSG1_MS - 100);
	assert_true(uv_now(&t->loop) - start < CONN_HANDSHAKE_MS - 500);
	for (int i = 0; i < t->a.nrecs; i++)
		if (t->a.recs[i].down)
			assert_string_equal(t->a.recs[i].why,
			                    "handshake message 1 did not arrive in 2 s");
	RUN_UNTIL(t, count_down(&t->a) == before + 3 && dr->down, CONN_HANDSHAKE_MS + 3000);
	uv_update_time(&t->loop);
	assert_true(uv_now(&t->loop) - start >= CONN_HANDSHAKE_MS - 100);
	assert_string_equal(last_down(&t->a)->why, "handshake timed out");
	assert_int_equal(last_down(&t->a)->up, 0);
	assert_string_equal(dr->why, "handshake timed out");
	raw_expect_silence(t, fd1);
	raw_expect_silence(t, fd2);
	raw_clear(&r);
	still_works(t, p);
	finish(t);
}

/*
 * Message 1 carries nothing fresh: anyone who saw it can send it again. A
 * replay, followed by garbage, is never up, is no fault of the key's, and
 * leaves the peer's live connection as it was.
 */
static void test_replayed_message1(void **state)
{
	struct t *t = *state;
	uint8_t m1[AG_FRAME_HDR_LEN + MSG1_LEN], m2[AG_FRAME_HDR_LEN + MSG2_LEN], junk[200];
	struct rec *live, *replay;
	struct raw r;
	int fd, end, before;

	raw_handshake_m1(t, &r, m1);
	live = raw_confirm(t, &r);
	before = count_down(&t->a);
	fd = raw_connect(t, &t->a.addr);
	assert_int_equal(raw_send(t, fd, m1, sizeof(m1)), sizeof(m1));
	/* a answers with a message 2 that the replayer cannot read, and waits. */
	assert_int_equal(raw_recv(t, fd, m2, sizeof(m2), WAIT_MS, &end), sizeof(m2));
	randombytes_buf(junk, sizeof(junk));
	assert_int_equal(ag_frame_header(junk, sizeof(junk) - 2), 0);
	assert_int_equal(raw_send(t, fd, junk, sizeof(junk)), sizeof(junk));
	RUN_UNTIL(t, count_down(&t->a) == before + 1, WAIT_MS);
	replay = last_down(&t->a);
	assert_prefix(replay->why, "handshake not confirmed");
	assert_int_equal(replay->up, 0);
	assert_int_equal(replay->fault, 0);
	assert_non_null(live->c);
	assert_int_equal(live->up, 1);
	/* The live connection still carries messages. */
	assert_int_equal(raw_send(t, r.fd, m1, raw_seal(&r, 1, 10, m1)), WIRE(10));
	RUN_UNTIL(t, live->nmsg == 2, WAIT_MS);
	raw_clear(&r);
	finish(t);
}

/* Once up, a frame begun must complete within CONN_FRAME_MS: a trickle is cut off. */
static void test_trickled_frame(void **state)
{
	struct t *t = *state;
	uint8_t hdr[2] = {0xff, 0xff}, byte = 0;
	uint64_t start;
	struct rec *l;
	struct raw r;

	raw_handshake(t, &r);
	l = raw_confirm(t, &r);
	uv_update_time(&t->loop);
	start = uv_now(&t->loop);
	assert_int_equal(raw_send(t, r.fd, hdr, 2), 2);
	guard_start(t, CONN_FRAME_MS + 3000);
	while (l->c && !t->timed_out) {
		(void)send(r.fd, &byte, 1, MSG_NOSIGNAL);
		pump(t, r.fd, POLLIN);
	}
	uv_timer_stop(&t->guard);
	assert_null(l->c);
	uv_update_time(&t->loop);
	assert_true(uv_now(&t->loop) - start >= CONN_FRAME_MS - 100);
	assert_string_equal(l->why, "a frame did not complete in 5 s");
	assert_int_equal(l->fault, 0);
	raw_clear(&r);
	finish(t);
}

/* After the handshake, a message that is not the next one sealed closes the conn. */
static void test_forged_transport(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	const struct {
		const char *name;
		int64_t nonce[2]; /* the two messages' nonces */
		long flip;        /* bit to flip in the second frame's body; -1 none */
		size_t cut;       /* if non-zero, the second frame's body is cut to this */
		unsigned long delivered;
	} cases[] = {
	    /* Nonce 0 is raw_confirm's: these come after it. */
	    {"flipped ciphertext bit", {1, 2}, 5 * 8 + 3, 0, 2},
	    {"flipped tag bit", {1, 2}, (600 + 15) * 8, 0, 2},
	    {"replayed", {1, 1}, -1, 0, 2},
	    {"reordered", {2, 1}, -1, 0, 1},
	    {"skipped", {1, 3}, -1, 0, 2},
	    {"shorter than a tag", {1, 2}, -1, 10, 2},
	};
	uint8_t buf[4 * WIRE(600)];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n, second;
		struct raw r;
		struct rec *l;

		raw_handshake(t, &r);
		l = raw_confirm(t, &r);
		n = raw_seal(&r, (uint64_t)cases[i].nonce[0], 600, buf);
		second = n;
		n += raw_seal(&r, (uint64_t)cases[i].nonce[1], 600, buf + n);
		if (cases[i].flip >= 0)
			buf[second + 2 + cases[i].flip / 8] ^= (uint8_t)(1u << (cases[i].flip % 8));
		if (cases[i].cut) {
			assert_int_equal(ag_frame_header(buf + second, cases[i].cut), 0);
			n = second + 2 + cases[i].cut;
		}
		/* Then a message that would be good, had the conn not closed. */
		n += raw_seal(&r, cases[i].delivered, 600, buf + n);
		(void)raw_send(t, r.fd, buf, n);
		RUN_UNTIL(t, l->down, WAIT_MS);
		if (strncmp(l->why, "transport: ", 11) != 0 || l->nmsg != cases[i].delivered)
			fail_msg("%s: \"%s\", %lu delivered", cases[i].name, l->why, l->nmsg);
		raw_clear(&r);
	}
	still_works(t, p);
	finish(t);
}

/*
 * The dialer's side of the same: a responder whose message 2 is forged, cut,
 * carries a payload, or is good but followed by a forged transport message.
 */
static void test_forged_responder(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	const struct {
		long flip;      /* bit to flip in message 2; -1 none */
		size_t cut;     /* if non-zero, message 2 is cut to this */
		size_t payload; /* bytes of payload in message 2 */
		int forge;      /* then a transport message with a flipped bit */
		const char *why;
		int up;
	} cases[] = {
	    {7, 0, 0, 0, "handshake message 2: ", 0},
	    {(MSG2_LEN - 1) * 8, 0, 0, 0, "handshake message 2: ", 0},
	    {-1, 31, 0, 0, "handshake message 2: ", 0},
	    {-1, 0, 5, 0, "handshake message 2 malformed", 0},
	    {-1, 0, 0, 1, "transport: ", 1},
	};
	struct sockaddr_in addr;
	int lfd = raw_listen(t, &addr);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t m[256], pay[8], prologue[39], rs[32];
		struct ag_noise_hs *hs;
		struct raw r;
		struct rec *d;
		size_t n;
		int end;

		d = rec_of(&t->b, conn_dial(&t->loop, (const struct sockaddr *)&addr, t->rr_pk,
		                            NULL, &t->b.keys, &ops, &t->b));
		while ((r.fd = accept(lfd, NULL, NULL)) < 0)
			pump(t, lfd, POLLIN);
		t->fds[t->nfds++] = r.fd;
		assert_int_equal(fcntl(r.fd, F_SETFL, O_NONBLOCK), 0);
		assert_int_equal(raw_recv(t, r.fd, m, 2 + MSG1_LEN, WAIT_MS, &end), 2 + MSG1_LEN);
		prologue_of(prologue, t->network);
		assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_IK, 0, prologue, sizeof(prologue),
		                                 t->rr_sk, NULL),
		                 0);
		assert_int_equal(ag_noise_read_message(hs, m + 2, MSG1_LEN, pay, sizeof(pay), &n),
		                 0);
		assert_int_equal(ag_noise_remote_static(hs, rs), 0);
		assert_memory_equal(rs, t->b.pk, 32);
		assert_int_equal(ag_noise_write_message(hs, (const uint8_t *)"hello",
		                                        cases[i].payload, m + 2, sizeof(m) - 2, &n),
		                 0);
		if (cases[i].flip >= 0)
			m[2 + cases[i].flip / 8] ^= (uint8_t)(1u << (cases[i].flip % 8));
		if (cases[i].cut)
			n = cases[i].cut;
		assert_int_equal(ag_frame_header(m, n), 0);
		n += 2;
		if (cases[i].forge) {
			assert_int_equal(ag_noise_split(hs, &r.tx, &r.rx), 0);
			n += raw_seal(&r, 0, 100, m + n);
			m[n - 1] ^= 0x80;
			raw_clear(&r);
		}
		ag_noise_hs_free(hs);
		assert_int_equal(raw_send(t, r.fd, m, n), n);
		RUN_UNTIL(t, d->down, WAIT_MS);
		assert_prefix(d->why, cases[i].why);
		assert_int_equal(d->up, cases[i].up);
		assert_int_equal(d->nmsg, 0);
	}
	still_works(t, p);
	finish(t);
}

/* Above CONN_QUEUE_HIGH the queue says so and drain() fires once it is low again. */
static void test_backpressure(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	size_t last = 0;

	RUN_UNTIL(t, conn_queued(p.d->c) == 0, WAIT_MS);
	while (conn_queued(p.d->c) < CONN_QUEUE_HIGH) {
		send_one(p.d, 60000);
		assert_true(conn_queued(p.d->c) > last);
		last = conn_queued(p.d->c);
	}
	RUN_UNTIL(t, p.d->drains == 1 && all_in(p.d, p.l), WAIT_MS);
	assert_true(p.d->queued_at_drain < CONN_QUEUE_HIGH / 2);
	RUN_UNTIL(t, conn_queued(p.d->c) == 0, WAIT_MS);
	assert_int_equal(p.d->drains, 1);
	assert_int_equal(p.l->bad, 0);
	/* Below the mark, no drain. */
	send_one(p.d, 60000);
	RUN_UNTIL(t, all_in(p.d, p.l) && conn_queued(p.d->c) == 0, WAIT_MS);
	assert_int_equal(p.d->drains, 1);
	still_works(t, p);
	finish(t);
}

/* A paused reader takes nothing: the sender's queue grows past the mark; resumed, all arrive. */
static void test_pause(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);

	conn_pause(p.l->c, 1);
	conn_pause(p.l->c, 1);
	while (conn_queued(p.d->c) < CONN_QUEUE_HIGH) {
		send_one(p.d, 60000);
		uv_run(&t->loop, UV_RUN_NOWAIT); /* the kernel's buffers fill, then ours */
		assert_true(p.d->nsent < 2000);
	}
	guard_start(t, 200);
	while (!t->timed_out)
		uv_run(&t->loop, UV_RUN_ONCE);
	assert_int_equal(p.l->nmsg, 1); /* dial_up's first message only */
	assert_int_equal(p.d->drains, 0);
	assert_true(conn_queued(p.d->c) >= CONN_QUEUE_HIGH);
	conn_pause(p.l->c, 0);
	RUN_UNTIL(t, all_in(p.d, p.l) && p.d->drains == 1, WAIT_MS);
	assert_int_equal(p.l->bad, 0);
	still_works(t, p);
	finish(t);
}

/* A peer that completes the handshake and never reads is cut off at a bounded queue. */
static void test_queue_is_bounded(void **state)
{
	struct t *t = *state;
	struct pair p = dial_up(t, &t->b, &t->a);
	static uint8_t big[60000];
	size_t max = 0, got = 0;
	struct raw r;
	int end;
	struct rec *l;

	raw_handshake(t, &r);
	l = raw_confirm(t, &r);
	for (int i = 0; l->c; i++) {
		if (conn_send(l->c, big, sizeof(big)) != 0)
			break;
		if (conn_queued(l->c) > max)
			max = conn_queued(l->c);
		if (i % 16 == 0)
			uv_run(&t->loop, UV_RUN_NOWAIT); /* let the kernel's buffers fill */
		assert_true(i < 2000);
	}
	RUN_UNTIL(t, l->down, WAIT_MS);
	assert_string_equal(l->why, "peer does not read: write queue full");
	assert_true(max > 15 * CONN_QUEUE_HIGH && max <= 16 * CONN_QUEUE_HIGH);
	/* What the conn counts as sent, the peer can read: cancelled writes do not count. */
	for (end = RAW_OPEN; end == RAW_OPEN;)
		got += raw_recv(t, r.fd, big, sizeof(big), WAIT_MS, &end);
	assert_int_equal(end, RAW_EOF);
	assert_true(l->wire_out <= AG_FRAME_HDR_LEN + MSG2_LEN + got);
	raw_clear(&r);
	still_works(t, p);
	finish(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake_and_exchange, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dial_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stranger_gets_silence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_handshakes_time_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replayed_message1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trickled_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_transport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_responder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_is_bounded, setup, teardown),
	};

	/* As agorad does: a write to a peer that has gone is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
