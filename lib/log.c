/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Library messages go through one hook so that front ends can prefix them
 * with their own name, collect them (tests) or turn them into JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxfsm.h"

static xfsm_log_fn log_fn;

void xfsm_set_log(xfsm_log_fn fn)
{
	log_fn = fn;
}

static void log_stderr(enum xfsm_log_level lvl, const char *msg)
{
	size_t len = strlen(msg);

	if (lvl == XFSM_LOG_DEBUG && !getenv("XFSM_DEBUG"))
		return;
	fprintf(stderr, "xfsm: %s%s%s",
		lvl == XFSM_LOG_WARN ? "warning: " : "", msg,
		len && msg[len - 1] == '\n' ? "" : "\n");
}

void xfsm_log(enum xfsm_log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(lvl, buf);
	else
		log_stderr(lvl, buf);
}
