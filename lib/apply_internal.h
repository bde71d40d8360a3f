/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * libxfsm inside: what the application switch (lib/apply.c) needs from the
 * statistics identities (lib/stat_ids.c), the ACL module (lib/acl.c) and
 * output groups (lib/group.c).  Not installed, not an API.
 */
#ifndef XFSM_APPLY_INTERNAL_H
#define XFSM_APPLY_INTERNAL_H

#include "libxfsm.h"
#include "xfsm_acl.h"
#include "xfsm_group.h"

/*
 * An application switch: everything that changes what the application is.
 * Stages, rules, source and statistics identities come from an image (or
 * stay as they run); ACL tables and output groups given here are replaced
 * (the others stay as they run).
 */
struct xfsm_change {
	const struct xfsm_image *img;	/* NULL: stages and rules stay */
	bool	flush_flows;		/* with img: struct xfsm_apply_opts */
	bool	reset_globals;
	bool	force;		/* xfsm_lang_apply(): even when identical */
	bool	complete;		/* with img: acl_tables and groups are all
					 * the ones its source declares */
	__u32	acl_tables;		/* bit t: replace ACL table t ... */
	const struct xfsm_acl_entry *acl_rules[XFSM_ACL_TABLES]; /* ... by these */
	size_t	acl_n[XFSM_ACL_TABLES];
	__u64	groups;			/* bit g: replace output group g ... */
	const struct xfsm_group *group[XFSM_MAX_GROUPS]; /* ... by this (NULL: delete) */
	bool	datapath_set;		/* run it as `datapath` asks (enum
					 * xfsm_datapath); else in the mode the
					 * running application was switched with */
	__u32	datapath;
	bool	unchecked_ports;	/* struct xfsm_apply_opts */
	bool	rules_only;
	/* Where the source first sends to each port ("FILE:LINE:COL",
	 * xfsm_app_names.port_use), for the error naming a port the
	 * instance lacks; NULL: no source. */
	char	*const *port_use;
};

/*
 * Switch the application atomically, whatever moment the process dies:
 *
 *   1. everything new is written where the running application does not
 *      look: the other application slot (stages, source, identities), the
 *      other buffer of each changed stage's rules, of each changed ACL
 *      table and of each changed group; new statistics indexes are zeroed;
 *   2. one update of xfsm_ctl (active slot) switches all of it;
 *   3. after every packet that may use the old side has finished
 *      (xfsm_sync_rcu), the old side is cleared.
 *
 * xfsm_ctl.flags has XFSM_CTLF_DIRTY from before step 1 to after step 3:
 * the next writer that finds it set (a writer died) waits for in-flight
 * packets and clears what the running slot does not name before writing.
 * The program that runs the new slot (docs/specializer.md) is part of
 * step 1: generated and loaded before anything is written (a failure in
 * specialized mode changes nothing), put into xfsm_progs[B] (or that entry
 * emptied for the generic datapath) with the slot's datapath record.
 * A failure before step 2 leaves the running application untouched.
 * Global registers the image sets are written right after step 2 (they
 * are state, which packets change too); a writer that died before doing
 * so is completed by the next one.
 */
int xfsm_apply_change(struct xfsm_instance *inst, const struct xfsm_change *chg);

/* Would chg run the application in the mode the running one was
 * switched with?  (An identical application is then "unchanged".) */
bool xfsm_change_keeps_datapath(struct xfsm_instance *inst, const struct xfsm_change *chg);

/* chg's options from a caller's xfsm_apply_opts (NULL: the defaults);
 * -EINVAL for a structure this library cannot read. */
int xfsm_change_opts(struct xfsm_change *chg, const struct xfsm_apply_opts *opts);

/* The running slot and its descriptor. */
int xfsm_running_slot(struct xfsm_instance *inst, __u32 *slot, struct xfsm_app *app);

/* The running slot's descriptor in *app, which the caller frees; on an
 * error (-ENOMEM, or xfsm_running_slot()'s) *app is NULL. */
int xfsm_running_app_read(struct xfsm_instance *inst, struct xfsm_app **app);

/* Is a flow of key `key` (either table's) one the application `ctx`
 * (struct xfsm_app) cannot have: of a stage it lacks or that is not
 * stateful, or of another epoch of the stage's keys?  A switch deletes
 * such flows; xfsm_flow_set() refuses them. */
