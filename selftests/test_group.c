/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Output groups through BPF_PROG_TEST_RUN: per-packet round robin within
 * one packet of even on one CPU, weighted shares, symmetric hash,
 * per-flow round robin, consistent-hash movement bounds (remove one of N
 * moves only its flows; add one moves about 1/(N+1)), member-down
 * skipping and the empty group's verdict and counter.
 *
 * Which member a packet went to is read from the group's per-member
 * counters (the verdict of a redirect is XDP_REDIRECT whoever gets it).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "suite.h"
#include "xfsm_group.h"
#include "xfsm_lang.h"
#include "xfsm/group_hash.h"

#define GID	5

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* Ports 1..11 send to lo, and exist as the loader makes ports of
 * interfaces (here made-up ifindexes no packet arrives on):
 * xfsm_group_write() refuses a member port the instance lacks. */
static void ports_to_lo(void)
{
	for (unsigned int i = 1; i < 12; i++) {
		ck_assert_int_eq(xt_set_tx_port(&T, i, 1), 0);
		ck_assert_int_eq(xt_set_port(&T, 1000 + i, i), 0);
	}
}

/* One stage: every packet -> output group GID; members' ports lead to lo. */
static void setup(unsigned int policy, const __u16 *ports, const __u16 *weights, unsigned int n)
{
	struct xfsm_image img;
	struct xfsm_group g;
	unsigned int i;
	struct rb b;

	NEED_T();
	pin_cpu0();
	ports_to_lo();
	for (i = 1; i < 12; i++)
		ck_assert_int_eq(xfsm_port_set_down(T.inst, i, false), 0);
	ck_assert_int_eq(xfsm_group_build(&g, policy, ports, weights, n), 0);
	ck_assert_int_eq(xfsm_group_delete(T.inst, GID), 0);
	ck_assert_int_eq(xfsm_group_write(T.inst, GID, &g), 0);
	ck_assert_int_eq(xfsm_group_reset(T.inst, GID), 0);
	app_init(&img, 1, XFSM_VERDICT_PASS);
	rb_init(&b, 1);
	rb_act(&b, XFSM_ACT_OUTPUT_GROUP, GID, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	ck_assert_int_eq(xt_apply(&T, &img), 0);
	xfsm_image_free(&img);
}

static void flow_pkt(struct pkt *p, unsigned int flow, bool reverse)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1 + flow % 200,
			      .dst = 300 + flow / 200, .sport = 1000 + flow, .dport = 53 };

	if (reverse) {
		__u16 t = s.src;

		s.src = s.dst;
		s.dst = t;
		s.sport = 53;
		s.dport = 1000 + flow;
	}
	pkt_from_spec(p, &s);
}

/* Send one packet; returns the member index it went to (-1: dropped). */
static int send_one(const struct pkt *p)
{
	struct xfsm_group_stats a, b;
	struct xt_result r;
	int i;

	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &a), 0);
	ck_assert_int_eq(xt_run_pkt(&T, p, 0, &r), 0);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &b), 0);
	for (i = 0; i < XFSM_GROUP_MAX_MEMBERS; i++)
		if (b.member[i] != a.member[i]) {
			ck_assert_uint_eq(r.verdict, XDP_REDIRECT);
			return i;
		}
	ck_assert_uint_eq(r.verdict, XDP_DROP);
	return -1;
}

static void send_n(const struct pkt *p, unsigned int n)
{
	unsigned int i;
	struct xt_result r;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(xt_run_pkt(&T, p, 0, &r), 0);
		ck_assert_uint_eq(r.verdict, XDP_REDIRECT);
	}
}

