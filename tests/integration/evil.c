/*
 * evil.c: `agora-evil DIR PEER_KEY HOST:PORT MODE [SECONDS]` is a hostile peer
 * with a valid key (the node in DIR, which the target knows). It completes the
 * handshake, says HELLO, then misbehaves as MODE says:
 *   forge       one ENTRIES message whose entry's signature is wrong
 *   fork        two different entries at seq 1 of our feed, then a seq 2 on the first
 *   schema      seq 1 valid, seq 2 a practice that breaks its schema, seq 3 chained on it
 *   newer       a simulated next release: HELLO with an extra feature and a trailing
 *               element, a message of an unknown type, then seq 1 a valid practice,
 *               seq 2 a record of an unknown type ("survey"), seq 3 a practice with an
 *               unknown field, an unknown topic and a known field of another kind;
 *               exits 0 if the target still answers a PING after all of it, and does
 *               not close the connection in the 5 s after
 *   framelimit  for SECONDS, CLOCK messages of made-up authors, each frame exactly
 *               65,535 bytes, back to back
 *   trickle     for SECONDS, a frame header announcing 65,535 bytes, then a byte a tick
 *   flood       for SECONDS, valid entries of an author outside the target's set,
 *               as fast as the target reads
 *   garbage     for SECONDS, random frames after the handshake, reconnecting each time
 *   claim       a CLOCK claiming the target's own feed at seq 2^64-1, then silence until
 *               SECONDS are over, on one connection
 *   members     50,000 valid member records of our own feed, each introducing a new random
 *               key, as fast as the target reads; then holds the connection for SECONDS
 *   slowloris   for SECONDS, holds many connections from 127.0.0.2..201 that send half a
 *               handshake message or nothing, and dials again and again as a stranger
 *               from 127.0.1.250
 *   stranger    for SECONDS, DIR's key, which the target does not know, completes handshake
 *               message 1 twice a second; exits 0 if the target closed each without a byte
 *   replay      a connection that stays up; then its message 1 again on a second
 *               connection, as anyone who saw it on the wire could, and a garbage frame;
 *               exits 0 if the first is still served and a new one is taken at once
 *   terminal    seq 1 a member record, seq 2 a practice, seq 3 a record of an unknown type,
 *               whose text holds what would drive a terminal (ESC [ 2 J, U+009B, BEL, CR,
 *               U+202E); exits 0 if the target still answers a PING after them
 * forge, fork and schema exit 0 when the target closed the connection, 1 otherwise; the
 * others exit 0 once SECONDS are over. What happened goes to stdout. Blocking
 * sockets throughout: a target that stops reading simply slows us down.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sodium.h>

#include "config.h"
#include "entry.h"
#include "frame.h"
#include "keyfile.h"
#include "msg.h"
#include "noise.h"

#define CLOSED         "closed by the target"
#define NOT_CLOSED     "target did not close within 10 s"
#define LORIS_SOCKETS  400 /* 2 from each source: far more than the target's 64 handshake slots */
#define LORIS_SOURCES  200 /* 127.0.0.2 to 127.0.0.201: one /24, as H (127.0.0.1) */
#define LORIS_STRANGER "127.0.1.250" /* another /24: not crowded out by the rest */
#define MEMBERS_MAX    50000         /* member records in the members mode */
#define MEMBERS_BATCH  150           /* records of ~330 bytes to a message */

struct evil {
	uint8_t pk[32], sk[64], network[32];
	uint8_t target[32]; /* the target's Ed25519 key */
	uint8_t x_sk[32], x_rs[32];
	struct sockaddr_in to;
	double until;
	unsigned long conns, closed, frames;
};

struct link {
	int fd;
	struct ag_noise_cs tx, rx;
	uint8_t m1[256]; /* our handshake message 1, framed, as it went on the wire */
	size_t m1_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A TCP connection to the target, from source address from (NULL: any). -1 on failure. */
static int tcp_open(const struct evil *ev, const char *from)
{
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (from) {
		struct sockaddr_in sa = {.sin_family = AF_INET};

		if (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&ev->to, sizeof(ev->to)) == 0)
		return fd;
fail:
	close(fd);
	return -1;
}

static int make_hs(const struct evil *ev, const uint8_t x_sk[32], struct ag_noise_hs **hs)
{
	uint8_t prologue[7 + 32];

	memcpy(prologue, "agora/1", 7);
	memcpy(prologue + 7, ev->network, 32);
	return ag_noise_hs_new(hs, AG_NOISE_IK, 1, prologue, sizeof(prologue), x_sk, ev->x_rs);
}

/* Handshake message 1, framed, as the holder of x_sk would send it. */
static size_t msg1_frame(const struct evil *ev, const uint8_t x_sk[32], uint8_t *out, size_t cap,
                         struct ag_noise_hs **keep)
{
	struct ag_noise_hs *hs;
	size_t n;

