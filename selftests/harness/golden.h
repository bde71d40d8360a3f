/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Golden-packet tables: a scenario installs an application built by hand
 * and runs a sequence of steps; each step is one packet with its expected
 * verdict, output bytes, statistics deltas, and flow / register / counter
 * contents afterwards.  The same tables run against the native and the
 * offload object.
 */
#ifndef XT_GOLDEN_H
#define XT_GOLDEN_H

#include <stddef.h>
#include <linux/bpf.h>

#include "xt_assert.h"
#include "bpf.h"
#include "pkt.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* ---- Packets from a compact description -------------------------------- */

enum { PS_ETH = 0, PS_IP4, PS_IP6, PS_ARP };
enum { PS_NONE = 0, PS_TCP, PS_UDP, PS_ICMP, PS_ICMP6 };

struct pkt_spec {
	__u8	l3;		/* PS_IP4 ... */
	__u8	l4;		/* PS_TCP ... */
	__u16	src, dst;	/* host numbers: 198.18.x, 2001:2::x, 02::x */
	__u16	sport, dport;	/* ports; ICMP type / code */
	__u8	flags;		/* TCP flags */
	__u8	tos;		/* IPv4 TOS / IPv6 traffic class */
	__u8	ttl;		/* 0: 64 */
	__u8	pad;
	__u16	vlan;		/* outer 802.1Q TCI, 0: untagged */
	__u16	payload;	/* bytes after the last header */
	__u64	smac, dmac;	/* 0: 02::src, 02::dst */
};

void pkt_from_spec(struct pkt *p, const struct pkt_spec *s);

/* ---- Building applications by hand ------------------------------------ */

/* n_stages stages, enabled, keys padded with XFSM_FW_ZERO, miss CONTINUE. */
void app_init(struct xfsm_image *img, unsigned int n_stages, __u32 default_verdict);
int app_keys(struct xfsm_image *img, unsigned int stage,
	     const __u8 *lookup, unsigned int n_lookup,
	     const __u8 *update, unsigned int n_update);
int app_keys_sym(struct xfsm_image *img, unsigned int stage,
		 const __u8 *key, const __u8 *rev, unsigned int n);
void app_match_words(struct xfsm_image *img, unsigned int stage,
		     const __u8 *words, unsigned int n);
void app_cond(struct xfsm_image *img, unsigned int stage, unsigned int i,
	      __u8 op, struct xfsm_operand a, struct xfsm_operand b);
void app_miss(struct xfsm_image *img, unsigned int stage, __u8 verdict);

/* A rule under construction. */
struct rb {
	struct xfsm_rule_match m;
	struct xfsm_rule r;
	unsigned int nu, na;
};

void rb_init(struct rb *b, __u32 priority);
void rb_state(struct rb *b, __u32 state);
void rb_match(struct rb *b, unsigned int slot, __u32 value, __u32 mask);
void rb_cond(struct rb *b, unsigned int i, bool value);
void rb_next(struct rb *b, __u32 state);
void rb_idle(struct rb *b, __u32 ms, __u32 rollback);
void rb_hard(struct rb *b, __u32 ms, __u32 rollback);
void rb_upd(struct rb *b, __u8 op, __u8 dst_kind, __u8 dst_index,
	    struct xfsm_operand a, struct xfsm_operand o2);
void rb_ewma(struct rb *b, __u8 dst_kind, __u8 dst_index, __u8 shift,
	     struct xfsm_operand a, struct xfsm_operand o2);
void rb_act(struct rb *b, __u8 type, __u16 arg, struct xfsm_operand opnd);
/* Add to the image with rule_id = number of rules so far; sets the
 * XFSM_RF_WRITES_* flags from the updates. */
int rb_add(struct xfsm_image *img, unsigned int stage, struct rb *b);

#define OPC(v)		xfsm_opnd_const(v)
#define OPF(w)		xfsm_opnd_field((w), 1)
#define OPF2(w)		xfsm_opnd_field((w), 2)
#define OPR(i)		xfsm_opnd_flow_reg(i)
#define OPG(i)		xfsm_opnd_global(i)
#define OPM(m)		xfsm_opnd_meta(m)
#define OPNONE		((struct xfsm_operand){ 0 })

/* ---- Expectations ------------------------------------------------------ */

struct stat_exp {
	const char	*name;
	size_t		off;
	long long	delta;
};
#define ST(f, d)	{ #f, offsetof(struct xfsm_stats, f), (d) }

struct sstat_exp {
	const char	*name;
	unsigned int	stage;
	size_t		off;
	long long	delta;
};
#define SST(s, f, d)	{ #f, (s), offsetof(struct xfsm_stage_stats, f), (d) }

struct flow_exp {
	bool		used;
	bool		absent;		/* the flow must not exist */
	unsigned int	stage;
	__u32		key[XFSM_KEY_WORDS];
	__u32		state;
	__u8		regs_mask;	/* bit i: check regs[i] */
	__u64		regs[XFSM_FLOW_REGS];
};
#define FLOW(stg, st, ...) \
	{ .used = true, .stage = (stg), .state = (st), .key = { __VA_ARGS__ } }
#define FLOW_R(stg, st, mask, r0, r1, r2, r3, ...)			\
	{ .used = true, .stage = (stg), .state = (st), .regs_mask = (mask), \
	  .regs = { (r0), (r1), (r2), (r3) }, .key = { __VA_ARGS__ } }
#define NOFLOW(stg, ...) \
	{ .used = true, .absent = true, .stage = (stg), .key = { __VA_ARGS__ } }

struct val_exp {
	bool		used;
	unsigned int	idx;
	__u64		a, b;		/* global: value; counter/rule: packets, bytes */
};
#define GLOBAL(i, v)	{ true, (i), (v), 0 }
#define COUNTER(i, p, b) { true, (i), (p), (b) }
#define RULE(i, p, b)	{ true, (i), (p), (b) }

