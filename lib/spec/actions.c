// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A matched rule's actions (actions_run() in bpf/actions.h), inlined in
 * rule order: verdicts, output to a port, flood, output xsk, goto, set
 * mark, count, output group (act_group.c), vlan pop (act_l2.c), and the
 * rewrites of Ethernet addresses, DSCP, ECN, TTL and IPv4 NAT (addresses
 * and ports, checksums updated) and IPv6 NAT (addresses, the L4 checksum
 * updated), on every layout a frame can have (untagged, one VLAN tag, two
 * after a push); output fib is act_fib.c, vlan push and pop act_l2.c, arp
 * reply act_arp.c.
 */
#include <errno.h>
#include <linux/if_ether.h>

#include "spec/internal.h"

static const char *act_name(__u8 type)
{
	static const char *const names[XFSM_ACT__MAX] = {
		[XFSM_ACT_NONE] = "none", [XFSM_ACT_DROP] = "drop", [XFSM_ACT_PASS] = "pass",
		[XFSM_ACT_TX] = "tx", [XFSM_ACT_OUTPUT] = "output", [XFSM_ACT_FLOOD] = "flood",
		[XFSM_ACT_GOTO] = "goto", [XFSM_ACT_SET_ETH_SRC] = "set eth.src",
		[XFSM_ACT_SET_ETH_DST] = "set eth.dst", [XFSM_ACT_SET_DSCP] = "set ip.dscp",
		[XFSM_ACT_SET_ECN] = "set ip.ecn", [XFSM_ACT_DEC_TTL] = "dec_ttl",
		[XFSM_ACT_COUNT] = "count", [XFSM_ACT_SET_MARK] = "set mark",
		[XFSM_ACT_OUTPUT_GROUP] = "output group", [XFSM_ACT_OUTPUT_XSK] = "output xsk",
		[XFSM_ACT_SET_TTL] = "set ip.ttl", [XFSM_ACT_SET_IP_SRC] = "set ip.src",
		[XFSM_ACT_SET_IP_DST] = "set ip.dst", [XFSM_ACT_SET_L4_SPORT] = "set l4.sport",
		[XFSM_ACT_SET_L4_DPORT] = "set l4.dport", [XFSM_ACT_VLAN_PUSH] = "vlan push",
		[XFSM_ACT_VLAN_POP] = "vlan pop", [XFSM_ACT_ARP_REPLY] = "arp reply",
		[XFSM_ACT_OUTPUT_FIB] = "output fib", [XFSM_ACT_SET_IP6_SRC] = "set ip6.src",
		[XFSM_ACT_SET_IP6_DST] = "set ip6.dst",
	};

	return type < XFSM_ACT__MAX && names[type] ? names[type] : "unknown";
}

/* The header rewrites generated (emit_rewrite()). */
static bool act_is_rewrite(__u8 type)
{
	switch (type) {
	case XFSM_ACT_SET_ETH_SRC:
	case XFSM_ACT_SET_ETH_DST:
	case XFSM_ACT_SET_DSCP:
	case XFSM_ACT_SET_ECN:
	case XFSM_ACT_SET_TTL:
	case XFSM_ACT_DEC_TTL:
	case XFSM_ACT_SET_IP_SRC:
	case XFSM_ACT_SET_IP_DST:
	case XFSM_ACT_SET_L4_SPORT:
	case XFSM_ACT_SET_L4_DPORT:
	case XFSM_ACT_SET_IP6_SRC:
	case XFSM_ACT_SET_IP6_DST:
		return true;
	}
	return false;
}

static bool act_supported(__u8 type)
{
	switch (type) {
	case XFSM_ACT_NONE:
	case XFSM_ACT_DROP:
	case XFSM_ACT_PASS:
	case XFSM_ACT_TX:
	case XFSM_ACT_OUTPUT:
	case XFSM_ACT_FLOOD:
	case XFSM_ACT_OUTPUT_XSK:
	case XFSM_ACT_GOTO:
	case XFSM_ACT_SET_MARK:
	case XFSM_ACT_COUNT:
	case XFSM_ACT_OUTPUT_GROUP:
	case XFSM_ACT_VLAN_PUSH:
	case XFSM_ACT_VLAN_POP:
	case XFSM_ACT_OUTPUT_FIB:
	case XFSM_ACT_ARP_REPLY:
		return true;
	}
	return act_is_rewrite(type);
}

/* Rewrites that find their header through the packet flags. */
static bool act_reads_flags(__u8 type)
{
	return act_is_rewrite(type) && type != XFSM_ACT_SET_ETH_SRC &&
	       type != XFSM_ACT_SET_ETH_DST;
}

