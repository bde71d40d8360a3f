// SPDX-License-Identifier: GPL-2.0
/*
 * xfsm-pktgen's XDP program.  BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs it once per generated frame; XDP_TX then
 * sends the frame out of the interface named in the run's ctx
 * (ingress_ifindex), i.e. the generator's end of the veth.
 *
 * The loop engine (cfg_loop) attaches it to one end of a second veth pair
 * instead, the loop, and feeds the loop a few frames once: each time a
 * frame arrives, the program sends a copy out of the generator's end (a
 * devmap broadcast to both ports) and the frame itself back round the
 * loop, so the frames keep coming back until the program lets them go
 * (count reached, told to stop, or past cfg_until_ns: the loop is bounded
 * by the program itself, whatever happens to the process).
 *
 * Frames come from a page pool that the kernel initialises once with the
 * template and then recycles without re-initialising, so this program
 * never assumes what a frame holds: it reads the current source address
 * and port, writes the ones of this packet's flow and patches the checksums
 * incrementally (RFC 1624) from whatever was there.
 *
 * Flow i (0 <= i < flows) uses source address src_base + i % n_src and
 * source port sport_base + i / n_src, so up to 65536 flows differ in their
 * source address only.  Packet n is of flow (n / cfg_clone) % flows: each
 * flow's frames come cfg_clone in a row.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set by xfsm-pktgen before the object is loaded. */
const volatile __u32 cfg_flows = 1;
const volatile __u32 cfg_n_src = 1;
const volatile __u32 cfg_src_base = 0;	/* IPv4 address or the last 32 bits of IPv6, host order */
const volatile __u16 cfg_sport_base = 0;	/* host order */
const volatile __u8 cfg_ipv6 = 0;
const volatile __u8 cfg_proto = IPPROTO_UDP;
const volatile __u64 cfg_gap_ns = 0;	/* --rate: ns from one send to the next, 0: unpaced */
const volatile __u64 cfg_count = 0;	/* frames to send in all, 0: no bound */
const volatile __u32 cfg_clone = 1;	/* frames in a row of each flow (--clone) */
const volatile __u8 cfg_loop = 0;	/* the loop engine */
const volatile __u64 cfg_until_ns = 0;	/* loop: frames leave the loop after this clock time */

/*
 * One thread runs this program at a time (BPF_PROG_TEST_RUN runs it in the
 * calling thread; the loop's single NAPI instance runs it on one CPU at a
 * time), so the two values below are plain array entries, read and
 * written without atomics, and stay right when the thread moves to
 * another CPU between two calls.
 *
 * A paced generator sends a frame when the clock has reached the time in
 * pktgen_next and drops the frames it runs before then (recycled by the
 * page pool, never sent).  After a stall (the kernel ends each batch by
 * flushing the frames sent) it catches up with at most PACE_BURST frames
 * at once, then keeps the rate from there.  The loop engine's sends are of
 * cfg_clone frames each, and cfg_gap_ns is the gap between two sends.
 */
#define PACE_BURST	8

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pktgen_next SEC(".maps");

/*
 * The loop engine's ports: PORT_LOOP the end of the loop whose peer runs
 * this program, then the generator's end of the veth to the receiver once
 * per copy sent (--clone, at most PKTGEN_MAX_CLONE; the other slots stay
 * empty).  A broadcast sends to all of them.
 */
#define PORT_LOOP		0
#define PKTGEN_MAX_CLONE	8

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1 + PKTGEN_MAX_CLONE);
	__type(key, __u32);
	__type(value, __u32);
} pktgen_ports SEC(".maps");

/* The loop engine: non-zero once the process has had enough. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pktgen_stop SEC(".maps");

/* Packets generated: also the flow sequence. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pktgen_seq SEC(".maps");

static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* One's complement arithmetic does not depend on byte order as long as
 * every 16-bit word is taken as it lies in memory. */
