/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Actions: verdicts, output and flood through the devmap, goto, header
 * rewrites with incremental checksum updates, counters and marks.
 */
#ifndef XFSM_BPF_ACTIONS_H
#define XFSM_BPF_ACTIONS_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include "common.h"
#include "maps.h"
#include "eval.h"
#include "group.h"

/* A stage's result: an XDP action (< XFSM_RES_NEXT) or the next stage. */
#define XFSM_RES_NEXT		0x100

enum rw_result { RW_OK, RW_FAILED, RW_TTL_EXPIRED, RW_UNSUPPORTED };

/* The rewrites that touch more of the frame get a frame of their own in
 * the native profile (the actions' frame stays within the stack budget).
 * The offload profile, whose working set is on the entry function's
 * stack, has room for none of them: they are unsupported there
 * (exc_unsupported), and inlined to nothing. */
#ifdef XFSM_OFFLOAD
#define XFSM_RW_FN	static __always_inline
#else
#define XFSM_RW_FN	static __noinline
#endif

/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), on raw (network order) words. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32)new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline int rw_eth(struct xdp_md *ctx, struct xfsm_pkt *p, bool dst, __u64 mac)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *m = data + (dst ? 0 : ETH_ALEN);
	int i;

	if ((void *)(m + ETH_ALEN) > end)
		return RW_FAILED;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++)
		m[i] = mac >> (8 * (ETH_ALEN - 1 - i));
	p->fv[dst ? XFSM_FW_ETH_DST_HI : XFSM_FW_ETH_SRC_HI] = (mac >> 32) & 0xffff;
	p->fv[dst ? XFSM_FW_ETH_DST_LO : XFSM_FW_ETH_SRC_LO] = (__u32)mac;
	return RW_OK;
}

/* DSCP, ECN and TTL rewrites on IPv4 (checksum kept valid) and IPv6. */
static __always_inline int rw_ip(struct xdp_md *ctx, struct xfsm_pkt *p, __u8 type, __u64 val)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = p->l3_off, tos;

	if (!off || off > XFSM_MAX_L3_OFF)
		return RW_FAILED;
	if (p->fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_IPV4) {
		struct iphdr *iph = data + off;
		__u16 *w, old;

		if ((void *)(iph + 1) > end)
			return RW_FAILED;
		if (type == XFSM_ACT_DEC_TTL || type == XFSM_ACT_SET_TTL) {
			if (type == XFSM_ACT_DEC_TTL && iph->ttl <= 1)
				return RW_TTL_EXPIRED;
			w = (void *)iph + offsetof(struct iphdr, ttl);	/* TTL and protocol */
			old = *w;
			iph->ttl = type == XFSM_ACT_DEC_TTL ? iph->ttl - 1 : (__u8)val;
			p->fv[XFSM_FW_IP_TTL] = iph->ttl;
		} else {
			w = (void *)iph;	/* version/IHL and TOS */
			old = *w;
			tos = iph->tos;
			if (type == XFSM_ACT_SET_DSCP)
				tos = (tos & 0x03) | ((val & 0x3f) << 2);
			else
				tos = (tos & 0xfc) | (val & 0x03);
			iph->tos = tos;
			p->fv[XFSM_FW_IP_DSCP] = tos >> 2;
			p->fv[XFSM_FW_IP_ECN] = tos & 3;
		}
		iph->check = csum_replace16(iph->check, old, *w);
		return RW_OK;
	}
	if (p->fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_IPV6) {
		struct ipv6hdr *ip6 = data + off;
		__u8 *b = (void *)ip6;

		if ((void *)(ip6 + 1) > end)
			return RW_FAILED;
		if (type == XFSM_ACT_DEC_TTL) {
			if (ip6->hop_limit <= 1)
				return RW_TTL_EXPIRED;
			ip6->hop_limit--;
			p->fv[XFSM_FW_IP_TTL] = ip6->hop_limit;
			return RW_OK;
		}
		if (type == XFSM_ACT_SET_TTL) {
			ip6->hop_limit = (__u8)val;
			p->fv[XFSM_FW_IP_TTL] = ip6->hop_limit;
			return RW_OK;
		}
		/* Traffic class straddles bytes 0 and 1. */
		tos = ((b[0] & 0x0f) << 4) | (b[1] >> 4);
		if (type == XFSM_ACT_SET_DSCP)
			tos = (tos & 0x03) | ((val & 0x3f) << 2);
		else
			tos = (tos & 0xfc) | (val & 0x03);
		b[0] = (b[0] & 0xf0) | (tos >> 4);
		b[1] = (b[1] & 0x0f) | ((tos & 0x0f) << 4);
		p->fv[XFSM_FW_IP_DSCP] = tos >> 2;
		p->fv[XFSM_FW_IP_ECN] = tos & 3;
		return RW_OK;
	}
	return RW_FAILED;
}

