/*
 * ctl.c: the control messages' header, and the exact shape of each request.
 *
 * A request is small and comes from a local user who may make mistakes, so it
 * is held to the strictest reading: canonical msgpack (ag_mp_check), a map of
 * known keys only, each of its kind and limit, copied into fixed buffers. A
 * response is large and comes from our own daemon; it is only checked to be
 * bounded before the CLI unpacks it.
 */
#include <msgpack.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mp.h"
#include "mp_internal.h"

static uint32_t get_be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint32_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

void ag_ctl_hdr_encode(uint8_t out[static AG_CTL_HDR_LEN], const struct ag_ctl_hdr *h)
{
	put_be(out, h->version, 2);
	put_be(out + 2, h->type, 2);
	put_be(out + 4, h->id, 4);
	put_be(out + 8, h->len, 4);
}

int ag_ctl_hdr_decode(struct ag_ctl_hdr *h, const uint8_t in[static AG_CTL_HDR_LEN], bool response)
{
	unsigned t;

	h->version = (uint16_t)get_be(in, 2);
	h->type = (uint16_t)get_be(in + 2, 2);
	h->id = get_be(in + 4, 4);
	h->len = get_be(in + 8, 4);
	if (h->version != AG_CTL_VERSION)
		return AG_EVERSION;
	if (h->len > (response ? AG_CTL_RESP_MAX : AG_CTL_REQ_MAX))
		return AG_ETOOBIG;
	t = h->type;
	if (response && t == AG_CTL_ERROR)
		return 0;
	if (response && !(t & AG_CTL_RESPONSE))
		return AG_EMSG;
	return ag_ctl_type_name(response ? t & ~AG_CTL_RESPONSE : t) ? 0 : AG_EMSG;
}

/* What each request is called, and which fields it allows and requires. */
static const struct {
	const char *name;
	uint32_t allowed, required;
} types[AG_CTL_TYPE_END] = {
    [AG_CTL_ID] = {"id", 0, 0},
    [AG_CTL_STATUS] = {"status", 0, 0},
    [AG_CTL_PEER_ADD] = {"peer-add",
                         AG_CTL_F_KEY | AG_CTL_F_NAME | AG_CTL_F_ENDPOINT | AG_CTL_F_ROLE,
                         AG_CTL_F_KEY | AG_CTL_F_NAME},
    [AG_CTL_PEER_REMOVE] = {"peer-remove", AG_CTL_F_KEY, AG_CTL_F_KEY},
    [AG_CTL_PEER_LIST] = {"peer-list", 0, 0},
    [AG_CTL_PUT] = {"put", AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_BODY | AG_CTL_F_FORCE,
                    AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_BODY},
    [AG_CTL_GET] = {"get", AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_CITY,
                    AG_CTL_F_TYPE | AG_CTL_F_ID},
    [AG_CTL_LIST] = {"list",
                     AG_CTL_F_TYPE | AG_CTL_F_CITY | AG_CTL_F_TOPIC | AG_CTL_F_LIMIT |
                         AG_CTL_F_LANG,
                     0},
    [AG_CTL_SEARCH] = {"search",
                       AG_CTL_F_TEXT | AG_CTL_F_TYPE | AG_CTL_F_CITY | AG_CTL_F_TOPIC |
                           AG_CTL_F_LIMIT | AG_CTL_F_LANG,
                       AG_CTL_F_TEXT},
    [AG_CTL_RETRACT] = {"retract", AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_FORCE,
                        AG_CTL_F_TYPE | AG_CTL_F_ID},
    [AG_CTL_HISTORY] = {"history", AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_CITY,
                        AG_CTL_F_TYPE | AG_CTL_F_ID},
    [AG_CTL_LOG] = {"log", AG_CTL_F_CITY | AG_CTL_F_SINCE | AG_CTL_F_LIMIT, 0},
    [AG_CTL_RESOLVE] = {"resolve", AG_CTL_F_CITY, AG_CTL_F_CITY},
    [AG_CTL_CHECK] = {"check", 0, 0},
    [AG_CTL_METRICS] = {"metrics", 0, 0},
    [AG_CTL_BACKUP] = {"backup", AG_CTL_F_PATH, AG_CTL_F_PATH},
    [AG_CTL_COMPACT] = {"compact", 0, 0},
    [AG_CTL_KEY_ROTATE] = {"key-rotate", 0, 0},
    [AG_CTL_RECOVER_BEGIN] = {"recover-begin", AG_CTL_F_KEY, 0},
    [AG_CTL_RECOVER] = {"recover", AG_CTL_F_TEXT, AG_CTL_F_TEXT},
    [AG_CTL_CERT_IMPORT] = {"cert-import", AG_CTL_F_TEXT, AG_CTL_F_TEXT},
    [AG_CTL_FORKS] = {"forks", 0, 0},
    [AG_CTL_MEMBER_LOG] = {"member-log", AG_CTL_F_KEY, 0},
};

