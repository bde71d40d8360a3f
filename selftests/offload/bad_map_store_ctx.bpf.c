/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The map value pointer travels inside a context struct on the caller's
 * stack; the callee loads it from there and writes through it. */
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

struct pkt_ctx {
	struct flow *flow;
	__u32 next_state;
};

static __noinline int apply_state(struct pkt_ctx *pc)
{
	if (pc->flow)
		pc->flow->state = pc->next_state;
	return 0;
}

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	struct pkt_ctx pc = {};

	pc.flow = bpf_map_lookup_elem(&flows, &key);
	pc.next_state = ctx->ingress_ifindex;
	apply_state(&pc);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
