/*
 * store_disk.c: the store and its disk. A hot copy for agora backup: LMDB's
 * own copy in one read transaction, compacted (free pages left out), so it
 * is consistent while the writer goes on. And whether a failed write means
 * a full disk, so the operator reads that and not "Input/output error".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fileio.h"
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
