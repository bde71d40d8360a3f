/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* bpf_spin_lock/bpf_spin_unlock around a map value update. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct locked_val {
	struct bpf_spin_lock lock;
	__u32 cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked_val);
} locked SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct locked_val *v = bpf_map_lookup_elem(&locked, &key);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	__sync_fetch_and_add(&v->cnt, 1);
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
