/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsm ABI: the one definition of every structure, enum, limit and map name
 * shared by the XDP datapath (bpf/) and user space (lib/, loader/, ctl/).
 *
 * Any change to a layout below must bump XFSM_ABI_VERSION; the
 * _Static_asserts at the end make an accidental change break the build
 * instead of a running switch.
 */
#ifndef XFSM_ABI_H
#define XFSM_ABI_H

#include <linux/types.h>
#include <linux/bpf.h>	/* struct bpf_spin_lock */

#define XFSM_ABI_VERSION	14	/* 2: fast paths (scan lists, atomic adds);
				 * 3: ACL cut trees, per-table regions;
				 * 4: one application switch (stage rule
				 * buffers, ACL and group buffers named by
				 * the slot), statistics by named object;
				 * 5: table-full action, set ip.ttl, NAT,
				 *    VLAN push and pop, ARP reply, action
				 *    counters in xfsm_stats;
				 * 6: output fib and its counters, fetch-add
				 *    updates, group members' MACs; field
				 *    vector of 50 words (ip6.nexthdr,
				 *    ip.len, ip.id, tcp.seq/ack/win), IPv6
				 *    NAT; xfsm_ctl.observe, trace and capture
				 *    records (xfsm_obs_*); flow events
				 *    (xfsm_events), events_lost;
				 * 7: specialized programs (xfsm_progs, the
				 *    bail word, struct xfsm_port_cache);
				 * 8: compare-and-swap chains (XFSM_RF_FLOW_CAS,
				 *    XFSM_FF_CAS_SLOW, the cas_exhausted
				 *    exception in xfsm_stats);
				 * 9: the narrow flow table (xfsm_flows_n,
				 *    struct xfsm_flow_key_n, XFSM_SF_NARROW,
				 *    XFSM_TSF_NARROW);
				 * 10: the narrow key is 2 words (12 bytes,
				 *    XFSM_NARROW_KEY_WORDS): jhash2 mixes
				 *    once more for 4 words than for 3;
				 * 11: the medium flow table (xfsm_flows_m,
				 *    struct xfsm_flow_key_m of 5 words,
				 *    XFSM_MEDIUM_KEY_WORDS, XFSM_SF_MEDIUM,
				 *    XFSM_TSF_MEDIUM): a 5-tuple's key;
				 * 12: the statistics block (native):
				 *    xfsm_stats holds struct
				 *    xfsm_stats_block (the datapath's, the
				 *    stages' and the ports' counters in one
				 *    per-CPU value); xfsm_stg_stats and
				 *    xfsm_port_stats are gone from the
				 *    native profile; xfsm_stg_base;
				 * 13: count groups (struct
				 *    xfsm_count_group in the block): a
				 *    specialized program counts a set of
				 *    counters as one packets/bytes pair;
				 *    xfsm_cg_base, xfsm_cg_fold and the
				 *    slots' member tables in xfsm_ids;
				 * 14: compact flow values (struct
				 *    xfsm_flow_head, the first 32 bytes of
				 *    a reordered struct xfsm_flow),
				 *    xfsm_build_info.compact_flows */

/* ---- Limits ------------------------------------------------------------ */

#define XFSM_MAX_STAGES		8	/* stateful stages per pipeline */
#define XFSM_KEY_WORDS		11	/* 32-bit words in a flow key */
#define XFSM_NARROW_KEY_WORDS	2	/* ... in a narrow table's key */
#define XFSM_MEDIUM_KEY_WORDS	5	/* ... in a medium table's key */
#define XFSM_MATCH_WORDS	8	/* 32-bit words a rule can match on */
#define XFSM_MAX_CONDS		16	/* conditions per stage */
#define XFSM_MAX_TUPLES		16	/* distinct rule masks per stage */
#define XFSM_MAX_UPDATES	4	/* register updates per rule */
#define XFSM_MAX_ACTIONS	6	/* actions per rule */
#define XFSM_FLOW_REGS		4	/* 64-bit registers per flow */
#define XFSM_GLOBAL_REGS	8	/* 64-bit global registers per instance */
#define XFSM_MAX_COUNTERS	64	/* user counters of one application */
#define XFSM_MAX_PORTS		256	/* port numbers 1..255; 0 is "no port" */
#define XFSM_APP_SLOTS		2	/* double-buffered applications */
#define XFSM_FLOW_LOCKS		1024	/* striped locks for flow updates */
#define XFSM_APPSRC_SIZE	65536	/* bytes of application source kept */
#define XFSM_EWMA_MAX_SHIFT	63

/* Load-time sizing defaults (the loader may override them, up to the
 * bounds after them: xfsm_obj_size_maps() refuses more). */
#define XFSM_DEFAULT_FLOWS	65536	/* entries of each flow table */
#define XFSM_DEFAULT_RULES	65536	/* XFSM rules per application slot */
#define XFSM_MAX_FLOWS		(1U << 28)	/* entries of a flow table, at most */
#define XFSM_MAX_RULES		(1U << 24)	/* rules per application slot, at most */

/* Offload profile: the same ABI, but the offloaded program walks fewer
 * entries so that it stays inside what SmartNIC JITs accept. */
#define XFSM_OFFLOAD_MAX_STAGES	4
#define XFSM_OFFLOAD_MAX_TUPLES	4

/* ---- Map names (kernel map names are at most 15 characters) ---------- */

#define XFSM_MAP_CTL		"xfsm_ctl"	  /* ARRAY[1] struct xfsm_ctl */
#define XFSM_MAP_APPS		"xfsm_apps"	  /* ARRAY[2] struct xfsm_app */
#define XFSM_MAP_RULES		"xfsm_rules"	  /* HASH rule_key -> rule */
#define XFSM_MAP_FLOWS		"xfsm_flows"	  /* (LRU_)HASH flow_key -> flow */
/* The flows of the stages marked XFSM_SF_NARROW and XFSM_SF_MEDIUM
 * (native profile only: the offload profile keeps every flow in xfsm_flows). */
#define XFSM_MAP_FLOWS_N	"xfsm_flows_n"	  /* (LRU_)HASH flow_key_n -> flow */
#define XFSM_MAP_FLOWS_M	"xfsm_flows_m"	  /* (LRU_)HASH flow_key_m -> flow */
#define XFSM_MAP_GLOBALS	"xfsm_globals"	  /* ARRAY[1] struct xfsm_globals */
/* The statistics a packet writes, but the rules': in the native profile
 * xfsm_stats[0] is the statistics block (struct xfsm_stats_block below:
 * the datapath-wide counters, then the stages' by stats_id, then the
 * ports'), one per-CPU value, so that a packet looks up one map and
 * touches one value; the offload profile keeps the datapath-wide counters
 * alone in xfsm_stats and the stages' in xfsm_stg_stats (and has no port
 * counters).  libxfsm tells the layouts apart by xfsm_stg_stats, in one
 * place (xfsm_stats_where(), lib/stats.c). */
#define XFSM_MAP_STATS		"xfsm_stats"	  /* PERCPU_ARRAY[1] xfsm_stats_block (native),
						   * ARRAY[1] xfsm_stats (offload) */
#define XFSM_MAP_STAGE_STATS	"xfsm_stg_stats"  /* ARRAY[16] by stats_id (offload only) */
/* The stage statistics' baselines (user space only: no program writes or
 * reads it; a map so that every tool sees it): entry i is what stage
 * statistics entry i had counted when an application switch gave it to a
 * new stage, which readers subtract.  User space never writes the
 * statistics block while packets may increment it: a per-CPU value is
 * written whole, and would lose the increments of its other counters. */
#define XFSM_MAP_STAGE_BASE	"xfsm_stg_base"	  /* ARRAY[16] xfsm_stage_stats */
/* Count groups' bookkeeping (native profile, user space only, like
 * xfsm_stg_base; see "Count groups" below): each pair's baseline, by
 * slot * XFSM_COUNT_GROUPS + group, and the counts folded into counters
 * when a slot's program and its groups were replaced, by counter. */
#define XFSM_MAP_CG_BASE	"xfsm_cg_base"	  /* ARRAY[2*256] xfsm_count_group */
#define XFSM_MAP_CG_FOLD	"xfsm_cg_fold"	  /* HASH xfsm_cg_fold_key -> xfsm_cg_fold */
#define XFSM_MAP_RULE_STATS	"xfsm_rule_stats" /* (PERCPU_)ARRAY[2*rules] by rule_id */
#define XFSM_MAP_COUNTERS	"xfsm_counters"	  /* (PERCPU_)ARRAY[128] xfsm_counter */
#define XFSM_MAP_PORTS		"xfsm_ports"	  /* HASH ifindex -> xfsm_port */
#define XFSM_MAP_TX_PORTS	"xfsm_tx_ports"	  /* DEVMAP_HASH port -> ifindex */
#define XFSM_MAP_APPSRC		"xfsm_appsrc"	  /* ARRAY[2] application source */
#define XFSM_MAP_LOCKS		"xfsm_locks"	  /* ARRAY[1024] striped flow locks */
#define XFSM_MAP_ZERO		"xfsm_zero"	  /* ARRAY[1] zero flow for inserts */
#define XFSM_MAP_WORK		"xfsm_work"	  /* PERCPU_ARRAY[1] packet scratch (native) */
#define XFSM_MAP_IDS		"xfsm_ids"	  /* HASH xfsm_ids_key -> chunk (user space) */
/* The datapath keeps the last ingress port it looked up per CPU (native
 * profile): whoever changes xfsm_ports then writes a new value into
 * xfsm_port_gen[0] (libxfsm: xfsm_ports_changed(), the monotonic clock in
 * ns, so a value never comes back), which makes every CPU look again. */
#define XFSM_MAP_PORT_GEN	"xfsm_port_gen"	  /* ARRAY[1] __u64 (native) */
/* Flow events for xfsmctl monitor (native): written only while
 * xfsm_ctl.observe has XFSM_OBS_EVENTS (see "Flow events" below). */
#define XFSM_MAP_EVENTS		"xfsm_events"	  /* RINGBUF of struct xfsm_event */

/* Specialized programs (native profile; lib/xfsm_spec.h,
 * docs/specializer.md): entry s (0, 1) holds the program generated for
 * application slot s, empty while the generic datapath runs that slot;
 * entry XFSM_PROGS_GENERIC holds the generic program itself, which a
 * specialized program tail-calls for a packet it does not handle. */
#define XFSM_MAP_PROGS		"xfsm_progs"	  /* PROG_ARRAY[3] */
#define XFSM_PROGS_GENERIC	2
#define XFSM_PROGS_N		3
/* The expected attach type of every program that calls through
 * xfsm_progs or enters it: none (0), as libxdp's dispatcher loads its
 * copy of the datapath (an extension program has none).  The kernel
 * takes a tail call only between programs alike in it, on stable kernels
 * since 2025 (libbpf would give SEC("xdp") BPF_XDP). */
