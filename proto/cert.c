/* cert.c: the succession certificate, decoded strictly and encoded canonically. */
#include <msgpack.h>
#include <sodium.h>
#include <string.h>

#include "cert.h"
#include "mp.h"
#include "mp_internal.h"

#define SIG_TAIL (2 + AG_SIG_LEN) /* bin 8: c4 40 and 64 bytes */

static int read_last(struct ag_cert *c, const uint8_t *buf, size_t len, size_t *pos)
{
	int rc = ag__mp_read_uint(buf, len, pos, &c->last_seq);

	if (rc != 0)
		return rc;
	if (ag__mp_take_nil(buf, len, pos))
		return c->last_seq == 0 ? 0 : AG_ESEQ;
	if (c->last_seq == 0)
		return AG_ESEQ;
	return ag__mp_read_bin_n(buf, len, pos, c->last_hash, AG_HASH_LEN);
}

static int read_fields(struct ag_cert *c, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t v;
	int rc;

	if ((rc = ag__mp_read_uint(buf, len, pos, &v)) != 0)
		return rc;
	if (v != AG_CERT_FORMAT)
		return AG_EVERSION;
	if ((rc = ag__mp_read_bin_n(buf, len, pos, c->network, 32)) != 0 ||
	    (rc = ag__mp_read_bin_n(buf, len, pos, c->old_key, AG_PK_LEN)) != 0 ||
	    (rc = ag__mp_read_bin_n(buf, len, pos, c->new_key, AG_PK_LEN)) != 0)
		return rc;
	if (memcmp(c->old_key, c->new_key, AG_PK_LEN) == 0)
		return AG_EKEY;
	if ((rc = read_last(c, buf, len, pos)) != 0 ||
	    (rc = ag__mp_read_uint(buf, len, pos, &c->timestamp)) != 0)
		return rc;
	return ag__mp_read_bin_n(buf, len, pos, c->sig, AG_SIG_LEN);
}

int ag_cert_decode(struct ag_cert *c, const uint8_t *buf, size_t len, size_t *where)
{
	size_t pos = 0;
	uint64_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	if (len > AG_CERT_MAX) {
		if (where)
			*where = AG_CERT_MAX;
		return AG_ETOOBIG;
	}
	if ((rc = ag_mp_check(buf, len, 1, where)) != 0)
		return rc;
	if ((rc = ag__mp_read_array(buf, len, &pos, &n)) != 0 || n != 8 ||
	    (rc = read_fields(c, buf, len, &pos)) != 0) {
		if (where)
			*where = pos;
		return rc != 0 ? rc : AG_ESHAPE;
	}
	c->raw = buf;
	c->raw_len = len;
	return 0;
}

int ag_cert_verify(const struct ag_cert *c, const uint8_t network[static 32],
                   const uint8_t recovery[static AG_PK_LEN])
{
	uint8_t msg[AG_CERT_MAX];
	size_t n = c->raw_len - SIG_TAIL;

	if (memcmp(c->network, network, 32) != 0)
		return AG_ENETWORK;
	/* The signed message is the 7 fields before the signature, as a 7-element array. */
	msg[0] = 0x97;
	memcpy(msg + 1, c->raw + 1, n - 1);
	return crypto_sign_verify_detached(c->sig, msg, n, recovery) == 0 ? 0 : AG_ESIG;
}

static int pack_fields(msgpack_packer *pk, const struct ag_cert *c)
{
	int rc = 0;

	rc |= msgpack_pack_array(pk, 7);
	rc |= msgpack_pack_uint64(pk, AG_CERT_FORMAT);
	rc |= msgpack_pack_bin_with_body(pk, c->network, 32);
	rc |= msgpack_pack_bin_with_body(pk, c->old_key, AG_PK_LEN);
	rc |= msgpack_pack_bin_with_body(pk, c->new_key, AG_PK_LEN);
	rc |= msgpack_pack_uint64(pk, c->last_seq);
	rc |= c->last_seq ? msgpack_pack_bin_with_body(pk, c->last_hash, AG_HASH_LEN)
	                  : msgpack_pack_nil(pk);
	rc |= msgpack_pack_uint64(pk, c->timestamp);
	return rc != 0 ? AG_ETOOBIG : 0;
}

int ag_cert_sign(struct ag_cert *c, const uint8_t recovery_sk[static AG_SK_LEN], uint8_t *out,
                 size_t cap, size_t *outlen)
{
	struct ag__fixbuf fb = {out, cap < AG_CERT_MAX ? cap : AG_CERT_MAX, 0};
	msgpack_packer pk;
	struct ag_cert check;
	int rc;

	if (memcmp(c->old_key, c->new_key, AG_PK_LEN) == 0)
		return AG_EKEY;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	if ((rc = pack_fields(&pk, c)) != 0)
		return rc;
	crypto_sign_detached(c->sig, NULL, out, fb.len, recovery_sk);
	out[0] = 0x98; /* the same fields, now with the signature as the eighth */
	if (msgpack_pack_bin_with_body(&pk, c->sig, AG_SIG_LEN) != 0)
		return AG_ETOOBIG;
	if ((rc = ag_cert_decode(&check, out, fb.len, NULL)) != 0)
		return rc;
	c->raw = out;
	c->raw_len = fb.len;
	*outlen = fb.len;
	return 0;
}

bool ag_cert_wins(const struct ag_cert *a, const struct ag_cert *b)
{
	if (a->last_seq != b->last_seq)
		return a->last_seq < b->last_seq;
	return memcmp(a->new_key, b->new_key, AG_PK_LEN) < 0;
}
