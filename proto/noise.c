/*
 * noise.c: the Noise Protocol Framework, revision 34, for 25519, ChaChaPoly
 * and BLAKE2b, on libsodium. The objects and names follow the specification,
 * section 5: CipherState (cs_), SymmetricState (ss_), HandshakeState (hs_).
 * MixKeyAndHash and the three-output HKDF serve only psk patterns, which
 * agora does not use, so they are left out.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"

#define HASHLEN  64
#define BLOCKLEN 128
#define DHLEN    32
#define KEYLEN   32
#define TAGLEN   16

enum { CS_EMPTY, CS_KEYED, CS_DEAD };

/* The tokens of section 7; T_END closes a message pattern. */
enum token { T_END, T_E, T_S, T_EE, T_ES, T_SE, T_SS };

#define MAX_MSGS   3
#define MAX_TOKENS 4

struct pattern {
	const char *name;
	int pre_resp_s; /* "<- s" before the first message: the initiator knows rs */
	int msgs;
	uint8_t tokens[MAX_MSGS][MAX_TOKENS + 1];
};

/* One line per message, as the specification writes the patterns. */
/* clang-format off */
static const struct pattern patterns[] = {
	[AG_NOISE_NN] = {"Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, 2, {
		{T_E},				/* -> e */
		{T_E, T_EE},			/* <- e, ee */
	}},
	[AG_NOISE_XX] = {"Noise_XX_25519_ChaChaPoly_BLAKE2b", 0, 3, {
		{T_E},				/* -> e */
		{T_E, T_EE, T_S, T_ES},		/* <- e, ee, s, es */
		{T_S, T_SE},			/* -> s, se */
	}},
	[AG_NOISE_IK] = {"Noise_IK_25519_ChaChaPoly_BLAKE2b", 1, 2, {
						/* <- s, then: */
		{T_E, T_ES, T_S, T_SS},		/* -> e, es, s, ss */
		{T_E, T_EE, T_SE},		/* <- e, ee, se */
	}},
};
/* clang-format on */

struct symmetric {
	struct ag_noise_cs cs;
	uint8_t ck[HASHLEN];
	uint8_t h[HASHLEN];
};

struct ag_noise_hs {
	struct symmetric ss;
	const struct pattern *pat;
	int initiator;
	int msg; /* index of the next message of the pattern */
	int dead;
	int split;
	int has_e, has_rs;
	uint8_t s[DHLEN], s_pub[DHLEN];
	uint8_t e[DHLEN], e_pub[DHLEN];
	uint8_t rs[DHLEN], re[DHLEN];
};

/* --- CipherState --- */

static void cs_init_key(struct ag_noise_cs *cs, const uint8_t k[KEYLEN])
{
	memcpy(cs->k, k, KEYLEN);
	cs->n = 0;
	cs->state = CS_KEYED;
}

static void cs_kill(struct ag_noise_cs *cs)
{
	sodium_memzero(cs, sizeof(*cs));
	cs->state = CS_DEAD;
}

/* ChaChaPoly's nonce: 32 bits of zeros, then n in little-endian. */
static void cs_nonce(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptWithAd: out receives len + TAGLEN bytes. 2^64 - 1 is reserved. */
static int cs_encrypt(struct ag_noise_cs *cs, const uint8_t *ad, size_t adlen, const uint8_t *plain,
                      size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (cs->state != CS_KEYED)
		return AG_ESTATE;
	if (cs->n == UINT64_MAX)
		return AG_ENONCE;
	cs_nonce(nonce, cs->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad, adlen, NULL, nonce,
	                                          cs->k);
	cs->n++;
	return 0;
}

/*
 * DecryptWithAd: out receives len - TAGLEN bytes. libsodium checks the tag
 * before it writes a byte, so a forgery leaves out untouched.
 */
static int cs_decrypt(struct ag_noise_cs *cs, const uint8_t *ad, size_t adlen, const uint8_t *in,
                      size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (cs->state != CS_KEYED)
		return AG_ESTATE;
	if (cs->n == UINT64_MAX)
		return AG_ENONCE;
	if (len < TAGLEN)
		return AG_ETRUNC;
	cs_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, ad, adlen, nonce,
	                                              cs->k) != 0)
		return AG_EMAC;
	cs->n++;
	return 0;
}