#define XFSM_PROGS_ATTACH_TYPE	0

/* The datapath exposes its ABI through this read-only global. */
#define XFSM_BUILD_INFO_SYM	"xfsm_build_info"
#define XFSM_PROG_NAME		"xfsm_xdp"
#define XFSM_PROG_SEC		"xdp"

/* ---- Field vector ------------------------------------------------------- */
/*
 * The parser turns every packet into a vector of 32-bit words; keys,
 * conditions and rule matches refer to fields by word index, so the
 * datapath never needs to know field names.  Numbers are held in host
 * byte order; a MAC address takes two words (high 16 bits, low 32 bits),
 * an IPv6 address four (most significant word first).  A field absent
 * from the packet reads as zero.
 */
enum xfsm_fv_word {
	XFSM_FW_META_PORT = 0,	/* ingress port number (0: unknown port) */
	XFSM_FW_META_LEN,	/* frame length in bytes */
	XFSM_FW_META_MARK,	/* mark set by an earlier module */
	XFSM_FW_PKT_FLAGS,	/* XFSM_PF_* */
	XFSM_FW_ETH_DST_HI,
	XFSM_FW_ETH_DST_LO,
	XFSM_FW_ETH_SRC_HI,
	XFSM_FW_ETH_SRC_LO,
	XFSM_FW_ETH_TYPE,	/* ethertype after any VLAN tags */
	XFSM_FW_VLAN_ID,	/* outer VLAN id */
	XFSM_FW_VLAN_INNER,	/* inner VLAN id (QinQ) */
	XFSM_FW_VLAN_PCP,	/* outer priority code point */
	XFSM_FW_IP_PROTO,	/* IPv4 protocol / IPv6 upper-layer header */
	XFSM_FW_IP_DSCP,
	XFSM_FW_IP_ECN,
	XFSM_FW_IP_TTL,		/* TTL or hop limit */
	XFSM_FW_IP_FRAG,	/* XFSM_FRAG_* */
	XFSM_FW_IP4_SRC,
	XFSM_FW_IP4_DST,
	XFSM_FW_IP6_SRC,	/* 4 words */
	XFSM_FW_IP6_DST = XFSM_FW_IP6_SRC + 4,	/* 4 words */
	XFSM_FW_IP6_FLOW = XFSM_FW_IP6_DST + 4,
	XFSM_FW_L4_SPORT,	/* TCP, UDP source port */
	XFSM_FW_L4_DPORT,
	XFSM_FW_TCP_SPORT,	/* set only for TCP */
	XFSM_FW_TCP_DPORT,
	XFSM_FW_TCP_FLAGS,
	XFSM_FW_UDP_SPORT,	/* set only for UDP */
	XFSM_FW_UDP_DPORT,
	XFSM_FW_ICMP_TYPE,	/* ICMPv4 */
	XFSM_FW_ICMP_CODE,
	XFSM_FW_ICMP6_TYPE,
	XFSM_FW_ICMP6_CODE,
	XFSM_FW_ARP_OP,
	XFSM_FW_ARP_SPA,
	XFSM_FW_ARP_TPA,
	XFSM_FW_IP6_NEXTHDR,	/* next header of the IPv6 header itself */
	XFSM_FW_ZERO = 43,	/* always zero: pads unused key/match words */
	/* The offload profile keeps the words below XFSM_OFFLOAD_FV_WORDS
	 * only (its working set sits on a stack that has no room left);
	 * libxfsm refuses there an application that reads the ones after. */
	XFSM_FW_IP_LEN = 44,	/* IPv4 total length, IPv6 40 + payload length */
	XFSM_FW_IP_ID,		/* IPv4 identification */
	XFSM_FW_TCP_SEQ,	/* set only for TCP */
	XFSM_FW_TCP_ACK,
	XFSM_FW_TCP_WIN,
	XFSM_FW_NWORDS_USED,
	XFSM_FV_WORDS = 50,
};
#define XFSM_OFFLOAD_FV_WORDS	(XFSM_FW_ZERO + 1)

/* XFSM_FW_PKT_FLAGS bits */
#define XFSM_PF_VLAN		(1U << 0)
#define XFSM_PF_QINQ		(1U << 1)
#define XFSM_PF_ARP		(1U << 2)
#define XFSM_PF_IPV4		(1U << 3)
#define XFSM_PF_IPV6		(1U << 4)
#define XFSM_PF_FRAG		(1U << 5)	/* any fragment */
#define XFSM_PF_FRAG_LATER	(1U << 6)	/* non-first fragment: no L4 */
#define XFSM_PF_L4		(1U << 7)	/* L4 fields are valid */
#define XFSM_PF_TCP		(1U << 8)
#define XFSM_PF_UDP		(1U << 9)
#define XFSM_PF_ICMP		(1U << 10)
#define XFSM_PF_ICMP6		(1U << 11)
#define XFSM_PF_IP_OPTIONS	(1U << 12)
#define XFSM_PF_IP6_EXT		(1U << 13)

/* XFSM_FW_IP_FRAG bits */
#define XFSM_FRAG_IS		(1U << 0)
#define XFSM_FRAG_FIRST		(1U << 1)
#define XFSM_FRAG_MORE		(1U << 2)

/* IPv6 extension headers walked before giving up (counted as malformed). */
#define XFSM_MAX_IP6_EXT	6

/*
 * Field descriptors: name, first word, word count, width in bits.
 * User space builds its field table from this list; the datapath does not
 * need it.  Order is irrelevant.
 */
#define XFSM_FIELD_LIST(X)						\
	X("meta.port",	XFSM_FW_META_PORT,	1, 32)			\
	X("meta.len",	XFSM_FW_META_LEN,	1, 32)			\
	X("meta.mark",	XFSM_FW_META_MARK,	1, 32)			\
	X("meta.flags",	XFSM_FW_PKT_FLAGS,	1, 32)			\
	X("eth.dst",	XFSM_FW_ETH_DST_HI,	2, 48)			\
	X("eth.src",	XFSM_FW_ETH_SRC_HI,	2, 48)			\
	X("eth.type",	XFSM_FW_ETH_TYPE,	1, 16)			\
	X("vlan.id",	XFSM_FW_VLAN_ID,	1, 12)			\
	X("vlan.inner",	XFSM_FW_VLAN_INNER,	1, 12)			\
	X("vlan.pcp",	XFSM_FW_VLAN_PCP,	1, 3)			\
	X("ip.proto",	XFSM_FW_IP_PROTO,	1, 8)			\
	X("ip.dscp",	XFSM_FW_IP_DSCP,	1, 6)			\
	X("ip.ecn",	XFSM_FW_IP_ECN,		1, 2)			\
	X("ip.ttl",	XFSM_FW_IP_TTL,		1, 8)			\
	X("ip.frag",	XFSM_FW_IP_FRAG,	1, 3)			\
	X("ip.len",	XFSM_FW_IP_LEN,		1, 16)			\
	X("ip.id",	XFSM_FW_IP_ID,		1, 16)			\
	X("ip.src",	XFSM_FW_IP4_SRC,	1, 32)			\
	X("ip.dst",	XFSM_FW_IP4_DST,	1, 32)			\
	X("ip6.src",	XFSM_FW_IP6_SRC,	4, 128)			\
	X("ip6.dst",	XFSM_FW_IP6_DST,	4, 128)			\
	X("ip6.flow",	XFSM_FW_IP6_FLOW,	1, 20)			\
	X("ip6.nexthdr", XFSM_FW_IP6_NEXTHDR,	1, 8)			\
	X("l4.sport",	XFSM_FW_L4_SPORT,	1, 16)			\
	X("l4.dport",	XFSM_FW_L4_DPORT,	1, 16)			\
	X("tcp.sport",	XFSM_FW_TCP_SPORT,	1, 16)			\
	X("tcp.dport",	XFSM_FW_TCP_DPORT,	1, 16)			\
	X("tcp.flags",	XFSM_FW_TCP_FLAGS,	1, 8)			\
	X("tcp.seq",	XFSM_FW_TCP_SEQ,	1, 32)			\
	X("tcp.ack",	XFSM_FW_TCP_ACK,	1, 32)			\
	X("tcp.win",	XFSM_FW_TCP_WIN,	1, 16)			\
	X("udp.sport",	XFSM_FW_UDP_SPORT,	1, 16)			\
	X("udp.dport",	XFSM_FW_UDP_DPORT,	1, 16)			\
	X("icmp.type",	XFSM_FW_ICMP_TYPE,	1, 8)			\
	X("icmp.code",	XFSM_FW_ICMP_CODE,	1, 8)			\
	X("icmp6.type",	XFSM_FW_ICMP6_TYPE,	1, 8)			\
	X("icmp6.code",	XFSM_FW_ICMP6_CODE,	1, 8)			\
	X("arp.op",	XFSM_FW_ARP_OP,		1, 16)			\
	X("arp.spa",	XFSM_FW_ARP_SPA,	1, 32)			\
	X("arp.tpa",	XFSM_FW_ARP_TPA,	1, 32)

/* ---- Operands, conditions, updates, actions ----------------------------- */

enum xfsm_opnd_kind {
	XFSM_OPND_NONE = 0,	/* reads as 0 */
	XFSM_OPND_CONST,	/* value */
	XFSM_OPND_FIELD,	/* field vector word `index` (width 1 or 2 words) */
	XFSM_OPND_FLOW_REG,	/* flow register `index` */
	XFSM_OPND_GLOBAL_REG,	/* global register `index` */
	XFSM_OPND_META,		/* enum xfsm_meta `index` */
	XFSM_OPND_STATE,	/* the flow's current state */
	XFSM_OPND__MAX,
};

enum xfsm_meta {
	XFSM_META_LEN = 0,	/* frame length */
	XFSM_META_PORT,		/* ingress port number */
	XFSM_META_TIME,		/* arrival time, ns (monotonic clock) */
	XFSM_META_IFINDEX,	/* ingress ifindex */
	XFSM_META_RANDOM,	/* a 32-bit random number, one per packet */
	XFSM_META__MAX,
};

struct xfsm_operand {
	__u8	kind;		/* enum xfsm_opnd_kind */
	__u8	index;
	__u8	width;		/* FIELD: 1 or 2 words (2: w[i] << 32 | w[i+1]) */
	__u8	pad[5];
	__u64	value;		/* CONST */
};

enum xfsm_cmp {
	XFSM_CMP_NONE = 0,	/* always false: an unused slot */
	XFSM_CMP_LT,
	XFSM_CMP_LE,
	XFSM_CMP_GT,
	XFSM_CMP_GE,
	XFSM_CMP_EQ,
	XFSM_CMP_NE,
	XFSM_CMP__MAX,
};

