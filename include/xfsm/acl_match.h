/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The ACL rule check, shared by the datapath (bpf/acl.h) and user space
 * (lib/acl.c's in-process classifier): one source, so the in-process run
 * of the ClassBench traces tests the very code the datapath runs.
 */
#ifndef XFSM_ACL_MATCH_H
#define XFSM_ACL_MATCH_H

#include "xfsm/abi.h"

#ifdef __bpf__
#define XFSM_ACL_INLINE	static __always_inline
#else
#define XFSM_ACL_INLINE	static inline __attribute__((always_inline))
#endif

/* The packet as the ACL sees it, taken from the field vector: named
 * fields, and the same words as the key a cut tree indexes by dimension
 * (enum xfsm_acl_dim). */
struct xfsm_acl_view {
	union {
		__u32	key[XFSM_ACL_DIMS];
		struct {
			__u32	family;		/* 4, 6 or 0 */
			__u32	src[4];		/* IPv4 in word 0, IPv6 in four words */
			__u32	dst[4];
			__u32	sport;
			__u32	dport;
			__u32	proto;
			__u32	tcp_flags;
			__u32	vlan;		/* VLAN id, or 0xffffffff without a tag */
			__u32	port;
			__u32	famf;		/* XFSM_ACLF_V4, XFSM_ACLF_V6 or 0 */
		};
	};
};

/* Bits of word `word` (0..3) that a prefix of `len` bits covers. */
XFSM_ACL_INLINE __u32 xfsm_acl_pfx_mask(__u32 len, __u32 word)
{
	int b = (int)len - 32 * (int)word;

	if (b <= 0)
		return 0;
	if (b >= 32)
		return ~0U;
	return ~0U << (32 - b);
}

XFSM_ACL_INLINE void xfsm_acl_view_fill(struct xfsm_acl_view *v, const __u32 *fv)
{
	__u32 pf = fv[XFSM_FW_PKT_FLAGS], i;

	for (i = 0; i < 4; i++) {
		v->src[i] = 0;
		v->dst[i] = 0;
	}
	v->famf = 0;
	v->family = 0;
	if (pf & XFSM_PF_IPV4) {
		v->famf = XFSM_ACLF_V4;
		v->family = 4;
		v->src[0] = fv[XFSM_FW_IP4_SRC];
		v->dst[0] = fv[XFSM_FW_IP4_DST];
	} else if (pf & XFSM_PF_IPV6) {
		v->famf = XFSM_ACLF_V6;
		v->family = 6;
		for (i = 0; i < 4; i++) {
			v->src[i] = fv[XFSM_FW_IP6_SRC + i];
			v->dst[i] = fv[XFSM_FW_IP6_DST + i];
		}
	}
	v->proto = fv[XFSM_FW_IP_PROTO];
	v->sport = fv[XFSM_FW_L4_SPORT];
	v->dport = fv[XFSM_FW_L4_DPORT];
	v->tcp_flags = fv[XFSM_FW_TCP_FLAGS];
	v->port = fv[XFSM_FW_META_PORT];
	v->vlan = (pf & XFSM_PF_VLAN) ? fv[XFSM_FW_VLAN_ID] : 0xffffffffU;
}

/* Does rule e match the packet?  Every field is checked (the tree only
 * narrowed the candidates).  Address words past a prefix's length are not
 * looked at: an entry's host bits are zero (the compiler clears them). */
XFSM_ACL_INLINE int xfsm_acl_entry_match(const struct xfsm_acl_entry *e,
					 const struct xfsm_acl_view *v)
{
	__u32 fam = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6), i;

	if (fam && !(fam & v->famf))
		return 0;
	if (v->sport < e->sport_lo || v->sport > e->sport_hi)
		return 0;
	if (v->dport < e->dport_lo || v->dport > e->dport_hi)
		return 0;
	if ((v->proto & e->proto_mask) != e->proto)
		return 0;
	if ((v->tcp_flags & e->tcp_mask) != e->tcp_flags)
		return 0;
	for (i = 0; i < 4; i++) {
		if (32 * i >= e->src_len)
			break;
		if ((v->src[i] & xfsm_acl_pfx_mask(e->src_len, i)) != e->src[i])
			return 0;
	}
	for (i = 0; i < 4; i++) {
		if (32 * i >= e->dst_len)
			break;
		if ((v->dst[i] & xfsm_acl_pfx_mask(e->dst_len, i)) != e->dst[i])
			return 0;
	}
	if ((e->flags & XFSM_ACLF_PORT) && v->port != e->in_port)
		return 0;
	if ((e->flags & XFSM_ACLF_VLAN) && v->vlan != e->vlan)
		return 0;
	return 1;
}

/* The child of cut node n that value v falls into (0..FANOUT-1). */
XFSM_ACL_INLINE __u32 xfsm_acl_child(const struct xfsm_acl_node *n, __u32 v)
{
	__u32 c = 0, i;

#ifdef __bpf__
#pragma unroll
#endif
	for (i = 0; i < XFSM_ACL_FANOUT - 1; i++)
		c += n->ub[i] < v;
	return c;
}

#endif /* XFSM_ACL_MATCH_H */
