// SPDX-License-Identifier: GPL-2.0
/*
 * Reference for an application updating a global register, the xfsm
 *	stage count { key ip.src  rule r when * => global0 = global0 + 1, drop }
 * One counter for the whole machine, exact under several CPUs.
 * keep_stats = 1 also keeps xfsm's statistics (xstats.h, benchmark only).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xstats.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total SEC(".maps");

SEC("xdp")
int ref_global(struct xdp_md *ctx)
{
	struct xfsm_stats *s = ref_xstats_rx(ctx);
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&total, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	return ref_xstats_drop(s);
}

char _license[] SEC("license") = "GPL";
