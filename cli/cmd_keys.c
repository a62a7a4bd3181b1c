/* cmd_keys.c: a city's keys over the years: key rotate, recover, cert import. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "ctlj.h"
#include "key.h"
#include "keyfile.h"
#include "recovery.h"

/* What a succession did, for a person or a script. */
static int print_succession(const struct args *a, const struct ag_ctl_succession *s,
                            const char *what)
{
	if (a->json)
		return cmd_json(ctlj_from(&ag_ctl_succession_shape, s));
	out_printf("%s: %s\nold key:  %s\n", what, s->key, s->old);
	return 0;
}

int cmd_key_rotate(const struct args *a)
{
	struct ag_ctl_succession s;
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, AG_CTL_KEY_ROTATE);
	if ((rc = cmd_call(a, &req, &s)) != 0)
		return rc;
	rc = print_succession(a, &s, "new key");
	ag_ctl_resp_clear(&ag_ctl_succession_shape, &s);
	return rc;
}

#define CERT_DEFAULT "agora-succession.cert"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The certificate's fields from what RECOVER_BEGIN said. 0 or -1. */
static int cert_fields(struct ag_cert *c, const struct ag_ctl_succession *s)
{
	memset(c, 0, sizeof(*c));
	c->last_seq = s->seq;
	c->timestamp = now_ms();
	if (ag_key_from_b64(c->network, s->network) != 0 ||
	    ag_key_from_b64(c->old_key, s->old) != 0 || ag_key_from_b64(c->new_key, s->key) != 0)
		return -1;
	return s->seq == 0 || sodium_hex2bin(c->last_hash, sizeof(c->last_hash), s->hash,
	                                     strlen(s->hash), NULL, NULL, NULL) == 0
	           ? 0
	           : -1;
}

/* Signs the certificate that begin describes with the recovery key in path, into raw. */
static int cert_sign(const struct args *a, const char *path, const struct ag_ctl_succession *begin,
                     uint8_t raw[static AG_CERT_MAX], size_t *len)
{
	uint8_t pk[AG_PK_LEN], sk[AG_SK_LEN];
	char why[1024], key[AG_B64_LEN + 1];
	struct ag_cert c;
	int rc = EXIT_REFUSED;

	if (recovery_read(path, pk, sk, why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s", why);
	ag_key_to_b64(key, pk);
	if (strcmp(key, begin->recovery) != 0)
		cmd_fail(a, rc, "%s is not this city's recovery key: its feed names %s", path,
		         begin->recovery);
	else if (cert_fields(&c, begin) != 0 || ag_cert_sign(&c, sk, raw, AG_CERT_MAX, len) != 0)
		cmd_fail(a, rc, "agorad's answer cannot be signed");
	else
		rc = 0;
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* The certificate as a file: # comments for people, and its base64 (b64), created new. */
static int cert_write(const struct args *a, const char *path, const struct ag_ctl_succession *s,
                      const char *b64)
{
	FILE *f = fopen(path, "wx");

	if (!f)
		return cmd_fail(a, EXIT_FAILED, "%s: %s", path, strerror(errno));
	fprintf(f,
	        "# agora succession certificate: %s is succeeded by %s;\n"
	        "# its entries after seq %llu are void. On a partner's node: agora cert import "
	        "FILE\n%s\n",
	        s->old, s->key, (unsigned long long)s->seq, b64);
	if (ferror(f) | fclose(f))
		return cmd_fail(a, EXIT_FAILED, "%s: cannot be written", path);
	return 0;
}

/* RECOVER or CERT_IMPORT of the certificate whose base64 is b64. */
static int cert_call(const struct args *a, unsigned type, const char *b64,
                     struct ag_ctl_succession *s)
{
	struct ag_ctl_req req;
	int rc;

	ag_ctl_req_init(&req, type);
	if ((rc = cmd_req_set(a, &req, AG_CTL_F_TEXT, b64)) != 0)
		return rc;
	return cmd_call(a, &req, s);
}

/* RECOVER_BEGIN: the new key and what to sign, for our key or a lost one (--old-key). */
static int recover_begin(const struct args *a, struct ag_ctl_succession *begin)
{
	const char *lost = a->opt[OPT_OLD_KEY];
	struct ag_ctl_req req;
	int rc;

	if (!a->opt[OPT_RECOVERY_KEY])
		return cmd_fail(a, EXIT_REFUSED, "missing --recovery-key FILE");
	if (lost && (rc = cmd_check_key(a, "--old-key", lost)) != 0)
		return rc;
	ag_ctl_req_init(&req, AG_CTL_RECOVER_BEGIN);
	if (lost && (rc = cmd_req_set(a, &req, AG_CTL_F_KEY, lost)) != 0)
		return rc;
	return cmd_call(a, &req, begin);
}

int cmd_recover(const struct args *a)
{
	const char *out = a->opt[OPT_OUTPUT] ? a->opt[OPT_OUTPUT] : CERT_DEFAULT;
	struct ag_ctl_succession begin, done;
	uint8_t raw[AG_CERT_MAX];
	char b64[2 * AG_CERT_MAX];
	size_t len = 0;
	int rc;

	if ((rc = recover_begin(a, &begin)) != 0 ||
	    (rc = cert_sign(a, a->opt[OPT_RECOVERY_KEY], &begin, raw, &len)) != 0)
		return rc;
	sodium_bin2base64(b64, sizeof(b64), raw, len, sodium_base64_VARIANT_ORIGINAL);
	/* The file first: whatever happens next, the city holds its certificate. */
	if ((rc = cert_write(a, out, &begin, b64)) != 0 ||
	    (rc = cert_call(a, AG_CTL_RECOVER, b64, &done)) != 0)
		return rc;
	if (!a->json)
		out_printf("certificate: %s (give it to a partner's IT: agora cert import FILE)\n",
		           out);
	rc = print_succession(a, &done, "new key");
	ag_ctl_resp_clear(&ag_ctl_succession_shape, &done);
	return rc;
}

int cmd_cert_import(const struct args *a)
{
	struct ag_ctl_succession s;
	char b64[2 * AG_CERT_MAX], why[1024];
	int rc;

	if (recovery_file_line(a->pos[0], b64, sizeof(b64), why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s", why);
	if ((rc = cert_call(a, AG_CTL_CERT_IMPORT, b64, &s)) != 0)
		return rc;
	rc = print_succession(a, &s, "key");
	ag_ctl_resp_clear(&ag_ctl_succession_shape, &s);
	return rc;
}

int cmd_key_new(const struct args *a)
{
	char path[4096], why[4200], key[AG_B64_LEN + 1];
	uint8_t pk[AG_PK_LEN];

	snprintf(path, sizeof(path), "%s/%s", a->dir, KEYFILE_NAME);
	if (keyfile_create(path, pk, why, sizeof(why)) != 0)
		return cmd_fail(a, EXIT_REFUSED, "%s", why);
	ag_key_to_b64(key, pk);
	if (a->json)
		return cmd_json(json_pack("{s:s}", "key", key));
	out_printf("%s\n", key);
	return 0;
}
