/* msg.c: replication messages of protocol version 2, checked strictly before anything is read. */
#include <msgpack.h>
#include <string.h>

#include "cert.h"
#include "header.h"
#include "mp.h"
#include "mp_internal.h"
#include "msg.h"

/*
 * [type, [[header, body], ...]] nests 3 levels; trailing elements that a
 * later version adds may nest deeper, and are read (canonical) up to this.
 */
#define MSG_DEPTH 16

/* How each item of a list message is shaped. */
enum item { ITEM_HEAD, ITEM_PAIR, ITEM_MODE, ITEM_ENTRY, ITEM_SEQ, ITEM_STR };

static int read_author(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **a)
{
	size_t blen;

	return ag__mp_read_bin(buf, len, pos, a, &blen) != 0 || blen != 32 ? AG_ESHAPE : 0;
}

/* [header(bin), body(bin) or nil], each within its format's bounds. */
static int read_entry(const uint8_t *buf, size_t len, size_t *pos)
{
	const uint8_t *b;
	uint64_t n;
	size_t blen;

	if (ag__mp_read_array(buf, len, pos, &n) != 0 || n != 2 ||
	    ag__mp_read_bin(buf, len, pos, &b, &blen) != 0)
		return AG_ESHAPE;
	if (blen < AG_HEADER_MIN || blen > AG_HEADER_MAX)
		return AG_ETOOBIG;
	if (ag__mp_take_nil(buf, len, pos))
		return 0;
	if (ag__mp_read_bin(buf, len, pos, &b, &blen) != 0)
		return AG_ESHAPE;
	return blen == 0 || blen > AG_BODY_MAX ? AG_ETOOBIG : 0;
}

static int read_item(const uint8_t *buf, size_t len, size_t *pos, enum item kind)
{
	const uint8_t *a;
	const char *s;
	uint64_t n, v;
	size_t slen;
	int b;

	switch (kind) {
	case ITEM_ENTRY:
		return read_entry(buf, len, pos);
	case ITEM_SEQ:
		return ag__mp_read_uint(buf, len, pos, &v) != 0 || v == 0 ? AG_ESHAPE : 0;
	case ITEM_STR:
		if (ag__mp_read_str(buf, len, pos, &s, &slen) != 0)
			return AG_ESHAPE;
		return slen > AG_MSG_NAME_MAX ? AG_ETOOBIG : 0;
	default:
		break;
	}
	if (ag__mp_read_array(buf, len, pos, &n) != 0 || n != (kind == ITEM_HEAD ? 3u : 2u) ||
	    read_author(buf, len, pos, &a) != 0)
		return AG_ESHAPE;
	if (kind == ITEM_MODE)
		return ag__mp_read_bool(buf, len, pos, &b) != 0 ? AG_ESHAPE : 0;
	if (ag__mp_read_uint(buf, len, pos, &v) != 0)
		return AG_ESHAPE;
	return kind == ITEM_HEAD ? read_author(buf, len, pos, &a) : 0;
}

static size_t list_max(enum item kind)
{
	switch (kind) {
	case ITEM_ENTRY:
		return AG_MSG_ENTRIES_MAX;
	case ITEM_STR:
		return AG_MSG_FEATURES_MAX;
	default:
		return AG_MSG_HEADS_MAX;
	}
}

/* A list of items of one kind; its count is bounded before any item is read. */
static int decode_list(struct ag_msg_list *l, enum item kind, const uint8_t *buf, size_t len,
                       size_t *pos)
{
	uint64_t n;
	int rc;

	if (ag__mp_read_array(buf, len, pos, &n) != 0)
		return AG_ESHAPE;
	if (n > list_max(kind))
		return AG_ETOOBIG;
	l->p = buf + *pos;
	l->n = n;
	for (uint64_t i = 0; i < n; i++)
		if ((rc = read_item(buf, len, pos, kind)) != 0)
			return rc;
	l->end = buf + *pos;
	return 0;
}

/* The version comes first, so that a HELLO of any version can be named. */
static int decode_hello(struct ag_msg *m, uint64_t n, const uint8_t *buf, size_t len, size_t *pos)
{
	if (n < 2 || ag__mp_read_uint(buf, len, pos, &m->seq) != 0)
		return AG_ESHAPE;
	if (m->seq != AG_PROTO_VERSION)
		return AG_EVERSION;
	if (n < 5 || ag__mp_read_str(buf, len, pos, &m->name, &m->name_len) != 0 ||
	    ag__mp_read_str(buf, len, pos, &m->software, &m->software_len) != 0)
		return AG_ESHAPE;
	if (m->name_len > AG_MSG_NAME_MAX || m->software_len > AG_MSG_NAME_MAX)
		return AG_ETOOBIG;
	return decode_list(&m->list, ITEM_STR, buf, len, pos);
}

