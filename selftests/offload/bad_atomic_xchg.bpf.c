/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Atomic exchange and atomic or on a map value: only atomic add offloads. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} regs SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&regs, &key);

	if (!v)
		return XDP_PASS;
	__sync_fetch_and_or(v, 4);
	return __sync_lock_test_and_set(v, 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
