/*
 * ctl_resp.h: the control socket's responses (PROTOCOL.md, section 2) as
 * structs, one per response, that agorad fills and packs and agora decodes,
 * by the same tables: each key of the wire is written once, in ctl_resp.c.
 * As ntpd and ntpctl share struct ctl_show_peer.
 *
 * A shape is a struct's table: its fields in the byte order of their names
 * (the order agorad packs them), each with its kind, place and limit. The
 * decoder is strict on what it knows: every field present (unless optional)
 * once, of its kind, within its limit; an array's count checked against its
 * limit and against what the bytes left can hold at the fewest bytes an
 * element takes, then the array grown as its elements arrive, so what is
 * allocated follows what was received, not what a count claims. A key it does
 * not know is skipped, so a newer agorad may add fields (PROTOCOL.md). No I/O.
 */
#ifndef AGORA_CTL_RESP_H
#define AGORA_CTL_RESP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "entry.h"
#include "header.h"
#include "key.h"

#define AG_CTL_HEX_LEN      (2 * AG_HASH_LEN) /* an entry hash in lowercase hex */
#define AG_CTL_ERROR_MAX    1024              /* bytes of an error response's words */
#define AG_CTL_PEERS_MAX    65536             /* peers or feeds in one response */
#define AG_CTL_KIND_MAX     32                /* bytes of a problem's kind */
#define AG_CTL_LINE_MAX     300               /* bytes of a problem's words */
#define AG_CTL_SOFTWARE_MAX 64                /* bytes of a peer's software, as its HELLO gave it */
/* Records in one response: LIST stops at 32 MiB of entries of 150 bytes or more. */
#define AG_CTL_RECORDS_MAX (1u << 18)
/* A log entry's raw and body_raw: the base64 of an encoded header, of a body. */
#define AG_CTL_RAW_MAX      (((AG_HEADER_MAX + 2) / 3) * 4)
#define AG_CTL_BODY_RAW_MAX (((AG_BODY_MAX + 2) / 3) * 4)
#define AG_CTL_STATE_MAX    16 /* live, retracted, purged, missing */

/* A configured peer (STATUS, PEER_LIST). */
struct ag_ctl_peer {
	uint64_t bytes_in, bytes_out;
	bool connected;
	uint64_t duplicates;
	char endpoint[AG_CTL_ENDPOINT_MAX + 1]; /* "" when it calls us */
	uint64_t invalid;                       /* entries it sent that were refused as invalid */
	char key[AG_B64_LEN + 1];
	uint64_t
	    lag_known_ms; /* when we_lack and they_lack were so (ms since the epoch), 0: never */
	uint64_t last_contact_ms; /* ms since the epoch, 0 for never */
	char name[AG_CTL_NAME_MAX + 1];
	uint64_t protocol; /* the replication protocol its last HELLO named; 0 before one */
	uint64_t received;
	char role[AG_CTL_ROLE_MAX + 1]; /* partner or associate, as the config says */
	uint64_t sent;                  /* entries we sent it */
	char
	    software[AG_CTL_SOFTWARE_MAX + 1]; /* its last HELLO's, "agorad 0.1.0"; "" before one */
	uint64_t they_lack; /* entries of the feeds both replicate that we hold and it lacks */
	uint64_t we_lack;   /* and that it announced and we lack */
};

/* A feed this node replicates, with its head (STATUS). */
struct ag_ctl_feed {
	char author[AG_B64_LEN + 1];
	uint64_t body_bytes;            /* of its bodies held: what Quota counts */
	bool capped;                    /* at QuotaEntries: no more of its entries are stored */
	uint64_t dropped;               /* bodies dropped over Quota, ever */
	bool forked;                    /* the author signed two entries at one seq */
	uint64_t forks;                 /* entries kept as proof */
	char name[AG_CTL_NAME_MAX + 1]; /* "" when unknown */
	bool over_quota;                /* its last body was dropped over Quota */
	char role[AG_CTL_NAME_MAX + 1]; /* as for the name; "" when unknown */
	uint64_t seq;
};

/* The catch-up (STATUS): since a peer announced entries we lacked until we hold them all. */
struct ag_ctl_catchup {
	uint64_t left_ms;  /* at its rate; 0 when done or not known */
	uint64_t missing;  /* entries peers announced that we lack, now */
	uint64_t rate;     /* entries per second */
	uint64_t received; /* entries stored since it began */
	bool running;
};

/* A configured peer, and whether it has reached one of this node's purges (STATUS). */
struct ag_ctl_purge_peer {
	bool connected;
	char key[AG_B64_LEN + 1];
	uint64_t known; /* the seq of this node's feed it is known to hold */
	char name[AG_CTL_NAME_MAX + 1];
	bool reached; /* known >= the purge's seq: it holds the purge, so erased the bodies */
};

