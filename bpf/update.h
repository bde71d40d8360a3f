/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Register updates and state transitions.  In the native profile a flow's
 * transaction runs under its striped lock and the global registers' under
 * theirs; in the offload profile both are copy, modify, map_update_elem.
 */
#ifndef XFSM_BPF_UPDATE_H
#define XFSM_BPF_UPDATE_H

#include "common.h"
#include "maps.h"
#include "eval.h"
#include "flow.h"

#define XFSM_EEXIST	17

/* The value an XFSM_UF_ADD update adds to its destination register
 * `d` of kind `kind`: the operand that is not the destination (dst = dst
 * + x, x + dst), negated for dst = dst - x. */
static __always_inline __u64 upd_addend(const struct xfsm_update *u, __u8 kind, __u32 d,
					const struct xfsm_pkt *p, const flow_value *f,
					__u32 state, const struct xfsm_globals *g)
{
	const struct xfsm_operand *x = opnd_is_reg(&u->a, kind, d) ? &u->b : &u->a;
	__u64 v = opnd_read(x, p, f, state, g);

	return u->op == XFSM_UPD_SUB ? -v : v;
}

/* Flow-register updates, in rule order, then the transition.  `f` is the
 * update-scope flow: the map value (under its lock) or a private copy.
 * A register written only by XFSM_UF_ADD updates may also be added to by
 * rules that take no lock (XFSM_RF_FLOW_NOLOCK), so it is added to
 * atomically here too.  A compact flow has no register: the transition
 * only. */
static __always_inline void flow_apply(flow_value *f, const struct xfsm_rule *r,
				       const struct xfsm_pkt *p, struct xfsm_globals *g,
				       __u32 *div_zero)
{
#if XFSM_FLOW_FULL
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u64 a, b;

		__u32 d = u->dst_index & (XFSM_FLOW_REGS - 1);
		__u64 old;

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		if (u->op == XFSM_UPD_FETCH_ADD) {
			/* The global's value before the add, taken by one
			 * atomic instruction (no global lock, which cannot
			 * nest in the flow's): two CPUs never take the same
			 * value.  The offload profile has no fetching atomics
			 * (libxfsm refuses the update there). */
			__u32 gi = u->a.index & (XFSM_GLOBAL_REGS - 1);

			b = opnd_read(&u->b, p, f, f->state, g);
			if (!g)
				continue;
#ifdef XFSM_OFFLOAD
			a = g->reg[gi];
			MAP_SET_FROM(g->reg[gi], a, a + b);
#else
			a = __sync_fetch_and_add(&g->reg[gi], b);
#endif
			MAP_SET(f->regs[d], a);
			continue;
		}
#ifndef XFSM_OFFLOAD
		if (u->flags & XFSM_UF_ADD) {
			__sync_fetch_and_add(&f->regs[d],
					     upd_addend(u, XFSM_OPND_FLOW_REG, d, p, f, f->state, g));
			continue;
		}
#endif
		/* The destination is read once: as an operand and as the base
		 * of the store, so the offload profile's adds stay exact. */
		old = f->regs[d];
		a = opnd_is_reg(&u->a, XFSM_OPND_FLOW_REG, d) ? old :
			opnd_read(&u->a, p, f, f->state, g);
		b = opnd_is_reg(&u->b, XFSM_OPND_FLOW_REG, d) ? old :
			opnd_read(&u->b, p, f, f->state, g);
		MAP_SET_FROM(f->regs[d], old, upd_eval(u->op, a, b, u->shift, div_zero));
	}
#endif
	if (r->flags & XFSM_RF_SET_STATE) {
		MAP_SET(f->state, r->next_state);
		MAP_SET(f->idle_timeout_ms, r->idle_timeout_ms);
		MAP_SET(f->idle_rollback, r->idle_rollback);
		MAP_SET(f->hard_rollback, r->hard_rollback);
		flow_set_hard_deadline(f, r->hard_timeout_ms ?
				       p->now + (__u64)r->hard_timeout_ms * 1000000ULL : 0);
		flow_set_created(f, p->now);
		MAP_SET(f->last_seen_ns, p->now);
	}
	MAP_SET(f->version, f->version + 1);
}

#ifndef XFSM_OFFLOAD
/* An XFSM_RF_FLOW_NOLOCK rule: each of its flow writes is an atomic add.
 * The version is left alone: it tells a timeout rollback that a transition
 * raced with it, and an add is not one.  (The compact build has no flow
 * register: its lock-free and compare-and-swap writes are none.) */
