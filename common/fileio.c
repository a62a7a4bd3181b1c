/* fileio.c: durable small writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int fileio_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fileio_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	if (fsync(fd) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

int fileio_write_new(const char *path, const char *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode), err;

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) != 0 || fileio_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		err = errno;
		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	if (close(fd) != 0) {
		err = errno;
		unlink(path);
		errno = err;
		return -1;
	}
	return 0;
}

/* The directory of path, in buf ("." for a bare file name); returns path's base name. */
static const char *split_path(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, cap, ".");
	else if (slash == path)
		snprintf(buf, cap, "/");
	else
		snprintf(buf, cap, "%.*s", (int)(slash - path), path);
	return slash ? slash + 1 : path;
}

int fileio_replace(const char *path, const char *p, size_t n, mode_t mode)
{
	char *tmp, dir[4096];
	const char *base = split_path(path, dir, sizeof(dir));
	int fd, err;

	/* Hidden, so that nothing that lists the directory takes it for the file. */
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail_free;
	if (fileio_write_all(fd, p, n) != 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		err = errno;
		close(fd);
		errno = err;
		goto fail;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return fileio_sync_dir(dir);
fail:
	err = errno;
	unlink(tmp);
	errno = err;
fail_free:
	err = errno;
	free(tmp);
	errno = err;
	return -1;
}
