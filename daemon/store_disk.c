/*
 * store_disk.c: the store and its disk: whether a failed write means a full
 * disk, so the operator reads that and not "Input/output error".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

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
