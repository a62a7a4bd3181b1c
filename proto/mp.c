/*
 * mp.c: a strict reader for canonical msgpack.
 *
 * msgpack-c's unpacker accepts every legal encoding of a value and keeps no
 * trace of which one it saw, and it sizes its allocations from counts that the
 * input declares. Canonical form (one entry, one hash) and "bounded before
 * allocated" both need the wire bytes, so this file checks them, allocating
 * nothing. Encoding stays with msgpack-c's packer, which always writes the
 * shortest form.
 */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "mp.h"
#include "mp_internal.h"

struct walk {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int maxdepth;
	size_t err_at; /* header of the innermost value refused; SIZE_MAX until then */
	int relaxed;   /* ag_mp_check_relaxed: bounded and well-formed, not canonical */
	int checked;   /* ag__mp_skip: passed ag_mp_check already, only its extent is wanted */
};

static int walk_value(struct walk *w, int depth);

static int need(const struct walk *w, size_t n)
{
	return w->len - w->pos >= n ? 0 : AG_ETRUNC;
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int ag__mp_utf8_cp(const uint8_t *s, size_t len, size_t *pos, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	uint8_t c = s[*pos];
	size_t n = c < 0x80             ? 1
	           : (c & 0xe0) == 0xc0 ? 2
	           : (c & 0xf0) == 0xe0 ? 3
	           : (c & 0xf8) == 0xf0 ? 4
	                                : 0;
	uint32_t v;

	if (n == 0 || len - *pos < n)
		return AG_EUTF8;
	v = n == 1 ? c : c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[*pos + i] & 0xc0) != 0x80)
			return AG_EUTF8;
		v = (v << 6) | (s[*pos + i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return AG_EUTF8;
	*pos += n;
	*cp = v;
	return 0;
}

/* Most text of the network is ASCII, read 8 bytes at a time, and the rest letters of two bytes. */
int ag_utf8_check(const uint8_t *s, size_t len)
{
	size_t pos = 0;
	uint32_t cp;

	while (pos < len) {
		/* Past the ASCII bytes of the next 8, to the first that is not. */
		if (len - pos >= 8) {
			uint64_t high = ag_le_load(s + pos, 8) & 0x8080808080808080ull;

			if (!high) {
				pos += 8;
				continue;
			}
			pos += (size_t)__builtin_ctzll(high) / 8;
		} else if (s[pos] < 0x80) {
			pos++;
			continue;
		}
		/* Two bytes, as accented letters and Arabic are: always a scalar value, past
		 * overlongs. */
		if (s[pos] >= 0xc2 && s[pos] < 0xe0 && len - pos >= 2 &&
		    (s[pos + 1] & 0xc0) == 0x80) {
			pos += 2;
			continue;
		}
		if (ag__mp_utf8_cp(s, len, &pos, &cp) != 0)
			return AG_EUTF8;
	}
	return 0;
}

/* Read a header's length field of n bytes, checking it is the shortest form. */
static int walk_len(struct walk *w, size_t n, uint64_t shortest_from, uint64_t *out)
{
	if (need(w, n) != 0)
		return AG_ETRUNC;
	*out = be(w->buf + w->pos, n);
	if (*out < shortest_from && !w->relaxed)
		return AG_ENONCANON;
	w->pos += n;
	return 0;
}

static int walk_bytes(struct walk *w, uint64_t n, int utf8)
{
	if (n > w->len - w->pos)
		return AG_ETRUNC;
	if (utf8 && !w->checked && ag_utf8_check(w->buf + w->pos, n) != 0)
		return AG_EUTF8;
	w->pos += n;
	return 0;
}

/*
 * Floats must be finite: records travel as JSON to and from the CLI, and JSON
 * has no NaN or infinity, so such a value could be stored but never shown.
 */
static int walk_float(struct walk *w, size_t n)
{
	uint64_t bits, exp_mask = n == 8 ? 0x7ff0000000000000ull : 0x7f800000ull;

	if (need(w, n) != 0)
		return AG_ETRUNC;
	bits = be(w->buf + w->pos, n);
	if ((bits & exp_mask) == exp_mask)
		return AG_EFLOAT;
	w->pos += n;
	return 0;
}

static int walk_array(struct walk *w, uint64_t n, int depth)
{
	int rc;

	if (depth >= w->maxdepth)
		return AG_EDEPTH;
	/* Every element takes a byte at least: refuse counts the input cannot hold. */
	if (n > w->len - w->pos)
		return AG_ETRUNC;
	for (uint64_t i = 0; i < n; i++)
		if ((rc = walk_value(w, depth + 1)) != 0)
			return rc;
	return 0;
}

/* Map keys are strings, unique, in bytewise order: a prefix before its extensions. */
static int walk_key(struct walk *w, const uint8_t **prev, size_t *prevlen)
{
	size_t start = w->pos, klen;
	const uint8_t *k;
	int rc, cmp;

	if (need(w, 1) != 0)
		return AG_ETRUNC;
	if (!((w->buf[start] >= 0xa0 && w->buf[start] <= 0xbf) ||
	      (w->buf[start] >= 0xd9 && w->buf[start] <= 0xdb))) {
		w->err_at = start;
		return AG_EKEYORDER;
	}
	/* Walk the string as a value first: its header must be shortest, its bytes UTF-8. */
	if ((rc = walk_value(w, 0)) != 0)
		return rc;
	(void)ag__mp_read_str(w->buf, w->len, &start, (const char **)&k, &klen);
	if (*prev) {
		cmp = memcmp(*prev, k, *prevlen < klen ? *prevlen : klen);
		if (cmp > 0 || (cmp == 0 && *prevlen >= klen)) {
			w->err_at = (size_t)((const uint8_t *)k - w->buf);
			return AG_EKEYORDER;
		}
	}
	*prev = w->relaxed ? NULL : k;
	*prevlen = klen;
	return 0;
}

static int walk_map(struct walk *w, uint64_t n, int depth)
{
	const uint8_t *prev = NULL;
	size_t prevlen = 0;
	int rc;

	if (depth >= w->maxdepth)
		return AG_EDEPTH;
	if (n > (w->len - w->pos) / 2)
		return AG_ETRUNC;
	for (uint64_t i = 0; i < n; i++) {
		if ((rc = walk_key(w, &prev, &prevlen)) != 0)
			return rc;
		if ((rc = walk_value(w, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

/* Integers: each width only for values the narrower forms cannot hold. */
static int walk_int(struct walk *w, uint8_t t)
{
	size_t n = (size_t)1 << ((t - 0xcc) & 3);
	uint64_t v;
	int64_t s;

	if (need(w, n) != 0)
		return AG_ETRUNC;
	v = be(w->buf + w->pos, n);
	w->pos += n;
	if (w->relaxed)
		return 0;
	if (t <= 0xcf) /* uint 8..64 */
		return v >= (n == 1 ? 0x80 : (uint64_t)1 << (4 * n)) ? 0 : AG_ENONCANON;
	s = n == 1 ? (int8_t)v : n == 2 ? (int16_t)v : n == 4 ? (int32_t)v : (int64_t)v;
	if (s >= 0)
		return AG_ENONCANON; /* a positive value is always written unsigned */
	return s < (n == 1 ? -32 : -((int64_t)1 << (4 * n - 1))) ? 0 : AG_ENONCANON;
}

static int walk_header(struct walk *w, int depth);

static int walk_value(struct walk *w, int depth)
{
	size_t hdr = w->pos;
	int rc = walk_header(w, depth);

	if (rc != 0 && w->err_at == SIZE_MAX)
		w->err_at = hdr;
	return rc;
}

static int walk_header(struct walk *w, int depth)
{
	uint8_t t;
	uint64_t n;
	int rc;

	if (need(w, 1) != 0)
		return AG_ETRUNC;
	t = w->buf[w->pos++];
	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 0;
	if (t >= 0xa0 && t <= 0xbf)
		return walk_bytes(w, t & 0x1f, 1);
	if (t >= 0x90 && t <= 0x9f)
		return walk_array(w, t & 0x0f, depth);
	if (t >= 0x80 && t <= 0x8f)
		return walk_map(w, t & 0x0f, depth);
	switch (t) {
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
		return walk_int(w, t);
	case 0xcb:
		return walk_float(w, 8);
	case 0xca:
		if (!w->relaxed)
			return AG_EEXT;
		return walk_float(w, 4);
	case 0xd9:
	case 0xda:
	case 0xdb:
		rc = walk_len(w, (size_t)1 << (t - 0xd9),
		              t == 0xd9   ? 32
		              : t == 0xda ? 256
		                          : 65536,
		              &n);
		return rc != 0 ? rc : walk_bytes(w, n, 1);
	case 0xc4:
	case 0xc5:
	case 0xc6:
		rc = walk_len(w, (size_t)1 << (t - 0xc4),
		              t == 0xc4   ? 0
		              : t == 0xc5 ? 256
		                          : 65536,
		              &n);
		return rc != 0 ? rc : walk_bytes(w, n, 0);
	case 0xdc:
	case 0xdd:
		rc = walk_len(w, t == 0xdc ? 2 : 4, t == 0xdc ? 16 : 65536, &n);
		return rc != 0 ? rc : walk_array(w, n, depth);
	case 0xde:
	case 0xdf:
		rc = walk_len(w, t == 0xde ? 2 : 4, t == 0xde ? 16 : 65536, &n);
		return rc != 0 ? rc : walk_map(w, n, depth);
	case 0xc1:
		return AG_ESHAPE; /* never used by msgpack */
	default:
		return AG_EEXT; /* float 32, fixext, ext 8..32 */
	}
}

int ag_mp_check_prefix(const uint8_t *buf, size_t len, int maxdepth, size_t *used, size_t *where)
{
	struct walk w = {buf, len, 0, maxdepth, SIZE_MAX};
	int rc = walk_value(&w, 0);

	if (rc != 0) {
		if (where)
			*where = w.err_at;
		return rc;
	}
	*used = w.pos;
	return 0;
}

int ag_mp_check(const uint8_t *buf, size_t len, int maxdepth, size_t *where)
{
	size_t used = 0;
	int rc = ag_mp_check_prefix(buf, len, maxdepth, &used, where);

	if (rc != 0)
		return rc;
	if (used != len) {
		if (where)
			*where = used;
		return AG_ETRAILING;
	}
	return 0;
}

int ag_mp_check_relaxed(const uint8_t *buf, size_t len, int maxdepth, size_t *where)
{
	struct walk w = {buf, len, 0, maxdepth, SIZE_MAX, 1};
	int rc = walk_value(&w, 0);

	if (rc == 0 && w.pos != len) {
		w.err_at = w.pos;
		rc = AG_ETRAILING;
	}
	if (rc != 0 && where)
		*where = w.err_at;
	return rc;
}

int ag__fixbuf_write(void *data, const char *buf, size_t len)
{
	struct ag__fixbuf *b = data;

	if (len > b->cap - b->len)
		return -1;
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

/* The typed readers below assume their input passed ag_mp_check. */

int ag__mp_read_uint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
	uint8_t t;
	size_t n;

	if (*pos >= len)
		return AG_ETRUNC;
	t = buf[*pos];
	if (t <= 0x7f) {
		*v = t;
		*pos += 1;
		return 0;
	}
	if (t < 0xcc || t > 0xcf)
		return AG_ESHAPE;
	n = (size_t)1 << (t - 0xcc);
	if (len - *pos < 1 + n)
		return AG_ETRUNC;
	*v = be(buf + *pos + 1, n);
	*pos += 1 + n;
	return 0;
}

static int read_sized(const uint8_t *buf, size_t len, size_t *pos, size_t hdr, uint64_t n,
                      const uint8_t **p, size_t *plen)
{
	if (len - *pos < hdr || n > len - *pos - hdr)
		return AG_ETRUNC;
	*p = buf + *pos + hdr;
	*plen = n;
	*pos += hdr + n;
	return 0;
}

/* A str 8..32 or bin 8..32 value: its header's length field is 1 << (tag - tag0) bytes. */
static int read_len_prefixed(const uint8_t *buf, size_t len, size_t *pos, uint8_t tag0,
                             const uint8_t **p, size_t *plen)
{
	size_t n = (size_t)1 << (buf[*pos] - tag0);

	if (len - *pos < 1 + n)
		return AG_ETRUNC;
	return read_sized(buf, len, pos, 1 + n, be(buf + *pos + 1, n), p, plen);
}

int ag__mp_read_str(const uint8_t *buf, size_t len, size_t *pos, const char **s, size_t *slen)
{
	uint8_t t;

	if (*pos >= len)
		return AG_ETRUNC;
	t = buf[*pos];
	if (t >= 0xa0 && t <= 0xbf)
		return read_sized(buf, len, pos, 1, t & 0x1f, (const uint8_t **)s, slen);
	if (t < 0xd9 || t > 0xdb)
		return AG_ESHAPE;
	return read_len_prefixed(buf, len, pos, 0xd9, (const uint8_t **)s, slen);
}

int ag__mp_read_bin(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **b, size_t *blen)
{
	if (*pos >= len)
		return AG_ETRUNC;
	if (buf[*pos] < 0xc4 || buf[*pos] > 0xc6)
		return AG_ESHAPE;
	return read_len_prefixed(buf, len, pos, 0xc4, b, blen);
}

int ag__mp_read_bin_n(const uint8_t *buf, size_t len, size_t *pos, uint8_t *out, size_t want)
{
	const uint8_t *b;
	size_t n;
	int rc = ag__mp_read_bin(buf, len, pos, &b, &n);

	if (rc != 0)
		return rc;
	if (n != want)
		return AG_ESHAPE;
	memcpy(out, b, n);
	return 0;
}

int ag__mp_take_nil(const uint8_t *buf, size_t len, size_t *pos)
{
	if (*pos >= len || buf[*pos] != 0xc0)
		return 0;
	(*pos)++;
	return 1;
}

/* An array or map header: fix form from fix0 (16 entries), then 16- and 32-bit counts. */
static int read_count(const uint8_t *buf, size_t len, size_t *pos, uint8_t fix0, uint8_t wide0,
                      uint64_t *n)
{
	uint8_t t;

	if (*pos >= len)
		return AG_ETRUNC;
	t = buf[*pos];
	if (t >= fix0 && t <= fix0 + 0x0f) {
		*n = t & 0x0f;
		*pos += 1;
		return 0;
	}
	if (t != wide0 && t != wide0 + 1)
		return AG_ESHAPE;
	if (len - *pos < (t == wide0 ? 3u : 5u))
		return AG_ETRUNC;
	*n = be(buf + *pos + 1, t == wide0 ? 2 : 4);
	*pos += t == wide0 ? 3 : 5;
	return 0;
}

int ag__mp_read_array(const uint8_t *buf, size_t len, size_t *pos, uint64_t *n)
{
	return read_count(buf, len, pos, 0x90, 0xdc, n);
}

int ag__mp_read_map(const uint8_t *buf, size_t len, size_t *pos, uint64_t *n)
{
	return read_count(buf, len, pos, 0x80, 0xde, n);
}

int ag__mp_read_int(const uint8_t *buf, size_t len, size_t *pos, int64_t *v)
{
	uint8_t t;
	size_t n;
	uint64_t u;
	int rc;

	if (*pos >= len)
		return AG_ETRUNC;
	t = buf[*pos];
	if (t >= 0xe0) {
		*v = (int8_t)t;
		*pos += 1;
		return 0;
	}
	if (t < 0xd0 || t > 0xd3) {
		if ((rc = ag__mp_read_uint(buf, len, pos, &u)) != 0)
			return rc;
		if (u > INT64_MAX)
			return AG_ETOOBIG;
		*v = (int64_t)u;
		return 0;
	}
	n = (size_t)1 << (t - 0xd0);
	if (len - *pos < 1 + n)
		return AG_ETRUNC;
	u = be(buf + *pos + 1, n);
	*v = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : n == 4 ? (int32_t)u : (int64_t)u;
	*pos += 1 + n;
	return 0;
}

int ag__mp_read_bool(const uint8_t *buf, size_t len, size_t *pos, int *v)
{
	if (*pos >= len)
		return AG_ETRUNC;
	if (buf[*pos] != 0xc2 && buf[*pos] != 0xc3)
		return AG_ESHAPE;
	*v = buf[*pos] == 0xc3;
	*pos += 1;
	return 0;
}

/* Its callers checked the whole buffer: its strings are not read again, its bounds still are. */
int ag__mp_skip(const uint8_t *buf, size_t len, size_t *pos)
{
	struct walk w = {buf + *pos, len - *pos, 0, 64, SIZE_MAX, 1, 1};
	int rc = walk_value(&w, 0);

	if (rc == 0)
		*pos += w.pos;
	return rc;
}
