/* backup.c: agora backup: DEST checked and made on the loop, the copy on the thread pool. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "node.h"
#include "store.h"

struct backup {
	uv_work_t work;
	struct store *store;
	char conf[PATH_MAX + 16]; /* DIR/agorad.conf */
	char dest[PATH_MAX];
	bool made_dest; /* dest did not exist: removed again if the copy fails */
	int status;     /* AG_CTL_E*, or 0 */
	char err[512];
	struct ag_ctl_backup out;
	backup_done_fn *done;
	void *arg;
};

/* Whether dir holds nothing; -1 if it cannot be read. */
static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -1;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* dest: absolute, and new (made here) or an empty directory; dest/data made. */
static int dest_prepare(struct backup *b, char *err, size_t errlen)
{
	char data[PATH_MAX + 8];
	struct stat st;

	if (b->dest[0] != '/')
		return snprintf(err, errlen, "%s: not an absolute path", b->dest), AG_CTL_EREFUSED;
	if (mkdir(b->dest, 0750) == 0)
		b->made_dest = true;
	else if (errno != EEXIST)
		return snprintf(err, errlen, "cannot make %s: %s", b->dest, strerror(errno)),
		       AG_CTL_EREFUSED;
	else if (stat(b->dest, &st) != 0 || !S_ISDIR(st.st_mode))
		return snprintf(err, errlen, "%s exists and is not a directory", b->dest),
		       AG_CTL_EREFUSED;
	else if (dir_empty(b->dest) != 1)
		return snprintf(err, errlen,
		                "%s is not an empty directory: a backup never mixes "
		                "with other files",
		                b->dest),
		       AG_CTL_EREFUSED;
	snprintf(data, sizeof(data), "%s/data", b->dest);
	if (mkdir(data, 0750) != 0) {
		snprintf(err, errlen, "cannot make %s: %s", data, strerror(errno));
		if (b->made_dest)
			rmdir(b->dest);
		return AG_CTL_EFAILED;
	}
	return 0;
}

/* Copies DIR/agorad.conf as it is, comments and all, to DEST/agorad.conf. */
static int copy_conf(struct backup *b)
{
	char path[PATH_MAX + 16], *text = NULL;
	ssize_t n = 0, r;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/" CONFIG_FILE, b->dest);
	if ((fd = open(b->conf, O_RDONLY | O_CLOEXEC)) < 0 || !(text = malloc(CONFIG_FILE_MAX)))
		goto out;
	while (n < CONFIG_FILE_MAX && (r = read(fd, text + n, CONFIG_FILE_MAX - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		n += r;
	}
	rc = fileio_write_new(path, text, (size_t)n, 0640);
out:
	if (rc != 0)
		snprintf(b->err, sizeof(b->err), "cannot copy %.200s to %.200s: %s", b->conf, path,
		         strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

static void backup_work(uv_work_t *w)
{
	struct backup *b = w->data;
	char data[PATH_MAX + 8];
	int rc;

	snprintf(data, sizeof(data), "%s/data", b->dest);
	if (copy_conf(b) != 0) {
		b->status = AG_CTL_EFAILED;
		return;
	}
	if ((rc = store_copy(b->store, data, &b->out.bytes)) != 0) {
		snprintf(b->err, sizeof(b->err), "%s",
		         rc == STORE_EFULL ? "the disk of the backup is full"
		                           : "the store's copy failed (see the daemon's log)");
		b->status = AG_CTL_EFAILED;
	} else if (fileio_sync_dir(b->dest) != 0) {
		snprintf(b->err, sizeof(b->err), "cannot sync %.400s: %s", b->dest,
		         strerror(errno));
		b->status = AG_CTL_EFAILED;
	}
}

/* A failed copy leaves nothing half made behind. */
static void backup_undo(const struct backup *b)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/data/data.mdb", b->dest);
	unlink(path);
	snprintf(path, sizeof(path), "%s/data/lock.mdb", b->dest);
	unlink(path);
	snprintf(path, sizeof(path), "%s/data", b->dest);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/" CONFIG_FILE, b->dest);
	unlink(path);
	if (b->made_dest)
		rmdir(b->dest);
}

static void backup_after(uv_work_t *w, int status)
{
	struct backup *b = w->data;

	if (status != 0 && b->status == 0) {
		b->status = AG_CTL_EFAILED;
		snprintf(b->err, sizeof(b->err), "the copy was cancelled");
	}
	if (b->status == 0) {
		snprintf(b->out.path, sizeof(b->out.path), "%s", b->dest);
		log_info("backup: store (%llu bytes) and config copied to %s",
		         (unsigned long long)b->out.bytes, b->dest);
	} else {
		backup_undo(b);
		log_error("backup to %s failed: %s", b->dest, b->err);
	}
	b->done(b->arg, b->status, &b->out, b->err);
	free(b);
}

int backup_start(uv_loop_t *loop, struct node *n, const char *dest, backup_done_fn *done, void *arg,
                 char *err, size_t errlen)
{
	struct backup *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return snprintf(err, errlen, "out of memory"), AG_CTL_EFAILED;
	if (strlen(dest) >= sizeof(b->dest)) {
		free(b);
		return snprintf(err, errlen, "path too long"), AG_CTL_EREFUSED;
	}
	snprintf(b->dest, sizeof(b->dest), "%s", dest);
	snprintf(b->conf, sizeof(b->conf), "%s/" CONFIG_FILE, node_dir(n));
	b->store = node_store(n);
	b->done = done;
	b->arg = arg;
	b->work.data = b;
	if ((rc = dest_prepare(b, err, errlen)) != 0) {
		free(b);
		return rc;
	}
	if ((rc = uv_queue_work(loop, &b->work, backup_work, backup_after)) != 0) {
		snprintf(err, errlen, "cannot start the copy: %s", uv_strerror(rc));
		backup_undo(b);
		free(b);
		return AG_CTL_EFAILED;
	}
	log_info("backup to %s started", b->dest);
	return 0;
}
