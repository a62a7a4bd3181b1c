/* entry.c: an entry of format 2, a header and its body; record type and id checks. */
#include <string.h>

#include "entry.h"
#include "entry_internal.h"
#include "mp.h"
#include "mp_internal.h"

int ag_rectype_check(const char *type, size_t len)
{
	if (len < 1 || len > AG_TYPE_MAX)
		return AG_ERECTYPE;
	for (size_t i = 0; i < len; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '-'))
			return AG_ERECTYPE;
	return 0;
}

int ag_recid_check(const char *id, size_t len)
{
	const uint8_t *s = (const uint8_t *)id;
	size_t pos = 0;
	uint32_t cp;

	if (len < 1 || len > AG_ID_MAX)
		return AG_ERECID;
	while (pos < len) {
		if (ag__mp_utf8_cp(s, len, &pos, &cp) != 0)
			return AG_EUTF8;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return AG_ERECID; /* Unicode category Cc */
	}
	return 0;
}

int ag__entry_read_type(const uint8_t *buf, size_t len, size_t *pos, char out[AG_TYPE_MAX + 1])
{
	const char *s;
	size_t n;
	int rc = ag__mp_read_str(buf, len, pos, &s, &n);

	if (rc != 0)
		return rc;
	if ((rc = ag_rectype_check(s, n)) != 0)
		return rc;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int ag_entry_open(struct ag_entry *e, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                  size_t blen, size_t *where, bool *in_body)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if (in_body)
		*in_body = false;
	if ((rc = ag_header_decode(&e->h, hdr, hlen, where)) != 0)
		return rc;
	if (!body)
		return 0;
	if (in_body)
		*in_body = true;
	if ((rc = ag_body_check(&e->h, body, blen, where)) != 0)
		return rc;
	e->body = body;
	e->body_len = blen;
	return 0;
}

void ag_entry_hash(const struct ag_entry *e, uint8_t out[static AG_HASH_LEN])
{
	ag_header_hash(&e->h, out);
}

int ag_entry_sign(struct ag_entry *e, const uint8_t sk[static AG_SK_LEN], uint8_t *out, size_t cap,
                  size_t *outlen)
{
	int rc = ag_header_sign(&e->h, e->body, e->body ? e->body_len : 0, sk, out, cap, outlen);

	if (rc == 0)
		e->verified = true;
	return rc;
}