static __always_inline void flow_add_nolock(flow_value *f, const struct xfsm_rule *r,
					    const struct xfsm_pkt *p, const struct xfsm_globals *g)
{
#if XFSM_FLOW_FULL
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u32 d = u->dst_index & (XFSM_FLOW_REGS - 1);

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		__sync_fetch_and_add(&f->regs[d],
				     upd_addend(u, XFSM_OPND_FLOW_REG, d, p, f, f->state, g));
	}
#endif
}

/* The global-register half of a lock-free rule (XFSM_RF_GLOBAL_NOLOCK). */
static __always_inline void global_add_nolock(struct xfsm_globals *g, const struct xfsm_rule *r,
					      const struct xfsm_pkt *p, const flow_value *f)
{
	__u32 state = f ? f->state : 0;
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u32 d = u->dst_index & (XFSM_GLOBAL_REGS - 1);

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_GLOBAL_REG)
			continue;
		__sync_fetch_and_add(&g->reg[d],
				     upd_addend(u, XFSM_OPND_GLOBAL_REG, d, p, f, state, g));
	}
}

/*
 * An XFSM_RF_FLOW_CAS rule: its flow writes are a chain of updates to one
 * register d whose other operands do not read the flow (lib/plan.c), run
 * as a compare-and-swap loop (include/xfsm/abi.h, XFSM_CAS_FAST_TRIES).
 * w->cas.x[i] holds update i's operands as read once: only d changes
 * between attempts.
 */
static __always_inline __u64 cas_chain(struct xfsm_work *w, const struct xfsm_rule *r, __u32 d)
{
	struct xfsm_cas_work *c = &w->cas;
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u64 a, b;

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		a = opnd_is_reg(&u->a, XFSM_OPND_FLOW_REG, d) ? c->v : c->x[i][0];
		b = opnd_is_reg(&u->b, XFSM_OPND_FLOW_REG, d) ? c->v : c->x[i][1];
		c->v = upd_eval(u->op, a, b, u->shift, &c->div_zero);
	}
	return c->v;
}

#if XFSM_FLOW_FULL
/* One attempt: the chain from the register's value now, installed if the
 * register still holds that value.  *div_zero counts the attempt that
 * succeeds only. */
static __always_inline bool cas_try(struct xfsm_work *w, flow_value *f,
				    const struct xfsm_rule *r, __u32 d, __u32 *div_zero)
{
	__u64 *reg = &f->regs[d & (XFSM_FLOW_REGS - 1)];
	__u64 old = *(volatile __u64 *)reg, v;

	w->cas.v = old;
	w->cas.div_zero = 0;
	v = cas_chain(w, r, d);
	if (__sync_val_compare_and_swap(reg, old, v) != old)
		return false;
	*div_zero += w->cas.div_zero;
	return true;
}
#endif

/*
 * The whole loop; false when the slow path ran out of attempts, which the
 * plan's CPU bound rules out (abi.h).  Fast: a few attempts while no
 * writer of the flow is on the slow path.  Slow: the flow's slow count
 * raised first (from then on every new writer takes the slow path too),
 * then the striped lock, which orders the slow writers and the locked
 * transactions (their additions to d are atomic, XFSM_UF_ADD): an attempt
 * there fails only when a fast writer that began before the count rose
 * succeeds, once at most per other CPU.
 */
static __always_inline bool flow_cas(struct xfsm_work *w, flow_value *f,
				     const struct xfsm_rule *r, struct xfsm_globals *g,
				     __u32 *div_zero)
{
#if XFSM_FLOW_FULL
	struct xfsm_lock *l;
	bool done = false;
	__u32 d = 0, was;
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_FLOW_REG)
			continue;
		d = u->dst_index & (XFSM_FLOW_REGS - 1);
		w->cas.x[i][0] = opnd_read(&u->a, &w->pkt, f, f->state, g);
		w->cas.x[i][1] = opnd_read(&u->b, &w->pkt, f, f->state, g);
	}
	if (!(*(volatile __u32 *)&f->flags & XFSM_FF_CAS_SLOW)) {
		for (i = 0; i < XFSM_CAS_FAST_TRIES; i++)
			if (cas_try(w, f, r, d, div_zero))
				return true;
	}
	/* a fetching add: fully ordered before the attempts that follow */
	was = __sync_fetch_and_add(&f->flags, 1U << XFSM_FF_CAS_SLOW_SHIFT);
	asm volatile("" : "+r"(was));
	l = flow_lock(&w->fk);
	if (l) {
		bpf_spin_lock(&l->lock);
		for (i = 0; i < XFSM_CAS_SLOW_TRIES && !done; i++)
			done = cas_try(w, f, r, d, div_zero);
		bpf_spin_unlock(&l->lock);
	}
	__sync_fetch_and_sub(&f->flags, 1U << XFSM_FF_CAS_SLOW_SHIFT);
	return done;
