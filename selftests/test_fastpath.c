/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The fast paths (docs/datapath.md, "Fast paths"; lib/plan.c): what libxfsm
 * plans for an application, and that the datapath taking them gives the
 * same results as without them.
 *
 *  - plan: which registers are additive, which rules go without a lock,
 *    which stages need no flow lookup, which get per-state rule lists and
 *    how many match words those lists compare
 *  - scan: a small stage matched by its lists and the same stage matched
 *    by the tuple search (made too big for lists by rules that never
 *    match) give the same verdict, rule and counters for every packet of
 *    a random walk, states >= XFSM_SCAN_STATES included
 *  - port cache: a changed port table is seen by the next packet
 */
#include <string.h>

#include <bpf/libbpf.h>

#include "suite.h"
#include "xfsm_plan.h"

#define WALK_STEPS	400
#define WALK_SEED	0x1f2e3d4cU

static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* ---- plan ------------------------------------------------------------------ */

static struct xfsm_rule *plan_rule_of(const struct xfsm_image *img, const struct xfsm_plan *p,
				      size_t i, struct xfsm_rule *out)
{
	*out = img->rules[i].rule;
	xfsm_plan_rule(p, img->rules[i].key.stage, out);
	return out;
}

START_TEST(test_plan_additive)
{
	struct xfsm_image img;
	struct xfsm_plan plan;
	struct xfsm_rule r;
	struct rb b;

	app_init(&img, 2, XFSM_VERDICT_DROP);
	/* stage 0: reg0 += 1 (alone), reg1 += len and reg2 = reg2 * 2 (one rule) */
	rb_init(&b, 3);
	rb_state(&b, 0);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 2);
	rb_state(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	rb_upd(&b, XFSM_UPD_MUL, XFSM_OPND_FLOW_REG, 2, OPR(2), OPC(2));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* a transition with an addition: additive, but locked */
	rb_init(&b, 1);
	rb_state(&b, 2);
	rb_upd(&b, XFSM_UPD_SUB, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(5));
	rb_next(&b, 1);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* stage 1: reg0 = 1 - reg0 (not an addition to reg0), reg3 = reg3 + reg3,
	 * reg1 += reg2 (reg2 read: not additive), global0 += 1, global1 += 1
	 * twice across stages, global2 read by an update */
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_SUB, XFSM_OPND_FLOW_REG, 0, OPC(1), OPR(0));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 3, OPR(3), OPR(3));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPR(2));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPC(1));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	rb_init(&b, 1);
	rb_state(&b, 3);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 1, OPC(1), OPG(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 2, OPR(2), OPG(2));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);

	xfsm_image_plan(&img, &plan);
	ck_assert_uint_eq(plan.flow_add[0], 0x3 | 0x8);	/* reg0, reg1, (reg3 unused) */
	ck_assert_uint_eq(plan.flow_add[1], 0x2);	/* reg1 only */
	ck_assert_uint_eq(plan.global_add, 0xfb);	/* all but global2 */
	/* what a lock-free rule adds to: reg0 of stage 0, global0 and 1 */
	ck_assert_uint_eq(plan.flow_nolock[0], 0x1);
	ck_assert_uint_eq(plan.flow_nolock[1], 0);
	ck_assert_uint_eq(plan.global_nolock, 0x3);

	plan_rule_of(&img, &plan, 0, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_FLOW_NOLOCK);
	ck_assert_uint_eq(r.upd[0].flags, XFSM_UF_ADD);
	plan_rule_of(&img, &plan, 1, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* two writes: locked */
	ck_assert_uint_eq(r.upd[0].flags, 0);	/* reg1: only locked writers, a store */
	ck_assert_uint_eq(r.upd[1].flags, 0);
	plan_rule_of(&img, &plan, 2, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* a transition */
	ck_assert_uint_eq(r.upd[0].flags, XFSM_UF_ADD);	/* reg0: rule 0 adds without the lock */
	plan_rule_of(&img, &plan, 3, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_GLOBAL_NOLOCK);
	ck_assert_uint_eq(r.upd[0].flags | r.upd[1].flags | r.upd[2].flags, 0);
	ck_assert_uint_eq(r.upd[3].flags, XFSM_UF_ADD);
	plan_rule_of(&img, &plan, 4, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_GLOBAL_NOLOCK);
	ck_assert_uint_eq(r.upd[0].flags, XFSM_UF_ADD);
	ck_assert_uint_eq(r.upd[1].flags, 0);		/* reg2 is read in stage 1 */

	/* planning again starts from scratch */
	r.flags |= XFSM_RF_PLANNED;
	xfsm_plan_clear_rule(&r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);
	ck_assert_uint_eq(r.upd[0].flags, 0);
	xfsm_image_free(&img);
}
END_TEST

/*
 * Single-register chains (XFSM_RF_FLOW_CAS): a rule without a transition
 * whose flow writes all go to one register and read no other, where every
 * writer of that register in the stage is such a chain or an addition and
 * nothing else reads it.
 */
START_TEST(test_plan_cas)
{
	struct xfsm_image img;
	struct xfsm_plan plan;
	struct xfsm_rule r;
	struct rb b;

	app_init(&img, 3, XFSM_VERDICT_DROP);
	/* 0: the cursor on reg0 */
	rb_init(&b, 9);
	rb_state(&b, 0);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_MOD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(16));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* 1: a locked transaction adding to reg0 */
	rb_init(&b, 8);
	rb_state(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(2));
	rb_upd(&b, XFSM_UPD_MAX, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* 2: reg2 = reg2 * 3; 3: reg2 += 1 with a transition (an addition) */
	rb_init(&b, 7);
	rb_state(&b, 2);
	rb_upd(&b, XFSM_UPD_MUL, XFSM_OPND_FLOW_REG, 2, OPR(2), OPC(3));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 6);
	rb_state(&b, 3);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 2, OPR(2), OPC(1));
	rb_next(&b, 1);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* 4: reg3 = reg3 * 2 with a transition: 5, reg3 += 5, keeps the lock */
	rb_init(&b, 5);
	rb_state(&b, 4);
	rb_upd(&b, XFSM_UPD_MUL, XFSM_OPND_FLOW_REG, 3, OPR(3), OPC(2));
	rb_next(&b, 2);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 4);
	rb_state(&b, 5);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 3, OPR(3), OPC(5));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* stage 1, 6: reg0 = reg0 * 2, but 7 reads reg0 */
	rb_init(&b, 9);
	rb_state(&b, 0);
	rb_upd(&b, XFSM_UPD_MUL, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(2));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	rb_init(&b, 8);
	rb_state(&b, 1);
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 1, OPR(0), OPNONE);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	/* 8: a chain over a field and metadata; 9: reg3 ^= reg1, not one */
	rb_init(&b, 7);
	rb_state(&b, 2);
	rb_upd(&b, XFSM_UPD_DIV, XFSM_OPND_FLOW_REG, 2, OPR(2), OPF(XFSM_FW_IP_TTL));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 2, OPM(XFSM_META_LEN), OPR(2));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	rb_init(&b, 6);
	rb_state(&b, 3);
	rb_upd(&b, XFSM_UPD_XOR, XFSM_OPND_FLOW_REG, 3, OPR(3), OPR(1));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	/* stage 2, 10: reg0 = reg0 % 5, read by a global update of the rule */
	rb_init(&b, 5);
	rb_upd(&b, XFSM_UPD_MOD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(5));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPR(0));
	ck_assert_int_eq(rb_add(&img, 2, &b), 0);

	xfsm_image_plan(&img, &plan);
	ck_assert_uint_eq(plan.cas_ok, libbpf_num_possible_cpus() < XFSM_CAS_SLOW_TRIES);
	if (!plan.cas_ok)
		goto out;	/* too many CPUs for the bound: nothing below applies */
	ck_assert_uint_eq(plan.flow_cas[0] & 0xf, 0x5);		/* reg0, reg2; not reg3, reg1 */
	ck_assert_uint_eq(plan.flow_casw[0], 0x5);
	ck_assert_uint_eq(plan.flow_cas[1], 0x4);		/* reg2 only */
	ck_assert_uint_eq(plan.flow_casw[1], 0x4);
	ck_assert_uint_eq(plan.flow_cas[2] & 0x1, 0);
	ck_assert_uint_eq(plan.flow_casw[2], 0);

	plan_rule_of(&img, &plan, 0, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_FLOW_CAS);
	ck_assert_uint_eq(r.upd[0].flags | r.upd[1].flags, 0);	/* the chain's own: no atomic add */
	plan_rule_of(&img, &plan, 1, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);
	ck_assert_uint_eq(r.upd[0].flags, XFSM_UF_ADD);	/* beside a compare and swap */
	ck_assert_uint_eq(r.upd[1].flags, 0);
	plan_rule_of(&img, &plan, 2, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_FLOW_CAS);
	plan_rule_of(&img, &plan, 3, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* a transition */
	ck_assert_uint_eq(r.upd[0].flags, XFSM_UF_ADD);
	plan_rule_of(&img, &plan, 4, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);
	plan_rule_of(&img, &plan, 5, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* reg3 has a locked store */
	ck_assert_uint_eq(r.upd[0].flags, 0);
	plan_rule_of(&img, &plan, 6, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* reg0 is read by rule 7 */
	plan_rule_of(&img, &plan, 8, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_FLOW_CAS);
	plan_rule_of(&img, &plan, 9, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* reads reg1 */
	plan_rule_of(&img, &plan, 10, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_FLOW_CAS, 0);	/* reg0 read by a global update */

	/* planning again starts from scratch */
	plan_rule_of(&img, &plan, 0, &r);
	xfsm_plan_clear_rule(&r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);
out:
	xfsm_image_free(&img);
}
END_TEST

/* A rule of several additions, flow and global, goes without the lock as
 * a whole; one update reading a register it adds to takes the lock back. */
START_TEST(test_plan_lockfree_adds)
{
	struct xfsm_image img;
	struct xfsm_plan plan;
	struct xfsm_rule r;
	struct rb b;
	int i;

	app_init(&img, 2, XFSM_VERDICT_DROP);
	/* stage 0: packet and byte counters, per flow and global */
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPC(1));
	rb_upd(&b, XFSM_UPD_SUB, XFSM_OPND_GLOBAL_REG, 1, OPG(1), OPM(XFSM_META_LEN));
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	/* stage 1: the same flow counters, and a rule reading reg1 */
	rb_init(&b, 2);
	rb_state(&b, 0);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_FLOW_REG, 2, OPR(1), OPNONE);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);

	xfsm_image_plan(&img, &plan);
	ck_assert_uint_eq(plan.flow_nolock[0], 0x3);
	ck_assert_uint_eq(plan.global_nolock, 0x3);
	ck_assert_uint_eq(plan.flow_nolock[1], 0);
	plan_rule_of(&img, &plan, 0, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, XFSM_RF_FLOW_NOLOCK | XFSM_RF_GLOBAL_NOLOCK);
	for (i = 0; i < 4; i++)
		ck_assert_msg(r.upd[i].flags == XFSM_UF_ADD, "update %d: an atomic add", i);
	plan_rule_of(&img, &plan, 1, &r);
	ck_assert_uint_eq(r.flags & XFSM_RF_PLANNED, 0);	/* reg1 is read: locked */
	ck_assert_uint_eq(r.upd[0].flags | r.upd[1].flags, 0);
	xfsm_image_free(&img);
}
END_TEST

