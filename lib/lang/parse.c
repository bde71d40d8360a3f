/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The parse pass of the xfsm language: tokens into the program (struct lc):
 * top-level declarations, stages with their keys, states, registers and
 * conditions, and rules with their matches and effects.  Names are
 * resolved as they are read (the language declares before use); what
 * needs the whole file (goto targets, states entered later) is left to
 * check.c, and tables to lower.c.  Nothing here touches the image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

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

/* The index of a `global` or `register` declaration: PREFIX followed by a
 * number ("global3", "reg1") or a bare number, below N.  WANT and RANGE
 * word the two errors. */
static long decl_index(struct lc *c, const char *prefix, long n, const char *want,
		       const char *range)
{
	const struct lang_tok *t = peek(c);
	long idx = reg_index(c, t, prefix);
	char ib[48];

	if (idx >= 0) {
		next(c);
	} else if (t->kind == T_NUM && !t->unit) {
		next(c);
		idx = t->v > 100000 ? 100000 : (long)t->v;
	} else {
		expected(c, t, want);
	}
	if (idx >= n)
		fail_at(c, t, "register index %s out of range: %s%ld",
			idx_text(c, t, prefix, ib, sizeof(ib)), range, n - 1);
	return idx;
}

static void parse_global(struct lc *c)
{
	long idx = decl_index(c, "global", XFSM_GLOBAL_REGS,
			      "a global register index (0..7)", "global registers are 0..");
	if (peek(c)->kind == T_IDENT) {
		const struct lang_tok *n = next(c);

		if (c->nm->globals[idx][0])
			fail_at(c, n, "global%ld is already named '%s'", idx, c->nm->globals[idx]);
		name_in_use(c, n);
		tok_name(c, n, c->nm->globals[idx]);
	}
	if (accept_tk(c, T_ASSIGN)) {
		const struct lang_tok *vt = peek(c);
		lang_u128 v;

		if (c->globals_set & (1U << idx))
			fail_at(c, vt, "global%ld already has a value", idx);
		v = parse_const(c, "a constant", NULL, NULL);	/* any unit */

		if (v > ~0ULL) {
			char buf[48];

			fail_at(c, vt, "global value %s is out of range (at most %llu)",
				xfsm_u128_str(v, buf, sizeof(buf)), ~0ULL);
		}
		c->globals[idx] = (__u64)v;
		c->globals_set |= 1U << idx;
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
 * group NAME = N POLICY [PORT [weight W] [mac M] {, PORT [weight W] [mac M]}]
 * An output group the application owns: applying it installs the group
 * together with the rules that use it.  A member's MAC is written as the
 * destination of every packet the group sends to it.
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
		if (accept_kw(c, "mac")) {
			const struct lang_tok *at = next(c);

			if (at->kind != T_MAC)
				expected(c, at, "the member's MAC address (as 02:00:00:00:01:00)");
			if (!at->v || (at->v >> 40) & 1)
				fail_at(c, at, "%.*s is not a unicast MAC address: a member's MAC is the backend's own",
					(int)at->len, c->src + at->off);
			gd->macs[gd->n_members] = (__u64)at->v;
		}
		note_port_use(c, port, mt);
		gd->ports[gd->n_members] = port;
		gd->weights[gd->n_members++] = w;
		if (!accept_tk(c, T_COMMA))
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

static void parse_key(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage_names *sn = cur_names(c);
	struct pstage *ps = &c->st[c->cur];
	bool lookup = true, update = true;
	const struct lang_tok *sym;
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
			lang_fail_unknown_field(c, t, true);
		for (unsigned int i = 0; i < n; i++)
			if (fields[i] == f)
				fail_at(c, t, "field '%s' appears twice in the key",
					lang_field_table[f].name);
		words += lang_field_table[f].nwords;
		if (words > XFSM_KEY_WORDS || n == XFSM_KEY_WORDS)
			fail_at(c, t, "key too long: %u words of 32 bits, the datapath holds %d",
				words, XFSM_KEY_WORDS);
		if (lang_field_table[f].word == XFSM_FW_META_PORT)
			c->needs_port = true;
		fields[n++] = f;
	} while (accept_tk(c, T_COMMA));
	sym = peek(c);
	if (accept_kw(c, "symmetric"))
		sn->symmetric = true;
	else
		sym = NULL;
	if (lookup) {
		memcpy(sn->lookup_fields, fields, n * sizeof(int));
		sn->n_lookup_fields = n;
		ps->has_lookup = true;
		ps->lookup_kw = kw;
		ps->lookup_sym = sym;
	}
	if (update) {
		memcpy(sn->update_fields, fields, n * sizeof(int));
		sn->n_update_fields = n;
		ps->has_update = true;
		ps->update_kw = kw;
		ps->update_sym = sym;
	}
	expect_eol(c);
}

/* `table full drop|pass|continue`: what a rule does when the flow it must
 * write cannot be stored. */
static void parse_table_full(struct lc *c)
{
	struct xfsm_stage *st = &c->st[c->cur].hdr;
	const struct lang_tok *t = peek(c);

	if (accept_kw(c, "drop"))
		st->full_action = XFSM_FULL_DROP;
	else if (accept_kw(c, "pass"))
		st->full_action = XFSM_FULL_PASS;
	else if (accept_kw(c, "continue"))
		st->full_action = XFSM_FULL_CONTINUE;
	else
		expected(c, t, "'drop', 'pass' or 'continue' after 'table full'");
}

/* A table property given a second time, in one statement or two. */
static void table_once(struct lc *c, const struct lang_tok *t, bool *given, const char *what)
{
	if (*given)
		fail_at(c, t, "the stage's table %s is already given", what);
	*given = true;
}

static void parse_table(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage_names *sn = cur_names(c);
	struct pstage *ps = &c->st[c->cur];
	const struct lang_tok *t;
	bool any = false;

	for (;;) {
		t = peek(c);
		if (accept_kw(c, "size")) {
			table_once(c, t, &ps->size_given, "size");
			sn->table_size = (__u32)parse_u64(c, "table size", 0xffffffffULL);
		} else if (accept_kw(c, "lru")) {
			table_once(c, t, &ps->kind_given, "kind (lru or hash)");
			sn->table_kind = XFSM_TABLE_LRU;
		} else if (accept_kw(c, "hash")) {
			table_once(c, t, &ps->kind_given, "kind (lru or hash)");
			sn->table_kind = XFSM_TABLE_HASH;
		} else if (accept_kw(c, "full")) {
			table_once(c, t, &ps->full_given, "full action");
			parse_table_full(c);
		} else if (peek(c)->kind == T_NUM && !any && tok_eq(c, kw, "size")) {
			table_once(c, kw, &ps->size_given, "size");
			sn->table_size = (__u32)parse_u64(c, "table size", 0xffffffffULL);
		} else {
			break;
		}
		any = true;
	}
	if (!any)
		expected(c, peek(c), "'size N', 'lru', 'hash' or 'full drop|pass|continue'");
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
		if (accept_tk(c, T_ASSIGN)) {
			nt = peek(c);
			num = parse_u64(c, "state number", XFSM_LANG_MAX_STATES - 1);
			has_num = true;
		}
		declare_state(c, t, has_num, num, nt);
	} while (plural && accept_tk(c, T_COMMA));
	expect_eol(c);
}

