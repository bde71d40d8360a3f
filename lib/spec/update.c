// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A matched rule's writes (stage_write() in bpf/xfsm.bpf.c, bpf/update.h):
 * the flow it writes, found or created (flow_for_update(), flow_create()),
 * the transition that only restarts an idle timer (flow_refresh_only()),
 * the lock-free additions the plan marked (rule_add()), and otherwise the
 * flow's transaction under its striped lock (flow_commit(), flow_apply())
 * and the globals' under theirs (globals_commit(), globals_apply()).
 */
#include <errno.h>

#include "spec/internal.h"
#include "xfsm_plan.h"

#define FO(field)	((int)offsetof(struct xfsm_flow, field))
#define GO(i)		((int)offsetof(struct xfsm_globals, reg) + 8 * (int)(i))

static bool opnd_is_reg(const struct xfsm_operand *o, __u8 kind, __u32 idx)
{
	__u32 mask = kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS - 1 : XFSM_GLOBAL_REGS - 1;

	return o->kind == kind && (o->index & mask) == idx;
}

static __u32 dst_mask(__u8 kind)
{
	return kind == XFSM_OPND_FLOW_REG ? XFSM_FLOW_REGS - 1 : XFSM_GLOBAL_REGS - 1;
}

int spec_write_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];

		if (u->op == XFSM_UPD_NONE)
			continue;
		if (u->op >= XFSM_UPD__MAX || !spec_opnd_ok(&u->a) || !spec_opnd_ok(&u->b)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u, update %u: op %u",
				       stage, r->image_id, i, u->op);
			return sp->e->err;
		}
		spec_need_opnd(sp, &u->a);
		spec_need_opnd(sp, &u->b);
		if (u->dst_kind == XFSM_OPND_GLOBAL_REG || u->op == XFSM_UPD_FETCH_ADD)
			sp->uses_globals = true;
	}
	return 0;
}

/* R1 = a OP b (R1, R2): upd_eval(); a division by zero counts in SO_DIVZ.
 * Uses R4 too; no call (it runs under locks). */
static void emit_eval(struct spec *sp, const struct xfsm_update *u)
{
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e), nz = xfsm_emit_label(e);
	int s = u->shift & 63;

	switch (u->op) {
	case XFSM_UPD_SET:
		break;
	case XFSM_UPD_ADD:
		E(sp, XI_ALU64_REG(BPF_ADD, XR1, XR2));
		break;
	case XFSM_UPD_SUB:
		E(sp, XI_ALU64_REG(BPF_SUB, XR1, XR2));
		break;
	case XFSM_UPD_MUL:
		E(sp, XI_ALU64_REG(BPF_MUL, XR1, XR2));
		break;
	case XFSM_UPD_DIV:
	case XFSM_UPD_MOD:
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR2, 0, nz);
		E(sp, XI_MOV64_IMM(XR1, 0));
		E(sp, XI_LDX(BPF_W, XR4, XFP, SO_DIVZ));
		E(sp, XI_ALU32_IMM(BPF_ADD, XR4, 1));
		E(sp, XI_STX(BPF_W, XFP, XR4, SO_DIVZ));
		xfsm_emit_ja(e, done);
		xfsm_emit_bind(e, nz);
		E(sp, XI_ALU64_REG(u->op == XFSM_UPD_DIV ? BPF_DIV : BPF_MOD, XR1, XR2));
		break;
	case XFSM_UPD_MIN:
		xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JLT, XR1, XR2, done);
		E(sp, XI_MOV64_REG(XR1, XR2));
		break;
	case XFSM_UPD_MAX:
		xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGT, XR1, XR2, done);
		E(sp, XI_MOV64_REG(XR1, XR2));
		break;
	case XFSM_UPD_AND:
		E(sp, XI_ALU64_REG(BPF_AND, XR1, XR2));
		break;
	case XFSM_UPD_OR:
		E(sp, XI_ALU64_REG(BPF_OR, XR1, XR2));
		break;
	case XFSM_UPD_XOR:
		E(sp, XI_ALU64_REG(BPF_XOR, XR1, XR2));
		break;
	case XFSM_UPD_SHL:
	case XFSM_UPD_SHR:
		E(sp, XI_ALU64_IMM(BPF_AND, XR2, 63));
		E(sp, XI_ALU64_REG(u->op == XFSM_UPD_SHL ? BPF_LSH : BPF_RSH, XR1, XR2));
		break;
	case XFSM_UPD_EWMA:
		E(sp, XI_MOV64_REG(XR4, XR1));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR4, s));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR2, s));
		E(sp, XI_ALU64_REG(BPF_SUB, XR1, XR4));
		E(sp, XI_ALU64_REG(BPF_ADD, XR1, XR2));
		break;
	}
	xfsm_emit_bind(e, done);
}

