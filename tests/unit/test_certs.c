/*
 * test_certs.c: succession certificates as a node keeps them: checked
 * against the recovery key the old feed's first entry names (and carried
 * from a predecessor that handed over, never taken from a later feed's own
 * claim), refused when signed by another key or when no recovery key is
 * known, and kept one per old key: the one that wins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certs.h"
#include "store.h"
#include "succession.h"
#include "testutil.h"

struct fx {
	char *dir;
	struct store *st;
	uint8_t network[32];
	uint8_t pk[6][32], sk[6][64]; /* A, B, C, R, R2, X */
};

enum { A, B, C, R, R2, X };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t seed[32];
	char *data;

	assert_int_equal(ag_init(), 0);
	assert_non_null(f->dir = tu_tmpdir("certs"));
	data = tu_path(f->dir, "data");
	assert_non_null(f->st = store_open(data, 0));
	free(data);
	ag_network_default(f->network);
	for (int i = 0; i < 6; i++) {
		memset(seed, i + 1, sizeof(seed));
		ag_key_from_seed(f->pk[i], f->sk[i], seed);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f->dir);
	free(f);
	return 0;
}

/* who publishes identity/id with the keys given (NULL: none); hash gets its entry hash. */
static void identity(struct fx *f, int who, const char *id, const uint8_t *recovery,
                     const uint8_t *predecessor, const uint8_t *successor, uint8_t hash[32])
{
	uint8_t body[SUCCESSION_BODY_MAX], buf[AG_HEADER_MAX];
	struct ag_entry e = {.h = {.timestamp = 1, .id = id, .id_len = strlen(id)}};

	memcpy(e.h.network, f->network, 32);
	strcpy(e.h.type, "identity");
	e.body = body;
	e.body_len = succession_body(body, recovery, predecessor, successor);
	assert_int_equal(store_publish(f->st, &e, f->sk[who], buf, sizeof(buf), hash), 0);
}

/* A certificate old -> new naming seq (and hash), signed by signer, into raw. */
static void cert(struct fx *f, int old, int new_key, uint64_t seq, const uint8_t *hash, int signer,
                 uint8_t raw[AG_CERT_MAX], size_t *len, struct ag_cert *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->network, f->network, 32);
	memcpy(c->old_key, f->pk[old], 32);
	memcpy(c->new_key, f->pk[new_key], 32);
	c->last_seq = seq;
	if (hash)
		memcpy(c->last_hash, hash, 32);
	c->timestamp = 1000;
	assert_int_equal(ag_cert_sign(c, f->sk[signer], raw, AG_CERT_MAX, len), 0);
}

static void test_check_and_keep(void **state)
{
	struct fx *f = *state;
	uint8_t h1[32], raw[AG_CERT_MAX];
	struct ag_cert c, d;
	char why[256];
	size_t len;

	identity(f, A, "self", f->pk[R], NULL, NULL, h1);
	cert(f, A, B, 1, h1, R, raw, &len, &c);
	assert_int_equal(certs_check(f->st, f->network, raw, len, &d, why, sizeof(why)), 0);
	assert_int_equal(certs_keep(f->st, &d), 1);
	assert_int_equal(certs_keep(f->st, &d), 0); /* held already */
	/* Signed by another key than the one A's feed names: refused. */
	cert(f, A, B, 1, h1, R2, raw, &len, &c);
	assert_int_equal(certs_check(f->st, f->network, raw, len, &d, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not signed by its recovery key"));
	/* A key whose feed this node does not hold: nothing to check it against. */
	cert(f, X, B, 0, NULL, R, raw, &len, &c);
	assert_int_equal(certs_check(f->st, f->network, raw, len, &d, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no recovery key known"));
	/* Of two for A, the lower seq wins, whichever comes first. */
	cert(f, A, C, 0, NULL, R, raw, &len, &c);
	assert_int_equal(certs_check(f->st, f->network, raw, len, &d, why, sizeof(why)), 0);
	assert_int_equal(certs_keep(f->st, &d), 1);
	cert(f, A, B, 1, h1, R, raw, &len, &c);
	assert_int_equal(certs_check(f->st, f->network, raw, len, &d, why, sizeof(why)), 0);
	assert_int_equal(certs_keep(f->st, &d), 0);
	assert_true(certs_hands_to(f->st, f->pk[A], f->pk[C]));
	assert_false(certs_hands_to(f->st, f->pk[A], f->pk[B]));
}

/* The recovery key is fixed by the first feed: a successor's own claim does not change it. */
static void test_recovery_carried(void **state)
{
	struct fx *f = *state;
	uint8_t h[32], out[32];

	identity(f, A, "self", f->pk[R], NULL, NULL, h);
	identity(f, A, "successor", NULL, NULL, f->pk[B], h);
	identity(f, B, "self", f->pk[R2], f->pk[A], NULL, h);
	identity(f, C, "self", f->pk[R2], f->pk[A], NULL, h); /* A never named C */
	assert_int_equal(certs_recovery_of(f->st, f->pk[A], out), 0);
	assert_memory_equal(out, f->pk[R], 32);
	assert_int_equal(certs_recovery_of(f->st, f->pk[B], out), 0);
	assert_memory_equal(out, f->pk[R], 32);
	assert_int_equal(certs_recovery_of(f->st, f->pk[C], out), 0);
	assert_memory_equal(out, f->pk[R2], 32);
	assert_int_equal(certs_recovery_of(f->st, f->pk[X], out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_check_and_keep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_carried, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