/* The same for a 32-bit value: its two halves. */
static __always_inline __u16 csum_replace32(__u16 check, __u32 old, __u32 new)
{
	check = csum_replace16(check, (__u16)(old >> 16), (__u16)(new >> 16));
	return csum_replace16(check, (__u16)old, (__u16)new);
}

/*
 * NAT rewrites: the IPv4 source or destination address (IPv4 header
 * checksum and, as the pseudo-header holds the addresses, the TCP or UDP
 * checksum updated) and the TCP or UDP source or destination port (IPv4
 * or IPv6; the L4 checksum updated).  A UDP checksum of 0 (none, IPv4)
 * stays 0, and one that comes out 0 is written 0xffff (RFC 768).  A later
 * fragment has no L4 header: its addresses are rewritten, a port rewrite
 * fails.  Values are in host order; so are the field words updated for
 * later stages.
 */
XFSM_RW_FN int rw_nat(struct xdp_md *ctx, struct xfsm_pkt *p, __u8 type, __u64 val)
{
#ifdef XFSM_OFFLOAD
	return RW_UNSUPPORTED;	/* no stack left for it */
#endif
	__u32 flags = p->fv[XFSM_FW_PKT_FLAGS], l4 = p->l4_off, l3 = p->l3_off;
	bool udp = flags & XFSM_PF_UDP, tcp = flags & XFSM_PF_TCP;
	bool port_rw = type == XFSM_ACT_SET_L4_SPORT || type == XFSM_ACT_SET_L4_DPORT;
	bool dst = type == XFSM_ACT_SET_L4_DPORT || type == XFSM_ACT_SET_IP_DST;
	__u32 old = 0, nv = 0;
	void *data, *end;
	__u8 *h = NULL;

	asm volatile("" : "+r"(ctx));
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (!l4 || !(tcp || udp) || l4 > XFSM_MAX_L3_OFF + XFSM_MAX_L4_OFF) {
		if (port_rw)
			return RW_FAILED;
	} else {
		h = data + (l4 & 0x7ff);
		/* one pointer checked and used, not recomputed (6.1's verifier) */
		asm volatile("" : "+r"(h));
		if ((void *)(h + 8) > end)	/* both ports, UDP's checksum */
			return RW_FAILED;
		if (tcp && (void *)(h + 20) > end)
			return RW_FAILED;
	}
	if (port_rw) {
		__be16 *port = (void *)h;

		old = port[dst];
		nv = bpf_htons((__u16)val);
		port[dst] = nv;
		p->fv[dst ? XFSM_FW_L4_DPORT : XFSM_FW_L4_SPORT] = (__u16)val;
		p->fv[dst ? (tcp ? XFSM_FW_TCP_DPORT : XFSM_FW_UDP_DPORT) :
			    (tcp ? XFSM_FW_TCP_SPORT : XFSM_FW_UDP_SPORT)] = (__u16)val;
	} else {
		struct iphdr *iph = data + l3;
		__be32 *a;

		if (!(flags & XFSM_PF_IPV4) || !l3 || l3 > XFSM_MAX_L3_OFF)
			return RW_FAILED;
		if ((void *)(iph + 1) > end)
			return RW_FAILED;
		a = dst ? &iph->daddr : &iph->saddr;
		old = *a;
		nv = bpf_htonl((__u32)val);
		iph->check = csum_replace32(iph->check, old, nv);
		*a = nv;
		p->fv[dst ? XFSM_FW_IP4_DST : XFSM_FW_IP4_SRC] = (__u32)val;
	}
	if (!h)
		return RW_OK;
	/* the L4 checksum, each at a constant offset of the checked pointer */
	if (tcp) {
		__u16 *c = (void *)(h + 16);

		*c = port_rw ? csum_replace16(*c, (__u16)old, (__u16)nv) :
			       csum_replace32(*c, old, nv);
	} else {
		__u16 *c = (void *)(h + 6);

		if (*c) {	/* 0: no checksum (IPv4) */
			*c = port_rw ? csum_replace16(*c, (__u16)old, (__u16)nv) :
				       csum_replace32(*c, old, nv);
			if (!*c)
				*c = 0xffff;
		}
	}
	return RW_OK;
}

