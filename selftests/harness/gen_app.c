// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Random valid applications in the xfsm language (gen.h).  Every construct
 * of docs/language.md is drawn: keys (lookup / update, symmetric), states,
 * conditions on fields, registers, globals and metadata, rules with
 * priorities and every match form, every register update form (atomic
 * additions, fetch_add, min / max / ewma, division and modulo by a
 * register that is often 0), timeouts with rollback, goto stage, miss
 * verdicts, every action and terminal effect, output groups, ACL blocks.
 * The rules of the language that make a file invalid are kept by
 * construction (a matched state is entered, an idle timeout is shorter
 * than the hard one, a rollback differs from the state entered, at most 6
 * actions and 4 updates, a verdict last, fetch_add's global written only
 * by additions, a constant compared with a field within the field's
 * range); what the compiler still refuses (too many tuples, say) the
 * caller counts.
 *
 * Not drawn: meta.random and meta.time (gen.h says why).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "gen.h"

/* ---- Randomness ----------------------------------------------------------- */

void xg_seed(struct xg_rng *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->s = seed;
}

void xg_from_bytes(struct xg_rng *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->s = len;
}

uint64_t xg_u64(struct xg_rng *r)
{
	uint64_t z;

	if (r->pos + 8 <= r->len) {
		memcpy(&z, r->buf + r->pos, 8);
		r->pos += 8;
		return z;
	}
	z = (r->s += 0x9e3779b97f4a7c15ULL);	/* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t xg_below(struct xg_rng *r, uint32_t n)
{
	if (n <= 1)
		return 0;
	if (r->pos < r->len && n <= 256)	/* a fuzzer's byte steers one choice */
		return r->buf[r->pos++] % n;
	return (uint32_t)(xg_u64(r) % n);
}

static int omit = -1;	/* constructs left out, -1: read XT_DIFF_OMIT first */
static const char *omit_list;	/* xg_set_omit()'s, else the environment's */

void xg_set_omit(const char *list)
{
	omit_list = list;
	omit = -1;
}

unsigned int xg_omit(void)
{
	static const char *const names[] = { "acl", "groups", "rewrite", "vlan", "arp",
					     "fib", "xsk", "flood", "ip6nat" };
	const char *e = omit_list ? omit_list : getenv("XT_DIFF_OMIT");
	char buf[256], *tok, *save = NULL;
	unsigned int i;

	if (omit >= 0)
		return omit;
	omit = 0;
	snprintf(buf, sizeof(buf), "%s", e ? e : "");
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			fprintf(stderr, "XT_DIFF_OMIT: unknown construct '%s' (acl, groups, rewrite, ip6nat, vlan, arp, fib, xsk, flood)\n",
				tok);
			exit(2);
		}
		omit |= 1 << i;
	}
	return omit;
}

/* ---- Text ------------------------------------------------------------------ */

static void ap(struct xg_app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ap(struct xg_app *a, const char *fmt, ...)
{
	va_list ap_;
	int n;

	for (;;) {
		va_start(ap_, fmt);
		n = vsnprintf(a->text + a->len, a->size - a->len, fmt, ap_);
		va_end(ap_);
		if (n >= 0 && (size_t)n < a->size - a->len) {
			a->len += n;
			return;
		}
		a->size = a->size * 2 + n + 64;
		a->text = realloc(a->text, a->size);
		if (!a->text)
			abort();
	}
}

static void note_const(struct xg_app *a, enum xg_fid f, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < a->n_consts[f]; i++)
		if (a->consts[f][i] == v)
			return;
	if (a->n_consts[f] < XG_CONSTS)
		a->consts[f][a->n_consts[f]++] = v;
}

/* ---- Fields ---------------------------------------------------------------- */

enum { K_NUM, K_MAC, K_IP4, K_IP6, K_FLAGS, K_MFLAGS };

struct xg_field {
	const char	*name;
	unsigned int	bits;	/* the values the compiler takes: 0..2^bits - 1 */
	enum xg_fid	fid;
	int		kind;
	unsigned int	words;	/* key / match words */
};

