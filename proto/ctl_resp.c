/*
 * ctl_resp.c: the responses' tables, and the one packer and one decoder that
 * walk them. agorad packs with them; agora decodes with them and prints
 * --json from them, so a key is written here and nowhere else.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_resp.h"
#include "mp.h"
#include "mp_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define STR(T, f, k)                                                                               \
	{                                                                                          \
#f, k, offsetof(T, f), sizeof(((T *)0)->f), 0, NULL, false                         \
	}
#define UINT(T, f)                                                                                 \
	{                                                                                          \
#f, AG_CTL_K_UINT, offsetof(T, f), 0, 0, NULL, false                               \
	}
#define BOOL(T, f)                                                                                 \
	{                                                                                          \
#f, AG_CTL_K_BOOL, offsetof(T, f), 0, 0, NULL, false                               \
	}
#define ARRAY(T, f, sub)                                                                           \
	{                                                                                          \
#f, AG_CTL_K_ARRAY, offsetof(T, f), 0, offsetof(T, n##f), &sub, false              \
	}

/* One field a line, as the wire orders them. */
/* clang-format off */
static const struct ag_ctl_field peer_fields[] = {
    UINT(struct ag_ctl_peer, bytes_in),
    UINT(struct ag_ctl_peer, bytes_out),
    BOOL(struct ag_ctl_peer, connected),
    UINT(struct ag_ctl_peer, duplicates),
    STR(struct ag_ctl_peer, endpoint, AG_CTL_K_STR),
    UINT(struct ag_ctl_peer, invalid),
    STR(struct ag_ctl_peer, key, AG_CTL_K_KEY),
    UINT(struct ag_ctl_peer, lag_known_ms),
    UINT(struct ag_ctl_peer, last_contact_ms),
    STR(struct ag_ctl_peer, name, AG_CTL_K_STR),
    UINT(struct ag_ctl_peer, protocol),
    UINT(struct ag_ctl_peer, received),
    {"role", AG_CTL_K_STR, offsetof(struct ag_ctl_peer, role), AG_CTL_ROLE_MAX + 1, 0, NULL, true},
    UINT(struct ag_ctl_peer, sent),
    STR(struct ag_ctl_peer, software, AG_CTL_K_STR),
    UINT(struct ag_ctl_peer, they_lack),
    UINT(struct ag_ctl_peer, we_lack),
};
/* clang-format on */
const struct ag_ctl_shape ag_ctl_peer_shape = {"peer", peer_fields, N(peer_fields),
                                               sizeof(struct ag_ctl_peer), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field feed_fields[] = {
    STR(struct ag_ctl_feed, author, AG_CTL_K_KEY),
    UINT(struct ag_ctl_feed, body_bytes),
    BOOL(struct ag_ctl_feed, capped),
    UINT(struct ag_ctl_feed, dropped),
    BOOL(struct ag_ctl_feed, forked),
    UINT(struct ag_ctl_feed, forks),
    STR(struct ag_ctl_feed, name, AG_CTL_K_STR),
    BOOL(struct ag_ctl_feed, over_quota),
    {"role", AG_CTL_K_STR, offsetof(struct ag_ctl_feed, role), AG_CTL_NAME_MAX + 1, 0, NULL, true},
    UINT(struct ag_ctl_feed, seq),
};
const struct ag_ctl_shape ag_ctl_feed_shape = {"feed", feed_fields, N(feed_fields),
                                               sizeof(struct ag_ctl_feed), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field catchup_fields[] = {
    UINT(struct ag_ctl_catchup, left_ms), UINT(struct ag_ctl_catchup, missing),
    UINT(struct ag_ctl_catchup, rate),    UINT(struct ag_ctl_catchup, received),
    BOOL(struct ag_ctl_catchup, running),
};
const struct ag_ctl_shape ag_ctl_catchup_shape = {"catchup", catchup_fields, N(catchup_fields),
                                                  sizeof(struct ag_ctl_catchup), 0};

static const struct ag_ctl_field purge_peer_fields[] = {
    BOOL(struct ag_ctl_purge_peer, connected), STR(struct ag_ctl_purge_peer, key, AG_CTL_K_KEY),
    UINT(struct ag_ctl_purge_peer, known),     STR(struct ag_ctl_purge_peer, name, AG_CTL_K_STR),
    BOOL(struct ag_ctl_purge_peer, reached),
};
const struct ag_ctl_shape ag_ctl_purge_peer_shape = {
    "purge peer", purge_peer_fields, N(purge_peer_fields), sizeof(struct ag_ctl_purge_peer),
    AG_CTL_PEERS_MAX};

static const struct ag_ctl_field purge_fields[] = {
    STR(struct ag_ctl_purge, id, AG_CTL_K_STR),
    ARRAY(struct ag_ctl_purge, peers, ag_ctl_purge_peer_shape),
    UINT(struct ag_ctl_purge, seq),
    UINT(struct ag_ctl_purge, ts),
};
const struct ag_ctl_shape ag_ctl_purge_shape = {"purge", purge_fields, N(purge_fields),
                                                sizeof(struct ag_ctl_purge), AG_CTL_PURGES_MAX};

static const struct ag_ctl_field status_fields[] = {
    {"catchup", AG_CTL_K_MAP, offsetof(struct ag_ctl_node, catchup), 0, 0, &ag_ctl_catchup_shape,
     false},
    UINT(struct ag_ctl_node, certs),
    ARRAY(struct ag_ctl_node, closed, ag_ctl_closed_shape),
    ARRAY(struct ag_ctl_node, feeds, ag_ctl_feed_shape),
    STR(struct ag_ctl_node, key, AG_CTL_K_KEY),
    UINT(struct ag_ctl_node, max_disk),
    STR(struct ag_ctl_node, name, AG_CTL_K_STR),
    ARRAY(struct ag_ctl_node, peers, ag_ctl_peer_shape),
    ARRAY(struct ag_ctl_node, purges, ag_ctl_purge_shape),
    UINT(struct ag_ctl_node, quota),
    UINT(struct ag_ctl_node, quota_entries),
    BOOL(struct ag_ctl_node, ready),
    UINT(struct ag_ctl_node, store_bytes),
    BOOL(struct ag_ctl_node, store_full),
    {"waiting", AG_CTL_K_STR, offsetof(struct ag_ctl_node, waiting),
     sizeof(((struct ag_ctl_node *)0)->waiting), 0, NULL, true},
};
const struct ag_ctl_shape ag_ctl_status_shape = {"status", status_fields, N(status_fields),
                                                 sizeof(struct ag_ctl_node), 0};

static const struct ag_ctl_field status_resp_fields[] = {
    {"status", AG_CTL_K_MAP, offsetof(struct ag_ctl_status_resp, status), 0, 0,
     &ag_ctl_status_shape, false},
};
const struct ag_ctl_shape ag_ctl_status_resp_shape = {"status response", status_resp_fields,
                                                      N(status_resp_fields),
                                                      sizeof(struct ag_ctl_status_resp), 0};

static const struct ag_ctl_field peers_fields[] = {
    ARRAY(struct ag_ctl_peers, peers, ag_ctl_peer_shape),
};
const struct ag_ctl_shape ag_ctl_peers_shape = {"peer-list response", peers_fields, N(peers_fields),
                                                sizeof(struct ag_ctl_peers), 0};

static const struct ag_ctl_field id_fields[] = {
    STR(struct ag_ctl_id, key, AG_CTL_K_KEY),
    STR(struct ag_ctl_id, name, AG_CTL_K_STR),
    {"network", AG_CTL_K_KEY, offsetof(struct ag_ctl_id, network), AG_B64_LEN + 1, 0, NULL, true},
};
const struct ag_ctl_shape ag_ctl_id_shape = {"id response", id_fields, N(id_fields),
                                             sizeof(struct ag_ctl_id), 0};

static const struct ag_ctl_field city_fields[] = {
    STR(struct ag_ctl_city, key, AG_CTL_K_KEY),
    STR(struct ag_ctl_city, name, AG_CTL_K_NAME),
};
const struct ag_ctl_shape ag_ctl_city_shape = {"city response", city_fields, N(city_fields),
                                               sizeof(struct ag_ctl_city), 0};
const struct ag_ctl_shape ag_ctl_city_key_shape = {"peer-remove response", city_fields, 1,
                                                   sizeof(struct ag_ctl_city), 0};
const struct ag_ctl_shape ag_ctl_closed_shape = {"closed feed", city_fields, N(city_fields),
                                                 sizeof(struct ag_ctl_city), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field published_fields[] = {
    STR(struct ag_ctl_published, author, AG_CTL_K_KEY),
    STR(struct ag_ctl_published, hash, AG_CTL_K_HASH),
    STR(struct ag_ctl_published, id, AG_CTL_K_STR),
    UINT(struct ag_ctl_published, seq),
    STR(struct ag_ctl_published, type, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_published_shape = {
    "publish response", published_fields, N(published_fields), sizeof(struct ag_ctl_published), 0};

static const struct ag_ctl_field problem_fields[] = {
    STR(struct ag_ctl_problem, kind, AG_CTL_K_STR),
    STR(struct ag_ctl_problem, message, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_problem_shape = {"problem", problem_fields, N(problem_fields),
                                                  sizeof(struct ag_ctl_problem), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field check_fields[] = {
    ARRAY(struct ag_ctl_check, problems, ag_ctl_problem_shape),
};
const struct ag_ctl_shape ag_ctl_check_shape = {"check response", check_fields, N(check_fields),
                                                sizeof(struct ag_ctl_check), 0};

static const struct ag_ctl_field metrics_fields[] = {
    UINT(struct ag_ctl_metrics, entries),
    UINT(struct ag_ctl_metrics, feeds),
    UINT(struct ag_ctl_metrics, forked),
    UINT(struct ag_ctl_metrics, invalid),
    UINT(struct ag_ctl_metrics, max_disk),
    UINT(struct ag_ctl_metrics, over_quota),
    ARRAY(struct ag_ctl_metrics, peers, ag_ctl_peer_shape),
    BOOL(struct ag_ctl_metrics, ready),
    UINT(struct ag_ctl_metrics, records),
    UINT(struct ag_ctl_metrics, store_bytes),
    BOOL(struct ag_ctl_metrics, store_full),
    UINT(struct ag_ctl_metrics, uptime_ms),
};
const struct ag_ctl_shape ag_ctl_metrics_shape = {
    "metrics response", metrics_fields, N(metrics_fields), sizeof(struct ag_ctl_metrics), 0};

static const struct ag_ctl_field backup_fields[] = {
    UINT(struct ag_ctl_backup, bytes),
    STR(struct ag_ctl_backup, path, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_backup_shape = {"backup response", backup_fields, N(backup_fields),
                                                 sizeof(struct ag_ctl_backup), 0};

/* COMPACT's response: {"ok": true}, nothing more. */
const struct ag_ctl_shape ag_ctl_done_shape = {"compact response", NULL, 0, 0, 0, 0};
#define OPT(T, f, k)                                                                               \
	{                                                                                          \
#f, k, offsetof(T, f), sizeof(((T *)0)->f), 0, NULL, true                          \
	}
static const struct ag_ctl_field succession_fields[] = {
    OPT(struct ag_ctl_succession, hash, AG_CTL_K_HASH),
    STR(struct ag_ctl_succession, key, AG_CTL_K_KEY),
    OPT(struct ag_ctl_succession, network, AG_CTL_K_KEY),
    STR(struct ag_ctl_succession, old, AG_CTL_K_KEY),
    OPT(struct ag_ctl_succession, recovery, AG_CTL_K_KEY),
    UINT(struct ag_ctl_succession, seq),
};
const struct ag_ctl_shape ag_ctl_succession_shape = {"succession response", succession_fields,
                                                     N(succession_fields),
                                                     sizeof(struct ag_ctl_succession), 0};
static const struct ag_ctl_field proof_fields[] = {
    STR(struct ag_ctl_proof, hash, AG_CTL_K_HASH), STR(struct ag_ctl_proof, id, AG_CTL_K_STR),
    STR(struct ag_ctl_proof, raw, AG_CTL_K_STR),   UINT(struct ag_ctl_proof, seq),
    UINT(struct ag_ctl_proof, timestamp),          STR(struct ag_ctl_proof, type, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_proof_shape = {"proof", proof_fields, N(proof_fields),
                                                sizeof(struct ag_ctl_proof), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field fork_fields[] = {
    STR(struct ag_ctl_fork, author, AG_CTL_K_KEY),
    STR(struct ag_ctl_fork, name, AG_CTL_K_STR),
    BOOL(struct ag_ctl_fork, own),
    ARRAY(struct ag_ctl_fork, proofs, ag_ctl_proof_shape),
    UINT(struct ag_ctl_fork, seq),
};
const struct ag_ctl_shape ag_ctl_fork_shape = {"fork", fork_fields, N(fork_fields),
                                               sizeof(struct ag_ctl_fork), AG_CTL_PEERS_MAX};

static const struct ag_ctl_field forks_fields[] = {
    ARRAY(struct ag_ctl_forks, forks, ag_ctl_fork_shape),
};
const struct ag_ctl_shape ag_ctl_forks_shape = {"forks response", forks_fields, N(forks_fields),
                                                sizeof(struct ag_ctl_forks), 0};

static const struct ag_ctl_field event_fields[] = {
    STR(struct ag_ctl_event, by, AG_CTL_K_KEY),
    STR(struct ag_ctl_event, by_name, AG_CTL_K_STR),
    STR(struct ag_ctl_event, key, AG_CTL_K_KEY),
    STR(struct ag_ctl_event, kind, AG_CTL_K_STR),
    STR(struct ag_ctl_event, name, AG_CTL_K_STR),
    STR(struct ag_ctl_event, role, AG_CTL_K_STR),
    UINT(struct ag_ctl_event, seq),
    UINT(struct ag_ctl_event, timestamp),
};
const struct ag_ctl_shape ag_ctl_event_shape = {"event", event_fields, N(event_fields),
                                                sizeof(struct ag_ctl_event), AG_CTL_PEERS_MAX * 16};

static const struct ag_ctl_field events_fields[] = {
    ARRAY(struct ag_ctl_events, events, ag_ctl_event_shape),
};
const struct ag_ctl_shape ag_ctl_events_shape = {"member-log response", events_fields,
                                                 N(events_fields), sizeof(struct ag_ctl_events), 0};

/* Not in name order: "ok", "status", "error" is the order PROTOCOL.md gives. */
static const struct ag_ctl_field error_fields[] = {
    UINT(struct ag_ctl_error, status),
    STR(struct ag_ctl_error, error, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_error_shape = {"error response", error_fields, N(error_fields),
                                                sizeof(struct ag_ctl_error), 0};

/*
 * The record table, shared by records, versions and log entries: a field
 * that only some of them have says which (only), as prev, raw and body_raw do.
 */
static const struct ag_ctl_field record_fields[] = {
    STR(struct ag_ctl_record, author, AG_CTL_K_KEY),
    {.name = "body",
     .kind = AG_CTL_K_RAWMAP,
     .off = offsetof(struct ag_ctl_record, body),
     .size = AG_BODY_MAX,
     .nil = true},
    {.name = "body_raw",
     .kind = AG_CTL_K_TEXT,
     .off = offsetof(struct ag_ctl_record, body_raw),
     .size = AG_CTL_BODY_RAW_MAX,
     .nil = true,
     .only = AG_CTL_TAG_LOG},
    STR(struct ag_ctl_record, hash, AG_CTL_K_HASH),
    STR(struct ag_ctl_record, id, AG_CTL_K_STR),
    STR(struct ag_ctl_record, name, AG_CTL_K_NAME),
    {.name = "prev",
     .kind = AG_CTL_K_HASH,
     .off = offsetof(struct ag_ctl_record, prev),
     .size = AG_CTL_HEX_LEN + 1,
     .nil = true,
     .only = AG_CTL_TAG_LOG},
    {.name = "raw",
     .kind = AG_CTL_K_TEXT,
     .off = offsetof(struct ag_ctl_record, raw),
     .size = AG_CTL_RAW_MAX,
     .only = AG_CTL_TAG_LOG},
    UINT(struct ag_ctl_record, seq),
    {.name = "state",
     .kind = AG_CTL_K_STR,
     .off = offsetof(struct ag_ctl_record, state),
     .size = AG_CTL_STATE_MAX + 1,
     .optional = true},
    UINT(struct ag_ctl_record, timestamp),
    STR(struct ag_ctl_record, type, AG_CTL_K_STR),
};
const struct ag_ctl_shape ag_ctl_record_shape = {
    "record", record_fields, N(record_fields), sizeof(struct ag_ctl_record), AG_CTL_RECORDS_MAX, 0};
const struct ag_ctl_shape ag_ctl_version_shape = {"version",          record_fields,
                                                  N(record_fields),   sizeof(struct ag_ctl_record),
                                                  AG_CTL_RECORDS_MAX, AG_CTL_TAG_HISTORY};
const struct ag_ctl_shape ag_ctl_entry_shape = {"log entry",        record_fields,
                                                N(record_fields),   sizeof(struct ag_ctl_record),
                                                AG_CTL_RECORDS_MAX, AG_CTL_TAG_LOG};

static const struct ag_ctl_field get_fields[] = {
    {.name = "record",
     .kind = AG_CTL_K_MAP,
     .off = offsetof(struct ag_ctl_get, record),
     .sub = &ag_ctl_record_shape},
};
const struct ag_ctl_shape ag_ctl_get_shape = {
    "get response", get_fields, N(get_fields), sizeof(struct ag_ctl_get), 0, 0};

static const struct ag_ctl_field records_fields[] = {
    BOOL(struct ag_ctl_records, more),
    ARRAY(struct ag_ctl_records, records, ag_ctl_record_shape),
};
const struct ag_ctl_shape ag_ctl_records_shape = {
    "records response", records_fields, N(records_fields), sizeof(struct ag_ctl_records), 0, 0};

static const struct ag_ctl_field history_fields[] = {
    ARRAY(struct ag_ctl_history, versions, ag_ctl_version_shape),
};
const struct ag_ctl_shape ag_ctl_history_shape = {
    "history response", history_fields, N(history_fields), sizeof(struct ag_ctl_history), 0, 0};

static const struct ag_ctl_field log_fields[] = {
    ARRAY(struct ag_ctl_log, entries, ag_ctl_entry_shape),
    {.name = "next", .kind = AG_CTL_K_UINT, .off = offsetof(struct ag_ctl_log, next), .nil = true},
};
const struct ag_ctl_shape ag_ctl_log_shape = {
    "log response", log_fields, N(log_fields), sizeof(struct ag_ctl_log), 0, 0};

const struct ag_ctl_shape *ag_ctl_resp_shape(unsigned type)
{
	switch (type) {
	case AG_CTL_ID:
		return &ag_ctl_id_shape;
	case AG_CTL_STATUS:
		return &ag_ctl_status_resp_shape;
	case AG_CTL_PEER_ADD:
	case AG_CTL_RESOLVE:
		return &ag_ctl_city_shape;
	case AG_CTL_PEER_REMOVE:
		return &ag_ctl_city_key_shape;
	case AG_CTL_PEER_LIST:
		return &ag_ctl_peers_shape;
	case AG_CTL_PUT:
	case AG_CTL_RETRACT:
		return &ag_ctl_published_shape;
	case AG_CTL_CHECK:
		return &ag_ctl_check_shape;
	case AG_CTL_METRICS:
		return &ag_ctl_metrics_shape;
	case AG_CTL_BACKUP:
		return &ag_ctl_backup_shape;
	case AG_CTL_COMPACT:
		return &ag_ctl_done_shape;
	case AG_CTL_GET:
		return &ag_ctl_get_shape;
	case AG_CTL_LIST:
	case AG_CTL_SEARCH:
		return &ag_ctl_records_shape;
	case AG_CTL_HISTORY:
		return &ag_ctl_history_shape;
	case AG_CTL_LOG:
		return &ag_ctl_log_shape;
	case AG_CTL_KEY_ROTATE:
	case AG_CTL_RECOVER_BEGIN:
	case AG_CTL_RECOVER:
	case AG_CTL_CERT_IMPORT:
		return &ag_ctl_succession_shape;
	case AG_CTL_FORKS:
		return &ag_ctl_forks_shape;
	case AG_CTL_MEMBER_LOG:
		return &ag_ctl_events_shape;
	default:
		return NULL;
	}
}

/* ---- packing ---- */

static int pack_fields(msgpack_packer *pk, const struct ag_ctl_shape *s, const char *v);

bool ag_ctl_shape_has(const struct ag_ctl_shape *s, size_t i)
{
	return !s->fields[i].only || (s->fields[i].only & s->tag);
}

bool ag_ctl_field_empty(const struct ag_ctl_field *f, const void *v)
{
	const void *p = (const char *)v + f->off;

	switch (f->kind) {
	case AG_CTL_K_RAWMAP:
		return !((const struct ag_ctl_rawmap *)p)->p;
	case AG_CTL_K_TEXT:
		return !*(const char *const *)p || !**(const char *const *)p;
	default:
		return f->kind <= AG_CTL_K_HASH && *(const char *)p == '\0';
	}
}

bool ag_ctl_field_nil(const struct ag_ctl_field *f, const void *v)
{
	if (!f->nil && f->kind != AG_CTL_K_NAME)
		return false;
	if (f->kind == AG_CTL_K_UINT)
		return *(const uint64_t *)(const void *)((const char *)v + f->off) == 0;
	return ag_ctl_field_empty(f, v);
}

static int pack_str(msgpack_packer *pk, const char *str)
{
	return msgpack_pack_str_with_body(pk, str, strlen(str));
}

static int pack_array(msgpack_packer *pk, const struct ag_ctl_field *f, const char *v)
{
	const char *items = *(const char *const *)(const void *)(v + f->off);
	size_t n = *(const size_t *)(const void *)(v + f->count_off);
	int rc = msgpack_pack_array(pk, n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pack_fields(pk, f->sub, items + i * f->sub->size);
	return rc;
}

static int pack_value(msgpack_packer *pk, const struct ag_ctl_field *f, const char *v)
{
	const void *p = v + f->off;

	if (ag_ctl_field_nil(f, v))
		return msgpack_pack_nil(pk);
	switch (f->kind) {
	case AG_CTL_K_RAWMAP: /* already msgpack: written as it is */
		return pk->callback(pk->data, (const char *)((const struct ag_ctl_rawmap *)p)->p,
		                    ((const struct ag_ctl_rawmap *)p)->len);
	case AG_CTL_K_TEXT: /* NULL, never set, is "" */
		return pack_str(pk, *(const char *const *)p ? *(const char *const *)p : "");
	case AG_CTL_K_UINT:
		return msgpack_pack_uint64(pk, *(const uint64_t *)p);
	case AG_CTL_K_BOOL:
		return *(const bool *)p ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	case AG_CTL_K_ARRAY:
		return pack_array(pk, f, v);
	case AG_CTL_K_MAP:
		return pack_fields(pk, f->sub, p);
	default:
		return pack_str(pk, p);
	}
}

/* Whether field i of v goes on the wire: the shape has it, and it is not an empty optional. */
static bool packed(const struct ag_ctl_shape *s, size_t i, const char *v)
{
	return ag_ctl_shape_has(s, i) &&
	       !(s->fields[i].optional && ag_ctl_field_empty(&s->fields[i], v));
}

/* The fields of v as one map, with "ok" first when ok is not NULL. */
static int pack_map(msgpack_packer *pk, const struct ag_ctl_shape *s, const char *v, const bool *ok)
{
	size_t n = ok ? 1 : 0;
	int rc;

	for (size_t i = 0; i < s->nfields; i++)
		n += packed(s, i, v);
	rc = msgpack_pack_map(pk, n);
	if (ok && rc == 0)
		rc = pack_str(pk, "ok") || (*ok ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
	for (size_t i = 0; rc == 0 && i < s->nfields; i++) {
		const struct ag_ctl_field *f = &s->fields[i];

		if (!packed(s, i, v))
			continue;
		rc = pack_str(pk, f->name) || pack_value(pk, f, v);
	}
	return rc;
}

static int pack_fields(msgpack_packer *pk, const struct ag_ctl_shape *s, const char *v)
{
	return pack_map(pk, s, v, NULL);
}

int ag_ctl_resp_pack(msgpack_packer *pk, const struct ag_ctl_shape *s, const void *v, bool ok)
{
	return pack_map(pk, s, v, &ok) ? AG_ENOMEM : 0;
}

/* ---- decoding ---- */

struct dec {
	const uint8_t *buf;
	size_t len, pos;
	const char *field; /* the key being read */
};

static int decode_map(struct dec *d, const struct ag_ctl_shape *s, char *v, bool top, bool *ok);

static bool is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static int decode_str(struct dec *d, const struct ag_ctl_field *f, char *dst)
{
	uint8_t pk[AG_PK_LEN];
	const char *p;
	size_t n;
	int rc;

	if ((rc = ag__mp_read_str(d->buf, d->len, &d->pos, &p, &n)) != 0)
		return rc;
	if (n >= f->size)
		return AG_ETOOBIG;
	if (memchr(p, 0, n))
		return AG_ESHAPE;
	memcpy(dst, p, n);
	dst[n] = '\0';
	if (f->kind == AG_CTL_K_KEY)
		return ag_key_from_b64(pk, dst);
	if (f->kind == AG_CTL_K_HASH && (n != AG_CTL_HEX_LEN || !is_hex(p, n)))
		return AG_ESHAPE;
	return 0;
}

/*
 * The fewest bytes an element of shape s takes on the wire: its map's header,
 * and for each field it must hold, the key and a value of one byte.
 */
static size_t min_encoded(const struct ag_ctl_shape *s)
{
	size_t n = 1;

	for (size_t i = 0; i < s->nfields; i++)
		if (ag_ctl_shape_has(s, i) && !s->fields[i].optional)
			n += 1 + strlen(s->fields[i].name) + 1;
	return n;
}

/*
 * Room for element i of an array of n, items grown as elements arrive (by
 * doubling, zeroed), so that what is allocated follows what was received,
 * never what a count announced. *count is the elements zeroed, for clear.
 */
static int array_room(const struct ag_ctl_shape *sub, char **items, size_t *count, size_t *cap,
                      size_t i, size_t n)
{
	size_t want = *cap ? 2 * *cap : 16;
	char *grown;

	if (i < *cap)
		return 0;
	want = want < n ? want : n;
	if (!(grown = realloc(*items, want * sub->size)))
		return AG_ENOMEM;
	memset(grown + *cap * sub->size, 0, (want - *cap) * sub->size);
	*items = grown;
	*count = *cap = want;
	return 0;
}

static int decode_array(struct dec *d, const struct ag_ctl_field *f, char *v)
{
	char **items = (char **)(void *)(v + f->off);
	size_t *count = (size_t *)(void *)(v + f->count_off), cap = 0;
	uint64_t n;
	int rc;

	if ((rc = ag__mp_read_array(d->buf, d->len, &d->pos, &n)) != 0)
		return rc;
	/* Each element holds its required fields: a count past what is left can hold is a lie. */
	if (n > f->sub->max || n > (d->len - d->pos) / min_encoded(f->sub))
		return AG_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if ((rc = array_room(f->sub, items, count, &cap, i, n)) != 0 ||
		    (rc = decode_map(d, f->sub, *items + i * f->sub->size, false, NULL)) != 0)
			return rc;
	return 0;
}

/* A string of at most f->size bytes, allocated. */
static int decode_text(struct dec *d, const struct ag_ctl_field *f, char **dst)
{
	const char *p;
	size_t n;
	int rc;

	if ((rc = ag__mp_read_str(d->buf, d->len, &d->pos, &p, &n)) != 0)
		return rc;
	if (n > f->size)
		return AG_ETOOBIG;
	if (memchr(p, 0, n))
		return AG_ESHAPE;
	if (!(*dst = malloc(n + 1)))
		return AG_ENOMEM;
	memcpy(*dst, p, n);
	(*dst)[n] = '\0';
	return 0;
}

/* A canonical map nested as a record body may be in an entry, of at most f->size bytes, copied. */
static int decode_rawmap(struct dec *d, const struct ag_ctl_field *f, struct ag_ctl_rawmap *dst)
{
	size_t start = d->pos, at;
	uint8_t t = d->buf[start];
	int rc;

	if (!((t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf))
		return AG_ESHAPE;
	if ((rc = ag__mp_skip(d->buf, d->len, &d->pos)) != 0)
		return rc;
	if (d->pos - start > f->size)
		return AG_ETOOBIG;
	if ((rc = ag_mp_check(d->buf + start, d->pos - start, AG_DEPTH_MAX - 1, &at)) != 0) {
		d->pos = start + at;
		return rc;
	}
	if (!(dst->p = malloc(d->pos - start)))
		return AG_ENOMEM;
	dst->len = d->pos - start;
	memcpy(dst->p, d->buf + start, dst->len);
	return 0;
}

static int decode_value(struct dec *d, const struct ag_ctl_field *f, char *v)
{
	void *p = v + f->off;
	int rc, b;

	/* A nil field's nil is its zero, already there. */
	if ((f->nil || f->kind == AG_CTL_K_NAME) && ag__mp_take_nil(d->buf, d->len, &d->pos))
		return 0;
	switch (f->kind) {
	case AG_CTL_K_RAWMAP:
		return decode_rawmap(d, f, p);
	case AG_CTL_K_TEXT:
		return decode_text(d, f, p);
	case AG_CTL_K_UINT:
		return ag__mp_read_uint(d->buf, d->len, &d->pos, p);
	case AG_CTL_K_BOOL:
		rc = ag__mp_read_bool(d->buf, d->len, &d->pos, &b);
		*(bool *)p = b;
		return rc;
	case AG_CTL_K_ARRAY:
		return decode_array(d, f, v);
	case AG_CTL_K_MAP:
		return decode_map(d, f->sub, p, false, NULL);
	default:
		return decode_str(d, f, p);
	}
}

static const struct ag_ctl_field *find(const struct ag_ctl_shape *s, const char *k, size_t n,
                                       size_t *i)
{
	for (*i = 0; *i < s->nfields; (*i)++)
		if (ag_ctl_shape_has(s, *i) && strlen(s->fields[*i].name) == n &&
		    memcmp(s->fields[*i].name, k, n) == 0)
			return &s->fields[*i];
	return NULL;
}

/* "ok" first when top; then each known field once, unknown ones skipped. */
static int decode_pairs(struct dec *d, const struct ag_ctl_shape *s, char *v, uint64_t n,
                        uint64_t *seen)
{
	const struct ag_ctl_field *f;
	const char *k;
	size_t klen, i;
	int rc;

	for (uint64_t j = 0; j < n; j++) {
		d->field = NULL;
		if ((rc = ag__mp_read_str(d->buf, d->len, &d->pos, &k, &klen)) != 0)
			return rc;
		if (!(f = find(s, k, klen, &i))) {
			if ((rc = ag__mp_skip(d->buf, d->len, &d->pos)) != 0)
				return rc;
			continue;
		}
		d->field = f->name;
		if (*seen & (UINT64_C(1) << i))
			return AG_ESHAPE; /* twice */
		*seen |= UINT64_C(1) << i;
		if ((rc = decode_value(d, f, v)) != 0)
			return rc;
	}
	return 0;
}

static int decode_map(struct dec *d, const struct ag_ctl_shape *s, char *v, bool top, bool *ok)
{
	uint64_t n, seen = 0;
	const char *k;
	size_t klen;
	int rc, b;

	if ((rc = ag__mp_read_map(d->buf, d->len, &d->pos, &n)) != 0)
		return rc;
	if (top) {
		if (n == 0 || (rc = ag__mp_read_str(d->buf, d->len, &d->pos, &k, &klen)) != 0 ||
		    klen != 2 || memcmp(k, "ok", 2) != 0)
			return rc ? rc : AG_ESHAPE;
		if ((rc = ag__mp_read_bool(d->buf, d->len, &d->pos, &b)) != 0)
			return rc;
		*ok = b;
		n--;
	}
	if ((rc = decode_pairs(d, s, v, n, &seen)) != 0)
		return rc;
	for (size_t i = 0; i < s->nfields; i++)
		if (ag_ctl_shape_has(s, i) && !s->fields[i].optional &&
		    !(seen & (UINT64_C(1) << i))) {
			d->field = s->fields[i].name;
			return AG_ESHAPE; /* missing */
		}
	return 0;
}

int ag_ctl_resp_decode(const struct ag_ctl_shape *s, void *v, bool *ok, const uint8_t *body,
                       size_t len, size_t *where, const char **field)
{
	struct dec d = {body, len, 0, NULL};
	int rc;

	memset(v, 0, s->size);
	/* Checked bounded first, so no count below is trusted beyond the input. */
	if ((rc = ag_ctl_resp_check(body, len, ok, where)) != 0) {
		if (field)
			*field = NULL;
		return rc;
	}
	rc = decode_map(&d, s, v, true, ok);
	if (rc != 0 && where)
		*where = d.pos;
	if (field)
		*field = rc ? d.field : NULL;
	return rc;
}

void ag_ctl_resp_clear(const struct ag_ctl_shape *s, void *v)
{
	char *p = v;

	for (size_t i = 0; i < s->nfields; i++) {
		const struct ag_ctl_field *f = &s->fields[i];

		if (f->kind == AG_CTL_K_MAP) {
			ag_ctl_resp_clear(f->sub, p + f->off);
		} else if (f->kind == AG_CTL_K_RAWMAP) {
			free(((struct ag_ctl_rawmap *)(void *)(p + f->off))->p);
		} else if (f->kind == AG_CTL_K_TEXT) {
			free(*(char **)(void *)(p + f->off));
		} else if (f->kind == AG_CTL_K_ARRAY) {
			char *items = *(char **)(void *)(p + f->off);
			size_t n = *(size_t *)(void *)(p + f->count_off);

			for (size_t j = 0; items && j < n; j++)
				ag_ctl_resp_clear(f->sub, items + j * f->sub->size);
			free(items);
		}
	}
	memset(v, 0, s->size);
}