START_TEST(test_rr_packet_even)
{
	static const __u16 ports[] = { 2, 3, 4 };
	struct xfsm_group_stats st;
	unsigned int n, i;
	struct pkt p;

	setup(XFSM_GP_RR_PACKET, ports, NULL, 3);
	flow_pkt(&p, 0, false);
	for (n = 1; n <= 100; n++) {
		__u64 lo = ~0ULL, hi = 0;

		send_n(&p, 1);
		ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &st), 0);
		for (i = 0; i < 3; i++) {
			lo = st.member[i] < lo ? st.member[i] : lo;
			hi = st.member[i] > hi ? st.member[i] : hi;
		}
		ck_assert_msg(hi - lo <= 1, "after %u packets: %llu %llu %llu", n,
			      (unsigned long long)st.member[0], (unsigned long long)st.member[1],
			      (unsigned long long)st.member[2]);
		ck_assert_uint_eq(st.member[0] + st.member[1] + st.member[2], n);
	}
	XT_END();
}
END_TEST

START_TEST(test_weighted)
{
	static const __u16 ports[] = { 2, 3, 4 }, w[] = { 1, 2, 3 };
	struct xfsm_group_stats st;
	struct pkt p;

	setup(XFSM_GP_WEIGHTED, ports, w, 3);
	flow_pkt(&p, 0, false);
	send_n(&p, 600);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &st), 0);
	ck_assert_uint_eq(st.member[0], 100);
	ck_assert_uint_eq(st.member[1], 200);
	ck_assert_uint_eq(st.member[2], 300);
	XT_END();
}
END_TEST

START_TEST(test_hash_symmetric)
{
	static const __u16 ports[] = { 2, 3, 4, 5 };
	unsigned int f, cnt[4] = { 0 };
	struct pkt p, q;

	setup(XFSM_GP_HASH, ports, NULL, 4);
	for (f = 0; f < 400; f++) {
		int a, b;

		flow_pkt(&p, f, false);
		flow_pkt(&q, f, true);
		a = send_one(&p);
		b = send_one(&q);
		ck_assert_msg(a >= 0 && a == b, "flow %u: %d one way, %d the other", f, a, b);
		ck_assert_int_eq(send_one(&p), a);
		cnt[a]++;
	}
	for (f = 0; f < 4; f++)
		ck_assert_msg(cnt[f] >= 60 && cnt[f] <= 140, "member %u got %u of 400 flows", f, cnt[f]);
	XT_END();
}
END_TEST

START_TEST(test_rr_flow)
{
	static const __u16 ports[] = { 2, 3, 4 };
	unsigned int f, cnt[3] = { 0 };
	int first[30];
	struct pkt p;

	setup(XFSM_GP_RR_FLOW, ports, NULL, 3);
	for (f = 0; f < 30; f++) {
		flow_pkt(&p, f, false);
		first[f] = send_one(&p);
		ck_assert_int_ge(first[f], 0);
		cnt[first[f]]++;
	}
	/* new flows were spread round robin; each flow keeps its member */
	ck_assert_uint_eq(cnt[0], 10);
	ck_assert_uint_eq(cnt[1], 10);
	ck_assert_uint_eq(cnt[2], 10);
	for (f = 0; f < 30; f++) {
		flow_pkt(&p, f, f % 2);
		ck_assert_int_eq(send_one(&p), first[f]);
	}
	XT_END();
}
END_TEST

START_TEST(test_member_down)
{
	static const __u16 ports[] = { 2, 3, 4 };
	struct xfsm_group_stats st;
	struct pkt p;

	setup(XFSM_GP_RR_PACKET, ports, NULL, 3);
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 3, true), 0);
	flow_pkt(&p, 0, false);
	send_n(&p, 90);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &st), 0);
	ck_assert_uint_eq(st.member[1], 0);
	ck_assert_uint_eq(st.member[0] + st.member[2], 90);
	ck_assert_msg(st.member[0] >= 44 && st.member[0] <= 46, "member 0: %llu",
		      (unsigned long long)st.member[0]);
	/* every member down: the group is empty */
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 2, true), 0);
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 4, true), 0);
	ck_assert_int_eq(send_one(&p), -1);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &st), 0);
	ck_assert_uint_eq(st.empty, 1);
	/* consistent hash: a down member's flows go elsewhere, the others stay */
	XT_END();
}
END_TEST

