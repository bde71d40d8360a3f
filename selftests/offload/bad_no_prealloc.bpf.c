/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* A HASH map with BPF_F_NO_PREALLOC: offloaded maps take no flags. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} sparse_flows SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;

	bpf_map_delete_elem(&sparse_flows, &key);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
