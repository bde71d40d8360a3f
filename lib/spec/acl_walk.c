// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * An ACL stage of more rules than acl.c compares inline: the generic
 * datapath's cut-tree walk (xfsm_acl_run() and xfsm_acl_tree() in
 * bpf/acl.h) over the same xfsm_acl_nodes and xfsm_acl_rules maps, so it
 * makes the same lookups in the same order and finds the same rule.
 *
 * What generation fixes: the set is the one in the buffer the slot names
 * (every ACL edit switches slots and regenerates), so its bases, its
 * trees' roots and best orders are constants, the set descriptor is not
 * looked up, and the trees are walked in an unrolled sequence that stops
 * where the generic loop stops (a tree whose best rule cannot beat the
 * match so far).  Each tree is XFSM_ACL_MAX_DEPTH + 1 node steps (the
 * generic bound: a set the compiler made reaches a leaf sooner) and a
 * leaf check of XFSM_ACL_LEAF rule checks; nothing loops, so the
 * verifier walks each step once per tree.  The node's dimension picks a
 * word of the packet's view on the stack (a variable-offset stack read,
 * which needs a privileged loader, as the datapath does anyway).
 *
 * The matched rule is known only at run time: its action, flags, mark
 * and goto target are read from its map value, and every action the
 * generic run can take is generated once behind a dispatch on them.
 *
 * Counters: every one the generic run writes, `probes` included (the
 * same node and rule lookups, counted as they are made).
 */
#include <errno.h>

#include "spec/internal.h"
#include "xfsm/acl_match.h"

/* The packet's view (struct xfsm_acl_view, 64 bytes), then the walk's
 * state, in the new-flow area: an ACL stage creates no flow, and a later
 * stage's flow creation fills the area again. */
#define SO_AW_V		SO_ZFLOW
#define SO_AW_BEST	(SO_ZFLOW + 64)	/* __u32 best order so far, ~0: none */
#define SO_AW_PROBES	(SO_ZFLOW + 68)	/* __u32 map lookups made */
#define SO_AW_HIT	(SO_ZFLOW + 72)	/* the best rule's map value (0: none) */
#define SO_AW_ORDER	SO_WREFRESH	/* __u32 the order being checked */
#define SO_AW_NODE	SO_GRP_GS	/* the leaf being checked (no output
					 * group runs in an ACL stage) */
_Static_assert(SO_AW_HIT + 8 <= SO_ZFLOW + (int)sizeof(struct xfsm_flow),
	       "the walk's state must fit the new-flow area");

#define VO(f)		(SO_AW_V + (int)offsetof(struct xfsm_acl_view, f))
#define VW(i)		(SO_AW_V + 4 * (int)(i))
#define EO(f)		((int)offsetof(struct xfsm_acl_entry, f))
#define NO(f)		((int)offsetof(struct xfsm_acl_node, f))

/* View word at `to` = field word `word` when the program reads it, else 0:
 * no rule constrains a field the generator did not ask for, so no tree
 * cuts it (lib/acl_tree.c cuts only where rules differ) and no rule
 * checks it. */
static void view_word(struct spec *sp, int to, unsigned int word)
{
	if (!sp->need[word]) {
		E(sp, XI_ST(BPF_W, XFP, to, 0));
		return;
	}
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(word)));
	E(sp, XI_STX(BPF_W, XFP, XR2, to));
}

