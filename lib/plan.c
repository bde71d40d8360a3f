/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * How an application runs fastest in the datapath, worked out when it is
 * applied (docs/datapath.md, "Fast paths").  Nothing here changes what an
 * application does; it marks what the datapath may do more cheaply:
 *
 *  - an additive register: every update that writes it adds to it
 *    (dst = dst + x, x + dst, dst - x, x not reading dst) and no update
 *    reads it otherwise.  Additions commute, so a rule whose only flow
 *    (global) write is such an add needs no lock at all: one atomic add
 *    (XFSM_RF_FLOW_NOLOCK, XFSM_RF_GLOBAL_NOLOCK).  Where such a rule
 *    adds to a register, the additions of locked transactions to it are
 *    atomic adds too (XFSM_UF_ADD), so that none is ever lost whichever
 *    CPU makes it.  Flow registers are judged per stage (a flow
 *    belongs to one stage), global registers over the whole application.
 *
 *  - a single-register chain: a rule without a transition whose flow
 *    writes all go to one register r, with no register operand but r
 *    (constants, fields and metadata are free), e.g. `reg0 = reg0 + 1,
 *    reg0 = reg0 % 16`.  Where every write of r in the stage is an
 *    addition or part of such a chain, and no update reads r otherwise,
 *    the chain runs as a compare-and-swap loop without the lock
 *    (XFSM_RF_FLOW_CAS): one atomic instruction installs the whole
 *    chain's result or retries from the value that beat it, so no update
 *    is lost and no one sees part of the chain.  The additions of locked
 *    transactions to r are then atomic adds (XFSM_UF_ADD).  The bound on
 *    the retries (include/xfsm/abi.h, XFSM_CAS_SLOW_TRIES) holds only
 *    for fewer possible CPUs than it: on larger machines such rules keep
 *    the lock.
 *
 *  - a global that a fetch-add update takes (reg = fetch_add(global, n),
 *    one atomic instruction outside the globals' lock): every addition
 *    to it is atomic too (XFSM_UF_ADD), so that none undoes another.
 *
 *  - stages that need no flow lookup (XFSM_SF_NO_LOOKUP): no rule matches
 *    on the state, no condition reads the flow, no action reads it except
 *    in a rule that writes it in a one-key stage (it reads the flow it
 *    wrote, found by the write's own lookup), and no transition sets a
 *    timeout (a lookup is what enforces and refreshes them).
 *
 *  - the flow table of each stage (XFSM_SF_TABLE): the narrowest whose
 *    key holds the words all of its key lists use, lookup and update,
 *    both directions: xfsm_flows_n (XFSM_SF_NARROW) for at most
 *    XFSM_NARROW_KEY_WORDS (2), xfsm_flows_m (XFSM_SF_MEDIUM) for at
 *    most XFSM_MEDIUM_KEY_WORDS (5), else xfsm_flows; a shorter key
 *    hashes and compares faster than the 48-byte one (docs/datapath.md,
 *    "Flow tables").
 *
 *  - per-state rule lists (struct xfsm_scan): a stage of at most
 *    XFSM_SCAN_RULES rules whose every state 0..XFSM_SCAN_STATES-1 has at
 *    most XFSM_SCAN_LEN candidate rules is matched by scanning the
 *    packet's state's list instead of hashing once per tuple.  The list
 *    keeps the tuple search's order, highest priority first and, at equal
 *    priority, the earlier tuple first, so the first match is the rule the
 *    tuple search would pick.
 *
 * The marks live in the rules and the configuration the datapath reads;
 * xfsm_read_app() clears them, so an image read back and applied again
 * is planned afresh.
 */
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "libxfsm.h"
#include "xfsm_plan.h"

static bool reads_reg(const struct xfsm_operand *o, __u8 kind, unsigned int idx)
{
	unsigned int mask = kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS - 1 : XFSM_GLOBAL_REGS - 1;

	return o->kind == kind && (o->index & mask) == idx;
}

/* The operand an update adds to its destination, or NULL when the update
 * is not an addition to it (dst = dst + x, x + dst, dst - x). */
static const struct xfsm_operand *addend(const struct xfsm_update *u)
{
	__u8 kind = u->dst_kind;
	unsigned int d = u->dst_index;
	const struct xfsm_operand *x;

	if (kind == XFSM_OPND_FLOW_REG)
		d &= XFSM_FLOW_REGS - 1;
	else
		d &= XFSM_GLOBAL_REGS - 1;
	if (u->op == XFSM_UPD_ADD && reads_reg(&u->a, kind, d))
		x = &u->b;
	else if (u->op == XFSM_UPD_ADD && reads_reg(&u->b, kind, d))
		x = &u->a;
	else if (u->op == XFSM_UPD_SUB && reads_reg(&u->a, kind, d))
		x = &u->b;
	else
		return NULL;
	return reads_reg(x, kind, d) ? NULL : x;
}

/* Strike from `mask` the registers of `kind` that operand `o` reads, unless
 * it is the destination of the addition `u` it belongs to. */
static void strike_reads(__u8 *mask, __u8 kind, const struct xfsm_operand *o,
			 const struct xfsm_update *u, const struct xfsm_operand *x)
{
	unsigned int n = kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS : XFSM_GLOBAL_REGS;

	if (o->kind != kind)
		return;
	if (x && o != x && u->dst_kind == kind)
		return;		/* the base of an addition to dst */
	*mask &= ~(1U << (o->index & (n - 1)));
}

/* Which writes of a rule could go without a lock: bit i of *flow_regs
 * (*global_regs) is set when the rule adds to flow (global) register i and
 * all its flow (global) writes are such additions; 0 when any is not. */
static void lock_free_writes(const struct xfsm_plan *plan, unsigned int stage,
			     const struct xfsm_rule *rule, __u8 *flow_regs, __u8 *global_regs)
{
	bool flow_ok = !(rule->flags & XFSM_RF_SET_STATE), global_ok = true;
	__u8 f = 0, g = 0;
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &rule->upd[i];
		__u8 fr = 1U << (u->dst_index & (XFSM_FLOW_REGS - 1));
		__u8 gr = 1U << (u->dst_index & (XFSM_GLOBAL_REGS - 1));

		if (u->op == XFSM_UPD_NONE)
			continue;
		if (u->dst_kind == XFSM_OPND_FLOW_REG) {
			f |= fr;
			flow_ok &= !!(plan->flow_add[stage] & fr);
		} else if (u->dst_kind == XFSM_OPND_GLOBAL_REG) {
			g |= gr;
			global_ok &= !!(plan->global_add & gr);
		}
	}
	/* Additions only (a transition needs the lock).  Additions commute,
	 * and no update reads an additive register but to add to it, so no
	 * other transaction can see some of them without the others. */
	*flow_regs = flow_ok ? f : 0;
	*global_regs = global_ok ? g : 0;
}

static bool chain_operand(const struct xfsm_operand *o, unsigned int reg)
{
	switch (o->kind) {
	case XFSM_OPND_NONE:
	case XFSM_OPND_CONST:
	case XFSM_OPND_FIELD:
	case XFSM_OPND_META:
		return true;
	case XFSM_OPND_FLOW_REG:
		return (o->index & (XFSM_FLOW_REGS - 1)) == reg;
	}
	return false;	/* another register or the state: read under the lock */
}

int xfsm_plan_chain_reg(const struct xfsm_rule *rule)
{
	int i, reg = -1;

	if (rule->flags & XFSM_RF_SET_STATE)
		return -1;	/* a transition takes the lock */
	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &rule->upd[i];
		int d = u->dst_index & (XFSM_FLOW_REGS - 1);

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		if (u->op >= XFSM_UPD_FETCH_ADD || (reg >= 0 && d != reg))
			return -1;
		reg = d;
		if (!chain_operand(&u->a, reg) || !chain_operand(&u->b, reg))
			return -1;
	}
	return reg;
}

