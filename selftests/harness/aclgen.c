// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * ACL rule set and header generator (see aclgen.h).
 *
 * The ClassBench-like styles draw protocol, port class pair and prefix
 * lengths from weights counted on the acl1/fw1/ipc1 10k sets (Taylor and
 * Turner's ClassBench seeds); addresses cluster the way real sets do:
 * most new prefixes share a random number of leading bits with an earlier
 * one, some repeat one exactly (a source with many destinations).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclgen.h"
#include "xfsm/acl_match.h"

/* ---- Randomness: splitmix64, reproducible everywhere ------------------------ */

struct rng {
	__u64 s;
};

static __u64 rnd64(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 rnd32(struct rng *r)
{
	return rnd64(r) >> 32;
}

/* Uniform in [0, n), n > 0. */
static __u32 rnd_below(struct rng *r, __u32 n)
{
	return (__u32)(((__u64)rnd32(r) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static __u32 rnd_range(struct rng *r, __u32 lo, __u32 hi)
{
	if (hi - lo == 0xffffffffU)
		return rnd32(r);
	return lo + rnd_below(r, hi - lo + 1);
}

/* True with probability pct / 100. */
static int chance(struct rng *r, unsigned int pct)
{
	return rnd_below(r, 100) < pct;
}

struct weighted {
	__u32 v;
	__u32 w;
};

static __u32 pick(struct rng *r, const struct weighted *t, size_t n)
{
	__u32 total = 0, x;
	size_t i;

	for (i = 0; i < n; i++)
		total += t[i].w;
	x = rnd_below(r, total);
	for (i = 0; i < n; i++) {
		if (x < t[i].w)
			return t[i].v;
		x -= t[i].w;
	}
	return t[n - 1].v;
}

#define PICK(r, t)	pick((r), (t), sizeof(t) / sizeof((t)[0]))

/* ---- Style tables: counts from the ClassBench 10k sets ------------------------ */

enum { P_TCP = 6, P_UDP = 17, P_ICMP = 1, P_GRE = 47, P_ESP = 50, P_AH = 51, P_ANY = 256 };
enum port_class { WC, HI, LO, EM, AR };
#define PC(s, d)	((s) << 4 | (d))

struct table {
	const struct weighted *t;
	size_t n;
};

struct style {
	struct table proto, ports, slen, dlen;
};

#define TAB(x)	{ x, sizeof(x) / sizeof((x)[0]) }

static const struct weighted acl_proto[] = {
	{ P_TCP, 8509 }, { P_ANY, 830 }, { P_ICMP, 286 }, { P_UDP, 117 },
};
static const struct weighted acl_ports[] = {	/* TCP/UDP rules only */
	{ PC(WC, EM), 5936 }, { PC(WC, WC), 1600 }, { PC(WC, AR), 1093 },
};
static const struct weighted acl_slen[] = {
	{ 32, 5243 }, { 31, 2449 }, { 30, 458 }, { 29, 97 }, { 28, 11 }, { 25, 70 },
	{ 24, 404 }, { 23, 679 }, { 22, 223 }, { 21, 17 }, { 8, 19 }, { 7, 17 },
	{ 1, 16 }, { 0, 29 },
};
static const struct weighted acl_dlen[] = {
	{ 32, 4999 }, { 31, 1922 }, { 30, 412 }, { 29, 46 }, { 28, 48 }, { 27, 31 },
	{ 26, 50 }, { 25, 157 }, { 24, 237 }, { 23, 369 }, { 22, 680 }, { 21, 201 },
	{ 17, 72 }, { 16, 111 }, { 15, 75 }, { 14, 24 }, { 8, 26 }, { 4, 23 },
	{ 2, 31 }, { 1, 34 }, { 0, 62 },
};

static const struct weighted fw_proto[] = {
	{ P_TCP, 5327 }, { P_UDP, 3065 }, { P_GRE, 532 }, { P_ICMP, 350 }, { P_ANY, 90 },
};
static const struct weighted fw_ports[] = {
	{ PC(WC, EM), 5422 }, { PC(WC, WC), 850 }, { PC(EM, WC), 952 }, { PC(HI, HI), 560 },
	{ PC(EM, EM), 242 }, { PC(HI, EM), 180 }, { PC(EM, HI), 168 }, { PC(HI, AR), 8 },
	{ PC(AR, HI), 8 },
};
static const struct weighted fw_slen[] = {
	{ 0, 3866 }, { 1, 1831 }, { 2, 260 }, { 32, 1176 }, { 31, 845 }, { 30, 283 },
	{ 29, 177 }, { 28, 165 }, { 27, 137 }, { 26, 82 }, { 25, 43 }, { 24, 35 },
	{ 23, 76 }, { 22, 84 }, { 21, 70 }, { 20, 70 }, { 16, 20 }, { 12, 31 }, { 8, 20 },
};
static const struct weighted fw_dlen[] = {
	{ 0, 1706 }, { 1, 904 }, { 2, 105 }, { 32, 2989 }, { 31, 2586 }, { 30, 661 },
	{ 29, 60 }, { 28, 76 }, { 27, 53 }, { 26, 28 }, { 22, 64 }, { 21, 93 }, { 20, 22 },
};

static const struct weighted ipc_proto[] = {
	{ P_UDP, 3676 }, { P_ANY, 3038 }, { P_TCP, 2653 }, { P_ICMP, 125 }, { P_GRE, 23 },
	{ P_ESP, 9 }, { P_AH, 6 },
};
static const struct weighted ipc_ports[] = {
	{ PC(WC, EM), 3487 }, { PC(WC, WC), 250 }, { PC(EM, WC), 1580 }, { PC(WC, HI), 558 },
	{ PC(WC, AR), 214 }, { PC(AR, WC), 186 }, { PC(HI, WC), 37 }, { PC(EM, EM), 32 },
};
static const struct weighted ipc_slen[] = {
	{ 0, 718 }, { 1, 442 }, { 2, 38 }, { 15, 122 }, { 16, 289 }, { 17, 263 }, { 18, 84 },
	{ 21, 112 }, { 22, 502 }, { 23, 1259 }, { 24, 1387 }, { 25, 854 }, { 26, 364 },
	{ 27, 186 }, { 28, 151 }, { 29, 68 }, { 30, 148 }, { 31, 795 }, { 32, 1718 },
};
static const struct weighted ipc_dlen[] = {
	{ 0, 522 }, { 1, 275 }, { 15, 244 }, { 16, 403 }, { 17, 223 }, { 21, 47 }, { 22, 146 },
	{ 23, 636 }, { 24, 1167 }, { 25, 1017 }, { 26, 484 }, { 27, 280 }, { 28, 179 },
	{ 29, 120 }, { 30, 167 }, { 31, 1067 }, { 32, 2487 },
};

static const struct style styles[] = {
	[ACLGEN_ACL] = { TAB(acl_proto), TAB(acl_ports), TAB(acl_slen), TAB(acl_dlen) },
	[ACLGEN_FW] = { TAB(fw_proto), TAB(fw_ports), TAB(fw_slen), TAB(fw_dlen) },
	[ACLGEN_IPC] = { TAB(ipc_proto), TAB(ipc_ports), TAB(ipc_slen), TAB(ipc_dlen) },
};

/* Well-known destination ports, weighted roughly as they recur in sets. */
static const struct weighted common_ports[] = {
	{ 80, 40 }, { 443, 30 }, { 22, 20 }, { 25, 15 }, { 53, 20 }, { 21, 8 }, { 23, 6 },
	{ 110, 5 }, { 123, 5 }, { 135, 4 }, { 137, 4 }, { 139, 4 }, { 143, 4 }, { 161, 6 },
	{ 389, 3 }, { 445, 5 }, { 514, 3 }, { 1433, 4 }, { 1521, 3 }, { 3306, 4 },
	{ 3389, 4 }, { 5060, 3 }, { 8080, 6 }, { 8443, 3 },
};

static const char *const style_names[ACLGEN__MAX] = {
	[ACLGEN_ACL] = "acl", [ACLGEN_FW] = "fw", [ACLGEN_IPC] = "ipc",
	[ACLGEN_DPORT] = "dport", [ACLGEN_MASKS] = "masks", [ACLGEN_RANGES] = "ranges",
	[ACLGEN_CROSS] = "cross", [ACLGEN_OVERLAP] = "overlap",
	[ACLGEN_CHAINS] = "chains", [ACLGEN_IP6] = "ip6", [ACLGEN_FIELDS] = "fields",
};

const char *aclgen_style_name(enum aclgen_style s)
{
	return s < ACLGEN__MAX ? style_names[s] : "?";
}

int aclgen_style_parse(const char *name)
{
	int i;

	for (i = 0; i < ACLGEN__MAX; i++)
		if (!strcmp(name, style_names[i]))
			return i;
	return -1;
}

/* ---- Addresses ---------------------------------------------------------------- */

/* Prefixes made so far for one field (source or destination), so that
 * new ones can share leading bits with old ones. */
struct pool {
	__u32	(*a)[4];
	__u8	*len;
	size_t	n, cap;
	unsigned int bits;	/* 32 or 128 */
};

static void bit_set(__u32 w[4], unsigned int i, int v)
{
	__u32 m = 1U << (31 - i % 32);

	if (v)
		w[i / 32] |= m;
	else
		w[i / 32] &= ~m;
}

static int bit_get(const __u32 w[4], unsigned int i)
{
	return !!(w[i / 32] & (1U << (31 - i % 32)));
}

static int pool_add(struct pool *p, const __u32 a[4], __u8 len)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		void *na = realloc(p->a, cap * sizeof(*p->a)), *nl;

		if (!na)
			return -ENOMEM;
		p->a = na;
		nl = realloc(p->len, cap);
		if (!nl)
			return -ENOMEM;
		p->len = nl;
		p->cap = cap;
	}
	memcpy(p->a[p->n], a, 16);
	p->len[p->n++] = len;
	return 0;
}

static void pool_free(struct pool *p)
{
	free(p->a);
	free(p->len);
}

/*
 * A prefix of `len` bits: 15% an earlier prefix of that length again, 70%
 * sharing a random number of leading bits with an earlier prefix (the
 * clustering of real sets), else random bits.
 */
static int make_prefix(struct rng *r, struct pool *p, unsigned int len, __u32 out[4])
{
	unsigned int i, share = 0, roll = rnd_below(r, 100);
	const __u32 *base = NULL;

	memset(out, 0, 16);
	if (p->n && roll < 15) {
		size_t k, start = rnd_below(r, p->n);

		for (k = 0; k < p->n && k < 64; k++) {
			size_t j = (start + k) % p->n;

			if (p->len[j] == len) {
				memcpy(out, p->a[j], 16);
				return 0;
			}
		}
	}
	if (p->n && roll < 85) {
		size_t j = rnd_below(r, p->n);

		base = p->a[j];
		share = p->len[j] < len ? p->len[j] : len;
		share = len / 2 + rnd_below(r, share + 1 > len / 2 ? share + 1 - len / 2 : 1);
		if (share > p->len[j])
			share = p->len[j];
	}
	for (i = 0; i < len; i++)
		bit_set(out, i, i < share ? bit_get(base, i) : (int)(rnd32(r) & 1));
	return pool_add(p, out, len);
}

/* ---- Rules -------------------------------------------------------------------- */

static void set_ports(struct rng *r, enum port_class c, __u16 *lo, __u16 *hi, int dport)
{
	__u32 a, w;

	switch (c) {
	case WC:
		*lo = 0;
		*hi = 0xffff;
		break;
	case HI:
		*lo = 1024;
		*hi = 0xffff;
		break;
	case LO:
		*lo = 0;
		*hi = 1023;
		break;
	case EM:
		a = dport && chance(r, 70) ? PICK(r, common_ports) : rnd_range(r, 1, 0xffff);
		*lo = *hi = a;
		break;
	case AR:
		/* narrow ranges above 1024, like the ones ClassBench sets carry */
		static const __u32 widths[] = { 2, 4, 8, 10, 50, 100, 1000 };

		w = widths[rnd_below(r, 7)];
		a = rnd_range(r, 1024, 0xffff - w);
		*lo = a;
		*hi = a + w - 1;
		break;
	}
}

static void set_proto(struct xfsm_acl_entry *e, __u32 p)
{
	if (p == P_ANY)
		return;
	e->proto = p;
	e->proto_mask = 0xff;
}

static void set_v4(struct xfsm_acl_entry *e, const __u32 s[4], __u8 sl, const __u32 d[4], __u8 dl)
{
	e->src[0] = s[0];
	e->dst[0] = d[0];
	e->src_len = sl;
	e->dst_len = dl;
	e->flags |= XFSM_ACLF_V4;
}

static void set_v6(struct xfsm_acl_entry *e, const __u32 s[4], __u8 sl, const __u32 d[4], __u8 dl)
{
	memcpy(e->src, s, 16);
	memcpy(e->dst, d, 16);
	e->src_len = sl;
	e->dst_len = dl;
	e->flags |= XFSM_ACLF_V6;
}

struct gen {
	struct rng	r;
	struct pool	src, dst;
	size_t		i, n;
	enum aclgen_style style;
};

/* Source and destination prefixes of these lengths, from the pools. */
static int set_prefixes(struct gen *g, struct xfsm_acl_entry *e, unsigned int sl,
			unsigned int dl, bool v6)
{
	__u32 sa[4], da[4];
	int err;

	err = make_prefix(&g->r, &g->src, sl, sa);
	if (!err)
		err = make_prefix(&g->r, &g->dst, dl, da);
	if (err)
		return err;
	if (v6)
		set_v6(e, sa, sl, da, dl);
	else
		set_v4(e, sa, sl, da, dl);
	return 0;
}

static int gen_classbench(struct gen *g, struct xfsm_acl_entry *e)
{
	const struct style *st = &styles[g->style];
	__u32 p = pick(&g->r, st->proto.t, st->proto.n), pc;
	unsigned int sl = pick(&g->r, st->slen.t, st->slen.n), dl = pick(&g->r, st->dlen.t, st->dlen.n);
	int err;

	err = set_prefixes(g, e, sl, dl, false);
	if (err)
		return err;
	set_proto(e, p);
	if (p == P_TCP || p == P_UDP) {
		pc = pick(&g->r, st->ports.t, st->ports.n);
		set_ports(&g->r, pc >> 4, &e->sport_lo, &e->sport_hi, 0);
		set_ports(&g->r, pc & 15, &e->dport_lo, &e->dport_hi, 1);
	}
	return 0;
}

/* The crafted set of issue 13: tcp, then udp, then sctp dport 1..65535. */
static int gen_dport(struct gen *g, struct xfsm_acl_entry *e)
{
	static const __u8 protos[] = { P_TCP, P_UDP, 132 };

	set_proto(e, protos[(g->i / 65535) % 3]);
	e->dport_lo = e->dport_hi = g->i % 65535 + 1;
	return 0;
}

/* Source and destination lengths walk through all 33 x 33 pairs. */
static int gen_masks(struct gen *g, struct xfsm_acl_entry *e)
{
	int err = set_prefixes(g, e, g->i % 33, (g->i / 33) % 33, false);

	if (err)
		return err;
	set_proto(e, chance(&g->r, 50) ? P_TCP : chance(&g->r, 60) ? P_UDP : P_ANY);
	if (e->proto_mask && chance(&g->r, 50))
		set_ports(&g->r, EM, &e->dport_lo, &e->dport_hi, 1);
	return 0;
}

/* Wildcard addresses; source and destination port ranges of every width
 * (1 to 32768 ports, log-uniform) that overlap everywhere. */
static void wide_range(struct rng *r, __u16 *lo, __u16 *hi)
{
	__u32 w = 1U << rnd_below(r, 16), a;

	w += rnd_below(r, w);
	if (w > 0x8000)
		w = 0x8000;
	a = rnd_range(r, 0, 0x10000 - w);
	*lo = a;
	*hi = a + w - 1;
}

static int gen_ranges(struct gen *g, struct xfsm_acl_entry *e)
{
	unsigned int roll = rnd_below(&g->r, 100);

	set_proto(e, chance(&g->r, 60) ? P_TCP : P_UDP);
	if (roll < 30)
		set_ports(&g->r, WC, &e->sport_lo, &e->sport_hi, 0);
	else if (roll < 50)
		set_ports(&g->r, HI, &e->sport_lo, &e->sport_hi, 0);
	else
		wide_range(&g->r, &e->sport_lo, &e->sport_hi);
	roll = rnd_below(&g->r, 100);
	if (roll < 20)
		set_ports(&g->r, EM, &e->dport_lo, &e->dport_hi, 1);
	else if (roll < 30)
		set_ports(&g->r, LO, &e->dport_lo, &e->dport_hi, 1);
	else if (roll < 40)
		set_ports(&g->r, WC, &e->dport_lo, &e->dport_hi, 1);
	else
		wide_range(&g->r, &e->dport_lo, &e->dport_hi);
	return 0;
}

/*
 * Under 16 source /16s, half the rules name a destination host or subnet
 * (any port), half a destination port (any destination): whichever field
 * a tree cuts first, the other half is wildcard there and lands in every
 * child.  The classic cross-product case of decision trees.
 */
static int gen_cross(struct gen *g, struct xfsm_acl_entry *e)
{
	__u32 sa[4] = { 0 }, da[4] = { 0 };
	unsigned int dl = 0;

	sa[0] = 0x0a000000U | rnd_below(&g->r, 16) << 16;
	if (chance(&g->r, 50)) {
		dl = 24 + rnd_below(&g->r, 9);
		da[0] = rnd32(&g->r) & xfsm_acl_pfx_mask(dl, 0);
		set_proto(e, chance(&g->r, 60) ? P_TCP : P_ANY);
	} else {
		set_proto(e, chance(&g->r, 70) ? P_TCP : P_UDP);
		set_ports(&g->r, chance(&g->r, 80) ? EM : AR, &e->dport_lo, &e->dport_hi, 1);
	}
	set_v4(e, sa, 16, da, dl);
	return 0;
}

/* 256 rules behind each /24 -> /24 address pair. */
static int gen_chains(struct gen *g, struct xfsm_acl_entry *e)
{
	__u32 sa[4] = { 0 }, da[4] = { 0 };
	size_t pair = g->i / 256;

	sa[0] = 0x0a000000U | (__u32)(pair * 2654435761U & 0xffff) << 8;
	da[0] = 0xac100000U | (__u32)(pair * 40503U & 0xfff) << 8;
	set_v4(e, sa, 24, da, 24);
	set_proto(e, chance(&g->r, 70) ? P_TCP : P_UDP);
	set_ports(&g->r, chance(&g->r, 80) ? EM : AR, &e->dport_lo, &e->dport_hi, 1);
	if (chance(&g->r, 30))
		set_ports(&g->r, HI, &e->sport_lo, &e->sport_hi, 0);
	return 0;
}

static const struct weighted ip6_len[] = {
	{ 0, 6 }, { 16, 4 }, { 32, 10 }, { 48, 16 }, { 56, 8 }, { 64, 20 }, { 96, 4 },
	{ 112, 4 }, { 120, 4 }, { 127, 4 }, { 128, 20 },
};

static unsigned int ip6_prefix_len(struct rng *r)
{
	return chance(r, 25) ? rnd_below(r, 129) : PICK(r, ip6_len);
}

static int gen_ip6(struct gen *g, struct xfsm_acl_entry *e)
{
	unsigned int sl = ip6_prefix_len(&g->r), dl = ip6_prefix_len(&g->r);
	__u32 p = PICK(&g->r, acl_proto), pc;
	int err;

	if (p == P_ICMP)
		p = 58;
	set_proto(e, p);
	if (chance(&g->r, 5)) {
		e->flags |= XFSM_ACLF_V6;	/* "ip6" without addresses */
	} else {
		err = set_prefixes(g, e, sl, dl, true);
		if (err)
			return err;
	}
	if (p == P_TCP || p == P_UDP) {
		pc = PICK(&g->r, fw_ports);
		set_ports(&g->r, pc >> 4, &e->sport_lo, &e->sport_hi, 0);
		set_ports(&g->r, pc & 15, &e->dport_lo, &e->dport_hi, 1);
	}
	return 0;
}

/* TCP flag value/mask pairs: the common ones, and arbitrary masks that no
 * interval describes. */
static void tcp_flags(struct rng *r, struct xfsm_acl_entry *e)
{
	static const __u8 pairs[][2] = {
		{ 0x02, 0x12 }, { 0x10, 0x10 }, { 0x04, 0x04 }, { 0x01, 0x01 }, { 0x12, 0x12 },
		{ 0x00, 0x3f }, { 0x29, 0x29 },
	};
	unsigned int k = rnd_below(r, 9);

	if (k < 7) {
		e->tcp_flags = pairs[k][0];
		e->tcp_mask = pairs[k][1];
	} else {
		e->tcp_mask = rnd32(r) & 0xff;
		e->tcp_flags = rnd32(r) & e->tcp_mask;
	}
}

static int gen_fields(struct gen *g, struct xfsm_acl_entry *e)
{
	unsigned int roll = rnd_below(&g->r, 100);
	int err = 0;

	if (roll < 45) {
		unsigned int sl = PICK(&g->r, acl_slen), dl = PICK(&g->r, acl_dlen);

		err = set_prefixes(g, e, sl, dl, false);
	} else if (roll < 55) {
		e->flags |= chance(&g->r, 50) ? XFSM_ACLF_V4 : XFSM_ACLF_V6;
	} else if (roll < 65) {
		e->flags |= XFSM_ACLF_V4 | XFSM_ACLF_V6;
	}
	if (err)
		return err;
	roll = rnd_below(&g->r, 100);
	if (roll < 40) {
		set_proto(e, P_TCP);
		if (chance(&g->r, 60))
			tcp_flags(&g->r, e);
	} else if (roll < 60) {
		set_proto(e, P_UDP);
	} else if (roll < 75) {
		/* protocol masks: 6/0xfe (tcp or 7), 16/0xf0 (16..31), random */
		static const __u8 pm[][2] = { { 6, 0xfe }, { 16, 0xf0 }, { 0, 0xe0 }, { 17, 0x1f } };
		unsigned int k = rnd_below(&g->r, 5);

		e->proto_mask = k < 4 ? pm[k][1] : rnd32(&g->r) & 0xff;
		e->proto = (k < 4 ? pm[k][0] : rnd32(&g->r)) & e->proto_mask;
	}
	if (e->proto_mask == 0xff && (e->proto == P_TCP || e->proto == P_UDP) && chance(&g->r, 50))
		set_ports(&g->r, chance(&g->r, 70) ? EM : AR, &e->dport_lo, &e->dport_hi, 1);
	if (chance(&g->r, 40)) {
		e->flags |= XFSM_ACLF_VLAN;
		e->vlan = 1 + rnd_below(&g->r, 32);
	}
	if (chance(&g->r, 15)) {
		e->flags |= XFSM_ACLF_PORT;
		e->in_port = chance(&g->r, 50) ? ACLGEN_PORT_A : ACLGEN_PORT_B;
	}
	return 0;
}

/*
 * 42 rules behind each TCP destination port, each asking for four TCP
 * flags (a different four each): no interval of flag values holds one of
 * these sets and none contains another, yet all meet at flags 0xff.  No
 * cut separates them and no rule shadows another, so the compiler needs
 * six leaves of seven for each port, in six trees, all deep: a packet
 * with other flags walks every one to the end, near the lookup bound.
 */
#define OVERLAP_PER_PORT	42

static int gen_overlap(struct gen *g, struct xfsm_acl_entry *e)
{
	unsigned int k = g->i % OVERLAP_PER_PORT, m, seen = 0;

	set_proto(e, P_TCP);
	e->dport_lo = e->dport_hi = 1 + g->i / OVERLAP_PER_PORT % 65535;
	for (m = 0; m < 256; m++) {
		if (__builtin_popcount(m) == 4 && seen++ == k)
			break;
	}
	e->tcp_flags = e->tcp_mask = m;
	return 0;
}

static int (*const generators[ACLGEN__MAX])(struct gen *g, struct xfsm_acl_entry *e) = {
	[ACLGEN_ACL] = gen_classbench, [ACLGEN_FW] = gen_classbench, [ACLGEN_IPC] = gen_classbench,
	[ACLGEN_DPORT] = gen_dport, [ACLGEN_MASKS] = gen_masks, [ACLGEN_RANGES] = gen_ranges,
	[ACLGEN_CROSS] = gen_cross, [ACLGEN_CHAINS] = gen_chains, [ACLGEN_IP6] = gen_ip6,
	[ACLGEN_FIELDS] = gen_fields, [ACLGEN_OVERLAP] = gen_overlap,
};

int aclgen_rules(enum aclgen_style s, size_t n, __u64 seed, struct xfsm_acl_rules *out)
{
	struct gen g = { .r = { seed * 0x2545f4914f6cdd1dULL + s }, .n = n, .style = s };
	struct xfsm_acl_entry e;
	size_t base = out->n;
	int err = 0;

	if (s >= ACLGEN__MAX)
		return -EINVAL;
	g.src.bits = g.dst.bits = s == ACLGEN_IP6 ? 128 : 32;
	for (g.i = 0; g.i < n && !err; g.i++) {
		xfsm_acl_entry_init(&e);
		e.action = XFSM_ACL_DENY;
		err = generators[s](&g, &e);
		if (err)
			break;
		e.rule_id = base + g.i + 1;
		err = xfsm_acl_rules_add(out, &e);
	}
	pool_free(&g.src);
	pool_free(&g.dst);
	return err;
}

/* ---- Headers ------------------------------------------------------------------ */

static void rand_addr(struct rng *r, __u32 a[4], unsigned int family)
{
	unsigned int i;

	memset(a, 0, 16);
	for (i = 0; i < (family == 6 ? 4U : 1U); i++)
		a[i] = rnd32(r);
}

/* A random address inside a prefix. */
static void addr_in(struct rng *r, const __u32 pfx[4], unsigned int len, unsigned int family,
		    __u32 a[4])
{
	unsigned int i;

	rand_addr(r, a, family);
	for (i = 0; i < 4; i++) {
		__u32 m = xfsm_acl_pfx_mask(len, i);

		a[i] = (pfx[i] & m) | (a[i] & ~m);
	}
}

static __u8 any_proto(struct rng *r, unsigned int family)
{
	static const __u8 common[] = { P_TCP, P_TCP, P_UDP, P_UDP, P_ICMP, P_GRE };
	__u8 p = chance(r, 85) ? common[rnd_below(r, 6)] : rnd32(r);

	if (p == P_ICMP && family == 6)
		p = 58;
	return p;
}

static unsigned int rule_family(struct rng *r, const struct xfsm_acl_entry *e, unsigned int fams)
{
	__u32 f = e->flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

	if (f == XFSM_ACLF_V4)
		return 4;
	if (f == XFSM_ACLF_V6)
		return 6;
	if (fams == 3)
		return chance(r, 50) ? 4 : 6;
	return fams == 2 ? 6 : 4;
}

/* Protocol numbers a packet of the family can carry as its last header:
 * the datapath walks IPv6 extension headers, and a packet builder writes
 * 0 as "from the next layer". */
static __u8 plain_proto(__u8 p, unsigned int family)
{
	if (p == 0 || (family == 6 && (p == 43 || p == 44 || p == 60)))
		return 59;	/* no next header */
	return p;
}

static void normalise(struct aclgen_hdr *h)
{
	h->proto = plain_proto(h->proto, h->family);
	if (h->proto != P_TCP && h->proto != P_UDP)
		h->sport = h->dport = 0;
	if (h->proto != P_TCP)
		h->tcp_flags = 0;
	if (h->family == 4) {
		memset(&h->src[1], 0, 12);
		memset(&h->dst[1], 0, 12);
	}
}

/* A random header inside rule e. */
static void hdr_inside(struct rng *r, const struct xfsm_acl_entry *e, unsigned int fams,
		       struct aclgen_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->family = rule_family(r, e, fams);
	addr_in(r, e->src, e->src_len, h->family, h->src);
	addr_in(r, e->dst, e->dst_len, h->family, h->dst);
	h->proto = (e->proto & e->proto_mask) |
		   (any_proto(r, h->family) & ~e->proto_mask);
	h->sport = rnd_range(r, e->sport_lo, e->sport_hi);
	h->dport = rnd_range(r, e->dport_lo, e->dport_hi);
	h->tcp_flags = (e->tcp_flags & e->tcp_mask) | (rnd32(r) & ~e->tcp_mask & 0xff);
	if (e->flags & XFSM_ACLF_VLAN)
		h->vlan = e->vlan;
	else
		h->vlan = chance(r, 70) ? 0xffffffffU : 1 + rnd_below(r, 40);
	if ((e->flags & XFSM_ACLF_PORT) && e->in_port == ACLGEN_PORT_A)
		h->port = ACLGEN_PORT_A;
	else if (!(e->flags & XFSM_ACLF_PORT))
		h->port = chance(r, 50) ? ACLGEN_PORT_A : 0;
}

/* Move one field of h just outside rule e's bounds (where it has any). */
static void hdr_edge(struct rng *r, const struct xfsm_acl_entry *e, struct aclgen_hdr *h)
{
	switch (rnd_below(r, 6)) {
	case 0:
		if (e->src_len)
			bit_set(h->src, e->src_len - 1, !bit_get(e->src, e->src_len - 1));
		break;
	case 1:
		if (e->dst_len)
			bit_set(h->dst, e->dst_len - 1, !bit_get(e->dst, e->dst_len - 1));
		break;
	case 2:
		h->sport = chance(r, 50) ? e->sport_lo - 1 : e->sport_hi + 1;
		break;
	case 3:
		h->dport = chance(r, 50) ? e->dport_lo - 1 : e->dport_hi + 1;
		break;
	case 4:
		h->proto ^= 1;
		break;
	default:
		h->tcp_flags ^= 1U << rnd_below(r, 8);
		break;
	}
}

int aclgen_headers(const struct xfsm_acl_entry *rules, size_t n_rules, size_t n,
		   __u64 seed, struct aclgen_hdr **out)
{
	struct rng r = { seed ^ 0x6a09e667f3bcc909ULL };
	struct aclgen_hdr *v = calloc(n ? n : 1, sizeof(*v));
	unsigned int fams = 0;
	size_t i;

	*out = NULL;
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n_rules; i++) {
		__u32 f = rules[i].flags & (XFSM_ACLF_V4 | XFSM_ACLF_V6);

		fams |= (f & XFSM_ACLF_V4 ? 1 : 0) | (f & XFSM_ACLF_V6 ? 2 : 0);
	}
	if (!fams)
		fams = 3;
	for (i = 0; i < n; i++) {
		struct aclgen_hdr *h = &v[i];
		unsigned int roll = rnd_below(&r, 100);

		if (n_rules && roll < 80) {
			const struct xfsm_acl_entry *e = &rules[rnd_below(&r, n_rules)];

			hdr_inside(&r, e, fams, h);
			if (roll >= 60)
				hdr_edge(&r, e, h);
		} else {
			memset(h, 0, sizeof(*h));
			h->family = fams == 3 ? (chance(&r, 50) ? 4 : 6) : fams == 2 ? 6 : 4;
			rand_addr(&r, h->src, h->family);
			rand_addr(&r, h->dst, h->family);
			h->proto = any_proto(&r, h->family);
			h->sport = rnd32(&r);
			h->dport = chance(&r, 50) ? PICK(&r, common_ports) : rnd32(&r);
			h->tcp_flags = rnd32(&r);
			h->vlan = chance(&r, 70) ? 0xffffffffU : 1 + rnd_below(&r, 40);
			h->port = chance(&r, 50) ? ACLGEN_PORT_A : 0;
		}
		normalise(h);
	}
	*out = v;
	return 0;
}

void aclgen_hdr_fv(const struct aclgen_hdr *h, __u32 fv[XFSM_FV_WORDS])
{
	unsigned int i;

	memset(fv, 0, XFSM_FV_WORDS * sizeof(fv[0]));
	fv[XFSM_FW_META_PORT] = h->port;
	if (h->family == 4) {
		fv[XFSM_FW_PKT_FLAGS] = XFSM_PF_IPV4;
		fv[XFSM_FW_IP4_SRC] = h->src[0];
		fv[XFSM_FW_IP4_DST] = h->dst[0];
	} else {
		fv[XFSM_FW_PKT_FLAGS] = XFSM_PF_IPV6;
		for (i = 0; i < 4; i++) {
			fv[XFSM_FW_IP6_SRC + i] = h->src[i];
			fv[XFSM_FW_IP6_DST + i] = h->dst[i];
		}
	}
	if (h->vlan != 0xffffffffU) {
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_VLAN;
		fv[XFSM_FW_VLAN_ID] = h->vlan;
	}
	fv[XFSM_FW_IP_PROTO] = h->proto;
	fv[XFSM_FW_L4_SPORT] = h->sport;
	fv[XFSM_FW_L4_DPORT] = h->dport;
	fv[XFSM_FW_TCP_FLAGS] = h->tcp_flags;
}

int aclgen_write(const struct xfsm_acl_rules *rs, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "w");
	size_t i;
	int err = 0;

	if (!f)
		return -errno;
	for (i = 0; i < rs->n; i++) {
		xfsm_acl_format(&rs->r[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
