/* test_ctl.c: the control message codec, header and request shapes, case by case. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl.h"
#include "ctl_resp.h"
#include "jsonmp.h"
#include "mp.h"
#include "testutil.h"

#define KEY44 "VUrkMAS3avEWf+hpOE/F/hoXLqVyOvQeh+Iu/99oB/k="

#define KEY  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define X64  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X128 X64 X64

static void hdr_bytes(uint8_t out[AG_CTL_HDR_LEN], unsigned version, unsigned type, uint32_t id,
                      uint32_t len)
{
	struct ag_ctl_hdr h = {(uint16_t)version, (uint16_t)type, id, len};

	ag_ctl_hdr_encode(out, &h);
}

static void test_hdr_layout(void **state)
{
	static const uint8_t want[AG_CTL_HDR_LEN] = {0,    1,    0, 6, 0xde, 0xad,
	                                             0xbe, 0xef, 0, 1, 0,    0};
	uint8_t b[AG_CTL_HDR_LEN];
	struct ag_ctl_hdr h;

	(void)state;
	hdr_bytes(b, 1, AG_CTL_PUT, 0xdeadbeef, 65536);
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(ag_ctl_hdr_decode(&h, b, false), 0);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.type, AG_CTL_PUT);
	assert_int_equal(h.id, 0xdeadbeef);
	assert_int_equal(h.len, 65536);
}

static const struct hdr_case {
	const char *what;
	unsigned version, type;
	uint32_t len;
	bool response;
	int rc;
} hdr_cases[] = {
    {"every request type", 1, AG_CTL_ID, 0, false, 0},
    {"last request type", 1, AG_CTL_TYPE_END - 1, 0, false, 0},
    {"type 0", 1, 0, 0, false, AG_EMSG},
    {"type past the last", 1, AG_CTL_TYPE_END, 0, false, AG_EMSG},
    {"a response type sent as a request", 1, AG_CTL_RESPONSE | AG_CTL_ID, 0, false, AG_EMSG},
    {"the error type sent as a request", 1, AG_CTL_ERROR, 0, false, AG_EMSG},
    {"request at its limit", 1, AG_CTL_PUT, AG_CTL_REQ_MAX, false, 0},
    {"request over its limit", 1, AG_CTL_PUT, AG_CTL_REQ_MAX + 1, false, AG_ETOOBIG},
    {"request of 4 GiB", 1, AG_CTL_PUT, UINT32_MAX, false, AG_ETOOBIG},
    {"version 0", 0, AG_CTL_ID, 0, false, AG_EVERSION},
    {"version 2", 2, AG_CTL_ID, 0, false, AG_EVERSION},
    {"version checked before length", 2, AG_CTL_ID, UINT32_MAX, false, AG_EVERSION},
    {"version checked before type", 0xffff, 0, 0, false, AG_EVERSION},
    {"length checked before type", 1, 0, UINT32_MAX, false, AG_ETOOBIG},
    {"response", 1, AG_CTL_RESPONSE | AG_CTL_LOG, 0, true, 0},
    {"error response", 1, AG_CTL_ERROR, 10, true, 0},
    {"response at its limit", 1, AG_CTL_RESPONSE | AG_CTL_LIST, AG_CTL_RESP_MAX, true, 0},
    {"response over its limit", 1, AG_CTL_RESPONSE | AG_CTL_LIST, AG_CTL_RESP_MAX + 1, true,
     AG_ETOOBIG},
    {"a request type as a response", 1, AG_CTL_ID, 0, true, AG_EMSG},
    {"response to no request", 1, AG_CTL_RESPONSE, 0, true, AG_EMSG},
    {"response to an unknown request", 1, AG_CTL_RESPONSE | AG_CTL_TYPE_END, 0, true, AG_EMSG},
    {"response of another version", 3, AG_CTL_ERROR, 0, true, AG_EVERSION},
};

static void test_hdr_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		struct ag_ctl_hdr h;
		uint8_t b[AG_CTL_HDR_LEN];
		int rc;

		hdr_bytes(b, c->version, c->type, 7, c->len);
		rc = ag_ctl_hdr_decode(&h, b, c->response);
		if (rc != c->rc)
			fail_msg("%s: got %d (%s), want %d", c->what, rc, ag_strerror(rc), c->rc);
		/* Every field is read whatever the outcome, so an error can name the request. */
		assert_int_equal(h.version, c->version);
		assert_int_equal(h.type, c->type);
		assert_int_equal(h.id, 7);
		assert_int_equal(h.len, c->len);
	}
}

static void test_type_names(void **state)
{
	(void)state;
	assert_null(ag_ctl_type_name(0));
	assert_null(ag_ctl_type_name(AG_CTL_TYPE_END));
	assert_null(ag_ctl_type_name(AG_CTL_ERROR));
	for (unsigned t = 1; t < AG_CTL_TYPE_END; t++) {
		assert_non_null(ag_ctl_type_name(t));
		/* What a request requires, it allows. */
		assert_int_equal(ag_ctl_fields_required(t) & ~ag_ctl_fields_allowed(t), 0);
	}
	assert_string_equal(ag_ctl_type_name(AG_CTL_PEER_ADD), "peer-add");
	assert_int_equal(ag_ctl_fields_allowed(99), 0);
}

