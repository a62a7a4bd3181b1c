/* test_frame.c: the 2-byte length framing, fed in every way a socket may cut it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

/* The frames of one test stream; their bytes are a pattern of their index and offset. */
struct stream {
	const size_t *lens;
	size_t count;
	uint8_t *bytes;
	size_t len;
};

static uint8_t frame_byte(size_t frame, size_t off)
{
	return (uint8_t)(frame * 31 + off * 7 + 1);
}

static void stream_build(struct stream *s, const size_t *lens, size_t count)
{
	size_t off = 0;

	s->lens = lens;
	s->count = count;
	s->len = 0;
	for (size_t i = 0; i < count; i++)
		s->len += AG_FRAME_HDR_LEN + lens[i];
	s->bytes = malloc(s->len);
	assert_non_null(s->bytes);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(ag_frame_header(s->bytes + off, lens[i]), 0);
		off += AG_FRAME_HDR_LEN;
		for (size_t j = 0; j < lens[i]; j++)
			s->bytes[off++] = frame_byte(i, j);
	}
}

static void check_frame(const struct stream *s, size_t i, const uint8_t *frame, size_t len)
{
	assert_true(i < s->count);
	assert_int_equal(len, s->lens[i]);
	for (size_t j = 0; j < len; j++)
		assert_int_equal(frame[j], frame_byte(i, j));
}

/*
 * Feeds the stream in chunks ending at the given cut points (ascending,
 * within the stream) and checks every frame comes out whole and in order.
 * Returns how many frames were handed out in place, without a copy.
 */
static void dec_restart(struct ag_frame_dec *d);

static size_t feed_cuts(struct ag_frame_dec *d, const struct stream *s, const size_t *cuts,
                        size_t ncuts)
{
	size_t start = 0, got = 0, in_place = 0;

	dec_restart(d);
	for (size_t c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : s->len;
		const uint8_t *p = s->bytes + start, *frame;
		size_t left = end - start, used, flen;

		while (left > 0) {
			int rc = ag_frame_dec_feed(d, p, left, &used, &frame, &flen);

			assert_true(rc == 0 || rc == 1);
			assert_true(used > 0 && used <= left);
			if (rc == 1) {
				check_frame(s, got++, frame, flen);
				in_place += frame >= s->bytes && frame <= s->bytes + s->len;
			}
			p += used;
			left -= used;
		}
		start = end;
	}
	assert_int_equal(got, s->count);
	assert_int_equal(ag_frame_dec_pending(d), 0);
	return in_place;
}

/* A decoder with a buffer for the longest frame, as a connection that is up has. */
struct dec_big {
	struct ag_frame_dec d; /* first: free() of &d frees it all */
	uint8_t buf[AG_FRAME_MAX];
};

static void dec_restart(struct ag_frame_dec *d)
{
	struct dec_big *b = (struct dec_big *)d;

	ag_frame_dec_init(d, b->buf, sizeof(b->buf));
}

static struct ag_frame_dec *dec_new(void)
{
	struct dec_big *b = malloc(sizeof(*b));

	assert_non_null(b);
	dec_restart(&b->d);
	return &b->d;
}

static void test_header(void **state)
{
	static const size_t lens[] = {0, 1, 255, 256, 4660, AG_FRAME_MAX};
	uint8_t hdr[AG_FRAME_HDR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(ag_frame_header(hdr, lens[i]), 0);
		assert_int_equal(hdr[0] << 8 | hdr[1], lens[i]);
	}
	assert_int_equal(ag_frame_header(hdr, 4660), 0);
	assert_int_equal(hdr[0], 0x12);
	assert_int_equal(hdr[1], 0x34);
	assert_int_equal(ag_frame_header(hdr, AG_FRAME_MAX + 1), AG_ETOOBIG);
	assert_int_equal(ag_frame_header(hdr, SIZE_MAX), AG_ETOOBIG);
}

/* Every single cut of a stream with empty, tiny and mid-sized frames. */
static void test_every_cut(void **state)
{
	static const size_t lens[] = {0, 1, 2, 0, 3, 300, 0, 17};
	struct ag_frame_dec *d = dec_new();
	struct stream s;

	(void)state;
	stream_build(&s, lens, sizeof(lens) / sizeof(lens[0]));
	for (size_t cut = 0; cut <= s.len; cut++)
		feed_cuts(d, &s, &cut, 1);
	free(s.bytes);
	free(d);
}

