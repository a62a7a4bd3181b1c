/*
 * test_members.c: the replicated set, our member records and city names,
 * over a real store in a temporary directory.
 *
 * The set follows introductions hop by hop and no further than the limit;
 * a key is found among many; reconciling vouches for every configured peer
 * and retracts the records of peers gone; names come from the config first,
 * then from member records; one introducer's records count up to a bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "config.h"
#include "entry.h"
#include "key.h"
#include "members.h"
#include "store.h"
#include "testutil.h"

struct author {
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	uint64_t seq;
	uint8_t head[AG_HASH_LEN];
};

struct fx {
	char *dir;
	struct store *store;
	struct members *m;
	struct config cfg;
	struct config_peer peers[2];
	struct author self, b, c, d, e;
	uint8_t network[32];
	/* What reconcile published: the record ids (keys), and whether each was a retraction. */
	char ids[8][AG_B64_LEN + 1];
	int retracted[8];
	int npub;
};

static void author_init(struct author *a, uint8_t seed_byte)
{
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	ag_key_from_seed(a->pk, a->sk, seed);
}

/* by introduces whom as name: a member record in by's feed, stored (NULL name: retracted). */
static void introduce(struct fx *f, struct author *by, const struct author *whom, const char *name)
{
	char key[AG_B64_LEN + 1];
	/* Timestamps as an author's clock gives them: the index lists the latest first. */
	struct ag_entry e = {
	    .h = {.seq = by->seq + 1, .has_prev = by->seq > 0, .timestamp = 1000 + by->seq}};
	struct store_result res;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t buf[1024];
	size_t len;

	ag_key_to_b64(key, whom->pk);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "key", 3);
	msgpack_pack_str_with_body(&pk, key, AG_B64_LEN);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, name ? name : "", name ? strlen(name) : 0);
	msgpack_pack_str_with_body(&pk, "role", 4);
	msgpack_pack_str_with_body(&pk, "partner", 7);
	memcpy(e.h.network, f->network, 32);
	memcpy(e.h.author, by->pk, 32);
	memcpy(e.h.prev, by->head, 32);
	snprintf(e.h.type, sizeof(e.h.type), "member");
	e.h.id = key;
	e.h.id_len = AG_B64_LEN;
	e.body = name ? (const uint8_t *)sb.data : NULL;
	e.body_len = name ? sb.size : 0;
	assert_int_equal(ag_entry_sign(&e, by->sk, buf, sizeof(buf), &len), 0);
	by->seq++;
	ag_entry_hash(&e, by->head);
	assert_int_equal(store_append(f->store, &e, 1, &res), 0);
	assert_int_equal(res.status, STORE_STORED);
	msgpack_sbuffer_destroy(&sb);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->dir = tu_tmpdir("members"));
	assert_non_null(f->store = store_open(f->dir, 0));
	memset(f->network, 0x4d, 32);
	author_init(&f->self, 1);
	author_init(&f->b, 2);
	author_init(&f->c, 3);
	author_init(&f->d, 4);
	author_init(&f->e, 5);
	assert_non_null(f->m = members_new(f->store, f->self.pk));
	snprintf(f->cfg.name, sizeof(f->cfg.name), "Lyon");
	snprintf(f->peers[0].name, sizeof(f->peers[0].name), "Tunis");
	memcpy(f->peers[0].pk, f->b.pk, 32);
	f->cfg.peers = f->peers;
	f->cfg.npeers = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	members_free(f->m);
	store_close(f->store);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Roots self and b; b introduces c, c introduces d. */
static int recompute(struct fx *f, int hops)
{
	uint8_t roots[2][32];

	memcpy(roots[0], f->self.pk, 32);
	memcpy(roots[1], f->b.pk, 32);
	return members_recompute(f->m, (const uint8_t(*)[32])roots, 2, hops, 1000);
}

