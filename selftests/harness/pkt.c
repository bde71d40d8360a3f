/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"

void pkt_put8(struct pkt *p, uint32_t off, uint8_t v)
{
	assert(off < PKT_MAX);
	p->data[off] = v;
}

void pkt_put16(struct pkt *p, uint32_t off, uint16_t v)
{
	assert(off + 2 <= PKT_MAX);
	p->data[off] = v >> 8;
	p->data[off + 1] = v & 0xff;
}

void pkt_put32(struct pkt *p, uint32_t off, uint32_t v)
{
	pkt_put16(p, off, v >> 16);
	pkt_put16(p, off + 2, v & 0xffff);
}

uint16_t pkt_get16(const uint8_t *d)
{
	return (uint16_t)(d[0] << 8 | d[1]);
}

uint32_t pkt_get32(const uint8_t *d)
{
	return (uint32_t)pkt_get16(d) << 16 | pkt_get16(d + 2);
}

static void put_mac(struct pkt *p, uint32_t off, uint64_t mac)
{
	pkt_put16(p, off, (mac >> 32) & 0xffff);
	pkt_put32(p, off + 2, mac & 0xffffffff);
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

static struct pkt_layer *push(struct pkt *p, uint8_t kind, uint16_t len)
{
	struct pkt_layer *l;

	assert(p->n < PKT_LAYERS);
	assert(p->len + len <= PKT_MAX);
	l = &p->l[p->n++];
	l->kind = kind;
	l->off = p->len;
	l->len = len;
	l->proto = 0;
	l->aux = 0;
	memset(p->data + p->len, 0, len);
	p->len += len;
	return l;
}

void test_ip6(uint8_t addr[16], uint16_t x)
{
	memset(addr, 0, 16);
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x00;
	addr[3] = 0x02;
	addr[14] = x >> 8;
	addr[15] = x & 0xff;
}

void pkt_eth(struct pkt *p, uint64_t dst, uint64_t src, uint16_t type)
{
	struct pkt_layer *l = push(p, PL_ETH, 14);

	put_mac(p, l->off, dst);
	put_mac(p, l->off + 6, src);
	l->aux = type;
}

void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t tci)
{
	struct pkt_layer *l = push(p, PL_VLAN, 4);

	l->aux = tpid;
	pkt_put16(p, l->off, tci);
}

void pkt_arp(struct pkt *p, uint16_t op, uint64_t sha, uint32_t spa,
	     uint64_t tha, uint32_t tpa)
{
	struct pkt_layer *l = push(p, PL_ARP, 28);
	uint32_t o = l->off;

	pkt_put16(p, o, 1);		/* Ethernet */
	pkt_put16(p, o + 2, ETHERTYPE_IP);
	pkt_put8(p, o + 4, 6);
	pkt_put8(p, o + 5, 4);
	pkt_put16(p, o + 6, op);
	put_mac(p, o + 8, sha);
	pkt_put32(p, o + 14, spa);
	put_mac(p, o + 18, tha);
	pkt_put32(p, o + 24, tpa);
}

void pkt_ip4(struct pkt *p, const struct ip4_args *a)
{
	uint16_t hlen = 20 + 4 * a->opt_words;
	struct pkt_layer *l = push(p, PL_IP4, hlen);
	uint32_t o = l->off;
	unsigned int i;

	pkt_put8(p, o, 0x40 | (hlen / 4));
	pkt_put8(p, o + 1, a->tos);
	pkt_put16(p, o + 4, a->id);
	pkt_put16(p, o + 6, a->frag);
	pkt_put8(p, o + 8, a->ttl);
	pkt_put32(p, o + 12, a->src);
	pkt_put32(p, o + 16, a->dst);
	/* Options: NOPs ending with EOL, a valid if useless option list. */
	for (i = 20; i < hlen; i++)
		pkt_put8(p, o + i, i == hlen - 1u ? 0 : 1);
	l->proto = a->proto;
}

