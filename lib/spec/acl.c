// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * An ACL stage (xfsm_acl_run() in bpf/acl.h) as straight-line compares:
 * the table's rules in their order (the first that matches wins, as the
 * cut trees find it), each field checked exactly as
 * xfsm_acl_entry_match() (include/xfsm/acl_match.h) checks it on the view
 * xfsm_acl_view_fill() builds, only the fields a rule constrains.  The
 * rules are those of the buffer the application slot names (the program
 * belongs to one slot); every ACL edit switches slots and regenerates.
 *
 * Counters: the table's and the stage's, as the generic run writes them,
 * except `probes`, the map lookups of the cut-tree walk: the compares make
 * none, so it does not move (docs/specializer.md).
 *
 * A table of more than XFSM_SPEC_ACL_INLINE_RULES rules is not compared
 * inline (verification grows with every rule): its stage walks the cut
 * trees in the maps, as the generic run does (acl_walk.c), after the same
 * prologue (counters, ingress port).
 */
#include <errno.h>

#include "spec/internal.h"
#include "xfsm_acl.h"
#include "xfsm/acl_match.h"

/* The view's address words (src[4], dst[4]) on the stack, in the new-flow
 * area: an ACL stage creates no flow. */
#define SO_ACL_V	SO_ZFLOW
#define SO_ACL_SRC	SO_ACL_V
#define SO_ACL_DST	(SO_ACL_V + 16)
#define AO(f)		((int)offsetof(struct xfsm_acl_stats, f))

static const struct xfsm_acl_entry *table_rules(const struct spec *sp, unsigned int stage,
						__u32 *n)
{
	unsigned int t = sp->app->stages[stage].acl_table;

	*n = sp->in->acl_n[t];
	return sp->in->acl[t];
}

/* Can rule e match a packet of the fast path at all?  (A protocol or flags
 * value outside its zero mask never does; untagged frames have no VLAN
 * id, but that is checked at run time like the rest.) */
static bool can_match(const struct xfsm_acl_entry *e)
{
	if (!e->proto_mask && e->proto)
		return false;
	if (!e->tcp_mask && e->tcp_flags)
		return false;
	return true;
}

void spec_acl_need(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	const struct xfsm_acl_entry *r;
	unsigned int t = st->acl_table, i;
	__u32 n;

	if (t >= XFSM_ACL_TABLES) {
		xfsm_emit_fail(sp->e, -EINVAL, "stage %u: ACL table %u", stage, t);
		return;
	}
	if (!(sp->in->acl_given & (1U << t))) {
		xfsm_emit_fail(sp->e, -EOPNOTSUPP,
			       "stage %u: the rules of ACL table %u were not given to the specializer",
			       stage, t);
		return;
	}
	r = table_rules(sp, stage, &n);
	if (n > XFSM_SPEC_ACL_INLINE_RULES) {
		const struct xfsm_acl_set *set = &sp->in->acl_set[t];

		if (sp->inst->map_fd[XFSM_M_ACL_NODES] < 0) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP,
				       "stage %u: ACL table %u has %u rules, more than the %d compared inline, and the instance has no %s map to walk",
				       stage, t, n, XFSM_SPEC_ACL_INLINE_RULES, XFSM_MAP_ACL_NODES);
			return;
		}
		if (set->n_rules != n || set->n_trees > XFSM_ACL_MAX_TREES) {
			xfsm_emit_fail(sp->e, -EINVAL,
				       "stage %u: ACL table %u: a set descriptor of %u rules and %u trees",
				       stage, t, set->n_rules, set->n_trees);
			return;
		}
	}
	if (n && !r) {
		xfsm_emit_fail(sp->e, -EINVAL, "stage %u: ACL table %u: no rules", stage, t);
		return;
	}
	sp->need[XFSM_FW_PKT_FLAGS] = true;
	for (i = 0; i < n; i++) {
		const struct xfsm_acl_entry *e = &r[i];
		unsigned int w;

		if (e->src_len) {
			sp->need[XFSM_FW_IP4_SRC] = true;
			for (w = 0; w < 4; w++)
				sp->need[XFSM_FW_IP6_SRC + w] = true;
		}
		if (e->dst_len) {
			sp->need[XFSM_FW_IP4_DST] = true;
			for (w = 0; w < 4; w++)
				sp->need[XFSM_FW_IP6_DST + w] = true;
		}
		if (e->sport_lo || e->sport_hi != 0xffff)
			sp->need[XFSM_FW_L4_SPORT] = true;
		if (e->dport_lo || e->dport_hi != 0xffff)
			sp->need[XFSM_FW_L4_DPORT] = true;
		if (e->proto_mask)
			sp->need[XFSM_FW_IP_PROTO] = true;
		if (e->tcp_mask)
			sp->need[XFSM_FW_TCP_FLAGS] = true;
		if (e->flags & XFSM_ACLF_PORT)
			sp->need[XFSM_FW_META_PORT] = true;
		if (e->flags & XFSM_ACLF_VLAN)
			sp->need[XFSM_FW_VLAN_ID] = true;
	}
}

