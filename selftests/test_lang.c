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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

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
		"loadbalancer",
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
		"      goto state busy idle 1s -> quiet hard 2s -> 5, set eth.dst = acc, tx\n"
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
		ASSERT_EQ(e->rule.hard_rollback, 5, "numeric rollback");
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
	for (i = 0; i < 99; i++)
		if (!ASSERT_EQ(run_len(&t, PS_TCP, 6, (__u16)(1000 + i), 0x02, 0), XDP_PASS,
			       "syns below the threshold pass"))
			break;
	/* 100 SYNs so far; the 101st makes syns > 100 true for the next one */
	ASSERT_EQ(run_len(&t, PS_TCP, 6, 2000, 0x02, 0), XDP_PASS, "101st");
	ASSERT_EQ(run_len(&t, PS_TCP, 6, 2001, 0x02, 0), XDP_DROP, "attack: syn dropped");
	ASSERT_EQ(run_len(&t, PS_TCP, 7, 2002, 0x02, 0), XDP_DROP, "any new syn dropped");
	ASSERT_EQ(run_len(&t, PS_TCP, 5, 22, 0x18, 0), XDP_PASS, "established flow passes");
	ASSERT_EQ(run_len(&t, PS_UDP, 7, 53, 0, 0), XDP_PASS, "non-TCP passes");
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
	tcase_add_test(tc, test_portknock_tables);
	tcase_add_test(tc, test_example_keys);
	tcase_add_test(tc, test_ranges_and_prefixes);
	tcase_add_test(tc, test_constants_and_operands);
	tcase_add_test(tc, test_bad_corpus);
	tcase_add_test(tc, test_number_semantics);
	tcase_add_test(tc, test_nesting_bound);
	tcase_add_test(tc, test_high_states);
	tcase_add_test(tc, test_acl_block_text);
	tcase_add_test(tc, test_meta_flags);
	tcase_add_test(tc, test_field_values);
	tcase_add_test(tc, test_string_api);
	suite_add_tcase(s, tc);

	tc = tcase_create("datapath");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dp_portknock);
	tcase_add_test(tc, test_dp_ratelimit);
	tcase_add_test(tc, test_dp_synflood);
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
