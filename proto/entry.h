/*
 * entry.h: an entry of format 2 (DESIGN.md "Entries"): a signed header
 * (header.h) and, when this side holds it, its body. On the wire, in exports
 * and in bundles it is the pair [header(bin), body(bin) or nil]. Format 1,
 * whose signed array held the body, was never released: its header decodes
 * as AG_EVERSION.
 */
#ifndef AGORA_ENTRY_H
#define AGORA_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "header.h"
#include "key.h"

/*
 * A header and its body. h's id and raw, and body, point into the caller's
 * buffers; the struct owns nothing. body is NULL when the record is
 * retracted (!h.has_body) and when the body is not held (purged, over quota,
 * not arrived): then h.has_body tells the two apart.
 */
struct ag_entry {
	struct ag_header h;
	const uint8_t *body;
	size_t body_len;
	bool verified; /* h's own signature was checked (set by the caller who checked it) */
	bool purged;   /* set by the store: the body is not held because its author purged it */
};

/*
 * Decodes a header and checks the body (NULL: none sent) against it
 * (ag_body_check): AG_EBODY for a body sent with a retraction. No signature
 * is checked. On error *where (if not NULL) is the offset in the header or,
 * for a body fault, in the body; *in_body says which.
 */
int ag_entry_open(struct ag_entry *e, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                  size_t blen, size_t *where, bool *in_body) AG_WUR;

/* The entry hash: its header's (ag_header_hash). */
void ag_entry_hash(const struct ag_entry *e, uint8_t out[static AG_HASH_LEN]);

/*
 * Signs e's header over e->body (NULL retracts) with sk into out (cap bytes;
 * AG_HEADER_MAX always suffice), as ag_header_sign does; e->verified is set.
 */
int ag_entry_sign(struct ag_entry *e, const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap,
                  size_t *outlen) AG_WUR;

/* Check that type matches [a-z-]{1,32}. */
int ag_rectype_check(const char *type, size_t len) AG_WUR;

/* Check a record id: 1..128 bytes of UTF-8 without control characters (Cc). */
int ag_recid_check(const char *id, size_t len) AG_WUR;

#endif
