/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* A store into a global variable is a store into the .bss map's value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 last_len;

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	last_len = ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
