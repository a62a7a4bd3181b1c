/* testutil.h: helpers every unit test is compiled with. Tests only. */
#ifndef AGORA_TESTUTIL_H
#define AGORA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes a fresh private directory under $TMPDIR (or /tmp) named
 * agora-test-<tag>-XXXXXX and returns its path; the caller frees it
 * (after tu_rmtree). Returns NULL on failure.
 */
char *tu_tmpdir(const char *tag);

/* Removes path and everything under it; symlinks are not followed. 0 or -1. */
int tu_rmtree(const char *path);

/* Decodes exactly outlen bytes from hex (upper or lower case). 0 or -1. */
int tu_hex_decode(uint8_t *out, size_t outlen, const char *hex);

/* Writes 2 * len lower-case hex digits and a NUL to out. */
void tu_hex_encode(char *out, const uint8_t *in, size_t len);

/*
 * Reads the whole file at path into a NUL-terminated heap buffer the caller
 * frees; its length without the NUL goes to *len if len is not NULL.
 * Returns NULL on failure.
 */
char *tu_read_file(const char *path, size_t *len);

/* Writes len bytes to path (created 0600 or truncated). 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len);

/* Returns a heap string dir + "/" + name, aborting on out of memory. */
char *tu_path(const char *dir, const char *name);

#endif