int spec_actions_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (!act_supported(a->type)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP,
				       "stage %u, rule %u, action %u: the specializer does not generate '%s' yet",
				       stage, r->image_id, i, act_name(a->type));
			return sp->e->err;
		}
		if (!spec_opnd_ok(&a->opnd)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u, action %u: operand",
				       stage, r->image_id, i);
			return sp->e->err;
		}
		if ((a->type == XFSM_ACT_OUTPUT || a->type == XFSM_ACT_FLOOD ||
		     a->type == XFSM_ACT_OUTPUT_GROUP) &&
		    sp->inst->map_fd[XFSM_M_TX_PORTS] < 0) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u: output without %s",
				       stage, r->image_id, XFSM_MAP_TX_PORTS);
			return sp->e->err;
		}
		if (a->type == XFSM_ACT_OUTPUT_FIB && spec_fib_check(sp, stage, r))
			return sp->e->err;
		if (a->type == XFSM_ACT_OUTPUT_XSK && sp->inst->map_fd[XFSM_M_XSKS] < 0) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u: output xsk without %s",
				       stage, r->image_id, XFSM_MAP_XSKS);
			return sp->e->err;
		}
	}
	return 0;
}

void spec_need_actions(struct spec *sp, const struct xfsm_rule *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (a->type != XFSM_ACT_NONE && a->type != XFSM_ACT_COUNT &&
		    a->type != XFSM_ACT_GOTO && a->type != XFSM_ACT_FLOOD)
			spec_need_opnd(sp, &a->opnd);
		if (act_reads_flags(a->type))
			sp->need[XFSM_FW_PKT_FLAGS] = true;
		if (a->type == XFSM_ACT_OUTPUT_GROUP)
			spec_need_group(sp);
		if (a->type == XFSM_ACT_OUTPUT_FIB)
			spec_need_fib(sp);
		if (a->type == XFSM_ACT_ARP_REPLY)
			spec_need_arp(sp);
		if (a->type == XFSM_ACT_VLAN_PUSH || a->type == XFSM_ACT_VLAN_POP)
			spec_need_vlan(sp, a->type == XFSM_ACT_VLAN_PUSH);
	}
}

#define SO(field)	((int)offsetof(struct xfsm_stats, field))

/* action_verdict() and finish() */
static void emit_verdict(struct spec *sp, __u8 type)
{
	unsigned int mark = spec_pend_mark(sp);

	switch (type) {
	case XFSM_ACT_DROP:
		spec_cnt_inc_g(sp, SR_STATS, XFSM_CG_DATAPATH, 0, SO(act_drop));
		spec_finish_const(sp, XDP_DROP);
		break;
	case XFSM_ACT_PASS:
		spec_cnt_inc_g(sp, SR_STATS, XFSM_CG_DATAPATH, 0, SO(act_pass));
		spec_finish_const(sp, XDP_PASS);
		break;
	default:
		spec_cnt_inc_g(sp, SR_STATS, XFSM_CG_DATAPATH, 0, SO(act_tx));
		spec_finish_const(sp, XDP_TX);
		break;
	}
	spec_pend_restore(sp, mark);
}

/* do_output(): the devmap redirect, bad_port, the port's tx counters. */
static void emit_output(struct spec *sp, const struct xfsm_action *a,
			const struct spec_octx *ox)
{
	spec_cnt_add(sp, SR_STATS, SO(act_output), 1);
	spec_opnd(sp, XR2, XR3, &a->opnd, ox);
	spec_output_reg(sp);
}

void spec_output_reg(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int ok = xfsm_emit_label(e), done = xfsm_emit_label(e);

	E(sp, XI_STX(BPF_DW, XFP, XR2, SO_WREFRESH));	/* the port, for its counters */
	E(sp, XI_MOV32_REG(XR2, XR2));			/* (__u32)port */
	xfsm_emit_map(e, XR1, sp->inst->map_fd[XFSM_M_TX_PORTS]);
	E(sp, XI_MOV64_IMM(XR3, XDP_DROP));
	E(sp, XI_CALL(BPF_FUNC_redirect_map));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, XDP_REDIRECT, ok);
	spec_cnt_add(sp, SR_STATS, SO(exc_bad_port), 1);
	spec_finish_const(sp, XDP_DROP);

	xfsm_emit_bind(e, ok);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WREFRESH));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JGE, XR1, XFSM_MAX_PORTS, done);
	if (spec_has_port_stats(sp)) {
		spec_port_stats(sp, XR1, done);
		spec_count_pkt(sp, XR0, offsetof(struct xfsm_port_stats, tx_packets),
			       offsetof(struct xfsm_port_stats, tx_bytes));
	}
	xfsm_emit_bind(e, done);
	spec_finish_const(sp, XDP_REDIRECT);
}

