/*
 * index_post.c: a term's entry as blocks hold it: [term length(1)][term]
 * [n: varint][bytes of postings: varint][postings], each posting the
 * difference from the one before.
 *
 * Within a list, postings sort by inverted timestamp, then docno. The first
 * is written whole: its inverted timestamp and its docno as varints, then
 * its weight byte. Each next one writes how much later in the list its
 * inverted timestamp is (a varint, 0 for the same millisecond); then, for
 * the same millisecond, how many docnos it skips past the one before (a
 * varint), or else its docno's difference from the one before, zigzagged
 * (a varint: docnos follow arrival, not time); then its weight. A posting
 * of a sync's list, where records follow one another in time, takes 3 to 5
 * bytes instead of 11: the index is half of what a sync writes.
 *
 * Varints are LEB128, 7 bits a byte, low first. The decoder is strict: a
 * list must take exactly its bytes, every posting must come after the one
 * before, and no value may pass its field's width.
 */
#include "index_internal.h"

static inline uint8_t *varint_put(uint8_t *o, uint64_t v)
{
	if (v < 0x80) { /* most: a list's postings are close in time and docno */
		*o = (uint8_t)v;
		return o + 1;
	}
	while (v >= 0x80) {
		*o++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o++ = (uint8_t)v;
	return o;
}

/* Reads a varint of at most 10 bytes from [*p, end): 0, or -1 when cut short or too long. */
static inline int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	if (*p < end && **p < 0x80) {
		*v = *(*p)++;
		return 0;
	}
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static uint64_t post_ts(const uint8_t *p)
{
	return be64_get(p) >> 16;
}

static inline void post_set(uint8_t *p, uint64_t ts, uint32_t docno, uint8_t weight)
{
	be64_put(p, ts << 16 | docno >> 16);
	p[8] = (uint8_t)(docno >> 8);
	p[9] = (uint8_t)docno;
	p[POST_KEY] = weight;
}

static size_t post_encode(uint8_t *out, const uint8_t *post, size_t n)
{
	uint8_t *o = out;
	uint64_t ts = 0;
	uint32_t docno = 0;

	for (size_t i = 0; i < n; i++, post += POST_LEN) {
		uint64_t t = post_ts(post);
		uint32_t d = posting_docno(post);

		if (i == 0) {
			o = varint_put(o, t);
			o = varint_put(o, d);
		} else if (t == ts) {
			o = varint_put(varint_put(o, 0), (uint64_t)(d - docno - 1));
		} else {
			int64_t dd = (int64_t)d - (int64_t)docno;

			o = varint_put(o, t - ts);
			o = varint_put(o, ((uint64_t)dd << 1) ^ (uint64_t)(dd >> 63));
		}
		*o++ = post[POST_KEY];
		ts = t;
		docno = d;
	}
	return (size_t)(o - out);
}

/* The posting after (ts, docno) from its two varints; 0, or -1 when it is not after it. */
static int post_next(uint64_t dt, uint64_t dv, uint64_t *ts, uint32_t *docno)
{
	int64_t dd;

	if (dt == 0) {
		if (dv >= UINT32_MAX - (uint64_t)*docno)
			return -1;
		*docno += (uint32_t)dv + 1;
		return 0;
	}
	if (dt > TS_MAX - *ts)
		return -1;
	dd = (int64_t)(dv >> 1) ^ -(int64_t)(dv & 1);
	if (dv > UINT32_MAX * UINT64_C(2) || (int64_t)*docno + dd < 0 ||
	    (int64_t)*docno + dd > (int64_t)UINT32_MAX)
		return -1;
	*ts += dt;
	*docno = (uint32_t)((int64_t)*docno + dd);
	return 0;
}

int index_entry_postings(const struct entry *e, uint8_t *out)
{
	const uint8_t *p = e->enc, *end = e->enc + e->elen;
	size_t n = e->n;
	uint64_t ts = 0, a, b;
	uint32_t docno = 0;

	for (size_t i = 0; i < n; i++, out += POST_LEN) {
		if (varint_get(&p, end, &a) != 0 || varint_get(&p, end, &b) != 0 || p == end)
			return MDB_CORRUPTED;
		if (i == 0) {
			if (a > TS_MAX || b > UINT32_MAX)
				return MDB_CORRUPTED;
			ts = a;
			docno = (uint32_t)b;
		} else if (post_next(a, b, &ts, &docno) != 0) {
			return MDB_CORRUPTED;
		}
		post_set(out, ts, docno, *p++);
	}
	return p == end ? 0 : MDB_CORRUPTED;
}

size_t index_entry_encode(uint8_t *out, const void *term, size_t tlen, const uint8_t *post,
                          size_t n)
{
	uint8_t enc_len[10], *o = out;
	/* The postings go where they would with the longest length before them, then move up. */
	uint8_t *at = out + 1 + tlen + 10 + 10;
	size_t elen = post_encode(at, post, n), k;

	*o++ = (uint8_t)tlen;
	memcpy(o, term, tlen);
	o = varint_put(o + tlen, n);
	k = (size_t)(varint_put(enc_len, elen) - enc_len);
	memcpy(o, enc_len, k);
	memmove(o + k, at, elen);
	return (size_t)(o + k + elen - out);
}

int index_entry_parse(const uint8_t *b, size_t len, size_t *pos, struct entry *e)
{
	const uint8_t *p = b + *pos, *end = b + len;
	uint64_t n, elen;

	if (*pos >= len || (e->tlen = *p++) == 0 || e->tlen > TERM_MAX ||
	    (size_t)(end - p) < e->tlen)
		return MDB_CORRUPTED;
	e->term = p;
	p += e->tlen;
	/* Each posting takes 3 bytes at least: a bad n cannot ask for more memory than elen. */
	if (varint_get(&p, end, &n) != 0 || varint_get(&p, end, &elen) != 0 || n == 0 ||
	    elen > (size_t)(end - p) || n > elen / 3)
		return MDB_CORRUPTED;
	e->n = (uint32_t)n;
	e->enc = p;
	e->elen = (size_t)elen;
	*pos = (size_t)(p + elen - b);
	return 0;
}
