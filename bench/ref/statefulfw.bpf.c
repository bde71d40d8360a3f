// SPDX-License-Identifier: GPL-2.0
/*
 * Reference for examples/statefulfw.xfsm: connections opened from the
 * inside interface pass both ways until idle (TCP 300 s, UDP 30 s, ICMP
 * 10 s); the outside may not open any.  IPv4 only: every other frame
 * (ARP, IPv6) passes.  With pass_verdict set to XDP_DROP, every packet it
 * would pass is dropped instead, as the application is with each `pass`
 * turned into `drop` (make bench, scenario 4d: the firewall's own work
 * without the stack behind it).
 */
#include "ref.h"

/* Set before loading: the protected side and the rest of the world. */
const volatile __u32 inside_ifindex;
const volatile __u32 outside_ifindex;
const volatile __u32 pass_verdict = XDP_PASS;

struct conn {			/* both directions: the smaller end first */
	__u32	a, b;
	__u16	pa, pb;
	__u32	proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct conn);
	__type(value, __u64);	/* last packet, ns */
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} refused SEC(".maps");

SEC("xdp")
int ref_statefulfw(struct xdp_md *ctx)
{
	struct conn c = {};
	struct ref_pkt p;
	__u64 now, idle, *last, *n;
	__u32 zero = 0, s, d;

	if (ref_parse(ctx, &p))
		return XDP_DROP;
	if (p.eth_type != ETH_P_IP)
		return pass_verdict;
	if (!p.ip)	/* ref_parse() sets it for every IPv4 packet */
		return XDP_DROP;
	switch (p.ip->protocol) {
	case IPPROTO_TCP: idle = 300; break;
	case IPPROTO_UDP: idle = 30; break;
	case IPPROTO_ICMP: idle = 10; break;
	default: idle = 0;
	}
	s = bpf_ntohl(p.ip->saddr);
	d = bpf_ntohl(p.ip->daddr);
	c.proto = p.ip->protocol;
	if (s < d || (s == d && p.sport <= p.dport)) {
		c.a = s, c.b = d, c.pa = p.sport, c.pb = p.dport;
	} else {
		c.a = d, c.b = s, c.pa = p.dport, c.pb = p.sport;
	}
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&conns, &c);
	if (idle && last && now < *last + idle * REF_NS_PER_S) {
		*last = now;
		return pass_verdict;
	}
	if (idle && ctx->ingress_ifindex == inside_ifindex) {
		bpf_map_update_elem(&conns, &c, &now, BPF_ANY);
		return pass_verdict;
	}
	if (ctx->ingress_ifindex == outside_ifindex && (n = bpf_map_lookup_elem(&refused, &zero)))
		*n += 1;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
