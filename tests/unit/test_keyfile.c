/* test_keyfile.c: node.key created once, private, exact, and `agora init` (nodedir_init), each
 * saying why it refused in the caller's buffer. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "keyfile.h"
#include "nodedir.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char *key;      /* dir/node.key, not yet there */
	char err[4200]; /* what the last call said */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->dir = tu_tmpdir("keyfile"));
	f->key = tu_path(f->dir, KEYFILE_NAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->key);
	free(f->dir);
	free(f);
	return 0;
}

/* What the last call said, taken: the next one starts from "". */
static char *take_log(struct fixture *f)
{
	char *s = strdup(f->err);

	assert_non_null(s);
	f->err[0] = '\0';
	return s;
}

/* The last call said exactly "<path><rest>", in err, not through a log. */
static void assert_logged(struct fixture *f, const char *path, const char *rest)
{
	char *log = take_log(f), *want;

	assert_int_not_equal(asprintf(&want, "%s%s", path, rest), -1);
	assert_string_equal(log, want);
	free(want);
	free(log);
}

static void assert_refused(struct fixture *f, const char *path)
{
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN], zero[AG_SK_LEN] = {0};

	memset(pk, 0xaa, sizeof(pk));
	memset(sk, 0xaa, sizeof(sk));
	assert_int_equal(keyfile_load(path, pk, sk, f->err, sizeof(f->err)), -1);
	assert_memory_equal(pk, zero, AG_PK_LEN); /* nothing half-read is left */
	assert_memory_equal(sk, zero, AG_SK_LEN);
	(void)f;
}

static void test_create_load(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[AG_PK_LEN], pk2[AG_PK_LEN], sk[AG_SK_LEN], sig[AG_SIG_LEN];
	static const uint8_t msg[] = "agora";
	struct stat st;
	char *text;
	size_t len;

	assert_int_equal(keyfile_create(f->key, pk, f->err, sizeof(f->err)), 0);
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, KEYFILE_SIZE);
	assert_non_null(text = tu_read_file(f->key, &len));
	assert_int_equal(len, 89);
	assert_int_equal(text[88], '\n');
	assert_null(memchr(text, '\n', 88));
	free(text);

	assert_int_equal(keyfile_load(f->key, pk2, sk, f->err, sizeof(f->err)), 0);
	assert_memory_equal(pk, pk2, AG_PK_LEN);
	assert_memory_equal(sk + 32, pk, AG_PK_LEN);
	/* The pair works: what sk signs, pk verifies. */
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	sodium_memzero(sk, sizeof(sk));

	/* Read-only for its owner is stricter than 0600, and fine. */
	assert_int_equal(chmod(f->key, 0400), 0);
	assert_int_equal(keyfile_load(f->key, pk2, sk, f->err, sizeof(f->err)), 0);
	assert_memory_equal(pk, pk2, AG_PK_LEN);
	sodium_memzero(sk, sizeof(sk));
	free(take_log(f));
}

static void test_known_file(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32], pk[AG_PK_LEN], sk[AG_SK_LEN], want_pk[AG_PK_LEN], want_sk[AG_SK_LEN];
	char line[KEYFILE_SIZE + 1];

	/* RFC 8032 test 1: the format is the base64 of seed || public key. */
	assert_int_equal(tu_hex_decode(seed, 32,
	                               "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919"
	                               "703bac031cae7f60"),
	                 0);
	assert_int_equal(tu_hex_decode(want_pk, 32,
	                               "d75a980182b10ab7d54bfed3c964073a0ee172f3daa623"
	                               "25af021a68f707511a"),
	                 0);
	memcpy(want_sk, seed, 32);
	memcpy(want_sk + 32, want_pk, 32);
	sodium_bin2base64(line, KEYFILE_B64 + 1, want_sk, AG_SK_LEN,
	                  sodium_base64_VARIANT_ORIGINAL);
	line[KEYFILE_B64] = '\n';
	assert_int_equal(tu_write_file(f->key, line, KEYFILE_SIZE), 0);
	assert_int_equal(keyfile_load(f->key, pk, sk, f->err, sizeof(f->err)), 0);
	assert_memory_equal(pk, want_pk, 32);
	assert_memory_equal(sk, want_sk, 64);
	sodium_memzero(sk, sizeof(sk));
}

