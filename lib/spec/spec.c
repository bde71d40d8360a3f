// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The specializer's entry (lib/xfsm_spec.h): the program's skeleton and
 * the emitters every pass shares.  The program does, for one application,
 * what xfsm_xdp() in bpf/xfsm.bpf.c does after its tail call: parse (the
 * fast path only; any other packet goes back to the generic program
 * before anything is counted), count the packet, find its ingress port,
 * run the stages, count the verdict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "spec/internal.h"
#include "apply_internal.h"

/* ---- Shared emitters ---------------------------------------------------- */

void spec_mov_imm(struct spec *sp, int dst, __u64 v)
{
	if (v <= 0x7fffffffULL)
		E(sp, XI_MOV64_IMM(dst, (__s32)v));
	else if (v <= 0xffffffffULL)
		E(sp, XI_MOV32_IMM(dst, (__s32)(__u32)v));	/* zero-extends */
	else
		xfsm_emit_imm64(sp->e, dst, v);
}

void spec_lookup_stack(struct spec *sp, int map, int key_off, unsigned int null_label)
{
	int fd = sp->inst->map_fd[map];

	if (fd < 0) {
		xfsm_emit_fail(sp->e, -EOPNOTSUPP, "the instance has no map %s",
			       xfsm_map_names[map]);
		return;
	}
	xfsm_emit_map(sp->e, XR1, fd);
	E(sp, XI_MOV64_REG(XR2, XFP));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR2, key_off));
	E(sp, XI_CALL(BPF_FUNC_map_lookup_elem));
	if (null_label == sp->l_pass_raw) {
		/* never taken (an array's entry): an exit on the spot keeps
		 * the jump short in a long program */
		E(sp, XI_JMP_IMM(BPF_JNE, XR0, 0, 2));
		E(sp, XI_MOV64_IMM(XR0, XDP_PASS));
		E(sp, XI_EXIT());
	} else {
		xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, XR0, 0, null_label);
	}
}

bool spec_map_direct(const struct spec *sp, int map)
{
	return sp->inst->map_fd[map] >= 0 && sp->inst->map_type[map] == BPF_MAP_TYPE_ARRAY &&
	       sp->inst->map_max_entries[map] == 1;
}

void spec_lookup_const(struct spec *sp, int dst, int map, __u32 key, unsigned int null_label)
{
	if (key == 0 && spec_map_direct(sp, map)) {
		/* the one value's address, resolved at load: never NULL */
		xfsm_emit_map_value(sp->e, dst, sp->inst->map_fd[map], 0);
		return;
	}
	E(sp, XI_ST(BPF_W, XFP, SO_TMP, (__s32)key));
	spec_lookup_stack(sp, map, SO_TMP, null_label);
	if (dst != XR0)
		E(sp, XI_MOV64_REG(dst, XR0));
}

/* Are counters changed (XFSM_SPEC_OMIT_COUNTS, or _LOOKUPS, not asked
 * for)?  The one check of the increments. */
static bool counts_kept(const struct spec *sp)
{
	return !(sp->omit & XFSM_SPEC_OMIT_COUNTS);
}

/* Are statistics maps looked up (XFSM_SPEC_OMIT_LOOKUPS not asked for)?
 * The one check of those lookups. */
static bool stats_kept(const struct spec *sp)
{
	return !(sp->omit & XFSM_SPEC_OMIT_LOOKUPS);
}

void spec_count_pkt(struct spec *sp, int base, int pkts_off, int bytes_off)
{
	if (!counts_kept(sp))
		return;
	spec_cnt_add(sp, base, pkts_off, 1);
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_META_LEN)));
	spec_cnt_add_reg(sp, base, bytes_off, XR2);
}

void spec_cnt_add(struct spec *sp, int base, int off, __s32 imm)
{
	if (!counts_kept(sp))
		return;
	E(sp, XI_LDX(BPF_DW, XR1, base, off));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR1, imm));
	E(sp, XI_STX(BPF_DW, base, XR1, off));
}

void spec_cnt_add_reg(struct spec *sp, int base, int off, int src)
{
	int tmp = src == XR1 ? XR2 : XR1;

	if (!counts_kept(sp))
		return;
	E(sp, XI_LDX(BPF_DW, tmp, base, off));
	E(sp, XI_ALU64_REG(BPF_ADD, tmp, src));
	E(sp, XI_STX(BPF_DW, base, tmp, off));
}

void spec_cnt_add_at(struct spec *sp, int base, int slot, int off, __s32 imm)
{
	if (!counts_kept(sp))
		return;
	E(sp, XI_LDX(BPF_DW, base, XFP, slot));
	spec_cnt_add(sp, base, off, imm);
}

