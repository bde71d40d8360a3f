/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Parser tables: every header class with the field values it must produce,
 * and every malformed class with the one exception counter it must count.
 */
#include "golden.h"

#define H1	TEST_MAC(1)
#define H2	TEST_MAC(2)
#define A	TEST_IP4(1)
#define B	TEST_IP4(2)

#define FV(w, v)	{ (w), (v) }
#define ETH_FIELDS(type)						\
	FV(XFSM_FW_ETH_DST_HI, 0x0200), FV(XFSM_FW_ETH_DST_LO, 2),	\
	FV(XFSM_FW_ETH_SRC_HI, 0x0200), FV(XFSM_FW_ETH_SRC_LO, 1),	\
	FV(XFSM_FW_ETH_TYPE, (type))
#define IP4_FIELDS(proto)						\
	FV(XFSM_FW_IP_PROTO, (proto)), FV(XFSM_FW_IP_TTL, 64),		\
	FV(XFSM_FW_IP4_SRC, A), FV(XFSM_FW_IP4_DST, B), FV(XFSM_FW_IP_ID, 7)
/* ip6.nexthdr: `first`, the header after the IPv6 one; ip.proto: the
 * upper layer after the extension headers */
#define IP6X_FIELDS(first, proto)					\
	FV(XFSM_FW_IP_PROTO, (proto)), FV(XFSM_FW_IP_TTL, 64),		\
	FV(XFSM_FW_IP6_NEXTHDR, (first)),				\
	FV(XFSM_FW_IP6_SRC, 0x20010002), FV(XFSM_FW_IP6_SRC + 3, 1),	\
	FV(XFSM_FW_IP6_DST, 0x20010002), FV(XFSM_FW_IP6_DST + 3, 2)
#define IP6_FIELDS(proto)	IP6X_FIELDS(proto, proto)
/* pkt_tcp(): sequence 0x01020304, acknowledgment 0x0a0b0c0d with ACK
 * (else 0), window 65535 */
#define TCP_NUMBERS(ack)						\
	FV(XFSM_FW_TCP_SEQ, 0x01020304), FV(XFSM_FW_TCP_ACK, (ack)),	\
	FV(XFSM_FW_TCP_WIN, 65535)

static void ip4(struct pkt *p, uint8_t tos, uint16_t frag, uint8_t opt_words, uint8_t proto)
{
	struct ip4_args a = { .src = A, .dst = B, .tos = tos, .ttl = 64, .id = 7,
			      .frag = frag, .opt_words = opt_words, .proto = proto };

	pkt_ip4(p, &a);
}

static void ip6(struct pkt *p, uint8_t tclass, uint32_t flow)
{
	struct ip6_args a = { .tclass = tclass, .flow = flow, .hlim = 64 };

	test_ip6(a.src, 1);
	test_ip6(a.dst, 2);
	pkt_ip6(p, &a);
}

/* ---- well-formed frames ------------------------------------------------ */

static void b_ip4_tcp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0xb9, 0, 0, 0);		/* DSCP 46, ECN 1 */
	pkt_tcp(p, 1234, 80, TCPF_SYN | TCPF_ACK, 0);
	pkt_raw(p, 10, 0x11);
	pkt_finish(p);
}

static void b_vlan_ip4_udp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 5 << 13 | 1 << 12 | 100);	/* DEI set */
	ip4(p, 0, 0, 0, 0);
	pkt_udp(p, 5353, 53);
	pkt_raw(p, 4, 0);
	pkt_finish(p);
}

static void b_qinq_ip4_icmp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021AD, 3 << 13 | 200);
	pkt_vlan(p, ETHERTYPE_8021Q, 1 << 13 | 300);
	ip4(p, 0, 0, 0, 0);
	pkt_icmp(p, 8, 0);
	pkt_finish(p);
}

static void b_arp(struct pkt *p)
{
	pkt_eth(p, 0xffffffffffffULL, H1, 0);
	pkt_arp(p, 2, H1, A, H2, B);
	pkt_finish(p);
}

