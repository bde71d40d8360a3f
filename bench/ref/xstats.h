/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Benchmark only: a reference that also keeps the statistics xfsm keeps,
 * to tell on the veth what xfsm's statistics cost from what the rest of
 * xfsm costs (bench/run-bench.sh, the "keep_stats=1" rows).  Loaded with
 * keep_stats = 1, the program counts each packet as the program xfsm
 * generates for a one-stage application whose one rule takes every packet
 * and drops it: the datapath's received and verdict counters, the ingress
 * port's, the stage's and the rule's, per CPU, in maps whose values are
 * xfsm's own (include/xfsm/abi.h), so as many cache lines are written.
 * The port is a constant here (xfsm compares the ingress interface with
 * its port table first).  With keep_stats = 2 the same counters sit in
 * another layout, one xfsm does not have: the datapath-wide, port and
 * stage counters in one per-CPU value (struct ref_xstats_block, one
 * lookup), the rules' in their own map; what that saves against
 * keep_stats = 1 is what such a layout would save xfsm.  With keep_stats
 * = 0, the default, the verifier drops all of it: the reference is the
 * plain one.
 */
#ifndef XFSM_BENCH_REF_XSTATS_H
#define XFSM_BENCH_REF_XSTATS_H

#include <xfsm/abi.h>

/* Statistics indexes like those xfsm gives a port, a stage and a rule
 * (the entries are what matters, not which).  selftests/test_ref.c
 * reads them. */
#define REF_XSTATS_PORT		1
#define REF_XSTATS_STAGE	1
#define REF_XSTATS_RULE		8

/* keep_stats = 2: the counters other than the rules' in one value (the
 * ports before the stages: a stage's entry lies some 8.7 KB from the
 * datapath-wide counters, another page; notes/statistics-cost puts the
 * stages first). */
struct ref_xstats_block {
	struct xfsm_stats		stats;
	struct xfsm_port_stats		ports[XFSM_MAX_PORTS];
	struct xfsm_stage_stats		stages[XFSM_STAGE_STATS_SLOTS];
};

#ifdef __bpf__
const volatile __u32 keep_stats;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_stats);
} xs_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFSM_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xfsm_port_stats);
} xs_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFSM_STAGE_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_stage_stats);
} xs_stages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ref_xstats_block);
} xs_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct xfsm_rule_stats);
} xs_rules SEC(".maps");

/* A packet's arrival: xfsm's received counters, the port's, the stage's
 * (its rule matched), the rule's.  Returns the datapath's counters for
 * ref_xstats_drop(), NULL with keep_stats 0. */
static __always_inline struct xfsm_stats *ref_xstats_rx(struct xdp_md *ctx)
{
	__u64 len = (long)ctx->data_end - (long)ctx->data;
	struct xfsm_stage_stats *ss;
	struct xfsm_rule_stats *rs;
	struct xfsm_port_stats *ps;
	struct xfsm_stats *s;
	__u32 k = 0;

	if (!keep_stats)
		return NULL;
	if (keep_stats == 2) {
		struct ref_xstats_block *b = bpf_map_lookup_elem(&xs_block, &k);

		if (!b)
			return NULL;
		/* not before the test: 6.1's verifier refuses arithmetic on
		 * a pointer that may be NULL */
		asm volatile("" : "+r"(b));
		s = &b->stats;
		ps = &b->ports[REF_XSTATS_PORT];
		ss = &b->stages[REF_XSTATS_STAGE];
	} else {
		s = bpf_map_lookup_elem(&xs_stats, &k);
		if (!s)
			return NULL;
		k = REF_XSTATS_PORT;
		ps = bpf_map_lookup_elem(&xs_ports, &k);
		k = REF_XSTATS_STAGE;
		ss = bpf_map_lookup_elem(&xs_stages, &k);
	}
	s->rx_packets += 1;
	s->rx_bytes += len;
	if (ps) {
		ps->rx_packets += 1;
		ps->rx_bytes += len;
	}
	if (ss) {
		ss->packets += 1;
		ss->bytes += len;
		ss->hits += 1;
	}
	k = REF_XSTATS_RULE;
	rs = bpf_map_lookup_elem(&xs_rules, &k);
	if (rs) {
		rs->packets += 1;
		rs->bytes += len;
	}
	return s;
}

/* The rule's drop action and the verdict, counted in `s` (none: NULL). */
static __always_inline int ref_xstats_drop(struct xfsm_stats *s)
{
	if (s) {
		s->act_drop += 1;
		s->verdict_drop += 1;
	}
	return XDP_DROP;
}
#endif /* __bpf__ */

#endif /* XFSM_BENCH_REF_XSTATS_H */