static const struct xg_field fields[] = {
	{ "eth.dst", 48, XG_ETH_DST, K_MAC, 2 },
	{ "eth.src", 48, XG_ETH_SRC, K_MAC, 2 },
	{ "eth.type", 16, XG_ETH_TYPE, K_NUM, 1 },
	{ "vlan.id", 12, XG_VLAN_ID, K_NUM, 1 },
	{ "vlan.pcp", 3, XG_VLAN_PCP, K_NUM, 1 },
	{ "vlan.inner", 12, XG_VLAN_INNER, K_NUM, 1 },
	{ "ip.proto", 8, XG_IP_PROTO, K_NUM, 1 },
	{ "ip.dscp", 6, XG_IP_DSCP, K_NUM, 1 },
	{ "ip.ecn", 2, XG_IP_ECN, K_NUM, 1 },
	{ "ip.ttl", 8, XG_IP_TTL, K_NUM, 1 },
	{ "ip.frag", 3, XG_IP_FRAG, K_NUM, 1 },
	{ "ip.len", 16, XG_IP_LEN, K_NUM, 1 },
	{ "ip.id", 16, XG_IP_ID, K_NUM, 1 },
	{ "ip.src", 32, XG_IP_SRC, K_IP4, 1 },
	{ "ip.dst", 32, XG_IP_DST, K_IP4, 1 },
	{ "ip6.src", 128, XG_IP6_SRC, K_IP6, 4 },
	{ "ip6.dst", 128, XG_IP6_DST, K_IP6, 4 },
	{ "ip6.flow", 20, XG_IP6_FLOW, K_NUM, 1 },
	{ "ip6.nexthdr", 8, XG_IP6_NEXTHDR, K_NUM, 1 },
	{ "l4.sport", 16, XG_SPORT, K_NUM, 1 },
	{ "l4.dport", 16, XG_DPORT, K_NUM, 1 },
	{ "tcp.sport", 16, XG_SPORT, K_NUM, 1 },
	{ "tcp.dport", 16, XG_DPORT, K_NUM, 1 },
	{ "udp.sport", 16, XG_SPORT, K_NUM, 1 },
	{ "udp.dport", 16, XG_DPORT, K_NUM, 1 },
	{ "tcp.flags", 8, XG_TCP_FLAGS, K_FLAGS, 1 },
	{ "tcp.seq", 32, XG_TCP_SEQ, K_NUM, 1 },
	{ "tcp.ack", 32, XG_TCP_ACK, K_NUM, 1 },
	{ "tcp.win", 16, XG_TCP_WIN, K_NUM, 1 },
	{ "icmp.type", 8, XG_ICMP_TYPE, K_NUM, 1 },
	{ "icmp.code", 8, XG_ICMP_CODE, K_NUM, 1 },
	{ "icmp6.type", 8, XG_ICMP6_TYPE, K_NUM, 1 },
	{ "icmp6.code", 8, XG_ICMP6_CODE, K_NUM, 1 },
	{ "arp.op", 16, XG_ARP_OP, K_NUM, 1 },
	{ "arp.spa", 32, XG_ARP_SPA, K_IP4, 1 },
	{ "arp.tpa", 32, XG_ARP_TPA, K_IP4, 1 },
	{ "meta.port", 8, XG_META_PORT, K_NUM, 1 },	/* a port number, in a 32-bit word */
	{ "meta.len", 32, XG_META_LEN, K_NUM, 1 },
	{ "meta.mark", 32, XG_META_MARK, K_NUM, 1 },
	{ "meta.flags", 32, XG_META_FLAGS, K_MFLAGS, 1 },
};
#define N_FIELDS	(sizeof(fields) / sizeof(fields[0]))
_Static_assert(XFSM_MAX_PORTS == 1 << 8, "meta.port's range in fields[] (the compiler's)");

static uint64_t field_max(const struct xg_field *f)
{
	return f->bits >= 64 ? UINT64_MAX : (1ULL << f->bits) - 1;
}

/* The field an operand names (NULL: a register, a global, state,
 * meta.ifindex: 32 bits or more). */
