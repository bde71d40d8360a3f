/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The specializer's internals (lib/spec/): the generator's context, the
 * generated program's register roles and stack frame, and the small
 * emitters the passes share.  The reference semantics are the generic
 * datapath's (bpf/xfsm.bpf.c and the headers of bpf/); each emitter names the
 * function it stands for.
 */
#ifndef XFSM_SPEC_INTERNAL_H
#define XFSM_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "xfsm_spec.h"

/*
 * Registers.  R1-R5 are scratch (every helper call clobbers them) and R0
 * takes results; the callee-saved ones hold what lives across calls.
 */
enum {
	SR_CTX = XR6,		/* struct xdp_md *, the whole program */
	SR_STATS = XR7,		/* xfsm_stats value (this CPU's statistics block,
				 * struct xfsm_stats first), after the parser */
	SR_SS = XR8,		/* the running stage's statistics entry */
	SR_G = XR9,		/* xfsm_globals[0], when the application uses globals */
};

/*
 * The stack frame, as offsets from R10.  Field words live in fv[] at
 * their field-vector index; only the words the application reads are
 * ever written (and zeroed first, as the generic memset does).
 */
#define SO_FV		(-200)	/* __u32 fv[XFSM_FV_WORDS] */
#define SO_KEY		(-248)	/* struct xfsm_flow_key (48 bytes) */
#define SO_NOW		(-256)	/* __u64 arrival time, 0 until taken */
#define SO_RAND		(-260)	/* __u32 meta.random */
#define SO_TMP		(-264)	/* __u32 scratch map key */
#define SO_F		(-272)	/* lookup-scope flow (NULL: none) */
#define SO_UF		(-280)	/* the flow a rule writes */
#define SO_STATE	(-284)	/* __u32 the state the stage's rules see */
#define SO_CONDS	(-288)	/* __u32 condition vector */
#define SO_LOCK		(-296)	/* a held lock's value */
#define SO_VER		(-300)	/* __u32 flow version at expiry */
#define SO_DIVZ		(-304)	/* __u32 divisions by zero in a commit */
#define SO_EXP_AT	(-312)	/* __u64 expiry: when */
#define SO_EXP_STATE	(-316)	/* __u32 expiry: the rollback state */
#define SO_EXP_HARD	(-320)	/* __u32 expiry: 1 hard, 0 idle */
#define SO_GEN		(-328)	/* __u64 xfsm_port_gen[0] */
#define SO_ZFLOW	(-408)	/* struct xfsm_flow of zeros (80 bytes) */
#define SO_WREFRESH	(-416)	/* scratch __u64 */
#define SO_WF		(-424)	/* the flow a rule's transaction writes (NULL: none) */
#define SO_CS_OLD	(-428)	/* __u32 a rewrite's old bytes (checksum update) */
#define SO_CS_NEW	(-432)	/* __u32 its new bytes */
/* output group (act_group.c) */
#define SO_GRP_G	(-440)	/* the group's xfsm_group */
#define SO_GRP_GS	(-448)	/* its xfsm_group_stats (this CPU's) */
#define SO_GRP_CTR	(-456)	/* its round-robin counter (this CPU's) */
#define SO_GRP_FK	(-464)	/* struct xfsm_group_flow_key */
#define SO_GRP_START	(-468)	/* __u32 the first member tried */
#define SO_GRP_IDX	(-472)	/* __u32 the member taken */
#define SO_GRP_RR	(-476)	/* __u32 the counter follows the choice */
#define SO_GRP_I	(-480)	/* __u32 members skipped before it */
/* a compare-and-swap chain (update.c) */
#define SO_CAS_I	(-488)	/* __u64 slow attempts made (a full slot: the
				 * verifier bounds the loop by it) */
#define SO_CAS_DZ	(-492)	/* __u32 SO_DIVZ before the attempts */
/* output fib (act_fib.c): struct bpf_fib_lookup over SO_TMP..SO_KEY, which
 * nothing reads once the program's last action has begun */
#define SO_FIB		SO_TMP

static inline int so_fv(unsigned int word)
{
	return SO_FV + 4 * (int)word;
}

/* Where an operand's flow and state come from (opnd_read()'s f and state). */
enum spec_state_src {
	SS_SLOT,		/* p->state (SO_STATE) */
	SS_FLOW,		/* f->state, f not NULL */
	SS_FLOW_OR_ZERO,	/* f ? f->state : 0 */
	SS_FLOW_OR_SLOT,	/* f ? f->state : p->state */
};