/* A request body written as JSON, so the table reads as what goes on the wire. */
static const struct req_case {
	const char *what;
	unsigned type;
	const char *json;
	int rc;
	const char *field; /* the field blamed, or NULL */
} req_cases[] = {
    {"id takes nothing", AG_CTL_ID, "{}", 0, NULL},
    {"id with a field", AG_CTL_ID, "{\"name\": \"x\"}", AG_ESHAPE, NULL},
    {"unknown field", AG_CTL_STATUS, "{\"verbose\": true}", AG_ESHAPE, NULL},
    {"unknown type", 0, "{}", AG_EMSG, NULL},
    {"type past the last", AG_CTL_TYPE_END, "{}", AG_EMSG, NULL},
    {"peer add", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "\", \"name\": \"Tunis\"}", 0, NULL},
    {"peer add with endpoint", AG_CTL_PEER_ADD,
     "{\"key\": \"" KEY "\", \"name\": \"Tunis\", \"endpoint\": \"tunis.example.org:7447\"}", 0,
     NULL},
    {"peer add without name", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "\"}", AG_ESHAPE, "name"},
    {"peer add without key", AG_CTL_PEER_ADD, "{\"name\": \"Tunis\"}", AG_ESHAPE, "key"},
    {"peer add, key too short", AG_CTL_PEER_ADD, "{\"key\": \"AAEC\", \"name\": \"Tunis\"}",
     AG_EKEY, "key"},
    {"peer add, key not base64", AG_CTL_PEER_ADD,
     "{\"key\": \"!!ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", \"name\": \"T\"}", AG_EKEY,
     "key"},
    {"peer add, key too long", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "A\", \"name\": \"Tunis\"}",
     AG_ETOOBIG, "key"},
    {"peer add, key a number", AG_CTL_PEER_ADD, "{\"key\": 5, \"name\": \"Tunis\"}", AG_ESHAPE,
     "key"},
    {"name at its limit", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "\", \"name\": \"" X64 "\"}", 0,
     NULL},
    {"name over its limit", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "\", \"name\": \"" X64 "x\"}",
     AG_ETOOBIG, "name"},
    {"name with NUL", AG_CTL_PEER_ADD, "{\"key\": \"" KEY "\", \"name\": \"a\\u0000b\"}", AG_ESHAPE,
     "name"},
    {"name in Arabic", AG_CTL_PEER_ADD,
     "{\"key\": \"" KEY "\", \"name\": \"\u062a\u0648\u0646\u0633\"}", 0, NULL},
    {"peer remove", AG_CTL_PEER_REMOVE, "{\"key\": \"" KEY "\"}", 0, NULL},
    {"peer remove with name", AG_CTL_PEER_REMOVE, "{\"key\": \"" KEY "\", \"name\": \"T\"}",
     AG_ESHAPE, NULL},
    {"put", AG_CTL_PUT, "{\"type\": \"practice\", \"id\": \"p1\", \"body\": {\"title\": \"x\"}}", 0,
     NULL},
    {"put forced", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"p1\", \"body\": {}, \"force\": true}", 0, NULL},
    {"put, force not a boolean", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"p1\", \"body\": {}, \"force\": 1}", AG_ESHAPE, "force"},
    {"put without body", AG_CTL_PUT, "{\"type\": \"practice\", \"id\": \"p1\"}", AG_ESHAPE, "body"},
    {"put, body an array", AG_CTL_PUT, "{\"type\": \"practice\", \"id\": \"p1\", \"body\": []}",
     AG_EBODY, "body"},
    {"put, body nil", AG_CTL_PUT, "{\"type\": \"practice\", \"id\": \"p1\", \"body\": null}",
     AG_EBODY, "body"},
    {"put, type with capitals", AG_CTL_PUT,
     "{\"type\": \"Practice\", \"id\": \"p1\", \"body\": {}}", AG_ERECTYPE, "type"},
    {"put, type empty", AG_CTL_PUT, "{\"type\": \"\", \"id\": \"p1\", \"body\": {}}", AG_ERECTYPE,
     "type"},
    {"put, type too long", AG_CTL_PUT, "{\"type\": \"" X64 "\", \"id\": \"p1\", \"body\": {}}",
     AG_ETOOBIG, "type"},
    {"put, id empty", AG_CTL_PUT, "{\"type\": \"practice\", \"id\": \"\", \"body\": {}}", AG_ERECID,
     "id"},
    {"put, id with newline", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"a\\nb\", \"body\": {}}", AG_ERECID, "id"},
    {"put, id at its limit", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"" X128 "\", \"body\": {}}", 0, NULL},
    {"put, id over its limit", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"" X128 "x\", \"body\": {}}", AG_ETOOBIG, "id"},
    {"put, id in French", AG_CTL_PUT,
     "{\"type\": \"practice\", \"id\": \"h\u00e9bergement-2024\", \"body\": {}}", 0, NULL},
    {"get", AG_CTL_GET, "{\"type\": \"practice\", \"id\": \"p1\", \"city\": \"Tunis\"}", 0, NULL},
    {"get without id", AG_CTL_GET, "{\"type\": \"practice\"}", AG_ESHAPE, "id"},
    {"get with body", AG_CTL_GET, "{\"type\": \"practice\", \"id\": \"p1\", \"body\": {}}",
     AG_ESHAPE, NULL},
    {"list, nothing", AG_CTL_LIST, "{}", 0, NULL},
    {"list, everything", AG_CTL_LIST,
     "{\"type\": \"pilot\", \"city\": \"" KEY "\", \"topic\": \"health\", \"limit\": 10}", 0, NULL},
    {"list, limit negative", AG_CTL_LIST, "{\"limit\": -1}", AG_ESHAPE, "limit"},
    {"list, limit a string", AG_CTL_LIST, "{\"limit\": \"10\"}", AG_ESHAPE, "limit"},
    {"list, limit a float", AG_CTL_LIST, "{\"limit\": 1.5}", AG_ESHAPE, "limit"},
    {"list, city over its limit", AG_CTL_LIST, "{\"city\": \"" X64 "x\"}", AG_ETOOBIG, "city"},
    {"search", AG_CTL_SEARCH, "{\"text\": \"h\u00e9bergement\"}", 0, NULL},
    {"search without text", AG_CTL_SEARCH, "{\"topic\": \"health\"}", AG_ESHAPE, "text"},
    {"retract", AG_CTL_RETRACT, "{\"type\": \"practice\", \"id\": \"p1\"}", 0, NULL},
    {"history", AG_CTL_HISTORY, "{\"type\": \"practice\", \"id\": \"p1\"}", 0, NULL},
    {"log", AG_CTL_LOG, "{\"since\": 5, \"city\": \"Tunis\", \"limit\": 100}", 0, NULL},
    {"log, since huge", AG_CTL_LOG, "{\"since\": 9007199254740993}", 0, NULL},
    {"log with text", AG_CTL_LOG, "{\"text\": \"x\"}", AG_ESHAPE, NULL},
    {"resolve", AG_CTL_RESOLVE, "{\"city\": \"Tunis\"}", 0, NULL},
    {"resolve, nothing", AG_CTL_RESOLVE, "{}", AG_ESHAPE, "city"},
};

