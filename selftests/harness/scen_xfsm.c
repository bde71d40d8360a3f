/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * XFSM golden scenarios (docs/datapath.md, "A stage"): port knocking, MAC
 * learning, a counter threshold, every comparator, update op and operand
 * kind, timeouts, symmetric keys, goto, misses, priorities, a full table.
 */
#include <string.h>

#include "golden.h"

#define IPK(x)	TEST_IP4(x)

#define UDP4(s, dp)	{ .l3 = PS_IP4, .l4 = PS_UDP, .src = (s), .dst = 9, \
			  .sport = 40000, .dport = (dp) }
#define TCP4(s, dp)	{ .l3 = PS_IP4, .l4 = PS_TCP, .src = (s), .dst = 9, \
			  .sport = 40000, .dport = (dp), .flags = TCPF_SYN }
#define UDP4L(s, dp, pl) { .l3 = PS_IP4, .l4 = PS_UDP, .src = (s), .dst = 9, \
			  .sport = 40000, .dport = (dp), .payload = (pl) }
/* A 60-byte frame: 42 bytes of headers and 18 of payload. */
#define UDP60(s, dp)	UDP4L(s, dp, 18)

static const __u8 key_ip_src[] = { XFSM_FW_IP4_SRC };

/* ---- port knocking -------------------------------------------------------- */

static int app_portknock(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_IP_PROTO, XFSM_FW_L4_DPORT };
	static const struct { __u32 state; __u8 proto; __u16 port; } seq[] = {
		{ 0, 17, 1111 }, { 1, 17, 2222 }, { 2, 17, 3333 }, { 3, 17, 4444 },
	};
	struct rb b;
	unsigned int i;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_match_words(img, 0, words, 2);
	app_miss(img, 0, XFSM_VERDICT_DROP);
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		rb_init(&b, 10);
		rb_state(&b, seq[i].state);
		rb_match(&b, 0, seq[i].proto, 0xff);
		rb_match(&b, 1, seq[i].port, 0xffff);
		rb_next(&b, seq[i].state + 1);
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	rb_init(&b, 10);			/* rule 4: open */
	rb_state(&b, 4);
	rb_match(&b, 0, 6, 0xff);
	rb_match(&b, 1, 22, 0xffff);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 1);				/* rule 5: anything else resets */
	rb_next(&b, 0);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden portknock_steps[] = {
	{ "A knocks 1111", .pkt = UDP4(1, 1111), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 1, IPK(1)) }, .sstats = { SST(0, hits, 1), SST(0, flows_created, 1) } },
	{ "A knocks 2222", .pkt = UDP4(1, 2222), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 2, IPK(1)) } },
	{ "A knocks 3333", .pkt = UDP4(1, 3333), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 3, IPK(1)) } },
	{ "A knocks 4444", .pkt = UDP4(1, 4444), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 4, IPK(1)) } },
	{ "A: tcp 22 open", .pkt = TCP4(1, 22), .verdict = XDP_PASS,
	  .flows = { FLOW(0, 4, IPK(1)) }, .rules = { RULE(4, 1, 54) },
	  .stats = { ST(act_pass, 1) } },
	{ "B: tcp 22 still refused", .pkt = TCP4(2, 22), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(2)), FLOW(0, 4, IPK(1)) } },
	{ "A: tcp 22 again", .pkt = TCP4(1, 22), .verdict = XDP_PASS,
	  .rules = { RULE(4, 2, 108) } },
	{ "B knocks 1111", .pkt = UDP4(2, 1111), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 1, IPK(2)) } },
	{ "B knocks 2222", .pkt = UDP4(2, 2222), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 2, IPK(2)) } },
	{ "B wrong knock 5555 resets", .pkt = UDP4(2, 5555), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(2)) } },
	{ "B knocks 3333 from scratch", .pkt = UDP4(2, 3333), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(2)) } },
	{ "B knocks 4444", .pkt = UDP4(2, 4444), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(2)) } },
	{ "B: tcp 22 refused", .pkt = TCP4(2, 22), .verdict = XDP_DROP },
	{ "A: other traffic closes", .pkt = TCP4(1, 80), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(1)) } },
	{ "A: tcp 22 refused again", .pkt = TCP4(1, 22), .verdict = XDP_DROP,
	  .rules = { RULE(4, 2, 108) } },
	{ "C: tcp 22 with knocks in wrong order", .pkt = UDP4(3, 2222), .verdict = XDP_DROP,
	  .flows = { FLOW(0, 0, IPK(3)) } },
};

/* ---- MAC learning: lookup by eth.dst, learn by eth.src ------------------ */

#define ETHF(s, d)	{ .l3 = PS_ETH, .src = (s), .dst = (d), .payload = 46 }
#define MACK(x)		0x0200, (x)

static int app_maclearn(struct xfsm_image *img, bool redirect)
{
	static const __u8 dst[] = { XFSM_FW_ETH_DST_HI, XFSM_FW_ETH_DST_LO };
	static const __u8 src[] = { XFSM_FW_ETH_SRC_HI, XFSM_FW_ETH_SRC_LO };
	struct rb b;
	int err, i;

	app_init(img, 1, XFSM_VERDICT_DROP);
	img->app.flags |= XFSM_AF_NEEDS_PORT;
	err = app_keys(img, 0, dst, 2, src, 2);
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPR(0), OPM(XFSM_META_PORT));
	for (i = 0; i < 3; i++) {
		rb_init(&b, i < 2 ? 10 : 5);
		if (i < 2) {
			rb_state(&b, 1);
			rb_cond(&b, 0, i == 0);
		}
		rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 0, OPM(XFSM_META_PORT), OPNONE);
		/* reads the update-scope (source) flow, not the looked-up one */
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPC(1));
		rb_next(&b, 1);
		if (i == 0)
			rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);	/* same segment */
		else if (i == 1)
			rb_act(&b, redirect ? XFSM_ACT_OUTPUT : XFSM_ACT_TX, 0, OPR(0));
		else
			rb_act(&b, redirect ? XFSM_ACT_FLOOD : XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	return err;
}

static int app_maclearn_tx(struct xfsm_image *img)
{
	return app_maclearn(img, false);
}

static int app_maclearn_redirect(struct xfsm_image *img)
{
	return app_maclearn(img, true);
}

static int setup_tx_ports(struct xt *t)
{
	int err = 0;
	__u32 p;

	for (p = 1; p <= 4; p++)
		err = err ?: xt_set_tx_port(t, p, 1);
	return err;
}

static const struct golden maclearn_tx_steps[] = {
	{ "H1->H2 on port 1: H2 unknown", .pkt = ETHF(1, 2), .port = 1, .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 1, 3, 1, 1, 0, 0, MACK(1)), NOFLOW(0, MACK(2)) },
	  .sstats = { SST(0, flows_created, 1) } },
	{ "H2->H1 on port 2: H1 on port 1", .pkt = ETHF(2, 1), .port = 2, .verdict = XDP_TX,
	  .flows = { FLOW_R(0, 1, 3, 2, 1, 0, 0, MACK(2)), FLOW_R(0, 1, 3, 1, 1, 0, 0, MACK(1)) } },
	{ "H1->H2 on port 1: H2 on port 2", .pkt = ETHF(1, 2), .port = 1, .verdict = XDP_TX,
	  .flows = { FLOW_R(0, 1, 3, 1, 2, 0, 0, MACK(1)), FLOW_R(0, 1, 3, 2, 1, 0, 0, MACK(2)) },
	  .sstats = { SST(0, flows_created, 0) } },
	{ "H3->H2 on port 2: same segment", .pkt = ETHF(3, 2), .port = 2, .verdict = XDP_DROP,
	  .flows = { FLOW_R(0, 1, 3, 2, 1, 0, 0, MACK(3)), FLOW_R(0, 1, 3, 2, 1, 0, 0, MACK(2)) } },
	{ "H1 moves to port 3", .pkt = ETHF(1, 3), .port = 3, .verdict = XDP_TX,
	  .flows = { FLOW_R(0, 1, 3, 3, 3, 0, 0, MACK(1)) } },
	{ "H2->H1 on port 3 now filtered", .pkt = ETHF(2, 1), .port = 3, .verdict = XDP_DROP,
	  .flows = { FLOW_R(0, 1, 3, 3, 2, 0, 0, MACK(2)), FLOW_R(0, 1, 3, 3, 3, 0, 0, MACK(1)) } },
};

static const struct golden maclearn_redirect_steps[] = {
	{ "H1->H2 on port 1: flood", .pkt = ETHF(1, 2), .port = 1, .verdict = XDP_REDIRECT,
	  .stats = { ST(act_flood, 1) },
	  .flows = { FLOW_R(0, 1, 1, 1, 0, 0, 0, MACK(1)), NOFLOW(0, MACK(2)) } },
	{ "H2->H1 on port 2: output 1", .pkt = ETHF(2, 1), .port = 2, .verdict = XDP_REDIRECT,
	  .stats = { ST(act_output, 1) },
	  .flows = { FLOW_R(0, 1, 1, 2, 0, 0, 0, MACK(2)) } },
	{ "H1->H2: output 2", .pkt = ETHF(1, 2), .port = 1, .verdict = XDP_REDIRECT,
	  .stats = { ST(act_output, 1) } },
	{ "H3->H2 on port 2: filtered", .pkt = ETHF(3, 2), .port = 2, .verdict = XDP_DROP },
	{ "H4->H9 on port 4: flood", .pkt = ETHF(4, 9), .port = 4, .verdict = XDP_REDIRECT,
	  .stats = { ST(act_flood, 1) } },
};