/* One stage, one rule: optionally matching the state, adding to reg0 with
 * a transition that sets an idle timeout, marking the packet with reg0 (or
 * a constant), then dropping. */
static void one_rule(struct xfsm_image *img, bool match_state, bool timeout, bool act_reads,
		     bool writes)
{
	struct rb b;

	app_init(img, 1, XFSM_VERDICT_DROP);
	rb_init(&b, 1);
	if (match_state)
		rb_state(&b, 0);
	if (writes)
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	if (timeout) {
		rb_next(&b, 1);
		rb_idle(&b, 1000, 0);
	}
	rb_act(&b, XFSM_ACT_SET_MARK, 0, act_reads ? OPR(0) : OPC(7));
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(img, 0, &b), 0);
}

/* Which flow table the planner puts a stage's flows into: the narrowest
 * whose key holds every key list, lookup and update, both directions:
 * the narrow one's 2 words (a key of 3 words would hash one jhash2 round
 * slower), else the medium one's 5 (a 5-tuple), else the wide one. */
START_TEST(test_plan_flow_table)
{
	static const __u8 src[] = { XFSM_FW_IP4_SRC };
	static const __u8 two[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST };
	static const __u8 three[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO };
	static const __u8 four[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_L4_SPORT,
				     XFSM_FW_L4_DPORT };
	static const __u8 four_rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC, XFSM_FW_L4_DPORT,
					 XFSM_FW_L4_SPORT };
	static const __u8 five[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO,
				     XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT };
	static const __u8 pair[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST };
	static const __u8 pair_rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC };
	static const __u8 five_rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC, XFSM_FW_IP_PROTO,
					 XFSM_FW_L4_DPORT, XFSM_FW_L4_SPORT };
	static const __u8 six[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP_PROTO,
				    XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT, XFSM_FW_VLAN_ID };
	static const __u8 ip6[] = { XFSM_FW_IP6_SRC, XFSM_FW_IP6_SRC + 1, XFSM_FW_IP6_SRC + 2,
				    XFSM_FW_IP6_SRC + 3 };
	static const __u8 ip6_pair[] = { XFSM_FW_IP6_SRC, XFSM_FW_IP6_SRC + 1,
					 XFSM_FW_IP6_SRC + 2, XFSM_FW_IP6_SRC + 3,
					 XFSM_FW_IP6_DST, XFSM_FW_IP6_DST + 1,
					 XFSM_FW_IP6_DST + 2, XFSM_FW_IP6_DST + 3 };
	/* a 5-tuple's 2 words padded out past the medium key: still narrow */
	static const __u8 padded[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_ZERO,
				       XFSM_FW_ZERO, XFSM_FW_ZERO, XFSM_FW_ZERO };
	const __u32 N = XFSM_SF_NARROW, M = XFSM_SF_MEDIUM;
	static const struct {
		const char *what;
		const __u8 *lookup, *update, *rev;	/* rev: symmetric (one key) */
		unsigned int n_lookup, n_update;
		bool acl;
		__u32 table;	/* XFSM_SF_TABLE bits */
	} cases[] = {
		{ "one word", src, src, NULL, 1, 1, false, N },
		{ "two words", two, two, NULL, 2, 2, false, N },
		{ "three words", three, three, NULL, 3, 3, false, M },
		{ "four words", four, four, NULL, 4, 4, false, M },
		{ "five words", five, five, NULL, 5, 5, false, M },
		{ "six words", six, six, NULL, 6, 6, false, 0 },
		{ "two words padded to six", padded, padded, NULL, 6, 6, false, N },
		{ "an IPv6 address", ip6, ip6, NULL, 4, 4, false, M },
		{ "two IPv6 addresses", ip6_pair, ip6_pair, NULL, 8, 8, false, 0 },
		{ "lookup 1, update 5", src, five, NULL, 1, 5, false, M },
		{ "lookup 5, update 1", five, src, NULL, 5, 1, false, M },
		{ "lookup 1, update 6", src, six, NULL, 1, 6, false, 0 },
		{ "lookup 1, update 2", src, two, NULL, 1, 2, false, N },
		{ "lookup 1, update 3", src, three, NULL, 1, 3, false, M },
		{ "lookup 3, update 1", three, src, NULL, 3, 1, false, M },
		{ "symmetric pair", pair, pair, pair_rev, 2, 2, false, N },
		{ "symmetric 4 words", four, four, four_rev, 4, 4, false, M },
		{ "symmetric 5-tuple", five, five, five_rev, 5, 5, false, M },
		{ "an ACL stage", src, src, NULL, 1, 1, true, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfsm_image img;
		struct xfsm_plan plan;
		struct xfsm_app app;

		one_rule(&img, false, false, false, true);
		if (cases[i].rev) {
			ck_assert_int_eq(app_keys_sym(&img, 0, cases[i].lookup, cases[i].rev,
						      cases[i].n_lookup), 0);
			ck_assert(img.app.stages[0].flags & XFSM_SF_SYMMETRIC);
		} else {
			ck_assert_int_eq(app_keys(&img, 0, cases[i].lookup, cases[i].n_lookup,
						  cases[i].update, cases[i].n_update), 0);
		}
		if (cases[i].acl)
			img.app.stages[0].kind = XFSM_STAGE_ACL;
		xfsm_image_plan(&img, &plan);
		app = img.app;
		xfsm_plan_app(&plan, &img, &app, 0);
		ck_assert_msg((app.stages[0].flags & XFSM_SF_TABLE) == cases[i].table,
			      "%s: table flags %#x, expected %#x", cases[i].what,
			      app.stages[0].flags & XFSM_SF_TABLE, cases[i].table);
		ck_assert_uint_eq(xfsm_stage_keys_table(&app.stages[0]), cases[i].table);
		xfsm_plan_clear_app(&app);
		ck_assert_uint_eq(app.stages[0].flags & XFSM_SF_TABLE, 0);
		xfsm_image_free(&img);
	}
}
END_TEST

