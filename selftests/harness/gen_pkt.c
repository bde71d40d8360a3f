// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Random and mutated frames for a generated application (gen.h): most are
 * well-formed and carry the constants the application compares fields to
 * (so rules match and flows repeat), the rest take the parser's bail
 * paths: cut short anywhere, three VLAN tags, IPv4 options, IPv6
 * extension headers, fragments, lengths that disagree with the frame,
 * other ethertypes and versions, random bytes.  Addresses stay in the
 * test ranges (198.18.0.0/15, 2001:2::/48).
 */
#include <string.h>

#include "gen.h"

static uint64_t pick(struct xg_rng *r, const struct xg_app *a, enum xg_fid f,
		     uint64_t dflt)
{
	if (a->n_consts[f] && xg_chance(r, 75))
		return a->consts[f][xg_below(r, a->n_consts[f])];
	return dflt;
}

static void ip6_of(uint8_t out[16], uint64_t host)
{
	test_ip6(out, (uint16_t)host);
}

void xg_packet(struct xg_rng *r, const struct xg_app *a, struct pkt *p,
	       uint32_t *ifindex, bool *wait)
{
	unsigned int l3, l4, nvlan = 0, i, mut;
	uint64_t smac, dmac;
	uint8_t proto;

	*ifindex = xg_chance(r, 60) ? 1 : 0;
	*wait = a->short_tmo && xg_chance(r, 3);
	pkt_init(p);
	if (xg_chance(r, 2)) {	/* pure noise, any length */
		p->len = xg_below(r, 80);
		for (i = 0; i < p->len; i++)
			p->data[i] = (uint8_t)xg_below(r, 256);
		return;
	}
	dmac = pick(r, a, XG_ETH_DST, TEST_MAC(1 + xg_below(r, 6)));
	smac = pick(r, a, XG_ETH_SRC, TEST_MAC(1 + xg_below(r, 6)));
	/* which network layer */
	l3 = xg_below(r, 100);
	if (a->wants_arp && l3 < 25)
		l3 = 2;
	else if (a->wants_ip6 && l3 < 60)
		l3 = 1;
	else if (l3 < 60)
		l3 = 0;
	else if (l3 < 80)
		l3 = 1;
	else if (l3 < 92)
		l3 = 2;
	else
		l3 = 3;
	pkt_eth(p, dmac, smac, l3 == 3 ? (uint16_t)pick(r, a, XG_ETH_TYPE, 0x88b5) : 0);
	if (xg_chance(r, a->wants_vlan ? 60 : 15))
		nvlan = 1 + xg_below(r, xg_chance(r, 5) ? 3 : 2);
	for (i = 0; i < nvlan; i++)
		pkt_vlan(p, i == 0 && nvlan > 1 ? ETHERTYPE_8021AD : ETHERTYPE_8021Q,
			 (uint16_t)(pick(r, a, i ? XG_VLAN_INNER : XG_VLAN_ID, 1 + xg_below(r, 4)) |
				    pick(r, a, XG_VLAN_PCP, 0) << 13));
	if (l3 == 3) {
		pkt_raw(p, xg_below(r, 64), 0x5a);
		pkt_finish(p);
		goto mutate;
	}
	if (l3 == 2) {
		pkt_arp(p, (uint16_t)pick(r, a, XG_ARP_OP, 1 + xg_below(r, 2)), smac,
			(uint32_t)pick(r, a, XG_ARP_SPA, TEST_IP4(1 + xg_below(r, 6))),
			xg_chance(r, 50) ? 0 : dmac,
			(uint32_t)pick(r, a, XG_ARP_TPA, TEST_IP4(1 + xg_below(r, 6))));
		pkt_finish(p);
		goto mutate;
	}
	/* transport: the application's protocols first */
	proto = (uint8_t)pick(r, a, XG_IP_PROTO, (uint64_t[]){ 6, 17, 1 }[xg_below(r, 3)]);
	if (l3 == 1 && proto == 1)
		proto = 58;
	if (l3 == 0 && proto == 58)
		proto = 1;
	if (a->wants_icmp && l3 == 0 && xg_chance(r, 30))
		proto = 1;
	mut = xg_below(r, 100);
	if (l3 == 0) {
		struct ip4_args ia = {
			.src = (uint32_t)pick(r, a, XG_IP_SRC, TEST_IP4(1 + xg_below(r, 6))),
			.dst = (uint32_t)pick(r, a, XG_IP_DST, TEST_IP4(1 + xg_below(r, 6))),
			.tos = (uint8_t)(pick(r, a, XG_IP_DSCP, xg_below(r, 64)) << 2 |
					 pick(r, a, XG_IP_ECN, xg_below(r, 4))),
			.ttl = (uint8_t)pick(r, a, XG_IP_TTL, 64),
			.id = (uint16_t)pick(r, a, XG_IP_ID, xg_below(r, 9)),
		};

		if (mut < 6)
			ia.opt_words = 1 + xg_below(r, 3);
		else if (mut < 10)	/* a first or a later fragment */
			ia.frag = xg_chance(r, 50) ? IP4_MF : (uint16_t)(IP4_MF * xg_below(r, 2) | (1 + xg_below(r, 8)));
		if (xg_chance(r, 5))
			ia.proto = (uint8_t)(xg_chance(r, 50) ? 47 : 132);
		pkt_ip4(p, &ia);
	} else {
		struct ip6_args ia = {
			.tclass = (uint8_t)(pick(r, a, XG_IP_DSCP, xg_below(r, 64)) << 2 |
					    pick(r, a, XG_IP_ECN, xg_below(r, 4))),
			.hlim = (uint8_t)pick(r, a, XG_IP_TTL, 64),
			.flow = (uint32_t)pick(r, a, XG_IP6_FLOW, xg_below(r, 9)),
		};

		ip6_of(ia.src, pick(r, a, XG_IP6_SRC, 1 + xg_below(r, 6)));
		ip6_of(ia.dst, pick(r, a, XG_IP6_DST, 1 + xg_below(r, 6)));
		pkt_ip6(p, &ia);
		if (mut < 12) {	/* extension headers, a fragment header among them */
			unsigned int n = 1 + xg_below(r, xg_chance(r, 10) ? 7 : 3);

			for (i = 0; i < n; i++) {
				static const uint8_t ext[] = { IPPROTO_HOPOPTS_, IPPROTO_ROUTING_,
							       IPPROTO_DSTOPTS_, IPPROTO_FRAGMENT_ };
				uint8_t t = ext[xg_below(r, 4)];

				pkt_ip6_ext(p, t, (uint8_t)xg_below(r, 2),
					    t == IPPROTO_FRAGMENT_ ? (uint16_t)(xg_below(r, 3) << 3 | xg_below(r, 2)) : 0);
			}
		}
	}
	l4 = proto;
	switch (l4) {
	case 6: {
		uint8_t fl = (uint8_t)pick(r, a, XG_TCP_FLAGS, (uint64_t[]){ 0x02, 0x10, 0x12, 0x11, 0x04 }[xg_below(r, 5)]);

		pkt_tcp(p, (uint16_t)pick(r, a, XG_SPORT, 1024 + xg_below(r, 4)),
			(uint16_t)pick(r, a, XG_DPORT, (uint64_t[]){ 22, 80, 53 }[xg_below(r, 3)]), fl,
			mut >= 12 && mut < 16 ? (uint8_t)(1 + xg_below(r, 3)) : 0);
		break;
	}
	case 17:
		pkt_udp(p, (uint16_t)pick(r, a, XG_SPORT, 1024 + xg_below(r, 4)),
			(uint16_t)pick(r, a, XG_DPORT, (uint64_t[]){ 53, 80, 1000 }[xg_below(r, 3)]));
		break;
	case 1:
		pkt_icmp(p, (uint8_t)pick(r, a, XG_ICMP_TYPE, 8), (uint8_t)pick(r, a, XG_ICMP_CODE, 0));
		break;
	case 58:
		pkt_icmp6(p, (uint8_t)pick(r, a, XG_ICMP6_TYPE, 128), (uint8_t)pick(r, a, XG_ICMP6_CODE, 0));
		break;
	default:
		break;
	}
	pkt_raw(p, a->n_consts[XG_META_LEN] && xg_chance(r, 40) ? xg_below(r, 40) : xg_below(r, 48), 0xa5);
	pkt_finish(p);
	if (l4 == 6 && p->len >= 54) {
		int off = pkt_off(p, PL_TCP, 0);

		if (off >= 0) {
			pkt_put32(p, off + 4, (uint32_t)pick(r, a, XG_TCP_SEQ, xg_below(r, 3)));
			pkt_put32(p, off + 8, (uint32_t)pick(r, a, XG_TCP_ACK, xg_below(r, 3)));
			pkt_put16(p, off + 14, (uint16_t)pick(r, a, XG_TCP_WIN, 512));
		}
	}
mutate:
	if (!xg_chance(r, 22))
		return;
	switch (xg_below(r, 8)) {
	case 0: case 1:
		pkt_truncate(p, xg_below(r, p->len + 1));
		break;
	case 2:
		if (p->len > 14)
			pkt_truncate_fix(p, 14 + xg_below(r, p->len - 14));
		break;
	case 3:
		if (pkt_off(p, PL_IP4, 0) >= 0)
			pkt_set_ip4_totlen(p, (uint16_t)xg_below(r, 2 * p->len));
		else if (pkt_off(p, PL_IP6, 0) >= 0)
			pkt_set_ip6_paylen(p, (uint16_t)xg_below(r, 2 * p->len));
		break;
	case 4:
		if (pkt_off(p, PL_IP4, 0) >= 0)
			pkt_set_ip4_ihl(p, (uint8_t)xg_below(r, 16));
		break;
	case 5:
		if (pkt_off(p, PL_IP4, 0) >= 0 || pkt_off(p, PL_IP6, 0) >= 0)
			pkt_set_ip_version(p, (uint8_t)xg_below(r, 16));
		break;
	case 6:
		if (pkt_off(p, PL_TCP, 0) >= 0)
			pkt_set_tcp_doff(p, (uint8_t)xg_below(r, 16));
		break;
	default:	/* flip a byte */
		if (p->len)
			p->data[xg_below(r, p->len)] ^= (uint8_t)(1 + xg_below(r, 255));
		break;
	}
}
