/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Stays inside the offload profile: hash and array maps, lookups, an atomic
 * add to a map value, writes through bpf_map_update_elem, division by a
 * constant, BPF-to-BPF calls that read a map value and write the stack, a
 * callee that writes packet data through a context struct on the caller's
 * stack that also holds a map value pointer, and read-only configuration in
 * .rodata.  xfsm-offload-check must accept it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow {
	__u64 pkts;
	__u64 bytes;
	__u32 state;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Reads a map value passed by pointer: no violation. */
static __noinline __u32 next_state(const struct flow *f, __u32 len)
{
	return (f->state + len / 3) % 7;
}

/* Writes a stack buffer passed by pointer: no violation. */
static __noinline void fill_flow(struct flow *out, __u32 len, __u32 state)
{
	out->pkts = 1;
	out->bytes = len;
	out->state = state;
	out->pad = 0;
}

struct pkt_ctx {
	void *data;
	void *data_end;
	const struct flow *flow;
	__u32 len;
};

const volatile __u32 cfg_shift = 2;

/* Stores into the packet, never into the flow it reads. */
static __noinline int mark_packet(struct pkt_ctx *pc)
{
	__u8 *p = pc->data;

	if ((void *)(p + 2) > pc->data_end)
		return 0;
	p[1] = pc->flow ? (__u8)pc->flow->state : (__u8)(pc->len >> cfg_shift);
	return 1;
}

SEC("xdp")
int ok_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = (__u32)(data_end - data);
	__u32 key = len & 0xff, idx = 1;
	struct flow *f, nf;
	struct pkt_ctx pc;
	__u64 *cnt;

	cnt = bpf_map_lookup_elem(&counters, &idx);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	f = bpf_map_lookup_elem(&flows, &key);
	if (f) {
		__u32 st = next_state(f, len);

		nf = *f;
		nf.pkts += 1;
		nf.bytes += len;
		nf.state = st;
	} else {
		fill_flow(&nf, len, bpf_get_prandom_u32() % 5);
	}
	bpf_map_update_elem(&flows, &key, &nf, BPF_ANY);

	pc.data = data;
	pc.data_end = data_end;
	pc.flow = f;
	pc.len = len;
	mark_packet(&pc);

	if (data + 1 <= data_end)
		*(__u8 *)data = (__u8)(len / 10);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
