/*
 * test_noise.c: the Noise handshakes against the published vectors, byte for
 * byte, then what a hostile peer or a careless caller may do to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "key.h"
#include "noise.h"
#include "testutil.h"

#define VECTORS AGORA_VECTORS "/noise-25519-chachapoly-blake2b.json"
#define BUFLEN  (AG_NOISE_MAX_MSG + 64)
#define IK_MSG1 96 /* e, s and its tag, the empty payload's tag */
#define IK_MSG2 48 /* e, the empty payload's tag */

static uint8_t want_pay[BUFLEN], want_ct[BUFLEN], out[BUFLEN], got[BUFLEN];

/* --- The vectors --- */

/* Decodes the hex string v[key] into out[0..cap); returns its length in bytes. */
static size_t hex_field(json_t *v, const char *key, uint8_t *dst, size_t cap)
{
	const char *hex = json_string_value(json_object_get(v, key));
	size_t len;

	assert_non_null(hex);
	len = strlen(hex) / 2;
	assert_true(len <= cap);
	assert_int_equal(tu_hex_decode(dst, len, hex), 0);
	return len;
}

/* A 32-byte key field with a prefix, "init" or "resp"; NULL if the vector has none. */
static const uint8_t *key_field(json_t *v, const char *side, const char *name, uint8_t dst[32])
{
	char key[64];

	snprintf(key, sizeof(key), "%s_%s", side, name);
	if (!json_object_get(v, key))
		return NULL;
	assert_int_equal(hex_field(v, key, dst, 32), 32);
	return dst;
}

static enum ag_noise_pattern pattern_of(const char *name)
{
	static const enum ag_noise_pattern all[] = {AG_NOISE_NN, AG_NOISE_XX, AG_NOISE_IK};

	assert_non_null(name);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(ag_noise_protocol_name(all[i]), name) == 0)
			return all[i];
	fail_msg("vector for a protocol this code does not speak: %s", name);
	return AG_NOISE_NN;
}

struct side {
	struct ag_noise_hs *hs;
	struct ag_noise_cs send, recv;
	uint8_t s_pub[32];
	int has_s;
};

static void side_new(struct side *sd, json_t *v, enum ag_noise_pattern p, const char *name)
{
	uint8_t prologue[256], s[32], rs[32], e[32];
	const uint8_t *s_sk, *rs_pk;
	char key[64];
	size_t len;

	snprintf(key, sizeof(key), "%s_prologue", name);
	len = hex_field(v, key, prologue, sizeof(prologue));
	s_sk = key_field(v, name, "static", s);
	rs_pk = key_field(v, name, "remote_static", rs);
	assert_int_equal(ag_noise_hs_new(&sd->hs, p, name[0] == 'i', prologue, len, s_sk, rs_pk),
	                 0);
	assert_non_null(key_field(v, name, "ephemeral", e));
	assert_int_equal(ag_noise_set_ephemeral(sd->hs, e), 0);
	sd->has_s = s_sk != NULL;
	if (s_sk)
		crypto_scalarmult_base(sd->s_pub, s_sk);
}

static void vector_handshake_msg(struct side *from, struct side *to, size_t plen, size_t clen)
{
	size_t n;

	assert_int_equal(ag_noise_write_message(from->hs, want_pay, plen, out, BUFLEN, &n), 0);
	assert_int_equal(n, clen);
	assert_memory_equal(out, want_ct, clen);
	assert_int_equal(ag_noise_read_message(to->hs, want_ct, clen, got, BUFLEN, &n), 0);
	assert_int_equal(n, plen);
	assert_memory_equal(got, want_pay, plen);
}

static void vector_transport_msg(struct side *from, struct side *to, size_t plen, size_t clen)
{
	size_t n;

	assert_int_equal(ag_noise_encrypt(&from->send, want_pay, plen, out, BUFLEN, &n), 0);
	assert_int_equal(n, clen);
	assert_memory_equal(out, want_ct, clen);
	assert_int_equal(ag_noise_decrypt(&to->recv, want_ct, clen, got, BUFLEN, &n), 0);
	assert_int_equal(n, plen);
	assert_memory_equal(got, want_pay, plen);
}

