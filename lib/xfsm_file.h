/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Reading the files a person hands to xfsm (applications, ACL rule sets):
 * one reader that checks every read, so that a file is used whole or not
 * at all.
 */
#ifndef XFSM_FILE_H
#define XFSM_FILE_H

#include <stddef.h>

#define XFSM_FILE_MAX	(256UL << 20)	/* larger input is refused */

/*
 * Read all of `path` ("-" is standard input) into a new NUL-terminated
 * buffer (*buf, *len without the NUL; free() it).  Refused, with the
 * reason in err (the caller names the file) and nothing allocated: a file
 * that cannot be opened or read to its end (-errno), a directory
 * (-EISDIR), an empty file (-ENODATA) and one larger than XFSM_FILE_MAX
 * (-EFBIG).
 */
int xfsm_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

#endif /* XFSM_FILE_H */
