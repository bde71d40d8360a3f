// SPDX-License-Identifier: GPL-2.0
/*
 * Reference for examples/portknock.xfsm: UDP to 1111, 2222, 3333, 4444 in
 * order (each within 10 s of the previous one) opens TCP 22 for 30 s; any
 * other UDP port in between starts over.  IPv4 only.
 */
#include "ref.h"

enum { CLOSED, K1, K2, K3, OPEN };

struct knock {
	__u32	state;
	__u32	pad;
	__u64	deadline;	/* ns; the state falls back to CLOSED there */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct knock);
} knocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} opened SEC(".maps");

SEC("xdp")
int ref_portknock(struct xdp_md *ctx)
{
	struct knock *k, nk = {};
	struct ref_pkt p;
	__u32 src, zero = 0, state = CLOSED;
	__u64 now = 0, *n;

	if (ref_parse(ctx, &p) || !p.ip)
		return XDP_PASS;
	src = p.ip->saddr;
	k = bpf_map_lookup_elem(&knocks, &src);
	if (k) {
		state = k->state;
		if (k->deadline) {
			now = bpf_ktime_get_ns();
			if (now >= k->deadline)
				state = CLOSED;
			else if (state != OPEN)	/* the 10 s run from the last packet */
				k->deadline = now + 10 * REF_NS_PER_S;
		}
	}
	if (p.ip->protocol == IPPROTO_TCP && p.dport == 22)
		return state == OPEN ? XDP_PASS : XDP_DROP;
	if (p.ip->protocol != IPPROTO_UDP || state == OPEN)
		return XDP_PASS;
	if (p.dport == 1111 * (state + 1)) {	/* 1111, 2222, 3333, 4444 */
		if (!now)
			now = bpf_ktime_get_ns();
		nk.state = state + 1;
		nk.deadline = now + (nk.state == OPEN ? 30 : 10) * REF_NS_PER_S;
		bpf_map_update_elem(&knocks, &src, &nk, BPF_ANY);
		if (nk.state == OPEN && (n = bpf_map_lookup_elem(&opened, &zero)))
			*n += 1;
		return XDP_DROP;
	}
	if (state == CLOSED)
		return XDP_PASS;
	bpf_map_update_elem(&knocks, &src, &nk, BPF_ANY);	/* wrong knock */
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
