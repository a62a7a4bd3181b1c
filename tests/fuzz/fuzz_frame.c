/*
 * fuzz_frame.c: the frame decoder, fed any stream cut anywhere, as a socket
 * may cut it. The input's first four bytes seed the chunk sizes; the rest is
 * the stream. Every frame must come out whole, in order and equal to what a
 * plain reading of the stream gives, ending exactly where the decoder says it
 * stopped; every call must take at least one byte; and at the end the
 * decoder must hold exactly the bytes of the unfinished frame. Each chunk is
 * its own exactly sized copy, so a read past it is an AddressSanitizer
 * report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ag_frame_dec dec;
static uint8_t dec_buf[AG_FRAME_MAX]; /* 64 KiB: not on the stack */

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Byte-sized cuts split headers; large ones hold several frames. */
static size_t chunk_len(uint32_t *s, size_t left)
{
	uint32_t r = xorshift(s);
	size_t n;

	switch (r & 3) {
	case 0:
		n = 1 + (r >> 2) % 3;
		break;
	case 1:
		n = 1 + (r >> 2) % 700;
		break;
	case 2:
		n = 1 + (r >> 2) % (2 * (AG_FRAME_MAX + AG_FRAME_HDR_LEN));
		break;
	default:
		n = left;
		break;
	}
	return n < left ? n : left;
}

/* Checks a frame the decoder gave against the stream read plainly at *ref. */
static void check_frame(const uint8_t *s, size_t *ref, size_t end, const uint8_t *frame,
                        size_t flen)
{
	uint8_t hdr[AG_FRAME_HDR_LEN];
	size_t want = (size_t)s[*ref] << 8 | s[*ref + 1];

	if (flen != want || *ref + AG_FRAME_HDR_LEN + flen != end)
		abort();
	if (flen > 0 && memcmp(frame, s + *ref + AG_FRAME_HDR_LEN, flen) != 0)
		abort();
	if (ag_frame_header(hdr, flen) != 0 || memcmp(hdr, s + *ref, AG_FRAME_HDR_LEN) != 0)
		abort();
	*ref = end;
}

/* Feeds one chunk until the decoder has taken all of it. */
static void feed(const uint8_t *s, size_t off, const uint8_t *chunk, size_t n, size_t *ref)
{
	size_t at = 0, used, flen;
	const uint8_t *frame;
	int rc;

	while (at < n) {
		rc = ag_frame_dec_feed(&dec, chunk + at, n - at, &used, &frame, &flen);
		if (used == 0 || used > n - at || (rc == 0 && used != n - at) || rc < 0 || rc > 1)
			abort();
		at += used;
		if (rc == 1)
			check_frame(s, ref, off + at, frame, flen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed;
	const uint8_t *s;
	size_t len, off = 0, ref = 0; /* ref: where the next frame starts */
	uint8_t hdr[AG_FRAME_HDR_LEN];

	if (size < 4)
		return 0;
	seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
	       (uint32_t)data[3] << 24;
	if (seed == 0)
		seed = 1; /* xorshift's one fixed point */
	s = data + 4;
	len = size - 4;
	ag_frame_dec_init(&dec, dec_buf, sizeof(dec_buf));
	if (ag_frame_header(hdr, AG_FRAME_MAX + 1) != AG_ETOOBIG)
		abort();
	while (off < len) {
		size_t n = chunk_len(&seed, len - off);
		uint8_t *chunk = malloc(n);

		if (!chunk)
			abort();
		memcpy(chunk, s + off, n);
		feed(s, off, chunk, n, &ref);
		free(chunk);
		off += n;
	}
	if (ag_frame_dec_pending(&dec) != len - ref)
		abort();
	return 0;
}