/* True when v, sign-extended from 32 bits, is v: an ALU64 immediate. */
static bool fits_imm(__u64 v)
{
	return (__s64)v == (__s64)(__s32)v;
}

/*
 * R1 = R1 OP b for a constant b, as immediates and without the division's
 * zero test where b allows (the same results as emit_eval() with b in R2:
 * registers are unsigned 64-bit, so a division or remainder by 2^k is a
 * shift or a mask).  Returns false, emitting nothing, when b is not a
 * constant or the operation has no shorter form for it.
 */
static bool emit_eval_const(struct spec *sp, const struct xfsm_update *u)
{
	__u64 v = u->b.kind == XFSM_OPND_CONST ? u->b.value : 0;
	int k = v && !(v & (v - 1)) ? __builtin_ctzll(v) : -1;	/* v == 2^k */

	if (u->b.kind != XFSM_OPND_CONST && u->b.kind != XFSM_OPND_NONE)
		return false;
	switch (u->op) {
	case XFSM_UPD_ADD:
	case XFSM_UPD_SUB:
	case XFSM_UPD_MUL:
	case XFSM_UPD_AND:
	case XFSM_UPD_OR:
	case XFSM_UPD_XOR:
		if (!fits_imm(v))
			return false;
		E(sp, XI_ALU64_IMM(u->op == XFSM_UPD_ADD ? BPF_ADD : u->op == XFSM_UPD_SUB ? BPF_SUB :
				   u->op == XFSM_UPD_MUL ? BPF_MUL : u->op == XFSM_UPD_AND ? BPF_AND :
				   u->op == XFSM_UPD_OR ? BPF_OR : BPF_XOR, XR1, (__s32)v));
		return true;
	case XFSM_UPD_SHL:
	case XFSM_UPD_SHR:
		E(sp, XI_ALU64_IMM(u->op == XFSM_UPD_SHL ? BPF_LSH : BPF_RSH, XR1, (__s32)(v & 63)));
		return true;
	case XFSM_UPD_DIV:
		if (k == 0)
			return true;			/* / 1 */
		if (k > 0) {
			E(sp, XI_ALU64_IMM(BPF_RSH, XR1, k));
			return true;
		}
		if (!v || v > 0x7fffffffULL)
			return false;			/* zero: counted by emit_eval() */
		E(sp, XI_ALU64_IMM(BPF_DIV, XR1, (__s32)v));
		return true;
	case XFSM_UPD_MOD:
		if (k == 0) {
			E(sp, XI_MOV64_IMM(XR1, 0));	/* % 1 */
		} else if (k > 0 && v - 1 <= 0x7fffffffULL) {
			E(sp, XI_ALU64_IMM(BPF_AND, XR1, (__s32)(v - 1)));
		} else if (k > 0) {			/* keep the low k bits */
			E(sp, XI_ALU64_IMM(BPF_LSH, XR1, 64 - k));
			E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 64 - k));
		} else if (v && v <= 0x7fffffffULL) {
			E(sp, XI_ALU64_IMM(BPF_MOD, XR1, (__s32)v));
		} else {
			return false;
		}
		return true;
	default:
		return false;
	}
}

/* R1 = R1 OP b (emit_eval()), b the destination's old value (in `dst`)
 * when it is the destination register, else from its operand; a `set`
 * does not read b at all. */
static void emit_apply_b(struct spec *sp, const struct xfsm_update *u, bool b_is_dst, int dst,
			 const struct spec_octx *ox)
{
	if (u->op == XFSM_UPD_SET)
		return;
	if (!b_is_dst && emit_eval_const(sp, u))
		return;
	if (b_is_dst)
		E(sp, XI_MOV64_REG(XR2, dst));
	else
		spec_opnd(sp, XR2, XR4, &u->b, ox);
	emit_eval(sp, u);
}

