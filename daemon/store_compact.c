/*
 * store_compact.c: compaction (store.h), so that a purged body's bytes are
 * in none of the node's files.
 *
 * LMDB does not erase what it frees: a deleted value's bytes stay on freed
 * pages, and on live pages too, in the gap left when the values after it
 * moved up. mdb_env_copy2 with MDB_CP_COMPACT drops the free pages but
 * copies live pages whole, gaps included. So the copy is rebuilt instead:
 * every database's pairs read in key order and put, with MDB_APPEND, into a
 * new environment, whose pages hold only what was put. The index is merged
 * into one segment first, so that no term of a purged body is left in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_internal.h"

#define COPY_BATCH 50000 /* pairs per transaction of the copy: well under LMDB's dirty limit */

/* Copies one database, named name, of the open read transaction from into to. */
static int copy_db(MDB_txn *from, MDB_env *to, const char *name)
{
	MDB_dbi src, dst;
	MDB_cursor *c = NULL, *d = NULL;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	unsigned flags, put;
	size_t n = 0;
	int rc;

	if ((rc = mdb_dbi_open(from, name, 0, &src)) != 0 ||
	    (rc = mdb_dbi_flags(from, src, &flags)) || (rc = mdb_cursor_open(from, src, &c)) != 0)
		return rc;
	put = flags & MDB_DUPSORT ? MDB_APPENDDUP : MDB_APPEND;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!txn && ((rc = mdb_txn_begin(to, NULL, 0, &txn)) != 0 ||
		             (rc = mdb_dbi_open(txn, name, flags | MDB_CREATE, &dst)) != 0 ||
		             (rc = mdb_cursor_open(txn, dst, &d)) != 0))
			break;
		/* A later key of a DUPSORT database needs APPEND, a later dup APPENDDUP. */
		if ((rc = mdb_cursor_put(d, &k, &v, put)) == MDB_KEYEXIST && put == MDB_APPENDDUP)
			rc = mdb_cursor_put(d, &k, &v, MDB_APPEND);
		if (rc != 0)
			break;
		if (++n % COPY_BATCH == 0) {
			mdb_cursor_close(d), d = NULL;
			rc = mdb_txn_commit(txn), txn = NULL;
			if (rc != 0)
				break;
		}
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc == 0 && !txn && n == 0) /* an empty database is kept, empty */
		if ((rc = mdb_txn_begin(to, NULL, 0, &txn)) == 0)
			rc = mdb_dbi_open(txn, name, flags | MDB_CREATE, &dst);
	if (d)
		mdb_cursor_close(d);
	if (txn && rc == 0)
		return mdb_txn_commit(txn);
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* Copies every named database of st into the environment to. */
static int copy_all(struct store *st, MDB_env *to)
{
	MDB_txn *from;
	MDB_cursor *c;
	MDB_dbi main;
	MDB_val k, v;
	char name[64];
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &from)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(from, NULL, 0, &main)) != 0 ||
	    (rc = mdb_cursor_open(from, main, &c)) != 0) {
		mdb_txn_abort(from);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size >= sizeof(name)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc = copy_db(from, to, name)) != 0)
			break;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(from);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return errno;
	rc = fsync(fd) == 0 ? 0 : errno;
	close(fd);
	return rc;
}

/* Writes the rebuilt copy of st to tmp/data.mdb, synced. */
static int copy_write(struct store *st, const char *tmp, size_t map_size)
{
	MDB_env *to;
	int rc;

	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(&to)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(to, 64)) == 0 &&
	    (rc = mdb_env_set_mapsize(to, map_size)) == 0 &&
	    (rc = mdb_env_open(to, tmp, MDB_NOTLS | MDB_NOSYNC, 0600)) == 0 &&
	    (rc = copy_all(st, to)) == 0)
		rc = mdb_env_sync(to, 1);
	mdb_env_close(to);
	return rc;
}

/* Takes tmp/data.mdb in place of dir/data.mdb, durably. */
static int copy_swap(const char *dir, const char *tmp)
{
	char from[4096 + 16], into[4096 + 16];
	int rc;

	snprintf(from, sizeof(from), "%s/data.mdb", tmp);
	snprintf(into, sizeof(into), "%s/data.mdb", dir);
	if ((rc = fsync_path(from)) != 0)
		return rc;
	if (rename(from, into) != 0)
		return errno;
	snprintf(from, sizeof(from), "%s/lock.mdb", tmp);
	unlink(from);
	rmdir(tmp);
	return fsync_path(dir);
}

static int compact_locked(struct store *st);

int store_compact(struct store *st)
{
	int rc;

	/* No write while the environment is copied and reopened: the appender's waits. */
	store_lock(st);
	rc = compact_locked(st);
	store_unlock(st);
	return rc;
}

static int compact_locked(struct store *st)
{
	char tmp[4096];
	MDB_envinfo info;
	size_t before = 0, after = 0;
	struct store_stats s;
	int rc;

	if (store_index_merge(st) != 0)
		return -1;
	if (store_stats(st, &s) == 0)
		before = s.used;
	snprintf(tmp, sizeof(tmp), "%s/compact", st->dir);
	/* No reader of this process in the old map while it goes. */
	pthread_rwlock_wrlock(&st->maplock);
	mdb_env_info(st->env, &info);
	rc = copy_write(st, tmp, info.me_mapsize);
	if (rc == 0) {
		index_free(st->ix), st->ix = NULL;
		mdb_env_close(st->env), st->env = NULL;
		rc = copy_swap(st->dir, tmp);
		/* Swapped or not, the store goes on with what is in dir. */
		int rc2 = store_env_open(st, st->dir, info.me_mapsize);

		rc = rc ? rc : rc2;
	}
	pthread_rwlock_unlock(&st->maplock);
	st->compact_due = 0;
	if (rc != 0) {
		log_error("store: compact %s: %s", st->dir,
		          rc > 0 ? strerror(rc) : mdb_strerror(rc));
		return -1;
	}
	if (store_stats(st, &s) == 0)
		after = s.used;
	log_info("store: compacted: %zu KiB of pages in use, %zu KiB before", after >> 10,
	         before >> 10);
	return 0;
}