/* --- HASH, HMAC and HKDF over BLAKE2b (section 4.3) --- */

static void hash_update(crypto_generichash_blake2b_state *st, const uint8_t *p, size_t len)
{
	if (len > 0)
		crypto_generichash_blake2b_update(st, p, len);
}

/* The HMAC key block: key (always HASHLEN here) padded to BLOCKLEN, xored with pad. */
static void hmac_block(uint8_t block[BLOCKLEN], const uint8_t key[HASHLEN], uint8_t pad)
{
	memset(block, pad, BLOCKLEN);
	for (size_t i = 0; i < HASHLEN; i++)
		block[i] ^= key[i];
}

/*
 * HMAC-HASH of RFC 2104 over a || b, built on plain BLAKE2b as section 4.3
 * asks; BLAKE2b's own keyed mode would give other bytes.
 */
static void hmac(uint8_t out[HASHLEN], const uint8_t key[HASHLEN], const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen)
{
	crypto_generichash_blake2b_state st;
	uint8_t block[BLOCKLEN], inner[HASHLEN];

	hmac_block(block, key, 0x36);
	crypto_generichash_blake2b_init(&st, NULL, 0, HASHLEN);
	hash_update(&st, block, BLOCKLEN);
	hash_update(&st, a, alen);
	hash_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, inner, HASHLEN);

	hmac_block(block, key, 0x5c);
	crypto_generichash_blake2b_init(&st, NULL, 0, HASHLEN);
	hash_update(&st, block, BLOCKLEN);
	hash_update(&st, inner, HASHLEN);
	crypto_generichash_blake2b_final(&st, out, HASHLEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
}

/* HKDF with two outputs; out1 may be ck itself, as MixKey wants. */
static void hkdf2(uint8_t out1[HASHLEN], uint8_t out2[HASHLEN], const uint8_t ck[HASHLEN],
                  const uint8_t *ikm, size_t len)
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t temp[HASHLEN];

	hmac(temp, ck, ikm, len, NULL, 0);
	hmac(out1, temp, &one, 1, NULL, 0);
	hmac(out2, temp, out1, HASHLEN, &two, 1);
	sodium_memzero(temp, sizeof(temp));
}

/* --- SymmetricState --- */

static void ss_init(struct symmetric *ss, const char *name)
{
	size_t len = strlen(name);

	/* Every name here fits in HASHLEN, so h is the name padded with zeros. */
	memset(ss, 0, sizeof(*ss));
	memcpy(ss->h, name, len < HASHLEN ? len : HASHLEN);
	memcpy(ss->ck, ss->h, HASHLEN);
	ss->cs.state = CS_EMPTY;
}

static void ss_mix_key(struct symmetric *ss, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[HASHLEN];

	hkdf2(ss->ck, temp_k, ss->ck, ikm, len);
	cs_init_key(&ss->cs, temp_k); /* truncated to KEYLEN */
	sodium_memzero(temp_k, sizeof(temp_k));
}

/* h' = HASH(h || data), into out, which may be h. */
static void ss_hash_into(const struct symmetric *ss, uint8_t out[HASHLEN], const uint8_t *data,
                         size_t len)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, HASHLEN);
	hash_update(&st, ss->h, HASHLEN);
	hash_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, out, HASHLEN);
	sodium_memzero(&st, sizeof(st));
}

static void ss_mix_hash(struct symmetric *ss, const uint8_t *data, size_t len)
{
	ss_hash_into(ss, ss->h, data, len);
}

