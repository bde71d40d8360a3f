/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Parser, semantic checks and code generation of the xfsm language
 * (docs/language.md).  One recursive-descent pass builds stages, their
 * conditions and their rules; each stage's rules are encoded when the stage
 * closes (the match words are the union of what its rules match on), and
 * cross-stage references (goto stage) are resolved at the end.  The first
 * error stops compilation (longjmp back to the entry point, which frees
 * everything).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "lang_internal.h"
#include "apply_internal.h"
#include "xfsm_appsrc.h"
#include "xfsm_file.h"
#include "xfsm_num.h"

#define MAX_EXPR_NODES	128
#define LANG_MAX_NESTING 64	/* parentheses and calls in one expression */
#define MAX_RULE_MATCHES 16
#define RULE_POS_BITS	12	/* position within a priority group */
#define MAX_PRIORITY	((1U << (32 - RULE_POS_BITS)) - 1)

enum ex_kind { EX_CONST, EX_OPND, EX_BIN, EX_CALL };
enum ex_fn { FN_MIN, FN_MAX, FN_EWMA };

struct ex {
	enum ex_kind kind;
	enum lang_tk op;	/* EX_BIN */
	enum ex_fn fn;		/* EX_CALL */
	const struct lang_tok *loc;
	lang_u128 v;		/* EX_CONST */
	enum lang_unit unit;
	struct xfsm_operand o;	/* EX_OPND */
	struct ex *a, *b, *c;
};

struct pmatch {
	int field;
	const struct lang_tok *loc;
	bool range;
	lang_u128 val, mask;	/* exact/masked/prefix */
	lang_u128 lo, hi;	/* range */
};

struct pgoto {
	const struct lang_tok *name;
	unsigned int act;
};

struct prule {
	const struct lang_tok *name_tok;
	const struct lang_tok *first;
	char	name[XFSM_LANG_NAME_LEN];
	__u32	prio;
	bool	has_state;
	__u32	state;
	const struct lang_tok *state_tok;
	__u32	conds, cond_mask;
	struct pmatch m[MAX_RULE_MATCHES];
	unsigned int nm;
	struct xfsm_rule r;
	struct pgoto gotos[XFSM_MAX_ACTIONS];
	unsigned int ngotos;
	size_t	src_start, src_end;
};

struct pstage {
	const struct lang_tok *name_tok;
	struct prule *rules;
	size_t	nrules, caprules;
	size_t	*name_slot;	/* open-addressed index of rule names: i + 1 */
	size_t	name_cap;	/* a power of two, at least 2 * nrules */
	__u32	*entered;	/* states a rule moves a flow into, any number */
	size_t	n_entered, cap_entered;
	unsigned int next_state;	/* for `states a, b, c` */
	bool	has_lookup, has_update, has_key;
};

struct define {
	char	name[XFSM_LANG_NAME_LEN];
	lang_u128 v;
	enum lang_unit unit;
};

struct lc {
	const char *fname;
	const char *src;
	size_t	srclen;
	struct lang_tok *t;
	size_t	nt, p;
	jmp_buf	jb;
	char	*err;
	size_t	errlen;
	int	errcode;
	struct xfsm_image *img;
	struct xfsm_app_names *nm;
	struct define defs[XFSM_LANG_MAX_DEFINES];
	unsigned int ndefs;
	struct pstage st[XFSM_MAX_STAGES];
	size_t	*group_pos;	/* encode_stage scratch, freed on any exit */
	unsigned int cur;	/* stage being parsed */
	bool	in_stage;
	__u32	next_rule_id;
	struct ex pool[MAX_EXPR_NODES];
	unsigned int npool;
	unsigned int depth;	/* of parse_expr() calls */
	bool	needs_port;
	void	*pending_free;	/* freed if an error longjmps out */
	/* ACL rules whose goto names a stage, resolved after parsing. */
	struct {
		unsigned int stage, table;
		size_t	idx;
		const struct lang_tok *tok;
		char	name[XFSM_LANG_NAME_LEN];
	} acl_goto[256];
	unsigned int n_acl_goto;
	char	acl_goto_name[XFSM_LANG_NAME_LEN];	/* set by acl_stage_of() */
};

static const struct xfsm_lang_field field_table[] = {
#define X(n, w, nw, b) { n, w, nw, b },
	XFSM_FIELD_LIST(X)
#undef X
};
#define N_FIELDS (sizeof(field_table) / sizeof(field_table[0]))

const struct xfsm_lang_field *xfsm_lang_fields(unsigned int *n)
{
	if (n)
		*n = N_FIELDS;
	return field_table;
}

int xfsm_lang_field_find(const char *name, size_t len)
{
	for (unsigned int i = 0; i < N_FIELDS; i++)
		if (strlen(field_table[i].name) == len &&
		    !memcmp(field_table[i].name, name, len))
			return (int)i;
	return -1;
}

/* ---- errors ---------------------------------------------------------------- */

static void __attribute__((noreturn, format(printf, 3, 4)))
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

static void __attribute__((noreturn)) fail_nomem(struct lc *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: error: out of memory", c->fname);
	c->errcode = -ENOMEM;
	longjmp(c->jb, 1);
}

/* "'text'" or "end of line" for "found X" messages. */
static const char *tok_desc(struct lc *c, const struct lang_tok *t, char *buf, size_t len)
{
	if (t->kind == T_EOF)
		return "end of file";
	if (t->kind == T_NL)
		return t->off < c->srclen && c->src[t->off] == ';' ? "';'" : "end of line";
	snprintf(buf, len, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), c->src + t->off);
	return buf;
}

static void __attribute__((noreturn))
expected(struct lc *c, const struct lang_tok *t, const char *what)
{
	char buf[64];

	fail_at(c, t, "found %s, expected %s", tok_desc(c, t, buf, sizeof(buf)), what);
}

/* ---- token helpers --------------------------------------------------------- */

static const struct lang_tok *peek(struct lc *c)
{
	return &c->t[c->p];
}

static const struct lang_tok *next(struct lc *c)
{
	const struct lang_tok *t = &c->t[c->p];

	if (t->kind != T_EOF)
		c->p++;
	return t;
}

static bool is_kw(struct lc *c, const struct lang_tok *t, const char *kw)
{
	return t->kind == T_IDENT && t->len == strlen(kw) &&
	       !memcmp(c->src + t->off, kw, t->len);
}

static bool accept_kw(struct lc *c, const char *kw)
{
	if (is_kw(c, peek(c), kw)) {
		next(c);
		return true;
	}
	return false;
}

static bool accept(struct lc *c, enum lang_tk k)
{
	if (peek(c)->kind == k) {
		next(c);
		return true;
	}
	return false;
}

static const struct lang_tok *expect(struct lc *c, enum lang_tk k, const char *what)
{
	if (peek(c)->kind != k)
		expected(c, peek(c), what);
	return next(c);
}

static void expect_eol(struct lc *c)
{
	if (peek(c)->kind == T_EOF)
		return;
	if (peek(c)->kind == T_RBRACE && c->in_stage)
		return;	/* `rule x => drop }` */
	expect(c, T_NL, "end of line");
}

static void skip_nl(struct lc *c)
{
	while (peek(c)->kind == T_NL)
		next(c);
}

static bool tok_eq(struct lc *c, const struct lang_tok *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(c->src + t->off, s, t->len);
}

static void tok_name(struct lc *c, const struct lang_tok *t, char *out)
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

static const char *reserved[] = {
	"app", "default", "define", "global", "port", "stage", "key", "table",
	"miss", "state", "states", "register", "condition", "rule", "priority",
	"when", "not", "goto", "idle", "hard", "drop", "pass", "tx", "output",
	"flood", "set", "dec", "count", "mark", "min", "max", "ewma", "symmetric",
	"lookup", "update", "continue", "any", "size", "kind", "lru", "hash",
	"and", "acl", "group",
};

static void check_not_reserved(struct lc *c, const struct lang_tok *t)
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

/* ---- name lookups ------------------------------------------------------------ */

static struct xfsm_stage_names *cur_names(struct lc *c)
{
	return &c->nm->stages[c->cur];
}

static int find_state(struct lc *c, const struct lang_tok *t)
{
	struct xfsm_stage_names *sn = cur_names(c);

	for (unsigned int i = 0; i < sn->n_states; i++)
		if (tok_eq(c, t, sn->states[i]))
			return (int)i;
	return -1;
}

static int find_cond(struct lc *c, const struct lang_tok *t)
{
	struct xfsm_stage_names *sn = cur_names(c);
	unsigned int n = c->img->app.stages[c->cur].n_conds;

	for (unsigned int i = 0; i < n; i++)
		if (tok_eq(c, t, sn->conds[i]))
			return (int)i;
	return -1;
}

static struct define *find_define(struct lc *c, const struct lang_tok *t)
{
	for (unsigned int i = 0; i < c->ndefs; i++)
		if (tok_eq(c, t, c->defs[i].name))
			return &c->defs[i];
	return NULL;
}

static int find_port(struct lc *c, const struct lang_tok *t)
{
	for (int i = 1; i < XFSM_MAX_PORTS; i++)
		if (c->nm->ports[i][0] && tok_eq(c, t, c->nm->ports[i]))
			return i;
	return -1;
}

static int find_group(struct lc *c, const struct lang_tok *t)
{
	for (int i = 0; i < XFSM_MAX_GROUPS; i++)
		if ((c->nm->groups_declared & (1ULL << i)) && tok_eq(c, t, c->nm->groups[i].name))
			return i;
	return -1;
}

static int find_global(struct lc *c, const struct lang_tok *t)
{
	for (int i = 0; i < XFSM_GLOBAL_REGS; i++)
		if (c->nm->globals[i][0] && tok_eq(c, t, c->nm->globals[i]))
			return i;
	return -1;
}

static int find_reg_alias(struct lc *c, const struct lang_tok *t)
{
	if (!c->in_stage)
		return -1;
	for (int i = 0; i < XFSM_FLOW_REGS; i++)
		if (cur_names(c)->regs[i][0] && tok_eq(c, t, cur_names(c)->regs[i]))
			return i;
	return -1;
}

/* regN / globalN: returns the index, -1 when the name is not of that form. */
static long reg_index(struct lc *c, const struct lang_tok *t, const char *prefix)
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
static const char *idx_text(struct lc *c, const struct lang_tok *t, const char *prefix,
			    char *buf, size_t len)
{
	size_t k = strlen(prefix);

	if (t->kind == T_NUM)
		return xfsm_u128_str(t->v, buf, len);
	snprintf(buf, len, "%.*s", (int)(t->len - k > 40 ? 40 : t->len - k), c->src + t->off + k);
	return buf;
}