static const struct xg_field *field_named(const char *name)
{
	for (unsigned int i = 0; i < N_FIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

/* Small domains, so that packets hit what rules compare. */
static const uint16_t ports[] = { 22, 53, 80, 443, 1000, 2000 };
static const uint8_t protos[] = { 6, 17, 1, 58, 47 };
static const char *const tcpf[] = { "syn", "ack", "fin", "rst", "psh", "syn|ack", "fin|ack" };
static const uint8_t tcpf_v[] = { 0x02, 0x10, 0x01, 0x04, 0x08, 0x12, 0x11 };
static const char *const mflags[] = { "has_vlan", "has_qinq", "has_arp", "has_ipv4",
	"has_ipv6", "is_frag", "has_l4", "has_tcp", "has_udp", "has_icmp", "has_icmp6" };

static void want_for(struct xg_app *a, enum xg_fid f)
{
	if (f == XG_IP6_SRC || f == XG_IP6_DST || f == XG_IP6_FLOW || f == XG_IP6_NEXTHDR ||
	    f == XG_ICMP6_TYPE || f == XG_ICMP6_CODE)
		a->wants_ip6 = true;
	if (f == XG_ARP_OP || f == XG_ARP_SPA || f == XG_ARP_TPA)
		a->wants_arp = true;
	if (f == XG_VLAN_ID || f == XG_VLAN_PCP || f == XG_VLAN_INNER)
		a->wants_vlan = true;
	if (f == XG_ICMP_TYPE || f == XG_ICMP_CODE)
		a->wants_icmp = true;
}

/* One constant of field f, written into out, noted for the packets. */
static void value(struct xg_rng *r, struct xg_app *a, const struct xg_field *f,
		  char *out, size_t size)
{
	uint64_t v = 0;
	unsigned int k;

	want_for(a, f->fid);
	switch (f->kind) {
	case K_MAC:
		v = xg_chance(r, 15) ? 0xffffffffffffULL : TEST_MAC(1 + xg_below(r, 6));
		snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x",
			 (unsigned int)(v >> 40) & 0xff, (unsigned int)(v >> 32) & 0xff,
			 (unsigned int)(v >> 24) & 0xff, (unsigned int)(v >> 16) & 0xff,
			 (unsigned int)(v >> 8) & 0xff, (unsigned int)v & 0xff);
		break;
	case K_IP4:
		v = 1 + xg_below(r, 6);
		snprintf(out, size, "198.18.0.%u", (unsigned int)v);
		v = TEST_IP4(v);
		break;
	case K_IP6:
		v = 1 + xg_below(r, 6);
		snprintf(out, size, "2001:2::%x", (unsigned int)v);
		break;
	case K_FLAGS:
		k = xg_below(r, sizeof(tcpf_v));
		v = tcpf_v[k];
		snprintf(out, size, "%s", tcpf[k]);
		break;
	case K_MFLAGS:
		k = xg_below(r, 11);
		v = 1ULL << k;	/* noted only: the packets carry what they carry */
		snprintf(out, size, "%s", mflags[k]);
		break;
	default:
		switch (f->fid) {
		case XG_ETH_TYPE: {
			static const uint16_t t[] = { 0x0800, 0x86dd, 0x0806, 0x88b5 };

			v = t[xg_below(r, 4)];
			break;
		}
		case XG_IP_PROTO: case XG_IP6_NEXTHDR:
			v = protos[xg_below(r, sizeof(protos))];
			break;
		case XG_SPORT: case XG_DPORT:
			v = ports[xg_below(r, 6)];
			break;
		case XG_IP_TTL:
			v = (uint64_t[]){ 1, 2, 64, 255 }[xg_below(r, 4)];
			break;
		case XG_META_LEN: case XG_IP_LEN:
			v = 40 + 4 * xg_below(r, 20);
			break;
		case XG_META_PORT:
			v = xg_below(r, 3);
			break;
		case XG_ICMP6_TYPE:
			v = (uint64_t[]){ 128, 129, 135, 136 }[xg_below(r, 4)];
			break;
		case XG_ARP_OP:
			v = 1 + xg_below(r, 2);
			break;
		case XG_TCP_SEQ: case XG_TCP_ACK:
			v = (uint64_t[]){ 0, 1, 1000, 0xffffffff }[xg_below(r, 4)];
			break;
		case XG_TCP_WIN:
			v = (uint64_t[]){ 0, 512, 65535 }[xg_below(r, 3)];
			break;
		default:
			v = xg_below(r, f->bits >= 4 ? 9 : 1U << f->bits);
			break;
		}
		snprintf(out, size, "%llu", (unsigned long long)v);
	}
	note_const(a, f->fid, v);
}

static const struct xg_field *field_any(struct xg_rng *r)
{
	return &fields[xg_below(r, N_FIELDS)];
}

static const struct xg_field *field_narrow(struct xg_rng *r)	/* <= 64 bits */
{
	const struct xg_field *f;

	do
		f = field_any(r);
	while (f->bits > 64);
	return f;
}

/* ---- Application --------------------------------------------------------- */

struct stage_ctx {
	unsigned int	idx, n_stages;
	bool		is_acl[XFSM_MAX_STAGES];
	unsigned int	n_states;
	bool		entered[8];
	unsigned int	n_conds;
	unsigned int	match_words;
	const struct xg_field *mfields[8];
	unsigned int	n_mfields;
	const struct xg_field *in_rule[8];	/* matched by the rule being written */
	unsigned int	n_in_rule;
	unsigned int	rule_no;
};

static const char *const cmps[] = { "<", "<=", ">", ">=", "==", "!=" };
static const char *const binops[] = { "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>" };

/* A constant as wide as a register: the edges of the 32-bit immediate a
 * BPF instruction holds (sign, carry into the high word), or any. */
static uint64_t wide_const(struct xg_rng *r)
{
	static const uint64_t edges[] = {
		0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL,
		0x80000000ffffffffULL, 0x8000000000000000ULL, 0xffffffff80000000ULL,
		0xfffffffffffffffeULL, 0xffffffffffffffffULL,
	};

	return xg_chance(r, 70) ? edges[xg_below(r, sizeof(edges) / sizeof(edges[0]))] : xg_u64(r);
}

/* An operand of a condition or an update: 64 bits at most.  A constant
 * compared with a field (`against`) is one of its values, in its range;
 * elsewhere it is sometimes as wide as a register. */
static void operand(struct xg_rng *r, struct xg_app *a, char *out, size_t size, bool allow_const,
		    const struct xg_field *against)
{
	unsigned int k = xg_below(r, allow_const ? 7 : 6);
	char v[64];

	switch (k) {
	case 0: case 1: {
		const struct xg_field *f = field_narrow(r);

		snprintf(out, size, "%s", f->name);
		want_for(a, f->fid);
		break;
	}
	case 2:
		snprintf(out, size, "reg%u", xg_below(r, 4));
		break;
	case 3:
		snprintf(out, size, "global%u", xg_below(r, 8));
		break;
	case 4:
		snprintf(out, size, "%s",
			 (const char *[]){ "meta.len", "meta.port", "meta.ifindex", "state",
					   "meta.mark" }[xg_below(r, 5)]);
		break;
	case 5:
		snprintf(out, size, "reg%u", xg_below(r, 4));
		break;
	default: {
		const struct xg_field *f = against ? against : field_narrow(r);
		uint64_t below = field_max(f) + 1;	/* 0: 2^64 */

		if (!against && xg_chance(r, 15)) {
			snprintf(out, size, "%llu", (unsigned long long)wide_const(r));
			break;
		}

		if (f->kind == K_NUM || f->kind == K_IP4 || xg_chance(r, 50)) {
			value(r, a, f, v, sizeof(v));
			if (f->kind == K_FLAGS || f->kind == K_MFLAGS)
				snprintf(v, sizeof(v), "%u",
					 xg_below(r, below && below < 300 ? below : 300));
			snprintf(out, size, "%s", v);
		} else {
			snprintf(out, size, "%u", xg_below(r, below && below < 70 ? below : 70));
		}
	}
	}
}

/* One match of a rule on field f (the stage's match words permitting). */
static bool match(struct xg_rng *r, struct xg_app *a, struct stage_ctx *s, char *out, size_t size)
{
	const struct xg_field *f = NULL;
	char v1[64], v2[64];
	unsigned int i;

	/* reuse the stage's matched fields mostly: few words, few tuples */
	if (s->n_mfields && (xg_chance(r, 70) || s->n_mfields == 4))
		f = s->mfields[xg_below(r, s->n_mfields)];
	for (i = 0; f && i < s->n_in_rule; i++)
		if (s->in_rule[i] == f)
			return false;	/* a field once per rule */
	if (!f) {
		f = field_any(r);
		for (i = 0; i < s->n_in_rule; i++)
			if (s->in_rule[i] == f)
				return false;
		for (i = 0; i < s->n_mfields; i++)
			if (s->mfields[i] == f)
				break;
		if (i == s->n_mfields) {
			if (s->match_words + f->words > 8)
				return false;
			s->match_words += f->words;
			s->mfields[s->n_mfields++] = f;
		}
	}
	if (s->n_in_rule < 8)
		s->in_rule[s->n_in_rule++] = f;
	value(r, a, f, v1, sizeof(v1));
	switch (xg_below(r, 8)) {
	case 1:
		if (f->bits <= 64) {
			snprintf(out, size, "%s != %s", f->name, v1);
			return true;
		}
		break;
	case 2:
		value(r, a, f, v2, sizeof(v2));
		snprintf(out, size, "%s in {%s, %s}", f->name, v1, v2);
		return true;
	case 3:
		if (f->kind == K_IP4) {
			unsigned int k = xg_below(r, 3);

			snprintf(out, size, "%s == 198.18.0.%u/%u", f->name, k == 2 ? 4 : 0,
				 k ? 30 : 24);
			return true;
		}
		if (f->kind == K_IP6) {
			snprintf(out, size, "%s == 2001:2::/%u", f->name, xg_chance(r, 50) ? 48 : 64);
			return true;
		}
		if (f->fid == XG_SPORT || f->fid == XG_DPORT) {
			unsigned int lo = ports[xg_below(r, 6)];

			snprintf(out, size, "%s == %u-%u", f->name, lo, lo + 3);
			return true;
		}
		break;
	case 4:
		if (f->kind == K_FLAGS) {
			snprintf(out, size, "%s & syn|ack == %s", f->name,
				 xg_chance(r, 50) ? "syn" : "syn|ack");
			return true;
		}
		if (f->kind == K_MFLAGS) {
			snprintf(out, size, "%s & %s", f->name, v1);
			return true;
		}
		if (f->kind == K_MAC) {
			snprintf(out, size, "%s == 01:00:00:00:00:00 & 01:00:00:00:00:00", f->name);
			return true;
		}
		break;
	case 5:
		if (f->bits <= 64 && f->kind != K_MFLAGS && f->kind != K_FLAGS) {
			value(r, a, f, v2, sizeof(v2));
			snprintf(out, size, "%s not in {%s, %s}", f->name, v1, v2);
			return true;
		}
		break;
	}
	if (f->kind == K_MFLAGS) {
		snprintf(out, size, "%s & %s", f->name, v1);
		return true;
	}
	snprintf(out, size, "%s == %s", f->name, v1);
	return true;
}

static void timeout(struct xg_rng *r, struct xg_app *a, unsigned int ms_min, char *out,
		    size_t size, unsigned int *ms)
{
	if (ms_min <= XD_TMO_MAX_MS && xg_chance(r, 60)) {
		*ms = ms_min + xg_below(r, XD_TMO_MAX_MS - ms_min + 1);
		a->short_tmo = true;
		snprintf(out, size, "%ums", *ms);
	} else {
		*ms = 3600000 * (1 + xg_below(r, 3));
		if (*ms <= ms_min)
			*ms = ms_min + 3600000;
		snprintf(out, size, "%ums", *ms);
	}
}

/* A flow- or global-register update. */
static void update(struct xg_rng *r, struct xg_app *a, bool global, char *out, size_t size)
{
	char dst[16], x[64], y[64];

	if (global)
		snprintf(dst, sizeof(dst), "global%u", xg_below(r, 7));	/* 7: fetch_add's */
	else
		snprintf(dst, sizeof(dst), "reg%u", xg_below(r, 4));
	operand(r, a, x, sizeof(x), false, NULL);
	operand(r, a, y, sizeof(y), true, NULL);
	switch (xg_below(r, 9)) {
	case 0:
		snprintf(out, size, "%s = %s", dst, xg_chance(r, 50) ? x : y);
		break;
	case 1:	/* the atomic-add form */
		snprintf(out, size, "%s = %s + %s", dst, dst, y);
		break;
	case 2:
		snprintf(out, size, "%s = min(%s, %s)", dst, x, y);
		break;
	case 3:
		snprintf(out, size, "%s = max(%s, %s)", dst, x, y);
		break;
	case 4:
		snprintf(out, size, "%s = ewma(%s, %s, %u)", dst, x, y, xg_below(r, 64));
		break;
	case 5:	/* division and modulo by something often zero */
		snprintf(out, size, "%s = %s %s reg%u", dst, x, xg_chance(r, 50) ? "/" : "%",
			 xg_below(r, 4));
		break;
	case 6:
		snprintf(out, size, "%s = %s %s %u", dst, x,
			 binops[8 + xg_below(r, 2)], xg_below(r, 64));
		break;
	default:
		snprintf(out, size, "%s = %s %s %s", dst, x, binops[xg_below(r, 10)], y);
		break;
	}
}

static void mac_text(uint64_t v, char *out, size_t size)
{
	snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned int)(v >> 40) & 0xff,
		 (unsigned int)(v >> 32) & 0xff, (unsigned int)(v >> 24) & 0xff,
		 (unsigned int)(v >> 16) & 0xff, (unsigned int)(v >> 8) & 0xff,
		 (unsigned int)v & 0xff);
}