void pkt_ip6(struct pkt *p, const struct ip6_args *a)
{
	struct pkt_layer *l = push(p, PL_IP6, 40);
	uint32_t o = l->off;

	pkt_put32(p, o, 6u << 28 | (uint32_t)a->tclass << 20 | (a->flow & 0xfffff));
	pkt_put8(p, o + 7, a->hlim);
	memcpy(p->data + o + 8, a->src, 16);
	memcpy(p->data + o + 24, a->dst, 16);
	l->proto = a->next;
}

void pkt_ip6_ext(struct pkt *p, uint8_t type, uint8_t len8, uint16_t frag)
{
	struct pkt_layer *l;

	if (type == IPPROTO_FRAGMENT_) {
		l = push(p, PL_IP6_EXT, 8);
		pkt_put16(p, l->off + 2, frag);
		pkt_put32(p, l->off + 4, 0x12345678);
	} else {
		l = push(p, PL_IP6_EXT, 8 * (1 + len8));
		pkt_put8(p, l->off + 1, len8);
		if (type == IPPROTO_ROUTING_) {
			pkt_put8(p, l->off + 2, 4);	/* segment routing type */
			pkt_put8(p, l->off + 3, 0);	/* segments left */
		} else {
			/* PadN filling the option area */
			pkt_put8(p, l->off + 2, 1);
			pkt_put8(p, l->off + 3, 8 * (1 + len8) - 4);
		}
	}
	l->aux = type;
}

void pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
	     uint8_t opt_words)
{
	uint16_t hlen = 20 + 4 * opt_words;
	struct pkt_layer *l = push(p, PL_TCP, hlen);
	uint32_t o = l->off;
	unsigned int i;

	pkt_put16(p, o, sport);
	pkt_put16(p, o + 2, dport);
	pkt_put32(p, o + 4, 0x01020304);
	pkt_put32(p, o + 8, (flags & TCPF_ACK) ? 0x0a0b0c0d : 0);
	pkt_put8(p, o + 12, (hlen / 4) << 4);
	pkt_put8(p, o + 13, flags);
	pkt_put16(p, o + 14, 65535);
	for (i = 20; i < hlen; i++)
		pkt_put8(p, o + i, 1);	/* NOP options */
}

void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	struct pkt_layer *l = push(p, PL_UDP, 8);

	pkt_put16(p, l->off, sport);
	pkt_put16(p, l->off + 2, dport);
}

void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	struct pkt_layer *l = push(p, PL_ICMP, 8);

	pkt_put8(p, l->off, type);
	pkt_put8(p, l->off + 1, code);
	pkt_put32(p, l->off + 4, 0x00420001);
}

void pkt_icmp6(struct pkt *p, uint8_t type, uint8_t code)
{
	struct pkt_layer *l = push(p, PL_ICMP6, 8);

	pkt_put8(p, l->off, type);
	pkt_put8(p, l->off + 1, code);
	pkt_put32(p, l->off + 4, 0x00420001);
}

void pkt_raw(struct pkt *p, size_t n, uint8_t fill)
{
	struct pkt_layer *l = push(p, PL_RAW, n);

	memset(p->data + l->off, fill, n);
}

/* ---- checksums ------------------------------------------------------- */

uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t csum_fold_sum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(const uint8_t *d, uint32_t l3, bool ip6,
			   uint8_t proto, uint32_t l4len)
{
	uint32_t sum = 0;

	if (ip6) {
		sum = csum_add(sum, d + l3 + 8, 32);
		sum += l4len >> 16;
		sum += l4len & 0xffff;
	} else {
		sum = csum_add(sum, d + l3 + 12, 8);
		sum += l4len;
	}
	return sum + proto;
}

bool ip4_csum_ok(const uint8_t *d, uint32_t len, uint32_t off)
{
	uint32_t hlen = (d[off] & 0xf) * 4;

	if (off + hlen > len)
		return false;
	return csum_fold_sum(csum_add(0, d + off, hlen)) == 0;
}

