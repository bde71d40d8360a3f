// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The fast-path parser.  It accepts a few common layouts whose every
 * check the generic parser (bpf/parse.h) would pass: Ethernet without a
 * VLAN tag or with one (802.1Q or 802.1ad; vlan.id and vlan.pcp from it,
 * the IP header 4 bytes further); IPv4 with a 20-byte header, a total length that fits the frame
 * and no fragment bits, or IPv6 without an extension header and with a
 * payload that fits; then TCP (data offset checked as parse_ports() does),
 * UDP, ICMP over IPv4, ICMPv6 over IPv6, or another upper protocol.
 * Or ARP (its operation; the addresses of an Ethernet/IPv4 one).
 * Anything else (a second tag, options, extension headers, fragments, other
 * ethertypes, anything short or malformed, any frame under 34 bytes)
 * goes to the generic program before anything is counted.  It stores
 * only the field words the application reads, with the values
 * xfsm_parse() stores.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#include "spec/internal.h"

/* Registers of the parser: no call happens in it. */
#define P_DATA	XR2
#define P_END	XR3
#define P_TMP	XR4
#define P_LEN	XR5	/* frame length */

enum conv { RAW, BE16, BE32 };

/* fv[word] = the packet's `size` bytes at `off` (converted to host
 * order), if the application reads the word. */
static void field(struct spec *sp, unsigned int word, int size, int off, enum conv c)
{
	if (!sp->need[word])
		return;
	E(sp, XI_LDX(size, XR1, P_DATA, off));
	if (c == BE16)
		E(sp, XI_BE(XR1, 16));
	else if (c == BE32)
		E(sp, XI_BE(XR1, 32));
	E(sp, XI_STX(BPF_W, XFP, XR1, so_fv(word)));
}

static void field_reg(struct spec *sp, unsigned int word, int reg)
{
	if (sp->need[word])
		E(sp, XI_STX(BPF_W, XFP, reg, so_fv(word)));
}

static void field_imm(struct spec *sp, unsigned int word, __u32 v)
{
	if (sp->need[word])
		E(sp, XI_ST(BPF_W, XFP, so_fv(word), (__s32)v));
}

/* Bail unless data + n <= end (known on every path for n up to
 * parse_min). */
static void need_bytes(struct spec *sp, int n)
{
	if (n <= sp->parse_min)
		return;
	E(sp, XI_MOV64_REG(P_TMP, P_DATA));
	E(sp, XI_ALU64_IMM(BPF_ADD, P_TMP, n));
	xfsm_emit_jmp_reg(sp->e, BPF_JMP | BPF_JGT, P_TMP, P_END, sp->l_bail);
}

/*
 * The L4 header at `l4` (a constant offset), `avail` bytes of IP payload
 * in register XR0 (parse_ports()).  `flags` are the packet-flag bits of
 * the layers below.
 */
static void parse_l4(struct spec *sp, int l4, __u32 flags, bool v6, unsigned int done)
{
	struct xfsm_emit *e = sp->e;
	unsigned int udp = xfsm_emit_label(e), icmp = xfsm_emit_label(e);
	unsigned int other = xfsm_emit_label(e);
	int icmp_proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;

	/* XR1 holds the protocol */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, IPPROTO_UDP, udp);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, icmp_proto, icmp);
	/* the other ICMP over this family: parse_ports() would read it as
	 * its own header; left to the generic program */
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
			  sp->l_bail);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, IPPROTO_TCP, other);

	xfsm_emit_note(e, 1, "TCP");
	need_bytes(sp, l4 + 20);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR0, 20, sp->l_bail);
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, l4 + 12));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 4));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR1, 5, sp->l_bail);
	E(sp, XI_ALU64_IMM(BPF_LSH, XR1, 2));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGT, XR1, XR0, sp->l_bail);
	field(sp, XFSM_FW_L4_SPORT, BPF_H, l4, BE16);
	field(sp, XFSM_FW_TCP_SPORT, BPF_H, l4, BE16);
	field(sp, XFSM_FW_L4_DPORT, BPF_H, l4 + 2, BE16);
	field(sp, XFSM_FW_TCP_DPORT, BPF_H, l4 + 2, BE16);
	field(sp, XFSM_FW_TCP_FLAGS, BPF_B, l4 + 13, RAW);
	field(sp, XFSM_FW_TCP_SEQ, BPF_W, l4 + 4, BE32);
	field(sp, XFSM_FW_TCP_ACK, BPF_W, l4 + 8, BE32);
	field(sp, XFSM_FW_TCP_WIN, BPF_H, l4 + 14, BE16);
	field_imm(sp, XFSM_FW_PKT_FLAGS, flags | XFSM_PF_TCP | XFSM_PF_L4);
	xfsm_emit_ja(e, done);

	xfsm_emit_bind(e, udp);
	xfsm_emit_note(e, 1, "UDP");
	need_bytes(sp, l4 + 8);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR0, 8, sp->l_bail);
	field(sp, XFSM_FW_L4_SPORT, BPF_H, l4, BE16);
	field(sp, XFSM_FW_UDP_SPORT, BPF_H, l4, BE16);
	field(sp, XFSM_FW_L4_DPORT, BPF_H, l4 + 2, BE16);
	field(sp, XFSM_FW_UDP_DPORT, BPF_H, l4 + 2, BE16);
	field_imm(sp, XFSM_FW_PKT_FLAGS, flags | XFSM_PF_UDP | XFSM_PF_L4);
	xfsm_emit_ja(e, done);

	xfsm_emit_bind(e, icmp);
	xfsm_emit_note(e, 1, v6 ? "ICMPv6" : "ICMP");
	need_bytes(sp, l4 + 4);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR0, 4, sp->l_bail);
	field(sp, v6 ? XFSM_FW_ICMP6_TYPE : XFSM_FW_ICMP_TYPE, BPF_B, l4, RAW);
	field(sp, v6 ? XFSM_FW_ICMP6_CODE : XFSM_FW_ICMP_CODE, BPF_B, l4 + 1, RAW);
	field_imm(sp, XFSM_FW_PKT_FLAGS,
		  flags | (v6 ? XFSM_PF_ICMP6 : XFSM_PF_ICMP) | XFSM_PF_L4);
	xfsm_emit_ja(e, done);

	xfsm_emit_bind(e, other);
	xfsm_emit_note(e, 1, "another upper protocol: no L4 fields");
	field_imm(sp, XFSM_FW_PKT_FLAGS, flags);
	xfsm_emit_ja(e, done);
}

