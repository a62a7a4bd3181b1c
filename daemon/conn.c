/* conn.c: one peer connection: TCP, frames, the Noise_IK handshake, then transport. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "noise.h"

#define CONN_QUEUE_MAX (16u * CONN_QUEUE_HIGH) /* a peer that never reads is cut off here */
#define CONN_READ_LEN  (256u * 1024)           /* bytes asked of the socket at once */
#define CONN_HS_MAX    256 /* longest handshake message (IK's are 96 and 48 bytes) */

/*
 * The responder's CONN_CONFIRM: message 2 is sent, but message 1 carries
 * nothing fresh and anyone who saw it can replay it, so the peer counts as
 * connected (up()) only once its first transport message has decrypted.
 */
enum conn_state { CONN_DIALING, CONN_HS_WAIT1, CONN_HS_WAIT2, CONN_CONFIRM, CONN_UP, CONN_CLOSING };

struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

/* What only a connection that is up needs: 128 KiB, allocated once the handshake is done. */
struct transport {
	uint8_t frame[AG_FRAME_MAX]; /* the decoder's, for a frame cut across reads */
	uint8_t plain[AG_FRAME_MAX];
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect_req;
	uv_write_t write_req;
	int open_handles;
	enum conn_state state;
	struct ag_noise_hs *hs;
	struct ag_noise_cs tx, rx;
	struct outbuf pending, inflight;
	int writing, above_high;
	int initiator, was_up, paused;
	int frame_timed; /* the timer runs for a frame begun and not yet complete */
	int peer_fault;  /* closed because the peer sent what fails authentication */
	const struct conn_ops *ops;
	void *ud, *peer;
	char addr[64];
	struct sockaddr_storage sa;
	conn_gate_fn *gate; /* before message 1 is read, if set */
	void *gate_arg;
	char why[160];
	uint64_t bytes_in, bytes_out;
	size_t plain_used; /* the most of t->plain a message has filled: what to wipe */
	/*
	 * Until the handshake is done, dec gathers frames in hs_frame and t is
	 * NULL: a crowd of handshakes that never finish (slowloris) costs about
	 * 1 KiB each, not the 128 KiB of a connection that is up.
	 */
	struct ag_frame_dec dec;
	uint8_t hs_frame[CONN_HS_MAX];
	struct transport *t;
};

/*
 * What the socket gives, for every conn of the loop's thread: on_read frames
 * and hands out all of a read before the next one, and the decoder keeps a
 * frame cut at the end in its own buffer, so nothing stays here between
 * reads. Large reads make fewer system calls and acknowledgements per
 * message. Made at a thread's first read and freed when it ends: an array
 * in thread-local storage is cleared in every thread as it starts, which
 * cost each of libuv's workers 256 KiB of memory it never read into.
 */
static _Thread_local uint8_t *rbuf;
static pthread_key_t rbuf_key;
static pthread_once_t rbuf_once = PTHREAD_ONCE_INIT;

static void rbuf_key_make(void)
{
	(void)pthread_key_create(&rbuf_key, free);
}

static const char prologue_tag[] = "agora/1";

static void conn_flush(struct conn *c);
static void on_timeout(uv_timer_t *t);

static void on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->open_handles > 0)
		return;
	c->ops->down(c->ud, c, c->why);
	ag_noise_hs_free(c->hs);
	ag_noise_cs_clear(&c->tx);
	ag_noise_cs_clear(&c->rx);
	free(c->pending.p);
	free(c->inflight.p);
	if (c->t)
		sodium_memzero(c->t->plain, c->plain_used);
	free(c->t);
	free(c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	snprintf(c->why, sizeof(c->why), "%s", why);
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void close_err(struct conn *c, const char *what, int rc)
{
	char why[160];

	snprintf(why, sizeof(why), "%s: %s", what, ag_strerror(rc));
	conn_close(c, why);
}

static int outbuf_reserve(struct outbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 65536;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	if (!(p = realloc(b->p, cap)))
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

size_t conn_queued(const struct conn *c)
{
	return c->pending.len + c->inflight.len;
}

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	c->writing = 0;
	if (status == 0)
		c->bytes_out += c->inflight.len;
	c->inflight.len = 0;
	if (status < 0) {
		if (status != UV_ECANCELED)
			conn_close(c, uv_strerror(status));
		return;
	}
	if (c->pending.len > 0)
		conn_flush(c);
	if (c->above_high && conn_queued(c) < CONN_QUEUE_HIGH / 2 && c->state == CONN_UP) {
		c->above_high = 0;
		c->ops->drain(c->ud, c);
	}
}

/* One uv_write for everything queued since the last one: frames are coalesced. */
static void conn_flush(struct conn *c)
{
	struct outbuf t;
	uv_buf_t buf;
	int rc;

	if (c->writing || c->pending.len == 0 || c->state == CONN_CLOSING)
		return;
	t = c->inflight;
	c->inflight = c->pending;
	c->pending = t;
	c->pending.len = 0;
	buf = uv_buf_init((char *)c->inflight.p, (unsigned)c->inflight.len);
	c->write_req.data = c;
	if ((rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, on_write)) < 0) {
		conn_close(c, uv_strerror(rc));
		return;
	}
	c->writing = 1;
}

