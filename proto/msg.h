/*
 * msg.h: the replication messages of protocol version 2 (DESIGN.md
 * "Replication protocol", docs/PROTOCOL.md §1).
 */
#ifndef AGORA_MSG_H
#define AGORA_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AG_MSG_MAX          65519 /* a Noise transport message's plaintext */
#define AG_MSG_HEADS_MAX    2048  /* items in one CLOCK, HAVE, MODE or WANT_BODIES */
#define AG_MSG_NAME_MAX     64
#define AG_MSG_FEATURES_MAX 32 /* strings in HELLO's features, each at most AG_MSG_NAME_MAX */
#define AG_PROTO_VERSION    2

/*
 * The fewest bytes a valid header takes (a retraction at seq 1 with a
 * one-letter type and id, every integer a fixint), and so a pair of ENTRIES
 * ([header, nil]: fixarray, bin 8, nil): an ENTRIES message holds at most
 * AG_MSG_ENTRIES_MAX pairs, and one that counts more is refused before
 * anything is allocated for them.
 */
#define AG_HEADER_MIN      145
#define AG_MSG_PAIR_MIN    (1 + 2 + AG_HEADER_MIN + 1)
#define AG_MSG_ENTRIES_MAX (AG_MSG_MAX / AG_MSG_PAIR_MIN)

enum ag_msg_type {
	AG_MSG_HELLO = 0,
	AG_MSG_CLOCK = 1,
	AG_MSG_ENTRIES = 2,
	AG_MSG_HAVE = 3,
	AG_MSG_WANT = 4,
	AG_MSG_MODE = 5,
	AG_MSG_PING = 6,
	AG_MSG_PONG = 7,
	AG_MSG_SUCCESSION = 8,
	AG_MSG_WANT_BODIES = 9,
	AG_MSG_UNKNOWN = 255, /* a type of a later version: its number is in seq; ignore it */
};

/* A list inside a decoded message: read it with the ag_msg_next_* functions. */
struct ag_msg_list {
	const uint8_t *p, *end;
	size_t n; /* items left */
};

/* A decoded message; pointers refer to the decoded buffer. */
struct ag_msg {
	enum ag_msg_type type;
	const char *name, *software; /* HELLO; not NUL-terminated */
	size_t name_len, software_len;
	/*
	 * CLOCK: triples; HAVE, MODE: pairs; ENTRIES: [header, body] pairs;
	 * WANT_BODIES: seqs; HELLO: its features.
	 */
	struct ag_msg_list list;
	uint8_t author[32]; /* WANT, WANT_BODIES */
	/*
	 * WANT: from seq; PING, PONG: nonce; HELLO: version (also when
	 * AG_EVERSION is returned); AG_MSG_UNKNOWN: its type number.
	 */
	uint64_t seq;
	const uint8_t *cert; /* SUCCESSION: a certificate that ag_cert_decode took */
	size_t cert_len;
};

/*
 * Checks the whole message's shape, so the iterators below cannot fail.
 * Elements past those its version defines are read and ignored; a message
 * of an unknown type is AG_MSG_UNKNOWN, not an error. A HELLO of another
 * version is AG_EVERSION, with that version in m->seq.
 */
int ag_msg_decode(struct ag_msg *m, const uint8_t *buf, size_t len, size_t *where) AG_WUR;

/* Next triple of a CLOCK: author, seq and head hash (zeros at seq 0); 0 at the end. */
int ag_msg_next_head(struct ag_msg_list *l, const uint8_t **author, uint64_t *seq,
                     const uint8_t **hash);
/* Next pair of a HAVE (value: seq) or MODE (value: 1 eager, 0 lazy); 0 at the end. */
int ag_msg_next_pair(struct ag_msg_list *l, const uint8_t **author, uint64_t *value);
/* Next [header, body] of an ENTRIES, *body NULL for nil (checked by ag_entry_open later). */
int ag_msg_next_entry(struct ag_msg_list *l, const uint8_t **hdr, size_t *hlen,
                      const uint8_t **body, size_t *blen);
/* Next seq of a WANT_BODIES; 0 at the end. */
int ag_msg_next_seq(struct ag_msg_list *l, uint64_t *seq);
/* Next feature string of a HELLO; 0 at the end. */
int ag_msg_next_str(struct ag_msg_list *l, const char **s, size_t *len);

/*
 * Builds a list message (CLOCK, HAVE, MODE, ENTRIES) item by item; an add that
 * would overflow AG_MSG_MAX returns AG_ETOOBIG and leaves the message as it
 * was, so the caller sends it and starts another.
 */
struct ag_msgb {
	enum ag_msg_type type;
	size_t n, len;
	uint8_t buf[AG_MSG_MAX + 16];
};

void ag_msgb_init(struct ag_msgb *b, enum ag_msg_type type);
/* A CLOCK's triple: hash NULL at seq 0 (sent as zeros). */
int ag_msgb_add_head(struct ag_msgb *b, const uint8_t author[static 32], uint64_t seq,
                     const uint8_t *hash) AG_WUR;
/* A HAVE's or MODE's pair. */
int ag_msgb_add_pair(struct ag_msgb *b, const uint8_t author[static 32], uint64_t value) AG_WUR;
/* An ENTRIES pair: body NULL is sent as nil. */
int ag_msgb_add_entry(struct ag_msgb *b, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                      size_t blen) AG_WUR;
/* The finished message, inside b; valid until b is changed. */
void ag_msgb_finish(struct ag_msgb *b, const uint8_t **msg, size_t *len);

/* The fixed messages, into out[0..cap). */
int ag_msg_hello(uint8_t *out, size_t cap, size_t *len, const char *name,
                 const char *software) AG_WUR;
int ag_msg_want(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                uint64_t from_seq) AG_WUR;
/* WANT_BODIES for n (1..AG_MSG_HEADS_MAX) seqs of author. */
int ag_msg_want_bodies(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                       const uint64_t *seqs, size_t n) AG_WUR;
int ag_msg_ping(uint8_t *out, size_t cap, size_t *len, int pong, uint64_t nonce) AG_WUR;
/* SUCCESSION [8, certificate]: cap of AG_CERT_MAX + 8 always suffices. */
int ag_msg_succession(uint8_t *out, size_t cap, size_t *len, const uint8_t *cert,
                      size_t cert_len) AG_WUR;

#endif
