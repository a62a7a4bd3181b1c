/*
 * store_disk.c: the store and its disk. A hot copy for agora backup: LMDB's
 * own copy in one read transaction, compacted (free pages left out), so it
 * is consistent while the writer goes on. Whether a failed write means a
 * full disk, so the operator reads that and not "Input/output error". And
 * the limits (store_limits_set): how much disk the store takes, whether
 * it takes more, and which authors' limits were logged already.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "key.h"
#include "log.h"
#include "store_internal.h"

#define FULL_BELOW (UINT64_C(1) << 20) /* bytes free: an I/O error then is a full disk */

bool store_full(struct store *st, int rc)
{
	struct statvfs vfs;
	const char *dir;

	if (rc == ENOSPC || rc == EDQUOT || rc == MDB_MAP_FULL)
		return true;
	/* LMDB turns a short write, which a full disk causes, into EIO. */
	if (rc != EIO || mdb_env_get_path(st->env, &dir) != 0 || statvfs(dir, &vfs) != 0)
		return false;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize < FULL_BELOW;
}

void store_why(struct store *st, int rc, char *buf, size_t len)
{
	const char *dir = "";

	if (!store_full(st, rc)) {
		snprintf(buf, len, "%s", mdb_strerror(rc));
		return;
	}
	(void)mdb_env_get_path(st->env, &dir);
	snprintf(buf, len, "the disk is full (file system of %s): %s", dir,
	         rc == EIO ? "a write came out short" : mdb_strerror(rc));
}

/* The copy's file, synced, and its size. */
static int sync_copy(const char *dir, uint64_t *bytes)
{
	char path[4096 + 16];
	struct stat st;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("store: copy: %s", path);
		return -1;
	}
	/* As DIR/data's files: the group reads them, others do not. */
	if (fchmod(fd, 0640) != 0 || fsync(fd) != 0 || fstat(fd, &st) != 0)
		log_warn("store: copy: %s", path);
	else
		rc = 0;
	close(fd);
	*bytes = (uint64_t)st.st_size;
	if (rc == 0 && fileio_sync_dir(dir) != 0) {
		log_warn("store: copy: %s", dir);
		rc = -1;
	}
	return rc;
}

int store_copy(struct store *st, const char *dir, uint64_t *bytes)
{
	int rc;

	/*
	 * The copy is a read transaction: the map may not be resized while it runs,
	 * so a write that must grow the map waits for the copy to end.
	 */
	pthread_rwlock_rdlock(&st->maplock);
	rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&st->maplock);
	if (rc != 0) {
		char why[256];

		store_why(st, rc, why, sizeof(why));
		log_error("store: copy to %s: %s", dir, why);
		return store_full(st, rc) ? STORE_EFULL : -1;
	}
	return sync_copy(dir, bytes);
}

/* ---- limits ---- */

/* An author whose quota (STORE_NOTED_QUOTA) or entry cap was logged. */
struct store_noted {
	uint8_t author[AG_PK_LEN];
	unsigned what;
};

uint64_t store_disk_used_writing(struct store *st)
{
	MDB_envinfo info;
	MDB_stat es;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &es) != 0)
		return 0;
	return (uint64_t)(info.me_last_pgno + 1) * es.ms_psize;
}

/*
 * Read from the meta pages, in the map: a write on the appender's thread may
 * grow it (a new mapping, the old one gone) meanwhile, unless maplock is held.
 */
uint64_t store_disk_used(struct store *st)
{
	uint64_t used;

	pthread_rwlock_rdlock(&st->maplock);
	used = store_disk_used_writing(st);
	pthread_rwlock_unlock(&st->maplock);
	return used;
}

