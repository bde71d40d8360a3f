// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Frames from field assignments, for simulation (lib/xfsm_sim.h): the
 * packet a user describes as `ip.src=198.18.0.1 tcp.dport=22
 * tcp.flags=syn`, built so that the datapath's parser reads those values
 * back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "xfsm_sim.h"

struct fb {
	unsigned char *p;
	size_t	len, cap;
};

static int put(struct fb *b, const void *v, size_t n)
{
	if (b->len + n > b->cap)
		return -E2BIG;
	memcpy(b->p + b->len, v, n);
	b->len += n;
	return 0;
}

static int put16(struct fb *b, __u32 v)
{
	__u16 x = htons((__u16)v);

	return put(b, &x, 2);
}

static int put32(struct fb *b, __u32 v)
{
	__u32 x = htonl(v);

	return put(b, &x, 4);
}

static __u16 csum16(const unsigned char *p, size_t n)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The fields given, by field-vector word (a multi-word field fills its
 * words, most significant first). */
struct given {
	__u32	w[XFSM_FV_WORDS];
	bool	set[XFSM_FV_WORDS];
};

static bool has(const struct given *g, unsigned int w)
{
	return g->set[w];
}

static __u32 val(const struct given *g, unsigned int w, __u32 def)
{
	return g->set[w] ? g->w[w] : def;
}

static int fail(char *err, size_t errlen, int ret, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return ret;
}

