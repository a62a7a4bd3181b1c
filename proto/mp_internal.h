/* mp_internal.h: typed readers over msgpack that ag_mp_check already accepted. */
#ifndef AGORA_MP_INTERNAL_H
#define AGORA_MP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Each reads one value at buf[*pos], advances *pos, and returns AG_ESHAPE on another type. */
int ag__mp_read_uint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v);
int ag__mp_read_str(const uint8_t *buf, size_t len, size_t *pos, const char **s, size_t *slen);
int ag__mp_read_bin(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **b, size_t *blen);
int ag__mp_read_array(const uint8_t *buf, size_t len, size_t *pos, uint64_t *n);
int ag__mp_read_map(const uint8_t *buf, size_t len, size_t *pos, uint64_t *n);
int ag__mp_read_int(const uint8_t *buf, size_t len, size_t *pos,
                    int64_t *v); /* AG_ETOOBIG over INT64_MAX */
int ag__mp_read_bool(const uint8_t *buf, size_t len, size_t *pos, int *v);
int ag__mp_skip(const uint8_t *buf, size_t len, size_t *pos);
/* A bin of exactly want bytes, copied to out (AG_ESHAPE for another length). */
int ag__mp_read_bin_n(const uint8_t *buf, size_t len, size_t *pos, uint8_t *out, size_t want);
/* If buf[*pos] is nil: consumes it and returns 1; else 0, *pos unchanged. */
int ag__mp_take_nil(const uint8_t *buf, size_t len, size_t *pos);

/* A msgpack-c write target over a caller's fixed buffer: no allocation, -1 when full. */
struct ag__fixbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
};

int ag__fixbuf_write(void *data, const char *buf, size_t len);

/* One UTF-8 code point at s[*pos] (not ASCII-fast-pathed); AG_EUTF8 if invalid. */
int ag__mp_utf8_cp(const uint8_t *s, size_t len, size_t *pos, uint32_t *cp);

#endif