	if (make_hs(ev, x_sk, &hs) != 0 ||
	    ag_noise_write_message(hs, NULL, 0, out + 2, cap - 2, &n) != 0 ||
	    ag_frame_header(out, n) != 0)
		exit(2);
	if (keep)
		*keep = hs;
	else
		ag_noise_hs_free(hs);
	return n + 2;
}

static int link_send(struct link *l, const uint8_t *msg, size_t len)
{
	static uint8_t frame[AG_FRAME_HDR_LEN + AG_NOISE_MAX_MSG];
	size_t n;

	if (ag_noise_encrypt(&l->tx, msg, len, frame + 2, sizeof(frame) - 2, &n) != 0 ||
	    ag_frame_header(frame, n) != 0)
		exit(2);
	return write_all(l->fd, frame, n + 2);
}

/* Connects with our valid key, finishes the handshake and says HELLO. 0 or -1. */
static int link_open(struct evil *ev, struct link *l)
{
	uint8_t buf[512], hdr[2], payload[64];
	struct ag_noise_hs *hs;
	size_t len, plen;

	if ((l->fd = tcp_open(ev, NULL)) < 0)
		return -1;
	len = msg1_frame(ev, ev->x_sk, buf, sizeof(buf), &hs);
	memcpy(l->m1, buf, len);
	l->m1_len = len;
	if (write_all(l->fd, buf, len) != 0 || read_all(l->fd, hdr, 2) != 0 ||
	    (len = (size_t)hdr[0] << 8 | hdr[1]) > sizeof(buf) || read_all(l->fd, buf, len) != 0 ||
	    ag_noise_read_message(hs, buf, len, payload, sizeof(payload), &plen) != 0 ||
	    ag_noise_split(hs, &l->tx, &l->rx) != 0) {
		ag_noise_hs_free(hs);
		close(l->fd);
		return -1;
	}
	ag_noise_hs_free(hs);
	ev->conns++;
	if (ag_msg_hello(buf, sizeof(buf), &len, "Evil", "agora-evil") != 0 ||
	    link_send(l, buf, len) != 0)
		return 0; /* closed at once: the caller finds out */
	return 0;
}

/* The next protocol message from the target into out, within secs: its length, or -1. */
static ssize_t link_recv(struct link *l, uint8_t *out, size_t cap, double secs)
{
	static uint8_t frame[AG_FRAME_MAX];
	struct pollfd pfd = {l->fd, POLLIN, 0};
	uint8_t hdr[2];
	size_t len, n;

	if (poll(&pfd, 1, (int)(secs * 1000)) <= 0 || read_all(l->fd, hdr, 2) != 0)
		return -1;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (read_all(l->fd, frame, len) != 0 ||
	    ag_noise_decrypt(&l->rx, frame, len, out, cap, &n) != 0)
		return -1;
	return (ssize_t)n;
}

static void link_close(struct link *l)
{
	close(l->fd);
	ag_noise_cs_clear(&l->tx);
	ag_noise_cs_clear(&l->rx);
}

/* Reads (and drops) what the target sends until it closes: 1, or 0 after secs. */
static int link_wait_close(struct link *l, double secs)
{
	static uint8_t buf[65536];
	double end = now_s() + secs;

	while (now_s() < end) {
		struct pollfd pfd = {l->fd, POLLIN, 0};

		if (poll(&pfd, 1, 100) > 0 && recv(l->fd, buf, sizeof(buf), 0) <= 0)
			return 1;
	}
	return 0;
}

/* Has the target closed? Drops whatever it sent; never waits. */
static int link_gone(struct link *l)
{
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * {"summary": "agora-evil", TITLE_KEY: title, "topics": [topic]}, canonical
 * (any TITLE_KEY that sorts between "summary" and "topics"): a valid practice
 * with "title" and "housing", one that breaks its schema with "titel" and "hosing".
 */
static size_t make_body(uint8_t *out, size_t cap, const char *title_key, const char *title,
                        const char *topic)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "summary", 7);
	msgpack_pack_str_with_body(&pk, "agora-evil", 10);
	msgpack_pack_str_with_body(&pk, title_key, strlen(title_key));
	msgpack_pack_str_with_body(&pk, title, strlen(title));
	msgpack_pack_str_with_body(&pk, "topics", 6);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str_with_body(&pk, topic, strlen(topic));
	if ((len = sb.size) > cap)
		exit(2);
	memcpy(out, sb.data, len);
	msgpack_sbuffer_destroy(&sb);
	return len;
}

/* An entry of format 2: its header, then its body. */
struct wentry {
	uint8_t hdr[AG_HEADER_MAX], body[512];
	size_t hlen, blen;
};

/*
 * out's body (out->blen bytes in out->body) signed as a record of type and id
 * of author (pk, sk) at seq, chained on prev (NULL at seq 1); its hash in hash.
 */