/*
 * IPv6 NAT: 64 bits of the source or destination address (half 0 the
 * upper, 1 the lower; a whole address is two rewrites).  IPv6 has no
 * header checksum; the TCP, UDP and ICMPv6 checksums cover the addresses
 * through the pseudo-header and are updated.  A UDP checksum of 0 is not
 * allowed over IPv6 (RFC 8200, section 8.1): it stays 0, as Linux's NAT
 * leaves it, and the receiver drops the datagram as it would have before.
 * A later fragment has no L4 header: only its address is rewritten.  The
 * header to update is checked before anything is written, so a failed
 * rewrite leaves the frame as it was.
 */
XFSM_RW_FN int rw_nat6(struct xdp_md *ctx, struct xfsm_pkt *p, bool dst, __u32 half, __u64 val)
{
#ifdef XFSM_OFFLOAD
	return RW_UNSUPPORTED;	/* no stack left for it */
#endif
	__u32 flags = p->fv[XFSM_FW_PKT_FLAGS], l4 = p->l4_off, l3 = p->l3_off;
	__u32 w = (half & 1) * 2, o0, o1, n0, n1;
	bool udp = flags & XFSM_PF_UDP;
	struct ipv6hdr *ip6;
	__u16 *c = NULL;
	void *data, *end;
	__be32 *a;
	__u8 *h;

	asm volatile("" : "+r"(ctx));
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (!(flags & XFSM_PF_IPV6) || !l3 || l3 > XFSM_MAX_L3_OFF)
		return RW_FAILED;
	ip6 = data + l3;
	if ((void *)(ip6 + 1) > end)
		return RW_FAILED;
	if (l4 && (flags & (XFSM_PF_TCP | XFSM_PF_UDP | XFSM_PF_ICMP6))) {
		if (l4 > XFSM_MAX_L3_OFF + XFSM_MAX_L4_OFF)
			return RW_FAILED;
		h = data + (l4 & 0x7ff);
		/* one pointer checked and used, not recomputed (6.1's verifier) */
		asm volatile("" : "+r"(h));
		if (flags & XFSM_PF_TCP) {
			if ((void *)(h + 18) > end)
				return RW_FAILED;
			c = (void *)(h + 16);
		} else if (udp) {
			if ((void *)(h + 8) > end)
				return RW_FAILED;
			c = (void *)(h + 6);
		} else {
			if ((void *)(h + 4) > end)
				return RW_FAILED;
			c = (void *)(h + 2);
		}
	}
	a = dst ? &ip6->daddr.in6_u.u6_addr32[0] : &ip6->saddr.in6_u.u6_addr32[0];
	if (w)
		a += 2;
	/* within the header checked above, but the verifier loses the
	 * range of a variable offset: check the pointer it will use */
	asm volatile("" : "+r"(a));
	if ((void *)(a + 2) > end)
		return RW_FAILED;
	o0 = a[0];
	o1 = a[1];
	n0 = bpf_htonl((__u32)(val >> 32));
	n1 = bpf_htonl((__u32)val);
	a[0] = n0;
	a[1] = n1;
	if (c && !(udp && !*c)) {
		__u16 v = csum_replace32(csum_replace32(*c, o0, n0), o1, n1);

		*c = udp && !v ? 0xffff : v;
	}
	p->fv[(dst ? XFSM_FW_IP6_DST : XFSM_FW_IP6_SRC) + w] = (__u32)(val >> 32);
	p->fv[(dst ? XFSM_FW_IP6_DST : XFSM_FW_IP6_SRC) + w + 1] = (__u32)val;
	return RW_OK;
}