/* Condition i is bit i of the condition vector: a OP b, unsigned 64-bit. */
struct xfsm_cond {
	__u8	op;		/* enum xfsm_cmp */
	__u8	pad[7];
	struct xfsm_operand a;
	struct xfsm_operand b;
};

enum xfsm_upd_op {
	XFSM_UPD_NONE = 0,
	XFSM_UPD_SET,		/* dst = a */
	XFSM_UPD_ADD,		/* dst = a + b */
	XFSM_UPD_SUB,		/* dst = a - b */
	XFSM_UPD_MUL,
	XFSM_UPD_DIV,		/* b == 0: dst = 0, counted */
	XFSM_UPD_MOD,		/* b == 0: dst = 0, counted */
	XFSM_UPD_MIN,
	XFSM_UPD_MAX,
	XFSM_UPD_AND,
	XFSM_UPD_OR,
	XFSM_UPD_XOR,
	XFSM_UPD_SHL,		/* shift counts are taken modulo 64 */
	XFSM_UPD_SHR,
	XFSM_UPD_EWMA,		/* dst = a - (a >> shift) + (b >> shift) */
	XFSM_UPD_FETCH_ADD,	/* flow dst = global a, then global a += b, as
				 * one atomic fetch-and-add on the global */
	XFSM_UPD__MAX,
};

/* xfsm_update.flags: set by libxfsm when it applies an application
 * (xfsm_image_plan()), never by hand; xfsm_read_app() clears them. */
#define XFSM_UF_ADD		(1U << 0)	/* dst += (or -=) the other operand as
						 * one atomic add: every write of dst in
						 * its scope is such an add, and a rule
						 * without the lock makes one */

struct xfsm_update {
	__u8	op;		/* enum xfsm_upd_op */
	__u8	dst_kind;	/* XFSM_OPND_FLOW_REG or XFSM_OPND_GLOBAL_REG */
	__u8	dst_index;
	__u8	shift;		/* EWMA weight 2^-shift */
	__u8	flags;		/* XFSM_UF_* */
	__u8	pad[3];
	struct xfsm_operand a;
	struct xfsm_operand b;
};

enum xfsm_act_type {
	XFSM_ACT_NONE = 0,
	XFSM_ACT_DROP,		/* verdict */
	XFSM_ACT_PASS,		/* verdict: to the kernel stack */
	XFSM_ACT_TX,		/* verdict: back out of the ingress interface */
	XFSM_ACT_OUTPUT,	/* verdict: redirect to port `opnd` */
	XFSM_ACT_FLOOD,		/* verdict: every port but the ingress one */
	XFSM_ACT_GOTO,		/* continue at stage `arg` (> current) */
	XFSM_ACT_SET_ETH_SRC,	/* eth.src = opnd (48 bits) */
	XFSM_ACT_SET_ETH_DST,
	XFSM_ACT_SET_DSCP,	/* IPv4 checksum updated */
	XFSM_ACT_SET_ECN,
	XFSM_ACT_DEC_TTL,	/* TTL/hop limit - 1; <= 1 goes to the stack */
	XFSM_ACT_COUNT,		/* user counter `arg` += 1 packet */
	XFSM_ACT_SET_MARK,	/* meta.mark = opnd */
	XFSM_ACT_OUTPUT_GROUP,	/* verdict: redirect to a member of group `arg` */
	XFSM_ACT_OUTPUT_XSK,	/* verdict: to the AF_XDP socket of the rx queue */
	XFSM_ACT_SET_TTL,	/* TTL / hop limit = opnd (IPv4 checksum updated) */
	/* NAT: the IPv4 header checksum and the TCP/UDP checksum updated */
	XFSM_ACT_SET_IP_SRC,	/* IPv4 source address = opnd */
	XFSM_ACT_SET_IP_DST,
	XFSM_ACT_SET_L4_SPORT,	/* TCP/UDP source port = opnd (IPv4, IPv6) */
	XFSM_ACT_SET_L4_DPORT,
	XFSM_ACT_VLAN_PUSH,	/* an outer 802.1Q tag, VLAN id opnd, in front */
	XFSM_ACT_VLAN_POP,	/* the outer tag off */
	XFSM_ACT_ARP_REPLY,	/* verdict: an ARP request turned into its reply,
				 * sender MAC opnd, sent back (XDP_TX) */
	XFSM_ACT_OUTPUT_FIB,	/* verdict: forward by the kernel's routing and
				 * neighbour tables (bpf_fib_lookup); see
				 * XFSM_FIB_COUNTERS for the outcomes */
	/* IPv6 NAT: 64 bits of the address = opnd, arg 0 the upper half, 1
	 * the lower (a whole address is two actions); the TCP, UDP or
	 * ICMPv6 checksum updated (IPv6 has no header checksum) */
	XFSM_ACT_SET_IP6_SRC,
	XFSM_ACT_SET_IP6_DST,
	XFSM_ACT__MAX,
};

struct xfsm_action {
	__u8	type;		/* enum xfsm_act_type */
	__u8	pad;
	__u16	arg;
	__u8	pad2[4];
	struct xfsm_operand opnd;
};

/* ---- XFSM table --------------------------------------------------------- */

/* Verdicts, as configured for misses and malformed packets.  0 is pass so
 * that a zeroed control block means "pass". */
enum xfsm_verdict {
	XFSM_VERDICT_PASS = 0,
	XFSM_VERDICT_DROP,
	XFSM_VERDICT_TX,
	XFSM_VERDICT_CONTINUE,	/* stage miss only: go on to the next stage */
	XFSM_VERDICT__MAX,
};

#define XFSM_RF_SET_STATE	(1U << 0)	/* else the state is kept */
#define XFSM_RF_WRITES_FLOW	(1U << 1)	/* state or flow registers change */
#define XFSM_RF_WRITES_GLOBAL	(1U << 2)	/* a global register changes */
/* Set by libxfsm (xfsm_image_plan()) like XFSM_UF_ADD: the rule's flow
 * (global) writes are XFSM_UF_ADD updates and nothing else, so they need
 * no lock. */
#define XFSM_RF_FLOW_NOLOCK	(1U << 3)
#define XFSM_RF_GLOBAL_NOLOCK	(1U << 4)
/* Set by libxfsm too: the rule's flow writes are a chain of updates to one
 * flow register whose only register operand is that register (a "single-
 * register chain"), and every other write of the register in the stage is
 * such a chain or an addition: the chain runs as a compare-and-swap loop
 * without the lock (docs/datapath.md, "Concurrency"). */
#define XFSM_RF_FLOW_CAS	(1U << 5)
#define XFSM_RF_PLANNED		(XFSM_RF_FLOW_NOLOCK | XFSM_RF_GLOBAL_NOLOCK | XFSM_RF_FLOW_CAS)

/*
 * The compare-and-swap loop of an XFSM_RF_FLOW_CAS rule: up to
 * XFSM_CAS_FAST_TRIES attempts without the lock while no other writer of
 * the flow is on the slow path, then the slow path: the flow's
 * XFSM_FF_CAS_SLOW count raised, its striped lock taken (which orders slow
 * writers and locked transactions), up to XFSM_CAS_SLOW_TRIES attempts.
 * A slow attempt fails only when a fast writer that started before the
 * count rose succeeds, at most one per other CPU: libxfsm plans the form
 * only where the possible CPUs are fewer than XFSM_CAS_SLOW_TRIES, so the
 * slow path cannot run out (it would count exc_cas_exhausted).
 */
#define XFSM_CAS_FAST_TRIES	4
#define XFSM_CAS_SLOW_TRIES	64

/*
 * In an image (lib/) rule_id is the rule's id there (0..max_rules-1).  In
 * the rule table it is the rule's statistics index (0..2*max_rules-1, the
 * datapath counts xfsm_rule_stats[rule_id]), given by libxfsm to the named
 * rule and kept across applications; image_id then holds the image's id
 * (user space reads the application back with it; 0 in images).
 */
struct xfsm_rule {
	__u32	rule_id;	/* image: rule id; table: statistics index */
	__u32	priority;	/* larger wins */
	__u32	flags;		/* XFSM_RF_* */
	__u32	next_state;
	__u32	idle_timeout_ms;	/* 0: none */
	__u32	idle_rollback;
	__u32	hard_timeout_ms;	/* 0: none */
	__u32	hard_rollback;
	struct xfsm_update upd[XFSM_MAX_UPDATES];
	struct xfsm_action act[XFSM_MAX_ACTIONS];
	__u32	image_id;	/* table: the rule's id in the image applied */
	__u32	pad;
};

/* Rules of one tuple (one mask) share a hash map keyed by the masked
 * (state, condition vector, match words).  Each stage's rules exist in two
 * buffers; the stage descriptor names the one packets use (rule_buf). */
struct xfsm_rule_key {
	__u8	slot;		/* rule buffer 0/1 (struct xfsm_stage.rule_buf) */
	__u8	stage;
	__u16	tuple;
	__u32	state;
	__u32	conds;
	__u32	match[XFSM_MATCH_WORDS];
};

struct xfsm_tuple {
	__u32	state_mask;
	__u32	cond_mask;
	__u32	match_mask[XFSM_MATCH_WORDS];
	__u32	max_priority;	/* highest priority of a rule in the tuple */
	__u32	pad;
};

/* ---- Stages and applications -------------------------------------------- */

#define XFSM_SF_SYMMETRIC	(1U << 0)	/* bi-flow keys */
#define XFSM_SF_SAME_KEYS	(1U << 1)	/* lookup key == update key */
/* Set by libxfsm (xfsm_plan_app()), cleared by xfsm_read_app(): nothing in
 * the stage reads the lookup-scope flow (no rule matches on the state, no
 * condition or action reads it, no transition sets a timeout to enforce),
 * so the datapath does not look it up. */
#define XFSM_SF_NO_LOOKUP	(1U << 2)
/* Set by libxfsm (xfsm_plan_app()), cleared by xfsm_read_app(): the
 * stage's four key lists (lookup and update, both directions) use only
 * their first XFSM_NARROW_KEY_WORDS words, so its flows live in the narrow
 * table xfsm_flows_n under the key's first 12 bytes (struct
 * xfsm_flow_key_n; the wide key's other words are then 0).  A flow a rule
 * creates under the update key is found by the lookup key: both keys of a
 * stage live in one table.  The offload profile ignores the flag. */
#define XFSM_SF_NARROW		(1U << 3)
/* Likewise for the first XFSM_MEDIUM_KEY_WORDS words (a stage that is not
 * narrow): its flows live in xfsm_flows_m under the key's first 24 bytes
 * (struct xfsm_flow_key_m).  The two flags are the stage's flow table
 * class, XFSM_SF_TABLE: at most one is set, neither means xfsm_flows. */
