// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * One stateful stage (xfsm_stage_run() in bpf/xfsm.bpf.c): its counters,
 * the flow key from fixed field words, the flow lookup with its timeouts
 * (stage_flow(), flow_still_live(), flow_expire()), the conditions, and
 * the rule decision as straight-line compares over the stage's actual
 * rules, in the order the tuple search ranks them (priority, highest
 * first, then tuple), each followed by its rule's writes and actions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"

/* Rules compared inline per stage; a larger stage gets the tuple search
 * over the rule table (search.c): inline, its verification time grows
 * with the square of its rules (71 ms for 250, 265 ms for 500, 1.6 s for
 * 1000 on the development machine). */
#define SPEC_STAGE_MAX_RULES	256

static unsigned int word(unsigned int w)
{
	return w < XFSM_FV_WORDS ? w : XFSM_FW_ZERO;
}

static bool rule_in_stage(const struct spec *sp, size_t i, unsigned int stage)
{
	const struct xfsm_rule_key *k = &sp->in->keys[i];

	return k->stage == stage && k->slot == sp->app->stages[stage].rule_buf;
}

static void need_words(struct spec *sp, const __u8 *w, bool rev, const __u8 *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_KEY_WORDS; i++) {
		sp->need[word(w[i])] = true;
		if (rev)
			sp->need[word(r[i])] = true;
	}
}

void spec_need_stage(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	bool sym = st->flags & XFSM_SF_SYMMETRIC;
	unsigned int i, t;

	if (st->kind == XFSM_STAGE_ACL) {
		spec_acl_need(sp, stage);
		return;
	}
	if (st->kind != XFSM_STAGE_XFSM) {
		xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u: kind %u", stage, st->kind);
		return;
	}
	if (st->n_tuples > XFSM_MAX_TUPLES || st->n_conds > XFSM_MAX_CONDS) {
		xfsm_emit_fail(sp->e, -EINVAL, "stage %u: %u tuples, %u conditions", stage,
			       st->n_tuples, st->n_conds);
		return;
	}
	/* the tuple search stops at the first tuple that cannot beat its
	 * best match: the inline order is its order only when sorted */
	for (t = 1; t < st->n_tuples; t++)
		if (st->tuples[t - 1].max_priority < st->tuples[t].max_priority) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP,
				       "stage %u: tuples not sorted by priority", stage);
			return;
		}
	if (!(st->flags & XFSM_SF_NO_LOOKUP))
		need_words(sp, st->lookup_words, sym, st->lookup_rev);
	for (i = 0; i < st->n_conds; i++) {
		if (!spec_opnd_ok(&st->conds[i].a) || !spec_opnd_ok(&st->conds[i].b)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, condition %u: operand kind",
				       stage, i);
			return;
		}
		spec_need_opnd(sp, &st->conds[i].a);
		spec_need_opnd(sp, &st->conds[i].b);
	}
	for (t = 0; t < st->n_tuples; t++)
		for (i = 0; i < XFSM_MATCH_WORDS; i++)
			if (st->tuples[t].match_mask[i])
				sp->need[word(st->match_words[i])] = true;
	for (size_t k = 0; k < sp->in->n_rules; k++) {
		const struct xfsm_rule *r = &sp->in->rules[k];

		if (!rule_in_stage(sp, k, stage))
			continue;
		if (sp->in->keys[k].tuple >= st->n_tuples)
			continue;	/* the tuple search never looks there */
		if (r->flags & XFSM_RF_WRITES_FLOW) {
			if (st->flags & XFSM_SF_SAME_KEYS)
				need_words(sp, st->lookup_words, sym, st->lookup_rev);
			else
				need_words(sp, st->update_words, sym, st->update_rev);
		}
		if (spec_write_check(sp, stage, r) || spec_actions_check(sp, stage, r))
			return;
		spec_need_actions(sp, r);
	}
}

/* ---- Flow key, lock, lookup and timeouts ------------------------------------ */

/* A 4-byte part of the key: a field word, or a constant (fv < 0). */
struct key_part {
	int	fv;
	__u32	c;
};

static struct key_part key_word(const __u8 *words, unsigned int i)
{
	unsigned int w = word(words[i]);

	return w == XFSM_FW_ZERO ? (struct key_part){ -1, 0 } : (struct key_part){ (int)w, 0 };
}

