/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XFSM evaluation: operands, conditions, register update arithmetic and the
 * tuple-space search of the XFSM table.  Operand reads are plain memory
 * reads (no helper calls) so that they can run under a spin lock.
 */
#ifndef XFSM_BPF_EVAL_H
#define XFSM_BPF_EVAL_H

#include "common.h"
#include "maps.h"

static __always_inline __u64 opnd_read(const struct xfsm_operand *o, const struct xfsm_pkt *p,
				       const flow_value *f, __u32 state,
				       const struct xfsm_globals *g)
{
	__u32 i = o->index;
	__u64 v;

	switch (o->kind) {
	case XFSM_OPND_CONST:
		return o->value;
	case XFSM_OPND_FIELD:
		v = p->fv[fv_idx(i)];
		if (o->width == 2)
			v = (v << 32) | p->fv[fv_idx(i + 1)];
		return v;
	case XFSM_OPND_FLOW_REG:
		return f ? flow_reg(f, i) : 0;
	case XFSM_OPND_GLOBAL_REG:
		return g ? g->reg[i & (XFSM_GLOBAL_REGS - 1)] : 0;
	case XFSM_OPND_STATE:
		return state;
	case XFSM_OPND_META:
		switch (i) {
		case XFSM_META_LEN:
			return p->fv[XFSM_FW_META_LEN];
		case XFSM_META_PORT:
			return p->fv[XFSM_FW_META_PORT];
		case XFSM_META_TIME:
			return p->now;
		case XFSM_META_IFINDEX:
			return p->ifindex;
		case XFSM_META_RANDOM:
			return p->rand;
		}
		return 0;
	}
	return 0;
}

/* Does operand `o` read register `idx` of kind `kind` (flow or global)? */
static __always_inline bool opnd_is_reg(const struct xfsm_operand *o, __u8 kind, __u32 idx)
{
	__u32 mask = kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS - 1 : XFSM_GLOBAL_REGS - 1;

	return o->kind == kind && (o->index & mask) == idx;
}

static __always_inline bool cmp_eval(__u8 op, __u64 a, __u64 b)
{
	switch (op) {
	case XFSM_CMP_LT: return a < b;
	case XFSM_CMP_LE: return a <= b;
	case XFSM_CMP_GT: return a > b;
	case XFSM_CMP_GE: return a >= b;
	case XFSM_CMP_EQ: return a == b;
	case XFSM_CMP_NE: return a != b;
	}
	return false;
}

#ifdef XFSM_OFFLOAD
/* Shift-and-subtract division: the offload profile may not divide by a
 * register.  A global function, so the verifier walks its loop once. */
__noinline __u64 soft_divmod(__u64 n, __u64 d, __u32 want_mod)
{
	__u64 q = 0, r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ULL << i;
		}
	}
	return want_mod ? r : q;
}
#define XFSM_DIV(a, b)	soft_divmod((a), (b), 0)
#define XFSM_MOD(a, b)	soft_divmod((a), (b), 1)
#else
#define XFSM_DIV(a, b)	((a) / (b))
#define XFSM_MOD(a, b)	((a) % (b))
#endif

/* dst = a OP b; *div_zero counts divisions by zero (which yield 0). */
static __always_inline __u64 upd_eval(__u8 op, __u64 a, __u64 b, __u8 shift, __u32 *div_zero)
{
	switch (op) {
	case XFSM_UPD_SET:	return a;
	case XFSM_UPD_ADD:	return a + b;
	case XFSM_UPD_SUB:	return a - b;
	case XFSM_UPD_MUL:	return a * b;
	case XFSM_UPD_DIV:
		if (!b) {
			(*div_zero)++;
			return 0;
		}
		return XFSM_DIV(a, b);
	case XFSM_UPD_MOD:
		if (!b) {
			(*div_zero)++;
			return 0;
		}
		return XFSM_MOD(a, b);
	case XFSM_UPD_MIN:	return a < b ? a : b;
	case XFSM_UPD_MAX:	return a > b ? a : b;
	case XFSM_UPD_AND:	return a & b;
	case XFSM_UPD_OR:	return a | b;
	case XFSM_UPD_XOR:	return a ^ b;
	case XFSM_UPD_SHL:	return a << (b & 63);
	case XFSM_UPD_SHR:	return a >> (b & 63);
	case XFSM_UPD_EWMA:
		shift &= 63;
		return a - (a >> shift) + (b >> shift);
	}
	return a;
}

