/*
 * fuzz_ctl.c: the control codec takes any bytes without harm. The input is a
 * header and a body, as the daemon and the CLI receive them; both readings are
 * tried, the body as a request of every type (and a request that decodes
 * must encode again to the same bytes) and as a response, decoded as each
 * typed response (ctl_resp.h), whose packing must then be a fixed point.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_resp.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decoded request's strings are terminated within their buffers, its body within the input. */
static void check_req(const struct ag_ctl_req *r, const uint8_t *body, size_t len)
{
	if (memchr(r->name, 0, sizeof(r->name)) == NULL ||
	    memchr(r->id, 0, sizeof(r->id)) == NULL ||
	    memchr(r->text, 0, sizeof(r->text)) == NULL ||
	    memchr(r->key, 0, sizeof(r->key)) == NULL)
		abort();
	if ((r->fields & ~ag_ctl_fields_allowed(r->type)) != 0)
		abort();
	if ((ag_ctl_fields_required(r->type) & ~r->fields) != 0)
		abort();
	if (r->body &&
	    (r->body < body || r->body + r->body_len > body + len || r->body_len > AG_BODY_MAX ||
	     ag_mp_check(r->body, r->body_len, AG_DEPTH_MAX - 1, NULL) != 0))
		abort();
	if (strlen(r->id) != r->id_len)
		abort();
}

/* A request that decodes encodes again to the very same bytes: canonical, one table both ways. */
static void check_reencode(const struct ag_ctl_req *r, const uint8_t *body, size_t len)
{
	uint8_t *out;
	size_t n;

	if (ag_ctl_req_encode(r, &out, &n) != 0 || n != len || memcmp(out, body, len) != 0)
		abort();
	free(out);
}

/* Packs a decoded response: 0 with the bytes in sb (which the caller destroys). */
static int repack(const struct ag_ctl_shape *s, const void *v, bool ok, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return ag_ctl_resp_pack(&pk, s, v, ok);
}

/*
 * A body that a typed decoder takes packs again into bytes that decode to
 * the same (packing is a fixed point after one round); one it refuses says
 * where within the input.
 */
static void check_typed(const struct ag_ctl_shape *s, const uint8_t *body, size_t len)
{
	union {
		struct ag_ctl_status_resp st;
		struct ag_ctl_peers pl;
		struct ag_ctl_id id;
		struct ag_ctl_city city;
		struct ag_ctl_published pub;
		struct ag_ctl_check check;
		struct ag_ctl_metrics metrics;
		struct ag_ctl_backup backup;
		struct ag_ctl_succession succession;
		struct ag_ctl_forks forks;
		struct ag_ctl_events events;
		struct ag_ctl_error err;
		struct ag_ctl_get get;
		struct ag_ctl_records recs;
		struct ag_ctl_history hist;
		struct ag_ctl_log log;
	} a, b; /* every response struct of ag_ctl_resp_shape(), so that any decodes into it */
	msgpack_sbuffer one, two;
	size_t where = 0;
	bool ok, ok2;

	if (s->size > sizeof(a))
		abort(); /* a response struct this union lacks: add it above */
	if (ag_ctl_resp_decode(s, &a, &ok, body, len, &where, NULL) != 0) {
		if (where > len)
			abort();
		ag_ctl_resp_clear(s, &a);
		return;
	}
	if (repack(s, &a, ok, &one) != 0 ||
	    ag_ctl_resp_decode(s, &b, &ok2, (const uint8_t *)one.data, one.size, NULL, NULL) != 0 ||
	    ok2 != ok || repack(s, &b, ok2, &two) != 0 || one.size != two.size ||
	    memcmp(one.data, two.data, one.size) != 0)
		abort();
	msgpack_sbuffer_destroy(&one);
	msgpack_sbuffer_destroy(&two);
	ag_ctl_resp_clear(s, &a);
	ag_ctl_resp_clear(s, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ag_ctl_hdr h;
	struct ag_ctl_req r;
	const uint8_t *body;
	size_t len, where;
	const char *field;
	bool ok;

	if (!ready) {
		if (ag_init() != 0)
			abort();
		ready = 1;
	}
	if (size < AG_CTL_HDR_LEN)
		return 0;
	(void)!ag_ctl_hdr_decode(&h, data, false);
	(void)!ag_ctl_hdr_decode(&h, data, true);
	body = data + AG_CTL_HDR_LEN;
	len = size - AG_CTL_HDR_LEN;
	for (unsigned t = 0; t <= AG_CTL_TYPE_END; t++) {
		where = 0;
		if (ag_ctl_req_decode(&r, t, body, len, &where, &field) == 0) {
			check_req(&r, body, len);
			check_reencode(&r, body, len);
		} else if (where > len)
			abort();
	}
	where = 0;
	if (ag_ctl_resp_check(body, len, &ok, &where) != 0) {
		if (where > len)
			abort();
		return 0;
	}
	for (unsigned t = 0; t <= AG_CTL_TYPE_END; t++)
		if (ag_ctl_resp_shape(t))
			check_typed(ag_ctl_resp_shape(t), body, len);
	check_typed(&ag_ctl_error_shape, body, len);
	return 0;
}
