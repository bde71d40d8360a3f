/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Action golden scenarios (docs/datapath.md, "Actions"): each rewrite with
 * its expected output bytes (the builder recomputes every checksum from
 * scratch, so equal bytes prove the incremental update), verdicts, output
 * to ports, count, set_mark, and the statistics they move.
 */
#include <string.h>

#include "golden.h"

#define NEW_SRC		0x02aabbccddeeULL
#define NEW_DST		0x02112233445fULL

#define UDP4(s, dp)	{ .l3 = PS_IP4, .l4 = PS_UDP, .src = (s), .dst = 9, \
			  .sport = 40000, .dport = (dp) }

/* One stage, rules selected by l4.dport, each with its action list. */
struct act_rule {
	__u16	dport;		/* 0: any */
	__u8	n;
	struct { __u8 type; __u16 arg; struct xfsm_operand o; } a[XFSM_MAX_ACTIONS];
};

static int act_app(struct xfsm_image *img, const struct act_rule *r, size_t n)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	size_t i;
	int err = 0, k;

	app_init(img, 1, XFSM_VERDICT_DROP);
	app_match_words(img, 0, words, 1);
	for (i = 0; i < n; i++) {
		rb_init(&b, r[i].dport ? 10 : 1);
		if (r[i].dport)
			rb_match(&b, 0, r[i].dport, 0xffff);
		for (k = 0; k < r[i].n; k++)
			rb_act(&b, r[i].a[k].type, r[i].a[k].arg, r[i].a[k].o);
		err = err ?: rb_add(img, 0, &b);
	}
	return err;
}

#define A1(t, ...)	{ (t), 0, __VA_ARGS__ }
#define CONST(v)	{ .kind = XFSM_OPND_CONST, .value = (v) }
#define NOOP		{ 0 }
#define TTL_FIELD	{ .kind = XFSM_OPND_FIELD, .index = XFSM_FW_IP_TTL, .width = 1 }
#define GLOBAL4		{ .kind = XFSM_OPND_GLOBAL_REG, .index = 4 }

/* Literal frames computed outside this harness (Ethernet / IPv4 id 0xbeef /
 * UDP 7000 -> 1, payload "xfsm"), to check the rewrites and the builder
 * against bytes the builder did not make. */
const uint8_t lit_udp_ttl64[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0xbe, 0xef, 0x00, 0x00, 0x40, 0x11, 0x2f, 0xaf,
	0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x09,
	0x1b, 0x58, 0x00, 0x01, 0x00, 0x0c, 0x6c, 0x7a, 0x78, 0x66, 0x73, 0x6d,
};
const size_t lit_udp_ttl64_len = sizeof(lit_udp_ttl64);

static const uint8_t lit_udp_ttl63[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0xbe, 0xef, 0x00, 0x00, 0x3f, 0x11, 0x30, 0xaf,
	0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x09,
	0x1b, 0x58, 0x00, 0x01, 0x00, 0x0c, 0x6c, 0x7a, 0x78, 0x66, 0x73, 0x6d,
};

static const uint8_t lit_udp_dscp46[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0xb8, 0x00, 0x20, 0xbe, 0xef, 0x00, 0x00, 0x40, 0x11, 0x2e, 0xf7,
	0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x09,
	0x1b, 0x58, 0x00, 0x01, 0x00, 0x0c, 0x6c, 0x7a, 0x78, 0x66, 0x73, 0x6d,
};

/* ---- Ethernet rewrites ------------------------------------------------- */

static int app_eth(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 0, 3, { A1(XFSM_ACT_SET_ETH_SRC, CONST(NEW_SRC)),
			  A1(XFSM_ACT_SET_ETH_DST, CONST(NEW_DST)),
			  A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void in_eth4(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 9);

	s.payload = 18;
	pkt_from_spec(p, &s);
}

static void out_eth4(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 9);

	s.payload = 18;
	s.smac = NEW_SRC;
	s.dmac = NEW_DST;
	pkt_from_spec(p, &s);
}

static void in_eth6_vlan(struct pkt *p)
{
	struct pkt_spec s = { .l3 = PS_IP6, .l4 = PS_TCP, .src = 1, .dst = 2,
			      .sport = 1, .dport = 2, .vlan = 42 };

	pkt_from_spec(p, &s);
}

static void out_eth6_vlan(struct pkt *p)
{
	struct pkt_spec s = { .l3 = PS_IP6, .l4 = PS_TCP, .src = 1, .dst = 2,
			      .sport = 1, .dport = 2, .vlan = 42,
			      .smac = NEW_SRC, .dmac = NEW_DST };

	pkt_from_spec(p, &s);
}

static const struct golden eth_steps[] = {
	{ "ipv4 frame", .build = in_eth4, .build_out = out_eth4, .verdict = XDP_TX,
	  .stats = { ST(act_set_eth_src, 1), ST(act_set_eth_dst, 1), ST(act_tx, 1) } },
	{ "vlan ipv6 frame", .build = in_eth6_vlan, .build_out = out_eth6_vlan,
	  .verdict = XDP_TX, .stats = { ST(act_set_eth_src, 1), ST(act_set_eth_dst, 1) } },
};

/* ---- DSCP / ECN ---------------------------------------------------------- */

