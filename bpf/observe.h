/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace and capture (xfsmctl trace, xfsmctl capture; native profile only).
 *
 * The entry function tests xfsm_ctl.observe, a word of the control block
 * it reads anyway, and calls nothing else while it is clear: that test is
 * the whole cost of the feature for a packet nobody observes.  With an
 * observer, xfsm_obs_begin() checks the packet against the filter of
 * xfsm_obs_cfg and its rate budget; a trace then fills a decision record
 * in this CPU's xfsm_obs_buf through the hooks below (one call each,
 * verified once as global functions) and copies it into the ring buffer
 * at the verdict; a capture copies the packet's first bytes at its point.
 * Records the ring cannot take, or over the rate, are counted in
 * xfsm_obs_cfg (lost_ring, lost_rate).
 */
#ifndef XFSM_BPF_OBSERVE_H
#define XFSM_BPF_OBSERVE_H

#include "common.h"
#include "maps.h"
#include "flow.h"

#ifndef XFSM_OFFLOAD

/* The record being made on this CPU: one observer at a time, so one kind. */
struct xfsm_obs_buf {
	union {
		struct xfsm_trace_rec tr;
		struct {
			struct xfsm_cap_rec hdr;
			/* a copy in 64-byte pieces may run past caplen */
			__u8	data[XFSM_CAPTURE_MAX + 64];
		} cap;
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_obs_cfg);
} xfsm_obs_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XFSM_TRACE_RING_SIZE);
} xfsm_trace SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_obs_buf);
} xfsm_obs_buf SEC(".maps");

/* Clamp in the register used afterwards (6.1 loses bounds in copies). */
static __always_inline __u32 obs_clamp(__u32 v, const __u32 max)
{
	asm volatile("if %[v] <= %[n] goto +1; %[v] = %[n]"
		     : [v] "+r"(v)
		     : [n] "i"(max));
	return v;
}

/* meta.port is in the field vector only when the application reads it:
 * the filter takes the port the datapath knows either way. */
static __always_inline bool obs_filter(const struct xfsm_obs_cfg *cfg, const struct xfsm_pkt *p,
				       __u32 port)
{
	__u32 n = cfg->n_terms, i;

	for (i = 0; i < XFSM_OBS_TERMS; i++) {
		const struct xfsm_obs_term *t = &cfg->terms[i];
		__u32 v;

		if (i >= n)
			break;
		v = t->word == XFSM_FW_META_PORT ? port : p->fv[fv_idx(t->word)];
		v &= t->mask;
		if (v < t->lo || v > t->hi)
			return false;
	}
	return true;
}

/* One record's worth of the rate budget: `rate` records in each second
 * of the monotonic clock.  CPUs race on the start of a second, which may
 * let a few more through; the count of those refused is exact. */
static __always_inline bool obs_admit(struct xfsm_obs_cfg *cfg)
{
	__u64 second;

	if (!cfg->rate)
		return true;
	second = bpf_ktime_get_ns() / 1000000000ULL;
	if (cfg->second != second) {
		cfg->second = second;
		cfg->used = 0;
	}
	if (__sync_fetch_and_add(&cfg->used, 1) < cfg->rate)
		return true;
	__sync_fetch_and_add(&cfg->lost_rate, 1);
	return false;
}

static __always_inline void obs_output(struct xfsm_obs_cfg *cfg, void *rec, __u32 size)
{
	if (bpf_ringbuf_output(&xfsm_trace, rec, size, 0))
		__sync_fetch_and_add(&cfg->lost_ring, 1);
	else
		__sync_fetch_and_add(&cfg->records, 1);
}