/*
 * VLAN push: an outer 802.1Q tag (VLAN id vid, priority 0) in front of any
 * tag the frame has; pop: the outer tag off.  The frame grows or shrinks
 * by 4 bytes at its head, and the offsets and fields that later actions
 * and stages read follow.  A frame with two tags takes no third, and an
 * untagged one has nothing to pop: both fail, the frame unchanged.
 */
XFSM_RW_FN int rw_vlan(struct xdp_md *ctx, struct xfsm_pkt *p, bool push, __u64 vid)
{
	__u32 *fv = p->fv, flags = fv[XFSM_FW_PKT_FLAGS];
	__u16 mac[6], *h;
	void *end;
	int i;

#ifdef XFSM_OFFLOAD
	return RW_UNSUPPORTED;
#endif
	if (push ? (flags & XFSM_PF_QINQ) : !(flags & XFSM_PF_VLAN))
		return RW_FAILED;
	asm volatile("" : "+r"(ctx));
	h = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(h + 9) > end)	/* the MACs and a tag: 18 bytes */
		return RW_FAILED;
	if (push) {
		for (i = 0; i < 6; i++)
			mac[i] = h[i];
		if (bpf_xdp_adjust_head(ctx, -4))
			return RW_FAILED;
		/* read the context's fields afresh, not through a pointer
		 * kept from before (the verifier refuses a moved ctx) */
		asm volatile("" : "+r"(ctx));
		h = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		if ((void *)(h + 9) > end)
			return RW_FAILED;	/* cannot happen: 4 bytes more than before */
		for (i = 0; i < 6; i++)
			h[i] = mac[i];
		h[6] = bpf_htons(ETH_P_8021Q);
		h[7] = bpf_htons((__u16)(vid & 0x0fff));
		if (flags & XFSM_PF_VLAN) {
			fv[XFSM_FW_VLAN_INNER] = fv[XFSM_FW_VLAN_ID];
			flags |= XFSM_PF_QINQ;
		}
		fv[XFSM_FW_VLAN_ID] = vid & 0x0fff;
		fv[XFSM_FW_VLAN_PCP] = 0;
		fv[XFSM_FW_PKT_FLAGS] = flags | XFSM_PF_VLAN;
		fv[XFSM_FW_META_LEN] += 4;
		p->l3_off += p->l3_off ? 4 : 0;
		p->l4_off += p->l4_off ? 4 : 0;
		return RW_OK;
	}
	for (i = 5; i >= 0; i--)	/* the MACs over the tag, from the end */
		h[i + 2] = h[i];
	if (bpf_xdp_adjust_head(ctx, 4))
		return RW_FAILED;
	asm volatile("" : "+r"(ctx));
	h = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (flags & XFSM_PF_QINQ) {
		__u32 tci;

		if ((void *)(h + 8) > end)
			return RW_FAILED;	/* cannot happen: the inner tag is there */
		tci = bpf_ntohs(h[7]);
		fv[XFSM_FW_VLAN_ID] = tci & 0x0fff;
		fv[XFSM_FW_VLAN_PCP] = tci >> 13;
		fv[XFSM_FW_VLAN_INNER] = 0;
		flags &= ~XFSM_PF_QINQ;
	} else {
		fv[XFSM_FW_VLAN_ID] = 0;
		fv[XFSM_FW_VLAN_PCP] = 0;
		flags &= ~XFSM_PF_VLAN;
	}
	fv[XFSM_FW_PKT_FLAGS] = flags;
	fv[XFSM_FW_META_LEN] -= 4;
	p->l3_off -= p->l3_off ? 4 : 0;
	p->l4_off -= p->l4_off ? 4 : 0;
	return RW_OK;
}

/*
 * ARP reply: an Ethernet/IPv4 ARP request becomes its reply in place, as
 * the host it asks for would send it, with `mac` as that host's MAC:
 * operation 2, the sender (mac, the asked address) and the target (the
 * requester) swapped in, the Ethernet addresses likewise.  Anything else
 * (a reply, another hardware or protocol type) fails, unchanged.
 */