bool xfsm_flow_is_stale(const void *key, const void *value, void *ctx);
/* Free what xfsm_flow_set() keeps with an instance (lib/flows.c). */
void xfsm_flow_states_free(struct xfsm_flow_states *fs);

/* Count groups (lib/count_groups.c).  The cache of the instance handle. */
struct xfsm_cg_cache;
void xfsm_cg_cache_free(struct xfsm_cg_cache *c);
/* The sequence count of the groups' bookkeeping (0 before any write);
 * -ENOENT: the instance has no groups (offload profile). */
int xfsm_cg_seq(struct xfsm_instance *inst, __u64 *seq);
/* Has the instance count groups (the statistics block and the maps their
 * tables, baselines and folds live in)?  The one test: the specializer
 * groups only where xfsm_cg_install() takes a table. */
bool xfsm_cg_supported(const struct xfsm_instance *inst);
/* xfsm_cg_install() without its own grace period, for an apply: it
 * writes the other slot only after a grace period since any of that
 * slot's programs last ran (the wait after its switch, before
 * XFSM_CTLF_DIRTY is cleared, or recover()'s when it was not), so no
 * packet can still move the pairs it folds. */
int xfsm_cg_install_quiet(struct xfsm_instance *inst, __u32 slot,
			  const struct xfsm_cg_table *t);
/* qsort() order of struct xfsm_cg_member: by counter (space, index,
 * field), then group (the specializer interns a group's set in it). */
int xfsm_cg_member_cmp(const void *a, const void *b);
/* Add to `out` (the counter's struct, `size` bytes) what the groups of
 * both slots and the folds hold for counter (space, index), as of
 * sequence count `seq` (even, read before). */
int xfsm_cg_add(struct xfsm_instance *inst, __u64 seq, int space, __u32 index, void *out,
		size_t size);
/* Writers (under the instance lock): make the count odd, then even. */
int xfsm_cg_write_begin(struct xfsm_instance *inst, __u64 *seq);
/* A reader that finds the sequence count odd: when no writer holds the
 * instance lock, the last one died inside its write, and this ends the
 * odd spell for it (with the warning a writer gives); 0 then, -EBUSY
 * while a writer holds the lock, or a negative errno. */
int xfsm_cg_end_dead_write(struct xfsm_instance *inst);
/* xfsm_instance_lock() without waiting: -1 (errno EWOULDBLOCK) while
 * another holds it. */
int xfsm_instance_trylock(const struct xfsm_instance *inst);
int xfsm_cg_write_end(struct xfsm_instance *inst, __u64 seq);
/* Drop the folds of counters `idx[0..n-1]` of `space` (a fresh index:
 * its folded counts were the old object's). */
int xfsm_cg_fold_clear(struct xfsm_instance *inst, int space, const __u32 *idx, size_t n);
/* Inside a write: zero every fold (the sequence count's entry stays) and
 * every pair's baseline (stats --reset, which zeroes the block too). */
int xfsm_cg_reset_locked(struct xfsm_instance *inst);

/* What a slot's record holds besides the identities. */
struct xfsm_slot_meta {
	__u32	generation;	/* of the application in the slot */
	__u32	globals_set;	/* registers the application sets */
	__u32	reset_globals;	/* others become 0 */
	__u32	flags;		/* XFSM_SLOT_* */
	__u64	globals[XFSM_GLOBAL_REGS];
};

/* The slot's ACL tables and output groups are those its source declares:
 * it was switched to with all of them (xfsm_lang_apply()), and only its
 * stages and rules changed since (rule add|del).  An ACL or group edit
 * clears it. */
#define XFSM_SLOT_COMPLETE	(1U << 0)

/* Does the running slot (generation `generation`) have XFSM_SLOT_COMPLETE? */
bool xfsm_slot_complete(struct xfsm_instance *inst, __u32 slot, __u32 generation);

/* A byte string kept in xfsm_ids under key slot `key`, cut into chunks
 * (lib/stat_ids.c): written whole (chunks of a longer earlier string
 * deleted); read back by its first chunk, which starts with the __u32
 * `magic` and holds the string's length as a __u32 at len_off (at least
 * min_len).  *out is malloc'ed.  -ENOENT: none; -EPROTO: another magic or
 * a damaged string. */
