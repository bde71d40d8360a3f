/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The map value pointer is spilled to the stack and filled back before the
 * store.  The inline asm pins the spill/fill so the test does not depend on
 * clang's register allocation. */
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
	asm volatile("*(u64 *)(r10 - 16) = %[p]\n\t"
		     "r1 = 0\n\t"
		     "r2 = *(u64 *)(r10 - 16)\n\t"
		     "*(u64 *)(r2 + 0) = r1\n\t"
		     :
		     : [p] "r"(v)
		     : "r1", "r2", "memory");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
