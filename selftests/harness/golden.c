/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"

/* ---- packets from a spec ------------------------------------------------ */

void pkt_from_spec(struct pkt *p, const struct pkt_spec *s)
{
	struct ip4_args a4 = {
		.src = TEST_IP4(s->src), .dst = TEST_IP4(s->dst),
		.tos = s->tos, .ttl = s->ttl ? s->ttl : 64, .id = 1,
	};
	struct ip6_args a6 = { .tclass = s->tos, .hlim = s->ttl ? s->ttl : 64 };

	pkt_init(p);
	pkt_eth(p, s->dmac ? s->dmac : TEST_MAC(s->dst),
		s->smac ? s->smac : TEST_MAC(s->src), 0);
	if (s->vlan)
		pkt_vlan(p, ETHERTYPE_8021Q, s->vlan);
	switch (s->l3) {
	case PS_IP4:
		pkt_ip4(p, &a4);
		break;
	case PS_IP6:
		test_ip6(a6.src, s->src);
		test_ip6(a6.dst, s->dst);
		pkt_ip6(p, &a6);
		break;
	case PS_ARP:
		pkt_arp(p, 1, TEST_MAC(s->src), TEST_IP4(s->src), 0, TEST_IP4(s->dst));
		break;
	default:
		break;
	}
	switch (s->l4) {
	case PS_TCP:
		pkt_tcp(p, s->sport, s->dport, s->flags, 0);
		break;
	case PS_UDP:
		pkt_udp(p, s->sport, s->dport);
		break;
	case PS_ICMP:
		pkt_icmp(p, s->sport, s->dport);
		break;
	case PS_ICMP6:
		pkt_icmp6(p, s->sport, s->dport);
		break;
	default:
		break;
	}
	if (s->payload)
		pkt_raw(p, s->payload, 0xa5);
	pkt_finish(p);
}

/* ---- applications ------------------------------------------------------- */

void app_init(struct xfsm_image *img, unsigned int n_stages, __u32 default_verdict)
{
	unsigned int s;

	xfsm_image_init(img);
	img->app.n_stages = n_stages;
	img->app.default_verdict = default_verdict;
	for (s = 0; s < n_stages; s++) {
		img->app.stages[s].enabled = 1;
		img->app.stages[s].miss_verdict = XFSM_VERDICT_CONTINUE;
	}
}

int app_keys(struct xfsm_image *img, unsigned int stage,
	     const __u8 *lookup, unsigned int n_lookup,
	     const __u8 *update, unsigned int n_update)
{
	return xfsm_stage_set_keys(&img->app.stages[stage], lookup, NULL, n_lookup,
				   update, NULL, n_update);
}

int app_keys_sym(struct xfsm_image *img, unsigned int stage,
		 const __u8 *key, const __u8 *rev, unsigned int n)
{
	int err = xfsm_stage_set_keys(&img->app.stages[stage], key, rev, n,
				      key, rev, n);

	img->app.stages[stage].flags |= XFSM_SF_SYMMETRIC;
	return err;
}

void app_match_words(struct xfsm_image *img, unsigned int stage,
		     const __u8 *words, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < XFSM_MATCH_WORDS; i++)
		img->app.stages[stage].match_words[i] = i < n ? words[i] : XFSM_FW_ZERO;
}

void app_cond(struct xfsm_image *img, unsigned int stage, unsigned int i,
	      __u8 op, struct xfsm_operand a, struct xfsm_operand b)
{
	struct xfsm_stage *st = &img->app.stages[stage];

	st->conds[i].op = op;
	st->conds[i].a = a;
	st->conds[i].b = b;
	if (st->n_conds < i + 1)
		st->n_conds = i + 1;
}

void app_miss(struct xfsm_image *img, unsigned int stage, __u8 verdict)
{
	img->app.stages[stage].miss_verdict = verdict;
}

void rb_init(struct rb *b, __u32 priority)
{
	memset(b, 0, sizeof(*b));
	b->r.priority = priority;
}

void rb_state(struct rb *b, __u32 state)
{
	b->m.state = state;
	b->m.state_mask = 0xffffffff;
}

void rb_match(struct rb *b, unsigned int slot, __u32 value, __u32 mask)
{
	b->m.match[slot] = value & mask;
	b->m.match_mask[slot] = mask;
}

void rb_cond(struct rb *b, unsigned int i, bool value)
{
	b->m.cond_mask |= 1U << i;
	if (value)
		b->m.conds |= 1U << i;
	else
		b->m.conds &= ~(1U << i);
}