/* flood: every port but the ingress one (do_output(), flood). */
static void emit_flood(struct spec *sp)
{
	unsigned int ok = xfsm_emit_label(sp->e);

	spec_cnt_add(sp, SR_STATS, SO(act_flood), 1);
	xfsm_emit_map(sp->e, XR1, sp->inst->map_fd[XFSM_M_TX_PORTS]);
	E(sp, XI_MOV64_IMM(XR2, 0));
	E(sp, XI_MOV64_IMM(XR3, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS));
	E(sp, XI_CALL(BPF_FUNC_redirect_map));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, XR0, XDP_REDIRECT, ok);
	spec_cnt_add(sp, SR_STATS, SO(exc_bad_port), 1);
	spec_finish_const(sp, XDP_DROP);
	xfsm_emit_bind(sp->e, ok);
	spec_finish_const(sp, XDP_REDIRECT);
}

/* ---- Header rewrites ------------------------------------------------------ */

void spec_frame(struct spec *sp, int n, unsigned int fail)
{
	E(sp, XI_LDX(BPF_W, XR1, SR_CTX, offsetof(struct xdp_md, data)));
	E(sp, XI_LDX(BPF_W, XR2, SR_CTX, offsetof(struct xdp_md, data_end)));
	E(sp, XI_MOV64_REG(XR3, XR1));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR3, n));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP | BPF_JGT, XR3, XR2, fail);
}

/* fv[word] = reg (when the application reads it). */
static void set_word(struct spec *sp, unsigned int word, int reg)
{
	if (sp->need[word])
		E(sp, XI_STX(BPF_W, XFP, reg, so_fv(word)));
}

/* The 16-bit checksum at R1 + off updated for 16 bits going from `old` to
 * `new` (raw, 16 bits): csum_replace16().  Uses R0; clobbers old. */
static void csum16(struct spec *sp, int off, int old, int new)
{
	int i;

	E(sp, XI_LDX(BPF_H, XR0, XR1, off));
	E(sp, XI_ALU32_IMM(BPF_XOR, XR0, 0xffff));
	E(sp, XI_ALU32_IMM(BPF_XOR, old, 0xffff));
	E(sp, XI_ALU32_REG(BPF_ADD, XR0, old));
	E(sp, XI_ALU32_REG(BPF_ADD, XR0, new));
	for (i = 0; i < 2; i++) {
		E(sp, XI_MOV32_REG(old, XR0));
		E(sp, XI_ALU32_IMM(BPF_RSH, old, 16));
		E(sp, XI_ALU32_IMM(BPF_AND, XR0, 0xffff));
		E(sp, XI_ALU32_REG(BPF_ADD, XR0, old));
	}
	E(sp, XI_ALU32_IMM(BPF_XOR, XR0, 0xffff));
	E(sp, XI_STX(BPF_H, XR1, XR0, off));
}

/* The same from the words in SO_CS_OLD / SO_CS_NEW, 16 or 32 bits
 * (csum_replace32(): both halves).  Uses R0, R3, R5. */
static void csum_saved(struct spec *sp, int off, bool wide)
{
	int half;

	for (half = wide ? 1 : 0; half >= 0; half--) {
		E(sp, XI_LDX(BPF_W, XR3, XFP, SO_CS_OLD));
		E(sp, XI_LDX(BPF_W, XR5, XFP, SO_CS_NEW));
		if (half) {
			E(sp, XI_ALU32_IMM(BPF_RSH, XR3, 16));
			E(sp, XI_ALU32_IMM(BPF_RSH, XR5, 16));
		}
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, 0xffff));
		E(sp, XI_ALU32_IMM(BPF_AND, XR5, 0xffff));
		csum16(sp, off, XR3, XR5);
	}
}

/* rw_eth(): the value in R4 as a MAC address. */
void spec_rw_eth(struct spec *sp, bool dst, unsigned int fail)
{
	int base = dst ? 0 : ETH_ALEN, i;

	spec_frame(sp, ETH_HLEN, fail);
	for (i = 0; i < ETH_ALEN; i++) {
		E(sp, XI_MOV64_REG(XR3, XR4));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR3, 8 * (ETH_ALEN - 1 - i)));
		E(sp, XI_STX(BPF_B, XR1, XR3, base + i));
	}
	E(sp, XI_MOV64_REG(XR3, XR4));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR3, 32));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, 0xffff));
	set_word(sp, dst ? XFSM_FW_ETH_DST_HI : XFSM_FW_ETH_SRC_HI, XR3);
	E(sp, XI_MOV32_REG(XR3, XR4));
	set_word(sp, dst ? XFSM_FW_ETH_DST_LO : XFSM_FW_ETH_SRC_LO, XR3);
}

/*
 * rw_ip() for one family, the header at 14: the value in R4.  The TTL is
 * byte 8 of IPv4 and the hop limit byte 7 of IPv6; the TOS is byte 1 of
 * IPv4 while IPv6's traffic class straddles bytes 0 and 1; only IPv4 has
 * a header checksum to keep valid (the 16-bit word around the changed
 * byte, before and after, in R3 and R5).
 */
