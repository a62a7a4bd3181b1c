/*
 * keyfile.h: the node's secret key in DIR/node.key, and `agora init`.
 *
 * The file is one line: the standard base64 (with padding) of libsodium's
 * 64-byte Ed25519 secret key, which is the 32-byte seed followed by the
 * 32-byte public key, then a newline; 89 bytes in all. The seed alone makes
 * the key pair; the public half is kept so that a damaged file is caught:
 * keyfile_load derives the pair from the seed and checks it against it.
 *
 * The file is created with mode 0600 and never overwritten; keyfile_load
 * refuses it if group or others may read or write it. Every buffer that held
 * the secret is wiped with sodium_memzero on every way out.
 */
#ifndef AGORA_KEYFILE_H
#define AGORA_KEYFILE_H

#include <stdint.h>

#include "key.h"

#define KEYFILE_NAME "node.key"
#define KEYFILE_B64  88 /* base64 characters of the 64-byte secret key */
#define KEYFILE_SIZE (KEYFILE_B64 + 1)

/*
 * Makes a new key pair and writes it to path, which must not exist
 * (O_CREAT | O_EXCL, mode 0600, written fully and fsynced, with its
 * directory). pk gets the public key. 0, or -1 (logged) with nothing left
 * at path.
 */
int keyfile_create(const char *path, uint8_t pk[static AG_PK_LEN])
    __attribute__((warn_unused_result));

/*
 * Reads the key pair from path, refusing a file that is not a regular file
 * of mode 0600 or stricter, is not exactly in the format above, or whose
 * public half does not match its seed. 0, or -1 (logged, saying how to fix
 * it where one can) with pk and sk zeroed. The caller wipes sk with
 * sodium_memzero when done.
 */
int keyfile_load(const char *path, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN])
    __attribute__((warn_unused_result));

/*
 * `agora init`: creates dir (mode 0750) if missing, a new node.key in it,
 * and agorad.conf with [Node] Name and Listen (NULL: the default). Refuses,
 * changing nothing, if dir already has a node.key or an agorad.conf, or name
 * or listen is not valid. pk gets the new public key. 0, or -1 (logged).
 */
int keyfile_dir_init(const char *dir, const char *name, const char *listen,
                     uint8_t pk[static AG_PK_LEN]) __attribute__((warn_unused_result));

#endif
