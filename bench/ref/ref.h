/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every hand-written reference (bench/ref/NAME.bpf.c) shares: the
 * Ethernet / IPv4 / L4 parse an engineer writes for an IPv4-only job.
 * A reference is the program someone would write for that one function
 * instead of using xfsm: it must give the verdicts xfsm gives on the job's
 * traffic (selftests/test_ref.c checks it), and nothing more.
 */
#ifndef XFSM_BENCH_REF_H
#define XFSM_BENCH_REF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define REF_NS_PER_S	1000000000ULL

struct ref_pkt {
	struct iphdr	*ip;		/* NULL: not IPv4 */
	__u16		sport, dport;	/* TCP and UDP only, host order */
	__u16		eth_type;	/* host order */
};

/* Returns -1 for a frame too short for what its headers claim. */
static __always_inline int ref_parse(struct xdp_md *ctx, struct ref_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 *ports;

	p->ip = NULL;
	p->sport = p->dport = 0;
	if ((void *)(eth + 1) > end)
		return -1;
	p->eth_type = bpf_ntohs(eth->h_proto);
	if (p->eth_type != ETH_P_IP)
		return 0;
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return -1;
	p->ip = ip;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return 0;
	ports = (void *)ip + ip->ihl * 4;
	if ((void *)(ports + 2) > end)
		return -1;
	p->sport = bpf_ntohs(ports[0]);
	p->dport = bpf_ntohs(ports[1]);
	return 0;
}

#endif /* XFSM_BENCH_REF_H */