static uint8_t *json_body(const char *json, size_t *len)
{
	json_error_t jerr;
	json_t *j = json_loads(json, JSON_ALLOW_NUL, &jerr);
	uint8_t *out = NULL;
	char err[128];

	if (!j)
		fail_msg("bad test JSON %s: %s", json, jerr.text);
	if (jsonmp_encode(j, &out, len, err, sizeof(err)) != 0)
		fail_msg("cannot encode %s: %s", json, err);
	json_decref(j);
	return out;
}

static void test_req_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct ag_ctl_req r;
		const char *field = "unset";
		size_t len, where = SIZE_MAX;
		uint8_t *b = json_body(c->json, &len);
		int rc = ag_ctl_req_decode(&r, c->type, b, len, &where, &field);

		if (rc != c->rc)
			fail_msg("%s: got %d (%s), want %d", c->what, rc, ag_strerror(rc), c->rc);
		if ((field == NULL) != (c->field == NULL) ||
		    (field && strcmp(field, c->field) != 0))
			fail_msg("%s: blamed %s, want %s", c->what, field ? field : "nothing",
			         c->field ? c->field : "nothing");
		if (rc != 0 && c->type != 0 && c->type < AG_CTL_TYPE_END)
			assert_true(where <= len);
		free(b);
	}
}

/* Every request agorad takes, decoded and encoded again, is the same bytes: one table both ways. */
static void test_req_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct ag_ctl_req r;
		size_t len, outlen;
		uint8_t *b = json_body(c->json, &len), *out;

		if (c->rc != 0 || ag_ctl_req_decode(&r, c->type, b, len, NULL, NULL) != 0) {
			free(b);
			continue;
		}
		if (ag_ctl_req_encode(&r, &out, &outlen) != 0)
			fail_msg("%s: does not encode again", c->what);
		if (outlen != len || memcmp(out, b, len) != 0)
			fail_msg("%s: encoded to other bytes", c->what);
		free(out);
		free(b);
	}
}

/* A request is encoded only with the fields its type allows and requires, each within its limit. */
static void test_req_encode_refused(void **state)
{
	char long_name[AG_CTL_NAME_MAX + 2];
	struct ag_ctl_req r;
	uint8_t *out;
	size_t len;

	(void)state;
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ag_ctl_req_init(&r, AG_CTL_PEER_ADD);
	assert_int_equal(ag_ctl_req_set(&r, AG_CTL_F_NAME, long_name), AG_ETOOBIG);
	assert_int_equal(r.fields, 0);
	assert_int_equal(ag_ctl_req_set(&r, AG_CTL_F_LIMIT, "1"), AG_ESHAPE);
	assert_int_equal(ag_ctl_req_set(&r, AG_CTL_F_KEY, KEY44), 0);
	assert_int_equal(ag_ctl_req_encode(&r, &out, &len), AG_ESHAPE); /* no name */
	assert_null(out);
	assert_int_equal(ag_ctl_req_set(&r, AG_CTL_F_NAME, "Tunis"), 0);
	assert_int_equal(ag_ctl_req_set(&r, AG_CTL_F_TOPIC, "housing"), 0);
	assert_int_equal(ag_ctl_req_encode(&r, &out, &len), AG_ESHAPE); /* no topic in peer-add */
	r.fields &= ~(uint32_t)AG_CTL_F_TOPIC;
	assert_int_equal(ag_ctl_req_encode(&r, &out, &len), 0);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PEER_ADD, out, len, NULL, NULL), 0);
	assert_string_equal(r.name, "Tunis");
	free(out);
}

static void test_req_fields(void **state)
{
	struct ag_ctl_req r;
	size_t len;
	uint8_t *b, want_pk[32];

	(void)state;
	b = json_body("{\"type\": \"practice\", \"id\": \"p\u00e9\", \"force\": true, "
	              "\"body\": {\"a\": [1, {\"b\": 2}]}}",
	              &len);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PUT, b, len, NULL, NULL), 0);
	assert_int_equal(r.type, AG_CTL_PUT);
	assert_int_equal(r.fields, AG_CTL_F_TYPE | AG_CTL_F_ID | AG_CTL_F_FORCE | AG_CTL_F_BODY);
	assert_string_equal(r.rtype, "practice");
	assert_string_equal(r.id, "p\xc3\xa9");
	assert_int_equal(r.id_len, 3);
	assert_true(r.force);
	/* The body is the embedded map's bytes, in place. */
	assert_true(r.body > b && r.body + r.body_len <= b + len);
	assert_int_equal(r.body[0], 0x81);
	assert_int_equal(ag_mp_check(r.body, r.body_len, AG_DEPTH_MAX - 1, NULL), 0);
	assert_string_equal(r.city, "");
	free(b);

	b = json_body("{\"key\": \"" KEY "\", \"name\": \"Tunis\"}", &len);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PEER_ADD, b, len, NULL, NULL), 0);
	for (int i = 0; i < 32; i++)
		want_pk[i] = (uint8_t)i;
	assert_memory_equal(r.pk, want_pk, 32);
	assert_string_equal(r.key, KEY);
	assert_string_equal(r.name, "Tunis");
	free(b);

	/* {"limit": 0, "since": uint64 max}: more than JSON holds. */
	b = malloc(24);
	assert_non_null(b);
	assert_int_equal(tu_hex_decode(b, 23, "82a56c696d697400a573696e6365cfffffffffffffffff"), 0);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_LOG, b, 23, NULL, NULL), 0);
	assert_true(r.since == UINT64_MAX);
	assert_int_equal(r.fields, AG_CTL_F_SINCE | AG_CTL_F_LIMIT);
	free(b);
}