static void name_in_use(struct lc *c, const struct lang_tok *t)
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

/* ---- expressions ------------------------------------------------------------- */

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

static struct ex *parse_expr(struct lc *c);

static struct ex *opnd_ex(struct lc *c, const struct lang_tok *t, struct xfsm_operand o)
{
	struct ex *e = new_ex(c, EX_OPND, t);

	e->o = o;
	return e;
}

static struct ex *parse_primary(struct lc *c)
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
		expected(c, t, "a value (number, address, field, register or name)");
	}
	next(c);
	if (peek(c)->kind == T_LPAREN &&
	    (tok_eq(c, t, "min") || tok_eq(c, t, "max") || tok_eq(c, t, "ewma"))) {
		e = new_ex(c, EX_CALL, t);
		e->fn = tok_eq(c, t, "min") ? FN_MIN : tok_eq(c, t, "max") ? FN_MAX : FN_EWMA;
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
		const struct xfsm_lang_field *f = &field_table[i];

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
		fail_at(c, t, "unknown field '%.*s'", (int)t->len, c->src + t->off);
	fail_at(c, t, "unknown name '%.*s'", (int)t->len, c->src + t->off);
}

static struct ex *fold(struct lc *c, struct ex *e);

static struct ex *mk_bin(struct lc *c, const struct lang_tok *op, struct ex *a, struct ex *b)
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

static struct ex *parse_expr(struct lc *c)
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

static lang_u128 parse_const(struct lc *c, const char *what, enum lang_unit *unit,
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

static const char *unit_kind(enum lang_unit u)
{
	return u == U_TIME ? "duration" : u == U_BYTES ? "size" : "rate";
}

/* A constant that counts something (a port, a priority, a length): a
 * plain number, without a unit. */
static __u64 parse_u64(struct lc *c, const char *what, __u64 max)
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

static struct xfsm_operand leaf_operand(struct lc *c, struct ex *e, const char *ctx)
{
	if (e->kind == EX_CONST) {
		if (e->v >> 64)
			fail_at(c, e->loc, "constant does not fit in 64 bits");
		return xfsm_opnd_const((__u64)e->v);
	}
	if (e->kind == EX_OPND)
		return e->o;
	fail_at(c, e->loc, "%s: an operand here is a constant, field, register or metadata, not an expression",
		ctx);
}

/* ---- top-level declarations ---------------------------------------------------- */

static enum xfsm_verdict parse_verdict(struct lc *c, bool allow_continue)
{
	const struct lang_tok *t = peek(c);

	if (accept_kw(c, "pass"))
		return XFSM_VERDICT_PASS;
	if (accept_kw(c, "drop"))
		return XFSM_VERDICT_DROP;
	if (accept_kw(c, "tx"))
		return XFSM_VERDICT_TX;
	if (allow_continue && accept_kw(c, "continue"))
		return XFSM_VERDICT_CONTINUE;
	expected(c, t, allow_continue ? "a verdict (continue, pass, drop or tx)" :
		 "a verdict (pass, drop or tx)");
}

static void parse_define(struct lc *c)
{
	const struct lang_tok *t = next(c);
	struct define *d;

	if (t->kind != T_IDENT)
		expected(c, t, "a name");
	name_in_use(c, t);
	if (c->ndefs == XFSM_LANG_MAX_DEFINES)
		fail_at(c, t, "more than %d defines", XFSM_LANG_MAX_DEFINES);
	d = &c->defs[c->ndefs];
	tok_name(c, t, d->name);
	expect(c, T_ASSIGN, "'='");
	d->v = parse_const(c, "a constant", &d->unit, NULL);
	c->ndefs++;
	expect_eol(c);
}

static void parse_global(struct lc *c)
{
	const struct lang_tok *t = peek(c);
	long idx = reg_index(c, t, "global");
	char ib[48];

	if (idx >= 0) {
		next(c);
	} else if (t->kind == T_NUM && !t->unit) {
		next(c);
		idx = t->v > 100000 ? 100000 : (long)t->v;
	} else {
		expected(c, t, "a global register index (0..7)");
	}
	if (idx >= XFSM_GLOBAL_REGS)
		fail_at(c, t, "register index %s out of range: global registers are 0..%d",
			idx_text(c, t, "global", ib, sizeof(ib)), XFSM_GLOBAL_REGS - 1);
	if (peek(c)->kind == T_IDENT) {
		const struct lang_tok *n = next(c);

		name_in_use(c, n);
		tok_name(c, n, c->nm->globals[idx]);
	}
	if (accept(c, T_ASSIGN)) {
		const struct lang_tok *vt = peek(c);
		lang_u128 v = parse_const(c, "a constant", NULL, NULL);	/* any unit */

		if (v > ~0ULL) {
			char buf[48];

			fail_at(c, vt, "global value %s is out of range (at most %llu)",
				xfsm_u128_str(v, buf, sizeof(buf)), ~0ULL);
		}
		c->img->globals[idx] = (__u64)v;
		c->img->globals_set |= 1U << idx;
	}
	expect_eol(c);
}

static void parse_port(struct lc *c)
{
	const struct lang_tok *t = next(c), *vt;
	__u64 v;

	if (t->kind != T_IDENT)
		expected(c, t, "a port name");
	name_in_use(c, t);
	expect(c, T_ASSIGN, "'='");
	vt = peek(c);
	v = parse_u64(c, "port number", XFSM_MAX_PORTS - 1);
	if (v == 0)
		fail_at(c, vt, "port number 0 means \"no port\": use 1..%d", XFSM_MAX_PORTS - 1);
	if (c->nm->ports[v][0])
		fail_at(c, vt, "port %llu is already named '%s'", (unsigned long long)v,
			c->nm->ports[v]);
	tok_name(c, t, c->nm->ports[v]);
	expect_eol(c);
}

/*
 * group NAME = N POLICY [PORT [weight W] {, PORT [weight W]}]
 * An output group the application owns: applying it installs the group
 * together with the rules that use it.
 */
static void parse_group(struct lc *c)
{
	const struct lang_tok *t = next(c), *vt, *pt;
	struct xfsm_group_decl *gd;
	struct xfsm_group built;
	int policy = -1, err;
	__u64 id;

	if (t->kind != T_IDENT)
		expected(c, t, "a group name");
	name_in_use(c, t);
	expect(c, T_ASSIGN, "'='");
	vt = peek(c);
	id = parse_u64(c, "group number", XFSM_MAX_GROUPS - 1);
	if (c->nm->groups_declared & (1ULL << id))
		fail_at(c, vt, "group %llu is already declared as '%s'", (unsigned long long)id,
			c->nm->groups[id].name);
	gd = &c->nm->groups[id];
	memset(gd, 0, sizeof(*gd));
	tok_name(c, t, gd->name);
	gd->line = t->line;
	pt = next(c);
	if (pt->kind == T_IDENT && tok_eq(c, pt, "rr") && peek(c)->kind == T_MINUS) {
		const struct lang_tok *m = next(c), *f = next(c);

		/* rr-flow, written as one word */
		if (f->kind == T_IDENT && tok_eq(c, f, "flow") && m->off == pt->off + 2 &&
		    f->off == m->off + 1)
			policy = XFSM_GP_RR_FLOW;
	} else if (pt->kind == T_IDENT) {
		char name[XFSM_LANG_NAME_LEN];

		tok_name(c, pt, name);
		policy = xfsm_group_policy_parse(name);
	}
	if (policy < 0)
		expected(c, pt, "a group policy (rr, rr-flow, weighted, hash, consistent)");
	gd->policy = policy;
	while (peek(c)->kind != T_NL && peek(c)->kind != T_EOF) {
		const struct lang_tok *mt = peek(c);
		__u64 port, w = 1;

		if (gd->n_members == XFSM_GROUP_MAX_MEMBERS)
			fail_at(c, mt, "more than %d members in group '%s'",
				XFSM_GROUP_MAX_MEMBERS, gd->name);
		port = parse_u64(c, "member port", XFSM_MAX_PORTS - 1);
		if (!port)
			fail_at(c, mt, "port number 0 means \"no port\": use 1..%d",
				XFSM_MAX_PORTS - 1);
		for (unsigned int k = 0; k < gd->n_members; k++)
			if (gd->ports[k] == port)
				fail_at(c, mt, "port %llu is a member of group '%s' twice",
					(unsigned long long)port, gd->name);
		if (accept_kw(c, "weight")) {
			const struct lang_tok *wt = peek(c);

			w = parse_u64(c, "weight", 0xffff);
			if (!w)
				fail_at(c, wt, "a member's weight is at least 1");
		}
		gd->ports[gd->n_members] = port;
		gd->weights[gd->n_members++] = w;
		if (!accept(c, T_COMMA))
			break;
	}
	expect_eol(c);
	err = xfsm_group_build(&built, gd->policy, gd->ports, gd->weights, gd->n_members);
	if (err == -E2BIG)
		fail_at(c, t, "the weights of group '%s' add up to more than %d", gd->name,
			XFSM_GROUP_TABLE);
	if (err)
		fail_at(c, t, "group '%s' cannot be built: %s", gd->name, strerror(-err));
	c->nm->groups_declared |= 1ULL << id;
}

/* ---- stage declarations ------------------------------------------------------ */

static int sym_partner(int field)
{
	static const char *pairs[][2] = {
		{ "eth.src", "eth.dst" }, { "ip.src", "ip.dst" },
		{ "ip6.src", "ip6.dst" }, { "l4.sport", "l4.dport" },
		{ "tcp.sport", "tcp.dport" }, { "udp.sport", "udp.dport" },
		{ "arp.spa", "arp.tpa" },
	};
	const char *n = field_table[field].name;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!strcmp(n, pairs[i][0]))
			return xfsm_lang_field_find(pairs[i][1], strlen(pairs[i][1]));
		if (!strcmp(n, pairs[i][1]))
			return xfsm_lang_field_find(pairs[i][0], strlen(pairs[i][0]));
	}
	return field;
}

static unsigned int fill_key_words(const int *fields, unsigned int n, bool rev,
				   __u8 *words)
{
	unsigned int w = 0;

	for (unsigned int i = 0; i < XFSM_KEY_WORDS; i++)
		words[i] = XFSM_FW_ZERO;
	for (unsigned int i = 0; i < n; i++) {
		int f = rev ? sym_partner(fields[i]) : fields[i];

		for (unsigned int k = 0; k < field_table[f].nwords; k++)
			words[w++] = (__u8)(field_table[f].word + k);
	}
	return w;
}

