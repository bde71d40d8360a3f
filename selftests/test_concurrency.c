/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Concurrency (docs/datapath.md, "Concurrency"): the same flow driven from
 * both CPUs at once, two threads pinned to CPU 0 and CPU 1, each one
 * BPF_PROG_TEST_RUN with a large repeat.  No update may be lost: the
 * registers end at exactly the packet and byte totals.  Both profiles:
 * native (spin locks) and offload (atomic adds of differences).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "suite.h"

#define REPEAT		200000
#define NTHREADS	2

/* Runs per thread of the next hammer2() (0: REPEAT). */
static __u32 hammer_repeat;

/* The fetch_add tests run a tenth of REPEAT under emulation (the 6.1 VM
 * of make vmtest): still hundreds of thousands of contended fetches on the
 * host, where a lost one shows. */
static __u32 fetch_repeat(void)
{
	return getenv("XT_EMULATED") ? REPEAT / 10 : REPEAT;
}

struct runner {
	pthread_t	tid;
	int		cpu;
	const struct pkt *p;	/* this thread's frame */
	int		err;
	__u32		verdict;
	pthread_barrier_t *start;
};

static void *run_on_cpu(void *arg)
{
	struct runner *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	r->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (r->err) {
		r->err = -r->err;
		return NULL;
	}
	pthread_barrier_wait(r->start);
	r->err = xt_run_repeat(&T, r->p->data, r->p->len, 1, hammer_repeat ?: REPEAT,
			       &r->verdict, NULL);
	return NULL;
}

/* Run p0 on CPU 0 and p1 on CPU 1 at once; false when the threads could
 * not run. */
static bool hammer2(const struct pkt *p0, const struct pkt *p1)
{
	struct runner r[NTHREADS];
	pthread_barrier_t start;
	bool ok = true;
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < NTHREADS) {
		fprintf(stderr, "NOTE: fewer than %d CPUs online, running on one\n", NTHREADS);
	}
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		r[i] = (struct runner){ .cpu = i % (int)sysconf(_SC_NPROCESSORS_ONLN),
					.p = i ? p1 : p0, .start = &start };
		if (!ASSERT_OK(-pthread_create(&r[i].tid, NULL, run_on_cpu, &r[i]), "thread"))
			return false;
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(r[i].tid, NULL);
		ok &= ASSERT_OK(r[i].err, "test_run on a pinned CPU");
		ok &= ASSERT_EQ(r[i].verdict, XDP_PASS, "verdict");
	}
	pthread_barrier_destroy(&start);
	return ok;
}

static bool hammer(const struct pkt *p)
{
	return hammer2(p, p);
}

static void pkt_of(struct pkt *p, unsigned int src)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = src, .dst = 9,
			      .sport = 1, .dport = 2, .payload = 58 };

	pkt_from_spec(p, &s);
}

/* reg0 += 1, reg1 += meta.len, global 0 += 1, global 1 += meta.len: four
 * additions, no lock. */
static int app_counters(struct xfsm_image *img, bool two_regs)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key, 1, key, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	if (two_regs) {
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPC(1));
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 1, OPG(1), OPM(XFSM_META_LEN));
	}
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