/* ---- counter threshold ----------------------------------------------------- */

static int app_threshold(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_cond(img, 0, 0, XFSM_CMP_GE, OPR(0), OPC(3));
	rb_init(&b, 10);
	rb_cond(&b, 0, false);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_cond(&b, 0, true);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPC(1));
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden threshold_steps[] = {
	{ "A 1", .pkt = UDP60(1, 53), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 3, 1, 60, 0, 0, IPK(1)) } },
	{ "A 2", .pkt = UDP60(1, 53), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 3, 2, 120, 0, 0, IPK(1)) } },
	{ "A 3", .pkt = UDP4L(1, 53, 100), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 3, 3, 262, 0, 0, IPK(1)) } },
	{ "A 4 over the threshold", .pkt = UDP60(1, 53), .verdict = XDP_DROP,
	  .flows = { FLOW_R(0, 0, 3, 4, 262, 0, 0, IPK(1)) }, .globals = { GLOBAL(0, 1) } },
	{ "B has its own count", .pkt = UDP60(2, 53), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 1, 0, 0, 0, IPK(2)) }, .globals = { GLOBAL(0, 1) } },
	{ "A 5", .pkt = UDP60(1, 53), .verdict = XDP_DROP,
	  .flows = { FLOW_R(0, 0, 1, 5, 0, 0, 0, IPK(1)) }, .globals = { GLOBAL(0, 2) } },
};

/* ---- comparators: l4.dport OP 1000 ----------------------------------------- */

static int app_cmp(struct xfsm_image *img, __u8 op)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_TX);
	app_cond(img, 0, 0, op, OPF(XFSM_FW_L4_DPORT), OPC(1000));
	rb_init(&b, 10);
	rb_cond(&b, 0, true);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	err = rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_cond(&b, 0, false);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

#define V(x)	((x) ? XDP_DROP : XDP_PASS)
#define CMP_SCEN(name, OP, lt, eq, gt)					\
static int app_cmp_##name(struct xfsm_image *img)			\
{									\
	return app_cmp(img, OP);					\
}									\
static const struct golden cmp_##name##_steps[] = {			\
	{ "999 " #name " 1000", .pkt = UDP4(1, 999), .verdict = V(lt) },	\
	{ "1000 " #name " 1000", .pkt = UDP4(1, 1000), .verdict = V(eq) }, \
	{ "1001 " #name " 1000", .pkt = UDP4(1, 1001), .verdict = V(gt) }, \
	{ "65535 " #name " 1000", .pkt = UDP4(1, 65535), .verdict = V(gt) }, \
}

CMP_SCEN(lt, XFSM_CMP_LT, 1, 0, 0);
CMP_SCEN(le, XFSM_CMP_LE, 1, 1, 0);
CMP_SCEN(gt, XFSM_CMP_GT, 0, 0, 1);
CMP_SCEN(ge, XFSM_CMP_GE, 0, 1, 1);
CMP_SCEN(eq, XFSM_CMP_EQ, 0, 1, 0);
CMP_SCEN(ne, XFSM_CMP_NE, 1, 0, 1);
CMP_SCEN(none, XFSM_CMP_NONE, 0, 0, 0);

/* Comparisons are unsigned 64-bit: global 0 holds 2^64 - 1. */
static int app_cmp_unsigned(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	int err = 0, i;

	app_init(img, 1, XFSM_VERDICT_DROP);
	app_match_words(img, 0, words, 1);
	app_cond(img, 0, 0, XFSM_CMP_GT, OPG(0), OPC(5));
	app_cond(img, 0, 1, XFSM_CMP_LT, OPG(0), OPC(0x8000000000000000ULL));
	app_cond(img, 0, 2, XFSM_CMP_GE, OPG(0), OPC(~0ULL));
	app_cond(img, 0, 3, XFSM_CMP_LE, OPC(0x100000000ULL), OPF(XFSM_FW_L4_DPORT));
	for (i = 0; i < 4; i++) {
		rb_init(&b, 10);
		rb_match(&b, 0, i, 0xffff);
		rb_cond(&b, i, true);
		rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
		rb_init(&b, 10);
		rb_match(&b, 0, i, 0xffff);
		rb_cond(&b, i, false);
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	return err;
}

static int setup_cmp_unsigned(struct xt *t)
{
	return xfsm_global_set(t->inst, 0, ~0ULL);
}

static const struct golden cmp_unsigned_steps[] = {
	{ "2^64-1 > 5", .pkt = UDP4(1, 0), .verdict = XDP_TX },
	{ "2^64-1 < 2^63 is false", .pkt = UDP4(1, 1), .verdict = XDP_PASS },
	{ "2^64-1 >= 2^64-1", .pkt = UDP4(1, 2), .verdict = XDP_TX },
	{ "2^32 <= dport 3 is false", .pkt = UDP4(1, 3), .verdict = XDP_PASS },
};

/* ---- operand kinds in conditions and updates ------------------------------ */

#define OPND_VEC1	0x3d	/* c0 c2 c3 c4 c5 */
#define OPND_VEC2	0xbf	/* + c1 (reg0 > 0) + c7 (state == 1) */

static int app_operands(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_PASS);
	img->app.flags |= XFSM_AF_NEEDS_PORT;
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPF2(XFSM_FW_ETH_SRC_HI), OPC(TEST_MAC(1)));
	app_cond(img, 0, 1, XFSM_CMP_GT, OPR(0), OPC(0));
	app_cond(img, 0, 2, XFSM_CMP_EQ, OPG(2), OPC(77));
	app_cond(img, 0, 3, XFSM_CMP_EQ, OPM(XFSM_META_LEN), OPC(60));
	app_cond(img, 0, 4, XFSM_CMP_EQ, OPM(XFSM_META_PORT), OPC(4));
	app_cond(img, 0, 5, XFSM_CMP_GT, OPM(XFSM_META_TIME), OPC(1000));
	app_cond(img, 0, 6, XFSM_CMP_EQ, OPF(XFSM_FW_IP4_SRC), OPF(XFSM_FW_IP4_DST));
	app_cond(img, 0, 7, XFSM_CMP_EQ, ((struct xfsm_operand){ .kind = XFSM_OPND_STATE }),
		 OPC(1));

	rb_init(&b, 10);
	b.m.conds = OPND_VEC1;
	b.m.cond_mask = 0xff;
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 1, OPF2(XFSM_FW_ETH_SRC_HI), OPNONE);
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 2, OPM(XFSM_META_LEN), OPNONE);
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 3, OPM(XFSM_META_PORT), OPNONE);
	rb_next(&b, 1);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);

	rb_init(&b, 10);
	b.m.conds = OPND_VEC2;
	b.m.cond_mask = 0xff;
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_GLOBAL_REG, 5, OPM(XFSM_META_TIME), OPNONE);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 6, OPG(2), OPF(XFSM_FW_IP4_SRC));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);

	rb_init(&b, 1);			/* any other vector */
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static int setup_operands(struct xt *t)
{
	return xfsm_global_set(t->inst, 2, 77);
}

static bool check_time_global(struct xt *t, const struct golden *g,
			      const struct pkt *in, const struct xt_result *r)
{
	__u64 v = 0, now = xfsm_now_ns();

	(void)g; (void)in; (void)r;
	if (!ASSERT_OK(xfsm_global_get(t->inst, 5, &v), "global 5"))
		return false;
	if (t->profile == XT_OFFLOAD)
		return ASSERT_EQ(v, t->clock_ns, "meta.time is xfsm_ctl.clock_ns");
	return ASSERT_LE(v, now, "meta.time not in the future") &&
	       ASSERT_GE(v, now - 10000000000ULL, "meta.time is recent");
}

static const struct golden operands_steps[] = {
	{ "first packet: vector 0x3d", .pkt = UDP60(1, 53), .port = 4, .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 1, 0xf, 1, TEST_MAC(1), 60, 4, IPK(1)) } },
	{ "second packet: vector 0xbf", .pkt = UDP60(1, 53), .port = 4, .verdict = XDP_TX,
	  .flows = { FLOW_R(0, 1, 0xf, 2, TEST_MAC(1), 60, 4, IPK(1)) },
	  .globals = { GLOBAL(6, 77 + TEST_IP4(1)) }, .check = check_time_global },
	{ "other source mac: c0 false", .pkt = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1,
	  .dst = 9, .dport = 53, .payload = 18, .smac = TEST_MAC(7) }, .port = 4,
	  .verdict = XDP_DROP, .flows = { FLOW_R(0, 1, 1, 2, 0, 0, 0, IPK(1)) } },
	{ "61 bytes: c3 false", .pkt = UDP4L(1, 53, 19), .port = 4, .verdict = XDP_DROP },
	{ "port 5: c4 false", .pkt = UDP60(1, 53), .port = 5, .verdict = XDP_DROP },
	{ "ip.src == ip.dst: c6 true", .pkt = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 9,
	  .dst = 9, .dport = 53, .payload = 18, .smac = TEST_MAC(1) }, .port = 4,
	  .verdict = XDP_DROP, .flows = { NOFLOW(0, IPK(9)) } },
};

