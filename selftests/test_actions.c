/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Action golden tests against the native datapath: every scenario of
 * harness/scen_actions.c is one Check test.
 */
#include <string.h>

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

/* The builder reproduces a frame computed outside the harness. */
START_TEST(test_builder_matches_literal)
{
	struct ip4_args a = { .src = TEST_IP4(1), .dst = TEST_IP4(9), .ttl = 64, .id = 0xbeef };
	struct pkt p;
	char diff[256];

	pkt_init(&p);
	pkt_eth(&p, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_ip4(&p, &a);
	pkt_udp(&p, 7000, 1);
	pkt_raw(&p, 4, 0);
	memcpy(p.data + p.len - 4, "xfsm", 4);
	pkt_finish(&p);
	pkt_hexdiff(p.data, p.len, lit_udp_ttl64, lit_udp_ttl64_len, diff, sizeof(diff));
	ASSERT_TRUE(p.len == lit_udp_ttl64_len && !memcmp(p.data, lit_udp_ttl64, p.len), diff);
	ASSERT_TRUE(ip4_csum_ok(p.data, p.len, 14), "ip checksum");
	ASSERT_TRUE(l4_csum_ok(p.data, p.len, 14, 34, IPPROTO_UDP_, false), "udp checksum");
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
	tcase_add_test(tc, test_builder_matches_literal);
	return xt_suite_run(s);
}