/* xfsm_acl_view_fill() into SO_AW_V. */
static void emit_view(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int v6 = xfsm_emit_label(e), none = xfsm_emit_label(e);
	unsigned int done = xfsm_emit_label(e), untagged = xfsm_emit_label(e);
	unsigned int vdone = xfsm_emit_label(e), w;

	E(sp, XI_LDX(BPF_W, XR1, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	E(sp, XI_MOV32_REG(XR3, XR1));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_IPV4));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR3, 0, v6);
	E(sp, XI_ST(BPF_W, XFP, VO(family), 4));
	E(sp, XI_ST(BPF_W, XFP, VO(famf), XFSM_ACLF_V4));
	view_word(sp, VO(src), XFSM_FW_IP4_SRC);
	view_word(sp, VO(dst), XFSM_FW_IP4_DST);
	for (w = 1; w < 4; w++) {
		E(sp, XI_ST(BPF_W, XFP, VO(src) + 4 * (int)w, 0));
		E(sp, XI_ST(BPF_W, XFP, VO(dst) + 4 * (int)w, 0));
	}
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, v6);
	E(sp, XI_MOV32_REG(XR3, XR1));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_IPV6));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR3, 0, none);
	E(sp, XI_ST(BPF_W, XFP, VO(family), 6));
	E(sp, XI_ST(BPF_W, XFP, VO(famf), XFSM_ACLF_V6));
	for (w = 0; w < 4; w++) {
		view_word(sp, VO(src) + 4 * (int)w, XFSM_FW_IP6_SRC + w);
		view_word(sp, VO(dst) + 4 * (int)w, XFSM_FW_IP6_DST + w);
	}
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, none);
	E(sp, XI_ST(BPF_W, XFP, VO(family), 0));
	E(sp, XI_ST(BPF_W, XFP, VO(famf), 0));
	for (w = 0; w < 4; w++) {
		E(sp, XI_ST(BPF_W, XFP, VO(src) + 4 * (int)w, 0));
		E(sp, XI_ST(BPF_W, XFP, VO(dst) + 4 * (int)w, 0));
	}
	xfsm_emit_bind(e, done);
	view_word(sp, VO(sport), XFSM_FW_L4_SPORT);
	view_word(sp, VO(dport), XFSM_FW_L4_DPORT);
	view_word(sp, VO(proto), XFSM_FW_IP_PROTO);
	view_word(sp, VO(tcp_flags), XFSM_FW_TCP_FLAGS);
	view_word(sp, VO(port), XFSM_FW_META_PORT);
	if (sp->need[XFSM_FW_VLAN_ID]) {
		E(sp, XI_MOV32_REG(XR3, XR1));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_VLAN));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR3, 0, untagged);
		view_word(sp, VO(vlan), XFSM_FW_VLAN_ID);
		xfsm_emit_ja(e, vdone);
		xfsm_emit_bind(e, untagged);
		E(sp, XI_ST(BPF_W, XFP, VO(vlan), -1));
		xfsm_emit_bind(e, vdone);
	} else {
		E(sp, XI_ST(BPF_W, XFP, VO(vlan), 0));
	}
}

static void probe(struct spec *sp)
{
	E(sp, XI_LDX(BPF_W, XR1, XFP, SO_AW_PROBES));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR1, 1));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_AW_PROBES));
}

/* The view word at `voff` in [entry's 16-bit lo, hi]; R0 the entry. */
static void match_range(struct spec *sp, int voff, int lo, int hi, unsigned int miss)
{
	E(sp, XI_LDX(BPF_W, XR1, XFP, voff));
	E(sp, XI_LDX(BPF_H, XR2, XR0, lo));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP32 | BPF_JLT, XR1, XR2, miss);
	E(sp, XI_LDX(BPF_H, XR2, XR0, hi));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP32 | BPF_JGT, XR1, XR2, miss);
}

/* (view word & entry's 8-bit mask) == entry's 8-bit value. */
static void match_masked(struct spec *sp, int voff, int mask, int want, unsigned int miss)
{
	E(sp, XI_LDX(BPF_W, XR1, XFP, voff));
	E(sp, XI_LDX(BPF_B, XR2, XR0, mask));
	E(sp, XI_ALU32_REG(BPF_AND, XR1, XR2));
	E(sp, XI_LDX(BPF_B, XR2, XR0, want));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP32 | BPF_JNE, XR1, XR2, miss);
}

/* The entry's prefix (length at `len`, words at `pfx`) on the view's words
 * at `voff`, word by word up to the length (xfsm_acl_pfx_mask()). */