/* R2 = the value an addition adds (upd_addend()). */
static void emit_addend(struct spec *sp, const struct xfsm_update *u, __u8 kind, __u32 d,
			const struct spec_octx *ox)
{
	const struct xfsm_operand *x = opnd_is_reg(&u->a, kind, d) ? &u->b : &u->a;

	spec_opnd(sp, XR2, XR4, x, ox);
	if (u->op == XFSM_UPD_SUB)
		E(sp, XI_NEG64(XR2));
}

/* The register updates of kind `kind` (flow: the flow in ox->fslot, not
 * NULL; global: SR_G).  `adds_only`: every one is an atomic addition
 * (flow_add_nolock(), global_add_nolock()); else flow_apply() /
 * globals_apply(), XFSM_UF_ADD ones atomic. */
static void emit_updates(struct spec *sp, const struct xfsm_rule *r, __u8 kind, bool adds_only,
			 const struct spec_octx *ox)
{
	bool flow = kind == XFSM_OPND_FLOW_REG;
	unsigned int i;

	if (flow && spec_compact(sp))
		return;		/* no flow register: flow_apply() writes none */
	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u32 d = u->dst_index & dst_mask(kind);
		int base = flow ? XR3 : SR_G, off = flow ? FO(regs) + 8 * (int)d : GO(d);

		if (u->op == XFSM_UPD_NONE || u->dst_kind != kind)
			continue;
		xfsm_emit_note(sp->e, 3, "update %u: %s register %u (op %u%s)", i,
			       flow ? "flow" : "global", d, u->op,
			       adds_only || (u->flags & XFSM_UF_ADD) ? ", atomic add" : "");
		if (flow && !adds_only && u->op == XFSM_UPD_FETCH_ADD) {
			/* flow dst = global a, global a += b, one atomic */
			spec_opnd(sp, XR2, XR4, &u->b, ox);
			E(sp, XI_MOV64_REG(XR1, XR2));
			E(sp, XI_ATOMIC_FETCH_ADD(BPF_DW, SR_G, XR1,
						  GO(u->a.index & (XFSM_GLOBAL_REGS - 1))));
			E(sp, XI_LDX(BPF_DW, XR3, XFP, ox->fslot));
			E(sp, XI_STX(BPF_DW, XR3, XR1, off));
			continue;
		}
		if (adds_only || (u->flags & XFSM_UF_ADD)) {
			emit_addend(sp, u, kind, d, ox);
			if (flow)
				E(sp, XI_LDX(BPF_DW, XR3, XFP, ox->fslot));
			E(sp, XI_ATOMIC_ADD(BPF_DW, base, XR2, off));
			continue;
		}
		/* the destination is read once, as operand and as base */
		if (flow)
			E(sp, XI_LDX(BPF_DW, XR3, XFP, ox->fslot));
		E(sp, XI_LDX(BPF_DW, XR0, base, off));
		if (opnd_is_reg(&u->a, kind, d))
			E(sp, XI_MOV64_REG(XR1, XR0));
		else
			spec_opnd(sp, XR1, XR4, &u->a, ox);
		emit_apply_b(sp, u, opnd_is_reg(&u->b, kind, d), XR0, ox);
		if (flow)
			E(sp, XI_LDX(BPF_DW, XR3, XFP, ox->fslot));
		E(sp, XI_STX(BPF_DW, base, XR1, off));
	}
}

static bool has_flow_updates(const struct xfsm_rule *r)
{
	for (int i = 0; i < XFSM_MAX_UPDATES; i++)
		if (r->upd[i].op != XFSM_UPD_NONE && r->upd[i].dst_kind == XFSM_OPND_FLOW_REG)
			return true;
	return false;
}