/* dst = part, zero-extended. */
static void part_load(struct spec *sp, int dst, struct key_part p)
{
	if (p.fv >= 0)
		E(sp, XI_LDX(BPF_W, dst, XFP, so_fv((unsigned int)p.fv)));
	else
		E(sp, XI_MOV32_IMM(dst, (__s32)p.c));
}

/* The key's 8 bytes at key offset `at`: `lo` at the lower address. */
static void key_dword(struct spec *sp, int at, struct key_part lo, struct key_part hi)
{
	int off = SO_KEY + at;
	struct key_part top = hi, bottom = lo;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	top = lo;
	bottom = hi;
#endif
	if (top.fv < 0 && bottom.fv < 0) {
		__u64 v = (__u64)top.c << 32 | bottom.c;

		if ((__u64)(__s64)(__s32)v == v) {
			E(sp, XI_ST(BPF_DW, XFP, off, (__s32)v));
		} else {
			spec_mov_imm(sp, XR1, v);
			E(sp, XI_STX(BPF_DW, XFP, XR1, off));
		}
		return;
	}
	if (top.fv < 0 && !top.c) {
		part_load(sp, XR1, bottom);
	} else {
		part_load(sp, XR1, top);
		E(sp, XI_ALU64_IMM(BPF_LSH, XR1, 32));
		if (bottom.fv < 0 && bottom.c && bottom.c <= 0x7fffffffU) {
			E(sp, XI_ALU64_IMM(BPF_OR, XR1, (__s32)bottom.c));
		} else if (bottom.fv >= 0 || bottom.c) {
			part_load(sp, XR2, bottom);
			E(sp, XI_ALU64_REG(BPF_OR, XR1, XR2));
		}
	}
	E(sp, XI_STX(BPF_DW, XFP, XR1, off));
}

/* The key's 4 bytes at key offset `at`. */
static void key_tail_word(struct spec *sp, int at, struct key_part p)
{
	if (p.fv < 0) {
		E(sp, XI_ST(BPF_W, XFP, SO_KEY + at, (__s32)p.c));
		return;
	}
	part_load(sp, XR1, p);
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_KEY + at));
}

int spec_flow_table(const struct spec *sp, unsigned int stage)
{
	return xfsm_flow_table_class(sp->app->stages[stage].flags)->id;
}

/*
 * The key (head = stage and epoch as the key lays them out) in the
 * widest stores that cover it: six 8-byte stores for the whole key; for
 * a narrower table's key, the bytes that table reads: for the narrow
 * one's 12, one 8-byte store (head, w[0]) and one 4-byte store (w[1]);
 * for the medium one's 24, three 8-byte stores; nothing past the key is
 * written.  The map's hash and compare read the key in words of
 * up to 8 bytes: a word assembled from narrower stores is not
 * forwarded from the store buffer, and each such read stalls (measured:
 * docs/BENCHMARKS.md, "Where the specialized program's time goes").
 * Clobbers R1, R2.
 */
static void key_fill(struct spec *sp, __u32 head, const __u8 *words, unsigned int n)
{
	unsigned int i;
	int w = (int)offsetof(struct xfsm_flow_key, w);

	_Static_assert(sizeof(struct xfsm_flow_key) == 4 + 4 * XFSM_KEY_WORDS &&
		       XFSM_KEY_WORDS % 2 == 1 && (SO_KEY & 7) == 0,
		       "the key: a 4-byte head and an odd number of words, 8-byte aligned");
	_Static_assert(sizeof(struct xfsm_flow_key_n) == 4 + 4 * XFSM_NARROW_KEY_WORDS &&
		       sizeof(struct xfsm_flow_key_m) == 4 + 4 * XFSM_MEDIUM_KEY_WORDS,
		       "the narrower keys: the same prefix, n words");
	key_dword(sp, 0, (struct key_part){ -1, head }, key_word(words, 0));
	for (i = 1; i + 1 < n; i += 2)
		key_dword(sp, w + 4 * (int)i, key_word(words, i), key_word(words, i + 1));
	if (i < n)
		key_tail_word(sp, w + 4 * (int)i, key_word(words, i));
}

