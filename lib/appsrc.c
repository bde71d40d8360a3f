/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Keeping the application source next to the application (lib/xfsm_appsrc.h).
 * `rule add|del` edit and recompile the kept source, so a source that was
 * cut would silently lose whatever the cut removed: a source is kept whole
 * (as text, or compressed when the text does not fit), or marked as not
 * kept, so that what needs it refuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "libxfsm.h"
#include "xfsm_appsrc.h"

int xfsm_appsrc_encode(const char *src, size_t len, void *val, size_t vs)
{
	char *text = (char *)val + sizeof(__u32);
	size_t room;
	__u32 hdr, orig;
	uLongf clen;
	int zerr;

	if (vs < 2 * sizeof(__u32))
		return -EPROTO;
	room = vs - sizeof(__u32);
	memset(val, 0, vs);
	if (!src)
		len = 0;
	if (len <= room) {
		hdr = (__u32)len;
		memcpy(val, &hdr, sizeof(hdr));
		if (len)
			memcpy(text, src, len);
		return 0;
	}
	if (len <= XFSM_APPSRC_LEN_MASK) {
		clen = room - sizeof(__u32);
		zerr = compress2((Bytef *)text + sizeof(__u32), &clen, (const Bytef *)src,
				 (uLong)len, Z_BEST_COMPRESSION);
		if (zerr == Z_MEM_ERROR)
			return -ENOMEM;
		if (zerr == Z_OK) {
			orig = (__u32)len;
			memcpy(text, &orig, sizeof(orig));
			hdr = XFSM_APPSRC_DEFLATE | (__u32)clen;
			memcpy(val, &hdr, sizeof(hdr));
			return 0;
		}
		/* Z_BUF_ERROR: it does not fit compressed either */
	}
	memset(val, 0, vs);
	hdr = XFSM_APPSRC_CUT | (__u32)(len < XFSM_APPSRC_LEN_MASK ? len : XFSM_APPSRC_LEN_MASK);
	memcpy(val, &hdr, sizeof(hdr));
	return 1;
}

int xfsm_appsrc_decode(const void *val, size_t vs, char **src, size_t *len)
{
	const char *text = (const char *)val + sizeof(__u32);
	size_t room;
	__u32 hdr, orig, n;
	uLongf out_len;
	char *buf;

	*src = NULL;
	*len = 0;
	if (vs < 2 * sizeof(__u32))
		return -EPROTO;
	room = vs - sizeof(__u32);
	memcpy(&hdr, val, sizeof(hdr));
	n = hdr & XFSM_APPSRC_LEN_MASK;
	switch (hdr & ~XFSM_APPSRC_LEN_MASK) {
	case 0:
		if (n > room)
			return -EPROTO;
		if (!n)
			return 0;
		buf = malloc((size_t)n + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, text, n);
		break;
	case XFSM_APPSRC_DEFLATE:
		memcpy(&orig, text, sizeof(orig));
		if (n > room - sizeof(orig) || !orig || orig > XFSM_APPSRC_LEN_MASK)
			return -EPROTO;
		buf = malloc((size_t)orig + 1);
		if (!buf)
			return -ENOMEM;
		out_len = orig;
		if (uncompress((Bytef *)buf, &out_len, (const Bytef *)text + sizeof(orig), n) != Z_OK ||
		    out_len != orig) {
			free(buf);
			return -EPROTO;
		}
		n = orig;
		break;
	case XFSM_APPSRC_CUT:
		*len = n;
		return -EFBIG;
	default:
		return -EPROTO;
	}
	buf[n] = 0;
	*src = buf;
	*len = n;
	return 0;
}
