/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The xfsm language compiler: every example compiles into the expected
 * tables, the malformed corpus (selftests/lang/bad_*.xfsm, first line
 * "# expect: LINE:COL: MESSAGE") fails with exactly that error, ranges and
 * prefixes expand into masks that cover exactly what was written, and a
 * compiled application behaves as written in the real datapath
 * (BPF_PROG_TEST_RUN).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "libxfsm.h"
#include "xfsm_lang.h"
#include "xt_assert.h"
#include "bpf.h"
#include "golden.h"
#include "pkt.h"

static char srcdir[512];

/* Examples and corpus live in the source tree: $XFSM_SRC, else two levels
 * above build/selftests/, else ".". */
static const char *src_path(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", srcdir, rel);
	return buf;
}

static void find_srcdir(void)
{
	snprintf(srcdir, sizeof(srcdir), "%s", xt_src_dir());
}

struct compiled {
	struct xfsm_image img;
	struct xfsm_app_names nm;
	char err[512];
	int ret;
};

static bool open_dp(struct xt *t, struct compiled *c);
static __u32 run_spec(struct xt *t, __u8 l4, __u16 src, __u16 dport, __u8 flags);

static struct compiled *compile_file(const char *rel)
{
	struct compiled *c = calloc(1, sizeof(*c));
	char path[700];

	ck_assert_ptr_nonnull(c);
	c->ret = xfsm_compile_file(src_path(rel, path, sizeof(path)), &c->img, &c->nm,
				   c->err, sizeof(c->err));
	return c;
}

static struct compiled *compile_str(const char *text)
{
	struct compiled *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->ret = xfsm_compile_string("t.xfsm", text, strlen(text), &c->img, &c->nm,
				     c->err, sizeof(c->err));
	return c;
}

static void compiled_free(struct compiled *c)
{
	if (!c)
		return;
	xfsm_image_free(&c->img);
	if (!c->ret)
		xfsm_app_names_free(&c->nm);
	free(c);
}

/* The table entries of a named rule. */
static const struct xfsm_rule_entry *entry_of(struct compiled *c, unsigned int stage,
					      const char *rule, unsigned int nth)
{
	const struct xfsm_rule_names *rn = xfsm_lang_rule_by_name(&c->nm, stage, rule);

	if (!rn || nth >= rn->n_entries)
		return NULL;
	for (size_t i = 0; i < c->img.n_rules; i++)
		if (c->img.rules[i].rule.rule_id == rn->rule_id + nth)
			return &c->img.rules[i];
	return NULL;
}

static const struct xfsm_tuple *tuple_of(struct compiled *c, const struct xfsm_rule_entry *e)
{
	return &c->img.app.stages[e->key.stage].tuples[e->key.tuple];
}

/* ---- examples -------------------------------------------------------------- */

START_TEST(test_examples_compile)
{
	static const char *examples[] = {
		"portknock", "maclearn", "ratelimit", "synflood", "statefulfw",
		"loadbalancer", "arpresponder",
	};
	char rel[128];

	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct compiled *c;

		snprintf(rel, sizeof(rel), "examples/%s.xfsm", examples[i]);
		xt_set_context("%s", rel);
		c = compile_file(rel);
		if (ASSERT_OK(c->ret, "compile") || (fprintf(stderr, "%s\n", c->err), 0)) {
			ASSERT_GE(c->img.app.n_stages, 1, "stages");
			ASSERT_GE(c->img.n_rules, 2, "rules");
			ASSERT_OK(xfsm_image_validate(&c->img, 0, 0, XFSM_DEFAULT_RULES),
				  "validate");
			ASSERT_TRUE(c->img.source && c->img.source_len > 0, "source kept");
			ASSERT_TRUE(!strcmp(c->nm.app, examples[i]), "app name");
		}
		compiled_free(c);
	}
	XT_END();
}
END_TEST

START_TEST(test_portknock_tables)
{
	struct compiled *c = compile_file("examples/portknock.xfsm");
	const struct xfsm_rule_entry *e;
	const struct xfsm_stage *st;
	const struct xfsm_tuple *t;
	int s_open;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	st = &c->img.app.stages[0];
	ASSERT_EQ(c->img.app.n_stages, 1, "one stage");
	ASSERT_EQ(st->lookup_words[0], XFSM_FW_IP4_SRC, "key ip.src");
	ASSERT_EQ(st->lookup_words[1], XFSM_FW_ZERO, "key padded");
	ASSERT_TRUE(st->flags & XFSM_SF_SAME_KEYS, "same keys");
	ASSERT_EQ(st->miss_verdict, XFSM_VERDICT_PASS, "miss pass");
	ASSERT_EQ(c->img.app.default_verdict, XFSM_VERDICT_PASS, "default pass");
	/* tcp.dport then udp.dport: the union in order of first use */
	ASSERT_EQ(st->match_words[0], XFSM_FW_TCP_DPORT, "match word 0");
	ASSERT_EQ(st->match_words[1], XFSM_FW_UDP_DPORT, "match word 1");
	ASSERT_EQ(st->match_words[2], XFSM_FW_IP_PROTO, "match word 2");
	ASSERT_EQ(c->nm.n_rules, 9, "source rules");
	ASSERT_EQ(c->img.n_rules, 9, "entries");
	s_open = -1;
	for (unsigned int i = 0; i < c->nm.stages[0].n_states; i++)
		if (!strcmp(c->nm.stages[0].states[i], "open"))
			s_open = (int)i;
	ASSERT_EQ(s_open, 4, "states numbered in order");
	ASSERT_TRUE(!strcmp(c->nm.stages[0].states[0], "closed"), "state 0 named");

	e = entry_of(c, 0, "knock1", 0);
	if (ASSERT_TRUE(e, "knock1")) {
		t = tuple_of(c, e);
		ASSERT_EQ(t->state_mask, 0xffffffff, "state matched");
		ASSERT_EQ(e->key.state, 0, "in closed");
		ASSERT_EQ(t->match_mask[1], 0xffff, "udp.dport mask");
		ASSERT_EQ(e->key.match[1], 1111, "udp.dport 1111");
		ASSERT_EQ(t->match_mask[0], 0, "tcp.dport not matched");
		ASSERT_TRUE(e->rule.flags & XFSM_RF_SET_STATE, "sets state");
		ASSERT_EQ(e->rule.next_state, 1, "to k1");
		ASSERT_EQ(e->rule.idle_timeout_ms, 10000, "idle 10s");
		ASSERT_EQ(e->rule.idle_rollback, 0, "back to closed");
		ASSERT_EQ(e->rule.hard_timeout_ms, 0, "no hard timeout");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_DROP, "drop");
	}
	e = entry_of(c, 0, "knock4", 0);
	if (ASSERT_TRUE(e, "knock4")) {
		ASSERT_EQ(e->rule.next_state, 4, "to open");
		ASSERT_EQ(e->rule.hard_timeout_ms, 30000, "hard 30s");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_COUNT, "count first");
		ASSERT_EQ(e->rule.act[0].arg, 0, "counter 0");
		ASSERT_TRUE(!strcmp(c->nm.counters[0], "opened"), "counter named");
		ASSERT_EQ(e->rule.act[1].type, XFSM_ACT_DROP, "then drop");
	}
	/* first match within a priority: ssh_open beats ssh_closed */
	{
		const struct xfsm_rule_entry *a = entry_of(c, 0, "ssh_open", 0);
		const struct xfsm_rule_entry *b = entry_of(c, 0, "ssh_closed", 0);

		if (ASSERT_TRUE(a && b, "ssh rules"))
			ASSERT_TRUE(a->rule.priority > b->rule.priority, "earlier rule wins");
	}
	/* the stored rule text is what rule del removes */
	{
		const struct xfsm_rule_names *rn = xfsm_lang_rule_by_name(&c->nm, 0, "ssh_open");

		if (ASSERT_TRUE(rn, "names")) {
			ASSERT_TRUE(!strncmp(rn->text, "rule ssh_open", 13), "rule text");
			ASSERT_TRUE(!strncmp(c->img.source + rn->src_start, "rule ssh_open", 13),
				    "source range start");
			ASSERT_TRUE(!strncmp(c->img.source + rn->src_end - 4, "pass", 4),
				    "source range end");
			ASSERT_EQ(c->img.source[c->nm.stages[0].body_end], '}', "stage end");
		}
	}
	compiled_free(c);
	XT_END();
}
END_TEST

START_TEST(test_example_keys)
{
	struct compiled *c = compile_file("examples/maclearn.xfsm");
	const struct xfsm_stage *st;
	const struct xfsm_rule_entry *e;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	st = &c->img.app.stages[0];
	ASSERT_EQ(st->lookup_words[0], XFSM_FW_ETH_DST_HI, "lookup eth.dst hi");
	ASSERT_EQ(st->lookup_words[1], XFSM_FW_ETH_DST_LO, "lookup eth.dst lo");
	ASSERT_EQ(st->update_words[0], XFSM_FW_ETH_SRC_HI, "update eth.src hi");
	ASSERT_EQ(st->update_words[1], XFSM_FW_ETH_SRC_LO, "update eth.src lo");
	ASSERT_FALSE(st->flags & XFSM_SF_SAME_KEYS, "different keys");
	ASSERT_TRUE(c->img.app.flags & XFSM_AF_NEEDS_PORT, "uses meta.port");
	e = entry_of(c, 0, "known", 0);
	if (ASSERT_TRUE(e, "known")) {
		ASSERT_EQ(e->rule.upd[0].op, XFSM_UPD_SET, "learn");
		ASSERT_EQ(e->rule.upd[0].dst_kind, XFSM_OPND_FLOW_REG, "flow reg");
		ASSERT_EQ(e->rule.upd[0].a.kind, XFSM_OPND_FIELD, "meta.port field");
		ASSERT_EQ(e->rule.upd[0].a.index, XFSM_FW_META_PORT, "meta.port word");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_OUTPUT, "output");
		ASSERT_EQ(e->rule.act[0].opnd.kind, XFSM_OPND_FLOW_REG, "output reg");
	}
	e = entry_of(c, 0, "bcast", 0);
	if (ASSERT_TRUE(e, "bcast")) {
		const struct xfsm_tuple *t = tuple_of(c, e);

		ASSERT_EQ(t->match_mask[0], 0x0100, "group bit, high word");
		ASSERT_EQ(t->match_mask[1], 0, "low word");
		ASSERT_EQ(e->key.match[0], 0x0100, "group bit set");
		ASSERT_EQ(e->rule.act[1].type, XFSM_ACT_NONE, "flood is the only action");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_FLOOD, "flood");
	}
	compiled_free(c);

	c = compile_file("examples/statefulfw.xfsm");
	ck_assert_msg(c->ret == 0, "%s", c->err);
	st = &c->img.app.stages[0];
	ASSERT_TRUE(st->flags & XFSM_SF_SYMMETRIC, "symmetric");
	ASSERT_EQ(st->lookup_words[0], XFSM_FW_IP4_SRC, "fwd src");
	ASSERT_EQ(st->lookup_rev[0], XFSM_FW_IP4_DST, "rev dst");
	ASSERT_EQ(st->lookup_rev[2], XFSM_FW_IP_PROTO, "proto stays");
	ASSERT_EQ(st->lookup_rev[3], XFSM_FW_L4_DPORT, "rev ports");
	ASSERT_EQ(st->miss_verdict, XFSM_VERDICT_DROP, "miss drop");
	compiled_free(c);

	c = compile_file("examples/ratelimit.xfsm");
	ck_assert_msg(c->ret == 0, "%s", c->err);
	e = entry_of(c, 0, "conform", 0);
	if (ASSERT_TRUE(e, "conform")) {
		ASSERT_EQ(e->rule.upd[0].op, XFSM_UPD_MUL, "cost");
		ASSERT_EQ(e->rule.upd[0].b.value, 8000, "1Mbit: 8000 ns per byte");
		ASSERT_EQ(e->rule.upd[1].op, XFSM_UPD_MAX, "max");
		ASSERT_EQ(e->rule.upd[1].b.kind, XFSM_OPND_META, "meta.time");
		ASSERT_EQ(e->rule.upd[2].op, XFSM_UPD_ADD, "add");
		ASSERT_EQ(e->rule.upd[3].op, XFSM_UPD_SUB, "sub");
		ASSERT_EQ(e->rule.upd[3].b.value, 16384ULL * 8000, "burst time");
		ASSERT_EQ(e->rule.flags, XFSM_RF_WRITES_FLOW, "writes flow, keeps state");
	}
	ASSERT_EQ(c->img.app.stages[0].conds[0].op, XFSM_CMP_GT, "over: >");
	compiled_free(c);
	XT_END();
}
END_TEST

/* ---- constructs ------------------------------------------------------------ */