static void parse_register(struct lc *c)
{
	const struct lang_tok *n;
	long idx = decl_index(c, "reg", XFSM_FLOW_REGS,
			      "a flow register index (0..3)", "flow registers are reg0..reg");
	n = next(c);
	if (n->kind != T_IDENT)
		expected(c, n, "a register name");
	if (cur_names(c)->regs[idx][0])
		fail_at(c, n, "reg%ld is already named '%s'", idx, cur_names(c)->regs[idx]);
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

/* A field compared with a constant it can never hold would make the
 * condition constant: refused, as in a rule match. */
static void cond_const_in_range(struct lc *c, const struct ex *fe, const struct ex *ke)
{
	int f;

	if (fe->kind != EX_OPND || fe->o.kind != XFSM_OPND_FIELD || ke->kind != EX_CONST)
		return;
	f = xfsm_lang_field_find(c->src + fe->loc->off, fe->loc->len);
	if (f >= 0)
		check_field_value(c, f, ke->v, ke->loc);
}

static void parse_condition(struct lc *c, const struct lang_tok *kw)
{
	struct xfsm_stage *st = &c->st[c->cur].hdr;
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
	cond_const_in_range(c, a, b);
	cond_const_in_range(c, b, a);
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

static void parse_goto_state(struct lc *c, struct prule *r, const struct lang_tok *kw)
{
	const struct lang_tok *it = NULL, *ht = NULL, *irt = NULL, *hrt = NULL;
	unsigned int bad;
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
		const struct lang_tok *rt = NULL;
		__u32 rb = 0;

		if (accept_tk(c, T_ARROW)) {
			rt = next(c);
			rb = state_ref(c, rt);
		}
		mark_entered(c, rb);
		if (idle) {
			it = t;
			irt = rt;
			r->r.idle_timeout_ms = ms;
			r->r.idle_rollback = rb;
		} else {
			ht = t;
			hrt = rt;
			r->r.hard_timeout_ms = ms;
			r->r.hard_rollback = rb;
		}
	}
	/* libxfsm's check, as xfsmctl state set's */
	bad = xfsm_timeouts_check(s, r->r.idle_timeout_ms, r->r.idle_rollback,
				  r->r.hard_timeout_ms, r->r.hard_rollback);
	if (bad & (XFSM_TIMEOUT_IDLE_SELF | XFSM_TIMEOUT_HARD_SELF)) {
		/* the one written first */
		bool idle = (bad & XFSM_TIMEOUT_IDLE_SELF) &&
			    (!(bad & XFSM_TIMEOUT_HARD_SELF) || it->off < ht->off);
		const struct lang_tok *t = idle ? it : ht, *rt = idle ? irt : hrt;
		char buf[48];
		const char *sname = xfsm_lang_state_name(c->nm, c->cur, s, buf, sizeof(buf));

		if (rt)
			fail_at(c, rt, "rollback to '%s', the state this transition enters: the %s timeout would change nothing; roll back to another state or leave the timeout out",
				sname, idle ? "idle" : "hard");
		fail_at(c, t, "the %s timeout rolls back to state 0 ('%s') when no '-> STATE' follows, and this transition enters '%s': write '-> STATE' with another state or leave the timeout out",
			idle ? "idle" : "hard", sname, sname);
	}
	if (bad & XFSM_TIMEOUT_IDLE_NOT_SHORTER)
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
		[XFSM_ACT_OUTPUT_XSK] = "output xsk", [XFSM_ACT_SET_TTL] = "set ip.ttl",
		[XFSM_ACT_SET_IP_SRC] = "set ip.src", [XFSM_ACT_SET_IP_DST] = "set ip.dst",
		[XFSM_ACT_SET_L4_SPORT] = "set l4.sport", [XFSM_ACT_SET_L4_DPORT] = "set l4.dport",
		[XFSM_ACT_VLAN_PUSH] = "push vlan", [XFSM_ACT_VLAN_POP] = "pop vlan",
		[XFSM_ACT_ARP_REPLY] = "arp reply", [XFSM_ACT_OUTPUT_FIB] = "output fib",
		[XFSM_ACT_SET_IP6_SRC] = "set ip6.src", [XFSM_ACT_SET_IP6_DST] = "set ip6.dst",
	};
	return type < XFSM_ACT__MAX && n[type] ? n[type] : "?";
}

