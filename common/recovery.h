/*
 * recovery.h: a city's recovery key (DESIGN.md "Trust over the years").
 * agora init makes it, prints its secret once and keeps only its public half
 * in DIR/recovery.pub, so that agorad can name it in the feed's first entry;
 * agora recover reads the secret back from the file the city saved.
 *
 * The saved form is text: lines starting with '#' are comments for people,
 * and one line is the standard base64 of libsodium's 64-byte Ed25519 secret
 * key (seed, then public key), as in node.key. Nothing here logs; every
 * buffer that held the secret is wiped with sodium_memzero on every way out.
 */
#ifndef AGORA_RECOVERY_H
#define AGORA_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define RECOVERY_PUB_NAME "recovery.pub"
#define RECOVERY_FILE_MAX 4096 /* bytes of a saved recovery key file read back */
#define RECOVERY_TEXT_MAX 512  /* bytes of recovery_text's output */

/*
 * The text to save for the secret sk: a comment naming the city (name) and
 * its node key (node_pk), then the secret's line. The caller wipes out.
 */
void recovery_text(char out[static RECOVERY_TEXT_MAX], const uint8_t sk[static AG_SK_LEN],
                   const char *name, const uint8_t node_pk[static AG_PK_LEN]);

/*
 * The one line of a small text file (at most RECOVERY_FILE_MAX bytes) that is
 * neither blank nor a # comment, into out (cap bytes, NUL-terminated): the
 * form of a saved recovery key and of a succession certificate's file. 0, or
 * -1 with err.
 */
int recovery_file_line(const char *path, char *out, size_t cap, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Reads a saved recovery key from path (at most RECOVERY_FILE_MAX bytes):
 * exactly one line that is not a comment or blank, the base64 of a secret
 * key whose public half matches its seed. 0, or -1 with err; the caller
 * wipes sk.
 */
int recovery_read(const char *path, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                  char *err, size_t errlen) __attribute__((warn_unused_result));

/* Writes pk's base64 and a newline to dir/recovery.pub, a new file (mode 0644). 0 or -1 with err.
 */
int recovery_pub_write(const char *dir, const uint8_t pk[static AG_PK_LEN], char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/* Reads dir/recovery.pub: 1 with pk, 0 when there is none, -1 with err when it is damaged. */
int recovery_pub_read(const char *dir, uint8_t pk[static AG_PK_LEN], char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