START_TEST(test_plan_no_lookup)
{
	static const struct {
		bool match_state, timeout, act_reads, writes, same_keys, cond_reads;
		bool no_lookup;
	} cases[] = {
		{ false, false, false, true, true, false, true },	/* counter */
		{ false, false, false, false, true, false, true },	/* reads nothing */
		{ true, false, false, true, true, false, false },	/* matches the state */
		{ false, true, false, true, true, false, false },	/* sets a timeout */
		{ false, false, true, false, true, false, false },	/* action reads, no write */
		{ false, false, true, true, true, false, true },	/* reads what it wrote */
		{ false, false, true, true, false, false, false },	/* ... another flow */
		{ false, false, false, true, true, true, false },	/* condition reads reg0 */
	};
	static const __u8 k1[] = { XFSM_FW_IP4_SRC }, k2[] = { XFSM_FW_IP4_DST };
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfsm_image img;
		struct xfsm_plan plan;
		struct xfsm_app app;

		one_rule(&img, cases[i].match_state, cases[i].timeout, cases[i].act_reads,
			 cases[i].writes);
		ck_assert_int_eq(app_keys(&img, 0, k1, 1, cases[i].same_keys ? k1 : k2, 1), 0);
		if (cases[i].cond_reads) {
			app_cond(&img, 0, 0, XFSM_CMP_GT, OPR(0), OPC(3));
			img.app.stages[0].n_conds = 1;
		}
		xfsm_image_plan(&img, &plan);
		app = img.app;
		xfsm_plan_app(&plan, &img, &app, 0);
		ck_assert_msg(!!(app.stages[0].flags & XFSM_SF_NO_LOOKUP) == cases[i].no_lookup,
			      "case %u: no lookup %d, expected %d", i,
			      !!(app.stages[0].flags & XFSM_SF_NO_LOOKUP), cases[i].no_lookup);
		xfsm_plan_clear_app(&app);
		ck_assert_uint_eq(app.stages[0].flags & XFSM_SF_NO_LOOKUP, 0);
		xfsm_image_free(&img);
	}
}
END_TEST

