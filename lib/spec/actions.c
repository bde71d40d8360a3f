// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * A matched rule's actions (actions_run() in bpf/actions.h), inlined in
 * rule order: verdicts, output to a port, goto, set mark and count.  The
 * header rewrites, groups, flooding, AF_XDP and fib forwarding are not
 * generated yet: an application that uses them stays generic.
 */
#include <errno.h>

#include "spec/internal.h"

static const char *act_name(__u8 type)
{
	static const char *const names[XFSM_ACT__MAX] = {
		[XFSM_ACT_NONE] = "none", [XFSM_ACT_DROP] = "drop", [XFSM_ACT_PASS] = "pass",
		[XFSM_ACT_TX] = "tx", [XFSM_ACT_OUTPUT] = "output", [XFSM_ACT_FLOOD] = "flood",
		[XFSM_ACT_GOTO] = "goto", [XFSM_ACT_SET_ETH_SRC] = "set eth.src",
		[XFSM_ACT_SET_ETH_DST] = "set eth.dst", [XFSM_ACT_SET_DSCP] = "set ip.dscp",
		[XFSM_ACT_SET_ECN] = "set ip.ecn", [XFSM_ACT_DEC_TTL] = "dec_ttl",
		[XFSM_ACT_COUNT] = "count", [XFSM_ACT_SET_MARK] = "set mark",
		[XFSM_ACT_OUTPUT_GROUP] = "output group", [XFSM_ACT_OUTPUT_XSK] = "output xsk",
		[XFSM_ACT_SET_TTL] = "set ip.ttl", [XFSM_ACT_SET_IP_SRC] = "set ip.src",
		[XFSM_ACT_SET_IP_DST] = "set ip.dst", [XFSM_ACT_SET_L4_SPORT] = "set l4.sport",
		[XFSM_ACT_SET_L4_DPORT] = "set l4.dport", [XFSM_ACT_VLAN_PUSH] = "vlan push",
		[XFSM_ACT_VLAN_POP] = "vlan pop", [XFSM_ACT_ARP_REPLY] = "arp reply",
		[XFSM_ACT_OUTPUT_FIB] = "output fib", [XFSM_ACT_SET_IP6_SRC] = "set ip6.src",
		[XFSM_ACT_SET_IP6_DST] = "set ip6.dst",
	};

	return type < XFSM_ACT__MAX && names[type] ? names[type] : "unknown";
}

static bool act_supported(__u8 type)
{
	switch (type) {
	case XFSM_ACT_NONE:
	case XFSM_ACT_DROP:
	case XFSM_ACT_PASS:
	case XFSM_ACT_TX:
	case XFSM_ACT_OUTPUT:
	case XFSM_ACT_GOTO:
	case XFSM_ACT_SET_MARK:
	case XFSM_ACT_COUNT:
		return true;
	}
	return false;
}

int spec_actions_check(struct spec *sp, unsigned int stage, const struct xfsm_rule *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (!act_supported(a->type)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP,
				       "stage %u, rule %u, action %u: the specializer does not generate '%s' yet",
				       stage, r->image_id, i, act_name(a->type));
			return sp->e->err;
		}
		if (!spec_opnd_ok(&a->opnd)) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u, action %u: operand",
				       stage, r->image_id, i);
			return sp->e->err;
		}
		if (a->type == XFSM_ACT_OUTPUT && sp->inst->map_fd[XFSM_M_TX_PORTS] < 0) {
			xfsm_emit_fail(sp->e, -EOPNOTSUPP, "stage %u, rule %u: output without %s",
				       stage, r->image_id, XFSM_MAP_TX_PORTS);
			return sp->e->err;
		}
	}
	return 0;
}

void spec_need_actions(struct spec *sp, const struct xfsm_rule *r)
{
	unsigned int i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (a->type == XFSM_ACT_SET_MARK || a->type == XFSM_ACT_OUTPUT)
			spec_need_opnd(sp, &a->opnd);
	}
}

#define SO(field)	((int)offsetof(struct xfsm_stats, field))

/* action_verdict() and finish() */
static void emit_verdict(struct spec *sp, __u8 type)
{
	switch (type) {
	case XFSM_ACT_DROP:
		spec_cnt_add(sp, SR_STATS, SO(act_drop), 1);
		spec_finish_const(sp, XDP_DROP);
		break;
	case XFSM_ACT_PASS:
		spec_cnt_add(sp, SR_STATS, SO(act_pass), 1);
		spec_finish_const(sp, XDP_PASS);
		break;
	default:
		spec_cnt_add(sp, SR_STATS, SO(act_tx), 1);
		spec_finish_const(sp, XDP_TX);
		break;
	}
}