static void parse_key(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage_names *sn = cur_names(c);
	struct pstage *ps = &c->st[c->cur];
	bool lookup = true, update = true;
	int fields[XFSM_KEY_WORDS];
	unsigned int n = 0, words = 0;

	if (accept_kw(c, "lookup"))
		update = false;
	else if (accept_kw(c, "update"))
		lookup = false;
	if ((lookup && ps->has_lookup) || (update && ps->has_update))
		fail_at(c, kw, "stage '%s' already has a %s key", sn->name,
			lookup && update ? "lookup or update" : lookup ? "lookup" : "update");
	do {
		const struct lang_tok *t = next(c);
		int f;

		if (t->kind != T_IDENT)
			expected(c, t, "a header field");
		f = xfsm_lang_field_find(c->src + t->off, t->len);
		if (f < 0)
			fail_at(c, t, "unknown field '%.*s'", (int)t->len, c->src + t->off);
		for (unsigned int i = 0; i < n; i++)
			if (fields[i] == f)
				fail_at(c, t, "field '%s' appears twice in the key",
					field_table[f].name);
		words += field_table[f].nwords;
		if (words > XFSM_KEY_WORDS || n == XFSM_KEY_WORDS)
			fail_at(c, t, "key too long: %u words of 32 bits, the datapath holds %d",
				words, XFSM_KEY_WORDS);
		if (field_table[f].word == XFSM_FW_META_PORT)
			c->needs_port = true;
		fields[n++] = f;
	} while (accept(c, T_COMMA));
	if (accept_kw(c, "symmetric"))
		sn->symmetric = true;
	if (lookup) {
		memcpy(sn->lookup_fields, fields, n * sizeof(int));
		sn->n_lookup_fields = n;
		ps->has_lookup = true;
	}
	if (update) {
		memcpy(sn->update_fields, fields, n * sizeof(int));
		sn->n_update_fields = n;
		ps->has_update = true;
	}
	expect_eol(c);
}

static void parse_table(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage_names *sn = cur_names(c);
	bool any = false;

	for (;;) {
		if (accept_kw(c, "size")) {
			sn->table_size = (__u32)parse_u64(c, "table size", 0xffffffffULL);
		} else if (accept_kw(c, "lru")) {
			sn->table_kind = XFSM_TABLE_LRU;
		} else if (accept_kw(c, "hash")) {
			sn->table_kind = XFSM_TABLE_HASH;
		} else if (peek(c)->kind == T_NUM && !any && tok_eq(c, kw, "size")) {
			sn->table_size = (__u32)parse_u64(c, "table size", 0xffffffffULL);
		} else {
			break;
		}
		any = true;
	}
	if (!any)
		expected(c, peek(c), "'size N', 'lru' or 'hash'");
	expect_eol(c);
}

static void declare_state(struct lc *c, const struct lang_tok *t, bool has_num, __u64 num,
			  const struct lang_tok *numtok)
{
	struct xfsm_stage_names *sn = cur_names(c);
	struct pstage *ps = &c->st[c->cur];

	name_in_use(c, t);
	if (!has_num) {
		while (ps->next_state < XFSM_LANG_MAX_STATES && sn->states[ps->next_state][0])
			ps->next_state++;
		num = ps->next_state;
	}
	if (num >= XFSM_LANG_MAX_STATES)
		fail_at(c, has_num ? numtok : t, "state number %llu out of range: named states are 0..%d",
			(unsigned long long)num, XFSM_LANG_MAX_STATES - 1);
	if (sn->states[num][0])
		fail_at(c, has_num ? numtok : t, "state %llu is already named '%s'",
			(unsigned long long)num, sn->states[num]);
	tok_name(c, t, sn->states[num]);
	if (num + 1 > sn->n_states)
		sn->n_states = (unsigned int)num + 1;
	ps->next_state = (unsigned int)num + 1;
}

static void parse_state_decl(struct lc *c, bool plural)
{
	do {
		const struct lang_tok *t = next(c), *nt = NULL;
		bool has_num = false;
		__u64 num = 0;

		if (t->kind != T_IDENT)
			expected(c, t, "a state name");
		if (accept(c, T_ASSIGN)) {
			nt = peek(c);
			num = parse_u64(c, "state number", XFSM_LANG_MAX_STATES - 1);
			has_num = true;
		}
		declare_state(c, t, has_num, num, nt);
	} while (plural && accept(c, T_COMMA));
	expect_eol(c);
}

static void parse_register(struct lc *c)
{
	const struct lang_tok *t = peek(c), *n;
	long idx = reg_index(c, t, "reg");
	char ib[48];

	if (idx >= 0) {
		next(c);
	} else if (t->kind == T_NUM && !t->unit) {
		next(c);
		idx = t->v > 100000 ? 100000 : (long)t->v;
	} else {
		expected(c, t, "a flow register index (0..3)");
	}
	if (idx >= XFSM_FLOW_REGS)
		fail_at(c, t, "register index %s out of range: flow registers are reg0..reg%d",
			idx_text(c, t, "reg", ib, sizeof(ib)), XFSM_FLOW_REGS - 1);
	n = next(c);
	if (n->kind != T_IDENT)
		expected(c, n, "a register name");
	name_in_use(c, n);
	tok_name(c, n, cur_names(c)->regs[idx]);
	expect_eol(c);
}

static enum xfsm_cmp cmp_of(enum lang_tk k)
{
	switch (k) {
	case T_LT: return XFSM_CMP_LT;
	case T_LE: return XFSM_CMP_LE;
	case T_GT: return XFSM_CMP_GT;
	case T_GE: return XFSM_CMP_GE;
	case T_EQ: return XFSM_CMP_EQ;
	case T_NE: return XFSM_CMP_NE;
	default: return XFSM_CMP_NONE;
	}
}

static void parse_condition(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage *st = &c->img->app.stages[c->cur];
	struct xfsm_stage_names *sn = cur_names(c);
	const struct lang_tok *t = next(c), *op, *start;
	struct xfsm_cond *cd;
	struct ex *a, *b;

	if (t->kind != T_IDENT)
		expected(c, t, "a condition name");
	name_in_use(c, t);
	if (st->n_conds == XFSM_MAX_CONDS)
		fail_at(c, t, "stage '%s' has more than %d conditions", sn->name, XFSM_MAX_CONDS);
	expect(c, T_ASSIGN, "'='");
	start = peek(c);
	c->npool = 0;
	a = parse_expr(c);
	op = peek(c);
	if (cmp_of(op->kind) == XFSM_CMP_NONE)
		expected(c, op, "a comparison (<, <=, >, >=, ==, !=)");
	next(c);
	b = parse_expr(c);
	cd = &st->conds[st->n_conds];
	cd->op = (__u8)cmp_of(op->kind);
	cd->a = leaf_operand(c, a, "condition");
	cd->b = leaf_operand(c, b, "condition");
	tok_name(c, t, sn->conds[st->n_conds]);
	{
		const struct lang_tok *last = &c->t[c->p - 1];
		size_t len = last->off + last->len - start->off;

		sn->cond_text[st->n_conds] = strndup(c->src + start->off, len);
		if (!sn->cond_text[st->n_conds])
			fail_nomem(c);
	}
	st->n_conds++;
	(void)kw;
	expect_eol(c);
}

/* ---- rules ------------------------------------------------------------------- */

static lang_u128 field_max(int f)
{
	unsigned int bits = field_table[f].bits;

	return bits >= 128 ? ~(lang_u128)0 : (((lang_u128)1 << bits) - 1);
}

static lang_u128 parse_mval(struct lc *c, int f, const struct lang_tok **loc)
{
	const struct lang_tok *t = peek(c);
	struct ex *e;
	lang_u128 v;

	c->npool = 0;
	e = parse_primary(c);
	while (peek(c)->kind == T_PIPE) {
		const struct lang_tok *op = next(c);

		e = mk_bin(c, op, e, parse_primary(c));
	}
	if (e->kind != EX_CONST)
		fail_at(c, t, "a rule matches a field against constants; use a condition to compare with '%.*s'",
			(int)t->len, c->src + t->off);
	v = e->v;
	if ((t->kind == T_MAC && field_table[f].bits != 48) ||
	    (t->kind == T_IP6 && field_table[f].bits != 128) ||
	    (t->kind == T_IP4 && field_table[f].bits != 32))
		fail_at(c, t, "%.*s is %s, not a value for %s (%u bits)", (int)t->len,
			c->src + t->off,
			t->kind == T_MAC ? "a MAC address" : t->kind == T_IP4 ?
			"an IPv4 address" : "an IPv6 address",
			field_table[f].name, field_table[f].bits);
	if (v > field_max(f)) {
		char buf[48];

		/* as written when it is one token, else the folded value */
		if (&c->t[c->p - 1] == t)
			snprintf(buf, sizeof(buf), "%.*s", (int)(t->len > 40 ? 40 : t->len),
				 c->src + t->off);
		else
			xfsm_u128_str(v, buf, sizeof(buf));
		fail_at(c, t, "value %s does not fit in %s (%u bits)", buf,
			field_table[f].name, field_table[f].bits);
	}
	if (loc)
		*loc = t;
	return v;
}

static void parse_field_match(struct lc *c, struct prule *r, const struct lang_tok *ft, int f)
{
	struct pmatch *m;
	const struct lang_tok *vt;

	for (unsigned int i = 0; i < r->nm; i++)
		if (r->m[i].field == f)
			fail_at(c, ft, "field '%s' is matched twice in rule '%s'",
				field_table[f].name, r->name);
	if (r->nm == MAX_RULE_MATCHES)
		fail_at(c, ft, "rule '%s' matches more than %d fields", r->name, MAX_RULE_MATCHES);
	m = &r->m[r->nm++];
	memset(m, 0, sizeof(*m));
	m->field = f;
	m->loc = ft;
	m->mask = field_max(f);
	if (field_table[f].word == XFSM_FW_META_PORT)
		c->needs_port = true;
	if (accept(c, T_AMP)) {
		m->mask = parse_mval(c, f, NULL);
		if (accept(c, T_EQ))
			m->val = parse_mval(c, f, &vt);
		else
			m->val = m->mask;
		if (m->val & ~m->mask)
			fail_at(c, ft, "value has bits outside the mask: the rule could never match");
		return;
	}
	if (!accept(c, T_EQ))
		expected(c, peek(c), "'==' or '&' after a field");
	m->val = parse_mval(c, f, &vt);
	if (accept(c, T_SLASH)) {
		const struct lang_tok *lt = peek(c);
		__u64 len = parse_u64(c, "prefix length", field_table[f].bits);
		unsigned int bits = field_table[f].bits;

		m->mask = len == 0 ? 0 : (field_max(f) >> (bits - len)) << (bits - len);
		(void)lt;
		if (m->val & ~m->mask)
			fail_at(c, vt, "prefix has host bits set: %.*s/%llu", (int)vt->len,
				c->src + vt->off, (unsigned long long)len);
	} else if (accept(c, T_MINUS)) {
		const struct lang_tok *ht;

		m->range = true;
		m->lo = m->val;
		m->hi = parse_mval(c, f, &ht);
		if (m->hi < m->lo)
			fail_at(c, ht, "empty range: the upper bound is below the lower bound");
	} else if (accept(c, T_AMP)) {
		m->mask = parse_mval(c, f, NULL);
		m->val &= m->mask;
	}
}

