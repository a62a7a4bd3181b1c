/*
 * head.h: DIR/node.head, the high-water mark of this node's own feed: the
 * seq and hash of the last entry this key published (DESIGN.md "Daemon").
 * A store older than it (restored from a backup) may be behind the key, and
 * must learn its own feed back from a peer before it publishes again.
 *
 * One line of text, "KEY SEQ HASH\n": the public key in base64 (a mark of
 * another key, after a rotation, is no mark for this one), the seq in decimal
 * and the entry hash in lowercase hex. It holds nothing secret, and backups
 * never copy it.
 */
#ifndef AGORA_HEAD_H
#define AGORA_HEAD_H

#include <stdint.h>

#define HEAD_FILE "node.head"

struct head_mark {
	uint64_t seq;
	uint8_t hash[32];
};

/*
 * Reads DIR/node.head: 1 with *m, 0 if there is none for key pk (absent, or
 * another key's), -1 if it cannot be read or is not a mark (logged).
 */
int head_load(const char *dir, const uint8_t pk[static 32], struct head_mark *m);

/* Replaces DIR/node.head with *m, synced (fsync, rename, directory): 0 or -1 (logged). */
int head_save(const char *dir, const uint8_t pk[static 32], const struct head_mark *m);

#endif