/* Both sides agree on h, which is the vector's, and on who the other is; then split. */
static void vector_finish(struct side *a, struct side *b, json_t *v)
{
	uint8_t want[AG_NOISE_HASH_LEN], h[AG_NOISE_HASH_LEN], rs[32];

	assert_int_equal(hex_field(v, "handshake_hash", want, sizeof(want)), AG_NOISE_HASH_LEN);
	assert_int_equal(ag_noise_handshake_hash(a->hs, h), 0);
	assert_memory_equal(h, want, sizeof(h));
	assert_int_equal(ag_noise_handshake_hash(b->hs, h), 0);
	assert_memory_equal(h, want, sizeof(h));
	if (b->has_s) {
		assert_int_equal(ag_noise_remote_static(a->hs, rs), 0);
		assert_memory_equal(rs, b->s_pub, 32);
	}
	if (a->has_s) {
		assert_int_equal(ag_noise_remote_static(b->hs, rs), 0);
		assert_memory_equal(rs, a->s_pub, 32);
	}
	assert_int_equal(ag_noise_split(a->hs, &a->send, &a->recv), 0);
	assert_int_equal(ag_noise_split(b->hs, &b->send, &b->recv), 0);
}

/*
 * Messages alternate from the initiator, through the handshake and after
 * it, as the vectors' harness sends them. Returns the protocol's pattern.
 */
static enum ag_noise_pattern run_vector(json_t *v)
{
	enum ag_noise_pattern p =
	    pattern_of(json_string_value(json_object_get(v, "protocol_name")));
	struct side init, resp;
	size_t i, transports = 0;
	json_t *m;
	int split = 0;

	side_new(&init, v, p, "init");
	side_new(&resp, v, p, "resp");
	json_array_foreach(json_object_get(v, "messages"), i, m)
	{
		struct side *from = i % 2 == 0 ? &init : &resp, *to = i % 2 == 0 ? &resp : &init;
		size_t plen = hex_field(m, "payload", want_pay, BUFLEN);
		size_t clen = hex_field(m, "ciphertext", want_ct, BUFLEN);

		if (!split) {
			vector_handshake_msg(from, to, plen, clen);
		} else {
			vector_transport_msg(from, to, plen, clen);
			transports++;
		}
		if (!split && ag_noise_hs_done(init.hs) && ag_noise_hs_done(resp.hs)) {
			vector_finish(&init, &resp, v);
			split = 1;
		}
	}
	assert_true(split);
	assert_true(transports > 0);
	ag_noise_hs_free(init.hs);
	ag_noise_hs_free(resp.hs);
	return p;
}

static void test_vectors(void **state)
{
	json_error_t err;
	json_t *root = json_load_file(VECTORS, 0, &err), *v;
	unsigned seen = 0;
	size_t i;

	(void)state;
	if (!root)
		fail_msg("%s:%d: %s", VECTORS, err.line, err.text);
	assert_true(json_array_size(json_object_get(root, "vectors")) >= 3);
	json_array_foreach(json_object_get(root, "vectors"), i, v) seen |= 1u << run_vector(v);
	assert_int_equal(seen, 1u << AG_NOISE_NN | 1u << AG_NOISE_XX | 1u << AG_NOISE_IK);
	json_decref(root);
}

/* --- IK as agora runs it --- */

static const uint8_t prologue[] = "agora/1";

struct pair {
	struct ag_noise_hs *i, *r;
	uint8_t i_sk[32], i_pk[32], r_sk[32], r_pk[32];
	struct ag_noise_cs i_send, i_recv, r_send, r_recv;
};

/* Fixed keys and ephemerals make message 1 the same bytes each time. */
static void pair_new(struct pair *p, int fixed, const char *r_prologue)
{
	static const uint8_t e_i[32] = {1, 2, 3}, e_r[32] = {4, 5, 6};

	memset(p, 0, sizeof(*p));
	if (fixed) {
		memset(p->i_sk, 0x11, 32);
		memset(p->r_sk, 0x22, 32);
	} else {
		randombytes_buf(p->i_sk, 32);
		randombytes_buf(p->r_sk, 32);
	}
	crypto_scalarmult_base(p->i_pk, p->i_sk);
	crypto_scalarmult_base(p->r_pk, p->r_sk);
	assert_int_equal(ag_noise_hs_new(&p->i, AG_NOISE_IK, 1, prologue, sizeof(prologue) - 1,
	                                 p->i_sk, p->r_pk),
	                 0);
	assert_int_equal(ag_noise_hs_new(&p->r, AG_NOISE_IK, 0, (const uint8_t *)r_prologue,
	                                 strlen(r_prologue), p->r_sk, NULL),
	                 0);
	if (fixed) {
		assert_int_equal(ag_noise_set_ephemeral(p->i, e_i), 0);
		assert_int_equal(ag_noise_set_ephemeral(p->r, e_r), 0);
	}
}