/* Jump to `miss` unless (R1 & bits) != 0. */
static void need_bits(struct spec *sp, __u32 bits, unsigned int miss)
{
	E(sp, XI_MOV32_REG(XR2, XR1));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, (__s32)bits));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JEQ, XR2, 0, miss);
}

static void load_fv(struct spec *sp, int dst, unsigned int word)
{
	E(sp, XI_LDX(BPF_W, dst, XFP, so_fv(word)));
}

/* xfsm_acl_view_fill()'s address words: IPv4 in word 0, IPv6 in four,
 * zero for any other packet. */
static void emit_view(struct spec *sp, int off, unsigned int w4, unsigned int w6)
{
	struct xfsm_emit *e = sp->e;
	unsigned int v6 = xfsm_emit_label(e), none = xfsm_emit_label(e);
	unsigned int done = xfsm_emit_label(e), w;

	load_fv(sp, XR1, XFSM_FW_PKT_FLAGS);
	E(sp, XI_MOV32_REG(XR2, XR1));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_IPV4));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR2, 0, v6);
	load_fv(sp, XR3, w4);
	E(sp, XI_STX(BPF_W, XFP, XR3, off));
	for (w = 1; w < 4; w++)
		E(sp, XI_ST(BPF_W, XFP, off + 4 * (int)w, 0));
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, v6);
	E(sp, XI_MOV32_REG(XR2, XR1));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_IPV6));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR2, 0, none);
	for (w = 0; w < 4; w++) {
		load_fv(sp, XR3, w6 + w);
		E(sp, XI_STX(BPF_W, XFP, XR3, off + 4 * (int)w));
	}
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, none);
	for (w = 0; w < 4; w++)
		E(sp, XI_ST(BPF_W, XFP, off + 4 * (int)w, 0));
	xfsm_emit_bind(e, done);
}

/* A prefix of `len` bits of the view's words at `off` against `want`. */
static void cmp_prefix(struct spec *sp, int off, __u8 len, const __u32 *want, unsigned int miss)
{
	unsigned int w;

	for (w = 0; w < 4 && 32 * w < len; w++) {
		__u32 m = xfsm_acl_pfx_mask(len, w);

		E(sp, XI_LDX(BPF_W, XR1, XFP, off + 4 * (int)w));
		if (m != 0xffffffffU)
			E(sp, XI_ALU32_IMM(BPF_AND, XR1, (__s32)m));
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR1, (__s32)(want[w] & m), miss);
	}
}

/* v.word in [lo, hi] (16-bit values: the parser's port words are). */
static void cmp_range(struct spec *sp, unsigned int word, __u16 lo, __u16 hi, unsigned int miss)
{
	if (!lo && hi == 0xffff)
		return;
	load_fv(sp, XR1, word);
	if (lo)
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JLT, XR1, lo, miss);
	if (hi != 0xffff)
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JGT, XR1, hi, miss);
}

