/* SPDX-License-Identifier: GPL-2.0 */
/* Shared definitions of the xfsm datapath: profile switches, the per-packet
 * context and counter helpers. */
#ifndef XFSM_BPF_COMMON_H
#define XFSM_BPF_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xfsm/abi.h"
#include "xfsm/acl_match.h"

/*
 * The one seam between the native and the offload profile.  The offload
 * profile walks fewer stages and tuples, updates shared counters with
 * atomic adds instead of per-CPU stores, and writes map values only
 * through bpf_map_update_elem().
 */
#ifdef XFSM_OFFLOAD
#define XFSM_RUN_STAGES		XFSM_OFFLOAD_MAX_STAGES
#define XFSM_RUN_TUPLES		XFSM_OFFLOAD_MAX_TUPLES
#define XFSM_RUN_FV_WORDS	XFSM_OFFLOAD_FV_WORDS
#define CNT_ADD(ptr, v)		__sync_fetch_and_add((ptr), (v))
#else
#define XFSM_RUN_STAGES		XFSM_MAX_STAGES
#define XFSM_RUN_TUPLES		XFSM_MAX_TUPLES
#define XFSM_RUN_FV_WORDS	XFSM_FV_WORDS
#define CNT_ADD(ptr, v)		(*(ptr) += (v))
#endif

/*
 * The flow value's layout, the seam between the full and the compact
 * build (-DXFSM_COMPACT_FLOWS, build/xfsm-compact.bpf.o).  The compact
 * tables hold struct xfsm_flow_head only: no hard deadline, no creation
 * time, no flow register.  Every function handling a flow value takes a
 * flow_value; the fields past the head are reached only through the
 * accessors below, which read 0 and write nothing in the compact
 * build (libxfsm refuses there the applications that would need them).
 * A separate object and not a load-time switch: a global function's
 * pointer argument must cover its BTF type, so one typed struct xfsm_flow
 * cannot take a 32-byte map value.
 */
#ifdef XFSM_COMPACT_FLOWS
#ifdef XFSM_OFFLOAD
#error "the offload profile has no compact flow values"
#endif
typedef struct xfsm_flow_head flow_value;
#define XFSM_FLOW_FULL		0
#else
typedef struct xfsm_flow flow_value;
#define XFSM_FLOW_FULL		1
#endif

/* Store field word `w`, which the offload profile's shorter vector may not
 * have (XFSM_OFFLOAD_FV_WORDS): there the store compiles to nothing. */
#define FV_SET(fv, w, v)						\
	do {								\
		if ((w) < XFSM_RUN_FV_WORDS)				\
			(fv)[(w) < XFSM_RUN_FV_WORDS ? (w) : XFSM_FW_ZERO] = (v); \
	} while (0)

/* Everything a stage needs to know about the packet being processed. */
struct xfsm_pkt {
	__u32	fv[XFSM_RUN_FV_WORDS];
	__u64	now;		/* arrival time, ns */
	__u16	l3_off;		/* offset of the IP header, 0: none */
	__u16	l4_off;		/* of a TCP, UDP, ICMP or ICMPv6 header, 0: none */
	__u32	ifindex;
	__u16	slot;		/* application slot read at entry */
	__u16	traced;		/* the packet is traced (bpf/observe.h) */
	__u32	rand;		/* meta.random */
	__u32	state;		/* lookup-scope state of the current stage */
	__u32	key;		/* scratch map key: one slot for all stages */
};

/*
 * A packet's working set.  The native profile keeps it in a per-CPU
 * scratch map so that the stack stays small; the offload profile, which
 * has no per-CPU maps, keeps it on the entry function's stack, so it is as
 * small as it can be: the flow key and the rule key are never live at the
 * same time and share one buffer.
 */
/* An ACL stage's scratch (native profile only): the packet's ACL view,
 * where the set in use lies and the best match so far. */
struct xfsm_acl_work {
	struct xfsm_acl_view	v;
	__u32	node_base;	/* of the set in use */
	__u32	rule_base;
	__u32	best;		/* order of the best match, ~0: none */
	__u32	action;
	__u32	flags;
	__u32	arg;
	__u32	mark;
};

/* A compare-and-swap chain's scratch (bpf/update.h, flow_cas()): in map
 * memory, so that the verifier keeps no range of the values between the
 * chain's updates (on the stack every operation's range would be a state
 * of its own, multiplied by each update and each attempt). */
struct xfsm_cas_work {
	__u64	x[XFSM_MAX_UPDATES][2];	/* the chain's operands, read once */
	__u64	v;			/* the running value */
	__u32	div_zero;		/* divisions by zero of this attempt */
	__u32	pad;
};

struct xfsm_work {
	struct xfsm_pkt		pkt;
#ifdef XFSM_OFFLOAD
	union {
		struct xfsm_flow_key	fk;
		struct xfsm_rule_key	rk;
	};
#else
	/* The flow key outlives the rule search: a one-key stage writes the
	 * flow it looked up without building the key again. */
	struct xfsm_flow_key	fk;
	union {
		struct xfsm_rule_key	rk;
		struct xfsm_acl_work	acl;
		struct xfsm_cas_work	cas;	/* the rule found: rk is free */
	};
	/* The last ingress port looked up on this CPU, valid while
	 * xfsm_port_gen[0] still holds `gen` (kept across packets). */
	struct xfsm_port_cache	port;
#endif
};

