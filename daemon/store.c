/*
 * store.c: feeds, records and their index in one LMDB environment.
 *
 * Databases (integers big endian, so keys sort as numbers):
 *
 *   log       logno(8)                    -> an encoded header, in the order stored
 *   bodies    logno(8)                    -> its body, when held (not for a retraction)
 *   missing   author(32) seq(8)           -> "": a header held whose body is wanted
 *                                            and has not arrived
 *   purged    author(32) seq(8)           -> "": a body its author purged, for good
 *   entries   author(32)                  -> seq(8) logno(8), a line per entry
 *                                            (DUPSORT), in feed order
 *   heads     author(32)                  -> seq(8) hash(32)
 *   records   type NUL author(32) id      -> seq(8) docno(4) timestamp(8) live(1), a
 *                                            line per version (DUPSORT), oldest first:
 *                                            the last is the record's state; an older
 *                                            one says what its version was when current;
 *                                            live: its body is held and indexed
 *   forks     author(32) seq(8) hash(32)  -> an encoded header kept as proof
 *   flags     author(32)                  -> flag word(4)
 *   usage     author(32)                  -> bytes of its bodies held(8), bodies
 *                                            dropped over quota(8), its last body
 *                                            was dropped(1): kept with every write
 *   meta      the callers' keys           -> their values
 *   info      "schema", "records"         -> version(4), records(8)
 *             "writer"                    -> the release that last opened it, "agorad 0.1.0"
 *   segs, blocks, dead                    -> see index.c
 *
 * An entry received is stored whatever its body holds, once the body is a
 * canonical map that matches its header (DESIGN.md "Versions live side by
 * side"): a newer release's record type, field or topic is kept, relayed and
 * indexed, never a reason to stop its feed. Only this node's own entries are
 * held to its schemas (store_publish), as agora put holds them before.
 *
 * Entries go into log in the order they are stored, with MDB_APPEND, so a
 * batch fills whole pages at the end of the map. Keyed by author and seq,
 * as they once were, a batch mixing feeds inserted into the middle of the
 * tree at each feed's end: every page split in half, and the map held
 * half-full pages.
 * entries keeps the feed order in fixed lines under each author, appended
 * with MDB_APPENDDUP, so it too only ever adds to the end of a page.
 *
 * Headers and bodies are apart (entry format 2), so that a body can be
 * dropped, or arrive late, without touching the header, the chain or the
 * head: a header without its body counts for the feed, and its record's
 * state then shows no body.
 *
 * A version whose body is held is in the index under its logno, as its
 * docno, so a search hit is one read of log and bodies away. When a new version replaces it, or a
 * retraction, its docno is killed in the index in the same transaction. A
 * retracted record's docno is 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <msgpack.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "be.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "store_internal.h"

/*
 * The store's format. 8 is the first released format, the first to hold
 * entries of format 2 (DESIGN.md "Versions live side by side") and the
 * search index of stems and weights (index.c): every later format comes with
 * an upgrade from the one before it in upgrades[] below, run at start (9
 * adds each author's usage, for quotas; 10 the index's blocks of
 * delta-encoded postings, rebuilt from the records). Earlier ones, 7
 * included (format 2 entries with the index before stems), were never
 * released and are refused, with what to do; a later one, written by a
 * newer release, is refused naming it.
 */
#define SCHEMA    10
#define RELEASED  8 /* the first released format: every one since is upgraded */
#define WRITER    "agorad " AGORA_VERSION
#define EPOS_LEN  16 /* a line of entries */
#define RKEY_MAX  (AG_TYPE_MAX + 1 + AG_PK_LEN + AG_ID_MAX)
#define REC_LEN   21
#define FKEY_LEN  (AG_PK_LEN + 8 + AG_HASH_LEN)
#define MKEY_LEN  (AG_PK_LEN + 8)
#define USAGE_LEN 17
#define TXN_COST  (16u << 10) /* bytes a write transaction is taken to add, besides its entries */
#define EFORMAT   (MDB_LAST_ERRCODE + 1) /* not an LMDB code: the store's own format differs */
#define EUPGRADE  (MDB_LAST_ERRCODE + 2) /* an upgrade failed, and said why */
#define GROW_STEP ((size_t)1 << 30)      /* past 1 GiB the map grows by this much */

/* A write transaction and what it has learnt so far. */
struct wtxn {
	struct store *st;
	MDB_txn *txn;
	uint64_t logno; /* the last logno given, once read from log */
	int logno_read;
	MDB_cursor *records; /* opened at the first record written */
	uint64_t new_records;
	uint64_t gone_records; /* records whose every version was voided (store_void) */
	/* The disk as the first entry that asks found it (wtxn_disk_over), and what was added. */
	int disk_read;
	uint64_t disk_used, disk_free, disk_added;
};

/* What a write knows of a feed: read once, its head and usage written once, at the end. */
struct feed {
	uint8_t author[AG_PK_LEN];
	uint64_t head;
	uint8_t hash[AG_HASH_LEN];
	uint32_t flags;
	int dirty;
	struct store_usage use;
	int use_dirty;
};

static int wtxn_finish(struct wtxn *w);

static MDB_val author_key(const uint8_t *author)
{
	return (MDB_val){AG_PK_LEN, (void *)(uintptr_t)author};
}

static MDB_val rkey(uint8_t out[static RKEY_MAX], const char *type, const uint8_t *author,
                    const char *id, size_t id_len)
{
	size_t tl = strlen(type);

	memcpy(out, type, tl);
	out[tl] = 0;
	memcpy(out + tl + 1, author, AG_PK_LEN);
	memcpy(out + tl + 1 + AG_PK_LEN, id, id_len);
	return (MDB_val){tl + 1 + AG_PK_LEN + id_len, out};
}

static int rkey_check(const char *type, const char *id, size_t id_len)
{
	return ag_rectype_check(type, strlen(type)) == 0 && ag_recid_check(id, id_len) == 0;
}

static void rec_put(uint8_t out[static REC_LEN], const struct rec *r)
{
	be64_put(out, r->seq);
	be32_put(out + 8, r->docno);
	be64_put(out + 12, r->ts);
	out[20] = (uint8_t)r->live;
}

int store_rec_get(const MDB_val *v, struct rec *r)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != REC_LEN)
		return MDB_CORRUPTED;
	*r = (struct rec){be64_get(p), be32_get(p + 8), be64_get(p + 12), p[20]};
	return 0;
}

static void raw_hash(const void *raw, size_t len, uint8_t out[static AG_HASH_LEN])
{
	crypto_generichash(out, AG_HASH_LEN, raw, len, NULL, 0);
}

/* The encoded entry at logno, which a line of entries named: its absence is damage. */
static int log_get(MDB_txn *txn, const struct store *st, const void *logno, MDB_val *raw)
{
	MDB_val k = {8, (void *)(uintptr_t)logno};
	int rc = mdb_get(txn, st->log, &k, raw);

	return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

/* The body stored at logno: MDB_NOTFOUND when it is not held. */
static int body_get(MDB_txn *txn, const struct store *st, const void *logno, MDB_val *body)
{
	MDB_val k = {8, (void *)(uintptr_t)logno};

	return mdb_get(txn, st->bodies, &k, body);
}

static MDB_val missing_key(uint8_t kb[static MKEY_LEN], const uint8_t *author, uint64_t seq)
{
	memcpy(kb, author, AG_PK_LEN);
	be64_put(kb + AG_PK_LEN, seq);
	return (MDB_val){MKEY_LEN, kb};
}

/* Sets *purged to whether author purged the body of its entry seq. 0 or an LMDB error. */
static int purged_has(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                      bool *purged)
{
	uint8_t kb[MKEY_LEN];
	MDB_val k = missing_key(kb, author, seq), v;
	int rc = mdb_get(txn, st->purged, &k, &v);

	*purged = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The header at logno, decoded, and its body if held: what fails here was
 * damaged on disk. A header counts as verified once stored: its own
 * signature or a later one's chain vouched for it (DESIGN.md "Accepting").
 */
int store_log_load(MDB_txn *txn, const struct store *st, const void *logno, struct ag_entry *e)
{
	MDB_val v, b;
	int rc;

	if ((rc = log_get(txn, st, logno, &v)) != 0)
		return rc;
	if (ag_entry_open(e, v.mv_data, v.mv_size, NULL, 0, NULL, NULL) != 0)
		return MDB_CORRUPTED;
	e->purged = false;
	if (e->h.has_body && (rc = body_get(txn, st, logno, &b)) == MDB_NOTFOUND)
		return purged_has(txn, st, e->h.author, e->h.seq, &e->purged);
	if (!e->h.has_body)
		return 0;
	if (rc != 0 || b.mv_size != e->h.body_len)
		return rc ? rc : MDB_CORRUPTED;
	e->body = b.mv_data;
	e->body_len = b.mv_size;
	return 0;
}

/*
 * Puts c on author's line for seq, or the first past it, and gives that line
 * in *line; MDB_NOTFOUND if the feed ends before seq.
 */
static int epos_seek(MDB_cursor *c, const uint8_t *author, uint64_t seq, MDB_val *line)
{
	uint8_t lb[EPOS_LEN] = {0};
	MDB_val k = author_key(author);
	int rc;

	be64_put(lb, seq);
	*line = (MDB_val){EPOS_LEN, lb};
	if ((rc = mdb_cursor_get(c, &k, line, MDB_GET_BOTH_RANGE)) != 0)
		return rc;
	return line->mv_size == EPOS_LEN ? 0 : MDB_CORRUPTED;
}

/* The logno of the entry at author and seq: MDB_NOTFOUND if there is none. */
static int entry_logno(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                       uint8_t logno[static 8])
{
	MDB_cursor *c;
	MDB_val line;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->entries, &c)) != 0)
		return rc;
	rc = epos_seek(c, author, seq, &line);
	if (rc == 0 && be64_get(line.mv_data) != seq)
		rc = MDB_NOTFOUND;
	if (rc == 0)
		memcpy(logno, (const uint8_t *)line.mv_data + 8, 8);
	mdb_cursor_close(c);
	return rc;
}

/* The encoded header at author and seq: MDB_NOTFOUND if there is none. */
static int entry_raw(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                     MDB_val *raw)
{
	uint8_t logno[8];
	int rc = entry_logno(txn, st, author, seq, logno);

	return rc ? rc : log_get(txn, st, logno, raw);
}

/* The entry at author and seq, which must be there, decoded. */
int store_entry_load(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                     struct ag_entry *e)
{
	uint8_t logno[8];
	int rc;

	if ((rc = entry_logno(txn, st, author, seq, logno)) != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	if ((rc = store_log_load(txn, st, logno, e)) != 0)
		return rc;
	if (e->h.seq != seq || memcmp(e->h.author, author, AG_PK_LEN) != 0)
		return MDB_CORRUPTED;
	return 0;
}

/* ---- transactions ---- */

static int store_grow(struct store *st)
{
	MDB_envinfo info;
	size_t next;
	int rc;

	pthread_rwlock_wrlock(&st->maplock);
	mdb_env_info(st->env, &info);
	next = info.me_mapsize < GROW_STEP ? info.me_mapsize * 2 : info.me_mapsize + GROW_STEP;
	rc = mdb_env_set_mapsize(st->env, next);
	pthread_rwlock_unlock(&st->maplock);
	if (rc != 0)
		return rc;
	log_info("store: map grown to %zu MiB", next >> 20);
	return 0;
}

/* Another process grew the map: take its size. */
static int store_adopt(struct store *st)
{
	int rc;

	pthread_rwlock_wrlock(&st->maplock);
	rc = mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->maplock);
	return rc;
}

static int read_begin(struct store *st, MDB_txn **txn)
{
	int rc;

	for (;;) {
		pthread_rwlock_rdlock(&st->maplock);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->maplock);
		if (rc != MDB_MAP_RESIZED || (rc = store_adopt(st)) != 0)
			break;
	}
	log_error("store: read: %s", mdb_strerror(rc));
	return -1;
}

static void read_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->maplock);
}

int store_read(struct store *st, const char *what, store_read_fn *fn, void *arg)
{
	MDB_txn *txn;
	int rc;

	if (read_begin(st, &txn) != 0)
		return -1;
	rc = fn(txn, st, arg);
	read_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		log_error("store: %s: %s", what, mdb_strerror(rc));
		return -1;
	}
	return rc == MDB_NOTFOUND;
}

/*
 * Whether commits sync LMDB's meta page, or only the data before it
 * (MDB_NOMETASYNC): a crash may then undo the last commit, never more, and
 * never leaves a store that is not one its commits made. The next commit
 * that syncs makes the ones before it durable too. For transactions whose
 * durability nothing waits for: the pieces of a merge, the first parts of
 * an append split in several.
 */
static void meta_sync(struct store *st, bool on)
{
	(void)mdb_env_set_flags(st->env, MDB_NOMETASYNC, !on);
}

/*
 * One piece of the index's merge work (index_merge_step) in a transaction
 * of its own, committed: so no transaction holds more than a piece's pages
 * in memory. A full map is grown and the piece that failed begun again.
 * Under the write lock. *more while work is left; *due, if not NULL, what
 * is due after it (index_merge_due). 0 or the LMDB error code.
 */