/* IPv4 at `ip` (14, or 18 behind a tag); `flags`: the tag's bits. */
static void parse_ipv4(struct spec *sp, int ip, __u32 flags, unsigned int done)
{
	struct xfsm_emit *e = sp->e;

	xfsm_emit_note(e, 1, "IPv4 at %d, 20-byte header, not a fragment", ip);
	need_bytes(sp, ip + 20);
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0x45, sp->l_bail);
	/* XR0 = total length: >= 20 and within the frame */
	E(sp, XI_LDX(BPF_H, XR0, P_DATA, ip + 2));
	E(sp, XI_BE(XR0, 16));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JLT, XR0, 20, sp->l_bail);
	E(sp, XI_MOV64_REG(XR1, XR0));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR1, ip));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGT, XR1, P_LEN, sp->l_bail);
	/* MF and the offset (in network order: no swap to test them) */
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, ip + 6));
	E(sp, XI_ALU64_IMM(BPF_AND, XR1, htons(0x3fff)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 0, sp->l_bail);

	field_imm(sp, XFSM_FW_ETH_TYPE, ETH_P_IP);
	if (sp->need[XFSM_FW_IP_DSCP]) {
		E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 1));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 2));
		field_reg(sp, XFSM_FW_IP_DSCP, XR1);
	}
	if (sp->need[XFSM_FW_IP_ECN]) {
		E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 1));
		E(sp, XI_ALU64_IMM(BPF_AND, XR1, 3));
		field_reg(sp, XFSM_FW_IP_ECN, XR1);
	}
	field(sp, XFSM_FW_IP_TTL, BPF_B, ip + 8, RAW);
	field(sp, XFSM_FW_IP4_SRC, BPF_W, ip + 12, BE32);
	field(sp, XFSM_FW_IP4_DST, BPF_W, ip + 16, BE32);
	field_reg(sp, XFSM_FW_IP_LEN, XR0);
	field(sp, XFSM_FW_IP_ID, BPF_H, ip + 4, BE16);
	/* the L4 header has total length - 20 bytes */
	E(sp, XI_ALU64_IMM(BPF_SUB, XR0, 20));
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 9));
	field_reg(sp, XFSM_FW_IP_PROTO, XR1);
	parse_l4(sp, ip + 20, flags | XFSM_PF_IPV4, false, done);
}