/* meta.ifindex is the ingress ifindex (lo, 1, in these runs). */
static int app_ifindex(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_PASS);
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPM(XFSM_META_IFINDEX), OPC(1));
	rb_init(&b, 1);
	rb_cond(&b, 0, true);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = rb_add(img, 0, &b);
	rb_init(&b, 1);
	rb_cond(&b, 0, false);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden ifindex_steps[] = {
	{ "meta.ifindex == 1", .pkt = UDP4(1, 9), .verdict = XDP_TX },
};

/* ---- update ops on flow register 0: one rule per l4.dport ------------------ */

struct upd_row {
	__u8	op;
	__u8	shift;
	__u8	dst_kind;
	__u8	dst;
	struct xfsm_operand a, b;
};

#define R0	OPR(0)
#define FLOW_REG	XFSM_OPND_FLOW_REG
#define GLOB_REG	XFSM_OPND_GLOBAL_REG

static const struct upd_row upd_rows[] = {
	/* 1000 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = 100 } },
	/* 1001 */ { XFSM_UPD_ADD, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 23 } },
	/* 1002 */ { XFSM_UPD_SUB, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 3 } },
	/* 1003 */ { XFSM_UPD_MUL, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 5 } },
	/* 1004 */ { XFSM_UPD_DIV, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 7 } },
	/* 1005 */ { XFSM_UPD_MOD, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 10 } },
	/* 1006 */ { XFSM_UPD_MIN, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 3 } },
	/* 1007 */ { XFSM_UPD_MAX, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 40 } },
	/* 1008 */ { XFSM_UPD_AND, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 0x0f } },
	/* 1009 */ { XFSM_UPD_OR, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 0x30 } },
	/* 1010 */ { XFSM_UPD_XOR, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 0xff } },
	/* 1011 */ { XFSM_UPD_SHL, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 60 } },
	/* 1012 */ { XFSM_UPD_SHR, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 62 } },
	/* 1013 */ { XFSM_UPD_SHL, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 65 } },
	/* 1014 */ { XFSM_UPD_SHR, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 65 } },
	/* 1015 */ { XFSM_UPD_SUB, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 2 } },
	/* 1016 */ { XFSM_UPD_ADD, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 2 } },
	/* 1017 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = 1000 } },
	/* 1018 */ { XFSM_UPD_EWMA, 2, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 2000 } },
	/* 1019 */ { XFSM_UPD_DIV, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 0 } },
	/* 1020 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = 7 } },
	/* 1021 */ { XFSM_UPD_MOD, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 0 } },
	/* 1022 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = ~0ULL } },
	/* 1023 */ { XFSM_UPD_MUL, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 2 } },
	/* 1024 */ { XFSM_UPD_ADD, 0, GLOB_REG, 3, { .kind = XFSM_OPND_GLOBAL_REG, .index = 3 }, { .kind = XFSM_OPND_FIELD, .index = XFSM_FW_L4_DPORT, .width = 1 } },
	/* 1025 */ { XFSM_UPD_EWMA, 3, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = 800 }, { .kind = XFSM_OPND_CONST, .value = 1600 } },
};

/* Unsigned 64-bit arithmetic, from dport 1029 on. */
static const struct upd_row upd_rows_unsigned[] = {
	/* 1029 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = ~0ULL } },
	/* 1030 */ { XFSM_UPD_MIN, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 5 } },
	/* 1031 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = ~0ULL } },
	/* 1032 */ { XFSM_UPD_MAX, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 5 } },
	/* 1033 */ { XFSM_UPD_SHR, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 63 } },
	/* 1034 */ { XFSM_UPD_SET, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = ~0ULL } },
	/* 1035 */ { XFSM_UPD_DIV, 0, FLOW_REG, 0, { .kind = XFSM_OPND_FLOW_REG }, { .kind = XFSM_OPND_CONST, .value = 2 } },
	/* 1036 */ { XFSM_UPD_MOD, 0, FLOW_REG, 0, { .kind = XFSM_OPND_CONST, .value = ~0ULL }, { .kind = XFSM_OPND_CONST, .value = 10 } },
};

/* Rule 1026: a chain of four updates reading the registers as updated so
 * far; 1027: division by registers; 1028: division by a zero register. */
static int app_updates(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	unsigned int i;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_match_words(img, 0, words, 1);
	for (i = 0; i < ARRAY_SIZE(upd_rows); i++) {
		const struct upd_row *u = &upd_rows[i];

		rb_init(&b, 10);
		rb_match(&b, 0, 1000 + i, 0xffff);
		rb_upd(&b, u->op, u->dst_kind, u->dst, u->a, u->b);
		b.r.upd[0].shift = u->shift;
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	for (i = 0; i < ARRAY_SIZE(upd_rows_unsigned); i++) {
		const struct upd_row *u = &upd_rows_unsigned[i];

		rb_init(&b, 10);
		rb_match(&b, 0, 1029 + i, 0xffff);
		rb_upd(&b, u->op, u->dst_kind, u->dst, u->a, u->b);
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	rb_init(&b, 10);		/* 1037: division by a large register */
	rb_match(&b, 0, 1037, 0xffff);
	rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 1, OPC(0x8000000000000001ULL), OPNONE);
	rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 2, OPC(~0ULL), OPNONE);
	rb_upd(&b, XFSM_UPD_DIV, FLOW_REG, 0, OPR(2), OPR(1));
	rb_upd(&b, XFSM_UPD_MOD, FLOW_REG, 3, OPR(2), OPR(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);		/* 1038: division by a register, odd values */
	rb_match(&b, 0, 1038, 0xffff);
	rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 1, OPC(0xfedcba9876543210ULL), OPNONE);
	rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 2, OPF(XFSM_FW_L4_SPORT), OPNONE);
	rb_upd(&b, XFSM_UPD_DIV, FLOW_REG, 0, OPR(1), OPR(2));
	rb_upd(&b, XFSM_UPD_MOD, FLOW_REG, 3, OPR(1), OPR(2));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_match(&b, 0, 1026, 0xffff);
	rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 0, OPC(5), OPNONE);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 1, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_MUL, FLOW_REG, 2, OPR(1), OPC(2));
	rb_upd(&b, XFSM_UPD_SUB, FLOW_REG, 3, OPR(2), OPR(0));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_match(&b, 0, 1027, 0xffff);
	rb_upd(&b, XFSM_UPD_DIV, FLOW_REG, 0, OPR(3), OPR(1));	/* 7 / 6 */
	rb_upd(&b, XFSM_UPD_MOD, FLOW_REG, 1, OPR(2), OPR(3));	/* 12 % 7 */
	rb_upd(&b, XFSM_UPD_DIV, FLOW_REG, 2, OPC(1000000007), OPR(3));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_match(&b, 0, 1028, 0xffff);
	rb_upd(&b, XFSM_UPD_DIV, FLOW_REG, 0, OPR(3), OPG(7));
	rb_upd(&b, XFSM_UPD_MOD, FLOW_REG, 1, OPR(3), OPG(7));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

#define UPD(n, val) { "op at dport " #n, .pkt = UDP4(1, n), .verdict = XDP_PASS, \
	.flows = { FLOW_R(0, 0, 1, (val), 0, 0, 0, IPK(1)) } }
#define UPD_DZ(n) { "division by zero at dport " #n, .pkt = UDP4(1, n), \
	.verdict = XDP_PASS, .stats = { ST(exc_div_zero, 1) }, \
	.flows = { FLOW_R(0, 0, 1, 0, 0, 0, 0, IPK(1)) } }