void spec_cnt_add_reg_at(struct spec *sp, int base, int slot, int off, int src)
{
	if (!counts_kept(sp))
		return;
	E(sp, XI_LDX(BPF_DW, base, XFP, slot));
	spec_cnt_add_reg(sp, base, off, src);
}

/* ---- count groups ------------------------------------------------------ */

static bool grouping(const struct spec *sp)
{
	return sp->cg && !sp->cg_off && counts_kept(sp) && stats_kept(sp);
}

bool spec_defer(struct spec *sp, __u8 space, __u32 index, __u32 off, bool bytes)
{
	if (!grouping(sp))
		return false;
	if (sp->n_pend == SPEC_PEND_MAX) {
		sp->cg_overflow = true;	/* generated again without groups */
		return true;
	}
	sp->pend[sp->n_pend++] = (struct xfsm_cg_member){
		.space = space, .bytes = bytes, .index = index, .off = off,
	};
	return true;
}

unsigned int spec_pend_mark(const struct spec *sp)
{
	return sp->n_pend | sp->pend_floor << 16;
}

void spec_pend_restore(struct spec *sp, unsigned int mark)
{
	sp->n_pend = mark & 0xffff;
	sp->pend_floor = mark >> 16;
}

/* The group standing for the pending counters (sorted: the same set
 * deferred in another order is the same group), new if no group has
 * them; -1 when the slot has no group left (sp->cg_overflow). */
static int intern(struct spec *sp)
{
	struct xfsm_cg_table *t = sp->cg;
	struct xfsm_cg_member set[SPEC_PEND_MAX];
	unsigned int n = sp->n_pend - sp->pend_floor, g, i;

	memcpy(set, sp->pend + sp->pend_floor, n * sizeof(set[0]));
	qsort(set, n, sizeof(set[0]), xfsm_cg_member_cmp);
	for (g = 0; g < t->n_groups; g++) {
		if (sp->g_len[g] != n)
			continue;
		for (i = 0; i < n; i++)
			set[i].group = (__u16)g;	/* the order compares groups too */
		for (i = 0; i < n; i++)
			if (xfsm_cg_member_cmp(&t->m[sp->g_start[g] + i], &set[i]))
				break;
		if (i == n)
			return (int)g;
	}
	if (t->n_groups == XFSM_COUNT_GROUPS) {
		sp->cg_overflow = true;
		return -1;
	}
	if (t->n + n > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct xfsm_cg_member *m;

		while (cap < t->n + n)
			cap *= 2;
		m = realloc(t->m, cap * sizeof(*m));
		if (!m) {
			xfsm_emit_fail(sp->e, -ENOMEM, "out of memory");
			return -1;
		}
		t->m = m;
		t->cap = cap;
	}
	g = t->n_groups++;
	sp->g_start[g] = (unsigned int)t->n;
	sp->g_len[g] = n;
	for (i = 0; i < n; i++) {
		set[i].group = (__u16)g;
		t->m[t->n++] = set[i];
	}
	return (int)g;
}

void spec_pend_flush(struct spec *sp)
{
	struct xfsm_stats_loc loc;
	int g, off;

	if (!grouping(sp) || sp->n_pend == sp->pend_floor)
		return;
	g = intern(sp);
	if (g < 0)
		return;
	/* the slot's pairs, where libxfsm says they are */
	if (xfsm_stats_where(sp->inst, XFSM_SK_GROUPS, sp->in->slot, &loc)) {
		xfsm_emit_fail(sp->e, -EINVAL, "no count group pairs for slot %u", sp->in->slot);
		return;
	}
	off = (int)(loc.off + (size_t)g * sizeof(struct xfsm_count_group));
	xfsm_emit_note(sp->e, 1, "count group %d: %u counters", g, sp->n_pend - sp->pend_floor);
	spec_count_pkt(sp, SR_STATS, off + (int)offsetof(struct xfsm_count_group, packets),
		       off + (int)offsetof(struct xfsm_count_group, bytes));
}

void spec_pend_settle(struct spec *sp)
{
	spec_pend_flush(sp);
	sp->pend_floor = sp->n_pend;
}

void spec_goto(struct spec *sp, unsigned int l_stage)
{
	if (l_stage == sp->l_stage[sp->app->n_stages])
		sp->end_used = true;
	spec_pend_flush(sp);
	xfsm_emit_ja(sp->e, l_stage);
}

void spec_cnt_inc_g(struct spec *sp, int base, __u8 space, __u32 index, int off)
{
	if (!spec_defer(sp, space, index, (__u32)off, false))
		spec_cnt_add(sp, base, off, 1);
}