static int app_dscp_ecn(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 2, { A1(XFSM_ACT_SET_DSCP, CONST(46)), A1(XFSM_ACT_TX, NOOP) } },
		{ 2, 2, { A1(XFSM_ACT_SET_ECN, CONST(3)), A1(XFSM_ACT_TX, NOOP) } },
		{ 3, 3, { A1(XFSM_ACT_SET_DSCP, CONST(10)), A1(XFSM_ACT_SET_ECN, CONST(2)),
			  A1(XFSM_ACT_TX, NOOP) } },
		{ 4, 2, { A1(XFSM_ACT_SET_DSCP, TTL_FIELD), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void ip4_tos_id(struct pkt *p, uint16_t dport, uint8_t tos, bool vlan_opts,
		       uint8_t ttl, uint16_t id)
{
	struct ip4_args a = { .src = TEST_IP4(1), .dst = TEST_IP4(9), .tos = tos,
			      .ttl = ttl, .id = id, .frag = IP4_DF,
			      .opt_words = vlan_opts ? 2 : 0 };

	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	if (vlan_opts) {
		pkt_vlan(p, ETHERTYPE_8021AD, 7);
		pkt_vlan(p, ETHERTYPE_8021Q, 8);
	}
	pkt_ip4(p, &a);
	pkt_udp(p, 5000, dport);
	pkt_raw(p, 11, 0x5a);
	pkt_finish(p);
}

static void ip4_tos(struct pkt *p, uint16_t dport, uint8_t tos, bool vlan_opts, uint8_t ttl)
{
	ip4_tos_id(p, dport, tos, vlan_opts, ttl, 0x1234);
}

static void ip6_tc(struct pkt *p, uint16_t dport, uint8_t tclass, uint8_t hlim)
{
	struct ip6_args a = { .tclass = tclass, .hlim = hlim, .flow = 0x12345 };

	test_ip6(a.src, 1);
	test_ip6(a.dst, 9);
	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_ip6(p, &a);
	pkt_udp(p, 5000, dport);
	pkt_raw(p, 11, 0x5a);
	pkt_finish(p);
}

static void in_dscp4(struct pkt *p) { ip4_tos(p, 1, 0x01, false, 64); }
static void out_dscp4(struct pkt *p) { ip4_tos(p, 1, 46 << 2 | 1, false, 64); }
static void in_dscp4_opts(struct pkt *p) { ip4_tos(p, 1, 0xff, true, 64); }
static void out_dscp4_opts(struct pkt *p) { ip4_tos(p, 1, 46 << 2 | 3, true, 64); }
static void in_ecn4(struct pkt *p) { ip4_tos(p, 2, 0xb8, false, 64); }
static void out_ecn4(struct pkt *p) { ip4_tos(p, 2, 0xbb, false, 64); }
static void in_both4(struct pkt *p) { ip4_tos(p, 3, 0xfd, false, 64); }
static void out_both4(struct pkt *p) { ip4_tos(p, 3, 10 << 2 | 2, false, 64); }
static void in_dscp_ttl4(struct pkt *p) { ip4_tos(p, 4, 0, false, 33); }
static void out_dscp_ttl4(struct pkt *p) { ip4_tos(p, 4, 33 << 2, false, 33); }
/* id 44511: after DSCP 46 the full recomputation gives checksum 0x0000
 * (an incremental update must not leave 0xffff). */
static void in_dscp4_c0(struct pkt *p) { ip4_tos_id(p, 1, 0x01, false, 64, 44511); }
static void out_dscp4_c0(struct pkt *p) { ip4_tos_id(p, 1, 46 << 2 | 1, false, 64, 44511); }
static void in_dscp6(struct pkt *p) { ip6_tc(p, 1, 0x01, 64); }
static void out_dscp6(struct pkt *p) { ip6_tc(p, 1, 46 << 2 | 1, 64); }
static void in_ecn6(struct pkt *p) { ip6_tc(p, 2, 0xfc, 64); }
static void out_ecn6(struct pkt *p) { ip6_tc(p, 2, 0xff, 64); }
static void in_both6(struct pkt *p) { ip6_tc(p, 3, 0xff, 64); }
static void out_both6(struct pkt *p) { ip6_tc(p, 3, 10 << 2 | 2, 64); }

static bool check_ip4_csum(struct xt *t, const struct golden *g,
			   const struct pkt *in, const struct xt_result *r)
{
	int off = pkt_off(in, PL_IP4, 0);

	(void)t; (void)g;
	return ASSERT_TRUE(off >= 0 && ip4_csum_ok(r->data, r->len, off),
			   "output IPv4 header checksum verifies");
}

static const struct golden dscp_ecn_steps[] = {
	{ "literal frame: set_dscp 46", LITERAL(lit_udp_ttl64), LITERAL_OUT(lit_udp_dscp46),
	  .verdict = XDP_TX },
	{ "ipv4 set_dscp 46", .build = in_dscp4, .build_out = out_dscp4, .verdict = XDP_TX,
	  .stats = { ST(act_set_dscp, 1) }, .check = check_ip4_csum },
	{ "qinq ipv4 with options set_dscp 46", .build = in_dscp4_opts,
	  .build_out = out_dscp4_opts, .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 set_ecn 3", .build = in_ecn4, .build_out = out_ecn4, .verdict = XDP_TX,
	  .stats = { ST(act_set_ecn, 1) }, .check = check_ip4_csum },
	{ "ipv4 set_dscp 10 + set_ecn 2", .build = in_both4, .build_out = out_both4,
	  .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 set_dscp from a field (ttl 33)", .build = in_dscp_ttl4,
	  .build_out = out_dscp_ttl4, .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 set_dscp 46, new checksum 0x0000", .build = in_dscp4_c0,
	  .build_out = out_dscp4_c0, .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv6 set_dscp 46", .build = in_dscp6, .build_out = out_dscp6, .verdict = XDP_TX },
	{ "ipv6 set_ecn 3", .build = in_ecn6, .build_out = out_ecn6, .verdict = XDP_TX },
	{ "ipv6 set_dscp 10 + set_ecn 2", .build = in_both6, .build_out = out_both6,
	  .verdict = XDP_TX },
};

/* ---- dec_ttl --------------------------------------------------------------- */

static int app_dec_ttl(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 0, 2, { A1(XFSM_ACT_DEC_TTL, NOOP), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void in_ttl64(struct pkt *p) { ip4_tos(p, 1, 0, false, 64); }
static void out_ttl63(struct pkt *p) { ip4_tos(p, 1, 0, false, 63); }
static void in_ttl2(struct pkt *p) { ip4_tos(p, 1, 0x10, true, 2); }
static void out_ttl1(struct pkt *p) { ip4_tos(p, 1, 0x10, true, 1); }
static void in_ttl1(struct pkt *p) { ip4_tos(p, 1, 0, false, 1); }
static void in_ttl0(struct pkt *p) { ip4_tos(p, 1, 0, false, 0); }
static void in_ttl255(struct pkt *p) { ip4_tos(p, 1, 0, false, 255); }
static void out_ttl254(struct pkt *p) { ip4_tos(p, 1, 0, false, 254); }
static void in_ttl64_c0(struct pkt *p) { ip4_tos_id(p, 1, 0, false, 64, 44951); }
static void out_ttl63_c0(struct pkt *p) { ip4_tos_id(p, 1, 0, false, 63, 44951); }
static void in_hlim64(struct pkt *p) { ip6_tc(p, 1, 0, 64); }
static void out_hlim63(struct pkt *p) { ip6_tc(p, 1, 0, 63); }
static void in_hlim1(struct pkt *p) { ip6_tc(p, 1, 0, 1); }

static void in_arp(struct pkt *p)
{
	pkt_eth(p, 0xffffffffffffULL, TEST_MAC(1), 0);
	pkt_arp(p, 1, TEST_MAC(1), TEST_IP4(1), 0, TEST_IP4(9));
	pkt_finish(p);
}

static const struct golden dec_ttl_steps[] = {
	{ "literal frame: ttl 64 -> 63", LITERAL(lit_udp_ttl64), LITERAL_OUT(lit_udp_ttl63),
	  .verdict = XDP_TX },
	{ "ipv4 ttl 64 -> 63", .build = in_ttl64, .build_out = out_ttl63, .verdict = XDP_TX,
	  .stats = { ST(act_dec_ttl, 1) }, .check = check_ip4_csum },
	{ "ipv4 ttl 64 -> 63, new checksum 0x0000", .build = in_ttl64_c0,
	  .build_out = out_ttl63_c0, .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 ttl 255 -> 254", .build = in_ttl255, .build_out = out_ttl254,
	  .verdict = XDP_TX, .check = check_ip4_csum },
	{ "qinq ipv4 options ttl 2 -> 1", .build = in_ttl2, .build_out = out_ttl1,
	  .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 ttl 1: to the stack", .build = in_ttl1, .verdict = XDP_PASS,
	  .stats = { ST(exc_ttl_expired, 1) } },
	{ "ipv4 ttl 0: to the stack", .build = in_ttl0, .verdict = XDP_PASS,
	  .stats = { ST(exc_ttl_expired, 1) } },
	{ "ipv6 hop limit 64 -> 63", .build = in_hlim64, .build_out = out_hlim63,
	  .verdict = XDP_TX, .stats = { ST(act_dec_ttl, 1) } },
	{ "ipv6 hop limit 1: to the stack", .build = in_hlim1, .verdict = XDP_PASS,
	  .stats = { ST(exc_ttl_expired, 1) } },
	{ "arp: no ttl, rewrite skipped", .build = in_arp, .verdict = XDP_TX,
	  .stats = { ST(exc_rewrite_failed, 1) } },
};

/* ---- set_ttl --------------------------------------------------------------- */

#define DSCP_FIELD	{ .kind = XFSM_OPND_FIELD, .index = XFSM_FW_IP_DSCP, .width = 1 }

static int app_set_ttl(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 2, { A1(XFSM_ACT_SET_TTL, CONST(5)), A1(XFSM_ACT_TX, NOOP) } },
		{ 2, 2, { A1(XFSM_ACT_SET_TTL, CONST(255)), A1(XFSM_ACT_TX, NOOP) } },
		{ 3, 2, { A1(XFSM_ACT_SET_TTL, DSCP_FIELD), A1(XFSM_ACT_TX, NOOP) } },
		{ 0, 2, { A1(XFSM_ACT_SET_TTL, CONST(5)), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void in_st64(struct pkt *p) { ip4_tos(p, 1, 0, false, 64); }
static void out_st5(struct pkt *p) { ip4_tos(p, 1, 0, false, 5); }
static void in_st1(struct pkt *p) { ip4_tos(p, 1, 0, false, 1); }
static void in_st0(struct pkt *p) { ip4_tos(p, 2, 0, false, 0); }
static void out_st255(struct pkt *p) { ip4_tos(p, 2, 0, false, 255); }
static void in_st_opts(struct pkt *p) { ip4_tos(p, 1, 0x10, true, 200); }
static void out_st_opts(struct pkt *p) { ip4_tos(p, 1, 0x10, true, 5); }
static void in_st_dscp(struct pkt *p) { ip4_tos(p, 3, 33 << 2, false, 64); }
static void out_st_dscp(struct pkt *p) { ip4_tos(p, 3, 33 << 2, false, 33); }
static void in_sh64(struct pkt *p) { ip6_tc(p, 1, 0, 64); }
static void out_sh5(struct pkt *p) { ip6_tc(p, 1, 0, 5); }
static void in_sh1(struct pkt *p) { ip6_tc(p, 2, 0, 1); }
static void out_sh255(struct pkt *p) { ip6_tc(p, 2, 0, 255); }

static const struct golden set_ttl_steps[] = {
	{ "ipv4 ttl 64 -> 5", .build = in_st64, .build_out = out_st5, .verdict = XDP_TX,
	  .stats = { ST(act_set_ttl, 1) }, .check = check_ip4_csum },
	{ "ipv4 ttl 1 -> 5 (set, not decremented: no expiry)", .build = in_st1,
	  .build_out = out_st5, .verdict = XDP_TX, .stats = { ST(act_set_ttl, 1) },
	  .check = check_ip4_csum },
	{ "ipv4 ttl 0 -> 255", .build = in_st0, .build_out = out_st255, .verdict = XDP_TX,
	  .check = check_ip4_csum },
	{ "qinq ipv4 with options ttl 200 -> 5", .build = in_st_opts, .build_out = out_st_opts,
	  .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv4 ttl from a field (dscp 33)", .build = in_st_dscp, .build_out = out_st_dscp,
	  .verdict = XDP_TX, .check = check_ip4_csum },
	{ "ipv6 hop limit 64 -> 5", .build = in_sh64, .build_out = out_sh5, .verdict = XDP_TX,
	  .stats = { ST(act_set_ttl, 1) } },
	{ "ipv6 hop limit 1 -> 255", .build = in_sh1, .build_out = out_sh255, .verdict = XDP_TX },
	{ "arp: no ttl, rewrite skipped", .build = in_arp, .verdict = XDP_TX,
	  .stats = { ST(exc_rewrite_failed, 1) } },
};

/* ---- NAT: set ip.src / ip.dst / l4.sport / l4.dport ------------------------ */

static int app_nat(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 2, { A1(XFSM_ACT_SET_IP_SRC, CONST(TEST_IP4(7))), A1(XFSM_ACT_TX, NOOP) } },
		{ 2, 3, { A1(XFSM_ACT_SET_IP_DST, CONST(TEST_IP4(8))),
			  A1(XFSM_ACT_SET_L4_DPORT, CONST(8080)), A1(XFSM_ACT_TX, NOOP) } },
		{ 3, 2, { A1(XFSM_ACT_SET_L4_SPORT, CONST(1234)), A1(XFSM_ACT_TX, NOOP) } },
		{ 0, 3, { A1(XFSM_ACT_SET_IP_SRC, CONST(TEST_IP4(7))),
			  A1(XFSM_ACT_SET_L4_SPORT, CONST(1)), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

/* An IPv4 frame: TCP, UDP (udp_csum0: sent without a checksum), ICMP, or
 * a later fragment (payload only). */
enum { N_TCP, N_UDP, N_ICMP, N_LATER };

static void nat4(struct pkt *p, int l4, uint32_t src, uint32_t dst, uint16_t sport,
		 uint16_t dport, bool udp_csum0)
{
	struct ip4_args a = { .src = src, .dst = dst, .ttl = 64, .id = 0x4321,
			      .frag = l4 == N_LATER ? 185 : IP4_DF,
			      .proto = l4 == N_LATER ? 17 : 0 };

	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_ip4(p, &a);
	if (l4 == N_TCP)
		pkt_tcp(p, sport, dport, 0x18, 0);
	else if (l4 == N_UDP)
		pkt_udp(p, sport, dport);
	else if (l4 == N_ICMP)
		pkt_icmp(p, 8, 0);
	pkt_raw(p, 13, 0x33);
	pkt_finish(p);
	if (udp_csum0) {
		int o = pkt_off(p, PL_UDP, 0);

		p->data[o + 6] = p->data[o + 7] = 0;
	}
}

static void nat6(struct pkt *p, bool tcp, uint16_t sport, uint16_t dport)
{
	struct ip6_args a = { .hlim = 64 };

	test_ip6(a.src, 1);
	test_ip6(a.dst, 9);
	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_ip6(p, &a);
	if (tcp)
		pkt_tcp(p, sport, dport, 0x10, 1);
	else
		pkt_udp(p, sport, dport);
	pkt_raw(p, 13, 0x33);
	pkt_finish(p);
}

static void in_snat_tcp(struct pkt *p) { nat4(p, N_TCP, TEST_IP4(1), TEST_IP4(9), 5000, 1, false); }
static void out_snat_tcp(struct pkt *p) { nat4(p, N_TCP, TEST_IP4(7), TEST_IP4(9), 5000, 1, false); }
static void in_dnat_udp(struct pkt *p) { nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(9), 5000, 2, false); }
static void out_dnat_udp(struct pkt *p) { nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(8), 5000, 8080, false); }
static void in_dnat_udp0(struct pkt *p) { nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(9), 5000, 2, true); }
static void out_dnat_udp0(struct pkt *p) { nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(8), 5000, 8080, true); }
static void in_dnat_tcp(struct pkt *p) { nat4(p, N_TCP, TEST_IP4(3), TEST_IP4(9), 6000, 2, false); }
static void out_dnat_tcp(struct pkt *p) { nat4(p, N_TCP, TEST_IP4(3), TEST_IP4(8), 6000, 8080, false); }
static void in_pnat6_tcp(struct pkt *p) { nat6(p, true, 5000, 3); }
static void out_pnat6_tcp(struct pkt *p) { nat6(p, true, 1234, 3); }
static void in_pnat6_udp(struct pkt *p) { nat6(p, false, 5000, 3); }
static void out_pnat6_udp(struct pkt *p) { nat6(p, false, 1234, 3); }
static void in_nat6_other(struct pkt *p) { nat6(p, false, 5000, 9); }
static void out_nat6_other(struct pkt *p) { nat6(p, false, 1, 9); }
static void in_nat_icmp(struct pkt *p) { nat4(p, N_ICMP, TEST_IP4(1), TEST_IP4(9), 0, 0, false); }
static void out_nat_icmp(struct pkt *p) { nat4(p, N_ICMP, TEST_IP4(7), TEST_IP4(9), 0, 0, false); }
static void in_nat_later(struct pkt *p) { nat4(p, N_LATER, TEST_IP4(1), TEST_IP4(9), 0, 0, false); }
static void out_nat_later(struct pkt *p) { nat4(p, N_LATER, TEST_IP4(7), TEST_IP4(9), 0, 0, false); }

/* The source port whose UDP checksum, after the rewrite of rule 2, sums
 * to 0: written 0xffff (RFC 768), not 0, which would mean "none". */
static uint16_t udp_ffff_sport(void)
{
	static uint16_t found;
	struct pkt p;

	for (uint32_t s = 1; !found && s < 65536; s++) {
		int o;

		memset(&p, 0, sizeof(p));
		nat4(&p, N_UDP, TEST_IP4(1), TEST_IP4(8), (uint16_t)s, 8080, false);
		o = pkt_off(&p, PL_UDP, 0);
		if (p.data[o + 6] == 0xff && p.data[o + 7] == 0xff)
			found = (uint16_t)s;
	}
	return found;
}

static void in_dnat_ffff(struct pkt *p)
{
	nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(9), udp_ffff_sport(), 2, false);
}

static void out_dnat_ffff(struct pkt *p)
{
	nat4(p, N_UDP, TEST_IP4(1), TEST_IP4(8), udp_ffff_sport(), 8080, false);
}

/* Both checksums of the output verify from scratch (a UDP checksum of 0
 * is none). */
static bool check_nat_csums(struct xt *t, const struct golden *g,
			    const struct pkt *in, const struct xt_result *r)
{
	int l3 = pkt_off(in, PL_IP4, 0), ip6 = l3 < 0, l4, proto = PL_TCP;
	bool ok = true;

	(void)t; (void)g;
	if (ip6)
		l3 = pkt_off(in, PL_IP6, 0);
	else
		ok = ASSERT_TRUE(ip4_csum_ok(r->data, r->len, l3), "IPv4 header checksum verifies");
	l4 = pkt_off(in, PL_TCP, 0);
	if (l4 < 0) {
		l4 = pkt_off(in, PL_UDP, 0);
		proto = PL_UDP;
	}
	if (l4 < 0 || (proto == PL_UDP && !r->data[l4 + 6] && !r->data[l4 + 7]))
		return ok;
	return ASSERT_TRUE(l4_csum_ok(r->data, r->len, l3, l4, proto == PL_TCP ? 6 : 17, ip6),
			   "TCP/UDP checksum verifies") && ok;
}

static const struct golden nat_steps[] = {
	{ "ipv4 tcp: set ip.src", .build = in_snat_tcp, .build_out = out_snat_tcp,
	  .verdict = XDP_TX, .stats = { ST(act_set_ip_src, 1) }, .check = check_nat_csums },
	{ "ipv4 udp: set ip.dst, l4.dport", .build = in_dnat_udp, .build_out = out_dnat_udp,
	  .verdict = XDP_TX, .stats = { ST(act_set_ip_dst, 1), ST(act_set_l4_dport, 1) },
	  .check = check_nat_csums },
	{ "ipv4 udp without a checksum: stays without", .build = in_dnat_udp0,
	  .build_out = out_dnat_udp0, .verdict = XDP_TX, .check = check_nat_csums },
	{ "ipv4 udp: a checksum summing to 0 is written 0xffff", .build = in_dnat_ffff,
	  .build_out = out_dnat_ffff, .verdict = XDP_TX, .check = check_nat_csums },
	{ "ipv4 tcp: set ip.dst, l4.dport", .build = in_dnat_tcp, .build_out = out_dnat_tcp,
	  .verdict = XDP_TX, .check = check_nat_csums },
	{ "ipv6 tcp with options: set l4.sport", .build = in_pnat6_tcp,
	  .build_out = out_pnat6_tcp, .verdict = XDP_TX,
	  .stats = { ST(act_set_l4_sport, 1) }, .check = check_nat_csums },
	{ "ipv6 udp: set l4.sport", .build = in_pnat6_udp, .build_out = out_pnat6_udp,
	  .verdict = XDP_TX, .check = check_nat_csums },
	{ "ipv6: set ip.src is IPv4 only, skipped; the port still set",
	  .build = in_nat6_other, .build_out = out_nat6_other, .verdict = XDP_TX,
	  .stats = { ST(exc_rewrite_failed, 1), ST(act_set_l4_sport, 1) },
	  .check = check_nat_csums },
	{ "icmp: set ip.src (no pseudo-header), the port skipped", .build = in_nat_icmp,
	  .build_out = out_nat_icmp, .verdict = XDP_TX,
	  .stats = { ST(act_set_ip_src, 1), ST(exc_rewrite_failed, 1) },
	  .check = check_nat_csums },
	{ "later fragment: set ip.src, the port skipped", .build = in_nat_later,
	  .build_out = out_nat_later, .verdict = XDP_TX,
	  .stats = { ST(act_set_ip_src, 1), ST(exc_rewrite_failed, 1) },
	  .check = check_nat_csums },
};

/* ---- IPv6 NAT: set ip6.src / ip6.dst ------------------------------------------- */

/* 2001:2:0:5::7 and 2001:2:0:6::8: both 64-bit halves differ from the
 * 2001:2::1 / 2001:2::9 of the frames, so both halves' checksum updates
 * show.  An address is two actions, as the compiler emits it. */
#define NAT6_SRC_HI	0x2001000200000005ULL
#define NAT6_DST_HI	0x2001000200000006ULL
#define IP6_HALF(t, half, v)	{ (t), (half), CONST(v) }

static int app_nat6(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 3, { IP6_HALF(XFSM_ACT_SET_IP6_SRC, 0, NAT6_SRC_HI),
			  IP6_HALF(XFSM_ACT_SET_IP6_SRC, 1, 7), A1(XFSM_ACT_TX, NOOP) } },
		/* the port first: the address rewrite writes the last checksum */
		{ 2, 4, { A1(XFSM_ACT_SET_L4_DPORT, CONST(8080)),
			  IP6_HALF(XFSM_ACT_SET_IP6_DST, 0, NAT6_DST_HI),
			  IP6_HALF(XFSM_ACT_SET_IP6_DST, 1, 8), A1(XFSM_ACT_TX, NOOP) } },
		{ 0, 5, { IP6_HALF(XFSM_ACT_SET_IP6_SRC, 0, NAT6_SRC_HI),
			  IP6_HALF(XFSM_ACT_SET_IP6_SRC, 1, 7),
			  IP6_HALF(XFSM_ACT_SET_IP6_DST, 0, NAT6_DST_HI),
			  IP6_HALF(XFSM_ACT_SET_IP6_DST, 1, 8), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

enum { N6_TCP, N6_UDP, N6_UDP0, N6_ICMP6_EXT, N6_LATER };

static void ip6_addr(uint8_t a[16], uint64_t hi, uint64_t lo)
{
	for (int i = 0; i < 8; i++) {
		a[i] = (uint8_t)(hi >> (56 - 8 * i));
		a[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
}

/* An IPv6 frame from 2001:2::1 to 2001:2::9, or from / to the NAT
 * addresses (nat_src, nat_dst), with the L4 checksum pkt_finish() computes
 * from scratch. */
static void nat6x(struct pkt *p, int kind, bool nat_src, bool nat_dst, uint16_t sport,
		  uint16_t dport)
{
	struct ip6_args a = { .hlim = 64, .flow = 0x12345 };

	if (nat_src)
		ip6_addr(a.src, NAT6_SRC_HI, 7);
	else
		test_ip6(a.src, 1);
	if (nat_dst)
		ip6_addr(a.dst, NAT6_DST_HI, 8);
	else
		test_ip6(a.dst, 9);
	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_ip6(p, &a);
	if (kind == N6_TCP) {
		pkt_tcp(p, sport, dport, 0x18, 0);
	} else if (kind == N6_UDP || kind == N6_UDP0) {
		pkt_udp(p, sport, dport);
	} else if (kind == N6_ICMP6_EXT) {
		pkt_ip6_ext(p, IPPROTO_HOPOPTS_, 0, 0);
		pkt_ip6_ext(p, IPPROTO_DSTOPTS_, 1, 0);
		pkt_icmp6(p, 128, 0);
	} else {
		pkt_ip6_ext(p, IPPROTO_FRAGMENT_, 0, 10 << 3);	/* offset 10: no L4 */
	}
	pkt_raw(p, 13, 0x5a);
	pkt_finish(p);
	if (kind == N6_UDP0) {
		int o = pkt_off(p, PL_UDP, 0);

		p->data[o + 6] = p->data[o + 7] = 0;
	}
}

static void in6_snat_tcp(struct pkt *p) { nat6x(p, N6_TCP, false, false, 5000, 1); }
static void out6_snat_tcp(struct pkt *p) { nat6x(p, N6_TCP, true, false, 5000, 1); }
static void in6_dnat_udp(struct pkt *p) { nat6x(p, N6_UDP, false, false, 5000, 2); }
static void out6_dnat_udp(struct pkt *p) { nat6x(p, N6_UDP, false, true, 5000, 8080); }
static void in6_dnat_udp0(struct pkt *p) { nat6x(p, N6_UDP0, false, false, 5000, 2); }
static void out6_dnat_udp0(struct pkt *p) { nat6x(p, N6_UDP0, false, true, 5000, 8080); }
static void in6_icmp6(struct pkt *p) { nat6x(p, N6_ICMP6_EXT, false, false, 0, 0); }
static void out6_icmp6(struct pkt *p) { nat6x(p, N6_ICMP6_EXT, true, true, 0, 0); }
static void in6_later(struct pkt *p) { nat6x(p, N6_LATER, false, false, 0, 0); }
static void out6_later(struct pkt *p) { nat6x(p, N6_LATER, true, true, 0, 0); }
static void in6_on_ip4(struct pkt *p) { nat4(p, N_TCP, TEST_IP4(1), TEST_IP4(9), 5000, 1, false); }

/* The source port whose UDP checksum, after the rewrite of rule 2, sums
 * to 0: written 0xffff, as 0 is not allowed over IPv6. */
static uint16_t udp6_ffff_sport(void)
{
	static uint16_t found;
	struct pkt p;

	for (uint32_t s = 1; !found && s < 65536; s++) {
		int o;

		memset(&p, 0, sizeof(p));
		nat6x(&p, N6_UDP, false, true, (uint16_t)s, 8080);
		o = pkt_off(&p, PL_UDP, 0);
		if (p.data[o + 6] == 0xff && p.data[o + 7] == 0xff)
			found = (uint16_t)s;
	}
	return found;
}

static void in6_dnat_ffff(struct pkt *p) { nat6x(p, N6_UDP, false, false, udp6_ffff_sport(), 2); }
static void out6_dnat_ffff(struct pkt *p) { nat6x(p, N6_UDP, false, true, udp6_ffff_sport(), 8080); }

/* The L4 checksum of the output verifies from scratch: TCP, UDP (0 is
 * none, checked byte for byte instead) or ICMPv6 behind extension
 * headers; a later fragment has none. */
static bool check_nat6_csum(struct xt *t, const struct golden *g,
			    const struct pkt *in, const struct xt_result *r)
{
	int l3 = pkt_off(in, PL_IP6, 0), l4, kinds[] = { PL_TCP, PL_UDP, PL_ICMP6 };
	uint8_t protos[] = { 6, 17, 58 };

	(void)t; (void)g;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		l4 = pkt_off(in, kinds[i], 0);
		if (l4 < 0)
			continue;
		if (kinds[i] == PL_UDP && !r->data[l4 + 6] && !r->data[l4 + 7])
			return true;
		return ASSERT_TRUE(l4_csum_ok(r->data, r->len, l3, l4, protos[i], true),
				   "L4 checksum verifies after the IPv6 rewrite");
	}
	return true;
}

static const struct golden nat6_steps[] = {
	{ "ipv6 tcp: set ip6.src (both halves)", .build = in6_snat_tcp,
	  .build_out = out6_snat_tcp, .verdict = XDP_TX, .stats = { ST(act_set_ip6_src, 1) },
	  .check = check_nat6_csum },
	{ "ipv6 udp: set ip6.dst, l4.dport", .build = in6_dnat_udp, .build_out = out6_dnat_udp,
	  .verdict = XDP_TX, .stats = { ST(act_set_ip6_dst, 1), ST(act_set_l4_dport, 1) },
	  .check = check_nat6_csum },
	{ "ipv6 udp: a checksum summing to 0 is written 0xffff", .build = in6_dnat_ffff,
	  .build_out = out6_dnat_ffff, .verdict = XDP_TX, .check = check_nat6_csum },
	{ "ipv6 udp with checksum 0 (not allowed): stays 0", .build = in6_dnat_udp0,
	  .build_out = out6_dnat_udp0, .verdict = XDP_TX,
	  .stats = { ST(act_set_ip6_dst, 1) }, .check = check_nat6_csum },
	{ "ipv6 icmpv6 behind hop-by-hop and destination options: set both",
	  .build = in6_icmp6, .build_out = out6_icmp6, .verdict = XDP_TX,
	  .stats = { ST(act_set_ip6_src, 1), ST(act_set_ip6_dst, 1) },
	  .check = check_nat6_csum },
	{ "ipv6 later fragment: the addresses only", .build = in6_later,
	  .build_out = out6_later, .verdict = XDP_TX,
	  .stats = { ST(act_set_ip6_src, 1), ST(act_set_ip6_dst, 1) } },
	{ "ipv4: set ip6.src skipped, counted once", .build = in6_on_ip4,
	  .build_out = in6_on_ip4, .verdict = XDP_TX,
	  .stats = { ST(exc_rewrite_failed, 1) } },
};

/* The offload profile has no IPv6 NAT: the frame unchanged, counted once. */
static const struct golden nat6_offload_steps[] = {
	{ "ipv6 tcp: set ip6.src unsupported", .build = in6_snat_tcp, .build_out = in6_snat_tcp,
	  .verdict = XDP_TX, .stats = { ST(exc_unsupported, 1) } },
};

/* ---- VLAN push / pop ----------------------------------------------------------- */

#define VLAN_ID_FIELD	{ .kind = XFSM_OPND_FIELD, .index = XFSM_FW_VLAN_ID, .width = 1 }

static int app_vlan(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 2, { A1(XFSM_ACT_VLAN_PUSH, CONST(100)), A1(XFSM_ACT_TX, NOOP) } },
		{ 2, 2, { A1(XFSM_ACT_VLAN_POP, NOOP), A1(XFSM_ACT_TX, NOOP) } },
		/* later actions find the IP header where it moved to */
		{ 3, 4, { A1(XFSM_ACT_VLAN_PUSH, CONST(4095)), A1(XFSM_ACT_SET_DSCP, CONST(46)),
			  A1(XFSM_ACT_SET_L4_SPORT, CONST(7)), A1(XFSM_ACT_TX, NOOP) } },
		{ 4, 4, { A1(XFSM_ACT_VLAN_POP, NOOP), A1(XFSM_ACT_SET_DSCP, CONST(46)),
			  A1(XFSM_ACT_SET_L4_SPORT, CONST(7)), A1(XFSM_ACT_TX, NOOP) } },
		/* a pop of two tags: vlan.id is the inner one's */
		{ 5, 4, { A1(XFSM_ACT_VLAN_PUSH, CONST(100)), A1(XFSM_ACT_VLAN_POP, NOOP),
			  A1(XFSM_ACT_SET_DSCP, VLAN_ID_FIELD), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

/* An IPv4 UDP frame with up to two tags (outer first; 0: none). */
static void vlan4(struct pkt *p, uint16_t outer, uint16_t outer_tpid, uint16_t inner,
		  uint16_t sport, uint16_t dport, uint8_t tos)
{
	struct ip4_args a = { .src = TEST_IP4(1), .dst = TEST_IP4(9), .tos = tos, .ttl = 64,
			      .id = 0x77, .frag = IP4_DF };

	pkt_eth(p, TEST_MAC(9), TEST_MAC(1), 0);
	if (outer)
		pkt_vlan(p, outer_tpid, outer);
	if (inner)
		pkt_vlan(p, ETHERTYPE_8021Q, inner);
	pkt_ip4(p, &a);
	pkt_udp(p, sport, dport);
	pkt_raw(p, 9, 0x44);
	pkt_finish(p);
}

static void in_push0(struct pkt *p) { vlan4(p, 0, 0, 0, 5000, 1, 0); }
static void out_push0(struct pkt *p) { vlan4(p, 100, ETHERTYPE_8021Q, 0, 5000, 1, 0); }
static void in_push1(struct pkt *p) { vlan4(p, 0xa00 | 8, ETHERTYPE_8021Q, 0, 5000, 1, 0); }
static void out_push1(struct pkt *p) { vlan4(p, 100, ETHERTYPE_8021Q, 0xa00 | 8, 5000, 1, 0); }
static void in_push2(struct pkt *p) { vlan4(p, 7, ETHERTYPE_8021AD, 8, 5000, 1, 0); }
static void in_pop1(struct pkt *p) { vlan4(p, 0x2000 | 8, ETHERTYPE_8021Q, 0, 5000, 2, 0); }
static void out_pop1(struct pkt *p) { vlan4(p, 0, 0, 0, 5000, 2, 0); }
static void in_pop2(struct pkt *p) { vlan4(p, 7, ETHERTYPE_8021AD, 0x6000 | 8, 5000, 2, 0); }
static void out_pop2(struct pkt *p) { vlan4(p, 0x6000 | 8, ETHERTYPE_8021Q, 0, 5000, 2, 0); }
static void in_pop0(struct pkt *p) { vlan4(p, 0, 0, 0, 5000, 2, 0); }
static void in_push_rw(struct pkt *p) { vlan4(p, 0, 0, 0, 5000, 3, 0); }
static void out_push_rw(struct pkt *p) { vlan4(p, 4095, ETHERTYPE_8021Q, 0, 7, 3, 46 << 2); }
static void in_push_rw2(struct pkt *p) { vlan4(p, 9, ETHERTYPE_8021Q, 0, 5000, 3, 0); }
static void out_push_rw2(struct pkt *p) { vlan4(p, 4095, ETHERTYPE_8021Q, 9, 7, 3, 46 << 2); }
static void in_pushpop(struct pkt *p) { vlan4(p, 0x2000 | 9, ETHERTYPE_8021Q, 0, 5000, 5, 0); }
static void out_pushpop(struct pkt *p) { vlan4(p, 0x2000 | 9, ETHERTYPE_8021Q, 0, 5000, 5, 9 << 2); }
static void in_pop_rw(struct pkt *p) { vlan4(p, 9, ETHERTYPE_8021Q, 0, 5000, 4, 0); }
static void out_pop_rw(struct pkt *p) { vlan4(p, 0, 0, 0, 7, 4, 46 << 2); }

static bool check_vlan_csums(struct xt *t, const struct golden *g,
			     const struct pkt *in, const struct xt_result *r)
{
	struct pkt out;

	(void)t; (void)in;
	memset(&out, 0, sizeof(out));
	g->build_out(&out);
	return check_nat_csums(t, g, &out, r);
}

static const struct golden vlan_steps[] = {
	{ "untagged: push 100", .build = in_push0, .build_out = out_push0, .verdict = XDP_TX,
	  .stats = { ST(act_vlan_push, 1) } },
	{ "tagged: push 100 in front (QinQ)", .build = in_push1, .build_out = out_push1,
	  .verdict = XDP_TX, .stats = { ST(act_vlan_push, 1) } },
	{ "double tagged: no third tag", .build = in_push2, .build_out = in_push2,
	  .verdict = XDP_TX, .stats = { ST(exc_rewrite_failed, 1) } },
	{ "tagged: pop", .build = in_pop1, .build_out = out_pop1, .verdict = XDP_TX,
	  .stats = { ST(act_vlan_pop, 1) } },
	{ "double tagged: pop the outer", .build = in_pop2, .build_out = out_pop2,
	  .verdict = XDP_TX, .stats = { ST(act_vlan_pop, 1) } },
	{ "untagged: nothing to pop", .build = in_pop0, .build_out = in_pop0, .verdict = XDP_TX,
	  .stats = { ST(exc_rewrite_failed, 1) } },
	{ "push, then rewrites at the moved offsets", .build = in_push_rw,
	  .build_out = out_push_rw, .verdict = XDP_TX, .check = check_vlan_csums },
	{ "tagged: push, then rewrites behind two tags", .build = in_push_rw2,
	  .build_out = out_push_rw2, .verdict = XDP_TX, .check = check_vlan_csums },
	{ "tagged: push, pop: vlan.id the first tag's again", .build = in_pushpop,
	  .build_out = out_pushpop, .verdict = XDP_TX, .check = check_vlan_csums,
	  .stats = { ST(act_vlan_push, 1), ST(act_vlan_pop, 1) } },
	{ "pop, then rewrites at the moved offsets", .build = in_pop_rw,
	  .build_out = out_pop_rw, .verdict = XDP_TX, .check = check_vlan_csums },
};

/* ---- ARP reply ------------------------------------------------------------------ */


static int app_arp_reply(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 0, 1, { A1(XFSM_ACT_ARP_REPLY, CONST(TEST_MAC(0x77))) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void in_arp_req(struct pkt *p)
{
	pkt_eth(p, 0xffffffffffffULL, TEST_MAC(1), 0);
	pkt_arp(p, 1, TEST_MAC(1), TEST_IP4(1), 0, TEST_IP4(9));
	pkt_finish(p);
}

static void out_arp_rep(struct pkt *p)
{
	pkt_eth(p, TEST_MAC(1), TEST_MAC(0x77), 0);
	pkt_arp(p, 2, TEST_MAC(0x77), TEST_IP4(9), TEST_MAC(1), TEST_IP4(1));
	pkt_finish(p);
}

static void in_arp_vlan(struct pkt *p)
{
	pkt_eth(p, 0xffffffffffffULL, TEST_MAC(2), 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 30);
	pkt_arp(p, 1, TEST_MAC(2), TEST_IP4(2), 0, TEST_IP4(8));
	pkt_finish(p);
}

static void out_arp_vlan(struct pkt *p)
{
	pkt_eth(p, TEST_MAC(2), TEST_MAC(0x77), 0);
	pkt_vlan(p, ETHERTYPE_8021Q, 30);
	pkt_arp(p, 2, TEST_MAC(0x77), TEST_IP4(8), TEST_MAC(2), TEST_IP4(2));
	pkt_finish(p);
}

static void in_arp_rep(struct pkt *p)
{
	pkt_eth(p, TEST_MAC(1), TEST_MAC(9), 0);
	pkt_arp(p, 2, TEST_MAC(9), TEST_IP4(9), TEST_MAC(1), TEST_IP4(1));
	pkt_finish(p);
}

static const struct golden arp_reply_steps[] = {
	{ "request: answered", .build = in_arp_req, .build_out = out_arp_rep, .verdict = XDP_TX,
	  .stats = { ST(act_arp_reply, 1) } },
	{ "tagged request: answered on its VLAN", .build = in_arp_vlan, .build_out = out_arp_vlan,
	  .verdict = XDP_TX, .stats = { ST(act_arp_reply, 1) } },
	{ "a reply: not answered, the pipeline goes on (default drop)", .build = in_arp_rep,
	  .verdict = XDP_DROP, .stats = { ST(exc_rewrite_failed, 1) } },
	{ "ipv4: not answered", .build = in_ttl64, .verdict = XDP_DROP,
	  .stats = { ST(exc_rewrite_failed, 1) } },
};

/* The offload profile has no stack for NAT, VLAN and ARP rewrites: each
 * is counted unsupported and skipped, the frame unchanged. */
static int app_unsupported(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 5, { A1(XFSM_ACT_SET_IP_SRC, CONST(TEST_IP4(7))),
			  A1(XFSM_ACT_SET_L4_DPORT, CONST(9)), A1(XFSM_ACT_VLAN_PUSH, CONST(5)),
			  A1(XFSM_ACT_ARP_REPLY, CONST(TEST_MAC(0x77))), A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static const struct golden unsupported_steps[] = {
	{ "four rewrites skipped", .build = in_snat_tcp, .build_out = in_snat_tcp,
	  .verdict = XDP_TX, .stats = { ST(exc_unsupported, 4) } },
};

/* Rewrites on a frame without the header are counted and skipped. */
static int app_rewrite_arp(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 0, 3, { A1(XFSM_ACT_SET_DSCP, CONST(1)), A1(XFSM_ACT_SET_ECN, CONST(1)),
			  A1(XFSM_ACT_PASS, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static const struct golden rewrite_arp_steps[] = {
	{ "arp: set_dscp and set_ecn skipped", .build = in_arp, .verdict = XDP_PASS,
	  .stats = { ST(exc_rewrite_failed, 2) } },
};

/* Six actions, the most a rule has. */
static int app_six(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 0, 6, { A1(XFSM_ACT_SET_ETH_SRC, CONST(NEW_SRC)),
			  A1(XFSM_ACT_SET_ETH_DST, CONST(NEW_DST)),
			  A1(XFSM_ACT_SET_DSCP, CONST(8)),
			  A1(XFSM_ACT_DEC_TTL, NOOP),
			  { XFSM_ACT_COUNT, 63, NOOP },
			  A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static void out_six(struct pkt *p)
{
	struct ip4_args a = { .src = TEST_IP4(1), .dst = TEST_IP4(9), .tos = 8 << 2,
			      .ttl = 63, .id = 0x1234, .frag = IP4_DF };

	pkt_eth(p, NEW_DST, NEW_SRC, 0);
	pkt_ip4(p, &a);
	pkt_udp(p, 5000, 1);
	pkt_raw(p, 11, 0x5a);
	pkt_finish(p);
}

static const struct golden six_steps[] = {
	{ "six actions", .build = in_ttl64, .build_out = out_six, .verdict = XDP_TX,
	  .counters = { COUNTER(63, 1, 14 + 20 + 8 + 11) }, .check = check_ip4_csum,
	  .stats = { ST(act_set_eth_src, 1), ST(act_set_eth_dst, 1), ST(act_set_dscp, 1),
		     ST(act_dec_ttl, 1), ST(act_count, 1), ST(act_tx, 1) } },
};

/* ---- verdicts, count, statistics ------------------------------------------ */

static int app_verdicts(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 2, { { XFSM_ACT_COUNT, 5, NOOP }, A1(XFSM_ACT_DROP, NOOP) } },
		{ 2, 2, { { XFSM_ACT_COUNT, 5, NOOP }, A1(XFSM_ACT_PASS, NOOP) } },
		{ 3, 3, { { XFSM_ACT_COUNT, 6, NOOP }, { XFSM_ACT_COUNT, 5, NOOP },
			  A1(XFSM_ACT_TX, NOOP) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

#define UDPL(dp, pl) { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 9, .dport = (dp), \
		       .payload = (pl) }

static const struct golden verdict_steps[] = {
	{ "drop", .pkt = UDPL(1, 18), .verdict = XDP_DROP,
	  .stats = { ST(act_drop, 1), ST(act_count, 1) },
	  .counters = { COUNTER(5, 1, 60) }, .rules = { RULE(0, 1, 60) } },
	{ "pass", .pkt = UDPL(2, 100), .verdict = XDP_PASS,
	  .stats = { ST(act_pass, 1), ST(act_count, 1) },
	  .counters = { COUNTER(5, 2, 202) }, .rules = { RULE(1, 1, 142), RULE(0, 1, 60) } },
	{ "tx, two counters", .pkt = UDPL(3, 0), .verdict = XDP_TX,
	  .stats = { ST(act_tx, 1), ST(act_count, 2) },
	  .counters = { COUNTER(5, 3, 244), COUNTER(6, 1, 42) },
	  .rules = { RULE(2, 1, 42) }, .sstats = { SST(0, packets, 1), SST(0, bytes, 42),
	  SST(0, hits, 1), SST(0, misses, 0) } },
	{ "miss: no counter", .pkt = UDPL(4, 0), .verdict = XDP_DROP,
	  .counters = { COUNTER(5, 3, 244), COUNTER(6, 1, 42) },
	  .sstats = { SST(0, packets, 1), SST(0, bytes, 42), SST(0, hits, 0),
	  SST(0, misses, 1) } },
};

/* ---- set_mark and rewrites seen by later stages ----------------------------- */

static int app_mark(struct xfsm_image *img)
{
	static const __u8 w0[] = { XFSM_FW_L4_DPORT };
	static const __u8 w1[] = { XFSM_FW_META_MARK, XFSM_FW_ETH_DST_LO, XFSM_FW_IP_TTL };
	struct rb b;
	int err = 0;

	app_init(img, 2, XFSM_VERDICT_PASS);
	app_match_words(img, 0, w0, 1);
	app_match_words(img, 1, w1, 3);
	app_miss(img, 1, XFSM_VERDICT_DROP);
	rb_init(&b, 10);			/* dport 1: mark 7 */
	rb_match(&b, 0, 1, 0xffff);
	rb_act(&b, XFSM_ACT_SET_MARK, 0, OPC(7));
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* dport 2: new eth.dst */
	rb_match(&b, 0, 2, 0xffff);
	rb_act(&b, XFSM_ACT_SET_ETH_DST, 0, OPC(NEW_DST));
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* dport 3: ttl - 1 */
	rb_match(&b, 0, 3, 0xffff);
	rb_act(&b, XFSM_ACT_DEC_TTL, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* dport 4: mark = l4.dport + nothing */
	rb_match(&b, 0, 4, 0xffff);
	rb_act(&b, XFSM_ACT_SET_MARK, 0, OPF(XFSM_FW_L4_DPORT));
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* dport 5: mark 7, drop: ends here */
	rb_match(&b, 0, 5, 0xffff);
	rb_act(&b, XFSM_ACT_SET_MARK, 0, OPC(7));
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* dport 6: mark 7, count, then stage 1 */
	rb_match(&b, 0, 6, 0xffff);
	rb_act(&b, XFSM_ACT_SET_MARK, 0, OPC(7));
	rb_act(&b, XFSM_ACT_COUNT, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);

	rb_init(&b, 10);
	rb_match(&b, 0, 7, 0xffffffff);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = err ?: rb_add(img, 1, &b);
	rb_init(&b, 10);
	rb_match(&b, 1, NEW_DST & 0xffffffff, 0xffffffff);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 1, &b);
	rb_init(&b, 10);
	rb_match(&b, 2, 63, 0xff);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = err ?: rb_add(img, 1, &b);
	rb_init(&b, 10);
	rb_match(&b, 0, 4, 0xffffffff);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 1, &b);
}

static void in_mark2(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 2);

	pkt_from_spec(p, &s);
}

static void out_mark2(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 2);

	s.dmac = NEW_DST;
	pkt_from_spec(p, &s);
}

static void in_mark3(struct pkt *p) { ip4_tos(p, 3, 0, false, 64); }
static void out_mark3(struct pkt *p) { ip4_tos(p, 3, 0, false, 63); }

static const struct golden mark_steps[] = {
	{ "mark 7 matched in stage 1", .pkt = UDP4(1, 1), .verdict = XDP_TX,
	  .stats = { ST(act_set_mark, 1) } },
	{ "no mark: stage 1 misses", .pkt = UDP4(1, 9), .verdict = XDP_DROP },
	{ "new eth.dst matched in stage 1", .build = in_mark2, .build_out = out_mark2,
	  .verdict = XDP_PASS },
	{ "decremented ttl matched in stage 1", .build = in_mark3, .build_out = out_mark3,
	  .verdict = XDP_TX },
	{ "mark from a field", .pkt = UDP4(1, 4), .verdict = XDP_PASS },
	{ "a verdict after the mark ends the pipeline", .pkt = UDP4(1, 5), .verdict = XDP_DROP,
	  .stats = { ST(act_set_mark, 1), ST(act_drop, 1) } },
	{ "mark and count, then stage 1", .pkt = UDP4(1, 6), .verdict = XDP_TX,
	  .stats = { ST(act_set_mark, 1), ST(act_count, 1) } },
};

/* ---- output to ports ------------------------------------------------------------ */

static int app_output(struct xfsm_image *img)
{
	static const struct act_rule r[] = {
		{ 1, 1, { A1(XFSM_ACT_OUTPUT, CONST(3)) } },
		{ 2, 1, { A1(XFSM_ACT_OUTPUT, CONST(9)) } },
		{ 3, 1, { A1(XFSM_ACT_OUTPUT, GLOBAL4) } },
		{ 4, 1, { A1(XFSM_ACT_FLOOD, NOOP) } },
		{ 5, 2, { A1(XFSM_ACT_SET_ETH_DST, CONST(NEW_DST)), A1(XFSM_ACT_OUTPUT, CONST(3)) } },
		{ 6, 1, { A1(XFSM_ACT_OUTPUT, CONST(0)) } },
		{ 7, 1, { A1(XFSM_ACT_OUTPUT, CONST(300)) } },
	};
	return act_app(img, r, ARRAY_SIZE(r));
}

static int setup_output(struct xt *t)
{
	return xt_set_tx_port(t, 3, 1) ?: xt_set_tx_port(t, 4, 1) ?:
	       xfsm_global_set(t->inst, 4, 3);
}

static void in_out5(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 5);

	pkt_from_spec(p, &s);
}

static void out_out5(struct pkt *p)
{
	struct pkt_spec s = UDP4(1, 5);

	s.dmac = NEW_DST;
	pkt_from_spec(p, &s);
}

static const struct golden output_steps[] = {
	{ "output port 3", .pkt = UDP4(1, 1), .verdict = XDP_REDIRECT,
	  .stats = { ST(act_output, 1) } },
	{ "output port 9: no device", .pkt = UDP4(1, 2), .verdict = XDP_DROP,
	  .stats = { ST(exc_bad_port, 1) } },
	{ "output to a global register's port", .pkt = UDP4(1, 3), .verdict = XDP_REDIRECT,
	  .stats = { ST(act_output, 1) } },
	{ "flood", .pkt = UDP4(1, 4), .verdict = XDP_REDIRECT, .stats = { ST(act_flood, 1) } },
	{ "rewrite then output", .build = in_out5, .build_out = out_out5,
	  .verdict = XDP_REDIRECT },
	{ "output port 0 (no port)", .pkt = UDP4(1, 6), .verdict = XDP_DROP,
	  .stats = { ST(exc_bad_port, 1) } },
	{ "output port 300 (out of range)", .pkt = UDP4(1, 7), .verdict = XDP_DROP,
	  .stats = { ST(exc_bad_port, 1) } },
};

/* Offload: no redirect; output and flood count exc_unsupported and drop. */
static const struct golden output_offload_steps[] = {
	{ "output unsupported", .pkt = UDP4(1, 1), .verdict = XDP_DROP,
	  .stats = { ST(exc_unsupported, 1) } },
	{ "flood unsupported", .pkt = UDP4(1, 4), .verdict = XDP_DROP,
	  .stats = { ST(exc_unsupported, 1) } },
};

static int setup_output_offload(struct xt *t)
{
	return xfsm_global_set(t->inst, 4, 3);
}

/* ---- statistics over two stages ---------------------------------------------- */

static int app_stats(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	int err = 0;

	app_init(img, 2, XFSM_VERDICT_DROP);
	app_match_words(img, 0, words, 1);
	rb_init(&b, 10);
	rb_match(&b, 0, 1, 0xffff);
	rb_act(&b, XFSM_ACT_COUNT, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	return err ?: rb_add(img, 1, &b);
}

static const struct golden stats_steps[] = {
	{ "hit in both stages", .pkt = UDPL(1, 0), .verdict = XDP_TX,
	  .rules = { RULE(0, 1, 42), RULE(1, 1, 42) }, .counters = { COUNTER(0, 1, 42) },
	  .sstats = { SST(0, packets, 1), SST(0, bytes, 42), SST(0, hits, 1), SST(0, misses, 0),
		      SST(1, packets, 1), SST(1, bytes, 42), SST(1, hits, 1), SST(1, misses, 0) } },
	{ "miss in stage 0", .pkt = UDPL(2, 18), .verdict = XDP_TX,
	  .rules = { RULE(0, 1, 42), RULE(1, 2, 102) },
	  .sstats = { SST(0, packets, 1), SST(0, bytes, 60), SST(0, hits, 0), SST(0, misses, 1),
		      SST(1, packets, 1), SST(1, bytes, 60), SST(1, hits, 1) } },
};

const struct scenario action_scenarios[] = {
	SCENARIO("set_eth_src/dst", app_eth, NULL, eth_steps, SC_BOTH),
	SCENARIO("set_dscp/set_ecn", app_dscp_ecn, NULL, dscp_ecn_steps, SC_BOTH),
	SCENARIO("dec_ttl", app_dec_ttl, NULL, dec_ttl_steps, SC_BOTH),
	SCENARIO("set_ttl", app_set_ttl, NULL, set_ttl_steps, SC_BOTH),
	SCENARIO("NAT rewrites", app_nat, NULL, nat_steps, SC_NATIVE),
	SCENARIO("IPv6 NAT rewrites", app_nat6, NULL, nat6_steps, SC_NATIVE),
	SCENARIO("IPv6 NAT unsupported", app_nat6, NULL, nat6_offload_steps, SC_OFFLOAD),
	SCENARIO("NAT, VLAN, ARP reply unsupported", app_unsupported, NULL, unsupported_steps,
		 SC_OFFLOAD),
	SCENARIO("VLAN push and pop", app_vlan, NULL, vlan_steps, SC_NATIVE),
	SCENARIO("ARP reply", app_arp_reply, NULL, arp_reply_steps, SC_NATIVE),
	SCENARIO("six actions in one rule", app_six, NULL, six_steps, SC_BOTH),
	SCENARIO("rewrite without the header", app_rewrite_arp, NULL, rewrite_arp_steps, SC_BOTH),
	SCENARIO("verdicts and count", app_verdicts, NULL, verdict_steps, SC_BOTH),
	SCENARIO("set_mark and rewrites seen by later stages", app_mark, NULL, mark_steps, SC_BOTH),
	SCENARIO("output and flood", app_output, setup_output, output_steps, SC_NATIVE),
	SCENARIO("output and flood unsupported", app_output, setup_output_offload,
		 output_offload_steps, SC_OFFLOAD),
	SCENARIO("rule and stage statistics", app_stats, NULL, stats_steps, SC_BOTH),
};
const size_t n_action_scenarios = ARRAY_SIZE(action_scenarios);