static int merge_piece(struct store *st, int *more, int *due)
{
	for (;;) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(st->env, NULL, 0, &txn);

		if (rc == MDB_MAP_RESIZED && (rc = store_adopt(st)) == 0)
			continue;
		if (rc == 0 && ((rc = index_merge_step(st->ix, txn, more)) != 0 ||
		                (due && (rc = index_merge_due(st->ix, txn, due)) != 0)))
			mdb_txn_abort(txn);
		else if (rc == 0)
			rc = mdb_txn_commit(txn);
		if (rc != 0)
			index_merge_cancel(st->ix);
		if (rc == MDB_MAP_FULL && (rc = store_grow(st)) == 0)
			continue;
		return rc;
	}
}

/*
 * The index's merge work that is due, a piece per transaction: all of it,
 * or with INDEX_DUE_FULL only until the catalog is no longer nearly full,
 * the rest left for store_merge_piece. 0 or the error, logged.
 */
static int store_merge(struct store *st, int until)
{
	int more = 1, rc = 0, due = until;

	store_lock(st);
	meta_sync(st, false);
	while (more && rc == 0 && due >= until)
		rc = merge_piece(st, &more, until ? &due : NULL);
	meta_sync(st, true);
	/* Done, or left for idle time, or to be tried again after the next write. */
	st->merge_left = rc == 0 && more && until;
	store_unlock(st);
	if (rc != 0)
		log_error("store: index merge: %s", mdb_strerror(rc));
	return rc;
}

int store_merge_piece(struct store *st)
{
	int more = 0, rc = 0;

	if (atomic_load(&st->merge_wait))
		return 0; /* the work stays left, for when the sync ends */
	store_lock(st);
	if (st->merge_left && st->ix) {
		meta_sync(st, false);
		rc = merge_piece(st, &more, NULL);
		meta_sync(st, true);
		/* A piece that failed is tried again after the next write, not at once. */
		st->merge_left = rc == 0 && more;
	}
	store_unlock(st);
	if (rc != 0)
		log_error("store: index merge: %s", mdb_strerror(rc));
	return rc != 0 ? -1 : more;
}

void store_merge_idle(struct store *st, bool on)
{
	store_lock(st);
	st->merge_idle = on;
	store_unlock(st);
}

void store_merge_wait(struct store *st, bool on)
{
	atomic_store(&st->merge_wait, on);
}

/*
 * After a write that made merge work due: the work, at once; or, for an
 * append while idle merges are on, nothing but a note for store_merge_piece,
 * unless merges have fallen behind (INDEX_DUE_NOW), or, during a bulk sync,
 * unless the catalog is nearly full (INDEX_DUE_FULL). Another write (the
 * loop's) while work is left for store_merge_piece leaves it there too: the
 * appender goes on with it, and the loop must not wait for a merge that
 * the appender has under way.
 */
static void merge_after(struct store *st, int due)
{
	if (st->merge_idle && atomic_load(&st->merge_wait)) {
		if (due == INDEX_DUE_FULL) /* no longer than the catalog must: a merge or so */
			(void)store_merge(st, INDEX_DUE_FULL);
		else
			st->merge_left = true;
	} else if (due == INDEX_DUE && st->merge_idle && (st->appending || st->merge_left)) {
		st->merge_left = true;
	} else {
		(void)store_merge(st, 0);
	}
}

typedef int write_fn(struct wtxn *, void *arg);

/*
 * Runs fn in a write transaction and commits; a full map is grown and the
 * whole transaction run again, so fn must start from scratch each time.
 * Then the index merges that the write made due run, in transactions of
 * their own (the write is durable whatever becomes of them), or wait for
 * store_merge_piece (merge_after).
 * Returns 0 or the LMDB error code; the caller logs it.
 */
static int store_write_locked(struct store *st, write_fn *fn, void *arg)
{
	for (;;) {
		struct wtxn w = {st, NULL, 0, 0, NULL, 0};
		int rc = mdb_txn_begin(st->env, NULL, 0, &w.txn), due = 0;

		if (rc == MDB_MAP_RESIZED && (rc = store_adopt(st)) == 0)
			continue;
		if (rc == 0) {
			rc = fn(&w, arg);
			mdb_cursor_close(w.records);
			if (rc == 0)
				rc = wtxn_finish(&w);
			if (rc == 0)
				rc = index_flush(st->ix, w.txn);
			if (rc == 0)
				rc = index_merge_due(st->ix, w.txn, &due);
			if (rc == 0)
				rc = mdb_txn_commit(w.txn);
			else
				mdb_txn_abort(w.txn);
		}
		index_reset(st->ix);
		if (rc == MDB_MAP_FULL && (rc = store_grow(st)) == 0)
			continue;
		if (rc == 0 && due)
			merge_after(st, due);
		return rc;
	}
}

/* store_write_locked under the write lock: the appender's thread may be writing. */
static int store_write(struct store *st, write_fn *fn, void *arg)
{
	int rc;

	store_lock(st);
	rc = store_write_locked(st, fn, arg);
	store_unlock(st);
	return rc;
}

/* ---- open and close ---- */

/* The write lock is recursive: an append holds it across its parts, each a store_write. */
static void wlock_init(struct store *st)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->wlock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&st->disk_lock, NULL);
}

void store_lock(struct store *st)
{
	pthread_mutex_lock(&st->wlock);
}

void store_unlock(struct store *st)
{
	pthread_mutex_unlock(&st->wlock);
}

