// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * bench/ref/global.bpf.c with one thing added, to measure what a longer
 * program between two atomic adds costs when both CPUs add to the line.
 * One object per variant (clang -O2 -target bpf -c, with):
 *   (none)                        the reference (counter at value offset 0)
 *   -DOFF=1                       the counter at offset 8, where xfsm's global0 is
 *   -DSTATS_BEFORE / -DSTATS_AFTER  4 per-CPU counter updates before / after the add
 *   -DST16_BEFORE / -DST16_AFTER    16 stack stores and those 4 updates before / after
 *   -DALU_BEFORE|-DALU_AFTER -DNALU=64|128|256  N dependent additions
 *   -DIND_AFTER                   256 additions in 4 independent chains
 *   -DNOXADD [...]                a per-CPU increment instead of the shared add
 *   -DIFX                         also reads ctx->ingress_ifindex
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[9]);
} total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} st SEC(".maps");

#ifndef OFF
#define OFF 0
#endif
#ifndef NALU
#define NALU 0
#endif
#define A1 asm volatile("%0 += 1" : "+r"(x));
#define I1 asm volatile("%0 += 1\n%1 += 1\n%2 += 1\n%3 += 1" : "+r"(x), "+r"(y), "+r"(z), "+r"(w));
#define I4 I1 I1 I1 I1
#define I16 I4 I4 I4 I4
#define I64 I16 I16 I16 I16
#define A4 A1 A1 A1 A1
#define A16 A4 A4 A4 A4
#define A64 A16 A16 A16 A16

static __always_inline __attribute__((unused)) __u64 alu(__u64 x)
{
#if NALU >= 64
	A64
#endif
#if NALU >= 128
	A64
#endif
#if NALU >= 256
	A64 A64
#endif
#if NALU == 16
	A16
#endif
	return x;
}

SEC("xdp")
int ref_var(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&total, &zero);
	__u64 *s = bpf_map_lookup_elem(&st, &zero);
	__u64 x = ctx->data_end - ctx->data;
#ifdef IFX
	if (ctx->ingress_ifindex == 3)
		x++;
#endif

	if (!n || !s)
		return XDP_ABORTED;
#if defined(ALU_BEFORE)
	x = alu(x);
	s[1] = x;
#endif
#if defined(ST16_BEFORE) || defined(ST16_AFTER)
	volatile __u64 buf[16];
#endif
#if defined(ST16_BEFORE)
#pragma unroll
	for (int i = 0; i < 16; i++) buf[i] = 0;
	s[0]++; s[1] += x; s[2]++; s[3] += x;
#endif
#if defined(STATS_BEFORE)
	s[0]++; s[1] += x; s[2]++; s[3] += x;
#endif
#ifndef NOXADD
	__sync_fetch_and_add(&n[OFF], 1);
#else
	s[7]++;
#endif
#if defined(ST16_AFTER)
#pragma unroll
	for (int i = 0; i < 16; i++) buf[i] = 0;
	s[0]++; s[1] += x; s[2]++; s[3] += x;
#endif
#if defined(STATS_AFTER)
	s[0]++; s[1] += x; s[2]++; s[3] += x;
#endif
#if defined(IND_AFTER)
	{ __u64 y = x + 1, z = x + 2, w = x + 3;
	I64
	s[1] = x; s[2] = y; s[3] = z; s[4] = w; }
#endif
#if defined(ALU_AFTER)
	x = alu(x);
	s[1] = x;
#endif
	(void)x;
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