void rb_next(struct rb *b, __u32 state)
{
	b->r.flags |= XFSM_RF_SET_STATE | XFSM_RF_WRITES_FLOW;
	b->r.next_state = state;
}

void rb_idle(struct rb *b, __u32 ms, __u32 rollback)
{
	b->r.idle_timeout_ms = ms;
	b->r.idle_rollback = rollback;
}

void rb_hard(struct rb *b, __u32 ms, __u32 rollback)
{
	b->r.hard_timeout_ms = ms;
	b->r.hard_rollback = rollback;
}

void rb_upd(struct rb *b, __u8 op, __u8 dst_kind, __u8 dst_index,
	    struct xfsm_operand a, struct xfsm_operand o2)
{
	struct xfsm_update *u = &b->r.upd[b->nu++];

	u->op = op;
	u->dst_kind = dst_kind;
	u->dst_index = dst_index;
	u->a = a;
	u->b = o2;
	b->r.flags |= dst_kind == XFSM_OPND_GLOBAL_REG ? XFSM_RF_WRITES_GLOBAL
						       : XFSM_RF_WRITES_FLOW;
}

void rb_ewma(struct rb *b, __u8 dst_kind, __u8 dst_index, __u8 shift,
	     struct xfsm_operand a, struct xfsm_operand o2)
{
	rb_upd(b, XFSM_UPD_EWMA, dst_kind, dst_index, a, o2);
	b->r.upd[b->nu - 1].shift = shift;
}

void rb_act(struct rb *b, __u8 type, __u16 arg, struct xfsm_operand opnd)
{
	struct xfsm_action *a = &b->r.act[b->na++];

	a->type = type;
	a->arg = arg;
	a->opnd = opnd;
}

int rb_add(struct xfsm_image *img, unsigned int stage, struct rb *b)
{
	int err;

	b->r.rule_id = img->n_rules;
	err = xfsm_image_add_rule(img, stage, &b->m, &b->r);
	if (err)
		fprintf(stderr, "rb_add: stage %u rule %zu: %s\n", stage,
			img->n_rules, strerror(-err));
	return err;
}

/* ---- statistics ---------------------------------------------------------- */

#define SF_PLAIN(n)	{ #n, offsetof(struct xfsm_stats, n) },
#define SF_ACT(n)	{ "act_" #n, offsetof(struct xfsm_stats, act_##n) },
#define SF_EXC(n)	{ "exc_" #n, offsetof(struct xfsm_stats, exc_##n) },
#define SF_FIB(n)	{ "fib_" #n, offsetof(struct xfsm_stats, fib_##n) },

const struct stat_field stat_fields[] = {
	SF_PLAIN(rx_packets) SF_PLAIN(rx_bytes) SF_PLAIN(malformed)
	SF_PLAIN(verdict_pass) SF_PLAIN(verdict_drop) SF_PLAIN(verdict_tx)
	SF_PLAIN(verdict_redirect)
	XFSM_ACTION_COUNTERS(SF_ACT)
	XFSM_EXCEPTIONS(SF_EXC)
	XFSM_FIB_COUNTERS(SF_FIB)
};

_Static_assert(sizeof(stat_fields) / sizeof(stat_fields[0]) == N_STAT_FIELDS,
	       "stat name table");

static __u64 stat_at(const struct xfsm_stats *s, size_t off)
{
	__u64 v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

static size_t verdict_stat(__u32 verdict)
{
	switch (verdict) {
	case XDP_PASS:		return offsetof(struct xfsm_stats, verdict_pass);
	case XDP_DROP:		return offsetof(struct xfsm_stats, verdict_drop);
	case XDP_TX:		return offsetof(struct xfsm_stats, verdict_tx);
	case XDP_REDIRECT:	return offsetof(struct xfsm_stats, verdict_redirect);
	default:		return (size_t)-1;
	}
}

bool check_stats_delta(const struct xfsm_stats *before, const struct xfsm_stats *after,
		       const struct stat_exp *exp, size_t n_exp, __u32 verdict,
		       __u32 len, bool strict_verdicts)
{
	bool ok = true;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(stat_fields); i++) {
		size_t off = stat_fields[i].off;
		long long got = (long long)(stat_at(after, off) - stat_at(before, off));
		long long want = 0;
		bool listed = false, strict;

		for (j = 0; j < n_exp && exp[j].name; j++)
			if (exp[j].off == off) {
				want = exp[j].delta;
				listed = true;
			}
		strict = listed || off >= offsetof(struct xfsm_stats, exc_trunc_eth) ||
			 off == offsetof(struct xfsm_stats, malformed);
		if (!listed && off == offsetof(struct xfsm_stats, rx_packets)) {
			want = 1;
			strict = true;
		}
		if (!listed && off == offsetof(struct xfsm_stats, rx_bytes)) {
			want = len;
			strict = true;
		}
		if (!listed && strict_verdicts &&
		    off >= offsetof(struct xfsm_stats, verdict_pass) &&
		    off <= offsetof(struct xfsm_stats, verdict_redirect)) {
			want = off == verdict_stat(verdict);
			strict = true;
		}
		if (strict)
			ok &= xt_check(got == want, __FILE__, __LINE__,
				       "stats.%s moved by %lld, expected %lld",
				       stat_fields[i].name, got, want);
	}
	return ok;
}

