/*
 * header.h: entry format 2 (DESIGN.md "Entries"): the signed header, which
 * commits to its body by BLAKE2b-256 hash and length, so that a body can be
 * absent or purged while the header, the chain and every signature stay
 * verifiable; and the one rule by which a run of headers is accepted (a
 * signature, or a chain to one).
 */
#ifndef AGORA_HEADER_H
#define AGORA_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"

#define AG_HASH_LEN      32
#define AG_TYPE_MAX      32
#define AG_ID_MAX        128
#define AG_DEPTH_MAX     16 /* a body map is level 1 */
#define AG_HEADER_FORMAT 2
#define AG_HEADER_MAX    512   /* bytes of one encoded header */
#define AG_BODY_MAX      60000 /* bytes of one encoded body */

/*
 * A decoded header. id and raw point into the buffer it was decoded from (or,
 * for ag_header_sign, the caller's id and output); the struct owns nothing.
 */
struct ag_header {
	uint8_t network[32];
	uint8_t author[AG_PK_LEN];
	uint64_t seq;
	bool has_prev;
	uint8_t prev[AG_HASH_LEN];
	uint64_t timestamp;
	char type[AG_TYPE_MAX + 1];
	const char *id;
	size_t id_len;
	bool has_body; /* false: the body hash is nil, the record is retracted */
	uint8_t body_hash[AG_HASH_LEN];
	uint32_t body_len; /* 0 exactly when !has_body */
	uint8_t sig[AG_SIG_LEN];
	const uint8_t *raw; /* the whole encoded header: 11 elements */
	size_t raw_len;
};

/*
 * Strictly decodes buf as one canonical header: 11 elements of their types,
 * at most AG_HEADER_MAX bytes, format AG_HEADER_FORMAT (AG_EVERSION for any
 * other, format 1 included), seq/prev and body hash/length consistent, record
 * type and id as DESIGN.md says. Does not check the network or the signature.
 * On error *where (if not NULL) is the offset at which the decoder stopped.
 */
int ag_header_decode(struct ag_header *h, const uint8_t *buf, size_t len, size_t *where) AG_WUR;

/* The header's network, and its own Ed25519 signature over fields 0..9. */
int ag_header_verify(const struct ag_header *h, const uint8_t network[static 32]) AG_WUR;

/* The entry hash: BLAKE2b-256 of the encoded 11-element header. */
void ag_header_hash(const struct ag_header *h, uint8_t out[static AG_HASH_LEN]);

/*
 * Checks a body against its header: one canonical msgpack map (the map is
 * level 1 of AG_DEPTH_MAX, floats finite) of at most AG_BODY_MAX bytes, whose
 * length and BLAKE2b-256 are the header's (AG_EBODYHASH if not). A header
 * without a body (retracted) takes no body: AG_EBODY. On error *where (if not
 * NULL) is the offset in the body at fault, 0 for a hash or length mismatch.
 */
int ag_body_check(const struct ag_header *h, const uint8_t *body, size_t len, size_t *where) AG_WUR;

/*
 * Encodes and signs a header with sk (whose public half must be h->author)
 * into out, of capacity cap: the body hash and length are computed from body
 * (a canonical map, checked), or nil and 0 when body is NULL (a retraction).
 * On success h->sig, h->body_hash, h->body_len, h->raw and h->raw_len describe
 * what was written; h->has_body follows body.
 */
int ag_header_sign(struct ag_header *h, const uint8_t *body, size_t body_len,
                   const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap,
                   size_t *outlen) AG_WUR;

/*
 * next follows prev in one author's feed: the same network and author, the
 * next seq, and next's prev is prev's entry hash (AG_EPREV if not, AG_ESEQ
 * for a seq out of order, AG_ESHAPE for another author or network).
 */
int ag_header_follows(const struct ag_header *prev, const struct ag_header *next) AG_WUR;

/*
 * A run of one author's headers, in seq order, as they arrive in one ENTRIES
 * message: each follows the one before (ag_header_follows) and the last
 * header's own signature verifies; the signatures before it are vouched for
 * by the chain and not checked (DESIGN.md "Accepting entries"). Whether the
 * run's first header links to what the node holds is the caller's to check.
 * hash (if not NULL) receives each header's entry hash, which the chain
 * check makes anyway, so that a caller who keeps them hashes no header
 * twice: all n are there once the run is accepted. On error *at (if not
 * NULL) is the index of the header at fault.
 */
int ag_run_check(const struct ag_header *run, size_t n, const uint8_t network[static 32],
                 uint8_t (*hash)[AG_HASH_LEN], size_t *at) AG_WUR;

#endif
