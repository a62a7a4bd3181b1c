/* entry.c: the signed update, decoded strictly and encoded canonically. */
#include <msgpack.h>
#include <sodium.h>
#include <string.h>

#include "entry.h"
#include "entry_internal.h"
#include "mp.h"
#include "mp_internal.h"

int ag_rectype_check(const char *type, size_t len)
{
	if (len < 1 || len > AG_TYPE_MAX)
		return AG_ERECTYPE;
	for (size_t i = 0; i < len; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '-'))
			return AG_ERECTYPE;
	return 0;
}

int ag_recid_check(const char *id, size_t len)
{
	const uint8_t *s = (const uint8_t *)id;
	size_t pos = 0;
	uint32_t cp;

	if (len < 1 || len > AG_ID_MAX)
		return AG_ERECID;
	while (pos < len) {
		if (ag__mp_utf8_cp(s, len, &pos, &cp) != 0)
			return AG_EUTF8;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return AG_ERECID; /* Unicode category Cc */
	}
	return 0;
}

static int read_prev(struct ag_entry *e, const uint8_t *buf, size_t len, size_t *pos)
{
	if (buf[*pos] == 0xc0) {
		(*pos)++;
		e->has_prev = 0;
		return e->seq == 1 ? 0 : AG_ESEQ;
	}
	e->has_prev = 1;
	if (e->seq == 1)
		return AG_ESEQ;
	return ag__mp_read_bin_n(buf, len, pos, e->prev, AG_HASH_LEN);
}

