/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The check pass of the xfsm language: what can only be checked once the
 * whole program is read.  Goto targets may be later stages; a state may be
 * entered by a rule written after the one that matches on it.
 */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

int lang_u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void check_gotos(struct lc *c)
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

/* Every state a rule matches on is state 0, the target of a goto state of
 * the same stage, or a rollback state of one. */
static void check_states_entered(struct lc *c, unsigned int s)
{
	struct pstage *ps = &c->st[s];
	struct xfsm_stage_names *sn = &c->nm->stages[s];

	/* states matched must be entered somewhere */
	if (ps->n_entered)
		qsort(ps->entered, ps->n_entered, sizeof(*ps->entered), lang_u32_cmp);
	for (size_t i = 0; i < ps->nrules; i++) {
		struct prule *r = &ps->rules[i];

		if (r->has_state && r->state != 0 &&
		    !(ps->n_entered && bsearch(&r->state, ps->entered, ps->n_entered,
					       sizeof(*ps->entered), lang_u32_cmp))) {
			char buf[48];

			fail_at(c, r->state_tok, "state '%s' is matched but never entered: no rule of stage '%s' moves a flow into it and it is neither initial nor a rollback state",
				xfsm_lang_state_name(c->nm, s, r->state, buf, sizeof(buf)),
				sn->name);
		}
	}
}

/*
 * A stage's keys.  `key lookup K` alone makes K the update key too (and
 * `key update K` alone the lookup key): said, since a learning stage
 * usually wants two keys.  `symmetric` makes the stage's keys symmetric,
 * both of them: written on only one of two key statements it would
 * silently apply to the other one too.
 */
static void check_keys(struct lc *c, unsigned int s)
{
	const struct pstage *ps = &c->st[s];
	const char *name = c->nm->stages[s].name;

	if (ps->lookup_kw && !ps->update_kw)
		warn_at(c, ps->lookup_kw, "stage '%s' has a lookup key and no update key: rules write the flow of the lookup key (write 'key FIELDS' for one key, or add 'key update FIELDS')",
			name);
	if (ps->update_kw && !ps->lookup_kw)
		warn_at(c, ps->update_kw, "stage '%s' has an update key and no lookup key: rules read the flow of the update key (write 'key FIELDS' for one key, or add 'key lookup FIELDS')",
			name);
	if (ps->lookup_kw && ps->update_kw && ps->lookup_kw != ps->update_kw &&
	    !ps->lookup_sym != !ps->update_sym)
		fail_at(c, ps->lookup_sym ? ps->lookup_sym : ps->update_sym,
			"'symmetric' makes both keys of stage '%s' symmetric: write it on 'key lookup' and on 'key update'",
			name);
}

/* Is update u an addition to its own destination (D = D + X, X + D,
 * D - X)?  Such a write and fetch_add() commute. */
static bool adds_to_dst(const struct xfsm_update *u)
{
	bool a = u->a.kind == u->dst_kind && u->a.index == u->dst_index;
	bool b = u->b.kind == u->dst_kind && u->b.index == u->dst_index;

	return (u->op == XFSM_UPD_ADD && a != b) || (u->op == XFSM_UPD_SUB && a && !b);
}

/*
 * fetch_add() adds to its global without the globals' lock, so a locked
 * read-modify-write of the same global (global1 = global1 * 2) could undo
 * its add.  Additions are fine: libxfsm makes every addition to such a
 * global atomic (lib/plan.c).
 */
static void check_fetch_add(struct lc *c)
{
	const struct prule *taker[XFSM_GLOBAL_REGS] = { 0 };

	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		for (size_t i = 0; i < c->st[s].nrules; i++)
			for (int k = 0; k < XFSM_MAX_UPDATES; k++) {
				const struct xfsm_update *u = &c->st[s].rules[i].r.upd[k];

				if (u->op == XFSM_UPD_FETCH_ADD &&
				    !taker[u->a.index & (XFSM_GLOBAL_REGS - 1)])
					taker[u->a.index & (XFSM_GLOBAL_REGS - 1)] =
						&c->st[s].rules[i];
			}
	for (unsigned int s = 0; s < c->nm->n_stages; s++)
		for (size_t i = 0; i < c->st[s].nrules; i++) {
			const struct prule *r = &c->st[s].rules[i];

			for (int k = 0; k < XFSM_MAX_UPDATES; k++) {
				const struct xfsm_update *u = &r->r.upd[k];
				const struct prule *t;

				if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_GLOBAL_REG)
					continue;
				t = taker[u->dst_index & (XFSM_GLOBAL_REGS - 1)];
				if (t && !adds_to_dst(u))
					fail_at(c, r->first, "rule '%s' writes global%u other than by adding to it, and rule '%s' takes that global with fetch_add(), which adds to it without a lock: write it only as 'global%u = global%u + N' (or '- N')",
						r->name, u->dst_index, t->name, u->dst_index,
						u->dst_index);
			}
		}
}

void check_program(struct lc *c)
{
	check_fetch_add(c);
	check_gotos(c);
	check_acl_gotos(c);
	for (unsigned int s = 0; s < c->nm->n_stages; s++) {
		if (c->st[s].hdr.kind != XFSM_STAGE_XFSM)
			continue;
		check_keys(c, s);
		check_states_entered(c, s);
	}
}