/* xfsm_port_set_down() refuses a port the instance lacks (0, a number no
 * interface was given, one past the last) and writes no flag for it. */
START_TEST(test_port_set_missing)
{
	__u32 fl = 0;

	NEED_T();
	ports_to_lo();
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 12, true), -ENOENT);
	ck_assert_int_eq(xfsm_port_flags_get(T.inst, 12, &fl), 0);
	ck_assert_uint_eq(fl, 0);
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 0, true), -ENOENT);
	ck_assert_int_eq(xfsm_port_flags_get(T.inst, 0, &fl), 0);
	ck_assert_uint_eq(fl, 0);
	ck_assert_int_eq(xfsm_port_set_down(T.inst, XFSM_MAX_PORTS, true), -EINVAL);
	/* a port it has */
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 11, true), 0);
	ck_assert_int_eq(xfsm_port_flags_get(T.inst, 11, &fl), 0);
	ck_assert_uint_eq(fl & XFSM_PORT_F_DOWN, XFSM_PORT_F_DOWN);
	ck_assert_int_eq(xfsm_port_set_down(T.inst, 11, false), 0);
	XT_END();
}
END_TEST

/* xfsm_group_reset() refuses a group number past the last, as every
 * other group call does, before it writes either of its two maps. */
START_TEST(test_group_reset_range)
{
	struct xfsm_group_stats st;

	NEED_T();
	ck_assert_int_eq(xfsm_group_reset(T.inst, XFSM_MAX_GROUPS), -EINVAL);
	ck_assert_int_eq(xfsm_group_reset(T.inst, ~0U), -EINVAL);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, XFSM_MAX_GROUPS, &st), -EINVAL);
	ck_assert_int_eq(xfsm_group_reset(T.inst, XFSM_MAX_GROUPS - 1), 0);
	XT_END();
}
END_TEST

START_TEST(test_empty_group)
{
	struct xfsm_group_stats st;
	struct xfsm_stats s;
	struct pkt p;

	setup(XFSM_GP_RR_PACKET, NULL, NULL, 0);
	flow_pkt(&p, 0, false);
	ck_assert_int_eq(send_one(&p), -1);
	ck_assert_int_eq(send_one(&p), -1);
	ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &st), 0);
	ck_assert_uint_eq(st.empty, 2);
	ck_assert_int_eq(xfsm_read_stats(T.inst, &s), 0);
	ck_assert_uint_eq(s.verdict_drop, 2);
	XT_END();
}
END_TEST

/* Consistent hash: the Maglev table's movement bounds, in process over
 * 20000 flow hashes, and the datapath following the same table. */
