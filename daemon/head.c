/* head.c: DIR/node.head, the own feed's high-water mark (head.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fileio.h"
#include "head.h"
#include "key.h"
#include "log.h"

/* "KEY SEQ HASH\n": 44 + 1 + 20 + 1 + 64 + 1, and room to tell a longer line. */
#define HEAD_LINE_MAX 160

static void head_path(const char *dir, char *path, size_t cap)
{
	snprintf(path, cap, "%s/" HEAD_FILE, dir);
}

/* Parses one mark line: 1 for key pk, 0 for another key, -1 when it is no mark. */
static int head_parse(const char *line, const uint8_t pk[static 32], struct head_mark *m)
{
	char key[AG_B64_LEN + 2], hex[2 * 32 + 2];
	uint8_t kpk[32];
	size_t bin_len;
	int used = 0;

	if (sscanf(line, "%45s %" SCNu64 " %65s%n", key, &m->seq, hex, &used) != 3 ||
	    strcmp(line + used, "\n") != 0 || ag_key_from_b64(kpk, key) != 0 || m->seq == 0 ||
	    strlen(hex) != 64 || sodium_hex2bin(m->hash, 32, hex, 64, NULL, &bin_len, NULL) != 0 ||
	    bin_len != 32)
		return -1;
	return memcmp(kpk, pk, 32) == 0;
}

int head_load(const char *dir, const uint8_t pk[static 32], struct head_mark *m)
{
	char path[PATH_MAX + 16], line[HEAD_LINE_MAX];
	FILE *f;
	int rc;

	head_path(dir, path, sizeof(path));
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	rc = fgets(line, sizeof(line), f) ? head_parse(line, pk, m) : -1;
	if (rc == 0 || (rc == 1 && fgetc(f) == EOF)) {
		fclose(f);
		return rc;
	}
	fclose(f);
	log_warnx("%s is not a mark of this node's feed (KEY SEQ HASH)", path);
	return -1;
}

int head_save(const char *dir, const uint8_t pk[static 32], const struct head_mark *m)
{
	char path[PATH_MAX + 16], line[HEAD_LINE_MAX], key[AG_B64_LEN + 1], hex[2 * 32 + 1];

	head_path(dir, path, sizeof(path));
	ag_key_to_b64(key, pk);
	sodium_bin2hex(hex, sizeof(hex), m->hash, 32);
	snprintf(line, sizeof(line), "%s %" PRIu64 " %s\n", key, m->seq, hex);
	if (fileio_replace(path, line, strlen(line), 0640) != 0) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}
