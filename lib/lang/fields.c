/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The header fields of the language: the table built from the ABI's field
 * list (include/xfsm/abi.h, XFSM_FIELD_LIST), lookups by name, and the
 * source/destination pairs a symmetric key swaps.
 */
#include <string.h>

#include "lang.h"

const struct xfsm_lang_field lang_field_table[] = {
#define X(n, w, nw, b) { n, w, nw, b },
	XFSM_FIELD_LIST(X)
#undef X
};
const unsigned int lang_n_fields = sizeof(lang_field_table) / sizeof(lang_field_table[0]);

const struct xfsm_lang_field *xfsm_lang_fields(unsigned int *n)
{
	if (n)
		*n = lang_n_fields;
	return lang_field_table;
}

int xfsm_lang_field_find(const char *name, size_t len)
{
	for (unsigned int i = 0; i < lang_n_fields; i++)
		if (strlen(lang_field_table[i].name) == len &&
		    !memcmp(lang_field_table[i].name, name, len))
			return (int)i;
	return -1;
}

int field_sym_partner(int field)
{
	static const char *const pairs[][2] = {
		{ "eth.src", "eth.dst" }, { "ip.src", "ip.dst" },
		{ "ip6.src", "ip6.dst" }, { "l4.sport", "l4.dport" },
		{ "tcp.sport", "tcp.dport" }, { "udp.sport", "udp.dport" },
		{ "arp.spa", "arp.tpa" },
	};
	const char *n = lang_field_table[field].name;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!strcmp(n, pairs[i][0]))
			return xfsm_lang_field_find(pairs[i][1], strlen(pairs[i][1]));
		if (!strcmp(n, pairs[i][1]))
			return xfsm_lang_field_find(pairs[i][0], strlen(pairs[i][0]));
	}
	return field;
}

lang_u128 field_max(int f)
{
	unsigned int bits = lang_field_table[f].bits;

	return bits >= 128 ? ~(lang_u128)0 : (((lang_u128)1 << bits) - 1);
}

/* meta.port is a 32-bit word holding a port number (include/xfsm/abi.h). */
static lang_u128 field_value_max(int f)
{
	if (lang_field_table[f].word == XFSM_FW_META_PORT)
		return XFSM_MAX_PORTS - 1;
	return field_max(f);
}

void check_field_value(struct lc *c, int f, lang_u128 v, const struct lang_tok *t)
{
	const struct xfsm_lang_field *fd = &lang_field_table[f];
	char buf[48];

	if (v <= field_value_max(f))
		return;
	/* as written when it is one token, else the folded value */
	if (c->p > 0 && &c->t[c->p - 1] == t)
		snprintf(buf, sizeof(buf), "%.*s", (int)(t->len > 40 ? 40 : t->len), c->src + t->off);
	else
		xfsm_u128_str(v, buf, sizeof(buf));
	if (field_value_max(f) != field_max(f))
		fail_at(c, t, "value %s is out of range for %s (0..%llu)", buf, fd->name,
			(unsigned long long)field_value_max(f));
	fail_at(c, t, "value %s does not fit in %s (%u bits)", buf, fd->name, fd->bits);
}

/* ---- the field reference (docs/language.md, xfsmctl fields) ------------------------- */

/*
 * What every field is, for people: the packets that have it and how its
 * values are written.  Every field of XFSM_FIELD_LIST has exactly one entry
 * (test_lang checks it, and that docs/language.md lists the same).  A
 * field a packet does not have reads as 0; every value is a number in host
 * order, whatever the byte order on the wire.
 */