/* The release that wrote a store of another format, into st->writer ("" when it did not say). */
static void writer_get(MDB_txn *txn, struct store *st)
{
	MDB_val v;

	st->writer[0] = '\0';
	if (mdb_get(txn, st->info, &(MDB_val){6, "writer"}, &v) == 0)
		snprintf(st->writer, sizeof(st->writer), "%.*s", (int)v.mv_size,
		         (const char *)v.mv_data);
	for (char *p = st->writer; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int open_dbs(struct store *st, MDB_txn *txn)
{
	static const char *names[] = {"log",     "bodies", "missing", "purged", "entries", "heads",
	                              "records", "forks",  "flags",   "meta",   "info",    "usage"};
	MDB_dbi *dbis[] = {&st->log,     &st->bodies, &st->missing, &st->purged,
	                   &st->entries, &st->heads,  &st->records, &st->forks,
	                   &st->flags,   &st->meta,   &st->info,    &st->usage};
	uint8_t ver[4];
	MDB_val k = {6, "schema"}, v = {4, ver};
	int rc;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned flags = MDB_CREATE;

		if (dbis[i] == &st->records || dbis[i] == &st->entries)
			flags |= MDB_DUPSORT | MDB_DUPFIXED;
		if ((rc = mdb_dbi_open(txn, names[i], flags, dbis[i])) != 0)
			return rc;
	}
	if ((rc = mdb_get(txn, st->info, &k, &v)) == MDB_NOTFOUND) {
		be32_put(ver, SCHEMA);
		v = (MDB_val){4, ver};
		rc = mdb_put(txn, st->info, &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != 4 || be32_get(v.mv_data) != SCHEMA)) {
		st->format = v.mv_size == 4 ? be32_get(v.mv_data) : 0;
		writer_get(txn, st);
		rc = EFORMAT;
	}
	if (rc == 0)
		rc = mdb_put(txn, st->info, &(MDB_val){6, "writer"},
		             &(MDB_val){strlen(WRITER), WRITER}, 0);
	if (rc == 0 && !(st->ix = index_open(txn)))
		rc = ENOMEM;
	/*
	 * Merges that a daemon stopped during or after a bulk sync put off may
	 * be due: the first idle turn (store_merge_piece) looks, with no write
	 * first.
	 */
	st->merge_left = true;
	return rc;
}

int store_env_open(struct store *st, const char *dir, size_t map_size)
{
	MDB_envinfo info;
	MDB_txn *txn;
	int rc, dead;

	if ((rc = mdb_env_create(&st->env)) != 0 || (rc = mdb_env_set_maxdbs(st->env, 24)) != 0 ||
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0)
		return rc;
	/* An existing environment keeps its size if it is larger. */
	if ((rc = mdb_env_info(st->env, &info)) != 0 ||
	    (info.me_mapsize < map_size && (rc = mdb_env_set_mapsize(st->env, map_size)) != 0))
		return rc;
	/* Slots of readers that died (killed processes) would pin old pages. */
	if ((rc = mdb_reader_check(st->env, &dead)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = open_dbs(st, txn)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/*
 * In-place upgrades, one per format since the first released one: from
 * format `from` to from + 1, in one write transaction, which then says
 * from + 1. Each reads what the format before it wrote (it may open the
 * databases it needs; index terms can be made again from log and bodies).
 * 8 to 9 adds usage, each author's bytes of bodies, counted once here and
 * kept with every write since. 9 to 10 rebuilds the search index from the
 * records: format 10's blocks hold each term's postings delta-encoded, and
 * a format 9 block is never read again.
 */
struct upgrade {
	uint32_t from;
	const char *what; /* for the log: "re-index the search terms" */
	int (*fn)(MDB_txn *, struct store *);
};

static int upgrade_usage(MDB_txn *txn, struct store *st);
static int upgrade_reindex(MDB_txn *txn, struct store *st);

static const struct upgrade upgrades[] = {
    {8, "count each author's bodies for its quota", upgrade_usage},
    {9, "rebuild the search index", upgrade_reindex},
    {0, NULL, NULL},
};

static int upgrade_txn(struct store *st, const struct upgrade *u)
{
	uint8_t ver[4];
	MDB_txn *txn;
	MDB_dbi info;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return rc;
	be32_put(ver, u->from + 1);
	if ((rc = u->fn(txn, st)) != 0 || (rc = mdb_dbi_open(txn, "info", 0, &info)) != 0 ||
	    (rc = mdb_put(txn, info, &(MDB_val){6, "schema"}, &(MDB_val){4, ver}, 0)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/*
 * One upgrade, in its transaction. A map that it fills is grown and the
 * upgrade begun again, as a write does: a rebuilt index needs as many pages
 * again as the old one, which it frees only when it commits.
 */
static int upgrade_step(struct store *st, const struct upgrade *u)
{
	int rc;

	log_info("store: format %" PRIu32 " to %" PRIu32 ": %s", u->from, u->from + 1, u->what);
	while ((rc = upgrade_txn(st, u)) == MDB_MAP_FULL && (rc = store_grow(st)) == 0)
		;
	if (rc == 0)
		st->format = u->from + 1;
	return rc;
}

/* The next upgrade from st->format, or NULL when there is none. */
static const struct upgrade *upgrade_next(const struct store *st)
{
	for (const struct upgrade *u = upgrades; u->fn; u++)
		if (u->from == st->format)
			return u;
	return NULL;
}

/* Removes the backup of the old environment: it served its purpose. */
static void backup_drop(const char *bak)
{
	char path[4096 + 16];

	snprintf(path, sizeof(path), "%s/data.mdb", bak);
	if ((unlink(path) != 0 && errno != ENOENT) || rmdir(bak) != 0)
		log_warn("store: cannot remove the old store's copy %s", bak);
}

/*
 * Upgrades the store in dir, open in st->env at an older released format,
 * to SCHEMA, step by step. A compacted copy of the old environment is kept
 * beside it, DIR.format-N, until every step has succeeded: if one fails,
 * agorad stops and the copy is what to go back to. 0, or an LMDB error or
 * EFORMAT (logged).
 */
static int store_upgrade(struct store *st, const char *dir)
{
	const struct upgrade *u;
	char bak[4096];
	int rc;

	snprintf(bak, sizeof(bak), "%s.format-%" PRIu32, dir, st->format);
	log_info("store: %s is in format %" PRIu32 " (%s): upgrading it to format %d, a copy of "
	         "the old one kept in %s until done",
	         dir, st->format, st->writer[0] ? st->writer : "an earlier release", SCHEMA, bak);
	if ((mkdir(bak, 0700) != 0 && errno != EEXIST) ||
	    (rc = mdb_env_copy2(st->env, bak, MDB_CP_COMPACT)) != 0) {
		log_warn("store: cannot copy the old store to %s", bak);
		return EFORMAT;
	}
	while (st->format != SCHEMA) {
		if (!(u = upgrade_next(st))) {
			log_error("store: no upgrade from format %" PRIu32
			          "; the old store is in %s",
			          st->format, bak);
			return EFORMAT;
		}
		if ((rc = upgrade_step(st, u)) != 0) {
			log_error("store: upgrade from format %" PRIu32
			          ": %s; the old store is in %s",
			          u->from, mdb_strerror(rc), bak);
			return rc;
		}
	}
	log_info("store: %s upgraded to format %d", dir, SCHEMA);
	backup_drop(bak);
	return 0;
}

/* Why a store of another format cannot be read, in words an operator can act on. */
static void format_refused(const struct store *st, const char *dir)
{
	if (st->format > SCHEMA)
		log_error("store: %s was written by %s (store format %" PRIu32 "), newer than this "
		          "%s (format %d): run that release or a later one, or move the store "
		          "aside to start afresh from the peers",
		          dir, st->writer[0] ? st->writer : "a newer release", st->format, WRITER,
		          SCHEMA);
	else /* Formats before the first release have no upgrade: the peers hold it all. */
		log_error("store: %s is in format %" PRIu32 ", this agorad reads format %d: move "
		          "it aside; once started, the node takes every feed back from its peers, "
		          "its own included",
		          dir, st->format, SCHEMA);
}

/* Opens dir's environment, upgraded first when it is of an earlier released format. */
static int env_open_upgraded(struct store *st, const char *dir, size_t map_size)
{
	int rc = store_env_open(st, dir, map_size);

	if (rc != EFORMAT || st->format < RELEASED || st->format > SCHEMA)
		return rc;
	index_free(st->ix);
	st->ix = NULL;
	if ((rc = store_upgrade(st, dir)) != 0)
		return rc == EFORMAT ? EUPGRADE : rc;
	mdb_env_close(st->env);
	st->env = NULL;
	st->format = 0;
	return store_env_open(st, dir, map_size);
}

struct store *store_open(const char *dir, size_t map_size)
{
	struct store *st;
	int rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_warn("store: %s", dir);
		return NULL;
	}
	if (!(st = calloc(1, sizeof(*st)))) {
		log_error("store: out of memory");
		return NULL;
	}
	pthread_rwlock_init(&st->maplock, NULL);
	wlock_init(st);
	if (!(st->dir = strdup(dir)))
		rc = ENOMEM;
	else
		rc = env_open_upgraded(st, dir, map_size ? map_size : STORE_MAP_DEFAULT);
	if (rc == EFORMAT)
		format_refused(st, dir);
	if (rc == EFORMAT || rc == EUPGRADE) {
		store_close(st);
		return NULL;
	}
	if (rc != 0) {
		log_error("store: %s: %s", dir, mdb_strerror(rc));
		store_close(st);
		return NULL;
	}
	return st;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	free(st->noted);
	index_free(st->ix);
	if (st->env)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->maplock);
	pthread_mutex_destroy(&st->wlock);
	pthread_mutex_destroy(&st->disk_lock);
	free(st->dir);
	free(st);
}

/* ---- writing an entry ---- */

/*
 * A big-endian counter of width 4 or 8 under key: absent reads as 0, another
 * width is corruption. 0 or an LMDB error.
 */
static int counter_get(MDB_txn *txn, MDB_dbi dbi, MDB_val key, size_t width, uint64_t *out)
{
	MDB_val v;
	int rc = mdb_get(txn, dbi, &key, &v);

	*out = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && v.mv_size != width)
		return MDB_CORRUPTED;
	if (rc == 0)
		*out = width == 4 ? be32_get(v.mv_data) : be64_get(v.mv_data);
	return rc;
}

static int flags_get(MDB_txn *txn, MDB_dbi dbi, const uint8_t *author, uint32_t *flags)
{
	MDB_val k = author_key(author);
	uint64_t v;
	int rc = counter_get(txn, dbi, k, 4, &v);

	*flags = (uint32_t)v;
	return rc;
}

static int flags_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *author, uint32_t flags)
{
	uint8_t a[AG_PK_LEN], f[4];
	MDB_val k = {AG_PK_LEN, a}, v = {4, f};

	memcpy(a, author, AG_PK_LEN);
	be32_put(f, flags);
	if (flags == 0) {
		int rc = mdb_del(txn, dbi, &k, NULL);

		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* An author's usage: zero when it has none yet. */
static int usage_get(MDB_txn *txn, const struct store *st, const uint8_t *author,
                     struct store_usage *u)
{
	MDB_val k = author_key(author), v;
	int rc = mdb_get(txn, st->usage, &k, &v);
	const uint8_t *p;

	*u = (struct store_usage){0, 0, false};
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size != USAGE_LEN)
		return MDB_CORRUPTED;
	p = v.mv_data;
	*u = (struct store_usage){be64_get(p), be64_get(p + 8), p[16] != 0};
	return 0;
}

static int usage_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *author, const struct store_usage *u)
{
	uint8_t a[AG_PK_LEN], b[USAGE_LEN];

	memcpy(a, author, AG_PK_LEN);
	be64_put(b, u->body_bytes);
	be64_put(b + 8, u->dropped);
	b[16] = u->over_quota;
	return mdb_put(txn, dbi, &(MDB_val){AG_PK_LEN, a}, &(MDB_val){USAGE_LEN, b}, 0);
}

/* The upgrade from format 8: each author's bodies held, summed once from entries and bodies. */
static int upgrade_usage(MDB_txn *txn, struct store *st)
{
	MDB_dbi entries, bodies, usage;
	struct store_usage u = {0, 0, false};
	uint8_t author[AG_PK_LEN];
	MDB_cursor *c;
	MDB_val k, v, b;
	int rc, have = 0;

	(void)st;
	if ((rc = mdb_dbi_open(txn, "entries", 0, &entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "bodies", 0, &bodies)) != 0 ||
	    (rc = mdb_dbi_open(txn, "usage", MDB_CREATE, &usage)) != 0 ||
	    (rc = mdb_cursor_open(txn, entries, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != AG_PK_LEN || v.mv_size != EPOS_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (have && memcmp(author, k.mv_data, AG_PK_LEN) != 0) { /* the next author's */
			if ((rc = usage_put(txn, usage, author, &u)) != 0)
				break;
			u.body_bytes = 0;
		}
		memcpy(author, k.mv_data, AG_PK_LEN);
		have = 1;
		if ((rc = mdb_get(txn, bodies, &(MDB_val){8, (uint8_t *)v.mv_data + 8}, &b)) == 0)
			u.body_bytes += b.mv_size;
		else if (rc != MDB_NOTFOUND)
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND && have)
		rc = usage_put(txn, usage, author, &u);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The upgrade from format 9 builds the index anew from what the records say
 * is current, and never reads the old blocks. The versions go in in docno
 * order, which is log's and bodies' key order: the reads go through both
 * from end to end, and each segment holds a run of docnos, as a sync's do.
 * It is one transaction, as every upgrade is, so no store ever says format
 * 9 over blocks of 10: LMDB holds the pages it writes in memory until it
 * commits (a peak RssAnon of 89 MB at 100,000 records of 500 bytes, about
 * twice the index it builds).
 */

/*
 * The databases the rebuild reads, in txn: st's own handles went with the
 * transaction that found the old format. A store upgraded from format 8 has
 * no purged yet (store_env_open makes it), which store_log_load may ask.
 */
static int reindex_dbs(MDB_txn *txn, struct store *st)
{
	int rc;

	if ((rc = mdb_dbi_open(txn, "log", 0, &st->log)) != 0 ||
	    (rc = mdb_dbi_open(txn, "bodies", 0, &st->bodies)) != 0 ||
	    (rc = mdb_dbi_open(txn, "purged", MDB_CREATE, &st->purged)) != 0)
		return rc;
	return mdb_dbi_open(txn, "records", 0, &st->records);
}

/* The index's databases emptied, and a fresh index opened on them in *ix. */
static int reindex_empty(MDB_txn *txn, struct index **ix)
{
	static const char *names[] = {"segs", "blocks", "dead"};
	MDB_dbi dbi;
	int rc;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((rc = mdb_dbi_open(txn, names[i], 0, &dbi)) != 0 ||
		    (rc = mdb_drop(txn, dbi, 0)) != 0)
			return rc;
	return (*ix = index_open(txn)) ? 0 : ENOMEM;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The docnos of the records' current versions whose bodies are held (a
 * retraction's is 0, and is left out), ascending, into *out, which the
 * caller frees: 4 bytes a record.
 */
static int reindex_docnos(MDB_txn *txn, const struct store *st, uint32_t **out, size_t *n)
{
	uint32_t *d = NULL, *p;
	size_t cap = 0;
	MDB_cursor *c;
	MDB_val k, v;
	struct rec r;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, st->records, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST_DUP)) != 0 ||
		    (rc = store_rec_get(&v, &r)) != 0)
			break;
		if (!r.live)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (!(p = realloc(d, cap * sizeof(*d)))) {
				rc = ENOMEM;
				break;
			}
			d = p;
		}
		d[(*n)++] = r.docno;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		free(d);
		return rc;
	}
	if (*n)
		qsort(d, *n, sizeof(*d), u32_cmp);
	*out = d;
	return 0;
}

#define REINDEX_DOCS  4096       /* versions queued at most between flushes */
#define REINDEX_BYTES (8u << 20) /* and bytes of their bodies */

/* All the merge work that is due, done in txn. */
static int reindex_merges(struct index *ix, MDB_txn *txn)
{
	int more = 1, rc = 0;

	while (rc == 0 && more)
		rc = index_merge_step(ix, txn, &more);
	return rc;
}

/*
 * Indexes the versions at docnos, flushing the queue every REINDEX_DOCS
 * versions or REINDEX_BYTES of bodies (the queue grows with the bodies'
 * words), each flush followed by the merges it makes due, so that the
 * catalog keeps within its room; then merges the index into one segment.
 */
static int reindex_docs(MDB_txn *txn, const struct store *st, struct index *ix,
                        const uint32_t *docnos, size_t n)
{
	size_t queued = 0, bytes = 0;
	uint8_t logno[8];
	struct ag_entry e;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		be64_put(logno, docnos[i]);
		if ((rc = store_log_load(txn, st, logno, &e)) == 0 && !e.body)
			rc = MDB_CORRUPTED; /* the record says its body is held */
		if (rc == 0) {
			rc = index_add(ix, &(struct index_doc){docnos[i], e.h.timestamp, e.h.type,
			                                       e.h.author, e.body, e.body_len});
			bytes += e.body_len;
		}
		if (rc == 0 && (++queued == REINDEX_DOCS || bytes >= REINDEX_BYTES)) {
			if ((rc = index_flush(ix, txn)) == 0)
				rc = reindex_merges(ix, txn);
			queued = bytes = 0;
		}
	}
	if (rc == 0 && (rc = index_flush(ix, txn)) == 0 && (rc = index_merge_all(ix, txn)) == 0)
		rc = reindex_merges(ix, txn);
	return rc;
}

/* The upgrade from format 9: the search index, rebuilt from log and bodies. */
static int upgrade_reindex(MDB_txn *txn, struct store *st)
{
	struct index *ix = NULL;
	uint32_t *docnos = NULL;
	size_t n = 0;
	int rc;

	if ((rc = reindex_dbs(txn, st)) == 0 && (rc = reindex_empty(txn, &ix)) == 0 &&
	    (rc = reindex_docnos(txn, st, &docnos, &n)) == 0 &&
	    (rc = reindex_docs(txn, st, ix, docnos, n)) == 0)
		log_info("store: the search index rebuilt: %zu versions", n);
	free(docnos);
	index_free(ix);
	return rc;
}

/* The head of a feed: seq 0 when there is none. */
static int head_get(MDB_txn *txn, MDB_dbi dbi, const uint8_t *author, uint64_t *seq,
                    uint8_t hash[static AG_HASH_LEN])
{
	MDB_val k = author_key(author), v;
	int rc = mdb_get(txn, dbi, &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && v.mv_size != HEAD_LEN)
		return MDB_CORRUPTED;
	if (rc == 0) {
		*seq = be64_get(v.mv_data);
		memcpy(hash, (const uint8_t *)v.mv_data + 8, AG_HASH_LEN);
	}
	return rc;
}

/* A new logno, past the last entry in log. */
static MDB_val logno_key = {5, "logno"};

/*
 * A voided tail may have held the last lognos: they are never given again
 * (their docnos may be dead in the index), so info keeps the highest one.
 */
static int logno_floor(struct wtxn *w)
{
	MDB_val v;
	int rc = mdb_get(w->txn, w->st->info, &logno_key, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && v.mv_size != 8)
		return MDB_CORRUPTED;
	if (rc == 0 && be64_get(v.mv_data) > w->logno)
		w->logno = be64_get(v.mv_data);
	return rc;
}

static int logno_next(struct wtxn *w, uint8_t logno[static 8])
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!w->logno_read) {
		if ((rc = mdb_cursor_open(w->txn, w->st->log, &c)) != 0)
			return rc;
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		mdb_cursor_close(c);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (rc == 0 && k.mv_size != 8)
			return MDB_CORRUPTED;
		w->logno = rc == 0 ? be64_get(k.mv_data) : 0;
		if ((rc = logno_floor(w)) != 0)
			return rc;
		w->logno_read = 1;
	}
	be64_put(logno, ++w->logno);
	return 0;
}

/* Before entries go: the log's highest logno so far is kept as the floor (logno_floor). */
static int logno_hold(struct wtxn *w)
{
	uint8_t b[8];
	int rc = logno_next(w, b);

	if (rc != 0)
		return rc;
	w->logno--; /* only read: what the log's highest logno has been */
	be64_put(b, w->logno);
	return mdb_put(w->txn, w->st->info, &logno_key, &(MDB_val){8, b}, 0);
}

static MDB_val records_key = {7, "records"};

/* How many records there are, retracted ones included: the count lives in info. */
int store_records_count(MDB_txn *txn, MDB_dbi info, uint64_t *n)
{
	return counter_get(txn, info, records_key, 8, n);
}

/* Saves what the transaction counted: the records it created. */
static int wtxn_finish(struct wtxn *w)
{
	MDB_val rk = records_key;
	uint8_t b[8];
	uint64_t n;
	int rc;

	if (w->new_records == 0 && w->gone_records == 0)
		return 0;
	if ((rc = store_records_count(w->txn, w->st->info, &n)) != 0)
		return rc;
	be64_put(b, n + w->new_records - w->gone_records);
	return mdb_put(w->txn, w->st->info, &rk, &(MDB_val){8, b}, 0);
}

/* The record's current version, if live, leaves the index. */
static int record_retire(struct wtxn *w, const struct rec *r)
{
	return r->live ? index_kill(w->st->ix, w->txn, r->docno) : 0;
}

/*
 * A new version with a body, stored at logno: its postings queued (from its
 * terms prepared beforehand, if given) under its logno as docno.
 */
