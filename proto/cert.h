/*
 * cert.h: the succession certificate (DESIGN.md "Trust over the years"): a
 * city's recovery key names the last valid entry of an old key's feed and the
 * key that takes its place. No I/O; whose recovery key it is, and what the
 * certificate voids, are the caller's to know.
 */
#ifndef AGORA_CERT_H
#define AGORA_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "key.h"

#define AG_CERT_FORMAT 1
#define AG_CERT_MAX    256 /* bytes of an encoded certificate; the largest is 222 */

/* A decoded certificate; raw points into the decoded buffer (or the signer's output). */
struct ag_cert {
	uint8_t network[32];
	uint8_t old_key[AG_PK_LEN];
	uint8_t new_key[AG_PK_LEN];
	uint64_t last_seq;              /* the old feed's last valid entry; 0: none is valid */
	uint8_t last_hash[AG_HASH_LEN]; /* its entry hash; zero when last_seq is 0 */
	uint64_t timestamp;
	uint8_t sig[AG_SIG_LEN];
	const uint8_t *raw;
	size_t raw_len;
};

/*
 * Strictly decodes one canonical certificate: 8 elements of their types, the
 * hash nil exactly when last_seq is 0, old and new keys different. Does not
 * check the network or the signature. *where as for entries.
 */
int ag_cert_decode(struct ag_cert *c, const uint8_t *buf, size_t len, size_t *where) AG_WUR;

/* The network, and the signature by recovery (the old feed's recovery public key). */
int ag_cert_verify(const struct ag_cert *c, const uint8_t network[static 32],
                   const uint8_t recovery[static AG_PK_LEN]) AG_WUR;

/* Encodes and signs c's fields with the recovery secret key into out (of cap bytes). */
int ag_cert_sign(struct ag_cert *c, const uint8_t recovery_sk[static AG_SK_LEN], uint8_t *out,
                 size_t cap, size_t *outlen) AG_WUR;

/*
 * Of two valid certificates for one old key, whether a wins over b: the one
 * naming the lower seq, then the smaller new key (DESIGN.md), so that every
 * node that holds both keeps the same one.
 */
bool ag_cert_wins(const struct ag_cert *a, const struct ag_cert *b);

#endif
