/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The golden tables of the parser, XFSM and action suites, run against
 * build/xfsm-offload.bpf.o (loaded in native mode): every scenario whose
 * actions the offload profile has, with time driven through
 * xfsm_ctl.clock_ns.
 */
#include <errno.h>

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

START_TEST(test_profile)
{
	NEED_T();
	ASSERT_EQ(T.inst->build.offload, 1, "build info says offload");
	ASSERT_EQ(T.inst->build.abi_version, XFSM_ABI_VERSION, "abi version");
	ASSERT_FALSE(T.inst->percpu_stats, "plain (not per-CPU) statistics");
	ASSERT_TRUE(T.inst->map_fd[XFSM_M_TX_PORTS] < 0, "no tx ports devmap");
	XT_END();
}
END_TEST

/*
 * Fields past the offload profile's field vector (tcp.seq, ip.len, ...)
 * would read as 0 there: an application that matches, keys on or reads
 * one is refused, and the one running stays (its capture still works).
 */
START_TEST(test_native_only_fields)
{
	static const __u8 seq[] = { XFSM_FW_TCP_SEQ }, len[] = { XFSM_FW_IP_LEN };
	struct xfsm_image img;
	struct xfsm_cond *cd;

	NEED_T();
	if (!install_capture())
		goto out;
	xfsm_image_init(&img);
	app_init(&img, 1, XFSM_VERDICT_PASS);
	app_match_words(&img, 0, seq, 1);
	ASSERT_EQ(xt_apply(&T, &img), -EOPNOTSUPP, "a match on tcp.seq refused");
	xfsm_image_free(&img);

	xfsm_image_init(&img);
	app_init(&img, 1, XFSM_VERDICT_PASS);
	ASSERT_OK(app_keys(&img, 0, len, 1, len, 1), "key ip.len");
	ASSERT_EQ(xt_apply(&T, &img), -EOPNOTSUPP, "a key on ip.len refused");
	xfsm_image_free(&img);

	xfsm_image_init(&img);
	app_init(&img, 1, XFSM_VERDICT_PASS);
	cd = &img.app.stages[0].conds[0];
	img.app.stages[0].n_conds = 1;
	cd->op = XFSM_CMP_LT;
	cd->a.kind = XFSM_OPND_FIELD;
	cd->a.index = XFSM_FW_TCP_WIN;
	cd->a.width = 1;
	cd->b.kind = XFSM_OPND_CONST;
	cd->b.value = 100;
	ASSERT_EQ(xt_apply(&T, &img), -EOPNOTSUPP, "a condition on tcp.win refused");
	/* the capture still runs, as before the refusals */
	run_parse_case(&T, &parse_cases[0]);
	cd->a.index = XFSM_FW_IP6_NEXTHDR;
	ASSERT_OK(xt_apply(&T, &img), "ip6.nexthdr is in the offload profile");
	xfsm_image_free(&img);
out:
	XT_END();
}
END_TEST

START_TEST(test_fields)
{
	NEED_T();
	if (install_capture())
		run_parse_case(&T, &parse_cases[_i]);
	XT_END();
}
END_TEST

START_TEST(test_malformed)
{
	NEED_T();
	if (install_capture())
		run_malformed_case(&T, &malformed_cases[_i], XFSM_VERDICT_DROP);
	XT_END();
}
END_TEST

static void (*const sweeps[])(struct pkt *p) = {
	sweep_qinq_ip4_tcp, sweep_ip6_ext_udp, sweep_vlan_arp,
	sweep_ip4_icmp, sweep_ip6_icmp6,
};

START_TEST(test_truncation)
{
	NEED_T();
	if (install_capture())
		run_truncation_sweep(&T, sweeps[_i / 2], _i % 2);
	XT_END();
}
END_TEST

static int xfsm_idx[64], action_idx[64];

START_TEST(test_xfsm)
{
	const struct scenario *sc = &xfsm_scenarios[xfsm_idx[_i]];

	NEED_T();
	run_scenario(&T, sc);
	XT_END();
}
END_TEST

START_TEST(test_actions)
{
	const struct scenario *sc = &action_scenarios[action_idx[_i]];

	NEED_T();
	run_scenario(&T, sc);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("offload golden");
	TCase *tc = xt_tcase(s, "offload", suite_open_offload);
	int nx = 0, na = 0;
	size_t i;

	for (i = 0; i < n_xfsm_scenarios && nx < (int)ARRAY_SIZE(xfsm_idx); i++)
		if (scenario_runs_on(&xfsm_scenarios[i], XT_OFFLOAD))
			xfsm_idx[nx++] = i;
	for (i = 0; i < n_action_scenarios && na < (int)ARRAY_SIZE(action_idx); i++)
		if (scenario_runs_on(&action_scenarios[i], XT_OFFLOAD))
			action_idx[na++] = i;

	tcase_add_test(tc, test_profile);
	tcase_add_loop_test(tc, test_fields, 0, n_parse_cases);
	tcase_add_test(tc, test_native_only_fields);
	tcase_add_loop_test(tc, test_malformed, 0, n_malformed_cases);
	tcase_add_loop_test(tc, test_truncation, 0, 2 * ARRAY_SIZE(sweeps));
	tcase_add_loop_test(tc, test_xfsm, 0, nx);
	tcase_add_loop_test(tc, test_actions, 0, na);
	return xt_suite_run(s);
}