/* One of this node's own purges, the newest first (STATUS). */
struct ag_ctl_purge {
	char id[AG_ID_MAX + 1]; /* the purge record's id */
	struct ag_ctl_purge_peer *peers;
	size_t npeers;
	uint64_t seq;
	uint64_t ts; /* when it was published, ms since the epoch */
};

#define AG_CTL_PURGES_MAX 16 /* the newest purges STATUS lists */

/* STATUS: {"status": {...}}. */
struct ag_ctl_node {
	struct ag_ctl_catchup catchup;
	uint64_t certs;             /* succession certificates held */
	struct ag_ctl_city *closed; /* feeds that take nothing more: rotated away, or voided */
	size_t nclosed;
	struct ag_ctl_feed *feeds;
	size_t nfeeds;
	char key[AG_B64_LEN + 1];
	uint64_t max_disk; /* MaxDisk, bytes */
	char name[AG_CTL_NAME_MAX + 1];
	struct ag_ctl_peer *peers;
	size_t npeers;
	struct ag_ctl_purge *purges; /* this node's own, newest first, at most AG_CTL_PURGES_MAX */
	size_t npurges;
	uint64_t quota;         /* Quota, bytes of bodies per author */
	uint64_t quota_entries; /* QuotaEntries */
	bool ready;
	uint64_t store_bytes; /* the store's file, up to its last page in use */
	bool store_full;      /* entries from peers are not stored: MaxDisk, or the disk, reached */
	char waiting[AG_CTL_ERROR_MAX + 1]; /* while not ready, why; absent ("") when ready */
};

struct ag_ctl_status_resp {
	struct ag_ctl_node status;
};

/* PEER_LIST. */
struct ag_ctl_peers {
	struct ag_ctl_peer *peers;
	size_t npeers;
};

/* ID (network optional: agora id without a daemon has none). */
struct ag_ctl_id {
	char key[AG_B64_LEN + 1];
	char name[AG_CTL_NAME_MAX + 1];
	char network[AG_B64_LEN + 1];
};

/* PEER_ADD (key, name), PEER_REMOVE (key), RESOLVE (key, and name or nil as ""). */
struct ag_ctl_city {
	char key[AG_B64_LEN + 1];
	char name[AG_CTL_NAME_MAX + 1];
};

/* PUT and RETRACT: what was published. */
struct ag_ctl_published {
	char author[AG_B64_LEN + 1];
	char hash[AG_CTL_HEX_LEN + 1];
	char id[AG_ID_MAX + 1];
	uint64_t seq;
	char type[AG_TYPE_MAX + 1];
};

/* A problem that agora check reports: a kind a script tests, words a person reads. */
struct ag_ctl_problem {
	char kind[AG_CTL_KIND_MAX + 1]; /* not-ready, no-peer, silent, disk, fork */
	char message[AG_CTL_LINE_MAX + 1];
};

/* CHECK: no problem means healthy. */
struct ag_ctl_check {
	struct ag_ctl_problem *problems;
	size_t nproblems;
};

/* METRICS: counts for agora metrics (the Prometheus text is the CLI's). */
struct ag_ctl_metrics {
	uint64_t entries; /* in every feed held */
	uint64_t feeds;
	uint64_t forked;     /* feeds flagged forked */
	uint64_t invalid;    /* entries refused as invalid since agorad started */
	uint64_t max_disk;   /* MaxDisk */
	uint64_t over_quota; /* feeds whose last body was dropped over Quota */
	struct ag_ctl_peer *peers;
	size_t npeers;
	bool ready;
	uint64_t records;     /* retracted ones included */
	uint64_t store_bytes; /* pages in use in the store */
	bool store_full;      /* entries from peers are not stored: MaxDisk, or the disk, reached */
	uint64_t uptime_ms;
};

/* BACKUP: where the copy is, and its size. */
struct ag_ctl_backup {
	uint64_t bytes; /* of the store's copy */
	char path[AG_CTL_PATH_MAX + 1];
};

/*
 * KEY_ROTATE, RECOVER_BEGIN, RECOVER, CERT_IMPORT: a city's key and the one
 * it succeeds; with a certificate, the old feed's last valid entry (seq, and
 * hash: "" at seq 0) and the network (RECOVER_BEGIN: what the CLI signs).
 */
struct ag_ctl_succession {
	char hash[AG_CTL_HEX_LEN + 1];
	char key[AG_B64_LEN + 1];
	char network[AG_B64_LEN + 1];
	char old[AG_B64_LEN + 1];
	char recovery[AG_B64_LEN + 1]; /* RECOVER_BEGIN: the recovery key the feed names */
	uint64_t seq;
};