int xfsm_sim_frame_build(const struct xfsm_lang_match_term *t, unsigned int n,
			 unsigned char *buf, size_t cap, __u32 *port,
			 char *err, size_t errlen)
{
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	struct fb b = { .p = buf, .cap = cap };
	struct given g;
	bool v6, arp, tcp, udp, icmp, icmp6;
	size_t l3, l4;
	__u32 proto, ethtype;
	int ret = 0;

	memset(&g, 0, sizeof(g));
	for (unsigned int i = 0; i < n; i++) {
		const struct xfsm_lang_field *f = &fields[t[i].field];

		if (t[i].range)
			return fail(err, errlen, -EINVAL, "a packet takes values, not ranges");
		if (f->word == XFSM_FW_META_MARK || f->word == XFSM_FW_PKT_FLAGS ||
		    f->word == XFSM_FW_IP_FRAG)
			return fail(err, errlen, -EINVAL,
				    "meta.mark, meta.flags and ip.frag are what the datapath works out; "
				    "give a hex frame to simulate a fragment");
		for (unsigned int k = 0; k < f->nwords; k++) {
			g.w[f->word + k] = t[i].val[k];
			g.set[f->word + k] = true;
		}
	}
	*port = val(&g, XFSM_FW_META_PORT, 0);

	v6 = has(&g, XFSM_FW_IP6_SRC) || has(&g, XFSM_FW_IP6_DST) || has(&g, XFSM_FW_IP6_FLOW) ||
	     has(&g, XFSM_FW_ICMP6_TYPE) || has(&g, XFSM_FW_ICMP6_CODE) ||
	     has(&g, XFSM_FW_IP6_NEXTHDR);
	arp = has(&g, XFSM_FW_ARP_OP) || has(&g, XFSM_FW_ARP_SPA) || has(&g, XFSM_FW_ARP_TPA);
	tcp = has(&g, XFSM_FW_TCP_SPORT) || has(&g, XFSM_FW_TCP_DPORT) || has(&g, XFSM_FW_TCP_FLAGS) ||
	      has(&g, XFSM_FW_TCP_SEQ) || has(&g, XFSM_FW_TCP_ACK) || has(&g, XFSM_FW_TCP_WIN);
	udp = has(&g, XFSM_FW_UDP_SPORT) || has(&g, XFSM_FW_UDP_DPORT);
	icmp = has(&g, XFSM_FW_ICMP_TYPE) || has(&g, XFSM_FW_ICMP_CODE);
	icmp6 = has(&g, XFSM_FW_ICMP6_TYPE) || has(&g, XFSM_FW_ICMP6_CODE);
	if (v6 && (has(&g, XFSM_FW_IP4_SRC) || has(&g, XFSM_FW_IP4_DST) || has(&g, XFSM_FW_IP_ID) ||
		   icmp))
		return fail(err, errlen, -EINVAL, "a packet is IPv4 or IPv6, not both");
	if (tcp + udp + icmp + icmp6 > 1)
		return fail(err, errlen, -EINVAL, "a packet has one transport header: tcp, udp or icmp");
	if (arp && (v6 || tcp || udp || icmp || has(&g, XFSM_FW_IP4_SRC) || has(&g, XFSM_FW_IP4_DST) ||
		    has(&g, XFSM_FW_IP_ID) || has(&g, XFSM_FW_IP_LEN)))
		return fail(err, errlen, -EINVAL, "an ARP packet has no IP fields");

	ethtype = arp ? ETH_P_ARP : v6 ? ETH_P_IPV6 : ETH_P_IP;
	ethtype = val(&g, XFSM_FW_ETH_TYPE, ethtype);
	if (ethtype == ETH_P_IPV6)
		v6 = true;
	proto = tcp ? IPPROTO_TCP : udp ? IPPROTO_UDP : icmp ? IPPROTO_ICMP :
		icmp6 ? IPPROTO_ICMPV6 : IPPROTO_UDP;
	proto = val(&g, XFSM_FW_IP_PROTO, proto);
	if ((tcp && proto != IPPROTO_TCP) || (udp && proto != IPPROTO_UDP))
		return fail(err, errlen, -EINVAL, "ip.proto disagrees with the transport fields given");
	if (has(&g, XFSM_FW_IP6_NEXTHDR) && g.w[XFSM_FW_IP6_NEXTHDR] != proto)
		return fail(err, errlen, -EINVAL,
			    "ip6.nexthdr other than ip.proto means extension headers: give a hex frame");

	/* Ethernet, then the VLAN tags asked for */
	ret |= put16(&b, val(&g, XFSM_FW_ETH_DST_HI, 0x0200));
	ret |= put32(&b, val(&g, XFSM_FW_ETH_DST_LO, 0x00000002));
	ret |= put16(&b, val(&g, XFSM_FW_ETH_SRC_HI, 0x0200));
	ret |= put32(&b, val(&g, XFSM_FW_ETH_SRC_LO, 0x00000001));
	if (has(&g, XFSM_FW_VLAN_ID) || has(&g, XFSM_FW_VLAN_PCP) || has(&g, XFSM_FW_VLAN_INNER)) {
		bool qinq = has(&g, XFSM_FW_VLAN_INNER);

		ret |= put16(&b, qinq ? 0x88a8 : ETH_P_8021Q);
		ret |= put16(&b, val(&g, XFSM_FW_VLAN_PCP, 0) << 13 | val(&g, XFSM_FW_VLAN_ID, 0));
		if (qinq) {
			ret |= put16(&b, ETH_P_8021Q);
			ret |= put16(&b, val(&g, XFSM_FW_VLAN_INNER, 0));
		}
	}
	ret |= put16(&b, ethtype);
	l3 = b.len;
	if (ethtype == ETH_P_ARP) {
		ret |= put16(&b, 1);		/* Ethernet */
		ret |= put16(&b, ETH_P_IP);
		ret |= put(&b, "\x06\x04", 2);
		ret |= put16(&b, val(&g, XFSM_FW_ARP_OP, 1));
		ret |= put(&b, buf + 6, 6);	/* sender MAC: the source */
		ret |= put32(&b, val(&g, XFSM_FW_ARP_SPA, 0xc6120001));
		ret |= put(&b, "\0\0\0\0\0\0", 6);
		ret |= put32(&b, val(&g, XFSM_FW_ARP_TPA, 0xc6120002));
		goto pad;
	}
	if (ethtype != ETH_P_IP && ethtype != ETH_P_IPV6)
		goto pad;
	if (v6) {
		__u32 tc = val(&g, XFSM_FW_IP_DSCP, 0) << 2 | val(&g, XFSM_FW_IP_ECN, 0);

		ret |= put32(&b, 6U << 28 | tc << 20 | val(&g, XFSM_FW_IP6_FLOW, 0));
		ret |= put16(&b, 0);		/* payload length, below */
		ret |= put(&b, (unsigned char[]){ (unsigned char)proto,
					  (unsigned char)val(&g, XFSM_FW_IP_TTL, 64) }, 2);
		for (unsigned int k = 0; k < 4; k++)
			ret |= put32(&b, val(&g, XFSM_FW_IP6_SRC + k, k == 0 ? 0x20010002 : k == 3 ? 1 : 0));
		for (unsigned int k = 0; k < 4; k++)
			ret |= put32(&b, val(&g, XFSM_FW_IP6_DST + k, k == 0 ? 0x20010002 : k == 3 ? 2 : 0));
	} else {
		ret |= put(&b, (unsigned char[]){ 0x45, (unsigned char)(val(&g, XFSM_FW_IP_DSCP, 0) << 2 |
								 val(&g, XFSM_FW_IP_ECN, 0)) }, 2);
		ret |= put16(&b, 0);		/* total length, below */
		ret |= put16(&b, val(&g, XFSM_FW_IP_ID, 0));
		ret |= put16(&b, 0);		/* no fragment */
		ret |= put(&b, (unsigned char[]){ (unsigned char)val(&g, XFSM_FW_IP_TTL, 64),
					  (unsigned char)proto }, 2);
		ret |= put16(&b, 0);		/* checksum, below */
		ret |= put32(&b, val(&g, XFSM_FW_IP4_SRC, 0xc6120001));
		ret |= put32(&b, val(&g, XFSM_FW_IP4_DST, 0xc6120002));
	}
	l4 = b.len;
	if (proto == IPPROTO_TCP) {
		ret |= put16(&b, val(&g, XFSM_FW_TCP_SPORT, val(&g, XFSM_FW_L4_SPORT, 1024)));
		ret |= put16(&b, val(&g, XFSM_FW_TCP_DPORT, val(&g, XFSM_FW_L4_DPORT, 80)));
		ret |= put32(&b, val(&g, XFSM_FW_TCP_SEQ, 1));
		ret |= put32(&b, val(&g, XFSM_FW_TCP_ACK, 0));
		ret |= put(&b, (unsigned char[]){ 0x50, (unsigned char)val(&g, XFSM_FW_TCP_FLAGS, 0) }, 2);
		ret |= put16(&b, val(&g, XFSM_FW_TCP_WIN, 65535));
		ret |= put32(&b, 0);		/* checksum (not checked), urgent */
	} else if (proto == IPPROTO_UDP) {
		ret |= put16(&b, val(&g, XFSM_FW_UDP_SPORT, val(&g, XFSM_FW_L4_SPORT, 1024)));
		ret |= put16(&b, val(&g, XFSM_FW_UDP_DPORT, val(&g, XFSM_FW_L4_DPORT, 80)));
		ret |= put32(&b, 8 << 16);	/* length 8, no checksum */
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		unsigned int tw = proto == IPPROTO_ICMP ? XFSM_FW_ICMP_TYPE : XFSM_FW_ICMP6_TYPE;
		unsigned int cw = proto == IPPROTO_ICMP ? XFSM_FW_ICMP_CODE : XFSM_FW_ICMP6_CODE;

		ret |= put(&b, (unsigned char[]){ (unsigned char)val(&g, tw, proto == IPPROTO_ICMP ? 8 : 128),
					  (unsigned char)val(&g, cw, 0) }, 2);
		ret |= put16(&b, 0);
		ret |= put32(&b, 0);
	}
	if (ret)
		return fail(err, errlen, -E2BIG, "the frame does not fit");
	/* ip.len: zero payload bytes up to it */
	if (has(&g, XFSM_FW_IP_LEN)) {
		__u32 want = g.w[XFSM_FW_IP_LEN];

		if (want < b.len - l3 || l3 + want > cap)
			return fail(err, errlen, -EINVAL, "ip.len is shorter than the headers or too long");
		memset(buf + b.len, 0, l3 + want - b.len);
		b.len = l3 + want;
	}
	/* lengths and the IPv4 checksum */
	if (v6) {
		buf[l3 + 4] = (unsigned char)((b.len - l4) >> 8);
		buf[l3 + 5] = (unsigned char)(b.len - l4);
	} else {
		__u16 c;

		buf[l3 + 2] = (unsigned char)((b.len - l3) >> 8);
		buf[l3 + 3] = (unsigned char)(b.len - l3);
		c = csum16(buf + l3, 20);
		buf[l3 + 10] = (unsigned char)(c >> 8);
		buf[l3 + 11] = (unsigned char)c;
	}
	if (proto == IPPROTO_UDP) {
		buf[l4 + 4] = (unsigned char)((b.len - l4) >> 8);
		buf[l4 + 5] = (unsigned char)(b.len - l4);
	}
pad:
	if (ret)
		return fail(err, errlen, -E2BIG, "the frame does not fit");
	/* meta.len: trailing zero bytes after the headers (not in IP's length) */
	if (has(&g, XFSM_FW_META_LEN)) {
		__u32 want = g.w[XFSM_FW_META_LEN];

		if (want < b.len || want > cap)
			return fail(err, errlen, -EINVAL, "meta.len is shorter than the headers or too long");
		memset(buf + b.len, 0, want - b.len);
		b.len = want;
	}
	return (int)b.len;
}