START_TEST(test_consistent_movement)
{
	static const __u16 five[] = { 2, 3, 4, 5, 6 }, four[] = { 2, 3, 5, 6 },
			   six[] = { 2, 3, 4, 5, 6, 7 };
	struct xfsm_group g5, g4, g6;
	unsigned int f, moved_rm = 0, moved_other = 0, moved_add = 0, on_removed = 0;
	int dp_checked = 0;

	ck_assert_int_eq(xfsm_group_build(&g5, XFSM_GP_CONSISTENT, five, NULL, 5), 0);
	ck_assert_int_eq(xfsm_group_rebuild(&g4, XFSM_GP_CONSISTENT, four, NULL, 4, &g5), 0);
	ck_assert_int_eq(xfsm_group_build(&g6, XFSM_GP_CONSISTENT, six, NULL, 6), 0);
	for (f = 0; f < 20000; f++) {
		__u32 h = xfsm_gh_final(xfsm_gh_mix(0x1234567U, f));
		__u16 p5 = g5.members[xfsm_group_consistent_pick(&g5, h)];
		__u16 p4 = g4.members[xfsm_group_consistent_pick(&g4, h)];
		__u16 p6 = g6.members[xfsm_group_consistent_pick(&g6, h)];

		if (p5 == 4) {
			on_removed++;
			moved_rm++;
		} else if (p4 != p5) {
			moved_other++;
		}
		if (p6 != p5)
			moved_add++;
	}
	printf("consistent hash, 20000 flows: remove 1 of 5: %u moved (%u were on it), %u others moved; add a 6th: %u moved (%.3f, 1/6 = 0.167)\n",
	       moved_rm + moved_other, on_removed, moved_other, moved_add, moved_add / 20000.0);
	ck_assert_uint_eq(moved_other, 0);
	ck_assert_msg(on_removed > 20000 / 5 / 2 && on_removed < 20000 * 3 / 2 / 5,
		      "the removed member had %u of 20000 flows", on_removed);
	ck_assert_msg(moved_add > 20000 / 6 / 2 && moved_add < 20000 * 3 / 2 / 6,
		      "adding one of 6 moved %u of 20000 flows", moved_add);

	/* the datapath picks what the table says */
	setup(XFSM_GP_CONSISTENT, five, NULL, 5);
	for (f = 0; f < 200; f++) {
		__u32 fv[XFSM_FV_WORDS] = { 0 };
		struct pkt p;
		int got;

		flow_pkt(&p, f, false);
		fv[XFSM_FW_PKT_FLAGS] = XFSM_PF_IPV4;
		fv[XFSM_FW_IP4_SRC] = TEST_IP4(1 + f % 200);
		fv[XFSM_FW_IP4_DST] = TEST_IP4(300 + f / 200);
		fv[XFSM_FW_L4_SPORT] = 1000 + f;
		fv[XFSM_FW_L4_DPORT] = 53;
		fv[XFSM_FW_IP_PROTO] = 17;
		got = send_one(&p);
		ck_assert_int_eq(got, (int)xfsm_group_consistent_pick(&g5, xfsm_group_hash(fv)));
		dp_checked++;
	}
	/* a member going down moves only its own flows */
	{
		int before[200];

		for (f = 0; f < 200; f++) {
			struct pkt p;

			flow_pkt(&p, f, false);
			before[f] = send_one(&p);
		}
		ck_assert_int_eq(xfsm_port_set_down(T.inst, 4, true), 0);
		for (f = 0; f < 200; f++) {
			struct pkt p;
			int now;

			flow_pkt(&p, f, false);
			now = send_one(&p);
			ck_assert_int_ne(now, 2);	/* member index of port 4 */
			if (before[f] != 2)
				ck_assert_int_eq(now, before[f]);
		}
	}
	ck_assert_int_eq(dp_checked, 200);
	XT_END();
}
END_TEST

/* Per-port counters: received on the ingress port, redirected to members. */
START_TEST(test_port_counters)
{
	static const __u16 ports[] = { 2, 3 };
	struct xfsm_port_stats in0, in1, a0, a1, b0, b1;
	struct xt_result r;
	struct pkt p;
	int i;

	setup(XFSM_GP_RR_PACKET, ports, NULL, 2);
	ck_assert_int_eq(xt_set_port(&T, 1, 9), 0);	/* lo is port 9 */
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 9, &in0), 0);
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 2, &a0), 0);
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 3, &b0), 0);
	flow_pkt(&p, 0, false);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(xt_run_pkt(&T, &p, 1, &r), 0);
		ck_assert_uint_eq(r.verdict, XDP_REDIRECT);
	}
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 9, &in1), 0);
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 2, &a1), 0);
	ck_assert_int_eq(xfsm_port_stats_read(T.inst, 3, &b1), 0);
	ck_assert_uint_eq(in1.rx_packets - in0.rx_packets, 10);
	ck_assert_uint_eq(in1.rx_bytes - in0.rx_bytes, 10 * p.len);
	ck_assert_uint_eq(a1.tx_packets - a0.tx_packets, 5);
	ck_assert_uint_eq(b1.tx_packets - b0.tx_packets, 5);
	ck_assert_uint_eq(b1.tx_bytes - b0.tx_bytes, 5 * p.len);
	XT_END();
}
END_TEST