void spec_key(struct spec *sp, unsigned int stage, const __u8 *words, const __u8 *rev,
	      bool symmetric)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	struct { __u16 stage, epoch; } h = { (__u16)stage, st->epoch };
	unsigned int n = xfsm_flow_table_class(st->flags)->words;
	__u32 head;

	/* stage and epoch as the key holds them (host order) */
	_Static_assert(offsetof(struct xfsm_flow_key, stage) == 0 &&
		       offsetof(struct xfsm_flow_key, epoch) == 2, "the key's head");
	memcpy(&head, &h, sizeof(head));
	if (symmetric) {
		unsigned int fwd = xfsm_emit_label(e), back = xfsm_emit_label(e);
		unsigned int done = xfsm_emit_label(e), i;

		/* flow_key_rev_smaller(): the first differing word decides */
		for (i = 0; i < XFSM_KEY_WORDS; i++) {
			if (word(words[i]) == word(rev[i]))
				continue;
			E(sp, XI_LDX(BPF_W, XR1, XFP, so_fv(word(words[i]))));
			E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(word(rev[i]))));
			xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JLT, XR2, XR1, back);
			xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JGT, XR2, XR1, fwd);
		}
		xfsm_emit_bind(e, fwd);
		key_fill(sp, head, words, n);
		xfsm_emit_ja(e, done);
		xfsm_emit_bind(e, back);
		key_fill(sp, head, rev, n);
		xfsm_emit_bind(e, done);
	} else {
		key_fill(sp, head, words, n);
	}
}

void spec_flow_lock(struct spec *sp, unsigned int stage, const __u8 *words, const __u8 *rev,
		    bool symmetric, unsigned int null_label)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	__u32 pending = 1;	/* multiplications owed for zero words */
	unsigned int i;

	/* h = (h ^ w[i]) * 0x9e3779b1 per word: a word known to be 0 (key
	 * padding, on both sides of a symmetric key) only multiplies, and
	 * consecutive multiplications by constants fold into one */
	spec_mov_imm(sp, XR1, (__u32)(stage ^ ((__u32)st->epoch << 16)));
	for (i = 0; i < XFSM_KEY_WORDS; i++) {
		if (word(words[i]) == XFSM_FW_ZERO && (!symmetric || word(rev[i]) == XFSM_FW_ZERO)) {
			pending *= 0x9e3779b1U;
			continue;
		}
		if (pending != 1)
			E(sp, XI_ALU32_IMM(BPF_MUL, XR1, (__s32)pending));
		pending = 1;
		E(sp, XI_LDX(BPF_W, XR2, XFP,
			     SO_KEY + (int)offsetof(struct xfsm_flow_key, w) + 4 * (int)i));
		E(sp, XI_ALU32_REG(BPF_XOR, XR1, XR2));
		E(sp, XI_ALU32_IMM(BPF_MUL, XR1, (__s32)0x9e3779b1U));
	}
	if (pending != 1)
		E(sp, XI_ALU32_IMM(BPF_MUL, XR1, (__s32)pending));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR1, 16));
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, XFSM_FLOW_LOCKS - 1));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_TMP));
	spec_lookup_stack(sp, XFSM_M_LOCKS, SO_TMP, null_label);
}

#define FO(field)	((int)offsetof(struct xfsm_flow, field))

/* dst = the hard deadline of the flow in `f` (a compact flow has none). */
static void emit_hard_deadline(struct spec *sp, int dst, int f)
{
	if (spec_compact(sp))
		E(sp, XI_MOV64_IMM(dst, 0));
	else
		E(sp, XI_LDX(BPF_DW, dst, f, FO(hard_deadline_ns)));
}

/* SO_STATE = f->state (f in SO_F, not NULL); then to `done`. */
static void state_of_flow(struct spec *sp, unsigned int done)
{
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_F));
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(state)));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_STATE));
	xfsm_emit_ja(sp->e, done);
}

/* flow_expire(): a flow found expired is rolled back under its lock,
 * unless another CPU moved it on meanwhile. */
