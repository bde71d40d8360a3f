/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A small packet builder for the golden-packet tests: push headers from the
 * outside in, then pkt_finish() fills every "next header" field, length and
 * checksum.  Corruption helpers run after pkt_finish() to produce the
 * malformed classes of docs/datapath.md.
 */
#ifndef XT_PKT_H
#define XT_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX		1536
#define PKT_LAYERS	16

enum pkt_layer_kind {
	PL_ETH = 1,
	PL_VLAN,
	PL_ARP,
	PL_IP4,
	PL_IP6,
	PL_IP6_EXT,
	PL_TCP,
	PL_UDP,
	PL_ICMP,
	PL_ICMP6,
	PL_RAW,
};

struct pkt_layer {
	uint8_t		kind;
	uint8_t		proto;	/* IP protocol / ext type / fixed next value */
	uint16_t	off;
	uint16_t	len;
	uint16_t	aux;	/* ETH: fixed type; VLAN: tpid */
};

struct pkt {
	uint8_t		data[PKT_MAX];
	uint32_t	len;
	struct pkt_layer l[PKT_LAYERS];
	int		n;
};

/* Test addresses: 198.18.0.0/15 and 2001:2::/48. */
#define IP4(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define TEST_IP4(x)	IP4(198, 18, ((x) >> 8) & 0xff, (x) & 0xff)
#define TEST_MAC(x)	((uint64_t)0x020000000000ULL | (uint64_t)(x))

#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_8021Q	0x8100
#define ETHERTYPE_8021AD 0x88a8

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_ICMPV6_		58
#define IPPROTO_NONE_		59
#define IPPROTO_DSTOPTS_	60

#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_PSH	0x08
#define TCPF_ACK	0x10
#define TCPF_URG	0x20
#define TCPF_ECE	0x40
#define TCPF_CWR	0x80

/* IPv4 fragment field, host order: flags << 13 | offset in 8-byte units. */
#define IP4_MF		0x2000
#define IP4_DF		0x4000

struct ip4_args {
	uint32_t	src, dst;	/* host order */
	uint8_t		tos;
	uint8_t		ttl;
	uint8_t		proto;		/* 0: from the next layer */
	uint8_t		opt_words;	/* IHL - 5 */
	uint16_t	id;
	uint16_t	frag;
};

struct ip6_args {
	uint8_t		src[16], dst[16];
	uint8_t		tclass;
	uint8_t		hlim;
	uint8_t		next;		/* 0: from the next layer */
	uint32_t	flow;
};

void pkt_init(struct pkt *p);
/* MACs as 48-bit numbers; type 0: from the next layer. */
void pkt_eth(struct pkt *p, uint64_t dst, uint64_t src, uint16_t type);
void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t tci);
void pkt_arp(struct pkt *p, uint16_t op, uint64_t sha, uint32_t spa,
	     uint64_t tha, uint32_t tpa);
void pkt_ip4(struct pkt *p, const struct ip4_args *a);
void pkt_ip6(struct pkt *p, const struct ip6_args *a);
/* An extension header of 8 * (1 + len8) bytes; for a fragment header
 * (IPPROTO_FRAGMENT_) frag is offset << 3 | M and len8 is ignored. */
void pkt_ip6_ext(struct pkt *p, uint8_t type, uint8_t len8, uint16_t frag);
void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint8_t opt_words);
void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);
void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code);
void pkt_icmp6(struct pkt *p, uint8_t type, uint8_t code);
void pkt_raw(struct pkt *p, size_t n, uint8_t fill);
/* Fill next-header fields, lengths and checksums. */
void pkt_finish(struct pkt *p);

/* Fill in 2001:2::x (x in the last two bytes). */
void test_ip6(uint8_t addr[16], uint16_t x);

/* ---- After pkt_finish(): corruption and inspection ------------------ */

/* Offset of the nth (0-based) layer of a kind, -1 when absent. */
int pkt_off(const struct pkt *p, int kind, int nth);
void pkt_truncate(struct pkt *p, uint32_t len);
/* Truncate and make IPv4 total length / IPv6 payload length (and the IPv4
 * header checksum) agree with the shorter frame. */
void pkt_truncate_fix(struct pkt *p, uint32_t len);
void pkt_set_ip4_ihl(struct pkt *p, uint8_t ihl);
void pkt_set_ip4_totlen(struct pkt *p, uint16_t len);
void pkt_set_ip_version(struct pkt *p, uint8_t ver);	/* first IP header */
void pkt_set_ip6_paylen(struct pkt *p, uint16_t len);
void pkt_set_tcp_doff(struct pkt *p, uint8_t doff);
void pkt_append(struct pkt *p, size_t n, uint8_t fill);	/* no fix-up */
void pkt_put8(struct pkt *p, uint32_t off, uint8_t v);
void pkt_put16(struct pkt *p, uint32_t off, uint16_t v);	/* network order */
void pkt_put32(struct pkt *p, uint32_t off, uint32_t v);
uint16_t pkt_get16(const uint8_t *d);
uint32_t pkt_get32(const uint8_t *d);
void pkt_ip4_fix_csum(struct pkt *p);

/* Internet checksum helpers. */
uint16_t csum_fold_sum(uint32_t sum);
uint32_t csum_add(uint32_t sum, const void *buf, size_t len);
/* true when the IPv4 header at off has a valid checksum */
bool ip4_csum_ok(const uint8_t *d, uint32_t len, uint32_t off);
/* true when the L4 segment at l4 (to end of frame) checks out against the
 * IPv4 (ip6 false) or IPv6 header at l3. */
bool l4_csum_ok(const uint8_t *d, uint32_t len, uint32_t l3, uint32_t l4,
		uint8_t proto, bool ip6);

/* Hex dump of a frame into buf (for failure messages). */
void pkt_hexdiff(const uint8_t *a, uint32_t alen, const uint8_t *b,
		 uint32_t blen, char *buf, size_t size);

#endif /* XT_PKT_H */
