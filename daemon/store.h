/*
 * store.h: the daemon's memory. One LMDB environment, DIR/data, holds every
 * feed's entries (format 2: headers, and apart from them the bodies held) and
 * head, the state and history of every record, the search index (index.h),
 * fork proofs, a flag word per author, and a small key-value table for
 * replication state.
 *
 * Its format is the first released one: the store of entry format 2. Every
 * later format ships an in-place upgrade from the one before it, run by
 * store_open with a log line, a copy of the old environment kept beside it
 * (DIR.format-N) until it succeeds; tests/fixtures/store-8 is a store of the
 * first released format that test_store opens (and so upgrades). A store of
 * an earlier, unreleased format is refused with what to do; one of a later
 * format, written by a newer release, is refused naming that release.
 *
 * Writes come from the loop and from the sync's appender thread (sync.c),
 * one at a time: each takes the store's write lock, so a write on the loop
 * waits for the appender's commit. Each write call is one transaction,
 * durable (LMDB's default sync) when it returns 0: it survives a SIGKILL and
 * a power cut. A full map is grown and the transaction retried, never fatal.
 * Reads are read-only transactions that never block the writer, and may run
 * on any thread. A callback runs inside the read transaction: the entry it is
 * given points into the map, is valid only during the call, and a callback
 * must not call the store. A callback's non-zero return stops the iteration.
 * An entry given to a callback has its body when the store holds it, and
 * body NULL otherwise (retracted, or not held: its header says which).
 *
 * Functions that fail return -1 (or NULL) and log why; a write that failed
 * because the disk is full returns STORE_EFULL and its log line says so.
 */
#ifndef AGORA_STORE_H
#define AGORA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "entry.h"
#include "index.h"

#define STORE_MAP_DEFAULT  (64u << 20) /* bytes mapped at first; the map grows */
#define STORE_META_KEY_MAX 256         /* bytes of a meta key */

#define STORE_EFULL -2 /* a write failed: the disk (or the map's file system) is full */
#define STORE_EDISK -3 /* this node's publishing refused: the store is at MaxDisk */

#define STORE_FLAG_FORKED 0x1u /* set by the store; bits 8..31 are the callers' */
#define STORE_FLAG_CLOSED 0x2u /* its identity/successor is stored: the feed takes no more */

struct store;

/* Opens (creating) the environment in dir, the node's DIR/data; map_size 0 is the default. */
struct store *store_open(const char *dir, size_t map_size);
void store_close(struct store *); /* NULL-safe */

enum store_status {
	STORE_STORED,    /* appended; record state and index updated */
	STORE_BODY,      /* its header was stored without its body, which is now kept */
	STORE_DUPLICATE, /* this very entry is stored already (or its body is not wanted) */
	STORE_GAP,       /* entries are missing before it: need_seq says which */
	STORE_FORK,      /* another entry holds its seq or its prev: both kept, author flagged */
	STORE_REFUSED,   /* its author is flagged as forked (store_fork_clear), or closed */
	STORE_LIMIT,     /* not stored: past its author's entry cap, or the store at MaxDisk */
	                 /*
	                  * A body already purged, or of an author over quota, is dropped without a
	                  * status of its own (STORE_DUPLICATE, or STORE_STORED for a new header),
	                  * and never marked missing.
	                  */
};

struct store_result {
	enum store_status status;
	uint64_t need_seq; /* for STORE_GAP: the seq that the feed needs next */
	bool missing;      /* STORE_STORED without its body, which is wanted: ask peers for it */
};

/*
 * What the store takes of the network (DESIGN.md "Bodies: absent, purged,
 * over quota"; agorad.conf(5) Quota, QuotaEntries, MaxDisk); 0 is no limit.
 * self's feed is held to max_disk only.
 *
 * - quota: past this many bytes of an author's bodies, its new bodies are
 *   dropped (headers kept; identity, member and purge bodies always kept),
 *   never marked missing, logged once.
 * - max_entries: an author's entries past this seq are not stored (logged once).
 * - max_disk: other authors' entries are not stored once the store's file
 *   reaches STORE_PEERS_SHARE of it (or its file system has less than
 *   STORE_PEERS_RESERVE free), this node's publishing is refused (STORE_EDISK)
 *   once it reaches max_disk (STORE_EFULL under STORE_OWN_RESERVE free). The
 *   store's file so stays under max_disk plus one publish.
 */
struct store_limits {
	uint64_t quota;
	uint64_t max_entries;
	uint64_t max_disk;
	uint8_t self[AG_PK_LEN];
};

#define STORE_PEERS_SHARE(max) ((max) - (max) / 16) /* 15/16: the rest is the node's own */
#define STORE_PEERS_RESERVE    (UINT64_C(64) << 20)
#define STORE_OWN_RESERVE      (UINT64_C(1) << 20)