static void pair_free(struct pair *p)
{
	ag_noise_hs_free(p->i);
	ag_noise_hs_free(p->r);
	ag_noise_cs_clear(&p->i_send);
	ag_noise_cs_clear(&p->i_recv);
	ag_noise_cs_clear(&p->r_send);
	ag_noise_cs_clear(&p->r_recv);
}

/* Writes from's next message, empty payload, into msg; returns its length. */
static size_t write_empty(struct ag_noise_hs *from, uint8_t *msg)
{
	size_t n;

	assert_int_equal(ag_noise_write_message(from, NULL, 0, msg, BUFLEN, &n), 0);
	return n;
}

static void read_empty(struct ag_noise_hs *to, const uint8_t *msg, size_t len)
{
	size_t n;

	assert_int_equal(ag_noise_read_message(to, msg, len, got, BUFLEN, &n), 0);
	assert_int_equal(n, 0);
}

static void pair_handshake(struct pair *p)
{
	uint8_t msg[128];
	size_t n;

	n = write_empty(p->i, msg);
	assert_int_equal(n, IK_MSG1);
	read_empty(p->r, msg, n);
	n = write_empty(p->r, msg);
	assert_int_equal(n, IK_MSG2);
	read_empty(p->i, msg, n);
	assert_int_equal(ag_noise_split(p->i, &p->i_send, &p->i_recv), 0);
	assert_int_equal(ag_noise_split(p->r, &p->r_send, &p->r_recv), 0);
}

