// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * output fib (fib_forward() in bpf/actions.h): bpf_fib_lookup() on the
 * fast path's untagged IPv4 or IPv6 packet, each outcome with the
 * generic datapath's verdict and xfsm_stats.fib_* counter; found, the TTL
 * or hop limit drops by one (IPv4 checksum updated), the MACs become the
 * lookup's, the egress device's port (when it is an xfsm port) counts the
 * packet sent and bpf_redirect() sends it.  A tagged frame (one the
 * parser took, or a push tagged) counts fib_vlan, an untagged ARP frame
 * fib_not_ip; both pass.
 *
 * struct bpf_fib_lookup (64 bytes) lives in SO_FIB, which overlays the
 * flow key and the scratch words below it: output fib ends the program,
 * and nothing after the lookup reads them.
 */
#include <stddef.h>
#include <errno.h>
#include <linux/if_ether.h>

#include "spec/internal.h"

#define FIB(field)	(SO_FIB + (int)offsetof(struct bpf_fib_lookup, field))
#define ST(field)	((int)offsetof(struct xfsm_stats, field))

_Static_assert(SO_FIB + (int)sizeof(struct bpf_fib_lookup) <= SO_FV,
	       "SO_FIB overlays the field words");

/* The address families of struct bpf_fib_lookup (linux/socket.h's). */
#define FIB_AF_INET	2
#define FIB_AF_INET6	10

int spec_fib_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	if (sp->inst->map_fd[XFSM_M_PORTS] < 0 || !spec_has_port_stats(sp)) {
		xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u: output fib without %s",
			       stage, r->image_id, XFSM_MAP_PORTS);
		return sp->e->err;
	}
	return 0;
}

void spec_need_fib(struct spec *sp)
{
	sp->need[XFSM_FW_PKT_FLAGS] = true;
	sp->need[XFSM_FW_IP_PROTO] = true;
	sp->need[XFSM_FW_L4_SPORT] = true;
	sp->need[XFSM_FW_L4_DPORT] = true;
}

/* The lookup's input from the IP header at 14 (R1: the frame, checked for
 * the whole header); a TTL / hop limit of 1 or 0 goes to `expired`. */
static void fib_input(struct spec *sp, bool v6, unsigned int expired)
{
	const int ip = ETH_HLEN;
	int i;

	E(sp, XI_LDX(BPF_B, XR2, XR1, ip + (v6 ? 7 : 8)));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JLE, XR2, 1, expired);
	E(sp, XI_ST(BPF_B, XFP, FIB(family), v6 ? FIB_AF_INET6 : FIB_AF_INET));
	if (v6) {
		/* flowinfo: the first word less the version */
		E(sp, XI_LDX(BPF_W, XR2, XR1, ip));
		E(sp, XI_ALU32_IMM(BPF_AND, XR2, 0xffffff0f));	/* htonl(0x0fffffff) */
		E(sp, XI_STX(BPF_W, XFP, XR2, FIB(flowinfo)));
		/* tot_len: the payload length and the header */
		E(sp, XI_LDX(BPF_H, XR2, XR1, ip + 4));
		E(sp, XI_BE(XR2, 16));
		E(sp, XI_ALU32_IMM(BPF_ADD, XR2, 40));
		E(sp, XI_STX(BPF_H, XFP, XR2, FIB(tot_len)));
		for (i = 0; i < 4; i++) {
			E(sp, XI_LDX(BPF_W, XR2, XR1, ip + 8 + 4 * i));
			E(sp, XI_STX(BPF_W, XFP, XR2, FIB(ipv6_src) + 4 * i));
			E(sp, XI_LDX(BPF_W, XR2, XR1, ip + 24 + 4 * i));
			E(sp, XI_STX(BPF_W, XFP, XR2, FIB(ipv6_dst) + 4 * i));
		}
		return;
	}
	E(sp, XI_LDX(BPF_B, XR2, XR1, ip + 1));
	E(sp, XI_STX(BPF_B, XFP, XR2, FIB(tos)));
	E(sp, XI_LDX(BPF_H, XR2, XR1, ip + 2));
	E(sp, XI_BE(XR2, 16));
	E(sp, XI_STX(BPF_H, XFP, XR2, FIB(tot_len)));
	E(sp, XI_LDX(BPF_W, XR2, XR1, ip + 12));
	E(sp, XI_STX(BPF_W, XFP, XR2, FIB(ipv4_src)));
	E(sp, XI_LDX(BPF_W, XR2, XR1, ip + 16));
	E(sp, XI_STX(BPF_W, XFP, XR2, FIB(ipv4_dst)));
}

