/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet parser: fills the field vector of struct xfsm_pkt.  Returns 0, or
 * for a malformed packet the offset of its exception counter in struct
 * xfsm_stats (see EXC()).  Header lengths are checked against both the
 * frame end (for the verifier) and the IP header's own length fields.
 */
#ifndef XFSM_BPF_PARSE_H
#define XFSM_BPF_PARSE_H

#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include "common.h"

#define ETH_P_8021AD_	0x88A8
#define IP6_HOPOPTS	0
#define IP6_ROUTING	43
#define IP6_FRAGMENT	44
#define IP6_DSTOPTS	60
/* Headers beyond this offset are not walked (bounds the verifier's view). */
#define XFSM_MAX_L3_OFF	64
#define XFSM_MAX_L4_OFF	1024

struct vlan_tag {
	__be16	tci;
	__be16	proto;
};

struct ip6_frag {
	__u8	nexthdr;
	__u8	reserved;
	__be16	frag_off;	/* offset << 3 | M flag */
	__be32	id;
};

/* A MAC address as two words: one 16-bit and one 32-bit load (the header
 * is only 2-byte aligned; XDP allows such loads). */
static __always_inline __u32 mac_hi(const __u8 *m)
{
	return bpf_ntohs(*(const __be16 *)m);
}

static __always_inline __u32 mac_lo(const __u8 *m)
{
	return bpf_ntohl(*(const __be32 *)(m + 2));
}

static __always_inline int parse_ports(struct xfsm_pkt *p, void *l4, void *end,
				       __u32 avail, __u8 proto, __u32 l4_off)
{
	__u32 *fv = p->fv;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
	    proto == IPPROTO_ICMPV6)
		p->l4_off = l4_off;	/* a header cut short below ends the packet */

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end || avail < sizeof(*th))
			return EXC(trunc_tcp);
		if (th->doff < 5 || th->doff * 4U > avail)
			return EXC(tcp_doff);
		fv[XFSM_FW_L4_SPORT] = fv[XFSM_FW_TCP_SPORT] = bpf_ntohs(th->source);
		fv[XFSM_FW_L4_DPORT] = fv[XFSM_FW_TCP_DPORT] = bpf_ntohs(th->dest);
		fv[XFSM_FW_TCP_FLAGS] = ((__u8 *)th)[13];
		FV_SET(fv, XFSM_FW_TCP_SEQ, bpf_ntohl(th->seq));
		FV_SET(fv, XFSM_FW_TCP_ACK, bpf_ntohl(th->ack_seq));
		FV_SET(fv, XFSM_FW_TCP_WIN, bpf_ntohs(th->window));
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_TCP | XFSM_PF_L4;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end || avail < sizeof(*uh))
			return EXC(trunc_udp);
		fv[XFSM_FW_L4_SPORT] = fv[XFSM_FW_UDP_SPORT] = bpf_ntohs(uh->source);
		fv[XFSM_FW_L4_DPORT] = fv[XFSM_FW_UDP_DPORT] = bpf_ntohs(uh->dest);
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_UDP | XFSM_PF_L4;
	} else if (proto == IPPROTO_ICMP) {
		__u8 *ic = l4;

		if ((void *)(ic + 4) > end || avail < 4)
			return EXC(trunc_icmp);
		fv[XFSM_FW_ICMP_TYPE] = ic[0];
		fv[XFSM_FW_ICMP_CODE] = ic[1];
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_ICMP | XFSM_PF_L4;
	} else if (proto == IPPROTO_ICMPV6) {
		__u8 *ic = l4;

		if ((void *)(ic + 4) > end || avail < 4)
			return EXC(trunc_icmp6);
		fv[XFSM_FW_ICMP6_TYPE] = ic[0];
		fv[XFSM_FW_ICMP6_CODE] = ic[1];
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_ICMP6 | XFSM_PF_L4;
	}
	return 0;
}