static void emit_expire(struct spec *sp, unsigned int stage, unsigned int done)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	unsigned int live = xfsm_emit_label(e), idle = xfsm_emit_label(e);
	unsigned int hard = xfsm_emit_label(e), lock = xfsm_emit_label(e);
	unsigned int raced = xfsm_emit_label(e), nolock = xfsm_emit_label(e);
	unsigned int idle_ctr = xfsm_emit_label(e), ctr_done = xfsm_emit_label(e);
	unsigned int hard_exp = xfsm_emit_label(e), h0 = xfsm_emit_label(e);
	unsigned int i0 = xfsm_emit_label(e);

	xfsm_emit_note(e, 2, "stage %u: timeout expired: roll back under the flow's lock", stage);
	spec_now(sp, XR0);
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_F));
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(version)));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_VER));
	emit_hard_deadline(sp, XR1, XR3);
	E(sp, XI_LDX(BPF_W, XR2, XR3, FO(idle_timeout_ms)));
	/* R4 = idle deadline (0 without an idle timeout) */
	E(sp, XI_MOV64_IMM(XR4, 0));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, i0);
	E(sp, XI_MOV64_REG(XR4, XR2));
	E(sp, XI_ALU64_IMM(BPF_MUL, XR4, 1000000));
	E(sp, XI_LDX(BPF_DW, XR5, XR3, FO(last_seen_ns)));
	E(sp, XI_ALU64_REG(BPF_ADD, XR4, XR5));
	xfsm_emit_bind(e, i0);
	/* hard expired? */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, h0);
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGE, XR0, XR1, hard_exp);
	xfsm_emit_bind(e, h0);
	/* not hard: idle expired? */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, live);
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGE, XR0, XR4, idle);
	xfsm_emit_bind(e, live);
	/* neither (another CPU refreshed it) */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, i0 = xfsm_emit_label(e));
	E(sp, XI_STX(BPF_DW, XR3, XR0, FO(last_seen_ns)));
	xfsm_emit_bind(e, i0);
	state_of_flow(sp, done);

	xfsm_emit_bind(e, hard_exp);
	/* hard expired; the idle one wins when it expired first */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, hard);
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JLT, XR0, XR4, hard);
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JLE, XR1, XR4, hard);
	xfsm_emit_bind(e, idle);
	E(sp, XI_LDX(BPF_W, XR5, XR3, FO(idle_rollback)));
	E(sp, XI_STX(BPF_W, XFP, XR5, SO_EXP_STATE));
	E(sp, XI_STX(BPF_DW, XFP, XR4, SO_EXP_AT));
	E(sp, XI_ST(BPF_W, XFP, SO_EXP_HARD, 0));
	xfsm_emit_ja(e, lock);
	xfsm_emit_bind(e, hard);
	E(sp, XI_LDX(BPF_W, XR5, XR3, FO(hard_rollback)));
	E(sp, XI_STX(BPF_W, XFP, XR5, SO_EXP_STATE));
	E(sp, XI_STX(BPF_DW, XFP, XR1, SO_EXP_AT));
	E(sp, XI_ST(BPF_W, XFP, SO_EXP_HARD, 1));

	xfsm_emit_bind(e, lock);
	spec_flow_lock(sp, stage, st->lookup_words, st->lookup_rev,
		       st->flags & XFSM_SF_SYMMETRIC, nolock);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_LOCK));
	E(sp, XI_MOV64_REG(XR1, XR0));
	E(sp, XI_CALL(BPF_FUNC_spin_lock));
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_F));
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(version)));
	E(sp, XI_LDX(BPF_W, XR2, XFP, SO_VER));
	xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JNE, XR1, XR2, raced);
	E(sp, XI_LDX(BPF_W, XR1, XFP, SO_EXP_STATE));
	E(sp, XI_STX(BPF_W, XR3, XR1, FO(state)));
	if (!spec_compact(sp))
		E(sp, XI_ST(BPF_DW, XR3, FO(hard_deadline_ns), 0));
	E(sp, XI_ST(BPF_W, XR3, FO(idle_timeout_ms), 0));
	if (!spec_compact(sp)) {
		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_EXP_AT));
		E(sp, XI_STX(BPF_DW, XR3, XR1, FO(created_ns)));
	}
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(version)));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR1, 1));
	E(sp, XI_STX(BPF_W, XR3, XR1, FO(version)));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
	/* counted only when it rolled back (at != 0) */
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_EXP_AT));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, nolock);
	E(sp, XI_LDX(BPF_W, XR1, XFP, SO_EXP_HARD));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, idle_ctr);
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, hard_expired), 1);
	xfsm_emit_ja(e, ctr_done);
	xfsm_emit_bind(e, idle_ctr);
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, idle_expired), 1);
	xfsm_emit_bind(e, ctr_done);
	xfsm_emit_bind(e, nolock);
	E(sp, XI_LDX(BPF_W, XR1, XFP, SO_EXP_STATE));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_STATE));
	xfsm_emit_ja(e, done);

	xfsm_emit_bind(e, raced);
	/* another CPU's transition wins: its state, nothing counted */
	E(sp, XI_LDX(BPF_W, XR1, XR3, FO(state)));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_STATE));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_LOCK));
	E(sp, XI_CALL(BPF_FUNC_spin_unlock));
	xfsm_emit_ja(e, done);
}

