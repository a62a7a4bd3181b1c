/*
 * certs.h: succession certificates as a node keeps them (DESIGN.md "Trust
 * over the years"): checked against the recovery key that the old key's
 * feed names in its first entry (or its predecessor's, carried), kept in
 * the store's meta table, one per old key (the one that wins), and what
 * each voids: the old feed's entries after the one it names, and every feed
 * that the void part named as successor. Loop thread; failures are logged
 * by the store, refusals said in the caller's why.
 */
#ifndef AGORA_CERTS_H
#define AGORA_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"

struct store;

#define CERTS_CHAIN_MAX 8 /* predecessors followed for a recovery key, successors voided */

/*
 * The recovery key of key's feed: its first entry's (identity/self), or its
 * predecessor's when the predecessor's successor, or a certificate for the
 * predecessor, names key. 0, or -1 when this node holds none.
 */
int certs_recovery_of(struct store *, const uint8_t key[static 32], uint8_t recovery[static 32]);

/* Whether p handed its place to key: by its identity/successor, or a certificate held. */
int certs_hands_to(struct store *, const uint8_t p[static 32], const uint8_t key[static 32]);

/* Decodes and checks raw: its network, and the signature by its old key's recovery key. 0 or -1
 * with why. */
int certs_check(struct store *, const uint8_t network[static 32], const uint8_t *raw, size_t len,
                struct ag_cert *c, char *why, size_t whylen);

/* Keeps c unless one held for its old key is the same or wins over it: 1 kept, 0 not, -1 error. */
int certs_keep(struct store *, const struct ag_cert *c);

/*
 * Voids what c voids: its old key's entries after the one it names (and that
 * one too, if this node holds another entry at its seq), and, hop by hop, every
 * feed that a voided part named as successor, whole. Each voided feed takes
 * nothing more. The successor keys voided go into succ (up to max, *n of them).
 * 0 or -1.
 */
int certs_void(struct store *, const struct ag_cert *c, uint8_t (*succ)[32], size_t max, size_t *n);

/* Every certificate held, in key order; fn's non-zero return stops. 0 or -1. */
int certs_each(struct store *, int (*fn)(const uint8_t *raw, size_t len, void *arg), void *arg);

#endif
