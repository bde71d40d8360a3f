/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xt_assert.h"

int xt_failures;
char xt_context[256];

void xt_set_context(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(xt_context, sizeof(xt_context), fmt, ap);
	va_end(ap);
}

bool xt_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	xt_failures++;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	if (xt_context[0])
		fprintf(stderr, "[%s] ", xt_context);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	return false;
}

const char *xt_strerror(long long err)
{
	return strerror((int)err);
}