#define XFSM_SF_MEDIUM		(1U << 4)
#define XFSM_SF_TABLE		(XFSM_SF_NARROW | XFSM_SF_MEDIUM)

/* What a pipeline stage is (struct xfsm_stage.kind).  An ACL stage uses
 * only enabled, kind, miss_verdict (no rule matched: CONTINUE = allow) and
 * acl_table; its rules live in the ACL maps, not in the XFSM table. */
enum xfsm_stage_kind {
	XFSM_STAGE_XFSM = 0,	/* stateful stage (flow table + XFSM table) */
	XFSM_STAGE_ACL,		/* stateless ACL module: ACL table acl_table */
	XFSM_STAGE__MAX,
};

/*
 * What a stage does with a packet whose rule must write a flow that the
 * flow table cannot store (a plain hash table full; struct
 * xfsm_stage.full_action).  Either way the stage's table_full counter and
 * the flow_table_full exception count it.
 */
enum xfsm_full {
	XFSM_FULL_CONTINUE = 0,	/* the rule runs, its flow writes lost */
	XFSM_FULL_DROP,		/* drop the packet, nothing of the rule runs */
	XFSM_FULL_PASS,		/* to the kernel stack, nothing of the rule runs */
	XFSM_FULL__MAX,
};

struct xfsm_stage {
	__u8	enabled;
	__u8	flags;		/* XFSM_SF_* */
	__u8	n_conds;
	__u8	n_tuples;
	__u8	miss_verdict;	/* enum xfsm_verdict */
	__u8	kind;		/* enum xfsm_stage_kind (was padding: 0 = XFSM) */
	__u16	epoch;		/* part of the flow key; bumped when keys change */
	/* Word indexes into the field vector; XFSM_FW_ZERO pads.  The _rev
	 * lists are the same keys with source and destination swapped, used
	 * for symmetric stages: the smaller of the two keys is used. */
	__u8	lookup_words[XFSM_KEY_WORDS];
	__u8	lookup_rev[XFSM_KEY_WORDS];
	__u8	update_words[XFSM_KEY_WORDS];
	__u8	update_rev[XFSM_KEY_WORDS];
	__u8	match_words[XFSM_MATCH_WORDS];
	__u8	acl_table;	/* ACL stage: table 0..XFSM_ACL_TABLES-1 */
	__u8	stats_id;	/* stage statistics entry, kept for the named stage */
	__u8	rule_buf;	/* stateful stage: rule buffer (xfsm_rule_key.slot) */
	__u8	full_action;	/* enum xfsm_full (was padding: 0 = continue) */
	struct xfsm_cond conds[XFSM_MAX_CONDS];
	struct xfsm_tuple tuples[XFSM_MAX_TUPLES];
};

#define XFSM_AF_NEEDS_PORT	(1U << 0)	/* look up the ingress port */
#define XFSM_AF_NEEDS_RANDOM	(1U << 1)	/* draw meta.random */
#define XFSM_AF_NEEDS_TIME	(1U << 2)	/* meta.time is read: take the time
						 * at arrival (else only when a
						 * timeout or transition needs it) */

/*
 * A small stage is matched without hashing.  libxfsm copies its rules into
 * the application (xfsm_image_plan()), listed per state for the states
 * 0..XFSM_SCAN_STATES-1, each list in the order the tuple search ranks
 * them (priority, then tuple); the datapath takes the first rule of the
 * packet's state's list that matches.  Packets in other states and stages
 * that do not fit (more rules, longer lists) use the tuple search, which
 * holds every rule either way.
 */
#define XFSM_SCAN_RULES		16	/* rules of a scanned stage */
#define XFSM_SCAN_STATES	8	/* states 0..7 have a list */
#define XFSM_SCAN_LEN		8	/* rules in one state's list */

struct xfsm_scan_rule {
	__u32	conds;		/* masked, as in struct xfsm_rule_key */
	__u32	cond_mask;
	__u32	match[XFSM_MATCH_WORDS];
	__u32	match_mask[XFSM_MATCH_WORDS];
	struct xfsm_rule rule;	/* as in xfsm_rules: rule_id the statistics
				 * index, count actions the counters' */
};

struct xfsm_scan {
	__u8	enabled;	/* 0: the stage uses the tuple search */
	__u8	n_rules;
	__u8	len[XFSM_SCAN_STATES];		/* rules in each state's list */
	/* Match words at the end that no rule of the stage compares (their
	 * masks are zero in every rule): the scan does not read them.  0
	 * reads all, so a table planned without it matches the same. */
	__u8	idle_words;
	__u8	pad[5];
	__u8	list[XFSM_SCAN_STATES][XFSM_SCAN_LEN];	/* indexes into rules[] */
	struct xfsm_scan_rule rules[XFSM_SCAN_RULES];
};

/*
 * An application slot.  Everything a packet uses is named from here, so
 * that one update of xfsm_ctl.active switches all of it: the stages (and
 * through them their rule buffers and statistics), the buffer of every ACL
 * table, the buffer of every output group.  Writers fill the other slot
 * and the buffers it alone names, then flip (lib/apply.c).
 */
#define XFSM_STAGE_STATS_SLOTS	(2 * XFSM_MAX_STAGES)	/* stage statistics entries */
#define XFSM_COUNTER_SLOTS	(2 * XFSM_MAX_COUNTERS)	/* xfsm_counters entries */

struct xfsm_app {
	__u32	n_stages;
	__u32	flags;		/* XFSM_AF_* */
	__u32	default_verdict; /* end of pipeline without a verdict */
	__u32	generation;
	struct xfsm_stage stages[XFSM_MAX_STAGES];
	/* Derived by libxfsm when the application is applied; cleared by
	 * xfsm_read_app(). */
	struct xfsm_scan scan[XFSM_MAX_STAGES];
	__u64	group_buf;	/* bit g: buffer of output group g */
	__u8	acl_buf[8];	/* buffer of each ACL table (XFSM_ACL_TABLES) */
};

/* ---- ACL module ---------------------------------------------------------- */
/*
 * A stateless wildcard classifier that runs as a pipeline stage of kind
 * XFSM_STAGE_ACL.  Each of XFSM_ACL_TABLES tables owns a region of the
 * rule and node arrays, sized when the datapath is loaded (xfsm-loader
 * --acl-rules/--acl-nodes) and recorded in xfsm_acl_ctl[table]; a region
 * holds two buffers, and the application slot names the one packets use
 * (set index table * 2 + xfsm_app.acl_buf[table]).  Writers fill the
 * buffer the running slot does not name, switch the application slot,
 * wait for in-flight packets (lib/apply.c).
 *
 * Algorithm: cut trees (lib/acl_tree.c).  A packet is a point in
 * XFSM_ACL_DIMS 32-bit dimensions (struct xfsm_acl_view: family,
 * addresses word by word, ports, protocol, TCP flags, VLAN, ingress
 * port) and a rule a box in that space.  A set is at most
 * XFSM_ACL_MAX_TREES decision trees; a cut node splits one dimension into
 * at most XFSM_ACL_FANOUT intervals (its children are consecutive nodes),
 * a leaf lists at most XFSM_ACL_LEAF rules by order.  A packet walks each
 * tree from its root to one leaf (at most XFSM_ACL_MAX_DEPTH cut nodes)
 * and checks that leaf's rules completely (include/xfsm/acl_match.h);
 * the lowest order matched in any tree wins (first match).  The compiler
 * refuses a set whose worst path over all its trees would take more than
 * XFSM_ACL_MAX_LOOKUPS map lookups, so no rule set can make a packet
 * cost more than that.
 */
#define XFSM_ACL_TABLES		8	/* ACL tables per instance */
#define XFSM_ACL_DIMS		16	/* packet words a tree can cut */
#define XFSM_ACL_FANOUT		7	/* children of a cut node */
#define XFSM_ACL_LEAF		7	/* rules of a leaf */
#define XFSM_ACL_MAX_TREES	8	/* trees per set */
#define XFSM_ACL_MAX_DEPTH	16	/* cut nodes from a root to a leaf */
#define XFSM_ACL_MAX_LOOKUPS	96	/* map lookups per packet and set, all trees */
#define XFSM_ACL_MAX_RULES	(1U << 20)	/* rules per table, at any capacity */
#define XFSM_ACL_MAX_NODES	(16 * XFSM_ACL_MAX_RULES) /* cut nodes per table, at most */
#define XFSM_ACL_DEF_RULES	4096	/* default capacity of each table, rules */
#define XFSM_ACL_DEF_NODES_PER_RULE 4	/* default node capacity per rule */

#define XFSM_MAP_ACL_CTL	"xfsm_acl_ctl"	  /* ARRAY[8] struct xfsm_acl_ctl (regions) */
#define XFSM_MAP_ACL_SETS	"xfsm_acl_sets"	  /* ARRAY[16] struct xfsm_acl_set */
#define XFSM_MAP_ACL_RULES	"xfsm_acl_rules"  /* ARRAY (mmapable) struct xfsm_acl_entry */
#define XFSM_MAP_ACL_NODES	"xfsm_acl_nodes"  /* ARRAY (mmapable) struct xfsm_acl_node */
#define XFSM_MAP_ACL_STATS	"xfsm_acl_stats"  /* PERCPU_ARRAY[8] acl_stats */

enum xfsm_acl_action {
	XFSM_ACL_ALLOW = 0,	/* go on to the next stage */
	XFSM_ACL_DENY,		/* drop */
	XFSM_ACL_GOTO,		/* continue at stage arg (> this stage) */
	XFSM_ACL_PASS,		/* to the kernel stack, ending the pipeline */
	XFSM_ACL__MAX,
};

/* xfsm_acl_entry.flags */
#define XFSM_ACLF_MARK		(1U << 0)	/* also set meta.mark = mark */
#define XFSM_ACLF_PORT		(1U << 1)	/* match ingress port in_port */
#define XFSM_ACLF_VLAN		(1U << 2)	/* match outer VLAN id vlan */
#define XFSM_ACLF_V4		(1U << 3)	/* IPv4 packets only */
#define XFSM_ACLF_V6		(1U << 4)	/* IPv6 packets only */
/* V4|V6: any IP packet; neither: any packet. */

/* Dimensions: word indexes of struct xfsm_acl_view's key. */
enum xfsm_acl_dim {
	XFSM_ACLD_FAMILY = 0,	/* 4, 6, 0 for other packets */
	XFSM_ACLD_SRC,		/* 4 words, most significant first */
	XFSM_ACLD_DST = XFSM_ACLD_SRC + 4,
	XFSM_ACLD_SPORT = XFSM_ACLD_DST + 4,
	XFSM_ACLD_DPORT,
	XFSM_ACLD_PROTO,
	XFSM_ACLD_TCP_FLAGS,
	XFSM_ACLD_VLAN,		/* 0xffffffff: untagged */
	XFSM_ACLD_PORT,		/* ingress port number */
	XFSM_ACLD_FAMF,		/* XFSM_ACLF_V4/V6 of the packet: never cut */
};