static void roundtrip(struct ag_noise_cs *send, struct ag_noise_cs *recv, size_t len)
{
	size_t n;

	randombytes_buf(want_pay, len);
	assert_int_equal(ag_noise_encrypt(send, want_pay, len, out, BUFLEN, &n), 0);
	assert_int_equal(n, len + AG_NOISE_TAG_LEN);
	assert_int_equal(ag_noise_decrypt(recv, out, n, got, BUFLEN, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(got, want_pay, len);
}

/* The responder knows who calls after message 1, before it answers a byte. */
static void test_ik_responder_learns_initiator(void **state)
{
	uint8_t msg[128], rs[32], h1[AG_NOISE_HASH_LEN], h2[AG_NOISE_HASH_LEN];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	assert_int_equal(ag_noise_remote_static(p.r, rs), AG_ESTATE);
	assert_int_equal(ag_noise_remote_static(p.i, rs), 0);
	assert_memory_equal(rs, p.r_pk, 32);
	n = write_empty(p.i, msg);
	read_empty(p.r, msg, n);
	assert_int_equal(ag_noise_remote_static(p.r, rs), 0);
	assert_memory_equal(rs, p.i_pk, 32);
	assert_false(ag_noise_hs_done(p.r));
	assert_int_equal(ag_noise_handshake_hash(p.r, h1), AG_ESTATE);
	n = write_empty(p.r, msg);
	read_empty(p.i, msg, n);
	assert_true(ag_noise_hs_done(p.i) && ag_noise_hs_done(p.r));
	assert_int_equal(ag_noise_handshake_hash(p.i, h1), 0);
	assert_int_equal(ag_noise_handshake_hash(p.r, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	pair_free(&p);
}

static void test_ik_transport(void **state)
{
	static const size_t lens[] = {0, 1, 600, 4096, AG_NOISE_MAX_PLAIN};
	struct pair p;

	(void)state;
	pair_new(&p, 0, "agora/1");
	pair_handshake(&p);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		roundtrip(&p.i_send, &p.r_recv, lens[i]);
		roundtrip(&p.r_send, &p.i_recv, lens[i]);
	}
	pair_free(&p);
}

/* Any changed bit of message 1 or 2 is caught, be it in e, s or a tag. */
static void test_handshake_tamper(void **state)
{
	static const uint8_t masks[] = {0x01, 0x80};
	uint8_t msg[128];

	(void)state;
	for (size_t which = 1; which <= 2; which++)
		for (size_t j = 0; j < (which == 1 ? IK_MSG1 : IK_MSG2); j++)
			for (size_t k = 0; k < sizeof(masks); k++) {
				struct ag_noise_hs *to;
				struct pair p;
				size_t n;
				int rc;

				pair_new(&p, 1, "agora/1");
				n = write_empty(p.i, msg);
				if (which == 2) {
					read_empty(p.r, msg, n);
					n = write_empty(p.r, msg);
				}
				to = which == 1 ? p.r : p.i;
				msg[j] ^= masks[k];
				rc = ag_noise_read_message(to, msg, n, got, BUFLEN, &n);
				assert_true(rc == AG_EMAC || rc == AG_EKEY);
				/* One try: the handshake is dead, whatever comes next. */
				assert_int_equal(ag_noise_write_message(to, NULL, 0, msg, 128, &n),
				                 AG_ESTATE);
				assert_int_equal(ag_noise_remote_static(to, msg), AG_ESTATE);
				pair_free(&p);
			}
}

static void test_handshake_length(void **state)
{
	uint8_t msg[128];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 1, "agora/1");
	n = write_empty(p.i, msg);
	assert_int_equal(ag_noise_read_message(p.r, msg, n - 1, got, BUFLEN, &n), AG_ETRUNC);
	pair_free(&p);

	/* One byte more makes a 1-byte payload, and its tag no longer matches. */
	pair_new(&p, 1, "agora/1");
	n = write_empty(p.i, msg);
	msg[n] = 0;
	assert_int_equal(ag_noise_read_message(p.r, msg, n + 1, got, BUFLEN, &n), AG_EMAC);
	pair_free(&p);

	pair_new(&p, 1, "agora/1");
	assert_int_equal(ag_noise_read_message(p.r, out, AG_NOISE_MAX_MSG + 1, got, BUFLEN, &n),
	                 AG_ETOOBIG);
	pair_free(&p);
}

/* A low-order ephemeral would make every DH result zero: refused. */
static void test_low_order_ephemeral(void **state)
{
	uint8_t msg[128];
	struct pair p;
	size_t n;

	(void)state;
	for (int u = 0; u <= 1; u++) {
		pair_new(&p, 1, "agora/1");
		n = write_empty(p.i, msg);
		memset(msg, 0, 32);
		msg[0] = (uint8_t)u;
		assert_int_equal(ag_noise_read_message(p.r, msg, n, got, BUFLEN, &n), AG_EKEY);
		pair_free(&p);
	}
}

/* The prologue binds the network: two networks never complete a handshake. */
static void test_wrong_prologue(void **state)
{
	uint8_t msg[128];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/2");
	n = write_empty(p.i, msg);
	assert_int_equal(ag_noise_read_message(p.r, msg, n, got, BUFLEN, &n), AG_EMAC);
	assert_false(ag_noise_hs_done(p.r));
	pair_free(&p);
}

/* An initiator with the wrong idea of the responder's key fails at once. */
static void test_wrong_responder_key(void **state)
{
	uint8_t msg[128];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	ag_noise_hs_free(p.r);
	randombytes_buf(p.r_sk, 32);
	assert_int_equal(
	    ag_noise_hs_new(&p.r, AG_NOISE_IK, 0, prologue, sizeof(prologue) - 1, p.r_sk, NULL), 0);
	n = write_empty(p.i, msg);
	assert_int_equal(ag_noise_read_message(p.r, msg, n, got, BUFLEN, &n), AG_EMAC);
	pair_free(&p);
}

static void test_transport_tamper(void **state)
{
	static const size_t spots[] = {0, 300, 600, 600 + AG_NOISE_TAG_LEN - 1};
	uint8_t msg[700];

	(void)state;
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		struct pair p;
		size_t n;

		pair_new(&p, 0, "agora/1");
		pair_handshake(&p);
		memset(want_pay, 'x', 600);
		assert_int_equal(ag_noise_encrypt(&p.i_send, want_pay, 600, msg, sizeof(msg), &n),
		                 0);
		msg[spots[i]] ^= 0x04;
		assert_int_equal(ag_noise_decrypt(&p.r_recv, msg, n, got, BUFLEN, &n), AG_EMAC);
		/* The cipher is wiped: even the genuine message is no longer read. */
		msg[spots[i]] ^= 0x04;
		assert_int_equal(ag_noise_decrypt(&p.r_recv, msg, 616, got, BUFLEN, &n), AG_ESTATE);
		pair_free(&p);
	}
}

static void test_replay_and_reorder(void **state)
{
	uint8_t m1[64], m2[64];
	struct ag_noise_cs early;
	struct pair p;
	size_t n1, n2, n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	pair_handshake(&p);
	assert_int_equal(ag_noise_encrypt(&p.i_send, (const uint8_t *)"one", 3, m1, 64, &n1), 0);
	assert_int_equal(ag_noise_encrypt(&p.i_send, (const uint8_t *)"two", 3, m2, 64, &n2), 0);
	early = p.r_recv;

	assert_int_equal(ag_noise_decrypt(&p.r_recv, m1, n1, got, BUFLEN, &n), 0);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, m1, n1, got, BUFLEN, &n), AG_EMAC);
	assert_int_equal(ag_noise_decrypt(&early, m2, n2, got, BUFLEN, &n), AG_EMAC);
	/* A message reflected back to its sender does not decrypt either. */
	assert_int_equal(ag_noise_decrypt(&p.i_recv, m1, n1, got, BUFLEN, &n), AG_EMAC);
	ag_noise_cs_clear(&early);
	pair_free(&p);
}

