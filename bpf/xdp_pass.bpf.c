// SPDX-License-Identifier: GPL-2.0
/* An XDP program that passes every frame: the other program sharing an
 * interface with xfsm through libxdp's dispatcher in the tests. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