struct spec_octx {
	int	fslot;		/* stack slot of f; 0: f is NULL */
	bool	f_nonnull;	/* f is known not NULL here */
	enum spec_state_src state;
};

/* Counters one path can defer before a flush (the datapath's rx pair,
 * a stage's packets, bytes and hit or miss, a rule's pair, an action's
 * and a verdict's counters: 9 today). */
#define SPEC_PEND_MAX	24

/* The generator's context. */
struct spec {
	struct xfsm_instance *inst;
	const struct xfsm_spec_input *in;
	const struct xfsm_app *app;
	struct xfsm_emit *e;
	__u32	omit;			/* XFSM_SPEC_OMIT_* (LOOKUPS implies COUNTS) */
	bool	need[XFSM_FV_WORDS];	/* field words the application reads */
	bool	uses_globals;
	unsigned int l_stage[XFSM_MAX_STAGES + 1];	/* [n_stages]: the end */
	unsigned int l_bail;		/* hand the packet to the generic program */
	unsigned int l_pass_raw;	/* XDP_PASS, nothing counted (never taken) */
	/* the layout the header rewrites being emitted are for: the IP
	 * header's offset (14, 18 behind one tag, 22 behind two) */
	int	l3;
	/* the parser: the frame's bytes its first check ensured on every
	 * path (need_bytes() emits no check within them) */
	int	parse_min;
	bool	push;		/* a vlan push can tag a tagged frame again:
				 * rewrites also for two tags */
	/* count groups (spec_defer()): the counters every packet reaching
	 * the point being emitted has counted since its last flush; the
	 * groups interned so far, each a run of in->groups->m */
	struct xfsm_cg_table *cg;	/* NULL: no grouping */
	bool	cg_overflow;		/* more groups than a slot has */
	bool	cg_off;			/* code no path reaches: no group */
	bool	end_used;		/* a jump to the pipeline's end */
	struct xfsm_cg_member pend[SPEC_PEND_MAX];
	unsigned int n_pend;
	unsigned int pend_floor;	/* pend[] below it: counted on this path */
	unsigned int g_start[XFSM_COUNT_GROUPS], g_len[XFSM_COUNT_GROUPS];
	/* the rules of the stage being generated, in the tuple search's order */
	const struct xfsm_rule_key **skey;
	const struct xfsm_rule **srule;
	size_t n_srule;
};

#define E(sp, insn)	xfsm_emit((sp)->e, insn)

/*
 * An instance with compact flow values (xfsm_build_info.compact_flows,
 * build/xfsm-compact.bpf.o): its tables hold struct xfsm_flow_head, and
 * the code generated for it never loads or stores a flow byte past
 * XFSM_FLOW_HEAD_SIZE.  Like the compact generic program, it sees no
 * hard deadline, reads flow registers as 0 and writes none (libxfsm
 * refuses there the applications that would use them).
 */
static inline bool spec_compact(const struct spec *sp)
{
	return sp->inst->build.compact_flows;
}

/* spec.c: shared emitters */
/* dst = value (a 64-bit constant, in the fewest instructions). */
void spec_mov_imm(struct spec *sp, int dst, __u64 v);
/* Is `map` an array of one entry, whose value the program may address
 * directly (xfsm_emit_map_value())? */
bool spec_map_direct(const struct spec *sp, int map);
/* dst = map value of array/per-CPU array `map` at constant `key`; a NULL
 * result jumps to `null_label` (a single-entry array's value is addressed
 * directly: no lookup, never NULL).  Clobbers R1-R5. */
void spec_lookup_const(struct spec *sp, int dst, int map, __u32 key, unsigned int null_label);
/* R0 = map value of `map` under the key at stack offset key_off; NULL
 * jumps to null_label.  Clobbers R1-R5. */
void spec_lookup_stack(struct spec *sp, int map, int key_off, unsigned int null_label);
/*
 * Statistics.  Counters are only ever changed through the emitters below,
 * and the values of statistics maps only ever looked up through
 * spec_stats_*(): they are where XFSM_SPEC_OMIT_COUNTS and _LOOKUPS leave
 * their part out (emit nothing).
 */
/* A packets/bytes counter pair at base: one packet of meta.len bytes. */
void spec_count_pkt(struct spec *sp, int base, int pkts_off, int bytes_off);
/* *(u64 *)(base + off) += imm (a per-CPU counter: plain add, as CNT_ADD). */
void spec_cnt_add(struct spec *sp, int base, int off, __s32 imm);
void spec_cnt_add_reg(struct spec *sp, int base, int off, int src);
/* The same through the value address kept in stack slot `slot`, loaded
 * into `base` first. */
