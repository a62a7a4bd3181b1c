/*
 * strangers.h: keys that completed handshake message 1 without being a
 * peer: a city that tries to join (or someone who tries keys). Each is
 * logged once an hour, with its address, so that IT sees it and can add it,
 * as Syncthing shows a pending device. Loop thread only.
 */
#ifndef AGORA_STRANGERS_H
#define AGORA_STRANGERS_H

#include <stdint.h>

#define STRANGERS_KEPT     64      /* keys remembered; the least recent goes */
#define STRANGERS_EVERY_MS 3600000 /* one line per key this often */

struct strangers;

struct strangers *strangers_new(void);   /* NULL: out of memory */
void strangers_free(struct strangers *); /* NULL-safe */

/*
 * The holder of Noise key x_pk, at addr, was refused as unknown at now_ms:
 * logged unless it was within the hour. The responder of IK learns only the
 * X25519 key; the line gives it, and the two Ed25519 keys it may come from.
 */
void strangers_seen(struct strangers *, const uint8_t x_pk[static 32], const char *addr,
                    uint64_t now_ms);

#endif