static int decode_author_list(struct ag_msg *m, uint64_t n, const uint8_t *buf, size_t len,
                              size_t *pos)
{
	const uint8_t *a;

	if (n < 3 || read_author(buf, len, pos, &a) != 0)
		return AG_ESHAPE;
	memcpy(m->author, a, 32);
	if (m->type == AG_MSG_WANT)
		return ag__mp_read_uint(buf, len, pos, &m->seq) != 0 ? AG_ESHAPE : 0;
	return decode_list(&m->list, ITEM_SEQ, buf, len, pos);
}

static int decode_succession(struct ag_msg *m, uint64_t n, const uint8_t *buf, size_t len,
                             size_t *pos)
{
	struct ag_cert c;

	if (n < 2 || ag__mp_read_bin(buf, len, pos, &m->cert, &m->cert_len) != 0)
		return AG_ESHAPE;
	return ag_cert_decode(&c, m->cert, m->cert_len, NULL);
}

/* The elements its version defines; n counts every element, the type included. */
static int decode_body(struct ag_msg *m, uint64_t n, const uint8_t *buf, size_t len, size_t *pos)
{
	static const enum item lists[] = {[AG_MSG_CLOCK] = ITEM_HEAD,
	                                  [AG_MSG_ENTRIES] = ITEM_ENTRY,
	                                  [AG_MSG_HAVE] = ITEM_PAIR,
	                                  [AG_MSG_MODE] = ITEM_MODE};

	switch (m->type) {
	case AG_MSG_HELLO:
		return decode_hello(m, n, buf, len, pos);
	case AG_MSG_CLOCK:
	case AG_MSG_ENTRIES:
	case AG_MSG_HAVE:
	case AG_MSG_MODE:
		return n < 2 ? AG_ESHAPE : decode_list(&m->list, lists[m->type], buf, len, pos);
	case AG_MSG_WANT:
	case AG_MSG_WANT_BODIES:
		return decode_author_list(m, n, buf, len, pos);
	case AG_MSG_PING:
	case AG_MSG_PONG:
		return n >= 2 && ag__mp_read_uint(buf, len, pos, &m->seq) == 0 ? 0 : AG_ESHAPE;
	case AG_MSG_SUCCESSION:
		return decode_succession(m, n, buf, len, pos);
	case AG_MSG_UNKNOWN:
		break;
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
	if (ag__mp_read_array(buf, len, &pos, &n) != 0 || n < 1 ||
	    ag__mp_read_uint(buf, len, &pos, &type) != 0) {
		rc = AG_EMSG;
	} else if (type > AG_MSG_WANT_BODIES) {
		/* A later version's message: whatever its shape, it is not ours to judge. */
		m->type = AG_MSG_UNKNOWN;
		m->seq = type;
		return 0;
	} else if ((rc = ag_mp_check(buf, len, MSG_DEPTH, where)) != 0) {
		return rc;
	} else {
		m->type = (enum ag_msg_type)type;
		rc = decode_body(m, n, buf, len, &pos);
	}
	if (rc != 0 && where)
		*where = pos;
	return rc;
}

int ag_msg_next_head(struct ag_msg_list *l, const uint8_t **author, uint64_t *seq,
                     const uint8_t **hash)
{
	size_t pos = 1, blen, len = (size_t)(l->end - l->p); /* fixarray 3 */

	if (l->n == 0)
		return 0;
	(void)ag__mp_read_bin(l->p, len, &pos, author, &blen);
	(void)ag__mp_read_uint(l->p, len, &pos, seq);
	(void)ag__mp_read_bin(l->p, len, &pos, hash, &blen);
	l->p += pos;
	l->n--;
	return 1;
}

int ag_msg_next_pair(struct ag_msg_list *l, const uint8_t **author, uint64_t *value)
{
	size_t pos = 1, blen, len = (size_t)(l->end - l->p); /* fixarray 2 */

	if (l->n == 0)
		return 0;
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

int ag_msg_next_entry(struct ag_msg_list *l, const uint8_t **hdr, size_t *hlen,
                      const uint8_t **body, size_t *blen)
{
	size_t pos = 1, len = (size_t)(l->end - l->p); /* fixarray 2 */

	if (l->n == 0)
		return 0;
	(void)ag__mp_read_bin(l->p, len, &pos, hdr, hlen);
	*body = NULL;
	*blen = 0;
	if (!ag__mp_take_nil(l->p, len, &pos))
		(void)ag__mp_read_bin(l->p, len, &pos, body, blen);
	l->p += pos;
	l->n--;
	return 1;
}

int ag_msg_next_seq(struct ag_msg_list *l, uint64_t *seq)
{
	size_t pos = 0;

	if (l->n == 0)
		return 0;
	(void)ag__mp_read_uint(l->p, (size_t)(l->end - l->p), &pos, seq);
	l->p += pos;
	l->n--;
	return 1;
}

int ag_msg_next_str(struct ag_msg_list *l, const char **s, size_t *len)
{
	size_t pos = 0;

	if (l->n == 0)
		return 0;
	(void)ag__mp_read_str(l->p, (size_t)(l->end - l->p), &pos, s, len);
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

/* Packs one item with fn into b, or leaves b as it was. */
static int msgb_add(struct ag_msgb *b, size_t most, size_t max_items,
                    int (*fn)(msgpack_packer *, const void *), const void *arg)
{
	struct ag__fixbuf fb = {b->buf, sizeof(b->buf), b->len};
	msgpack_packer pk;

	if (b->n >= max_items || msgb_room(b, most) != 0)
		return AG_ETOOBIG;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	if (fn(&pk, arg) != 0)
		return AG_ETOOBIG;
	b->len = fb.len;
	b->n++;
	return 0;
}

struct item_args {
	const uint8_t *author, *hash, *hdr, *body;
	uint64_t value;
	size_t hlen, blen;
	int mode;
};

static int pack_head(msgpack_packer *pk, const void *arg)
{
	static const uint8_t zero[32];
	const struct item_args *a = arg;
	int rc = msgpack_pack_array(pk, 3);

	rc |= msgpack_pack_bin_with_body(pk, a->author, 32);
	rc |= msgpack_pack_uint64(pk, a->value);
	return rc | msgpack_pack_bin_with_body(pk, a->hash ? a->hash : zero, 32);
}

static int pack_pair(msgpack_packer *pk, const void *arg)
{
	const struct item_args *a = arg;
	int rc = msgpack_pack_array(pk, 2);

	rc |= msgpack_pack_bin_with_body(pk, a->author, 32);
	if (a->mode)
		return rc | (a->value ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
	return rc | msgpack_pack_uint64(pk, a->value);
}

static int pack_entry(msgpack_packer *pk, const void *arg)
{
	const struct item_args *a = arg;
	int rc = msgpack_pack_array(pk, 2);

	rc |= msgpack_pack_bin_with_body(pk, a->hdr, a->hlen);
	return rc |
	       (a->body ? msgpack_pack_bin_with_body(pk, a->body, a->blen) : msgpack_pack_nil(pk));
}

int ag_msgb_add_head(struct ag_msgb *b, const uint8_t author[static 32], uint64_t seq,
                     const uint8_t *hash)
{
	struct item_args a = {.author = author, .hash = hash, .value = seq};

	return msgb_add(b, 1 + 34 + 9 + 34, AG_MSG_HEADS_MAX, pack_head, &a);
}

int ag_msgb_add_pair(struct ag_msgb *b, const uint8_t author[static 32], uint64_t value)
{
	struct item_args a = {.author = author, .value = value, .mode = b->type == AG_MSG_MODE};

	return msgb_add(b, 1 + 34 + 9, AG_MSG_HEADS_MAX, pack_pair, &a);
}

int ag_msgb_add_entry(struct ag_msgb *b, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                      size_t blen)
{
	struct item_args a = {.hdr = hdr, .hlen = hlen, .body = body, .blen = blen};

	return msgb_add(b, 1 + 5 + hlen + 5 + blen, AG_MSG_ENTRIES_MAX, pack_entry, &a);
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
	rc |= msgpack_pack_array(&pk, 5);
	rc |= msgpack_pack_uint64(&pk, AG_MSG_HELLO);
	rc |= msgpack_pack_uint64(&pk, AG_PROTO_VERSION);
	rc |= msgpack_pack_str_with_body(&pk, name, strlen(name));
	rc |= msgpack_pack_str_with_body(&pk, software, strlen(software));
	rc |= msgpack_pack_array(&pk, 0); /* features: none yet */
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}

static int pack_author_head(msgpack_packer *pk, enum ag_msg_type type, const uint8_t *author)
{
	int rc = msgpack_pack_array(pk, 3);

	rc |= msgpack_pack_uint64(pk, type);
	return rc | msgpack_pack_bin_with_body(pk, author, 32);
}

int ag_msg_want(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                uint64_t from_seq)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc = pack_author_head(&pk, AG_MSG_WANT, author);
	rc |= msgpack_pack_uint64(&pk, from_seq);
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}

int ag_msg_want_bodies(uint8_t *out, size_t cap, size_t *len, const uint8_t author[static 32],
                       const uint64_t *seqs, size_t n)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc;

	if (n == 0 || n > AG_MSG_HEADS_MAX)
		return AG_EINVAL;
	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc = pack_author_head(&pk, AG_MSG_WANT_BODIES, author);
	rc |= msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		rc |= seqs[i] == 0 ? -1 : msgpack_pack_uint64(&pk, seqs[i]);
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

int ag_msg_succession(uint8_t *out, size_t cap, size_t *len, const uint8_t *cert, size_t cert_len)
{
	struct ag__fixbuf fb = {out, cap, 0};
	msgpack_packer pk;
	int rc = 0;

	msgpack_packer_init(&pk, &fb, ag__fixbuf_write);
	rc |= msgpack_pack_array(&pk, 2);
	rc |= msgpack_pack_uint64(&pk, AG_MSG_SUCCESSION);
	rc |= msgpack_pack_bin_with_body(&pk, cert, cert_len);
	*len = fb.len;
	return rc ? AG_EINVAL : 0;
}