static void sign_entry(const struct evil *ev, const uint8_t pk[32], const uint8_t sk[64],
                       uint64_t seq, const uint8_t *prev, const char *type, const char *id,
                       struct wentry *out, uint8_t hash[32])
{
	struct ag_entry e = {
	    .h = {.seq = seq, .timestamp = 1000 + seq, .id = id, .id_len = strlen(id)}};

	memcpy(e.h.network, ev->network, 32);
	memcpy(e.h.author, pk, 32);
	if ((e.h.has_prev = prev != NULL))
		memcpy(e.h.prev, prev, 32);
	snprintf(e.h.type, sizeof(e.h.type), "%s", type);
	e.body = out->body;
	e.body_len = out->blen;
	if (ag_entry_sign(&e, sk, out->hdr, sizeof(out->hdr), &out->hlen) != 0)
		exit(2);
	if (hash)
		ag_entry_hash(&e, hash);
}

/*
 * A signed practice record of author (pk, sk) at seq, chained on prev (NULL
 * at seq 1), with a valid body of that title, or, if title is NULL, one
 * that breaks its schema.
 */
static void make_entry(const struct evil *ev, const uint8_t pk[32], const uint8_t sk[64],
                       uint64_t seq, const uint8_t *prev, const char *id, const char *title,
                       struct wentry *out, uint8_t hash[32])
{
	out->blen = title
	                ? make_body(out->body, sizeof(out->body), "title", title, "housing")
	                : make_body(out->body, sizeof(out->body), "titel", "quarantaine", "hosing");
	sign_entry(ev, pk, sk, seq, prev, "practice", id, out, hash);
}

static int send_entries(struct link *l, const struct wentry *entries, size_t n)
{
	static struct ag_msgb b;
	const uint8_t *m;
	size_t mlen;

	ag_msgb_init(&b, AG_MSG_ENTRIES);
	for (size_t i = 0; i < n; i++)
		if (ag_msgb_add_entry(&b, entries[i].hdr, entries[i].hlen, entries[i].body,
		                      entries[i].blen) != 0)
			exit(2);
	ag_msgb_finish(&b, &m, &mlen);
	return link_send(l, m, mlen);
}

/* A well-formed entry of our own feed, then a flipped bit in its signature. */
static int mode_forge(struct evil *ev, struct link *l)
{
	struct wentry e;

	make_entry(ev, ev->pk, ev->sk, 1, NULL, "forged", "forged", &e, NULL);
	e.hdr[e.hlen - 1] ^= 1;
	(void)send_entries(l, &e, 1);
	return link_wait_close(l, 10) ? 0 : 1;
}

/* Seq 1 valid, seq 2 a practice that breaks its schema, seq 3 valid and chained on it. */
static int mode_schema(struct evil *ev, struct link *l)
{
	static struct wentry e[3];
	uint8_t ha[32], hb[32];

	make_entry(ev, ev->pk, ev->sk, 1, NULL, "before", "before", &e[0], ha);
	make_entry(ev, ev->pk, ev->sk, 2, ha, "quarantaine", NULL, &e[1], hb);
	make_entry(ev, ev->pk, ev->sk, 3, hb, "after", "quarantaine levee", &e[2], NULL);
	(void)send_entries(l, e, 3);
	return link_wait_close(l, 10) ? 0 : 1;
}

static int link_pings(struct link *l, uint64_t nonce, double secs);

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pk_start(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* The packed sbuffer into out (cap bytes): its length. */
static size_t sb_take(msgpack_sbuffer *sb, uint8_t *out, size_t cap)
{
	size_t len = sb->size;

	if (len > cap)
		exit(2);
	memcpy(out, sb->data, len);
	msgpack_sbuffer_destroy(sb);
	return len;
}

/*
 * A next release's practice, keys in canonical order: an unknown field
 * (budget), an unknown topic (climate) beside a known one, and a known field
 * of another kind (year as a string).
 */
static size_t newer_practice(uint8_t *out, size_t cap)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pk_start(&sb, &pk);
	msgpack_pack_map(&pk, 5);
	pack_str(&pk, "budget");
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "note");
	pack_str(&pk, "financement tramontane");
	pack_str(&pk, "summary");
	pack_str(&pk, "agora-evil");
	pack_str(&pk, "title");
	pack_str(&pk, "Pratique future");
	pack_str(&pk, "topics");
	msgpack_pack_array(&pk, 2);
	pack_str(&pk, "housing");
	pack_str(&pk, "climate");
	pack_str(&pk, "year");
	pack_str(&pk, "soon");
	return sb_take(&sb, out, cap);
}

/* A record type this release has no schema for: {"question": ...}. */
static size_t newer_survey(uint8_t *out, size_t cap)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pk_start(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "question");
	pack_str(&pk, "zephyrine sirocco");
	return sb_take(&sb, out, cap);
}