/* The packet as it is now, cut to the snap length, into the ring. */
static __always_inline void obs_capture(struct xdp_md *ctx, struct xfsm_obs_cfg *cfg,
					__u32 port, __u32 verdict)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct xfsm_obs_buf *b;
	__u32 zero = 0, len, caplen, off, n, i;

	if (!obs_admit(cfg))
		return;
	b = bpf_map_lookup_elem(&xfsm_obs_buf, &zero);
	if (!b)
		return;
	len = (__u32)(end - data);
	caplen = len < cfg->snaplen ? len : cfg->snaplen;
	caplen = obs_clamp(caplen, XFSM_CAPTURE_MAX);
	/* Whole 64-byte pieces, then single bytes: packet reads of a
	 * constant size.  Offsets come from caplen, not from the loops, so
	 * that the verifier meets one state after each loop, not one per
	 * trip. */
	n = caplen >> 6;
	for (i = 0; i < XFSM_CAPTURE_MAX / 64; i++) {
		__u64 *src, *dst;
		int k;

		if (i >= n)
			break;
		src = data + i * 64;
		if ((void *)(src + 8) > end)
			break;
		dst = (__u64 *)&b->cap.data[i * 64];
		for (k = 0; k < 8; k++)
			dst[k] = src[k];
	}
	off = caplen & ~63U & (XFSM_CAPTURE_MAX - 1);
	n = caplen & 63;
	for (i = 0; i < 63; i++) {
		__u8 *src;

		if (i >= n)
			break;
		src = data + off + i;
		if ((void *)(src + 1) > end)
			break;
		b->cap.data[off + i] = *src;
	}
	off = obs_clamp(caplen, XFSM_CAPTURE_MAX);
	b->cap.hdr.kind = XFSM_REC_CAPTURE;
	b->cap.hdr.len = len;
	b->cap.hdr.ts_ns = bpf_ktime_get_ns();
	b->cap.hdr.caplen = off;
	b->cap.hdr.port = port;
	b->cap.hdr.verdict = verdict;
	b->cap.hdr.pad = 0;
	obs_output(cfg, b, sizeof(b->cap.hdr) + off);
}

/* This CPU's record and its current stage's entry (NULL when full). */
static __always_inline struct xfsm_trace_stage *obs_stage_entry(struct xfsm_obs_buf **bp)
{
	struct xfsm_obs_buf *b;
	__u32 zero = 0, n;

	b = bpf_map_lookup_elem(&xfsm_obs_buf, &zero);
	*bp = b;
	if (!b)
		return NULL;
	n = b->tr.n_stages;
	if (n >= XFSM_MAX_STAGES)
		return NULL;
	return &b->tr.st[n & (XFSM_MAX_STAGES - 1)];
}

/*
 * Whether the packet is observed: XFSM_OBS_TRACE (the hooks below fill a
 * record), XFSM_OBS_CAPTURE (a capture at a later point), or 0.  Called
 * only while xfsm_ctl.observe is set, after the ingress port is known.
 */
__noinline __u32 xfsm_obs_begin(struct xdp_md *ctx, struct xfsm_work *w, __u32 generation)
{
	const struct xfsm_globals *g;
	struct xfsm_obs_cfg *cfg;
	struct xfsm_obs_buf *b;
	__u32 zero = 0;

	if (!w)
		return 0;
	cfg = bpf_map_lookup_elem(&xfsm_obs_cfg, &zero);
	if (!cfg || !obs_filter(cfg, &w->pkt, w->port.port))
		return 0;
	if (cfg->observer == XFSM_OBS_CAPTURE) {
		if (cfg->point != XFSM_OBSP_INGRESS)
			return XFSM_OBS_CAPTURE;
		obs_capture(ctx, cfg, w->port.port, 0);
		return 0;
	}
#ifndef XFSM_BENCH_TRACE	/* a benchmark object: every packet traced */
	if (cfg->observer != XFSM_OBS_TRACE || !obs_admit(cfg))
		return 0;
#endif
	b = bpf_map_lookup_elem(&xfsm_obs_buf, &zero);
	g = bpf_map_lookup_elem(&xfsm_globals, &zero);
	if (!b || !g)
		return 0;
	b->tr.kind = XFSM_REC_TRACE;
	b->tr.n_stages = 0;
	/* The packet's time, so that its timeouts are judged against it. */
	b->tr.ts_ns = pkt_now(&w->pkt);
	b->tr.port = w->port.port;
	b->tr.len = w->pkt.fv[XFSM_FW_META_LEN];
	b->tr.verdict = 0;
	b->tr.generation = generation;
	__builtin_memcpy(b->tr.fv, w->pkt.fv, sizeof(b->tr.fv));
	__builtin_memcpy(b->tr.globals_before, g->reg, sizeof(g->reg));
	return XFSM_OBS_TRACE;
}

/* A trace record's copy of flow `f`: a compact flow is the record's
 * head, the rest reads 0 (the buffer is reused from packet to packet). */
static __always_inline void obs_copy_flow(struct xfsm_flow *dst, const flow_value *f)
{
#if !XFSM_FLOW_FULL
	__builtin_memset((char *)dst + sizeof(*f), 0, sizeof(*dst) - sizeof(*f));
#endif
	__builtin_memcpy(dst, f, sizeof(*f));
}

/* A stage's flow, as found before its timeouts are enforced (f NULL: no
 * flow); flags: XFSM_TSF_LOOKUP when the stage looked one up under w->fk,
 * XFSM_TSF_TABLE bits naming the table that key is in,
 * XFSM_TSF_EXPIRED when its timeout has run out. */