static void test_never_overwrites(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[AG_PK_LEN], pk2[AG_PK_LEN];
	char *before, *after;

	assert_int_equal(keyfile_create(f->key, pk, f->err, sizeof(f->err)), 0);
	assert_non_null(before = tu_read_file(f->key, NULL));
	assert_int_equal(keyfile_create(f->key, pk2, f->err, sizeof(f->err)), -1);
	assert_logged(f, f->key, ": a key already exists; agora never overwrites a key");
	assert_non_null(after = tu_read_file(f->key, NULL));
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_mode_refused(void **state)
{
	struct fixture *f = *state;
	static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666, 0610};
	uint8_t pk[AG_PK_LEN];

	assert_int_equal(keyfile_create(f->key, pk, f->err, sizeof(f->err)), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char rest[512];

		assert_int_equal(chmod(f->key, modes[i]), 0);
		assert_refused(f, f->key);
		snprintf(rest, sizeof(rest),
		         ": mode %04o lets group or others read or write the secret key; run: "
		         "chmod 600 %s",
		         (unsigned)modes[i], f->key);
		assert_logged(f, f->key, rest);
	}
}

/* A key file with one thing wrong, and the end of the message it must give. */
static void write_and_refuse(struct fixture *f, const char *data, size_t len, const char *rest)
{
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, data, len), 0);
	assert_refused(f, f->key);
	assert_logged(f, f->key, rest);
}

static void test_format_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	char *good, bad[KEYFILE_SIZE + 2];
	size_t len;
	static const char *format = ": not a key file: expected one line of base64 of 64 bytes";

	assert_int_equal(keyfile_create(f->key, pk, f->err, sizeof(f->err)), 0);
	assert_non_null(good = tu_read_file(f->key, &len));

	write_and_refuse(f, "", 0,
	                 ": 0 bytes, but a key file is 89: the base64 of a 64-byte secret key and "
	                 "a newline");
	write_and_refuse(f, good, 50,
	                 ": 50 bytes, but a key file is 89: the base64 of a 64-byte secret key and "
	                 "a newline");
	write_and_refuse(f, good, 88,
	                 ": 88 bytes, but a key file is 89: the base64 of a 64-byte secret key and "
	                 "a newline");
	memcpy(bad, good, 89);
	bad[89] = '\n';
	write_and_refuse(f, bad, 90,
	                 ": 90 bytes, but a key file is 89: the base64 of a 64-byte secret key and "
	                 "a newline");
	memcpy(bad, good, 89);
	bad[88] = ' ';
	write_and_refuse(f, bad, 89, format);
	memcpy(bad, good, 89);
	bad[10] = '!';
	write_and_refuse(f, bad, 89, format);
	/* 86 characters and "==": base64 of 64 bytes ends in exactly "==". */
	memcpy(bad, good, 89);
	bad[87] = 'A';
	write_and_refuse(f, bad, 89, format);

	/* The public half of another key. */
	{
		uint8_t raw[AG_SK_LEN], other[AG_PK_LEN], osk[AG_SK_LEN];
		char line[KEYFILE_SIZE + 1];

		assert_int_equal(sodium_base642bin(raw, sizeof(raw), good, 88, NULL, NULL, NULL,
		                                   sodium_base64_VARIANT_ORIGINAL),
		                 0);
		crypto_sign_keypair(other, osk);
		memcpy(raw + 32, other, 32);
		sodium_bin2base64(line, sizeof(line), raw, sizeof(raw),
		                  sodium_base64_VARIANT_ORIGINAL);
		line[88] = '\n';
		write_and_refuse(
		    f, line, 89,
		    ": the public key in the file does not match its secret key; the file "
		    "is damaged");
	}

	/* And the good one still loads. */
	unlink(f->key);
	assert_int_equal(tu_write_file(f->key, good, len), 0);
	assert_int_equal(keyfile_load(f->key, pk, sk, f->err, sizeof(f->err)), 0);
	sodium_memzero(sk, sizeof(sk));
	free(good);
}