uint64_t store_disk_free(struct store *st)
{
	struct statvfs vfs;

	if (statvfs(st->dir, &vfs) != 0)
		return UINT64_MAX;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool store_disk_over(struct store *st, uint64_t used, uint64_t avail, bool own)
{
	uint64_t max = st->limits.max_disk;

	if (own)
		return (max && used >= max) || avail < STORE_OWN_RESERVE;
	return (max && used >= STORE_PEERS_SHARE(max)) || avail < STORE_PEERS_RESERVE;
}

/* A change is logged once, by whichever thread saw it. */
static void disk_seen_locked(struct store *st, bool full, uint64_t used, uint64_t avail)
{
	/* Room again only with some to spare (1/32 of MaxDisk, 16 MiB of disk): no flapping. */
	if (st->disk_full && !full)
		full = store_disk_over(
		    st, used + st->limits.max_disk / 32,
		    avail > STORE_PEERS_RESERVE / 4 ? avail - STORE_PEERS_RESERVE / 4 : 0, false);

	if (full && !st->disk_full)
		log_warnx("store: %s: entries from peers are not stored until there is room "
		          "(the store takes %.1f MiB; MaxDisk %.1f MiB keeps %.1f MiB for other "
		          "feeds; %llu MiB free on its file system)",
		          st->dir, (double)used / (1 << 20),
		          (double)st->limits.max_disk / (1 << 20),
		          (double)STORE_PEERS_SHARE(st->limits.max_disk) / (1 << 20),
		          (unsigned long long)(avail >> 20));
	else if (!full && st->disk_full)
		log_info("store: %s has room again: entries from peers are stored", st->dir);
	st->disk_full = full;
	st->disk_seen_ms = mono_ms();
}

void store_disk_seen(struct store *st, uint64_t used, uint64_t avail)
{
	bool full = store_disk_over(st, used, avail, false);

	pthread_mutex_lock(&st->disk_lock);
	disk_seen_locked(st, full, used, avail);
	pthread_mutex_unlock(&st->disk_lock);
}

bool store_disk_full(struct store *st)
{
	bool stale, full;

	pthread_mutex_lock(&st->disk_lock);
	stale = st->disk_seen_ms == 0 || mono_ms() - st->disk_seen_ms >= 1000;
	pthread_mutex_unlock(&st->disk_lock);
	if (stale)
		store_disk_seen(st, store_disk_used(st), store_disk_free(st));
	pthread_mutex_lock(&st->disk_lock);
	full = st->disk_full;
	pthread_mutex_unlock(&st->disk_lock);
	return full;
}

bool store_self(const struct store *st, const uint8_t *author)
{
	return memcmp(st->limits.self, author, AG_PK_LEN) == 0;
}

bool store_takes(struct store *st, const uint8_t author[static AG_PK_LEN], uint64_t seq)
{
	if (store_self(st, author))
		return true;
	if (st->limits.max_entries && seq > st->limits.max_entries)
		return false;
	return !store_disk_full(st);
}

void store_limits_set(struct store *st, const struct store_limits *l)
{
	store_lock(st); /* the appender's writes read them */
	if (memcmp(&st->limits, l, sizeof(*l)) != 0)
		st->nnoted = 0; /* each limit reached is logged again */
	st->limits = *l;
	pthread_mutex_lock(&st->disk_lock);
	st->disk_seen_ms = 0;
	pthread_mutex_unlock(&st->disk_lock);
	store_unlock(st);
}

bool store_noted_once(struct store *st, const uint8_t *author, unsigned what)
{
	struct store_noted *n;

	for (size_t i = 0; i < st->nnoted; i++)
		if (memcmp(st->noted[i].author, author, AG_PK_LEN) == 0 &&
		    st->noted[i].what == what)
			return false;
	if (st->nnoted == st->capnoted) {
		size_t cap = st->capnoted ? st->capnoted * 2 : 16;

		if (!(n = realloc(st->noted, cap * sizeof(*n))))
			return true; /* logged again later: better than never */
		st->noted = n;
		st->capnoted = cap;
	}
	memcpy(st->noted[st->nnoted].author, author, AG_PK_LEN);
	st->noted[st->nnoted++].what = what;
	return true;
}