__noinline int xfsm_obs_lookup(struct xfsm_work *w, const flow_value *f, __u32 flags)
{
	struct xfsm_trace_stage *e;
	struct xfsm_obs_buf *b;

	if (!w)
		return 0;
	XFSM_WORK_REFRESH(w);
	e = obs_stage_entry(&b);
	if (!w || !e)
		return 0;
	e->flags = flags & (XFSM_TSF_LOOKUP | XFSM_TSF_EXPIRED | XFSM_TSF_TABLE);
	e->rule = XFSM_OBS_MISS;
	e->conds = 0;
	e->state_seen = 0;
	if (flags & XFSM_TSF_LOOKUP)
		__builtin_memcpy(&e->key, &w->fk, sizeof(e->key));
	if (f) {
		e->flags |= XFSM_TSF_BEFORE;
		obs_copy_flow(&e->before, f);
	}
	return 0;
}

/* The rule search's outcome: the condition vector, the state the rules
 * saw (w->pkt.state) and the rule (NULL: a miss). */
__noinline int xfsm_obs_match(struct xfsm_work *w, const struct xfsm_rule *r, __u32 conds)
{
	struct xfsm_trace_stage *e;
	struct xfsm_obs_buf *b;

	if (!w)
		return 0;
	e = obs_stage_entry(&b);
	if (!e)
		return 0;
	e->flags |= XFSM_TSF_MATCHED;
	e->conds = conds;
	e->state_seen = w->pkt.state;
	e->rule = r ? r->image_id : XFSM_OBS_MISS;
	return 0;
}

/* xfsm_obs_stage_end()'s `how`: the observer bit, and this flag. */
#define XFSM_OBS_ACL_STAGE	(1U << 8)

/* After stage `stage` returned `result`: the flow under its lookup key
 * as the packet left it (trace), or the packet itself (a capture after
 * this stage). */
__noinline int xfsm_obs_stage_end(struct xdp_md *ctx, struct xfsm_work *w, __u32 stage,
				  __u32 result, __u32 how)
{
	struct xfsm_trace_stage *e;
	struct xfsm_obs_cfg *cfg;
	struct xfsm_obs_buf *b;
	flow_value *f;
	__u32 zero = 0;

	if (!w)
		return 0;
	if (how & XFSM_OBS_CAPTURE) {
		cfg = bpf_map_lookup_elem(&xfsm_obs_cfg, &zero);
		if (cfg && cfg->point == XFSM_OBSP_STAGE && cfg->point_arg == stage)
			obs_capture(ctx, cfg, w->port.port, 0);
		return 0;
	}
	e = obs_stage_entry(&b);
	if (!b || !e)
		return 0;
	if (how & XFSM_OBS_ACL_STAGE) {
		e->flags = XFSM_TSF_ACL;
		e->rule = XFSM_OBS_MISS;
	}
	e->stage = stage;
	e->result = result;
	if (e->flags & XFSM_TSF_LOOKUP) {
		f = flow_lookup(&e->key, XFSM_TABLE_OF_TSF(e->flags));
		if (f) {
			e->flags |= XFSM_TSF_AFTER;
			obs_copy_flow(&e->after, f);
		}
	}
	b->tr.n_stages++;
	return 0;
}

/* The packet's verdict (an XDP action): the trace record goes out, or a
 * capture at this verdict is taken. */
__noinline int xfsm_obs_end(struct xdp_md *ctx, struct xfsm_work *w, __u32 act, __u32 observed)
{
	const struct xfsm_globals *g;
	struct xfsm_obs_cfg *cfg;
	struct xfsm_obs_buf *b;
	__u32 zero = 0;

	if (!w)
		return 0;
	cfg = bpf_map_lookup_elem(&xfsm_obs_cfg, &zero);
	if (!cfg)
		return 0;
	if (observed == XFSM_OBS_CAPTURE) {
		if (cfg->point == XFSM_OBSP_VERDICT && cfg->point_arg == act)
			obs_capture(ctx, cfg, w->port.port, act);
		return 0;
	}
	b = bpf_map_lookup_elem(&xfsm_obs_buf, &zero);
	g = bpf_map_lookup_elem(&xfsm_globals, &zero);
	if (!b || !g)
		return 0;
	b->tr.verdict = act;
	__builtin_memcpy(b->tr.globals_after, g->reg, sizeof(g->reg));
	obs_output(cfg, &b->tr, sizeof(b->tr));
	return 0;
}

#endif /* !XFSM_OFFLOAD */
#endif /* XFSM_BPF_OBSERVE_H */
