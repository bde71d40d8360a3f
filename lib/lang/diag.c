/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Diagnostics of the xfsm language compiler: every error and warning names
 * the file, the line and the column of the token at fault.  An error stops
 * compilation; warnings are collected and handed to the caller with the
 * names (struct xfsm_app_names.warnings).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lang.h"

void __attribute__((noreturn, format(printf, 3, 4)))
fail_at(struct lc *c, const struct lang_tok *t, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%u:%u: error: %s", c->fname,
			 t ? t->line : 0, t ? t->col : 0, msg);
	c->errcode = -EINVAL;
	longjmp(c->jb, 1);
}

/* At most this many warnings are kept: a generated file with thousands of
 * shadowed rules must not make the warnings the bulk of the memory. */
#define LANG_MAX_WARNINGS	100

void __attribute__((format(printf, 3, 4)))
warn_at(struct lc *c, const struct lang_tok *t, const char *fmt, ...)
{
	char msg[400], *line;
	va_list ap;
	int n;

	if (c->n_warnings == LANG_MAX_WARNINGS)
		return;
	if (c->n_warnings == c->cap_warnings) {
		unsigned int cap = c->cap_warnings ? 2 * c->cap_warnings : 8;
		char **w = realloc(c->warnings, cap * sizeof(*w));

		if (!w)
			fail_nomem(c);
		c->warnings = w;
		c->cap_warnings = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = asprintf(&line, "%s:%u:%u: warning: %s", c->fname, t ? t->line : 0,
		     t ? t->col : 0, msg);
	if (n < 0)
		fail_nomem(c);
	c->warnings[c->n_warnings++] = line;
}

void __attribute__((noreturn)) fail_nomem(struct lc *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: error: out of memory", c->fname);
	c->errcode = -ENOMEM;
	longjmp(c->jb, 1);
}

/* "'text'" or "end of line" for "found X" messages. */
const char *tok_desc(struct lc *c, const struct lang_tok *t, char *buf, size_t len)
{
	if (t->kind == T_EOF)
		return "end of file";
	if (t->kind == T_NL)
		return t->off < c->srclen && c->src[t->off] == ';' ? "';'" : "end of line";
	snprintf(buf, len, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), c->src + t->off);
	return buf;
}

void __attribute__((noreturn))
expected(struct lc *c, const struct lang_tok *t, const char *what)
{
	char buf[64];

	fail_at(c, t, "found %s, expected %s", tok_desc(c, t, buf, sizeof(buf)), what);
}

void note_port_use(struct lc *c, __u64 port, const struct lang_tok *t)
{
	if (port >= XFSM_MAX_PORTS || c->nm->port_use[port])
		return;
	if (asprintf(&c->nm->port_use[port], "%s:%u:%u", c->fname, t->line, t->col) < 0) {
		c->nm->port_use[port] = NULL;
		fail_nomem(c);
	}
}