static void match_prefix(struct spec *sp, int voff, int len, int pfx, unsigned int miss)
{
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e), w;

	E(sp, XI_LDX(BPF_B, XR3, XR0, len));
	for (w = 0; w < 4; w++) {
		unsigned int whole = xfsm_emit_label(e);

		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JLE, XR3, 32 * (int)w, done);
		E(sp, XI_LDX(BPF_W, XR1, XFP, voff + 4 * (int)w));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JGE, XR3, 32 * (int)(w + 1), whole);
		/* a partial word: ~0 << (32 - bits left), 1..31 */
		E(sp, XI_MOV32_IMM(XR4, 32 * (int)(w + 1)));
		E(sp, XI_ALU32_REG(BPF_SUB, XR4, XR3));
		E(sp, XI_MOV32_IMM(XR5, -1));
		E(sp, XI_ALU32_REG(BPF_LSH, XR5, XR4));
		E(sp, XI_ALU32_REG(BPF_AND, XR1, XR5));
		xfsm_emit_bind(e, whole);
		E(sp, XI_LDX(BPF_W, XR2, XR0, pfx + 4 * (int)w));
		xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JNE, XR1, XR2, miss);
	}
	xfsm_emit_bind(e, done);
}

/* When the entry's flags hold `flag`: the view word at `voff` equal to the
 * entry's 16-bit value at `eoff` (the ingress port, the VLAN id: an
 * untagged frame's 0xffffffff equals no id). */
static void match_flagged(struct spec *sp, __u32 flag, int voff, int eoff, unsigned int miss)
{
	unsigned int ok = xfsm_emit_label(sp->e);

	E(sp, XI_LDX(BPF_B, XR1, XR0, EO(flags)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, (__s32)flag));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JEQ, XR1, 0, ok);
	E(sp, XI_LDX(BPF_W, XR1, XFP, voff));
	E(sp, XI_LDX(BPF_H, XR2, XR0, eoff));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP32 | BPF_JNE, XR1, XR2, miss);
	xfsm_emit_bind(sp->e, ok);
}

/* xfsm_acl_entry_match() on the entry in R0: to `miss` unless it matches.
 * Uses R1-R5 only. */
static void emit_entry_match(struct spec *sp, unsigned int miss)
{
	struct xfsm_emit *e = sp->e;
	unsigned int fam_ok = xfsm_emit_label(e);

	E(sp, XI_LDX(BPF_B, XR1, XR0, EO(flags)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, XFSM_ACLF_V4 | XFSM_ACLF_V6));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, 0, fam_ok);
	E(sp, XI_LDX(BPF_W, XR2, XFP, VO(famf)));
	E(sp, XI_ALU32_REG(BPF_AND, XR1, XR2));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, 0, miss);
	xfsm_emit_bind(e, fam_ok);
	match_range(sp, VO(sport), EO(sport_lo), EO(sport_hi), miss);
	match_range(sp, VO(dport), EO(dport_lo), EO(dport_hi), miss);
	match_masked(sp, VO(proto), EO(proto_mask), EO(proto), miss);
	match_masked(sp, VO(tcp_flags), EO(tcp_mask), EO(tcp_flags), miss);
	match_prefix(sp, VO(src), EO(src_len), EO(src), miss);
	match_prefix(sp, VO(dst), EO(dst_len), EO(dst), miss);
	match_flagged(sp, XFSM_ACLF_PORT, VO(port), EO(in_port), miss);
	match_flagged(sp, XFSM_ACLF_VLAN, VO(vlan), EO(vlan), miss);
}

/* The leaf in R0 (xfsm_acl_tree()'s rule loop): its rules in order while
 * one can still beat the best, the first that matches recorded. */
