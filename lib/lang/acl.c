/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ACL blocks of the xfsm language: `acl NAME [table N] { miss ...; rule ... }`.
 * Each rule line goes to the ACL parser (lib/acl_parse.c, the syntax of
 * docs/modules.md) with its errors mapped back to the token at fault;
 * goto targets that name stages are resolved in the check pass.  The
 * tables are switched to with the application (xfsm_lang_apply(), apply.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

/* goto targets are stages that may come later: remember the name. */
static int acl_stage_of(const char *name, void *ctx)
{
	struct lc *c = ctx;

	if (strlen(name) >= sizeof(c->acl_goto_name))
		return -ENAMETOOLONG;	/* no stage has such a name */
	strcpy(c->acl_goto_name, name);
	return 0;
}

/* The token of an ACL rule (first..end-1) where offset `off` of its text
 * (acl_rule_text()) falls: where an error of the ACL parser points. */
static const struct lang_tok *acl_rule_tok(const struct lang_tok *first,
					   const struct lang_tok *end, size_t off)
{
	const struct lang_tok *at = first;
	size_t o = 0;

	for (const struct lang_tok *t = first; t < end; t++) {
		if (t > first && t[-1].off + t[-1].len < t->off)
			o++;
		if (o > off)
			break;
		at = t;
		o += t->len;
	}
	return at;
}

/*
 * The text of an ACL rule, tokens first..end-1, for the ACL parser: what
 * separates two tokens (spaces, a '\' continuation, a comment and the line
 * break after a ',') becomes one space; tokens written together (an
 * address and its /LEN) stay together.
 */
static char *acl_rule_text(struct lc *c, const struct lang_tok *first,
			   const struct lang_tok *end)
{
	size_t len = 0, o = 0;
	char *text;

	for (const struct lang_tok *t = first; t < end; t++)
		len += t->len + 1;
	text = malloc(len + 1);
	if (!text)
		fail_nomem(c);
	for (const struct lang_tok *t = first; t < end; t++) {
		if (t > first && t[-1].off + t[-1].len < t->off)
			text[o++] = ' ';
		memcpy(text + o, c->src + t->off, t->len);
		o += t->len;
	}
	text[o] = 0;
	return text;
}

/*
 * acl NAME [table N] {
 *     miss allow | deny | pass
 *     rule RULE TEXT           (the ACL rule syntax of docs/modules.md)
 * }
 */
void parse_acl(struct lc *c, const struct lang_tok *kw)
{
	const struct lang_tok *t = next(c);
	struct xfsm_stage_names *sn;
	struct xfsm_stage *st;
	unsigned int s = c->nm->n_stages, table = 0;
	bool have_table = false;

	if (t->kind != T_IDENT)
		expected(c, t, "an ACL name");
	declare_stage(c, kw, t, s);
	sn = &c->nm->stages[s];
	st = &c->st[s].hdr;
	if (peek(c)->kind == T_IDENT && tok_eq(c, peek(c), "table")) {
		const struct lang_tok *n;

		next(c);
		n = next(c);
		if (n->kind != T_NUM || n->unit || n->v >= XFSM_ACL_TABLES)
			expected(c, n, "an ACL table number 0..7");
		table = (unsigned int)n->v;
		have_table = true;
	}
	if (!have_table) {
		while (table < XFSM_ACL_TABLES && (c->nm->acl_tables & (1U << table)))
			table++;
		if (table == XFSM_ACL_TABLES)
			fail_at(c, t, "more than %d ACL blocks", XFSM_ACL_TABLES);
	}
	if (c->nm->acl_tables & (1U << table))
		fail_at(c, t, "ACL table %u is used by another ACL block", table);
	c->nm->acl_tables |= 1U << table;
	st->enabled = 1;
	st->kind = XFSM_STAGE_ACL;
	st->acl_table = table;
	st->miss_verdict = XFSM_VERDICT_CONTINUE;
	c->nm->n_stages = s + 1;
	c->st[s].name_tok = t;
	skip_nl(c);
	expect(c, T_LBRACE, "'{'");
	for (;;) {
		const struct lang_tok *k, *first, *end;
		struct xfsm_acl_entry e;
		char *text, msg[200];
		size_t err_off = 0;
		int err;

		skip_nl(c);
		k = peek(c);
		if (k->kind == T_RBRACE)
			break;
		if (k->kind == T_EOF)
			fail_at(c, k, "found end of file, expected '}' to close ACL '%s'", sn->name);
		if (k->kind != T_IDENT || (!tok_eq(c, k, "rule") && !tok_eq(c, k, "miss")))
			expected(c, k, "an ACL statement (miss, rule) or '}'");
		next(c);
		if (tok_eq(c, k, "miss")) {
			const struct lang_tok *v = next(c);

			if (c->st[s].miss_given)
				fail_at(c, k, "ACL '%s' already has a miss verdict", sn->name);
			c->st[s].miss_given = true;

			if (tok_eq(c, v, "allow"))
				st->miss_verdict = XFSM_VERDICT_CONTINUE;
			else if (tok_eq(c, v, "deny"))
				st->miss_verdict = XFSM_VERDICT_DROP;
			else if (tok_eq(c, v, "pass"))
				st->miss_verdict = XFSM_VERDICT_PASS;
			else if (tok_eq(c, v, "drop") || tok_eq(c, v, "continue"))
				/* a stage's words, which an ACL block does not take */
				fail_at(c, v, "'%s' is a stage's miss verdict: an ACL block misses with allow (go on to the next stage), deny (drop) or pass (to the kernel stack); write 'miss %s'",
					tok_eq(c, v, "drop") ? "drop" : "continue",
					tok_eq(c, v, "drop") ? "deny" : "allow");
			else
				expected(c, v, "allow, deny or pass");
			expect_eol(c);
			continue;
		}
		first = peek(c);
		while (peek(c)->kind != T_NL && peek(c)->kind != T_EOF &&
		       peek(c)->kind != T_RBRACE)
			next(c);
		end = peek(c);
		if (first == end)
			expected(c, first, "an ACL rule");
		text = acl_rule_text(c, first, end);
		c->acl_goto_name[0] = 0;
		err = xfsm_acl_parse_rule_at(text, strlen(text), &e, acl_stage_of, c, msg,
					     sizeof(msg), &err_off);
		free(text);
		if (err)
			fail_at(c, acl_rule_tok(first, end, err_off), "ACL rule: %s", msg);
		if (e.action == XFSM_ACL_GOTO && c->acl_goto_name[0]) {
			if (c->n_acl_goto == sizeof(c->acl_goto) / sizeof(c->acl_goto[0]))
				fail_at(c, first, "too many ACL rules with goto");
			c->acl_goto[c->n_acl_goto].stage = s;
			c->acl_goto[c->n_acl_goto].table = table;
			c->acl_goto[c->n_acl_goto].idx = c->nm->acl[table].n;
			c->acl_goto[c->n_acl_goto].tok = first;
			snprintf(c->acl_goto[c->n_acl_goto].name, XFSM_LANG_NAME_LEN, "%s",
				 c->acl_goto_name);
			c->n_acl_goto++;
		}
		err = xfsm_acl_rules_add(&c->nm->acl[table], &e);
		if (err == -EEXIST)
			fail_at(c, first, "ACL rule id %u is used twice", e.rule_id);
		if (err)
			fail_nomem(c);
		if (end->kind == T_NL)
			next(c);
	}
	sn->body_end = peek(c)->off;
	next(c);
	expect_eol(c);
}

void check_acl_gotos(struct lc *c)
{
	for (unsigned int i = 0; i < c->n_acl_goto; i++) {
		unsigned int k;

		for (k = 0; k < c->nm->n_stages; k++)
			if (!strcmp(c->acl_goto[i].name, c->nm->stages[k].name))
				break;
		if (k == c->nm->n_stages)
			fail_at(c, c->acl_goto[i].tok, "unknown stage '%s'", c->acl_goto[i].name);
		if (k <= c->acl_goto[i].stage)
			fail_at(c, c->acl_goto[i].tok,
				"goto stage '%s' jumps backwards from ACL '%s': only later stages",
				c->acl_goto[i].name, c->nm->stages[c->acl_goto[i].stage].name);
		c->nm->acl[c->acl_goto[i].table].r[c->acl_goto[i].idx].arg = k;
	}
	/* numeric goto targets must be later stages too */
	for (unsigned int s = 0; s < c->nm->n_stages; s++) {
		const struct xfsm_stage *st = &c->st[s].hdr;
		const struct xfsm_acl_rules *rs;

		if (st->kind != XFSM_STAGE_ACL)
			continue;
		rs = &c->nm->acl[st->acl_table];
		for (size_t i = 0; i < rs->n; i++)
			if (rs->r[i].action == XFSM_ACL_GOTO &&
			    (rs->r[i].arg <= s || rs->r[i].arg >= c->nm->n_stages))
				fail_at(c, c->st[s].name_tok,
					"ACL '%s' rule %u: goto stage %u is not a later stage",
					c->nm->stages[s].name, rs->r[i].rule_id, rs->r[i].arg);
	}
}