static void cmp_masked8(struct spec *sp, unsigned int word, __u8 mask, __u8 want,
			unsigned int miss)
{
	if (!mask)
		return;		/* (want is 0: can_match()) */
	load_fv(sp, XR1, word);
	E(sp, XI_ALU32_IMM(BPF_AND, XR1, mask));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR1, want, miss);
}

/* xfsm_acl_entry_match(): to `miss` unless rule e matches. */
static void emit_match(struct spec *sp, const struct xfsm_acl_entry *e, unsigned int miss)
{
	__u32 fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

	if (fam) {
		load_fv(sp, XR1, XFSM_FW_PKT_FLAGS);
		if (fam == XFSM_ACLF_V4) {
			need_bits(sp, XFSM_PF_IPV4, miss);
		} else if (fam == XFSM_ACLF_V6) {
			/* famf is V4 whenever the IPv4 flag is set */
			E(sp, XI_MOV32_REG(XR2, XR1));
			E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_IPV4));
			xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR2, 0, miss);
			need_bits(sp, XFSM_PF_IPV6, miss);
		} else {
			need_bits(sp, XFSM_PF_IPV4 | XFSM_PF_IPV6, miss);
		}
	}
	cmp_range(sp, XFSM_FW_L4_SPORT, e->sport_lo, e->sport_hi, miss);
	cmp_range(sp, XFSM_FW_L4_DPORT, e->dport_lo, e->dport_hi, miss);
	cmp_masked8(sp, XFSM_FW_IP_PROTO, e->proto_mask, e->proto, miss);
	cmp_masked8(sp, XFSM_FW_TCP_FLAGS, e->tcp_mask, e->tcp_flags, miss);
	cmp_prefix(sp, SO_ACL_SRC, e->src_len, e->src, miss);
	cmp_prefix(sp, SO_ACL_DST, e->dst_len, e->dst, miss);
	if (e->flags & XFSM_ACLF_PORT) {
		load_fv(sp, XR1, XFSM_FW_META_PORT);
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR1, e->in_port, miss);
	}
	if (e->flags & XFSM_ACLF_VLAN) {
		/* an untagged frame's VLAN word is 0xffffffff: no 12-bit id */
		load_fv(sp, XR1, XFSM_FW_PKT_FLAGS);
		need_bits(sp, XFSM_PF_VLAN, miss);
		load_fv(sp, XR1, XFSM_FW_VLAN_ID);
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR1, e->vlan, miss);
	}
}

void spec_acl_cnt(struct spec *sp, int off)
{
	spec_cnt_add_at(sp, XR3, SO_ACL_AS, off, 1);
}

/* The matched rule's counters, mark and action (the end of
 * xfsm_acl_run()). */
static void emit_hit(struct spec *sp, unsigned int stage, const struct xfsm_acl_entry *e)
{
	unsigned int n_stages = sp->app->n_stages;

	spec_acl_cnt(sp, AO(matched));
	spec_cnt_add(sp, SR_SS, offsetof(struct xfsm_stage_stats, hits), 1);
	if (e->flags & XFSM_ACLF_MARK) {
		if (sp->need[XFSM_FW_META_MARK])
			E(sp, XI_ST(BPF_W, XFP, so_fv(XFSM_FW_META_MARK), (__s32)e->mark));
		spec_acl_cnt(sp, AO(marked));
	}
	switch (e->action) {
	case XFSM_ACL_DENY:
		spec_acl_cnt(sp, AO(deny));
		spec_finish_const(sp, XDP_DROP);
		break;
	case XFSM_ACL_PASS:
		spec_acl_cnt(sp, AO(pass));
		spec_finish_const(sp, XDP_PASS);
		break;
	case XFSM_ACL_GOTO:
		if (e->arg <= stage || e->arg >= XFSM_MAX_STAGES) {
			spec_cnt_add(sp, SR_STATS, offsetof(struct xfsm_stats, exc_goto_backward), 1);
			spec_finish_const(sp, XDP_DROP);
			break;
		}
		spec_acl_cnt(sp, AO(go));
		spec_goto(sp, sp->l_stage[e->arg < n_stages ? e->arg : n_stages]);
		break;
	default:
		spec_acl_cnt(sp, AO(allow));
		spec_goto(sp, sp->l_stage[stage + 1]);
		break;
	}
}