static void b_ip4_opts_tcp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, 0, 3, 0);		/* IHL 8 */
	pkt_tcp(p, 40000, 443, TCPF_FIN | TCPF_PSH | TCPF_URG | TCPF_ECE | TCPF_CWR, 2);
	pkt_finish(p);
	/* the NS bit (low bit of the data offset byte) is not in tcp.flags */
	pkt_put8(p, pkt_off(p, PL_TCP, 0) + 12, p->data[pkt_off(p, PL_TCP, 0) + 12] | 1);
}

static void b_ip4_frag_first(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, IP4_MF, 0, 0);
	pkt_udp(p, 7, 9);
	pkt_raw(p, 16, 0x22);
	pkt_finish(p);
}

static void b_ip4_frag_later(struct pkt *p)
{
	/* Offset 3 (24 bytes) with bytes that would read as UDP ports. */
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, IP4_MF | 3, 0, IPPROTO_UDP_);
	pkt_raw(p, 16, 0x33);
	pkt_finish(p);
}

static void b_ip4_frag_last(struct pkt *p)
{
	/* Last fragment: MF clear, offset 5; two bytes only, not a UDP header. */
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, 5, 0, IPPROTO_TCP_);
	pkt_raw(p, 2, 0x44);
	pkt_finish(p);
}

static void b_ip4_df_udp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, IP4_DF, 0, 0);
	pkt_udp(p, 3, 4);
	pkt_finish(p);
}

static void b_dot1q_dot1q_ip6_udp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 7 << 13 | 4094);
	pkt_vlan(p, ETHERTYPE_8021Q, 1);
	ip6(p, 0, 0);
	pkt_udp(p, 5, 6);
	pkt_finish(p);
}

static void b_ip6_ah(struct pkt *p)
{
	/* Authentication header (51): not in the walked set, an upper layer */
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
	pkt_ip6_ext(p, 51, 1, 0);
	pkt_tcp(p, 1, 2, TCPF_SYN, 0);
	pkt_finish(p);
}

static void b_ip6_tcp(struct pkt *p)
{
	uint32_t o;

	pkt_eth(p, H2, H1, 0);
	ip6(p, 0x2a << 2 | 2, 0xabcde);
	pkt_tcp(p, 2000, 22, TCPF_RST, 0);
	o = pkt_off(p, PL_TCP, 0);
	pkt_put32(p, o + 4, 0xfedcba98);	/* sequence: all 32 bits */
	pkt_put32(p, o + 8, 0x80000001);	/* acknowledgment without ACK */
	pkt_put16(p, o + 14, 1000);		/* window */
	pkt_finish(p);
}

static void b_ip6_ext_udp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
	pkt_ip6_ext(p, IPPROTO_ROUTING_, 2, 0);
	pkt_ip6_ext(p, IPPROTO_FRAGMENT_, 0, 1);	/* first fragment, M set */
	pkt_ip6_ext(p, IPPROTO_DSTOPTS_, 1, 0);
	pkt_udp(p, 1111, 2222);
	pkt_raw(p, 8, 0);
	pkt_finish(p);
}

static void b_ip6_frag_later(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_FRAGMENT_, 0, 10 << 3);	/* offset 10, last */
	pkt_raw(p, 24, 0x55);
	pkt_finish(p);
	/* The fragment header names UDP as the upper layer. */
	pkt_put8(p, pkt_off(p, PL_IP6_EXT, 0), IPPROTO_UDP_);
}

static void b_ip6_six_ext(struct pkt *p)
{
	int i;

	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
	for (i = 0; i < 5; i++)
		pkt_ip6_ext(p, IPPROTO_DSTOPTS_, 0, 0);
	pkt_icmp6(p, 128, 0);
	pkt_finish(p);
}

static void b_ip6_icmp6(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_icmp6(p, 135, 0);
	pkt_finish(p);
}