/* The actions of a rule that do not end the stage; returns how many
 * action slots they take. */
static unsigned int action(struct xg_rng *r, struct xg_app *a, char *out, size_t size)
{
	char v[64];
	unsigned int k = xg_below(r, 15);

	if (((xg_omit() & XG_OMIT_REWRITE) && k <= 7) || ((xg_omit() & XG_OMIT_IP6NAT) && k == 7) ||
	    ((xg_omit() & XG_OMIT_VLAN) && (k == 8 || k == 9)))
		k = 10 + xg_below(r, 5);	/* count or mark instead */
	switch (k) {
	case 0:
		mac_text(TEST_MAC(0x10 + xg_below(r, 4)), v, sizeof(v));
		snprintf(out, size, "set eth.%s = %s", xg_chance(r, 50) ? "src" : "dst",
			 xg_chance(r, 70) ? v : "reg1");
		return 1;
	case 1:
		snprintf(out, size, "set ip.dscp = %u", xg_below(r, 64));
		return 1;
	case 2:
		snprintf(out, size, "set ip.ecn = %u", xg_below(r, 4));
		return 1;
	case 3:
		snprintf(out, size, "dec ttl");
		return 1;
	case 4:
		snprintf(out, size, "set ip.ttl = %s", xg_chance(r, 50) ? "7" : "ip.ttl");
		return 1;
	case 5:
		snprintf(out, size, "set ip.%s = %s", xg_chance(r, 50) ? "src" : "dst",
			 xg_chance(r, 60) ? "198.18.1.7" : (xg_chance(r, 50) ? "reg2" : "ip.dst"));
		return 1;
	case 6:
		snprintf(out, size, "set l4.%s = %s", xg_chance(r, 50) ? "sport" : "dport",
			 xg_chance(r, 60) ? "8080" : "reg3");
		return 1;
	case 7:
		snprintf(out, size, "set ip6.%s = 2001:2::%x", xg_chance(r, 50) ? "src" : "dst",
			 0x70 + xg_below(r, 8));
		a->wants_ip6 = true;
		return 2;
	case 8:
		snprintf(out, size, "push vlan %u", 1 + xg_below(r, 4094));
		return 1;
	case 9:
		snprintf(out, size, "pop vlan");
		a->wants_vlan = true;
		return 1;
	case 10: case 11:
		snprintf(out, size, "count cnt%u", xg_below(r, 4));
		return 1;
	default:
		operand(r, a, v, sizeof(v), false, NULL);
		snprintf(out, size, "mark = %s", xg_chance(r, 30) ? "3" : v);
		return 1;
	}
}