/* Applies l from the next write on; changed limits are logged anew when reached. */
void store_limits_set(struct store *, const struct store_limits *l);

/*
 * Whether the store takes entry seq of author now, by its limits alone (not
 * by its chain): so that replication asks for nothing it would drop. The
 * disk is looked at most once a second.
 */
bool store_takes(struct store *, const uint8_t author[static AG_PK_LEN], uint64_t seq);

/* The disk the store takes: its file's pages up to the last one used. */
uint64_t store_disk_used(struct store *);

/* Whether other authors' entries are refused now for the disk (MaxDisk or the file system). */
bool store_disk_full(struct store *);

/* What an author's bodies take, kept with every write (not counted when asked). */
struct store_usage {
	uint64_t body_bytes; /* of the bodies held */
	uint64_t dropped;    /* bodies dropped over quota, ever */
	bool over_quota;     /* its last body was dropped over quota */
};

/* author's usage, zero for an author never seen. 0 or -1. */
int store_usage(struct store *, const uint8_t author[static AG_PK_LEN], struct store_usage *u);

/*
 * Appends a batch of decoded entries that the caller has accepted (a header's
 * own signature, or a chain to one, and its network; a body, when given,
 * checked against its header: ag_entry_open), in order, in one transaction: res[i] says
 * what became of entries[i]. 0 when the whole batch is durable. Each call
 * costs a commit and its fsyncs: during a sync, give it what is ready, a
 * thousand entries or more at once. A batch is split into transactions
 * that each add a bounded amount (about 1 MB: LMDB holds a transaction's
 * new pages in memory until it commits), and in halves if LMDB still finds
 * one too big. The last part's commit makes the whole batch durable (the
 * parts before it do not sync LMDB's meta page); -1 may leave a first part
 * stored, and appending it again reports those as duplicates.
 */
int store_append(struct store *, const struct ag_entry *entries, size_t n,
                 struct store_result *res);

/*
 * What an append needs of an entry that needs no store: its hash and its index terms
 * (index_prepare). store_prepare makes it on any thread, such as the one that verified the entry,
 * so that the writer has only to write. The fields are the store's.
 */
struct store_prep {
	const uint8_t *raw; /* the header of the entry it was made for; NULL: none */
	uint8_t hash[AG_HASH_LEN];
	struct index_terms *terms; /* NULL for a retraction or a body not held */
};

/*
 * Prepares e, whose bytes must stay where they are until its append. 0, or
 * -1 (out of memory; p is then empty, and the append does the work itself).
 * Any thread; it touches no store and logs nothing.
 */
int store_prepare(struct store_prep *p, const struct ag_entry *e);
/* The same for an entry whose hash the caller made already (ag_run_check gives it). */
int store_prepare_hashed(struct store_prep *p, const struct ag_entry *e,
                         const uint8_t hash[static AG_HASH_LEN]);
void store_prep_clear(struct store_prep *p); /* frees what p holds; a zeroed p is fine */
/* The bytes p holds apart from itself, while it waits for the writer. */
size_t store_prep_bytes(const struct store_prep *p);

/*
 * What the n entries take of an append's transaction, and the most one
 * holds: an append of more goes in the fewest transactions that fit, in
 * equal shares, each with its commit and its index segment. LMDB keeps
 * every page a transaction dirties in memory until it commits.
 */
#define STORE_TXN_BYTES (1u << 20)
uint64_t store_append_cost(const struct ag_entry *entries, size_t n);

/*
 * store_append, with prep[i] made by store_prepare for entries[i]. An empty
 * prep[i], or one made for other bytes, is no error: that entry's work is
 * then done here. Terms the index took are freed as it goes (the caller
 * still clears each prep).
 */
int store_append_prepared(struct store *, const struct ag_entry *entries, struct store_prep *prep,
                          size_t n, struct store_result *res);

/*
 * Index merges (index.h) become due as writes add segments. A write does
 * those it made due before it returns; with idle merges on, an append
 * (store_append_prepared) leaves them to store_merge_piece, for a caller
 * that calls it whenever it has nothing else to do (the sync's appender,
 * between batches), unless merges have fallen so far behind that they
 * cannot wait; and while work is left for store_merge_piece, other writes
 * leave theirs to it too. Off at open. Any thread.
 */
void store_merge_idle(struct store *, bool on);

/*
 * While on (a bulk sync under way), store_merge_piece does nothing, and
 * appends leave even merges that have fallen behind, unless the catalog is
 * nearly full: the sync takes the entries first, the index's merges follow
 * once it ends, with the writer's time to themselves. Searches meanwhile
 * look in more segments. Off at open. Any thread, no lock.
 */
