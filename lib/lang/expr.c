/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Expressions of the xfsm language: constants, operands and arithmetic,
 * folded at compile time whenever both sides are constants (exactly, in
 * 128 bits: what does not fit is an error, never wrapped).
 */
#include <stdio.h>
#include <string.h>

#include "lang.h"

static struct ex *new_ex(struct lc *c, enum ex_kind k, const struct lang_tok *loc)
{
	struct ex *e;

	if (c->npool == MAX_EXPR_NODES)
		fail_at(c, loc, "expression too long");
	e = &c->pool[c->npool++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->loc = loc;
	return e;
}

static struct ex *opnd_ex(struct lc *c, const struct lang_tok *t, struct xfsm_operand o)
{
	struct ex *e = new_ex(c, EX_OPND, t);

	e->o = o;
	return e;
}

/* The C operators '&&' and '||', written where a value was expected:
 * say what the language has instead. */
static void doubled_operator(struct lc *c, const struct lang_tok *t)
{
	const struct lang_tok *first = t - 1;

	if ((t->kind != T_AMP && t->kind != T_PIPE) || t == c->t || first->kind != t->kind ||
	    first->off + 1 != t->off)
		return;
	if (t->kind == T_AMP)
		fail_at(c, first, "'&&' is not an operator: a condition is one comparison; to require several, list them in the rule (when A, B)");
	fail_at(c, first, "'||' is not an operator: for one of several values match a set (FIELD in {A, B}); for one of several conditions write one rule each");
}

struct ex *parse_primary(struct lc *c)
{
	const struct lang_tok *t = peek(c);
	struct xfsm_operand o;
	struct ex *e;
	lang_u128 v;
	char ib[48];
	long idx;
	int i;