static void emit_leaf(struct spec *sp, const struct xfsm_acl_set *set, unsigned int end)
{
	struct xfsm_emit *e = sp->e;
	unsigned int i;

	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_AW_NODE));
	for (i = 0; i < XFSM_ACL_LEAF; i++) {
		unsigned int next = xfsm_emit_label(e);

		if (i)
			E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_AW_NODE));
		E(sp, XI_LDX(BPF_B, XR1, XR0, NO(n)));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JLE, XR1, (__s32)i, end);
		E(sp, XI_LDX(BPF_W, XR2, XR0, NO(rule) + 4 * (int)i));
		E(sp, XI_LDX(BPF_W, XR3, XFP, SO_AW_BEST));
		/* rules are in order: none after this one can win */
		xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JGE, XR2, XR3, end);
		E(sp, XI_STX(BPF_W, XFP, XR2, SO_AW_ORDER));
		E(sp, XI_ALU32_IMM(BPF_ADD, XR2, (__s32)set->rule_base));
		E(sp, XI_STX(BPF_W, XFP, XR2, SO_TMP));
		spec_lookup_stack(sp, XFSM_M_ACL_RULES, SO_TMP, end);
		probe(sp);
		emit_entry_match(sp, next);
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_AW_ORDER));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_AW_BEST));
		E(sp, XI_STX(BPF_DW, XFP, XR0, SO_AW_HIT));
		xfsm_emit_ja(e, end);
		xfsm_emit_bind(e, next);
	}
	xfsm_emit_ja(e, end);
}

/* One tree from `root` to its leaf (xfsm_acl_tree()); ends at `end`. */
static void emit_tree(struct spec *sp, const struct xfsm_acl_set *set, __u32 root,
		      unsigned int end)
{
	struct xfsm_emit *e = sp->e;
	unsigned int leaf = xfsm_emit_label(e), d, i;

	E(sp, XI_MOV32_IMM(XR1, (__s32)root));
	for (d = 0; d <= XFSM_ACL_MAX_DEPTH; d++) {
		E(sp, XI_ALU32_IMM(BPF_ADD, XR1, (__s32)set->node_base));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_TMP));
		spec_lookup_stack(sp, XFSM_M_ACL_NODES, SO_TMP, end);
		probe(sp);
		E(sp, XI_LDX(BPF_B, XR1, XR0, NO(dim)));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, XFSM_ACLN_LEAF, leaf);
		if (d == XFSM_ACL_MAX_DEPTH)
			break;	/* no leaf within the bound: no rule checked */
		/* v = view.key[dim] */
		E(sp, XI_ALU32_IMM(BPF_AND, XR1, XFSM_ACL_DIMS - 1));
		E(sp, XI_ALU64_IMM(BPF_LSH, XR1, 2));
		E(sp, XI_MOV64_REG(XR2, XFP));
		E(sp, XI_ALU64_IMM(BPF_ADD, XR2, SO_AW_V));
		E(sp, XI_ALU64_REG(BPF_ADD, XR2, XR1));
		E(sp, XI_LDX(BPF_W, XR3, XR2, 0));
		/* idx = first + (number of bounds below v): (u64)ub - v has
		 * its sign bit set exactly when ub < v */
		E(sp, XI_LDX(BPF_W, XR1, XR0, NO(first)));
		for (i = 0; i < XFSM_ACL_FANOUT - 1; i++) {
			E(sp, XI_LDX(BPF_W, XR4, XR0, NO(ub) + 4 * (int)i));
			E(sp, XI_ALU64_REG(BPF_SUB, XR4, XR3));
			E(sp, XI_ALU64_IMM(BPF_RSH, XR4, 63));
			E(sp, XI_ALU32_REG(BPF_ADD, XR1, XR4));
		}
	}
	xfsm_emit_ja(e, end);
	xfsm_emit_bind(e, leaf);
	emit_leaf(sp, set, end);
}

#define AO(f)		((int)offsetof(struct xfsm_acl_stats, f))

/* The matched rule (its map value at SO_AW_HIT): counters, mark and
 * action, the end of xfsm_acl_run() with the values read at run time. */