/* Rules of a stage: priorities p[i] in tuples chosen by masks; the scan
 * lists follow (priority, tuple) and each state's list holds exactly the
 * rules that can match that state. */
START_TEST(test_plan_scan_lists)
{
	static const __u8 words[] = { XFSM_FW_L4_DPORT };
	struct xfsm_image img;
	struct xfsm_plan plan;
	struct xfsm_app app;
	const struct xfsm_scan *sc;
	struct rb b;
	unsigned int s, k;

	app_init(&img, 1, XFSM_VERDICT_DROP);
	app_match_words(&img, 0, words, 1);
	rb_init(&b, 5);			/* any state, dport 22 */
	rb_match(&b, 0, 22, 0xffff);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 9);			/* state 1 */
	rb_state(&b, 1);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 5);			/* state 2, dport 80: same priority as rule 0 */
	rb_state(&b, 2);
	rb_match(&b, 0, 80, 0xffff);
	rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 1);			/* odd states (mask 1) */
	b.m.state = 1;
	b.m.state_mask = 1;
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);

	xfsm_image_plan(&img, &plan);
	app = img.app;
	xfsm_plan_app(&plan, &img, &app, 100);
	sc = &app.scan[0];
	ck_assert_uint_eq(sc->enabled, 1);
	ck_assert_uint_eq(sc->n_rules, 4);
	/* rank: priority 9 (rule 1), then the two of priority 5 by tuple, then 1 */
	ck_assert_uint_eq(sc->rules[0].rule.rule_id, 1 + 100);
	ck_assert_uint_eq(sc->rules[3].rule.rule_id, 3 + 100);
	ck_assert_uint_eq(sc->rules[1].rule.rule_id, 0 + 100);	/* the earlier tuple */
	ck_assert_uint_eq(sc->rules[2].rule.rule_id, 2 + 100);
	for (s = 0; s < XFSM_SCAN_STATES; s++) {
		unsigned int want = 1 + (s == 1) + (s == 2) + (s & 1);

		ck_assert_msg(sc->len[s] == want, "state %u: %u rules listed, expected %u", s,
			      sc->len[s], want);
		for (k = 1; k < sc->len[s]; k++)
			ck_assert_uint_lt(sc->list[s][k - 1], sc->list[s][k]);	/* in rank order */
	}
	/* rules 0 and 2 compare word 0: the scan reads it and no other */
	ck_assert_uint_eq(sc->idle_words, XFSM_MATCH_WORDS - 1);

	/* more rules than a scan holds: the tuple search */
	for (k = 0; k < XFSM_SCAN_RULES; k++) {
		rb_init(&b, 0);
		rb_match(&b, 0, 1000 + k, 0xffff);
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	}
	xfsm_image_plan(&img, &plan);
	app = img.app;
	xfsm_plan_app(&plan, &img, &app, 0);
	ck_assert_uint_eq(app.scan[0].enabled, 0);
	xfsm_image_free(&img);
}
END_TEST

