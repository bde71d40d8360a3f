/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The specializer (lib/spec/, docs/specializer.md): from an application as
 * it is written into an application slot, one XDP program that does what
 * the generic datapath does for that application and nothing else.  It
 * uses the instance's maps, so both datapaths share every flow, register
 * and counter.  libxfsm internals, not part of the installed API.
 *
 * How it runs: the generic program (bpf/xfsm.bpf.c) reads the active slot
 * and, while no observer listens, tail-calls xfsm_progs[slot]; an empty
 * entry means the generic datapath runs that slot.  A specialized program
 * that meets a packet it does not handle (a header layout outside its fast
 * path) sets the bail word of xfsm_work and tail-calls
 * xfsm_progs[XFSM_PROGS_GENERIC], the generic program, before it has
 * changed anything; the generic program clears the word and runs the packet.
 */
#ifndef XFSM_SPEC_H
#define XFSM_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "libxfsm.h"
#include "codegen/emit.h"

/* What the specializer gets: the slot's descriptor as it is written into
 * xfsm_apps (planned; statistics indexes assigned) and every rule of its
 * stateful stages as the rule table holds them (key.slot the stage's
 * rule_buf; rule.rule_id the statistics index, count actions the
 * counters' indexes). */
struct xfsm_spec_input {
	const struct xfsm_app *app;
	__u32 slot;				/* the application slot */
	const struct xfsm_rule_key *keys;
	const struct xfsm_rule *rules;
	size_t n_rules;
	/* The rules of each ACL table an ACL stage of the slot uses, in
	 * their order (first match first), from the buffer the slot names;
	 * bit t of acl_given: acl[t], acl_n[t] and acl_set[t] are table t's.
	 * acl_set[t] is the buffer's set descriptor as the datapath reads it
	 * (its regions' bases in the maps, its trees): a table of more than
	 * XFSM_SPEC_ACL_INLINE_RULES is generated as a walk of those trees. */
	const struct xfsm_acl_entry *acl[XFSM_ACL_TABLES];
	__u32 acl_n[XFSM_ACL_TABLES];
	struct xfsm_acl_set acl_set[XFSM_ACL_TABLES];
	__u32 acl_given;
	/* XFSM_SPEC_OMIT_*: parts left out, for measurement only; 0 (what
	 * xfsmctl apply and xfsm_spec_input_read() give) is the whole program. */
	__u32 omit;
	/* Count groups (struct xfsm_count_group in xfsm/abi.h): when set, the
	 * program counts with them and the generator fills *groups (emptied
	 * first; the caller frees m) with the counters each group stands
	 * for, for libxfsm's readers.  NULL: every counter incremented
	 * itself.  The offload profile, with no statistics block, never
	 * groups; nor does a program needing more than XFSM_COUNT_GROUPS. */
	struct xfsm_cg_table *groups;
};

/*
 * Parts of the generated program that xfsm_spec_input.omit leaves out, to
 * measure what each costs next to the hand-written reference (bench/micro.c,
 * `-o specbreak`).  A program generated with any of them is NOT what xfsm
 * runs: its counters stay still, so its statistics are wrong.  Nothing in
 * libxfsm sets them.
 *
 * COUNTS   every counter increment: packet, verdict, action, exception,
 *          stage, rule, port, ACL table, group and count-action counters
 * LOOKUPS  the lookups of the statistics maps whose value only counters use
 *          (xfsm_stats, stage, rule, port and ACL table statistics, a count
 *          action's counter); implies COUNTS.  An output group's statistics
 *          stay looked up: that lookup's failure drops the packet.
 * PORT     the ingress port block (this CPU's port cache, xfsm_ports, the
 *          port's rx counters), unless the application reads meta.port
 */
#define XFSM_SPEC_OMIT_COUNTS	(1U << 0)
#define XFSM_SPEC_OMIT_LOOKUPS	(1U << 1)
#define XFSM_SPEC_OMIT_PORT	(1U << 2)
#define XFSM_SPEC_OMIT_ALL	(XFSM_SPEC_OMIT_COUNTS | XFSM_SPEC_OMIT_LOOKUPS | XFSM_SPEC_OMIT_PORT)

/* Applications with more rules than this stay generic (docs/specializer.md). */
#define XFSM_SPEC_MAX_RULES	131072
/* ACL tables of up to this many rules are compared inline, rule by rule;
 * larger ones walk the table's cut trees in the maps, as the generic
 * datapath does (lib/spec/acl_walk.c).  Measured on ClassBench acl1
 * prefixes (docs/specializer.md): the compares are faster up to 32
 * rules, the walk from 64 (and it verifies in constant time). */
#define XFSM_SPEC_ACL_INLINE_RULES	48

/*
 * Generate the program into *e (initialised by the caller, freed by the
 * caller with xfsm_emit_free()).  0 on success; -EOPNOTSUPP when the
 * application uses something the specializer does not handle, -E2BIG when
 * it is too large, with e->why naming the construct (stage, rule); -EINVAL
 * for an omit bit outside XFSM_SPEC_OMIT_ALL; any other negative errno on
 * failure.
 */
int xfsm_spec_generate(struct xfsm_instance *inst, const struct xfsm_spec_input *in,
		       struct xfsm_emit *e);

/*
 * The generator's input for application slot `slot` as the instance's maps
 * hold it: xfsm_apps[slot] and the xfsm_rules entries of each stateful
 * stage's rule buffer.  0, or a negative errno (logged).  *in is the
 * caller's to free with xfsm_spec_input_free().
 */
int xfsm_spec_input_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_spec_input *in);
void xfsm_spec_input_free(struct xfsm_spec_input *in);

/*
 * The ACL rules of in->app's ACL stages into in->acl[] (copies, freed by
 * xfsm_spec_input_acl_free()): table t from built[t] when the change
 * rebuilt it (built may be NULL), else from the buffer in->app names.
 */
struct xfsm_acl_built;
int xfsm_spec_input_acl(struct xfsm_instance *inst, struct xfsm_spec_input *in,
			struct xfsm_acl_built *const *built);
void xfsm_spec_input_acl_free(struct xfsm_spec_input *in);

#endif /* XFSM_SPEC_H */