/* Before the first DH there is no key, and the plaintext goes as it is. */
static int ss_encrypt_and_hash(struct symmetric *ss, const uint8_t *plain, size_t len, uint8_t *out,
                               size_t *outlen)
{
	int rc;

	if (ss->cs.state == CS_EMPTY) {
		if (len > 0)
			memmove(out, plain, len);
		*outlen = len;
	} else {
		if ((rc = cs_encrypt(&ss->cs, ss->h, HASHLEN, plain, len, out)) != 0)
			return rc;
		*outlen = len + TAGLEN;
	}
	ss_mix_hash(ss, out, *outlen);
	return 0;
}

/* The new h is taken from the ciphertext before out, which may alias it, is written. */
static int ss_decrypt_and_hash(struct symmetric *ss, const uint8_t *in, size_t len, uint8_t *out,
                               size_t *outlen)
{
	uint8_t h[HASHLEN];
	int rc = 0;

	ss_hash_into(ss, h, in, len);
	if (ss->cs.state == CS_EMPTY) {
		if (len > 0)
			memmove(out, in, len);
		*outlen = len;
	} else {
		rc = cs_decrypt(&ss->cs, ss->h, HASHLEN, in, len, out);
		*outlen = len - TAGLEN;
	}
	if (rc == 0)
		memcpy(ss->h, h, HASHLEN);
	sodium_memzero(h, sizeof(h));
	return rc;
}