/* What a next release says and sends beyond this one's protocol, as a message. */
static void send_newer_messages(struct link *l)
{
	uint8_t buf[256];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len;

	/* HELLO [0, 2, name, software, [features...], trailing]: a feature this release lacks. */
	pk_start(&sb, &pk);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint64(&pk, AG_MSG_HELLO);
	msgpack_pack_uint64(&pk, AG_PROTO_VERSION);
	pack_str(&pk, "Evil");
	pack_str(&pk, "agora 9.9.9-next");
	msgpack_pack_array(&pk, 1);
	pack_str(&pk, "time-travel");
	pack_str(&pk, "a trailing element");
	len = sb_take(&sb, buf, sizeof(buf));
	(void)link_send(l, buf, len);
	/* [42, "..."]: a message type of a later version. */
	pk_start(&sb, &pk);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 42);
	pack_str(&pk, "from the future");
	len = sb_take(&sb, buf, sizeof(buf));
	(void)link_send(l, buf, len);
}

/* A simulated next release: its messages, then three entries this release half knows. */
static int mode_newer(struct evil *ev, struct link *l)
{
	static struct wentry e[3];
	uint8_t ha[32], hb[32];

	send_newer_messages(l);
	make_entry(ev, ev->pk, ev->sk, 1, NULL, "before", "before", &e[0], ha);
	e[1].blen = newer_survey(e[1].body, sizeof(e[1].body));
	sign_entry(ev, ev->pk, ev->sk, 2, ha, "survey", "s1", &e[1], hb);
	e[2].blen = newer_practice(e[2].body, sizeof(e[2].body));
	sign_entry(ev, ev->pk, ev->sk, 3, hb, "practice", "future", &e[2], NULL);
	(void)send_entries(l, e, 3);
	/* Entries are checked off the loop, and dropped if the link goes first: stay a while. */
	return link_pings(l, 7, 10) && !link_wait_close(l, 5) ? 0 : 1;
}

/* An ENTRIES of two headers without bodies, within secs: a fork's proof. */
static int fork_proof(struct link *l, double secs)
{
	static uint8_t buf[AG_FRAME_MAX];
	const uint8_t *h, *b;
	double end = now_s() + secs;
	struct ag_msg m;
	size_t hl, bl, headers = 0;
	ssize_t n;

	while (headers < 2 && now_s() < end &&
	       (n = link_recv(l, buf, sizeof(buf), end - now_s())) >= 0)
		if (ag_msg_decode(&m, buf, (size_t)n, NULL) == 0 && m.type == AG_MSG_ENTRIES)
			while (ag_msg_next_entry(&m.list, &h, &hl, &b, &bl))
				headers += b == NULL;
	return headers >= 2;
}

/*
 * Seq 1 twice with different bodies (a fork), then a seq 2 chained on the
 * first: the target keeps both as proof and sends them back, without
 * cutting the link (it could be a relay's doing).
 */
static int mode_fork(struct evil *ev, struct link *l)
{
	static struct wentry e[3];
	uint8_t ha[32];

	make_entry(ev, ev->pk, ev->sk, 1, NULL, "fork-a", "fork a", &e[0], ha);
	make_entry(ev, ev->pk, ev->sk, 1, NULL, "fork-b", "fork b", &e[1], NULL);
	make_entry(ev, ev->pk, ev->sk, 2, ha, "after-fork", "after the fork", &e[2], NULL);
	/* One message each, so the target sees the fork before what follows it. */
	for (int i = 0; i < 3; i++)
		if (send_entries(l, &e[i], 1) != 0)
			break;
	if (!fork_proof(l, 10))
		return 1;
	printf("fork: proof received, link kept\n");
	return link_pings(l, 7, 5) ? 0 : 2;
}

/* A msgpack uint of exactly width bytes (1, 2, 3, 5 or 9), the shortest form for its value. */
static size_t put_uint(uint8_t *p, size_t width)
{
	static const uint8_t tag[] = {0, 0x01, 0xcc, 0xcd, 0, 0xce, 0, 0, 0, 0xcf};
	static const uint8_t top[] = {0, 0x01, 0xc8, 0xea, 0, 0x10, 0, 0, 0, 0x01};

	memset(p, 0, width);
	p[0] = tag[width];
	if (width > 1)
		p[1] = top[width]; /* 200, 60000, 1 << 28, 1 << 56: each needs its width */
	return width;
}

/*
 * A CLOCK of made-up authors whose plaintext is exactly AG_MSG_MAX bytes, so
 * its frame is exactly 65,535: [1, [[bin 32, seq, bin 32] ...]] with as many
 * 70-byte triples as fit, and the slack spread over wider seqs. By hand: the builder
 * keeps room for the widest pair, so it stops short of the limit.
 */
