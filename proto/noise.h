/*
 * noise.h: the Noise Protocol Framework (revision 34) with 25519, ChaChaPoly
 * and BLAKE2b. agora speaks Noise_IK_25519_ChaChaPoly_BLAKE2b; NN and XX are
 * here so the published test vectors of all three patterns hold the code to
 * the specification. No I/O: bytes in, bytes out.
 */
#ifndef AGORA_NOISE_H
#define AGORA_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AG_NOISE_KEY_LEN   32    /* X25519 keys, ChaChaPoly keys */
#define AG_NOISE_HASH_LEN  64    /* BLAKE2b: the handshake hash */
#define AG_NOISE_TAG_LEN   16    /* Poly1305 */
#define AG_NOISE_MAX_MSG   65535 /* any Noise message, handshake or transport */
#define AG_NOISE_MAX_PLAIN (AG_NOISE_MAX_MSG - AG_NOISE_TAG_LEN)

enum ag_noise_pattern {
	AG_NOISE_NN, /* -> e; <- e, ee */
	AG_NOISE_XX, /* -> e; <- e, ee, s, es; -> s, se */
	AG_NOISE_IK  /* <- s ...; -> e, es, s, ss; <- e, ee, se */
};

/*
 * One direction of a transport: Noise's CipherState. Embedded by its owner,
 * filled by ag_noise_split, wiped by ag_noise_cs_clear. The fields are
 * private: a reused nonce would give away the plaintexts.
 */
struct ag_noise_cs {
	uint8_t k[AG_NOISE_KEY_LEN];
	uint64_t n;
	int state; /* empty, keyed, or dead after a failure */
};

struct ag_noise_hs; /* opaque: Noise's HandshakeState */

/* "Noise_IK_25519_ChaChaPoly_BLAKE2b" and so on; NULL for an unknown pattern. */
const char *ag_noise_protocol_name(enum ag_noise_pattern p);

/*
 * A new handshake in *hsp. s_sk is our X25519 private key, required by the
 * patterns that send s (XX, IK) and NULL otherwise; rs is the peer's X25519
 * public key, required by the IK initiator and NULL otherwise. The prologue
 * is copied into the hash; ag_init() must have run. AG_EINVAL for a key
 * given or missing against the pattern, AG_ENOMEM, AG_EKEY.
 */
int ag_noise_hs_new(struct ag_noise_hs **hsp, enum ag_noise_pattern p, int initiator,
                    const uint8_t *prologue, size_t prologue_len, const uint8_t *s_sk,
                    const uint8_t *rs) AG_WUR;

/* Wipes every key and hash of the handshake, then frees it. NULL-safe. */
void ag_noise_hs_free(struct ag_noise_hs *hs);

/*
 * Writes our next handshake message, carrying payload, to out[0..cap) and its
 * length to *outlen; out must not overlap payload. AG_ESTATE when it is not
 * our turn, AG_ETOOBIG over AG_NOISE_MAX_MSG, AG_EINVAL when cap is short:
 * those leave the handshake as it was. Any other failure kills it: every
 * later call gives AG_ESTATE.
 */
int ag_noise_write_message(struct ag_noise_hs *hs, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t cap, size_t *outlen) AG_WUR;

/*
 * Reads the peer's next handshake message; its payload goes to
 * payload[0..cap), its length to *plen. payload must not overlap in.
 * AG_ESTATE when it is not the peer's turn and AG_EINVAL when cap is short
 * leave the handshake as it was; a message that fails (AG_ETRUNC, AG_ETOOBIG,
 * AG_EMAC, AG_EKEY) kills it, since a peer gets one try.
 */
int ag_noise_read_message(struct ag_noise_hs *hs, const uint8_t *in, size_t len, uint8_t *payload,
                          size_t cap, size_t *plen) AG_WUR;

/* 1 when every message of the pattern has gone through, else 0. */
int ag_noise_hs_done(const struct ag_noise_hs *hs);

/*
 * The peer's X25519 static key, once known: for the IK responder, right
 * after message 1, so it can close without a byte if the key is not allowed.
 * AG_ESTATE before.
 */