/* The scan reads the match words up to the last one a rule of the stage
 * compares, whichever rule that is; none for rules that compare none. */
START_TEST(test_plan_scan_words)
{
	static const __u8 words[] = { XFSM_FW_IP_PROTO, XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT };
	struct xfsm_image img;
	struct xfsm_plan plan;
	struct xfsm_app app;
	struct rb b;

	app_init(&img, 2, XFSM_VERDICT_DROP);
	app_match_words(&img, 0, words, 3);
	app_match_words(&img, 1, words, 3);
	rb_init(&b, 5);			/* stage 0: word 0 */
	rb_match(&b, 0, 6, 0xff);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 4);			/* word 2 alone, in a later rule */
	rb_match(&b, 2, 22, 0xffff);
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	rb_init(&b, 1);			/* stage 1: any packet */
	rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 1, &b), 0);

	xfsm_image_plan(&img, &plan);
	app = img.app;
	xfsm_plan_app(&plan, &img, &app, 0);
	ck_assert_uint_eq(app.scan[0].enabled, 1);
	ck_assert_uint_eq(app.scan[0].idle_words, XFSM_MATCH_WORDS - 3);
	ck_assert_uint_eq(app.scan[1].enabled, 1);
	ck_assert_uint_eq(app.scan[1].idle_words, XFSM_MATCH_WORDS);
	xfsm_image_free(&img);
}
END_TEST

/* ---- scan against the tuple search, through the datapath ------------------ */

/*
 * A port-knocking-like stage: matches on the state, ip.proto and
 * l4.dport, transitions through states 0..9 (8 and 9 have no list), rules
 * of equal priority in different tuples.  `pad` adds XFSM_SCAN_RULES
 * rules that never match, so that the stage is too big for lists.
 */