/* ---- one step ---------------------------------------------------------------- */

static const char *const sstat_names[] = {
	"packets", "bytes", "hits", "misses", "flows_created", "table_full",
	"idle_expired", "hard_expired",
};

static bool check_stage_stats(const struct xfsm_stage_stats *before,
			      const struct xfsm_stage_stats *after,
			      unsigned int n_stages, const struct sstat_exp *exp,
			      size_t n_exp)
{
	bool ok = true;
	unsigned int s;
	size_t f, j;

	for (s = 0; s < n_stages; s++) {
		for (f = 0; f < sizeof(struct xfsm_stage_stats) / sizeof(__u64); f++) {
			size_t off = f * sizeof(__u64);
			__u64 b, a;
			long long want = 0;
			bool listed = false;

			memcpy(&b, (const char *)&before[s] + off, 8);
			memcpy(&a, (const char *)&after[s] + off, 8);
			for (j = 0; j < n_exp && exp[j].name; j++)
				if (exp[j].stage == s && exp[j].off == off) {
					want = exp[j].delta;
					listed = true;
				}
			/* Expiry and table-full counters are strict. */
			if (!listed && off < offsetof(struct xfsm_stage_stats, table_full))
				continue;
			ok &= xt_check((long long)(a - b) == want, __FILE__, __LINE__,
				       "stage %u stats.%s moved by %lld, expected %lld",
				       s, sstat_names[f], (long long)(a - b), want);
		}
	}
	return ok;
}

static __u32 xdp_of_verdict(enum xfsm_verdict v)
{
	switch (v) {
	case XFSM_VERDICT_DROP:	return XDP_DROP;
	case XFSM_VERDICT_TX:	return XDP_TX;
	default:		return XDP_PASS;
	}
}