	switch (t->kind) {
	case T_NUM:
	case T_MAC:
	case T_IP4:
	case T_IP6:
		next(c);
		e = new_ex(c, EX_CONST, t);
		e->v = t->v;
		e->unit = t->unit;
		return e;
	case T_LPAREN:
		next(c);
		e = parse_expr(c);
		expect(c, T_RPAREN, "')'");
		return e;
	case T_IDENT:
		break;
	default:
		doubled_operator(c, t);
		expected(c, t, "a value (number, address, field, register or name)");
	}
	next(c);
	if (peek(c)->kind == T_LPAREN &&
	    (tok_eq(c, t, "min") || tok_eq(c, t, "max") || tok_eq(c, t, "ewma") ||
	     tok_eq(c, t, "fetch_add"))) {
		e = new_ex(c, EX_CALL, t);
		e->fn = tok_eq(c, t, "min") ? FN_MIN : tok_eq(c, t, "max") ? FN_MAX :
			tok_eq(c, t, "ewma") ? FN_EWMA : FN_FETCH_ADD;
		next(c);
		e->a = parse_expr(c);
		expect(c, T_COMMA, "','");
		e->b = parse_expr(c);
		if (e->fn == FN_EWMA) {
			expect(c, T_COMMA, "',' and the EWMA weight shift");
			e->c = parse_expr(c);
		}
		expect(c, T_RPAREN, "')'");
		return e;
	}
	if (tok_eq(c, t, "state")) {
		memset(&o, 0, sizeof(o));
		o.kind = XFSM_OPND_STATE;
		return opnd_ex(c, t, o);
	}
	if ((idx = reg_index(c, t, "reg")) >= 0) {
		if (idx >= XFSM_FLOW_REGS)
			fail_at(c, t, "register index %s out of range: flow registers are reg0..reg%d",
				idx_text(c, t, "reg", ib, sizeof(ib)), XFSM_FLOW_REGS - 1);
		return opnd_ex(c, t, xfsm_opnd_flow_reg((unsigned int)idx));
	}
	if ((idx = reg_index(c, t, "global")) >= 0) {
		if (idx >= XFSM_GLOBAL_REGS)
			fail_at(c, t, "register index %s out of range: global registers are global0..global%d",
				idx_text(c, t, "global", ib, sizeof(ib)), XFSM_GLOBAL_REGS - 1);
		return opnd_ex(c, t, xfsm_opnd_global((unsigned int)idx));
	}
	if (tok_eq(c, t, "meta.time"))
		return opnd_ex(c, t, xfsm_opnd_meta(XFSM_META_TIME));
	if (tok_eq(c, t, "meta.ifindex"))
		return opnd_ex(c, t, xfsm_opnd_meta(XFSM_META_IFINDEX));
	if (tok_eq(c, t, "meta.random"))
		return opnd_ex(c, t, xfsm_opnd_meta(XFSM_META_RANDOM));
	if ((i = xfsm_lang_field_find(c->src + t->off, t->len)) >= 0) {
		const struct xfsm_lang_field *f = &lang_field_table[i];

		if (f->nwords > 2)
			fail_at(c, t, "%s is %u bits wide: only fields up to 64 bits can be compared or computed with (match it in a rule instead)",
				f->name, f->bits);
		if (f->word == XFSM_FW_META_PORT)
			c->needs_port = true;
		return opnd_ex(c, t, xfsm_opnd_field(f->word, f->nwords));
	}
	if ((i = find_reg_alias(c, t)) >= 0)
		return opnd_ex(c, t, xfsm_opnd_flow_reg((unsigned int)i));
	if ((i = find_global(c, t)) >= 0)
		return opnd_ex(c, t, xfsm_opnd_global((unsigned int)i));
	{
		struct define *d = find_define(c, t);

		if (d) {
			e = new_ex(c, EX_CONST, t);
			e->v = d->v;
			e->unit = d->unit;
			return e;
		}
	}
	if ((i = find_port(c, t)) >= 0) {
		e = new_ex(c, EX_CONST, t);
		e->v = (lang_u128)i;
		return e;
	}
	if (lang_builtin_const(c->src + t->off, t->len, &v)) {
		e = new_ex(c, EX_CONST, t);
		e->v = v;
		return e;
	}
	if (memchr(c->src + t->off, '.', t->len))
		lang_fail_unknown_field(c, t, false);
	fail_at(c, t, "unknown name '%.*s'", (int)t->len, c->src + t->off);
}

static struct ex *fold(struct lc *c, struct ex *e);

struct ex *mk_bin(struct lc *c, const struct lang_tok *op, struct ex *a, struct ex *b)
{
	struct ex *e = new_ex(c, EX_BIN, op);

	e->op = op->kind;
	e->a = a;
	e->b = b;
	return fold(c, e);
}

static struct ex *parse_term(struct lc *c)
{
	struct ex *e = parse_primary(c);

	for (;;) {
		enum lang_tk k = peek(c)->kind;

		if (k != T_STAR && k != T_SLASH && k != T_PERCENT && k != T_AMP &&
		    k != T_SHL && k != T_SHR)
			return e;
		const struct lang_tok *op = next(c);

		e = mk_bin(c, op, e, parse_primary(c));
	}
}

struct ex *parse_expr(struct lc *c)
{
	struct ex *e;

	/* parentheses and calls recurse: bound them before the stack is */
	if (++c->depth > LANG_MAX_NESTING)
		fail_at(c, &c->t[c->p - 1], "expression nested more than %d levels deep",
			LANG_MAX_NESTING);
	e = parse_term(c);
	for (;;) {
		enum lang_tk k = peek(c)->kind;

		if (k != T_PLUS && k != T_MINUS && k != T_PIPE && k != T_CARET)
			break;
		const struct lang_tok *op = next(c);

		e = mk_bin(c, op, e, parse_term(c));
	}
	c->depth--;
	return e;
}

/* Fold a binary node whose operands are both constants. */
static struct ex *fold(struct lc *c, struct ex *e)
{
	lang_u128 a, b, r;

