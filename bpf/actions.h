/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Actions: verdicts, output and flood through the devmap, goto, header
 * rewrites with incremental checksum updates, counters and marks.
 */
#ifndef XFSM_BPF_ACTIONS_H
#define XFSM_BPF_ACTIONS_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include "common.h"
#include "maps.h"
#include "eval.h"
#include "group.h"

/* A stage's result: an XDP action (< XFSM_RES_NEXT) or the next stage. */
#define XFSM_RES_NEXT		0x100

enum rw_result { RW_OK, RW_FAILED, RW_TTL_EXPIRED };

/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), on raw (network order) words. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32)new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline int rw_eth(struct xdp_md *ctx, struct xfsm_pkt *p, bool dst, __u64 mac)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *m = data + (dst ? 0 : ETH_ALEN);
	int i;

	if ((void *)(m + ETH_ALEN) > end)
		return RW_FAILED;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++)
		m[i] = mac >> (8 * (ETH_ALEN - 1 - i));
	p->fv[dst ? XFSM_FW_ETH_DST_HI : XFSM_FW_ETH_SRC_HI] = (mac >> 32) & 0xffff;
	p->fv[dst ? XFSM_FW_ETH_DST_LO : XFSM_FW_ETH_SRC_LO] = (__u32)mac;
	return RW_OK;
}

/* DSCP, ECN and TTL rewrites on IPv4 (checksum kept valid) and IPv6. */
static __always_inline int rw_ip(struct xdp_md *ctx, struct xfsm_pkt *p, __u8 type, __u64 val)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = p->l3_off, tos;

	if (!off || off > XFSM_MAX_L3_OFF)
		return RW_FAILED;
	if (p->fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_IPV4) {
		struct iphdr *iph = data + off;
		__u16 *w, old;

		if ((void *)(iph + 1) > end)
			return RW_FAILED;
		if (type == XFSM_ACT_DEC_TTL) {
			if (iph->ttl <= 1)
				return RW_TTL_EXPIRED;
			w = (void *)iph + offsetof(struct iphdr, ttl);
			old = *w;
			iph->ttl--;
			p->fv[XFSM_FW_IP_TTL] = iph->ttl;
		} else {
			w = (void *)iph;	/* version/IHL and TOS */
			old = *w;
			tos = iph->tos;
			if (type == XFSM_ACT_SET_DSCP)
				tos = (tos & 0x03) | ((val & 0x3f) << 2);
			else
				tos = (tos & 0xfc) | (val & 0x03);
			iph->tos = tos;
			p->fv[XFSM_FW_IP_DSCP] = tos >> 2;
			p->fv[XFSM_FW_IP_ECN] = tos & 3;
		}
		iph->check = csum_replace16(iph->check, old, *w);
		return RW_OK;
	}
	if (p->fv[XFSM_FW_PKT_FLAGS] & XFSM_PF_IPV6) {
		struct ipv6hdr *ip6 = data + off;
		__u8 *b = (void *)ip6;

		if ((void *)(ip6 + 1) > end)
			return RW_FAILED;
		if (type == XFSM_ACT_DEC_TTL) {
			if (ip6->hop_limit <= 1)
				return RW_TTL_EXPIRED;
			ip6->hop_limit--;
			p->fv[XFSM_FW_IP_TTL] = ip6->hop_limit;
			return RW_OK;
		}
		/* Traffic class straddles bytes 0 and 1. */
		tos = ((b[0] & 0x0f) << 4) | (b[1] >> 4);
		if (type == XFSM_ACT_SET_DSCP)
			tos = (tos & 0x03) | ((val & 0x3f) << 2);
		else
			tos = (tos & 0xfc) | (val & 0x03);
		b[0] = (b[0] & 0xf0) | (tos >> 4);
		b[1] = (b[1] & 0x0f) | ((tos & 0x0f) << 4);
		p->fv[XFSM_FW_IP_DSCP] = tos >> 2;
		p->fv[XFSM_FW_IP_ECN] = tos & 3;
		return RW_OK;
	}
	return RW_FAILED;
}