#define XFSM_ACLN_LEAF		0xff	/* xfsm_acl_node.dim of a leaf */

/*
 * One node of a cut tree.  A cut node sends value v of dimension dim to
 * child (number of ub[i] < v), i.e. child i holds the values up to ub[i]
 * (unused bounds are 0xffffffff); the children are nodes first .. first +
 * FANOUT - 1 at most.  A leaf holds n rule orders, ascending.  Indexes
 * are relative to the set's node_base and rule_base.
 */
struct xfsm_acl_node {
	__u8	dim;		/* enum xfsm_acl_dim, or XFSM_ACLN_LEAF */
	__u8	n;		/* leaf: rules in rule[] */
	__u16	pad;
	union {
		struct {
			__u32	first;
			__u32	ub[XFSM_ACL_FANOUT - 1];
		};
		__u32	rule[XFSM_ACL_LEAF];
	};
};

struct xfsm_acl_tree {
	__u32	root;		/* node index, relative to node_base */
	__u32	min_order;	/* best order of a rule in the tree */
};

struct xfsm_acl_set {
	__u32	n_trees;	/* trees[] sorted by min_order */
	__u32	n_rules;
	__u32	generation;	/* of the application that installed it */
	__u32	flags;		/* XFSM_ACLS_* */
	__u32	rule_base;	/* xfsm_acl_rules index of order 0 */
	__u32	node_base;	/* xfsm_acl_nodes index of node 0 */
	__u32	n_nodes;
	__u32	max_lookups;	/* worst path over all trees, map lookups */
	struct xfsm_acl_tree trees[XFSM_ACL_MAX_TREES];
};

#define XFSM_ACLS_NEEDS_PORT	(1U << 0)	/* a rule matches in_port */

/*
 * Per table: the table's regions, fixed when the maps are made (user
 * space only; the application slot names the buffer in use).  Buffer b
 * of the table holds its rules at rule_base + b * rule_cap (rule_cap
 * entries) and its nodes at node_base + b * node_cap.  All-zero regions
 * (a datapath loaded without xfsm-loader) mean the default: each table
 * gets an equal share of both arrays.
 */
struct xfsm_acl_ctl {
	__u32	rule_base;
	__u32	rule_cap;	/* rules per buffer */
	__u32	node_base;
	__u32	node_cap;	/* nodes per buffer */
};

struct xfsm_acl_entry {
	__u32	order;		/* rank in the table: lower wins */
	__u32	rule_id;	/* user-visible id */
	__u32	priority;	/* user-visible priority (larger first) */
	__u32	src[4];		/* prefix, host bits zero */
	__u32	dst[4];
	__u8	src_len;
	__u8	dst_len;
	__u8	proto;
	__u8	proto_mask;
	__u8	tcp_flags;
	__u8	tcp_mask;
	__u8	action;		/* enum xfsm_acl_action */
	__u8	flags;		/* XFSM_ACLF_* */
	__u16	sport_lo, sport_hi;
	__u16	dport_lo, dport_hi;
	__u16	in_port;
	__u16	vlan;
	__u32	arg;		/* GOTO: stage */
	__u32	mark;
};

struct xfsm_acl_stats {
	__u64	packets;
	__u64	matched;
	__u64	allow;
	__u64	deny;
	__u64	go;		/* goto */
	__u64	pass;
	__u64	marked;
	__u64	missed;
	__u64	probes;		/* map lookups of nodes and rules */
	__u64	unsupported;	/* offload profile: no ACL, dropped */
};

/* ---- Output groups ---------------------------------------------------------- */
/*
 * A group is a set of member ports and a policy choosing one per packet
 * (action XFSM_ACT_OUTPUT_GROUP, arg = group id).  Members whose port is
 * down (xfsm_port_flags[port] & XFSM_PORT_F_DOWN, set by user space from
 * the link state) are skipped; a group without a live member drops the
 * packet and counts it (xfsm_group_stats.empty).
 */
#define XFSM_MAX_GROUPS		64
#define XFSM_GROUP_MAX_MEMBERS	32
#define XFSM_GROUP_TABLE	1021	/* slots of a weighted / Maglev table (prime) */

/* Group g lives in xfsm_groups[g + XFSM_MAX_GROUPS * buffer], the buffer
 * named by bit g of xfsm_app.group_buf. */
#define XFSM_MAP_GROUPS		"xfsm_groups"	  /* ARRAY[2*64] struct xfsm_group */
#define XFSM_MAP_GROUP_STATS	"xfsm_grp_stats"  /* PERCPU_ARRAY[64] group stats */
#define XFSM_MAP_GROUP_RR	"xfsm_grp_rr"	  /* PERCPU_ARRAY[64] __u32 counter */
#define XFSM_MAP_GROUP_FLOWS	"xfsm_grp_flows"  /* LRU_HASH flow hash -> member */
#define XFSM_MAP_PORT_FLAGS	"xfsm_port_flags" /* ARRAY[256] __u32 XFSM_PORT_F_* */

#define XFSM_PORT_F_DOWN	(1U << 0)	/* link down: groups skip the port */

/* Per-port counters (native profile; in the statistics block, struct
 * xfsm_stats_block.port[port]): received on the port, redirected to it by
 * output / output group. */

struct xfsm_port_stats {
	__u64	rx_packets;
	__u64	rx_bytes;
	__u64	tx_packets;	/* redirected to the port */
	__u64	tx_bytes;
};

/* AF_XDP process ports: action XFSM_ACT_OUTPUT_XSK redirects a packet to
 * the socket registered for its receive queue (native profile only). */
#define XFSM_MAP_XSKS		"xfsm_xsks"	  /* XSKMAP[64] rx queue -> socket */
#define XFSM_MAX_XSK_QUEUES	64

enum xfsm_group_policy {
	XFSM_GP_RR_PACKET = 0,	/* round robin per packet (per CPU) */
	XFSM_GP_RR_FLOW,	/* round robin on a flow's first packet, then kept */
	XFSM_GP_WEIGHTED,	/* weighted round robin over table[] */
	XFSM_GP_HASH,		/* symmetric 5-tuple hash modulo members */
	XFSM_GP_CONSISTENT,	/* symmetric hash into a Maglev table */
	XFSM_GP__MAX,
};

struct xfsm_group {
	__u32	policy;		/* enum xfsm_group_policy */
	__u32	n_members;	/* 0: empty group */
	__u32	n_slots;	/* used slots of table[] (weighted, consistent) */
	__u32	generation;	/* 0: no such group; bumped by every change */
	__u16	members[XFSM_GROUP_MAX_MEMBERS];	/* port numbers */
	__u16	weights[XFSM_GROUP_MAX_MEMBERS];	/* weighted policy */
	/* Destination MAC written into a packet sent to member i (48 bits,
	 * most significant byte first); 0: the frame's own is kept. */
	__u64	macs[XFSM_GROUP_MAX_MEMBERS];
	__u16	table[XFSM_GROUP_TABLE + 1];	/* member indexes */
	__u16	pad[2];
};

struct xfsm_group_stats {
	__u64	member[XFSM_GROUP_MAX_MEMBERS];	/* packets sent to member i */
	__u64	empty;		/* no live member: dropped */
	__u64	skipped;	/* a chosen member was down: next one taken */
};

struct xfsm_group_flow_key {
	__u32	group;
	__u32	hash;		/* symmetric 5-tuple hash */
};

/* ---- Control block, flows, globals, ports ------------------------------- */

struct xfsm_ctl {
	__u32	active;		/* application slot in use: 0 or 1 */
	__u32	generation;	/* bumped by every application switch */
	__u32	malformed_verdict; /* enum xfsm_verdict, default pass */
	__u32	flags;		/* XFSM_CTLF_* (user space only) */
	__u64	clock_ns;	/* offload profile: time source set by user space */
	__u32	observe;	/* XFSM_OBS_*: observers listening (xfsmctl trace, capture, monitor) */
	__u32	observe_pad;
};

/* A switch is under way or was interrupted: the buffers the active slot
 * does not name may hold a half-written application, or one that packets
 * in flight still use.  The next writer waits for them and clears those
 * buffers before it writes any (lib/apply.c). */
#define XFSM_CTLF_DIRTY		(1U << 0)
/* The running application's globals are still to be set (its switch
 * died before setting them): the next writer sets them. */
#define XFSM_CTLF_GLOBALS	(1U << 1)

/* Observers listening: the datapath records only what one of them asked for. */
#define XFSM_OBS_TRACE		(1U << 0)	/* xfsmctl trace */
#define XFSM_OBS_CAPTURE	(1U << 1)	/* xfsmctl capture */
#define XFSM_OBS_EVENTS		(1U << 2)	/* xfsmctl monitor */

struct xfsm_flow_key {
	__u16	stage;
	__u16	epoch;
	__u32	w[XFSM_KEY_WORDS];
};

/* A narrow table's key (XFSM_SF_NARROW): the first 12 bytes of the
 * stage's struct xfsm_flow_key, whose other words are 0.  Measured: a
 * lookup with a 16-byte key costs 27 ns against 32 ns with the 48-byte
 * one, one entry in the table; 232 ns against 411 ns with a million.
 * Two words, not three: the kernel's jhash2 runs one more mixing round
 * for a 4-word key than for 3 (closed port knocking 20 ns against 22-23,
 * 2 stages 1 flow 44-45 against 47-48, BPF_PROG_TEST_RUN). */
struct xfsm_flow_key_n {
	__u16	stage;
	__u16	epoch;
	__u32	w[XFSM_NARROW_KEY_WORDS];
};

/* A medium table's key (XFSM_SF_MEDIUM): the first 24 bytes of the
 * stage's struct xfsm_flow_key, whose other words are 0.  Five words
 * hold a 5-tuple (addresses, protocol, ports: conntrack, NAT, a stateful
 * firewall); jhash2 of 6 words is one mixing round and the final one,
 * against three and the final one for the wide key's 12. */
struct xfsm_flow_key_m {
	__u16	stage;
	__u16	epoch;
	__u32	w[XFSM_MEDIUM_KEY_WORDS];
};

#define XFSM_FF_PINNED		(1U << 0)	/* set by user space */
/* Bits 16-31 of xfsm_flow.flags: how many compare-and-swap writers of the
 * flow are on their slow path (XFSM_CAS_SLOW_TRIES), datapath only; user
 * space neither shows nor writes them. */
