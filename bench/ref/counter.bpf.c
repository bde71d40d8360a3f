// SPDX-License-Identifier: GPL-2.0
/*
 * Reference for a per-source packet counter, the xfsm application
 *	stage count { key ip.src  rule r when * => reg0 = reg0 + 1, drop }
 * Every packet is counted under its IPv4 source (0 when it has none) and
 * dropped; counts stay exact when several CPUs count the same source.
 * keep_stats = 1 also keeps xfsm's statistics (xstats.h, benchmark only).
 */
#include "ref.h"
#include "xstats.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int ref_counter(struct xdp_md *ctx)
{
	struct xfsm_stats *s;
	struct ref_pkt p;
	__u64 one = 1, *n;
	__u32 src;

	if (ref_parse(ctx, &p))
		return XDP_PASS;
	s = ref_xstats_rx(ctx);
	src = p.ip ? p.ip->saddr : 0;
	n = bpf_map_lookup_elem(&counts, &src);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return ref_xstats_drop(s);
	}
	/* First packet: insert, unless another CPU just did. */
	if (bpf_map_update_elem(&counts, &src, &one, BPF_NOEXIST) &&
	    (n = bpf_map_lookup_elem(&counts, &src)))
		__sync_fetch_and_add(n, 1);
	return ref_xstats_drop(s);
}

char _license[] SEC("license") = "GPL";