XFSM_RW_FN int rw_arp_reply(struct xdp_md *ctx, struct xfsm_pkt *p, __u64 mac)
{
#ifdef XFSM_OFFLOAD
	return RW_UNSUPPORTED;	/* no stack left for it */
#endif
	__u32 *fv = p->fv, off = p->l3_off, spa, tpa;
	__u8 *a, *eth, sha[6];
	void *end;
	int i;

	if (!(fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_ARP) || fv[XFSM_FW_ARP_OP] != 1 ||
	    !off || off > XFSM_MAX_L3_OFF)
		return RW_FAILED;
	asm volatile("" : "+r"(ctx));
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	a = (void *)eth + (off & 0x7f);	/* a bound the verifier sees */
	asm volatile("" : "+r"(a));	/* one pointer checked and used, not recomputed */
	/* htype 1, ptype 0x0800, hlen 6, plen 4, then sha spa tha tpa */
	if ((void *)(a + 28) > end || (void *)(eth + 12) > end)
		return RW_FAILED;
	if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0 || a[4] != 6 || a[5] != 4)
		return RW_FAILED;
	for (i = 0; i < 6; i++)
		sha[i] = a[8 + i];
	spa = fv[XFSM_FW_ARP_SPA];
	tpa = fv[XFSM_FW_ARP_TPA];
	a[7] = 2;	/* operation: reply (the high byte was 0: a request) */
	for (i = 0; i < 6; i++) {
		__u8 m = mac >> (8 * (5 - i));

		a[18 + i] = sha[i];	/* target: the requester */
		eth[i] = sha[i];
		a[8 + i] = m;		/* sender: the host asked for */
		eth[6 + i] = m;
	}
	for (i = 0; i < 4; i++) {
		a[14 + i] = tpa >> (8 * (3 - i));
		a[24 + i] = spa >> (8 * (3 - i));
	}
	fv[XFSM_FW_ARP_OP] = 2;
	fv[XFSM_FW_ARP_SPA] = tpa;
	fv[XFSM_FW_ARP_TPA] = spa;
	fv[XFSM_FW_ETH_DST_HI] = fv[XFSM_FW_ETH_SRC_HI];
	fv[XFSM_FW_ETH_DST_LO] = fv[XFSM_FW_ETH_SRC_LO];
	fv[XFSM_FW_ETH_SRC_HI] = (mac >> 32) & 0xffff;
	fv[XFSM_FW_ETH_SRC_LO] = (__u32)mac;
	return RW_OK;
}