/*
 * Every table entry asks for exactly the conditions its rule names, what
 * the heap held before notwithstanding: each match form (a masked value,
 * a negated masked value, a range, a negated set lowered to comparisons)
 * next to named conditions.  glibc fills every new allocation with a
 * pattern (M_PERTURB), so that a field the compiler leaves unwritten is
 * never zero by luck: synflood's SYN rules once asked for conditions made
 * of the source text's bytes, and so never matched.
 */
START_TEST(test_entry_conditions)
{
	static const struct {
		const char *rule;
		__u32 cond_mask, conds;	/* over the stage's named c0 (bit 0) and c1 (bit 1) */
	} want[] = {
		{ "masked", 0, 0 },
		{ "masked_c", 3, 1 },
		{ "not_masked", 2, 2 },
		{ "range", 1, 0 },
		{ "plain", 0, 0 },
	};
	struct compiled *c;
	unsigned int i, k;

	ck_assert_int_eq(mallopt(M_PERTURB, 0xa5), 1);
	c = compile_str(
		"stage s {\n"
		"  key ip.src\n"
		"  register 0 r0\n"
		"  condition c0 = r0 > 5\n"
		"  condition c1 = r0 < 100\n"
		"  rule masked when tcp.flags & syn|ack == syn => drop\n"
		"  rule masked_c when c0, !c1, tcp.flags & 0x12 == 0x10 => pass\n"
		"  rule not_masked when c1, tcp.flags & syn != syn => tx\n"
		"  rule range when !c0, udp.dport == 1000-2000 => drop\n"
		"  rule plain when udp.dport != 53 => pass\n"
		"}\n");
	ck_assert_msg(c->ret == 0, "%s", c->err);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct xfsm_rule_names *rn = xfsm_lang_rule_by_name(&c->nm, 0, want[i].rule);

		xt_set_context("rule %s", want[i].rule);
		if (!ASSERT_TRUE(rn && rn->n_entries, "entries"))
			continue;
		for (k = 0; k < rn->n_entries; k++) {
			const struct xfsm_rule_entry *e = entry_of(c, 0, want[i].rule, k);
			__u32 named = tuple_of(c, e)->cond_mask & 3;

			/* a negated set may add comparisons of its own (bits 2..) */
			ASSERT_EQ(named, want[i].cond_mask, "the rule's conditions");
			ASSERT_EQ(e->key.conds & 3, want[i].conds, "their values");
			if (strcmp(want[i].rule, "plain"))
				ASSERT_EQ(tuple_of(c, e)->cond_mask & ~3U, 0, "no other condition");
		}
	}
	xt_set_context("%s", "");
	compiled_free(c);
	XT_END();
}
END_TEST

START_TEST(test_ranges_and_prefixes)
{
	struct compiled *c = compile_str(
		"stage s {\n"
		"  rule r when tcp.dport == 1000-2000 => drop\n"
		"  rule p when ip.src == 198.18.0.0/15 => pass\n"
		"  rule m when ip6.dst == 2001:2::/48 => tx\n"
		"}\n");
	const struct xfsm_rule_names *rn;
	unsigned int covered = 0;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	rn = xfsm_lang_rule_by_name(&c->nm, 0, "r");
	ck_assert_ptr_nonnull(rn);
	ASSERT_GE(rn->n_entries, 2, "range expands");
	/* every port in 1000..2000 matched by exactly one entry, none outside */
	for (__u32 port = 0; port < 65536; port++) {
		unsigned int hits = 0;

		for (unsigned int k = 0; k < rn->n_entries; k++) {
			const struct xfsm_rule_entry *e = entry_of(c, 0, "r", k);
			const struct xfsm_tuple *t = tuple_of(c, e);

			if ((port & t->match_mask[0]) == e->key.match[0])
				hits++;
		}
		if (port >= 1000 && port <= 2000) {
			if (hits == 1)
				covered++;
		} else if (!ASSERT_EQ(hits, 0, "outside the range")) {
			break;
		}
	}
	ASSERT_EQ(covered, 1001, "whole range covered once");
	{
		const struct xfsm_rule_entry *e = entry_of(c, 0, "p", 0);
		const struct xfsm_tuple *t = tuple_of(c, e);
		int w = -1;

		for (int i = 0; i < XFSM_MATCH_WORDS; i++)
			if (c->img.app.stages[0].match_words[i] == XFSM_FW_IP4_SRC)
				w = i;
		if (ASSERT_GE(w, 0, "ip.src matched")) {
			ASSERT_EQ(t->match_mask[w], 0xfffe0000, "/15 mask");
			ASSERT_EQ(e->key.match[w], 0xc6120000, "198.18.0.0");
		}
	}
	{
		const struct xfsm_rule_entry *e = entry_of(c, 0, "m", 0);
		const struct xfsm_tuple *t = tuple_of(c, e);
		int w = -1;

		for (int i = 0; i < XFSM_MATCH_WORDS; i++)
			if (c->img.app.stages[0].match_words[i] == XFSM_FW_IP6_DST)
				w = i;
		if (ASSERT_GE(w, 0, "ip6.dst matched")) {
			ASSERT_EQ(t->match_mask[w], 0xffffffff, "/48 word 0");
			ASSERT_EQ(t->match_mask[w + 1], 0xffff0000, "/48 word 1");
			ASSERT_EQ(t->match_mask[w + 2], 0, "/48 word 2");
			ASSERT_EQ(e->key.match[w], 0x20010002, "2001:2");
		}
	}
	compiled_free(c);
	XT_END();
}
END_TEST

START_TEST(test_constants_and_operands)
{
	struct compiled *c = compile_str(
		"app consts\n"
		"default drop\n"
		"define rate = 10kbit\n"
		"define win = 250ms + 1us\n"
		"global 3 budget = 1500B * 2\n"
		"global 1 = 0x10\n"
		"port uplink = 7\n"
		"stage s {\n"
		"  key ip.src, ip.dst symmetric\n"
		"  miss drop\n"
		"  state quiet = 0\n"
		"  state busy = 5\n"
		"  register 2 acc\n"
		"  condition big = meta.len >= 1KiB\n"
		"  condition hot = acc != budget\n"
		"  rule a priority 2 when state busy, big, !hot =>\n"
		"      acc = ewma(acc, meta.len, 3), budget = min(budget, rate),\n"
		"      set ip.dscp = 10, dec ttl, mark = 5, output uplink\n"
		"  rule b when tcp.flags & syn|ack == syn, eth.src == 02:00:00:00:00:01 =>\n"
		"      goto state busy idle 1s -> quiet hard 2s -> 7, set eth.dst = acc, tx\n"
		"  rule c when icmp.type == 8 => reg0 = meta.time, reg1 = global1 << 2, goto stage t\n"
		"}\n"
		"stage t { rule z => pass }\n");
	const struct xfsm_rule_entry *e;
	const struct xfsm_stage *st;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	st = &c->img.app.stages[0];
	ASSERT_EQ(c->img.app.default_verdict, XFSM_VERDICT_DROP, "default drop");
	ASSERT_EQ(c->img.globals[3], 3000, "global 3");
	ASSERT_EQ(c->img.globals[1], 16, "global 1");
	ASSERT_EQ(c->img.globals_set, (1U << 3) | (1U << 1), "globals set");
	ASSERT_TRUE(!strcmp(c->nm.globals[3], "budget"), "global named");
	ASSERT_TRUE(!strcmp(c->nm.ports[7], "uplink"), "port named");
	ASSERT_EQ(st->n_conds, 2, "conditions");
	ASSERT_EQ(st->conds[0].op, XFSM_CMP_GE, ">=");
	ASSERT_EQ(st->conds[0].b.value, 1024, "1KiB");
	ASSERT_EQ(st->conds[1].a.kind, XFSM_OPND_FLOW_REG, "alias acc");
	ASSERT_EQ(st->conds[1].a.index, 2, "reg2");
	ASSERT_EQ(st->conds[1].b.kind, XFSM_OPND_GLOBAL_REG, "alias budget");
	ASSERT_TRUE(st->flags & XFSM_SF_SYMMETRIC, "symmetric");
	e = entry_of(c, 0, "a", 0);
	if (ASSERT_TRUE(e, "rule a")) {
		ASSERT_EQ(e->key.state, 5, "busy");
		ASSERT_EQ(tuple_of(c, e)->cond_mask, 3, "two conditions");
		ASSERT_EQ(e->key.conds, 1, "big and not hot");
		ASSERT_EQ(e->rule.upd[0].op, XFSM_UPD_EWMA, "ewma");
		ASSERT_EQ(e->rule.upd[0].shift, 3, "shift");
		ASSERT_EQ(e->rule.upd[1].op, XFSM_UPD_MIN, "min");
		ASSERT_EQ(e->rule.upd[1].dst_kind, XFSM_OPND_GLOBAL_REG, "global dst");
		ASSERT_EQ(e->rule.upd[1].b.value, 10000, "10kbit");
		ASSERT_EQ(e->rule.flags, XFSM_RF_WRITES_FLOW | XFSM_RF_WRITES_GLOBAL, "flags");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_SET_DSCP, "dscp");
		ASSERT_EQ(e->rule.act[0].opnd.value, 10, "dscp 10");
		ASSERT_EQ(e->rule.act[1].type, XFSM_ACT_DEC_TTL, "dec ttl");
		ASSERT_EQ(e->rule.act[2].type, XFSM_ACT_SET_MARK, "mark");
		ASSERT_EQ(e->rule.act[3].type, XFSM_ACT_OUTPUT, "output");
		ASSERT_EQ(e->rule.act[3].opnd.value, 7, "port uplink");
	}
	e = entry_of(c, 0, "b", 0);
	if (ASSERT_TRUE(e, "rule b")) {
		ASSERT_TRUE(e->rule.priority < entry_of(c, 0, "a", 0)->rule.priority,
			    "priority 2 beats priority 0");
		ASSERT_EQ(e->rule.next_state, 5, "goto busy");
		ASSERT_EQ(e->rule.idle_timeout_ms, 1000, "idle");
		ASSERT_EQ(e->rule.hard_timeout_ms, 2000, "hard");
		ASSERT_EQ(e->rule.hard_rollback, 7, "numeric rollback");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_SET_ETH_DST, "set eth.dst");
		ASSERT_EQ(e->rule.act[0].opnd.kind, XFSM_OPND_FLOW_REG, "from register");
		ASSERT_EQ(e->rule.act[1].type, XFSM_ACT_TX, "tx");
	}
	e = entry_of(c, 0, "c", 0);
	if (ASSERT_TRUE(e, "rule c")) {
		ASSERT_EQ(e->rule.upd[0].a.kind, XFSM_OPND_META, "meta");
		ASSERT_EQ(e->rule.upd[0].a.index, XFSM_META_TIME, "meta.time");
		ASSERT_EQ(e->rule.upd[1].op, XFSM_UPD_SHL, "shl");
		ASSERT_EQ(e->rule.act[0].type, XFSM_ACT_GOTO, "goto");
		ASSERT_EQ(e->rule.act[0].arg, 1, "stage t");
	}
	compiled_free(c);
	XT_END();
}
END_TEST

/* ---- sets, negation, overlaps ---------------------------------------------------- */

/* The word of the stage's match words where field `name` starts, -1 if none. */
static int match_pos(struct compiled *c, unsigned int stage, const char *name)
{
	int f = xfsm_lang_field_find(name, strlen(name));
	unsigned int w = xfsm_lang_fields(NULL)[f].word;

	for (int i = 0; i < XFSM_MATCH_WORDS; i++)
		if (c->img.app.stages[stage].match_words[i] == w)
			return i;
	return -1;
}

/* Does comparison cd hold for value v of the field it reads? */
static bool cond_holds(const struct xfsm_cond *cd, __u64 v)
{
	__u64 b = cd->b.value;

	switch (cd->op) {
	case XFSM_CMP_LT: return v < b;
	case XFSM_CMP_LE: return v <= b;
	case XFSM_CMP_GT: return v > b;
	case XFSM_CMP_GE: return v >= b;
	case XFSM_CMP_EQ: return v == b;
	case XFSM_CMP_NE: return v != b;
	}
	return false;
}

/*
 * Does entry e take one-word value v of the field at match word pos (-1:
 * the field is in no match word), the stage's conditions evaluated as
 * the datapath does?  Every condition the entry's tuple looks at must be
 * a comparison of that field with a constant.
 */
static bool entry_takes(struct compiled *c, const struct xfsm_rule_entry *e, int pos, __u32 v)
{
	const struct xfsm_tuple *t = tuple_of(c, e);
	const struct xfsm_stage *st = &c->img.app.stages[e->key.stage];

	if (pos >= 0 && (v & t->match_mask[pos]) != e->key.match[pos])
		return false;
	for (unsigned int i = 0; i < st->n_conds; i++) {
		if (!(t->cond_mask & (1U << i)))
			continue;
		ck_assert_int_eq(st->conds[i].a.kind, XFSM_OPND_FIELD);
		ck_assert_int_eq(st->conds[i].b.kind, XFSM_OPND_CONST);
		if (cond_holds(&st->conds[i], v) != !!(e->key.conds & (1U << i)))
			return false;
	}
	return true;
}