static const struct xfsm_lang_field_doc field_docs[] = {
	{ "meta.port", "number, port name", "every packet",
	  "number of the ingress port (xfsm-loader's interface list, `port` names); 0 when the interface is no port" },
	{ "meta.len", "number", "every packet", "frame length in bytes, Ethernet header included" },
	{ "meta.mark", "number", "every packet",
	  "mark set by an earlier stage (`mark = V`) or an ACL block's `mark`; 0 at arrival" },
	{ "meta.flags", "flags: has_vlan has_qinq has_arp has_ipv4 has_ipv6 is_frag has_l4 has_tcp has_udp has_icmp has_icmp6",
	  "every packet", "what the parser found in the packet" },
	{ "eth.dst", "MAC", "every packet", "destination MAC address" },
	{ "eth.src", "MAC", "every packet", "source MAC address" },
	{ "eth.type", "number, ethertype name (ipv4 arp ipv6 vlan qinq)", "every packet",
	  "ethertype after the VLAN tags" },
	{ "vlan.id", "number", "802.1Q / 802.1ad tagged", "VLAN id of the outer tag" },
	{ "vlan.inner", "number", "double tagged (QinQ)", "VLAN id of the inner tag" },
	{ "vlan.pcp", "number", "802.1Q / 802.1ad tagged", "priority code point of the outer tag" },
	{ "ip.proto", "number, protocol name (icmp tcp udp gre icmp6 sctp)", "IPv4, IPv6",
	  "IPv4 protocol; for IPv6 the upper-layer protocol after the extension headers" },
	{ "ip.dscp", "number", "IPv4, IPv6", "DSCP (traffic class bits 7..2)" },
	{ "ip.ecn", "number", "IPv4, IPv6", "ECN (traffic class bits 1..0)" },
	{ "ip.ttl", "number", "IPv4, IPv6", "IPv4 TTL or IPv6 hop limit" },
	{ "ip.frag", "number: bit 0 a fragment, bit 1 the first, bit 2 more follow", "IPv4, IPv6",
	  "fragment bits; 0 for a whole packet" },
	{ "ip.len", "number", "IPv4, IPv6",
	  "length of the IP packet in bytes, its header included: the IPv4 total length, for IPv6 40 + the payload length (not in the offload profile)" },
	{ "ip.id", "number", "IPv4", "identification (not in the offload profile)" },
	{ "ip.src", "IPv4 address", "IPv4", "source address" },
	{ "ip.dst", "IPv4 address", "IPv4", "destination address" },
	{ "ip6.src", "IPv6 address", "IPv6", "source address (128 bits: rule matches and keys only)" },
	{ "ip6.dst", "IPv6 address", "IPv6", "destination address (128 bits: rule matches and keys only)" },
	{ "ip6.flow", "number", "IPv6", "flow label" },
	{ "ip6.nexthdr", "number, protocol name (icmp tcp udp gre icmp6 sctp)", "IPv6",
	  "next header of the IPv6 header itself: the first extension header (0 hop-by-hop, 43 routing, 44 fragment, 60 destination options) or the upper-layer protocol; ip.proto is always the upper-layer one" },
	{ "l4.sport", "number", "TCP, UDP (not a later fragment)", "source port" },
	{ "l4.dport", "number", "TCP, UDP (not a later fragment)", "destination port" },
	{ "tcp.sport", "number", "TCP (not a later fragment)", "source port" },
	{ "tcp.dport", "number", "TCP (not a later fragment)", "destination port" },
	{ "tcp.flags", "flags: fin syn rst psh ack urg ece cwr", "TCP (not a later fragment)",
	  "TCP flags (byte 13 of the header)" },
	{ "tcp.seq", "number", "TCP (not a later fragment)",
	  "sequence number (not in the offload profile)" },
	{ "tcp.ack", "number", "TCP (not a later fragment)",
	  "acknowledgment number, whether or not the ack flag is set (not in the offload profile)" },
	{ "tcp.win", "number", "TCP (not a later fragment)",
	  "window field as sent, not scaled (not in the offload profile)" },
	{ "udp.sport", "number", "UDP (not a later fragment)", "source port" },
	{ "udp.dport", "number", "UDP (not a later fragment)", "destination port" },
	{ "icmp.type", "number", "ICMPv4", "type" },
	{ "icmp.code", "number", "ICMPv4", "code" },
	{ "icmp6.type", "number", "ICMPv6", "type" },
	{ "icmp6.code", "number", "ICMPv6", "code" },
	{ "arp.op", "number", "ARP", "operation: 1 request, 2 reply" },
	{ "arp.spa", "IPv4 address", "ARP (Ethernet/IPv4)", "sender protocol address" },
	{ "arp.tpa", "IPv4 address", "ARP (Ethernet/IPv4)", "target protocol address" },
};

