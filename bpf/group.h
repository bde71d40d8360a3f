/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output groups (native profile): pick a live member port of a group by
 * the group's policy.  See include/xfsm/abi.h and docs/modules.md.
 */
#ifndef XFSM_BPF_GROUP_H
#define XFSM_BPF_GROUP_H

#include "common.h"
#include "maps.h"
#include "xfsm/group_hash.h"

#ifndef XFSM_OFFLOAD

/* The member for this packet: its port in bits 0..15 (0 when the group
 * has no live member), the destination MAC it wants (0: none) in bits
 * 16..63, so that one scalar comes back.  A global function: verified
 * once. */
__noinline __u64 xfsm_group_select(const struct xfsm_pkt *p, __u32 gid)
{
	struct xfsm_group_flow_key fk;
	struct xfsm_group_stats *gs;
	const struct xfsm_app *app;
	const struct xfsm_group *g;
	__u32 n, start = 0, h, i, idx, port, *ctr, *fl, slot, gk;
	__u64 mac;
	bool rr = false;	/* the round-robin counter follows the choice */

	if (!p || gid >= XFSM_MAX_GROUPS)
		return 0;
	/* The group's buffer is the one the packet's application slot
	 * names, so that groups switch with the rules that use them. */
	slot = p->slot;
	app = bpf_map_lookup_elem(&xfsm_apps, &slot);
	if (!app)
		return 0;
	gk = gid + ((app->group_buf >> gid) & 1) * XFSM_MAX_GROUPS;
	g = bpf_map_lookup_elem(&xfsm_groups, &gk);
	gs = bpf_map_lookup_elem(&xfsm_grp_stats, &gid);
	ctr = bpf_map_lookup_elem(&xfsm_grp_rr, &gid);
	if (!g || !gs || !ctr)
		return 0;
	n = g->n_members;
	if (!n || n > XFSM_GROUP_MAX_MEMBERS) {
		CNT_ADD(&gs->empty, 1);
		return 0;
	}
	switch (g->policy) {
	case XFSM_GP_RR_PACKET:
		start = *ctr % n;
		rr = true;
		break;
	case XFSM_GP_WEIGHTED:
		if (!g->n_slots || g->n_slots > XFSM_GROUP_TABLE)
			break;
		i = *ctr % g->n_slots;
		*ctr = i + 1;
		asm volatile("" : "+r"(i));	/* keep the bound for the verifier */
		if (i >= XFSM_GROUP_TABLE)
			i = 0;
		start = g->table[i];
		break;
	case XFSM_GP_HASH:
		start = xfsm_group_hash(p->fv) % n;
		break;
	case XFSM_GP_CONSISTENT:
		if (!g->n_slots || g->n_slots > XFSM_GROUP_TABLE)
			break;
		i = xfsm_group_hash(p->fv) % g->n_slots;
		asm volatile("" : "+r"(i));
		if (i >= XFSM_GROUP_TABLE)
			i = 0;
		start = g->table[i];
		break;
	case XFSM_GP_RR_FLOW:
		h = xfsm_group_hash(p->fv);
		fk.group = gid;
		fk.hash = h;
		fl = bpf_map_lookup_elem(&xfsm_grp_flows, &fk);
		if (fl) {
			start = *fl;
		} else {
			start = *ctr % n;
			rr = true;
		}
		break;
	}
	for (i = 0; i < XFSM_GROUP_MAX_MEMBERS; i++) {
		if (i >= n)
			break;
		idx = (start + i) % n;
		idx &= XFSM_GROUP_MAX_MEMBERS - 1;
		port = g->members[idx];
		mac = g->macs[idx] & 0xffffffffffffULL;
		fl = bpf_map_lookup_elem(&xfsm_port_flags, &port);
		if (fl && (*fl & XFSM_PORT_F_DOWN))
			continue;
		CNT_ADD(&gs->member[idx], 1);
		if (i)
			CNT_ADD(&gs->skipped, 1);
		if (rr) {
			/* past the member taken: skipping a down member does
			 * not send its turn to the next one */
			*ctr = idx + 1;
			if (g->policy == XFSM_GP_RR_FLOW)
				bpf_map_update_elem(&xfsm_grp_flows, &fk, &idx, BPF_ANY);
		}
		return mac << 16 | (port & 0xffff);
	}
	CNT_ADD(&gs->empty, 1);
	return 0;
}

#endif /* !XFSM_OFFLOAD */
#endif /* XFSM_BPF_GROUP_H */