/* Does one of the rule's entries take one-word value v at match word pos? */
static bool rule_takes(struct compiled *c, unsigned int stage, const char *rule, int pos, __u32 v)
{
	const struct xfsm_rule_names *rn = xfsm_lang_rule_by_name(&c->nm, stage, rule);

	for (unsigned int k = 0; rn && k < rn->n_entries; k++) {
		const struct xfsm_rule_entry *e = entry_of(c, stage, rule, k);

		if (e && entry_takes(c, e, pos, v))
			return true;
	}
	return false;
}

/* The rule the datapath's tuple search picks for one-word value v at
 * match word pos (entries matching nothing else): the highest priority. */
static const char *winner(struct compiled *c, unsigned int stage, int pos, __u32 v)
{
	const struct xfsm_rule_entry *best = NULL;

	for (size_t i = 0; i < c->img.n_rules; i++) {
		const struct xfsm_rule_entry *e = &c->img.rules[i];

		if (e->key.stage != stage || !entry_takes(c, e, pos, v))
			continue;
		if (!best || e->rule.priority > best->rule.priority)
			best = e;
	}
	if (!best)
		return "(miss)";
	return xfsm_lang_rule_by_id(&c->nm, best->rule.rule_id)->name;
}

/* `in {...}`, `!=`, `not in`, and masked values negated: each rule takes
 * exactly the values written, every value of the field tried. */
START_TEST(test_sets_and_negation)
{
	struct compiled *c = compile_str(
		"port be1 = 1\nport be2 = 2\nport be3 = 3\n"
		"stage s {\n"
		"  rule dns when udp.dport in {53, 80, 1000-2000} => drop\n"
		"}\n"
		"stage t {\n"
		"  rule not22 when tcp.dport != 22 => drop\n"
		"}\n"
		"stage u {\n"
		"  rule notset when udp.sport not in {0-1023, 5353, 65535} => drop\n"
		"}\n"
		"stage v {\n"
		"  rule syn_only when tcp.flags & syn|ack != syn => drop\n"
		"}\n"
		"stage w {\n"
		"  rule be when meta.port in {be1, be3} => drop\n"
		"}\n"
		"stage x {\n"
		"  rule nets when ip.src in {198.18.0.0/16, 198.19.1.1,\n"
		"                           198.19.2.0 - 198.19.2.9} => drop\n"
		"  rule others when ip.dst != {198.18.0.0/15} => pass\n"
		"}\n");
	int pos;

	if (!ASSERT_OK(c->ret, c->err))
		goto out;
	ASSERT_EQ(c->nm.n_warnings, 0, "no warnings");
	pos = match_pos(c, 0, "udp.dport");
	for (__u32 v = 0; v < 65536; v++)
		if (!ASSERT_EQ(rule_takes(c, 0, "dns", pos, v),
			       v == 53 || v == 80 || (v >= 1000 && v <= 2000), "udp.dport in set"))
			break;
	pos = match_pos(c, 1, "tcp.dport");
	for (__u32 v = 0; v < 65536; v++)
		if (!ASSERT_EQ(rule_takes(c, 1, "not22", pos, v), v != 22, "tcp.dport != 22"))
			break;
	/* a negated value is one comparison, not its complement's 16 prefixes */
	ASSERT_EQ(xfsm_lang_rule_by_name(&c->nm, 1, "not22")->n_entries, 1, "!= 22: one entry");
	ASSERT_EQ(c->img.app.stages[1].n_tuples, 1, "!= 22: one tuple");
	pos = match_pos(c, 2, "udp.sport");
	for (__u32 v = 0; v < 65536; v++)
		if (!ASSERT_EQ(rule_takes(c, 2, "notset", pos, v),
			       v >= 1024 && v != 5353 && v != 65535, "not in set"))
			break;
	ASSERT_EQ(xfsm_lang_rule_by_name(&c->nm, 2, "notset")->n_entries, 2, "one entry a gap");
	pos = match_pos(c, 3, "tcp.flags");
	for (__u32 v = 0; v < 256; v++)
		if (!ASSERT_EQ(rule_takes(c, 3, "syn_only", pos, v), (v & 0x12) != 0x02,
			       "masked value negated"))
			break;
	pos = match_pos(c, 4, "meta.port");
	for (__u32 v = 0; v < 256; v++)
		if (!ASSERT_EQ(rule_takes(c, 4, "be", pos, v), v == 1 || v == 3, "port names"))
			break;
	ASSERT_TRUE(c->img.app.flags & XFSM_AF_NEEDS_PORT, "a set of ports reads meta.port");
	pos = match_pos(c, 5, "ip.src");
	{
		static const struct { __u32 a; bool in; } ips[] = {
			{ 0xc6120000, true }, { 0xc612ffff, true }, { 0xc6130000, false },
			{ 0xc6130101, true }, { 0xc6130102, false }, { 0xc6130200, true },
			{ 0xc6130209, true }, { 0xc613020a, false }, { 0xc611ffff, false },
		};

		for (size_t i = 0; i < ARRAY_SIZE(ips); i++)
			ASSERT_EQ(rule_takes(c, 5, "nets", pos, ips[i].a), ips[i].in, "ip.src in set");
	}
	pos = match_pos(c, 5, "ip.dst");
	ASSERT_FALSE(rule_takes(c, 5, "others", pos, 0xc6130001), "inside the negated prefix");
	ASSERT_TRUE(rule_takes(c, 5, "others", pos, 0xc6140000), "above it");
	ASSERT_TRUE(rule_takes(c, 5, "others", pos, 0xc611ffff), "below it");
out:
	compiled_free(c);
	XT_END();
}
END_TEST

/*
 * Overlapping rules are resolved by priority (issue: a port inside a
 * range, an address inside a prefix): the winner takes each table entry,
 * the entry it shadows is dropped, and only a rule that can never match
 * is warned about.
 */
START_TEST(test_overlap_priority)
{
	struct compiled *c = compile_str(
		"stage s {\n"
		"  rule allow_2000 when tcp.dport == 2000 => pass\n"
		"  rule deny_range when tcp.dport == 1000-2000 => drop\n"
		"}\n"
		"stage t {\n"
		"  rule host when ip.src == 198.18.0.5 => pass\n"
		"  rule net when ip.src == 198.18.0.0/24 => drop\n"
		"}\n");
	struct compiled *alone = compile_str(
		"stage s {\n  rule deny_range when tcp.dport == 1000-2000 => drop\n}\n");
	struct compiled *rev = NULL;
	int pos;

	if (!ASSERT_OK(c->ret, c->err) || !ASSERT_OK(alone->ret, alone->err))
		goto out;
	ASSERT_EQ(c->nm.n_warnings, 0, "both rules match something: no warning");
	pos = match_pos(c, 0, "tcp.dport");
	for (__u32 v = 900; v < 2100; v++) {
		const char *w = winner(c, 0, pos, v);
		const char *want = v == 2000 ? "allow_2000" :
				   (v >= 1000 && v <= 2000) ? "deny_range" : "(miss)";

		if (!ASSERT_TRUE(!strcmp(w, want), want))
			break;
	}
	/* 2000 is a prefix of its own in 1000-2000: dropped, not duplicated */
	ASSERT_EQ(xfsm_lang_rule_by_name(&c->nm, 0, "deny_range")->n_entries,
		  xfsm_lang_rule_by_name(&alone->nm, 0, "deny_range")->n_entries - 1,
		  "the shadowed entry is dropped");
	pos = match_pos(c, 1, "ip.src");
	ASSERT_TRUE(!strcmp(winner(c, 1, pos, 0xc6120005), "host"), "host inside the prefix");
	ASSERT_TRUE(!strcmp(winner(c, 1, pos, 0xc6120006), "net"), "rest of the prefix");

	/* by priority, the range wins 2000 too: allow_2000 can never match */
	rev = compile_str(
		"stage s {\n"
		"  rule allow_2000 when tcp.dport == 2000 => pass\n"
		"  rule deny_range priority 1 when tcp.dport == 1000-2000 => drop\n"
		"}\n");
	if (ASSERT_OK(rev->ret, rev->err)) {
		pos = match_pos(rev, 0, "tcp.dport");
		ASSERT_TRUE(!strcmp(winner(rev, 0, pos, 2000), "deny_range"), "priority wins");
		ASSERT_EQ(xfsm_lang_rule_by_name(&rev->nm, 0, "allow_2000")->n_entries, 0,
			  "its entry dropped");
		if (ASSERT_EQ(rev->nm.n_warnings, 1, "one warning"))
			ASSERT_TRUE(!strcmp(rev->nm.warnings[0],
					    "t.xfsm:2:8: warning: rule 'allow_2000' never matches: 'deny_range' matches everything it matches first (higher priority or earlier in the file)"),
				    rev->nm.warnings[0]);
	}
out:
	compiled_free(c);
	compiled_free(alone);
	compiled_free(rev);
	XT_END();
}
END_TEST

/* The overlap of the issue in the datapath: 2000 passes, the rest of the
 * range drops, a set matches each of its values only. */
START_TEST(test_dp_overlap_and_sets)
{
	struct compiled *c = compile_str(
		"stage s {\n"
		"  rule allow_2000 when tcp.dport == 2000 => pass\n"
		"  rule deny_range when tcp.dport == 1000-2000 => drop\n"
		"  rule dns when udp.dport in {53, 80} => drop\n"
		"  rule not_ssh when tcp.dport != 22, tcp.flags & syn|ack == syn => tx\n"
		"}\n");
	struct xt t;

	if (!open_dp(&t, c))
		goto out;
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 2000, 0x10), XDP_PASS, "2000: the exception");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 1999, 0x10), XDP_DROP, "1999: the range");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 1000, 0x10), XDP_DROP, "1000: the range");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 2001, 0x10), XDP_PASS, "2001: outside");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 53, 0), XDP_DROP, "53 in the set");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 80, 0), XDP_DROP, "80 in the set");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 117, 0), XDP_PASS, "117 = 53|80 is not");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 23, 0x02), XDP_TX, "SYN to 23");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 22, 0x02), XDP_PASS, "SYN to 22");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 23, 0x12), XDP_PASS, "SYN-ACK to 23");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/*
 * `table full drop|pass|continue`: with a flow table of two entries (a
 * plain hash, which refuses a third), a third source's first packet is
 * dropped, passed, or runs its rule without a flow (the fresh-state rule
 * again and again: a limiter failing open), and the stage counts it.
 */
START_TEST(test_dp_table_full)
{
	static const char *const actions[] = { "drop", "pass", "continue", NULL };
	static const __u32 want[] = { XDP_DROP, XDP_PASS, XDP_TX, XDP_TX };

	for (int a = 0; a < 4; a++) {
		char src[512];
		struct compiled *c;
		struct xfsm_stage_stats ss;
		struct xt t = { 0 };
		int err;

		xt_set_context("table full %s", actions[a] ? actions[a] : "(default)");
		snprintf(src, sizeof(src),
			 "stage limit {\n"
			 "  key ip.src\n"
			 "  %s%s\n"
			 "  states fresh, seen\n"
			 "  rule first when state fresh => goto state seen, reg0 = 1, tx\n"
			 "  rule again when state seen => reg0 = reg0 + 1, drop\n"
			 "}\n", actions[a] ? "table full " : "", actions[a] ? actions[a] : "");
		c = compile_str(src);
		if (!ASSERT_OK(c->ret, c->err)) {
			compiled_free(c);
			continue;
		}
		ASSERT_EQ(c->img.app.stages[0].full_action,
			  a == 0 ? XFSM_FULL_DROP : a == 1 ? XFSM_FULL_PASS : XFSM_FULL_CONTINUE,
			  "compiled");
		if (a == 0) {	/* an image with an action out of range is refused */
			c->img.app.stages[0].full_action = XFSM_FULL__MAX;
			ASSERT_EQ(xfsm_image_validate(&c->img, 0, 0, 0), -EINVAL, "validated");
			c->img.app.stages[0].full_action = XFSM_FULL_DROP;
		}
		err = xt_open(&t, &(struct xt_opts){ .profile = XT_NATIVE, .flows_max = 2,
						     .flows_type = BPF_MAP_TYPE_HASH });
		if (err) {
			compiled_free(c);
			ck_abort_msg("cannot load the datapath: %s", strerror(-err));
		}
		if (ASSERT_OK(xt_apply(&t, &c->img), "apply")) {
			/* two sources fill the table; their second packets are known */
			ASSERT_EQ(run_spec(&t, PS_UDP, 5, 53, 0), XDP_TX, "source 5, first");
			ASSERT_EQ(run_spec(&t, PS_UDP, 6, 53, 0), XDP_TX, "source 6, first");
			ASSERT_EQ(run_spec(&t, PS_UDP, 5, 53, 0), XDP_DROP, "source 5 seen");
			/* a third source finds the table full, twice */
			ASSERT_EQ(run_spec(&t, PS_UDP, 7, 53, 0), want[a], "source 7, table full");
			ASSERT_EQ(run_spec(&t, PS_UDP, 7, 53, 0), want[a], "source 7 again");
			ASSERT_EQ(run_spec(&t, PS_UDP, 6, 53, 0), XDP_DROP, "source 6 seen");
			if (ASSERT_OK(xfsm_read_stage_stats(t.inst, 0, &ss), "stage stats"))
				ASSERT_EQ(ss.table_full, 2, "counted");
		}
		xt_close(&t);
		compiled_free(c);
	}
	XT_END();
}
END_TEST

