/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* bpf_redirect_map through a DEVMAP: neither the helper nor the map type
 * is in the offload profile. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_ports, ctx->rx_queue_index & 7, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
