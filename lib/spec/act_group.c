// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * output group: xfsm_group_select() of bpf/group.h inlined, then the
 * member's MAC and do_output().  The group's buffer (bit gid of the
 * slot's group_buf) is baked in: a group change is an application switch
 * (lib/apply.c), which generates the program again.  The policy is read
 * from the group at run time, as the generic program does, so that the
 * program is right for any group the buffer holds.  The member loop is
 * unrolled (at most XFSM_GROUP_MAX_MEMBERS tries): no bounded loop for
 * the verifier to walk on 6.1.
 */
#include <stddef.h>

#include "spec/internal.h"

#define GO(field)	((int)offsetof(struct xfsm_group, field))
#define GSO(field)	((int)offsetof(struct xfsm_group_stats, field))

/* hr = xfsm_gh_mix(hr, vr); vr and tr are clobbered (32-bit). */
static void gh_mix(struct spec *sp, int hr, int vr, int tr)
{
	E(sp, XI_ALU32_IMM(BPF_MUL, vr, (__s32)0xcc9e2d51U));
	E(sp, XI_MOV32_REG(tr, vr));
	E(sp, XI_ALU32_IMM(BPF_LSH, tr, 15));
	E(sp, XI_ALU32_IMM(BPF_RSH, vr, 17));
	E(sp, XI_ALU32_REG(BPF_OR, vr, tr));
	E(sp, XI_ALU32_IMM(BPF_MUL, vr, (__s32)0x1b873593U));
	E(sp, XI_ALU32_REG(BPF_XOR, hr, vr));
	E(sp, XI_MOV32_REG(tr, hr));
	E(sp, XI_ALU32_IMM(BPF_LSH, tr, 13));
	E(sp, XI_ALU32_IMM(BPF_RSH, hr, 19));
	E(sp, XI_ALU32_REG(BPF_OR, hr, tr));
	E(sp, XI_ALU32_IMM(BPF_MUL, hr, 5));
	E(sp, XI_ALU32_IMM(BPF_ADD, hr, (__s32)0xe6546b64U));
}

/* hr = the four words of an IPv6 address from fv[w] folded by gh_mix. */
static void gh_addr6(struct spec *sp, int hr, unsigned int w)
{
	unsigned int k;

	E(sp, XI_LDX(BPF_W, hr, XFP, so_fv(w)));
	for (k = 1; k < 4; k++) {
		E(sp, XI_LDX(BPF_W, XR5, XFP, so_fv(w + k)));
		gh_mix(sp, hr, XR5, XR0);
	}
}

/* R0 = xfsm_group_hash(fv).  Clobbers R1-R5. */
static void gh_hash(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int v4 = xfsm_emit_label(e), swap = xfsm_emit_label(e);
	unsigned int ports = xfsm_emit_label(e), mix = xfsm_emit_label(e);

	/* R1 = a, R2 = b, R3 = sport, R4 = dport */
	E(sp, XI_LDX(BPF_W, XR1, XFP, so_fv(XFSM_FW_IP4_SRC)));
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_IP4_DST)));
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_IPV6));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, 0, v4);
	gh_addr6(sp, XR1, XFSM_FW_IP6_SRC);
	gh_addr6(sp, XR2, XFSM_FW_IP6_DST);
	xfsm_emit_bind(e, v4);
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(XFSM_FW_L4_SPORT)));
	E(sp, XI_LDX(BPF_W, XR4, XFP, so_fv(XFSM_FW_L4_DPORT)));
	/* the smaller address first, its port with it; equal addresses:
	 * the smaller port first */
	xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JGT, XR1, XR2, swap);
	xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JNE, XR1, XR2, mix);
	xfsm_emit_jmp_reg(e, BPF_JMP32 | BPF_JGT, XR3, XR4, ports);
	xfsm_emit_ja(e, mix);
	xfsm_emit_bind(e, swap);
	E(sp, XI_MOV32_REG(XR5, XR1));
	E(sp, XI_MOV32_REG(XR1, XR2));
	E(sp, XI_MOV32_REG(XR2, XR5));
	xfsm_emit_bind(e, ports);
	E(sp, XI_MOV32_REG(XR5, XR3));
	E(sp, XI_MOV32_REG(XR3, XR4));
	E(sp, XI_MOV32_REG(XR4, XR5));
	xfsm_emit_bind(e, mix);
	E(sp, XI_MOV32_IMM(XR0, (__s32)0x9747b28cU));
	gh_mix(sp, XR0, XR1, XR5);
	gh_mix(sp, XR0, XR2, XR5);
	E(sp, XI_ALU32_IMM(BPF_LSH, XR3, 16));
	E(sp, XI_ALU32_REG(BPF_OR, XR3, XR4));
	gh_mix(sp, XR0, XR3, XR5);
	E(sp, XI_LDX(BPF_W, XR1, XFP, so_fv(XFSM_FW_IP_PROTO)));
	gh_mix(sp, XR0, XR1, XR5);
	/* xfsm_gh_final() */
	E(sp, XI_MOV32_REG(XR5, XR0));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR5, 16));
	E(sp, XI_ALU32_REG(BPF_XOR, XR0, XR5));
	E(sp, XI_ALU32_IMM(BPF_MUL, XR0, (__s32)0x85ebca6bU));
	E(sp, XI_MOV32_REG(XR5, XR0));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR5, 13));
	E(sp, XI_ALU32_REG(BPF_XOR, XR0, XR5));
	E(sp, XI_ALU32_IMM(BPF_MUL, XR0, (__s32)0xc2b2ae35U));
	E(sp, XI_MOV32_REG(XR5, XR0));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR5, 16));
	E(sp, XI_ALU32_REG(BPF_XOR, XR0, XR5));
}