/*
 * An application may only send to the instance's ports:
 * xfsm_lang_check_ports() names where the first use of the first missing
 * port is written (`output N`, a port name, a group member); the ports
 * the running application already sends to are not judged again.
 */
START_TEST(test_check_ports)
{
	static const char src[] =
		"app p\n"
		"port up = 2\n"
		"stage s {\n"
		"\tkey ip.src\n"
		"\trule a when tcp.dport == 1 => output up\n"
		"\trule b when tcp.dport == 2 => output 3\n"
		"\trule c => output 2\n"
		"}\n"
		"group g = 1 rr 2, 4\n";
	struct compiled *c = compile_str(src);
	struct xt t;
	char msg[600];
	int err;

	ck_assert_msg(!c->ret, "%s", c->err);
	err = xt_open(&t, &(struct xt_opts){ .profile = XT_NATIVE });
	if (err) {
		compiled_free(c);
		ck_abort_msg("cannot load the datapath: %s", strerror(-err));
	}
	ASSERT_EQ(xfsm_lang_check_ports(t.inst, &c->nm, NULL, msg, sizeof(msg)), -ENOENT,
		  "no port");
	ASSERT_TRUE(!strncmp(msg, "t.xfsm:5:39: error: port 2 does not exist in instance", strlen("t.xfsm:5:36: error: port 2 does not exist in instance")), "port 2");
	ASSERT_OK(xt_set_port(&t, 1002, 2), "port 2");
	ASSERT_EQ(xfsm_lang_check_ports(t.inst, &c->nm, NULL, msg, sizeof(msg)), -ENOENT,
		  "port 2 only");
	ASSERT_TRUE(!strncmp(msg, "t.xfsm:6:39: error: port 3 does not exist", strlen("t.xfsm:6:36: error: port 3 does not exist")), "port 3");
	ASSERT_OK(xt_set_port(&t, 1003, 3), "port 3");
	ASSERT_EQ(xfsm_lang_check_ports(t.inst, &c->nm, NULL, msg, sizeof(msg)), -ENOENT,
		  "ports 2, 3");
	ASSERT_TRUE(!strncmp(msg, "t.xfsm:9:19: error: port 4 does not exist", strlen("t.xfsm:9:19: error: port 4 does not exist")), "group member 4");
	ASSERT_TRUE(strstr(msg, "its ports: 2, 3;") != NULL, "the ports listed");
	/* what already runs is not judged again */
	ASSERT_OK(xfsm_lang_check_ports(t.inst, &c->nm, &c->nm, msg, sizeof(msg)), "running");
	ASSERT_OK(xt_set_port(&t, 1004, 4), "port 4");
	ASSERT_OK(xfsm_lang_check_ports(t.inst, &c->nm, NULL, msg, sizeof(msg)), "all ports");
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

static char port_log[1024];

static void port_log_capture(enum xfsm_log_level lvl, const char *msg)
{
	if (lvl == XFSM_LOG_ERROR && !port_log[0])
		snprintf(port_log, sizeof(port_log), "%s", msg);
}

/* The running application as tables, its generation and slot: what a
 * refused switch must leave as it was. */
struct running_tables {
	struct xfsm_image img;
	struct xfsm_ctl ctl;
	struct xfsm_group g1;
};

static bool running_read(struct xt *t, struct running_tables *r)
{
	return ASSERT_OK(xfsm_read_app(t->inst, &r->img), "read app") &&
	       ASSERT_OK(xfsm_ctl_get(t->inst, &r->ctl), "ctl") &&
	       ASSERT_OK(xfsm_group_read(t->inst, 1, &r->g1), "group 1");
}

static bool running_same_as(struct xt *t, const struct running_tables *was)
{
	struct running_tables now;
	bool same;

	if (!running_read(t, &now))
		return false;
	same = ASSERT_EQ(now.ctl.generation, was->ctl.generation, "generation kept") &&
	       ASSERT_EQ(now.ctl.active, was->ctl.active, "slot kept") &&
	       ASSERT_EQ(now.img.n_rules, was->img.n_rules, "rules kept") &&
	       ASSERT_TRUE(!memcmp(now.img.rules, was->img.rules,
				   was->img.n_rules * sizeof(was->img.rules[0])), "rules equal") &&
	       ASSERT_TRUE(!memcmp(&now.g1, &was->g1, sizeof(now.g1)), "group 1 kept");
	xfsm_image_free(&now.img);
	return same;
}

/*
 * Every switch refuses to send to a port the instance lacks, whatever
 * entry point a program installs through (xfsm_lang_apply(), xfsm_apply(),
 * xfsm_group_write()): -ENOENT with the message naming where the source
 * first sends to it, and the running application, its tables and groups
 * as they were.  Ports the running application sends to already are not
 * judged again; xfsm_apply_opts.unchecked_ports lets an offline user
 * through; rules_only leaves the declared groups out.
 */
START_TEST(test_apply_checks_ports)
{
	static const char good[] =
		"app p\n"
		"stage s {\n"
		"\tkey ip.src\n"
		"\trule a when tcp.dport == 1 => output 2\n"
		"}\n";
	static const char bad[] =
		"app p\n"
		"stage s {\n"
		"\tkey ip.src\n"
		"\trule a when tcp.dport == 1 => output 2\n"
		"\trule b when tcp.dport == 2 => output 3\n"
		"}\n"
		"group g = 1 rr 2\n";
	static const char bad_group[] =
		"app p\n"
		"group g = 1 rr 2, 4\n"
		"stage s {\n"
		"\tkey ip.src\n"
		"\trule a when tcp.dport == 1 => output group g\n"
		"}\n";
	static const char again[] =
		"app p\n"
		"stage s {\n"
		"\tkey ip.src\n"
		"\trule a when tcp.dport == 1 => output 2\n"
		"\trule c when tcp.dport == 3 => drop\n"
		"}\n";
	struct compiled *g = compile_str(good), *b = compile_str(bad);
	struct compiled *bg = compile_str(bad_group), *ag = compile_str(again);
	XFSM_OPTS(xfsm_apply_opts, unchecked, .unchecked_ports = true);
	XFSM_OPTS(xfsm_apply_opts, rules_only, .rules_only = true, .unchecked_ports = true);
	struct running_tables was = { 0 };
	struct xfsm_group grp;
	__u32 ifi = 1002;
	struct xt t;
	int err;

	ck_assert_msg(!g->ret && !b->ret && !bg->ret && !ag->ret, "%s%s%s%s", g->err, b->err,
		      bg->err, ag->err);
	err = xt_open(&t, &(struct xt_opts){ .profile = XT_NATIVE });
	if (err)
		ck_abort_msg("cannot load the datapath: %s", strerror(-err));
	xfsm_set_log(port_log_capture);
	/* no port 2 yet: the first application is refused too */
	port_log[0] = 0;
	ASSERT_EQ(xfsm_lang_apply(t.inst, &g->img, &g->nm, NULL), -ENOENT, "no port 2");
	ASSERT_TRUE(!strncmp(port_log, "t.xfsm:4:39: error: port 2 does not exist in instance",
			     strlen("t.xfsm:4:39: error: port 2 does not exist in instance")),
		    port_log);
	if (!ASSERT_OK(xt_set_port(&t, ifi, 2), "port 2") ||
	    !ASSERT_OK(xfsm_lang_apply(t.inst, &g->img, &g->nm, NULL), "output 2 applied") ||
	    !running_read(&t, &was))
		goto out;

	/* a rule to port 3: refused with where it is written, nothing written */
	port_log[0] = 0;
	ASSERT_EQ(xfsm_lang_apply(t.inst, &b->img, &b->nm, NULL), -ENOENT, "lang: port 3");
	ASSERT_TRUE(!strncmp(port_log, "t.xfsm:5:39: error: port 3 does not exist in instance",
			     strlen("t.xfsm:5:39: error: port 3 does not exist in instance")),
		    port_log);
	ASSERT_TRUE(strstr(port_log, "its ports: 2;") != NULL, "its ports listed");
	running_same_as(&t, &was);
	/* the image alone: the same refusal, no source to name */
	port_log[0] = 0;
	ASSERT_EQ(xfsm_apply(t.inst, &b->img, NULL), -ENOENT, "image: port 3");
	ASSERT_TRUE(!strncmp(port_log, "port 3 does not exist in instance", 33), port_log);
	running_same_as(&t, &was);
	/* a group member */
	port_log[0] = 0;
	ASSERT_EQ(xfsm_lang_apply(t.inst, &bg->img, &bg->nm, NULL), -ENOENT, "lang: member 4");
	ASSERT_TRUE(!strncmp(port_log, "t.xfsm:2:19: error: port 4 does not exist",
			     strlen("t.xfsm:2:19: error: port 4 does not exist")), port_log);
	running_same_as(&t, &was);
	ASSERT_OK(xfsm_group_build(&grp, XFSM_GP_RR_PACKET, (const __u16[]){ 2, 5 }, NULL, 2),
		  "group built");
	port_log[0] = 0;
	ASSERT_EQ(xfsm_group_write(t.inst, 1, &grp), -ENOENT, "group write: member 5");
	ASSERT_TRUE(!strncmp(port_log, "port 5 does not exist in instance", 33), port_log);
	running_same_as(&t, &was);
	grp.members[1] = 0;	/* "no port", in a group built by hand */
	ASSERT_EQ(xfsm_group_write(t.inst, 1, &grp), -EINVAL, "group write: member port 0");
	running_same_as(&t, &was);

	/* port 2 goes away: a change that still sends to it is not refused
	 * for it (the running application does), one that adds port 3 is */
	ASSERT_OK(bpf_map_delete_elem(t.inst->map_fd[XFSM_M_PORTS], &ifi), "port 2 gone");
	ASSERT_OK(xfsm_lang_apply(t.inst, &ag->img, &ag->nm, NULL), "still output 2: applied");
	ASSERT_EQ(xfsm_lang_apply(t.inst, &b->img, &b->nm, NULL), -ENOENT, "port 3 still refused");

	/* an offline use says so: no check */
	ASSERT_OK(xfsm_lang_apply(t.inst, &b->img, &b->nm, &unchecked), "unchecked_ports");
	ASSERT_OK(xfsm_group_read(t.inst, 1, &grp), "group 1");
	ASSERT_EQ(grp.n_members, 1, "declared group installed");
	/* rules_only: stages and rules, not the declared groups */
	ASSERT_OK(xfsm_group_delete(t.inst, 1), "group 1 deleted");
	ASSERT_OK(xfsm_lang_apply(t.inst, &b->img, &b->nm, &rules_only), "rules_only");
	ASSERT_OK(xfsm_group_read(t.inst, 1, &grp), "group 1 read");
	ASSERT_EQ(grp.generation, 0, "rules_only: the declared group not installed");
out:
	xfsm_set_log(NULL);
	xfsm_image_free(&was.img);
	xt_close(&t);
	compiled_free(g);
	compiled_free(b);
	compiled_free(bg);
	compiled_free(ag);
	XT_END();
}
END_TEST

/* ---- numbers, nesting, states, ACL blocks ------------------------------------- */

/* Constant arithmetic is exact in 128 bits or refused; literals are
 * decimal unless a base is written. */
START_TEST(test_number_semantics)
{
	static const struct {
		const char *def;
		unsigned long long want;	/* global 0's value, or 0 with err */
		const char *err;		/* substring of the error */
	} cases[] = {
		{ "022", 22, NULL },
		{ "0o26", 22, NULL },
		{ "0b10110", 22, NULL },
		{ "0x8000000000000000 * 2 - 1", 0xffffffffffffffffULL, NULL },
		{ "0xffffffffffffffff * 0xffffffffffffffff / 0xffffffffffffffff", 0xffffffffffffffffULL, NULL },
		{ "(1 << 127) >> 100", 1ULL << 27, NULL },
		{ "1h / 1ms", 3600000, NULL },
		{ "1.5s", 1500000000ULL, NULL },
		{ "0x8000000000000000 * 0x8000000000000000 * 4 + 5", 0, "overflows" },
		{ "(1 << 127) + (1 << 127)", 0, "overflows" },
		{ "3 << 127", 0, "overflows" },
		{ "1 << 128", 0, "overflows" },
		{ "5124096h", 0, "does not fit in 64 bits" },
		{ "0x10000000000000000", 0, "does not fit in 64 bits" },
		{ "1 - 2", 0, "negative" },
		{ "0x8000000000000000 * 2", 0, "global value 18446744073709551616 is out of range" },
	};
	char text[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compiled *c;

		snprintf(text, sizeof(text), "global 0 = %s\nstage s { rule r => pass }\n",
			 cases[i].def);
		c = compile_str(text);
		xt_set_context("%s", cases[i].def);
		if (cases[i].err) {
			ASSERT_EQ(c->ret, -EINVAL, "refused");
			ASSERT_TRUE(strstr(c->err, cases[i].err) != NULL, c->err);
			ASSERT_TRUE(!strncmp(c->err, "t.xfsm:1:", 9), c->err);
		} else if (ASSERT_OK(c->ret, c->err)) {
			ASSERT_EQ(c->img.globals[0], cases[i].want, "value");
		}
		compiled_free(c);
	}
	/* a timeout that wrapped modulo 2^128 used to come out as minutes */
	{
		struct compiled *c = compile_str(
			"stage s {\n key ip.src\n states a, b\n"
			" rule r when state a => goto state b hard 94522879700260684295381836h\n}\n");

		ASSERT_EQ(c->ret, -EINVAL, "huge timeout refused");
		compiled_free(c);
		c = compile_str("define t = 0xffffffffffffffff * 1000000000000000000\n"
				"stage s {\n key ip.src\n states a, b\n"
				" rule r when state a => goto state b hard t * 1s\n}\n");
		ASSERT_EQ(c->ret, -EINVAL, "huge timeout expression refused");
		ASSERT_TRUE(strstr(c->err, "overflows") || strstr(c->err, "longer than"), c->err);
		compiled_free(c);
	}
	XT_END();
}
END_TEST

/* Parentheses nest up to a bound, and deep input is an error, not a crash. */
START_TEST(test_nesting_bound)
{
	size_t depth = 200000, len = 3 * depth + 200;
	char *text = malloc(len);
	struct compiled *c;
	size_t o;

	ck_assert_ptr_nonnull(text);
	o = (size_t)snprintf(text, len, "define x = ");
	memset(text + o, '(', depth);
	o += depth;
	text[o++] = '1';
	memset(text + o, ')', depth);
	o += depth;
	snprintf(text + o, len - o, "\nstage s { rule r => pass }\n");
	c = compile_str(text);
	ASSERT_EQ(c->ret, -EINVAL, "refused");
	ASSERT_TRUE(strstr(c->err, "t.xfsm:1:") && strstr(c->err, "nested more than 64 levels"),
		    c->err);
	compiled_free(c);
	/* 63 levels inside the top-level expression are fine */
	o = (size_t)snprintf(text, len, "define x = ");
	memset(text + o, '(', 63);
	o += 63;
	text[o++] = '7';
	memset(text + o, ')', 63);
	o += 63;
	snprintf(text + o, len - o, "\nglobal 0 = x\nstage s { rule r => pass }\n");
	c = compile_str(text);
	if (ASSERT_OK(c->ret, c->err))
		ASSERT_EQ(c->img.globals[0], 7, "value");
	compiled_free(c);
	/* calls nest too */
	o = (size_t)snprintf(text, len, "stage s {\n key ip.src\n rule r => reg0 = ");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(text + o, len - o, "min(");
	o += (size_t)snprintf(text + o, len - o, "1");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(text + o, len - o, ", 2)");
	snprintf(text + o, len - o, "\n}\n");
	c = compile_str(text);
	ASSERT_EQ(c->ret, -EINVAL, "deep calls refused");
	ASSERT_TRUE(strstr(c->err, "nested more than 64 levels") != NULL, c->err);
	compiled_free(c);
	free(text);
	XT_END();
}
END_TEST

/* Numbered states are 32-bit: 256 and above are states like any other. */
START_TEST(test_high_states)
{
	struct compiled *c = compile_str(
		"stage s {\n"
		" key ip.src\n"
		" rule in when state 0, tcp.dport == 1 => goto state 300 idle 1s -> 70000\n"
		" rule mid when state 300 => goto state 4294967295\n"
		" rule up when state 4294967295 => drop\n"
		" rule rb when state 70000 => pass\n"
		"}\n");
	const struct xfsm_rule_entry *e;

	if (ASSERT_OK(c->ret, c->err)) {
		e = entry_of(c, 0, "mid", 0);
		if (ASSERT_TRUE(e, "rule mid")) {
			ASSERT_EQ(e->key.state, 300, "matches 300");
			ASSERT_EQ(e->rule.next_state, 4294967295U, "enters 2^32-1");
		}
		e = entry_of(c, 0, "in", 0);
		if (ASSERT_TRUE(e, "rule in"))
			ASSERT_EQ(e->rule.idle_rollback, 70000, "rollback 70000");
	}
	compiled_free(c);
	c = compile_str("stage s {\n key ip.src\n rule r when state 256 => pass\n"
			" rule q => goto state 257\n}\n");
	ASSERT_EQ(c->ret, -EINVAL, "256 never entered");
	ASSERT_TRUE(!strcmp(c->err, "t.xfsm:3:20: error: state '256' is matched but never entered: no rule of stage 's' moves a flow into it and it is neither initial nor a rollback state"),
		    c->err);
	compiled_free(c);
	XT_END();
}
END_TEST

/* Comments and continuations work inside ACL blocks as everywhere, and an
 * ACL rule may be as long as it likes: nothing is cut. */
START_TEST(test_acl_block_text)
{
	struct compiled *c = compile_str(
		"acl front {\n"
		"\t# a comment line\n"
		"\trule prio 3 proto udp dport 7001 => deny   # trailing comment\n"
		"\trule prio 2 proto udp \\\n"
		"\t     dport 7002 => allow mark 5\n"
		"\trule prio 1 src 198.18.0.0/15,   # a comment after a comma\n"
		"\t     dport 022 => pass\n"
		"}\n"
		"stage s { rule r => pass }\n");
	size_t pad = 1000, len = pad + 400;	/* a 1023-byte cut fell in "s_later" */
	char *text;
	size_t o;

	if (ASSERT_OK(c->ret, c->err) && ASSERT_EQ(c->nm.acl[0].n, 3, "three rules")) {
		ASSERT_EQ(c->nm.acl[0].r[0].action, XFSM_ACL_DENY, "deny");
		ASSERT_EQ(c->nm.acl[0].r[0].dport_lo, 7001, "7001");
		ASSERT_EQ(c->nm.acl[0].r[1].dport_lo, 7002, "continued line");
		ASSERT_EQ(c->nm.acl[0].r[1].mark, 5, "mark after the continuation");
		ASSERT_EQ(c->nm.acl[0].r[2].src_len, 15, "prefix kept whole");
		ASSERT_EQ(c->nm.acl[0].r[2].dport_lo, 22, "dport 022 is 22, not octal 18");
	}
	compiled_free(c);

	/* a rule longer than any buffer: the goto target keeps its name */
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	o = (size_t)snprintf(text, len, "acl front {\n\trule prio 7");
	memset(text + o, ' ', pad);
	o += pad;
	snprintf(text + o, len - o, "dport 9 => goto s_later mark 1234567\n}\n"
		 "stage s { rule r => pass }\nstage s_later { rule q => drop }\n");
	c = compile_str(text);
	if (ASSERT_OK(c->ret, c->err) && ASSERT_EQ(c->nm.acl[0].n, 1, "one rule")) {
		ASSERT_EQ(c->nm.acl[0].r[0].arg, 2, "goto s_later, not s");
		ASSERT_EQ(c->nm.acl[0].r[0].mark, 1234567, "mark whole");
	}
	compiled_free(c);
	free(text);
	XT_END();
}
END_TEST

/* ---- malformed corpus --------------------------------------------------------- */

START_TEST(test_bad_corpus)
{
	char dirpath[700];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	d = opendir(src_path("selftests/lang", dirpath, sizeof(dirpath)));
	ck_assert_msg(d, "cannot open %s", dirpath);
	while ((de = readdir(d))) {
		char path[1400], line[600], want[1600];
		struct xfsm_image img;
		char err[600];
		size_t l;
		FILE *f;
		int ret;

		l = strlen(de->d_name);
		if (strncmp(de->d_name, "bad_", 4) || l < 6 || strcmp(de->d_name + l - 5, ".xfsm"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		xt_set_context("%s", de->d_name);
		f = fopen(path, "r");
		if (!ASSERT_TRUE(f, "open"))
			continue;
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		line[strcspn(line, "\n")] = 0;
		if (!ASSERT_TRUE(!strncmp(line, "# expect: ", 10), "expect line"))
			continue;
		{
			/* "L:C: message" -> "PATH:L:C: error: message" */
			const char *msg = strchr(strchr(line + 10, ':') + 1, ':');

			snprintf(want, sizeof(want), "%s:%.*s: error:%s", path,
				 (int)(msg - (line + 10)), line + 10, msg + 1);
		}
		ret = xfsm_compile_file(path, &img, NULL, err, sizeof(err));
		ASSERT_EQ(ret, -EINVAL, "fails");
		ASSERT_EQ(img.n_rules, 0, "image left empty");
		xt_check(!strcmp(err, want), __FILE__, __LINE__,
			 "error message\n   got: %s\n  want: %s", err, want);
		xfsm_image_free(&img);
		n++;
	}
	closedir(d);
	ASSERT_GE(n, 30, "corpus size");
	XT_END();
}
END_TEST

/*
 * The warning corpus: selftests/lang/warn_*.xfsm compile, and their warnings
 * are exactly the "# warn: LINE:COL: MESSAGE" lines they start with, in
 * that order.
 */
START_TEST(test_warn_corpus)
{
	char dirpath[700];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	d = opendir(src_path("selftests/lang", dirpath, sizeof(dirpath)));
	ck_assert_msg(d, "cannot open %s", dirpath);
	while ((de = readdir(d))) {
		char path[1400], line[600], want[16][1600];
		unsigned int nwant = 0;
		struct compiled *c;
		size_t l;
		FILE *f;

		l = strlen(de->d_name);
		if (strncmp(de->d_name, "warn_", 5) || l < 7 || strcmp(de->d_name + l - 5, ".xfsm"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		xt_set_context("%s", de->d_name);
		f = fopen(path, "r");
		if (!ASSERT_TRUE(f, "open"))
			continue;
		while (nwant < 16 && fgets(line, sizeof(line), f) && !strncmp(line, "# warn: ", 8)) {
			/* "L:C: message" -> "PATH:L:C: warning: message" */
			const char *msg;

			line[strcspn(line, "\n")] = 0;
			msg = strchr(strchr(line + 8, ':') + 1, ':');
			snprintf(want[nwant++], sizeof(want[0]), "%s:%.*s: warning:%s", path,
				 (int)(msg - (line + 8)), line + 8, msg + 1);
		}
		fclose(f);
		ASSERT_GE(nwant, 1, "at least one '# warn:' line");
		c = calloc(1, sizeof(*c));
		ck_assert_ptr_nonnull(c);
		c->ret = xfsm_compile_file(path, &c->img, &c->nm, c->err, sizeof(c->err));
		if (ASSERT_OK(c->ret, c->err)) {
			ASSERT_EQ(c->nm.n_warnings, nwant, "number of warnings");
			for (unsigned int i = 0; i < nwant && i < c->nm.n_warnings; i++)
				xt_check(!strcmp(c->nm.warnings[i], want[i]), __FILE__, __LINE__,
					 "warning %u\n   got: %s\n  want: %s", i, c->nm.warnings[i],
					 want[i]);
		}
		compiled_free(c);
		n++;
	}
	closedir(d);
	ASSERT_GE(n, 1, "corpus size");
	XT_END();
}
END_TEST

/*
 * The field reference: every field has its description in libxfsm (what
 * xfsmctl fields prints), and docs/language.md has a row for every field
 * and metadata operand with the width the compiler uses.
 */
START_TEST(test_field_reference)
{
	unsigned int nf, nm;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&nf);
	const struct xfsm_lang_meta *m = xfsm_lang_metas(&nm);
	char path[700], *doc = NULL, row[96];
	size_t len = 0;
	FILE *fp;

	fp = fopen(src_path("docs/language.md", path, sizeof(path)), "r");
	ck_assert_msg(fp, "cannot open %s", path);
	ck_assert_int_eq(getdelim(&doc, &len, 0, fp) > 0, 1);
	fclose(fp);
	for (unsigned int i = 0; i < nf; i++) {
		const struct xfsm_lang_field_doc *d = xfsm_lang_field_doc((int)i);

		xt_set_context("%s", f[i].name);
		if (ASSERT_TRUE(d, "described"))
			ASSERT_TRUE(d->packets && d->packets[0] && d->desc && d->desc[0], "text");
		snprintf(row, sizeof(row), "\n| `%s` | %u | ", f[i].name, f[i].bits);
		ASSERT_TRUE(strstr(doc, row), "docs/language.md has its row");
	}
	ASSERT_EQ(nm, 3, "meta.time, meta.ifindex, meta.random");
	for (unsigned int i = 0; i < nm; i++) {
		xt_set_context("%s", m[i].name);
		ASSERT_EQ(xfsm_lang_field_find(m[i].name, strlen(m[i].name)), -1, "no field");
		snprintf(row, sizeof(row), "\n| `%s` | %u | ", m[i].name, m[i].bits);
		ASSERT_TRUE(strstr(doc, row), "docs/language.md has its row");
	}
	free(doc);
	XT_END();
}
END_TEST

START_TEST(test_field_values)
{
	unsigned int nf;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&nf);
	int ip = xfsm_lang_field_find("ip.src", 6);
	int mac = xfsm_lang_field_find("eth.dst", 7);
	int port = xfsm_lang_field_find("tcp.dport", 9);
	__u32 w[4] = { 0 };
	char buf[64];

	ASSERT_GE(nf, 30, "field table");
	ASSERT_TRUE(ip >= 0 && !strcmp(f[ip].name, "ip.src"), "find ip.src");
	ASSERT_EQ(xfsm_lang_field_find("ip.srcx", 7), -1, "unknown");
	ASSERT_OK(xfsm_lang_parse_field(ip, "198.18.0.1", w), "parse ip");
	ASSERT_EQ(w[0], 0xc6120001, "ip value");
	xfsm_lang_format_field(ip, w, buf, sizeof(buf));
	ASSERT_TRUE(!strcmp(buf, "198.18.0.1"), "format ip");
	ASSERT_OK(xfsm_lang_parse_field(mac, "02:00:00:00:00:0a", w), "parse mac");
	ASSERT_EQ(w[0], 0x0200, "mac hi");
	ASSERT_EQ(w[1], 0x0a, "mac lo");
	xfsm_lang_format_field(mac, w, buf, sizeof(buf));
	ASSERT_TRUE(!strcmp(buf, "02:00:00:00:00:0a"), "format mac");
	ASSERT_ERR(xfsm_lang_parse_field(port, "70000", w), "too wide");
	ASSERT_ERR(xfsm_lang_parse_field(port, "22 23", w), "two values");
	/* one literal, nothing else: no second statement, no unit, no space */
	ASSERT_ERR(xfsm_lang_parse_field(port, "22;junk", w), "junk after ';'");
	ASSERT_ERR(xfsm_lang_parse_field(port, "22;", w), "';'");
	ASSERT_ERR(xfsm_lang_parse_field(port, "1KiB", w), "a unit");
	ASSERT_ERR(xfsm_lang_parse_field(port, "22 # c", w), "a comment");
	ASSERT_ERR(xfsm_lang_parse_field(port, "1+1", w), "an expression");
	ASSERT_ERR(xfsm_lang_parse_field(ip, "198.300.0.2", w), "octet over 255");
	ASSERT_OK(xfsm_lang_parse_field(port, "022", w), "leading zero");
	ASSERT_EQ(w[0], 22, "decimal, not octal");
	ASSERT_OK(xfsm_lang_parse_field(port, "0x16", w), "hex");
	ASSERT_EQ(w[0], 22, "hex value");
	XT_END();
}
END_TEST

/* The text of each kind of field, its returned length, and text cut as
 * snprintf cuts it where buf is too short (an IPv6 address: "?"). */
static void check_format(int fid, const __u32 *w, size_t len, const char *want, const char *what)
{
	char buf[64];
	size_t n;

	memset(buf, 'x', sizeof(buf));
	n = xfsm_lang_format_field(fid, w, buf, len);
	ASSERT_TRUE(!strcmp(buf, want), what);
	ASSERT_EQ(n, strlen(want), what);
	ASSERT_TRUE(buf[strlen(want) + 1] == 'x', what);	/* nothing past its end */
	if (strcmp(buf, want))
		fprintf(stderr, "%s: '%s', want '%s'\n", what, buf, want);
}

START_TEST(test_field_format)
{
	int ip = xfsm_lang_field_find("ip.src", 6), tpa = xfsm_lang_field_find("arp.tpa", 7);
	int mac = xfsm_lang_field_find("eth.src", 7), ip6 = xfsm_lang_field_find("ip6.dst", 7);
	int port = xfsm_lang_field_find("l4.sport", 8), seq = xfsm_lang_field_find("tcp.seq", 7);
	const __u32 zero[4] = { 0 }, ones[4] = { ~0U, ~0U, ~0U, ~0U }, pmax[1] = { 65535 };
	const __u32 ip4[1] = { 0xc6130a07 }, v6[4] = { 0x20010002, 0, 0x10000, 1 };
	const __u32 v6z[4] = { 0x20010002, 0, 0, 0 }, m[2] = { 0x0200, 0x00ab0c01 };
	char buf[8] = "xx";

	check_format(ip, ip4, 64, "198.19.10.7", "ip");
	check_format(ip, zero, 64, "0.0.0.0", "ip 0");
	check_format(tpa, ones, 64, "255.255.255.255", "arp.tpa all ones");
	check_format(ip, ones, 16, "255.255.255.255", "ip, exact room");
	check_format(ip, ip4, 7, "198.19", "ip cut");
	check_format(port, zero, 64, "0", "port 0");
	check_format(port, pmax, 64, "65535", "port max");
	check_format(seq, ones, 64, "4294967295", "u32 max");
	check_format(seq, ones, 11, "4294967295", "u32 max, exact room");
	check_format(seq, ones, 5, "4294", "u32 cut");
	check_format(mac, m, 64, "02:00:00:ab:0c:01", "mac");
	check_format(mac, m, 6, "02:00", "mac cut");
	check_format(ip6, v6, 64, "2001:2::1:0:0:1", "ip6: the first run of zeros compressed");
	check_format(ip6, v6z, 64, "2001:2::", "ip6: zeros at the end");
	check_format(ip6, zero, 64, "::", "ip6 ::");
	check_format(ip6, ones, 64, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ip6 all ones");
	check_format(ip6, v6, 16, "2001:2::1:0:0:1", "ip6, exact room");
	check_format(ip6, v6, 15, "?", "ip6 that does not fit");
	check_format(-1, zero, 64, "?", "no such field");
	ASSERT_EQ(xfsm_lang_format_field(ip, ip4, buf, 0), 0, "no room: nothing");
	ASSERT_TRUE(buf[0] == 'x', "no room: buf untouched");
	XT_END();
}
END_TEST

/* The string entry point takes a length: no NUL needed, nothing read past it. */
/* The datapath reads meta.port, meta.random and meta.time only when the
 * application asks for them: the compiler must ask exactly when used. */
START_TEST(test_meta_flags)
{
	static const struct {
		const char *text;
		__u32 flags;
	} cases[] = {
		{ "stage s {\n key ip.src\n rule r => drop\n}\n", 0 },
		{ "stage s {\n key ip.src\n rule r => reg0 = meta.random, drop\n}\n",
		  XFSM_AF_NEEDS_RANDOM },
		{ "stage s {\n key ip.src\n condition late = meta.time > 5s\n rule r when late => drop\n}\n",
		  XFSM_AF_NEEDS_TIME },
		{ "stage s {\n key meta.port, eth.src\n rule r => drop\n}\n", XFSM_AF_NEEDS_PORT },
		{ "stage s {\n key ip.src\n rule r => reg1 = meta.port + meta.time, drop\n}\n",
		  XFSM_AF_NEEDS_PORT | XFSM_AF_NEEDS_TIME },
	};
	const __u32 meta = XFSM_AF_NEEDS_PORT | XFSM_AF_NEEDS_RANDOM | XFSM_AF_NEEDS_TIME;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compiled *c = compile_str(cases[i].text);

		if (ASSERT_OK(c->ret, c->err))
			ASSERT_EQ(c->img.app.flags & meta, cases[i].flags, cases[i].text);
		ASSERT_EQ(xfsm_image_meta_flags(&c->img), cases[i].flags, "library derivation");
		compiled_free(c);
	}
	XT_END();
}
END_TEST

/*
 * A packet match outside an application (xfsm_lang_parse_match(), what
 * xfsmctl simulate reads): the rule syntax, one value, prefix, range or
 * mask per field as words; a set or '!=' is refused at its field.
 */
START_TEST(test_packet_match)
{
	struct xfsm_lang_match_term t[XFSM_LANG_MATCH_MAX];
	char err[256];
	unsigned int n;
	int ret;

	ret = xfsm_lang_parse_match("m", "ip.src == 198.18.0.0/15, tcp.dport == 1000-2000 and "
				    "tcp.flags & syn|ack == syn, ip6.dst == 2001:2::/48",
				    NULL, 0, t, XFSM_LANG_MATCH_MAX, &n, err, sizeof(err));
	if (ASSERT_OK(ret, err) && ASSERT_EQ(n, 4, "four terms")) {
		ASSERT_TRUE(!t[0].range && t[0].val[0] == 0xc6120000 && t[0].mask[0] == 0xfffe0000,
			    "a prefix is a value under a mask");
		ASSERT_TRUE(t[1].range && t[1].lo[0] == 1000 && t[1].hi[0] == 2000,
			    "a range that is no prefix stays a range");
		ASSERT_TRUE(!t[2].range && t[2].val[0] == 0x02 && t[2].mask[0] == 0x12,
			    "a masked value");
		ASSERT_TRUE(!t[3].range && t[3].val[0] == 0x20010002 && t[3].val[1] == 0 &&
			    t[3].mask[0] == 0xffffffff && t[3].mask[1] == 0xffff0000 && !t[3].mask[2],
			    "a 128-bit prefix, most significant word first");
	}
	ret = xfsm_lang_parse_match("m", "tcp.dport == 22-23", NULL, 0, t,
				    XFSM_LANG_MATCH_MAX, &n, err, sizeof(err));
	ASSERT_TRUE(!ret && n == 1 && !t[0].range && t[0].val[0] == 22 && t[0].mask[0] == 0xfffe,
		    "an aligned range is a prefix");
	ret = xfsm_lang_parse_match("m", "any", NULL, 0, t, XFSM_LANG_MATCH_MAX, &n, err,
				    sizeof(err));
	ASSERT_TRUE(!ret && n == 0, "any: no term");
	ret = xfsm_lang_parse_match("packet", "ip.src=198.18.0.1 tcp.flags=syn|ack", NULL,
				    XFSM_LANG_MATCH_ASSIGN, t, XFSM_LANG_MATCH_MAX, &n, err,
				    sizeof(err));
	ASSERT_TRUE(!ret && n == 2 && t[0].val[0] == 0xc6120001 && t[0].mask[0] == 0xffffffff &&
		    t[1].val[0] == 0x12, "assignments: exact values");
	ret = xfsm_lang_parse_match("m", "ip.src == 198.18.0.1, tcp.dport in {22, 80}", NULL, 0, t,
				    XFSM_LANG_MATCH_MAX, &n, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "a set");
	ASSERT_TRUE(!strncmp(err, "m:1:23: error: a packet match takes one value", 45), err);
	ret = xfsm_lang_parse_match("m", "tcp.dport != 22", NULL, 0, t, XFSM_LANG_MATCH_MAX, &n,
				    err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "'!='");
	ASSERT_TRUE(!strncmp(err, "m:1:1: error: a packet match takes one value", 44), err);
	ret = xfsm_lang_parse_match("packet", "tcp.dprot=22", NULL, XFSM_LANG_MATCH_ASSIGN, t,
				    XFSM_LANG_MATCH_MAX, &n, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "unknown field");
	ASSERT_TRUE(strstr(err, "unknown field 'tcp.dprot'") != NULL, err);
	XT_END();
}
END_TEST

START_TEST(test_string_api)
{
	static const char text[] = "stage s { rule r => drop }\nstage t { rule q => pass";
	size_t len = strlen("stage s { rule r => drop }");
	struct xfsm_image img;
	char *buf = malloc(len), err[256];
	int ret;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, text, len);		/* no terminating NUL */
	ret = xfsm_compile_string(NULL, buf, len, &img, NULL, err, sizeof(err));
	ASSERT_OK(ret, "compile unterminated buffer");
	ASSERT_EQ(img.n_rules, 1, "one rule");
	ASSERT_EQ(img.source_len, len, "source length");
	ASSERT_TRUE(img.source && !strcmp(img.source, "stage s { rule r => drop }"), "source copied");
	xfsm_image_free(&img);
	free(buf);

	ret = xfsm_compile_string("x.xfsm", text, strlen(text), &img, NULL, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "unclosed stage");
	ASSERT_TRUE(!strcmp(err, "x.xfsm:2:25: error: found end of file, expected '}' to close stage 't'"),
		    "error names the file, line and column");
	xfsm_image_free(&img);

	ret = xfsm_compile_file("/nonexistent/app.xfsm", &img, NULL, err, sizeof(err));
	ASSERT_EQ(ret, -ENOENT, "missing file");
	ASSERT_TRUE(strstr(err, "/nonexistent/app.xfsm") != NULL, "error names the file");
	xfsm_image_free(&img);
	XT_END();
}
END_TEST

/* ---- in the datapath ---------------------------------------------------------- */

static __u32 run_spec(struct xt *t, __u8 l4, __u16 src, __u16 dport, __u8 flags)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = l4, .src = src, .dst = 1,
			      .sport = 40000, .dport = dport, .flags = flags };
	struct xt_result r;
	struct pkt p;

	pkt_from_spec(&p, &s);
	if (xt_run_pkt(t, &p, 0, &r) || r.err)
		return 0xffffffff;
	return r.verdict;
}