void spec_count_pkt_g(struct spec *sp, int base, __u8 space, __u32 index, int pkts_off,
		      int bytes_off)
{
	if (!grouping(sp)) {
		spec_count_pkt(sp, base, pkts_off, bytes_off);
		return;
	}
	spec_defer(sp, space, index, (__u32)pkts_off, false);
	spec_defer(sp, space, index, (__u32)bytes_off, true);
}

void spec_stats_const(struct spec *sp, int dst, int map, __u32 key, unsigned int null_label)
{
	if (stats_kept(sp))
		spec_lookup_const(sp, dst, map, key, null_label);
}

void spec_stats_spill(struct spec *sp, int map, __u32 key, int slot)
{
	if (!stats_kept(sp))
		return;
	spec_lookup_const(sp, XR0, map, key, sp->l_pass_raw);
	E(sp, XI_STX(BPF_DW, XFP, XR0, slot));
}

void spec_stats_reg(struct spec *sp, int map, int key, unsigned int null_label)
{
	if (!stats_kept(sp))
		return;
	E(sp, XI_STX(BPF_W, XFP, key, SO_TMP));
	spec_lookup_stack(sp, map, SO_TMP, null_label);
}

void spec_stage_stats(struct spec *sp, __u32 stats_id)
{
	struct xfsm_stats_loc loc;
	int err;

	if (!stats_kept(sp))
		return;
	err = xfsm_stats_where(sp->inst, XFSM_SK_STAGE, stats_id, &loc);
	if (err) {
		xfsm_emit_fail(sp->e, err, "stage statistics entry %u", stats_id);
		return;
	}
	if (loc.map != XFSM_M_STATS) {
		spec_lookup_const(sp, SR_SS, loc.map, loc.key, sp->l_pass_raw);
		return;
	}
	E(sp, XI_MOV64_REG(SR_SS, SR_STATS));
	E(sp, XI_ALU64_IMM(BPF_ADD, SR_SS, (__s32)loc.off));
}

bool spec_has_port_stats(const struct spec *sp)
{
	struct xfsm_stats_loc loc;

	return !xfsm_stats_where(sp->inst, XFSM_SK_PORT, 0, &loc);
}

_Static_assert(sizeof(struct xfsm_port_stats) == 1 << 5, "a port's counters are 32 bytes");

void spec_port_stats(struct spec *sp, int port, unsigned int null_label)
{
	struct xfsm_stats_loc loc;
	int err;

	if (!stats_kept(sp))
		return;
	err = xfsm_stats_where(sp->inst, XFSM_SK_PORT, 0, &loc);
	if (err) {
		xfsm_emit_fail(sp->e, err, "the instance has no port counters");
		return;
	}
	/* bounded for the verifier: the block's port[] entry by a variable
	 * offset of at most (XFSM_MAX_PORTS - 1) * 32 */
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JGE, port, XFSM_MAX_PORTS, null_label);
	E(sp, XI_ALU64_IMM(BPF_LSH, port, 5));
	E(sp, XI_MOV64_REG(XR0, SR_STATS));
	E(sp, XI_ALU64_REG(BPF_ADD, XR0, port));
	E(sp, XI_ALU64_IMM(BPF_ADD, XR0, (__s32)loc.off));
}

void spec_now(struct spec *sp, int dst)
{
	unsigned int have = xfsm_emit_label(sp->e);

	E(sp, XI_LDX(BPF_DW, XR0, XFP, SO_NOW));
	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JNE, XR0, 0, have);
	E(sp, XI_CALL(BPF_FUNC_ktime_get_ns));
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_NOW));
	xfsm_emit_bind(sp->e, have);
	if (dst != XR0)
		E(sp, XI_MOV64_REG(dst, XR0));
}

int spec_verdict_xdp(__u32 v)
{
	switch (v) {
	case XFSM_VERDICT_DROP:
		return XDP_DROP;
	case XFSM_VERDICT_TX:
		return XDP_TX;
	default:
		return XDP_PASS;
	}
}

void spec_finish_const(struct spec *sp, int act)
{
	int off;

	switch (act) {
	case XDP_DROP:
		off = offsetof(struct xfsm_stats, verdict_drop);
		break;
	case XDP_TX:
		off = offsetof(struct xfsm_stats, verdict_tx);
		break;
	case XDP_REDIRECT:
		off = offsetof(struct xfsm_stats, verdict_redirect);
		break;
	default:
		act = XDP_PASS;
		off = offsetof(struct xfsm_stats, verdict_pass);
		break;
	}
	{
		unsigned int mark = spec_pend_mark(sp);

		spec_cnt_inc_g(sp, SR_STATS, XFSM_CG_DATAPATH, 0, off);
		spec_pend_flush(sp);
		spec_pend_restore(sp, mark);
	}
	E(sp, XI_MOV64_IMM(XR0, act));
	E(sp, XI_EXIT());
}