static void parse_matches(struct lc *c, struct prule *r)
{
	struct pstage *ps = &c->st[c->cur];

	if (accept(c, T_STAR) || accept_kw(c, "any"))
		return;
	do {
		const struct lang_tok *t = peek(c);
		bool neg = false;
		int i;

		if (accept(c, T_BANG) || accept_kw(c, "not")) {
			neg = true;
			t = peek(c);
		}
		if (t->kind != T_IDENT)
			expected(c, t, "a match (state NAME, a condition or a header field)");
		if (!neg && tok_eq(c, t, "state")) {
			const struct lang_tok *st;

			next(c);
			st = next(c);
			if (r->has_state)
				fail_at(c, t, "rule '%s' matches the state twice", r->name);
			if (st->kind == T_NUM && !st->unit) {
				if (st->v > 0xffffffffULL)
					fail_at(c, st, "state number out of range");
				r->state = (__u32)st->v;
			} else if (st->kind == T_IDENT) {
				i = find_state(c, st);
				if (i < 0)
					fail_at(c, st, "unknown state '%.*s' in stage '%s'",
						(int)st->len, c->src + st->off, cur_names(c)->name);
				r->state = (__u32)i;
			} else {
				expected(c, st, "a state name");
			}
			r->has_state = true;
			r->state_tok = st;
			continue;
		}
		next(c);
		if ((i = find_cond(c, t)) >= 0) {
			if (r->cond_mask & (1U << i))
				fail_at(c, t, "condition '%s' is used twice in rule '%s'",
					cur_names(c)->conds[i], r->name);
			r->cond_mask |= 1U << i;
			if (!neg)
				r->conds |= 1U << i;
			continue;
		}
		i = xfsm_lang_field_find(c->src + t->off, t->len);
		if (i >= 0 && !neg) {
			parse_field_match(c, r, t, i);
			continue;
		}
		if (i >= 0)
			fail_at(c, t, "'!' negates a condition, not a field");
		if (memchr(c->src + t->off, '.', t->len))
			fail_at(c, t, "unknown field '%.*s'", (int)t->len, c->src + t->off);
		fail_at(c, t, "unknown condition '%.*s' in stage '%s'", (int)t->len,
			c->src + t->off, cur_names(c)->name);
	} while (accept(c, T_COMMA) || accept_kw(c, "and"));
	(void)ps;
}

static __u32 state_ref(struct lc *c, const struct lang_tok *t)
{
	int i;

	if (t->kind == T_NUM && !t->unit) {
		if (t->v > 0xffffffffULL)
			fail_at(c, t, "state number out of range");
		return (__u32)t->v;
	}
	if (t->kind != T_IDENT)
		expected(c, t, "a state name");
	i = find_state(c, t);
	if (i < 0)
		fail_at(c, t, "unknown state '%.*s' in stage '%s'", (int)t->len,
			c->src + t->off, cur_names(c)->name);
	return (__u32)i;
}

static __u32 parse_timeout(struct lc *c, const char *what)
{
	const struct lang_tok *t;
	enum lang_unit u;
	lang_u128 ns = parse_const(c, "a duration", &u, &t);
	__u32 ms;

	if (u != U_TIME)
		fail_at(c, t, "%s timeout needs a time unit (e.g. 10s, 250ms)", what);
	if (xfsm_timeout_ms(ns, &ms))
		fail_at(c, t, "%s timeout is longer than %u ms", what, 0xffffffffU);
	if (ms == 0)
		fail_at(c, t, "%s timeout must be at least 1ms", what);
	return ms;
}

static void mark_entered(struct lc *c, __u32 state)
{
	struct pstage *ps = &c->st[c->cur];

	if (ps->n_entered == ps->cap_entered) {
		size_t nc = ps->cap_entered ? 2 * ps->cap_entered : 16;
		__u32 *ne = realloc(ps->entered, nc * sizeof(*ne));

		if (!ne)
			fail_nomem(c);
		ps->entered = ne;
		ps->cap_entered = nc;
	}
	ps->entered[ps->n_entered++] = state;
}

static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void parse_goto_state(struct lc *c, struct prule *r, const struct lang_tok *kw)
{
	const struct lang_tok *it = NULL, *ht = NULL;
	__u32 s;

	if (r->r.flags & XFSM_RF_SET_STATE)
		fail_at(c, kw, "rule '%s' has two 'goto state'", r->name);
	s = state_ref(c, next(c));
	r->r.flags |= XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
	r->r.next_state = s;
	mark_entered(c, s);
	for (;;) {
		const struct lang_tok *t = peek(c);
		bool idle = is_kw(c, t, "idle");

		if (!idle && !is_kw(c, t, "hard"))
			break;
		next(c);
		if ((idle && it) || (!idle && ht))
			fail_at(c, t, "two %s timeouts", idle ? "idle" : "hard");
		__u32 ms = parse_timeout(c, idle ? "idle" : "hard");
		__u32 rb = 0;

		if (accept(c, T_ARROW))
			rb = state_ref(c, next(c));
		mark_entered(c, rb);
		if (idle) {
			it = t;
			r->r.idle_timeout_ms = ms;
			r->r.idle_rollback = rb;
		} else {
			ht = t;
			r->r.hard_timeout_ms = ms;
			r->r.hard_rollback = rb;
		}
	}
	if (it && ht && r->r.idle_timeout_ms >= r->r.hard_timeout_ms)
		fail_at(c, it, "idle timeout (%u ms) must be shorter than the hard timeout (%u ms): it could never fire",
			r->r.idle_timeout_ms, r->r.hard_timeout_ms);
}

static const char *act_name(__u8 type)
{
	static const char *n[] = {
		[XFSM_ACT_DROP] = "drop", [XFSM_ACT_PASS] = "pass", [XFSM_ACT_TX] = "tx",
		[XFSM_ACT_OUTPUT] = "output", [XFSM_ACT_FLOOD] = "flood",
		[XFSM_ACT_GOTO] = "goto stage", [XFSM_ACT_SET_ETH_SRC] = "set eth.src",
		[XFSM_ACT_SET_ETH_DST] = "set eth.dst", [XFSM_ACT_SET_DSCP] = "set ip.dscp",
		[XFSM_ACT_SET_ECN] = "set ip.ecn", [XFSM_ACT_DEC_TTL] = "dec ttl",
		[XFSM_ACT_COUNT] = "count", [XFSM_ACT_SET_MARK] = "mark",
		[XFSM_ACT_OUTPUT_GROUP] = "output group",
		[XFSM_ACT_OUTPUT_XSK] = "output xsk",
	};
	return type < XFSM_ACT__MAX && n[type] ? n[type] : "?";
}

static bool act_ends(__u8 type)
{
	return type == XFSM_ACT_DROP || type == XFSM_ACT_PASS || type == XFSM_ACT_TX ||
	       type == XFSM_ACT_OUTPUT || type == XFSM_ACT_FLOOD || type == XFSM_ACT_GOTO ||
	       type == XFSM_ACT_OUTPUT_GROUP || type == XFSM_ACT_OUTPUT_XSK;
}

static struct xfsm_action *add_action(struct lc *c, struct prule *r,
				      const struct lang_tok *t, __u8 type)
{
	unsigned int n = 0;

	while (n < XFSM_MAX_ACTIONS && r->r.act[n].type != XFSM_ACT_NONE)
		n++;
	if (n && act_ends(r->r.act[n - 1].type))
		fail_at(c, t, "'%s' comes after '%s', which ends the stage: it would never run",
			act_name(type), act_name(r->r.act[n - 1].type));
	if (n == XFSM_MAX_ACTIONS)
		fail_at(c, t, "rule '%s' has more than %d actions", r->name, XFSM_MAX_ACTIONS);
	r->r.act[n].type = type;
	return &r->r.act[n];
}

static bool opnd_is(const struct xfsm_operand *o, __u8 kind, __u8 index)
{
	return o->kind == kind && o->index == index;
}

static void parse_update(struct lc *c, struct prule *r, const struct lang_tok *dt,
			 __u8 dst_kind, unsigned int dst_idx)
{
	struct xfsm_update *u = NULL;
	struct ex *e;

	for (unsigned int i = 0; i < XFSM_MAX_UPDATES; i++)
		if (r->r.upd[i].op == XFSM_UPD_NONE) {
			u = &r->r.upd[i];
			break;
		}
	if (!u)
		fail_at(c, dt, "rule '%s' has more than %d register updates", r->name,
			XFSM_MAX_UPDATES);
	expect(c, T_ASSIGN, "'='");
	c->npool = 0;
	e = parse_expr(c);
	u->dst_kind = dst_kind;
	u->dst_index = (__u8)dst_idx;
	if (e->kind == EX_CONST || e->kind == EX_OPND) {
		u->op = XFSM_UPD_SET;
		u->a = leaf_operand(c, e, "update");
	} else if (e->kind == EX_BIN) {
		static const struct { enum lang_tk k; __u8 op; } ops[] = {
			{ T_PLUS, XFSM_UPD_ADD }, { T_MINUS, XFSM_UPD_SUB },
			{ T_STAR, XFSM_UPD_MUL }, { T_SLASH, XFSM_UPD_DIV },
			{ T_PERCENT, XFSM_UPD_MOD }, { T_AMP, XFSM_UPD_AND },
			{ T_PIPE, XFSM_UPD_OR }, { T_CARET, XFSM_UPD_XOR },
			{ T_SHL, XFSM_UPD_SHL }, { T_SHR, XFSM_UPD_SHR },
		};
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (ops[i].k == e->op)
				u->op = ops[i].op;
		u->a = leaf_operand(c, e->a, "update (one operation per update: DST = A OP B)");
		u->b = leaf_operand(c, e->b, "update (one operation per update: DST = A OP B)");
	} else {
		u->op = e->fn == FN_MIN ? XFSM_UPD_MIN : e->fn == FN_MAX ? XFSM_UPD_MAX :
			XFSM_UPD_EWMA;
		u->a = leaf_operand(c, e->a, "update");
		u->b = leaf_operand(c, e->b, "update");
		if (e->fn == FN_EWMA) {
			if (e->c->kind != EX_CONST)
				fail_at(c, e->c->loc, "the EWMA weight shift must be a constant");
			if (e->c->v > XFSM_EWMA_MAX_SHIFT)
				fail_at(c, e->c->loc, "EWMA weight shift out of range (0..%d)",
					XFSM_EWMA_MAX_SHIFT);
			u->shift = (__u8)e->c->v;
		}
	}
	r->r.flags |= dst_kind == XFSM_OPND_FLOW_REG ? XFSM_RF_WRITES_FLOW :
		      XFSM_RF_WRITES_GLOBAL;
	/* The datapath runs a rule's flow-register updates before its
	 * global-register updates: refuse what that order would change. */
	if (dst_kind != XFSM_OPND_FLOW_REG)
		return;
	for (struct xfsm_update *e = r->r.upd; e < u; e++) {
		if (e->dst_kind != XFSM_OPND_GLOBAL_REG)
			continue;
		if (opnd_is(&u->a, XFSM_OPND_GLOBAL_REG, e->dst_index) ||
		    opnd_is(&u->b, XFSM_OPND_GLOBAL_REG, e->dst_index) ||
		    opnd_is(&e->a, XFSM_OPND_FLOW_REG, u->dst_index) ||
		    opnd_is(&e->b, XFSM_OPND_FLOW_REG, u->dst_index))
			fail_at(c, dt, "flow-register updates run before global-register updates, and this one depends on an earlier global update (or it on this): write it first");
	}
}