int spec_acl_stage(struct spec *sp, unsigned int stage)
{
	const struct xfsm_stage *st = &sp->app->stages[stage];
	unsigned int t = st->acl_table, src = 0, dst = 0, port = 0, i;
	struct xfsm_emit *e = sp->e;
	const struct xfsm_acl_entry *r;
	__u32 n;

	r = table_rules(sp, stage, &n);
	for (i = 0; i < n; i++) {
		src |= r[i].src_len;
		dst |= r[i].dst_len;
		port |= r[i].flags & XFSM_ACLF_PORT;
	}
	xfsm_emit_note(e, 0, "stage %u: ACL table %u, buffer %u (%u rules, %s; statistics %u)",
		       stage, t, sp->app->acl_buf[t] & 1, n,
		       n > XFSM_SPEC_ACL_INLINE_RULES ? "cut trees" : "first match", st->stats_id);
	spec_stats_spill(sp, XFSM_M_ACL_STATS, t, SO_ACL_AS);
	spec_stage_stats(sp, st->stats_id);
	spec_acl_cnt(sp, AO(packets));
	spec_count_pkt(sp, SR_SS, offsetof(struct xfsm_stage_stats, packets),
		       offsetof(struct xfsm_stage_stats, bytes));
	if (port) {
		/* XFSM_ACLS_NEEDS_PORT: meta.port from xfsm_ports when the
		 * application did not ask for it (kept for later stages) */
		unsigned int have = xfsm_emit_label(e);

		xfsm_emit_note(e, 1, "stage %u: the ingress port, for rules on it", stage);
		load_fv(sp, XR1, XFSM_FW_META_PORT);
		xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR1, 0, have);
		E(sp, XI_LDX(BPF_W, XR1, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_TMP));
		spec_lookup_stack(sp, XFSM_M_PORTS, SO_TMP, have);
		E(sp, XI_LDX(BPF_W, XR1, XR0, offsetof(struct xfsm_port, port)));
		E(sp, XI_STX(BPF_W, XFP, XR1, so_fv(XFSM_FW_META_PORT)));
		xfsm_emit_bind(e, have);
	}
	if (n > XFSM_SPEC_ACL_INLINE_RULES) {
		spec_acl_walk(sp, stage);
		goto miss;
	}
	if (src)
		emit_view(sp, SO_ACL_SRC, XFSM_FW_IP4_SRC, XFSM_FW_IP6_SRC);
	if (dst)
		emit_view(sp, SO_ACL_DST, XFSM_FW_IP4_DST, XFSM_FW_IP6_DST);

	for (i = 0; i < n && !e->err; i++) {
		unsigned int next = xfsm_emit_label(e);
		char text[256];

		if (!can_match(&r[i]))
			continue;
		xfsm_acl_format(&r[i], text, sizeof(text));
		xfsm_emit_note(e, 1, "stage %u: ACL rule, order %u: %s", stage, r[i].order, text);
		emit_match(sp, &r[i], next);
		emit_hit(sp, stage, &r[i]);
		xfsm_emit_bind(e, next);
	}
miss:
	xfsm_emit_note(e, 1, "stage %u: no ACL rule matched: %s", stage,
		       st->miss_verdict == XFSM_VERDICT_CONTINUE ? "next stage" : "miss verdict");
	spec_acl_cnt(sp, AO(missed));
	spec_stage_miss(sp, stage);
	return e->err;
}