static __always_inline int do_output(__u64 port, bool flood, struct xfsm_stats *s, __u32 len)
{
#ifdef XFSM_OFFLOAD
	CNT_ADD(&s->exc_unsupported, 1);
	return XDP_DROP;
#else
	long ret;

	if (flood)
		ret = bpf_redirect_map(&xfsm_tx_ports, 0,
				       BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	else
		ret = bpf_redirect_map(&xfsm_tx_ports, (__u32)port, XDP_DROP);
	if (ret != XDP_REDIRECT) {
		CNT_ADD(&s->exc_bad_port, 1);
		return XDP_DROP;
	}
	if (!flood && port < XFSM_MAX_PORTS) {
		__u32 k = port;
		struct xfsm_port_stats *ps = bpf_map_lookup_elem(&xfsm_port_stats, &k);

		if (ps) {
			CNT_ADD(&ps->tx_packets, 1);
			CNT_ADD(&ps->tx_bytes, len);
		}
	}
	return XDP_REDIRECT;
#endif
}

static __always_inline bool action_is_verdict(__u8 type)
{
	return type == XFSM_ACT_DROP || type == XFSM_ACT_PASS || type == XFSM_ACT_TX;
}

/* Are actions `from`.. of rule `r` all empty? */
static __always_inline bool actions_none_from(const struct xfsm_rule *r, int from)
{
	int i;

	for (i = from; i < XFSM_MAX_ACTIONS; i++)
		if (r->act[i].type != XFSM_ACT_NONE)
			return false;
	return true;
}

/* A verdict action (drop, pass, tx): its counter and its XDP action. */
static __always_inline int action_verdict(__u8 type, struct xfsm_stats *s)
{
	switch (type) {
	case XFSM_ACT_DROP:
		CNT_ADD(&s->act_drop, 1);
		return XDP_DROP;
	case XFSM_ACT_PASS:
		CNT_ADD(&s->act_pass, 1);
		return XDP_PASS;
	default:
		CNT_ADD(&s->act_tx, 1);
		return XDP_TX;
	}
}

/*
 * Run a rule's actions in order.  `f` is the lookup-scope flow after this
 * rule's updates (NULL when there is none).
 */
static __always_inline int actions_run(struct xdp_md *ctx, struct xfsm_pkt *p,
				       const struct xfsm_rule *r, const struct xfsm_flow *f,
				       __u32 state, const struct xfsm_globals *g,
				       __u32 stage, struct xfsm_stats *s)
{
	__u32 next = stage + 1;
	int i, rw;

	for (i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];
		__u8 type = a->type;

		switch (type) {
		case XFSM_ACT_DROP:
		case XFSM_ACT_PASS:
		case XFSM_ACT_TX:
			return action_verdict(type, s);
		case XFSM_ACT_OUTPUT:
			CNT_ADD(&s->act_output, 1);
			return do_output(opnd_read(&a->opnd, p, f, state, g), false, s,
					 p->fv[XFSM_FW_META_LEN]);
		case XFSM_ACT_FLOOD:
			CNT_ADD(&s->act_flood, 1);
			return do_output(0, true, s, 0);
		case XFSM_ACT_OUTPUT_XSK: {
#ifdef XFSM_OFFLOAD
			return do_output(0, false, s, 0);	/* unsupported: drop */
#else
			long ret = bpf_redirect_map(&xfsm_xsks, ctx->rx_queue_index, XDP_DROP);

			CNT_ADD(&s->act_output, 1);
			if (ret != XDP_REDIRECT)
				CNT_ADD(&s->exc_bad_port, 1);
			return ret;
#endif
		}
		case XFSM_ACT_OUTPUT_GROUP: {
#ifdef XFSM_OFFLOAD
			return do_output(0, false, s, 0);	/* unsupported: drop */
#else
			__u32 port = xfsm_group_select(p, a->arg);

			CNT_ADD(&s->act_output, 1);
			if (!port)
				return XDP_DROP;
			return do_output(port, false, s, p->fv[XFSM_FW_META_LEN]);
#endif
		}
		case XFSM_ACT_GOTO:
			if (a->arg <= stage || a->arg >= XFSM_MAX_STAGES) {
				CNT_ADD(&s->exc_goto_backward, 1);
				return XDP_DROP;
			}
			CNT_ADD(&s->act_goto, 1);
			next = a->arg;
			break;
		case XFSM_ACT_SET_ETH_SRC:
		case XFSM_ACT_SET_ETH_DST:
			if (rw_eth(ctx, p, type == XFSM_ACT_SET_ETH_DST,
				   opnd_read(&a->opnd, p, f, state, g)) != RW_OK) {
				CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_SET_ETH_DST)
				CNT_ADD(&s->act_set_eth_dst, 1);
			else
				CNT_ADD(&s->act_set_eth_src, 1);
			break;
		case XFSM_ACT_SET_DSCP:
		case XFSM_ACT_SET_ECN:
		case XFSM_ACT_DEC_TTL:
			rw = rw_ip(ctx, p, type, opnd_read(&a->opnd, p, f, state, g));
			if (rw == RW_TTL_EXPIRED) {
				CNT_ADD(&s->exc_ttl_expired, 1);
				return XDP_PASS;
			}
			if (rw != RW_OK) {
				CNT_ADD(&s->exc_rewrite_failed, 1);
				break;
			}
			if (type == XFSM_ACT_DEC_TTL)
				CNT_ADD(&s->act_dec_ttl, 1);
			else if (type == XFSM_ACT_SET_DSCP)
				CNT_ADD(&s->act_set_dscp, 1);
			else
				CNT_ADD(&s->act_set_ecn, 1);
			break;
		case XFSM_ACT_COUNT: {
			/* arg: the counter's own entry, kept across
			 * applications (one entry each, so that user space
			 * zeroes a new counter without touching others) */
			__u32 k = a->arg;
			struct xfsm_counter *c = bpf_map_lookup_elem(&xfsm_counters, &k);

			if (c) {
				CNT_ADD(&c->packets, 1);
				CNT_ADD(&c->bytes, p->fv[XFSM_FW_META_LEN]);
			}
			CNT_ADD(&s->act_count, 1);
			break;
		}
		case XFSM_ACT_SET_MARK:
			p->fv[XFSM_FW_META_MARK] = opnd_read(&a->opnd, p, f, state, g);
			CNT_ADD(&s->act_set_mark, 1);
			break;
		default:
			break;
		}
	}
	return XFSM_RES_NEXT | next;
}

#endif /* XFSM_BPF_ACTIONS_H */
