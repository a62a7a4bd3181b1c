/* nodedir.c: agora init's directory, key and config; agora id's reading of them. */
#include <errno.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "keyfile.h"
#include "nodedir.h"
#include "recovery.h"

/* Refuses if path exists (or cannot be checked). */
static int must_not_exist(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		snprintf(err, errlen,
		         "%s: already exists; agora init makes a new node only in a fresh "
		         "directory",
		         path);
		return -1;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0750) == 0)
		return 0;
	if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: exists but is not a directory", dir);
		return -1;
	}
	return 0;
}

/* The new config's text, as config_format writes a config of only Name and Listen. */
static char *config_text(const char *name, const char *listen, char *err, size_t errlen)
{
	char host[CONFVAL_HOST_MAX + 1], *text = NULL;
	struct sockaddr_storage sa;
	size_t size = 0;
	uint16_t port;
	FILE *f;
	int r;

	if (confval_name(name) != 0) {
		snprintf(err, errlen, "bad Name '%s': %s", name, confval_strerror(CONFVAL_ENAME));
		return NULL;
	}
	if ((r = confval_hostport(listen ? listen : NODEDIR_LISTEN_DEFAULT, host, &port, &sa)) !=
	    0) {
		snprintf(err, errlen, "bad Listen '%s': %s", listen, confval_strerror(r));
		return NULL;
	}
	if (!(f = open_memstream(&text, &size))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fprintf(f, "[Node]\nName = %s\nListen = ", name);
	confval_format_listen(f, &sa);
	fputc('\n', f);
	if (ferror(f) | fclose(f)) {
		snprintf(err, errlen, "out of memory");
		free(text);
		return NULL;
	}
	return text;
}

/* Writes the config as a new file of mode 0640, durable with its directory. */
static int write_config(const char *dir, const char *path, const char *text, char *err,
                        size_t errlen)
{
	if (fileio_write_new(path, text, strlen(text), 0640) != 0 || fileio_sync_dir(dir) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/* A recovery key pair: its public half in dir/recovery.pub, its secret to the caller. */
static int make_recovery(const char *dir, uint8_t sk[static AG_SK_LEN], char *err, size_t errlen)
{
	uint8_t pk[AG_PK_LEN];

	ag_key_generate(pk, sk);
	if (recovery_pub_write(dir, pk, err, errlen) == 0)
		return 0;
	sodium_memzero(sk, AG_SK_LEN);
	return -1;
}

int nodedir_init(const char *dir, const char *name, const char *listen,
                 uint8_t pk[static AG_PK_LEN], uint8_t *recovery_sk, char *err, size_t errlen)
{
	char *keypath = NULL, *confpath = NULL, *pubpath = NULL, *text;
	int ret = -1;

	if (!(text = config_text(name, listen, err, errlen)))
		return -1;
	if (asprintf(&keypath, "%s/%s", dir, KEYFILE_NAME) < 0 ||
	    asprintf(&confpath, "%s/%s", dir, NODEDIR_CONFIG) < 0 ||
	    asprintf(&pubpath, "%s/%s", dir, RECOVERY_PUB_NAME) < 0) {
		keypath = confpath = pubpath = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (make_dir(dir, err, errlen) != 0 || must_not_exist(keypath, err, errlen) != 0 ||
	    must_not_exist(confpath, err, errlen) != 0 || must_not_exist(pubpath, err, errlen) != 0)
		goto out;
	if (keyfile_create(keypath, pk, err, errlen) != 0)
		goto out;
	if ((recovery_sk && make_recovery(dir, recovery_sk, err, errlen) != 0) ||
	    write_config(dir, confpath, text, err, errlen) != 0) {
		unlink(keypath); /* never used: a retry can make another */
		if (recovery_sk)
			unlink(pubpath);
		sodium_memzero(pk, AG_PK_LEN);
		goto out;
	}
	ret = 0;
out:
	free(keypath);
	free(confpath);
	free(pubpath);
	free(text);
	return ret;
}

struct name_read {
	char *name;
	int found;
};

/* inih's handler: keys and sections match in any case, as agorad reads them. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct name_read *nr = user;

	if (strcasecmp(section, "Node") == 0 && strcasecmp(key, "Name") == 0 &&
	    confval_name(value) == 0) {
		snprintf(nr->name, CONFVAL_NAME_MAX + 1, "%s", value);
		nr->found = 1;
	}
	return 1;
}

int nodedir_id(const char *dir, uint8_t pk[static AG_PK_LEN],
               char name[static CONFVAL_NAME_MAX + 1], char *err, size_t errlen)
{
	struct name_read nr = {name, 0};
	uint8_t sk[AG_SK_LEN];
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, KEYFILE_NAME);
	rc = keyfile_load(path, pk, sk, err, errlen);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, NODEDIR_CONFIG);
	if (ini_parse(path, on_key, &nr) != 0 || !nr.found) {
		snprintf(err, errlen, "%s: no valid [Node] Name in it", path);
		return -1;
	}
	return 0;
}
