// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * arp reply (rw_arp_reply() in bpf/actions.h): an Ethernet/IPv4 ARP
 * request of the fast path's ARP layout (untagged or behind one VLAN
 * tag; parse.c) becomes its reply in place, with the MAC in R4 as the
 * asked host's: operation 2, sender and target swapped in, the Ethernet
 * addresses likewise; it ends the program (XDP_TX).  Anything else (not ARP, a reply, another hardware or
 * protocol type) fails, the frame unchanged, and the rule goes on.
 */
#include <stddef.h>
#include <linux/if_ether.h>

#include "spec/internal.h"

#define ST(field)	((int)offsetof(struct xfsm_stats, field))

void spec_need_arp(struct spec *sp)
{
	sp->need[XFSM_FW_PKT_FLAGS] = true;
	sp->need[XFSM_FW_ARP_OP] = true;
	sp->need[XFSM_FW_ARP_SPA] = true;
	sp->need[XFSM_FW_ARP_TPA] = true;
}

/* The reply with the ARP header at `a` (R1: the frame, R4: the MAC);
 * to `fail` before anything is written. */
static void arp_reply_at(struct spec *sp, int a, unsigned int fail)
{
	static const __u8 head[6] = { 0, 1, 0x08, 0, 6, 4 };	/* Ethernet, IPv4 */
	int i;

	spec_frame(sp, a + 28, fail);
	for (i = 0; i < 6; i++) {
		E(sp, XI_LDX(BPF_B, XR2, XR1, a + i));
		xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JNE, XR2, head[i], fail);
	}
	E(sp, XI_ST(BPF_B, XR1, a + 7, 2));	/* operation: reply (the high byte was 0) */
	/* the requester's MAC (sha) to the target and the Ethernet destination */
	E(sp, XI_LDX(BPF_W, XR2, XR1, a + 8));
	E(sp, XI_LDX(BPF_H, XR3, XR1, a + 12));
	E(sp, XI_STX(BPF_W, XR1, XR2, a + 18));
	E(sp, XI_STX(BPF_H, XR1, XR3, a + 22));
	E(sp, XI_STX(BPF_W, XR1, XR2, 0));
	E(sp, XI_STX(BPF_H, XR1, XR3, 4));
	/* the asked host's MAC: the sender and the Ethernet source */
	for (i = 0; i < 6; i++) {
		E(sp, XI_MOV64_REG(XR3, XR4));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR3, 8 * (5 - i)));
		E(sp, XI_STX(BPF_B, XR1, XR3, a + 8 + i));
		E(sp, XI_STX(BPF_B, XR1, XR3, ETH_ALEN + i));
	}
	/* the addresses swapped: spa <- tpa, tpa <- spa (from the field words) */
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_ARP_TPA)));
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(XFSM_FW_ARP_SPA)));
	E(sp, XI_STX(BPF_W, XFP, XR2, so_fv(XFSM_FW_ARP_SPA)));
	E(sp, XI_STX(BPF_W, XFP, XR3, so_fv(XFSM_FW_ARP_TPA)));
	E(sp, XI_BE(XR2, 32));
	E(sp, XI_BE(XR3, 32));
	E(sp, XI_STX(BPF_W, XR1, XR2, a + 14));
	E(sp, XI_STX(BPF_W, XR1, XR3, a + 24));
}

void spec_arp_reply(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int fail = xfsm_emit_label(e), tagged = xfsm_emit_label(e);
	unsigned int two = xfsm_emit_label(e), done = xfsm_emit_label(e);

	/* an ARP request: flags and operation from the parser */
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	E(sp, XI_MOV32_REG(XR3, XR2));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_ARP));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, 0, fail);
	E(sp, XI_LDX(BPF_W, XR3, XFP, so_fv(XFSM_FW_ARP_OP)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR3, 1, fail);
	/* the ARP header behind the tags the flags say (a push or pop may
	 * have moved it); ARP behind two tags only comes from a push */
	if (sp->push)
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_QINQ, two);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_VLAN, tagged);
	arp_reply_at(sp, ETH_HLEN, fail);
	xfsm_emit_ja(e, done);
	if (sp->push) {
		xfsm_emit_bind(e, two);
		arp_reply_at(sp, ETH_HLEN + 8, fail);
		xfsm_emit_ja(e, done);
	}
	xfsm_emit_bind(e, tagged);
	arp_reply_at(sp, ETH_HLEN + 4, fail);
	xfsm_emit_bind(e, done);
	/* (rw_arp_reply() also moves the field words along: nothing reads
	 * them after this last action) */
	spec_cnt_add(sp, SR_STATS, ST(act_arp_reply), 1);
	spec_finish_const(sp, XDP_TX);

	xfsm_emit_bind(e, fail);
	spec_cnt_add(sp, SR_STATS, ST(exc_rewrite_failed), 1);
}
