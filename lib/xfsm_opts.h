/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Reading an options structure (XFSM_OPTS() in libxfsm.h) whatever version
 * of the header its caller was built with: opts->sz says how much of the
 * structure the caller knows.  Private to the library.
 */
#ifndef XFSM_OPTS_H
#define XFSM_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#define xfsm_offsetofend(TYPE, FIELD) \
	(offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/* NULL is valid (all defaults).  Else sz must cover sz itself, and every
 * byte from known_end (the end of the last field this library knows) to
 * sz must be zero; -EINVAL with a message naming what otherwise. */
int xfsm_opts_check(const void *opts, size_t known_end, const char *type);

#define XFSM_OPTS_CHECK(opts, TYPE) \
	xfsm_opts_check(opts, xfsm_offsetofend(struct TYPE, TYPE##__last_field), #TYPE)

/* The field's value when the caller's structure holds it, else dflt. */
#define XFSM_OPTS_GET(opts, FIELD, dflt)					\
	((opts) && (opts)->sz >= xfsm_offsetofend(__typeof__(*(opts)), FIELD) ?	\
	 (opts)->FIELD : (dflt))

#endif /* XFSM_OPTS_H */