/* What ends a rule (or nothing: the packet goes on). */
static void terminal(struct xg_rng *r, struct xg_app *a, struct stage_ctx *s, unsigned int n_groups,
		     char *out, size_t size)
{
	unsigned int k = xg_below(r, 14), omit = xg_omit();

	out[0] = '\0';
	if (((omit & XG_OMIT_FLOOD) && k == 3) || ((omit & XG_OMIT_GROUPS) && k == 7) ||
	    ((omit & XG_OMIT_FIB) && k == 8) || ((omit & XG_OMIT_ARP) && k == 9) ||
	    ((omit & XG_OMIT_XSK) && k == 11))
		k = 12;	/* no terminal effect */
	switch (k) {
	case 0: snprintf(out, size, "drop"); break;
	case 1: snprintf(out, size, "pass"); break;
	case 2: snprintf(out, size, "tx"); break;
	case 3: snprintf(out, size, "flood"); break;
	case 4: snprintf(out, size, "output p%u", 1 + xg_below(r, 4)); break;
	case 5: snprintf(out, size, "output %u", 1 + xg_below(r, 6)); break;	/* 5, 6: no device */
	case 6: snprintf(out, size, "output reg%u", xg_below(r, 4)); break;
	case 7:
		if (n_groups)
			snprintf(out, size, "output group g%u", xg_below(r, n_groups));
		break;
	case 8:
		if (xg_chance(r, 30))
			snprintf(out, size, "output fib");
		break;
	case 9:
		a->wants_arp = true;
		snprintf(out, size, "arp reply %s", xg_chance(r, 50) ? "02:00:00:00:00:33" : "reg0");
		break;
	case 10:
		if (s->idx + 1 < s->n_stages)
			snprintf(out, size, "goto stage s%u",
				 s->idx + 1 + xg_below(r, s->n_stages - s->idx - 1));
		break;
	case 11:
		if (xg_chance(r, 20))
			snprintf(out, size, "output xsk");
		break;
	default:
		break;
	}
}

