/* fileio.h: durable small writes, shared by the config and the key file. No logging: errno. */
#ifndef AGORA_FILEIO_H
#define AGORA_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all n bytes, retrying short writes and EINTR. 0, or -1 with errno set. */
int fileio_write_all(int fd, const char *p, size_t n) __attribute__((warn_unused_result));

/* Syncs directory dir, so a file created or renamed in it is durable. 0, or -1 with errno set. */
int fileio_sync_dir(const char *dir) __attribute__((warn_unused_result));

/*
 * Creates path, which must not exist (O_EXCL, not through a symbolic link),
 * with mode (set with fchmod too, whatever the umask), writes the n bytes and
 * fsyncs it; the directory is not synced. 0, or -1 with errno set (EEXIST:
 * path exists) and nothing left at path.
 */
int fileio_write_new(const char *path, const char *p, size_t n, mode_t mode)
    __attribute__((warn_unused_result));

/*
 * Replaces path with the n bytes, durably: a temporary file beside it (mode,
 * whatever the umask) is written, fsynced and renamed over path, then the
 * directory is synced. A crash leaves the old file or the new one, never a
 * part. 0, or -1 with errno set and no temporary file left.
 */
int fileio_replace(const char *path, const char *p, size_t n, mode_t mode)
    __attribute__((warn_unused_result));

#endif
