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
 * The incremental decoder, embedded by its connection. It gathers a frame cut
 * across reads in the caller's buffer, whose size is the longest frame it
 * takes: AG_FRAME_MAX for a transport, far less for a handshake. The fields
 * are private.
 */
struct ag_frame_dec {
	uint8_t hdr[AG_FRAME_HDR_LEN];
	size_t hdr_have; /* header bytes seen of the current frame */
	size_t len;      /* the current frame's length, once its header is in */
	size_t have;     /* bytes of it copied to buf */
	int yielded;     /* the last call gave out the current frame */
	uint8_t *buf;    /* the caller's, cap bytes */
	size_t cap;
};

/* Writes the header of a frame of len bytes; AG_ETOOBIG over AG_FRAME_MAX. */
int ag_frame_header(uint8_t hdr[static AG_FRAME_HDR_LEN], size_t len) AG_WUR;

/* Starts d afresh on buf, which it uses until the next init; frames over cap bytes are refused. */
void ag_frame_dec_init(struct ag_frame_dec *d, uint8_t *buf, size_t cap);

/*
 * Consumes bytes of in[0..len) up to the end of at most one frame, and says
 * how many in *used; the caller calls again with the rest. Returns 1 when a
 * frame is complete: *frame and *frame_len then give it (a frame may be
 * empty). A frame that lies whole in in is handed out in place, without a
 * copy; else it is gathered in the decoder. Either way *frame is valid until
 * the next call, or until in is released. Returns 0 when all of in is used
 * and the frame is not complete yet, and AG_ETOOBIG when a header announces
 * more than the decoder's cap (the stream cannot go on).
 */
int ag_frame_dec_feed(struct ag_frame_dec *d, const uint8_t *in, size_t len, size_t *used,
                      const uint8_t **frame, size_t *frame_len) AG_WUR;

/* Bytes held of a frame not yet complete: non-zero when a stream ends mid-frame. */
size_t ag_frame_dec_pending(const struct ag_frame_dec *d);

#endif