static struct xfsm_operand parse_opnd_value(struct lc *c, __u64 max, const char *what)
{
	const struct lang_tok *t = peek(c);
	struct xfsm_operand o;
	struct ex *e;

	c->npool = 0;
	e = parse_expr(c);
	o = leaf_operand(c, e, what);
	if (o.kind == XFSM_OPND_CONST && o.value > max)
		fail_at(c, t, "%s value %llu is out of range (at most %llu)", what,
			(unsigned long long)o.value, (unsigned long long)max);
	if ((o.kind == XFSM_OPND_FIELD && o.index == XFSM_FW_META_PORT) ||
	    (o.kind == XFSM_OPND_META && o.index == XFSM_META_PORT))
		c->needs_port = true;
	return o;
}

static void parse_effect(struct lc *c, struct prule *r)
{
	const struct lang_tok *t = next(c);
	struct xfsm_action *a;
	char ib[48];
	long idx;
	int i;

	if (t->kind != T_IDENT)
		goto bad;
	if (tok_eq(c, t, "drop")) {
		add_action(c, r, t, XFSM_ACT_DROP);
	} else if (tok_eq(c, t, "pass")) {
		add_action(c, r, t, XFSM_ACT_PASS);
	} else if (tok_eq(c, t, "tx")) {
		add_action(c, r, t, XFSM_ACT_TX);
	} else if (tok_eq(c, t, "flood")) {
		add_action(c, r, t, XFSM_ACT_FLOOD);
	} else if (tok_eq(c, t, "output") && peek(c)->kind == T_IDENT &&
		   tok_eq(c, peek(c), "xsk")) {
		next(c);
		add_action(c, r, t, XFSM_ACT_OUTPUT_XSK);
	} else if (tok_eq(c, t, "output") && peek(c)->kind == T_IDENT &&
		   tok_eq(c, peek(c), "group")) {
		const struct lang_tok *g;

		int gid = -1;

		next(c);
		g = next(c);
		if (g->kind == T_IDENT)
			gid = find_group(c, g);
		else if (g->kind == T_NUM && !g->unit && g->v < XFSM_MAX_GROUPS)
			gid = (int)g->v;
		if (gid < 0)
			expected(c, g, "an output group: a number 0..63 or a declared group's name");
		a = add_action(c, r, t, XFSM_ACT_OUTPUT_GROUP);
		a->arg = (__u16)gid;
	} else if (tok_eq(c, t, "output")) {
		a = add_action(c, r, t, XFSM_ACT_OUTPUT);
		a->opnd = parse_opnd_value(c, XFSM_MAX_PORTS - 1, "output port");
		if (a->opnd.kind == XFSM_OPND_CONST && a->opnd.value == 0)
			fail_at(c, t, "output to port 0 (\"no port\")");
	} else if (tok_eq(c, t, "goto")) {
		if (accept_kw(c, "state")) {
			parse_goto_state(c, r, t);
		} else if (accept_kw(c, "stage")) {
			const struct lang_tok *st = next(c);

			if (st->kind != T_IDENT)
				expected(c, st, "a stage name");
			a = add_action(c, r, t, XFSM_ACT_GOTO);
			r->gotos[r->ngotos].name = st;
			r->gotos[r->ngotos].act = (unsigned int)(a - r->r.act);
			r->ngotos++;
		} else {
			expected(c, peek(c), "'state' or 'stage' after 'goto'");
		}
	} else if (tok_eq(c, t, "set")) {
		const struct lang_tok *ft = next(c);
		__u8 type;
		__u64 max;

		if (tok_eq(c, ft, "eth.src")) {
			type = XFSM_ACT_SET_ETH_SRC;
			max = 0xffffffffffffULL;
		} else if (tok_eq(c, ft, "eth.dst")) {
			type = XFSM_ACT_SET_ETH_DST;
			max = 0xffffffffffffULL;
		} else if (tok_eq(c, ft, "ip.dscp")) {
			type = XFSM_ACT_SET_DSCP;
			max = 63;
		} else if (tok_eq(c, ft, "ip.ecn")) {
			type = XFSM_ACT_SET_ECN;
			max = 3;
		} else if (tok_eq(c, ft, "mark") || tok_eq(c, ft, "meta.mark")) {
			type = XFSM_ACT_SET_MARK;
			max = 0xffffffffULL;
		} else {
			expected(c, ft, "a field that can be set (eth.src, eth.dst, ip.dscp, ip.ecn, meta.mark)");
		}
		a = add_action(c, r, t, type);
		expect(c, T_ASSIGN, "'='");
		a->opnd = parse_opnd_value(c, max, "set");
	} else if (tok_eq(c, t, "mark")) {
		a = add_action(c, r, t, XFSM_ACT_SET_MARK);
		expect(c, T_ASSIGN, "'='");
		a->opnd = parse_opnd_value(c, 0xffffffffULL, "mark");
	} else if (tok_eq(c, t, "dec")) {
		const struct lang_tok *tt = next(c);

		if (!tok_eq(c, tt, "ttl"))
			expected(c, tt, "'ttl' after 'dec'");
		add_action(c, r, t, XFSM_ACT_DEC_TTL);
	} else if (tok_eq(c, t, "count")) {
		const struct lang_tok *nt = next(c);
		unsigned int k;

		if (nt->kind != T_IDENT)
			expected(c, nt, "a counter name");
		for (k = 0; k < c->nm->n_counters; k++)
			if (tok_eq(c, nt, c->nm->counters[k]))
				break;
		if (k == c->nm->n_counters) {
			if (k == XFSM_MAX_COUNTERS)
				fail_at(c, nt, "more than %d counters", XFSM_MAX_COUNTERS);
			tok_name(c, nt, c->nm->counters[k]);
			c->nm->n_counters++;
		}
		a = add_action(c, r, t, XFSM_ACT_COUNT);
		a->arg = (__u16)k;
	} else if ((idx = reg_index(c, t, "reg")) >= 0) {
		if (idx >= XFSM_FLOW_REGS)
			fail_at(c, t, "register index %s out of range: flow registers are reg0..reg%d",
				idx_text(c, t, "reg", ib, sizeof(ib)), XFSM_FLOW_REGS - 1);
		parse_update(c, r, t, XFSM_OPND_FLOW_REG, (unsigned int)idx);
	} else if ((idx = reg_index(c, t, "global")) >= 0) {
		if (idx >= XFSM_GLOBAL_REGS)
			fail_at(c, t, "register index %s out of range: global registers are global0..global%d",
				idx_text(c, t, "global", ib, sizeof(ib)), XFSM_GLOBAL_REGS - 1);
		parse_update(c, r, t, XFSM_OPND_GLOBAL_REG, (unsigned int)idx);
	} else if ((i = find_reg_alias(c, t)) >= 0) {
		parse_update(c, r, t, XFSM_OPND_FLOW_REG, (unsigned int)i);
	} else if ((i = find_global(c, t)) >= 0) {
		parse_update(c, r, t, XFSM_OPND_GLOBAL_REG, (unsigned int)i);
	} else {
		goto bad;
	}
	return;
bad:
	expected(c, t, "an action (drop, pass, tx, output, flood, goto, set, dec ttl, count, mark) or a register update");
}