/* Bodies no JSON document gives: the bytes themselves, in hex. */
static const struct raw_case {
	const char *what;
	unsigned type;
	const char *hex;
	int rc;
	size_t where;
} raw_cases[] = {
    {"empty body", AG_CTL_ID, "", AG_ETRUNC, 0},
    {"an array, not a map", AG_CTL_ID, "90", AG_ESHAPE, 0},
    {"nil", AG_CTL_ID, "c0", AG_ESHAPE, 0},
    {"map16 for an empty map", AG_CTL_ID, "de0000", AG_ENONCANON, 0},
    {"trailing byte", AG_CTL_ID, "8000", AG_ETRAILING, 1},
    {"map declares more than it holds", AG_CTL_ID, "81", AG_ETRUNC, 0},
    {"key not a string", AG_CTL_LIST, "8101a0", AG_EKEYORDER, 1},
    /* {"type": "a", "limit": 1}: keys out of order */
    {"keys unsorted", AG_CTL_LIST, "82a474797065a161a56c696d697401", AG_EKEYORDER, 9},
    /* {"limit": 1, "limit": 2} */
    {"key twice", AG_CTL_LIST, "82a56c696d697401a56c696d697402", AG_EKEYORDER, 9},
    /* {"limit": uint8 5} */
    {"integer not shortest", AG_CTL_LIST, "81a56c696d6974cc05", AG_ENONCANON, 7},
    /* {"city": "\xff"} */
    {"string not UTF-8", AG_CTL_LIST, "81a463697479a1ff", AG_EUTF8, 6},
    /* {"limit": float32 1.0} */
    {"float 32", AG_CTL_LIST, "81a56c696d6974ca3f800000", AG_EEXT, 7},
    /* {"city": ext} */
    {"ext type", AG_CTL_LIST, "81a463697479d40100", AG_EEXT, 6},
    /* {"city": bin "x"}: a string field given bytes */
    {"bin for a string", AG_CTL_LIST, "81a463697479c40178", AG_ESHAPE, 6},
};

static void test_raw_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		const struct raw_case *c = &raw_cases[i];
		struct ag_ctl_req r;
		uint8_t b[64];
		size_t len = strlen(c->hex) / 2, where = SIZE_MAX;
		int rc;

		assert_int_equal(tu_hex_decode(b, len, c->hex), 0);
		rc = ag_ctl_req_decode(&r, c->type, b, len, &where, NULL);
		if (rc != c->rc || where != c->where)
			fail_msg("%s: got %d (%s) at %zu, want %d at %zu", c->what, rc,
			         ag_strerror(rc), where, c->rc, c->where);
	}
}

/* {"body": {"a": {"a": ... {}}}, "id": "x", "type": "x"}, the body `levels` maps deep. */
static uint8_t *nested_put(int levels, size_t *len)
{
	static const uint8_t head[] = {0x83, 0xa4, 'b', 'o', 'd', 'y'};
	static const uint8_t tail[] = {0xa2, 'i', 'd', 0xa1, 'x',  0xa4,
	                               't',  'y', 'p', 'e',  0xa1, 'x'};
	uint8_t *b = malloc(sizeof(head) + 3 * (size_t)levels + sizeof(tail));
	size_t n;

	assert_non_null(b);
	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	for (int i = 0; i < levels - 1; i++) {
		memcpy(b + n,
		       "\x81\xa1"
		       "a",
		       3);
		n += 3;
	}
	b[n++] = 0x80;
	memcpy(b + n, tail, sizeof(tail));
	*len = n + sizeof(tail);
	return b;
}

static void test_depth(void **state)
{
	struct ag_ctl_req r;
	size_t len;
	uint8_t *b;

	(void)state;
	/* The request map is level 1 and the body level 2, as in an entry. */
	b = nested_put(AG_DEPTH_MAX - 1, &len);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PUT, b, len, NULL, NULL), 0);
	free(b);
	b = nested_put(AG_DEPTH_MAX, &len);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PUT, b, len, NULL, NULL), AG_EDEPTH);
	free(b);
}

/* {"body": {"a": "xxx..."}, "id": "x", "type": "x"} whose body is body_len bytes (> 300). */
static size_t sized_put(uint8_t *b, size_t body_len)
{
	size_t pad = body_len - 1 - 2 - 3, n = 0;

	memcpy(b,
	       "\x83\xa4"
	       "body\x81\xa1"
	       "a\xda",
	       10);
	n = 10;
	b[n++] = (uint8_t)(pad >> 8);
	b[n++] = (uint8_t)pad;
	memset(b + n, 'x', pad);
	n += pad;
	memcpy(b + n, "\xa2id\xa1x\xa4type\xa1x", 12);
	return n + 12;
}

static void test_sizes(void **state)
{
	struct ag_ctl_req r;
	uint8_t *b = calloc(1, AG_CTL_REQ_MAX + 16);
	size_t n;

	(void)state;
	assert_non_null(b);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_ID, b, AG_CTL_REQ_MAX + 1, NULL, NULL),
	                 AG_ETOOBIG);
	n = sized_put(b, AG_BODY_MAX);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PUT, b, n, NULL, NULL), 0);
	assert_int_equal(r.body_len, AG_BODY_MAX);
	n = sized_put(b, AG_BODY_MAX + 1);
	assert_int_equal(ag_ctl_req_decode(&r, AG_CTL_PUT, b, n, NULL, NULL), AG_ETOOBIG);
	free(b);
}

static const struct resp_case {
	const char *what;
	const char *hex;
	int rc;
	bool ok;
} resp_cases[] = {
    {"ok", "81a26f6bc3", 0, true},
    {"not ok",
     "83a26f6bc2a6737461747573"
     "01a56572726f72a0",
     0, false},
    {"map16 header accepted", "de0001a26f6bc3", 0, true},
    {"str8 key accepted", "81d9026f6bc3", 0, true},
    {"float 32 accepted", "82a26f6bc3a178ca3f800000", 0, true},
    /* {"ok": true, "b": 1, "a": 2}: keys need no order */
    {"keys unsorted accepted", "83a26f6bc3a16201a16102", 0, true},
    {"uint16 for 1 accepted", "82a26f6bc3a161cd0001", 0, true},
    {"ok not first", "82a16101a26f6bc3", AG_ESHAPE, false},
    {"ok not a boolean", "81a26f6b01", AG_ESHAPE, false},
    {"empty map", "80", AG_ESHAPE, false},
    {"an array", "91c3", AG_ESHAPE, false},
    {"truncated", "82a26f6bc3", AG_ETRUNC, false},
    {"trailing", "81a26f6bc3c0", AG_ETRAILING, false},
    {"ext", "82a26f6bc3a161d40100", AG_EEXT, false},
    {"bad UTF-8", "82a26f6bc3a161a1ff", AG_EUTF8, false},
    {"array declares more than it holds", "82a26f6bc3a161dd7fffffff", AG_ETRUNC, false},
    {"empty", "", AG_ETRUNC, false},
};