static const struct golden updates_steps[] = {
	UPD(1000, 100), UPD(1001, 123), UPD(1002, 120), UPD(1003, 600),
	UPD(1004, 85), UPD(1005, 5), UPD(1006, 3), UPD(1007, 40), UPD(1008, 8),
	UPD(1009, 0x38), UPD(1010, 0xc7), UPD(1011, 0x7000000000000000ULL),
	UPD(1012, 1), UPD(1013, 2), UPD(1014, 1), UPD(1015, ~0ULL), UPD(1016, 1),
	UPD(1017, 1000), UPD(1018, 1250), UPD_DZ(1019), UPD(1020, 7), UPD_DZ(1021),
	UPD(1022, ~0ULL), UPD(1023, ~1ULL),
	{ "global add of a field", .pkt = UDP4(1, 1024), .verdict = XDP_PASS,
	  .globals = { GLOBAL(3, 1024) }, .flows = { FLOW_R(0, 0, 1, ~1ULL, 0, 0, 0, IPK(1)) } },
	{ "ewma of constants", .pkt = UDP4(1, 1025), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 800 - 100 + 200, 0, 0, 0, IPK(1)) } },
	{ "updates see earlier updates", .pkt = UDP4(1, 1026), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 0xf, 5, 6, 12, 7, IPK(1)) } },
	{ "division by registers", .pkt = UDP4(1, 1027), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 0xf, 1, 5, 142857143, 7, IPK(1)) } },
	{ "division by a zero register", .pkt = UDP4(1, 1028), .verdict = XDP_PASS,
	  .stats = { ST(exc_div_zero, 2) },
	  .flows = { FLOW_R(0, 0, 0xf, 0, 0, 142857143, 7, IPK(1)) } },
	UPD(1029, ~0ULL), UPD(1030, 5), UPD(1031, ~0ULL), UPD(1032, ~0ULL), UPD(1033, 1),
	UPD(1034, ~0ULL), UPD(1035, 0x7fffffffffffffffULL), UPD(1036, 5),
	{ "unsigned division by a large register", .pkt = UDP4(1, 1037), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 0xf, 1, 0x8000000000000001ULL, ~0ULL,
			    0x7ffffffffffffffeULL, IPK(1)) } },
	{ "division by a register (sport 40000)", .pkt = UDP4(1, 1038), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 0xf, 0xfedcba9876543210ULL / 40000, 0xfedcba9876543210ULL,
			    40000, 0xfedcba9876543210ULL % 40000, IPK(1)) } },
	{ "another source starts at zero", .pkt = UDP4(2, 1001), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 23, 0, 0, 0, IPK(2)),
		     FLOW_R(0, 0, 1, 0xfedcba9876543210ULL / 40000, 0, 0, 0, IPK(1)) } },
	{ "no rule: miss, default verdict", .pkt = UDP4(1, 999), .verdict = XDP_DROP,
	  .sstats = { SST(0, misses, 1), SST(0, hits, 0) } },
};

/* ---- timeouts ---------------------------------------------------------------- */

static int app_timeouts(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	static const struct { __u32 idle, hard; } t[] = {
		{ 50, 0 }, { 0, 60 }, { 60, 80 }, { 30, 80 }, { 40, 90 },
		{ 0, 0 }, { 10000, 0 }, { 0, 10000 },	/* dport 6 is taken below */
	};
	struct rb b;
	unsigned int i;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_match_words(img, 0, words, 1);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (i == 5)
			continue;
		rb_init(&b, 10);
		rb_state(&b, 0);
		rb_match(&b, 0, i + 1, 0xffff);
		rb_upd(&b, XFSM_UPD_SET, FLOW_REG, 0, OPC(42), OPNONE);
		rb_next(&b, 5);
		rb_idle(&b, t[i].idle, 7);
		rb_hard(&b, t[i].hard, 9);
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	rb_init(&b, 10);		/* dport 6 in state 5: re-enter 5 */
	rb_state(&b, 5);
	rb_match(&b, 0, 6, 0xffff);
	rb_next(&b, 5);
	rb_hard(&b, 60, 9);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 5);
	rb_state(&b, 5);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 5);
	rb_state(&b, 7);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 5);
	rb_state(&b, 9);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

/* The timer fields of flow 198.18.0.src after a step. */
static bool flow_timers(struct xt *t, unsigned int src, __u32 idle_ms, __u32 idle_rb,
			__u32 hard_ms, __u32 hard_rb)
{
	__u32 w[XFSM_KEY_WORDS] = { IPK(src) };
	struct xfsm_flow f;
	bool ok = true;

	if (!ASSERT_OK(xt_find_flow(t, 0, w, NULL, &f), "flow"))
		return false;
	ok &= ASSERT_EQ(f.idle_timeout_ms, idle_ms, "idle_timeout_ms");
	if (idle_ms)
		ok &= ASSERT_EQ(f.idle_rollback, idle_rb, "idle_rollback");
	if (hard_ms)
		ok &= ASSERT_EQ(f.hard_rollback, hard_rb, "hard_rollback") &
		      ASSERT_EQ(f.hard_deadline_ns - f.created_ns, hard_ms * 1000000ULL,
				"hard_deadline_ns = entry + hard timeout");
	else
		ok &= ASSERT_EQ(f.hard_deadline_ns, 0, "no hard deadline");
	if (idle_ms)
		ok &= ASSERT_EQ(f.last_seen_ns, f.created_ns, "last_seen_ns = entry time");
	if (t->profile == XT_OFFLOAD && (idle_ms || hard_ms))
		ok &= ASSERT_EQ(f.created_ns, t->clock_ns, "created_ns = xfsm_ctl.clock_ns");
	else if (idle_ms || hard_ms)
		ok &= ASSERT_LE(f.created_ns, xfsm_now_ns(), "created_ns not in the future") &
		      ASSERT_GE(f.created_ns, xfsm_now_ns() - 10000000000ULL, "created_ns recent");
	return ok;
}

#define TIMERS(name, src, im, ir, hm, hr)				\
static bool name(struct xt *t, const struct golden *g,			\
		 const struct pkt *in, const struct xt_result *r)	\
{									\
	(void)g; (void)in; (void)r;					\
	return flow_timers(t, src, im, ir, hm, hr);			\
}

TIMERS(timers_idle50, 1, 50, 7, 0, 0)
TIMERS(timers_cleared1, 1, 0, 0, 0, 0)
TIMERS(timers_hard60, 2, 0, 0, 60, 9)
TIMERS(timers_cleared2, 2, 0, 0, 0, 0)
TIMERS(timers_both, 3, 60, 7, 80, 9)

/*
 * Both timeouts of flow 198.18.0.src expired when a packet reads it, the
 * hard deadline `lead_ms` before the idle one (0: the same instant): as
 * if its last packet had pushed the idle deadline there (the idle timeout
 * is shorter than the hard one, as every writer must make it).  Written
 * into the flow rather than made with packets: with the real clock,
 * "refreshed before the idle timeout ran out" would be a timed assertion.
 */
static bool expire_both(struct xt *t, unsigned int src, __u32 lead_ms)
{
	__u32 w[XFSM_KEY_WORDS] = { IPK(src) };
	__u64 now = t->profile == XT_OFFLOAD ? t->clock_ns : xfsm_now_ns(), hard_ns;
	struct xfsm_flow_key key;
	struct xfsm_flow f;

	if (!ASSERT_OK(xt_find_flow(t, 0, w, &key, &f), "flow") ||
	    !ASSERT_TRUE(f.idle_timeout_ms && f.hard_deadline_ns, "both timeouts run"))
		return false;
	hard_ns = f.hard_deadline_ns - f.created_ns;
	f.created_ns = now - 100000000ULL - hard_ns;
	f.hard_deadline_ns = f.created_ns + hard_ns;		/* 100ms ago */
	f.last_seen_ns = f.hard_deadline_ns + lead_ms * 1000000ULL -
			 f.idle_timeout_ms * 1000000ULL;
	return ASSERT_TRUE(f.last_seen_ns >= f.created_ns &&
			   f.last_seen_ns + f.idle_timeout_ms * 1000000ULL < now, "both past") &&
	       ASSERT_OK(xfsm_flow_set(t->inst, &key, &f), "flow written");
}

static bool expire_hard_first(struct xt *t)
{
	return expire_both(t, 3, 10);
}

static bool expire_tie(struct xt *t)
{
	return expire_both(t, 6, 0);
}

/* last_seen_ns follows the packets only while an idle timeout runs. */
static __u64 entered_ns[2];

static bool last_seen_step(struct xt *t, unsigned int src, int which, bool entry)
{
	__u32 w[XFSM_KEY_WORDS] = { IPK(src) };
	struct xfsm_flow f;

	if (!ASSERT_OK(xt_find_flow(t, 0, w, NULL, &f), "flow"))
		return false;
	if (entry) {
		entered_ns[which] = f.created_ns;
		return ASSERT_EQ(f.last_seen_ns, f.created_ns, "last_seen_ns = entry time");
	}
	if (!ASSERT_EQ(f.created_ns, entered_ns[which], "created_ns kept"))
		return false;
	if (which == 0)
		return ASSERT_GE(f.last_seen_ns, f.created_ns + 1000000, "idle: last_seen_ns moved");
	return ASSERT_EQ(f.last_seen_ns, f.created_ns, "no idle timeout: last_seen_ns kept");
}

static bool ls_idle_entry(struct xt *t, const struct golden *g, const struct pkt *in,
			  const struct xt_result *r)
{
	(void)g; (void)in; (void)r;
	return last_seen_step(t, 8, 0, true);
}

static bool ls_idle_later(struct xt *t, const struct golden *g, const struct pkt *in,
			  const struct xt_result *r)
{
	(void)g; (void)in; (void)r;
	return last_seen_step(t, 8, 0, false);
}

static bool ls_hard_entry(struct xt *t, const struct golden *g, const struct pkt *in,
			  const struct xt_result *r)
{
	(void)g; (void)in; (void)r;
	return last_seen_step(t, 9, 1, true);
}

static bool ls_hard_later(struct xt *t, const struct golden *g, const struct pkt *in,
			  const struct xt_result *r)
{
	(void)g; (void)in; (void)r;
	return last_seen_step(t, 9, 1, false);
}

