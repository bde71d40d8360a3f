// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A stage with more rules than stage.c compares inline: the generic
 * datapath's tuple search (rule_lookup() in bpf/eval.h) over the same
 * xfsm_rules map, under the same keys, in the same tuple order, so that
 * it finds the same rule (highest priority, then first tuple).  Only the
 * tuples that hold a rule of the stage are searched: the input is the
 * rule table as it is, and every rule edit regenerates.
 *
 * The rule found is a map value, known only at run time, while writes and
 * actions are generated per rule.  Rules that differ only in their match
 * (and statistics index, priority, image id) behave alike: each such
 * behaviour ("class") is generated once, and the found rule's statistics
 * index, through a binary search over the ranges of indexes each class
 * holds, picks its class.  A stage of one behaviour (a large filter)
 * needs no dispatch at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"

/* Behaviours generated per large stage; a stage with more stays generic. */
#define SPEC_SEARCH_MAX_CLASSES	64
/* Ranges of statistics indexes the dispatch tells apart: the verifier
 * walks each (10,000 alternating ranges: 20,313 instructions verified in
 * 0.3 s on the development machine); a stage with more stays generic. */
#define SPEC_SEARCH_MAX_RANGES	16384

/* The key is built in the new-flow area: nothing uses it before the
 * matched rule's writes, and flow creation fills it again. */
#define SO_RKEY		SO_ZFLOW
#define SO_BEST		SO_WREFRESH	/* the best rule so far (NULL: none) */

#define RKO(f)		(SO_RKEY + (int)offsetof(struct xfsm_rule_key, f))
#define RO(f)		((int)offsetof(struct xfsm_rule, f))

struct search_range {
	__u32	first;		/* smallest statistics index of the range */
	unsigned int cls;
};

struct search_ctx {
	const struct xfsm_rule *rep[SPEC_SEARCH_MAX_CLASSES];
	unsigned int l_cls[SPEC_SEARCH_MAX_CLASSES];
	unsigned int n_cls;
	size_t	count[SPEC_SEARCH_MAX_CLASSES];
	struct search_range *rg;
	size_t	n_rg;
};

/* Two rules behave alike: equal but for what the search and the
 * counters take from the map value. */
static bool same_behaviour(const struct xfsm_rule *a, const struct xfsm_rule *b)
{
	struct xfsm_rule x = *a, y = *b;

	x.rule_id = y.rule_id = 0;
	x.priority = y.priority = 0;
	x.image_id = y.image_id = 0;
	x.pad = y.pad = 0;
	return !memcmp(&x, &y, sizeof(x));
}

struct id_cls {
	__u32	id;
	unsigned int cls;
};

static int id_cmp(const void *pa, const void *pb)
{
	const struct id_cls *a = pa, *b = pb;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* Classes and the ranges of statistics indexes of each. */
static int classify(struct spec *sp, unsigned int stage, const size_t *order, size_t n,
		    struct search_ctx *c)
{
	struct id_cls *ic = calloc(n, sizeof(*ic));
	size_t i;
	unsigned int k;

	if (!ic || !(c->rg = calloc(n, sizeof(*c->rg)))) {
		free(ic);
		xfsm_emit_fail(sp->e, -ENOMEM, "out of memory");
		return sp->e->err;
	}
	for (i = 0; i < n; i++) {
		const struct xfsm_rule *r = &sp->in->rules[order[i]];

		for (k = 0; k < c->n_cls; k++)
			if (same_behaviour(c->rep[k], r))
				break;
		if (k == c->n_cls) {
			if (c->n_cls == SPEC_SEARCH_MAX_CLASSES) {
				xfsm_emit_fail(sp->e, -EOPNOTSUPP,
					       "stage %u: %zu rules of more than %d different writes and actions (the specializer generates each once)",
					       stage, n, SPEC_SEARCH_MAX_CLASSES);
				goto out;
			}
			c->rep[c->n_cls++] = r;
		}
		c->count[k]++;
		ic[i].id = r->rule_id;
		ic[i].cls = k;
	}
	qsort(ic, n, sizeof(*ic), id_cmp);
	for (i = 0; i < n; i++) {
		if (i && ic[i].id == ic[i - 1].id) {
			xfsm_emit_fail(sp->e, -EINVAL,
				       "stage %u: two rules share statistics index %u", stage, ic[i].id);
			goto out;
		}
		if (!i || ic[i].cls != c->rg[c->n_rg - 1].cls) {
			if (c->n_rg == SPEC_SEARCH_MAX_RANGES) {
				xfsm_emit_fail(sp->e, -EOPNOTSUPP,
					       "stage %u: the behaviours of its %zu rules alternate more than %d times in statistics order",
					       stage, n, SPEC_SEARCH_MAX_RANGES);
				goto out;
			}
			c->rg[c->n_rg].first = ic[i].id;
			c->rg[c->n_rg++].cls = ic[i].cls;
		}
	}
out:
	free(ic);
	return sp->e->err;
}

/* The rule's statistics index is in R2: jump to its class. */
static void dispatch(struct spec *sp, struct search_ctx *c, size_t lo, size_t hi)
{
	unsigned int left;
	size_t mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		left = xfsm_emit_label(sp->e);
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JLT, XR2, (__s32)c->rg[mid].first, left);
		dispatch(sp, c, mid, hi);
		xfsm_emit_bind(sp->e, left);
		hi = mid;
	}
	xfsm_emit_ja(sp->e, c->l_cls[c->rg[lo].cls]);
}