/* In a line self - b - c - d, each hop of the limit takes in one more member, in that order. */
static void test_hops(void **state)
{
	struct fx *f = *state;

	introduce(f, &f->b, &f->c, "Sfax");
	introduce(f, &f->c, &f->d, "Oran");
	assert_int_equal(recompute(f, 1), 1);
	assert_int_equal(members_count(f->m), 2);
	assert_true(members_has(f->m, f->self.pk) && members_has(f->m, f->b.pk));
	assert_false(members_has(f->m, f->c.pk));

	assert_int_equal(recompute(f, 2), 1);
	assert_int_equal(members_count(f->m), 3);
	assert_true(members_has(f->m, f->c.pk));
	assert_false(members_has(f->m, f->d.pk));

	assert_int_equal(recompute(f, 3), 1);
	assert_int_equal(members_count(f->m), 4);
	assert_memory_equal(members_key(f->m, 0), f->self.pk, 32);
	assert_memory_equal(members_key(f->m, 1), f->b.pk, 32);
	assert_memory_equal(members_key(f->m, 2), f->c.pk, 32);
	assert_memory_equal(members_key(f->m, 3), f->d.pk, 32);
	assert_int_equal(recompute(f, 3), 0); /* the same set: it did not grow */

	/* b retracts its introduction: c, and d behind it, leave at once. */
	introduce(f, &f->b, &f->c, NULL);
	assert_int_equal(recompute(f, 3), 0);
	assert_int_equal(members_count(f->m), 2);
	assert_false(members_has(f->m, f->c.pk) || members_has(f->m, f->d.pk));
}

/* Among 20,000 keys every one is found, and a key outside is not. */
static void test_many_keys(void **state)
{
	struct fx *f = *state;
	enum { N = 20000 };
	uint8_t(*roots)[32] = malloc(N * sizeof(*roots));
	uint8_t other[32];

	assert_non_null(roots);
	for (size_t i = 0; i < N; i++) {
		memset(roots[i], 0, 32);
		memcpy(roots[i], &i, sizeof(i)); /* keys that differ in few bits */
	}
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, N, 1, 1000), 1);
	assert_int_equal(members_count(f->m), N);
	for (size_t i = 0; i < N; i++) {
		assert_true(members_has(f->m, roots[i]));
		assert_memory_equal(members_key(f->m, i), roots[i], 32);
	}
	memset(other, 0, 32);
	other[31] = 1;
	assert_false(members_has(f->m, other));
	/* Roots named twice count once. */
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, N / 2, 1, 1000), 0);
	assert_int_equal(members_count(f->m), N / 2);
	assert_false(members_has(f->m, roots[N - 1]));
	/* One key in another's place (a successor): the set did not grow, yet a key joined it. */
	memcpy(roots[0], other, 32);
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, N / 2, 1, 1000), 1);
	assert_int_equal(members_count(f->m), N / 2);
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, N / 2, 1, 1000), 0);
	free(roots);
}

static int fake_publish(void *arg, const char *type, const char *id, size_t id_len,
                        const uint8_t *body, size_t body_len, char *err, size_t errlen)
{
	struct fx *f = arg;

	(void)body_len;
	(void)err;
	(void)errlen;
	assert_string_equal(type, "member");
	assert_int_equal(id_len, AG_B64_LEN);
	assert_true(f->npub < 8);
	memcpy(f->ids[f->npub], id, AG_B64_LEN);
	f->ids[f->npub][AG_B64_LEN] = '\0';
	f->retracted[f->npub++] = body == NULL;
	return 0;
}

/* Our records follow the config: a new peer is vouched for, a peer gone is retracted. */
static void test_reconcile(void **state)
{
	struct fx *f = *state;
	char b_key[AG_B64_LEN + 1], c_key[AG_B64_LEN + 1], d_key[AG_B64_LEN + 1];

	ag_key_to_b64(b_key, f->b.pk);
	ag_key_to_b64(c_key, f->c.pk);
	ag_key_to_b64(d_key, f->d.pk);
	introduce(f, &f->self, &f->b, "Tunis"); /* b already vouched for */
	introduce(f, &f->self, &f->d, "Oran");  /* d no longer a peer */
	memcpy(f->peers[1].pk, f->c.pk, 32);    /* c a new peer */
	snprintf(f->peers[1].name, sizeof(f->peers[1].name), "Sfax");
	f->cfg.npeers = 2;
	members_reconcile(f->m, &f->cfg, fake_publish, f);
	assert_int_equal(f->npub, 2);
	assert_string_equal(f->ids[0], c_key);
	assert_false(f->retracted[0]);
	assert_string_equal(f->ids[1], d_key);
	assert_true(f->retracted[1]);
}