/* Only "expired after the deadline" is checked here: "not before" would be
 * a timed assertion with the real clock (each BPF_PROG_TEST_RUN waits for
 * RCU grace periods); the exact-clock table below checks it offloaded. */
static const struct golden timeout_steps[] = {
	{ "idle 50ms: enter state 5", .pkt = UDP4(1, 1), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 5, 1, 42, 0, 0, 0, IPK(1)) }, .check = timers_idle50 },
	{ "after 100ms: idle rollback to 7, registers kept", .pkt = UDP4(1, 100),
	  .advance_ms = 100, .verdict = XDP_DROP, .sstats = { SST(0, idle_expired, 1) },
	  .flows = { FLOW_R(0, 7, 1, 42, 0, 0, 0, IPK(1)) }, .check = timers_cleared1 },
	{ "timeouts cleared by the rollback", .pkt = UDP4(1, 100), .advance_ms = 100,
	  .verdict = XDP_DROP, .flows = { FLOW(0, 7, IPK(1)) } },
	{ "hard 60ms: enter state 5", .pkt = UDP4(2, 2), .verdict = XDP_PASS,
	  .flows = { FLOW(0, 5, IPK(2)) }, .check = timers_hard60 },
	{ "after 100ms: hard rollback to 9", .pkt = UDP4(2, 100), .advance_ms = 100,
	  .verdict = XDP_TX, .sstats = { SST(0, hard_expired, 1) },
	  .flows = { FLOW_R(0, 9, 1, 42, 0, 0, 0, IPK(2)) }, .check = timers_cleared2 },
	{ "idle 60 + hard 80: enter 5", .pkt = UDP4(3, 3), .verdict = XDP_PASS,
	  .check = timers_both },
	{ "both expired, hard first", .pkt = UDP4(3, 100), .before = expire_hard_first,
	  .verdict = XDP_TX, .sstats = { SST(0, hard_expired, 1) },
	  .flows = { FLOW(0, 9, IPK(3)) } },
	{ "idle 30 + hard 80: enter 5", .pkt = UDP4(4, 4), .verdict = XDP_PASS },
	{ "both expired, idle first", .pkt = UDP4(4, 100), .advance_ms = 100,
	  .verdict = XDP_DROP, .sstats = { SST(0, idle_expired, 1) },
	  .flows = { FLOW(0, 7, IPK(4)) } },
	{ "idle 40 + hard 90: enter 5", .pkt = UDP4(6, 5), .verdict = XDP_PASS },
	{ "both expired at the same instant: hard wins the tie", .pkt = UDP4(6, 100),
	  .before = expire_tie, .verdict = XDP_TX, .sstats = { SST(0, hard_expired, 1) },
	  .flows = { FLOW(0, 9, IPK(6)) } },
	{ "idle 10 s: enter 5", .pkt = UDP4(8, 7), .verdict = XDP_PASS, .check = ls_idle_entry },
	{ "a packet 1ms later refreshes last_seen", .pkt = UDP4(8, 100), .advance_ms = 1,
	  .verdict = XDP_PASS, .check = ls_idle_later },
	{ "hard 10 s: enter 5", .pkt = UDP4(9, 8), .verdict = XDP_PASS, .check = ls_hard_entry },
	{ "a packet 1ms later leaves last_seen", .pkt = UDP4(9, 100), .advance_ms = 1,
	  .verdict = XDP_PASS, .check = ls_hard_later },
	{ "a flow without packets is not rolled back", .pkt = UDP4(5, 1), .verdict = XDP_PASS,
	  .flows = { FLOW(0, 5, IPK(5)), FLOW(0, 7, IPK(1)) } },
};

/* Exact clock (offload): traffic inside the idle timeout keeps it alive. */
static const struct golden idle_refresh_steps[] = {
	{ "idle 50ms: enter 5", .pkt = UDP4(1, 1), .verdict = XDP_PASS },
	{ "30ms later", .pkt = UDP4(1, 100), .advance_ms = 30, .verdict = XDP_PASS,
	  .flows = { FLOW(0, 5, IPK(1)) } },
	{ "30ms later: 60ms since entry, 30 since last", .pkt = UDP4(1, 100),
	  .advance_ms = 30, .verdict = XDP_PASS, .flows = { FLOW(0, 5, IPK(1)) } },
	{ "49ms later", .pkt = UDP4(1, 100), .advance_ms = 49, .verdict = XDP_PASS },
	{ "exactly 50ms later: expired", .pkt = UDP4(1, 100), .advance_ms = 50,
	  .verdict = XDP_DROP, .sstats = { SST(0, idle_expired, 1) } },
	{ "hard 60ms", .pkt = UDP4(2, 2), .verdict = XDP_PASS },
	{ "59ms", .pkt = UDP4(2, 100), .advance_ms = 59, .verdict = XDP_PASS },
	{ "60ms: expired", .pkt = UDP4(2, 100), .advance_ms = 1, .verdict = XDP_TX,
	  .sstats = { SST(0, hard_expired, 1) } },
	{ "hard 60ms again", .pkt = UDP4(3, 2), .verdict = XDP_PASS },
	{ "40ms: re-enter the state", .pkt = UDP4(3, 6), .advance_ms = 40, .verdict = XDP_PASS },
	{ "80ms: restarted deadline not reached", .pkt = UDP4(3, 100), .advance_ms = 40,
	  .verdict = XDP_PASS, .flows = { FLOW(0, 5, IPK(3)) } },
	{ "100ms: 60ms after re-entry, expired", .pkt = UDP4(3, 100), .advance_ms = 20,
	  .verdict = XDP_TX, .sstats = { SST(0, hard_expired, 1) },
	  .flows = { FLOW(0, 9, IPK(3)) } },
	{ "idle 50 again", .pkt = UDP4(4, 1), .verdict = XDP_PASS },
	{ "10ms: re-enter with hard 60 and no idle", .pkt = UDP4(4, 6), .advance_ms = 10,
	  .verdict = XDP_PASS },
	{ "65ms: the idle timeout was replaced by none", .pkt = UDP4(4, 100), .advance_ms = 55,
	  .verdict = XDP_PASS, .flows = { FLOW(0, 5, IPK(4)) } },
	{ "70ms: hard expired", .pkt = UDP4(4, 100), .advance_ms = 5, .verdict = XDP_TX,
	  .sstats = { SST(0, hard_expired, 1) } },
};

/* ---- symmetric keys ------------------------------------------------------------ */

static int app_symmetric(struct xfsm_image *img)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST,
				    XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT };
	static const __u8 rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC,
				    XFSM_FW_L4_DPORT, XFSM_FW_L4_SPORT };
	static const __u8 words[] = { XFSM_FW_TCP_FLAGS };
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys_sym(img, 0, key, rev, 4);
	app_match_words(img, 0, words, 1);
	rb_init(&b, 10);
	rb_state(&b, 0);
	rb_match(&b, 0, TCPF_SYN, 0xff);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
	rb_next(&b, 1);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);
	rb_state(&b, 1);
	rb_match(&b, 0, TCPF_SYN | TCPF_ACK, 0xff);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
	rb_next(&b, 2);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 5);
	rb_state(&b, 2);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

#define TCPX(s, d, sp, dp, fl) { .l3 = PS_IP4, .l4 = PS_TCP, .src = (s), .dst = (d), \
				 .sport = (sp), .dport = (dp), .flags = (fl) }
#define CONN	IPK(1), IPK(2), 1000, 80

static const struct golden symmetric_steps[] = {
	{ "A->B SYN", .pkt = TCPX(1, 2, 1000, 80, TCPF_SYN), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 1, 1, 1, 0, 0, 0, CONN) } },
	{ "B->A SYN-ACK shares the entry", .pkt = TCPX(2, 1, 80, 1000, TCPF_SYN | TCPF_ACK),
	  .verdict = XDP_PASS, .flows = { FLOW_R(0, 2, 1, 2, 0, 0, 0, CONN),
	  NOFLOW(0, IPK(2), IPK(1), 80, 1000) } },
	{ "A->B ACK", .pkt = TCPX(1, 2, 1000, 80, TCPF_ACK), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 2, 1, 3, 0, 0, 0, CONN) } },
	{ "C->B ACK: unknown connection", .pkt = TCPX(3, 2, 1000, 80, TCPF_ACK),
	  .verdict = XDP_DROP, .flows = { NOFLOW(0, IPK(2), IPK(3), 80, 1000),
	  NOFLOW(0, IPK(3), IPK(2), 1000, 80) } },
	{ "B->A ACK", .pkt = TCPX(2, 1, 80, 1000, TCPF_ACK), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 2, 1, 4, 0, 0, 0, CONN) } },
	{ "B->A other port pair: new flow, SYN-ACK refused", .pkt = TCPX(2, 1, 81, 1000,
	  TCPF_SYN | TCPF_ACK), .verdict = XDP_DROP },
	{ "B:443->A:5 SYN first: stored as the smaller key", .pkt = TCPX(2, 1, 443, 5, TCPF_SYN),
	  .verdict = XDP_PASS, .flows = { FLOW_R(0, 1, 1, 1, 0, 0, 0, IPK(1), IPK(2), 5, 443),
	  NOFLOW(0, IPK(2), IPK(1), 443, 5) } },
	{ "A:5->B:443 SYN-ACK", .pkt = TCPX(1, 2, 5, 443, TCPF_SYN | TCPF_ACK),
	  .verdict = XDP_PASS, .flows = { FLOW_R(0, 2, 1, 2, 0, 0, 0, IPK(1), IPK(2), 5, 443) } },
	{ "same address both ways: ports decide", .pkt = TCPX(7, 7, 1000, 80, TCPF_SYN),
	  .verdict = XDP_PASS, .flows = { FLOW(0, 1, IPK(7), IPK(7), 80, 1000),
	  NOFLOW(0, IPK(7), IPK(7), 1000, 80) } },
	{ "same address, reverse direction", .pkt = TCPX(7, 7, 80, 1000, TCPF_SYN | TCPF_ACK),
	  .verdict = XDP_PASS, .flows = { FLOW_R(0, 2, 1, 2, 0, 0, 0, IPK(7), IPK(7), 80, 1000) } },
};