/* Queues a frame whose body the caller writes at the returned pointer. */
static uint8_t *frame_reserve(struct conn *c, size_t len)
{
	uint8_t *p;

	if (conn_queued(c) + len > CONN_QUEUE_MAX) {
		conn_close(c, "peer does not read: write queue full");
		return NULL;
	}
	if (outbuf_reserve(&c->pending, AG_FRAME_HDR_LEN + len) != 0) {
		conn_close(c, "out of memory");
		return NULL;
	}
	p = c->pending.p + c->pending.len;
	if (ag_frame_header(p, len) != 0)
		return NULL;
	c->pending.len += AG_FRAME_HDR_LEN + len;
	return p + AG_FRAME_HDR_LEN;
}

int conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t *p;
	size_t n;
	int rc;

	if (c->state != CONN_UP || len > AG_NOISE_MAX_PLAIN)
		return -1;
	if (!(p = frame_reserve(c, len + AG_NOISE_TAG_LEN)))
		return -1;
	if ((rc = ag_noise_encrypt(&c->tx, msg, len, p, len + AG_NOISE_TAG_LEN, &n)) != 0) {
		close_err(c, "encrypt", rc);
		return -1;
	}
	if (conn_queued(c) >= CONN_QUEUE_HIGH)
		c->above_high = 1;
	conn_flush(c);
	return 0;
}

static int send_handshake(struct conn *c)
{
	uint8_t msg[256], *p;
	size_t n;
	int rc;

	if ((rc = ag_noise_write_message(c->hs, NULL, 0, msg, sizeof(msg), &n)) != 0) {
		close_err(c, "handshake", rc);
		return -1;
	}
	if (!(p = frame_reserve(c, n)))
		return -1;
	memcpy(p, msg, n);
	conn_flush(c);
	return 0;
}

static void go_up(struct conn *c)
{
	uv_timer_stop(&c->timer);
	c->state = CONN_UP;
	c->was_up = 1;
	c->ops->up(c->ud, c);
}

/* The handshake is done: transport keys, and the 128 KiB that only a live connection needs. */
static int split(struct conn *c)
{
	int rc;

	if ((rc = ag_noise_split(c->hs, &c->tx, &c->rx)) != 0) {
		close_err(c, "handshake", rc);
		return -1;
	}
	ag_noise_hs_free(c->hs);
	c->hs = NULL;
	if (!(c->t = malloc(sizeof(*c->t)))) {
		conn_close(c, "out of memory");
		return -1;
	}
	ag_frame_dec_init(&c->dec, c->t->frame, sizeof(c->t->frame));
	return 0;
}

/* Responder, message 1: -> e, es, s, ss. A key we do not know gets silence. */
static void on_msg1(struct conn *c, const uint8_t *frame, size_t len)
{
	uint8_t payload[64], x_pk[32];
	const char *why;
	size_t plen;
	int rc;

	if (c->gate && (why = c->gate(c->gate_arg, c))) {
		conn_close(c, why);
		return;
	}
	if ((rc = ag_noise_read_message(c->hs, frame, len, payload, sizeof(payload), &plen)) != 0) {
		close_err(c, "handshake message 1", rc);
		return;
	}
	if (ag_noise_remote_static(c->hs, x_pk) != 0 ||
	    !(c->peer = c->ops->allow(c->ud, c, x_pk))) {
		conn_close(c, "unknown key");
		return;
	}
	/* What is left of the handshake's 5 seconds, counted from the longest message 1 may take.
	 */
	uv_timer_start(&c->timer, on_timeout, CONN_HANDSHAKE_MS - CONN_MSG1_MS, 0);
	if (plen != 0) {
		conn_close(c, "handshake payload not empty");
		return;
	}
	/* The handshake deadline still runs: it ends with the first transport message. */
	if (send_handshake(c) == 0 && split(c) == 0)
		c->state = CONN_CONFIRM;
}