void spec_rw_ip(struct spec *sp, __u8 type, bool v6, unsigned int fail, unsigned int expired)
{
	const int ip = sp->l3, ttl = ip + (v6 ? 7 : 8);

	spec_frame(sp, ip + (v6 ? 40 : 20), fail);
	if (type == XFSM_ACT_DEC_TTL || type == XFSM_ACT_SET_TTL) {
		if (type == XFSM_ACT_DEC_TTL) {
			E(sp, XI_LDX(BPF_B, XR4, XR1, ttl));
			xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JLE, XR4, 1, expired);
			E(sp, XI_ALU32_IMM(BPF_SUB, XR4, 1));
		}
		if (!v6)
			E(sp, XI_LDX(BPF_H, XR3, XR1, ttl));	/* TTL and protocol */
		E(sp, XI_STX(BPF_B, XR1, XR4, ttl));
		E(sp, XI_LDX(BPF_B, XR2, XR1, ttl));
		set_word(sp, XFSM_FW_IP_TTL, XR2);
		if (!v6) {
			E(sp, XI_LDX(BPF_H, XR5, XR1, ttl));
			csum16(sp, ip + 10, XR3, XR5);
		}
		return;
	}
	/* R2 = the TOS */
	if (v6) {
		E(sp, XI_LDX(BPF_B, XR2, XR1, ip));
		E(sp, XI_ALU32_IMM(BPF_AND, XR2, 0x0f));
		E(sp, XI_ALU32_IMM(BPF_LSH, XR2, 4));
		E(sp, XI_LDX(BPF_B, XR3, XR1, ip + 1));
		E(sp, XI_ALU32_IMM(BPF_RSH, XR3, 4));
		E(sp, XI_ALU32_REG(BPF_OR, XR2, XR3));
	} else {
		E(sp, XI_LDX(BPF_B, XR2, XR1, ip + 1));
	}
	if (type == XFSM_ACT_SET_DSCP) {
		E(sp, XI_ALU32_IMM(BPF_AND, XR2, 0x03));
		E(sp, XI_ALU32_IMM(BPF_AND, XR4, 0x3f));
		E(sp, XI_ALU32_IMM(BPF_LSH, XR4, 2));
	} else {
		E(sp, XI_ALU32_IMM(BPF_AND, XR2, 0xfc));
		E(sp, XI_ALU32_IMM(BPF_AND, XR4, 0x03));
	}
	E(sp, XI_ALU32_REG(BPF_OR, XR2, XR4));
	if (v6) {
		/* b[0] = (b[0] & 0xf0) | (tos >> 4); b[1] = (b[1] & 0x0f) | (tos << 4) */
		E(sp, XI_LDX(BPF_B, XR3, XR1, ip));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, 0xf0));
		E(sp, XI_MOV32_REG(XR4, XR2));
		E(sp, XI_ALU32_IMM(BPF_RSH, XR4, 4));
		E(sp, XI_ALU32_REG(BPF_OR, XR3, XR4));
		E(sp, XI_STX(BPF_B, XR1, XR3, ip));
		E(sp, XI_LDX(BPF_B, XR3, XR1, ip + 1));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, 0x0f));
		E(sp, XI_MOV32_REG(XR4, XR2));
		E(sp, XI_ALU32_IMM(BPF_AND, XR4, 0x0f));
		E(sp, XI_ALU32_IMM(BPF_LSH, XR4, 4));
		E(sp, XI_ALU32_REG(BPF_OR, XR3, XR4));
		E(sp, XI_STX(BPF_B, XR1, XR3, ip + 1));
	} else {
		E(sp, XI_LDX(BPF_H, XR3, XR1, ip));	/* version/IHL and TOS */
		E(sp, XI_STX(BPF_B, XR1, XR2, ip + 1));
	}
	E(sp, XI_MOV32_REG(XR4, XR2));
	E(sp, XI_ALU32_IMM(BPF_RSH, XR4, 2));
	set_word(sp, XFSM_FW_IP_DSCP, XR4);
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, 3));
	set_word(sp, XFSM_FW_IP_ECN, XR2);
	if (!v6) {
		E(sp, XI_LDX(BPF_H, XR5, XR1, ip));
		csum16(sp, ip + 10, XR3, XR5);
	}
}

/* rw_nat() for one layout: L4 header at `l4` (0: none a rewrite can
 * update), TCP or UDP; the value in R4.  Everything is checked before
 * anything is written. */