/* ---- goto ------------------------------------------------------------------------ */

static int app_goto(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	int err = 0, i;

	app_init(img, 3, XFSM_VERDICT_PASS);
	for (i = 0; i < 3; i++)
		app_match_words(img, i, words, 1);
	/* stage 0: dport 1 -> goto 2; otherwise fall through */
	rb_init(&b, 10);
	rb_match(&b, 0, 1, 0xffff);
	rb_act(&b, XFSM_ACT_GOTO, 2, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	/* stage 1: dport 2 -> goto 0 (backward), 3 -> goto 1 (itself),
	 * 4 -> goto 2; else drop */
	for (i = 2; i <= 4; i++) {
		rb_init(&b, 10);
		rb_match(&b, 0, i, 0xffff);
		rb_act(&b, XFSM_ACT_GOTO, i - 2, OPNONE);
		err = err ?: rb_add(img, 1, &b);
	}
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	err = err ?: rb_add(img, 1, &b);
	/* stage 2: tx */
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	return err ?: rb_add(img, 2, &b);
}

static const struct golden goto_steps[] = {
	{ "goto 2 skips stage 1", .pkt = UDP4(1, 1), .verdict = XDP_TX,
	  .stats = { ST(act_goto, 1) },
	  .sstats = { SST(0, packets, 1), SST(1, packets, 0), SST(2, packets, 1),
		      SST(0, hits, 1), SST(2, hits, 1) } },
	{ "falls through to stage 1", .pkt = UDP4(1, 9), .verdict = XDP_DROP,
	  .sstats = { SST(0, misses, 1), SST(1, hits, 1), SST(2, packets, 0) } },
	{ "goto backward", .pkt = UDP4(1, 2), .verdict = XDP_DROP,
	  .stats = { ST(exc_goto_backward, 1) }, .sstats = { SST(2, packets, 0) } },
	{ "goto itself", .pkt = UDP4(1, 3), .verdict = XDP_DROP,
	  .stats = { ST(exc_goto_backward, 1) }, .sstats = { SST(2, packets, 0) } },
	{ "goto next", .pkt = UDP4(1, 4), .verdict = XDP_TX, .stats = { ST(act_goto, 1) },
	  .sstats = { SST(1, packets, 1), SST(2, packets, 1) } },
};

/* ---- misses -------------------------------------------------------------------- */

static int app_misses(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	int err = 0, i;

	app_init(img, 4, XFSM_VERDICT_TX);
	app_match_words(img, 0, words, 1);
	for (i = 1; i <= 3; i++) {
		rb_init(&b, 10);
		rb_match(&b, 0, 10 * i, 0xffff);
		rb_act(&b, XFSM_ACT_GOTO, i, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	app_miss(img, 0, XFSM_VERDICT_CONTINUE);
	app_miss(img, 1, XFSM_VERDICT_DROP);
	app_miss(img, 2, XFSM_VERDICT_PASS);
	app_miss(img, 3, XFSM_VERDICT_CONTINUE);
	return err;
}

static const struct golden misses_steps[] = {
	{ "stage 1 miss: drop", .pkt = UDP4(1, 10), .verdict = XDP_DROP,
	  .sstats = { SST(1, misses, 1), SST(0, hits, 1) } },
	{ "stage 2 miss: pass", .pkt = UDP4(1, 20), .verdict = XDP_PASS,
	  .sstats = { SST(2, misses, 1), SST(1, packets, 0) } },
	{ "stage 3 miss: continue, default verdict tx", .pkt = UDP4(1, 30), .verdict = XDP_TX,
	  .sstats = { SST(3, misses, 1) } },
	{ "stage 0 miss: continue into stage 1", .pkt = UDP4(1, 40), .verdict = XDP_DROP,
	  .sstats = { SST(0, misses, 1), SST(1, misses, 1), SST(0, hits, 0) } },
};

/* ---- priorities across tuples -------------------------------------------------- */

static int app_priorities(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_IP4_SRC, XFSM_FW_L4_DPORT };
	static const struct { __u32 src, dport, prio; __u8 act; } r[] = {
		{ 0, 80, 5, XFSM_ACT_DROP },		/* dport tuple */
		{ 1, 0, 10, XFSM_ACT_PASS },		/* src tuple */
		{ 2, 80, 3, XFSM_ACT_TX },		/* src+dport tuple */
		{ 3, 0, 7, XFSM_ACT_TX },		/* src tuple */
		{ 4, 80, 20, XFSM_ACT_PASS },		/* src+dport tuple */
		{ 6, 0, 15, XFSM_ACT_TX },		/* src tuple, max 15 */
		{ 0, 90, 15, XFSM_ACT_DROP },		/* dport tuple, max 15 */
	};
	struct rb b;
	unsigned int i;
	int err = 0;

	app_init(img, 1, XFSM_VERDICT_DROP);
	app_match_words(img, 0, words, 2);
	app_miss(img, 0, XFSM_VERDICT_TX);
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		rb_init(&b, r[i].prio);
		if (r[i].src)
			rb_match(&b, 0, IPK(r[i].src), 0xffffffff);
		if (r[i].dport)
			rb_match(&b, 1, r[i].dport, 0xffff);
		rb_act(&b, r[i].act, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	return err;
}

/* The src tuple went ahead of the dport tuple when rule 1 (10 > 5) was
 * added, and the stable sort keeps it there at 15 == 15. */
static bool check_src_tuple_first(struct xt *t, const struct golden *g,
				  const struct pkt *in, const struct xt_result *r)
{
	struct xfsm_image live;
	int src = -1, dport = -1, i;
	bool ok;

	(void)g; (void)in; (void)r;
	xfsm_image_init(&live);
	ok = ASSERT_OK(xfsm_read_app(t->inst, &live), "read app");
	for (i = 0; ok && i < live.app.stages[0].n_tuples; i++) {
		const struct xfsm_tuple *tp = &live.app.stages[0].tuples[i];

		if (tp->match_mask[0] && !tp->match_mask[1])
			src = i;
		if (!tp->match_mask[0] && tp->match_mask[1])
			dport = i;
	}
	ok = ok && ASSERT_TRUE(src >= 0 && dport >= 0 && src < dport,
			       "src tuple before dport tuple in the tuple array");
	xfsm_image_free(&live);
	return ok;
}

static const struct golden priorities_steps[] = {
	{ "A:80 src rule (10) beats dport rule (5)", .pkt = UDP4(1, 80), .verdict = XDP_PASS,
	  .rules = { RULE(1, 1, 42), RULE(0, 0, 0) } },
	{ "B:80 dport rule (5) beats src+dport (3)", .pkt = UDP4(2, 80), .verdict = XDP_DROP,
	  .rules = { RULE(0, 1, 42), RULE(2, 0, 0) } },
	{ "B:81 miss", .pkt = UDP4(2, 81), .verdict = XDP_TX, .sstats = { SST(0, misses, 1) } },
	{ "C:80 src rule (7) beats dport rule (5)", .pkt = UDP4(3, 80), .verdict = XDP_TX },
	{ "D:80 src+dport (20)", .pkt = UDP4(4, 80), .verdict = XDP_PASS,
	  .rules = { RULE(4, 1, 42) } },
	{ "E:80 dport only", .pkt = UDP4(5, 80), .verdict = XDP_DROP },
	{ "F:90 equal priorities: the earlier (src) tuple", .pkt = UDP4(6, 90),
	  .verdict = XDP_TX, .rules = { RULE(5, 1, 42), RULE(6, 0, 0) },
	  .check = check_src_tuple_first },
	{ "F:91 src rule", .pkt = UDP4(6, 91), .verdict = XDP_TX, .rules = { RULE(5, 2, 84) } },
};

/* ---- full flow table ------------------------------------------------------------- */

static int app_count_src(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

#define NEWFLOW(s) { "source " #s, .pkt = UDP4(s, 9), .verdict = XDP_PASS, \
	.sstats = { SST(0, flows_created, 1) }, .flows = { FLOW_R(0, 0, 1, 1, 0, 0, 0, IPK(s)) } }

static const struct golden table_full_steps[] = {
	NEWFLOW(1), NEWFLOW(2), NEWFLOW(3), NEWFLOW(4),
	{ "source 5: table full, verdict still given", .pkt = UDP4(5, 9), .verdict = XDP_PASS,
	  .stats = { ST(exc_flow_table_full, 1) },
	  .sstats = { SST(0, table_full, 1), SST(0, flows_created, 0) },
	  .flows = { NOFLOW(0, IPK(5)) } },
	{ "source 1 still counts", .pkt = UDP4(1, 9), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 2, 0, 0, 0, IPK(1)) } },
};

/* A rule that writes no flow state creates no entry. */
static int app_readonly(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, GLOB_REG, 1, OPG(1), OPM(XFSM_META_LEN));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden readonly_steps[] = {
	{ "global-only rule", .pkt = UDP60(1, 9), .verdict = XDP_PASS,
	  .flows = { NOFLOW(0, IPK(1)) }, .globals = { GLOBAL(1, 60) },
	  .sstats = { SST(0, flows_created, 0) } },
	{ "again", .pkt = UDP60(2, 9), .verdict = XDP_PASS,
	  .flows = { NOFLOW(0, IPK(2)) }, .globals = { GLOBAL(1, 120) } },
};

/* ---- masks: state mask and don't-care condition bits ------------------ */

static int app_masks(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_match_words(img, 0, words, 1);
	app_cond(img, 0, 0, XFSM_CMP_GT, OPF(XFSM_FW_L4_DPORT), OPC(100));
	app_cond(img, 0, 1, XFSM_CMP_LT, OPF(XFSM_FW_L4_DPORT), OPC(200));
	rb_init(&b, 5);				/* rule 0: dport > 100, bit 1 don't care */
	rb_cond(&b, 0, true);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 10);			/* rule 1: 100 < dport < 200 */
	rb_cond(&b, 0, true);
	rb_cond(&b, 1, true);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 20);			/* rule 2: states 0x10..0x1f */
	b.m.state = 0x10;
	b.m.state_mask = 0xf0;
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 30);			/* rule 3: dport 7 enters 0x15 */
	rb_match(&b, 0, 7, 0xffff);
	rb_next(&b, 0x15);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 30);			/* rule 4: dport 8 enters 0x25 */
	rb_match(&b, 0, 8, 0xffff);
	rb_next(&b, 0x25);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden masks_steps[] = {
	{ "150: both conditions", .pkt = UDP4(1, 150), .verdict = XDP_PASS,
	  .rules = { RULE(1, 1, 42), RULE(0, 0, 0) } },
	{ "250: condition 1 is don't care", .pkt = UDP4(1, 250), .verdict = XDP_TX,
	  .rules = { RULE(0, 1, 42) } },
	{ "50: no rule, default", .pkt = UDP4(1, 50), .verdict = XDP_DROP,
	  .sstats = { SST(0, misses, 1) } },
	{ "enter state 0x15", .pkt = UDP4(1, 7), .verdict = XDP_PASS,
	  .flows = { FLOW(0, 0x15, IPK(1)) } },
	{ "state 0x15 matches 0x10/0xf0", .pkt = UDP4(1, 150), .verdict = XDP_DROP,
	  .rules = { RULE(2, 1, 42) } },
	{ "enter state 0x25", .pkt = UDP4(1, 8), .verdict = XDP_PASS,
	  .flows = { FLOW(0, 0x25, IPK(1)) } },
	{ "state 0x25 does not", .pkt = UDP4(1, 150), .verdict = XDP_PASS,
	  .rules = { RULE(2, 1, 42), RULE(1, 2, 84) } },
};

