/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Action golden tests against the native datapath: every scenario of
 * harness/scen_actions.c is one Check test.
 */
#include "suite.h"

static int scen_idx[64];

START_TEST(test_scenario)
{
	const struct scenario *sc = &action_scenarios[scen_idx[_i]];

	NEED_T();
	run_scenario(&T, sc);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("actions");
	TCase *tc = xt_tcase(s, "actions", suite_open_native);
	size_t i;
	int n = 0;

	for (i = 0; i < n_action_scenarios && n < (int)ARRAY_SIZE(scen_idx); i++)
		if (scenario_runs_on(&action_scenarios[i], XT_NATIVE))
			scen_idx[n++] = i;
	tcase_add_loop_test(tc, test_scenario, 0, n);
	return xt_suite_run(s);
}
