/*
 * fuzz_ctl.c: the control codec takes any bytes without harm. The input is a
 * header and a body, as the daemon and the CLI receive them; both readings are
 * tried, the body as a request of every type and as a response, and a
 * response that passes is unpacked as the CLI unpacks it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
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
	    (r->body < body || r->body + r->body_len > body + len || r->body_len > AG_ENTRY_MAX ||
	     ag_mp_check(r->body, r->body_len, AG_DEPTH_MAX - 1, NULL) != 0))
		abort();
	if (strlen(r->id) != r->id_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ag_ctl_hdr h;
	struct ag_ctl_req r;
	const uint8_t *body;
	size_t len, where;
	const char *field;
	char err[256];
	json_t *j;
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
		if (ag_ctl_req_decode(&r, t, body, len, &where, &field) == 0)
			check_req(&r, body, len);
		else if (where > len)
			abort();
	}
	where = 0;
	if (ag_ctl_resp_check(body, len, &ok, &where) != 0) {
		if (where > len)
			abort();
		return 0;
	}
	/* What passes the check, the CLI unpacks: into a JSON object, never NULL but out of memory.
	 */
	j = client_decode(body, len, err, sizeof(err));
	if (!j || !json_is_object(j))
		abort();
	json_decref(j);
	return 0;
}
