/*
 * nodedir.h: a node's directory as agora init makes it (DIR, DIR/node.key,
 * DIR/agorad.conf) and as agora id reads it without a daemon. agora, agorad's
 * tests and tools share it; nothing here logs: a failure is said in one line
 * in the caller's err (of errlen bytes).
 */
#ifndef AGORA_NODEDIR_H
#define AGORA_NODEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "confval.h"
#include "key.h"

#define NODEDIR_CONFIG         "agorad.conf"
#define NODEDIR_LISTEN_DEFAULT "0.0.0.0:7447"

/*
 * `agora init`: creates dir (mode 0750) if missing, a new node.key in it,
 * and agorad.conf with [Node] Name and Listen (NULL: the default), as
 * agorad's config_format writes them. Refuses, changing nothing, if dir
 * already has a node.key or an agorad.conf, or name or listen is not valid.
 * pk gets the new public key. With recovery_sk (AG_SK_LEN bytes), also a
 * recovery key pair: its public half in DIR/recovery.pub (recovery.h), its
 * secret in recovery_sk only, for the caller to show once and wipe; NULL
 * makes none (tools and test fixtures: such a node's feed has no identity
 * record and cannot be recovered). 0, or -1 with err.
 */
int nodedir_init(const char *dir, const char *name, const char *listen,
                 uint8_t pk[static AG_PK_LEN], uint8_t *recovery_sk, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * `agora id` without a daemon: the public key of dir's node.key and the
 * [Node] Name of its agorad.conf (name of CONFVAL_NAME_MAX + 1 bytes), if
 * this user may read them. 0, or -1 with err.
 */
int nodedir_id(const char *dir, uint8_t pk[static AG_PK_LEN],
               char name[static CONFVAL_NAME_MAX + 1], char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
