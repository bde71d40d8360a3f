/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Modulo by a value known only at run time (BPF_MOD | BPF_X).  clang 14
 * turns a C "%" into divide, multiply and subtract and its assembler does
 * not know "%=", so the instruction is spelled out: r1 %= r2 is opcode 0x9f
 * (BPF_ALU64 | BPF_MOD | BPF_X), registers 0x21. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} buckets SEC(".maps");

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 len = ctx->data_end - ctx->data, m;
	__u32 *n = bpf_map_lookup_elem(&buckets, &key);

	if (!n || *n == 0)
		return XDP_PASS;
	m = *n;
	asm volatile("r1 = %[len]\n\t"
		     "r2 = %[m]\n\t"
		     ".byte 0x9f, 0x21, 0, 0, 0, 0, 0, 0\n\t"
		     "%[len] = r1"
		     : [len] "+r"(len)
		     : [m] "r"(m)
		     : "r1", "r2");
	return len ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