static void check_totals(const struct pkt *p, bool two_regs, __u64 created)
{
	struct xfsm_stage_stats ss;
	const __u64 total = (__u64)NTHREADS * REPEAT;
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
	struct xfsm_stats st;
	struct xfsm_flow flow;
	__u64 g = 0;

	if (!ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow"))
		return;
	ASSERT_EQ(flow.regs[0], total, "reg0 == packets from both CPUs");
	if (two_regs) {
		ASSERT_EQ(flow.regs[1], total * p->len, "reg1 == bytes from both CPUs");
		if (ASSERT_OK(xfsm_global_get(T.inst, 0, &g), "global 0"))
			ASSERT_EQ(g, total, "global 0 == packets");
		if (ASSERT_OK(xfsm_global_get(T.inst, 1, &g), "global 1"))
			ASSERT_EQ(g, total * p->len, "global 1 == bytes");
	}
	if (ASSERT_OK(xfsm_read_stats(T.inst, &st), "stats")) {
		ASSERT_EQ(st.rx_packets, total, "per-CPU rx_packets summed");
		ASSERT_EQ(st.verdict_pass, total, "per-CPU verdict_pass summed");
		/* A racing creator finds the winner's flow: never "full". */
		ASSERT_EQ(st.exc_flow_table_full, 0, "no flow refused as table full");
	}
	if (ASSERT_OK(xfsm_read_stage_stats(T.inst, 0, &ss), "stage stats")) {
		ASSERT_EQ(ss.flows_created, created, "flows created: one, by one CPU");
		ASSERT_EQ(ss.table_full, 0, "stage: no flow refused");
	}
}

static __u32 live_plan_flags(const struct xfsm_rule_key *k);

static void run_case(bool two_regs, bool preexisting)
{
	struct xfsm_image img;
	struct xt_result r;
	struct pkt p;

	xfsm_image_init(&img);
	if (!ASSERT_OK(app_counters(&img, two_regs), "app") ||
	    !ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	/* Additions only: the whole rule goes without a lock (the offload
	 * profile, which has none, ignores the marks). */
	ASSERT_EQ(live_plan_flags(&img.rules[0].key),
		  XFSM_RF_FLOW_NOLOCK | (two_regs ? XFSM_RF_GLOBAL_NOLOCK : 0), "planned lock-free");
	pkt_of(&p, 1);
	if (preexisting) {
		/* create the flow first, then start from clean counters */
		if (!ASSERT_OK(xt_run_pkt(&T, &p, 1, &r), "first packet"))
			goto out;
		ASSERT_OK(xfsm_reset_stats(T.inst), "reset stats");
		{
			__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1) };
			struct xfsm_flow_key k;
			struct xfsm_flow f;

			if (ASSERT_OK(xt_find_flow(&T, 0, w, &k, &f), "flow")) {
				memset(f.regs, 0, sizeof(f.regs));
				ASSERT_OK(xfsm_flow_set(T.inst, &k, &f), "zero registers");
			}
		}
		xfsm_global_set(T.inst, 0, 0);
		xfsm_global_set(T.inst, 1, 0);
	}
	if (hammer(&p))
		check_totals(&p, two_regs, preexisting ? 0 : 1);
out:
	xfsm_image_free(&img);
}

/* Both CPUs race to create the flow, then keep adding. */
START_TEST(test_two_cpus_new_flow)
{
	NEED_T();
	run_case(true, false);
	XT_END();
}
END_TEST

START_TEST(test_two_cpus_existing_flow)
{
	NEED_T();
	run_case(true, true);
	XT_END();
}
END_TEST

/* A single-register update (may take a cheaper path than the lock). */
START_TEST(test_two_cpus_single_update)
{
	NEED_T();
	run_case(false, true);
	XT_END();
}
END_TEST

/* A rule writing only global registers: their own spin lock, no flow. */
START_TEST(test_two_cpus_globals_only)
{
	const __u64 total = (__u64)NTHREADS * REPEAT;
	struct xfsm_image img;
	struct pkt p;
	struct rb rule;
	__u64 g = 0;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	rb_init(&rule, 1);
	rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 6, OPG(6), OPC(1));
	rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 7, OPG(7), OPM(XFSM_META_LEN));
	rb_act(&rule, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &rule), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_of(&p, 3);
	if (hammer(&p)) {
		if (ASSERT_OK(xfsm_global_get(T.inst, 6, &g), "global 6"))
			ASSERT_EQ(g, total, "global 6 == packets");
		if (ASSERT_OK(xfsm_global_get(T.inst, 7, &g), "global 7"))
			ASSERT_EQ(g, total * p.len, "global 7 == bytes");
		ASSERT_EQ(xt_count_flows(&T, -1), 0, "no flow entry");
	}
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* Both directions of one connection on a symmetric stage, one direction
 * per CPU: one entry, exact totals. */