static __always_inline int parse_ipv4(struct xfsm_pkt *p, void *data, void *end,
				      __u32 off, __u32 frame_len)
{
	struct iphdr *iph = data + off;
	__u32 *fv = p->fv;
	__u32 hlen, tot, frag;

	if ((void *)(iph + 1) > end)
		return EXC(trunc_ip4);
	if (iph->version != 4)
		return EXC(ip4_version);
	hlen = iph->ihl * 4U;
	if (hlen < sizeof(*iph) || off + hlen > frame_len)
		return EXC(ip4_ihl);
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || off + tot > frame_len)
		return EXC(ip4_totlen);

	fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_IPV4 | (hlen > sizeof(*iph) ? XFSM_PF_IP_OPTIONS : 0);
	fv[XFSM_FW_IP_PROTO] = iph->protocol;
	fv[XFSM_FW_IP_DSCP] = iph->tos >> 2;
	fv[XFSM_FW_IP_ECN] = iph->tos & 3;
	fv[XFSM_FW_IP_TTL] = iph->ttl;
	fv[XFSM_FW_IP4_SRC] = bpf_ntohl(iph->saddr);
	fv[XFSM_FW_IP4_DST] = bpf_ntohl(iph->daddr);
	FV_SET(fv, XFSM_FW_IP_LEN, tot);
	FV_SET(fv, XFSM_FW_IP_ID, bpf_ntohs(iph->id));
	p->l3_off = off;

	frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x3fff) {	/* MF set or offset != 0 */
		__u32 f = XFSM_FRAG_IS | ((frag & 0x2000) ? XFSM_FRAG_MORE : 0);

		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_FRAG;
		if (frag & 0x1fff) {
			fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_FRAG_LATER;
			fv[XFSM_FW_IP_FRAG] = f;
			return 0;	/* no L4 header in a later fragment */
		}
		fv[XFSM_FW_IP_FRAG] = f | XFSM_FRAG_FIRST;
	}
	/* hlen <= 60, so the L4 header starts at a bounded offset. */
	return parse_ports(p, (void *)iph + (hlen & 0x3c), end, tot - hlen, iph->protocol,
			   off + (hlen & 0x3c));
}

static __always_inline int parse_ipv6(struct xfsm_pkt *p, void *data, void *end,
				      __u32 off, __u32 frame_len)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 *fv = p->fv;
	__u32 l4, plen, limit;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return EXC(trunc_ip6);
	if (ip6->version != 6)
		return EXC(ip6_version);
	plen = bpf_ntohs(ip6->payload_len);
	if (off + sizeof(*ip6) + plen > frame_len)
		return EXC(ip6_paylen);

	fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_IPV6;
	fv[XFSM_FW_IP_DSCP] = (ip6->priority << 2) | (ip6->flow_lbl[0] >> 6);
	fv[XFSM_FW_IP_ECN] = (ip6->flow_lbl[0] >> 4) & 3;
	fv[XFSM_FW_IP6_FLOW] = ((__u32)(ip6->flow_lbl[0] & 0x0f) << 16) |
			       ((__u32)ip6->flow_lbl[1] << 8) | ip6->flow_lbl[2];
	fv[XFSM_FW_IP_TTL] = ip6->hop_limit;
	fv[XFSM_FW_IP6_NEXTHDR] = ip6->nexthdr;
	FV_SET(fv, XFSM_FW_IP_LEN, sizeof(*ip6) + plen);
#pragma unroll
	for (i = 0; i < 4; i++) {
		fv[XFSM_FW_IP6_SRC + i] = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[i]);
		fv[XFSM_FW_IP6_DST + i] = bpf_ntohl(ip6->daddr.in6_u.u6_addr32[i]);
	}
	p->l3_off = off;

	/* Walk the extension headers; `l4` is relative to the IPv6 header and
	 * `limit` is where the payload ends according to the header. */
	nh = ip6->nexthdr;
	l4 = sizeof(*ip6);
	limit = sizeof(*ip6) + plen;