static void emit_nat_at(struct spec *sp, __u8 type, int l4, bool tcp, unsigned int fail)
{
	bool port_rw = type == XFSM_ACT_SET_L4_SPORT || type == XFSM_ACT_SET_L4_DPORT;
	bool dst = type == XFSM_ACT_SET_L4_DPORT || type == XFSM_ACT_SET_IP_DST;
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e);

	spec_frame(sp, l4 ? l4 + (tcp ? 20 : 8) : sp->l3 + 20, fail);
	if (port_rw) {
		int off = l4 + (dst ? 2 : 0);

		E(sp, XI_LDX(BPF_H, XR3, XR1, off));
		E(sp, XI_STX(BPF_W, XFP, XR3, SO_CS_OLD));
		E(sp, XI_MOV64_REG(XR5, XR4));
		E(sp, XI_BE(XR5, 16));
		E(sp, XI_STX(BPF_W, XFP, XR5, SO_CS_NEW));
		E(sp, XI_STX(BPF_H, XR1, XR5, off));
		E(sp, XI_MOV32_REG(XR3, XR4));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, 0xffff));
		set_word(sp, dst ? XFSM_FW_L4_DPORT : XFSM_FW_L4_SPORT, XR3);
		set_word(sp, dst ? (tcp ? XFSM_FW_TCP_DPORT : XFSM_FW_UDP_DPORT) :
				   (tcp ? XFSM_FW_TCP_SPORT : XFSM_FW_UDP_SPORT), XR3);
	} else {
		int off = sp->l3 + (dst ? 16 : 12);

		E(sp, XI_LDX(BPF_W, XR3, XR1, off));
		E(sp, XI_STX(BPF_W, XFP, XR3, SO_CS_OLD));
		E(sp, XI_MOV64_REG(XR5, XR4));
		E(sp, XI_BE(XR5, 32));
		E(sp, XI_STX(BPF_W, XFP, XR5, SO_CS_NEW));
		csum_saved(sp, sp->l3 + 10, true);
		E(sp, XI_LDX(BPF_W, XR5, XFP, SO_CS_NEW));
		E(sp, XI_STX(BPF_W, XR1, XR5, off));
		E(sp, XI_MOV32_REG(XR3, XR4));
		set_word(sp, dst ? XFSM_FW_IP4_DST : XFSM_FW_IP4_SRC, XR3);
	}
	if (!l4)
		return;
	if (tcp) {
		csum_saved(sp, l4 + 16, !port_rw);
	} else {
		/* 0: no checksum (IPv4); one that comes out 0 is 0xffff */
		E(sp, XI_LDX(BPF_H, XR0, XR1, l4 + 6));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, done);
		csum_saved(sp, l4 + 6, !port_rw);
		E(sp, XI_LDX(BPF_H, XR0, XR1, l4 + 6));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR0, 0, done);
		E(sp, XI_ST(BPF_H, XR1, l4 + 6, 0xffff));
	}
	xfsm_emit_bind(e, done);
}

/*
 * rw_nat6() for one layout: 64 bits (half 0 the upper, 1 the lower) of the
 * source or destination address of the fast path's IPv6 header, the value
 * in R4; `csum` is the offset of the L4 checksum the pseudo-header puts
 * the address under (0: none), `udp` keeps a checksum of 0 (none) and
 * writes one that comes out 0 as 0xffff.  The fast path checked the L4
 * header whole, so nothing here can fail after the frame check.
 */
static void emit_nat6_at(struct spec *sp, bool dst, __u32 half, int csum, bool udp,
			 unsigned int fail)
{
	const int a = sp->l3 + (dst ? 24 : 8) + 8 * (int)(half & 1);
	unsigned int w = (dst ? XFSM_FW_IP6_DST : XFSM_FW_IP6_SRC) + 2 * (half & 1), i;
	struct xfsm_emit *e = sp->e;
	unsigned int done = xfsm_emit_label(e), plain = xfsm_emit_label(e);

	xfsm_emit_note(e, 3, "%s, bits %s; L4 checksum %s", dst ? "ip6.dst" : "ip6.src",
		       half & 1 ? "0-63" : "64-127",
		       !csum ? "none" : udp ? "(UDP: 0 kept, 0 written 0xffff)" : "updated");
	spec_frame(sp, csum ? csum + 2 : sp->l3 + 40, fail);
	if (udp) {
		E(sp, XI_LDX(BPF_H, XR0, XR1, csum));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, plain);
	}
	/* each 32-bit word: old and new bytes for the checksum, then written */
	for (i = 0; i < 2; i++) {
		E(sp, XI_LDX(BPF_W, XR3, XR1, a + 4 * (int)i));
		E(sp, XI_STX(BPF_W, XFP, XR3, SO_CS_OLD));
		E(sp, XI_MOV64_REG(XR5, XR4));
		if (!i)
			E(sp, XI_ALU64_IMM(BPF_RSH, XR5, 32));
		E(sp, XI_BE(XR5, 32));
		E(sp, XI_STX(BPF_W, XFP, XR5, SO_CS_NEW));
		E(sp, XI_STX(BPF_W, XR1, XR5, a + 4 * (int)i));
		if (csum)
			csum_saved(sp, csum, true);
	}
	if (udp) {
		E(sp, XI_LDX(BPF_H, XR0, XR1, csum));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR0, 0, done);
		E(sp, XI_ST(BPF_H, XR1, csum, 0xffff));
		xfsm_emit_ja(e, done);
		/* a UDP checksum of 0: the address alone */
		xfsm_emit_bind(e, plain);
		for (i = 0; i < 2; i++) {
			E(sp, XI_MOV64_REG(XR5, XR4));
			if (!i)
				E(sp, XI_ALU64_IMM(BPF_RSH, XR5, 32));
			E(sp, XI_BE(XR5, 32));
			E(sp, XI_STX(BPF_W, XR1, XR5, a + 4 * (int)i));
		}
	}
	xfsm_emit_bind(e, done);
	E(sp, XI_MOV64_REG(XR3, XR4));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR3, 32));
	set_word(sp, w, XR3);
	E(sp, XI_MOV32_REG(XR3, XR4));
	set_word(sp, w + 1, XR3);
}