bool run_step(struct xt *t, const struct golden *g, unsigned int n_stages)
{
	struct xfsm_stage_stats sb[XFSM_MAX_STAGES], sa[XFSM_MAX_STAGES];
	struct xfsm_stats before, after;
	struct pkt in, want;
	struct xt_result r;
	char diff[512];
	bool ok = true;
	unsigned int s, i;
	int err;

	if (g->advance_ms && !ASSERT_OK(xt_advance_ms(t, g->advance_ms), "advance"))
		return false;
	if (g->port && !ASSERT_OK(xt_set_port(t, 1, g->port), "set port"))
		return false;
	if (g->before && !ASSERT_TRUE(g->before(t), "before the packet"))
		return false;
	if (g->bytes) {
		pkt_init(&in);
		memcpy(in.data, g->bytes, g->n_bytes);
		in.len = g->n_bytes;
	} else if (g->build) {
		pkt_init(&in);
		g->build(&in);
	} else {
		pkt_from_spec(&in, &g->pkt);
	}
	if (!ASSERT_OK(xfsm_read_stats(t->inst, &before), "read stats"))
		return false;
	for (s = 0; s < n_stages; s++)
		if (!ASSERT_OK(xfsm_read_stage_stats(t->inst, s, &sb[s]), "read stage stats"))
			return false;

	err = xt_run_pkt(t, &in, 1, &r);
	if (!ASSERT_OK(err, "BPF_PROG_TEST_RUN"))
		return false;
	ok &= xt_check(r.verdict == g->verdict, __FILE__, __LINE__,
		       "verdict %s, expected %s", xt_verdict_name(r.verdict),
		       xt_verdict_name(g->verdict));
	ok &= ASSERT_NEQ(r.verdict, XDP_ABORTED, "never XDP_ABORTED");

	if (!g->any_out) {
		if (g->out_bytes) {
			pkt_init(&want);
			memcpy(want.data, g->out_bytes, g->n_out_bytes);
			want.len = g->n_out_bytes;
		} else if (g->build_out) {
			pkt_init(&want);
			g->build_out(&want);
		} else {
			want = in;
		}
		if (r.len != want.len || memcmp(r.data, want.data, want.len)) {
			pkt_hexdiff(r.data, r.len, want.data, want.len, diff, sizeof(diff));
			ok &= xt_check(false, __FILE__, __LINE__,
				       "output bytes differ (got vs expected): %s", diff);
		}
	}

	if (!ASSERT_OK(xfsm_read_stats(t->inst, &after), "read stats"))
		return false;
	ok &= check_stats_delta(&before, &after, g->stats, ARRAY_SIZE(g->stats),
				r.verdict, in.len, true);
	for (s = 0; s < n_stages; s++)
		if (!ASSERT_OK(xfsm_read_stage_stats(t->inst, s, &sa[s]), "read stage stats"))
			return false;
	ok &= check_stage_stats(sb, sa, n_stages, g->sstats, ARRAY_SIZE(g->sstats));

	for (i = 0; i < ARRAY_SIZE(g->flows) && g->flows[i].used; i++) {
		const struct flow_exp *fe = &g->flows[i];
		struct xfsm_flow flow;
		unsigned int k;

		err = xt_find_flow(t, fe->stage, fe->key, NULL, &flow);
		if (fe->absent) {
			ok &= xt_check(err == -ENOENT, __FILE__, __LINE__,
				       "flow %u (stage %u, key[0] 0x%x) exists (state %u), expected none",
				       i, fe->stage, fe->key[0], err ? 0 : flow.state);
			continue;
		}
		if (!xt_check(err == 0, __FILE__, __LINE__,
			      "flow %u (stage %u, key[0] 0x%x key[1] 0x%x) not found: %d",
			      i, fe->stage, fe->key[0], fe->key[1], err)) {
			ok = false;
			continue;
		}
		ok &= xt_check(flow.state == fe->state, __FILE__, __LINE__,
			       "flow %u state %u, expected %u", i, flow.state, fe->state);
		for (k = 0; k < XFSM_FLOW_REGS; k++)
			if (fe->regs_mask & (1U << k))
				ok &= xt_check(flow.regs[k] == fe->regs[k], __FILE__, __LINE__,
					       "flow %u reg%u = %llu (0x%llx), expected %llu (0x%llx)",
					       i, k, (unsigned long long)flow.regs[k],
					       (unsigned long long)flow.regs[k],
					       (unsigned long long)fe->regs[k],
					       (unsigned long long)fe->regs[k]);
	}
	for (i = 0; i < ARRAY_SIZE(g->globals) && g->globals[i].used; i++) {
		__u64 v = 0;

		if (!ASSERT_OK(xfsm_global_get(t->inst, g->globals[i].idx, &v), "global get"))
			return false;
		ok &= xt_check(v == g->globals[i].a, __FILE__, __LINE__,
			       "global %u = %llu, expected %llu", g->globals[i].idx,
			       (unsigned long long)v, (unsigned long long)g->globals[i].a);
	}
	for (i = 0; i < ARRAY_SIZE(g->counters) && g->counters[i].used; i++) {
		struct xfsm_counter c;

		if (!ASSERT_OK(xfsm_read_counter(t->inst, g->counters[i].idx, &c), "counter"))
			return false;
		ok &= xt_check(c.packets == g->counters[i].a && c.bytes == g->counters[i].b,
			       __FILE__, __LINE__,
			       "counter %u = %llu packets %llu bytes, expected %llu / %llu",
			       g->counters[i].idx, (unsigned long long)c.packets,
			       (unsigned long long)c.bytes,
			       (unsigned long long)g->counters[i].a,
			       (unsigned long long)g->counters[i].b);
	}
	for (i = 0; i < ARRAY_SIZE(g->rules) && g->rules[i].used; i++) {
		struct xfsm_rule_stats rs;

		if (!ASSERT_OK(xfsm_read_rule_stats(t->inst, g->rules[i].idx, &rs), "rule stats"))
			return false;
		ok &= xt_check(rs.packets == g->rules[i].a && rs.bytes == g->rules[i].b,
			       __FILE__, __LINE__,
			       "rule %u stats = %llu packets %llu bytes, expected %llu / %llu",
			       g->rules[i].idx, (unsigned long long)rs.packets,
			       (unsigned long long)rs.bytes,
			       (unsigned long long)g->rules[i].a,
			       (unsigned long long)g->rules[i].b);
	}
	if (g->check)
		ok &= g->check(t, g, &in, &r);
	return ok;
}