static void b_other_ethertype(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0x88cc);	/* LLDP */
	pkt_raw(p, 46, 0x01);
	pkt_finish(p);
}

static void b_ip4_gre(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, 0, 0, 47);
	pkt_raw(p, 8, 0x66);
	pkt_finish(p);
}

static void b_ip4_padded(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, 0, 0, 0);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	pkt_append(p, 18, 0);		/* Ethernet padding to 60 bytes */
}

static void b_ip6_padded(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_icmp6(p, 1, 4);
	pkt_finish(p);
	pkt_append(p, 6, 0);		/* trailing bytes after the payload length */
}

#define PF(x)	FV(XFSM_FW_PKT_FLAGS, (x))

const struct parse_case parse_cases[] = {
	{ "ipv4 tcp", b_ip4_tcp, {
		ETH_FIELDS(0x0800), IP4_FIELDS(6),
		PF(XFSM_PF_IPV4 | XFSM_PF_L4 | XFSM_PF_TCP),
		FV(XFSM_FW_IP_DSCP, 46), FV(XFSM_FW_IP_ECN, 1),
		FV(XFSM_FW_L4_SPORT, 1234), FV(XFSM_FW_L4_DPORT, 80),
		FV(XFSM_FW_TCP_SPORT, 1234), FV(XFSM_FW_TCP_DPORT, 80),
		FV(XFSM_FW_TCP_FLAGS, TCPF_SYN | TCPF_ACK), TCP_NUMBERS(0x0a0b0c0d) } },
	{ "802.1Q ipv4 udp", b_vlan_ip4_udp, {
		ETH_FIELDS(0x0800), IP4_FIELDS(17),
		PF(XFSM_PF_VLAN | XFSM_PF_IPV4 | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_VLAN_ID, 100), FV(XFSM_FW_VLAN_PCP, 5),
		FV(XFSM_FW_L4_SPORT, 5353), FV(XFSM_FW_L4_DPORT, 53),
		FV(XFSM_FW_UDP_SPORT, 5353), FV(XFSM_FW_UDP_DPORT, 53) } },
	{ "802.1ad+802.1Q ipv4 icmp", b_qinq_ip4_icmp, {
		ETH_FIELDS(0x0800), IP4_FIELDS(1),
		PF(XFSM_PF_VLAN | XFSM_PF_QINQ | XFSM_PF_IPV4 | XFSM_PF_L4 | XFSM_PF_ICMP),
		FV(XFSM_FW_VLAN_ID, 200), FV(XFSM_FW_VLAN_INNER, 300),
		FV(XFSM_FW_VLAN_PCP, 3),
		FV(XFSM_FW_ICMP_TYPE, 8), FV(XFSM_FW_ICMP_CODE, 0) } },
	{ "arp reply", b_arp, {
		FV(XFSM_FW_ETH_DST_HI, 0xffff), FV(XFSM_FW_ETH_DST_LO, 0xffffffff),
		FV(XFSM_FW_ETH_SRC_HI, 0x0200), FV(XFSM_FW_ETH_SRC_LO, 1),
		FV(XFSM_FW_ETH_TYPE, 0x0806), PF(XFSM_PF_ARP),
		FV(XFSM_FW_ARP_OP, 2), FV(XFSM_FW_ARP_SPA, A), FV(XFSM_FW_ARP_TPA, B) } },
	{ "ipv4 options, tcp options and all flags", b_ip4_opts_tcp, {
		ETH_FIELDS(0x0800), IP4_FIELDS(6),
		PF(XFSM_PF_IPV4 | XFSM_PF_IP_OPTIONS | XFSM_PF_L4 | XFSM_PF_TCP),
		FV(XFSM_FW_L4_SPORT, 40000), FV(XFSM_FW_L4_DPORT, 443),
		FV(XFSM_FW_TCP_SPORT, 40000), FV(XFSM_FW_TCP_DPORT, 443),
		FV(XFSM_FW_TCP_FLAGS, 0xe9), TCP_NUMBERS(0) } },
	{ "ipv4 first fragment keeps L4", b_ip4_frag_first, {
		ETH_FIELDS(0x0800), IP4_FIELDS(17),
		PF(XFSM_PF_IPV4 | XFSM_PF_FRAG | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_IP_FRAG, XFSM_FRAG_IS | XFSM_FRAG_FIRST | XFSM_FRAG_MORE),
		FV(XFSM_FW_L4_SPORT, 7), FV(XFSM_FW_L4_DPORT, 9),
		FV(XFSM_FW_UDP_SPORT, 7), FV(XFSM_FW_UDP_DPORT, 9) } },
	{ "ipv4 non-first fragment has no L4", b_ip4_frag_later, {
		ETH_FIELDS(0x0800), IP4_FIELDS(17),
		PF(XFSM_PF_IPV4 | XFSM_PF_FRAG | XFSM_PF_FRAG_LATER),
		FV(XFSM_FW_IP_FRAG, XFSM_FRAG_IS | XFSM_FRAG_MORE) } },
	{ "ipv4 last fragment, 2 bytes: not a truncated tcp", b_ip4_frag_last, {
		ETH_FIELDS(0x0800), IP4_FIELDS(6),
		PF(XFSM_PF_IPV4 | XFSM_PF_FRAG | XFSM_PF_FRAG_LATER),
		FV(XFSM_FW_IP_FRAG, XFSM_FRAG_IS) } },
	{ "ipv4 don't-fragment is not a fragment", b_ip4_df_udp, {
		ETH_FIELDS(0x0800), IP4_FIELDS(17),
		PF(XFSM_PF_IPV4 | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_L4_SPORT, 3), FV(XFSM_FW_L4_DPORT, 4),
		FV(XFSM_FW_UDP_SPORT, 3), FV(XFSM_FW_UDP_DPORT, 4) } },
	{ "802.1Q+802.1Q ipv6 udp", b_dot1q_dot1q_ip6_udp, {
		ETH_FIELDS(0x86dd), IP6_FIELDS(17),
		PF(XFSM_PF_VLAN | XFSM_PF_QINQ | XFSM_PF_IPV6 | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_VLAN_ID, 4094), FV(XFSM_FW_VLAN_INNER, 1), FV(XFSM_FW_VLAN_PCP, 7),
		FV(XFSM_FW_L4_SPORT, 5), FV(XFSM_FW_L4_DPORT, 6),
		FV(XFSM_FW_UDP_SPORT, 5), FV(XFSM_FW_UDP_DPORT, 6) } },
	{ "ipv6 hop-by-hop then AH: AH is the upper layer", b_ip6_ah, {
		ETH_FIELDS(0x86dd), IP6X_FIELDS(0, 51),
		PF(XFSM_PF_IPV6 | XFSM_PF_IP6_EXT) } },
	{ "ipv6 tcp, traffic class and flow label", b_ip6_tcp, {
		ETH_FIELDS(0x86dd), IP6_FIELDS(6),
		PF(XFSM_PF_IPV6 | XFSM_PF_L4 | XFSM_PF_TCP),
		FV(XFSM_FW_IP_DSCP, 0x2a), FV(XFSM_FW_IP_ECN, 2),
		FV(XFSM_FW_IP6_FLOW, 0xabcde),
		FV(XFSM_FW_L4_SPORT, 2000), FV(XFSM_FW_L4_DPORT, 22),
		FV(XFSM_FW_TCP_SPORT, 2000), FV(XFSM_FW_TCP_DPORT, 22),
		FV(XFSM_FW_TCP_FLAGS, TCPF_RST), FV(XFSM_FW_TCP_SEQ, 0xfedcba98),
		FV(XFSM_FW_TCP_ACK, 0x80000001), FV(XFSM_FW_TCP_WIN, 1000) } },
	{ "ipv6 hop-by-hop, routing, fragment, dest opts, udp", b_ip6_ext_udp, {
		ETH_FIELDS(0x86dd), IP6X_FIELDS(0, 17),
		PF(XFSM_PF_IPV6 | XFSM_PF_IP6_EXT | XFSM_PF_FRAG | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_IP_FRAG, XFSM_FRAG_IS | XFSM_FRAG_FIRST | XFSM_FRAG_MORE),
		FV(XFSM_FW_L4_SPORT, 1111), FV(XFSM_FW_L4_DPORT, 2222),
		FV(XFSM_FW_UDP_SPORT, 1111), FV(XFSM_FW_UDP_DPORT, 2222) } },
	{ "ipv6 non-first fragment has no L4", b_ip6_frag_later, {
		ETH_FIELDS(0x86dd), IP6X_FIELDS(44, 17),
		PF(XFSM_PF_IPV6 | XFSM_PF_IP6_EXT | XFSM_PF_FRAG | XFSM_PF_FRAG_LATER),
		FV(XFSM_FW_IP_FRAG, XFSM_FRAG_IS) } },
	{ "ipv6 six extension headers (the limit), icmpv6", b_ip6_six_ext, {
		ETH_FIELDS(0x86dd), IP6X_FIELDS(0, 58),
		PF(XFSM_PF_IPV6 | XFSM_PF_IP6_EXT | XFSM_PF_L4 | XFSM_PF_ICMP6),
		FV(XFSM_FW_ICMP6_TYPE, 128) } },
	{ "ipv6 icmpv6", b_ip6_icmp6, {
		ETH_FIELDS(0x86dd), IP6_FIELDS(58),
		PF(XFSM_PF_IPV6 | XFSM_PF_L4 | XFSM_PF_ICMP6),
		FV(XFSM_FW_ICMP6_TYPE, 135) } },
	{ "other ethertype: only Ethernet fields", b_other_ethertype, {
		ETH_FIELDS(0x88cc) } },
	{ "other ip protocol: no L4", b_ip4_gre, {
		ETH_FIELDS(0x0800), IP4_FIELDS(47), PF(XFSM_PF_IPV4) } },
	{ "trailing bytes after ipv6 payload length", b_ip6_padded, {
		ETH_FIELDS(0x86dd), IP6_FIELDS(58),
		PF(XFSM_PF_IPV6 | XFSM_PF_L4 | XFSM_PF_ICMP6),
		FV(XFSM_FW_ICMP6_TYPE, 1), FV(XFSM_FW_ICMP6_CODE, 4) } },
	{ "ethernet padding after ip total length", b_ip4_padded, {
		ETH_FIELDS(0x0800), IP4_FIELDS(17),
		PF(XFSM_PF_IPV4 | XFSM_PF_L4 | XFSM_PF_UDP),
		FV(XFSM_FW_L4_SPORT, 1), FV(XFSM_FW_L4_DPORT, 2),
		FV(XFSM_FW_UDP_SPORT, 1), FV(XFSM_FW_UDP_DPORT, 2) } },
};
const size_t n_parse_cases = ARRAY_SIZE(parse_cases);