static __always_inline int do_output(__u64 port, bool flood, struct xfsm_stats *s, __u32 len)
{
#ifdef XFSM_OFFLOAD
	CNT_ADD(&s->exc_unsupported, 1);
	return XDP_DROP;
#else
	long ret;

	if (flood)
		ret = bpf_redirect_map(&xfsm_tx_ports, 0,
				       BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	else
		ret = bpf_redirect_map(&xfsm_tx_ports, (__u32)port, XDP_DROP);
	if (ret != XDP_REDIRECT) {
		CNT_ADD(&s->exc_bad_port, 1);
		return XDP_DROP;
	}
	if (!flood && port < XFSM_MAX_PORTS) {
		struct xfsm_port_stats *ps = port_stats(s, port);

		if (ps) {
			CNT_ADD(&ps->tx_packets, 1);
			CNT_ADD(&ps->tx_bytes, len);
		}
	}
	return XDP_REDIRECT;
#endif
}

#ifndef XFSM_OFFLOAD
/* The address families of struct bpf_fib_lookup (linux/socket.h's). */
#define FIB_AF_INET	2
#define FIB_AF_INET6	10

static __always_inline __u64 mac_to_u64(const __u8 *m)
{
	return (__u64)m[0] << 40 | (__u64)m[1] << 32 | (__u64)m[2] << 24 |
	       (__u64)m[3] << 16 | (__u64)m[4] << 8 | m[5];
}

/*
 * output fib: forward an untagged IPv4 or IPv6 packet as the kernel would
 * route it, by the routing and neighbour tables of the ingress device's
 * namespace (bpf_fib_lookup with the ingress ifindex and the packet's
 * addresses, protocol, ports, TOS / flow label and length).  Found: the
 * Ethernet addresses become the next hop's and the egress device's, the
 * TTL / hop limit drops by one (IPv4 checksum updated), and the packet is
 * redirected to the egress device, which need not be an xfsm port (no
 * devmap: bpf_redirect); if it is one, its tx counters count it.  Every
 * other outcome gets the verdict of its counter in XFSM_FIB_COUNTERS:
 * what the kernel must do itself (resolve a neighbour, send an ICMP error,
 * deliver locally) goes to the stack, and routes that discard drop.  A
 * frame of its own: struct bpf_fib_lookup is 64 bytes of stack.
 */
static __noinline int fib_forward(struct xdp_md *ctx, struct xfsm_pkt *p, struct xfsm_stats *s)
{
	struct bpf_fib_lookup fib;
	__u32 flags, ifindex;
	struct xfsm_port *port;
	void *data, *end;
	long rc;

	if (!ctx || !p || !s)
		return XDP_DROP;
	flags = p->fv[XFSM_FW_PKT_FLAGS];
	if (!(flags & (XFSM_PF_IPV4 | XFSM_PF_IPV6)) || p->l3_off != ETH_HLEN) {
		if (flags & XFSM_PF_VLAN)
			CNT_ADD(&s->fib_vlan, 1);
		else
			CNT_ADD(&s->fib_not_ip, 1);
		return XDP_PASS;
	}
	__builtin_memset(&fib, 0, sizeof(fib));
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (flags & XFSM_PF_IPV4) {
		struct iphdr *iph = data + ETH_HLEN;

		if ((void *)(iph + 1) > end)
			return XDP_PASS;	/* cannot happen: parsed */
		if (iph->ttl <= 1) {
			CNT_ADD(&s->fib_ttl_expired, 1);
			return XDP_PASS;
		}
		fib.family = FIB_AF_INET;
		fib.tos = iph->tos;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	} else {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		if (ip6->hop_limit <= 1) {
			CNT_ADD(&s->fib_ttl_expired, 1);
			return XDP_PASS;
		}
		fib.family = FIB_AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
	}
	fib.l4_protocol = p->fv[XFSM_FW_IP_PROTO];
	fib.sport = bpf_htons((__u16)p->fv[XFSM_FW_L4_SPORT]);
	fib.dport = bpf_htons((__u16)p->fv[XFSM_FW_L4_DPORT]);
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
		CNT_ADD(&s->fib_blackhole, 1);
		return XDP_DROP;
	case BPF_FIB_LKUP_RET_UNREACHABLE:
		CNT_ADD(&s->fib_unreachable, 1);
		return XDP_DROP;
	case BPF_FIB_LKUP_RET_PROHIBIT:
		CNT_ADD(&s->fib_prohibit, 1);
		return XDP_DROP;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		CNT_ADD(&s->fib_not_forwarded, 1);
		return XDP_PASS;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		CNT_ADD(&s->fib_fwd_disabled, 1);
		return XDP_PASS;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		CNT_ADD(&s->fib_no_neigh, 1);
		return XDP_PASS;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		CNT_ADD(&s->fib_frag_needed, 1);
		return XDP_PASS;
	default:
		CNT_ADD(&s->fib_other, 1);
		return XDP_PASS;
	}
	/* the TTL was checked above: the decrement cannot expire */
	if (rw_ip(ctx, p, XFSM_ACT_DEC_TTL, 0) != RW_OK ||
	    rw_eth(ctx, p, true, mac_to_u64(fib.dmac)) != RW_OK ||
	    rw_eth(ctx, p, false, mac_to_u64(fib.smac)) != RW_OK) {
		CNT_ADD(&s->exc_rewrite_failed, 1);
		return XDP_DROP;
	}
	CNT_ADD(&s->fib_forwarded, 1);
	ifindex = fib.ifindex;
	port = bpf_map_lookup_elem(&xfsm_ports, &ifindex);
	if (port && port->port < XFSM_MAX_PORTS) {
		struct xfsm_port_stats *ps = port_stats(s, port->port);

		if (ps) {
			CNT_ADD(&ps->tx_packets, 1);
			CNT_ADD(&ps->tx_bytes, p->fv[XFSM_FW_META_LEN]);
		}
	}
	return bpf_redirect(ifindex, 0);
}
#endif

static __always_inline bool action_is_verdict(__u8 type)
{
	return type == XFSM_ACT_DROP || type == XFSM_ACT_PASS || type == XFSM_ACT_TX;
}