struct golden;
typedef bool (*golden_check_fn)(struct xt *t, const struct golden *g,
				const struct pkt *in, const struct xt_result *r);

struct golden {
	const char	*desc;
	struct pkt_spec	pkt;
	void		(*build)(struct pkt *p);	/* instead of pkt */
	const uint8_t	*bytes;		/* literal frame, instead of both */
	size_t		n_bytes;
	__u32		advance_ms;	/* sleep / advance the clock before */
	__u32		port;		/* set xfsm_ports[ifindex 1] = port before */
	/* run before the packet, after advance_ms and port (a flow's
	 * timers written as a clock could not make them) */
	bool		(*before)(struct xt *t);
	__u32		verdict;	/* XDP_* */
	void		(*build_out)(struct pkt *p);	/* expected output */
	const uint8_t	*out_bytes;	/* literal expected output */
	size_t		n_out_bytes;
	bool		any_out;	/* do not compare the output */
	struct stat_exp	stats[8];	/* exc_* and malformed are strict */
	struct sstat_exp sstats[8];
	struct flow_exp	flows[4];
	struct val_exp	globals[3];
	struct val_exp	counters[2];	/* absolute values */
	struct val_exp	rules[4];	/* absolute values */
	golden_check_fn	check;
};

#define LITERAL(a)	.bytes = (a), .n_bytes = sizeof(a)
#define LITERAL_OUT(a)	.out_bytes = (a), .n_out_bytes = sizeof(a)

#define SC_NATIVE	(1U << 0)
#define SC_OFFLOAD	(1U << 1)
#define SC_BOTH		(SC_NATIVE | SC_OFFLOAD)

struct scenario {
	const char	*name;
	int		(*build_app)(struct xfsm_image *img);
	int		(*setup)(struct xt *t);
	const struct golden *steps;
	size_t		n_steps;
	unsigned int	flags;
	__u32		flows_max;	/* non-zero: own instance with this many */
	__u32		flows_type;	/* BPF_MAP_TYPE_* for that instance */
};

#define SCENARIO(n, app, set, st, fl) \
	{ .name = (n), .build_app = (app), .setup = (set), .steps = (st), \
	  .n_steps = ARRAY_SIZE(st), .flags = (fl) }

/* Run one scenario: on t (reset first) or, when the scenario needs its own
 * map sizing, on a freshly loaded instance of the same profile. */
void run_scenario(struct xt *t, const struct scenario *sc);
/* Run one step on an already prepared instance. */
bool run_step(struct xt *t, const struct golden *g, unsigned int n_stages);
bool scenario_runs_on(const struct scenario *sc, enum xt_profile profile);

/* Shared tables (harness/scen_*.c). */
extern const struct scenario xfsm_scenarios[];
extern const size_t n_xfsm_scenarios;
extern const struct scenario action_scenarios[];
extern const size_t n_action_scenarios;

/* A literal frame computed outside the harness (scen_actions.c). */
extern const uint8_t lit_udp_ttl64[];
extern const size_t lit_udp_ttl64_len;

/* Parser tables: field capture and malformed classes. */
struct field_val {
	__u8	word;
	__u32	value;
};

struct parse_case {
	const char	*desc;
	void		(*build)(struct pkt *p);
	struct field_val fields[32];	/* every other word must read 0 */
	unsigned int	n_fields;	/* filled in by the counting macro */
};

struct malformed_case {
	const char	*desc;
	void		(*build)(struct pkt *p);
	const char	*exc_name;
	size_t		exc_off;	/* 0: not malformed (must pass through) */
};
#define EXC(f)		#f, offsetof(struct xfsm_stats, f)

extern const struct parse_case parse_cases[];
extern const size_t n_parse_cases;
extern const struct malformed_case malformed_cases[];
extern const size_t n_malformed_cases;

/* The field-capture application: its stages key on every field word the
 * profile has (0..XFSM_FW_NWORDS_USED-1, offload: XFSM_OFFLOAD_FV_WORDS). */
int capture_app(struct xfsm_image *img, bool offload);
bool run_parse_case(struct xt *t, const struct parse_case *pc);
bool run_malformed_case(struct xt *t, const struct malformed_case *mc,
			enum xfsm_verdict mverdict);
/* Truncate a valid frame at every length from 14 to len - 1; each cut must
 * count exactly one exception (of the allowed ones for its position) and
 * give the malformed verdict.  fix: make IP lengths agree with the cut. */
/* Frames for the truncation sweeps (scen_parser.c). */
void sweep_qinq_ip4_tcp(struct pkt *p);
void sweep_ip6_ext_udp(struct pkt *p);
void sweep_vlan_arp(struct pkt *p);
void sweep_ip4_icmp(struct pkt *p);
void sweep_ip6_icmp6(struct pkt *p);

bool run_truncation_sweep(struct xt *t, void (*build)(struct pkt *p), bool fix);

/* Every counter of struct xfsm_stats by name (rx_packets, act_drop,
 * exc_trunc_eth, fib_forwarded, ...), in the struct's order. */
struct stat_field {
	const char *name;
	size_t off;
};
#define N_STAT_FIELDS	(sizeof(struct xfsm_stats) / sizeof(__u64))
extern const struct stat_field stat_fields[];

/* Compare two stats snapshots: only the listed counters may move, by
 * exactly the listed amount (exc_* and malformed strictly). */
bool check_stats_delta(const struct xfsm_stats *before, const struct xfsm_stats *after,
		       const struct stat_exp *exp, size_t n_exp, __u32 verdict,
		       __u32 len, bool strict_verdicts);

#endif /* XT_GOLDEN_H */
