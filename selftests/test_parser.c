/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Parser golden tests (docs/datapath.md, "Parser"): every header class
 * yields the right field vector, read back through a capture application
 * whose stages key on every field word; every malformed class gets the
 * configured verdict and counts exactly its exception.
 */
#include "suite.h"

static bool install_capture(void)
{
	struct xfsm_image img;
	bool ok;

	xfsm_image_init(&img);
	ok = ASSERT_OK(capture_app(&img, T.inst->build.offload), "capture app") &&
	     ASSERT_OK(xt_apply(&T, &img), "apply capture app");
	xfsm_image_free(&img);
	return ok;
}

START_TEST(test_fields)
{
	NEED_T();
	if (install_capture())
		run_parse_case(&T, &parse_cases[_i]);
	XT_END();
}
END_TEST

START_TEST(test_malformed_pass)
{
	NEED_T();
	if (install_capture())
		run_malformed_case(&T, &malformed_cases[_i], XFSM_VERDICT_PASS);
	XT_END();
}
END_TEST

START_TEST(test_malformed_drop)
{
	NEED_T();
	if (install_capture())
		run_malformed_case(&T, &malformed_cases[_i], XFSM_VERDICT_DROP);
	XT_END();
}
END_TEST

START_TEST(test_malformed_tx)
{
	NEED_T();
	if (install_capture())
		run_malformed_case(&T, &malformed_cases[_i], XFSM_VERDICT_TX);
	XT_END();
}
END_TEST

static void (*const sweeps[])(struct pkt *p) = {
	sweep_qinq_ip4_tcp, sweep_ip6_ext_udp, sweep_vlan_arp,
	sweep_ip4_icmp, sweep_ip6_icmp6,
};

/* Cut at every byte: the IP length fields then lie (ip4_totlen, ip6_paylen
 * past the IP header). */
START_TEST(test_truncation_raw)
{
	NEED_T();
	if (install_capture())
		run_truncation_sweep(&T, sweeps[_i], false);
	XT_END();
}
END_TEST

/* Cut at every byte with the IP lengths made consistent: each header's own
 * truncation reason. */
START_TEST(test_truncation_fixed)
{
	NEED_T();
	if (install_capture())
		run_truncation_sweep(&T, sweeps[_i], true);
	XT_END();
}
END_TEST

/* Parsed fields drive rule matching: a rule on (vlan.id, ip.src, tcp.dport)
 * with masks, and a rule on the non-first-fragment flag. */
static void b_vlan_tcp(struct pkt *p, uint16_t vid, uint32_t src, uint16_t dport)
{
	struct ip4_args a = { .src = src, .dst = TEST_IP4(9), .ttl = 64 };

	pkt_eth(p, TEST_MAC(2), TEST_MAC(1), 0);
	pkt_vlan(p, ETHERTYPE_8021Q, vid);
	pkt_ip4(p, &a);
	pkt_tcp(p, 999, dport, TCPF_SYN, 0);
	pkt_finish(p);
}

START_TEST(test_match_fields)
{
	static const __u8 words[] = { XFSM_FW_VLAN_ID, XFSM_FW_IP4_SRC,
				      XFSM_FW_TCP_DPORT, XFSM_FW_PKT_FLAGS };
	static const struct {
		uint16_t vid;
		uint32_t src;
		uint16_t dport;
		__u32 verdict;
	} rows[] = {
		{ 100, TEST_IP4(0x0101), 22, XDP_TX },		/* 198.18.1.0/24 */
		{ 100, TEST_IP4(0x01fe), 22, XDP_TX },
		{ 100, TEST_IP4(0x0201), 22, XDP_PASS },	/* outside prefix */
		{ 101, TEST_IP4(0x0101), 22, XDP_PASS },
		{ 100, TEST_IP4(0x0101), 23, XDP_PASS },
	};
	struct xfsm_image img;
	struct xt_result r;
	struct rb b;
	size_t i;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_PASS);
	app_match_words(&img, 0, words, 4);
	rb_init(&b, 10);
	rb_match(&b, 0, 100, 0xfff);
	rb_match(&b, 1, TEST_IP4(0x0100), 0xffffff00);
	rb_match(&b, 2, 22, 0xffff);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 20);
	rb_match(&b, 3, XFSM_PF_FRAG_LATER, XFSM_PF_FRAG_LATER);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct pkt p;

		pkt_init(&p);
		b_vlan_tcp(&p, rows[i].vid, rows[i].src, rows[i].dport);
		xt_set_context("match row %zu", i);
		if (ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
			ASSERT_EQ(r.verdict, rows[i].verdict, "verdict");
	}
	{
		struct ip4_args a = { .src = TEST_IP4(0x0101), .dst = TEST_IP4(9),
				      .ttl = 64, .frag = 8, .proto = IPPROTO_TCP_ };
		struct pkt p;

		xt_set_context("non-first fragment");
		pkt_init(&p);
		pkt_eth(&p, TEST_MAC(2), TEST_MAC(1), 0);
		pkt_vlan(&p, ETHERTYPE_8021Q, 100);
		pkt_ip4(&p, &a);
		pkt_raw(&p, 20, 0);
		pkt_finish(&p);
		/* bytes where tcp.dport would be read as 22 if L4 were parsed */
		pkt_put16(&p, pkt_off(&p, PL_RAW, 0) + 2, 22);
		if (ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
			ASSERT_EQ(r.verdict, XDP_DROP, "fragment rule wins");
	}
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* meta.port comes from xfsm_ports by ingress ifindex. */
START_TEST(test_meta_port)
{
	struct xfsm_image img;
	struct xt_result r;
	struct pkt p;
	struct rb b;
	static const __u8 words[] = { XFSM_FW_META_PORT };

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_PASS);
	img.app.flags |= XFSM_AF_NEEDS_PORT;
	app_match_words(&img, 0, words, 1);
	rb_init(&b, 1);
	rb_match(&b, 0, 7, 0xffffffff);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_init(&p);
	b_vlan_tcp(&p, 1, TEST_IP4(1), 80);
	if (ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "unknown ifindex: port 0");
	ASSERT_OK(xt_set_port(&T, 1, 7), "set port");
	if (ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_DROP, "lo mapped to port 7");
	ASSERT_OK(xt_set_port(&T, 1, 8), "set port");
	if (ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "lo mapped to port 8");
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = xt_tcase(s, "parser", suite_open_native);

	tcase_add_loop_test(tc, test_fields, 0, n_parse_cases);
	tcase_add_loop_test(tc, test_malformed_pass, 0, n_malformed_cases);
	tcase_add_loop_test(tc, test_malformed_drop, 0, n_malformed_cases);
	tcase_add_loop_test(tc, test_malformed_tx, 1, 4);
	tcase_add_loop_test(tc, test_truncation_raw, 0, ARRAY_SIZE(sweeps));
	tcase_add_loop_test(tc, test_truncation_fixed, 0, ARRAY_SIZE(sweeps));
	tcase_add_test(tc, test_match_fields);
	tcase_add_test(tc, test_meta_port);
	return xt_suite_run(s);
}