static void test_nonce_exhaustion(void **state)
{
	uint8_t msg[64];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	pair_handshake(&p);
	ag_noise_cs_set_nonce(&p.i_send, UINT64_MAX - 1);
	ag_noise_cs_set_nonce(&p.r_recv, UINT64_MAX - 1);
	roundtrip(&p.i_send, &p.r_recv, 10);
	/* 2^64 - 1 itself is reserved. */
	assert_int_equal(ag_noise_encrypt(&p.i_send, msg, 10, msg, sizeof(msg), &n), AG_ENONCE);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, msg, 26, got, BUFLEN, &n), AG_ENONCE);
	assert_int_equal(ag_noise_encrypt(&p.i_send, msg, 10, msg, sizeof(msg), &n), AG_ENONCE);
	pair_free(&p);
}

static void test_sizes(void **state)
{
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	memset(want_pay, 'p', BUFLEN);
	/* Refusals before any change leave the handshake as it was. */
	assert_int_equal(
	    ag_noise_write_message(p.i, want_pay, AG_NOISE_MAX_MSG - IK_MSG1 + 1, out, BUFLEN, &n),
	    AG_ETOOBIG);
	assert_int_equal(ag_noise_write_message(p.i, NULL, 0, out, IK_MSG1 - 1, &n), AG_EINVAL);
	assert_int_equal(
	    ag_noise_write_message(p.i, want_pay, AG_NOISE_MAX_MSG - IK_MSG1, out, BUFLEN, &n), 0);
	assert_int_equal(n, AG_NOISE_MAX_MSG);
	assert_int_equal(ag_noise_read_message(p.r, out, n, got, n - IK_MSG1 - 1, &n), AG_EINVAL);
	assert_int_equal(ag_noise_read_message(p.r, out, AG_NOISE_MAX_MSG, got, BUFLEN, &n), 0);
	assert_int_equal(n, AG_NOISE_MAX_MSG - IK_MSG1);
	assert_memory_equal(got, want_pay, n);
	n = write_empty(p.r, out);
	read_empty(p.i, out, n);
	assert_int_equal(ag_noise_split(p.i, &p.i_send, &p.i_recv), 0);
	assert_int_equal(ag_noise_split(p.r, &p.r_send, &p.r_recv), 0);

	assert_int_equal(
	    ag_noise_encrypt(&p.i_send, want_pay, AG_NOISE_MAX_PLAIN + 1, out, BUFLEN, &n),
	    AG_ETOOBIG);
	assert_int_equal(ag_noise_encrypt(&p.i_send, want_pay, 10, out, 25, &n), AG_EINVAL);
	roundtrip(&p.i_send, &p.r_recv, 10);
	assert_int_equal(ag_noise_encrypt(&p.i_send, want_pay, 10, out, 26, &n), 0);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, out, n, got, 9, &n), AG_EINVAL);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, out, 26, got, 10, &n), 0);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, out, AG_NOISE_TAG_LEN - 1, got, BUFLEN, &n),
	                 AG_ETRUNC);
	assert_int_equal(ag_noise_decrypt(&p.r_recv, out, 26, got, BUFLEN, &n), AG_ESTATE);
	assert_int_equal(ag_noise_decrypt(&p.i_recv, out, AG_NOISE_MAX_MSG + 1, got, BUFLEN, &n),
	                 AG_ETOOBIG);
	pair_free(&p);
}