#else
	return true;
#endif
}

/* Are all of a rule's writes lock-free additions?  Then they run in the
 * stage itself, without the call the locked transaction takes. */
static __always_inline bool rule_adds_only(const struct xfsm_rule *r)
{
	__u32 fl = r->flags;

	return (!(fl & XFSM_RF_WRITES_FLOW) || (fl & XFSM_RF_FLOW_NOLOCK)) &&
	       (!(fl & XFSM_RF_WRITES_GLOBAL) || (fl & XFSM_RF_GLOBAL_NOLOCK));
}

/* Such a rule's writes: flow first, then globals, as xfsm_commit() does
 * (an addition cannot divide by zero). */
static __always_inline void rule_add(flow_value *uf, const struct xfsm_rule *r,
				     const struct xfsm_pkt *p)
{
	__u32 zero = 0;
	struct xfsm_globals *g = bpf_map_lookup_elem(&xfsm_globals, &zero);

	if (uf && (r->flags & XFSM_RF_FLOW_NOLOCK))
		flow_add_nolock(uf, r, p, g);
	if (g && (r->flags & XFSM_RF_GLOBAL_NOLOCK))
		global_add_nolock(g, r, p, uf);
}
#endif

/*
 * A transition that would change nothing but the idle timer: no hard
 * timeout, no flow-register write, into the state, idle timeout and
 * rollback states flow `f` already has.  It restarts the idle timer and
 * leaves the rest, the time the flow entered its state too
 * (docs/datapath.md, "Updates, next state"): a flow refreshed by every
 * packet, as a firewall's connections are, takes no lock.
 */
static __always_inline bool flow_refresh_only(const flow_value *f,
					      const struct xfsm_rule *r)
{
	int i;

	if (!f || !(r->flags & XFSM_RF_SET_STATE) || r->hard_timeout_ms || flow_hard_deadline(f) ||
	    f->state != r->next_state || f->idle_timeout_ms != r->idle_timeout_ms ||
	    f->idle_rollback != r->idle_rollback || f->hard_rollback != r->hard_rollback)
		return false;
	for (i = 0; i < XFSM_MAX_UPDATES; i++)
		if (r->upd[i].op != XFSM_UPD_NONE && r->upd[i].dst_kind == XFSM_OPND_FLOW_REG)
			return false;
	return true;
}

static __always_inline void globals_apply(struct xfsm_globals *g, const struct xfsm_rule *r,
					  const struct xfsm_pkt *p, const flow_value *f,
					  __u32 *div_zero)
{
	__u32 state = f ? f->state : 0;
	int i;

	for (i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		__u64 a, b;

		__u32 d = u->dst_index & (XFSM_GLOBAL_REGS - 1);
		__u64 old;

		if (u->op == XFSM_UPD_NONE || u->dst_kind != XFSM_OPND_GLOBAL_REG)
			continue;
#ifndef XFSM_OFFLOAD
		if (u->flags & XFSM_UF_ADD) {
			__sync_fetch_and_add(&g->reg[d],
					     upd_addend(u, XFSM_OPND_GLOBAL_REG, d, p, f, state, g));
			continue;
		}
#endif
		old = g->reg[d];
		a = opnd_is_reg(&u->a, XFSM_OPND_GLOBAL_REG, d) ? old :
			opnd_read(&u->a, p, f, state, g);
		b = opnd_is_reg(&u->b, XFSM_OPND_GLOBAL_REG, d) ? old :
			opnd_read(&u->b, p, f, state, g);
		MAP_SET_FROM(g->reg[d], old, upd_eval(u->op, a, b, u->shift, div_zero));
	}
}

/* Insert a state-0 flow under w->fk unless one exists; returns the entry,
 * or NULL when the table is full. */
static __always_inline flow_value *flow_create(struct xfsm_work *w,
					       struct xfsm_stage_stats *ss, __u32 table)
{
	flow_value *zero, *f;
	struct xfsm_stats *s;
	int err;

