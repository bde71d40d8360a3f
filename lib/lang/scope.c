/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Names in scope: states, conditions and register aliases of the stage
 * being parsed; defines, ports and globals of the file.  A name must be
 * declared before it is used, so the parser resolves names as it goes.
 */
#include <stdio.h>
#include <string.h>

#include "lang.h"

struct xfsm_stage_names *cur_names(struct lc *c)
{
	return &c->nm->stages[c->cur];
}

int find_state(struct lc *c, const struct lang_tok *t)
{
	struct xfsm_stage_names *sn = cur_names(c);

	for (unsigned int i = 0; i < sn->n_states; i++)
		if (tok_eq(c, t, sn->states[i]))
			return (int)i;
	return -1;
}

int find_cond(struct lc *c, const struct lang_tok *t)
{
	struct xfsm_stage_names *sn = cur_names(c);
	unsigned int n = c->st[c->cur].hdr.n_conds;

	for (unsigned int i = 0; i < n; i++)
		if (tok_eq(c, t, sn->conds[i]))
			return (int)i;
	return -1;
}

struct define *find_define(struct lc *c, const struct lang_tok *t)
{
	for (unsigned int i = 0; i < c->ndefs; i++)
		if (tok_eq(c, t, c->defs[i].name))
			return &c->defs[i];
	return NULL;
}

int find_port(struct lc *c, const struct lang_tok *t)
{
	for (int i = 1; i < XFSM_MAX_PORTS; i++)
		if (c->nm->ports[i][0] && tok_eq(c, t, c->nm->ports[i]))
			return i;
	return -1;
}

int find_group(struct lc *c, const struct lang_tok *t)
{
	for (int i = 0; i < XFSM_MAX_GROUPS; i++)
		if ((c->nm->groups_declared & (1ULL << i)) && tok_eq(c, t, c->nm->groups[i].name))
			return i;
	return -1;
}

int find_global(struct lc *c, const struct lang_tok *t)
{
	for (int i = 0; i < XFSM_GLOBAL_REGS; i++)
		if (c->nm->globals[i][0] && tok_eq(c, t, c->nm->globals[i]))
			return i;
	return -1;
}

int find_reg_alias(struct lc *c, const struct lang_tok *t)
{
	if (!c->in_stage)
		return -1;
	for (int i = 0; i < XFSM_FLOW_REGS; i++)
		if (cur_names(c)->regs[i][0] && tok_eq(c, t, cur_names(c)->regs[i]))
			return i;
	return -1;
}

/* regN / globalN: returns the index, -1 when the name is not of that form. */
long reg_index(struct lc *c, const struct lang_tok *t, const char *prefix)
{
	size_t k = strlen(prefix);
	long v = 0;

	if (t->kind != T_IDENT || t->len <= k || memcmp(c->src + t->off, prefix, k))
		return -1;
	for (size_t i = k; i < t->len; i++) {
		char ch = c->src[t->off + i];

		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
		if (v > 100000)
			v = 100000;
	}
	return v;
}

/* The index as written, for messages: reg_index() saturates. */
const char *idx_text(struct lc *c, const struct lang_tok *t, const char *prefix,
			    char *buf, size_t len)
{
	size_t k = strlen(prefix);

	if (t->kind == T_NUM)
		return xfsm_u128_str(t->v, buf, len);
	snprintf(buf, len, "%.*s", (int)(t->len - k > 40 ? 40 : t->len - k), c->src + t->off + k);
	return buf;
}

void name_in_use(struct lc *c, const struct lang_tok *t)
{
	check_not_reserved(c, t);
	if (xfsm_lang_field_find(c->src + t->off, t->len) >= 0)
		fail_at(c, t, "'%.*s' is a header field", (int)t->len, c->src + t->off);
	if (find_define(c, t) || find_port(c, t) >= 0 || find_global(c, t) >= 0 ||
	    find_group(c, t) >= 0)
		fail_at(c, t, "'%.*s' is already defined", (int)t->len, c->src + t->off);
	if (c->in_stage && (find_state(c, t) >= 0 || find_cond(c, t) >= 0 ||
			    find_reg_alias(c, t) >= 0))
		fail_at(c, t, "'%.*s' is already defined in stage '%s'",
			(int)t->len, c->src + t->off, cur_names(c)->name);
}
