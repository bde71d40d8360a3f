// SPDX-License-Identifier: GPL-2.0
/*
 * Many flows through BPF_PROG_TEST_RUN, which repeats one frame: this
 * program gives run i of an IPv4 UDP or TCP frame the source 198.18.0.1 +
 * (i mod 65536) and the source port 1024 + i / 65536 (i counting 0 ..
 * nflows - 1, round robin, per CPU), as xfsm-pktgen --flows does, then
 * tail-calls the program under test (flowdrv_target[0]).  The frame is
 * rewritten in place; checksums are left alone (nothing under test checks
 * them).  Its own cost is measured by tail-calling the empty program.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 nflows = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flowdrv_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flowdrv_next SEC(".maps");

SEC("xdp")
int flowdrv(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__be16 *sport = (void *)(ip + 1);
	__u32 zero = 0, i, *next;

	if ((void *)(sport + 1) > end)
		return XDP_ABORTED;
	next = bpf_map_lookup_elem(&flowdrv_next, &zero);
	if (!next)
		return XDP_ABORTED;
	i = *next;
	*next = i + 1 >= nflows ? 0 : i + 1;
	ip->saddr = bpf_htonl(0xc6120001 + (i & 0xffff));	/* 198.18.0.1 + */
	*sport = bpf_htons(1024 + (i >> 16));
	bpf_tail_call(ctx, &flowdrv_target, 0);
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