/* The flow registers of each stage that may be written by compare and
 * swap: every update writing one adds to it or belongs to a chain on it,
 * and no update reads it but these. */
static void plan_cas(const struct xfsm_image *img, struct xfsm_plan *plan)
{
	size_t r;
	int s, i;

	for (s = 0; s < XFSM_MAX_STAGES; s++)
		plan->flow_cas[s] = (1U << XFSM_FLOW_REGS) - 1;
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];
		int chain = xfsm_plan_chain_reg(&e->rule);
		__u8 *cas;

		if (e->key.stage >= XFSM_MAX_STAGES)
			continue;
		cas = &plan->flow_cas[e->key.stage];
		for (i = 0; i < XFSM_MAX_UPDATES; i++) {
			const struct xfsm_update *u = &e->rule.upd[i];
			bool flow = u->dst_kind == XFSM_OPND_FLOW_REG;
			const struct xfsm_operand *x = NULL;
			unsigned int d = u->dst_index & (XFSM_FLOW_REGS - 1);

			if (u->op == XFSM_UPD_NONE)
				continue;
			if (flow && chain >= 0)
				continue;	/* reads and writes the chain's register only */
			if (flow && u->op != XFSM_UPD_FETCH_ADD)
				x = addend(u);
			if (flow && !x)
				*cas &= ~(1U << d);
			/* a read that is not the base of this addition */
			strike_reads(cas, XFSM_OPND_FLOW_REG, &u->a, u, x);
			strike_reads(cas, XFSM_OPND_FLOW_REG, &u->b, u, x);
		}
	}
	plan->cas_ok = libbpf_num_possible_cpus() > 0 &&
		       libbpf_num_possible_cpus() < XFSM_CAS_SLOW_TRIES;
}

