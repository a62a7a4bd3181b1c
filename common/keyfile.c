/* keyfile.c: node.key, created once with mode 0600, read back with care. */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* Makes a new file's name durable; dir is path's directory. */
static int sync_parent(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int r;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dir = dirname(copy); /* "." for a bare file name */
	if ((r = fileio_sync_dir(dir)) != 0)
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	free(copy);
	return r;
}

/* Writes the line for sk to a new file at path (fchmod too: a umask may take bits away). */
static int write_new(const char *path, const char line[static KEYFILE_SIZE], char *err,
                     size_t errlen)
{
	if (fileio_write_new(path, line, KEYFILE_SIZE, 0600) == 0)
		return 0;
	if (errno == EEXIST)
		snprintf(err, errlen, "%s: a key already exists; agora never overwrites a key",
		         path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

int keyfile_create(const char *path, uint8_t pk[static AG_PK_LEN], char *err, size_t errlen)
{
	uint8_t sk[AG_SK_LEN];
	char line[KEYFILE_SIZE + 1]; /* sodium_bin2base64 adds a NUL */
	int ret = -1;

	if (ag_init() != 0) {
		snprintf(err, errlen, "libsodium cannot be initialised");
		return -1;
	}
	ag_key_generate(pk, sk);
	sodium_bin2base64(line, KEYFILE_B64 + 1, sk, AG_SK_LEN, sodium_base64_VARIANT_ORIGINAL);
	line[KEYFILE_B64] = '\n';
	if (write_new(path, line, err, errlen) != 0)
		goto out;
	if (sync_parent(path, err, errlen) != 0) {
		unlink(path);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(line, sizeof(line));
	if (ret != 0)
		sodium_memzero(pk, AG_PK_LEN);
	return ret;
}

/* Opens path for keyfile_load, refusing what is not a private regular file. */
static int open_private(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen,
			         "%s: is a symbolic link; the key must be a file of its own", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
	} else if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
		         "%s: mode %04o lets group or others read or write the secret key; "
		         "run: chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
	} else if (st.st_size != KEYFILE_SIZE) {
		snprintf(err, errlen,
		         "%s: %lld bytes, but a key file is %d: the base64 of a 64-byte secret "
		         "key and a newline",
		         path, (long long)st.st_size, KEYFILE_SIZE);
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

/* Reads exactly KEYFILE_SIZE bytes, and one more to see that the file ends there. */
static int read_line(int fd, const char *path, char line[static KEYFILE_SIZE + 1], char *err,
                     size_t errlen)
{
	size_t got = 0;

	while (got < KEYFILE_SIZE + 1) {
		ssize_t r = read(fd, line + got, KEYFILE_SIZE + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != KEYFILE_SIZE) {
		snprintf(err, errlen, "%s: changed size while being read", path);
		return -1;
	}
	return 0;
}

int keyfile_secret_decode(const char *b64, size_t len, uint8_t pk[static AG_PK_LEN],
                          uint8_t sk[static AG_SK_LEN])
{
	uint8_t raw[AG_SK_LEN];
	const char *end = NULL;
	size_t n = 0;
	int ret = -1;

	if (len != KEYFILE_B64 ||
	    sodium_base642bin(raw, sizeof(raw), b64, len, NULL, &n, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != AG_SK_LEN || end != b64 + len)
		goto out;
	ret = -2;
	ag_key_from_seed(pk, sk, raw); /* the seed is the first half */
	if (sodium_memcmp(pk, raw + AG_PK_LEN, AG_PK_LEN) == 0)
		ret = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	if (ret != 0) {
		sodium_memzero(pk, AG_PK_LEN);
		sodium_memzero(sk, AG_SK_LEN);
	}
	return ret;
}

/* Decodes line into sk, and checks the public half against the seed. */
static int decode(const char *path, const char line[static KEYFILE_SIZE],
                  uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN], char *err,
                  size_t errlen)
{
	int rc = line[KEYFILE_B64] == '\n' ? keyfile_secret_decode(line, KEYFILE_B64, pk, sk) : -1;

	if (rc == -1)
		snprintf(err, errlen, "%s: not a key file: expected one line of base64 of 64 bytes",
		         path);
	else if (rc == -2)
		snprintf(err, errlen,
		         "%s: the public key in the file does not match its secret key; the file "
		         "is damaged",
		         path);
	return rc == 0 ? 0 : -1;
}

int keyfile_load(const char *path, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                 char *err, size_t errlen)
{
	char line[KEYFILE_SIZE + 1];
	int fd, ret = -1;

	if ((fd = open_private(path, err, errlen)) < 0)
		goto out;
	if (read_line(fd, path, line, err, errlen) != 0 ||
	    decode(path, line, pk, sk, err, errlen) != 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(line, sizeof(line));
	if (ret != 0) {
		sodium_memzero(pk, AG_PK_LEN);
		sodium_memzero(sk, AG_SK_LEN);
	}
	return ret;
}