#define XFSM_FF_CAS_SLOW_SHIFT	16
#define XFSM_FF_CAS_SLOW	(0xffffU << XFSM_FF_CAS_SLOW_SHIFT)

/*
 * Flow context.  LRU hash maps cannot hold a bpf_spin_lock, so flow
 * transactions take one of XFSM_FLOW_LOCKS striped locks in xfsm_locks,
 * chosen by a hash of the flow key.
 *
 * Two value layouts: the full one (struct xfsm_flow), and the compact
 * one, its first XFSM_FLOW_HEAD_SIZE bytes (struct xfsm_flow_head: no
 * hard timeout, no creation time, no register), for applications whose
 * stages need no more than a state and an idle timeout.  An instance's
 * flow tables all have one layout, chosen at load (xfsm-loader --flow-value;
 * xfsm_build_info.compact_flows says which generic program runs: the
 * compact one is built with XFSM_COMPACT_FLOWS).
 */
struct xfsm_flow_head {
	__u32	version;	/* bumped by every committed update */
	__u32	state;
	__u32	idle_timeout_ms;	/* 0: none */
	__u32	idle_rollback;
	__u32	flags;
	__u32	hard_rollback;		/* (compact: always 0) */
	__u64	last_seen_ns;		/* kept only while an idle timeout runs */
};

struct xfsm_flow {
	/* the head: struct xfsm_flow_head, field for field */
	__u32	version;
	__u32	state;
	__u32	idle_timeout_ms;
	__u32	idle_rollback;
	__u32	flags;
	__u32	hard_rollback;
	__u64	last_seen_ns;
	/* the full layout's alone */
	__u64	hard_deadline_ns;	/* 0: none */
	__u64	created_ns;		/* creation or last state entry */
	__u64	regs[XFSM_FLOW_REGS];
};

#define XFSM_FLOW_HEAD_SIZE	((__u32)sizeof(struct xfsm_flow_head))	/* 32 */

/* ---- Trace and capture (native profile) ---------------------------------- */
/*
 * While xfsm_ctl.observe has XFSM_OBS_TRACE or XFSM_OBS_CAPTURE, packets
 * that pass the filter of xfsm_obs_cfg and its rate budget leave a record
 * in the ring buffer xfsm_trace: a decision record (struct xfsm_trace_rec)
 * or the packet's first bytes (struct xfsm_cap_rec, then the bytes).  One
 * observer at a time owns xfsm_obs_cfg (lib/observe.c); with the bits
 * clear the datapath tests xfsm_ctl.observe and nothing else.
 */
#define XFSM_MAP_OBS_CFG	"xfsm_obs_cfg"	  /* ARRAY[1] struct xfsm_obs_cfg */
#define XFSM_MAP_TRACE		"xfsm_trace"	  /* RINGBUF of records */
#define XFSM_MAP_OBS_BUF	"xfsm_obs_buf"	  /* PERCPU_ARRAY[1] record being made */
#define XFSM_TRACE_RING_SIZE	(1U << 20)	/* bytes */
#define XFSM_OBS_TERMS		32	/* filter words */
#define XFSM_CAPTURE_MAX	4096	/* bytes of a packet a capture keeps */
#define XFSM_OBS_MISS		0xffffffffU	/* xfsm_trace_stage.rule: no rule */

/* A filter word: the packet passes when lo <= (fv[word] & mask) <= hi
 * for every term (a value is lo = hi, a prefix its mask). */
struct xfsm_obs_term {
	__u32	word;		/* field vector index */
	__u32	mask;
	__u32	lo;
	__u32	hi;
};

enum xfsm_obs_point {
	XFSM_OBSP_INGRESS = 0,	/* as the packet arrived */
	XFSM_OBSP_STAGE,	/* as it leaves stage `point_arg` */
	XFSM_OBSP_VERDICT,	/* at the end, when the XDP action is `point_arg` */
	XFSM_OBSP__MAX,
};

struct xfsm_obs_cfg {
	__u32	observer;	/* XFSM_OBS_TRACE or XFSM_OBS_CAPTURE */
	__u32	n_terms;
	__u32	rate;		/* records per second, 0: no limit */
	__u32	point;		/* capture: enum xfsm_obs_point */
	__u32	point_arg;
	__u32	snaplen;	/* capture: 1..XFSM_CAPTURE_MAX */
	__u32	owner_pid;	/* user space: the observer's process */
	__u32	pad;
	/* Written by the datapath. */
	__u64	second;		/* of the rate budget */
	__u64	used;		/* records admitted in it */
	__u64	lost_rate;	/* over the rate */
	__u64	lost_ring;	/* the ring buffer was full */
	__u64	records;	/* written to the ring */
	struct xfsm_obs_term terms[XFSM_OBS_TERMS];
};

enum xfsm_obs_rec_kind {
	XFSM_REC_TRACE = 1,
	XFSM_REC_CAPTURE,
};

#define XFSM_TSF_LOOKUP		(1U << 0)	/* the stage looked up a flow: key set */
#define XFSM_TSF_BEFORE		(1U << 1)	/* the flow existed before */
#define XFSM_TSF_AFTER		(1U << 2)	/* it exists after */
#define XFSM_TSF_EXPIRED	(1U << 3)	/* its timeout ran out: rolled back */
#define XFSM_TSF_MATCHED	(1U << 4)	/* the rule search ran (rule set) */
#define XFSM_TSF_ACL		(1U << 5)	/* an ACL stage */
#define XFSM_TSF_NARROW		(1U << 6)	/* the key's table: xfsm_flows_n */
#define XFSM_TSF_MEDIUM		(1U << 7)	/* ... xfsm_flows_m */
#define XFSM_TSF_TABLE		(XFSM_TSF_NARROW | XFSM_TSF_MEDIUM)
/* A stage's flow table class (XFSM_SF_TABLE) as trace flags, and back. */
#define XFSM_TSF_TABLE_SHIFT	3
#define XFSM_TSF_OF_TABLE(sf)	(((sf) & XFSM_SF_TABLE) << XFSM_TSF_TABLE_SHIFT)
#define XFSM_TABLE_OF_TSF(tsf)	(((tsf) & XFSM_TSF_TABLE) >> XFSM_TSF_TABLE_SHIFT)

struct xfsm_trace_stage {
	__u32	stage;
	__u32	flags;		/* XFSM_TSF_* */
	__u32	state_seen;	/* the state the rules matched on */
	__u32	conds;		/* condition vector */
	__u32	rule;		/* the rule's id in the image, XFSM_OBS_MISS */
	__u32	result;		/* the stage's result: XDP action, or
				 * 0x100 | next stage */
	struct xfsm_flow_key key;	/* lookup key */
	struct xfsm_flow before;
	struct xfsm_flow after;
};

struct xfsm_trace_rec {
	__u32	kind;		/* XFSM_REC_TRACE */
	__u32	n_stages;	/* st[] entries used (stages entered, in order) */
	__u64	ts_ns;		/* monotonic clock */
	__u32	port;		/* ingress port, 0: none */
	__u32	len;		/* frame length */
	__u32	verdict;	/* XDP action */
	__u32	generation;	/* of the application that ran */
	__u32	fv[XFSM_FV_WORDS];
	__u64	globals_before[XFSM_GLOBAL_REGS];
	__u64	globals_after[XFSM_GLOBAL_REGS];
	struct xfsm_trace_stage st[XFSM_MAX_STAGES];
};

struct xfsm_cap_rec {
	__u32	kind;		/* XFSM_REC_CAPTURE */
	__u32	len;		/* frame length */
	__u64	ts_ns;		/* monotonic clock */
	__u32	caplen;		/* bytes that follow */
	__u32	port;
	__u32	verdict;	/* XDP action when captured at the verdict */
	__u32	pad;
};

/* ---- Flow events (xfsmctl monitor, native profile) ---------------------- */
/*
 * The datapath writes one record into the xfsm_events ring buffer where a
 * flow is created, changes state, is found expired (lazily, at the lookup
 * of a packet of that flow: docs/datapath.md) or cannot be stored, and only
 * while an observer has set XFSM_OBS_EVENTS.  A record that finds the ring
 * full is counted in xfsm_stats.exc_events_lost.  The kernel reports no LRU
 * eviction, so there is no event for one.  User space sends the deletions
 * it makes (xfsmctl state del and flush) to the listening monitors itself,
 * in the same record.
 */
#define XFSM_EVENTS_RING	(256 * 1024)	/* bytes of xfsm_events */

enum xfsm_event_type {
	XFSM_EV_NEW = 1,	/* a flow was stored, in state 0 */
	XFSM_EV_UPDATE,		/* a rule moved it from `from` to `to` */
	XFSM_EV_IDLE,		/* its idle timeout expired: rolled back to `to` */
	XFSM_EV_HARD,		/* its hard timeout expired: rolled back to `to` */
	XFSM_EV_FULL,		/* a new flow was not stored: the table is full */
	XFSM_EV_DELETE,		/* user space deleted it (state del) */
	XFSM_EV_FLUSH,		/* user space deleted `count` flows (state flush) */
	XFSM_EV__MAX,
};

#define XFSM_EV_ALL_STAGES	0xffff	/* XFSM_EV_FLUSH of every stage */

struct xfsm_event {
	__u64	ts_ns;		/* CLOCK_MONOTONIC: when it was seen */
	__u64	deadline_ns;	/* IDLE, HARD: when the timeout expired */
	__u32	type;		/* enum xfsm_event_type */
	__u32	rule_id;	/* UPDATE: the rule's statistics id */
	__u32	from;		/* the state before */
	__u32	to;		/* the state after */
	__u32	count;		/* FLUSH: flows deleted */
	__u32	pad;
	struct xfsm_flow_key key;	/* stage, epoch, key words */
	__u32	pad2[2];
};

/* All global registers live in one value (xfsm_globals[0]) under one
 * lock: a map value holds at most one bpf_spin_lock, and no helper may be
 * called while a lock is held, so one pointer serves a whole rule. */
struct xfsm_globals {
#ifdef XFSM_OFFLOAD
	__u32	lock_unused;
#else
	struct bpf_spin_lock lock;
#endif
	__u32	pad;
	__u64	reg[XFSM_GLOBAL_REGS];
};

struct xfsm_lock {
#ifdef XFSM_OFFLOAD
	__u32	unused;
#else
	struct bpf_spin_lock lock;
#endif
};

/*
 * The application's source, for show and rule add|del (lib/appsrc.c).
 * len without a flag: that many bytes of plain text.  XFSM_APPSRC_DEFLATE:
 * text holds the source's length (__u32) and then a zlib stream of len &
 * XFSM_APPSRC_LEN_MASK bytes.  XFSM_APPSRC_CUT: a source of that length
 * was too large to keep even compressed; no text.
 */
