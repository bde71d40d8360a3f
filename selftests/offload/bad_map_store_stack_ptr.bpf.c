/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The map value pointer is spilled and read back through a pointer into
 * the stack rather than through R10 itself: once with the offset held in a
 * register that the verifier knows to be constant, once with a pointer
 * that is one of two stack slots depending on a branch.  Both are fixed
 * offsets to the verifier, which hands back the spilled map value.  The
 * asm pins the instruction sequence.
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
int bad_const_off(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&regs, &key);

	if (!v)
		return XDP_PASS;
	asm volatile("*(u64 *)(r10 - 208) = %[v]\n\t"
		     "r1 = -208\n\t"
		     "r2 = r10\n\t"
		     "r2 += r1\n\t"
		     "r3 = *(u64 *)(r2 + 0)\n\t"
		     "r1 = 0\n\t"
		     "*(u64 *)(r3 + 0) = r1\n\t"
		     :
		     : [v] "r"(v)
		     : "r1", "r2", "r3", "memory");
	return XDP_PASS;
}

SEC("xdp")
int bad_two_offs(struct xdp_md *ctx)
{
	__u64 sel = ctx->rx_queue_index & 1;
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&regs, &key);

	if (!v)
		return XDP_PASS;
	asm volatile("*(u64 *)(r10 - 208) = %[v]\n\t"
		     "r1 = r10\n\t"
		     "r1 += -256\n\t"
		     "*(u64 *)(r10 - 216) = r1\n\t"
		     "r2 = r10\n\t"
		     "r2 += -208\n\t"
		     "if %[sel] == 0 goto +1\n\t"
		     "r2 += -8\n\t"
		     "r3 = *(u64 *)(r2 + 0)\n\t"
		     "r1 = 0\n\t"
		     "*(u64 *)(r3 + 0) = r1\n\t"
		     :
		     : [v] "r"(v), [sel] "r"(sel)
		     : "r1", "r2", "r3", "memory");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
