/*
 * frame.h: how Noise messages travel on a stream (DESIGN.md, "Transport"): a
 * 2-byte big-endian length, then that many bytes, at most 65,535. The decoder
 * takes whatever chunks the socket gives and yields whole frames; it never
 * holds more than one frame, so a peer cannot make it grow.
 */
#ifndef AGORA_FRAME_H
#define AGORA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AG_FRAME_HDR_LEN 2
#define AG_FRAME_MAX     65535

/*
 * The incremental decoder, embedded by its connection; about 64 KiB, the one
 * frame it may have to hold. The fields are private.
 */
struct ag_frame_dec {
	uint8_t hdr[AG_FRAME_HDR_LEN];
	size_t hdr_have; /* header bytes seen of the current frame */
	size_t len;      /* the current frame's length, once its header is in */
	size_t have;     /* bytes of it copied to buf */
	int yielded;     /* the last call gave out the current frame */
	uint8_t buf[AG_FRAME_MAX];
};

/* Writes the header of a frame of len bytes; AG_ETOOBIG over AG_FRAME_MAX. */
int ag_frame_header(uint8_t hdr[static AG_FRAME_HDR_LEN], size_t len) AG_WUR;

void ag_frame_dec_init(struct ag_frame_dec *d);

/*
 * Consumes bytes of in[0..len) up to the end of at most one frame, and says
 * how many in *used; the caller calls again with the rest. Returns 1 when a
 * frame is complete: *frame and *frame_len then give it (a frame may be
 * empty). A frame that lies whole in in is handed out in place, without a
 * copy; else it is gathered in the decoder. Either way *frame is valid until
 * the next call, or until in is released. Returns 0 when all of in is used
 * and the frame is not complete yet.
 */
int ag_frame_dec_feed(struct ag_frame_dec *d, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **frame, size_t *frame_len) AG_WUR;

/* Bytes held of a frame not yet complete: non-zero when a stream ends mid-frame. */
size_t ag_frame_dec_pending(const struct ag_frame_dec *d);

#endif
