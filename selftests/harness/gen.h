/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Random valid applications in the xfsm language (gen_app.c) and random
 * and mutated packets for them (gen_pkt.c), for the differential test of
 * the two datapaths (diff.h).  Both draw from one source of randomness:
 * a seeded generator (reproducible: the same seed gives the same
 * applications and packets) or the bytes of a fuzzer's input, then the
 * seeded generator once those run out.
 *
 * Left out on purpose, because the two runs of a packet legitimately
 * differ there: meta.random (a new number per run) and meta.time (the
 * clock moves between the two runs).  Timeouts are either short
 * (XD_TMO_MIN_MS..XD_TMO_MAX_MS, which diff.c's runner lets fire
 * deterministically) or an hour or more (never fire during a run).
 */
#ifndef XT_GEN_H
#define XT_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

struct xg_rng {
	uint64_t	s;		/* splitmix64 state */
	const uint8_t	*buf;		/* fuzz input, drawn first */
	size_t		len, pos;
};

void xg_seed(struct xg_rng *r, uint64_t seed);
void xg_from_bytes(struct xg_rng *r, const uint8_t *buf, size_t len);
/* Uniform in [0, n) (n > 0). */
uint32_t xg_below(struct xg_rng *r, uint32_t n);
uint64_t xg_u64(struct xg_rng *r);
static inline bool xg_chance(struct xg_rng *r, unsigned int percent)
{
	return xg_below(r, 100) < percent;
}

/* The packet fields an application reads, with the constants it compares
 * them to: the packet generator builds frames that hit them. */
enum xg_fid {
	XG_ETH_DST, XG_ETH_SRC, XG_ETH_TYPE, XG_VLAN_ID, XG_VLAN_PCP, XG_VLAN_INNER,
	XG_IP_PROTO, XG_IP_DSCP, XG_IP_ECN, XG_IP_TTL, XG_IP_FRAG, XG_IP_LEN, XG_IP_ID,
	XG_IP_SRC, XG_IP_DST, XG_IP6_SRC, XG_IP6_DST, XG_IP6_FLOW, XG_IP6_NEXTHDR,
	XG_SPORT, XG_DPORT, XG_TCP_FLAGS, XG_TCP_SEQ, XG_TCP_ACK, XG_TCP_WIN,
	XG_ICMP_TYPE, XG_ICMP_CODE, XG_ICMP6_TYPE, XG_ICMP6_CODE,
	XG_ARP_OP, XG_ARP_SPA, XG_ARP_TPA,
	XG_META_PORT, XG_META_LEN, XG_META_MARK, XG_META_FLAGS,
	XG_NFIELDS,
};

#define XG_CONSTS	8

struct xg_app {
	char		*text;
	size_t		len, size;
	char		name[32];
	bool		short_tmo;	/* uses timeouts that fire in a run */
	/* what the packets should carry */
	uint64_t	consts[XG_NFIELDS][XG_CONSTS];
	unsigned int	n_consts[XG_NFIELDS];
	bool		wants_ip6, wants_arp, wants_vlan, wants_icmp;
};

/*
 * Constructs left out of the generated applications: $XT_DIFF_OMIT, a
 * comma-separated list of acl, groups, rewrite (set eth/ip/l4/ip6/dscp/
 * ecn/ttl, dec ttl), ip6nat (set ip6.src/dst alone), vlan, arp, fib, xsk,
 * flood.  Empty by default: the
 * whole language.  A way to aim the test at what a datapath takes while
 * it grows, never a way to pass it: the summary prints what was omitted.
 */
enum {
	XG_OMIT_ACL	= 1U << 0,
	XG_OMIT_GROUPS	= 1U << 1,
	XG_OMIT_REWRITE	= 1U << 2,
	XG_OMIT_VLAN	= 1U << 3,
	XG_OMIT_ARP	= 1U << 4,
	XG_OMIT_FIB	= 1U << 5,
	XG_OMIT_XSK	= 1U << 6,
	XG_OMIT_FLOOD	= 1U << 7,
	XG_OMIT_IP6NAT	= 1U << 8,
};
/* The set from $XT_DIFF_OMIT (exits on an unknown name). */
unsigned int xg_omit(void);

/* A random valid application (valid unless the compiler disagrees: the
 * caller compiles it and counts refusals).  n: a serial for its name. */
int xg_app(struct xg_rng *r, struct xg_app *a, unsigned int n);
void xg_app_free(struct xg_app *a);

/* A frame for application a: well-formed most of the time, carrying its
 * constants; else mutated (truncated, extra VLAN tags, IPv4 options, IPv6
 * extension headers, fragments, bad lengths, other ethertypes, random
 * bytes).  *ifindex: 0 or 1 (port 1); *wait: sleep before it. */
void xg_packet(struct xg_rng *r, const struct xg_app *a, struct pkt *p,
	       uint32_t *ifindex, bool *wait);

#endif /* XT_GEN_H */