/* stage_flow(): SO_F the lookup-scope flow, SO_STATE the state the rules
 * see.  Flows without timeouts cost one branch. */
static void emit_flow(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e), timed = xfsm_emit_label(e);
	unsigned int expire = xfsm_emit_label(e), no_hard = xfsm_emit_label(e);

	E(sp, XI_ST(BPF_W, XFP, SO_STATE, 0));
	E(sp, XI_ST(BPF_DW, XFP, SO_F, 0));
	if (st->flags & XFSM_SF_NO_LOOKUP)
		return;
	xfsm_emit_note(e, 1, "stage %u: flow key (epoch %u%s) and lookup", stage, st->epoch,
		       st->flags & XFSM_SF_SYMMETRIC ? ", symmetric" : "");
	spec_key(sp, stage, st->lookup_words, st->lookup_rev, st->flags & XFSM_SF_SYMMETRIC);
	spec_lookup_stack(sp, spec_flow_table(sp, stage), SO_KEY, done);	/* SO_F stays NULL */
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_F));
	if (!spec_compact(sp)) {
		E(sp, XI_LDX(BPF_DW, XR1, XR0, FO(hard_deadline_ns)));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0, timed);
	}
	E(sp, XI_LDX(BPF_W, XR1, XR0, FO(idle_timeout_ms)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0, timed);
	state_of_flow(sp, done);

	/* flow_still_live() */
	xfsm_emit_bind(e, timed);
	xfsm_emit_note(e, 2, "stage %u: the flow's timeouts", stage);
	spec_now(sp, XR0);
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_F));
	if (!spec_compact(sp)) {
		E(sp, XI_LDX(BPF_DW, XR1, XR3, FO(hard_deadline_ns)));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, no_hard);
		xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGE, XR0, XR1, expire);
	}
	xfsm_emit_bind(e, no_hard);
	E(sp, XI_LDX(BPF_W, XR2, XR3, FO(idle_timeout_ms)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, no_hard = xfsm_emit_label(e));
	E(sp, XI_ALU64_IMM(BPF_MUL, XR2, 1000000));
	E(sp, XI_LDX(BPF_DW, XR4, XR3, FO(last_seen_ns)));
	E(sp, XI_ALU64_REG(BPF_ADD, XR2, XR4));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGE, XR0, XR2, expire);
	E(sp, XI_STX(BPF_DW, XR3, XR0, FO(last_seen_ns)));
	xfsm_emit_bind(e, no_hard);
	state_of_flow(sp, done);

	xfsm_emit_bind(e, expire);
	emit_expire(sp, stage, done);
	xfsm_emit_bind(e, done);
}

/* ---- Conditions and the rule decision ---------------------------------------- */

/* R0 = (R1 < R2), unsigned 64-bit, without a branch: the borrow of
 * R1 - R2, ((~a & b) | (~(a ^ b) & (a - b))) >> 63.  Uses R3, R4. */
static void emit_lt(struct spec *sp)
{
	E(sp, XI_MOV64_REG(XR3, XR1));
	E(sp, XI_ALU64_IMM(BPF_XOR, XR3, -1));
	E(sp, XI_ALU64_REG(BPF_AND, XR3, XR2));		/* ~a & b */
	E(sp, XI_MOV64_REG(XR4, XR1));
	E(sp, XI_ALU64_REG(BPF_XOR, XR4, XR2));
	E(sp, XI_ALU64_IMM(BPF_XOR, XR4, -1));		/* ~(a ^ b) */
	E(sp, XI_MOV64_REG(XR0, XR1));
	E(sp, XI_ALU64_REG(BPF_SUB, XR0, XR2));
	E(sp, XI_ALU64_REG(BPF_AND, XR0, XR4));
	E(sp, XI_ALU64_REG(BPF_OR, XR0, XR3));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR0, 63));
}

