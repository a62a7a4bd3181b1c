/* key.h: node identities (Ed25519) and the network ID. */
#ifndef AGORA_KEY_H
#define AGORA_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AG_PK_LEN  32
#define AG_SK_LEN  64 /* libsodium's seed || public key */
#define AG_SIG_LEN 64
#define AG_B64_LEN 44 /* a 32-byte key in standard base64 with padding */

/* Must be called once before anything else in proto; safe to call again. */
int ag_init(void) AG_WUR;

/* A new key pair from the system's randomness. */
void ag_key_generate(uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN]);

/* The key pair of a 32-byte seed (test vectors). */
void ag_key_from_seed(uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                      const uint8_t seed[static 32]);

/* out receives 44 characters and a NUL. */
void ag_key_to_b64(char out[static AG_B64_LEN + 1], const uint8_t pk[static AG_PK_LEN]);

/* Exactly 44 characters of standard base64 that decode to 32 bytes. */
int ag_key_from_b64(uint8_t pk[static AG_PK_LEN], const char *s) AG_WUR;

/* The default network ID: BLAKE2b-256 of "agora/mc2cm/1". */
void ag_network_default(uint8_t id[static 32]);

#endif
