// SPDX-License-Identifier: GPL-2.0
/*
 * A reference point for `make bench`: like build/xdp_empty.bpf.o it drops
 * every frame, but first reads the Ethernet, IPv4 and L4 headers (as any
 * real job must), so the frame's cache lines travel to the DUT's CPU.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} touch_sum SEC(".maps");

SEC("xdp")
int xdp_touch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 zero = 0, *l4 = (void *)(ip + 1);
	__u64 *sum;

	if ((void *)(l4 + 1) > data_end)
		return XDP_DROP;
	/* Keep the reads: their sum goes into a map. */
	sum = bpf_map_lookup_elem(&touch_sum, &zero);
	if (sum)
		*sum += eth->h_proto + ip->saddr + ip->daddr + *l4;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