bool scenario_runs_on(const struct scenario *sc, enum xt_profile profile)
{
	return sc->flags & (profile == XT_OFFLOAD ? SC_OFFLOAD : SC_NATIVE);
}

void run_scenario(struct xt *t, const struct scenario *sc)
{
	struct xt own, *tt = t;
	struct xfsm_image img;
	size_t i;
	int err;

	xt_set_context("%s", sc->name);
	if (sc->flows_max || sc->flows_type) {
		struct xt_opts o = {
			.profile = t->profile,
			.flows_max = sc->flows_max,
			.flows_type = sc->flows_type,
		};

		if (!ASSERT_OK(xt_open(&own, &o), "open own instance"))
			return;
		tt = &own;
	} else if (!ASSERT_OK(xt_reset(t), "reset")) {
		return;
	}
	xfsm_image_init(&img);
	err = sc->build_app(&img);
	if (!ASSERT_OK(err, "build application"))
		goto out;
	if (!ASSERT_OK(xt_apply(tt, &img), "xfsm_apply"))
		goto out;
	/* The offload clock lives in the control block apply may rewrite. */
	if (tt->profile == XT_OFFLOAD && !ASSERT_OK(xt_set_clock(tt, tt->clock_ns), "clock"))
		goto out;
	if (sc->setup && !ASSERT_OK(sc->setup(tt), "setup"))
		goto out;
	for (i = 0; i < sc->n_steps; i++) {
		xt_set_context("%s: step %zu (%s)", sc->name, i, sc->steps[i].desc);
		run_step(tt, &sc->steps[i], img.app.n_stages);
	}
out:
	xt_set_context("%s", "");
	xfsm_image_free(&img);
	if (tt == &own)
		xt_close(&own);
}

/* ---- parser: field capture -------------------------------------------------- */

/* The words a profile's field vector has, and the stages that key on
 * them (the offload profile's 44 words fill its 4 stages exactly). */
static unsigned int capture_words(bool offload)
{
	return offload ? XFSM_OFFLOAD_FV_WORDS : XFSM_FW_NWORDS_USED;
}

static unsigned int capture_stages(bool offload)
{
	return (capture_words(offload) + XFSM_KEY_WORDS - 1) / XFSM_KEY_WORDS;
}

int capture_app(struct xfsm_image *img, bool offload)
{
	unsigned int s, i;
	int err = 0;

	app_init(img, capture_stages(offload), XFSM_VERDICT_PASS);
	for (s = 0; s < capture_stages(offload); s++) {
		__u8 words[XFSM_KEY_WORDS];
		unsigned int n = 0;
		struct rb b;

		for (i = 0; i < XFSM_KEY_WORDS; i++) {
			unsigned int w = s * XFSM_KEY_WORDS + i;

			if (w < capture_words(offload))
				words[n++] = w;
		}
		err = app_keys(img, s, words, n, words, n);
		if (err)
			return err;
		rb_init(&b, 1);
		rb_next(&b, 1);
		err = rb_add(img, s, &b);
		if (err)
			return err;
	}
	return 0;
}

