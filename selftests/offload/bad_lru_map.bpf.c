/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* An LRU hash: the offload profile allows only HASH and ARRAY maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} lru_flows SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	__u64 one = 1;

	bpf_map_update_elem(&lru_flows, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
