/*
 * conn.h: one connection to a peer: TCP on libuv, 2-byte frames, the
 * Noise_IK handshake with its 5-second deadline, then one protocol message per
 * transport message. Loop thread only.
 *
 * A stranger learns nothing: the responder reads the initiator's static key
 * from message 1 and, when allow() does not know it, closes without writing a
 * byte. Every failure (MAC, oversize frame, nonce exhaustion, timeout, a frame
 * that does not complete in CONN_FRAME_MS) closes the connection and is
 * reported once, through down().
 */
#ifndef AGORA_CONN_H
#define AGORA_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CONN_HANDSHAKE_MS 5000       /* from accept or dial to the first transport message */
#define CONN_MSG1_MS      2000       /* from accept to message 1: it is sent at once on connect */
#define CONN_FRAME_MS     5000       /* from a frame's first byte to its last, once up */
#define CONN_QUEUE_HIGH   (1u << 20) /* bytes queued above which senders should wait */

struct conn;

struct conn_ops {
	/* Responder: the peer object whose Noise key is x_pk, or NULL to refuse in silence. */
	void *(*allow)(void *ud, struct conn *, const uint8_t x_pk[static 32]);
	/*
	 * The handshake is done (for a responder: and the initiator's first
	 * transport message has decrypted, so message 1 was no replay); conn_peer()
	 * is the peer.
	 */
	void (*up)(void *ud, struct conn *);
	/* One decrypted protocol message; msg is valid during the call only. */
	void (*msg)(void *ud, struct conn *, const uint8_t *msg, size_t len);
	/* The write queue fell below CONN_QUEUE_HIGH / 2 after being above it. */
	void (*drain)(void *ud, struct conn *);
	/* Closed, before or after up(); the conn is freed right after this call. */
	void (*down)(void *ud, struct conn *, const char *why);
};

struct conn_keys {
	uint8_t x_sk[32]; /* our Noise static key */
	uint8_t network[32];
};

/*
 * Accepts the pending connection of server and runs the responder side. NULL
 * only when out of memory; any other failure comes, as always, through down().
 */
struct conn *conn_accept(uv_stream_t *server, const struct conn_keys *keys,
                         const struct conn_ops *ops, void *ud);

/* Dials addr and runs the initiator side toward the peer whose Noise key is x_rs. */
struct conn *conn_dial(uv_loop_t *loop, const struct sockaddr *addr, const uint8_t x_rs[static 32],
                       void *peer, const struct conn_keys *keys, const struct conn_ops *ops,
                       void *ud);

/*
 * A responder's gate before message 1 is read (its X25519 work): NULL to go
 * on, or why the connection is closed instead. The listener's rate limit.
 */
typedef const char *conn_gate_fn(void *arg, struct conn *);
void conn_set_gate(struct conn *, conn_gate_fn *gate, void *arg);

/* Encrypts, frames and queues one message (at most AG_NOISE_MAX_PLAIN bytes). 0 or -1. */
int conn_send(struct conn *, const uint8_t *msg, size_t len);

/* Bytes waiting to be written or in flight. */
size_t conn_queued(const struct conn *);

/* Closes; down() follows from the loop. Safe to call more than once. */
void conn_close(struct conn *, const char *why);

/* Stops reading (1) or starts again (0): back-pressure toward a peer that sends faster than we
 * verify. */
void conn_pause(struct conn *, int pause);

/* 1 if we dialed, 0 if we accepted. */
int conn_initiator(const struct conn *);
/* 1 once the handshake has completed, even after the connection closed. */
int conn_was_up(const struct conn *);
/* 1 if it closed because the peer, after the handshake, sent a message that failed
 * authentication: not a network fault but a broken or hostile peer. */
int conn_peer_fault(const struct conn *);

void *conn_peer(const struct conn *);
void conn_set_peer(struct conn *, void *peer);
int conn_is_up(const struct conn *);
/* The remote address as "ip:port", and as a socket address (AF_UNSPEC if unknown). */
const char *conn_addr(const struct conn *);
const struct sockaddr_storage *conn_sockaddr(const struct conn *);
/* Bytes received and sent on the wire since the start. */
uint64_t conn_bytes_in(const struct conn *);
uint64_t conn_bytes_out(const struct conn *);

#endif