/* IPv6 NAT (the packet flags in R2): IPv6 only, the checksum by the
 * upper protocol (TCP, UDP, ICMPv6; another has none). */
static void emit_nat6(struct spec *sp, bool dst, __u32 half, unsigned int ok, unsigned int fail)
{
	const int l4 = sp->l3 + 40;
	struct xfsm_emit *e = sp->e;
	unsigned int udp = xfsm_emit_label(e), icmp = xfsm_emit_label(e);
	unsigned int other = xfsm_emit_label(e);

	E(sp, XI_MOV32_REG(XR3, XR2));
	E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_IPV6));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, 0, fail);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_UDP, udp);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_ICMP6, icmp);
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_TCP));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, other);
	emit_nat6_at(sp, dst, half, l4 + 16, false, fail);
	xfsm_emit_ja(e, ok);
	xfsm_emit_bind(e, udp);
	emit_nat6_at(sp, dst, half, l4 + 6, true, fail);
	xfsm_emit_ja(e, ok);
	xfsm_emit_bind(e, icmp);
	emit_nat6_at(sp, dst, half, l4 + 2, false, fail);
	xfsm_emit_ja(e, ok);
	xfsm_emit_bind(e, other);
	emit_nat6_at(sp, dst, half, 0, false, fail);
	xfsm_emit_ja(e, ok);
}

/* NAT on TCP or UDP (packet flags in R2) with the L4 header at `l4`;
 * other upper protocols go to `other`. */
static void emit_nat_l4(struct spec *sp, __u8 type, int l4, unsigned int ok, unsigned int fail,
			unsigned int other)
{
	struct xfsm_emit *e = sp->e;
	unsigned int udp = xfsm_emit_label(e);

	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_UDP, udp);
	E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_TCP));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, other);
	emit_nat_at(sp, type, l4, true, fail);
	xfsm_emit_ja(e, ok);
	xfsm_emit_bind(e, udp);
	emit_nat_at(sp, type, l4, false, fail);
	xfsm_emit_ja(e, ok);
}

/* The header rewrites (the value in R4) on the layout sp->l3: to `ok`
 * when done, `fail` when the packet has no such header, `expired` for a
 * TTL of 1 or 0.  Every path ends in a jump. */
static void emit_rewrite_at(struct spec *sp, const struct xfsm_action *a, unsigned int ok,
			    unsigned int fail, unsigned int expired)
{
	__u8 type = a->type;
	struct xfsm_emit *e = sp->e;
	unsigned int v6 = xfsm_emit_label(e);
	bool port_rw = type == XFSM_ACT_SET_L4_SPORT || type == XFSM_ACT_SET_L4_DPORT;
	int fl = so_fv(XFSM_FW_PKT_FLAGS);

	switch (type) {
	case XFSM_ACT_SET_ETH_SRC:
	case XFSM_ACT_SET_ETH_DST:
		spec_rw_eth(sp, type == XFSM_ACT_SET_ETH_DST, fail);
		xfsm_emit_ja(e, ok);
		return;
	case XFSM_ACT_SET_DSCP:
	case XFSM_ACT_SET_ECN:
	case XFSM_ACT_SET_TTL:
	case XFSM_ACT_DEC_TTL:
		/* IPv4 or IPv6 (the fast path also holds ARP) */
		E(sp, XI_LDX(BPF_W, XR2, XFP, fl));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_IPV6, v6);
		E(sp, XI_ALU32_IMM(BPF_AND, XR2, XFSM_PF_IPV4));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, fail);
		spec_rw_ip(sp, type, false, fail, expired);
		xfsm_emit_ja(e, ok);
		xfsm_emit_bind(e, v6);
		spec_rw_ip(sp, type, true, fail, expired);
		xfsm_emit_ja(e, ok);
		return;
	}
	/* NAT: the layout by the packet flags */
	E(sp, XI_LDX(BPF_W, XR2, XFP, fl));
	if (type == XFSM_ACT_SET_IP6_SRC || type == XFSM_ACT_SET_IP6_DST) {
		emit_nat6(sp, type == XFSM_ACT_SET_IP6_DST, a->arg, ok, fail);
	} else if (port_rw) {
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_IPV6, v6);
		emit_nat_l4(sp, type, sp->l3 + 20, ok, fail, fail);
		xfsm_emit_bind(e, v6);
		emit_nat_l4(sp, type, sp->l3 + 40, ok, fail, fail);
	} else {
		unsigned int other = xfsm_emit_label(e);

		/* IPv4 only; without TCP or UDP only the IP checksum */
		E(sp, XI_MOV32_REG(XR3, XR2));
		E(sp, XI_ALU32_IMM(BPF_AND, XR3, XFSM_PF_IPV4));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR3, 0, fail);
		emit_nat_l4(sp, type, sp->l3 + 20, ok, fail, other);
		xfsm_emit_bind(e, other);
		emit_nat_at(sp, type, 0, false, fail);
		xfsm_emit_ja(e, ok);
	}
}

