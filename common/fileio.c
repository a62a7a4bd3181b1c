/* fileio.c: durable small writes. */
#include <errno.h>
#include <fcntl.h>
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