static size_t make_clock(uint8_t *out)
{
	static const size_t widths[] = {9, 5, 3, 2};
	size_t n = (AG_MSG_MAX - 5) / 70, slack = AG_MSG_MAX - 5 - n * 70, len = 0;

	out[len++] = 0x92;
	out[len++] = AG_MSG_CLOCK;
	out[len++] = 0xdc;
	out[len++] = (uint8_t)(n >> 8);
	out[len++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t w = 1;

		for (size_t k = 0; k < 4 && w == 1; k++)
			if (slack >= widths[k] - 1)
				w = widths[k];
		slack -= w - 1;
		out[len++] = 0x93;
		out[len++] = 0xc4;
		out[len++] = 32;
		randombytes_buf(out + len, 32);
		len += 32;
		len += put_uint(out + len, w);
		out[len++] = 0xc4;
		out[len++] = 32;
		randombytes_buf(out + len, 32);
		len += 32;
	}
	return len;
}

static int mode_framelimit(struct evil *ev, struct link *l)
{
	static uint8_t m[AG_MSG_MAX];
	size_t len = make_clock(m);

	if (ev->frames == 0)
		printf("frame length: %zu\n", len + AG_NOISE_TAG_LEN);
	while (now_s() < ev->until) {
		len = make_clock(m);
		if (link_send(l, m, len) != 0 || link_gone(l))
			return -1;
		ev->frames++;
	}
	return 0;
}

static int mode_trickle(struct evil *ev, struct link *l)
{
	uint8_t hdr[2] = {0xff, 0xff}, byte;

	if (write_all(l->fd, hdr, 2) != 0)
		return -1;
	while (now_s() < ev->until) {
		randombytes_buf(&byte, 1);
		if (write_all(l->fd, &byte, 1) != 0 || link_wait_close(l, 0.1))
			return -1;
	}
	return 0;
}

/* Entries of a made-up author: valid, signed, chained, and of no interest to the target. */
static int mode_flood(struct evil *ev, struct link *l)
{
	static struct wentry e[64];
	static uint8_t pk[32], sk[64], prev[32];
	static uint64_t seq;
	char id[32];

	if (seq == 0) {
		char key[AG_B64_LEN + 1];

		crypto_sign_keypair(pk, sk);
		ag_key_to_b64(key, pk);
		printf("flood author: %s\n", key);
	}
	while (now_s() < ev->until) {
		for (int i = 0; i < 64; i++) {
			snprintf(id, sizeof(id), "flood-%llu", (unsigned long long)++seq);
			make_entry(ev, pk, sk, seq, seq > 1 ? prev : NULL, id, "flood", &e[i],
			           prev);
		}
		if (send_entries(l, e, 64) != 0 || link_gone(l))
			return -1;
		ev->frames++;
	}
	printf("flood author seq: %llu\n", (unsigned long long)seq);
	return 0;
}

/*
 * A member record of ours introducing a fresh random key, named as given (NULL:
 * "Ville N"), chained on prev.
 */
static void make_member(struct evil *ev, uint64_t seq, uint8_t prev[32], const char *named,
                        struct wentry *out)
{
	uint8_t pk[32], sk[64];
	char key[AG_B64_LEN + 1], name[64];
	msgpack_sbuffer sb;
	msgpack_packer p;

	crypto_sign_keypair(pk, sk);
	ag_key_to_b64(key, pk);
	if (named)
		snprintf(name, sizeof(name), "%s", named);
	else
		snprintf(name, sizeof(name), "Ville %llu", (unsigned long long)seq);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, 3);
	msgpack_pack_str_with_body(&p, "key", 3);
	msgpack_pack_str_with_body(&p, key, AG_B64_LEN);
	msgpack_pack_str_with_body(&p, "name", 4);
	msgpack_pack_str_with_body(&p, name, strlen(name));
	msgpack_pack_str_with_body(&p, "role", 4);
	msgpack_pack_str_with_body(&p, "associate", 9);
	if (sb.size > sizeof(out->body))
		exit(2);
	memcpy(out->body, sb.data, sb.size);
	out->blen = sb.size;
	msgpack_sbuffer_destroy(&sb);
	sign_entry(ev, ev->pk, ev->sk, seq, seq > 1 ? prev : NULL, "member", key, out, prev);
}

/*
 * Our own feed: MEMBERS_MAX valid member records, each introducing a new
 * random key, as many to a message as fit; then the connection held open
 * until SECONDS are over.
 */
static int mode_members(struct evil *ev, struct link *l)
{
	static struct wentry e[MEMBERS_BATCH];
	static uint8_t prev[32];
	static uint64_t seq;

	while (seq < MEMBERS_MAX && now_s() < ev->until) {
		size_t n = 0;

		for (; n < MEMBERS_BATCH && seq < MEMBERS_MAX; n++)
			make_member(ev, ++seq, prev, NULL, &e[n]);
		if (send_entries(l, e, n) != 0 || link_gone(l))
			return -1;
		ev->frames++;
	}
	printf("member records sent: %llu\n", (unsigned long long)seq);
	return link_wait_close(l, ev->until - now_s()) ? -1 : 0;
}

