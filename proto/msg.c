/* msg.c: replication messages, checked strictly before anything is read. */
#include <msgpack.h>
#include <string.h>

#include "mp.h"
#include "mp_internal.h"
#include "msg.h"

#define MSG_DEPTH 4 /* [type, [[author, seq], ...]] */

static int read_pair(const uint8_t *buf, size_t len, size_t *pos, int mode)
{
	const uint8_t *b;
	uint64_t n, v;
	size_t blen;

	if (ag__mp_read_array(buf, len, pos, &n) != 0 || n != 2 ||
	    ag__mp_read_bin(buf, len, pos, &b, &blen) != 0 || blen != 32)
		return AG_ESHAPE;
	if (mode) {
		if (*pos >= len || (buf[*pos] != 0xc2 && buf[*pos] != 0xc3))
			return AG_ESHAPE;
		(*pos)++;
		return 0;
	}
	return ag__mp_read_uint(buf, len, pos, &v) != 0 ? AG_ESHAPE : 0;
}

static int decode_list(struct ag_msg *m, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t n;
	const uint8_t *b;
	size_t blen;

	if (ag__mp_read_array(buf, len, pos, &n) != 0)
		return AG_ESHAPE;
	if (m->type != AG_MSG_ENTRIES && n > AG_MSG_HEADS_MAX)
		return AG_ETOOBIG;
	m->list.p = buf + *pos;
	m->list.n = n;
	for (uint64_t i = 0; i < n; i++) {
		if (m->type == AG_MSG_ENTRIES) {
			if (ag__mp_read_bin(buf, len, pos, &b, &blen) != 0)
				return AG_ESHAPE;
		} else if (read_pair(buf, len, pos, m->type == AG_MSG_MODE) != 0) {
			return AG_ESHAPE;
		}
	}
	m->list.end = buf + *pos;
	return 0;
}

static int decode_hello(struct ag_msg *m, const uint8_t *buf, size_t len, size_t *pos)
{
	uint64_t version;

	if (ag__mp_read_uint(buf, len, pos, &version) != 0 ||
	    ag__mp_read_str(buf, len, pos, &m->name, &m->name_len) != 0 ||
	    ag__mp_read_str(buf, len, pos, &m->software, &m->software_len) != 0)
		return AG_ESHAPE;
	if (m->name_len > AG_MSG_NAME_MAX || m->software_len > AG_MSG_NAME_MAX)
		return AG_ETOOBIG;
	return version == AG_PROTO_VERSION ? 0 : AG_EVERSION;
}

static int decode_body(struct ag_msg *m, uint64_t n, const uint8_t *buf, size_t len, size_t *pos)
{
	const uint8_t *b;
	size_t blen;

	switch (m->type) {
	case AG_MSG_HELLO:
		return n == 4 ? decode_hello(m, buf, len, pos) : AG_ESHAPE;
	case AG_MSG_CLOCK:
	case AG_MSG_ENTRIES:
	case AG_MSG_HAVE:
	case AG_MSG_MODE:
		return n == 2 ? decode_list(m, buf, len, pos) : AG_ESHAPE;
	case AG_MSG_WANT:
		if (n != 3 || ag__mp_read_bin(buf, len, pos, &b, &blen) != 0 || blen != 32 ||
		    ag__mp_read_uint(buf, len, pos, &m->seq) != 0)
			return AG_ESHAPE;
		memcpy(m->author, b, 32);
		return 0;
	case AG_MSG_PING:
	case AG_MSG_PONG:
		return n == 2 && ag__mp_read_uint(buf, len, pos, &m->seq) == 0 ? 0 : AG_ESHAPE;
	}
	return AG_EMSG;
}

int ag_msg_decode(struct ag_msg *m, const uint8_t *buf, size_t len, size_t *where)
{
	size_t pos = 0;
	uint64_t n, type;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len > AG_MSG_MAX) {
		if (where)
			*where = AG_MSG_MAX;
		return AG_ETOOBIG;
	}
	if ((rc = ag_mp_check(buf, len, MSG_DEPTH, where)) != 0)
		return rc;
	if (ag__mp_read_array(buf, len, &pos, &n) != 0 || n < 1 ||
	    ag__mp_read_uint(buf, len, &pos, &type) != 0 || type > AG_MSG_PONG) {
		rc = AG_EMSG;
	} else {
		m->type = (enum ag_msg_type)type;
		rc = decode_body(m, n, buf, len, &pos);
	}
	if (rc != 0 && where)
		*where = pos;
	return rc;
}