static void test_resp_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *c = &resp_cases[i];
		uint8_t b[64];
		size_t len = strlen(c->hex) / 2, where = SIZE_MAX;
		bool ok = !c->ok;
		int rc;

		assert_int_equal(tu_hex_decode(b, len, c->hex), 0);
		rc = ag_ctl_resp_check(b, len, &ok, &where);
		if (rc != c->rc)
			fail_msg("%s: got %d (%s), want %d", c->what, rc, ag_strerror(rc), c->rc);
		if (rc == 0 && ok != c->ok)
			fail_msg("%s: ok is %d", c->what, ok);
		if (rc != 0)
			assert_true(where <= len);
	}
}

static void test_resp_depth(void **state)
{
	uint8_t b[64];
	size_t n = 0;
	bool ok;

	(void)state;
	/* {"ok": true, "a": [[[...]]]} with the map at level 1 and arrays below it. */
	b[n++] = 0x82;
	memcpy(b + n,
	       "\xa2ok\xc3\xa1"
	       "a",
	       6);
	n += 6;
	for (int i = 0; i < AG_CTL_RESP_DEPTH - 2; i++)
		b[n++] = 0x91;
	b[n++] = 0x90;
	assert_int_equal(ag_ctl_resp_check(b, n, &ok, NULL), 0);
	b[n - 1] = 0x91;
	b[n++] = 0x90;
	assert_int_equal(ag_ctl_resp_check(b, n, &ok, NULL), AG_EDEPTH);
}

/* ---- typed responses (ctl_resp.h) ---- */

/* A status packed by the table decodes back to the same, and its bytes are the wire's. */
static void test_typed_roundtrip(void **state)
{
	struct ag_ctl_peer peer = {.connected = true,
	                           .lag_known_ms = 1700000000500,
	                           .last_contact_ms = 1700000000000,
	                           .received = 9,
	                           .they_lack = 3,
	                           .we_lack = 7};
	struct ag_ctl_feed feed = {.body_bytes = 5000,
	                           .dropped = 12,
	                           .forked = true,
	                           .forks = 2,
	                           .over_quota = true,
	                           .seq = 41};
	struct ag_ctl_city closed = {.name = ""};
	struct ag_ctl_status_resp a = {0}, b;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool ok = false;

	(void)state;
	snprintf(peer.key, sizeof(peer.key), "%s", KEY44);
	snprintf(peer.name, sizeof(peer.name), "Tunis");
	snprintf(feed.author, sizeof(feed.author), "%s", KEY44);
	snprintf(a.status.key, sizeof(a.status.key), "%s", KEY44);
	snprintf(a.status.name, sizeof(a.status.name), "Lyon");
	a.status.peers = &peer, a.status.npeers = 1;
	a.status.feeds = &feed, a.status.nfeeds = 1;
	a.status.catchup = (struct ag_ctl_catchup){.missing = 40, .received = 60, .running = true};
	a.status.max_disk = 16ull << 30;
	a.status.store_bytes = 123456;
	a.status.store_full = true;
	snprintf(closed.key, sizeof(closed.key), "%s", KEY44);
	a.status.certs = 2;
	a.status.closed = &closed, a.status.nclosed = 1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(ag_ctl_resp_pack(&pk, &ag_ctl_status_resp_shape, &a, true), 0);
	/* "ok" first, then the keys in byte order, as PROTOCOL.md gives them. */
	assert_memory_equal(sb.data,
	                    "\x82\xa2ok\xc3\xa6status\x8e\xa7"
	                    "catchup\x85\xa7"
	                    "left_ms",
	                    30);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_status_resp_shape, &b, &ok,
	                                    (const uint8_t *)sb.data, sb.size, NULL, NULL),
	                 0);
	assert_true(ok);
	assert_string_equal(b.status.name, "Lyon");
	assert_int_equal(b.status.npeers, 1);
	assert_int_equal(b.status.peers[0].last_contact_ms, 1700000000000);
	assert_true(b.status.peers[0].connected);
	assert_string_equal(b.status.peers[0].endpoint, "");
	assert_int_equal(b.status.peers[0].we_lack, 7);
	assert_int_equal(b.status.peers[0].they_lack, 3);
	assert_int_equal(b.status.peers[0].lag_known_ms, 1700000000500);
	assert_int_equal(b.status.catchup.missing, 40);
	assert_int_equal(b.status.catchup.received, 60);
	assert_true(b.status.catchup.running);
	assert_int_equal(b.status.nfeeds, 1);
	assert_int_equal(b.status.feeds[0].forks, 2);
	assert_true(b.status.feeds[0].forked);
	assert_int_equal(b.status.feeds[0].body_bytes, 5000);
	assert_int_equal(b.status.feeds[0].dropped, 12);
	assert_true(b.status.feeds[0].over_quota);
	assert_false(b.status.feeds[0].capped);
	assert_int_equal(b.status.max_disk, 16ull << 30);
	assert_int_equal(b.status.store_bytes, 123456);
	assert_true(b.status.store_full);
	assert_int_equal(b.status.certs, 2);
	assert_int_equal(b.status.nclosed, 1);
	assert_string_equal(b.status.closed[0].key, KEY44);
	assert_string_equal(b.status.closed[0].name, ""); /* nil on the wire */
	ag_ctl_resp_clear(&ag_ctl_status_resp_shape, &b);
	msgpack_sbuffer_destroy(&sb);
}

/* A CHECK's problems and a METRICS's counts come back as they were packed. */
/*
 * Every request type has a response shape: COMPACT's is {"ok": true} and
 * nothing more, packed as PROTOCOL.md says and decoded back; a response
 * with more keys is still taken (unknown keys are skipped).
 */