int xfsm_ids_blob_write(struct xfsm_instance *inst, __u32 key, const void *buf, size_t len);
int xfsm_ids_blob_read(struct xfsm_instance *inst, __u32 key, __u32 magic, size_t len_off,
		       size_t min_len, char **out, size_t *out_len);

/* The slot's identities (sorted by kind and position) and record. */
int xfsm_slot_meta_write(struct xfsm_instance *inst, __u32 slot,
			 const struct xfsm_stat_idents *ids, const struct xfsm_slot_meta *meta);
int xfsm_slot_meta_read(struct xfsm_instance *inst, __u32 slot,
			struct xfsm_stat_idents *ids, struct xfsm_slot_meta *meta);

/* A new, zeroed entry at the end of img's rule array (grown as needed), or
 * NULL without memory.  The caller fills it and counts it in n_rules.
 * Zeroed, padding included, so that one application always gives the same
 * bytes, whatever the memory held before. */
struct xfsm_rule_entry *xfsm_image_new_entry(struct xfsm_image *img);

/* Set, then clear, bits of xfsm_ctl.observe; the caller holds the
 * instance lock (xfsm_ctl_set_observe() takes it). */
int xfsm_ctl_observe_locked(struct xfsm_instance *inst, __u32 set, __u32 clear);

/* Every object of an image with its identity (positional where the image
 * names none), sorted by kind and position, indexes not set. */
int xfsm_image_idents(const struct xfsm_image *img, struct xfsm_stat_idents *out);

/* Statistics indexes that start at 0: to be zeroed before the switch. */
struct xfsm_fresh {
	__u32	*index[XFSM_SID__COUNT];
	size_t	n[XFSM_SID__COUNT];
};

/* Give every identity of `nw` an index: the one `old` has for the same
 * kind and name, else one in 0..space[kind]-1 that `old` does not use
 * (listed in *fresh).  -ENOSPC when a kind runs out. */
int xfsm_stat_ids_assign(const struct xfsm_stat_idents *old, struct xfsm_stat_idents *nw,
			 const __u32 space[XFSM_SID__COUNT], struct xfsm_fresh *fresh);
void xfsm_fresh_free(struct xfsm_fresh *fresh);

/* Compile rules for ACL table `table` within its capacities (an error is
 * logged with the limit and the xfsm-loader option that raises it). */
int xfsm_acl_prepare(struct xfsm_instance *inst, unsigned int table,
		     const struct xfsm_acl_entry *rules, size_t n, struct xfsm_acl_built **out);
/* Write a built rule set into buffer `buf` of ACL table `table`, which the
 * running application slot does not name (no packet uses it). */
int xfsm_acl_write_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int buf,
			  const struct xfsm_acl_built *b, __u32 generation);
/* Empty the buffers of the tables in `tables` that `app` does not name. */
int xfsm_acl_settle(struct xfsm_instance *inst, const struct xfsm_app *app, __u32 tables);

/*
 * libxfsm's one port check (every switch makes it, lib/apply.c): the first
 * port of want[] that the instance lacks and that exempt(ctx, port)
 * (may be NULL) does not excuse, as an error in msg, "WHERE: error: port
 * P does not exist in instance ..." with WHERE = where[P] (where may be
 * NULL: no location); -ENOENT.  0 when there is none; a negative errno
 * (and msg) when the ports cannot be read.
 */
int xfsm_ports_check(struct xfsm_instance *inst, const bool want[XFSM_MAX_PORTS],
		     bool (*exempt)(void *ctx, unsigned int port), void *ctx,
		     char *const *where, char *msg, size_t len);

/* Group `id` as buffer `buf` holds it. */
int xfsm_group_read_buffer(struct xfsm_instance *inst, unsigned int id, unsigned int buf,
			   struct xfsm_group *g);
/* Write group `id` into buffer `buf` (g NULL: no such group). */
int xfsm_group_write_buffer(struct xfsm_instance *inst, unsigned int id, unsigned int buf,
			    const struct xfsm_group *g, __u32 generation);
/* A group removed: zero its statistics and round-robin counter and forget
 * its flows. */
int xfsm_group_forget(struct xfsm_instance *inst, unsigned int id);

#endif /* XFSM_APPLY_INTERNAL_H */
