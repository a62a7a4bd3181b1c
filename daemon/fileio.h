/* fileio.h: durable small writes, shared by the config and the key file. */
#ifndef AGORA_FILEIO_H
#define AGORA_FILEIO_H

#include <stddef.h>

/* Writes all n bytes, retrying short writes and EINTR. 0, or -1 with errno set. */
int fileio_write_all(int fd, const char *p, size_t n) __attribute__((warn_unused_result));

/* Syncs directory dir, so a file created or renamed in it is durable. 0, or -1 (logged). */
int fileio_sync_dir(const char *dir) __attribute__((warn_unused_result));

#endif
