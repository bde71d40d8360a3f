// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * VLAN tags (rw_vlan() in bpf/actions.h): push an outer 802.1Q tag (the
 * VLAN id, priority 0) in front of any tag the frame has, pop the outer
 * one.  The frame grows or shrinks by 4 bytes at its head
 * (bpf_xdp_adjust_head()); the VLAN field words, the packet flags and the
 * frame length follow, and the header rewrites after it find the IP
 * header by those flags (actions.c's emit_rewrite()), so an action later
 * in the rule or a later stage sees the frame as it now is.  A frame with
 * two tags takes no third, an untagged one has nothing to pop: both fail
 * (rewrite_failed), the frame unchanged.
 */
#include <stddef.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "spec/internal.h"

#define ST(field)	((int)offsetof(struct xfsm_stats, field))

void spec_need_vlan(struct spec *sp, bool push)
{
	sp->need[XFSM_FW_PKT_FLAGS] = true;
	sp->need[XFSM_FW_VLAN_ID] = true;	/* a push moves it to vlan.inner */
	sp->need[XFSM_FW_VLAN_PCP] = true;
	sp->need[XFSM_FW_VLAN_INNER] = true;
	if (push)
		sp->push = true;
}

/* bpf_xdp_adjust_head(ctx, delta); non-zero to `fail`. */
static void adjust_head(struct spec *sp, int delta, unsigned int fail)
{
	E(sp, XI_MOV64_REG(XR1, SR_CTX));
	E(sp, XI_MOV64_IMM(XR2, delta));
	E(sp, XI_CALL(BPF_FUNC_xdp_adjust_head));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JNE, XR0, 0, fail);
}

/* fv[word] += delta */
static void fv_add(struct spec *sp, unsigned int word, int delta)
{
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(word)));
	E(sp, XI_ALU32_IMM(BPF_ADD, XR3, delta));
	E(sp, XI_STX(BPF_W, XFP, XR3, so_fv(word)));
}

/* The push: the VLAN id in R4; the MACs kept on the stack across the
 * helper call (SO_WREFRESH: bytes 0-7, SO_CS_OLD: 8-11). */
static void emit_push(struct spec *sp, unsigned int fail)
{
	struct xfsm_emit *e = sp->e;
	unsigned int tagged = xfsm_emit_label(e), set = xfsm_emit_label(e);

	E(sp, XI_STX(BPF_W, XFP, XR4, SO_CS_NEW));
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_QINQ, fail);
	spec_frame(sp, ETH_HLEN + 4, fail);
	E(sp, XI_LDX(BPF_DW, XR3, XR1, 0));
	E(sp, XI_STX(BPF_DW, XFP, XR3, SO_WREFRESH));
	E(sp, XI_LDX(BPF_W, XR3, XR1, 8));
	E(sp, XI_STX(BPF_W, XFP, XR3, SO_CS_OLD));
	adjust_head(sp, -4, fail);
	/* the context's fields afresh: the old packet pointers are gone */
	spec_frame(sp, ETH_HLEN + 4, fail);	/* cannot fail: 4 bytes more */
	E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_WREFRESH));
	E(sp, XI_STX(BPF_DW, XR1, XR3, 0));
	E(sp, XI_LDX(BPF_W, XR3, XFP, SO_CS_OLD));
	E(sp, XI_STX(BPF_W, XR1, XR3, 8));
	E(sp, XI_ST(BPF_H, XR1, 12, (__s32)htons(ETH_P_8021Q)));
	E(sp, XI_LDX(BPF_W, XR4, XFP, SO_CS_NEW));
	E(sp, XI_ALU32_IMM(BPF_AND, XR4, 0x0fff));
	E(sp, XI_MOV32_REG(XR3, XR4));
	E(sp, XI_BE(XR3, 16));
	E(sp, XI_STX(BPF_H, XR1, XR3, 14));
	/* the field words: a tag already there becomes the inner one */
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_VLAN, tagged);
	xfsm_emit_ja(e, set);
	xfsm_emit_bind(e, tagged);
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(XFSM_FW_VLAN_ID)));
	E(sp, XI_STX(BPF_W, XFP, XR3, so_fv(XFSM_FW_VLAN_INNER)));
	E(sp, XI_ALU32_IMM(BPF_OR, XR2, XFSM_PF_QINQ));
	xfsm_emit_bind(e, set);
	E(sp, XI_ALU32_IMM(BPF_OR, XR2, XFSM_PF_VLAN));
	E(sp, XI_STX(BPF_W, XFP, XR2, so_fv(XFSM_FW_PKT_FLAGS)));
	E(sp, XI_STX(BPF_W, XFP, XR4, so_fv(XFSM_FW_VLAN_ID)));
	E(sp, XI_ST(BPF_W, XFP, so_fv(XFSM_FW_VLAN_PCP), 0));
	fv_add(sp, XFSM_FW_META_LEN, 4);
}

