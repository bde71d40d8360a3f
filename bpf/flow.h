/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow context: key extraction (with the symmetric, bi-flow variant),
 * striped locks and lazy timeout enforcement.
 */
#ifndef XFSM_BPF_FLOW_H
#define XFSM_BPF_FLOW_H

#include "common.h"
#include "maps.h"
#include "events.h"

static __always_inline void flow_key_fill(struct xfsm_flow_key *k, const struct xfsm_pkt *p,
					  const __u8 *words)
{
	int i;

#pragma unroll
	for (i = 0; i < XFSM_KEY_WORDS; i++)
		k->w[i] = p->fv[fv_idx(words[i])];
}

/* Is the key built from `rev` smaller than the one built from `words`?
 * The first differing word decides. */
static __always_inline bool flow_key_rev_smaller(const struct xfsm_pkt *p, const __u8 *words,
						 const __u8 *rev)
{
	int i;

	for (i = 0; i < XFSM_KEY_WORDS; i++) {
		__u32 a = p->fv[fv_idx(words[i])];
		__u32 b = p->fv[fv_idx(rev[i])];

		if (a != b)
			return b < a;
	}
	return false;
}

/*
 * Build a flow key from a word list.  For a symmetric stage the key is
 * built from whichever of `words` and `rev` gives the smaller key, so that
 * both directions of a connection meet.  (Each path fills from a fixed
 * list: choosing a pointer instead would multiply the verifier's states.)
 */
static __always_inline void flow_key_build(struct xfsm_flow_key *k, const struct xfsm_pkt *p,
					   const __u8 *words, const __u8 *rev,
					   bool symmetric, __u32 stage, __u16 epoch)
{
	k->stage = stage;
	k->epoch = epoch;
	if (symmetric && flow_key_rev_smaller(p, words, rev))
		flow_key_fill(k, p, rev);
	else
		flow_key_fill(k, p, words);
}

/*
 * The flow under key `k` in the table of class `table` (the XFSM_SF_TABLE
 * bits of its stage's flags): a narrow stage's flows (XFSM_SF_NARROW) are
 * found under the key's first 12 bytes in xfsm_flows_n, a medium one's
 * (XFSM_SF_MEDIUM) under its first 24 in xfsm_flows_m.  One call per
 * table: a call the verifier sees with two maps gets neither the
 * inlined lookup nor the direct call of the map's op.  It tells a pointer
 * into one table from one into another, so every path after a lookup
 * that may hit any is verified once per table while the pointer lives:
 * the generic program passes it to a global function soon after
 * (bpf/xfsm.bpf.c).
 */
static __always_inline flow_value *flow_lookup(struct xfsm_flow_key *k, __u32 table)
{
#ifndef XFSM_OFFLOAD
	if (table == XFSM_SF_NARROW)
		return bpf_map_lookup_elem(&xfsm_flows_n, k);
	if (table == XFSM_SF_MEDIUM)
		return bpf_map_lookup_elem(&xfsm_flows_m, k);
#endif
	return bpf_map_lookup_elem(&xfsm_flows, k);
}

/* Insert `v` under `k` in the table of class `table` unless the key is
 * there: 0, -EEXIST or another error.  Compared as an int: before 6.3 the
 * verifier turns this helper into a direct call of the map's update op,
 * which returns an int, leaving the upper half of R0 zero (-EEXIST
 * reads 0xffffffef). */
static __always_inline int flow_insert(struct xfsm_flow_key *k, const flow_value *v,
				       __u32 table)
{
#ifndef XFSM_OFFLOAD
	if (table == XFSM_SF_NARROW)
		return (int)bpf_map_update_elem(&xfsm_flows_n, k, v, BPF_NOEXIST);
	if (table == XFSM_SF_MEDIUM)
		return (int)bpf_map_update_elem(&xfsm_flows_m, k, v, BPF_NOEXIST);
#endif
	return (int)bpf_map_update_elem(&xfsm_flows, k, v, BPF_NOEXIST);
}

