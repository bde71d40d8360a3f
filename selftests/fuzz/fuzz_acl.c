// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the ACL rule parser (lib/acl_parse.c, both syntaxes)
 * and the classifier built from what it accepts (lib/acl.c).
 *
 * Each input line is a rule (native syntax, or ClassBench when it starts
 * with '@').  Every rule the parser accepts must print (xfsm_acl_format)
 * to text that parses back to the same rule.  The accepted rules are
 * built into the tuple-space search structure, and headers made from the
 * input (inside, on the edges of and around every rule, and at random)
 * are classified by it and by a plain linear first-match scan written
 * here from the documented semantics (docs/modules.md: larger priority
 * first, then smaller id; the first rule that matches wins): both must
 * pick the same rule.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libxfsm.h"
#include "xfsm_acl.h"

#define MAX_RULES	64
#define HEADERS		256

#define die(...) fuzz_die("fuzz_acl", __VA_ARGS__)

/* A header as a packet carries it. */
struct hdr {
	int	family;		/* 0 (not IP), 4 or 6 */
	__u32	src[4], dst[4];	/* IPv4 in word 0 */
	__u32	proto, sport, dport, tcp_flags, port;
	int	has_vlan;
	__u32	vlan;
};

static __u64 rng;

static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 16);
}

/* Bits of a prefix of len bits within word w (0..3) of a 128-bit address,
 * or of the single word of an IPv4 address. */
static __u32 word_mask(unsigned int len, unsigned int w)
{
	if (len <= 32 * w)
		return 0;
	if (len >= 32 * (w + 1))
		return 0xffffffffU;
	return 0xffffffffU << (32 - (len - 32 * w));
}

static int ref_match(const struct xfsm_acl_entry *e, const struct hdr *h)
{
	int v4 = e->flags & XFSM_ACLF_V4, v6 = e->flags & XFSM_ACLF_V6;
	unsigned int w;

	/* a rule of a family matches only packets of that family */
	if ((v4 || v6) && !((v4 && h->family == 4) || (v6 && h->family == 6)))
		return 0;
	for (w = 0; w < 4; w++) {
		__u32 s = h->family ? h->src[w] : 0, d = h->family ? h->dst[w] : 0;

		if (h->family == 4 && w > 0)
			s = d = 0;
		if ((s & word_mask(e->src_len, w)) != e->src[w] ||
		    (d & word_mask(e->dst_len, w)) != e->dst[w])
			return 0;
	}
	if ((h->proto & e->proto_mask) != e->proto)
		return 0;
	if (h->sport < e->sport_lo || h->sport > e->sport_hi ||
	    h->dport < e->dport_lo || h->dport > e->dport_hi)
		return 0;
	if ((h->tcp_flags & e->tcp_mask) != e->tcp_flags)
		return 0;
	if ((e->flags & XFSM_ACLF_PORT) && h->port != e->in_port)
		return 0;
	if ((e->flags & XFSM_ACLF_VLAN) && (!h->has_vlan || h->vlan != e->vlan))
		return 0;
	return 1;
}

static int precedes(const struct xfsm_acl_entry *a, const struct xfsm_acl_entry *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->rule_id < b->rule_id;
}

/* Linear first-match: the matching rule that precedes all other matching rules. */
static const struct xfsm_acl_entry *ref_classify(const struct xfsm_acl_rules *rs,
						 const struct hdr *h)
{
	const struct xfsm_acl_entry *best = NULL;

	for (size_t i = 0; i < rs->n; i++)
		if (ref_match(&rs->r[i], h) && (!best || precedes(&rs->r[i], best)))
			best = &rs->r[i];
	return best;
}

/* The field vector the datapath's parser would fill for this header. */
static void to_fv(const struct hdr *h, __u32 fv[XFSM_FV_WORDS])
{
	memset(fv, 0, XFSM_FV_WORDS * sizeof(fv[0]));
	if (h->family == 4) {
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_IPV4;
		fv[XFSM_FW_IP4_SRC] = h->src[0];
		fv[XFSM_FW_IP4_DST] = h->dst[0];
	} else if (h->family == 6) {
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_IPV6;
		for (int i = 0; i < 4; i++) {
			fv[XFSM_FW_IP6_SRC + i] = h->src[i];
			fv[XFSM_FW_IP6_DST + i] = h->dst[i];
		}
	}
	if (h->has_vlan) {
		fv[XFSM_FW_PKT_FLAGS] |= XFSM_PF_VLAN;
		fv[XFSM_FW_VLAN_ID] = h->vlan;
	}
	fv[XFSM_FW_IP_PROTO] = h->proto;
	fv[XFSM_FW_L4_SPORT] = h->sport;
	fv[XFSM_FW_L4_DPORT] = h->dport;
	fv[XFSM_FW_TCP_FLAGS] = h->tcp_flags;
	fv[XFSM_FW_META_PORT] = h->port;
}

static int random_family(void)
{
	static const int fam[3] = { 0, 4, 6 };

	return fam[rnd() % 3];
}

static __u32 pick(__u32 lo, __u32 hi)
{
	switch (rnd() % 5) {
	case 0: return lo;
	case 1: return hi;
	case 2: return lo ? lo - 1 : lo;
	case 3: return hi < 0xffff ? hi + 1 : hi;
	default: return lo + (hi > lo ? rnd() % (hi - lo + 1) : 0);
	}
}