bool l4_csum_ok(const uint8_t *d, uint32_t len, uint32_t l3, uint32_t l4,
		uint8_t proto, bool ip6)
{
	uint32_t sum = 0;

	if (proto != IPPROTO_ICMP_)
		sum = pseudo_sum(d, l3, ip6, proto, len - l4);
	sum = csum_add(sum, d + l4, len - l4);
	return csum_fold_sum(sum) == 0;
}

void pkt_ip4_fix_csum(struct pkt *p)
{
	int off = pkt_off(p, PL_IP4, 0);
	uint32_t hlen;

	if (off < 0)
		return;
	hlen = (p->data[off] & 0xf) * 4;
	pkt_put16(p, off + 10, 0);
	if (off + hlen <= p->len)
		pkt_put16(p, off + 10, csum_fold_sum(csum_add(0, p->data + off, hlen)));
}

/* ---- finish ---------------------------------------------------------- */

static uint16_t ethertype_of(const struct pkt_layer *next, uint16_t fixed)
{
	if (fixed)
		return fixed;
	if (!next)
		return 0x88b5;	/* local experimental */
	switch (next->kind) {
	case PL_VLAN:	return next->aux;
	case PL_ARP:	return ETHERTYPE_ARP;
	case PL_IP4:	return ETHERTYPE_IP;
	case PL_IP6:	return ETHERTYPE_IPV6;
	default:	return 0x88b5;
	}
}

static uint8_t proto_of(const struct pkt_layer *next, uint8_t fixed)
{
	if (fixed)
		return fixed;
	if (!next)
		return IPPROTO_NONE_;
	switch (next->kind) {
	case PL_TCP:	return IPPROTO_TCP_;
	case PL_UDP:	return IPPROTO_UDP_;
	case PL_ICMP:	return IPPROTO_ICMP_;
	case PL_ICMP6:	return IPPROTO_ICMPV6_;
	case PL_IP6_EXT: return next->aux;
	default:	return 253;	/* experimental */
	}
}

void pkt_finish(struct pkt *p)
{
	int i, ip = -1;
	uint8_t l4proto = 0;

	for (i = 0; i < p->n; i++) {
		struct pkt_layer *l = &p->l[i];
		const struct pkt_layer *next = i + 1 < p->n ? &p->l[i + 1] : NULL;
		uint32_t o = l->off;

		switch (l->kind) {
		case PL_ETH:
			pkt_put16(p, o + 12, ethertype_of(next, l->aux));
			break;
		case PL_VLAN:
			pkt_put16(p, o + 2, ethertype_of(next, 0));
			break;
		case PL_IP4:
			ip = i;
			l4proto = proto_of(next, l->proto);
			pkt_put8(p, o + 9, l4proto);
			pkt_put16(p, o + 2, p->len - o);
			break;
		case PL_IP6:
			ip = i;
			l4proto = proto_of(next, l->proto);
			pkt_put8(p, o + 6, l4proto);
			pkt_put16(p, o + 4, p->len - o - 40);
			break;
		case PL_IP6_EXT:
			l4proto = proto_of(next, 0);
			pkt_put8(p, o, l4proto);
			break;
		default:
			break;
		}
	}
	/* Checksums last, inner layers first. */
	for (i = p->n - 1; i >= 0; i--) {
		struct pkt_layer *l = &p->l[i];
		uint32_t o = l->off, sum;
		int csum_off;
		bool ip6 = ip >= 0 && p->l[ip].kind == PL_IP6;

		switch (l->kind) {
		case PL_TCP:	csum_off = 16; break;
		case PL_UDP:	csum_off = 6; break;
		case PL_ICMP:	csum_off = 2; break;
		case PL_ICMP6:	csum_off = 2; break;
		default:	csum_off = -1; break;
		}
		if (l->kind == PL_UDP)
			pkt_put16(p, o + 4, p->len - o);
		if (csum_off < 0 || ip < 0)
			continue;
		pkt_put16(p, o + csum_off, 0);
		sum = 0;
		if (l->kind != PL_ICMP)
			sum = pseudo_sum(p->data, p->l[ip].off, ip6, l4proto, p->len - o);
		sum = csum_add(sum, p->data + o, p->len - o);
		pkt_put16(p, o + csum_off, csum_fold_sum(sum));
		if (l->kind == PL_UDP && pkt_get16(p->data + o + 6) == 0)
			pkt_put16(p, o + 6, 0xffff);
	}
	for (i = 0; i < p->n; i++)
		if (p->l[i].kind == PL_IP4) {
			uint32_t o = p->l[i].off;

			pkt_put16(p, o + 10, 0);
			pkt_put16(p, o + 10, csum_fold_sum(csum_add(0, p->data + o, p->l[i].len)));
		}
}

