/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * XFSM stage golden tests against the native datapath: every scenario of
 * harness/scen_xfsm.c is one Check test.
 */
#include "diff.h"
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

/* A stage whose keys change gets a new epoch: an entry made under the old
 * keys is never read under the new ones, even when the words are equal. */
static int app_key_on(struct xfsm_image *img, __u8 word)
{
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, &word, 1, &word, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

START_TEST(test_epoch)
{
	XFSM_OPTS(xfsm_apply_opts, keep, .datapath = xt_datapath_env());
	struct pkt_spec s1 = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2, .dport = 9 };
	struct pkt_spec s2 = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 3, .dst = 1, .dport = 9 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_image img;
	struct xfsm_flow_key k;
	struct xfsm_flow flow;
	struct xt_result r;
	struct pkt p;
	__u16 epoch0;

	NEED_T();
	xfsm_image_init(&img);
	if (!ASSERT_OK(app_key_on(&img, XFSM_FW_IP4_SRC), "app") ||
	    !ASSERT_OK(xfsm_apply(T.inst, &img, &keep), "apply src keys") ||
	    !ASSERT_OK(xt_datapath_check(&T), "the datapath asked for"))
		goto out;
	pkt_from_spec(&p, &s1);
	ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	if (!ASSERT_OK(xt_find_flow(&T, 0, w, &k, &flow), "flow under src keys"))
		goto out;
	ASSERT_EQ(flow.regs[0], 2, "two packets");
	epoch0 = k.epoch;
	xfsm_image_free(&img);
	xfsm_image_init(&img);
	if (!ASSERT_OK(app_key_on(&img, XFSM_FW_IP4_DST), "app") ||
	    !ASSERT_OK(xfsm_apply(T.inst, &img, &keep), "apply dst keys, keep flows") ||
	    !ASSERT_OK(xt_datapath_check(&T), "the datapath asked for"))
		goto out;
	pkt_from_spec(&p, &s2);		/* ip.dst is the old flow's ip.src */
	ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "run");
	if (ASSERT_OK(xt_find_flow(&T, 0, w, &k, &flow), "flow under dst keys")) {
		ASSERT_NEQ(k.epoch, epoch0, "new epoch");
		ASSERT_EQ(flow.regs[0], 1, "a fresh entry, not the old one");
	}
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
	tcase_add_test(tc, test_epoch);
	return xt_suite_run(s);
}