const char *ag_ctl_type_name(unsigned type)
{
	return type < AG_CTL_TYPE_END ? types[type].name : NULL;
}

uint32_t ag_ctl_fields_allowed(unsigned type)
{
	return ag_ctl_type_name(type) ? types[type].allowed : 0;
}

uint32_t ag_ctl_fields_required(unsigned type)
{
	return ag_ctl_type_name(type) ? types[type].required : 0;
}

enum kind { K_STR, K_UINT, K_BOOL, K_MAP };

/* Every field a request may carry, sorted by name as a canonical map's keys are. */
static const struct field {
	const char *name;
	uint32_t bit;
	enum kind kind;
	size_t off; /* where it goes in struct ag_ctl_req */
	size_t cap; /* for a string: its buffer's size */
} fields[] = {
    {"body", AG_CTL_F_BODY, K_MAP, offsetof(struct ag_ctl_req, body), 0},
    {"city", AG_CTL_F_CITY, K_STR, offsetof(struct ag_ctl_req, city), AG_CTL_CITY_MAX + 1},
    {"endpoint", AG_CTL_F_ENDPOINT, K_STR, offsetof(struct ag_ctl_req, endpoint),
     AG_CTL_ENDPOINT_MAX + 1},
    {"force", AG_CTL_F_FORCE, K_BOOL, offsetof(struct ag_ctl_req, force), 0},
    {"id", AG_CTL_F_ID, K_STR, offsetof(struct ag_ctl_req, id), AG_ID_MAX + 1},
    {"key", AG_CTL_F_KEY, K_STR, offsetof(struct ag_ctl_req, key), AG_B64_LEN + 1},
    {"lang", AG_CTL_F_LANG, K_STR, offsetof(struct ag_ctl_req, lang), AG_CTL_LANG_MAX + 1},
    {"limit", AG_CTL_F_LIMIT, K_UINT, offsetof(struct ag_ctl_req, limit), 0},
    {"name", AG_CTL_F_NAME, K_STR, offsetof(struct ag_ctl_req, name), AG_CTL_NAME_MAX + 1},
    {"path", AG_CTL_F_PATH, K_STR, offsetof(struct ag_ctl_req, path), AG_CTL_PATH_MAX + 1},
    {"role", AG_CTL_F_ROLE, K_STR, offsetof(struct ag_ctl_req, role), AG_CTL_ROLE_MAX + 1},
    {"since", AG_CTL_F_SINCE, K_UINT, offsetof(struct ag_ctl_req, since), 0},
    {"text", AG_CTL_F_TEXT, K_STR, offsetof(struct ag_ctl_req, text), AG_CTL_TEXT_MAX + 1},
    {"topic", AG_CTL_F_TOPIC, K_STR, offsetof(struct ag_ctl_req, topic), AG_CTL_TOPIC_MAX + 1},
    {"type", AG_CTL_F_TYPE, K_STR, offsetof(struct ag_ctl_req, rtype), AG_TYPE_MAX + 1},
};

static const struct field *field_find(const char *k, size_t klen)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == klen && memcmp(fields[i].name, k, klen) == 0)
			return &fields[i];
	return NULL;
}

const char *ag_ctl_field_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].bit == bit)
			return fields[i].name;
	return NULL;
}

void ag_ctl_req_init(struct ag_ctl_req *r, unsigned type)
{
	memset(r, 0, sizeof(*r));
	r->type = (uint16_t)type;
}