/*
 * The same on every layout a frame can have here, by its packet flags:
 * untagged, one tag (the parser's, or a push's), two tags (a push onto a
 * tagged frame).  A push or pop earlier in the rule or the pipeline moved
 * the frame's headers and set its flags: the rewrite follows them.
 */
static void emit_rewrite(struct spec *sp, const struct xfsm_action *a, unsigned int ok,
			 unsigned int fail, unsigned int expired)
{
	struct xfsm_emit *e = sp->e;
	unsigned int one = xfsm_emit_label(e), two = xfsm_emit_label(e);

	if (a->type == XFSM_ACT_SET_ETH_SRC || a->type == XFSM_ACT_SET_ETH_DST) {
		emit_rewrite_at(sp, a, ok, fail, expired);	/* at 0 whatever the tags */
		return;
	}
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	if (sp->push)
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_QINQ, two);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR2, XFSM_PF_VLAN, one);
	emit_rewrite_at(sp, a, ok, fail, expired);
	xfsm_emit_note(e, 3, "behind a VLAN tag");
	xfsm_emit_bind(e, one);
	sp->l3 = ETH_HLEN + 4;
	emit_rewrite_at(sp, a, ok, fail, expired);
	if (sp->push) {
		xfsm_emit_note(e, 3, "behind two VLAN tags");
		xfsm_emit_bind(e, two);
		sp->l3 = ETH_HLEN + 8;
		emit_rewrite_at(sp, a, ok, fail, expired);
	}
	sp->l3 = ETH_HLEN;
}

static int act_counter(__u8 type)
{
	switch (type) {
	case XFSM_ACT_SET_ETH_SRC: return SO(act_set_eth_src);
	case XFSM_ACT_SET_ETH_DST: return SO(act_set_eth_dst);
	case XFSM_ACT_SET_DSCP: return SO(act_set_dscp);
	case XFSM_ACT_SET_ECN: return SO(act_set_ecn);
	case XFSM_ACT_SET_TTL: return SO(act_set_ttl);
	case XFSM_ACT_DEC_TTL: return SO(act_dec_ttl);
	case XFSM_ACT_SET_IP_SRC: return SO(act_set_ip_src);
	case XFSM_ACT_SET_IP_DST: return SO(act_set_ip_dst);
	case XFSM_ACT_SET_L4_SPORT: return SO(act_set_l4_sport);
	case XFSM_ACT_SET_IP6_SRC: return SO(act_set_ip6_src);
	case XFSM_ACT_SET_IP6_DST: return SO(act_set_ip6_dst);
	default: return SO(act_set_l4_dport);
	}
}

/* One rewrite action with its counters (actions_run()'s cases). */
static void emit_rewrite_action(struct spec *sp, const struct xfsm_action *a,
				const struct spec_octx *ox)
{
	bool ip6 = a->type == XFSM_ACT_SET_IP6_SRC || a->type == XFSM_ACT_SET_IP6_DST;
	struct xfsm_emit *e = sp->e;
	unsigned int ok = xfsm_emit_label(e), fail = xfsm_emit_label(e);
	unsigned int expired = xfsm_emit_label(e), done = xfsm_emit_label(e);

	spec_opnd(sp, XR4, XR5, &a->opnd, ox);
	emit_rewrite(sp, a, ok, fail, expired);
	if (ip6 && !(a->arg & 1)) {
		/* an address's upper half: counted with its lower half, the
		 * second of the pair (both halves fare alike) */
		xfsm_emit_bind(e, fail);
		xfsm_emit_bind(e, ok);
		xfsm_emit_bind(e, done);
		return;
	}
	xfsm_emit_bind(e, fail);
	spec_cnt_add(sp, SR_STATS, SO(exc_rewrite_failed), 1);
	xfsm_emit_ja(e, done);
	xfsm_emit_bind(e, expired);
	spec_cnt_add(sp, SR_STATS, SO(exc_ttl_expired), 1);
	spec_finish_const(sp, XDP_PASS);
	xfsm_emit_bind(e, ok);
	spec_cnt_add(sp, SR_STATS, act_counter(a->type), 1);
	xfsm_emit_bind(e, done);
}