/* Names: ours and our peers' from the config, before any member record; others' from records. */
static void test_names(void **state)
{
	struct fx *f = *state;
	uint8_t pk[32];
	char c_key[AG_B64_LEN + 1];

	introduce(f, &f->b, &f->c, "Sfax");
	introduce(f, &f->c, &f->b, "Not Tunis"); /* the config wins for a peer */
	recompute(f, 3);
	assert_string_equal(members_city_name(f->m, &f->cfg, f->self.pk), "Lyon");
	assert_string_equal(members_city_name(f->m, &f->cfg, f->b.pk), "Tunis");
	assert_string_equal(members_city_name(f->m, &f->cfg, f->c.pk), "Sfax");
	assert_null(members_city_name(f->m, &f->cfg, f->e.pk));

	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Sfax", pk, NULL), 0);
	assert_memory_equal(pk, f->c.pk, 32);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Tunis", pk, NULL), 0);
	assert_memory_equal(pk, f->b.pk, 32);
	ag_key_to_b64(c_key, f->e.pk);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, c_key, pk, NULL),
	                 0); /* a key is a key */
	assert_memory_equal(pk, f->e.pk, 32);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Atlantis", pk, NULL), -1);
}

/*
 * Names cannot be spoofed: a key's own member records never name it, two
 * introducers that disagree are both shown, a name that records give to two
 * keys is ambiguous, and the config's names come first.
 */
static void test_names_spoofed(void **state)
{
	struct fx *f = *state;
	uint8_t pk[32], other[32];

	introduce(f, &f->b, &f->c, "Sfax");
	introduce(f, &f->b, &f->d, "Oran");
	introduce(f, &f->c, &f->c, "Lyon");   /* c names itself: ignored */
	introduce(f, &f->d, &f->c, "Sousse"); /* d disagrees with b about c */
	recompute(f, 3);
	assert_string_equal(members_city_name(f->m, &f->cfg, f->c.pk), "Sfax / Sousse");
	assert_string_equal(members_city_role(f->m, &f->cfg, f->c.pk), "partner");
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Lyon", pk, NULL), 0);
	assert_memory_equal(pk, f->self.pk, 32); /* the config's name */
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Sousse", pk, NULL), 0);
	assert_memory_equal(pk, f->c.pk, 32);

	/* d gives c's name to e too: "Sfax" is now given to two keys, and says so. */
	introduce(f, &f->d, &f->e, "Sfax");
	recompute(f, 3);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Sfax", pk, other), -2);
	assert_memory_equal(pk, f->c.pk, 32);
	assert_memory_equal(other, f->e.pk, 32);
	/* A peer of that name in the config settles it for this node. */
	snprintf(f->peers[0].name, sizeof(f->peers[0].name), "Sfax");
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Sfax", pk, NULL), 0);
	assert_memory_equal(pk, f->b.pk, 32);
}

/*
 * One introducer's member records count up to the bound, its latest first:
 * past it the set grows no more, whatever else it publishes, and the names
 * of those that count are found.
 */
static void test_introduced_bound(void **state)
{
	struct fx *f = *state;
	uint8_t roots[2][32], pk[32];
	struct author many[30];
	char name[16];

	memcpy(roots[0], f->self.pk, 32);
	memcpy(roots[1], f->b.pk, 32);
	for (int i = 0; i < 30; i++) {
		author_init(&many[i], (uint8_t)(100 + i));
		snprintf(name, sizeof(name), "Ville %d", i);
		introduce(f, &f->b, &many[i], name);
	}
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, 2, 2, 10), 1);
	assert_int_equal(members_count(f->m), 2 + 10);
	for (int i = 0; i < 30; i++)
		assert_int_equal(members_has(f->m, many[i].pk), i >= 20);
	assert_string_equal(members_city_name(f->m, &f->cfg, many[29].pk), "Ville 29");
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Ville 25", pk, NULL), 0);
	assert_memory_equal(pk, many[25].pk, 32);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Ville 5", pk, NULL), -1);
	/* Without the bound, all of them. */
	assert_int_equal(members_recompute(f->m, (const uint8_t(*)[32])roots, 2, 2, 1000), 1);
	assert_int_equal(members_count(f->m), 2 + 30);
	assert_int_equal(members_resolve_city(f->m, &f->cfg, "Ville 5", pk, NULL), 0);
	assert_memory_equal(pk, many[5].pk, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_spoofed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_introduced_bound, setup, teardown),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