/* A lookup result other than success: its counter, its verdict. */
struct fib_outcome {
	int	rc;
	int	counter;
	int	verdict;
};

static const struct fib_outcome fib_outcomes[] = {
	{ BPF_FIB_LKUP_RET_BLACKHOLE, ST(fib_blackhole), XDP_DROP },
	{ BPF_FIB_LKUP_RET_UNREACHABLE, ST(fib_unreachable), XDP_DROP },
	{ BPF_FIB_LKUP_RET_PROHIBIT, ST(fib_prohibit), XDP_DROP },
	{ BPF_FIB_LKUP_RET_NOT_FWDED, ST(fib_not_forwarded), XDP_PASS },
	{ BPF_FIB_LKUP_RET_FWD_DISABLED, ST(fib_fwd_disabled), XDP_PASS },
	{ BPF_FIB_LKUP_RET_NO_NEIGH, ST(fib_no_neigh), XDP_PASS },
	{ BPF_FIB_LKUP_RET_FRAG_NEEDED, ST(fib_frag_needed), XDP_PASS },
};

void spec_fib(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int v6 = xfsm_emit_label(e), call = xfsm_emit_label(e);
	unsigned int expired = xfsm_emit_label(e), failed = xfsm_emit_label(e);
	unsigned int found = xfsm_emit_label(e), rw6 = xfsm_emit_label(e);
	unsigned int macs = xfsm_emit_label(e), sent = xfsm_emit_label(e);
	unsigned int unparsed = xfsm_emit_label(e), tagged = xfsm_emit_label(e);
	unsigned int not_ip = xfsm_emit_label(e);
	size_t i;
	int off;

	xfsm_emit_note(e, 3, "fib: struct bpf_fib_lookup at fp%d, from the IPv4 or IPv6 header",
		       SO_FIB);
	/* the whole struct zeroed first, as the generic memset */
	for (off = 0; off < (int)sizeof(struct bpf_fib_lookup); off += 8)
		E(sp, XI_ST(BPF_DW, XFP, SO_FIB + off, 0));
	E(sp, XI_LDX(BPF_W, XR4, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR4, XFSM_PF_VLAN, tagged);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR4, XFSM_PF_IPV6, v6);
	E(sp, XI_ALU32_IMM(BPF_AND, XR4, XFSM_PF_IPV4));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR4, 0, not_ip);
	spec_frame(sp, ETH_HLEN + 20, unparsed);
	fib_input(sp, false, expired);
	xfsm_emit_ja(e, call);
	xfsm_emit_bind(e, v6);
	spec_frame(sp, ETH_HLEN + 40, unparsed);
	fib_input(sp, true, expired);

	xfsm_emit_bind(e, call);
	xfsm_emit_note(e, 3, "fib: protocol, ports, ingress ifindex; bpf_fib_lookup, each outcome");
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_IP_PROTO)));
	E(sp, XI_STX(BPF_B, XFP, XR2, FIB(l4_protocol)));
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_L4_SPORT)));
	E(sp, XI_BE(XR2, 16));
	E(sp, XI_STX(BPF_H, XFP, XR2, FIB(sport)));
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_L4_DPORT)));
	E(sp, XI_BE(XR2, 16));
	E(sp, XI_STX(BPF_H, XFP, XR2, FIB(dport)));
	E(sp, XI_LDX(BPF_W, XR2, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
	E(sp, XI_STX(BPF_W, XFP, XR2, FIB(ifindex)));
	E(sp, XI_MOV64_REG(XR1, SR_CTX));
	E(sp, XI_MOV64_REG(XR2, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR2, SO_FIB));
	E(sp, XI_MOV64_IMM(XR3, sizeof(struct bpf_fib_lookup)));
	E(sp, XI_MOV64_IMM(XR4, 0));
	E(sp, XI_CALL(BPF_FUNC_fib_lookup));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, BPF_FIB_LKUP_RET_SUCCESS, found);
	for (i = 0; i < sizeof(fib_outcomes) / sizeof(fib_outcomes[0]); i++) {
		const struct fib_outcome *o = &fib_outcomes[i];
		unsigned int next = xfsm_emit_label(e);

		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JNE, XR0, o->rc, next);
		spec_cnt_add(sp, SR_STATS, o->counter, 1);
		spec_finish_const(sp, o->verdict);
		xfsm_emit_bind(e, next);
	}
	spec_cnt_add(sp, SR_STATS, ST(fib_other), 1);
	spec_finish_const(sp, XDP_PASS);

	xfsm_emit_bind(e, expired);
	spec_cnt_add(sp, SR_STATS, ST(fib_ttl_expired), 1);
	spec_finish_const(sp, XDP_PASS);

	/* a tagged frame (the parser's tag, or a push's): not looked up */
	xfsm_emit_bind(e, tagged);
	spec_cnt_add(sp, SR_STATS, ST(fib_vlan), 1);
	spec_finish_const(sp, XDP_PASS);
	/* ARP */
	xfsm_emit_bind(e, not_ip);
	spec_cnt_add(sp, SR_STATS, ST(fib_not_ip), 1);
	spec_finish_const(sp, XDP_PASS);

	/* found: the TTL was checked above, the decrement cannot expire */
	xfsm_emit_bind(e, found);
	xfsm_emit_note(e, 3, "fib: found: TTL / hop limit - 1, MACs, egress port's tx, bpf_redirect");
	E(sp, XI_LDX(BPF_W, XR4, XFP, so_fv(XFSM_FW_PKT_FLAGS)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JSET, XR4, XFSM_PF_IPV6, rw6);
	spec_rw_ip(sp, XFSM_ACT_DEC_TTL, false, failed, failed);
	xfsm_emit_ja(e, macs);
	xfsm_emit_bind(e, rw6);
	spec_rw_ip(sp, XFSM_ACT_DEC_TTL, true, failed, failed);
	/* Ethernet: the next hop's MAC, then the egress device's (rw_eth()) */
	xfsm_emit_bind(e, macs);
	spec_frame(sp, ETH_HLEN, failed);
	for (off = 0; off < ETH_ALEN; off += 2) {
		E(sp, XI_LDX(BPF_H, XR2, XFP, FIB(dmac) + off));
		E(sp, XI_STX(BPF_H, XR1, XR2, off));
		E(sp, XI_LDX(BPF_H, XR2, XFP, FIB(smac) + off));
		E(sp, XI_STX(BPF_H, XR1, XR2, ETH_ALEN + off));
	}
	spec_cnt_add(sp, SR_STATS, ST(fib_forwarded), 1);
	/* the egress device's port, if it is one, counts the packet sent */
	E(sp, XI_LDX(BPF_W, XR2, XFP, FIB(ifindex)));
	E(sp, XI_STX(BPF_DW, XFP, XR2, SO_WREFRESH));
	E(sp, XI_STX(BPF_W, XFP, XR2, SO_TMP));
	spec_lookup_stack(sp, XFSM_M_PORTS, SO_TMP, sent);
	E(sp, XI_LDX(BPF_W, XR1, XR0, offsetof(struct xfsm_port, port)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JGE, XR1, XFSM_MAX_PORTS, sent);
	spec_port_stats(sp, XR1, sent);
	spec_count_pkt(sp, XR0, offsetof(struct xfsm_port_stats, tx_packets),
		       offsetof(struct xfsm_port_stats, tx_bytes));
	xfsm_emit_bind(e, sent);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WREFRESH));
	E(sp, XI_MOV64_IMM(XR2, 0));
	E(sp, XI_CALL(BPF_FUNC_redirect));
	spec_finish_any(sp);

	/* a header that is not there (cannot happen: the parser checked it):
	 * before the lookup the generic datapath passes it uncounted, after
	 * it the rewrite fails */
	xfsm_emit_bind(e, unparsed);
	spec_finish_const(sp, XDP_PASS);
	xfsm_emit_bind(e, failed);
	spec_cnt_add(sp, SR_STATS, ST(exc_rewrite_failed), 1);
	spec_finish_const(sp, XDP_DROP);
}