static void acl_block(struct xg_rng *r, struct xg_app *a, struct stage_ctx *s)
{
	static const char *const miss[] = { "allow", "deny", "pass" };
	unsigned int n = 1 + xg_below(r, 4), i;

	ap(a, "acl s%u {\n\tmiss %s\n", s->idx, miss[xg_below(r, 3)]);
	for (i = 0; i < n; i++) {
		unsigned int p = ports[xg_below(r, 6)];

		ap(a, "\trule");
		if (xg_chance(r, 50))
			ap(a, " prio %u", xg_below(r, 100));
		if (xg_chance(r, 50)) {
			unsigned int k = xg_below(r, 3);

			ap(a, " src 198.18.0.%u/%u", k == 2 ? 4 : 0, k ? 30 : 24);
			note_const(a, XG_IP_SRC, TEST_IP4(1 + xg_below(r, 6)));
		}
		if (xg_chance(r, 60)) {
			unsigned int pr = xg_chance(r, 50) ? 6 : 17;

			ap(a, " proto %u", pr);
			note_const(a, XG_IP_PROTO, pr);
			if (xg_chance(r, 60)) {
				ap(a, " dport %u-%u", p, p + xg_below(r, 3));
				note_const(a, XG_DPORT, p);
			}
			if (pr == 6 && xg_chance(r, 30))
				ap(a, " flags syn/syn|ack");
		}
		if (xg_chance(r, 15))
			ap(a, " port 1");
		if (xg_chance(r, 10)) {
			ap(a, " vlan %u", 1 + xg_below(r, 3));
			a->wants_vlan = true;
		}
		switch (xg_below(r, 4)) {
		case 0: ap(a, " => deny"); break;
		case 1: ap(a, " => pass"); break;
		case 2:
			if (s->idx + 1 < s->n_stages) {
				ap(a, " => goto s%u", s->idx + 1 + xg_below(r, s->n_stages - s->idx - 1));
				break;
			}
			/* fallthrough */
		default: ap(a, " => allow"); break;
		}
		if (xg_chance(r, 30))
			ap(a, " mark %u", xg_below(r, 4));
		ap(a, "\n");
	}
	ap(a, "}\n\n");
}

static void key_line(struct xg_rng *r, struct xg_app *a, const char *which, bool sym)
{
	static const char *const sym_keys[] = {
		"ip.src, ip.dst", "ip.src, ip.dst, l4.sport, l4.dport", "eth.src, eth.dst",
		"ip6.src, ip6.dst", "arp.spa, arp.tpa", "ip.src, ip.dst, ip.proto, l4.sport, l4.dport",
	};
	unsigned int n = 1 + xg_below(r, 3), words = 0, i;
	const struct xg_field *used[3];

	if (sym) {
		const char *k = sym_keys[xg_below(r, 6)];

		ap(a, "\tkey%s %s symmetric\n", which, k);
		if (strstr(k, "ip6"))
			a->wants_ip6 = true;
		if (strstr(k, "arp"))
			a->wants_arp = true;
		return;
	}
	ap(a, "\tkey%s ", which);
	for (i = 0; i < n; i++) {
		const struct xg_field *f;
		unsigned int j;

		do {
			f = field_any(r);
			for (j = 0; j < i; j++)
				if (used[j] == f)
					break;
		} while (j < i || words + f->words > 11);
		used[i] = f;
		words += f->words;
		want_for(a, f->fid);
		ap(a, "%s%s", i ? ", " : "", f->name);
	}
	ap(a, "\n");
}