static void test_typed_done(void **state)
{
	static const uint8_t more[] = {0x82, 0xa2, 'o', 'k', 0xc3, 0xa1, 'x', 0x01};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool ok = false;
	char v;

	(void)state;
	for (unsigned t = 1; t < AG_CTL_TYPE_END; t++)
		if (!ag_ctl_resp_shape(t))
			fail_msg("request type %u has no response shape", t);
	assert_ptr_equal(ag_ctl_resp_shape(AG_CTL_COMPACT), &ag_ctl_done_shape);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(ag_ctl_resp_pack(&pk, &ag_ctl_done_shape, &v, true), 0);
	assert_int_equal(sb.size, 5);
	assert_memory_equal(sb.data, "\x81\xa2ok\xc3", 5);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_done_shape, &v, &ok, (const uint8_t *)sb.data,
	                                    sb.size, NULL, NULL),
	                 0);
	assert_true(ok);
	assert_int_equal(
	    ag_ctl_resp_decode(&ag_ctl_done_shape, &v, &ok, more, sizeof(more), NULL, NULL), 0);
	msgpack_sbuffer_destroy(&sb);
}

static void test_typed_check_metrics(void **state)
{
	struct ag_ctl_problem pr = {.kind = "silent", .message = "peer Tunis silent for 2 h"};
	struct ag_ctl_check c = {&pr, 1}, c2;
	struct ag_ctl_peer peer = {.sent = 7, .invalid = 2, .connected = true};
	struct ag_ctl_metrics m = {.entries = 12,
	                           .feeds = 3,
	                           .forked = 1,
	                           .invalid = 2,
	                           .peers = &peer,
	                           .npeers = 1,
	                           .ready = true,
	                           .records = 9,
	                           .store_bytes = 65536,
	                           .uptime_ms = 1234},
	                      m2;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool ok = false;

	(void)state;
	snprintf(peer.key, sizeof(peer.key), "%s", KEY44);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(ag_ctl_resp_pack(&pk, ag_ctl_resp_shape(AG_CTL_CHECK), &c, true), 0);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_check_shape, &c2, &ok, (const uint8_t *)sb.data,
	                                    sb.size, NULL, NULL),
	                 0);
	assert_int_equal(c2.nproblems, 1);
	assert_string_equal(c2.problems[0].kind, "silent");
	assert_string_equal(c2.problems[0].message, pr.message);
	ag_ctl_resp_clear(&ag_ctl_check_shape, &c2);
	msgpack_sbuffer_clear(&sb);
	assert_int_equal(ag_ctl_resp_pack(&pk, ag_ctl_resp_shape(AG_CTL_METRICS), &m, true), 0);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_metrics_shape, &m2, &ok,
	                                    (const uint8_t *)sb.data, sb.size, NULL, NULL),
	                 0);
	assert_true(ok && m2.ready);
	assert_int_equal(m2.entries, 12);
	assert_int_equal(m2.forked, 1);
	assert_int_equal(m2.store_bytes, 65536);
	assert_int_equal(m2.uptime_ms, 1234);
	assert_int_equal(m2.npeers, 1);
	assert_int_equal(m2.peers[0].sent, 7);
	assert_int_equal(m2.peers[0].invalid, 2);
	ag_ctl_resp_clear(&ag_ctl_metrics_shape, &m2);
	msgpack_sbuffer_destroy(&sb);
}

static const struct typed_case {
	const char *what, *hex;
	int rc;
	const char *field; /* named at fault */
} typed_cases[] = {
    /* {"ok": true, "key": KEY44, "name": "Tunis"} with one thing changed */
    {"good, with a key it does not know",
     "84a26f6bc3a178c0a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d"
     "a46e616d65a55475 6e6973",
     0, NULL},
    {"a nil name",
     "83a26f6bc3a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d"
     "a46e616d65c0",
     0, NULL},
    {"name missing",
     "82a26f6bc3a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d",
     AG_ESHAPE, "name"},
    {"key twice",
     "84a26f6bc3a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d"
     "a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d"
     "a46e616d65c0",
     AG_ESHAPE, "key"},
    {"key not base64", "83a26f6bc3a36b6579a178a46e616d65c0", AG_EKEY, "key"},
    {"name a number",
     "83a26f6bc3a36b6579d92c"
     "5655726b4d41533361764557662b68704f452f462f686f584c7156794f765165682b49752f39396f422f6b3d"
     "a46e616d6501",
     AG_ESHAPE, "name"},
};

static void test_typed_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(typed_cases) / sizeof(typed_cases[0]); i++) {
		const struct typed_case *c = &typed_cases[i];
		char hex[1024];
		uint8_t buf[512];
		size_t n = 0, where = 0;
		struct ag_ctl_city city;
		const char *field = NULL;
		bool ok;
		int rc;

		for (const char *p = c->hex; *p; p++)
			if (*p != ' ')
				hex[n++] = *p;
		hex[n] = '\0';
		assert_int_equal(tu_hex_decode(buf, n / 2, hex), 0);
		rc = ag_ctl_resp_decode(&ag_ctl_city_shape, &city, &ok, buf, n / 2, &where, &field);
		if (rc == 0 && c->rc == 0) {
			assert_string_equal(city.key, KEY44);
			ag_ctl_resp_clear(&ag_ctl_city_shape, &city);
			continue;
		}
		ag_ctl_resp_clear(&ag_ctl_city_shape, &city);
		if (rc != c->rc || (c->field && (!field || strcmp(field, c->field) != 0)) ||
		    where > n / 2)
			fail_msg("%s: %s, field %s; want %s, %s", c->what, ag_strerror(rc),
			         field ? field : "none", ag_strerror(c->rc),
			         c->field ? c->field : "none");
	}
}

/* ---- records (GET, LIST, SEARCH, HISTORY, LOG) ---- */

#define HASH64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* A published entry and a retraction (nil body and prev), as log entries. */
static void two_entries(struct ag_ctl_record e[2])
{
	static const uint8_t body[] = {0x81, 0xa5, 't', 'i', 't', 'l', 'e', 0xa1, 'x'};

	memset(e, 0, 2 * sizeof(*e));
	for (int i = 0; i < 2; i++) {
		snprintf(e[i].author, sizeof(e[i].author), "%s", KEY44);
		snprintf(e[i].hash, sizeof(e[i].hash), "%s", HASH64);
		snprintf(e[i].id, sizeof(e[i].id), "p1");
		snprintf(e[i].type, sizeof(e[i].type), "practice");
		e[i].seq = (uint64_t)i + 1;
		e[i].timestamp = 1700000000000 + (uint64_t)i;
		e[i].raw = strdup(i ? "AAEC" : "AwQF");
	}
	snprintf(e[0].name, sizeof(e[0].name), "Lyon");
	snprintf(e[0].state, sizeof(e[0].state), "live");
	snprintf(e[1].state, sizeof(e[1].state), "retracted");
	e[0].body_raw = strdup("gaV0aXRsZaF4");
	snprintf(e[1].prev, sizeof(e[1].prev), "%s", HASH64);
	e[0].body.p = malloc(sizeof(body));
	memcpy(e[0].body.p, body, sizeof(body));
	e[0].body.len = sizeof(body);
}