/* A header kept as proof of a fork (FORKS): the header itself, and what it says. */
struct ag_ctl_proof {
	char hash[AG_CTL_HEX_LEN + 1];
	char id[AG_ID_MAX + 1];
	char raw[AG_CTL_RAW_MAX + 1]; /* base64 of the signed header */
	uint64_t seq;
	uint64_t timestamp; /* ms since the epoch, the author's clock */
	char type[AG_TYPE_MAX + 1];
};

/* A forked feed: its author signed two entries at one seq (or two successors of one). */
struct ag_ctl_fork {
	char author[AG_B64_LEN + 1];
	char name[AG_CTL_NAME_MAX + 1]; /* "" when unknown */
	bool own;                       /* this node's own feed */
	struct ag_ctl_proof *proofs;    /* every header kept, by seq */
	size_t nproofs;
	uint64_t seq; /* the lowest seq the proofs hold */
};

/* FORKS. */
struct ag_ctl_forks {
	struct ag_ctl_fork *forks;
	size_t nforks;
};

/* Who did what to whom in the network's roster, and when (MEMBER_LOG). */
struct ag_ctl_event {
	char by[AG_B64_LEN + 1]; /* the key whose entry says it */
	char by_name[AG_CTL_NAME_MAX + 1];
	char key[AG_B64_LEN + 1]; /* the key it is about */
	/* introduced, changed, removed, rotated, succeeds, recovered (PROTOCOL.md) */
	char kind[AG_CTL_KIND_MAX + 1];
	char name[AG_CTL_NAME_MAX + 1]; /* the name the entry gives the key, or "" */
	char role[AG_CTL_ROLE_MAX + 1]; /* and the role */
	uint64_t seq;                   /* of the entry in by's feed */
	uint64_t timestamp;             /* ms since the epoch, by's clock */
};

/* MEMBER_LOG: oldest first. */
struct ag_ctl_events {
	struct ag_ctl_event *events;
	size_t nevents;
};

/* An error response: {"ok": false, "status": N, "error": "words"}. */
struct ag_ctl_error {
	char error[AG_CTL_ERROR_MAX + 1];
	uint64_t status; /* enum ag_ctl_status */
};

/* A msgpack map kept as its bytes (a record's body), allocated; p NULL for nil. */
struct ag_ctl_rawmap {
	uint8_t *p;
	size_t len;
};

/*
 * A record (GET, LIST, SEARCH), a version (HISTORY) or a log entry (LOG): one
 * struct and one table, which the three shapes share; a field marked for
 * some of them (its only, their tag) is left out of the others: prev, raw
 * and body_raw are the log's. body is the record's canonical msgpack map, nil (p NULL)
 * for a retraction.
 *
 * To add a field: a member here; a row in record_fields (ctl_resp.c) at its
 * name's place in byte order, with .only = AG_CTL_TAG_LOG (and/or
 * AG_CTL_TAG_HISTORY) if only those responses carry it, .nil if it may be
 * nil, .optional if an older agorad may leave it out; daemon/control.c's
 * record_fill sets it. Packing, decoding, freeing and every --json (ctlj)
 * then follow from the table; PROTOCOL.md's record table says what it is.
 */
struct ag_ctl_record {
	char author[AG_B64_LEN + 1];
	struct ag_ctl_rawmap body;
	char *body_raw; /* log entries: the body in base64, allocated; NULL (nil) when not held */
	char hash[AG_CTL_HEX_LEN + 1];
	char id[AG_ID_MAX + 1];
	char name[AG_CTL_NAME_MAX + 1]; /* "" for nil: a city this node cannot name */
	char prev[AG_CTL_HEX_LEN + 1];  /* log entries: "" for nil, at seq 1 */
	char *raw;                      /* log entries: the signed header in base64, allocated */
	uint64_t seq;
	/* live, retracted, purged, missing; "" from an older agorad */
	char state[AG_CTL_STATE_MAX + 1];
	uint64_t timestamp;
	char type[AG_TYPE_MAX + 1];
};

/* GET: {"record": {...}}. */
struct ag_ctl_get {
	struct ag_ctl_record record;
};

/* LIST and SEARCH: records newest first, more if some were left out. */
struct ag_ctl_records {
	bool more;
	struct ag_ctl_record *records;
	size_t nrecords;
};

/* HISTORY: every version, oldest first. */
struct ag_ctl_history {
	struct ag_ctl_record *versions;
	size_t nversions;
};

/* LOG: entries in seq order; next the seq to ask for next, 0 (nil) at the head. */
struct ag_ctl_log {
	struct ag_ctl_record *entries;
	size_t nentries;
	uint64_t next;
};

