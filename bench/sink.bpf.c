// SPDX-License-Identifier: GPL-2.0
/*
 * A receiving end for xfsm-pktgen's tests: counts every frame and every
 * distinct (source address, source port) of IPv4/IPv6 UDP/TCP frames,
 * then drops.  Attach with `ip link set dev IF xdp obj sink.bpf.o sec xdp`
 * and read the maps with bpftool.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sink_src {
	__u32 addr[4];		/* IPv4: addr[0] only */
	__u16 sport;
	__u8 family;
	__u8 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_pkts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, struct sink_src);
	__type(value, __u64);
} sink_srcs SEC(".maps");

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct sink_src src = {};
	struct udphdr *l4;	/* TCP and UDP ports are in the same place */
	__u64 *cnt, one = 1;
	__u32 zero = 0;

	cnt = bpf_map_lookup_elem(&sink_pkts, &zero);
	if (cnt)
		*cnt += 1;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		src.addr[0] = ip->saddr;
		src.family = 4;
		src.proto = ip->protocol;
		l4 = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(src.addr, &ip6->saddr, 16);
		src.family = 6;
		src.proto = ip6->nexthdr;
		l4 = (void *)(ip6 + 1);
	} else {
		return XDP_DROP;
	}
	if (src.proto != IPPROTO_UDP && src.proto != IPPROTO_TCP)
		return XDP_DROP;
	if ((void *)(l4 + 1) > data_end)
		return XDP_DROP;
	src.sport = bpf_ntohs(l4->source);
	cnt = bpf_map_lookup_elem(&sink_srcs, &src);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&sink_srcs, &src, &one, BPF_NOEXIST);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