START_TEST(test_two_cpus_symmetric)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST,
				    XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT };
	static const __u8 rev[] = { XFSM_FW_IP4_DST, XFSM_FW_IP4_SRC,
				    XFSM_FW_L4_DPORT, XFSM_FW_L4_SPORT };
	struct pkt_spec sa = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 1, .dst = 2,
			       .sport = 1000, .dport = 80, .flags = TCPF_ACK };
	struct pkt_spec sb = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 2, .dst = 1,
			       .sport = 80, .dport = 1000, .flags = TCPF_ACK, .payload = 100 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(1), TEST_IP4(2), 1000, 80 };
	struct xfsm_image img;
	struct xfsm_flow flow;
	struct pkt a, b;
	struct rb rule;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	ck_assert_int_eq(app_keys_sym(&img, 0, key, rev, 4), 0);
	rb_init(&rule, 1);
	rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
	rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
	rb_act(&rule, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &rule), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_from_spec(&a, &sa);
	pkt_from_spec(&b, &sb);
	if (hammer2(&a, &b) && ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow")) {
		ASSERT_EQ(flow.regs[0], 2ULL * REPEAT, "reg0 == packets of both directions");
		ASSERT_EQ(flow.regs[1], (__u64)REPEAT * (a.len + b.len), "reg1 == bytes");
		ASSERT_EQ(xt_count_flows(&T, 0), 1, "one entry for both directions");
	}
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* The XFSM_RF_PLANNED flags of a rule as the datapath holds it (in the
 * rule buffer the running slot names for its stage; xfsm_read_app() would
 * clear them). */
static __u32 live_plan_flags(const struct xfsm_rule_key *k)
{
	struct xfsm_rule_key key = *k;
	struct xfsm_rule rule;
	struct xfsm_app app;
	struct xfsm_ctl ctl;

	if (!ASSERT_OK(xfsm_ctl_get(T.inst, &ctl), "control block") ||
	    !ASSERT_OK(bpf_map_lookup_elem(T.inst->map_fd[XFSM_M_APPS], &ctl.active, &app),
		       "running slot") ||
	    !ASSERT_LE(k->stage, XFSM_MAX_STAGES - 1, "stage"))
		return ~0U;
	key.slot = app.stages[k->stage].rule_buf;
	if (!ASSERT_OK(xfsm_map_lookup_locked(T.inst, XFSM_M_RULES, &key, &rule), "read rule"))
		return ~0U;
	return rule.flags & XFSM_RF_PLANNED;
}

/*
 * Every update form that runs without the lock (lib/plan.c: additions to a
 * register nothing else writes or reads) and its neighbours: two CPUs, the
 * same flow, exact totals.  Rule `upd` (UDP, CPU 0) and rule `other` (TCP,
 * CPU 1, when given) share a stage; reg0 must end at `want`.
 */
struct form {
	const char *name;
	__u8	op;
	struct xfsm_operand a, b;	/* reg0 = a OP b */
	__u64	per_packet;		/* expected change of reg0 per packet */
};

static void hammer_forms(const struct form *upd, const struct form *other, bool other_locked,
			 __u32 expect_flags)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u8 words[] = { XFSM_FW_IP_PROTO };
	struct pkt_spec su = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .payload = 10 };
	struct pkt_spec st = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .flags = TCPF_ACK, .payload = 30 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(5) };
	struct xfsm_image img;
	struct xfsm_flow flow;
	struct pkt pu, pt;
	struct rb b;
	__u64 want;

	app_init(&img, 1, XFSM_VERDICT_DROP);
	if (!ASSERT_OK(app_keys(&img, 0, key, 1, key, 1), "keys"))
		goto out;
	app_match_words(&img, 0, words, 1);
	pkt_from_spec(&pu, &su);
	pkt_from_spec(&pt, &st);
	rb_init(&b, 2);
	rb_match(&b, 0, IPPROTO_UDP_, 0xff);
	rb_upd(&b, upd->op, XFSM_OPND_FLOW_REG, 0, upd->a, upd->b);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	if (!ASSERT_OK(rb_add(&img, 0, &b), "rule upd"))
		goto out;
	if (other) {
		rb_init(&b, 1);
		rb_match(&b, 0, IPPROTO_TCP_, 0xff);
		rb_upd(&b, other->op, XFSM_OPND_FLOW_REG, 0, other->a, other->b);
		if (other_locked)	/* a second write takes the lock */
			rb_upd(&b, XFSM_UPD_MAX, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		if (!ASSERT_OK(rb_add(&img, 0, &b), "rule other"))
			goto out;
	}
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	/* What libxfsm planned for rule upd (the offload profile ignores it). */
	ASSERT_EQ(live_plan_flags(&img.rules[0].key), expect_flags, "rule upd lock-free or not");
	if (!hammer2(&pu, other ? &pt : &pu))
		goto out;
	want = (__u64)REPEAT * upd->per_packet * (other ? 1 : 2) +
	       (other ? (__u64)REPEAT * other->per_packet : 0);
	if (ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow"))
		ASSERT_EQ(flow.regs[0], want, "reg0 == every packet's change, both CPUs");
out:
	xfsm_image_free(&img);
}

#define F(n, o, x, y, d)	(&(const struct form){ n, XFSM_UPD_##o, x, y, d })

START_TEST(test_two_cpus_lockfree_forms)
{
	/* Before the count, the frame lengths: UDP 10 + 42 bytes, TCP 30 + 54. */
	const struct form *forms[] = {
		F("reg0 = reg0 + 1", ADD, OPR(0), OPC(1), 1),
		F("reg0 = 3 + reg0", ADD, OPC(3), OPR(0), 3),
		F("reg0 = reg0 + meta.len", ADD, OPR(0), OPM(XFSM_META_LEN), 52),
		F("reg0 = reg0 + ip.ttl", ADD, OPR(0), OPF(XFSM_FW_IP_TTL), 64),
		F("reg0 = reg0 - 1", SUB, OPR(0), OPC(1), (__u64)-1),
	};
	unsigned int i;

	NEED_T();
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]) && !xt_failures; i++) {
		xt_set_context("%s on both CPUs", forms[i]->name);
		ASSERT_OK(xt_reset(&T), "reset");
		hammer_forms(forms[i], NULL, false, XFSM_RF_FLOW_NOLOCK);
	}
	XT_END();
}
END_TEST