/* ---- malformed frames ------------------------------------------------------ */

static void m_trunc_eth(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0x0800);
	pkt_finish(p);
	pkt_truncate(p, 10);
}

static void m_trunc_vlan(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 10);
	pkt_finish(p);
	pkt_truncate(p, 16);
}

static void m_trunc_inner_vlan(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021AD, 10);
	pkt_vlan(p, ETHERTYPE_8021Q, 20);
	pkt_finish(p);
	pkt_truncate(p, 20);
}

static void m_vlan_depth(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021AD, 10);
	pkt_vlan(p, ETHERTYPE_8021Q, 20);
	pkt_vlan(p, ETHERTYPE_8021Q, 30);
	ip4(p, 0, 0, 0, 0);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
}

static void m_trunc_arp(struct pkt *p)
{
	b_arp(p);
	pkt_truncate(p, 14 + 20);
}

static void m_trunc_ip4(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_truncate(p, 14 + 19);
}

static void m_ip4_version(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_ip_version(p, 6);
}

static void m_ip4_ihl_small(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_ip4_ihl(p, 4);
}

static void m_ip4_ihl_zero(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_ip4_ihl(p, 0);
}

static void m_ip4_ihl_beyond(struct pkt *p)
{
	/* IHL 15 (60 bytes) in a frame with 20 bytes of IP and nothing after */
	pkt_eth(p, H2, H1, 0);
	ip4(p, 0, 0, 0, 253);
	pkt_finish(p);
	pkt_set_ip4_ihl(p, 15);
}

