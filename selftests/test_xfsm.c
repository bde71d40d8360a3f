/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * XFSM stage golden tests against the native datapath: every scenario of
 * harness/scen_xfsm.c is one Check test.
 */
#include "suite.h"

static int scen_idx[64];

START_TEST(test_scenario)
{
	const struct scenario *sc = &xfsm_scenarios[scen_idx[_i]];

	NEED_T();
	run_scenario(&T, sc);
	XT_END();
}
END_TEST

/* xfsm_flow_key_build() gives the key the datapath stores. */
START_TEST(test_flow_key_build)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC, XFSM_FW_L4_DPORT };
	__u32 fv[XFSM_FV_WORDS] = { 0 };
	struct xfsm_flow_key k;
	struct xfsm_flow flow;
	struct xfsm_image img;
	struct xt_result r;
	struct pkt p;
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 3, .dst = 9, .dport = 77 };
	struct rb b;

	NEED_T();
	app_init(&img, 2, XFSM_VERDICT_PASS);
	ck_assert_int_eq(app_keys(&img, 1, key, 2, key, 2), 0);
	img.app.stages[1].epoch = 5;
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 2, OPC(99), OPNONE);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_from_spec(&p, &s);
	if (!ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run"))
		goto out;
	fv[XFSM_FW_IP4_SRC] = TEST_IP4(3);
	fv[XFSM_FW_L4_DPORT] = 77;
	{
		struct xfsm_image live;

		xfsm_image_init(&live);
		if (ASSERT_OK(xfsm_read_app(T.inst, &live), "read app"))
			xfsm_flow_key_build(&live.app.stages[1], 1, fv, true, &k);
		xfsm_image_free(&live);
	}
	if (ASSERT_OK(xfsm_flow_get(T.inst, &k, &flow), "flow_get with the built key"))
		ASSERT_EQ(flow.regs[2], 99, "reg2");
	ASSERT_EQ(xt_count_flows(&T, -1), 1, "one flow in all stages");
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xfsm");
	TCase *tc = xt_tcase(s, "xfsm", suite_open_native);
	size_t i;
	int n = 0;

	for (i = 0; i < n_xfsm_scenarios && n < (int)ARRAY_SIZE(scen_idx); i++)
		if (scenario_runs_on(&xfsm_scenarios[i], XT_NATIVE))
			scen_idx[n++] = i;
	tcase_add_loop_test(tc, test_scenario, 0, n);
	tcase_add_test(tc, test_flow_key_build);
	return xt_suite_run(s);
}