/* Initiator, message 2: <- e, ee, se. */
static void on_msg2(struct conn *c, const uint8_t *frame, size_t len)
{
	uint8_t payload[64];
	size_t plen;
	int rc;

	if ((rc = ag_noise_read_message(c->hs, frame, len, payload, sizeof(payload), &plen)) != 0) {
		close_err(c, "handshake message 2", rc);
		return;
	}
	if (plen != 0 || !ag_noise_hs_done(c->hs)) {
		conn_close(c, "handshake message 2 malformed");
		return;
	}
	if (split(c) == 0)
		go_up(c);
}

static void on_transport(struct conn *c, const uint8_t *frame, size_t len)
{
	size_t n;
	int rc;

	if ((rc = ag_noise_decrypt(&c->rx, frame, len, c->t->plain, sizeof(c->t->plain), &n)) !=
	    0) {
		/* Before the first message decrypts, the peer may be a replay of its message 1. */
		if (c->state == CONN_CONFIRM) {
			close_err(c, "handshake not confirmed (message 1 replayed?)", rc);
			return;
		}
		c->peer_fault = 1;
		close_err(c, "transport", rc);
		return;
	}
	if (n > c->plain_used)
		c->plain_used = n;
	if (c->state == CONN_CONFIRM)
		go_up(c);
	if (c->state == CONN_UP)
		c->ops->msg(c->ud, c, c->t->plain, n);
}