int ag__entry_read_type(const uint8_t *buf, size_t len, size_t *pos, char out[AG_TYPE_MAX + 1])
{
	const char *s;
	size_t n;
	int rc = ag__mp_read_str(buf, len, pos, &s, &n);

	if (rc != 0)
		return rc;
	if ((rc = ag_rectype_check(s, n)) != 0)
		return rc;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int read_body(struct ag_entry *e, const uint8_t *buf, size_t len, size_t *pos)
{
	uint8_t t = buf[*pos];
	size_t start = *pos;
	int rc;

	if (t == 0xc0) {
		(*pos)++;
		e->body = NULL;
		e->body_len = 0;
		return 0;
	}
	if (!((t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf))
		return AG_EBODY;
	if ((rc = ag__mp_skip(buf, len, pos)) != 0)
		return rc;
	e->body = buf + start;
	e->body_len = *pos - start;
	return 0;
}

/* Fields 0..9 in order; *pos is left at the field that was refused. */
static int read_fields(struct ag_entry *e, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t v;
	int rc;

	if ((rc = ag__mp_read_uint(buf, len, pos, &v)) != 0)
		return rc;
	if (v != AG_ENTRY_FORMAT)
		return AG_EVERSION;
	if ((rc = ag__mp_read_bin_n(buf, len, pos, e->network, 32)) != 0 ||
	    (rc = ag__mp_read_bin_n(buf, len, pos, e->author, AG_PK_LEN)) != 0 ||
	    (rc = ag__mp_read_uint(buf, len, pos, &e->seq)) != 0)
		return rc;
	if (e->seq == 0)
		return AG_ESEQ;
	if ((rc = read_prev(e, buf, len, pos)) != 0 ||
	    (rc = ag__mp_read_uint(buf, len, pos, &e->timestamp)) != 0 ||
	    (rc = ag__entry_read_type(buf, len, pos, e->type)) != 0 ||
	    (rc = ag__mp_read_str(buf, len, pos, &e->id, &e->id_len)) != 0 ||
	    (rc = ag_recid_check(e->id, e->id_len)) != 0 || (rc = read_body(e, buf, len, pos)) != 0)
		return rc;
	return ag__mp_read_bin_n(buf, len, pos, e->sig, AG_SIG_LEN);
}

int ag_entry_decode(struct ag_entry *e, const uint8_t *buf, size_t len, size_t *where)
{
	size_t pos = 0;
	uint64_t n;
	int rc;

	memset(e, 0, sizeof(*e));
	if (len > AG_ENTRY_MAX) {
		if (where)
			*where = AG_ENTRY_MAX;
		return AG_ETOOBIG;
	}
	if ((rc = ag_mp_check(buf, len, AG_DEPTH_MAX, where)) != 0)
		return rc;
	if ((rc = ag__mp_read_array(buf, len, &pos, &n)) != 0 || n != 10 ||
	    (rc = read_fields(e, buf, len, &pos)) != 0) {
		if (where)
			*where = pos;
		return rc != 0 ? rc : AG_ESHAPE;
	}
	e->raw = buf;
	e->raw_len = len;
	return 0;
}

int ag_entry_verify(const struct ag_entry *e, const uint8_t network[static 32])
{
	uint8_t msg[AG_ENTRY_MAX];
	size_t n = e->raw_len - (2 + AG_SIG_LEN); /* the signature is bin 8: c4 40 + 64 bytes */

	if (memcmp(e->network, network, 32) != 0)
		return AG_ENETWORK;
	/* The signed message is fields 0..8 under a 9-element array header. */
	msg[0] = 0x99;
	memcpy(msg + 1, e->raw + 1, n - 1);
	if (crypto_sign_verify_detached(e->sig, msg, n, e->author) != 0)
		return AG_ESIG;
	return 0;
}

int ag_entry_open(struct ag_entry *e, const uint8_t *buf, size_t len,
                  const uint8_t network[static 32], size_t *where)
{
	int rc = ag_entry_decode(e, buf, len, where);

	if (rc == 0 && (rc = ag_entry_verify(e, network)) != 0 && where)
		*where = 0;
	return rc;
}

void ag_entry_hash(const struct ag_entry *e, uint8_t out[static AG_HASH_LEN])
{
	crypto_generichash(out, AG_HASH_LEN, e->raw, e->raw_len, NULL, 0);
}

static int pack_fields(msgpack_packer *pk, struct ag__fixbuf *fb, const struct ag_entry *e)
{
	int rc = 0;

	rc |= msgpack_pack_array(pk, 9);
	rc |= msgpack_pack_uint64(pk, AG_ENTRY_FORMAT);
	rc |= msgpack_pack_bin_with_body(pk, e->network, 32);
	rc |= msgpack_pack_bin_with_body(pk, e->author, AG_PK_LEN);
	rc |= msgpack_pack_uint64(pk, e->seq);
	rc |= e->has_prev ? msgpack_pack_bin_with_body(pk, e->prev, AG_HASH_LEN)
	                  : msgpack_pack_nil(pk);
	rc |= msgpack_pack_uint64(pk, e->timestamp);
	rc |= msgpack_pack_str_with_body(pk, e->type, strlen(e->type));
	rc |= msgpack_pack_str_with_body(pk, e->id, e->id_len);
	/* The body is already canonical msgpack: its bytes go in as they are. */
	rc |= e->body ? ag__fixbuf_write(fb, (const char *)e->body, e->body_len)
	              : msgpack_pack_nil(pk);
	return rc != 0 ? AG_ETOOBIG : 0;
}

static int sign_check_fields(const struct ag_entry *e, const uint8_t sk[static AG_SK_LEN])
{
	int rc;

	if (memcmp(sk + 32, e->author, AG_PK_LEN) != 0)
		return AG_EKEY;
	if (e->seq == 0 || (e->seq == 1) == (e->has_prev != 0))
		return AG_ESEQ;
	if ((rc = ag_rectype_check(e->type, strlen(e->type))) != 0 ||
	    (rc = ag_recid_check(e->id, e->id_len)) != 0)
		return rc;
	if (!e->body)
		return 0;
	if (e->body_len == 0 || !((e->body[0] >= 0x80 && e->body[0] <= 0x8f) ||
	                          e->body[0] == 0xde || e->body[0] == 0xdf))
		return AG_EBODY;
	return ag_mp_check(e->body, e->body_len, AG_DEPTH_MAX - 1, NULL);
}

int ag_entry_sign(struct ag_entry *e, const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap,
                  size_t *outlen)
{
	struct ag__fixbuf fb = {out, cap < AG_ENTRY_MAX ? cap : AG_ENTRY_MAX, 0};
	msgpack_packer pk;
	struct ag_entry check;
	int rc;

	if ((rc = sign_check_fields(e, sk)) != 0)
		return rc;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	if ((rc = pack_fields(&pk, &fb, e)) != 0)
		return rc;
	crypto_sign_detached(e->sig, NULL, out, fb.len, sk);
	out[0] = 0x9a; /* the same fields, now with the signature as the tenth */
	if (msgpack_pack_bin_with_body(&pk, e->sig, AG_SIG_LEN) != 0)
		return AG_ETOOBIG;
	/* Never emit what a peer would refuse. */
	if ((rc = ag_entry_decode(&check, out, fb.len, NULL)) != 0)
		return rc;
	e->raw = out;
	e->raw_len = fb.len;
	*outlen = fb.len;
	return 0;
}