START_TEST(test_build_errors)
{
	static const __u16 dup[] = { 2, 2 }, zero[] = { 0 }, big[] = { 2, 3 }, w[] = { 1000, 100 };
	struct xfsm_group g;

	ck_assert_int_eq(xfsm_group_build(&g, XFSM_GP_RR_PACKET, dup, NULL, 2), -EINVAL);
	ck_assert_int_eq(xfsm_group_build(&g, XFSM_GP_RR_PACKET, zero, NULL, 1), -EINVAL);
	ck_assert_int_eq(xfsm_group_build(&g, XFSM_GP_WEIGHTED, big, w, 2), -E2BIG);
	ck_assert_int_eq(xfsm_group_build(&g, XFSM_GP__MAX, big, NULL, 2), -EINVAL);
	ck_assert_int_eq(xfsm_group_policy_parse("consistent"), XFSM_GP_CONSISTENT);
	ck_assert_int_eq(xfsm_group_policy_parse("nope"), -1);
}
END_TEST

/* An application declares its groups: applying it installs them with its
 * rules; another application's declaration replaces them; a group it does
 * not declare stays as it runs. */
static int compile_apply(const char *src)
{
	/* XT_DATAPATH: the tables run on either datapath (diff.h) */
	XFSM_OPTS(xfsm_apply_opts, o, .datapath = xt_datapath_env(), .unchecked_ports = true);
	struct xfsm_app_names *nm = calloc(1, sizeof(*nm));
	struct xfsm_image img;
	char err[512];
	int ret;

	ck_assert_ptr_nonnull(nm);
	ret = xfsm_compile_string("g.xfsm", src, strlen(src), &img, nm, err, sizeof(err));
	ck_assert_msg(!ret, "%s", err);
	ret = xfsm_lang_apply(T.inst, &img, nm, &o);
	if (ret >= 0 && xt_datapath_check(&T))
		ret = -EPROTO;
	xfsm_image_free(&img);
	xfsm_app_names_free(nm);
	free(nm);
	return ret;
}

START_TEST(test_app_groups)
{
	static const char one[] =
		"port a = 2\nport b = 3\n"
		"group lb = 5 weighted a weight 1, b weight 2\n"
		"group sticky = 6 rr-flow a, b\n"
		"stage s {\n\tkey ip.src\n"
		"\trule r when udp.dport == 53 => output group lb\n}\n";
	static const char two[] =
		"group lb = 5 rr 4\n"
		"stage s {\n\tkey ip.src\n"
		"\trule r when udp.dport == 53 => output group 5\n}\n";
	static const __u16 other[] = { 7 };
	struct xfsm_group g;
	struct pkt p;
	int i, seen[3] = { 0, 0, 0 };

	NEED_T();
	pin_cpu0();
	ports_to_lo();
	ck_assert_int_eq(xfsm_group_build(&g, XFSM_GP_RR_PACKET, other, NULL, 1), 0);
	ck_assert_int_eq(xfsm_group_write(T.inst, 9, &g), 0);
	ck_assert_int_eq(compile_apply(one), 0);
	ck_assert_int_eq(xfsm_group_read(T.inst, 5, &g), 0);
	ck_assert_uint_eq(g.policy, XFSM_GP_WEIGHTED);
	ck_assert_uint_eq(g.n_members, 2);
	ck_assert_uint_eq(g.members[0], 2);
	ck_assert_uint_eq(g.weights[1], 2);
	ck_assert_int_eq(xfsm_group_read(T.inst, 6, &g), 0);
	ck_assert_uint_eq(g.policy, XFSM_GP_RR_FLOW);
	flow_pkt(&p, 0, false);	/* to UDP port 53 */
	for (i = 0; i < 30; i++) {
		int m = send_one(&p);

		ck_assert_int_ge(m, 0);
		seen[m]++;
	}
	ck_assert_int_eq(seen[0] + seen[1], 30);
	ck_assert_int_gt(seen[0], 0);
	ck_assert_int_gt(seen[1], seen[0]);

	ck_assert_int_eq(compile_apply(two), 0);
	ck_assert_int_eq(xfsm_group_read(T.inst, 5, &g), 0);
	ck_assert_uint_eq(g.policy, XFSM_GP_RR_PACKET);
	ck_assert_uint_eq(g.n_members, 1);
	ck_assert_uint_eq(g.members[0], 4);
	/* not declared by either: as it was set */
	ck_assert_int_eq(xfsm_group_read(T.inst, 9, &g), 0);
	ck_assert_uint_eq(g.members[0], 7);
	ck_assert_int_eq(xfsm_group_delete(T.inst, 9), 0);
	ck_assert_int_eq(xfsm_group_read(T.inst, 9, &g), 0);
	ck_assert_uint_eq(g.generation, 0);
	XT_END();
}
END_TEST