/* A lock-free addition on one CPU, a locked transaction adding to the same
 * register on the other: the transaction's addition is atomic too. */
START_TEST(test_two_cpus_lockfree_beside_locked)
{
	NEED_T();
	xt_set_context("reg0 += 1 lock-free, reg0 += 2 in a locked transaction");
	hammer_forms(F("reg0 = reg0 + 1", ADD, OPR(0), OPC(1), 1),
		     F("reg0 = reg0 + 2", ADD, OPR(0), OPC(2), 2), true, XFSM_RF_FLOW_NOLOCK);
	XT_END();
}
END_TEST

/* An addition beside a rule that is not one (reg0 = reg0 * 1 reads and
 * writes reg0): both are single-register chains, so both run as
 * compare-and-swap loops (lib/plan.c), and the multiplication's write
 * never undoes additions made meanwhile. */
START_TEST(test_two_cpus_add_beside_rmw)
{
	NEED_T();
	xt_set_context("reg0 += 1 beside reg0 *= 1");
	hammer_forms(F("reg0 = reg0 + 1", ADD, OPR(0), OPC(1), 1),
		     F("reg0 = reg0 * 1", MUL, OPR(0), OPC(1), 0), false, XFSM_RF_FLOW_CAS);
	XT_END();
}
END_TEST

/* The same beside a locked transaction (reg0 *= 1 with a second write,
 * reg1): a read-modify-write under the lock, so the addition keeps the
 * lock too. */
START_TEST(test_two_cpus_add_beside_locked_rmw)
{
	NEED_T();
	xt_set_context("reg0 += 1 beside reg0 *= 1, reg1 = max(reg1, meta.len)");
	hammer_forms(F("reg0 = reg0 + 1", ADD, OPR(0), OPC(1), 1),
		     F("reg0 = reg0 * 1", MUL, OPR(0), OPC(1), 0), true, 0);
	XT_END();
}
END_TEST

/*
 * Single-register chains (lib/plan.c, XFSM_RF_FLOW_CAS): a compare-and-
 * swap loop, no lock.  Both CPUs run the chain on one flow, N packets
 * each: the register must end at exactly the chain applied 2N times in a
 * row, on the generic and on the specialized datapath.  A lost update, or
 * a chain seen half done by another packet, ends elsewhere (the chains
 * below do not commute with a skipped or repeated step).
 */
struct chain {
	const char *name;
	unsigned int n;
	struct { __u8 op; struct xfsm_operand a, b; } u[XFSM_MAX_UPDATES];
	__u64 (*step)(__u64 v);		/* the whole chain, in C */
};

static __u64 step_cursor(__u64 v)	{ return (v + 1) % 1009; }
static __u64 step_lcg(__u64 v)		{ return (v * 3 + 1) % 1000003; }
static __u64 step_mix(__u64 v)		{ return ((v ^ 0x5555) + 17) % 65521; }


static int apply_dp(const struct xfsm_image *img, __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, o, .flush_flows = true, .datapath = datapath);

	return xfsm_apply(T.inst, img, &o);
}