static size_t name_hash(const char *p, size_t n)
{
	size_t h = 14695981039346656037ULL;	/* FNV-1a */

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

/* The rule of stage `ps` named like token `t`, or NULL: a hash lookup, so
 * that large applications compile in linear time. */
static struct prule *rule_by_name(struct lc *c, struct pstage *ps, const struct lang_tok *t)
{
	size_t mask = ps->name_cap - 1, i;

	if (!ps->name_cap)
		return NULL;
	for (i = name_hash(c->src + t->off, t->len) & mask; ps->name_slot[i]; i = (i + 1) & mask)
		if (tok_eq(c, t, ps->rules[ps->name_slot[i] - 1].name))
			return &ps->rules[ps->name_slot[i] - 1];
	return NULL;
}

static void rule_name_index(struct lc *c, struct pstage *ps, size_t idx)
{
	const char *name = ps->rules[idx].name;
	size_t i, mask;

	if (2 * (ps->nrules + 1) > ps->name_cap) {
		size_t cap = ps->name_cap ? 2 * ps->name_cap : 64;
		size_t *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			fail_nomem(c);
		free(ps->name_slot);
		ps->name_slot = slot;
		ps->name_cap = cap;
		for (size_t k = 0; k < idx; k++) {
			const char *n = ps->rules[k].name;

			for (i = name_hash(n, strlen(n)) & (cap - 1); slot[i]; i = (i + 1) & (cap - 1))
				;
			slot[i] = k + 1;
		}
	}
	mask = ps->name_cap - 1;
	for (i = name_hash(name, strlen(name)) & mask; ps->name_slot[i]; i = (i + 1) & mask)
		;
	ps->name_slot[i] = idx + 1;
}

static void parse_rule(struct lc *c, const struct lang_tok *kw)
{
	struct pstage *ps = &c->st[c->cur];
	const struct lang_tok *t = next(c), *last;
	struct prule *r;
	bool any_effect = false;

	if (t->kind != T_IDENT)
		expected(c, t, "a rule name");
	if (rule_by_name(c, ps, t))
		fail_at(c, t, "rule '%.*s' is already defined in stage '%s'",
			(int)t->len, c->src + t->off, cur_names(c)->name);
	if (ps->nrules == ps->caprules) {
		size_t nc = ps->caprules ? ps->caprules * 2 : 16;
		struct prule *nr = realloc(ps->rules, nc * sizeof(*nr));

		if (!nr)
			fail_nomem(c);
		ps->rules = nr;
		ps->caprules = nc;
	}
	r = &ps->rules[ps->nrules];
	memset(r, 0, sizeof(*r));
	r->name_tok = t;
	r->first = kw;
	tok_name(c, t, r->name);
	rule_name_index(c, ps, ps->nrules);
	ps->nrules++;
	if (accept_kw(c, "priority")) {
		r->prio = (__u32)parse_u64(c, "priority", MAX_PRIORITY);
	}
	if (accept_kw(c, "when")) {
		parse_matches(c, r);
		expect(c, T_FATARROW, "',' or '=>'");
	} else {
		expect(c, T_FATARROW, "'when' or '=>'");
	}
	do {
		parse_effect(c, r);
		any_effect = true;
	} while (accept(c, T_COMMA));
	(void)any_effect;
	last = &c->t[c->p - 1];
	r->src_start = kw->off;
	r->src_end = last->off + last->len;
	expect_eol(c);
}

/* ---- encoding a stage's rules ------------------------------------------------- */

struct mpair {
	lang_u128 v, m;
};

/* Split [lo, hi] of a `bits`-wide field into value/mask prefixes. */
static size_t range_to_prefixes(lang_u128 lo, lang_u128 hi, unsigned int bits,
				struct mpair *out, size_t max)
{
	lang_u128 full = bits >= 128 ? ~(lang_u128)0 : (((lang_u128)1 << bits) - 1);
	size_t n = 0;

	for (;;) {
		unsigned int k = 0;

		/* largest aligned block starting at lo that stays <= hi */
		while (k < bits) {
			lang_u128 size = (lang_u128)1 << (k + 1);

			if (lo & (size - 1))
				break;
			if (lo + (size - 1) > hi || lo + (size - 1) < lo)
				break;
			k++;
		}
		if (n == max)
			return max + 1;
		out[n].v = lo;
		out[n].m = k >= 128 ? 0 : (full & ~(((lang_u128)1 << k) - 1));
		n++;
		if (k >= 128)
			break;
		{
			lang_u128 end = lo + (((lang_u128)1 << k) - 1);

			if (end >= hi)
				break;
			lo = end + 1;
		}
	}
	return n;
}

struct expand_ctx {
	struct lc *c;
	unsigned int stage;
	struct prule *r;
	struct xfsm_rule_match base;
	int pos[MAX_RULE_MATCHES];	/* first match word of each match */
	struct mpair *alts[MAX_RULE_MATCHES];
	size_t nalts[MAX_RULE_MATCHES];
	unsigned int count;
};

static void set_words(struct xfsm_rule_match *m, int pos, int f, lang_u128 v, lang_u128 mask)
{
	unsigned int n = field_table[f].nwords;

	for (unsigned int k = 0; k < n; k++) {
		unsigned int sh = 32 * (n - 1 - k);

		m->match_mask[pos + k] = (__u32)(mask >> sh);
		m->match[pos + k] = (__u32)((v & mask) >> sh);
	}
}

static void emit(struct expand_ctx *x, unsigned int depth, struct xfsm_rule_match *m)
{
	struct lc *c = x->c;
	struct prule *r = x->r;
	int err;

	if (depth == r->nm) {
		if (++x->count > XFSM_LANG_MAX_EXPAND)
			fail_at(c, r->name_tok, "rule '%s' expands into more than %d table entries",
				r->name, XFSM_LANG_MAX_EXPAND);
		r->r.rule_id = c->next_rule_id++;
		err = xfsm_image_add_rule(c->img, x->stage, m, &r->r);
		if (err == -E2BIG)
			fail_at(c, r->name_tok, "stage '%s' needs more than %d tuples (distinct combinations of match masks) at rule '%s'",
				c->nm->stages[x->stage].name, XFSM_MAX_TUPLES, r->name);
		if (err == -EEXIST)
			fail_at(c, r->name_tok, "rule '%s' matches exactly what an earlier rule of stage '%s' matches",
				r->name, c->nm->stages[x->stage].name);
		if (err == -ENOMEM)
			fail_nomem(c);
		if (err)
			fail_at(c, r->name_tok, "rule '%s' cannot be added: %s", r->name,
				strerror(-err));
		return;
	}
	for (size_t i = 0; i < x->nalts[depth]; i++) {
		struct xfsm_rule_match mm = *m;

		set_words(&mm, x->pos[depth], r->m[depth].field, x->alts[depth][i].v,
			  x->alts[depth][i].m);
		emit(x, depth + 1, &mm);
	}
}

/* One line for display: line breaks (and continuations) become one space. */
static void collapse_space(char *s)
{
	char *d = s;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1] == '\n')
			continue;
		if (*p == '\n' || ((*p == ' ' || *p == '\t') && d > s && d[-1] == ' ')) {
			if (d > s && d[-1] != ' ')
				*d++ = ' ';
			continue;
		}
		*d++ = *p == '\t' ? ' ' : *p;
	}
	*d = 0;
}

struct prio_pos {
	__u32	prio;
	size_t	idx;
};

static int prio_pos_cmp(const void *a, const void *b)
{
	const struct prio_pos *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* For each rule, how many earlier rules of the stage share its priority. */
static size_t *rule_group_positions(struct lc *c, const struct pstage *ps)
{
	struct prio_pos *pp = calloc(ps->nrules ? ps->nrules : 1, sizeof(*pp));
	size_t *pos = calloc(ps->nrules ? ps->nrules : 1, sizeof(*pos));

	if (!pp || !pos) {
		free(pp);
		free(pos);
		fail_nomem(c);
	}
	for (size_t i = 0; i < ps->nrules; i++) {
		pp[i].prio = ps->rules[i].prio;
		pp[i].idx = i;
	}
	qsort(pp, ps->nrules, sizeof(*pp), prio_pos_cmp);
	for (size_t i = 0, run = 0; i < ps->nrules; i++) {
		run = (i && pp[i].prio == pp[i - 1].prio) ? run + 1 : 0;
		pos[pp[i].idx] = run;
	}
	free(pp);
	return pos;
}

static void encode_stage(struct lc *c, unsigned int s)
{
	struct pstage *ps = &c->st[s];
	struct xfsm_stage_names *sn = &c->nm->stages[s];
	struct xfsm_stage *st = &c->img->app.stages[s];
	int wordpos[N_FIELDS];
	unsigned int nw = 0;
	size_t pos_in_group = 0;

	for (unsigned int i = 0; i < N_FIELDS; i++)
		wordpos[i] = -1;
	for (unsigned int i = 0; i < XFSM_MATCH_WORDS; i++)
		st->match_words[i] = XFSM_FW_ZERO;
	/* match words: union of matched fields, in order of first use */
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];

		for (unsigned int k = 0; k < r->nm; k++) {
			int f = r->m[k].field;

			if (wordpos[f] >= 0)
				continue;
			if (nw + field_table[f].nwords > XFSM_MATCH_WORDS)
				fail_at(c, r->m[k].loc, "stage '%s' matches on too many fields: %s needs %u more word(s), the datapath matches at most %d words of 32 bits",
					sn->name, field_table[f].name, field_table[f].nwords,
					XFSM_MATCH_WORDS);
			wordpos[f] = (int)nw;
			sn->match_fields[sn->n_match_fields++] = f;
			for (unsigned int w = 0; w < field_table[f].nwords; w++)
				st->match_words[nw++] = (__u8)(field_table[f].word + w);
		}
	}
	/* states matched must be entered somewhere */
	if (ps->n_entered)
		qsort(ps->entered, ps->n_entered, sizeof(*ps->entered), u32_cmp);
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];

		if (r->has_state && r->state != 0 &&
		    !(ps->n_entered && bsearch(&r->state, ps->entered, ps->n_entered,
					       sizeof(*ps->entered), u32_cmp))) {
			char buf[48];

			fail_at(c, r->state_tok, "state '%s' is matched but never entered: no rule of stage '%s' moves a flow into it and it is neither initial nor a rollback state",
				xfsm_lang_state_name(c->nm, s, r->state, buf, sizeof(buf)),
				sn->name);
		}
	}
	free(c->group_pos);
	c->group_pos = rule_group_positions(c, ps);
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];
		struct expand_ctx x;
		struct mpair *buf = NULL;
		size_t cap = 0, used = 0;
		__u32 first_id;

		/* position within its priority group: earlier rules win */
		pos_in_group = c->group_pos[i];
		if (pos_in_group >= (1U << RULE_POS_BITS))
			fail_at(c, r->name_tok, "more than %u rules with priority %u in stage '%s'",
				1U << RULE_POS_BITS, r->prio, sn->name);
		r->r.priority = (r->prio << RULE_POS_BITS) |
				(__u32)((1U << RULE_POS_BITS) - 1 - pos_in_group);
		first_id = c->next_rule_id;

		memset(&x, 0, sizeof(x));
		x.c = c;
		x.stage = s;
		x.r = r;
		if (r->has_state) {
			x.base.state = r->state;
			x.base.state_mask = 0xffffffff;
		}
		x.base.conds = r->conds;
		x.base.cond_mask = r->cond_mask;
		for (unsigned int k = 0; k < r->nm; k++)
			cap += r->m[k].range ? 2 * 128 + 2 : 1;
		buf = calloc(cap ? cap : 1, sizeof(*buf));
		if (!buf)
			fail_nomem(c);
		for (unsigned int k = 0; k < r->nm; k++) {
			struct pmatch *m = &r->m[k];

			x.pos[k] = wordpos[m->field];
			x.alts[k] = buf + used;
			if (m->range) {
				x.nalts[k] = range_to_prefixes(m->lo, m->hi, field_table[m->field].bits,
							       buf + used, cap - used);
			} else {
				buf[used].v = m->val;
				buf[used].m = m->mask;
				x.nalts[k] = 1;
			}
			used += x.nalts[k];
		}
		/* longjmp from emit() must not leak buf: keep it reachable */
		c->pending_free = buf;
		{
			size_t before = c->img->n_rules;
			struct xfsm_rule_names *rn;

			emit(&x, 0, &x.base);
			rn = &c->nm->rules[c->nm->n_rules];
			rn->n_entries = (unsigned int)(c->img->n_rules - before);
		}
		free(buf);
		c->pending_free = NULL;
		{
			struct xfsm_rule_names *rn = &c->nm->rules[c->nm->n_rules++];

			rn->stage = s;
			rn->rule_id = first_id;
			rn->priority = r->prio;
			rn->line = r->first->line;
			snprintf(rn->name, sizeof(rn->name), "%s", r->name);
			rn->src_start = r->src_start;
			rn->src_end = r->src_end;
			rn->text = strndup(c->src + r->src_start, r->src_end - r->src_start);
			if (!rn->text)
				fail_nomem(c);
			collapse_space(rn->text);
		}
	}
}