START_TEST(test_dp_portknock)
{
	struct compiled *c = compile_file("examples/portknock.xfsm");
	struct xt t;
	int err;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	err = xt_open(&t, &(struct xt_opts){ .profile = XT_NATIVE });
	if (err) {
		compiled_free(c);
		ck_abort_msg("cannot load the datapath: %s (run as root after make)",
			     strerror(-err));
	}
	if (!ASSERT_OK(xt_apply(&t, &c->img), "apply"))
		goto out;
	xt_set_context("portknock: closed");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 22, 0x02), XDP_DROP, "ssh refused");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 80, 0x02), XDP_PASS, "other tcp passes");
	ASSERT_EQ(run_spec(&t, PS_UDP, 9, 53, 0), XDP_PASS, "udp that is no knock passes");
	xt_set_context("portknock: knocking");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 1111, 0), XDP_DROP, "knock 1");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 2222, 0), XDP_DROP, "knock 2");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 3333, 0), XDP_DROP, "knock 3");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 22, 0x02), XDP_DROP, "not yet open");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 4444, 0), XDP_DROP, "knock 4");
	xt_set_context("portknock: open");
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 22, 0x02), XDP_PASS, "ssh accepted");
	ASSERT_EQ(run_spec(&t, PS_TCP, 6, 22, 0x02), XDP_DROP, "other source refused");
	xt_set_context("portknock: wrong knock");
	ASSERT_EQ(run_spec(&t, PS_UDP, 7, 1111, 0), XDP_DROP, "knock 1");
	ASSERT_EQ(run_spec(&t, PS_UDP, 7, 5555, 0), XDP_DROP, "wrong knock");
	ASSERT_EQ(run_spec(&t, PS_UDP, 7, 2222, 0), XDP_PASS, "sequence restarted");
	ASSERT_EQ(run_spec(&t, PS_UDP, 7, 3333, 0), XDP_PASS, "still closed");
	ASSERT_EQ(run_spec(&t, PS_UDP, 7, 4444, 0), XDP_PASS, "still closed");
	ASSERT_EQ(run_spec(&t, PS_TCP, 7, 22, 0x02), XDP_DROP, "ssh refused");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