static void pack(const struct ag_ctl_shape *s, const void *v, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	assert_int_equal(ag_ctl_resp_pack(&pk, s, v, true), 0);
}

/* Whether the packed bytes hold the key k (a fixstr of it). */
static bool has_key(const msgpack_sbuffer *sb, const char *k)
{
	char want[40];
	size_t n = strlen(k);

	want[0] = (char)(0xa0 | n);
	memcpy(want + 1, k, n);
	return memmem(sb->data, sb->size, want, n + 1) != NULL;
}

/*
 * A LOG response packs its entries' keys in byte order, nil where PROTOCOL.md
 * says (a retraction's body and body_raw, prev at seq 1, next at the head),
 * decodes back the same and packs again to the same bytes; the same records
 * as LIST's leave out the log's prev, raw and body_raw.
 */
static void test_record_roundtrip(void **state)
{
	struct ag_ctl_record e[2];
	struct ag_ctl_log log = {.entries = e, .nentries = 2}, back;
	struct ag_ctl_records list = {.records = e, .nrecords = 2, .more = true}, lback;
	msgpack_sbuffer one, two;
	bool ok = false;

	(void)state;
	two_entries(e);
	pack(&ag_ctl_log_shape, &log, &one);
	assert_memory_equal(one.data,
	                    "\x83\xa2ok\xc3\xa7"
	                    "entries\x92\x8c\xa6"
	                    "author",
	                    22);
	assert_non_null(memmem(one.data, one.size, "\xa4next\xc0", 6));
	assert_non_null(memmem(one.data, one.size, "\xa4prev\xc0", 6));
	assert_non_null(memmem(one.data, one.size,
	                       "\xa4"
	                       "body\xc0",
	                       6));
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_log_shape, &back, &ok,
	                                    (const uint8_t *)one.data, one.size, NULL, NULL),
	                 0);
	assert_true(ok);
	assert_int_equal(back.nentries, 2);
	assert_int_equal(back.next, 0);
	assert_int_equal(back.entries[0].body.len, e[0].body.len);
	assert_memory_equal(back.entries[0].body.p, e[0].body.p, e[0].body.len);
	assert_null(back.entries[1].body.p);
	assert_string_equal(back.entries[0].prev, "");
	assert_string_equal(back.entries[1].prev, HASH64);
	assert_string_equal(back.entries[1].raw, "AAEC");
	assert_string_equal(back.entries[0].body_raw, "gaV0aXRsZaF4");
	assert_null(back.entries[1].body_raw);
	assert_string_equal(back.entries[1].state, "retracted");
	assert_string_equal(back.entries[0].name, "Lyon");
	assert_string_equal(back.entries[1].name, "");
	assert_int_equal(back.entries[1].timestamp, 1700000000001);
	pack(&ag_ctl_log_shape, &back, &two);
	assert_int_equal(one.size, two.size);
	assert_memory_equal(one.data, two.data, one.size);
	msgpack_sbuffer_destroy(&two);

	pack(&ag_ctl_records_shape, &list, &two);
	assert_false(has_key(&two, "prev"));
	assert_false(has_key(&two, "raw"));
	assert_false(has_key(&two, "body_raw"));
	assert_true(has_key(&two, "state"));
	assert_true(has_key(&two, "timestamp"));
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_records_shape, &lback, &ok,
	                                    (const uint8_t *)two.data, two.size, NULL, NULL),
	                 0);
	assert_true(lback.more);
	assert_null(lback.records[0].raw);
	/* A log's entries read as LIST's records: prev and raw are keys a record does not know. */
	ag_ctl_resp_clear(&ag_ctl_log_shape, &back);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_history_shape, &back, &ok,
	                                    (const uint8_t *)one.data, one.size, NULL, NULL),
	                 AG_ESHAPE); /* no "versions" */
	ag_ctl_resp_clear(&ag_ctl_history_shape, &back);
	ag_ctl_resp_clear(&ag_ctl_records_shape, &lback);
	msgpack_sbuffer_destroy(&one);
	msgpack_sbuffer_destroy(&two);
	ag_ctl_resp_clear(&ag_ctl_entry_shape, &e[0]);
	ag_ctl_resp_clear(&ag_ctl_entry_shape, &e[1]);
}

/* A GET response round-trips; a body that is not a canonical map is refused, naming body. */
static void test_record_body(void **state)
{
	struct ag_ctl_record e[2];
	struct ag_ctl_get get, back;
	msgpack_sbuffer sb;
	const char *field = NULL;
	size_t at;
	bool ok;
	uint8_t *body;

	(void)state;
	two_entries(e);
	get.record = e[0];
	pack(&ag_ctl_get_shape, &get, &sb);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_get_shape, &back, &ok, (const uint8_t *)sb.data,
	                                    sb.size, NULL, NULL),
	                 0);
	assert_string_equal(back.record.type, "practice");
	assert_int_equal(back.record.seq, 1);
	assert_null(back.record.raw); /* a record has no raw */
	ag_ctl_resp_clear(&ag_ctl_get_shape, &back);
	body = memmem(sb.data, sb.size, "\x81\xa5title\xa1x", 9);
	assert_non_null(body);
	body[0] = 0x92; /* ["title", "x"]: an array, not a map */
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_get_shape, &back, &ok, (const uint8_t *)sb.data,
	                                    sb.size, &at, &field),
	                 AG_ESHAPE);
	assert_string_equal(field, "body");
	ag_ctl_resp_clear(&ag_ctl_get_shape, &back);
	/* {"t": "x", "a": "x"}, as long: well formed, but its keys out of order. */
	memcpy(body,
	       "\x82\xa1t\xa1x\xa1"
	       "a\xa1x",
	       9);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_get_shape, &back, &ok, (const uint8_t *)sb.data,
	                                    sb.size, &at, &field),
	                 AG_EKEYORDER);
	assert_string_equal(field, "body");
	assert_true(at > (size_t)(body - (uint8_t *)sb.data) && at < sb.size);
	ag_ctl_resp_clear(&ag_ctl_get_shape, &back);
	msgpack_sbuffer_destroy(&sb);
	ag_ctl_resp_clear(&ag_ctl_record_shape, &e[0]);
	ag_ctl_resp_clear(&ag_ctl_entry_shape, &e[1]);
}

