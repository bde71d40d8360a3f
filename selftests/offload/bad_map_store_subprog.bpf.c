/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The map value pointer is handed to a non-inlined function that writes
 * through it: the store is in the callee, the pointer comes from the caller. */
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

static __noinline int set_state(struct flow *f, __u32 state)
{
	f->state = state;
	return 0;
}

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (f)
		set_state(f, ctx->ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