void spec_cnt_add_at(struct spec *sp, int base, int slot, int off, __s32 imm);
void spec_cnt_add_reg_at(struct spec *sp, int base, int slot, int off, int src);
/*
 * Count groups.  spec_defer() records that every packet reaching the
 * point being emitted counts one more packet (bytes: its length) in
 * counter (space, index, off), and returns true; false when the program
 * does not group (then the caller increments the counter itself).  Only
 * counters that every path through the point counts may be deferred, so
 * that paths meeting again have deferred the same.  spec_pend_mark() and
 * _restore() bracket the code of one path (a rule's, a miss's): what it
 * deferred is not the next path's.  spec_pend_flush() increments, for
 * the path being emitted, the group standing for what it deferred (R7 +
 * the group's offset; clobbers R1, R2); it comes right before the path's
 * exit (spec_finish_*()) or its jump to a later stage (spec_goto()), where
 * nothing is pending any more.
 */
bool spec_defer(struct spec *sp, __u8 space, __u32 index, __u32 off, bool bytes);
unsigned int spec_pend_mark(const struct spec *sp);
void spec_pend_restore(struct spec *sp, unsigned int mark);
void spec_pend_flush(struct spec *sp);
/* Count what the path has deferred here, before it changes meta.len (a
 * vlan push or pop): a bytes counter counts the length the packet has
 * where the generic datapath counts it.  The path goes on with nothing
 * pending; spec_pend_restore() gives its siblings theirs back. */
void spec_pend_settle(struct spec *sp);
/* On to label `l_stage` (a later stage, or the end): flush, then jump. */
void spec_goto(struct spec *sp, unsigned int l_stage);
/* spec_cnt_add(sp, base, off, 1) or its deferral as (space, index, off). */
void spec_cnt_inc_g(struct spec *sp, int base, __u8 space, __u32 index, int off);
/* spec_count_pkt() or its deferral. */
void spec_count_pkt_g(struct spec *sp, int base, __u8 space, __u32 index, int pkts_off,
		      int bytes_off);
/* dst = the value of statistics map `map` at constant `key`
 * (spec_lookup_const()), for counters only. */
void spec_stats_const(struct spec *sp, int dst, int map, __u32 key, unsigned int null_label);
/* The same, spilled to stack slot `slot` (never NULL: an array's entry). */
void spec_stats_spill(struct spec *sp, int map, __u32 key, int slot);
/* R0 = the value of statistics map `map` at the __u32 key in register
 * `key` (through SO_TMP); NULL jumps to null_label.  Clobbers R1-R5. */
void spec_stats_reg(struct spec *sp, int map, int key, unsigned int null_label);
/* SR_SS = stage statistics entry `stats_id` (in the statistics block
 * after SR_STATS, or looked up), for counters only. */
void spec_stage_stats(struct spec *sp, __u32 stats_id);
/* Has the instance port counters (native profile)? */
bool spec_has_port_stats(const struct spec *sp);
/* R0 = port counters of the port number in register `port` (clobbered),
 * from SR_STATS; a port number out of range jumps to null_label. */
void spec_port_stats(struct spec *sp, int port, unsigned int null_label);
/* dst = the packet's arrival time, taken on first use (pkt_now()).
 * Clobbers R1-R5. */
void spec_now(struct spec *sp, int dst);
/* Count the packet's XDP action and end the program (finish()). */
void spec_finish_const(struct spec *sp, int act);
/* The same for an action held in R0 (XDP_DROP or XDP_REDIRECT here). */
void spec_finish_reg(struct spec *sp);
/* The same for any XDP action in R0 (a helper's answer). */
void spec_finish_any(struct spec *sp);
/* verdict_to_xdp() */
int spec_verdict_xdp(__u32 v);
/* Load operand o into dst (opnd_read()); uses dst and `tmp` only. */
void spec_opnd(struct spec *sp, int dst, int tmp, const struct xfsm_operand *o,
	       const struct spec_octx *ox);
/* Is the operand something the generator reads (a valid kind)? */
bool spec_opnd_ok(const struct xfsm_operand *o);
void spec_need_opnd(struct spec *sp, const struct xfsm_operand *o);

/* parse.c: the fast-path parser; bails to the generic program otherwise. */
void spec_parse(struct spec *sp);
void spec_bail(struct spec *sp);

/* stage.c */
int spec_stage(struct spec *sp, unsigned int stage);
void spec_need_stage(struct spec *sp, unsigned int stage);
/* Build the flow key of stage `stage` from a word list (flow_key_build()).
 * Clobbers R1, R2. */