/* ---- corruption ------------------------------------------------------ */

int pkt_off(const struct pkt *p, int kind, int nth)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->l[i].kind == kind && nth-- == 0)
			return p->l[i].off;
	return -1;
}

void pkt_truncate(struct pkt *p, uint32_t len)
{
	assert(len <= p->len);
	p->len = len;
}

void pkt_truncate_fix(struct pkt *p, uint32_t len)
{
	int o;

	pkt_truncate(p, len);
	o = pkt_off(p, PL_IP4, 0);
	if (o >= 0 && (uint32_t)o + 4 <= len) {
		pkt_put16(p, o + 2, len - o);
		pkt_ip4_fix_csum(p);
	}
	o = pkt_off(p, PL_IP6, 0);
	if (o >= 0 && (uint32_t)o + 40 <= len)
		pkt_put16(p, o + 4, len - o - 40);
}

void pkt_set_ip4_ihl(struct pkt *p, uint8_t ihl)
{
	int o = pkt_off(p, PL_IP4, 0);

	assert(o >= 0);
	p->data[o] = (p->data[o] & 0xf0) | (ihl & 0xf);
	pkt_ip4_fix_csum(p);
}

void pkt_set_ip4_totlen(struct pkt *p, uint16_t len)
{
	int o = pkt_off(p, PL_IP4, 0);

	assert(o >= 0);
	pkt_put16(p, o + 2, len);
	pkt_ip4_fix_csum(p);
}

void pkt_set_ip_version(struct pkt *p, uint8_t ver)
{
	int o4 = pkt_off(p, PL_IP4, 0), o6 = pkt_off(p, PL_IP6, 0);
	int o = o4 >= 0 ? o4 : o6;

	assert(o >= 0);
	p->data[o] = (p->data[o] & 0x0f) | (ver << 4);
	if (o4 >= 0)
		pkt_ip4_fix_csum(p);
}

void pkt_set_ip6_paylen(struct pkt *p, uint16_t len)
{
	int o = pkt_off(p, PL_IP6, 0);

	assert(o >= 0);
	pkt_put16(p, o + 4, len);
}

void pkt_set_tcp_doff(struct pkt *p, uint8_t doff)
{
	int o = pkt_off(p, PL_TCP, 0);

	assert(o >= 0);
	p->data[o + 12] = (doff << 4) | (p->data[o + 12] & 0x0f);
}

void pkt_append(struct pkt *p, size_t n, uint8_t fill)
{
	assert(p->len + n <= PKT_MAX);
	memset(p->data + p->len, fill, n);
	p->len += n;
}

void pkt_hexdiff(const uint8_t *a, uint32_t alen, const uint8_t *b,
		 uint32_t blen, char *buf, size_t size)
{
	uint32_t i, n = alen > blen ? alen : blen;
	size_t used = 0;
	int w;

	w = snprintf(buf, size, "len %u vs %u;", alen, blen);
	if (w < 0 || (size_t)w >= size)
		return;
	used = w;
	for (i = 0; i < n && used + 16 < size; i++) {
		int x = i < alen ? a[i] : -1, y = i < blen ? b[i] : -1;

		if (x == y)
			continue;
		w = snprintf(buf + used, size - used, " @%u: %02x!=%02x", i,
			     x & 0xff, y & 0xff);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += w;
	}
}
