// SPDX-License-Identifier: GPL-2.0
/*
 * xfsm datapath: parse, then run the application's stateful stages.
 * Semantics: docs/datapath.md.  Layouts: include/xfsm/abi.h.
 */
#include "common.h"
#include "maps.h"
#include "parse.h"
#include "flow.h"
#include "eval.h"
#include "update.h"
#include "actions.h"
#include "acl.h"
#include "observe.h"

#ifdef XFSM_OFFLOAD
#define XFSM_IS_OFFLOAD	1
#else
#define XFSM_IS_OFFLOAD	0
#endif

const volatile struct xfsm_build_info xfsm_build_info = {
	.abi_version	= XFSM_ABI_VERSION,
	.offload	= XFSM_IS_OFFLOAD,
	.max_stages	= XFSM_RUN_STAGES,
	.max_tuples	= XFSM_RUN_TUPLES,
	.compact_flows	= !XFSM_FLOW_FULL,
};

static __always_inline int verdict_to_xdp(__u32 v)
{
	switch (v) {
	case XFSM_VERDICT_DROP:
		return XDP_DROP;
	case XFSM_VERDICT_TX:
		return XDP_TX;
	default:
		return XDP_PASS;
	}
}

static __always_inline void count_exc(struct xfsm_stats *s, int off)
{
	__u64 *ctr;

	if (off < (int)offsetof(struct xfsm_stats, exc_trunc_eth) ||
	    off > (int)(sizeof(*s) - sizeof(__u64)))
		return;
	ctr = (void *)s + (off & ~7);	/* aligned, also for the verifier */
	CNT_ADD(ctr, 1);
}

static __always_inline int finish(struct xfsm_stats *s, int act)
{
	switch (act) {
	case XDP_DROP:
		CNT_ADD(&s->verdict_drop, 1);
		break;
	case XDP_TX:
		CNT_ADD(&s->verdict_tx, 1);
		break;
	case XDP_REDIRECT:
		CNT_ADD(&s->verdict_redirect, 1);
		break;
	default:
		act = XDP_PASS;
		CNT_ADD(&s->verdict_pass, 1);
		break;
	}
	return act;
}

/*
 * The stage is split into global functions, each verified once on its own
 * (which keeps verification time and the stack small): conditions, the
 * update transaction and the actions.  Global functions take only
 * pointers and scalars and return a scalar.
 */
/* xfsm_conds()'s answer for a stage that is not a stateful stage (bit 31
 * is never a condition: XFSM_MAX_CONDS <= 16). */
#define XFSM_CONDS_NO_ACL	0x80000000U

__noinline __u32 xfsm_conds(const struct xfsm_stage *st, const struct xfsm_pkt *p,
			    const flow_value *f)
{
	__u32 zero = 0;
	const struct xfsm_globals *g = bpf_map_lookup_elem(&xfsm_globals, &zero);

	if (!st || !p)
		return 0;
	/* The offload profile has no ACL module: an ACL stage reports a
	 * miss there, and its miss verdict is replaced by drop below, as an
	 * ACL that cannot run must not let packets through. */
	if (st->kind != XFSM_STAGE_XFSM)
		return XFSM_CONDS_NO_ACL;
	return conds_eval(st, p, f, p->state, g);
}

/* The state a packet sees in flow `f` (under w->fk), timeouts applied;
 * expiries count in the stage statistics entry `stats_id`. */
__noinline __u32 xfsm_expire(struct xfsm_work *w, flow_value *f, __u32 stats_id)
{
	struct xfsm_stage_stats *ss;
	struct xfsm_stats *s;
	__u32 zero = 0;

	if (!w || !f)
		return 0;
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	if (!s)
		return f->state;
	ss = stage_stats(s, stats_id);
	if (!ss)
		return f->state;
	return flow_expire(w, f, ss);
}

/* Register updates and the transition of a matched rule: to `uf`, the
 * flow the rule writes (found or created by flow_for_update(), its key in
 * w->fk; NULL when the rule writes no flow or the table is full), and to
 * the global registers.  A global function: `uf` may point into either
 * flow table, and is one kind of pointer in here (bpf/flow.h). */