/* Members with their own MAC (language `mac M`): the packet a member
 * gets carries its MAC as eth.dst; a member without one keeps the
 * frame's own. */
START_TEST(test_member_mac)
{
	static const char app[] =
		"group lb = 5 rr 2 mac 02:00:00:00:01:02, 3, 4 mac 02:00:00:00:01:04\n"
		"stage s {\n\trule r => output group lb\n}\n";
	const __u64 want[3] = { 0x020000000102ULL, 0, 0x020000000104ULL };
	struct xfsm_group_stats a, b;
	struct xfsm_group g;
	struct xt_result r;
	struct pkt p;
	int i, m, seen = 0;

	NEED_T();
	pin_cpu0();
	ports_to_lo();
	ck_assert_int_eq(compile_apply(app), 0);
	ck_assert_int_eq(xfsm_group_read(T.inst, 5, &g), 0);
	ck_assert_uint_eq(g.macs[0], want[0]);
	ck_assert_uint_eq(g.macs[1], 0);
	ck_assert_uint_eq(g.macs[2], want[2]);
	flow_pkt(&p, 0, false);
	for (i = 0; i < 6; i++) {
		__u64 dst;

		ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &a), 0);
		ck_assert_int_eq(xt_run_pkt(&T, &p, 0, &r), 0);
		ck_assert_int_eq(xfsm_group_read_stats(T.inst, GID, &b), 0);
		ck_assert_uint_eq(r.verdict, XDP_REDIRECT);
		for (m = 0; m < 3 && b.member[m] == a.member[m]; m++)
			;
		ck_assert_int_lt(m, 3);
		seen |= 1 << m;
		dst = (__u64)pkt_get16(r.data) << 32 | pkt_get32(r.data + 2);
		if (want[m])
			ck_assert_msg(dst == want[m], "member %d: eth.dst %012llx, want %012llx", m,
				      (unsigned long long)dst, (unsigned long long)want[m]);
		else
			ck_assert_msg(!memcmp(r.data, p.data, 6),
				      "member %d has no MAC: eth.dst unchanged", m);
		ck_assert_msg(!memcmp(r.data + 6, p.data + 6, r.len - 6), "the rest unchanged");
	}
	ck_assert_int_eq(seen, 7);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("group");
	TCase *tc = xt_tcase(s, "group", suite_open_native);

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rr_packet_even);
	tcase_add_test(tc, test_weighted);
	tcase_add_test(tc, test_hash_symmetric);
	tcase_add_test(tc, test_rr_flow);
	tcase_add_test(tc, test_member_down);
	tcase_add_test(tc, test_port_set_missing);
	tcase_add_test(tc, test_group_reset_range);
	tcase_add_test(tc, test_empty_group);
	tcase_add_test(tc, test_consistent_movement);
	tcase_add_test(tc, test_port_counters);
	tcase_add_test(tc, test_build_errors);
	tcase_add_test(tc, test_app_groups);
	tcase_add_test(tc, test_member_mac);
	return xt_suite_run(s);
}