/* flow_apply()'s transition and version, on the flow in SO_WF (R3). */
static void emit_transition(struct spec *sp, const struct xfsm_rule *r)
{
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WF));
	if (r->flags & XFSM_RF_SET_STATE) {
		xfsm_emit_note(sp->e, 3, "next state %u", r->next_state);
		E(sp, XI_ST(BPF_W, XR3, FO(state), (__s32)r->next_state));
		E(sp, XI_ST(BPF_W, XR3, FO(idle_timeout_ms), (__s32)r->idle_timeout_ms));
		E(sp, XI_ST(BPF_W, XR3, FO(idle_rollback), (__s32)r->idle_rollback));
		E(sp, XI_ST(BPF_W, XR3, FO(hard_rollback), (__s32)r->hard_rollback));
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_NOW));
		if (spec_compact(sp)) {
			/* no hard deadline, no creation time */
		} else if (r->hard_timeout_ms) {
			spec_mov_imm(sp, XR2, (__u64)r->hard_timeout_ms * 1000000ULL);
			E(sp, XI_ALU64_REG(BPF_ADD, XR2, XR1));
			E(sp, XI_STX(BPF_DW, XR3, XR2, FO(hard_deadline_ns)));
		} else {
			E(sp, XI_ST(BPF_DW, XR3, FO(hard_deadline_ns), 0));
		}
		if (!spec_compact(sp))
			E(sp, XI_STX(BPF_DW, XR3, XR1, FO(created_ns)));
		E(sp, XI_STX(BPF_DW, XR3, XR1, FO(last_seen_ns)));
	}
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(version)));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR1, 1));
	E(sp, XI_STX(BPF_W, XR3, XR1, FO(version)));
}

static bool chain_divides(const struct xfsm_rule *r)
{
	for (int i = 0; i < XFSM_MAX_UPDATES; i++)
		if (r->upd[i].dst_kind == XFSM_OPND_FLOW_REG &&
		    (r->upd[i].op == XFSM_UPD_DIV || r->upd[i].op == XFSM_UPD_MOD))
			return true;
	return false;
}

/* cas_try(): one attempt on flow register d of the flow in R3, which it
 * keeps; jumps to `ok` when the chain's result is installed.  R0 the
 * value the chain started from, R5 the running value; the chain runs in
 * R1, R2, R4 (emit_eval()), no call (it runs under the lock too). */
static void emit_cas_try(struct spec *sp, const struct xfsm_rule *r, __u32 d, unsigned int ok,
			 const struct spec_octx *ox)
{
	struct xfsm_emit *e = sp->e;
	int off = FO(regs) + 8 * (int)d;
	unsigned int i;

	if (chain_divides(r)) {
		/* only the attempt that succeeds counts its divisions */
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_CAS_DZ));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_DIVZ));
	}
	E(sp, XI_LDX(BPF_DW, XR0, XR3, off));
	E(sp, XI_MOV64_REG(XR5, XR0));
	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		if (opnd_is_reg(&u->a, XFSM_OPND_FLOW_REG, d))
			E(sp, XI_MOV64_REG(XR1, XR5));
		else
			spec_opnd(sp, XR1, XR4, &u->a, ox);
		emit_apply_b(sp, u, opnd_is_reg(&u->b, XFSM_OPND_FLOW_REG, d), XR5, ox);
		E(sp, XI_MOV64_REG(XR5, XR1));
	}
	E(sp, XI_MOV64_REG(XR2, XR0));
	E(sp, XI_ATOMIC_CMPXCHG(BPF_DW, XR3, XR5, off));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JEQ, XR0, XR2, ok);
}

/* flow_cas(): an XFSM_RF_FLOW_CAS rule's chain on the flow in SO_WF, its
 * key in SO_KEY; a few attempts while no writer is on the slow path, then
 * the slow count raised, the striped lock, the bounded attempts. */