__noinline int xfsm_commit(struct xfsm_work *w, flow_value *uf,
			   const struct xfsm_rule *r)
{
	struct xfsm_globals *g;
	struct xfsm_stats *s;
	__u32 zero = 0, div_zero = 0;

	if (!w || !r)
		return 0;
#ifndef XFSM_OFFLOAD
	if (rule_adds_only(r)) {
		rule_add(uf, r, &w->pkt);
		return 0;
	}
#endif
	XFSM_WORK_REFRESH(w);
	if (!w)
		return 0;
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	g = bpf_map_lookup_elem(&xfsm_globals, &zero);
	if (!s || !g)
		return 0;
	if (uf && (r->flags & XFSM_RF_WRITES_FLOW) && flow_commit(w, uf, r, g, &div_zero))
		CNT_ADD(&s->exc_cas_exhausted, 1);
	if (r->flags & XFSM_RF_WRITES_GLOBAL)
		globals_commit(g, r, &w->pkt, uf, &div_zero);
	if (div_zero)
		CNT_ADD(&s->exc_div_zero, div_zero);
	return 0;
}

__noinline int xfsm_actions(struct xdp_md *ctx, struct xfsm_work *w,
			    const struct xfsm_rule *r, const flow_value *f, __u32 stage)
{
	struct xfsm_globals *g;
	struct xfsm_stats *s;
	__u32 zero = 0;

	if (!w || !r)
		return XDP_PASS;
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	g = bpf_map_lookup_elem(&xfsm_globals, &zero);
	if (!s)
		return XDP_PASS;
	return actions_run(ctx, &w->pkt, r, f, f ? f->state : w->pkt.state, g, stage, s);
}

/*
 * One stage: look up the flow, enforce its timeouts, evaluate conditions,
 * find the rule, commit it and run its actions.  Returns an XDP action, or
 * XFSM_RES_NEXT | the stage to run next.  The native profile verifies it
 * once as a global function; the offload profile, whose working set sits
 * on the entry function's stack, inlines it to save a stack frame.
 */
#ifdef XFSM_OFFLOAD
#define XFSM_STAGE_FN	static __always_inline
#else
#define XFSM_STAGE_FN	__noinline
#endif

/*
 * In the offload profile the parser is a global function too: the verifier
 * then sees the field vector as opaque memory after it, instead of carrying
 * every parse path's constants into the inlined stages.
 */
#ifdef XFSM_OFFLOAD
__noinline int xfsm_parse_offload(struct xdp_md *ctx, struct xfsm_pkt *p)
{
	if (!p)
		return EXC(trunc_eth);
	return xfsm_parse(ctx, p);
}
#define XFSM_PARSE(ctx, p)	xfsm_parse_offload(ctx, p)
#else
#define XFSM_PARSE(ctx, p)	xfsm_parse(ctx, p)
#endif

/* A traced packet's hooks (bpf/observe.h); the offload profile has none. */
#ifdef XFSM_OFFLOAD
#define OBS_LOOKUP(w, f, flags)	do { } while (0)
#define OBS_MATCH(w, r, conds)	do { } while (0)
#else
#define OBS_LOOKUP(w, f, flags)	xfsm_obs_lookup(w, f, flags)
#define OBS_MATCH(w, r, conds)	xfsm_obs_match(w, r, conds)
#endif

/* Where stage `stage` looks its lookup-scope flow up: nowhere
 * (XFSM_SF_NO_LOOKUP), or in the table of class `where` (XFSM_SF_TABLE
 * bits, flow_lookup()) under w->fk. */
#define XFSM_LOOKUP_NONE	1
_Static_assert(!(XFSM_LOOKUP_NONE & XFSM_SF_TABLE), "no lookup is no table's class");

/* The stage's lookup key into w->fk, and where to look it up.  The
 * native profile builds it inline in the entry's stage loop: verified once per turn (about 25k instructions more on
 * 6.18), it saves the call of a global function per stage. */
static __always_inline __u32 stage_key(struct xfsm_work *w, const struct xfsm_stage *st,
				       __u32 stage)
{
	if (st->flags & XFSM_SF_NO_LOOKUP)
		return XFSM_LOOKUP_NONE;	/* nothing reads it (a rule that writes it looks it up) */
	flow_key_build(&w->fk, &w->pkt, st->lookup_words, st->lookup_rev,
		       st->flags & XFSM_SF_SYMMETRIC, stage, st->epoch);
	return st->flags & XFSM_SF_TABLE;
}

