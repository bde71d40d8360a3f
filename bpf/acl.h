/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACL module: a stateless first-match wildcard classifier run as a
 * pipeline stage of kind XFSM_STAGE_ACL (native profile only).
 *
 * Tuple-space search with merged tuples (see include/xfsm/abi.h): per
 * tuple one hash lookup keyed by the packet's addresses cut to the tuple's
 * prefix lengths (plus protocol and destination port for tuples that hold
 * them), then a scan of at most XFSM_ACL_BUCKET rules sorted by order
 * (and of the chained overflow buckets while they may hold a better rule).
 * Tuples are sorted by their best order, so the walk stops as soon as the
 * best match found cannot be beaten.  The rule check itself lives in
 * acl_match.h, shared with user space (lib/acl.c runs the same code in
 * process for tests).
 */
#ifndef XFSM_BPF_ACL_H
#define XFSM_BPF_ACL_H

#include "common.h"
#include "maps.h"
#include "xfsm/acl_match.h"

#ifndef XFSM_OFFLOAD

/* Look up bucket `chain` of the key in w->acl.k and scan it.  A global
 * function: verified once.  Returns 1 on a match, 2 when the chain goes
 * on (and may hold a better match), 0 when it ends here. */
__noinline int xfsm_acl_scan(struct xfsm_work *w, __u32 chain)
{
	const struct xfsm_acl_bucket *b;
	struct xfsm_acl_work *a;
	__u32 i;

	if (!w)
		return 0;
	XFSM_WORK_REFRESH(w);
	if (!w)
		return 0;
	a = &w->acl;
	a->k.chain = chain;
	b = bpf_map_lookup_elem(&xfsm_acl_rules, &a->k);
	if (!b)
		return 0;
	for (i = 0; i < XFSM_ACL_BUCKET; i++) {
		const struct xfsm_acl_entry *e = &b->e[i];

		if (i >= b->n || e->order >= a->best)
			return 0;	/* later buckets hold later rules */
		if (!xfsm_acl_entry_match(e, &a->v))
			continue;
		a->best = e->order;
		a->action = e->action;
		a->flags = e->flags;
		a->arg = e->arg;
		a->mark = e->mark;
		return 1;
	}
	return b->more ? 2 : 0;
}

/* Probe one tuple: build its key, then walk its bucket chain.  desc packs
 * the tuple (family | src_len << 8 | dst_len << 16 | flags << 24).
 * Returns the number of hash lookups made. */
__noinline int xfsm_acl_probe(struct xfsm_work *w, __u32 desc, __u32 t, __u32 setidx)
{
	struct xfsm_acl_work *a;
	__u32 sl, dl, fl, i, c;

	if (!w)
		return 0;
	XFSM_WORK_REFRESH(w);
	if (!w)
		return 0;
	a = &w->acl;
	sl = (desc >> 8) & 0xff;
	dl = (desc >> 16) & 0xff;
	fl = desc >> 24;
	a->k.set = setidx;
	a->k.tuple = t;
	a->k.proto = (fl & XFSM_ACLT_PROTO) ? a->v.proto : 0;
	a->k.dport = (fl & XFSM_ACLT_DPORT) ? a->v.dport : 0;
#pragma unroll
	for (i = 0; i < 4; i++) {
		a->k.src[i] = a->v.src[i] & xfsm_acl_pfx_mask(sl, i);
		a->k.dst[i] = a->v.dst[i] & xfsm_acl_pfx_mask(dl, i);
	}
	for (c = 0; c < XFSM_ACL_MAX_CHAIN; c++) {
		if (xfsm_acl_scan(w, c) != 2)
			return c + 1;
	}
	return c;
}