static void test_in_place(void **state)
{
	static const uint8_t text[] = "in place, as a connection's buffer wants it";
	uint8_t buf[128];
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	pair_handshake(&p);
	memcpy(buf, text, sizeof(text));
	assert_int_equal(ag_noise_encrypt(&p.r_send, buf, sizeof(text), buf, sizeof(buf), &n), 0);
	assert_memory_not_equal(buf, text, sizeof(text));
	assert_int_equal(ag_noise_decrypt(&p.i_recv, buf, n, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, sizeof(text));
	assert_memory_equal(buf, text, sizeof(text));
	pair_free(&p);
}

/* Calls out of turn are refused and harm nothing. */
static void test_order(void **state)
{
	uint8_t msg[128], e[32] = {9};
	struct ag_noise_cs a, b;
	struct pair p;
	size_t n;

	(void)state;
	pair_new(&p, 0, "agora/1");
	assert_int_equal(ag_noise_write_message(p.r, NULL, 0, msg, 128, &n), AG_ESTATE);
	assert_int_equal(ag_noise_read_message(p.i, msg, IK_MSG2, got, BUFLEN, &n), AG_ESTATE);
	assert_int_equal(ag_noise_split(p.i, &a, &b), AG_ESTATE);
	n = write_empty(p.i, msg);
	assert_int_equal(ag_noise_set_ephemeral(p.i, e), AG_ESTATE);
	assert_int_equal(ag_noise_write_message(p.i, NULL, 0, msg, 128, &n), AG_ESTATE);
	read_empty(p.r, msg, IK_MSG1);
	assert_int_equal(ag_noise_read_message(p.r, msg, IK_MSG1, got, BUFLEN, &n), AG_ESTATE);
	n = write_empty(p.r, msg);
	read_empty(p.i, msg, n);
	assert_int_equal(ag_noise_write_message(p.i, NULL, 0, msg, 128, &n), AG_ESTATE);
	assert_int_equal(ag_noise_split(p.i, &p.i_send, &p.i_recv), 0);
	assert_int_equal(ag_noise_split(p.i, &a, &b), AG_ESTATE);

	ag_noise_cs_clear(&a);
	assert_int_equal(ag_noise_encrypt(&a, msg, 1, out, BUFLEN, &n), AG_ESTATE);
	assert_int_equal(ag_noise_decrypt(&a, msg, 17, out, BUFLEN, &n), AG_ESTATE);
	pair_free(&p);
}

static void test_new_checks_keys(void **state)
{
	uint8_t k[32] = {7};
	struct ag_noise_hs *hs = (struct ag_noise_hs *)k; /* not NULL, to see it cleared */

	(void)state;
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_NN, 1, NULL, 0, k, NULL), AG_EINVAL);
	assert_null(hs);
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_XX, 0, NULL, 0, NULL, NULL), AG_EINVAL);
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_XX, 1, NULL, 0, k, k), AG_EINVAL);
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_IK, 1, NULL, 0, k, NULL), AG_EINVAL);
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_IK, 0, NULL, 0, k, k), AG_EINVAL);
	assert_int_equal(ag_noise_hs_new(&hs, (enum ag_noise_pattern)7, 1, NULL, 0, k, k),
	                 AG_EINVAL);
	assert_null(ag_noise_protocol_name((enum ag_noise_pattern)7));
	assert_int_equal(ag_noise_hs_new(&hs, AG_NOISE_NN, 1, NULL, 0, NULL, NULL), 0);
	ag_noise_hs_free(hs);
	ag_noise_hs_free(NULL);
}