static int scan_app(struct xfsm_image *img, bool pad)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u8 words[] = { XFSM_FW_IP_PROTO, XFSM_FW_L4_DPORT };
	struct rb b;
	int err, i;

	app_init(img, 1, XFSM_VERDICT_PASS);
	err = app_keys(img, 0, key, 1, key, 1);
	app_match_words(img, 0, words, 2);
	app_miss(img, 0, XFSM_VERDICT_PASS);
	for (i = 0; i < 10 && !err; i++) {	/* state i, UDP to 1000 + i: next state */
		rb_init(&b, 10);
		rb_state(&b, i);
		rb_match(&b, 0, IPPROTO_UDP_, 0xff);
		rb_match(&b, 1, 1000 + i, 0xffff);
		rb_next(&b, (i + 1) % 10);
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	if (!err) {			/* TCP 22 in an even state: tx; any state: drop */
		rb_init(&b, 7);
		b.m.state = 0;
		b.m.state_mask = 1;
		rb_match(&b, 0, IPPROTO_TCP_, 0xff);
		rb_match(&b, 1, 22, 0xffff);
		rb_act(&b, XFSM_ACT_TX, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	if (!err) {
		rb_init(&b, 7);		/* equal priority, another tuple */
		rb_match(&b, 1, 22, 0xffff);
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	if (!err) {			/* any UDP in a state >= 4: back to 0, counted */
		rb_init(&b, 3);
		b.m.state = 4;
		b.m.state_mask = 4;
		rb_match(&b, 0, IPPROTO_UDP_, 0xff);
		rb_next(&b, 0);
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	for (i = 0; pad && i < XFSM_SCAN_RULES && !err; i++) {
		rb_init(&b, 0);
		rb_match(&b, 0, 200, 0xff);	/* no such protocol here */
		rb_match(&b, 1, i, 0xffff);
		rb_act(&b, XFSM_ACT_DROP, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	return err;
}

struct walk_out {
	__u32	verdict[WALK_STEPS];
	__u32	state[WALK_STEPS];
	__u64	reg0[WALK_STEPS];
	struct xfsm_rule_stats rule[13];
};

static bool walk(bool pad, struct walk_out *o)
{
	__u32 seed = WALK_SEED, w[XFSM_KEY_WORDS] = { 0 };
	struct xfsm_image img, live;
	struct xt_result res;
	struct xfsm_flow f;
	unsigned int i;
	bool ok = false;

	memset(o, 0, sizeof(*o));
	if (!ASSERT_OK(xt_reset(&T), "reset") || !ASSERT_OK(scan_app(&img, pad), "app") ||
	    !ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	xfsm_image_init(&live);
	if (ASSERT_OK(xfsm_read_app(T.inst, &live), "read back"))
		ASSERT_EQ(live.app.scan[0].enabled, 0, "read back: no lists (derived)");
	xfsm_image_free(&live);
	for (i = 0; i < WALK_STEPS; i++) {
		__u32 src = 1 + rnd(&seed) % 2, pick = rnd(&seed) % 8;
		struct pkt_spec s = { .l3 = PS_IP4, .src = src, .dst = 9, .sport = 5 };
		struct pkt p;

		w[0] = TEST_IP4(src);
		/* the next transition, mostly; else TCP 22 or a wrong port */
		if (pick < 5) {
			s.l4 = PS_UDP;
			s.dport = 1000 + (xt_find_flow(&T, 0, w, NULL, &f) ? 0 : f.state);
		} else if (pick < 7) {
			s.l4 = PS_TCP;
			s.dport = 22;
		} else {
			s.l4 = PS_UDP;
			s.dport = 2000 + pick;
		}
		pkt_from_spec(&p, &s);
		if (!ASSERT_OK(xt_run_pkt(&T, &p, 0, &res), "run"))
			goto out;
		o->verdict[i] = res.verdict;
		if (!xt_find_flow(&T, 0, w, NULL, &f)) {
			o->state[i] = f.state;
			o->reg0[i] = f.regs[0];
		}
	}
	for (i = 0; i < 13; i++)
		xfsm_read_rule_stats(T.inst, i, &o->rule[i]);
	ok = true;
out:
	xfsm_image_free(&img);
	return ok;
}

START_TEST(test_scan_same_as_tuples)
{
	static struct walk_out a, b;
	unsigned int i, hi_states = 0, tx = 0;

	NEED_T();
	if (!walk(false, &a) || !walk(true, &b))
		goto out;
	for (i = 0; i < WALK_STEPS && !xt_failures; i++) {
		xt_set_context("step %u", i);
		ASSERT_EQ(a.verdict[i], b.verdict[i], "verdict: lists, tuple search");
		ASSERT_EQ(a.state[i], b.state[i], "state: lists, tuple search");
		ASSERT_EQ(a.reg0[i], b.reg0[i], "reg0: lists, tuple search");
		hi_states += a.state[i] >= XFSM_SCAN_STATES;
		tx += a.verdict[i] == XDP_TX;
	}
	for (i = 0; i < 13; i++) {
		xt_set_context("rule %u", i);
		ASSERT_EQ(a.rule[i].packets, b.rule[i].packets, "rule hits: lists, tuple search");
	}
	xt_set_context("the walk");
	ASSERT_GE(hi_states, 1, "reached states without a list");
	ASSERT_GE(tx, 1, "the even-state TCP 22 rule won");
out:
	XT_END();
}
END_TEST

/* ---- transitions that refresh ---------------------------------------------- */

/*
 * Stage key ip.src, match words ip.proto and l4.dport:
 *   UDP 1: goto state 1 idle 50 s -> 0, pass	(the firewall's refresh)
 *   UDP 2: goto state 1 idle 60 s -> 2, pass	(the same state, another timer)
 *   UDP 3 in state 1: goto state 2 idle 50 s -> 0, drop
 *   TCP in state 3: goto state 3, tx		(no timeout: a refresh too)
 *   TCP: goto state 3, pass
 * `twin`: every transition also adds 0 to reg3, which changes nothing but
 * keeps the rules off the refresh path (they write a register).
 * `two_keys`: the rules write the flow of (ip.src, l4.sport), not the one
 * they look up (which then stays in state 0).
 */
static int refresh_app(struct xfsm_image *img, bool twin, bool two_keys)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC }, ukey[] = { XFSM_FW_IP4_SRC, XFSM_FW_L4_SPORT };
	static const __u8 words[] = { XFSM_FW_IP_PROTO, XFSM_FW_L4_DPORT };
	static const struct {
		__u32 prio; int state; __u8 proto; __u16 dport;
		__u32 next, idle_ms, rollback; __u8 verdict;
	} rules[] = {
		{ 5, -1, IPPROTO_UDP_, 1, 1, 50000, 0, XFSM_ACT_PASS },
		{ 5, -1, IPPROTO_UDP_, 2, 1, 60000, 2, XFSM_ACT_PASS },
		{ 6, 1, IPPROTO_UDP_, 3, 2, 50000, 0, XFSM_ACT_DROP },
		{ 4, 3, IPPROTO_TCP_, 0, 3, 0, 0, XFSM_ACT_TX },
		{ 3, -1, IPPROTO_TCP_, 0, 3, 0, 0, XFSM_ACT_PASS },
	};
	unsigned int i;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = two_keys ? app_keys(img, 0, key, 1, ukey, 2) : app_keys(img, 0, key, 1, key, 1);
	app_match_words(img, 0, words, 2);
	app_miss(img, 0, XFSM_VERDICT_DROP);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]) && !err; i++) {
		struct rb b;

		rb_init(&b, rules[i].prio);
		if (rules[i].state >= 0)
			rb_state(&b, rules[i].state);
		rb_match(&b, 0, rules[i].proto, 0xff);
		if (rules[i].dport)
			rb_match(&b, 1, rules[i].dport, 0xffff);
		rb_next(&b, rules[i].next);
		if (rules[i].idle_ms)
			rb_idle(&b, rules[i].idle_ms, rules[i].rollback);
		if (twin)
			rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 3, OPR(3), OPC(0));
		rb_act(&b, rules[i].verdict, 0, OPNONE);
		err = rb_add(img, 0, &b);
	}
	return err;
}

#define REFRESH_STEPS	300

struct refresh_out {
	__u32	verdict[REFRESH_STEPS];
	struct xfsm_flow flow[REFRESH_STEPS];	/* the packet's source's flow after it */
	bool	found[REFRESH_STEPS];
	struct xfsm_stage_stats ss;
};

/* The same random packets through the application or its twin.  The
 * offload profile's clock moves 1 ms to 20 s per packet, so that idle
 * timeouts also expire; the native profile's clock is the real one (no
 * timeout expires within the walk). */
static bool refresh_walk(bool twin, bool two_keys, struct refresh_out *o)
{
	__u32 seed = WALK_SEED;
	struct xfsm_image img;
	struct xt_result res;
	unsigned int i;
	bool ok = false;

	memset(o, 0, sizeof(*o));
	if (!ASSERT_OK(xt_reset(&T), "reset") ||
	    !ASSERT_OK(refresh_app(&img, twin, two_keys), "app") ||
	    !ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	for (i = 0; i < REFRESH_STEPS; i++) {
		__u32 src = 1 + rnd(&seed) % 2, pick = rnd(&seed) % 6, ms = 1 + rnd(&seed) % 20000;
		struct pkt_spec ps = { .l3 = PS_IP4, .src = src, .dst = 9, .sport = 5,
				       .l4 = pick < 4 ? PS_UDP : PS_TCP,
				       .dport = pick < 4 ? 1 + pick % 3 : 80 };
		__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(src), two_keys ? 5 : 0 };
		struct pkt p;

		if (T.profile == XT_OFFLOAD && !ASSERT_OK(xt_advance_ms(&T, ms), "clock"))
			goto out;
		pkt_from_spec(&p, &ps);
		if (!ASSERT_OK(xt_run_pkt(&T, &p, 0, &res), "run"))
			goto out;
		o->verdict[i] = res.verdict;
		o->found[i] = !xt_find_flow(&T, 0, w, NULL, &o->flow[i]);
	}
	ok = ASSERT_OK(xfsm_read_stage_stats(T.inst, 0, &o->ss), "stage stats");
out:
	xfsm_image_free(&img);
	return ok;
}

/* A transition into the state, timer and rollbacks a flow already has
 * leaves it as it is (its entry time too): otherwise the same as taking
 * the transition.  Also where the rule writes a flow it did not look up. */
static void refresh_compare(bool two_keys)
{
	static struct refresh_out a, b;
	unsigned int i, refreshed = 0;
	bool offload = T.profile == XT_OFFLOAD;

	if (!refresh_walk(false, two_keys, &a) || !refresh_walk(true, two_keys, &b))
		return;
	for (i = 0; i < REFRESH_STEPS && !xt_failures; i++) {
		const struct xfsm_flow *fa = &a.flow[i], *fb = &b.flow[i];

		xt_set_context("%s: step %u", two_keys ? "two keys" : "one key", i);
		ASSERT_EQ(a.verdict[i], b.verdict[i], "verdict: refresh, transition");
		ASSERT_EQ(a.found[i], b.found[i], "flow present");
		if (!a.found[i])
			continue;
		ASSERT_EQ(fa->state, fb->state, "state");
		ASSERT_EQ(fa->idle_timeout_ms, fb->idle_timeout_ms, "idle timeout");
		ASSERT_EQ(fa->idle_rollback, fb->idle_rollback, "idle rollback");
		ASSERT_EQ(fa->hard_rollback, fb->hard_rollback, "hard rollback");
		ASSERT_EQ(fa->hard_deadline_ns, fb->hard_deadline_ns, "hard deadline");
		ASSERT_EQ(fa->regs[0] | fa->regs[1] | fa->regs[2] | fa->regs[3], 0, "registers");
		if (offload && fa->idle_timeout_ms)	/* the same clock: the same idle timer */
			ASSERT_EQ(fa->last_seen_ns, fb->last_seen_ns, "idle timer restarted");
		/* the twin's transition always stamps the flow */
		if (i && a.found[i - 1] && b.found[i - 1] &&
		    fb->created_ns != b.flow[i - 1].created_ns &&
		    fa->created_ns == a.flow[i - 1].created_ns && fa->state == a.flow[i - 1].state)
			refreshed++;
	}
	xt_set_context("%s: the walk", two_keys ? "two keys" : "one key");
	ASSERT_GE(refreshed, 20, "transitions that left their flow as it was");
	ASSERT_EQ(a.ss.idle_expired, b.ss.idle_expired, "idle timeouts expired");
	ASSERT_EQ(a.ss.hits, b.ss.hits, "rule hits");
	if (offload && !two_keys)
		ASSERT_GE(a.ss.idle_expired, 5, "idle timeouts that expired");
}

START_TEST(test_refresh_same_as_transition)
{
	NEED_T();
	refresh_compare(false);
	refresh_compare(true);
	XT_END();
}
END_TEST

/* ---- the ingress port cache ------------------------------------------------ */

START_TEST(test_port_cache_follows_the_table)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u8 words[] = { XFSM_FW_META_PORT };
	struct xfsm_image img;
	struct xt_result r;
	struct pkt p;
	struct rb b;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	ck_assert_int_eq(app_keys(&img, 0, key, 1, key, 1), 0);
	app_match_words(&img, 0, words, 1);
	app_miss(&img, 0, XFSM_VERDICT_DROP);
	rb_init(&b, 1);
	rb_match(&b, 0, 1, 0xff);	/* port 1 passes, any other drops */
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &b), 0);
	img.app.flags |= XFSM_AF_NEEDS_PORT;
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	{
		struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 1, .dst = 2,
				      .sport = 1, .dport = 2 };

		pkt_from_spec(&p, &s);
	}
	/* BPF_PROG_TEST_RUN's packets arrive on lo, ifindex 1 */
	ASSERT_OK(xt_set_port(&T, 1, 1), "lo is port 1");
	if (ASSERT_OK(xt_run_pkt(&T, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "on port 1");
	ASSERT_OK(xt_set_port(&T, 1, 2), "lo becomes port 2");
	if (ASSERT_OK(xt_run_pkt(&T, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_DROP, "on port 2, the next packet");
	ASSERT_OK(xt_set_port(&T, 1, 1), "lo is port 1 again");
	if (ASSERT_OK(xt_run_pkt(&T, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "on port 1 again");
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpath");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, test_plan_additive);
	tcase_add_test(tc, test_plan_lockfree_adds);
	tcase_add_test(tc, test_plan_cas);
	tcase_add_test(tc, test_plan_no_lookup);
	tcase_add_test(tc, test_plan_flow_table);
	tcase_add_test(tc, test_plan_scan_lists);
	tcase_add_test(tc, test_plan_scan_words);
	suite_add_tcase(s, tc);
	tc = xt_tcase(s, "datapath", suite_open_native);
	tcase_add_test(tc, test_scan_same_as_tuples);
	tcase_add_test(tc, test_port_cache_follows_the_table);
	tcase_add_test(tc, test_refresh_same_as_transition);
	tc = xt_tcase(s, "datapath-offload", suite_open_offload);
	tcase_add_test(tc, test_refresh_same_as_transition);
	return xt_suite_run(s);
}