static int record_index(struct wtxn *w, const struct ag_entry *e, const struct index_terms *terms,
                        const uint8_t *logno, uint32_t *docno)
{
	uint64_t n = be64_get(logno);
	struct index_doc d = {(uint32_t)n, e->h.timestamp, e->h.type,
	                      e->h.author, e->body,        e->body_len};

	if (n > UINT32_MAX)
		return EOVERFLOW; /* four billion entries: out of names, not of space */
	*docno = d.docno;
	return terms ? index_add_terms(w->st->ix, &d, terms) : index_add(w->st->ix, &d);
}

/*
 * Makes e the record's current version: a new line in records, the last
 * and so its state, and the index. The line is put without looking first:
 * a new record costs one descent of the tree; for an existing one, the
 * refused put leaves the cursor on it, and its newest line is retired.
 */
static int record_apply(struct wtxn *w, const struct ag_entry *e, const struct index_terms *terms,
                        const uint8_t *logno)
{
	uint8_t kb[RKEY_MAX], rb[REC_LEN];
	MDB_val k = rkey(kb, e->h.type, e->h.author, e->h.id, e->h.id_len), v = {REC_LEN, rb},
	        key = k;
	struct rec r = {e->h.seq, 0, e->h.timestamp, e->body != NULL}, old;
	int rc;

	if (e->body && (rc = record_index(w, e, terms, logno, &r.docno)) != 0)
		return rc;
	if (!w->records && (rc = mdb_cursor_open(w->txn, w->st->records, &w->records)) != 0)
		return rc;
	rec_put(rb, &r);
	if ((rc = mdb_cursor_put(w->records, &key, &v, MDB_NOOVERWRITE)) == 0) {
		w->new_records++;
		return 0;
	}
	if (rc != MDB_KEYEXIST || (rc = mdb_cursor_get(w->records, &key, &v, MDB_LAST_DUP)) != 0 ||
	    (rc = store_rec_get(&v, &old)) != 0 || (rc = record_retire(w, &old)) != 0)
		return rc;
	key = k;
	v = (MDB_val){REC_LEN, rb};
	return mdb_cursor_put(w->records, &key, &v, 0);
}

static int head_put(struct wtxn *w, const uint8_t *author, uint64_t seq,
                    const uint8_t hash[static AG_HASH_LEN])
{
	uint8_t hb[HEAD_LEN], a[AG_PK_LEN];

	be64_put(hb, seq);
	memcpy(hb + 8, hash, AG_HASH_LEN);
	memcpy(a, author, AG_PK_LEN);
	return mdb_put(w->txn, w->st->heads, &(MDB_val){AG_PK_LEN, a}, &(MDB_val){HEAD_LEN, hb}, 0);
}

/* The types whose bodies can never be purged (nor dropped for quota). */
static bool body_protected(const char *type)
{
	return strcmp(type, "identity") == 0 || strcmp(type, "member") == 0 ||
	       strcmp(type, "purge") == 0;
}

/* Whether h's body fits its author's quota: this node's own and protected ones always do. */
static bool quota_fits(struct store *st, const struct feed *f, const struct ag_header *h)
{
	uint64_t q = st->limits.quota;

	return q == 0 || store_self(st, h->author) || body_protected(h->type) ||
	       (f->use.body_bytes <= q && h->body_len <= q - f->use.body_bytes);
}

/* A body of h's author is dropped over quota: counted, and logged the first time. */
static void quota_drop(struct store *st, struct feed *f, const struct ag_header *h)
{
	char key[AG_B64_LEN + 1];

	f->use.dropped++;
	f->use.over_quota = true;
	f->use_dirty = 1;
	if (!store_noted_once(st, h->author, STORE_NOTED_QUOTA))
		return;
	ag_key_to_b64(key, h->author);
	log_warnx("store: author %s is over its quota (it holds %llu KiB of bodies, Quota is "
	          "%llu KiB): its new bodies are dropped, their headers kept",
	          key, (unsigned long long)(f->use.body_bytes >> 10),
	          (unsigned long long)(st->limits.quota >> 10));
}

/* A body of h is kept: it counts for its author's quota, which it is not over then. */
static void usage_kept(struct feed *f, const struct ag_header *h)
{
	f->use.body_bytes += h->body_len;
	if (!body_protected(h->type))
		f->use.over_quota = false;
	f->use_dirty = 1;
}

/*
 * Whether to keep e's body (or, for a header alone, to want it): a body
 * already purged is dropped quietly here (its header still stored), and so
 * is one past its author's quota; neither is ever marked missing, so neither
 * is asked for again. Sets *want; 0 or an LMDB error.
 */
static int body_wanted(struct wtxn *w, struct feed *f, const struct ag_entry *e, bool *want)
{
	bool purged;
	int rc = purged_has(w->txn, w->st, e->h.author, e->h.seq, &purged);

	*want = false;
	if (rc != 0 || purged)
		return rc;
	*want = quota_fits(w->st, f, &e->h);
	if (!*want)
		quota_drop(w->st, f, &e->h);
	return 0;
}

/* A header stored without its body: the body is wanted (*missing), or dropped on purpose. */
static int body_absent(struct wtxn *w, struct feed *f, const struct ag_entry *e, bool *missing)
{
	uint8_t kb[MKEY_LEN];
	MDB_val k = missing_key(kb, e->h.author, e->h.seq), v = {0, ""};
	int rc = body_wanted(w, f, e, missing);

	return rc == 0 && *missing ? mdb_put(w->txn, w->st->missing, &k, &v, 0) : rc;
}

/*
 * The bytes an entry is taken to add to the store's file: its header, lines
 * and index postings about twice their size, a body past half a page (LMDB's
 * largest value kept in a leaf) on overflow pages of its own, whole pages.
 * An estimate that errs high, a little: too high, and a store refused at the
 * line would find room again once the write told the truth.
 */
static uint64_t entry_cost(const struct ag_entry *e)
{
	uint64_t body = e->body ? e->body_len : 0, text = body / 2;

	if (body > 2000)
		body = (body + 16 + 4095) / 4096 * 4096;
	return 2 * ((uint64_t)e->h.raw_len + 128) + body + text;
}

/*
 * Whether storing e would take the store past its limit (store_limits), own's
 * or others': the disk as the transaction began, plus what it added. An
 * entry that fits is counted as added.
 */
static bool wtxn_disk_over(struct wtxn *w, const struct ag_entry *e, bool own)
{
	struct store *st = w->st;
	uint64_t cost = entry_cost(e), used, avail;

	if (!w->disk_read) {
		w->disk_used = store_disk_used_writing(st);
		w->disk_free = store_disk_free(st);
		w->disk_added = TXN_COST; /* the pages its commit copies */
		w->disk_read = 1;
	}
	used = w->disk_used + w->disk_added + cost;
	avail = w->disk_free > w->disk_added + cost ? w->disk_free - w->disk_added - cost : 0;
	if (store_disk_over(st, used, avail, own)) {
		if (!own) /* logged once, when it changes; under disk_lock: the loop asks */
			store_disk_seen(st, used, avail);
		return true;
	}
	w->disk_added += cost;
	return false;
}

/* Puts w's records cursor on the newest line of h's record, read into *r. */
static int record_newest(struct wtxn *w, const struct ag_header *h, struct rec *r)
{
	uint8_t kb[RKEY_MAX];
	MDB_val k = rkey(kb, h->type, h->author, h->id, h->id_len), v;
	int rc;

	if (!w->records && (rc = mdb_cursor_open(w->txn, w->st->records, &w->records)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(w->records, &k, &v, MDB_SET_KEY)) != 0 ||
	    (rc = mdb_cursor_get(w->records, &k, &v, MDB_LAST_DUP)) != 0 ||
	    (rc = store_rec_get(&v, r)) != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	return 0;
}

/* Replaces the line record_newest put the cursor on with r. */
static int record_newest_put(struct wtxn *w, const struct ag_header *h, const struct rec *r)
{
	uint8_t kb[RKEY_MAX], rb[REC_LEN];
	MDB_val k = rkey(kb, h->type, h->author, h->id, h->id_len);
	int rc;

	if ((rc = mdb_cursor_del(w->records, 0)) != 0)
		return rc;
	rec_put(rb, r);
	return mdb_cursor_put(w->records, &k, &(MDB_val){REC_LEN, rb}, 0);
}

/* ---- purges ---- */

/* What a purge entry's body names, {"seqs": [seq, ...]}, decoded. */
struct purge_seqs {
	msgpack_unpacked up;
	const msgpack_object_array *seqs;
};

/* Decodes a purge body, which its schema already passed: 0, or EINVAL. */
static int purge_seqs_read(struct purge_seqs *ps, const struct ag_entry *e)
{
	const msgpack_object *o;

	msgpack_unpacked_init(&ps->up);
	ps->seqs = NULL;
	if (msgpack_unpack_next(&ps->up, (const char *)e->body, e->body_len, NULL) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    (o = &ps->up.data)->type != MSGPACK_OBJECT_MAP)
		return EINVAL;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 4 &&
		    memcmp(kv->key.via.str.ptr, "seqs", 4) == 0 &&
		    kv->val.type == MSGPACK_OBJECT_ARRAY)
			ps->seqs = &kv->val.via.array;
	}
	return ps->seqs ? 0 : EINVAL;
}

