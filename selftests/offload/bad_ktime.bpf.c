/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* bpf_ktime_get_ns: offloaded programs take time from a map instead. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_seen SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&last_seen, &key, &now, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
