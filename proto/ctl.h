/*
 * ctl.h: the control socket's messages (PROTOCOL.md, section 2), between
 * agora and agorad. A message is a fixed 12-byte header, then a msgpack map.
 * No I/O: the daemon and the CLI read and write the bytes; this file says
 * whether they are a message of the right shape, before anything is sized
 * from them.
 */
#ifndef AGORA_CTL_H
#define AGORA_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "key.h"

#define AG_CTL_VERSION  1
#define AG_CTL_HDR_LEN  12
#define AG_CTL_REQ_MAX  (1u << 20)  /* bytes of a request's body */
#define AG_CTL_RESP_MAX (64u << 20) /* bytes of a response's body */
#define AG_CTL_RESPONSE 0x8000u     /* a response's type: the request's, with this bit */
#define AG_CTL_ERROR    0xffffu     /* the type of an error response */
/* A response nests records in a list (3 levels) whose bodies may nest 15 more. */
#define AG_CTL_RESP_DEPTH (AG_DEPTH_MAX + 4)

/* The requests, one per CLI command that needs the daemon. Numbers are the wire's. */
enum ag_ctl_type {
	AG_CTL_ID = 1,
	AG_CTL_STATUS = 2,
	AG_CTL_PEER_ADD = 3,
	AG_CTL_PEER_REMOVE = 4,
	AG_CTL_PEER_LIST = 5,
	AG_CTL_PUT = 6,
	AG_CTL_GET = 7,
	AG_CTL_LIST = 8,
	AG_CTL_SEARCH = 9,
	AG_CTL_RETRACT = 10,
	AG_CTL_HISTORY = 11,
	AG_CTL_LOG = 12,
	AG_CTL_RESOLVE = 13,
	AG_CTL_CHECK = 14,
	AG_CTL_METRICS = 15,
	AG_CTL_BACKUP = 16,
	AG_CTL_COMPACT = 17,
	AG_CTL_KEY_ROTATE = 18,    /* issue 16: agora key rotate */
	AG_CTL_RECOVER_BEGIN = 19, /* agora recover, first: the new key and what the cert names */
	AG_CTL_RECOVER = 20,       /* agora recover, then: the signed certificate */
	AG_CTL_CERT_IMPORT = 21,   /* agora cert import */
	AG_CTL_FORKS = 22,
	AG_CTL_MEMBER_LOG = 23,
	AG_CTL_TYPE_END /* one past the last */
};

/*
 * What a node whose own feed forked says, in agora status, agora check, fork
 * list and at every refused publish: why, and the way out (DESIGN.md "Trust
 * over the years": recovery names where the valid feed ends).
 */
#define AG_CTL_RECOVER_HINT                                                                        \
	"this node's own feed forked: it publishes no more under this key; hand the city's "       \
	"place to a new key with agora recover --recovery-key FILE (man agora, KEYS)"

/* The "status" of an error response; 1 and 2 are also the CLI's exit statuses. */
enum ag_ctl_status {
	AG_CTL_ENOTFOUND = 1, /* no such record, peer or city */
	AG_CTL_EREFUSED = 2,  /* the request or its input is refused */
	AG_CTL_EBUSY = 3,     /* the node cannot do it now (too many clients) */
	AG_CTL_EVERSION = 4,  /* the request's version is not the daemon's */
	AG_CTL_EFAILED = 5,   /* the node failed (store, disk); the daemon logged why */
};

struct ag_ctl_hdr {
	uint16_t version;
	uint16_t type;
	uint32_t id;  /* the request id, echoed in the response */
	uint32_t len; /* bytes of body that follow */
};

/* Writes h as the 12 header bytes. */
void ag_ctl_hdr_encode(uint8_t out[static AG_CTL_HDR_LEN], const struct ag_ctl_hdr *h);

/*
 * Reads the 12 header bytes into h (every field, whatever the outcome, so an
 * error can still be answered by request id). For a request (response false):
 * AG_EVERSION if the version is not AG_CTL_VERSION, AG_ETOOBIG over
 * AG_CTL_REQ_MAX, AG_EMSG for a type that is not a request. For a response:
 * AG_EVERSION, AG_ETOOBIG over AG_CTL_RESP_MAX, AG_EMSG for a type that is
 * neither AG_CTL_ERROR nor AG_CTL_RESPONSE | a request type. The version is
 * checked first, the length next.
 */
int ag_ctl_hdr_decode(struct ag_ctl_hdr *h, const uint8_t in[static AG_CTL_HDR_LEN],
                      bool response) AG_WUR;

/* The request's name ("peer-add"), or NULL if type is not a request. */
const char *ag_ctl_type_name(unsigned type);

/* Limits on the string fields of a request, in bytes, without the NUL. */
#define AG_CTL_NAME_MAX     64
#define AG_CTL_ENDPOINT_MAX 260 /* a 253-byte DNS name, ':' and a port */
#define AG_CTL_CITY_MAX     64  /* a name, or a 44-character base64 key */
#define AG_CTL_TOPIC_MAX    64
#define AG_CTL_TEXT_MAX     1024
#define AG_CTL_LANG_MAX     2    /* a language code: "fr" */
#define AG_CTL_PATH_MAX     4095 /* an absolute path, as PATH_MAX allows */
#define AG_CTL_ROLE_MAX     16   /* a member's role: partner or associate */