const struct xfsm_lang_field_doc *xfsm_lang_field_doc(int field_id)
{
	const char *name;

	if (field_id < 0 || (unsigned int)field_id >= lang_n_fields)
		return NULL;
	name = lang_field_table[field_id].name;
	for (size_t i = 0; i < sizeof(field_docs) / sizeof(field_docs[0]); i++)
		if (!strcmp(field_docs[i].name, name))
			return &field_docs[i];
	return NULL;
}

/* Metadata operands: values of the packet that are no header field. */
static const struct xfsm_lang_meta meta_operands[] = {
	{ "meta.time", 64, "arrival time in ns (monotonic clock)",
	  "the time changes with every packet: compare it in a condition (condition late = meta.time > reg0) and match the condition" },
	{ "meta.ifindex", 32, "ingress interface index",
	  "match meta.port, the port number of the ingress interface, or compare meta.ifindex in a condition" },
	{ "meta.random", 32, "a random number drawn once per packet (0..2^32-1)",
	  "a random number is no table key: compare it in a condition (condition sample = meta.random < 42949673, about 1 in 100) and match the condition" },
};

const struct xfsm_lang_meta *xfsm_lang_metas(unsigned int *n)
{
	if (n)
		*n = sizeof(meta_operands) / sizeof(meta_operands[0]);
	return meta_operands;
}

void lang_check_meta_match(struct lc *c, const struct lang_tok *t)
{
	for (size_t i = 0; i < sizeof(meta_operands) / sizeof(meta_operands[0]); i++)
		if (tok_eq(c, t, meta_operands[i].name))
			fail_at(c, t, "%s cannot be matched by a rule: %s", meta_operands[i].name,
				meta_operands[i].why_not_matched);
}

/* Edit distance (insertions, deletions, substitutions, transpositions),
 * at most 3 + whatever it exceeds by: names are short. */
static unsigned int edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned int d[40][40];

	if (la >= 40 || lb >= 40)
		return 100;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* Up to three names closest to t: fields (and, outside rule matches,
 * metadata operands), as "'a', 'b' or 'c'" into buf. */
static void nearest_fields(struct lc *c, const struct lang_tok *t, bool meta,
			   char *buf, size_t len)
{
	const char *cand[64], *best[3] = { NULL };
	unsigned int nc = 0, bd[3] = { 100, 100, 100 }, limit;
	size_t o = 0;
	int nb = 0;

	for (unsigned int i = 0; i < lang_n_fields && nc < 64; i++)
		cand[nc++] = lang_field_table[i].name;
	for (size_t i = 0; meta && i < sizeof(meta_operands) / sizeof(meta_operands[0]); i++)
		if (nc < 64)
			cand[nc++] = meta_operands[i].name;
	/* a third of the name may be wrong, at least two characters */
	limit = t->len / 3 > 2 ? (unsigned int)(t->len / 3) : 2;
	for (unsigned int i = 0; i < nc; i++) {
		unsigned int dist = edit_distance(c->src + t->off, t->len, cand[i], strlen(cand[i]));

		if (dist > limit)
			continue;
		for (int k = 0; k < 3; k++) {
			if (dist < bd[k]) {
				for (int m = 2; m > k; m--) {
					bd[m] = bd[m - 1];
					best[m] = best[m - 1];
				}
				bd[k] = dist;
				best[k] = cand[i];
				break;
			}
		}
	}
	buf[0] = 0;
	while (nb < 3 && best[nb])
		nb++;
	for (int k = 0; k < nb && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s'%s'",
				      k == 0 ? "" : k == nb - 1 ? " or " : ", ", best[k]);
}

void lang_fail_unknown_field(struct lc *c, const struct lang_tok *t, bool in_match)
{
	char near[128];

	nearest_fields(c, t, !in_match, near, sizeof(near));
	if (near[0])
		fail_at(c, t, "unknown field '%.*s'; did you mean %s? (xfsmctl fields lists them all)",
			(int)t->len, c->src + t->off, near);
	fail_at(c, t, "unknown field '%.*s' (xfsmctl fields lists them all)",
		(int)t->len, c->src + t->off);
}