void spec_finish_reg(struct spec *sp)
{
	unsigned int redirect = xfsm_emit_label(sp->e);

	xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, XR0, XDP_REDIRECT, redirect);
	spec_finish_const(sp, XDP_DROP);
	xfsm_emit_bind(sp->e, redirect);
	spec_finish_const(sp, XDP_REDIRECT);
}

/* finish() of an XDP action in R0 that may be any: each case counted. */
void spec_finish_any(struct spec *sp)
{
	static const int acts[] = { XDP_DROP, XDP_TX, XDP_REDIRECT };
	unsigned int i;

	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		unsigned int next = xfsm_emit_label(sp->e);

		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JNE, XR0, acts[i], next);
		spec_finish_const(sp, acts[i]);
		xfsm_emit_bind(sp->e, next);
	}
	spec_finish_const(sp, XDP_PASS);
}

bool spec_opnd_ok(const struct xfsm_operand *o)
{
	switch (o->kind) {
	case XFSM_OPND_NONE:
	case XFSM_OPND_CONST:
	case XFSM_OPND_FLOW_REG:
	case XFSM_OPND_GLOBAL_REG:
	case XFSM_OPND_STATE:
		return true;
	case XFSM_OPND_FIELD:
		return o->width == 1 || o->width == 2;
	case XFSM_OPND_META:
		return o->index < XFSM_META__MAX;
	}
	return false;
}

/* fv_idx(): an index past the vector reads the always-zero word. */
static unsigned int fv_word(unsigned int i)
{
	return i < XFSM_FV_WORDS ? i : XFSM_FW_ZERO;
}

void spec_need_opnd(struct spec *sp, const struct xfsm_operand *o)
{
	switch (o->kind) {
	case XFSM_OPND_FIELD:
		sp->need[fv_word(o->index)] = true;
		if (o->width == 2)
			sp->need[fv_word(o->index + 1U)] = true;
		break;
	case XFSM_OPND_GLOBAL_REG:
		sp->uses_globals = true;
		break;
	case XFSM_OPND_META:
		if (o->index == XFSM_META_PORT)
			sp->need[XFSM_FW_META_PORT] = true;
		break;
	}
}

/* dst = the flow's state or the stage's, as ox says. */
static void opnd_state(struct spec *sp, int dst, const struct spec_octx *ox)
{
	unsigned int done = xfsm_emit_label(sp->e);

	if (!ox->fslot || ox->state == SS_SLOT) {
		if (ox->state == SS_FLOW_OR_ZERO || ox->state == SS_FLOW)
			E(sp, XI_MOV64_IMM(dst, 0));
		else
			E(sp, XI_LDX(BPF_W, dst, XFP, SO_STATE));
		return;
	}
	E(sp, XI_LDX(BPF_DW, dst, XFP, ox->fslot));
	if (!ox->f_nonnull) {
		if (ox->state == SS_FLOW_OR_SLOT) {
			unsigned int have = xfsm_emit_label(sp->e);

			xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JNE, dst, 0, have);
			E(sp, XI_LDX(BPF_W, dst, XFP, SO_STATE));
			xfsm_emit_ja(sp->e, done);
			xfsm_emit_bind(sp->e, have);
		} else {
			xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, dst, 0, done);	/* 0 */
		}
	}
	E(sp, XI_LDX(BPF_W, dst, dst, offsetof(struct xfsm_flow, state)));
	xfsm_emit_bind(sp->e, done);
}