static const char *field_name(unsigned int w)
{
	static const char *const names[XFSM_FV_WORDS] = {
		[XFSM_FW_META_PORT] = "meta.port", [XFSM_FW_META_LEN] = "meta.len",
		[XFSM_FW_META_MARK] = "meta.mark", [XFSM_FW_PKT_FLAGS] = "meta.flags",
		[XFSM_FW_ETH_DST_HI] = "eth.dst.hi", [XFSM_FW_ETH_DST_LO] = "eth.dst.lo",
		[XFSM_FW_ETH_SRC_HI] = "eth.src.hi", [XFSM_FW_ETH_SRC_LO] = "eth.src.lo",
		[XFSM_FW_ETH_TYPE] = "eth.type", [XFSM_FW_VLAN_ID] = "vlan.id",
		[XFSM_FW_VLAN_INNER] = "vlan.inner", [XFSM_FW_VLAN_PCP] = "vlan.pcp",
		[XFSM_FW_IP_PROTO] = "ip.proto", [XFSM_FW_IP_DSCP] = "ip.dscp",
		[XFSM_FW_IP_ECN] = "ip.ecn", [XFSM_FW_IP_TTL] = "ip.ttl",
		[XFSM_FW_IP_FRAG] = "ip.frag", [XFSM_FW_IP4_SRC] = "ip.src",
		[XFSM_FW_IP4_DST] = "ip.dst", [XFSM_FW_IP6_SRC] = "ip6.src[0]",
		[XFSM_FW_IP6_SRC + 1] = "ip6.src[1]", [XFSM_FW_IP6_SRC + 2] = "ip6.src[2]",
		[XFSM_FW_IP6_SRC + 3] = "ip6.src[3]", [XFSM_FW_IP6_DST] = "ip6.dst[0]",
		[XFSM_FW_IP6_DST + 1] = "ip6.dst[1]", [XFSM_FW_IP6_DST + 2] = "ip6.dst[2]",
		[XFSM_FW_IP6_DST + 3] = "ip6.dst[3]", [XFSM_FW_IP6_FLOW] = "ip6.flow",
		[XFSM_FW_L4_SPORT] = "l4.sport", [XFSM_FW_L4_DPORT] = "l4.dport",
		[XFSM_FW_TCP_SPORT] = "tcp.sport", [XFSM_FW_TCP_DPORT] = "tcp.dport",
		[XFSM_FW_TCP_FLAGS] = "tcp.flags", [XFSM_FW_UDP_SPORT] = "udp.sport",
		[XFSM_FW_UDP_DPORT] = "udp.dport", [XFSM_FW_ICMP_TYPE] = "icmp.type",
		[XFSM_FW_ICMP_CODE] = "icmp.code", [XFSM_FW_ICMP6_TYPE] = "icmp6.type",
		[XFSM_FW_ICMP6_CODE] = "icmp6.code", [XFSM_FW_ARP_OP] = "arp.op",
		[XFSM_FW_ARP_SPA] = "arp.spa", [XFSM_FW_ARP_TPA] = "arp.tpa",
		[XFSM_FW_IP6_NEXTHDR] = "ip6.nexthdr", [XFSM_FW_ZERO] = "(zero)",
		[XFSM_FW_IP_LEN] = "ip.len", [XFSM_FW_IP_ID] = "ip.id",
		[XFSM_FW_TCP_SEQ] = "tcp.seq", [XFSM_FW_TCP_ACK] = "tcp.ack",
		[XFSM_FW_TCP_WIN] = "tcp.win",
	};

	return w < XFSM_FV_WORDS && names[w] ? names[w] : "?";
}

struct stage_flows {
	unsigned int stage;
	long count;
	struct xfsm_flow_key key;
};

static int stage_flow_cb(const struct xfsm_flow_key *key, const struct xfsm_flow *flow,
			 void *arg)
{
	struct stage_flows *c = arg;

	(void)flow;
	if (key->stage == c->stage) {
		if (!c->count)
			c->key = *key;
		c->count++;
	}
	return 0;
}

bool run_parse_case(struct xt *t, const struct parse_case *pc)
{
	__u32 want[XFSM_FV_WORDS] = { 0 };
	struct xt_result r;
	struct pkt p;
	bool ok = true, len_listed = false, offload = t->inst->build.offload;
	unsigned int s, i;

	xt_set_context("parse: %s", pc->desc);
	pkt_init(&p);
	pc->build(&p);
	for (i = 0; i < ARRAY_SIZE(pc->fields); i++) {
		if (!pc->fields[i].word)
			continue;
		want[pc->fields[i].word] = pc->fields[i].value;
		if (pc->fields[i].word == XFSM_FW_META_LEN)
			len_listed = true;
	}
	if (!len_listed)
		want[XFSM_FW_META_LEN] = p.len;
	/* ip.len, unless listed: what the builder wrote into the first IP
	 * header (IPv4 total length, IPv6 40 + payload length), 0 without */
	if (!want[XFSM_FW_IP_LEN]) {
		int o4 = pkt_off(&p, PL_IP4, 0), o6 = pkt_off(&p, PL_IP6, 0);

		if (o4 >= 0)
			want[XFSM_FW_IP_LEN] = pkt_get16(p.data + o4 + 2);
		else if (o6 >= 0)
			want[XFSM_FW_IP_LEN] = 40 + pkt_get16(p.data + o6 + 4);
	}

	if (xfsm_flow_flush(t->inst, -1) < 0)
		return ASSERT_TRUE(false, "flush flows");
	if (!ASSERT_OK(xt_run_pkt(t, &p, 1, &r), "BPF_PROG_TEST_RUN"))
		return false;
	ok &= xt_check(r.verdict == XDP_PASS, __FILE__, __LINE__,
		       "verdict %s, expected XDP_PASS (capture application)",
		       xt_verdict_name(r.verdict));
	for (s = 0; s < capture_stages(offload); s++) {
		struct stage_flows c = { .stage = s };

		xfsm_flow_foreach(t->inst, stage_flow_cb, &c);
		if (!xt_check(c.count == 1, __FILE__, __LINE__,
			      "capture stage %u holds %ld flows, expected 1", s, c.count)) {
			ok = false;
			continue;
		}
		for (i = 0; i < XFSM_KEY_WORDS; i++) {
			unsigned int w = s * XFSM_KEY_WORDS + i;

			if (w >= capture_words(offload))
				break;
			ok &= xt_check(c.key.w[i] == want[w], __FILE__, __LINE__,
				       "field %s (word %u) = %u (0x%x), expected %u (0x%x)",
				       field_name(w), w, c.key.w[i], c.key.w[i],
				       want[w], want[w]);
		}
	}
	xt_set_context("%s", "");
	return ok;
}