/* ---- the same key in two stages: separate entries ------------------------ */

static int app_two_tables(struct xfsm_image *img)
{
	static const __u8 key_dst[] = { XFSM_FW_IP4_DST };
	struct rb b;
	int err;

	app_init(img, 3, XFSM_VERDICT_PASS);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	err = err ?: app_keys(img, 1, key_ip_src, 1, key_ip_src, 1);
	err = err ?: app_keys(img, 2, key_dst, 1, key_dst, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
	err = err ?: rb_add(img, 0, &b);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(10));
	rb_next(&b, 3);
	err = err ?: rb_add(img, 1, &b);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 3, OPR(3), OPM(XFSM_META_LEN));
	return err ?: rb_add(img, 2, &b);
}

static const struct golden two_tables_steps[] = {
	{ "1 -> 9", .pkt = UDP4(1, 5), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 1, 0, 0, 0, IPK(1)), FLOW_R(1, 3, 1, 10, 0, 0, 0, IPK(1)),
		     FLOW_R(2, 0, 8, 0, 0, 0, 42, IPK(9)) },
	  .sstats = { SST(0, flows_created, 1), SST(1, flows_created, 1),
		      SST(2, flows_created, 1) } },
	{ "1 -> 9 again", .pkt = UDP4(1, 5), .verdict = XDP_PASS,
	  .flows = { FLOW_R(0, 0, 1, 2, 0, 0, 0, IPK(1)), FLOW_R(1, 3, 1, 20, 0, 0, 0, IPK(1)),
		     FLOW_R(2, 0, 8, 0, 0, 0, 84, IPK(9)), NOFLOW(2, IPK(1)) } },
};

/* ---- sixteen conditions ---------------------------------------------------------- */

static int app_sixteen_conds(struct xfsm_image *img)
{
	struct rb b;
	int err, i;

	app_init(img, 1, XFSM_VERDICT_DROP);
	for (i = 0; i < XFSM_MAX_CONDS; i++)
		app_cond(img, 0, i, XFSM_CMP_GT, OPF(XFSM_FW_L4_DPORT), OPC(10 * i));
	rb_init(&b, 1);
	b.m.conds = 0xffff;
	b.m.cond_mask = 0xffff;
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = rb_add(img, 0, &b);
	rb_init(&b, 1);
	b.m.conds = 0x00ff;
	b.m.cond_mask = 0xffff;
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static const struct golden sixteen_conds_steps[] = {
	{ "155: all sixteen true", .pkt = UDP4(1, 155), .verdict = XDP_TX },
	{ "150: condition 15 false", .pkt = UDP4(1, 150), .verdict = XDP_DROP },
	{ "75: conditions 0-7 true", .pkt = UDP4(1, 75), .verdict = XDP_PASS },
	{ "85: conditions 0-8 true", .pkt = UDP4(1, 85), .verdict = XDP_DROP },
};

/* ---- eight stages (native maximum) ------------------------------------------------- */

static int app_eight_stages(struct xfsm_image *img)
{
	struct rb b;
	int err = 0, i;

	app_init(img, XFSM_MAX_STAGES, XFSM_VERDICT_DROP);
	for (i = 0; i < XFSM_MAX_STAGES; i++) {
		rb_init(&b, 1);
		rb_upd(&b, XFSM_UPD_ADD, GLOB_REG, i, OPG(i), OPC(i + 1));
		if (i == XFSM_MAX_STAGES - 1)
			rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
		err = err ?: rb_add(img, i, &b);
	}
	return err;
}

static bool check_eight_globals(struct xt *t, const struct golden *g,
				const struct pkt *in, const struct xt_result *r)
{
	bool ok = true;
	__u64 v;
	int i;

	(void)g; (void)in; (void)r;
	for (i = 0; i < XFSM_MAX_STAGES; i++) {
		if (!ASSERT_OK(xfsm_global_get(t->inst, i, &v), "global"))
			return false;
		ok &= ASSERT_EQ(v, i + 1, "stage i added i + 1 to global i");
	}
	return ok;
}

static const struct golden eight_stages_steps[] = {
	{ "through all eight stages", .pkt = UDP4(1, 9), .verdict = XDP_TX,
	  .check = check_eight_globals,
	  .sstats = { SST(0, hits, 1), SST(1, hits, 1), SST(2, hits, 1), SST(3, hits, 1),
		      SST(4, hits, 1), SST(5, hits, 1), SST(6, hits, 1), SST(7, hits, 1) } },
};

/* ---- sixteen tuples (native maximum) ------------------------------------------------ */

static int app_sixteen_tuples(struct xfsm_image *img)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT, XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST,
				      XFSM_FW_L4_SPORT, XFSM_FW_IP_PROTO };
	static const __u32 vals[] = { 0, TEST_IP4(1), TEST_IP4(9), 40000, 17 };
	struct rb b;
	int err = 0, k, w;

	app_init(img, 1, XFSM_VERDICT_DROP);
	app_match_words(img, 0, words, 5);
	for (k = 0; k < XFSM_MAX_TUPLES; k++) {
		rb_init(&b, 100 - k);
		rb_match(&b, 0, 1000 + k, 0xffff);
		for (w = 1; w <= 4; w++)
			if (k & (1 << (w - 1)))
				rb_match(&b, w, vals[w], 0xffffffff);
		rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	return err;
}

