/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Options structures of the API: see XFSM_OPTS() in libxfsm.h. */
#include <errno.h>

#include "libxfsm.h"
#include "xfsm_opts.h"

int xfsm_opts_check(const void *opts, size_t known_end, const char *type)
{
	const unsigned char *p = opts;
	size_t sz, i;

	if (!opts)
		return 0;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t)) {
		xfsm_log(XFSM_LOG_ERROR, "struct %s: sz is %zu; declare it with XFSM_OPTS()",
			 type, sz);
		return -EINVAL;
	}
	for (i = known_end; i < sz; i++) {
		if (p[i]) {
			xfsm_log(XFSM_LOG_ERROR,
				 "struct %s: byte %zu is set, but this libxfsm knows only its first %zu bytes (an option of a newer version)",
				 type, i, known_end);
			return -EINVAL;
		}
	}
	return 0;
}