static __u32 run_len(struct xt *t, __u8 l4, __u16 src, __u16 dport, __u8 flags,
		     __u16 payload)
{
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = l4, .src = src, .dst = 1,
			      .sport = 40000, .dport = dport, .flags = flags,
			      .payload = payload };
	struct xt_result r;
	struct pkt p;

	pkt_from_spec(&p, &s);
	if (xt_run_pkt(t, &p, 0, &r) || r.err)
		return 0xffffffff;
	return r.verdict;
}

static bool open_dp(struct xt *t, struct compiled *c)
{
	int err;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	err = xt_open(t, &(struct xt_opts){ .profile = XT_NATIVE });
	if (err) {
		compiled_free(c);
		ck_abort_msg("cannot load the datapath: %s (run as root after make)",
			     strerror(-err));
	}
	return ASSERT_OK(xt_apply(t, &c->img), "apply");
}

/* 1 Mbit/s and a 16 KiB bucket: back-to-back 1000-byte datagrams (each
 * run takes microseconds, the rate earns 125 bytes per ms) pass while the
 * burst lasts, about 16 of them, then are dropped and counted. */
START_TEST(test_dp_ratelimit)
{
	struct compiled *c = compile_file("examples/ratelimit.xfsm");
	unsigned int pass = 0, drop = 0;
	struct xfsm_counter cnt;
	struct xt t;

	if (!open_dp(&t, c))
		goto out;
	for (int i = 0; i < 40; i++) {
		__u32 v = run_len(&t, PS_UDP, 5, 9, 0, 1000 - 42);

		pass += v == XDP_PASS;
		drop += v == XDP_DROP;
	}
	ASSERT_GE(pass, 14, "burst passes");
	ASSERT_LE(pass, 20, "then the rate limits");
	ASSERT_EQ(pass + drop, 40, "every packet pass or drop");
	if (ASSERT_OK(xfsm_read_counter(t.inst, 0, &cnt), "counter"))
		ASSERT_EQ(cnt.packets, drop, "limited counts the drops");
	ASSERT_EQ(run_len(&t, PS_UDP, 6, 9, 0, 1000 - 42), XDP_PASS, "other source: own bucket");
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 80, 0x10, 1000 - 54), XDP_PASS, "TCP not metered");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/* More than 100 SYNs to one destination in a second: the destination is
 * under attack and new SYNs are dropped; a connection that completed its
 * handshake before keeps going. */
