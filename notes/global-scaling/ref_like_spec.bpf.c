// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The reference with the memory operations of xfsm's specialized program
 * of bench/ref/global.xfsm (xfsmctl show program): the control word, the
 * parse, four per-CPU statistics updates (packet, stage, rule, verdict),
 * the port generation and port cache reads, the atomic add at offset 8 of
 * a 72-byte value.  -DMIMIC_BEFORE: the verdict counters before the add;
 * -DIFX: also reads ctx->ingress_ifindex, as xfsm's port lookup does.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64[9]); } total SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32[16]); } ctl SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } pgen SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64[71]); } stats SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64[49]); } work SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64[8]); } stg SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 131072); __type(key, __u32); __type(value, __u64[2]); } rst SEC(".maps");

SEC("xdp")
int ref_mimic(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0, len = end - data;
	__u32 *c = bpf_map_lookup_elem(&ctl, &zero);
	__u64 *n, *s, *w, *g, *r, *pg;
	unsigned char *p = data;

	if (!c || c[1] != 0 || c[6])
		return XDP_PASS;
	if (data + 34 > end || p[12] != 8 || p[14] != 0x45 || (*(__u16 *)(p + 20) & 0xff3f))
		return XDP_PASS;
	if (p[23] == 17 && data + 42 > end)
		return XDP_PASS;
	s = bpf_map_lookup_elem(&stats, &zero);
	if (!s)
		return XDP_PASS;
	s[0]++; s[1] += len;
	pg = bpf_map_lookup_elem(&pgen, &zero);
	w = bpf_map_lookup_elem(&work, &zero);
	if (!pg || !w)
		return XDP_PASS;
	if ((w[48] >> 48) || w[47] != *pg)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&total, &zero);
	g = bpf_map_lookup_elem(&stg, &zero);
	if (!n || !g)
		return XDP_PASS;
#ifdef IFX
	if (ctx->ingress_ifindex == 3)
		len++;
#endif
	g[0]++; g[1] += len; g[2]++;
	r = bpf_map_lookup_elem(&rst, &zero);
	if (r) { r[0]++; r[1] += len; }
#ifdef MIMIC_BEFORE
	s[7]++; s[4]++;
#endif
	__sync_fetch_and_add(&n[1], 1);
#ifndef MIMIC_BEFORE
	s[7]++; s[4]++;
#endif
	return XDP_DROP;
}
char _license[] SEC("license") = "GPL";