/* The key word at `to` = the stack word at `from` under `mask`. */
static void key_word(struct spec *sp, int from, __u32 mask, int to)
{
	if (!mask) {
		E(sp, XI_ST(BPF_W, XFP, to, 0));
		return;
	}
	E(sp, XI_LDX(BPF_W, XR1, XFP, from));
	if (mask != 0xffffffffU)
		E(sp, XI_ALU32_IMM(BPF_AND, XR1, (__s32)mask));
	E(sp, XI_STX(BPF_W, XFP, XR1, to));
}

/* rk->match[], state and conds of tuple `t` into SO_RKEY (rule_lookup()). */
static void build_key(struct spec *sp, unsigned int stage, unsigned int t)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	const struct xfsm_tuple *tp = &st->tuples[t];
	unsigned int i;

	E(sp, XI_ST(BPF_B, XFP, RKO(slot), st->rule_buf));
	E(sp, XI_ST(BPF_B, XFP, RKO(stage), stage));
	E(sp, XI_ST(BPF_H, XFP, RKO(tuple), t));
	key_word(sp, SO_STATE, tp->state_mask, RKO(state));
	key_word(sp, SO_CONDS, tp->cond_mask, RKO(conds));
	for (i = 0; i < XFSM_MATCH_WORDS; i++) {
		int off = RKO(match) + 4 * (int)i;
		unsigned int w = st->match_words[i];

		key_word(sp, so_fv(w < XFSM_FV_WORDS ? w : XFSM_FW_ZERO), tp->match_mask[i], off);
	}
}

void spec_search(struct spec *sp, unsigned int stage, const size_t *order, size_t n)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	struct search_ctx c = { 0 };
	unsigned int done = xfsm_emit_label(e), miss = xfsm_emit_label(e);
	unsigned int t, k, no_rs;
	bool has[XFSM_MAX_TUPLES] = { false }, first = true;
	size_t i;

	if (classify(sp, stage, order, n, &c))
		goto out;
	for (i = 0; i < n; i++)
		has[sp->in->keys[order[i]].tuple] = true;	/* < n_tuples (stage.c) */

	xfsm_emit_note(e, 1, "stage %u: tuple search over %s (%zu rules, %zu behaviours)", stage,
		       XFSM_MAP_RULES, n, (size_t)c.n_cls);
	E(sp, XI_ST(BPF_DW, XFP, SO_BEST, 0));
	for (t = 0; t < st->n_tuples && !e->err; t++) {
		unsigned int next = xfsm_emit_label(e), take = xfsm_emit_label(e);

		if (!has[t])
			continue;	/* no rule: the generic lookup finds nothing */
		xfsm_emit_note(e, 2, "stage %u: tuple %u (highest priority %u)", stage, t,
			       st->tuples[t].max_priority);
		if (!first) {
			/* the search stops once no later tuple can beat the best */
			unsigned int go = xfsm_emit_label(e);

			E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_BEST));
			xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, go);
			E(sp, XI_LDX(BPF_W, XR2, XR1, RO(priority)));
			xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JGE, XR2,
					  (__s32)st->tuples[t].max_priority, done);
			xfsm_emit_bind(e, go);
		}
		first = false;
		build_key(sp, stage, t);
		spec_lookup_stack(sp, XFSM_M_RULES, SO_RKEY, next);
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_BEST));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, take);
		E(sp, XI_LDX(BPF_W, XR2, XR0, RO(priority)));
		E(sp, XI_LDX(BPF_W, XR3, XR1, RO(priority)));
		xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JLE, XR2, XR3, next);
		xfsm_emit_bind(e, take);
		E(sp, XI_STX(BPF_DW, XFP, XR0, SO_BEST));
		xfsm_emit_bind(e, next);
	}
	xfsm_emit_bind(e, done);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_BEST));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, miss);

	xfsm_emit_note(e, 1, "stage %u: a rule matched: its counters", stage);
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, hits), 1);
	if (sp->inst->map_fd[XFSM_M_RULE_STATS] >= 0) {
		no_rs = xfsm_emit_label(e);
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_BEST));
		E(sp, XI_LDX(BPF_W, XR2, XR1, RO(rule_id)));
		spec_stats_reg(sp, XFSM_M_RULE_STATS, XR2, no_rs);
		spec_count_pkt(sp, XR0, offsetof(struct xfsm_rule_stats, packets),
			       offsetof(struct xfsm_rule_stats, bytes));
		xfsm_emit_bind(e, no_rs);
	}
	for (k = 0; k < c.n_cls; k++)
		c.l_cls[k] = xfsm_emit_label(e);
	if (c.n_cls > 1) {
		xfsm_emit_note(e, 1, "stage %u: the rule's behaviour, by its statistics index", stage);
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_BEST));
		E(sp, XI_LDX(BPF_W, XR2, XR1, RO(rule_id)));
		dispatch(sp, &c, 0, c.n_rg);
	}
	for (k = 0; k < c.n_cls && !e->err; k++) {
		xfsm_emit_bind(e, c.l_cls[k]);
		xfsm_emit_note(e, 1, "stage %u: behaviour %u of %zu rules (as rule %u)", stage, k,
			       c.count[k], c.rep[k]->image_id);
		spec_rule_body(sp, stage, c.rep[k]);
	}
	xfsm_emit_bind(e, miss);
out:
	free(c.rg);
}