	w->pkt.key = 0;
	zero = bpf_map_lookup_elem(&xfsm_zero, &w->pkt.key);
	if (!zero)
		return NULL;
	err = flow_insert(&w->fk, zero, table);
	if (err && err != -XFSM_EEXIST) {
		XFSM_EVENT(&w->fk, XFSM_EV_FULL, 0, 0, 0);
		CNT_ADD(&ss->table_full, 1);
		s = bpf_map_lookup_elem(&xfsm_stats, &w->pkt.key);
		if (s)
			CNT_ADD(&s->exc_flow_table_full, 1);
		return NULL;
	}
	f = flow_lookup(&w->fk, table);
	if (!err) {
		XFSM_EVENT(&w->fk, XFSM_EV_NEW, 0, 0, 0);
		CNT_ADD(&ss->flows_created, 1);
		if (f)
			flow_set_created(f, pkt_now(&w->pkt));
	}
	return f;
}

/*
 * The flow a matched rule of stage `st` writes: the update-scope flow
 * (the lookup-scope one in a one-key stage), created in state 0 when it
 * does not exist yet.  w->fk is left holding its key; NULL when the table
 * is full.  This runs in the stage itself, whose key buffer the verifier
 * knows as stack or map memory: older verifiers (6.1's) refuse a global
 * function's pointer argument as a map key.
 */
#ifdef XFSM_OFFLOAD
/* Its own (static) frame: inlined, it would grow the entry function's
 * frame, which holds the working set, past the stack budget. */
#define XFSM_FLOW_FOR_UPDATE_FN	static __noinline
#else
#define XFSM_FLOW_FOR_UPDATE_FN	static __always_inline
#endif

XFSM_FLOW_FOR_UPDATE_FN flow_value *flow_for_update(struct xfsm_work *w,
						    const struct xfsm_stage *st,
						    __u32 stage,
						    struct xfsm_stage_stats *ss)
{
	bool same = st->flags & XFSM_SF_SAME_KEYS;
	__u32 table = st->flags & XFSM_SF_TABLE;
	flow_value *f;

	flow_key_build(&w->fk, &w->pkt, same ? st->lookup_words : st->update_words,
		       same ? st->lookup_rev : st->update_rev,
		       st->flags & XFSM_SF_SYMMETRIC, stage, st->epoch);
	f = flow_lookup(&w->fk, table);
	if (!f)
		f = flow_create(w, ss, table);
	return f;
}

/* Commit a rule's flow transaction to `f`, the flow under w->fk.  Returns
 * 1 when a compare-and-swap loop gave up (exc_cas_exhausted), else 0. */
static __always_inline int flow_commit(struct xfsm_work *w, flow_value *f,
				       const struct xfsm_rule *r, struct xfsm_globals *g,
				       __u32 *div_zero)
{
#ifdef XFSM_OFFLOAD
	flow_apply(f, r, &w->pkt, g, div_zero);
#else
	struct xfsm_lock *l;
	__u32 from;

	if (r->flags & XFSM_RF_FLOW_NOLOCK) {
		flow_add_nolock(f, r, &w->pkt, g);
		return 0;
	}
	/* like an addition, the chain leaves the version alone */
	if (r->flags & XFSM_RF_FLOW_CAS)
		return !flow_cas(w, f, r, g, div_zero);
	l = flow_lock(&w->fk);
	if (!l)
		return 0;
	if (r->flags & XFSM_RF_SET_STATE)
		pkt_now(&w->pkt);	/* the transition stamps it, under the lock */
	bpf_spin_lock(&l->lock);
	from = f->state;
	flow_apply(f, r, &w->pkt, g, div_zero);
	bpf_spin_unlock(&l->lock);
	/* A change of state only: re-entering the state it is in (timers
	 * restarted) is not one. */
	if ((r->flags & XFSM_RF_SET_STATE) && from != r->next_state)
		XFSM_EVENT(&w->fk, XFSM_EV_UPDATE, from, r->next_state, r->rule_id);
#endif
	return 0;
}

static __always_inline void globals_commit(struct xfsm_globals *g, const struct xfsm_rule *r,
					   const struct xfsm_pkt *p, const flow_value *f,
					   __u32 *div_zero)
{
#ifdef XFSM_OFFLOAD
	globals_apply(g, r, p, f, div_zero);
#else
	if (r->flags & XFSM_RF_GLOBAL_NOLOCK) {
		globals_apply(g, r, p, f, div_zero);	/* one atomic add */
		return;
	}
	bpf_spin_lock(&g->lock);
	globals_apply(g, r, p, f, div_zero);
	bpf_spin_unlock(&g->lock);
#endif
}

#endif /* XFSM_BPF_UPDATE_H */