void spec_opnd(struct spec *sp, int dst, int tmp, const struct xfsm_operand *o,
	       const struct spec_octx *ox)
{
	unsigned int done;

	switch (o->kind) {
	case XFSM_OPND_CONST:
		spec_mov_imm(sp, dst, o->value);
		return;
	case XFSM_OPND_FIELD:
		E(sp, XI_LDX(BPF_W, dst, XFP, so_fv(fv_word(o->index))));
		if (o->width == 2) {
			E(sp, XI_ALU64_IMM(BPF_LSH, dst, 32));
			E(sp, XI_LDX(BPF_W, tmp, XFP, so_fv(fv_word(o->index + 1U))));
			E(sp, XI_ALU64_REG(BPF_OR, dst, tmp));
		}
		return;
	case XFSM_OPND_FLOW_REG:
		if (!ox->fslot || spec_compact(sp)) {
			E(sp, XI_MOV64_IMM(dst, 0));
			return;
		}
		done = xfsm_emit_label(sp->e);
		E(sp, XI_LDX(BPF_DW, dst, XFP, ox->fslot));
		if (!ox->f_nonnull)
			xfsm_emit_jmp_imm(sp->e, BPF_JMP | BPF_JEQ, dst, 0, done);
		E(sp, XI_LDX(BPF_DW, dst, dst, offsetof(struct xfsm_flow, regs) +
			     8 * (o->index & (XFSM_FLOW_REGS - 1))));
		xfsm_emit_bind(sp->e, done);
		return;
	case XFSM_OPND_GLOBAL_REG:
		E(sp, XI_LDX(BPF_DW, dst, SR_G, offsetof(struct xfsm_globals, reg) +
			     8 * (o->index & (XFSM_GLOBAL_REGS - 1))));
		return;
	case XFSM_OPND_STATE:
		opnd_state(sp, dst, ox);
		return;
	case XFSM_OPND_META:
		switch (o->index) {
		case XFSM_META_LEN:
			E(sp, XI_LDX(BPF_W, dst, XFP, so_fv(XFSM_FW_META_LEN)));
			return;
		case XFSM_META_PORT:
			E(sp, XI_LDX(BPF_W, dst, XFP, so_fv(XFSM_FW_META_PORT)));
			return;
		case XFSM_META_TIME:
			E(sp, XI_LDX(BPF_DW, dst, XFP, SO_NOW));
			return;
		case XFSM_META_IFINDEX:
			E(sp, XI_LDX(BPF_W, dst, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
			return;
		case XFSM_META_RANDOM:
			E(sp, XI_LDX(BPF_W, dst, XFP, SO_RAND));
			return;
		}
		break;
	}
	E(sp, XI_MOV64_IMM(dst, 0));
}

/* ---- The program ---------------------------------------------------------- */

/* reg = xfsm_port_gen[0], addressed directly (spec_map_direct()). */
static void port_gen_direct(struct spec *sp, int reg)
{
	xfsm_emit_map_value(sp->e, reg, sp->inst->map_fd[XFSM_M_PORT_GEN], 0);
	E(sp, XI_LDX(BPF_DW, reg, reg, 0));
}

/* Ports a program knows by heart (emit_port_known()). */
#define SPEC_KNOWN_PORTS	8

/* The port table as it stands, read in the order ingress_port() reads
 * it (its generation first, then the table): false when it cannot be
 * read whole or holds more than SPEC_KNOWN_PORTS interfaces. */
static bool read_ports(struct spec *sp, __u64 *gen, __u32 *ifindex, __u32 *port,
		       unsigned int *n)
{
	int fd = sp->inst->map_fd[XFSM_M_PORTS];
	__u32 zero = 0, key, next, *prev = NULL;
	struct xfsm_port pv;

	*n = 0;
	if (fd < 0 || bpf_map_lookup_elem(sp->inst->map_fd[XFSM_M_PORT_GEN], &zero, gen))
		return false;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &pv)) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile: the generation moves */
			return false;
		}
		if (*n == SPEC_KNOWN_PORTS)
			return false;
		ifindex[*n] = key;
		port[*n] = pv.port < XFSM_MAX_PORTS ? pv.port : 0;
		(*n)++;
	}
	return errno == ENOENT;
}

/* The ingress port from the port table as it was when the program was
 * generated, while xfsm_port_gen still holds that table's generation:
 * the condition under which a CPU's cache entry filled then would still
 * hold, without the per-CPU lookup and the cache's loads.  R1 = the port
 * (0: not a port), then on to `have`; another generation goes on to the
 * cache.  Nothing is emitted when the table is too large to compare
 * inline. */