static __always_inline flow_value *stage_lookup(struct xfsm_work *w, __u32 where)
{
	if (where == XFSM_LOOKUP_NONE)
		return NULL;
	return flow_lookup(&w->fk, where);
}

/* The lookup-scope flow `f` that stage_lookup() found, its timeouts
 * enforced; p->state is the state the packet sees. */
static __always_inline flow_value *stage_flow(struct xfsm_work *w,
					      const struct xfsm_stage *st,
					      flow_value *f)
{
	struct xfsm_pkt *p = &w->pkt;

	p->state = 0;
	if (p->traced)
		OBS_LOOKUP(w, f, (st->flags & XFSM_SF_NO_LOOKUP ? 0 : XFSM_TSF_LOOKUP) |
			   XFSM_TSF_OF_TABLE(st->flags) |
			   (f && (flow_hard_deadline(f) || f->idle_timeout_ms) &&
			    !flow_still_live(p, f) ? XFSM_TSF_EXPIRED : 0));
	/* Only a rollback takes a call. */
	if (!f)
		p->state = 0;
	else if ((!flow_hard_deadline(f) && !f->idle_timeout_ms) || flow_still_live(p, f))
		p->state = f->state;
	else
		p->state = xfsm_expire(w, f, st->stats_id);
	return f;
}

/* The rule the packet matches: per-state lists for a small stage, else
 * the tuple search. */
static __always_inline const struct xfsm_rule *stage_match(const struct xfsm_app *app,
							   const struct xfsm_stage *st,
							   struct xfsm_work *w, __u32 stage,
							   __u32 conds)
{
#ifndef XFSM_OFFLOAD
	const struct xfsm_scan *sc = &app->scan[stage_idx(stage)];

	if (sc->enabled && w->pkt.state < XFSM_SCAN_STATES)
		return rule_scan(sc, st, w, w->pkt.state, conds);
#endif
	return rule_lookup(st, w, stage, conds);
}

/* A matched rule's writes; returns the lookup-scope flow as the actions
 * see it (a one-key stage's rule may have just created it).  *full is set
 * when the flow the rule writes could not be stored and the stage's
 * table-full action says not to run the rule: nothing is written then. */
static __always_inline flow_value *stage_write(struct xfsm_work *w,
					       const struct xfsm_stage *st, __u32 stage,
					       struct xfsm_stage_stats *ss,
					       const struct xfsm_rule *r, flow_value *f,
					       bool *full)
{
	flow_value *uf = NULL, *wf;

	if (r->flags & XFSM_RF_WRITES_FLOW) {
#ifndef XFSM_OFFLOAD
		/* A one-key stage writes the flow it found (its key is still
		 * in w->fk). */
		if (f && (st->flags & XFSM_SF_SAME_KEYS))
			uf = f;
		else
#endif
			/* (offload: the rule key has overwritten w->fk) */
			uf = flow_for_update(w, st, stage, ss);
		if (!uf && st->full_action != XFSM_FULL_CONTINUE) {
			*full = true;
			return f;
		}
	}
	/* The flow to write: none when the transition would change nothing
	 * but the idle timer (the lookup restarts it for a one-key stage). */
	wf = uf;
	if (flow_refresh_only(uf, r)) {
		if (uf->idle_timeout_ms && !(st->flags & XFSM_SF_SAME_KEYS))
			MAP_SET(uf->last_seen_ns, pkt_now(&w->pkt));
		wf = NULL;
	}
	if (wf || (r->flags & XFSM_RF_WRITES_GLOBAL))
		xfsm_commit(w, wf, r);
	if ((r->flags & XFSM_RF_WRITES_FLOW) && (st->flags & XFSM_SF_SAME_KEYS))
		return uf;
	return f;
}

/*
 * The native profile looks the stage's flow up in its caller and passes
 * it in: inside a global function a pointer argument is memory of the
 * struct's size, whichever of the two flow tables it came from, so the
 * stage is verified once, not once per table.  The offload profile, with
 * one table, looks it up here.
 */