int ag_ctl_req_set(struct ag_ctl_req *r, uint32_t bit, const char *s)
{
	const struct field *f = NULL;
	size_t n = strlen(s);

	for (size_t i = 0; !f && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].bit == bit && fields[i].kind == K_STR)
			f = &fields[i];
	if (!f)
		return AG_ESHAPE;
	if (n >= f->cap)
		return AG_ETOOBIG;
	memcpy((char *)r + f->off, s, n + 1);
	if (bit == AG_CTL_F_ID)
		r->id_len = n;
	r->fields |= bit;
	return 0;
}

static int write_field(msgpack_packer *pk, const struct ag_ctl_req *r, const struct field *f)
{
	const char *p = (const char *)r + f->off;

	if (msgpack_pack_str_with_body(pk, f->name, strlen(f->name)) != 0)
		return -1;
	switch (f->kind) {
	case K_STR:
		return msgpack_pack_str_with_body(pk, p, strlen(p));
	case K_UINT:
		return msgpack_pack_uint64(pk, *(const uint64_t *)(const void *)p);
	case K_BOOL:
		return *(const bool *)(const void *)p ? msgpack_pack_true(pk)
		                                      : msgpack_pack_false(pk);
	default: /* already a canonical map: written as it is */
		return pk->callback(pk->data, (const char *)r->body, r->body_len);
	}
}