static void emit_hit(struct spec *sp, unsigned int stage)
{
	struct xfsm_emit *e = sp->e;
	unsigned int n_stages = sp->app->n_stages, s;
	unsigned int no_mark = xfsm_emit_label(e), deny = xfsm_emit_label(e);
	unsigned int pass = xfsm_emit_label(e), go = xfsm_emit_label(e);
	unsigned int back = xfsm_emit_label(e);

	xfsm_emit_note(e, 1, "stage %u: a rule matched: its counters, mark and action", stage);
	spec_acl_cnt(sp, AO(matched));
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, hits), 1);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_AW_HIT));
	E(sp, XI_LDX(BPF_B, XR1, XR0, EO(flags)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, XFSM_ACLF_MARK));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, 0, no_mark);
	if (sp->need[XFSM_FW_META_MARK]) {
		E(sp, XI_LDX(BPF_W, XR2, XR0, EO(mark)));
		E(sp, XI_STX(BPF_W, XFP, XR2, so_fv(XFSM_FW_META_MARK)));
	}
	spec_acl_cnt(sp, AO(marked));
	xfsm_emit_bind(e, no_mark);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_AW_HIT));
	E(sp, XI_LDX(BPF_B, XR1, XR0, EO(action)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, XFSM_ACL_DENY, deny);
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, XFSM_ACL_PASS, pass);
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR1, XFSM_ACL_GOTO, go);
	/* allow, and any other value (the generic switch's default) */
	spec_acl_cnt(sp, AO(allow));
	spec_goto(sp, sp->l_stage[stage + 1]);

	xfsm_emit_bind(e, deny);
	spec_acl_cnt(sp, AO(deny));
	spec_finish_const(sp, XDP_DROP);

	xfsm_emit_bind(e, pass);
	spec_acl_cnt(sp, AO(pass));
	spec_finish_const(sp, XDP_PASS);

	xfsm_emit_bind(e, go);
	E(sp, XI_LDX(BPF_W, XR2, XR0, EO(arg)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JLE, XR2, (__s32)stage, back);
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JGE, XR2, XFSM_MAX_STAGES, back);
	spec_acl_cnt(sp, AO(go));
	/* every way on is a later stage: the path's count group first (it
	 * clobbers R1 and R2), then the stage again */
	spec_pend_flush(sp);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_AW_HIT));
	E(sp, XI_LDX(BPF_W, XR2, XR0, EO(arg)));
	for (s = stage + 1; s < n_stages; s++)
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR2, (__s32)s, sp->l_stage[s]);
	sp->end_used = true;
	xfsm_emit_ja(e, sp->l_stage[n_stages]);	/* past the last stage: the end */

	xfsm_emit_bind(e, back);
	spec_cnt_add(sp, SR_STATS, offsetof(struct xfsm_stats, exc_goto_backward), 1);
	spec_finish_const(sp, XDP_DROP);
}

void spec_acl_walk(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	const struct xfsm_acl_set *set = &sp->in->acl_set[st->acl_table];
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e), miss = xfsm_emit_label(e), t;

	xfsm_emit_note(e, 1, "stage %u: cut-tree walk over %s and %s (%u trees, %u nodes from %u, rules from %u; at most %u lookups)",
		       stage, XFSM_MAP_ACL_NODES, XFSM_MAP_ACL_RULES, set->n_trees, set->n_nodes,
		       set->node_base, set->rule_base, set->max_lookups);
	emit_view(sp);
	E(sp, XI_ST(BPF_W, XFP, SO_AW_BEST, -1));
	E(sp, XI_ST(BPF_W, XFP, SO_AW_PROBES, 0));
	E(sp, XI_ST(BPF_DW, XFP, SO_AW_HIT, 0));
	for (t = 0; t < set->n_trees && t < XFSM_ACL_MAX_TREES && !e->err; t++) {
		unsigned int end = xfsm_emit_label(e);

		xfsm_emit_note(e, 2, "stage %u: tree %u (root %u, best order %u)", stage, t,
			       set->trees[t].root, set->trees[t].min_order);
		/* trees are sorted by their best rule: stop at one that
		 * cannot win */
		E(sp, XI_LDX(BPF_W, XR1, XFP, SO_AW_BEST));
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JLE, XR1, (__s32)set->trees[t].min_order, done);
		emit_tree(sp, set, set->trees[t].root, end);
		xfsm_emit_bind(e, end);
	}
	xfsm_emit_bind(e, done);
	E(sp, XI_LDX(BPF_W, XR2, XFP, SO_AW_PROBES));
	spec_cnt_add_reg_at(sp, XR3, SO_ACL_AS, AO(probes), XR2);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_AW_HIT));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, miss);
	emit_hit(sp, stage);
	xfsm_emit_bind(e, miss);
}