static const struct golden sixteen_tuples_steps[] = {
	{ "first tuple", .pkt = UDP4(1, 1000), .verdict = XDP_TX, .rules = { RULE(0, 1, 42) } },
	{ "last tuple, lowest priority", .pkt = UDP4(1, 1015), .verdict = XDP_TX,
	  .rules = { RULE(15, 1, 42) } },
	{ "tuple 9", .pkt = UDP4(1, 1009), .verdict = XDP_TX, .rules = { RULE(9, 1, 42) } },
	{ "tuple 15, other source", .pkt = UDP4(2, 1015), .verdict = XDP_DROP,
	  .rules = { RULE(15, 1, 42) } },
};

/* ---- conditions read the flow before the updates, actions after them ---- */

static int app_as_matched(struct xfsm_image *img)
{
	static const __u8 w1[] = { XFSM_FW_META_MARK };
	struct rb b;
	int err, i;

	app_init(img, 2, XFSM_VERDICT_PASS);
	err = app_keys(img, 0, key_ip_src, 1, key_ip_src, 1);
	app_match_words(img, 1, w1, 1);
	app_miss(img, 1, XFSM_VERDICT_DROP);
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPR(0), OPC(1));
	for (i = 0; i < 2; i++) {
		/* cond 0 (reg0 == 1 before the update) picks the mark offset */
		rb_init(&b, 1);
		rb_cond(&b, 0, i);
		rb_upd(&b, XFSM_UPD_ADD, FLOW_REG, 0, OPR(0), OPC(1));
		rb_act(&b, XFSM_ACT_SET_MARK, 0, i ? OPR(0) : OPNONE);
		err = err ?: rb_add(img, 0, &b);
	}
	for (i = 0; i < 3; i++) {
		rb_init(&b, 1);
		rb_match(&b, 0, i, 0xffffffff);
		rb_act(&b, i == 2 ? XFSM_ACT_TX : XFSM_ACT_PASS, 0, OPNONE);
		err = err ?: rb_add(img, 1, &b);
	}
	return err;
}

static const struct golden as_matched_steps[] = {
	{ "first packet: reg0 0 -> 1, mark 0", .pkt = UDP4(1, 9),
	  .verdict = XDP_PASS, .flows = { FLOW_R(0, 0, 1, 1, 0, 0, 0, IPK(1)) },
	  .rules = { RULE(0, 1, 42), RULE(2, 1, 42) } },
	{ "second: condition saw 1, action sees 2", .pkt = UDP4(1, 9), .verdict = XDP_TX,
	  .flows = { FLOW_R(0, 0, 1, 2, 0, 0, 0, IPK(1)) },
	  .rules = { RULE(1, 1, 42), RULE(4, 1, 42) } },
	{ "third: condition false again", .pkt = UDP4(1, 9), .verdict = XDP_PASS,
	  .rules = { RULE(0, 2, 84) } },
};

/* ---- meta.random only with XFSM_AF_NEEDS_RANDOM ----------------------------- */

static int app_random(struct xfsm_image *img, bool needs)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	if (needs)
		img->app.flags |= XFSM_AF_NEEDS_RANDOM;
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPM(XFSM_META_RANDOM), OPC(0));
	rb_init(&b, 1);
	rb_cond(&b, 0, true);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = rb_add(img, 0, &b);
	rb_init(&b, 1);
	rb_cond(&b, 0, false);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static int app_random_off(struct xfsm_image *img)
{
	return app_random(img, false);
}

static int app_random_on(struct xfsm_image *img)
{
	return app_random(img, true);
}

static const struct golden random_off_steps[] = {
	{ "no XFSM_AF_NEEDS_RANDOM: meta.random reads 0", .pkt = UDP4(1, 9), .verdict = XDP_TX },
};

/* Fails only if the drawn number is 0: probability 2^-32. */
static const struct golden random_on_steps[] = {
	{ "meta.random drawn", .pkt = UDP4(1, 9), .verdict = XDP_PASS,
	  .rules = { RULE(1, 1, 42) } },
};

/* ---- meta.port only with XFSM_AF_NEEDS_PORT -------------------------------- */

static int app_port_flag_off(struct xfsm_image *img)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	app_cond(img, 0, 0, XFSM_CMP_EQ, OPM(XFSM_META_PORT), OPC(0));
	app_cond(img, 0, 1, XFSM_CMP_EQ, OPF(XFSM_FW_META_PORT), OPC(0));
	rb_init(&b, 1);
	b.m.conds = 3;
	b.m.cond_mask = 3;
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	err = rb_add(img, 0, &b);
	return err;
}

static const struct golden port_flag_off_steps[] = {
	{ "lo mapped to port 5, flag unset: port reads 0", .pkt = UDP4(1, 9), .port = 5,
	  .verdict = XDP_TX },
};

/* ---- no application ----- */

static int app_empty(struct xfsm_image *img)
{
	app_init(img, 0, XFSM_VERDICT_DROP);
	return 0;
}

static const struct golden no_app_steps[] = {
	{ "no stages: default verdict", .pkt = UDP4(1, 9), .verdict = XDP_DROP,
	  .stats = { ST(exc_no_app, 1) } },
};

const struct scenario xfsm_scenarios[] = {
	SCENARIO("port knocking", app_portknock, NULL, portknock_steps, SC_BOTH),
	SCENARIO("mac learning, tx", app_maclearn_tx, NULL, maclearn_tx_steps, SC_BOTH),
	SCENARIO("mac learning, output/flood", app_maclearn_redirect, setup_tx_ports,
		 maclearn_redirect_steps, SC_NATIVE),
	SCENARIO("counter threshold", app_threshold, NULL, threshold_steps, SC_BOTH),
	SCENARIO("cmp <", app_cmp_lt, NULL, cmp_lt_steps, SC_BOTH),
	SCENARIO("cmp <=", app_cmp_le, NULL, cmp_le_steps, SC_BOTH),
	SCENARIO("cmp >", app_cmp_gt, NULL, cmp_gt_steps, SC_BOTH),
	SCENARIO("cmp >=", app_cmp_ge, NULL, cmp_ge_steps, SC_BOTH),
	SCENARIO("cmp ==", app_cmp_eq, NULL, cmp_eq_steps, SC_BOTH),
	SCENARIO("cmp !=", app_cmp_ne, NULL, cmp_ne_steps, SC_BOTH),
	SCENARIO("cmp none is false", app_cmp_none, NULL, cmp_none_steps, SC_BOTH),
	SCENARIO("cmp unsigned 64-bit", app_cmp_unsigned, setup_cmp_unsigned, cmp_unsigned_steps,
		 SC_BOTH),
	SCENARIO("operand kinds", app_operands, setup_operands, operands_steps, SC_BOTH),
	SCENARIO("meta.ifindex operand", app_ifindex, NULL, ifindex_steps, SC_BOTH),
	SCENARIO("update ops", app_updates, NULL, updates_steps, SC_BOTH),
	SCENARIO("idle and hard timeouts", app_timeouts, NULL, timeout_steps, SC_BOTH),
	SCENARIO("idle refresh, exact clock", app_timeouts, NULL, idle_refresh_steps, SC_OFFLOAD),
	SCENARIO("symmetric keys", app_symmetric, NULL, symmetric_steps, SC_BOTH),
	SCENARIO("goto", app_goto, NULL, goto_steps, SC_BOTH),
	SCENARIO("miss verdicts", app_misses, NULL, misses_steps, SC_BOTH),
	SCENARIO("priorities across tuples", app_priorities, NULL, priorities_steps, SC_BOTH),
	{ .name = "flow table full", .build_app = app_count_src, .steps = table_full_steps,
	  .n_steps = ARRAY_SIZE(table_full_steps), .flags = SC_BOTH, .flows_max = 4,
	  .flows_type = BPF_MAP_TYPE_HASH },
	SCENARIO("read-only rule creates no flow", app_readonly, NULL, readonly_steps, SC_BOTH),
	SCENARIO("state masks and don't-care conditions", app_masks, NULL, masks_steps, SC_BOTH),
	SCENARIO("one key, separate entries per stage", app_two_tables, NULL, two_tables_steps,
		 SC_BOTH),
	SCENARIO("sixteen conditions", app_sixteen_conds, NULL, sixteen_conds_steps, SC_BOTH),
	SCENARIO("eight stages", app_eight_stages, NULL, eight_stages_steps, SC_NATIVE),
	SCENARIO("sixteen tuples", app_sixteen_tuples, NULL, sixteen_tuples_steps, SC_NATIVE),
	SCENARIO("conditions before updates, actions after", app_as_matched, NULL,
		 as_matched_steps, SC_BOTH),
	SCENARIO("meta.random without the flag", app_random_off, NULL, random_off_steps, SC_BOTH),
	SCENARIO("meta.random with the flag", app_random_on, NULL, random_on_steps, SC_BOTH),
	SCENARIO("meta.port without the flag", app_port_flag_off, NULL, port_flag_off_steps,
		 SC_BOTH),
	SCENARIO("no application", app_empty, NULL, no_app_steps, SC_BOTH),
};
const size_t n_xfsm_scenarios = ARRAY_SIZE(xfsm_scenarios);