/*
 * NAT from the language: a destination NAT with a port from a flow
 * register, then the reply's source NAT, rewrite the frame with valid
 * checksums (the actions themselves: harness/scen_actions.c, NAT).
 */
START_TEST(test_dp_nat)
{
	struct compiled *c = compile_str(
		"stage nat {\n"
		"  key ip.src\n"
		"  register 0 backend_port\n"
		"  rule dnat when ip.dst == 198.18.0.1, udp.dport == 53 =>\n"
		"    backend_port = 5353,\n"
		"    set ip.dst = 198.18.0.7, set l4.dport = 5353, tx\n"
		"  rule snat when ip.src == 198.18.0.7, udp.sport == 5353 =>\n"
		"    set ip.src = 198.18.0.1, set l4.sport = 53, tx\n"
		"}\n");
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 1,
			      .sport = 40000, .dport = 53, .payload = 20 };
	struct xt_result r;
	struct xt t;
	struct pkt p;

	if (!open_dp(&t, c))
		goto out;
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run") && ASSERT_EQ(r.verdict, XDP_TX, "tx")) {
		/* 14 Ethernet + 20 IPv4: daddr at 30, UDP dport at 36 */
		ASSERT_EQ(pkt_get32(r.data + 30), 0xc6120007, "ip.dst rewritten");
		ASSERT_EQ(r.data[36] << 8 | r.data[37], 5353, "l4.dport rewritten");
		ASSERT_TRUE(ip4_csum_ok(r.data, r.len, 14), "IPv4 checksum");
		ASSERT_TRUE(l4_csum_ok(r.data, r.len, 14, 34, 17, false), "UDP checksum");
	}
	s.src = 7, s.dst = 5, s.sport = 5353, s.dport = 40000;
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run") && ASSERT_EQ(r.verdict, XDP_TX, "tx")) {
		ASSERT_EQ(pkt_get32(r.data + 26), 0xc6120001, "ip.src rewritten");
		ASSERT_EQ(r.data[34] << 8 | r.data[35], 53, "l4.sport rewritten");
		ASSERT_TRUE(ip4_csum_ok(r.data, r.len, 14), "IPv4 checksum");
		ASSERT_TRUE(l4_csum_ok(r.data, r.len, 14, 34, 17, false), "UDP checksum");
	}
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/*
 * IPv6 NAT from the language: `set ip6.dst` (two actions, the upper and
 * the lower 64 bits) and `set l4.dport`, then the reply's `set ip6.src`,
 * rewrite the frame with a valid UDP checksum.
 */
START_TEST(test_dp_nat6)
{
	struct compiled *c = compile_str(
		"define vip = 2001:2::1\n"
		"stage nat {\n"
		"  rule dnat when ip6.dst == vip, udp.dport == 53 =>\n"
		"    set l4.dport = 5353, set ip6.dst = 2001:2:0:7::7, tx\n"
		"  rule snat when udp.sport == 5353 =>\n"
		"    set ip6.src = vip, set l4.sport = 53, tx\n"
		"}\n");
	struct pkt_spec s = { .l3 = PS_IP6, .l4 = PS_UDP, .src = 5, .dst = 1,
			      .sport = 40000, .dport = 53, .payload = 20 };
	static const __u8 backend[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 7 };
	__u8 vip[16];
	struct xt_result r;
	struct xt t;
	struct pkt p;

	test_ip6(vip, 1);
	if (!ASSERT_OK(c->ret, c->err))
		goto out;
	ASSERT_EQ(c->img.rules[0].rule.act[1].type, XFSM_ACT_SET_IP6_DST, "upper half");
	ASSERT_EQ(c->img.rules[0].rule.act[1].opnd.value, 0x2001000200000007ULL, "upper bits");
	ASSERT_EQ(c->img.rules[0].rule.act[2].arg, 1, "lower half");
	ASSERT_EQ(c->img.rules[0].rule.act[2].opnd.value, 7, "lower bits");
	if (!open_dp(&t, c))
		goto out;
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run") && ASSERT_EQ(r.verdict, XDP_TX, "tx")) {
		/* 14 Ethernet + 40 IPv6: daddr at 38, UDP at 54 */
		ASSERT_TRUE(!memcmp(r.data + 38, backend, 16), "ip6.dst rewritten");
		ASSERT_EQ(r.data[56] << 8 | r.data[57], 5353, "l4.dport rewritten");
		ASSERT_TRUE(l4_csum_ok(r.data, r.len, 14, 54, 17, true), "UDP checksum");
	}
	/* the reply: from the backend (built, then its source set) */
	s.src = 7, s.dst = 5, s.sport = 5353, s.dport = 40000;
	pkt_from_spec(&p, &s);
	memcpy(p.data + 22, backend, 16);
	pkt_finish(&p);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run") && ASSERT_EQ(r.verdict, XDP_TX, "tx")) {
		ASSERT_TRUE(!memcmp(r.data + 22, vip, 16), "ip6.src rewritten");
		ASSERT_EQ(r.data[54] << 8 | r.data[55], 53, "l4.sport rewritten");
		ASSERT_TRUE(l4_csum_ok(r.data, r.len, 14, 54, 17, true), "UDP checksum");
	}
	xt_close(&t);
out:
	compiled_free(c);
	XT_END();
}
END_TEST

/*
 * The fields tcp.seq, tcp.ack, tcp.win, ip.id, ip.len and ip6.nexthdr in
 * rule matches and a condition, on packets that have them and lack them
 * (the values themselves: the parser's tables).
 */
START_TEST(test_dp_new_fields)
{
	struct compiled *c = compile_str(
		"stage s {\n"
		"  miss pass\n"
		"  condition full_window = tcp.win >= 65535\n"
		"  rule acked when tcp.ack == 0x0a0b0c0d, tcp.seq == 0x01020304, ip.id == 1,\n"
		"                  full_window => tx\n"
		"  rule v6 when ip6.nexthdr == tcp, ip.len == 80 => drop\n"
		"}\n");
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_TCP, .src = 5, .dst = 1,
			      .sport = 40000, .dport = 80, .payload = 20 };
	struct xt_result r;
	struct xt t;
	struct pkt p;

	if (!ASSERT_OK(c->ret, c->err) || !open_dp(&t, c))
		goto out;
	s.flags = TCPF_SYN | TCPF_ACK;		/* acknowledgment 0x0a0b0c0d */
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_TX, "ipv4 syn-ack: tcp.ack, tcp.seq, ip.id, tcp.win");
	s.flags = TCPF_SYN;			/* acknowledgment 0 */
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "ipv4 syn: tcp.ack 0");
	s.l3 = PS_IP6;				/* 40 + 20 + 20 bytes */
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_DROP, "ipv6 tcp: ip6.nexthdr, ip.len 80");
	s.payload = 21;
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "ipv6 tcp: ip.len 81");
	s.l4 = PS_UDP, s.payload = 32;		/* 40 + 8 + 32, but no TCP */
	pkt_from_spec(&p, &s);
	if (ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run"))
		ASSERT_EQ(r.verdict, XDP_PASS, "ipv6 udp: ip6.nexthdr udp");
	xt_close(&t);
out:
	compiled_free(c);
	XT_END();
}
END_TEST

/* VLAN push and pop from the language: a later stage sees the tags as
 * they are after the action (the frames themselves: scen_actions.c). */
