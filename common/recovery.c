/* recovery.c: the recovery key's saved text, and its public half in DIR/recovery.pub. */
#include "recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "keyfile.h"

void recovery_text(char out[static RECOVERY_TEXT_MAX], const uint8_t sk[static AG_SK_LEN],
                   const char *name, const uint8_t node_pk[static AG_PK_LEN])
{
	char line[KEYFILE_B64 + 1], node[AG_B64_LEN + 1];

	ag_key_to_b64(node, node_pk);
	sodium_bin2base64(line, sizeof(line), sk, AG_SK_LEN, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, RECOVERY_TEXT_MAX,
	         "# agora recovery key of %.64s (node %s)\n"
	         "# for agora recover --recovery-key FILE; keep it offline\n"
	         "%s\n",
	         name, node, line);
	sodium_memzero(line, sizeof(line));
}

/* Reads at most RECOVERY_FILE_MAX bytes of path into buf; -1 with err if it is longer. */
static ssize_t read_small(const char *path, char *buf, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r = 1;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		r = read(fd, buf + got, RECOVERY_FILE_MAX + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got > RECOVERY_FILE_MAX)
			break;
	}
	close(fd);
	if (r < 0 || got > RECOVERY_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
		         r < 0 ? strerror(errno) : "too long for a recovery key file");
		return -1;
	}
	return (ssize_t)got;
}

/* The one line of buf[0..len) that is neither blank nor a comment: 0, or -1. */
static int secret_line(const char *buf, size_t len, const char **line, size_t *n)
{
	const char *p = buf, *end = buf + len;
	int found = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);

		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l > 0 && p[0] != '#') {
			if (found++)
				return -1;
			*line = p;
			*n = l;
		}
		p = nl ? nl + 1 : end;
	}
	return found == 1 ? 0 : -1;
}

int recovery_file_line(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	char buf[RECOVERY_FILE_MAX + 1];
	const char *line = NULL;
	size_t n = 0;
	ssize_t len = read_small(path, buf, err, errlen);
	int rc = -1;

	if (len < 0)
		goto out;
	if (secret_line(buf, (size_t)len, &line, &n) != 0 || n >= cap) {
		snprintf(err, errlen,
		         "%s: expected one line of base64, besides # comments, as agora printed it",
		         path);
		goto out;
	}
	memcpy(out, line, n);
	out[n] = '\0';
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int recovery_read(const char *path, uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                  char *err, size_t errlen)
{
	char line[KEYFILE_B64 + 2];
	int rc = recovery_file_line(path, line, sizeof(line), err, errlen);

	if (rc == 0 && (rc = keyfile_secret_decode(line, strlen(line), pk, sk)) != 0) {
		snprintf(err, errlen,
		         rc == -2 ? "%s: the recovery key is damaged (its halves do not match)"
		                  : "%s: not a recovery key: expected one line of base64 of 64 "
		                    "bytes, besides # comments, as agora init printed it",
		         path);
		rc = -1;
	} else if (rc != 0) {
		snprintf(
		    err, errlen,
		    "%s: not a recovery key: expected one line of base64 of 64 bytes, besides # "
		    "comments, as agora init printed it",
		    path);
	}
	sodium_memzero(line, sizeof(line));
	return rc;
}

int recovery_pub_write(const char *dir, const uint8_t pk[static AG_PK_LEN], char *err,
                       size_t errlen)
{
	char path[4096], line[AG_B64_LEN + 2];

	snprintf(path, sizeof(path), "%s/%s", dir, RECOVERY_PUB_NAME);
	ag_key_to_b64(line, pk);
	line[AG_B64_LEN] = '\n';
	if (fileio_write_new(path, line, AG_B64_LEN + 1, 0644) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int recovery_pub_read(const char *dir, uint8_t pk[static AG_PK_LEN], char *err, size_t errlen)
{
	char path[4096], line[AG_B64_LEN + 3] = "";
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, RECOVERY_PUB_NAME);
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = fgets(line, sizeof(line), f) && strlen(line) == AG_B64_LEN + 1 &&
	     line[AG_B64_LEN] == '\n';
	fclose(f);
	if (ok) {
		line[AG_B64_LEN] = '\0';
		ok = ag_key_from_b64(pk, line) == 0;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: not a public key (one line of base64)", path);
		return -1;
	}
	return 1;
}
