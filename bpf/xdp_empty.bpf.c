// SPDX-License-Identifier: GPL-2.0
/* The baseline every benchmark is measured against: an XDP program that
 * does nothing but drop. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
