/* header.c: entry format 2, the signed header decoded strictly and encoded canonically. */
#include <msgpack.h>
#include <sodium.h>
#include <string.h>

#include "entry_internal.h"
#include "header.h"
#include "mp.h"
#include "mp_internal.h"

/* The signature is the last element, bin 8: c4 40 and 64 bytes. */
#define SIG_TAIL (2 + AG_SIG_LEN)

static int read_prev(struct ag_header *h, const uint8_t *buf, size_t len, size_t *pos)
{
	h->has_prev = !ag__mp_take_nil(buf, len, pos);
	if (h->has_prev != (h->seq > 1))
		return AG_ESEQ;
	return h->has_prev ? ag__mp_read_bin_n(buf, len, pos, h->prev, AG_HASH_LEN) : 0;
}

/* Fields 8 and 9: a nil hash exactly when the length is 0. */
static int read_body_ref(struct ag_header *h, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t n;
	int rc;

	h->has_body = !ag__mp_take_nil(buf, len, pos);
	if (h->has_body && (rc = ag__mp_read_bin_n(buf, len, pos, h->body_hash, AG_HASH_LEN)) != 0)
		return rc;
	if ((rc = ag__mp_read_uint(buf, len, pos, &n)) != 0)
		return rc;
	if (n > AG_BODY_MAX)
		return AG_ETOOBIG;
	if ((n == 0) == h->has_body)
		return AG_EBODY;
	h->body_len = (uint32_t)n;
	return 0;
}

/* Fields 0..10 in order; *pos is left at the field that was refused. */
static int read_fields(struct ag_header *h, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t v;
	int rc;

	if ((rc = ag__mp_read_uint(buf, len, pos, &v)) != 0)
		return rc;
	if (v != AG_HEADER_FORMAT)
		return AG_EVERSION;
	if ((rc = ag__mp_read_bin_n(buf, len, pos, h->network, 32)) != 0 ||
	    (rc = ag__mp_read_bin_n(buf, len, pos, h->author, AG_PK_LEN)) != 0 ||
	    (rc = ag__mp_read_uint(buf, len, pos, &h->seq)) != 0)
		return rc;
	if (h->seq == 0)
		return AG_ESEQ;
	if ((rc = read_prev(h, buf, len, pos)) != 0 ||
	    (rc = ag__mp_read_uint(buf, len, pos, &h->timestamp)) != 0 ||
	    (rc = ag__entry_read_type(buf, len, pos, h->type)) != 0 ||
	    (rc = ag__mp_read_str(buf, len, pos, &h->id, &h->id_len)) != 0 ||
	    (rc = ag_recid_check(h->id, h->id_len)) != 0 ||
	    (rc = read_body_ref(h, buf, len, pos)) != 0)
		return rc;
	return ag__mp_read_bin_n(buf, len, pos, h->sig, AG_SIG_LEN);
}

int ag_header_decode(struct ag_header *h, const uint8_t *buf, size_t len, size_t *where)
{
	size_t pos = 0;
	uint64_t n;
	int rc;

	memset(h, 0, sizeof(*h));
	if (len > AG_HEADER_MAX) {
		if (where)
			*where = AG_HEADER_MAX;
		return AG_ETOOBIG;
	}
	/* A header nests nothing: depth 1 is the array itself. */
	if ((rc = ag_mp_check(buf, len, 1, where)) != 0)
		return rc;
	if ((rc = ag__mp_read_array(buf, len, &pos, &n)) != 0 || n != 11 ||
	    (rc = read_fields(h, buf, len, &pos)) != 0) {
		if (where)
			*where = pos;
		return rc != 0 ? rc : AG_ESHAPE;
	}
	h->raw = buf;
	h->raw_len = len;
	return 0;
}

int ag_header_verify(const struct ag_header *h, const uint8_t network[static 32])
{
	uint8_t msg[AG_HEADER_MAX];
	size_t n = h->raw_len - SIG_TAIL;

	if (memcmp(h->network, network, 32) != 0)
		return AG_ENETWORK;
	/* The signed message is fields 0..9 under a 10-element array header. */
	msg[0] = 0x9a;
	memcpy(msg + 1, h->raw + 1, n - 1);
	if (crypto_sign_verify_detached(h->sig, msg, n, h->author) != 0)
		return AG_ESIG;
	return 0;
}

void ag_header_hash(const struct ag_header *h, uint8_t out[static AG_HASH_LEN])
{
	crypto_generichash(out, AG_HASH_LEN, h->raw, h->raw_len, NULL, 0);
}