static void emit_flow_cas(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	const struct spec_octx ox = { .fslot = SO_WF, .f_nonnull = true, .state = SS_FLOW };
	bool same = st->flags & XFSM_SF_SAME_KEYS;
	struct xfsm_emit *e = sp->e;
	unsigned int ok = xfsm_emit_label(e), slow = xfsm_emit_label(e);
	unsigned int loop = xfsm_emit_label(e), locked_ok = xfsm_emit_label(e);
	unsigned int nolock = xfsm_emit_label(e), leave = xfsm_emit_label(e);
	int d = xfsm_plan_chain_reg(r), i;

	xfsm_emit_note(e, 2, "flow register %d: compare-and-swap, no lock (%d tries, then %d under the lock)",
		       d, XFSM_CAS_FAST_TRIES, XFSM_CAS_SLOW_TRIES);
	if (chain_divides(r)) {
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_DIVZ));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_CAS_DZ));
	}
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WF));
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(flags)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, (__s32)XFSM_FF_CAS_SLOW));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, 0, slow);
	for (i = 0; i < XFSM_CAS_FAST_TRIES; i++)
		emit_cas_try(sp, r, (__u32)d, ok, &ox);

	xfsm_emit_bind(e, slow);
	xfsm_emit_note(e, 3, "slow path: counted in the flow's flags, under its striped lock");
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WF));
	E(sp, XI_MOV64_IMM(XR1, 1 << XFSM_FF_CAS_SLOW_SHIFT));
	E(sp, XI_ATOMIC_FETCH_ADD(BPF_W, XR3, XR1, FO(flags)));
	spec_flow_lock(sp, stage, same ? st->lookup_words : st->update_words,
		       same ? st->lookup_rev : st->update_rev, st->flags & XFSM_SF_SYMMETRIC, nolock);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_LOCK));
	E(sp, XI_MOV64_REG(XR1, XR0));
	E(sp, XI_CALL(BPF_FUNC_spin_lock));
	E(sp, XI_ST(BPF_DW, XFP, SO_CAS_I, 0));
	xfsm_emit_bind(e, loop);
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WF));
	emit_cas_try(sp, r, (__u32)d, locked_ok, &ox);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_CAS_I));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR1, 1));
	E(sp, XI_STX(BPF_DW, XFP, XR1, SO_CAS_I));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR1, XFSM_CAS_SLOW_TRIES, loop);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
	xfsm_emit_bind(e, nolock);	/* gave up */
	spec_cnt_add(sp, SR_STATS, offsetof(struct xfsm_stats, exc_cas_exhausted), 1);
	xfsm_emit_ja(e, leave);
	xfsm_emit_bind(e, locked_ok);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
	xfsm_emit_bind(e, leave);
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WF));
	E(sp, XI_MOV64_IMM(XR1, -(1 << XFSM_FF_CAS_SLOW_SHIFT)));
	E(sp, XI_ATOMIC_ADD(BPF_W, XR3, XR1, FO(flags)));
	xfsm_emit_bind(e, ok);
}

/* flow_commit() on the flow in SO_WF (not NULL), its key in SO_KEY. */
static void emit_flow_commit(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	bool same = st->flags & XFSM_SF_SAME_KEYS;
	const struct spec_octx ox = { .fslot = SO_WF, .f_nonnull = true, .state = SS_FLOW };
	unsigned int out = xfsm_emit_label(sp->e);

	if (r->flags & XFSM_RF_FLOW_NOLOCK) {
		emit_updates(sp, r, XFSM_OPND_FLOW_REG, true, &ox);
		return;
	}
	if (r->flags & XFSM_RF_FLOW_CAS) {
		/* like an addition, the chain leaves the version alone; a
		 * compact flow has no register to chain (flow_cas()) */
		if (!spec_compact(sp))
			emit_flow_cas(sp, stage, r);
		return;
	}
	xfsm_emit_note(sp->e, 2, "flow transaction under its striped lock");
	spec_flow_lock(sp, stage, same ? st->lookup_words : st->update_words,
		       same ? st->lookup_rev : st->update_rev, st->flags & XFSM_SF_SYMMETRIC, out);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_LOCK));
	if (r->flags & XFSM_RF_SET_STATE)
		spec_now(sp, XR0);	/* the transition stamps it, under the lock */
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_lock));
	emit_updates(sp, r, XFSM_OPND_FLOW_REG, false, &ox);
	emit_transition(sp, r);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
	xfsm_emit_bind(sp->e, out);
}

/* globals_commit(): the global registers, the flow written (SO_WF) seen
 * as the operands' flow. */
static void emit_globals_commit(struct spec *sp, const struct xfsm_rule *r)
{
	const struct spec_octx ox = { .fslot = SO_WF, .state = SS_FLOW_OR_ZERO };

	if (r->flags & XFSM_RF_GLOBAL_NOLOCK) {
		emit_updates(sp, r, XFSM_OPND_GLOBAL_REG, false, &ox);
		return;
	}
	xfsm_emit_note(sp->e, 2, "global registers under their lock");
	E(sp, XI_MOV64_REG(XR1, SR_G));
	E(sp, XI_CALL(BPF_FUNC_spin_lock));
	emit_updates(sp, r, XFSM_OPND_GLOBAL_REG, false, &ox);
	E(sp, XI_MOV64_REG(XR1, SR_G));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
}