static void stage_block(struct xg_rng *r, struct xg_app *a, struct stage_ctx *s,
			unsigned int n_groups)
{
	static const char *const miss[] = { "continue", "pass", "drop", "tx" };
	unsigned int n_rules = 1 + xg_below(r, 6), i, j;
	struct {
		char	eff[8][160];
		unsigned int n_eff;
		int	goto_state;
	} rules[6];
	char buf[160], t1[32], t2[32];

	memset(rules, 0, sizeof(rules));
	memset(s->entered, 0, sizeof(s->entered));
	s->entered[0] = true;
	s->n_states = 2 + xg_below(r, 4);
	s->n_conds = 0;
	s->match_words = 0;
	s->n_mfields = 0;

	ap(a, "stage s%u {\n", s->idx);
	switch (xg_below(r, 5)) {
	case 0:
		break;	/* one flow for all packets */
	case 1: {
		bool sym = xg_chance(r, 40);

		key_line(r, a, " lookup", sym);
		key_line(r, a, " update", sym);
		break;
	}
	case 2:
		key_line(r, a, "", true);
		break;
	default:
		key_line(r, a, "", false);
		break;
	}
	if (xg_chance(r, 20))
		ap(a, "\ttable size 1024 lru full %s\n",
		   (const char *[]){ "drop", "pass", "continue" }[xg_below(r, 3)]);
	ap(a, "\tmiss %s\n", miss[xg_below(r, 4)]);
	ap(a, "\tstates");
	for (i = 0; i < s->n_states; i++)
		ap(a, "%s st%u", i ? "," : "", i);
	ap(a, "\n");
	if (xg_chance(r, 30))
		ap(a, "\tregister %u r%ualias\n", xg_below(r, 4), s->idx);

	/* effects first: they decide which states are entered */
	for (i = 0; i < n_rules; i++) {
		unsigned int nu = 0, nact = 0, k, ms_idle = 0, ms_hard = 0;

		rules[i].goto_state = -1;
		k = xg_below(r, 3);
		for (j = 0; j < k && nu < 4; j++, nu++)
			update(r, a, false, rules[i].eff[rules[i].n_eff++], 160);
		if (xg_chance(r, 10) && nu < 4) {
			snprintf(rules[i].eff[rules[i].n_eff++], 160, "reg%u = fetch_add(global7, %s)",
				 xg_below(r, 4), xg_chance(r, 50) ? "1" : "meta.len");
			nu++;
		}
		if (xg_chance(r, 55)) {
			unsigned int st = xg_below(r, s->n_states), n = 0;

			rules[i].goto_state = st;
			s->entered[st] = true;
			n = snprintf(buf, sizeof(buf), "goto state st%u", st);
			if (xg_chance(r, 50)) {
				unsigned int rb = xg_below(r, s->n_states);

				timeout(r, a, XD_TMO_MIN_MS, t1, sizeof(t1), &ms_idle);
				n += snprintf(buf + n, sizeof(buf) - n, " idle %s", t1);
				if (rb != st && xg_chance(r, 60)) {
					n += snprintf(buf + n, sizeof(buf) - n, " -> st%u", rb);
					s->entered[rb] = true;
				} else if (st == 0) {	/* rollback to 0 = entered: pick another */
					n += snprintf(buf + n, sizeof(buf) - n, " -> st1");
					s->entered[1] = true;
				}
			}
			if (xg_chance(r, 30)) {
				unsigned int rb = xg_below(r, s->n_states);

				timeout(r, a, ms_idle ? ms_idle + 1 : XD_TMO_MIN_MS, t2, sizeof(t2), &ms_hard);
				if (ms_idle && ms_hard <= ms_idle)
					ms_hard = 0;
				else {
					n += snprintf(buf + n, sizeof(buf) - n, " hard %s", t2);
					if (rb == st)
						rb = st == 0 ? 1 : 0;
					if (rb)
						n += snprintf(buf + n, sizeof(buf) - n, " -> st%u", rb);
					s->entered[rb] = true;
				}
			}
			snprintf(rules[i].eff[rules[i].n_eff++], 160, "%s", buf);
		}
		if (xg_chance(r, 25) && nu < 4) {
			if (xg_chance(r, 30))
				snprintf(rules[i].eff[rules[i].n_eff++], 160, "global7 = global7 + %u",
					 1 + xg_below(r, 3));
			else
				update(r, a, true, rules[i].eff[rules[i].n_eff++], 160);
			nu++;
		}
		k = xg_below(r, 3);
		for (j = 0; j < k && nact < 4; j++)
			nact += action(r, a, rules[i].eff[rules[i].n_eff++], 160);
		terminal(r, a, s, n_groups, buf, sizeof(buf));
		if (buf[0])
			snprintf(rules[i].eff[rules[i].n_eff++], 160, "%s", buf);
		if (!rules[i].n_eff)
			snprintf(rules[i].eff[rules[i].n_eff++], 160, "mark = 1");
	}
	/* conditions */
	j = xg_below(r, 4);
	for (i = 0; i < j; i++) {
		char x[64], y[64];

		operand(r, a, x, sizeof(x), false, NULL);
		operand(r, a, y, sizeof(y), true, field_named(x));
		ap(a, "\tcondition c%u = %s %s %s\n", i, x, cmps[xg_below(r, 6)], y);
	}
	s->n_conds = j;
	/* rules */
	for (i = 0; i < n_rules; i++) {
		unsigned int nm = xg_below(r, 4), m, written = 0, conds_used = 0;
		bool state_used = false;

		s->n_in_rule = 0;
		ap(a, "\trule r%u", i);
		if (xg_chance(r, 25))
			ap(a, " priority %u", xg_below(r, 4));
		if (xg_chance(r, 10)) {
			ap(a, " when *");
			nm = 0;
			written = 1;
		}
		for (m = 0; m < nm; m++) {
			unsigned int k = xg_below(r, 4);

			buf[0] = '\0';
			if (k == 0) {
				unsigned int st = xg_below(r, s->n_states);

				if (s->entered[st] && !state_used) {
					snprintf(buf, sizeof(buf), "state st%u", st);
					state_used = true;
				}
			} else if (k == 1) {
				unsigned int c = xg_below(r, s->n_conds ? s->n_conds : 1);

				if (s->n_conds && !(conds_used & 1U << c)) {
					snprintf(buf, sizeof(buf), "%sc%u", xg_chance(r, 40) ? "!" : "", c);
					conds_used |= 1U << c;
				}
			} else if (!match(r, a, s, buf, sizeof(buf))) {
				buf[0] = '\0';
			}
			if (!buf[0])
				continue;
			ap(a, "%s%s", written ? ", " : " when ", buf);
			written++;
		}
		ap(a, " =>");
		for (j = 0; j < rules[i].n_eff; j++)
			ap(a, "%s\n\t\t%s", j ? "," : "", rules[i].eff[j]);
		ap(a, "\n");
	}
	ap(a, "}\n\n");
}