#define XFSM_APPSRC_DEFLATE	0x80000000U
#define XFSM_APPSRC_CUT		0x40000000U
#define XFSM_APPSRC_LEN_MASK	0x3fffffffU

struct xfsm_appsrc {
	__u32	len;
	char	text[XFSM_APPSRC_SIZE - 4];
};

struct xfsm_port {
	__u32	port;		/* port number, 1..XFSM_MAX_PORTS-1 */
	__u32	flags;
};

/*
 * Parts of the generic program's per-CPU scratch value (xfsm_work, native
 * profile) that a specialized program shares with it, at fixed offsets:
 * - the bail word (__u32), an unused field-vector word: non-zero when a
 *   specialized program hands the packet to the generic program, which
 *   then runs it instead of tail-calling again (and clears the word);
 * - this CPU's cache of the last ingress port looked up, valid while
 *   xfsm_port_gen[0] still holds gen.
 */
#define XFSM_WORK_BAIL_OFF	(4 * XFSM_FW_NWORDS_USED)
#define XFSM_WORK_PORT_OFF	376

struct xfsm_port_cache {
	__u64	gen;
	__u32	ifindex;
	__u16	port;
	__u16	valid;
};

/* Read-only build facts the datapath exposes (.rodata). */
struct xfsm_build_info {
	__u32	abi_version;
	__u32	offload;	/* 1 in the offload profile */
	__u32	max_stages;
	__u32	max_tuples;
	__u32	compact_flows;	/* 1: flow values are struct xfsm_flow_head */
	__u32	pad;
};

/* ---- Statistics (per CPU in the native profile) ------------------------- */

#define XFSM_EXCEPTIONS(X)						\
	X(trunc_eth)		/* shorter than an Ethernet header */	\
	X(trunc_vlan)		/* VLAN tag cut short */		\
	X(vlan_depth)		/* more than two VLAN tags */		\
	X(trunc_arp)							\
	X(trunc_ip4)							\
	X(ip4_version)		/* IPv4 ethertype, version != 4 */	\
	X(ip4_ihl)		/* IHL < 5 or options cut short */	\
	X(ip4_totlen)		/* total length < IHL or > frame */	\
	X(trunc_ip6)							\
	X(ip6_version)							\
	X(ip6_paylen)		/* payload length > frame */		\
	X(trunc_ip6_ext)	/* extension header cut short */	\
	X(ip6_ext_depth)	/* too many extension headers */	\
	X(trunc_tcp)							\
	X(tcp_doff)		/* data offset < 5 or beyond frame */	\
	X(trunc_udp)							\
	X(trunc_icmp)							\
	X(trunc_icmp6)							\
	X(no_app)		/* no application installed */		\
	X(flow_table_full)	/* a new flow could not be stored */	\
	X(div_zero)		/* DIV or MOD by zero, result 0 */	\
	X(goto_backward)	/* goto to a stage not after this one */ \
	X(bad_port)		/* output to a port with no device */	\
	X(ttl_expired)		/* dec_ttl on TTL <= 1: to the stack */	\
	X(rewrite_failed)	/* rewrite on a packet without the header */ \
	X(unsupported)		/* action not in this profile */	\
	X(pipeline_loop)	/* stage budget exhausted */	\
	X(events_lost)		/* a flow event found xfsm_events full */ \
	X(cas_exhausted)	/* a compare-and-swap update gave up */

#define XFSM_ACTION_COUNTERS(X)						\
	X(drop) X(pass) X(tx) X(output) X(flood) X(goto)		\
	X(set_eth_src) X(set_eth_dst) X(set_dscp) X(set_ecn)		\
	X(dec_ttl) X(count) X(set_mark) X(set_ttl)			\
	X(set_ip_src) X(set_ip_dst) X(set_l4_sport) X(set_l4_dport)	\
	X(vlan_push) X(vlan_pop) X(arp_reply)				\
	X(set_ip6_src) X(set_ip6_dst)

/*
 * Outcomes of output fib (XFSM_ACT_OUTPUT_FIB), one counter each.  Only
 * `forwarded` redirects; every other outcome ends the pipeline with the
 * verdict its comment names (docs/language.md, "output fib").
 */
#define XFSM_FIB_COUNTERS(X)						\
	X(forwarded)	/* route and neighbour found: MACs rewritten,	\
			 * TTL/hop limit - 1, redirected */		\
	X(not_ip)	/* neither IPv4 nor IPv6: pass */		\
	X(vlan)		/* VLAN-tagged: pass (routed on its VLAN device) */ \
	X(ttl_expired)	/* TTL/hop limit <= 1: pass (the kernel sends	\
			 * ICMP time exceeded) */			\
	X(not_forwarded) /* no route, a local or broadcast one: pass */ \
	X(fwd_disabled)	/* forwarding off on the ingress device: pass */ \
	X(no_neigh)	/* neighbour not resolved: pass, so that the	\
			 * kernel resolves it (ARP/ND) */		\
	X(frag_needed)	/* larger than the egress MTU: pass (ICMP) */	\
	X(blackhole)	/* blackhole route: drop */			\
	X(unreachable)	/* unreachable route: drop */			\
	X(prohibit)	/* prohibit route: drop */			\
	X(other)	/* any other failure of the lookup: pass */

#define XFSM__FIELD(name)	__u64 name;
#define XFSM__FIBFIELD(name)	__u64 fib_##name;
#define XFSM__ACTFIELD(name)	__u64 act_##name;
#define XFSM__EXCFIELD(name)	__u64 exc_##name;

struct xfsm_stats {
	__u64	rx_packets;
	__u64	rx_bytes;
	__u64	malformed;	/* sum of the parser's exception counters */
	__u64	verdict_pass;
	__u64	verdict_drop;
	__u64	verdict_tx;
	__u64	verdict_redirect;
	XFSM_ACTION_COUNTERS(XFSM__ACTFIELD)
	XFSM_EXCEPTIONS(XFSM__EXCFIELD)
	XFSM_FIB_COUNTERS(XFSM__FIBFIELD)
};

struct xfsm_stage_stats {
	__u64	packets;
	__u64	bytes;
	__u64	hits;		/* a rule matched */
	__u64	misses;
	__u64	flows_created;
	__u64	table_full;
	__u64	idle_expired;
	__u64	hard_expired;
};

struct xfsm_rule_stats {
	__u64	packets;
	__u64	bytes;
};

/*
 * Count groups (native profile, specialized programs only).  Where every
 * packet that reaches a point of a generated program has incremented the
 * same set of counters by 1 (packets) or by its length (bytes) -- the
 * datapath's rx pair, a stage's packets, bytes and hits, a rule's pair,
 * an action's and a verdict's counters -- the program increments one
 * pair, its group's, instead of each counter.  Each application slot has
 * XFSM_COUNT_GROUPS pairs in the statistics block, and a table naming the
 * counters each group stands for (user space, with the slot's statistics
 * identities); the readers in libxfsm add each group to the counters it
 * names.  The generic program never uses them.
 */
#define XFSM_COUNT_GROUPS	256	/* groups per application slot */

struct xfsm_count_group {
	__u64	packets;
	__u64	bytes;
};

/* xfsm_stats[0] of the native profile (see XFSM_MAP_STATS): one per-CPU
 * value holding every counter a packet writes but its rule's.  stage[] is
 * indexed by struct xfsm_stage.stats_id, port[] by port number (0, "no
 * port", is never counted), group[] by application slot and count group. */
struct xfsm_stats_block {
	struct xfsm_stats	stats;
	struct xfsm_stage_stats	stage[XFSM_STAGE_STATS_SLOTS];
	struct xfsm_port_stats	port[XFSM_MAX_PORTS];
	struct xfsm_count_group	group[XFSM_APP_SLOTS][XFSM_COUNT_GROUPS];
};

/*
 * What user space keeps beside the groups (libxfsm, lib/count_groups.c;
 * no program reads or writes these maps).  xfsm_cg_base[slot *
 * XFSM_COUNT_GROUPS + g] is what pair g of the slot held when libxfsm
 * last gave the slot's pairs to a new program: readers count a pair from
 * it, as the block is never written while packets count (see
 * XFSM_MAP_STAGE_BASE).  xfsm_cg_fold holds, per counter (space: 1
 * datapath, 2 stage, 3 rule, as libxfsm's enum xfsm_cg_space; index),
 * what the groups of replaced programs had counted for it, as that
 * counter's struct (the first words of w[]).  Key { 0, 0 } is the
 * sequence count of the groups' bookkeeping in w[0]: odd while libxfsm
 * changes a table, a baseline or a fold, so that readers retry.
 */
struct xfsm_cg_fold_key {
	__u32	space;
	__u32	index;
};

#define XFSM_CG_FOLD_WORDS	(sizeof(struct xfsm_stats) / 8)	/* the largest space */

struct xfsm_cg_fold {
	__u64	w[XFSM_CG_FOLD_WORDS];
};

/* Entries of xfsm_cg_fold: the datapath's, every stage entry's, every
 * rule statistics entry's (the loader sizes it with xfsm_rule_stats)
 * and the sequence count's. */
#define XFSM_CG_FOLD_ENTRIES(rule_stats) \
	(1 + XFSM_STAGE_STATS_SLOTS + (rule_stats) + 1)

/* The kernel's largest per-CPU value (PCPU_MIN_UNIT_SIZE). */
#define XFSM_PERCPU_VALUE_MAX	32768

/* One per xfsm_counters entry: the count action's arg is the entry, given
 * by libxfsm to the named counter and kept across applications. */
struct xfsm_counter {
	__u64	packets;
	__u64	bytes;
};

/*
 * Statistics identities (user space only, in the instance's pins so that
 * every tool finds them): for each application slot, a table of its
 * named stages, rules and counters and the statistics index each has, kept
 * as a byte string cut into chunks of xfsm_ids (lib/stat_ids.c).
 */
#define XFSM_IDS_CHUNK		16384	/* bytes per xfsm_ids value */
#define XFSM_IDS_CHUNKS		4096	/* xfsm_ids entries (not preallocated) */
#define XFSM_IDS_CHUNKS_OFFLOAD	192	/* offload profile: preallocated */

struct xfsm_ids_key {
	__u32	slot;		/* application slot */
	__u32	chunk;
};

/* Slot XFSM_IDS_DATAPATH + s of xfsm_ids holds application slot s's
 * datapath record: which program runs it, why, and the specialized
 * program's listing (lib/datapath.c, docs/specializer.md). */
#define XFSM_IDS_DATAPATH	0x100
/* Slot XFSM_IDS_COUNT_GROUPS + s holds application slot s's count group
 * table: which counters each of its pairs stands for (lib/count_groups.c). */
#define XFSM_IDS_COUNT_GROUPS	0x200

/* ---- Layout guards ------------------------------------------------------ */

