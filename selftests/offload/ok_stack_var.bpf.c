/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A variable-offset read and write of a stack array next to a spilled map
 * value pointer and a spilled stack pointer.  The verifier turns what a
 * variable-offset access touches into plain data, so the spilled pointers
 * keep their kinds and the store through the stack pointer is no store
 * into a map value.  xfsm-offload-check must accept it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} regs SEC(".maps");

SEC("xdp")
int ok_stack_var(struct xdp_md *ctx)
{
	__u64 idx = ctx->rx_queue_index & 3;
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&regs, &key);

	if (!v)
		return XDP_PASS;
	asm volatile("*(u64 *)(r10 - 208) = %[v]\n\t"
		     "r1 = r10\n\t"
		     "r1 += -200\n\t"
		     "*(u64 *)(r10 - 216) = r1\n\t"
		     "r1 = 0\n\t"
		     "*(u64 *)(r10 - 256) = r1\n\t"
		     "*(u64 *)(r10 - 248) = r1\n\t"
		     "*(u64 *)(r10 - 240) = r1\n\t"
		     "*(u64 *)(r10 - 232) = r1\n\t"
		     "r2 = r10\n\t"
		     "r2 += -256\n\t"
		     "r3 = %[idx]\n\t"
		     "r3 <<= 3\n\t"
		     "r2 += r3\n\t"
		     "r3 = *(u64 *)(r2 + 0)\n\t"
		     "r3 += 1\n\t"
		     "*(u64 *)(r2 + 0) = r3\n\t"
		     "r4 = *(u64 *)(r10 - 216)\n\t"
		     "r1 = 7\n\t"
		     "*(u64 *)(r4 + 0) = r1\n\t"
		     :
		     : [v] "r"(v), [idx] "r"(idx)
		     : "r1", "r2", "r3", "r4", "memory");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