/* do_output(): the devmap redirect, bad_port, the port's tx counters. */
static void emit_output(struct spec *sp, const struct xfsm_action *a,
			const struct spec_octx *ox)
{
	struct xfsm_emit *e = sp->e;
	unsigned int ok = xfsm_emit_label(e), done = xfsm_emit_label(e);

	spec_cnt_add(sp, SR_STATS, SO(act_output), 1);
	spec_opnd(sp, XR2, XR3, &a->opnd, ox);
	E(sp, XI_STX(BPF_DW, XFP, XR2, SO_WREFRESH));	/* the port, for its counters */
	E(sp, XI_MOV32_REG(XR2, XR2));			/* (__u32)port */
	xfsm_emit_map(e, XR1, sp->inst->map_fd[XFSM_M_TX_PORTS]);
	E(sp, XI_MOV64_IMM(XR3, XDP_DROP));
	E(sp, XI_CALL(BPF_FUNC_redirect_map));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, XDP_REDIRECT, ok);
	spec_cnt_add(sp, SR_STATS, SO(exc_bad_port), 1);
	spec_finish_const(sp, XDP_DROP);

	xfsm_emit_bind(e, ok);
	E(sp, XI_LDX(BPF_DW, XR1, XFP, SO_WREFRESH));
	xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JGE, XR1, XFSM_MAX_PORTS, done);
	if (sp->inst->map_fd[XFSM_M_PORT_STATS] >= 0) {
		E(sp, XI_STX(BPF_W, XFP, XR1, SO_TMP));
		xfsm_emit_map(e, XR1, sp->inst->map_fd[XFSM_M_PORT_STATS]);
		E(sp, XI_MOV64_REG(XR2, XFP));
		E(sp, XI_ALU64_IMM(BPF_ADD, XR2, SO_TMP));
		E(sp, XI_CALL(BPF_FUNC_map_lookup_elem));
		xfsm_emit_jmp_imm(e, BPF_JMP | BPF_JEQ, XR0, 0, done);
		spec_cnt_add(sp, XR0, offsetof(struct xfsm_port_stats, tx_packets), 1);
		E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_META_LEN)));
		spec_cnt_add_reg(sp, XR0, offsetof(struct xfsm_port_stats, tx_bytes), XR2);
	}
	xfsm_emit_bind(e, done);
	spec_finish_const(sp, XDP_REDIRECT);
}

static void emit_count(struct spec *sp, const struct xfsm_action *a)
{
	unsigned int none = xfsm_emit_label(sp->e);

	spec_lookup_const(sp, XR0, XFSM_M_COUNTERS, a->arg, none);
	spec_cnt_add(sp, XR0, offsetof(struct xfsm_counter, packets), 1);
	E(sp, XI_LDX(BPF_W, XR2, XFP, so_fv(XFSM_FW_META_LEN)));
	spec_cnt_add_reg(sp, XR0, offsetof(struct xfsm_counter, bytes), XR2);
	xfsm_emit_bind(sp->e, none);
	spec_cnt_add(sp, SR_STATS, SO(act_count), 1);
}

int spec_actions(struct spec *sp, unsigned int stage, const struct xfsm_rule *r,
		 const struct spec_octx *ox)
{
	unsigned int next = stage + 1, i;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		if (a->type != XFSM_ACT_NONE)
			xfsm_emit_note(sp->e, 2, "stage %u, rule %u: action %s", stage,
				       r->image_id, act_name(a->type));
		switch (a->type) {
		case XFSM_ACT_DROP:
		case XFSM_ACT_PASS:
		case XFSM_ACT_TX:
			emit_verdict(sp, a->type);
			return sp->e->err;
		case XFSM_ACT_OUTPUT:
			emit_output(sp, a, ox);
			return sp->e->err;
		case XFSM_ACT_GOTO:
			if (a->arg <= stage || a->arg >= XFSM_MAX_STAGES) {
				spec_cnt_add(sp, SR_STATS, SO(exc_goto_backward), 1);
				spec_finish_const(sp, XDP_DROP);
				return sp->e->err;
			}
			spec_cnt_add(sp, SR_STATS, SO(act_goto), 1);
			next = a->arg;
			break;
		case XFSM_ACT_SET_MARK:
			if (sp->need[XFSM_FW_META_MARK]) {
				spec_opnd(sp, XR1, XR2, &a->opnd, ox);
				E(sp, XI_STX(BPF_W, XFP, XR1, so_fv(XFSM_FW_META_MARK)));
			}
			spec_cnt_add(sp, SR_STATS, SO(act_set_mark), 1);
			break;
		case XFSM_ACT_COUNT:
			emit_count(sp, a);
			break;
		default:
			break;
		}
	}
	/* no verdict: on to the next stage (past the last: the default) */
	xfsm_emit_ja(sp->e, sp->l_stage[next < sp->app->n_stages ? next : sp->app->n_stages]);
	return sp->e->err;
}