/* flow_create(): a state-0 flow under SO_KEY unless one exists; SO_UF the
 * entry (NULL when the table is full). */
static void emit_flow_create(struct spec *sp, unsigned int stage)
{
	int table = spec_flow_table(sp, stage);
	struct xfsm_emit *e = sp->e;
	unsigned int exists = xfsm_emit_label(e), got, out = xfsm_emit_label(e);
	int i;

	xfsm_emit_note(e, 2, "new flow in state 0");
	for (i = 0; i < (int)sizeof(struct xfsm_flow); i += 8)
		E(sp, XI_ST(BPF_DW, XFP, SO_ZFLOW + i, 0));
	xfsm_emit_map(e, XR1, sp->inst->map_fd[table]);
	E(sp, XI_MOV64_REG(XR2, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR2, SO_KEY));
	E(sp, XI_MOV64_REG(XR3, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR3, SO_ZFLOW));
	E(sp, XI_MOV64_IMM(XR4, BPF_NOEXIST));
	E(sp, XI_CALL(BPF_FUNC_map_update_elem));
	/* compared as an int (the helper's upper half may be 0 before 6.3) */
	E(sp, XI_STX(BPF_W, XFP, XR0, SO_TMP));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR0, 0, exists);
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR0, -EEXIST, exists);
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, table_full), 1);
	spec_cnt_add(sp, SR_STATS, offsetof(struct xfsm_stats, exc_flow_table_full), 1);
	xfsm_emit_ja(e, out);	/* SO_UF stays NULL */

	xfsm_emit_bind(e, exists);
	spec_lookup_stack(sp, table, SO_KEY, got = xfsm_emit_label(e));
	xfsm_emit_bind(e, got);	/* NULL too: SO_UF as found */
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_UF));
	E(sp, XI_LDX(BPF_W, XR1, XFP, SO_TMP));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, 0, out);
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, flows_created), 1);
	if (!spec_compact(sp)) {
		/* the creation time (a compact flow has none) */
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_UF));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, out);
		spec_now(sp, XR2);
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_UF));
		E(sp, XI_STX(BPF_DW, XR1, XR2, FO(created_ns)));
	}
	xfsm_emit_bind(e, out);
}

/* SO_UF = the flow the rule writes (flow_for_update(); a one-key stage's
 * found flow); a full table ends the packet unless the stage continues. */
static void emit_update_flow(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	bool same = st->flags & XFSM_SF_SAME_KEYS;
	struct xfsm_emit *e = sp->e;
	unsigned int have = xfsm_emit_label(e), lookup = xfsm_emit_label(e);
	unsigned int absent = xfsm_emit_label(e);

	E(sp, XI_ST(BPF_DW, XFP, SO_UF, 0));
	if (same && !(st->flags & XFSM_SF_NO_LOOKUP)) {
		/* the lookup key is still in SO_KEY */
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_F));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, lookup);
		E(sp, XI_STX(BPF_DW, XFP, XR1, SO_UF));
		xfsm_emit_ja(e, have);
	}
	xfsm_emit_bind(e, lookup);
	xfsm_emit_note(e, 2, "stage %u: the flow the rule writes (update key)", stage);
	spec_key(sp, stage, same ? st->lookup_words : st->update_words,
		 same ? st->lookup_rev : st->update_rev, st->flags & XFSM_SF_SYMMETRIC);
	spec_lookup_stack(sp, spec_flow_table(sp, stage), SO_KEY, absent);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_UF));
	xfsm_emit_ja(e, have);
	xfsm_emit_bind(e, absent);	/* not there: made */
	emit_flow_create(sp, stage);
	xfsm_emit_bind(e, have);
	if (st->full_action != XFSM_FULL_CONTINUE) {
		unsigned int ok = xfsm_emit_label(e);

		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_UF));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0, ok);
		xfsm_emit_note(e, 2, "stage %u: table full: %s", stage,
			       st->full_action == XFSM_FULL_DROP ? "drop" : "pass");
		spec_finish_const(sp, st->full_action == XFSM_FULL_DROP ? XDP_DROP : XDP_PASS);
		xfsm_emit_bind(e, ok);
	}
}