/* The striped lock guarding a flow's transactions. */
static __always_inline struct xfsm_lock *flow_lock(const struct xfsm_flow_key *k)
{
	__u32 h = k->stage ^ ((__u32)k->epoch << 16);
	__u32 idx;
	int i;

#pragma unroll
	for (i = 0; i < XFSM_KEY_WORDS; i++)
		h = (h ^ k->w[i]) * 0x9e3779b1U;
	idx = (h >> 16) & (XFSM_FLOW_LOCKS - 1);
	return bpf_map_lookup_elem(&xfsm_locks, &idx);
}

/*
 * The common case of a flow with timeouts: neither has expired.  Then its
 * idle timer restarts and the answer is true; false when flow_expire()
 * must roll it back (it checks again, under the lock).
 */
static __always_inline bool flow_still_live(struct xfsm_pkt *p, flow_value *f)
{
	__u64 hard = flow_hard_deadline(f), now = pkt_now(p);
	__u32 ito = f->idle_timeout_ms;

	if (hard && now >= hard)
		return false;
	if (ito && now >= f->last_seen_ns + (__u64)ito * 1000000ULL)
		return false;
	if (ito)
		MAP_SET(f->last_seen_ns, now);
	return true;
}

/*
 * Enforce a flow's timeouts at lookup (docs/datapath.md, "Flow context and
 * timeouts").  Returns the state the packet sees.  An expired flow rolls
 * back in the table too; a live flow with an idle timeout has its
 * last-seen time refreshed.  Flows without timeouts cost one branch.
 */
static __always_inline __u32 flow_expire(struct xfsm_work *w, flow_value *f,
					 struct xfsm_stage_stats *ss)
{
	__u64 hard = flow_hard_deadline(f), idle = 0, now;
	__u32 ito = f->idle_timeout_ms, state;
#ifndef XFSM_OFFLOAD
	__u32 ver = f->version;	/* detects a transition racing with us */
	__u32 from = 0;
#endif
	bool hard_exp, idle_exp, use_hard;
	__u64 at;

	if (!hard && !ito)
		return f->state;
	now = pkt_now(&w->pkt);
	if (ito)
		idle = f->last_seen_ns + (__u64)ito * 1000000ULL;
	hard_exp = hard && now >= hard;
	idle_exp = ito && now >= idle;
	if (!hard_exp && !idle_exp) {
		if (ito)
			MAP_SET(f->last_seen_ns, now);
		return f->state;
	}

	use_hard = hard_exp && (!idle_exp || hard <= idle);
	state = use_hard ? f->hard_rollback : f->idle_rollback;
	at = use_hard ? hard : idle;
#ifdef XFSM_OFFLOAD
	MAP_SET(f->state, state);
	flow_set_hard_deadline(f, 0);
	MAP_SET(f->idle_timeout_ms, 0);
	flow_set_created(f, at);
	__sync_fetch_and_add(&f->version, 1);
#else
	{
		struct xfsm_lock *l = flow_lock(&w->fk);

		if (!l)
			return state;
		bpf_spin_lock(&l->lock);
		if (f->version == ver) {
			from = f->state;
			f->state = state;
			flow_set_hard_deadline(f, 0);
			f->idle_timeout_ms = 0;
			flow_set_created(f, at);
			f->version++;
		} else {
			/* Another CPU moved the flow on meanwhile: its state wins. */
			state = f->state;
			use_hard = false;
			at = 0;
		}
		bpf_spin_unlock(&l->lock);
	}
	if (!at)
		return state;
	/* Noticed now, at this packet's lookup: the event says when the
	 * timeout expired too. */
	XFSM_EVENT(&w->fk, use_hard ? XFSM_EV_HARD : XFSM_EV_IDLE, from, state, at);
#endif
	if (use_hard)
		CNT_ADD(&ss->hard_expired, 1);
	else
		CNT_ADD(&ss->idle_expired, 1);
	return state;
}

#endif /* XFSM_BPF_FLOW_H */