#define XFSM_ASSERT_SIZE(t, n) \
	_Static_assert(sizeof(t) == (n), "ABI: size of " #t " changed")
#define XFSM_ASSERT_OFF(t, f, n) \
	_Static_assert(__builtin_offsetof(t, f) == (n), "ABI: offset of " #t "." #f " changed")

XFSM_ASSERT_SIZE(struct xfsm_operand, 16);
XFSM_ASSERT_SIZE(struct xfsm_cond, 40);
XFSM_ASSERT_SIZE(struct xfsm_update, 40);
XFSM_ASSERT_SIZE(struct xfsm_action, 24);
XFSM_ASSERT_SIZE(struct xfsm_rule, 40 + 40 * XFSM_MAX_UPDATES + 24 * XFSM_MAX_ACTIONS);
XFSM_ASSERT_OFF(struct xfsm_rule, upd, 32);
XFSM_ASSERT_SIZE(struct xfsm_rule_key, 12 + 4 * XFSM_MATCH_WORDS);
XFSM_ASSERT_OFF(struct xfsm_rule_key, match, 12);
XFSM_ASSERT_SIZE(struct xfsm_tuple, 16 + 4 * XFSM_MATCH_WORDS);
XFSM_ASSERT_OFF(struct xfsm_stage, lookup_words, 8);
XFSM_ASSERT_OFF(struct xfsm_stage, match_words, 52);
XFSM_ASSERT_OFF(struct xfsm_stage, conds, 64);
XFSM_ASSERT_SIZE(struct xfsm_stage, 64 + 40 * XFSM_MAX_CONDS + 48 * XFSM_MAX_TUPLES);
XFSM_ASSERT_OFF(struct xfsm_app, stages, 16);
XFSM_ASSERT_SIZE(struct xfsm_scan_rule, 8 + 8 * XFSM_MATCH_WORDS + sizeof(struct xfsm_rule));
XFSM_ASSERT_OFF(struct xfsm_scan, list, 16);
XFSM_ASSERT_SIZE(struct xfsm_scan, 16 + XFSM_SCAN_STATES * XFSM_SCAN_LEN +
		 XFSM_SCAN_RULES * sizeof(struct xfsm_scan_rule));
XFSM_ASSERT_OFF(struct xfsm_app, scan, 16 + XFSM_MAX_STAGES * sizeof(struct xfsm_stage));
_Static_assert(XFSM_SCAN_RULES <= 256 && !(XFSM_SCAN_RULES & (XFSM_SCAN_RULES - 1)),
	       "ABI: scan rule index is a masked 8-bit number");
_Static_assert(!(XFSM_SCAN_STATES & (XFSM_SCAN_STATES - 1)), "ABI: scan states are masked");
XFSM_ASSERT_SIZE(struct xfsm_app, 16 + (sizeof(struct xfsm_stage) + sizeof(struct xfsm_scan)) *
		 XFSM_MAX_STAGES + 16);
XFSM_ASSERT_OFF(struct xfsm_stage, stats_id, 61);
XFSM_ASSERT_OFF(struct xfsm_stage, rule_buf, 62);
XFSM_ASSERT_OFF(struct xfsm_stage, full_action, 63);
XFSM_ASSERT_SIZE(struct xfsm_ids_key, 8);
XFSM_ASSERT_SIZE(struct xfsm_ctl, 32);
XFSM_ASSERT_OFF(struct xfsm_ctl, observe, 24);
XFSM_ASSERT_SIZE(struct xfsm_obs_term, 16);
XFSM_ASSERT_SIZE(struct xfsm_obs_cfg, 72 + 16 * XFSM_OBS_TERMS);
XFSM_ASSERT_SIZE(struct xfsm_trace_stage, 24 + 48 + 2 * 80);
XFSM_ASSERT_SIZE(struct xfsm_cap_rec, 32);
XFSM_ASSERT_SIZE(struct xfsm_event, 96);
XFSM_ASSERT_SIZE(struct xfsm_flow_key, 4 + 4 * XFSM_KEY_WORDS);
XFSM_ASSERT_SIZE(struct xfsm_flow_key_n, 12);
XFSM_ASSERT_OFF(struct xfsm_flow_key_n, w, 4);
_Static_assert(__builtin_offsetof(struct xfsm_flow_key, w) ==
	       __builtin_offsetof(struct xfsm_flow_key_n, w),
	       "ABI: the narrow key is the wide key's prefix");
XFSM_ASSERT_SIZE(struct xfsm_flow_key_m, 24);
XFSM_ASSERT_OFF(struct xfsm_flow_key_m, w, 4);
_Static_assert(__builtin_offsetof(struct xfsm_flow_key, w) ==
	       __builtin_offsetof(struct xfsm_flow_key_m, w),
	       "ABI: the medium key is the wide key's prefix");
_Static_assert(XFSM_NARROW_KEY_WORDS < XFSM_MEDIUM_KEY_WORDS &&
	       XFSM_MEDIUM_KEY_WORDS < XFSM_KEY_WORDS, "ABI: the flow keys, narrowest first");
_Static_assert(XFSM_TSF_OF_TABLE(XFSM_SF_NARROW) == XFSM_TSF_NARROW &&
	       XFSM_TSF_OF_TABLE(XFSM_SF_MEDIUM) == XFSM_TSF_MEDIUM,
	       "ABI: a trace's table flags are the stage's, shifted");
XFSM_ASSERT_SIZE(struct xfsm_flow, 80);
XFSM_ASSERT_OFF(struct xfsm_flow, state, 4);
XFSM_ASSERT_OFF(struct xfsm_flow, regs, 48);
XFSM_ASSERT_SIZE(struct xfsm_globals, 8 + 8 * XFSM_GLOBAL_REGS);
XFSM_ASSERT_SIZE(struct xfsm_lock, 4);
XFSM_ASSERT_SIZE(struct xfsm_appsrc, XFSM_APPSRC_SIZE);
XFSM_ASSERT_SIZE(struct xfsm_port, 8);
XFSM_ASSERT_SIZE(struct xfsm_port_cache, 16);
_Static_assert(XFSM_WORK_BAIL_OFF < 4 * XFSM_FV_WORDS, "ABI: the bail word is a field-vector word");
XFSM_ASSERT_SIZE(struct xfsm_build_info, 24);
XFSM_ASSERT_SIZE(struct xfsm_flow_head, 32);
XFSM_ASSERT_SIZE(struct xfsm_flow, 80);
/* the compact value is the full one's head, field for field */
#define XFSM_ASSERT_HEAD(f) \
	_Static_assert(__builtin_offsetof(struct xfsm_flow, f) == \
		       __builtin_offsetof(struct xfsm_flow_head, f), "ABI: flow head ." #f)
XFSM_ASSERT_HEAD(version);
XFSM_ASSERT_HEAD(state);
XFSM_ASSERT_HEAD(idle_timeout_ms);
XFSM_ASSERT_HEAD(idle_rollback);
XFSM_ASSERT_HEAD(flags);
XFSM_ASSERT_HEAD(hard_rollback);
XFSM_ASSERT_HEAD(last_seen_ns);
XFSM_ASSERT_OFF(struct xfsm_flow, hard_deadline_ns, 32);
XFSM_ASSERT_SIZE(struct xfsm_stage_stats, 64);
XFSM_ASSERT_SIZE(struct xfsm_rule_stats, 16);
XFSM_ASSERT_SIZE(struct xfsm_counter, 16);
XFSM_ASSERT_OFF(struct xfsm_stage, kind, 5);
XFSM_ASSERT_OFF(struct xfsm_stage, acl_table, 60);
XFSM_ASSERT_SIZE(struct xfsm_acl_node, 32);
XFSM_ASSERT_OFF(struct xfsm_acl_node, first, 4);
XFSM_ASSERT_OFF(struct xfsm_acl_node, rule, 4);
XFSM_ASSERT_SIZE(struct xfsm_acl_tree, 8);
XFSM_ASSERT_SIZE(struct xfsm_acl_set, 32 + 8 * XFSM_ACL_MAX_TREES);
XFSM_ASSERT_SIZE(struct xfsm_acl_ctl, 16);
XFSM_ASSERT_SIZE(struct xfsm_acl_entry, 72);
XFSM_ASSERT_SIZE(struct xfsm_acl_stats, 80);
XFSM_ASSERT_SIZE(struct xfsm_group, 16 + 12 * XFSM_GROUP_MAX_MEMBERS + 2 * (XFSM_GROUP_TABLE + 3));
XFSM_ASSERT_OFF(struct xfsm_group, macs, 16 + 4 * XFSM_GROUP_MAX_MEMBERS);
XFSM_ASSERT_SIZE(struct xfsm_port_stats, 32);
_Static_assert(sizeof(struct xfsm_stage_stats) <= sizeof(struct xfsm_cg_fold) &&
	       sizeof(struct xfsm_rule_stats) <= sizeof(struct xfsm_cg_fold),
	       "ABI: a count group fold holds every counter space's struct");
_Static_assert(sizeof(struct xfsm_stats_block) <= XFSM_PERCPU_VALUE_MAX,
	       "ABI: the statistics block is one per-CPU value");
XFSM_ASSERT_SIZE(struct xfsm_group_stats, 8 * (XFSM_GROUP_MAX_MEMBERS + 2));
_Static_assert(XFSM_ACLD_FAMF < XFSM_ACL_DIMS, "ABI: ACL dimensions overflow the key");
_Static_assert(XFSM_ACL_LEAF <= 255, "ABI: ACL leaf size is 8 bits");
_Static_assert(XFSM_FW_IP6_NEXTHDR < XFSM_FW_ZERO, "ABI: field vector overflow");
_Static_assert(XFSM_FW_NWORDS_USED <= XFSM_FV_WORDS, "ABI: field vector overflow");
_Static_assert(XFSM_OFFLOAD_FV_WORDS <= XFSM_FV_WORDS && !(XFSM_OFFLOAD_FV_WORDS & 1) &&
	       !(XFSM_FV_WORDS & 1), "ABI: the field vector is whole 64-bit words");
_Static_assert(XFSM_MAX_CONDS <= 32, "ABI: condition vector is 32 bits");
_Static_assert(XFSM_MAX_STAGES <= 255, "ABI: stage index is 8 bits");
_Static_assert(XFSM_STAGE_STATS_SLOTS <= 256, "ABI: stats_id is 8 bits");
_Static_assert(XFSM_MAX_GROUPS <= 64, "ABI: group_buf is 64 bits");
_Static_assert(XFSM_ACL_TABLES == 8, "ABI: acl_buf has 8 entries");
_Static_assert(XFSM_COUNTER_SLOTS <= 65536, "ABI: a count action's arg is 16 bits");

#endif /* XFSM_ABI_H */
