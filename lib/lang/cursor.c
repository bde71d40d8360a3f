/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The token cursor of the parser: look at, take and expect tokens, and the
 * words a name must not be.
 */
#include <stdio.h>
#include <string.h>

#include "lang.h"

bool accept_kw(struct lc *c, const char *kw)
{
	if (is_kw(c, peek(c), kw)) {
		next(c);
		return true;
	}
	return false;
}

bool accept_tk(struct lc *c, enum lang_tk k)
{
	if (peek(c)->kind == k) {
		next(c);
		return true;
	}
	return false;
}

const struct lang_tok *expect(struct lc *c, enum lang_tk k, const char *what)
{
	if (peek(c)->kind != k)
		expected(c, peek(c), what);
	return next(c);
}

void expect_eol(struct lc *c)
{
	if (peek(c)->kind == T_EOF)
		return;
	if (peek(c)->kind == T_RBRACE && c->in_stage)
		return;	/* `rule x => drop }` */
	expect(c, T_NL, "end of line");
}

void skip_nl(struct lc *c)
{
	while (peek(c)->kind == T_NL)
		next(c);
}

void tok_name(struct lc *c, const struct lang_tok *t, char *out)
{
	if (t->kind != T_IDENT)
		expected(c, t, "a name");
	if (t->len >= XFSM_LANG_NAME_LEN)
		fail_at(c, t, "name '%.*s' is longer than %d characters",
			(int)t->len, c->src + t->off, XFSM_LANG_NAME_LEN - 1);
	if (memchr(c->src + t->off, '.', t->len))
		fail_at(c, t, "name '%.*s' must not contain '.' (dotted names are header fields)",
			(int)t->len, c->src + t->off);
	memcpy(out, c->src + t->off, t->len);
	out[t->len] = 0;
}

static const char *const reserved[] = {
	"app", "default", "define", "global", "port", "stage", "key", "table",
	"miss", "state", "states", "register", "condition", "rule", "priority",
	"when", "not", "goto", "idle", "hard", "drop", "pass", "tx", "output",
	"flood", "set", "dec", "count", "mark", "min", "max", "ewma", "fetch_add", "symmetric",
	"lookup", "update", "continue", "any", "size", "kind", "lru", "hash",
	"and", "acl", "in", "group", "fib",
};

void check_not_reserved(struct lc *c, const struct lang_tok *t)
{
	lang_u128 v;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (tok_eq(c, t, reserved[i]))
			fail_at(c, t, "'%s' is a keyword and cannot be used as a name",
				reserved[i]);
	if (lang_builtin_const(c->src + t->off, t->len, &v))
		fail_at(c, t, "'%.*s' is a predefined constant and cannot be used as a name",
			(int)t->len, c->src + t->off);
	if (t->len >= 3 && (!memcmp(c->src + t->off, "reg", 3) ||
			    (t->len >= 6 && !memcmp(c->src + t->off, "global", 6)))) {
		size_t k = !memcmp(c->src + t->off, "reg", 3) ? 3 : 6;
		bool digits = t->len > k;

		for (size_t i = k; i < t->len; i++)
			if (c->src[t->off + i] < '0' || c->src[t->off + i] > '9')
				digits = false;
		if (digits)
			fail_at(c, t, "'%.*s' names a register and cannot be used as a name",
				(int)t->len, c->src + t->off);
	}
}