XFSM_STAGE_FN int xfsm_stage_run(struct xdp_md *ctx, struct xfsm_work *w,
			      const struct xfsm_app *app, __u32 stage, flow_value *f)
{
	const struct xfsm_stage *st;
	struct xfsm_stage_stats *ss;
	struct xfsm_rule_stats *rs;
	const struct xfsm_rule *r;
	struct xfsm_stats *s;
	struct xfsm_pkt *p;
	__u32 conds, len;

	if (!w || !app || stage >= XFSM_MAX_STAGES)
		return XDP_PASS;
#ifdef XFSM_BENCH_STOP
	asm volatile("" : : "r"(ctx));	/* a variant that stops early still takes it */
#endif
	XFSM_WORK_REFRESH(w);
	if (!w)
		return XDP_PASS;
	p = &w->pkt;
	st = &app->stages[stage_idx(stage)];
	/* Statistics belong to the named stage, not to its position. */
	p->key = 0;
	s = bpf_map_lookup_elem(&xfsm_stats, &p->key);
	if (!s)
		return XDP_PASS;
	ss = stage_stats(s, st->stats_id);
	if (!ss)
		return XDP_PASS;
	len = p->fv[XFSM_FW_META_LEN];
	CNT_ADD(&ss->packets, 1);
	CNT_ADD(&ss->bytes, len);

#ifdef XFSM_OFFLOAD
	f = stage_lookup(w, stage_key(w, st, stage));
#endif
	f = stage_flow(w, st, f);
	XFSM_PHASE_END(XFSM_PHASE_FLOW);

	conds = st->n_conds || st->kind != XFSM_STAGE_XFSM ? xfsm_conds(st, p, f) : 0;
	r = stage_match(app, st, w, stage, conds);
	if (p->traced)
		OBS_MATCH(w, r, conds);
	if (!r) {
		CNT_ADD(&ss->misses, 1);
		if (conds == XFSM_CONDS_NO_ACL)
			return XDP_DROP;
		if (st->miss_verdict == XFSM_VERDICT_CONTINUE)
			return XFSM_RES_NEXT | (stage + 1);
		return verdict_to_xdp(st->miss_verdict);
	}
	CNT_ADD(&ss->hits, 1);
	p->key = r->rule_id;
	rs = bpf_map_lookup_elem(&xfsm_rule_stats, &p->key);
	if (rs) {
		CNT_ADD(&rs->packets, 1);
		CNT_ADD(&rs->bytes, len);
	}
	XFSM_PHASE_END(XFSM_PHASE_MATCH);

	if (r->flags & (XFSM_RF_WRITES_FLOW | XFSM_RF_WRITES_GLOBAL)) {
		bool full = false;

		f = stage_write(w, st, stage, ss, r, f, &full);
		if (full)
			return st->full_action == XFSM_FULL_DROP ? XDP_DROP : XDP_PASS;
	}
	XFSM_PHASE_END(XFSM_PHASE_UPDATE);
#ifndef XFSM_OFFLOAD
	/* The common endings run here, without a call: a verdict, or a mark
	 * for a later stage followed by a verdict or by nothing (the next
	 * stage), as xfsm_actions() would run them. */
	if (action_is_verdict(r->act[0].type) ||
	    (r->act[0].type == XFSM_ACT_SET_MARK &&
	     (action_is_verdict(r->act[1].type) || actions_none_from(r, 1)))) {
		const struct xfsm_action *a = &r->act[0];
		struct xfsm_globals *g;

		p->key = 0;
		if (a->type == XFSM_ACT_SET_MARK) {
			g = bpf_map_lookup_elem(&xfsm_globals, &p->key);
			p->fv[XFSM_FW_META_MARK] = opnd_read(&a->opnd, p, f,
							     f ? f->state : p->state, g);
			CNT_ADD(&s->act_set_mark, 1);
			a = &r->act[1];
			if (a->type == XFSM_ACT_NONE)
				return XFSM_RES_NEXT | (stage + 1);
		}
		return action_verdict(a->type, s);
	}
#endif
	return xfsm_actions(ctx, w, r, f, stage);
}

/* The packet's XDP action, after an observed packet's record is out. */
static __always_inline int observe_end(struct xdp_md *ctx, struct xfsm_work *w, int act,
				       __u32 observed)
{
#ifndef XFSM_OFFLOAD
	if (observed)
		xfsm_obs_end(ctx, w, act, observed);
#endif
	return act;
}

