/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A rule's matches (part of the parse pass): the state, conditions, and
 * header fields against values, prefixes, ranges, masked values and sets
 * of them, possibly negated:
 *
 *   tcp.dport == 22            ip.src == 198.18.0.0/15     tcp.dport == 1000-2000
 *   udp.dport in {53, 80, 1000-2000}                       meta.port in {be1, be2}
 *   tcp.dport != 22            ip.src != {198.18.0.0/16, 198.19.1.1}
 *   tcp.flags & syn|ack == syn                             tcp.flags & ack != 0
 *
 * Each field match keeps its set of elements (struct pelem); lower.c turns
 * the set into masked table entries.  xfsm_lang_parse_match() reads the
 * same syntax for one packet outside an application (xfsmctl simulate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

/* At most this many elements in one set: the table entries they expand to
 * are bounded anyway (XFSM_LANG_MAX_EXPAND per rule). */
#define LANG_MAX_SET	1024

static struct pelem *new_elem(struct lc *c, struct pmatch *m, const struct lang_tok *loc)
{
	struct pelem *e;

	if (c->n_elems == c->cap_elems) {
		size_t cap = c->cap_elems ? 2 * c->cap_elems : 64;
		struct pelem *ne = realloc(c->elems, cap * sizeof(*ne));

		if (!ne)
			fail_nomem(c);
		c->elems = ne;
		c->cap_elems = cap;
	}
	if (m->n == LANG_MAX_SET)
		fail_at(c, loc, "more than %d values in one set", LANG_MAX_SET);
	e = &c->elems[c->n_elems++];
	m->n++;
	memset(e, 0, sizeof(*e));
	e->loc = loc;
	return e;
}

/* A flag name: the operands `|` may join in a match value. */
static bool is_flag_name(struct lc *c, const struct lang_tok *t)
{
	static const char *const flags[] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
		"has_vlan", "has_qinq", "has_arp", "has_ipv4", "has_ipv6", "is_frag",
		"has_l4", "has_tcp", "has_udp", "has_icmp", "has_icmp6",
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (is_kw(c, t, flags[i]))
			return true;
	return false;
}

/*
 * One constant value for field f: a primary, or flag names joined by `|`
 * (tcp.flags & syn|ack).  `|` between anything else is refused: written
 * as `udp.dport == 53|80` it would match 117, the bitwise OR, where a set
 * (`udp.dport in {53, 80}`) was meant.
 */
static lang_u128 parse_mval(struct lc *c, int f, const struct lang_tok **loc)
{
	const struct lang_tok *t = peek(c);
	const struct xfsm_lang_field *fd = &lang_field_table[f];
	struct ex *e;
	lang_u128 v;

	c->npool = 0;
	e = parse_primary(c);
	while (peek(c)->kind == T_PIPE) {
		const struct lang_tok *op = next(c), *a = op - 1, *b = peek(c);

		if (b->kind == T_PIPE && b->off == op->off + 1)
			fail_at(c, op, "'||' is not an operator: all matches of a rule must hold; for one of several values write a set (%s in {A, B}), for one of several matches write one rule for each",
				fd->name);
		if (!is_flag_name(c, a) || !is_flag_name(c, b))
			fail_at(c, op, "'|' joins flag names (tcp.flags & syn|ack): to match any of several values write a set: %s in {%.*s, %.*s}",
				fd->name, (int)(t->len > 40 ? 40 : t->len), c->src + t->off,
				(int)(b->len > 40 ? 40 : b->len), c->src + b->off);
		e = mk_bin(c, op, e, parse_primary(c));
	}
	if (e->kind != EX_CONST)
		fail_at(c, t, "a rule matches a field against constants; use a condition to compare with '%.*s'",
			(int)t->len, c->src + t->off);
	v = e->v;
	if ((t->kind == T_MAC && fd->bits != 48) ||
	    (t->kind == T_IP6 && fd->bits != 128) ||
	    (t->kind == T_IP4 && fd->bits != 32))
		fail_at(c, t, "%.*s is %s, not a value for %s (%u bits)", (int)t->len,
			c->src + t->off,
			t->kind == T_MAC ? "a MAC address" : t->kind == T_IP4 ?
			"an IPv4 address" : "an IPv6 address",
			fd->name, fd->bits);
	check_field_value(c, f, v, t);
	if (loc)
		*loc = t;
	return v;
}

/* '&' followed at once by '&': the C operator, not a mask. */
static bool at_double_amp(struct lc *c)
{
	const struct lang_tok *t = peek(c);

	return t->kind == T_AMP && t[1].kind == T_AMP && t[1].off == t->off + 1;
}

static void __attribute__((noreturn)) fail_double_amp(struct lc *c)
{
	fail_at(c, peek(c), "'&&' is not an operator: separate the matches of a rule with ',' or 'and'");
}

/* One element: VALUE, VALUE/LEN, VALUE-VALUE or VALUE & MASK. */
static void parse_elem(struct lc *c, struct pmatch *m)
{
	int f = m->field;
	unsigned int bits = lang_field_table[f].bits;
	const struct lang_tok *vt;
	struct pelem *e;
	lang_u128 v = parse_mval(c, f, &vt);

	e = new_elem(c, m, vt);
	e->lo = e->hi = v;
	if (accept_tk(c, T_SLASH)) {
		__u64 len = parse_u64(c, "prefix length", bits);
		lang_u128 mask = len == 0 ? 0 : (field_max(f) >> (bits - len)) << (bits - len);

		if (v & ~mask)
			fail_at(c, vt, "prefix has host bits set: %.*s/%llu", (int)vt->len,
				c->src + vt->off, (unsigned long long)len);
		e->hi = v | (field_max(f) & ~mask);
	} else if (accept_tk(c, T_MINUS)) {
		const struct lang_tok *ht;

		e->hi = parse_mval(c, f, &ht);
		if (e->hi < e->lo)
			fail_at(c, ht, "empty range: the upper bound is below the lower bound");
	} else if (at_double_amp(c)) {
		fail_double_amp(c);
	} else if (accept_tk(c, T_AMP)) {
		/* `== V & M`: the bits of V under M */
		e->masked = true;
		e->mask = parse_mval(c, f, NULL);
		e->val = v & e->mask;
	}
}

/* { ELEM, ELEM, ... }: line breaks inside the braces are free. */
static void parse_set(struct lc *c, struct pmatch *m)
{
	const struct lang_tok *open = expect(c, T_LBRACE, "'{'");

	for (;;) {
		skip_nl(c);
		if (peek(c)->kind == T_RBRACE) {
			if (!m->n)
				fail_at(c, open, "an empty set matches nothing: write at least one value");
			break;
		}
		parse_elem(c, m);
		skip_nl(c);
		if (!accept_tk(c, T_COMMA)) {
			if (peek(c)->kind != T_RBRACE)
				expected(c, peek(c), "',' or '}' in a set");
		}
	}
	next(c);
}

/*
 * FIELD == ELEM | FIELD != ELEM | FIELD in SET | FIELD == SET | FIELD != SET
 * | FIELD not in SET | FIELD & MASK [== VALUE | != VALUE]
 */
static void parse_field_match(struct lc *c, struct prule *r, const struct lang_tok *ft, int f)
{
	const struct xfsm_lang_field *fd = &lang_field_table[f];
	const struct lang_tok *op;
	struct pmatch *m;

	for (unsigned int i = 0; i < r->nm; i++)
		if (r->m[i].field == f)
			fail_at(c, ft, "field '%s' is matched twice in rule '%s'", fd->name, r->name);
	if (r->nm == MAX_RULE_MATCHES)
		fail_at(c, ft, "rule '%s' matches more than %d fields", r->name, MAX_RULE_MATCHES);
	m = &r->m[r->nm++];
	memset(m, 0, sizeof(*m));
	m->field = f;
	m->loc = ft;
	m->first = c->n_elems;
	if (fd->word == XFSM_FW_META_PORT)
		c->needs_port = true;
	if (at_double_amp(c))
		fail_double_amp(c);
	if (accept_tk(c, T_AMP)) {
		const struct lang_tok *vt = NULL;
		struct pelem *e;
		lang_u128 mask = parse_mval(c, f, NULL), val = mask;

		if (accept_tk(c, T_EQ)) {
			val = parse_mval(c, f, &vt);
		} else if (accept_tk(c, T_NE)) {
			val = parse_mval(c, f, &vt);
			m->neg = true;
		}
		if (val & ~mask)
			fail_at(c, vt ? vt : ft, "value has bits outside the mask: the rule could %s",
				m->neg ? "never fail to match" : "never match");
		e = new_elem(c, m, ft);
		e->masked = true;
		e->val = val;
		e->mask = mask;
		return;
	}
	op = peek(c);
	if (is_kw(c, op, "not")) {
		next(c);
		if (!accept_kw(c, "in"))
			expected(c, peek(c), "'in' after 'not'");
		m->neg = true;
		parse_set(c, m);
	} else if (accept_kw(c, "in")) {
		parse_set(c, m);
	} else if (accept_tk(c, T_EQ) || (m->neg = accept_tk(c, T_NE))) {
		if (peek(c)->kind == T_LBRACE)
			parse_set(c, m);
		else
			parse_elem(c, m);
	} else if (op->kind == T_ASSIGN) {
		fail_at(c, op, "'=' assigns: to compare write '==' (%s == VALUE)", fd->name);
	} else {
		expected(c, op, "'==', '!=', 'in' or '&' after a field");
	}
	/* A negated set is the complement of a union of intervals, or of one
	 * masked value: lower.c computes those two. */
	if (m->neg && m->n > 1) {
		for (size_t i = m->first; i < m->first + m->n; i++)
			if (c->elems[i].masked)
				fail_at(c, c->elems[i].loc, "a negated set takes values, prefixes and ranges, not a masked value: negate it on its own (%s & M != V)",
					fd->name);
	}
}

/* The name of a match that is neither a condition nor a field. */
static void __attribute__((noreturn))
unknown_match(struct lc *c, struct prule *r, const struct lang_tok *t)
{
	const char *n = c->src + t->off;
	int len = (int)t->len;
	lang_u128 v;

	if (memchr(n, '.', t->len))
		lang_fail_unknown_field(c, t, true);
	if (lang_builtin_const(n, t->len, &v)) {
		const struct pmatch *last = r->nm ? &r->m[r->nm - 1] : NULL;

		if (last && is_flag_name(c, t))
			fail_at(c, t, "'%.*s' is a flag, not a match: each match after ',' or 'and' is a state, a condition or a field; to require several flags write %s & A|B == A|B",
				len, n, lang_field_table[last->field].name);
		fail_at(c, t, "'%.*s' is a constant, not a match: each match after ',' or 'and' is a state, a condition or a field",
			len, n);
	}
	fail_at(c, t, "unknown condition '%.*s' in stage '%s'", len, n, cur_names(c)->name);
}

void parse_matches(struct lc *c, struct prule *r)
{
	if (accept_tk(c, T_STAR) || accept_kw(c, "any"))
		return;
	do {
		const struct lang_tok *t = peek(c);
		bool neg = false;
		int i;

		if (accept_tk(c, T_BANG) || accept_kw(c, "not")) {
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
			fail_at(c, t, "'!' negates a condition, not a field: write %.*s != VALUE",
				(int)t->len, c->src + t->off);
		lang_check_meta_match(c, t);
		unknown_match(c, r, t);
	} while (accept_tk(c, T_COMMA) || accept_kw(c, "and"));
	if (at_double_amp(c))
		fail_double_amp(c);
}

/* ---- packet matches outside an application ------------------------------------ */

/* v (a field's value) as the field's words, most significant first, as the
 * datapath holds them in the field vector. */
static void value_words(int f, lang_u128 v, __u32 *w)
{
	unsigned int n = lang_field_table[f].nwords;

	for (unsigned int k = 0; k < n; k++)
		w[k] = (__u32)(v >> (32 * (n - 1 - k)));
}

/* One field's match as a term: a value under a mask (a value, a prefix, a
 * masked value) or an interval that is no prefix. */
static void match_term(struct lc *c, const struct pmatch *m, struct xfsm_lang_match_term *o)
{
	const struct pelem *e = &c->elems[m->first];
	lang_u128 max = field_max(m->field), span;

	if (m->neg || m->n != 1)
		fail_at(c, m->loc, "a packet match takes one value, prefix, range or mask for '%s' ('==' or '&'), not a set or '!='",
			lang_field_table[m->field].name);
	memset(o, 0, sizeof(*o));
	o->field = m->field;
	if (e->masked) {
		value_words(m->field, e->val, o->val);
		value_words(m->field, e->mask, o->mask);
		return;
	}
	/* an aligned interval of a power-of-two size is a prefix */
	span = e->hi - e->lo;
	if (!(span & (span + 1)) && !(e->lo & span)) {
		value_words(m->field, e->lo, o->val);
		value_words(m->field, max & ~span, o->mask);
		return;
	}
	o->range = true;
	value_words(m->field, e->lo, o->lo);
	value_words(m->field, e->hi, o->hi);
	value_words(m->field, max, o->mask);
}

int xfsm_lang_parse_match(const char *what, const char *text,
			  const struct xfsm_app_names *names, unsigned int flags,
			  struct xfsm_lang_match_term *terms, unsigned int max,
			  unsigned int *n, char *err, size_t errlen)
{
	bool assign = flags & XFSM_LANG_MATCH_ASSIGN;
	struct prule *r = NULL;
	struct lc *c;
	int ret;

	*n = 0;
	if (err && errlen)
		err[0] = 0;
	if (!text)
		text = "";
	c = calloc(1, sizeof(*c));
	r = calloc(1, sizeof(*r));
	if (c)
		c->nm = calloc(1, sizeof(*c->nm));
	if (!c || !r || !c->nm) {
		ret = -ENOMEM;
		goto out;
	}
	/* Port names (meta.port == inside) are the application's. */
	if (names)
		memcpy(c->nm->ports, names->ports, sizeof(c->nm->ports));
	ret = lc_start(c, what ? what : "<match>", text, strlen(text), err, errlen);
	if (ret)
		goto out;
	snprintf(r->name, sizeof(r->name), "%s", c->fname);
	if (setjmp(c->jb)) {
		ret = c->errcode ? c->errcode : -EINVAL;
		goto out;
	}
	skip_nl(c);
	if (!assign && (accept_tk(c, T_STAR) || accept_kw(c, "any"))) {
		skip_nl(c);
		if (peek(c)->kind != T_EOF)
			expected(c, peek(c), "nothing after 'any'");
	}
	while (peek(c)->kind != T_EOF) {
		const struct lang_tok *t = peek(c);
		int f;

		if (t->kind != T_IDENT)
			expected(c, t, assign ? "a header field and '=' (ip.src=198.18.0.1)" :
				 "a header field (ip.src == 198.18.0.0/16)");
		f = xfsm_lang_field_find(c->src + t->off, t->len);
		if (f < 0)
			lang_fail_unknown_field(c, t, true);
		for (unsigned int i = 0; i < r->nm; i++)
			if (r->m[i].field == f)
				fail_at(c, t, "field '%s' is given twice", lang_field_table[f].name);
		if (r->nm == MAX_RULE_MATCHES || r->nm == max)
			fail_at(c, t, "more than %u fields", r->nm);
		next(c);
		if (assign) {
			struct pmatch *m = &r->m[r->nm++];
			struct pelem *e;

			memset(m, 0, sizeof(*m));
			m->field = f;
			m->loc = t;
			m->first = c->n_elems;
			if (!accept_tk(c, T_ASSIGN))
				expected(c, peek(c), "'=' and a value after a field");
			e = new_elem(c, m, t);
			e->lo = e->hi = parse_mval(c, f, NULL);
		} else {
			parse_field_match(c, r, t, f);
		}
		skip_nl(c);
		if (!accept_tk(c, T_COMMA) && !accept_kw(c, "and") && !assign &&
		    peek(c)->kind != T_EOF)
			expected(c, peek(c), "',' between matches, or the end");
		skip_nl(c);
	}
	for (unsigned int i = 0; i < r->nm; i++)
		match_term(c, &r->m[i], &terms[i]);
	*n = r->nm;
	ret = 0;
out:
	if (c) {
		xfsm_app_names_free(c->nm);
		free(c->nm);
		free(c->elems);
		for (unsigned int i = 0; i < c->n_warnings; i++)
			free(c->warnings[i]);
		free(c->warnings);
		free(c->t);
	}
	free(c);
	free(r);
	return ret;
}