/* Node identities are Ed25519; their Noise keys are the X25519 forms of them. */
static void test_ed25519_keys(void **state)
{
	uint8_t ed_pk_i[AG_PK_LEN], ed_sk_i[AG_SK_LEN], ed_pk_r[AG_PK_LEN], ed_sk_r[AG_SK_LEN];
	uint8_t x_sk_i[32], x_pk_i[32], x_sk_r[32], x_pk_r[32], x[32], msg[128], zero[32] = {0};
	struct ag_noise_hs *i, *r;
	size_t n;

	(void)state;
	ag_key_generate(ed_pk_i, ed_sk_i);
	ag_key_generate(ed_pk_r, ed_sk_r);
	assert_int_equal(ag_noise_key_from_ed25519(x_sk_i, x_pk_i, ed_sk_i), 0);
	assert_int_equal(ag_noise_key_from_ed25519(x_sk_r, x_pk_r, ed_sk_r), 0);
	assert_int_equal(ag_noise_pk_from_ed25519(x, zero), AG_EKEY);
	assert_int_equal(ag_noise_pk_from_ed25519(x, ed_pk_i), 0);
	assert_memory_equal(x, x_pk_i, 32);
	assert_int_equal(ag_noise_pk_from_ed25519(x, ed_pk_r), 0);
	assert_memory_equal(x, x_pk_r, 32);

	/* The initiator knows the responder by its Ed25519 ID alone. */
	assert_int_equal(ag_noise_hs_new(&i, AG_NOISE_IK, 1, NULL, 0, x_sk_i, x), 0);
	assert_int_equal(ag_noise_hs_new(&r, AG_NOISE_IK, 0, NULL, 0, x_sk_r, NULL), 0);
	n = write_empty(i, msg);
	read_empty(r, msg, n);
	assert_int_equal(ag_noise_remote_static(r, x), 0);
	assert_memory_equal(x, x_pk_i, 32);
	ag_noise_hs_free(i);
	ag_noise_hs_free(r);
}

/* The way back from a Noise key: the Ed25519 key that made it is one of two candidates. */
static void test_ed25519_candidates(void **state)
{
	uint8_t pk[32], sk[64], x_pk[32], ed[2][32], junk[32];

	(void)state;
	for (int i = 0; i < 200; i++) {
		crypto_sign_keypair(pk, sk);
		assert_int_equal(ag_noise_pk_from_ed25519(x_pk, pk), 0);
		assert_int_equal(ag_noise_ed25519_candidates(ed, x_pk), 2);
		assert_true(memcmp(ed[0], pk, 32) == 0 || memcmp(ed[1], pk, 32) == 0);
		assert_memory_equal(ed[0], ed[1], 31); /* the same y, the sign of x apart */
		assert_int_not_equal(ed[0][31], ed[1][31]);
	}
	/* u = -1 has no y; u = 0 and 1 are of small order: no candidate. */
	memset(junk, 0xff, 32);
	junk[0] = 0xec;
	junk[31] = 0x7f;
	assert_int_equal(ag_noise_ed25519_candidates(ed, junk), 0);
	memset(junk, 0, 32);
	assert_int_equal(ag_noise_ed25519_candidates(ed, junk), 0);
	junk[0] = 1;
	assert_int_equal(ag_noise_ed25519_candidates(ed, junk), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_ed25519_candidates),
	    cmocka_unit_test(test_ik_responder_learns_initiator),
	    cmocka_unit_test(test_ik_transport),
	    cmocka_unit_test(test_handshake_tamper),
	    cmocka_unit_test(test_handshake_length),
	    cmocka_unit_test(test_low_order_ephemeral),
	    cmocka_unit_test(test_wrong_prologue),
	    cmocka_unit_test(test_wrong_responder_key),
	    cmocka_unit_test(test_transport_tamper),
	    cmocka_unit_test(test_replay_and_reorder),
	    cmocka_unit_test(test_nonce_exhaustion),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_in_place),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_new_checks_keys),
	    cmocka_unit_test(test_ed25519_keys),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