int xg_app(struct xg_rng *r, struct xg_app *a, unsigned int n)
{
	static const char *const policies[] = { "rr", "rr-flow", "weighted", "hash", "consistent" };
	struct stage_ctx s = { 0 };
	unsigned int i, n_groups;
	int acl_at = -1;

	memset(a, 0, sizeof(*a));
	a->size = 4096;
	a->text = malloc(a->size);
	if (!a->text)
		return -1;
	a->text[0] = '\0';
	snprintf(a->name, sizeof(a->name), "gen%u", n);
	ap(a, "# generated (selftests/harness/gen_app.c)\napp %s\n", a->name);
	ap(a, "default %s\n", (const char *[]){ "pass", "drop", "tx" }[xg_below(r, 3)]);
	for (i = 1; i <= 4; i++)
		ap(a, "port p%u = %u\n", i, i);
	for (i = 0; i < 8; i++)
		if (xg_chance(r, 25))
			ap(a, "global %u = %u\n", i, xg_below(r, 5));
	n_groups = xg_omit() & XG_OMIT_GROUPS ? 0 : xg_below(r, 3);
	for (i = 0; i < n_groups; i++) {
		unsigned int m = 1 + xg_below(r, 3), j, pol = xg_below(r, 5);

		ap(a, "group g%u = %u %s", i, i, policies[pol]);
		for (j = 0; j < m; j++) {
			ap(a, "%s%u", j ? ", " : " ", 1 + (j + i) % 4);
			if (pol == 2)
				ap(a, " weight %u", 1 + xg_below(r, 3));
			if (xg_chance(r, 30))
				ap(a, " mac 02:00:00:00:01:%02x", j + 1);
		}
		ap(a, "\n");
	}
	ap(a, "\n");
	s.n_stages = 1 + xg_below(r, 4);
	if (xg_chance(r, 20) && !(xg_omit() & XG_OMIT_ACL))
		acl_at = xg_below(r, s.n_stages);
	for (i = 0; i < s.n_stages; i++) {
		s.idx = i;
		if ((int)i == acl_at)
			acl_block(r, a, &s);
		else
			stage_block(r, a, &s, n_groups);
	}
	return 0;
}

void xg_app_free(struct xg_app *a)
{
	free(a->text);
	a->text = NULL;
}