START_TEST(test_dp_vlan)
{
	struct compiled *c = compile_str(
		"stage edit {\n"
		"  rule push when udp.dport == 1 => push vlan 100\n"
		"  rule pop when udp.dport == 2 => pop vlan\n"
		"}\n"
		"stage look {\n"
		"  rule qinq when vlan.id == 100, vlan.inner == 8, meta.flags & has_qinq => count qinq_seen, drop\n"
		"  rule one when vlan.id == 100, vlan.inner == 0, meta.flags & has_vlan|has_qinq == has_vlan => tx\n"
		"  rule none when vlan.id == 0, meta.flags & has_vlan|has_qinq == 0 => pass\n"
		"  rule inner when vlan.id == 8, meta.flags & has_vlan|has_qinq == has_vlan => tx\n"
		"}\n"
		"default drop\n");
	struct pkt_spec s = { .l3 = PS_IP4, .l4 = PS_UDP, .src = 5, .dst = 1, .sport = 40000 };
	struct xfsm_counter cnt;
	struct xt_result r;
	struct xt t;
	struct pkt p;

	if (!open_dp(&t, c))
		goto out;
	s.dport = 1;
	pkt_from_spec(&p, &s);
	ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run");
	ASSERT_EQ(r.verdict, XDP_TX, "untagged + push: one tag, 100");
	ASSERT_EQ(r.len, p.len + 4, "4 bytes longer");
	s.vlan = 8;
	pkt_from_spec(&p, &s);
	ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run");
	ASSERT_EQ(r.verdict, XDP_DROP, "tagged 8 + push: QinQ 100 over 8");
	if (ASSERT_OK(xfsm_read_counter(t.inst, 0, &cnt), "counter"))
		ASSERT_EQ(cnt.packets, 1, "seen as QinQ by the next stage");
	s.dport = 2;
	pkt_from_spec(&p, &s);
	ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run");
	ASSERT_EQ(r.verdict, XDP_PASS, "tagged + pop: untagged");
	ASSERT_EQ(r.len, p.len - 4, "4 bytes shorter");
	s.vlan = 0;
	pkt_from_spec(&p, &s);
	ASSERT_OK(xt_run_pkt(&t, &p, 0, &r), "run");
	ASSERT_EQ(r.verdict, XDP_PASS, "untagged + pop: unchanged");
	ASSERT_EQ(r.len, p.len, "same length");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/* An ARP frame: op 1 or 2, sender (MAC, IPv4) and target IPv4 by host number. */
static __u32 run_arp(struct xt *t, __u16 op, __u16 s, __u16 tgt, struct xt_result *r)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, op == 1 ? 0xffffffffffffULL : TEST_MAC(tgt), TEST_MAC(s), 0);
	pkt_arp(&p, op, TEST_MAC(s), TEST_IP4(s), op == 1 ? 0 : TEST_MAC(tgt), TEST_IP4(tgt));
	pkt_finish(&p);
	if (xt_run_pkt(t, &p, 0, r) || r->err)
		return 0xffffffff;
	return r->verdict;
}

/*
 * examples/arpresponder.xfsm does what its comments say: it learns every
 * sender, answers a request for a known address itself with that
 * address's MAC, and passes the rest (unknown, gratuitous, replies, IP).
 */
START_TEST(test_dp_arpresponder)
{
	struct compiled *c = compile_file("examples/arpresponder.xfsm");
	struct xt_result r;
	struct pkt want;
	struct xt t;

	if (!open_dp(&t, c))
		goto out;
	ASSERT_EQ(run_arp(&t, 1, 1, 9, &r), XDP_PASS, "9 unknown: to the stack (1 learned)");
	ASSERT_EQ(run_arp(&t, 1, 9, 1, &r), XDP_TX, "9 asks for 1: answered");
	pkt_init(&want);
	pkt_eth(&want, TEST_MAC(9), TEST_MAC(1), 0);
	pkt_arp(&want, 2, TEST_MAC(1), TEST_IP4(1), TEST_MAC(9), TEST_IP4(9));
	pkt_finish(&want);
	ASSERT_TRUE(r.len == want.len && !memcmp(r.data, want.data, want.len),
		    "the reply 1 would send");
	ASSERT_EQ(run_arp(&t, 1, 5, 9, &r), XDP_TX, "9 was learned from its request");
	ASSERT_EQ(r.data[6 + 5], 9, "answered with 9's MAC");
	ASSERT_EQ(run_arp(&t, 1, 1, 1, &r), XDP_PASS, "gratuitous: to the stack");
	ASSERT_EQ(run_arp(&t, 2, 1, 9, &r), XDP_PASS, "a reply: to the stack");
	ASSERT_EQ(run_arp(&t, 1, 5, 77, &r), XDP_PASS, "77 unknown: to the stack");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 53, 0), XDP_PASS, "not ARP: to the stack");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/* examples/loadbalancer.xfsm: what is not for the virtual IP passes. */
START_TEST(test_dp_loadbalancer)
{
	struct compiled *c = compile_file("examples/loadbalancer.xfsm");
	struct xt t;

	if (!open_dp(&t, c))
		goto out;
	ASSERT_EQ(run_spec(&t, PS_TCP, 5, 80, 0x02), XDP_PASS, "tcp to another address");
	ASSERT_EQ(run_spec(&t, PS_UDP, 5, 53, 0), XDP_PASS, "udp to another address");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

START_TEST(test_dp_synflood)
{
	struct compiled *c = compile_file("examples/synflood.xfsm");
	struct xt t;
	int i;

	if (!open_dp(&t, c))
		goto out;
	/* source 5 completes a handshake to port 22 */
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 22, 0x02, 0), XDP_PASS, "syn");
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 22, 0x10, 0), XDP_PASS, "ack: established");
	/* source 8's handshake to port 25 is past its SYN when the attack starts */
	ASSERT_EQ(run_len(&t, PS_TCP, 8, 25, 0x02, 0), XDP_PASS, "syn of a handshake");
	for (i = 0; i < 98; i++)
		if (!ASSERT_EQ(run_len(&t, PS_TCP, 6, (__u16)(1000 + i), 0x02, 0), XDP_PASS,
			       "syns below the threshold pass"))
			break;
	/* 100 SYNs so far; the 101st makes syns > 100 true for the next one */
	ASSERT_EQ(run_len(&t, PS_TCP, 6, 2000, 0x02, 0), XDP_PASS, "101st");
	ASSERT_EQ(run_len(&t, PS_TCP, 6, 2001, 0x02, 0), XDP_DROP, "attack: syn dropped");
	ASSERT_EQ(run_len(&t, PS_TCP, 7, 2002, 0x02, 0), XDP_DROP, "any new syn dropped");
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 22, 0x18, 0), XDP_PASS, "established flow passes");
	ASSERT_EQ(run_len(&t, PS_TCP, 8, 25, 0x10, 0), XDP_PASS, "handshake past its SYN goes on");
	ASSERT_EQ(run_len(&t, PS_TCP, 8, 25, 0x18, 0), XDP_PASS, "and is established");
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 23, 0x02, 0), XDP_DROP,
		  "a new connection of a source that completed one is dropped");
	ASSERT_EQ(run_len(&t, PS_UDP, 7, 53, 0, 0), XDP_PASS, "non-TCP passes");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

/* output fib, fetch_add and a group member's MAC compile into their
 * action, update and group declaration. */
START_TEST(test_fib_fetch_add_compile)
{
	struct compiled *c = compile_str(
		"global 3 cursor = 0\n"
		"group pool = 4 rr 2 mac 02:00:00:00:01:02, 3\n"
		"stage s {\n"
		"  key ip.src\n"
		"  register 2 ticket\n"
		"  rule route when ip.proto == 1 => output fib\n"
		"  rule take when ip.proto == 17 => ticket = fetch_add(cursor, 5), output group pool\n"
		"  rule bump when ip.proto == 6 => cursor = cursor + 1, pass\n"
		"}\n");
	const struct xfsm_rule_entry *e;

	ck_assert_msg(c->ret == 0, "%s", c->err);
	e = entry_of(c, 0, "route", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->rule.act[0].type, XFSM_ACT_OUTPUT_FIB);
	ck_assert_uint_eq(e->rule.act[1].type, XFSM_ACT_NONE);
	e = entry_of(c, 0, "take", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->rule.upd[0].op, XFSM_UPD_FETCH_ADD);
	ck_assert_uint_eq(e->rule.upd[0].dst_kind, XFSM_OPND_FLOW_REG);
	ck_assert_uint_eq(e->rule.upd[0].dst_index, 2);
	ck_assert_uint_eq(e->rule.upd[0].a.kind, XFSM_OPND_GLOBAL_REG);
	ck_assert_uint_eq(e->rule.upd[0].a.index, 3);
	ck_assert_uint_eq(e->rule.upd[0].b.kind, XFSM_OPND_CONST);
	ck_assert_uint_eq(e->rule.upd[0].b.value, 5);
	ck_assert_uint_eq(e->rule.flags & (XFSM_RF_WRITES_FLOW | XFSM_RF_WRITES_GLOBAL),
			  XFSM_RF_WRITES_FLOW);
	ck_assert_uint_eq(c->nm.groups[4].n_members, 2);
	ck_assert_uint_eq(c->nm.groups[4].macs[0], 0x020000000102ULL);
	ck_assert_uint_eq(c->nm.groups[4].macs[1], 0);
	compiled_free(c);
}
END_TEST

/* fetch_add in the datapath: each new flow takes the next ticket, a flow
 * seen again keeps its own, and the global counts the tickets given. */
START_TEST(test_dp_fetch_add)
{
	struct compiled *c = compile_str(
		"global 1 cursor = 10\n"
		"stage s {\n"
		"  key ip.src\n"
		"  states new, known\n"
		"  register 0 ticket\n"
		"  rule take when state new => ticket = fetch_add(cursor, 2), goto state known, pass\n"
		"  rule keep when state known => pass\n"
		"}\n");
	__u32 w[XFSM_KEY_WORDS] = { 0 };
	struct xfsm_flow f;
	struct xt t;
	__u64 g = 0;
	int i;

	if (!open_dp(&t, c))
		goto out;
	ASSERT_OK(xfsm_global_set(t.inst, 1, 10), "cursor = 10");
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(run_spec(&t, PS_UDP, i, 53, 0), XDP_PASS, "new flow");
	ASSERT_EQ(run_spec(&t, PS_UDP, 1, 53, 0), XDP_PASS, "flow 1 again");
	for (i = 1; i <= 3; i++) {
		w[0] = TEST_IP4(i);
		if (ASSERT_OK(xt_find_flow(&t, 0, w, NULL, &f), "flow"))
			ASSERT_EQ(f.regs[0], 10 + 2 * (i - 1), "its ticket: 10, 12, 14");
	}
	if (ASSERT_OK(xfsm_global_get(t.inst, 1, &g), "cursor"))
		ASSERT_EQ(g, 16, "three tickets of 2 given");
out:
	xt_close(&t);
	compiled_free(c);
	XT_END();
}
END_TEST

static Suite *lang_suite(void)
{
	Suite *s = suite_create("lang");
	TCase *tc;

	tc = tcase_create("compile");
	tcase_add_test(tc, test_examples_compile);
	tcase_add_test(tc, test_check_ports);
	tcase_add_test(tc, test_apply_checks_ports);
	tcase_add_test(tc, test_portknock_tables);
	tcase_add_test(tc, test_example_keys);
	tcase_add_test(tc, test_ranges_and_prefixes);
	tcase_add_test(tc, test_entry_conditions);
	tcase_add_test(tc, test_constants_and_operands);
	tcase_add_test(tc, test_bad_corpus);
	tcase_add_test(tc, test_warn_corpus);
	tcase_add_test(tc, test_sets_and_negation);
	tcase_add_test(tc, test_overlap_priority);
	tcase_add_test(tc, test_number_semantics);
	tcase_add_test(tc, test_nesting_bound);
	tcase_add_test(tc, test_high_states);
	tcase_add_test(tc, test_acl_block_text);
	tcase_add_test(tc, test_meta_flags);
	tcase_add_test(tc, test_field_values);
	tcase_add_test(tc, test_field_format);
	tcase_add_test(tc, test_field_reference);
	tcase_add_test(tc, test_string_api);
	tcase_add_test(tc, test_packet_match);
	tcase_add_test(tc, test_fib_fetch_add_compile);
	suite_add_tcase(s, tc);

	tc = tcase_create("datapath");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dp_portknock);
	tcase_add_test(tc, test_dp_ratelimit);
	tcase_add_test(tc, test_dp_synflood);
	tcase_add_test(tc, test_dp_loadbalancer);
	tcase_add_test(tc, test_dp_nat);
	tcase_add_test(tc, test_dp_nat6);
	tcase_add_test(tc, test_dp_new_fields);
	tcase_add_test(tc, test_dp_vlan);
	tcase_add_test(tc, test_dp_arpresponder);
	tcase_add_test(tc, test_dp_overlap_and_sets);
	tcase_add_test(tc, test_dp_table_full);
	tcase_add_test(tc, test_dp_fetch_add);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	find_srcdir();
	sr = srunner_create(lang_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