static void parse_ipv6(struct spec *sp, int ip, __u32 flags, unsigned int done)
{
	struct xfsm_emit *e = sp->e;
	unsigned int i;

	xfsm_emit_note(e, 1, "IPv6 at %d without extension headers", ip);
	need_bytes(sp, ip + 40);
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip));
	E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 4));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 6, sp->l_bail);
	/* XR0 = payload length, within the frame */
	E(sp, XI_LDX(BPF_H, XR0, P_DATA, ip + 4));
	E(sp, XI_BE(XR0, 16));
	E(sp, XI_MOV64_REG(XR1, XR0));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR1, ip + 40));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JGT, XR1, P_LEN, sp->l_bail);
	/* no extension header the generic parser walks */
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 6));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, sp->l_bail);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 43, sp->l_bail);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 44, sp->l_bail);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 60, sp->l_bail);

	field_imm(sp, XFSM_FW_ETH_TYPE, ETH_P_IPV6);
	field_reg(sp, XFSM_FW_IP_PROTO, XR1);
	field_reg(sp, XFSM_FW_IP6_NEXTHDR, XR1);
	if (sp->need[XFSM_FW_IP_DSCP]) {
		/* (priority << 2) | (flow_lbl[0] >> 6) */
		E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip));
		E(sp, XI_ALU64_IMM(BPF_AND, XR1, 0x0f));
		E(sp, XI_ALU64_IMM(BPF_LSH, XR1, 2));
		E(sp, XI_LDX(BPF_B, P_TMP, P_DATA, ip + 1));
		E(sp, XI_ALU64_IMM(BPF_RSH, P_TMP, 6));
		E(sp, XI_ALU64_REG(BPF_OR, XR1, P_TMP));
		field_reg(sp, XFSM_FW_IP_DSCP, XR1);
	}
	if (sp->need[XFSM_FW_IP_ECN]) {
		E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 1));
		E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 4));
		E(sp, XI_ALU64_IMM(BPF_AND, XR1, 3));
		field_reg(sp, XFSM_FW_IP_ECN, XR1);
	}
	if (sp->need[XFSM_FW_IP6_FLOW]) {
		E(sp, XI_LDX(BPF_W, XR1, P_DATA, ip));
		E(sp, XI_BE(XR1, 32));
		E(sp, XI_ALU32_IMM(BPF_AND, XR1, 0x000fffff));
		field_reg(sp, XFSM_FW_IP6_FLOW, XR1);
	}
	field(sp, XFSM_FW_IP_TTL, BPF_B, ip + 7, RAW);
	if (sp->need[XFSM_FW_IP_LEN]) {
		E(sp, XI_MOV64_REG(XR1, XR0));
		E(sp, XI_ALU64_IMM(BPF_ADD, XR1, 40));
		field_reg(sp, XFSM_FW_IP_LEN, XR1);
	}
	for (i = 0; i < 4; i++) {
		field(sp, XFSM_FW_IP6_SRC + i, BPF_W, ip + 8 + 4 * i, BE32);
		field(sp, XFSM_FW_IP6_DST + i, BPF_W, ip + 24 + 4 * i, BE32);
	}
	E(sp, XI_LDX(BPF_B, XR1, P_DATA, ip + 6));
	parse_l4(sp, ip + 40, flags | XFSM_PF_IPV6, true, done);
}

/* ARP at `l3` (xfsm_parse()): the operation; the addresses of an
 * Ethernet/IPv4 one, whose whole body must be there. */
static void parse_arp(struct spec *sp, int l3, __u32 flags, unsigned int done)
{
	struct xfsm_emit *e = sp->e;
	unsigned int other = xfsm_emit_label(e);

	xfsm_emit_note(e, 1, "ARP at %d", l3);
	need_bytes(sp, l3 + 8);
	field_imm(sp, XFSM_FW_ETH_TYPE, ETH_P_ARP);
	field(sp, XFSM_FW_ARP_OP, BPF_H, l3 + 6, BE16);
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, l3));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, htons(1), other);	/* Ethernet */
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, l3 + 2));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, htons(ETH_P_IP), other);
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, l3 + 4));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, 6 | 4 << 8, other);	/* hln 6, pln 4 */
	need_bytes(sp, l3 + 28);
	field(sp, XFSM_FW_ARP_SPA, BPF_W, l3 + 14, BE32);
	field(sp, XFSM_FW_ARP_TPA, BPF_W, l3 + 24, BE32);
	xfsm_emit_bind(e, other);
	field_imm(sp, XFSM_FW_PKT_FLAGS, flags | XFSM_PF_ARP);
	xfsm_emit_ja(e, done);
}

/* IPv4, IPv6 or ARP by the ethertype in XR1 (as the frame holds it:
 * network order), at `ip`, IPv4 tested first; a VLAN tag to `tag` (-1:
 * none taken here); any other to the bail. */
static void parse_ip(struct spec *sp, int ip, __u32 flags, int tag, unsigned int done)
{
	struct xfsm_emit *e = sp->e;
	unsigned int ip6 = xfsm_emit_label(e), arp = xfsm_emit_label(e);
	unsigned int other = xfsm_emit_label(e);

	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR1, htons(ETH_P_IP), other);
	parse_ipv4(sp, ip, flags, done);
	xfsm_emit_bind(e, other);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, htons(ETH_P_IPV6), ip6);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, htons(ETH_P_ARP), arp);
	if (tag >= 0) {
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, htons(ETH_P_8021Q), (unsigned int)tag);
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, htons(ETH_P_8021AD),
				  (unsigned int)tag);
	}
	xfsm_emit_ja(e, sp->l_bail);
	xfsm_emit_bind(e, ip6);
	parse_ipv6(sp, ip, flags, done);
	xfsm_emit_bind(e, arp);
	parse_arp(sp, ip, flags, done);
}