static void m_ip4_totlen_short(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_ip4_totlen(p, 19);
}

static void m_ip4_totlen_long(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_ip4_totlen(p, p->len - 14 + 1);
}

static void m_trunc_ip6(struct pkt *p)
{
	b_ip6_tcp(p);
	pkt_truncate(p, 14 + 39);
}

static void m_ip6_version(struct pkt *p)
{
	b_ip6_tcp(p);
	pkt_set_ip_version(p, 4);
}

static void m_ip6_paylen(struct pkt *p)
{
	b_ip6_tcp(p);
	pkt_set_ip6_paylen(p, p->len - 14 - 40 + 1);
}

static void m_trunc_ip6_ext(struct pkt *p)
{
	/* A routing header claiming 24 bytes with 12 in the frame. */
	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_ROUTING_, 2, 0);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
	pkt_truncate_fix(p, 14 + 40 + 12);
}

static void m_ip6_ext_depth(struct pkt *p)
{
	int i;

	pkt_eth(p, H2, H1, 0);
	ip6(p, 0, 0);
	pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
	for (i = 0; i < 6; i++)
		pkt_ip6_ext(p, IPPROTO_DSTOPTS_, 0, 0);
	pkt_udp(p, 1, 2);
	pkt_finish(p);
}

static void m_trunc_tcp(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_truncate_fix(p, 14 + 20 + 19);
}