static void test_not_a_file(void **state)
{
	struct fixture *f = *state;
	char *link = tu_path(f->dir, "link.key"), *sub = tu_path(f->dir, "sub.key");
	uint8_t pk[AG_PK_LEN];

	char *log, *want;

	assert_refused(f, f->key);
	log = take_log(f);
	assert_int_not_equal(asprintf(&want, "%s: No such file or directory", f->key), -1);
	assert_string_equal(log, want);
	free(log);
	free(want);

	assert_int_equal(keyfile_create(f->key, pk, f->err, sizeof(f->err)), 0);
	assert_int_equal(symlink(f->key, link), 0);
	assert_refused(f, link);
	assert_logged(f, link, ": is a symbolic link; the key must be a file of its own");

	assert_int_equal(mkdir(sub, 0700), 0);
	assert_refused(f, sub);
	assert_logged(f, sub, ": not a regular file");
	free(link);
	free(sub);
}

static void test_dir_init(void **state)
{
	struct fixture *f = *state;
	char *node = tu_path(f->dir, "lyon"), *key = tu_path(node, KEYFILE_NAME);
	char *conf = tu_path(node, CONFIG_FILE), *text, *before;
	uint8_t pk[AG_PK_LEN], pk2[AG_PK_LEN], sk[AG_SK_LEN];
	struct config *cfg;
	struct stat st;

	assert_int_equal(
	    nodedir_init(node, "Lyon", "127.0.0.1:7001", pk, NULL, f->err, sizeof(f->err)), 0);
	assert_int_equal(stat(node, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(keyfile_load(key, pk2, sk, f->err, sizeof(f->err)), 0);
	assert_memory_equal(pk, pk2, AG_PK_LEN);
	sodium_memzero(sk, sizeof(sk));
	assert_non_null(text = tu_read_file(conf, NULL));
	assert_string_equal(text, "[Node]\nName = Lyon\nListen = 127.0.0.1:7001\n");
	free(text);
	assert_non_null(cfg = config_load(conf, pk, NULL));
	assert_string_equal(cfg->name, "Lyon");
	config_free(cfg);
	assert_string_equal(text = take_log(f), "");
	free(text);

	/* A second init changes nothing. */
	assert_non_null(before = tu_read_file(key, NULL));
	assert_int_equal(nodedir_init(node, "Paris", NULL, pk2, NULL, f->err, sizeof(f->err)), -1);
	assert_logged(f, key,
	              ": already exists; agora init makes a new node only in a fresh "
	              "directory");
	assert_non_null(text = tu_read_file(key, NULL));
	assert_string_equal(before, text);
	free(text);
	free(before);
	assert_non_null(text = tu_read_file(conf, NULL));
	assert_string_equal(text, "[Node]\nName = Lyon\nListen = 127.0.0.1:7001\n");
	free(text);

	/* A config without a key is not replaced either, and no key is made. */
	assert_int_equal(unlink(key), 0);
	assert_int_equal(nodedir_init(node, "Paris", NULL, pk2, NULL, f->err, sizeof(f->err)), -1);
	assert_logged(f, conf,
	              ": already exists; agora init makes a new node only in a fresh "
	              "directory");
	assert_int_equal(stat(key, &st), -1);
	free(key);
	free(conf);
	free(node);
}

static void test_dir_init_refused(void **state)
{
	struct fixture *f = *state;
	char *node = tu_path(f->dir, "n"), *file = tu_path(f->dir, "file");
	char *deep = tu_path(f->dir, "no/such");
	uint8_t pk[AG_PK_LEN];
	struct stat st;

	/* Bad input is refused before anything is made. */
	assert_int_equal(nodedir_init(node, "", NULL, pk, NULL, f->err, sizeof(f->err)), -1);
	assert_int_equal(nodedir_init(node, "Lyon", "lyon:7447", pk, NULL, f->err, sizeof(f->err)),
	                 -1);
	assert_int_equal(stat(node, &st), -1);
	free(take_log(f));

	assert_int_equal(tu_write_file(file, "x", 1), 0);
	assert_int_equal(nodedir_init(file, "Lyon", NULL, pk, NULL, f->err, sizeof(f->err)), -1);
	assert_logged(f, file, ": exists but is not a directory");

	assert_int_equal(nodedir_init(deep, "Lyon", NULL, pk, NULL, f->err, sizeof(f->err)), -1);
	free(take_log(f));
	assert_int_equal(stat(deep, &st), -1);

	/* An existing empty directory is used as it is. */
	assert_int_equal(mkdir(node, 0700), 0);
	assert_int_equal(nodedir_init(node, "Lyon", NULL, pk, NULL, f->err, sizeof(f->err)), 0);
	assert_int_equal(stat(node, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(node);
	free(file);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_known_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_overwrites, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_init_refused, setup, teardown),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