#ifndef XFSM_OFFLOAD
/* The port number of the packet's ingress interface (0: not a port), from
 * this CPU's cache while the port table has not changed: a hash lookup is
 * a good part of a packet's cost. */
static __always_inline __u32 ingress_port(struct xfsm_work *w)
{
	struct xfsm_port *pv;
	__u32 zero = 0;
	__u64 *genp = bpf_map_lookup_elem(&xfsm_port_gen, &zero);
	__u64 gen = genp ? *genp : 0;

	if (w->port.valid && w->port.ifindex == w->pkt.ifindex && w->port.gen == gen)
		return w->port.port;
	w->pkt.key = w->pkt.ifindex;
	pv = bpf_map_lookup_elem(&xfsm_ports, &w->pkt.key);
	w->port.gen = gen;
	w->port.ifindex = w->pkt.ifindex;
	w->port.port = pv && pv->port < XFSM_MAX_PORTS ? pv->port : 0;
	w->port.valid = 1;
	return w->port.port;
}
#endif

SEC("xdp")
int xfsm_xdp(struct xdp_md *ctx)
{
	const struct xfsm_app *app;
	struct xfsm_work *w;
	struct xfsm_stats *s;
	struct xfsm_ctl *c;
	__u32 zero = 0, slot, stage = 0, observed = 0;
	int exc, ret, i;
#if defined(XFSM_BENCH_TAIL_FIRST) && !defined(XFSM_OFFLOAD)
	/* Benchmark only (build/bench/xfsm-tailfirst.bpf.o): the tail call
	 * before anything else, to measure what the prelude below costs a
	 * specialized application.  No bail word, no observer: not a
	 * datapath to run. */
	bpf_tail_call_static(ctx, &xfsm_progs, 0);
	bpf_tail_call_static(ctx, &xfsm_progs, 1);
#endif
#ifdef XFSM_OFFLOAD
	struct xfsm_work wbuf;

	w = &wbuf;
#else
	if (xfsm_build_info.abi_version != XFSM_ABI_VERSION)
		return XDP_PASS;
	w = bpf_map_lookup_elem(&xfsm_work, &zero);
	if (!w)
		return XDP_PASS;
#endif
	c = bpf_map_lookup_elem(&xfsm_ctl, &zero);
	if (!c)
		return XDP_PASS;
#ifndef XFSM_OFFLOAD
	/* The slot's specialized program, if it has one, runs the packet,
	 * unless an observer listens (trace, capture and flow events are
	 * the generic program's) or the specialized program has just handed
	 * it back (the bail word; the memset below clears it).  A constant
	 * index per call lets the JIT make each a direct jump. */
	if (!w->pkt.fv[XFSM_FW_NWORDS_USED] && !c->observe) {
		if (c->active & 1)
			bpf_tail_call_static(ctx, &xfsm_progs, 1);
		else
			bpf_tail_call_static(ctx, &xfsm_progs, 0);
	}
#endif
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	if (!s)
		return XDP_PASS;

	__builtin_memset(&w->pkt, 0, sizeof(w->pkt));
	exc = XFSM_PARSE(ctx, &w->pkt);
	CNT_ADD(&s->rx_packets, 1);
	CNT_ADD(&s->rx_bytes, w->pkt.fv[XFSM_FW_META_LEN]);
	if (exc) {
		count_exc(s, exc);
		CNT_ADD(&s->malformed, 1);
		return finish(s, verdict_to_xdp(c->malformed_verdict));
	}
	XFSM_PHASE_END(XFSM_PHASE_PARSE);

	slot = c->active & 1;
	app = bpf_map_lookup_elem(&xfsm_apps, &slot);
	if (!app || !app->n_stages) {
		/* Referencing the user-space maps binds them to the program,
		 * so that tools can find every map from an attached
		 * program's id.  The binding is made at load time, so the
		 * references sit where no packet goes (a slot of 0 or 1 is
		 * always found): xfsm_ids is a hash map, and its lookup
		 * would cost an empty application 20 ns per packet. */
		if (!app) {
			struct xfsm_ids_key ik = { .slot = slot };

			bpf_map_lookup_elem(&xfsm_appsrc, &slot);
			bpf_map_lookup_elem(&xfsm_ids, &ik);
			bpf_map_lookup_elem(&xfsm_stg_base, &slot);
#ifndef XFSM_OFFLOAD
			bpf_map_lookup_elem(&xfsm_acl_ctl, &slot);
#endif
		}
		CNT_ADD(&s->exc_no_app, 1);
		return finish(s, app ? verdict_to_xdp(app->default_verdict) : XDP_PASS);
	}
	w->pkt.slot = slot;
	w->pkt.ifindex = ctx->ingress_ifindex;
#ifdef XFSM_OFFLOAD
	w->pkt.now = c->clock_ns;
#else
	if (app->flags & XFSM_AF_NEEDS_TIME)
		w->pkt.now = bpf_ktime_get_ns();
#endif
#ifdef XFSM_OFFLOAD
	if (app->flags & XFSM_AF_NEEDS_PORT) {
		__u32 ifindex = w->pkt.ifindex;
		struct xfsm_port *port = bpf_map_lookup_elem(&xfsm_ports, &ifindex);

		w->pkt.fv[XFSM_FW_META_PORT] = port ? port->port : 0;
	}
#else
	/* The native profile always knows its ingress port, for the
	 * per-port counters; meta.port reads it only when the application
	 * asked for it (XFSM_AF_NEEDS_PORT), as documented. */
	{
		struct xfsm_port_stats *ps;
		__u32 port = ingress_port(w);

		if (port) {
			if (app->flags & XFSM_AF_NEEDS_PORT)
				w->pkt.fv[XFSM_FW_META_PORT] = port;
			ps = port_stats(s, port);
			if (ps) {
				CNT_ADD(&ps->rx_packets, 1);
				CNT_ADD(&ps->rx_bytes, w->pkt.fv[XFSM_FW_META_LEN]);
			}
		}
	}
#endif
	if (app->flags & XFSM_AF_NEEDS_RANDOM)
		w->pkt.rand = bpf_get_prandom_u32();
#ifndef XFSM_OFFLOAD
	/* The one cost of trace and capture while nobody observes.  (The
	 * micro benchmark's variants: without the test, and tracing every
	 * packet; docs/BENCHMARKS.md.) */
#if defined(XFSM_BENCH_TRACE)
	observed = xfsm_obs_begin(ctx, w, app->generation);
#elif !defined(XFSM_BENCH_NO_OBSERVE)
	if (c->observe & (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE))
		observed = xfsm_obs_begin(ctx, w, app->generation);
#endif
	/* The stage's hooks test it in the working set: a flag kept in a
	 * register is known after its first test, and would keep the
	 * traced and untraced paths between the hooks apart (verified
	 * twice); read from memory, they meet again after each hook. */
	if (observed & XFSM_OBS_TRACE)
		w->pkt.traced = 1;
#endif
	XFSM_PHASE_END(XFSM_PHASE_PORT);

	for (i = 0; i < XFSM_RUN_STAGES; i++) {
		if (stage >= app->n_stages || stage >= XFSM_RUN_STAGES)
			break;
#ifndef XFSM_OFFLOAD
		if (app->stages[stage].kind == XFSM_STAGE_ACL)
			ret = xfsm_acl_run(w, app, stage);
		else
#endif
			ret = xfsm_stage_run(ctx, w, app,
					     stage,
#ifdef XFSM_OFFLOAD
					     NULL);
#else
					     stage_lookup(w, stage_key(w, &app->stages[stage_idx(stage)],
								       stage)));
#endif
#ifndef XFSM_OFFLOAD
		if (observed)
			xfsm_obs_stage_end(ctx, w, stage, ret, observed |
					   (app->stages[stage_idx(stage)].kind == XFSM_STAGE_ACL ?
					    XFSM_OBS_ACL_STAGE : 0));
#endif
		if (ret < XFSM_RES_NEXT)
			return observe_end(ctx, w, finish(s, ret), observed);
		stage = ret & 0xff;
	}
	return observe_end(ctx, w, finish(s, verdict_to_xdp(app->default_verdict)), observed);
}

char _license[] SEC("license") = "GPL";