int ag_ctl_req_encode(const struct ag_ctl_req *r, uint8_t **out, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = 0, n = 0;

	*out = NULL;
	*len = 0;
	if (!ag_ctl_type_name(r->type) || (r->fields & ~types[r->type].allowed) ||
	    (types[r->type].required & ~r->fields) || ((r->fields & AG_CTL_F_BODY) && !r->body))
		return AG_ESHAPE;
	for (uint32_t b = r->fields; b; b &= b - 1)
		n++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = msgpack_pack_map(&pk, (size_t)n);
	/* The table is in byte order of the names, as a canonical map's keys are. */
	for (size_t i = 0; rc == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (r->fields & fields[i].bit)
			rc = write_field(&pk, r, &fields[i]);
	if (rc != 0) {
		msgpack_sbuffer_destroy(&sb);
		return AG_ENOMEM;
	}
	*out = (uint8_t *)sb.data; /* never NULL: the map's header is in it */
	*len = sb.size;
	return 0;
}

/* A map header at buf[*pos]; the input is already checked, so only the type can be wrong. */
static int read_map(const uint8_t *buf, size_t len, size_t *pos, uint32_t *n)
{
	uint8_t t = buf[*pos];

	if (t >= 0x80 && t <= 0x8f) {
		*n = t & 0x0f;
		*pos += 1;
		return 0;
	}
	if (t != 0xde && t != 0xdf)
		return AG_ESHAPE;
	if (len - *pos < (t == 0xde ? 3u : 5u))
		return AG_ETRUNC;
	*n = get_be(buf + *pos + 1, t == 0xde ? 2 : 4);
	*pos += t == 0xde ? 3 : 5;
	return 0;
}

static int read_str_field(struct ag_ctl_req *r, const struct field *f, const uint8_t *buf,
                          size_t len, size_t *pos)
{
	char *dst = (char *)r + f->off;
	const char *s;
	size_t n;
	int rc;

	if ((rc = ag__mp_read_str(buf, len, pos, &s, &n)) != 0)
		return rc;
	if (n >= f->cap)
		return AG_ETOOBIG;
	if (memchr(s, 0, n))
		return AG_ESHAPE;
	memcpy(dst, s, n);
	dst[n] = '\0';
	if (f->bit == AG_CTL_F_KEY)
		return ag_key_from_b64(r->pk, r->key);
	if (f->bit == AG_CTL_F_TYPE)
		return ag_rectype_check(s, n);
	if (f->bit == AG_CTL_F_ID) {
		r->id_len = n;
		return ag_recid_check(s, n);
	}
	return 0;
}

static int read_body_field(struct ag_ctl_req *r, const uint8_t *buf, size_t len, size_t *pos)
{
	size_t start = *pos;
	uint8_t t = buf[start];
	int rc;

	if (!((t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf))
		return AG_EBODY;
	if ((rc = ag__mp_skip(buf, len, pos)) != 0)
		return rc;
	if (*pos - start > AG_BODY_MAX)
		return AG_ETOOBIG;
	r->body = buf + start;
	r->body_len = *pos - start;
	return 0;
}

static int read_field(struct ag_ctl_req *r, const struct field *f, const uint8_t *buf, size_t len,
                      size_t *pos)
{
	uint8_t t = buf[*pos];

	switch (f->kind) {
	case K_STR:
		return read_str_field(r, f, buf, len, pos);
	case K_UINT:
		return ag__mp_read_uint(buf, len, pos, (uint64_t *)(void *)((char *)r + f->off));
	case K_BOOL:
		if (t != 0xc2 && t != 0xc3)
			return AG_ESHAPE;
		r->force = t == 0xc3;
		*pos += 1;
		return 0;
	default:
		return read_body_field(r, buf, len, pos);
	}
}

/* One key and its value; on error *at is where the fault lies and *field who is at fault. */
static int read_pair(struct ag_ctl_req *r, uint32_t allowed, const uint8_t *buf, size_t len,
                     size_t *pos, size_t *at, const char **field)
{
	const struct field *f;
	const char *k;
	size_t klen;
	int rc;

	*at = *pos;
	if ((rc = ag__mp_read_str(buf, len, pos, &k, &klen)) != 0)
		return rc;
	f = field_find(k, klen);
	if (!f || !(f->bit & allowed))
		return AG_ESHAPE; /* a field this request does not have */
	*field = f->name;
	*at = *pos;
	if ((rc = read_field(r, f, buf, len, pos)) != 0)
		return rc;
	r->fields |= f->bit;
	return 0;
}

/* The first field, in the table's order, that the request requires and lacks. */
static const char *missing_field(uint32_t required, uint32_t have)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((required & fields[i].bit) && !(have & fields[i].bit))
			return fields[i].name;
	return NULL;
}

int ag_ctl_req_decode(struct ag_ctl_req *r, unsigned type, const uint8_t *body, size_t len,
                      size_t *where, const char **field)
{
	size_t pos = 0, at = 0;
	const char *who = NULL;
	uint32_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->type = (uint16_t)type;
	if (!ag_ctl_type_name(type))
		rc = AG_EMSG;
	else if (len > AG_CTL_REQ_MAX)
		rc = AG_ETOOBIG;
	else if ((rc = ag_mp_check(body, len, AG_DEPTH_MAX, &at)) == 0)
		rc = read_map(body, len, &pos, &n);
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		who = NULL;
		rc = read_pair(r, types[type].allowed, body, len, &pos, &at, &who);
	}
	if (rc == 0 && (who = missing_field(types[type].required, r->fields)) != NULL) {
		at = len;
		rc = AG_ESHAPE;
	}
	if (where)
		*where = at;
	if (field)
		*field = rc != 0 ? who : NULL;
	return rc;
}

/* Reads the first key of a checked map, which must be "ok", and its boolean. */
static int resp_read_ok(const uint8_t *body, size_t len, bool *ok, size_t *where)
{
	size_t pos = 0, klen;
	const char *k;
	uint32_t n;
	int rc;

	*where = 0;
	if ((rc = read_map(body, len, &pos, &n)) != 0)
		return rc;
	*where = pos;
	if (n == 0 || ag__mp_read_str(body, len, &pos, &k, &klen) != 0 || klen != 2 ||
	    memcmp(k, "ok", 2) != 0)
		return AG_ESHAPE;
	*where = pos;
	if (body[pos] != 0xc2 && body[pos] != 0xc3)
		return AG_ESHAPE;
	*ok = body[pos] == 0xc3;
	return 0;
}

int ag_ctl_resp_check(const uint8_t *body, size_t len, bool *ok, size_t *where)
{
	size_t at = 0;
	int rc;

	if (len > AG_CTL_RESP_MAX)
		rc = AG_ETOOBIG;
	else if ((rc = ag_mp_check_relaxed(body, len, AG_CTL_RESP_DEPTH, &at)) == 0)
		rc = resp_read_ok(body, len, ok, &at);
	if (rc != 0 && where)
		*where = at;
	return rc;
}
