/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one file reader of the tools (lib/xfsm_file.h).  Every read(2) is
 * checked: a file that fails midway is refused as a whole, never used as
 * far as it was read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfsm_file.h"

_Static_assert(XFSM_FILE_MAX == 256UL << 20, "the message below says 256 MiB");

/* Refuse with `code`: the reason, and the system's word for errnum. */
static int refuse(int code, char *err, size_t errlen, const char *what, int errnum)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", what, errnum ? ": " : "",
			 errnum ? strerror(errnum) : "");
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
		return refuse(-errno, err, errlen, "cannot open", errno);
	if (fstat(fd, &st)) {
		ret = refuse(-errno, err, errlen, "cannot read", errno);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = refuse(-EISDIR, err, errlen, "is a directory, not a file", 0);
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nb;

			if (cap > XFSM_FILE_MAX) {
				ret = refuse(-EFBIG, err, errlen, "larger than the 256 MiB a file may have", 0);
				goto fail;
			}
			nb = realloc(b, ncap + 1);
			if (!nb) {
				ret = refuse(-ENOMEM, err, errlen, "out of memory", 0);
				goto fail;
			}
			b = nb;
			cap = ncap;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = refuse(-errno, err, errlen, "read failed", errno);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > XFSM_FILE_MAX) {
		ret = refuse(-EFBIG, err, errlen, "larger than the 256 MiB a file may have", 0);
		goto fail;
	}
	if (!n) {
		ret = refuse(-ENODATA, err, errlen, "the file is empty", 0);
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