/* SO_WF = SO_UF, or NULL for a transition that only restarts the idle
 * timer (flow_refresh_only()). */
static void emit_refresh(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	unsigned int full = xfsm_emit_label(e), done = xfsm_emit_label(e);

	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_UF));
	E(sp, XI_STX(BPF_DW, XFP, XR3, SO_WF));
	if (!(r->flags & XFSM_RF_SET_STATE) || r->hard_timeout_ms || has_flow_updates(r))
		return;
	xfsm_emit_note(e, 2, "a transition into what the flow has: the idle timer only");
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, 0, full);
	if (!spec_compact(sp)) {
		E(sp, XI_LDX(BPF_DW, XR1, XR3, FO(hard_deadline_ns)));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0, full);
	}
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(state)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, (__s32)r->next_state, full);
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(idle_timeout_ms)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, (__s32)r->idle_timeout_ms, full);
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(idle_rollback)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, (__s32)r->idle_rollback, full);
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(hard_rollback)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, (__s32)r->hard_rollback, full);
	E(sp, XI_ST(BPF_DW, XFP, SO_WF, 0));
	if (!(st->flags & XFSM_SF_SAME_KEYS)) {
		E(sp, XI_LDX(BPF_W, XR1, XR3, FO(idle_timeout_ms)));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, 0, done);
		spec_now(sp, XR2);
		E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_UF));
		E(sp, XI_STX(BPF_DW, XR3, XR2, FO(last_seen_ns)));
	}
	xfsm_emit_bind(e, full);
	xfsm_emit_bind(e, done);
}

static bool rule_adds_only(const struct xfsm_rule *r)
{
	__u32 fl = r->flags;

	return (!(fl & XFSM_RF_WRITES_FLOW) || (fl & XFSM_RF_FLOW_NOLOCK)) &&
	       (!(fl & XFSM_RF_WRITES_GLOBAL) || (fl & XFSM_RF_GLOBAL_NOLOCK));
}

void spec_write(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	unsigned int skip = xfsm_emit_label(e), nodz = xfsm_emit_label(e);
	const struct spec_octx fx = { .fslot = SO_WF, .f_nonnull = true, .state = SS_FLOW };
	const struct spec_octx gx = { .fslot = SO_WF, .state = SS_FLOW_OR_ZERO };

	xfsm_emit_note(e, 2, "stage %u, rule %u: writes", stage, r->image_id);
	if (r->flags & XFSM_RF_WRITES_FLOW) {
		emit_update_flow(sp, stage);
		emit_refresh(sp, stage, r);
	} else {
		E(sp, XI_ST(BPF_DW, XFP, SO_UF, 0));
		E(sp, XI_ST(BPF_DW, XFP, SO_WF, 0));
	}

	if (rule_adds_only(r)) {
		/* rule_add(): flow first, then globals, no lock */
		if (r->flags & XFSM_RF_FLOW_NOLOCK) {
			E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WF));
			xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, skip);
			emit_updates(sp, r, XFSM_OPND_FLOW_REG, true, &fx);
			xfsm_emit_bind(e, skip);
		}
		if (r->flags & XFSM_RF_GLOBAL_NOLOCK)
			emit_updates(sp, r, XFSM_OPND_GLOBAL_REG, true, &gx);
	} else {
		/* xfsm_commit() */
		E(sp, XI_ST(BPF_W, XFP, SO_DIVZ, 0));
		if (r->flags & XFSM_RF_WRITES_FLOW) {
			E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WF));
			xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, skip);
			emit_flow_commit(sp, stage, r);
			xfsm_emit_bind(e, skip);
		}
		if (r->flags & XFSM_RF_WRITES_GLOBAL)
			emit_globals_commit(sp, r);
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_DIVZ));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, nodz);
		spec_cnt_add_reg(sp, SR_STATS, offsetof(struct xfsm_stats, exc_div_zero), XR1);
		xfsm_emit_bind(e, nodz);
	}
	if ((r->flags & XFSM_RF_WRITES_FLOW) && (st->flags & XFSM_SF_SAME_KEYS)) {
		/* the actions see the flow the rule wrote */
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_UF));
		E(sp, XI_STX(BPF_DW, XFP, XR1, SO_F));
	}
}
