/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow events for xfsmctl monitor (include/xfsm/abi.h, "Flow events"):
 * native profile only.  The sites that create, change and expire flows
 * ask events_on() first, so that nothing but that test is paid while no
 * monitor listens, and it is asked only on those paths, never per packet.
 */
#ifndef XFSM_BPF_EVENTS_H
#define XFSM_BPF_EVENTS_H

#include "common.h"
#include "maps.h"

#ifndef XFSM_OFFLOAD
/* Is a monitor listening?  An array lookup, which the verifier inlines. */
static __always_inline bool events_on(void)
{
	__u32 zero = 0;
	const struct xfsm_ctl *c = bpf_map_lookup_elem(&xfsm_ctl, &zero);

	return c && (c->observe & XFSM_OBS_EVENTS);
}

/*
 * One record into xfsm_events; a full ring counts exc_events_lost.  A
 * global function (verified once, its own frame), called only while a
 * monitor listens.  `aux` is the rule id of an XFSM_EV_UPDATE and the
 * expired deadline of an XFSM_EV_IDLE or XFSM_EV_HARD (a BPF function
 * takes at most five arguments).
 */
__noinline int xfsm_event_emit(const struct xfsm_flow_key *k, __u32 type, __u32 from,
			       __u32 to, __u64 aux)
{
	struct xfsm_event *e;
	struct xfsm_stats *s;
	__u32 zero = 0;
	__u64 queued;

	if (!k)
		return 0;
	queued = bpf_ringbuf_query(&xfsm_events, BPF_RB_AVAIL_DATA);
	e = bpf_ringbuf_reserve(&xfsm_events, sizeof(*e), 0);
	if (!e) {
		s = bpf_map_lookup_elem(&xfsm_stats, &zero);
		if (s)
			CNT_ADD(&s->exc_events_lost, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->from = from;
	e->to = to;
	e->rule_id = type == XFSM_EV_UPDATE ? (__u32)aux : 0;
	e->deadline_ns = type == XFSM_EV_UPDATE ? 0 : aux;
	e->count = 0;
	e->pad = 0;
	__builtin_memcpy(&e->key, k, sizeof(e->key));
	e->pad2[0] = 0;
	e->pad2[1] = 0;
	/* Waking the reader costs an irq_work per record (microseconds in a
	 * VM): the monitor polls the ring ten times a second instead, and is
	 * woken only when a burst has filled a quarter of the ring. */
	bpf_ringbuf_submit(e, queued >= XFSM_EVENTS_RING / 4 ? BPF_RB_FORCE_WAKEUP :
							      BPF_RB_NO_WAKEUP);
	return 0;
}

#define XFSM_EVENT(k, type, from, to, aux)				\
	do {								\
		if (events_on())					\
			xfsm_event_emit(k, type, from, to, aux);	\
	} while (0)
#else
#define XFSM_EVENT(k, type, from, to, aux)	do { } while (0)
#endif

#endif /* XFSM_BPF_EVENTS_H */