/* R0 = (R1 != R2) without a branch: x = a ^ b, (x | -x) >> 63. */
static void emit_ne(struct spec *sp)
{
	E(sp, XI_MOV64_REG(XR0, XR1));
	E(sp, XI_ALU64_REG(BPF_XOR, XR0, XR2));
	E(sp, XI_MOV64_REG(XR3, XR0));
	E(sp, XI_NEG64(XR3));
	E(sp, XI_ALU64_REG(BPF_OR, XR0, XR3));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR0, 63));
}

/*
 * conds_eval(): SO_CONDS, bit i condition i.  Computed without branches:
 * a branch per condition would have the verifier walk every rule once
 * per combination of condition outcomes (2^n paths).
 */
static void emit_conds(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	const struct spec_octx ox = { .fslot = SO_F, .state = SS_SLOT };
	struct xfsm_emit *e = sp->e;
	unsigned int i;

	E(sp, XI_ST(BPF_W, XFP, SO_CONDS, 0));
	for (i = 0; i < st->n_conds; i++) {
		const struct xfsm_cond *c = &st->conds[i];
		bool swap = c->op == XFSM_CMP_GT || c->op == XFSM_CMP_LE;
		bool invert = c->op == XFSM_CMP_LE || c->op == XFSM_CMP_GE ||
			      c->op == XFSM_CMP_EQ;

		if (c->op == XFSM_CMP_NONE || c->op >= XFSM_CMP__MAX)
			continue;	/* always false */
		xfsm_emit_note(e, 2, "stage %u: condition %u", stage, i);
		/* a > b is b < a; a <= b is !(b < a); a >= b is !(a < b) */
		spec_opnd(sp, swap ? XR2 : XR1, XR3, &c->a, &ox);
		spec_opnd(sp, swap ? XR1 : XR2, XR4, &c->b, &ox);
		if (c->op == XFSM_CMP_EQ || c->op == XFSM_CMP_NE)
			emit_ne(sp);
		else
			emit_lt(sp);
		if (invert)
			E(sp, XI_ALU64_IMM(BPF_XOR, XR0, 1));
		if (i)
			E(sp, XI_ALU64_IMM(BPF_LSH, XR0, i));
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_CONDS));
		E(sp, XI_ALU32_REG(BPF_OR, XR1, XR0));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_CONDS));
	}
}

/* Jump to `miss` unless (reg & mask) == want, as 32-bit words. */
static void cmp_masked(struct spec *sp, int reg, __u32 mask, __u32 want, unsigned int miss)
{
	if (!mask) {
		/* the search's key holds 0 there: another value never matches */
		if (want)
			xfsm_emit_ja(sp->e, miss);
		return;
	}
	if (mask != 0xffffffffU) {
		E(sp, XI_MOV32_REG(XR1, reg));
		E(sp, XI_ALU32_IMM(BPF_AND, XR1, (__s32)mask));
		reg = XR1;
	}
	xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, reg, (__s32)want, miss);
}

static int rank_cmp(const void *pa, const void *pb, void *arg)
{
	const struct spec *sp = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct xfsm_rule *ra = &sp->in->rules[a], *rb = &sp->in->rules[b];

	if (ra->priority != rb->priority)
		return ra->priority > rb->priority ? -1 : 1;
	if (sp->in->keys[a].tuple != sp->in->keys[b].tuple)
		return sp->in->keys[a].tuple < sp->in->keys[b].tuple ? -1 : 1;
	return a < b ? -1 : a > b;
}

int spec_rule_body(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct spec_octx ox = { .fslot = SO_F, .state = SS_FLOW_OR_SLOT };

	if (r->flags & (XFSM_RF_WRITES_FLOW | XFSM_RF_WRITES_GLOBAL))
		spec_write(sp, stage, r);
	return spec_actions(sp, stage, r, &ox);
}