/* The fields a request may carry: a bit each in ag_ctl_req.fields. */
enum {
	AG_CTL_F_BODY = 1 << 0,
	AG_CTL_F_CITY = 1 << 1,
	AG_CTL_F_ENDPOINT = 1 << 2,
	AG_CTL_F_FORCE = 1 << 3,
	AG_CTL_F_ID = 1 << 4,
	AG_CTL_F_KEY = 1 << 5,
	AG_CTL_F_LIMIT = 1 << 6,
	AG_CTL_F_NAME = 1 << 7,
	AG_CTL_F_SINCE = 1 << 8,
	AG_CTL_F_TEXT = 1 << 9,
	AG_CTL_F_TOPIC = 1 << 10,
	AG_CTL_F_TYPE = 1 << 11,
	AG_CTL_F_LANG = 1 << 12,
	AG_CTL_F_PATH = 1 << 13,
	AG_CTL_F_ROLE = 1 << 14,
};

/*
 * A decoded request. The strings are copied, NUL-terminated and checked
 * (UTF-8, no NUL, within their limit; type and id as DESIGN.md says; key a
 * base64 key, decoded into pk); body points into the decoded buffer. A field
 * the request does not carry is "" or 0, and its bit is clear in fields.
 */
struct ag_ctl_req {
	uint16_t type;
	uint32_t fields;
	char key[AG_B64_LEN + 1];
	uint8_t pk[AG_PK_LEN]; /* key, decoded */
	char name[AG_CTL_NAME_MAX + 1];
	char endpoint[AG_CTL_ENDPOINT_MAX + 1];
	char rtype[AG_TYPE_MAX + 1]; /* the record type: "type" on the wire */
	char id[AG_ID_MAX + 1];
	size_t id_len;
	char city[AG_CTL_CITY_MAX + 1];
	char topic[AG_CTL_TOPIC_MAX + 1];
	char text[AG_CTL_TEXT_MAX + 1];
	char lang[AG_CTL_LANG_MAX + 1];
	char path[AG_CTL_PATH_MAX + 1];
	char role[AG_CTL_ROLE_MAX + 1];
	/* A record body: a canonical msgpack map of at most AG_BODY_MAX bytes. */
	const uint8_t *body;
	size_t body_len;
	uint64_t since;
	uint64_t limit;
	bool force;
};

/*
 * Strictly decodes the body of a request of the given type: one canonical
 * msgpack map (ag_mp_check, nesting as in an entry, so an embedded record
 * body may nest as deep as it may in an entry), whose keys are exactly
 * fields that this type allows, each of its kind and within its limits, and
 * every field it requires. On error *where (if not NULL) is the offset of
 * the offending byte and *field (if not NULL) the name of the field at
 * fault, or NULL if none is to blame.
 */
int ag_ctl_req_decode(struct ag_ctl_req *r, unsigned type, const uint8_t *body, size_t len,
                      size_t *where, const char **field) AG_WUR;

/* Zeroes r, a request of type with no field yet. */
void ag_ctl_req_init(struct ag_ctl_req *r, unsigned type);

/*
 * Sets the string field bit (AG_CTL_F_CITY, ...) of r to s, and its bit:
 * AG_ETOOBIG if s is over the field's limit, AG_ESHAPE if bit is not a
 * string field. The other kinds are set directly (r->limit, r->body), with
 * their bit.
 */
int ag_ctl_req_set(struct ag_ctl_req *r, uint32_t bit, const char *s) AG_WUR;

/*
 * Encodes the fields of r that r->fields names as a request body, by the
 * table ag_ctl_req_decode reads: a canonical map, keys in byte order, so
 * each key is written once. r->body, if set, must be a canonical map (its
 * bytes are copied as they are). *out is allocated, the caller frees it. 0,
 * AG_ENOMEM, or AG_ESHAPE if r has a field its type does not allow, or
 * lacks one it requires.
 */
int ag_ctl_req_encode(const struct ag_ctl_req *r, uint8_t **out, size_t *len) AG_WUR;

/* A request field's key on the wire ("key" for AG_CTL_F_KEY), so no client writes it again. */
const char *ag_ctl_field_name(uint32_t bit);

/* The fields a request type allows and those it requires (AG_CTL_F_* bits); 0 if unknown. */
uint32_t ag_ctl_fields_allowed(unsigned type);
uint32_t ag_ctl_fields_required(unsigned type);

/*
 * Checks a response body before it is unpacked: one msgpack map, bounded
 * (ag_mp_check_relaxed, at most AG_CTL_RESP_DEPTH levels), whose first key
 * is "ok", a boolean. Canonical form is not required: responses are read, never
 * signed. *ok receives that boolean.
 */
int ag_ctl_resp_check(const uint8_t *body, size_t len, bool *ok, size_t *where) AG_WUR;

#endif