static void hammer_chain(const struct chain *c, __u32 datapath)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(6) };
	const __u32 repeat = fetch_repeat();
	struct xfsm_image img;
	struct xfsm_flow flow;
	struct xfsm_stats st;
	struct pkt p;
	struct rb b;
	unsigned int i;
	__u64 want = 0, n;

	xt_set_context("%s on both CPUs, %s datapath", c->name,
		       datapath == XFSM_DP_SPECIALIZED ? "specialized" : "generic");
	app_init(&img, 1, XFSM_VERDICT_DROP);
	if (!ASSERT_OK(app_keys(&img, 0, key, 1, key, 1), "keys"))
		goto out;
	rb_init(&b, 1);
	for (i = 0; i < c->n; i++)
		rb_upd(&b, c->u[i].op, XFSM_OPND_FLOW_REG, 0, c->u[i].a, c->u[i].b);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	if (!ASSERT_OK(rb_add(&img, 0, &b), "rule") ||
	    !ASSERT_OK(apply_dp(&img, datapath), "apply"))
		goto out;
	ASSERT_EQ(live_plan_flags(&img.rules[0].key), XFSM_RF_FLOW_CAS, "planned compare-and-swap");
	pkt_of(&p, 6);
	hammer_repeat = repeat;
	if (!hammer(&p))
		goto out;
	for (n = 0; n < (__u64)NTHREADS * repeat; n++)
		want = c->step(want);
	if (ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow")) {
		ASSERT_EQ(flow.regs[0], want, "reg0 == the chain applied 2N times in a row");
		ASSERT_EQ(flow.version, 0, "no transaction: the version stays");
		ASSERT_EQ(flow.flags & XFSM_FF_CAS_SLOW, 0, "no writer left on the slow path");
	}
	if (ASSERT_OK(xfsm_read_stats(T.inst, &st), "stats"))
		ASSERT_EQ(st.exc_cas_exhausted, 0, "no compare-and-swap gave up");
out:
	hammer_repeat = 0;
	xfsm_image_free(&img);
}

START_TEST(test_two_cpus_cas_chains)
{
	static const __u32 dps[] = { XFSM_DP_GENERIC, XFSM_DP_SPECIALIZED };
	const struct chain chains[] = {
		{ "reg0 = reg0 + 1, reg0 = reg0 % 1009", 2,
		  { { XFSM_UPD_ADD, OPR(0), OPC(1) }, { XFSM_UPD_MOD, OPR(0), OPC(1009) } }, step_cursor },
		{ "reg0 = reg0 * 3, reg0 = reg0 + 1, reg0 = reg0 % 1000003", 3,
		  { { XFSM_UPD_MUL, OPR(0), OPC(3) }, { XFSM_UPD_ADD, OPR(0), OPC(1) },
		    { XFSM_UPD_MOD, OPR(0), OPC(1000003) } }, step_lcg },
		{ "reg0 = reg0 ^ 0x5555, reg0 = 17 + reg0, reg0 = reg0 % 65521", 3,
		  { { XFSM_UPD_XOR, OPR(0), OPC(0x5555) }, { XFSM_UPD_ADD, OPC(17), OPR(0) },
		    { XFSM_UPD_MOD, OPR(0), OPC(65521) } }, step_mix },
	};
	unsigned int i, j;

	NEED_T();
	for (j = 0; j < ARRAY_SIZE(dps); j++)
		for (i = 0; i < ARRAY_SIZE(chains) && !xt_failures; i++) {
			ASSERT_OK(xt_reset(&T), "reset");
			hammer_chain(&chains[i], dps[j]);
		}
	XT_END();
}
END_TEST

/*
 * A chain (reg0 = reg0 + 1, reg0 = reg0 | 0: +1, but not an addition to
 * the planner) on one CPU, a locked transaction adding 2 to reg0 and
 * writing reg1 on the other: the chain runs by compare and swap, the
 * transaction's addition is an atomic add (XFSM_UF_ADD), and neither
 * loses the other's updates: reg0 ends at N + 2N.
 */