/* Does the rule run its flow writes as a compare-and-swap loop? */
static bool rule_cas(const struct xfsm_plan *plan, unsigned int stage,
		     const struct xfsm_rule *rule, __u8 flow_nolock)
{
	int chain = xfsm_plan_chain_reg(rule);

	return plan->cas_ok && !flow_nolock && chain >= 0 &&
	       (plan->flow_cas[stage] & (1U << chain));
}

void xfsm_image_plan(const struct xfsm_image *img, struct xfsm_plan *plan)
{
	size_t r;
	int s, i;

	memset(plan, 0, sizeof(*plan));
	for (s = 0; s < XFSM_MAX_STAGES; s++)
		plan->flow_add[s] = (1U << XFSM_FLOW_REGS) - 1;
	plan->global_add = (1U << XFSM_GLOBAL_REGS) - 1;
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];
		__u8 *flow;

		if (e->key.stage >= XFSM_MAX_STAGES)
			continue;
		flow = &plan->flow_add[e->key.stage];
		for (i = 0; i < XFSM_MAX_UPDATES; i++) {
			const struct xfsm_update *u = &e->rule.upd[i];
			const struct xfsm_operand *x;

			if (u->op == XFSM_UPD_NONE)
				continue;
			if (u->op == XFSM_UPD_FETCH_ADD && u->a.kind == XFSM_OPND_GLOBAL_REG) {
				/* an atomic addition to global a, which reads it
				 * only to hand its value to the flow register */
				plan->global_fetch |= 1U << (u->a.index & (XFSM_GLOBAL_REGS - 1));
				*flow &= ~(1U << (u->dst_index & (XFSM_FLOW_REGS - 1)));
				strike_reads(flow, XFSM_OPND_FLOW_REG, &u->b, u, NULL);
				strike_reads(&plan->global_add, XFSM_OPND_GLOBAL_REG, &u->b, u, NULL);
				continue;
			}
			x = addend(u);
			if (!x && u->dst_kind == XFSM_OPND_FLOW_REG)
				*flow &= ~(1U << (u->dst_index & (XFSM_FLOW_REGS - 1)));
			if (!x && u->dst_kind == XFSM_OPND_GLOBAL_REG)
				plan->global_add &= ~(1U << (u->dst_index & (XFSM_GLOBAL_REGS - 1)));
			strike_reads(flow, XFSM_OPND_FLOW_REG, &u->a, u, x);
			strike_reads(flow, XFSM_OPND_FLOW_REG, &u->b, u, x);
			strike_reads(&plan->global_add, XFSM_OPND_GLOBAL_REG, &u->a, u, x);
			strike_reads(&plan->global_add, XFSM_OPND_GLOBAL_REG, &u->b, u, x);
		}
	}
	/* Then the registers that some rule adds to without the lock. */
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];
		__u8 f, g;

		if (e->key.stage >= XFSM_MAX_STAGES)
			continue;
		lock_free_writes(plan, e->key.stage, &e->rule, &f, &g);
		plan->flow_nolock[e->key.stage] |= f;
		plan->global_nolock |= g;
	}
	plan_cas(img, plan);
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule_entry *e = &img->rules[r];
		__u8 f, g;

		if (e->key.stage >= XFSM_MAX_STAGES)
			continue;
		lock_free_writes(plan, e->key.stage, &e->rule, &f, &g);
		if (rule_cas(plan, e->key.stage, &e->rule, f))
			plan->flow_casw[e->key.stage] |= 1U << xfsm_plan_chain_reg(&e->rule);
	}
}