static void ss_split(struct symmetric *ss, struct ag_noise_cs *c1, struct ag_noise_cs *c2)
{
	uint8_t k1[HASHLEN], k2[HASHLEN];

	hkdf2(k1, k2, ss->ck, NULL, 0);
	cs_init_key(c1, k1);
	cs_init_key(c2, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
}

/* --- HandshakeState --- */

const char *ag_noise_protocol_name(enum ag_noise_pattern p)
{
	if ((unsigned)p >= sizeof(patterns) / sizeof(patterns[0]))
		return NULL;
	return patterns[p].name;
}

/* Keeps only h, which outlives the handshake as its hash. */
static void hs_wipe_secrets(struct ag_noise_hs *hs)
{
	sodium_memzero(&hs->ss.cs, sizeof(hs->ss.cs));
	sodium_memzero(hs->ss.ck, sizeof(hs->ss.ck));
	sodium_memzero(hs->s, sizeof(hs->s));
	sodium_memzero(hs->e, sizeof(hs->e));
}

static int hs_kill(struct ag_noise_hs *hs, int rc)
{
	hs_wipe_secrets(hs);
	sodium_memzero(hs->ss.h, sizeof(hs->ss.h));
	hs->dead = 1;
	return rc;
}

/* A side needs a static key if it sends s, or if the peer knows it beforehand. */
static int pattern_needs_s(const struct pattern *pat, int initiator)
{
	if (pat->pre_resp_s && !initiator)
		return 1;
	for (int m = initiator ? 0 : 1; m < pat->msgs; m += 2)
		if (memchr(pat->tokens[m], T_S, MAX_TOKENS))
			return 1;
	return 0;
}

static int hs_check_keys(const struct pattern *pat, int initiator, const uint8_t *s_sk,
                         const uint8_t *rs)
{
	if (pattern_needs_s(pat, initiator) != (s_sk != NULL))
		return AG_EINVAL;
	if ((pat->pre_resp_s && initiator) != (rs != NULL))
		return AG_EINVAL;
	return 0;
}

/* Section 5.3, Initialize(): the name, the prologue, then the pre-message "<- s". */
static void hs_start(struct ag_noise_hs *hs, const uint8_t *prologue, size_t prologue_len)
{
	ss_init(&hs->ss, hs->pat->name);
	ss_mix_hash(&hs->ss, prologue, prologue_len);
	if (hs->pat->pre_resp_s)
		ss_mix_hash(&hs->ss, hs->initiator ? hs->rs : hs->s_pub, DHLEN);
}

int ag_noise_hs_new(struct ag_noise_hs **hsp, enum ag_noise_pattern p, int initiator,
                    const uint8_t *prologue, size_t prologue_len, const uint8_t *s_sk,
                    const uint8_t *rs)
{
	struct ag_noise_hs *hs;
	int rc;

	*hsp = NULL;
	if (!ag_noise_protocol_name(p))
		return AG_EINVAL;
	if ((rc = hs_check_keys(&patterns[p], initiator, s_sk, rs)) != 0)
		return rc;
	if (!(hs = calloc(1, sizeof(*hs))))
		return AG_ENOMEM;
	hs->pat = &patterns[p];
	hs->initiator = initiator != 0;
	if (s_sk) {
		memcpy(hs->s, s_sk, DHLEN);
		if (crypto_scalarmult_base(hs->s_pub, hs->s) != 0) {
			ag_noise_hs_free(hs);
			return AG_EKEY;
		}
	}
	if (rs) {
		memcpy(hs->rs, rs, DHLEN);
		hs->has_rs = 1;
	}
	hs_start(hs, prologue, prologue_len);
	*hsp = hs;
	return 0;
}

void ag_noise_hs_free(struct ag_noise_hs *hs)
{
	if (!hs)
		return;
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
}

int ag_noise_set_ephemeral(struct ag_noise_hs *hs, const uint8_t e_sk[static AG_NOISE_KEY_LEN])
{
	if (hs->dead || hs->has_e)
		return AG_ESTATE;
	memcpy(hs->e, e_sk, DHLEN);
	if (crypto_scalarmult_base(hs->e_pub, hs->e) != 0) {
		sodium_memzero(hs->e, DHLEN);
		return AG_EKEY;
	}
	hs->has_e = 1;
	return 0;
}

static int hs_new_ephemeral(struct ag_noise_hs *hs)
{
	if (hs->has_e)
		return 0;
	randombytes_buf(hs->e, DHLEN);
	if (crypto_scalarmult_base(hs->e_pub, hs->e) != 0)
		return AG_EKEY;
	hs->has_e = 1;
	return 0;
}

/* DH(sk, pk) into MixKey; an all-zero result (a low-order pk) is refused. */
static int hs_mix_dh(struct ag_noise_hs *hs, const uint8_t sk[DHLEN], const uint8_t pk[DHLEN])
{
	uint8_t shared[DHLEN];
	int rc = AG_EKEY;

	if (crypto_scalarmult(shared, sk, pk) == 0) {
		ss_mix_key(&hs->ss, shared, DHLEN);
		rc = 0;
	}
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

/* The DH tokens name the initiator's key first: "es" is e of the initiator, s of the responder. */
static int hs_token_dh(struct ag_noise_hs *hs, enum token t)
{
	switch (t) {
	case T_EE: /* ee */
		return hs_mix_dh(hs, hs->e, hs->re);
	case T_ES: /* es */
		return hs->initiator ? hs_mix_dh(hs, hs->e, hs->rs) : hs_mix_dh(hs, hs->s, hs->re);
	case T_SE: /* se */
		return hs->initiator ? hs_mix_dh(hs, hs->s, hs->re) : hs_mix_dh(hs, hs->e, hs->rs);
	case T_SS: /* ss */
		return hs_mix_dh(hs, hs->s, hs->rs);
	default:
		return AG_ESTATE;
	}
}

/*
 * The bytes of the current message besides the payload: 32 per e, 32 per s
 * (and a tag once a DH has keyed the cipher), and the payload's tag.
 */
static size_t hs_overhead(const struct ag_noise_hs *hs)
{
	const uint8_t *t = hs->pat->tokens[hs->msg];
	int keyed = hs->ss.cs.state == CS_KEYED;
	size_t n = 0;

	for (; *t != T_END; t++) {
		if (*t == T_E)
			n += DHLEN;
		else if (*t == T_S)
			n += DHLEN + (keyed ? TAGLEN : 0);
		else
			keyed = 1;
	}
	return n + (keyed ? TAGLEN : 0);
}

/* Whether the next message is ours to write (writing) or the peer's (reading). */
static int hs_check_turn(const struct ag_noise_hs *hs, int writing)
{
	int initiator_sends = hs->msg % 2 == 0;

	if (hs->dead || hs->msg >= hs->pat->msgs)
		return AG_ESTATE;
	if ((initiator_sends == hs->initiator) != writing)
		return AG_ESTATE;
	return 0;
}

static int hs_write_token(struct ag_noise_hs *hs, enum token t, uint8_t *out, size_t *off)
{
	size_t n;
	int rc;

	switch (t) {
	case T_E: /* e */
		if ((rc = hs_new_ephemeral(hs)) != 0)
			return rc;
		memcpy(out + *off, hs->e_pub, DHLEN);
		ss_mix_hash(&hs->ss, hs->e_pub, DHLEN);
		*off += DHLEN;
		return 0;
	case T_S: /* s */
		rc = ss_encrypt_and_hash(&hs->ss, hs->s_pub, DHLEN, out + *off, &n);
		*off += n;
		return rc;
	default:
		return hs_token_dh(hs, t);
	}
}

int ag_noise_write_message(struct ag_noise_hs *hs, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t cap, size_t *outlen)
{
	const uint8_t *t;
	size_t need, off = 0, n;
	int rc;

	if ((rc = hs_check_turn(hs, 1)) != 0)
		return rc;
	need = hs_overhead(hs) + len;
	if (len > AG_NOISE_MAX_MSG || need > AG_NOISE_MAX_MSG)
		return AG_ETOOBIG;
	if (need > cap)
		return AG_EINVAL;
	for (t = hs->pat->tokens[hs->msg]; *t != T_END; t++)
		if ((rc = hs_write_token(hs, *t, out, &off)) != 0)
			return hs_kill(hs, rc);
	if ((rc = ss_encrypt_and_hash(&hs->ss, payload, len, out + off, &n)) != 0)
		return hs_kill(hs, rc);
	*outlen = off + n;
	hs->msg++;
	return 0;
}

static int hs_read_token(struct ag_noise_hs *hs, enum token t, const uint8_t *in, size_t *off)
{
	size_t len, n;
	int rc;

	switch (t) {
	case T_E: /* e */
		memcpy(hs->re, in + *off, DHLEN);
		ss_mix_hash(&hs->ss, hs->re, DHLEN);
		*off += DHLEN;
		return 0;
	case T_S: /* s */
		len = DHLEN + (hs->ss.cs.state == CS_KEYED ? TAGLEN : 0);
		if ((rc = ss_decrypt_and_hash(&hs->ss, in + *off, len, hs->rs, &n)) != 0)
			return rc;
		hs->has_rs = 1;
		*off += len;
		return 0;
	default:
		return hs_token_dh(hs, t);
	}
}

int ag_noise_read_message(struct ag_noise_hs *hs, const uint8_t *in, size_t len, uint8_t *payload,
                          size_t cap, size_t *plen)
{
	const uint8_t *t;
	size_t over, off = 0;
	int rc;

	if ((rc = hs_check_turn(hs, 0)) != 0)
		return rc;
	over = hs_overhead(hs);
	if (len > AG_NOISE_MAX_MSG)
		return hs_kill(hs, AG_ETOOBIG);
	if (len < over)
		return hs_kill(hs, AG_ETRUNC);
	if (len - over > cap)
		return AG_EINVAL;
	for (t = hs->pat->tokens[hs->msg]; *t != T_END; t++)
		if ((rc = hs_read_token(hs, *t, in, &off)) != 0)
			return hs_kill(hs, rc);
	if ((rc = ss_decrypt_and_hash(&hs->ss, in + off, len - off, payload, plen)) != 0)
		return hs_kill(hs, rc);
	hs->msg++;
	return 0;
}

int ag_noise_hs_done(const struct ag_noise_hs *hs)
{
	return !hs->dead && hs->msg == hs->pat->msgs;
}

int ag_noise_remote_static(const struct ag_noise_hs *hs, uint8_t out[static AG_NOISE_KEY_LEN])
{
	if (hs->dead || !hs->has_rs)
		return AG_ESTATE;
	memcpy(out, hs->rs, DHLEN);
	return 0;
}

int ag_noise_handshake_hash(const struct ag_noise_hs *hs, uint8_t out[static AG_NOISE_HASH_LEN])
{
	if (!ag_noise_hs_done(hs))
		return AG_ESTATE;
	memcpy(out, hs->ss.h, HASHLEN);
	return 0;
}

/* The initiator sends with the first cipher of Split(), the responder with the second. */
int ag_noise_split(struct ag_noise_hs *hs, struct ag_noise_cs *send, struct ag_noise_cs *recv)
{
	if (!ag_noise_hs_done(hs) || hs->split)
		return AG_ESTATE;
	if (hs->initiator)
		ss_split(&hs->ss, send, recv);
	else
		ss_split(&hs->ss, recv, send);
	hs_wipe_secrets(hs);
	hs->split = 1;
	return 0;
}

/* --- Transport --- */

int ag_noise_encrypt(struct ag_noise_cs *cs, const uint8_t *plain, size_t len, uint8_t *out,
                     size_t cap, size_t *outlen)
{
	int rc;

	if (len > AG_NOISE_MAX_PLAIN)
		return AG_ETOOBIG;
	if (cap < len + TAGLEN)
		return AG_EINVAL;
	if ((rc = cs_encrypt(cs, NULL, 0, plain, len, out)) != 0)
		return rc;
	*outlen = len + TAGLEN;
	return 0;
}

int ag_noise_decrypt(struct ag_noise_cs *cs, const uint8_t *in, size_t len, uint8_t *out,
                     size_t cap, size_t *outlen)
{
	int rc;

	if (cs->state != CS_KEYED)
		return AG_ESTATE;
	if (len >= TAGLEN && cap < len - TAGLEN)
		return AG_EINVAL;
	if (len > AG_NOISE_MAX_MSG)
		rc = AG_ETOOBIG;
	else
		rc = cs_decrypt(cs, NULL, 0, in, len, out);
	if (rc == AG_ENONCE)
		return rc;
	if (rc != 0) {
		cs_kill(cs);
		return rc;
	}
	*outlen = len - TAGLEN;
	return 0;
}

void ag_noise_cs_clear(struct ag_noise_cs *cs)
{
	sodium_memzero(cs, sizeof(*cs));
	cs->state = CS_EMPTY;
}

void ag_noise_cs_set_nonce(struct ag_noise_cs *cs, uint64_t n)
{
	cs->n = n;
}

/* --- Keys --- */

int ag_noise_key_from_ed25519(uint8_t x_sk[static AG_NOISE_KEY_LEN],
                              uint8_t x_pk[static AG_NOISE_KEY_LEN], const uint8_t ed_sk[static 64])
{
	/* x_pk comes from x_sk, so the pair agrees even if ed_sk's halves do not. */
	if (crypto_sign_ed25519_sk_to_curve25519(x_sk, ed_sk) != 0 ||
	    crypto_scalarmult_base(x_pk, x_sk) != 0) {
		sodium_memzero(x_sk, AG_NOISE_KEY_LEN);
		return AG_EKEY;
	}
	return 0;
}

int ag_noise_pk_from_ed25519(uint8_t x_pk[static AG_NOISE_KEY_LEN],
                             const uint8_t ed_pk[static AG_NOISE_KEY_LEN])
{
	return crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) == 0 ? 0 : AG_EKEY;
}

/* ---- Montgomery u to Edwards y, mod p = 2^255 - 19 (not secret, not constant time) ---- */

struct fe {
	uint64_t v[4]; /* little-endian limbs */
};

static const struct fe fe_p = {
    {0xffffffffffffffedULL, 0xffffffffffffffffULL, 0xffffffffffffffffULL, 0x7fffffffffffffffULL}};

/* a >= b? */
static int fe_ge(const struct fe *a, const struct fe *b)
{
	for (int i = 3; i >= 0; i--)
		if (a->v[i] != b->v[i])
			return a->v[i] > b->v[i];
	return 1;
}

/* r = a - b over 256 bits; the borrow out. */
static uint64_t fe_sub_raw(struct fe *r, const struct fe *a, const struct fe *b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		unsigned __int128 d = (unsigned __int128)a->v[i] - b->v[i] - borrow;

		r->v[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	return borrow;
}

/* r = a + small mod p, for a < p. */
static void fe_add_small(struct fe *r, const struct fe *a, uint64_t small)
{
	unsigned __int128 c = small;

	for (int i = 0; i < 4; i++) {
		c += a->v[i];
		r->v[i] = (uint64_t)c;
		c >>= 64;
	}
	if (fe_ge(r, &fe_p))
		(void)fe_sub_raw(r, r, &fe_p);
}

/* r = a * b mod p (2^256 = 38 mod p), fully reduced. */
static void fe_mul(struct fe *r, const struct fe *a, const struct fe *b)
{
	uint64_t w[8] = {0};
	unsigned __int128 c;

	for (int i = 0; i < 4; i++) {
		c = 0;
		for (int j = 0; j < 4; j++) {
			c += (unsigned __int128)a->v[i] * b->v[j] + w[i + j];
			w[i + j] = (uint64_t)c;
			c >>= 64;
		}
		w[i + 4] = (uint64_t)c;
	}
	c = 0;
	for (int i = 0; i < 4; i++) {
		c += (unsigned __int128)w[i] + (unsigned __int128)38 * w[i + 4];
		r->v[i] = (uint64_t)c;
		c >>= 64;
	}
	while (c) { /* what is left above 2^256, folded again */
		c *= 38;
		for (int i = 0; i < 4; i++) {
			c += r->v[i];
			r->v[i] = (uint64_t)c;
			c >>= 64;
		}
	}
	while (fe_ge(r, &fe_p))
		(void)fe_sub_raw(r, r, &fe_p);
}

/* r = a^(p - 2) = 1/a mod p (0 for 0). */
static void fe_invert(struct fe *r, const struct fe *a)
{
	struct fe e, acc = {{1, 0, 0, 0}};

	(void)fe_sub_raw(&e, &fe_p, &(struct fe){{2, 0, 0, 0}});
	for (int bit = 254; bit >= 0; bit--) {
		fe_mul(&acc, &acc, &acc);
		if ((e.v[bit / 64] >> (bit % 64)) & 1)
			fe_mul(&acc, &acc, a);
	}
	*r = acc;
}

size_t ag_noise_ed25519_candidates(uint8_t ed[2][AG_NOISE_KEY_LEN],
                                   const uint8_t x_pk[static AG_NOISE_KEY_LEN])
{
	struct fe u, num, den, y;
	uint8_t back[AG_NOISE_KEY_LEN];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		u.v[i] = 0;
		for (int k = 7; k >= 0; k--)
			u.v[i] = u.v[i] << 8 | x_pk[8 * i + k];
	}
	u.v[3] &= 0x7fffffffffffffffULL; /* RFC 7748: the top bit is ignored */
	if (fe_ge(&u, &fe_p))
		(void)fe_sub_raw(&u, &u, &fe_p);
	/* y = (u - 1) / (u + 1) */
	if (fe_sub_raw(&num, &u, &(struct fe){{1, 0, 0, 0}}))
		(void)fe_sub_raw(&num, &fe_p, &(struct fe){{1, 0, 0, 0}}); /* u = 0: -1 */
	fe_add_small(&den, &u, 1);
	fe_invert(&den, &den);
	fe_mul(&y, &num, &den);
	for (int sign = 0; sign < 2; sign++) {
		for (int i = 0; i < 32; i++)
			ed[n][i] = (uint8_t)(y.v[i / 8] >> (8 * (i % 8)));
		ed[n][31] |= (uint8_t)(sign << 7);
		/* Only a key that is a valid point and leads back to x_pk is a candidate. */
		if (crypto_sign_ed25519_pk_to_curve25519(back, ed[n]) == 0 &&
		    sodium_memcmp(back, x_pk, sizeof(back)) == 0)
			n++;
	}
	return n;
}