/* ---- stages ------------------------------------------------------------------ */

static void finish_keys(struct lc *c, unsigned int s)
{
	struct xfsm_stage_names *sn = &c->nm->stages[s];
	struct xfsm_stage *st = &c->img->app.stages[s];
	struct pstage *ps = &c->st[s];

	if (ps->has_lookup && !ps->has_update) {
		memcpy(sn->update_fields, sn->lookup_fields, sizeof(sn->lookup_fields));
		sn->n_update_fields = sn->n_lookup_fields;
	} else if (ps->has_update && !ps->has_lookup) {
		memcpy(sn->lookup_fields, sn->update_fields, sizeof(sn->update_fields));
		sn->n_lookup_fields = sn->n_update_fields;
	}
	fill_key_words(sn->lookup_fields, sn->n_lookup_fields, false, st->lookup_words);
	fill_key_words(sn->update_fields, sn->n_update_fields, false, st->update_words);
	fill_key_words(sn->lookup_fields, sn->n_lookup_fields, sn->symmetric, st->lookup_rev);
	fill_key_words(sn->update_fields, sn->n_update_fields, sn->symmetric, st->update_rev);
	sn->same_keys = sn->n_lookup_fields == sn->n_update_fields &&
			!memcmp(sn->lookup_fields, sn->update_fields,
				sn->n_lookup_fields * sizeof(int));
	st->flags = 0;
	if (sn->symmetric)
		st->flags |= XFSM_SF_SYMMETRIC;
	if (sn->same_keys)
		st->flags |= XFSM_SF_SAME_KEYS;
}

/* Name pipeline slot `s` (a stage or an ACL block) after token `t`. */
static void declare_stage(struct lc *c, const struct lang_tok *kw,
			  const struct lang_tok *t, unsigned int s)
{
	check_not_reserved(c, t);
	for (unsigned int i = 0; i < s; i++)
		if (tok_eq(c, t, c->nm->stages[i].name))
			fail_at(c, t, "stage '%.*s' is already defined", (int)t->len,
				c->src + t->off);
	if (s == XFSM_MAX_STAGES)
		fail_at(c, t, "more than %d stages: the datapath runs at most %d",
			XFSM_MAX_STAGES, XFSM_MAX_STAGES);
	tok_name(c, t, c->nm->stages[s].name);
	c->nm->stages[s].line = kw->line;
}

static void parse_stage(struct lc *c, const struct lang_tok *kw)
{
	const struct lang_tok *t = next(c);
	struct xfsm_stage_names *sn;
	struct xfsm_stage *st;
	unsigned int s = c->nm->n_stages;

	if (t->kind != T_IDENT)
		expected(c, t, "a stage name");
	declare_stage(c, kw, t, s);
	sn = &c->nm->stages[s];
	st = &c->img->app.stages[s];
	st->enabled = 1;
	st->miss_verdict = XFSM_VERDICT_CONTINUE;
	c->nm->n_stages = s + 1;
	c->img->app.n_stages = s + 1;
	c->st[s].name_tok = t;
	c->cur = s;
	c->in_stage = true;
	skip_nl(c);
	expect(c, T_LBRACE, "'{'");
	for (;;) {
		const struct lang_tok *k;

		skip_nl(c);
		k = peek(c);
		if (k->kind == T_RBRACE)
			break;
		if (k->kind == T_EOF)
			fail_at(c, k, "found end of file, expected '}' to close stage '%s'", sn->name);
		if (k->kind != T_IDENT)
			expected(c, k, "a stage statement (key, table, miss, state, states, register, condition, rule) or '}'");
		next(c);
		if (tok_eq(c, k, "key"))
			parse_key(c, k);
		else if (tok_eq(c, k, "table") || tok_eq(c, k, "size"))
			parse_table(c, k);
		else if (tok_eq(c, k, "miss")) {
			st->miss_verdict = (__u8)parse_verdict(c, true);
			expect_eol(c);
		} else if (tok_eq(c, k, "state"))
			parse_state_decl(c, false);
		else if (tok_eq(c, k, "states"))
			parse_state_decl(c, true);
		else if (tok_eq(c, k, "register"))
			parse_register(c);
		else if (tok_eq(c, k, "condition"))
			parse_condition(c, k);
		else if (tok_eq(c, k, "rule"))
			parse_rule(c, k);
		else
			expected(c, k, "a stage statement (key, table, miss, state, states, register, condition, rule) or '}'");
	}
	sn->body_end = peek(c)->off;
	next(c);
	c->in_stage = false;
	finish_keys(c, s);
	expect_eol(c);
}

static void resolve_gotos(struct lc *c)
{
	for (unsigned int s = 0; s < c->nm->n_stages; s++) {
		struct pstage *ps = &c->st[s];

		for (size_t i = 0; i < ps->nrules; i++) {
			struct prule *r = &ps->rules[i];

			for (unsigned int g = 0; g < r->ngotos; g++) {
				const struct lang_tok *t = r->gotos[g].name;
				unsigned int k;

				for (k = 0; k < c->nm->n_stages; k++)
					if (tok_eq(c, t, c->nm->stages[k].name))
						break;
				if (k == c->nm->n_stages)
					fail_at(c, t, "unknown stage '%.*s'", (int)t->len,
						c->src + t->off);
				if (k <= s)
					fail_at(c, t, "goto stage '%s' jumps backwards from stage '%s': a stage can only go to a later stage",
						c->nm->stages[k].name, c->nm->stages[s].name);
				r->r.act[r->gotos[g].act].arg = (__u16)k;
			}
		}
	}
}

/* ---- ACL blocks -------------------------------------------------------------- */

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
static void parse_acl(struct lc *c, const struct lang_tok *kw)
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
	st = &c->img->app.stages[s];
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
	c->img->app.n_stages = s + 1;
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

			if (tok_eq(c, v, "allow") || tok_eq(c, v, "continue"))
				st->miss_verdict = XFSM_VERDICT_CONTINUE;
			else if (tok_eq(c, v, "deny") || tok_eq(c, v, "drop"))
				st->miss_verdict = XFSM_VERDICT_DROP;
			else if (tok_eq(c, v, "pass"))
				st->miss_verdict = XFSM_VERDICT_PASS;
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

static void resolve_acl_gotos(struct lc *c)
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
		const struct xfsm_stage *st = &c->img->app.stages[s];
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

/* ---- Re-applying the running application ------------------------------------------ */

static bool str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* What the compiler made of two sources, compared (both fresh compiles:
 * the same bytes for the same application). */
static bool image_same(const struct xfsm_image *a, const struct xfsm_image *b)
{
	size_t i;

	if (memcmp(&a->app, &b->app, sizeof(a->app)) || a->n_rules != b->n_rules ||
	    a->globals_set != b->globals_set || a->idents.n != b->idents.n)
		return false;
	if (a->n_rules && memcmp(a->rules, b->rules, a->n_rules * sizeof(a->rules[0])))
		return false;
	for (i = 0; i < XFSM_GLOBAL_REGS; i++)
		if ((a->globals_set & (1U << i)) && a->globals[i] != b->globals[i])
			return false;
	for (i = 0; i < a->idents.n; i++) {
		const struct xfsm_stat_ident *x = &a->idents.v[i], *y = &b->idents.v[i];

		if (x->kind != y->kind || x->pos != y->pos || x->n != y->n ||
		    strcmp(x->name, y->name))
			return false;
	}
	return true;
}

/* The names tools show, compared; where they stand in the source (lines,
 * offsets) does not count. */
static bool names_same(const struct xfsm_app_names *a, const struct xfsm_app_names *b)
{
	unsigned int s, i;
	size_t r;

	if (strcmp(a->app, b->app) || a->n_stages != b->n_stages || a->n_rules != b->n_rules ||
	    a->n_counters != b->n_counters || a->acl_tables != b->acl_tables ||
	    a->groups_declared != b->groups_declared ||
	    memcmp(a->ports, b->ports, sizeof(a->ports)) ||
	    memcmp(a->counters, b->counters, sizeof(a->counters)) ||
	    memcmp(a->globals, b->globals, sizeof(a->globals)))
		return false;
	for (s = 0; s < a->n_stages && s < XFSM_MAX_STAGES; s++) {
		const struct xfsm_stage_names *x = &a->stages[s], *y = &b->stages[s];

		if (strcmp(x->name, y->name) || x->n_lookup_fields != y->n_lookup_fields ||
		    x->n_update_fields != y->n_update_fields ||
		    x->n_match_fields != y->n_match_fields ||
		    memcmp(x->lookup_fields, y->lookup_fields, sizeof(x->lookup_fields)) ||
		    memcmp(x->update_fields, y->update_fields, sizeof(x->update_fields)) ||
		    memcmp(x->match_fields, y->match_fields, sizeof(x->match_fields)) ||
		    x->symmetric != y->symmetric || x->same_keys != y->same_keys ||
		    x->table_size != y->table_size || x->table_kind != y->table_kind ||
		    x->n_states != y->n_states ||
		    memcmp(x->states, y->states, sizeof(x->states)) ||
		    memcmp(x->conds, y->conds, sizeof(x->conds)) ||
		    memcmp(x->regs, y->regs, sizeof(x->regs)))
			return false;
		for (i = 0; i < XFSM_MAX_CONDS; i++)
			if (!str_same(x->cond_text[i], y->cond_text[i]))
				return false;
	}
	for (r = 0; r < a->n_rules; r++) {
		const struct xfsm_rule_names *x = &a->rules[r], *y = &b->rules[r];

		if (x->stage != y->stage || x->rule_id != y->rule_id ||
		    x->priority != y->priority || x->n_entries != y->n_entries ||
		    strcmp(x->name, y->name) || !str_same(x->text, y->text))
			return false;
	}
	for (i = 0; i < XFSM_ACL_TABLES; i++) {
		const struct xfsm_acl_rules *x = &a->acl[i], *y = &b->acl[i];

		if (!(a->acl_tables & (1U << i)))
			continue;
		if (x->n != y->n || (x->n && memcmp(x->r, y->r, x->n * sizeof(x->r[0]))))
			return false;
	}
	for (i = 0; i < XFSM_MAX_GROUPS; i++) {
		const struct xfsm_group_decl *x = &a->groups[i], *y = &b->groups[i];

		if (!(a->groups_declared & (1ULL << i)))
			continue;
		if (strcmp(x->name, y->name) || x->policy != y->policy ||
		    x->n_members != y->n_members || memcmp(x->ports, y->ports, sizeof(x->ports)) ||
		    memcmp(x->weights, y->weights, sizeof(x->weights)))
			return false;
	}
	return true;
}