/* The pop: the MACs over the outer tag, then the head 4 bytes on (a
 * failure there leaves the MACs moved, as rw_vlan() does). */
static void emit_pop(struct spec *sp, unsigned int fail)
{
	struct xfsm_emit *e = sp->e;
	unsigned int qinq = xfsm_emit_label(e), set = xfsm_emit_label(e);

	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_VLAN));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, fail);
	spec_frame(sp, ETH_HLEN + 4, fail);
	E(sp, XI_LDX(BPF_DW, XR3, XR1, 0));
	E(sp, XI_LDX(BPF_W, XR4, XR1, 8));
	E(sp, XI_STX(BPF_W, XR1, XR4, 12));
	E(sp, XI_STX(BPF_DW, XR1, XR3, 4));
	adjust_head(sp, 4, fail);
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_QINQ, qinq);
	/* the only tag gone */
	E(sp, XI_ST(BPF_W, XFP, so_fv(XFSM_FW_VLAN_ID), 0));
	E(sp, XI_ST(BPF_W, XFP, so_fv(XFSM_FW_VLAN_PCP), 0));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, ~XFSM_PF_VLAN));
	xfsm_emit_ja(e, set);
	/* the inner tag is the outer one now */
	xfsm_emit_bind(e, qinq);
	E(sp, XI_STX(BPF_W, XFP, XR2, SO_CS_NEW));	/* the flags, across the check */
	spec_frame(sp, ETH_HLEN + 4, fail);	/* cannot fail: the inner tag is there */
	E(sp, XI_LDX(BPF_H, XR3, XR1, 14));
	E(sp, XI_BE(XR3, 16));
	E(sp, XI_MOV32_REG(XR4, XR3));
	E(sp, XI_ALU32_IMM(BPF_AND, XR4, 0x0fff));
	E(sp, XI_STX(BPF_W, XFP, XR4, so_fv(XFSM_FW_VLAN_ID)));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR3, 13));
	E(sp, XI_STX(BPF_W, XFP, XR3, so_fv(XFSM_FW_VLAN_PCP)));
	E(sp, XI_ST(BPF_W, XFP, so_fv(XFSM_FW_VLAN_INNER), 0));
	E(sp, XI_LDX(BPF_W, XR2, XFP, SO_CS_NEW));
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, ~XFSM_PF_QINQ));
	xfsm_emit_bind(e, set);
	E(sp, XI_STX(BPF_W, XFP, XR2, so_fv(XFSM_FW_PKT_FLAGS)));
	fv_add(sp, XFSM_FW_META_LEN, -4);
}

void spec_vlan(struct spec *sp, bool push)
{
	struct xfsm_emit *e = sp->e;
	unsigned int fail = xfsm_emit_label(e), done = xfsm_emit_label(e);

	spec_pend_settle(sp);	/* keeps R4, the tag to push */
	if (push)
		emit_push(sp, fail);
	else
		emit_pop(sp, fail);
	spec_cnt_add(sp, SR_STATS, push ? ST(act_vlan_push) : ST(act_vlan_pop), 1);
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, fail);
	spec_cnt_add(sp, SR_STATS, ST(exc_rewrite_failed), 1);
	xfsm_emit_bind(e, done);
}
