/* SPDX-License-Identifier: GPL-2.0 */
/* Map definitions.  Names, key and value types come from xfsm/abi.h; the
 * loader may resize the flow tables and xfsm_rules and switch the flow
 * tables to plain hashes before loading. */
#ifndef XFSM_BPF_MAPS_H
#define XFSM_BPF_MAPS_H

#include "common.h"

#ifdef XFSM_OFFLOAD
#define XFSM_STATS_TYPE		BPF_MAP_TYPE_ARRAY
#define XFSM_FLOWS_TYPE		BPF_MAP_TYPE_HASH
#define XFSM_RULES_FLAGS	0
#else
#define XFSM_STATS_TYPE		BPF_MAP_TYPE_PERCPU_ARRAY
#define XFSM_FLOWS_TYPE		BPF_MAP_TYPE_LRU_HASH
#define XFSM_RULES_FLAGS	BPF_F_NO_PREALLOC
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_ctl);
} xfsm_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_APP_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_app);
} xfsm_apps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XFSM_APP_SLOTS * XFSM_DEFAULT_RULES);
	__uint(map_flags, XFSM_RULES_FLAGS);
	__type(key, struct xfsm_rule_key);
	__type(value, struct xfsm_rule);
} xfsm_rules SEC(".maps");

struct {
	__uint(type, XFSM_FLOWS_TYPE);
	__uint(max_entries, XFSM_DEFAULT_FLOWS);
	__type(key, struct xfsm_flow_key);
	__type(value, flow_value);
} xfsm_flows SEC(".maps");

#ifndef XFSM_OFFLOAD
/* The narrow stages' flows (XFSM_SF_NARROW): a 12-byte key hashes and
 * compares faster than the 48-byte one. */
struct {
	__uint(type, XFSM_FLOWS_TYPE);
	__uint(max_entries, XFSM_DEFAULT_FLOWS);
	__type(key, struct xfsm_flow_key_n);
	__type(value, flow_value);
} xfsm_flows_n SEC(".maps");

/* The medium stages' flows (XFSM_SF_MEDIUM): a 24-byte key, a 5-tuple's. */
struct {
	__uint(type, XFSM_FLOWS_TYPE);
	__uint(max_entries, XFSM_DEFAULT_FLOWS);
	__type(key, struct xfsm_flow_key_m);
	__type(value, flow_value);
} xfsm_flows_m SEC(".maps");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_globals);
} xfsm_globals SEC(".maps");

/* The statistics block (native) or the datapath-wide counters alone and
 * the stages' in xfsm_stg_stats (offload): see XFSM_MAP_STATS in abi.h,
 * and stage_stats() and port_stats() below. */
struct {
	__uint(type, XFSM_STATS_TYPE);
	__uint(max_entries, 1);
	__type(key, __u32);
#ifdef XFSM_OFFLOAD
	__type(value, struct xfsm_stats);
#else
	__type(value, struct xfsm_stats_block);
#endif
} xfsm_stats SEC(".maps");

#ifdef XFSM_OFFLOAD
struct {
	__uint(type, XFSM_STATS_TYPE);
	__uint(max_entries, XFSM_STAGE_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_stage_stats);
} xfsm_stg_stats SEC(".maps");
#endif

/* The stage statistics' baselines: user space only (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_STAGE_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_stage_stats);
} xfsm_stg_base SEC(".maps");

#ifndef XFSM_OFFLOAD
/* The count groups' baselines and folds: user space only (abi.h); the
 * offload profile has no statistics block, so no groups.  xfsm_cg_fold
 * grows with xfsm_rule_stats (the loader sizes both). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_APP_SLOTS * XFSM_COUNT_GROUPS);
	__type(key, __u32);
	__type(value, struct xfsm_count_group);
} xfsm_cg_base SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XFSM_CG_FOLD_ENTRIES(XFSM_APP_SLOTS * XFSM_DEFAULT_RULES));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xfsm_cg_fold_key);
	__type(value, struct xfsm_cg_fold);
} xfsm_cg_fold SEC(".maps");
#endif

struct {
	__uint(type, XFSM_STATS_TYPE);
	__uint(max_entries, XFSM_APP_SLOTS * XFSM_DEFAULT_RULES);
	__type(key, __u32);
	__type(value, struct xfsm_rule_stats);
} xfsm_rule_stats SEC(".maps");

struct {
	__uint(type, XFSM_STATS_TYPE);
	__uint(max_entries, XFSM_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_counter);
} xfsm_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XFSM_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xfsm_port);
} xfsm_ports SEC(".maps");

#ifndef XFSM_OFFLOAD
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XFSM_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} xfsm_tx_ports SEC(".maps");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_APP_SLOTS);
	__type(key, __u32);
	__type(value, struct xfsm_appsrc);
} xfsm_appsrc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_FLOW_LOCKS);
	__type(key, __u32);
	__type(value, struct xfsm_lock);
} xfsm_locks SEC(".maps");

/* A never-written zero flow: the value new flows are inserted with. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, flow_value);
} xfsm_zero SEC(".maps");

#ifndef XFSM_OFFLOAD
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xfsm_work);
} xfsm_work SEC(".maps");
#endif

/* Statistics identities: written and read by user space only (the
 * offload profile may not leave a map unallocated). */