static void m_tcp_doff_small(struct pkt *p)
{
	b_ip4_tcp(p);
	pkt_set_tcp_doff(p, 4);
}

static void m_tcp_doff_beyond(struct pkt *p)
{
	b_ip4_tcp(p);		/* 20 bytes of TCP + 10 of data */
	pkt_set_tcp_doff(p, 15);
}

static void m_trunc_udp(struct pkt *p)
{
	b_vlan_ip4_udp(p);
	pkt_truncate_fix(p, 18 + 20 + 7);
}

static void m_trunc_udp6(struct pkt *p)
{
	b_ip6_ext_udp(p);
	pkt_truncate_fix(p, pkt_off(p, PL_UDP, 0) + 5);
}

static void m_trunc_icmp(struct pkt *p)
{
	b_qinq_ip4_icmp(p);
	pkt_truncate_fix(p, pkt_off(p, PL_ICMP, 0) + 1);
}

static void m_trunc_icmp6(struct pkt *p)
{
	b_ip6_icmp6(p);
	pkt_truncate_fix(p, pkt_off(p, PL_ICMP6, 0) + 1);
}

static void m_tcp_beyond_totlen(struct pkt *p)
{
	/* the frame holds the whole TCP header, the datagram only 8 bytes of it */
	b_ip4_tcp(p);
	pkt_set_ip4_totlen(p, 20 + 8);
}

static void m_udp_beyond_paylen(struct pkt *p)
{
	b_ip6_ext_udp(p);
	pkt_set_ip6_paylen(p, pkt_off(p, PL_UDP, 0) - 14 - 40 + 4);
}