static __always_inline void csum_replace32(__u16 *sum, __u32 from, __u32 to, int udp)
{
	__u32 s = (__u16)~*sum;
	__u16 r;

	s += (__u16)~(from & 0xffff) + (__u16)~(from >> 16);
	s += (to & 0xffff) + (to >> 16);
	r = ~csum_fold32(s);
	*sum = (udp && r == 0) ? 0xffff : r;
}

static __always_inline void csum_replace16(__u16 *sum, __u16 from, __u16 to, int udp)
{
	__u32 s = (__u16)~*sum;
	__u16 r;

	s += (__u16)~from + to;
	r = ~csum_fold32(s);
	*sum = (udp && r == 0) ? 0xffff : r;
}

/* This frame is sent: out of the generator's end (and round the loop). */
static __always_inline int frame_send(void)
{
	return cfg_loop ? bpf_redirect_map(&pktgen_ports, PORT_LOOP, BPF_F_BROADCAST) : XDP_TX;
}

/* Not sent this time: round the loop again (recycled by a live run). */
static __always_inline int frame_skip(void)
{
	return cfg_loop ? bpf_redirect_map(&pktgen_ports, PORT_LOOP, 0) : XDP_DROP;
}

SEC("xdp")
int pktgen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, idx, src_new, *src_p, src_old;
	__u16 *sport_p, *l4sum, sport_old, sport_new;
	__u64 *seq;
	void *l4;
	int udp = cfg_proto == IPPROTO_UDP;
	__u64 now = cfg_loop || cfg_gap_ns ? bpf_ktime_get_ns() : 0;

	if (cfg_loop) {
		__u32 *halt = bpf_map_lookup_elem(&pktgen_stop, &zero);

		if (!halt || *halt || now > cfg_until_ns)
			return XDP_DROP;	/* out of the loop */
	}
	if (cfg_gap_ns) {
		__u64 *next;

		next = bpf_map_lookup_elem(&pktgen_next, &zero);
		if (!next)
			return XDP_ABORTED;
		if (now < *next)
			return frame_skip();
		if (*next + PACE_BURST * cfg_gap_ns < now)
			*next = now - PACE_BURST * cfg_gap_ns;
		*next += cfg_gap_ns;
	}
	seq = bpf_map_lookup_elem(&pktgen_seq, &zero);
	if (!seq)
		return XDP_ABORTED;
	if (cfg_count && *seq >= cfg_count)
		return XDP_DROP;
	/* The loop sends cfg_clone copies at once, a live run one at a time
	 * (--count is a multiple of cfg_clone). */
	idx = (__u32)(*seq / cfg_clone);
	*seq += cfg_loop ? cfg_clone : 1;
	if (cfg_flows <= 1)
		return frame_send();
	idx %= cfg_flows;

	if (cfg_ipv6) {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_ABORTED;
		src_p = &ip6->saddr.in6_u.u6_addr32[3];
		l4 = ip6 + 1;
	} else {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > data_end)
			return XDP_ABORTED;
		src_p = &ip->saddr;
		l4 = ip + 1;
	}

	if (udp) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return XDP_ABORTED;
		sport_p = &uh->source;
		l4sum = &uh->check;
	} else {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return XDP_ABORTED;
		sport_p = &th->source;
		l4sum = &th->check;
	}

	src_old = *src_p;
	src_new = bpf_htonl(cfg_src_base + idx % cfg_n_src);
	sport_old = *sport_p;
	sport_new = bpf_htons(cfg_sport_base + idx / cfg_n_src);

	*src_p = src_new;
	*sport_p = sport_new;
	if (!cfg_ipv6) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > data_end)
			return XDP_ABORTED;
		csum_replace32(&ip->check, src_old, src_new, 0);
	}
	/* An IPv4 UDP checksum of 0 means "none": leave it so. */
	if (!(udp && !cfg_ipv6 && *l4sum == 0)) {
		csum_replace32(l4sum, src_old, src_new, udp);
		csum_replace16(l4sum, sport_old, sport_new, udp);
	}
	return frame_send();
}

char _license[] SEC("license") = "GPL";