struct xfsm_ids_chunk {
	__u8	b[XFSM_IDS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
#ifdef XFSM_OFFLOAD
	__uint(max_entries, XFSM_IDS_CHUNKS_OFFLOAD);
#else
	__uint(max_entries, XFSM_IDS_CHUNKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
#endif
	__type(key, struct xfsm_ids_key);
	__type(value, struct xfsm_ids_chunk);
} xfsm_ids SEC(".maps");

#ifndef XFSM_OFFLOAD
/* Changes whenever xfsm_ports does (see abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xfsm_port_gen SEC(".maps");

/* Specialized programs by application slot, and the generic program
 * (include/xfsm/abi.h, XFSM_MAP_PROGS). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XFSM_PROGS_N);
	__type(key, __u32);
	__type(value, __u32);
} xfsm_progs SEC(".maps");

/* Flow events (bpf/events.h), read by xfsmctl monitor. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XFSM_EVENTS_RING);
} xfsm_events SEC(".maps");

/* ACL module (bpf/acl.h): each table's regions (user space only: the
 * application slot names the buffer packets use), set descriptors, rules
 * and tree nodes (every table's region; sized by xfsm-loader
 * --acl-rules/--acl-nodes, mapped into memory by the writer), statistics. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_ACL_TABLES);
	__type(key, __u32);
	__type(value, struct xfsm_acl_ctl);
} xfsm_acl_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_ACL_TABLES * 2);
	__type(key, __u32);
	__type(value, struct xfsm_acl_set);
} xfsm_acl_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_ACL_TABLES * 2 * XFSM_ACL_DEF_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xfsm_acl_entry);
} xfsm_acl_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_ACL_TABLES * 2 * XFSM_ACL_DEF_RULES * XFSM_ACL_DEF_NODES_PER_RULE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xfsm_acl_node);
} xfsm_acl_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFSM_ACL_TABLES);
	__type(key, __u32);
	__type(value, struct xfsm_acl_stats);
} xfsm_acl_stats SEC(".maps");

/* AF_XDP sockets of process ports, by receive queue. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XFSM_MAX_XSK_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xfsm_xsks SEC(".maps");

/* Output groups (bpf/group.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XFSM_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct xfsm_group);
} xfsm_groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFSM_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct xfsm_group_stats);
} xfsm_grp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XFSM_MAX_GROUPS);
	__type(key, __u32);
	__type(value, __u32);
} xfsm_grp_rr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xfsm_group_flow_key);
	__type(value, __u32);
} xfsm_grp_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XFSM_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} xfsm_port_flags SEC(".maps");
#endif

/*
 * Linux 6.1's verifier refuses map keys that point into a global function's
 * pointer argument.  In the native profile the working set is the per-CPU
 * xfsm_work value, so a global function that uses keys inside it takes the
 * same memory from the map again (an inlined array lookup).  The empty asm
 * keeps the argument alive for the compiler.  The offload profile, whose
 * working set is on the stack, needs a newer kernel (docs/testing.md).
 */
#ifdef XFSM_OFFLOAD
#define XFSM_WORK_REFRESH(w)	do { } while (0)
#else
#define XFSM_WORK_REFRESH(w)						\
	do {								\
		__u32 __zero = 0;					\
									\
		asm volatile("" : : "r"(w));				\
		(w) = bpf_map_lookup_elem(&xfsm_work, &__zero);		\
	} while (0)
#endif

_Static_assert(XFSM_STAGE_STATS_SLOTS == 16 && XFSM_MAX_PORTS == 256,
	       "the masks in stage_stats() and port_stats()");

/* Stage statistics entry `id` (struct xfsm_stage.stats_id), given `s`,
 * this CPU's xfsm_stats value, already tested for NULL; NULL for an index
 * out of range. */
static __always_inline struct xfsm_stage_stats *stage_stats(struct xfsm_stats *s, __u32 id)
{
#ifdef XFSM_OFFLOAD
	return bpf_map_lookup_elem(&xfsm_stg_stats, &id);
#else
	struct xfsm_stats_block *b = (struct xfsm_stats_block *)s;

	if (id >= XFSM_STAGE_STATS_SLOTS)
		return NULL;
	/* Bounded again where the address is taken: clang may test one copy
	 * of id and index with another (spilled before the test), whose
	 * bound 6.1's verifier does not know.  And the address is taken
	 * here, not hoisted above the caller's NULL test: 6.1's verifier
	 * refuses arithmetic on a maybe-NULL pointer. */
	asm volatile("%0 &= 15" : "+r"(id));
	asm volatile("" : "+r"(b));
	return &b->stage[id];
#endif
}

#ifndef XFSM_OFFLOAD
/* Port `port`'s counters in the block, likewise (NULL out of range). */
static __always_inline struct xfsm_port_stats *port_stats(struct xfsm_stats *s, __u32 port)
{
	struct xfsm_stats_block *b = (struct xfsm_stats_block *)s;

	if (port >= XFSM_MAX_PORTS)
		return NULL;
	asm volatile("%0 &= 255" : "+r"(port));	/* as in stage_stats() */
	asm volatile("" : "+r"(b));
	return &b->port[port];
}
#endif

#endif /* XFSM_BPF_MAPS_H */