const struct malformed_case malformed_cases[] = {
	{ "frame shorter than ethernet", m_trunc_eth, EXC(exc_trunc_eth) },
	{ "802.1Q tag cut short", m_trunc_vlan, EXC(exc_trunc_vlan) },
	{ "inner tag cut short", m_trunc_inner_vlan, EXC(exc_trunc_vlan) },
	{ "three vlan tags", m_vlan_depth, EXC(exc_vlan_depth) },
	{ "arp cut short", m_trunc_arp, EXC(exc_trunc_arp) },
	{ "ipv4 header cut short", m_trunc_ip4, EXC(exc_trunc_ip4) },
	{ "ipv4 ethertype, version 6", m_ip4_version, EXC(exc_ip4_version) },
	{ "ipv4 ihl 4", m_ip4_ihl_small, EXC(exc_ip4_ihl) },
	{ "ipv4 ihl 0", m_ip4_ihl_zero, EXC(exc_ip4_ihl) },
	{ "ipv4 options beyond the frame", m_ip4_ihl_beyond, EXC(exc_ip4_ihl) },
	{ "ipv4 total length below header", m_ip4_totlen_short, EXC(exc_ip4_totlen) },
	{ "ipv4 total length beyond frame", m_ip4_totlen_long, EXC(exc_ip4_totlen) },
	{ "ipv6 header cut short", m_trunc_ip6, EXC(exc_trunc_ip6) },
	{ "ipv6 ethertype, version 4", m_ip6_version, EXC(exc_ip6_version) },
	{ "ipv6 payload length beyond frame", m_ip6_paylen, EXC(exc_ip6_paylen) },
	{ "ipv6 extension header cut short", m_trunc_ip6_ext, EXC(exc_trunc_ip6_ext) },
	{ "seven ipv6 extension headers", m_ip6_ext_depth, EXC(exc_ip6_ext_depth) },
	{ "tcp header cut short", m_trunc_tcp, EXC(exc_trunc_tcp) },
	{ "tcp data offset 4", m_tcp_doff_small, EXC(exc_tcp_doff) },
	{ "tcp data offset beyond frame", m_tcp_doff_beyond, EXC(exc_tcp_doff) },
	{ "udp header cut short", m_trunc_udp, EXC(exc_trunc_udp) },
	{ "tcp header beyond ipv4 total length", m_tcp_beyond_totlen, EXC(exc_trunc_tcp) },
	{ "udp header beyond ipv6 payload length", m_udp_beyond_paylen, EXC(exc_trunc_udp) },
	{ "udp after ipv6 extensions cut short", m_trunc_udp6, EXC(exc_trunc_udp) },
	{ "icmp cut short", m_trunc_icmp, EXC(exc_trunc_icmp) },
	{ "icmpv6 cut short", m_trunc_icmp6, EXC(exc_trunc_icmp6) },
	/* Not malformed: must pass through the application. */
	{ "ethernet padding", b_ip4_padded, NULL, 0 },
	{ "ipv4 last fragment shorter than tcp", b_ip4_frag_last, NULL, 0 },
	{ "six ipv6 extension headers", b_ip6_six_ext, NULL, 0 },
	{ "unknown ethertype", b_other_ethertype, NULL, 0 },
};
const size_t n_malformed_cases = ARRAY_SIZE(malformed_cases);

/* Frames for the truncation sweeps. */

void sweep_qinq_ip4_tcp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021AD, 10);
	pkt_vlan(p, ETHERTYPE_8021Q, 20);
	ip4(p, 0, 0, 2, 0);
	pkt_tcp(p, 1, 2, TCPF_SYN, 3);
	pkt_raw(p, 4, 0x77);
	pkt_finish(p);
}

void sweep_ip6_ext_udp(struct pkt *p)
{
	b_ip6_ext_udp(p);
}

void sweep_vlan_arp(struct pkt *p)
{
	pkt_eth(p, H2, H1, 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 10);
	pkt_arp(p, 1, H1, A, 0, B);
	pkt_finish(p);
}

void sweep_ip4_icmp(struct pkt *p)
{
	b_qinq_ip4_icmp(p);
}

void sweep_ip6_icmp6(struct pkt *p)
{
	b_ip6_icmp6(p);
}
