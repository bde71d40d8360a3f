/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Which program runs an application slot (docs/specializer.md): the
 * record the application switch (lib/apply.c) keeps for each slot, so that
 * every tool can say whether the slot runs a specialized program or the
 * generic datapath and why, print the program with the generator's notes,
 * and regenerate in the mode the slot was switched with.  libxfsm
 * internals, shared with xfsmctl; not an installed API.
 *
 * The record is user-space data in the instance's xfsm_ids map, under
 * slot XFSM_IDS_DATAPATH + s (lib/datapath.c), written with the slot
 * before the switch like the slot's statistics identities: the record of
 * the running slot always describes the running application.
 */
#ifndef XFSM_DATAPATH_H
#define XFSM_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>

#include "libxfsm.h"
#include "codegen/emit.h"

struct xfsm_dp_record {
	__u32	generation;	/* of the slot's application */
	__u32	mode;		/* enum xfsm_datapath the switch was asked for */
	bool	specialized;	/* xfsm_progs[slot] holds its program */
	__u32	prog_id;	/* that program's kernel id */
	__u32	n_insns;	/* instructions generated */
	__u64	generate_ns;	/* time to generate ... */
	__u64	load_ns;	/* ... and to load (verify) it */
	char	why[256];	/* generic: why ("" when specialized) */
	/* The listing (xfsmctl show program): the instructions as generated,
	 * map references by xfsm_map_id (src_reg BPF_PSEUDO_MAP_FD or
	 * BPF_PSEUDO_MAP_VALUE, imm the id), and the generator's notes.
	 * Read only when asked; absent (n_insn 0) when too large to keep. */
	struct bpf_insn *insn;
	size_t	n_insn;
	struct xfsm_emit_note *note;
	size_t	n_note;
};

/* The listing is kept up to this many instructions (notes included, about
 * 1 MiB of xfsm_ids chunks); a larger program is printed from the
 * kernel's translation, without notes. */
#define XFSM_DP_LISTING_MAX	65536

/* Write slot's record; the listing is taken from e (NULL: none).  Map fds
 * in e's instructions are written as the instance's map ids. */
int xfsm_dp_record_write(struct xfsm_instance *inst, __u32 slot,
			 const struct xfsm_dp_record *r, const struct xfsm_emit *e);
/* Read slot's record (with the listing when `listing`).  -ENOENT: none
 * (a slot written by an older library). */
int xfsm_dp_record_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_dp_record *r,
			bool listing);
void xfsm_dp_record_free(struct xfsm_dp_record *r);

/* What runs the active slot, as `xfsmctl show` says it: the record of the
 * running slot checked against the application and xfsm_progs.  On
 * success r->why explains a generic datapath; a record that does not
 * match (a slot written by another library) reads as generic with a why.
 * *slot: the active slot. */
int xfsm_dp_running(struct xfsm_instance *inst, __u32 *slot, struct xfsm_dp_record *r,
		    bool listing);

/* The kernel's view of program id: its translated instructions (map
 * references as kernel map ids), for a program whose listing was not kept.
 * *insn is malloc'ed. */
int xfsm_dp_xlated(__u32 prog_id, struct bpf_insn **insn, size_t *n);

/*
 * Let go of the instance's xfsm_progs.  The generic program in
 * xfsm_progs[2] holds the instance's maps, and the kernel empties a
 * program array only when no process holds it any more (nor a pin): a
 * long-running reader (stats --watch, monitor) that kept it open would
 * keep the datapath's programs alive after an unload.
 */
void xfsm_dp_release(struct xfsm_instance *inst);

/* "auto", "generic", "specialized"; NULL for another value. */
const char *xfsm_datapath_name(__u32 mode);
/* The mode a word names, -EINVAL for another word. */
int xfsm_datapath_parse(const char *word, __u32 *mode);

#endif /* XFSM_DATAPATH_H */
