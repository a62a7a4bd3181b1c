/* frame.c: the length-prefixed framing of Noise messages on a stream. */
#include <string.h>

#include "frame.h"

int ag_frame_header(uint8_t hdr[static AG_FRAME_HDR_LEN], size_t len)
{
	if (len > AG_FRAME_MAX)
		return AG_ETOOBIG;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	return 0;
}

/* Ready for the next frame, on the same buffer. */
static void dec_reset(struct ag_frame_dec *d)
{
	d->hdr_have = 0;
	d->len = 0;
	d->have = 0;
	d->yielded = 0;
}

void ag_frame_dec_init(struct ag_frame_dec *d, uint8_t *buf, size_t cap)
{
	dec_reset(d);
	d->buf = buf;
	d->cap = cap;
}

/* Takes what it can of the header from in; returns the bytes taken. */
static size_t dec_header(struct ag_frame_dec *d, const uint8_t *in, size_t len)
{
	size_t n = 0;

	while (d->hdr_have < AG_FRAME_HDR_LEN && n < len)
		d->hdr[d->hdr_have++] = in[n++];
	if (d->hdr_have == AG_FRAME_HDR_LEN)
		d->len = (size_t)d->hdr[0] << 8 | d->hdr[1];
	return n;
}

static int dec_yield(struct ag_frame_dec *d, const uint8_t *frame, const uint8_t **out,
                     size_t *out_len)
{
	*out = frame;
	*out_len = d->len;
	d->yielded = 1;
	return 1;
}

int ag_frame_dec_feed(struct ag_frame_dec *d, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **frame, size_t *frame_len)
{
	size_t off, n;

	if (d->yielded)
		dec_reset(d);
	*used = 0;
	if (len == 0)
		return 0;
	off = dec_header(d, in, len);
	*used = off;
	if (d->hdr_have < AG_FRAME_HDR_LEN)
		return 0;
	if (d->len > d->cap)
		return AG_ETOOBIG;
	/* The common case, a whole frame in one read: no copy at all. */
	if (d->have == 0 && len - off >= d->len) {
		*used = off + d->len;
		return dec_yield(d, in + off, frame, frame_len);
	}
	n = d->len - d->have < len - off ? d->len - d->have : len - off;
	if (n > 0)
		memcpy(d->buf + d->have, in + off, n);
	d->have += n;
	*used = off + n;
	if (d->have < d->len)
		return 0;
	return dec_yield(d, d->buf, frame, frame_len);
}

size_t ag_frame_dec_pending(const struct ag_frame_dec *d)
{
	if (d->yielded)
		return 0;
	return d->hdr_have + d->have;
}
