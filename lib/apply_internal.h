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

/* The running slot and its descriptor. */
int xfsm_running_slot(struct xfsm_instance *inst, __u32 *slot, struct xfsm_app *app);

/* What a slot's record holds besides the identities. */
struct xfsm_slot_meta {
	__u32	generation;	/* of the application in the slot */
	__u32	globals_set;	/* registers the application sets */
	__u32	reset_globals;	/* others become 0 */
	__u64	globals[XFSM_GLOBAL_REGS];
};

/* The slot's identities (sorted by kind and position) and record. */
int xfsm_slot_meta_write(struct xfsm_instance *inst, __u32 slot,
			 const struct xfsm_stat_idents *ids, const struct xfsm_slot_meta *meta);
int xfsm_slot_meta_read(struct xfsm_instance *inst, __u32 slot,
			struct xfsm_stat_idents *ids, struct xfsm_slot_meta *meta);

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

/* Write a built rule set into buffer `buf` of ACL table `table` (which no
 * application slot may name: it must be empty). */
int xfsm_acl_write_buffer(struct xfsm_instance *inst, unsigned int table, unsigned int buf,
			  const struct xfsm_acl_built *b, __u32 generation);
/* Empty the buffers of the tables in `tables` that `app` does not name. */
int xfsm_acl_settle(struct xfsm_instance *inst, const struct xfsm_app *app, __u32 tables);

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