START_TEST(test_two_cpus_cas_beside_locked)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u8 words[] = { XFSM_FW_IP_PROTO };
	static const __u32 dps[] = { XFSM_DP_GENERIC, XFSM_DP_SPECIALIZED };
	struct pkt_spec su = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .payload = 10 };
	struct pkt_spec st = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .flags = TCPF_ACK, .payload = 30 };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(5) };
	const __u32 repeat = fetch_repeat();
	struct xfsm_image img;
	struct xfsm_flow flow;
	struct pkt pu, pt;
	unsigned int j;
	struct rb b;

	NEED_T();
	pkt_from_spec(&pu, &su);
	pkt_from_spec(&pt, &st);
	for (j = 0; j < ARRAY_SIZE(dps) && !xt_failures; j++) {
		xt_set_context("chain beside a locked addition, %s datapath",
			       dps[j] == XFSM_DP_SPECIALIZED ? "specialized" : "generic");
		ASSERT_OK(xt_reset(&T), "reset");
		app_init(&img, 1, XFSM_VERDICT_DROP);
		if (!ASSERT_OK(app_keys(&img, 0, key, 1, key, 1), "keys"))
			goto next;
		app_match_words(&img, 0, words, 1);
		rb_init(&b, 2);
		rb_match(&b, 0, IPPROTO_UDP_, 0xff);
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
		rb_upd(&b, XFSM_UPD_OR, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(0));
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		if (!ASSERT_OK(rb_add(&img, 0, &b), "rule chain"))
			goto next;
		rb_init(&b, 1);
		rb_match(&b, 0, IPPROTO_TCP_, 0xff);
		rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(2));
		rb_upd(&b, XFSM_UPD_MAX, XFSM_OPND_FLOW_REG, 1, OPR(1), OPM(XFSM_META_LEN));
		rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
		if (!ASSERT_OK(rb_add(&img, 0, &b), "rule locked") ||
		    !ASSERT_OK(apply_dp(&img, dps[j]), "apply"))
			goto next;
		ASSERT_EQ(live_plan_flags(&img.rules[0].key), XFSM_RF_FLOW_CAS, "chain: compare-and-swap");
		ASSERT_EQ(live_plan_flags(&img.rules[1].key), 0, "transaction: locked");
		hammer_repeat = repeat;
		if (hammer2(&pu, &pt) && ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow")) {
			ASSERT_EQ(flow.regs[0], 3ULL * repeat, "reg0: every chain and every addition");
			ASSERT_EQ(flow.version, repeat, "version: the locked transactions");
		}
next:
		hammer_repeat = 0;
		xfsm_image_free(&img);
	}
	XT_END();
}
END_TEST

/* One global register added to from both CPUs by a rule with no other
 * write: no lock, no lost update. */
START_TEST(test_two_cpus_global_add)
{
	const __u64 total = (__u64)NTHREADS * REPEAT;
	struct xfsm_image img;
	struct pkt p;
	struct rb rule;
	__u64 g = 0;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	rb_init(&rule, 1);
	rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 2, OPG(2), OPM(XFSM_META_LEN));
	rb_act(&rule, XFSM_ACT_PASS, 0, OPNONE);
	ck_assert_int_eq(rb_add(&img, 0, &rule), 0);
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	ASSERT_EQ(live_plan_flags(&img.rules[0].key), XFSM_RF_GLOBAL_NOLOCK, "planned lock-free");
	pkt_of(&p, 4);
	if (hammer(&p) && ASSERT_OK(xfsm_global_get(T.inst, 2, &g), "global 2"))
		ASSERT_EQ(g, total * p.len, "global 2 == bytes from both CPUs");
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/*
 * A transition that only refreshes its flow on one CPU (UDP port 1: into
 * state 1, idle 50 s, the flow's own state and timer), a locked
 * transaction into the same state and timer on the other (UDP port 2:
 * reg0 += 1): the refreshes write nothing, so the flow ends with exactly
 * the locked transactions in its register and its version.
 */