/* A matched rule: its counters, writes and actions. */
static int emit_rule(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	unsigned int no_rs = xfsm_emit_label(sp->e), mark = spec_pend_mark(sp);
	int err;

	spec_cnt_inc_g(sp, SR_SS, XFSM_CG_STAGE, st->stats_id,
		       offsetof(struct xfsm_stage_stats, hits));
	if (sp->inst->map_fd[XFSM_M_RULE_STATS] >= 0 &&
	    !spec_defer(sp, XFSM_CG_RULE, r->rule_id, offsetof(struct xfsm_rule_stats, packets),
			false)) {
		spec_stats_const(sp, XR0, XFSM_M_RULE_STATS, r->rule_id, no_rs);
		spec_count_pkt(sp, XR0, offsetof(struct xfsm_rule_stats, packets),
			       offsetof(struct xfsm_rule_stats, bytes));
	} else if (sp->inst->map_fd[XFSM_M_RULE_STATS] >= 0) {
		spec_defer(sp, XFSM_CG_RULE, r->rule_id, offsetof(struct xfsm_rule_stats, bytes),
			   true);
	}
	xfsm_emit_bind(sp->e, no_rs);
	err = spec_rule_body(sp, stage, r);
	spec_pend_restore(sp, mark);
	return err;
}

int spec_stage(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	struct xfsm_emit *e = sp->e;
	size_t *order, n = 0, i;
	unsigned int w;

	if (st->kind == XFSM_STAGE_ACL)
		return spec_acl_stage(sp, stage);
	xfsm_emit_note(e, 0, "stage %u (statistics %u): counters", stage, st->stats_id);
	spec_stage_stats(sp, st->stats_id);
	spec_count_pkt_g(sp, SR_SS, XFSM_CG_STAGE, st->stats_id,
			 offsetof(struct xfsm_stage_stats, packets),
			 offsetof(struct xfsm_stage_stats, bytes));
	emit_flow(sp, stage);
	if (st->n_conds)
		emit_conds(sp, stage);
	else
		E(sp, XI_ST(BPF_W, XFP, SO_CONDS, 0));

	order = calloc(sp->in->n_rules ? sp->in->n_rules : 1, sizeof(*order));
	if (!order) {
		xfsm_emit_fail(e, -ENOMEM, "out of memory");
		return e->err;
	}
	for (i = 0; i < sp->in->n_rules; i++)
		if (rule_in_stage(sp, i, stage) && sp->in->keys[i].tuple < st->n_tuples)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), rank_cmp, sp);

	/* a large stage: the generic datapath's tuple search (search.c) */
	if (n > SPEC_STAGE_MAX_RULES) {
		spec_search(sp, stage, order, n);
		n = 0;
	}
	for (i = 0; i < n && !e->err; i++) {
		const struct xfsm_rule_key *k = &sp->in->keys[order[i]];
		const struct xfsm_rule *r = &sp->in->rules[order[i]];
		const struct xfsm_tuple *tp = &st->tuples[k->tuple];
		unsigned int next = xfsm_emit_label(e);

		xfsm_emit_note(e, 1, "stage %u: rule %u (priority %u, tuple %u, statistics %u)",
			       stage, r->image_id, r->priority, k->tuple, r->rule_id);
		/* only what the tuple compares is read */
		if (tp->state_mask)
			E(sp, XI_LDX(BPF_W, XR4, XFP, SO_STATE));
		if (tp->cond_mask)
			E(sp, XI_LDX(BPF_W, XR5, XFP, SO_CONDS));
		cmp_masked(sp, XR4, tp->state_mask, k->state, next);
		cmp_masked(sp, XR5, tp->cond_mask, k->conds, next);
		for (w = 0; w < XFSM_MATCH_WORDS; w++) {
			if (!tp->match_mask[w]) {
				cmp_masked(sp, XR2, 0, k->match[w], next);
				continue;
			}
			E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(word(st->match_words[w]))));
			cmp_masked(sp, XR2, tp->match_mask[w], k->match[w], next);
		}
		emit_rule(sp, stage, r);
		xfsm_emit_bind(e, next);
	}
	free(order);

	xfsm_emit_note(e, 1, "stage %u: no rule matched", stage);
	spec_stage_miss(sp, stage);
	return e->err;
}

void spec_stage_miss(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	unsigned int mark = spec_pend_mark(sp);

	spec_cnt_inc_g(sp, SR_SS, XFSM_CG_STAGE, st->stats_id,
		       offsetof(struct xfsm_stage_stats, misses));
	if (st->miss_verdict == XFSM_VERDICT_CONTINUE)
		spec_goto(sp, sp->l_stage[stage + 1]);
	else
		spec_finish_const(sp, spec_verdict_xdp(st->miss_verdict));
	spec_pend_restore(sp, mark);
}
