/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * How an application's source is kept in one xfsm_appsrc map value
 * (include/xfsm/abi.h): whole, or marked as not kept, never cut.
 */
#ifndef XFSM_APPSRC_H
#define XFSM_APPSRC_H

#include <stddef.h>

/*
 * Fill a map value of vs bytes with src[0..len): plain text when it fits,
 * else zlib-compressed when that fits, else a XFSM_APPSRC_CUT mark with
 * the length.  Returns 0 (stored whole), 1 (marked as not kept) or a
 * negative errno.
 */
int xfsm_appsrc_encode(const char *src, size_t len, void *val, size_t vs);

/*
 * The source kept in a map value: 0 with *src (NUL-terminated, free() it,
 * NULL when empty) and *len; -EFBIG when it was too large to keep (*len
 * is its length, *src NULL); -EPROTO when the value is malformed.
 */
int xfsm_appsrc_decode(const void *val, size_t vs, char **src, size_t *len);

#endif /* XFSM_APPSRC_H */