/* The flow table of stage `stage`: its class's (xfsm_flow_table_class(),
 * as the generic program chooses it). */
int spec_flow_table(const struct spec *sp, unsigned int stage);
void spec_key(struct spec *sp, unsigned int stage, const __u8 *words, const __u8 *rev,
	      bool symmetric);
/* R0 = the striped lock of the key in SO_KEY (flow_lock()), built from
 * `words` (or `rev`); NULL jumps to null_label.  Clobbers R1-R5. */
void spec_flow_lock(struct spec *sp, unsigned int stage, const __u8 *words, const __u8 *rev,
		    bool symmetric, unsigned int null_label);

/* No rule matched: the stage's miss counter and its miss verdict (or the
 * next stage). */
void spec_stage_miss(struct spec *sp, unsigned int stage);
/* A matched rule's writes and actions (after its counters); ends the
 * program or jumps on. */
int spec_rule_body(struct spec *sp, unsigned int stage, const struct xfsm_rule *r);

/* search.c: a stage of more rules than compared inline: the tuple search
 * over xfsm_rules (rule_lookup()), then the matched rule's counters and
 * the code of its behaviour; `order` the stage's rules (indexes into the
 * input) in the search's order.  Falls through when no rule matched. */
void spec_search(struct spec *sp, unsigned int stage, const size_t *order, size_t n);

/* acl.c: an ACL stage (xfsm_acl_run()) as first-match compares over the
 * table's rules, or (acl_walk.c) for a table of more than
 * XFSM_SPEC_ACL_INLINE_RULES the walk of its cut trees. */
void spec_acl_need(struct spec *sp, unsigned int stage);
int spec_acl_stage(struct spec *sp, unsigned int stage);
/* The table's xfsm_acl_stats value (this CPU's), kept on the stack for
 * the stage (an ACL stage runs no output group). */
#define SO_ACL_AS	SO_GRP_G
/* The table's counter at `off` += 1.  Clobbers R1, R3. */
void spec_acl_cnt(struct spec *sp, int off);
/* The walk and the matched rule's counters and action; falls through
 * when no rule matched (the `missed` counter and the miss verdict are the
 * caller's). */
void spec_acl_walk(struct spec *sp, unsigned int stage);

/* update.c: a matched rule's writes (stage_write()); the flow the actions
 * see is left in SO_F. */
void spec_write(struct spec *sp, unsigned int stage, const struct xfsm_rule *r);
int spec_write_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r);

/* actions.c: a matched rule's actions; ends the program or jumps on. */
int spec_actions(struct spec *sp, unsigned int stage, const struct xfsm_rule *r,
		 const struct spec_octx *ox);
int spec_actions_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r);
void spec_need_actions(struct spec *sp, const struct xfsm_rule *r);
/* R1 = the frame with `n` bytes checked (the parser checked them: the
 * verifier wants it again after any call), else to `fail`.  Uses R2, R3. */
void spec_frame(struct spec *sp, int n, unsigned int fail);
/* do_output() to the port in R2: redirect, bad_port, the port's tx
 * counters; ends the program. */
void spec_output_reg(struct spec *sp);
/* rw_eth(): the value in R4 as the destination (dst) or source MAC;
 * `fail` when the frame is shorter than an Ethernet header. */
void spec_rw_eth(struct spec *sp, bool dst, unsigned int fail);

/* act_group.c: output group `gid` (xfsm_group_select(), then do_output());
 * ends the program. */
void spec_group(struct spec *sp, __u32 gid);
void spec_need_group(struct spec *sp);

/* rw_ip(): DSCP, ECN, TTL rewrites of the fast path's IPv4 (v6 false) or
 * IPv6 header, the value in R4. */
void spec_rw_ip(struct spec *sp, __u8 type, bool v6, unsigned int fail, unsigned int expired);

/* act_fib.c: output fib (fib_forward()); ends the program. */
void spec_fib(struct spec *sp);
int spec_fib_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r);
void spec_need_fib(struct spec *sp);

/* act_arp.c: arp reply, the MAC in R4: ends the program (XDP_TX) when the
 * frame is an Ethernet/IPv4 ARP request, else counts rewrite_failed. */
void spec_arp_reply(struct spec *sp);
void spec_need_arp(struct spec *sp);

/* act_l2.c: vlan push (the VLAN id in R4) and pop (rw_vlan()), with
 * their counters; the field words and packet flags follow the frame. */
void spec_vlan(struct spec *sp, bool push);
void spec_need_vlan(struct spec *sp, bool push);

#endif /* XFSM_SPEC_INTERNAL_H */