/* output xsk: the AF_XDP socket of the receive queue; the helper's
 * answer is the packet's XDP action (redirect, or drop). */
static void emit_xsk(struct spec *sp)
{
	unsigned int ok = xfsm_emit_label(sp->e);

	xfsm_emit_map(sp->e, XR1, sp->inst->map_fd[XFSM_M_XSKS]);
	E(sp, XI_LDX(BPF_W, XR2, SR_CTX, offsetof(struct xdp_md, rx_queue_index)));
	E(sp, XI_MOV64_IMM(XR3, XDP_DROP));
	E(sp, XI_CALL(BPF_FUNC_redirect_map));
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_WREFRESH));
	spec_cnt_add(sp, SR_STATS, SO(act_output), 1);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_WREFRESH));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, XR0, XDP_REDIRECT, ok);
	spec_cnt_add(sp, SR_STATS, SO(exc_bad_port), 1);
	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_WREFRESH));
	xfsm_emit_bind(sp->e, ok);
	spec_finish_any(sp);
}

static void emit_count(struct spec *sp, const struct xfsm_action *a)
{
	unsigned int none = xfsm_emit_label(sp->e);

	spec_stats_const(sp, XR0, XFSM_M_COUNTERS, a->arg, none);
	spec_count_pkt(sp, XR0, offsetof(struct xfsm_counter, packets),
		       offsetof(struct xfsm_counter, bytes));
	xfsm_emit_bind(sp->e, none);
	spec_cnt_add(sp, SR_STATS, SO(act_count), 1);
}

int spec_actions(struct spec *sp, unsigned int stage, const struct xfsm_rule *r,
		 const struct spec_octx *ox)
{
	unsigned int next = stage + 1, i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (a->type != XFSM_ACT_NONE)
			xfsm_emit_note(sp->e, 2, "stage %u, rule %u: action %s", stage,
				       r->image_id, act_name(a->type));
		switch (a->type) {
		case XFSM_ACT_DROP:
		case XFSM_ACT_PASS:
		case XFSM_ACT_TX:
			emit_verdict(sp, a->type);
			return sp->e->err;
		case XFSM_ACT_OUTPUT:
			emit_output(sp, a, ox);
			return sp->e->err;
		case XFSM_ACT_FLOOD:
			emit_flood(sp);
			return sp->e->err;
		case XFSM_ACT_OUTPUT_XSK:
			emit_xsk(sp);
			return sp->e->err;
		case XFSM_ACT_OUTPUT_GROUP:
			spec_group(sp, a->arg);
			return sp->e->err;
		case XFSM_ACT_OUTPUT_FIB:
			spec_fib(sp);
			return sp->e->err;
		case XFSM_ACT_GOTO:
			if (a->arg <= stage || a->arg >= XFSM_MAX_STAGES) {
				spec_cnt_add(sp, SR_STATS, SO(exc_goto_backward), 1);
				spec_finish_const(sp, XDP_DROP);
				return sp->e->err;
			}
			spec_cnt_add(sp, SR_STATS, SO(act_goto), 1);
			next = a->arg;
			break;
		case XFSM_ACT_SET_MARK:
			if (sp->need[XFSM_FW_META_MARK]) {
				spec_opnd(sp, XR1, XR2, &a->opnd, ox);
				E(sp, XI_STX(BPF_W, XFP, XR1, so_fv(XFSM_FW_META_MARK)));
			}
			spec_cnt_add(sp, SR_STATS, SO(act_set_mark), 1);
			break;
		case XFSM_ACT_COUNT:
			emit_count(sp, a);
			break;
		case XFSM_ACT_VLAN_PUSH:
			spec_opnd(sp, XR4, XR5, &a->opnd, ox);
			spec_vlan(sp, true);
			break;
		case XFSM_ACT_VLAN_POP:
			spec_vlan(sp, false);
			break;
		case XFSM_ACT_ARP_REPLY:
			/* not an ARP request: the rule goes on without a verdict */
			spec_opnd(sp, XR4, XR5, &a->opnd, ox);
			spec_arp_reply(sp);
			break;
		default:
			if (act_is_rewrite(a->type))
				emit_rewrite_action(sp, a, ox);
			break;
		}
	}
	/* no verdict: on to the next stage (past the last: the default) */
	spec_goto(sp, sp->l_stage[next < sp->app->n_stages ? next : sp->app->n_stages]);
	return sp->e->err;
}