/*
 * 1 when what runs is what img and names describe (XFSM_APPLY_UNCHANGED's
 * rule, xfsm_lang.h): the running slot is complete and the source it keeps
 * compiles to the same; 0 when not, or when that cannot be told (then the
 * switch happens, which is always right).  Decided under the instance
 * lock, so no other writer switches in between.
 */
static int running_same(struct xfsm_instance *inst, const struct xfsm_image *img,
			const struct xfsm_app_names *names)
{
	size_t vs = inst->map_value_size[XFSM_M_APPSRC], len = 0;
	struct xfsm_app_names *old_names = NULL;
	char *val = NULL, *src = NULL, msg[256];
	struct xfsm_image old;
	struct xfsm_ctl ctl;
	int lock, same = 0;

	xfsm_image_init(&old);
	lock = xfsm_instance_lock(inst);
	/* an interrupted switch is finished by a switch */
	if (xfsm_ctl_get(inst, &ctl) || (ctl.flags & XFSM_CTLF_DIRTY) ||
	    ctl.active >= XFSM_APP_SLOTS || !xfsm_slot_complete(inst, ctl.active, ctl.generation))
		goto out;
	val = calloc(1, vs + 1);
	if (!val || bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPSRC], &ctl.active, val) ||
	    xfsm_appsrc_decode(val, vs, &src, &len) || !src)
		goto out;
	old_names = calloc(1, sizeof(*old_names));
	if (!old_names ||
	    xfsm_compile_string("<running>", src, len, &old, old_names, msg, sizeof(msg))) {
		free(old_names);
		old_names = NULL;
		goto out;
	}
	same = image_same(img, &old) && names_same(names, old_names);
out:
	xfsm_instance_unlock(lock);
	if (old_names) {
		xfsm_app_names_free(old_names);
		free(old_names);
	}
	xfsm_image_free(&old);
	free(src);
	free(val);
	return same;
}

int xfsm_lang_apply(struct xfsm_instance *inst, const struct xfsm_image *img,
		    const struct xfsm_app_names *names, const struct xfsm_apply_opts *opts)
{
	struct xfsm_change chg = { .img = img };
	struct xfsm_group *groups = NULL, prev;
	unsigned int t, g;
	int err;

	if (!inst || !img || !names)
		return -EINVAL;
	err = xfsm_change_opts(&chg, opts);
	if (err)
		return err;
	if (!chg.force && !chg.flush_flows && !chg.reset_globals &&
	    running_same(inst, img, names) == 1)
		return XFSM_APPLY_UNCHANGED;
	chg.complete = true;
	if ((names->acl_tables || names->groups_declared) && inst->build.offload) {
		xfsm_log(XFSM_LOG_ERROR,
			 "the offload profile has no ACL module and no output groups: an application with ACL blocks or groups cannot run there");
		return -EOPNOTSUPP;
	}
	for (t = 0; t < XFSM_ACL_TABLES; t++) {
		if (!(names->acl_tables & (1U << t)))
			continue;
		chg.acl_tables |= 1U << t;
		chg.acl_rules[t] = names->acl[t].r;
		chg.acl_n[t] = names->acl[t].n;
	}
	if (names->groups_declared) {
		groups = calloc(XFSM_MAX_GROUPS, sizeof(*groups));
		if (!groups)
			return -ENOMEM;
	}
	for (g = 0; g < XFSM_MAX_GROUPS; g++) {
		const struct xfsm_group_decl *gd = &names->groups[g];

		if (!(names->groups_declared & (1ULL << g)))
			continue;
		if (xfsm_group_read(inst, g, &prev))
			memset(&prev, 0, sizeof(prev));
		err = xfsm_group_rebuild(&groups[g], gd->policy, gd->ports, gd->weights,
					 gd->n_members, prev.generation ? &prev : NULL);
		if (err) {
			xfsm_log(XFSM_LOG_ERROR, "group %s (%u) cannot be built: %s", gd->name, g,
				 strerror(-err));
			goto out;
		}
		chg.groups |= 1ULL << g;
		chg.group[g] = &groups[g];
	}
	err = xfsm_apply_change(inst, &chg);
out:
	free(groups);
	return err;
}

/* The names statistics belong to (libxfsm.h, statistics identities). */
static void fill_idents(struct lc *c)
{
	struct xfsm_stat_idents *ids = &c->img->idents;
	const struct xfsm_app_names *nm = c->nm;
	int err = 0;

	for (unsigned int s = 0; s < nm->n_stages && !err; s++)
		err = xfsm_stat_idents_add(ids, XFSM_SID_STAGE, s, 1, "%s", nm->stages[s].name);
	for (size_t i = 0; i < nm->n_rules && !err; i++) {
		const struct xfsm_rule_names *rn = &nm->rules[i];

		if (rn->n_entries)
			err = xfsm_stat_idents_add(ids, XFSM_SID_RULE, rn->rule_id, rn->n_entries,
						   "%s/%s", nm->stages[rn->stage].name, rn->name);
	}
	for (unsigned int k = 0; k < nm->n_counters && !err; k++)
		err = xfsm_stat_idents_add(ids, XFSM_SID_COUNTER, k, 1, "%s", nm->counters[k]);
	if (err)
		fail_nomem(c);
}

static void parse_file(struct lc *c)
{
	bool has_app = false, has_default = false;
	size_t total_rules = 0;

	for (;;) {
		const struct lang_tok *t;

		skip_nl(c);
		t = peek(c);
		if (t->kind == T_EOF)
			break;
		if (t->kind != T_IDENT)
			expected(c, t, "a declaration (app, default, define, global, port, group, stage, acl)");
		next(c);
		if (tok_eq(c, t, "app")) {
			const struct lang_tok *n = next(c);

			if (has_app)
				fail_at(c, t, "the application is already named '%s'", c->nm->app);
			if (n->kind != T_IDENT)
				expected(c, n, "an application name");
			tok_name(c, n, c->nm->app);
			has_app = true;
			expect_eol(c);
		} else if (tok_eq(c, t, "default")) {
			if (has_default)
				fail_at(c, t, "the default verdict is already set");
			c->img->app.default_verdict = parse_verdict(c, false);
			has_default = true;
			expect_eol(c);
		} else if (tok_eq(c, t, "define")) {
			parse_define(c);
		} else if (tok_eq(c, t, "global")) {
			parse_global(c);
		} else if (tok_eq(c, t, "port")) {
			parse_port(c);
		} else if (tok_eq(c, t, "stage")) {
			parse_stage(c, t);
		} else if (tok_eq(c, t, "acl")) {
			parse_acl(c, t);
		} else if (tok_eq(c, t, "group")) {
			parse_group(c);
		} else {
			expected(c, t, "a declaration (app, default, define, global, port, group, stage, acl)");
		}
	}
	if (c->nm->n_stages == 0)
		fail_at(c, peek(c), "found end of file, expected at least one stage");
	resolve_gotos(c);
	resolve_acl_gotos(c);
	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		total_rules += c->st[s].nrules;
	c->nm->rules = calloc(total_rules ? total_rules : 1, sizeof(*c->nm->rules));
	if (!c->nm->rules)
		fail_nomem(c);
	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		encode_stage(c, s);
	/* How many table entries fit is the loaded datapath's business
	 * (xfsm-loader --rules): xfsmctl apply checks it against the instance. */
	if (c->needs_port)
		c->img->app.flags |= XFSM_AF_NEEDS_PORT;
	c->img->app.flags |= xfsm_image_meta_flags(c->img);
	fill_idents(c);
}

void xfsm_app_names_free(struct xfsm_app_names *names)
{
	if (!names)
		return;
	for (size_t i = 0; i < names->n_rules; i++)
		free(names->rules[i].text);
	free(names->rules);
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++)
		for (unsigned int i = 0; i < XFSM_MAX_CONDS; i++)
			free(names->stages[s].cond_text[i]);
	for (unsigned int t = 0; t < XFSM_ACL_TABLES; t++)
		xfsm_acl_rules_free(&names->acl[t]);
	memset(names, 0, sizeof(*names));
}

int xfsm_compile_string(const char *filename, const char *text, size_t len,
			struct xfsm_image *img, struct xfsm_app_names *names,
			char *err, size_t errlen)
{
	struct lang_lex_err le;
	struct lc *c;
	int ret;

	xfsm_image_init(img);
	if (err && errlen)
		err[0] = 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nm = calloc(1, sizeof(*c->nm));
	if (!c->nm) {
		free(c);
		return -ENOMEM;
	}
	c->fname = filename ? filename : "<input>";
	c->src = text;
	c->srclen = len;
	c->err = err;
	c->errlen = errlen;
	c->img = img;
	ret = lang_lex(text, len, &c->t, &c->nt, &le);
	if (ret == -EINVAL) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%u:%u: error: %s", c->fname, le.line,
				 le.col, le.msg);
		goto out;
	}
	if (ret)
		goto out;
	if (setjmp(c->jb)) {
		ret = c->errcode ? c->errcode : -EINVAL;
		free(c->pending_free);	/* see encode_stage() */
		goto out;
	}
	parse_file(c);
	img->source = malloc(len + 1);
	if (!img->source) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(img->source, text, len);
	img->source[len] = 0;
	img->source_len = len;
	if (names) {
		*names = *c->nm;
		memset(c->nm, 0, sizeof(*c->nm));
	}
	ret = 0;
out:
	if (ret) {
		xfsm_image_free(img);
		xfsm_image_init(img);
	}
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++) {
		free(c->st[s].rules);
		free(c->st[s].name_slot);
		free(c->st[s].entered);
	}
	free(c->group_pos);
	xfsm_app_names_free(c->nm);
	free(c->nm);
	free(c->t);
	free(c);
	return ret;
}

int xfsm_compile_file(const char *path, struct xfsm_image *img,
		      struct xfsm_app_names *names, char *err, size_t errlen)
{
	char msg[200], *buf;
	size_t len;
	int ret;

	ret = xfsm_read_file(path, &buf, &len, msg, sizeof(msg));
	if (ret) {
		xfsm_image_init(img);
		if (err && errlen)
			snprintf(err, errlen, "%s: error: %s", path, msg);
		return ret;
	}
	ret = xfsm_compile_string(path, buf, len, img, names, err, errlen);
	if (ret == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: error: out of memory", path);
	free(buf);
	return ret;
}
