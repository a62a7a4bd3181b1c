/*
 * succession.h: a city's key over the years (DESIGN.md "Trust over the
 * years"), as the node reads and writes it: the identity records' bodies
 * (identity/self names the recovery key and, after a succession, the
 * predecessor; identity/successor names the key that takes the feed's
 * place), and the key files of a rotation in DIR (node.key, node.key.next
 * while it is under way, node.key.old until the peers have the succession).
 * Loop thread only; failures are logged once, where they happen.
 */
#ifndef AGORA_SUCCESSION_H
#define AGORA_SUCCESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "key.h"

#define SUCCESSION_BODY_MAX 160 /* bytes of an identity body: three keys and their names */

#define SUCCESSION_KEY_NEXT "node.key.next" /* the new key, before the successor is published */
#define SUCCESSION_KEY_OLD  "node.key.old"  /* the old key, until the peers have the succession */

/*
 * The body of identity/self (successor NULL) or identity/successor (only
 * successor): each key given is a field, in canonical order. Its length.
 */
size_t succession_body(uint8_t out[static SUCCESSION_BODY_MAX], const uint8_t *recovery,
                       const uint8_t *predecessor, const uint8_t *successor);

/* Whether e is identity/self or identity/successor. */
bool succession_is(const struct ag_entry *e, const char *id);

/* The key in field `field` of an identity body: 0, or -1 when it holds none. */
int succession_key(const struct ag_entry *e, const char *field, uint8_t pk[static AG_PK_LEN]);

/*
 * The new key, before its successor entry is published: written to
 * DIR/node.key.next (0600, synced); pk gets its public half, sk its secret
 * (the caller wipes it). 0 or -1.
 */
int succession_key_next(const char *dir, uint8_t pk[static AG_PK_LEN],
                        uint8_t sk[static AG_SK_LEN]);

/* The successor is published: node.key becomes node.key.old, node.key.next node.key. 0 or -1. */
int succession_key_swap(const char *dir);

/* The key kept aside, DIR/node.key.old: 1 with its pair, 0 if none, -1 if unreadable. */
int succession_key_old(const char *dir, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN]);

/* The peers have the succession: node.key.old goes. */
void succession_key_old_drop(const char *dir);

#endif