static bool is_map(uint8_t t)
{
	return (t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf;
}

/* A body on its own: a canonical map, the map being level 1 of an entry's nesting. */
static int body_canonical(const uint8_t *body, size_t len, size_t *where)
{
	if (len > AG_BODY_MAX) {
		if (where)
			*where = AG_BODY_MAX;
		return AG_ETOOBIG;
	}
	if (len == 0 || !is_map(body[0])) {
		if (where)
			*where = 0;
		return len == 0 ? AG_ETRUNC : AG_EBODY;
	}
	return ag_mp_check(body, len, AG_DEPTH_MAX, where);
}

int ag_body_check(const struct ag_header *h, const uint8_t *body, size_t len, size_t *where)
{
	uint8_t hash[AG_HASH_LEN];
	int rc;

	if (where)
		*where = 0;
	if (!h->has_body)
		return AG_EBODY;
	if ((rc = body_canonical(body, len, where)) != 0)
		return rc;
	if (len != h->body_len)
		return AG_EBODYHASH;
	crypto_generichash(hash, sizeof(hash), body, len, NULL, 0);
	return sodium_memcmp(hash, h->body_hash, AG_HASH_LEN) == 0 ? 0 : AG_EBODYHASH;
}

static int pack_fields(msgpack_packer *pk, const struct ag_header *h)
{
	int rc = 0;

	rc |= msgpack_pack_array(pk, 10);
	rc |= msgpack_pack_uint64(pk, AG_HEADER_FORMAT);
	rc |= msgpack_pack_bin_with_body(pk, h->network, 32);
	rc |= msgpack_pack_bin_with_body(pk, h->author, AG_PK_LEN);
	rc |= msgpack_pack_uint64(pk, h->seq);
	rc |= h->has_prev ? msgpack_pack_bin_with_body(pk, h->prev, AG_HASH_LEN)
	                  : msgpack_pack_nil(pk);
	rc |= msgpack_pack_uint64(pk, h->timestamp);
	rc |= msgpack_pack_str_with_body(pk, h->type, strlen(h->type));
	rc |= msgpack_pack_str_with_body(pk, h->id, h->id_len);
	rc |= h->has_body ? msgpack_pack_bin_with_body(pk, h->body_hash, AG_HASH_LEN)
	                  : msgpack_pack_nil(pk);
	rc |= msgpack_pack_uint32(pk, h->body_len);
	return rc != 0 ? AG_ETOOBIG : 0;
}

/* What a peer would refuse is refused here, before anything is signed. */
static int sign_check(struct ag_header *h, const uint8_t *body, size_t body_len,
                      const uint8_t sk[static AG_SK_LEN])
{
	int rc;

	if (memcmp(sk + 32, h->author, AG_PK_LEN) != 0)
		return AG_EKEY;
	if (h->seq == 0 || (h->seq == 1) == h->has_prev)
		return AG_ESEQ;
	if ((rc = ag_rectype_check(h->type, strlen(h->type))) != 0 ||
	    (rc = ag_recid_check(h->id, h->id_len)) != 0)
		return rc;
	h->has_body = body != NULL;
	h->body_len = 0;
	if (!body)
		return 0;
	if ((rc = body_canonical(body, body_len, NULL)) != 0)
		return rc;
	h->body_len = (uint32_t)body_len;
	crypto_generichash(h->body_hash, AG_HASH_LEN, body, body_len, NULL, 0);
	return 0;
}

int ag_header_sign(struct ag_header *h, const uint8_t *body, size_t body_len,
                   const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap, size_t *outlen)
{
	struct ag__fixbuf fb = {out, cap < AG_HEADER_MAX ? cap : AG_HEADER_MAX, 0};
	msgpack_packer pk;
	struct ag_header check;
	int rc;

	if ((rc = sign_check(h, body, body_len, sk)) != 0)
		return rc;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	if ((rc = pack_fields(&pk, h)) != 0)
		return rc;
	crypto_sign_detached(h->sig, NULL, out, fb.len, sk);
	out[0] = 0x9b; /* the same fields, now with the signature as the eleventh */
	if (msgpack_pack_bin_with_body(&pk, h->sig, AG_SIG_LEN) != 0)
		return AG_ETOOBIG;
	if ((rc = ag_header_decode(&check, out, fb.len, NULL)) != 0)
		return rc;
	h->raw = out;
	h->raw_len = fb.len;
	*outlen = fb.len;
	return 0;
}

/* ag_header_follows, with prev's entry hash made already. */
static int follows_hashed(const struct ag_header *prev, const uint8_t prev_hash[static AG_HASH_LEN],
                          const struct ag_header *next)
{
	if (memcmp(prev->network, next->network, 32) != 0 ||
	    memcmp(prev->author, next->author, AG_PK_LEN) != 0)
		return AG_ESHAPE;
	if (next->seq != prev->seq + 1 || !next->has_prev)
		return AG_ESEQ;
	return memcmp(prev_hash, next->prev, AG_HASH_LEN) == 0 ? 0 : AG_EPREV;
}

int ag_header_follows(const struct ag_header *prev, const struct ag_header *next)
{
	uint8_t hash[AG_HASH_LEN];

	ag_header_hash(prev, hash);
	return follows_hashed(prev, hash, next);
}

int ag_run_check(const struct ag_header *run, size_t n, const uint8_t network[static 32],
                 uint8_t (*hash)[AG_HASH_LEN], size_t *at)
{
	uint8_t prev[AG_HASH_LEN], cur[AG_HASH_LEN];
	int rc;

	if (at)
		*at = 0;
	if (n == 0)
		return AG_EINVAL;
	/* Each header hashed once: the next one's prev is checked against it, and the caller keeps
	 * it. */
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n || hash)
			ag_header_hash(&run[i], cur);
		if (hash)
			memcpy(hash[i], cur, AG_HASH_LEN);
		if (i > 0 && (rc = follows_hashed(&run[i - 1], prev, &run[i])) != 0) {
			if (at)
				*at = i;
			return rc;
		}
		memcpy(prev, cur, AG_HASH_LEN);
	}
	if (at)
		*at = n - 1;
	return ag_header_verify(&run[n - 1], network);
}
