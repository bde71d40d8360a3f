/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACL module: a stateless first-match wildcard classifier run as a
 * pipeline stage of kind XFSM_STAGE_ACL (native profile only).
 *
 * Cut trees (include/xfsm/abi.h, compiled by lib/acl_tree.c): for each
 * tree of the set in use whose best rule can still beat the best match so
 * far, walk from the root to one leaf (one array lookup per node, at most
 * XFSM_ACL_MAX_DEPTH cut nodes) and check the leaf's rules in order (one
 * array lookup each, at most XFSM_ACL_LEAF).  The rule check lives in
 * acl_match.h, shared with user space (lib/acl_tree.c runs the same walk
 * in process for tests); the compiler keeps the sum over a set's trees
 * under XFSM_ACL_MAX_LOOKUPS, whatever the rules.
 */
#ifndef XFSM_BPF_ACL_H
#define XFSM_BPF_ACL_H

#include "common.h"
#include "maps.h"
#include "xfsm/acl_match.h"

#ifndef XFSM_OFFLOAD

/*
 * The buffer of table `table` a packet uses: the one seam that decides
 * which rule set a packet sees.  The application slot names it, so that it
 * switches with the stages that use it: writers fill the buffer the
 * running slot does not name and switch slots (lib/apply.c).  (The mask
 * keeps the caller's bound check: Linux 6.1 loses it through a spill.)
 */
static __always_inline __u32 xfsm_acl_buffer(const struct xfsm_app *app, __u32 table)
{
	return app->acl_buf[table & (XFSM_ACL_TABLES - 1)] & 1;
}

/* Walk one tree from `root` to its leaf and check the leaf's rules,
 * recording a better match in w->acl.  A global function: verified once.
 * Returns the number of map lookups made. */
__noinline int xfsm_acl_tree(struct xfsm_work *w, __u32 root)
{
	const struct xfsm_acl_entry *e;
	const struct xfsm_acl_node *n = NULL;
	struct xfsm_acl_work *a;
	__u32 idx = root, key, d, i, r, dim;
	int lookups = 0;

	if (!w)
		return 0;
	XFSM_WORK_REFRESH(w);
	if (!w)
		return 0;
	a = &w->acl;
	for (d = 0; d <= XFSM_ACL_MAX_DEPTH; d++) {
		key = a->node_base + idx;
		n = bpf_map_lookup_elem(&xfsm_acl_nodes, &key);
		if (!n)
			return lookups;
		lookups++;
		if (n->dim == XFSM_ACLN_LEAF)
			break;
		dim = n->dim & (XFSM_ACL_DIMS - 1);
		idx = n->first + xfsm_acl_child(n, a->v.key[dim]);
	}
	if (!n || n->dim != XFSM_ACLN_LEAF)
		return lookups;		/* never for a set the compiler made */
	for (i = 0; i < XFSM_ACL_LEAF; i++) {
		if (i >= n->n)
			break;
		r = n->rule[i];
		if (r >= a->best)
			break;		/* rules are in order: none can win */
		key = a->rule_base + r;
		e = bpf_map_lookup_elem(&xfsm_acl_rules, &key);
		if (!e)
			break;
		lookups++;
		if (!xfsm_acl_entry_match(e, &a->v))
			continue;
		a->best = r;
		a->action = e->action;
		a->flags = e->flags;
		a->arg = e->arg;
		a->mark = e->mark;
		break;
	}
	return lookups;
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
	__u32 table, setidx, n, t, lookups = 0, zero = 0;

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
	s = bpf_map_lookup_elem(&xfsm_stats, &zero);
	if (!as || !s)
		return XDP_DROP;
	ss = stage_stats(s, st->stats_id);
	if (!ss)
		return XDP_DROP;
	setidx = table * 2 + xfsm_acl_buffer(app, table);
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
	a->node_base = set->node_base;
	a->rule_base = set->rule_base;
	a->best = ~0U;
	n = set->n_trees;
	for (t = 0; t < XFSM_ACL_MAX_TREES; t++) {
		if (t >= n || set->trees[t].min_order >= a->best)
			break;		/* trees are sorted by their best rule */
		lookups += xfsm_acl_tree(w, set->trees[t].root);
	}
	CNT_ADD(&as->probes, lookups);
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
