// SPDX-License-Identifier: GPL-2.0
/* Reference for the empty application (no stage, default drop): drop. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ref_empty(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