START_TEST(test_two_cpus_refresh_beside_locked)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC }, words[] = { XFSM_FW_L4_DPORT };
	__u32 w[XFSM_KEY_WORDS] = { TEST_IP4(5) };
	struct pkt_spec s1 = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 9,
			       .sport = 7, .dport = 1 };
	struct pkt_spec s2 = s1;
	struct xfsm_image img;
	struct xfsm_flow flow;
	struct xt_result res;
	struct pkt a, b;
	struct rb rule;
	int i;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	ck_assert_int_eq(app_keys(&img, 0, key, 1, key, 1), 0);
	app_match_words(&img, 0, words, 1);
	for (i = 1; i <= 2; i++) {
		rb_init(&rule, 1);
		rb_match(&rule, 0, i, 0xffff);
		if (i == 2)
			rb_upd(&rule, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 0, OPR(0), OPC(1));
		rb_next(&rule, 1);
		rb_idle(&rule, 50000, 0);
		rb_act(&rule, XFSM_ACT_PASS, 0, OPNONE);
		ck_assert_int_eq(rb_add(&img, 0, &rule), 0);
	}
	if (!ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	s2.dport = 2;
	pkt_from_spec(&a, &s1);
	pkt_from_spec(&b, &s2);
	/* the flow in state 1 first: every later port-1 packet refreshes */
	if (!ASSERT_OK(xt_run_pkt(&T, &b, 0, &res), "first packet"))
		goto out;
	if (hammer2(&a, &b) && ASSERT_OK(xt_find_flow(&T, 0, w, NULL, &flow), "flow")) {
		ASSERT_EQ(flow.state, 1, "state");
		ASSERT_EQ(flow.idle_timeout_ms, 50000, "idle timeout");
		ASSERT_EQ(flow.regs[0], 1 + (__u64)REPEAT, "reg0 == the locked transactions");
		ASSERT_EQ(flow.version, 1 + REPEAT, "version: the locked transactions only");
	}
out:
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/*
 * fetch_add: every packet of two flows, one on each CPU, takes the value
 * of global 0 and adds 1 to it (reg0 = fetch_add(global0, 1)), then sums
 * the values it took (reg1 += reg0) and counts itself (reg2 += 1).  If no
 * two packets ever took the same value, the values taken are exactly
 * 0..N-1 for N packets in all: global 0 ends at N and the two flows' sums
 * add up to N(N-1)/2.  A fetch and add that another CPU can come between
 * hands two packets one value and loses an increment: both fail.
 */
static int app_fetch_add(struct xfsm_image *img)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	struct rb b;
	int err;

	app_init(img, 1, XFSM_VERDICT_DROP);
	err = app_keys(img, 0, key, 1, key, 1);
	rb_init(&b, 1);
	rb_upd(&b, XFSM_UPD_FETCH_ADD, XFSM_OPND_FLOW_REG, 0, OPG(0), OPC(1));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 1, OPR(1), OPR(0));
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_FLOW_REG, 2, OPR(2), OPC(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	return err ?: rb_add(img, 0, &b);
}

