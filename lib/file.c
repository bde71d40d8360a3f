/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one file reader of the tools (lib/xfsm_file.h).  Every read(2) is
 * checked: a file that fails midway is refused as a whole, never used as
 * far as it was read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfsm_file.h"

static int file_fail(int code, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int file_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int xfsm_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	size_t n = 0, cap = 0;
	char *b = NULL;
	struct stat st;
	int fd, ret;

	*buf = NULL;
	*len = 0;
	fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_fail(-errno, err, errlen, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		ret = file_fail(-errno, err, errlen, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = file_fail(-EISDIR, err, errlen, "is a directory, not a file");
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nb;

			if (cap > XFSM_FILE_MAX) {
				ret = file_fail(-EFBIG, err, errlen, "larger than %lu MiB, refused",
						XFSM_FILE_MAX >> 20);
				goto fail;
			}
			nb = realloc(b, ncap + 1);
			if (!nb) {
				ret = file_fail(-ENOMEM, err, errlen, "out of memory");
				goto fail;
			}
			b = nb;
			cap = ncap;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = file_fail(-errno, err, errlen, "read failed: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > XFSM_FILE_MAX) {
		ret = file_fail(-EFBIG, err, errlen, "larger than %lu MiB, refused",
				XFSM_FILE_MAX >> 20);
		goto fail;
	}
	if (!n) {
		ret = file_fail(-ENODATA, err, errlen, "the file is empty");
		goto fail;
	}
	close(fd);
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
fail:
	free(b);
	close(fd);
	return ret;
}