/* SO_GRP_START = table[R0 % n_slots] (weighted, consistent); an n_slots
 * out of range leaves the start at 0.  Clobbers R1-R4. */
static void table_pick(struct spec *sp, unsigned int loop)
{
	struct xfsm_emit *e = sp->e;
	unsigned int in = xfsm_emit_label(e);

	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_slots)));
	E(sp, XI_ALU32_REG(BPF_MOD, XR0, XR2));
	/* (n_slots was checked: the bound is the verifier's) */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR0, XFSM_GROUP_TABLE, in);
	E(sp, XI_MOV64_IMM(XR0, 0));
	xfsm_emit_bind(e, in);
	E(sp, XI_ALU64_IMM(BPF_LSH, XR0, 1));
	E(sp, XI_ALU64_REG(BPF_ADD, XR1, XR0));
	E(sp, XI_LDX(BPF_H, XR0, XR1, GO(table)));
	E(sp, XI_STX(BPF_W, XFP, XR0, SO_GRP_START));
	xfsm_emit_ja(e, loop);
}

/* To `bad` unless 0 < n_slots <= XFSM_GROUP_TABLE.  Uses R1, R2. */
static void slots_ok(struct spec *sp, unsigned int bad)
{
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_slots)));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, XR2, 0, bad);
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JGT, XR2, XFSM_GROUP_TABLE, bad);
}

/* SO_GRP_START = *ctr % n, and the counter follows the choice. */
static void rr_start(struct spec *sp, unsigned int loop)
{
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_members)));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_CTR));
	E(sp, XI_LDX(BPF_W, XR0, XR1, 0));
	E(sp, XI_ALU32_REG(BPF_MOD, XR0, XR2));
	E(sp, XI_STX(BPF_W, XFP, XR0, SO_GRP_START));
	E(sp, XI_ST(BPF_W, XFP, SO_GRP_RR, 1));
	xfsm_emit_ja(sp->e, loop);
}

