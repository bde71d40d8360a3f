/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Division and modulo by a value known only at run time (BPF_X). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} divisor SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *d = bpf_map_lookup_elem(&divisor, &key);
	__u64 len = ctx->data_end - ctx->data;
	__u64 q, r;

	if (!d || *d == 0)
		return XDP_PASS;
	q = len / *d;
	r = len % (*d + 1);
	return (q + r) & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
