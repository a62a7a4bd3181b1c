/*
 * fuzz_handshake.c: whatever a peer sends is refused or read without harm,
 * as IK message 1 to a responder, as message 2 to an initiator, and as framed
 * transport messages after the handshake. The keys, ephemerals and prologue
 * are those of the IK test vector, so the vector's messages are valid seeds.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "key.h"
#include "noise.h"

#define CHUNK 7 /* transport bytes arrive in small pieces, to cut frames anywhere */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	uint8_t init_s[32], init_e[32], resp_s[32], resp_e[32], resp_pub[32];
	struct ag_noise_cs resp_recv; /* after the vector's handshake */
} v;

static const uint8_t prologue[] = "John Galt";
static const uint8_t payload1[] = "Ludwig von Mises", payload2[] = "Murray Rothbard";
static uint8_t buf[AG_NOISE_MAX_MSG];

static void hex(uint8_t out[32], const char *s)
{
	if (sodium_hex2bin(out, 32, s, 64, NULL, NULL, NULL) != 0)
		abort();
}

static struct ag_noise_hs *responder(void)
{
	struct ag_noise_hs *hs;

	if (ag_noise_hs_new(&hs, AG_NOISE_IK, 0, prologue, 9, v.resp_s, NULL) != 0 ||
	    ag_noise_set_ephemeral(hs, v.resp_e) != 0)
		abort();
	return hs;
}

/* An initiator that has sent the vector's message 1, and waits for message 2. */
static struct ag_noise_hs *initiator(uint8_t *msg1, size_t *len)
{
	struct ag_noise_hs *hs;

	if (ag_noise_hs_new(&hs, AG_NOISE_IK, 1, prologue, 9, v.init_s, v.resp_pub) != 0 ||
	    ag_noise_set_ephemeral(hs, v.init_e) != 0 ||
	    ag_noise_write_message(hs, payload1, 16, msg1, 128, len) != 0)
		abort();
	return hs;
}

static void setup(void)
{
	struct ag_noise_hs *i, *r;
	struct ag_noise_cs unused;
	uint8_t msg[128];
	size_t n, p;

	if (ag_init() != 0)
		abort();
	hex(v.init_s, "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
	hex(v.init_e, "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
	hex(v.resp_s, "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
	hex(v.resp_e, "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");
	crypto_scalarmult_base(v.resp_pub, v.resp_s);
	i = initiator(msg, &n);
	r = responder();
	if (ag_noise_read_message(r, msg, n, buf, sizeof(buf), &p) != 0 ||
	    ag_noise_write_message(r, payload2, 15, msg, sizeof(msg), &n) != 0 ||
	    ag_noise_split(r, &unused, &v.resp_recv) != 0)
		abort();
	ag_noise_hs_free(i);
	ag_noise_hs_free(r);
}

static void as_message1(const uint8_t *data, size_t size)
{
	struct ag_noise_hs *r = responder();
	uint8_t rs[32], msg[128];
	size_t n;

	if (ag_noise_read_message(r, data, size, buf, sizeof(buf), &n) == 0) {
		/* Read means authenticated: the key is known, and the answer goes out. */
		if (ag_noise_remote_static(r, rs) != 0 ||
		    ag_noise_write_message(r, NULL, 0, msg, sizeof(msg), &n) != 0)
			abort();
	} else if (ag_noise_remote_static(r, rs) != AG_ESTATE) {
		abort(); /* a failed handshake gives out nothing */
	}
	ag_noise_hs_free(r);
}

static void as_message2(const uint8_t *data, size_t size)
{
	struct ag_noise_cs send, recv;
	uint8_t msg1[128];
	size_t n;
	struct ag_noise_hs *i = initiator(msg1, &n);

	if (ag_noise_read_message(i, data, size, buf, sizeof(buf), &n) == 0) {
		if (!ag_noise_hs_done(i) || ag_noise_split(i, &send, &recv) != 0)
			abort();
		ag_noise_cs_clear(&send);
		ag_noise_cs_clear(&recv);
	}
	ag_noise_hs_free(i);
}

/* Frames go to the responder's receiving cipher until one fails. */
static void as_transport(const uint8_t *data, size_t size)
{
	static struct ag_frame_dec dec;
	static uint8_t dec_buf[AG_FRAME_MAX];
	struct ag_noise_cs cs = v.resp_recv;
	const uint8_t *frame;
	size_t off = 0, used, flen, n;
	int dead = 0;

	ag_frame_dec_init(&dec, dec_buf, sizeof(dec_buf));
	while (off < size) {
		size_t len = size - off < CHUNK ? size - off : CHUNK;

		if (ag_frame_dec_feed(&dec, data + off, len, &used, &frame, &flen) == 1 && !dead) {
			if (flen > AG_NOISE_MAX_MSG)
				abort();
			dead = ag_noise_decrypt(&cs, frame, flen, buf, sizeof(buf), &n) != 0;
		}
		off += used;
	}
	ag_noise_cs_clear(&cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size > AG_NOISE_MAX_MSG + 1)
		return 0;
	as_message1(data, size);
	as_message2(data, size);
	as_transport(data, size);
	return 0;
}
