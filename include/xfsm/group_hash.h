/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The symmetric 5-tuple hash of output groups, shared by the datapath
 * (bpf/group.h) and user space (tests, tools): both directions of a flow
 * hash alike, so a flow and its replies pick the same member.
 */
#ifndef XFSM_GROUP_HASH_H
#define XFSM_GROUP_HASH_H

#include "xfsm/abi.h"

#ifdef __bpf__
#define XFSM_GH_INLINE	static __always_inline
#else
#define XFSM_GH_INLINE	static inline __attribute__((always_inline))
#endif

XFSM_GH_INLINE __u32 xfsm_gh_mix(__u32 h, __u32 v)
{
	v *= 0xcc9e2d51U;
	v = (v << 15) | (v >> 17);
	v *= 0x1b873593U;
	h ^= v;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64U;
}

XFSM_GH_INLINE __u32 xfsm_gh_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/* Addresses and ports are ordered (smaller first) before hashing. */
XFSM_GH_INLINE __u32 xfsm_group_hash(const __u32 *fv)
{
	__u32 a = fv[XFSM_FW_IP4_SRC], b = fv[XFSM_FW_IP4_DST], t, h = 0x9747b28cU;
	__u32 sp = fv[XFSM_FW_L4_SPORT], dp = fv[XFSM_FW_L4_DPORT];

	if (fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_IPV6) {
		a = xfsm_gh_mix(xfsm_gh_mix(xfsm_gh_mix(fv[XFSM_FW_IP6_SRC], fv[XFSM_FW_IP6_SRC + 1]),
					    fv[XFSM_FW_IP6_SRC + 2]), fv[XFSM_FW_IP6_SRC + 3]);
		b = xfsm_gh_mix(xfsm_gh_mix(xfsm_gh_mix(fv[XFSM_FW_IP6_DST], fv[XFSM_FW_IP6_DST + 1]),
					    fv[XFSM_FW_IP6_DST + 2]), fv[XFSM_FW_IP6_DST + 3]);
	}
	if (a > b) {
		t = a;
		a = b;
		b = t;
		t = sp;
		sp = dp;
		dp = t;
	} else if (a == b && sp > dp) {
		t = sp;
		sp = dp;
		dp = t;
	}
	h = xfsm_gh_mix(h, a);
	h = xfsm_gh_mix(h, b);
	h = xfsm_gh_mix(h, (sp << 16) | dp);
	h = xfsm_gh_mix(h, fv[XFSM_FW_IP_PROTO]);
	return xfsm_gh_final(h);
}

#endif /* XFSM_GROUP_HASH_H */