static bool act_ends(__u8 type)
{
	return type == XFSM_ACT_DROP || type == XFSM_ACT_PASS || type == XFSM_ACT_TX ||
	       type == XFSM_ACT_OUTPUT || type == XFSM_ACT_FLOOD || type == XFSM_ACT_GOTO ||
	       type == XFSM_ACT_OUTPUT_GROUP || type == XFSM_ACT_OUTPUT_XSK ||
	       type == XFSM_ACT_ARP_REPLY || type == XFSM_ACT_OUTPUT_FIB;
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

/*
 * REG = fetch_add(GLOBAL, N): the flow register takes the global's value
 * and the global grows by N, in one atomic instruction, so that no two
 * packets (on any CPUs) take the same value.  It runs with the rule's
 * flow-register updates (under the flow's lock); the global is not
 * locked, so check_fetch_add() keeps every other write of it an addition.
 */
static void parse_fetch_add(struct lc *c, struct prule *r, const struct lang_tok *dt,
			    __u8 dst_kind, struct xfsm_update *u, struct ex *e)
{
	if (dst_kind != XFSM_OPND_FLOW_REG)
		fail_at(c, dt, "fetch_add() gives a flow register the global's value: its destination is a flow register (regN or a register's name), not a global");
	if (e->a->kind != EX_OPND || e->a->o.kind != XFSM_OPND_GLOBAL_REG)
		fail_at(c, e->a->loc, "fetch_add() takes and adds to a global register (globalN or a global's name) as its first argument");
	u->op = XFSM_UPD_FETCH_ADD;
	u->dst_kind = dst_kind;
	u->a = e->a->o;
	u->b = leaf_operand(c, e->b, "fetch_add() (the amount added)");
	r->r.flags |= XFSM_RF_WRITES_FLOW;
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
	} else if (e->fn == FN_FETCH_ADD) {
		parse_fetch_add(c, r, dt, dst_kind, u, e);
		return;
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

/*
 * set ip6.src = ADDR / set ip6.dst = ADDR: two actions, the upper and the
 * lower 64 bits (XFSM_ACT_SET_IP6_*, arg 0 and 1), so the address is a
 * constant: registers and fields hold at most 64 bits.
 */
static void parse_set_ip6(struct lc *c, struct prule *r, const struct lang_tok *t)
{
	const struct lang_tok *ft = next(c), *vt;
	bool dst = tok_eq(c, ft, "ip6.dst");
	__u8 type = dst ? XFSM_ACT_SET_IP6_DST : XFSM_ACT_SET_IP6_SRC;
	struct xfsm_action *a;
	struct ex *e;
	int half;

	expect(c, T_ASSIGN, "'='");
	vt = peek(c);
	if (vt->kind == T_IP4 || vt->kind == T_MAC)
		fail_at(c, vt, "%.*s is %s, not a value for %.*s%s", (int)vt->len, c->src + vt->off,
			vt->kind == T_MAC ? "a MAC address" : "an IPv4 address",
			(int)ft->len, c->src + ft->off,
			vt->kind == T_IP4 ? (dst ? "; write set ip.dst" : "; write set ip.src") : "");
	c->npool = 0;
	e = parse_expr(c);
	if (e->kind != EX_CONST)
		fail_at(c, vt, "set %.*s takes an IPv6 address constant (2001:2::1 or a defined name): registers and fields hold at most 64 bits",
			(int)ft->len, c->src + ft->off);
	for (half = 0; half < 2; half++) {
		a = add_action(c, r, t, type);
		a->arg = (__u16)half;
		a->opnd.kind = XFSM_OPND_CONST;
		a->opnd.value = half ? (__u64)e->v : (__u64)(e->v >> 64);
	}
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
		   tok_eq(c, peek(c), "fib")) {
		next(c);
		add_action(c, r, t, XFSM_ACT_OUTPUT_FIB);
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
		const struct lang_tok *pt = peek(c);

		a = add_action(c, r, t, XFSM_ACT_OUTPUT);
		a->opnd = parse_opnd_value(c, XFSM_MAX_PORTS - 1, "output port");
		if (a->opnd.kind == XFSM_OPND_CONST && a->opnd.value == 0)
			fail_at(c, t, "output to port 0 (\"no port\")");
		if (a->opnd.kind == XFSM_OPND_CONST)
			note_port_use(c, a->opnd.value, pt);
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
	} else if (tok_eq(c, t, "set") &&
		   (tok_eq(c, peek(c), "ip6.src") || tok_eq(c, peek(c), "ip6.dst"))) {
		parse_set_ip6(c, r, t);
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
		} else if (tok_eq(c, ft, "ip.ttl")) {
			type = XFSM_ACT_SET_TTL;
			max = 255;
		} else if (tok_eq(c, ft, "ip.src") || tok_eq(c, ft, "ip.dst")) {
			type = tok_eq(c, ft, "ip.src") ? XFSM_ACT_SET_IP_SRC : XFSM_ACT_SET_IP_DST;
			max = 0xffffffffULL;
		} else if (tok_eq(c, ft, "l4.sport") || tok_eq(c, ft, "l4.dport")) {
			type = tok_eq(c, ft, "l4.sport") ? XFSM_ACT_SET_L4_SPORT : XFSM_ACT_SET_L4_DPORT;
			max = 0xffff;
		} else if (tok_eq(c, ft, "mark") || tok_eq(c, ft, "meta.mark")) {
			type = XFSM_ACT_SET_MARK;
			max = 0xffffffffULL;
		} else {
			expected(c, ft, "a field that can be set (eth.src, eth.dst, ip.src, ip.dst, ip6.src, ip6.dst, l4.sport, l4.dport, ip.dscp, ip.ecn, ip.ttl, meta.mark)");
		}
		a = add_action(c, r, t, type);
		expect(c, T_ASSIGN, "'='");
		{
			/* an address of the wrong kind says so, not "too large" */
			const struct lang_tok *vt = peek(c);
			unsigned int bits = max == 0xffffffffffffULL ? 48 : max == 0xffffffffULL ? 32 : 0;

			if (vt->kind == T_IP6 && (type == XFSM_ACT_SET_IP_SRC ||
						  type == XFSM_ACT_SET_IP_DST))
				fail_at(c, vt, "%.*s is an IPv6 address: ip.%s is the IPv4 one; write set ip6.%s",
					(int)vt->len, c->src + vt->off,
					type == XFSM_ACT_SET_IP_SRC ? "src" : "dst",
					type == XFSM_ACT_SET_IP_SRC ? "src" : "dst");
			if ((vt->kind == T_MAC && bits != 48) || (vt->kind == T_IP6) ||
			    (vt->kind == T_IP4 && bits != 32))
				fail_at(c, vt, "%.*s is %s, not a value for %.*s", (int)vt->len,
					c->src + vt->off,
					vt->kind == T_MAC ? "a MAC address" : vt->kind == T_IP4 ?
					"an IPv4 address" : "an IPv6 address",
					(int)ft->len, c->src + ft->off);
		}
		a->opnd = parse_opnd_value(c, max, "set");
	} else if (tok_eq(c, t, "mark")) {
		a = add_action(c, r, t, XFSM_ACT_SET_MARK);
		expect(c, T_ASSIGN, "'='");
		a->opnd = parse_opnd_value(c, 0xffffffffULL, "mark");
	} else if (tok_eq(c, t, "arp")) {
		const struct lang_tok *rt = next(c), *vt;

		if (!tok_eq(c, rt, "reply"))
			expected(c, rt, "'reply' after 'arp'");
		a = add_action(c, r, t, XFSM_ACT_ARP_REPLY);
		vt = peek(c);
		if (vt->kind == T_IP4 || vt->kind == T_IP6)
			fail_at(c, vt, "%.*s is an IP address: 'arp reply' takes the MAC address to answer with",
				(int)vt->len, c->src + vt->off);
		a->opnd = parse_opnd_value(c, 0xffffffffffffULL, "MAC");
	} else if (tok_eq(c, t, "push") || tok_eq(c, t, "pop")) {
		const struct lang_tok *vt = next(c);
		bool push = tok_eq(c, t, "push");

		if (!tok_eq(c, vt, "vlan"))
			expected(c, vt, push ? "'vlan' after 'push'" : "'vlan' after 'pop'");
		a = add_action(c, r, t, push ? XFSM_ACT_VLAN_PUSH : XFSM_ACT_VLAN_POP);
		if (push)
			a->opnd = parse_opnd_value(c, 4095, "VLAN id");
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
	expected(c, t, "an action (drop, pass, tx, output, output fib, flood, goto, set, dec ttl, count, mark) or a register update");
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
	} while (accept_tk(c, T_COMMA));
	(void)any_effect;
	last = &c->t[c->p - 1];
	r->src_start = kw->off;
	r->src_end = last->off + last->len;
	expect_eol(c);
}


/* ---- stages ------------------------------------------------------------------ */

/* Name pipeline slot `s` (a stage or an ACL block) after token `t`. */
void declare_stage(struct lc *c, const struct lang_tok *kw, const struct lang_tok *t,
		   unsigned int s)
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
	st = &c->st[s].hdr;
	st->enabled = 1;
	st->miss_verdict = XFSM_VERDICT_CONTINUE;
	c->nm->n_stages = s + 1;
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
			if (c->st[s].miss_given)
				fail_at(c, k, "stage '%s' already has a miss verdict", sn->name);
			c->st[s].miss_given = true;
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
	expect_eol(c);
}

void parse_file(struct lc *c)
{
	bool has_app = false, has_default = false;

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
			c->default_verdict = parse_verdict(c, false);
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
}