bool run_malformed_case(struct xt *t, const struct malformed_case *mc,
			enum xfsm_verdict mverdict)
{
	struct xfsm_stats before, after;
	struct stat_exp exp[2] = { 0 };
	struct xt_result r;
	struct pkt p;
	__u32 want;
	bool ok;

	xt_set_context("malformed: %s (verdict %d)", mc->desc, mverdict);
	pkt_init(&p);
	mc->build(&p);
	if (!ASSERT_OK(xfsm_ctl_set_malformed_verdict(t->inst, mverdict), "set malformed verdict"))
		return false;
	if (xfsm_flow_flush(t->inst, -1) < 0)
		return ASSERT_TRUE(false, "flush flows");
	if (!ASSERT_OK(xfsm_read_stats(t->inst, &before), "read stats"))
		return false;
	if (xt_run_pkt(t, &p, 1, &r) == -EINVAL && p.len < 14) {
		/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet
		 * header, so trunc_eth cannot be reached from here. */
		fprintf(stderr, "NOTE [%s]: test_run refuses a %u-byte frame, not checked\n",
			xt_context, p.len);
		xt_set_context("%s", "");
		return true;
	}
	if (!ASSERT_OK(r.err, "BPF_PROG_TEST_RUN"))
		return false;
	if (mc->exc_off) {
		exp[0] = (struct stat_exp){ mc->exc_name, mc->exc_off, 1 };
		exp[1] = (struct stat_exp){ "malformed", offsetof(struct xfsm_stats, malformed), 1 };
		want = xdp_of_verdict(mverdict);
	} else {
		want = XDP_PASS;	/* the capture application passes */
	}
	ok = xt_check(r.verdict == want, __FILE__, __LINE__, "verdict %s, expected %s",
		      xt_verdict_name(r.verdict), xt_verdict_name(want));
	if (!ASSERT_OK(xfsm_read_stats(t->inst, &after), "read stats"))
		return false;
	ok &= check_stats_delta(&before, &after, exp, ARRAY_SIZE(exp), r.verdict, p.len, true);
	if (mc->exc_off) {
		ok &= xt_check(r.len == p.len && !memcmp(r.data, p.data, p.len), __FILE__,
			       __LINE__, "a malformed frame must leave unchanged");
		/* parsing stops: no stage runs, so the capture stages hold nothing */
		ok &= ASSERT_EQ(xt_count_flows(t, -1), 0, "no flow from a malformed frame");
	}
	xt_set_context("%s", "");
	return ok;
}