void store_merge_wait(struct store *, bool on);

/*
 * One piece of the merge work left, in a transaction of its own: 1 while
 * more is left, 0 when none is, -1 on an error (logged; the work is tried
 * again after the next append). Any thread; it takes the write lock.
 */
int store_merge_piece(struct store *);

/*
 * Publishes a record in the node's own feed: e->h holds the network,
 * timestamp, type and id, e->body the body (NULL retracts); the store takes
 * the next seq and prev from the head, signs with sk, stores and indexes, in
 * one transaction. On success e is the signed entry, its header's bytes in
 * buf (cap bytes, AG_HEADER_MAX always suffice), and hash its hash. Refused
 * while the feed is flagged forked, or closed by its identity/successor.
 */
int store_publish(struct store *, struct ag_entry *e, const uint8_t sk[static AG_SK_LEN],
                  uint8_t *buf, size_t cap, uint8_t hash[static AG_HASH_LEN]);

/* The head of author's feed: 1 with seq and hash, 0 if there is no feed, -1 on error. */
int store_head(struct store *, const uint8_t author[static AG_PK_LEN], uint64_t *seq,
               uint8_t hash[static AG_HASH_LEN]);

/* Every feed's head, in key order (for CLOCK messages). 0 or -1. */
typedef int store_head_fn(const uint8_t author[AG_PK_LEN], uint64_t seq,
                          const uint8_t hash[AG_HASH_LEN], void *arg);
int store_heads(struct store *, store_head_fn *fn, void *arg);

typedef int store_entry_fn(const struct ag_entry *e, void *arg);

/* What this node holds at a header's author and seq (store_have). */
enum store_have {
	STORE_HAVE_NOT,    /* nothing: the feed ends before it */
	STORE_HAVE_SAME,   /* this very header, with its body if it has one */
	STORE_HAVE_HEADER, /* this very header, without its body */
	STORE_HAVE_OTHER,  /* another header: a fork, if this one is valid */
};

/*
 * For each of n decoded entries, in one read transaction, what this node
 * holds at its author and seq: so that replication drops what it holds
 * before it checks a signature. 0 or -1.
 */
int store_have(struct store *, const struct ag_entry *e, size_t n, enum store_have *out);

/*
 * The seqs of author's feed, from seq `from` on, whose header is held and
 * whose body is wanted and has not arrived: at most max into seqs, in
 * order. Returns how many, or -1.
 */
ssize_t store_missing(struct store *, const uint8_t author[static AG_PK_LEN], uint64_t from,
                      uint64_t *seqs, size_t max);

/*
 * Entries of author's feed from seq `from` on, in order: at most max_count,
 * and at most max_bytes of headers and bodies, though always the first one, so
 * a stream never stalls. Returns how many fn was given, or -1.
 */
ssize_t store_feed(struct store *, const uint8_t author[static AG_PK_LEN], uint64_t from,
                   size_t max_count, size_t max_bytes, store_entry_fn *fn, void *arg);

/*
 * A record's current version, retracted ones included (body NULL): 1 when fn
 * was called, 0 if there is no such record, -1 on error.
 */
int store_get(struct store *, const char *type, const uint8_t author[static AG_PK_LEN],
              const char *id, size_t id_len, store_entry_fn *fn, void *arg);

/*
 * Every version of a record, oldest first; with id NULL, of every record of
 * that type and author, record by record. Returns how many, or -1.
 */
ssize_t store_history(struct store *, const char *type, const uint8_t author[static AG_PK_LEN],
                      const char *id, size_t id_len, store_entry_fn *fn, void *arg);

/*
 * Current versions of live records matching q (index.h), newest first by
 * their timestamp: a search with words, a listing without. Returns how many
 * fn was given, or -1 (a query over index.h's limits included).
 */
ssize_t store_search(struct store *, const struct index_query *q, store_entry_fn *fn, void *arg);

/* The author's flag word (0 for an author never flagged). 0 or -1. */
int store_flags(struct store *, const uint8_t author[static AG_PK_LEN], uint32_t *flags);
int store_flags_set(struct store *, const uint8_t author[static AG_PK_LEN], uint32_t set,
                    uint32_t clear);
/* Each author whose flag word has a bit of mask, in key order; fn's non-zero return stops.
 * 0 or -1. */
typedef int store_flagged_fn(const uint8_t author[AG_PK_LEN], uint32_t flags, void *arg);
int store_flagged(struct store *, uint32_t mask, store_flagged_fn *fn, void *arg);

/* The operator's decision: the author's feed goes on from the entries kept. 0 or -1. */
int store_fork_clear(struct store *, const uint8_t author[static AG_PK_LEN]);

