/* entry.h: the signed update of DESIGN.md, its canonical codec, signature and hash. */
#ifndef AGORA_ENTRY_H
#define AGORA_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"

#define AG_ENTRY_MAX    60000 /* bytes of one encoded entry */
#define AG_HASH_LEN     32
#define AG_TYPE_MAX     32
#define AG_ID_MAX       128
#define AG_DEPTH_MAX    16 /* the entry array is level 1 */
#define AG_ENTRY_FORMAT 1

/*
 * A decoded entry. The variable fields point into the buffer it was decoded from
 * (or, for ag_entry_sign, the caller's fields); the struct owns nothing.
 */
struct ag_entry {
	uint8_t network[32];
	uint8_t author[AG_PK_LEN];
	uint64_t seq;
	int has_prev;
	uint8_t prev[AG_HASH_LEN];
	uint64_t timestamp;
	char type[AG_TYPE_MAX + 1];
	const char *id;
	size_t id_len;
	const uint8_t *body; /* canonical msgpack map, or NULL: retracted */
	size_t body_len;
	uint8_t sig[AG_SIG_LEN];
	const uint8_t *raw; /* the whole encoded entry */
	size_t raw_len;
};

/*
 * Strictly decode buf as one canonical entry: shape, canonical form, UTF-8,
 * key order, depth, size, record type and id, seq/prev consistency. It does not
 * check the network or the signature (ag_entry_verify). On error *where, if
 * not NULL, is the byte offset at which the decoder stopped.
 */
int ag_entry_decode(struct ag_entry *e, const uint8_t *buf, size_t len, size_t *where) AG_WUR;

/* The network and the Ed25519 signature of a decoded entry. */
int ag_entry_verify(const struct ag_entry *e, const uint8_t network[static 32]) AG_WUR;

/* Decode and verify in one call. */
int ag_entry_open(struct ag_entry *e, const uint8_t *buf, size_t len,
                  const uint8_t network[static 32], size_t *where) AG_WUR;

/* BLAKE2b-256 of the whole encoded entry. */
void ag_entry_hash(const struct ag_entry *e, uint8_t out[static AG_HASH_LEN]);

/*
 * Encode and sign e's fields 0..8 with sk (whose public half must be e->author)
 * into out, of capacity cap. e->body must already be canonical msgpack (a map)
 * or NULL. On success e->sig, e->raw and e->raw_len describe the bytes in out.
 */
int ag_entry_sign(struct ag_entry *e, const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap,
                  size_t *outlen) AG_WUR;

/* Check that type matches [a-z-]{1,32}. */
int ag_rectype_check(const char *type, size_t len) AG_WUR;

/* Check a record id: 1..128 bytes of UTF-8 without control characters (Cc). */
int ag_recid_check(const char *id, size_t len) AG_WUR;

#endif