/* The exceptions a frame cut at len may count, by the header the cut hits. */
static int cut_expectations(const struct pkt *full, uint32_t len, bool fix,
			    size_t allowed[3])
{
	int i, ip = -1, n = 0;

	for (i = 0; i < full->n; i++) {
		const struct pkt_layer *l = &full->l[i];
		uint32_t have;

		if (l->kind == PL_IP4 || l->kind == PL_IP6)
			ip = i;
		if (l->off + l->len <= len)
			continue;
		have = len - l->off;
		if (ip >= 0 && !fix && l->kind != PL_IP4 && l->kind != PL_IP6) {
			allowed[n++] = full->l[ip].kind == PL_IP4 ?
				offsetof(struct xfsm_stats, exc_ip4_totlen) :
				offsetof(struct xfsm_stats, exc_ip6_paylen);
			return n;
		}
		switch (l->kind) {
		case PL_VLAN:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_vlan);
			break;
		case PL_ARP:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_arp);
			break;
		case PL_IP4:
			if (have < 20) {
				allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_ip4);
			} else {
				allowed[n++] = offsetof(struct xfsm_stats, exc_ip4_ihl);
				allowed[n++] = offsetof(struct xfsm_stats, exc_ip4_totlen);
			}
			break;
		case PL_IP6:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_ip6);
			break;
		case PL_IP6_EXT:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_ip6_ext);
			break;
		case PL_TCP:
			allowed[n++] = have < 20 ? offsetof(struct xfsm_stats, exc_trunc_tcp)
						 : offsetof(struct xfsm_stats, exc_tcp_doff);
			break;
		case PL_UDP:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_udp);
			break;
		case PL_ICMP:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_icmp);
			if (have >= 4)
				allowed[n++] = 0;	/* type and code are there */
			break;
		case PL_ICMP6:
			allowed[n++] = offsetof(struct xfsm_stats, exc_trunc_icmp6);
			if (have >= 4)
				allowed[n++] = 0;
			break;
		default:
			allowed[n++] = 0;	/* payload: not malformed */
			break;
		}
		return n;
	}
	allowed[n++] = 0;
	return n;
}

static const char *stat_name(size_t off)
{
	size_t i;

	if (!off)
		return "(none)";

	for (i = 0; i < ARRAY_SIZE(stat_fields); i++)
		if (stat_fields[i].off == off)
			return stat_fields[i].name;
	return "(none)";
}

bool run_truncation_sweep(struct xt *t, void (*build)(struct pkt *p), bool fix)
{
	struct xfsm_stats before, after;
	struct pkt full, p;
	struct xt_result r;
	bool ok = true;
	uint32_t len;

	pkt_init(&full);
	build(&full);
	if (!ASSERT_OK(xfsm_ctl_set_malformed_verdict(t->inst, XFSM_VERDICT_DROP), "verdict"))
		return false;
	for (len = 14; len < full.len; len++) {
		size_t allowed[3], moved = 0, i, n_moved = 0;
		bool allowed_ok = false;
		int n = cut_expectations(&full, len, fix, allowed);

		p = full;
		if (fix)
			pkt_truncate_fix(&p, len);
		else
			pkt_truncate(&p, len);
		if (!ASSERT_OK(xfsm_read_stats(t->inst, &before), "read stats"))
			return false;
		if (!ASSERT_OK(xt_run_pkt(t, &p, 1, &r), "BPF_PROG_TEST_RUN"))
			return false;
		if (!ASSERT_OK(xfsm_read_stats(t->inst, &after), "read stats"))
			return false;
		for (i = 0; i < ARRAY_SIZE(stat_fields); i++) {
			size_t off = stat_fields[i].off;

			if (off < offsetof(struct xfsm_stats, exc_trunc_eth))
				continue;
			if (stat_at(&after, off) != stat_at(&before, off)) {
				moved = off;
				n_moved++;
			}
		}
		for (i = 0; i < (size_t)n; i++)
			if (allowed[i] == moved && (moved || !n_moved))
				allowed_ok = true;
		ok &= xt_check(n_moved <= 1 && allowed_ok, __FILE__, __LINE__,
			       "cut at %u of %u bytes%s: %zu exception counters moved (last %s), expected %s%s%s",
			       len, full.len, fix ? " (lengths fixed)" : "", n_moved,
			       n_moved ? stat_name(moved) : "-", stat_name(allowed[0]),
			       n > 1 ? " or " : "", n > 1 ? stat_name(allowed[1]) : "");
		ok &= xt_check(r.verdict == (n_moved ? XDP_DROP : XDP_PASS), __FILE__, __LINE__,
			       "cut at %u: verdict %s", len, xt_verdict_name(r.verdict));
		ok &= xt_check(stat_at(&after, offsetof(struct xfsm_stats, malformed)) -
			       stat_at(&before, offsetof(struct xfsm_stats, malformed)) == n_moved,
			       __FILE__, __LINE__, "cut at %u: malformed moved wrongly", len);
		if (!ok)
			break;	/* one report per sweep is enough */
	}
	return ok;
}
