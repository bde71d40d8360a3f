// SPDX-License-Identifier: GPL-2.0
/*
 * Reference for the 2-stage application of the micro benchmark: stage 0
 * keeps a cursor per IPv4 source that steps through 0..nflows-1 and marks
 * the packet with it; stage 1 counts packets and bytes per mark.  The
 * packet passes.  Only its own parse: the job reads nothing else.
 */
#include "ref.h"

const volatile __u32 nflows = 1;	/* set before loading */

struct count {
	__u64	packets;
	__u64	bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} cursors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2097152);
	__type(key, __u32);
	__type(value, struct count);
} counts SEC(".maps");

SEC("xdp")
int ref_twostage(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data, *cur, zero = 0;
	struct count *c, init = { 1, len };
	struct ref_pkt p;
	__u32 src, mark;

	if (ref_parse(ctx, &p))
		return XDP_PASS;
	src = p.ip ? p.ip->saddr : 0;
	cur = bpf_map_lookup_elem(&cursors, &src);
	if (!cur) {
		bpf_map_update_elem(&cursors, &src, &zero, BPF_NOEXIST);
		cur = bpf_map_lookup_elem(&cursors, &src);
		if (!cur)
			return XDP_PASS;
	}
	mark = (__sync_fetch_and_add(cur, 1) + 1) % nflows;
	c = bpf_map_lookup_elem(&counts, &mark);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, len);
	} else if (bpf_map_update_elem(&counts, &mark, &init, BPF_NOEXIST) &&
		   (c = bpf_map_lookup_elem(&counts, &mark))) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, len);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