#pragma unroll
	for (i = 0; i < XFSM_MAX_IP6_EXT; i++) {
		__u8 *eh;

		if (nh != IP6_HOPOPTS && nh != IP6_ROUTING && nh != IP6_FRAGMENT &&
		    nh != IP6_DSTOPTS)
			break;
		if (l4 > XFSM_MAX_L4_OFF)
			return EXC(ip6_ext_depth);
		eh = (void *)ip6 + l4;
		if ((void *)(eh + 8) > end || l4 + 8 > limit)
			return EXC(trunc_ip6_ext);
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_IP6_EXT;
		if (nh == IP6_FRAGMENT) {
			struct ip6_frag *fh = (void *)eh;
			__u32 fo = bpf_ntohs(fh->frag_off);
			__u32 f = XFSM_FRAG_IS | ((fo & 1) ? XFSM_FRAG_MORE : 0);

			fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_FRAG;
			nh = fh->nexthdr;
			l4 += 8;
			if (fo & 0xfff8) {
				fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_FRAG_LATER;
				fv[XFSM_FW_IP_FRAG] = f;
				fv[XFSM_FW_IP_PROTO] = nh;
				return 0;
			}
			fv[XFSM_FW_IP_FRAG] = f | XFSM_FRAG_FIRST;
		} else {
			__u32 len = (eh[1] + 1U) * 8;

			nh = eh[0];
			if (l4 + len > limit)
				return EXC(trunc_ip6_ext);
			l4 += len;
		}
	}
	if (nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_FRAGMENT ||
	    nh == IP6_DSTOPTS)
		return EXC(ip6_ext_depth);
	if (l4 > XFSM_MAX_L4_OFF)
		return EXC(ip6_ext_depth);

	fv[XFSM_FW_IP_PROTO] = nh;
	return parse_ports(p, (void *)ip6 + l4, end, limit - l4, nh, off + l4);
}

static __always_inline int xfsm_parse(struct xdp_md *ctx, struct xfsm_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 frame_len = (__u32)(end - data);
	struct ethhdr *eth = data;
	__u32 *fv = p->fv;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	fv[XFSM_FW_META_LEN] = frame_len;
	if ((void *)(eth + 1) > end)
		return EXC(trunc_eth);
	fv[XFSM_FW_ETH_DST_HI] = mac_hi(eth->h_dest);
	fv[XFSM_FW_ETH_DST_LO] = mac_lo(eth->h_dest);
	fv[XFSM_FW_ETH_SRC_HI] = mac_hi(eth->h_source);
	fv[XFSM_FW_ETH_SRC_LO] = mac_lo(eth->h_source);
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_tag *vt = data + off;
		__u32 tci;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD_)
			break;
		if ((void *)(vt + 1) > end)
			return EXC(trunc_vlan);
		tci = bpf_ntohs(vt->tci);
		if (i == 0) {
			fv[XFSM_FW_VLAN_ID] = tci & 0x0fff;
			fv[XFSM_FW_VLAN_PCP] = tci >> 13;
			fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_VLAN;
		} else {
			fv[XFSM_FW_VLAN_INNER] = tci & 0x0fff;
			fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_QINQ;
		}
		proto = bpf_ntohs(vt->proto);
		off += sizeof(*vt);
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD_)
		return EXC(vlan_depth);
	fv[XFSM_FW_ETH_TYPE] = proto;

	if (proto == ETH_P_IP)
		return parse_ipv4(p, data, end, off, frame_len);
	if (proto == ETH_P_IPV6)
		return parse_ipv6(p, data, end, off, frame_len);
	if (proto == ETH_P_ARP) {
		struct arphdr *ah = data + off;
		__u8 *body = (void *)(ah + 1);

		if ((void *)(ah + 1) > end)
			return EXC(trunc_arp);
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_ARP;
		fv[XFSM_FW_ARP_OP] = bpf_ntohs(ah->ar_op);
		p->l3_off = off;	/* users check the IPv4 / IPv6 / ARP flag */
		if (ah->ar_hrd == bpf_htons(ARPHRD_ETHER) && ah->ar_pro == bpf_htons(ETH_P_IP) &&
		    ah->ar_hln == 6 && ah->ar_pln == 4) {
			/* sha[6] spa[4] tha[6] tpa[4] */
			if ((void *)(body + 20) > end)
				return EXC(trunc_arp);
			fv[XFSM_FW_ARP_SPA] = ((__u32)body[6] << 24) | ((__u32)body[7] << 16) |
					      ((__u32)body[8] << 8) | body[9];
			fv[XFSM_FW_ARP_TPA] = ((__u32)body[16] << 24) | ((__u32)body[17] << 16) |
					      ((__u32)body[18] << 8) | body[19];
		}
	}
	return 0;
}

#endif /* XFSM_BPF_PARSE_H */