/* One ACL stage.  Returns an XDP action or XFSM_RES_NEXT | next stage. */
__noinline int xfsm_acl_run(struct xfsm_work *w, const struct xfsm_app *app, __u32 stage)
{
	const struct xfsm_acl_set *set;
	const struct xfsm_stage *st;
	struct xfsm_stage_stats *ss;
	struct xfsm_acl_stats *as;
	struct xfsm_acl_work *a;
	struct xfsm_stats *s;
	__u32 table, setidx, n, t, probes = 0, zero = 0;

	if (!w || !app || stage >= XFSM_MAX_STAGES)
		return XDP_DROP;
	XFSM_WORK_REFRESH(w);
	if (!w)
		return XDP_DROP;
	a = &w->acl;
	st = &app->stages[stage];
	table = st->acl_table;
	if (table >= XFSM_ACL_TABLES)
		return XDP_DROP;
	w->pkt.key = table;
	as = bpf_map_lookup_elem(&xfsm_acl_stats, &w->pkt.key);
	w->pkt.key = st->stats_id;
	ss = bpf_map_lookup_elem(&xfsm_stg_stats, &w->pkt.key);
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	if (!as || !ss || !s)
		return XDP_DROP;
	/* The buffer of the table is the one the application slot names,
	 * so that it switches with the stages that use it.  (The mask keeps
	 * the bound checked above: Linux 6.1 loses it through a spill.) */
	setidx = table * 2 + (app->acl_buf[table & (XFSM_ACL_TABLES - 1)] & 1);
	w->pkt.key = setidx;
	set = bpf_map_lookup_elem(&xfsm_acl_sets, &w->pkt.key);
	if (!set)
		return XDP_DROP;
	CNT_ADD(&as->packets, 1);
	CNT_ADD(&ss->packets, 1);
	CNT_ADD(&ss->bytes, w->pkt.fv[XFSM_FW_META_LEN]);

	if ((set->flags & XFSM_ACLS_NEEDS_PORT) && !w->pkt.fv[XFSM_FW_META_PORT]) {
		struct xfsm_port *port;

		w->pkt.key = w->pkt.ifindex;
		port = bpf_map_lookup_elem(&xfsm_ports, &w->pkt.key);
		if (port)
			w->pkt.fv[XFSM_FW_META_PORT] = port->port;
	}
	xfsm_acl_view_fill(&a->v, w->pkt.fv);
	a->best = ~0U;
	n = set->n_tuples;
	for (t = 0; t < XFSM_ACL_MAX_TUPLES; t++) {
		const struct xfsm_acl_tuple *tp = &set->tuples[t];

		if (t >= n || tp->min_order >= a->best)
			break;
		if (tp->family && tp->family != a->v.family)
			continue;
		probes += xfsm_acl_probe(w, tp->family | (tp->src_len << 8) | (tp->dst_len << 16) |
			       ((__u32)tp->flags << 24), t, setidx);
	}
	CNT_ADD(&as->probes, probes);
	if (a->best == ~0U) {
		CNT_ADD(&as->missed, 1);
		CNT_ADD(&ss->misses, 1);
		if (st->miss_verdict == XFSM_VERDICT_CONTINUE)
			return XFSM_RES_NEXT | (stage + 1);
		if (st->miss_verdict == XFSM_VERDICT_DROP)
			return XDP_DROP;
		if (st->miss_verdict == XFSM_VERDICT_TX)
			return XDP_TX;
		return XDP_PASS;
	}
	CNT_ADD(&as->matched, 1);
	CNT_ADD(&ss->hits, 1);
	if (a->flags & XFSM_ACLF_MARK) {
		w->pkt.fv[XFSM_FW_META_MARK] = a->mark;
		CNT_ADD(&as->marked, 1);
	}
	switch (a->action) {
	case XFSM_ACL_DENY:
		CNT_ADD(&as->deny, 1);
		return XDP_DROP;
	case XFSM_ACL_PASS:
		CNT_ADD(&as->pass, 1);
		return XDP_PASS;
	case XFSM_ACL_GOTO:
		if (a->arg <= stage || a->arg >= XFSM_MAX_STAGES) {
			CNT_ADD(&s->exc_goto_backward, 1);
			return XDP_DROP;
		}
		CNT_ADD(&as->go, 1);
		return XFSM_RES_NEXT | a->arg;
	default:
		CNT_ADD(&as->allow, 1);
		return XFSM_RES_NEXT | (stage + 1);
	}
}

#endif /* !XFSM_OFFLOAD */
#endif /* XFSM_BPF_ACL_H */