static void on_frame(struct conn *c, const uint8_t *frame, size_t len)
{
	switch (c->state) {
	case CONN_HS_WAIT1:
		on_msg1(c, frame, len);
		break;
	case CONN_HS_WAIT2:
		on_msg2(c, frame, len);
		break;
	case CONN_CONFIRM:
	case CONN_UP:
		on_transport(c, frame, len);
		break;
	default:
		break;
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;
	char why[96];

	if (c->state == CONN_UP)
		snprintf(why, sizeof(why), "a frame did not complete in %d s",
		         CONN_FRAME_MS / 1000);
	else if (c->state == CONN_HS_WAIT1)
		snprintf(why, sizeof(why), "handshake message 1 did not arrive in %d s",
		         CONN_MSG1_MS / 1000);
	else
		snprintf(why, sizeof(why), "handshake timed out");
	conn_close(c, why);
}

/*
 * Once up, a frame begun must complete within CONN_FRAME_MS: a peer that
 * trickles a frame a byte at a time, or never finishes one, is cut off long
 * before the keepalive's silence would notice (it is not silent).
 */
static void frame_deadline(struct conn *c)
{
	if (c->state != CONN_UP)
		return;
	if (ag_frame_dec_pending(&c->dec) == 0) {
		uv_timer_stop(&c->timer);
		c->frame_timed = 0;
	} else if (!c->frame_timed) {
		uv_timer_start(&c->timer, on_timeout, CONN_FRAME_MS, 0);
		c->frame_timed = 1;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	if (!rbuf) {
		pthread_once(&rbuf_once, rbuf_key_make);
		if ((rbuf = malloc(CONN_READ_LEN)) != NULL)
			(void)pthread_setspecific(rbuf_key, rbuf);
	}
	/* Out of memory: no room, and on_read is told UV_ENOBUFS. */
	*buf = uv_buf_init((char *)rbuf, rbuf ? CONN_READ_LEN : 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	const uint8_t *in = (const uint8_t *)buf->base, *frame;
	size_t left = nread > 0 ? (size_t)nread : 0, used, flen;

	if (nread < 0) {
		conn_close(c, nread == UV_EOF ? "closed by peer" : uv_strerror((int)nread));
		return;
	}
	c->bytes_in += left;
	while (left > 0 && c->state != CONN_CLOSING) {
		int rc = ag_frame_dec_feed(&c->dec, in, left, &used, &frame, &flen);

		if (rc < 0) {
			conn_close(c, c->state == CONN_HS_WAIT1 ? "handshake message 1: too long"
			                                        : "handshake message 2: too long");
			return;
		}
		if (rc == 1) {
			on_frame(c, frame, flen);
			c->frame_timed = 0; /* the next frame has its own deadline */
		}
		in += used;
		left -= used;
	}
	frame_deadline(c);
}

static struct conn *conn_new(uv_loop_t *loop, const struct conn_ops *ops, void *ud)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->ud = ud;
	ag_frame_dec_init(&c->dec, c->hs_frame, sizeof(c->hs_frame));
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	uv_timer_start(&c->timer, on_timeout, CONN_HANDSHAKE_MS, 0);
	return c;
}

static int make_hs(struct conn *c, const struct conn_keys *keys, int initiator, const uint8_t *rs)
{
	uint8_t prologue[sizeof(prologue_tag) - 1 + 32];

	memcpy(prologue, prologue_tag, sizeof(prologue_tag) - 1);
	memcpy(prologue + sizeof(prologue_tag) - 1, keys->network, 32);
	return ag_noise_hs_new(&c->hs, AG_NOISE_IK, initiator, prologue, sizeof(prologue),
	                       keys->x_sk, rs);
}

static void set_addr(struct conn *c, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(c->addr, sizeof(c->addr), sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip,
	         port);
	if (sa->sa_family == AF_INET)
		memcpy(&c->sa, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(&c->sa, sa, sizeof(struct sockaddr_in6));
}

struct conn *conn_accept(uv_stream_t *server, const struct conn_keys *keys,
                         const struct conn_ops *ops, void *ud)
{
	struct conn *c = conn_new(server->loop, ops, ud);
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;

	if (!c)
		return NULL;
	c->state = CONN_HS_WAIT1;
	uv_timer_start(&c->timer, on_timeout, CONN_MSG1_MS, 0);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || make_hs(c, keys, 0, NULL) != 0) {
		conn_close(c, "accept failed");
		return c;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		set_addr(c, (struct sockaddr *)&ss);
	uv_tcp_nodelay(&c->tcp, 1);
	if ((rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) < 0)
		conn_close(c, uv_strerror(rc));
	return c;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		conn_close(c, uv_strerror(status));
		return;
	}
	c->state = CONN_HS_WAIT2;
	uv_tcp_nodelay(&c->tcp, 1);
	/* -> e, es, s, ss */
	if (send_handshake(c) != 0)
		return;
	if ((status = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) < 0)
		conn_close(c, uv_strerror(status));
}

struct conn *conn_dial(uv_loop_t *loop, const struct sockaddr *addr, const uint8_t x_rs[static 32],
                       void *peer, const struct conn_keys *keys, const struct conn_ops *ops,
                       void *ud)
{
	struct conn *c = conn_new(loop, ops, ud);
	int rc;

	if (!c)
		return NULL;
	c->peer = peer;
	c->initiator = 1;
	c->state = CONN_DIALING;
	set_addr(c, addr);
	c->connect_req.data = c;
	if (make_hs(c, keys, 1, x_rs) != 0) {
		conn_close(c, "cannot dial: handshake setup failed");
		return c;
	}
	if ((rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, on_connect)) < 0) {
		char why[160];

		snprintf(why, sizeof(why), "cannot dial: %s", uv_strerror(rc));
		conn_close(c, why);
	}
	return c;
}

void conn_pause(struct conn *c, int pause)
{
	int rc;

	if (c->state == CONN_CLOSING || c->state == CONN_DIALING || c->paused == pause)
		return;
	c->paused = pause;
	if (pause)
		uv_read_stop((uv_stream_t *)&c->tcp);
	else if ((rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) < 0)
		conn_close(c, uv_strerror(rc));
}

int conn_initiator(const struct conn *c)
{
	return c->initiator;
}

int conn_was_up(const struct conn *c)
{
	return c->was_up;
}

int conn_peer_fault(const struct conn *c)
{
	return c->peer_fault;
}

void *conn_peer(const struct conn *c)
{
	return c->peer;
}

void conn_set_peer(struct conn *c, void *peer)
{
	c->peer = peer;
}

int conn_is_up(const struct conn *c)
{
	return c->state == CONN_UP;
}

const char *conn_addr(const struct conn *c)
{
	return c->addr;
}

const struct sockaddr_storage *conn_sockaddr(const struct conn *c)
{
	return &c->sa;
}

void conn_set_gate(struct conn *c, conn_gate_fn *gate, void *arg)
{
	c->gate = gate;
	c->gate_arg = arg;
}

uint64_t conn_bytes_in(const struct conn *c)
{
	return c->bytes_in;
}

uint64_t conn_bytes_out(const struct conn *c)
{
	return c->bytes_out;
}