/* An array whose count is more than the bytes left is refused before anything is allocated. */
static void test_typed_array_bound(void **state)
{
	/* {"ok": true, "peers": array32 of 2^32-1} */
	static const uint8_t body[] = {0x82, 0xa2, 'o', 'k',  0xc3, 0xa5, 'p',  'e',
	                               'e',  'r',  's', 0xdd, 0xff, 0xff, 0xff, 0xff};
	struct ag_ctl_peers peers;
	bool ok;

	(void)state;
	assert_int_not_equal(
	    ag_ctl_resp_decode(&ag_ctl_peers_shape, &peers, &ok, body, sizeof(body), NULL, NULL),
	    0);
	assert_null(peers.peers);
	ag_ctl_resp_clear(&ag_ctl_peers_shape, &peers);
}

/*
 * {"ok": true, "more": false, "records": [n elements]}, each element a map of
 * the record's required keys, in byte order, with a value of one byte: the
 * fewest bytes a record can take, though not a record (its author is not a
 * string); or, with empty, an empty map. The caller destroys sb.
 */
static void records_of(msgpack_sbuffer *sb, size_t n, bool empty)
{
	static const char *const keys[] = {"author", "body", "hash",      "id",
	                                   "name",   "seq",  "timestamp", "type"};
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_true(&pk);
	msgpack_pack_str_with_body(&pk, "more", 4);
	msgpack_pack_false(&pk);
	msgpack_pack_str_with_body(&pk, "records", 7);
	msgpack_pack_array(&pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_map(&pk, empty ? 0 : 8);
		for (size_t k = 0; !empty && k < 8; k++) {
			msgpack_pack_str_with_body(&pk, keys[k], strlen(keys[k]));
			msgpack_pack_nil(&pk);
		}
	}
}

/* Bytes the allocator holds for the program, mapped blocks included. */
static size_t held(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

/*
 * A lying or broken agorad cannot make agora allocate beyond what it sent: a
 * count of records that the bytes left could not hold is refused before
 * anything is allocated (here 20,000 empty maps, where 470-byte records were
 * once allocated for each: 9 MB from 20 KB); and an array that could hold its
 * count is allocated as its elements arrive, so one that fails at its first
 * element has allocated little (the normal build measures it; ASan's
 * allocator is not glibc's, whose count mallinfo2 gives).
 */
static void test_typed_array_lies(void **state)
{
	struct ag_ctl_records r;
	msgpack_sbuffer sb;
	size_t before;
	bool ok;

	(void)state;
	records_of(&sb, 20000, true);
	assert_true(sb.size < 21000);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_records_shape, &r, &ok,
	                                    (const uint8_t *)sb.data, sb.size, NULL, NULL),
	                 AG_ETOOBIG);
	assert_null(r.records);
	ag_ctl_resp_clear(&ag_ctl_records_shape, &r);
	msgpack_sbuffer_destroy(&sb);

	records_of(&sb, 20000, false);
	before = held();
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_records_shape, &r, &ok,
	                                    (const uint8_t *)sb.data, sb.size, NULL, NULL),
	                 AG_ESHAPE);
	assert_true(held() - before < 64 * 1024);
	ag_ctl_resp_clear(&ag_ctl_records_shape, &r);
	msgpack_sbuffer_destroy(&sb);
}

/* Records arrive whole however many there are, the array grown as they come (16, 32, 40). */
static void test_typed_array_grows(void **state)
{
	struct ag_ctl_record e[2], many[40];
	struct ag_ctl_records list = {.records = many, .nrecords = 40}, back;
	msgpack_sbuffer sb;
	bool ok;

	(void)state;
	two_entries(e);
	for (size_t i = 0; i < 40; i++) {
		many[i] = e[0];
		many[i].seq = i + 1;
	}
	pack(&ag_ctl_records_shape, &list, &sb);
	assert_int_equal(ag_ctl_resp_decode(&ag_ctl_records_shape, &back, &ok,
	                                    (const uint8_t *)sb.data, sb.size, NULL, NULL),
	                 0);
	assert_int_equal(back.nrecords, 40);
	for (size_t i = 0; i < 40; i++) {
		assert_int_equal(back.records[i].seq, i + 1);
		assert_string_equal(back.records[i].name, "Lyon");
		assert_memory_equal(back.records[i].body.p, e[0].body.p, e[0].body.len);
	}
	ag_ctl_resp_clear(&ag_ctl_records_shape, &back);
	msgpack_sbuffer_destroy(&sb);
	ag_ctl_resp_clear(&ag_ctl_entry_shape, &e[0]);
	ag_ctl_resp_clear(&ag_ctl_entry_shape, &e[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hdr_layout),
	    cmocka_unit_test(test_hdr_cases),
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_req_cases),
	    cmocka_unit_test(test_req_fields),
	    cmocka_unit_test(test_req_encode),
	    cmocka_unit_test(test_req_encode_refused),
	    cmocka_unit_test(test_raw_cases),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_resp_cases),
	    cmocka_unit_test(test_resp_depth),
	    cmocka_unit_test(test_typed_roundtrip),
	    cmocka_unit_test(test_typed_check_metrics),
	    cmocka_unit_test(test_typed_done),
	    cmocka_unit_test(test_typed_cases),
	    cmocka_unit_test(test_typed_array_bound),
	    cmocka_unit_test(test_typed_array_lies),
	    cmocka_unit_test(test_typed_array_grows),
	    cmocka_unit_test(test_record_roundtrip),
	    cmocka_unit_test(test_record_body),
	};

	if (ag_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