void spec_parse(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int tag = xfsm_emit_label(e), done = xfsm_emit_label(e);

	xfsm_emit_note(e, 0, "parser: Ethernet, one VLAN tag or none, then ARP, or IPv4 "
			     "or IPv6 then TCP, UDP or ICMP; else bail");
	E(sp, XI_LDX(BPF_W, P_DATA, SR_CTX, offsetof(struct xdp_md, data)));
	E(sp, XI_LDX(BPF_W, P_END, SR_CTX, offsetof(struct xdp_md, data_end)));
	E(sp, XI_MOV64_REG(P_LEN, P_END));
	E(sp, XI_ALU64_REG(BPF_SUB, P_LEN, P_DATA));
	E(sp, XI_STX(BPF_W, XFP, P_LEN, so_fv(XFSM_FW_META_LEN)));
	/* one check for the bytes the Ethernet, tag and IPv4 headers read:
	 * every IPv4 and IPv6 frame, and an Ethernet/IPv4 ARP one, is
	 * longer; a shorter frame (only an ARP packet of another hardware
	 * type, whose 8-byte header would do, could otherwise be taken)
	 * goes to the generic program */
	sp->parse_min = 0;
	need_bytes(sp, ETH_HLEN + 20);
	sp->parse_min = ETH_HLEN + 20;
	field(sp, XFSM_FW_ETH_DST_HI, BPF_H, 0, BE16);
	field(sp, XFSM_FW_ETH_DST_LO, BPF_W, 2, BE32);
	field(sp, XFSM_FW_ETH_SRC_HI, BPF_H, 6, BE16);
	field(sp, XFSM_FW_ETH_SRC_LO, BPF_W, 8, BE32);
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, 12));
	parse_ip(sp, ETH_HLEN, 0, (int)tag, done);

	/* one 802.1Q or 802.1ad tag (xfsm_parse()'s first); a second one
	 * is left to the generic program */
	xfsm_emit_bind(e, tag);
	xfsm_emit_note(e, 1, "a VLAN tag: the IP header at %d", ETH_HLEN + 4);
	need_bytes(sp, ETH_HLEN + 4);
	if (sp->need[XFSM_FW_VLAN_ID] || sp->need[XFSM_FW_VLAN_PCP]) {
		E(sp, XI_LDX(BPF_H, XR1, P_DATA, ETH_HLEN));
		E(sp, XI_BE(XR1, 16));
		E(sp, XI_MOV64_REG(P_TMP, XR1));
		E(sp, XI_ALU64_IMM(BPF_AND, P_TMP, 0x0fff));
		field_reg(sp, XFSM_FW_VLAN_ID, P_TMP);
		E(sp, XI_ALU64_IMM(BPF_RSH, XR1, 13));
		field_reg(sp, XFSM_FW_VLAN_PCP, XR1);
	}
	/* a second tag goes to the bail with any other ethertype */
	E(sp, XI_LDX(BPF_H, XR1, P_DATA, ETH_HLEN + 2));
	parse_ip(sp, ETH_HLEN + 4, XFSM_PF_VLAN, -1, done);
	xfsm_emit_bind(e, done);
	sp->parse_min = 0;
}

/* Hand the packet to the generic program: the bail word, then its tail
 * call; if that fails (no generic program installed) the word is cleared
 * again and the packet passes, uncounted. */
void spec_bail(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int out = xfsm_emit_label(e);

	xfsm_emit_note(e, 0, "bail: a layout outside the fast path, to the generic program");
	spec_lookup_const(sp, XR0, XFSM_M_WORK, 0, out);
	E(sp, XI_ST(BPF_W, XR0, XFSM_WORK_BAIL_OFF, 1));
	E(sp, XI_MOV64_REG(XR1, SR_CTX));
	xfsm_emit_map(e, XR2, sp->inst->map_fd[XFSM_M_PROGS]);
	E(sp, XI_MOV64_IMM(XR3, XFSM_PROGS_GENERIC));
	E(sp, XI_CALL(BPF_FUNC_tail_call));
	spec_lookup_const(sp, XR0, XFSM_M_WORK, 0, out);
	E(sp, XI_ST(BPF_W, XR0, XFSM_WORK_BAIL_OFF, 0));
	xfsm_emit_bind(e, out);
	E(sp, XI_MOV64_IMM(XR0, XDP_PASS));
	E(sp, XI_EXIT());
}