void xfsm_plan_rule(const struct xfsm_plan *plan, unsigned int stage, struct xfsm_rule *rule)
{
	__u8 f, g;
	int i;

	xfsm_plan_clear_rule(rule);
	if (stage >= XFSM_MAX_STAGES)
		return;
	lock_free_writes(plan, stage, rule, &f, &g);
	if (f)
		rule->flags |= XFSM_RF_FLOW_NOLOCK;
	if (g)
		rule->flags |= XFSM_RF_GLOBAL_NOLOCK;
	if (rule_cas(plan, stage, rule, f))
		rule->flags |= XFSM_RF_FLOW_CAS;
	/* An addition inside a locked transaction is atomic only where a
	 * lock-free rule adds to (or swaps) the same register: among locked
	 * writers the lock suffices, and an atomic add costs more than a
	 * store. */
	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		struct xfsm_update *u = &rule->upd[i];
		unsigned int fr = u->dst_index & (XFSM_FLOW_REGS - 1);
		unsigned int gr = u->dst_index & (XFSM_GLOBAL_REGS - 1);

		if (u->op == XFSM_UPD_NONE)
			continue;
		if (u->dst_kind == XFSM_OPND_FLOW_REG &&
		    (plan->flow_add[stage] & plan->flow_nolock[stage] & (1U << fr)))
			u->flags |= XFSM_UF_ADD;
		/* a compare-and-swap rule writes it without the lock: an
		 * addition of a locked transaction must not overwrite it */
		if (u->dst_kind == XFSM_OPND_FLOW_REG && !(rule->flags & XFSM_RF_FLOW_CAS) &&
		    (plan->flow_cas[stage] & plan->flow_casw[stage] & (1U << fr)) && addend(u))
			u->flags |= XFSM_UF_ADD;
		if (u->dst_kind == XFSM_OPND_GLOBAL_REG &&
		    (plan->global_add & plan->global_nolock & (1U << gr)))
			u->flags |= XFSM_UF_ADD;
		/* a fetch-add takes this global without the lock: an
		 * addition to it under the lock must be atomic too */
		if (u->dst_kind == XFSM_OPND_GLOBAL_REG && (plan->global_fetch & (1U << gr)) &&
		    addend(u))
			u->flags |= XFSM_UF_ADD;
	}
}

void xfsm_plan_clear_rule(struct xfsm_rule *rule)
{
	int i;

	rule->flags &= ~XFSM_RF_PLANNED;
	for (i = 0; i < XFSM_MAX_UPDATES; i++)
		rule->upd[i].flags &= ~XFSM_UF_ADD;
}

struct scan_cand {
	const struct xfsm_rule_entry *e;
};

static int cmp_cand(const void *pa, const void *pb)
{
	const struct xfsm_rule_entry *a = ((const struct scan_cand *)pa)->e;
	const struct xfsm_rule_entry *b = ((const struct scan_cand *)pb)->e;

	if (a->rule.priority != b->rule.priority)
		return a->rule.priority > b->rule.priority ? -1 : 1;
	if (a->key.tuple != b->key.tuple)
		return a->key.tuple < b->key.tuple ? -1 : 1;
	return 0;
}

/* The scan lists of one stage; false when it does not fit (the stage
 * then keeps the tuple search). */
static bool plan_scan(const struct xfsm_plan *plan, const struct xfsm_image *img,
		      unsigned int stage, __u32 rule_id_base, struct xfsm_scan *sc)
{
	const struct xfsm_stage *st = &img->app.stages[stage];
	struct scan_cand c[XFSM_SCAN_RULES];
	unsigned int n = 0, used, i, s;
	size_t r;

	memset(sc, 0, sizeof(*sc));
	if (st->kind != XFSM_STAGE_XFSM || st->n_tuples > XFSM_MAX_TUPLES)
		return false;
	for (r = 0; r < img->n_rules; r++) {
		if (img->rules[r].key.stage != stage)
			continue;
		if (n == XFSM_SCAN_RULES || img->rules[r].key.tuple >= st->n_tuples)
			return false;
		c[n++].e = &img->rules[r];
	}
	qsort(c, n, sizeof(c[0]), cmp_cand);
	for (i = 0; i < n; i++) {
		const struct xfsm_rule_entry *e = c[i].e;
		const struct xfsm_tuple *t = &st->tuples[e->key.tuple];
		struct xfsm_scan_rule *sr = &sc->rules[i];

		sr->conds = e->key.conds;
		sr->cond_mask = t->cond_mask;
		memcpy(sr->match, e->key.match, sizeof(sr->match));
		memcpy(sr->match_mask, t->match_mask, sizeof(sr->match_mask));
		sr->rule = e->rule;
		xfsm_plan_rule(plan, stage, &sr->rule);
		sr->rule.rule_id += rule_id_base;
		for (s = 0; s < XFSM_SCAN_STATES; s++) {
			if ((s & t->state_mask) != e->key.state)
				continue;
			if (sc->len[s] == XFSM_SCAN_LEN)
				return false;
			sc->list[s][sc->len[s]++] = i;
		}
	}
	/* The scan reads the match words up to the last one a rule
	 * compares. */
	for (used = XFSM_MATCH_WORDS; used > 0; used--) {
		for (i = 0; i < n; i++)
			if (sc->rules[i].match_mask[used - 1])
				break;
		if (i < n)
			break;
	}
	sc->idle_words = XFSM_MATCH_WORDS - used;
	sc->n_rules = n;
	sc->enabled = 1;
	return true;
}