enum ag_ctl_kind {
	AG_CTL_K_STR,    /* a string into char[size] */
	AG_CTL_K_NAME,   /* the same, or nil for "" */
	AG_CTL_K_KEY,    /* a public key in base64, into char[AG_B64_LEN + 1] */
	AG_CTL_K_HASH,   /* AG_CTL_HEX_LEN lowercase hex digits, into char[AG_CTL_HEX_LEN + 1] */
	AG_CTL_K_UINT,   /* uint64_t */
	AG_CTL_K_BOOL,   /* bool */
	AG_CTL_K_ARRAY,  /* of sub: a pointer at off, its count (size_t) at count_off */
	AG_CTL_K_MAP,    /* a sub struct embedded at off */
	AG_CTL_K_RAWMAP, /* struct ag_ctl_rawmap: a canonical map of size bytes at most */
	AG_CTL_K_TEXT,   /* char *: a string of at most size bytes, allocated */
};

struct ag_ctl_shape;

struct ag_ctl_field {
	const char *name; /* its key on the wire */
	enum ag_ctl_kind kind;
	size_t off;
	size_t size; /* a string's buffer */
	size_t count_off;
	const struct ag_ctl_shape *sub;
	bool optional; /* may be absent; packed only when not empty */
	bool nil;      /* nil on the wire when zero, "" or NULL (as AG_CTL_K_NAME is) */
	unsigned only; /* 0: in every shape of its table; else in those whose tag is in it */
};

/* The tags of the shapes that share the record table (ag_ctl_field.only). */
enum { AG_CTL_TAG_HISTORY = 1 << 0, AG_CTL_TAG_LOG = 1 << 1 };

struct ag_ctl_shape {
	const char *name; /* "peer", for messages */
	const struct ag_ctl_field *fields;
	size_t nfields;
	size_t size;  /* of its struct */
	size_t max;   /* as an array's element: at most this many */
	unsigned tag; /* which fields marked only this shape has (0: none of them) */
};

extern const struct ag_ctl_shape ag_ctl_peer_shape, ag_ctl_feed_shape, ag_ctl_status_shape;
extern const struct ag_ctl_shape ag_ctl_catchup_shape, ag_ctl_purge_shape, ag_ctl_purge_peer_shape;
extern const struct ag_ctl_shape ag_ctl_status_resp_shape, ag_ctl_peers_shape, ag_ctl_id_shape;
extern const struct ag_ctl_shape ag_ctl_city_shape, ag_ctl_city_key_shape;
extern const struct ag_ctl_shape ag_ctl_published_shape, ag_ctl_error_shape;
extern const struct ag_ctl_shape ag_ctl_problem_shape, ag_ctl_check_shape, ag_ctl_metrics_shape;
extern const struct ag_ctl_shape ag_ctl_backup_shape, ag_ctl_done_shape;
extern const struct ag_ctl_shape ag_ctl_record_shape, ag_ctl_version_shape, ag_ctl_entry_shape;
extern const struct ag_ctl_shape ag_ctl_get_shape;
extern const struct ag_ctl_shape ag_ctl_records_shape, ag_ctl_history_shape, ag_ctl_log_shape;
extern const struct ag_ctl_shape ag_ctl_succession_shape;
extern const struct ag_ctl_shape ag_ctl_proof_shape, ag_ctl_fork_shape, ag_ctl_forks_shape;
extern const struct ag_ctl_shape ag_ctl_event_shape, ag_ctl_events_shape;
extern const struct ag_ctl_shape ag_ctl_closed_shape; /* of struct ag_ctl_city */

/* The shape of the response to a request type, or NULL if type is not a request. */
const struct ag_ctl_shape *ag_ctl_resp_shape(unsigned type);

/* Whether shape s has its field i (one marked only for others' tags it has not). */
bool ag_ctl_shape_has(const struct ag_ctl_shape *s, size_t i);

/*
 * Whether field f of v is empty: a string "", a NULL text or raw map (an
 * optional one is then neither packed nor shown).
 */
bool ag_ctl_field_empty(const struct ag_ctl_field *f, const void *v);

/* Whether field f of v goes on the wire as nil: a nil field (or a name) that is zero or empty. */
bool ag_ctl_field_nil(const struct ag_ctl_field *f, const void *v);

/* Packs v, a struct of shape s, as a response body: {"ok": ok, its fields...}. */
int ag_ctl_resp_pack(msgpack_packer *, const struct ag_ctl_shape *s, const void *v, bool ok);

/*
 * Decodes a response body (checked with ag_ctl_resp_check here) into v, a
 * struct of shape s; *ok gets the body's "ok". Arrays are allocated:
 * ag_ctl_resp_clear frees them, also after a failure. On error *where is
 * the offending byte's offset and *field (if not NULL) the key at fault, or
 * NULL.
 */
int ag_ctl_resp_decode(const struct ag_ctl_shape *s, void *v, bool *ok, const uint8_t *body,
                       size_t len, size_t *where, const char **field) AG_WUR;

/* Frees what ag_ctl_resp_decode allocated in v, and zeroes it. */
void ag_ctl_resp_clear(const struct ag_ctl_shape *s, void *v);

#endif