/* Are actions `from`.. of rule `r` all empty? */
static __always_inline bool actions_none_from(const struct xfsm_rule *r, int from)
{
	int i;

	for (i = from; i < XFSM_MAX_ACTIONS; i++)
		if (r->act[i].type != XFSM_ACT_NONE)
			return false;
	return true;
}

/* A verdict action (drop, pass, tx): its counter and its XDP action. */
static __always_inline int action_verdict(__u8 type, struct xfsm_stats *s)
{
	switch (type) {
	case XFSM_ACT_DROP:
		CNT_ADD(&s->act_drop, 1);
		return XDP_DROP;
	case XFSM_ACT_PASS:
		CNT_ADD(&s->act_pass, 1);
		return XDP_PASS;
	default:
		CNT_ADD(&s->act_tx, 1);
		return XDP_TX;
	}
}

/*
 * Run a rule's actions in order.  `f` is the lookup-scope flow after this
 * rule's updates (NULL when there is none).
 */
static __always_inline int actions_run(struct xdp_md *ctx, struct xfsm_pkt *p,
				       const struct xfsm_rule *r, const flow_value *f,
				       __u32 state, const struct xfsm_globals *g,
				       __u32 stage, struct xfsm_stats *s)
{
	__u32 next = stage + 1;
	int i, rw;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];
		__u8 type = a->type;

		switch (type) {
		case XFSM_ACT_DROP:
		case XFSM_ACT_PASS:
		case XFSM_ACT_TX:
			return action_verdict(type, s);
		case XFSM_ACT_OUTPUT:
			CNT_ADD(&s->act_output, 1);
			return do_output(opnd_read(&a->opnd, p, f, state, g), false, s,
					 p->fv[XFSM_FW_META_LEN]);
		case XFSM_ACT_FLOOD:
			CNT_ADD(&s->act_flood, 1);
			return do_output(0, true, s, 0);
		case XFSM_ACT_OUTPUT_XSK: {
#ifdef XFSM_OFFLOAD
			return do_output(0, false, s, 0);	/* unsupported: drop */
#else
			long ret = bpf_redirect_map(&xfsm_xsks, ctx->rx_queue_index, XDP_DROP);

			CNT_ADD(&s->act_output, 1);
			if (ret != XDP_REDIRECT)
				CNT_ADD(&s->exc_bad_port, 1);
			return ret;
#endif
		}
		case XFSM_ACT_OUTPUT_GROUP: {
#ifdef XFSM_OFFLOAD
			return do_output(0, false, s, 0);	/* unsupported: drop */
#else
			__u64 sel = xfsm_group_select(p, a->arg);
			__u32 port = sel & 0xffff;

			CNT_ADD(&s->act_output, 1);
			if (!port)
				return XDP_DROP;
			/* the member's own MAC, when it has one */
			if ((sel >> 16) && rw_eth(ctx, p, true, sel >> 16) != RW_OK)
				CNT_ADD(&s->exc_rewrite_failed, 1);
			return do_output(port, false, s, p->fv[XFSM_FW_META_LEN]);
#endif
		}
		case XFSM_ACT_GOTO:
			if (a->arg <= stage || a->arg >= XFSM_MAX_STAGES) {
				CNT_ADD(&s->exc_goto_backward, 1);
				return XDP_DROP;
			}
			CNT_ADD(&s->act_goto, 1);
			next = a->arg;
			break;
		case XFSM_ACT_SET_ETH_SRC:
		case XFSM_ACT_SET_ETH_DST:
			if (rw_eth(ctx, p, type == XFSM_ACT_SET_ETH_DST,
				   opnd_read(&a->opnd, p, f, state, g)) != RW_OK) {
				CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_SET_ETH_DST)
				CNT_ADD(&s->act_set_eth_dst, 1);
			else
				CNT_ADD(&s->act_set_eth_src, 1);
			break;
		case XFSM_ACT_SET_DSCP:
		case XFSM_ACT_SET_ECN:
		case XFSM_ACT_SET_TTL:
		case XFSM_ACT_DEC_TTL:
			rw = rw_ip(ctx, p, type, opnd_read(&a->opnd, p, f, state, g));
			if (rw == RW_TTL_EXPIRED) {
				CNT_ADD(&s->exc_ttl_expired, 1);
				return XDP_PASS;
			}
			if (rw != RW_OK) {
				CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_DEC_TTL)
				CNT_ADD(&s->act_dec_ttl, 1);
			else if (type == XFSM_ACT_SET_DSCP)
				CNT_ADD(&s->act_set_dscp, 1);
			else if (type == XFSM_ACT_SET_TTL)
				CNT_ADD(&s->act_set_ttl, 1);
			else
				CNT_ADD(&s->act_set_ecn, 1);
			break;
		case XFSM_ACT_COUNT: {
			/* arg: the counter's own entry, kept across
			 * applications (one entry each, so that user space
			 * zeroes a new counter without touching others) */
			__u32 k = a->arg;
			struct xfsm_counter *c = bpf_map_lookup_elem(&xfsm_counters, &k);

			if (c) {
				CNT_ADD(&c->packets, 1);
				CNT_ADD(&c->bytes, p->fv[XFSM_FW_META_LEN]);
			}
			CNT_ADD(&s->act_count, 1);
			break;
		}
		case XFSM_ACT_SET_MARK:
			p->fv[XFSM_FW_META_MARK] = opnd_read(&a->opnd, p, f, state, g);
			CNT_ADD(&s->act_set_mark, 1);
			break;
		case XFSM_ACT_ARP_REPLY:
			/* not an ARP request: the rule goes on without a verdict */
			rw = rw_arp_reply(ctx, p, opnd_read(&a->opnd, p, f, state, g));
			if (rw != RW_OK) {
				if (rw == RW_UNSUPPORTED)
					CNT_ADD(&s->exc_unsupported, 1);
				else
					CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			CNT_ADD(&s->act_arp_reply, 1);
			return XDP_TX;
		case XFSM_ACT_OUTPUT_FIB:
#ifdef XFSM_OFFLOAD
			return do_output(0, false, s, 0);	/* unsupported: drop */
#else
			return fib_forward(ctx, p, s);
#endif
		case XFSM_ACT_VLAN_PUSH:
		case XFSM_ACT_VLAN_POP:
			rw = rw_vlan(ctx, p, type == XFSM_ACT_VLAN_PUSH,
				     opnd_read(&a->opnd, p, f, state, g));
			if (rw == RW_UNSUPPORTED) {
				CNT_ADD(&s->exc_unsupported, 1);
				break;
			}
			if (rw != RW_OK) {
				CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_VLAN_PUSH)
				CNT_ADD(&s->act_vlan_push, 1);
			else
				CNT_ADD(&s->act_vlan_pop, 1);
			break;
		case XFSM_ACT_SET_IP_SRC:
		case XFSM_ACT_SET_IP_DST:
		case XFSM_ACT_SET_L4_SPORT:
		case XFSM_ACT_SET_L4_DPORT:
			rw = rw_nat(ctx, p, type, opnd_read(&a->opnd, p, f, state, g));
			if (rw != RW_OK) {
				if (rw == RW_UNSUPPORTED)
					CNT_ADD(&s->exc_unsupported, 1);
				else
					CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_SET_IP_SRC)
				CNT_ADD(&s->act_set_ip_src, 1);
			else if (type == XFSM_ACT_SET_IP_DST)
				CNT_ADD(&s->act_set_ip_dst, 1);
			else if (type == XFSM_ACT_SET_L4_SPORT)
				CNT_ADD(&s->act_set_l4_sport, 1);
			else
				CNT_ADD(&s->act_set_l4_dport, 1);
			break;
		case XFSM_ACT_SET_IP6_SRC:
		case XFSM_ACT_SET_IP6_DST:
			rw = rw_nat6(ctx, p, type == XFSM_ACT_SET_IP6_DST, a->arg,
				     opnd_read(&a->opnd, p, f, state, g));
			/* counted once per address: at its lower half, the
			 * second of the pair (both halves fare alike) */
			if (!(a->arg & 1))
				break;
			if (rw != RW_OK) {
				if (rw == RW_UNSUPPORTED)
					CNT_ADD(&s->exc_unsupported, 1);
				else
					CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_SET_IP6_SRC)
				CNT_ADD(&s->act_set_ip6_src, 1);
			else
				CNT_ADD(&s->act_set_ip6_dst, 1);
			break;
		default:
			break;
		}
	}
	return XFSM_RES_NEXT | next;
}

#endif /* XFSM_BPF_ACTIONS_H */
