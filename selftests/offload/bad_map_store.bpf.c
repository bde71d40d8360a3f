/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Writes a map value in place instead of through bpf_map_update_elem. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow {
	__u64 pkts;
	__u32 state;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (f)
		f->state = 3;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