/*
 * What would drive a terminal, or make a line read as another: ESC [ 2 J
 * (clear the screen), U+009B (CSI), BEL, CR, and U+202E (right-to-left override).
 */
#define TERMINAL_EVIL "\x1b[2J\xc2\x9b\a\r\xe2\x80\xae"

/* {"summary": summary, "title": title, "topics": ["housing"]}, canonical. */
static size_t practice_body(uint8_t *out, size_t cap, const char *title, const char *summary)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pk_start(&sb, &pk);
	msgpack_pack_map(&pk, 3);
	pack_str(&pk, "summary");
	pack_str(&pk, summary);
	pack_str(&pk, "title");
	pack_str(&pk, title);
	pack_str(&pk, "topics");
	msgpack_pack_array(&pk, 1);
	pack_str(&pk, "housing");
	return sb_take(&sb, out, cap);
}

/*
 * Records whose text would drive the reader's terminal (a peer's entries are
 * stored whatever their text holds): seq 1 a member record naming a new key
 * with U+009B and U+202E, seq 2 a practice with it in its title, U+202E in its id, and CR and
 * U+202E in its summary (what the schema lets a summary hold), seq 3 a
 * record of an unknown type with it in a field's name and value. Exits 0 if
 * the target still answers a PING after them.
 */
static int mode_terminal(struct evil *ev, struct link *l)
{
	static struct wentry e[3];
	uint8_t h1[32], h2[32];
	msgpack_sbuffer sb;
	msgpack_packer pk;

	/* agorad drops a name with a C0 control, not yet one with C1 or bidi. */
	make_member(ev, 1, h1,
	            "Ville \xc2\x9b\xe2\x80\xae"
	            "Fausse",
	            &e[0]);
	e[1].blen = practice_body(e[1].body, sizeof(e[1].body), "Titre " TERMINAL_EVIL "piège",
	                          "Ligne un\r\nLigne\rdeux \xe2\x80\xae fin");
	sign_entry(ev, ev->pk, ev->sk, 2, h1, "practice",
	           "piege\xe2\x80\xae"
	           "txt",
	           &e[1], h2);
	pk_start(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "q" TERMINAL_EVIL);
	pack_str(&pk, "valeur " TERMINAL_EVIL);
	e[2].blen = sb_take(&sb, e[2].body, sizeof(e[2].body));
	sign_entry(ev, ev->pk, ev->sk, 3, h2, "survey", "s1", &e[2], NULL);
	(void)send_entries(l, e, 3);
	/* Entries are checked off the loop, and dropped if the link goes first: stay a while. */
	return link_pings(l, 9, 10) && !link_wait_close(l, 2) ? 0 : 1;
}

/*
 * A CLOCK claiming the target's own feed at 2^64-1 (under a random hash),
 * then silence until SECONDS are over, on one connection: not dialing again
 * if cut, so as to claim, not to hammer.
 */
static int mode_claim(struct evil *ev)
{
	static struct ag_msgb b;
	uint8_t hash[32];
	const uint8_t *m;
	struct link l;
	size_t len;

	if (link_open(ev, &l) != 0) {
		printf("handshake failed\n");
		return 1;
	}
	randombytes_buf(hash, sizeof(hash));
	ag_msgb_init(&b, AG_MSG_CLOCK);
	if (ag_msgb_add_head(&b, ev->target, UINT64_MAX, hash) != 0)
		exit(2);
	ag_msgb_finish(&b, &m, &len);
	if (link_send(&l, m, len) == 0)
		printf("claimed the target's feed at seq %llu\n", (unsigned long long)UINT64_MAX);
	printf(link_wait_close(&l, ev->until - now_s()) ? "closed by the target\n"
	                                                : "held until the end\n");
	link_close(&l);
	return 0;
}

static int mode_garbage(struct evil *ev, struct link *l)
{
	static uint8_t frame[2 + 4096];
	size_t len = 1 + randombytes_uniform(4096);

	(void)ev;
	randombytes_buf(frame + 2, len);
	if (ag_frame_header(frame, len) != 0 || write_all(l->fd, frame, len + 2) != 0)
		return -1;
	ev->frames++;
	return link_wait_close(l, 2) ? -1 : 0;
}

/*
 * Socket i of the slowloris: half a valid-key message 1, or nothing at all,
 * from one of LORIS_SOURCES addresses; or a stranger's whole message 1, all
 * from LORIS_STRANGER, which makes the target do X25519 work for each.
 */