static void emit_port_known(struct spec *sp, unsigned int have)
{
	__u32 ifindex[SPEC_KNOWN_PORTS], port[SPEC_KNOWN_PORTS];
	unsigned int cache = xfsm_emit_label(sp->e), n, i;
	__u64 gen;

	if (!read_ports(sp, &gen, ifindex, port, &n))
		return;
	xfsm_emit_note(sp->e, 1, "the port table of generation %llu (%u interface%s), while it stands",
		       (unsigned long long)gen, n, n == 1 ? "" : "s");
	port_gen_direct(sp, XR3);
	spec_mov_imm(sp, XR2, gen);
	xfsm_emit_jmp_reg(sp->e, BPF_JMP | BPF_JNE, XR3, XR2, cache);
	if (n)
		E(sp, XI_LDX(BPF_W, XR2, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
	for (i = 0; i < n; i++) {
		E(sp, XI_MOV64_IMM(XR1, port[i]));
		xfsm_emit_jmp_imm(sp->e, BPF_JMP32 | BPF_JEQ, XR2, (__s32)ifindex[i], have);
	}
	E(sp, XI_MOV64_IMM(XR1, 0));
	xfsm_emit_ja(sp->e, have);
	xfsm_emit_bind(sp->e, cache);
}

/* Does the application read meta.port (the generic program stores it only
 * when the application asked for it, XFSM_AF_NEEDS_PORT)? */
static bool reads_port(const struct spec *sp)
{
	return (sp->app->flags & XFSM_AF_NEEDS_PORT) && sp->need[XFSM_FW_META_PORT];
}

/* ingress_port() and the port's rx counters (bpf/xfsm.bpf.c).  With the
 * generation counter addressed directly, a cache hit costs one lookup
 * (xfsm_work) and no stack traffic; the generation is read once for the
 * compare and, on a miss, once before xfsm_ports is read, as the generic
 * program orders them (a cache entry never pairs a newer generation with
 * an older port). */
static void emit_port(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int miss = xfsm_emit_label(e), have = xfsm_emit_label(e);
	unsigned int done = xfsm_emit_label(e), set;
	unsigned int gen0 = xfsm_emit_label(e);
	const int po = XFSM_WORK_PORT_OFF;
	bool direct = spec_map_direct(sp, XFSM_M_PORT_GEN);

	xfsm_emit_note(e, 0, "ingress port (this CPU's cache, else xfsm_ports) and its rx counters");
	if (!direct) {
		E(sp, XI_ST(BPF_DW, XFP, SO_GEN, 0));
		spec_lookup_const(sp, XR0, XFSM_M_PORT_GEN, 0, gen0);
		E(sp, XI_LDX(BPF_DW, XR1, XR0, 0));
		E(sp, XI_STX(BPF_DW, XFP, XR1, SO_GEN));
		xfsm_emit_bind(e, gen0);
	} else {
		emit_port_known(sp, have);
	}
	spec_lookup_const(sp, XR0, XFSM_M_WORK, 0, sp->l_pass_raw);
	E(sp, XI_LDX(BPF_H, XR2, XR0, po + offsetof(struct xfsm_port_cache, valid)));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR2, 0, miss);
	E(sp, XI_LDX(BPF_W, XR2, XR0, po + offsetof(struct xfsm_port_cache, ifindex)));
	E(sp, XI_LDX(BPF_W, XR3, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JNE, XR2, XR3, miss);
	E(sp, XI_LDX(BPF_DW, XR2, XR0, po + offsetof(struct xfsm_port_cache, gen)));
	if (direct)
		port_gen_direct(sp, XR3);
	else
		E(sp, XI_LDX(BPF_DW, XR3, XFP, SO_GEN));
	xfsm_emit_jmp_reg(e, BPF_JMP | BPF_JNE, XR2, XR3, miss);
	E(sp, XI_LDX(BPF_H, XR1, XR0, po + offsetof(struct xfsm_port_cache, port)));
	xfsm_emit_ja(e, have);

	xfsm_emit_bind(e, miss);
	if (direct) {
		port_gen_direct(sp, XR3);
		E(sp, XI_STX(BPF_DW, XFP, XR3, SO_GEN));
	}
	E(sp, XI_STX(BPF_DW, XFP, XR0, SO_WREFRESH));
	E(sp, XI_LDX(BPF_W, XR1, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
	E(sp, XI_STX(BPF_W, XFP, XR1, SO_TMP));
	spec_lookup_stack(sp, XFSM_M_PORTS, SO_TMP, set = xfsm_emit_label(e));
	xfsm_emit_bind(e, set);	/* NULL goes on: no port */
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WREFRESH));
	E(sp, XI_LDX(BPF_DW, XR2, XFP, SO_GEN));
	E(sp, XI_STX(BPF_DW, XR1, XR2, po + offsetof(struct xfsm_port_cache, gen)));
	E(sp, XI_LDX(BPF_W, XR2, SR_CTX, offsetof(struct xdp_md, ingress_ifindex)));
	E(sp, XI_STX(BPF_W, XR1, XR2, po + offsetof(struct xfsm_port_cache, ifindex)));
	E(sp, XI_MOV64_IMM(XR3, 0));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, set = xfsm_emit_label(e));
	E(sp, XI_LDX(BPF_W, XR3, XR0, offsetof(struct xfsm_port, port)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JLT, XR3, XFSM_MAX_PORTS, set);
	E(sp, XI_MOV64_IMM(XR3, 0));
	xfsm_emit_bind(e, set);
	E(sp, XI_STX(BPF_H, XR1, XR3, po + offsetof(struct xfsm_port_cache, port)));
	E(sp, XI_ST(BPF_H, XR1, po + offsetof(struct xfsm_port_cache, valid), 1));
	E(sp, XI_MOV64_REG(XR1, XR3));

	xfsm_emit_bind(e, have);
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR1, 0, done);
	if (reads_port(sp))
		E(sp, XI_STX(BPF_W, XFP, XR1, so_fv(XFSM_FW_META_PORT)));
	if (spec_has_port_stats(sp)) {
		spec_port_stats(sp, XR1, done);
		spec_count_pkt(sp, XR0, offsetof(struct xfsm_port_stats, rx_packets),
			       offsetof(struct xfsm_port_stats, rx_bytes));
	}
	xfsm_emit_bind(e, done);
}

/* The program runs the packet only while the switch that installed it is
 * the last one (xfsm_ctl's generation is its application's: every switch
 * bumps it, so a program of the same slot from an earlier switch, with
 * other rules, never passes) and no observer listens; else the generic
 * program does (it tail-calls the running slot's program, or runs the
 * packet itself for the observers).  So a generated program is right
 * wherever it is entered: through the generic program's tail call, or
 * attached to an interface itself, even left there after later
 * switches.  A tail call that fails (no generic program in xfsm_progs:
 * not a datapath xfsm-loader loaded) passes the packet, as a bail does. */
static void emit_guard(struct spec *sp)
{
	struct xfsm_emit *e = sp->e;
	unsigned int other = xfsm_emit_label(e), run = xfsm_emit_label(e);

	xfsm_emit_note(e, 0, "generation %u (slot %u) running and no observer, else the generic program",
		       sp->app->generation, sp->in->slot);
	spec_lookup_const(sp, XR1, XFSM_M_CTL, 0, other);
	E(sp, XI_LDX(BPF_W, XR2, XR1, offsetof(struct xfsm_ctl, generation)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JNE, XR2, (__s32)sp->app->generation, other);
	E(sp, XI_LDX(BPF_W, XR2, XR1, offsetof(struct xfsm_ctl, observe)));
	xfsm_emit_jmp_imm(e, BPF_JMP32 | BPF_JEQ, XR2, 0, run);
	xfsm_emit_bind(e, other);
	E(sp, XI_MOV64_REG(XR1, SR_CTX));
	xfsm_emit_map(e, XR2, sp->inst->map_fd[XFSM_M_PROGS]);
	E(sp, XI_MOV64_IMM(XR3, XFSM_PROGS_GENERIC));
	E(sp, XI_CALL(BPF_FUNC_tail_call));
	E(sp, XI_MOV64_IMM(XR0, XDP_PASS));
	E(sp, XI_EXIT());
	xfsm_emit_bind(e, run);
}

static int check_app(struct spec *sp)
{
	const struct xfsm_app *app = sp->app;
	unsigned int s;

	if (app->n_stages > XFSM_MAX_STAGES) {
		xfsm_emit_fail(sp->e, -EINVAL, "the application has %u stages", app->n_stages);
		return sp->e->err;
	}
	if (sp->inst->map_fd[XFSM_M_WORK] < 0 || sp->inst->map_fd[XFSM_M_PROGS] < 0) {
		xfsm_emit_fail(sp->e, -EOPNOTSUPP,
			       "the instance has no %s or %s map (an older datapath)",
			       XFSM_MAP_WORK, XFSM_MAP_PROGS);
		return sp->e->err;
	}
	for (s = 0; s < app->n_stages; s++)
		spec_need_stage(sp, s);
	return sp->e->err;
}

static void emit_program(struct spec *sp)
{
	const struct xfsm_app *app = sp->app;
	struct xfsm_emit *e = sp->e;
	unsigned int s, w;

	sp->l_bail = xfsm_emit_label(e);
	sp->l_pass_raw = xfsm_emit_label(e);
	for (s = 0; s <= app->n_stages; s++)
		sp->l_stage[s] = xfsm_emit_label(e);

	xfsm_emit_note(e, 0, "prologue: the field words the application reads start at 0");
	E(sp, XI_MOV64_REG(SR_CTX, XR1));
	emit_guard(sp);
	sp->need[XFSM_FW_META_LEN] = true;
	for (w = 0; w < XFSM_FV_WORDS; w++)
		if (sp->need[w])
			E(sp, XI_ST(BPF_W, XFP, so_fv(w), 0));
	E(sp, XI_ST(BPF_DW, XFP, SO_NOW, 0));
	E(sp, XI_ST(BPF_W, XFP, SO_RAND, 0));

	spec_parse(sp);

	xfsm_emit_note(e, 0, "packet counters (nothing is changed before this point)");
	spec_stats_const(sp, SR_STATS, XFSM_M_STATS, 0, sp->l_pass_raw);
	spec_count_pkt_g(sp, SR_STATS, XFSM_CG_DATAPATH, 0, offsetof(struct xfsm_stats, rx_packets),
			 offsetof(struct xfsm_stats, rx_bytes));
	if (!app->n_stages) {
		xfsm_emit_note(e, 0, "no stage: exc_no_app, the default verdict");
		spec_cnt_add(sp, SR_STATS, offsetof(struct xfsm_stats, exc_no_app), 1);
		spec_finish_const(sp, spec_verdict_xdp(app->default_verdict));
	} else {
		if (app->flags & XFSM_AF_NEEDS_TIME) {
			xfsm_emit_note(e, 0, "meta.time: the arrival time");
			E(sp, XI_CALL(BPF_FUNC_ktime_get_ns));
			E(sp, XI_STX(BPF_DW, XFP, XR0, SO_NOW));
		}
		if (!(sp->omit & XFSM_SPEC_OMIT_PORT) || reads_port(sp))
			emit_port(sp);
		if (app->flags & XFSM_AF_NEEDS_RANDOM) {
			xfsm_emit_note(e, 0, "meta.random");
			E(sp, XI_CALL(BPF_FUNC_get_prandom_u32));
			E(sp, XI_STX(BPF_W, XFP, XR0, SO_RAND));
		}
		if (sp->uses_globals) {
			xfsm_emit_note(e, 0, "the global registers");
			spec_lookup_const(sp, SR_G, XFSM_M_GLOBALS, 0, sp->l_pass_raw);
		}
		for (s = 0; s < app->n_stages && !e->err; s++) {
			xfsm_emit_bind(e, sp->l_stage[s]);
			/* a later stage is only jumped to (spec_goto()): its
			 * paths arrive with nothing pending */
			if (s)
				sp->n_pend = sp->pend_floor = 0;
			spec_stage(sp, s);
		}
		xfsm_emit_bind(e, sp->l_stage[app->n_stages]);
		sp->n_pend = sp->pend_floor = 0;
		xfsm_emit_note(e, 0, "end of the pipeline: the default verdict");
		/* no jump to it (every stage ends each path): its code is
		 * dead, and a group for it would be a slot wasted */
		sp->cg_off = !sp->end_used;
		spec_finish_const(sp, spec_verdict_xdp(app->default_verdict));
		sp->cg_off = false;
	}

	xfsm_emit_bind(e, sp->l_bail);
	spec_bail(sp);
	xfsm_emit_bind(e, sp->l_pass_raw);
	xfsm_emit_note(e, 0, "unreachable (an array lookup failed): pass");
	E(sp, XI_MOV64_IMM(XR0, XDP_PASS));
	E(sp, XI_EXIT());
}

int xfsm_spec_generate(struct xfsm_instance *inst, const struct xfsm_spec_input *in,
		       struct xfsm_emit *e)
{
	struct spec sp = { .inst = inst, .in = in, .app = in ? in->app : NULL, .e = e,
			   .omit = in ? in->omit : 0, .l3 = ETH_HLEN };

	if (!inst || !in || !in->app) {
		xfsm_emit_fail(e, -EINVAL, "no application to specialize");
		return e->err;
	}
	if (in->omit & ~XFSM_SPEC_OMIT_ALL) {
		xfsm_emit_fail(e, -EINVAL, "omit bits %#x: not XFSM_SPEC_OMIT_*",
			       in->omit & ~XFSM_SPEC_OMIT_ALL);
		return e->err;
	}
	/* without the lookups, no counter has a value to change */
	if (sp.omit & XFSM_SPEC_OMIT_LOOKUPS)
		sp.omit |= XFSM_SPEC_OMIT_COUNTS;
	if (in->n_rules > XFSM_SPEC_MAX_RULES) {
		xfsm_emit_fail(e, -E2BIG, "%zu rules: more than the specializer takes (%d)",
			       in->n_rules, XFSM_SPEC_MAX_RULES);
		return e->err;
	}
	if (in->groups) {
		in->groups->n = 0;
		in->groups->n_groups = 0;
		/* the pairs live in the statistics block (after the parser's
		 * lookup of it, SR_STATS), their tables where apply installs
		 * them */
		if (xfsm_cg_supported(inst))
			sp.cg = in->groups;
	}
	if (!check_app(&sp))
		emit_program(&sp);
	if (!e->err && sp.cg_overflow) {
		/* more groups (or more counters on one path) than a slot
		 * has: again, the program counting every counter itself */
		xfsm_emit_free(e);
		xfsm_emit_init(e);
		in->groups->n = 0;
		in->groups->n_groups = 0;
		free(sp.skey);
		free(sp.srule);
		sp = (struct spec){ .inst = inst, .in = in, .app = in->app, .e = e,
				    .omit = sp.omit, .l3 = ETH_HLEN };
		if (!check_app(&sp))
			emit_program(&sp);
	}
	free(sp.skey);
	free(sp.srule);
	if (!e->err)
		xfsm_emit_finish(e);
	return e->err;
}