void spec_group(struct spec *sp, __u32 gid)
{
	struct xfsm_emit *e = sp->e;
	unsigned int drop = xfsm_emit_label(e), empty = xfsm_emit_label(e);
	unsigned int loop = xfsm_emit_label(e), found = xfsm_emit_label(e);
	unsigned int l_rr = xfsm_emit_label(e), l_w = xfsm_emit_label(e);
	unsigned int l_h = xfsm_emit_label(e), l_c = xfsm_emit_label(e);
	unsigned int l_f = xfsm_emit_label(e), f_miss = xfsm_emit_label(e);
	unsigned int result = xfsm_emit_label(e), no_mac = xfsm_emit_label(e);
	unsigned int eth_fail = xfsm_emit_label(e), out = xfsm_emit_label(e);
	__u32 gk, i;

	/* (do_output's act_output comes after the choice there: the sum is
	 * the same) */
	spec_cnt_add(sp, SR_STATS, (int)offsetof(struct xfsm_stats, act_output), 1);
	if (gid >= XFSM_MAX_GROUPS) {
		spec_finish_const(sp, XDP_DROP);
		return;
	}
	gk = gid + ((sp->app->group_buf >> gid) & 1) * XFSM_MAX_GROUPS;
	spec_lookup_const(sp, XR0, XFSM_M_GROUPS, gk, drop);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_GRP_G));
	spec_lookup_const(sp, XR0, XFSM_M_GROUP_STATS, gid, drop);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_GRP_GS));
	spec_lookup_const(sp, XR0, XFSM_M_GROUP_RR, gid, drop);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_GRP_CTR));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_members)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, empty);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JGT, XR2, XFSM_GROUP_MAX_MEMBERS, empty);
	E(sp, XI_ST(BPF_W, XFP, SO_GRP_START, 0));
	E(sp, XI_ST(BPF_W, XFP, SO_GRP_RR, 0));
	E(sp, XI_ST(BPF_DW, XFP, SO_GRP_FK, 0));	/* (read only by rr-flow) */
	E(sp, XI_LDX(BPF_W, XR3, XR1, GO(policy)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, XFSM_GP_RR_PACKET, l_rr);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, XFSM_GP_WEIGHTED, l_w);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, XFSM_GP_HASH, l_h);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, XFSM_GP_CONSISTENT, l_c);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, XFSM_GP_RR_FLOW, l_f);
	xfsm_emit_ja(e, loop);

	xfsm_emit_bind(e, l_rr);
	rr_start(sp, loop);

	/* weighted: the counter steps through the table */
	xfsm_emit_bind(e, l_w);
	slots_ok(sp, loop);
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_GRP_CTR));
	E(sp, XI_LDX(BPF_W, XR0, XR3, 0));
	E(sp, XI_ALU32_REG(BPF_MOD, XR0, XR2));
	E(sp, XI_MOV32_REG(XR4, XR0));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR4, 1));
	E(sp, XI_STX(BPF_W, XR3, XR4, 0));
	table_pick(sp, loop);

	xfsm_emit_bind(e, l_h);
	gh_hash(sp);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_members)));
	E(sp, XI_ALU32_REG(BPF_MOD, XR0, XR2));
	E(sp, XI_STX(BPF_W, XFP, XR0, SO_GRP_START));
	xfsm_emit_ja(e, loop);

	xfsm_emit_bind(e, l_c);
	slots_ok(sp, loop);
	gh_hash(sp);
	table_pick(sp, loop);

	/* rr-flow: the member a flow was given, else the next in turn */
	xfsm_emit_bind(e, l_f);
	gh_hash(sp);
	E(sp, XI_ST(BPF_W, XFP, SO_GRP_FK + (int)offsetof(struct xfsm_group_flow_key, group),
		    (__s32)gid));
	E(sp, XI_STX(BPF_W, XFP, XR0, SO_GRP_FK + (int)offsetof(struct xfsm_group_flow_key, hash)));
	spec_lookup_stack(sp, XFSM_M_GROUP_FLOWS, SO_GRP_FK, f_miss);
	E(sp, XI_LDX(BPF_W, XR1, XR0, 0));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_GRP_START));
	xfsm_emit_ja(e, loop);
	xfsm_emit_bind(e, f_miss);
	rr_start(sp, loop);

	/* the first member from start on that is not down */
	xfsm_emit_bind(e, loop);
	for (i = 0; i < XFSM_GROUP_MAX_MEMBERS; i++) {
		unsigned int next = xfsm_emit_label(e), live = xfsm_emit_label(e);

		E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
		E(sp, XI_LDX(BPF_W, XR2, XR1, GO(n_members)));
		if (i)
			xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLE, XR2, i, empty);
		E(sp, XI_LDX(BPF_W, XR3, XFP, SO_GRP_START));
		if (i)
			E(sp, XI_ALU32_IMM(BPF_ADD, XR3, i));
		E(sp, XI_ALU32_REG(BPF_MOD, XR3, XR2));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_GROUP_MAX_MEMBERS - 1));
		E(sp, XI_STX(BPF_W, XFP, XR3, SO_GRP_IDX));
		E(sp, XI_ALU64_IMM(BPF_LSH, XR3, 1));
		E(sp, XI_ALU64_REG(BPF_ADD, XR1, XR3));
		E(sp, XI_LDX(BPF_H, XR3, XR1, GO(members)));
		E(sp, XI_STX(BPF_W, XFP, XR3, SO_TMP));
		spec_lookup_stack(sp, XFSM_M_PORT_FLAGS, SO_TMP, live);
		E(sp, XI_LDX(BPF_W, XR1, XR0, 0));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR1, XFSM_PORT_F_DOWN, next);
		xfsm_emit_bind(e, live);
		E(sp, XI_ST(BPF_W, XFP, SO_GRP_I, (__s32)i));
		xfsm_emit_ja(e, found);
		xfsm_emit_bind(e, next);
	}
	xfsm_emit_bind(e, empty);
	spec_cnt_add_at(sp, XR4, SO_GRP_GS, GSO(empty), 1);
	xfsm_emit_bind(e, drop);
	spec_finish_const(sp, XDP_DROP);

	/* member[idx], skipped, and the round-robin state */
	xfsm_emit_bind(e, found);
	E(sp, XI_LDX(BPF_W, XR3, XFP, SO_GRP_IDX));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_GROUP_MAX_MEMBERS - 1));
	E(sp, XI_ALU64_IMM(BPF_LSH, XR3, 3));
	E(sp, XI_LDX(BPF_DW, XR4, XFP, SO_GRP_GS));
	E(sp, XI_ALU64_REG(BPF_ADD, XR4, XR3));
	spec_cnt_add(sp, XR4, GSO(member), 1);
	E(sp, XI_LDX(BPF_W, XR2, XFP, SO_GRP_I));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, out);
	spec_cnt_add_at(sp, XR4, SO_GRP_GS, GSO(skipped), 1);
	xfsm_emit_bind(e, out);
	E(sp, XI_LDX(BPF_W, XR2, XFP, SO_GRP_RR));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, result);
	/* past the member taken: a down member does not pass its turn on */
	E(sp, XI_LDX(BPF_W, XR3, XFP, SO_GRP_IDX));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR3, 1));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_CTR));
	E(sp, XI_STX(BPF_W, XR1, XR3, 0));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_LDX(BPF_W, XR2, XR1, GO(policy)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR2, XFSM_GP_RR_FLOW, result);
	xfsm_emit_map(e, XR1, sp->inst->map_fd[XFSM_M_GROUP_FLOWS]);
	E(sp, XI_MOV64_REG(XR2, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR2, SO_GRP_FK));
	E(sp, XI_MOV64_REG(XR3, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR3, SO_GRP_IDX));
	E(sp, XI_MOV64_IMM(XR4, BPF_ANY));
	E(sp, XI_CALL(BPF_FUNC_map_update_elem));

	/* the member's port (0: drop) and MAC (0: the frame's own) */
	xfsm_emit_bind(e, result);
	E(sp, XI_LDX(BPF_W, XR3, XFP, SO_GRP_IDX));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_GROUP_MAX_MEMBERS - 1));
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_GRP_G));
	E(sp, XI_MOV64_REG(XR2, XR3));
	E(sp, XI_ALU64_IMM(BPF_LSH, XR2, 1));
	E(sp, XI_ALU64_REG(BPF_ADD, XR2, XR1));
	E(sp, XI_LDX(BPF_H, XR0, XR2, GO(members)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, drop);
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_WREFRESH));
	E(sp, XI_ALU64_IMM(BPF_LSH, XR3, 3));
	E(sp, XI_ALU64_REG(BPF_ADD, XR1, XR3));
	E(sp, XI_LDX(BPF_DW, XR4, XR1, GO(macs)));
	E(sp, XI_ALU64_IMM(BPF_LSH, XR4, 16));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR4, 16));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR4, 0, no_mac);
	spec_rw_eth(sp, true, eth_fail);
	xfsm_emit_ja(e, no_mac);
	xfsm_emit_bind(e, eth_fail);
	spec_cnt_add(sp, SR_STATS, (int)offsetof(struct xfsm_stats, exc_rewrite_failed), 1);
	xfsm_emit_bind(e, no_mac);
	E(sp, XI_LDX(BPF_DW, XR2, XFP, SO_WREFRESH));
	spec_output_reg(sp);
}

/* The fields xfsm_group_hash() reads. */
void spec_need_group(struct spec *sp)
{
	static const unsigned int words[] = {
		XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT,
		XFSM_FW_PKT_FLAGS, XFSM_FW_IP_PROTO,
	};
	unsigned int k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		sp->need[words[k]] = true;
	for (k = 0; k < 4; k++) {
		sp->need[XFSM_FW_IP6_SRC + k] = true;
		sp->need[XFSM_FW_IP6_DST + k] = true;
	}
}