int ag_noise_remote_static(const struct ag_noise_hs *hs,
                           uint8_t out[static AG_NOISE_KEY_LEN]) AG_WUR;

/* The handshake hash h, for channel binding; AG_ESTATE until done. */
int ag_noise_handshake_hash(const struct ag_noise_hs *hs,
                            uint8_t out[static AG_NOISE_HASH_LEN]) AG_WUR;

/*
 * Once done, derives the two transport ciphers, ours to send and the peer's
 * to receive, and wipes the chaining key and the handshake's private keys.
 * Once only: AG_ESTATE before done or the second time.
 */
int ag_noise_split(struct ag_noise_hs *hs, struct ag_noise_cs *send,
                   struct ag_noise_cs *recv) AG_WUR;

/*
 * Encrypts one transport message: out[0..cap) receives len + AG_NOISE_TAG_LEN
 * bytes; out may be the plaintext itself. The associated data is empty, as
 * Noise's transport phase has it. AG_ETOOBIG over AG_NOISE_MAX_PLAIN,
 * AG_EINVAL when cap is short, AG_ENONCE when the 2^64 - 1 nonces are spent,
 * AG_ESTATE for a cipher that is not keyed.
 */
int ag_noise_encrypt(struct ag_noise_cs *cs, const uint8_t *plain, size_t len, uint8_t *out,
                     size_t cap, size_t *outlen) AG_WUR;

/*
 * Decrypts one transport message into out[0..cap), which may be in itself.
 * A message that fails (AG_EMAC, AG_ETRUNC, AG_ETOOBIG) wipes the cipher, and
 * every later call gives AG_ESTATE: on a stream a lost, replayed or forged
 * message ends the session, and nothing may be tried after it. AG_EINVAL when
 * cap is short and AG_ENONCE leave the cipher as it was.
 */
int ag_noise_decrypt(struct ag_noise_cs *cs, const uint8_t *in, size_t len, uint8_t *out,
                     size_t cap, size_t *outlen) AG_WUR;

/* Wipes the cipher; it can be used again only after another split. */
void ag_noise_cs_clear(struct ag_noise_cs *cs);

/*
 * The Noise static key pair of a node, from its Ed25519 identity (DESIGN.md,
 * "Identity and keys"): x_sk from ed_sk (libsodium's 64-byte form), x_pk
 * computed from x_sk. AG_EKEY if libsodium refuses the key.
 */
int ag_noise_key_from_ed25519(uint8_t x_sk[static AG_NOISE_KEY_LEN],
                              uint8_t x_pk[static AG_NOISE_KEY_LEN],
                              const uint8_t ed_sk[static 64]) AG_WUR;

/*
 * The X25519 public key of a peer's Ed25519 ID, to give an IK initiator as rs
 * or to compare with ag_noise_remote_static. AG_EKEY if ed_pk is not a
 * valid point of prime order.
 */
int ag_noise_pk_from_ed25519(uint8_t x_pk[static AG_NOISE_KEY_LEN],
                             const uint8_t ed_pk[static AG_NOISE_KEY_LEN]) AG_WUR;

/*
 * The way back, as far as it goes: the Ed25519 public keys whose Noise key is
 * x_pk. The Montgomery u gives the Edwards y, but not the sign of x, so a
 * valid key has two candidates, y with the sign bit clear and set (the
 * responder of IK learns only x_pk, so this is all it can say of a stranger).
 * Returns how many candidates were written to ed (2, or 0 for no valid key).
 */
size_t ag_noise_ed25519_candidates(uint8_t ed[2][AG_NOISE_KEY_LEN],
                                   const uint8_t x_pk[static AG_NOISE_KEY_LEN]);

/*
 * For test vectors and tests only; a node never calls these. The first fixes
 * the ephemeral private key before the message that sends it (AG_ESTATE once
 * an ephemeral exists); the second moves a cipher's nonce, to reach the end
 * of the nonce space.
 */
int ag_noise_set_ephemeral(struct ag_noise_hs *hs,
                           const uint8_t e_sk[static AG_NOISE_KEY_LEN]) AG_WUR;
void ag_noise_cs_set_nonce(struct ag_noise_cs *cs, uint64_t n);

#endif