/* A header near rule e: inside it, or just outside one of its fields. */
static void near_rule(const struct xfsm_acl_entry *e, struct hdr *h)
{
	int fam = e->flags & XFSM_ACLF_V6 ? (e->flags & XFSM_ACLF_V4 && rnd() & 1 ? 4 : 6) :
		  e->flags & XFSM_ACLF_V4 ? 4 : 0;

	memset(h, 0, sizeof(*h));
	h->family = rnd() % 8 ? fam : random_family();
	for (int w = 0; w < 4; w++) {
		h->src[w] = e->src[w] | (rnd() & ~word_mask(e->src_len, w));
		h->dst[w] = e->dst[w] | (rnd() & ~word_mask(e->dst_len, w));
		if (rnd() % 16 == 0)
			h->src[w] ^= 1U << (rnd() % 32);
	}
	for (int w = h->family == 6 ? 4 : h->family == 4 ? 1 : 0; w < 4; w++)
		h->src[w] = h->dst[w] = 0;
	h->proto = (e->proto | (rnd() & ~e->proto_mask)) & 0xff;
	if (rnd() % 8 == 0)
		h->proto = rnd() & 0xff;
	h->sport = pick(e->sport_lo, e->sport_hi) & 0xffff;
	h->dport = pick(e->dport_lo, e->dport_hi) & 0xffff;
	h->tcp_flags = (e->tcp_flags | (rnd() & ~e->tcp_mask)) & 0xff;
	h->port = e->flags & XFSM_ACLF_PORT && rnd() % 4 ? e->in_port : rnd() % 4;
	h->has_vlan = e->flags & XFSM_ACLF_VLAN ? rnd() % 4 != 0 : rnd() % 4 == 0;
	h->vlan = e->flags & XFSM_ACLF_VLAN && rnd() % 4 ? e->vlan : rnd() & 0xfff;
}

static void random_hdr(struct hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->family = random_family();
	for (int w = 0; w < (h->family == 6 ? 4 : h->family == 4 ? 1 : 0); w++) {
		h->src[w] = rnd();
		h->dst[w] = rnd();
	}
	h->proto = rnd() & 0xff;
	h->sport = rnd() & 0xffff;
	h->dport = rnd() & 0xffff;
	h->tcp_flags = rnd() & 0xff;
	h->port = rnd() % 8;
	h->has_vlan = rnd() & 1;
	h->vlan = rnd() & 0xfff;
}

/* Every accepted rule prints to text that parses back to itself. */
static void check_roundtrip(const struct xfsm_acl_entry *e)
{
	struct xfsm_acl_entry back;
	char text[600], err[300];

	xfsm_acl_format(e, text, sizeof(text));
	if (xfsm_acl_parse_rule(text, &back, NULL, NULL, err, sizeof(err)))
		die("the printed rule '%s' does not parse: %s", text, err);
	if (memcmp(&back, e, sizeof(back)))
		die("the printed rule '%s' parses to another rule", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xfsm_acl_rules rs = { 0 };
	struct xfsm_acl_built *b = NULL;
	char *text = malloc(size + 1), *line, *save = NULL, err[300];
	__u64 seed = 1469598103934665603ULL;
	int ret;

	if (!text)
		die("out of memory");
	memcpy(text, data, size);
	text[size] = 0;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211ULL;
	rng = seed | 1;
	for (line = strtok_r(text, "\n", &save); line && rs.n < MAX_RULES;
	     line = strtok_r(NULL, "\n", &save)) {
		struct xfsm_acl_entry e;

		if (line[0] == '@')
			ret = xfsm_acl_parse_classbench(line, &e, err, sizeof(err));
		else
			ret = xfsm_acl_parse_rule(line, &e, NULL, NULL, err, sizeof(err));
		if (ret == -EINVAL && !err[0])
			die("refused without a message: %s", line);
		if (ret)
			continue;
		if (e.action == XFSM_ACL_GOTO && e.arg >= XFSM_MAX_STAGES)
			die("goto stage %u accepted", e.arg);
		if (xfsm_acl_rules_add(&rs, &e))
			continue;	/* an id used twice */
		check_roundtrip(&rs.r[rs.n - 1]);
	}
	free(text);
	if (!rs.n)
		goto out;
	ret = xfsm_acl_build(rs.r, rs.n, &b);
	if (ret == -E2BIG)
		goto out;	/* more tuples than the datapath holds: refused */
	if (ret)
		die("build failed: %d", ret);
	for (int k = 0; k < HEADERS; k++) {
		const struct xfsm_acl_entry *want;
		struct xfsm_acl_entry got;
		__u32 fv[XFSM_FV_WORDS];
		struct hdr h;
		int hit;

		if (k % 4 == 3)
			random_hdr(&h);
		else
			near_rule(&rs.r[rnd() % rs.n], &h);
		to_fv(&h, fv);
		want = ref_classify(&rs, &h);
		hit = xfsm_acl_classify(b, fv, &got, NULL);
		if (!want != !hit || (want && got.rule_id != want->rule_id))
			die("header %d: the classifier chose rule %d, a linear scan rule %d", k,
			    hit ? (int)got.rule_id : -1, want ? (int)want->rule_id : -1);
	}
out:
	xfsm_acl_built_free(b);
	xfsm_acl_rules_free(&rs);
	return 0;
}