/*
 * A succession certificate's verdict: author's entries after seq `after`
 * are void. They go, with their bodies and their records' versions (each
 * record's newest version left is its state again, and searchable; a record
 * left with none goes), the feed's head is at `after` (none at 0), its fork
 * proofs go and its forked flag is cleared, and the flags in set are set
 * (STORE_FLAG_CLOSED: it takes nothing more). One transaction; *voided gets
 * how many entries went. 0, -1 or STORE_EFULL (logged).
 */
int store_void(struct store *, const uint8_t author[static AG_PK_LEN], uint64_t after, uint32_t set,
               uint64_t *voided);

/*
 * Drops author's whole feed: its entries, bodies, records (out of the index),
 * head, flags and fork proofs, in one transaction, as if it had never been
 * received (a key that left the replicated set, past LeaveGrace). Returns how
 * many entries went, or -1 (logged).
 */
ssize_t store_feed_drop(struct store *, const uint8_t author[static AG_PK_LEN]);

/* The entries kept as proof of forks, of one author or (NULL) all. Returns how many, or -1. */
ssize_t store_forks(struct store *, const uint8_t *author, store_entry_fn *fn, void *arg);

/*
 * A small key-value table for replication and peer state. Keys are 1 to
 * STORE_META_KEY_MAX bytes. store_meta_get copies at most cap bytes to buf and
 * sets *len to the value's full length: 1 found, 0 absent, -1 error.
 */
int store_meta_put(struct store *, const void *key, size_t klen, const void *val, size_t vlen);
int store_meta_get(struct store *, const void *key, size_t klen, void *buf, size_t cap,
                   size_t *len);
int store_meta_del(struct store *, const void *key, size_t klen); /* absent is not an error */

/* Every pair whose key starts with prefix, in key order. 0 or -1. */
typedef int store_meta_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg);
int store_meta_each(struct store *, const void *prefix, size_t plen, store_meta_fn *fn, void *arg);

struct store_stats {
	uint64_t entries;  /* in all feeds */
	uint64_t feeds;    /* authors with a head */
	uint64_t records;  /* retracted ones included */
	uint64_t postings; /* in the search index, retired versions' not yet merged away included */
	uint64_t map_size; /* bytes mapped now */
	uint64_t used;     /* bytes of pages in use */
	uint64_t index;    /* bytes of those pages that the search index takes */
	uint64_t segments; /* of the index: one a transaction that indexed, until merged */
};

int store_stats(struct store *, struct store_stats *);

/*
 * A hot copy of the store into dir, an empty directory: consistent (one read
 * transaction) and compacted, synced; *bytes its size. Any thread; the
 * writer goes on, but a write that must grow the map waits for the copy.
 * 0, -1 or STORE_EFULL (logged).
 */
int store_copy(struct store *, const char *dir, uint64_t *bytes);

/* Whether rc, an LMDB or errno code from a write, means the disk is full. */
bool store_full(struct store *, int rc);
/* rc in words for a log line: "the disk is full (...)" when it is. */
void store_why(struct store *, int rc, char *buf, size_t len);

/*
 * Compaction: rewrites the environment so that what was purged is in none of
 * its files. LMDB keeps a deleted value's bytes on freed pages and in the
 * gaps of live ones, and mdb_env_copy2(MDB_CP_COMPACT) copies live pages
 * whole, gaps included; so the copy is rebuilt instead, every pair put anew
 * in a new environment (DIR/data/compact), after the index is merged into
 * one segment (no term of a purged body left). The copy is synced, renamed
 * over data.mdb, the directory synced, and the store reopened on it: a crash
 * leaves the old file or the new one, whole. Readers of this process wait
 * (maplock) while the copy is made and swapped, and writers (the write
 * lock), so no write is lost: they wait for the copy, about a second per
 * 100 MB. Another process with the environment open (none in
 * normal use) keeps the old file until it reopens. 0 or -1.
 */
int store_compact(struct store *);

/* Whether a purge was stored since the last compaction: the node compacts soon after. */
int store_compact_due(const struct store *);

/*
 * Checks everything the store promises, in one read transaction: every feed
 * is a hash chain from seq 1 to its head (and, when network is not NULL, its
 * head's own signature verifies: by the chain, it vouches for the rest),
 * every body held matches its header, every entry is a version of its
 * record unless its body breaks its schema, every record's state is its newest version, and the
 * index holds exactly the postings of the live records (besides those of retired versions that no
 * search returns and the next merge drops). 0 when all holds, 1 with the first problem in why, -1
 * on error.
 */
int store_check(struct store *, const uint8_t *network, char *why, size_t whylen);

#endif