static int loris_open(struct evil *ev, int i, const uint8_t *half, size_t half_len,
                      const uint8_t *stranger, size_t stranger_len)
{
	char from[32];
	int fd;

	if (i % 3 == 2)
		snprintf(from, sizeof(from), "%s", LORIS_STRANGER);
	else
		snprintf(from, sizeof(from), "127.0.0.%d", 2 + i % LORIS_SOURCES);
	if ((fd = tcp_open(ev, from)) < 0)
		return -1;
	ev->conns++;
	if (i % 3 == 0 && write_all(fd, half, half_len) != 0) {
		close(fd);
		return -1;
	}
	if (i % 3 == 2 && write_all(fd, stranger, stranger_len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A key the target does not know (DIR's, not its peer) that completes message
 * 1 twice a second, as a city that asks to join would: the target must close
 * each in silence, and say once who tried.
 */
static int mode_stranger(struct evil *ev)
{
	uint8_t m1[512], byte;
	size_t len = msg1_frame(ev, ev->x_sk, m1, sizeof(m1), NULL);
	unsigned long silent = 0;
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, ev->pk);
	printf("stranger key: %s\n", key);
	while (now_s() < ev->until) {
		int fd = tcp_open(ev, NULL);

		if (fd < 0)
			return 1;
		ev->conns++;
		if (write_all(fd, m1, len) == 0 && recv(fd, &byte, 1, 0) == 0)
			silent++;
		close(fd);
		usleep(500000);
	}
	printf("connections: %lu, closed without a byte: %lu\n", ev->conns, silent);
	return silent == ev->conns ? 0 : 1;
}

static int mode_slowloris(struct evil *ev)
{
	struct pollfd pfd[LORIS_SOCKETS];
	uint8_t half[512], stranger[512], s_sk[32], s_pk[32];
	size_t half_len = msg1_frame(ev, ev->x_sk, half, sizeof(half), NULL) / 2, stranger_len;
	uint8_t buf[512];

	crypto_box_keypair(s_pk, s_sk);
	stranger_len = msg1_frame(ev, s_sk, stranger, sizeof(stranger), NULL);
	for (int i = 0; i < LORIS_SOCKETS; i++)
		pfd[i] = (struct pollfd){-1, POLLIN, 0};
	while (now_s() < ev->until) {
		for (int i = 0; i < LORIS_SOCKETS; i++)
			if (pfd[i].fd < 0)
				pfd[i].fd =
				    loris_open(ev, i, half, half_len, stranger, stranger_len);
		if (poll(pfd, LORIS_SOCKETS, 50) <= 0)
			continue;
		for (int i = 0; i < LORIS_SOCKETS; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents &&
			    recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				ev->closed++;
			}
	}
	for (int i = 0; i < LORIS_SOCKETS; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	sodium_memzero(s_sk, sizeof(s_sk));
	printf("connections: %lu, closed by the target: %lu\n", ev->conns, ev->closed);
	return 0;
}

/* The modes that run for SECONDS: reconnect whenever the target closes. */
static int run_timed(struct evil *ev, int (*mode)(struct evil *, struct link *))
{
	struct link l;

	while (now_s() < ev->until) {
		if (link_open(ev, &l) != 0) {
			usleep(100000);
			continue;
		}
		if (mode(ev, &l) != 0)
			ev->closed++;
		link_close(&l);
	}
	printf("connections: %lu, closed by the target: %lu, messages: %lu\n", ev->conns,
	       ev->closed, ev->frames);
	return 0;
}

/* One connection for mode, which returns 0 when what it waits for happened: ok says what that is.
 */
static int run_once(struct evil *ev, int (*mode)(struct evil *, struct link *), const char *ok,
                    const char *not_ok)
{
	struct link l;
	int rc;

	if (link_open(ev, &l) != 0) {
		printf("handshake failed\n");
		return 1;
	}
	printf("handshake done\n");
	rc = mode(ev, &l);
	printf("%s\n", rc == 0 ? ok : not_ok);
	link_close(&l);
	return rc;
}

/* Is l served: a PING answered by its PONG within secs? */
static int link_pings(struct link *l, uint64_t nonce, double secs)
{
	static uint8_t buf[AG_FRAME_MAX];
	double end = now_s() + secs;
	struct ag_msg m;
	ssize_t n;
	size_t len;

	if (ag_msg_ping(buf, sizeof(buf), &len, 0, nonce) != 0 || link_send(l, buf, len) != 0)
		return 0;
	while (now_s() < end && (n = link_recv(l, buf, sizeof(buf), end - now_s())) >= 0)
		if (ag_msg_decode(&m, buf, (size_t)n, NULL) == 0 && m.type == AG_MSG_PONG &&
		    m.seq == nonce)
			return 1;
	return 0;
}

/* Our own message 1 again, then a garbage frame: what anyone who saw it could send. */
static void replay_m1(struct evil *ev, const struct link *live)
{
	uint8_t m2[64], junk[2 + 200];
	struct link gone = {.fd = tcp_open(ev, NULL)};

	if (gone.fd < 0)
		return;
	randombytes_buf(junk, sizeof(junk));
	if (ag_frame_header(junk, sizeof(junk) - 2) != 0)
		exit(2);
	/* The target answers with a message 2 that only the key's holder can read. */
	if (write_all(gone.fd, live->m1, live->m1_len) == 0 && read_all(gone.fd, m2, 2 + 48) == 0)
		printf("replay: message 2 received\n");
	(void)write_all(gone.fd, junk, sizeof(junk));
	printf(link_wait_close(&gone, 5) ? "replay: closed by the target\n"
	                                 : "replay: still open after 5 s\n");
	close(gone.fd);
}

static int mode_replay(struct evil *ev)
{
	struct link l;
	int served, again;

	if (link_open(ev, &l) != 0 || !link_pings(&l, 1, 5)) {
		printf("handshake failed\n");
		return 1;
	}
	printf("first connection up\n");
	replay_m1(ev, &l);
	served = link_pings(&l, 2, 5);
	printf(served ? "first connection still served\n" : "first connection lost\n");
	link_close(&l);
	/* At once, not after a backoff: the replay was no fault of ours. */
	again = link_open(ev, &l) == 0 && link_pings(&l, 3, 5);
	printf(again ? "connected again at once\n" : "refused when connecting again\n");
	link_close(&l);
	return served && again ? 0 : 1;
}

static int setup(struct evil *ev, char **argv)
{
	uint8_t peer[32], x_pk[32];
	char path[4096], host[64], err[4300];
	struct config *cfg;
	int port;

	if (ag_init() != 0 || ag_key_from_b64(ev->target, argv[2]) != 0 ||
	    ag_key_from_b64(peer, argv[2]) != 0 ||
	    sscanf(argv[3], "%63[^:]:%d", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &ev->to.sin_addr) != 1)
		return -1;
	ev->to.sin_family = AF_INET;
	ev->to.sin_port = htons((uint16_t)port);
	snprintf(path, sizeof(path), "%s/node.key", argv[1]);
	if (keyfile_load(path, ev->pk, ev->sk, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/agorad.conf", argv[1]);
	if (!(cfg = config_load(path, ev->pk, NULL)))
		return -1;
	memcpy(ev->network, cfg->network, 32);
	config_free(cfg);
	if (ag_noise_key_from_ed25519(ev->x_sk, x_pk, ev->sk) != 0 ||
	    ag_noise_pk_from_ed25519(ev->x_rs, peer) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct evil ev;
	const char *mode = argc > 4 ? argv[4] : "";
	int rc = 2;

	if ((argc != 5 && argc != 6) || setup(&ev, argv) != 0) {
		fprintf(stderr, "usage: agora-evil DIR PEER_KEY HOST:PORT MODE [SECONDS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ev.until = now_s() + (argc == 6 ? atof(argv[5]) : 10);
	if (strcmp(mode, "forge") == 0)
		rc = run_once(&ev, mode_forge, CLOSED, NOT_CLOSED);
	else if (strcmp(mode, "schema") == 0)
		rc = run_once(&ev, mode_schema, CLOSED, NOT_CLOSED);
	else if (strcmp(mode, "newer") == 0)
		rc = run_once(&ev, mode_newer, "still served after all of it",
		              "no answer to a PING, or closed");
	else if (strcmp(mode, "fork") == 0)
		rc = run_once(&ev, mode_fork, CLOSED, NOT_CLOSED);
	else if (strcmp(mode, "framelimit") == 0)
		rc = run_timed(&ev, mode_framelimit);
	else if (strcmp(mode, "trickle") == 0)
		rc = run_timed(&ev, mode_trickle);
	else if (strcmp(mode, "flood") == 0)
		rc = run_timed(&ev, mode_flood);
	else if (strcmp(mode, "garbage") == 0)
		rc = run_timed(&ev, mode_garbage);
	else if (strcmp(mode, "claim") == 0)
		rc = mode_claim(&ev);
	else if (strcmp(mode, "members") == 0)
		rc = run_timed(&ev, mode_members);
	else if (strcmp(mode, "slowloris") == 0)
		rc = mode_slowloris(&ev);
	else if (strcmp(mode, "stranger") == 0)
		rc = mode_stranger(&ev);
	else if (strcmp(mode, "replay") == 0)
		rc = mode_replay(&ev);
	else if (strcmp(mode, "terminal") == 0)
		rc = run_once(&ev, mode_terminal, "still served after them",
		              "no answer to a PING, or closed");
	else
		fprintf(stderr, "agora-evil: unknown mode %s\n", mode);
	sodium_memzero(ev.sk, sizeof(ev.sk));
	sodium_memzero(ev.x_sk, sizeof(ev.x_sk));
	return rc;
}