static uint64_t purge_seq_at(const struct purge_seqs *ps, uint32_t i)
{
	const msgpack_object *o = &ps->seqs->ptr[i];

	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

/*
 * Whether seq may be purged by author's purge at purge_seq: an earlier entry
 * held, whose body is not protected. Sets *ok; 0 or an LMDB error.
 */
static int purge_allowed(MDB_txn *txn, const struct store *st, const uint8_t *author, uint64_t seq,
                         uint64_t purge_seq, bool *ok, uint8_t logno[static 8])
{
	struct ag_entry old;
	int rc;

	*ok = false;
	if (seq == 0 || seq >= purge_seq)
		return 0;
	if ((rc = entry_logno(txn, st, author, seq, logno)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = store_log_load(txn, st, logno, &old)) != 0)
		return rc;
	*ok = old.h.has_body && !body_protected(old.h.type);
	return 0;
}

/*
 * A record whose current version is h, live, leaves the index and its line
 * says it is live no more. An older version left the index when it was
 * replaced.
 */
static int purge_unindex(struct wtxn *w, const struct ag_header *h)
{
	struct rec r;
	int rc;

	if ((rc = record_newest(w, h, &r)) != 0 || r.seq != h->seq || !r.live)
		return rc;
	if ((rc = index_kill(w->st->ix, w->txn, r.docno)) != 0)
		return rc;
	r.live = 0;
	r.docno = 0;
	return record_newest_put(w, h, &r);
}

/*
 * Purges author's body at seq, which purge_allowed passed (its header at
 * logno); f is author's feed, whose usage it frees. store_compact_due says
 * so until the next compaction.
 */
static int purge_one(struct wtxn *w, struct feed *f, const uint8_t *author, uint64_t seq,
                     const uint8_t *logno)
{
	uint8_t kb[MKEY_LEN], lb[8], id[AG_ID_MAX];
	MDB_val k = missing_key(kb, author, seq), raw;
	struct ag_entry old;
	bool held;
	int rc;

	memcpy(lb, logno, 8);
	w->st->compact_due = 1;
	if ((rc = mdb_put(w->txn, w->st->purged, &k, &(MDB_val){0, ""}, 0)) != 0 ||
	    ((rc = mdb_del(w->txn, w->st->missing, &k, NULL)) != 0 && rc != MDB_NOTFOUND))
		return rc;
	if ((rc = mdb_del(w->txn, w->st->bodies, &(MDB_val){8, lb}, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	held = rc == 0;
	/* A put may move pages: the header is read again and its id copied out. */
	if ((rc = log_get(w->txn, w->st, lb, &raw)) != 0)
		return rc;
	if (ag_entry_open(&old, raw.mv_data, raw.mv_size, NULL, 0, NULL, NULL) != 0)
		return MDB_CORRUPTED;
	if (held) { /* its bytes leave its author's usage */
		f->use.body_bytes -=
		    old.h.body_len < f->use.body_bytes ? old.h.body_len : f->use.body_bytes;
		f->use_dirty = 1;
	}
	memcpy(id, old.h.id, old.h.id_len);
	old.h.id = (const char *)id;
	return purge_unindex(w, &old.h);
}

/* An IT team sees each purge that reaches this node: whose, and how much it took. */
static void purge_log(const struct ag_entry *e, uint32_t n)
{
	char key[AG_B64_LEN + 1];

	ag_key_to_b64(key, e->h.author);
	log_info("purge: %s's entry %llu purges %u bod%s", key, (unsigned long long)e->h.seq, n,
	         n == 1 ? "y" : "ies");
}

/*
 * e is stored with its body: if it is a purge, the bodies it names go, for
 * good. A seq it may not name (later, not held, protected) is passed over:
 * its author's node refused it when publishing (store_publish).
 */
static int purge_apply(struct wtxn *w, struct feed *f, const struct ag_entry *e)
{
	struct purge_seqs ps;
	uint8_t logno[8];
	uint32_t n = 0;
	int rc;

	if (!e->body || strcmp(e->h.type, "purge") != 0)
		return 0;
	if ((rc = purge_seqs_read(&ps, e)) == 0)
		for (uint32_t i = 0; i < ps.seqs->size && rc == 0; i++) {
			uint64_t seq = purge_seq_at(&ps, i);
			bool ok;

			if ((rc = purge_allowed(w->txn, w->st, e->h.author, seq, e->h.seq, &ok,
			                        logno)) == 0 &&
			    ok && (rc = purge_one(w, f, e->h.author, seq, logno)) == 0)
				n++;
		}
	msgpack_unpacked_destroy(&ps.up);
	if (rc == 0)
		purge_log(e, n);
	return rc == EINVAL ? 0 : rc;
}

/* Whether this node's own purge e names only what it may: 0, or EINVAL. */
static int purge_check(struct wtxn *w, const struct ag_entry *e)
{
	struct purge_seqs ps;
	uint8_t logno[8];
	int rc;

	if (strcmp(e->h.type, "purge") != 0)
		return 0;
	if ((rc = purge_seqs_read(&ps, e)) == 0)
		for (uint32_t i = 0; i < ps.seqs->size && rc == 0; i++) {
			bool ok;

			if ((rc = purge_allowed(w->txn, w->st, e->h.author, purge_seq_at(&ps, i),
			                        e->h.seq, &ok, logno)) == 0 &&
			    !ok)
				rc = EINVAL;
		}
	msgpack_unpacked_destroy(&ps.up);
	return rc;
}

/*
 * Stores e, the next entry of its feed f, and its record; hash receives its
 * hash, *missing whether its body is wanted and not held. p, if not NULL, is
 * e's store_prepare.
 */
static int entry_put(struct wtxn *w, struct feed *f, const struct ag_entry *e,
                     const struct store_prep *p, uint8_t hash[static AG_HASH_LEN], bool *missing)
{
	uint8_t lb[EPOS_LEN], *logno = lb + 8;
	MDB_val k = author_key(e->h.author);
	struct ag_entry kept = *e;
	bool want = true;
	int rc;

	*missing = false;
	be64_put(lb, e->h.seq);
	if ((rc = logno_next(w, logno)) != 0)
		return rc;
	rc = mdb_put(w->txn, w->st->entries, &k, &(MDB_val){EPOS_LEN, lb}, MDB_APPENDDUP);
	if (rc != 0)
		return rc == MDB_KEYEXIST ? MDB_CORRUPTED : rc; /* the head said it was free */
	rc = mdb_put(w->txn, w->st->log, &(MDB_val){8, logno},
	             &(MDB_val){e->h.raw_len, (void *)(uintptr_t)e->h.raw}, MDB_APPEND);
	if (rc != 0)
		return rc == MDB_KEYEXIST ? MDB_CORRUPTED : rc;
	if (e->body && (rc = body_wanted(w, f, e, &want)) != 0)
		return rc;
	if (!want)
		kept.body = NULL, kept.body_len = 0;
	if (kept.body) {
		usage_kept(f, &e->h);
		rc = mdb_put(w->txn, w->st->bodies, &(MDB_val){8, logno},
		             &(MDB_val){e->body_len, (void *)(uintptr_t)e->body}, MDB_APPEND);
	} else if (e->h.has_body && e->body) {
		rc = 0; /* dropped on purpose: neither held nor wanted */
	} else if (e->h.has_body) {
		rc = body_absent(w, f, e, missing);
	}
	if (rc != 0)
		return rc == MDB_KEYEXIST ? MDB_CORRUPTED : rc;
	e = &kept;
	if (p)
		memcpy(hash, p->hash, AG_HASH_LEN);
	else
		ag_entry_hash(e, hash);
	if ((rc = record_apply(w, e, e->body && p ? p->terms : NULL, logno)) != 0)
		return rc;
	return purge_apply(w, f, e);
}

static int fork_keep_raw(struct wtxn *w, const uint8_t *author, uint64_t seq, const void *raw,
                         size_t len)
{
	uint8_t kb[FKEY_LEN];

	memcpy(kb, author, AG_PK_LEN);
	be64_put(kb + AG_PK_LEN, seq);
	raw_hash(raw, len, kb + AG_PK_LEN + 8);
	return mdb_put(w->txn, w->st->forks, &(MDB_val){FKEY_LEN, kb},
	               &(MDB_val){len, (void *)(uintptr_t)raw}, 0);
}

/*
 * Keeps e and the stored entry at other_seq, which contradict each other,
 * and flags the author: nothing more of this feed until an operator decides.
 */
static int fork_keep(struct wtxn *w, const struct ag_entry *e, uint64_t other_seq)
{
	MDB_val v;
	uint32_t flags;
	void *other;
	int rc;

	if ((rc = entry_raw(w->txn, w->st, e->h.author, other_seq, &v)) != 0)
		return rc;
	/* A put may spill dirty pages, so the stored header is copied out first. */
	if (!(other = malloc(v.mv_size)))
		return ENOMEM;
	memcpy(other, v.mv_data, v.mv_size);
	rc = fork_keep_raw(w, e->h.author, other_seq, other, v.mv_size);
	free(other);
	if (rc != 0 ||
	    (rc = fork_keep_raw(w, e->h.author, e->h.seq, e->h.raw, e->h.raw_len)) != 0 ||
	    (rc = flags_get(w->txn, w->st->flags, e->h.author, &flags)) != 0)
		return rc;
	return flags_put(w->txn, w->st->flags, e->h.author, flags | STORE_FLAG_FORKED);
}

/* identity/successor is its feed's last entry (DESIGN.md "Trust over the years"). */
static bool closes_feed(const struct ag_header *h)
{
	return strcmp(h->type, "identity") == 0 && h->id_len == 9 &&
	       memcmp(h->id, "successor", 9) == 0;
}

/* e is stored: a successor closes its feed, which takes nothing more. */
static int close_if_successor(struct wtxn *w, const struct ag_entry *e, uint32_t *flags)
{
	if (!closes_feed(&e->h))
		return 0;
	*flags |= STORE_FLAG_CLOSED;
	return flags_put(w->txn, w->st->flags, e->h.author, *flags);
}

struct append_arg {
	const struct ag_entry *e;
	struct store_prep *prep; /* NULL, or one per entry: their terms freed once queued */
	size_t n;
	struct store_result *res;
	struct feed *feeds;
	size_t nfeeds, cap;
};

static int feed_get(struct wtxn *w, struct append_arg *a, const uint8_t *author, struct feed **out)
{
	struct feed *f;
	int rc;

	for (size_t i = 0; i < a->nfeeds; i++)
		if (memcmp(a->feeds[i].author, author, AG_PK_LEN) == 0) {
			*out = &a->feeds[i];
			return 0;
		}
	if (a->nfeeds == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;

		if (!(f = realloc(a->feeds, cap * sizeof(*f))))
			return ENOMEM;
		a->feeds = f;
		a->cap = cap;
	}
	f = &a->feeds[a->nfeeds];
	memcpy(f->author, author, AG_PK_LEN);
	f->dirty = f->use_dirty = 0;
	if ((rc = flags_get(w->txn, w->st->flags, author, &f->flags)) != 0 ||
	    (rc = head_get(w->txn, w->st->heads, author, &f->head, f->hash)) != 0 ||
	    (rc = usage_get(w->txn, w->st, author, &f->use)) != 0)
		return rc;
	a->nfeeds++;
	*out = f;
	return 0;
}

/*
 * What is stored at h's seq, h's author's feed being at least that long:
 * the very header (with its body, or without when *logno is filled), or another.
 */
enum held { HELD_SAME, HELD_NOBODY, HELD_OTHER };

static int entry_held(MDB_txn *txn, const struct store *st, const struct ag_header *h,
                      enum held *held, uint8_t logno[static 8])
{
	MDB_val v, b;
	int rc;

	if ((rc = entry_logno(txn, st, h->author, h->seq, logno)) != 0 ||
	    (rc = log_get(txn, st, logno, &v)) != 0)
		return rc;
	*held = HELD_OTHER;
	if (v.mv_size != h->raw_len || memcmp(v.mv_data, h->raw, h->raw_len) != 0)
		return 0;
	*held = HELD_SAME;
	if (h->has_body && (rc = body_get(txn, st, logno, &b)) == MDB_NOTFOUND)
		*held = HELD_NOBODY;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A body arrives for a header stored without it: it is kept, no more
 * missing, and if its version is its record's state, indexed now.
 */
static int body_put(struct wtxn *w, struct feed *f, const struct ag_entry *e,
                    const struct store_prep *p, const uint8_t *logno)
{
	uint8_t mk[MKEY_LEN];
	MDB_val m = missing_key(mk, e->h.author, e->h.seq);
	struct rec r;
	int rc;

	usage_kept(f, &e->h);
	rc = mdb_put(w->txn, w->st->bodies, &(MDB_val){8, (void *)(uintptr_t)logno},
	             &(MDB_val){e->body_len, (void *)(uintptr_t)e->body}, 0);
	if (rc != 0 ||
	    ((rc = mdb_del(w->txn, w->st->missing, &m, NULL)) != 0 && rc != MDB_NOTFOUND) ||
	    (rc = record_newest(w, &e->h, &r)) != 0)
		return rc;
	/* An older version shows in no search. */
	if (r.seq == e->h.seq && !r.live) {
		r.live = 1;
		if ((rc = record_index(w, e, p ? p->terms : NULL, logno, &r.docno)) != 0 ||
		    (rc = record_newest_put(w, &e->h, &r)) != 0)
			return rc;
	}
	return purge_apply(w, f, e);
}

/* e's header is stored at its seq: a duplicate, a body that was missing, or a fork. */
static int append_held(struct wtxn *w, struct feed *f, const struct ag_entry *e,
                       const struct store_prep *p, struct store_result *res)
{
	uint8_t logno[8], mk[MKEY_LEN];
	MDB_val m = missing_key(mk, e->h.author, e->h.seq), v;
	enum held held;
	bool want;
	int rc;

	if ((rc = entry_held(w->txn, w->st, &e->h, &held, logno)) != 0)
		return rc;
	if (held == HELD_OTHER) {
		res->status = f->flags & STORE_FLAG_FORKED ? STORE_REFUSED : STORE_FORK;
		return 0;
	}
	res->status = STORE_DUPLICATE;
	if (held == HELD_SAME || !e->body)
		return 0;
	if (wtxn_disk_over(w, e, store_self(w->st, e->h.author))) {
		res->status = STORE_LIMIT; /* still missing: asked again when there is room */
		return 0;
	}
	/* Not missing: purged, or dropped over quota already; dropped again without blame. */
	if ((rc = mdb_get(w->txn, w->st->missing, &m, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = body_wanted(w, f, e, &want)) != 0)
		return rc;
	if (!want) /* over quota now: dropped, and not asked for again */
		return mdb_del(w->txn, w->st->missing, &m, NULL);
	res->status = STORE_BODY;
	return body_put(w, f, e, p, logno);
}

/* Whether e is past its author's entry cap: then nothing of it is stored (logged once). */
static bool entry_capped(struct store *st, const struct ag_entry *e)
{
	char key[AG_B64_LEN + 1];
	uint64_t cap = st->limits.max_entries;

	if (cap == 0 || e->h.seq <= cap || store_self(st, e->h.author))
		return false;
	if (store_noted_once(st, e->h.author, STORE_NOTED_CAP)) {
		ag_key_to_b64(key, e->h.author);
		log_warnx("store: author %s reached QuotaEntries (%llu): no more of its entries "
		          "are stored",
		          key, (unsigned long long)cap);
	}
	return true;
}

static int append_one(struct wtxn *w, struct feed *f, const struct ag_entry *e,
                      const struct store_prep *p, struct store_result *res)
{
	uint64_t seq = e->h.seq;
	int rc;

	*res = (struct store_result){STORE_STORED, 0, false};
	if (seq <= f->head) {
		if ((rc = append_held(w, f, e, p, res)) != 0 || res->status != STORE_FORK)
			return rc;
	} else if (f->flags & (STORE_FLAG_FORKED | STORE_FLAG_CLOSED)) {
		res->status = STORE_REFUSED;
	} else if (entry_capped(w->st, e)) {
		res->status = STORE_LIMIT;
	} else if (seq > f->head + 1) {
		*res = (struct store_result){STORE_GAP, f->head + 1, false};
	} else if (seq > 1 && memcmp(e->h.prev, f->hash, AG_HASH_LEN) != 0) {
		res->status = STORE_FORK; /* it chains to another entry at seq - 1 */
	} else if (wtxn_disk_over(w, e, store_self(w->st, e->h.author))) {
		res->status = STORE_LIMIT;
	}
	if (res->status == STORE_FORK) {
		f->flags |= STORE_FLAG_FORKED;
		return fork_keep(w, e, seq <= f->head ? seq : seq - 1);
	}
	if (res->status != STORE_STORED)
		return 0;
	if ((rc = entry_put(w, f, e, p, f->hash, &res->missing)) != 0 ||
	    (rc = close_if_successor(w, e, &f->flags)) != 0)
		return rc;
	f->head = seq;
	f->dirty = 1;
	return 0;
}

/* Entry i's store_prepare, if there is one and it was made for that very entry. */
static const struct store_prep *prep_for(const struct append_arg *a, size_t i)
{
	const struct store_prep *p = a->prep ? &a->prep[i] : NULL;

	return p && p->raw && p->raw == a->e[i].h.raw ? p : NULL;
}

/*
 * The index queue holds a copy of p's terms now: they go at once, not when
 * the batch is freed after its commit and fsync, so that a batch's terms and
 * the queue made of them are not both held while it flushes. Its hash stays;
 * a transaction run again makes the terms anew.
 */
static void prep_spent(struct store_prep *p)
{
	index_terms_free(p->terms);
	p->terms = NULL;
}

static int append_txn(struct wtxn *w, void *arg)
{
	struct append_arg *a = arg;
	int rc = 0;

	a->nfeeds = 0; /* a retried transaction starts afresh */
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		struct feed *f;

		if (i + 1 < a->n && prep_for(a, i + 1))
			index_terms_prefetch(a->prep[i + 1].terms);
		if (!a->e[i].h.raw || a->e[i].h.seq == 0)
			rc = EINVAL;
		else if ((rc = feed_get(w, a, a->e[i].h.author, &f)) == 0)
			rc = append_one(w, f, &a->e[i], prep_for(a, i), &a->res[i]);
		if (rc == 0 && prep_for(a, i))
			prep_spent(&a->prep[i]);
	}
	for (size_t i = 0; i < a->nfeeds && rc == 0; i++) {
		struct feed *f = &a->feeds[i];

		if (f->dirty)
			rc = head_put(w, f->author, f->head, f->hash);
		if (rc == 0 && f->use_dirty)
			rc = usage_put(w->txn, w->st->usage, f->author, &f->use);
	}
	return rc;
}

int store_prepare_hashed(struct store_prep *p, const struct ag_entry *e,
                         const uint8_t hash[static AG_HASH_LEN])
{
	struct index_doc d = {0, e->h.timestamp, e->h.type, e->h.author, e->body, e->body_len};

	*p = (struct store_prep){NULL, {0}, NULL};
	if (e->body && index_prepare(&d, &p->terms) != 0)
		return -1;
	memcpy(p->hash, hash, AG_HASH_LEN);
	p->raw = e->h.raw;
	return 0;
}

int store_prepare(struct store_prep *p, const struct ag_entry *e)
{
	uint8_t hash[AG_HASH_LEN];

	ag_entry_hash(e, hash);
	return store_prepare_hashed(p, e, hash);
}

void store_prep_clear(struct store_prep *p)
{
	index_terms_free(p->terms);
	*p = (struct store_prep){NULL, {0}, NULL};
}

size_t store_prep_bytes(const struct store_prep *p)
{
	return index_terms_bytes(p->terms);
}

uint64_t store_append_cost(const struct ag_entry *entries, size_t n)
{
	uint64_t cost = 0;

	for (size_t i = 0; i < n; i++)
		cost += entry_cost(&entries[i]);
	return cost;
}

/*
 * How many of the n entries go in the next transaction: it adds at most
 * STORE_TXN_BYTES (entry_cost), one entry at least (a sync's batch of three
 * thousand entries and their postings held ten megabytes of dirty pages).
 * The fewest transactions that fit share the batch alike: a greedy cut left
 * a full part and a sliver, two commits and two index segments, for most of
 * a sync's batches.
 */
static size_t append_part(const struct ag_entry *e, size_t n)
{
	uint64_t total = store_append_cost(e, n), share, cost = 0;
	size_t i = 0;

	share = total / ((total + STORE_TXN_BYTES - 1) / STORE_TXN_BYTES + (total == 0));
	/* Past the share by one entry, not past STORE_TXN_BYTES: the rest fits the other parts. */
	do
		cost += entry_cost(&e[i++]);
	while (i < n && cost < share && cost + entry_cost(&e[i]) <= STORE_TXN_BYTES);
	return i;
}

/* Appends entries in one transaction, or two halves if LMDB finds it too big. */
static int append_batch(struct store *st, const struct ag_entry *entries, struct store_prep *prep,
                        size_t n, struct store_result *res)
{
	struct append_arg a = {entries, prep, n, res, NULL, 0, 0};
	size_t h = n / 2;
	int rc;

	rc = store_write(st, append_txn, &a);
	free(a.feeds);
	/* Too many pages for one transaction: each half is still a batch. */
	if (rc == MDB_TXN_FULL && n > 1)
		return append_batch(st, entries, prep, h, res) == 0 &&
		               append_batch(st, entries + h, prep ? prep + h : NULL, n - h,
		                            res + h) == 0
		           ? 0
		           : -1;
	if (rc != 0) {
		char why[256];

		store_why(st, rc, why, sizeof(why));
		log_error("store: append of %zu entries: %s", n, why);
		return store_full(st, rc) ? STORE_EFULL : -1;
	}
	return 0;
}

int store_append_prepared(struct store *st, const struct ag_entry *entries, struct store_prep *prep,
                          size_t n, struct store_result *res)
{
	int rc = 0;

	store_lock(st); /* no other write between the parts, which do not sync */
	st->appending = true;
	for (size_t at = 0, k; at < n && rc == 0; at += k) {
		k = append_part(entries + at, n - at);
		/* The last part's commit makes the batch durable. */
		meta_sync(st, at + k == n);
		rc = append_batch(st, entries + at, prep ? prep + at : NULL, k, res + at);
	}
	meta_sync(st, true);
	st->appending = false;
	store_unlock(st);
	return rc;
}

int store_append(struct store *st, const struct ag_entry *entries, size_t n,
                 struct store_result *res)
{
	return store_append_prepared(st, entries, NULL, n, res);
}

struct publish_arg {
	struct ag_entry *e;
	const uint8_t *sk;
	uint8_t *buf;
	size_t cap;
	int refused, sign_rc, purge_refused;
	int disk; /* refused for the disk: STORE_EDISK or STORE_EFULL */
};

static int publish_txn(struct wtxn *w, void *arg)
{
	struct publish_arg *p = arg;
	struct ag_entry *e = p->e;
	uint8_t hash[AG_HASH_LEN];
	struct feed f;
	bool missing;
	uint32_t flags;
	size_t len;
	int rc;

	memcpy(e->h.author, p->sk + 32, AG_PK_LEN);
	if ((rc = flags_get(w->txn, w->st->flags, e->h.author, &flags)) != 0 ||
	    (rc = head_get(w->txn, w->st->heads, e->h.author, &e->h.seq, e->h.prev)) != 0)
		return rc;
	if (flags & (STORE_FLAG_FORKED | STORE_FLAG_CLOSED)) {
		p->refused = flags & STORE_FLAG_FORKED ? 1 : 2;
		return EPERM;
	}
	e->h.has_prev = e->h.seq++ > 0;
	if ((p->sign_rc = ag_entry_sign(e, p->sk, p->buf, p->cap, &len)) != 0)
		return EINVAL;
	/* Strict when this node publishes: node_publish checks first, this is the last guard. */
	if (ag_schema_check(e->h.type, e->h.id, e->h.id_len, e->body, e->body_len, NULL, 0) != 0) {
		p->sign_rc = AG_ESCHEMA;
		return EINVAL;
	}
	if ((rc = purge_check(w, e)) != 0) {
		p->purge_refused = rc == EINVAL;
		return rc;
	}
	if (wtxn_disk_over(w, e, true)) {
		p->disk = w->disk_free < STORE_OWN_RESERVE + TXN_COST + entry_cost(e) ? STORE_EFULL
		                                                                      : STORE_EDISK;
		return ENOSPC;
	}
	f = (struct feed){.head = e->h.seq};
	memcpy(f.author, e->h.author, AG_PK_LEN);
	if ((rc = usage_get(w->txn, w->st, e->h.author, &f.use)) != 0 ||
	    (rc = entry_put(w, &f, e, NULL, hash, &missing)) != 0 ||
	    (rc = close_if_successor(w, e, &flags)) != 0 ||
	    (f.use_dirty && (rc = usage_put(w->txn, w->st->usage, f.author, &f.use)) != 0))
		return rc;
	return head_put(w, e->h.author, e->h.seq, hash);
}

int store_publish(struct store *st, struct ag_entry *e, const uint8_t sk[static AG_SK_LEN],
                  uint8_t *buf, size_t cap, uint8_t hash[static AG_HASH_LEN])
{
	struct publish_arg p = {e, sk, buf, cap, 0, 0, 0, 0};
	int rc = store_write(st, publish_txn, &p);

	if (p.disk == STORE_EDISK)
		log_error(
		    "store: publish %s refused: the store takes %.1f MiB, MaxDisk is %.1f MiB",
		    e->h.type, (double)store_disk_used(st) / (1 << 20),
		    (double)st->limits.max_disk / (1 << 20));
	else if (p.disk == STORE_EFULL)
		log_error("store: publish %s refused: the disk is full (%llu KiB free on the file "
		          "system of %s)",
		          e->h.type, (unsigned long long)(store_disk_free(st) >> 10), st->dir);
	if (p.disk)
		return p.disk;
	if (p.refused) {
		log_error("store: publish: this node's feed is %s",
		          p.refused == 1 ? "flagged as forked" : "closed: its key has a successor");
		return -1;
	}
	if (p.purge_refused) {
		log_error("store: publish purge: it names a seq that is not an earlier entry of "
		          "this node's feed with a body that may be purged");
		return -1;
	}
	if (p.sign_rc != 0) {
		log_error("store: publish %s: %s", e->h.type, ag_strerror(p.sign_rc));
		return -1;
	}
	if (rc != 0) {
		char why[256];

		store_why(st, rc, why, sizeof(why));
		log_error("store: publish %s: %s", e->h.type, why);
		return store_full(st, rc) ? STORE_EFULL : -1;
	}
	ag_entry_hash(e, hash);
	return 0;
}

static int merge_txn(struct wtxn *w, void *arg)
{
	(void)arg;
	return index_merge_all(w->st->ix, w->txn);
}

/* Every segment merged into one, and the blocks they were deleted, before it returns. */
int store_index_merge(struct store *st)
{
	int rc = store_write(st, merge_txn, NULL);

	if (rc != 0)
		log_error("store: index merge: %s", mdb_strerror(rc));
	else if ((rc = store_merge(st, 0)) != 0)
		return -1;
	return rc ? -1 : 0;
}

int store_compact_due(const struct store *st)
{
	return st->compact_due; /* atomic: a write on the appender's thread may set it */
}

/* ---- reading feeds ---- */

struct head_arg {
	const uint8_t *author;
	uint64_t *seq;
	uint8_t *hash;
};

static int head_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct head_arg *a = arg;

	return head_get(txn, st->heads, a->author, a->seq, a->hash);
}

int store_head(struct store *st, const uint8_t author[static AG_PK_LEN], uint64_t *seq,
               uint8_t hash[static AG_HASH_LEN])
{
	struct head_arg a = {author, seq, hash};

	if (store_read(st, "head", head_read, &a) != 0)
		return -1;
	return *seq > 0;
}

struct heads_arg {
	store_head_fn *fn;
	void *arg;
};

/*
 * Each item of dbi in key order, its key klen and its value vlen bytes (else
 * corruption), until fn's non-zero return. 0 or an LMDB error.
 */
static int db_each(MDB_txn *txn, MDB_dbi dbi, size_t klen, size_t vlen,
                   int (*fn)(const MDB_val *k, const MDB_val *v, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != klen || v.mv_size != vlen) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (fn(&k, &v, arg))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int head_item(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct heads_arg *a = arg;

	return a->fn(k->mv_data, be64_get(v->mv_data), (const uint8_t *)v->mv_data + 8, a->arg);
}

static int heads_scan(MDB_txn *txn, struct store *st, void *arg)
{
	return db_each(txn, st->heads, AG_PK_LEN, HEAD_LEN, head_item, arg);
}

int store_heads(struct store *st, store_head_fn *fn, void *arg)
{
	struct heads_arg a = {fn, arg};

	return store_read(st, "heads", heads_scan, &a) != 0 ? -1 : 0;
}

struct have_arg {
	const struct ag_entry *e;
	size_t n;
	enum store_have *out;
};

static int have_one(MDB_txn *txn, struct store *st, const struct ag_header *h, uint64_t head,
                    enum store_have *out)
{
	uint8_t logno[8];
	enum held held;
	int rc;

	*out = STORE_HAVE_NOT;
	if (h->seq > head)
		return 0;
	if ((rc = entry_held(txn, st, h, &held, logno)) != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc; /* the head says it is there */
	*out = held == HELD_SAME     ? STORE_HAVE_SAME
	       : held == HELD_NOBODY ? STORE_HAVE_HEADER
	                             : STORE_HAVE_OTHER;
	return 0;
}

static int have_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct have_arg *a = arg;
	uint8_t hash[AG_HASH_LEN];
	uint64_t head = 0;
	int rc = 0;

	for (size_t i = 0; i < a->n && rc == 0; i++) {
		const struct ag_header *h = &a->e[i].h;

		/* Entries come in runs of one author: its head is read once per run. */
		if (i == 0 || memcmp(h->author, a->e[i - 1].h.author, AG_PK_LEN) != 0)
			rc = head_get(txn, st->heads, h->author, &head, hash);
		if (rc == 0)
			rc = have_one(txn, st, h, head, &a->out[i]);
	}
	return rc;
}

int store_have(struct store *st, const struct ag_entry *e, size_t n, enum store_have *out)
{
	struct have_arg a = {e, n, out};

	return store_read(st, "have", have_read, &a) != 0 ? -1 : 0;
}

struct missing_arg {
	const uint8_t *author;
	uint64_t from, *seqs;
	size_t max, count;
};

static int missing_scan(MDB_txn *txn, struct store *st, void *arg)
{
	struct missing_arg *a = arg;
	uint8_t kb[MKEY_LEN];
	MDB_val k = missing_key(kb, a->author, a->from), v;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->missing, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && a->count < a->max;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MKEY_LEN || memcmp(k.mv_data, a->author, AG_PK_LEN) != 0)
			break;
		a->seqs[a->count++] = be64_get((const uint8_t *)k.mv_data + AG_PK_LEN);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

ssize_t store_missing(struct store *st, const uint8_t author[static AG_PK_LEN], uint64_t from,
                      uint64_t *seqs, size_t max)
{
	struct missing_arg a = {author, from, seqs, max, 0};

	if (store_read(st, "missing", missing_scan, &a) != 0)
		return -1;
	return (ssize_t)a.count;
}

struct feed_arg {
	const uint8_t *author;
	uint64_t from;
	size_t max_count, max_bytes;
	store_entry_fn *fn;
	void *arg;
	size_t count;
};

static int feed_scan(MDB_txn *txn, struct store *st, void *arg)
{
	struct feed_arg *a = arg;
	MDB_val k, v;
	MDB_cursor *c;
	size_t bytes = 0;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->entries, &c)) != 0)
		return rc;
	for (rc = epos_seek(c, a->author, a->from, &v); rc == 0 && a->count < a->max_count;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		struct ag_entry e;

		if (v.mv_size != EPOS_LEN || be64_get(v.mv_data) != a->from + a->count ||
		    (rc = store_log_load(txn, st, (const uint8_t *)v.mv_data + 8, &e)) != 0) {
			rc = rc ? rc : MDB_CORRUPTED;
			break;
		}
		if (a->count > 0 && bytes + e.h.raw_len + e.body_len > a->max_bytes)
			break;
		bytes += e.h.raw_len + e.body_len;
		a->count++;
		if (a->fn(&e, a->arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

ssize_t store_feed(struct store *st, const uint8_t author[static AG_PK_LEN], uint64_t from,
                   size_t max_count, size_t max_bytes, store_entry_fn *fn, void *arg)
{
	struct feed_arg a = {author, from ? from : 1, max_count, max_bytes, fn, arg, 0};

	if (store_read(st, "feed", feed_scan, &a) != 0)
		return -1;
	return (ssize_t)a.count;
}

/* ---- reading records ---- */

static int record_get(struct store *st, MDB_txn *txn, const char *type, const uint8_t *author,
                      const char *id, size_t id_len, struct rec *r)
{
	uint8_t kb[RKEY_MAX];
	MDB_val k = rkey(kb, type, author, id, id_len), v;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->records, &c)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY)) == 0 &&
	    (rc = mdb_cursor_get(c, &k, &v, MDB_LAST_DUP)) == 0)
		rc = store_rec_get(&v, r);
	mdb_cursor_close(c);
	return rc;
}

/* A record, named by type, author and id, and what to call with its versions. */
struct rec_arg {
	const char *type;
	const uint8_t *author;
	const char *id;
	size_t id_len;
	store_entry_fn *fn;
	void *arg;
	size_t count;
};

static int get_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct rec_arg *a = arg;
	struct ag_entry e;
	struct rec r;
	int rc = record_get(st, txn, a->type, a->author, a->id, a->id_len, &r);

	if (rc == 0 && (rc = store_entry_load(txn, st, a->author, r.seq, &e)) == 0)
		a->fn(&e, a->arg);
	return rc;
}

int store_get(struct store *st, const char *type, const uint8_t author[static AG_PK_LEN],
              const char *id, size_t id_len, store_entry_fn *fn, void *arg)
{
	struct rec_arg a = {type, author, id, id_len, fn, arg, 0};
	int rc;

	if (!rkey_check(type, id, id_len))
		return 0; /* no record can have that name */
	rc = store_read(st, "get", get_read, &a);
	return rc < 0 ? -1 : rc == 0;
}

/*
 * Every version of one record, or (id NULL) of every record of the type and
 * author: a key that starts with type NUL author, in key order.
 */
static int history_scan(MDB_txn *txn, struct store *st, void *arg)
{
	struct rec_arg *a = arg;
	uint8_t kb[RKEY_MAX];
	MDB_val k = rkey(kb, a->type, a->author, a->id ? a->id : "", a->id ? a->id_len : 0), v;
	size_t plen = k.mv_size;
	bool all = a->id == NULL;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->records, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, all ? MDB_SET_RANGE : MDB_SET_KEY);
	     rc == 0 && (!all || (k.mv_size > plen && memcmp(k.mv_data, kb, plen) == 0));
	     rc = mdb_cursor_get(c, &k, &v, all ? MDB_NEXT : MDB_NEXT_DUP)) {
		struct ag_entry e;
		struct rec r;

		if ((rc = store_rec_get(&v, &r)) != 0 ||
		    (rc = store_entry_load(txn, st, a->author, r.seq, &e)) != 0)
			break;
		a->count++;
		if (a->fn(&e, a->arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

ssize_t store_history(struct store *st, const char *type, const uint8_t author[static AG_PK_LEN],
                      const char *id, size_t id_len, store_entry_fn *fn, void *arg)
{
	struct rec_arg a = {type, author, id, id_len, fn, arg, 0};

	if (id ? !rkey_check(type, id, id_len) : ag_rectype_check(type, strlen(type)) != 0)
		return 0;
	if (store_read(st, "history", history_scan, &a) != 0)
		return -1;
	return (ssize_t)a.count;
}

struct hit_arg {
	struct store *st;
	MDB_txn *txn;
	const struct index_query *q;
	store_entry_fn *fn;
	void *arg;
	size_t hits;
	int rc;
};

/* A docno from the index, a live version: the entry at that logno. */
static int search_hit(uint32_t docno, void *arg)
{
	struct hit_arg *h = arg;
	uint8_t logno[8];
	struct ag_entry e;

	be64_put(logno, docno);
	h->rc = store_log_load(h->txn, h->st, logno, &e);
	return h->rc != 0 || h->fn(&e, h->arg) != 0;
}

static int search_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct hit_arg *h = arg;
	int rc;

	h->txn = txn;
	rc = index_search(st->ix, txn, h->q, search_hit, h, &h->hits);
	return rc ? rc : h->rc;
}

ssize_t store_search(struct store *st, const struct index_query *q, store_entry_fn *fn, void *arg)
{
	struct hit_arg h = {st, NULL, q, fn, arg, 0, 0};

	if (store_read(st, "search", search_read, &h) != 0)
		return -1;
	return (ssize_t)h.hits;
}

/* ---- usage ---- */

struct usage_arg {
	const uint8_t *author;
	struct store_usage *u;
};

static int usage_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct usage_arg *a = arg;

	return usage_get(txn, st, a->author, a->u);
}

int store_usage(struct store *st, const uint8_t author[static AG_PK_LEN], struct store_usage *u)
{
	struct usage_arg a = {author, u};

	return store_read(st, "usage", usage_read, &a) != 0 ? -1 : 0;
}

/* ---- dropping a feed that left the replicated set ---- */

/* Deletes every pair of dbi whose key starts with author. */
static int del_prefix(MDB_txn *txn, MDB_dbi dbi, const uint8_t *author)
{
	MDB_val k = {AG_PK_LEN, (void *)(uintptr_t)author}, v;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= AG_PK_LEN && memcmp(k.mv_data, author, AG_PK_LEN) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes one pair (or every line of a key) of dbi; absent is no error. */
static int del_key(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t len)
{
	int rc = mdb_del(txn, dbi, &(MDB_val){len, (void *)(uintptr_t)key}, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct drop_arg {
	const uint8_t *author;
	uint64_t entries, records;
};

/* The record of the entry at logno leaves records, its live version the index. */
static int drop_record(struct wtxn *w, struct drop_arg *d, const uint8_t *logno)
{
	char type[AG_TYPE_MAX + 1], id[AG_ID_MAX];
	uint8_t kb[RKEY_MAX];
	struct ag_entry e;
	struct rec r;
	MDB_cursor *c;
	MDB_val k, v;
	size_t id_len;
	int rc;

	/* Copied out: a delete may reuse the page the header lies on. */
	if ((rc = store_log_load(w->txn, w->st, logno, &e)) != 0)
		return rc;
	snprintf(type, sizeof(type), "%s", e.h.type);
	memcpy(id, e.h.id, id_len = e.h.id_len);
	k = rkey(kb, type, d->author, id, id_len);
	if ((rc = mdb_cursor_open(w->txn, w->st->records, &c)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET)) == 0 &&
	    (rc = mdb_cursor_get(c, &k, &v, MDB_LAST_DUP)) == 0 &&
	    (rc = store_rec_get(&v, &r)) == 0 &&
	    (rc = r.live ? index_kill(w->st->ix, w->txn, r.docno) : 0) == 0 &&
	    (rc = mdb_cursor_del(c, MDB_NODUPDATA)) == 0)
		d->records++;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc; /* a record met before, through another version */
}

/* Every entry of the feed, its records and bodies. */
static int drop_entries(struct wtxn *w, struct drop_arg *d)
{
	MDB_val k = {AG_PK_LEN, (void *)(uintptr_t)d->author}, v;
	uint8_t logno[8];
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(w->txn, w->st->entries, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 16) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(logno, (const uint8_t *)v.mv_data + 8, 8);
		if ((rc = drop_record(w, d, logno)) != 0 ||
		    (rc = del_key(w->txn, w->st->bodies, logno, 8)) != 0 ||
		    (rc = del_key(w->txn, w->st->log, logno, 8)) != 0)
			break;
		d->entries++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int drop_txn(struct wtxn *w, void *arg)
{
	struct drop_arg *d = arg;
	uint64_t records;
	uint8_t b[8];
	int rc;

	/* The feed may hold the last lognos: they are never given again (logno_floor). */
	d->entries = d->records = 0;
	if ((rc = logno_hold(w)) != 0 || (rc = drop_entries(w, d)) != 0 ||
	    (rc = del_key(w->txn, w->st->entries, d->author, AG_PK_LEN)) != 0 ||
	    (rc = del_key(w->txn, w->st->heads, d->author, AG_PK_LEN)) != 0 ||
	    (rc = del_key(w->txn, w->st->flags, d->author, AG_PK_LEN)) != 0 ||
	    (rc = del_key(w->txn, w->st->usage, d->author, AG_PK_LEN)) != 0 ||
	    (rc = del_prefix(w->txn, w->st->missing, d->author)) != 0 ||
	    (rc = del_prefix(w->txn, w->st->purged, d->author)) != 0 ||
	    (rc = del_prefix(w->txn, w->st->forks, d->author)) != 0 ||
	    (rc = store_records_count(w->txn, w->st->info, &records)) != 0)
		return rc;
	be64_put(b, records > d->records ? records - d->records : 0);
	return mdb_put(w->txn, w->st->info, &records_key, &(MDB_val){8, b}, 0);
}

ssize_t store_feed_drop(struct store *st, const uint8_t author[static AG_PK_LEN])
{
	struct drop_arg d = {author, 0, 0};
	int rc = store_write(st, drop_txn, &d);

	if (rc != 0) {
		log_error("store: drop a feed: %s", mdb_strerror(rc));
		return -1;
	}
	return (ssize_t)d.entries;
}

/* ---- flags and forks ---- */

struct flags_arg {
	const uint8_t *author;
	uint32_t set, clear;
	uint32_t *flags;
};

static int flags_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct flags_arg *a = arg;

	return flags_get(txn, st->flags, a->author, a->flags);
}

int store_flags(struct store *st, const uint8_t author[static AG_PK_LEN], uint32_t *flags)
{
	struct flags_arg a = {author, 0, 0, flags};

	return store_read(st, "flags", flags_read, &a) != 0 ? -1 : 0;
}

struct flagged_arg {
	uint32_t mask;
	store_flagged_fn *fn;
	void *arg;
};

static int flagged_item(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct flagged_arg *a = arg;
	uint32_t flags = be32_get(v->mv_data);

	return (flags & a->mask) && a->fn(k->mv_data, flags, a->arg);
}

static int flagged_scan(MDB_txn *txn, struct store *st, void *arg)
{
	return db_each(txn, st->flags, AG_PK_LEN, 4, flagged_item, arg);
}

int store_flagged(struct store *st, uint32_t mask, store_flagged_fn *fn, void *arg)
{
	struct flagged_arg a = {mask, fn, arg};

	return store_read(st, "flagged", flagged_scan, &a) != 0 ? -1 : 0;
}

static int flags_txn(struct wtxn *w, void *arg)
{
	struct flags_arg *a = arg;
	uint32_t flags;
	int rc = flags_get(w->txn, w->st->flags, a->author, &flags);

	return rc ? rc : flags_put(w->txn, w->st->flags, a->author, (flags | a->set) & ~a->clear);
}

int store_flags_set(struct store *st, const uint8_t author[static AG_PK_LEN], uint32_t set,
                    uint32_t clear)
{
	struct flags_arg a = {author, set, clear, NULL};
	int rc = store_write(st, flags_txn, &a);

	if (rc != 0) {
		log_error("store: flags: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int store_fork_clear(struct store *st, const uint8_t author[static AG_PK_LEN])
{
	return store_flags_set(st, author, 0, STORE_FLAG_FORKED);
}

/* ---- voiding a feed's tail: a succession certificate (DESIGN.md "Trust over the years") ---- */

/* The entry at author and seq, whose header is at old, moves to a fresh logno (*logno). */
static int entry_move(struct wtxn *w, const uint8_t *author, uint64_t seq, const uint8_t *old,
                      uint8_t logno[static 8])
{
	uint8_t lb[EPOS_LEN], nb[EPOS_LEN];
	MDB_val raw, body, k = author_key(author);
	char *copy;
	int rc;

	if ((rc = log_get(w->txn, w->st, old, &raw)) != 0 ||
	    (rc = body_get(w->txn, w->st, old, &body)) != 0)
		return rc;
	/* A put may spill dirty pages: the bytes are copied out first. */
	if (!(copy = malloc(raw.mv_size + body.mv_size)))
		return ENOMEM;
	memcpy(copy, raw.mv_data, raw.mv_size);
	memcpy(copy + raw.mv_size, body.mv_data, body.mv_size);
	be64_put(lb, seq);
	memcpy(lb + 8, old, 8);
	memcpy(nb, lb, 8);
	if ((rc = logno_next(w, logno)) == 0)
		memcpy(nb + 8, logno, 8);
	if (rc != 0 ||
	    (rc = mdb_put(w->txn, w->st->log, &(MDB_val){8, logno}, &(MDB_val){raw.mv_size, copy},
	                  MDB_APPEND)) != 0 ||
	    (rc = mdb_put(w->txn, w->st->bodies, &(MDB_val){8, logno},
	                  &(MDB_val){body.mv_size, copy + raw.mv_size}, MDB_APPEND)) != 0 ||
	    (rc = mdb_del(w->txn, w->st->log, &(MDB_val){8, (void *)(uintptr_t)old}, NULL)) != 0 ||
	    (rc = mdb_del(w->txn, w->st->bodies, &(MDB_val){8, (void *)(uintptr_t)old}, NULL)) !=
	        0 ||
	    (rc = mdb_del(w->txn, w->st->entries, &k, &(MDB_val){EPOS_LEN, lb})) == 0)
		rc = mdb_put(w->txn, w->st->entries, &k, &(MDB_val){EPOS_LEN, nb}, 0);
	free(copy);
	return rc;
}

/*
 * r, an earlier version of h's record, is its state again: indexed anew
 * under a fresh logno when its body is held (its old docno is dead).
 */
static int record_restore(struct wtxn *w, const struct ag_header *h, struct rec *r)
{
	uint8_t old[8], logno[8];
	struct ag_entry e;
	struct rec newest;
	MDB_val body;
	int rc;

	r->live = 0;
	r->docno = 0;
	if ((rc = entry_logno(w->txn, w->st, h->author, r->seq, old)) != 0)
		return rc;
	rc = body_get(w->txn, w->st, old, &body);
	if (rc == 0 && (rc = entry_move(w, h->author, r->seq, old, logno)) == 0 &&
	    (rc = store_log_load(w->txn, w->st, logno, &e)) == 0 &&
	    (rc = record_index(w, &e, NULL, logno, &r->docno)) == 0)
		r->live = 1;
	if ((rc != 0 && rc != MDB_NOTFOUND) || (rc = record_newest(w, h, &newest)) != 0)
		return rc;
	return record_newest_put(w, h, r);
}

/* The version of h's record at seq goes; the newest one left, if at most after, is its state. */
static int void_record(struct wtxn *w, const struct ag_header *h, uint64_t seq, uint64_t after)
{
	uint8_t kb[RKEY_MAX];
	MDB_val k = rkey(kb, h->type, h->author, h->id, h->id_len), key = k, v;
	struct rec r;
	int rc;

	if (!w->records && (rc = mdb_cursor_open(w->txn, w->st->records, &w->records)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(w->records, &key, &v, MDB_SET_KEY)) != 0 ||
	    (rc = mdb_cursor_get(w->records, &key, &v, MDB_LAST_DUP)) != 0 ||
	    (rc = store_rec_get(&v, &r)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	/* Entries go newest first: a version voided is its record's newest, or has no line. */
	if (r.seq != seq)
		return 0;
	if ((rc = record_retire(w, &r)) != 0 || (rc = mdb_cursor_del(w->records, 0)) != 0)
		return rc;
	key = k;
	rc = mdb_cursor_get(w->records, &key, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND) {
		w->gone_records++;
		return 0;
	}
	if (rc != 0 || (rc = mdb_cursor_get(w->records, &key, &v, MDB_LAST_DUP)) != 0 ||
	    (rc = store_rec_get(&v, &r)) != 0)
		return rc;
	return r.seq <= after ? record_restore(w, h, &r) : 0;
}

/* The entry at author and seq (its header at logno) goes, with its record's version. */
static int void_entry(struct wtxn *w, const uint8_t *author, uint64_t seq, const uint8_t *logno,
                      uint64_t after, uint64_t *bytes)
{
	uint8_t mk[MKEY_LEN], hb[AG_HEADER_MAX];
	MDB_val raw, body, lk = {8, (void *)(uintptr_t)logno};
	struct ag_header h;
	int rc;

	if ((rc = log_get(w->txn, w->st, logno, &raw)) != 0)
		return rc;
	if (raw.mv_size > sizeof(hb))
		return MDB_CORRUPTED;
	memcpy(hb, raw.mv_data, raw.mv_size); /* the header outlives the puts below */
	if (ag_header_decode(&h, hb, raw.mv_size, NULL) != 0)
		return MDB_CORRUPTED;
	if (body_get(w->txn, w->st, logno, &body) == 0)
		*bytes += body.mv_size; /* its author's usage counts it no more */
	missing_key(mk, author, seq);   /* missing and purged share its key */
	if ((rc = void_record(w, &h, seq, after)) != 0 ||
	    (rc = del_key(w->txn, w->st->bodies, logno, 8)) != 0 ||
	    (rc = mdb_del(w->txn, w->st->log, &lk, NULL)) != 0 ||
	    (rc = del_key(w->txn, w->st->missing, mk, MKEY_LEN)) != 0)
		return rc;
	return del_key(w->txn, w->st->purged, mk, MKEY_LEN);
}

struct void_arg {
	const uint8_t *author;
	uint64_t after;
	uint32_t set;
	uint8_t (*lines)[EPOS_LEN]; /* the entries voided, newest first */
	size_t n, cap;
	uint64_t bytes; /* of the bodies voided */
};

/* The lines of the entries past after, newest first, into a->lines. */
static int void_lines(struct wtxn *w, struct void_arg *a)
{
	MDB_val k = author_key(a->author), v;
	MDB_cursor *c;
	int rc;

	a->n = 0;
	if ((rc = mdb_cursor_open(w->txn, w->st->entries, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_LAST_DUP);
	     rc == 0 && v.mv_size == EPOS_LEN && be64_get(v.mv_data) > a->after;
	     rc = mdb_cursor_get(c, &k, &v, MDB_PREV_DUP)) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			void *p = realloc(a->lines, cap * EPOS_LEN);

			if (!p) {
				rc = ENOMEM;
				break;
			}
			a->lines = p;
			a->cap = cap;
		}
		memcpy(a->lines[a->n++], v.mv_data, EPOS_LEN);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* The feed ends at after now; its fork proofs go (the certificate settled it). */
static int void_head(struct wtxn *w, const struct void_arg *a)
{
	uint8_t hash[AG_HASH_LEN];
	MDB_val raw;
	uint32_t flags;
	int rc;

	if (a->n > 0 && a->after == 0)
		rc = del_key(w->txn, w->st->heads, a->author, AG_PK_LEN);
	else if (a->n > 0 && (rc = entry_raw(w->txn, w->st, a->author, a->after, &raw)) == 0) {
		raw_hash(raw.mv_data, raw.mv_size, hash);
		rc = head_put(w, a->author, a->after, hash);
	} else
		rc = 0;
	if (rc != 0 || (rc = del_prefix(w->txn, w->st->forks, a->author)) != 0 ||
	    (rc = flags_get(w->txn, w->st->flags, a->author, &flags)) != 0)
		return rc;
	return flags_put(w->txn, w->st->flags, a->author, (flags & ~STORE_FLAG_FORKED) | a->set);
}

/* The author's usage no longer counts the bodies voided. */
static int void_usage(struct wtxn *w, const struct void_arg *a)
{
	struct store_usage u;
	int rc = usage_get(w->txn, w->st, a->author, &u);

	if (rc != 0)
		return rc;
	u.body_bytes -= a->bytes < u.body_bytes ? a->bytes : u.body_bytes;
	return usage_put(w->txn, w->st->usage, a->author, &u);
}

static int void_txn(struct wtxn *w, void *arg)
{
	struct void_arg *a = arg;
	MDB_val k = author_key(a->author);
	int rc;

	if ((rc = void_lines(w, a)) != 0 || (rc = logno_hold(w)) != 0)
		return rc;
	a->bytes = 0;
	for (size_t i = 0; i < a->n && rc == 0; i++)
		rc = void_entry(w, a->author, be64_get(a->lines[i]), a->lines[i] + 8, a->after,
		                &a->bytes);
	if (rc == 0 && a->bytes > 0)
		rc = void_usage(w, a);
	for (size_t i = 0; i < a->n && rc == 0; i++)
		rc = mdb_del(w->txn, w->st->entries, &k, &(MDB_val){EPOS_LEN, a->lines[i]});
	return rc != 0 ? rc : void_head(w, a);
}

int store_void(struct store *st, const uint8_t author[static AG_PK_LEN], uint64_t after,
               uint32_t set, uint64_t *voided)
{
	struct void_arg a = {author, after, set, NULL, 0, 0, 0};
	int rc = store_write(st, void_txn, &a);

	free(a.lines);
	if (rc != 0) {
		char why[256];

		store_why(st, rc, why, sizeof(why));
		log_error("store: void of a feed's entries after seq %llu: %s",
		          (unsigned long long)after, why);
		return store_full(st, rc) ? STORE_EFULL : -1;
	}
	if (voided)
		*voided = a.n;
	return 0;
}

struct forks_arg {
	const uint8_t *author;
	store_entry_fn *fn;
	void *arg;
	size_t count;
};

static int forks_scan(MDB_txn *txn, struct store *st, void *arg)
{
	struct forks_arg *a = arg;
	uint8_t kb[FKEY_LEN] = {0};
	MDB_val k = {a->author ? FKEY_LEN : 0, kb}, v;
	MDB_cursor *c;
	int rc;

	if (a->author)
		memcpy(kb, a->author, AG_PK_LEN);
	if ((rc = mdb_cursor_open(txn, st->forks, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, a->author ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ag_entry e;

		if (a->author && memcmp(k.mv_data, a->author, AG_PK_LEN) != 0)
			break;
		if (ag_entry_open(&e, v.mv_data, v.mv_size, NULL, 0, NULL, NULL) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		a->count++;
		if (a->fn(&e, a->arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

ssize_t store_forks(struct store *st, const uint8_t *author, store_entry_fn *fn, void *arg)
{
	struct forks_arg a = {author, fn, arg, 0};

	if (store_read(st, "forks", forks_scan, &a) != 0)
		return -1;
	return (ssize_t)a.count;
}

/* ---- meta ---- */

struct meta_arg {
	MDB_val k, v;
	int del;
	void *buf;
	size_t cap, *len;
	store_meta_fn *fn;
	void *arg;
};

static int meta_txn(struct wtxn *w, void *arg)
{
	struct meta_arg *m = arg;
	MDB_val k = m->k, v = m->v;
	int rc;

	if (!m->del)
		return mdb_put(w->txn, w->st->meta, &k, &v, 0);
	rc = mdb_del(w->txn, w->st->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int meta_write(struct store *st, const void *key, size_t klen, const void *val, size_t vlen,
                      int del)
{
	struct meta_arg m = {{klen, (void *)(uintptr_t)key}, {vlen, (void *)(uintptr_t)val}, del};
	int rc;

	if (klen == 0 || klen > STORE_META_KEY_MAX) {
		log_error("store: meta key of %zu bytes", klen);
		return -1;
	}
	if ((rc = store_write(st, meta_txn, &m)) != 0) {
		log_error("store: meta: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int store_meta_put(struct store *st, const void *key, size_t klen, const void *val, size_t vlen)
{
	return meta_write(st, key, klen, val, vlen, 0);
}

int store_meta_del(struct store *st, const void *key, size_t klen)
{
	return meta_write(st, key, klen, NULL, 0, 1);
}

static int meta_read(MDB_txn *txn, struct store *st, void *arg)
{
	struct meta_arg *m = arg;
	MDB_val v;
	int rc = mdb_get(txn, st->meta, &m->k, &v);

	if (rc == 0) {
		memcpy(m->buf, v.mv_data, v.mv_size < m->cap ? v.mv_size : m->cap);
		*m->len = v.mv_size;
	}
	return rc;
}

int store_meta_get(struct store *st, const void *key, size_t klen, void *buf, size_t cap,
                   size_t *len)
{
	struct meta_arg m = {
	    .k = {klen, (void *)(uintptr_t)key}, .buf = buf, .cap = cap, .len = len};
	int rc;

	if (klen == 0 || klen > STORE_META_KEY_MAX)
		return 0;
	rc = store_read(st, "meta", meta_read, &m);
	return rc < 0 ? -1 : rc == 0;
}

static int meta_scan(MDB_txn *txn, struct store *st, void *arg)
{
	struct meta_arg *m = arg;
	size_t plen = m->k.mv_size;
	MDB_val k = m->k, v;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->meta, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || (plen > 0 && memcmp(k.mv_data, m->k.mv_data, plen) != 0))
			break;
		if (m->fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, m->arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_meta_each(struct store *st, const void *prefix, size_t plen, store_meta_fn *fn, void *arg)
{
	struct meta_arg m = {.k = {plen, (void *)(uintptr_t)prefix}, .fn = fn, .arg = arg};

	return store_read(st, "meta", meta_scan, &m) != 0 ? -1 : 0;
}