int ag_msg_next_pair(struct ag_msg_list *l, const uint8_t **author, uint64_t *value)
{
	size_t pos = 0, blen, len = (size_t)(l->end - l->p);

	if (l->n == 0)
		return 0;
	pos = 1; /* fixarray 2 */
	(void)ag__mp_read_bin(l->p, len, &pos, author, &blen);
	if (l->p[pos] == 0xc2 || l->p[pos] == 0xc3) {
		*value = l->p[pos] == 0xc3;
		pos++;
	} else {
		(void)ag__mp_read_uint(l->p, len, &pos, value);
	}
	l->p += pos;
	l->n--;
	return 1;
}

int ag_msg_next_entry(struct ag_msg_list *l, const uint8_t **entry, size_t *len)
{
	size_t pos = 0;

	if (l->n == 0)
		return 0;
	(void)ag__mp_read_bin(l->p, (size_t)(l->end - l->p), &pos, entry, len);
	l->p += pos;
	l->n--;
	return 1;
}

/* Items are written after a gap as large as the largest array header. */
#define MSGB_GAP 8

void ag_msgb_init(struct ag_msgb *b, enum ag_msg_type type)
{
	b->type = type;
	b->n = 0;
	b->len = MSGB_GAP;
}

static int msgb_room(const struct ag_msgb *b, size_t more)
{
	/* Two bytes for [type, ...] and up to five for the list's header. */
	return b->len - MSGB_GAP + more + 2 + 5 <= AG_MSG_MAX ? 0 : AG_ETOOBIG;
}

int ag_msgb_add_pair(struct ag_msgb *b, const uint8_t author[static 32], uint64_t value)
{
	struct ag__fixbuf fb = {b->buf, sizeof(b->buf), b->len};
	msgpack_packer pk;
	int rc = 0;

	if (b->n >= AG_MSG_HEADS_MAX || msgb_room(b, 1 + 34 + 9) != 0)
		return AG_ETOOBIG;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc |= msgpack_pack_array(&pk, 2);
	rc |= msgpack_pack_bin_with_body(&pk, author, 32);
	if (b->type == AG_MSG_MODE)
		rc |= value ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
	else
		rc |= msgpack_pack_uint64(&pk, value);
	if (rc != 0)
		return AG_ETOOBIG;
	b->len = fb.len;
	b->n++;
	return 0;
}

int ag_msgb_add_entry(struct ag_msgb *b, const uint8_t *entry, size_t len)
{
	struct ag__fixbuf fb = {b->buf, sizeof(b->buf), b->len};
	msgpack_packer pk;

	if (msgb_room(b, 5 + len) != 0)
		return AG_ETOOBIG;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	if (msgpack_pack_bin_with_body(&pk, entry, len) != 0)
		return AG_ETOOBIG;
	b->len = fb.len;
	b->n++;
	return 0;
}

void ag_msgb_finish(struct ag_msgb *b, const uint8_t **msg, size_t *len)
{
	uint8_t hdr[MSGB_GAP];
	struct ag__fixbuf fb = {hdr, sizeof(hdr), 0};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	(void)msgpack_pack_array(&pk, 2);
	(void)msgpack_pack_uint64(&pk, b->type);
	(void)msgpack_pack_array(&pk, b->n);
	/* The header goes right before the items, which stay where they are. */
	memcpy(b->buf + MSGB_GAP - fb.len, hdr, fb.len);
	*msg = b->buf + MSGB_GAP - fb.len;
	*len = b->len - MSGB_GAP + fb.len;
}

int ag_msg_hello(uint8_t *out, size_t cap, size_t *len, const char *name, const char *software)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc = 0;

	if (strlen(name) > AG_MSG_NAME_MAX || strlen(software) > AG_MSG_NAME_MAX)
		return AG_ETOOBIG;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc |= msgpack_pack_array(&pk, 4);
	rc |= msgpack_pack_uint64(&pk, AG_MSG_HELLO);
	rc |= msgpack_pack_uint64(&pk, AG_PROTO_VERSION);
	rc |= msgpack_pack_str_with_body(&pk, name, strlen(name));
	rc |= msgpack_pack_str_with_body(&pk, software, strlen(software));
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}

int ag_msg_want(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                uint64_t from_seq)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc = 0;

	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc |= msgpack_pack_array(&pk, 3);
	rc |= msgpack_pack_uint64(&pk, AG_MSG_WANT);
	rc |= msgpack_pack_bin_with_body(&pk, author, 32);
	rc |= msgpack_pack_uint64(&pk, from_seq);
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}

int ag_msg_ping(uint8_t *out, size_t cap, size_t *len, int pong, uint64_t nonce)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc = 0;

	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc |= msgpack_pack_array(&pk, 2);
	rc |= msgpack_pack_uint64(&pk, pong ? AG_MSG_PONG : AG_MSG_PING);
	rc |= msgpack_pack_uint64(&pk, nonce);
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}