static bool reads_flow(const struct xfsm_operand *o)
{
	return o->kind == XFSM_OPND_FLOW_REG || o->kind == XFSM_OPND_STATE;
}

/* Does anything in stage `stage` read its lookup-scope flow? */
static bool stage_reads_flow(const struct xfsm_image *img, unsigned int stage)
{
	const struct xfsm_stage *st = &img->app.stages[stage];
	unsigned int i;
	size_t r;

	if (st->kind != XFSM_STAGE_XFSM)
		return true;
	for (i = 0; i < st->n_tuples && i < XFSM_MAX_TUPLES; i++)
		if (st->tuples[i].state_mask)
			return true;
	for (i = 0; i < st->n_conds && i < XFSM_MAX_CONDS; i++)
		if (reads_flow(&st->conds[i].a) || reads_flow(&st->conds[i].b))
			return true;
	for (r = 0; r < img->n_rules; r++) {
		const struct xfsm_rule *rule = &img->rules[r].rule;
		bool writes_it = (rule->flags & XFSM_RF_WRITES_FLOW) &&
				 (st->flags & XFSM_SF_SAME_KEYS);

		if (img->rules[r].key.stage != stage)
			continue;
		if ((rule->flags & XFSM_RF_SET_STATE) &&
		    (rule->idle_timeout_ms || rule->hard_timeout_ms))
			return true;
		for (i = 0; i < XFSM_MAX_ACTIONS && !writes_it; i++)
			if (rule->act[i].type != XFSM_ACT_NONE && reads_flow(&rule->act[i].opnd))
				return true;
	}
	return false;
}

/* The flow table class for all four key lists (lookup and update, both
 * directions of a symmetric key): the narrowest table whose key holds
 * every word they use.  Both keys: a flow a rule creates under the update
 * key is found by the lookup key, so they share a table. */
__u32 xfsm_stage_keys_table(const struct xfsm_stage *st)
{
	const __u8 *k[] = { st->lookup_words, st->update_words, st->lookup_rev, st->update_rev };
	unsigned int n = st->flags & XFSM_SF_SYMMETRIC ? 4 : 2, used = 0, j, i;
	const struct xfsm_flow_table_class *best = NULL, *c;

	if (st->kind != XFSM_STAGE_XFSM)
		return 0;
	for (j = 0; j < n; j++)
		for (i = 0; i < XFSM_KEY_WORDS; i++)
			if (k[j][i] != XFSM_FW_ZERO && k[j][i] < XFSM_FV_WORDS && i >= used)
				used = i + 1;
	for (c = xfsm_flow_table_classes; c < xfsm_flow_table_classes + XFSM_FLOW_TABLE_CLASSES; c++)
		if (c->words >= used && (!best || c->words < best->words))
			best = c;
	return best->stage_flag;
}

void xfsm_plan_app(const struct xfsm_plan *plan, const struct xfsm_image *img,
		   struct xfsm_app *app, __u32 rule_id_base)
{
	unsigned int s;

	xfsm_plan_clear_app(app);
	for (s = 0; s < app->n_stages && s < XFSM_MAX_STAGES; s++) {
		if (!plan_scan(plan, img, s, rule_id_base, &app->scan[s]))
			memset(&app->scan[s], 0, sizeof(app->scan[s]));
		if (!stage_reads_flow(img, s))
			app->stages[s].flags |= XFSM_SF_NO_LOOKUP;
		app->stages[s].flags |= xfsm_stage_keys_table(&app->stages[s]);
	}
}

void xfsm_plan_clear_app(struct xfsm_app *app)
{
	unsigned int s;

	memset(app->scan, 0, sizeof(app->scan));
	for (s = 0; s < XFSM_MAX_STAGES; s++)
		app->stages[s].flags &= ~(XFSM_SF_NO_LOOKUP | XFSM_SF_TABLE);
}