/* The condition vector of a stage: bit i is condition i. */
static __always_inline __u32 conds_eval(const struct xfsm_stage *st, const struct xfsm_pkt *p,
					const flow_value *f, __u32 state,
					const struct xfsm_globals *g)
{
	__u32 n = st->n_conds, conds = 0, i;

	for (i = 0; i < XFSM_MAX_CONDS; i++) {
		const struct xfsm_cond *c = &st->conds[i];

		if (i >= n)
			break;
		if (cmp_eval(c->op, opnd_read(&c->a, p, f, state, g),
			     opnd_read(&c->b, p, f, state, g)))
			conds |= 1U << i;
	}
	return conds;
}

/*
 * Tuple-space search: one hash lookup per tuple, tuples ordered by their
 * highest rule priority, stopping once no later tuple can beat the best
 * match.
 */
static __always_inline const struct xfsm_rule *
rule_lookup(const struct xfsm_stage *st, struct xfsm_work *w, __u32 stage, __u32 conds)
{
	struct xfsm_rule_key *rk = &w->rk;
	const struct xfsm_rule *best = NULL;
	__u32 n = st->n_tuples, best_prio = 0, t;
	int i;

	rk->slot = st->rule_buf;	/* the buffer this application slot names */
	rk->stage = stage;
	for (t = 0; t < XFSM_RUN_TUPLES; t++) {
		const struct xfsm_tuple *tp = &st->tuples[t];
		const struct xfsm_rule *r;

		if (t >= n)
			break;
		if (best && tp->max_priority <= best_prio)
			break;
		const __u8 *mw = st->match_words;

		/* An opaque copy of the pointer per tuple: otherwise the
		 * compiler hoists eight word addresses out of the loop and
		 * spills them, and the offload profile's stack overflows. */
		asm volatile("" : "+r"(mw));
		rk->tuple = t;
		rk->state = w->pkt.state & tp->state_mask;
		rk->conds = conds & tp->cond_mask;
#pragma unroll
		for (i = 0; i < XFSM_MATCH_WORDS; i++)
			rk->match[i] = w->pkt.fv[fv_idx(mw[i])] & tp->match_mask[i];
		r = bpf_map_lookup_elem(&xfsm_rules, rk);
		if (r && (!best || r->priority > best_prio)) {
			best = r;
			best_prio = r->priority;
		}
	}
	return best;
}

#ifndef XFSM_OFFLOAD
/*
 * A small stage (struct xfsm_scan, built by libxfsm): the first rule of
 * the list of the packet's state (< XFSM_SCAN_STATES) that matches.  The
 * list is in the tuple search's order, so this is the rule it would find.
 * Only the match words some rule of the stage compares are read: most
 * small stages match on a field or two, or on none, and reading all
 * XFSM_MATCH_WORDS of the packet and of each rule cost them 4-14 ns per
 * packet (docs/BENCHMARKS.md).
 */
static __always_inline const struct xfsm_rule *
rule_scan(const struct xfsm_scan *sc, const struct xfsm_stage *st, struct xfsm_work *w,
	  __u32 state, __u32 conds)
{
	/* The packet's match words, in the rule key's buffer (unused here):
	 * on the stack they would make the call chain too deep for 6.1. */
	__u32 *m = w->rk.match, n, k, diff;
	int nw = XFSM_MATCH_WORDS - sc->idle_words;
	const __u8 *list;
	int i;

#pragma unroll
	for (i = 0; i < XFSM_MATCH_WORDS; i++) {
		if (i >= nw)
			break;
		m[i] = w->pkt.fv[fv_idx(st->match_words[i])];
	}
	state &= XFSM_SCAN_STATES - 1;
	list = sc->list[state];
	n = sc->len[state];
	for (k = 0; k < XFSM_SCAN_LEN; k++) {
		const struct xfsm_scan_rule *e;
		const __u32 *mk = m;

		if (k >= n)
			break;
		/* Read the words again per rule (L1 hits): hoisted out of the
		 * loop they would be spilled to the stack. */
		asm volatile("" : "+r"(mk));
		e = &sc->rules[list[k] & (XFSM_SCAN_RULES - 1)];
		diff = (conds ^ e->conds) & e->cond_mask;
#pragma unroll
		for (i = 0; i < XFSM_MATCH_WORDS; i++) {
			if (i >= nw)
				break;
			diff |= (mk[i] ^ e->match[i]) & e->match_mask[i];
		}
		if (!diff)
			return &e->rule;
	}
	return NULL;
}
#endif

#endif /* XFSM_BPF_EVAL_H */
