/*
 * store_internal.h: what store.c shares with store_check.c, the statistics
 * and checks that tests ask for. No other module includes it.
 */
#ifndef AGORA_STORE_INTERNAL_H
#define AGORA_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store.h"

#define HEAD_LEN (8 + AG_HASH_LEN) /* a line of heads: seq(8) hash(32) */

struct store {
	MDB_env *env;
	MDB_dbi log, bodies, missing, purged, entries, heads, records, forks, flags, meta, info,
	    usage;
	struct index *ix;
	/*
	 * LMDB lets the map grow only while no transaction of this process is
	 * open: readers hold this shared, the writer takes it alone to grow.
	 */
	pthread_rwlock_t maplock;
	/*
	 * Writes, one at a time: the sync's appends run on a thread of their
	 * own (sync.c, pool.h), every other write on the loop. Taken by store_write,
	 * by an append across its parts (meta_sync is the environment's, and a
	 * write between two parts would commit without syncing), by a merge, a
	 * compaction and a change of limits; recursive, as those nest. Held, it
	 * also guards what writes read and change: limits, noted, ix's queue.
	 */
	pthread_mutex_t wlock;
	/*
	 * Under wlock: appends leave the index merges they make due to
	 * store_merge_piece (store_merge_idle); an append is running; merge
	 * work is left for store_merge_piece.
	 */
	bool merge_idle, appending, merge_left;
	/* A bulk sync is under way: idle merges wait for its end (store_merge_wait). No lock. */
	atomic_bool merge_wait;
	uint32_t format;        /* the format found, when it is not SCHEMA */
	char *dir;              /* where the environment is, for compaction */
	atomic_int compact_due; /* a purge was stored since the last compaction: the loop asks */
	char writer[64]; /* then the release that wrote it ("agorad 0.1.0"), "" if it did not say */
	struct store_limits limits; /* all 0 (none) until store_limits_set */
	/* The authors whose quota or entry cap was logged, so each is logged once. */
	struct store_noted *noted;
	size_t nnoted, capnoted;
	/*
	 * Whether other authors' entries are refused for disk (store_takes), and
	 * when it was seen: seen by writes on either thread, asked by the loop,
	 * so under disk_lock.
	 */
	pthread_mutex_t disk_lock;
	bool disk_full;
	int64_t disk_seen_ms;
};

/*
 * store_disk_used, from inside a write transaction: without maplock, which a
 * write must not wait for while it holds LMDB's write lock (a compaction
 * takes maplock, then that). The write lock keeps the map from growing.
 */
uint64_t store_disk_used_writing(struct store *st);

/* The bytes free on the file system of the store; UINT64_MAX when it cannot tell. */
uint64_t store_disk_free(struct store *st);

/* Whether a store of used bytes, avail free on its disk, is past its limit for own or others'. */
bool store_disk_over(struct store *st, uint64_t used, uint64_t avail, bool own);

/* Notes what a write saw of the disk (store_disk_full), logging a change once. */
void store_disk_seen(struct store *st, uint64_t used, uint64_t avail);

/* Takes and gives back the store's write lock (wlock). */
void store_lock(struct store *st);
void store_unlock(struct store *st);

/* Whether author is this node's own key (store_limits_set). */
bool store_self(const struct store *st, const uint8_t *author);

/* True the first time author reaches limit `what` since the limits were set: log it then. */
#define STORE_NOTED_QUOTA 1u
#define STORE_NOTED_CAP   2u
bool store_noted_once(struct store *st, const uint8_t *author, unsigned what);

/* A record version's line in records. */
struct rec {
	uint64_t seq;
	uint32_t docno;
	uint64_t ts;
	int live;
};

/*
 * Runs fn in a read transaction. Returns 0, 1 when fn says MDB_NOTFOUND (it
 * found nothing: no error), or -1 after logging "store: what: why" for any
 * other failure.
 */
typedef int store_read_fn(MDB_txn *, struct store *, void *arg);
int store_read(struct store *st, const char *what, store_read_fn *fn, void *arg);

/* Opens st's environment in dir, and its databases and index (store_open, store_compact). */
int store_env_open(struct store *st, const char *dir, size_t map_size);

/* Merges the index into one segment, dropping killed versions' terms (store_compact). 0 or -1. */
int store_index_merge(struct store *st);

/* A line of records, read: MDB_CORRUPTED if it has another size. */
int store_rec_get(const MDB_val *v, struct rec *r);

/* The header at logno (8 bytes), decoded, with its body if held: what fails here was damaged on
 * disk. */
int store_log_load(MDB_txn *txn, const struct store *st, const void *logno, struct ag_entry *e);

/* Entry seq of author's feed, decoded and checked to be it: MDB_CORRUPTED if it is not. */
int store_entry_load(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                     struct ag_entry *e);

/* How many records there are, retracted ones included. */
int store_records_count(MDB_txn *txn, MDB_dbi info, uint64_t *n);

#endif
