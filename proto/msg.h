/* msg.h: the replication messages (DESIGN.md "Replication protocol", docs/PROTOCOL.md §1). */
#ifndef AGORA_MSG_H
#define AGORA_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AG_MSG_MAX       65519 /* a Noise transport message's plaintext */
#define AG_MSG_HEADS_MAX 2048  /* pairs in one CLOCK, HAVE or MODE (65,519 bytes hold ~1,500) */
#define AG_MSG_NAME_MAX  64
#define AG_PROTO_VERSION 1

enum ag_msg_type {
	AG_MSG_HELLO = 0,
	AG_MSG_CLOCK = 1,
	AG_MSG_ENTRIES = 2,
	AG_MSG_HAVE = 3,
	AG_MSG_WANT = 4,
	AG_MSG_MODE = 5,
	AG_MSG_PING = 6,
	AG_MSG_PONG = 7,
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
	struct ag_msg_list list; /* CLOCK, HAVE, MODE: pairs; ENTRIES: entries */
	uint8_t author[32];      /* WANT */
	uint64_t seq;            /* WANT: from seq; PING, PONG: nonce */
};

/* Checks the whole message's shape, so the iterators below cannot fail. */
int ag_msg_decode(struct ag_msg *m, const uint8_t *buf, size_t len, size_t *where) AG_WUR;

/* Next pair of a CLOCK or HAVE (value: seq) or MODE (value: 1 eager, 0 lazy); 0 at the end. */
int ag_msg_next_pair(struct ag_msg_list *l, const uint8_t **author, uint64_t *value);
/* Next encoded entry of an ENTRIES (checked by ag_entry_decode later); 0 at the end. */
int ag_msg_next_entry(struct ag_msg_list *l, const uint8_t **entry, size_t *len);

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
int ag_msgb_add_pair(struct ag_msgb *b, const uint8_t author[static 32], uint64_t value) AG_WUR;
int ag_msgb_add_entry(struct ag_msgb *b, const uint8_t *entry, size_t len) AG_WUR;
/* The finished message, inside b; valid until b is changed. */
void ag_msgb_finish(struct ag_msgb *b, const uint8_t **msg, size_t *len);

/* The fixed messages, into out[0..cap). */
int ag_msg_hello(uint8_t *out, size_t cap, size_t *len, const char *name,
                 const char *software) AG_WUR;
int ag_msg_want(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                uint64_t from_seq) AG_WUR;
int ag_msg_ping(uint8_t *out, size_t cap, size_t *len, int pong, uint64_t nonce) AG_WUR;

#endif
