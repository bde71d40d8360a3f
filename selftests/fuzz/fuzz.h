/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Shared by the libFuzzer targets of selftests/fuzz/. */
#ifndef XFSM_FUZZ_H
#define XFSM_FUZZ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A property does not hold: say which, and abort, so that libFuzzer
 * saves the input (and ASan prints the stack). */
static void __attribute__((noreturn, format(printf, 2, 3), unused))
fuzz_die(const char *target, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", target);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

#endif /* XFSM_FUZZ_H */