	if (e->kind != EX_BIN || e->a->kind != EX_CONST || e->b->kind != EX_CONST)
		return e;
	a = e->a->v;
	b = e->b->v;
	if ((e->op == T_PLUS || e->op == T_MINUS) && e->a->unit && e->b->unit &&
	    e->a->unit != e->b->unit)
		fail_at(c, e->loc, "cannot %s a %s %s a %s: both sides of '%c' need the same unit kind",
			e->op == T_PLUS ? "add" : "subtract", unit_kind(e->b->unit),
			e->op == T_PLUS ? "to" : "from", unit_kind(e->a->unit),
			e->op == T_PLUS ? '+' : '-');
	switch (e->op) {
	case T_PLUS:
		if (xfsm_u128_add(a, b, &r))
			goto overflow;
		break;
	case T_MINUS:
		if (b > a)
			fail_at(c, e->loc, "constant expression is negative");
		r = a - b;
		break;
	case T_STAR:
		if (xfsm_u128_mul(a, b, &r))
			goto overflow;
		break;
	case T_SLASH:
		if (!b)
			fail_at(c, e->loc, "division by zero in a constant expression");
		r = a / b;
		break;
	case T_PERCENT:
		if (!b)
			fail_at(c, e->loc, "division by zero in a constant expression");
		r = a % b;
		break;
	case T_AMP: r = a & b; break;
	case T_PIPE: r = a | b; break;
	case T_CARET: r = a ^ b; break;
	case T_SHL:
		if (xfsm_u128_shl(a, b, &r))
			goto overflow;
		break;
	case T_SHR: r = b >= 128 ? 0 : a >> b; break;
	default: return e;
	}
	e->kind = EX_CONST;
	e->v = r;
	e->unit = e->a->unit ? e->a->unit : e->b->unit;
	if (e->op == T_SLASH && e->a->unit && e->a->unit == e->b->unit)
		e->unit = U_NONE;	/* time / time */
	return e;
overflow:
	fail_at(c, e->loc, "constant expression overflows: the result does not fit in 128 bits");
}

lang_u128 parse_const(struct lc *c, const char *what, enum lang_unit *unit,
			     const struct lang_tok **loc)
{
	const struct lang_tok *t = peek(c);
	struct ex *e;

	c->npool = 0;
	e = parse_expr(c);
	if (e->kind != EX_CONST)
		fail_at(c, t, "expected %s, found a value known only at run time", what);
	if (unit)
		*unit = e->unit;
	if (loc)
		*loc = t;
	return e->v;
}

const char *unit_kind(enum lang_unit u)
{
	return u == U_TIME ? "duration" : u == U_BYTES ? "size" : "rate";
}

/* A constant that counts something (a port, a priority, a length): a
 * plain number, without a unit. */
__u64 parse_u64(struct lc *c, const char *what, __u64 max)
{
	const struct lang_tok *t = peek(c);
	enum lang_unit u;
	lang_u128 v = parse_const(c, what, &u, NULL);

	if (u != U_NONE)
		fail_at(c, t, "%s is a plain number, not a %s", what, unit_kind(u));

	if (v > max) {
		char buf[48];

		fail_at(c, t, "%s %s is out of range (at most %llu)", what,
			xfsm_u128_str(v, buf, sizeof(buf)), (unsigned long long)max);
	}
	return (__u64)v;
}

struct xfsm_operand leaf_operand(struct lc *c, struct ex *e, const char *ctx)
{
	if (e->kind == EX_CONST) {
		if (e->v >> 64)
			fail_at(c, e->loc, "constant does not fit in 64 bits");
		return xfsm_opnd_const((__u64)e->v);
	}
	if (e->kind == EX_OPND)
		return e->o;
	if (e->kind == EX_CALL && e->fn == FN_FETCH_ADD)
		fail_at(c, e->loc, "fetch_add() is a whole update of its own: write 'REG = fetch_add(GLOBAL, N)' (then compute with REG in another update)");
	fail_at(c, e->loc, "%s: an operand here is a constant, field, register or metadata, not an expression",
		ctx);
}