/* Every pair of cuts, so a cut can fall on both sides of a header at once. */
static void test_every_two_cuts(void **state)
{
	static const size_t lens[] = {5, 0, 1, 40, 2};
	struct ag_frame_dec *d = dec_new();
	struct stream s;
	size_t cuts[2];

	(void)state;
	stream_build(&s, lens, sizeof(lens) / sizeof(lens[0]));
	for (cuts[0] = 0; cuts[0] <= s.len; cuts[0]++)
		for (cuts[1] = cuts[0]; cuts[1] <= s.len; cuts[1]++)
			feed_cuts(d, &s, cuts, 2);
	free(s.bytes);
	free(d);
}

static void test_byte_by_byte(void **state)
{
	static const size_t lens[] = {0, AG_FRAME_MAX, 1, 0};
	struct ag_frame_dec *d = dec_new();
	struct stream s;
	size_t *cuts;

	(void)state;
	stream_build(&s, lens, sizeof(lens) / sizeof(lens[0]));
	cuts = malloc(s.len * sizeof(*cuts));
	assert_non_null(cuts);
	for (size_t i = 0; i < s.len - 1; i++)
		cuts[i] = i + 1;
	/* One byte at a time, only frames of at most one byte come out in place. */
	assert_int_equal(feed_cuts(d, &s, cuts, s.len - 1), 3);
	free(cuts);
	free(s.bytes);
	free(d);
}

/* Whole frames in one chunk are not copied; the largest frame passes either way. */
static void test_max_and_in_place(void **state)
{
	static const size_t lens[] = {AG_FRAME_MAX, 3, AG_FRAME_MAX};
	static const size_t cut_sets[][2] = {{1, 2},         {2, 3},         {65536, 65537},
	                                     {65537, 65538}, {65540, 65541}, {100, 65600}};
	struct ag_frame_dec *d = dec_new();
	struct stream s;

	(void)state;
	stream_build(&s, lens, sizeof(lens) / sizeof(lens[0]));
	assert_int_equal(feed_cuts(d, &s, NULL, 0), 3);
	for (size_t i = 0; i < sizeof(cut_sets) / sizeof(cut_sets[0]); i++)
		feed_cuts(d, &s, cut_sets[i], 2);
	free(s.bytes);
	free(d);
}

static void test_pending(void **state)
{
	static const uint8_t part[] = {0x00, 0x04, 'a', 'b'};
	struct ag_frame_dec *d = dec_new();
	const uint8_t *frame;
	size_t used, flen;

	(void)state;
	dec_restart(d);
	assert_int_equal(ag_frame_dec_pending(d), 0);
	assert_int_equal(ag_frame_dec_feed(d, part, 1, &used, &frame, &flen), 0);
	assert_int_equal(ag_frame_dec_pending(d), 1);
	assert_int_equal(ag_frame_dec_feed(d, part + 1, 3, &used, &frame, &flen), 0);
	assert_int_equal(used, 3);
	assert_int_equal(ag_frame_dec_pending(d), 4);
	assert_int_equal(ag_frame_dec_feed(d, NULL, 0, &used, &frame, &flen), 0);
	assert_int_equal(used, 0);
	assert_int_equal(ag_frame_dec_feed(d, (const uint8_t *)"cdXY", 4, &used, &frame, &flen), 1);
	assert_int_equal(used, 2);
	assert_int_equal(flen, 4);
	assert_memory_equal(frame, "abcd", 4);
	assert_int_equal(ag_frame_dec_pending(d), 0);
	free(d);
}

/* A decoder on a small buffer (a handshake's) refuses a longer frame, whole or cut. */
static void test_cap(void **state)
{
	static const uint8_t four[] = {0x00, 0x04, 'a', 'b', 'c', 'd'};
	static const uint8_t five[] = {0x00, 0x05, 'a', 'b', 'c', 'd', 'e'};
	struct ag_frame_dec d;
	uint8_t buf[4];
	const uint8_t *frame;
	size_t used, flen;

	(void)state;
	ag_frame_dec_init(&d, buf, sizeof(buf));
	assert_int_equal(ag_frame_dec_feed(&d, four, 3, &used, &frame, &flen), 0);
	assert_int_equal(ag_frame_dec_feed(&d, four + 3, 3, &used, &frame, &flen), 1);
	assert_int_equal(flen, 4);
	assert_memory_equal(frame, "abcd", 4);
	assert_int_equal(ag_frame_dec_feed(&d, five, sizeof(five), &used, &frame, &flen),
	                 AG_ETOOBIG);
	ag_frame_dec_init(&d, buf, sizeof(buf));
	assert_int_equal(ag_frame_dec_feed(&d, five, 1, &used, &frame, &flen), 0);
	assert_int_equal(ag_frame_dec_feed(&d, five + 1, 2, &used, &frame, &flen), AG_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_every_cut),
	    cmocka_unit_test(test_every_two_cuts),
	    cmocka_unit_test(test_byte_by_byte),
	    cmocka_unit_test(test_max_and_in_place),
	    cmocka_unit_test(test_pending),
	    cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