START_TEST(test_two_cpus_fetch_add)
{
	const __u32 repeat = fetch_repeat();
	const __u64 total = (__u64)NTHREADS * repeat;
	__u32 wa[XFSM_KEY_WORDS] = { TEST_IP4(1) }, wb[XFSM_KEY_WORDS] = { TEST_IP4(2) };
	struct xfsm_flow fa, fb;
	struct xfsm_image img;
	struct pkt a, b;
	__u64 g = 0;

	xfsm_image_init(&img);
	if (!ASSERT_OK(app_fetch_add(&img), "build") || !ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_of(&a, 1);
	pkt_of(&b, 2);
	hammer_repeat = repeat;
	if (!hammer2(&a, &b))
		goto out;
	if (ASSERT_OK(xfsm_global_get(T.inst, 0, &g), "global 0"))
		ASSERT_EQ(g, total, "global 0 == the number of fetches");
	if (ASSERT_OK(xt_find_flow(&T, 0, wa, NULL, &fa), "flow of CPU 0") &&
	    ASSERT_OK(xt_find_flow(&T, 0, wb, NULL, &fb), "flow of CPU 1")) {
		ASSERT_EQ(fa.regs[2], repeat, "CPU 0's flow: every packet fetched");
		ASSERT_EQ(fb.regs[2], repeat, "CPU 1's flow: every packet fetched");
		ASSERT_EQ(fa.regs[1] + fb.regs[1], total * (total - 1) / 2,
			  "the values taken are 0..N-1, each once");
		ASSERT_LE(fa.regs[0], total - 1, "CPU 0's last value");
		ASSERT_LE(fb.regs[0], total - 1, "CPU 1's last value");
		ASSERT_NEQ(fa.regs[0], fb.regs[0], "the last values differ");
	}
out:
	hammer_repeat = 0;
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/*
 * fetch_add on one CPU, a locked transaction adding to the same global on
 * the other (global0 += 1 beside global1 = meta.len, which takes the
 * globals' lock): the fetch-add takes no lock, so libxfsm makes the
 * locked addition atomic too (lib/plan.c), and neither undoes the other.
 */
START_TEST(test_two_cpus_fetch_add_beside_locked)
{
	static const __u8 key[] = { XFSM_FW_IP4_SRC };
	static const __u8 words[] = { XFSM_FW_IP_PROTO };
	struct pkt_spec su = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .payload = 10 };
	struct pkt_spec st = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 5, .dst = 9, .sport = 1,
			       .dport = 2, .flags = TCPF_ACK, .payload = 30 };
	struct xfsm_image img;
	struct pkt pu, pt;
	struct rb b;
	__u64 g = 0;

	NEED_T();
	app_init(&img, 1, XFSM_VERDICT_DROP);
	if (!ASSERT_OK(app_keys(&img, 0, key, 1, key, 1), "keys"))
		goto out;
	app_match_words(&img, 0, words, 1);
	rb_init(&b, 2);
	rb_match(&b, 0, IPPROTO_UDP_, 0xff);
	rb_upd(&b, XFSM_UPD_FETCH_ADD, XFSM_OPND_FLOW_REG, 0, OPG(0), OPC(1));
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	if (!ASSERT_OK(rb_add(&img, 0, &b), "rule fetch"))
		goto out;
	rb_init(&b, 1);
	rb_match(&b, 0, IPPROTO_TCP_, 0xff);
	rb_upd(&b, XFSM_UPD_ADD, XFSM_OPND_GLOBAL_REG, 0, OPG(0), OPC(1));
	rb_upd(&b, XFSM_UPD_SET, XFSM_OPND_GLOBAL_REG, 1, OPM(XFSM_META_LEN), OPNONE);
	rb_act(&b, XFSM_ACT_PASS, 0, OPNONE);
	if (!ASSERT_OK(rb_add(&img, 0, &b), "rule locked add") ||
	    !ASSERT_OK(xt_apply(&T, &img), "apply"))
		goto out;
	pkt_from_spec(&pu, &su);
	pkt_from_spec(&pt, &st);
	hammer_repeat = fetch_repeat();
	if (hammer2(&pu, &pt) && ASSERT_OK(xfsm_global_get(T.inst, 0, &g), "global 0"))
		ASSERT_EQ(g, (__u64)NTHREADS * hammer_repeat, "global 0: every fetch and every add");
out:
	hammer_repeat = 0;
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = xt_tcase(s, "concurrency", suite_open_native);

	tcase_add_test(tc, test_two_cpus_new_flow);
	tcase_add_test(tc, test_two_cpus_existing_flow);
	tcase_add_test(tc, test_two_cpus_single_update);
	tcase_add_test(tc, test_two_cpus_symmetric);
	tcase_add_test(tc, test_two_cpus_globals_only);
	tcase_add_test(tc, test_two_cpus_lockfree_forms);
	tcase_add_test(tc, test_two_cpus_lockfree_beside_locked);
	tcase_add_test(tc, test_two_cpus_add_beside_rmw);
	tcase_add_test(tc, test_two_cpus_global_add);
	tcase_add_test(tc, test_two_cpus_refresh_beside_locked);
	/* native only: the offload profile has no fetching atomics */
	tcase_add_test(tc, test_two_cpus_fetch_add);
	tcase_add_test(tc, test_two_cpus_fetch_add_beside_locked);
	/* native only: the offload profile's chains are not atomic across CPUs */
	tcase_add_test(tc, test_two_cpus_cas_chains);
	tcase_add_test(tc, test_two_cpus_cas_beside_locked);
	tcase_add_test(tc, test_two_cpus_add_beside_locked_rmw);

	/* The offload profile has no locks, but its register adds are atomic
	 * adds of the difference to the value read first: still exact. */
	tc = xt_tcase(s, "concurrency-offload", suite_open_offload);
	tcase_add_test(tc, test_two_cpus_new_flow);
	tcase_add_test(tc, test_two_cpus_existing_flow);
	tcase_add_test(tc, test_two_cpus_single_update);
	tcase_add_test(tc, test_two_cpus_symmetric);
	tcase_add_test(tc, test_two_cpus_globals_only);
	tcase_add_test(tc, test_two_cpus_lockfree_forms);
	tcase_add_test(tc, test_two_cpus_lockfree_beside_locked);
	tcase_add_test(tc, test_two_cpus_add_beside_rmw);
	tcase_add_test(tc, test_two_cpus_global_add);
	tcase_add_test(tc, test_two_cpus_refresh_beside_locked);
	return xt_suite_run(s);
}
