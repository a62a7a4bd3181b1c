/*
 * keyfile.h: the node's secret key in DIR/node.key, made by agora init and
 * read by agorad (and agora id without a daemon).
 *
 * The file is one line: the standard base64 (with padding) of libsodium's
 * 64-byte Ed25519 secret key, which is the 32-byte seed followed by the
 * 32-byte public key, then a newline; 89 bytes in all. The seed alone makes
 * the key pair; the public half is kept so that a damaged file is caught:
 * keyfile_load derives the pair from the seed and checks it against it.
 *
 * The file is created with mode 0600 and never overwritten; keyfile_load
 * refuses it if group or others may read or write it. Every buffer that held
 * the secret is wiped with sodium_memzero on every way out. Nothing here
 * logs: a failure is said in one line in the caller's err (of errlen bytes).
 */
#ifndef AGORA_KEYFILE_H
#define AGORA_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define KEYFILE_NAME "node.key"
#define KEYFILE_B64  88 /* base64 characters of the 64-byte secret key */
#define KEYFILE_SIZE (KEYFILE_B64 + 1)

/*
 * Makes a new key pair and writes it to path, which must not exist
 * (O_CREAT | O_EXCL, mode 0600, written fully and fsynced, with its
 * directory). pk gets the public key. 0, or -1 with err, and nothing left
 * at path.
 */
int keyfile_create(const char *path, uint8_t pk[static AG_PK_LEN], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Reads the key pair from path, refusing a file that is not a regular file
 * of mode 0600 or stricter, is not exactly in the format above, or whose
 * public half does not match its seed. 0, or -1 with err (saying how to fix
 * it where one can) and pk and sk zeroed. The caller wipes sk with
 * sodium_memzero when done.
 */
int keyfile_load(const char *path, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                 char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The base64 of a 64-byte secret key (len characters, KEYFILE_B64 of them)
 * into pk and sk, the pair made from its seed: 0, -1 if it is not such
 * base64, -2 if its public half does not match the seed. pk and sk are
 * zeroed on failure; the caller wipes sk. Shared with the recovery key file.
 */
int keyfile_secret_decode(const char *b64, size_t len, uint8_t pk[static AG_PK_LEN],
                          uint8_t sk[static AG_SK_LEN]) __attribute__((warn_unused_result));

#endif