#ifndef XFSM_OFFLOAD
/* Specialized programs find these at the offsets the ABI gives. */
_Static_assert(__builtin_offsetof(struct xfsm_work, port) == XFSM_WORK_PORT_OFF,
	       "ABI: XFSM_WORK_PORT_OFF");
_Static_assert(__builtin_offsetof(struct xfsm_work, pkt.fv[XFSM_FW_NWORDS_USED]) ==
	       XFSM_WORK_BAIL_OFF, "ABI: XFSM_WORK_BAIL_OFF");
#endif

/* xfsmctl simulate reads the parsed fields out of the scratch value. */
_Static_assert(__builtin_offsetof(struct xfsm_work, pkt.fv) == 0,
	       "the field vector starts the working set");

/*
 * Store into a map value.  The offload profile may write map values only
 * through bpf_map_update_elem() or atomic adds, so it adds the difference;
 * like the rest of that profile, this is not atomic across CPUs.
 */
#ifdef XFSM_OFFLOAD
#define MAP_SET(lv, v)							\
	({								\
		__typeof__(lv) __new = (v);				\
		__sync_fetch_and_add(&(lv), (__typeof__(lv))(__new - (lv))); \
	})
/* Store `v` computed from `old`, the value read before: adding v - old
 * keeps concurrent additions from other CPUs (register adds are exact). */
#define MAP_SET_FROM(lv, old, v)					\
	__sync_fetch_and_add(&(lv), (__typeof__(lv))((v) - (old)))
#else
#define MAP_SET(lv, v)	((lv) = (v))
#define MAP_SET_FROM(lv, old, v)	((lv) = (v))
#endif

/* The full layout's own fields, read and written here only (flow_value
 * above): in the compact build a flow has no hard deadline and reads
 * register i as 0, and the stores vanish.  The flow-register writes of
 * bpf/update.h have a block of their own. */
static __always_inline __u64 flow_hard_deadline(const flow_value *f)
{
#if XFSM_FLOW_FULL
	return f->hard_deadline_ns;
#else
	return 0;
#endif
}

static __always_inline __u64 flow_reg(const flow_value *f, __u32 i)
{
#if XFSM_FLOW_FULL
	return f->regs[i & (XFSM_FLOW_REGS - 1)];
#else
	return 0;
#endif
}

static __always_inline void flow_set_hard_deadline(flow_value *f, __u64 deadline)
{
#if XFSM_FLOW_FULL
	MAP_SET(f->hard_deadline_ns, deadline);
#endif
}

static __always_inline void flow_set_created(flow_value *f, __u64 at)
{
#if XFSM_FLOW_FULL
	MAP_SET(f->created_ns, at);
#endif
}

/*
 * The packet's arrival time.  Reading the clock costs tens of ns in a VM,
 * so the native profile takes it at arrival only for applications that
 * read meta.time (XFSM_AF_NEEDS_TIME), and otherwise on first use by a
 * timeout check, a transition or a new flow.  Never call it with a spin
 * lock held: fetch it before.
 */
static __always_inline __u64 pkt_now(struct xfsm_pkt *p)
{
#ifndef XFSM_OFFLOAD
	if (!p->now)
		p->now = bpf_ktime_get_ns();
#endif
	return p->now;
}

/* Field vector index, clamped so the verifier sees a bounded access and a
 * corrupted index reads the always-zero word. */
static __always_inline __u32 fv_idx(__u32 i)
{
	/* In asm so that the bounded register is the one used for the access:
	 * Linux 6.1 loses the bound through the copy clang would make. */
	asm volatile("if %[i] < %[n] goto +1; %[i] = %[z]"
		     : [i] "+r"(i)
		     : [n] "i"(XFSM_RUN_FV_WORDS), [z] "i"(XFSM_FW_ZERO));
	return i;
}

/*
 * Where the time goes (docs/BENCHMARKS.md): objects built for the micro
 * benchmark only (build/bench/xfsm-stopN.bpf.o, -DXFSM_BENCH_STOP=N) end
 * every packet with XDP_DROP after phase N, so that the difference
 * between consecutive variants is the cost of one phase.  The shipped
 * objects never define it and compile the seams to nothing.
 */
enum xfsm_bench_phase {
	XFSM_PHASE_PARSE = 1,	/* parser, packet counters */
	XFSM_PHASE_PORT,	/* application, ingress port and its counters */
	XFSM_PHASE_FLOW,	/* stage counters, flow lookup, timeouts */
	XFSM_PHASE_MATCH,	/* conditions, rule match, hit counters */
	XFSM_PHASE_UPDATE,	/* register updates, transition */
};
#ifdef XFSM_BENCH_STOP
#define XFSM_PHASE_END(n)	do { if ((n) == XFSM_BENCH_STOP) return XDP_DROP; } while (0)
#else
#define XFSM_PHASE_END(n)	do { } while (0)
#endif

/* A stage index the verifier sees bounded in the register used for the
 * access (a 32-bit index spilled and filled again loses its bound). */
static __always_inline __u32 stage_idx(__u32 i)
{
	asm volatile("if %[i] < %[n] goto +1; %[i] = 0"
		     : [i] "+r"(i)
		     : [n] "i"(XFSM_MAX_STAGES));
	return i;
}

/* Offset of an exception counter inside struct xfsm_stats: the parser and
 * the stages report exceptions this way so one helper counts them all. */
#define EXC(name)	((int)offsetof(struct xfsm_stats, exc_##name))
#define ACT(name)	((int)offsetof(struct xfsm_stats, act_##name))

#endif /* XFSM_BPF_COMMON_H */
