/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* A non-inlined lookup wrapper returns the map value pointer; the caller
 * writes through what it returned. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} regs SEC(".maps");

static __noinline __u64 *reg_ptr(__u32 idx)
{
	return bpf_map_lookup_elem(&regs, &idx);
}

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u64 *r = reg_ptr(ctx->rx_queue_index & 3);

	if (r)
		*r = ctx->ingress_ifindex;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
